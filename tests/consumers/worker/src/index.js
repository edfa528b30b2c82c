// A Cloudflare Worker that imports hookseal the way any Workers user does (wrangler bundles it).
import { Webhook, HooksealError, matches, statusFor, verifyRequest } from 'hookseal';
import fixture from '../fixture.json';
import { filterFailures } from '../filters.mjs';

let moltflow;

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/filters') {
      const { cases, errors } = fixture.filters;
      return Response.json({ cases: cases.length + errors.length, failed: filterFailures(matches, fixture.filters) });
    }
    moltflow ??= new Webhook('moltflow', env.MOLTFLOW_WEBHOOK_SECRET);
    try {
      const { events } = await verifyRequest(moltflow, request);
      return Response.json({ events: events.map((e) => e.type) }, { status: 202 });
    } catch (err) {
      if (!(err instanceof HooksealError)) throw err;
      return Response.json({ error: err.code }, { status: statusFor(err) });
    }
  },
};
