#!/usr/bin/env bash
# `make send`: the CLI's `send --all` against each source of `make dev` (the demo secrets in
# worker/.dev.vars): a sample of every event type, a retry and a forgery per source.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${1:-http://127.0.0.1:8787}
# shellcheck source=scripts/dev-vars.sh
source scripts/dev-vars.sh
# shellcheck disable=SC1091
set -a; source worker/.dev.vars; set +a
status=0
for pair in moltflow:MOLTFLOW_SECRET mossmoon:MOSSMOON_SECRET whatsapp:META_APP_SECRET \
    twilio:TWILIO_AUTH_TOKEN vonage:VONAGE_SIGNATURE_SECRET; do
  source=${pair%%:*} secret=${pair#*:}
  scheme=$source; [ "$source" = whatsapp ] && scheme=meta
  echo "== $source ($scheme)"
  HOOKSEAL_SECRET=${!secret} node build/pkg/dist/cli.js send --scheme "$scheme" --url "$BASE/webhooks/$source" --all || status=1
done
exit $status
