// Where the time of one verification goes: a CPU profile (node --cpu-prof) of a tight verify loop
// against a copy of the package whose .wasm keeps its function names, summarised by self time.
//
//   node bench/profile.mjs [scheme] [bytes] [verify|parse]   (default mossmoon 256 verify)
//     -> bench/results/profile.json (verify) or bench/results/profile-parse.json (parse)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selfTimes } from './common.mjs';

const [scheme = 'mossmoon', bytes = '256', call = 'verify'] = process.argv.slice(2);
if (call !== 'verify' && call !== 'parse') throw new Error(`unknown call ${call}`);
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'hookseal-profile-'));
const FEATURES = ['--enable-bulk-memory', '--enable-reference-types', '--enable-nontrapping-float-to-int',
  '--enable-sign-ext', '--enable-mutable-globals', '--enable-multivalue', '--enable-simd'];

try {
  // The package as built, with a .wasm optimised the same way but keeping the name section.
  cpSync(join(root, 'build/pkg'), join(work, 'pkg'), { recursive: true, dereference: true });
  execFileSync(join(root, '.tools/bin/wasm-bindgen'), ['--target', 'web', '--keep-debug', '--out-dir', join(work, 'raw'),
    '--out-name', 'hookseal', join(root, 'target/wasm32-unknown-unknown/release/hookseal_wasm.wasm')]);
  execFileSync(join(root, 'node_modules/binaryen/bin/wasm-opt'), ['-Oz', '-g', ...FEATURES, join(work, 'raw/hookseal_bg.wasm'),
    '-o', join(work, 'pkg/dist/hookseal_bg.wasm')]);
  writeFileSync(join(work, 'loop.cjs'), `
const { Webhook } = require(${JSON.stringify(join(work, 'pkg/dist/index.cjs'))});
const wh = new Webhook(${JSON.stringify(scheme)}, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
// A Mossmoon message.received event (valid for \`parse\`), its text padded to the size.
const text = 'x'.repeat(Math.max(0, ${Number(bytes)} - 160));
const body = Buffer.from(JSON.stringify({ event: 'message.received', id: 'evt_1', line_id: 'ln_1', message: { id: 'msg_1', from: '+5511999990000', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } }));
const h = Object.fromEntries(Object.entries(wh.sign(body, { id: 'msg_1' })).map(([k, v]) => [k.toLowerCase(), v]));
for (let i = 0; i < 50000; i++) wh.${call}(body, h);
const t = process.hrtime.bigint();
for (let i = 0; i < 300000; i++) wh.${call}(body, h);
console.log(Number(process.hrtime.bigint() - t) / 300000 / 1000);
`);
  const usPerOp = Number(execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', work, join(work, 'loop.cjs')], { encoding: 'utf8' }));
  const profile = JSON.parse(readFileSync(join(work, readdirSync(work).find((f) => f.endsWith('.cpuprofile'))), 'utf8'));
  const times = selfTimes(profile);
  const total = times.reduce((a, [, t]) => a + t, 0);
  const top = times.slice(0, 20).map(([name, t]) => ({ name, share: t / total, us: (t / total) * usPerOp }));
  const out = { scheme, bytes: Number(bytes), call, node: process.version, usPerOp, top };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, `bench/results/${call === 'verify' ? 'profile' : 'profile-parse'}.json`), JSON.stringify(out, null, 1));
  console.log(`${scheme} ${bytes} B: ${usPerOp.toFixed(2)} µs per ${call}`);
  for (const t of top) console.log(`${(t.share * 100).toFixed(1).padStart(5)} %  ${t.us.toFixed(3)} µs  ${t.name}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
