// Destinations that protect themselves, under Miniflare with real Durable Objects (one gate per
// destination), D1 and Queues: a rate that holds at the destination, one request in flight, a
// breaker that opens, parks and recovers with nothing dead, pause and resume, each
// conversation in order through injected failures, and a 429's Retry-After honoured without
// spending an attempt.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import * as h from './harness.mjs';

const { state, signers, post, until, admin, sleep } = h;

const mossmoon = (source) => ({ scheme: 'mossmoon', secrets: ['MOSSMOON_SECRET'], routes: [{ to: source }] });

before(() => h.start({
  gates: true,
  destinationsWith: (to) => ({
    paced: { url: to('/ok/paced'), rate: '5/s' },
    single: { url: to('/slow/single'), maxInFlight: 1 },
    breaker: { url: to('/switch/breaker'), breakAfter: 3, probeSeconds: 1 },
    steady: { url: to('/ok/steady') },
    pausable: { url: to('/ok/pausable') },
    ordered: { url: to('/flakyorder'), orderBy: 'message.sender' },
    tooearly: { url: to('/tooearly') },
  }),
  sourcesWith: {
    paced: mossmoon('paced'),
    single: mossmoon('single'),
    breaker: mossmoon('breaker'),
    steady: mossmoon('steady'),
    pausable: mossmoon('pausable'),
    ordered: mossmoon('ordered'),
    tooearly: mossmoon('tooearly'),
  },
}));
after(() => h.stop());

/** A Mossmoon message from `from`. */
function message(id, text, from = '+15559876543') {
  return JSON.stringify({ event: 'message.received', id, line_id: 'ln_1',
    message: { id: `msg_${id}`, from, type: 'text', text, received_at: '2026-06-12T14:42:11Z' } });
}
const send = (source, id, text, from) => {
  const body = message(id, text, from);
  return post(source, body, signers.mossmoon.sign(body));
};
const ok = (path) => state.delivered.filter((d) => d.path.startsWith(path));
const gateOf = async (name) => (await admin('/admin/destinations')).json.destinations.find((d) => d.name === name).gate;

test('a destination limited to 5/s gets a burst of 100 at no more than 5 in any second, each once', async () => {
  const sent = await Promise.all(Array.from({ length: 100 }, (_, i) => send('paced', `evt_paced_${i}`, `burst ${i}`)));
  assert.ok(sent.every((r) => r.status === 202));
  await until('all 100', () => ok('/ok/paced').length >= 100, 120_000);
  await sleep(500);
  const got = ok('/ok/paced');
  assert.equal(got.length, 100);
  assert.equal(new Set(got.map((d) => d.key)).size, 100, 'each once');
  const at = state.arrivals.filter((a) => a.path.startsWith('/ok/paced')).map((a) => a.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < at.length; i++) {
    let n = 0;
    while (i + n < at.length && at[i + n] < at[i] + 1000) n++;
    most = Math.max(most, n);
  }
  assert.ok(most <= 5, `${most} requests within one second`);
  const gate = await gateOf('paced');
  assert.deepEqual([gate.state, gate.rate, gate.waiting], ['closed', '5/s', 0]);
});

test('maxInFlight = 1: the destination never sees two requests at once', async () => {
  state.maxInFlight = 0;
  const sent = await Promise.all(Array.from({ length: 6 }, (_, i) => send('single', `evt_single_${i}`, `one at a time ${i}`)));
  assert.ok(sent.every((r) => r.status === 202));
  await until('all 6', () => ok('/slow/single').length === 6, 60_000);
  assert.equal(state.maxInFlight, 1);
});

