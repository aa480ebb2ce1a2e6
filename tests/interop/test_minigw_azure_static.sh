#!/bin/bash
# Interop, scenario 1 of the cloud how-tos (seed-scenarios.md §3, static):
# minigw from a configuration file against strongSwan (kernel-libipsec)
# playing Azure's route-based gateway.  IKE aes256-sha1-modp1024, ESP
# aes256-sha256, lifetimes 3600 s, tunnel address 169.254.0.1/30, static
# route 172.16.0.0/16 into the tunnel, MSS 1350.  Checked: the proposals
# strongSwan negotiated, the route (minigw's own protocol number), a ping
# and a TCP transfer between the hosts behind each side, the MSS clamp,
# `ctl show ike-sa` / `show child-sa` against swanctl, `ctl tunnel
# rekey`, and that a second
# minigw on the same control socket refuses to start.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_azure_static
vi_setup_netns --hosts || vi_fail "namespaces"
mg_psk
vi_start_charon right aes256-sha1-modp1024 aes256-sha256 none || vi_fail "charon"
# Azure's local network gateway: the on-premises prefix into the tunnel.
ip -n "$VI_NS_RIGHT" route add $VI_LEFT_LAN dev ipsec0 src $VI_RIGHT_LAN_GW

cat >"$VI_RUN/minigw.conf" <<EOF
# NEC IX <-> Azure VPN gateway, static routing
global:
  control_socket: $VI_RUN/gw.sock
  log_level: info
tunnels:
  - name: azure
    local: $VI_LEFT_WAN
    remote: $VI_RIGHT_WAN
    psk_file: psk
    ike_proposals: [aes256-sha1-modp1024]
    esp_proposals: [aes256-sha256]
    ike_lifetime: 3600
    child_lifetime: 3600
    child_lifetime_kb: 102400000
    address: 169.254.0.1/30
    interface: vpnr0
    mss: 1350
routes:
  - prefix: $VI_RIGHT_LAN
    tunnel: azure
EOF
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"
vi_wait_for 20 vi_swan_child_installed right || vi_fail "no CHILD_SA at strongSwan"

algs=$(vi_swan_esp_algs right)
vi_log "strongSwan ESP: $algs"
[ "$algs" = AES_CBC-256/HMAC_SHA2_256_128 ] || vi_fail "ESP algorithms $algs"
vi_swan right --list-sas | grep -q "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024" ||
	vi_fail "IKE algorithms: $(vi_swan right --list-sas | head -3)"

# The static route: minigw's protocol number (245), into vpnr0.
vi_wait_for 5 sh -c "ip -n $VI_NS_LEFT route show $VI_RIGHT_LAN | grep -q 'dev vpnr0 proto 245'" ||
	vi_fail "route: $(ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN)"

vi_wait_for 10 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP ||
	vi_fail "no ping lhost -> rhost"
ip netns exec "$VI_NS_RHOST" ping -c3 -i 0.2 -W2 -q $VI_LHOST_IP >/dev/null ||
	vi_fail "no ping rhost -> lhost"

# A TCP transfer (2 MB of random bytes) lhost -> rhost, checked by
# its SHA-256 on arrival; its SYN is MSS-clamped on the way.
mg_tcp_check "$VI_NS_LHOST" "$VI_NS_RHOST" $VI_RHOST_IP 5301 2097152 || vi_fail "TCP transfer"

# ctl: the tunnel counters, the IKE SA and the CHILD_SAs.
mg_ctl gw show tunnels --json >"$VI_RUN/tunnels.json" || vi_fail "ctl show tunnels"
python3 - "$VI_RUN/tunnels.json" <<'EOF' || vi_fail "show tunnels: $(cat "$VI_RUN/tunnels.json")"
import json, sys
t = json.load(open(sys.argv[1]))["tunnels"][0]
print("tunnel %s state %s packets in/out %d/%d mss_clamped %d" % (
    t["name"], t["state"], t["packets_in"], t["packets_out"], t["mss_clamped"]))
