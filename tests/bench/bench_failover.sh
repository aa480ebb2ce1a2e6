#!/bin/bash
# Failover benchmark (issue 11): active-active HA as the clouds ship it,
# on test_minigw_ha.sh's topology (tests/interop/lib/wan.sh, "HA"): the
# branch gateway runs two tunnels to two instances of one cloud
# (strongSwan kernel-libipsec + BIRD AS 64512 each, hold 30 s, both
# sending 172.16.0.0/16) through the nftables WAN box, one eBGP session
# per tunnel, and lhost pings rhost every 0.1 s.  For each failure kind
# on the path the ping takes (the box link whose packets follow the
# ping), the loss window: the longest run without replies, in ms.
#   blackhole: the box drops everything on that gateway's link;
#   kill -9:   that gateway's charon is SIGKILLed;
# repaired (blackhole lifted, charon started again) once the ping flows
# again, the tunnel is declared dead and its BGP session is down (or at
# the bound).
# Also: when the branch side declared the tunnel dead, when its BGP
# session to that gateway went down, and how long after the repair both
# tunnels, both sessions and the ping were back.
#
# Branch side, one after the other, each in fresh namespaces:
#   ours:  minigw with its defaults (dpd_interval 10 s, dpd_timeout 20 s,
#          suspect 2 s; BGP hold 30 s as AWS has it, from lib/minigw.sh's
#          mg_aws_conf): the nexthop leaves when the tunnel is suspect;
#   tuned: minigw with dpd_interval 2 s, dpd_timeout 4 s (suspect 2 s);
#   anchor: strongSwan 5.9 (one charon, two connections, dpd_delay 10 s,
#          dpd_action restart, initiated once, keyingtries 0, its
#          default retransmits 5 x 4 s base 1.8) + BIRD 2 (two sessions,
#          hold 30 s, ECMP into the kernel).  kernel-libipsec routes by
#          IPsec policy, not by the kernel route: each child carries its
#          BGP address and the LAN to 0.0.0.0/0, the first installed
#          policy takes the LAN's traffic, and it leaves a dead SA only
#          when DPD deletes it; a route-based strongSwan (XFRM
#          interfaces) would move at BGP hold expiry instead, printed in
#          its own row.
# Anchors (issue 11): strongSwan's default DPD needs about 165 s; a 30 s
# BGP hold expires 19-26 s after the failure.
#
# usage: bench_failover.sh [--bound S] [--only "ours tuned anchor"]
# Needs root, charon/swanctl, bird, nft, ping; namespaces vbo<pid>-*,
# removed at the end.  ~10 min (the anchor's DPD dominates).  Not in CI.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export VPNR_SOURCE_DIR=$SRC
export VPNR_BUILD_DIR=${VPNR_BUILD_DIR:-$SRC/build}
. "$SRC/tests/interop/lib/bench.sh"
BOUND=240
ONLY="ours tuned anchor"
PHASE=""
OUT=""
while [ $# -gt 0 ]; do
	case $1 in
	--bound) BOUND=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--phase) PHASE=$2; OUT=$3; shift 2 ;; # internal: one side, results to OUT
	*) echo "usage: $0 [--bound S] [--only \"ours tuned anchor\"]" >&2; exit 2 ;;
	esac
	shift
done
[[ $BOUND =~ ^[1-9][0-9]*$ ]] || { echo "--bound takes a positive integer" >&2; exit 2; }
TUNED='    dpd_interval: 2
    dpd_timeout: 4'

# ------------------------------------------------------------ the driver
if [ -z "$PHASE" ]; then
	[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
	res=$(mktemp -d /tmp/vpnr-bench-failover.XXXXXX)
	trap 'rm -rf "$res"' EXIT
	echo "# bench_failover: $(date -u +%FT%TZ), waits bounded at ${BOUND}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# cloud side: 2 x $(/usr/lib/ipsec/charon --version 2>&1 | head -n1 | sed 's/^Linux //') charon kernel-libipsec + BIRD $(bird --version 2>&1 | awk '{print $NF}'), hold 30 s"
	echo "# anchor (issue 11): strongSwan default DPD ~165 s; 30 s BGP hold expires 19-26 s after the failure"
	bench_phases "$0" "$res" "$ONLY" --bound "$BOUND"
	get() { bench_get "$res" "$1" "$2"; }
	printf '%-44s %-18s %-18s %s\n' "figure" "ours (defaults)" "ours (dpd 2/4 s)" "anchor (strongSwan+BIRD)"
	for kind in bh kill; do
		for k in window dead bgp back; do
			case $kind in bh) l="blackhole" ;; kill) l="kill -9 charon" ;; esac
			case $k in
			window) l="$l: loss window (ms)" ;;
			dead) l="$l: tunnel declared dead (s)" ;;
			bgp) l="$l: BGP session down (s)" ;;
			back) l="$l: repair -> both up + ping (s)" ;;
			esac
			printf '%-44s %-18s %-18s %s\n' "$l" "$(get ours ${kind}_$k)" "$(get tuned ${kind}_$k)" "$(get anchor ${kind}_$k)"
		done
	done
	for side in $ONLY; do echo "# $side: $(get "$side" notes)"; done
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

