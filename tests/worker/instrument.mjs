// An instrumented entry for the built Worker under Miniflare, shared by the end-to-end tests
// (failure injection) and the cost benchmark (counting). It is a module placed in front of
// worker/build/index.js: it hands the Worker its real bindings wrapped, so that
//
// - every binding call is counted: KV reads, writes, deletes and lists (a bulk read counts one
//   read a key, as Cloudflare bills it), D1 statements with D1's own `rows_read` and
//   `rows_written` (from each result's `meta`), Queue messages written, read, acknowledged and
//   retried, R2 and Durable Object calls, outbound `fetch` (subrequests), invocations by
//   handler, and the most calls to external services (KV, Queues, R2, Durable Objects) any one
//   invocation made (`services.maxPerInvocation`: Cloudflare allows 1,000);
//   `GET /__instrument/counts` answers them, `POST /__instrument/reset` zeroes them;
// - chosen calls fail: `faults` such as 'kv.get:1' or 'queue.send:2,d1.update:1' make the n-th
//   call of that kind throw, and count it as `injected.<kind>` (calls counted from 1 per kind;
//   `queue.send` counts `send` and `sendBatch`; `d1.insert` is a statement that inserts events,
//   `d1.update` one that updates, `d1.other` any other; `fetch` an outbound request). `*` instead
//   of a number fails every call of that kind. `POST /__instrument/faults` with a JSON string
//   replaces the plan at run time (and restarts the call counts).
// - `POST /__instrument/die-after-answer` makes the next fetch invocation "die" as it hands work
//   over for after its answer (`ctx.waitUntil`): from then on every binding call and outbound
//   fetch throws, until the next invocation starts. What was left for after the answer is thus
//   lost, as when an isolate is evicted.
//
// The wrapper classes carry the constructor names workers-rs checks (`WorkerQueue`,
// `D1Database`, `R2Bucket`, …). The Durable Object class `Gate`, when the build has it, is
// re-exported wrapped: its bindings counted too, and its alarms.

/** The module source of the instrumented entry, importing the Worker from `./index.js`, with
 * the fault plan `faults` to start with. */
