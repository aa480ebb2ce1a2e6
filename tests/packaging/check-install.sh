#!/usr/bin/env bash
# Packaging check: install a built tree into a scratch prefix and use it
# the way downstream projects would.
#
#  1. cmake --install BUILD --prefix TMP
#  2. per library (libvpnroute, libvpnroute_uv): SONAME lib<name>.so.<ABI>
#     (0.<minor> before 1.0), dev symlink, static archive; the dynamic
#     symbol table exports vpnr_* only, each declared in an installed
#     header; DT_NEEDED: the core has libcrypto and neither libuv nor
#     libbsd, the driver has the core and libuv; the static archives
#     define no global symbol outside vpnr_/vpnr__; every function
#     declared VPNR_API (the twins of the macros included) is exported;
#  3. the .pc files: no libbsd anywhere, libcrypto private for the core,
#     libuv only in vpnroute_uv.pc;
#  4. consumers build and run, each checked with ldd:
#       core, pkg-config, shared and static    (libuv.pc hidden)
#       core, find_package, shared and static  (libuv.pc hidden)
#       driver, pkg-config, shared and static
#       driver, find_package(COMPONENTS uv), shared and static
#
# Usage: tests/packaging/check-install.sh [BUILD_DIR]
#   (default $VPNR_BUILD_DIR, else <source>/build).  Exit 0 pass,
#   1 fail, 77 skip (no build, or a sanitizer/fuzzer build).
set -u -o pipefail

src_dir=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
build_dir=${1:-${VPNR_BUILD_DIR:-$src_dir/build}}
cc=${CC:-cc}

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
for tool in cmake pkg-config nm readelf ldd perl "$cc"; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed"
done
# A sanitizer/fuzzer build is not a package: consumers would need the
# sanitizer runtimes.
grep -q -E '^VPNR_(SANITIZE|BUILD_FUZZERS):BOOL=ON' "$build_dir/CMakeCache.txt" &&
	skip "sanitizer or fuzzer build: not a distributable library"
cache() { sed -n "s/^$1:BOOL=//p" "$build_dir/CMakeCache.txt"; }
[ "$(cache VPNR_BUILD_SHARED)" = ON ] || skip "no shared library in this build"
have_static=$(cache VPNR_BUILD_STATIC)
have_uv=$(cache VPNR_BUILD_UV)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vpnr-pkg.XXXXXX")
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
prefix=$tmp/prefix

# -- 1. install ------------------------------------------------------
targets=(vpnroute)
[ "$have_static" = ON ] && targets+=(vpnroute_static)
[ "$have_uv" = ON ] && targets+=(vpnroute_uv)
[ "$have_uv" = ON ] && [ "$have_static" = ON ] && targets+=(vpnroute_uv_static)
for t in "${targets[@]}"; do
	if ! cmake --build "$build_dir" --target "$t" >"$tmp/build.log" 2>&1; then
		tail -n 40 "$tmp/build.log" >&2
		bad "building target $t failed"
		exit 1
	fi
done
# Only the library package (component vpnroute), not the examples.
if ! cmake --install "$build_dir" --prefix "$prefix" --component vpnroute \
    >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	bad "cmake --install failed"
	exit 1
fi
pass "cmake --install --prefix $prefix (${targets[*]})"

vh=$prefix/include/vpnroute/version.h
major=$(sed -n 's/^#define VPNR_VERSION_MAJOR[[:space:]]*\([0-9]*\).*/\1/p' "$vh")
minor=$(sed -n 's/^#define VPNR_VERSION_MINOR[[:space:]]*\([0-9]*\).*/\1/p' "$vh")
version=$(sed -n 's/^#define VPNR_VERSION[[:space:]]*"\(.*\)"/\1/p' "$vh")
if [ "${major:-x}" = 0 ]; then abi=0.$minor; else abi=$major; fi
so=$(find "$prefix" -name 'libvpnroute.so' \( -type l -o -type f \) | head -n 1)
[ -n "$so" ] || {
	bad "no libvpnroute.so under $prefix"
	exit 1
}
libdir=$(dirname "$so")

# -- 2. the libraries ------------------------------------------------
nm -D --defined-only "$(readlink -f "$so")" | awk '{ print $NF }' |
	sed 's/@.*//' | sort -u >"$tmp/core-exports"

