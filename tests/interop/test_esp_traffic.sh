#!/bin/bash
# Interop (issue 3): traffic through minigw (libvpnroute IKE + built-in
# ESP data plane, left) and strongSwan charon with kernel-libipsec
# (right), for the four suites below.  For each suite:
#   - ping LAN host -> LAN host in both directions, and APIPA -> APIPA;
#   - iperf3 TCP (IPERF_SECS, default 10 s) in both directions;
#   - the CHILD_SA byte and packet counters of both sides agree exactly
#     over a burst of pings on a quiet tunnel (ours: inner IP bytes, as
#     strongSwan counts), and the totals after iperf3 agree within the
#     packets the receiver dropped before its ESP layer;
#   - a CHILD_SA rekey (started by strongSwan) during an iperf3 UDP
#     stream loses no more than a handful of packets.
# Exit 77 (skip) without root, /dev/net/tun, minigw, charon, swanctl or
# iperf3.  Everything runs in namespaces vpnr-<pid>-* that it removes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${VPNR_BUILD_DIR:-$SRC/build}
MINIGW=${MINIGW:-$BUILD/examples/minigw/minigw}
IPERF_SECS=${IPERF_SECS:-10}
. "$HERE/lib/esp.sh"
esp_require "$MINIGW" iperf3 swanctl "$CHARON" python3
trap esp_cleanup EXIT

