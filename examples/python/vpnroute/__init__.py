"""libvpnroute for Python: route-based IPsec (IKEv2, userspace ESP) and
eBGP, driven from your own event loop (see vpnroute.aio for asyncio).

    from vpnroute import Context, Esp, Host
    esp = Esp()
    ctx = Context(MyHost(), dataplane=esp, local_as=65010)
    tid = ctx.add_tunnel("203.0.113.1", "203.0.113.2", b"secret",
                         force_encap=True, if_id=1)
    ctx.initiate(tid)

Constants are the C ones without the VPNR_ prefix (ERR_NOT_FOUND,
TUNNEL_EV_UP ...), also reachable as vpnroute.lib.VPNR_*.
"""

from ._vpnroute import ffi, lib
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all

# VPNR_FOO -> vpnroute.FOO
for _n in dir(lib):
    if _n.startswith("VPNR_"):
        globals()[_n[5:]] = getattr(lib, _n)
TSTAMP_NEVER = (1 << 64) - 1
MILLISECONDS = 1000000
SECONDS = 1000000000

__all__ = list(_core_all) + ["ffi", "lib", "TSTAMP_NEVER", "MILLISECONDS",
                             "SECONDS"]
