#!/bin/bash
# Soak (issue 8; not in CI): minigw (left) <-> strongSwan 5.9.8 (right,
# charon kernel-libipsec, responder) through the nftables WAN box of
# tests/interop/lib/wan.sh with random loss each way, iperf3 TCP both
# ways lhost <-> rhost through the tunnel for the whole run, and forced
# rekeys:
#   CHILD_SA every CHILD s (default 30) and IKE SA every IKE s (default
#   120, offset by 15 s from the CHILD_SA rekeys), alternately asked of
#   minigw (its control socket: "tunnel wan rekey" / "rekey-ike") and of
#   strongSwan ("swanctl --rekey --child/--ike"), so both sides initiate
#   rekeys; --rekey-by ours|peer to ask only one.  Forced because
#   minigw's lifetimes cannot go below 300 s (minigw.conf(5)).
# Alongside, a ping every 10 ms lhost -> rhost (-D timestamps).  At the
# end it reports:
#   - per rekey seen in minigw's events (CHILD_REKEYED, REKEYED; stamped
#     as they are printed): pings lost among those sent within +-1 s of
#     it, beside the loss rate away from any rekey (the WAN's own loss:
#     with L % each way a round trip is lost ~2L % of the time);
#   - any DOWN, CHILD_DOWN or FAILED event (there should be none);
#   - RSS (VmRSS) of minigw and of the right's charon at start and end;
#   - the counters: minigw "show tunnels" and "show child-sa", swanctl
#     --list-sas (bytes/packets), iperf3's totals, the box's counters;
#   - that no namespace or process of the run is left behind.
# Exit 0 when the run went through (minigw and charon alive, tunnel up
# at the end, nothing left behind), 1 otherwise; the loss figures are
# reported, not judged.
#
# usage: soak.sh [--duration S] [--child S] [--ike S] [--loss PCT] [--rekey-by both|ours|peer]
#   defaults: 1800 s, 30 s, 120 s, 5 %, both.
# Env: VPNR_BUILD_DIR (minigw at $VPNR_BUILD_DIR/examples/minigw/minigw);
# VI_KEEP=1 keeps the run directory (logs, ping and event files).
# Needs root, charon/swanctl, bird (only checked), nft, iperf3, python3.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export VPNR_SOURCE_DIR=$SRC
export VPNR_BUILD_DIR=${VPNR_BUILD_DIR:-$SRC/build}
DURATION=1800
CHILD=30
IKE_EVERY=120
LOSS=5
BY=both
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=$2; shift ;;
	--child) CHILD=$2; shift ;;
	--ike) IKE_EVERY=$2; shift ;;
	--loss) LOSS=$2; shift ;;
	--rekey-by) BY=$2; shift ;;
	*) echo "usage: $0 [--duration S] [--child S] [--ike S] [--loss PCT] [--rekey-by both|ours|peer]" >&2; exit 2 ;;
	esac
	shift
done
for v in "$DURATION" "$CHILD" "$IKE_EVERY"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "durations are whole seconds > 0" >&2; exit 2; }
done
[[ $LOSS =~ ^[0-9]+$ ]] && [ "$LOSS" -le 100 ] || { echo "--loss is 0-100" >&2; exit 2; }
case $BY in both | ours | peer) ;; *) echo "--rekey-by both|ours|peer" >&2; exit 2 ;; esac

VI_PREFIX=vsk$$
VI_MAX_SECONDS=$((DURATION + 300))
VI_PROG_TIMEOUT=$((VI_MAX_SECONDS + 60))
. "$SRC/tests/interop/lib/common.sh"
. "$SRC/tests/interop/lib/minigw.sh"
. "$SRC/tests/interop/lib/wan.sh"
mg_init soak nft iperf3 ping
IKE=aes256-sha1-modp1024
ESP=aes256-sha256

rss() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$1/status" 2>/dev/null; }
# minigw runs under timeout(1) (vi_start_ours): its pid is that one's child.
mg_pid() { ps -o pid= --ppid "$(cat "$VI_RUN/gw.pid")" | tr -d ' ' | head -n1; }

