# shellcheck shell=bash
# The WAN box: a third namespace routing between our gateway and the
# peer, where nftables makes the path fail on demand.  Used by the
# failure tests (tests/interop/test_failure_*.sh) and the failure bench
# (tests/bench/), on top of common.sh (and minigw.sh for minigw):
#
#   . lib/common.sh; . lib/minigw.sh; . lib/wan.sh
#   mg_init NAME; wan_setup_netns || vi_fail ...
#
#   $VI_NS_LHOST -- $VI_NS_LEFT ==wanL/box0== $VI_NS_BOX ==box1/wanR== $VI_NS_RIGHT -- $VI_NS_RHOST
#   192.168.2.10    203.0.113.1/24   .254   198.51.100.254   198.51.100.2/24  172.16.0.10/16
#   (lan0 192.168.2.1)  ours (minigw)      nft "inet wanbox"   strongSwan/BIRD  (lan0 172.16.0.1)
#
# The gateways reach each other only through the box (a route to the
# other WAN /24, no default route), so with the tunnel down traffic
# between the hosts finds no route instead of crossing the WAN in clear.
# VI_RIGHT_WAN becomes 198.51.100.2: vi_start_charon, vi_wan and the
# tests' minigw configs follow it.
#
# The box's forward chain jumps to two chains that are empty while the
# path is clean; every drop is counted per cause and direction:
#   wan_blackhole on|off [IF]  drop everything forwarded, or only what
#                           goes in or out of the box's IF (counter
#                           blackholed)
#   wan_loss N|off          drop N % (1-100) at random in each direction,
#                           independently per packet (nft "numgen random
#                           mod 100 < N"; counters lost_lr, lost_rl)
#   wan_count NAME          packets of a counter: blackholed, lost_lr,
#                           lost_rl, fwd_lr, fwd_rl (forwarded, l->r and
#                           r->l, after the drops); wan_dropped: all drops
#   wan_counters            one line with every counter (for logs)
#   wan_kill_charon SIDE    kill -9 the charon this run started in SIDE and
#                           wait until it is gone (its ipsec0 goes too)
#   wan_right_inner         169.254.21.2/30 on the right's ipsec0 and the
#                           left LAN into it (again after a charon restart)
#   wan_bird_right          BIRD 2 in the right namespace, AS 65010 on
#                           169.254.21.2, eBGP to minigw (169.254.21.1, AS
#                           65050), exporting 172.16.0.0/16; hold 90 s
#   wan_minigw_conf FILE ESP [bgp|static]   minigw: one tunnel "wan" to
#                           the right, inner 169.254.21.1/30, IKE
#                           aes256-sha1-modp1024, ESP as given, DPD and
#                           reconnect on their defaults; 172.16.0.0/16 as
#                           a static route or learned from BIRD
#   wan_start_minigw ESP MODE   the failure tests' set-up: namespaces,
#                           charon right (responder), its inner address,
#                           BIRD when MODE is bgp, minigw "gw" from
#                           wan_minigw_conf; says which step failed
#   wan_wait_bgp_path       until the CHILD_SA, BGP, the BGP route in
#                           left and a ping are all there
#   wan_gw_dead NAME        minigw's output has the dead-peer DOWN event
#   wan_gw_routes_bgp       left has 172.16.0.0/16 "proto bgp" (BGP-learned)
#   wan_gw_no_routes        left has no route to 172.16.0.0/16 at all
#   wan_ping                one ping lhost -> rhost crosses the tunnel
#   wan_event_before RE1 RE2 NAME   in NAME.out, RE1 matches before RE2
#   wan_now / wan_since T   timestamps and elapsed seconds for the logs
#   wan_time BOUND T0 CMD...   seconds from T0 until CMD succeeds, or
#                           "timeout" after BOUND s (benches)
#   wan_ping_start FILE / wan_ping_stop   a 10/s ping lhost -> rhost with
#                           -D timestamps into FILE, in the background
#   wan_replied_since FILE T   FILE has a reply stamped after T
#   wan_first_reply FILE T  seconds from T to the first reply in FILE
#   wan_loss_window FILE T0 [T1]   the longest gap between two replies
#                           that ends after T0 (and starts before T1),
#                           minus the 100 ms interval, in ms
#
# Active-active HA (issue 11: two instances of one cloud; used by
# test_minigw_ha.sh and bench_failover.sh) on the same box:
#
#   lhost -- LEFT ==box0== box ==box1== RIGHT (gateway 1, 198.51.100.2) --eth0-- rhost
#                              ==box2== $WAN_HA_R2 (gateway 2, 192.0.2.2) --eth1-- rhost
#
#   wan_second_cloud SIDE   gateway 2's namespace, its box link and its LAN
#                           to rhost (10.99.0.0/30); rhost answers through
#                           the gateway a flow last came in by
#   wan_ha_cloud_charon N   gateway N's charon (AWS suite, responder) with
#                           169.254.2N.2/30 and the left LAN on its ipsec0
#                           (again after wan_kill_charon)
#   wan_start_ha [EXTRA]    namespaces, both gateways (charon + BIRD AS
#                           64512, hold 30 s, sending 172.16.0.0/16) and
#                           minigw "gw" with tunnels aws1/aws2 and one
#                           neighbour each (mg_aws_conf; EXTRA: YAML lines
#                           for both tunnels, e.g. DPD timers)
#   wan_ha_up               both CHILD_SAs, both BIRDs Established and the
#                           multipath route in left
#   wan_ha_path             1 or 2: the tunnel lhost -> rhost takes now
#   wan_ha_side N / wan_ha_boxif N   gateway N's side / its box link
#   wan_ha_downs N          how many "EVENT DOWN" minigw printed for awsN
#
# How the failure bench (tests/bench/) uses it: wan_setup_netns, then
# the gateway under test in left (minigw from wan_minigw_conf, or
# strongSwan: vi_start_charon left ... start, which follows the
# addresses above) against vi_start_charon right ... none; for
# strongSwan's own defaults set VI_SS_RETRANSMIT_TRIES=5,
# VI_SS_RETRANSMIT_TIMEOUT=4.0 and VI_SS_RETRANSMIT_BASE=1.8 first
# (common.sh's are shortened for tests).  Detection: wan_blackhole on
# (or wan_kill_charon right) until WAN_DEAD_RE in minigw's output, or
# "giving up after" in left/charon.log.  Return: wan_blackhole off until
# wan_ping.  Setup under loss: wan_loss 20 / 40 before the gateway
# starts, until the CHILD_SA is installed.  wan_counters says what the
# box really dropped, to print beside the figures.

