#!/bin/bash
# Outbound HTTP (wasi:http/outgoing-handler) end to end: upstream servers
# started here on loopback (upstream.py: plain and TLS, with a certificate
# made now by openssl), a componentize-js handler that fetch()es them
# (js/outbound.js) under `whirl serve`, and the client alone
# (test_outbound: error codes, timeouts, trailers).
#   outbound.sh WHIRL BUILD_DIR TEST_OUTBOUND [client|e2e]
# client: only the client alone (no JS, no whirl; also run under TSan);
# e2e: only whirl serve and whirl run; default both.
# Prints "N passed, M failed" and exits non-zero if anything failed.
set -u
MODE=${4:-all}
WHIRL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BUILD=$(cd "$2" && pwd)
CLIENT_TEST=$3
SRC=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PASSED=0
FAILED=0
SERVER_PID=
UP_PID=
LOG=

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null; fi
    exec 8>&- # the upstream ends when its stdin closes
    if [ -n "$UP_PID" ]; then wait "$UP_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); }
bad() { FAILED=$((FAILED + 1)); echo "FAILED: $*" >&2; }
check() { # check NAME CONDITION...
    local name=$1; shift
    if "$@"; then ok; else bad "$name"; fi
}
eq() { [ "$1" = "$2" ] || { echo "  got '$1', expected '$2'" >&2; return 1; }; }
contains() { grep -q -- "$2" "$1" || { echo "  '$2' not in $1:" >&2; head -c 2000 "$1" >&2; return 1; }; }
lacks() { ! grep -q -- "$2" "$1" || { echo "  '$2' unexpectedly in $1" >&2; return 1; }; }

# Waiting is for events (a line in a file), polled with a generous cap.
EVENT_POLLS=1200 # x 0.05 s: at most a minute
wait_for_line() { # wait_for_line FILE PATTERN
    for _ in $(seq 1 $EVENT_POLLS); do grep -q -- "$2" "$1" && return 0; sleep 0.05; done
    echo "  '$2' never appeared in $1" >&2
    return 1
}
wait_for_log() { wait_for_line "$LOG" "$1"; }

start_server() { # start_server NAME ARGS...
    local name=$1; shift
    LOG=$WORK/$name.log
    "$WHIRL" serve --listen 127.0.0.1:0 "$@" 2>"$LOG" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 1 $EVENT_POLLS); do
        PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG" 2>/dev/null)
        [ -n "$PORT" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        bad "$name: server did not start"; cat "$LOG" >&2
        SERVER_PID=
        return 1
    fi
    URL=http://127.0.0.1:$PORT
}

stop_server() {
    [ -n "$SERVER_PID" ] || return
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    check "graceful exit status" eq "$rc" 0
    [ "$rc" = 0 ] || { echo "--- last lines of $LOG:"; tail -n 40 "$LOG"; } >&2
}

req() { # req OUT ARGS... : the status on stdout, the body in OUT
    local out=$1; shift
    curl -sS -o "$out" -w '%{http_code}' --max-time 60 "$@" 2>"$WORK/curl.err" || true
}

# ---- fixtures ----
if [ "$MODE" != client ] && ! bash "$SRC/js/build.sh" "$BUILD/js" >"$WORK/js.log" 2>&1; then
    bad "building the JS components"; tail -20 "$WORK/js.log" >&2
    echo "$PASSED passed, $FAILED failed"; exit 1
fi
C=$BUILD/js/outbound.component.wasm
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 1 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    >"$WORK/openssl.log" 2>&1 || { bad "openssl req"; cat "$WORK/openssl.log" >&2; }
mkfifo "$WORK/up.in"
python3 "$SRC/upstream.py" "$WORK/cert.pem" "$WORK/key.pem" <"$WORK/up.in" >"$WORK/up.out" 2>&1 &
UP_PID=$!
exec 8>"$WORK/up.in"
if ! wait_for_line "$WORK/up.out" "^ports "; then
    bad "upstream did not start"; cat "$WORK/up.out" >&2
    echo "$PASSED passed, $FAILED failed"; exit 1
fi
P=$(sed -n 's/^ports http=\([0-9]*\) .*/\1/p' "$WORK/up.out")
T=$(sed -n 's/^ports .* https=\([0-9]*\)/\1/p' "$WORK/up.out")
UP=http://127.0.0.1:$P
# A port nobody listens on: bound, then closed.
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import string; print("abcdefghijklmnop" * 65536, end="")' >"$WORK/1m.txt"
count() { curl -sS --max-time 60 "$UP/count"; }

