#!/bin/bash
# Hostile IKE_SA_INIT against minigw (responder only) in the left
# namespace, then a real strongSwan initiator.  A small stdlib-only
# sender (ike_probe_init.py) in the right namespace sends:
#   - an IKE_SA_INIT with an unknown critical payload: the answer must
#     be UNSUPPORTED_CRITICAL_PAYLOAD (data = the payload type), and
#     minigw's metrics must show the refusal and no half-open IKE SA;
#   - a version-3 header: the answer must be INVALID_MAJOR_VERSION
#     (data 0x20), again without state; a version-3 response: silence;
#   - the same IKE_SA_INIT without the bad payload: a full answer and
#     one half-open SA (so the refusals above were for the payload).
# Then charon initiates from the same address: the CHILD_SA must be
# INSTALLED at strongSwan and the hosts behind both sides must ping.
# Exit 77 (skipped) without root, strongSwan, python3 or minigw.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/minigw.sh
. "$HERE/lib/minigw.sh"

vi_init test_ike_hostile_init python3
MINIGW=${MINIGW:-$VPNR_BUILD_DIR/examples/minigw/minigw}
[ -x "$MINIGW" ] && [ -f "$MINIGW" ] || vi_skip "minigw not built in $VPNR_BUILD_DIR"
[ -c /dev/net/tun ] || vi_skip "no /dev/net/tun"
vi_setup_netns --hosts || vi_fail "namespaces"
mg_psk

cat >"$VI_RUN/minigw.conf" <<EOF
global:
  control_socket: $VI_RUN/gw.sock
  log_level: info
tunnels:
  - name: peer
    local: $VI_LEFT_WAN
    remote: $VI_RIGHT_WAN
    psk_file: psk
    role: respond
    ike_proposals: [aes256-sha256-x25519]
    esp_proposals: [aes256-sha256]
    address: 169.254.0.1/30
    interface: vpnr0
routes:
  - prefix: $VI_RIGHT_LAN
    tunnel: peer
EOF
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"

# metric NAME: the value of one line of `minigw ctl metrics`.
metric() {
	mg_ctl gw metrics | awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print "missing" }'
}
probe() { # mode
	ip netns exec "$VI_NS_RIGHT" python3 "$HERE/ike_probe_init.py" \
		--to $VI_LEFT_WAN --mode "$1" 2>&1 | tee -a "$VI_RUN/probe.out" >&2
	return "${PIPESTATUS[0]}"
}

vi_log "unknown critical payload"
probe critical || vi_fail "no UNSUPPORTED_CRITICAL_PAYLOAD answer"
[ "$(metric 'minigw_ike_refused_total{reason="critical"}')" = 1 ] ||
	vi_fail "critical refusal not counted: $(mg_ctl gw metrics | grep ike_)"
[ "$(metric minigw_ike_half_open)" = 0 ] || vi_fail "a half-open IKE SA was made"

vi_log "version 3"
probe version3 || vi_fail "no INVALID_MAJOR_VERSION answer"
probe response3 || vi_fail "a version-3 response was answered"
[ "$(metric 'minigw_ike_refused_total{reason="version"}')" = 2 ] ||
	vi_fail "version refusals not counted: $(mg_ctl gw metrics | grep ike_)"
[ "$(metric minigw_ike_half_open)" = 0 ] || vi_fail "a half-open IKE SA was made"

vi_log "the same request without the bad payload"
probe plain || vi_fail "no IKE_SA_INIT answer to a well-formed request"
[ "$(metric minigw_ike_half_open)" = 1 ] || vi_fail "no half-open IKE SA for a good request"

vi_log "strongSwan initiates"
vi_start_charon right aes256-sha256-x25519 aes256-sha256 start || vi_fail "charon"
ip -n "$VI_NS_RIGHT" route replace $VI_LEFT_LAN dev ipsec0 src $VI_RIGHT_LAN_GW ||
	vi_fail "route into ipsec0"
vi_wait_for 30 vi_swan_child_installed right || vi_fail "no CHILD_SA at strongSwan"
vi_wait_for 10 sh -c "ip -n $VI_NS_LEFT route show $VI_RIGHT_LAN | grep -q 'dev vpnr0'" ||
	vi_fail "route: $(ip -n "$VI_NS_LEFT" route show $VI_RIGHT_LAN)"
vi_wait_for 10 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP ||
	vi_fail "no ping lhost -> rhost"
ip netns exec "$VI_NS_RHOST" ping -c3 -i 0.2 -W2 -q $VI_LHOST_IP >/dev/null ||
	vi_fail "no ping rhost -> lhost"
[ "$(metric 'minigw_ike_refused_total{reason="critical"}')" = 1 ] ||
	vi_fail "strongSwan's messages were refused as critical"
vi_log "metrics: $(mg_ctl gw metrics | grep '^minigw_ike_' | tr '\n' ' ')"
vi_stop gw || vi_fail "minigw exited with status $?"
vi_pass
