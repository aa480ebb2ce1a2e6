#!/bin/bash
# Tunnel scale over real UDP (issue 12): N IKEv2 tunnels (IKE_SA + one
# CHILD_SA each) initiated at once between two namespaces joined by a
# veth pair, ports 500/4500, for
#   minigw:     minigw (initiator, N tunnels) <-> minigw (responder, N
#               tunnels), each tunnel with its own TUN device and its
#               own pair of outer addresses (10.1.x.y <-> 10.2.x.y on the
#               veth: a gateway's tunnels go to different peers, and one
#               address past 5 half-open SAs is refused by the library's
#               per-source limit); both sides READY, then N "tunnel up"
#               on the initiator's control socket at once;
#   strongSwan: two charons (kernel-libipsec, private /run each), the
#               settings of ike-anchors.md 1.5 (reuse_ikesa = no, unique
#               = never, dos_protection = no, 32 threads, logging off,
#               PSK), one connection initiated N times through vici
#               (initiate, timeout -1), as the anchor did;
# in the same run, each in fresh namespaces, and prints side by side:
# tunnels/s from the first initiate to the last CHILD_SA up on both
# sides (minigw's "EVENT CHILD_UP" lines / vici child-updown events),
# RSS per tunnel per side (VmRSS when all are up minus VmRSS idle with
# the configuration loaded), CPU per side over that span, and the
# anchor (strongSwan 5.9.8 measured on this VM, ike-anchors.md 1.5).
# CPU comes from /proc/PID/stat in 10 ms ticks: coarse below N = 500.
# Also: UDP datagrams dropped for want of receive buffer in each
# namespace (each one costs a retransmission: 1 s for the library, 4 s
# for strongSwan), COOKIEs demanded by minigw's responder, and SIGTERM
# to exit (minigw deletes its N TUNs in one netlink round).
#
# usage: bench_udp_scale.sh [-n N] [--suite aes128|aes256] [--bound S]
#                           [--only "minigw strongswan"]
# Needs root, charon/swanctl, python3, /dev/net/tun; namespaces
# vus<pid>-*, removed at the end.  N = 1,000: about 1-2 min.  Not in CI.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${VPNR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
export VPNR_SOURCE_DIR=$SRC
export VPNR_BUILD_DIR=${VPNR_BUILD_DIR:-$SRC/build}
. "$SRC/tests/interop/lib/bench.sh"
N=1000
SUITE=aes128
BOUND=0
ONLY="minigw strongswan"
PHASE=""
OUT=""
usage() { echo "usage: $0 [-n N] [--suite aes128|aes256] [--bound S] [--only \"minigw strongswan\"]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=${2:-}; shift ;;
	--suite) SUITE=${2:-}; shift ;;
	--bound) BOUND=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	--phase) PHASE=$2; OUT=$3; shift 2 ;; # internal: one side, results to OUT
	*) usage ;;
	esac
	shift
done
if ! [[ $N =~ ^[1-9][0-9]*$ ]] || [ "$N" -gt 10000 ]; then
	echo "-n takes 1..10000" >&2
	exit 2
fi
[[ $BOUND =~ ^[0-9]+$ ]] || usage
case $SUITE in
aes128 | aes256) ;;
*) usage ;;
esac
IKE_PROP=${SUITE}gcm16-prfsha256-x25519
ESP_PROP=${SUITE}gcm16
# The wait for all CHILD_SAs: generous, but bounded.
[ "$BOUND" = 0 ] && BOUND=$((60 + N / 10))

