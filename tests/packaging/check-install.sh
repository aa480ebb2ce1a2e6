#!/usr/bin/env bash
# Packaging check: install a built tree into a scratch prefix and use it
# the way a downstream project would.
#
#  1. cmake --install BUILD --prefix TMP
#  2. the shared library's SONAME is libvpnroute.so.<ABI> (0.<minor>
#     before 1.0, <major> after), the dev symlink and real file exist;
#  3. its dynamic symbol table exports vpnr_* only: no vpnr__ internals,
#     no OpenSSL/libuv/libbsd or static helper leaking out;
#  4. a small consumer (vpnr_version, vpnr_ctx_new/del) builds and runs
#     twice: with pkg-config and with CMake find_package(vpnroute);
#  5. the installed headers are self-contained (C11 -Wall -Wextra
#     -Werror -pedantic) and usable from C++ if a C++ compiler exists.
#
# Usage: tests/packaging/check-install.sh [BUILD_DIR]
#   (default $VPNR_BUILD_DIR, else <source>/build).  Exit 0 pass,
#   1 fail, 77 skip (no build, or a static-only build).
set -u -o pipefail

src_dir=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${1:-${VPNR_BUILD_DIR:-$src_dir/build}}
cc=${CC:-cc}
cxx=${CXX:-c++}

fail=0
pass() { echo "PASS: $*"; }
bad() {
	echo "FAIL: $*" >&2
	fail=1
}
skip() {
	echo "SKIP: $*"
	exit 77
}

[ -f "$build_dir/CMakeCache.txt" ] || skip "$build_dir is not a CMake build directory"
for tool in cmake pkg-config nm readelf "$cc"; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
grep -q '^BUILD_SHARED_LIBS:BOOL=ON' "$build_dir/CMakeCache.txt" ||
	skip "static build (BUILD_SHARED_LIBS=OFF): nothing to check"
# A sanitizer/fuzzer build is not a package: consumers would need the
# sanitizer runtimes.
grep -q -E '^VPNR_(SANITIZE|BUILD_FUZZERS):BOOL=ON' "$build_dir/CMakeCache.txt" &&
	skip "sanitizer or fuzzer build: not a distributable library"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-pkg.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
prefix=$tmp/prefix

# -- 1. install ------------------------------------------------------
# Build the library first so the script also works on a fresh tree.
if ! cmake --build "$build_dir" --target vpnroute >"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" >&2
	bad "building target vpnroute failed"
	exit 1
fi
if ! cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	bad "cmake --install failed"
	exit 1
fi
pass "cmake --install --prefix $prefix"

so=$(find "$prefix" -name 'libvpnroute.so' \( -type l -o -type f \) | head -n 1)
[ -n "$so" ] || {
	bad "no libvpnroute.so under $prefix"
	exit 1
}
libdir=$(dirname "$so")
real=$(readlink -f "$so")

# -- 2. SONAME -------------------------------------------------------
vh=$prefix/include/vpnroute/version.h
major=$(sed -n 's/^#define VPNR_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' "$vh")
minor=$(sed -n 's/^#define VPNR_VERSION_MINOR[[:space:]]*\([0-9]*\).*/\1/p' "$vh")
if [ "${major:-x}" = 0 ]; then
	abi=0.$minor
else
	abi=$major
fi
want_soname=libvpnroute.so.$abi
soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = "$want_soname" ]; then
	pass "SONAME $soname"
else
	bad "SONAME is '$soname', want '$want_soname' (version $major.$minor)"
fi
if [ -e "$libdir/$want_soname" ]; then
	pass "$want_soname link installed"
else
	bad "$libdir/$want_soname missing"
fi

# -- 3. exported symbols ---------------------------------------------
# Defined dynamic symbols other than vpnr_*; the linker's own section
# markers (_init, _fini, _edata, _end, __bss_start) are legitimate.
nm -D --defined-only "$real" | awk '{ print $NF }' | sed 's/@.*//' |
	sort -u >"$tmp/exports"
grep -v -E '^(vpnr_[A-Za-z0-9]|_init$|_fini$|_edata$|_end$|__bss_start$)' \
	"$tmp/exports" >"$tmp/foreign" || true
