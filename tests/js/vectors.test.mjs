// The shared vectors (tests/vectors) through the package, required (CJS) and imported (ESM).
import { createRequire } from 'node:module';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esm from 'hookseal';
import { load, outcome, resign } from './harness.mjs';

const cjs = createRequire(import.meta.url)('hookseal');

for (const [name, api] of [['import', esm], ['require', cjs]]) {
  for (const file of ['published.json', 'schemes.json']) {
    test(`${file} via ${name}`, () => {
      const { cases } = load(`vectors/${file}`);
      assert.ok(cases.length > 10);
      const failures = [];
      for (const c of cases) {
        const got = outcome(api, c);
        try {
          assert.deepEqual(got, c.expect);
          if (c.resign) {
            const { signed, want } = resign(api, c);
            assert.deepEqual(signed, want);
          }
        } catch (e) {
          failures.push(`${c.name}: ${e.message.split('\n').slice(0, 6).join(' ')}`);
        }
      }
      assert.deepEqual(failures, []);
    });
  }
}

test('require and import share one instance and one error class', () => {
  assert.equal(cjs.Webhook, esm.Webhook);
  assert.equal(cjs.HooksealError, esm.HooksealError);
});
