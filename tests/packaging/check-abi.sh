#!/usr/bin/env bash
# Packaging check: the ABI of libvpnroute.so and libvpnroute_uv.so
# against the baselines stored in tests/packaging/abi/ (abidw XML).
#
# abidiff (abigail-tools) compares the exported functions (vpnr_* only)
# and every type they reach.  Any removed or changed function or
# variable fails, a struct whose size or layout changed included
# (abidiff reports those as ABI changes, exit bit 4, not only bit 8);
# added functions alone are reported and pass.  A library with no
# baseline is skipped.  The baselines are written by
# update-abi-baseline.sh when an ABI is released (0.2.0 on) and
# whenever an intended change is made before then, so that the diff in
# review shows it.
#
# Usage: tests/packaging/check-abi.sh [BUILD_DIR].  Exit 0 pass, 1
# fail, 77 skip (no abidiff, no baseline, no debug info, sanitizers).
set -u -o pipefail

src_dir=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${1:-${VPNR_BUILD_DIR:-$src_dir/build}}
abi_dir=$src_dir/tests/packaging/abi

skip() {
	echo "SKIP: $*"
	exit 77
}
command -v abidiff >/dev/null 2>&1 || skip "abidiff not installed (abigail-tools)"
[ -f "$build_dir/CMakeCache.txt" ] || skip "$build_dir is not a CMake build directory"
grep -q -E '^VPNR_(SANITIZE|BUILD_FUZZERS):BOOL=ON' "$build_dir/CMakeCache.txt" &&
	skip "sanitizer or fuzzer build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-abi.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# Nothing removed or changed, in functions and variables alike: the
# only differences are additions.
only_added() {
	[ "$(grep -c -E 'changes summary: 0 Removed, 0 Changed' "$1")" = 2 ]
}

fail=0
checked=0
for name in vpnroute vpnroute_uv; do
	base=$abi_dir/lib$name.abi
	if [ ! -f "$base" ]; then
		echo "note: no baseline $base: lib$name not checked"
		continue
	fi
	if ! cmake --build "$build_dir" --target "$name" >"$tmp/build.log" 2>&1; then
		tail -n 30 "$tmp/build.log" >&2
		echo "FAIL: building $name"
		exit 1
	fi
	lib=$(readlink -f "$build_dir/lib$name.so")
	[ -f "$lib" ] || {
		echo "FAIL: $build_dir/lib$name.so missing"
		exit 1
	}
	# (grep -c, not -q: under pipefail an early exit fails the pipe)
	[ "$(readelf -S "$lib" | grep -c '\.debug_info')" != 0 ] ||
		skip "lib$name.so has no debug info: abidiff needs DWARF types"
	# No --headers-dir: the library exports vpnr_* only, so every
	# function compared is public API (and a header filter would
	# depend on where the tree and the baseline were checked out).
	abidiff "$base" "$lib" >"$tmp/diff" 2>&1
	rc=$?
	checked=$((checked + 1))
	if [ $((rc & 1)) -ne 0 ] || [ $((rc & 2)) -ne 0 ]; then
		cat "$tmp/diff" >&2
		echo "FAIL: abidiff could not compare lib$name (exit $rc)"
		fail=1
	elif [ $((rc & 12)) -ne 0 ] && ! only_added "$tmp/diff"; then
		cat "$tmp/diff" >&2
		echo "FAIL: lib$name: ABI change against $base" \
		    "(intended? run tests/packaging/update-abi-baseline.sh and list it in CHANGELOG.md)"
		fail=1
	elif [ $((rc & 12)) -ne 0 ]; then
		cat "$tmp/diff"
		echo "PASS: lib$name: only added functions or variables (see above)"
	else
		echo "PASS: lib$name: ABI identical to $(basename "$base")"
	fi
done
[ $checked -eq 0 ] && skip "no ABI baseline in $abi_dir"
if [ $fail -ne 0 ]; then
	echo "check-abi: FAILED"
	exit 1
fi
echo "check-abi: all checks passed"
