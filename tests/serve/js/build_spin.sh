#!/bin/bash
# Builds spinhost.js (a Spin app using variables, key-value, SQLite and
# wasi:keyvalue/wasi:config) with componentize-js against spin-wit/ and the
# wasi:http WIT build.sh prepares:  build_spin.sh [OUT_DIR]
# Outputs OUT_DIR/spinhost.component.wasm, rebuilt when a source is newer.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ ! -f "$OUT/wit/world.wit" ] || [ ! -x "$HERE/node_modules/.bin/componentize-js" ]; then
    bash "$HERE/build.sh" "$OUT" >&2
fi
src=$HERE/spinhost.js
out=$OUT/spinhost.component.wasm
newest=$(ls -t "$src" "$HERE"/spin-wit/*.wit "$0" | head -1)
if [ -f "$out" ] && [ "$out" -nt "$newest" ]; then exit 0; fi
WIT=$OUT/wit-spin
rm -rf "$WIT"
mkdir -p "$WIT/deps"
cp -r "$OUT/wit/deps/." "$WIT/deps/"
for f in "$HERE"/spin-wit/*.wit; do
    n=$(basename "$f" .wit)
    mkdir -p "$WIT/deps/spin-$n"
    cp "$f" "$WIT/deps/spin-$n/"
done
cat >"$WIT/world.wit" <<'WIT'
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
  import fermyon:spin/config;
}
WIT
echo "componentize-js spinhost.js" >&2
cd "$HERE"
node_modules/.bin/componentize-js "$src" --wit "$WIT" -n spin-app -o "$out.tmp" >&2
mv "$out.tmp" "$out"
