#!/bin/bash
# Interop, scenario 3 of the cloud how-tos (AWS's two tunnel endpoints):
# one minigw, two tunnels to two cloud gateway instances (strongSwan +
# BIRD each, AS 64512), eBGP over each tunnel's /30.  Both advertise
# 172.16.0.0/16: the kernel gets one multipath route over both TUNs.
# Then `ctl tunnel down aws2`: the route loses that nexthop at once (not
# at BGP hold expiry) and `ctl tunnel up aws2` brings it back.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_ecmp
vi_setup_netns || vi_fail "namespaces"
R2=$VI_PREFIX-r2
mg_cloud $R2 wan2 198.51.100.1 198.51.100.2 24 || vi_fail "second cloud namespace"
mg_psk
mg_aws_cloud right 1 203.0.113.2 203.0.113.1 || vi_fail "cloud 1"
mg_aws_cloud $R2 2 198.51.100.2 198.51.100.1 || vi_fail "cloud 2"
mg_aws_conf "$VI_RUN/minigw.conf" 2
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"

vi_wait_for 20 vi_swan_child_installed right || vi_fail "no CHILD_SA on tunnel 1"
vi_wait_for 20 vi_swan_child_installed $R2 || vi_fail "no CHILD_SA on tunnel 2"
vi_wait_for 30 mg_bird_established right || vi_fail "BGP 1 not Established"
vi_wait_for 30 mg_bird_established $R2 || vi_fail "BGP 2 not Established"
vi_wait_for 10 mg_bird_has right 192.168.2.0/24 || vi_fail "cloud 1 lacks our LAN"
# The export list lan-only lets 192.168.2.0/24 pass, not 192.168.3.0/24.
mg_bird_has right 192.168.3.0/24 && vi_fail "the export list let 192.168.3.0/24 pass"

vi_wait_for 15 mg_ecmp || vi_fail "no multipath route: $(cat "$VI_RUN/route.txt")"
vi_log "kernel: $(tr '\n' ' ' <"$VI_RUN/route.txt")"
mg_ctl gw show routes --json >"$VI_RUN/routes.json" || vi_fail "ctl show routes"
python3 - "$VI_RUN/routes.json" <<'PY' || vi_fail "show routes: $(cat "$VI_RUN/routes.json")"
import json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["prefix"] == "172.16.0.0/16"][0]
print("show routes:", r["prefix"], r["proto"], [n["tunnel"] for n in r["nexthops"]])
sys.exit(0 if r["multipath"] and r["installed"] and len(r["nexthops"]) == 2 else 1)
PY
n=$(mg_ctl gw show bgp summary | grep -Ec "^169\.254\.2[12]\.2 +64512 .* 1$")
[ "$n" = 2 ] || vi_fail "bgp summary: $(mg_ctl gw show bgp summary)"
for t in 1 2; do
	ip netns exec "$VI_NS_LEFT" ping -c1 -W2 -q 169.254.2$t.2 >/dev/null ||
		vi_fail "no ping to cloud $t's inside address"
done

# Tunnel 2 goes down: its nexthop leaves at once (hold time is 30 s).
mg_ctl gw tunnel down aws2 || vi_fail "ctl tunnel down"
vi_wait_for 5 mg_single_path 1 || vi_fail "route after tunnel down: $(cat "$VI_RUN/route.txt")"
vi_log "after tunnel down: $(tr '\n' ' ' <"$VI_RUN/route.txt")"
mg_ctl gw tunnel up aws2 || vi_fail "ctl tunnel up"
vi_wait_for 30 mg_ecmp || vi_fail "multipath not back: $(cat "$VI_RUN/route.txt")"
vi_stop gw || vi_fail "minigw exit status $?"
vi_pass
