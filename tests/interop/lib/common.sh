# shellcheck shell=bash
# Shared helpers for the interop tests (tests/interop/test_*.sh): network
# namespaces, strongSwan's charon with its userspace kernel-libipsec
# data plane, our programs in the left namespace, bounded waits and a
# cleanup that touches only what this run created.  Recipe and gotchas:
# /work/shared/reference/interop-harness.md.
#
#   . "$(dirname "$0")/lib/common.sh"
#   vi_init test_name             # root/tools check (exit 77), run dir, trap
#   vi_setup_netns [--hosts]      # left/right (+ lhost/rhost) namespaces
#   vi_start_charon right aes256-sha1-modp1024 aes256-sha256 none
#   vi_start_ours left tun vpnr_tunnel --local 203.0.113.1 ...
#   vi_wait_for 20 vi_swan_child_installed right || vi_fail "no CHILD_SA"
#   vi_pass                       # or just exit 0; cleanup runs from the trap
#
# Topology (names get the per-run prefix $VI_PREFIX, default "vi<pid>"):
#
#   $VI_NS_LHOST --lan0/eth0-- $VI_NS_LEFT ==wanL/wanR== $VI_NS_RIGHT --lan0/eth0-- $VI_NS_RHOST
#   192.168.2.10/24  lan0 192.168.2.1   203.0.113.1   203.0.113.2   lan0 172.16.0.1  172.16.0.10/16
#   (hosts only with --hosts)          ours (left)      strongSwan / BIRD / GoBGP (right)
#
# Functions (all return non-zero on failure; none calls exit except
# vi_init/vi_skip/vi_fail/vi_pass):
#   vi_init NAME [TOOL...]    exit 77 unless root and ip, timeout, charon,
#                             swanctl (and TOOLs) exist; set VI_RUN, the
#                             EXIT/INT/TERM trap and a watchdog of
#                             $VI_MAX_SECONDS (default 300) for the script.
#   vi_skip MSG / vi_fail MSG / vi_pass   exit 77 / 1 (dumping logs) / 0.
#   vi_log MSG                timestamped line on stderr.
#   vi_setup_netns [--hosts]  create namespaces, the WAN veth, optional LANs.
#   vi_ns SIDE                namespace name of left|right|lhost|rhost.
#   vi_bin NAME               path of a program we built (examples/NAME).
#   vi_start_charon SIDE IKE ESP START [PSK]
#                             write strongswan.conf + swanctl.conf for SIDE
#                             (connection $VI_CONN, child $VI_CHILD, IDs =
#                             WAN addresses, TS 0/0, keyingtries=0), start
#                             charon with a private /run and load the
#                             connection.  START is none|start|trap.  PSK
#                             defaults to $VI_PSK.  Extra swanctl.conf
#                             connection lines: $VI_SWAN_EXTRA; child lines:
#                             $VI_SWAN_CHILD_EXTRA.
#   vi_stop_charon SIDE       stop it (SIGTERM, then SIGKILL) and wait.
#   vi_swan SIDE ARGS...      swanctl ARGS against SIDE's charon (timeout 10).
#   vi_swan_ike_established SIDE / vi_swan_child_installed SIDE
#                             true when an IKE_SA is ESTABLISHED / a child
#                             is INSTALLED (for vi_wait_for).
#   vi_swan_child_spis SIDE   print "IN OUT" SPIs (hex, no 0x) of every
#                             INSTALLED child of $VI_CHILD, one per line.
#   vi_swan_esp_algs SIDE     print the ESP algorithm string of the newest
#                             INSTALLED child, e.g. AES_CBC-256/HMAC_SHA1_96.
#   vi_start_ours SIDE NAME PROG ARGS...
#                             run PROG (vi_bin name or a path) in SIDE's
#                             namespace under timeout $VI_PROG_TIMEOUT
#                             (default 120 s); stdout -> $VI_RUN/NAME.out,
#                             stderr -> $VI_RUN/NAME.err; pid recorded.
#   vi_stop NAME              SIGTERM (then SIGKILL after 5 s) a program
#                             started by vi_start_ours, wait for it and
#                             return its exit status (0 after a clean
#                             shutdown; sanitizer reports make it non-zero).
#   vi_wait_for TIMEOUT CMD...  poll CMD every 0.1 s for TIMEOUT seconds.
#   vi_grep_out NAME REGEX    grep -E REGEX in $VI_RUN/NAME.out (quiet).
#   vi_cleanup                kill our recorded pids (pid + start time must
#                             match), anything left in our namespaces,
#                             delete the namespaces and $VI_RUN (kept if
#                             VI_KEEP=1).  Runs from the trap; idempotent.
#   vi_dump                   print the tails of every log in $VI_RUN.
#
# Environment: VPNR_BUILD_DIR (where our programs are; default
# $VPNR_SOURCE_DIR/build), VI_PREFIX, VI_RUN, VI_KEEP, VI_MAX_SECONDS,
# VI_PROG_TIMEOUT, VI_PSK, VI_CONN (default "peer"), VI_CHILD ("vti").

