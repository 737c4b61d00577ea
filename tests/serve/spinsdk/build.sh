#!/bin/bash
# Builds app.js into a Spin component the way Spin's JS template does: a
# bundler resolves the SDK and itty-router into one file (the Spin
# interfaces stay imports), then the SDK's own j2w makes the component with
# the SDK's componentize-js and WIT (world spin-http).
#   build.sh OUT_DIR      writes OUT_DIR/spinsdk.component.wasm
# Installs the locked npm packages here on first use; the output comes from
# the fixture cache (tests/fixture-cache.sh) when its inputs are unchanged.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$HERE"
if [ ! -x node_modules/.bin/j2w ] || [ ! -x node_modules/.bin/esbuild ]; then
    npm install --no-save --no-audit --no-fund --loglevel=error >&2 # keeps the lock file as it is
fi
source "$HERE/../../fixture-cache.sh"
exec 9>"$OUT/.spinsdk.lock"
flock 9
TARGET=$OUT/spinsdk.component.wasm
KEY=$(fixture_key app.js package-lock.json build.sh "=$(node --version)")
if fixture_fetch "$KEY" "$TARGET" 2>/dev/null; then
    exit 0
fi
WORK=$(mktemp -d "$OUT/.spinsdk.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
node_modules/.bin/esbuild app.js --bundle --format=esm --log-level=warning \
    --external:'fermyon:*' --external:'wasi:*' --outfile="$WORK/bundle.js"
node_modules/.bin/j2w -i "$WORK/bundle.js" -n spin-http -o "$WORK/app.wasm" >&2
mv "$WORK/app.wasm" "$TARGET"
fixture_store "$KEY" "$TARGET" || true
