#!/bin/bash
# Our eBGP speaker (examples/bgp_speaker) against GoBGP over a veth
# between two network namespaces.  For both "we connect" and "GoBGP
# connects": IPv4 and IPv6 exchanged and checked from both sides (our
# data-plane dump, gobgp global rib); max-prefix teardown; peer restart
# (gobgpd frozen: hold expiry withdraws; restarted: relearned); and the
# malformed UPDATE from a scripted peer (treat-as-withdraw).
set -uo pipefail
. "$(dirname "$0")/lib/bgp.sh"
bi_init bgp_gobgp gobgpd gobgp
bi_netns || bi_fail "netns setup"

gobgp_conf() { # $1 = passive true|false
	cat >"$BI_RUN/gobgpd.toml" <<EOF
[global.config]
  as = $BI_PEER_AS
  router-id = "$BI_PEER4"
  port = 179
  local-address-list = ["$BI_PEER4"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "$BI_US4"
    peer-as = $BI_US_AS
  [neighbors.timers.config]
    hold-time = 6
    keepalive-interval = 2
    connect-retry = 2
  [neighbors.transport.config]
    local-address = "$BI_PEER4"
    passive-mode = $1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOF
}
gobgp_() { ip netns exec "$BI_NS_PEER" timeout 10 gobgp -u 127.0.0.1 -p 50051 "$@"; }
gobgp_up() { gobgp_ global >/dev/null 2>&1; }
gobgp_start() {
	ip netns exec "$BI_NS_PEER" gobgpd -f "$BI_RUN/gobgpd.toml" -p \
	    --api-hosts 127.0.0.1:50051 --pprof-disable \
	    >"$BI_RUN/gobgpd.log" 2>&1 </dev/null &
	GOBGP_PID=$!
	BI_PIDS="$BI_PIDS $GOBGP_PID"
	bi_wait_for 20 gobgp_up || return 1
	gobgp_ global rib add -a ipv4 172.16.0.0/16 origin igp || return 1
	gobgp_ global rib add -a ipv4 172.17.0.0/16 origin igp || return 1
	gobgp_ global rib add -a ipv4 172.18.0.0/16 origin igp || return 1
	gobgp_ global rib add -a ipv6 2001:db8:50::/48 nexthop $BI_PEER6 origin igp || return 1
}
gobgp_stop() {
	[ -n "${GOBGP_PID:-}" ] || return 0
	kill -CONT "$GOBGP_PID" 2>/dev/null
	kill -KILL "$GOBGP_PID" 2>/dev/null
	wait "$GOBGP_PID" 2>/dev/null
	GOBGP_PID=""
}
gobgp_established() { gobgp_ neighbor | grep -q Establ; }
gobgp_not_established() { gobgp_ neighbor >/dev/null && ! gobgp_established; }
gobgp_has() { gobgp_ global rib -a "$1" 2>/dev/null | grep -qF "$2"; }

US_COMMON=(--listen $BI_US4 --local $BI_US4 --hold 6 --connect-retry 2
	--import all --export local --nexthop6 $BI_US6
	--advertise 192.168.2.0/24 --advertise 2001:db8:2::/48)

exchange_checks() {
	bi_wait_for 30 bi_us_established $BI_PEER4 || bi_fail "$1: no session"
	bi_wait_for 20 gobgp_established || bi_fail "$1: GoBGP not Established"
	bi_wait_for 15 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
	    bi_fail "$1: no IPv4 route from GoBGP in our data plane"
	bi_wait_for 10 bi_routes_has "^route 172\.18\.0\.0/16 via $BI_PEER4 " ||
	    bi_fail "$1: 172.18/16 missing"
	bi_wait_for 10 bi_routes_has "^route 2001:db8:50::/48 via " ||
	    bi_fail "$1: no IPv6 route from GoBGP in our data plane"
	bi_wait_for 10 gobgp_has ipv4 192.168.2.0/24 || bi_fail "$1: GoBGP lacks our IPv4 prefix"
	bi_wait_for 10 gobgp_has ipv6 2001:db8:2::/48 || bi_fail "$1: GoBGP lacks our IPv6 prefix"
	gobgp_ global rib -a ipv4 192.168.2.0/24 | grep -q "$BI_US_AS" ||
	    bi_fail "$1: wrong AS path at GoBGP"
	gobgp_ global rib -a ipv6 | grep -F 2001:db8:2::/48 | grep -q "$BI_US6" ||
	    bi_fail "$1: wrong IPv6 next hop at GoBGP"
	bi_log "$1: IPv4+IPv6 exchanged (ours: $(grep -c ^route "$BI_RUN/routes") routes)"
}

# ---- scenario 1: we connect, GoBGP passive --------------------------
gobgp_conf true
gobgp_start || bi_fail "gobgpd start"
bi_start_us us1 --peer $BI_PEER4:$BI_PEER_AS "${US_COMMON[@]}"
exchange_checks "we connect"
bi_log "freezing gobgpd"
kill -STOP "$GOBGP_PID"
bi_wait_for 15 bi_us_not_established $BI_PEER4 || bi_fail "hold timer did not expire"
bi_wait_for 5 bi_routes_lacks "^route 172\.16\.0\.0/16" ||
    bi_fail "GoBGP routes not withdrawn from the data plane after hold expiry"
bi_out_has us1 "EVENT DOWN peer=$BI_PEER4 reason=VPNR_ERR_TIMEOUT code=4" ||
    bi_fail "no hold-expiry DOWN event"
gobgp_stop
gobgp_start || bi_fail "gobgpd restart"
bi_wait_for 30 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "routes not relearned after gobgpd restart"
bi_wait_for 10 gobgp_has ipv4 192.168.2.0/24 || bi_fail "GoBGP did not relearn ours"
bi_log "peer restart: relearned"
bi_stop_us

bi_start_us us1m --peer $BI_PEER4:$BI_PEER_AS --max-prefix 2 "${US_COMMON[@]}"
bi_wait_for 30 bi_out_has us1m "EVENT PREFIX_LIMIT" || bi_fail "no PREFIX_LIMIT event"
bi_wait_for 10 bi_out_has us1m "EVENT DOWN peer=$BI_PEER4 .*code=6 sub=1" ||
    bi_fail "no Cease/1 teardown"
bi_wait_for 5 bi_routes_lacks "^route 172\." || bi_fail "routes left after max-prefix"
sleep 3
gobgp_not_established || bi_fail "GoBGP still Established after max-prefix"
bi_log "max-prefix: session closed with Cease/1 and kept down"
bi_stop_us
gobgp_stop

# ---- scenario 2: GoBGP connects, we are passive ---------------------
gobgp_conf false
gobgp_start || bi_fail "gobgpd start (active)"
bi_start_us us2 --peer $BI_PEER4:$BI_PEER_AS:passive "${US_COMMON[@]}"
exchange_checks "GoBGP connects"
kill -STOP "$GOBGP_PID"
bi_wait_for 15 bi_routes_lacks "^route 172\.16\.0\.0/16" ||
    bi_fail "passive: routes not withdrawn after hold expiry"
gobgp_stop
gobgp_start || bi_fail "gobgpd restart"
bi_wait_for 30 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "passive: routes not relearned after gobgpd restart"
bi_log "passive: restart survived"
bi_stop_us
gobgp_stop

# ---- malformed UPDATE from a scripted peer --------------------------
bi_start_us us3 --peer $BI_PEER4:$BI_PEER_AS:passive "${US_COMMON[@]}"
ip netns exec "$BI_NS_PEER" timeout 60 python3 "$BI_SRC/bgp_fake_peer.py" \
    $BI_PEER4 $BI_US4 $BI_PEER_AS $BI_US_AS "$BI_RUN/go" \
    >"$BI_RUN/fake.out" 2>"$BI_RUN/fake.err" &
BI_PIDS="$BI_PIDS $!"
bi_wait_for 20 bi_routes_has "^route 10\.99\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "fake peer's valid UPDATE not installed"
touch "$BI_RUN/go"
bi_wait_for 10 bi_routes_lacks "^route 10\.99\.0\.0/16" ||
    bi_fail "malformed UPDATE not treated as withdraw"
bi_wait_for 10 grep -q STILL_UP "$BI_RUN/fake.out" || bi_fail "session reset by malformed UPDATE"
bi_routes_has "^route 10\.98\.0\.0/16" || bi_fail "other prefix lost"
! grep -q GOT_NOTIFICATION "$BI_RUN/fake.out" || bi_fail "we sent a NOTIFICATION"
bi_log "malformed UPDATE: treated as withdraw, session kept"
bi_stop_us
bi_log PASS
exit 0
