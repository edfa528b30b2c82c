#!/usr/bin/env node
// The local destination of `make dev`: receives what the Worker delivers, checks its Standard
// Webhooks signature with hookseal (DELIVERY_SECRET from worker/.dev.vars) and prints one line
// per event. Usage: node scripts/destination.mjs [port]
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Webhook, HooksealError } from 'hookseal';

const port = Number(process.argv[2] ?? 8788);
const vars = Object.fromEntries(
  readFileSync(new URL('../worker/.dev.vars', import.meta.url), 'utf8')
    .split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const wh = new Webhook('standard-webhooks', vars.DELIVERY_SECRET);

http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  try {
    const verified = wh.verify(body, req.headers);
    const { source, attempt, event } = JSON.parse(body);
    const what = event.message ? `${event.message.sender}: ${JSON.stringify(event.message.text)}` : '';
    console.log(`destination ✓ ${req.url} ${source} ${event.type} ${verified.id} attempt ${attempt} ${what}`);
    res.writeHead(200).end();
  } catch (err) {
    console.log(`destination ✗ ${req.url} ${err instanceof HooksealError ? err.code : err.message}`);
    res.writeHead(err instanceof HooksealError ? 401 : 400).end();
  }
}).listen(port, '127.0.0.1', () => console.log(`destination listening on http://127.0.0.1:${port}`));
