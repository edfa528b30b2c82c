// What an event costs on Cloudflare: the built Worker under workerd (Miniflare, real local KV,
// Queues, D1 and R2) behind an instrumented entry (tests/worker/instrument.mjs) that counts every
// binding call: KV reads and writes, D1 statements with D1's own rows_read and rows_written,
// Queue messages written, read and acknowledged, outbound fetches and invocations. For each
// scenario it writes the counts per event, and from them the events a day each Free-plan limit
// allows and the dollars per million events on the Paid plan, by product.
//
//   node bench/cost.mjs [--build DIR] [--label NAME] [--cron-per-day N] [--no-fanout] [--no-gates] [--out FILE]
//
// --build points at another build of the Worker (default worker/build), so a revision can be
// measured as the baseline; --cron-per-day is how often its cron trigger runs (default: read
// from worker/wrangler.toml); --no-gates skips the destinations' gates (a build without them).
// Writes bench/results/cost.json (or FILE).
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { Webhook } from 'hookseal';
import { environment } from './env.mjs';
import { instrumentedEntry } from '../tests/worker/instrument.mjs';
import { PRICES, FREE, costOf } from './prices.mjs';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const bench = fileURLToPath(new URL('.', import.meta.url));
const root = join(bench, '..');
const BUILD = arg('build', join(root, 'worker/build'));
const LABEL = arg('label', 'this build');
const FANOUT = !args.includes('--no-fanout');
const OUT = arg('out', join(bench, 'results/cost.json'));
const N = 20; // events per scenario

/** Cron runs a day, from the first `crons` entry of wrangler.toml (minute field only). */
function cronPerDay() {
  if (arg('cron-per-day')) return Number(arg('cron-per-day'));
  const toml = readFileSync(join(root, 'worker/wrangler.toml'), 'utf8');
  const cron = toml.match(/crons\s*=\s*\[\s*"([^"]+)"/)?.[1] ?? '';
  const [minute, hour] = cron.split(/\s+/);
  const per = (f, n) => (f === '*' ? n : f.startsWith('*/') ? n / Number(f.slice(2)) : f.split(',').length);
  return per(minute, 60) * per(hour, 24);
}
const CRON_PER_DAY = cronPerDay();

const SECRETS = {
  MOSSMOON_SECRET: 'bench-cost-mossmoon-secret-1',
  META_APP_SECRET: 'bench-cost-meta-secret-1',
  DELIVERY_SECRET: 'whsec_YmVuY2gtY29zdC1kZWxpdmVyeS1zZWNyZXQ=',
  ADMIN_TOKEN: 'bench-cost-admin-token-0123456789abcdef',
};
const mossmoon = new Webhook('mossmoon', SECRETS.MOSSMOON_SECRET);
const meta = new Webhook('meta', SECRETS.META_APP_SECRET);

// The destination: 2xx, except /flaky2, which fails each id's first two attempts.
const seen = new Map(); // path -> count of 2xx
const tries = new Map();
const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const id = req.headers['webhook-id'] ?? '';
  const n = (tries.get(id) ?? 0) + 1;
  tries.set(id, n);
  if (req.url.startsWith('/flaky2') && n <= 2) return res.writeHead(503).end();
  const path = req.url.split('/').slice(0, 3).join('/');
  seen.set(path, (seen.get(path) ?? 0) + 1);
  res.writeHead(200).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const got = (path) => seen.get(path) ?? 0;
const dest = `http://127.0.0.1:${server.address().port}`;

