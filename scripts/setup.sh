#!/usr/bin/env bash
# Installs what the project needs and is missing; skips what is there. Idempotent.
#
#   scripts/setup.sh rust    Rust toolchain (rust-toolchain.toml), wasm32 target, rustfmt, clippy
#   scripts/setup.sh node    npm packages from package-lock.json (includes Node 22 for wrangler)
#   scripts/setup.sh wasm    wasm-bindgen CLI at the exact version of the wasm-bindgen crate
#   scripts/setup.sh worker  worker-build (workers-rs) at the pinned version
#   scripts/setup.sh fuzz    cargo-fuzz
#   scripts/setup.sh browser Chromium from Debian's packages, for the console's browser test
#
# Tools go into .tools/ inside the project (git-ignored), never into the machine's global paths.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools"

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
CARGO_FUZZ_VERSION=0.13.2

say() { printf '[setup] %s\n' "$*" >&2; }

need_cargo_tool() { # name version crate [--locked]
  local bin=$1 version=$2 crate=$3 locked=${4:-}
  if [ -x "$TOOLS/bin/$bin" ] && "$TOOLS/bin/$bin" --version 2>/dev/null | grep -q "$version"; then
    return 0
  fi
  say "installing $crate $version into .tools (a few minutes, once)"
  # shellcheck disable=SC2086
  cargo install "$crate" --version "$version" $locked --root "$TOOLS" --target-dir "$TOOLS/build" --quiet
}

setup_rust() {
  command -v rustup >/dev/null || { say "rustup is required"; exit 1; }
  # rust-toolchain.toml names the channel, components and target; make sure they are present.
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
  rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed | grep -q '^clippy' || rustup component add clippy
  rustup target list --installed | grep -q '^wasm32-unknown-unknown$' \
    || rustup target add wasm32-unknown-unknown
}

setup_node() {
  command -v npm >/dev/null || { say "npm is required"; exit 1; }
  # Reinstall when the lockfile changed since the last install.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    # Some packages (deno, workerd) list binaries for other platforms as optional dependencies;
    # a registry that lacks one of those exact versions makes `npm ci` refuse the lockfile. Then
    # `npm install` installs the same locked versions and skips the optional binary it cannot get.
    local log
    log=$(mktemp)
    if ! npm ci --no-audit --no-fund --loglevel=error 2>"$log"; then
      say "npm ci refused the lockfile ($(grep -m1 -o 'Missing: [^ ]*' "$log" || echo 'see npm output')); npm install"
      npm install --no-audit --no-fund --loglevel=error
    fi
    rm -f "$log"
    touch node_modules/.package-lock.json
  fi
}

setup_wasm() {
  local want
  want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1)
  if [ -n "$want" ] && [ "$want" != "$WASM_BINDGEN_VERSION" ]; then
    say "Cargo.lock has wasm-bindgen $want but setup pins $WASM_BINDGEN_VERSION: update scripts/setup.sh"
    exit 1
  fi
  # No --locked: a transitive crate pinned in its lockfile is not in the registry index.
  need_cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli
}

setup_worker() {
  setup_wasm
  need_cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build --locked
}

setup_browser() {
  # Debian's chromium (never a browser a package downloads itself): playwright-core drives it.
  if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
    return 0
  fi
  command -v apt-get >/dev/null || { say "Chromium is required: install Debian's chromium package"; exit 1; }
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  say "installing chromium from Debian's packages (about 30 s, once)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
}

setup_fuzz() {
  need_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz --locked
}

[ $# -gt 0 ] || set -- rust node wasm worker
for what in "$@"; do
  case $what in
    rust) setup_rust ;;
    node) setup_node ;;
    wasm) setup_wasm ;;
    worker) setup_worker ;;
    fuzz) setup_fuzz ;;
    browser) setup_browser ;;
    *) say "unknown: $what"; exit 2 ;;
  esac
done
