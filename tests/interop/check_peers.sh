#!/bin/bash
# Capability check, run before the interop tests (scripts/test.sh, and the
# ctest fixture every interop test requires): asks each peer program what
# it can do and prints one line per gap naming the Debian package that
# fills it.  A missing capability must never look like a protocol failure
# after a minute of retries.  Exit 0 all present, 1 something missing,
# 77 not root (the interop tests skip then too).
set -u
. "$(dirname "$0")/lib/common.sh"

rc=0
lack() { # what package
	echo "check_peers: missing $1: install the Debian package $2 (scripts/install-deps.sh installs it)"
	rc=1
}

[ "$(id -u)" = 0 ] || { echo "check_peers: needs root"; exit 77; }

# Programs the interop tests run, and their packages.
while read -r prog pkg; do
	command -v "$prog" >/dev/null 2>&1 || lack "$prog" "$pkg"
done <<EOF
$VI_CHARON strongswan-charon
swanctl strongswan-swanctl
bird bird2
birdc bird2
gobgpd gobgpd
gobgp gobgpd
iperf3 iperf3
nft nftables
ping iputils-ping
ip iproute2
python3 python3
EOF
if command -v bird >/dev/null 2>&1; then
	v=$(bird --version 2>&1)
	case $v in *"version 2."*) ;; *) lack "BIRD 2 (found: $v)" bird2 ;; esac
fi
[ $rc = 0 ] || exit 1

# strongSwan: start charon with the plugin list the tests use, in a
# namespace of its own, and ask it which plugins it loaded.  Each plugin
# maps to the package that ships it.
plugin_pkg() {
	case $1 in
	openssl) echo libstrongswan-standard-plugins ;;
	curve25519) echo libstrongswan-extra-plugins ;;
	kernel-libipsec) echo libcharon-extra-plugins ;;
	vici) echo strongswan-swanctl ;;
	socket-default) echo strongswan-libcharon ;;
	*) echo libstrongswan ;;
	esac
}
VI_RUN=/tmp/vpnr-check-peers-$$
VI_MAX_SECONDS=60
vi_init check_peers >/dev/null
ns=$VI_PREFIX-check
VI_NAMESPACES=$ns
echo "$ns" >"$VI_RUN/namespaces"
ip netns add "$ns" || { echo "check_peers: cannot create a network namespace"; exit 1; }
ip -n "$ns" link set lo up
mkdir -p "$VI_RUN/check/run"
vi_write_strongswan_conf check
STRONGSWAN_CONF="$VI_RUN/check/strongswan.conf" setsid \
	ip netns exec "$ns" sh -c "mount --bind '$VI_RUN/check/run' /run && exec '$VI_CHARON'" \
	>"$VI_RUN/check/charon.stdout" 2>&1 </dev/null &
vi_record_pid charon-check $!
if ! vi_wait_for 10 test -S "$VI_RUN/check/run/charon.vici"; then
	# No vici socket: charon did not start, or the vici plugin is missing.
	grep -q "plugin 'vici': failed" "$VI_RUN/check/charon.log" 2>/dev/null &&
		lack "strongSwan plugin vici" "$(plugin_pkg vici)"
	[ $rc = 1 ] || echo "check_peers: charon did not start: $(tail -n 3 "$VI_RUN/check/charon.log" 2>/dev/null)"
	exit 1
fi
loaded=" $(timeout 10 swanctl --stats --uri "$(vi_vici check)" 2>/dev/null | sed -n 's/^loaded plugins: //p') "
for p in $VI_SS_PLUGINS; do
	case $loaded in *" $p "*) ;; *) lack "strongSwan plugin $p" "$(plugin_pkg "$p")" ;; esac
done
[ $rc = 0 ] && echo "check_peers: strongSwan (plugins:$loaded), BIRD 2, GoBGP, iperf3, nftables present"
exit $rc
