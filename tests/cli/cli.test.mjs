// The `hookseal` CLI from the built package (build/pkg/dist/cli.js), run as a user runs it: a
// child process with the secret in the environment. `events`/`replay` and `send` to the Worker
// are tested against the Worker in tests/worker/worker.test.mjs.
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'hookseal';
import { root } from '../js/harness.mjs';
import { cli } from './run.mjs';

const dir = mkdtempSync(join(tmpdir(), 'hookseal-cli-'));
const body = '{"event":"line.ready","id":"evt_cli_1","line_id":"ln_1","note":"Olá 👍"}';
const file = join(dir, 'body.json');
writeFileSync(file, body);

const headerArgs = (text) => text.trim().split('\n').flatMap((line) => ['-H', line]);

test('sign prints headers that the library verifies', async () => {
  const mm = await cli(['sign', '--scheme', 'mossmoon', file], { env: { HOOKSEAL_SECRET: 'mm-cli-secret' } });
  assert.equal(mm.code, 0, mm.stderr);
  const headers = Object.fromEntries(mm.stdout.trim().split('\n').map((l) => l.split(': ')));
  assert.equal(new Webhook('mossmoon', 'mm-cli-secret').verify(body, headers).secretIndex, 0);

  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const std = await cli(['sign', '--scheme', 'standard-webhooks', '--id', 'msg_cli', '--timestamp', '1700000000', '-'], { env: { HOOKSEAL_SECRET: secret }, input: body });
  assert.equal(std.code, 0, std.stderr);
  const h = Object.fromEntries(std.stdout.trim().split('\n').map((l) => l.split(': ')));
  assert.deepEqual({ ...new Webhook('standard-webhooks', secret).verify(body, h, { now: 1_700_000_000 }) },
    { secretIndex: 0, id: 'msg_cli', timestamp: 1_700_000_000 });
});

test('verify: 0 for an authentic request, 1 for a forgery, 2 for a usage error', async () => {
  const env = { HOOKSEAL_SECRET: 'mm-cli-secret' };
  const signed = (await cli(['sign', '--scheme', 'mossmoon', file], { env })).stdout;
  const ok = await cli(['verify', '--scheme', 'mossmoon', ...headerArgs(signed), file], { env });
  assert.deepEqual([ok.code, ok.stdout.trim()], [0, 'ok secretIndex=0']);
  const rotated = await cli(['verify', '--scheme', 'mossmoon', ...headerArgs(signed), file], { env: { HOOKSEAL_SECRET: 'new-secret', HOOKSEAL_SECRET_PREVIOUS: 'mm-cli-secret' } });
  assert.deepEqual([rotated.code, rotated.stdout.trim()], [0, 'ok secretIndex=1']);
  const forged = join(dir, 'forged.json');
  writeFileSync(forged, body.replace('ln_1', 'ln_2'));
  const bad = await cli(['verify', '--scheme', 'mossmoon', ...headerArgs(signed), forged], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^signature_mismatch: /);
  const unsigned = await cli(['verify', '--scheme', 'mossmoon', file], { env });
  assert.deepEqual([unsigned.code, unsigned.stdout.split(':')[0]], [1, 'missing_header']);
  // The secret from standard input instead of the environment.
  const stdin = await cli(['verify', '--scheme', 'mossmoon', '--secret-stdin', ...headerArgs(signed), file], { input: 'mm-cli-secret\n' });
  assert.equal(stdin.code, 0, stdin.stderr);
  // Usage errors.
  for (const args of [['verify', '--scheme', 'mossmoon', file], ['verify', '--secret', 'x', file], ['nope'], [], ['verify', '--scheme', 'nope', file]]) {
    const r = await cli(args, { env: args.length === 4 && args[2] === 'mossmoon' ? {} : env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
});

test('--help for every command; secrets never come from argv', async () => {
  for (const command of ['sign', 'verify', 'send', 'events', 'replay']) {
    const r = await cli([command, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: hookseal ${command}`));
  }
  const main = await cli(['--help']);
  assert.match(main.stdout, /Exit codes: 0 ok, 1 refused or failed, 2 usage error/);
  const argvSecret = await cli(['sign', '--scheme', 'mossmoon', '--secret', 'shown-in-ps', file]);
  assert.equal(argvSecret.code, 2);
  assert.ok(!argvSecret.stderr.includes('shown-in-ps') || /Unknown option/.test(argvSecret.stderr));
});

test('send signs and POSTs samples of any type to any receiver', async () => {
  const received = [];
  const meta = new Webhook('meta', 'meta-cli-secret');
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    try {
      const { events } = meta.parse(raw, req.headers);
      received.push(...events);
      res.writeHead(202).end('{"ok":true}');
    } catch (e) {
      res.writeHead(401).end(JSON.stringify({ error: e.code }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/hooks`;
  const env = { HOOKSEAL_SECRET: 'meta-cli-secret' };
  try {
    const types = (await cli(['send', '--scheme', 'meta', '--list-events'])).stdout.trim().split('\n');
    assert.ok(types.includes('message.received') && types.includes('message.failed'), types.join());
    const one = await cli(['send', '--scheme', 'meta', '--url', url, '--event', 'message.read'], { env });
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.match(one.stdout, /^202 /);
    assert.equal(received.at(-1).type, 'message.read');
    // Fresh ids: a second send is a new event, not a retry.
    await cli(['send', '--scheme', 'meta', '--url', url, '--event', 'message.read'], { env });
    assert.notEqual(received.at(-1).dedupKey, received.at(-2).dedupKey);
    const all = await cli(['send', '--scheme', 'meta', '--url', url, '--all'], { env });
    assert.equal(all.code, 0, all.stdout);
    assert.match(all.stdout, /forgery answered 401/);
    const wrong = await cli(['send', '--scheme', 'meta', '--url', url, '--event', 'message.read'], { env: { HOOKSEAL_SECRET: 'not-it' } });
    assert.equal(wrong.code, 1, 'a refused send exits 1');
    const fromFile = await cli(['send', '--scheme', 'meta', '--url', url, join(root, 'tests/events/meta/text.json')], { env });
    assert.equal(fromFile.code, 0);
  } finally {
    server.close();
  }
});
