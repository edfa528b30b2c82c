// The JS half of the wire format (pkg-templates/dist/abi.js; its Rust half, wasm/src/abi.rs, has
// the same round trips), and the format across the boundary through the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { Webhook, HooksealError, statusFor } from 'hookseal';
import { decode, encode, encodeBytes, fromCore } from '../../build/pkg/dist/abi.js';
import { STATUSES } from '../../build/pkg/dist/codes.js';

test('field lists round-trip any text, and absent fields', () => {
  const fields = ['sha256=abc', undefined, '', 'line\nbreak, colon: and -dash', 'émoji 😀 and ü', undefined, '12:34', 'lone\uD800'];
  const text = encode(fields);
  // Lengths are UTF-16 units: the emoji counts two.
  assert.ok(text.includes('14:émoji 😀 and ü'), text);
  assert.deepEqual(decode(text), fields);
  assert.deepEqual(decode(''), []);
  assert.deepEqual(decode('-1:a'), [undefined, 'a']);
});

test('a header list crosses as the UTF-8 of its field list, and never with a line break', () => {
  const utf8 = (list) => [...new TextEncoder().encode(encode(list))];
  for (const list of [
    ['sha256=abc', undefined, ''], [undefined, undefined], [], ['x'.repeat(5000), 'é', 'a'],
    ['ascii first', 'then 😀', undefined], ['1:-', '\u007f', '\u0080'],
  ]) {
    assert.deepEqual([...encodeBytes(list)], utf8(list), JSON.stringify(list).slice(0, 40));
  }
  for (const list of [['a\nb'], ['ok', 'a\rb'], ['é', 'x\n']]) assert.equal(encodeBytes(list), undefined);
});

test('a malformed list is refused, never misread', () => {
  for (const bad of ['x', '3:ab', 'a:b', '1', '1:a2']) {
    assert.throws(() => decode(bad), (e) => e instanceof HooksealError && e.code === 'invalid_input', bad);
  }
});

test('errors cross with their code and classification; the status follows from the code', () => {
  const e = fromCore(encode(['invalid_event', '1', 'the signature is valid but …']));
  assert.ok(e instanceof HooksealError);
  assert.deepEqual([e.code, e.status, e.signatureVerified, e.message], ['invalid_event', 400, true, 'the signature is valid but …']);
  const trap = new Error('unreachable');
  assert.equal(fromCore(trap), trap);
});

test('every status comes from the core table, across the boundary too', () => {
  assert.equal(STATUSES.get('signature_mismatch'), 401);
  assert.equal(STATUSES.get('handshake_rejected'), 403);
  assert.equal(STATUSES.get('body_too_large'), 413);
  assert.equal(STATUSES.get('dedup_unavailable'), 503);
  const wh = new Webhook('mossmoon', 'secret');
  assert.throws(() => wh.verify('{}', { 'x-mossmoon-signature': '00'.repeat(32) }),
    (e) => e.code === 'signature_mismatch' && e.status === 401 && statusFor(e) === 401);
  assert.throws(() => new Webhook('nope', 'secret'), (e) => e.code === 'unknown_scheme' && e.status === 500);
  assert.equal(statusFor(new Error('not ours')), 500);
  assert.equal(new HooksealError('body_too_large', 'x').status, 413);
});

test('values with separators, line breaks and astral characters reach the core intact', () => {
  // A secret full of the format's own characters, and a header value the core must see whole.
  const secrets = ['-', '3:x', '1:', 'sé😀:-', '💥'.repeat(40)];
  const body = '{"event":"message.received"}';
  for (const [i, s] of secrets.entries()) {
    const mac = createHmac('sha256', Buffer.from(s)).update(body).digest('hex');
    assert.equal(new Webhook('mossmoon', secrets).verify(body, { 'x-mossmoon-signature': mac }).secretIndex, i, s);
  }
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const id = 'msg_😀:-1:x';
  const h = std.sign(body, { id, timestamp: 1_700_000_000 });
  assert.deepEqual({ ...std.verify(body, h, { now: 1_700_000_000 }) }, { secretIndex: 0, timestamp: 1_700_000_000, id });
});

test('a header value or request line with a line break is refused before the core', () => {
  const wh = new Webhook('mossmoon', 'secret');
  const mac = createHmac('sha256', 'secret').update('{}').digest('hex');
  assert.equal(wh.verify('{}', { 'x-mossmoon-signature': mac }).secretIndex, 0);
  assert.throws(() => wh.verify('{}', { 'x-mossmoon-signature': `${mac}\r\nx-evil: 1` }),
    (e) => e.code === 'invalid_input' && /line break/.test(e.message));
  const twilio = new Webhook('twilio', 'token');
  assert.throws(() => twilio.verify('a=1', { 'x-twilio-signature': 'AAAA' }, { method: 'POST', url: 'https://a.example/\nx' }),
    (e) => e.code === 'invalid_input' && /single line/.test(e.message));
});

test('text bodies and long header lists cross as UTF-8, whatever their size', () => {
  // A string body is verified as its UTF-8 bytes, the same as the Buffer.
  const wh = new Webhook('mossmoon', 'secret');
  for (const body of ['Olá 😀 ü', 'x'.repeat(70_000) + 'é']) {
    const mac = createHmac('sha256', 'secret').update(Buffer.from(body)).digest('hex');
    assert.equal(wh.verify(body, { 'x-mossmoon-signature': mac }).secretIndex, 0);
    assert.equal(wh.verify(Buffer.from(body), { 'x-mossmoon-signature': mac }).secretIndex, 0);
  }
  // A signature header longer than any earlier call's field list, the good entry last.
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const h = std.sign('{}', { id: 'msg_1', timestamp: 1_700_000_000 });
  const stale = Array.from({ length: 14 }, (_, i) => `v1,${Buffer.alloc(32, i).toString('base64')}`).join(' ');
  h['webhook-signature'] = `${stale} ${h['webhook-signature']}`;
  assert.equal(std.verify('{}', h, { now: 1_700_000_000 }).id, 'msg_1');
});

test('the buffers reused from call to call hold each call\'s own bytes, re-entered or not', () => {
  const wh = new Webhook('mossmoon', 'secret');
  const mac = (b) => createHmac('sha256', 'secret').update(Buffer.from(b)).digest('hex');
  const outer = '{"outer":"Olá, a body longer than the inner one"}';
  const inner = '{"inner":"😀"}';
  // A header getter that verifies another string body (and header list) first: the outer call
  // must still verify its own body and its own signature.
  let innerRan = false;
  const headers = {
    get 'x-mossmoon-signature'() {
      innerRan = wh.verify(inner, { 'x-mossmoon-signature': mac(inner) }).secretIndex === 0;
      return mac(outer);
    },
  };
  assert.equal(wh.verify(outer, headers).secretIndex, 0);
  assert.ok(innerRan);
  // Bodies and lists of every size in turn, past what the buffers keep and back.
  for (const n of [10, 100_000, 3, 30_000, 0]) {
    const body = JSON.stringify({ event: 'webhook.test', id: `evt_${n}`, text: 'é'.repeat(n) });
    assert.equal(wh.verify(body, { 'x-mossmoon-signature': mac(body) }).secretIndex, 0, `${n}`);
    assert.equal(wh.parse(body, { 'x-mossmoon-signature': mac(body) }).verified.secretIndex, 0, `${n}`);
  }
  const signed = wh.sign('é');
  assert.equal(signed['X-Mossmoon-Signature'], mac('é'));
});
