// The admin API and /health: who gets in (a long enough token, compared in constant time,
// failed attempts throttled), what they are told (private answers, URLs redacted, failures as
// JSON), configuration problems, purge, and the CLI against it all.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';
import { cli } from '../cli/run.mjs';

const { state, signers, post, until, sleep, admin } = h;

before(() => h.start());
after(() => h.stop());

const send = (source, id, text) => {
  const body = h.mossmoonEvent(id, text);
  return post(source, body, signers.mossmoon.sign(body));
};
const from = (ip) => ({ 'cf-connecting-ip': ip });

test('no token, a wrong one or one of another length is 401; without ADMIN_TOKEN, or with one under 32 characters, the admin API is closed', async () => {
  const right = h.SECRETS.ADMIN_TOKEN;
  for (const token of [null, 'x'.repeat(right.length), right.slice(0, -1), `${right}x`, right.toUpperCase()]) {
    const res = await admin('/admin/events', { token });
    assert.deepEqual([res.status, res.json.error], [401, 'unauthorized'], String(token));
  }
  const bad = await h.mf.dispatchFetch(new URL('/admin/events', h.base), { headers: { authorization: right } });
  assert.equal(bad.status, 401, 'the Bearer scheme is required');
  assert.equal((await admin('/admin/events')).status, 200);
  await h.reconfigure(h.options({ vars: { ADMIN_TOKEN: undefined } }));
  try {
    assert.equal((await admin('/admin/events')).status, 404);
    const health = await admin('/health', { token: null });
    assert.deepEqual(health.json, { up: true });
    await h.reconfigure(h.options({ vars: { ADMIN_TOKEN: 'short-token-of-31-characters-xx' } }));
    assert.equal((await admin('/admin/events', { token: 'short-token-of-31-characters-xx' })).status, 404);
    const why = await admin('/health', { token: null });
    assert.match(why.json.adminApi, /ADMIN_TOKEN has fewer than 32 characters/);
    assert.ok(state.logs.some((l) => l.at === 'admin' && l.outcome === 'closed' && /fewer than 32/.test(l.why)));
  } finally {
    await h.reconfigure(h.options());
  }
});

test('failed sign-ins are throttled per client: 429 past the limit, others unaffected', async () => {
  const attacker = from('203.0.113.7');
  let last;
  for (let i = 0; i < 12; i++) {
    last = await h.mf.dispatchFetch(new URL('/admin/events', h.base), { headers: { ...attacker, authorization: `Bearer guess-${i}-${'x'.repeat(30)}` } });
  }
  assert.equal(last.status, 429);
  assert.equal((await last.json()).error, 'too_many_requests');
  // Even the right token is held off from that client for a while …
  const held = await h.mf.dispatchFetch(new URL('/admin/events', h.base), { headers: { ...attacker, authorization: `Bearer ${h.SECRETS.ADMIN_TOKEN}` } });
  assert.equal(held.status, 429);
  // … while another client signs in.
  const other = await h.mf.dispatchFetch(new URL('/admin/events', h.base), { headers: { ...from('198.51.100.1'), authorization: `Bearer ${h.SECRETS.ADMIN_TOKEN}` } });
  assert.equal(other.status, 200);
});

