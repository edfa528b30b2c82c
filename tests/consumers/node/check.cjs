// A CommonJS user: require('hookseal').
const { Webhook, HooksealError, matches, Filter } = require('hookseal');
const fixture = require('./fixture.json');

const wh = new Webhook('moltflow', fixture.secret);
const out = { node: process.version, events: wh.parse(fixture.body, fixture.headers).events.map((e) => e.type) };
try {
  wh.verify(fixture.forged, fixture.headers);
  out.forged = 'accepted';
} catch (e) {
  out.forged = e instanceof HooksealError ? e.code : String(e);
}
// One filter case (Node 20 cannot require the ESM helper that runs them all).
const one = fixture.filters.cases[0];
const failed = new Filter(one.filter).matches(one.event) === one.matches && matches(one.filter, one.event) === one.matches;
Object.assign(out, { filterCases: 1, filterFailures: failed ? [] : [one.name] });
console.log(JSON.stringify(out));
