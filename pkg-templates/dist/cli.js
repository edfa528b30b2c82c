#!/usr/bin/env node
// `npx hookseal`: sign, verify and send webhooks of any scheme, and drive a hookseal Worker's
// admin API. Secrets and tokens come from the environment, never from the command line (where
// `ps` would show them). Exit codes: 0 ok, 1 refused or failed, 2 a usage error.
import { readFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Webhook, HooksealError } from './node.js';

const USAGE = {
  main: `hookseal: sign, verify and send webhooks; drive a hookseal Worker's admin API.

Usage: hookseal <command> [options]

Commands:
  sign     print the headers a sender of a scheme would send with a body
  verify   verify a body against headers; exit 0 if authentic, 1 if refused
  send     sign and POST a sample event (or a file) to a URL: "Send Test Event" for any receiver
  events   list the events a hookseal Worker logged (its admin API)
  replay   deliver logged events again (one by id, or every dead one)
  pause    hold a destination's deliveries (kept, parked) until resumed; "resume" lets them go

Secrets: HOOKSEAL_SECRET (and HOOKSEAL_SECRET_PREVIOUS during a rotation), or --secret-stdin.
Admin token: HOOKSEAL_ADMIN_TOKEN. Never on the command line.
Exit codes: 0 ok, 1 refused or failed, 2 usage error.
Run "hookseal <command> --help" for a command's options.`,
  sign: `Usage: hookseal sign --scheme S [--id ID] [--timestamp SECONDS] [--method M --url URL] FILE|-

Prints the headers, one "Name: value" a line. The secret is HOOKSEAL_SECRET (or --secret-stdin
with the body from FILE). --id is required by standard-webhooks and svix; hubspot signs --method
and --url.`,
  verify: `Usage: hookseal verify --scheme S -H "Name: value" [-H …] [--now SECONDS] [--method M --url URL] FILE|-

Prints "ok secretIndex=N [id=…] [timestamp=…]" and exits 0, or "<code>: <message>" and exits 1.
Secrets: HOOKSEAL_SECRET, and HOOKSEAL_SECRET_PREVIOUS for a rotation (or --secret-stdin).`,
  send: `Usage: hookseal send --scheme S --url URL [--event TYPE | FILE | --all] [--list-events] [--as-is]

Signs and POSTs a sample of TYPE (fresh ids and timestamps unless --as-is), or FILE, and prints
the answer. --all sends a sample of every type, then one of them again (a retry) and a forgery,
and prints a summary. Exits 1 when an answer is not what a healthy receiver gives (2xx, and 401
for the forgery). The secret is HOOKSEAL_SECRET.`,
  events: `Usage: hookseal events --url BASE [--source S] [--destination D] [--status S] [--type T] [--key K] [--limit N] [--cursor C] [--json]

Lists the events a hookseal Worker at BASE logged, newest first, each with its deliveries.
--status is one of the Worker's statuses (it names them when given another). What a sender
wrote is printed with control characters escaped. Token: HOOKSEAL_ADMIN_TOKEN.`,
  replay: `Usage: hookseal replay --url BASE (--id N [--destination D] | --dead [--source S] [--destination D])

Delivers one event again (to one of its destinations, or each), or every dead delivery (of a
source, to a destination). A delivery already on its way is not sent twice.
Token: HOOKSEAL_ADMIN_TOKEN.`,
  pause: `Usage: hookseal pause --url BASE --destination D
       hookseal resume --url BASE --destination D

Pause holds a destination's deliveries at its gate (kept, counted as parked) until it is resumed;
resume sends them, oldest first, at the destination's rate. Needs the Worker's destination
gates (the GATE Durable Object binding). Prints the gate's state. Token: HOOKSEAL_ADMIN_TOKEN.`,
};
USAGE.resume = USAGE.pause;

class Usage extends Error {}

function fail(message) {
  throw new Usage(message);
}

