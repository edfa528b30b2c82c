// A Next.js App Router route handler on the edge runtime.
import { Webhook, HooksealError, statusFor, verifyRequest } from 'hookseal';

export const runtime = 'edge';

const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);

export async function POST(request) {
  try {
    const { events } = await verifyRequest(moltflow, request);
    return Response.json({ runtime, events: events.map((e) => e.type) }, { status: 202 });
  } catch (err) {
    if (!(err instanceof HooksealError)) throw err;
    return Response.json({ runtime, error: err.code }, { status: statusFor(err) });
  }
}
