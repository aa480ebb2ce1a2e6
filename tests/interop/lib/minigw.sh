# shellcheck shell=bash
# Helpers for the minigw scenario tests (tests/interop/test_minigw_*.sh),
# on top of common.sh: minigw started from a configuration file in the
# left namespace, extra "cloud gateway" namespaces (strongSwan with
# kernel-libipsec + BIRD), and BIRD started with its pid recorded so that
# vi_cleanup stops it.
#
#   mg_init NAME              vi_init + minigw and bird present
#   mg_psk                    write $VI_RUN/psk ($VI_PSK)
#   mg_start NAME CONF        minigw -c CONF in left; waits for READY
#   mg_ctl NAME ARGS...       minigw ctl -s $VI_RUN/NAME.sock ARGS...
#   mg_netns_add NS           one more namespace of this run
#   mg_cloud SIDE IF WAN_L WAN_R LEN   a namespace SIDE (use a name with
#                             $VI_PREFIX) joined to left by a veth (left:
#                             IF with WAN_L, SIDE: wan with WAN_R)
#   mg_charon SIDE LOCAL REMOTE IKE ESP [CHILD_EXTRA]
#                             charon in SIDE, one route-based connection
#                             ($VI_CONN/$VI_CHILD, TS 0/0, responder);
#                             env MG_SS_VERSION (2), MG_SS_PSK ($VI_PSK),
#                             MG_SS_DPD (10s), MG_SS_CONN_EXTRA (lines)
#   mg_charon_run SIDE        the same charon with SIDE's own swanctl.conf
#   mg_bird SIDE CONF_FILE    BIRD 2 in SIDE's namespace; socket
#                             $VI_RUN/SIDE/bird.ctl
#   mg_birdc SIDE ARGS...
#   mg_bird_stop SIDE         stop the BIRD mg_bird started in SIDE
#   mg_tcp_check SRC_NS DST_NS DST_IP PORT BYTES
#                             BYTES random bytes over TCP from SRC_NS to
#                             DST_IP, checked by SHA-256 on arrival

MINIGW=${MINIGW:-}

mg_init() {
	vi_init "$1" bird birdc python3
	MINIGW=${MINIGW:-$VPNR_BUILD_DIR/examples/minigw/minigw}
	[ -x "$MINIGW" ] && [ -f "$MINIGW" ] || vi_skip "minigw not built in $VPNR_BUILD_DIR"
	[ -c /dev/net/tun ] || vi_skip "no /dev/net/tun"
}

mg_psk() { printf '%s\n' "$VI_PSK" >"$VI_RUN/psk"; }

mg_start() { # name conf
	local name=$1 conf=$2
	"$MINIGW" -c "$conf" --check >"$VI_RUN/$name.check" 2>&1 ||
		{ vi_log "minigw --check: $(cat "$VI_RUN/$name.check")"; return 1; }
	vi_start_ours left "$name" "$MINIGW" -c "$conf" --foreground ||
		return 1
	vi_wait_for 10 vi_grep_out "$name" '^READY' ||
		{ vi_log "minigw $name did not start: $(tail -3 "$VI_RUN/$name.err")"; return 1; }
}

mg_ctl() { # name args...
	local name=$1
	shift
	timeout 10 "$MINIGW" ctl -s "$VI_RUN/$name.sock" "$@"
}

# mg_netns_add NS: one more namespace of this run (vi_cleanup deletes it).
mg_netns_add() {
	VI_NAMESPACES="$VI_NAMESPACES $1"
	echo "$VI_NAMESPACES" >"$VI_RUN/namespaces"
	timeout 10 ip netns add "$1" || return 1
	ip -n "$1" link set lo up
}

