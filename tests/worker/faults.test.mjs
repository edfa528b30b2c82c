// Nothing answered 2xx is lost, nothing is doubled: a failure injected at every step of the
// path (the log's insert, the isolate dying between the answer and the attempt, the record of
// an attempt, a retry's job), and what the sweep and the claims make of it. Then the queues'
// shapes: letters on the wrong queue, jobs twice, foreign messages; and the path without the log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const { state, signers, post, until, sleep, admin } = h;

before(() => h.start());
after(() => h.stop());

const send = (source, id) => {
  const body = h.mossmoonEvent(id);
  return post(source, body, signers.mossmoon.sign(body));
};

test('the log\'s insert fails: 503 and nothing kept; the sender\'s retry is accepted and delivered once', async () => {
  await h.setFaults('d1.insert:1');
  const first = await send('faults', 'evt_fault_insert');
  assert.deepEqual([first.status, first.json.error], [503, 'log_unavailable']);
  assert.ok(!JSON.stringify(first.json).includes('injected'), 'the store\'s error stays in the log');
  const retry = await send('faults', 'evt_fault_insert');
  assert.deepEqual([retry.status, retry.json.accepted], [202, 1]);
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_insert') === 1);
  await sleep(1200);
  await h.sweep();
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_insert'), 1);
  await h.setFaults('');
});

