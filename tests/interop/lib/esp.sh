# Shared helpers for the ESP data-plane interop tests and benches
# (tests/interop/test_esp_traffic.sh, tests/bench/bench_tunnel_iperf.sh,
# scripts/demo.sh).  Source it; it defines functions and variables only.
#
# Topology (four namespaces, prefix $ESP_PREFIX):
#   lhost --eth0/lan0-- left ==wanL/wanR== right --lan0/eth0-- rhost
#   192.168.2.10   192.168.2.1  203.0.113.1  203.0.113.2  172.16.0.1  172.16.0.10
#   tunnel interface: 169.254.21.1/30 (left) <-> 169.254.21.2/30 (right)
# Every process started here is recorded in $ESP_RUN/pids and stopped by
# esp_cleanup, which also deletes the namespaces.

ESP_PREFIX=${ESP_PREFIX:-vpnr-$$}
ESP_RUN=${ESP_RUN:-/tmp/$ESP_PREFIX}
NS_L=$ESP_PREFIX-left
NS_R=$ESP_PREFIX-right
NS_LH=$ESP_PREFIX-lhost
NS_RH=$ESP_PREFIX-rhost
LEFT_WAN=203.0.113.1
RIGHT_WAN=203.0.113.2
LEFT_LAN=192.168.2.0/24
RIGHT_LAN=172.16.0.0/16
LHOST=192.168.2.10
RHOST=172.16.0.10
LEFT_APIPA=169.254.21.1
RIGHT_APIPA=169.254.21.2
ESP_PSK=${ESP_PSK:-interop-esp-psk-0123456789}
CHARON=${CHARON:-/usr/lib/ipsec/charon}
SS_PLUGINS=${SS_PLUGINS:-random nonce openssl aes sha1 sha2 hmac gmp curve25519 kdf pem pkcs1 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici}

