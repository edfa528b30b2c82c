// Builds of hookseal against each other, in Node and inside workerd: the same scenarios, the
// builds interleaved rep by rep (in Node in one process, each next to node:crypto doing the same
// work; in workerd in one isolate, each build with its own module). This is how a change is
// checked for a speed regression; `make bench-compare BASE=<rev>` builds <rev> in a scratch
// worktree and runs this with it and the working tree's build.
//
//   node --expose-gc bench/compare.mjs [--reps 9] [--ms 60] [label=]DIR ...
//
// DIR is a built package (build/pkg of a checkout). Writes bench/results/compare.json and prints
// per scenario: each build's µs a call, in Node its ratio to node:crypto (higher is faster), and
// its time against the first build's (below 1.00 is faster).
import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { eventBody, median } from './common.mjs';
import { environment } from './env.mjs';
import { root, startBenchWorker } from './in-workerd.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt;
};
const REPS = opt('reps', 9);
const BATCH_MS = opt('ms', 60);
if (args.length === 0) {
  console.error('usage: node --expose-gc bench/compare.mjs [--reps N] [--ms N] [label=]DIR ...');
  process.exit(2);
}
const builds = [];
for (const arg of args) {
  const [label, dir] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, arg];
  const { Webhook } = await import(pathToFileURL(resolve(dir, 'dist/node.js')).href);
  builds.push({ label, dir: resolve(dir), Webhook });
}

const SECRET = 'bench-secret-4c7e1a9f2b6d8e0a3f5c';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const lower = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const eqHex = (mac, hex) => {
  const want = Buffer.from(hex, 'hex');
  return mac.length === want.length && timingSafeEqual(mac, want);
};

/** One verification per scenario: the scheme, the body, what hookseal calls, node:crypto's twin. */
function hmacScenario(name, scheme, alg, header, size, form = 'bytes') {
  return {
    name, scheme, secret: SECRET, size, form,
    call: (wh) => (b, h) => { wh.verify(b, h); return true; },
    node: () => {
      const key = createSecretKey(Buffer.from(SECRET));
      return (b, h) => eqHex(createHmac(alg, key).update(b).digest(), h[header]);
    },
  };
}

