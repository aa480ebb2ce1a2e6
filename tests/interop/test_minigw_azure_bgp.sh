#!/bin/bash
# Interop, scenario 2 of the cloud how-tos (seed-scenarios.md §3, eBGP):
# Azure with BGP from a loopback.  minigw (AS 65050) peers from Loopback
# 10.2.2.2/32 (an interface minigw creates) with multihop to the cloud's
# BGP speaker 172.16.0.6 (AS 65010, BIRD in the host namespace behind
# strongSwan's gateway), through a /32 static route into the tunnel, and
# advertises 192.168.2.0/24.  Checked: BIRD learns 192.168.2.0/24 with
# path 65050 and next hop 10.2.2.2; minigw installs 172.16.0.0/16 as
# proto bgp into the tunnel; `ctl show bgp summary` and `show bgp
# neighbors 172.16.0.6 routes | advertised-routes | received-routes`
# print what the NEC router prints (Path "65010 i" for BIRD's route,
# "65050 i" for ours, the path BIRD received); a ping crosses on the learned route;
# `ctl bgp clear [soft]`; SIGTERM sends a BGP CEASE before the IKE DELETE.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_azure_bgp
vi_setup_netns --hosts || vi_fail "namespaces"
mg_psk
vi_start_charon right aes256-sha1-modp1024 aes256-sha256 none || vi_fail "charon"
# Azure's gateway: the on-premises BGP address and LAN behind the tunnel.
ip -n "$VI_NS_RIGHT" route add 10.2.2.2/32 dev ipsec0 src $VI_RIGHT_LAN_GW
ip -n "$VI_NS_RIGHT" route add $VI_LEFT_LAN dev ipsec0 src $VI_RIGHT_LAN_GW
# Azure's BGP speaker: 172.16.0.6 in the GatewaySubnet (the rhost namespace).
ip -n "$VI_NS_RHOST" addr add 172.16.0.6/16 dev eth0
mkdir -p "$VI_RUN/rhost"
mg_bird_conf "$VI_RUN/rhost/bird.conf" 172.16.0.6 65010 172.16.0.6 10.2.2.2 65050 8 172.16.0.0/16
mg_bird rhost "$VI_RUN/rhost/bird.conf" || vi_fail "bird"

cat >"$VI_RUN/minigw.conf" <<EOF
# NEC IX <-> Azure VPN gateway, eBGP from Loopback0
global:
  router_id: 10.2.2.2
  local_as: 65050
  control_socket: $VI_RUN/gw.sock
interfaces:
  - name: lo0
    addresses: [10.2.2.2/32]
tunnels:
  - name: azure
    local: $VI_LEFT_WAN
    remote: $VI_RIGHT_WAN
    psk_file: psk
    ike_proposals: [aes256-sha1-modp1024]
    esp_proposals: [aes256-sha256]
    ike_lifetime: 3600
    child_lifetime: 3600
    address: 169.254.0.1/30
    interface: vpnr0
routes:
  - prefix: 172.16.0.6/32
    tunnel: azure
bgp:
  neighbors:
    - address: 172.16.0.6
      remote_as: 65010
      update_source: lo0
      multihop: 255
      hold_time: 180
      keepalive: 60
      connect_retry: 2
  networks: [$VI_LEFT_LAN]
EOF
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"
vi_wait_for 20 vi_swan_child_installed right || vi_fail "no CHILD_SA"
ip -n "$VI_NS_LEFT" addr show lo0 | grep -q "10.2.2.2/32" || vi_fail "no Loopback lo0"
vi_wait_for 30 mg_bird_established rhost || vi_fail "BGP not Established at BIRD"
vi_wait_for 10 mg_bird_has rhost $VI_LEFT_LAN || vi_fail "BIRD lacks $VI_LEFT_LAN"
mg_birdc rhost show route all $VI_LEFT_LAN >"$VI_RUN/bird-route.out"
grep -q "BGP.as_path: 65050" "$VI_RUN/bird-route.out" &&
	grep -q "BGP.next_hop: 10.2.2.2" "$VI_RUN/bird-route.out" ||
	vi_fail "BIRD's route: $(cat "$VI_RUN/bird-route.out")"

vi_wait_for 10 sh -c "ip -n $VI_NS_LEFT route show $VI_RIGHT_LAN | grep -q 'dev vpnr0 proto bgp'" ||
	vi_fail "no BGP route: $(ip -n "$VI_NS_LEFT" route)"
vi_wait_for 10 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP ||
	vi_fail "no ping lhost -> rhost on the BGP route"

# What the NEC router shows, from minigw ctl.
mg_ctl gw show bgp summary >"$VI_RUN/summary.txt" || vi_fail "ctl show bgp summary"
cat "$VI_RUN/summary.txt" >&2
grep -q "BGP router identifier 10.2.2.2, local AS number 65050" "$VI_RUN/summary.txt" &&
	grep -Eq "^172\.16\.0\.6 +65010 +[0-9]+ +[0-9]+ +[0-9:]+ +1$" "$VI_RUN/summary.txt" ||
	vi_fail "show bgp summary"
