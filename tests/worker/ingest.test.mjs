// Ingest end to end: every provider's events verified, recorded and delivered once, duplicates
// and refusals answered as they should be, bodies of every size and count.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'hookseal';
import * as h from './harness.mjs';

const { state, signers, post, until, sleep, fixtures } = h;

before(() => h.start());
after(() => h.stop());

test('every seed provider\'s events are delivered once, signed with Standard Webhooks', async () => {
  const before = state.delivered.length;
  const expected = new Set();
  for (const [source, scheme, dir] of [['moltflow', 'moltflow', 'moltflow'], ['mossmoon', 'mossmoon', 'mossmoon'], ['whatsapp', 'meta', 'meta']]) {
    for (const body of fixtures(dir)) {
      const { status, json } = await post(source, body, signers[scheme].sign(body));
      assert.ok(status === 202 || status === 200, `${source}: ${status} ${JSON.stringify(json)}`);
      const { events } = signers[scheme].parse(body, signers[scheme].sign(body));
      for (const e of events) expected.add(e.dedupKey);
    }
  }
  await until(`${expected.size} deliveries`, () => state.delivered.length - before >= expected.size);
  await sleep(1500); // anything extra would arrive by now
  const got = state.delivered.slice(before);
  assert.equal(got.length, expected.size, 'each event exactly once');
  assert.deepEqual(new Set(got.map((d) => d.key)), expected, 'webhook-id carries the dedup key');
  assert.deepEqual(state.badSignatures, []);
  for (const d of got) assert.equal(d.body.event.dedupKey, d.key);
  const text = got.find((d) => d.key === 'mossmoon:evt_text1');
  assert.equal(text.id, 'mossmoon:mossmoon:evt_text1', 'webhook-id is the source and the dedup key');
  assert.equal(text.path, '/ok/mossmoon');
  assert.equal(text.body.event.message.text, 'Do you have this in blue? 💙');

  // Every one again: acknowledged as duplicates, not delivered again.
  for (const [source, scheme, dir] of [['moltflow', 'moltflow', 'moltflow'], ['mossmoon', 'mossmoon', 'mossmoon'], ['whatsapp', 'meta', 'meta']]) {
    for (const body of fixtures(dir)) {
      const res = await post(source, body, signers[scheme].sign(body));
      assert.deepEqual([res.status, res.json.accepted], [200, 0], `${source} duplicate`);
    }
  }
  await sleep(2000);
  assert.equal(state.delivered.length - before, expected.size, 'duplicates are not delivered again');
});

test('two sources with the same event ids: their deliveries never share a webhook-id', async () => {
  const body = h.mossmoonEvent('msg_0001');
  for (const source of ['mossmoon', 'faults']) {
    assert.equal((await post(source, body, signers.mossmoon.sign(body))).status, 202, source);
  }
  await until('both deliveries', () => h.deliveredCount('mossmoon:msg_0001') === 2);
  const ids = state.delivered.filter((d) => d.key === 'mossmoon:msg_0001').map((d) => d.id).sort();
  assert.deepEqual(ids, ['faults:mossmoon:msg_0001', 'mossmoon:mossmoon:msg_0001']);
});