wan_setup_netns || vi_fail "namespaces"
# minigw sends UDP GSO trains (up to 64 ESP packets in one skb) and a
# veth hands them to the box whole, so the box would drop whole trains:
# segment them on the way out, as a NIC does, for per-packet loss.
ip -n "$VI_NS_LEFT" link set wanL gso_max_segs 1 || vi_fail "gso_max_segs on wanL"
mg_psk
vi_start_charon right $IKE $ESP none || vi_fail "charon"
wan_right_inner || vi_fail "inner address on ipsec0"
wan_minigw_conf "$VI_RUN/minigw.conf" $ESP static
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"
vi_wait_for 30 vi_swan_child_installed right || vi_fail "no CHILD_SA at strongSwan"
vi_wait_for 10 vi_grep_out gw '^EVENT CHILD_UP ' || vi_fail "no CHILD_UP at minigw"
vi_wait_for 10 wan_ping || vi_fail "no ping lhost -> rhost"
gw=$(mg_pid)
ss=$(cat "$VI_RUN/right/charon.mypid")
[ -n "$gw" ] && [ "$(cat "/proc/$gw/comm")" = minigw ] || vi_fail "cannot find minigw's pid"
rss_gw0=$(rss "$gw")
rss_ss0=$(rss "$ss")
# every pid of this run with its start time, to check that none survives
all_pids() { awk '{ print $2 ":" $3 }' "$VI_RUN/pids"; echo "$gw:$(vi_starttime "$gw")"; }

# minigw's records, each stamped with the time it was printed (one
# process, so that vi_cleanup's pid list covers it); those printed
# before the soak get 0
python3 -u -c '
import sys, time
f = open(sys.argv[1]); o = open(sys.argv[2], "a", buffering=1); part = ""
for l in f.read().splitlines(True):
    o.write("0 " + l)
while True:
    l = f.readline()
    if not l:
        time.sleep(0.01); continue
    part += l
    if part.endswith("\n"):
        o.write("%.6f %s" % (time.time(), part)); part = ""
' "$VI_RUN/gw.out" "$VI_RUN/gw.ts" </dev/null &
vi_record_pid stamp $!

ip netns exec "$VI_NS_RHOST" iperf3 -s -1 -B $VI_RHOST_IP >"$VI_RUN/iperf-s.out" 2>&1 </dev/null &
vi_record_pid iperf-s $!
vi_wait_for 10 sh -c "ip netns exec $VI_NS_RHOST ss -ltnH 'sport = :5201' | grep -q ."
wan_loss "$LOSS" || vi_fail "loss $LOSS"
ip netns exec "$VI_NS_LHOST" ping -D -n -i 0.01 -W 1 $VI_RHOST_IP >"$VI_RUN/ping.out" 2>&1 </dev/null &
pingpid=$!
vi_record_pid ping $pingpid
ip netns exec "$VI_NS_LHOST" iperf3 -c $VI_RHOST_IP -t "$DURATION" --bidir -J \
	>"$VI_RUN/iperf.json" 2>"$VI_RUN/iperf.err" </dev/null &
iperfpid=$!
vi_record_pid iperf-c $iperfpid
t0=$(wan_now)
vi_log "soak: ${DURATION}s, ${LOSS}% loss each way, CHILD_SA rekey every ${CHILD}s," \
	"IKE rekey every ${IKE_EVERY}s (+15 s), asked of: $BY; RSS minigw $rss_gw0, charon $rss_ss0"

