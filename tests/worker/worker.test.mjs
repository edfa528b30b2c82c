// End to end: the built Worker (worker/build) under workerd via Miniflare, with real KV, Queues
// and D1 (the event log, migrations from worker/migrations applied), and a real local HTTP
// destination that verifies every delivery's Standard Webhooks signature with hookseal. The
// Worker consumes its own dead-letter queue; a second, tiny Worker consumes the outbox queue and
// reports what lands there. Failures are injected by a test entry that wraps the bindings.
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { chromium } from 'playwright-core';
import { Webhook } from 'hookseal';
import { root } from '../js/harness.mjs';
import { cli } from '../cli/run.mjs';

const build = join(root, 'worker/build');
const SECRETS = {
  MOLTFLOW_SECRET: 'moltflow-e2e-secret-1',
  MOSSMOON_SECRET: 'mossmoon-e2e-secret-1',
  META_APP_SECRET: 'meta-e2e-app-secret',
  META_VERIFY_TOKEN: 'meta-e2e-verify-token',
  STD_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  DELIVERY_SECRET: 'whsec_ZTJlLWRlbGl2ZXJ5LXNlY3JldC0xMjM0NQ==',
  ADMIN_TOKEN: 'admin-e2e-token-0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'twilio-e2e-auth-token-0123456789',
  VONAGE_SIGNATURE_SECRET: 'vonage-e2e-signature-secret',
};
const MAX_BODY = 65_536;
const MAX_ATTEMPTS = 4;

// --- the destination: verifies, records, and fails on demand --------------------------------
const delivered = []; // { path, id, body } for every verified 2xx delivery
const hits = new Map(); // webhook-id -> attempts seen (any status)
const badSignatures = [];
const logs = []; // the Worker's structured log lines, parsed
const outbox = [];
const alerts = [];
let switchDown = true; // the /switch destination is down until a test brings it up
const deliveryCheck = new Webhook('standard-webhooks', SECRETS.DELIVERY_SECRET);

const destination = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  if (req.url === '/outbox') {
    outbox.push(JSON.parse(body));
    return res.writeHead(200).end();
  }
  let id;
  try {
    id = deliveryCheck.verify(body, req.headers).id;
  } catch (e) {
    badSignatures.push(`${req.url}: ${e.code}`);
    return res.writeHead(401).end();
  }
  const n = (hits.get(id) ?? 0) + 1;
  hits.set(id, n);
  const flaky = req.url.match(/^\/flaky\/(\d+)/);
  if (flaky && n <= Number(flaky[1])) return res.writeHead(n % 2 ? 503 : 429).end();
  if (req.url.startsWith('/gone')) return res.writeHead(410).end();
  if (req.url.startsWith('/switch') && switchDown) return res.writeHead(503).end();
  if (req.url === '/alert') {
    alerts.push(JSON.parse(body));
    return res.writeHead(200).end();
  }
  if (req.url.startsWith('/down')) return res.writeHead(503).end();
  delivered.push({ path: req.url, id, body: JSON.parse(body) });
  res.writeHead(200).end();
});

let mf;
let base;
let dest;
let persist;

function sources() {
  const to = (path) => `${dest}${path}`;
  return {
    moltflow: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], destination: to('/ok/moltflow') },
    mossmoon: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/mossmoon') },
    whatsapp: { scheme: 'meta', secrets: ['META_APP_SECRET'], verifyToken: 'META_VERIFY_TOKEN', destination: to('/ok/whatsapp') },
    std: { scheme: 'standard-webhooks', secrets: ['STD_SECRET'], destination: to('/ok/std') },
    twilio: { scheme: 'twilio', secrets: ['TWILIO_AUTH_TOKEN'], destination: to('/ok/twilio') },
    vonage: { scheme: 'vonage', secrets: ['VONAGE_SIGNATURE_SECRET'], destination: to('/ok/vonage') },
    flaky: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/flaky/3') },
    gone: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/gone') },
    down: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/down') },
    hold: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'] },
    load: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], destination: to('/ok/load') },
    outage: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/switch/outage') },
    longoutage: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/flaky/12') },
    faults: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/faults') },
    // Per-source body limits above the suite's small MAX_BODY_BYTES.
    bigmeta: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: to('/ok/bigmeta'), maxBodyBytes: 4 * 1024 * 1024 },
    big: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/big'), maxBodyBytes: 4 * 1024 * 1024 },
    bighold: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], maxBodyBytes: 4 * 1024 * 1024 },
    // Misconfigured on purpose: its secret is not set.
    unset: { scheme: 'mossmoon', secrets: ['NEVER_SET_SECRET'], destination: to('/ok/unset') },
  };
}

/**
 * The test entry that injects failures: it hands the built Worker wrapped bindings whose chosen
 * calls throw. KV (`get`, `put`), D1 (a batch or statement that inserts events, or updates a
 * delivery) and the EVENTS queue (`send`, `sendBatch`). The wrapper classes carry the names workers-rs
 * checks (`WorkerQueue`, `D1Database`).
 */
function faultyEntry(faults) {
  return `import { WorkerEntrypoint } from 'cloudflare:workers';
    import Hookseal from './index.js';
    const plan = new Map(${JSON.stringify(faults)}.split(',').map((f) => f.split(':')).map(([k, n]) => [k, Number(n)]));
    const calls = new Map();
    function maybeFail(kind) {
      const n = (calls.get(kind) ?? 0) + 1;
      calls.set(kind, n);
      if (plan.get(kind) === n) throw new Error('injected failure of ' + kind + ' #' + n);
    }
    const kindOf = (sql) => /^\\s*INSERT INTO events/i.test(sql) ? 'd1.insert' : /^\\s*UPDATE/i.test(sql) ? 'd1.update' : 'd1.other';
    class WorkerQueue {
      constructor(real) { this.real = real; }
      async send(body, options) { maybeFail('queue.send'); return this.real.send(body, options); }
      async sendBatch(batch, options) { maybeFail('queue.send'); return this.real.sendBatch(batch, options); }
    }
    class Statement {
      constructor(inner, sql) { this.inner = inner; this.sql = sql; }
      bind(...values) { return new Statement(this.inner.bind(...values), this.sql); }
      async first(column) { maybeFail(kindOf(this.sql)); return this.inner.first(column); }
      async run() { maybeFail(kindOf(this.sql)); return this.inner.run(); }
      async all() { maybeFail(kindOf(this.sql)); return this.inner.all(); }
      async raw(options) { maybeFail(kindOf(this.sql)); return this.inner.raw(options); }
    }
    class D1Database {
      constructor(real) { this.real = real; }
      prepare(sql) { return new Statement(this.real.prepare(sql), sql); }
      async batch(statements) {
        const kinds = new Set(statements.map((s) => kindOf(s.sql)));
        for (const k of ['d1.insert', 'd1.update']) if (kinds.has(k)) maybeFail(k);
        return this.real.batch(statements.map((s) => s.inner));
      }
      exec(query) { return this.real.exec(query); }
    }
    function kv(real) {
      return {
        async get(key, options) { maybeFail('kv.get'); return real.get(key, options); },
        getWithMetadata: (...a) => real.getWithMetadata(...a),
        async put(...a) { maybeFail('kv.put'); return real.put(...a); },
        list: (...a) => real.list(...a),
        delete: (...a) => real.delete(...a),
      };
    }
    const wrap = (env) => ({ ...env, EVENTS: new WorkerQueue(env.EVENTS), EVENT_LOG: new D1Database(env.EVENT_LOG), DEDUP: kv(env.DEDUP) });
    export default class extends WorkerEntrypoint {
      fetch(request) { return new Hookseal(this.ctx, wrap(this.env)).fetch(request); }
      queue(batch) { return new Hookseal(this.ctx, wrap(this.env)).queue(batch); }
    }`;
}

