#!/bin/bash
# Builds the JS wasi:http components of tests/serve and bench/serve with
# componentize-js (npm; installed here on first use):
#   build.sh [OUT_DIR]     (default: out/ beside this script)
# Outputs OUT_DIR/{hello,test,outbound,run_fetch}.component.wasm,
# rebuilt only when their source is newer. componentize-js's engine expects
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
WIT=$OUT/wit
if [ ! -f "$WIT/world.wit" ]; then
    SRC=node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
    rm -rf "$WIT"
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
fi
# A wasi:cli command that makes outbound requests (`whirl run`).
CMD_WIT=$OUT/wit-cmd
if [ ! -f "$CMD_WIT/world.wit" ]; then
    rm -rf "$CMD_WIT"
    mkdir -p "$CMD_WIT"
    cp -r "$WIT/deps" "$CMD_WIT/deps"
    printf 'package whirl:run-test;\n\nworld cmd {\n  include wasi:http/imports@0.2.10;\n  import wasi:cli/environment@0.2.10;\n  export wasi:cli/run@0.2.10;\n}\n' \
        >"$CMD_WIT/world.wit"
fi
for name in hello test outbound run_fetch; do
    src=$HERE/$name.js
    out=$OUT/$name.component.wasm
    wit=$WIT world=proxy
    [ "$name" = run_fetch ] && wit=$CMD_WIT world=cmd
    if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then
        echo "componentize-js $name.js" >&2
        node_modules/.bin/componentize-js "$src" --wit "$wit" -n "$world" -o "$out.tmp" >&2
        mv "$out.tmp" "$out"
    fi
done
