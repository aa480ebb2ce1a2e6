#!/bin/bash
# Interop, IKEv1 through the whole stack: minigw (ike_version: 1, the
# built-in userspace ESP data plane over TUN) against strongSwan 5.9
# (kernel-libipsec, "version = 1"), both roles, for
#   Alibaba's defaults   aes128-sha1-modp1024 / aes128-sha1, no PFS,
#                        86,400 s / 86,400 s
#   AWS's IKEv1 defaults aes128-sha1-modp1024 / aes128-sha1, PFS group 2,
#                        28,800 s / 3,600 s, DPD 10 s
#   aes256-sha256-modp2048 with PFS group 14.
# In each case strongSwan must list the ISAKMP SA ESTABLISHED with the
# suite and the CHILD_SA INSTALLED; hosts behind each side ping each
# other and move 256 KiB over TCP; then Quick Mode (Phase 2) rekeys from
# minigw (`ctl tunnel rekey`) and from strongSwan (`swanctl --rekey
# --child`), and Phase 1 rekeys from each (`ctl tunnel rekey-ike`,
# `swanctl --rekey --ike`): the tunnel stays up, the SPIs or cookies
# change, and pings still cross after each.  Then a wrong PSK and a
# proposal mismatch (Phase 1, and Quick Mode only), each with either
# side initiating, end in clear errors on both sides: minigw's FAILED
# event names the reason, charon's log says what it refused, and no
# CHILD_SA is installed.  Then liveness: an idle tunnel's R-U-THERE is
# answered, a peer dropped by nftables is declared dead in seconds and
# the tunnel returns by itself once the peer answers.  Exit 77 (skipped)
# without root, strongSwan or minigw.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init ikev1_minigw
vi_setup_netns --hosts || vi_fail "namespaces"
mg_psk

# strongSwan's connection as the harness writes it, in IKEv1.
eval "$(declare -f vi_write_swanctl_conf | sed '1s/vi_write_swanctl_conf/vi_write_swanctl_conf_v2/')"
vi_write_swanctl_conf() {
	vi_write_swanctl_conf_v2 "$@"
	sed -i 's/version = 2/version = 1/' "$VI_RUN/$1/swanctl.conf"
}

charon_log() { grep -qE "$1" "$VI_RUN/right/charon.log" 2>/dev/null; }
ss_ike_algs() { vi_swan right --list-sas 2>/dev/null | grep -E "^ +(AES|3DES)" | head -n1 | awk '{ print $1 }'; }
ss_cookies() { vi_swan_ike_spis right; }
one_ike() { [ "$(vi_swan right --list-sas 2>/dev/null | grep -c "^$VI_CONN: ")" = 1 ]; }
ping_both() {
	vi_wait_for 10 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q $VI_RHOST_IP >/dev/null &&
		ip netns exec "$VI_NS_RHOST" ping -c2 -i 0.2 -W2 -q $VI_LHOST_IP >/dev/null
}

N=0
# gw_conf FILE ROLE IKE ESP P1 P2 [PSKFILE]: minigw, one IKEv1 tunnel.
gw_conf() {
	cat >"$1" <<EOF
global:
  control_socket: $VI_RUN/gw$N.sock
  log_level: info
tunnels:
  - name: v1
    local: $VI_LEFT_WAN
    remote: $VI_RIGHT_WAN
    psk_file: ${7:-psk}
    ike_version: 1
    role: $2
    ike_proposals: [$3]
    esp_proposals: [$4]
    ike_lifetime: $5
    child_lifetime: $6
    dpd_interval: ${DPD_INTERVAL:-10}
    dpd_timeout: ${DPD_TIMEOUT:-20}
    address: 169.254.0.1/30
    interface: vpnr0
routes:
  - prefix: $VI_RIGHT_LAN
    tunnel: v1
EOF
}

# start_pair WHO IKE ESP P1 P2 [SS_IKE SS_ESP [PSKFILE]]: strongSwan in
# right (initiating if WHO = theirs), minigw in left (initiating if
# WHO = ours).
start_pair() {
	local who=$1 ike=$2 esp=$3 p1=$4 p2=$5 sike=${6:-$2} sesp=${7:-$3} role start
	N=$((N + 1))
	[ "$who" = ours ] && role=initiate start=none || role=respond start=start
	vi_stop_charon right
	[ -d "$VI_RUN/right" ] && : >"$VI_RUN/right/charon.log"
	VI_SS_IKE_REKEY=${p1}s VI_SS_CHILD_REKEY=${p2}s \
		vi_start_charon right "$sike" "$sesp" $start || vi_fail "charon"
	ip -n "$VI_NS_RIGHT" route replace $VI_LEFT_LAN dev ipsec0 src $VI_RIGHT_LAN_GW
	gw_conf "$VI_RUN/gw$N.conf" $role "$ike" "$esp" "$p1" "$p2" "${8:-psk}"
	mg_start gw$N "$VI_RUN/gw$N.conf" || vi_fail "minigw start"
}

