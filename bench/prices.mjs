// Cloudflare's published prices (Paid plan, dollars per million) and Free-plan daily limits, as
// in ../shared/PROVIDERS.md, and what a count of operations per event comes to under them.

/** Paid plan, dollars per million operations. */
export const PRICES = {
  requests: 0.30, // Workers requests (fetch, queue consumer and cron invocations)
  cpuMs: 0.02, // Workers CPU, per million CPU-milliseconds
  kvReads: 0.50,
  kvWrites: 5.00, // writes, deletes and lists
  d1RowsRead: 0.001,
  d1RowsWritten: 1.00,
  queueOps: 0.40, // each message written, read and deleted (acknowledged) is one operation
  r2ClassA: 4.50,
  r2ClassB: 0.36,
  doRequests: 0.15, // requests to a Durable Object, alarms included
  doRowsRead: 0.001, // SQLite-backed Durable Object storage, billed as D1 is
  doRowsWritten: 1.00,
};

/** Free plan, per day. */
export const FREE = {
  requests: 100_000,
  kvReads: 100_000,
  kvWrites: 1_000,
  d1RowsRead: 5_000_000,
  d1RowsWritten: 100_000,
  queueOps: 10_000,
  doRequests: 100_000,
  doRowsRead: 5_000_000,
  doRowsWritten: 100_000,
};

/** The CPU a request costs, for the Paid-plan estimate (bench/worker-cpu.mjs measures it). */
export const CPU_MS_PER_INVOCATION = 1;

/**
 * From operations per event (and a fixed count a day, such as cron runs): dollars per million
 * events on the Paid plan by product, and the events a day each Free-plan limit allows.
 */
export function costOf(per, fixedPerDay = {}) {
  const paid = {
    requests: per.invocations * PRICES.requests,
    cpu: per.invocations * CPU_MS_PER_INVOCATION * PRICES.cpuMs,
    kv: per.kvReads * PRICES.kvReads + per.kvWrites * PRICES.kvWrites,
    d1: per.d1RowsRead * PRICES.d1RowsRead + per.d1RowsWritten * PRICES.d1RowsWritten,
    queues: per.queueOps * PRICES.queueOps,
    r2: per.r2ClassA * PRICES.r2ClassA + per.r2ClassB * PRICES.r2ClassB,
    durableObjects: per.doRequests * PRICES.doRequests + (per.doRowsRead ?? 0) * PRICES.doRowsRead
      + (per.doRowsWritten ?? 0) * PRICES.doRowsWritten,
  };
  paid.total = Object.values(paid).reduce((a, b) => a + b, 0);
  const uses = { requests: 'invocations', kvReads: 'kvReads', kvWrites: 'kvWrites', d1RowsRead: 'd1RowsRead',
    d1RowsWritten: 'd1RowsWritten', queueOps: 'queueOps', doRequests: 'doRequests', doRowsRead: 'doRowsRead',
    doRowsWritten: 'doRowsWritten' };
  const free = {};
  for (const [limit, key] of Object.entries(uses)) {
    const left = FREE[limit] - (fixedPerDay[key] ?? 0);
    free[limit] = (per[key] ?? 0) > 0 ? Math.max(0, left) / per[key] : Infinity;
  }
  const [limitedBy, min] = Object.entries(free).sort((a, b) => a[1] - b[1])[0];
  return { paidPerMillion: paid, freePerDay: { ...free, min, limitedBy } };
}