/**
 * Miniflare options; `without` drops a binding to simulate its failure; `faults` (such as
 * 'kv.get:1' or 'queue.send:2,d1.update:1') makes those calls of a binding fail, counted from 1
 * per kind (`queue.send` counts `send` and `sendBatch`); `vars` with an undefined value removes
 * that var.
 */
function options({ without = [], vars = {}, faults } = {}) {
  const producers = { EVENTS: { queueName: 'hookseal-events' }, OUTBOX: { queueName: 'hookseal-outbox' }, DEAD_LETTER: { queueName: 'hookseal-dead-letter' } };
  for (const b of without) delete producers[b];
  const bindings = {
    SOURCES: sources(), ...SECRETS,
    MAX_BODY_BYTES: String(MAX_BODY), DEDUP_TTL_SECONDS: '259200',
    DELIVERY_MAX_ATTEMPTS: String(MAX_ATTEMPTS), DELIVERY_BACKOFF_SECONDS: '0',
    ALERT_URL: `${dest}/alert`,
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const modules = [{ type: 'ESModule', path: join(build, 'index.js') }, { type: 'CompiledWasm', path: join(build, 'index_bg.wasm') }];
  if (faults) modules.unshift({ type: 'ESModule', path: join(build, 'faulty-entry.js'), contents: faultyEntry(faults) });
  return convertV4MiniflareOptions({
    cf: false,
    defaultPersistRoot: persist,
    handleStructuredLogs: ({ message }) => {
      try {
        logs.push(JSON.parse(message));
      } catch {
        logs.push({ unparsable: message });
      }
    },
    workers: [
      {
        name: 'hookseal',
        modulesRoot: build,
        modules,
        compatibilityDate: '2026-11-01',
        bindings,
        kvNamespaces: without.includes('DEDUP') ? [] : ['DEDUP'],
        d1Databases: without.includes('EVENT_LOG') ? [] : ['EVENT_LOG'],
        queueProducers: producers,
        queueConsumers: {
          'hookseal-events': { maxBatchSize: 50, maxBatchTimeout: 1, maxRetries: 5, deadLetterQueue: 'hookseal-dead-letter' },
          'hookseal-dead-letter': { maxBatchSize: 50, maxBatchTimeout: 1, maxRetries: 100 },
        },
      },
      {
        name: 'inspector',
        modules: true,
        script: `export default { async queue(batch, env) {
          for (const m of batch.messages) {
            await fetch(env.SINK + '/outbox', { method: 'POST', body: JSON.stringify(m.body) });
            m.ack();
          }
        } }`,
        bindings: { SINK: dest },
        queueConsumers: { 'hookseal-outbox': { maxBatchTimeout: 1 } },
      },
    ],
  });
}

before(async () => {
  await new Promise((r) => destination.listen(0, '127.0.0.1', r));
  dest = `http://127.0.0.1:${destination.address().port}`;
  persist = mkdtempSync(join(tmpdir(), 'hookseal-e2e-'));
  mf = new Miniflare(options());
  base = await mf.ready;
  await migrate();
});

/**
 * Restarts the Worker with other options. Miniflare then listens on a new port: `base` follows,
 * for the tests that use real sockets (the CLI, the browser).
 */
async function reconfigure(opts) {
  await mf.setOptions(opts);
  base = await mf.ready;
}

/** Applies worker/migrations to the local D1 database, as `make dev` does with wrangler. */
async function migrate() {
  const db = await mf.getD1Database('EVENT_LOG');
  const dir = join(root, 'worker/migrations');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(dir, file), 'utf8').replace(/--.*$/gm, '');
    const statements = sql.split(';').map((x) => x.trim()).filter(Boolean);
    await db.batch(statements.map((x) => db.prepare(x)));
  }
}

/** A call of the admin API with the token (or `token`, or none when null). */
async function admin(path, { method = 'GET', body, token = SECRETS.ADMIN_TOKEN } = {}) {
  const headers = token === null ? {} : { authorization: `Bearer ${token}` };
  const res = await mf.dispatchFetch(new URL(path, base), { method, body: body && JSON.stringify(body), headers });
  return { status: res.status, json: await res.json() };
}

after(async () => {
  await mf?.dispose();
  destination.close();
  rmSync(persist, { recursive: true, force: true });
});

const signers = {
  moltflow: new Webhook('moltflow', SECRETS.MOLTFLOW_SECRET),
  mossmoon: new Webhook('mossmoon', SECRETS.MOSSMOON_SECRET),
  meta: new Webhook('meta', SECRETS.META_APP_SECRET),
  std: new Webhook('standard-webhooks', SECRETS.STD_SECRET),
  twilio: new Webhook('twilio', SECRETS.TWILIO_AUTH_TOKEN),
  vonage: new Webhook('vonage', SECRETS.VONAGE_SIGNATURE_SECRET),
};

async function post(source, body, headers) {
  const res = await mf.dispatchFetch(new URL(`/webhooks/${source}`, base), { method: 'POST', body, headers });
  return { status: res.status, json: await res.json() };
}

async function until(what, check, timeout = 60_000) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const fixtures = (dir) => readdirSync(join(root, 'tests/events', dir)).filter((f) => /\.(json|txt)$/.test(f)).sort()
  .map((f) => readFileSync(join(root, 'tests/events', dir, f)));

