#!/usr/bin/env bash
# Builds the npm package of another revision, for bench/compare.mjs: a detached worktree in
# .cache/rev/<sha> that shares this checkout's node_modules and pinned tools. Prints the built
# package's directory; a revision already built is reused.
#
#   scripts/build-rev.sh REV
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$(git rev-parse --short "${1:?usage: scripts/build-rev.sh REV}^{commit}")
dir=.cache/rev/$rev
if [ ! -f "$dir/build/pkg/dist/node.js" ]; then
  [ -d "$dir" ] || git worktree add --detach "$dir" "$rev" >&2
  ln -sfn "$PWD/node_modules" "$dir/node_modules"
  ln -sfn "$PWD/.tools" "$dir/.tools"
  "$dir/scripts/build-pkg.sh" >&2
fi
echo "$dir/build/pkg"
