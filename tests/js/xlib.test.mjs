// Signatures from the reference npm libraries (standardwebhooks, svix, stripe,
// @octokit/webhooks-methods, twilio, jose for Vonage, node:crypto Ed25519) verify through the
// package; their tampered twins do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, HooksealError } from 'hookseal';
import { signAll } from '../xlib/sign.mjs';
import { outcome } from './harness.mjs';

test('reference libraries sign, hookseal verifies, tampering is refused', async () => {
  const cases = await signAll(30);
  assert.equal(cases.length, 30 * 9);
  const api = { Webhook, HooksealError };
  for (const c of cases) {
    assert.deepEqual(outcome(api, c), c.expect, c.name);
    const body = Buffer.from(c.body);
    body[body.length - 1] ^= 1;
    assert.deepEqual(outcome(api, c, body), { error: 'signature_mismatch' }, `${c.name}: body`);
    const headers = Object.fromEntries(c.headers.map(([k, v]) => {
      if (k.toLowerCase() !== c.signatureHeader.toLowerCase()) return [k, v];
      const i = v.length - 10;
      return [k, v.slice(0, i) + (v[i] === 'a' ? 'b' : 'a') + v.slice(i + 1)];
    }));
    assert.ok('error' in outcome(api, c, c.body, headers), `${c.name}: signature`);
  }
});
