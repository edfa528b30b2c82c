// Runs the shared test-vector format (tests/vectors/*.json, tests/xlib) through the npm package,
// exactly as tests/common/mod.rs runs it through the Rust API.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export function load(relative) {
  return JSON.parse(readFileSync(new URL(`../${relative}`, import.meta.url), 'utf8'));
}

export function bodyOf(c) {
  if (c.bodyHex !== undefined) return Buffer.from(c.bodyHex, 'hex');
  return c.body;
}

function schemeOf(c) {
  return typeof c.scheme === 'string' ? c.scheme : { generic: c.scheme.generic };
}

/** `{ ok: { secretIndex, id?, timestamp? } }` or `{ error: code }`, like the vectors' `expect`. */
export function outcome(api, c, body = bodyOf(c), headers = Object.fromEntries(c.headers)) {
  let wh;
  try {
    const options = c.tolerance !== undefined ? { tolerance: c.tolerance } : undefined;
    wh = new api.Webhook(schemeOf(c), c.secrets, options);
  } catch (e) {
    if (!(e instanceof api.HooksealError)) throw e;
    return { error: e.code };
  }
  try {
    const v = wh.verify(body, headers, { now: c.now, method: c.method, url: c.url });
    const ok = { secretIndex: v.secretIndex };
    if (v.id !== undefined) ok.id = v.id;
    if (v.timestamp !== undefined) ok.timestamp = v.timestamp;
    return { ok };
  } catch (e) {
    if (!(e instanceof api.HooksealError)) throw e;
    if (!e.message) throw new Error('an error without a message');
    return { error: e.code };
  }
}

/** Re-signing with the first secret (or `signingSecret`) reproduces the vector's headers exactly. */
export function resign(api, c) {
  const wh = new api.Webhook(schemeOf(c), c.signingSecret ?? c.secrets);
  const ok = c.expect.ok;
  const signed = wh.sign(bodyOf(c), {
    timestamp: ok.timestamp ?? c.now, id: ok.id, method: c.method, url: c.url,
  });
  const lower = (pairs) => pairs.map(([k, v]) => [k.toLowerCase(), v]);
  return { signed: lower(Object.entries(signed)), want: lower(c.headers) };
}

/** Header pairs as the plain object a Node server would see (lower-case names). */
export function nodeHeaders(pairs) {
  return Object.fromEntries(pairs.map(([k, v]) => [k.toLowerCase(), v]));
}

/** The time the event fixtures are signed and verified at. */
export const NOW = 1_781_275_331;

function secretFor(scheme) {
  return scheme === 'standard-webhooks' || scheme === 'svix'
    ? 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' : 'fixture-secret';
}

/** The request line the fixtures are signed for (Twilio signs it; the others ignore it). */
const TARGET = { method: 'POST', url: 'https://hooks.example.com/webhooks/fixture' };

/**
 * A `Webhook` for `scheme`, headers signing `body` at `NOW` plus the fixture's `extra` ones, and
 * the options to verify them with.
 */
export function signed(scheme, body, extra = [], api) {
  const wh = new api.Webhook(scheme, secretFor(scheme));
  const id = extra.find(([k]) => /-id$|-delivery$/i.test(k))?.[1];
  const headers = new Headers(wh.sign(body, { timestamp: NOW, id, ...TARGET }));
  for (const [k, v] of extra) if (!headers.has(k)) headers.set(k, v);
  return { wh, headers, options: { now: NOW, ...TARGET } };
}
