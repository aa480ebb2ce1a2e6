#!/bin/bash
# IKEv2 failures against strongSwan 5.9: a wrong PSK and proposal
# mismatches (IKE and ESP), each with us and with strongSwan initiating.
# Both sides must end in a clear error: our example prints
# "EVENT FAILED reason=VPNR_ERR_AUTH_FAILED" / "...NO_PROPOSAL", charon's
# log shows the matching AUTHENTICATION_FAILED / NO_PROPOSAL_CHOSEN, no
# CHILD_SA is installed, and neither process crashes.
# Exit 77 (skipped) without root or strongSwan.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

vi_init test_ike_failures
vi_bin vpnr_tunnel >/dev/null || vi_skip "vpnr_tunnel not built in $VPNR_BUILD_DIR"
vi_setup_netns || vi_fail "namespace setup"

charon_log() { grep -qE "$1" "$VI_RUN/right/charon.log" 2>/dev/null; }

# case NAME WHO OUR_PSK OUR_IKE OUR_ESP SS_IKE SS_ESP OUR_REASON CHARON_REGEX
failcase() {
	local name=$1 who=$2 psk=$3 oike=$4 oesp=$5 sike=$6 sesp=$7 reason=$8 re=$9 start=none init=(--initiate)
	vi_log "failure: $name, $who initiates"
	[ -d "$VI_RUN/right" ] && : >"$VI_RUN/right/charon.log"
	printf '%s\n' "$psk" >"$VI_RUN/psk"
	if [ "$who" = strongswan ]; then
		start=start
		init=()
	fi
	[ "$who" = ours ] && { vi_start_charon right "$sike" "$sesp" none || vi_fail "charon"; }
	vi_start_ours left tun vpnr_tunnel --local $VI_LEFT_WAN --remote $VI_RIGHT_WAN \
		--psk-file "$VI_RUN/psk" --ike "$oike" --esp "$oesp" --exit-after 60 "${init[@]}" ||
		vi_fail "start vpnr_tunnel"
	if [ "$who" = strongswan ]; then
		vi_wait_for 5 vi_grep_out tun '^READY' || vi_fail "vpnr_tunnel not ready"
		vi_start_charon right "$sike" "$sesp" start || vi_fail "charon"
	fi
	vi_wait_for 20 vi_grep_out tun "^EVENT FAILED .*reason=$reason( |\$)" ||
		vi_fail "$name: we did not report $reason; got: $(grep '^EVENT' "$VI_RUN/tun.out" | tr '\n' ';')"
	vi_wait_for 10 charon_log "$re" || vi_fail "$name: charon log lacks /$re/"
	vi_grep_out tun '^EVENT FAILED .*msg="' || vi_fail "no reason text"
	! vi_grep_out tun '^EVENT CHILD_UP' || vi_fail "$name: a CHILD_SA came up on our side"
	! vi_swan_child_installed right || vi_fail "$name: strongSwan installed a CHILD_SA"
	vi_alive "$(cat "$VI_RUN/tun.pid")" || vi_fail "$name: vpnr_tunnel died"
	vi_alive "$(cat "$VI_RUN/right/charon.mypid")" || vi_fail "$name: charon died"
	vi_log "  OK: ours '$(vi_ours_last tun '^EVENT FAILED' | grep -oE 'reason=[A-Z_]+')', charon: $(grep -oE "$re" "$VI_RUN/right/charon.log" | head -n1)"
	vi_stop tun || vi_fail "vpnr_tunnel exited with status $? (see tun.err)"
	vi_stop_charon right
}

GOOD=$VI_PSK
BAD=not-the-right-psk-0123456789
AZ_IKE=aes256-sha1-modp1024
AZ_ESP=aes256-sha256

failcase wrong-psk ours "$BAD" $AZ_IKE $AZ_ESP $AZ_IKE $AZ_ESP VPNR_ERR_AUTH_FAILED \
	'MAC mismatched'
failcase wrong-psk strongswan "$BAD" $AZ_IKE $AZ_ESP $AZ_IKE $AZ_ESP VPNR_ERR_AUTH_FAILED \
	'received AUTHENTICATION_FAILED notify error|parsed IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]'
failcase ike-proposal ours "$GOOD" aes128-sha256-modp2048 $AZ_ESP $AZ_IKE $AZ_ESP VPNR_ERR_NO_PROPOSAL \
	'received proposals unacceptable'
failcase ike-proposal strongswan "$GOOD" aes128-sha256-modp2048 $AZ_ESP $AZ_IKE $AZ_ESP VPNR_ERR_NO_PROPOSAL \
	'received NO_PROPOSAL_CHOSEN notify error|parsed IKE_SA_INIT response 0 \[ N\(NO_PROP\) \]'
failcase esp-proposal ours "$GOOD" $AZ_IKE aes128-sha1 $AZ_IKE aes256gcm16 VPNR_ERR_NO_PROPOSAL \
	'no acceptable proposal found'
failcase esp-proposal strongswan "$GOOD" $AZ_IKE aes128-sha1 $AZ_IKE aes256gcm16 VPNR_ERR_NO_PROPOSAL \
	'received NO_PROPOSAL_CHOSEN notify, no CHILD_SA built'
vi_pass