export function instrumentedEntry(faults = '') {
  return `import { WorkerEntrypoint } from 'cloudflare:workers';
import Worker, * as built from './index.js';
export * from './index.js';

const counts = {};
const bump = (k, n = 1) => { counts[k] = (counts[k] ?? 0) + n; };
let plan = new Map();
let calls = new Map();
let dead = false;
let dieNext = false;
function setPlan(text) {
  plan = new Map(String(text || '').split(',').filter(Boolean).map((f) => f.split(':')).map(([k, n]) => [k, n === '*' ? '*' : Number(n)]));
  calls = new Map();
}
function maybeFail(kind) {
  if (dead) throw new Error('injected: the isolate is gone (' + kind + ')');
  const n = (calls.get(kind) ?? 0) + 1;
  calls.set(kind, n);
  const p = plan.get(kind);
  if (p === '*' || p === n) {
    bump('injected.' + kind);
    throw new Error('injected failure of ' + kind + ' #' + n);
  }
}

const realFetch = globalThis.fetch;
globalThis.fetch = async function (input, init) {
  bump('subrequests');
  maybeFail('fetch');
  return realFetch(input, init);
};

const kindOf = (sql) => /^\\s*INSERT\\s+INTO\\s+events\\b/i.test(sql) ? 'd1.insert' : /^\\s*UPDATE\\b/i.test(sql) ? 'd1.update' : 'd1.other';
function meter(result) {
  bump('d1.statements');
  bump('d1.rowsRead', result?.meta?.rows_read ?? 0);
  bump('d1.rowsWritten', result?.meta?.rows_written ?? 0);
  return result;
}
class D1PreparedStatement {
  constructor(inner, sql) { this.inner = inner; this.sql = sql; }
  bind(...values) { return new D1PreparedStatement(this.inner.bind(...values), this.sql); }
  async first(column) {
    maybeFail(kindOf(this.sql));
    const r = meter(await this.inner.all());
    const row = r.results?.[0] ?? null;
    return column === undefined || row === null ? row : row[column] ?? null;
  }
  async run() { maybeFail(kindOf(this.sql)); return meter(await this.inner.run()); }
  async all() { maybeFail(kindOf(this.sql)); return meter(await this.inner.all()); }
  async raw(options) {
    maybeFail(kindOf(this.sql));
    const r = meter(await this.inner.all());
    const rows = (r.results ?? []).map((o) => Object.values(o));
    return options?.columnNames ? [Object.keys(r.results?.[0] ?? {}), ...rows] : rows;
  }
}
class D1Database {
  constructor(real) { this.real = real; }
  prepare(sql) { return new D1PreparedStatement(this.real.prepare(sql), sql); }
  async batch(statements) {
    const kinds = new Set(statements.map((s) => kindOf(s.sql)));
    for (const k of ['d1.insert', 'd1.update', 'd1.other']) if (kinds.has(k)) maybeFail(k);
    bump('d1.batches');
    return (await this.real.batch(statements.map((s) => s.inner))).map(meter);
  }
  exec(query) { return this.real.exec(query); }
  withSession(...a) { return this.real.withSession(...a); }
  dump() { return this.real.dump(); }
}
/**
 * One more call to an external service (KV, Queues, R2, a Durable Object) in the invocation
 * inv: Cloudflare allows 1,000 an invocation, a bulk KV read counting one. The most any
 * invocation made is counted as services.maxPerInvocation.
 */
function service(inv) {
  inv.services++;
  counts['services.maxPerInvocation'] = Math.max(counts['services.maxPerInvocation'] ?? 0, inv.services);
}
class WorkerQueue {
  constructor(real, name, inv) { this.real = real; this.name = name; this.inv = inv; }
  async send(body, options) { service(this.inv); maybeFail('queue.send'); bump('queue.written'); return this.real.send(body, options); }
  async sendBatch(batch, options) { service(this.inv); maybeFail('queue.send'); bump('queue.written', batch.length); return this.real.sendBatch(batch, options); }
}
class KvNamespace {
  constructor(real, inv) { this.real = real; this.inv = inv; }
  async get(key, options) { service(this.inv); maybeFail('kv.get'); bump('kv.reads', Array.isArray(key) ? key.length : 1); return this.real.get(key, options); }
  async getWithMetadata(key, options) { service(this.inv); maybeFail('kv.get'); bump('kv.reads', Array.isArray(key) ? key.length : 1); return this.real.getWithMetadata(key, options); }
  async put(...a) { service(this.inv); maybeFail('kv.put'); bump('kv.writes'); return this.real.put(...a); }
  async delete(key) { service(this.inv); maybeFail('kv.delete'); bump('kv.deletes'); return this.real.delete(key); }
  async list(options) { service(this.inv); maybeFail('kv.list'); bump('kv.lists'); return this.real.list(options); }
}
class R2Bucket {
  constructor(real, inv) { this.real = real; this.inv = inv; }
  async head(...a) { service(this.inv); maybeFail('r2.head'); bump('r2.classB'); return this.real.head(...a); }
  async get(...a) { service(this.inv); maybeFail('r2.get'); bump('r2.classB'); return this.real.get(...a); }
  async put(...a) { service(this.inv); maybeFail('r2.put'); bump('r2.classA'); return this.real.put(...a); }
  async delete(...a) { service(this.inv); maybeFail('r2.delete'); bump('r2.deletes'); return this.real.delete(...a); }
  async list(...a) { service(this.inv); maybeFail('r2.list'); bump('r2.classA'); return this.real.list(...a); }
  createMultipartUpload(...a) { service(this.inv); bump('r2.classA'); return this.real.createMultipartUpload(...a); }
  resumeMultipartUpload(...a) { return this.real.resumeMultipartUpload(...a); }
}
class DurableObjectStub {
  constructor(real, inv) { this.real = real; this.inv = inv; this.id = real.id; this.name = real.name; }
  async fetch(...a) { service(this.inv); maybeFail('do.fetch'); bump('do.requests'); return this.real.fetch(...a); }
}
class DurableObjectNamespace {
  constructor(real, inv) { this.real = real; this.inv = inv; }
  idFromName(n) { return this.real.idFromName(n); }
  idFromString(s) { return this.real.idFromString(s); }
  newUniqueId(o) { return this.real.newUniqueId(o); }
  get(id, o) { return new DurableObjectStub(this.real.get(id, o), this.inv); }
  getByName(n, o) { return new DurableObjectStub(this.real.getByName(n, o), this.inv); }
  jurisdiction(j) { return new DurableObjectNamespace(this.real.jurisdiction(j), this.inv); }
}

/** The bindings of one invocation, wrapped (their calls to external services counted together). */
function wrap(env) {
  const out = { ...env };
  const inv = { services: 0 };
  Object.defineProperty(out, '__invocation', { value: inv });
  for (const [name, b] of Object.entries(env)) {
    if (!b || typeof b !== 'object') continue;
    const c = b.constructor?.name ?? '';
    if (typeof b.prepare === 'function' && typeof b.batch === 'function') out[name] = new D1Database(b);
    else if (typeof b.sendBatch === 'function') out[name] = new WorkerQueue(b, name, inv);
    else if (typeof b.getWithMetadata === 'function') out[name] = new KvNamespace(b, inv);
    else if (typeof b.createMultipartUpload === 'function') out[name] = new R2Bucket(b, inv);
    else if (typeof b.idFromName === 'function') out[name] = new DurableObjectNamespace(b, inv);
    else void c;
  }
  return out;
}

function meteredBatch(batch) {
  bump('queue.read', batch.messages.length);
  const messages = batch.messages.map((m) => ({
    id: m.id, timestamp: m.timestamp, body: m.body, attempts: m.attempts,
    ack() { bump('queue.acked'); return m.ack(); },
    retry(o) { bump('queue.retried'); return m.retry(o); },
  }));
  return {
    queue: batch.queue, messages,
    ackAll() { bump('queue.acked', messages.length); return batch.ackAll(); },
    retryAll(o) { bump('queue.retried', messages.length); return batch.retryAll(o); },
  };
}

const json = (v) => new Response(JSON.stringify(v), { headers: { 'content-type': 'application/json' } });

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__instrument/counts') return json(counts);
    if (url.pathname === '/__instrument/reset') { for (const k of Object.keys(counts)) delete counts[k]; return json({}); }
    if (url.pathname === '/__instrument/faults') { setPlan(await request.json()); return json({}); }
    if (url.pathname === '/__instrument/die-after-answer') { dieNext = true; return json({}); }
    bump('invocations.fetch');
    dead = false;
    let ctx = this.ctx;
    if (dieNext) {
      dieNext = false;
      const real = this.ctx;
      ctx = {
        waitUntil(p) { dead = true; real.waitUntil(Promise.resolve(p).catch(() => {})); },
        passThroughOnException() { real.passThroughOnException(); },
        props: real.props,
      };
    }
    return new Worker(ctx, wrap(this.env)).fetch(request);
  }
  async queue(batch) {
    dead = false;
    bump('invocations.queue');
    return new Worker(this.ctx, wrap(this.env)).queue(meteredBatch(batch));
  }
  async scheduled(controller) {
    dead = false;
    bump('invocations.scheduled');
    return new Worker(this.ctx, wrap(this.env)).scheduled(controller);
  }
}
// The destinations' gate (a Durable Object) sees the same wrapped bindings, and its alarms are
// counted (Cloudflare bills each as a request).
export const Gate = built.Gate && class extends built.Gate {
  constructor(state, env) {
    const wrapped = wrap(env);
    super(state, wrapped);
    this.invocation = wrapped.__invocation; // one object, many invocations: counted from each start
  }
  async fetch(...a) { this.invocation.services = 0; return super.fetch(...a); }
  async alarm(...a) { this.invocation.services = 0; bump('do.alarms'); return super.alarm(...a); }
};
setPlan(${JSON.stringify(faults)});
`;
}
