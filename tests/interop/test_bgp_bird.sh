#!/bin/bash
# Our eBGP speaker (examples/bgp_speaker) against BIRD 2 over a veth
# between two network namespaces.  For both "we connect" and "BIRD
# connects": IPv4 and IPv6 exchanged and checked from both sides (our
# data-plane dump, birdc show route); max-prefix teardown (Cease/1);
# peer restart (BIRD frozen: hold expiry withdraws its routes from our
# data plane; BIRD restarted: relearned).  Then a scripted peer sends a
# malformed UPDATE: treated as withdraw, session kept (RFC 7606).
# Also: TCP-MD5, multihop with update-source, export transforms
# (prepend, MED) and the outbound prefix budget as BIRD sees them.
set -uo pipefail
. "$(dirname "$0")/lib/bgp.sh"
bi_init bgp_bird bird birdc
BI_MAX_SECONDS=300
bi_netns || bi_fail "netns setup"

bird_conf() { # $1 = passive on|off, $2 = extra protocol lines
	cat >"$BI_RUN/bird.conf" <<EOF
log "$BI_RUN/bird.log" all;
router id $BI_PEER4;
protocol device { scan time 10; }
protocol static s4 {
    ipv4;
    route 172.16.0.0/16 blackhole;
    route 172.17.0.0/16 blackhole;
    route 172.18.0.0/16 blackhole;
}
protocol static s6 { ipv6; route 2001:db8:50::/48 blackhole; }
protocol bgp ours {
    local $BI_PEER4 as $BI_PEER_AS;
    neighbor $BI_US4 as $BI_US_AS;
    hold time 6;
    keepalive time 2;
    connect delay time 1;
    connect retry time 2;
    error wait time 1, 4;
    passive $1;
    ${2:-}
    ipv4 { import all; export where proto = "s4"; };
    ipv6 { import all; export where proto = "s6"; next hop address $BI_PEER6; };
}
EOF
}
bird_start() {
	ip netns exec "$BI_NS_PEER" bird -c "$BI_RUN/bird.conf" -s "$BI_RUN/bird.ctl" \
	    -P "$BI_RUN/bird.pid" || return 1
	bi_wait_for 5 test -s "$BI_RUN/bird.pid"
	BI_PIDS="$BI_PIDS $(cat "$BI_RUN/bird.pid")"
}
bird_stop() {
	local p
	p=$(cat "$BI_RUN/bird.pid" 2>/dev/null) || return 0
	kill -CONT "$p" 2>/dev/null
	kill -KILL "$p" 2>/dev/null
	bi_wait_for 5 bash -c "! kill -0 $p 2>/dev/null || grep -q '^State:.*Z' /proc/$p/status"
	rm -f "$BI_RUN/bird.pid" "$BI_RUN/bird.ctl"
}
birdc_() { timeout 10 birdc -s "$BI_RUN/bird.ctl" "$@"; }
bird_established() { birdc_ show protocols ours | grep -q Established; }
bird_has() { birdc_ show route "$1" 2>/dev/null | grep -qF "$1"; }

US_COMMON=(--listen $BI_US4 --local $BI_US4 --hold 6 --connect-retry 2
	--import all --export local --nexthop6 $BI_US6
	--advertise 192.168.2.0/24 --advertise 2001:db8:2::/48)

exchange_checks() { # $1 = label
	bi_wait_for 30 bi_us_established $BI_PEER4 || bi_fail "$1: no session"
	bi_wait_for 20 bird_established || bi_fail "$1: BIRD not Established"
	bi_wait_for 15 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
	    bi_fail "$1: no IPv4 route from BIRD in our data plane"
	bi_wait_for 10 bi_routes_has "^route 172\.18\.0\.0/16 via $BI_PEER4 " ||
	    bi_fail "$1: 172.18/16 missing"
	bi_wait_for 10 bi_routes_has "^route 2001:db8:50::/48 via $BI_PEER6 " ||
	    bi_fail "$1: no IPv6 route from BIRD in our data plane"
	bi_wait_for 10 bird_has 192.168.2.0/24 || bi_fail "$1: BIRD lacks our IPv4 prefix"
	bi_wait_for 10 bird_has 2001:db8:2::/48 || bi_fail "$1: BIRD lacks our IPv6 prefix"
	birdc_ show route all 192.168.2.0/24 | grep -q "BGP.as_path: $BI_US_AS" ||
	    bi_fail "$1: wrong AS path at BIRD"
	birdc_ show route all 2001:db8:2::/48 | grep -q "$BI_US6" ||
	    bi_fail "$1: wrong IPv6 next hop at BIRD"
	bi_log "$1: IPv4+IPv6 exchanged (ours: $(grep -c ^route "$BI_RUN/routes") routes)"
}

# ---- scenario 1: we connect, BIRD passive ---------------------------
bird_conf on
bird_start || bi_fail "bird start"
bi_start_us us1 --peer $BI_PEER4:$BI_PEER_AS "${US_COMMON[@]}"
exchange_checks "we connect"