test('a destination down opens after its threshold, parks, the others are unaffected; after it recovers every parked event arrives once, none dead', async () => {
  state.switchDown = true;
  for (let i = 0; i < 10; i++) assert.equal((await send('breaker', `evt_breaker_${i}`, `held ${i}`)).status, 202);
  await until('the breaker open', async () => (await gateOf('breaker')).state === 'open', 30_000);
  const gate = await gateOf('breaker');
  assert.equal(gate.parked, 10);
  // Another destination is not held by it.
  assert.equal((await send('steady', 'evt_steady_1', 'unaffected')).status, 202);
  await until('the steady one', () => ok('/ok/steady').length === 1, 10_000);
  await until('the opening alerted', () => state.alerts.some((a) => a.type === 'hookseal.destination_opened' && a.destination === 'breaker'), 10_000);
  // Probes fail while it is down: still nothing dead.
  await sleep(3000);
  const held = await h.logged('mossmoon:evt_breaker_0');
  assert.notEqual(held.status, 'dead');
  state.switchDown = false;
  await until('all 10 delivered', () => ok('/switch/breaker').length >= 10, 60_000);
  await sleep(1000);
  const got = ok('/switch/breaker');
  assert.equal(got.length, 10);
  assert.equal(new Set(got.map((d) => d.key)).size, 10);
  for (let i = 0; i < 10; i++) assert.equal((await h.untilLogged(`mossmoon:evt_breaker_${i}`, 'delivered')).status, 'delivered');
  assert.equal((await gateOf('breaker')).state, 'closed');
  await until('the recovery alerted', () => state.alerts.some((a) => a.type === 'hookseal.destination_recovered' && a.destination === 'breaker'), 10_000);
});

test('pause, then resume: nothing delivered while paused, everything once after', async () => {
  const paused = await admin('/admin/destinations/pausable/pause', { method: 'POST' });
  assert.deepEqual([paused.status, paused.json.gate.state], [200, 'paused']);
  for (let i = 0; i < 5; i++) assert.equal((await send('pausable', `evt_pause_${i}`, `wait ${i}`)).status, 202);
  await sleep(2500);
  assert.equal(ok('/ok/pausable').length, 0, 'nothing while paused');
  const gate = await gateOf('pausable');
  assert.deepEqual([gate.state, gate.parked], ['paused', 5]);
  const resumed = await admin('/admin/destinations/pausable/resume', { method: 'POST' });
  assert.equal(resumed.json.gate.state, 'closed');
  await until('all 5', () => ok('/ok/pausable').length === 5, 30_000);
  await sleep(500);
  assert.equal(ok('/ok/pausable').length, 5);
  // A destination with no such name, and the CLI-less misuse of the route.
  assert.equal((await admin('/admin/destinations/nosuch/pause', { method: 'POST' })).status, 404);
});

test('orderBy: 50 messages of 5 conversations, with failures mid-way, arrive in order per conversation, each once', async () => {
  const senders = ['+15550000001', '+15550000002', '+15550000003', '+15550000004', '+15550000005'];
  const sentOrder = new Map(senders.map((s) => [s.slice(1), []]));
  for (let i = 0; i < 50; i++) {
    const from = senders[i % 5];
    // Ids ending in 3 or 7 fail their first attempt at the destination.
    const id = `evt_order_${String(i).padStart(2, '0')}`;
    assert.equal((await send('ordered', id, `message ${i}`, from)).status, 202);
    sentOrder.get(from.slice(1)).push(`mossmoon:${id}`);
  }
  await until('all 50', () => new Set(ok('/flakyorder').map((d) => d.key)).size === 50, 90_000);
  await sleep(1000);
  const got = ok('/flakyorder');
  assert.equal(got.length, 50, 'each once');
  for (const [sender, order] of sentOrder) {
    const arrived = got.filter((d) => d.body.event.message.sender === sender).map((d) => d.key);
    assert.deepEqual(arrived, order, `conversation ${sender}`);
  }
  assert.ok(state.arrivals.some((a) => a.path.startsWith('/flakyorder') && a.status === 503), 'failures were injected');
});

