# shellcheck shell=bash
# Helpers for the BGP interop tests (test_bgp_bird.sh, test_bgp_gobgp.sh):
# two network namespaces joined by a veth, our bgp_speaker on one side,
# BIRD 2 or GoBGP (or a scripted fake peer) on the other.  No tunnel.
#
#   us   ($BI_NS_US)   us0   169.254.21.1/30  fd00:21::1/64   AS 65010
#   peer ($BI_NS_PEER) peer0 169.254.21.2/30  fd00:21::2/64   AS 65050
#
# Everything is created under a per-run prefix and removed by the EXIT
# trap; only pids this script started are killed; a watchdog bounds the
# whole run (BI_MAX_SECONDS, default 300).  Exit 77 = skipped.

BI_PREFIX=${BI_PREFIX:-vb$$}
BI_RUN=${BI_RUN:-/tmp/vpnr-bgp-$BI_PREFIX}
BI_NS_US=$BI_PREFIX-us
BI_NS_PEER=$BI_PREFIX-peer
BI_US4=169.254.21.1
BI_PEER4=169.254.21.2
BI_US6=fd00:21::1
BI_PEER6=fd00:21::2
BI_US_AS=65010
BI_PEER_AS=65050
BI_MAX_SECONDS=${BI_MAX_SECONDS:-300}
BI_NAME=${BI_NAME:-bgp}
BI_PIDS=""
BI_WATCHDOG=""

bi_log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "$BI_NAME" "$*" >&2; }
bi_skip() { bi_log "SKIP: $*"; exit 77; }
bi_dump() {
	local f
	[ -d "$BI_RUN" ] || return 0
	for f in "$BI_RUN"/*.out "$BI_RUN"/*.err "$BI_RUN"/*.log "$BI_RUN"/routes; do
		[ -s "$f" ] || continue
		echo "----- tail of $f" >&2
		tail -n "${BI_DUMP_LINES:-40}" "$f" >&2
	done
}
bi_fail() { bi_log "FAIL: $*"; bi_dump; exit 1; }

bi_cleanup() {
	local p ns
	for p in $BI_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	[ -f "$BI_RUN/bird.pid" ] && kill -KILL "$(cat "$BI_RUN/bird.pid")" 2>/dev/null
	sleep 0.3
	for p in $BI_PIDS; do
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "$BI_NS_US" "$BI_NS_PEER"; do
		if ip netns list 2>/dev/null | grep -qw "$ns"; then
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				kill -KILL "$p" 2>/dev/null
			done
			ip netns del "$ns" 2>/dev/null
		fi
	done
	[ -n "$BI_WATCHDOG" ] && kill "$BI_WATCHDOG" 2>/dev/null
	if [ "${BI_KEEP:-0}" != 1 ]; then rm -rf "$BI_RUN"; fi
	return 0
}

# bi_init NAME TOOL...
bi_init() {
	local t
	BI_NAME=$1
	shift
	[ "$(id -u)" = 0 ] || bi_skip "needs root (network namespaces)"
	for t in ip timeout python3 "$@"; do
		command -v "$t" >/dev/null 2>&1 || bi_skip "missing $t"
	done
	if [ -z "${VPNR_BUILD_DIR:-}" ]; then
		VPNR_BUILD_DIR=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/build
	fi
	BI_SPEAKER=$VPNR_BUILD_DIR/examples/bgp_speaker
	[ -x "$BI_SPEAKER" ] || bi_skip "no $BI_SPEAKER (build the examples)"
	BI_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	rm -rf "$BI_RUN"
	mkdir -p "$BI_RUN" || bi_skip "cannot create $BI_RUN"
	chmod 755 "$BI_RUN"
	trap 'bi_cleanup' EXIT
	trap 'bi_log "interrupted"; exit 1' INT TERM
	# Polls once a second and ends with the test, so that no sleeping
	# child keeps ctest's output pipe open after the test is done.
	(
		end=$((SECONDS + BI_MAX_SECONDS))
		while [ $SECONDS -lt $end ]; do
			sleep 1
			kill -0 $$ 2>/dev/null || exit 0
		done
		echo "[watchdog] $BI_NAME exceeded ${BI_MAX_SECONDS}s" >&2
		kill -TERM $$ 2>/dev/null
	) &
	BI_WATCHDOG=$!
}

bi_netns() {
	ip netns add "$BI_NS_US" || return 1
	ip netns add "$BI_NS_PEER" || return 1
	ip link add "$BI_PREFIX-u" type veth peer name "$BI_PREFIX-p" || return 1
	ip link set "$BI_PREFIX-u" netns "$BI_NS_US" name us0
	ip link set "$BI_PREFIX-p" netns "$BI_NS_PEER" name peer0
	ip -n "$BI_NS_US" link set lo up
	ip -n "$BI_NS_PEER" link set lo up
	ip -n "$BI_NS_US" addr add $BI_US4/30 dev us0
	ip -n "$BI_NS_PEER" addr add $BI_PEER4/30 dev peer0
	ip -n "$BI_NS_US" addr add $BI_US6/64 dev us0 nodad
	ip -n "$BI_NS_PEER" addr add $BI_PEER6/64 dev peer0 nodad
	ip -n "$BI_NS_US" link set us0 up
	ip -n "$BI_NS_PEER" link set peer0 up
}

# bi_wait_for TIMEOUT CMD...: poll every 0.2 s
bi_wait_for() {
	local t=$1 end
	shift
	end=$(($(date +%s%N) + t * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# bi_start_us NAME ARGS...: our speaker in the us namespace
bi_start_us() {
	local name=$1
	shift
	ip netns exec "$BI_NS_US" timeout "${BI_PROG_TIMEOUT:-240}" \
	    "$BI_SPEAKER" --local-as $BI_US_AS --router-id $BI_US4 \
	    --dump-routes "$BI_RUN/routes" "$@" \
	    >"$BI_RUN/$name.out" 2>"$BI_RUN/$name.err" &
	BI_US_PID=$!
	BI_PIDS="$BI_PIDS $BI_US_PID"
}

bi_stop_us() {
	[ -n "${BI_US_PID:-}" ] || return 0
	kill -TERM "$BI_US_PID" 2>/dev/null
	wait "$BI_US_PID" 2>/dev/null
	BI_US_PID=""
	rm -f "$BI_RUN/routes"
}

# our data-plane dump
bi_routes_has() { grep -qE "$1" "$BI_RUN/routes" 2>/dev/null; }
bi_routes_lacks() { [ -f "$BI_RUN/routes" ] && ! grep -qE "$1" "$BI_RUN/routes"; }
bi_us_established() { bi_routes_has "^peer $1 state Established"; }
bi_us_not_established() { bi_routes_lacks "^peer $1 state Established"; }
bi_out_has() { grep -qE "$2" "$BI_RUN/$1.out" 2>/dev/null; }

# Our speaker's routes as a sorted list.
bi_show_routes() { grep '^route' "$BI_RUN/routes" 2>/dev/null | sort; }
