// The package's API in Node: body and header forms, errors, options, and the HTTP helpers over
// real sockets.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import os from 'node:os';
import vm from 'node:vm';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMIT, Webhook, HooksealError, metaHandshake, middleware, readBody, statusFor, verifyRequest,
} from 'hookseal';

const SECRET = 'mm_secret_for_tests_0123456789';
const body = '{"event":"line.ready","id":"evt_1","line_id":"ln_1","note":"Olá 👍"}';
const wh = new Webhook('mossmoon', SECRET);
const sig = wh.sign(body)['X-Mossmoon-Signature'];
const bytes = new TextEncoder().encode(body);

test('every body form verifies the same bytes', () => {
  const forms = [
    body,
    bytes,
    Buffer.from(body),
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  ];
  // A view into the middle of a larger buffer, as stream chunks and pools produce.
  const big = new Uint8Array(bytes.length + 20);
  big.set(bytes, 10);
  forms.push(big.subarray(10, 10 + bytes.length));
  for (const b of forms) {
    assert.deepEqual(wh.verify(b, { 'x-mossmoon-signature': sig }), { secretIndex: 0 });
  }
  assert.throws(() => wh.verify({ not: 'bytes' }, { 'x-mossmoon-signature': sig }),
    (e) => e instanceof HooksealError && e.code === 'invalid_input' && /raw body/.test(e.message));
  assert.throws(() => wh.verify(JSON.parse(body), { 'x-mossmoon-signature': sig }),
    (e) => e.code === 'invalid_input');
});

test('bodies from another realm verify (a vm context, as bundlers and test runners create)', () => {
  const foreign = vm.runInNewContext(`new Uint8Array([${Array.from(bytes).join(',')}])`);
  assert.ok(!(foreign instanceof Uint8Array));
  assert.equal(wh.verify(foreign, { 'x-mossmoon-signature': sig }).secretIndex, 0);
  const foreignBuffer = vm.runInNewContext(`new Uint8Array([${Array.from(bytes).join(',')}]).buffer`);
  assert.equal(wh.verify(foreignBuffer, { 'x-mossmoon-signature': sig }).secretIndex, 0);
});

test('results are frozen; a value that cannot be a header is refused, not misread', () => {
  const plain = wh.verify(body, { 'x-mossmoon-signature': sig });
  assert.ok(Object.isFrozen(plain));
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const h = std.sign(body, { id: 'msg_1' });
  const v = std.verify(body, h);
  assert.ok(Object.isFrozen(v));
  assert.equal(v.id, 'msg_1');
  assert.throws(() => std.sign(body, { id: 'msg_1\nx-injected: 1' }), (e) => e.code === 'invalid_input');
  assert.throws(() => wh.verify(body, { 'x-mossmoon-signature': `${sig}\nx` }), (e) => e.code === 'invalid_input');
  assert.throws(() => wh.verify(body, { 'x-mossmoon-signature': sig }, { now: 'soon' }), (e) => e.code === 'invalid_input');
  assert.throws(() => wh.verify(body, { 'x-mossmoon-signature': sig }, { method: 1 }), (e) => e.code === 'invalid_input');
});

test('the published .wasm names no path of the machine that built it', () => {
  const wasm = readFileSync(new URL('../../build/pkg/dist/hookseal_bg.wasm', import.meta.url));
  const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
  for (const path of [root, os.homedir(), process.env.CARGO_HOME].filter((p) => p && p.length > 1)) {
    assert.equal(wasm.indexOf(Buffer.from(path)), -1, `the .wasm contains ${path}`);
  }
});

test('every header form is read, in any case', () => {
  const forms = [
    new Headers({ 'X-Mossmoon-Signature': sig }),
    new Map([['x-mossmoon-signature', sig]]),
    new Map([['X-Mossmoon-Signature', sig]]),
    { 'x-mossmoon-signature': sig },
    { 'X-MOSSMOON-SIGNATURE': sig },
    { 'x-mossmoon-signature': [sig] },
  ];
  for (const h of forms) assert.equal(wh.verify(body, h).secretIndex, 0);
  assert.throws(() => wh.verify(body, {}), (e) => e.code === 'missing_header' && /X-Mossmoon-Signature/.test(e.message));
  assert.throws(() => wh.verify(body, null), (e) => e.code === 'invalid_input');
});