esp_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s.
esp_wait_for() {
	local deadline=$(( $(date +%s) + $1 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

esp_record_pid() { echo "$1 $2" >> "$ESP_RUN/pids"; }

# Kill recorded pids (TERM, then KILL), everything left in our
# namespaces, then the namespaces and the run directory.
esp_cleanup() {
	local name pid ns i
	if [ -f "$ESP_RUN/pids" ]; then
		tac "$ESP_RUN/pids" | while read -r name pid; do
			kill -TERM "$pid" 2>/dev/null || true
		done
		for i in $(seq 1 30); do
			alive=0
			while read -r name pid; do
				if [ -e /proc/$pid ] && ! grep -q '^[^ ]* ([^)]*) Z' /proc/$pid/stat 2>/dev/null; then
					alive=1
				fi
			done < "$ESP_RUN/pids"
			[ $alive = 0 ] && break
			sleep 0.1
		done
		while read -r name pid; do kill -KILL "$pid" 2>/dev/null || true; done < "$ESP_RUN/pids"
	fi
	for ns in "$NS_L" "$NS_R" "$NS_LH" "$NS_RH"; do
		if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns"; then
			for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
			ip netns del "$ns" 2>/dev/null || true
		fi
	done
	[ -n "${ESP_KEEP_RUN:-}" ] || rm -rf "$ESP_RUN"
}

esp_require() {
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
	[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun" >&2; exit 77; }
	local b
	for b in ip "$@"; do
		command -v "$b" >/dev/null 2>&1 || [ -x "$b" ] || { echo "SKIP: missing $b" >&2; exit 77; }
	done
}

esp_netns_up() {
	local ns
	mkdir -p "$ESP_RUN"/left/run "$ESP_RUN"/right/run
	: > "$ESP_RUN/pids"
	for ns in "$NS_L" "$NS_R" "$NS_LH" "$NS_RH"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip link add wanL netns "$NS_L" type veth peer name wanR netns "$NS_R"
	ip -n "$NS_L" addr add $LEFT_WAN/24 dev wanL
	ip -n "$NS_R" addr add $RIGHT_WAN/24 dev wanR
	ip -n "$NS_L" link set wanL up
	ip -n "$NS_R" link set wanR up
	ip link add lan0 netns "$NS_L" type veth peer name eth0 netns "$NS_LH"
	ip -n "$NS_L" addr add 192.168.2.1/24 dev lan0
	ip -n "$NS_LH" addr add $LHOST/24 dev eth0
	ip -n "$NS_L" link set lan0 up
	ip -n "$NS_LH" link set eth0 up
	ip -n "$NS_LH" route add default via 192.168.2.1
	ip link add lan0 netns "$NS_R" type veth peer name eth0 netns "$NS_RH"
	ip -n "$NS_R" addr add 172.16.0.1/16 dev lan0
	ip -n "$NS_RH" addr add $RHOST/16 dev eth0
	ip -n "$NS_R" link set lan0 up
	ip -n "$NS_RH" link set eth0 up
	ip -n "$NS_RH" route add default via 172.16.0.1
	for ns in "$NS_L" "$NS_R"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	done
	esp_wait_for 5 ip netns exec "$NS_L" ping -c1 -W1 -q $RIGHT_WAN
}

# esp_minigw SIDE ARGS...: start minigw in SIDE's namespace with its own
# control socket $ESP_RUN/SIDE/minigw.sock; output in $ESP_RUN/SIDE/minigw.{out,err}.
esp_minigw() {
	local side=$1 ns pid; shift
	[ "$side" = left ] && ns=$NS_L || ns=$NS_R
	echo "$ESP_PSK" > "$ESP_RUN/psk"
	ip netns exec "$ns" "$MINIGW" --psk-file "$ESP_RUN/psk" \
		--control "$ESP_RUN/$side/minigw.sock" "$@" \
		> "$ESP_RUN/$side/minigw.out" 2> "$ESP_RUN/$side/minigw.err" < /dev/null &
	pid=$!
	esp_record_pid "minigw-$side" $pid
	esp_wait_for 10 grep -q READY "$ESP_RUN/$side/minigw.out" || {
		echo "minigw $side did not start:" >&2; cat "$ESP_RUN/$side/minigw.err" >&2; return 1; }
}

# esp_minigw_show SIDE [json]
esp_minigw_show() {
	"$MINIGW" --control "$ESP_RUN/$1/minigw.sock" --show ${2:-}
}

# esp_charon SIDE IKE_PROPOSALS ESP_PROPOSALS START_ACTION: strongSwan
# charon (kernel-libipsec, ipsec0) in SIDE's namespace, loaded with one
# route-based connection "gw" (child "vti", TS 0/0).
esp_charon() {
	local side=$1 ike=$2 esp=$3 start=$4 ns l r pid
	if [ "$side" = left ]; then ns=$NS_L l=$LEFT_WAN r=$RIGHT_WAN; else ns=$NS_R l=$RIGHT_WAN r=$LEFT_WAN; fi
	cat > "$ESP_RUN/$side/strongswan.conf" <<EOC
charon {
    load_modular = no
    load = $SS_PLUGINS
    install_virtual_ip = no
    filelog {
        charon {
            path = $ESP_RUN/$side/charon.log
            time_format = %H:%M:%S
            default = 1
            ike = 2
            knl = 1
            flush_line = yes
        }
    }
    plugins {
        kernel-netlink {
            fwmark = 0x4242
        }
        vici {
            socket = unix://$ESP_RUN/$side/run/charon.vici
        }
    }
}
EOC
	cat > "$ESP_RUN/$side/swanctl.conf" <<EOC
connections {
    gw {
        version = 2
        local_addrs = $l
        remote_addrs = $r
        proposals = $ike
        dpd_delay = 10s
        rekey_time = 8h
        keyingtries = 0
        local {
            auth = psk
            id = $l
        }
        remote {
            auth = psk
            id = $r
        }
        children {
            vti {
                local_ts = 0.0.0.0/0
                remote_ts = 0.0.0.0/0
                esp_proposals = $esp
                mode = tunnel
                start_action = $start
                dpd_action = restart
                rekey_time = 1h
            }
        }
    }
}
secrets {
    ike-gw {
        id-l = $l
        id-r = $r
        secret = "$ESP_PSK"
    }
}
EOC
	STRONGSWAN_CONF="$ESP_RUN/$side/strongswan.conf" setsid \
		ip netns exec "$ns" sh -c "mount --bind '$ESP_RUN/$side/run' /run && exec '$CHARON'" \
		> "$ESP_RUN/$side/charon.stdout" 2>&1 < /dev/null &
	pid=$!
	esp_record_pid "charon-$side" $pid
	esp_wait_for 10 test -S "$ESP_RUN/$side/run/charon.vici" || { echo "charon $side did not start" >&2; return 1; }
	esp_wait_for 10 ip -n "$ns" link show ipsec0 || { echo "no ipsec0 in $ns" >&2; return 1; }
	ip -n "$ns" addr add $( [ "$side" = left ] && echo $LEFT_APIPA || echo $RIGHT_APIPA )/30 dev ipsec0
	esp_swan "$side" --load-all --file "$ESP_RUN/$side/swanctl.conf" > "$ESP_RUN/$side/swanctl-load.out" 2>&1 || {
		cat "$ESP_RUN/$side/swanctl-load.out" >&2; return 1; }
}

esp_swan() { local side=$1; shift; swanctl "$@" --uri "unix://$ESP_RUN/$side/run/charon.vici"; }

esp_swan_child_up() { esp_swan "$1" --list-sas 2>/dev/null | grep -q 'vti: .*INSTALLED'; }

# Sum of bytes_i / bytes_o (and packets) over the INSTALLED vti
# CHILD_SAs, as strongSwan counts them: "BI BO PI PO".
esp_swan_counters() {
	esp_swan "$1" --list-sas --raw 2>/dev/null | tr ' ' '\n' | awk '
		/^bytes-in=/ { split($0, a, "="); bi += a[2] }
		/^bytes-out=/ { split($0, a, "="); bo += a[2] }
		/^packets-in=/ { split($0, a, "="); pi += a[2] }
		/^packets-out=/ { split($0, a, "="); po += a[2] }
		END { printf "%d %d %d %d\n", bi, bo, pi, po }'
}

# Our tunnel counters from minigw's JSON: "octets_in octets_out packets_in packets_out".
esp_minigw_counters() {
	esp_minigw_show "$1" json | python3 -c '
import json, sys
d = json.load(sys.stdin)["tunnels"][0]
print(d["octets_in"], d["octets_out"], d["packets_in"], d["packets_out"])'
}

# esp_iperf DIR SECONDS [extra iperf3 args]: DIR "lr" = lhost sends to
# rhost, "rl" = reverse.  Prints the iperf3 JSON file path.
esp_iperf() {
	local dir=$1 secs=$2 srv cli dst out pid; shift 2
	if [ "$dir" = lr ]; then srv=$NS_RH cli=$NS_LH dst=$RHOST; else srv=$NS_LH cli=$NS_RH dst=$LHOST; fi
	out=$ESP_RUN/iperf-$dir-$(date +%s%N).json
	ip netns exec "$srv" iperf3 -s -1 -p 5201 > /dev/null 2>&1 &
	pid=$!
	esp_record_pid iperf3-server $pid
	sleep 0.3
	timeout $((secs + 20)) ip netns exec "$cli" iperf3 -c "$dst" -p 5201 -t "$secs" -J "$@" > "$out" 2>/dev/null || true
	wait $pid 2>/dev/null || true
	echo "$out"
}

# Mbit/s received and TCP retransmits of an iperf3 JSON result: "MBPS RETR".
esp_iperf_result() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = d.get("end", {})
r = e.get("sum_received") or e.get("sum") or {}
s = e.get("sum_sent") or {}
print("%.1f %d %.2f" % (r.get("bits_per_second", 0) / 1e6, s.get("retransmits", 0), r.get("lost_percent", 0.0)))' "$1" 2>/dev/null || echo "0 0 0"
}

# Quiet ping from namespace $1.
esp_qping() { local ns=$1; shift; ip netns exec "$ns" ping "$@" > /dev/null 2>&1; }
# UdpRcvbufErrors of namespace $1: datagrams dropped at full receive
# buffers.
esp_udp_drops() { ip netns exec "$1" nstat -az 2>/dev/null | awk '$1 == "UdpRcvbufErrors" { n += $2 } END { print n + 0 }'; }
# Inbound SPI of strongSwan's INSTALLED vti CHILD_SA.
esp_cur_spi() {
	esp_swan right --list-sas 2>/dev/null | awk '/vti: .*INSTALLED/ { f = 1; next } f && $1 == "in" { print $2; exit }' | tr -d ','
}

# esp_rekey_loss: a CHILD_SA rekey (started by strongSwan) in the middle
# of a 6 s UDP stream; prints the UDP datagrams lost beyond receive
# buffer drops; fails if the rekey did not happen.
esp_rekey_loss() {
	local spi1 spi2 r pid out d0 d1 lost sent drops
	spi1=$(esp_cur_spi)
	out=$ESP_RUN/iperf-udp.json
	d0=$(($(esp_udp_drops "$NS_R") + $(esp_udp_drops "$NS_RH")))
	ip netns exec "$NS_RH" iperf3 -s -1 -p 5202 > /dev/null 2>&1 &
	pid=$!
	esp_record_pid iperf3-server $pid
	sleep 0.3
	(sleep 2; esp_swan right --rekey --child vti > "$ESP_RUN/rekey.out" 2>&1) &
	timeout 30 ip netns exec "$NS_LH" iperf3 -c $RHOST -p 5202 -u -b 10M -l 1000 -t 6 -J > "$out" 2>/dev/null
	# A server the client never reached would wait for ever.
	sleep 1
	kill "$pid" 2>/dev/null
	wait $pid 2>/dev/null
	sleep 0.5
	d1=$(($(esp_udp_drops "$NS_R") + $(esp_udp_drops "$NS_RH")))
	spi2=$(esp_cur_spi)
	r=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["end"]["sum"]; print(s["lost_packets"], s["packets"])' "$out" 2>/dev/null)
	lost=${r% *}
	sent=${r#* }
	drops=$((d1 - d0))
	echo "       rekey: SPI $spi1 -> $spi2; UDP lost ${lost:-?} of ${sent:-?}, of which $drops dropped at full receive buffers" >&2
	[ -n "$r" ] && [ -n "$spi1" ] && [ "$spi1" != "$spi2" ] || return 1
	echo $((lost - drops))
}
