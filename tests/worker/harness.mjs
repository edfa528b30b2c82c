// What the Worker's end-to-end suites share: the built Worker (worker/build) under workerd via
// Miniflare, with real KV, Queues, D1 (the event log, worker/migrations applied) and R2, behind
// the instrumented entry (./instrument.mjs: binding calls counted, failures injected); a real
// local HTTP destination that verifies every delivery's Standard Webhooks signature; a second,
// tiny Worker that reports what lands on the outbox queue; signers and helpers.
//
// Each suite file calls `start()` in `before` and `stop()` in `after`; `reconfigure()` restarts
// the Worker with other options (KV, D1 and R2 persist across it; queued messages do not).
import http from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { Webhook } from 'hookseal';
import { root } from '../js/harness.mjs';
import { instrumentedEntry } from './instrument.mjs';

export { root };
export const build = join(root, 'worker/build');
export const SECRETS = {
  MOLTFLOW_SECRET: 'moltflow-e2e-secret-1',
  MOSSMOON_SECRET: 'mossmoon-e2e-secret-1',
  META_APP_SECRET: 'meta-e2e-app-secret',
  META_VERIFY_TOKEN: 'meta-e2e-verify-token',
  STD_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  DELIVERY_SECRET: 'whsec_ZTJlLWRlbGl2ZXJ5LXNlY3JldC0xMjM0NQ==',
  CRM_SECRET: 'whsec_Y3JtLWRlbGl2ZXJ5LXNlY3JldC0wMTIzNDU2Nzg5',
  ALERT_SECRET: 'whsec_ZTJlLWFsZXJ0LXNlY3JldC0wMTIzNDU2Nzg5YWI=',
  ADMIN_TOKEN: 'admin-e2e-token-0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'twilio-e2e-auth-token-0123456789',
  VONAGE_SIGNATURE_SECRET: 'vonage-e2e-signature-secret',
  SLACK_WEBHOOK_URL: '', // set once the destination listens
  HUBSPOT_TOKEN: 'hubspot-e2e-private-app-token',
};
export const MAX_BODY = 65_536;
export const MAX_ATTEMPTS = 4;

// --- the destination: verifies, records, and fails on demand --------------------------------
export const state = {
  delivered: [], // { path, id, key, body, headers } for every verified 2xx delivery
  raw: [], // { path, body, headers } for every request to /slack and /crm (not signed that way)
  hits: new Map(), // webhook-id -> attempts seen (any status)
  badSignatures: [],
  logs: [], // the Worker's structured log lines, parsed
  outbox: [],
  alerts: [],
  arrivals: [], // { path, key, at, status } for every verified request, whatever its answer
  switchDown: true, // the /switch destination is down until a test brings it up
  inFlight: 0,
  maxInFlight: 0,
};
const deliveryCheck = new Webhook('standard-webhooks', SECRETS.DELIVERY_SECRET);
const crmCheck = new Webhook('standard-webhooks', SECRETS.CRM_SECRET);
const alertCheck = new Webhook('standard-webhooks', SECRETS.ALERT_SECRET);

/** The dedup key in a `webhook-id` (`{source}:{dedupKey}`). */
export const keyOf = (id) => id.slice(id.indexOf(':') + 1);

const destination = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  if (req.url === '/outbox') {
    state.outbox.push(JSON.parse(body));
    return res.writeHead(200).end();
  }
  if (req.url.startsWith('/slack') || req.url.startsWith('/template')) {
    state.raw.push({ path: req.url, body: body.toString(), headers: req.headers });
    return res.writeHead(200).end();
  }
  if (req.url.startsWith('/redirect')) {
    state.raw.push({ path: req.url, body: body.toString(), headers: req.headers });
    return res.writeHead(req.url.includes('307') ? 307 : 301, { location: `http://127.0.0.1:9/elsewhere/secret-path?token=1` }).end();
  }
  let id;
  try {
    const check = req.url === '/alert' ? alertCheck : req.url.startsWith('/crm') ? crmCheck : deliveryCheck;
    id = check.verify(body, req.headers).id;
  } catch (e) {
    state.badSignatures.push(`${req.url}: ${e.code}`);
    return res.writeHead(401).end();
  }
  const n = (state.hits.get(id) ?? 0) + 1;
  state.hits.set(id, n);
  const arrival = { path: req.url, key: keyOf(id), at: Date.now(), body: JSON.parse(body) };
  state.arrivals.push(arrival);
  // A 429 with Retry-After: 2 to each event's first request.
  if (req.url.startsWith('/tooearly') && n === 1) {
    arrival.status = 429;
    return res.writeHead(429, { 'retry-after': '2' }).end();
  }
  // The first request of every event whose id ends in 3 or 7 fails.
  if (req.url.startsWith('/flakyorder') && n === 1 && /[37]$/.test(keyOf(id))) {
    arrival.status = 503;
    return res.writeHead(503).end();
  }
  const flaky = req.url.match(/^\/flaky\/(\d+)/);
  if (flaky && n <= Number(flaky[1])) return res.writeHead(n % 2 ? 503 : 429).end();
  if (req.url.startsWith('/gone')) return res.writeHead(410).end();
  if (req.url.startsWith('/switch') && state.switchDown) return res.writeHead(503).end();
  if (req.url === '/alert') {
    state.alerts.push(JSON.parse(body));
    return res.writeHead(200).end();
  }
  if (req.url.startsWith('/down')) return res.writeHead(503).end();
  if (req.url.startsWith('/slow')) {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((r) => setTimeout(r, 300));
    state.inFlight--;
  }
  state.delivered.push({ path: req.url, id, key: keyOf(id), body: JSON.parse(body), headers: req.headers });
  res.writeHead(200).end();
});

