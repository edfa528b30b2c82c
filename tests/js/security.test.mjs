// The security review's findings (issue "Close the holes a security review found"), each tried
// the way the review tried it, through the built package and, for the HTTP helpers, real sockets.
import http from 'node:http';
import net from 'node:net';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, HooksealError, middleware, readBody, requestUrl, verifyRequest } from 'hookseal';

const body = '{"event":"line.ready","id":"evt_1","line_id":"ln_1"}';
const emptyKeyHex = (alg, data) => createHmac(alg, Buffer.alloc(0)).update(data).digest('hex');

test('1. a key that decodes to nothing or to zero bytes is refused in every encoding', () => {
  const simple = { signatureHeader: 'X-Sig', algorithm: 'sha256', encoding: 'hex' };
  const cases = [
    [{ generic: { ...simple, secretEncoding: 'base64' } }, '=='],
    [{ generic: { ...simple, secretEncoding: 'base64' } }, 'AAAAAA'],
    [{ generic: { ...simple, secretEncoding: 'hex' } }, '00000000'],
    [{ generic: { ...simple, secretEncoding: 'utf8' } }, '\0\0'],
    [{ generic: { ...simple, secretEncoding: 'whsec' } }, 'whsec_AAAAAAAAAAAAAAAAAAAAAA=='],
    ['standard-webhooks', 'whsec_AAAAAAAAAAAAAAAAAAAAAA=='],
    ['standard-webhooks', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['mossmoon', '\0'],
  ];
  for (const [scheme, secret] of cases) {
    assert.throws(() => new Webhook(scheme, secret), (e) => e instanceof HooksealError
      && e.code === 'invalid_secret' && /empty key|no bytes/.test(e.message), JSON.stringify([scheme, secret]));
  }
  // Rotation: one degenerate secret among good ones refuses the whole configuration.
  assert.throws(() => new Webhook({ generic: { ...simple, secretEncoding: 'base64' } }, ['c2VjcmV0LWtleQ==', '==']),
    (e) => e.code === 'invalid_secret');
  // So the empty-key forgery from the review has nothing to verify against.
  const good = new Webhook({ generic: { ...simple, secretEncoding: 'base64' } }, 'c2VjcmV0LWtleQ==');
  assert.throws(() => good.verify(body, { 'X-Sig': emptyKeyHex('sha256', body) }), (e) => e.code === 'signature_mismatch');
});

test('2. a timestamp or id header the template does not sign is invalid_config', () => {
  const base = { signatureHeader: 'X-Sig', algorithm: 'sha256', encoding: 'hex' };
  for (const extra of [{ timestampHeader: 'X-Ts' }, { idHeader: 'X-Id' }, { signed: '{id}.{body}', idHeader: 'X-Id', timestampHeader: 'X-Ts' }]) {
    assert.throws(() => new Webhook({ generic: { ...base, ...extra } }, 'a-secret'),
      (e) => e.code === 'invalid_config' && /unsigned|not sign|no `\{/.test(e.message), JSON.stringify(extra));
  }
  // Signed, the window holds: rewriting the timestamp breaks the signature, removing it is refused.
  const wh = new Webhook({ generic: { ...base, signed: '{timestamp}.{body}', timestampHeader: 'X-Ts' } }, 'a-secret');
  const h = wh.sign(body, { timestamp: 1_000_000 });
  assert.equal(h['X-Ts'], '1000000');
  assert.throws(() => wh.verify(body, h, { now: 1_000_000 + 301 }), (e) => e.code === 'timestamp_too_old');
  assert.throws(() => wh.verify(body, { ...h, 'X-Ts': String(1_000_000 + 301) }, { now: 1_000_000 + 301 }),
    (e) => e.code === 'signature_mismatch');
  assert.throws(() => wh.verify(body, { 'X-Sig': h['X-Sig'] }, { now: 1_000_000 }), (e) => e.code === 'missing_header');
});

/** A server running `handler`; returns its base URL and a closer. */
async function serve(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

test('3. verifyRequest stops reading at the limit; it never buffers the whole body', async () => {
  const wh = new Webhook('mossmoon', 'mm-secret-0123456789');
  let pulled = 0;
  const chunk = new Uint8Array(64 * 1024);
  const stream = new ReadableStream({
    pull(controller) {
      pulled += chunk.byteLength;
      if (pulled > 256 * 1024 * 1024) controller.close();
      else controller.enqueue(chunk);
    },
  });
  // Chunked: no content-length to refuse it up front.
  const req = new Request('https://example.com/hook', { method: 'POST', body: stream, duplex: 'half', headers: { 'x-mossmoon-signature': 'ab' } });
  await assert.rejects(verifyRequest(wh, req, { limit: 1024 * 1024 }), (e) => e.code === 'body_too_large');
  assert.ok(pulled <= 1024 * 1024 + 4 * chunk.byteLength, `read ${pulled} bytes for a 1 MiB limit`);
});

test('3. readBody keeps the app\'s own listeners; a 413 asks the client to close', async () => {
  const wh = new Webhook('mossmoon', 'mm-secret-0123456789');
  const mw = middleware(wh, { limit: 64 * 1024 });
  let appListenerKept;
  let appBytes = 0;
  const srv = await serve((req, res) => {
    req.on('data', (c) => { appBytes += c.length; }); // the app's own listener, attached first
    mw(req, res, () => res.end('{}'));
    res.on('finish', () => { appListenerKept = req.listenerCount('data') === 1; });
  });
  try {
    // A chunked body of 4 MiB, written by a raw socket so we see exactly what the server answers.
    const { port } = new URL(srv.url);
    const answer = await new Promise((resolve, reject) => {
      const s = net.connect(Number(port), '127.0.0.1', () => {
        s.write('POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nx-mossmoon-signature: ab\r\n\r\n');
        const piece = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < 64) {
            sent++;
            if (!s.write(`${piece.length.toString(16)}\r\n`) || !s.write(piece) || !s.write('\r\n')) return s.once('drain', pump);
          }
          s.write('0\r\n\r\n');
        };
        pump();
      });
      let text = '';
      s.on('data', (d) => { text += d; });
      s.on('close', () => resolve(text));
      // The server closes once it has answered, while we may still be writing: EPIPE or a reset
      // then, which is the point. Only a failure to connect at all is a failure.
      s.on('error', (e) => { if (e.code === 'ECONNREFUSED') reject(e); });
    });
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.match(answer, /"error":"body_too_large"/);
    assert.equal(appListenerKept, true, "readBody removed the app's own 'data' listener");
    assert.ok(appBytes > 64 * 1024, 'the app listener kept receiving data');
  } finally {
    srv.close();
  }
});

test('3. readBody over the limit rejects without keeping the rest', async () => {
  const srv = await serve(async (req, res) => {
    try {
      await readBody(req, { limit: 1000 });
      res.end('read');
    } catch (e) {
      res.statusCode = 413;
      res.end(e.code);
    }
  });
  try {
    const res = await fetch(`${srv.url}/x`, { method: 'POST', body: 'x'.repeat(50_000) });
    assert.deepEqual([res.status, await res.text()], [413, 'body_too_large']);
  } finally {
    srv.close();
  }
});

test('4. unsigned headers are never reported as verified, and never make the dedup key', () => {
  const gh = new Webhook('github', 'gh-secret');
  const payload = '{"action":"opened","issue":{"number":1}}';
  const h = { ...gh.sign(payload), 'X-GitHub-Delivery': 'd-1', 'X-GitHub-Event': 'issues' };
  assert.deepEqual({ ...gh.verify(payload, h) }, { secretIndex: 0 });
  const first = gh.parse(payload, h);
  assert.equal(first.verified.id, undefined);
  assert.equal(first.events[0].id, 'd-1'); // reported as the provider sent it
  // A replay with a fresh delivery id and another event name: the same dedup key.
  const replay = gh.parse(payload, { ...h, 'X-GitHub-Delivery': 'd-2', 'X-GitHub-Event': 'pull_request' });
  assert.equal(replay.events[0].dedupKey, first.events[0].dedupKey);
  assert.match(first.events[0].dedupKey, /^github:sha256:[0-9a-f]{64}$/);

  const shop = new Webhook('shopify', 'shpss_secret');
  const sh = { ...shop.sign(payload), 'X-Shopify-Webhook-Id': 'w-1', 'X-Shopify-Topic': 'orders/create' };
  const a = shop.parse(payload, sh);
  const b = shop.parse(payload, { ...sh, 'X-Shopify-Webhook-Id': 'w-2', 'X-Shopify-Topic': 'orders/paid' });
  assert.equal(a.verified.id, undefined);
  assert.equal(a.events[0].dedupKey, b.events[0].dedupKey);
});

test('5. the URL a signature covers is built from forwarding headers only when trusted', async () => {
  const fake = (url, headers, encrypted = false) => ({ url, headers, socket: { encrypted } });
  const r = fake('/hooks/hs?a=1', { host: 'app.internal:3000', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
  assert.equal(requestUrl(r), 'http://app.internal:3000/hooks/hs?a=1');
  assert.equal(requestUrl(r, { trustProxy: true }), 'https://evil.example/hooks/hs?a=1');
  assert.equal(requestUrl(r, { publicUrl: 'https://hooks.example.com/ignored' }), 'https://hooks.example.com/hooks/hs?a=1');
  // An absolute-form target contributes its path only.
  assert.equal(requestUrl(fake('http://evil.example/hooks/hs', { host: 'good.example' })), 'http://good.example/hooks/hs');
  assert.equal(requestUrl(fake('/x', { host: 'good.example' }, true)), 'https://good.example/x');

  // Over real HTTP: a HubSpot signature made for another host does not verify by default.
  const hs = new Webhook('hubspot', 'hubspot-secret');
  let mw = middleware(hs, { now: 1_700_000_000 });
  const srv = await serve((req, res) => mw(req, res, () => res.end('ok')));
  try {
    const send = (url, headers) => fetch(`${srv.url}/hooks/hs`, { method: 'POST', body, headers: { ...hs.sign(body, { timestamp: 1_700_000_000, method: 'POST', url }), ...headers } });
    const own = `${srv.url}/hooks/hs`;
    assert.equal((await send(own)).status, 200);
    const forged = await send('https://evil.example/hooks/hs', { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    assert.equal(forged.status, 401);
    mw = middleware(hs, { now: 1_700_000_000, trustProxy: true });
    assert.equal((await send('https://proxy.example/hooks/hs', { 'x-forwarded-host': 'proxy.example', 'x-forwarded-proto': 'https' })).status, 200);
    mw = middleware(hs, { now: 1_700_000_000, publicUrl: 'https://hooks.example.com' });
    assert.equal((await send('https://hooks.example.com/hooks/hs')).status, 200);
  } finally {
    srv.close();
  }
});

test('6. a tolerance never fails open', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  for (const tolerance of [NaN, Infinity, -Infinity, { past: NaN, future: NaN }, { past: 300, future: Infinity },
    { past: 300 }, { future: 300 }, {}, 1.5, -1, null, 'soon']) {
    assert.throws(() => new Webhook('standard-webhooks', secret, { tolerance }),
      (e) => e.code === 'invalid_config', String(JSON.stringify(tolerance) ?? tolerance));
  }
  const wh = new Webhook('standard-webhooks', secret, { tolerance: { past: 300, future: null } });
  const h = wh.sign(body, { id: 'msg_1', timestamp: 1_000_000 });
  assert.throws(() => wh.verify(body, h, { now: 1_000_301 }), (e) => e.code === 'timestamp_too_old');
  assert.equal(wh.verify(body, h, { now: 0 }).timestamp, 1_000_000);
});

test('7. a secret given in the scheme\'s place never reaches the error', () => {
  const secret = '9f86d081884c7d659a2feaa0c55ad015';
  assert.throws(() => new Webhook(secret, 'meta'), (e) => e.code === 'unknown_scheme'
    && !e.message.includes('9f86') && /32 characters/.test(e.message) && /swap/.test(e.message));
});

test('8. dedup key parts cannot be shifted into each other', () => {
  const wh = new Webhook('moltflow', 'mf-secret');
  const event = (sessionId, newStatus) => JSON.stringify({
    event: 'session.status_changed', timestamp: '2026-02-13T10:35:00Z',
    data: { session_id: sessionId, old_status: 'qr', new_status: newStatus },
  });
  const key = (b) => wh.parse(b, wh.sign(b)).events[0].dedupKey;
  assert.notEqual(key(event('s1:working', 'failed')), key(event('s1', 'working:failed')));
});

test('10. re-entrancy, detached buffers, use after free, huge bodies, trimmed ids', () => {
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  const outer = std.sign(body, { id: 'msg_outer', timestamp: 1_000_000 });
  const inner = std.sign(body, { id: 'msg_inner', timestamp: 1_000_001 });
  // A getter on `now` that verifies another request first.
  const options = { get now() { std.verify(body, inner, { now: 1_000_001 }); return 1_000_000; } };
  assert.deepEqual({ ...std.verify(body, outer, options) }, { secretIndex: 0, id: 'msg_outer', timestamp: 1_000_000 });

  const ab = new TextEncoder().encode(body).buffer;
  const views = [new Uint8Array(ab), new DataView(ab), new Uint16Array(ab, 0, 2)];
  structuredClone(ab, { transfer: [ab] });
  const mm = new Webhook('mossmoon', 'mm-secret-0123456789');
  for (const detached of [ab, ...views]) {
    assert.throws(() => mm.verify(detached, { 'x-mossmoon-signature': 'ab' }), (e) => e.code === 'invalid_input' && /detached/.test(e.message));
  }

  const freed = new Webhook('mossmoon', 'mm-secret-0123456789');
  freed.free();
  assert.throws(() => freed.verify(body, {}), (e) => e.code === 'invalid_input' && /freed/.test(e.message));
  assert.throws(() => freed.sign(body), (e) => e.code === 'invalid_input');
  freed.free(); // twice is harmless

  const huge = new Uint8Array(2 ** 31); // zero pages, not touched
  assert.throws(() => mm.verify(huge, { 'x-mossmoon-signature': 'ab' }), (e) => e.code === 'body_too_large');
  assert.equal(mm.verify(body, mm.sign(body)).secretIndex, 0, 'the instance still works');

  const spaced = { ...outer, 'webhook-id': '  msg_outer\t' };
  assert.equal(std.verify(body, spaced, { now: 1_000_000 }).id, 'msg_outer');
  assert.equal(std.parse(body, spaced, { now: 1_000_000 }).verified.id, 'msg_outer');
});
