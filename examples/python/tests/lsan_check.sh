#!/bin/bash
# Run a command under the ASan runtime (LD_PRELOAD, since python3 itself
# is not instrumented) with leak detection, and fail if LeakSanitizer
# reports a leak allocated inside libvpnroute (a frame "in vpnr_").  The
# interpreter's own allocations still alive at exit are not ours and are
# ignored.
#   lsan_check.sh ASAN_RUNTIME CMD...
set -uo pipefail
rt=$1
shift
log=$(mktemp -d /tmp/vpnr-lsan.XXXXXX)
trap 'rm -rf "$log"' EXIT
LD_PRELOAD=$rt ASAN_OPTIONS=detect_leaks=1:exitcode=23:log_path=$log/asan \
    VPNR_UNDER_ASAN=1 "$@"
rc=$?
# 23 is ASan's exit code, here also for the interpreter's own leaks;
# any other ASan error (use after free, overflow ...) fails outright.
if grep -q "ERROR: AddressSanitizer" "$log"/asan* 2>/dev/null ||
    { [ $rc != 0 ] && [ $rc != 23 ]; }; then
	cat "$log"/asan* 2>/dev/null | head -80
	exit 1
fi
# Report blocks are separated by blank lines; count those of ours.
ours=$(cat "$log"/asan* 2>/dev/null |
    awk 'BEGIN { RS = "" } /leak of/ && / in vpnr_/ { n++; print > "/dev/stderr" } END { print n + 0 }')
echo "LeakSanitizer: $ours leak(s) from libvpnroute"
[ "$ours" = 0 ]
