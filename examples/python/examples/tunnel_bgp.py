"""Bring up an IPsec tunnel and an eBGP session bound to it against a real
peer (strongSwan and BIRD, or minigw), print the routes learned, clean
up.  asyncio owns the sockets (vpnroute.aio); the built-in userspace
ESP data plane holds the SAs and the routes.

    python3 tunnel_bgp.py --local 203.0.113.1 --remote 203.0.113.2 \\
        --psk SECRET --local-as 65010 --peer-as 65050 \\
        --advertise 192.168.2.0/24 [--md5 KEY] [--min-routes 2] [--linger]

Prints "tunnel up ...", "bgp established ...", one "route PREFIX via NH
tunnel T if_id I" line per learned route, then "routes: N".  With
--linger it waits for SIGTERM/SIGINT before cleaning up (so a test can
look at the peer); then the tunnel and session are closed (IKE DELETE,
BGP CEASE) and it prints "done".  Exit 1 on timeout or error.
"""

import argparse
import asyncio
import logging
import signal
import sys

import vpnroute as v
from vpnroute.aio import Driver


class RouteEsp(v.Esp):
    """The ESP data plane, telling the example when routes arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def route_add(self, op_id, route):
        super().route_add(op_id, route)
        self.changed.set()


async def until(drv: Driver, what: str, pred, timeout: float):
    """Read events until pred(ev) holds, or fail."""
    async def loop():
        while True:
            ev = await drv.events.get()
            print("event", ev, flush=True)
            if pred(ev):
                return ev
    t = asyncio.ensure_future(loop())
    done, _ = await asyncio.wait({t, drv.failed}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    if drv.failed in done:
        t.cancel()
        drv.failed.result()
    if t not in done:
        t.cancel()
        raise TimeoutError("no %s within %gs" % (what, timeout))
    return t.result()


async def main(a) -> int:
    drv = Driver()
    esp = RouteEsp()
    ctx = v.Context(drv, dataplane=esp, local_as=a.local_as,
                    log_level=v.LOG_DEBUG if a.debug else v.LOG_INFO)
    try:
        await drv.start(ctx, [a.local], bgp_listen=a.listen)
        tid = ctx.add_tunnel(a.local, a.remote, a.psk.encode(), if_id=1,
                             force_encap=True,
                             ike_proposals=a.ike or (),
                             esp_proposals=a.esp or ())
        pid = ctx.add_bgp_peer(a.peer or a.remote, a.peer_as, local=a.local,
                               tunnel_id=tid, hold=(a.hold, 0),
                               connect_retry=2,
                               md5_key=a.md5.encode() if a.md5 else None)
        for p in a.advertise:
            ctx.add_path(p)
        ctx.initiate(tid)
        ev = await until(drv, "CHILD_SA", lambda e: isinstance(
            e, v.TunnelEvent) and e.type == v.TUNNEL_EV_CHILD_UP, a.timeout)
        info = ctx.tunnel_info(tid)
        print("tunnel up %s -> %s spi in %08x out %08x" % (
            info.local.host, info.remote.host, info.child_spi_in,
            info.child_spi_out), flush=True)
        await until(drv, "BGP session", lambda e: isinstance(
            e, v.BgpEvent) and e.type == v.BGP_EV_ESTABLISHED, a.timeout)
        pi = ctx.bgp_peer_info(pid)
        print("bgp established with %s AS%d hold %ds" % (
            pi.remote.host, pi.remote_as, pi.hold_s), flush=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + a.timeout
        while len(esp.routes) < a.min_routes:
            esp.changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError("only %d routes" % len(esp.routes))
            await asyncio.wait_for(esp.changed.wait(), left)
        for r in sorted(esp.routes.values(), key=lambda r: r.prefix):
            print("route %s via %s tunnel %d if_id %d" % (
                r.prefix, r.nexthop.host if r.nexthop else "-", r.tunnel_id,
                r.if_id), flush=True)
        print("routes: %d" % len(esp.routes), flush=True)
        if a.linger:
            stop = asyncio.Event()
            for s in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(s, stop.set)
            await stop.wait()
        ctx.shutdown()  # IKE DELETE and BGP CEASE go out now
        await asyncio.sleep(0)  # let the loop flush the datagrams
        print("done", flush=True)
        return 0
    except (TimeoutError, asyncio.TimeoutError, v.Error) as e:
        print("error:", e, file=sys.stderr, flush=True)
        return 1
    finally:
        drv.close()
        ctx.close()
        esp.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--local", required=True)
    p.add_argument("--remote", required=True)
    p.add_argument("--psk", required=True)
    p.add_argument("--local-as", type=int, required=True)
    p.add_argument("--peer", help="BGP peer address (default: --remote)")
    p.add_argument("--peer-as", type=int, required=True)
    p.add_argument("--ike", action="append")
    p.add_argument("--esp", action="append")
    p.add_argument("--advertise", action="append", default=[])
    p.add_argument("--md5", help="TCP-MD5 key of the BGP session")
    p.add_argument("--min-routes", type=int, default=1)
    p.add_argument("--hold", type=int, default=9)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--listen", action="store_true",
                   help="also accept the peer's BGP connection on 179")
    p.add_argument("--linger", action="store_true")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(message)s", stream=sys.stderr)
    sys.exit(asyncio.run(main(args)))
