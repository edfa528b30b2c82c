// Verification benchmark: hookseal against what users would otherwise pick, same run, same
// inputs, interleaved (rep 1 of every contender, then rep 2, ...). Every contender must accept
// the valid input and reject the tampered one before it is timed.
//
//   node --expose-gc bench/verify.mjs [--reps 7] [--ms 60] [--quick]
//
// Writes bench/results/verify.json; bench/report.mjs turns the results into bench/RESULTS.md.
import crypto, { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import Stripe from 'stripe';
import { Webhook } from 'hookseal';
import { environment } from './env.mjs';
import { median } from './common.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const QUICK = args.includes('--quick');
const REPS = opt('reps', QUICK ? 3 : 7);
const BATCH_MS = opt('ms', QUICK ? 20 : 60);
const SIZES = QUICK ? [256, 1024] : [256, 1024, 16 * 1024, 256 * 1024];

const subtle = crypto.webcrypto.subtle;
const enc = new TextEncoder();
const SECRET = 'bench-secret-4c7e1a9f2b6d8e0a3f5c';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WHSEC_KEY = Buffer.from(WHSEC.slice(6), 'base64');
const STRIPE_SECRET = 'whsec_stripe_bench_0123456789abcdef';
const stripe = new Stripe('sk_test_bench');

/** A realistic WhatsApp event (a Mossmoon `message.received`, non-ASCII text) of exactly `size`
 * bytes, grown with a history of earlier messages and a final ASCII pad. */
function body(size) {
  const texts = ['Olá! Vocês entregam em São Paulo? 🚚', 'Preço do plano anual? 💳', 'Obrigado 🙏 até amanhã', 'Can I change my order #4521?', '¿Tienen envío gratis? ✨'];
  const history = [];
  const doc = (pad) => JSON.stringify({
    event: 'message.received', id: 'evt_aBcD1234', line_id: 'ln_8KQ9pP2nR',
    message: { id: 'msg_PfQ8vR2nW', from: '+5511999990000', type: 'text', text: texts[0], received_at: '2026-06-12T14:42:11Z' },
    history, pad,
  });
  let i = 0;
  while (Buffer.byteLength(doc('')) < size - 120) {
    history.push({ id: `msg_h${i}`, text: texts[i % texts.length], at: 1781275331 - i });
    i++;
  }
  const missing = size - Buffer.byteLength(doc(''));
  if (missing < 0) throw new Error(`no ${size}-byte body: the smallest is ${Buffer.byteLength(doc(''))}`);
  const s = doc('x'.repeat(missing));
  if (Buffer.byteLength(s) !== size) throw new Error(`body size ${Buffer.byteLength(s)} != ${size}`);
  return Buffer.from(s);
}

const hexBytes = (h) => Buffer.from(h, 'hex');
const eqBytes = (a, b) => a.length === b.length && timingSafeEqual(a, b);
const lower = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

// ---- scenarios: how each contender verifies one request ---------------------------------------

/** The hookseal contender of a scenario: one `Webhook`, secret prepared once. */
function hooksealContender(scheme, secret) {
  return () => {
    const wh = new Webhook(scheme, secret);
    return (b, h) => { try { wh.verify(b, h); return true; } catch { return false; } };
  };
}

function hmacHexScenario(name, scheme, alg, header) {
  const nobleHash = alg === 'sha256' ? sha256 : sha512;
  const webAlg = alg === 'sha256' ? 'SHA-256' : 'SHA-512';
  return {
    name,
    sign: (b) => lower(new Webhook(scheme, SECRET).sign(b)),
    stringBody: true,
    contenders: {
      hookseal: hooksealContender(scheme, SECRET),
      'hookseal (secret per call)': () => (b, h) => { try { new Webhook(scheme, SECRET).verify(b, h); return true; } catch { return false; } },
      'node:crypto': () => {
        const key = createSecretKey(Buffer.from(SECRET));
        return (b, h) => eqBytes(createHmac(alg, key).update(b).digest(), hexBytes(h[header]));
      },
      'node:crypto (secret per call)': () => (b, h) => eqBytes(createHmac(alg, SECRET).update(b).digest(), hexBytes(h[header])),
      webcrypto: async () => {
        const key = await subtle.importKey('raw', enc.encode(SECRET), { name: 'HMAC', hash: webAlg }, false, ['verify']);
        return (b, h) => subtle.verify('HMAC', key, hexBytes(h[header]), typeof b === 'string' ? enc.encode(b) : b);
      },
      '@noble/hashes': () => {
        const key = enc.encode(SECRET);
        return (b, h) => eqBytes(Buffer.from(hmac(nobleHash, key, typeof b === 'string' ? enc.encode(b) : b)), hexBytes(h[header]));
      },
    },
  };
}

const githubScenario = {
  name: 'sha256= hex (GitHub, Meta)',
  sign: (b) => lower(new Webhook('github', SECRET).sign(b)),
  contenders: {
    hookseal: hooksealContender('github', SECRET),
    'node:crypto': () => {
      const key = createSecretKey(Buffer.from(SECRET));
      return (b, h) => eqBytes(createHmac('sha256', key).update(b).digest(), hexBytes(h['x-hub-signature-256'].slice(7)));
    },
    webcrypto: async () => {
      const key = await subtle.importKey('raw', enc.encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      return (b, h) => subtle.verify('HMAC', key, hexBytes(h['x-hub-signature-256'].slice(7)), b);
    },
    '@octokit/webhooks-methods': () => (b, h) => octokitVerify(SECRET, b.toString(), h['x-hub-signature-256']),
  },
};

const standardScenario = {
  name: 'Standard Webhooks',
  // The libraries' docs pass the body as a string: the `string` rows are the ratio a user sees.
  stringBody: true,
  sign: (b) => lower(new Webhook('standard-webhooks', WHSEC).sign(b, { id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W' })),
  contenders: {
    hookseal: hooksealContender('standard-webhooks', WHSEC),
    'node:crypto': () => {
      const key = createSecretKey(WHSEC_KEY);
      return (b, h) => {
        const ts = Number(h['webhook-timestamp']);
        if (Math.abs(Date.now() / 1000 - ts) > 300) return false;
        const mac = createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.`).update(b).digest();
        return h['webhook-signature'].split(' ').some((s) => s.startsWith('v1,') && eqBytes(mac, Buffer.from(s.slice(3), 'base64')));
      };
    },
    webcrypto: async () => {
      const key = await subtle.importKey('raw', WHSEC_KEY, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      return async (b, h) => {
        const prefix = enc.encode(`${h['webhook-id']}.${h['webhook-timestamp']}.`);
        const body = typeof b === 'string' ? enc.encode(b) : b;
        const msg = new Uint8Array(prefix.length + body.length);
        msg.set(prefix);
        msg.set(body, prefix.length);
        return subtle.verify('HMAC', key, Buffer.from(h['webhook-signature'].slice(3), 'base64'), msg);
      };
    },
    standardwebhooks: () => {
      const wh = new StandardWebhook(WHSEC);
      return (b, h) => { try { wh.verify(b.toString(), h); return true; } catch { return false; } };
    },
    svix: () => {
      const wh = new SvixWebhook(WHSEC);
      const rename = (h) => ({ 'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'], 'svix-signature': h['webhook-signature'] });
      return (b, h) => { try { wh.verify(b.toString(), rename(h)); return true; } catch { return false; } };
    },
  },
};

const stripeScenario = {
  name: 'Stripe',
  stringBody: true,
  sign: (b) => lower(new Webhook('stripe', STRIPE_SECRET).sign(b)),
  contenders: {
    hookseal: hooksealContender('stripe', STRIPE_SECRET),
    'node:crypto': () => {
      const key = createSecretKey(Buffer.from(STRIPE_SECRET));
      return (b, h) => {
        const parts = Object.fromEntries(h['stripe-signature'].split(',').map((p) => p.split('=')));
        if (Date.now() / 1000 - Number(parts.t) > 300) return false;
        return eqBytes(createHmac('sha256', key).update(`${parts.t}.`).update(b).digest(), hexBytes(parts.v1));
      };
    },
    // constructEvent also parses the JSON: compare with hookseal's parse below as well.
    'stripe.webhooks.constructEvent': () => (b, h) => { try { stripe.webhooks.constructEvent(b, h['stripe-signature'], STRIPE_SECRET); return true; } catch { return false; } },
  },
};

const parseScenario = {
  name: 'Verify + parse to a JS object (Mossmoon)',
  sign: (b) => lower(new Webhook('mossmoon', SECRET).sign(b)),
  contenders: {
    hookseal: () => {
      const wh = new Webhook('mossmoon', SECRET);
      return (b, h) => { try { return wh.parse(b, h).events.length === 1; } catch { return false; } };
    },
    'node:crypto + JSON.parse': () => {
      const key = createSecretKey(Buffer.from(SECRET));
      return (b, h) => eqBytes(createHmac('sha256', key).update(b).digest(), hexBytes(h['x-mossmoon-signature'])) && JSON.parse(b).event === 'message.received';
    },
  },
};

const SCENARIOS = [
  hmacHexScenario('HMAC-SHA256 hex (Mossmoon)', 'mossmoon', 'sha256', 'x-mossmoon-signature'),
  hmacHexScenario('HMAC-SHA512 hex (MoltFlow)', 'moltflow', 'sha512', 'x-webhook-hmac'),
  githubScenario,
  standardScenario,
  stripeScenario,
  parseScenario,
];

// ---- timing ----------------------------------------------------------------------------------

/**
 * Runs `fn` for about BATCH_MS; returns ops/s and per-op latencies in µs. The heap is collected
 * first (node --expose-gc), so no contender pays for the garbage the previous one left.
 */
async function batch(fn, b, h, isAsync) {
  globalThis.gc?.();
  const lat = [];
  const deadline = performance.now() + BATCH_MS;
  let ops = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    for (let k = 0; k < 16; k++) {
      const t0 = process.hrtime.bigint();
      const ok = isAsync ? await fn(b, h) : fn(b, h);
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (!ok) throw new Error('a valid request failed while timing');
      ops++;
    }
  }
  return { opsPerSec: ops / ((performance.now() - start) / 1000), lat };
}

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };

const results = [];
for (const sc of SCENARIOS) {
  for (const size of SIZES) {
    const valid = body(size);
    const headers = sc.sign(valid);
    const tampered = Buffer.from(valid);
    tampered[tampered.length - 2] ^= 1;
    const forms = sc.stringBody ? [['bytes', valid], ['string', valid.toString()]] : [['bytes', valid]];
    for (const [form, b] of forms) {
      const tb = form === 'string' ? tampered.toString() : tampered;
      const fns = {};
      for (const [name, make] of Object.entries(sc.contenders)) {
        const fn = await make();
        const validOk = await fn(b, headers);
        const tamperedOk = await fn(tb, headers);
        if (validOk !== true || tamperedOk !== false) {
          throw new Error(`${sc.name} ${size} ${form}: ${name} accepted=${validOk} tampered=${tamperedOk}`);
        }
        fns[name] = { fn, isAsync: fn(b, headers) instanceof Promise };
      }
      const reps = Object.fromEntries(Object.keys(fns).map((n) => [n, []]));
      for (let r = 0; r < REPS; r++) {
        for (const [name, { fn, isAsync }] of Object.entries(fns)) reps[name].push(await batch(fn, b, headers, isAsync));
      }
      const base = reps['node:crypto'] ?? reps['node:crypto + JSON.parse'];
      for (const [name, rs] of Object.entries(reps)) {
        const lat = rs.flatMap((x) => x.lat);
        const row = {
          scenario: sc.name, size, body: form, contender: name,
          opsPerSec: median(rs.map((x) => x.opsPerSec)),
          p50us: pct(lat, 0.5), p99us: pct(lat, 0.99),
          ratioToNode: median(rs.map((x, i) => x.opsPerSec / base[i].opsPerSec)),
        };
        results.push(row);
        console.log(`${sc.name.padEnd(42)} ${String(size).padStart(6)} ${form.padEnd(6)} ${name.padEnd(32)} ${Math.round(row.opsPerSec).toString().padStart(9)} ops/s  p50 ${row.p50us.toFixed(2).padStart(8)} µs  p99 ${row.p99us.toFixed(2).padStart(8)} µs  ${row.ratioToNode.toFixed(2)}x`);
      }
    }
  }
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/verify.json', import.meta.url), JSON.stringify({
  ...environment(['@noble/hashes', '@octokit/webhooks-methods', 'standardwebhooks', 'svix', 'stripe']),
  reps: REPS, batchMs: BATCH_MS, date: new Date().toISOString(), results,
}, null, 1));
console.log('wrote bench/results/verify.json');
