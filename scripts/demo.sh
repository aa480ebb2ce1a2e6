#!/bin/bash
# Demo: two minigw gateways (libvpnroute) in network namespaces, one
# IKEv2/ESP tunnel between them, eBGP over the tunnel's APIPA addresses
# (AS 65010 <-> AS 65050) advertising each side's LAN, and a ping from a
# host behind one gateway to a host behind the other, on the routes BGP
# installed.  Needs root.  First installs what is missing (Debian 12)
# and builds; set VPNR_DEMO_NOBUILD=1 to use an existing build.  Cleans
# up after itself.
#
#   lhost 192.168.2.10 - minigw L 203.0.113.1 === 203.0.113.2 minigw R - rhost 172.16.0.10
#                        vpnr0 169.254.21.1/30 <-> 169.254.21.2/30 vpnr0
#
# Usage: scripts/demo.sh [BUILD_DIR]    (default ./build)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${VPNR_BUILD_DIR:-$SRC/build}}
MINIGW=${MINIGW:-$BUILD/examples/minigw/minigw}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
if [ "${VPNR_DEMO_NOBUILD:-0}" != 1 ]; then
	"$SRC/scripts/install-deps.sh" || exit 1
	BUILD_DIR=$BUILD "$SRC/scripts/build.sh" -DBUILD_TESTING=OFF || exit 1
fi
ESP_PREFIX=vpnr-demo-$$
. "$SRC/tests/interop/lib/esp.sh"
esp_require "$MINIGW"
trap esp_cleanup EXIT

say() { printf '\n== %s\n' "$*"; }

say "namespaces: lhost - left gateway === right gateway - rhost"
esp_netns_up

say "right gateway (AS 65050, responder, advertises $RIGHT_LAN)"
esp_minigw right --local $RIGHT_WAN --remote $LEFT_WAN \
	--ike aes256gcm16-prfsha256-ecp256 --esp aes256gcm16 \
	--tun vpnr0 --tun-addr $RIGHT_APIPA/30 \
	--bgp-as 65050 --bgp-peer $LEFT_APIPA:65010 --bgp-advertise $RIGHT_LAN || exit 1
say "left gateway (AS 65010, initiator, advertises $LEFT_LAN)"
esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN \
	--ike aes256gcm16-prfsha256-ecp256 --esp aes256gcm16 \
	--tun vpnr0 --tun-addr $LEFT_APIPA/30 --initiate \
	--bgp-as 65010 --bgp-peer $RIGHT_APIPA:65050 --bgp-advertise $LEFT_LAN || exit 1

say "waiting for the tunnel"
esp_wait_for 15 grep -q "EVENT CHILD_UP" "$ESP_RUN/left/minigw.out" || {
	echo "tunnel did not come up"; cat "$ESP_RUN"/*/minigw.err; exit 1; }
grep EVENT "$ESP_RUN/left/minigw.out"

say "waiting for BGP routes (each side learns the other's LAN)"
if esp_wait_for 30 sh -c "ip -n $NS_L route show $RIGHT_LAN | grep -q vpnr0" \
	&& esp_wait_for 30 sh -c "ip -n $NS_R route show $LEFT_LAN | grep -q vpnr0"; then
	echo "left:  $(ip -n "$NS_L" route show $RIGHT_LAN)"
	echo "right: $(ip -n "$NS_R" route show $LEFT_LAN)"
else
	echo "no BGP routes; BGP output:"; grep -h "BGP\|ROUTE" "$ESP_RUN"/*/minigw.out
	exit 1
fi

say "ping lhost 192.168.2.10 -> rhost 172.16.0.10 through the tunnel"
ip netns exec "$NS_LH" ping -c 3 -i 0.3 $RHOST || exit 1

say "left gateway status"
esp_minigw_show left
say "done; cleaning up"
