#!/bin/bash
# Builds spinhost.js (a Spin app using variables, key-value, SQLite and
# wasi:keyvalue/wasi:config, against spin-wit/): build.sh builds it with the
# other JS components, through the fixture cache.  build_spin.sh [OUT_DIR]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
exec bash "$HERE/build.sh" "$@"
