# Spin's host interfaces under `whirl serve` (sourced by run.sh: `run.sh
# spinhost`): a Spin app in JS (js/spinhost.js, built with componentize-js
# against js/spin-wit/) using variables, key-value, SQLite, wasi:config,
# wasi:keyvalue, llm and outbound Redis, MQTT, PostgreSQL and MySQL, with the
# default stores, a runtime config file, and real servers this script starts
# on loopback ports (redis-server, mosquitto, an initdb cluster, mariadbd);
# a missing server binary skips its tests with a printed count.

# free_port: a loopback TCP port free right now (a server started on it may
# still lose a race, hence the retries of the start_* functions).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready PID LOG PATTERN...: waits until LOG holds every PATTERN (0), or
# until PID has exited or the polls run out (1).
wait_ready() {
    local pid=$1 log=$2 p all
    shift 2
    for _ in $(seq 1 $EVENT_POLLS); do
        all=1
        for p in "$@"; do grep -q -- "$p" "$log" || { all=; break; }; done
        [ -n "$all" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

PG_PID=
PG_DIR=
stop_pg() {
    [ -n "$PG_PID" ] || return 0
    kill -TERM "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
    PG_PID=
}

# start_pg: a PostgreSQL cluster made with initdb in a fresh directory,
# serving on a free loopback port (PG_PORT). PostgreSQL refuses to run as
# root: then it runs as the postgres user.
start_pg() {
    local bin as=()
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d /tmp/whirl-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$PG_DIR"
        as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    fi
    "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1 || {
        echo "  initdb failed:" >&2; cat "$WORK/initdb.log" >&2; return 1; }
    # TLS too when the test made a certificate (PG_TLS=1): the server wants
    # its key private and its own.
    local tls=()
    PG_TLS=
    if [ -s "$WORK/tls-cert.pem" ]; then
        cp "$WORK/tls-cert.pem" "$PG_DIR/data/server.crt"
        cp "$WORK/tls-key.pem" "$PG_DIR/data/server.key"
        chmod 600 "$PG_DIR/data/server.key"
        [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR/data/server.crt" "$PG_DIR/data/server.key"
        tls=(-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key)
        PG_TLS=1
    fi
    local log=$WORK/postgres.log
    for _ in 1 2 3; do
        PG_PORT=$(free_port)
        : >"$log"
        "${as[@]}" "$bin/postgres" -D "$PG_DIR/data" -h 127.0.0.1 -p "$PG_PORT" -k "$PG_DIR" "${tls[@]}" >"$log" 2>&1 &
        PG_PID=$!
        wait_ready "$PG_PID" "$log" 'ready to accept connections' && return 0
        stop_pg
    done
    echo "  postgres did not start:" >&2
    cat "$log" >&2
    return 1
}

# pg_sql SQL: runs SQL on the test's PostgreSQL server (psql, as postgres).
pg_sql() {
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atc "$1" 2>/dev/null
}

# pg_running QUERY: waits until a session of the server runs QUERY (0), or
# the polls run out (1).
pg_running() {
    local q=${1//\'/\'\'}
    for _ in $(seq 1 $EVENT_POLLS); do
        [ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query = '$q' AND state = 'active'")" = 1 ] && return 0
        sleep 0.05
    done
    echo "  '$1' never ran on the server" >&2
    return 1
}

# pg_gone QUERY: waits until no session of the server runs QUERY (0), or
# the polls run out (1).
pg_gone() {
    local q=${1//\'/\'\'}
    for _ in $(seq 1 $EVENT_POLLS); do
        [ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query = '$q' AND state = 'active'")" = 0 ] && return 0
        sleep 0.05
    done
    echo "  '$1' still runs on the server" >&2
    return 1
}

MY_PID=
MY_DIR=
stop_mysql() {
    [ -n "$MY_PID" ] || return 0
    kill -TERM "$MY_PID" 2>/dev/null
    wait "$MY_PID" 2>/dev/null
    MY_PID=
}

# start_mysql: a MariaDB server on a private data directory made with
# mariadb-install-db, on a free loopback port (MY_PORT), without grant
# tables (any user gets in: it is the test's own server).
start_mysql() {
    MY_DIR=$(mktemp -d /tmp/whirl-mysql.XXXXXX)
    mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$MY_DIR/data" \
        --skip-test-db >"$WORK/install-db.log" 2>&1 || {
        echo "  mariadb-install-db failed:" >&2; tail -20 "$WORK/install-db.log" >&2; return 1; }
    local log=$WORK/mariadb.log
    for _ in 1 2 3; do
        MY_PORT=$(free_port)
        : >"$log"
        mariadbd --no-defaults --user="$(id -un)" --datadir="$MY_DIR/data" --bind-address=127.0.0.1 \
            --port="$MY_PORT" --socket="$MY_DIR/sock" --pid-file="$MY_DIR/pid" \
            --skip-grant-tables --skip-log-bin >"$log" 2>&1 &
        MY_PID=$!
        wait_ready "$MY_PID" "$log" 'ready for connections' && return 0
        stop_mysql
    done
    echo "  mariadbd did not start:" >&2
    tail -20 "$log" >&2
    return 1
}

MQTT_PID=
stop_mqtt() {
    [ -n "$MQTT_PID" ] || return 0
    kill -TERM "$MQTT_PID" 2>/dev/null
    wait "$MQTT_PID" 2>/dev/null
    MQTT_PID=
}

# start_mqtt: a mosquitto broker on a free loopback port (MQTT_PORT).
start_mqtt() {
    local log=$WORK/mosquitto.log
    for _ in 1 2 3; do
        MQTT_PORT=$(free_port)
        printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$MQTT_PORT" >"$WORK/mosquitto.conf"
        MQTTS_PORT=
        if [ -s "$WORK/tls-cert.pem" ]; then # and a TLS listener
            MQTTS_PORT=$(free_port)
            # As this user: a broker started as root would drop to the
            # mosquitto user, who cannot read the test's private directory.
            printf 'user %s\nlistener %s 127.0.0.1\ncertfile %s\nkeyfile %s\n' "$(id -un)" \
                "$MQTTS_PORT" "$WORK/tls-cert.pem" "$WORK/tls-key.pem" >>"$WORK/mosquitto.conf"
        fi
        : >"$log"
        mosquitto -c "$WORK/mosquitto.conf" -v >"$log" 2>&1 &
        MQTT_PID=$!
        wait_ready "$MQTT_PID" "$log" running "Opening ipv4 listen socket on port $MQTT_PORT" \
            ${MQTTS_PORT:+"Opening ipv4 listen socket on port $MQTTS_PORT"} && return 0
        stop_mqtt
    done
    echo "  mosquitto did not start:" >&2
    cat "$log" >&2
    return 1
}

REDIS_PID=
stop_redis() {
    [ -n "$REDIS_PID" ] || return 0
    kill -TERM "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}

# start_redis: redis-server on a free loopback port (REDIS_PORT), and a TLS
# port (REDISS_PORT) when tls-cert.pem exists; no persistence; waits for its
# "Ready to accept connections" line.
start_redis() {
    local log=$WORK/redis.log
    for _ in 1 2 3; do
        REDIS_PORT=$(free_port)
        REDISS_PORT=
        local tls=()
        if [ -s "$WORK/tls-cert.pem" ]; then # and a TLS port (rediss://)
            REDISS_PORT=$(free_port)
            tls=(--tls-port "$REDISS_PORT" --tls-cert-file "$WORK/tls-cert.pem"
                --tls-key-file "$WORK/tls-key.pem" --tls-ca-cert-file "$WORK/tls-cert.pem"
                --tls-auth-clients no)
        fi
        : >"$log"
        redis-server --bind 127.0.0.1 --port "$REDIS_PORT" "${tls[@]}" --save '' --appendonly no \
            --dir "$WORK" >"$log" 2>&1 &
        REDIS_PID=$!
        wait_ready "$REDIS_PID" "$log" 'Ready to accept connections' && return 0
        stop_redis
    done
    echo "  redis-server did not start:" >&2
    cat "$log" >&2
    return 1
}

spinhost_tests() {
    if ! bash "$SRC/js/build_spin.sh" "$BUILD/js" >"$WORK/js.log" 2>&1; then
        bad "building js/spinhost.js"; tail -20 "$WORK/js.log" >&2
        return
    fi
    local G=$BUILD/js/spinhost.component.wasm D=$WORK/app
    mkdir -p "$D"
    cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "spinhost"
[variables]
greeting = { default = "hello" }
token = { required = true, secret = true }
unused = { default = "u", description = "no template uses it" }
[[trigger.http]]
route = "/..."
component = "app"
[[trigger.http]]
route = "/narrow/..."
component = "narrow"
[component.app]
source = "$G"
key_value_stores = ["default"]
sqlite_databases = ["default"]
[component.app.variables]
message = "{{ greeting }}, {{token}}!"
plain = "literal"
[component.narrow]
source = "$G"
TOML

    # A required variable without a value: a load error naming it.
    "$WHIRL" serve --listen 127.0.0.1:0 "$D/spin.toml" >/dev/null 2>"$WORK/noval.log"
    check "required variable unset: exit 1" eq "$?" 1
    check "required variable unset: named" contains "$WORK/noval.log" "variable 'token' is required but has no value"
    check "required variable unset: how to set" contains "$WORK/noval.log" "SPIN_VARIABLE_TOKEN"
    # A template naming an undeclared variable, a store not defined.
    sed 's/{{token}}/{{ nope }}/' "$D/spin.toml" >"$D/bad1.toml"
    SPIN_VARIABLE_TOKEN=t "$WHIRL" serve --listen 127.0.0.1:0 "$D/bad1.toml" >/dev/null 2>"$WORK/bad1.log"
    check "undeclared template variable: exit 1" eq "$?" 1
    check "undeclared template variable: named" contains "$WORK/bad1.log" "uses 'nope', which \[variables\] does not declare"
    sed 's/key_value_stores = \["default"\]/key_value_stores = ["default", "ghost"]/' "$D/spin.toml" >"$D/bad2.toml"
    SPIN_VARIABLE_TOKEN=t "$WHIRL" serve --listen 127.0.0.1:0 "$D/bad2.toml" >/dev/null 2>"$WORK/bad2.log"
    check "undefined store: exit 1" eq "$?" 1
    check "undefined store: named" contains "$WORK/bad2.log" "key-value store 'ghost', which is not defined"

    # The environment provider; the routes printed at start, as spin up does.
    SPIN_VARIABLE_TOKEN=from-env start_server spinhost "$D/spin.toml" >"$WORK/routes.out" || return
    check "routes printed" contains "$WORK/routes.out" "^Available Routes:$"
    check "route line" contains "$WORK/routes.out" "^  narrow: $URL/narrow (wildcard)$"
    check "variable from env" eq "$(req "$WORK/b" "$URL/var/message")" 200
    check "variable from env value" contains "$WORK/b" "^value=hello, from-env!$"
    req "$WORK/b" "$URL/var/plain" >/dev/null
    check "literal variable" contains "$WORK/b" "^value=literal$"
    req "$WORK/b" "$URL/var/unknown" >/dev/null
    check "undefined variable" contains "$WORK/b" '"tag":"undefined"'
    req "$WORK/b" "$URL/var/Bad-Name" >/dev/null
    check "invalid variable name" contains "$WORK/b" '"tag":"invalid-name"'
    req "$WORK/b" "$URL/narrow/var/message" >/dev/null
    check "another component's variable" contains "$WORK/b" '"tag":"undefined"'
    req "$WORK/b" "$URL/config/message" >/dev/null
    check "wasi:config get" contains "$WORK/b" "^value=hello, from-env!$"
    req "$WORK/b" "$URL/config/unknown" >/dev/null
    check "wasi:config get undefined" contains "$WORK/b" "^none$"
    req "$WORK/b" "$URL/config1/message" >/dev/null
    check "spin 1 config" contains "$WORK/b" "^value=hello, from-env!$"
    req "$WORK/b" "$URL/config1/unknown" >/dev/null
    check "spin 1 config undefined: provider" contains "$WORK/b" '"tag":"provider"'
    req "$WORK/b" "$URL/config1/Bad" >/dev/null
    check "spin 1 config invalid: invalid-key" contains "$WORK/b" '"tag":"invalid-key"'
    req "$WORK/b" "$URL/config-all" >/dev/null
    check "wasi:config get-all" contains "$WORK/b" "^plain=literal$"

    # Key-value: the default store (SQLite in .spin/), a counter.
    check "kv incr 1" eq "$(req "$WORK/b" "$URL/kv/default/incr")" 200
    check "kv counter 1" contains "$WORK/b" "^counter=1$"
    check "kv exists" contains "$WORK/b" "^exists=true$"
    check "kv get missing is none" contains "$WORK/b" "^missing=true$"
    req "$WORK/b" "$URL/kv/default/incr" >/dev/null
    check "kv counter 2" contains "$WORK/b" "^counter=2$"
    check "kv file where spin keeps it" test -s "$D/.spin/sqlite_key_value.db"
    req "$WORK/b" "$URL/kv/default/keys" >/dev/null
    check "kv get-keys" contains "$WORK/b" "^keys=counter,k1$"
    check "kv bytes round trip" contains "$WORK/b" "^k1=0,255,7$"
    req "$WORK/b" "$URL/kv/default/del/k1" >/dev/null
    check "kv delete" contains "$WORK/b" "^exists=false$"
    req "$WORK/b" "$URL/kv/other/incr" >/dev/null
    check "kv undeclared store: access-denied" contains "$WORK/b" '^error {"tag":"access-denied"}$'
    req "$WORK/b" "$URL/narrow/kv/default/incr" >/dev/null
    check "kv store of another component: access-denied" contains "$WORK/b" '"tag":"access-denied"'
    req "$WORK/b" "$URL/kv-many/default" >/dev/null
    check "kv handles per request are bounded: store-table-full" contains "$WORK/b" '^opened=128 then error {"tag":"store-table-full"}$'
    req "$WORK/b" "$URL/kv-many/default" >/dev/null
    check "kv handles close with the request" contains "$WORK/b" '^opened=128 then'
    req "$WORK/b" "$URL/wkv/default" >/dev/null
    check "wasi:keyvalue set/get" contains "$WORK/b" "^w1=one$"
    check "wasi:keyvalue increment" contains "$WORK/b" "^hits=5,7$"
    check "wasi:keyvalue get-many" contains "$WORK/b" "^many=w1:one,absent:none$"
    check "wasi:keyvalue list-keys" contains "$WORK/b" "^list=counter,hits,w1 cursor=none$"

    req "$WORK/b" "$URL/wkv-cas/default" >/dev/null
    check "wasi:keyvalue cas on a missing key" contains "$WORK/b" "^current=none$"
    check "wasi:keyvalue swap" contains "$WORK/b" "^swapped=v1$"
    check "wasi:keyvalue swap after a change: cas-failed" contains "$WORK/b" "^second swap: cas-failed$"
    check "wasi:keyvalue cas-failed hands the cas back" contains "$WORK/b" "^retry sees=changed$"
    check "wasi:keyvalue swap retried" contains "$WORK/b" "^final=v3$"
    check "wasi:keyvalue set-many, delete-many" contains "$WORK/b" "^set-many=m1:1,m2:2 after delete-many=false,false$"

    # SQLite: typed parameters and rows, errors, access-denied.
    check "sqlite" eq "$(req "$WORK/b" "$URL/sql/default")" 200
    check "sqlite columns" contains "$WORK/b" "^columns=i,r,s,b,n$"
    check "sqlite typed row" contains "$WORK/b" "^row=integer:bigint:-9007199254740993 real:number:2.5 text:string:héllo blob:1,0,2 null$"
    check "sqlite numbered parameters" contains "$WORK/b" "^row=integer:bigint:7 null text:string:it's null null$"
    check "sqlite error" contains "$WORK/b" '^bad sql: error {"tag":"io","val":"no such table: no_such_table"}$'
    check "sqlite file where spin keeps it" test -s "$D/.spin/sqlite_db.db"
    req "$WORK/b" "$URL/sql/nope" >/dev/null
    check "sqlite undeclared database: access-denied" contains "$WORK/b" '^error {"tag":"access-denied"}$'
    req "$WORK/b" "$URL/sql-escape/default?$WORK/escaped.db" >/dev/null
    check "sqlite ATTACH refused" contains "$WORK/b" '^ATTACH: error {"tag":"io"'
    check "sqlite VACUUM INTO refused" contains "$WORK/b" '^VACUUM: error {"tag":"io"'
    check "sqlite wrote no other file" test ! -e "$WORK/escaped.db"
    req "$WORK/b" "$URL/sql3/default" >/dev/null
    check "spin:sqlite@3 changes" contains "$WORK/b" "^changes=2$"
    check "spin:sqlite@3 last-insert-rowid" contains "$WORK/b" "^rowid=true$"
    # Interfaces whirl does not serve answer their own errors (never a trap).
    check "llm" eq "$(req "$WORK/b" "$URL/llm")" 200
    check "llm: model-not-supported" contains "$WORK/b" '^error {"tag":"model-not-supported"}$'
    req "$WORK/b" "$URL/redis-out?redis://127.0.0.1:1" >/dev/null
    check "outbound redis not allowed: invalid-address" contains "$WORK/b" '^error {"tag":"invalid-address"}$'
    stop_server

    # The counter survives a restart; --variable comes before the
    # environment. An endless query ends at the deadline (504) and the
    # server goes on serving.
    SPIN_VARIABLE_TOKEN=from-env start_server spinhost2 --timeout 1s --variable token=from-cli \
        "$D/spin.toml" >/dev/null || return
    req "$WORK/b" "$URL/kv/default/incr" >/dev/null
    check "kv counter after restart" contains "$WORK/b" "^counter=3$"
    req "$WORK/b" "$URL/var/message" >/dev/null
    check "variable from --variable" contains "$WORK/b" "^value=hello, from-cli!$"
    check "endless query: 504" eq "$(req "$WORK/b" "$URL/sql-forever/default")" 504
    check "endless query: started" contains "$LOG" "started endless query"
    check "served after the endless query" eq "$(req "$WORK/b" "$URL/sql3/default")" 200
    stop_server

    # A .env file in the working directory, as spin up reads it.
    printf '# the token\nexport SPIN_VARIABLE_TOKEN="from dotenv" # quoted\n' >"$D/.env"
    SERVE_CWD=$D start_server dotenv spin.toml >/dev/null || return
    req "$WORK/b" "$URL/var/message" >/dev/null
    check "variable from .env" contains "$WORK/b" "^value=hello, from dotenv!$"
    stop_server
    rm "$D/.env"

    # A runtime config file: a Redis store, another SQLite store and database.
    if ! command -v redis-server >/dev/null; then
        echo "SKIPPED: the Redis backend tests (7): redis-server is not installed" >&2
        return
    fi
    # One certificate for the TLS servers (rediss://, mqtts://): it names
    # localhost only and is signed by itself, a CA the system store lacks.
    if command -v openssl >/dev/null; then
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls-key.pem" \
            -out "$WORK/tls-cert.pem" -days 1 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost" >"$WORK/openssl.log" 2>&1 ||
            bad "openssl could not make a certificate"
    fi
    start_redis || { bad "redis-server did not start"; return; }
    [ -n "$REDISS_PORT" ] || echo "SKIPPED: the rediss tests (7): openssl is not installed" >&2
    mkdir -p "$D/rc"
    cat >"$D/rc/runtime.toml" <<TOML
[[variables_provider]]
type = "static"
values = { greeting = "hey" }
[key_value_store.cache]
type = "redis"
url = "redis://127.0.0.1:$REDIS_PORT"
[key_value_store.files]
type = "spin"
path = "data/files.db"
[sqlite_database.other]
type = "spin"
path = "data/other.db"
[key_value_store.secure]
type = "redis"
url = "rediss://localhost:${REDISS_PORT:-1}/3"
TOML
    sed -e 's/key_value_stores = \["default"\]/key_value_stores = ["default", "cache", "files", "secure"]/' \
        -e 's/sqlite_databases = \["default"\]/sqlite_databases = ["other"]\nallowed_outbound_hosts = ["redis:\/\/127.0.0.1:{{ redis_port }}", "rediss:\/\/localhost:*", "rediss:\/\/127.0.0.1:*", "mqtt:\/\/127.0.0.1:*", "mqtts:\/\/localhost:*", "mqtts:\/\/127.0.0.1:*", "postgres:\/\/127.0.0.1:*", "mysql:\/\/127.0.0.1:*"]/' \
        -e 's/^\[variables\]$/[variables]\nredis_port = { default = "'"$REDIS_PORT"'" }/' \
        "$D/spin.toml" >"$D/rc.toml"
    # One worker: a request waiting on a server must not hold it (below).
    start_server spinhost3 --workers 1 --runtime-config-file "$D/rc/runtime.toml" --variable token=x \
        "$D/rc.toml" >/dev/null || { stop_redis; return; }
    req "$WORK/b" "$URL/var/message" >/dev/null
    check "variable from a static provider" contains "$WORK/b" "^value=hey, x!$"
    req "$WORK/b" "$URL/kv/cache/incr" >/dev/null
    req "$WORK/b" "$URL/kv/cache/incr" >/dev/null
    check "redis counter" contains "$WORK/b" "^counter=2$"
    req "$WORK/b" "$URL/wkv/cache" >/dev/null
    check "redis wasi:keyvalue increment" contains "$WORK/b" "^hits=5,7$"
    req "$WORK/b" "$URL/wkv-cas/cache" >/dev/null
    check "redis cas swap" contains "$WORK/b" "^swapped=v1$"
    check "redis cas-failed and retry" contains "$WORK/b" "^final=v3$"
    check "redis set-many, delete-many" contains "$WORK/b" "^set-many=m1:1,m2:2 after delete-many=false,false$"
    req "$WORK/b" "$URL/kv/files/incr" >/dev/null
    check "runtime-config sqlite store" contains "$WORK/b" "^counter=1$"
    check "runtime-config path relative to its file" test -s "$D/rc/data/files.db"
    req "$WORK/b" "$URL/sql/other" >/dev/null
    check "runtime-config sqlite database" contains "$WORK/b" "^columns=i,r,s,b,n$"
    req "$WORK/b" "$URL/sql/default" >/dev/null
    check "default database not granted: access-denied" contains "$WORK/b" '"tag":"access-denied"'
    # Outbound Redis, where allowed_outbound_hosts lets it go.
    req "$WORK/b" "$URL/redis-out?redis://127.0.0.1:$REDIS_PORT" >/dev/null
    check "outbound redis get/set" contains "$WORK/b" "^get=rv missing=true$"
    check "outbound redis incr" contains "$WORK/b" "^incr=1,2$"
    check "outbound redis sets" contains "$WORK/b" "^sadd=3 srem=1 smembers=a,c$"
    check "outbound redis del" contains "$WORK/b" "^del=2$"
    check "outbound redis execute" contains "$WORK/b" "^execute=int64:1 binary:42 status:PONG$"
    check "outbound redis wrong type" contains "$WORK/b" '^wrong type: error {"tag":"other","val":"redis: WRONGTYPE'
    req "$WORK/b" "$URL/redis-out?redis://localhost:$REDIS_PORT" >/dev/null
    check "outbound redis to a host not listed: invalid-address" contains "$WORK/b" '^error {"tag":"invalid-address"}$'
    # A command waiting on the server (BLPOP) suspends its request: the one
    # worker answers another request meanwhile; the push ends the wait.
    req "$WORK/rw" "$URL/redis-wait?redis://127.0.0.1:$REDIS_PORT" >"$WORK/rw.status" &
    local rwpid=$!
    check "redis BLPOP started" wait_for_log "started redis wait"
    check "redis BLPOP waiting: another request answered meanwhile (1 worker)" eq "$(req "$WORK/b2" "$URL/var/message")" 200
    check "redis BLPOP waiting: still waiting" kill -0 "$rwpid"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" LPUSH whirl-wait pushed >/dev/null
    wait $rwpid
    check "redis BLPOP: answered" eq "$(cat "$WORK/rw.status")" 200
    check "redis BLPOP: the pushed value" contains "$WORK/rw" "^popped=whirl-wait,pushed$"
    if [ -n "$REDISS_PORT" ]; then
        req "$WORK/b" "$URL/redis-out?rediss://localhost:$REDISS_PORT" >/dev/null
        check "rediss: a CA not trusted: an error" contains "$WORK/b" '^error {"tag":"other","val":"redis: TLS handshake with localhost:[0-9]* failed: self.signed certificate'
    fi
    # Outbound MQTT: a subscriber sees what the guest publishes.
    if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null; then
        echo "SKIPPED: the MQTT tests (4): mosquitto or mosquitto_sub is not installed" >&2
    elif start_mqtt; then
        stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p "$MQTT_PORT" -t whirl/test -C 2 -W 60 >"$WORK/sub.out" 2>&1 &
        local sub=$!
        for _ in $(seq 1 $EVENT_POLLS); do grep -q 'SUBACK' "$WORK/sub.out" && break; sleep 0.05; done
        check "mqtt publish" eq "$(req "$WORK/b" "$URL/mqtt-out?mqtt://127.0.0.1:$MQTT_PORT?client_id=whirl-test")" 200
        check "mqtt publish answered" contains "$WORK/b" "^published$"
        wait $sub
        check "mqtt subscriber saw the QoS 1 message" contains "$WORK/sub.out" "^hello over mqtt$"
        check "mqtt subscriber saw the QoS 0 message" contains "$WORK/sub.out" "^second, qos 0$"
        req "$WORK/b" "$URL/mqtt-out?mqtt://localhost:$MQTT_PORT" >/dev/null
        check "mqtt to a host not listed: connection-failed" contains "$WORK/b" '"tag":"connection-failed","val":"address mqtt://localhost:[0-9]* is not permitted"'
        stop_mqtt
    else
        bad "mosquitto did not start"
    fi
    # Outbound PostgreSQL: parameters and columns of every type.
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
        echo "SKIPPED: the PostgreSQL tests (41): postgresql (initdb, postgres) is not installed" >&2
    elif start_pg; then
        local pga="host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres"
        check "postgres" eq "$(req "$WORK/b" --get --data-urlencode "$pga" "$URL/pg-out")" 200
        check "postgres execute counts rows" contains "$WORK/b" "^inserted=1,2$"
        check "postgres column types" contains "$WORK/b" "^columns=b:boolean,i2:int16,i4:int32,i8:int64,f4:floating32,f8:floating64,s:str,bin:binary,n:int32$"
        check "postgres typed row" contains "$WORK/b" "^row=boolean:false int16:-5 int32:6 int64:8 db-null db-null db-null db-null db-null$"
        check "postgres unsigned parameters" contains "$WORK/b" "^row=boolean:false int16:9 int32:10 int64:11 db-null db-null db-null db-null db-null$"
        check "postgres every parameter case" contains "$WORK/b" "^row=boolean:true int16:-7 int32:123456 int64:-9007199254740993 floating32:1.5 floating64:2.25 str:héllo binary:0.1.255 db-null$"
        check "postgres query error" contains "$WORK/b" '^bad sql: error {"tag":"query-failed","val":"ERROR:  relation \\"no_such_table\\" does not exist'
        check "spin:postgres@3" eq "$(req "$WORK/b" --get --data-urlencode "$pga" "$URL/pg3-out")" 200
        check "spin:postgres@3 column types" contains "$WORK/b" "^columns=d:date,t:time,dt:datetime,ts:timestamp,i:int32$"
        check "spin:postgres@3 dates and times" contains "$WORK/b" "^row=date:2024/2/29 time:23/59/58/123456000 datetime:1999/12/31/12/30/15/500000000 timestamp:1700000000 int32:7$"
        check "spin:postgres@4" eq "$(req "$WORK/b" --get --data-urlencode "$pga" "$URL/pg4-out")" 200
        check "spin:postgres@4 column types" has_line "$WORK/b" "columns=u:uuid,j:jsonb,d:decimal,r4:range-int32,r8:range-int64,rn:range-decimal,a4:array-int32,a8:array-int64,ad:array-decimal,at:array-str,iv:interval,x:other(oid 600)"
        local v4
        for v4 in 'uuid:"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"' 'jsonb:"{\"a\": [1, 2]}"' \
            'decimal:"12345.678901234567890"' 'range-int32:[[1,"inclusive"],[5,"exclusive"]]' \
            'range-int64:[null,["9007199254740994","exclusive"]]' \
            'range-decimal:[["1.5","exclusive"],null]' 'array-int32:[1,null,-3]' \
            'array-int64:["9007199254740993"]' 'array-decimal:["1.25",null]' \
            'array-str:["a \"quoted\", word\\",null,"NULL",""]' \
            'interval:{"micros":"3723000004","days":-2,"months":14}' 'unsupported:"(1,2)"'; do
            check "spin:postgres@4 ${v4%%:*} read back" has_line "$WORK/b" "value=$v4"
        done
        check "spin:postgres@4 db-error" has_line "$WORK/b" "division: query-failed db-error code=22012 severity=ERROR message=division by zero extras=[]"
        check "spin:postgres@4 db-error of a bad parameter" contains "$WORK/b" '^bad uuid: query-failed db-error code=22P02 severity=ERROR message=invalid input syntax for type uuid'
        check "spin:postgres@4 db-error extras" has_line "$WORK/b" 'no table: query-failed db-error code=42P01 severity=ERROR message=relation "no_such_table" does not exist extras=[["position","15"]]'
        # spin:postgres@4.2.0's connection-builder (4.1.0's), over TLS when
        # the server has it: the CA roots a guest gives (POST body) check
        # the server's certificate; without sslmode in the address that is
        # verify-full, which the certificate (naming localhost) fails here.
        check "spin:postgres@4.2 builder" eq "$(req "$WORK/b" --get --data-urlencode "$pga" "$URL/pg42-out")" 200
        if [ -n "$PG_TLS" ]; then
            check "spin:postgres@4.2 builder: TLS by default (sslmode prefer)" has_line "$WORK/b" "ssl=true"
            req "$WORK/b" --data-binary @"$WORK/tls-cert.pem" --url-query "$pga sslmode=verify-ca" "$URL/pg42-out" >/dev/null
            check "spin:postgres@4.2 set-ca-root: verified" has_line "$WORK/b" "ssl=true"
            req "$WORK/b" --data-binary @"$WORK/tls-cert.pem" --url-query "$pga" "$URL/pg42-out" >/dev/null
            check "spin:postgres@4.2 set-ca-root: verify-full by default" contains "$WORK/b" '"tag":"connection-failed","val":".*does not match host name \\"127.0.0.1\\"'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/other-key.pem" \
                -out "$WORK/other-cert.pem" -days 1 -subj /CN=localhost >"$WORK/openssl.log" 2>&1
            req "$WORK/b" --data-binary @"$WORK/other-cert.pem" --url-query "$pga sslmode=verify-ca" "$URL/pg42-out" >/dev/null
            check "spin:postgres@4.2 set-ca-root: another CA fails" contains "$WORK/b" '"tag":"connection-failed","val":".*certificate verify failed'
        else
            check "spin:postgres@4.2 builder: no TLS" has_line "$WORK/b" "ssl=false"
        fi
        req "$WORK/b" --data-binary "not a certificate" --url-query "$pga" "$URL/pg42-out" >/dev/null
        check "spin:postgres@4.2 set-ca-root: not PEM" contains "$WORK/b" '"tag":"other","val":"invalid CA root certificate'
        req "$WORK/b" --get --data-urlencode "$pga sslrootcert=/etc/passwd" "$URL/pg42-out" >/dev/null
        check "spin:postgres@4.2 builder: host-file options refused" contains "$WORK/b" "\"tag\":\"connection-failed\",\"val\":\"connection option 'sslrootcert' is not allowed\""
        req "$WORK/b" --get --data-urlencode "$pga service=other passfile=/etc/passwd" "$URL/pg-out" >/dev/null
        check "postgres host-file options refused" contains "$WORK/b" "\"tag\":\"connection-failed\",\"val\":\"connection option '[a-z]*' is not allowed\""
        req "$WORK/b" --get --data-urlencode "host=localhost port=$PG_PORT user=postgres" "$URL/pg-out" >/dev/null
        check "postgres to a host not listed: connection-failed" contains "$WORK/b" '"tag":"connection-failed","val":"address localhost:[0-9]* is not permitted"'
        # The server dies mid-query (a fast shutdown ends its sessions): an
        # error to the guest, and whirl keeps serving.
        req "$WORK/pgs" --get --data-urlencode "$pga" "$URL/pg-sleep" >"$WORK/pgs.status" &
        local cpid=$!
        check "postgres query started" wait_for_log "started pg sleep"
        # The query waits on the server: its request is suspended, and the
        # one worker answers another request meanwhile.
        check "postgres waiting: another request answered meanwhile (1 worker)" eq "$(req "$WORK/b2" "$URL/var/message")" 200
        check "postgres waiting: the query still runs" kill -0 "$cpid"
        kill -INT "$PG_PID"
        wait $cpid
        check "postgres died mid-query: still 200" eq "$(cat "$WORK/pgs.status")" 200
        check "postgres died mid-query: error to the guest" contains "$WORK/pgs" '^pg died: error {"tag":"query-failed"'
        stop_pg
        req "$WORK/b" --get --data-urlencode "$pga" "$URL/pg-out" >/dev/null
        check "postgres down: connection-failed" contains "$WORK/b" '"tag":"connection-failed"'
    else
        bad "postgres did not start"
    fi
    # Outbound MySQL (a MariaDB server): parameters and columns of every type.
    if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null; then
        echo "SKIPPED: the MySQL tests (12): mariadb-server is not installed" >&2
    elif start_mysql; then
        local mya="mysql://root@127.0.0.1:$MY_PORT/mysql"
        check "mysql" eq "$(req "$WORK/b" "$URL/mysql-out?$mya")" 200
        check "mysql column types" contains "$WORK/b" "^columns=b:int8,i1:int8,u2:uint16,i4:int32,i8:int64,f4:floating32,f8:floating64,s:str,bin:binary,n:int32$"
        check "mysql every parameter case" contains "$WORK/b" "^row=int8:1 int8:-5 uint16:65535 int32:-123456 int64:-9007199254740993 floating32:1.5 floating64:2.25 str:héllo binary:0.1.255 db-null$"
        check "mysql query error" contains "$WORK/b" '^bad sql: error {"tag":"query-failed","val":"Table .mysql.no_such_table. doesn.t exist"}$'
        req "$WORK/b" "$URL/mysql-out?mysql://root@localhost:$MY_PORT/mysql" >/dev/null
        check "mysql to a host not listed: connection-failed" contains "$WORK/b" '"tag":"connection-failed","val":"address localhost:[0-9]* is not permitted"'
        # A query waiting on the server (SLEEP) suspends its request; the
        # server killed under it: an error to the guest.
        req "$WORK/ms" "$URL/mysql-sleep?$mya" >"$WORK/ms.status" &
        local mpid=$!
        check "mysql query started" wait_for_log "started mysql sleep"
        check "mysql waiting: another request answered meanwhile (1 worker)" eq "$(req "$WORK/b2" "$URL/var/message")" 200
        check "mysql waiting: the query still runs" kill -0 "$mpid"
        kill -KILL "$MY_PID"
        wait "$MY_PID" 2>/dev/null
        MY_PID=
        wait $mpid
        check "mysql killed mid-query: still 200" eq "$(cat "$WORK/ms.status")" 200
        check "mysql killed mid-query: error to the guest" contains "$WORK/ms" '^mysql died: error {"tag":"query-failed"'
        stop_mysql
        req "$WORK/b" "$URL/mysql-out?$mya" >/dev/null
        check "mysql down: connection-failed" contains "$WORK/b" '"tag":"connection-failed"'
    else
        bad "mariadbd did not start"
    fi
    # MQTT over TLS (mqtts://) against a broker whose certificate names
    # localhost only, signed by a CA the system store lacks.
    local mqtls=
    if command -v mosquitto >/dev/null && command -v mosquitto_sub >/dev/null &&
        [ -s "$WORK/tls-cert.pem" ]; then
        start_mqtt && mqtls=1
        [ -n "$mqtls" ] || bad "mosquitto with TLS did not start"
    else
        echo "SKIPPED: the mqtts tests (4): mosquitto or openssl is not installed" >&2
    fi
    # -S allow-http: a `*` scheme reaches HTTP only; a rule naming redis
    # reaches Redis (the manifest lists 127.0.0.1, not localhost).
    stop_server
    start_server spinhost4 -S "allow-http=*://localhost:*" --runtime-config-file \
        "$D/rc/runtime.toml" --variable token=x "$D/rc.toml" >/dev/null || { stop_redis; stop_mqtt; return; }
    req "$WORK/b" "$URL/redis-out?redis://localhost:$REDIS_PORT" >/dev/null
    check "allow-http *:// does not reach redis" contains "$WORK/b" '^error {"tag":"invalid-address"}$'
    if [ -n "$mqtls" ]; then
        req "$WORK/b" "$URL/mqtt-out?mqtts://localhost:$MQTTS_PORT" >/dev/null
        check "mqtts: a CA not trusted: connection-failed" contains "$WORK/b" '"tag":"connection-failed","val":"mqtt: .*A TLS error occurred."'
    fi
    stop_server
    start_server spinhost5 -S "allow-http=redis://localhost:$REDIS_PORT" -S "http-ca=$WORK/tls-cert.pem" \
        --runtime-config-file "$D/rc/runtime.toml" --variable token=x "$D/rc.toml" >/dev/null ||
        { stop_redis; stop_mqtt; return; }
    req "$WORK/b" "$URL/redis-out?redis://localhost:$REDIS_PORT" >/dev/null
    check "allow-http redis:// reaches redis" contains "$WORK/b" "^incr=1,2$"
    if [ -n "$REDISS_PORT" ]; then
        # Databases of their own (2, 3): the same server's plain port has been used.
        req "$WORK/b" "$URL/redis-out?rediss://localhost:$REDISS_PORT/2" >/dev/null
        check "rediss (CA from -S http-ca): get/set" contains "$WORK/b" "^get=rv missing=true$"
        check "rediss: sets" contains "$WORK/b" "^sadd=3 srem=1 smembers=a,c$"
        check "rediss: execute" contains "$WORK/b" "^execute=int64:1 binary:42 status:PONG$"
        check "rediss: an error reply" contains "$WORK/b" '^wrong type: error {"tag":"other","val":"redis: WRONGTYPE'
        req "$WORK/b" "$URL/redis-out?rediss://127.0.0.1:$REDISS_PORT" >/dev/null
        check "rediss: a certificate not naming the host: an error" contains "$WORK/b" '^error {"tag":"other","val":"redis: TLS handshake with 127.0.0.1:[0-9]* failed: IP address mismatch'
        req "$WORK/b" "$URL/kv/secure/incr" >/dev/null
        req "$WORK/b" "$URL/kv/secure/incr" >/dev/null
        check "rediss key-value store counter" contains "$WORK/b" "^counter=2$"
    fi
    if [ -n "$mqtls" ]; then
        stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p "$MQTT_PORT" -t whirl/test -C 2 -W 60 >"$WORK/sub.out" 2>&1 &
        local tsub=$!
        for _ in $(seq 1 $EVENT_POLLS); do grep -q 'SUBACK' "$WORK/sub.out" && break; sleep 0.05; done
        check "mqtts publish (CA from -S http-ca)" eq "$(req "$WORK/b" "$URL/mqtt-out?mqtts://localhost:$MQTTS_PORT?client_id=whirl-tls")" 200
        check "mqtts publish answered" contains "$WORK/b" "^published$"
        wait $tsub
        check "mqtts: the subscriber saw the message" contains "$WORK/sub.out" "^hello over mqtt$"
        req "$WORK/b" "$URL/mqtt-out?mqtts://127.0.0.1:$MQTTS_PORT" >/dev/null
        check "mqtts: a certificate not naming the host: connection-failed" contains "$WORK/b" '"tag":"connection-failed","val":"mqtt: .*A TLS error occurred."'
        stop_mqtt
    fi
    # A hostile Redis server: a reply dripped a byte at a time ends at the
    # request's deadline; one of too many elements or too many bytes is an
    # error, not host memory.
    stop_server
    local mode fake_pid fake_port
    for mode in drip many big; do
        coproc FAKE { exec python3 "$SRC/fake_redis.py" "$mode"; }
        fake_pid=$FAKE_PID
        read -r fake_port <&"${FAKE[0]}"
        # drip: only the deadline ends it; many, big: the limits must, in a
        # deadline long enough for the 64 MiB read under ASan (5 to 7 s).
        local limit=3s
        [ "$mode" = drip ] || limit=30s
        start_server "spinhost-$mode" --timeout "$limit" -S "allow-http=redis://127.0.0.1:$fake_port" \
            --runtime-config-file "$D/rc/runtime.toml" --variable token=x "$D/rc.toml" >/dev/null ||
            { kill "$fake_pid"; break; }
        req "$WORK/b" "$URL/redis-out?redis://127.0.0.1:$fake_port" >"$WORK/status"
        case $mode in
        drip) check "hostile redis, dripping: ended by the deadline (504)" eq "$(cat "$WORK/status")" 504 ;;
        many) check "hostile redis, 2M elements: refused" contains "$WORK/b" '"val":"redis: the reply has more than 1048576 elements"' ;;
        big) check "hostile redis, 200 MB: refused" contains "$WORK/b" '"val":"redis: the reply is larger than 64 MiB"' ;;
        esac
        check "hostile redis ($mode): still serving" eq "$(req "$WORK/b2" "$URL/kv/default/incr")" 200
        stop_server
        kill "$fake_pid" 2>/dev/null
        wait "$fake_pid" 2>/dev/null
    done
    # Silent servers (accepting, never answering) of each protocol: the
    # waiting requests are suspended at once on the one worker, which
    # answers another meanwhile; each ends at its deadline (504).
    coproc SILENT { exec python3 "$SRC/fake_redis.py" silent; }
    local silent_pid=$SILENT_PID silent_port line n=0
    read -r silent_port <&"${SILENT[0]}"
    if start_server spinhost-silent --workers 1 --timeout 15s -S "allow-http=redis://127.0.0.1:$silent_port" \
        --runtime-config-file "$D/rc/runtime.toml" --variable token=x "$D/rc.toml" >/dev/null; then
        req "$WORK/s1" "$URL/redis-wait?redis://127.0.0.1:$silent_port" >"$WORK/s1.status" &
        local s1=$!
        req "$WORK/s2" --get --data-urlencode "host=127.0.0.1 port=$silent_port user=postgres" "$URL/pg-sleep" >"$WORK/s2.status" &
        local s2=$!
        req "$WORK/s3" "$URL/mysql-sleep?mysql://root@127.0.0.1:$silent_port/mysql" >"$WORK/s3.status" &
        local s3=$!
        req "$WORK/s4" "$URL/mqtt-out?mqtt://127.0.0.1:$silent_port" >"$WORK/s4.status" &
        local s4=$!
        while [ $n -lt 4 ] && read -r -t 60 line <&"${SILENT[0]}"; do
            [ "$line" = accepted ] && n=$((n + 1))
        done
        check "silent servers: redis, postgres, mysql and mqtt reached" eq "$n" 4
        check "silent servers: all four wait at once on one worker" kill -0 $s1 $s2 $s3 $s4
        check "silent servers: another request answered meanwhile" eq "$(req "$WORK/b2" "$URL/var/message")" 200
        check "silent servers: ... while all four still wait" kill -0 $s1 $s2 $s3 $s4
        wait $s1 $s2 $s3 $s4
        check "silent redis: ended by the deadline (504)" eq "$(cat "$WORK/s1.status")" 504
        check "silent postgres: ended by the deadline (504)" eq "$(cat "$WORK/s2.status")" 504
        check "silent mysql: ended by the deadline (504)" eq "$(cat "$WORK/s3.status")" 504
        check "silent mqtt: ended by the deadline (504)" eq "$(cat "$WORK/s4.status")" 504
        check "silent servers: still serving" eq "$(req "$WORK/b2" "$URL/kv/default/incr")" 200
        stop_server
    fi
    kill "$silent_pid" 2>/dev/null
    wait "$silent_pid" 2>/dev/null
    start_server spinhost6 --workers 1 --runtime-config-file "$D/rc/runtime.toml" --variable token=x \
        "$D/rc.toml" >/dev/null || { stop_redis; stop_mqtt; return; }
    # Redis killed under a waiting command: an error to the guest.
    req "$WORK/rw" "$URL/redis-wait?redis://127.0.0.1:$REDIS_PORT" >"$WORK/rw.status" &
    local rwpid2=$!
    check "redis BLPOP started again" wait_for_log "started redis wait"
    check "redis BLPOP waiting: answered meanwhile" eq "$(req "$WORK/b2" "$URL/var/message")" 200
    kill -KILL "$REDIS_PID"
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
    wait $rwpid2
    check "redis killed mid-command: still 200" eq "$(cat "$WORK/rw.status")" 200
    check "redis killed mid-command: error to the guest" contains "$WORK/rw" '^redis wait: error {"tag":"other"'
    # Redis goes away: the guest gets an error, the server keeps serving.
    stop_redis
    check "redis down: still 200" eq "$(req "$WORK/b" "$URL/kv/cache/incr")" 200
    check "redis down: error to the guest" contains "$WORK/b" '"tag":"other","val":"redis: cannot connect'
    check "served after redis died" eq "$(req "$WORK/b" "$URL/kv/default/incr")" 200
    stop_server
}
