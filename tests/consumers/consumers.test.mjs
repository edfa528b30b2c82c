// The packed tarball, installed into throwaway projects the way users install it, proves one
// real verification and one rejected forgery in each: Node 20 and 22 (require and import), an
// Express app over HTTP, Hono on Node and on Workers, Fastify, a Next.js app (App Router Node and
// Edge route handlers, and a Pages Router API route) built with `next build` and served by
// `next start`, a Cloudflare Worker under workerd (`wrangler dev`), Deno and Bun, and Chromium
// loading the ESM build in a page. In Node and workerd, the filter vectors run through `matches`.
import http from 'node:http';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, extname, join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { Webhook } from 'hookseal';
import { root } from '../js/harness.mjs';

const here = join(root, 'tests/consumers');
const work = join(root, 'build/consumers');
const SECRET = 'consumer-secret-7f3a9c';
const children = [];
let tarball;
let fixture;

const quietEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: '1',
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  XDG_CONFIG_HOME: join(work, '.config'),
  MOLTFLOW_WEBHOOK_SECRET: SECRET,
};

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', env: quietEnv, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** A fresh copy of tests/consumers/<name> with the tarball and `deps` installed from the registry. */
function project(name, deps = {}) {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(here, name), dir, { recursive: true });
  cpSync(join(here, 'common/filters.mjs'), join(dir, 'filters.mjs'));
  const pkg = { name: `consumer-${name}`, private: true, dependencies: { hookseal: `file:${tarball}`, ...deps } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(join(dir, 'fixture.json'), JSON.stringify(fixture));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  return dir;
}

/** The `node` binaries on PATH, by major version. */
function nodes() {
  const found = {};
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    const bin = join(d, 'node');
    if (!existsSync(bin)) continue;
    const major = run(bin, ['--version']).trim().match(/^v(\d+)/)?.[1];
    if (major && !found[major]) found[major] = bin;
  }
  return found;
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts a long-running process and resolves once `ready` matches its output. */
function start(cmd, args, { cwd, ready, timeout = 120_000 }) {
  const child = spawn(cmd, args, { cwd, env: quietEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in time:\n${output}`)), timeout);
    const onData = (d) => {
      output += d;
      const m = output.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${output}`)));
  });
}

async function post(url, body, headers) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: await res.json() };
}

/**
 * A valid delivery is accepted with its events; the forged one is refused with 401 (carrying
 * `extra` too unless the refusal is the helper's own answer).
 */
async function proves(url, extra = {}, refusalCarriesExtra = true) {
  const ok = await post(url, fixture.body, fixture.headers);
  assert.deepEqual(ok, { status: 202, json: { ...extra, events: ['message.received'] } });
  const forged = await post(url, fixture.forged, fixture.headers);
  assert.equal(forged.status, 401);
  assert.equal(forged.json.error, 'signature_mismatch');
  if (refusalCarriesExtra) for (const [k, v] of Object.entries(extra)) assert.equal(forged.json[k], v);
}

before(() => {
  mkdirSync(work, { recursive: true });
  const out = JSON.parse(run('npm', ['pack', join(root, 'build/pkg'), '--pack-destination', work, '--json']));
  tarball = join(work, out[0].filename);
  const body = readFileSync(join(root, 'tests/events/moltflow/message_received.json'), 'utf8');
  const headers = new Webhook('moltflow', SECRET).sign(body);
  const filters = JSON.parse(readFileSync(join(root, 'tests/filters/cases.json'), 'utf8'));
  fixture = { secret: SECRET, body, headers, forged: body.replace('my order', 'my 0rder'), filters };
});

after(() => {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
});

test('Node 20 and 22, require and import', () => {
  const dir = project('node');
  const bins = nodes();
  for (const major of ['20', '22']) {
    assert.ok(bins[major], `no Node ${major} on PATH (have ${Object.keys(bins)})`);
    for (const file of ['check.cjs', 'check.mjs']) {
      const out = JSON.parse(run(bins[major], [file], { cwd: dir }));
      assert.match(out.node, new RegExp(`^v${major}\\.`));
      assert.deepEqual([out.events, out.forged], [['message.received'], 'signature_mismatch'], `${major} ${file}`);
      // The filter vectors through `matches` (all of them from ESM, one from CommonJS).
      assert.deepEqual(out.filterFailures, [], `${major} ${file}`);
      assert.ok(out.filterCases >= (file === 'check.mjs' ? fixture.filters.cases.length : 1), `${major} ${file}`);
    }
  }
});

test('an Express app over HTTP', async () => {
  const dir = project('express', { express: '5.3.0' });
  const [, port] = await start(process.execPath, ['server.mjs'], { cwd: dir, ready: /"port":(\d+)/ });
  await proves(`http://127.0.0.1:${port}/webhooks/moltflow`);
});