const SCENARIOS = [
  hmacScenario('HMAC-SHA256 hex (Mossmoon)', 'mossmoon', 'sha256', 'x-mossmoon-signature', 256),
  hmacScenario('HMAC-SHA256 hex (Mossmoon), string body', 'mossmoon', 'sha256', 'x-mossmoon-signature', 256, 'string'),
  hmacScenario('HMAC-SHA512 hex (MoltFlow)', 'moltflow', 'sha512', 'x-webhook-hmac', 256),
  {
    name: 'Standard Webhooks', scheme: 'standard-webhooks', secret: WHSEC, size: 1024, form: 'bytes',
    call: (wh) => (b, h) => { wh.verify(b, h); return true; },
    node: () => {
      const key = createSecretKey(Buffer.from(WHSEC.slice(6), 'base64'));
      return (b, h) => {
        const mac = createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.`).update(b).digest('base64');
        return h['webhook-signature'].split(' ').some((s) => s === `v1,${mac}`);
      };
    },
  },
  {
    name: 'Verify + parse (Mossmoon)', scheme: 'mossmoon', secret: SECRET, size: 1024, form: 'bytes',
    call: (wh) => (b, h) => wh.parse(b, h).events.length === 1,
    node: () => {
      const key = createSecretKey(Buffer.from(SECRET));
      return (b, h) => eqHex(createHmac('sha256', key).update(b).digest(), h['x-mossmoon-signature'])
        && JSON.parse(b).event === 'message.received';
    },
  },
];

/** About BATCH_MS of calls; returns µs a call. */
function batch(fn, b, h) {
  globalThis.gc?.();
  let ops = 0;
  const start = performance.now();
  const deadline = start + BATCH_MS;
  while (performance.now() < deadline) {
    for (let k = 0; k < 32; k++) {
      if (!fn(b, h)) throw new Error('a valid request failed while timing');
      ops++;
    }
  }
  return ((performance.now() - start) * 1000) / ops;
}

const results = [];
for (const sc of SCENARIOS) {
  const valid = Buffer.from(eventBody(sc.size));
  const tampered = Buffer.from(valid);
  tampered[tampered.length - 2] ^= 1;
  const headers = lower(new builds[0].Webhook(sc.scheme, sc.secret).sign(valid, { timestamp: Math.floor(Date.now() / 1000), id: 'msg_bench' }));
  const [b, tb] = sc.form === 'string' ? [valid.toString(), tampered.toString()] : [valid, tampered];
  const contenders = [...builds.map((x) => [x.label, sc.call(new x.Webhook(sc.scheme, sc.secret))]), ['node:crypto', sc.node()]];
  for (const [label, fn] of contenders) {
    let forged;
    try { forged = fn(tb, headers); } catch { forged = false; }
    if (!fn(b, headers) || forged) throw new Error(`${sc.name}: ${label} does not tell the valid request from the tampered one`);
  }
  const us = Object.fromEntries(contenders.map(([l]) => [l, []]));
  for (let r = 0; r < REPS; r++) for (const [label, fn] of contenders) us[label].push(batch(fn, b, headers));
  const node = us['node:crypto'];
  const first = us[builds[0].label];
  console.log(`\n${sc.name}, ${sc.size} B${sc.form === 'string' ? ' (string)' : ''}: node:crypto ${median(node).toFixed(2)} µs`);
  for (const { label } of builds) {
    const row = {
      runtime: 'node', scenario: sc.name, size: sc.size, body: sc.form, build: label,
      us: median(us[label]),
      ratioToNode: median(us[label].map((t, i) => node[i] / t)),
      timeVsFirst: median(us[label].map((t, i) => t / first[i])),
      nodeUs: median(node),
    };
    results.push(row);
    console.log(`  ${label.padEnd(24)} ${row.us.toFixed(2).padStart(7)} µs  ${row.ratioToNode.toFixed(2)}x node:crypto  time ×${row.timeVsFirst.toFixed(2)} of ${builds[0].label}`);
  }
}

// ---- inside workerd ------------------------------------------------------------------------
// Each build's package is copied with its .wasm renamed (a Worker's modules need distinct names),
// one Worker imports them all, and each batch of K calls is timed from outside, minus K=0.

const stage = join(root, 'build/compare-workerd');
rmSync(stage, { recursive: true, force: true });
const wasmFiles = builds.map((x, i) => {
  cpSync(x.dir, join(stage, `b${i}`), { recursive: true, dereference: true });
  const dist = join(stage, `b${i}`, 'dist');
  renameSync(join(dist, 'hookseal_bg.wasm'), join(dist, `hookseal_b${i}_bg.wasm`));
  const entry = join(dist, 'workerd.js');
  writeFileSync(entry, readFileSync(entry, 'utf8').replace('./hookseal_bg.wasm', `./hookseal_b${i}_bg.wasm`));
  return join(dist, `hookseal_b${i}_bg.wasm`);
});
const WORKERD = SCENARIOS.filter((sc) => sc.form === 'bytes');
const inputs = WORKERD.map((sc) => {
  const b = Buffer.from(eventBody(sc.size));
  const h = lower(new builds[0].Webhook(sc.scheme, sc.secret).sign(b, { timestamp: Math.floor(Date.now() / 1000), id: 'msg_bench' }));
  return { scheme: sc.scheme, secret: sc.secret, body: b.toString(), headers: h, parse: sc.name.startsWith('Verify + parse') };
});
writeFileSync(join(stage, 'entry.js'), `${builds.map((_, i) => `import { Webhook as W${i} } from './b${i}/dist/workerd.js';`).join('\n')}
const INPUTS = ${JSON.stringify(inputs)};
const enc = new TextEncoder();
const cases = INPUTS.map((c) => ({ ...c, bytes: enc.encode(c.body), whs: [${builds.map((_, i) => `W${i}`).join(', ')}].map((W) => new W(c.scheme, c.secret)) }));
export default {
  async fetch(req) {
    const q = new URL(req.url).searchParams;
    const c = cases[Number(q.get('s'))];
    const wh = c.whs[Number(q.get('b'))];
    const k = Number(q.get('k'));
    let n = 0;
    for (let i = 0; i < k; i++) n += c.parse ? wh.parse(c.bytes, c.headers).events.length : 1 + wh.verify(c.bytes, c.headers).secretIndex;
    return Response.json({ n });
  },
};
`);
const { call, dispose } = await startBenchWorker(join(stage, 'entry.js'), 'compare-workerd-bundle', wasmFiles);
try {
  for (const [s, sc] of WORKERD.entries()) {
    const k = sc.size > 1000 ? 20_000 : 50_000;
    const us = builds.map(() => []);
    for (const [b] of builds.entries()) {
      const { json } = await call(`/run?s=${s}&b=${b}&k=100`);
      if (json.n !== 100) throw new Error(`workerd, ${sc.name}: build ${builds[b].label} failed a valid request`);
    }
    for (let r = 0; r < REPS; r++) {
      for (const [b] of builds.entries()) {
        const zero = await call(`/run?s=${s}&b=${b}&k=0`);
        const t = await call(`/run?s=${s}&b=${b}&k=${k}`);
        us[b].push(((t.ms - zero.ms) * 1000) / k);
      }
    }
    console.log(`\ninside workerd: ${sc.name}, ${sc.size} B`);
    for (const [b, { label }] of builds.entries()) {
      const row = {
        runtime: 'workerd', scenario: sc.name, size: sc.size, body: sc.form, build: label,
        us: median(us[b]), timeVsFirst: median(us[b].map((t, i) => t / us[0][i])),
      };
      results.push(row);
      console.log(`  ${label.padEnd(24)} ${row.us.toFixed(2).padStart(7)} µs  time ×${row.timeVsFirst.toFixed(2)} of ${builds[0].label}`);
    }
  }
} finally {
  await dispose();
}

mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/compare.json', import.meta.url), `${JSON.stringify({
  environment: environment(['miniflare']), reps: REPS, batchMs: BATCH_MS, builds: builds.map((x) => x.label), results,
}, null, 1)}\n`);
console.log('\nwrote bench/results/compare.json');