grep -E '^vpnr__' "$tmp/exports" >"$tmp/internal" || true
nexp=$(grep -c -E '^vpnr_[A-Za-z0-9]' "$tmp/exports" || true)
if [ -s "$tmp/foreign" ]; then
	bad "exported non-vpnr_ symbols: $(tr '\n' ' ' <"$tmp/foreign")"
elif [ -s "$tmp/internal" ]; then
	bad "exported internal vpnr__ symbols: $(tr '\n' ' ' <"$tmp/internal")"
elif [ "$nexp" -eq 0 ]; then
	bad "no vpnr_* symbol exported at all"
else
	pass "exports: $nexp vpnr_* symbols, nothing else"
fi
# Nothing the library calls may be left unresolved in itself (the
# link does not use -z defs): a declared-but-unimplemented API function
# would only fail in the consumer's link.
nm -D --undefined-only "$real" | awk '{ print $NF }' | grep -E '^vpnr_' |
	sort -u >"$tmp/undef" || true
if [ -s "$tmp/undef" ]; then
	bad "library references undefined vpnr_ symbols: $(tr '\n' ' ' <"$tmp/undef")"
else
	pass "no unresolved vpnr_ references"
fi
# Every exported function is declared in an installed header.
missing=()
while read -r sym; do
	grep -r -q -w "$sym" "$prefix/include/vpnroute" || missing+=("$sym")
