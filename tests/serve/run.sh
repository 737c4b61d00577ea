#!/bin/bash
# End-to-end tests of `whirl serve`: start the server on a free loopback
# port, talk to it with curl, check statuses, headers, bodies and the log.
#   run.sh wagi|spin|http WHIRL BUILD_DIR
# Prints "N passed, M failed" and exits non-zero if anything failed.
set -u
MODE=$1
WHIRL=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
BUILD=$(cd "$3" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PASSED=0
FAILED=0
SERVER_PID=
PORT=
LOG=

cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -KILL "$SERVER_PID" 2>/dev/null; fi
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

# start_server NAME ARGS... : runs `whirl serve --listen 127.0.0.1:0 ARGS`,
# waits for its "listening on" line and sets PORT, SERVER_PID and LOG.
start_server() {
    local name=$1; shift
    LOG=$WORK/$name.log
    "$WHIRL" serve --listen 127.0.0.1:0 "$@" 2>"$LOG" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 1 200); do
        PORT=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$LOG")
        [ -n "$PORT" ] && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
        sleep 0.05
    done
    if [ -z "$PORT" ]; then
        bad "$name: server did not start"; cat "$LOG" >&2
        SERVER_PID=
        return 1
    fi
    URL=http://127.0.0.1:$PORT
}

# stop_server: SIGTERM, then the exit status must be 0.
stop_server() {
    [ -n "$SERVER_PID" ] || return
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    check "graceful exit status" eq "$rc" 0
    # A server that died says why in its log (a sanitizer report, say).
    [ "$rc" = 0 ] || { echo "--- last lines of $LOG:"; tail -n 40 "$LOG"; } >&2
}

# req OUT ARGS... : curl with the status code on stdout and the body in OUT.
req() {
    local out=$1; shift
    curl -sS -o "$out" -w '%{http_code}' --max-time 60 "$@" 2>"$WORK/curl.err" || true
}

wait_for_log() { # wait_for_log PATTERN: the server flushes its log every 100 ms
    for _ in $(seq 1 100); do grep -q -- "$1" "$LOG" && return 0; sleep 0.05; done
    return 1
}

head -c 1048576 /dev/urandom >"$WORK/1m.bin"
head -c 2097152 /dev/urandom >"$WORK/2m.bin"
: >"$WORK/empty"

