// Bun.serve with hookseal's Fetch helper, on a real port.
import { Webhook, HooksealError, statusFor, verifyRequest } from 'hookseal';

const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    try {
      const { events } = await verifyRequest(moltflow, request);
      return Response.json({ runtime: `bun ${Bun.version}`, events: events.map((e) => e.type) }, { status: 202 });
    } catch (err) {
      if (!(err instanceof HooksealError)) throw err;
      return Response.json({ runtime: `bun ${Bun.version}`, error: err.code }, { status: statusFor(err) });
    }
  },
});
console.log(JSON.stringify({ port: server.port }));