export let mf;
export let base;
export let dest;
let persist;

/** The sources every suite can use. */
export function sources() {
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
    redirect: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/redirect/301') },
    redirect307: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/redirect/307') },
    // Per-source body limits above the suite's small MAX_BODY_BYTES.
    bigmeta: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: to('/ok/bigmeta'), maxBodyBytes: 4 * 1024 * 1024 },
    big: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/big'), maxBodyBytes: 4 * 1024 * 1024 },
    bighold: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], maxBodyBytes: 4 * 1024 * 1024 },
    // Routes: everything to the CRM, urgent messages to Slack too.
    shop: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [
      { to: 'crm' },
      { to: 'ops-slack', filter: { type: 'message.received', message: { text: { $regex: '(?i)urgent' } } } },
    ] },
    fanout: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'good' }, { to: 'bad' }] },
    picky: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'good', filter: { type: 'never.this' } }] },
    notes: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'crm-notes' }] },
    // Misconfigured on purpose: its secret is not set.
    unset: { scheme: 'mossmoon', secrets: ['NEVER_SET_SECRET'], destination: to('/ok/unset') },
  };
}

/** The destinations of the routes above. */
export function destinations() {
  const to = (path) => `${dest}${path}`;
  return {
    crm: { url: to('/crm/contacts?portal=42'), secret: 'CRM_SECRET' },
    'ops-slack': { kind: 'slack', urlSecret: 'SLACK_WEBHOOK_URL' },
    good: { url: to('/ok/good') },
    bad: { url: to('/switch/bad') },
    'crm-notes': {
      kind: 'template', url: to('/template/notes'),
      headers: { Authorization: { secret: 'HUBSPOT_TOKEN', prefix: 'Bearer ' }, 'X-Source': 'hookseal' },
      body: { properties: { hs_note_body: 'WhatsApp from {{ message.sender }}: {{ message.text }}', hs_timestamp: '{{ receivedAt }}', source: '{{ source }}' } },
    },
  };
}

/**
 * Miniflare options. `without` drops a binding; `faults` (such as 'kv.get:1' or
 * 'queue.send:2,d1.update:1') makes those calls fail (./instrument.mjs); `vars` with an undefined
 * value removes that var; `sourcesWith`/`destinationsWith` add to the tables (either may be a
 * function of `to(path)`, the local destination's URL of a path); `gates` binds the destinations'
 * Durable Objects (GATE).
 */
