#!/bin/bash
# pip install --no-build-isolation of examples/python against the
# library installed into a scratch prefix (found with pkg-config), with
# no package index: everything comes from Debian.  Then the installed
# package is imported and used from outside the source tree.
#   pip_install.sh BUILD_DIR PYTHON3
set -euo pipefail
build=$1
py=$2
src=${VPNR_SOURCE_DIR:?}/examples/python
"$py" -m pip --version >/dev/null 2>&1 || { echo "SKIP: no pip for $py"; exit 77; }
tmp=$(mktemp -d /tmp/vpnr-pip.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; exit 1; }
pcdir=$(dirname "$(find "$tmp/prefix" -name vpnroute.pc | head -n1)")
[ -f "$pcdir/vpnroute.pc" ] || { echo "no vpnroute.pc installed"; exit 1; }
# pip builds in the tree it is given: give it a copy.
mkdir "$tmp/src"
cp -r "$src/setup.py" "$src/pyproject.toml" "$src/README.md" "$src/vpnroute" "$tmp/src/"
# --target resolves dependencies only inside the target: cffi is
# Debian's (python3-cffi), hence --no-deps.
PKG_CONFIG_PATH=$pcdir "$py" -m pip install -q --no-build-isolation \
    --no-index --no-deps --break-system-packages --target "$tmp/site" "$tmp/src"
cd "$tmp"
PYTHONPATH=$tmp/site "$py" - "$tmp" <<'PY'
import sys
import vpnroute as v
assert v.__file__.startswith(sys.argv[1] + "/site/"), v.__file__
assert v.ffi.string(v.lib.vpnr_version(0).version_str).decode() == v.version()[0]
with v.Context(local_as=65010) as c:
    t = c.add_tunnel("192.0.2.1", "192.0.2.2", b"psk")
    assert c.tunnel_info(t).state == v.TUNNEL_IDLE
print("pip-installed vpnroute", v.version()[0], "OK")
PY