# The schedule runs on the clock by design (a soak, not a test).
n_child=0
n_ike=0
: >"$VI_RUN/asked"
for ((s = 1; s <= DURATION; s++)); do
	# sleep to the next whole second since t0
	sleep "$(awk -v a="$t0" -v s="$s" -v b="$(date +%s.%N)" 'BEGIN { d = a + s - b; print (d > 0 ? d : 0) }')"
	what=""
	[ $((s % CHILD)) = 0 ] && what=child
	[ $(((s - 15) % IKE_EVERY)) = 0 ] && [ "$s" -ge 15 ] && what=ike
	[ -n "$what" ] || continue
	if [ "$what" = child ]; then n=$((n_child += 1)); else n=$((n_ike += 1)); fi
	by=$BY
	[ "$by" = both ] && { [ $((n % 2)) = 1 ] && by=ours || by=peer; }
	if [ "$by" = ours ]; then
		[ "$what" = child ] && a=rekey || a=rekey-ike
		out=$(mg_ctl gw tunnel "$a" wan 2>&1)
	else
		[ "$what" = child ] && a="--child $VI_CHILD" || a="--ike $VI_CONN"
		# shellcheck disable=SC2086
		out=$(vi_swan right --rekey $a 2>&1 | tail -n1)
	fi
	echo "$EPOCHREALTIME $what $by $out" >>"$VI_RUN/asked"
	if ! vi_alive "$gw" || ! vi_alive "$ss"; then
		vi_log "soak: minigw or charon died after ${s}s"
		break
	fi
	[ $((s % 300)) -lt "$CHILD" ] && [ "$what" = child ] &&
		vi_log "soak: ${s}s, RSS minigw $(rss "$gw"), charon $(rss "$ss"); box $(wan_counters)"
done
vi_log "soak: done; waiting for iperf3"
vi_wait_for 30 wan_gone "$iperfpid"
wan_loss off
kill "$pingpid" 2>/dev/null
wait "$pingpid" 2>/dev/null
{ wait "$iperfpid"; } 2>/dev/null
rc=0
rss_gw1=$(rss "$gw")
rss_ss1=$(rss "$ss")
vi_alive "$gw" || { vi_log "minigw is gone"; rc=1; }
vi_alive "$ss" || { vi_log "charon is gone"; rc=1; }
vi_wait_for 10 wan_ping || { vi_log "no ping lhost -> rhost at the end"; rc=1; }

echo "== soak: ${DURATION}s, ${LOSS}% loss each way, rekeys asked: $n_child CHILD_SA, $n_ike IKE ($BY)"
echo "== rekey requests not accepted: $(grep -cvE ' (ok|initiate.*|rekey completed.*)$' "$VI_RUN/asked")"
grep -vE ' (ok|initiate.*|rekey completed.*)$' "$VI_RUN/asked" | head -n 5 | sed 's/^/   /'
echo "== pings lost around each rekey (+-1 s), from minigw's events"
python3 - "$VI_RUN/ping.out" "$VI_RUN/gw.ts" <<'EOF'
import re, sys
# ping -D: "[T] 64 bytes from A: icmp_seq=N ttl=.. time=R ms"
# icmp_seq is 16 bits: unwrap it.
sent = {}
rx = re.compile(r'^\[([0-9.]+)\] .* bytes from .*icmp_seq=(\d+) .*time=([0-9.]+) ms')
last, off = None, 0
for l in open(sys.argv[1]):
    m = rx.match(l)
    if m:
        q = int(m.group(2)) + off
        if last is not None and q < last - 32768:
            off += 65536; q += 65536
        last = q
        sent[q] = float(m.group(1)) - float(m.group(3)) / 1000
if not sent:
    print("   no ping replies at all"); sys.exit(0)
lo, hi = min(sent), max(sent)
# send times of the lost ones: between their received neighbours
known = sorted(sent)
t = {}
for a, b in zip(known, known[1:]):
    t[a] = sent[a]
    for s in range(a + 1, b):
        t[s] = sent[a] + (sent[b] - sent[a]) * (s - a) / (b - a)
t[hi] = sent[hi]
def burst(seqs):
    # the longest run of consecutive lost pings among seqs
    best = run = 0
    for s in seqs:
        run = run + 1 if s not in sent else 0
        best = max(best, run)
    return best
ev = []
for l in open(sys.argv[2]):
    p = l.split()
    if len(p) > 2 and p[1] == "EVENT" and p[2] in ("CHILD_REKEYED", "REKEYED", "DOWN", "CHILD_DOWN", "FAILED", "UP", "CHILD_UP"):
        ev.append((float(p[0]), p[2], l.strip()))
