#!/bin/bash
# Builds app.js into a Spin component the way Spin's http-js template (v3.4,
# the @spinframework packages) does: build.mjs bundles it with esbuild and
# the build tools' plugin, then their j2w makes the component with
# componentize-js and the WIT of @spinframework/wasi-http-proxy.
#   build.sh OUT_DIR      writes OUT_DIR/spinframework.component.wasm
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
exec 9>"$OUT/.spinframework.lock"
flock 9
TARGET=$OUT/spinframework.component.wasm
KEY=$(fixture_key app.js build.mjs package-lock.json build.sh "=$(node --version)")
if fixture_fetch "$KEY" "$TARGET" 2>/dev/null; then
    exit 0
fi
WORK=$(mktemp -d "$OUT/.spinframework.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
node build.mjs "$WORK/bundle.js"
node_modules/.bin/j2w -i "$WORK/bundle.js" --initLocation http://spinframework.localhost \
    -o "$WORK/app.wasm" >&2
mv "$WORK/app.wasm" "$TARGET"
fixture_store "$KEY" "$TARGET" || true
