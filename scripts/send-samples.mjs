#!/usr/bin/env node
// Sends a correctly signed sample of every event type of every configured MoltFlow, Mossmoon and
// Meta source to the local Worker (the fixtures in tests/events, signed with the demo secrets in
// worker/.dev.vars), then one duplicate and one forgery, and prints what the Worker answered.
// Usage: node scripts/send-samples.mjs [base-url]
import { readFileSync, readdirSync } from 'node:fs';
import { Webhook } from 'hookseal';

const base = process.argv[2] ?? 'http://127.0.0.1:8787';
const read = (p) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');
const vars = Object.fromEntries(read('worker/.dev.vars').split('\n').filter((l) => /^[A-Z_]+=/.test(l))
  .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

// The [vars.SOURCES.<name>] tables of wrangler.toml: name, scheme and secret names.
const sources = [];
for (const line of read('worker/wrangler.toml').split('\n')) {
  const head = line.match(/^\[vars\.SOURCES\.([\w-]+)\]/);
  if (head) sources.push({ name: head[1] });
  else if (sources.length && /^\[/.test(line)) sources.push(null);
  const cur = sources.at(-1);
  const kv = line.match(/^(scheme|secrets)\s*=\s*(.+)$/);
  if (cur && kv) cur[kv[1]] = JSON.parse(kv[2]);
}
const fixtures = { moltflow: 'moltflow', mossmoon: 'mossmoon', meta: 'meta' };

const results = [];
async function send(source, label, body, headers) {
  const res = await fetch(`${base}/webhooks/${source}`, { method: 'POST', body, headers });
  const answer = await res.text();
  results.push({ source, sample: label, status: res.status, answer });
  console.log(`${res.status}  ${source.padEnd(9)} ${label.padEnd(34)} ${answer}`);
}

// A message that is new on every run (the fixtures below are duplicates after the first run).
function fresh(scheme) {
  const now = new Date();
  const id = `${now.getTime()}`;
  if (scheme === 'moltflow') {
    return { event: 'message.received', timestamp: now.toISOString().replace(/\.\d+Z$/, 'Z'),
      data: { session_id: 'demo', from: '5511999990000', from_name: 'Ana', body: 'Olá! Tem em azul? 💙', message_id: `wamid.live${id}`, chat_id: '5511999990000@c.us' } };
  }
  if (scheme === 'mossmoon') {
    return { event: 'message.received', id: `evt_live${id}`, line_id: 'ln_demo',
      message: { id: `msg_live${id}`, from: '+15559876543', type: 'text', text: 'Do you ship to Lisbon?', received_at: now.toISOString().replace(/\.\d+Z$/, 'Z') } };
  }
  return { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: {
    messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
    contacts: [{ profile: { name: 'Kerry' }, wa_id: '15559876543' }],
    messages: [{ from: '15559876543', id: `wamid.live${id}`, timestamp: String(Math.floor(now / 1000)), type: 'text', text: { body: 'Is it still available?' } }] } }] }] };
}

for (const s of sources.filter((x) => x && fixtures[x.scheme])) {
  const wh = new Webhook(s.scheme, vars[s.secrets[0]]);
  const live = JSON.stringify(fresh(s.scheme));
  await send(s.name, 'a new message (fresh ids)', live, wh.sign(live));
  const dir = `tests/events/${fixtures[s.scheme]}`;
  const files = readdirSync(new URL(`../${dir}`, import.meta.url)).filter((f) => f.endsWith('.json')).sort();
  for (const f of files) {
    const body = read(`${dir}/${f}`);
    await send(s.name, f.replace('.json', ''), body, wh.sign(body));
  }
  const first = read(`${dir}/${files[0]}`);
  await send(s.name, `${files[0].replace('.json', '')} again (a retry)`, first, wh.sign(first));
  await send(s.name, 'forged (body changed after signing)', first.replace(/.$/s, ' '), wh.sign(first));
}

const count = (pred) => results.filter(pred).length;
console.log(`\n${count((r) => r.status === 202)} accepted, ${count((r) => r.status === 200)} duplicates, ` +
  `${count((r) => r.status === 401)} refused, ${count((r) => r.status >= 500)} errors`);
// Anything but accepted, duplicate, or the deliberate forgeries refused is a failure.
if (results.some((r) => ![200, 202, 401].includes(r.status)) || count((r) => r.status === 401) !== sources.filter((x) => x && fixtures[x.scheme]).length) {
  process.exit(1);
}
