#!/usr/bin/env bash
# The main job: the Worker under `wrangler dev` on 127.0.0.1:8787 (workerd with local KV,
# Queues, D1 and R2, state in .wrangler/state), a local destination on 127.0.0.1:8788 that prints
# what the Worker delivers, a stand-in for a provider's media host on 127.0.0.1:8789, and the
# cron sweep triggered once a minute (wrangler dev does not run crons by itself). Ctrl-C stops
# them all. Send samples with `make send`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/dev-vars.sh
source scripts/dev-vars.sh
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false XDG_CONFIG_HOME="$ROOT/.config"
node scripts/destination.mjs 8788 &
DEST=$!
node -e 'setInterval(() => fetch("http://127.0.0.1:8787/__scheduled?cron=*+*+*+*+*").catch(() => {}), 60_000)' &
CRON=$!
trap 'kill $DEST $CRON 2>/dev/null' EXIT
cd worker
# The event log's schema, applied to the local D1 database (skips what is applied already).
CI=true "$ROOT/node_modules/.bin/wrangler" d1 migrations apply hookseal-log --local --persist-to "$ROOT/.wrangler/state"
# wrangler builds the Worker first ([build] in wrangler.toml).
"$ROOT/node_modules/.bin/wrangler" dev --ip 127.0.0.1 --port 8787 --test-scheduled --persist-to "$ROOT/.wrangler/state"
