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