VI_NS_BOX=$VI_PREFIX-box
VI_RIGHT_WAN=198.51.100.2
WAN_BOX_L=203.0.113.254
WAN_BOX_R=198.51.100.254
WAN_LEFT_NET=203.0.113.0/24
WAN_RIGHT_NET=198.51.100.0/24
# minigw's DOWN event when liveness declared the peer dead
WAN_DEAD_RE='^EVENT DOWN .*reason=VPNR_ERR_DEAD_PEER( |$)'
# ... or its CHILD_DOWN, which comes first
WAN_DEAD_ANY_RE='^EVENT (CHILD_)?DOWN .*reason=VPNR_ERR_DEAD_PEER( |$)'

wan_nft() { timeout 10 ip netns exec "$VI_NS_BOX" nft "$@"; }

# wan_setup_netns: the five namespaces, veths, routes and the box's table.
wan_setup_netns() {
	local ns
	VI_NAMESPACES="$VI_NS_LEFT $VI_NS_RIGHT $VI_NS_LHOST $VI_NS_RHOST $VI_NS_BOX"
	echo "$VI_NAMESPACES" >"$VI_RUN/namespaces"
	for ns in $VI_NAMESPACES; do
		timeout 10 ip netns add "$ns" || return 1
		timeout 10 ip -n "$ns" link set lo up || return 1
	done
	ip link add wanL netns "$VI_NS_LEFT" type veth peer name box0 netns "$VI_NS_BOX" &&
		ip link add wanR netns "$VI_NS_RIGHT" type veth peer name box1 netns "$VI_NS_BOX" &&
		ip link add lan0 netns "$VI_NS_LEFT" type veth peer name eth0 netns "$VI_NS_LHOST" &&
		ip link add lan0 netns "$VI_NS_RIGHT" type veth peer name eth0 netns "$VI_NS_RHOST" ||
		return 1
	ip -n "$VI_NS_LEFT" addr add $VI_LEFT_WAN/24 dev wanL
	ip -n "$VI_NS_BOX" addr add $WAN_BOX_L/24 dev box0
	ip -n "$VI_NS_BOX" addr add $WAN_BOX_R/24 dev box1
	ip -n "$VI_NS_RIGHT" addr add $VI_RIGHT_WAN/24 dev wanR
	ip -n "$VI_NS_LEFT" addr add $VI_LEFT_LAN_GW/24 dev lan0
	ip -n "$VI_NS_LHOST" addr add $VI_LHOST_IP/24 dev eth0
	ip -n "$VI_NS_RIGHT" addr add $VI_RIGHT_LAN_GW/16 dev lan0
	ip -n "$VI_NS_RHOST" addr add $VI_RHOST_IP/16 dev eth0
	ip -n "$VI_NS_LEFT" link set wanL up
	ip -n "$VI_NS_LEFT" link set lan0 up
	ip -n "$VI_NS_RIGHT" link set wanR up
	ip -n "$VI_NS_RIGHT" link set lan0 up
	ip -n "$VI_NS_BOX" link set box0 up
	ip -n "$VI_NS_BOX" link set box1 up
	ip -n "$VI_NS_LHOST" link set eth0 up
	ip -n "$VI_NS_RHOST" link set eth0 up
	ip -n "$VI_NS_LHOST" route add default via $VI_LEFT_LAN_GW
	ip -n "$VI_NS_RHOST" route add default via $VI_RIGHT_LAN_GW
	ip -n "$VI_NS_LEFT" route add $WAN_RIGHT_NET via $WAN_BOX_L || return 1
	ip -n "$VI_NS_RIGHT" route add $WAN_LEFT_NET via $WAN_BOX_R || return 1
	for ns in "$VI_NS_LEFT" "$VI_NS_RIGHT" "$VI_NS_BOX"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	wan_nft -f - <<'EOF' || { vi_log "nft: cannot load the WAN box's table"; return 1; }
table inet wanbox {
	counter blackholed { }
	counter lost_lr { }
	counter lost_rl { }
	counter fwd_lr { }
	counter fwd_rl { }
	# filled by wan_blackhole / wan_loss, empty while the path is clean
	chain blackhole { }
	chain loss { }
	chain forward {
		type filter hook forward priority 0; policy accept;
		jump blackhole
		jump loss
		iifname "box0" counter name fwd_lr
		iifname "box1" counter name fwd_rl
	}
}
EOF
	timeout 5 ip netns exec "$VI_NS_LEFT" ping -c1 -W2 -q $VI_RIGHT_WAN >/dev/null ||
		{ vi_log "no route through the WAN box"; return 1; }
}