const COMMON = { help: { type: 'boolean', short: 'h' } };
const SPECS = {
  sign: { scheme: { type: 'string' }, id: { type: 'string' }, timestamp: { type: 'string' }, method: { type: 'string' }, url: { type: 'string' }, 'secret-stdin': { type: 'boolean' } },
  verify: { scheme: { type: 'string' }, header: { type: 'string', short: 'H', multiple: true }, now: { type: 'string' }, method: { type: 'string' }, url: { type: 'string' }, 'secret-stdin': { type: 'boolean' } },
  send: { scheme: { type: 'string' }, url: { type: 'string' }, event: { type: 'string' }, all: { type: 'boolean' }, 'list-events': { type: 'boolean' }, 'as-is': { type: 'boolean' }, id: { type: 'string' } },
  events: { url: { type: 'string' }, source: { type: 'string' }, destination: { type: 'string' }, status: { type: 'string' }, type: { type: 'string' }, key: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' } },
  replay: { url: { type: 'string' }, id: { type: 'string' }, dead: { type: 'boolean' }, source: { type: 'string' }, destination: { type: 'string' } },
  pause: { url: { type: 'string' }, destination: { type: 'string' } },
  resume: { url: { type: 'string' }, destination: { type: 'string' } },
};

/**
 * Text a sender (or a receiver) controls, safe to print: control characters, including line
 * breaks, escape sequences and bidirectional overrides, written as \uXXXX.
 */
function safe(text) {
  // eslint-disable-next-line no-control-regex
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function readStdin() {
  return readFileSync(0);
}

function bodyFrom(path) {
  if (path === undefined) fail('a FILE (or - for standard input) is required');
  return path === '-' ? readStdin() : readFileSync(path);
}

function secrets(values, fromStdin) {
  if (fromStdin) {
    const text = readStdin().toString('utf8').replace(/\r?\n$/, '');
    if (!text) fail('--secret-stdin: standard input is empty');
    return text.split(/\r?\n/);
  }
  const list = [process.env.HOOKSEAL_SECRET, process.env.HOOKSEAL_SECRET_PREVIOUS].filter((s) => s);
  if (!list.length) fail('set HOOKSEAL_SECRET (the signing secret), or pass --secret-stdin');
  return list;
}

function required(values, name) {
  if (values[name] === undefined) fail(`--${name} is required`);
  return values[name];
}

function number(values, name) {
  if (values[name] === undefined) return undefined;
  const n = Number(values[name]);
  if (!Number.isFinite(n)) fail(`--${name} must be a number`);
  return n;
}

function webhook(scheme, list) {
  try {
    return new Webhook(scheme, list);
  } catch (e) {
    if (e instanceof HooksealError) fail(`${e.code}: ${e.message}`);
    throw e;
  }
}

function sign(values, positionals) {
  if (values['secret-stdin'] && positionals[0] === '-') fail('the body and the secret cannot both come from standard input');
  const body = bodyFrom(positionals[0]);
  const wh = webhook(required(values, 'scheme'), secrets(values, values['secret-stdin']).slice(0, 1));
  const headers = wh.sign(body, { id: values.id, timestamp: number(values, 'timestamp'), method: values.method, url: values.url });
  for (const [k, v] of Object.entries(headers)) console.log(`${k}: ${v}`);
  return 0;
}

function verify(values, positionals) {
  if (values['secret-stdin'] && positionals[0] === '-') fail('the body and the secret cannot both come from standard input');
  const body = bodyFrom(positionals[0]);
  const wh = webhook(required(values, 'scheme'), secrets(values, values['secret-stdin']));
  const headers = {};
  for (const h of values.header ?? []) {
    const at = h.indexOf(':');
    if (at <= 0) fail(`-H "${h.slice(0, 40)}": expected "Name: value"`);
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
  }
  try {
    const v = wh.verify(body, headers, { now: number(values, 'now'), method: values.method, url: values.url });
    const parts = [`ok secretIndex=${v.secretIndex}`];
    if (v.id !== undefined) parts.push(`id=${v.id}`);
    if (v.timestamp !== undefined) parts.push(`timestamp=${v.timestamp}`);
    console.log(parts.join(' '));
    return 0;
  } catch (e) {
    if (!(e instanceof HooksealError)) throw e;
    console.log(`${e.code}: ${e.message}`);
    return 1;
  }
}

let samplesCache;
function samples(scheme) {
  samplesCache ??= JSON.parse(readFileSync(new URL('./samples.json', import.meta.url), 'utf8'));
  const own = samplesCache[scheme] ?? {};
  return Object.keys(own).length ? own : { 'hookseal.test': { body: '{"type":"hookseal.test","id":"evt_test","message":"A test event from the hookseal CLI","at":"2026-01-01T00:00:00Z"}' } };
}

/** A sample with new ids and timestamps, so that a receiver does not take it for a retry. */
function freshen(text) {
  const now = new Date();
  const iso = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return text
    .replace(/\b(evt_|msg_|wamid\.)[A-Za-z0-9_.=+/-]+/g, (_, prefix) => `${prefix}${randomBytes(9).toString('hex')}`)
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, iso)
    // Twilio's message SIDs and Vonage's message UUIDs.
    .replace(/\b(SM|MM)[0-9a-f]{32}\b/g, (_, prefix) => `${prefix}${randomBytes(16).toString('hex')}`)
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, () => randomUUID());
}