# ------------------------------------------------------------ the driver
if [ -z "$PHASE" ]; then
	[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
	res=$(mktemp -d /tmp/vpnr-bench-udp-scale.XXXXXX)
	trap 'rm -rf "$res"' EXIT
	echo "# bench_udp_scale: $(date -u +%FT%TZ), N=$N, IKE $IKE_PROP, ESP $ESP_PROP, UDP-encapsulated ESP, veth between two namespaces, wait bounded at ${BOUND}s"
	echo "# $(nproc) CPUs, load before $(cut -d' ' -f1-3 /proc/loadavg); strongSwan $(/usr/lib/ipsec/charon --version 2>&1 | head -n1 | sed 's/^Linux //')"
	bench_phases "$0" "$res" "$ONLY" -n "$N" --suite "$SUITE" --bound "$BOUND"
	get() { bench_get "$res" "$1" "$2"; }
	ratio() { # a b [inverse]: a/b (or b/a), 2 decimals, "-" when unknown
		awk -v a="$1" -v b="$2" -v inv="${3:-0}" 'BEGIN {
			if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || a == 0 || b == 0) { print "-"; exit }
			printf "%.2fx\n", inv ? b / a : a / b }'
	}
	row() { # label key anchor [inverse]
		local m s
		m=$(get minigw "$2")
		s=$(get strongswan "$2")
		printf '%-40s %15s %15s %8s  %s\n' "$1" "$m" "$s" "$(ratio "$m" "$s" "${4:-0}")" "$3"
	}
	printf '%-40s %15s %15s %8s  %s\n' "figure (N=$N)" minigw strongSwan ratio "anchor (ike-anchors.md 1.5, X25519, IKE_SA+CHILD_SA)"
	row "tunnels up" up "-"
	row "tunnels/s, first initiate -> all up" rate "637/s at N=200, 253/s at N=3,000"
	row "time to all up (s)" span "-" 1
	row "  of which: last request answered (s)" fired "-" 1
	row "half / 90 % up on both sides (s)" t5090 "-"
	row "tunnels per CPU-second (both daemons)" cpurate "responder alone: 833/s/core at 3,000"
	row "RSS/tunnel initiator (KB)" rss_i "-" 1
	row "RSS/tunnel responder (KB)" rss_r "21.8 KB at 200, 18.0 KB at 3,000 (heap)" 1
	row "CPU initiator (ms/tunnel)" cpu_i "-" 1
	row "CPU responder (ms/tunnel)" cpu_r "1.2 ms/handshake at 3,000" 1
	row "idle RSS initiator, N configured (MB)" idle_i "-" 1
	row "idle RSS responder, N configured (MB)" idle_r "-" 1
	row "start -> READY, N configured (s)" ready "-" 1
	row "UDP rcvbuf drops (initiator / responder)" drops "-"
	row "SIGTERM -> exit, initiator (s)" stop_i "-" 1
	row "SIGTERM -> exit, responder (s)" stop_r "-" 1
	echo "# ratio: minigw over strongSwan for tunnels/s, strongSwan over minigw for the costs (>1x = minigw better)"
	for side in $ONLY; do echo "# $side: $(get "$side" notes)"; done
	echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

# ------------------------------------------------------------ one side
VI_PREFIX=vus$$
VI_MAX_SECONDS=$((BOUND + 300))
VI_PROG_TIMEOUT=$((VI_MAX_SECONDS + 60))
. "$SRC/tests/interop/lib/common.sh"
. "$SRC/tests/interop/lib/minigw.sh"
vi_init "bench_udp_scale_$PHASE" python3
bench_phase "$OUT"
# minigw holds one descriptor per TUN, the fire client one per request.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt $((N + 200)) ] ||
	fail "N=$N needs more than $(ulimit -n) open files (ulimit -n)"
vi_setup_netns || fail "namespaces"

# Starts N requests at once and waits, reading events, until every
# tunnel is up on both sides or the bound.  Prints "KEY value" lines:
# span (s, first request -> last up of both sides), fired (s, first
# request -> last one answered), t50 / t90 (s, half / 90 % up on both
# sides), up_i, up_r, refused,
# cpu_i / cpu_r (s of the daemons over the span), rss0_* / rss_* (KB,
# idle before and when all are up).
#   minigw SOCK OUT_I OUT_R N BOUND PID_I PID_R: "tunnel up tK" on the
#     control socket (one connection each), CHILD_UP lines in stdout;
#   vici SOCK_I SOCK_R N BOUND PID_I PID_R CONN CHILD: vici initiate
#     (timeout -1) pipelined on one connection, child-updown events.
FIRE_PY='
import os, select, socket, struct, sys, time

