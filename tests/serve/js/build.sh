#!/bin/bash
# Builds the JS wasi:http components of tests/serve and bench/serve with
# componentize-js (npm; installed here on first use):
#   build.sh [OUT_DIR]     (default: out/ beside this script)
# Outputs OUT_DIR/{hello,test,outbound,run_fetch,spinhost}.component.wasm. Each is
# keyed by its inputs (the JS, the WIT, the world, componentize-js's version
# and the lock file; OUT_DIR/NAME.component.wasm.key) and taken from the
# fixture cache that build trees share (tests/fixture-cache.sh) when it is
# there, so only a changed input rebuilds. componentize-js's engine expects
# the wasi:http WIT at 0.2.10; jco ships 0.2.12, so a copy is rewritten
# (and wasi:sockets' network-error-code gate opened, which 0.2.10 lacks).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$HERE"
if [ ! -x node_modules/.bin/componentize-js ] || [ ! -x node_modules/.bin/jco ]; then
    npm install --no-save --no-audit --no-fund --loglevel=error >&2 # keeps the lock file as it is
fi
source "$HERE/../../fixture-cache.sh"
# Tests that run at the same time build into the same OUT_DIR: the second
# waits for the first (flock, util-linux) rather than build the same again.
exec 9>"$OUT/.build.lock"
flock 9
# The WIT is made afresh each time (it is cheap).
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
WIT=$WORK/wit
SRC=node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
mkdir -p "$WIT/deps"
for d in "$SRC"/*/; do
    n=$(basename "$d")
    mkdir -p "$WIT/deps/$n"
    for f in "$d"*.wit; do
        sed -e 's/@0\.2\.12/@0.2.10/g' -e '/@unstable(feature = network-error-code)/d' \
            "$f" >"$WIT/deps/$n/$(basename "$f")"
    done
done
printf 'package whirl:serve-test;\n\nworld proxy {\n  include wasi:http/proxy@0.2.10;\n}\n' \
    >"$WIT/world.wit"
# A wasi:cli command that makes outbound requests (`whirl run`).
CMD_WIT=$WORK/wit-cmd
mkdir -p "$CMD_WIT"
cp -r "$WIT/deps" "$CMD_WIT/deps"
printf 'package whirl:run-test;\n\nworld cmd {\n  include wasi:http/imports@0.2.10;\n  import wasi:cli/environment@0.2.10;\n  export wasi:cli/run@0.2.10;\n}\n' \
    >"$CMD_WIT/world.wit"
# The Spin app of serve/spinhost: the same WIT plus the Spin interfaces of
# spin-wit/ (written for the test from Spin's WIT).
SPIN_WIT=$WORK/wit-spin
mkdir -p "$SPIN_WIT/deps"
cp -r "$WIT/deps/." "$SPIN_WIT/deps/"
for f in "$HERE"/spin-wit/*.wit; do
    n=$(basename "$f" .wit)
    mkdir -p "$SPIN_WIT/deps/spin-$n"
    cp "$f" "$SPIN_WIT/deps/spin-$n/"
done
cat >"$SPIN_WIT/world.wit" <<'WIT'
package whirl:serve-spin-test;

world spin-app {
  include wasi:http/proxy@0.2.10;
  import fermyon:spin/variables@2.0.0;
  import fermyon:spin/key-value@2.0.0;
  import fermyon:spin/sqlite@2.0.0;
  import spin:sqlite/sqlite@3.0.0;
  import wasi:config/store@0.2.0-draft-2024-09-27;
  import wasi:keyvalue/store@0.2.0-draft2;
  import wasi:keyvalue/atomics@0.2.0-draft2;
  import wasi:keyvalue/batch@0.2.0-draft2;
  import fermyon:spin/llm@2.0.0;
  import fermyon:spin/redis@2.0.0;
  import fermyon:spin/mqtt@2.0.0;
  import fermyon:spin/postgres@2.0.0;
  import fermyon:spin/mysql@2.0.0;
  import spin:postgres/postgres@3.0.0;
  import spin:postgres/postgres@4.0.0;
  import spin:postgres/postgres@4.2.0;
  import fermyon:spin/config;
}
WIT
CJS_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
    node_modules/@bytecodealliance/componentize-js/package.json | head -n 1)
NODE_VERSION=$(node --version)
for name in hello test outbound run_fetch spinhost; do
    src=$HERE/$name.js
    out=$OUT/$name.component.wasm
    wit=$WIT world=proxy
    [ "$name" = run_fetch ] && wit=$CMD_WIT world=cmd
    [ "$name" = spinhost ] && wit=$SPIN_WIT world=spin-app
    key=$(fixture_key "=componentize-js $CJS_VERSION" "=node $NODE_VERSION" "=$name.js" \
        "=-n $world" "$src" "$wit" "$HERE/package-lock.json")
    if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
        continue
    fi
    if fixture_fetch "$key" "$out"; then
        echo "$name.js: from the fixture cache" >&2
    else
        echo "componentize-js $name.js" >&2
        tmp=$WORK/$name.component.wasm
        node_modules/.bin/componentize-js "$src" --wit "$wit" -n "$world" -o "$tmp" >&2
        fixture_store "$key" "$tmp"
        mv -f "$tmp" "$out"
    fi
    echo "$key" >"$out.key"
done