# peer restart: BIRD stops answering -> hold expiry (6 s) withdraws
bi_log "freezing BIRD"
kill -STOP "$(cat "$BI_RUN/bird.pid")"
bi_wait_for 15 bi_us_not_established $BI_PEER4 || bi_fail "hold timer did not expire"
bi_wait_for 5 bi_routes_lacks "^route 172\.16\.0\.0/16" ||
    bi_fail "BIRD routes not withdrawn from the data plane after hold expiry"
bi_out_has us1 "EVENT DOWN peer=$BI_PEER4 reason=VPNR_ERR_TIMEOUT code=4" ||
    bi_fail "no hold-expiry DOWN event"
bi_log "hold expiry: routes withdrawn"
bird_stop
bird_start || bi_fail "bird restart"
bi_wait_for 30 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "routes not relearned after BIRD restart"
bi_wait_for 10 bird_has 192.168.2.0/24 || bi_fail "BIRD did not relearn ours"
bi_log "peer restart: relearned"
bi_stop_us

# max-prefix: BIRD sends 3 IPv4 + 1 IPv6; limit 2 -> Cease/1
bi_start_us us1m --peer $BI_PEER4:$BI_PEER_AS --max-prefix 2 "${US_COMMON[@]}"
bi_wait_for 30 bi_out_has us1m "EVENT PREFIX_LIMIT" || bi_fail "no PREFIX_LIMIT event"
bi_wait_for 10 bi_out_has us1m "EVENT DOWN peer=$BI_PEER4 .*code=6 sub=1" ||
    bi_fail "no Cease/1 teardown"
bi_wait_for 10 bash -c "grep -qiE 'maximum number of prefixes|Cease' '$BI_RUN/bird.log'" ||
    bi_fail "BIRD did not see the Cease"
bi_wait_for 5 bi_routes_lacks "^route 172\." || bi_fail "routes left after max-prefix"
bi_log "max-prefix: session closed with Cease/1"
bi_stop_us

# max-prefix warning only: session stays
bi_start_us us1w --peer $BI_PEER4:$BI_PEER_AS --max-prefix 2:warn "${US_COMMON[@]}"
bi_wait_for 30 bi_out_has us1w "EVENT PREFIX_LIMIT" || bi_fail "no PREFIX_LIMIT warning"
sleep 1
bi_us_established $BI_PEER4 || bi_fail "warn-only max-prefix dropped the session"
bi_stop_us
bird_stop

# ---- scenario 2: BIRD connects, we are passive ----------------------
bird_conf off
bird_start || bi_fail "bird start (active)"
bi_start_us us2 --peer $BI_PEER4:$BI_PEER_AS:passive "${US_COMMON[@]}"
exchange_checks "BIRD connects"
bi_log "freezing BIRD"
kill -STOP "$(cat "$BI_RUN/bird.pid")"
bi_wait_for 15 bi_routes_lacks "^route 172\.16\.0\.0/16" ||
    bi_fail "passive: routes not withdrawn after hold expiry"
bird_stop
bird_start || bi_fail "bird restart"
bi_wait_for 30 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "passive: routes not relearned after BIRD restart"
bi_log "passive: restart survived"
bi_stop_us
bird_stop

# ---- TCP-MD5 (RFC 2385, what GCP offers), BIRD connecting -----------
bird_conf off 'password "vpnr-md5-secret";'
bird_start || bi_fail "bird start (md5)"
bi_start_us us4 --peer $BI_PEER4:$BI_PEER_AS:passive --md5 vpnr-md5-secret "${US_COMMON[@]}"
bi_wait_for 30 bi_us_established $BI_PEER4 || bi_fail "md5: no session"
bi_wait_for 15 bi_routes_has "^route 172\.16\.0\.0/16 via $BI_PEER4 " || bi_fail "md5: no routes"
bi_wait_for 10 bird_has 192.168.2.0/24 || bi_fail "md5: BIRD lacks our prefix"
bi_log "TCP-MD5: established and exchanged"
bi_stop_us
# a wrong key never gets a session
bi_start_us us5 --peer $BI_PEER4:$BI_PEER_AS --md5 wrong-key "${US_COMMON[@]}"
sleep 6
bi_routes_has "^peer $BI_PEER4 state Established" && bi_fail "md5: wrong key accepted"
bi_log "TCP-MD5: wrong key refused"
bi_stop_us
bird_stop