wan_blackhole() { # on|off [IF]
	wan_nft flush chain inet wanbox blackhole || return 1
	[ "$1" = off ] && return 0
	[ -z "${2:-}" ] && { wan_nft add rule inet wanbox blackhole counter name blackholed drop; return; }
	wan_nft add rule inet wanbox blackhole iifname "$2" counter name blackholed drop &&
		wan_nft add rule inet wanbox blackhole oifname "$2" counter name blackholed drop
}

wan_loss() { # N|off
	local n=$1
	wan_nft flush chain inet wanbox loss || return 1
	[ "$n" = off ] && return 0
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 100 ] ||
		{ vi_log "wan_loss: $n is not a percentage 1-100"; return 1; }
	wan_nft add rule inet wanbox loss iifname box0 numgen random mod 100 "<" "$n" counter name lost_lr drop &&
		wan_nft add rule inet wanbox loss iifname box1 numgen random mod 100 "<" "$n" counter name lost_rl drop
}

wan_count() { # counter name
	wan_nft list counter inet wanbox "$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "packets") { print $(i + 1); exit } }'
}

wan_dropped() {
	echo $(($(wan_count blackholed) + $(wan_count lost_lr) + $(wan_count lost_rl)))
}

wan_counters() {
	local c s=""
	for c in blackholed lost_lr lost_rl fwd_lr fwd_rl; do
		s="$s $c=$(wan_count $c)"
	done
	echo "${s# }"
}

