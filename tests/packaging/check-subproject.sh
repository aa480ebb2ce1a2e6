#!/usr/bin/env bash
# Packaging check: the project consumed with add_subdirectory() (or
# FetchContent) by a parent that has tests of its own.  The parent must
# get the library targets (vpnroute::vpnroute, vpnroute::vpnroute_uv)
# and nothing else: no tests registered in its ctest, no cmocka looked
# for (its .pc is hidden here), no examples or interop harness built.
#
# Usage: tests/packaging/check-subproject.sh [BUILD_DIR] (for the
# compiler choice only).  Exit 0 pass, 1 fail, 77 skip.
set -u -o pipefail

src_dir=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${1:-${VPNR_BUILD_DIR:-$src_dir/build}}
fail=0
pass() { echo "PASS: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fail=1
}
for tool in cmake pkg-config ctest; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "SKIP: $tool not installed"
		exit 77
	}
done
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null)
cc=${cc:-cc}
grep -q -E '^VPNR_(SANITIZE|BUILD_FUZZERS):BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null && {
	echo "SKIP: sanitizer or fuzzer build"
	exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-sub.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# The system's .pc files without cmocka: a parent project's machine
# need not have our test framework.
mkdir -p "$tmp/pc" "$tmp/parent"
IFS=: read -r -a dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${dirs[@]}"; do
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		case $(basename "$f") in cmocka*.pc) continue ;; esac
		[ -e "$tmp/pc/$(basename "$f")" ] || ln -s "$f" "$tmp/pc/"
	done
done

cat >"$tmp/parent/app.c" <<'EOF'
#include <stdio.h>

#include <vpnroute/vpnroute.h>

int
main(void)
{
	const vpnr_info *i = vpnr_version(0);

	printf("%s\n", i != NULL ? i->version_str : "?");
	return i == NULL;
}
EOF
cat >"$tmp/parent/app_uv.c" <<'EOF'
#define _DEFAULT_SOURCE
#include <vpnroute/vpnroute_uv.h>

int
main(void)
{
	uv_loop_t loop;

	uv_loop_init(&loop);
	/* No options: refused before any socket is opened. */
	return vpnr_uv_new(NULL, &loop, NULL, NULL, NULL, NULL, NULL, NULL) !=
	    VPNR_ERR_INVALID_ARGUMENT;
}
EOF
cat >"$tmp/parent/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.20)
project(parent LANGUAGES C)
include(CTest)
add_subdirectory("$src_dir" vpnroute)
foreach(t unit.test_abi test_abi test_ctx minigw bgp_speaker vpnr_tunnel)
  if(TARGET \${t} OR TEST \${t})
    message(FATAL_ERROR "the subproject defined \${t}")
  endif()
endforeach()
add_executable(app app.c)
target_link_libraries(app PRIVATE vpnroute::vpnroute)
add_executable(app_uv app_uv.c)
target_link_libraries(app_uv PRIVATE vpnroute::vpnroute_uv)
add_test(NAME parent.app COMMAND app)
add_test(NAME parent.app_uv COMMAND app_uv)
EOF
if ! PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$tmp/pc cmake -S "$tmp/parent" \
    -B "$tmp/build" -DCMAKE_C_COMPILER="$cc" >"$tmp/log" 2>&1; then
	tail -n 30 "$tmp/log" >&2
	bad "configuring a parent that add_subdirectory()s vpnroute (no cmocka.pc)"
	exit 1
fi
pass "parent configures with vpnroute as a subdirectory, without cmocka"
tests=$(ctest --test-dir "$tmp/build" -N 2>/dev/null | sed -n 's/^Total Tests: //p')
if [ "$tests" = 2 ]; then
	pass "the parent's ctest holds its own 2 tests only"
else
	ctest --test-dir "$tmp/build" -N >&2
	bad "the parent's ctest holds $tests tests (want 2: vpnroute registered its own)"
fi
if cmake --build "$tmp/build" -j2 --target app app_uv >>"$tmp/log" 2>&1 &&
    ctest --test-dir "$tmp/build" >>"$tmp/log" 2>&1; then
	pass "app (vpnroute::vpnroute) and app_uv (vpnroute::vpnroute_uv) build and run"
else
	tail -n 30 "$tmp/log" >&2
	bad "building or running the parent's programs"
fi

if [ $fail -ne 0 ]; then
	echo "check-subproject: FAILED"
	exit 1
fi
echo "check-subproject: all checks passed"
