#!/bin/bash
# Failure interop (issue 8): the peer crashes.  Same set-up as
# test_failure_blackhole.sh (minigw -- WAN box -- strongSwan responder
# with BIRD, eBGP over the tunnel).  The charon this test started is
# killed with SIGKILL (no DELETE leaves it) and started again at once
# with the same configuration: a fresh charon knows no IKE SA, so
# minigw's probes go unanswered.  minigw declares the peer dead (DOWN
# reason VPNR_ERR_DEAD_PEER, before any BGP session loss), its BGP
# route leaves the kernel, and then by itself it sets up a new IKE SA
# and CHILD_SA with the new charon; BGP, the route and the ping come
# back, with the same minigw and BIRD processes.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

VI_MAX_SECONDS=600
VI_PROG_TIMEOUT=700
VI_SS_DPD_ACTION=clear
mg_init failure_kill nft
wan_start_minigw aes256-sha256 bgp || vi_fail "set-up"
wan_wait_bgp_path || vi_fail "not up"
gw_pid=$(cat "$VI_RUN/gw.pid")
ss_pid=$(cat "$VI_RUN/right/charon.mypid")
bird_pid=$(cat "$VI_RUN/right/bird.pid")
ike0=$(vi_swan_ike_spis right)
cp "$VI_RUN/right/swanctl.conf" "$VI_RUN/right/swanctl.conf.before"
vi_log "up: IKE SA $ike0, BGP Established, route and ping OK; kill -9 charon $ss_pid"

t0=$(wan_now)
wan_kill_charon right || vi_fail "could not kill charon $ss_pid"
vi_start_charon right aes256-sha1-modp1024 aes256-sha256 none || vi_fail "charon restart"
cmp -s "$VI_RUN/right/swanctl.conf" "$VI_RUN/right/swanctl.conf.before" ||
	vi_fail "the restarted charon got another configuration"
wan_right_inner || vi_fail "inner address on the new ipsec0"
ss_pid2=$(cat "$VI_RUN/right/charon.mypid")
vi_log "charon $ss_pid2 started again after $(wan_since "$t0")s"

vi_wait_for 90 wan_gw_dead gw ||
	vi_fail "no dead-peer DOWN event; events: $(grep '^EVENT' "$VI_RUN/gw.out" | tail -n 5 | tr '\n' ';')"
detect=$(wan_since "$t0")
vi_log "minigw: $(grep -E "$WAN_DEAD_RE" "$VI_RUN/gw.out" | head -n1) after ${detect}s"
vi_wait_for 10 wan_gw_no_routes || vi_fail "route stayed: $(ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN)"
routes_gone=$(wan_since "$t0")
wan_event_before "$WAN_DEAD_ANY_RE" '^BGP_EVENT .* DOWN ' gw ||
	vi_fail "BGP went down before the tunnel: $(grep -E '^(EVENT|BGP_EVENT)' "$VI_RUN/gw.out" | tail -n 6 | tr '\n' ';')"

newsa() { vi_swan_child_installed right && [ "$(vi_swan_ike_spis right)" != "$ike0" ]; }
vi_wait_for 120 newsa || vi_fail "no IKE SA + CHILD_SA with the new charon"
tun_back=$(wan_since "$t0")
vi_wait_for 180 mg_bird_established right || vi_fail "BGP not back at BIRD"
vi_wait_for 60 wan_gw_routes_bgp || vi_fail "BGP route not back"
vi_wait_for 30 wan_ping || vi_fail "no ping after the peer came back"
all_back=$(wan_since "$t0")

for p in "$gw_pid:minigw" "$ss_pid2:charon" "$bird_pid:bird"; do
	vi_alive "${p%%:*}" || vi_fail "${p#*:} (pid ${p%%:*}) is gone"
done
vi_alive "$ss_pid" && vi_fail "the killed charon $ss_pid is alive"
[ "$(grep -c '^READY' "$VI_RUN/gw.out")" = 1 ] || vi_fail "minigw restarted"
vi_log "after the kill: dead declared ${detect}s, route gone ${routes_gone}s," \
	"tunnel back ${tun_back}s, BGP+route+ping ${all_back}s; box: $(wan_counters)"
vi_log "events: $(grep -E '^(EVENT|BGP_EVENT)' "$VI_RUN/gw.out" | awk '{ print $2, $NF }' | tr '\n' ';')"
vi_pass
