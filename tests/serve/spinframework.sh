# A Spin app built with Spin's @spinframework JS packages (spinframework/:
# app.js, bundled and made a component by the packages' own tools) under
# `whirl serve`, sourced by run.sh (`run.sh spinframework`): itty-router's
# routes, a body echoed, a 404, and Spin's request headers through the
# fetch event. These packages build wasi:http/incoming-handler@0.2.x
# components (0.2.3 here; Spin 4's template's 2.x release: 0.2.10).

spinframework_tests() {
    if ! bash "$SRC/spinframework/build.sh" "$BUILD/js" >"$WORK/sf-build.log" 2>&1; then
        bad "building spinframework/app.js"; tail -20 "$WORK/sf-build.log" >&2
        return
    fi
    local G=$BUILD/js/spinframework.component.wasm D=$WORK/sfapp
    check "spinframework: exports wasi:http/incoming-handler@0.2.x" \
        eq "$("$WHIRL" inspect "$G" | grep -c '^  export wasi:http/incoming-handler@0\.2\.[0-9]*:')" 1
    mkdir -p "$D"
    cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "spinframework"
[[trigger.http]]
route = "/..."
component = "app"
[component.app]
source = "$G"
TOML
    start_server spinframework "$D/spin.toml" || return
    check "spinframework: /" eq "$(req "$WORK/b" "$URL/")" 200
    check "spinframework: / body" eq "$(cat "$WORK/b")" "Hello, Spin!"
    check "spinframework: route parameter" eq "$(req "$WORK/b" "$URL/hello/whirl")" 200
    check "spinframework: route parameter body" eq "$(cat "$WORK/b")" '"Hello, whirl!"'
    check "spinframework: echo" eq "$(req "$WORK/b" "$URL/echo" -D "$WORK/h" --data-binary 'a body, echoed')" 200
    check "spinframework: echo body" eq "$(cat "$WORK/b")" "a body, echoed"
    check "spinframework: echo header" contains "$WORK/h" $'^x-echo-length: 14\r$'
    check "spinframework: Spin's headers" eq "$(req "$WORK/b" "$URL/info/a/b")" 200
    check "spinframework: spin-path-info" contains "$WORK/b" "^path-info=/info/a/b$"
    check "spinframework: spin-component-route" contains "$WORK/b" "^route=$"
    check "spinframework: no route" eq "$(req "$WORK/b" "$URL/nope")" 404
    stop_server
}
