// A log that does not slow down as it grows: retention at any volume (in bounded batches,
// across runs, never the dead), every statement's query plan free of scans of a growing table,
// and what the console's poll reads staying flat from 1,000 to 20,000 events.
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const { admin } = h;

before(() => h.start());
after(() => h.stop());

const DAY = 86_400_000;

/** Inserts `n` delivered events received `ageMs` ago, in one statement. */
async function seed(n, ageMs, tag) {
  const db = await h.mf.getD1Database('EVENT_LOG');
  const at = Date.now() - ageMs;
  const ids = Array.from({ length: n }, (_, i) => i);
  await db.prepare(`INSERT INTO events (source, dedup_key, type, received_at, envelope, routes, owed, first_ok, first_status, settled_at)
    SELECT 'mossmoon', ?1 || value, 'line.ready', ?2, '{"type":"line.ready"}', '["mossmoon"]', 0, 1, '{"mossmoon":200}', ?2 FROM json_each(?3)`)
    .bind(`seed:${tag}:`, at, JSON.stringify(ids)).run();
}

async function count(sql, ...bind) {
  const db = await h.mf.getD1Database('EVENT_LOG');
  return (await db.prepare(sql).bind(...bind).first()).n;
}

test('retention: 20,000 expired events deleted in bounded batches across runs; dead ones and the newest kept', async () => {
  // 20,000 delivered events 40 days old, and a dead one among them.
  await seed(20_000, 40 * DAY, 'old');
  const db = await h.mf.getD1Database('EVENT_LOG');
  const dead = await db.prepare(`INSERT INTO events (source, dedup_key, type, received_at, envelope, routes, owed)
    VALUES ('down', 'seed:dead', 'line.ready', ?1, '{}', '["down"]', 0) RETURNING id`).bind(Date.now() - 40 * DAY).first();
  await db.prepare(`INSERT INTO deliveries (event_id, destination, status, attempts, horizon_from, updated_at, last_error)
    VALUES (?1, 'down', 'dead', 4, ?2, ?2, 'HTTP 503')`).bind(dead.id, Date.now() - 40 * DAY).run();
  const before = await count('SELECT COUNT(*) AS n FROM events');
  await h.reconfigure(h.options({ vars: { EVENT_RETENTION_DAYS: '30' } }));
  try {
    let runs = 0;
    const deleted = [];
    while (runs < 20) {
      const left = await count("SELECT COUNT(*) AS n FROM events WHERE dedup_key LIKE 'seed:old:%'");
      if (left === 0) break;
      const n = await count('SELECT COUNT(*) AS n FROM events');
      await h.sweep();
      runs++;
      deleted.push(n - (await count('SELECT COUNT(*) AS n FROM events')));
    }
    assert.equal(await count("SELECT COUNT(*) AS n FROM events WHERE dedup_key LIKE 'seed:old:%'"), 0, `all expired rows gone after ${runs} runs`);
    assert.ok(runs >= 3, `bounded batches: ${runs} runs (${deleted.join(', ')})`);
    assert.ok(deleted.every((d) => d <= 6000), `no run deleted more than its bound: ${deleted.join(', ')}`);
    assert.equal(await count("SELECT COUNT(*) AS n FROM events WHERE dedup_key = 'seed:dead'"), 1, 'the dead event stays');
    await seed(10, DAY, 'recent');
    await h.sweep();
    assert.equal(await count("SELECT COUNT(*) AS n FROM events WHERE dedup_key LIKE 'seed:recent:%'"), 10, 'the recent ones stay');
    assert.equal(before + 10 - (await count('SELECT COUNT(*) AS n FROM events')), 20_000);
    // Replayed and delivered, the dead one expires too.
    await (await h.mf.getD1Database('EVENT_LOG')).prepare("UPDATE deliveries SET status = 'delivered', updated_at = ?2 WHERE event_id = ?1").bind(dead.id, Date.now() - 31 * DAY).run();
    await h.sweep();
    assert.equal(await count("SELECT COUNT(*) AS n FROM events WHERE dedup_key = 'seed:dead'"), 0);
  } finally {
    await h.reconfigure(h.options());
  }
});

test('every statement the Worker runs uses an index: no scan of a growing table', async () => {
  await seed(20_000, 2 * DAY, 'plans'); // a large log
  const statements = JSON.parse(execFileSync('cargo', ['run', '--quiet', '-p', 'hookseal-worker', '--example', 'sql'], { cwd: h.root, encoding: 'utf8' }));
  assert.ok(statements.length >= 40, `${statements.length} statements`);
  const db = await h.mf.getD1Database('EVENT_LOG');
  const growing = /\bSCAN (events|deliveries|attempts|tallies|e|d|r)\b/;
  const bad = [];
  for (const [name, sql] of statements) {
    const params = Math.max(0, ...[...sql.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])));
    const plan = (await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...Array(params).fill(null)).all()).results.map((r) => r.detail);
    // json_each is the statement's own parameter; `latest` and `cursors` hold a row per source
    // and destination, and per cursor.
    const scans = plan.filter((d) => growing.test(d) && !/json_each|VIRTUAL TABLE/.test(d));
    if (scans.length) bad.push(`${name}: ${scans.join('; ')}`);
  }
  assert.deepEqual(bad, []);
});