test('errors are HooksealError with stable codes and never echo the secret', () => {
  let caught;
  try {
    wh.verify(body + ' ', { 'x-mossmoon-signature': sig });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof HooksealError);
  assert.ok(caught instanceof Error);
  assert.equal(caught.name, 'HooksealError');
  assert.equal(caught.code, 'signature_mismatch');
  assert.equal(caught.signatureVerified, false);
  assert.match(caught.message, /re-serialised/);
  assert.ok(!caught.message.includes(SECRET));
  assert.ok(!String(caught.stack).includes(SECRET));
  assert.equal(statusFor(caught), 401);
  assert.throws(() => new Webhook('mossmoon', 'sha256=' + 'ab'.repeat(32)),
    (e) => e.code === 'invalid_secret' && /looks like a signature/.test(e.message));
  assert.throws(() => new Webhook('nope', 'x'), (e) => e.code === 'unknown_scheme');
  assert.throws(() => new Webhook('mossmoon', []), (e) => e.code === 'invalid_config');
  assert.throws(() => new Webhook('mossmoon', 'secret\n'), (e) => e.code === 'invalid_secret' && statusFor(e) === 500);
});

test('rotation, tolerance and the clock are options', () => {
  const rotated = new Webhook('mossmoon', ['old-secret-0001', SECRET]);
  assert.equal(rotated.verify(body, { 'x-mossmoon-signature': sig }).secretIndex, 1);
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const h = std.sign(body, { id: 'msg_1', timestamp: 1_000_000 });
  assert.throws(() => std.verify(body, h), (e) => e.code === 'timestamp_too_old');
  assert.equal(std.verify(body, h, { now: 1_000_100 }).timestamp, 1_000_000);
  assert.throws(() => std.verify(body, h, { now: 1_000_000 - 301 }), (e) => e.code === 'timestamp_in_future');
  const wide = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { tolerance: false });
  assert.equal(wide.verify(body, h).id, 'msg_1');
  const window = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { tolerance: { past: 10, future: 10 } });
  assert.throws(() => window.verify(body, h, { now: 1_000_011 }), (e) => e.code === 'timestamp_too_old');
  assert.throws(() => new Webhook('stripe', 'whsec_x', { tolerance: 'soon' }), (e) => e.code === 'invalid_config');
});

test('rotation keeps every secret whole: separators, non-ASCII, astral and lone surrogates', () => {
  const secrets = ['a:1', '12:x', 'sé:cr😀t', 'lone\uD800half', '😀'];
  for (const [i, secret] of secrets.entries()) {
    // node:crypto signs with the secret as UTF-8 (a lone surrogate becomes U+FFFD, as in hookseal).
    const mac = createHmac('sha256', Buffer.from(secret)).update(body).digest('hex');
    const rotated = new Webhook('mossmoon', secrets);
    assert.equal(rotated.verify(body, { 'x-mossmoon-signature': mac }).secretIndex, i, secret);
  }
  const hs = new Webhook('hubspot', 'hubspot-secret');
  assert.throws(() => hs.verify(body, {}, { method: 'POST', url: 'https://example.com/\nx' }), (e) => e.code === 'invalid_input');
});

test('a generic scheme is configured by data', () => {
  const acme = new Webhook({
    generic: { signatureHeader: 'X-Acme-Signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', signed: '{timestamp}.{body}', timestampHeader: 'X-Acme-Time' },
  }, 'acme-secret');
  assert.equal(acme.scheme, 'generic');
  const h = acme.sign(body, { timestamp: 1_700_000_000 });
  assert.match(h['X-Acme-Signature'], /^sha512=/);
  assert.equal(acme.verify(body, h, { now: 1_700_000_000 }).timestamp, 1_700_000_000);
  assert.throws(() => new Webhook({ generic: { signatureHeader: 'X', algorithm: 'md5', encoding: 'hex' } }, 's'),
    (e) => e.code === 'invalid_config');
  assert.throws(() => new Webhook({ generic: { signatureHeader: 'X', algorithm: 'sha256', encoding: 'hex', signed: '{timestamp}' } }, 's'),
    (e) => e.code === 'invalid_config' && /\{body\}/.test(e.message));
});

test('HubSpot signs the method and URL', () => {
  const hs = new Webhook('hubspot', 'hubspot-secret');
  const url = 'https://example.com/hook?x=a%3Ab';
  const h = hs.sign(body, { timestamp: 1_700_000_000, method: 'POST', url });
  assert.equal(hs.verify(body, h, { now: 1_700_000_000, method: 'POST', url }).timestamp, 1_700_000_000);
  assert.throws(() => hs.verify(body, h, { now: 1_700_000_000 }), (e) => e.code === 'missing_request_target');
});