VI_PREFIX=${VI_PREFIX:-vi$$}
VI_RUN=${VI_RUN:-/tmp/vpnr-interop-$VI_PREFIX}
VI_NS_LEFT=$VI_PREFIX-left
VI_NS_RIGHT=$VI_PREFIX-right
VI_NS_LHOST=$VI_PREFIX-lhost
VI_NS_RHOST=$VI_PREFIX-rhost
VI_LEFT_WAN=203.0.113.1
VI_RIGHT_WAN=203.0.113.2
VI_WAN_LEN=24
VI_LEFT_LAN=192.168.2.0/24
VI_LEFT_LAN_GW=192.168.2.1
VI_LHOST_IP=192.168.2.10
VI_RIGHT_LAN=172.16.0.0/16
VI_RIGHT_LAN_GW=172.16.0.1
VI_RHOST_IP=172.16.0.10
VI_LEFT_APIPA=169.254.21.1
VI_RIGHT_APIPA=169.254.21.2
VI_PSK=${VI_PSK:-interop-test-psk-0123456789}
VI_CONN=${VI_CONN:-peer}
VI_CHILD=${VI_CHILD:-vti}
VI_CHARON=${VI_CHARON:-/usr/lib/ipsec/charon}
VI_PROG_TIMEOUT=${VI_PROG_TIMEOUT:-120}
VI_MAX_SECONDS=${VI_MAX_SECONDS:-300}
VI_SS_PLUGINS=${VI_SS_PLUGINS:-random nonce openssl aes sha1 sha2 hmac gmp curve25519 kdf pem pkcs1 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici}
VI_NAMESPACES=""
VI_NAME=${VI_NAME:-interop}
VI_WATCHDOG=""
VI_CLEANED=0

vi_log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "$VI_NAME" "$*" >&2; }

vi_skip() { vi_log "SKIP: $*"; exit 77; }

vi_fail() {
	vi_log "FAIL: $*"
	vi_dump
	exit 1
}

vi_pass() { vi_log "PASS"; exit 0; }

vi_dump() {
	local f
	[ -d "$VI_RUN" ] || return 0
	for f in "$VI_RUN"/*.out "$VI_RUN"/*.err "$VI_RUN"/*/charon.log; do
		[ -s "$f" ] || continue
		echo "----- tail of $f" >&2
		tail -n "${VI_DUMP_LINES:-60}" "$f" >&2
	done
}

