// The contender: the same job as hookseal's Worker, written by hand the way most teams would,
// with WebCrypto. Verify a Mossmoon signature on the raw body, dedupe by the event id in KV,
// (with a D1 binding, log the event), enqueue, mark, answer 202.
const enc = new TextEncoder();
let key;

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

const json = (status, body) => Response.json(body, { status });

export default {
  async fetch(request, env) {
    const body = await request.arrayBuffer();
    // SKIP_VERIFY=1 makes this the floor: everything but the signature check (KV, Queue, JSON).
    if (env.SKIP_VERIFY !== '1') {
      const sig = request.headers.get('x-mossmoon-signature');
      if (!sig || !/^[0-9a-fA-F]{64}$/.test(sig)) return json(401, { error: 'malformed_signature' });
      key ??= await crypto.subtle.importKey('raw', enc.encode(env.MOSSMOON_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      if (!(await crypto.subtle.verify('HMAC', key, hexToBytes(sig), body))) return json(401, { error: 'signature_mismatch' });
    }
    let event;
    try {
      event = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return json(400, { error: 'malformed_json' });
    }
    const dedupKey = `mossmoon:${event.id}`;
    const mark = `bench/${dedupKey}`;
    if (await env.DEDUP.get(mark)) return json(200, { accepted: 0, duplicates: 1 });
    const receivedAt = Date.now();
    const envelope = JSON.stringify(event);
    // With a `LOG` D1 binding (hookseal's schema, applied by bench/worker.mjs), the same two rows
    // hookseal's event log writes, in one batch.
    let logId;
    if (env.LOG) {
      const [row] = await env.LOG.batch([
        env.LOG.prepare('INSERT INTO events (source, dedup_key, type, received_at, envelope) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id')
          .bind('bench', dedupKey, event.event, receivedAt, envelope),
        env.LOG.prepare("INSERT INTO deliveries (event_id, destination, status, updated_at) SELECT id, '', 'queued', ?3 FROM events WHERE source = ?1 AND dedup_key = ?2 ON CONFLICT (event_id, destination) DO NOTHING")
          .bind('bench', dedupKey, receivedAt),
      ]);
      logId = row.results[0]?.id;
      if (logId === undefined) return json(200, { accepted: 0, duplicates: 1 });
    }
    await env.OUTBOX.send({ source: 'bench', attempt: 0, receivedAt, dedupKey, type: event.event, event: envelope, logId });
    await env.DEDUP.put(mark, String(Date.now()), { expirationTtl: 259200 });
    return json(202, { accepted: 1, duplicates: 0 });
  },
};
