#!/usr/bin/env bash
# Builds the Worker (worker/build) with worker-build, pointing it at the project's own pinned
# wasm-bindgen, wasm-opt (npm binaryen) and esbuild so it downloads nothing.
#
#   scripts/build-worker.sh [crate dir [out dir [cargo options...]]]
#
# The crate is worker by default, into worker/build; bench/worker-size.mjs builds
# bench/worker-floor the same way (and again with `--features core` into build-core).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export WASM_BINDGEN_BIN="$ROOT/.tools/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
export XDG_CACHE_HOME="$ROOT/.cache"
# shellcheck source=scripts/wasm-env.sh
source scripts/wasm-env.sh
crate=${1:-worker}
out=${2:-build}
shift $(($# < 2 ? $# : 2))
cd "$crate"
"$ROOT/.tools/bin/worker-build" --release --out-dir "$out" . "$@"
# wasm-opt without `--debuginfo` (worker-build's own run would keep the names section).
"$WASM_OPT_BIN" -Oz --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-simd --enable-exception-handling \
  --strip-debug --strip-producers "$out/index_bg.wasm" -o "$out/index_bg.wasm"
printf 'built %s/%s: index_bg.wasm %s bytes (%s gzipped)\n' "$crate" "$out" "$(wc -c < "$out/index_bg.wasm")" \
  "$(node -e 'process.stdout.write(String(require("zlib").gzipSync(require("fs").readFileSync(process.argv[1]), { level: 9 }).length))' "$out/index_bg.wasm")"