# vi_init NAME [TOOL...]
vi_init() {
	local t
	VI_NAME=$1
	shift
	[ "$(id -u)" = 0 ] || vi_skip "needs root (network namespaces)"
	for t in ip timeout setsid swanctl "$VI_CHARON" "$@"; do
		command -v "$t" >/dev/null 2>&1 || vi_skip "missing $t"
	done
	if [ -z "${VPNR_BUILD_DIR:-}" ]; then
		VPNR_BUILD_DIR=${VPNR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}/build
	fi
	[ ! -e "$VI_RUN" ] || vi_skip "$VI_RUN exists (stale run with the same prefix?)"
	mkdir -p "$VI_RUN" || vi_skip "cannot create $VI_RUN"
	: >"$VI_RUN/pids"
	trap 'vi_cleanup' EXIT
	trap 'vi_log "interrupted"; exit 1' INT TERM
	# Watchdog: a test never outlives VI_MAX_SECONDS, whatever hangs.
	# It polls once a second and quits as soon as this script is gone,
	# so it never signals a recycled pid and never outlives us by >1 s.
	local self=$$ st
	st=$(vi_starttime $$)
	(
		end=$((SECONDS + VI_MAX_SECONDS))
		while [ $SECONDS -lt $end ]; do
			sleep 1
			[ "$(vi_starttime $self)" = "$st" ] || exit 0
		done
		echo "[watchdog] $VI_NAME exceeded ${VI_MAX_SECONDS}s" >&2
		kill -TERM "$self" 2>/dev/null
	) &
	VI_WATCHDOG=$!
}

# Start time of a pid (field 22 of /proc/PID/stat), to never kill a
# recycled pid.
vi_starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# vi_alive PID: exists and is not a zombie.
vi_alive() {
	local s
	s=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) &&
		[ -n "$s" ] && [ "$s" != Z ]
}

vi_record_pid() { # name pid
	echo "$1 $2 $(vi_starttime "$2")" >>"$VI_RUN/pids"
}

# vi_kill_pid PID START [GRACE]: SIGTERM, wait, SIGKILL; only if START matches.
vi_kill_pid() {
	local pid=$1 st=$2 grace=${3:-5} i
	vi_alive "$pid" || return 0
	[ "$(vi_starttime "$pid")" = "$st" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		vi_alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		vi_alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

vi_ns() {
	case $1 in
	left) echo "$VI_NS_LEFT" ;;
	right) echo "$VI_NS_RIGHT" ;;
	lhost) echo "$VI_NS_LHOST" ;;
	rhost) echo "$VI_NS_RHOST" ;;
	*) echo "$1" ;;
	esac
}

vi_wan() { if [ "$1" = left ]; then echo $VI_LEFT_WAN; else echo $VI_RIGHT_WAN; fi; }
vi_peer_wan() { if [ "$1" = left ]; then echo $VI_RIGHT_WAN; else echo $VI_LEFT_WAN; fi; }

