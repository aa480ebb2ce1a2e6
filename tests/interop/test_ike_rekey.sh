#!/bin/bash
# IKEv2 rekeying against strongSwan 5.9 (charon + kernel-libipsec):
# CHILD_SA and IKE_SA rekeys forced from strongSwan (swanctl --rekey) and
# from our side (vpnr_tunnel --rekey-child-after / --rekey-ike-after),
# with and without PFS.  After each rekey the tunnel must still be up
# with NEW SPIs that both sides agree on, the old CHILD_SA gone from
# strongSwan and deleted from our data plane (SA_DEL), and the PFS group
# visible on the rekeyed CHILD_SA when the ESP proposal has one.
# Exit 77 (skipped) without root or strongSwan.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

vi_init test_ike_rekey
vi_bin vpnr_tunnel >/dev/null || vi_skip "vpnr_tunnel not built in $VPNR_BUILD_DIR"
vi_setup_netns || vi_fail "namespace setup"
printf '%s\n' "$VI_PSK" >"$VI_RUN/psk"

up() { vi_grep_out tun '^EVENT CHILD_UP' && vi_swan_child_installed right; }

# Both sides agree on exactly one CHILD_SA whose SPIs differ from $1/$2
# (strongSwan's old in/out).
child_rekeyed() {
	local spis ss_in ss_out ours_in ours_out
	spis=$(vi_swan_child_spis right)
	[ "$(wc -l <<<"$spis")" = 1 ] || return 1
	read -r ss_in ss_out <<<"$spis"
	read -r ours_in ours_out <<<"$(vi_ours_spis tun)"
	[ -n "$ss_in" ] && [ "$ss_in" != "$1" ] && [ "$ss_out" != "$2" ] &&
		[ "$ss_in" = "$ours_out" ] && [ "$ss_out" = "$ours_in" ]
}

ike_rekeyed() { # old SPI_i
	local now
	now=$(vi_swan_ike_spis right)
	[ -n "$now" ] && [ "${now%% *}" != "$1" ] && vi_swan_child_installed right &&
		vi_grep_out tun '^EVENT REKEYED'
}

check_child_rekey() { # label esp
	local label=$1 esp=$2 old_in old_out t0 algs
	read -r old_in old_out <<<"$(vi_swan_child_spis right)"
	t0=$(date +%s%N)
	if [ "$label" = strongswan ]; then
		vi_swan right --rekey --child "$VI_CHILD" >/dev/null || vi_fail "swanctl --rekey --child"
	fi
	vi_wait_for 20 child_rekeyed "$old_in" "$old_out" ||
		vi_fail "CHILD_SA rekey ($label): strongSwan $(vi_swan_child_spis right | tr '\n' ';') ours $(vi_ours_spis tun) old $old_in/$old_out"
	vi_wait_for 5 vi_grep_out tun "^SA_DEL dir=in spi=0x$old_out " ||
		vi_fail "old inbound SA 0x$old_out not deleted from our data plane"
	vi_grep_out tun '^EVENT CHILD_REKEYED' || vi_fail "no CHILD_REKEYED event"
	algs=$(vi_swan_esp_algs right)
	case $esp in
	*-x25519) [[ $algs == */CURVE_25519 ]] || vi_fail "rekeyed CHILD_SA without PFS: $algs" ;;
	esac
	[ "${algs%/CURVE_25519}" = "$(vi_ours_esp_algs tun)" ] || vi_fail "ESP algorithms differ: $algs vs $(vi_ours_esp_algs tun)"
	vi_log "  CHILD rekey ($label) OK in $((($(date +%s%N) - t0) / 1000000)) ms: $old_in/$old_out -> $(vi_swan_child_spis right) ($algs)"
}

check_ike_rekey() { # label
	local label=$1 old t0
	old=$(vi_swan_ike_spis right)
	old=${old%% *}
	t0=$(date +%s%N)
	if [ "$label" = strongswan ]; then
		vi_swan right --rekey --ike "$VI_CONN" >/dev/null || vi_fail "swanctl --rekey --ike"
	fi
	vi_wait_for 20 ike_rekeyed "$old" || vi_fail "IKE_SA rekey ($label): still $(vi_swan_ike_spis right)"
	local ours
	ours=$(vi_ours_field "$(vi_ours_last tun '^EVENT REKEYED')" ike_spi_i)
	read -r now <<<"$(vi_swan_ike_spis right)"
	[ "${now%% *}" = "$ours" ] || vi_fail "IKE SPI_i after rekey: strongSwan '$now', ours '$ours'"
	vi_log "  IKE rekey ($label) OK in $((($(date +%s%N) - t0) / 1000000)) ms: $old -> ${now%% *}"
}

