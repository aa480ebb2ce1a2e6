#!/bin/bash
# The IKEv1 engine (ipsec/ikev1_sa.c, driven by tests/ikev1_probe over
# UDP) against strongSwan 5.9 with "version = 1", both roles: Main Mode
# with PSK + Quick Mode for AWS's IKEv1 defaults (aes128-sha1-modp1024,
# PFS group 2), Alibaba's (no PFS), aes256-sha256-modp2048, 3DES-MD5
# and AES-GCM ESP.  strongSwan must list the IKE_SA ESTABLISHED and the
# CHILD_SA INSTALLED in UDP encapsulation with the SPIs the probe
# printed (its inbound is our outbound).  Then a wrong PSK, a Phase 1
# and a Quick Mode proposal mismatch, each with either side initiating:
# a clear error from the probe and in charon's log, no CHILD_SA.
# Phase 2 rekeys from both sides (swanctl --rekey --child, then the
# probe's own Quick Mode) with either side having started Phase 1: the
# newest pair strongSwan installed has the SPIs the probe printed.
# Aggressive Mode (aggressive = yes; strongSwan answers it with PSK
# only with i_dont_care_about_security_and_use_aggressive_mode_psk):
# up both ways, and a wrong PSK.
# This test holds the engine alone to the wire (the probe); tunnels,
# traffic and minigw are interop.test_ikev1_minigw's.  Exit 77 (skipped)
# without root or strongSwan.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

vi_init test_ikev1_strongswan
PROBE=$VPNR_BUILD_DIR/tests/ikev1_probe
[ -x "$PROBE" ] || vi_skip "ikev1_probe not built in $VPNR_BUILD_DIR/tests"
vi_setup_netns || vi_fail "namespace setup"

# The harness writes IKEv2 connections; these are IKEv1 ones.
eval "$(declare -f vi_write_swanctl_conf | sed '1s/vi_write_swanctl_conf/vi_write_swanctl_conf_v2/')"
vi_write_swanctl_conf() {
	vi_write_swanctl_conf_v2 "$@"
	sed -i 's/version = 2/version = 1/' "$VI_RUN/$1/swanctl.conf"
}

# strongSwan answers Aggressive Mode with PSK only when told to.
eval "$(declare -f vi_write_strongswan_conf | sed '1s/vi_write_strongswan_conf/vi_write_strongswan_conf_std/')"
vi_write_strongswan_conf() {
	vi_write_strongswan_conf_std "$@"
	sed -i 's/^charon {/charon {\n    i_dont_care_about_security_and_use_aggressive_mode_psk = yes/' \
		"$VI_RUN/$1/strongswan.conf"
}
AGGR=

charon_log() { grep -qE "$1" "$VI_RUN/right/charon.log" 2>/dev/null; }

# run NAME WHO OUR_PSK OUR_IKE OUR_ESP SS_IKE SS_ESP: probe exit status
run() {
	local name=$1 who=$2 psk=$3 oike=$4 oesp=$5 sike=$6 sesp=$7 role=i rc
	vi_log "$name: $who initiates${AGGR:+ ($AGGR)}"
	vi_stop_charon right
	[ -d "$VI_RUN/right" ] && : >"$VI_RUN/right/charon.log"
	printf '%s\n' "$psk" >"$VI_RUN/probe.psk"
	if [ "$who" = ours ]; then
		vi_start_charon right "$sike" "$sesp" none || vi_fail "charon"
	else
		role=r
	fi
	timeout 40 ip netns exec "$(vi_ns left)" "$PROBE" $role \
		$VI_LEFT_WAN $VI_RIGHT_WAN "$VI_RUN/probe.psk" "$oike" "$oesp" 25 $AGGR \
		>"$VI_RUN/probe.out" 2>"$VI_RUN/probe.err" &
	local pid=$!
	vi_record_pid probe "$pid"
	if [ "$who" = strongswan ]; then
		vi_start_charon right "$sike" "$sesp" start || vi_fail "charon"
	fi
	wait "$pid"
	rc=$?
	cat "$VI_RUN/probe.out" >&2
	return $rc
}

ok_case() { # NAME WHO IKE ESP [ESP_REGEX]
	local spis in out
	run "$1" "$2" "$VI_PSK" "$3" "$4" "$3" "$4" ||
		vi_fail "$1 ($2): $(cat "$VI_RUN/probe.out")"
	grep -q "^PHASE1 UP" "$VI_RUN/probe.out" || vi_fail "$1: no Phase 1"
	read -r _ _ in _ out _ < <(grep "^CHILD" "$VI_RUN/probe.out")
	vi_wait_for 10 vi_swan_child_installed right ||
		vi_fail "$1 ($2): strongSwan installed no CHILD_SA"
	vi_swan_ike_established right || vi_fail "$1: IKE_SA not established"
	spis=$(vi_swan_child_spis right)
	[ "$spis" = "$out $in" ] ||
		vi_fail "$1 ($2): strongSwan SPIs '$spis', ours in $in out $out"
	vi_swan right --list-sas | grep -q "IKEv1" || vi_fail "$1: not IKEv1"
	vi_swan right --list-sas | grep -q "TUNNEL-in-UDP" ||
		vi_fail "$1: not UDP-encapsulated"
	[ -z "${5:-}" ] || vi_swan_esp_algs right | grep -qE "$5" ||
		vi_fail "$1: ESP $(vi_swan_esp_algs right), want $5"
	vi_log "$1 ($2): up, SPIs $spis, $(vi_swan_esp_algs right)"
}