# vi_setup_netns [--hosts]
vi_setup_netns() {
	local ns hosts=0
	[ "${1:-}" = --hosts ] && hosts=1
	VI_NAMESPACES="$VI_NS_LEFT $VI_NS_RIGHT"
	[ $hosts = 1 ] && VI_NAMESPACES="$VI_NAMESPACES $VI_NS_LHOST $VI_NS_RHOST"
	echo "$VI_NAMESPACES" >"$VI_RUN/namespaces"
	for ns in $VI_NAMESPACES; do
		timeout 10 ip netns add "$ns" || return 1
		timeout 10 ip -n "$ns" link set lo up || return 1
	done
	timeout 10 ip link add wanL netns "$VI_NS_LEFT" type veth peer name wanR netns "$VI_NS_RIGHT" || return 1
	ip -n "$VI_NS_LEFT" addr add $VI_LEFT_WAN/$VI_WAN_LEN dev wanL
	ip -n "$VI_NS_LEFT" link set wanL up
	ip -n "$VI_NS_RIGHT" addr add $VI_RIGHT_WAN/$VI_WAN_LEN dev wanR
	ip -n "$VI_NS_RIGHT" link set wanR up
	if [ $hosts = 1 ]; then
		ip link add lan0 netns "$VI_NS_LEFT" type veth peer name eth0 netns "$VI_NS_LHOST" || return 1
		ip -n "$VI_NS_LEFT" addr add $VI_LEFT_LAN_GW/24 dev lan0
		ip -n "$VI_NS_LEFT" link set lan0 up
		ip -n "$VI_NS_LHOST" addr add $VI_LHOST_IP/24 dev eth0
		ip -n "$VI_NS_LHOST" link set eth0 up
		ip -n "$VI_NS_LHOST" route add default via $VI_LEFT_LAN_GW
		ip link add lan0 netns "$VI_NS_RIGHT" type veth peer name eth0 netns "$VI_NS_RHOST" || return 1
		ip -n "$VI_NS_RIGHT" addr add $VI_RIGHT_LAN_GW/16 dev lan0
		ip -n "$VI_NS_RIGHT" link set lan0 up
		ip -n "$VI_NS_RHOST" addr add $VI_RHOST_IP/16 dev eth0
		ip -n "$VI_NS_RHOST" link set eth0 up
		ip -n "$VI_NS_RHOST" route add default via $VI_RIGHT_LAN_GW
	fi
	for ns in "$VI_NS_LEFT" "$VI_NS_RIGHT"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	timeout 5 ip netns exec "$VI_NS_LEFT" ping -c1 -W2 -q $VI_RIGHT_WAN >/dev/null ||
		{ vi_log "WAN veth does not answer"; return 1; }
}

