// An ESM user: import from 'hookseal'.
import { readFileSync } from 'node:fs';
import { Webhook, HooksealError } from 'hookseal';

const fixture = JSON.parse(readFileSync(new URL('./fixture.json', import.meta.url), 'utf8'));
const wh = new Webhook('moltflow', fixture.secret);
const out = { node: process.version, events: wh.parse(fixture.body, fixture.headers).events.map((e) => e.type) };
try {
  wh.verify(fixture.forged, fixture.headers);
  out.forged = 'accepted';
} catch (e) {
  out.forged = e instanceof HooksealError ? e.code : String(e);
}
console.log(JSON.stringify(out));