test('Twilio (form bodies, signed over the URL the Worker was called at) and Vonage (JWT) end to end', async () => {
  const before = state.delivered.length;
  const expected = new Set();
  for (const [source, dir] of [['twilio', 'twilio'], ['vonage', 'vonage']]) {
    const url = new URL(`/webhooks/${source}`, h.base).toString();
    for (const body of fixtures(dir)) {
      const target = { method: 'POST', url };
      const headers = signers[source].sign(body, target);
      const { status, json } = await post(source, body, headers);
      assert.equal(status, 202, `${source}: ${JSON.stringify(json)}`);
      for (const e of signers[source].parse(body, headers, target).events) expected.add(e.dedupKey);
    }
  }
  await until(`${expected.size} deliveries`, () => state.delivered.length - before >= expected.size);
  const got = state.delivered.slice(before);
  assert.deepEqual(new Set(got.map((d) => d.key)), expected);
  const text = got.find((d) => d.body.event.provider === 'twilio' && d.body.event.type === 'message.received'
    && d.body.event.data.messageType === 'text');
  assert.equal(text.body.event.message.text, 'Do you have this in blue? 💙');
  assert.equal(text.path, '/ok/twilio');

  // Twilio's signature covers the parameters and the URL: a changed parameter, or the same
  // request signed for another URL, is refused.
  const body = fixtures('twilio')[0].toString();
  const url = new URL('/webhooks/twilio', h.base).toString();
  const headers = signers.twilio.sign(body, { method: 'POST', url });
  const tampered = await post('twilio', body.replace('NumMedia=0', 'NumMedia=1'), headers);
  assert.deepEqual([tampered.status, tampered.json.error], [401, 'signature_mismatch']);
  const elsewhere = signers.twilio.sign(body, { method: 'POST', url: url.replace('/twilio', '/other') });
  const moved = await post('twilio', body, elsewhere);
  assert.deepEqual([moved.status, moved.json.error], [401, 'signature_mismatch']);
  // Re-split (Twilio signs the parameters joined without separators): the same signature, a
  // "new" MessageSid. Refused, not kept as an unparsed event, not delivered.
  const sid = 'SM7e0e7d1a2b3c4d5e6f708192a3b4c5f1';
  const original = `AccountSid=AC0123456789abcdef0123456789abcdef&Body=Hi&From=whatsapp%3A%2B15559876543&MessageSid=${sid}&NumMedia=0&To=whatsapp%3A%2B14155238886`;
  const resplit = original.replace(`MessageSid=${sid}&NumMedia=0`, `MessageSid=${sid}NumMedia0`);
  const signedOriginal = signers.twilio.sign(original, { method: 'POST', url });
  assert.ok(signers.twilio.verify(resplit, signedOriginal, { method: 'POST', url }), 'the same signature covers the re-split body');
  const seen = state.delivered.length;
  const forged = await post('twilio', resplit, signedOriginal);
  assert.deepEqual([forged.status, forged.json.error], [400, 'invalid_event']);
  await sleep(1500);
  assert.equal(state.delivered.length, seen);
});

test('forged, stale, oversized and malformed requests get their status and code and are never enqueued', async () => {
  const before = state.delivered.length;
  const body = '{"event":"line.ready","id":"evt_reject_1","line_id":"ln_1"}';
  const sig = signers.mossmoon.sign(body);
  const cases = [
    ['forged', 'mossmoon', body.replace('ln_1', 'ln_2'), sig, 401, 'signature_mismatch'],
    ['wrong secret', 'mossmoon', body, new Webhook('mossmoon', 'not-the-secret').sign(body), 401, 'signature_mismatch'],
    ['unsigned', 'mossmoon', body, {}, 401, 'missing_header'],
    ['garbage signature', 'mossmoon', body, { 'x-mossmoon-signature': 'zz' }, 401, 'malformed_signature'],
    ['stale', 'std', body, signers.std.sign(body, { id: 'msg_stale', timestamp: Math.floor(Date.now() / 1000) - 3600 }), 401, 'timestamp_too_old'],
    ['from the future', 'std', body, signers.std.sign(body, { id: 'msg_future', timestamp: Math.floor(Date.now() / 1000) + 3600 }), 401, 'timestamp_in_future'],
    ['oversized', 'mossmoon', 'x'.repeat(h.MAX_BODY + 1), signers.mossmoon.sign('x'.repeat(h.MAX_BODY + 1)), 413, 'body_too_large'],
    ['unknown source', 'nope', body, sig, 404, 'unknown_source'],
  ];
  for (const [name, source, b, headers, status, code] of cases) {
    const res = await post(source, b, headers);
    assert.deepEqual([res.status, res.json.error], [status, code], name);
    assert.ok(!JSON.stringify(res.json).includes(h.SECRETS.MOSSMOON_SECRET), `${name}: no secret in the answer`);
  }
  // A sender still writing an oversized body must get the 413, not a closed connection (it
  // would retry that for a day): repeatedly, at several sizes, with and without a length.
  for (let i = 0; i < 12; i++) {
    const big = 'y'.repeat([h.MAX_BODY + 1, 2 * h.MAX_BODY, 8 * h.MAX_BODY][i % 3]);
    const headers = signers.mossmoon.sign(big);
    const bodyInit = i % 2 ? big : new Blob([big]).stream();
    const res = await h.mf.dispatchFetch(new URL('/webhooks/mossmoon', h.base), { method: 'POST', body: bodyInit, headers, duplex: 'half' });
    assert.deepEqual([res.status, (await res.json()).error], [413, 'body_too_large'], `oversized #${i}`);
  }
  await sleep(2000);
  assert.equal(state.delivered.length, before, 'nothing refused was delivered');
  assert.ok(!state.hits.has('mossmoon:mossmoon:evt_reject_1'));
});