wagi_tests() {
    local G=$BUILD/wagi_test.wasm
    start_server wagi --wagi --max-body 1536K --metrics -W max-memory-size=16M "$G" || return

    # GET, 0-byte bodies, keep-alive.
    check "GET status" eq "$(req "$WORK/b" "$URL/hello")" 200
    check "GET body" contains "$WORK/b" "hello from wagi_test at '/hello'"
    check "POST 0 B" eq "$(req "$WORK/b" -X POST --data-binary @"$WORK/empty" -D "$WORK/h" "$URL/echo")" 200
    check "POST 0 B empty body" eq "$(wc -c <"$WORK/b")" 0
    check "POST 0 B CONTENT_LENGTH" contains "$WORK/h" "X-Content-Length: 0"
    curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' "$URL/a" "$URL/b" >"$WORK/nc" 2>/dev/null
    check "keep-alive reuses the connection" eq "$(tr '\n' ' ' <"$WORK/nc")" "1 0 "

    # 1 MiB in both directions, with Content-Length and chunked.
    check "POST 1 MiB" eq "$(req "$WORK/b" -X POST --data-binary @"$WORK/1m.bin" -D "$WORK/h" "$URL/echo")" 200
    check "POST 1 MiB echoed" cmp -s "$WORK/b" "$WORK/1m.bin"
    check "1 MiB response streamed chunked" contains "$WORK/h" "Transfer-Encoding: chunked"
    check "POST 1 MiB chunked" eq "$(req "$WORK/b" -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/1m.bin" -D "$WORK/h" "$URL/echo")" 200
    check "POST chunked echoed" cmp -s "$WORK/b" "$WORK/1m.bin"
    check "chunked: no CONTENT_LENGTH" contains "$WORK/h" "X-Content-Length: none"
    check "GET 1 MiB" eq "$(req "$WORK/b" "$URL/big?1024")" 200
    check "GET 1 MiB length" eq "$(wc -c <"$WORK/b")" 1048576
    check "100 Continue" eq "$(req "$WORK/b" -v -H 'Expect: 100-continue' --data-binary @"$WORK/1m.bin" "$URL/echo")" 200
    check "100 Continue sent" contains "$WORK/curl.err" "HTTP/1.1 100 Continue"

    # Headers round-trip; CGI variables.
    check "headers" eq "$(req "$WORK/b" -D "$WORK/h" -H 'X-Test-Alpha: one' -H 'X-Test-Beta: two words' "$URL/echo?q=1&r=2")" 200
    check "header alpha" contains "$WORK/h" "X-Echo-ALPHA: one"
    check "header beta" contains "$WORK/h" "X-Echo-BETA: two words"
    check "query" contains "$WORK/h" "X-Query: q=1&r=2"
    check "path info" contains "$WORK/h" "X-Path-Info: /echo"
    check "server port" contains "$WORK/h" "X-Server-Port: $PORT"
    req "$WORK/b" -H 'Proxy: http://evil' -H 'X-Dup: a' -H 'X-Dup: b' "$URL/env?x=%41" >/dev/null
    check "REQUEST_METHOD" contains "$WORK/b" "^REQUEST_METHOD=GET$"
    check "SERVER_PROTOCOL" contains "$WORK/b" "^SERVER_PROTOCOL=HTTP/1.1$"
    check "QUERY_STRING raw" contains "$WORK/b" "^QUERY_STRING=x=%41$"
    check "REMOTE_ADDR" contains "$WORK/b" "^REMOTE_ADDR=127.0.0.1$"
    check "GATEWAY_INTERFACE" contains "$WORK/b" "^GATEWAY_INTERFACE=CGI/1.1$"
    check "X_FULL_URL" contains "$WORK/b" "^X_FULL_URL=http://127.0.0.1:$PORT/env?x=%41$"
    check "repeated headers joined" contains "$WORK/b" "^HTTP_X_DUP=a, b$"
    check "no HTTP_PROXY" lacks "$WORK/b" "HTTP_PROXY"
    req "$WORK/b" "$URL/args?one+two%20three" >/dev/null
    check "argv from query" eq "$(tail -n 2 "$WORK/b" | tr '\n' '|')" "one|two three|"

    # Status, Location, HEAD.
    check "Status header" eq "$(req "$WORK/b" "$URL/status")" 404
    check "Location" eq "$(req "$WORK/b" -D "$WORK/h" "$URL/redirect")" 302
    check "Location header" contains "$WORK/h" "Location: /elsewhere"
    check "HEAD" eq "$(req "$WORK/b" -I "$URL/hello")" 200
    check "HEAD has Content-Length" contains "$WORK/b" "Content-Length: 3"

    # Limits: 413 (declared and chunked), 431.
    check "413 by Content-Length" eq "$(req "$WORK/b" --data-binary @"$WORK/2m.bin" "$URL/echo")" 413
    check "413 chunked" eq "$(req "$WORK/b" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/2m.bin" "$URL/echo")" 413
    local big
    big=$(head -c 40000 /dev/zero | tr '\0' a)
    check "431" eq "$(req "$WORK/b" -H "X-Big: $big" "$URL/hello")" 431

    # Guest failures: 500 without internals, server keeps serving.
    check "trap 500" eq "$(req "$WORK/b" "$URL/trap")" 500
    check "trap body has no guest output" lacks "$WORK/b" "must not be seen"
    check "trap body has no trap details" lacks "$WORK/b" "unreachable"
    check "after trap" eq "$(req "$WORK/b" "$URL/hello")" 200
    check "trap logged with backtrace" wait_for_log "trap: component 'wagi_test' (GET /trap).*backtrace: #0 main"
    check "exit 3 before headers" eq "$(req "$WORK/b" "$URL/exit3")" 500
    check "malformed CGI headers" eq "$(req "$WORK/b" "$URL/badhead")" 500
    check "memory limit refuses" eq "$(req "$WORK/b" "$URL/grow?64")" 200
    check "memory limit refused body" contains "$WORK/b" "refused"
    check "memory under limit" eq "$(req "$WORK/b" "$URL/grow?4")" 200
    check "memory under limit body" contains "$WORK/b" "allocated"

    # A bad request line is refused by the HTTP layer.
    exec 3<>/dev/tcp/127.0.0.1/"$PORT"
    printf 'NOT A REQUEST\r\n\r\n' >&3
    local line
    read -r -t 10 line <&3 || line=
    exec 3<&- 3>&-
    check "bad request line" eq "${line%%$'\r'}" "HTTP/1.1 400 Bad Request"

    # Metrics and access log.
    check "metrics" eq "$(req "$WORK/b" "$URL/.well-known/whirl/metrics")" 200
    check "metrics body" contains "$WORK/b" "^requests_total [0-9]"
    check "metrics traps" contains "$WORK/b" "^guest_traps_total 1$"
    check "access log" wait_for_log "GET /hello HTTP/1.1 200 33 "
    check "access log POST" wait_for_log "POST /echo HTTP/1.1 200 1048576 "

    # Graceful shutdown: a request in flight still gets its answer.
    req "$WORK/slow" "$URL/sleep?700" >"$WORK/slow.status" &
    local cpid=$!
    for _ in $(seq 1 100); do # until the server has it (metrics count it)
        curl -sS "$URL/.well-known/whirl/metrics" 2>/dev/null | grep -q '^requests_in_flight 1$' && break
        sleep 0.02
    done
    stop_server
    wait $cpid
    check "in-flight request finished at shutdown" eq "$(cat "$WORK/slow.status")" 200
    check "in-flight body" contains "$WORK/slow" "slept 700 ms"
    check "shutdown logged" contains "$LOG" "SIGTERM: shutting down"

    # Past the grace period a sleeping guest is ended: 504, exit status 0.
    start_server grace --wagi --grace 300ms --metrics "$G" || return
    req "$WORK/slow" "$URL/sleep?20000" >"$WORK/slow.status" &
    cpid=$!
    for _ in $(seq 1 100); do
        curl -sS "$URL/.well-known/whirl/metrics" 2>/dev/null | grep -q '^requests_in_flight 1$' && break
        sleep 0.02
    done
    stop_server
    wait $cpid
    check "request past the grace period ended" eq "$(cat "$WORK/slow.status")" 504
    check "grace period logged" contains "$LOG" "grace period over"

    # Deadlines: an endless handler gets 504 while others are served.
    start_server timeout --wagi --timeout 2s "$G" || return
    req "$WORK/loop" "$URL/loop" >"$WORK/loop.status" &
    cpid=$!
    sleep 0.2
    local good=0
    for i in 1 2 3 4 5; do
        [ "$(req "$WORK/b" "$URL/hello$i")" = 200 ] && good=$((good + 1))
    done
    check "others served during an endless handler" eq "$good" 5
    wait $cpid
    check "endless handler gets 504" eq "$(cat "$WORK/loop.status")" 504
    check "timeout logged" wait_for_log "timeout: component 'wagi_test' (GET /loop)"
    check "after timeout" eq "$(req "$WORK/b" "$URL/hello")" 200
    stop_server

    # An idle connection is closed after --io-timeout (read timeout).
    start_server idle --wagi --io-timeout 1s "$G" || return
    exec 3<>/dev/tcp/127.0.0.1/"$PORT"
    printf 'GET /hello HTTP/1.1\r\nHost: x\r\n' >&3 # and never the blank line
    local got rc=0
    read -r -t 20 got <&3 || rc=$? # 1: end of stream; above 128: 20 s went by
    exec 3<&- 3>&-
    check "idle connection closed" eq "$rc" 1
    check "alive after idle close" eq "$(req "$WORK/b" "$URL/hello")" 200
    stop_server

    # A burst larger than the pool: 503 with Retry-After, never a crash.
    start_server burst --wagi --workers 1 --max-queue 2 --queue-timeout 300ms "$G" || return
    local pids=()
    for i in $(seq 1 16); do
        curl -sS -o /dev/null -D "$WORK/burst$i.h" -w '%{http_code}' --max-time 60 \
            "$URL/sleep?150" >"$WORK/burst$i" 2>/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    local n200=0 n503=0 other=0
    for i in $(seq 1 16); do
        case $(cat "$WORK/burst$i") in
        200) n200=$((n200 + 1)) ;;
        503) n503=$((n503 + 1)); cp "$WORK/burst$i.h" "$WORK/h503" ;;
        *) other=$((other + 1)) ;;
        esac
    done
    echo "  burst of 16 on 1 worker: $n200 x 200, $n503 x 503, $other other" >&2
    check "burst: some served" test "$n200" -ge 1
    check "burst: some refused" test "$n503" -ge 1
    check "burst: only 200 and 503" eq "$other" 0
    [ -f "$WORK/h503" ] && check "503 has Retry-After" contains "$WORK/h503" "Retry-After: 1"
    check "alive after burst" eq "$(req "$WORK/b" "$URL/hello")" 200
    stop_server

    # Usage errors.
    "$WHIRL" serve --listen 127.0.0.1:0 "$G" 2>"$WORK/err"
    check "core module without --wagi" eq "$?" 1
    check "core module message" contains "$WORK/err" "add --wagi"
    "$WHIRL" serve --wagi --listen 127.0.0.1:0 "$WORK/missing.wasm" 2>"$WORK/err"
    check "missing file" eq "$?" 1
    "$WHIRL" serve --wagi --workers 0 "$G" 2>"$WORK/err"
    check "bad --workers" eq "$?" 2
}

