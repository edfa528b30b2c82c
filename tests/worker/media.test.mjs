// Media archived into R2 end to end, against local stand-ins for the providers' media hosts: a
// Meta image (the id resolved with the bearer token, the hash checked), a Twilio image behind
// basic auth and a redirect to another origin (which gets no credential), a Mossmoon voice note
// with its sha256, a 20 MB document streamed in chunks, and each failure ending as it should:
// a hash mismatch, a 404 and an expired window delivered with `archiveError` (or dead with
// `required`), an outage retried until the file comes. Links: the delivered one serves the same
// bytes and type; a wrong, tampered or expired signature is 403. A replay downloads nothing.
import http from 'node:http';
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';
// A real PNG, so that a browser can show it.
import { png } from '../../scripts/media-files.mjs';

const { state, signers, post, until, admin } = h;

const META_TOKEN = 'meta-e2e-access-token-0123456789';
const LINK_SECRET = 'media-e2e-link-secret-0123456789abcdef';
const PUBLIC_URL = 'https://hooks.example';
const ACCOUNT = 'AC0123456789abcdef0123456789abcdef';

const bytes = (n, seed) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const sha = (b) => createHash('sha256').update(b).digest('hex');

// The files each stand-in serves.
const files = {
  img: { body: png(120, 90), type: 'image/png' },
  voice: { body: bytes(21_000, 2), type: 'audio/ogg' },
  twimg: { body: bytes(30_000, 3), type: 'image/png' },
  doc: { body: bytes(20 * 1024 * 1024, 4), type: 'application/pdf' },
  late: { body: bytes(5_000, 5), type: 'image/jpeg' },
  tamp: { body: bytes(7_000, 6), type: 'image/jpeg' },
  f1: { body: bytes(9_000, 7), type: 'image/jpeg' },
  f2: { body: bytes(9_500, 8), type: 'image/jpeg' },
  f3: { body: bytes(9_900, 9), type: 'image/jpeg' },
};
const seen = []; // { path, authorization } for every request the stand-ins got
let flakyLeft = 0;

/** The provider's side: Graph API, lookaside, Twilio's API, Mossmoon's media host. */
const provider = http.createServer((req, res) => {
  seen.push({ host: 'provider', path: req.url, authorization: req.headers.authorization });
  const url = new URL(req.url, 'http://x');
  const bearer = req.headers.authorization === `Bearer ${META_TOKEN}`;
  let m;
  if ((m = url.pathname.match(/^\/graph\/(\w+)$/))) {
    if (!bearer) return res.writeHead(401).end();
    const f = files[m[1]];
    if (!f) return res.writeHead(404).end('{"error":{"message":"Unsupported get request"}}');
    return res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ url: `${providerUrl}/lookaside/${m[1]}?ext=1`, mime_type: f.type, sha256: sha(f.body), file_size: f.body.length, id: m[1] }));
  }
  if ((m = url.pathname.match(/^\/lookaside\/(\w+)$/))) {
    if (!bearer) return res.writeHead(401).end();
    const f = files[m[1]];
    return res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length }).end(f.body);
  }
  if ((m = url.pathname.match(/^\/2010-04-01\/Accounts\/(\w+)\/Messages\/\w+\/Media\/(\w+)$/))) {
    const basic = `Basic ${Buffer.from(`${ACCOUNT}:${h.SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
    if (req.headers.authorization !== basic) return res.writeHead(401).end();
    return res.writeHead(302, { location: `${storageUrl}/twilio-cdn/twimg?Expires=1` }).end();
  }
  if ((m = url.pathname.match(/^\/mossmoon\/(\w+)$/))) {
    if (m[1] === 'missing') return res.writeHead(404).end();
    if (m[1] === 'expired') return res.writeHead(410).end('link expired');
    if (m[1] === 'flaky' && flakyLeft-- > 0) return res.writeHead(503).end();
    // `flaky` serves `late` once its outage is over; `tampered` serves `tamp` altered.
    const f = files[{ flaky: 'late', tampered: 'tamp' }[m[1]] ?? m[1]];
    if (!f) return res.writeHead(404).end();
    const body = m[1] === 'tampered' ? Buffer.concat([f.body.subarray(1), Buffer.from('!')]) : f.body;
    res.writeHead(200, { 'content-type': f.type, 'content-length': body.length });
    // Written in 256 KiB pieces, as a real host streams a large file.
    for (let i = 0; i < body.length; i += 256 * 1024) res.write(body.subarray(i, i + 256 * 1024));
    return res.end();
  }
  res.writeHead(404).end();
});

