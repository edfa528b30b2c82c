// The Worker handlers' own CPU inside workerd (bundled by bench/worker-cpu.mjs, run under
// Miniflare): hookseal's built Worker and the hand-written JS Worker (bench/js-worker) handle K
// signed deliveries in a loop, with KV, Queues and D1 as in-memory stand-ins that cost the same
// for both. What remains is each handler's work: reading the body, verifying, parsing, the
// binding calls as issued, the queue message and the answer. Timers do not advance inside the
// isolate: the harness times `GET /run?c=…&log=…&k=K` from outside and subtracts a K=0 request.
import Hookseal from '../../worker/build/index.js';
import Floor from '../worker-floor/build/floor.js';
import js from '../js-worker/index.js';
import { Webhook } from 'hookseal';
import { deliveryBody } from '../common.mjs';

const SECRET = 'bench-worker-secret-9d2f4b7a1c3e';
const signer = new Webhook('mossmoon', SECRET);
const META_SECRET = 'bench-worker-meta-secret-5e1a';
const metaSigner = new Webhook('meta', META_SECRET);

// Stand-ins named as the runtime's bindings are (workers-rs checks the constructor's name).
class KvNamespace {
  constructor() { this.map = new Map(); }
  async get(key) {
    // A list of keys is a bulk read, answered as a Map (as KV does).
    if (Array.isArray(key)) return new Map(key.map((k) => [k, this.map.get(k) ?? null]));
    return this.map.get(key) ?? null;
  }
  async put(key, value) { this.map.set(key, String(value)); }
  async delete(key) { this.map.delete(key); }
  async list() { return { keys: [], list_complete: true }; }
  async getWithMetadata(key) { return { value: this.map.get(key) ?? null, metadata: null }; }
}
class WorkerQueue {
  constructor() { this.sent = 0; }
  async send() { this.sent++; }
  async sendBatch(messages) { this.sent += messages.length; }
}
class D1PreparedStatement {
  constructor(db, sql, values = []) { Object.assign(this, { db, sql, values }); }
  bind(...values) { return new D1PreparedStatement(this.db, this.sql, values); }
  exec() {
    // hookseal's insert: its events as a JSON array (`?4`, each `[dedupKey, …]`), RETURNING the
    // new rows' ids and keys; none for a (source, dedup_key) seen.
    if (/^\s*INSERT INTO events[\s\S]*json_each/i.test(this.sql)) {
      const results = [];
      for (const [dedupKey] of JSON.parse(this.values[3])) {
        const key = `${this.values[0]}\0${dedupKey}`;
        if (this.db.rows.has(key)) continue;
        this.db.rows.set(key, ++this.db.n);
        results.push({ id: this.db.n, dedupKey });
      }
      return { results, success: true, meta: { changes: results.length } };
    }
    // The JS Worker's: `INSERT INTO events … RETURNING id`, one row.
    if (/^\s*INSERT INTO events/i.test(this.sql)) {
      const key = `${this.values[0]}\0${this.values[1]}`;
      if (this.db.rows.has(key)) return { results: [], success: true, meta: { changes: 0 } };
      this.db.rows.set(key, ++this.db.n);
      return { results: [{ id: this.db.n }], success: true, meta: { changes: 1 } };
    }
    return { results: [], success: true, meta: { changes: 1 } };
  }
  async run() { return this.exec(); }
  async all() { return this.exec(); }
  async first() { return this.exec().results[0] ?? null; }
}
class D1Database {
  constructor() { this.rows = new Map(); this.n = 0; }
  prepare(sql) { return new D1PreparedStatement(this, sql); }
  async batch(statements) { return statements.map((s) => s.exec()); }
  async exec() { return { count: 0, duration: 0 }; }
}

