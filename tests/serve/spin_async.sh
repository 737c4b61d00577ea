# The component-model async Spin interfaces under `whirl serve` (sourced by
# run.sh: `run.sh spinasync`): guests/spin_async.wat, built here with jco's
# parser, calls spin:variables@3.0.0, spin:key-value@3.0.0, the *-async
# functions of spin:sqlite@3.1.0 and spin:postgres@4.2.0, spin:redis@3.0.0,
# spin:mqtt@3.0.0 and spin:mysql@3.0.0 with `canon lower ... async`, reads
# the streams of keys and rows and their futures, and answers 200 or 400 +
# the id of the first check that failed (see the guest). Servers come from
# spin_host.sh's start_* functions; a missing binary skips its tests with a
# printed count.

# async_check NAME ROUTE: the route must answer 200.
async_check() {
    check "$1" eq "$(req "$WORK/b" "$URL$2")" 200
}

# stalled_lookups N: N lookups of the stalling name have begun.
stalled_lookups() {
    for _ in $(seq 1 $EVENT_POLLS); do
        [ "$(grep -c 'stalls (WHIRL_TEST_DNS_STALL)' "$LOG")" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

spinasync_tests() {
    local G=$WORK/wasm/spin_async.wasm D=$WORK/async STALL_NAME=whirl-dns-stall.test
    if ! node "$SRC/../component/wat2component.mjs" "$WORK/wasm" "$SRC/guests/spin_async.wat" \
        >"$WORK/wat.log" 2>&1; then
        bad "building guests/spin_async.wat"; cat "$WORK/wat.log" >&2
        return
    fi
    local have_redis= have_mqtt= have_pg= have_mysql=
    if command -v redis-server >/dev/null; then
        start_redis && have_redis=1 || bad "redis-server did not start"
    else
        echo "SKIPPED: the spin:redis@3.0.0 test (1): redis-server is not installed" >&2
    fi
    if command -v mosquitto >/dev/null && command -v mosquitto_sub >/dev/null; then
        start_mqtt && have_mqtt=1 || bad "mosquitto did not start"
    else
        echo "SKIPPED: the spin:mqtt@3.0.0 tests (3): mosquitto is not installed" >&2
    fi
    if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 && command -v setpriv >/dev/null; then
        start_pg && have_pg=1 || bad "postgres did not start"
    else
        echo "SKIPPED: the spin:postgres@4.2.0 test (1): postgresql is not installed" >&2
    fi
    if command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null; then
        start_mysql && have_mysql=1 || bad "mariadbd did not start"
    else
        echo "SKIPPED: the spin:mysql@3.0.0 test (1): mariadb-server is not installed" >&2
    fi
    mkdir -p "$D"
    {
        cat <<TOML
spin_manifest_version = 2
[application]
name = "spinasync"
[variables]
kv_mode = { default = "k" }
[[trigger.http]]
route = "/kv"
component = "kv"
[[trigger.http]]
route = "/sql"
component = "sql"
[[trigger.http]]
route = "/denied"
component = "denied"
[[trigger.http]]
route = "/sql-ungranted"
component = "sql-ungranted"
[component.kv]
source = "$G"
key_value_stores = ["default"]
[component.kv.variables]
mode = "{{ kv_mode }}"
[component.sql]
source = "$G"
sqlite_databases = ["default"]
[component.sql.variables]
mode = "s"
[component.denied]
source = "$G"
[component.denied.variables]
mode = "d"
[component.sql-ungranted]
source = "$G"
[component.sql-ungranted.variables]
mode = "s"
TOML
        # One component per server: mode, address, and the host it may reach.
        local name mode addr host
        for name in redis mqtt pg mysql; do
            case $name in
            redis) [ -n "$have_redis" ] || continue
                mode=r addr="redis://127.0.0.1:$REDIS_PORT" host=$addr ;;
            mqtt) [ -n "$have_mqtt" ] || continue
                mode=m addr="mqtt://127.0.0.1:$MQTT_PORT?client_id=whirl-async" host="mqtt://127.0.0.1:$MQTT_PORT" ;;
            pg) [ -n "$have_pg" ] || continue
                mode=p addr="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" host="postgres://127.0.0.1:$PG_PORT" ;;
            mysql) [ -n "$have_mysql" ] || continue
                mode=y addr="mysql://root@127.0.0.1:$MY_PORT/mysql" host="mysql://127.0.0.1:$MY_PORT" ;;
            esac
            printf '[[trigger.http]]\nroute = "/%s"\ncomponent = "%s"\n' "$name" "$name"
            printf '[component.%s]\nsource = "%s"\nallowed_outbound_hosts = ["%s"]\n' "$name" "$G" "$host"
            printf '[component.%s.variables]\nmode = "%s"\naddr = "%s"\n' "$name" "$mode" "$addr"
        done
        # A statement that waits on the server until the test cancels it.
        if [ -n "$have_pg" ]; then
            printf '[[trigger.http]]\nroute = "/pgwait"\ncomponent = "pgwait"\n'
            printf '[component.pgwait]\nsource = "%s"\nallowed_outbound_hosts = ["postgres://127.0.0.1:%s"]\n' "$G" "$PG_PORT"
            printf '[component.pgwait.variables]\nmode = "q"\naddr = "host=127.0.0.1 port=%s user=postgres dbname=postgres"\nstmt = "SELECT pg_sleep(600)"\n' "$PG_PORT"
        fi
        # A server at a name whose lookup never answers (WHIRL_TEST_DNS_STALL
        # below), as behind a DNS server that drops queries.
        for name in redis pg mysql mqtt; do
            case $name in
            redis) [ -n "$have_redis" ] || continue
                mode=r addr="redis://$STALL_NAME:$REDIS_PORT" host=$addr ;;
            pg) [ -n "$have_pg" ] || continue
                mode=p addr="host=$STALL_NAME port=$PG_PORT user=postgres dbname=postgres" host="postgres://$STALL_NAME:$PG_PORT" ;;
            mysql) [ -n "$have_mysql" ] || continue
                mode=y addr="mysql://root@$STALL_NAME:$MY_PORT/mysql" host="mysql://$STALL_NAME:$MY_PORT" ;;
            mqtt) [ -n "$have_mqtt" ] || continue
                mode=m addr="mqtt://$STALL_NAME:$MQTT_PORT?client_id=whirl-dns" host="mqtt://$STALL_NAME:$MQTT_PORT" ;;
            esac
            printf '[[trigger.http]]\nroute = "/%sdns"\ncomponent = "%sdns"\n' "$name" "$name"
            printf '[component.%sdns]\nsource = "%s"\nallowed_outbound_hosts = ["%s"]\n' "$name" "$G" "$host"
            printf '[component.%sdns.variables]\nmode = "%s"\naddr = "%s"\n' "$name" "$mode" "$addr"
        done
        # A name looked up (off the worker) that reaches the server.
        if [ -n "$have_redis" ]; then
            printf '[[trigger.http]]\nroute = "/redisname"\ncomponent = "redisname"\n'
            printf '[component.redisname]\nsource = "%s"\nallowed_outbound_hosts = ["redis://localhost:%s"]\n' "$G" "$REDIS_PORT"
            printf '[component.redisname.variables]\nmode = "r"\naddr = "redis://localhost:%s"\n' "$REDIS_PORT"
        fi
        if [ -n "$have_pg" ]; then
            printf '[[trigger.http]]\nroute = "/pgname"\ncomponent = "pgname"\n'
            printf '[component.pgname]\nsource = "%s"\nallowed_outbound_hosts = ["postgres://localhost:%s"]\n' "$G" "$PG_PORT"
            printf '[component.pgname.variables]\nmode = "p"\naddr = "host=localhost port=%s user=postgres dbname=postgres"\n' "$PG_PORT"
        fi
    } >"$D/spin.toml"

    # One worker: a call waiting on a server must not hold it (pgwait below),
    # whose deadline also ends a statement left waiting.
    WHIRL_TEST_DNS_STALL=$STALL_NAME start_server spinasync --workers 1 --timeout 8s "$D/spin.toml" >/dev/null || return
    async_check "spin:key-value@3 and spin:variables@3: open, set, get, exists, get-keys stream and future, delete, access-denied, undefined, invalid-name" /kv
    check "spin:key-value@3: the default store's file" test -s "$D/.spin/sqlite_key_value.db"
    async_check "spin:sqlite@3.1 async: open, execute with parameters, changes, last-insert-rowid, rows stream and future, io error, access-denied" /sql
    # The guest's checks can fail: a database not granted fails check 31.
    check "spin:sqlite@3.1 async: a failed check shows in the status" eq "$(req "$WORK/b" "$URL/sql-ungranted")" 431
    async_check "async interfaces of a component granted nothing: access-denied, invalid-address, connection-failed" /denied
    check "denials logged" wait_for_log "component 'denied': outbound PostgreSQL denied"
    # The same guest twice at once: handles and streams stay per request.
    req "$WORK/b1" "$URL/kv" >"$WORK/s1" &
    local both=$!
    req "$WORK/b2" "$URL/sql" >"$WORK/s2"
    wait $both
    check "two requests at once" eq "$(cat "$WORK/s1") $(cat "$WORK/s2")" "200 200"
    [ -n "$have_redis" ] && async_check "spin:redis@3: open, set, get, del, incr" /redis
    if [ -n "$have_mqtt" ]; then
        stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p "$MQTT_PORT" -t whirl/async -C 1 -W 60 >"$WORK/sub.out" 2>&1 &
        local sub=$!
        for _ in $(seq 1 $EVENT_POLLS); do grep -q 'SUBACK' "$WORK/sub.out" && break; sleep 0.05; done
        async_check "spin:mqtt@3: open, publish" /mqtt
        wait $sub
        check "spin:mqtt@3: the subscriber saw the message" contains "$WORK/sub.out" "^hello async$"
    fi
    [ -n "$have_pg" ] && async_check "spin:postgres@4.2 async: open, execute, query with parameters, rows stream and future, query-failed" /pg
    if [ -n "$have_pg" ]; then
        # execute-async waiting on the server suspends the request: the one
        # worker answers another meanwhile; cancelled on the server, the
        # statement fails to the guest (417).
        req "$WORK/pw" "$URL/pgwait" >"$WORK/pw.status" &
        local pw=$!
        check "spin:postgres@4.2 execute-async: the statement reaches the server" pg_running 'SELECT pg_sleep(600)'
        check "spin:postgres@4.2 execute-async waiting: another request answered meanwhile (1 worker)" eq "$(req "$WORK/b" "$URL/kv")" 200
        check "spin:postgres@4.2 execute-async waiting: still waiting" kill -0 "$pw"
        pg_sql "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'" >/dev/null
        wait $pw
        check "spin:postgres@4.2 execute-async cancelled on the server: query-failed to the guest" eq "$(cat "$WORK/pw.status")" 417
        # Left waiting, it ends at the request's deadline (504), and the
        # statement is cancelled on the server.
        check "spin:postgres@4.2 execute-async past the deadline: 504" eq "$(req "$WORK/pw" "$URL/pgwait")" 504
        check "spin:postgres@4.2 execute-async past the deadline: cancelled on the server" pg_gone 'SELECT pg_sleep(600)'
    fi
    if [ -n "$have_redis$have_pg$have_mysql$have_mqtt" ]; then
        # A host name whose lookup never answers: the lookup runs off the
        # worker, so the one worker answers others meanwhile, and the
        # request ends at its deadline (504).
        local n=0 b waits=
        for b in redis pg mysql mqtt; do
            case $b in
            redis) [ -n "$have_redis" ] || continue ;;
            pg) [ -n "$have_pg" ] || continue ;;
            mysql) [ -n "$have_mysql" ] || continue ;;
            mqtt) [ -n "$have_mqtt" ] || continue ;;
            esac
            req "$WORK/d$b" "$URL/${b}dns" >"$WORK/d$b.status" &
            waits="$waits $b:$!"
            n=$((n + 1))
        done
        check "stalled host-name lookups: all begun ($n)" stalled_lookups $n
        check "stalled host-name lookups: another request answered meanwhile (1 worker)" eq "$(req "$WORK/b" "$URL/kv")" 200
        for b in $waits; do
            wait "${b#*:}"
            check "${b%%:*} open at a name whose lookup never answers: 504 at the deadline" eq "$(cat "$WORK/d${b%%:*}.status")" 504
        done
        check "after the stalled lookups: the server still answers" eq "$(req "$WORK/b" "$URL/kv")" 200
        [ -n "$have_redis" ] && async_check "spin:redis@3 at a host name looked up off the worker (localhost)" /redisname
        [ -n "$have_pg" ] && async_check "spin:postgres@4.2 at a host name looked up off the worker (localhost)" /pgname
    fi
    [ -n "$have_mysql" ] && async_check "spin:mysql@3: open, execute with parameters, query rows stream and future, query-failed" /mysql
    stop_server
    stop_redis
    stop_mqtt
    stop_pg
    stop_mysql
}
