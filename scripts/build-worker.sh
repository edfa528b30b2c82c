#!/usr/bin/env bash
# Builds the Worker (worker/build) with worker-build, pointing it at the project's own pinned
# wasm-bindgen, wasm-opt (npm binaryen) and esbuild so it downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export WASM_BINDGEN_BIN="$ROOT/.tools/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export XDG_CACHE_HOME="$ROOT/.cache"
# shellcheck source=scripts/wasm-env.sh
source scripts/wasm-env.sh
cd worker
"$ROOT/.tools/bin/worker-build" --release
# wasm-opt without `--debuginfo` (worker-build's own run would keep the names section).
"$WASM_OPT_BIN" -Oz --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-simd --enable-exception-handling \
  --strip-debug --strip-producers build/index_bg.wasm -o build/index_bg.wasm
printf 'built worker/build: index_bg.wasm %s bytes (%s gzipped)\n' "$(wc -c < build/index_bg.wasm)" \
  "$(node -e 'process.stdout.write(String(require("zlib").gzipSync(require("fs").readFileSync(process.argv[1]), { level: 9 }).length))' build/index_bg.wasm)"