done < <(grep -E '^vpnr_[A-Za-z0-9]' "$tmp/exports")
if [ ${#missing[@]} -gt 0 ]; then
	bad "exported but in no installed header: ${missing[*]}"
else
	pass "every export is declared in include/vpnroute/"
fi

# -- 4. consumers ----------------------------------------------------
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/consumer.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

int
main(void)
{
	const vpnr_info *info;
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_ctx *ctx = NULL;
	int rc;

	if ((info = vpnr_version(0)) == NULL) {
		fprintf(stderr, "vpnr_version(0) returned NULL\n");
		return 1;
	}
	if (info->version_num != VPNR_VERSION_NUM ||
	    strcmp(info->version_str, VPNR_VERSION) != 0) {
		fprintf(stderr, "header %s but library %s\n", VPNR_VERSION,
		    info->version_str);
		return 1;
	}
	if (vpnr_version(VPNR_VERSION_NUM + 1) != NULL) {
		fprintf(stderr, "vpnr_version accepts a newer minimum\n");
		return 1;
	}
	memset(&cb, 0, sizeof(cb));
	memset(&dp, 0, sizeof(dp));
	rc = vpnr_ctx_new(&ctx, NULL, &cb, NULL, &dp, NULL, NULL);
	if (rc != VPNR_OK || ctx == NULL) {
		fprintf(stderr, "vpnr_ctx_new: %d\n", rc);
		return 1;
	}
	vpnr_ctx_del(ctx);
	printf("libvpnroute %s (%s) ok\n", info->version_str,
	    info->crypto_str != NULL ? info->crypto_str : "?");
	return 0;
}
EOF

run_consumer() { # label binary
	local out
	if out=$(LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$2" 2>&1); then
		pass "$1 consumer runs: $out"
	else
		bad "$1 consumer failed: $out"
	fi
	# It must have loaded the freshly installed library.
	# (No grep -q: with pipefail an early exit would fail the pipe.)
	if ! LD_LIBRARY_PATH=$libdir ldd "$2" 2>/dev/null |
		grep -F "libvpnroute.so.$abi => $libdir/" >/dev/null; then
		bad "$1 consumer does not resolve libvpnroute.so.$abi from $libdir"
	fi
}

# 4a. pkg-config.  The .pc records the configure-time prefix.  When
# that is not where we installed (staging, as here) and the file is not
# relocatable, consume a copy with prefix= pointing at the scratch
# install, as a packager's relocation would.
pc=$libdir/pkgconfig/vpnroute.pc
if [ ! -f "$pc" ]; then
	bad "vpnroute.pc not installed in $libdir/pkgconfig"
else
	export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
	pc_version=$(pkg-config --modversion vpnroute 2>/dev/null)
	[ "$pc_version" = "$(sed -n 's/^#define VPNR_VERSION[[:space:]]*"\(.*\)"/\1/p' "$vh")" ] ||
		bad "vpnroute.pc Version '$pc_version' does not match version.h"
	if ! pkg-config --cflags vpnroute | grep -F -- "-I$prefix/" >/dev/null; then
		echo "note: vpnroute.pc is not relocatable ($(sed -n 's/^prefix=//p' "$pc")); using a copy with prefix=$prefix"
		mkdir -p "$tmp/pc"
		sed "s|^prefix=.*|prefix=$prefix|" "$pc" >"$tmp/pc/vpnroute.pc"
		export PKG_CONFIG_PATH=$tmp/pc:$PKG_CONFIG_PATH
	fi
	if ! flags=$(pkg-config --cflags --libs vpnroute 2>&1); then
		bad "pkg-config vpnroute: $flags"
	else
		# shellcheck disable=SC2086 # pkg-config output is a word list
		if "$cc" -Wall -Wextra -Werror -o "$tmp/consumer/pc-consumer" \
		    "$tmp/consumer/consumer.c" $flags >"$tmp/pc.log" 2>&1; then
			pass "pkg-config build ($flags)"
			run_consumer pkg-config "$tmp/consumer/pc-consumer"
		else
			cat "$tmp/pc.log" >&2
			bad "compiling with pkg-config flags failed"
		fi
	fi
fi

# 4b. CMake find_package.
mkdir -p "$tmp/cmake-src"
cp "$tmp/consumer/consumer.c" "$tmp/cmake-src/"
cat >"$tmp/cmake-src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.20)
project(vpnroute_consumer LANGUAGES C)
find_package(vpnroute 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_compile_options(consumer PRIVATE -Wall -Wextra -Werror)
target_link_libraries(consumer PRIVATE vpnroute::vpnroute)
EOF
if cmake -S "$tmp/cmake-src" -B "$tmp/cmake-build" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/cmake-build" >>"$tmp/cmake.log" 2>&1; then
	found=$(sed -n 's/^vpnroute_DIR:PATH=//p' "$tmp/cmake-build/CMakeCache.txt")
	case $found in
	"$prefix"/*) pass "find_package(vpnroute) from $found" ;;
	*) bad "find_package picked $found, not the scratch install" ;;
	esac
	run_consumer cmake "$tmp/cmake-build/consumer"
else
	cat "$tmp/cmake.log" >&2
	bad "CMake find_package(vpnroute) consumer failed"
fi

# -- 5. header hygiene -----------------------------------------------
read -r -a uv_inc <<<"$(pkg-config --cflags-only-I libuv 2>/dev/null)"
for h in "$prefix"/include/vpnroute/*.h; do
	name=vpnroute/$(basename "$h")
	printf '#include <%s>\ntypedef int vpnr_hdr_check_t;\n' "$name" \
	    >"$tmp/hdr.c"
	# _DEFAULT_SOURCE: <uv.h> needs POSIX types; ours must not need it.
	if ! "$cc" -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -pedantic -fsyntax-only \
	    -I"$prefix/include" "${uv_inc[@]}" "$tmp/hdr.c" >"$tmp/hdr.log" 2>&1; then
		cat "$tmp/hdr.log" >&2
		bad "<$name> does not compile on its own (C11, -pedantic)"
		continue
	fi
	if command -v "$cxx" >/dev/null 2>&1; then
		cp "$tmp/hdr.c" "$tmp/hdr.cc"
		if ! "$cxx" -std=c++11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -fsyntax-only \
		    -I"$prefix/include" "${uv_inc[@]}" "$tmp/hdr.cc" >"$tmp/hdr.log" 2>&1; then
			cat "$tmp/hdr.log" >&2
			bad "<$name> does not compile as C++"
			continue
		fi
	fi
	pass "<$name> is self-contained"
done

if [ $fail -ne 0 ]; then
	echo "check-install: FAILED"
	exit 1
fi
echo "check-install: all checks passed"
exit 0
