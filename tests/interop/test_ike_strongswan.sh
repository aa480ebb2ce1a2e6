#!/bin/bash
# IKEv2 interop with strongSwan 5.9 (charon + kernel-libipsec): the four
# cloud suites, each with us initiating and with strongSwan initiating.
# Our side is examples/vpnr_tunnel in the left namespace (203.0.113.1),
# charon is in the right one (203.0.113.2).  For every scenario the test
# asks charon itself: IKE_SA ESTABLISHED with the expected algorithms,
# CHILD_SA INSTALLED in UDP encapsulation with the expected ESP
# algorithms and exactly the SPIs our data plane was given (our inbound
# SPI is charon's outbound one and vice versa).
# Exit 77 (skipped) without root or strongSwan.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

vi_init test_ike_strongswan
vi_bin vpnr_tunnel >/dev/null || vi_skip "vpnr_tunnel not built in $VPNR_BUILD_DIR"
vi_setup_netns || vi_fail "namespace setup"
printf '%s\n' "$VI_PSK" >"$VI_RUN/psk"

# strongSwan's spelling of what each proposal must negotiate.
ike_expect() {
	case $1 in
	aes256-sha1-modp1024) echo AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024 ;;
	aes128-sha256-modp2048) echo AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048 ;;
	aes256gcm16-prfsha256-ecp256) echo AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256 ;;
	aes256gcm16-prfsha384-x25519) echo AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519 ;;
	esac
}
esp_expect() { # the first CHILD_SA has no DH group (PFS applies on rekeys)
	case $1 in
	aes256-sha256) echo AES_CBC-256/HMAC_SHA2_256_128 ;;
	aes128-sha1) echo AES_CBC-128/HMAC_SHA1_96 ;;
	aes256gcm16 | aes256gcm16-x25519) echo AES_GCM_16-256 ;;
	esac
}

up() { vi_grep_out tun '^EVENT CHILD_UP' && vi_swan_child_installed right; }

# scenario IKE ESP WHO(ours|strongswan)
scenario() {
	local ike=$1 esp=$2 who=$3 t0 ss ours got want
	vi_log "scenario $ike / $esp, $who initiates"
	[ -d "$VI_RUN/right" ] && : >"$VI_RUN/right/charon.log"
	t0=$(date +%s%N)
	if [ "$who" = ours ]; then
		vi_start_charon right "$ike" "$esp" none || vi_fail "charon"
		vi_start_ours left tun vpnr_tunnel --local $VI_LEFT_WAN --remote $VI_RIGHT_WAN \
			--psk-file "$VI_RUN/psk" --ike "$ike" --esp "$esp" --initiate --exit-after 60 ||
			vi_fail "start vpnr_tunnel"
	else
		vi_start_ours left tun vpnr_tunnel --local $VI_LEFT_WAN --remote $VI_RIGHT_WAN \
			--psk-file "$VI_RUN/psk" --ike "$ike" --esp "$esp" --exit-after 60 ||
			vi_fail "start vpnr_tunnel"
		vi_wait_for 5 vi_grep_out tun '^READY' || vi_fail "vpnr_tunnel not ready"
		vi_start_charon right "$ike" "$esp" start || vi_fail "charon"
	fi
	vi_wait_for 20 up || vi_fail "$ike/$esp ($who initiating): tunnel not up"
	vi_log "  up after $((($(date +%s%N) - t0) / 1000000)) ms (incl. charon start); CHILD_UP at t=$(vi_ours_field "$(vi_ours_last tun '^EVENT CHILD_UP')" t) s after our READY"

	got=$(vi_swan_ike_algs right)
	want=$(ike_expect "$ike")
	[ "$got" = "$want" ] || vi_fail "IKE algorithms: strongSwan has '$got', want '$want'"
	vi_swan right --list-sas | grep -q "TUNNEL-in-UDP" || vi_fail "CHILD_SA not UDP-encapsulated"
	got=$(vi_swan_esp_algs right)
	want=$(esp_expect "$esp")
	[ "$got" = "$want" ] || vi_fail "ESP algorithms: strongSwan has '$got', want '$want'"
	got=$(vi_ours_esp_algs tun)
	[ "$got" = "$want" ] || vi_fail "ESP algorithms: we installed '$got', want '$want'"
	vi_grep_out tun '^SA_ADD dir=in .*flags=[A-Z_,]*UDP_ENCAP.* src=203\.0\.113\.2:4500 dst=203\.0\.113\.1:4500' ||
		vi_fail "our inbound SA lacks UDP_ENCAP 4500<->4500"
	[ "$(vi_swan_child_spis right | wc -l)" = 1 ] || vi_fail "strongSwan has more than one CHILD_SA"
	read -r ss_in ss_out <<<"$(vi_swan_child_spis right)"
	read -r ours_in ours_out <<<"$(vi_ours_spis tun)"
	[ -n "$ss_in" ] && [ "$ss_in" = "$ours_out" ] && [ "$ss_out" = "$ours_in" ] ||
		vi_fail "SPI mismatch: strongSwan in/out $ss_in/$ss_out, ours in/out $ours_in/$ours_out"
	read -r ss <<<"$(vi_swan_ike_spis right)"
	ours=$(vi_ours_field "$(vi_ours_last tun '^EVENT UP')" ike_spi_i)
	[ -n "$ours" ] && [ "${ss%% *}" = "$ours" ] || vi_fail "IKE SPI_i mismatch: strongSwan '$ss', ours '$ours'"

	vi_stop tun || vi_fail "vpnr_tunnel exited with status $? (see tun.err)"
	vi_stop_charon right
	vi_log "  OK: IKE $(ike_expect "$ike"), ESP $got, SPIs in=$ours_in out=$ours_out"
}

for suite in "aes256-sha1-modp1024 aes256-sha256" \
	"aes128-sha256-modp2048 aes128-sha1" \
	"aes256gcm16-prfsha256-ecp256 aes256gcm16" \
	"aes256gcm16-prfsha384-x25519 aes256gcm16-x25519"; do
	set -- $suite
	scenario "$1" "$2" ours
	scenario "$1" "$2" strongswan
done
vi_pass