test('what the console\'s poll and a listing read stays flat as the log grows (1,000 against 40,000 events)', async () => {
  const reads = async (path) => {
    await h.resetCounts();
    const res = await admin(path);
    assert.equal(res.status, 200, path);
    return (await h.counts())['d1.rowsRead'] ?? 0;
  };
  const paths = ['/admin/sources', '/admin/destinations', '/admin/events?limit=50', '/admin/events?type=no.such.type', '/admin/events?status=dead', '/admin/events?source=mossmoon&destination=mossmoon'];
  // The sweep counts what it has not counted, so the poll reads only the hourly tallies.
  await h.sweep();
  const small = {};
  for (const p of paths) small[p] = await reads(p);
  await seed(20_000, 3 * DAY, 'grow');
  await h.sweep();
  for (const p of paths) {
    const large = await reads(p);
    assert.ok(large <= Math.max(2 * small[p], small[p] + 2500), `${p}: ${small[p]} rows read, then ${large}`);
    assert.ok(large < 5000, `${p}: ${large} rows read with 40,000 events`);
  }
});

test('an outage\'s backlog does not make every poll read it: the console counts at most 1,000 deliveries a state, and says so', async () => {
  // 3,000 events whose deliveries are retrying, as during a long outage of their destination.
  await seed(3000, 60_000, 'backlog');
  const db = await h.mf.getD1Database('EVENT_LOG');
  await db.prepare(`INSERT INTO deliveries (event_id, destination, status, attempts, next_at, horizon_from, updated_at)
    SELECT id, 'mossmoon', 'retrying', 3, ?1, received_at, received_at FROM events WHERE dedup_key LIKE 'seed:backlog:%'`).bind(Date.now() + 3_600_000).run();
  try {
    await h.sweep();
    await h.resetCounts();
    const { status, json } = await admin('/admin/sources');
    const read = (await h.counts())['d1.rowsRead'] ?? 0;
    assert.equal(status, 200);
    assert.deepEqual(json.atLeast, ['retrying']);
    assert.equal(json.sources.find((s) => s.name === 'mossmoon').last24h.retrying, 1000);
    assert.ok(read < 5000, `${read} rows read for a backlog of 3,000`);
    assert.deepEqual((await admin('/admin/destinations')).json.atLeast, ['retrying']);
  } finally {
    await db.prepare("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE dedup_key LIKE 'seed:backlog:%')").run();
  }
  assert.deepEqual((await admin('/admin/sources')).json.atLeast, []);
});

test('a source with its own database (`log`): its events, deliveries and counts live there; the admin API reads either; a log that names no binding is a problem', async () => {
  const own = { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], log: 'EVENT_LOG_2' };
  await h.reconfigure(h.options({ logs: ['EVENT_LOG_2'], sourcesWith: (to) => ({ busy: { ...own, destination: to('/ok/busy') } }) }));
  await h.migrate('EVENT_LOG_2');
  try {
    const body = h.mossmoonEvent('evt_own_log', 'in its own database');
    assert.equal((await h.post('busy', body, h.signers.mossmoon.sign(body))).status, 202);
    await h.until('delivered', () => h.deliveredCount('mossmoon:evt_own_log', '/ok/busy') === 1);
    const where = async (name) => (await (await h.mf.getD1Database(name)).prepare("SELECT COUNT(*) AS n FROM events WHERE dedup_key = 'mossmoon:evt_own_log'").first()).n;
    assert.deepEqual([await where('EVENT_LOG_2'), await where('EVENT_LOG')], [1, 0], 'the event is in its own database only');
    // A copy is a duplicate there.
    assert.equal((await h.post('busy', body, h.signers.mossmoon.sign(body))).status, 200);
    // The admin API: `?log=` reads that database, the default does not see it; an unknown name is refused.
    const listed = await admin('/admin/events?source=busy&log=EVENT_LOG_2');
    assert.deepEqual(listed.json.events.map((e) => e.dedupKey), ['mossmoon:evt_own_log']);
    const detail = await admin(`/admin/events/${listed.json.events[0].id}?log=EVENT_LOG_2`);
    assert.equal(detail.status, 200);
    assert.match(JSON.stringify(detail.json), /in its own database/);
    assert.deepEqual((await admin('/admin/events?source=busy')).json.events, []);
    const unknown = await admin('/admin/events?log=NOPE');
    assert.deepEqual([unknown.status, unknown.json.error], [400, 'invalid_query']);
    // The console's counts read every database.
    await h.sweep();
    const sources = (await admin('/admin/sources')).json.sources;
    assert.equal(sources.find((s) => s.name === 'busy').last24h.accepted, 1, JSON.stringify(sources.find((s) => s.name === 'busy')));
    const health = (await admin('/health')).json;
    assert.ok(health.logs.some((l) => l.binding === 'EVENT_LOG_2' && l.on), JSON.stringify(health.logs));
    // Named, but not bound: the source is refused with its problem, and /health says why.
    await h.reconfigure(h.options({ sourcesWith: (to) => ({ busy: { ...own, destination: to('/ok/busy') } }) }));
    const again = h.mossmoonEvent('evt_own_log_unbound', 'nowhere to go');
    const res = await h.post('busy', again, h.signers.mossmoon.sign(again));
    assert.equal(res.status, 500);
    const problems = JSON.stringify((await admin('/health')).json.problems);
    assert.match(problems, /EVENT_LOG_2/);
  } finally {
    await h.reconfigure(h.options());
  }
});