/** Another origin: where Twilio's redirect points (it must not get the credential). */
const storage = http.createServer((req, res) => {
  seen.push({ host: 'storage', path: req.url, authorization: req.headers.authorization });
  const f = files.twimg;
  res.writeHead(200, { 'content-type': f.type, 'content-length': f.body.length }).end(f.body);
});

let providerUrl;
let storageUrl;

before(async () => {
  await new Promise((r) => provider.listen(0, '127.0.0.1', r));
  await new Promise((r) => storage.listen(0, '127.0.0.1', r));
  providerUrl = `http://127.0.0.1:${provider.address().port}`;
  storageUrl = `http://127.0.0.1:${storage.address().port}`;
  await h.start({
    vars: { PUBLIC_URL, MEDIA_LINK_SECRET: LINK_SECRET, META_ACCESS_TOKEN: META_TOKEN },
    sourcesWith: (to) => ({
      'wa-media': { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: to('/ok/wa-media'),
        media: { archive: true, accessToken: 'META_ACCESS_TOKEN', graphUrl: `${providerUrl}/graph`, hosts: [providerUrl] } },
      'tw-media': { scheme: 'twilio', secrets: ['TWILIO_AUTH_TOKEN'], destination: to('/ok/tw-media'),
        media: { archive: true, hosts: [providerUrl, storageUrl] } },
      'mm-media': { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'good' }, { to: 'crm' }],
        media: { archive: true, hosts: [providerUrl], maxBytes: 32 * 1024 * 1024 } },
      'mm-required': { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/mm-required'),
        media: { archive: true, hosts: [providerUrl], required: true } },
      'mm-elsewhere': { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: to('/ok/mm-elsewhere'),
        media: { archive: true } },
    }),
  });
});
after(async () => {
  await h.stop();
  provider.close();
  storage.close();
});

/** A Mossmoon voice note or document whose media is at `/mossmoon/{name}` on the provider. */
function mossmoonMedia(id, name, { sha256 = sha(files[name]?.body ?? Buffer.alloc(0)), type = 'voice', host = providerUrl } = {}) {
  return JSON.stringify({
    event: 'message.received', id, line_id: 'ln_1',
    message: { id: `msg_${id}`, from: '+15559876543', type, received_at: '2026-06-12T14:42:11Z',
      media: { url: `${host}/mossmoon/${name}?sig=abc`, mime_type: files[name]?.type ?? 'audio/ogg', sha256 } },
  });
}
const sendMossmoon = (source, body) => post(source, body, signers.mossmoon.sign(body));
const delivered = (key, path) => state.delivered.filter((d) => d.key === key && (!path || d.path.startsWith(path)));

/** GETs a media link (its origin is PUBLIC_URL; the request goes to the local Worker). */
async function open(link) {
  const u = new URL(link);
  assert.equal(u.origin, PUBLIC_URL);
  const res = await h.mf.dispatchFetch(new URL(u.pathname + u.search, h.base));
  return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

test('a Meta image: the id resolved with the bearer token, the bytes stored and checked, the delivered link serving them', async () => {
  const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: '15559876543' }],
    messages: [{ from: '15559876543', id: 'wamid.media1', timestamp: '1781275331', type: 'image',
      image: { caption: 'This one', mime_type: 'image/jpeg', sha256: sha(files.img.body), id: 'img' } }] } }] }] });
  assert.equal((await post('wa-media', body, signers.meta.sign(body))).status, 202);
  await until('the delivery', () => delivered('meta:message:wamid.media1').length === 1);
  const media = delivered('meta:message:wamid.media1')[0].body.event.message.media;
  assert.deepEqual({ ...media.archived, url: undefined }, { key: 'wa-media/img', size: files.img.body.length, sha256: sha(files.img.body), contentType: 'image/png', url: undefined });
  const got = await open(media.archived.url);
  assert.deepEqual([got.status, got.type, got.body.equals(files.img.body)], [200, 'image/png', true]);
  assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
  // Both calls to the provider carried the token; the file is in R2 under its id.
  assert.ok(seen.some((s) => s.path === '/graph/img' && s.authorization === `Bearer ${META_TOKEN}`));
  assert.ok(seen.some((s) => s.path.startsWith('/lookaside/img') && s.authorization === `Bearer ${META_TOKEN}`));
  const r2 = await (await h.mf.getR2Bucket('MEDIA')).get('wa-media/img');
  assert.ok(Buffer.from(await r2.arrayBuffer()).equals(files.img.body));
});

