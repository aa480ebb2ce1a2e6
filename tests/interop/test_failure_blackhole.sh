#!/bin/bash
# Failure interop (issue 8): the WAN path goes black.  minigw (left)
# runs a tunnel to strongSwan (right, responder only, dpd_action clear,
# so that every recovery is minigw's own reconnect) through the WAN box
# (lib/wan.sh), and eBGP over it to BIRD, which sends 172.16.0.0/16.
# With the tunnel up, BGP Established, the route in minigw's kernel
# table and a ping crossing lhost -> rhost, the box drops everything:
# minigw declares the peer dead (DOWN reason VPNR_ERR_DEAD_PEER, before
# any BGP session loss: BGP's hold time is 90 s), the BGP route leaves
# its kernel table.  The box stays dark while minigw's reconnect
# attempts meet it too (ten more packets dropped: a long outage, so that
# the return finds an attempt in its backoff).  The blackhole lifts: a
# new IKE SA and CHILD_SA, BGP Established, the route back, the ping
# crosses, with the same minigw, charon and BIRD processes.  Waits are
# bounds, not expectations.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

VI_MAX_SECONDS=600
VI_PROG_TIMEOUT=700
VI_SS_DPD_ACTION=clear
mg_init failure_blackhole nft
wan_start_minigw aes256-sha256 bgp || vi_fail "set-up"
wan_wait_bgp_path || vi_fail "not up"
gw_pid=$(cat "$VI_RUN/gw.pid")
ss_pid=$(cat "$VI_RUN/right/charon.mypid")
bird_pid=$(cat "$VI_RUN/right/bird.pid")
ike0=$(vi_swan_ike_spis right)
vi_log "up: IKE SA $ike0, BGP Established, route and ping OK; blackhole on"

t0=$(wan_now)
wan_blackhole on || vi_fail "blackhole on"
vi_wait_for 90 wan_gw_dead gw ||
	vi_fail "no dead-peer DOWN event; events: $(grep '^EVENT' "$VI_RUN/gw.out" | tail -n 5 | tr '\n' ';')"
detect=$(wan_since "$t0")
vi_log "minigw: $(grep -E "$WAN_DEAD_RE" "$VI_RUN/gw.out" | head -n1) after ${detect}s"
vi_wait_for 10 wan_gw_no_routes || vi_fail "route stayed: $(ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN)"
routes_gone=$(wan_since "$t0")
wan_ping && vi_fail "a ping crossed during the blackhole"
# The route left with the tunnel, not with a BGP session loss.
wan_event_before "$WAN_DEAD_ANY_RE" '^BGP_EVENT .* DOWN ' gw ||
	vi_fail "BGP went down before the tunnel: $(grep -E '^(EVENT|BGP_EVENT)' "$VI_RUN/gw.out" | tail -n 6 | tr '\n' ';')"
[ "$(wan_count blackholed)" -gt 0 ] || vi_fail "the box dropped nothing"
vi_log "route gone after ${routes_gone}s; box: $(wan_counters)"

# A long outage: stay dark until the box has eaten ten more packets,
# minigw's reconnect attempts (and their retransmits), so that the
# return meets an attempt in its backoff, not a fresh one.
bh=$(wan_count blackholed)
more_dropped() { [ "$(wan_count blackholed)" -ge $((bh + 10)) ]; }
vi_wait_for 120 more_dropped || vi_fail "minigw stopped trying after declaring the peer dead: $(wan_counters)"
vi_log "reconnect attempts meet the blackhole: $(grep -c 'initiating IKE_SA' "$VI_RUN/gw.err") IKE_SA_INITs so far"
t1=$(wan_now)
wan_blackhole off || vi_fail "blackhole off"
vi_log "blackhole off after $(wan_since "$t0")s; box: $(wan_counters)"
newsa() { vi_swan_child_installed right && [ "$(vi_swan_ike_spis right)" != "$ike0" ]; }
vi_wait_for 120 newsa || vi_fail "no new IKE SA + CHILD_SA after the blackhole"
tun_back=$(wan_since "$t1")
vi_wait_for 180 mg_bird_established right || vi_fail "BGP not back at BIRD"
vi_wait_for 60 wan_gw_routes_bgp || vi_fail "BGP route not back"
vi_wait_for 30 wan_ping || vi_fail "no ping after the blackhole"
all_back=$(wan_since "$t1")

for p in "$gw_pid:minigw" "$ss_pid:charon" "$bird_pid:bird"; do
	vi_alive "${p%%:*}" || vi_fail "${p#*:} (pid ${p%%:*}) is gone"
done
[ "$(cat "$VI_RUN/right/charon.mypid")" = "$ss_pid" ] || vi_fail "charon was restarted"
[ "$(grep -c '^READY' "$VI_RUN/gw.out")" = 1 ] || vi_fail "minigw restarted"
vi_log "detection ${detect}s, route gone ${routes_gone}s after the blackhole;" \
	"tunnel back ${tun_back}s, BGP+route+ping ${all_back}s after it lifted;" \
	"new IKE SA $(vi_swan_ike_spis right)"
vi_log "events: $(grep -E '^(EVENT|BGP_EVENT)' "$VI_RUN/gw.out" | awk '{ print $2, $NF }' | tr '\n' ';')"
vi_pass