test('a 429 with Retry-After: 2 delays the next attempt by at least 2 s, without counting as an attempt', async () => {
  assert.equal((await send('tooearly', 'evt_tooearly', 'not yet')).status, 202);
  await until('delivered', () => ok('/tooearly').length === 1, 30_000);
  const tries = state.arrivals.filter((a) => a.key === 'mossmoon:evt_tooearly').map((a) => a.at);
  assert.equal(tries.length, 2);
  assert.ok(tries[1] - tries[0] >= 2000, `${tries[1] - tries[0]} ms apart`);
  const row = await h.untilLogged('mossmoon:evt_tooearly', 'delivered');
  assert.equal(row.deliveries[0].attempts, 1, 'the 429 spent no attempt');
});

test('the CLI pauses and resumes; the console shows each gate and pauses one', async () => {
  const cli = (...args) => promisify(execFile)(process.execPath, [join(h.root, 'build/pkg/dist/cli.js'), ...args],
    { env: { ...process.env, HOOKSEAL_ADMIN_TOKEN: h.SECRETS.ADMIN_TOKEN } });
  const paused = await cli('pause', '--url', h.base, '--destination', 'steady');
  assert.match(paused.stdout, /^steady: paused, 0 waiting, 0 parked, 0 in flight/);
  const resumed = await cli('resume', '--url', h.base, '--destination', 'steady');
  assert.match(resumed.stdout, /^steady: closed/);
  await assert.rejects(cli('pause', '--url', h.base, '--destination', 'nosuch'), (e) => /404 not_found/.test(e.stderr));

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => d.accept());
    await page.goto(new URL('/admin/', h.base).href);
    await page.fill('#token', h.SECRETS.ADMIN_TOKEN);
    await page.click('#signin-form button');
    await page.waitForSelector('#destinations article[data-destination="paced"] .gate:has-text("rate 5/s")');
    await page.click('#destinations article[data-destination="steady"] .gate button:has-text("Pause")');
    await page.waitForSelector('#destinations article[data-destination="steady"] .gate[data-gate="paused"]');
    assert.equal((await gateOf('steady')).state, 'paused');
    await page.screenshot({ path: join(h.root, 'build/screenshots/console-gates.png'), fullPage: true });
    await page.click('#destinations article[data-destination="steady"] .gate button:has-text("Resume")');
    await page.waitForSelector('#destinations article[data-destination="steady"] .gate[data-gate="closed"]');
  } finally {
    await browser.close();
  }
});

test('failures injected: a gate that cannot be reached, and the Worker restarted while deliveries are parked: each still arrives once', async () => {
  // The first call of a gate fails: the delivery goes the queue's way, and its retry hands it over.
  await h.setFaults('do.fetch:1');
  assert.equal((await send('steady', 'evt_gate_unreachable', 'handed late')).status, 202);
  await until('delivered', () => ok('/ok/steady').some((d) => d.key === 'mossmoon:evt_gate_unreachable'), 30_000);
  await h.setFaults('');
  // Parked in a paused gate's storage, then the whole Worker restarted: nothing is lost.
  assert.equal((await admin('/admin/destinations/pausable/pause', { method: 'POST' })).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await send('pausable', `evt_restart_${i}`, `kept ${i}`)).status, 202);
  await until('parked', async () => (await gateOf('pausable')).parked === 3, 10_000);
  await h.reconfigure(h.options({
    gates: true,
    destinationsWith: (to) => ({ pausable: { url: to('/ok/pausable') } }),
    sourcesWith: { pausable: mossmoon('pausable') },
  }));
  assert.equal((await gateOf('pausable')).parked, 3, 'still parked after the restart');
  assert.equal((await admin('/admin/destinations/pausable/resume', { method: 'POST' })).status, 200);
  await until('all 3', () => ok('/ok/pausable').filter((d) => d.key.startsWith('mossmoon:evt_restart_')).length === 3, 30_000);
  await sleep(500);
  assert.equal(ok('/ok/pausable').filter((d) => d.key.startsWith('mossmoon:evt_restart_')).length, 3);
  assert.equal(ok('/ok/steady').filter((d) => d.key === 'mossmoon:evt_gate_unreachable').length, 1);
});
