// The console in a real browser (Debian's Chromium through playwright-core): sign in, sources
// and destinations, events with their deliveries, replay of one destination's dead delivery,
// the filter tester, a <script> in an event shown as text, the phone size, an expired token.
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import * as h from './harness.mjs';

const { state, signers, post } = h;

before(() => h.start());
after(() => h.stop());

test('the console: sign in, see events and destinations, open one, replay one destination\'s dead delivery, try a filter; a <script> stays text', async () => {
  const shots = join(h.root, 'build/screenshots');
  const xssText = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
  const xss = JSON.stringify({ event: 'message.received', id: 'evt_console_xss', line_id: 'ln_1',
    message: { id: 'msg_xss', from: '+15559876543', type: 'text', text: xssText, received_at: '2026-06-12T14:42:11Z' } });
  assert.equal((await post('mossmoon', xss, signers.mossmoon.sign(xss))).status, 202);
  state.switchDown = true;
  const split = h.mossmoonEvent('evt_console_split');
  assert.equal((await post('fanout', split, signers.mossmoon.sign(split))).status, 202);
  await h.untilLogged('mossmoon:evt_console_split', 'dead');

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); d.accept(); });
    const res = await page.goto(new URL('/admin/', h.base).href);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.ok(!csp.includes('unsafe-inline'), csp);

    await page.fill('#token', 'not-the-token-but-long-enough-to-try');
    await page.click('#signin-form button');
    await page.waitForSelector('#signin-message:has-text("refused")');
    await page.screenshot({ path: join(shots, 'console-signin-refused.png') });

    await page.fill('#token', h.SECRETS.ADMIN_TOKEN);
    await page.click('#signin-form button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForSelector('#sources article.source[data-source="mossmoon"]');
    await page.waitForSelector('#destinations article[data-destination="bad"]');
    await page.waitForSelector('tr:has-text("mossmoon:evt_console_xss")');
    assert.match(await page.textContent('#live'), /Updated/);
    // The status filter comes from the Worker's own list.
    const options = await page.$$eval('#f-status option', (os) => os.map((o) => o.value).filter(Boolean));
    assert.deepEqual(options, ['queued', 'retrying', 'delivered', 'dead', 'filtered']);
    await page.screenshot({ path: join(shots, 'console-events.png'), fullPage: true });

    await page.click('tr:has-text("mossmoon:evt_console_xss")');
    await page.waitForSelector('#detail:not([hidden])');
    await page.waitForFunction(() => document.getElementById('envelope').textContent.includes('evt_console_xss'));
    assert.ok((await page.textContent('#envelope')).includes(xssText.replaceAll('"', '\\"')), 'the <script> is shown as text');
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'nothing from the event ran');
    assert.equal((await page.$$('#detail script, #detail img, #events script, #events img')).length, 0);
    // The filter tester, on this event as routes see it.
    await page.fill('#filter-text', '{ "source": "mossmoon", "message": { "text": { "$regex": "(?i)<SCRIPT>" } } }');
    await page.click('#filter-form button');
    await page.waitForSelector('#filter-result.matches');
    await page.fill('#filter-text', '{ "source": "elsewhere" }');
    await page.click('#filter-form button');
    await page.waitForSelector('#filter-result.nomatch');
    await page.fill('#filter-text', '{ "type": { "$nope": 1 } }');
    await page.click('#filter-form button');
    await page.waitForSelector('#filter-result.error:has-text("unknown operator")');
    await page.screenshot({ path: join(shots, 'console-event.png'), fullPage: true });

    // The fanned-out event: one delivery dead, replayed alone from its row.
    state.switchDown = false;
    await page.selectOption('#f-source', 'fanout');
    await page.selectOption('#f-status', 'dead');
    await page.click('#filters button');
    await page.click('tr:has-text("mossmoon:evt_console_split")');
    await page.waitForSelector('#deliveries tr[data-destination="bad"] button:has-text("Replay")');
    assert.equal(await page.$('#deliveries tr[data-destination="good"] .badge.delivered') !== null, true);
    await page.click('#deliveries tr[data-destination="bad"] button:has-text("Replay")');
    assert.match(dialogs.at(-1), /Deliver event \d+ again now to bad/);
    await h.untilLogged('mossmoon:evt_console_split', 'delivered');
    await page.waitForSelector('#deliveries tr[data-destination="bad"] .badge.delivered');
    assert.equal(h.deliveredCount('mossmoon:evt_console_split', '/switch/bad'), 1);
    assert.equal(h.deliveredCount('mossmoon:evt_console_split', '/ok/good'), 1, 'the good destination was not sent it again');
    await page.screenshot({ path: join(shots, 'console-replayed.png'), fullPage: true });

    await page.selectOption('#f-source', '');
    await page.selectOption('#f-status', '');
    await page.fill('#f-key', 'no-such-key');
    await page.click('#filters button');
    await page.waitForSelector('#events-message:has-text("No events match")');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(shots, 'console-phone.png'), fullPage: true });

    // A token that stops working sends the user back to sign in, with a message: at the next
    // refresh of an open page, and on loading the page with it. (Two steps, each waited for: a
    // reload racing the page's own refresh would find the token already dropped.)
    await page.evaluate(() => sessionStorage.setItem('hookseal.adminToken', 'expired-token'));
    await page.waitForSelector('#signin:not([hidden])', { timeout: 15_000 });
    assert.match(await page.textContent('#signin-message'), /session ended.*refused/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hookseal.adminToken')), null);
    await page.evaluate(() => sessionStorage.setItem('hookseal.adminToken', 'expired-token'));
    await page.reload();
    await page.waitForSelector('#signin:not([hidden])');
    assert.match(await page.textContent('#signin-message'), /token was refused/);
  } finally {
    await browser.close();
  }
});