test('the isolate dies between the answer and the attempt: a copy meanwhile is a duplicate; the sweep delivers it once', async () => {
  await h.dieAfterAnswer();
  const first = await send('faults', 'evt_fault_die');
  assert.equal(first.status, 202, 'answered: the event is recorded');
  await sleep(500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_die'), 0, 'the attempt never happened');
  // The sender retries (as Meta does, twice): a duplicate, and no second copy on its way.
  const copy = await send('faults', 'evt_fault_die');
  assert.deepEqual([copy.status, copy.json.duplicates], [200, 1]);
  const row = await h.logged('mossmoon:evt_fault_die');
  assert.equal(row.status, 'queued');
  await sleep(1100); // the claim (LEASE_SECONDS = 1) lapses
  await h.sweep();
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_die') === 1);
  await h.sweep();
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_die'), 1, 'exactly once');
  assert.equal((await h.untilLogged('mossmoon:evt_fault_die', 'delivered')).attempts, 1);
});

test('recording the attempt fails once: it is written on the second try, and the sweep sends nothing again', async () => {
  await h.setFaults('d1.update:1');
  assert.equal((await send('faults', 'evt_fault_settle')).status, 202);
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_settle') === 1);
  await h.setFaults('');
  await h.untilLogged('mossmoon:evt_fault_settle', 'delivered');
  await sleep(1100);
  await h.sweep();
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_settle'), 1);
});

test('recording the attempt cannot be done at all: the sweep sends it again, with the same webhook-id', async () => {
  await h.resetCounts();
  await h.setFaults('d1.update:*');
  assert.equal((await send('faults', 'evt_fault_unrecorded')).status, 202);
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_unrecorded') === 1);
  // The destination has it before the Worker has its answer: the faults stay until both of
  // the Worker's tries to record it have failed (cleared sooner, the second try may succeed).
  await until('both tries to record it failed', async () => ((await h.counts())['injected.d1.update'] ?? 0) >= 2);
  await h.setFaults('');
  await sleep(1100);
  await h.sweep();
  await until('the second delivery', () => h.deliveredCount('mossmoon:evt_fault_unrecorded') === 2);
  const ids = state.delivered.filter((d) => d.key === 'mossmoon:evt_fault_unrecorded').map((d) => d.id);
  assert.equal(new Set(ids).size, 1, 'one webhook-id: the destination dedupes');
  await h.untilLogged('mossmoon:evt_fault_unrecorded', 'delivered');
});

test('a retry\'s job cannot be sent: the delivery is overdue in the log and the sweep sends it', async () => {
  await h.setFaults('queue.send:1');
  assert.equal((await send('flaky', 'evt_fault_retryjob')).status, 202);
  const row = await h.untilLogged('mossmoon:evt_fault_retryjob', 'retrying');
  assert.equal(row.attempts, 1);
  await sleep(1100);
  await h.sweep();
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_retryjob') === 1, 30_000);
  await h.setFaults('');
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_retryjob'), 1);
  assert.equal((await h.untilLogged('mossmoon:evt_fault_retryjob', 'delivered')).attempts, 4);
});

test('a retry job sent twice (the original and the sweep\'s) makes one attempt: the claim decides', async () => {
  state.switchDown = true;
  assert.equal((await send('outage', 'evt_fault_twice')).status, 202);
  const row = await h.untilLogged('mossmoon:evt_fault_twice', 'dead');
  state.switchDown = false;
  // Owed again, then the same job twice on the queue.
  const replay = await admin(`/admin/events/${row.id}/replay`, { method: 'POST' });
  assert.equal(replay.status, 202);
  const q = await h.mf.getQueueProducer('EVENTS', 'hookseal');
  const job = { kind: 'retry', log: 'EVENT_LOG', id: row.id, destination: 'outage', attempt: h.MAX_ATTEMPTS + 1 };
  await q.send(job);
  await q.send(job);
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_fault_twice') === 1);
  await sleep(2500);
  assert.equal(h.deliveredCount('mossmoon:evt_fault_twice'), 1);
});

test('the queues dispatch on a message\'s shape: a letter on the events queue, a job on the dead-letter queue, a stranger, and no loop', async () => {
  await h.resetCounts();
  const events = await h.mf.getQueueProducer('EVENTS', 'hookseal');
  const dead = await h.mf.getQueueProducer('DEAD_LETTER', 'hookseal');
  const carried = { kind: 'carry', source: 'mossmoon', destination: 'mossmoon', attempt: 1, receivedAt: Date.now(), horizonFrom: Date.now(),
    dedupKey: 'mossmoon:evt_shape_1', type: 'line.ready', event: JSON.parse(JSON.stringify(h.mossmoonEvent('evt_shape_1'))) };
  carried.event = JSON.stringify({ provider: 'mossmoon', type: 'line.ready', id: 'evt_shape_1', dedupKey: 'mossmoon:evt_shape_1', data: {}, message: null });
  // A dead letter put on the events queue is recorded, not sent on.
  await events.send({ kind: 'dead', reason: 'test: a letter on the wrong queue', at: Date.now(), job: { ...carried, dedupKey: 'mossmoon:evt_shape_dead' } });
  // A delivery job put on the dead-letter queue is delivered.
  await dead.send(carried);
  // Not ours at all: kept in KV with the reason, acknowledged.
  await dead.send({ hello: 'world' });
  await until('the job on the dead-letter queue delivered', () => h.deliveredCount('mossmoon:evt_shape_1') === 1);
  const kv = await h.mf.getKVNamespace('DEDUP');
  let kept;
  await until('the letter kept', async () => {
    kept = await kv.get('hookseal:dead/mossmoon/mossmoon/mossmoon:evt_shape_dead');
    return kept !== null;
  });
  assert.match(JSON.parse(kept).reason, /wrong queue/);
  await until('the stranger kept', async () => (await kv.list({ prefix: 'hookseal:dead/unknown/' })).keys.length > 0);
  await sleep(2000);
  const c = await h.counts();
  assert.equal(c['queue.written'] ?? 0, 0, 'nothing was sent on: no loop');
  assert.equal(c['queue.retried'] ?? 0, 0);
});

test('without the event log: a Meta body of 1,000 statuses stays within an invocation\'s 1,000 calls and is delivered once each, its retry at once and a copy later are all duplicates; a queue failure midway answers 503 and the retry sends the rest once', async () => {
  await h.reconfigure(h.options({ without: ['EVENT_LOG'] }));
  const kv = await h.mf.getKVNamespace('DEDUP');
  const marked = async (tag) => (await kv.list({ prefix: `hookseal:seen/bigmeta/meta:status:wamid.${tag}.` })).keys.length;
  try {
    await h.resetCounts();
    const body = h.metaStatuses(1000, 'nolog1k');
    const res = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 1000], JSON.stringify(res.json));
    // The sender's retry at once, before the consumer has marked the events: the body's own mark.
    const retried = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([retried.status, retried.json.duplicates], [200, 1000], JSON.stringify(retried.json));
    await until('1,000 deliveries', () => h.deliveredKeys('meta:status:wamid.nolog1k.').length >= 1000, 120_000);
    // Its marks are written by the consumer, 100 a job.
    await until('1,000 marks', async () => (await marked('nolog1k')) === 1000, 60_000);
    const calls = (await h.counts())['services.maxPerInvocation'];
    assert.ok(calls <= 600, `${calls} calls to KV and Queues in one invocation (Cloudflare allows 1,000; a batch writes 500 marks at most)`);
    const again = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([again.status, again.json.duplicates], [200, 1000]);
    // The second of two batches of messages fails: the first 100 are marked, the answer is 503.
    await h.setFaults('queue.send:2');
    const part = h.metaStatuses(150, 'nolog150');
    const first = await post('bigmeta', part, signers.meta.sign(part));
    assert.deepEqual([first.status, first.json.error], [503, 'queue_unavailable'], JSON.stringify(first.json));
    await h.setFaults('');
    const retry = await post('bigmeta', part, signers.meta.sign(part));
    assert.deepEqual([retry.status, retry.json.accepted, retry.json.duplicates], [202, 50, 100], JSON.stringify(retry.json));
    await until('150 deliveries', () => h.deliveredKeys('meta:status:wamid.nolog150.').length >= 150, 60_000);
    await sleep(1500);
    const keys = [...h.deliveredKeys('meta:status:wamid.nolog1k.'), ...h.deliveredKeys('meta:status:wamid.nolog150.')];
    assert.equal(keys.length, 1150, 'none delivered twice');
    assert.equal(new Set(keys).size, 1150, 'every status delivered');
  } finally {
    await h.setFaults('');
    await h.reconfigure(h.options());
  }
});