async function post(url, body, headers) {
  // Twilio posts forms; everyone else JSON.
  const type = /^\s*[[{]/.test(body) ? 'application/json' : 'application/x-www-form-urlencoded';
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': type, 'user-agent': 'hookseal-cli', ...headers } });
  return { status: res.status, text: (await res.text()).slice(0, 300) };
}

async function send(values, positionals) {
  const scheme = required(values, 'scheme');
  const all = samples(scheme);
  if (values['list-events']) {
    for (const t of Object.keys(all)) console.log(t);
    return 0;
  }
  const url = required(values, 'url');
  const wh = webhook(scheme, secrets(values, false).slice(0, 1));
  const signed = (body) => wh.sign(body, { id: values.id ?? `msg_${randomBytes(9).toString('hex')}`, method: 'POST', url });
  const results = [];
  const one = async (label, body, headers) => {
    const r = await post(url, body, headers);
    results.push({ label, ...r });
    console.log(`${r.status}  ${safe(label).padEnd(34)} ${safe(r.text)}`);
    return r;
  };
  if (values.all) {
    let first;
    for (const [type, sample] of Object.entries(all)) {
      const body = values['as-is'] ? sample.body : freshen(sample.body);
      first ??= body;
      await one(type, body, { ...sample.headers, ...signed(body) });
    }
    const again = await one('the first again (a retry)', first, signed(first));
    const forged = await one('forged (body changed after signing)', `${first} `, signed(first));
    const ok = results.filter((r) => r.status >= 200 && r.status < 300).length;
    console.log(`\n${ok} answered 2xx, forgery answered ${forged.status}`);
    return results.slice(0, -1).every((r) => r.status >= 200 && r.status < 300) && forged.status === 401 && again.status < 300 ? 0 : 1;
  }
  let body;
  let extra = {};
  if (positionals[0] !== undefined) {
    body = bodyFrom(positionals[0]);
  } else {
    const type = values.event ?? Object.keys(all)[0];
    const sample = all[type];
    if (!sample) fail(`no sample of "${type}" for ${scheme}: hookseal send --scheme ${scheme} --list-events`);
    body = values['as-is'] ? sample.body : freshen(sample.body);
    extra = sample.headers ?? {};
  }
  const r = await one(values.event ?? (positionals[0] || 'sample'), body, { ...extra, ...signed(body) });
  return r.status >= 200 && r.status < 300 ? 0 : 1;
}

async function adminCall(values, path, init = {}) {
  const token = process.env.HOOKSEAL_ADMIN_TOKEN;
  if (!token) fail('set HOOKSEAL_ADMIN_TOKEN (the Worker secret ADMIN_TOKEN)');
  const base = required(values, 'url').replace(/\/+$/, '');
  const res = await fetch(`${base}/admin/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    console.error(safe(`${res.status} ${json.error ?? ''}${json.message ? `: ${json.message}` : ''}`));
    return null;
  }
  return json;
}

async function events(values) {
  const q = new URLSearchParams();
  for (const k of ['source', 'destination', 'status', 'type', 'key', 'limit', 'cursor']) if (values[k] !== undefined) q.set(k, values[k]);
  const json = await adminCall(values, `events?${q}`);
  if (!json) return 1;
  if (values.json) {
    console.log(JSON.stringify(json, null, 2));
    return 0;
  }
  if (!json.events.length) console.log('no events');
  for (const e of json.events) {
    const at = new Date(e.receivedAt).toISOString();
    const deliveries = (e.deliveries ?? []).map((d) => `${d.destination}:${d.status}`).join(',');
    console.log([String(e.id).padStart(6), e.status.padEnd(9), at, e.source, e.type, e.dedupKey, `attempts=${e.attempts}`,
      deliveries ? `to=${deliveries}` : '', e.lastError ? `lastError=${JSON.stringify(e.lastError)}` : ''].filter(Boolean).map(safe).join('  '));
  }
  if (json.cursor !== null) console.log(`(more: --cursor ${json.cursor} for the next page)`);
  return 0;
}

async function replay(values) {
  if ((values.id === undefined) === (values.dead !== true)) fail('give either --id N or --dead');
  const json = values.id !== undefined
    ? await adminCall(values, `events/${encodeURIComponent(values.id)}/replay`, { method: 'POST', body: values.destination ? JSON.stringify({ destination: values.destination }) : undefined })
    : await adminCall(values, 'replay', { method: 'POST', body: JSON.stringify({ source: values.source, destination: values.destination, status: 'dead' }) });
  if (!json) return 1;
  console.log(`replayed ${json.replayed}${json.more ? ' (more remain: run it again)' : ''}`);
  if (json.inFlight) console.log(`${json.inFlight} already on their way: not sent twice`);
  if (json.note) console.log(safe(json.note));
  return 0;
}

/** `pause` and `resume`: the destination's gate, and its state after. */
function gate(pause) {
  return async (values) => {
    if (!values.destination) fail('give --destination D');
    const json = await adminCall(values, `destinations/${encodeURIComponent(values.destination)}/${pause ? 'pause' : 'resume'}`, { method: 'POST' });
    if (!json) return 1;
    const g = json.gate ?? {};
    console.log(`${safe(values.destination)}: ${safe(String(g.state))}, ${g.waiting ?? 0} waiting, ${g.parked ?? 0} parked, ${g.inFlight ?? 0} in flight`);
    return 0;
  };
}

const COMMANDS = { sign, verify, send, events, replay, pause: gate(true), resume: gate(false) };

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE.main);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) fail(`unknown command "${command}"`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON, ...SPECS[command] }, allowPositionals: true, strict: true });
  } catch (e) {
    fail(e.message);
  }
  if (parsed.values.help) {
    console.log(USAGE[command]);
    return 0;
  }
  return run(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => {
    if (e instanceof Usage) {
      console.error(`hookseal: ${e.message}\n(hookseal --help for usage)`);
      process.exitCode = 2;
    } else {
      console.error(`hookseal: ${e && e.message ? e.message : e}`);
      process.exitCode = 1;
    }
  },
);
