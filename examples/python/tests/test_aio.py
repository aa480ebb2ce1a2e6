"""The asyncio driver: two contexts on loopback addresses with real UDP
and TCP sockets owned by asyncio, timers from the expiry, a tunnel, an
eBGP session and packets through the ESP data plane."""

import asyncio
import random

import vpnroute as v
from vpnroute.aio import Driver
from conftest import PSK, ipv4_udp

A, B = "127.0.0.1", "127.0.0.2"


async def wait_event(drv, pred, timeout=20, others=()):
    async def loop():
        while True:
            ev = await drv.events.get()
            if pred(ev):
                return ev
    t = asyncio.ensure_future(loop())
    failed = {drv.failed} | {o.failed for o in others}
    done, _ = await asyncio.wait({t} | failed, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    for f in failed & done:
        t.cancel()
        f.result()  # raises what a loop handler hit
    assert t in done, "timed out waiting for an event"
    return t.result()


class RouteEsp(v.Esp):
    """Tells the test when a route arrives."""

    def __init__(self):
        super().__init__()
        self.learned = asyncio.Event()

    def route_add(self, op_id, route):
        super().route_add(op_id, route)
        self.learned.set()


async def scenario():
    base = random.randrange(20000, 60000, 4)
    ports = (base, base + 1)
    bgp_port = base + 2
    got = asyncio.Queue()
    drv = [Driver(on_inner_packet=lambda i, p: got.put_nowait((i, p))),
           Driver()]
    esp = [RouteEsp(), RouteEsp()]
    ctx = [v.Context(drv[0], dataplane=esp[0], local_as=65010,
                     ike_ports=ports, log_level=v.LOG_DEBUG),
           v.Context(drv[1], dataplane=esp[1], local_as=65050,
                     ike_ports=ports, log_level=v.LOG_DEBUG)]
    try:
        await drv[0].start(ctx[0], [A], ports=ports)
        await drv[1].start(ctx[1], [B], ports=ports, bgp_listen=True,
                           bgp_port=bgp_port)
        ta = ctx[0].add_tunnel(A, B, PSK, if_id=3, force_encap=True)
        tb = ctx[1].add_tunnel(B, A, PSK, if_id=3, force_encap=True)
        ctx[0].add_bgp_peer(v.Addr(B, bgp_port), 65050, local=A,
                            tunnel_id=ta, hold=(9, 3), connect_retry=1)
        pb = ctx[1].add_bgp_peer(A, 65010, local=B, tunnel_id=tb,
                                 passive=True, hold=(9, 3),
                                 # 127/8 is no valid BGP next hop
                                 nexthops=["169.254.21.2"])
        ctx[1].add_path("10.50.0.0/16")
        ctx[0].initiate(ta)
        await wait_event(drv[0], lambda e: isinstance(e, v.TunnelEvent)
                         and e.type == v.TUNNEL_EV_CHILD_UP, others=drv)
        await wait_event(drv[1], lambda e: isinstance(e, v.BgpEvent)
                         and e.type == v.BGP_EV_ESTABLISHED
                         and e.peer_id == pb, others=drv)
        await asyncio.wait_for(esp[0].learned.wait(), 10)
        r = esp[0].routes["10.50.0.0/16"]
        assert r.tunnel_id == ta and r.nexthop.host == "169.254.21.2"
        pkt = ipv4_udp("10.50.1.1", "192.168.2.10", b"through asyncio")
        drv[1].send_inner(3, pkt)
        if_id, inner = await asyncio.wait_for(got.get(), 10)
        assert (if_id, inner) == (3, pkt)
        assert esp[0].counters(3).packets_in == 1
    finally:
        for d in drv:
            d.close()
        for c in ctx:
            c.close()
        for e in esp:
            e.close()


def test_asyncio_driver():
    asyncio.run(scenario())