# mg_cloud SIDE IF WAN_L WAN_R LEN: another cloud gateway namespace.
mg_cloud() {
	local side=$1 ifn=$2 l=$3 r=$4 len=$5 ns
	ns=$(vi_ns "$side")
	mg_netns_add "$ns" || return 1
	ip link add "$ifn" netns "$VI_NS_LEFT" type veth peer name wan netns "$ns" || return 1
	ip -n "$VI_NS_LEFT" addr add "$l/$len" dev "$ifn"
	ip -n "$VI_NS_LEFT" link set "$ifn" up
	ip -n "$ns" addr add "$r/$len" dev wan
	ip -n "$ns" link set wan up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	vi_wait_for 5 ip netns exec "$VI_NS_LEFT" ping -c1 -W1 -q "$r"
}

# mg_charon SIDE LOCAL REMOTE IKE ESP [CHILD_EXTRA]
mg_charon() {
	local side=$1 l=$2 r=$3 ike=$4 esp=$5 extra=${6:-}
	mkdir -p "$VI_RUN/$side"
	cat >"$VI_RUN/$side/swanctl.conf" <<EOF
connections {
    $VI_CONN {
        version = ${MG_SS_VERSION:-2}
        local_addrs = $l
        remote_addrs = $r
        proposals = $ike
        dpd_delay = ${MG_SS_DPD:-10s}
        keyingtries = 0
        ${MG_SS_CONN_EXTRA:-}
        local {
            auth = psk
            id = $l
        }
        remote {
            auth = psk
            id = $r
        }
        children {
            $VI_CHILD {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = $esp
                mode = tunnel
                start_action = none
                $extra
            }
        }
    }
}
secrets {
    ike-$VI_CONN {
        id-l = $l
        id-r = $r
        secret = "${MG_SS_PSK:-$VI_PSK}"
    }
}
EOF
	mg_charon_run "$side"
}

# mg_charon_run SIDE: charon in SIDE with $VI_RUN/SIDE/swanctl.conf as
# written by the caller (mg_charon, or a bench's own connections).
mg_charon_run() {
	local side=$1 ns pid
	ns=$(vi_ns "$side")
	mkdir -p "$VI_RUN/$side/run"
	# a killed charon leaves both behind
	rm -f "$VI_RUN/$side/run/charon.pid" "$VI_RUN/$side/run/charon.vici"
	vi_write_strongswan_conf "$side"
	STRONGSWAN_CONF="$VI_RUN/$side/strongswan.conf" setsid \
		ip netns exec "$ns" sh -c "mount --bind '$VI_RUN/$side/run' /run && exec '$VI_CHARON'" \
		>>"$VI_RUN/$side/charon.stdout" 2>&1 </dev/null &
	pid=$!
	vi_record_pid "charon-$side" "$pid"
	echo "$pid" >"$VI_RUN/$side/charon.mypid"
	vi_wait_for 10 test -S "$VI_RUN/$side/run/charon.vici" ||
		{ vi_log "charon $side did not start"; return 1; }
	vi_wait_for 10 ip -n "$ns" link show ipsec0 ||
		{ vi_log "no ipsec0 in $ns"; return 1; }
	vi_swan "$side" --load-all --file "$VI_RUN/$side/swanctl.conf" \
		>"$VI_RUN/$side/swanctl-load.out" 2>&1 ||
		{ vi_log "swanctl $side: $(cat "$VI_RUN/$side/swanctl-load.out")"; return 1; }
}

# mg_bird SIDE CONF: BIRD in SIDE's namespace (daemonizes; pid recorded).
mg_bird() {
	local side=$1 conf=$2 ns
	ns=$(vi_ns "$side")
	mkdir -p "$VI_RUN/$side"
	ip netns exec "$ns" bird -c "$conf" -s "$VI_RUN/$side/bird.ctl" \
		-P "$VI_RUN/$side/bird.pid" || return 1
	vi_wait_for 5 test -s "$VI_RUN/$side/bird.pid" || return 1
	vi_record_pid "bird-$side" "$(cat "$VI_RUN/$side/bird.pid")"
}

mg_birdc() { # side args...
	local side=$1
	shift
	timeout 10 birdc -s "$VI_RUN/$side/bird.ctl" "$@"
}

