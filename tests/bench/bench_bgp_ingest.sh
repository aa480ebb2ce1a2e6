#!/bin/bash
# BGP full-table benchmark: our speaker (examples/bgp_speaker) beside
# BIRD 2, in one run, on veths between network namespaces.
#
#   receive: BIRD "S" originates N /28s (static, generated with awk) and
#            sends them to BIRD "R" and, separately, to us.  Time from
#            enabling the session to the last route (BIRD: polled every
#            0.2 s; us: the End-of-RIB event, and the same poll) and
#            peak RSS (VmHWM) of the receiver.
#   send:    we originate the same N prefixes and send them to a fresh
#            BIRD R; the time to R holding all of them beside S -> R,
#            and our memory per originated route (VmHWM growth over the
#            receiver's start-up VmHWM) beside the received table's and
#            the 100 B/route target.
# The receive CPU (user + sys, ours and BIRD R's) is printed side by
# side: the target is ours <= BIRD's.  One core's jiffies (10 ms) are
# the resolution; a shared machine makes single runs noisy.
#
# usage: bench_bgp_ingest.sh [N]   (default 1000000; N <= 1048576)
# Needs root, bird/birdc and a Release build (VPNR_BUILD_DIR).  Prints
# figures, asserts nothing.  Everything lives in namespaces vbb<pid>-*.
set -uo pipefail
N=${1:-1000000}
P=vbb$$
RUN=/tmp/vpnr-bench-$P
B=${VPNR_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SPK=$B/examples/bgp_speaker
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
command -v bird >/dev/null && command -v birdc >/dev/null || { echo "needs bird"; exit 77; }
[ -x "$SPK" ] || { echo "no $SPK"; exit 77; }
PIDS=""
cleanup() {
	local p ns
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	for f in "$RUN"/*.pid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
	for ns in S R U; do
		for p in $(ip netns pids $P-$ns 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del $P-$ns 2>/dev/null
	done
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$RUN"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
hwm() { awk '/VmHWM/{print $2}' /proc/"$1"/status; }
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' /proc/"$1"/stat; } # user+sys s
wait_for() { # TIMEOUT CMD...
	local end
	end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -le "$end" ]; do "$@" && return 0; sleep 0.2; done
	return 1
}

for ns in S R U; do ip netns add $P-$ns; ip -n $P-$ns link set lo up; done
link() { # NS1 IP1 NS2 IP2 NAME
	ip link add $P-$5a type veth peer name $P-$5b
	ip link set $P-$5a netns $P-$1 name $5
	ip link set $P-$5b netns $P-$3 name $5
	ip -n $P-$1 addr add $2/30 dev $5
	ip -n $P-$3 addr add $4/30 dev $5
	ip -n $P-$1 link set $5 up
	ip -n $P-$3 link set $5 up
}
link S 169.254.30.1 R 169.254.30.2 sr
link S 169.254.31.1 U 169.254.31.2 su
link R 169.254.32.1 U 169.254.32.2 ru

T=$(now)
awk -v n="$N" 'BEGIN { print "protocol static bulk {\n    ipv4;"
  for (i = 0; i < n; i++) { a = 167772160 + i * 16
    printf "    route %d.%d.%d.%d/28 blackhole;\n", int(a/16777216)%256, int(a/65536)%256, int(a/256)%256, a%256 }
  print "}" }' >"$RUN/bulk.conf"
echo "generated $N static routes in $(since "$T") s"

cat >"$RUN/S.conf" <<EOF
router id 169.254.30.1;
protocol device { }
include "$RUN/bulk.conf";
protocol bgp toR {
    disabled;
    local 169.254.30.1 as 65001; neighbor 169.254.30.2 as 65002;
    connect delay time 1; hold time 240;
    ipv4 { import none; export where proto = "bulk"; };
}
protocol bgp toU {
    disabled;
    local 169.254.31.1 as 65001; neighbor 169.254.31.2 as 65010;
    connect delay time 1; hold time 240;
    ipv4 { import none; export where proto = "bulk"; };
}
EOF
rconf() { # $1 = neighbor section
	cat >"$RUN/R.conf" <<EOF
router id 169.254.30.2;
protocol device { }
$1
EOF
}
birdcl() { timeout 30 birdc -s "$RUN/$1.ctl" "${@:2}"; }
bird_start() { # NAME
	rm -f "$RUN/$1.pid"
	ip netns exec $P-$1 bird -c "$RUN/$1.conf" -s "$RUN/$1.ctl" -P "$RUN/$1.pid" || return 1
	wait_for 60 test -s "$RUN/$1.pid"
}
imported() { # NAME PROTO -> count
	birdcl "$1" show protocols all "$2" | awk '/Routes:/{print $2; f=1} END{if(!f) print 0}'
}
poll_until() { # NAME PROTO N START -> prints seconds
	local c last=-1
	while :; do
		c=$(imported "$1" "$2")
		c=${c:-0}
		[ "$c" != "$last" ] && { printf '    +%6ss  %s routes\n' "$(since "$4")" "$c" >&2; last=$c; }
		[ "$c" -ge "$3" ] && break
		awk -v n="$(now)" -v t="$4" 'BEGIN{exit !(n-t>600)}' && { echo timeout; return 1; }
		sleep 0.2
	done
	since "$4"
}

T=$(now)
bird_start S || { echo "bird S failed"; exit 1; }
wait_for 600 bash -c "timeout 30 birdc -s $RUN/S.ctl show protocols all bulk | grep -qE 'Routes: +$N imported'"
echo "BIRD S loaded $N statics in $(since "$T") s (RSS $(hwm "$(cat "$RUN/S.pid")") kB)"

# ---- receive: BIRD -> BIRD ----------------------------------------------
rconf 'protocol bgp fromS {
    local 169.254.30.2 as 65002; neighbor 169.254.30.1 as 65001;
    hold time 240;
    ipv4 { import all; export none; };
}'
bird_start R || { echo "bird R failed"; exit 1; }
R0=$(hwm "$(cat "$RUN/R.pid")")
RC0=$(cpu "$(cat "$RUN/R.pid")")
T=$(now)
birdcl S enable toR >/dev/null
echo "BIRD -> BIRD:"
T_BB=$(poll_until R fromS "$N" "$T")
R1=$(hwm "$(cat "$RUN/R.pid")")
RC1=$(awk -v a="$RC0" -v b="$(cpu "$(cat "$RUN/R.pid")")" 'BEGIN{printf "%.2f", b-a}')
RMEM=$(birdcl R show memory | awk '/Routing tables/{print $3, $4}')
echo "  time to $N routes: $T_BB s; BIRD R CPU $RC1 s; BIRD R VmHWM $R1 kB (at start $R0 kB); 'show memory' routing tables: $RMEM"
birdcl S disable toR >/dev/null
kill -KILL "$(cat "$RUN/R.pid")"

# ---- receive: BIRD -> us ------------------------------------------------
ip netns exec $P-U "$SPK" --local-as 65010 --router-id 169.254.31.2 \
    --listen 169.254.31.2 --peer 169.254.31.1:65001:passive --hold 240 \
    --import all --export none >"$RUN/U.out" 2>"$RUN/U.err" &
UPID=$!
PIDS="$PIDS $UPID"
wait_for 10 grep -q READY "$RUN/U.out"
U0=$(hwm $UPID)
UC0=$(cpu $UPID)
T=$(now)
birdcl S enable toU >/dev/null
echo "BIRD -> us:"
wait_for 600 grep -q "EVENT EOR .*afi=1" "$RUN/U.out" || { echo "no End-of-RIB"; cat "$RUN/U.err"; exit 1; }
T_BU_WALL=$(since "$T")
EST=$(awk '/EVENT ESTABLISHED/{sub("t=","",$4); print $4; exit}' "$RUN/U.out")
EOR=$(awk '/EVENT EOR .*afi=1/{for(i=1;i<=NF;i++) if($i ~ /^t=/){sub("t=","",$i); print $i}; exit}' "$RUN/U.out")
UROUTES=$(awk '/EVENT EOR .*afi=1/{for(i=1;i<=NF;i++) if($i ~ /^routes=/){sub("routes=","",$i); print $i}; exit}' "$RUN/U.out")
U1=$(hwm $UPID)
UC1=$(awk -v a="$UC0" -v b="$(cpu $UPID)" 'BEGIN{printf "%.2f", b-a}')
echo "  End-of-RIB $(awk -v a="$EST" -v b="$EOR" 'BEGIN{printf "%.2f", b-a}') s after Established ($T_BU_WALL s after enable, polled); routes in data plane: $UROUTES; our CPU $UC1 s"
echo "  our VmHWM $U1 kB (at start $U0 kB): $(awk -v a="$U0" -v b="$U1" -v n="$N" 'BEGIN{printf "%.1f", (b-a)*1024/n}') bytes/route"
birdcl S disable toU >/dev/null
kill -TERM $UPID; wait $UPID 2>/dev/null

# ---- send: us -> BIRD, beside S -> R ------------------------------------
rconf 'protocol bgp fromU {
    local 169.254.32.1 as 65002; neighbor 169.254.32.2 as 65010;
    hold time 240;
    ipv4 { import all; export none; };
}'
bird_start R || { echo "bird R failed"; exit 1; }
T=$(now)
ip netns exec $P-U "$SPK" --local-as 65010 --router-id 169.254.32.2 \
    --local 169.254.32.2 --peer 169.254.32.1:65002 --hold 240 \
    --import none --export local --advertise-gen "$N" \
    >"$RUN/U2.out" 2>"$RUN/U2.err" &
UPID=$!
PIDS="$PIDS $UPID"
wait_for 120 grep -q READY "$RUN/U2.out"
echo "us -> BIRD:"
echo "  $N paths added in $(awk '/READY/{sub("t=","",$4); print $4}' "$RUN/U2.out") s"
wait_for 60 grep -q "EVENT ESTABLISHED" "$RUN/U2.out"
T=$(now)
RC0=$(cpu "$(cat "$RUN/R.pid")")
UC0=$(cpu $UPID)
T_UB=$(poll_until R fromU "$N" "$T")
RC2=$(awk -v a="$RC0" -v b="$(cpu "$(cat "$RUN/R.pid")")" 'BEGIN{printf "%.2f", b-a}')
UC2=$(awk -v a="$UC0" -v b="$(cpu $UPID)" 'BEGIN{printf "%.2f", b-a}')
U2=$(hwm $UPID)
OB=$(awk -v a="$U0" -v b="$U2" -v n="$N" 'BEGIN{printf "%.1f", (b-a)*1024/n}')
echo "  time to $N routes at BIRD R after Established: $T_UB s (BIRD -> BIRD: $T_BB s); CPU: ours $UC2 s, BIRD R $RC2 s; our VmHWM $U2 kB"
kill -TERM $UPID; wait $UPID 2>/dev/null

echo
echo "SUMMARY N=$N load=$(cut -d' ' -f1-3 /proc/loadavg)"
echo "  receive CPU: ours ${UC1}s, BIRD ${RC1}s (target: ours <= BIRD's)"
echo "  origination: ${OB} B/route with one peer (received table: $(awk -v a="$U0" -v b="$U1" -v n="$N" 'BEGIN{printf "%.1f", (b-a)*1024/n}') B/route; target <= 100)"
echo "  receive  BIRD->BIRD ${T_BB}s  CPU ${RC1}s  RSS ${R1}kB | BIRD->us CPU ${UC1}s EoR $(awk -v a="$EST" -v b="$EOR" 'BEGIN{printf "%.2f", b-a}')s (wall ${T_BU_WALL}s)  RSS ${U1}kB  $(awk -v a="$U0" -v b="$U1" -v n="$N" 'BEGIN{printf "%.1f", (b-a)*1024/n}') B/route"
echo "  send     BIRD->BIRD ${T_BB}s | us->BIRD ${T_UB}s (our CPU ${UC2}s, BIRD R CPU ${RC2}s)"
