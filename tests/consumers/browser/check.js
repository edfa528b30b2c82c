// Verifies a request, refuses its forgery, signs one and parses an event, in the page.
import { Webhook, HooksealError } from './node_modules/hookseal/dist/browser.js';

const result = {};
try {
  const fixture = await (await fetch('fixture.json')).json();
  const moltflow = new Webhook('moltflow', fixture.secret);
  const bytes = new TextEncoder().encode(fixture.body);
  result.verified = moltflow.verify(bytes, new Headers(fixture.headers)).secretIndex;
  result.events = moltflow.parse(fixture.body, fixture.headers).events.map((e) => e.type);
  try {
    moltflow.verify(fixture.forged, fixture.headers);
    result.forged = 'accepted';
  } catch (e) {
    result.forged = e instanceof HooksealError ? e.code : String(e);
  }
  const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  result.signed = { body: 'signed in the browser', headers: std.sign('signed in the browser', { id: 'msg_browser' }) };
  result.userAgent = navigator.userAgent;
} catch (e) {
  result.error = String(e && e.stack || e);
}
window.__hookseal = result;