check_lib() { # name
	local name=$1 real soname needed
	real=$(readlink -f "$libdir/lib$name.so")
	[ -f "$real" ] || {
		bad "lib$name.so not installed"
		return
	}
	soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
	if [ "$soname" = "lib$name.so.$abi" ] && [ -e "$libdir/lib$name.so.$abi" ]; then
		pass "lib$name: SONAME $soname and its link"
	else
		bad "lib$name: SONAME '$soname' (want lib$name.so.$abi) or link missing"
	fi
	if [ "$have_static" = ON ]; then
		if [ -f "$libdir/lib$name.a" ]; then
			pass "lib$name.a installed"
		else
			bad "lib$name.a not installed"
		fi
	fi

	# Exports: vpnr_* only (the linker's section markers aside), no
	# vpnr__ internals, each declared in an installed header.
	nm -D --defined-only "$real" | awk '{ print $NF }' | sed 's/@.*//' |
		sort -u >"$tmp/exports"
	grep -v -E '^(vpnr_[A-Za-z0-9]|_init$|_fini$|_edata$|_end$|__bss_start$)' \
		"$tmp/exports" >"$tmp/foreign" || true
	grep -E '^vpnr__' "$tmp/exports" >"$tmp/internal" || true
	local nexp missing=()
	nexp=$(grep -c -E '^vpnr_[A-Za-z0-9]' "$tmp/exports" || true)
	if [ -s "$tmp/foreign" ]; then
		bad "lib$name exports non-vpnr_ symbols: $(tr '\n' ' ' <"$tmp/foreign")"
	elif [ -s "$tmp/internal" ]; then
		bad "lib$name exports internal symbols: $(tr '\n' ' ' <"$tmp/internal")"
	elif [ "$nexp" -eq 0 ]; then
		bad "lib$name exports nothing"
	else
		pass "lib$name exports $nexp vpnr_* symbols and nothing else"
	fi
	while read -r sym; do
		grep -r -q -w "$sym" "$prefix/include/vpnroute" || missing+=("$sym")
	done < <(grep -E '^vpnr_[A-Za-z0-9]' "$tmp/exports")
	if [ ${#missing[@]} -eq 0 ]; then
		pass "lib$name: every export is declared in a header"
	else
		bad "lib$name exports undeclared: ${missing[*]}"
	fi

	# vpnr_ references must be resolved: by itself (core) or the core.
	nm -D --undefined-only "$real" | awk '{ print $NF }' | sed 's/@.*//' |
		grep -E '^vpnr_' | sort -u >"$tmp/undef" || true
	comm -23 "$tmp/undef" "$tmp/core-exports" >"$tmp/unres"
	if [ -s "$tmp/unres" ]; then
		bad "lib$name references undefined: $(tr '\n' ' ' <"$tmp/unres")"
	else
		pass "lib$name: no unresolved vpnr_ reference"
	fi

	needed=$(readelf -d "$real" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	case $name in
	vpnroute)
		if [[ $needed == *libcrypto* && $needed != *libuv* && $needed != *libbsd* ]]; then
			pass "libvpnroute needs: $needed(OpenSSL, no libuv, no libbsd)"
		else
			bad "libvpnroute needs: $needed(want libcrypto, no libuv/libbsd)"
		fi
		;;
	vpnroute_uv)
		if [[ $needed == *"libvpnroute.so.$abi"* && $needed == *libuv* && $needed != *libbsd* ]]; then
			pass "libvpnroute_uv needs: $needed"
		else
			bad "libvpnroute_uv needs: $needed(want libvpnroute.so.$abi and libuv)"
		fi
		;;
	esac

	# A static archive puts every global symbol into the consumer's
	# namespace (visibility does not hide it there).
	if [ -f "$libdir/lib$name.a" ]; then
		nm -g --defined-only "$libdir/lib$name.a" 2>/dev/null |
			awk 'NF == 3 { print $3 }' | grep -v -E '^vpnr_' | sort -u >"$tmp/sglob" || true
		if [ -s "$tmp/sglob" ]; then
			bad "lib$name.a defines globals outside vpnr_: $(tr '\n' ' ' <"$tmp/sglob")"
		else
			pass "lib$name.a: every global symbol is vpnr_*"
		fi
	fi
}
check_lib vpnroute
[ "$have_uv" = ON ] && check_lib vpnroute_uv

# Every function declared VPNR_API in an installed header is exported
# by one of the libraries: no macro-only entry point that ctypes, cffi
# ABI mode or cgo could not call, no declared-but-missing function.
perl -0777 -ne 'while (/VPNR_API\b[^;(]*?\b(vpnr_\w+)\s*\(/gs) { print "$1\n" }' \
	"$prefix"/include/vpnroute/*.h | sort -u >"$tmp/declared"
for l in "$libdir"/libvpnroute*.so; do
	nm -D --defined-only "$(readlink -f "$l")" | awk '{ print $NF }' | sed 's/@.*//'
done | sort -u >"$tmp/all-exports"
comm -23 "$tmp/declared" "$tmp/all-exports" >"$tmp/unexported"
if [ -s "$tmp/unexported" ]; then
	bad "declared VPNR_API but exported by no library: $(tr '\n' ' ' <"$tmp/unexported")"
else
	pass "all $(wc -l <"$tmp/declared") VPNR_API functions are exported (macros included)"
fi

# -- 3. pkg-config files ---------------------------------------------
# A pkg-config search path of our prefix plus the system's .pc files
# without libuv: "a machine without libuv" for the core consumers.
mkdir -p "$tmp/pc-nouv" "$tmp/pc-all"
sys_pc=$(pkg-config --variable pc_path pkg-config 2>/dev/null ||
	echo /usr/lib/x86_64-linux-gnu/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig)
IFS=: read -r -a sys_dirs <<<"$sys_pc"
for d in "${sys_dirs[@]}"; do
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		b=$(basename "$f")
		[ -e "$tmp/pc-all/$b" ] || ln -s "$f" "$tmp/pc-all/$b"
		case $b in libuv*.pc) continue ;; esac
		[ -e "$tmp/pc-nouv/$b" ] || ln -s "$f" "$tmp/pc-nouv/$b"
	done
