// The Worker's own CPU per accepted request, inside workerd: hookseal's built Worker against the
// hand-written JS Worker (bench/js-worker), each handling K distinct signed deliveries in a loop
// with KV, Queues and D1 as in-memory stand-ins (bench/worker-cpu/index.js). The platform's
// bindings are left out, so what is compared is what each handler itself costs: with the event
// log off, and on (hookseal's log against the JS Worker writing the same two rows), with the
// floor beside them (the harness's Request, a body read and an answer). Timers do not
// advance inside the isolate: each batch is timed from outside, minus a K=0 request;
// contenders interleaved rep by rep; each first accepts a valid delivery and refuses a tampered
// one.
//
// Then hookseal's handler with one Meta body of 100 and of 1,000 statuses, log off and on: the
// time a body, against the Free plan's 10 ms of CPU a request.
//
//   node bench/worker-cpu.mjs [--reps 15] [--k 400]
//   node bench/worker-cpu.mjs --profile [--k 3000]     (LOG=1: the event log on;
//                                                      META=1000: Meta bodies of 1,000 statuses)
//
// Beside them, the binding calls alone (body, header, KV read, queue send, KV write, a JSON 202)
// through workers-rs (bench/worker-floor, built here when missing) and in JS: the bridge's own
// cost, which any Rust Worker pays whatever its handler does.
//
// Needs the Worker and the package built (make worker pkg). Writes bench/results/worker-cpu.json,
// or with --profile bench/results/worker-profile.json.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environment } from './env.mjs';
import { bench, opt, root, startBenchWorker } from './in-workerd.mjs';
import { median, selfTimes } from './common.mjs';

const REPS = opt('reps', 15); // many: a rep takes a second, and the JS contenders are the noisiest
const K = opt('k', 400);
// `--profile`: a CPU profile of hookseal's handler over K requests (through workerd's inspector),
// summarised by self time, instead of the timing.
const PROFILE = process.argv.includes('--profile');
const INSPECTOR = 9329;
// The workers-rs floor (bench/worker-floor), built as the Worker is when it is not there yet; its
// module renamed (floor.js, floor_bg.wasm), as the Worker's has the same name.
const floorBuild = join(root, 'bench/worker-floor/build');
if (!existsSync(join(floorBuild, 'index_bg.wasm'))) {
  execFileSync(join(root, 'scripts/build-worker.sh'), ['bench/worker-floor'], { cwd: root, stdio: 'inherit' });
}
copyFileSync(join(floorBuild, 'index_bg.wasm'), join(floorBuild, 'floor_bg.wasm'));
writeFileSync(join(floorBuild, 'floor.js'), readFileSync(join(floorBuild, 'index.js'), 'utf8').replaceAll('"./index_bg.wasm"', '"./floor_bg.wasm"'));
const { call, dispose } = await startBenchWorker(join(bench, 'worker-cpu/index.js'), 'bench-worker-cpu',
  [join(root, 'worker/build/index_bg.wasm'), join(root, 'build/pkg/dist/hookseal_bg.wasm'),
    join(floorBuild, 'floor_bg.wasm')],
  PROFILE ? { inspectorPort: INSPECTOR } : {});

if (PROFILE) {
  try {
    await profile();
  } finally {
    await dispose();
  }
  process.exit(0);
}

/**
 * Profiles hookseal's handler over K requests and prints the top self times: the event log off
 * (`LOG=1`: on), one delivery a request (`META=n`: Meta bodies of n statuses).
 */
