// Media archived into R2: the built Worker under Miniflare (real local R2, D1, Queues) archives
// a 1 MB, a 20 MB and a 100 MB file from a local stand-in for a provider's media host, each
// named in a Mossmoon event with its sha256. For each size: the time from the webhook's answer
// to the delivery (which waits for the archive), the largest chunk the Worker read, the Worker's
// wasm memory after the archive (a file held whole would grow it by its size), and the workerd
// process's memory before and at its peak (which includes Miniflare's own R2 simulation).
//
//   node bench/media.mjs [--sizes 1,20,100]
//
// Writes bench/results/media.json.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as h from '../tests/worker/harness.mjs';
import { environment } from './env.mjs';

const args = process.argv.slice(2);
const SIZES = (args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '1,20,100').split(',').map(Number);
const bench = fileURLToPath(new URL('.', import.meta.url));
const MB = 1_000_000;
const CHUNK = 64 * 1024;

/** The i-th chunk of a file: the same bytes every time, made as they are sent. */
function chunk(seed, i, n) {
  const b = Buffer.alloc(n);
  for (let k = 0; k < n; k += 4) b.writeUInt32LE(((i * 2654435761) ^ (k * 40503) ^ seed) >>> 0, Math.min(k, n - 4));
  return b;
}
function* file(seed, size) {
  for (let at = 0, i = 0; at < size; at += CHUNK, i++) yield chunk(seed, i, Math.min(CHUNK, size - at));
}
const sha = (seed, size) => {
  const hash = createHash('sha256');
  for (const c of file(seed, size)) hash.update(c);
  return hash.digest('hex');
};

const provider = http.createServer(async (req, res) => {
  const m = req.url.match(/^\/file\/(\d+)\/(\d+)/);
  if (!m) return res.writeHead(404).end();
  const [seed, size] = [Number(m[1]), Number(m[2])];
  res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': size });
  for (const c of file(seed, size)) if (!res.write(c)) await new Promise((r) => res.once('drain', r));
  res.end();
});
await new Promise((r) => provider.listen(0, '127.0.0.1', r));
const host = `http://127.0.0.1:${provider.address().port}`;

/** This process's descendants. */
function descendants() {
  const parent = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      // gone
    }
  }
  const mine = new Set([String(process.pid)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) if (mine.has(ppid) && !mine.has(pid)) { mine.add(pid); grew = true; }
  }
  mine.delete(String(process.pid));
  return [...mine];
}

/** workerd's processes under this one: their resident set now and at peak, in MB. */
function workerdMemory() {
  const pids = descendants().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').includes('workerd');
    } catch {
      return false;
    }
  });
  let rss = 0;
  let peak = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
      peak += Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0) / 1024;
    } catch {
      // gone
    }
  }
  return { rss: Math.round(rss), peak: Math.round(peak) };
}

await h.start({
  vars: { PUBLIC_URL: 'https://hooks.example', MEDIA_LINK_SECRET: 'bench-media-link-secret-0123456789' },
  sourcesWith: (to) => ({
    media: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/media'),
      media: { archive: true, hosts: [host], maxBytes: 128 * 1024 * 1024 } },
  }),
});
const results = [];
try {
  for (const [i, size] of SIZES.entries()) {
    const bytes = size * MB;
    const digest = sha(i + 1, bytes);
    const id = `evt_bench_media_${i}_${Date.now()}`;
    const body = JSON.stringify({ event: 'message.received', id, line_id: 'ln_1',
      message: { id: `msg_${id}`, from: '+15559876543', type: 'document', received_at: '2026-06-12T14:42:11Z',
        media: { url: `${host}/file/${i + 1}/${bytes}?sig=x`, mime_type: 'application/pdf', sha256: digest } } });
    const before = workerdMemory();
    const start = Date.now();
    const res = await h.post('media', body, h.signers.mossmoon.sign(body));
    if (res.status !== 202) throw new Error(`not accepted: ${res.status}`);
    await h.until('delivered', () => h.state.delivered.some((d) => d.key === `mossmoon:${id}`), 600_000);
    const ms = Date.now() - start;
    const after = workerdMemory();
    const got = h.state.delivered.find((d) => d.key === `mossmoon:${id}`).body.event.message.media;
    if (got.archived?.sha256 !== digest) throw new Error(`archived: ${JSON.stringify(got)}`);
    const stored = h.state.logs.find((l) => l.at === 'media_stored' && l.key === got.archived.key);
    const row = { mb: size, ms, mbPerSecond: Math.round((size / ms) * 1000 * 10) / 10, largestChunk: stored?.largestChunk,
      wasmMemoryMB: Math.round((stored?.wasmMemory ?? 0) / MB * 10) / 10, workerdRssBeforeMB: before.rss, workerdPeakAfterMB: after.peak };
    results.push(row);
    console.log(`${size} MB archived and delivered in ${ms} ms (${row.mbPerSecond} MB/s); largest chunk ${row.largestChunk} B; `
      + `the Worker's wasm memory ${row.wasmMemoryMB} MB; workerd (with Miniflare's R2 simulation) ${before.rss} MB before, peak ${after.peak} MB`);
  }
} finally {
  await h.stop();
  provider.close();
}
const doc = { ...environment(['miniflare']), date: new Date().toISOString(), results };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/media.json'), JSON.stringify(doc, null, 1));
console.log('wrote bench/results/media.json');