function options(log, persist, vars = {}, gates = false) {
  const sources = {
    mossmoon: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: `${dest}/ok/one` },
    flaky: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: `${dest}/flaky2` },
    meta: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: `${dest}/ok/meta` },
  };
  const bindings = { ...SECRETS, SOURCES: sources, LOG_LEVEL: 'warn', DELIVERY_BACKOFF_SECONDS: '0', ...vars };
  if (FANOUT) {
    sources.fanout = { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'a' }, { to: 'b' }] };
    bindings.DESTINATIONS = { a: { url: `${dest}/ok/a` }, b: { url: `${dest}/ok/b` } };
  }
  if (gates) {
    sources.gated = { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'g' }] };
    bindings.DESTINATIONS = { ...bindings.DESTINATIONS, g: { url: `${dest}/ok/g` } };
  }
  const modules = [
    { type: 'ESModule', path: join(BUILD, 'instrumented.js'), contents: instrumentedEntry() },
    { type: 'ESModule', path: join(BUILD, 'index.js') },
    { type: 'CompiledWasm', path: join(BUILD, 'index_bg.wasm') },
  ];
  return convertV4MiniflareOptions({
    cf: false,
    defaultPersistRoot: persist,
    handleStructuredLogs: ({ message }) => { if (process.env.COST_LOGS) console.log('worker:', message); },
    workers: [{
      name: 'hookseal', modulesRoot: BUILD, modules, compatibilityDate: '2026-11-01', bindings,
      kvNamespaces: ['DEDUP'],
      d1Databases: log ? ['EVENT_LOG'] : [],
      r2Buckets: ['MEDIA'],
      durableObjects: gates ? { GATE: { className: 'Gate', useSQLite: true } } : {},
      queueProducers: { EVENTS: { queueName: 'hookseal-events' }, OUTBOX: { queueName: 'hookseal-outbox' }, DEAD_LETTER: { queueName: 'hookseal-dead-letter' } },
      queueConsumers: {
        'hookseal-events': { maxBatchSize: 50, maxBatchTimeout: 1, maxRetries: 5, deadLetterQueue: 'hookseal-dead-letter' },
        'hookseal-dead-letter': { maxBatchSize: 50, maxBatchTimeout: 1, maxRetries: 100 },
      },
    }],
  });
}

async function migrate(mf) {
  const db = await mf.getD1Database('EVENT_LOG');
  const dir = join(root, 'worker/migrations');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(dir, file), 'utf8').replace(/--.*$/gm, '');
    const statements = sql.split(';').map((x) => x.trim()).filter(Boolean);
    await db.batch(statements.map((x) => db.prepare(x)));
  }
}

let tag = 0;
const fresh = () => `evt_cost_${Date.now()}_${tag++}`;
const mossmoonBody = (id) => JSON.stringify({ event: 'message.received', id, line_id: 'ln_cost',
  message: { id: `msg_${id}`, from: '+15559876543', type: 'text', text: 'Olá! Tem em azul? 💙', received_at: '2026-11-22T17:00:00Z' } });
const metaStatuses = (n, t) => JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
  messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
  statuses: Array.from({ length: n }, (_, i) => ({ id: `wamid.${t}.${i}`, status: 'delivered', timestamp: '1781275331', recipient_id: '15559876543' })) } }] }] });

/**
 * Retention, per event deleted: a fresh log holding only events delivered at their first
 * attempt, swept with EVENT_RETENTION_DAYS = 0.
 */
async function retention() {
  const persist = mkdtempSync(join(tmpdir(), 'hookseal-cost-'));
  const mf = new Miniflare(options(true, persist));
  let base = await mf.ready;
  await migrate(mf);
  const total = async () => (await (await mf.getD1Database('EVENT_LOG')).prepare('SELECT COUNT(*) AS n FROM events').first()).n;
  const before = got('/ok/one');
  for (let i = 0; i < N + 1; i++) {
    const b = mossmoonBody(fresh());
    const res = await mf.dispatchFetch(new URL('/webhooks/mossmoon', base), { method: 'POST', body: b, headers: mossmoon.sign(b) });
    await res.arrayBuffer();
  }
  while (got('/ok/one') < before + N + 1) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500));
  // The sweep that counts them, then retention's own run (EVENT_RETENTION_DAYS = 0).
  await (await mf.getWorker('hookseal')).scheduled({ cron: '* * * * *' });
  await mf.setOptions(options(true, persist, { EVENT_RETENTION_DAYS: '0' }));
  base = await mf.ready;
  const n = await total();
  await (await mf.getWorker('hookseal')).scheduled({ cron: '* * * * *' });
  const deleted = n - (await total());
  const counts = await (await mf.dispatchFetch(new URL('/__instrument/counts', base))).json();
  await mf.dispose();
  rmSync(persist, { recursive: true, force: true });
  console.log(`log on  retention: ${deleted} deleted, ${JSON.stringify(counts)}`);
  return { events: deleted, counts };
}