async function profile() {
  const q = process.env.META ? `c=meta&log=${process.env.LOG ?? 0}&n=${process.env.META}`
    : `c=hookseal&log=${process.env.LOG ?? 0}`;
  if (!process.env.META) await call(`/check?${q}`);
  await call(`/prepare?${q}&k=${K}`);
  await call(`/run?${q}&k=${K}`);
  const targets = await (await fetch(`http://127.0.0.1:${INSPECTOR}/json`)).json();
  const ws = new WebSocket(targets.find((t) => t.title?.includes('bench') || t.id === 'core:user:bench')?.webSocketDebuggerUrl ?? targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => { const d = JSON.parse(m.data); pending.get(d.id)?.(d); };
  const cdp = (method, params = {}) => new Promise((resolve) => { const i = ++id; pending.set(i, resolve); ws.send(JSON.stringify({ id: i, method, params })); });
  await cdp('Profiler.enable');
  await cdp('Profiler.setSamplingInterval', { interval: 100 });
  await call(`/prepare?${q}&k=${K}`);
  await cdp('Profiler.start');
  await call(`/run?${q}&k=${K}`);
  const { result } = await cdp('Profiler.stop');
  ws.close();
  const times = selfTimes(result.profile).filter(([name]) => name !== '(idle)');
  const busy = times.reduce((a, [, t]) => a + t, 0);
  const top = times.slice(0, 25).map(([name, t]) => ({ name, share: t / busy, us: t / K }));
  console.log(`hookseal handler: ${(busy / K).toFixed(1)} µs a request sampled; self time by function:`);
  for (const t of top) console.log(`${(t.share * 100).toFixed(1).padStart(5)} %  ${t.us.toFixed(1).padStart(6)} µs  ${t.name.slice(0, 130)}`);
  mkdirSync(join(bench, 'results'), { recursive: true });
  writeFileSync(join(bench, 'results/worker-profile.json'), JSON.stringify({ k: K, log: process.env.LOG === '1', sampledUsPerRequest: busy / K, top }, null, 1));
}

const contenders = ['floor', 'rs-bindings', 'js-bindings'].map((c) => ({ c, log: 0, reps: [] }));
const META_K = 10; // Meta bodies a run
const meta = [];
for (const log of [0, 1]) for (const c of ['hookseal', 'js']) contenders.push({ c, log, reps: [] });
try {
  for (const x of contenders) {
    const { json } = await call(`/check?c=${x.c}&log=${x.log}`);
    // The floors verify nothing: a delivery goes through (and a second copy, tampered or not, is
    // a duplicate for the binding floors).
    const floor = x.c === 'floor' || x.c.endsWith('-bindings');
    const works = floor ? x.c === 'floor' || (json.valid === 202 && json.sent === 1)
      : json.valid === 202 && json.tampered === 401 && json.sent === 1 && (!x.log || json.logged === 1);
    if (!works) {
      throw new Error(`${x.c} log=${x.log}: ${JSON.stringify(json)}`);
    }
    await call(`/prepare?c=${x.c}&log=${x.log}&k=${K}`);
    await call(`/run?c=${x.c}&log=${x.log}&k=${K}`); // warm up
  }
  for (let r = 0; r < REPS; r++) {
    for (const x of contenders) {
      const q = `c=${x.c}&log=${x.log}`;
      await call(`/prepare?${q}&k=${K}`);
      const zeros = [];
      for (let i = 0; i < 3; i++) zeros.push((await call(`/run?${q}&k=0`)).ms);
      zeros.sort((a, b) => a - b);
      const { ms, json } = await call(`/run?${q}&k=${K}`);
      if (json.accepted !== K) throw new Error(`${x.c} log=${x.log}: ${json.accepted} of ${K} accepted`);
      x.reps.push(((ms - zeros[1]) * 1000) / K);
    }
    console.log(`worker-cpu rep ${r + 1}/${REPS}: ${contenders.map((x) => `${x.c}${x.log ? '+log' : ''} ${x.reps.at(-1).toFixed(1)} µs`).join(', ')}`);
  }
  // One Meta body of 100 and of 1,000 statuses (the largest a sender batches), against the Free
  // plan's 10 ms of CPU a request.
  for (const n of [100, 1000]) {
    for (const log of [0, 1]) {
      const q = `c=meta&log=${log}&n=${n}`;
      const reps = [];
      for (let r = 0; r < REPS; r++) {
        await call(`/prepare?${q}&k=${META_K}`);
        const zero = (await call(`/run?${q}&k=0`)).ms;
        const { ms, json } = await call(`/run?${q}&k=${META_K}`);
        if (json.accepted !== META_K) throw new Error(`meta ${n} log=${log}: ${json.accepted} of ${META_K} accepted`);
        reps.push((ms - zero) / META_K);
      }
      meta.push({ statuses: n, log: Boolean(log), msPerBody: median(reps), reps });
      console.log(`a Meta body of ${n} statuses, log ${log ? 'on ' : 'off'}: ${median(reps).toFixed(2)} ms (the Free plan allows 10 ms of CPU)`);
    }
  }
} finally {
  await dispose();
}

const NAMES = { hookseal: 'hookseal (Rust Worker)', js: 'hand-written JS (WebCrypto)', floor: 'floor: read the body, answer 202',
  'rs-bindings': 'workers-rs: the JS Worker\'s binding calls only', 'js-bindings': 'JS: the same binding calls only' };
const results = contenders.map((x) => {
  const js = contenders.find((y) => y.c === 'js' && y.log === x.log);
  return { contender: NAMES[x.c], log: Boolean(x.log),
    usPerRequest: median(x.reps), ratioToJs: median(x.reps.map((us, i) => us / js.reps[i])), reps: x.reps };
});
for (const r of results) console.log(`${r.contender.padEnd(34)} log ${r.log ? 'on ' : 'off'}  ${r.usPerRequest.toFixed(1)} µs/request  ${r.ratioToJs.toFixed(2)}x the JS Worker`);
const doc = { ...environment(['miniflare']), reps: REPS, k: K, date: new Date().toISOString(), results, meta };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/worker-cpu.json'), JSON.stringify(doc, null, 1));
console.log('wrote bench/results/worker-cpu.json');
