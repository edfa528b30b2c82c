// Routes end to end: filters choose destinations, each destination gets its own delivery (with
// its own retries, dead letter and replay), Slack and template bodies byte for byte, the admin
// API's views of destinations and the filter tester, and a load test fanned out to two.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './harness.mjs';

const { state, signers, post, until, sleep, admin } = h;

before(() => h.start());
after(() => h.stop());

const send = (source, id, text) => {
  const body = h.mossmoonEvent(id, text);
  return post(source, body, signers.mossmoon.sign(body));
};
const slack = () => state.raw.filter((r) => r.path.startsWith('/slack'));

test('an urgent message goes to the CRM and to Slack, once each; a plain one to the CRM alone; a filtered event goes nowhere and is logged filtered', async () => {
  assert.equal((await send('shop', 'evt_route_urgent', 'This is URGENT, call me')).status, 202);
  assert.equal((await send('shop', 'evt_route_plain', 'no rush')).status, 202);
  await until('the CRM got both', () => h.deliveredCount('mossmoon:evt_route_urgent', '/crm') === 1 && h.deliveredCount('mossmoon:evt_route_plain', '/crm') === 1);
  await until('Slack got the urgent one', () => slack().some((r) => r.body.includes('URGENT')));
  await sleep(1500);
  assert.equal(slack().filter((r) => r.body.includes('URGENT')).length, 1);
  assert.ok(!slack().some((r) => r.body.includes('no rush')), 'the filter kept the plain one from Slack');
  // The CRM's destination signs with its own secret (the destination verified it).
  assert.ok(!state.badSignatures.some((b) => b.startsWith('/crm')));
  const urgent = await h.untilLogged('mossmoon:evt_route_urgent', 'delivered');
  assert.deepEqual(urgent.deliveries.map((d) => [d.destination, d.status, d.attempts]).sort(), [['crm', 'delivered', 1], ['ops-slack', 'delivered', 1]]);
  // No route matches: accepted, logged `filtered`, delivered nowhere.
  const res = await send('picky', 'evt_route_none');
  assert.deepEqual([res.status, res.json.accepted, res.json.filtered], [202, 1, 1]);
  const row = await h.untilLogged('mossmoon:evt_route_none', 'filtered');
  assert.deepEqual(row.deliveries, []);
  await sleep(1000);
  assert.equal(h.deliveredCount('mossmoon:evt_route_none'), 0);
  const listed = await admin('/admin/events?status=filtered&source=picky');
  assert.deepEqual(listed.json.events.map((e) => e.dedupKey), ['mossmoon:evt_route_none']);
});

test('Slack and template bodies, byte for byte, with headers from secrets', async () => {
  const from = slack().length;
  assert.equal((await send('shop', 'evt_route_slack', 'Urgent: <b>order</b> #4411 & "late"\nsecond line')).status, 202);
  await until('the Slack message', () => slack().length > from);
  const msg = slack()[from];
  assert.equal(msg.path, '/slack/T000/B000/secret-part', 'the URL from the secret');
  assert.equal(msg.body, '{"text":"*+15559876543* via shop (mossmoon)\\n> Urgent: &lt;b&gt;order&lt;/b&gt; #4411 &amp; \\"late\\"\\n> second line"}');
  assert.equal(msg.headers['content-type'], 'application/json');
  assert.equal(msg.headers['webhook-signature'], undefined, 'Slack gets no Standard Webhooks headers');

  assert.equal((await send('notes', 'evt_route_note', 'Olá! Tem em azul? 💙')).status, 202);
  await until('the template body', () => state.raw.some((r) => r.path === '/template/notes'));
  const note = state.raw.find((r) => r.path === '/template/notes');
  const row = await h.logged('mossmoon:evt_route_note');
  assert.equal(note.body, `{"properties":{"hs_note_body":"WhatsApp from 15559876543: Olá! Tem em azul? 💙","hs_timestamp":${row.receivedAt},"source":"notes"}}`);
  assert.equal(note.headers.authorization, `Bearer ${h.SECRETS.HUBSPOT_TOKEN}`);
  assert.equal(note.headers['x-source'], 'hookseal');
});

