#!/bin/sh
# Installs, from Debian 12's own archive, everything the build, the tests
# and the demo need.  Only what is missing is installed.  Run as root.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
libssl-dev libuv1-dev libbsd-dev libcmocka-dev libmnl-dev libconfig-dev
strongswan-charon strongswan-swanctl libcharon-extra-plugins
bird2 gobgpd iperf3 iputils-ping iproute2 nftables procps psmisc
python3 tshark binutils"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# tshark asks whether non-root users may capture; answer no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
	    debconf-set-selections 2>/dev/null || true
	apt-get install -y -q --no-install-recommends $missing
fi
# The Debian packages enable and start system-wide daemons; the tests run
# their own instances in network namespaces, so keep those out of the way.
for svc in bird strongswan-starter strongswan gobgpd; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
echo "install-deps: all packages present"
