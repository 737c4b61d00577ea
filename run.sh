#!/usr/bin/env bash
# Sets up, builds and runs whirl's main job on the bundled examples:
#   build/whirl run --dir examples::/examples build/examples/hello.wasm World
#       (a C program built for WASI: greets, reads /examples/hello.c, and
#       cannot read /etc/passwd because it was given only examples/)
#   build/whirl run --invoke fib build/examples/fib.wasm 20    (prints 6765)
#
# Installs the Debian packages of .ci/packages if some are missing (as root,
# or through sudo if it works without a password; .ci/setup.sh); otherwise
# names them.
set -euo pipefail
cd "$(dirname "$0")"

source .ci/setup.sh
# Building and running the example needs only these tools; go on if present.
whirl_install_packages run.sh cmake ninja cc wat2wasm clang-19 wasm-ld-19

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the example needs, so a half-written test cannot block it.
cmake --build build -j "$(nproc)" --target whirl-cli example-wasm example-hello
echo "+ build/whirl run --dir examples::/examples build/examples/hello.wasm World"
build/whirl run --dir examples::/examples build/examples/hello.wasm World
echo "+ build/whirl run --invoke fib build/examples/fib.wasm 20"
build/whirl run --invoke fib build/examples/fib.wasm 20
