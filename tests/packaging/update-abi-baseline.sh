#!/usr/bin/env bash
# Write the ABI baselines that check-abi.sh compares against:
# tests/packaging/abi/lib<name>.abi, abidw's XML of the exported
# functions (vpnr_* only) and the types they reach, from a
# RelWithDebInfo or Debug build.
# Run it when an ABI is released (0.2.0 on) or an intended change is
# made before then, and commit the result with the change.
#
# Usage: tests/packaging/update-abi-baseline.sh [BUILD_DIR]
set -eu -o pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${1:-$src_dir/build}
abi_dir=$src_dir/tests/packaging/abi

command -v abidw >/dev/null || {
	echo "abidw not installed (abigail-tools)" >&2
	exit 1
}
mkdir -p "$abi_dir"
for name in vpnroute vpnroute_uv; do
	cmake --build "$build_dir" --target "$name" >/dev/null
	[ "$(readelf -S "$build_dir/lib$name.so" | grep -c '\.debug_info')" != 0 ] || {
		echo "lib$name.so has no debug info: build RelWithDebInfo or Debug" >&2
		exit 1
	}
	# Only vpnr_* is exported, so every function in the dump is public
	# API.  No locations and source paths relative to the tree: the
	# file does not depend on where the tree was checked out.
	abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
	    --out-file "$abi_dir/lib$name.abi" "$build_dir/lib$name.so"
	sed -i "s|$src_dir/||g" "$abi_dir/lib$name.abi"
	echo "wrote $abi_dir/lib$name.abi"
done
