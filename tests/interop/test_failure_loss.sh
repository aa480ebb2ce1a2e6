#!/bin/bash
# Failure interop (issue 8): 40 % random loss in each direction for 5
# minutes (WAN_LOSS_SECONDS, default 300) on an idle tunnel: minigw
# never declares the peer dead.  minigw (left) -- WAN box (lib/wan.sh)
# -- strongSwan (right, responder, retransmits on strongSwan's defaults:
# 5 tries, 4 s, base 1.8) with a static route and nothing at all
# crossing during the loss (no BGP, no ping), and strongSwan's DPD off
# (dpd_delay 0): every proof of life minigw gets is the answer to one
# of its own probes, the hardest idle case for its liveness defaults.
# (With DPD on, strongSwan itself gives up on a live peer at this loss:
# its 6 sends of one DPD all fail with probability 0.64^6 = 7 %; seen
# as "giving up after 5 retransmits" 291 s into a run.)  Checked during
# the loss, once a second: minigw printed no event (no DOWN, CHILD_DOWN,
# FAILED or new UP) and charon did not delete the IKE SA; after it: the
# same IKE SA and CHILD_SA (SPIs) at strongSwan, the box dropped packets
# both ways, minigw's probes reached charon, and a ping crosses lhost ->
# rhost.  This test waits on the clock by design.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

LOSS=40
LOSS_SECONDS=${WAN_LOSS_SECONDS:-300}
VI_MAX_SECONDS=$((LOSS_SECONDS + 240))
VI_PROG_TIMEOUT=$((VI_MAX_SECONDS + 60))
VI_SS_RETRANSMIT_TRIES=5
VI_SS_RETRANSMIT_TIMEOUT=4.0
VI_SS_RETRANSMIT_BASE=1.8
VI_SS_DPD=0
mg_init failure_loss nft
wan_start_minigw aes256-sha256 static || vi_fail "set-up"
vi_wait_for 30 vi_swan_child_installed right || vi_fail "no CHILD_SA at strongSwan"
vi_wait_for 10 vi_grep_out gw '^EVENT CHILD_UP ' || vi_fail "no CHILD_UP at minigw"
vi_wait_for 10 wan_ping || vi_fail "no ping lhost -> rhost before the loss"
ike0=$(vi_swan_ike_spis right)
child0=$(vi_swan_child_spis right)
[ -n "$ike0" ] && [ -n "$child0" ] || vi_fail "no SPIs from swanctl"
nev=$(grep -c '^EVENT' "$VI_RUN/gw.out")
fwd0=$(($(wan_count fwd_lr) + $(wan_count fwd_rl)))
probes() { grep -cE "parsed INFORMATIONAL request|received retransmit of request" "$VI_RUN/right/charon.log"; }
probes0=$(probes)

broken() {
	[ "$(grep -c '^EVENT' "$VI_RUN/gw.out")" != "$nev" ] && return 0
	grep -qE "giving up after|deleting IKE_SA|IKE_SA .* state change: ESTABLISHED => DELETING" \
		"$VI_RUN/right/charon.log"
}
vi_log "up: IKE SA $ike0, CHILD_SA $child0; ${LOSS}% loss each way for ${LOSS_SECONDS}s, idle"
wan_loss $LOSS || vi_fail "loss on"
end=$((SECONDS + LOSS_SECONDS))
while [ $SECONDS -lt $end ]; do
	broken && break
	sleep 1
done
wan_loss off || vi_fail "loss off"
if broken; then
	vi_fail "declared dead under loss after $((LOSS_SECONDS - end + SECONDS))s:" \
		"minigw: $(grep '^EVENT' "$VI_RUN/gw.out" | tail -n +$((nev + 1)) | tr '\n' ';')" \
		"charon: $(grep -E 'giving up|deleting IKE_SA' "$VI_RUN/right/charon.log" | head -n 2 | tr '\n' ';')"
fi
lr=$(wan_count lost_lr)
rl=$(wan_count lost_rl)
fwd=$(($(wan_count fwd_lr) + $(wan_count fwd_rl) - fwd0))
[ "$lr" -gt 0 ] && [ "$rl" -gt 0 ] || vi_fail "the box did not drop both ways: $(wan_counters)"
[ "$fwd" -gt 0 ] || vi_fail "nothing crossed the box during the loss: $(wan_counters)"
vi_log "loss over: box dropped $lr l->r and $rl r->l, forwarded $fwd;" \
	"probes (with retransmits) that reached charon: $(($(probes) - probes0))"
[ "$(probes)" -gt "$probes0" ] || vi_fail "no probe of minigw's reached charon during the loss"

[ "$(vi_swan_ike_spis right)" = "$ike0" ] || vi_fail "strongSwan's IKE SA changed: $(vi_swan_ike_spis right)"
vi_swan_child_installed right || vi_fail "no CHILD_SA at strongSwan after the loss"
vi_wait_for 30 wan_ping || vi_fail "no ping lhost -> rhost after the loss"
[ "$(vi_swan_child_spis right)" = "$child0" ] || vi_fail "CHILD_SA changed: $(vi_swan_child_spis right)"
[ "$(grep -c '^EVENT' "$VI_RUN/gw.out")" = "$nev" ] ||
	vi_fail "minigw events: $(grep '^EVENT' "$VI_RUN/gw.out" | tail -n +$((nev + 1)) | tr '\n' ';')"
vi_pass