test('every seed provider\'s events are delivered once, signed with Standard Webhooks', async () => {
  const before = delivered.length;
  const expected = new Set();
  for (const [source, scheme, dir] of [['moltflow', 'moltflow', 'moltflow'], ['mossmoon', 'mossmoon', 'mossmoon'], ['whatsapp', 'meta', 'meta']]) {
    for (const body of fixtures(dir)) {
      const { status, json } = await post(source, body, signers[scheme].sign(body));
      assert.ok(status === 202 || status === 200, `${source}: ${status} ${JSON.stringify(json)}`);
      const { events } = signers[scheme].parse(body, signers[scheme].sign(body));
      for (const e of events) expected.add(e.dedupKey);
    }
  }
  await until(`${expected.size} deliveries`, () => delivered.length - before >= expected.size);
  await new Promise((r) => setTimeout(r, 1500)); // anything extra would arrive by now
  const got = delivered.slice(before);
  assert.equal(got.length, expected.size, 'each event exactly once');
  assert.deepEqual(new Set(got.map((d) => d.id)), expected, 'webhook-id is the dedup key');
  assert.deepEqual(badSignatures, []);
  for (const d of got) assert.equal(d.body.event.dedupKey, d.id);
  const text = got.find((d) => d.id === 'mossmoon:evt_text1');
  assert.equal(text.path, '/ok/mossmoon');
  assert.equal(text.body.event.message.text, 'Do you have this in blue? 💙');

  // Every one again: acknowledged as duplicates, not delivered again.
  for (const [source, scheme, dir] of [['moltflow', 'moltflow', 'moltflow'], ['mossmoon', 'mossmoon', 'mossmoon'], ['whatsapp', 'meta', 'meta']]) {
    for (const body of fixtures(dir)) {
      const res = await post(source, body, signers[scheme].sign(body));
      assert.deepEqual([res.status, res.json.accepted], [200, 0], `${source} duplicate`);
    }
  }
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(delivered.length - before, expected.size, 'duplicates are not delivered again');
});

test('Twilio (form bodies, signed over the URL the Worker was called at) and Vonage (JWT) end to end', async () => {
  const before = delivered.length;
  const expected = new Set();
  for (const [source, dir] of [['twilio', 'twilio'], ['vonage', 'vonage']]) {
    const url = new URL(`/webhooks/${source}`, base).toString();
    for (const body of fixtures(dir)) {
      const target = { method: 'POST', url };
      const headers = signers[source].sign(body, target);
      const { status, json } = await post(source, body, headers);
      assert.equal(status, 202, `${source}: ${JSON.stringify(json)}`);
      for (const e of signers[source].parse(body, headers, target).events) expected.add(e.dedupKey);
    }
  }
  await until(`${expected.size} deliveries`, () => delivered.length - before >= expected.size);
  const got = delivered.slice(before);
  assert.deepEqual(new Set(got.map((d) => d.id)), expected);
  const text = got.find((d) => d.body.event.provider === 'twilio' && d.body.event.type === 'message.received'
    && d.body.event.data.messageType === 'text');
  assert.equal(text.body.event.message.text, 'Do you have this in blue? 💙');
  assert.equal(text.path, '/ok/twilio');

  // Twilio's signature covers the parameters and the URL: a changed parameter, or the same
  // request signed for another URL, is refused.
  const body = fixtures('twilio')[0].toString();
  const url = new URL('/webhooks/twilio', base).toString();
  const headers = signers.twilio.sign(body, { method: 'POST', url });
  const tampered = await post('twilio', body.replace('NumMedia=0', 'NumMedia=1'), headers);
  assert.deepEqual([tampered.status, tampered.json.error], [401, 'signature_mismatch']);
  const elsewhere = signers.twilio.sign(body, { method: 'POST', url: url.replace('/twilio', '/other') });
  const moved = await post('twilio', body, elsewhere);
  assert.deepEqual([moved.status, moved.json.error], [401, 'signature_mismatch']);
});

test('forged, stale, oversized and malformed requests get their status and code and are never enqueued', async () => {
  const before = delivered.length;
  const body = '{"event":"line.ready","id":"evt_reject_1","line_id":"ln_1"}';
  const sig = signers.mossmoon.sign(body);
  const cases = [
    ['forged', 'mossmoon', body.replace('ln_1', 'ln_2'), sig, 401, 'signature_mismatch'],
    ['wrong secret', 'mossmoon', body, new Webhook('mossmoon', 'not-the-secret').sign(body), 401, 'signature_mismatch'],
    ['unsigned', 'mossmoon', body, {}, 401, 'missing_header'],
    ['garbage signature', 'mossmoon', body, { 'x-mossmoon-signature': 'zz' }, 401, 'malformed_signature'],
    ['stale', 'std', body, signers.std.sign(body, { id: 'msg_stale', timestamp: Math.floor(Date.now() / 1000) - 3600 }), 401, 'timestamp_too_old'],
    ['from the future', 'std', body, signers.std.sign(body, { id: 'msg_future', timestamp: Math.floor(Date.now() / 1000) + 3600 }), 401, 'timestamp_in_future'],
    ['oversized', 'mossmoon', 'x'.repeat(MAX_BODY + 1), signers.mossmoon.sign('x'.repeat(MAX_BODY + 1)), 413, 'body_too_large'],
    ['unknown source', 'nope', body, sig, 404, 'unknown_source'],
  ];
  for (const [name, source, b, headers, status, code] of cases) {
    const res = await post(source, b, headers);
    assert.deepEqual([res.status, res.json.error], [status, code], name);
    assert.ok(!JSON.stringify(res.json).includes(SECRETS.MOSSMOON_SECRET), `${name}: no secret in the answer`);
  }
  // A sender still writing an oversized body must get the 413, not a closed connection (it
  // would retry that for a day): repeatedly, at several sizes, with and without a length.
  for (let i = 0; i < 12; i++) {
    const big = 'y'.repeat([MAX_BODY + 1, 2 * MAX_BODY, 8 * MAX_BODY][i % 3]);
    const headers = signers.mossmoon.sign(big);
    const bodyInit = i % 2 ? big : new Blob([big]).stream();
    const res = await mf.dispatchFetch(new URL('/webhooks/mossmoon', base), { method: 'POST', body: bodyInit, headers, duplex: 'half' });
    assert.deepEqual([res.status, (await res.json()).error], [413, 'body_too_large'], `oversized #${i}`);
  }
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(delivered.length, before, 'nothing refused was delivered');
  assert.ok(!hits.has('mossmoon:evt_reject_1'));
});