function envFor(log) {
  const env = {
    DEDUP: new KvNamespace(), OUTBOX: new WorkerQueue(), EVENTS: new WorkerQueue(), DEAD_LETTER: new WorkerQueue(),
    MOSSMOON_SECRET: SECRET, META_SECRET, LOG_LEVEL: 'warn',
    SOURCES: { bench: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'] }, meta: { scheme: 'meta', secrets: ['META_SECRET'] } },
  };
  if (log) {
    env.EVENT_LOG = new D1Database(); // hookseal's binding
    env.LOG = env.EVENT_LOG; // the JS Worker's
  }
  return env;
}

// Work left for after the answer (hookseal's first attempt with the log on) runs, and is waited
// for before a batch is done: it is the handler's work too.
const after = [];
const ctx = { waitUntil(p) { after.push(p); }, passThroughOnException() {}, props: {} };
const settled = async () => { while (after.length) await after.shift(); };
const handlers = {
  hookseal: (env) => {
    const w = new Hookseal(ctx, env);
    return (req) => w.fetch(req);
  },
  js: (env) => (req) => js.fetch(req, env, ctx),
  // hookseal's Worker with Meta bodies of `n` statuses each (`/prepare?c=meta&n=…`).
  meta: (env) => {
    const w = new Hookseal(ctx, env);
    return (req) => w.fetch(req);
  },
  // The binding calls the JS Worker makes without its log (body, header, KV read, queue send,
  // KV write, a JSON 202) and nothing else, through workers-rs (bench/worker-floor) and in JS:
  // what the bridge alone costs, whatever the handler does besides.
  'rs-bindings': (env) => {
    const w = new Floor(ctx, env);
    return (req) => w.fetch(req);
  },
  'js-bindings': (env) => async (req) => {
    const body = await req.arrayBuffer();
    const mark = `bench/${(req.headers.get('x-mossmoon-signature') ?? '').slice(0, 16)}`;
    if (await env.DEDUP.get(mark)) return Response.json('duplicate', { status: 200 });
    await env.OUTBOX.send(JSON.parse(`{"source":"bench","attempt":0,"bytes":${body.byteLength}}`));
    await env.DEDUP.put(mark, '1', { expirationTtl: 259200 });
    return Response.json({ accepted: 1, duplicates: 0 }, { status: 202 });
  },
  // The floor: the harness's own Request, a body read and a 202, nothing else.
  floor: () => async (req) => {
    await req.arrayBuffer();
    return new Response(null, { status: 202 });
  },
};
const urls = { meta: 'https://bench.example/webhooks/meta', hookseal: 'https://bench.example/webhooks/bench', js: 'https://bench.example/', floor: 'https://bench.example/', 'rs-bindings': 'https://bench.example/bindings', 'js-bindings': 'https://bench.example/bindings' };

let serial = 0;
/** `k` distinct signed deliveries (a repeated id would measure the duplicate path). */
function deliveries(k) {
  return Array.from({ length: k }, () => {
    const id = `evt_cpu_${serial++}`;
    const body = deliveryBody(id);
    // With the Content-Length senders send (a Request made here would have none).
    return { body, headers: { ...signer.sign(body), 'content-length': String(new TextEncoder().encode(body).length) } };
  });
}

/** `k` distinct signed Meta bodies of `n` statuses each. */
function metaDeliveries(k, n) {
  return Array.from({ length: k }, () => {
    const t = serial++;
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      statuses: Array.from({ length: n }, (_, i) => ({ id: `wamid.cpu.${t}.${i}`, status: 'delivered', timestamp: '1781275331', recipient_id: '15559876543' })) } }] }] });
    return { body, headers: { ...metaSigner.sign(body), 'content-length': String(new TextEncoder().encode(body).length) } };
  });
}

const prepared = new Map();
const envs = new Map();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const c = url.searchParams.get('c');
    const log = url.searchParams.get('log') === '1';
    const k = Number(url.searchParams.get('k') ?? 0);
    if (!handlers[c]) return Response.json({ contenders: Object.keys(handlers) }, { status: 404 });
    const key = `${c}:${log}`;
    if (!envs.has(key)) envs.set(key, { env: envFor(log), handle: null });
    const slot = envs.get(key);
    slot.handle ??= handlers[c](slot.env);
    if (url.pathname === '/prepare') {
      // Signed outside the timed request.
      prepared.set(key, c === 'meta' ? metaDeliveries(k, Number(url.searchParams.get('n'))) : deliveries(k));
      return Response.json({ prepared: k });
    }
    if (url.pathname === '/check') {
      // Accepts a valid delivery (202, enqueued and, with the log, logged) and refuses a
      // tampered one, before anything is timed.
      const [d] = deliveries(1);
      const ok = await slot.handle(new Request(urls[c], { method: 'POST', headers: d.headers, body: d.body }));
      const bad = await slot.handle(new Request(urls[c], { method: 'POST', headers: d.headers, body: d.body.replace('azul', 'azus') }));
      await settled();
      return Response.json({ valid: ok.status, tampered: bad.status, sent: slot.env.OUTBOX.sent, logged: slot.env.EVENT_LOG?.n ?? null });
    }
    const list = prepared.get(key) ?? [];
    let accepted = 0;
    for (let i = 0; i < k; i++) {
      const d = list[i];
      const res = await slot.handle(new Request(urls[c], { method: 'POST', headers: d.headers, body: d.body }));
      await res.arrayBuffer();
      if (res.status === 202) accepted++;
    }
    await settled();
    return Response.json({ accepted });
  },
};