test('every admin answer and console file is private (no-store, nosniff); /health without the token says only that the Worker is up', async () => {
  for (const [path, token] of [['/admin/events', undefined], ['/admin/events', null], ['/admin/nope', undefined], ['/admin/', null], ['/admin/console.js', null], ['/admin/states.js', null], ['/health', undefined]]) {
    const res = await admin(path, { token });
    assert.equal(res.headers.get('cache-control'), 'no-store', path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
  }
  const open = await admin('/health', { token: null });
  assert.deepEqual([open.status, open.json], [200, { up: true }]);
  const full = await admin('/health');
  assert.deepEqual([full.json.eventLog, full.json.adminApi], ['on', 'on']);
  assert.ok(full.json.sources.includes('mossmoon'));
});

test('the console\'s files are served gzipped as built, and unzipped for a client that does not take gzip', async () => {
  const file = readFileSync(join(h.root, 'worker/console/console.js'));
  const url = new URL('/admin/console.js', h.base);
  const get = (encoding) => new Promise((resolve, reject) => {
    http.get({ host: url.hostname, port: url.port, path: url.pathname, headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ encoding: res.headers['content-encoding'], type: res.headers['content-type'], body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
  const zipped = await get('gzip');
  assert.equal(zipped.encoding, 'gzip');
  assert.ok(zipped.body.length < file.length / 2, `${zipped.body.length} bytes on the wire for ${file.length}`);
  assert.deepEqual(gunzipSync(zipped.body), file);
  const plain = await get('identity');
  assert.equal(plain.encoding, undefined);
  assert.equal(plain.type, 'text/javascript; charset=utf-8');
  assert.deepEqual(plain.body, file);
});

test('a configuration error is answered with a code only; the log and /health (with the token) have the details', async () => {
  const res = await send('unset', 'evt_unset_1');
  assert.deepEqual([res.status, res.json.error], [500, 'invalid_config']);
  assert.ok(!/NEVER_SET_SECRET|unset/.test(res.json.message), res.json.message);
  assert.ok(state.logs.some((l) => l.at === 'ingest' && l.source === 'unset' && l.outcome === 'config_error' && /NEVER_SET_SECRET.*wrangler secret put/.test(l.problem)));
  const health = await admin('/health');
  assert.equal(health.status, 500);
  assert.equal(health.json.ok, false);
  assert.ok(health.json.problems.some((p) => /source `unset`: none of its secrets \(NEVER_SET_SECRET\) is set/.test(p)));
  assert.equal((await send('mossmoon', 'evt_unset_others')).status, 202, 'every other source keeps working');
});

test('URLs are shown as scheme and host only, everywhere the admin API shows a destination', async () => {
  assert.equal((await send('shop', 'evt_admin_redact', 'hello')).status, 202);
  await h.untilLogged('mossmoon:evt_admin_redact', 'delivered');
  const sources = await admin('/admin/sources');
  const shop = sources.json.sources.find((s) => s.name === 'shop');
  assert.match(shop.destination, /^http:\/\/127\.0\.0\.1:\d+$/);
  const row = await h.logged('mossmoon:evt_admin_redact');
  const one = await admin(`/admin/events/${row.id}`);
  for (const text of [JSON.stringify(sources.json), JSON.stringify(one.json), JSON.stringify((await admin('/admin/events')).json)]) {
    assert.ok(!text.includes('portal=42') && !text.includes('/crm/contacts') && !text.includes('secret-part'), text.slice(0, 200));
  }
});

test('the log failing under an admin route answers JSON with a status, never a plain-text 500', async () => {
  await h.setFaults('d1.other:*');
  try {
    for (const [path, method, body] of [['/admin/events', 'GET'], ['/admin/sources', 'GET'], ['/admin/replay', 'POST', {}], ['/admin/events/1', 'GET']]) {
      const res = await admin(path, { method, body });
      assert.deepEqual([res.status, res.json.error], [503, 'log_unavailable'], path);
      assert.equal(typeof res.json.message, 'string');
      assert.ok(!res.json.message.includes('injected'), 'the store\'s error stays in the log');
    }
  } finally {
    await h.setFaults('');
  }
});

test('purge removes everything, the KV copy of a large envelope too; a large dead event\'s envelope lasts as long as its row', async () => {
  const text = 'x'.repeat(1_100_000);
  const body = JSON.stringify({ event: 'message.received', id: 'evt_admin_large', line_id: 'ln_1',
    message: { id: 'msg_l', from: '+1555', type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
  await h.reconfigure(h.options({ sourcesWith: { largedead: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: `${h.dest}/gone`, maxBodyBytes: 4 << 20 } } }));
  try {
    assert.equal((await post('largedead', body, signers.mossmoon.sign(body))).status, 202);
    const row = await h.untilLogged('mossmoon:evt_admin_large', 'dead');
    const kv = await h.mf.getKVNamespace('DEDUP');
    const key = 'hookseal:event/largedead/mossmoon:evt_admin_large';
    const listed = (await kv.list({ prefix: key })).keys;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].expiration, undefined, 'kept as long as its row');
    const detail = await admin(`/admin/events/${row.id}`);
    assert.equal(detail.json.envelope.message.text.length, text.length);
    const del = await admin(`/admin/events/${row.id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(await kv.get(key), null, 'the KV copy is gone');
    assert.equal((await admin(`/admin/events/${row.id}`)).status, 404);
    // Purged, the event is forgotten: the sender's copy is a new event.
    assert.equal((await post('largedead', body, signers.mossmoon.sign(body))).status, 202);
  } finally {
    await h.reconfigure(h.options());
  }
});

test('the CLI sends samples to the Worker and drives its admin API; what a sender wrote is printed with its control characters escaped', async () => {
  const env = { HOOKSEAL_SECRET: h.SECRETS.MOSSMOON_SECRET };
  const url = new URL('/webhooks/mossmoon', h.base).href;
  const sent = await cli(['send', '--scheme', 'mossmoon', '--url', url, '--event', 'message.received'], { env });
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  assert.match(sent.stdout, /^202 .*"accepted":1/);
  const all = await cli(['send', '--scheme', 'mossmoon', '--url', url, '--all'], { env });
  assert.equal(all.code, 0, all.stdout);
  assert.match(all.stdout, /forgery answered 401/);

  const adminEnv = { HOOKSEAL_ADMIN_TOKEN: h.SECRETS.ADMIN_TOKEN };
  const listed = await cli(['events', '--url', h.base.href, '--source', 'mossmoon', '--type', 'line.ready', '--limit', '3'], { env: adminEnv });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /mossmoon {2}line\.ready {2}mossmoon:evt_/);
  const json = JSON.parse((await cli(['events', '--url', h.base.href, '--limit', '2', '--json'], { env: adminEnv })).stdout);
  assert.equal(json.events.length, 2);
  const denied = await cli(['events', '--url', h.base.href], { env: { HOOKSEAL_ADMIN_TOKEN: 'wrong' } });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /401 unauthorized/);
  assert.equal((await cli(['events', '--url', h.base.href])).code, 2, 'no token is a usage error');

  // A type with an escape sequence and a line break: printed escaped, never interpreted.
  const evil = JSON.stringify({ event: 'x\u001b[2J\u001b]0;pwned\u0007\nFAKE', id: 'evt_cli_evil', line_id: 'ln' });
  assert.equal((await post('mossmoon', evil, signers.mossmoon.sign(evil))).status, 202);
  const shown = await cli(['events', '--url', h.base.href, '--source', 'mossmoon', '--limit', '50'], { env: adminEnv });
  assert.ok(!shown.stdout.includes('\u001b'), 'no escape character reaches the terminal');
  assert.ok(!/\nFAKE/.test(shown.stdout), 'no line break from the sender');
  assert.match(shown.stdout, /x\\u001b\[2J/);

  // A dead letter, replayed from the CLI once the destination is back; by destination too.
  state.switchDown = true;
  assert.equal((await send('outage', 'evt_cli_dead')).status, 202);
  const row = await h.untilLogged('mossmoon:evt_cli_dead', 'dead');
  state.switchDown = false;
  const one = await cli(['replay', '--url', h.base.href, '--id', String(row.id), '--destination', 'outage'], { env: adminEnv });
  assert.deepEqual([one.code, one.stdout.trim()], [0, 'replayed 1']);
  await h.untilLogged('mossmoon:evt_cli_dead', 'delivered');
  assert.equal(h.deliveredCount('mossmoon:evt_cli_dead'), 1);
  const none = await cli(['replay', '--url', h.base.href, '--dead', '--source', 'outage'], { env: adminEnv });
  assert.deepEqual([none.code, none.stdout.trim()], [0, 'replayed 0']);
  const byDest = await cli(['events', '--url', h.base.href, '--destination', 'outage', '--json'], { env: adminEnv });
  assert.ok(JSON.parse(byDest.stdout).events.some((e) => e.dedupKey === 'mossmoon:evt_cli_dead'));
  await sleep(10);
});
