#!/bin/bash
# The whole test suite, from a clean clone on Debian 12, as root:
#   1. installs what is missing (scripts/install-deps.sh) and checks
#      that the interop peers can do what the tests ask of them
#   2. checks formatting (clang-format)
#   3. gcc build with -Werror: unit tests, fuzz-corpus replay, packaging
#      and export checks, and the interop tests against real strongSwan,
#      BIRD and GoBGP in network namespaces (label "interop")
#   4. clang build with ASan + UBSan: unit tests and corpus replay
#   5. each libFuzzer harness for a short time (FUZZ_SECONDS, default 30)
# Exits non-zero if any step fails.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${TEST_OUT:-$ROOT/build-test}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
rc=0
step() { printf '\n==== %s\n' "$*"; }
fail() { echo "FAILED: $*"; rc=1; }

step "dependencies"
"$ROOT/scripts/install-deps.sh" || { echo "dependency install failed"; exit 1; }

step "peer capabilities (strongSwan plugins, BIRD 2, GoBGP, iperf3, nftables)"
# Fail fast, naming the package, rather than after a minute of retries
# inside an interop test.  Not root: the interop tests skip anyway.
bash "$ROOT/tests/interop/check_peers.sh"
case $? in
0 | 77) ;;
*) echo "peer capability check failed"; exit 1 ;;
esac

step "format check (clang-format)"
cd "$ROOT"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find include lib ipsec bgp examples tests -name '*.[ch]')
if ! clang-format --dry-run --Werror $files >/tmp/vpnr-format.log 2>&1; then
	head -40 /tmp/vpnr-format.log
	fail "clang-format"
fi

step "gcc build (-Werror)"
cmake -S "$ROOT" -B "$OUT/gcc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=gcc -DVPNR_WERROR=ON >/dev/null &&
    cmake --build "$OUT/gcc" -j"$(nproc)" || { fail "gcc build"; exit 1; }

step "ctest: unit, fuzz replay, packaging, interop"
ctest --test-dir "$OUT/gcc" --output-on-failure -j2 --timeout 900 ||
    fail "ctest (gcc)"

step "clang build with ASan + UBSan"
cmake -S "$ROOT" -B "$OUT/asan" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang -DVPNR_SANITIZE=ON -DVPNR_INTEROP=OFF \
    -DVPNR_BUILD_BENCH=OFF >/dev/null &&
    cmake --build "$OUT/asan" -j"$(nproc)" || fail "asan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$OUT/asan" --output-on-failure -j2 -L 'unit|fuzz' ||
    fail "ctest (asan)"

step "libFuzzer, ${FUZZ_SECONDS}s per harness"
FUZZ_SECONDS=$FUZZ_SECONDS "$ROOT/tests/fuzz/run-fuzzers.sh" "$OUT/fuzz" ||
    fail "fuzzers"

step "result"
if [ $rc = 0 ]; then echo "all test steps passed"; else echo "some test steps FAILED"; fi
exit $rc
