#!/usr/bin/env bash
# tier=jit compiling a module in parts at once (src/jit/jit_parts.c):
#
#   tests/jit/parts.sh WHIRL parts_guest.wasm
#
# - with 1, 2 and 4 compile threads the guest prints what the interpreter
#   prints, and its trap's backtrace (frames across parts) is the
#   interpreter's;
# - `whirl compile` with 3 threads stores the parts (the .cwasm's native
#   object is a WHIRLPRT container of at least 2 objects) and the .cwasm
#   runs and traps the same; with 1 thread it stores one object;
# - a .cwasm whose part count or lengths are damaged is refused with an
#   error, never a crash (the file's checksum catches it first;
#   test_jit_object.c checks the container's own checks behind it).
# Prints "parts: N passed, M failed".
set -uo pipefail
whirl=$1
guest=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else fail "$what"; fi; }

ref=$("$whirl" run -C tier=interp "$guest")
check "the interpreter runs the guest" [ -n "$ref" ]
"$whirl" run -C tier=interp "$guest" trap 2>"$tmp/ref.err"
ref_rc=$?
check "the guest traps in the interpreter (exit $ref_rc)" [ "$ref_rc" -ne 0 ]
check "the interpreter's backtrace names fall and store_far" \
    grep -q "store_far" "$tmp/ref.err"

for threads in 1 2 4; do
    out=$(WHIRL_COMPILE_THREADS=$threads "$whirl" run -C tier=jit "$guest")
    check "$threads thread(s): output '$out' is the interpreter's '$ref'" [ "$out" = "$ref" ]
    WHIRL_COMPILE_THREADS=$threads "$whirl" run -C tier=jit "$guest" trap 2>"$tmp/jit.err"
    rc=$?
    check "$threads thread(s): the trap exits as in the interpreter ($rc, $ref_rc)" \
        [ "$rc" -eq "$ref_rc" ]
    check "$threads thread(s): the backtrace is the interpreter's" \
        cmp -s "$tmp/ref.err" "$tmp/jit.err"
    cmp -s "$tmp/ref.err" "$tmp/jit.err" || diff "$tmp/ref.err" "$tmp/jit.err" | head -20
done

# The native object's container header: count after the magic.
parts_in() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
at = data.find(b"WHIRLPRT")
print(struct.unpack_from("<I", data, at + 8)[0] if at >= 0 else 0)
PY
}
WHIRL_COMPILE_THREADS=3 "$whirl" compile "$guest" -o "$tmp/parts.cwasm"
check "whirl compile with 3 threads" [ -s "$tmp/parts.cwasm" ]
n=$(parts_in "$tmp/parts.cwasm")
check "the .cwasm holds the native code in parts ($n)" [ "$n" -ge 2 -a "$n" -le 3 ]
out=$("$whirl" run --allow-precompiled "$tmp/parts.cwasm")
check "the .cwasm in parts runs ('$out')" [ "$out" = "$ref" ]
"$whirl" run --allow-precompiled "$tmp/parts.cwasm" trap 2>"$tmp/cwasm.err"
check "the .cwasm in parts traps with the interpreter's backtrace" \
    cmp -s "$tmp/ref.err" "$tmp/cwasm.err"
WHIRL_COMPILE_THREADS=1 "$whirl" compile "$guest" -o "$tmp/one.cwasm"
n=$(parts_in "$tmp/one.cwasm")
check "with 1 thread the .cwasm holds one object" [ "$n" -eq 0 ]

# Damaged containers: the part count, then the first part's length.
damage() {
    python3 - "$tmp/parts.cwasm" "$tmp/bad.cwasm" "$1" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"WHIRLPRT")
if sys.argv[3] == "count":
    struct.pack_into("<I", data, at + 8, 200)
else:
    struct.pack_into("<Q", data, at + 16, 1 << 40)
open(sys.argv[2], "wb").write(data)
PY
}
for what in count length; do
    damage $what
    "$whirl" run --allow-precompiled "$tmp/bad.cwasm" >/dev/null 2>"$tmp/bad.err"
    rc=$?
    check "a damaged part $what is refused without a crash (exit $rc)" \
        [ "$rc" -ne 0 -a "$rc" -lt 128 ]
    check "the refusal says what is wrong" grep -qi "corrupt\|checksum\|damaged" "$tmp/bad.err"
    grep -qi "corrupt\|checksum\|damaged" "$tmp/bad.err" || head -3 "$tmp/bad.err"
done
echo "parts: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
