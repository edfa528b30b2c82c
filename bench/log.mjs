// The event log as it grows, and how much one database takes: the built Worker under Miniflare
// (real local D1) behind the counting entry (tests/worker/instrument.mjs).
//
// 1. The log at 10,000 and at 1,000,000 events (spread over 7 days, 1 % of them with a dead
//    delivery): the console's poll (`GET /admin/sources`, `/admin/destinations`), the admin
//    list with each of its filters, and a sweep with nothing new, each timed (median of 5) with
//    D1's own `rows_read`. The events are inserted in bulk, then counted by the real sweep
//    (which takes 50,000 a run) before anything is measured.
// 2. How much one database takes, locally: whole signed deliveries posted to the Worker by 1
//    and by 32 concurrent senders for a few seconds (events accepted a second, each verified,
//    inserted, answered, attempted at a local destination and settled), with D1 statements a
//    second counted, against one database and spread over two (a source with its own `log`).
//    Locally Miniflare's one process runs the Worker and every database, so this is the local
//    ceiling, not Cloudflare's.
//
//   node bench/log.mjs [--sizes 10000,1000000] [--seconds 5]
//
// Writes bench/results/log.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as h from '../tests/worker/harness.mjs';
import { environment } from './env.mjs';
import { median } from './common.mjs';

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const SIZES = arg('sizes', '10000,1000000').split(',').map(Number);
const SECONDS = Number(arg('seconds', 5));
const bench = fileURLToPath(new URL('.', import.meta.url));
const DAY = 86_400_000;
const SPAN = 7 * DAY;

// What the console polls every 5 s, and the admin list with each of its filters.
const PATHS = [
  '/admin/sources',
  '/admin/destinations',
  '/admin/events?limit=50',
  '/admin/events?source=mossmoon&limit=50',
  '/admin/events?type=message.received&limit=50',
  '/admin/events?type=no.such.type',
  '/admin/events?status=dead&limit=50',
  '/admin/events?source=mossmoon&destination=mossmoon&limit=50',
];

/** Grows the log to `total` events: delivered ones, and every 100th dead at its destination. */
async function grow(db, from, total) {
  const now = Date.now();
  for (let lo = from; lo < total; lo += 100_000) {
    const hi = Math.min(total, lo + 100_000) - 1;
    // Spread evenly over the last 7 days, oldest first (ids are chronological).
    await db.prepare(`INSERT INTO events (source, dedup_key, type, received_at, envelope, routes, owed, first_ok, first_status, settled_at)
      WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
      SELECT 'mossmoon', 'scale:' || i, CASE i % 3 WHEN 0 THEN 'message.received' WHEN 1 THEN 'message.status' ELSE 'line.ready' END,
        ?3 + i * ?4, '{"type":"message.received"}', '["mossmoon"]', 0, CASE WHEN i % 100 = 0 THEN 0 ELSE 1 END,
        CASE WHEN i % 100 = 0 THEN '{"mossmoon":503}' ELSE '{"mossmoon":200}' END, ?3 + i * ?4 FROM n`)
      .bind(lo, hi, now - SPAN, Math.floor(SPAN / total)).run();
    await db.prepare(`INSERT INTO deliveries (event_id, destination, status, attempts, next_at, horizon_from, last_attempt_at, last_status, last_error, updated_at)
      SELECT id, 'mossmoon', 'dead', 12, NULL, received_at, received_at, 503, 'HTTP 503', received_at FROM events
      WHERE id >= (SELECT id FROM events WHERE dedup_key = 'scale:' || ?1 AND source = 'mossmoon') AND first_ok = 0`).bind(lo).run();
  }
}

/** The sweep until it has counted every event (it counts up to 50,000 a run). */
async function countAll(db) {
  const last = (await db.prepare('SELECT MAX(id) AS n FROM events').first()).n;
  let runs = 0;
  const start = Date.now();
  for (;;) {
    const c = await db.prepare("SELECT value FROM cursors WHERE name = 'owed'").first();
    if ((c?.value ?? 0) > last) break;
    await h.sweep();
    runs++;
  }
  return { runs, ms: Date.now() - start };
}

