#!/bin/sh
# Installs, from Debian 12's own archive, everything the build, the tests
# and the demo need.  Only what is missing is installed.  Run as root.
set -eu

# --no-install-recommends below means every package must be named.
PKGS=""
# build, format check, export check (nm), clean-clone checks (git)
PKGS="$PKGS build-essential cmake pkg-config git binutils clang-format"
# ASan + UBSan build and the libFuzzer harnesses
PKGS="$PKGS clang libclang-rt-14-dev"
# libraries: OpenSSL 3, the libuv driver, queue.h/tree.h, unit tests,
# minigw's rtnetlink
PKGS="$PKGS libssl-dev libuv1-dev libbsd-dev libcmocka-dev libmnl-dev"
# strongSwan as the IKE/ESP peer; its plugins live in three packages
# besides charon: standard (openssl: AES-GCM, ECP, MODP), extra
# (curve25519), charon-extra (kernel-libipsec: userspace ESP, since the
# kernel here has none)
PKGS="$PKGS strongswan-charon strongswan-swanctl libstrongswan-standard-plugins"
PKGS="$PKGS libstrongswan-extra-plugins libcharon-extra-plugins"
# minigw: configuration file (libyaml), JSON answers (json-c), systemd
# notify (libsystemd), privilege drop keeping CAP_NET_ADMIN (libcap-ng),
# and systemd-analyze for the unit-file check
PKGS="$PKGS libyaml-dev libjson-c-dev libsystemd-dev libcap-ng-dev systemd"
# BGP peers, traffic and namespaces in the interop tests
PKGS="$PKGS bird2 gobgpd iperf3 iputils-ping iproute2 procps python3"
# nft in the WAN box of the failure tests (tests/interop/lib/wan.sh):
# blackhole and random loss (test_failure_loss.sh, test_failure_*.sh)
PKGS="$PKGS nftables"
# ABI check against tests/packaging/abi/ (abidiff, abidw); the public
# headers are also compiled as C++17 by g++ (build-essential)
PKGS="$PKGS abigail-tools"
# Python binding (examples/python: cffi API mode, pytest, pip install
# --no-build-isolation) and Go binding (examples/go: cgo, go test -race;
# golang-go is the metapackage, golang-1.19-go the compiler it pulls on
# Debian 12, named so that a missing go shows here)
PKGS="$PKGS python3-cffi python3-dev python3-pytest python3-setuptools"
PKGS="$PKGS python3-pip golang-go golang-1.19-go"

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
	apt-get -o DPkg::Lock::Timeout=600 update -q
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
fi
# The Debian packages enable and start system-wide daemons; the tests run
# their own instances in network namespaces, so keep those out of the way.
for svc in bird strongswan-starter strongswan gobgpd; do
	systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
echo "install-deps: all packages present"