# vi_wait_for TIMEOUT CMD...: poll every 0.1 s.
vi_wait_for() {
	local t=$1 end
	shift
	end=$(($(date +%s%N) + ${t%.*} * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

vi_bin() {
	local n=$1 d
	case $n in */*) echo "$n"; return 0 ;; esac
	for d in "$VPNR_BUILD_DIR/examples" "$VPNR_BUILD_DIR" "$VPNR_BUILD_DIR/examples/minigw"; do
		[ -x "$d/$n" ] && { echo "$d/$n"; return 0; }
	done
	return 1
}

vi_vici() { echo "unix://$VI_RUN/$1/run/charon.vici"; }

# vi_swan SIDE ARGS...
vi_swan() {
	local side=$1
	shift
	# stderr (libstrongswan plugin noise of swanctl itself) -> a file
	timeout 10 ip netns exec "$(vi_ns "$side")" swanctl "$@" --uri "$(vi_vici "$side")" \
		2>>"$VI_RUN/swanctl.err"
}

vi_write_strongswan_conf() { # side
	local side=$1
	cat >"$VI_RUN/$side/strongswan.conf" <<EOF
# charon for the $side namespace; started with STRONGSWAN_CONF=<this file>
charon {
    # explicit plugin list, kernel-libipsec before kernel-netlink
    # (userspace ESP over the ipsec0 TUN: the kernel here has no ESP)
    load_modular = no
    load = $VI_SS_PLUGINS
    install_virtual_ip = no
    retransmit_tries = ${VI_SS_RETRANSMIT_TRIES:-3}
    retransmit_timeout = ${VI_SS_RETRANSMIT_TIMEOUT:-1.0}
    retransmit_base = ${VI_SS_RETRANSMIT_BASE:-1.4}
    filelog {
        charon {
            path = $VI_RUN/$side/charon.log
            time_format = %H:%M:%S
            default = 1
            ike = 2
            cfg = 2
            enc = ${VI_SS_ENC_LOG:-1}
            knl = 2
            flush_line = yes
        }
    }
    plugins {
        kernel-netlink {
            # neutralise libipsec's "0.0.0.0/0 dev ipsec0" in table 220
            fwmark = 0x4242
        }
        vici {
            socket = unix://$VI_RUN/$side/run/charon.vici
        }
    }
}
EOF
}

vi_write_swanctl_conf() { # side ike esp start psk
	local side=$1 ike=$2 esp=$3 start=$4 psk=$5 l r
	l=$(vi_wan "$side")
	r=$(vi_peer_wan "$side")
	cat >"$VI_RUN/$side/swanctl.conf" <<EOF
connections {
    $VI_CONN {
        version = 2
        local_addrs = $l
        remote_addrs = $r
        proposals = $ike
        dpd_delay = ${VI_SS_DPD:-10s}
        rekey_time = ${VI_SS_IKE_REKEY:-8h}
        keyingtries = 0
        ${VI_SWAN_EXTRA:-}
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
                start_action = $start
                dpd_action = ${VI_SS_DPD_ACTION:-restart}
                rekey_time = ${VI_SS_CHILD_REKEY:-1h}
                ${VI_SWAN_CHILD_EXTRA:-}
            }
        }
    }
}
secrets {
    ike-$VI_CONN {
        id-l = $l
        id-r = $r
        secret = "$psk"
    }
}
EOF
}

# vi_start_charon SIDE IKE ESP START [PSK]
vi_start_charon() {
	local side=$1 ike=$2 esp=$3 start=$4 psk=${5:-$VI_PSK} ns pid
	ns=$(vi_ns "$side")
	mkdir -p "$VI_RUN/$side/run"
	rm -f "$VI_RUN/$side/run/charon.pid" "$VI_RUN/$side/run/charon.vici"
	vi_write_strongswan_conf "$side"
	vi_write_swanctl_conf "$side" "$ike" "$esp" "$start" "$psk"
	# charon hard-codes /var/run/charon.pid: a private /run per side,
	# bind-mounted inside the mount namespace of "ip netns exec".
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
		{ vi_log "swanctl --load-all failed: $(grep -v 'opening directory' "$VI_RUN/$side/swanctl-load.out")"; return 1; }
}

vi_stop_charon() { # side
	local side=$1 pid st
	[ -f "$VI_RUN/$side/charon.mypid" ] || return 0
	pid=$(cat "$VI_RUN/$side/charon.mypid")
	st=$(awk -v p="$pid" '$2 == p { print $3 }' "$VI_RUN/pids" | tail -n1)
	vi_kill_pid "$pid" "$st" 5
	rm -f "$VI_RUN/$side/charon.mypid"
}

vi_swan_ike_established() { vi_swan "$1" --list-sas 2>/dev/null | grep -q "^$VI_CONN: .*ESTABLISHED"; }
vi_swan_child_installed() { vi_swan "$1" --list-sas 2>/dev/null | grep -q "^ *$VI_CHILD: .*INSTALLED"; }

# "IN OUT" per INSTALLED child of $VI_CHILD.
vi_swan_child_spis() {
	vi_swan "$1" --list-sas 2>/dev/null | awk -v c="$VI_CHILD" '
		$1 == c":" { inst = ($0 ~ /INSTALLED/); next }
		inst && $1 == "in" { i = $2; sub(/,$/, "", i); sub(/_i$/, "", i) }
		inst && $1 == "out" { o = $2; sub(/,$/, "", o); sub(/_o$/, "", o); print i, o; inst = 0 }'
}

vi_swan_esp_algs() {
	vi_swan "$1" --list-sas 2>/dev/null |
		awk -v c="$VI_CHILD" '$1 == c":" && /INSTALLED/ { s = $NF; sub(/^ESP:/, "", s); a = s } END { print a }'
}

vi_swan_ike_algs() {
	vi_swan "$1" --list-sas 2>/dev/null |
		awk '/^ +[A-Z0-9_]+-?[0-9]*\/[A-Z]/ && !/ESP:/ { print $1; exit }'
}

# vi_start_ours SIDE NAME PROG ARGS...
vi_start_ours() {
	local side=$1 name=$2 prog=$3 bin pid
	shift 3
	bin=$(vi_bin "$prog") || { vi_log "program $prog not built in $VPNR_BUILD_DIR"; return 1; }
	timeout "$VI_PROG_TIMEOUT" ip netns exec "$(vi_ns "$side")" "$bin" "$@" \
		>"$VI_RUN/$name.out" 2>"$VI_RUN/$name.err" </dev/null &
	pid=$!
	vi_record_pid "$name" "$pid"
	echo "$pid" >"$VI_RUN/$name.pid"
}

vi_stop() { # name
	local name=$1 pid st rc
	[ -f "$VI_RUN/$name.pid" ] || return 0
	pid=$(cat "$VI_RUN/$name.pid")
	st=$(awk -v p="$pid" '$2 == p { print $3 }' "$VI_RUN/pids" | tail -n1)
	vi_kill_pid "$pid" "$st" 5
	wait "$pid" 2>/dev/null
	rc=$?
	rm -f "$VI_RUN/$name.pid"
	return $rc
}

vi_grep_out() { grep -qE "$2" "$VI_RUN/$1.out" 2>/dev/null; }

vi_cleanup() {
	local name pid st ns rc=$?
	[ "$VI_CLEANED" = 1 ] && return 0
	VI_CLEANED=1
	trap - EXIT INT TERM
	if [ -f "$VI_RUN/pids" ]; then
		while read -r name pid st; do
			[ -n "${pid:-}" ] && vi_kill_pid "$pid" "${st:-}" 5
		done < <(tac "$VI_RUN/pids")
	fi
	# Anything still inside our namespaces was started by this run.
	for ns in $VI_NAMESPACES; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			vi_kill_pid "$pid" "$(vi_starttime "$pid")" 3
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$VI_WATCHDOG" ]; then
		kill -TERM "$VI_WATCHDOG" 2>/dev/null
	fi
	if [ "${VI_KEEP:-0}" = 1 ]; then
		vi_log "kept $VI_RUN"
	else
		rm -rf "$VI_RUN"
	fi
	return $rc
}

# ---------------------------------------------------------------- our side
# Parsers for the record lines of examples/vpnr_tunnel.c (and any program
# printing the same "SA_ADD dir=in spi=0x... encr=... integ=..." format).

# vi_ours_field LINE KEY: value of key=value in one record line.
vi_ours_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -n1; }

# vi_ours_last NAME REGEX: the last line of NAME.out matching REGEX.
vi_ours_last() { grep -E "$2" "$VI_RUN/$1.out" 2>/dev/null | tail -n1; }

# vi_ours_spis NAME: "IN OUT" of the newest SA_ADD pair (hex, no 0x).
vi_ours_spis() {
	local i o
	i=$(vi_ours_field "$(vi_ours_last "$1" '^SA_ADD dir=in ')" spi)
	o=$(vi_ours_field "$(vi_ours_last "$1" '^SA_ADD dir=out ')" spi)
	echo "${i#0x} ${o#0x}"
}

# vi_ours_esp_algs NAME: "AES_CBC-256/HMAC_SHA2_256_128" or "AES_GCM_16-256"
# from the newest inbound SA_ADD (strongSwan's spelling).
vi_ours_esp_algs() {
	local l e i
	l=$(vi_ours_last "$1" '^SA_ADD dir=in ')
	e=$(vi_ours_field "$l" encr)
	i=$(vi_ours_field "$l" integ)
	if [ "$i" = NONE ]; then echo "$e"; else echo "$e/$i"; fi
}

# vi_swan_ike_spis SIDE: "SPI_I SPI_R" of the ESTABLISHED IKE_SA.
vi_swan_ike_spis() {
	vi_swan "$1" --list-sas 2>/dev/null | awk -v c="$VI_CONN" '
		$1 == c":" && /ESTABLISHED/ { i = $5; r = $6; gsub(/_i|_r|\*|,/, "", i); gsub(/_i|_r|\*|,/, "", r); print i, r; exit }'
}