# ---- the client alone ----
if [ "$MODE" != e2e ]; then
    if "$CLIENT_TEST" "$P" "$T" "$CLOSED" "$WORK/cert.pem" >"$WORK/client.out" 2>&1; then
        ok
    else
        bad "test_outbound (the client alone)"
    fi
    cat "$WORK/client.out"
fi
if [ "$MODE" = client ]; then
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit
fi

# ---- the error-code case numbers the host uses, against the WIT ----
ROOT=$(cd "$SRC/../.." && pwd)
if python3 "$SRC/error_codes.py" \
    "$SRC/js/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12/wasi-http/package.wit" \
    "$ROOT/src/serve/outbound.h" "$ROOT/src/serve/wasihttp.h" "$ROOT/src/serve/wasihttp_out.c" \
    >"$WORK/codes.out" 2>&1; then ok; else bad "error-code numbers"; fi
cat "$WORK/codes.out"

# ---- -S allow-http rules ----
start_server cli --timeout 3s -S "allow-http=$UP" -S "allow-http=https://localhost:$T" \
    -S "http-ca=$WORK/cert.pem" "$C" || exit 1
check "allowed GET" eq "$(req "$WORK/b" "$URL/get?u=$UP/hello")" 200
check "allowed GET status" contains "$WORK/b" "^status=200$"
check "allowed GET header" contains "$WORK/b" "^x-upstream=yes$"
check "allowed GET body" contains "$WORK/b" "^body=hello from upstream$"
check "request headers sent" eq "$(req "$WORK/b" "$URL/get?u=$UP/headers")" 200
check "request header x-test" contains "$WORK/b" "x-test=yes host=127.0.0.1:$P method=GET"
check "TLS GET (extra CA)" eq "$(req "$WORK/b" "$URL/get?u=https://localhost:$T/hello")" 200
check "TLS GET body" contains "$WORK/b" "^body=hello from upstream$"
check "1 MiB response streamed through" eq "$(req "$WORK/b" "$URL/pipe?u=$UP/stream?n=1024")" 200
check "1 MiB response length" eq "$(wc -c <"$WORK/b")" 1048576
check "1 MiB response bytes" eq "$(tr -d y <"$WORK/b" | wc -c)" 0
check "chunked response with trailers" eq "$(req "$WORK/b" "$URL/pipe?u=$UP/stream?n=3%26trailers=1")" 200
check "chunked response with trailers length" eq "$(wc -c <"$WORK/b")" 3072
check "1 MiB request body streamed" eq "$(req "$WORK/b" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/1m.txt" "$URL/post?u=$UP/echo")" 200
check "1 MiB request body arrived" contains "$WORK/b" "^x-got-length=1048576$"
check "request body header" contains "$WORK/b" "^x-got-test=posted$"
check "redirect not followed" eq "$(req "$WORK/b" "$URL/get?u=$UP/redirect")" 200
check "redirect status seen" contains "$WORK/b" "^status=302$"
check "redirect location seen" contains "$WORK/b" "^location=/hello$"
check "slow upstream within the deadline" eq "$(req "$WORK/b" "$URL/get?u=$UP/slow?ms=300")" 200
check "slow upstream body" contains "$WORK/b" "^body=slow answer$"
check "reset by upstream: 502" eq "$(req "$WORK/b" "$URL/get?u=$UP/reset")" 502
check "reset by upstream: fetch failed" contains "$WORK/b" "fetch failed"
# Error codes with payloads reach the guest (DNS-error's record, the header
# section size's option): fetch fails, nothing traps.
check "huge response head: 502" eq "$(req "$WORK/b" "$URL/get?u=$UP/bigheaders")" 502
check "huge response head: fetch failed" contains "$WORK/b" "fetch failed"
before=$(count)
check "denied: other port" eq "$(req "$WORK/b" "$URL/get?u=http://127.0.0.1:$T/hello")" 502
check "denied: other scheme" eq "$(req "$WORK/b" "$URL/get?u=https://127.0.0.1:$P/hello")" 502
check "denied again: other port" eq "$(req "$WORK/b" "$URL/get?u=http://127.0.0.1:$T/hello")" 502
check "denied: self without a rule" eq "$(req "$WORK/b" "$URL/get?u=http://self/hello")" 502
check "denied requests never left" eq "$(count)" "$((before + 1))" # + the first count
check "denial logged" wait_for_log "request to http://127.0.0.1:$T: denied"
check "denial of self logged" wait_for_log "request to self (the app itself): denied"
req "$WORK/b" "$URL/marker-after-denials" >/dev/null
wait_for_log "GET /marker-after-denials" >/dev/null
check "denial logged once per host" eq "$(grep -c "request to http://127.0.0.1:$T: denied" "$LOG")" 1
# Many requests at once: served by the one I/O thread, at most 64 held by
# one instance (the others fail with connection-limit-reached).
check "20 fetches at once" eq "$(req "$WORK/b" "$URL/many?n=20&u=$UP/hello")" 200
check "20 fetches at once: all answered" contains "$WORK/b" "^ok=20 failed=0$"
check "100 fetches at once" eq "$(req "$WORK/b" "$URL/many?n=100&u=$UP/hello")" 200
check "100 fetches at once: 64 held, the rest refused" contains "$WORK/b" "^ok=64 failed=36$"
# A slow upstream cannot outlive the guest's deadline: 504 at 3 s.
check "hanging upstream: 504 at the deadline" eq "$(req "$WORK/b" "$URL/get?u=$UP/hang")" 504 ||
    cat "$WORK/b" >&2
