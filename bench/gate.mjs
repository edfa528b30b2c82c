// One destination's throughput with and without its gate (the Durable Object that paces it):
// the built Worker under Miniflare (real local D1, Queues and Durable Objects), N signed events
// posted 20 at a time, timed from the first post to the last delivery at a local destination
// that answers at once. The gate has no rate set (maxInFlight 8, the default), so this is its
// own cost: the hand-over, its storage, its alarm and its reads of the log.
//
//   node bench/gate.mjs [--events 300]
//
// Writes bench/results/gate.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as h from '../tests/worker/harness.mjs';
import { environment } from './env.mjs';

const args = process.argv.slice(2);
const N = Number(args.includes('--events') ? args[args.indexOf('--events') + 1] : 300);
const bench = fileURLToPath(new URL('.', import.meta.url));

async function run(gates) {
  await h.start({ gates, sourcesWith: (to) => ({ fast: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/fast') } }) });
  try {
    const stamp = Date.now();
    const bodies = Array.from({ length: N }, (_, i) => h.mossmoonEvent(`evt_gate_bench_${gates}_${stamp}_${i}`, `message ${i}`));
    const start = Date.now();
    for (let i = 0; i < N; i += 20) {
      const res = await Promise.all(bodies.slice(i, i + 20).map((b) => h.post('fast', b, h.signers.mossmoon.sign(b))));
      if (res.some((r) => r.status !== 202)) throw new Error('not accepted');
    }
    const posted = Date.now() - start;
    await h.until('all delivered', () => h.state.delivered.filter((d) => d.path === '/ok/fast').length >= N, 600_000);
    const ms = Date.now() - start;
    const row = { gate: gates, events: N, postMs: posted, ms, perSecond: Math.round((N / ms) * 1000) };
    console.log(`${gates ? 'with the gate   ' : 'without the gate'}: ${N} events delivered in ${ms} ms (${row.perSecond}/s; posting took ${posted} ms)`);
    h.state.delivered.length = 0;
    return row;
  } finally {
    await h.stop();
  }
}

const results = [await run(false), await run(true)];
const [without, withGate] = results;
const doc = { ...environment(['miniflare']), date: new Date().toISOString(), results, ratio: Math.round((withGate.perSecond / without.perSecond) * 100) / 100 };
mkdirSync(join(bench, 'results'), { recursive: true });
writeFileSync(join(bench, 'results/gate.json'), JSON.stringify(doc, null, 1));
console.log(`the gate's throughput: ${doc.ratio}x; wrote bench/results/gate.json`);