test('a forgery is answered before any binding is touched; a flood of them costs no write of its own', async () => {
  const body = '{"event":"line.ready","id":"evt_flood","line_id":"ln_1"}';
  const sig = signers.mossmoon.sign(body);
  await h.resetCounts();
  for (let i = 0; i < 50; i++) {
    const res = await post('mossmoon', body.replace('ln_1', `ln_${i + 2}`), sig);
    assert.equal(res.status, 401);
  }
  const c = await h.counts();
  // The refusals are counted in the isolate and written at most once every 30 s, after the
  // answer: 50 forgeries, at most one write of their tally.
  assert.ok((c['d1.statements'] ?? 0) <= 1, JSON.stringify(c));
  assert.equal(c['kv.reads'] ?? 0, 0);
  assert.equal(c['queue.written'] ?? 0, 0);
});

test('an authentic body that is not the documented event is kept and delivered, not lost', async () => {
  const body = '{"event": "message.received", "id": "evt_broken"'; // cut short
  const res = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.equal(res.status, 202);
  await until('the unparsed event', () => state.delivered.some((d) => d.body.event.type === 'hookseal.unparsed'));
  const d = state.delivered.find((x) => x.body.event.type === 'hookseal.unparsed');
  assert.equal(d.body.event.data.error, 'malformed_json');
  assert.equal(d.body.event.data.body, body);
});

test('Meta\'s verification handshake', async () => {
  const q = (token) => new URL(`/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${token}&hub.challenge=1158201444`, h.base);
  const ok = await h.mf.dispatchFetch(q(h.SECRETS.META_VERIFY_TOKEN));
  assert.deepEqual([ok.status, await ok.text()], [200, '1158201444']);
  const bad = await h.mf.dispatchFetch(q('guess'));
  assert.deepEqual([bad.status, (await bad.json()).error], [403, 'handshake_rejected']);
});

test('an event id that cannot be a header value still delivers (its dedup key is hashed)', async () => {
  const body = JSON.stringify({ event: 'line.ready', id: 'evt_odd\nx-injected: 1 é', line_id: 'ln_1' });
  const res = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.equal(res.status, 202);
  await until('the odd event delivered', () => state.delivered.some((d) => d.body.event?.id === 'evt_odd\nx-injected: 1 é'));
  const d = state.delivered.find((x) => x.body.event?.id === 'evt_odd\nx-injected: 1 é');
  assert.match(d.key, /^mossmoon:sha256:[0-9a-f]{64}$/);
  const again = await post('mossmoon', body, signers.mossmoon.sign(body));
  assert.deepEqual([again.status, again.json.duplicates], [200, 1]);
});