mg_bird_stop() { # side
	local side=$1 pid st
	pid=$(cat "$VI_RUN/$side/bird.pid" 2>/dev/null) || return 0
	st=$(awk -v p="$pid" '$1 == "bird-'"$side"'" && $2 == p { print $3 }' "$VI_RUN/pids" | tail -n1)
	vi_kill_pid "$pid" "$st" 5 && rm -f "$VI_RUN/$side/bird.pid"
}

# mg_bird_conf FILE ROUTER_ID LOCAL_AS LOCAL NEIGHBOR PEER_AS MULTIHOP EXPORT_PFX [HOLD]
# HOLD (default 180 s, keepalive a third of it) also shortens BIRD's
# error wait to 1-10 s, so that a session lost in a failure test comes
# back as soon as the tunnel does (BIRD's default waits 60-300 s).
mg_bird_conf() {
	local f=$1 rid=$2 las=$3 l=$4 n=$5 pas=$6 mh=$7 pfx=$8 hold=${9:-180} hop ew=""
	[ "$mh" = 1 ] && hop="direct;" || hop="multihop $mh;"
	[ -n "${9:-}" ] && ew="error wait time 1, 10;"
	cat >"$f" <<EOF
log "$f.log" all;
router id $rid;
protocol device { }
protocol static cloudnet {
    ipv4;
    route $pfx blackhole;
}
protocol bgp ours {
    local $l as $las;
    neighbor $n as $pas;
    $hop
    hold time $hold;
    keepalive time $((hold / 3));
    connect retry time 2;
    $ew
    ipv4 {
        import all;
        export where proto = "cloudnet";
    };
}
EOF
}

mg_bird_established() { mg_birdc "$1" show protocols ours 2>/dev/null | grep -q Established; }
mg_bird_has() { mg_birdc "$1" show route "$2" 2>/dev/null | grep -qF "$2"; }

# mg_aws_cloud SIDE N WAN_R WAN_L [HOLD]: one AWS-like tunnel endpoint
# (scenarios 3 and 4): mg_aws_charon, then BIRD (AS 64512) peering with
# 169.254.2N.1 and advertising 172.16.0.0/16 (HOLD: see mg_bird_conf).
# The namespace must exist.
mg_aws_cloud() {
	local side=$1 n=$2
	mg_aws_charon "$@" || return 1
	mg_bird_conf "$VI_RUN/$side/bird.conf" "169.254.2$n.2" 64512 "169.254.2$n.2" \
		"169.254.2$n.1" 65050 1 172.16.0.0/16 ${5:-}
	mg_bird "$side" "$VI_RUN/$side/bird.conf"
}

# mg_aws_charon SIDE N WAN_R WAN_L: strongSwan in SIDE (AWS's suite) with
# the inside address 169.254.2N.2/30 on its ipsec0; again after a restart.
mg_aws_charon() {
	local side=$1 n=$2 r=$3 l=$4
	mg_charon "$side" "$r" "$l" aes256gcm16-prfsha256-ecp256 aes256gcm16 || return 1
	ip -n "$(vi_ns "$side")" addr add "169.254.2$n.2/30" dev ipsec0
}

# mg_ecmp [IF1 IF2] / mg_single_path N: the left's route to 172.16.0.0/16
# is BGP's, multipath over aws1 and aws2 (or IF1 and IF2) / over awsN
# alone ($VI_RUN/route.txt has it).
mg_ecmp() {
	ip -n "$VI_NS_LEFT" route show 172.16.0.0/16 >"$VI_RUN/route.txt"
	grep -q "proto bgp" "$VI_RUN/route.txt" && grep -q "nexthop dev ${1:-aws1} " "$VI_RUN/route.txt" &&
		grep -q "nexthop dev ${2:-aws2} " "$VI_RUN/route.txt"
}
mg_single_path() {
	ip -n "$VI_NS_LEFT" route show 172.16.0.0/16 >"$VI_RUN/route.txt"
	grep -q "dev aws$1 proto bgp" "$VI_RUN/route.txt" && ! grep -q "aws$((3 - $1))" "$VI_RUN/route.txt"
}