mode, a = sys.argv[1], sys.argv[2:]
tck = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck

def rss(pid):
    for l in open("/proc/%d/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    return 0

def vici_packet(ptype, name=None, msg=b""):
    b = bytes([ptype])
    if name is not None:
        b += bytes([len(name)]) + name
    b += msg
    return struct.pack(">I", len(b)) + b

def vici_kv(k, v):
    return bytes([3, len(k)]) + k + struct.pack(">H", len(v)) + v

def vici_top(msg):
    """top-level key/values of one vici message"""
    out, i, depth = {}, 0, 0
    while i < len(msg):
        t = msg[i]; i += 1
        if t in (1, 3, 4, 5):                      # named or valued
            if t != 5:
                n = msg[i]; k = msg[i + 1:i + 1 + n]; i += 1 + n
            if t in (3, 5):
                n = struct.unpack(">H", msg[i:i + 2])[0]; v = msg[i + 2:i + 2 + n]; i += 2 + n
                if t == 3 and depth == 0:
                    out[k] = v
            if t in (1, 4):
                depth += 1
        elif t in (2, 6):
            depth -= 1
    return out

class Vici:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
    def packets(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise SystemExit("vici connection closed")
        self.buf += d
        while len(self.buf) >= 4:
            n = struct.unpack(">I", self.buf[:4])[0]
            if len(self.buf) < 4 + n:
                break
            p, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
            yield p

def register(v, event):
    v.s.sendall(vici_packet(3, event))
    while True:
        for p in v.packets():
            if p[0] == 5:
                return
            raise SystemExit("event register refused: %r" % p[:1])

if mode == "minigw":
    sock, out_i, out_r, n, bound, pid_i, pid_r = a[0], a[1], a[2], int(a[3]), float(a[4]), int(a[5]), int(a[6])
else:
    sock_i, sock_r, n, bound, pid_i, pid_r, conn, child = a[0], a[1], int(a[2]), float(a[3]), int(a[4]), int(a[5]), a[6].encode(), a[7].encode()
pids = (pid_i, pid_r)
r0 = [rss(p) for p in pids]
c0 = [cpu(p) for p in pids]
ups = [0, 0]
refused = 0
t0 = time.monotonic()
end = t0 + bound
t50 = t90 = None

def mark():
    """when half and 90 % of the tunnels were up on both sides"""
    global t50, t90
    if t50 is None and 2 * min(ups) >= n:
        t50 = time.monotonic()
    if t90 is None and 10 * min(ups) >= 9 * n:
        t90 = time.monotonic()
if mode == "minigw":
    files = [open(out_i, "rb"), open(out_r, "rb")]
    tails = [b"", b""]

    def read_events():
        """count the CHILD_UP lines appended since the last call"""
        got = False
        for j, f in enumerate(files):
            d = f.read()
            if d:
                got = True
                tails[j] += d
                lines = tails[j].split(b"\n")
                tails[j] = lines.pop()
                ups[j] += sum(1 for l in lines if l.startswith(b"EVENT CHILD_UP "))
                mark()
        return got

    conns = []
    for k in range(1, n + 1):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(b"tunnel up t%d\n" % k)
        conns.append(s)
        read_events()
    for s in conns:
        ans = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            ans += d
        s.close()
        if not ans.endswith(b": ok\n"):
            refused += 1
    fired = time.monotonic()
    while min(ups) < n and time.monotonic() < end:
        if not read_events():
            time.sleep(0.002)
else:
    ev = [Vici(sock_i), Vici(sock_r)]
    for v in ev:
        register(v, b"child-updown")
    cmd = Vici(sock_i)
    req = vici_kv(b"child", child) + vici_kv(b"ike", conn) + vici_kv(b"timeout", b"-1") + vici_kv(b"init-limits", b"no")
    cmd.s.sendall(vici_packet(0, b"initiate", req) * n)
    answers, fired = 0, end
    socks = {v.s: j for j, v in enumerate(ev)}
    socks[cmd.s] = 2
    while (min(ups) < n or answers < n) and time.monotonic() < end:
        r, _, _ = select.select(list(socks), [], [], max(0.0, end - time.monotonic()))
        for s in r:
            j = socks[s]
            v = cmd if j == 2 else ev[j]
            for p in v.packets():
                if j == 2:
                    answers += 1
                    if answers == n:
                        fired = time.monotonic()
                    if p[0] != 1 or vici_top(p[1:]).get(b"success") != b"yes":
                        refused += 1
                elif p[0] == 7:
                    m = p[2 + p[1]:]
                    if vici_top(m).get(b"up") == b"yes":
                        ups[j] += 1
                        mark()
t1 = time.monotonic()
c1 = [cpu(p) for p in pids]
r1 = [rss(p) for p in pids]
print("span %.3f\nfired %.3f" % (t1 - t0, fired - t0))
print("t50 %s\nt90 %s" % tuple("%.3f" % (t - t0) if t else "-" for t in (t50, t90)))
print("up_i %d\nup_r %d\nrefused %d" % (ups[0], ups[1], refused))
print("cpu_i %.2f\ncpu_r %.2f" % (c1[0] - c0[0], c1[1] - c0[1]))
print("rss0_i %d\nrss0_r %d\nrss_i %d\nrss_r %d" % (r0[0], r0[1], r1[0], r1[1]))
'

# Figures from the fire client's lines (in $VI_RUN/fire.txt).
fv() { awk -v k="$1" '$1 == k { print $2 }' "$VI_RUN/fire.txt"; }
report() {
	local up span
	up=$(($(fv up_i) < $(fv up_r) ? $(fv up_i) : $(fv up_r)))
	span=$(fv span)
	put up "$up"
	put span "$span"
	put fired "$(fv fired)"
	put t5090 "$(fv t50) / $(fv t90)"
	put cpurate "$(awk -v c="$(fv cpu_i)" -v d="$(fv cpu_r)" -v n="$up" 'BEGIN { if (c + d > 0) printf "%.0f", n / (c + d) }')"
	[ "$up" = "$N" ] && put rate "$(awk -v n="$N" -v s="$span" 'BEGIN { printf "%.0f", n / s }')"
	put rss_i "$(awk -v a="$(fv rss0_i)" -v b="$(fv rss_i)" -v n="$up" 'BEGIN { if (n) printf "%.1f", (b - a) / n }')"
	put rss_r "$(awk -v a="$(fv rss0_r)" -v b="$(fv rss_r)" -v n="$up" 'BEGIN { if (n) printf "%.1f", (b - a) / n }')"
	put cpu_i "$(awk -v c="$(fv cpu_i)" -v n="$up" 'BEGIN { if (n) printf "%.2f", c * 1000 / n }')"
	put cpu_r "$(awk -v c="$(fv cpu_r)" -v n="$up" 'BEGIN { if (n) printf "%.2f", c * 1000 / n }')"
	put idle_i "$(awk -v a="$(fv rss0_i)" 'BEGIN { printf "%.1f", a / 1024 }')"
	put idle_r "$(awk -v a="$(fv rss0_r)" 'BEGIN { printf "%.1f", a / 1024 }')"
}

# udp_drops SIDE: UDP datagrams the namespace dropped for want of
# receive buffer (RcvbufErrors), the usual cause of a retransmission here.
udp_drops() {
	ip netns exec "$(vi_ns "$1")" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $6 }' /proc/net/snmp
}

# stop_timed KEY PID: SIGTERM, then the seconds until PID is gone (bounded
# at 120 s, then SIGKILL) as KEY.
stop_timed() {
	local t0 i
	t0=$(date +%s%N)
	kill -TERM "$2" 2>/dev/null
	for ((i = 0; i < 2400; i++)); do
		vi_alive "$2" || break
		sleep 0.05
	done
	if vi_alive "$2"; then
		kill -KILL "$2" 2>/dev/null
		put "$1" ">120"
	else
		put "$1" "$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	fi
}

if [ "$PHASE" = minigw ]; then
	MINIGW=${MINIGW:-$VPNR_BUILD_DIR/examples/minigw/minigw}
	[ -x "$MINIGW" ] || fail "minigw not built in $VPNR_BUILD_DIR"
	[ -c /dev/net/tun ] || fail "no /dev/net/tun"
	# Tunnel k (1..N): outer 10.1.x.y (left) <-> 10.2.x.y (right), inner
	# 169.254.16.0/30 onwards, TUN mgw<k-1>, PSK from a file; "respond"
	# on both sides: the initiator's tunnels start only when told.
	addr() { echo "$1.$((($2 - 1) / 250)).$((($2 - 1) % 250 + 1))"; }
	inner() { local o=$((($2 - 1) * 4)); echo "169.254.$((16 + o / 256)).$((o % 256 + $1))/30"; }
	# The responder's half-open limits off, as strongSwan's are in its
	# phase (dos_protection = no, thresholds 1000000, no half-open cap).
	MG_DOS="cookie_threshold cookie_threshold_ip block_threshold half_open_limit"
	mg_psk
	for side in left right; do
		if [ $side = left ]; then l=10.1 r=10.2 h=1 wan=wanL gw=$VI_RIGHT_WAN; else l=10.2 r=10.1 h=2 wan=wanR gw=$VI_LEFT_WAN; fi
		{
			printf 'global:\n  control_socket: %s\n  log_level: warning\n' "$VI_RUN/$side.sock"
			if [ $side = right ]; then for k in $MG_DOS; do printf '  %s: 1048576\n' "$k"; done; fi
			printf 'tunnels:\n'
			for ((k = 1; k <= N; k++)); do
				printf '  - name: t%d\n    local: %s\n    remote: %s\n' $k "$(addr $l $k)" "$(addr $r $k)"
				printf '    psk_file: %s\n    ike_proposals: [%s]\n    esp_proposals: [%s]\n' "$VI_RUN/psk" "$IKE_PROP" "$ESP_PROP"
				printf '    role: respond\n    force_encap: true\n    address: %s\n' "$(inner $h $k)"
			done
		} >"$VI_RUN/$side.yaml"
		# The outer addresses, and a route per peer address that makes
		# the kernel pick the tunnel's own source (minigw binds to any).
		for ((k = 1; k <= N; k++)); do
			echo "address add $(addr $l $k)/32 dev $wan"
			echo "route add $(addr $r $k)/32 via $gw dev $wan src $(addr $l $k)"
		done >"$VI_RUN/$side.ipbatch"
		ip -n "$(vi_ns $side)" -batch "$VI_RUN/$side.ipbatch" || fail "outer addresses ($side)"
		"$MINIGW" -c "$VI_RUN/$side.yaml" --check >"$VI_RUN/$side.check" 2>&1 ||
			fail "minigw --check $side: $(head -c 300 "$VI_RUN/$side.check")"
	done
	ready=""
	for side in right left; do
		t0=$(date +%s%N)
		vi_start_ours $side "mg-$side" "$MINIGW" -c "$VI_RUN/$side.yaml" --foreground
		vi_wait_for $((30 + N / 20)) vi_grep_out "mg-$side" '^READY' ||
			fail "minigw $side not READY: $(tail -n 3 "$VI_RUN/mg-$side.err")"
		ready="$ready $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
		# vi_start_ours records timeout(1); minigw is its child
		eval "pid_$side=\$(cat /proc/\$(cat \$VI_RUN/mg-$side.pid)/task/*/children | awk '{ print \$1 }')"
	done
	put ready "$(echo "$ready" | awk '{ print $1 " / " $2 }')"
	note "READY (right / left, N TUNs each): $ready s; TUNs in left: $(ip -n "$VI_NS_LEFT" -o link show | grep -c ' mgw')"
	# shellcheck disable=SC2154  # pid_left / pid_right come from the eval
	python3 -c "$FIRE_PY" minigw "$VI_RUN/left.sock" "$VI_RUN/mg-left.out" "$VI_RUN/mg-right.out" \
		"$N" "$BOUND" "$pid_left" "$pid_right" >"$VI_RUN/fire.txt" || fail "fire client: $(cat "$VI_RUN/fire.txt")"
	report
	# The control socket's own view, and what the responder refused.
	shown=$(mg_ctl left show tunnels 2>/dev/null | grep -cw up)
	cookies=$(mg_ctl right metrics 2>/dev/null | awk '/^minigw_ike_refused_total\{reason="cookie"\}/ { print $2 }')
	put drops "$(udp_drops left) / $(udp_drops right)"
	# shellcheck disable=SC2154
	stop_timed stop_i "$pid_left"
	stop_timed stop_r "$pid_right"
	put notes "minigw $("$MINIGW" --version | head -n1 | awk '{ print $2 }'), one TUN per tunnel, outer address pair per tunnel; $(fv refused) refused requests; 'show tunnels' on the initiator: $shown up; responder's global ${MG_DOS// /, } all 1048576 (strongSwan: dos_protection = no); COOKIEs it demanded: ${cookies:-?}"
	exit 0
fi

if [ "$PHASE" = strongswan ]; then
	# ike-anchors.md 1.5: logging off, no reuse, no DoS protection, a
	# big IKE_SA table, 32 threads.  Replaces common.sh's version (which
	# logs) for mg_charon_run.
	vi_write_strongswan_conf() {
		cat >"$VI_RUN/$1/strongswan.conf" <<EOF
charon {
    load_modular = no
    load = $VI_SS_PLUGINS
    install_virtual_ip = no
    reuse_ikesa = no
    dos_protection = no
    cookie_threshold = 1000000
    block_threshold = 1000000
    init_limit_half_open = 0
    ikesa_table_size = 4096
    ikesa_table_segments = 16
    threads = 32
    syslog {
        daemon {
            default = -1
        }
        auth {
            default = -1
        }
    }
    plugins {
        kernel-netlink {
            fwmark = 0x4242
        }
        vici {
            socket = unix://$VI_RUN/$1/run/charon.vici
        }
    }
}
EOF
	}
	# common.sh's connection (TS 0/0, IDs = addresses, PSK), one IKE_SA
	# per initiate (unique = never), no DPD during the run.
	VI_SWAN_EXTRA="unique = never"
	VI_SS_DPD=0s
	for side in left right; do
		mkdir -p "$VI_RUN/$side"
		vi_write_swanctl_conf $side "$IKE_PROP" "$ESP_PROP" none "$VI_PSK"
	done
	ready=""
	for side in right left; do
		t0=$(date +%s%N)
		mg_charon_run $side || fail "charon $side"
		ready="$ready $(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')"
	done
	put ready "$(echo "$ready" | awk '{ print $1 " / " $2 }')"
	python3 -c "$FIRE_PY" vici "$(vi_vici left | sed 's|^unix://||')" "$(vi_vici right | sed 's|^unix://||')" \
		"$N" "$BOUND" "$(cat "$VI_RUN/left/charon.mypid")" "$(cat "$VI_RUN/right/charon.mypid")" "$VI_CONN" "$VI_CHILD" \
		>"$VI_RUN/fire.txt" || fail "fire client: $(cat "$VI_RUN/fire.txt")"
	report
	put drops "$(udp_drops left) / $(udp_drops right)"
	stop_timed stop_i "$(cat "$VI_RUN/left/charon.mypid")"
	stop_timed stop_r "$(cat "$VI_RUN/right/charon.mypid")"
	put notes "one connection initiated $N times over vici (timeout -1), kernel-libipsec, $(fv refused) refused initiates; RSS growth from charon idle with the connection loaded"
	exit 0
fi
fail "unknown phase $PHASE"