SUITES=${SUITES:-"aes256-sha1-modp1024:aes256-sha256
aes128-sha256-modp2048:aes128-sha1
aes256gcm16-prfsha256-ecp256:aes256gcm16
aes256gcm16-prfsha384-x25519:aes256gcm16-x25519"}

fails=0
passes=0
check() { # description, then the command
	local what=$1; shift
	if "$@"; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		fails=$((fails + 1))
		FAILED_SUITE=1
	fi
}


# "BI BO PI PO" for ours (tunnel totals) and theirs (installed SAs).
ours() { esp_minigw_counters left; }
theirs() { esp_swan_counters right; }

# Deltas of a ping burst must match exactly: ours out == theirs in etc.
# (unless a receive buffer overflowed meanwhile: then the packets
# missing on one side must be exactly those drops).
counters_agree() {
	local o1 t1 o2 t2 dr0 dl0 dr dl
	read -r -a o1 <<< "$(ours)"
	read -r -a t1 <<< "$(theirs)"
	dr0=$(esp_udp_drops "$NS_R")
	dl0=$(esp_udp_drops "$NS_L")
	ip netns exec "$NS_LH" ping -q -c 50 -i 0.02 -s 300 $RHOST > /dev/null || return 1
	ip netns exec "$NS_RH" ping -q -c 20 -i 0.02 -s 1000 $LHOST > /dev/null || return 1
	sleep 0.5
	read -r -a o2 <<< "$(ours)"
	read -r -a t2 <<< "$(theirs)"
	dr=$(($(esp_udp_drops "$NS_R") - dr0))
	dl=$(($(esp_udp_drops "$NS_L") - dl0))
	local dob=$((o2[1] - o1[1])) dtb=$((t2[0] - t1[0]))   # left->right bytes
	local dib=$((o2[0] - o1[0])) dtob=$((t2[1] - t1[1]))  # right->left bytes
	local dop=$((o2[3] - o1[3])) dtp=$((t2[2] - t1[2]))
	local dip=$((o2[2] - o1[2])) dtop=$((t2[3] - t1[3]))
	echo "       ours out ${dob}B/${dop}p in ${dib}B/${dip}p; strongSwan in ${dtb}B/${dtp}p out ${dtob}B/${dtop}p; drops $dl/$dr"
	[ $dop -ge 70 ] || return 1
	if [ "$dr" = 0 ] && [ "$dl" = 0 ]; then
		[ $dob -eq $dtb ] && [ $dib -eq $dtob ] && [ $dop -eq $dtp ] && [ $dip -eq $dtop ]
	else
		[ $((dop - dtp)) -eq "$dr" ] && [ $((dtop - dip)) -eq "$dl" ]
	fi
}

# Totals after the iperf3 runs: per direction, the packets one side
# sent and the other counted differ exactly by the datagrams the
# receiving namespace dropped before its ESP layer (UDP receive buffer
# errors); bytes received never exceed bytes sent.
totals_close() {
	local o t dl dr
	read -r -a o <<< "$(ours)"
	read -r -a t <<< "$(theirs)"
	dl=$(esp_udp_drops "$NS_L")
	dr=$(esp_udp_drops "$NS_R")
	echo "       totals: ours in ${o[0]}B/${o[2]}p out ${o[1]}B/${o[3]}p; strongSwan in ${t[0]}B/${t[2]}p out ${t[1]}B/${t[3]}p; UDP drops left $dl right $dr"
	[ $((o[3] - t[2])) -le "$dr" ] && [ $((o[3] - t[2])) -ge 0 ] &&
	[ $((t[3] - o[2])) -le "$dl" ] && [ $((t[3] - o[2])) -ge 0 ] &&
	[ "${t[0]}" -le "${o[1]}" ] && [ "${o[0]}" -le "${t[1]}" ] && [ "${o[1]}" -gt 1000000 ]
}

iperf_ok() { # dir
	local f r
	f=$(esp_iperf "$1" "$IPERF_SECS")
	r=$(esp_iperf_result "$f")
	echo "       iperf3 TCP $1: $(echo "$r" | awk '{print $1 " Mbit/s, " $2 " retransmits"}')"
	awk -v m="$(echo "$r" | cut -d' ' -f1)" 'BEGIN { exit !(m > 1.0) }'
}

# A CHILD_SA rekey under a UDP stream (esp_rekey_loss): the datagrams
# lost beyond those dropped at full receive buffers stay <= 10.
rekey_ok() {
	local l
	l=$(esp_rekey_loss) && [ "$l" -le 10 ] &&
		grep -q "CHILD_REKEYED\|CHILD_UP" "$ESP_RUN/left/minigw.out"
}

while IFS=: read -r ike esp; do
	[ -n "$ike" ] || continue
	FAILED_SUITE=0
	echo "suite IKE $ike ESP $esp"
	esp_netns_up
	esp_charon right "$ike" "$esp" none 2> "$ESP_RUN/charon-start.err" || { echo "  FAIL charon"; fails=$((fails + 1)); esp_cleanup; continue; }
	ip -n "$NS_R" route add $LEFT_LAN dev ipsec0 src 172.16.0.1
	esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN --ike "$ike" --esp "$esp" \
		--tun vpnr0 --tun-addr $LEFT_APIPA/30 --route $RIGHT_LAN --initiate || {
		echo "  FAIL minigw start"; fails=$((fails + 1)); esp_cleanup; continue; }
	if ! esp_wait_for 20 esp_swan_child_up right; then
		echo "  FAIL CHILD_SA not established"; tail -5 "$ESP_RUN/left/minigw.err" | sed 's/^/       /'
		fails=$((fails + 1)); ESP_KEEP_RUN=${ESP_KEEP_FAILED:-} esp_cleanup; continue
	fi
	esp_swan right --list-sas | grep -E 'ESP:|IKEv2' | sed 's/^/       /'
	check "ping lhost -> rhost" esp_wait_for 10 esp_qping "$NS_LH" -c1 -W1 $RHOST
	check "ping rhost -> lhost" esp_qping "$NS_RH" -c3 -i 0.2 -W2 $LHOST
	check "ping APIPA -> APIPA" esp_qping "$NS_L" -c3 -i 0.2 -W2 $RIGHT_APIPA
	check "counters agree on a ping burst" counters_agree
	check "iperf3 TCP lhost -> rhost" iperf_ok lr
	check "iperf3 TCP rhost -> lhost" iperf_ok rl
	sleep 0.5
	check "counter totals agree after iperf3" totals_close
	check "CHILD_SA rekey under load loses <= 10 packets" rekey_ok
	check "ping after rekey" esp_qping "$NS_LH" -c3 -i 0.2 -W2 $RHOST
	check "no integrity/replay/padding drops" python3 -c '
import json, subprocess, sys
d = json.loads(subprocess.check_output([sys.argv[1], "--control", sys.argv[2], "--show", "json"]))
t = d["tunnels"][0]
print("       drops: integrity %d replay %d padding %d unknown_spi %d" % (t["integrity_failed"], t["replay_dropped"], t["invalid_padding"], t["unknown_spi"]))
sys.exit(1 if t["integrity_failed"] or t["invalid_padding"] or t["malformed"] else 0)' "$MINIGW" "$ESP_RUN/left/minigw.sock"
	[ $FAILED_SUITE = 0 ] && passes=$((passes + 1))
	esp_cleanup
done <<< "$SUITES"

# Byte lifetimes: the data plane reports the soft limit
# (vpnr_esp_poll_expired -> vpnr_dp_sa_expired) and the library rekeys.
lifetime_rekeys() {
	esp_minigw_show left json | python3 -c '
import json, sys
t = json.load(sys.stdin)["tunnels"][0]
print("       child_rekeys %d after iperf3 with a 4 MB soft lifetime" % t["child_rekeys"])
sys.exit(0 if t["child_rekeys"] >= 2 else 1)'
}
echo "lifetime IKE aes256gcm16-prfsha256-ecp256 ESP aes256gcm16, soft 4 MB"
FAILED_SUITE=0
esp_netns_up
if esp_charon right aes256gcm16-prfsha256-ecp256 aes256gcm16 none 2> "$ESP_RUN/charon-start.err" &&
	ip -n "$NS_R" route add $LEFT_LAN dev ipsec0 src 172.16.0.1 &&
	esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN --ike aes256gcm16-prfsha256-ecp256 \
		--esp aes256gcm16 --tun vpnr0 --tun-addr $LEFT_APIPA/30 --route $RIGHT_LAN \
		--initiate --child-lifetime-bytes 4000000:400000000 &&
	esp_wait_for 20 esp_swan_child_up right; then
	esp_iperf lr 3 > /dev/null
	sleep 1
	check "soft byte lifetime triggers CHILD_SA rekeys" lifetime_rekeys
	check "ping after lifetime rekeys" esp_wait_for 5 esp_qping "$NS_LH" -c1 -W1 $RHOST
	[ $FAILED_SUITE = 0 ] && passes=$((passes + 1))
else
	echo "  FAIL lifetime tunnel setup"
	fails=$((fails + 1))
fi
esp_cleanup

echo "$passes passed, $fails failed"
[ $fails = 0 ]