async function run(log) {
  const persist = mkdtempSync(join(tmpdir(), 'hookseal-cost-'));
  const mf = new Miniflare(options(log, persist));
  let base = await mf.ready;
  if (log) await migrate(mf);
  const call = async (path, init) => (await mf.dispatchFetch(new URL(path, base), init)).json();
  const postWith = async (source, body, headers) => {
    const res = await mf.dispatchFetch(new URL(`/webhooks/${source}`, base), { method: 'POST', body, headers });
    await res.arrayBuffer();
    return res.status;
  };
  const post = (source, body, signer) => postWith(source, body, signer.sign(body));
  const counts = () => call('/__instrument/counts');
  const reset = () => call('/__instrument/reset', { method: 'POST' });
  const cron = async () => (await mf.getWorker('hookseal')).scheduled({ cron: '* * * * *' });
  /** Waits until `check()` holds, then until the counts stop changing for 1.5 s. */
  async function settle(check) {
    const start = Date.now();
    while (!check()) {
      if (Date.now() - start > 60_000) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
    let last = JSON.stringify(await counts());
    for (;;) {
      await new Promise((r) => setTimeout(r, 1500));
      const now = JSON.stringify(await counts());
      if (now === last) return JSON.parse(now);
      last = now;
    }
  }
  const scenarios = {};
  async function scenario(name, events, fn) {
    await reset();
    const counted = await fn();
    scenarios[name] = { events, counts: counted };
    console.log(`${log ? 'log on ' : 'log off'} ${name}: ${JSON.stringify(counted)}`);
  }
  const bodies = Array.from({ length: N }, () => mossmoonBody(fresh()));

  await scenario('new event, delivered once', N, async () => {
    const before = got('/ok/one');
    for (const b of bodies) if (await post('mossmoon', b, mossmoon) !== 202) throw new Error('not accepted');
    return settle(() => got('/ok/one') >= before + N);
  });
  // The sweep after traffic: it counts what arrived into the hourly tallies. A fixed cost per
  // run (a row per source, kind and hour touched, the cursor, each destination's latest), paid
  // whether a minute brought one event or a thousand.
  await scenario('cron run after traffic', 1, async () => {
    await cron();
    return settle(() => true);
  });
  await scenario('cron run with nothing to do', 1, async () => {
    await cron();
    return settle(() => true);
  });
  await scenario('duplicate', N, async () => {
    for (const b of bodies) if (await post('mossmoon', b, mossmoon) !== 200) throw new Error('not a duplicate');
    return settle(() => true);
  });
  await scenario('forgery', N, async () => {
    for (const b of bodies) if (await postWith('mossmoon', b.replace('Olá', 'Oi'), mossmoon.sign(b)) !== 401) throw new Error('not refused');
    return settle(() => true);
  });
  await scenario('event retried twice', N, async () => {
    const before = got('/flaky2');
    for (let i = 0; i < N; i++) if (await post('flaky', mossmoonBody(fresh()), mossmoon) !== 202) throw new Error('not accepted');
    return settle(() => got('/flaky2') >= before + N);
  });
  await scenario('Meta body of 100 statuses (per status)', 100, async () => {
    const before = got('/ok/meta');
    if (await post('meta', metaStatuses(100, fresh()), meta) !== 202) throw new Error('not accepted');
    return settle(() => got('/ok/meta') >= before + 100);
  });
  if (FANOUT) {
    await scenario('event fanned out to two destinations', N, async () => {
      const before = got('/ok/a') + got('/ok/b');
      for (let i = 0; i < N; i++) if (await post('fanout', mossmoonBody(fresh()), mossmoon) !== 202) throw new Error('not accepted');
      return settle(() => got('/ok/a') + got('/ok/b') >= before + 2 * N);
    });
  }

  await mf.dispose();
  rmSync(persist, { recursive: true, force: true });
  return scenarios;
}

/**
 * With the destinations' gates (Durable Objects): a new event delivered once through its
 * destination's gate, counting the gate's requests and alarms, its D1 calls, and its own
 * storage's rows (which the gate reports).
 */
async function gated() {
  const persist = mkdtempSync(join(tmpdir(), 'hookseal-cost-'));
  const mf = new Miniflare(options(true, persist, {}, true));
  const base = await mf.ready;
  await migrate(mf);
  const call = async (path, init) => (await mf.dispatchFetch(new URL(path, base), init)).json();
  const storage = async () => {
    const { destinations } = await call('/admin/destinations', { headers: { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` } });
    return destinations.find((d) => d.name === 'g').gate?.storageRows ?? { read: 0, written: 0 };
  };
  // One event first: the gate's table made, its alarm learned.
  const warm = mossmoonBody(fresh());
  await (await mf.dispatchFetch(new URL('/webhooks/gated', base), { method: 'POST', body: warm, headers: mossmoon.sign(warm) })).arrayBuffer();
  while (got('/ok/g') < 1) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500));
  const rowsBefore = await storage();
  await call('/__instrument/reset', { method: 'POST' });
  const before = got('/ok/g');
  for (let i = 0; i < N; i++) {
    const b = mossmoonBody(fresh());
    const res = await mf.dispatchFetch(new URL('/webhooks/gated', base), { method: 'POST', body: b, headers: mossmoon.sign(b) });
    await res.arrayBuffer();
  }
  while (got('/ok/g') < before + N) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000));
  const counts = await call('/__instrument/counts');
  const rowsAfter = await storage();
  // The storage reads of the admin call itself are the gate's too: a few rows, left in.
  counts['do.rowsRead'] = rowsAfter.read - rowsBefore.read;
  counts['do.rowsWritten'] = rowsAfter.written - rowsBefore.written;
  await mf.dispose();
  rmSync(persist, { recursive: true, force: true });
  console.log(`log on, gated new event, delivered once: ${JSON.stringify(counts)}`);
  return { 'new event, delivered once': { events: N, counts } };
}

/** Per-event figures of a scenario's raw counts. */
function perEvent({ events, counts }) {
  const c = (k) => (counts[k] ?? 0) / Math.max(events, 1);
  return {
    kvReads: c('kv.reads'),
    kvWrites: c('kv.writes') + c('kv.deletes') + c('kv.lists'),
    d1Statements: c('d1.statements'),
    d1RowsRead: c('d1.rowsRead'),
    d1RowsWritten: c('d1.rowsWritten'),
    queueOps: c('queue.written') + c('queue.read') + c('queue.acked'),
    subrequests: c('subrequests'),
    invocations: c('invocations.fetch') + c('invocations.queue') + c('invocations.scheduled'),
    r2ClassA: c('r2.classA'),
    r2ClassB: c('r2.classB'),
    doRequests: c('do.requests') + c('do.alarms'),
    doRowsRead: c('do.rowsRead'),
    doRowsWritten: c('do.rowsWritten'),
  };
}

const configs = {};
if (!args.includes('--no-gates')) {
  const scenarios = await gated();
  const out = {};
  for (const [name, s] of Object.entries(scenarios)) out[name] = { events: s.events, raw: s.counts, perEvent: perEvent(s) };
  configs['log on, through a gate'] = { scenarios: out, lifetime: out['new event, delivered once'].perEvent };
}
for (const log of [true, false]) {
  const scenarios = await run(log);
  if (log) scenarios['retention (per event deleted)'] = await retention();
  const out = {};
  for (const [name, s] of Object.entries(scenarios)) out[name] = { events: s.events, raw: s.counts, perEvent: perEvent(s) };
  // One event's whole life with the log on: accepted and delivered once, then retention.
  const life = { ...out['new event, delivered once'].perEvent };
  const ret = out['retention (per event deleted)']?.perEvent;
  if (ret) for (const k of Object.keys(life)) life[k] += k === 'invocations' ? 0 : ret[k];
  // Every cron run as costly as one after traffic (a busy Worker's minutes all bring some).
  const sweep = out['cron run after traffic'].perEvent;
  const fixedPerDay = Object.fromEntries(Object.entries(sweep).map(([k, v]) => [k, v * CRON_PER_DAY]));
  configs[log ? 'log on' : 'log off'] = { scenarios: out, lifetime: life, cost: costOf(life, fixedPerDay), fixedPerDay };
}
server.close();
const doc = { ...environment(['miniflare']), label: LABEL, cronPerDay: CRON_PER_DAY, prices: PRICES, free: FREE, date: new Date().toISOString(), configs };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(OUT, JSON.stringify(doc, null, 1));
// The gated event's lifetime: its own counts, plus the same sweep and retention as the log's.
const gate = configs['log on, through a gate'];
if (gate) {
  const on = configs['log on'];
  const ret = on.scenarios['retention (per event deleted)']?.perEvent ?? {};
  for (const [k, v] of Object.entries(ret)) if (k !== 'invocations') gate.lifetime[k] = (gate.lifetime[k] ?? 0) + v;
  gate.fixedPerDay = on.fixedPerDay;
  gate.cost = costOf(gate.lifetime, on.fixedPerDay);
}
for (const [name, c] of Object.entries(configs)) {
  console.log(`${name}: $${c.cost.paidPerMillion.total.toFixed(2)} per million events on Paid; ${Math.floor(c.cost.freePerDay.min).toLocaleString()} events a day on Free (${c.cost.freePerDay.limitedBy})`);
}
console.log(`wrote ${OUT}`);
