#!/bin/bash
# The Python binding's example (examples/python/examples/tunnel_bgp.py:
# asyncio driver, built-in ESP) against strongSwan and BIRD; the checks
# are in lib/example.sh.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/example.sh"
vi_init python_example bird birdc
lib=$VPNR_BUILD_DIR/examples/python/lib
[ -f "$lib/vpnroute/__init__.py" ] || vi_skip "python binding not built ($lib)"
src=${VPNR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
ex_run -- /usr/bin/env PYTHONPATH="$lib" PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$src/examples/python/examples/tunnel_bgp.py"
vi_pass
