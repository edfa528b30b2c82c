// The event fixtures (tests/events) through the package: signed, then parsed by wh.parse, must
// match the same field-level expectations the Rust suite checks.
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook, HooksealError } from 'hookseal';
import { load, NOW, signed } from './harness.mjs';

const fixtures = load('events/cases.json');
/** `want` is a subset of `got` (null also matches an absent key). */
function subset(want, got, path, errs) {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    if (got === null || typeof got !== 'object') return errs.push(`${path}: want object, got ${JSON.stringify(got)}`);
    for (const [k, v] of Object.entries(want)) subset(v, got[k] ?? null, `${path}.${k}`, errs);
  } else if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return errs.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    want.forEach((w, i) => subset(w, got[i], `${path}[${i}]`, errs));
  } else if (want !== got) {
    errs.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

test('every fixture parses to its expected events', () => {
  const errs = [];
  for (const c of fixtures.cases) {
    const body = readFileSync(new URL(`../events/${c.file}`, import.meta.url));
    const { wh, headers, options } = signed(c.scheme, body, c.headers ?? [], { Webhook });
    const { verified, events } = wh.parse(body, headers, options);
    assert.equal(verified.secretIndex, 0);
    if (events.length !== c.events.length) {
      errs.push(`${c.name}: ${events.length} events, want ${c.events.length}`);
      continue;
    }
    c.events.forEach((w, i) => subset(w, events[i], `${c.name}[${i}]`, errs));
  }
  assert.deepEqual(errs, []);
});

test('a body that verified but is not the documented event says so', () => {
  assert.ok(fixtures.errors.length >= 20);
  for (const e of fixtures.errors) {
    const body = e.bodyHex !== undefined ? Buffer.from(e.bodyHex, 'hex') : Buffer.from(e.body);
    const { wh, headers, options } = signed(e.scheme, body, [], { Webhook });
    assert.throws(() => wh.parse(body, headers, options), (err) => {
      assert.ok(err instanceof HooksealError, e.name);
      assert.equal(err.code, e.error, `${e.name}: ${err.message}`);
      assert.equal(err.signatureVerified, true, e.name);
      assert.match(err.message, /^the signature is valid/, e.name);
      return true;
    });
  }
});