fail_case() { # NAME WHO OUR_PSK OUR_IKE OUR_ESP SS_IKE SS_ESP REASON CHARON_RE
	run "$1" "$2" "$3" "$4" "$5" "$6" "$7" &&
		vi_fail "$1 ($2): the probe succeeded"
	grep -q "^FAILED reason=$8 " "$VI_RUN/probe.out" ||
		vi_fail "$1 ($2): want $8, got $(cat "$VI_RUN/probe.out")"
	vi_wait_for 10 charon_log "$9" ||
		vi_fail "$1 ($2): charon logged no /$9/"
	vi_swan_child_installed right && vi_fail "$1 ($2): a CHILD_SA exists"
	vi_log "$1 ($2): $(grep FAILED "$VI_RUN/probe.out")"
}

for who in ours strongswan; do
	ok_case aws "$who" aes128-sha1-modp1024 aes128-sha1-modp1024 \
		'AES_CBC-128/HMAC_SHA1_96/MODP_1024'
	ok_case alibaba "$who" aes128-sha1-modp1024 aes128-sha1 \
		'^AES_CBC-128/HMAC_SHA1_96$'
	ok_case sha256 "$who" aes256-sha256-modp2048 aes256-sha256-modp2048 \
		'AES_CBC-256/HMAC_SHA2_256_128/MODP_2048'
done
ok_case 3des ours 3des-md5-modp1536 3des-md5 '3DES_CBC/HMAC_MD5_96'
ok_case gcm strongswan aes192-sha384-ecp384 aes128gcm16-ecp256 \
	'AES_GCM_16-128/ECP_256'

for who in ours strongswan; do
	fail_case wrong-psk "$who" not-the-psk \
		aes128-sha1-modp1024 aes128-sha1 aes128-sha1-modp1024 aes128-sha1 \
		VPNR_ERR_AUTH_FAILED 'decryption failed|AUTHENTICATION_FAILED|AUTH_FAILED'
	fail_case ike-mismatch "$who" "$VI_PSK" \
		aes256-sha256-modp2048 aes128-sha1 aes128-sha1-modp1024 aes128-sha1 \
		VPNR_ERR_NO_PROPOSAL 'no proposal found|NO_PROPOSAL_CHOSEN'
	fail_case esp-mismatch "$who" "$VI_PSK" \
		aes128-sha1-modp1024 aes256gcm16 aes128-sha1-modp1024 aes128-sha1 \
		VPNR_ERR_NO_PROPOSAL 'no matching proposal|NO_PROPOSAL_CHOSEN|no acceptable proposal'
done

children() { grep -c "^CHILD" "$VI_RUN/probe.out" 2>/dev/null; }
three_children() { [ "$(children)" -ge 3 ]; }
rekey_case() { # WHO
	local in out
	AGGR=rekey
	run rekey-setup "$1" "$VI_PSK" aes128-sha1-modp1024 aes128-sha1-modp1024 \
		aes128-sha1-modp1024 aes128-sha1-modp1024 &
	local bg=$!
	vi_wait_for 20 grep -q "^CHILD" "$VI_RUN/probe.out" ||
		vi_fail "rekey ($1): no first CHILD_SA"
	vi_wait_for 10 vi_swan_child_installed right ||
		vi_fail "rekey ($1): strongSwan has no CHILD_SA"
	vi_swan right --rekey --child "$VI_CHILD" >/dev/null 2>&1 ||
		vi_fail "rekey ($1): swanctl --rekey failed"
	vi_wait_for 20 three_children ||
		vi_fail "rekey ($1): $(children) CHILD_SAs, want 3 (theirs, ours)"
	wait $bg || vi_fail "rekey ($1): probe failed: $(cat "$VI_RUN/probe.out")"
	read -r _ _ in _ out _ < <(grep "^CHILD" "$VI_RUN/probe.out" | tail -n1)
	vi_swan_child_spis right | grep -qx "$out $in" ||
		vi_fail "rekey ($1): strongSwan lacks $out/$in: $(vi_swan_child_spis right | tr '\n' ' ')"
	vi_log "rekey ($1): 3 CHILD_SAs, newest $in/$out on both sides$(grep -q DELETED "$VI_RUN/probe.out" && echo ', old one deleted by strongSwan')"
	AGGR=
}
rekey_case ours
rekey_case strongswan

AGGR=aggressive
# shellcheck disable=SC2034 # read by vi_write_swanctl_conf
VI_SWAN_EXTRA="aggressive = yes"
for who in ours strongswan; do
	ok_case aggressive-aws "$who" aes128-sha1-modp1024 aes128-sha1-modp1024 \
		'AES_CBC-128/HMAC_SHA1_96/MODP_1024'
	fail_case aggressive-wrong-psk "$who" not-the-psk \
		aes128-sha1-modp1024 aes128-sha1 aes128-sha1-modp1024 aes128-sha1 \
		VPNR_ERR_AUTH_FAILED 'AUTH|hash|HASH|decryption failed|authentication'
done
vi_pass