check "hanging upstream: timeout logged" wait_for_log "ran past its 3.000s deadline"
check "after the deadline" eq "$(req "$WORK/b" "$URL/get?u=$UP/hello")" 200
check "no guest trapped" lacks "$LOG" "trap:"
stop_server

# ---- shutdown: a guest waiting on an upstream gives up after the grace ----
start_server grace --timeout 60s --grace 300ms -S "allow-http=$UP" "$C" || exit 1
hangs=$(grep -c "hang started" "$WORK/up.out")
req "$WORK/hang" "$URL/get?u=$UP/hang" >"$WORK/hang.status" &
cpid=$!
more_hangs() { [ "$(grep -c "hang started" "$WORK/up.out")" -gt "$hangs" ]; }
reached=1
for _ in $(seq 1 $EVENT_POLLS); do more_hangs && { reached=0; break; }; sleep 0.05; done
check "shutdown: the hanging request reached upstream" eq "$reached" 0
stop_server
wait $cpid
check "shutdown: the waiting guest ended (504)" eq "$(cat "$WORK/hang.status")" 504

# ---- TLS without the extra CA: the certificate is refused ----
start_server noca --timeout 5s -S "allow-http=https://localhost:$T" "$C" || exit 1
check "TLS without the CA: 502" eq "$(req "$WORK/b" "$URL/get?u=https://localhost:$T/hello")" 502
stop_server

# ---- spin.toml: allowed_outbound_hosts, wildcards, self ----
D=$WORK/app
mkdir -p "$D"
cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "outbound-test"
[[trigger.http]]
route = "/api/..."
component = "api"
[[trigger.http]]
route = "/hello"
component = "api"
[[trigger.http]]
route = "/closed/..."
component = "closed"
[component.api]
source = "$C"
allowed_outbound_hosts = ["http://127.0.0.1:*", "http://*.localhost:$P", "http://*.invalid", "self"]
[component.closed]
source = "$C"
TOML
start_server spin --timeout 5s "$D/spin.toml" || exit 1
check "spin: allowed by port wildcard" eq "$(req "$WORK/b" "$URL/api/get?u=$UP/hello")" 200
check "spin: body" contains "$WORK/b" "^body=hello from upstream$"
check "spin: self" eq "$(req "$WORK/b" "$URL/api/get?u=http://self/hello")" 200
check "spin: self answered by the app" contains "$WORK/b" "^body=hello from outbound.js at /hello$"
check "spin: self header" contains "$WORK/b" "^x-self=yes$"
check "spin: DNS failure" eq "$(req "$WORK/b" "$URL/api/get?u=http://nowhere.invalid/")" 502
check "spin: DNS failure: fetch failed" contains "$WORK/b" "fetch failed"
check "spin: refused port (allowed, nobody listens)" eq "$(req "$WORK/b" "$URL/api/get?u=http://127.0.0.1:$CLOSED/")" 502
# curl resolves *.localhost to the loopback address itself.
check "spin: host wildcard allows" eq "$(req "$WORK/b" "$URL/api/get?u=http://api.localhost:$P/headers")" 200
check "spin: host wildcard reached upstream" contains "$WORK/b" "host=api.localhost:$P"
check "spin: host wildcard does not match the bare name" eq "$(req "$WORK/b" "$URL/api/get?u=http://localhost:$P/hello")" 502
check "spin: bare name denied" wait_for_log "component 'api' made an outbound HTTP request to http://localhost:$P: denied"
check "spin: component without rules denied" eq "$(req "$WORK/b" "$URL/closed/get?u=$UP/hello")" 502
check "spin: its denial logged" wait_for_log "component 'closed' made an outbound HTTP request to http://127.0.0.1:$P: denied"
req "$WORK/b" "$URL/api/marker" >/dev/null
wait_for_log "GET /api/marker" >/dev/null
check "spin: the refused port was not a denial" lacks "$LOG" "request to http://127.0.0.1:$CLOSED: denied"
check "spin: the wildcard name was not denied" lacks "$LOG" "api.localhost:$P: denied"
check "spin: no guest trapped" lacks "$LOG" "trap:"
stop_server

