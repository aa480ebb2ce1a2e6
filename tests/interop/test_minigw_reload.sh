#!/bin/bash
# Interop, scenario 4: reload.  minigw runs two tunnels with BGP (as in
# test_minigw_ecmp.sh); the file then gains a third tunnel (a third cloud
# gateway) and neighbour 2's export list changes from lan-only to
# lan-and-dmz.  After `ctl reload`: the new tunnel comes up and its
# neighbour peers, neighbour 2 re-advertises (its cloud now learns
# 192.168.3.0/24), and tunnels 1 and 2 keep their SPIs and BGP session 1
# is never reset.  A file with an error is refused and changes nothing;
# SIGHUP reloads too; a changed tunnel is re-created and a removed one
# deleted (IKE DELETE, TUN gone), still without touching tunnel 1.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_reload
vi_setup_netns || vi_fail "namespaces"
R2=$VI_PREFIX-r2
mg_cloud $R2 wan2 198.51.100.1 198.51.100.2 24 || vi_fail "cloud namespace 2"
R3=$VI_PREFIX-r3
mg_cloud $R3 wan3 192.0.2.1 192.0.2.2 24 || vi_fail "cloud namespace 3"
mg_psk
mg_aws_cloud right 1 203.0.113.2 203.0.113.1 || vi_fail "cloud 1"
mg_aws_cloud $R2 2 198.51.100.2 198.51.100.1 || vi_fail "cloud 2"
mg_aws_cloud $R3 3 192.0.2.2 192.0.2.1 || vi_fail "cloud 3"
mg_aws_conf "$VI_RUN/minigw.conf" 2 lan-only
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"

for c in right $R2; do
	vi_wait_for 20 vi_swan_child_installed $c || vi_fail "no CHILD_SA at $c"
	vi_wait_for 30 mg_bird_established $c || vi_fail "BGP not Established at $c"
	vi_wait_for 10 mg_bird_has $c 192.168.2.0/24 || vi_fail "$c lacks 192.168.2.0/24"
done
mg_bird_has $R2 192.168.3.0/24 && vi_fail "192.168.3.0/24 leaked before the reload"
spis1=$(vi_swan_child_spis right)
spis2=$(vi_swan_child_spis $R2)
since1=$(mg_birdc right show protocols ours | awk '$1 == "ours" { print $4, $5 }')
vi_log "before: tunnel 1 SPIs $spis1, tunnel 2 SPIs $spis2, BGP 1 up since $since1"

# A broken file is refused as a whole (exit 3) and changes nothing.
sed 's/remote_as: 64512/remote_as: 23456/' "$VI_RUN/minigw.conf" >"$VI_RUN/bad.conf"
cp "$VI_RUN/minigw.conf" "$VI_RUN/good.conf"
cp "$VI_RUN/bad.conf" "$VI_RUN/minigw.conf"
out=$(mg_ctl gw reload)
rc=$?
[ $rc = 3 ] && grep -q "reload refused.*remote_as.*23456" <<<"$out" ||
	vi_fail "bad reload: rc=$rc $out"
vi_log "refused: $out"

# The real change: a third tunnel, neighbour 2's export list.
mg_aws_conf "$VI_RUN/minigw.conf" 3 lan-and-dmz
mg_ctl gw reload || vi_fail "ctl reload"
vi_wait_for 20 vi_swan_child_installed $R3 || vi_fail "new tunnel 3 did not come up"
vi_wait_for 30 mg_bird_established $R3 || vi_fail "BGP 3 not Established"
vi_wait_for 30 mg_bird_has $R2 192.168.3.0/24 || vi_fail "neighbour 2 did not re-advertise"
mg_bird_has right 192.168.3.0/24 && vi_fail "neighbour 1's export changed"

[ "$(vi_swan_child_spis right)" = "$spis1" ] || vi_fail "tunnel 1 SPIs changed: $(vi_swan_child_spis right)"
[ "$(vi_swan_child_spis $R2)" = "$spis2" ] || vi_fail "tunnel 2 SPIs changed: $(vi_swan_child_spis $R2)"
since=$(mg_birdc right show protocols ours | awk '$1 == "ours" { print $4, $5 }')
[ "$since" = "$since1" ] || vi_fail "BGP session 1 was reset ($since1 -> $since)"
n=$(grep -c "ESTABLISHED peer=[0-9]* addr=169.254.21.2" "$VI_RUN/gw.out")
[ "$n" = 1 ] || vi_fail "neighbour 1 established $n times"
vi_log "after: tunnel 1 SPIs $(vi_swan_child_spis right), BGP 1 up since $since, tunnel 3 up"

# SIGHUP with an unchanged file: a reload that changes nothing.
kill -HUP "$(cat "$VI_RUN/gw.pid")"
vi_wait_for 10 sh -c "[ \$(grep -c '^RELOADED' '$VI_RUN/gw.out') -ge 2 ]" || vi_fail "SIGHUP did not reload"
[ "$(vi_swan_child_spis $R3)" != "" ] && [ "$(vi_swan_child_spis right)" = "$spis1" ] ||
	vi_fail "SIGHUP changed tunnel 1"
mg_ctl gw show tunnels | grep -c " up " | grep -q 3 || vi_fail "not 3 tunnels up: $(mg_ctl gw show tunnels)"
# A changed tunnel is made again (new SPIs, its neighbour restarts);
# the others stay as they are.
spis3=$(vi_swan_child_spis $R3)
sed -i '/name: aws3/,/mss:/ s/mss: 1382/mss: 1300/' "$VI_RUN/minigw.conf"
mg_ctl gw reload || vi_fail "reload (changed tunnel)"
new3() { s=$(vi_swan_child_spis $R3); [ -n "$s" ] && [ "$s" != "$spis3" ]; }
vi_wait_for 20 new3 || vi_fail "tunnel 3 not re-created"
vi_wait_for 30 mg_bird_established $R3 || vi_fail "BGP 3 not back"
[ "$(vi_swan_child_spis right)" = "$spis1" ] || vi_fail "tunnel 1 SPIs changed (tunnel 3 edit)"
vi_log "tunnel 3 changed: SPIs $spis3 -> $(vi_swan_child_spis $R3)"

# A removed tunnel: IKE DELETE to its peer, its TUN gone.
mg_aws_conf "$VI_RUN/minigw.conf" 2 lan-and-dmz
mg_ctl gw reload || vi_fail "reload (removed tunnel)"
gone3() { ! vi_swan_ike_established $R3 && ! ip -n "$VI_NS_LEFT" link show aws3 >/dev/null 2>&1; }
vi_wait_for 10 gone3 || vi_fail "tunnel 3 still there after its removal"
[ "$(vi_swan_child_spis right)" = "$spis1" ] || vi_fail "tunnel 1 SPIs changed (tunnel 3 removal)"
[ "$(mg_birdc right show protocols ours | awk '$1 == "ours" { print $4, $5 }')" = "$since1" ] ||
	vi_fail "BGP session 1 was reset by the later reloads"
vi_stop gw || vi_fail "minigw exit status $?"
vi_pass
