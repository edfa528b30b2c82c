// The per-call verification benchmark, inside workerd (bundled by bench/workerd.mjs and run under
// Miniflare with nodejs_compat). Timers do not advance inside the isolate, so the harness times
// `GET /run?c=…&a=…&s=…&k=K` from outside and subtracts a K=0 request.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { Webhook } from 'hookseal';
import { eventBody } from '../common.mjs';

const SECRET = 'bench-secret-4c7e1a9f2b6d8e0a3f5c';
const enc = new TextEncoder();
const keyBytes = enc.encode(SECRET);
const hooksealFor = { sha256: new Webhook('mossmoon', SECRET), sha512: new Webhook('moltflow', SECRET) };
const headerFor = { sha256: 'x-mossmoon-signature', sha512: 'x-webhook-hmac' };
const nobleHash = { sha256, sha512 };
const webcryptoKeys = {};

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (h) => Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));

const cases = new Map();
function caseFor(alg, size) {
  const k = `${alg}:${size}`;
  if (!cases.has(k)) {
    const b = eventBody(size);
    const sig = hex(createHmac(alg, SECRET).update(b).digest());
    const tampered = b.slice();
    tampered[tampered.length - 2] ^= 1;
    cases.set(k, { body: b, sig, sigBytes: fromHex(sig), tampered, headers: { [headerFor[alg]]: sig } });
  }
  return cases.get(k);
}

function ctEqual(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Each contender's verify: true when authentic. WebCrypto's is async. */
const contenders = {
  hookseal: (alg, c, b) => {
    try {
      hooksealFor[alg].verify(b, c.headers);
      return true;
    } catch {
      return false;
    }
  },
  'node:crypto': (alg, c, b) => {
    const mac = createHmac(alg, SECRET).update(b).digest();
    return mac.length === c.sigBytes.length && timingSafeEqual(mac, c.sigBytes);
  },
  webcrypto: async (alg, c, b) => {
    webcryptoKeys[alg] ??= await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: alg === 'sha256' ? 'SHA-256' : 'SHA-512' }, false, ['verify']);
    return crypto.subtle.verify('HMAC', webcryptoKeys[alg], c.sigBytes, b);
  },
  '@noble/hashes': (alg, c, b) => ctEqual(hmac(nobleHash[alg], keyBytes, b), c.sigBytes),
  // Verify and parse into events: hookseal's typed events against createHmac + JSON.parse.
  'hookseal parse': (alg, c, b) => {
    try {
      return hooksealFor[alg].parse(b, c.headers).events.length === 1;
    } catch {
      return false;
    }
  },
  'node:crypto + JSON.parse': (alg, c, b) => {
    const mac = createHmac(alg, SECRET).update(b).digest();
    if (!(mac.length === c.sigBytes.length && timingSafeEqual(mac, c.sigBytes))) return false;
    return JSON.parse(new TextDecoder().decode(b)).event === 'message.received';
  },
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const name = url.searchParams.get('c');
    const alg = url.searchParams.get('a');
    const size = Number(url.searchParams.get('s'));
    const fn = contenders[name];
    if (!fn) return Response.json({ contenders: Object.keys(contenders) });
    const c = caseFor(alg, size);
    if (url.pathname === '/check') {
      // Accepts the valid request, refuses the tampered one, before anything is timed.
      return Response.json({ valid: await fn(alg, c, c.body), tampered: await fn(alg, c, c.tampered) });
    }
    const k = Number(url.searchParams.get('k'));
    let ok = 0;
    if (name === 'webcrypto') {
      for (let i = 0; i < k; i++) if (await fn(alg, c, c.body)) ok++;
    } else {
      for (let i = 0; i < k; i++) if (fn(alg, c, c.body)) ok++;
    }
    return Response.json({ ok });
  },
};