# mg_aws_conf FILE N_TUNNELS [EXPORT2]: minigw with N tunnels (aws1 to
# 203.0.113.2, aws2 to 198.51.100.2, aws3 to 192.0.2.2), one neighbour
# per tunnel; EXPORT2 is the export policy of neighbour 2.  Env:
# MG_AWS_LOCALS / MG_AWS_REMOTES replace the outside addresses (lists),
# MG_AWS_TUNNEL_EXTRA is added to every tunnel (YAML lines, 4 spaces).
mg_aws_conf() {
	local f=$1 n=$2 exp2=${3:-lan-only} i
	# shellcheck disable=SC2206
	local -a rem=(x ${MG_AWS_REMOTES:-203.0.113.2 198.51.100.2 192.0.2.2})
	# shellcheck disable=SC2206
	local -a loc=(x ${MG_AWS_LOCALS:-203.0.113.1 198.51.100.1 192.0.2.1})
	{
		printf 'global:\n  router_id: 192.0.2.100\n  local_as: 65050\n'
		printf '  control_socket: %s\ntunnels:\n' "$VI_RUN/gw.sock"
		for ((i = 1; i <= n; i++)); do
			printf '  - name: aws%d\n    local: %s\n    remote: %s\n' $i "${loc[$i]}" "${rem[$i]}"
			printf '    psk_file: psk\n    ike_proposals: [aes256gcm16-prfsha256-ecp256]\n'
			printf '    esp_proposals: [aes256gcm16]\n    address: 169.254.2%d.1/30\n' $i
			printf '    interface: aws%d\n    mtu: 1422\n    mss: 1382\n' $i
			[ -z "${MG_AWS_TUNNEL_EXTRA:-}" ] || printf '%s\n' "$MG_AWS_TUNNEL_EXTRA"
		done
		printf 'prefix_lists:\n  - name: lan-only\n    entries:\n'
		printf '      - {prefix: 192.168.2.0/24, action: permit}\n'
		printf '  - name: lan-and-dmz\n    entries:\n'
		printf '      - {prefix: 192.168.0.0/16, le: 24, action: permit}\n'
		printf 'bgp:\n  neighbors:\n'
		for ((i = 1; i <= n; i++)); do
			printf '    - address: 169.254.2%d.2\n      remote_as: 64512\n' $i
			printf '      hold_time: 30\n      keepalive: 10\n      connect_retry: 2\n'
			printf '      export: %s\n' "$([ $i = 2 ] && echo "$exp2" || echo lan-only)"
		done
		printf '  networks: [192.168.2.0/24, 192.168.3.0/24]\n'
	} >"$f"
}

# mg_tcp_check SRC_NS DST_NS DST_IP PORT BYTES
mg_tcp_check() {
	local src=$1 dst=$2 ip=$3 port=$4 n=$5 want got
	head -c "$n" /dev/urandom >"$VI_RUN/blob.$port"
	rm -f "$VI_RUN/tcp-recv.$port"
	ip netns exec "$dst" timeout 30 python3 -c '
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())' "$port" >"$VI_RUN/tcp-recv.$port" 2>&1 &
	vi_record_pid "tcp-recv-$port" $!
	vi_wait_for 5 sh -c "ip netns exec $dst ss -ltn | grep -q :$port" ||
		{ vi_log "TCP receiver on $port did not listen"; return 1; }
	ip netns exec "$src" timeout 30 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[3]))); s.sendall(open(sys.argv[2], "rb").read())
s.shutdown(socket.SHUT_WR); s.recv(1)' "$ip" "$VI_RUN/blob.$port" "$port" ||
		{ vi_log "TCP send to $ip:$port failed"; return 1; }
	vi_wait_for 10 test -s "$VI_RUN/tcp-recv.$port" || return 1
	want="$n $(sha256sum "$VI_RUN/blob.$port" | cut -d' ' -f1)"
	got=$(cat "$VI_RUN/tcp-recv.$port")
	vi_log "TCP transfer to $ip:$port: $got"
	[ "$got" = "$want" ]
}
