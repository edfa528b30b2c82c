// Deliveries end to end: retries on the schedule, dead letters with their reason and alerts,
// replays that never stack copies, redirects never followed, slow destinations that hold back
// nothing else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const { state, signers, post, until, sleep, admin } = h;

before(() => h.start());
after(() => h.stop());

test('a destination that fails 3 times then succeeds gets the event on the 4th attempt', async () => {
  const body = '{"event":"line.ready","id":"evt_flaky_1","line_id":"ln_1"}';
  assert.equal((await post('flaky', body, signers.mossmoon.sign(body))).status, 202);
  await until('the flaky delivery', () => state.delivered.some((d) => d.key === 'mossmoon:evt_flaky_1'));
  const d = state.delivered.find((x) => x.key === 'mossmoon:evt_flaky_1');
  assert.equal(d.body.attempt, 4);
  assert.equal(state.hits.get('flaky:mossmoon:evt_flaky_1'), 4);
  const row = await h.untilLogged('mossmoon:evt_flaky_1', 'delivered');
  assert.equal(row.attempts, 4);
  const detail = await admin(`/admin/events/${row.id}`);
  assert.deepEqual(detail.json.history.map((a) => [a.attempt, a.status]), [[1, 503], [2, 429], [3, 503], [4, 200]]);
});

test('4xx gives up at once; a destination that is always down ends dead in the log, with the reason and an alert', async () => {
  const gone = h.mossmoonEvent('evt_gone_1');
  const down = h.mossmoonEvent('evt_down_1');
  assert.equal((await post('gone', gone, signers.mossmoon.sign(gone))).status, 202);
  assert.equal((await post('down', down, signers.mossmoon.sign(down))).status, 202);
  const goneRow = await h.untilLogged('mossmoon:evt_gone_1', 'dead');
  const downRow = await h.untilLogged('mossmoon:evt_down_1', 'dead');
  assert.equal(state.hits.get('gone:mossmoon:evt_gone_1'), 1, 'a 410 is not retried');
  assert.match(goneRow.lastError, /HTTP 410/);
  assert.equal(state.hits.get('down:mossmoon:evt_down_1'), h.MAX_ATTEMPTS, 'every attempt was made');
  assert.match(downRow.lastError, /HTTP 503/);
  assert.equal(downRow.attempts, h.MAX_ATTEMPTS);
  const detail = await admin(`/admin/events/${downRow.id}`);
  assert.equal(detail.status, 200);
  assert.deepEqual(detail.json.history.map((a) => a.status), Array(h.MAX_ATTEMPTS).fill(503));
  assert.equal(detail.json.envelope.dedupKey, 'mossmoon:evt_down_1');
  assert.deepEqual(detail.json.deliveries.map((d) => [d.destination, d.status]), [['down', 'dead']]);
  // The dead letters were announced to ALERT_URL, signed with ALERT_SECRET (the destination
  // verifies alerts with that key alone), once per source for the interval.
  await until('the alerts', () => state.alerts.some((a) => a.source === 'down') && state.alerts.some((a) => a.source === 'gone'));
  const alert = state.alerts.find((a) => a.source === 'down');
  assert.equal(alert.type, 'hookseal.dead_letters');
  assert.ok(alert.count >= 1);
  assert.match(alert.lastReason, /HTTP 503/);
  assert.ok(!state.badSignatures.some((b) => b.startsWith('/alert')), 'alerts verify with ALERT_SECRET');
});

test('deliveries never follow redirects: a 301 or 307 is a refused attempt naming only where it pointed', async () => {
  for (const [source, code] of [['redirect', 301], ['redirect307', 307]]) {
    const body = h.mossmoonEvent(`evt_redirect_${code}`);
    assert.equal((await post(source, body, signers.mossmoon.sign(body))).status, 202);
    const row = await h.untilLogged(`mossmoon:evt_redirect_${code}`, 'dead');
    assert.match(row.lastError, new RegExp(`HTTP ${code}: a redirect to http://127.0.0.1:9 `));
    assert.ok(!row.lastError.includes('secret-path') && !row.lastError.includes('token'), row.lastError);
    assert.equal(row.lastStatus, code);
  }
  // The signed body went to the configured URL only, once each, as a POST.
  const hits = state.raw.filter((r) => r.path.startsWith('/redirect'));
  assert.equal(hits.length, 2);
  for (const r of hits) assert.ok(r.headers['webhook-signature']);
});

