// The contender: the same job as hookseal's Worker, written by hand the way most teams would,
// with WebCrypto. Verify a Mossmoon signature on the raw body, dedupe by the event id in KV,
// enqueue, mark, answer 202.
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
    await env.OUTBOX.send({ source: 'bench', attempt: 0, receivedAt: Date.now(), dedupKey, type: event.event, event: JSON.stringify(event) });
    await env.DEDUP.put(mark, String(Date.now()), { expirationTtl: 259200 });
    return json(202, { accepted: 1, duplicates: 0 });
  },
};
