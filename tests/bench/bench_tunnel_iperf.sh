#!/bin/bash
# Benchmark (b) of issue 3: iperf3 TCP between two LAN hosts through
#   1. strongSwan <-> strongSwan (charon, kernel-libipsec: userspace ESP)
#   2. minigw <-> minigw (libvpnroute IKE + built-in ESP data plane)
# in the same run, on the same namespaces layout, and prints both and the
# ratio (target: minigw >= 5x strongSwan's libipsec).
#
# Usage: bench_tunnel_iperf.sh [SECONDS]   (default 10)
# Env: VPNR_BUILD_DIR (minigw at $VPNR_BUILD_DIR/examples/minigw/minigw),
#      ESP_SUITE (default aes256gcm16), IKE_SUITE (default
#      aes256gcm16-prfsha256-ecp256), MANUAL=1 to key minigw without IKE.
# Needs root; everything runs in namespaces it creates and removes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${VPNR_BUILD_DIR:-$SRC/build}
MINIGW=${MINIGW:-$BUILD/examples/minigw/minigw}
SECS=${1:-10}
ESP_SUITE=${ESP_SUITE:-aes256gcm16}
IKE_SUITE=${IKE_SUITE:-aes256gcm16-prfsha256-ecp256}
. "$SRC/tests/interop/lib/esp.sh"
esp_require "$MINIGW" iperf3 swanctl "$CHARON"
trap esp_cleanup EXIT

run_pair() { # label -> "fwd rev" Mbit/s
	local f1 f2
	f1=$(esp_iperf lr "$SECS")
	f2=$(esp_iperf rl "$SECS")
	echo "$(esp_iperf_result "$f1" | cut -d' ' -f1,2) $(esp_iperf_result "$f2" | cut -d' ' -f1,2)"
}

echo "# bench_tunnel_iperf: iperf3 TCP ${SECS}s, ESP $ESP_SUITE, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. strongSwan <-> strongSwan
esp_netns_up
esp_charon right "$IKE_SUITE" "$ESP_SUITE" none
esp_charon left "$IKE_SUITE" "$ESP_SUITE" start
esp_wait_for 20 esp_swan_child_up left || { echo "strongSwan pair did not come up" >&2; exit 1; }
ip -n "$NS_L" route add $RIGHT_LAN dev ipsec0 src 192.168.2.1
ip -n "$NS_R" route add $LEFT_LAN dev ipsec0 src 172.16.0.1
esp_wait_for 10 ip netns exec "$NS_LH" ping -c1 -W1 -q $RHOST || { echo "no ping through strongSwan" >&2; exit 1; }
read -r ss_f ss_fr ss_r ss_rr <<< "$(run_pair)"
echo "strongswan-libipsec  fwd ${ss_f} Mbit/s (retr $ss_fr)  rev ${ss_r} Mbit/s (retr $ss_rr)"
esp_cleanup

# 2. minigw <-> minigw
mode=ike
esp_netns_up
if [ -z "${MANUAL:-}" ]; then
	esp_minigw right --local $RIGHT_WAN --remote $LEFT_WAN --ike "$IKE_SUITE" --esp "$ESP_SUITE" \
		--tun vpnr0 --tun-addr $RIGHT_APIPA/30 --route $LEFT_LAN
	esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN --ike "$IKE_SUITE" --esp "$ESP_SUITE" \
		--tun vpnr0 --tun-addr $LEFT_APIPA/30 --route $RIGHT_LAN --initiate
	esp_wait_for 15 grep -q "EVENT CHILD_UP" "$ESP_RUN/left/minigw.out" || mode=none
fi
if [ "$mode" = none ] || [ -n "${MANUAL:-}" ]; then
	[ "$mode" = none ] && echo "# minigw IKE did not come up; keying manually" >&2
	esp_cleanup
	esp_netns_up
	case $ESP_SUITE in *gcm*) klen=36 ;; *sha512*) klen=96 ;; *sha384*) klen=80 ;; *sha256*) klen=64 ;; *) klen=52 ;; esac
	key=$(head -c $klen /dev/urandom | od -An -tx1 | tr -d ' \n')
	esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN --tun vpnr0 --tun-addr $LEFT_APIPA/30 \
		--route $RIGHT_LAN --manual-sa "1001:2002:$ESP_SUITE:$key"
	esp_minigw right --local $RIGHT_WAN --remote $LEFT_WAN --tun vpnr0 --tun-addr $RIGHT_APIPA/30 \
		--route $LEFT_LAN --manual-sa "2002:1001:$ESP_SUITE:$key"
	mode=manual
fi
esp_wait_for 10 ip netns exec "$NS_LH" ping -c1 -W1 -q $RHOST || { echo "no ping through minigw" >&2; exit 1; }
read -r mg_f mg_fr mg_r mg_rr <<< "$(run_pair)"
echo "minigw ($mode keying)  fwd ${mg_f} Mbit/s (retr $mg_fr)  rev ${mg_r} Mbit/s (retr $mg_rr)"
python3 -c "
import sys
sf, sr, mf, mr = map(float, sys.argv[1:])
print('ratio minigw/strongswan: fwd %.2fx  rev %.2fx  (target >= 5x)' % (mf / sf if sf else 0, mr / sr if sr else 0))
" "$ss_f" "$ss_r" "$mg_f" "$mg_r"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