test('an authentic body that is not the documented event is kept and delivered, not lost', async () => {
  const body = '{"event": "message.received", "id": "evt_broken"'; // cut short
  const res = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.equal(res.status, 202);
  await until('the unparsed event', () => delivered.some((d) => d.body.event.type === 'hookseal.unparsed'));
  const d = delivered.find((x) => x.body.event.type === 'hookseal.unparsed');
  assert.equal(d.body.event.data.error, 'malformed_json');
  assert.equal(d.body.event.data.body, body);
});

test('a destination that fails 3 times then succeeds gets the event on the 4th attempt', async () => {
  const body = '{"event":"line.ready","id":"evt_flaky_1","line_id":"ln_1"}';
  assert.equal((await post('flaky', body, signers.mossmoon.sign(body))).status, 202);
  await until('the flaky delivery', () => delivered.some((d) => d.id === 'mossmoon:evt_flaky_1'));
  const d = delivered.find((x) => x.id === 'mossmoon:evt_flaky_1');
  assert.equal(d.body.attempt, 4);
  assert.equal(hits.get('mossmoon:evt_flaky_1'), 4);
});

/** The logged event with this dedup key, through the admin API. */
async function logged(key) {
  const { json } = await admin(`/admin/events?key=${encodeURIComponent(key)}`);
  return json.events?.[0];
}

async function untilLogged(key, status) {
  let row;
  const start = Date.now();
  while (!(row = await logged(key)) || row.status !== status) {
    if (Date.now() - start > 60_000) throw new Error(`timed out waiting for ${key} to be ${status} (is ${row?.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return row;
}

test('4xx gives up at once; a destination that is always down ends dead in the log, with the reason', async () => {
  const gone = '{"event":"line.ready","id":"evt_gone_1","line_id":"ln_1"}';
  const down = '{"event":"line.ready","id":"evt_down_1","line_id":"ln_1"}';
  assert.equal((await post('gone', gone, signers.mossmoon.sign(gone))).status, 202);
  assert.equal((await post('down', down, signers.mossmoon.sign(down))).status, 202);
  const goneRow = await untilLogged('mossmoon:evt_gone_1', 'dead');
  const downRow = await untilLogged('mossmoon:evt_down_1', 'dead');
  assert.equal(hits.get('mossmoon:evt_gone_1'), 1, 'a 410 is not retried');
  assert.match(goneRow.lastError, /HTTP 410/);
  assert.equal(hits.get('mossmoon:evt_down_1'), MAX_ATTEMPTS, 'every attempt was made');
  assert.match(downRow.lastError, /HTTP 503/);
  assert.equal(downRow.attempts, MAX_ATTEMPTS);
  const detail = await admin(`/admin/events/${downRow.id}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.json.history.map((a) => a.status), Array(MAX_ATTEMPTS).fill(503));
  assert.equal(detail.json.envelope.dedupKey, 'mossmoon:evt_down_1');
  // The dead letters were announced to ALERT_URL, signed, once per source for the interval.
  await until('the alerts', () => alerts.some((a) => a.source === 'down') && alerts.some((a) => a.source === 'gone'));
  const alert = alerts.find((a) => a.source === 'down');
  assert.equal(alert.type, 'hookseal.dead_letters');
  assert.ok(alert.count >= 1);
  assert.match(alert.lastReason, /HTTP 503/);
});

test('a source without a destination leaves its events on the outbox queue', async () => {
  const body = '{"event":"line.ready","id":"evt_hold_1","line_id":"ln_1"}';
  assert.equal((await post('hold', body, signers.mossmoon.sign(body))).status, 202);
  await until('the outbox message', () => outbox.some((m) => m.dedupKey === 'mossmoon:evt_hold_1'));
  const m = outbox.find((x) => x.dedupKey === 'mossmoon:evt_hold_1');
  assert.equal(JSON.parse(m.event).type, 'line.ready');
  // A replay puts it on the outbox again, the envelope inline as before.
  const row = await logged('mossmoon:evt_hold_1');
  assert.equal((await admin(`/admin/events/${row.id}/replay`, { method: 'POST' })).status, 202);
  await until('the replayed outbox message', () => outbox.filter((x) => x.dedupKey === 'mossmoon:evt_hold_1').length === 2);
  const again = outbox.filter((x) => x.dedupKey === 'mossmoon:evt_hold_1')[1];
  assert.equal(JSON.parse(again.event).type, 'line.ready');
});

test('Meta\'s verification handshake', async () => {
  const q = (token) => new URL(`/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`, base);
  const ok = await mf.dispatchFetch(q(SECRETS.META_VERIFY_TOKEN));
  assert.deepEqual([ok.status, await ok.text()], [200, '1158201444']);
  const bad = await mf.dispatchFetch(q('guess'));
  assert.deepEqual([bad.status, (await bad.json()).error], [403, 'handshake_rejected']);
});

test('a configuration error is reported at the request and in the logs, never as a crash', async () => {
  const body = '{"event":"line.ready","id":"evt_unset_1","line_id":"ln_1"}';
  const res = await post('unset', body, signers.mossmoon.sign(body));
  assert.equal(res.status, 500);
  assert.equal(res.json.error, 'invalid_config');
  assert.match(res.json.message, /NEVER_SET_SECRET.*wrangler secret put/);
  assert.ok(logs.some((l) => l.at === 'ingest' && l.source === 'unset' && l.outcome === 'config_error'));
  const health = await mf.dispatchFetch(new URL('/health', base));
  const h = await health.json();
  assert.equal(health.status, 500);
  assert.equal(h.ok, false);
  assert.equal(h.problems.length, 1);
  assert.match(h.problems[0], /source `unset`/);
  // Every other source keeps working.
  const ok = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.equal(ok.status, 202);
});

test('an event id that cannot be a header value still delivers (its dedup key is hashed)', async () => {
  const body = JSON.stringify({ event: 'line.ready', id: 'evt_odd\nx-injected: 1 é', line_id: 'ln_1' });
  const res = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.equal(res.status, 202);
  await until('the odd event delivered', () => delivered.some((d) => d.body.event?.id === 'evt_odd\nx-injected: 1 é'));
  const d = delivered.find((x) => x.body.event?.id === 'evt_odd\nx-injected: 1 é');
  assert.match(d.id, /^mossmoon:sha256:[0-9a-f]{64}$/);
  const again = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.deepEqual([again.status, again.json.duplicates], [200, 1]);
});

