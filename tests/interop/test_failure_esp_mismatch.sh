#!/bin/bash
# Failure interop (issue 8): an ESP-only proposal mismatch, then the
# peer fixed.  minigw (left, through the WAN box of lib/wan.sh) offers
# ESP aes128gcm16; strongSwan (right, responder) wants aes256-sha256;
# the IKE proposals match (aes256-sha1-modp1024).  minigw reports
# FAILED with VPNR_ERR_NO_PROPOSAL (strongSwan answered IKE_AUTH with
# NO_PROPOSAL_CHOSEN) and tries again by itself (a second FAILED while
# the peer is still wrong).  Then the peer's configuration is fixed
# (swanctl.conf rewritten to aes128gcm16, `swanctl --load-all`): with
# nothing done on minigw's side the CHILD_SA comes up with AES_GCM_16-128
# and a ping crosses lhost -> rhost on the static route.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

VI_MAX_SECONDS=600
VI_PROG_TIMEOUT=700
mg_init failure_esp_mismatch nft
wan_start_minigw aes128gcm16 static || vi_fail "set-up"
gw_pid=$(cat "$VI_RUN/gw.pid")
ss_pid=$(cat "$VI_RUN/right/charon.mypid")

FAILED_RE='^EVENT FAILED .*reason=VPNR_ERR_NO_PROPOSAL( |$)'
nfailed() { grep -cE "$FAILED_RE" "$VI_RUN/gw.out"; }
vi_wait_for 30 vi_grep_out gw "$FAILED_RE" ||
	vi_fail "no FAILED NO_PROPOSAL; events: $(grep '^EVENT' "$VI_RUN/gw.out" | tr '\n' ';')"
t0=$(wan_now)
charon_log() { grep -qE "$1" "$VI_RUN/right/charon.log"; }
charon_log "IKE_SA $VI_CONN\[[0-9]+\] established" || vi_fail "the IKE SA was not established at strongSwan"
charon_log "generating IKE_AUTH response .* N\(NO_PROP\)" ||
	vi_fail "strongSwan did not answer NO_PROPOSAL_CHOSEN: $(grep IKE_AUTH "$VI_RUN/right/charon.log" | tail -n 3)"
vi_log "minigw: $(grep -E "$FAILED_RE" "$VI_RUN/gw.out" | head -n1)"
# A failure that does not fix itself is still retried (later).
again() { [ "$(nfailed)" -ge 2 ]; }
vi_wait_for 180 again ||
	vi_fail "no second attempt; events: $(grep '^EVENT' "$VI_RUN/gw.out" | tr '\n' ';')"
retry=$(wan_since "$t0")
vi_swan_child_installed right && vi_fail "a CHILD_SA with mismatched proposals"
vi_log "second FAILED NO_PROPOSAL ${retry}s after the first; fixing the peer"

sed -i 's/esp_proposals = aes256-sha256$/esp_proposals = aes128gcm16/' "$VI_RUN/right/swanctl.conf"
grep -q 'esp_proposals = aes128gcm16$' "$VI_RUN/right/swanctl.conf" || vi_fail "swanctl.conf not rewritten"
vi_swan right --load-all --file "$VI_RUN/right/swanctl.conf" >"$VI_RUN/right/swanctl-reload.out" 2>&1 ||
	vi_fail "swanctl --load-all: $(cat "$VI_RUN/right/swanctl-reload.out")"
t1=$(wan_now)
n1=$(nfailed)
vi_wait_for 180 vi_swan_child_installed right ||
	vi_fail "no CHILD_SA after the fix; events: $(grep '^EVENT' "$VI_RUN/gw.out" | tail -n 5 | tr '\n' ';')"
up=$(wan_since "$t1")
algs=$(vi_swan_esp_algs right)
[ "$algs" = AES_GCM_16-128 ] || vi_fail "ESP algorithms $algs"
vi_wait_for 10 vi_grep_out gw '^EVENT CHILD_UP ' || vi_fail "no CHILD_UP at minigw"
vi_wait_for 30 wan_ping || vi_fail "no ping lhost -> rhost"
vi_alive "$gw_pid" || vi_fail "minigw is gone"
vi_alive "$ss_pid" || vi_fail "charon is gone"
[ "$(grep -c '^READY' "$VI_RUN/gw.out")" = 1 ] || vi_fail "minigw restarted"
vi_log "up ${up}s after the fix ($algs), $n1 failed attempts before it;" \
	"events: $(grep '^EVENT' "$VI_RUN/gw.out" | awk '{ print $2, $NF }' | tr '\n' ';')"
vi_pass