test('Deno imports the ESM web build', () => {
  const dir = project('deno');
  const deno = join(root, 'node_modules/.bin/deno');
  const out = JSON.parse(run(deno, ['run', '--quiet', '--allow-read', '--allow-env', 'check.ts'], {
    cwd: dir, env: { ...quietEnv, DENO_DIR: join(work, '.deno') },
  }));
  assert.deepEqual([out.events, out.forged], [['message.received'], 'signature_mismatch']);
});

test('a Cloudflare Worker under workerd (wrangler dev)', async () => {
  const dir = project('worker');
  const port = await freePort();
  const wrangler = join(root, 'node_modules/.bin/wrangler');
  await start(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--var', `MOLTFLOW_WEBHOOK_SECRET:${SECRET}`,
    '--persist-to', join(dir, '.state')], { cwd: dir, ready: /Ready on http/ });
  await proves(`http://127.0.0.1:${port}/`);
  // The filter vectors through `matches` inside workerd.
  const res = await fetch(`http://127.0.0.1:${port}/filters`);
  assert.deepEqual(await res.json(), { cases: fixture.filters.cases.length + fixture.filters.errors.length, failed: [] });
});

test('a Next.js app: App Router Node and Edge route handlers, a Pages Router API route (next build, next start)', async () => {
  const dir = project('next', { next: '16.4.6', react: '19.3.1', 'react-dom': '19.3.1' });
  const next = join(dir, 'node_modules/.bin/next');
  run(next, ['build'], { cwd: dir, timeout: 600_000 });
  const port = await freePort();
  await start(next, ['start', '-H', '127.0.0.1', '-p', String(port)], { cwd: dir, ready: /Ready in|started server/i });
  await proves(`http://127.0.0.1:${port}/api/node`, { runtime: 'nodejs' });
  await proves(`http://127.0.0.1:${port}/api/edge`, { runtime: 'edge' });
  await proves(`http://127.0.0.1:${port}/api/pages`, { router: 'pages' }, false);
});

test('Hono on Node (@hono/node-server), with hookseal/hono', async () => {
  const dir = project('hono-node', { hono: '4.13.19', '@hono/node-server': '2.1.9' });
  const [, port] = await start(process.execPath, ['server.mjs'], { cwd: dir, ready: /"port":(\d+)/ });
  await proves(`http://127.0.0.1:${port}/webhooks/moltflow`);
});

test('Hono on Cloudflare Workers (wrangler dev), with hookseal/hono', async () => {
  const dir = project('hono-worker', { hono: '4.13.19' });
  const port = await freePort();
  const wrangler = join(root, 'node_modules/.bin/wrangler');
  await start(wrangler, ['dev', '--ip', '127.0.0.1', '--port', String(port), '--var', `MOLTFLOW_WEBHOOK_SECRET:${SECRET}`,
    '--persist-to', join(dir, '.state')], { cwd: dir, ready: /Ready on http/ });
  await proves(`http://127.0.0.1:${port}/webhooks/moltflow`);
});

test('Fastify with hookseal/fastify in the webhook scope; JSON elsewhere untouched', async () => {
  const dir = project('fastify', { fastify: '5.12.8' });
  const [, port] = await start(process.execPath, ['server.cjs'], { cwd: dir, ready: /"port":(\d+)/ });
  await proves(`http://127.0.0.1:${port}/webhooks/moltflow`);
  const echo = await post(`http://127.0.0.1:${port}/api/echo`, '{"a":1}', {});
  assert.deepEqual(echo, { status: 200, json: { parsed: { a: 1 } } });
});

test('Bun serves it (Bun.serve and verifyRequest)', async () => {
  const dir = project('bun');
  const bun = join(root, 'node_modules/.bin/bun');
  const version = run(bun, ['--version']).trim();
  const [, port] = await start(bun, ['server.mjs'], { cwd: dir, ready: /"port":(\d+)/ });
  await proves(`http://127.0.0.1:${port}/`, { runtime: `bun ${version}` });
});

test('Chromium loads the ESM build in a page: verifies, refuses a forgery, signs, parses', async () => {
  const dir = project('browser');
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!path.startsWith(dir) || !existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    await page.waitForFunction(() => window.__hookseal !== undefined, null, { timeout: 30_000 });
    const out = await page.evaluate(() => window.__hookseal);
    assert.equal(out.error, undefined, out.error);
    assert.match(out.userAgent, /Chrome/);
    assert.deepEqual([out.verified, out.events, out.forged], [0, ['message.received'], 'signature_mismatch']);
    // What the page signed verifies here, in Node.
    const std = new Webhook('standard-webhooks', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    assert.equal(std.verify(out.signed.body, out.signed.headers).id, 'msg_browser');
  } finally {
    await browser.close();
    server.close();
  }
});
