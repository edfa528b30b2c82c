#!/usr/bin/env node
// The local end of `make dev`:
// - on [port] (8788), the destination: checks each delivery's Standard Webhooks signature with
//   hookseal (DELIVERY_SECRET from worker/.dev.vars) and prints one line per event, with the
//   link to its archived media; `/slack/…` prints what a Slack channel would show;
// - on port + 1 (8789), a stand-in for a provider's media host: an image and a voice note, which
//   the demo's Mossmoon source archives into the local R2 bucket (`make send` sends both).
// Usage: node scripts/destination.mjs [port]
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Webhook, HooksealError } from 'hookseal';
import { mediaFiles } from './media-files.mjs';

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
  if (req.url.startsWith('/slack')) {
    console.log(`slack ✓ ${JSON.parse(body).text.replaceAll('\n', ' ⏎ ')}`);
    return res.writeHead(200).end('ok');
  }
  try {
    const verified = wh.verify(body, req.headers);
    const { source, attempt, event } = JSON.parse(body);
    const what = event.message ? `${event.message.sender}: ${JSON.stringify(event.message.text)}` : '';
    const media = event.message?.media;
    const archived = media?.archived ? `\n  media archived (${media.archived.contentType}, ${media.archived.size} bytes): ${media.archived.url}`
      : media?.archiveError ? `\n  media not archived: ${media.archiveError}` : '';
    console.log(`destination ✓ ${req.url} ${source} ${event.type} ${verified.id} attempt ${attempt} ${what}${archived}`);
    res.writeHead(200).end();
  } catch (err) {
    console.log(`destination ✗ ${req.url} ${err instanceof HooksealError ? err.code : err.message}`);
    res.writeHead(err instanceof HooksealError ? 401 : 400).end();
  }
}).listen(port, '127.0.0.1', () => console.log(`destination listening on http://127.0.0.1:${port}`));

http.createServer((req, res) => {
  const file = mediaFiles[new URL(req.url, 'http://x').pathname.slice(1)];
  if (!file) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
}).listen(port + 1, '127.0.0.1', () => console.log(`media stand-in listening on http://127.0.0.1:${port + 1}`));
