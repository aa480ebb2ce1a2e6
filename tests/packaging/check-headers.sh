#!/usr/bin/env bash
# Packaging check: the public headers, as a consumer's compiler sees them.
#
#  1. each header compiles on its own as C99 and C11 (-pedantic) and as
#     C++17, with -Wall -Wextra -Werror, under gcc/g++ and, when
#     installed, clang/clang++;
#  2. the layout asserts hold (they are compiled in step 1) and are
#     live: a deliberately wrong VPNR_LAYOUT_SIZE must fail to compile
#     in every dialect;
#  3. every public struct has its layout pinned (a VPNR_LAYOUT_SIZE
#     line in its header).
#
# Usage: tests/packaging/check-headers.sh [BUILD_DIR] (for version.h).
# Exit 0 pass, 1 fail, 77 skip.
set -u -o pipefail

src_dir=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${1:-${VPNR_BUILD_DIR:-$src_dir/build}}
fail=0
pass() { echo "PASS: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fail=1
}

[ -f "$build_dir/include/vpnroute/version.h" ] || {
	echo "SKIP: no generated version.h in $build_dir"
	exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-hdr.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

inc=(-I"$src_dir/include" -I"$build_dir/include")
read -r -a uv_inc <<<"$(pkg-config --cflags-only-I libuv 2>/dev/null)"
# <uv.h> needs POSIX types; our own headers must not.
posix=(-D_POSIX_C_SOURCE=200809L)
warn=(-Wall -Wextra -Werror)

compilers=()
for c in gcc clang; do command -v $c >/dev/null 2>&1 && compilers+=("$c:c")
done
for c in g++ clang++; do command -v $c >/dev/null 2>&1 && compilers+=("$c:c++")
done
command -v g++ >/dev/null 2>&1 || bad "g++ is not installed (build-essential): C++17 not checked"

# dialects per language
dialects() {
	case $1 in
	c) echo "-std=c99 -std=c99:-pedantic -std=c11:-pedantic" ;;
	c++) echo "-std=c++17 -std=c++17:-pedantic" ;;
	esac
}

compile() { # compiler lang std-and-flags file -> status
	local cc=$1 lang=$2 flags=${3//:/ } file=$4 extra=()
	grep -q vpnroute_uv "$file" && extra=("${posix[@]}" "${uv_inc[@]}")
	# shellcheck disable=SC2086 # flags is a word list
	"$cc" -x "$lang" $flags "${warn[@]}" -fsyntax-only "${inc[@]}" \
	    "${extra[@]}" "$file" >"$tmp/log" 2>&1
}

# -- 1. each header alone, every dialect ------------------------------
for h in "$src_dir"/include/vpnroute/*.h "$build_dir/include/vpnroute/version.h"; do
	name=vpnroute/$(basename "$h")
	printf '#include <%s>\ntypedef int vpnr_hdr_check_t;\n' "$name" >"$tmp/one.c"
	ok=1
	for cl in "${compilers[@]}"; do
		cc=${cl%%:*}
		lang=${cl##*:}
		for d in $(dialects "$lang"); do
			if ! compile "$cc" "$lang" "$d" "$tmp/one.c"; then
				head -n 20 "$tmp/log" >&2
				bad "<$name> with $cc ${d//:/ }"
				ok=0
			fi
		done
	done
	[ $ok = 1 ] && pass "<$name> alone: ${compilers[*]} (C99, C11, C++17)"
done

# -- 2. the layout asserts are live ----------------------------------
cat >"$tmp/wrong.c" <<'EOF'
#include <vpnroute/vpnroute.h>
/* vpnr_addr is 24 bytes: this must not compile. */
VPNR_LAYOUT_SIZE(vpnr_addr, bytes, 25);
EOF
cat >"$tmp/right.c" <<'EOF'
#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>
VPNR_LAYOUT_SIZE(vpnr_addr, bytes, 24);
EOF
for cl in "${compilers[@]}"; do
	cc=${cl%%:*}
	lang=${cl##*:}
	for d in $(dialects "$lang"); do
		if compile "$cc" "$lang" "$d" "$tmp/wrong.c"; then
			bad "a wrong layout assert compiles with $cc ${d//:/ }: asserts are not live"
		elif ! grep -q -i "assert\|negative" "$tmp/log"; then
			head -n 5 "$tmp/log" >&2
			bad "wrong layout assert failed for another reason ($cc ${d//:/ })"
		fi
		compile "$cc" "$lang" "$d" "$tmp/right.c" ||
			bad "all headers with a right assert ($cc ${d//:/ })"
	done
done
[ $fail = 0 ] && pass "layout asserts hold and are live in every dialect"

# -- 3. every public struct is pinned ---------------------------------
for h in "$src_dir"/include/vpnroute/*.h; do
	for t in $(sed -n 's/^typedef struct \(vpnr_[a-z0-9_]*\) {.*/\1/p' "$h"); do
		grep -q "VPNR_LAYOUT_SIZE($t," "$h" ||
			bad "$t in $(basename "$h") has no VPNR_LAYOUT_SIZE line"
	done
done
n=$(cat "$src_dir"/include/vpnroute/*.h | grep -c '^typedef struct vpnr_[a-z0-9_]* {')
[ $fail = 0 ] && pass "all $n public structs have their layout pinned"

if [ $fail -ne 0 ]; then
	echo "check-headers: FAILED"
	exit 1
fi
echo "check-headers: all checks passed"