test('one destination down, another up: the good one gets it once and promptly; the bad one goes dead, is replayed alone, and gets it once', async () => {
  state.switchDown = true;
  const started = Date.now();
  assert.equal((await send('fanout', 'evt_route_split')).status, 202);
  await until('the good destination', () => h.deliveredCount('mossmoon:evt_route_split', '/ok/good') === 1, 5000);
  const prompt = Date.now() - started;
  const row = await h.untilLogged('mossmoon:evt_route_split', 'dead');
  const by = Object.fromEntries(row.deliveries.map((d) => [d.destination, d]));
  assert.deepEqual([by.good.status, by.bad.status], ['delivered', 'dead']);
  assert.equal(by.bad.attempts, h.MAX_ATTEMPTS);
  assert.ok(prompt < 3000, `the good destination waited ${prompt} ms`);
  state.switchDown = false;
  const replay = await admin(`/admin/events/${row.id}/replay`, { method: 'POST', body: { destination: 'bad' } });
  assert.deepEqual([replay.status, replay.json.replayed], [202, 1]);
  await h.untilLogged('mossmoon:evt_route_split', 'delivered');
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_route_split', '/switch/bad'), 1);
  assert.equal(h.deliveredCount('mossmoon:evt_route_split', '/ok/good'), 1, 'the good one was not sent it again');
  // A replay naming a destination the event has none for.
  const none = await admin(`/admin/events/${row.id}/replay`, { method: 'POST', body: { destination: 'crm' } });
  assert.equal(none.status, 404);
  // Listings by destination, and the deliveries on each event.
  const bad = await admin('/admin/events?destination=bad&limit=5');
  assert.ok(bad.json.events.some((e) => e.dedupKey === 'mossmoon:evt_route_split'));
  const good = await admin('/admin/events?destination=crm&limit=200');
  assert.ok(!good.json.events.some((e) => e.dedupKey === 'mossmoon:evt_route_split'));
});

test('10 concurrent copies of one event: each destination gets it once', async () => {
  const body = h.mossmoonEvent('evt_route_copies', 'urgent copies');
  const answers = await Promise.all(Array.from({ length: 10 }, () => post('shop', body, signers.mossmoon.sign(body))));
  assert.equal(answers.reduce((n, a) => n + (a.json.accepted ?? 0), 0), 1);
  await until('both destinations', () => h.deliveredCount('mossmoon:evt_route_copies', '/crm') === 1 && slack().some((r) => r.body.includes('urgent copies')));
  await sleep(1500);
  assert.equal(h.deliveredCount('mossmoon:evt_route_copies', '/crm'), 1);
  assert.equal(slack().filter((r) => r.body.includes('urgent copies')).length, 1);
});

test('an invalid filter or a misspelt setting is refused at the request with a clear message, and named on /health', async () => {
  await h.reconfigure(h.options({
    sourcesWith: {
      badfilter: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'good', filter: { message: { text: { $regx: 'x' } } } }] },
      badregex: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'good', filter: { message: { text: { $regex: '(unclosed' } } } }] },
      typo: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], destinaton: 'https://x.example/' },
      nowhere: { scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: 'nosuch' }] },
    },
    destinationsWith: { typod: { url: 'https://x.example/', timeoutSecs: 3 }, slackless: { kind: 'slack', urlSecret: 'NOT_SET_ANYWHERE' } },
    vars: { DELIVERY_BACKOF_SECONDS: '5' },
  }));
  try {
    for (const source of ['badfilter', 'badregex', 'typo', 'nowhere']) {
      const res = await send(source, `evt_${source}`);
      assert.deepEqual([res.status, res.json.error], [500, 'invalid_config'], source);
      assert.ok(!res.json.message.includes(source), 'the answer names no source');
    }
    const health = await admin('/health');
    assert.equal(health.status, 500);
    const p = health.json.problems.join('\n');
    assert.match(p, /source `badfilter`: route 1 \(to `good`\): invalid filter: message\.text\.\$regx: unknown operator `\$regx`/);
    assert.match(p, /source `badregex`: .*message\.text\.\$regex: unclosed group/);
    assert.match(p, /source `typo`: unknown field `destinaton`/);
    assert.match(p, /source `nowhere`: route 1 goes to `nosuch`, which DESTINATIONS does not have/);
    assert.match(p, /destination `typod`: unknown field `timeoutSecs`/);
    assert.match(p, /destination `slackless`: the secret `NOT_SET_ANYWHERE` is not set/);
    assert.match(p, /unknown setting `DELIVERY_BACKOF_SECONDS`: did you mean `DELIVERY_BACKOFF_SECONDS`\?/);
    // Every other source keeps working.
    assert.equal((await send('mossmoon', 'evt_route_others_ok')).status, 202);
    // The log has the details the answer left out.
    assert.ok(state.logs.some((l) => l.at === 'ingest' && l.source === 'badfilter' && /unknown operator/.test(l.problem)));
  } finally {
    await h.reconfigure(h.options());
  }
});