near = set()
rows = []
for at, kind, _ in ev:
    if kind not in ("CHILD_REKEYED", "REKEYED"):
        continue
    win = [s for s in range(lo, hi + 1) if abs(t[s] - at) <= 1.0]
    lost = [s for s in win if s not in sent]
    near.update(win)
    rows.append((at, kind, len(win), len(lost), burst(win)))
away = [s for s in range(lo, hi + 1) if s not in near]
away_lost = sum(1 for s in away if s not in sent)
base = 100.0 * away_lost / len(away) if away else 0
t0 = t[lo]
for at, kind, n, k, b in rows:
    print("   +%7.1fs %-13s lost %3d of %3d (%4.1f%%), longest gap %d" % (at - t0, kind, k, n, 100.0 * k / n if n else 0, b))
tot_n = sum(r[2] for r in rows); tot_k = sum(r[3] for r in rows)
print("   %d rekeys seen (CHILD_REKEYED %d, REKEYED %d): lost %d of %d pings near them (%.2f%%);"
      % (len(rows), sum(1 for r in rows if r[1] == "CHILD_REKEYED"), sum(1 for r in rows if r[1] == "REKEYED"),
         tot_k, tot_n, 100.0 * tot_k / tot_n if tot_n else 0))
print("   away from rekeys: lost %d of %d (%.2f%%), longest gap %d; all: %d sent, %d lost"
      % (away_lost, len(away), base, burst(away), hi - lo + 1, hi - lo + 1 - len(sent)))
bad = [e[2] for e in ev if e[0] > 0 and e[1] in ("DOWN", "CHILD_DOWN", "FAILED", "UP", "CHILD_UP")]
print("   other events during the run: %s" % ("; ".join(bad) if bad else "none"))
EOF
echo "== RSS: minigw $rss_gw0 -> $rss_gw1; charon (right) $rss_ss0 -> $rss_ss1"
echo "== iperf3 (TCP, both ways at once, ${DURATION}s):"
python3 - "$VI_RUN/iperf.json" <<'EOF' || echo "   no iperf3 result: $(tail -n 3 "$VI_RUN/iperf.err")"
import json, sys
j = json.load(open(sys.argv[1]))
if "error" in j:
    print("   iperf3 error: " + j["error"])
e = j["end"]
for k, lbl in (("sum_sent", "left->right sent"), ("sum_received", "left->right received"),
               ("sum_sent_bidir_reverse", "right->left sent"), ("sum_received_bidir_reverse", "right->left received")):
    if k in e:
        s = e[k]
        print("   %-20s %10.1f MB %7.2f Mbit/s%s" % (lbl, s["bytes"] / 1e6, s["bits_per_second"] / 1e6,
              ("  retransmits %d" % s["retransmits"]) if "retransmits" in s else ""))
EOF
echo "== minigw: show tunnels"
mg_ctl gw show tunnels 2>&1 | sed 's/^/   /'
echo "== minigw: show child-sa"
mg_ctl gw show child-sa 2>&1 | sed 's/^/   /'
echo "== strongSwan (right): swanctl --list-sas"
vi_swan right --list-sas 2>&1 | sed 's/^/   /'
echo "== WAN box: $(wan_counters)"

# Clean up now and check that nothing of the run is left.
pids=$(all_pids)
ns_list=$VI_NAMESPACES
vi_cleanup
left=""
for p in $pids; do
	vi_alive "${p%%:*}" && [ "$(vi_starttime "${p%%:*}")" = "${p#*:}" ] &&
		left="$left pid:${p%%:*}($(cat /proc/"${p%%:*}"/comm 2>/dev/null))"
done
for ns in $ns_list; do ip netns list | grep -qw "^$ns" && left="$left netns:$ns"; done
[ -d "$VI_RUN" ] && [ "${VI_KEEP:-0}" != 1 ] && left="$left dir:$VI_RUN"
echo "== left behind: ${left:-nothing}"
[ -z "$left" ] || rc=1
exit $rc
