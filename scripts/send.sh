#!/usr/bin/env bash
# `make send`: the CLI's `send --all` against each source of `make dev` (the demo secrets in
# worker/.dev.vars): a sample of every event type, a retry and a forgery per source; then a
# Mossmoon image and voice note whose media is on `make dev`'s stand-in host, which the Worker
# archives into R2 (the destination prints the archived link).
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
echo "== mossmoon media (archived from the stand-in on :8789)"
media=$(mktemp -d)
trap 'rm -rf "$media"' EXIT
node --input-type=module -e '
  import { writeFileSync } from "node:fs";
  import { mediaFiles } from "./scripts/media-files.mjs";
  const stamp = Date.now();
  for (const [name, type] of [["image.png", "image"], ["voice.ogg", "voice"]]) {
    const f = mediaFiles[name];
    const id = `evt_media_${type}_${stamp}`;
    writeFileSync(`${process.argv[1]}/${type}.json`, JSON.stringify({ event: "message.received", id, line_id: "ln_demo",
      message: { id: `msg_${id}`, from: "+15559876543", type, text: type === "image" ? "Is this the one? (urgent)" : null,
        received_at: new Date().toISOString(), media: { url: `http://127.0.0.1:8789/${name}`, mime_type: f.type, sha256: f.sha256 } } }));
  }' "$media"
for f in "$media"/image.json "$media"/voice.json; do
  HOOKSEAL_SECRET=$MOSSMOON_SECRET node build/pkg/dist/cli.js send --scheme mossmoon --url "$BASE/webhooks/mossmoon" "$f" || status=1
done
exit $status
