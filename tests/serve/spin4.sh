# A Spin 4 style app under `whirl serve` (sourced by run.sh: `run.sh spin4`).
# Spin 4's `spin:up@4.0.0` world exports wasi:http/handler and imports WASI
# at 0.3.0-rc-2026-03-15, a release candidate, which matches no other
# version: whirl defines WASI 0.3 and wasi:http 0.3 at the candidate too.
# Spin's JS SDK for Spin 4 still builds wasi:http 0.2 components, and the
# toolchain that builds candidate components (spin-sdk 6 for Rust) needs
# crates.io, which these machines cannot reach; so the app is component
# text (guests/spin4_rc.wat, parsed by jco): routes, the request's body
# echoed, Spin's spin-path-info header, a variable, a key-value counter that
# survives a restart, and monotonic-clock at the candidate, beside a handler
# at the 0.3.0 release (tests/wasi3/fixtures/http3-echo.wat). Unsupported
# candidates must be refused at start, naming the import or export and the
# versions whirl has. tests/wasi3/suite-rc runs the WASI 0.3 suite's
# Rust-built guests renamed to the candidate.

spin4_tests() {
    local RC=0.3.0-rc-2026-03-15 OLD=0.3.0-rc-2025-09-16 D=$WORK/spin4 W=$WORK/wasm
    mkdir -p "$D" "$W"
    sed "s/import \"wasi:http\/types@$RC\"/import \"wasi:http\/types@$OLD\"/" \
        "$SRC/guests/spin4_rc.wat" >"$WORK/spin4_oldimport.wat"
    sed "s/export \"wasi:http\/handler@$RC\"/export \"wasi:http\/handler@$OLD\"/" \
        "$SRC/guests/spin4_rc.wat" >"$WORK/spin4_oldexport.wat"
    if ! node "$SRC/../component/wat2component.mjs" "$W" "$SRC/guests/spin4_rc.wat" \
        "$SRC/../wasi3/fixtures/http3-echo.wat" "$WORK/spin4_oldimport.wat" \
        "$WORK/spin4_oldexport.wat" >"$WORK/wat.log" 2>&1; then
        bad "building guests/spin4_rc.wat"; cat "$WORK/wat.log" >&2
        return
    fi
    check "spin4: the guest exports the handler at the candidate" \
        eq "$("$WHIRL" inspect "$W/spin4_rc.wasm" | grep -c "^  export wasi:http/handler@$RC:")" 1
    cat >"$D/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "spin4"
[variables]
greeting = { default = "hello" }
[[trigger.http]]
route = "/rc/..."
component = "rc"
[[trigger.http]]
route = "/final/..."
component = "final"
[component.rc]
source = "$W/spin4_rc.wasm"
key_value_stores = ["default"]
[component.rc.variables]
greeting = "{{ greeting }}, spin 4"
[component.final]
source = "$W/http3-echo.wasm"
TOML
    start_server spin4 "$D/spin.toml" || return
    check "spin4: served" eq "$(req "$WORK/b" "$URL/rc/a/b?x=1" -D "$WORK/h" -d 'hello spin 4')" 200
    check "spin4: body echoed" eq "$(cat "$WORK/b")" "hello spin 4"
    check "spin4: method" contains "$WORK/h" $'^x-method-case: 2\r$'
    check "spin4: path with query" contains "$WORK/h" $'^x-path: /rc/a/b?x=1\r$'
    check "spin4: spin-path-info" contains "$WORK/h" $'^x-path-info: /a/b\r$'
    check "spin4: variable (default, component template)" contains "$WORK/h" $'^x-greeting: hello, spin 4\r$'
    check "spin4: key-value counter 1" contains "$WORK/h" $'^x-count: 1\r$'
    check "spin4: monotonic-clock at the candidate" contains "$WORK/h" $'^x-clock: ok\r$'
    req "$WORK/b" "$URL/rc/" -D "$WORK/h" >/dev/null
    check "spin4: key-value counter 2" contains "$WORK/h" $'^x-count: 2\r$'
    check "spin4: spin-path-info of the route's base" contains "$WORK/h" $'^x-path-info: /\r$'
    check "spin4: the 0.3.0 handler beside it" \
        eq "$(req "$WORK/b" "$URL/final/z" -D "$WORK/h" -d abc)" 200
    check "spin4: 0.3.0 handler's path" contains "$WORK/h" $'^x-path: /final/z\r$'
    check "spin4: 0.3.0 handler's body" eq "$(cat "$WORK/b")" abc
    check "spin4: no route" eq "$(req "$WORK/b" "$URL/other")" 404
    stop_server
    # The counter survives a restart; the environment gives the variable.
    SPIN_VARIABLE_GREETING=hi start_server spin4b "$D/spin.toml" || return
    req "$WORK/b" "$URL/rc/x" -D "$WORK/h" >/dev/null
    check "spin4: key-value counter after a restart" contains "$WORK/h" $'^x-count: 3\r$'
    check "spin4: variable from the environment" contains "$WORK/h" $'^x-greeting: hi, spin 4\r$'
    stop_server

    # Candidates whirl does not have: refused at start, clearly.
    "$WHIRL" serve --listen 127.0.0.1:0 "$W/spin4_oldimport.wasm" >/dev/null 2>"$WORK/e1.log"
    check "spin4: unknown candidate import: exit 1" eq "$?" 1
    check "spin4: unknown candidate import: named with the versions there are" contains \
        "$WORK/e1.log" "import \`wasi:http/types@$OLD\` (an instance) is not defined in the linker, which has \`wasi:http/types\` only at .*0\.3\.0, $RC"
    "$WHIRL" serve --listen 127.0.0.1:0 "$W/spin4_oldexport.wasm" >/dev/null 2>"$WORK/e2.log"
    check "spin4: unknown candidate handler: exit 1" eq "$?" 1
    check "spin4: unknown candidate handler: named with the versions served" contains \
        "$WORK/e2.log" "exports \`wasi:http/handler@$OLD\`, a version whirl does not serve: it serves wasi:http/handler@0\.3\.x, @$RC and wasi:http/incoming-handler@0\.2\.x"
}