test('without the event log, a large body\'s marks under failure: mark jobs whose writes fail are tried again until they hold; marks that cannot be handed over are counted on /health', async () => {
  await h.reconfigure(h.options({ without: ['EVENT_LOG'] }));
  const kv = await h.mf.getKVNamespace('DEDUP');
  const marked = async (tag) => (await kv.list({ prefix: `hookseal:seen/bigmeta/meta:status:wamid.${tag}.` })).keys.length;
  const failedMarks = async () => (await admin('/health')).json.dedup.marksFailedInThisIsolate;
  try {
    // Every KV write fails while the body is taken and its mark jobs first run.
    await h.setFaults('kv.put:*');
    const body = h.metaStatuses(150, 'markretry');
    const res = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 150], 'a failed mark does not fail the request');
    await until('150 deliveries', () => h.deliveredKeys('meta:status:wamid.markretry.').length >= 150, 60_000);
    await sleep(2000);
    assert.equal(await marked('markretry'), 0, 'no mark could be written yet');
    await h.setFaults('');
    await until('the mark jobs, tried again, hold', async () => (await marked('markretry')) === 150, 120_000);
    const again = await post('bigmeta', body, signers.meta.sign(body));
    assert.deepEqual([again.status, again.json.duplicates], [200, 150]);
    // The mark jobs cannot be sent (the third queue call: two batches of messages, then the
    // marks): the 150 marks are counted as failed; the body's own mark still makes its retry a
    // duplicate.
    const before = await failedMarks();
    await h.setFaults('queue.send:3');
    const other = h.metaStatuses(150, 'marklost');
    assert.equal((await post('bigmeta', other, signers.meta.sign(other))).status, 202);
    await h.setFaults('');
    assert.equal(await failedMarks(), before + 150);
    const retry = await post('bigmeta', other, signers.meta.sign(other));
    assert.deepEqual([retry.status, retry.json.duplicates], [200, 150]);
    await until('150 deliveries', () => h.deliveredKeys('meta:status:wamid.marklost.').length >= 150, 60_000);
    await sleep(1500);
    assert.equal(h.deliveredKeys('meta:status:wamid.marklost.').length, 150, 'none delivered twice');
    assert.equal(new Set(h.deliveredKeys('meta:status:wamid.markretry.')).size, 150);
    assert.equal(h.deliveredKeys('meta:status:wamid.markretry.').length, 150, 'none delivered twice');
  } finally {
    await h.setFaults('');
    await h.reconfigure(h.options());
  }
});

test('without the event log: a KV read or a queue send fails, 503, and the retry delivers once; a failed mark is counted on /health', async () => {
  await h.reconfigure(h.options({ without: ['EVENT_LOG'] }));
  try {
    for (const [fault, code] of [['kv.get:1', 'dedup_unavailable'], ['queue.send:1', 'queue_unavailable']]) {
      await h.setFaults(fault);
      const id = `evt_nolog_${fault.split('.')[0]}`;
      const first = await send('mossmoon', id);
      assert.deepEqual([first.status, first.json.error], [503, code], fault);
      const retry = await send('mossmoon', id);
      assert.deepEqual([retry.status, retry.json.accepted], [202, 1], fault);
      await until(`${id} delivered`, () => h.deliveredCount(`mossmoon:${id}`) === 1);
      const again = await send('mossmoon', id);
      assert.equal(again.status, 200, `${fault}: the mark holds`);
    }
    await h.setFaults('kv.put:1');
    assert.equal((await send('mossmoon', 'evt_nolog_mark')).status, 202, 'a failed mark does not fail the request');
    await until('delivered', () => h.deliveredCount('mossmoon:evt_nolog_mark') === 1);
    await h.setFaults('');
    const health = await admin('/health');
    assert.equal(health.json.eventLog, 'off');
    assert.equal(health.json.dedup.by, 'KV marks');
    assert.ok(health.json.dedup.marksFailedInThisIsolate >= 1, JSON.stringify(health.json.dedup));
    // A dead letter without the log is kept in KV, and expires.
    assert.equal((await send('gone', 'evt_nolog_gone')).status, 202);
    const kv = await h.mf.getKVNamespace('DEDUP');
    let key;
    await until('the dead letter in KV', async () => {
      key = (await kv.list({ prefix: 'hookseal:dead/gone/' })).keys.find((k) => k.name.endsWith('evt_nolog_gone'));
      return Boolean(key);
    });
    assert.ok(key.expiration > Date.now() / 1000 + 29 * 86400, `kept for DEAD_LETTER_KV_DAYS: ${key.expiration}`);
    assert.match(JSON.parse(await kv.get(key.name)).reason, /HTTP 410/);
    assert.equal((await admin('/admin/events')).status, 501, 'the admin API needs the log');
  } finally {
    await h.reconfigure(h.options());
  }
});