done
pc_nouv=$libdir/pkgconfig:$tmp/pc-nouv
pc_all=$libdir/pkgconfig:$tmp/pc-all
pcq() { # libdir-path args...
	local p=$1
	shift
	PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$p pkg-config "$@"
}

[ "$(pcq "$pc_nouv" --modversion vpnroute)" = "$version" ] &&
	pass "vpnroute.pc version $version, found without libuv" ||
	bad "vpnroute.pc missing or not version $version without libuv.pc"
if pcq "$pc_nouv" --exists libuv; then
	bad "the libuv-less pkg-config path still finds libuv"
fi
all_flags=$(pcq "$pc_all" --cflags --libs --static vpnroute vpnroute_uv 2>&1)
if [[ $all_flags == *-lbsd* || $all_flags == */bsd* || $all_flags == *LIBBSD* ]]; then
	bad "pkg-config leaks libbsd: $all_flags"
else
	pass "no libbsd in any .pc (--cflags --libs --static)"
fi
core_flags=$(pcq "$pc_nouv" --cflags --libs vpnroute)
[[ $core_flags == *-lcrypto* || $core_flags == *-luv* ]] &&
	bad "vpnroute.pc gives more than the core: $core_flags" ||
	pass "vpnroute.pc: $core_flags (libcrypto only with --static)"
[[ $(pcq "$pc_nouv" --libs --static vpnroute) == *-lcrypto* ]] ||
	bad "vpnroute.pc --static lacks -lcrypto"

# -- 4. consumers ----------------------------------------------------
mkdir -p "$tmp/src"
cat >"$tmp/src/core.c" <<'EOF'
/* A core consumer: no libuv anywhere. */
#include <stdio.h>
#include <string.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>