# ------------------------------------------------------------ one side
VI_PREFIX=vbo$$
VI_MAX_SECONDS=$((BOUND * 6 + 300))
VI_PROG_TIMEOUT=$((VI_MAX_SECONDS + 60))
. "$SRC/tests/interop/lib/common.sh"
. "$SRC/tests/interop/lib/minigw.sh"
. "$SRC/tests/interop/lib/wan.sh"
mg_init "bench_failover_$PHASE" nft ping
bench_phase "$OUT"
PING=$VI_RUN/ping.txt

# The box link the ping takes (b1, b2: packets before): the one of box1/box2 whose transmitted
# packets grow by 20 while the other's grow by less than 5 (BGP
# keepalives only).  Works whoever routes (kernel ECMP or IPsec policy).
tx() { ip -n "$VI_NS_BOX" -s link show "box$1" | awk '/TX:/ { getline; print $2; exit }'; }
flow_link() {
	local d1=$(($(tx 1) - b1)) d2=$(($(tx 2) - b2))
	if [ $d1 -ge 20 ] && [ $d2 -lt 5 ]; then echo 1 >"$VI_RUN/flow"; return 0; fi
	if [ $d2 -ge 20 ] && [ $d1 -lt 5 ]; then echo 2 >"$VI_RUN/flow"; return 0; fi
	return 1
}
flow_path() { vi_wait_for 20 flow_link && cat "$VI_RUN/flow"; }

if [ "$PHASE" = anchor ]; then
	left_start() {
		local n r
		wan_setup_netns && wan_second_cloud "$WAN_HA_R2" || return 1
		mg_psk
		for n in 1 2; do
			wan_ha_cloud_charon $n || return 1
			mg_bird_conf "$VI_RUN/$(wan_ha_side $n)/bird.conf" 169.254.2$n.2 64512 169.254.2$n.2 \
				169.254.2$n.1 65050 1 $VI_RIGHT_LAN 30
			mg_bird "$(wan_ha_side $n)" "$VI_RUN/$(wan_ha_side $n)/bird.conf" || return 1
		done
		mkdir -p "$VI_RUN/left"
		{
			echo "connections {"
			for n in 1 2; do
				if [ $n = 1 ]; then r=$VI_RIGHT_WAN; else r=$WAN_R2_WAN; fi
				cat <<EOF
    gw$n {
        version = 2
        local_addrs = $VI_LEFT_WAN
        remote_addrs = $r
        proposals = aes256gcm16-prfsha256-ecp256
        dpd_delay = 10s
        keyingtries = 0
        local { auth = psk
            id = $VI_LEFT_WAN }
        remote { auth = psk
            id = $r }
        children {
            $VI_CHILD$n {
                local_ts = 169.254.2$n.1/32, $VI_LEFT_LAN
                remote_ts = 0.0.0.0/0
                esp_proposals = aes256gcm16
                mode = tunnel
                dpd_action = restart
            }
        }
    }
EOF
			done
			echo "}"
			echo "secrets {"
			for r in $VI_RIGHT_WAN $WAN_R2_WAN; do
				printf '    ike-%s { id-l = %s\n id-r = %s\n secret = "%s" }\n' "${r//./-}" $VI_LEFT_WAN "$r" "$VI_PSK"
			done
			echo "}"
		} >"$VI_RUN/left/swanctl.conf"
		VI_SS_RETRANSMIT_TRIES=5 VI_SS_RETRANSMIT_TIMEOUT=4.0 VI_SS_RETRANSMIT_BASE=1.8 \
			mg_charon_run left || return 1
		# charon's ipsec0 takes the BGP addresses before the children
		# come up (their selectors name them)
		ip -n "$VI_NS_LEFT" addr add 169.254.21.1/30 dev ipsec0 &&
			ip -n "$VI_NS_LEFT" addr add 169.254.22.1/30 dev ipsec0 &&
			vi_swan left --initiate --child ${VI_CHILD}1 >/dev/null &&
			vi_swan left --initiate --child ${VI_CHILD}2 >/dev/null || return 1
		{
			cat <<EOF
log "$VI_RUN/left/bird.log" all;
router id 169.254.21.1;
protocol device { scan time 2; }
protocol static lan { ipv4; route $VI_LEFT_LAN blackhole; }
protocol kernel { merge paths yes; ipv4 { import none; export where proto ~ "gw*"; }; }
EOF
			for n in 1 2; do
				cat <<EOF
protocol bgp gw$n {
    local 169.254.2$n.1 as 65050;
    neighbor 169.254.2$n.2 as 64512;
    direct;
    hold time 30;
    keepalive time 10;
    connect retry time 2;
    error wait time 1, 10;
    ipv4 { import all; export where proto = "lan"; };
}
EOF
			done
		} >"$VI_RUN/left/bird.conf"
		mg_bird left "$VI_RUN/left/bird.conf"
	}
	left_up() {
		vi_swan left --list-sas 2>/dev/null | grep -c "^ *${VI_CHILD}[12]: .*INSTALLED" | grep -qx 2 &&
			mg_birdc left show protocols 2>/dev/null | grep -c '^gw[12] .*Established' | grep -qx 2
	}
	# charon's DPD gave up on gateway N's SA
	n_dead() { grep -c "giving up after" "$VI_RUN/left/charon.log" 2>/dev/null; }
	dead_since() { [ "$(n_dead)" -gt "$d0" ]; }
	bgp_down() { ! mg_birdc left show protocols "gw$1" 2>/dev/null | grep -q Established; }
