#!/usr/bin/env bash
# Builds the npm package into build/pkg: the core compiled to wasm (simd128), the wasm-bindgen
# glue (`web` for ESM entries, `nodejs` for CommonJS; both drive the same .wasm), wasm-opt, then
# the hand-written files from pkg-templates/ with the version stamped from Cargo.toml.
# Generated JS is never edited.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=build/pkg
export PATH="$ROOT/.tools/bin:$ROOT/node_modules/.bin:$PATH"

VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
WASM_OPT="$ROOT/node_modules/binaryen/bin/wasm-opt"
FEATURES=(--enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int
          --enable-sign-ext --enable-mutable-globals --enable-multivalue --enable-simd)

# shellcheck source=scripts/wasm-env.sh
source scripts/wasm-env.sh
cargo build --quiet --release \
  --target wasm32-unknown-unknown -p hookseal-wasm
RAW=target/wasm32-unknown-unknown/release/hookseal_wasm.wasm

rm -rf "$OUT"
mkdir -p "$OUT/dist" "$OUT/tmp"
# Both glues and the one module live in dist/: the `web` glue (ESM, hookseal.js) and the
# `nodejs` glue (CommonJS, renamed to hookseal.cjs; it loads hookseal_bg.wasm from its own
# directory). wasm-bindgen writes the same .wasm for every target; the build checks that.
wasm-bindgen --target web --out-dir "$OUT/dist" --out-name hookseal "$RAW"
wasm-bindgen --target nodejs --out-dir "$OUT/tmp" --out-name hookseal "$RAW"
cmp -s "$OUT/dist/hookseal_bg.wasm" "$OUT/tmp/hookseal_bg.wasm" \
  || { echo "the web and nodejs glues expect different wasm" >&2; exit 1; }
mv "$OUT/tmp/hookseal.js" "$OUT/dist/hookseal.cjs"
mv "$OUT/tmp/hookseal.d.ts" "$OUT/dist/hookseal.d.cts"
rm -rf "$OUT/tmp" "$OUT/dist/hookseal_bg.wasm.d.ts"
# Measured on the module (build/pkg sizes, zlib level 9): a function with one caller stays a
# function unless it is tiny (binaryen inlines any size by default: larger bodies gzip worse,
# 1.1 KB), and functions ordered by name sit next to their kin (0.4 KB gzipped).
"$WASM_OPT" --one-caller-inline-max-function-size=100 --merge-similar-functions -Oz --converge \
  --reorder-functions-by-name --reorder-locals "${FEATURES[@]}" --strip-debug --strip-producers --strip-target-features \
  "$OUT/dist/hookseal_bg.wasm" -o "$OUT/dist/hookseal_bg.wasm"

# Hand-written files, and the tables generated from the core (codes.js, codes.d.ts).
cp -r pkg-templates/. "$OUT/"
sed -i "s/\"version\": \"0.0.0-template\"/\"version\": \"$VERSION\"/" "$OUT/package.json"
node scripts/codes.mjs "$OUT/dist"
# The CommonJS copies, made from the one ESM source: the API bundled into one file (api.cjs,
# so `require` gets one instance of it), the framework helpers requiring it, and every
# declaration file as .d.cts with its relative imports renamed.
esbuild "$OUT/dist/api.js" --bundle --format=cjs --platform=neutral --log-level=warning \
  --outfile="$OUT/dist/api.cjs"
for helper in hono fastify; do
  esbuild "$OUT/dist/$helper.js" --format=cjs --platform=neutral --log-level=warning \
    --outfile="$OUT/dist/$helper.cjs"
  sed -i 's#"\./api\.js"#"./api.cjs"#' "$OUT/dist/$helper.cjs"
  # A folder per subpath for resolvers that predate `exports` (TypeScript's node10).
  mkdir -p "$OUT/$helper"
  printf '{ "main": "../dist/%s.cjs", "types": "../dist/%s.d.cts" }\n' "$helper" "$helper" \
    > "$OUT/$helper/package.json"
done
for dts in "$OUT"/dist/*.d.ts; do
  [ "$dts" = "$OUT/dist/hookseal.d.ts" ] && continue # the glue's own (the nodejs one is above)
  sed "s#\(from '\./[a-z]*\)\.js'#\1.cjs'#" "$dts" > "${dts%.d.ts}.d.cts"
done
# The CLI's sample events, from the fixtures in tests/events.
node scripts/samples.mjs "$OUT/dist/samples.json"
chmod +x "$OUT/dist/cli.js"
cp README.md "$OUT/README.md"
cp LICENSE-MIT LICENSE-APACHE CHANGELOG.md "$OUT/"

# Gzipped as bench/load.mjs measures it (zlib, level 9), the figure the 70 KB budget is held to.
printf 'built %s %s: hookseal_bg.wasm %s bytes (%s gzipped)\n' "$OUT" "$VERSION" \
  "$(wc -c < "$OUT/dist/hookseal_bg.wasm")" \
  "$(node -e 'process.stdout.write(String(require("zlib").gzipSync(require("fs").readFileSync(process.argv[1]), { level: 9 }).length))' "$OUT/dist/hookseal_bg.wasm")"
