// The package's `matches` and `Filter` (through its exports map) against the core's filter
// vectors (tests/filters/cases.json), and the JS side of the API: the forms an event and a
// filter come in, and the errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Filter, HooksealError, matches, Webhook } from 'hookseal';
import { root } from './harness.mjs';

const vectors = JSON.parse(readFileSync(join(root, 'tests/filters/cases.json'), 'utf8'));

test('every filter vector matches as it says, and inverts under $not', () => {
  assert.ok(vectors.cases.length >= 60);
  for (const c of vectors.cases) {
    // A raw body where a JS value would round a number.
    const event = c.eventJson === undefined ? c.event : new TextEncoder().encode(c.eventJson);
    assert.equal(matches(c.filter, event), c.matches, c.name);
    assert.equal(new Filter({ $not: c.filter }).matches(event), !c.matches, `${c.name} under $not`);
  }
});

test('every refused filter is invalid_filter with its message', () => {
  for (const c of vectors.errors) {
    assert.throws(() => new Filter(c.filter), (e) => e instanceof HooksealError && e.code === 'invalid_filter'
      && e.message.includes(c.error) && e.status === 400, c.name);
  }
});

test('an event as a value or as raw JSON bytes; a string is a JSON string, never JSON text', () => {
  const filter = new Filter({ data: { text: { $regex: '(?i)urgent' } } });
  const event = { type: 'message.received', data: { text: 'This is URGENT' } };
  const bytes = new TextEncoder().encode(JSON.stringify(event));
  for (const form of [event, bytes, bytes.buffer]) assert.equal(filter.matches(form), true);
  assert.equal(filter.matches({ data: { text: 'calm' } }), false);
  assert.equal(matches({ data: { text: { $regex: 'urgent' } } }, bytes), false);
  assert.equal(matches('created', 'created'), true);
  assert.equal(matches({ a: 1 }, '{"a":1}'), false);
});

test('the events parse returns are what filters match', () => {
  const wh = new Webhook('mossmoon', 'secret-for-filters');
  const body = readFileSync(join(root, 'tests/events/mossmoon/message_received_text.json'), 'utf8');
  const [event] = wh.parse(body, wh.sign(body)).events;
  assert.equal(matches({ type: event.type, message: { kind: 'text' } }, event), true);
  assert.equal(matches({ type: 'message.status' }, event), false);
});

test('what is not an event or a filter is refused with a code, never a wrong answer', () => {
  const f = new Filter({ a: 1 });
  const utf8 = (s) => new TextEncoder().encode(s);
  assert.throws(() => f.matches(utf8('{"a":')), (e) => e.code === 'malformed_json' && /the event is not JSON/.test(e.message));
  assert.throws(() => f.matches(new Uint8Array(0)), (e) => e.code === 'malformed_json');
  assert.throws(() => f.matches(new Uint8Array([0x7b, 0xff, 0x7d])), (e) => e.code === 'invalid_utf8');
  assert.throws(() => f.matches(undefined), (e) => e.code === 'invalid_input');
  assert.throws(() => f.matches({ n: 1n }), (e) => e.code === 'invalid_input');
  const cycle = {};
  cycle.self = cycle;
  assert.throws(() => f.matches(cycle), (e) => e.code === 'invalid_input');
  assert.throws(() => new Filter(undefined), (e) => e.code === 'invalid_input');
  assert.throws(() => matches({ a: { $regex: '(?=x)' } }, {}), (e) => e.code === 'invalid_filter' && /lookaround/.test(e.message));
  assert.throws(() => new Filter(() => 1), (e) => e.code === 'invalid_input');
});