stop_pair() { vi_stop gw$N; vi_stop_charon right; }

# case_up NAME WHO IKE ESP P1 P2 WANT_IKE WANT_ESP
case_up() {
	local name=$1 who=$2 spis spis2 ck ck2
	vi_log "$name: $who initiate"
	start_pair "$who" "$3" "$4" "$5" "$6"
	vi_wait_for 20 vi_swan_child_installed right || vi_fail "$name: no CHILD_SA at strongSwan"
	vi_swan right --list-sas | grep -q "IKEv1" || vi_fail "$name: not IKEv1: $(vi_swan right --list-sas | head -2)"
	[ "$(ss_ike_algs)" = "$7" ] || vi_fail "$name: IKE suite $(ss_ike_algs), want $7"
	[ "$(vi_swan_esp_algs right)" = "$8" ] || vi_fail "$name: ESP $(vi_swan_esp_algs right), want $8"
	vi_swan right --list-sas | grep -q "TUNNEL-in-UDP" || vi_fail "$name: CHILD_SA not UDP-encapsulated"
	ping_both || vi_fail "$name: no ping across"
	mg_tcp_check "$VI_NS_LHOST" "$VI_NS_RHOST" $VI_RHOST_IP $((5300 + N)) 262144 ||
		vi_fail "$name: TCP transfer"

	# Phase 2 from each side: new SPIs, still up.
	spis=$(vi_swan_child_spis right | tail -n1)
	mg_ctl gw$N tunnel rekey v1 >/dev/null || vi_fail "$name: ctl tunnel rekey"
	newspis() { [ "$(vi_swan_child_spis right | tail -n1)" != "$1" ]; }
	vi_wait_for 10 newspis "$spis" || vi_fail "$name: Quick Mode rekey from minigw"
	ping_both || vi_fail "$name: no ping after our Quick Mode rekey"
	spis2=$(vi_swan_child_spis right | tail -n1)
	vi_swan right --rekey --child "$VI_CHILD" >/dev/null 2>&1 || vi_fail "$name: swanctl --rekey --child"
	vi_wait_for 10 newspis "$spis2" || vi_fail "$name: Quick Mode rekey from strongSwan"
	ping_both || vi_fail "$name: no ping after strongSwan's Quick Mode rekey"
	vi_log "$name: Quick Mode rekeys $spis -> $spis2 -> $(vi_swan_child_spis right | tail -n1)"

	# Phase 1 from each side: new cookies, the CHILD_SA stays in use.
	ck=$(ss_cookies)
	mg_ctl gw$N tunnel rekey-ike v1 >/dev/null || vi_fail "$name: ctl tunnel rekey-ike"
	newck() { local c; c=$(ss_cookies); [ -n "$c" ] && [ "$c" != "$1" ] && vi_swan_ike_established right; }
	vi_wait_for 10 newck "$ck" || vi_fail "$name: Phase 1 rekey from minigw"
	vi_wait_for 10 one_ike || vi_fail "$name: the old ISAKMP SA stayed at strongSwan"
	ping_both || vi_fail "$name: no ping after our Phase 1 rekey"
	ck2=$(ss_cookies)
	vi_swan right --rekey --ike "$VI_CONN" >/dev/null 2>&1 || vi_fail "$name: swanctl --rekey --ike"
	vi_wait_for 10 newck "$ck2" || vi_fail "$name: Phase 1 rekey from strongSwan"
	ping_both || vi_fail "$name: no ping after strongSwan's Phase 1 rekey"
	# A Quick Mode over the new ISAKMP SA.
	spis=$(vi_swan_child_spis right | tail -n1)
	mg_ctl gw$N tunnel rekey v1 >/dev/null || vi_fail "$name: ctl tunnel rekey"
	vi_wait_for 10 newspis "$spis" || vi_fail "$name: Quick Mode after the Phase 1 rekeys"
	ping_both || vi_fail "$name: no ping at the end"
	vi_grep_out gw$N '^EVENT (DOWN|FAILED) ' && vi_fail "$name: $(grep -E '^EVENT (DOWN|FAILED)' "$VI_RUN/gw$N.out")"
	vi_log "$name: up, pings and TCP across, four rekeys, cookies $ck -> $(ss_cookies)"
	stop_pair
}