ok = t["name"] == "azure" and t["state"] == "ESTABLISHED" and t["child_up"]
ok = ok and t["packets_in"] > 0 and t["packets_out"] > 0 and t["mss_clamped"] > 0
sys.exit(0 if ok else 1)
EOF
mg_ctl gw show ike-sa --json >"$VI_RUN/ike.json" || vi_fail "ctl show ike-sa"
read -r si sr <<<"$(vi_swan_ike_spis right)"
python3 - "$VI_RUN/ike.json" "$si" "$sr" <<'EOF' || vi_fail "show ike-sa: $(cat "$VI_RUN/ike.json")"
import json, sys
s = json.load(open(sys.argv[1]))[0]
print("ike-sa %s/%s %s-%d %s %s, lifetime %d, remaining %d" % (s["spi_i"], s["spi_r"],
    s["encr"], s["encr_bits"], s["integ"], s["dh"], s["lifetime_s"], s["remaining_s"]))
ok = s["spi_i"] == sys.argv[2] and s["spi_r"] == sys.argv[3]
ok = ok and s["encr"] == "AES_CBC" and s["encr_bits"] == 256 and s["dh"] == "MODP_1024"
ok = ok and s["lifetime_s"] == 3600 and 0 < s["remaining_s"] <= 3600
sys.exit(0 if ok else 1)
EOF
read -r swin swout <<<"$(vi_swan_child_spis right | tail -n1)"
mg_ctl gw show child-sa --json >"$VI_RUN/child.json" || vi_fail "ctl show child-sa"
python3 - "$VI_RUN/child.json" "$swin" "$swout" <<'EOF' || vi_fail "show child-sa: $(cat "$VI_RUN/child.json")"
import json, sys
sas = json.load(open(sys.argv[1]))
ins = [s for s in sas if s["dir"] == "in"]
outs = [s for s in sas if s["dir"] == "out"]
# strongSwan's inbound SPI is our outbound one and vice versa.
ok = any(s["spi"] == sys.argv[3] for s in ins) and any(s["spi"] == sys.argv[2] for s in outs)
for s in sas:
    print("child-sa %s %s %s/%s packets %d/%d" % (s["spi"], s["dir"], s["encr"], s["integ"],
        s["packets_in"], s["packets_out"]))
    ok = ok and s["encr"] == "AES_CBC-256" and s["integ"] == "HMAC_SHA2_256_128"
sys.exit(0 if ok else 1)
EOF
mg_ctl gw show child-sa | grep -q "integrity failure 0" || vi_fail "child-sa text: $(mg_ctl gw show child-sa)"

# An operator rekey: new SPIs at strongSwan, traffic still flows.
mg_ctl gw tunnel rekey azure >/dev/null || vi_fail "ctl tunnel rekey"
rekeyed() { [ "$(vi_swan_child_spis right | tail -n1)" != "$swin $swout" ]; }
vi_wait_for 10 rekeyed || vi_fail "SPIs unchanged after ctl tunnel rekey"
vi_log "rekeyed: $swin $swout -> $(vi_swan_child_spis right | tail -n1)"
vi_wait_for 5 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP ||
	vi_fail "no ping after the rekey"
mg_ctl gw tunnel rekey nosuch >/dev/null 2>&1 && vi_fail "rekey of an unknown tunnel accepted"

# A second instance on the same control socket refuses, exit 3.
ip netns exec "$VI_NS_LEFT" "$MINIGW" -c "$VI_RUN/minigw.conf" >"$VI_RUN/second.out" 2>&1
rc=$?
[ $rc = 3 ] && grep -q "already runs" "$VI_RUN/second.out" ||
	vi_fail "second instance: rc=$rc $(cat "$VI_RUN/second.out")"
mg_ctl gw show tunnels >/dev/null || vi_fail "the first instance lost its socket"

# SIGTERM: IKE DELETE reaches strongSwan, the route leaves the kernel.
vi_stop gw || vi_fail "minigw exit status $?"
vi_wait_for 5 sh -c "! ip netns exec $VI_NS_RIGHT swanctl --list-sas --uri $(vi_vici right) 2>/dev/null | grep -q ESTABLISHED" ||
	vi_fail "strongSwan still has the IKE SA after SIGTERM"
grep -q "received DELETE" "$VI_RUN/right/charon.log" || vi_fail "no DELETE in charon.log"
ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN | grep -q . && vi_fail "route left behind"
vi_pass
