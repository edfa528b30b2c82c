// A CommonJS user: require('hookseal').
const { Webhook, HooksealError } = require('hookseal');
const fixture = require('./fixture.json');

const wh = new Webhook('moltflow', fixture.secret);
const out = { node: process.version, events: wh.parse(fixture.body, fixture.headers).events.map((e) => e.type) };
try {
  wh.verify(fixture.forged, fixture.headers);
  out.forged = 'accepted';
} catch (e) {
  out.forged = e instanceof HooksealError ? e.code : String(e);
}
console.log(JSON.stringify(out));
