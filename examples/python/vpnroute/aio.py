"""Drive a vpnroute.Context from asyncio.

asyncio owns the sockets: UDP on the IKE and NAT-T ports of each local
address, TCP for BGP (outgoing connections, and an optional listener on
port 179).  Datagrams go into the context as they arrive; ESP on the
NAT-T port goes to the built-in data plane (Esp.decap) and the inner
packet to ``on_inner_packet``; one loop timer is armed from the
context's expiry (``expiry_changed`` and after every call).

    drv = Driver(on_inner_packet=lambda if_id, pkt: ...)
    esp = vpnroute.Esp()
    ctx = vpnroute.Context(drv, dataplane=esp, local_as=65010)
    await drv.start(ctx, ["203.0.113.1"], bgp_listen=True)
    ctx.initiate(ctx.add_tunnel(...))
    ev = await drv.events.get()      # TunnelEvent / BgpEvent
    ...
    drv.close(); ctx.close(); esp.close()

A failure inside a loop handler (a vpnroute.Error, or an exception a
callback raised) is put on ``drv.failed``, a future the host awaits
beside its own work.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from typing import Callable, Dict, Iterable, Optional, Tuple

from . import core
from ._vpnroute import lib
from .core import Addr, BgpEvent, Context, Esp, Host, TunnelEvent

_IPPROTO_TCP = 6
_TCP_MD5SIG = 14


def _md5sig(remote: Addr, key: bytes) -> bytes:
    """struct tcp_md5sig for setsockopt(TCP_MD5SIG) (linux/tcp.h)."""
    fam = socket.AF_INET6 if ":" in remote.host else socket.AF_INET
    if fam == socket.AF_INET:
        sa = struct.pack("=HH4s", fam, 0, socket.inet_aton(remote.host))
    else:
        sa = struct.pack("=HHI16sI", fam, 0, 0,
                         socket.inet_pton(fam, remote.host), 0)
    sa = sa.ljust(128, b"\0")
    return sa + struct.pack("=BBHI", 0, 0, len(key), 0) + key.ljust(80, b"\0")


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, drv: "Driver", local: Addr) -> None:
        self.drv, self.local = drv, local

    def datagram_received(self, data: bytes, addr) -> None:
        self.drv._datagram(self.local, Addr(addr[0], addr[1]), data)


class _Tcp(asyncio.Protocol):
    def __init__(self, drv: "Driver", tid: Optional[int]) -> None:
        self.drv, self.tid = drv, tid
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        if self.tid is None:  # accepted on the listener
            s = transport.get_extra_info("sockname")
            p = transport.get_extra_info("peername")
            # The library may send (its OPEN) before the id is returned.
            self.drv._accepting = self
            try:
                tid = self.drv._run(self.drv.ctx.transport_accepted,
                                    Addr(s[0], s[1]), Addr(p[0], p[1]))
            finally:
                self.drv._accepting = None
            if tid is None:
                transport.close()
                return
            self.tid = tid
            self.drv._conns[tid] = self

    def data_received(self, data: bytes) -> None:
        if self.tid in self.drv._conns:
            self.drv._run(self.drv.ctx.transport_recv, self.tid, data)

    def connection_lost(self, exc) -> None:
        if self.drv._conns.pop(self.tid, None) is not None:
            self.drv._run(self.drv.ctx.transport_closed, self.tid,
                          lib.VPNR_ERR_PEER_CLOSED if exc else 0)


class Driver(Host):
    """A Host whose I/O and timer live on an asyncio loop.

    Events are put on ``events`` (an asyncio.Queue); override
    tunnel_event / bgp_event to handle them synchronously instead.
    """

    def __init__(self, *, on_inner_packet: Optional[
            Callable[[int, bytes], None]] = None) -> None:
        self.ctx: Optional[Context] = None
        self.esp: Optional[Esp] = None
        self.on_inner_packet = on_inner_packet
        self.events: "asyncio.Queue[object]" = asyncio.Queue()
        self.failed: "asyncio.Future[None]" = \
            asyncio.get_running_loop().create_future()
        self._loop = asyncio.get_running_loop()
        self._udp: Dict[Tuple[str, int], asyncio.DatagramTransport] = {}
        self._conns: Dict[int, _Tcp] = {}
        self._servers: list = []
        self._tasks: set = set()
        self._accepting: Optional[_Tcp] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._ports = (500, 4500)

    async def start(self, ctx: Context, addrs: Iterable[str], *,
                    ports: Tuple[int, int] = (500, 4500),
                    bgp_listen: bool = False, bgp_port: int = 179) -> None:
        """Open the UDP sockets on addrs (IKE and NAT-T ports, which
        must match the Context's ike_ports) and, with bgp_listen, a BGP
        listener on bgp_port."""
        self.ctx = ctx
        self.esp = ctx.dataplane if isinstance(ctx.dataplane, Esp) else None
        self._ports = ports
        for a in addrs:
            for port in ports:
                tr, _ = await self._loop.create_datagram_endpoint(
                    lambda a=a, port=port: _Udp(self, Addr(a, port)),
                    local_addr=(a, port))
                self._udp[(a, port)] = tr
            if bgp_listen:
                self._servers.append(await self._loop.create_server(
                    lambda: _Tcp(self, None), a, bgp_port, reuse_address=True))
        self._arm()

    def close(self) -> None:
        """Close every socket and the timer (the context stays)."""
        if self._timer:
            self._timer.cancel()
        for tr in self._udp.values():
            tr.close()
        for s in self._servers:
            s.close()
        for t in self._tasks:
            t.cancel()
        for c in list(self._conns.values()):
            if c.transport:
                c.transport.close()
        self._conns.clear()

    # -- driving (from loop handlers only, never from callbacks)
    def _run(self, fn, *args):
        try:
            r = fn(*args)
        except Exception as e:  # surfaced through drv.failed
            if not self.failed.done():
                self.failed.set_exception(e)
            r = None
        if self.esp is not None and lib.vpnr_esp_expired_pending(self.esp._p):
            try:
                self.esp.poll_expired()
            except Exception as e:
                if not self.failed.done():
                    self.failed.set_exception(e)
        self._arm()
        return r

    def _arm(self) -> None:
        if self.ctx is None or self.ctx._p is None:
            return
        exp = self.ctx.expiry
        if self._timer:
            self._timer.cancel()
            self._timer = None
        if exp == (1 << 64) - 1:
            return
        delay = max(0, exp - time.monotonic_ns()) / 1e9
        self._timer = self._loop.call_later(delay, self._expired)

    def _expired(self) -> None:
        self._timer = None
        self._run(self.ctx.handle_expiry)

    def _datagram(self, local: Addr, remote: Addr, data: bytes) -> None:
        if local.port == self._ports[1]:
            kind = lib.vpnr_udp_classify(data, len(data))
            if kind == lib.VPNR_UDP_KEEPALIVE:
                return
            if kind == lib.VPNR_UDP_ESP:
                self._esp_in(remote, data)
                return
        self._run(self.ctx.recv_datagram, local, remote, data)

    def _esp_in(self, remote: Addr, data: bytes) -> None:
        if self.esp is None:
            return
        try:
            inner, if_id = self.esp.decap(remote, data)
        except core.Error:
            return  # counted by the data plane
        if inner and self.on_inner_packet:
            self.on_inner_packet(if_id, inner)
        self._run(lambda: None)  # lifetimes may have expired

    def send_inner(self, if_id: int, pkt: bytes) -> None:
        """Encrypt an inner IP packet into tunnel if_id and send it."""
        out, dst = self.esp.encap(if_id, pkt)
        tr = self._sock_for(None, self._ports[1])
        if tr is not None:
            tr.sendto(out, (dst.host, dst.port))

    def _sock_for(self, host: Optional[str], port: int):
        tr = self._udp.get((host, port)) if host else None
        if tr is None:
            for (h, p), t in self._udp.items():
                if p == port:
                    return t
        return tr

    # -- Host callbacks (inside vpnr calls: no driving here)
    def send_datagram(self, local, remote, data):
        tr = self._sock_for(local.host if local else None,
                            local.port if local else self._ports[0])
        if tr is None:
            return lib.VPNR_ERR_INVALID_STATE
        tr.sendto(data, (remote.host, remote.port))

    def transport_open(self, tid, local, remote, ttl, md5_key):
        # The loop keeps only weak references to tasks: hold on to it.
        t = self._loop.create_task(self._connect(tid, local, remote, ttl,
                                                 md5_key))
        self._tasks.add(t)
        t.add_done_callback(self._task_done)

    def _task_done(self, t: asyncio.Task) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() and not self.failed.done():
            self.failed.set_exception(t.exception())

    async def _connect(self, tid, local, remote, ttl, md5_key) -> None:
        fam = socket.AF_INET6 if ":" in remote.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            s.setblocking(False)
            if fam == socket.AF_INET:
                s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
            else:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS,
                             ttl)
            if md5_key:
                s.setsockopt(_IPPROTO_TCP, _TCP_MD5SIG,
                             _md5sig(remote, md5_key))
            if local is not None:
                s.bind((local.host, 0))
            await self._loop.sock_connect(s, (remote.host, remote.port or 179))
            proto = _Tcp(self, tid)
            self._conns[tid] = proto
            await self._loop.create_connection(lambda: proto, sock=s)
        except OSError:
            s.close()
            self._conns.pop(tid, None)
            self._run(self.ctx.transport_connected, tid,
                      lib.VPNR_ERR_PEER_CLOSED)
            return
        name = s.getsockname()
        self._run(self.ctx.transport_set_local, tid, Addr(name[0], name[1]))
        self._run(self.ctx.transport_connected, tid, 0)

    def transport_send(self, tid, data):
        c = self._conns.get(tid)
        if c is None and self._accepting is not None:
            c = self._conns[tid] = self._accepting
            c.tid = tid
        if c is None or c.transport is None:
            return lib.VPNR_ERR_INVALID_STATE
        c.transport.write(data)  # asyncio buffers what the kernel refuses
        return len(data)

    def transport_close(self, tid):
        c = self._conns.pop(tid, None)
        if c is not None and c.transport is not None:
            c.transport.close()

    def expiry_changed(self, expiry):
        self._loop.call_soon(self._arm)

    def tunnel_event(self, ev: TunnelEvent):
        self.events.put_nowait(ev)

    def bgp_event(self, ev: BgpEvent):
        self.events.put_nowait(ev)
