#!/bin/bash
# Interop (issue 13): minigw against strongSwan (charon, kernel-libipsec)
# with a data plane that installs asynchronously.  tests/interop/
# dp_async_shim.c, LD_PRELOAD'ed into minigw, makes every sa_add and
# policy_add of the built-in ESP plane answer VPNR_ASYNC and happen
# DELAY_MS later (a slow ASIC).  Each run (synchronous, then async):
#   - the tunnel comes up and pings pass both ways;
#   - a CHILD_SA rekey started by strongSwan (minigw answers, so it holds
#     its answer until the new pair is in) in the middle of a 6 s
#     iperf3 UDP stream: the datagrams lost beyond those dropped at full
#     receive buffers stay <= 10, and the async run loses no more than
#     the synchronous one plus 10;
#   - ping after the rekey, and CHILD_REKEYED reported by minigw;
#   - the shim really completed ops asynchronously (its stderr lines).
# Exit 77 (skip) without root, /dev/net/tun, minigw, charon, swanctl,
# iperf3 or the shim.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
BUILD=${VPNR_BUILD_DIR:-$SRC/build}
MINIGW=${MINIGW:-$BUILD/examples/minigw/minigw}
SHIM=${SHIM:-$BUILD/tests/libvpnr_dp_async_shim.so}
DELAY_MS=${DELAY_MS:-20}
. "$HERE/lib/esp.sh"
esp_require "$MINIGW" iperf3 swanctl "$CHARON" python3
[ -f "$SHIM" ] || { echo "SKIP: $SHIM not built"; exit 77; }
trap esp_cleanup EXIT

IKE=aes256gcm16-prfsha256-ecp256
ESP=aes256gcm16
fails=0
check() { # description, then the command
	local what=$1; shift
	if "$@"; then
		echo "  ok   $what"
	else
		echo "  FAIL $what"
		fails=$((fails + 1))
	fi
}
# minigw with the shim preloaded (and only minigw).
REAL_MINIGW=$MINIGW
WRAP=$(mktemp /tmp/vpnr-async-minigw.XXXXXX)
cat > "$WRAP" <<W
#!/bin/sh
# A sanitizer build of minigw: its runtime need not come first.
export LD_PRELOAD=$SHIM VPNR_TEST_DP_DELAY_MS=$DELAY_MS
export ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0
exec $REAL_MINIGW "\$@"
W
chmod +x "$WRAP"
trap 'esp_cleanup; rm -f "$WRAP"' EXIT

declare -A LOSS
for mode in ${MODES:-sync async}; do
	echo "run: $mode data plane"
	esp_netns_up
	esp_charon right "$IKE" "$ESP" none 2> "$ESP_RUN/charon-start.err" || { echo "  FAIL charon"; fails=$((fails + 1)); esp_cleanup; continue; }
	ip -n "$NS_R" route add $LEFT_LAN dev ipsec0 src 172.16.0.1
	MINIGW=$REAL_MINIGW
	[ $mode = async ] && MINIGW=$WRAP
	esp_minigw left --local $LEFT_WAN --remote $RIGHT_WAN --ike "$IKE" --esp "$ESP" \
		--tun vpnr0 --tun-addr $LEFT_APIPA/30 --route $RIGHT_LAN --initiate
	rc=$?
	MINIGW=$REAL_MINIGW
	[ $rc = 0 ] || { echo "  FAIL minigw start"; fails=$((fails + 1)); esp_cleanup; continue; }
	if ! esp_wait_for 20 esp_swan_child_up right; then
		echo "  FAIL CHILD_SA not established"; tail -5 "$ESP_RUN/left/minigw.err" | sed 's/^/       /'
		fails=$((fails + 1)); esp_cleanup; continue
	fi
	check "ping lhost -> rhost" esp_wait_for 10 esp_qping "$NS_LH" -c1 -W1 $RHOST
	check "ping rhost -> lhost" esp_qping "$NS_RH" -c3 -i 0.2 -W2 $LHOST
	if l=$(esp_rekey_loss); then
		LOSS[$mode]=$l
		check "CHILD_SA rekey under load ($mode) loses <= 10 packets ($l)" [ "$l" -le 10 ]
	else
		check "CHILD_SA rekey under load ($mode)" false
	fi
	check "ping after rekey" esp_qping "$NS_LH" -c3 -i 0.2 -W2 $RHOST
	check "CHILD_REKEYED reported" grep -q "CHILD_REKEYED" "$ESP_RUN/left/minigw.out"
	if [ $mode = async ]; then
		n=$(grep -c '^dp_async_shim: completed sa_add 0' "$ESP_RUN/left/minigw.err")
		echo "       the shim completed $n sa_add ops ${DELAY_MS} ms late"
		check "SA installs completed asynchronously (>= 4)" [ "$n" -ge 4 ]
	fi
	esp_cleanup
done
if [ -n "${LOSS[sync]:-}" ] && [ -n "${LOSS[async]:-}" ]; then
	echo "rekey loss beyond buffer drops: sync ${LOSS[sync]}, async ${LOSS[async]}"
	check "async loses no more than sync + 10" [ "${LOSS[async]}" -le $((LOSS[sync] + 10)) ]
fi
[ $fails = 0 ] && echo "PASS" || echo "$fails checks failed"
exit $((fails > 0))