int
main(void)
{
	const vpnr_info *info;
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_tunnel_info ti;
	vpnr_ctx *ctx = NULL;
	vpnr_esp *esp = NULL;
	int rc;

	if ((info = vpnr_version(0)) == NULL ||
	    info->version_num != VPNR_VERSION_NUM ||
	    strcmp(info->version_str, VPNR_VERSION) != 0) {
		fprintf(stderr, "header %s, library %s\n", VPNR_VERSION,
		    info != NULL ? info->version_str : "?");
		return 1;
	}
	if (vpnr_version(VPNR_VERSION_NUM + 1) != NULL)
		return 1;
	memset(&cb, 0, sizeof(cb));
	memset(&dp, 0, sizeof(dp));
	/* The macro, then the exported function behind it. */
	if ((rc = vpnr_ctx_new(&ctx, NULL, &cb, NULL, &dp, NULL, NULL)) != 0)
		return 1;
	vpnr_ctx_del(ctx);
	if ((rc = (vpnr_ctx_new)(&ctx, NULL, &cb, NULL, vpnr_esp_dataplane(),
		 NULL, NULL)) != 0)
		return 1;
	if ((vpnr_tunnel_get_info)(ctx, 1, &ti) != VPNR_ERR_NOT_FOUND ||
	    vpnr_tunnel_get_info_versioned(ctx, 1,
		VPNR_TUNNEL_INFO_VERSION + 1, &ti) != VPNR_ERR_INVALID_ARGUMENT)
		return 1;
	vpnr_ctx_del(ctx);
	if (vpnr_esp_new(&esp, NULL) != VPNR_OK)
		return 1;
	vpnr_esp_del(esp);
	printf("core %s (%s) ok\n", info->version_str, info->crypto_str);
	return 0;
}
EOF
cat >"$tmp/src/uv.c" <<'EOF'
/* A libuv driver consumer: binds two loopback ports, closes. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

static int closed;

static void
on_closed(void *arg)
{
	(void)arg;
	closed = 1;
}

int
main(void)
{
	uv_loop_t loop;
	vpnr_uv_options o;
	vpnr_callbacks cb;
	vpnr_uv *uv;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&cb, 0, sizeof(cb));
	if (vpnr_addr_parse(&o.bind_addr, "127.0.0.1") != VPNR_OK)
		return 1;
	o.ike_port = (uint16_t)(57000 + (getpid() % 1000) * 2);
	o.natt_port = (uint16_t)(o.ike_port + 1);
	uv_loop_init(&loop);
	if ((rc = vpnr_uv_new(&uv, &loop, NULL, &cb, NULL, NULL, NULL, &o)) !=
	    VPNR_OK) {
		fprintf(stderr, "vpnr_uv_new: %s\n", vpnr_strerror(rc));
		return 1;
	}
	if (vpnr_uv_ctx(uv) == NULL || vpnr_uv_close(uv, on_closed, NULL) != 0)
		return 1;
	uv_run(&loop, UV_RUN_DEFAULT);
	if (!closed || uv_loop_close(&loop) != 0)
		return 1;
	printf("driver on libuv %s ok\n", uv_version_string());
	return 0;
}
EOF

run_consumer() { # label binary kind(shared|static) lib
	local label=$1 bin=$2 kind=$3 lib=$4 out deps
	if out=$(LD_LIBRARY_PATH=$libdir "$bin" 2>&1); then
		pass "$label runs: $out"
	else
		bad "$label failed: $out"
		return
	fi
	deps=$(LD_LIBRARY_PATH=$libdir ldd "$bin" 2>/dev/null)
	if [ "$kind" = shared ]; then
		grep -F "lib$lib.so.$abi => $libdir/" >/dev/null <<<"$deps" ||
			bad "$label does not load lib$lib.so.$abi from $libdir"
	else
		grep -F "libvpnroute" >/dev/null <<<"$deps" &&
			bad "$label (static) still loads a shared libvpnroute"
	fi
	if [ "$lib" = vpnroute ] && grep -F libuv >/dev/null <<<"$deps"; then
		bad "$label (core) loads libuv"
	fi
}

# 4a. pkg-config.  Static: the archives by name (-l:lib<x>.a), the
# rest from --static.
pc_build() { # label pcpath module src kind
	local label=$1 p=$2 mod=$3 src=$4 kind=$5 flags
	if [ "$kind" = static ]; then
		flags=$(pcq "$p" --cflags --libs --static "$mod") || {
			bad "$label: pkg-config --static $mod"
			return
		}
		flags=$(sed -e 's/-lvpnroute_uv\b/-l:libvpnroute_uv.a/' \
		    -e 's/-lvpnroute\b/-l:libvpnroute.a/' <<<"$flags")
	else
		flags=$(pcq "$p" --cflags --libs "$mod") || {
			bad "$label: pkg-config $mod"
			return
		}
	fi
	# shellcheck disable=SC2086 # pkg-config output is a word list
	if "$cc" -Wall -Wextra -Werror -o "$tmp/$label" "$tmp/src/$src" $flags \
	    >"$tmp/cc.log" 2>&1; then
		pass "$label builds ($flags)"
		run_consumer "$label" "$tmp/$label" "$kind" "${mod}"
	else
		cat "$tmp/cc.log" >&2
		bad "$label does not build with: $flags"
	fi
}
pc_build pc-core-shared "$pc_nouv" vpnroute core.c shared
[ "$have_static" = ON ] && pc_build pc-core-static "$pc_nouv" vpnroute core.c static
if [ "$have_uv" = ON ]; then
	pc_build pc-uv-shared "$pc_all" vpnroute_uv uv.c shared
	[ "$have_static" = ON ] && pc_build pc-uv-static "$pc_all" vpnroute_uv uv.c static
fi

# 4b. find_package: the core with libuv.pc hidden (the uv component
# must then be absent, not an error), the driver as component uv.
cm_build() { # label pcpath cmakelists-body
	local label=$1 p=$2 d=$tmp/$1
	mkdir -p "$d/src"
	cp "$tmp/src/core.c" "$tmp/src/uv.c" "$d/src/"
	printf '%s\n' "$3" >"$d/src/CMakeLists.txt"
	if PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$p cmake -S "$d/src" -B "$d/b" \
	    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
	    >"$d/log" 2>&1 && cmake --build "$d/b" >>"$d/log" 2>&1; then
		local found
		found=$(sed -n 's/^vpnroute_DIR:PATH=//p' "$d/b/CMakeCache.txt")
		case $found in
		"$prefix"/*) pass "$label: find_package(vpnroute) from $found" ;;
		*) bad "$label: find_package picked $found" ;;
		esac
		return 0
	fi
	tail -n 30 "$d/log" >&2
	bad "$label: CMake consumer failed"
	return 1
}
head='cmake_minimum_required(VERSION 3.20)
project(consumer LANGUAGES C)'
body="$head
find_package(vpnroute 0.1 REQUIRED)
if(vpnroute_uv_FOUND OR TARGET vpnroute::vpnroute_uv)
  message(FATAL_ERROR \"libuv is hidden, yet the uv component was found\")
endif()
add_executable(core_shared core.c)
target_compile_options(core_shared PRIVATE -Wall -Wextra -Werror)
target_link_libraries(core_shared PRIVATE vpnroute::vpnroute)"
[ "$have_static" = ON ] && body="$body
add_executable(core_static core.c)
target_link_libraries(core_static PRIVATE vpnroute::vpnroute_static)"
if cm_build cmake-core "$pc_nouv" "$body"; then
	run_consumer cmake-core-shared "$tmp/cmake-core/b/core_shared" shared vpnroute
	[ "$have_static" = ON ] &&
		run_consumer cmake-core-static "$tmp/cmake-core/b/core_static" static vpnroute
fi
if [ "$have_uv" = ON ]; then
	# Asking for the driver where libuv is missing fails at configure
	# time, naming the component (not later, at link time).
	mkdir -p "$tmp/cmake-nouv/src"
	printf '%s\n' "$head" 'find_package(vpnroute 0.1 REQUIRED COMPONENTS uv)' \
	    >"$tmp/cmake-nouv/src/CMakeLists.txt"
	if PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR=$pc_nouv cmake -S "$tmp/cmake-nouv/src" \
	    -B "$tmp/cmake-nouv/b" -DCMAKE_PREFIX_PATH="$prefix" \
	    -DCMAKE_C_COMPILER="$cc" >"$tmp/cmake-nouv/log" 2>&1; then
		bad "find_package(vpnroute COMPONENTS uv) succeeds without libuv"
	elif grep -q 'component.*uv\|uv.*component' "$tmp/cmake-nouv/log"; then
		pass "find_package(vpnroute COMPONENTS uv) without libuv fails, naming uv"
	else
		tail -n 10 "$tmp/cmake-nouv/log" >&2
		bad "find_package(vpnroute COMPONENTS uv) without libuv failed for another reason"
	fi
	body="$head
find_package(vpnroute 0.1 REQUIRED COMPONENTS uv)
add_executable(uv_shared uv.c)
target_compile_options(uv_shared PRIVATE -Wall -Wextra -Werror)
target_link_libraries(uv_shared PRIVATE vpnroute::vpnroute_uv)"
	[ "$have_static" = ON ] && body="$body
add_executable(uv_static uv.c)
target_link_libraries(uv_static PRIVATE vpnroute::vpnroute_uv_static)"
	if cm_build cmake-uv "$pc_all" "$body"; then
		run_consumer cmake-uv-shared "$tmp/cmake-uv/b/uv_shared" shared vpnroute_uv
		[ "$have_static" = ON ] &&
			run_consumer cmake-uv-static "$tmp/cmake-uv/b/uv_static" static vpnroute_uv
	fi
fi

if [ $fail -ne 0 ]; then
	echo "check-install: FAILED"
	exit 1
fi
echo "check-install: all checks passed"
exit 0