test('metaHandshake answers the challenge only for the right token', () => {
  assert.equal(metaHandshake('hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444', 'tok'), '1158201444');
  assert.equal(metaHandshake(new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': 'tok', 'hub.challenge': 'c' }), 'tok'), 'c');
  assert.equal(metaHandshake({ 'hub.mode': 'subscribe', 'hub.verify_token': 'tok', 'hub.challenge': 'c' }, 'tok'), 'c');
  assert.throws(() => metaHandshake('?hub.mode=subscribe&hub.verify_token=bad&hub.challenge=1', 'tok'),
    (e) => e.code === 'handshake_rejected' && statusFor(e) === 403 && e.status === 403);
});

test('verifyRequest reads a Fetch Request once', async () => {
  const req = new Request('https://example.com/hook', { method: 'POST', body, headers: { 'x-mossmoon-signature': sig } });
  const { verified, events, body: raw } = await verifyRequest(wh, req);
  assert.equal(verified.secretIndex, 0);
  assert.equal(events[0].dedupKey, 'mossmoon:evt_1');
  assert.equal(new TextDecoder().decode(raw), body);
  const big = new Request('https://example.com/hook', { method: 'POST', body: 'x'.repeat(2000), headers: { 'x-mossmoon-signature': sig } });
  await assert.rejects(verifyRequest(wh, big, { limit: 1000 }), (e) => e.code === 'body_too_large' && statusFor(e) === 413);
});

/** Runs `handler` on a real server on 127.0.0.1 and POSTs to it. */
async function roundTrip(handler, { payload = body, headers = { 'x-mossmoon-signature': sig } } = {}) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/hook`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, json: await res.json() };
  } finally {
    server.close();
  }
}

test('middleware verifies over real HTTP and answers refusals itself', async () => {
  const mw = middleware(wh);
  const ok = await roundTrip((req, res) => mw(req, res, () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ type: req.hookseal.events[0].type, bytes: req.hookseal.body.length }));
  }));
  assert.deepEqual(ok, { status: 200, json: { type: 'line.ready', bytes: Buffer.byteLength(body) } });
  const forged = await roundTrip((req, res) => mw(req, res, () => res.end('{}')), { payload: body.replace('evt_1', 'evt_2') });
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error, 'signature_mismatch');
  const big = await roundTrip((req, res) => middleware(wh, { limit: 10 })(req, res, () => res.end('{}')));
  assert.deepEqual([big.status, big.json.error], [413, 'body_too_large']);
});

test('readBody refuses a body a JSON parser already consumed', async () => {
  const parsed = await roundTrip(async (req, res) => {
    for await (const _ of req); // eslint-disable-line no-unused-vars
    req.body = { event: 'line.ready' };
    try {
      await readBody(req);
      res.end('{"read":true}');
    } catch (e) {
      res.statusCode = statusFor(e);
      res.end(JSON.stringify({ error: e.code }));
    }
  });
  assert.deepEqual(parsed, { status: 400, json: { error: 'body_already_parsed' } });
});

test('a 2.5 MB Meta payload passes verifyRequest and middleware with their default limits', async () => {
  assert.equal(DEFAULT_LIMIT, 4 * 1024 * 1024);
  const meta = new Webhook('meta', 'meta-app-secret');
  assert.equal(meta.maxBodyBytes, 4 * 1024 * 1024, 'above Meta\'s documented 3 MB');
  assert.equal(new Webhook('github', 'gh-secret').maxBodyBytes, 25 * 1024 * 1024, 'GitHub caps payloads at 25 MB');
  const texts = [0, 1, 2].map((i) => `${i}`.repeat(830 * 1024));
  const payload = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '1', phone_number_id: '2' },
      messages: texts.map((text, i) => ({ from: '15559876543', id: `wamid.big${i}`, timestamp: '1781275331', type: 'text', text: { body: text } })),
    } }] }],
  });
  assert.ok(payload.length > 2_500_000);
  const headers = meta.sign(payload);
  const req = new Request('https://example.com/hook', { method: 'POST', body: payload, headers });
  const { events } = await verifyRequest(meta, req);
  assert.deepEqual(events.map((e) => e.message.text.length), texts.map((t) => t.length));
  const mw = middleware(meta);
  const res = await roundTrip((rq, rs) => mw(rq, rs, () => rs.end(JSON.stringify({ n: rq.hookseal.events.length }))), { payload, headers });
  assert.deepEqual(res, { status: 200, json: { n: 3 } });
});