# ---- self with every worker busy: answered in-process, on a thread of its own ----
start_server self1 --timeout 20s --workers 1 --max-queue 0 "$D/spin.toml" || exit 1
check "self, one worker, no queue" eq "$(req "$WORK/b" "$URL/api/get?u=http://self/hello")" 200
check "self, one worker: answered by the app" contains "$WORK/b" "^body=hello from outbound.js at /hello$"
inner=$(python3 -c 'import urllib.parse as u; print(u.quote("http://self/api/get?u=http://self/hello", safe=""))')
check "self within self, one worker" eq "$(req "$WORK/b" "$URL/api/get?u=$inner")" 200
check "self within self: the innermost answer" contains "$WORK/b" "body=hello from outbound.js at /hello"
inner=$(python3 -c 'import sys, urllib.parse as u; print(u.quote(sys.argv[1], safe=""))' "http://self/api/post?u=$UP/echo")
check "self POST of 1 MiB, one worker" eq "$(req "$WORK/b" --data-binary @"$WORK/1m.txt" "$URL/api/post?u=$inner")" 200
check "self POST: the body went through" test "$(grep -o abcdefghijklmnop "$WORK/b" | wc -l)" -ge 65536
check "self: the access log names the client" wait_for_log "self GET /hello"
# Only the server's own process may use the self socket: another gets no answer.
outsider() {
    python3 - "$SERVER_PID" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect("\0whirl-serve-%s-0" % sys.argv[1])
try:
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
    sys.exit(0 if s.recv(100) == b"" else 1)
except (BrokenPipeError, ConnectionResetError):
    sys.exit(0)  # closed already
PY
}
check "self socket: another process is closed on" outsider
check "self: no 503" lacks "$LOG" " 503 "
check "self: no guest trapped" lacks "$LOG" "trap:"
stop_server

# ---- whirl run: a wasi:cli command component fetch()ing ----
R=$BUILD/js/run_fetch.component.wasm
"$WHIRL" run -S "allow-http=$UP" "$R" "$UP/hello" >"$WORK/run.out" 2>"$WORK/run.err"
check "run: exit status 0" eq "$?" 0
check "run: allowed GET" contains "$WORK/run.out" "^status=200$"
check "run: body" contains "$WORK/run.out" "^body=hello from upstream$"
"$WHIRL" run -S "allow-http=https://localhost:$T,http-ca=$WORK/cert.pem" "$R" \
    "https://localhost:$T/hello" >"$WORK/run.out" 2>"$WORK/run.err"
check "run: TLS with the extra CA" contains "$WORK/run.out" "^body=hello from upstream$"
"$WHIRL" run "$R" "$UP/hello" >"$WORK/run.out" 2>"$WORK/run.err"
check "run: denied by default" contains "$WORK/run.out" "^fetch failed"
check "run: denial logged" contains "$WORK/run.err" "request to http://127.0.0.1:$P: denied"
"$WHIRL" run -W timeout=1s -S "allow-http=$UP" "$R" "$UP/hang" >"$WORK/run.out" 2>"$WORK/run.err"
check "run: hanging upstream ends at the deadline (142)" eq "$?" 142
"$WHIRL" run -S allow-http=ftp://x "$R" "$UP/hello" >"$WORK/run.out" 2>"$WORK/run.err"
check "run: bad rule is a usage error" eq "$?" 2
check "run: bad rule named" contains "$WORK/run.err" "outbound host rule 'ftp://x'"

# ---- a bad rule is refused at load, naming it ----
sed -i 's|"self"\]|"self", "ftp://x"]|' "$D/spin.toml"
"$WHIRL" serve --listen 127.0.0.1:0 "$D/spin.toml" >"$WORK/bad.out" 2>&1
check "bad rule: exit status 1" eq "$?" 1
check "bad rule: named" contains "$WORK/bad.out" "outbound host rule 'ftp://x'"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