mg_ctl gw show bgp neighbors 172.16.0.6 routes >"$VI_RUN/routes.txt" || vi_fail "ctl routes"
cat "$VI_RUN/routes.txt" >&2
# BIRD (AS 65010) sends its static 172.16.0.0/16 with ORIGIN IGP
grep -Eq '^\*> 172\.16\.0\.0/16 +172\.16\.0\.6 .* 65010 i$' "$VI_RUN/routes.txt" ||
	vi_fail "show bgp neighbors 172.16.0.6 routes"
mg_ctl gw show bgp neighbors 172.16.0.6 advertised-routes >"$VI_RUN/adv.txt" || vi_fail "ctl adv"
cat "$VI_RUN/adv.txt" >&2
# the path shown is the path we send, as BIRD received it
grep -Eq 'BGP\.as_path: 65050$' "$VI_RUN/bird-route.out" &&
	grep -Eq 'BGP\.origin: IGP$' "$VI_RUN/bird-route.out" ||
	vi_fail "BIRD's path: $(cat "$VI_RUN/bird-route.out")"
grep -Eq '^\*> 192\.168\.2\.0/24 +10\.2\.2\.2 .* 65050 i$' "$VI_RUN/adv.txt" ||
	vi_fail "show bgp neighbors 172.16.0.6 advertised-routes"
mg_ctl gw show bgp neighbors 172.16.0.6 received-routes --json >"$VI_RUN/recv.json" || vi_fail "ctl recv"
python3 - "$VI_RUN/recv.json" <<'EOF' || vi_fail "received-routes: $(cat "$VI_RUN/recv.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ok = [x["network"] for x in r] == ["172.16.0.0/16"] and r[0]["next_hop"] == "172.16.0.6"
sys.exit(0 if ok and r[0]["as_path"] == [65010] and r[0]["origin"] == "igp" else 1)
EOF
mg_ctl gw show bgp neighbors 172.16.0.6 --json >"$VI_RUN/nb.json" || vi_fail "ctl neighbor"
python3 - "$VI_RUN/nb.json" <<'EOF' || vi_fail "neighbor: $(cat "$VI_RUN/nb.json")"
import json, sys
n = json.load(open(sys.argv[1]))
ok = n["state"] == "Established" and n["local"] == "10.2.2.2" and n["multihop"] == 255
ok = ok and n["hold_s"] == 180 and n["tunnel"] == "azure" and n["pfx_accepted"] == 1
sys.exit(0 if ok else 1)
EOF
mg_ctl gw show bgp neighbors 192.0.2.99 routes >/dev/null 2>&1 && vi_fail "unknown neighbor accepted"
mg_ctl gw metrics | grep -q 'minigw_bgp_neighbor_state{neighbor="172.16.0.6"} 5' ||
	vi_fail "metrics: $(mg_ctl gw metrics | grep bgp)"

# bgp clear: a soft clear keeps the session, a hard one restarts it.
est() { grep -c "ESTABLISHED peer=[0-9]* addr=172.16.0.6" "$VI_RUN/gw.out"; }
mg_ctl gw bgp clear 172.16.0.6 soft >/dev/null || vi_fail "ctl bgp clear soft"
mg_ctl gw show bgp summary | grep -Eq "^172\.16\.0\.6 .* 1$" || vi_fail "soft clear reset the session"
[ "$(est)" = 1 ] || vi_fail "soft clear: session re-established"
mg_ctl gw bgp clear 172.16.0.6 >/dev/null || vi_fail "ctl bgp clear"
vi_wait_for 20 sh -c "[ \$(grep -c 'ESTABLISHED peer=[0-9]* addr=172.16.0.6' '$VI_RUN/gw.out') = 2 ]" ||
	vi_fail "no new session after bgp clear"
vi_wait_for 10 mg_bird_has rhost $VI_LEFT_LAN || vi_fail "BIRD lacks $VI_LEFT_LAN after the clear"
vi_wait_for 10 sh -c "ip -n $VI_NS_LEFT route show $VI_RIGHT_LAN | grep -q 'proto bgp'" ||
	vi_fail "route not back after the clear"

# SIGTERM: BIRD sees our CEASE, strongSwan our DELETE.
vi_stop gw || vi_fail "minigw exit status $?"
vi_wait_for 5 grep -qiE "Received: (Administrative shutdown|Peer de-configured|Cease)" "$VI_RUN/rhost/bird.conf.log" ||
	vi_fail "BIRD did not receive a CEASE: $(tail -5 "$VI_RUN/rhost/bird.conf.log")"
grep -q "received DELETE" "$VI_RUN/right/charon.log" || vi_fail "no IKE DELETE"
vi_pass
