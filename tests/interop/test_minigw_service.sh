#!/bin/bash
# Interop: minigw as a service.  The command line's stable exit codes
# (0 --help/--version/--check, 1 configuration, 2 usage); with
# global.user: nobody minigw drops to uid 65534 keeping only
# CAP_NET_ADMIN and CAP_NET_BIND_SERVICE, and still adds a tunnel (a new
# TUN, addresses, routes) on reload; Prometheus metrics over HTTP
# (global.metrics_listen) and from the control socket; a route of the
# operator's for a configured prefix is left alone (and counted); SIGTERM
# ends it with status 0 and removes its TUN devices.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_service
id nobody >/dev/null 2>&1 || vi_skip "no user nobody"

"$MINIGW" --help | grep -q "exit codes" || vi_fail "--help"
"$MINIGW" --version | grep -q "^minigw " || vi_fail "--version"
"$MINIGW" --bogus >/dev/null 2>&1
[ $? = 2 ] || vi_fail "unknown option: not exit 2"
printf 'global:\n  local_as: 99999999999\n' >"$VI_RUN/bad.conf"
"$MINIGW" -c "$VI_RUN/bad.conf" --check 2>"$VI_RUN/bad.err"
[ $? = 1 ] && grep -q "bad.conf:2: global.local_as" "$VI_RUN/bad.err" || vi_fail "bad config: not exit 1"
"$MINIGW" ctl -s "$VI_RUN/none.sock" show tunnels 2>/dev/null
[ $? = 3 ] || vi_fail "ctl without a daemon: not exit 3"

vi_setup_netns || vi_fail "namespaces"
R2=$VI_PREFIX-r2
mg_cloud $R2 wan2 198.51.100.1 198.51.100.2 24 || vi_fail "cloud namespace 2"
mg_psk
chmod 0644 "$VI_RUN/psk" # read again by the unprivileged user on reload
chmod 0755 "$VI_RUN"
mg_charon right 203.0.113.2 203.0.113.1 aes256gcm16-prfsha256-ecp256 aes256gcm16 || vi_fail "charon 1"
mg_charon $R2 198.51.100.2 198.51.100.1 aes256gcm16-prfsha256-ecp256 aes256gcm16 || vi_fail "charon 2"
tunnel() { # n local remote
	printf '  - name: t%d\n    local: %s\n    remote: %s\n    psk_file: psk\n' "$1" "$2" "$3"
	printf '    ike_proposals: [aes256gcm16-prfsha256-ecp256]\n    esp_proposals: [aes256gcm16]\n'
	printf '    address: 169.254.2%d.1/30\n    interface: t%d\n' "$1" "$1"
}
conf() { # number of tunnels
	printf 'global:\n  user: nobody\n  listen: 0.0.0.0\n  metrics_listen: 127.0.0.1:9469\n'
	printf '  control_socket: %s\ntunnels:\n' "$VI_RUN/gw.sock"
	tunnel 1 203.0.113.1 203.0.113.2
	[ "$1" = 2 ] && tunnel 2 198.51.100.1 198.51.100.2
	printf 'routes:\n  - {prefix: 10.1.0.0/16, tunnel: t1}\n'
	printf '  - {prefix: 10.2.0.0/16, tunnel: t1}\n'
}
conf 1 >"$VI_RUN/minigw.conf"
# The operator's own route for 10.2.0.0/16: minigw must leave it alone.
ip -n "$VI_NS_LEFT" route add blackhole 10.2.0.0/16
mg_start gw "$VI_RUN/minigw.conf" || vi_fail "minigw start"
pid=$(ps -o pid= --ppid "$(cat "$VI_RUN/gw.pid")" | tr -d ' ')
[ -n "$pid" ] || vi_fail "no minigw process"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
vi_log "minigw pid $pid uid $uid CapEff $capeff"
[ "$uid" = 65534 ] || vi_fail "still uid $uid"
# CAP_NET_BIND_SERVICE (10) and CAP_NET_ADMIN (12), nothing else.
[ "$capeff" = 0000000000001400 ] || vi_fail "capabilities $capeff"

vi_wait_for 20 vi_swan_child_installed right || vi_fail "no CHILD_SA 1"
vi_wait_for 5 sh -c "ip -n $VI_NS_LEFT route show 10.1.0.0/16 | grep -q 'dev t1 proto 245'" ||
	vi_fail "no static route"
ip -n "$VI_NS_LEFT" route show 10.2.0.0/16 | grep -q "^blackhole 10.2.0.0/16" ||
	vi_fail "the operator's route was replaced: $(ip -n "$VI_NS_LEFT" route show 10.2.0.0/16)"
mg_ctl gw show routes | grep -q "^! 10.2.0.0/16" || vi_fail "show routes: no conflict mark"
mg_ctl gw metrics | grep -q "^minigw_route_conflicts_total 1$" || vi_fail "conflict not counted"
metrics() {
	ip netns exec "$VI_NS_LEFT" python3 -c '
import urllib.request
print(urllib.request.urlopen("http://127.0.0.1:9469/metrics", timeout=5).read().decode())'
}
metrics >"$VI_RUN/metrics.txt" || vi_fail "HTTP metrics"
grep -q '^minigw_tunnel_up{tunnel="t1"} 1$' "$VI_RUN/metrics.txt" &&
	grep -q '^# TYPE minigw_tunnel_packets_total counter$' "$VI_RUN/metrics.txt" ||
	vi_fail "metrics: $(head -20 "$VI_RUN/metrics.txt")"
mg_ctl gw metrics | grep -q '^minigw_tunnel_ike_state{tunnel="t1"} 2$' || vi_fail "ctl metrics"

# Reload as uid 65534: a second tunnel (TUN, address, IKE) comes up.
conf 2 >"$VI_RUN/minigw.conf"
kill -HUP "$pid"
vi_wait_for 10 vi_grep_out gw '^RELOADED tunnels=2' || vi_fail "reload as nobody: $(tail -3 "$VI_RUN/gw.err")"
vi_wait_for 20 vi_swan_child_installed $R2 || vi_fail "no CHILD_SA 2 after reload"
ip -n "$VI_NS_LEFT" addr show t2 | grep -q 169.254.22.1/30 || vi_fail "no address on t2"
t2_up() { metrics | grep -q '^minigw_tunnel_up{tunnel="t2"} 1$'; }
vi_wait_for 5 t2_up || vi_fail "metrics t2"

vi_stop gw || vi_fail "minigw exit status $?"
ip -n "$VI_NS_LEFT" link show t1 >/dev/null 2>&1 && vi_fail "TUN t1 left behind"
vi_pass
