#!/bin/bash
# IKEv2 handshakes/s through the bindings beside the C figure, in the
# same run: bench_ike_handshake (C, the anchor), then the same exchange
# driven from Python (cffi) and Go (cgo, one owner goroutine per
# context).  The gap is the binding's per-call cost (about ten calls and
# five callbacks per handshake).
#
#   bench_bindings.sh [BUILD_DIR] [seconds per group, default 2]
set -u
build=${1:-${VPNR_BUILD_DIR:-$(dirname "$0")/../../build}}
secs=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)

echo "== C (anchor): $build/tests/bench_ike_handshake"
"$build/tests/bench_ike_handshake" "$secs" || exit 1
echo
echo "== bindings, same exchange (best of three rounds)"
printf '%-7s %-10s %14s %8s\n' binding group handshakes/s fails
if [ -f "$build/examples/python/lib/vpnroute/__init__.py" ]; then
	PYTHONPATH=$build/examples/python/lib PYTHONDONTWRITEBYTECODE=1 \
	    /usr/bin/python3 "$here/bench_python_handshake.py" "$secs" || exit 1
else
	echo "python  (not built: $build/examples/python/lib)"
fi
if [ -x "$build/examples/go/vpnr-go-bench" ]; then
	"$build/examples/go/vpnr-go-bench" "$secs" || exit 1
else
	echo "go      (not built: $build/examples/go/vpnr-go-bench)"
fi