else
	left_start() {
		if [ "$PHASE" = tuned ]; then wan_start_ha "$TUNED"; else wan_start_ha; fi
	}
	left_up() { mg_ecmp; }
	n_dead() { wan_ha_downs "$p"; }
	dead_since() { [ "$(n_dead)" -gt "$d0" ]; }
	bgp_down() { [ "$(grep -c "^BGP_EVENT .* DOWN .*addr=169.254.2$1.2 " "$VI_RUN/gw.out")" -gt "$g0" ]; }
fi
all_up() {
	vi_swan_child_installed right && vi_swan_child_installed "$WAN_HA_R2" &&
		mg_bird_established right && mg_bird_established "$WAN_HA_R2" && left_up
}
g0=0

left_start || fail "set-up"
[ "$(wan_time 120 "$(wan_now)" all_up)" != timeout ] || fail "both tunnels + BGP not up"
wan_ping_start "$PING"
t=$(wan_now)
vi_wait_for 10 wan_replied_since "$PING" "$t" || fail "no ping reply"
note "up"

# fault KIND: on the flow's path; repair once the ping flows again.
fault() {
	local kind=$1 t0 t1 r side
	b1=$(tx 1)
	b2=$(tx 2)
	p=$(flow_path) ||
		fail "$kind: cannot tell which link the ping takes: box1 +$(($(tx 1) - b1)), box2 +$(($(tx 2) - b2)) packets"
	side=$(wan_ha_side "$p")
	d0=$(n_dead)
	[ "$PHASE" = anchor ] || g0=$(grep -c "^BGP_EVENT .* DOWN .*addr=169.254.2$p.2 " "$VI_RUN/gw.out")
	dead_t=timeout
	bgp_t=timeout
	t0=$(wan_now)
	if [ "$kind" = bh ]; then
		wan_blackhole on "$(wan_ha_boxif "$p")" || fail "blackhole on"
	else
		wan_kill_charon "$side" || fail "kill -9 charon $p"
	fi
	# until the ping flows again (a reply a second after the fault) and
	# the tunnel is declared dead and its session is down, whichever
	# comes last (BGP's hold may beat DPD, or the other way round)
	t1=$(awk -v t="$t0" 'BEGIN { printf "%.6f", t + 1 }')
	while :; do
		[ "$dead_t" = timeout ] && dead_since && dead_t=$(wan_since "$t0")
		[ "$bgp_t" = timeout ] && bgp_down "$p" && bgp_t=$(wan_since "$t0")
		wan_replied_since "$PING" "$t1" && [ "$dead_t" != timeout ] && [ "$bgp_t" != timeout ] && break
		awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$BOUND" 'BEGIN { exit !(b - a > m) }' && break
		sleep 0.1
	done
	if wan_replied_since "$PING" "$t1"; then
		put ${kind}_window "$(wan_loss_window "$PING" "$t0")"
	else
		put ${kind}_window "timeout (>${BOUND}000)"
	fi
	put ${kind}_dead "$dead_t"
	put ${kind}_bgp "$bgp_t"
	note "$kind on gateway $p: window $(wan_loss_window "$PING" "$t0") ms, dead ${dead_t}s, BGP down ${bgp_t}s"
	if [ "$kind" = bh ]; then
		wan_blackhole off || fail "blackhole off"
	else
		wan_ha_cloud_charon "$p" || fail "charon $p restart"
	fi
	t=$(wan_now)
	r=$(wan_time "$BOUND" "$t" all_up)
	if [ "$r" != timeout ]; then
		t=$(wan_now)
		vi_wait_for 10 wan_replied_since "$PING" "$t" || r=timeout
	fi
	put ${kind}_back "$r"
	note "$kind: both up again after ${r}s"
}
fault bh
fault kill
wan_ping_stop
put notes "box $(wan_counters)"
vi_stop gw 2>/dev/null
exit 0
