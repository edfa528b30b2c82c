// The Worker's wasm against what it is built on: bench/worker-floor (a Worker making every kind
// of binding call hookseal's does, and nothing else) built with the same release profile and
// wasm-opt run as the Worker, once alone (workers-rs's floor) and once with the core linked in
// and called as the Worker calls it (the floor the gateway starts from); beside them the core
// alone (the npm package's wasm) and the Worker as built.
//
//   node bench/worker-size.mjs
//
// Needs the Worker and the package built (make worker pkg). Writes bench/results/worker-size.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { environment } from './env.mjs';
import { root } from './in-workerd.mjs';

const build = (...args) => execFileSync(join(root, 'scripts/build-worker.sh'), ['bench/worker-floor', ...args], { cwd: root, stdio: 'inherit' });
build('build');
build('build-core', '--features', 'core');

const size = (file) => {
  const bytes = readFileSync(join(root, file));
  return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
};
const floor = size('bench/worker-floor/build/index_bg.wasm');
const floorWithCore = size('bench/worker-floor/build-core/index_bg.wasm');
const core = size('build/pkg/dist/hookseal_bg.wasm');
const worker = size('worker/build/index_bg.wasm');
const budget = 450_000;
const out = { ...environment([]), budget, floor, floorWithCore, core, worker };
const rows = [['workers-rs floor', floor], ['the floor with the core', floorWithCore], ['the core alone (npm)', core], ['the Worker', worker]];
for (const [what, s] of rows) {
  console.log(`${what.padEnd(24)} ${s.bytes.toLocaleString('en-US').padStart(10)} B  ${s.gzip.toLocaleString('en-US').padStart(9)} B gzipped`);
}
console.log(`the budget ${budget.toLocaleString('en-US')} B leaves ${(budget - floorWithCore.bytes).toLocaleString('en-US')} B for the gateway past the floor with the core`);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/worker-size.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log('wrote bench/results/worker-size.json');
