# A Spin app built with @fermyon/spin-sdk (spinsdk/app.js, bundled and made
# a component by the SDK's own tools: spinsdk/build.sh) under `whirl serve`,
# sourced by run.sh (`run.sh spinsdk`): key-value, variables, SQLite and
# outbound Redis, PostgreSQL, MySQL and MQTT through the SDK, against real
# servers started on loopback ports by spin_host.sh's helpers. Where
# spin_host.sh checks every case of each interface with WIT written for the
# test, this checks that an app written against Spin's SDK works unchanged.

spinsdk_tests() {
    source "$SRC/spin_host.sh"
    if ! bash "$SRC/spinsdk/build.sh" "$BUILD/js" >"$WORK/sdk-build.log" 2>&1; then
        bad "building spinsdk/app.js"; tail -20 "$WORK/sdk-build.log" >&2
        return
    fi
    local G=$BUILD/js/spinsdk.component.wasm D=$WORK/sdkapp
    mkdir -p "$D"
    cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "spinsdk"
[variables]
greeting = { default = "hello" }
token = { required = true }
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "$G"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["redis://127.0.0.1:*", "postgres://127.0.0.1:*", "mysql://127.0.0.1:*", "mqtt://127.0.0.1:*"]
[component.app.variables]
message = "{{ greeting }}, {{ token }}!"
TOML
    "$WHIRL" serve --listen 127.0.0.1:0 "$D/spin.toml" >/dev/null 2>"$WORK/sdk-noval.log"
    check "sdk: required variable unset: exit 1" eq "$?" 1
    check "sdk: required variable unset: named" contains "$WORK/sdk-noval.log" "variable 'token' is required"

    SPIN_VARIABLE_TOKEN=from-env start_server sdk1 "$D/spin.toml" >/dev/null || return
    check "sdk: variable" eq "$(req "$WORK/b" "$URL/var/message")" 200
    check "sdk: variable from a default and the environment" contains "$WORK/b" "^value=hello, from-env!$"
    req "$WORK/b" "$URL/var/nope" >/dev/null
    check "sdk: undefined variable is null (the SDK maps the error)" contains "$WORK/b" '^value=null$'
    check "sdk: kv" eq "$(req "$WORK/b" "$URL/kv/incr")" 200
    check "sdk: kv counter 1" contains "$WORK/b" "^counter=1$"
    check "sdk: kv string value" contains "$WORK/b" "^raw=text$"
    check "sdk: kv missing key" contains "$WORK/b" "^missing=true$"
    check "sdk: kv keys" contains "$WORK/b" "^keys=counter,raw$"
    req "$WORK/b" "$URL/kv/incr" >/dev/null
    check "sdk: kv counter 2" contains "$WORK/b" "^counter=2$"
    req "$WORK/b" "$URL/kv/open/other" >/dev/null
    check "sdk: kv undeclared store" contains "$WORK/b" '^error {"tag":"access-denied"}$'
    check "sdk: sqlite" eq "$(req "$WORK/b" "$URL/sql")" 200
    check "sdk: sqlite columns" contains "$WORK/b" "^columns=i,r,s,b,n$"
    check "sdk: sqlite typed row" contains "$WORK/b" "^row=bigint:-9007199254740993 number:2.5 string:héllo bytes:1.0.2 null$"
    check "sdk: sqlite error" contains "$WORK/b" '^bad sql: error {"tag":"io","val":"no such table: no_such_table"}$'
    stop_server
    # The counter survives a restart of the server.
    SPIN_VARIABLE_TOKEN=again start_server sdk2 "$D/spin.toml" >/dev/null || return
    req "$WORK/b" "$URL/kv/incr" >/dev/null
    check "sdk: kv counter after a restart" contains "$WORK/b" "^counter=3$"

    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        echo "SKIPPED: the SDK's Redis tests (6): redis-server or redis-cli is not installed" >&2
    elif start_redis; then
        stdbuf -oL redis-cli -p "$REDIS_PORT" subscribe sdk-channel >"$WORK/sdk-sub.out" 2>&1 &
        local sub=$!
        for _ in $(seq 1 $EVENT_POLLS); do [ "$(grep -c . "$WORK/sdk-sub.out")" -ge 3 ] && break; sleep 0.05; done
        check "sdk: redis" eq "$(req "$WORK/b" "$URL/redis?redis://127.0.0.1:$REDIS_PORT")" 200
        check "sdk: redis set/get" contains "$WORK/b" "^get=sdk-value$"
        check "sdk: redis incr" contains "$WORK/b" "^incr=1,2$"
        check "sdk: redis sets" contains "$WORK/b" "^smembers=a,b$"
        check "sdk: redis value seen by redis-cli" eq "$(redis-cli -p "$REDIS_PORT" get sdk-key)" sdk-value
        for _ in $(seq 1 $EVENT_POLLS); do grep -q 'hello from the sdk' "$WORK/sdk-sub.out" && break; sleep 0.05; done
        check "sdk: redis publish seen by a subscriber" contains "$WORK/sdk-sub.out" "^hello from the sdk$"
        kill "$sub" 2>/dev/null; wait "$sub" 2>/dev/null
        req "$WORK/b" "$URL/redis?redis://localhost:$REDIS_PORT" >/dev/null
        check "sdk: redis host not allowed" contains "$WORK/b" '^error {"tag":"invalid-address"}$'
        stop_redis
    else
        bad "redis-server did not start"
    fi
    if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null; then
        echo "SKIPPED: the SDK's MQTT tests (2): mosquitto or mosquitto_sub is not installed" >&2
    elif start_mqtt; then
        stdbuf -oL mosquitto_sub -d -h 127.0.0.1 -p "$MQTT_PORT" -t whirl/sdk -C 1 -W 60 >"$WORK/sdk-mq.out" 2>&1 &
        local msub=$!
        for _ in $(seq 1 $EVENT_POLLS); do grep -q 'SUBACK' "$WORK/sdk-mq.out" && break; sleep 0.05; done
        req "$WORK/b" "$URL/mqtt?mqtt://127.0.0.1:$MQTT_PORT?client_id=whirl-sdk" >/dev/null
        check "sdk: mqtt publish" contains "$WORK/b" "^published$"
        wait $msub
        check "sdk: mqtt subscriber saw the message" contains "$WORK/sdk-mq.out" "^hello from the sdk$"
        stop_mqtt
    else
        bad "mosquitto did not start"
    fi
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v setpriv >/dev/null; then
        echo "SKIPPED: the SDK's PostgreSQL tests (4): postgresql is not installed" >&2
    elif start_pg; then
        check "sdk: postgres" eq "$(req "$WORK/b" --get --data-urlencode \
            "host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" "$URL/pg")" 200
        check "sdk: postgres insert" contains "$WORK/b" "^inserted=1$"
        check "sdk: postgres columns" contains "$WORK/b" "^columns=b,i4,i8,f8,s,bin,i2,n$"
        check "sdk: postgres typed row" contains "$WORK/b" "^row=boolean:true number:42 bigint:-9007199254740993 number:2.25 string:héllo bytes:0.1.255 number:-7 null$"
        check "sdk: postgres error" contains "$WORK/b" '^bad sql: error {"tag":"query-failed"'
        stop_pg
    else
        bad "postgres did not start"
    fi
    if ! command -v mariadbd >/dev/null || ! command -v mariadb-install-db >/dev/null; then
        echo "SKIPPED: the SDK's MySQL tests (4): mariadb-server is not installed" >&2
    elif start_mysql; then
        check "sdk: mysql" eq "$(req "$WORK/b" "$URL/mysql?mysql://root@127.0.0.1:$MY_PORT/mysql")" 200
        check "sdk: mysql insert" contains "$WORK/b" "^inserted=ok$"
        check "sdk: mysql columns" contains "$WORK/b" "^columns=b,i4,i8,f8,s,bin,i2,n$"
        check "sdk: mysql typed row" contains "$WORK/b" "^row=number:1 number:42 bigint:-9007199254740993 number:2.25 string:héllo bytes:0.1.255 number:-7 null$"
        check "sdk: mysql error" contains "$WORK/b" '^bad sql: error {"tag":"query-failed"'
        stop_mysql
    else
        bad "mariadbd did not start"
    fi
    stop_server
}