for who in ours theirs; do
	case_up alibaba $who aes128-sha1-modp1024 aes128-sha1 86400 86400 \
		AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 AES_CBC-128/HMAC_SHA1_96
	case_up aws $who aes128-sha1-modp1024 aes128-sha1-modp1024 28800 3600 \
		AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 AES_CBC-128/HMAC_SHA1_96/MODP_1024
	case_up modp2048 $who aes256-sha256-modp2048 aes256-sha256-modp2048 28800 3600 \
		AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048 AES_CBC-256/HMAC_SHA2_256_128/MODP_2048
done

# case_fail NAME WHO OUR_IKE OUR_ESP SS_IKE SS_ESP PSKFILE REASON CHARON_RE
case_fail() {
	local name=$1 who=$2
	vi_log "$name: $who initiate"
	start_pair "$who" "$3" "$4" 28800 3600 "$5" "$6" "$7"
	vi_wait_for 30 vi_grep_out gw$N "^EVENT FAILED .*reason=$8" ||
		vi_fail "$name: no FAILED $8 at minigw: $(grep EVENT "$VI_RUN/gw$N.out" | tail -3)"
	vi_wait_for 30 charon_log "$9" ||
		vi_fail "$name: charon did not say '$9': $(tail -5 "$VI_RUN/right/charon.log")"
	vi_swan_child_installed right && vi_fail "$name: a CHILD_SA was installed"
	vi_log "$name: minigw $(grep -m1 "^EVENT FAILED" "$VI_RUN/gw$N.out"); charon: $(grep -m1 -E "$9" "$VI_RUN/right/charon.log" | cut -c1-120)"
	stop_pair
}

# Liveness over IKEv1 (RFC 3706): an idle tunnel's R-U-THERE is
# answered; a peer whose IKE and ESP vanish (nftables drop at it) is
# declared dead within interval + timeout; once it answers again the
# tunnel comes back by itself (restart) and carries traffic.
case_dpd() {
	local t0
	vi_log "dpd: ours initiate, liveness 2 s / 4 s"
	DPD_INTERVAL=2 DPD_TIMEOUT=4 start_pair ours aes128-sha1-modp1024 aes128-sha1-modp1024 28800 3600
	vi_wait_for 20 vi_swan_child_installed right || vi_fail "dpd: no CHILD_SA"
	vi_wait_for 10 charon_log 'parsed INFORMATIONAL_V1 request [0-9]+ \[ HASH N\(DPD\) \]' ||
		vi_fail "dpd: no R-U-THERE from minigw on an idle tunnel"
	vi_wait_for 5 charon_log 'generating INFORMATIONAL_V1 request [0-9]+ \[ HASH N\(DPD_ACK\) \]' ||
		vi_fail "dpd: strongSwan did not answer"
	t0=$(date +%s.%N)
	ip netns exec "$VI_NS_RIGHT" nft -f - <<EOF || vi_fail "dpd: nft"
table inet v1dpd {
    chain in { type filter hook input priority 0; udp dport { 500, 4500 } drop; }
    chain out { type filter hook output priority 0; udp sport { 500, 4500 } drop; }
}
EOF
	vi_wait_for 15 vi_grep_out gw$N '^EVENT DOWN .*reason=VPNR_ERR_DEAD_PEER' ||
		vi_fail "dpd: minigw did not declare the peer dead"
	vi_log "dpd: declared dead $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the drop"
	ip netns exec "$VI_NS_RIGHT" nft delete table inet v1dpd
	back() { vi_grep_out gw$N '^EVENT CHILD_UP' && [ "$(grep -c '^EVENT CHILD_UP' "$VI_RUN/gw$N.out")" -ge 2 ]; }
	vi_wait_for 30 back || vi_fail "dpd: no new CHILD_SA after the peer came back"
	ping_both || vi_fail "dpd: no ping after the peer came back"
	stop_pair
}
case_dpd

printf '%s\n' "not-$VI_PSK" >"$VI_RUN/badpsk"
for who in ours theirs; do
	case_fail wrong-psk $who aes128-sha1-modp1024 aes128-sha1 aes128-sha1-modp1024 aes128-sha1 \
		badpsk VPNR_ERR_AUTH_FAILED \
		'(decryption failed|could not decrypt|message verification failed|N\(AUTH_FAILED\)|INVALID_HASH_INFORMATION)'
	case_fail p1-mismatch $who aes128-sha1-modp1024 aes128-sha1 aes256-sha256-modp2048 aes128-sha1 \
		psk VPNR_ERR_NO_PROPOSAL '(no proposal found|NO_PROPOSAL_CHOSEN)'
	case_fail qm-mismatch $who aes128-sha1-modp1024 aes128-sha1 aes128-sha1-modp1024 aes256-sha256 \
		psk VPNR_ERR_NO_PROPOSAL '(no matching proposal found|NO_PROPOSAL_CHOSEN|no acceptable proposal)'
done
vi_pass