wan_kill_charon() { # side
	local side=$1 pid st
	pid=$(cat "$VI_RUN/$side/charon.mypid" 2>/dev/null) || return 1
	st=$(awk -v p="$pid" '$1 == "charon-'"$side"'" && $2 == p { print $3 }' "$VI_RUN/pids" | tail -n1)
	[ -n "$st" ] && [ "$(vi_starttime "$pid")" = "$st" ] || return 1
	kill -KILL "$pid" || return 1
	# reap it here when it is our child: no "Killed" line from bash
	{ wait "$pid"; } 2>/dev/null
	vi_wait_for 10 wan_gone "$pid" || return 1
	rm -f "$VI_RUN/$side/charon.mypid"
	# its TUN goes with it; a new charon must not find the old one
	vi_wait_for 10 wan_no_ipsec0 "$side"
}

wan_no_ipsec0() { ! ip -n "$(vi_ns "$1")" link show ipsec0 >/dev/null 2>&1; }

wan_gone() { ! vi_alive "$1"; }

wan_right_inner() {
	ip -n "$VI_NS_RIGHT" addr add $VI_RIGHT_APIPA/30 dev ipsec0 &&
		ip -n "$VI_NS_RIGHT" route add $VI_LEFT_LAN dev ipsec0 src $VI_RIGHT_LAN_GW
}

wan_bird_right() {
	mkdir -p "$VI_RUN/right"
	cat >"$VI_RUN/right/bird.conf" <<EOF
log "$VI_RUN/right/bird.log" all;
router id $VI_RIGHT_APIPA;
protocol device { scan time 2; }
protocol static cloudnet {
    ipv4;
    route $VI_RIGHT_LAN blackhole;
}
protocol bgp ours {
    local $VI_RIGHT_APIPA as 65010;
    neighbor $VI_LEFT_APIPA as 65050;
    direct;
    # longer than minigw's dead-peer detection, so that the routes
    # leave with the tunnel, not with the hold timer
    hold time 90;
    keepalive time 30;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 10;
    debug { states, events };
    ipv4 {
        import all;
        export where proto = "cloudnet";
    };
}
EOF
	mg_bird right "$VI_RUN/right/bird.conf"
}

wan_minigw_conf() { # file esp [bgp|static]
	local f=$1 esp=$2 mode=${3:-static}
	{
		printf 'global:\n  router_id: %s\n  local_as: 65050\n' $VI_LEFT_APIPA
		printf '  control_socket: %s/gw.sock\n  log_level: info\n' "$VI_RUN"
		printf 'tunnels:\n  - name: wan\n    local: %s\n    remote: %s\n' $VI_LEFT_WAN $VI_RIGHT_WAN
		printf '    psk_file: psk\n    ike_proposals: [aes256-sha1-modp1024]\n'
		printf '    esp_proposals: [%s]\n    address: %s/30\n' "$esp" $VI_LEFT_APIPA
		printf '    interface: vpnr0\n'
		if [ "$mode" = bgp ]; then
			printf 'bgp:\n  neighbors:\n    - address: %s\n' $VI_RIGHT_APIPA
			printf '      remote_as: 65010\n      hold_time: 90\n      keepalive: 30\n'
			printf '      connect_retry: 2\n  networks: [%s]\n' $VI_LEFT_LAN
		else
			printf 'routes:\n  - prefix: %s\n    tunnel: wan\n' $VI_RIGHT_LAN
		fi
	} >"$f"
}

wan_gw_dead() { vi_grep_out "$1" "$WAN_DEAD_RE"; }

wan_start_minigw() { # esp bgp|static
	wan_setup_netns || { vi_log "wan: namespaces"; return 1; }
	mg_psk
	vi_start_charon right aes256-sha1-modp1024 aes256-sha256 none ||
		{ vi_log "wan: charon"; return 1; }
	wan_right_inner || { vi_log "wan: inner address on ipsec0"; return 1; }
	if [ "$2" = bgp ]; then
		wan_bird_right || { vi_log "wan: bird"; return 1; }
	fi
	wan_minigw_conf "$VI_RUN/minigw.conf" "$1" "$2"
	mg_start gw "$VI_RUN/minigw.conf" || { vi_log "wan: minigw start"; return 1; }
}

