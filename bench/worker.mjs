// Worker benchmark: requests per second, p50/p99 latency, and the workerd process's CPU time per
// request of verify + dedup + enqueue, for hookseal's Worker (event log off), a minimal
// hand-written JS Worker (WebCrypto) with the same KV and Queue, and that JS Worker without the
// signature check (the floor: what KV, Queue and JSON cost); then hookseal's Worker with its
// event log in D1 against the JS Worker writing the same rows to D1. All under `wrangler dev` on
// loopback (local KV, Queues and D1 simulated in the same workerd process), the same load
// generator, interleaved reps. bench/worker-cpu.mjs measures the handlers alone.
//
//   node bench/worker.mjs [--requests 3000] [--concurrency 20] [--reps 3]
//
// Needs the Worker built (make worker). Writes bench/results/worker.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment } from './env.mjs';
import { Webhook } from 'hookseal';
import { deliveryBody, median } from './common.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const REQUESTS = opt('requests', 3000);
const CONCURRENCY = opt('concurrency', 20);
const REPS = opt('reps', 3);
const SECRET = 'bench-worker-secret-9d2f4b7a1c3e';
const bench = fileURLToPath(new URL('.', import.meta.url));
const root = join(bench, '..');
const wrangler = join(root, 'node_modules/.bin/wrangler');

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** CPU time (user + system, µs) of the workerd processes in process group `pgid`. */
function workerdCpuUs(pgid) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[2] is the process group; [11] and [12] user and system time, in clock ticks.
    if (comm.includes('workerd') && Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / CLK_TCK;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

async function startWorker(name, config, cwd, vars = [], d1 = null) {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), `bench-${name.replace(/\W+/g, '-')}-`));
  if (d1) {
    // hookseal's event log schema (for both contenders that log), applied to the local D1 as
    // `make dev` does.
    execFileSync(wrangler, ['d1', 'migrations', 'apply', d1, '--local', '-c', config, '--persist-to', state], {
      cwd, stdio: 'ignore', env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', XDG_CONFIG_HOME: join(root, '.config') },
    });
  }
  const child = spawn(wrangler, ['dev', '-c', config, '--ip', '127.0.0.1', '--port', String(port),
    '--var', `MOSSMOON_SECRET:${SECRET}`, ...vars.flatMap((v) => ['--var', v]), '--persist-to', state, '--log-level', 'warn'], {
    cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', XDG_CONFIG_HOME: join(root, '.config') },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      await fetch(`${url}/health`);
      return { url, pgid: child.pid, stop: () => { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } rmSync(state, { recursive: true, force: true }); } };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not start:\n${out}`);
}

const signer = new Webhook('mossmoon', SECRET);
let serial = 0;
/** Distinct signed deliveries (distinct ids: a repeated one would only measure the duplicate path). */
function requests(n) {
  return Array.from({ length: n }, () => {
    const id = `evt_bench_${process.pid}_${serial++}`;
    const body = deliveryBody(id);
    return { body, headers: signer.sign(body) };
  });
}

async function load(url, reqs) {
  const lat = [];
  let next = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < reqs.length) {
      const r = reqs[next++];
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', body: r.body, headers: r.headers });
      await res.arrayBuffer();
      lat.push(performance.now() - t0);
      if (res.status !== 202) failed++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { rps: reqs.length / seconds, p50ms: lat[Math.floor(lat.length * 0.5)], p99ms: lat[Math.floor(lat.length * 0.99)], failed };
}

// Like with like: the log off against the JS Worker as it is, the log on (D1) against the JS
// Worker writing the same two rows to D1. `against` names each one's baseline.
const js = join(bench, 'js-worker');
const contenders = [
  { name: 'hookseal (Rust Worker)', config: join(bench, 'wrangler.hookseal.toml'), cwd: bench, path: '/webhooks/bench', against: 1 },
  { name: 'hand-written JS (WebCrypto)', config: join(js, 'wrangler.toml'), cwd: js, path: '/', against: 1 },
  { name: 'floor: the JS Worker without verification', config: join(js, 'wrangler.toml'), cwd: js, path: '/', vars: ['SKIP_VERIFY:1'], against: 1 },
  { name: 'hookseal (Rust Worker), event log on', config: join(bench, 'wrangler.hookseal-log.toml'), cwd: bench, path: '/webhooks/bench', d1: 'hookseal-log', against: 4 },
  { name: 'hand-written JS (WebCrypto), row in D1', config: join(js, 'wrangler.log.toml'), cwd: js, path: '/', d1: 'bench-log', against: 4 },
];
for (const c of contenders) c.worker = await startWorker(c.name, c.config, c.cwd, c.vars, c.d1);
try {
  for (const c of contenders) {
    // Warm up, and check the path works end to end before timing.
    const w = await load(`${c.worker.url}${c.path}`, requests(200));
    if (w.failed) throw new Error(`${c.name}: ${w.failed} warm-up requests were not accepted`);
    c.reps = [];
  }
  for (let r = 0; r < REPS; r++) {
    for (const c of contenders) {
      const reqs = requests(REQUESTS);
      const cpu0 = workerdCpuUs(c.worker.pgid);
      const res = await load(`${c.worker.url}${c.path}`, reqs);
      res.cpuUsPerRequest = (workerdCpuUs(c.worker.pgid) - cpu0) / REQUESTS;
      if (res.failed) throw new Error(`${c.name}: ${res.failed} requests not accepted`);
      c.reps.push(res);
      console.log(`${c.name.padEnd(42)} rep ${r + 1}: ${Math.round(res.rps)} req/s  p50 ${res.p50ms.toFixed(2)} ms  p99 ${res.p99ms.toFixed(2)} ms  workerd CPU ${Math.round(res.cpuUsPerRequest)} µs/request`);
    }
  }
} finally {
  for (const c of contenders) c.worker.stop();
}

const out = {
  ...environment(['wrangler', 'miniflare']), requests: REQUESTS, concurrency: CONCURRENCY, reps: REPS, date: new Date().toISOString(),
  results: contenders.map((c) => ({
    contender: c.name,
    rps: median(c.reps.map((x) => x.rps)), p50ms: median(c.reps.map((x) => x.p50ms)), p99ms: median(c.reps.map((x) => x.p99ms)),
    cpuUsPerRequest: median(c.reps.map((x) => x.cpuUsPerRequest)),
    // Per rep, this contender's CPU over its JS baseline's (below 1: cheaper).
    against: contenders[c.against].name,
    cpuRatioToJs: median(c.reps.map((x, i) => x.cpuUsPerRequest / contenders[c.against].reps[i].cpuUsPerRequest)),
    reps: c.reps,
  })),
};
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/worker.json'), JSON.stringify(out, null, 1));
console.log('wrote bench/results/worker.json');