export function options({ without = [], vars = {}, faults = '', sourcesWith = {}, destinationsWith = {}, gates = false, logs = [] } = {}) {
  const producers = { EVENTS: { queueName: 'hookseal-events' }, OUTBOX: { queueName: 'hookseal-outbox' }, DEAD_LETTER: { queueName: 'hookseal-dead-letter' } };
  for (const b of without) delete producers[b];
  const bindings = {
    // A function of the destination's URL builder, when the sources need the destination.
    SOURCES: { ...sources(), ...(typeof sourcesWith === 'function' ? sourcesWith((path) => `${dest}${path}`) : sourcesWith) },
    DESTINATIONS: { ...destinations(), ...(typeof destinationsWith === 'function' ? destinationsWith((path) => `${dest}${path}`) : destinationsWith) },
    ...SECRETS, SLACK_WEBHOOK_URL: `${dest}/slack/T000/B000/secret-part`,
    MAX_BODY_BYTES: String(MAX_BODY), DEDUP_TTL_SECONDS: '259200',
    DELIVERY_MAX_ATTEMPTS: String(MAX_ATTEMPTS), DELIVERY_BACKOFF_SECONDS: '0',
    ALERT_URL: `${dest}/alert`, LEASE_SECONDS: '1', JOB_LEASE_SECONDS: '30',
    ...vars,
  };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const modules = [
    { type: 'ESModule', path: join(build, 'instrumented.js'), contents: instrumentedEntry(faults) },
    { type: 'ESModule', path: join(build, 'index.js') },
    { type: 'CompiledWasm', path: join(build, 'index_bg.wasm') },
  ];
  return convertV4MiniflareOptions({
    cf: false,
    defaultPersistRoot: persist,
    handleStructuredLogs: ({ message }) => {
      try {
        state.logs.push(JSON.parse(message));
      } catch {
        state.logs.push({ unparsable: message });
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
        // EVENT_LOG, and the further logs sources name (`log`).
        d1Databases: [...(without.includes('EVENT_LOG') ? [] : ['EVENT_LOG']), ...logs],
        r2Buckets: without.includes('MEDIA') ? [] : ['MEDIA'],
        // The destinations' gates (Durable Objects with SQLite), for the suites that want them.
        durableObjects: gates ? { GATE: { className: 'Gate', useSQLite: true } } : {},
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

/** Starts the destination and the Worker; applies the migrations. */
export async function start(opts) {
  await new Promise((r) => destination.listen(0, '127.0.0.1', r));
  dest = `http://127.0.0.1:${destination.address().port}`;
  persist = mkdtempSync(join(tmpdir(), 'hookseal-e2e-'));
  mf = new Miniflare(options(opts));
  base = await mf.ready;
  await migrate();
  for (const name of opts?.logs ?? []) await migrate(name);
}

export async function stop() {
  await mf?.dispose();
  destination.close();
  rmSync(persist, { recursive: true, force: true });
}

/**
 * Restarts the Worker with other options. Miniflare then listens on a new port: `base` follows,
 * for the tests that use real sockets (the CLI, the browser).
 */
export async function reconfigure(opts) {
  await mf.setOptions(opts);
  base = await mf.ready;
}

/** Applies worker/migrations to a local D1 database, as `make dev` does with wrangler. */
export async function migrate(name = 'EVENT_LOG') {
  const db = await mf.getD1Database(name);
  const dir = join(root, 'worker/migrations');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(dir, file), 'utf8').replace(/--.*$/gm, '');
    const statements = sql.split(';').map((x) => x.trim()).filter(Boolean);
    await db.batch(statements.map((x) => db.prepare(x)));
  }
}

/** Runs the cron sweep once. */
export async function sweep() {
  const worker = await mf.getWorker('hookseal');
  await worker.scheduled({ cron: '* * * * *' });
}

/** A call of the admin API with the token (or `token`, or none when null). */
export async function admin(path, { method = 'GET', body, token = SECRETS.ADMIN_TOKEN, raw = false } = {}) {
  const headers = token === null ? {} : { authorization: `Bearer ${token}` };
  const res = await mf.dispatchFetch(new URL(path, base), { method, body: body === undefined ? undefined : raw ? body : JSON.stringify(body), headers });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

/** The instrumented entry's counts of binding calls. */
export async function counts() {
  return (await mf.dispatchFetch(new URL('/__instrument/counts', base))).json();
}

export async function resetCounts() {
  await mf.dispatchFetch(new URL('/__instrument/reset', base), { method: 'POST' });
}

/** The next request's invocation dies once it has answered (what it left for later is lost). */
export async function dieAfterAnswer() {
  await mf.dispatchFetch(new URL('/__instrument/die-after-answer', base), { method: 'POST' });
}

/** Replaces the fault plan at run time. */
export async function setFaults(plan) {
  await mf.dispatchFetch(new URL('/__instrument/faults', base), { method: 'POST', body: JSON.stringify(plan) });
}

export const signers = {
  moltflow: new Webhook('moltflow', SECRETS.MOLTFLOW_SECRET),
  mossmoon: new Webhook('mossmoon', SECRETS.MOSSMOON_SECRET),
  meta: new Webhook('meta', SECRETS.META_APP_SECRET),
  std: new Webhook('standard-webhooks', SECRETS.STD_SECRET),
  twilio: new Webhook('twilio', SECRETS.TWILIO_AUTH_TOKEN),
  vonage: new Webhook('vonage', SECRETS.VONAGE_SIGNATURE_SECRET),
};

export async function post(source, body, headers) {
  const res = await mf.dispatchFetch(new URL(`/webhooks/${source}`, base), { method: 'POST', body, headers });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.status, json, headers: res.headers };
}

export async function until(what, check, timeout = 60_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const fixtures = (dir) => readdirSync(join(root, 'tests/events', dir)).filter((f) => /\.(json|txt)$/.test(f)).sort()
  .map((f) => readFileSync(join(root, 'tests/events', dir, f)));

/** The logged event with this dedup key, through the admin API. */
export async function logged(key) {
  const { json } = await admin(`/admin/events?key=${encodeURIComponent(key)}`);
  return json.events?.[0];
}

export async function untilLogged(key, status, timeout = 60_000) {
  let row;
  const start = Date.now();
  while (!(row = await logged(key)) || row.status !== status) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${key} to be ${status} (is ${row?.status})`);
    await sleep(200);
  }
  return row;
}

export const mossmoonEvent = (id, text) => text === undefined
  ? `{"event":"line.ready","id":"${id}","line_id":"ln_1"}`
  : JSON.stringify({ event: 'message.received', id, line_id: 'ln_1', message: { id: `msg_${id}`, from: '+15559876543', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });

/** Deliveries of an event (by dedup key) that arrived, at any path or one. */
export const deliveredCount = (key, path) => state.delivered.filter((d) => d.key === key && (!path || d.path.startsWith(path))).length;
export const deliveredKeys = (prefix) => state.delivered.filter((d) => d.key.startsWith(prefix)).map((d) => d.key);

/** A Meta body with `n` statuses, each with its own wamid (`tag` keeps bodies apart). */
export function metaStatuses(n, tag) {
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
export function metaMessages(texts, tag) {
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
