// The hand-written TypeScript declarations against what the package returns at run time: every
// event fixture (tests/events), parsed through the built package, is written into a TypeScript
// file as an object literal, and tsc checks it. Object literals get excess-property checks, so a
// key the types do not declare fails as surely as a missing one. A typed event must satisfy
// `KnownEvent`, an untyped one (its `data` the raw JSON) `UnknownEvent`, and the pairs
// `KnownEvent` declares must be exactly the typed ones. A deliberately wrong copy must fail, so
// the check itself is known to bite.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'hookseal';
import { load, NOW, root, signed } from './harness.mjs';

const TSC = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Every fixture's events: `[name, event, raw]`, `raw` when its data is the JSON as sent. */
function events() {
  const out = [];
  for (const c of load('events/cases.json').cases) {
    const body = readFileSync(new URL(`../events/${c.file}`, import.meta.url));
    const { wh, headers, options } = signed(c.scheme, body, c.headers ?? [], { Webhook });
    let doc = null;
    try {
      doc = JSON.parse(body);
    } catch {
      // A form-encoded Slack body: its event's data is null.
    }
    // The JSON as sent: the body, or for Meta one change's `value`.
    const sent = [doc, ...(doc?.entry ?? []).flatMap((e) => (e.changes ?? []).map((ch) => ch.value))];
    for (const e of wh.parse(body, headers, options).events) {
      const raw = sent.some((s) => isDeepStrictEqual(s, e.data));
      out.push([c.name, e, raw]);
    }
  }
  return out;
}

/**
 * tsc's diagnostics ('' when clean) for `[name, event, raw]`: a typed event as a literal that
 * satisfies `KnownEvent`; an untyped one as a literal that satisfies `UnknownEvent`, and whose
 * provider and type must not be a pair `KnownEvent` declares.
 */
function check(list) {
  // Inside the repository, so that 'hookseal' resolves as in a user's project (node_modules).
  const dir = mkdtempSync(join(root, 'build', 'types-'));
  try {
    const lines = list.map(([name, e, raw]) => {
      const literal = JSON.stringify(e, null, 1);
      if (!raw) return `// ${name}\n(${literal}) satisfies KnownEvent;`;
      const pair = JSON.stringify({ provider: e.provider, type: e.type });
      return `// ${name}\n(${literal}) satisfies UnknownEvent;\n// @ts-expect-error: not a KnownEvent pair\n(${pair}) satisfies Pair;`;
    });
    writeFileSync(join(dir, 'check.mts'), `import type { KnownEvent, UnknownEvent } from 'hookseal';
// Each KnownEvent member's provider and type, kept together.
type Pair = KnownEvent extends infer E ? (E extends KnownEvent ? { provider: E['provider']; type: E['type'] } : never) : never;
${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
        lib: ['es2022', 'dom'], types: [], skipLibCheck: false,
      },
      files: ['check.mts'],
    }));
    try {
      execFileSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
      return '';
    } catch (e) {
      return `${e.stdout}${e.stderr}`;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every fixture event satisfies the TypeScript declarations, key for key', () => {
  const all = events();
  assert.ok(all.length >= 30 && all.some(([, , raw]) => raw), 'typed and untyped fixtures are there');
  assert.equal(check(all), '');
});

test('an event with a key the declarations lack, without one they require, or untyped under a typed pair, fails', () => {
  const all = events();
  const [name, e] = all.find(([, x]) => x.provider === 'meta' && x.type === 'message.received');
  const extra = structuredClone(e);
  extra.data.undeclared = 1;
  assert.match(check([[name, extra, false]]), /undeclared/);
  const missing = structuredClone(e);
  delete missing.data.contactName;
  assert.match(check([[name, missing, false]]), /contactName/);
  // Raw data under a pair KnownEvent types: the declarations would promise what is not there.
  assert.match(check([[name, { ...e, data: { any: 1 } }, true]]), /TS2578/);
});