test('the admin API: destinations with their counts and hosts only; the filter tester', async () => {
  const res = await admin('/admin/destinations');
  assert.equal(res.status, 200);
  const by = Object.fromEntries(res.json.destinations.map((d) => [d.name, d]));
  assert.equal(by.crm.kind, 'webhook');
  assert.equal(by['ops-slack'].kind, 'slack');
  assert.equal(by['crm-notes'].kind, 'template');
  assert.equal(by.outbox.kind, 'outbox');
  for (const d of res.json.destinations) {
    assert.ok(!JSON.stringify(d).includes('secret-part'), `${d.name}: no URL path`);
    assert.ok(!JSON.stringify(d).includes('portal=42'), `${d.name}: no URL query`);
  }
  assert.match(by['ops-slack'].host, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(by.crm.last24h.delivered >= 2, JSON.stringify(by.crm));
  assert.deepEqual(by.crm.sources, ['shop']);
  // The filter tester, on a logged event (as routes see it) and on a given one.
  const row = await h.logged('mossmoon:evt_route_urgent');
  const urgent = { source: 'shop', message: { text: { $regex: '(?i)urgent' } } };
  const yes = await admin('/admin/filters/test', { method: 'POST', body: { filter: urgent, eventId: row.id } });
  assert.deepEqual([yes.status, yes.json.matches], [200, true]);
  const no = await admin('/admin/filters/test', { method: 'POST', body: { filter: { source: 'other' }, eventId: row.id } });
  assert.deepEqual([no.status, no.json.matches], [200, false]);
  const given = await admin('/admin/filters/test', { method: 'POST', body: { filter: { type: { $in: ['a', 'b'] } }, event: { type: 'b' } } });
  assert.equal(given.json.matches, true);
  const bad = await admin('/admin/filters/test', { method: 'POST', body: { filter: { type: { $nope: 1 } }, event: {} } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_filter');
  assert.match(bad.json.message, /type\.\$nope: unknown operator/);
});

test('load: 2,000 signed events fanned out to two destinations, each delivered exactly once to each', async () => {
  await h.reconfigure(h.options({ sourcesWith: { fanload: { scheme: 'moltflow', secrets: ['MOLTFLOW_SECRET'], routes: [{ to: 'good' }, { to: 'crm' }] } } }));
  try {
    const n = 2000;
    const before = state.delivered.length;
    const bodies = Array.from({ length: n }, (_, i) => JSON.stringify({
      event: 'message.received', timestamp: '2026-11-22T17:00:00Z',
      data: { session_id: 'fan', from: `5511${String(i).padStart(9, '0')}`, body: `fan ${i}`, message_id: `wamid.fan${i}` },
    }));
    let next = 0;
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < n) {
        const b = bodies[next++];
        const res = await post('fanload', b, signers.moltflow.sign(b));
        assert.equal(res.status, 202);
      }
    }));
    const elapsed = (Date.now() - started) / 1000;
    const fan = () => state.delivered.slice(before).filter((d) => d.key.startsWith('moltflow:message.received:wamid.fan'));
    await until('4,000 deliveries', () => fan().length >= 2 * n, 180_000);
    await sleep(2000);
    for (const path of ['/ok/good', '/crm']) {
      const keys = fan().filter((d) => d.path.startsWith(path)).map((d) => d.key);
      assert.equal(keys.length, n, `${path}: none twice`);
      assert.equal(new Set(keys).size, n, `${path}: every one`);
    }
    console.log(`# fan-out load: 2000 requests to two destinations in ${elapsed.toFixed(1)} s (${Math.round(n / elapsed)} req/s through Miniflare)`);
  } finally {
    await h.reconfigure(h.options());
  }
});
