// What several benchmarks share: their test bodies, the median they report, and the reading of
// a CPU profile. Plain JavaScript with no Node API, so a bench Worker bundled for workerd
// imports it too.

/** A Mossmoon-like event of exactly `size` bytes (non-ASCII text, then an ASCII pad). */
export function eventBody(size) {
  const enc = new TextEncoder();
  const base = { event: 'message.received', id: 'evt_aBcD1234', line_id: 'ln_8KQ9pP2nR',
    message: { id: 'msg_PfQ8vR2nW', from: '+5511999990000', type: 'text', text: 'Olá! Vocês entregam em São Paulo? 🚚', received_at: '2026-06-12T14:42:11Z' }, pad: '' };
  const empty = enc.encode(JSON.stringify(base)).length;
  if (size < empty) throw new Error(`no ${size}-byte body: the smallest is ${empty}`);
  base.pad = 'x'.repeat(size - empty);
  return enc.encode(JSON.stringify(base));
}

/** The body of one Mossmoon `message.received` delivery with event id `id`, as the Worker
 * benchmarks send it (each delivery a distinct id, so none is a duplicate). */
export function deliveryBody(id) {
  return JSON.stringify({ event: 'message.received', id, line_id: 'ln_bench', message: { id: `msg_${id}`, from: '+15559876543', type: 'text', text: 'Olá! Tem em azul? 💙', received_at: '2026-11-22T17:00:00Z' } });
}

/** The median (the lower middle value of an even count). */
export const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };

/** Self time by function name in a V8 CPU profile (µs, largest first; Rust symbol hashes cut). */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const name = (byId.get(id).callFrame.functionName || '(anonymous)').replace(/::h[0-9a-f]{16}$/, '');
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...self].sort((a, b) => b[1] - a[1]);
}
