// What the benchmarks that run inside workerd share: a bench Worker bundled as wrangler would
// (each .wasm a module of its own), run under Miniflare with nodejs_compat, and a timed call.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';

export const bench = fileURLToPath(new URL('.', import.meta.url));
export const root = join(bench, '..');

/** `--name N` from the command line, as a number, else `dflt`. */
export function opt(name, dflt) {
  const args = process.argv.slice(2);
  return args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt;
}

/**
 * Bundles `entry` into build/`outName`, copies the `.wasm` files beside it, and starts it under
 * Miniflare (`options` are added to the Miniflare options, e.g. `inspectorPort`). Returns
 * `call(path)`, which answers `{ ms, json }` timed from outside the isolate, and `dispose()`.
 */
export async function startBenchWorker(entry, outName, wasmFiles, options = {}) {
  const out = join(root, 'build', outName);
  mkdirSync(out, { recursive: true });
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--format=esm',
    '--platform=neutral', '--conditions=workerd,worker', '--main-fields=module,main', '--external:node:*',
    '--external:cloudflare:*', '--external:*.wasm', '--log-level=warning', `--outfile=${join(out, 'index.js')}`], { stdio: 'inherit' });
  for (const f of wasmFiles) copyFileSync(f, join(out, basename(f)));
  const mf = new Miniflare(convertV4MiniflareOptions({
    cf: false,
    ...options,
    workers: [{
      name: 'bench', modulesRoot: out, compatibilityDate: '2026-11-01', compatibilityFlags: ['nodejs_compat'],
      modules: [{ type: 'ESModule', path: join(out, 'index.js') },
        ...wasmFiles.map((f) => ({ type: 'CompiledWasm', path: join(out, basename(f)) }))],
    }],
  }));
  const base = await mf.ready;
  const call = async (path) => {
    const t0 = performance.now();
    const res = await mf.dispatchFetch(new URL(path, base));
    const json = await res.json();
    return { ms: performance.now() - t0, json };
  };
  return { call, dispose: () => mf.dispose() };
}
