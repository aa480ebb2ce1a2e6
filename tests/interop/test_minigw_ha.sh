#!/bin/bash
# Interop, active-active HA (issue 11): minigw runs two tunnels to two
# instances of one cloud (strongSwan kernel-libipsec + BIRD AS 64512
# each, both sending 172.16.0.0/16) through the nftables WAN box
# (lib/wan.sh), eBGP on 169.254.21.0/30 and 169.254.22.0/30, and the
# kernel routes 172.16.0.0/16 over both TUNs (ECMP).  lhost pings rhost
# every 0.1 s throughout, while the test
#   1. blackholes the path the ping takes (only that gateway's box link);
#   2. lifts it, waits for both tunnels and sessions again, then kills
#      (SIGKILL) the charon of the gateway the ping takes now;
#   3. starts that charon again.
# After each failure minigw must find the tunnel suspect (ESP out,
# nothing back: EVENT SUSPECT) and drop its nexthop from the kernel
# before the tunnel is declared dead, the ping must get replies over the
# surviving tunnel, and then the dead tunnel must be declared DOWN; the
# surviving tunnel's CHILD_SA and BGP session stay.  At the end both tunnels and both BGP sessions are back
# (swanctl, birdc, the multipath route).  minigw's timers are its
# defaults.  Waits are bounds, not expectations.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

VI_MAX_SECONDS=280
VI_PROG_TIMEOUT=300
mg_init minigw_ha nft ping
wan_start_ha || vi_fail "set-up"
vi_wait_for 60 wan_ha_up || vi_fail "both tunnels + BGP + ECMP not up: $(cat "$VI_RUN/route.txt")"
PING=$VI_RUN/ping.txt
wan_ping_start "$PING"
t=$(wan_now)
vi_wait_for 10 wan_replied_since "$PING" "$t" || vi_fail "no ping reply lhost -> rhost"
vi_log "up: $(tr '\n' ' ' <"$VI_RUN/route.txt")"

suspects() { grep -c "^EVENT SUSPECT .* name=aws$1 " "$VI_RUN/gw.out" 2>/dev/null; }

# survive KIND N T0 K S: after the fault at T0 on tunnel N (minigw's awsN,
# K DOWN and S SUSPECT events before it), the survivor carries the
# traffic.  Sets window (ms, printed).
survive() {
	local kind=$1 n=$2 o=$((3 - $2)) t0=$3 k=$4 s=$5 t1 how
	down() { [ "$(wan_ha_downs "$n")" -gt "$k" ]; }
	suspect() { [ "$(suspects "$n")" -gt "$s" ]; }
	events() { grep '^EVENT' "$VI_RUN/gw.out" | tail -n 4 | tr '\n' ';'; }
	vi_wait_for 30 suspect || vi_fail "$kind: aws$n never suspect; events: $(events)"
	vi_log "$kind: aws$n SUSPECT after $(wan_since "$t0")s"
	vi_wait_for 10 mg_single_path $o || vi_fail "$kind: aws$n's nexthop stayed: $(cat "$VI_RUN/route.txt")"
	down && vi_fail "$kind: aws$n's nexthop left only when it was declared dead; events: $(events)"
	t1=$(wan_now)
	vi_log "$kind: route now $(tr '\n' ' ' <"$VI_RUN/route.txt")"
	vi_wait_for 10 wan_replied_since "$PING" "$t1" || vi_fail "$kind: no ping reply over aws$o"
	[ "$(wan_ha_path)" = $o ] || vi_fail "$kind: the flow does not take aws$o"
	vi_swan_child_installed "$(wan_ha_side $o)" && mg_bird_established "$(wan_ha_side $o)" ||
		vi_fail "$kind: the surviving tunnel aws$o or its BGP session went down"
	window=$(wan_loss_window "$PING" "$t0")
	vi_log "$kind: replies over aws$o; loss window ${window} ms"
	vi_wait_for 60 down || vi_fail "$kind: no DOWN for aws$n; events: $(events)"
	how=$(grep "^EVENT DOWN .* name=aws$n " "$VI_RUN/gw.out" | tail -n1 | sed 's/.*reason=\([^ ]*\).*/\1/')
	vi_log "$kind: aws$n DOWN ($how) after $(wan_since "$t0")s"
}

# 1. blackhole the flow's path
p=$(wan_ha_path) || vi_fail "no route lhost -> rhost over aws1/aws2"
k=$(wan_ha_downs "$p")
s=$(suspects "$p")
t0=$(wan_now)
wan_blackhole on "$(wan_ha_boxif "$p")" || vi_fail "blackhole on"
survive blackhole "$p" "$t0" "$k" "$s"
[ "$(wan_count blackholed)" -gt 0 ] || vi_fail "the box dropped nothing"
bh_window=$window
wan_blackhole off || vi_fail "blackhole off"
t=$(wan_now)
vi_wait_for 90 wan_ha_up || vi_fail "aws$p not back after the blackhole: $(cat "$VI_RUN/route.txt")"
vi_log "blackhole lifted: both tunnels, sessions and ECMP back after $(wan_since "$t")s"

# 2. kill -9 the charon of the gateway the flow takes now
p=$(wan_ha_path) || vi_fail "no route lhost -> rhost after the blackhole"
side=$(wan_ha_side "$p")
k=$(wan_ha_downs "$p")
s=$(suspects "$p")
vi_wait_for 10 wan_replied_since "$PING" "$(wan_now)" || vi_fail "no ping reply over aws$p"
t0=$(wan_now)
wan_kill_charon "$side" || vi_fail "could not kill the charon of gateway $p"
survive kill "$p" "$t0" "$k" "$s"
kill_window=$window

# 3. the gateway comes back
wan_ha_cloud_charon "$p" || vi_fail "charon $p restart"
t=$(wan_now)
vi_wait_for 120 wan_ha_up || vi_fail "aws$p not back after the restart: $(cat "$VI_RUN/route.txt")"
vi_log "gateway $p restarted: both tunnels, sessions and ECMP back after $(wan_since "$t")s"
for s in right "$WAN_HA_R2"; do
	vi_swan_ike_established "$s" || vi_fail "$s: no IKE SA"
	vi_swan_child_installed "$s" || vi_fail "$s: no CHILD_SA"
	mg_bird_established "$s" || vi_fail "$s: BGP not Established"
	mg_bird_has "$s" $VI_LEFT_LAN || vi_fail "$s: BIRD lacks $VI_LEFT_LAN"
done
n=$(mg_ctl gw show bgp summary | grep -Ec "^169\.254\.2[12]\.2 +64512 .* 1$")
[ "$n" = 2 ] || vi_fail "minigw's bgp summary: $(mg_ctl gw show bgp summary)"
t=$(wan_now)
vi_wait_for 10 wan_replied_since "$PING" "$t" || vi_fail "no ping reply at the end"
wan_ping_stop
[ "$(grep -c '^READY' "$VI_RUN/gw.out")" = 1 ] || vi_fail "minigw restarted"
vi_log "loss windows: blackhole ${bh_window} ms, kill -9 ${kill_window} ms; box: $(wan_counters)"
vi_stop gw || vi_fail "minigw exit status $?"
vi_pass