test('a Twilio image behind basic auth and a redirect to another origin, which gets no credential', async () => {
  const url = new URL('/webhooks/tw-media', h.base).toString();
  const mediaUrl = `${providerUrl}/2010-04-01/Accounts/${ACCOUNT}/Messages/MM2a0e7d1a2b3c4d5e6f708192a3b4c5d8/Media/ME0123456789abcdef0123456789abcdef`;
  const body = new URLSearchParams({
    MessageSid: 'MM2a0e7d1a2b3c4d5e6f708192a3b4c5d8', NumMedia: '1', MessageType: 'image', Body: 'The blue one',
    MediaContentType0: 'image/png', MediaUrl0: mediaUrl, AccountSid: ACCOUNT, From: 'whatsapp:+15559876543',
    To: 'whatsapp:+14155238886', WaId: '15559876543', ApiVersion: '2010-04-01', SmsStatus: 'received',
  }).toString();
  const res = await post('tw-media', body, { ...signers.twilio.sign(body, { url }), 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(res.status, 202);
  const key = 'twilio:message:MM2a0e7d1a2b3c4d5e6f708192a3b4c5d8';
  await until('the delivery', () => delivered(key).length === 1);
  const archived = delivered(key)[0].body.event.message.media.archived;
  assert.deepEqual([archived.key, archived.size, archived.sha256], ['tw-media/ME0123456789abcdef0123456789abcdef', files.twimg.body.length, sha(files.twimg.body)]);
  const got = await open(archived.url);
  assert.ok(got.body.equals(files.twimg.body));
  const toStorage = seen.filter((s) => s.host === 'storage');
  assert.equal(toStorage.length, 1);
  assert.equal(toStorage[0].authorization, undefined, 'the credential stays with the first origin');
});

test('a Mossmoon voice note, archived once for two destinations; a replay downloads nothing; the same file again is not downloaded again', async () => {
  const before = seen.filter((s) => s.path.startsWith('/mossmoon/voice')).length;
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_voice_1', 'voice'))).status, 202);
  const key = 'mossmoon:evt_voice_1';
  await until('both destinations', () => delivered(key, '/ok/good').length === 1 && delivered(key, '/crm').length === 1);
  const a = delivered(key, '/ok/good')[0].body.event.message.media.archived;
  const b = delivered(key, '/crm')[0].body.event.message.media.archived;
  assert.equal(a.key, b.key);
  assert.equal(a.sha256, sha(files.voice.body));
  assert.equal(seen.filter((s) => s.path.startsWith('/mossmoon/voice')).length - before, 1, 'downloaded once');
  const row = await h.untilLogged(key, 'delivered');
  const replay = await admin(`/admin/events/${row.id}/replay`, { method: 'POST', body: {} });
  assert.equal(replay.status, 202);
  await until('the replay', () => delivered(key, '/ok/good').length === 2);
  assert.equal(seen.filter((s) => s.path.startsWith('/mossmoon/voice')).length - before, 1, 'the replay downloaded nothing');
  assert.equal(delivered(key, '/ok/good')[1].body.event.message.media.archived.key, a.key);
  // The admin API mints a fresh link, and its event view holds the archive.
  const fresh = await admin(`/admin/media/${a.key}`);
  assert.deepEqual([fresh.status, fresh.json.size, fresh.json.contentType], [200, files.voice.body.length, 'audio/ogg']);
  assert.ok((await open(fresh.json.url)).body.equals(files.voice.body));
  const one = await admin(`/admin/events/${row.id}`);
  assert.equal(one.json.envelope.message.media.archived.key, a.key);
  // Another event with the same file (Mossmoon keys media by its hash): R2 has it already.
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_voice_2', 'voice'))).status, 202);
  await until('delivered', () => delivered('mossmoon:evt_voice_2', '/ok/good').length === 1);
  assert.equal(delivered('mossmoon:evt_voice_2', '/ok/good')[0].body.event.message.media.archived.key, a.key);
  assert.equal(seen.filter((s) => s.path.startsWith('/mossmoon/voice')).length - before, 1);
});

test('a 20 MB document streams through in chunks: the largest read is far below the file', async () => {
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_doc_1', 'doc', { type: 'document' }))).status, 202);
  await until('the delivery', () => delivered('mossmoon:evt_doc_1', '/ok/good').length === 1, 120_000);
  const archived = delivered('mossmoon:evt_doc_1', '/ok/good')[0].body.event.message.media.archived;
  assert.deepEqual([archived.size, archived.sha256], [files.doc.body.length, sha(files.doc.body)]);
  const stored = state.logs.find((l) => l.at === 'media_stored' && l.key === archived.key);
  assert.ok(stored, 'the media_stored line');
  assert.ok(stored.largestChunk <= 1024 * 1024, `largest chunk ${stored.largestChunk} bytes`);
  const got = await open(archived.url);
  assert.ok(got.body.equals(files.doc.body));
});

test('a hash mismatch, a 404 and an expired link deliver the event with archiveError; with `required` it goes dead', async () => {
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_tampered', 'tampered', { sha256: sha(files.tamp.body) }))).status, 202);
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_missing', 'missing', { sha256: sha(Buffer.from('x')) }))).status, 202);
  await until('both delivered', () => delivered('mossmoon:evt_tampered', '/ok/good').length === 1 && delivered('mossmoon:evt_missing', '/ok/good').length === 1);
  const t = delivered('mossmoon:evt_tampered', '/ok/good')[0].body.event.message.media;
  assert.equal(t.archived, null);
  assert.match(t.archiveError, /^sha256_mismatch: /);
  const m = delivered('mossmoon:evt_missing', '/ok/good')[0].body.event.message.media;
  assert.equal(m.archived, null);
  assert.match(m.archiveError, /^not_found: /);
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_expired', 'expired', { sha256: sha(Buffer.from('z')) }))).status, 202);
  await until('delivered', () => delivered('mossmoon:evt_expired', '/ok/good').length === 1);
  assert.match(delivered('mossmoon:evt_expired', '/ok/good')[0].body.event.message.media.archiveError, /^gone: /);
  // The mismatched file is not kept under any name of the source.
  const list = await (await h.mf.getR2Bucket('MEDIA')).list({ prefix: 'mm-media/' });
  assert.ok(!list.objects.some((o) => o.key === `mm-media/${sha(files.tamp.body)}`));

  assert.equal((await sendMossmoon('mm-required', mossmoonMedia('evt_required', 'missing', { sha256: sha(Buffer.from('y')) }))).status, 202);
  const row = await h.untilLogged('mossmoon:evt_required', 'dead');
  assert.match(row.deliveries[0].lastError, /media: not_found/);
  assert.equal(delivered('mossmoon:evt_required').length, 0);
});

test('a provider outage is retried until the file comes; a media host not listed is refused for good', async () => {
  flakyLeft = 2;
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_flaky', 'flaky', { sha256: sha(files.late.body) }))).status, 202);
  await until('the delivery after the outage', () => delivered('mossmoon:evt_flaky', '/ok/good').length === 1);
  assert.equal(delivered('mossmoon:evt_flaky', '/ok/good')[0].body.event.message.media.archived.sha256, sha(files.late.body));
  const row = await h.untilLogged('mossmoon:evt_flaky', 'delivered');
  assert.ok(row.deliveries.length === 2 && row.deliveries.every((d) => d.attempts >= 2), 'the first attempts waited for the media');
  assert.ok(row.deliveries.some((d) => d.attempts === 3), 'and the retries too, while the outage lasted');

  assert.equal((await sendMossmoon('mm-elsewhere', mossmoonMedia('evt_elsewhere', 'voice'))).status, 202);
  await until('delivered without the file', () => delivered('mossmoon:evt_elsewhere').length === 1);
  assert.match(delivered('mossmoon:evt_elsewhere')[0].body.event.message.media.archiveError, /^host_not_allowed: /);
});

test('failures injected at each step of the archive: nothing is lost, nothing downloaded twice after it is stored', async () => {
  const downloads = (name) => seen.filter((x) => x.path.startsWith(`/mossmoon/${name}`)).length;
  // R2 refuses the first put: the attempt is retried, the file stored the second time.
  await h.setFaults('r2.put:1');
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_fault_put', 'f1'))).status, 202);
  await until('delivered to both', () => delivered('mossmoon:evt_fault_put', '/ok/good').length === 1
    && delivered('mossmoon:evt_fault_put', '/crm').length === 1);
  assert.equal(delivered('mossmoon:evt_fault_put', '/ok/good')[0].body.event.message.media.archived.sha256, sha(files.f1.body));
  // Once for the failed first attempt, once for the retries: the second destination's retry
  // waits, and finds the file archived.
  assert.equal(downloads('f1'), 2);
  // R2 cannot be looked in: the same.
  await h.setFaults('r2.head:1');
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_fault_head', 'f2'))).status, 202);
  await until('delivered', () => delivered('mossmoon:evt_fault_head', '/ok/good').length === 1);
  assert.equal(delivered('mossmoon:evt_fault_head', '/ok/good')[0].body.event.message.media.archived.size, files.f2.body.length);
  // The archive is stored but its envelope cannot be written back: delivered with it anyway,
  // and a replay finds the file in R2 rather than downloading it again.
  await h.setFaults('d1.update:1');
  assert.equal((await sendMossmoon('mm-media', mossmoonMedia('evt_fault_envelope', 'f3'))).status, 202);
  await until('delivered', () => delivered('mossmoon:evt_fault_envelope', '/ok/good').length === 1);
  await h.setFaults('');
  assert.ok(state.logs.some((l) => l.at === 'envelope_unsaved'));
  const row = await h.untilLogged('mossmoon:evt_fault_envelope', 'delivered');
  assert.equal((await admin(`/admin/events/${row.id}/replay`, { method: 'POST', body: { destination: 'good' } })).status, 202);
  await until('the replay', () => delivered('mossmoon:evt_fault_envelope', '/ok/good').length === 2);
  assert.equal(delivered('mossmoon:evt_fault_envelope', '/ok/good')[1].body.event.message.media.archived.sha256, sha(files.f3.body));
  assert.equal(downloads('f3'), 1);
});

test('media links: wrong, tampered or expired signatures are 403; a document is served as a download', async () => {
  const archived = delivered('mossmoon:evt_voice_1', '/ok/good')[0].body.event.message.media.archived;
  const u = new URL(archived.url);
  const get = async (path) => (await h.mf.dispatchFetch(new URL(path, h.base))).status;
  assert.equal(await get(u.pathname + u.search), 200);
  const sig = u.searchParams.get('sig');
  const exp = Number(u.searchParams.get('exp'));
  const flip = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  assert.equal(await get(`${u.pathname}?exp=${exp}&sig=${flip}`), 403);
  assert.equal(await get(`${u.pathname}?exp=${exp + 60}&sig=${sig}`), 403);
  assert.equal(await get(`/media/mm-media/other?exp=${exp}&sig=${sig}`), 403);
  assert.equal(await get(`${u.pathname}`), 403);
  // Expired: a link minted with an expiry in the past, correctly signed.
  const past = Math.floor(Date.now() / 1000) - 10;
  const signed = createHmac('sha256', LINK_SECRET).update(`${archived.key}\n${past}`).digest('hex');
  assert.equal(await get(`${u.pathname}?exp=${past}&sig=${signed}`), 403);
  const future = past + 3600;
  const good = createHmac('sha256', LINK_SECRET).update(`${archived.key}\n${future}`).digest('hex');
  assert.equal(await get(`${u.pathname}?exp=${future}&sig=${good}`), 200, 'the same MAC, still valid, opens');
  const doc = delivered('mossmoon:evt_doc_1', '/ok/good')[0].body.event.message.media.archived;
  const d = await open(doc.url);
  assert.equal(d.headers.get('content-disposition'), null, 'a PDF is shown');
  assert.equal(d.headers.get('content-security-policy'), "default-src 'none'; sandbox");
});

test('the console shows an archived image, and says why media was not archived', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(new URL('/admin/', h.base).href);
    await page.fill('#token', h.SECRETS.ADMIN_TOKEN);
    await page.click('#signin-form button');
    await page.waitForSelector('#app:not([hidden])');
    await page.fill('#f-key', 'meta:message:wamid.media1');
    await page.press('#f-key', 'Enter');
    await page.click('tr:has-text("meta:message:wamid.media1")');
    await page.waitForSelector('#media img');
    await page.waitForFunction(() => document.querySelector('#media img').complete);
    const size = await page.$eval('#media img', (i) => [i.naturalWidth, i.naturalHeight]);
    assert.deepEqual(size, [120, 90], 'the image loaded through a fresh link');
    await page.screenshot({ path: join(h.root, 'build/screenshots/console-media.png'), fullPage: true });
    await page.fill('#f-key', 'mossmoon:evt_missing');
    await page.press('#f-key', 'Enter');
    await page.click('tr:has-text("mossmoon:evt_missing")');
    await page.waitForSelector('#media p:has-text("not_found")');
  } finally {
    await browser.close();
  }
});