test('Meta bodies with 1, 100, 101, 250 and 1,000 statuses: every status delivered exactly once', async () => {
  const sizes = [1, 100, 101, 250, 1000];
  await h.resetCounts();
  let want = 0;
  for (const n of sizes) {
    const body = h.metaStatuses(n, `st${n}`);
    const started = Date.now();
    const res = await post('bigmeta', body, signers.meta.sign(body));
    const ms = Date.now() - started;
    assert.deepEqual([res.status, res.json.accepted], [202, n], `${n} statuses: ${JSON.stringify(res.json)}`);
    if (n === 1000) console.log(`# a 1,000-status Meta body (${body.length} bytes) accepted in ${ms} ms`);
    want += n;
  }
  await until(`${want} status deliveries`, () => h.deliveredKeys('meta:status:wamid.st').length >= want, 120_000);
  await sleep(1500);
  const ids = h.deliveredKeys('meta:status:wamid.st');
  assert.equal(ids.length, want, 'no status delivered twice');
  assert.equal(new Set(ids).size, want, 'every status delivered');
  const calls = (await h.counts())['services.maxPerInvocation'];
  assert.ok(calls > 0 && calls < 1000, `${calls} calls to KV and Queues in one invocation (Cloudflare allows 1,000)`);
  // The same 1,000-status body again is all duplicates.
  const again = h.metaStatuses(1000, 'st1000');
  const dup = await post('bigmeta', again, signers.meta.sign(again));
  assert.deepEqual([dup.status, dup.json.accepted, dup.json.duplicates], [200, 0, 1000]);
});

