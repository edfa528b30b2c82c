#!/usr/bin/env bash
# The main job: the Worker under `wrangler dev` on 127.0.0.1:8787 (workerd with local KV and
# Queues, state in .wrangler/state), and a local destination on 127.0.0.1:8788 that prints what
# the Worker delivers. Ctrl-C stops both. Send samples with `make send`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/dev-vars.sh
source scripts/dev-vars.sh
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false XDG_CONFIG_HOME="$ROOT/.config"
node scripts/destination.mjs 8788 &
DEST=$!
trap 'kill $DEST 2>/dev/null' EXIT
cd worker
# The event log's schema, applied to the local D1 database (skips what is applied already).
CI=true "$ROOT/node_modules/.bin/wrangler" d1 migrations apply hookseal-log --local --persist-to "$ROOT/.wrangler/state"
# wrangler builds the Worker first ([build] in wrangler.toml).
"$ROOT/node_modules/.bin/wrangler" dev --ip 127.0.0.1 --port 8787 --persist-to "$ROOT/.wrangler/state"
