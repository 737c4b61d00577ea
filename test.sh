#!/usr/bin/env bash
# Sets up, builds whirl and runs all its tests with ctest.
#
#   ./test.sh                  build/ (RelWithDebInfo)
#   ./test.sh --sanitize       build-asan/ with AddressSanitizer + UBSan
#                              (same as WHIRL_SANITIZE=1 ./test.sh)
#   ./test.sh -- -R cli        extra arguments after -- go to ctest
#
# First installs what the tests need (.ci/setup.sh): the missing Debian
# packages of .ci/packages, and the npm packages of the component and
# wasi:http fixtures from their lock files, where node_modules is missing or
# stale. Exits non-zero if that, the configure, the build or any test fails.
# Writes the counts to BUILD_DIR/test-summary.txt for .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

sanitize=${WHIRL_SANITIZE:-0}
ctest_extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --sanitize | --asan) sanitize=1 ;;
    --) shift; ctest_extra=("$@"); break ;;
    -h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ "$sanitize" = 1 ]; then
    dir=build-asan
    mode="sanitize (ASan+UBSan)"
    cmake_flags=(-DWHIRL_SANITIZE=ON)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
else
    dir=build
    mode="release (RelWithDebInfo)"
    cmake_flags=()
fi
jobs=${WHIRL_TEST_JOBS:-2}
# The 3.0 spec suite's conversions (tests/spec/wast3json-cached), shared by
# the release and sanitizer builds: keyed by content, so never stale.
export WHIRL_SPEC3_CACHE=${WHIRL_SPEC3_CACHE:-$PWD/build-spec3-json}

now() { date +%s; }
t0=$(now)
source .ci/setup.sh
# Without rights to install, go on if the tools the tests call are there
# (the rest of .ci/packages serves benchmarks and fuzzing).
if ! whirl_install_packages test.sh cmake ninja cc c++ wat2wasm wast2json clang-19 wasm-ld-19 \
    node npm curl pkg-config; then
    echo "test.sh: FAILED: Debian packages missing (see above)"
    exit 1
fi
if ! whirl_install_npm test.sh; then
    echo "test.sh: FAILED: npm packages for the test fixtures"
    exit 1
fi
echo "== test.sh: $mode in $dir/"
if ! cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${cmake_flags[@]}"; then
    echo "test.sh: FAILED: cmake configure ($dir)"
    exit 1
fi
t1=$(now)
if ! cmake --build "$dir" -j "$(nproc)"; then
    echo "test.sh: FAILED: build ($dir)"
    exit 1
fi
t2=$(now)

log=$dir/ctest-output.txt
set +e
ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout "${WHIRL_TEST_TIMEOUT:-900}" \
    "${ctest_extra[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
t3=$(now)

# ctest's closing line: "100% tests passed, 0 tests failed out of 12".
total=$(sed -n 's/.*tests failed out of \([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/.* \([0-9][0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n 1)
if [ -z "$total" ]; then
    echo "test.sh: FAILED: ctest ran no test"
    total=0 failed=0 rc=1
fi
passed=$((total - failed))

echo
echo "== test.sh summary: $mode"
# The totals each test printed ("N passed, M failed"), from ctest's log.
if [ -f "$dir/Testing/Temporary/LastTest.log" ]; then
    awk '
        /^[0-9]+\/[0-9]+ Test: / { name = $3 }
        /[0-9]+ passed, [0-9]+ failed/ && name != "" {
            match($0, /[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?/)
            totals[name] = substr($0, RSTART, RLENGTH)
            if (!(name in seen)) { order[++n] = name; seen[name] = 1 }
        }
        END { for (i = 1; i <= n; i++) printf "  %-36s (%s)\n", order[i], totals[order[i]] }
    ' "$dir/Testing/Temporary/LastTest.log"
fi
printf '  configure %ss, build %ss, tests %ss\n' $((t1 - t0)) $((t2 - t1)) $((t3 - t2))
echo "passed $passed failed $failed" >"$dir/test-summary.txt"
if [ "$rc" -ne 0 ]; then
    if [ "$failed" -gt 0 ]; then
        echo "test.sh: FAILED: $failed of $total ctest tests failed ($mode)"
    else
        echo "test.sh: FAILED: ctest exited with status $rc ($mode)"
    fi
    exit 1
fi
echo "test.sh: all $total ctest tests passed ($mode)"
