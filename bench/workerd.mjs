// Verification inside workerd: hookseal against node:crypto (createHmac + timingSafeEqual),
// WebCrypto (key imported once) and @noble/hashes, and verify + parse against createHmac +
// JSON.parse, in a Worker under Miniflare with nodejs_compat. Timers do not advance inside the
// isolate, so each batch of K calls is timed from outside, minus a K=0 request; contenders are
// interleaved rep by rep, and every contender first accepts the valid request and refuses a
// tampered one.
//
//   node bench/workerd.mjs [--reps 5] [--ms 40]
//
// Needs the package built (make pkg). Writes bench/results/workerd.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environment } from './env.mjs';
import { bench, opt, root, startBenchWorker } from './in-workerd.mjs';
import { median } from './common.mjs';

const REPS = opt('reps', 5);
const BATCH_MS = opt('ms', 40);
const { call, dispose } = await startBenchWorker(join(bench, 'workerd/index.js'), 'bench-workerd',
  [join(root, 'build/pkg/dist/hookseal_bg.wasm')]);

const VERIFY = ['hookseal', 'node:crypto', 'webcrypto', '@noble/hashes'];
const PARSE = ['hookseal parse', 'node:crypto + JSON.parse'];
const scenarios = [];
for (const alg of ['sha256', 'sha512']) {
  for (const size of [256, 1024, 16384]) scenarios.push({ alg, size, contenders: VERIFY, kind: 'verify' });
}
scenarios.push({ alg: 'sha256', size: 1024, contenders: PARSE, kind: 'verify + parse' });

try {
  // Correctness first, and a K per contender that makes a batch about BATCH_MS long.
  for (const sc of scenarios) {
    sc.k = {};
    sc.reps = {};
    for (const c of sc.contenders) {
      const q = `c=${encodeURIComponent(c)}&a=${sc.alg}&s=${sc.size}`;
      const { json } = await call(`/check?${q}`);
      if (json.valid !== true || json.tampered !== false) throw new Error(`${c} ${sc.alg} ${sc.size}: ${JSON.stringify(json)}`);
      await call(`/run?${q}&k=200`); // warm up
      const probe = await call(`/run?${q}&k=400`);
      const zero = await call(`/run?${q}&k=0`);
      const perOp = Math.max(probe.ms - zero.ms, 0.05) / 400;
      sc.k[c] = Math.max(50, Math.round(BATCH_MS / perOp));
      sc.reps[c] = [];
    }
  }
  for (let r = 0; r < REPS; r++) {
    for (const sc of scenarios) {
      for (const c of sc.contenders) {
        const q = `c=${encodeURIComponent(c)}&a=${sc.alg}&s=${sc.size}`;
        const zeros = [];
        for (let i = 0; i < 3; i++) zeros.push((await call(`/run?${q}&k=0`)).ms);
        zeros.sort((a, b) => a - b);
        const { ms, json } = await call(`/run?${q}&k=${sc.k[c]}`);
        if (json.ok !== sc.k[c]) throw new Error(`${c}: ${json.ok} of ${sc.k[c]} accepted`);
        sc.reps[c].push(((ms - zeros[1]) * 1000) / sc.k[c]); // µs per call
      }
    }
    console.log(`workerd rep ${r + 1}/${REPS}`);
  }
} finally {
  await dispose();
}

const results = [];
for (const sc of scenarios) {
  const baseline = sc.kind === 'verify' ? 'node:crypto' : 'node:crypto + JSON.parse';
  for (const c of sc.contenders) {
    // Per rep, the baseline's time over this contender's: > 1 means faster than the baseline.
    const ratios = sc.reps[c].map((us, i) => sc.reps[baseline][i] / us);
    results.push({ kind: sc.kind, algorithm: sc.alg, size: sc.size, contender: c, usPerCall: median(sc.reps[c]),
      ratioToBaseline: median(ratios), baseline, reps: sc.reps[c] });
    console.log(`${sc.kind.padEnd(15)} ${sc.alg} ${String(sc.size).padStart(5)} B  ${c.padEnd(26)} ${median(sc.reps[c]).toFixed(2)} µs  ${median(ratios).toFixed(2)}x ${baseline}`);
  }
}
const doc = { ...environment(['miniflare', '@noble/hashes']), reps: REPS, batchMs: BATCH_MS, date: new Date().toISOString(), results };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/workerd.json'), JSON.stringify(doc, null, 1));
console.log('wrote bench/results/workerd.json');
