// What loading hookseal costs: the .wasm raw and gzipped, a cold import in a fresh Node process
// (require and import), and the first call after it. Medians of fresh processes.
//
//   node bench/load.mjs [--runs 15]      writes bench/results/load.json
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { environment } from './env.mjs';
import { median } from './common.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const require = createRequire(import.meta.url);
const pkgDir = require.resolve('hookseal/package.json').replace(/package\.json$/, '');
const wasm = readFileSync(`${pkgDir}dist/hookseal_bg.wasm`);

const probe = (kind) => `
const t0 = performance.now();
${kind === 'require' ? "const { Webhook } = require('hookseal');" : "const { Webhook } = await import('hookseal');"}
const t1 = performance.now();
const wh = new Webhook('mossmoon', 'first-call-secret');
const body = '{"event":"line.ready","id":"evt_1","line_id":"ln_1"}';
const h = { 'x-mossmoon-signature': '${'0'.repeat(64)}' };
try { wh.verify(body, h); } catch {}
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1 }));
`;

const measure = (kind) => {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const args = kind === 'require' ? ['-e', probe(kind)] : ['--input-type=module', '-e', probe(kind)];
    samples.push(JSON.parse(execFileSync(process.execPath, args, { cwd: process.cwd(), encoding: 'utf8' })));
  }
  return { importMs: median(samples.map((s) => s.importMs)), firstCallMs: median(samples.map((s) => s.firstCallMs)) };
};

const out = {
  ...environment([]),
  runs,
  wasmBytes: wasm.length,
  wasmGzipBytes: gzipSync(wasm, { level: 9 }).length,
  require: measure('require'),
  import: measure('import'),
};
console.log(JSON.stringify(out, null, 1));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/load.json', import.meta.url), JSON.stringify(out, null, 1));
