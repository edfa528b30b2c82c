// The contender: the same job as hookseal's Worker, written by hand the way most teams would,
// with WebCrypto. Verify a Mossmoon signature on the raw body; with a D1 binding, log the event
// (its unique key dedupes), answer 202, then enqueue it and settle its row; without one, dedupe
// by the event id in KV, enqueue, mark, answer 202.
const enc = new TextEncoder();
let key;

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

const json = (status, body) => Response.json(body, { status });

export default {
  async fetch(request, env, ctx) {
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
    const receivedAt = Date.now();
    const envelope = JSON.stringify(event);
    if (env.LOG) {
      // With a `LOG` D1 binding (hookseal's schema, applied by bench/worker.mjs), what hookseal's
      // event log does: the event's row (its unique key is the dedup), the answer, then the
      // delivery to the outbox and the row settled, after the answer.
      const row = await env.LOG.prepare("INSERT INTO events (source, dedup_key, type, received_at, envelope, routes, owed, lease_until) VALUES (?1, ?2, ?3, ?4, ?5, '[\"outbox\"]', 1, ?6) ON CONFLICT (dedup_key, source) DO NOTHING RETURNING id")
        .bind('bench', dedupKey, event.event, receivedAt, envelope, receivedAt + 60_000).first();
      if (!row) return json(200, { accepted: 0, duplicates: 1 });
      ctx.waitUntil((async () => {
        await env.OUTBOX.send({ source: 'bench', attempt: 0, receivedAt, dedupKey, type: event.event, event: envelope, logId: row.id });
        await env.LOG.prepare("UPDATE events SET owed = 0, first_ok = 1, first_status = '{\"outbox\":202}', settled_at = ?2 WHERE id = ?1")
          .bind(row.id, Date.now()).run();
      })());
      return json(202, { accepted: 1, duplicates: 0 });
    }
    // Without it: dedupe by the event id in KV, enqueue, mark, answer.
    const mark = `bench/${dedupKey}`;
    if (await env.DEDUP.get(mark)) return json(200, { accepted: 0, duplicates: 1 });
    await env.OUTBOX.send({ source: 'bench', attempt: 0, receivedAt, dedupKey, type: event.event, event: envelope });
    await env.DEDUP.put(mark, String(Date.now()), { expirationTtl: 259200 });
    return json(202, { accepted: 1, duplicates: 0 });
  },
};
