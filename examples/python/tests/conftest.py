"""Two contexts in one process over the bring-your-own-loop API.

Net carries each context's datagrams and BGP bytes to the other one
(from the top level, never inside a callback) and runs a fake clock:
run() moves everything until nothing moves, advance() steps the clock
from deadline to deadline.
"""

import struct

import pytest

import vpnroute as v

A_WAN, B_WAN = "192.0.2.1", "192.0.2.2"
A_BGP, B_BGP = "169.254.21.1", "169.254.21.2"
A_AS, B_AS = 65010, 65050
IF_ID = 7
PSK = b"binding-test-psk-0123456789"


class Clock:
    """Fake monotonic clock in ns."""

    def __init__(self) -> None:
        self.t = 1_000_000_000

    def __call__(self) -> int:
        return self.t


class PairHost(v.Host):
    """Records events; queues datagrams, opens and bytes on the Net."""

    def __init__(self, net: "Net", idx: int) -> None:
        self.net, self.idx = net, idx
        self.tunnel_events = []
        self.bgp_events = []
        self.logs = []
        self.raise_on = {}  # method name -> exception to raise

    def _maybe_raise(self, name):
        exc = self.raise_on.pop(name, None)
        if exc is not None:
            raise exc

    def send_datagram(self, local, remote, data):
        self._maybe_raise("send_datagram")
        self.net.dgrams.append((1 - self.idx, remote, local, data))

    def transport_open(self, tid, local, remote, ttl, md5):
        self._maybe_raise("transport_open")
        self.net.opens.append((self.idx, tid, remote))

    def transport_send(self, tid, data):
        self.net.bytes.append((self.idx, tid, data))
        return len(data)

    def transport_close(self, tid):
        self.net.dead.add((self.idx, tid))
        self.net.closes.append((self.idx, tid))

    def tunnel_event(self, ev):
        self.tunnel_events.append(ev)
        self._maybe_raise("tunnel_event")
        return self.raise_on.pop("tunnel_event_rc", None)

    def bgp_event(self, ev):
        self.bgp_events.append(ev)
        self._maybe_raise("bgp_event")
        return self.raise_on.pop("bgp_event_rc", None)

    def log(self, level, subsys, msg):
        self.logs.append((level, subsys, msg))
        self._maybe_raise("log")

    def types(self):
        return [e.type for e in self.tunnel_events]


class Net:
    def __init__(self) -> None:
        self.clock = Clock()
        self.dgrams, self.opens, self.bytes, self.closes = [], [], [], []
        self.hosts = [PairHost(self, 0), PairHost(self, 1)]
        self.ctx = [None, None]
        self.esp = [None, None]
        self.links = {}  # (side, tid) -> (other side, other tid)
        self.dead = set()  # (side, tid) the library closed
        self.addr = [A_BGP, B_BGP]

    def make(self, idx, dataplane="esp", **kw):
        if dataplane == "esp":
            dataplane = v.Esp()
            self.esp[idx] = dataplane
        c = v.Context(self.hosts[idx], dataplane=dataplane,
                      local_as=(A_AS, B_AS)[idx], clock=self.clock,
                      log_level=v.LOG_DEBUG, **kw)
        self.ctx[idx] = c
        return c

    def step(self) -> bool:
        moved = False
        while self.dgrams:
            to, local, remote, data = self.dgrams.pop(0)
            self.ctx[to].recv_datagram(local, remote, data)
            moved = True
        while self.opens:
            side, tid, remote = self.opens.pop(0)
            other = 1 - side
            moved = True
            if remote.host != self.addr[other]:
                self.ctx[side].transport_connected(tid, v.ERR_PEER_CLOSED)
                continue
            otid = self.ctx[other].transport_accepted(
                v.Addr(self.addr[other], 179),
                v.Addr(self.addr[side], 40000 + tid))
            self.links[(side, tid)] = (other, otid)
            self.links[(other, otid)] = (side, tid)
            self.ctx[side].transport_set_local(tid, self.addr[side])
            self.ctx[side].transport_connected(tid, 0)
        while self.bytes:
            side, tid, data = self.bytes.pop(0)
            moved = True
            if (side, tid) in self.links:
                other, otid = self.links[(side, tid)]
                if (other, otid) not in self.dead:
                    self.ctx[other].transport_recv(otid, data)
        while self.closes:
            side, tid = self.closes.pop(0)
            moved = True
            peer = self.links.pop((side, tid), None)
            if peer is not None:
                self.links.pop(peer, None)
                if peer not in self.dead:
                    self.ctx[peer[0]].transport_closed(peer[1], 0)
        for c in self.ctx:
            if c is not None and c.expiry <= self.clock.t:
                c.handle_expiry()
                moved = True
        return moved

    def run(self, limit: int = 10000) -> None:
        for _ in range(limit):
            if not self.step():
                return
        raise AssertionError("network did not settle")

    def advance(self, ns: int) -> None:
        """Move the clock forward by ns, stopping at every deadline."""
        end = self.clock.t + ns
        self.run()
        while True:
            nxt = min(c.expiry for c in self.ctx if c is not None)
            if nxt > end:
                break
            self.clock.t = max(self.clock.t, nxt)
            self.run()
        self.clock.t = end
        self.run()

    def close(self) -> None:
        for c in self.ctx:
            if c is not None:
                c.close()
        for e in self.esp:
            if e is not None:
                e.close()


@pytest.fixture
def net():
    n = Net()
    yield n
    n.close()


def add_tunnels(net, **kw):
    """One tunnel on each side, A initiates; returns (tid_a, tid_b)."""
    ta = net.ctx[0].add_tunnel(A_WAN, B_WAN, PSK, if_id=IF_ID,
                               force_encap=True, **kw)
    tb = net.ctx[1].add_tunnel(B_WAN, A_WAN, PSK, if_id=IF_ID,
                               force_encap=True, **kw)
    return ta, tb


def ipv4_udp(src: str, dst: str, payload: bytes) -> bytes:
    """A well-formed IPv4/UDP packet (checksums included)."""
    import ipaddress
    s = ipaddress.IPv4Address(src).packed
    d = ipaddress.IPv4Address(dst).packed
    udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                      0, s, d)
    csum = 0
    for i in range(0, 20, 2):
        csum += (hdr[i] << 8) | hdr[i + 1]
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~csum & 0xFFFF) + hdr[12:]
    return hdr + udp