# ---- multihop eBGP with update-source (Azure: on-premises loopback to
# the GatewaySubnet address) ------------------------------------------
ip -n "$BI_NS_US" addr add 10.255.0.1/32 dev lo
ip -n "$BI_NS_PEER" addr add 10.255.0.2/32 dev lo
ip -n "$BI_NS_US" route add 10.255.0.2/32 via $BI_PEER4
ip -n "$BI_NS_PEER" route add 10.255.0.1/32 via $BI_US4
cat >"$BI_RUN/bird.conf" <<EOF
log "$BI_RUN/bird.log" all;
router id $BI_PEER4;
protocol device { scan time 10; }
protocol static lo_route { ipv4; route 10.255.0.1/32 via $BI_US4; }
protocol static s4 { ipv4; route 172.16.0.0/16 blackhole; }
protocol bgp ours {
    local 10.255.0.2 as $BI_PEER_AS;
    neighbor 10.255.0.1 as $BI_US_AS;
    multihop 2;
    hold time 6; keepalive time 2;
    connect delay time 1; connect retry time 2; error wait time 1, 4;
    passive on;
    ipv4 { import all; export where proto = "s4"; next hop self; };
}
EOF
bird_start || bi_fail "bird start (multihop)"
bi_start_us us6 --listen 10.255.0.1 --local 10.255.0.1 --peer 10.255.0.2:$BI_PEER_AS \
    --ttl 2 --hold 6 --connect-retry 2 --import all --export local \
    --advertise 192.168.2.0/24
bi_wait_for 30 bi_us_established 10.255.0.2 || bi_fail "multihop: no session"
bi_wait_for 15 bi_routes_has "^route 172\.16\.0\.0/16 via 10\.255\.0\.2 " ||
    bi_fail "multihop: no route from BIRD"
bi_wait_for 10 bird_has 192.168.2.0/24 || bi_fail "multihop: BIRD lacks our prefix"
birdc_ show route all 192.168.2.0/24 | grep -q "BGP.next_hop: 10.255.0.1" ||
    bi_fail "multihop: next hop is not our update-source"
bi_log "multihop + update-source: established and exchanged"
bi_stop_us
bird_stop

# ---- export transforms and the outbound budget, seen at BIRD ---------
bird_conf off
bird_start || bi_fail "bird start (export)"
bi_start_us us7 --peer $BI_PEER4:$BI_PEER_AS:passive --prepend 2 --med 50 \
    --out-budget 2 "${US_COMMON[@]}" --advertise 192.168.3.0/24
bi_wait_for 30 bi_us_established $BI_PEER4 || bi_fail "export: no session"
bi_wait_for 10 bird_has 192.168.2.0/24 || bi_fail "export: BIRD lacks our prefix"
birdc_ show route all 192.168.2.0/24 | grep -q "BGP.as_path: $BI_US_AS $BI_US_AS $BI_US_AS" ||
    bi_fail "export: AS-path prepend not seen at BIRD"
birdc_ show route all 192.168.2.0/24 | grep -q "BGP.med: 50" ||
    bi_fail "export: MED not seen at BIRD"
bi_wait_for 10 bi_out_has us7 "EVENT PREFIX_LIMIT peer=$BI_PEER4 afi=1[0-9][0-9]" ||
    bi_fail "export: no outbound budget event"
n=$(birdc_ show route protocol ours count | awk '/routes/{print $1; exit}')
[ "${n:-0}" = 2 ] || bi_fail "export: BIRD got ${n:-0} routes from us, budget is 2"
bi_log "export: prepend, MED and the outbound budget seen at BIRD"
bi_stop_us
bird_stop

# ---- malformed UPDATE from a scripted peer --------------------------
bi_start_us us3 --peer $BI_PEER4:$BI_PEER_AS:passive "${US_COMMON[@]}"
ip netns exec "$BI_NS_PEER" timeout 60 python3 "$BI_SRC/bgp_fake_peer.py" \
    $BI_PEER4 $BI_US4 $BI_PEER_AS $BI_US_AS "$BI_RUN/go" \
    >"$BI_RUN/fake.out" 2>"$BI_RUN/fake.err" &
BI_PIDS="$BI_PIDS $!"
bi_wait_for 20 bi_routes_has "^route 10\.99\.0\.0/16 via $BI_PEER4 " ||
    bi_fail "fake peer's valid UPDATE not installed"
bi_routes_has "^route 10\.98\.0\.0/16" || bi_fail "10.98/16 missing"
touch "$BI_RUN/go"
bi_wait_for 10 grep -q BAD_SENT "$BI_RUN/fake.out" || bi_fail "fake peer stuck"
bi_wait_for 10 bi_routes_lacks "^route 10\.99\.0\.0/16" ||
    bi_fail "malformed UPDATE not treated as withdraw"
bi_wait_for 10 grep -q STILL_UP "$BI_RUN/fake.out" || bi_fail "session reset by malformed UPDATE"
bi_routes_has "^route 10\.98\.0\.0/16" || bi_fail "other prefix lost"
bi_routes_has "^peer $BI_PEER4 state Established .* withdrawn 1 " ||
    bi_fail "treat-as-withdraw not counted"
! grep -q GOT_NOTIFICATION "$BI_RUN/fake.out" || bi_fail "we sent a NOTIFICATION"
bi_log "malformed UPDATE: treated as withdraw, session kept"
bi_stop_us
bi_log PASS
exit 0
