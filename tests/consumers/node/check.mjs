// An ESM user: import from 'hookseal'.
import { readFileSync } from 'node:fs';
import { Webhook, HooksealError, matches } from 'hookseal';
import { filterFailures } from './filters.mjs';

const fixture = JSON.parse(readFileSync(new URL('./fixture.json', import.meta.url), 'utf8'));
const wh = new Webhook('moltflow', fixture.secret);
const out = { node: process.version, events: wh.parse(fixture.body, fixture.headers).events.map((e) => e.type) };
try {
  wh.verify(fixture.forged, fixture.headers);
  out.forged = 'accepted';
} catch (e) {
  out.forged = e instanceof HooksealError ? e.code : String(e);
}
const failed = filterFailures(matches, fixture.filters);
Object.assign(out, { filterCases: fixture.filters.cases.length, filterFailures: failed });
console.log(JSON.stringify(out));