/** Each path's median time over 5 calls and its rows read (the same every call). */
async function measure() {
  const out = {};
  const timed = async (label, fn) => {
    const ms = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      await h.resetCounts();
      const t = performance.now();
      await fn();
      ms.push(performance.now() - t);
      rows = (await h.counts())['d1.rowsRead'] ?? 0;
    }
    out[label] = { ms: Math.round(median(ms) * 10) / 10, rowsRead: rows };
  };
  for (const p of PATHS) {
    await timed(`GET ${p}`, async () => {
      const res = await h.admin(p);
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${JSON.stringify(res.json)}`);
    });
  }
  await timed('the sweep, nothing new', () => h.sweep());
  return out;
}

async function scale() {
  await h.start();
  const results = [];
  try {
    const db = await h.mf.getD1Database('EVENT_LOG');
    let have = 0;
    for (const size of SIZES) {
      const t = Date.now();
      await grow(db, have, size);
      have = size;
      const n = (await db.prepare('SELECT COUNT(*) AS n FROM events').first()).n;
      if (n !== size) throw new Error(`seeded ${n} events, not ${size}`);
      const seeded = Date.now() - t;
      const counted = await countAll(db);
      const paths = await measure();
      results.push({ events: size, seedMs: seeded, sweepRunsToCount: counted.runs, sweepMsToCount: counted.ms, paths });
      console.log(`log of ${size.toLocaleString('en-US')} events (seeded in ${seeded} ms, counted by ${counted.runs} sweeps in ${counted.ms} ms):`);
      for (const [p, r] of Object.entries(paths)) console.log(`  ${p.padEnd(70)} ${String(r.ms).padStart(7)} ms  ${String(r.rowsRead).padStart(6)} rows read`);
    }
  } finally {
    await h.stop();
  }
  return results;
}

/** Calls `fn` from `c` concurrent loops for SECONDS; how many calls a second completed. */
async function hammer(c, fn) {
  const end = Date.now() + SECONDS * 1000;
  let n = 0;
  const start = Date.now();
  await Promise.all(Array.from({ length: c }, async () => {
    while (Date.now() < end) {
      await fn();
      n++;
    }
  }));
  return Math.round((n / (Date.now() - start)) * 1000);
}

async function ceiling() {
  // Two sources on two databases (the second names its own `log`), each delivering to a local
  // destination that answers 200 at once.
  await h.start({
    sourcesWith: (to) => ({
      busy: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/busy') },
      other: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/other'), log: 'EVENT_LOG_2' },
    }),
    logs: ['EVENT_LOG_2'],
  });
  const out = {};
  try {
    let n = 0;
    const post = (source) => async () => {
      const b = h.mossmoonEvent(`evt_ceiling_${source}_${Date.now()}_${n++}`, 'hello');
      const res = await h.post(source, b, h.signers.mossmoon.sign(b));
      if (res.status !== 202) throw new Error(`${source}: ${res.status}`);
    };
    let turn = 0;
    const runs = { 'one database': post('busy'), 'two databases': () => post(turn++ % 2 ? 'other' : 'busy')() };
    for (const [label, fn] of Object.entries(runs)) {
      for (const c of [1, 32]) {
        await h.resetCounts();
        const t = Date.now();
        const perSecond = await hammer(c, fn);
        // The first attempts settle after the answers: wait for them before counting.
        await h.sleep(1000);
        const counts = await h.counts();
        const statements = Math.round(((counts['d1.statements'] ?? 0) / (Date.now() - 1000 - t)) * 1000);
        out[`${label}, ${c} sender${c > 1 ? 's' : ''}`] = { eventsPerSecond: perSecond, d1StatementsPerSecond: statements };
        console.log(`the Worker, ${label}, ${c} concurrent sender${c > 1 ? 's' : ''}: ${perSecond} events/s accepted, ${statements} D1 statements/s`);
      }
    }
  } finally {
    await h.stop();
  }
  return out;
}

const doc = { ...environment(['miniflare']), date: new Date().toISOString(), scale: await scale(), ceiling: await ceiling() };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/log.json'), JSON.stringify(doc, null, 1));
console.log('wrote bench/results/log.json');
