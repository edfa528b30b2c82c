// Type-checked (tsc --noEmit), never run: what a TypeScript user writes against hookseal's
// published declarations. A wrong or missing type fails `make test`.
import {
  DEFAULT_LIMIT, HooksealError, Webhook, metaHandshake, middleware, requestUrl, statusFor, verifyRequest,
  type Delivery, type HooksealErrorCode, type HooksealEvent, type InboundMessage, type KnownEvent, type Verified,
} from 'hookseal';

const wh = new Webhook('mossmoon', ['old-secret', 'new-secret'], { tolerance: { past: 300, future: null } });
const generic = new Webhook({ generic: { signatureHeader: 'X-Sig', algorithm: 'sha512', encoding: 'base64url' } }, 's');
void generic;

const verified: Verified = wh.verify(new Uint8Array([1, 2]), { 'x-mossmoon-signature': 'ab' }, { now: 1 });
const index: number = verified.secretIndex;
const maybeId: string | undefined = verified.id;
void index; void maybeId;

const headers: Record<string, string> = wh.sign('{}', { timestamp: 1, id: 'msg_1' });
void headers;

const limit: number = DEFAULT_LIMIT;
const url: string = requestUrl({ headers: {}, on: () => undefined }, { publicUrl: 'https://hooks.example.com', trustProxy: false });
void limit; void url;

export function handle(delivery: Delivery): string[] {
  const out: string[] = [];
  for (const e of delivery.events) {
    // Known provider/type pairs narrow to their typed data through KnownEvent; any other type's
    // data is the raw JSON, typed `unknown`.
    const k = e as KnownEvent;
    if (k.provider === 'mossmoon' && k.type === 'line.ready') out.push(k.data.lineId);
    if (k.provider === 'moltflow' && k.type === 'lead.captured') out.push(k.data.phone);
    if (k.provider === 'meta' && k.type === 'message.failed') out.push(String(k.data.errors[0]?.code));
    const raw: unknown = e.data;
    void raw;
    const m: InboundMessage | null = e.message;
    if (m) out.push(`${m.sender}: ${m.text ?? ''} (${m.kind})`);
    const key: string = e.dedupKey;
    out.push(key);
  }
  return out;
}

export async function route(request: Request): Promise<Response> {
  try {
    const { events, body } = await verifyRequest(wh, request, { limit: 1 << 20 });
    const first: HooksealEvent | undefined = events[0];
    return Response.json({ n: events.length, bytes: body.byteLength, type: first?.type });
  } catch (err) {
    if (!(err instanceof HooksealError)) throw err;
    const code: HooksealErrorCode = err.code;
    switch (code) {
      case 'signature_mismatch':
      case 'timestamp_too_old':
        break;
      // @ts-expect-error: not one of hookseal's codes
      case 'no_such_code':
        break;
    }
    return new Response(code, { status: statusFor(err) });
  }
}

const challenge: string = metaHandshake(new URLSearchParams('hub.mode=subscribe'), 'token');
void challenge;
void middleware(wh, { limit: 10, trustProxy: true, onError: (e) => void e.code });

// @ts-expect-error: not a scheme name
new Webhook('not-a-scheme', 's');

// The framework helpers' subpaths.
import { hookseal as honoHookseal, type HooksealVariables } from 'hookseal/hono';
import { hookseal as fastifyHookseal } from 'hookseal/fastify';
const honoMiddleware = honoHookseal(wh, { limit: 1024, publicUrl: 'https://hooks.example.com' });
const variables: HooksealVariables['hookseal']['events'] = [];
void honoMiddleware; void variables;
void fastifyHookseal;

// Route filters: the Worker's engine, in the user's own code.
import { Filter, matches, type FilterSpec } from 'hookseal';
const urgent: FilterSpec = { type: 'message.received', message: { text: { $regex: '(?i)urgent' } } };
const f = new Filter(urgent);
const yes: boolean = f.matches({ type: 'message.received' }) && matches(urgent, new Uint8Array());
void yes;
// @ts-expect-error: a filter is JSON, not a function
new Filter(() => 1);
