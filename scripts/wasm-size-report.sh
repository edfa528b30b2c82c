#!/usr/bin/env bash
# Where the bytes of the optimized .wasm go: the largest functions and data, by name
# (wasm-opt -Oz with names kept, then twiggy). Dev tool; needs `cargo install twiggy`.
set -euo pipefail
cd "$(dirname "$0")/.."
W=target/wasm32-unknown-unknown/release/hookseal_wasm.wasm
T=$(mktemp -d)
.tools/bin/wasm-bindgen --target web --keep-debug --out-dir "$T" --out-name h "$W"
node_modules/binaryen/bin/wasm-opt -Oz -g --enable-bulk-memory --enable-reference-types \
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
  --enable-multivalue --enable-simd "$T/h_bg.wasm" -o "$T/opt.wasm"
twiggy top -n "${1:-40}" "$T/opt.wasm" 2>/dev/null | grep -av 'function names'