spin_tests() {
    local D=$WORK/app
    mkdir -p "$D/static/sub"
    cp "$BUILD/wagi_test.wasm" "$BUILD/hello.wasm" "$D/"
    echo "static file" >"$D/static/sub/file.txt"
    echo "not matched" >"$D/static/sub/other.dat"
    cat >"$D/spin.toml" <<'EOF'
spin_manifest_version = 2

[application]
name = "test-app"
version = "1.0.0"
mystery = "unknown application key"

[[trigger.http]]
route = "/hello"
component = "hello"
executor = { type = "wagi" }

[[trigger.http]]
route = "/api/..."
component = "api"
executor = { type = "wagi" }

[[trigger.http]]
route = "/api/exact"
component = "hello"
executor = { type = "wagi" }

[[trigger.http]]
route = "/glob/..."
component = "globbed"
executor = { type = "wagi" }

[[trigger.http]]
route = "/..."
component = "api"
executor = { type = "wagi" }

[component.globbed]
source = "wagi_test.wasm"
files = ["static/**/*.txt"]

[component.hello]
source = "hello.wasm"

[component.api]
source = "wagi_test.wasm"
environment = { GREETING = "hi there", MODE = "test" }
files = [{ source = "static", destination = "/assets" }]
strange_key = 1
EOF
    start_server spin "$D/spin.toml" || return
    check "unknown key warned" contains "$LOG" "warning: .*mystery"
    check "unknown component key warned" contains "$LOG" "warning: .*strange_key"
    check "exact route" eq "$(req "$WORK/b" "$URL/hello")" 200
    check "exact route body" contains "$WORK/b" "Hello, world!"
    check "wildcard route" eq "$(req "$WORK/b" -D "$WORK/h" "$URL/api/echo")" 200
    check "wildcard path info" contains "$WORK/h" "X-Path-Info: /echo"
    check "wildcard script name" contains "$WORK/h" "X-Script-Name: /api"
    check "matched route" contains "$WORK/h" "X-Matched-Route: /api/..."
    check "exact beats wildcard" eq "$(req "$WORK/b" "$URL/api/exact")" 200
    check "exact beats wildcard body" contains "$WORK/b" "Hello, world!"
    check "catch-all" eq "$(req "$WORK/b" "$URL/other/echo")" 200
    check "catch-all body" contains "$WORK/b" "at '/other/echo'"
    check "segment boundary" eq "$(req "$WORK/b" "$URL/apix")" 200
    check "segment boundary routes to catch-all" contains "$WORK/b" "at '/apix'"
    req "$WORK/b" "$URL/api/env?z=1" >/dev/null
    check "environment" contains "$WORK/b" "^GREETING=hi there$"
    check "spin-path-info" contains "$WORK/b" "^HTTP_SPIN_PATH_INFO=/env$"
    check "spin-matched-route" contains "$WORK/b" "^HTTP_SPIN_MATCHED_ROUTE=/api/...$"
    check "spin-component-route" contains "$WORK/b" "^HTTP_SPIN_COMPONENT_ROUTE=/api$"
    check "spin-raw-component-route" contains "$WORK/b" "^HTTP_SPIN_RAW_COMPONENT_ROUTE=/api/...$"
    check "spin-base-path" contains "$WORK/b" "^HTTP_SPIN_BASE_PATH=/$"
    check "spin-full-url" contains "$WORK/b" "^HTTP_SPIN_FULL_URL=http://127.0.0.1:$PORT/api/env?z=1$"
    check "spin-client-addr" contains "$WORK/b" "^HTTP_SPIN_CLIENT_ADDR=127.0.0.1:[0-9]"
    # files: a directory mapping, and a glob staged at its relative path.
    check "files mapping" eq "$(req "$WORK/b" "$URL/api/file?/assets/sub/file.txt")" 200
    check "files mapping content" contains "$WORK/b" "^static file$"
    check "files glob" eq "$(req "$WORK/b" "$URL/glob/file?/static/sub/file.txt")" 200
    check "files glob content" contains "$WORK/b" "^static file$"
    check "files glob leaves out the rest" eq "$(req "$WORK/b" "$URL/glob/file?/static/sub/other.dat")" 404
    check "files are read-only mounts, nothing else" eq "$(req "$WORK/b" "$URL/api/file?/etc/passwd")" 404
    stop_server

    # Manifest errors name the problem.
    printf 'spin_manifest_version = 2\n[[trigger.http]]\nroute = "/x"\ncomponent = "nope"\n' >"$D/bad.toml"
    "$WHIRL" serve --listen 127.0.0.1:0 "$D/bad.toml" 2>"$WORK/err"
    check "unknown component refused" eq "$?" 1
    check "unknown component named" contains "$WORK/err" "nope"
    printf 'spin_manifest_version = 2\n[[trigger.http\n' >"$D/syntax.toml"
    "$WHIRL" serve --listen 127.0.0.1:0 "$D/syntax.toml" 2>"$WORK/err"
    check "syntax error refused" eq "$?" 1
    check "syntax error has a line" contains "$WORK/err" "line 2"
    printf 'spin_manifest_version = 1\n' >"$D/v1.toml"
    "$WHIRL" serve --listen 127.0.0.1:0 "$D/v1.toml" 2>"$WORK/err"
    check "version 1 refused" eq "$?" 1
}