wan_wait_bgp_path() {
	vi_wait_for 30 vi_swan_child_installed right ||
		{ vi_log "wan: no CHILD_SA at strongSwan"; return 1; }
	vi_wait_for 60 mg_bird_established right ||
		{ vi_log "wan: BGP not Established at BIRD"; return 1; }
	vi_wait_for 30 wan_gw_routes_bgp ||
		{ vi_log "wan: no BGP route: $(ip -n "$VI_NS_LEFT" route)"; return 1; }
	vi_wait_for 10 wan_ping || { vi_log "wan: no ping lhost -> rhost"; return 1; }
}

wan_gw_routes_bgp() { ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN | grep -q 'dev vpnr0 proto bgp'; }

# wan_now / wan_since T: a timestamp, seconds since one (0.1 s), for logs.
wan_now() { date +%s.%N; }
wan_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# wan_time BOUND T0 CMD...: poll CMD every 0.1 s; print the seconds from
# T0 to its first success, or "timeout" (status 1) once BOUND s have
# passed since T0 (the benches' clocks).
wan_time() {
	local bound=$1 t0=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$bound" 'BEGIN { exit !(b - a > m) }' &&
			{ echo timeout; return 1; }
		sleep 0.1
	done
	wan_since "$t0"
}

# wan_event_before RE1 RE2 NAME: the first line of NAME.out matching RE1
# comes before any line matching RE2 (or no line matches RE2).
wan_event_before() {
	awk -v a="$1" -v b="$2" '$0 ~ a { print "ok"; exit } $0 ~ b { exit }' \
		"$VI_RUN/$3.out" | grep -q ok
}

wan_gw_no_routes() { [ -z "$(ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN)" ]; }

wan_ping() { timeout 5 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP >/dev/null 2>&1; }

# wan_ping_start FILE / wan_ping_stop: a 10/s ping lhost -> rhost.
wan_ping_start() {
	ip netns exec "$VI_NS_LHOST" ping -D -n -i 0.1 -W 1 $VI_RHOST_IP >"$1" 2>&1 </dev/null &
	vi_record_pid ping $!
	echo $! >"$VI_RUN/ping.pid"
}
wan_ping_stop() {
	local p
	p=$(cat "$VI_RUN/ping.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	rm -f "$VI_RUN/ping.pid"
}
# replies' -D stamps ("[1700000000.123456] 64 bytes from ...")
wan_reply_stamps() { awk '/ bytes from / { s = $1; gsub(/[][]/, "", s); print s }' "$1"; }
wan_replied_since() { wan_reply_stamps "$1" | awk -v t="$2" '$1 > t { f = 1; exit } END { exit !f }'; }
wan_first_reply() { # file t0 -> seconds
	wan_reply_stamps "$1" | awk -v t="$2" '$1 > t { printf "%.1f", $1 - t; exit }'
}
wan_loss_window() { # file t0 [t1] -> ms
	wan_reply_stamps "$1" | awk -v a="$2" -v b="${3:-9e99}" '
		$1 > a && p != "" && p < b && $1 - p > m { m = $1 - p }
		{ p = $1 }
		END { w = (m - 0.1) * 1000; printf "%d", (w > 0 ? w : 0) }'
}

# ---------------------------------------------------------------- HA
WAN_HA_R2=$VI_PREFIX-r2
WAN_R2_WAN=192.0.2.2
WAN_BOX_R2=192.0.2.254
WAN_R2_NET=192.0.2.0/24

wan_second_cloud() { # side
	local ns l
	ns=$(vi_ns "$1")
	mg_netns_add "$ns" || return 1
	ip link add wan netns "$ns" type veth peer name box2 netns "$VI_NS_BOX" &&
		ip link add lan0 netns "$ns" type veth peer name eth1 netns "$VI_NS_RHOST" || return 1
	ip -n "$ns" addr add $WAN_R2_WAN/24 dev wan
	ip -n "$VI_NS_BOX" addr add $WAN_BOX_R2/24 dev box2
	ip -n "$ns" addr add 10.99.0.1/30 dev lan0
	ip -n "$VI_NS_RHOST" addr add 10.99.0.2/30 dev eth1
	for l in "$ns wan" "$ns lan0" "$VI_NS_BOX box2" "$VI_NS_RHOST eth1"; do
		ip -n "${l% *}" link set "${l#* }" up || return 1
	done
	ip -n "$ns" route add $WAN_LEFT_NET via $WAN_BOX_R2 &&
		ip -n "$ns" route add $VI_RIGHT_LAN via 10.99.0.2 &&
		ip -n "$VI_NS_LEFT" route add $WAN_R2_NET via $WAN_BOX_L || return 1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	for l in "$ns" "$VI_NS_RHOST"; do
		ip netns exec "$l" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	ip netns exec "$VI_NS_RHOST" sysctl -qw net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
	# A cloud's fabric answers through the instance the traffic came in
	# by; without this the replies would wait for the far side to see a
	# dead tunnel, and the tests would measure the peer, not minigw.
	ip -n "$VI_NS_RHOST" rule add fwmark 2 table 2 &&
		ip -n "$VI_NS_RHOST" route add default via 10.99.0.1 table 2 || return 1
	timeout 10 ip netns exec "$VI_NS_RHOST" nft -f - <<'EOF' || { vi_log "nft: rhost's reply routing"; return 1; }
table ip hareply {
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		iifname "eth0" ct mark set 1
		iifname "eth1" ct mark set 2
	}
	chain out {
		type route hook output priority -150; policy accept;
		meta mark set ct mark
	}
}
EOF
	timeout 5 ip netns exec "$VI_NS_LEFT" ping -c1 -W2 -q $WAN_R2_WAN >/dev/null ||
		{ vi_log "no route through the WAN box to $WAN_R2_WAN"; return 1; }
}