run() { # ike esp driver(strongswan|ours)
	local ike=$1 esp=$2 drv=$3 extra=()
	vi_log "rekeys driven by $drv, $ike / $esp"
	[ -d "$VI_RUN/right" ] && : >"$VI_RUN/right/charon.log"
	vi_start_charon right "$ike" "$esp" none || vi_fail "charon"
	[ "$drv" = ours ] && extra=(--rekey-child-after 3 --rekey-ike-after 8)
	vi_start_ours left tun vpnr_tunnel --local $VI_LEFT_WAN --remote $VI_RIGHT_WAN \
		--psk-file "$VI_RUN/psk" --ike "$ike" --esp "$esp" --initiate --exit-after 60 "${extra[@]}" ||
		vi_fail "start vpnr_tunnel"
	vi_wait_for 20 up || vi_fail "tunnel not up"
	if [ "$drv" = ours ]; then
		# --rekey-child-after 3: the first CHILD_SA is replaced by us
		vi_wait_for 10 vi_grep_out tun '^REKEY what=child' || vi_fail "no child rekey issued"
		vi_grep_out tun '^REKEY what=child rc=VPNR_OK' || vi_fail "$(vi_ours_last tun '^REKEY')"
	fi
	# For "ours" the rekey may already be done; child_rekeyed compares
	# against the SPIs of the first CHILD_SA.
	if [ "$drv" = ours ]; then
		first=$(vi_ours_field "$(grep -m1 '^SA_ADD dir=out ' "$VI_RUN/tun.out")" spi)
		firstin=$(vi_ours_field "$(grep -m1 '^SA_ADD dir=in ' "$VI_RUN/tun.out")" spi)
		vi_wait_for 20 child_rekeyed "${first#0x}" "${firstin#0x}" || vi_fail "our CHILD_SA rekey did not complete"
		vi_grep_out tun "^SA_DEL dir=in spi=$firstin " || vi_fail "old inbound SA $firstin not deleted"
		vi_log "  CHILD rekey (ours) OK: $(vi_swan_child_spis right) ($(vi_swan_esp_algs right))"
		case $esp in
		*-x25519) [[ $(vi_swan_esp_algs right) == */CURVE_25519 ]] || vi_fail "rekeyed CHILD_SA without PFS" ;;
		esac
		vi_wait_for 15 vi_grep_out tun '^REKEY what=ike' || vi_fail "no IKE rekey issued"
		vi_wait_for 20 vi_grep_out tun '^EVENT REKEYED' || vi_fail "our IKE_SA rekey did not complete"
		vi_wait_for 5 vi_swan_child_installed right || vi_fail "CHILD_SA lost after IKE rekey"
		[ "$(vi_swan right --list-sas | grep -c "^$VI_CONN: .*ESTABLISHED")" = 1 ] || vi_fail "old IKE_SA not deleted"
		ours=$(vi_ours_field "$(vi_ours_last tun '^EVENT REKEYED')" ike_spi_i)
		now=$(vi_swan_ike_spis right)
		[ "${now%% *}" = "$ours" ] || vi_fail "IKE SPI_i after rekey: strongSwan '$now', ours '$ours'"
		vi_log "  IKE rekey (ours) OK: now ${now%% *}"
	else
		check_child_rekey strongswan "$esp"
		check_ike_rekey strongswan
		# and a CHILD rekey over the rekeyed IKE_SA
		check_child_rekey strongswan "$esp"
	fi
	vi_alive "$(cat "$VI_RUN/tun.pid")" || vi_fail "vpnr_tunnel died"
	vi_stop tun || vi_fail "vpnr_tunnel exited with status $? (see tun.err)"
	vi_stop_charon right
}

run aes256gcm16-prfsha384-x25519 aes256gcm16-x25519 strongswan
run aes256gcm16-prfsha384-x25519 aes256gcm16-x25519 ours
run aes256-sha1-modp1024 aes256-sha256 strongswan
run aes256-sha1-modp1024 aes256-sha256 ours

# Liveness checks both ways: charon's DPD (dpd_delay 1s) must be answered
# by us, and ours (--dpd 1) by charon: empty INFORMATIONAL exchanges.
# Any authenticated message proves the peer alive, so of two sides
# probing only the quicker one sends probes: one side probes per run.
charon_log() { grep -qE "$1" "$VI_RUN/right/charon.log"; }
dpd_run() { # charon's dpd_delay, our --dpd, what charon must log
	: >"$VI_RUN/right/charon.log"
	VI_SS_DPD=$1 vi_start_charon right aes256gcm16-prfsha256-ecp256 aes256gcm16 none ||
		vi_fail "charon"
	vi_start_ours left tun vpnr_tunnel --local $VI_LEFT_WAN --remote $VI_RIGHT_WAN \
		--psk-file "$VI_RUN/psk" --ike aes256gcm16-prfsha256-ecp256 --esp aes256gcm16 \
		--initiate --dpd "$2" --exit-after 60 || vi_fail "start vpnr_tunnel"
	vi_wait_for 20 up || vi_fail "tunnel not up"
	vi_wait_for 10 charon_log "parsed INFORMATIONAL $3 [0-9]+ \\[ \\]" ||
		vi_fail "no empty INFORMATIONAL $3 at charon (dpd_delay $1, ours $2)"
	sleep 3 # a few more rounds: the tunnel must stay up
	vi_swan_child_installed right || vi_fail "CHILD_SA gone during DPD"
	! vi_grep_out tun '^EVENT (DOWN|FAILED)' || vi_fail "our tunnel went down during DPD"
	vi_log "  DPD OK: $(grep -cE "parsed INFORMATIONAL $3 [0-9]+ \\[ \\]" "$VI_RUN/right/charon.log") empty INFORMATIONAL ${3}s seen by charon"
	vi_stop tun || vi_fail "vpnr_tunnel exited with status $?"
	vi_stop_charon right
}
vi_log "DPD: charon probes, we answer"
dpd_run 1s 0 response
vi_log "DPD: we probe, charon answers"
dpd_run 0 1 request
vi_pass
