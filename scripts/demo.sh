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

# gw SIDE: minigw -c examples/minigw/demo-SIDE.yaml in SIDE's namespace.
gw() {
	local side=$1 ns pid
	[ "$side" = left ] && ns=$NS_L || ns=$NS_R
	ip netns exec "$ns" "$MINIGW" -c "$SRC/examples/minigw/demo-$side.yaml" \
		--control "$ESP_RUN/$side/minigw.sock" \
		> "$ESP_RUN/$side/minigw.out" 2> "$ESP_RUN/$side/minigw.err" < /dev/null &
	pid=$!
	esp_record_pid "minigw-$side" $pid
	esp_wait_for 10 grep -q READY "$ESP_RUN/$side/minigw.out" || {
		echo "minigw $side did not start:" >&2; cat "$ESP_RUN/$side/minigw.err" >&2; return 1; }
}
ctl() { local side=$1; shift; "$MINIGW" ctl -s "$ESP_RUN/$side/minigw.sock" "$@"; }

say "namespaces: lhost - left gateway === right gateway - rhost"
esp_netns_up

say "right gateway (AS 65050, responder, advertises $RIGHT_LAN): examples/minigw/demo-right.yaml"
gw right || exit 1
say "left gateway (AS 65010, initiator, advertises $LEFT_LAN): examples/minigw/demo-left.yaml"
gw left || exit 1

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

say "left gateway: minigw ctl show ike-sa"
ctl left show ike-sa
say "left gateway: minigw ctl show bgp summary"
ctl left show bgp summary
say "left gateway: minigw ctl show bgp neighbors $RIGHT_APIPA routes"
ctl left show bgp neighbors $RIGHT_APIPA routes
say "done; cleaning up"
