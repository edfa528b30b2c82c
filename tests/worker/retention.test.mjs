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