test('purging an event deletes its media', async () => {
  const row = await h.untilLogged('mossmoon:evt_doc_1', 'delivered');
  const bucket = await h.mf.getR2Bucket('MEDIA');
  const key = delivered('mossmoon:evt_doc_1', '/ok/good')[0].body.event.message.media.archived.key;
  assert.ok(await bucket.head(key));
  assert.equal((await admin(`/admin/events/${row.id}`, { method: 'DELETE' })).status, 200);
  assert.equal(await bucket.head(key), null);
});

test('a misspelt media setting, a missing PUBLIC_URL or R2 bucket, a host-less provider: each named on /health', async () => {
  const media = (m) => ({ scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destination: 'https://x.example/', media: m });
  await h.reconfigure(h.options({
    sourcesWith: {
      typo: media({ archive: true, acessToken: 'X' }),
      nolink: media({ archive: true }),
      metanotoken: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: 'https://x.example/', media: { archive: true } },
      hostless: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], destination: 'https://x.example/', media: { archive: true } },
    },
    vars: { MEDIA_LINK_SECRET: LINK_SECRET, PUBLIC_URL: undefined },
  }));
  let p = (await admin('/health')).json.problems.join('\n');
  assert.match(p, /source `typo`: media: unknown field `acessToken`: did you mean `accessToken`\?/);
  assert.match(p, /source `nolink`: media archiving writes links to the media: set `PUBLIC_URL`/);
  await h.reconfigure(h.options({
    sourcesWith: {
      metanotoken: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: 'https://x.example/', media: { archive: true } },
      hostless: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], destination: 'https://x.example/', media: { archive: true } },
      nobucket: media({ archive: true }),
    },
    vars: { MEDIA_LINK_SECRET: LINK_SECRET, PUBLIC_URL },
    without: ['MEDIA'],
  }));
  p = (await admin('/health')).json.problems.join('\n');
  assert.match(p, /source `nobucket`: media archiving needs the R2 bucket `MEDIA`/);
  await h.reconfigure(h.options({
    sourcesWith: {
      metanotoken: { scheme: 'meta', secrets: ['META_APP_SECRET'], destination: 'https://x.example/', media: { archive: true } },
      hostless: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], destination: 'https://x.example/', media: { archive: true } },
    },
    vars: { MEDIA_LINK_SECRET: LINK_SECRET, PUBLIC_URL },
  }));
  p = (await admin('/health')).json.problems.join('\n');
  assert.match(p, /source `metanotoken`: Meta media needs `accessToken`/);
  assert.match(p, /source `hostless`: hookseal knows no media host for `moltflow`/);
});
