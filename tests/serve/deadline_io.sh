#!/bin/bash
# `whirl serve`: requests whose guests block in WASI preview-1 I/O end at
# the request's deadline (issue 13, item 1). Two workers, two requests
# blocked reading a fifo in a pre-open (one opened read-write, so that a
# writer exists: the guest itself; one read-only in a read-only pre-open,
# where nobody ever writes) must both get 504, and a later request must be
# served: before the fix the two workers waited forever and every later
# request got 503.
#   deadline_io.sh WHIRL GUEST_DIR   (GUEST_DIR holds block.wasm from tests/guests)
# Prints "N passed, M failed". Bounds: the deadline is 1 s; each answer must
# come within curl's --max-time of 60 s (a loaded 2-core machine is slow, a
# hang is endless), so no assertion depends on timing tighter than that.
set -u
WHIRL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
GUESTS=$(cd "$2" && pwd)
WORK=$(mktemp -d)
PASSED=0
FAILED=0
SERVER_PID=
CURLS=()

cleanup() {
    for p in "${CURLS[@]}"; do kill "$p" 2>/dev/null; done
    if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAILED: $*" >&2; }
check() { local name=$1; shift; if "$@"; then ok; else bad "$name"; fi; }
eq() { [ "$1" = "$2" ] || { echo "  got '$1', expected '$2'" >&2; return 1; }; }

mkdir -p "$WORK/d"
mkfifo "$WORK/d/f1" "$WORK/d/f2" "$WORK/d/f3" "$WORK/d/f4"
LOG=$WORK/serve.log
"$WHIRL" serve --listen 127.0.0.1:0 --wagi --timeout 1s --workers 2 \
    --dir "$WORK/d::/d" --dir "$WORK/d::/ro:ro" "$GUESTS/block.wasm" 2>"$LOG" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 400); do
    PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$PORT" ]; then
    bad "server did not start"; cat "$LOG" >&2
    echo "serve deadline-io: $PASSED passed, $FAILED failed"
    exit 1
fi
URL=http://127.0.0.1:$PORT

# req OUT QUERY: the status code of GET /?QUERY on stdout, the body in OUT.
req() {
    curl -sS -o "$1" -w '%{http_code}' --max-time 60 "$URL/?$2" 2>>"$WORK/curl.err" || true
}

# Both workers blocked at once.
req "$WORK/b1" "rw-read+/d/f1" >"$WORK/s1" &
CURLS+=($!)
req "$WORK/b2" "read-fifo+/ro/f2" >"$WORK/s2" &
CURLS+=($!)
wait "${CURLS[@]}"
CURLS=()
check "fifo opened read-write, blocked read: 504" eq "$(cat "$WORK/s1")" 504
check "fifo in a read-only pre-open, blocked read: 504" eq "$(cat "$WORK/s2")" 504
check "a later request is served" eq "$(req "$WORK/b3" hello)" 200
check "a later request's body" eq "$(cat "$WORK/b3")" "hello from block"
# Blocked writes too: the guest fills the fifo it opened read-write.
req "$WORK/b4" "rw-write+/d/f3" >"$WORK/s4" &
CURLS+=($!)
req "$WORK/b5" "rw-read+/d/f4" >"$WORK/s5" &
CURLS+=($!)
wait "${CURLS[@]}"
CURLS=()
check "fifo filled until it blocks: 504" eq "$(cat "$WORK/s4")" 504
check "blocked read again: 504" eq "$(cat "$WORK/s5")" 504
check "served after the second pair" eq "$(req "$WORK/b6" hello)" 200

kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PID=
check "graceful exit status" eq "$rc" 0
[ "$rc" = 0 ] || tail -n 40 "$LOG" >&2
if grep -qE 'Sanitizer|runtime error:' "$LOG"; then bad "sanitizer report"; tail -n 40 "$LOG" >&2; fi

echo "serve deadline-io: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