test('LOG_LEVEL=warn logs refusals and failures only; an unknown level is a configuration error', async () => {
  await reconfigure(options({ vars: { LOG_LEVEL: 'warn' } }));
  try {
    const from = logs.length;
    const body = '{"event":"line.ready","id":"evt_quiet_1","line_id":"ln_1"}';
    const ok = await post('hold', body, signers.mossmoon.sign(body));
    assert.equal(ok.status, 202);
    const forged = await post('hold', body.replace('quiet_1', 'quiet_2'), signers.mossmoon.sign(body));
    assert.equal(forged.status, 401);
    const lines = () => logs.slice(from).filter((l) => l.at === 'ingest' && l.source === 'hold');
    await until('the refusal logged', () => lines().length > 0, 10_000);
    assert.deepEqual(lines().map((l) => l.status), [401]);
    await reconfigure(options({ vars: { LOG_LEVEL: 'loud' } }));
    const bad = await post('hold', body, signers.mossmoon.sign(body));
    assert.deepEqual([bad.status, bad.json.error], [500, 'invalid_config']);
    assert.match(bad.json.message, /LOG_LEVEL/);
  } finally {
    await reconfigure(options());
  }
});

test('a KV or Queue failure answers 503, and the sender\'s retry then succeeds with nothing lost', async () => {
  for (const [binding, code] of [['DEDUP', 'dedup_unavailable'], ['EVENTS', 'queue_unavailable']]) {
    const id = `evt_outage_${binding}`;
    const body = `{"event":"line.ready","id":"${id}","line_id":"ln_1"}`;
    await reconfigure(options({ without: [binding] }));
    const failed = await post('mossmoon', body, signers.mossmoon.sign(body));
    assert.deepEqual([failed.status, failed.json.error], [503, code], binding);
    await reconfigure(options());
    const retried = await post('mossmoon', body, signers.mossmoon.sign(body));
    assert.deepEqual([retried.status, retried.json.accepted], [202, 1], `${binding}: the retry is accepted, no mark was left`);
    await until(`${id} delivered`, () => delivered.some((d) => d.id === `mossmoon:${id}`));
  }
  await new Promise((r) => setTimeout(r, 1500));
  for (const binding of ['DEDUP', 'EVENTS']) {
    assert.equal(delivered.filter((d) => d.id === `mossmoon:evt_outage_${binding}`).length, 1);
  }
});

/** A Meta body with `n` statuses, each with its own wamid (`tag` keeps bodies apart). */
function metaStatuses(n, tag) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      statuses: Array.from({ length: n }, (_, i) => ({
        id: `wamid.${tag}.${String(i).padStart(5, '0')}`, status: 'delivered', timestamp: '1781275331', recipient_id: '15559876543',
      })),
    } }] }],
  });
}

/** A Meta body with one text message per entry of `texts`. */
function metaMessages(texts, tag) {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
      contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: '15559876543' }],
      messages: texts.map((text, i) => ({ from: '15559876543', id: `wamid.${tag}.${i}`, timestamp: '1781275331', type: 'text', text: { body: text } })),
    } }] }],
  });
}

const deliveredIds = (prefix) => delivered.filter((d) => d.id.startsWith(prefix)).map((d) => d.id);

test('Meta bodies with 1, 100, 101, 250 and 1,000 statuses: every status delivered exactly once', async () => {
  const sizes = [1, 100, 101, 250, 1000];
  let want = 0;
  for (const n of sizes) {
    const body = metaStatuses(n, `st${n}`);
    const started = Date.now();
    const res = await post('bigmeta', body, signers.meta.sign(body));
    const ms = Date.now() - started;
    assert.deepEqual([res.status, res.json.accepted], [202, n], `${n} statuses: ${JSON.stringify(res.json)}`);
    if (n === 1000) console.log(`# a 1,000-status Meta body (${body.length} bytes) accepted in ${ms} ms`);
    want += n;
  }
  await until(`${want} status deliveries`, () => deliveredIds('meta:status:wamid.st').length >= want, 120_000);
  await new Promise((r) => setTimeout(r, 1500));
  const ids = deliveredIds('meta:status:wamid.st');
  assert.equal(ids.length, want, 'no status delivered twice');
  assert.equal(new Set(ids).size, want, 'every status delivered');
  // The same 1,000-status body again is all duplicates.
  const again = metaStatuses(1000, 'st1000');
  const dup = await post('bigmeta', again, signers.meta.sign(again));
  assert.deepEqual([dup.status, dup.json.accepted, dup.json.duplicates], [200, 0, 1000]);
});

