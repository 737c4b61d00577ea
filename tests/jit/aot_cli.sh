#!/usr/bin/env bash
# `whirl compile` with native code and perf maps from the command line:
#
#   tests/jit/aot_cli.sh WHIRL OBJ.wat
#
# - whirl compile stores native code (the .cwasm is larger than with
#   WHIRL_TIER=interp) and the result runs;
# - -D perfmap, WHIRL_PERFMAP=1 and -W perfmap=y on `whirl run` write
#   /tmp/perf-PID.map lines (hex start, hex size, name) naming fib and sum,
#   for a .cwasm loaded with native code and for -C tier=jit on a .wasm;
#   without them no map is written;
# - tier=jit compiles a loaded module from the function bodies it keeps: the
#   interpreter's .cwasm, and a cache hit on an entry stored under auto
#   (which is then stored again with native code);
# - `whirl serve -D` takes perfmap only.
# Prints "aot: N passed, M failed".
set -uo pipefail
whirl=$1
wat=$2
wat2wasm=${WAT2WASM:-wat2wasm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

"$wat2wasm" --debug-names "$wat" -o "$tmp/obj.wasm" || { echo "aot: 0 passed, 1 failed"; exit 1; }
"$whirl" compile "$tmp/obj.wasm" -o "$tmp/native.cwasm" && ok || fail "whirl compile"
WHIRL_TIER=interp "$whirl" compile "$tmp/obj.wasm" -o "$tmp/interp.cwasm" && ok ||
    fail "whirl compile, WHIRL_TIER=interp"
n=$(stat -c %s "$tmp/native.cwasm")
i=$(stat -c %s "$tmp/interp.cwasm")
[ "$n" -gt $((i + 1000)) ] && ok || fail "native .cwasm ($n bytes) not larger than interp ($i)"
out=$("$whirl" run --allow-precompiled --invoke fib "$tmp/native.cwasm" 20 2>&1)
[ "$out" = 6765 ] && ok || fail "native .cwasm: fib 20 printed [$out]"

# Runs whirl through a shell that execs it (same PID), prints the PID on
# the first line of $tmp/pid, and leaves whirl's output in $tmp/out.
run_pid() {
    sh -c 'echo $$ >"$0/pid"; exec "$@"' "$tmp" "$@" >"$tmp/out" 2>&1
}
check_map() { # what, then the command
    local what=$1
    shift
    run_pid "$@"
    local pid map
    pid=$(cat "$tmp/pid")
    map=/tmp/perf-$pid.map
    [ "$(cat "$tmp/out")" = 6765 ] && ok || fail "$what: printed [$(cat "$tmp/out")]"
    if [ -f "$map" ]; then
        grep -Eq '^[0-9a-f]+ [0-9a-f]*[1-9a-f][0-9a-f]* fib$' "$map" && ok ||
            fail "$what: no sized line for fib in $map: $(head -3 "$map")"
        grep -Eq '^[0-9a-f]+ [0-9a-f]+ sum$' "$map" && ok || fail "$what: no line for sum"
        grep -Eq '^[0-9a-f]+ [0-9a-f]+ vec$' "$map" && ok || fail "$what: no line for vec (SIMD)"
        rm -f "$map"
    else
        fail "$what: no $map"
    fi
}
check_map "-D perfmap" "$whirl" run --allow-precompiled -D perfmap --invoke fib "$tmp/native.cwasm" 20
check_map "WHIRL_PERFMAP=1" env WHIRL_PERFMAP=1 "$whirl" run --allow-precompiled --invoke fib \
    "$tmp/native.cwasm" 20
check_map "-W perfmap=y, -C tier=jit" "$whirl" run -W perfmap=y -C tier=jit --invoke fib "$tmp/obj.wasm" 20

run_pid "$whirl" run --allow-precompiled --invoke fib "$tmp/native.cwasm" 20
[ ! -e "/tmp/perf-$(cat "$tmp/pid").map" ] && ok || fail "a map written without perfmap"

# Loaded modules keep their function bodies (serialisation format 7), so
# the LLVM tier can compile them: tier=jit on the interpreter's .cwasm
# compiles at load (no waiting on the background tier, unlike auto) ...
check_map "-C tier=jit on the interpreter's .cwasm" "$whirl" run --allow-precompiled \
    -C tier=jit -D perfmap --invoke fib "$tmp/interp.cwasm" 20
# ... and so does a cache hit on an entry stored under auto, which is then
# stored again with its native code for the next hit.
"$whirl" run -C tier=auto -C cache-dir="$tmp/cache" --invoke fib "$tmp/obj.wasm" 20 \
    >"$tmp/out" 2>&1
[ "$(cat "$tmp/out")" = 6765 ] && ok || fail "cache miss under auto: printed [$(cat "$tmp/out")]"
before=$(cat "$tmp/cache"/*.cwasm | wc -c)
check_map "cache hit, -C tier=jit" "$whirl" run -C tier=jit -C cache-dir="$tmp/cache" -D perfmap \
    --invoke fib "$tmp/obj.wasm" 20
after=$(cat "$tmp/cache"/*.cwasm | wc -c)
[ "$after" -gt $((before + 1000)) ] && ok ||
    fail "cache entry not stored again with native code ($before bytes, then $after)"
hits=$("$whirl" cache stats --dir "$tmp/cache" | awk '$1 == "hits" {print $2}')
[ "$hits" = 1 ] && ok || fail "cache: $hits hits, want 1"

"$whirl" serve -D bogus "$tmp/obj.wasm" >"$tmp/out" 2>&1
rc=$?
if "$whirl" serve --help 2>/dev/null | grep -q perfmap; then
    [ $rc -eq 2 ] && grep -q "only perfmap" "$tmp/out" && ok || fail "serve -D bogus: exit $rc"
fi

echo "aot: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