test('events of 200 KiB and 900 KiB of text arrive whole and signed; without a destination a large one travels by reference', async () => {
  const sizes = [200 * 1024, 900 * 1024];
  for (const [i, size] of sizes.entries()) {
    // Non-ASCII text, so the envelope is counted at two bytes a character.
    const text = 'Olá, ação! '.repeat(Math.ceil(size / 11)).slice(0, size);
    const body = JSON.stringify({ event: 'message.received', id: `evt_large_${i}`, line_id: 'ln_1',
      message: { id: `msg_large_${i}`, from: '+15559876543', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
    const res = await post('big', body, signers.mossmoon.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 1], `${size}: ${JSON.stringify(res.json)}`);
    await until(`the ${size}-byte event`, () => state.delivered.some((d) => d.key === `mossmoon:evt_large_${i}`), 30_000);
    const d = state.delivered.find((x) => x.key === `mossmoon:evt_large_${i}`);
    assert.equal(d.body.event.data.text, text, 'the destination received the whole text');
    assert.equal(d.body.event.data.messageId, `msg_large_${i}`);
    assert.equal(d.body.event.message.text, text);
  }
  assert.deepEqual(state.badSignatures, [], 'every delivery verified at the destination');
  // Without a destination, the outbox message names the stored envelope.
  const text = 'z'.repeat(300 * 1024);
  const body = JSON.stringify({ event: 'message.received', id: 'evt_large_hold', line_id: 'ln_1',
    message: { id: 'msg_h', from: '+1555', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
  assert.equal((await post('bighold', body, signers.mossmoon.sign(body))).status, 202);
  await until('the outbox reference', () => state.outbox.some((m) => m.dedupKey === 'mossmoon:evt_large_hold'));
  const m = state.outbox.find((x) => x.dedupKey === 'mossmoon:evt_large_hold');
  assert.equal(m.event, '');
  assert.equal(m.eventRef, 'hookseal:event/bighold/mossmoon:evt_large_hold');
  const kv = await h.mf.getKVNamespace('DEDUP');
  assert.equal(JSON.parse(await kv.get(m.eventRef)).message.text, text);
});

test('a 2.5 MB Meta payload is accepted with the default limit; over it is still 413', async () => {
  await h.reconfigure(h.options({ vars: { MAX_BODY_BYTES: undefined } }));
  try {
    const texts = [0, 1, 2].map((i) => `${i}`.repeat(830 * 1024));
    const body = h.metaMessages(texts, 'huge');
    assert.ok(body.length > 2_500_000 && body.length < 3_000_000, String(body.length));
    const res = await post('whatsapp', body, signers.meta.sign(body));
    assert.deepEqual([res.status, res.json.accepted], [202, 3], JSON.stringify(res.json));
    await until('the three large messages', () => h.deliveredKeys('meta:message:wamid.huge.').length >= 3, 60_000);
    for (const [i, t] of texts.entries()) {
      assert.equal(state.delivered.find((d) => d.key === `meta:message:wamid.huge.${i}`).body.event.message.text, t);
    }
    const over = 'x'.repeat(4 * 1024 * 1024 + 1);
    const big = await post('whatsapp', over, signers.meta.sign(over));
    assert.deepEqual([big.status, big.json.error], [413, 'body_too_large']);
  } finally {
    await h.reconfigure(h.options());
  }
});

test('the same event sent 20 times at once is delivered once (the log settles the race)', async () => {
  const body = h.mossmoonEvent('evt_concurrent');
  const answers = await Promise.all(Array.from({ length: 20 }, () => post('mossmoon', body, signers.mossmoon.sign(body))));
  assert.equal(answers.reduce((n, a) => n + (a.json.accepted ?? 0), 0), 1, JSON.stringify(answers.map((a) => a.status)));
  assert.ok(answers.every((a) => a.status === 202 || a.status === 200));
  await until('the delivery', () => h.deliveredCount('mossmoon:evt_concurrent') >= 1);
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_concurrent'), 1);
});

test('a source without a destination leaves its events on the outbox queue; a replay puts it there again', async () => {
  const body = h.mossmoonEvent('evt_hold_1');
  assert.equal((await post('hold', body, signers.mossmoon.sign(body))).status, 202);
  await until('the outbox message', () => state.outbox.some((m) => m.dedupKey === 'mossmoon:evt_hold_1'));
  const m = state.outbox.find((x) => x.dedupKey === 'mossmoon:evt_hold_1');
  assert.equal(JSON.parse(m.event).type, 'line.ready');
  const row = await h.logged('mossmoon:evt_hold_1');
  assert.equal((await h.admin(`/admin/events/${row.id}/replay`, { method: 'POST' })).status, 202);
  await until('the replayed outbox message', () => state.outbox.filter((x) => x.dedupKey === 'mossmoon:evt_hold_1').length === 2);
  const again = state.outbox.filter((x) => x.dedupKey === 'mossmoon:evt_hold_1')[1];
  assert.equal(JSON.parse(again.event).type, 'line.ready');
});

test('load: 2,000 signed events with 20 % duplicates, every distinct one delivered exactly once', async () => {
  const distinct = 1600;
  const before = state.delivered.length;
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
  await until(`${distinct} load deliveries`, () => state.delivered.filter((d) => d.path === '/ok/load').length >= distinct, 180_000);
  await sleep(2000);
  const ids = state.delivered.slice(before).filter((d) => d.path === '/ok/load').map((d) => d.key);
  assert.equal(ids.length, distinct, 'no event delivered twice');
  assert.equal(new Set(ids).size, distinct, 'every distinct event delivered');
  console.log(`# load: 2000 requests in ${elapsed.toFixed(1)} s (${Math.round(2000 / elapsed)} req/s through Miniflare)`);
});

test('one JSON log line per request and per delivery, never a secret or a body', () => {
  const { logs } = state;
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
    assert.ok(['delivered', 'failed', 'refused'].includes(l.outcome), l.outcome);
    assert.equal(typeof l.dedupKey, 'string');
  }
  const all = JSON.stringify(logs);
  for (const secret of Object.values(h.SECRETS)) if (secret.length > 8) assert.ok(!all.includes(secret), 'a secret in the logs');
  assert.ok(!all.includes('Do you have this in blue'), 'a body in the logs');
});