wan_ha_side() { if [ "$1" = 1 ]; then echo right; else echo "$WAN_HA_R2"; fi; }
wan_ha_boxif() { echo "box$1"; }

wan_ha_cloud_charon() { # n
	local side r
	side=$(wan_ha_side "$1")
	if [ "$1" = 1 ]; then r=$VI_RIGHT_WAN; else r=$WAN_R2_WAN; fi
	mg_aws_charon "$side" "$1" "$r" $VI_LEFT_WAN &&
		ip -n "$(vi_ns "$side")" route add $VI_LEFT_LAN dev ipsec0
}

wan_start_ha() { # [tunnel extra]
	local n side
	wan_setup_netns || { vi_log "wan: namespaces"; return 1; }
	wan_second_cloud "$WAN_HA_R2" || { vi_log "wan: second cloud gateway"; return 1; }
	mg_psk
	for n in 1 2; do
		side=$(wan_ha_side $n)
		wan_ha_cloud_charon $n || { vi_log "wan: charon $n"; return 1; }
		mg_bird_conf "$VI_RUN/$side/bird.conf" 169.254.2$n.2 64512 169.254.2$n.2 \
			169.254.2$n.1 65050 1 $VI_RIGHT_LAN 30
		mg_bird "$side" "$VI_RUN/$side/bird.conf" || { vi_log "wan: bird $n"; return 1; }
	done
	MG_AWS_LOCALS="$VI_LEFT_WAN $VI_LEFT_WAN" MG_AWS_REMOTES="$VI_RIGHT_WAN $WAN_R2_WAN" \
		MG_AWS_TUNNEL_EXTRA=${1:-} mg_aws_conf "$VI_RUN/minigw.conf" 2
	mg_start gw "$VI_RUN/minigw.conf" || { vi_log "wan: minigw start"; return 1; }
}

wan_ha_up() {
	vi_swan_child_installed right && vi_swan_child_installed "$WAN_HA_R2" &&
		mg_bird_established right && mg_bird_established "$WAN_HA_R2" && mg_ecmp
}

wan_ha_path() {
	ip -n "$VI_NS_LEFT" route get $VI_RHOST_IP from $VI_LHOST_IP iif lan0 2>/dev/null |
		sed -n 's/.* dev aws\([12]\) .*/\1/p' | grep .
}

wan_ha_downs() { grep -c "^EVENT DOWN .* name=aws$1 " "$VI_RUN/gw.out" 2>/dev/null; }
