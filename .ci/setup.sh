# shellcheck shell=bash
# Shared by run.sh, test.sh and .ci/run (sourced, from the repository root):
# installs what building and testing whirl needs on a Debian 12 machine.
#
#   whirl_install_packages NAME [TOOL...]
#       installs the Debian packages of .ci/packages that are missing (as
#       root, or through `sudo -n`). If it cannot (no rights, offline), it
#       names them and returns 1, unless every TOOL is on the PATH (what the
#       caller needs right now), which is then enough to go on.
#   whirl_install_npm NAME
#       installs the locked npm packages of each folder whose
#       package-lock.json the tests use (tests/component: jco for the
#       component fixtures; tests/serve/js: componentize-js for the
#       wasi:http guests; tests/serve/spinsdk: Spin's JS SDK;
#       tests/serve/spinframework: its @spinframework packages), only where
#       node_modules is missing or does not match the lock file
#       (.ci/npm-check.mjs).
#
# NAME prefixes the messages ("test.sh: ..."). Both return non-zero on
# failure; callers decide whether that is fatal.

whirl_packages() {
    sed 's/#.*//' .ci/packages | tr -s ' \t' '\n' | sed '/^$/d'
}

whirl_missing_packages() {
    local p
    for p in $(whirl_packages); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

whirl_install_packages() {
    local name=$1
    shift
    local missing
    mapfile -t missing < <(whirl_missing_packages)
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            sudo=(false)
        fi
    fi
    if [ "${sudo[0]:-}" != false ]; then
        echo "$name: installing ${missing[*]}"
        if DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
                --no-install-recommends "${missing[@]}"; then
            return 0
        fi
        echo "$name: apt-get failed" >&2
    fi
    echo "$name: missing Debian packages: ${missing[*]}" >&2
    echo "$name: install them with: sudo apt-get install ${missing[*]}" >&2
    [ $# -gt 0 ] || return 1
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$name: '$tool' not found" >&2; return 1; }
    done
    return 0
}

whirl_npm_dirs() {
    echo tests/component
    echo tests/serve/js
    echo tests/serve/spinsdk
    echo tests/serve/spinframework
}

whirl_install_npm() {
    local name=$1 dir why
    command -v node >/dev/null && command -v npm >/dev/null ||
        { echo "$name: node and npm are needed (Debian package nodejs, npm)" >&2; return 1; }
    for dir in $(whirl_npm_dirs); do
        [ -f "$dir/package-lock.json" ] || continue
        why=$(node .ci/npm-check.mjs "$dir") && continue
        if [ -L "$dir/node_modules" ]; then
            # A link to another checkout's packages (git worktrees): not ours to replace.
            echo "$name: $dir/node_modules is a link and $why; not reinstalling" >&2
            continue
        fi
        # `npm ci` refuses these lock files: npm leaves the optional packages
        # of other platforms out of them. `npm install --no-save` installs
        # the locked versions all the same and leaves the lock file as it is.
        echo "$name: npm install in $dir ($why)"
        (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error) ||
            { echo "$name: npm install in $dir failed" >&2; return 1; }
    done
}
