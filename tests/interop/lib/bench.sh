# shellcheck shell=bash
# The two halves of a bench on the interop topologies (tests/bench/
# bench_failure.sh, bench_failover.sh): a driver that runs each side
# ("phase": ours, the anchor, ...) in a process of its own, one after the
# other, each in fresh namespaces, and prints their figures side by side;
# a phase writes "KEY value" lines to its result file.  Needs nothing
# else; a phase sources common.sh and the rest itself.
#
#   bench_phases SCRIPT DIR SIDES ARGS...   runs SCRIPT --phase SIDE
#                           DIR/SIDE ARGS... for each of SIDES in turn
#   bench_get DIR SIDE KEY  that phase's value of KEY, or "-"
#   bench_phase OUT         (in a phase) put, fail and note write to OUT:
#     put KEY VALUE         one figure
#     fail MSG              logged, noted ("stopped: MSG"), exit 1
#     note MSG              logged with the phase's name ("timeout", not
#                           "timeouts", when a figure is followed by "s")

bench_phases() {
	local script=$1 dir=$2 sides=$3 side
	shift 3
	for side in $sides; do
		echo "# running $side ..." >&2
		bash "$script" --phase "$side" "$dir/$side" "$@" ||
			echo "# $side: the phase failed (exit $?); its figures are incomplete" >&2
	done
}

bench_get() {
	awk -v k="$3" '$1 == k { $1 = ""; sub(/^ /, ""); print; f = 1 } END { if (!f) print "-" }' \
		"$1/$2" 2>/dev/null || echo -
}

bench_phase() {
	BENCH_OUT=$1
	: >"$BENCH_OUT"
}
put() { echo "$1 $2" >>"$BENCH_OUT"; }
fail() { vi_log "FAIL: $*"; put notes "stopped: $*"; exit 1; }
note() { vi_log "$PHASE: ${*//timeouts/timeout}"; }