test('an outage longer than the old 8-attempt schedule: the event arrives once the destination recovers', async () => {
  // The schedule scaled down: no attempt cap, a 2-minute horizon, no backoff. The destination
  // fails 12 times (the old schedule gave up after 8).
  await h.reconfigure(h.options({ vars: { DELIVERY_MAX_ATTEMPTS: undefined, DELIVERY_HORIZON_SECONDS: '120' } }));
  try {
    const body = h.mossmoonEvent('evt_long_outage');
    assert.equal((await post('longoutage', body, signers.mossmoon.sign(body))).status, 202);
    await until('the delivery after 12 failures', () => h.deliveredCount('mossmoon:evt_long_outage') === 1, 90_000);
    assert.equal(state.hits.get('longoutage:mossmoon:evt_long_outage'), 13);
    const row = await h.untilLogged('mossmoon:evt_long_outage', 'delivered');
    assert.equal(row.attempts, 13);
    assert.equal(typeof row.deliveredAt, 'number');
  } finally {
    await h.reconfigure(h.options());
  }
});

test('a permanent outage, then replay through the API: each event delivered exactly once; a second press adds nothing', async () => {
  state.switchDown = true;
  const ids = ['evt_replay_1', 'evt_replay_2', 'evt_replay_3'];
  for (const id of ids) {
    const body = h.mossmoonEvent(id);
    assert.equal((await post('outage', body, signers.mossmoon.sign(body))).status, 202);
  }
  const rows = [];
  for (const id of ids) rows.push(await h.untilLogged(`mossmoon:${id}`, 'dead'));
  const listed = await admin('/admin/events?source=outage&status=dead');
  assert.deepEqual(listed.json.events.map((e) => e.dedupKey).sort(), ids.map((i) => `mossmoon:${i}`).sort());
  for (const e of listed.json.events) {
    for (const k of ['id', 'source', 'dedupKey', 'type', 'status', 'attempts', 'receivedAt', 'deliveredAt', 'lastError', 'deliveries']) {
      assert.ok(k in e, `an event carries ${k}`);
    }
  }
  // Held: the destination stays down a moment after the first replay, so that a second press
  // finds the delivery owed and adds no copy.
  const one = await admin(`/admin/events/${rows[0].id}/replay`, { method: 'POST' });
  assert.deepEqual([one.status, one.json.replayed], [202, 1]);
  const again = await admin(`/admin/events/${rows[0].id}/replay`, { method: 'POST' });
  assert.deepEqual([again.status, again.json.replayed, again.json.inFlight], [200, 0, 1], 'the second press stacks nothing');
  state.switchDown = false;
  await h.untilLogged(`mossmoon:${ids[0]}`, 'delivered');
  const bulk = await admin('/admin/replay', { method: 'POST', body: { source: 'outage', status: 'dead' } });
  assert.deepEqual([bulk.status, bulk.json.replayed], [200, 2]);
  for (const id of ids) await h.untilLogged(`mossmoon:${id}`, 'delivered');
  await sleep(1500);
  for (const id of ids) assert.equal(h.deliveredCount(`mossmoon:${id}`), 1, `${id} delivered once`);
  // Purge.
  const del = await admin(`/admin/events/${rows[2].id}`, { method: 'DELETE' });
  assert.deepEqual([del.status, del.json.deleted], [200, 1]);
  assert.equal((await admin(`/admin/events/${rows[2].id}`)).status, 404);
});

test('bulk replay takes dead deliveries only; others need their ids; an unreadable body is a 400, never "replay everything"', async () => {
  for (const body of ['', 'not json', '{"status":"delivered"}', '{"sauce":"x"}', '[]']) {
    const res = await admin('/admin/replay', { method: 'POST', body, raw: true });
    assert.deepEqual([res.status, res.json.error], [400, 'invalid_body'], body);
    assert.equal(typeof res.json.message, 'string');
  }
  // A delivered event, by id: replayed once.
  const body = h.mossmoonEvent('evt_replay_by_id');
  assert.equal((await post('mossmoon', body, signers.mossmoon.sign(body))).status, 202);
  const row = await h.untilLogged('mossmoon:evt_replay_by_id', 'delivered');
  const res = await admin('/admin/replay', { method: 'POST', body: { ids: [row.id] } });
  assert.deepEqual([res.status, res.json.replayed], [200, 1]);
  await until('the replayed delivery', () => h.deliveredCount('mossmoon:evt_replay_by_id') === 2);
  const after = await admin(`/admin/events/${row.id}`);
  assert.deepEqual(after.json.history.map((a) => a.attempt), [1, 2], 'attempts count on across a replay');
});

test('one slow destination does not hold a batch: its deliveries run side by side', async () => {
  state.maxInFlight = 0;
  await h.reconfigure(h.options({ sourcesWith: { slow: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: `${h.dest}/slow/x`, maxBodyBytes: 1 << 20 } } }));
  try {
    const body = h.metaStatuses(12, 'slow');
    assert.equal((await post('slow', body, signers.meta.sign(body))).status, 202);
    await until('12 slow deliveries', () => h.deliveredKeys('meta:status:wamid.slow.').length === 12, 30_000);
    assert.ok(state.maxInFlight > 1, `at most ${state.maxInFlight} at once`);
  } finally {
    await h.reconfigure(h.options());
  }
});
