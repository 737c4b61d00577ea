#!/usr/bin/env bash
# Sets up, builds and runs whirl's main job on the bundled examples:
#   build/whirl run --dir examples::/examples build/examples/hello.wasm World
#       (a C program built for WASI: greets, reads /examples/hello.c, and
#       cannot read /etc/passwd because it was given only examples/)
#   build/whirl run --invoke fib build/examples/fib.wasm 20    (prints 6765)
#
# Installs the Debian packages of .ci/packages if some are missing (as root,
# or through sudo if it works without a password); otherwise names them.
set -euo pipefail
cd "$(dirname "$0")"

mapfile -t packages < <(sed 's/#.*//' .ci/packages | tr -s ' \t' '\n' | sed '/^$/d')
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    can_install=0
    if [ "$(id -u)" -eq 0 ]; then
        can_install=1
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        can_install=1
        sudo="sudo -n"
    fi
    if [ "$can_install" = 1 ]; then
        echo "run.sh: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get update -q
        $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "run.sh: missing Debian packages: ${missing[*]}" >&2
        echo "run.sh: install them with: sudo apt-get install ${missing[*]}" >&2
        # Building and running the example needs only these; go on if present.
        for tool in cmake ninja cc wat2wasm clang-19 wasm-ld-19; do
            command -v "$tool" >/dev/null || { echo "run.sh: '$tool' not found" >&2; exit 1; }
        done
    fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the example needs, so a half-written test cannot block it.
cmake --build build -j "$(nproc)" --target whirl-cli example-wasm example-hello
echo "+ build/whirl run --dir examples::/examples build/examples/hello.wasm World"
build/whirl run --dir examples::/examples build/examples/hello.wasm World
echo "+ build/whirl run --invoke fib build/examples/fib.wasm 20"
build/whirl run --invoke fib build/examples/fib.wasm 20