http_tests() {
    # The JS components are built now (componentize-js, ~30 s each the
    # first time; cached in BUILD_DIR/js).
    if ! bash "$SRC/js/build.sh" "$BUILD/js" >"$WORK/js.log" 2>&1; then
        bad "building the JS components"; tail -20 "$WORK/js.log" >&2
        return
    fi
    local T=$BUILD/js/test.component.wasm H=$BUILD/js/hello.component.wasm
    start_server http --timeout 5s --max-body 1536K "$T" || return
    check "js GET" eq "$(req "$WORK/b" "$URL/x")" 200
    check "js GET body" contains "$WORK/b" "hello from test.js at /x"
    check "js POST 0 B" eq "$(req "$WORK/b" -D "$WORK/h" --data-binary @"$WORK/empty" "$URL/echo")" 200
    check "js POST 0 B length" contains "$WORK/h" "x-body-length: 0"
    check "js POST 1 MiB" eq "$(req "$WORK/b" --data-binary @"$WORK/1m.bin" "$URL/echo")" 200
    check "js POST 1 MiB echoed" cmp -s "$WORK/b" "$WORK/1m.bin"
    check "js POST chunked" eq "$(req "$WORK/b" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/1m.bin" "$URL/echo")" 200
    check "js POST chunked echoed" cmp -s "$WORK/b" "$WORK/1m.bin"
    check "js GET 1 MiB streamed" eq "$(req "$WORK/b" -D "$WORK/h" "$URL/big?1024")" 200
    check "js GET 1 MiB length" eq "$(wc -c <"$WORK/b")" 1048576
    check "js GET 1 MiB chunked" contains "$WORK/h" "Transfer-Encoding: chunked"
    check "js headers" eq "$(req "$WORK/b" -D "$WORK/h" -H 'X-Test-Alpha: one' -H 'X-Test-Beta: two words' --data-binary x "$URL/echo")" 200
    check "js header alpha" contains "$WORK/h" "x-echo-alpha: one"
    check "js header beta" contains "$WORK/h" "x-echo-beta: two words"
    check "js status and header" eq "$(req "$WORK/b" -D "$WORK/h" "$URL/status")" 418
    check "js custom header" contains "$WORK/h" "x-custom: yes"
    check "js HEAD" eq "$(req "$WORK/b" -I "$URL/x")" 200
    check "js 413" eq "$(req "$WORK/b" --data-binary @"$WORK/2m.bin" "$URL/echo")" 413
    check "js outbound HTTP denied" eq "$(req "$WORK/b" "$URL/fetch")" 502
    check "js outbound denial logged" wait_for_log "outbound HTTP request: denied"
    check "js exception gives 500" eq "$(req "$WORK/b" "$URL/throw")" 500
    check "js 500 has no guest details" lacks "$WORK/b" "boom"
    check "js after exception" eq "$(req "$WORK/b" "$URL/x")" 200
    check "js request info" eq "$(req "$WORK/b" "$URL/info?k=v")" 200
    check "js spin-full-url" contains "$WORK/b" "^spin-full-url=http://127.0.0.1:$PORT/info?k=v$"
    check "js spin-client-addr" contains "$WORK/b" "^spin-client-addr=127.0.0.1:"
    req "$WORK/loop" "$URL/loop" >"$WORK/loop.status" &
    local cpid=$! good=0
    sleep 0.2
    for i in 1 2 3; do
        [ "$(req "$WORK/b" "$URL/ok$i")" = 200 ] && good=$((good + 1))
    done
    check "js others served during an endless handler" eq "$good" 3
    wait $cpid
    check "js endless handler gets 504" eq "$(cat "$WORK/loop.status")" 504
    stop_server

    # Two components behind Spin's routes.
    local D=$WORK/jsapp
    mkdir -p "$D"
    cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "js-app"
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/api/..."
component = "api"
[component.hello]
source = "$H"
[component.api]
source = "$T"
TOML
    start_server jsapp "$D/spin.toml" || return
    check "js route exact" eq "$(req "$WORK/b" "$URL/hello")" 200
    check "js route exact body" contains "$WORK/b" "Hello, world!"
    check "js route wildcard" eq "$(req "$WORK/b" "$URL/api/v1/info")" 200
    check "js spin-path-info" contains "$WORK/b" "^spin-path-info=/v1/info$"
    check "js spin-matched-route" contains "$WORK/b" "^spin-matched-route=/api/...$"
    check "js spin-component-route" contains "$WORK/b" "^spin-component-route=/api$"
    check "js spin-raw-component-route" contains "$WORK/b" "^spin-raw-component-route=/api/...$"
    check "js spin-base-path" contains "$WORK/b" "^spin-base-path=/$"
    check "js no route" eq "$(req "$WORK/b" "$URL/other")" 404
    stop_server
}

case $MODE in
wagi) wagi_tests ;;
spin) spin_tests ;;
http) http_tests ;;
*) echo "usage: run.sh wagi|spin|http WHIRL BUILD_DIR" >&2; exit 2 ;;
esac
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