test('events of 200 KiB and 900 KiB of text travel by reference and arrive whole and signed', async () => {
  const before = delivered.length;
  const sizes = [200 * 1024, 900 * 1024];
  for (const [i, size] of sizes.entries()) {
    // Non-ASCII text, so the envelope is counted at two bytes a character.
    const text = 'Olá, ação! '.repeat(Math.ceil(size / 11)).slice(0, size);
    const body = JSON.stringify({ event: 'message.received', id: `evt_large_${i}`, line_id: 'ln_1',
      message: { id: `msg_large_${i}`, from: '+15559876543', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
    const res = await post('big', body, signers.mossmoon.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 1], `${size}: ${JSON.stringify(res.json)}`);
    await until(`the ${size}-byte event`, () => delivered.some((d) => d.id === `mossmoon:evt_large_${i}`), 30_000);
    const d = delivered.find((x) => x.id === `mossmoon:evt_large_${i}`);
    assert.equal(d.body.event.data.text, text, 'the destination received the whole text');
    assert.equal(d.body.event.data.messageId, `msg_large_${i}`);
    assert.equal(d.body.event.message.text, text);
  }
  assert.deepEqual(badSignatures, [], 'every delivery verified at the destination');
  // Without a destination, the outbox message names the stored envelope.
  const text = 'z'.repeat(300 * 1024);
  const body = JSON.stringify({ event: 'message.received', id: 'evt_large_hold', line_id: 'ln_1',
    message: { id: 'msg_h', from: '+1555', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
  assert.equal((await post('bighold', body, signers.mossmoon.sign(body))).status, 202);
  await until('the outbox reference', () => outbox.some((m) => m.dedupKey === 'mossmoon:evt_large_hold'));
  const m = outbox.find((x) => x.dedupKey === 'mossmoon:evt_large_hold');
  assert.equal(m.event, '');
  assert.equal(m.eventRef, 'hookseal:event/bighold/mossmoon:evt_large_hold');
  const kv = await mf.getKVNamespace('DEDUP');
  assert.equal(JSON.parse(await kv.get(m.eventRef)).message.text, text);
  assert.ok(delivered.length - before >= 2);
});

test('a 2.5 MB Meta payload is accepted with the default limit; over it is still 413', async () => {
  await reconfigure(options({ vars: { MAX_BODY_BYTES: undefined } }));
  try {
    const texts = [0, 1, 2].map((i) => `${i}`.repeat(830 * 1024));
    const body = metaMessages(texts, 'huge');
    assert.ok(body.length > 2_500_000 && body.length < 3_000_000, String(body.length));
    const res = await post('whatsapp', body, signers.meta.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 3], JSON.stringify(res.json));
    await until('the three large messages', () => deliveredIds('meta:message:wamid.huge.').length >= 3, 60_000);
    for (const [i, t] of texts.entries()) {
      assert.equal(delivered.find((d) => d.id === `meta:message:wamid.huge.${i}`).body.event.message.text, t);
    }
    const over = 'x'.repeat(4 * 1024 * 1024 + 1);
    const big = await post('whatsapp', over, signers.meta.sign(over));
    assert.deepEqual([big.status, big.json.error], [413, 'body_too_large']);
  } finally {
    await reconfigure(options());
  }
});

test('a Queue send that fails for one chunk answers 503; the retry delivers every event exactly once', async () => {
  const body = metaStatuses(250, 'chunkfail'); // three chunks: 100, 100, 50
  await reconfigure(options({ faults: 'queue.send:2' }));
  try {
    const first = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([first.status, first.json.error], [503, 'queue_unavailable']);
    const retry = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([retry.status, retry.json.accepted, retry.json.duplicates], [202, 100, 150],
      'the retry enqueues only the chunk that failed');
    // Delivered before the options change again: a restart of Miniflare drops queued messages.
    await until('250 statuses', () => deliveredIds('meta:status:wamid.chunkfail.').length >= 250, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await reconfigure(options());
  }
  const ids = deliveredIds('meta:status:wamid.chunkfail.');
  assert.equal(ids.length, 250, 'nothing doubled');
  assert.equal(new Set(ids).size, 250, 'nothing lost');
});

const mossmoonEvent = (id) => `{"event":"line.ready","id":"${id}","line_id":"ln_1"}`;
const deliveredCount = (key) => delivered.filter((d) => d.id === key).length;

test('an outage longer than the old 8-attempt schedule: the event arrives once the destination recovers', async () => {
  // The schedule scaled down: no attempt cap, a 2-minute horizon, no backoff. The destination
  // fails 12 times (the old schedule gave up after 8).
  await reconfigure(options({ vars: { DELIVERY_MAX_ATTEMPTS: undefined, DELIVERY_HORIZON_SECONDS: '120' } }));
  try {
    const body = mossmoonEvent('evt_long_outage');
    assert.equal((await post('longoutage', body, signers.mossmoon.sign(body))).status, 202);
    await until('the delivery after 12 failures', () => deliveredCount('mossmoon:evt_long_outage') === 1, 90_000);
    assert.equal(hits.get('mossmoon:evt_long_outage'), 13);
    const row = await untilLogged('mossmoon:evt_long_outage', 'delivered');
    assert.equal(row.attempts, 13);
    assert.equal(typeof row.deliveredAt, 'number');
  } finally {
    await reconfigure(options());
  }
});

test('a permanent outage, then replay through the API: each event delivered exactly once', async () => {
  switchDown = true;
  const ids = ['evt_replay_1', 'evt_replay_2', 'evt_replay_3'];
  for (const id of ids) {
    const body = mossmoonEvent(id);
    assert.equal((await post('outage', body, signers.mossmoon.sign(body))).status, 202);
  }
  const rows = [];
  for (const id of ids) rows.push(await untilLogged(`mossmoon:${id}`, 'dead'));
  const listed = await admin('/admin/events?source=outage&status=dead');
  assert.deepEqual(listed.json.events.map((e) => e.dedupKey).sort(), ids.map((i) => `mossmoon:${i}`).sort());
  for (const e of listed.json.events) {
    for (const k of ['id', 'source', 'dedupKey', 'type', 'status', 'attempts', 'receivedAt', 'deliveredAt', 'lastError']) {
      assert.ok(k in e, `an event carries ${k}`);
    }
  }
  switchDown = false;
  // One by itself, the rest in bulk.
  const one = await admin(`/admin/events/${rows[0].id}/replay`, { method: 'POST' });
  assert.deepEqual([one.status, one.json.replayed], [202, 1]);
  await untilLogged(`mossmoon:${ids[0]}`, 'delivered');
  const bulk = await admin('/admin/replay', { method: 'POST', body: { source: 'outage', status: 'dead' } });
  assert.deepEqual([bulk.status, bulk.json.replayed], [200, 2]);
  for (const id of ids) await untilLogged(`mossmoon:${id}`, 'delivered');
  await new Promise((r) => setTimeout(r, 1500));
  for (const id of ids) assert.equal(deliveredCount(`mossmoon:${id}`), 1, `${id} delivered once`);
  // Purge.
  const del = await admin(`/admin/events/${rows[2].id}`, { method: 'DELETE' });
  assert.deepEqual([del.status, del.json.deleted], [200, 1]);
  assert.equal((await admin(`/admin/events/${rows[2].id}`)).status, 404);
});

test('fault injection: KV get, KV put, D1 insert, Queue send and D1 update each fail once; nothing lost, nothing doubled', async () => {
  for (const fault of ['kv.get', 'kv.put', 'd1.insert', 'queue.send', 'd1.update']) {
    const key = `mossmoon:evt_fault_${fault}`;
    const body = mossmoonEvent(`evt_fault_${fault}`);
    await reconfigure(options({ faults: `${fault}:1` }));
    try {
      let res = await post('faults', body, signers.mossmoon.sign(body));
      const answers = [res.status];
      if (res.status === 503) {
        res = await post('faults', body, signers.mossmoon.sign(body)); // the sender retries
        answers.push(res.status);
      }
      assert.equal(res.status, 202, `${fault}: ${answers} ${JSON.stringify(res.json)}`);
      if (['kv.get', 'd1.insert', 'queue.send'].includes(fault)) assert.deepEqual(answers, [503, 202], fault);
      await until(`${fault}: the delivery`, () => deliveredCount(key) >= 1, 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(deliveredCount(key), 1, `${fault}: delivered exactly once`);
      const again = await post('faults', body, signers.mossmoon.sign(body));
      assert.equal(again.status, 200, `${fault}: a later retry is a duplicate`);
    } finally {
      await reconfigure(options());
    }
  }
});

test('the same event sent 20 times at once is delivered once (the log settles the race)', async () => {
  const body = mossmoonEvent('evt_concurrent');
  const answers = await Promise.all(Array.from({ length: 20 }, () => post('mossmoon', body, signers.mossmoon.sign(body))));
  assert.equal(answers.reduce((n, a) => n + (a.json.accepted ?? 0), 0), 1, JSON.stringify(answers.map((a) => a.status)));
  assert.ok(answers.every((a) => a.status === 202 || a.status === 200));
  await until('the delivery', () => deliveredCount('mossmoon:evt_concurrent') >= 1);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(deliveredCount('mossmoon:evt_concurrent'), 1);
});

test('the admin API: no token, a wrong one or one of another length is 401; without ADMIN_TOKEN it is 404', async () => {
  const right = SECRETS.ADMIN_TOKEN;
  for (const token of [null, 'x'.repeat(right.length), right.slice(0, -1), `${right}x`, right.toUpperCase()]) {
    const res = await admin('/admin/events', { token });
    assert.deepEqual([res.status, res.json.error], [401, 'unauthorized'], String(token));
  }
  const bad = await mf.dispatchFetch(new URL('/admin/events', base), { headers: { authorization: right } });
  assert.equal(bad.status, 401, 'the Bearer scheme is required');
  assert.equal((await admin('/admin/events')).status, 200);
  const health = await (await mf.dispatchFetch(new URL('/health', base))).json();
  assert.deepEqual([health.eventLog, health.adminApi], ['on', 'on']);
  await reconfigure(options({ vars: { ADMIN_TOKEN: undefined } }));
  try {
    assert.equal((await admin('/admin/events')).status, 404);
    const off = await (await mf.dispatchFetch(new URL('/health', base))).json();
    assert.equal(off.adminApi, 'off');
  } finally {
    await reconfigure(options());
  }
});

test('without the D1 binding the Worker verifies, dedupes with KV, enqueues and delivers as before', async () => {
  await reconfigure(options({ without: ['EVENT_LOG'] }));
  try {
    const health = await (await mf.dispatchFetch(new URL('/health', base))).json();
    assert.equal(health.eventLog, 'off');
    const body = mossmoonEvent('evt_no_log');
    assert.equal((await post('mossmoon', body, signers.mossmoon.sign(body))).status, 202);
    await until('the delivery', () => deliveredCount('mossmoon:evt_no_log') === 1);
    assert.equal((await post('mossmoon', body, signers.mossmoon.sign(body))).status, 200);
    const api = await admin('/admin/events');
    assert.deepEqual([api.status, api.json.error], [501, 'log_off']);
    // A dead letter without the log is kept in KV.
    const gone = mossmoonEvent('evt_no_log_gone');
    assert.equal((await post('gone', gone, signers.mossmoon.sign(gone))).status, 202);
    const kv = await mf.getKVNamespace('DEDUP');
    await until('the dead letter in KV', () => hits.get('mossmoon:evt_no_log_gone') === 1);
    let kept;
    for (let i = 0; i < 100 && !kept; i++) {
      kept = await kv.get('hookseal:dead/gone/mossmoon:evt_no_log_gone');
      if (!kept) await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(JSON.parse(kept).reason, /HTTP 410/);
  } finally {
    await reconfigure(options());
  }
});

test('the CLI sends samples to the Worker and drives its admin API (events, replay)', async () => {
  const env = { HOOKSEAL_SECRET: SECRETS.MOSSMOON_SECRET };
  const url = new URL('/webhooks/mossmoon', base).href;
  const sent = await cli(['send', '--scheme', 'mossmoon', '--url', url, '--event', 'message.received'], { env });
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  assert.match(sent.stdout, /^202 .*"accepted":1/);
  const all = await cli(['send', '--scheme', 'mossmoon', '--url', url, '--all'], { env });
  assert.equal(all.code, 0, all.stdout);
  assert.match(all.stdout, /forgery answered 401/);

  const adminEnv = { HOOKSEAL_ADMIN_TOKEN: SECRETS.ADMIN_TOKEN };
  const listed = await cli(['events', '--url', base.href, '--source', 'mossmoon', '--type', 'line.ready', '--limit', '3'], { env: adminEnv });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /mossmoon {2}line\.ready {2}mossmoon:evt_/);
  const json = JSON.parse((await cli(['events', '--url', base.href, '--limit', '2', '--json'], { env: adminEnv })).stdout);
  assert.equal(json.events.length, 2);
  const denied = await cli(['events', '--url', base.href], { env: { HOOKSEAL_ADMIN_TOKEN: 'wrong' } });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /401 unauthorized/);
  assert.equal((await cli(['events', '--url', base.href])).code, 2, 'no token is a usage error');

  // A dead letter, replayed from the CLI once the destination is back.
  switchDown = true;
  const body = mossmoonEvent('evt_cli_dead');
  assert.equal((await post('outage', body, signers.mossmoon.sign(body))).status, 202);
  const row = await untilLogged('mossmoon:evt_cli_dead', 'dead');
  switchDown = false;
  const one = await cli(['replay', '--url', base.href, '--id', String(row.id)], { env: adminEnv });
  assert.deepEqual([one.code, one.stdout.trim()], [0, 'replayed 1']);
  await untilLogged('mossmoon:evt_cli_dead', 'delivered');
  assert.equal(deliveredCount('mossmoon:evt_cli_dead'), 1);
  const none = await cli(['replay', '--url', base.href, '--dead', '--source', 'outage'], { env: adminEnv });
  assert.deepEqual([none.code, none.stdout.trim()], [0, 'replayed 0']);
});

test('the console in Chromium: sign in, see events, open one, replay a dead letter; a <script> stays text', async () => {
  const shots = join(root, 'build/screenshots');
  const xssText = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
  const xss = JSON.stringify({ event: 'message.received', id: 'evt_console_xss', line_id: 'ln_1',
    message: { id: 'msg_xss', from: '+15559876543', type: 'text', text: xssText, received_at: '2026-06-12T14:42:11Z' } });
  assert.equal((await post('mossmoon', xss, signers.mossmoon.sign(xss))).status, 202);
  switchDown = true;
  const dead = mossmoonEvent('evt_console_dead');
  assert.equal((await post('outage', dead, signers.mossmoon.sign(dead))).status, 202);
  await untilLogged('mossmoon:evt_console_dead', 'dead');

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
    const res = await page.goto(new URL('/admin/', base).href);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes('unsafe-inline'), csp);

    await page.fill('#token', 'not-the-token');
    await page.click('#signin-form button');
    await page.waitForSelector('#signin-message:has-text("refused")');
    await page.screenshot({ path: join(shots, 'console-signin-refused.png') });

    await page.fill('#token', SECRETS.ADMIN_TOKEN);
    await page.click('#signin-form button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('article.source[data-source="mossmoon"]');
    await page.waitForSelector('tr:has-text("mossmoon:evt_console_xss")');
    assert.match(await page.textContent('#live'), /Updated/);
    await page.screenshot({ path: join(shots, 'console-events.png'), fullPage: true });

    await page.click('tr:has-text("mossmoon:evt_console_xss")');
    await page.waitForSelector('#detail:not([hidden])');
    await page.waitForFunction(() => document.getElementById('envelope').textContent.includes('evt_console_xss'));
    assert.ok((await page.textContent('#envelope')).includes(xssText.replaceAll('"', '\\"')), 'the <script> is shown as text');
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'nothing from the event ran');
    assert.equal((await page.$$('#detail script, #detail img, #events script, #events img')).length, 0);
    await page.screenshot({ path: join(shots, 'console-event.png'), fullPage: true });

    // Dead letters of one source, replayed from the list.
    switchDown = false;
    await page.selectOption('#f-source', 'outage');
    await page.selectOption('#f-status', 'dead');
    await page.click('#filters button');
    await page.waitForSelector('tr:has-text("mossmoon:evt_console_dead") button:has-text("Replay")');
    await page.click('tr:has-text("mossmoon:evt_console_dead") button:has-text("Replay")');
    assert.match(dialogs.at(-1), /Deliver event \d+ again/);
    await untilLogged('mossmoon:evt_console_dead', 'delivered');
    await page.selectOption('#f-status', '');
    await page.click('#filters button');
    await page.waitForSelector('tr:has-text("mossmoon:evt_console_dead") .badge.delivered');
    assert.equal(deliveredCount('mossmoon:evt_console_dead'), 1);
    await page.screenshot({ path: join(shots, 'console-replayed.png'), fullPage: true });

    await page.selectOption('#f-source', 'nope-no-such').catch(() => {});
    await page.fill('#f-key', 'no-such-key');
    await page.click('#filters button');
    await page.waitForSelector('#events-message:has-text("No events match")');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, 'console-phone.png'), fullPage: true });

    // A token that stops working sends the user back to sign in, with a message: at the next
    // refresh of an open page, and on loading the page with it. (Two steps, each waited for: a
    // reload racing the page's own refresh would find the token already dropped.)
    await page.evaluate(() => sessionStorage.setItem('hookseal.adminToken', 'expired-token'));
    await page.waitForSelector('#signin:not([hidden])', { timeout: 15_000 });
    assert.match(await page.textContent('#signin-message'), /session ended.*refused/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookseal.adminToken')), null);
    await page.evaluate(() => sessionStorage.setItem('hookseal.adminToken', 'expired-token'));
    await page.reload();
    await page.waitForSelector('#signin:not([hidden])');
    assert.match(await page.textContent('#signin-message'), /token was refused/);
  } finally {
    await browser.close();
  }
});

test('load: 2,000 signed events with 20 % duplicates, every distinct one delivered exactly once', async () => {
  const distinct = 1600;
  const before = delivered.length;
  const bodies = Array.from({ length: distinct }, (_, i) => JSON.stringify({
    event: 'message.received', timestamp: '2026-11-22T17:00:00Z',
    data: { session_id: 'load', from: `5511${String(i).padStart(9, '0')}`, body: `load ${i} 👍`, message_id: `wamid.load${i}` },
  }));
  // A retry comes after the original was answered (as senders do): duplicates wait for theirs.
  const answered = bodies.map(() => { let r; const p = new Promise((x) => { r = x; }); return { p, r }; });
  const tasks = bodies.map((b, i) => async () => { const res = await post('load', b, signers.moltflow.sign(b)); answered[i].r(); return res; });
  for (let i = 0; i < 400; i++) {
    const j = (i * 7919) % distinct;
    tasks.push(async () => { await answered[j].p; return post('load', bodies[j], signers.moltflow.sign(bodies[j])); });
  }
  const statuses = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < tasks.length) {
      const t = tasks[next++];
      statuses.push((await t()).status);
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  assert.equal(statuses.length, 2000);
  assert.equal(statuses.filter((s) => s === 202).length, distinct);
  assert.equal(statuses.filter((s) => s === 200).length, 400);
  await until(`${distinct} load deliveries`, () => delivered.filter((d) => d.path === '/ok/load').length >= distinct, 180_000);
  await new Promise((r) => setTimeout(r, 2000));
  const ids = delivered.slice(before).filter((d) => d.path === '/ok/load').map((d) => d.id);
  assert.equal(ids.length, distinct, 'no event delivered twice');
  assert.equal(new Set(ids).size, distinct, 'every distinct event delivered');
  console.log(`# load: 2000 requests in ${elapsed.toFixed(1)} s (${Math.round(2000 / elapsed)} req/s through Miniflare)`);
});

test('retention: the cron trigger removes delivered events past EVENT_RETENTION_DAYS, never dead ones', async () => {
  await reconfigure(options({ vars: { EVENT_RETENTION_DAYS: '0' } }));
  try {
    const before = await admin('/admin/events?status=dead&limit=200');
    assert.ok(before.json.events.length >= 1);
    const worker = await mf.getWorker('hookseal');
    await worker.scheduled({ cron: '17 3 * * *' });
    assert.deepEqual((await admin('/admin/events?status=delivered')).json.events, [], 'delivered events removed');
    const after = await admin('/admin/events?status=dead&limit=200');
    assert.deepEqual(after.json.events.map((e) => e.id), before.json.events.map((e) => e.id), 'dead events kept');
  } finally {
    await reconfigure(options());
  }
});

test('one JSON log line per request and per delivery, never a secret or a body', () => {
  assert.ok(logs.length > 2000);
  assert.deepEqual(logs.filter((l) => l.unparsable), []);
  const ingest = logs.filter((l) => l.at === 'ingest');
  const deliver = logs.filter((l) => l.at === 'deliver');
  assert.ok(ingest.length >= 2000 && deliver.length >= 1600);
  for (const l of ingest) {
    assert.equal(typeof l.source, 'string');
    assert.equal(typeof l.status, 'number');
    assert.equal(typeof l.latencyMs, 'number');
    assert.ok(['accepted', 'duplicate', 'rejected', 'unavailable', 'unknown_source', 'config_error'].includes(l.outcome), l.outcome);
  }
  const accepted = ingest.find((l) => l.outcome === 'accepted' && l.source === 'mossmoon');
  assert.ok(accepted.events.every((e) => typeof e.type === 'string' && typeof e.dedupKey === 'string'));
  for (const l of deliver) {
    assert.ok(['delivered', 'retry', 'dead_letter', 'platform_retry'].includes(l.outcome), l.outcome);
    assert.equal(typeof l.dedupKey, 'string');
  }
  const all = JSON.stringify(logs);
  for (const secret of Object.values(SECRETS)) assert.ok(!all.includes(secret), 'a secret in the logs');
  assert.ok(!all.includes('Do you have this in blue'), 'a body in the logs');
});
