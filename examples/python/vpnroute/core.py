"""The binding proper: contexts, tunnels, BGP peers, paths, events, log,
data planes (host-written in Python, or the built-in userspace ESP).

Rules carried over from the C library (vpnroute.h):

* one Context is used by one thread at a time; every callback runs
  synchronously inside the call that triggered it;
* a callback that raises makes the C callback return
  VPNR_ERR_CALLBACK_FAILURE (cffi ``error=``); the exception is kept and
  raised again, unchanged, out of the Context method that triggered it;
  a callback may also return a negative VPNR_ERR_* code itself;
* ids (tunnels, SAs, peers, paths, transports, ops) are ints that are
  never reused within a context;
* time is monotonic nanoseconds, read from the Context's ``clock``
  (``time.monotonic_ns`` unless a test passes a fake one).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, NamedTuple, Optional, Tuple, Union

from ._vpnroute import ffi, lib

__all__ = [
    "Error", "Addr", "Ts", "TunnelEvent", "BgpEvent", "ChildSA", "Policy",
    "Route", "TunnelInfo", "BgpPeerInfo", "PathAttrs", "EspCounters",
    "EspSAInfo", "Host", "Dataplane", "Esp", "Context", "version",
    "strerror", "err_name", "udp_classify", "tunnel_event_name",
    "bgp_event_name",
]

_log = logging.getLogger("vpnroute")

# ------------------------------------------------------------------ errors


class Error(Exception):
    """A negative VPNR_ERR_* code returned by the library.

    ``code`` is the number, ``name`` its symbolic name
    ("VPNR_ERR_NOT_FOUND"), ``detail`` the context's or builder's last
    error text when there is one.
    """

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.name = ffi.string(lib.vpnr_err_name(code)).decode()
        self.detail = detail
        msg = "%s (%d): %s" % (self.name, code,
                               ffi.string(lib.vpnr_strerror(code)).decode())
        if detail:
            msg += ": " + detail
        super().__init__(msg)

    @property
    def fatal(self) -> bool:
        """True if the error left the context unusable."""
        return bool(lib.vpnr_err_is_fatal(self.code))


def strerror(code: int) -> str:
    """Text of a VPNR_ERR_* code."""
    return ffi.string(lib.vpnr_strerror(code)).decode()


def err_name(code: int) -> str:
    """Name of a VPNR_ERR_* code, e.g. "VPNR_ERR_NOMEM"."""
    return ffi.string(lib.vpnr_err_name(code)).decode()


def tunnel_event_name(type: int) -> str:
    """Name of a VPNR_TUNNEL_EV_* constant ("UP", "CHILD_DOWN" ...), or
    "UNKNOWN"."""
    return ffi.string(lib.vpnr_tunnel_event_name(type)).decode()


def bgp_event_name(type: int) -> str:
    """Name of a VPNR_BGP_EV_* constant ("ESTABLISHED" ...), or
    "UNKNOWN"."""
    return ffi.string(lib.vpnr_bgp_event_name(type)).decode()


def version() -> Tuple[str, str]:
    """(library version, OpenSSL version) of the loaded library."""
    v = lib.vpnr_version(0)
    return (ffi.string(v.version_str).decode(),
            ffi.string(v.crypto_str).decode())


def udp_classify(data: bytes) -> int:
    """VPNR_UDP_IKE / _ESP / _KEEPALIVE for a NAT-T datagram, or
    VPNR_ERR_MALFORMED."""
    return lib.vpnr_udp_classify(data, len(data))


# Exceptions raised in callbacks wait here until the call that triggered
# them returns (callbacks run on the calling thread, inside the call).
_tls = threading.local()


def _stash(exc: BaseException) -> None:
    if getattr(_tls, "exc", None) is None:
        _tls.exc = exc


def _onerror(exctype, value, tb) -> None:
    # cffi then returns the def_extern's error= value to C.
    _stash(value if value is not None else exctype())


def _call(fn: Callable[..., int], *args) -> int:
    """Call into C; raise what a callback raised during the call."""
    prev = getattr(_tls, "exc", None)
    _tls.exc = None
    try:
        rc = fn(*args)
    finally:
        exc = _tls.exc
        _tls.exc = prev
    if exc is not None:
        raise exc
    return rc


def _check(rc: int, detail: Callable[[], str] = lambda: "") -> int:
    if rc < 0:
        raise Error(rc, detail())
    return rc


def _rc(r) -> int:
    """A callback's return value as a C status."""
    if r is None or r is True:
        return lib.VPNR_OK
    if isinstance(r, bool) or not isinstance(r, int):
        raise TypeError("callback must return None or a VPNR_* int, not %r"
                        % (r,))
    return r


# --------------------------------------------------------- plain data types


class Addr(NamedTuple):
    """An IP address and port (0 = unset)."""
    host: str
    port: int = 0


AddrLike = Union[Addr, str, Tuple[str, int]]


def _addr(a: Optional[AddrLike]) -> Optional[Addr]:
    if a is None or isinstance(a, Addr):
        return a
    if isinstance(a, str):
        return Addr(a, 0)
    return Addr(a[0], a[1])


def _addr_to_c(a: Optional[AddrLike], out) -> None:
    """Fill a vpnr_addr * (zeroed by ffi.new) from a Python address."""
    a = _addr(a)
    if a is None:
        return
    try:
        packed = socket.inet_pton(socket.AF_INET, a.host)
        out.family = lib.VPNR_AF_INET
    except OSError:
        try:
            packed = socket.inet_pton(socket.AF_INET6, a.host)
        except OSError:
            raise ValueError("not an IP address: %r" % (a.host,)) from None
        out.family = lib.VPNR_AF_INET6
    out.port = a.port
    ffi.memmove(out.bytes, packed, len(packed))


def _caddr(a: Optional[AddrLike]):
    p = ffi.new("vpnr_addr *")
    _addr_to_c(a, p)
    return p


def _addr_from_c(p) -> Optional[Addr]:
    if p == ffi.NULL or p.family == 0:
        return None
    if p.family == lib.VPNR_AF_INET:
        host = socket.inet_ntop(socket.AF_INET, ffi.buffer(p.bytes, 4)[:])
    else:
        host = socket.inet_ntop(socket.AF_INET6, ffi.buffer(p.bytes, 16)[:])
    return Addr(host, p.port)


def _prefix_to_c(s: str, out) -> None:
    net = ipaddress.ip_network(s, strict=True)
    _addr_to_c(Addr(str(net.network_address)), out.addr)
    out.len = net.prefixlen


def _prefix_from_c(p) -> str:
    a = _addr_from_c(p.addr)
    return "%s/%d" % (a.host if a else "0.0.0.0", p.len)


class Ts(NamedTuple):
    """An IKEv2 traffic selector: address range, protocol, port range."""
    start: str
    end: str
    ip_proto: int = 0
    port_start: int = 0
    port_end: int = 65535

    @classmethod
    def from_prefix(cls, prefix: str) -> "Ts":
        net = ipaddress.ip_network(prefix, strict=True)
        return cls(str(net.network_address), str(net.broadcast_address))


def _ts_to_c(ts: Ts, out) -> None:
    out.ip_proto = ts.ip_proto
    out.port_start = ts.port_start
    out.port_end = ts.port_end
    _addr_to_c(ts.start, out.addr_start)
    _addr_to_c(ts.end, out.addr_end)


def _ts_from_c(p) -> Ts:
    return Ts(_addr_from_c(p.addr_start).host, _addr_from_c(p.addr_end).host,
              p.ip_proto, p.port_start, p.port_end)


@dataclass(frozen=True)
class TunnelEvent:
    """A tunnel event (VPNR_TUNNEL_EV_*); reason is 0 or a VPNR_ERR_*."""
    type: int
    reason: int
    tunnel_id: int
    sa_id: int
    local: Optional[Addr]
    remote: Optional[Addr]
    notify: int
    ike_spi_i: int = 0  # the tunnel's IKE SA, when it has one
    ike_spi_r: int = 0


@dataclass(frozen=True)
class BgpEvent:
    """A BGP peer event (VPNR_BGP_EV_*)."""
    type: int
    reason: int
    peer_id: int
    notif_code: int
    notif_subcode: int
    afi_safi: int


@dataclass
class ChildSA:
    """One direction of a CHILD_SA as handed to a data plane.  The keys
    are copies: Python cannot wipe them, so a data plane that keeps them
    should keep them no longer than it must."""
    sa_id: int
    tunnel_id: int
    spi: int
    protocol: int
    direction: int
    flags: int
    src: Optional[Addr]
    dst: Optional[Addr]
    encr_id: int
    encr_key_bits: int
    integ_id: int
    encr_key: bytes
    integ_key: bytes
    replay_window: int
    if_id: int
    soft: Tuple[int, int, int]  # bytes, packets, seconds
    hard: Tuple[int, int, int]
    ts_local: List[Ts] = field(default_factory=list)
    ts_remote: List[Ts] = field(default_factory=list)


def _child_sa_from_c(p) -> ChildSA:
    return ChildSA(
        p.sa_id, p.tunnel_id, p.spi, p.protocol, p.direction, p.flags,
        _addr_from_c(p.src), _addr_from_c(p.dst), p.encr_id, p.encr_key_bits,
        p.integ_id, bytes(ffi.buffer(p.encr_key, p.encr_key_len)),
        bytes(ffi.buffer(p.integ_key, p.integ_key_len))
        if p.integ_key_len else b"",
        p.replay_window, p.if_id,
        (p.soft.bytes, p.soft.packets, p.soft.seconds),
        (p.hard.bytes, p.hard.packets, p.hard.seconds),
        [_ts_from_c(p.ts_local[i]) for i in range(p.n_ts_local)],
        [_ts_from_c(p.ts_remote[i]) for i in range(p.n_ts_remote)])


@dataclass(frozen=True)
class Policy:
    """An IPsec policy (selector pair and direction) of a tunnel."""
    policy_id: int
    tunnel_id: int
    direction: int
    priority: int
    out_sa_id: int
    ts_local: Ts
    ts_remote: Ts
    if_id: int


@dataclass(frozen=True)
class Route:
    """A route for the data plane: prefix via nexthop into if_id."""
    prefix: str
    nexthop: Optional[Addr]
    if_id: int
    flags: int
    metric: int
    peer_id: int
    tunnel_id: int


def _route_from_c(p) -> Route:
    return Route(_prefix_from_c(p.prefix), _addr_from_c(p.nexthop), p.if_id,
                 p.flags, p.metric, p.peer_id, p.tunnel_id)


@dataclass(frozen=True)
class TunnelInfo:
    """Snapshot of a tunnel (vpnr_tunnel_get_info)."""
    state: int
    n_child_sa: int
    local: Optional[Addr]
    remote: Optional[Addr]
    established_at: int
    ike_rekeys: int
    child_rekeys: int
    spi_i: int
    spi_r: int
    child_spi_in: int
    child_spi_out: int
    last_error: int
    retransmits: int
    malformed: int


@dataclass(frozen=True)
class BgpPeerInfo:
    """A "show bgp summary" line (vpnr_bgp_peer_get_info)."""
    state: int
    remote_as: int
    remote: Optional[Addr]
    peer_router_id: int
    hold_s: int
    keepalive_s: int
    established_at: int
    pfx_received_v4: int
    pfx_received_v6: int
    pfx_accepted_v4: int
    pfx_accepted_v6: int
    pfx_sent_v4: int
    pfx_sent_v6: int
    updates_in: int
    updates_out: int
    flaps: int
    last_reason: int


@dataclass(frozen=True)
class PathAttrs:
    """Attributes of a BGP path: next hop, MED (None = absent),
    communities."""
    nexthop: Optional[Addr] = None
    med: Optional[int] = None
    communities: Tuple[int, ...] = ()


_COUNTERS = ("packets_in", "octets_in", "packets_out", "octets_out",
             "integrity_failed", "replay_dropped", "invalid_padding",
             "unknown_spi", "cipher_failed", "malformed", "dummy_dropped",
             "lifetime_dropped", "no_sa_dropped", "policy_dropped")


@dataclass(frozen=True)
class EspCounters:
    """Packet and drop counters of the built-in ESP data plane."""
    packets_in: int
    octets_in: int
    packets_out: int
    octets_out: int
    integrity_failed: int
    replay_dropped: int
    invalid_padding: int
    unknown_spi: int
    cipher_failed: int
    malformed: int
    dummy_dropped: int
    lifetime_dropped: int
    no_sa_dropped: int
    policy_dropped: int


def _counters_from_c(c) -> EspCounters:
    return EspCounters(*(getattr(c, n) for n in _COUNTERS))


@dataclass(frozen=True)
class EspSAInfo:
    """One SA of the built-in ESP data plane."""
    sa_id: int
    tunnel_id: int
    spi: int
    if_id: int
    direction: int
    active: bool
    seq: int
    src: Optional[Addr]
    dst: Optional[Addr]
    counters: EspCounters


def _esp_sa_from_c(p) -> EspSAInfo:
    return EspSAInfo(p.sa_id, p.tunnel_id, p.spi, p.if_id, p.direction,
                     bool(p.active), p.seq, _addr_from_c(p.src),
                     _addr_from_c(p.dst), _counters_from_c(p.counters))


# ------------------------------------------------------------- host hooks


class Host:
    """What the library asks of the program around it.  Subclass and
    override what you need; the defaults drop datagrams, refuse
    transports and log through the "vpnroute" logger.  Methods return
    None (success) or a negative VPNR_ERR_* code; an exception makes the
    triggering Context call raise it.  They must not drive the context
    (recv_datagram, handle_expiry ...): schedule that instead.
    """

    def send_datagram(self, local: Addr, remote: Addr, data: bytes):
        """Send an IKE datagram from local (port 500 or 4500) to remote."""

    def transport_open(self, transport_id: int, local: Optional[Addr],
                       remote: Addr, ttl: int, md5_key: Optional[bytes]):
        """Open a BGP TCP connection; report with
        Context.transport_connected() later (not from here)."""
        return lib.VPNR_ERR_UNSUPPORTED

    def transport_send(self, transport_id: int, data: bytes) -> int:
        """Queue bytes; return how many were taken, or
        VPNR_ERR_WOULDBLOCK."""
        return len(data)

    def transport_close(self, transport_id: int) -> None:
        """Close a BGP connection (no Context.transport_closed needed)."""

    def expiry_changed(self, expiry: int) -> None:
        """The next deadline (monotonic ns) may have changed."""

    def tunnel_event(self, ev: TunnelEvent):
        """A tunnel came up, went down, rekeyed ..."""

    def bgp_event(self, ev: BgpEvent):
        """A BGP session came up, went down ..."""

    def log(self, level: int, subsys: str, msg: str) -> None:
        """One log line (level in syslog numbering)."""
        _log.log({3: logging.ERROR, 4: logging.WARNING, 5: logging.INFO,
                  6: logging.INFO}.get(level, logging.DEBUG),
                 "%s: %s", subsys, msg)


class Dataplane:
    """A data plane written in Python (the vpnr_dataplane ops table).

    Each op returns None (done), VPNR_ASYNC (then call
    ``self.ctx.dp_complete(op_id, status)`` later, outside callbacks)
    or a negative VPNR_ERR_*.  Ops must not drive the context.
    """

    _ctx_ref: Optional[Callable[[], Optional["Context"]]] = None

    @property
    def ctx(self) -> Optional["Context"]:
        """The Context this data plane is attached to."""
        return self._ctx_ref() if self._ctx_ref else None

    def get_spi(self, src: Addr, dst: Addr, protocol: int) -> Optional[int]:
        """Optional: choose an inbound SPI (only called when a subclass
        overrides it; returning None refuses: VPNR_ERR_UNSUPPORTED)."""
        return None

    def sa_add(self, op_id: int, sa: ChildSA):
        """Install one direction of a CHILD_SA."""

    def sa_del(self, op_id: int, sa: ChildSA):
        """Remove an SA installed with sa_add."""

    def policy_add(self, op_id: int, pol: Policy):
        """Install a policy."""

    def policy_del(self, op_id: int, pol: Policy):
        """Remove a policy."""

    def route_add(self, op_id: int, route: Route):
        """Install a route (BGP-learned, into a tunnel)."""

    def route_del(self, op_id: int, route: Route):
        """Remove a route."""

    def sa_query(self, sa_id: int) -> Optional[Tuple[int, int, int]]:
        """Optional: (bytes, packets, last_used ns) of an SA, or None if
        unknown (only called when a subclass overrides it)."""
        return None


class Esp:
    """The library's built-in userspace ESP data plane (esp.h).

    Pass it as ``Context(dataplane=esp)``.  Routes the library installs
    are kept in ``routes`` (prefix -> Route) and handed to
    ``route_add``/``route_del``, which a subclass may override (e.g. to
    program the kernel).  Delete the Context before the Esp.
    """

    def __init__(self) -> None:
        pp = ffi.new("vpnr_esp **")
        _check(lib.vpnr_esp_new(pp, ffi.NULL))
        self._p = ffi.gc(pp[0], lib.vpnr_esp_del)
        self.routes: dict = {}
        self._users = 0  # open Contexts using it
        self._out = ffi.new("uint8_t[]", 65535 + 256)
        self._olen = ffi.new("size_t *")
        self._dst = ffi.new("vpnr_addr *")
        self._ifid = ffi.new("uint32_t *")

    def route_add(self, op_id: int, route: Route):
        """A route into a tunnel; the default records it in routes."""
        self.routes[route.prefix] = route

    def route_del(self, op_id: int, route: Route):
        """A route leaves; the default forgets it."""
        self.routes.pop(route.prefix, None)

    def encap(self, if_id: int, ip_pkt: bytes,
              now: Optional[int] = None) -> Tuple[bytes, Addr]:
        """Encrypt an inner IP packet leaving through if_id: returns the
        ESP packet and the peer address to send it to (ESP-in-UDP)."""
        rc = lib.vpnr_esp_encap(self._p, if_id, ip_pkt, len(ip_pkt),
                                self._out, len(self._out), self._olen,
                                self._dst, _now(now))
        _check(rc)
        return ffi.buffer(self._out, self._olen[0])[:], \
            _addr_from_c(self._dst)

    def decap(self, src: AddrLike, udp_payload: bytes,
              now: Optional[int] = None) -> Tuple[bytes, int]:
        """Decrypt an ESP packet from src: returns the inner packet
        (b"" for a dummy packet) and the if_id it arrived on."""
        rc = lib.vpnr_esp_decap(self._p, _caddr(src), udp_payload,
                                len(udp_payload), self._out, len(self._out),
                                self._olen, self._ifid, _now(now))
        _check(rc)
        return ffi.buffer(self._out, self._olen[0])[:], self._ifid[0]

    def poll_expired(self, now: Optional[int] = None) -> int:
        """Report queued lifetime expiries to the context (not from
        callbacks); returns how many."""
        return _check(_call(lib.vpnr_esp_poll_expired, self._p, _now(now)))

    def counters(self, if_id: Optional[int] = None) -> EspCounters:
        """Counters of one tunnel interface, or of everything."""
        c = ffi.new("vpnr_esp_counters *")
        if if_id is None:
            _check(lib.vpnr_esp_get_counters(self._p, c))
        else:
            _check(lib.vpnr_esp_get_tunnel_counters(self._p, if_id, c))
        return _counters_from_c(c)

    def sa_info(self, sa_id: int) -> EspSAInfo:
        """Snapshot of one SA."""
        p = ffi.new("vpnr_esp_sa_info *")
        _check(lib.vpnr_esp_get_sa_info(self._p, sa_id, p))
        return _esp_sa_from_c(p)

    def sas(self) -> List[EspSAInfo]:
        """Every installed SA, in sa_id order."""
        out: List[EspSAInfo] = []
        h = ffi.new_handle(out)
        _call(lib.vpnr_esp_sa_walk, self._p, lib._py_esp_sa_cb, h)
        return out

    def sa_install(self, sa: ChildSA) -> None:
        """Install an SA directly (static keying, or a Python data plane
        that forwards to this one); the keys are copied."""
        c = ffi.new("vpnr_child_sa *")
        keep, keys = [], []
        for n in ("sa_id", "tunnel_id", "spi", "protocol", "direction",
                  "flags", "encr_id", "encr_key_bits", "integ_id",
                  "replay_window", "if_id"):
            setattr(c, n, getattr(sa, n))
        _addr_to_c(sa.src, c.src)
        _addr_to_c(sa.dst, c.dst)
        ek = ffi.new("uint8_t[]", sa.encr_key)
        keys.append(ek)
        c.encr_key, c.encr_key_len = ek, len(sa.encr_key)
        if sa.integ_key:
            ik = ffi.new("uint8_t[]", sa.integ_key)
            keys.append(ik)
            c.integ_key, c.integ_key_len = ik, len(sa.integ_key)
        (c.soft.bytes, c.soft.packets, c.soft.seconds) = sa.soft
        (c.hard.bytes, c.hard.packets, c.hard.seconds) = sa.hard
        for attr, lst in (("ts_local", sa.ts_local),
                          ("ts_remote", sa.ts_remote)):
            if lst:
                arr = ffi.new("vpnr_ts[]", len(lst))
                keep.append(arr)
                for i, t in enumerate(lst):
                    _ts_to_c(t, arr[i])
                setattr(c, attr, arr)
                setattr(c, "n_" + attr, len(lst))
        try:
            _check(lib.vpnr_esp_sa_install(self._p, c))
        finally:
            for k in keys:
                ffi.memmove(k, b"\0" * len(k), len(k))

    def sa_remove(self, sa_id: int) -> None:
        """Remove an SA by id."""
        _check(lib.vpnr_esp_sa_remove(self._p, sa_id))

    def close(self) -> None:
        """Free the data plane now (the Context using it must be gone)."""
        if self._users:
            raise ValueError("vpnroute: close the Context using this Esp "
                             "first")
        if self._p is not None:
            p, self._p = self._p, None
            ffi.gc(p, None)  # detach the destructor, free now
            lib.vpnr_esp_del(p)


def _now(now: Optional[int]) -> int:
    return time.monotonic_ns() if now is None else now


# ---------------------------------------------------------------- context


class _Ref:
    """What user_data points to: a weak reference, so that a Context is
    freed by reference counting, not by the cycle collector."""
    __slots__ = ("ref",)

    def __init__(self, ctx: "Context") -> None:
        self.ref = weakref.ref(ctx)


def _ctx_of(ud) -> "Context":
    c = ffi.from_handle(ud).ref()
    if c is None:
        raise RuntimeError("vpnroute: callback for a freed Context")
    return c


class Context:
    """A vpnr_ctx: tunnels and BGP peers driven by the host.

    host: a Host (I/O, events, log).  dataplane: a Dataplane, an Esp, or
    None (ops succeed and do nothing).  clock: monotonic ns (tests pass
    a fake clock).  Use as a context manager, or call close().
    """

    def __init__(self, host: Optional[Host] = None, *,
                 dataplane: Union[Dataplane, Esp, None] = None,
                 local_as: int = 0, router_id: int = 0,
                 log_level: int = lib.VPNR_LOG_INFO,
                 ike_ports: Optional[Tuple[int, int]] = None,
                 cookie_threshold: Optional[int] = None,
                 clock: Callable[[], int] = time.monotonic_ns,
                 rand_bytes: Optional[Callable[[int], bytes]] = None) -> None:
        self._p = None
        self.host = host if host is not None else Host()
        self.dataplane = dataplane
        self.clock = clock
        self._rand = rand_bytes
        self._ref = ffi.new_handle(_Ref(self))
        pcfg = ffi.new("vpnr_config **")
        _check(lib.vpnr_config_new(pcfg, ffi.NULL))
        cfg = pcfg[0]
        try:
            if local_as:
                _check(lib.vpnr_config_set_local_as(cfg, local_as))
            if router_id:
                _check(lib.vpnr_config_set_router_id(cfg, router_id))
            _check(lib.vpnr_config_set_log_level(cfg, log_level))
            if ike_ports is not None:
                _check(lib.vpnr_config_set_ike_ports(cfg, *ike_ports))
            if cookie_threshold is not None:
                _check(lib.vpnr_config_set_cookie_threshold(
                    cfg, cookie_threshold))
            cb = ffi.new("vpnr_callbacks *")
            cb.send_datagram = lib._py_send_datagram
            cb.transport_open = lib._py_transport_open
            cb.transport_send = lib._py_transport_send
            cb.transport_close = lib._py_transport_close
            cb.expiry_changed = lib._py_expiry_changed
            if rand_bytes is not None:
                cb.rand_bytes = lib._py_rand_bytes
            cb.tunnel_event = lib._py_tunnel_event
            cb.bgp_event = lib._py_bgp_event
            cb.log_msg = lib._py_log_msg
            dp, dpd = ffi.NULL, ffi.NULL
            if isinstance(dataplane, Esp):
                if dataplane._p is None:
                    raise ValueError("vpnroute: Esp is closed")
                dp, dpd = lib.vpnr_esp_dataplane(), dataplane._p
                _check(lib.vpnr_esp_set_route_ops(
                    dataplane._p, lib._py_esp_route_add,
                    lib._py_esp_route_del, self._ref))
            elif dataplane is not None:
                d = ffi.new("vpnr_dataplane *")
                for op in ("get_spi", "sa_add", "sa_del", "policy_add",
                           "policy_del", "route_add", "route_del",
                           "sa_query"):
                    # The two optional ops only when overridden.
                    if op in ("get_spi", "sa_query") and getattr(
                            type(dataplane), op) is getattr(Dataplane, op):
                        continue
                    setattr(d, op, getattr(lib, "_py_dp_" + op))
                dp, dpd = d, self._ref
                dataplane._ctx_ref = weakref.ref(self)
            pctx = ffi.new("vpnr_ctx **")
            _check(_call(lib.vpnr_ctx_new, pctx, cfg, cb, self._ref, dp, dpd,
                         ffi.NULL))
            self._p = pctx[0]
            if isinstance(dataplane, Esp):
                dataplane._users += 1
        finally:
            lib.vpnr_config_del(cfg)

    # lifecycle
    def close(self) -> None:
        """Free the context and everything in it (no DELETE is sent:
        call shutdown() first for that).  Idempotent."""
        if self._p is not None:
            p, self._p = self._p, None
            lib.vpnr_ctx_del(p)
            if isinstance(self.dataplane, Esp):
                self.dataplane._users -= 1
                lib.vpnr_esp_set_route_ops(self.dataplane._p, ffi.NULL,
                                           ffi.NULL, ffi.NULL)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules already gone
            pass

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _c(self):
        if self._p is None:
            raise ValueError("vpnroute: Context is closed")
        return self._p

    def _drive(self, fn, *args) -> int:
        p = self._c()
        return _check(_call(fn, p, *args), self.last_error)

    def last_error(self) -> str:
        """Text detail of the last error on this context, or ""."""
        if self._p is None:
            return ""
        return ffi.string(lib.vpnr_ctx_last_error(self._p)).decode()

    def now(self) -> int:
        """The context's clock, monotonic ns."""
        return self.clock()

    def shutdown(self) -> None:
        """Delete every tunnel (IKE DELETE) and peer (CEASE)."""
        self._drive(lib.vpnr_ctx_shutdown, self.clock())

    # bring-your-own-loop driving
    def recv_datagram(self, local: AddrLike, remote: AddrLike,
                      data: bytes) -> int:
        """A UDP datagram received on the IKE or NAT-T port.  Returns
        VPNR_OK, VPNR_ERR_NOT_IKE (an ESP packet: hand it to the data
        plane) or VPNR_ERR_MALFORMED (dropped and counted); raises
        Error for anything else."""
        rc = _call(lib.vpnr_ctx_recv_datagram, self._c(), _caddr(local),
                   _caddr(remote), data, len(data), self.clock())
        if rc in (lib.VPNR_ERR_NOT_IKE, lib.VPNR_ERR_MALFORMED):
            return rc
        return _check(rc, self.last_error)

    @property
    def expiry(self) -> int:
        """Next deadline (monotonic ns) or VPNR_TSTAMP_NEVER (2**64-1)."""
        return lib.vpnr_ctx_get_expiry(self._c())

    def handle_expiry(self, now: Optional[int] = None) -> None:
        """Run every timer due at or before now."""
        self._drive(lib.vpnr_ctx_handle_expiry,
                    self.clock() if now is None else now)

    def transport_accepted(self, local: AddrLike, remote: AddrLike) -> int:
        """A BGP connection the host accepted; returns its id."""
        tid = ffi.new("uint64_t *")
        self._drive(lib.vpnr_transport_accepted, _caddr(local),
                    _caddr(remote), tid, self.clock())
        return tid[0]

    def transport_connected(self, transport_id: int, status: int = 0) -> None:
        """Outcome of Host.transport_open (0 or a VPNR_ERR_*)."""
        self._drive(lib.vpnr_transport_connected, transport_id, status,
                    self.clock())

    def transport_set_local(self, transport_id: int, local: AddrLike) -> None:
        """The local address the TCP stack chose (getsockname)."""
        self._drive(lib.vpnr_transport_set_local, transport_id,
                    _caddr(local))

    def transport_recv(self, transport_id: int, data: bytes) -> None:
        """Bytes received on a BGP connection."""
        self._drive(lib.vpnr_transport_recv, transport_id, data, len(data),
                    self.clock())

    def transport_writable(self, transport_id: int) -> None:
        """A connection that returned VPNR_ERR_WOULDBLOCK drained."""
        self._drive(lib.vpnr_transport_writable, transport_id, self.clock())

    def transport_closed(self, transport_id: int, status: int = 0) -> None:
        """The peer closed the connection, or it failed."""
        self._drive(lib.vpnr_transport_closed, transport_id, status,
                    self.clock())

    # data plane
    def dp_complete(self, op_id: int, status: int = 0) -> None:
        """Complete a data-plane op that returned VPNR_ASYNC."""
        self._drive(lib.vpnr_dp_complete, op_id, status, self.clock())

    def dp_sa_expired(self, sa_id: int, hard: bool) -> None:
        """An SA hit its soft or hard byte/packet lifetime."""
        self._drive(lib.vpnr_dp_sa_expired, sa_id, int(hard), self.clock())

    def dp_replay(self) -> None:
        """Re-send every installed SA, policy and route."""
        self._drive(lib.vpnr_dp_replay, self.clock())

    # tunnels
    def add_tunnel(self, local: AddrLike, remote: AddrLike, psk: bytes, *,
                   ike_proposals: Iterable[str] = (),
                   esp_proposals: Iterable[str] = (),
                   if_id: int = 0,
                   local_id: Optional[Tuple[int, bytes]] = None,
                   remote_id: Optional[Tuple[int, bytes]] = None,
                   ts: Iterable[Tuple[Ts, Ts]] = (),
                   dpd: Optional[Tuple[int, int]] = None,
                   liveness: Optional[Tuple[int, int]] = None,
                   suspect: Optional[int] = None,
                   rekey: Optional[Tuple[int, int, int]] = None,
                   force_encap: bool = False,
                   share_ike: bool = False,
                   replay_window: Optional[int] = None,
                   retransmit: Optional[Tuple[int, int]] = None,
                   ike_version: int = 2,
                   ikev1_flags: int = 0) -> int:
        """Add a tunnel (responder-ready at once); returns its id.

        ike_version 1 speaks IKEv1 (ikev1_flags: IKEV1_AGGRESSIVE,
        IKEV1_COMMIT); it is set before the proposals are read.
        Proposals are strongSwan-style strings; local_id/remote_id are
        (VPNR_ID_* type, value); ts is a list of (local, remote) Ts
        pairs (default 0/0 both ways); dpd (interval ns, action),
        liveness (interval ns, timeout ns), suspect (ns), rekey
        (ike ns, child ns, jitter %), retransmit (first ns, tries);
        share_ike opens the CHILD_SA inside a sibling tunnel's IKE SA.
        """
        ptc = ffi.new("vpnr_tunnel_config **")
        _check(lib.vpnr_tunnel_config_new(ptc, ffi.NULL))
        tc = ptc[0]

        def chk(rc):
            return _check(rc, lambda: ffi.string(
                lib.vpnr_tunnel_config_last_error(tc)).decode())
        try:
            chk(lib.vpnr_tunnel_config_set_addrs(tc, _caddr(local),
                                                  _caddr(remote)))
            chk(lib.vpnr_tunnel_config_set_psk(tc, psk, len(psk)))
            if ike_version != 2 or ikev1_flags:
                chk(lib.vpnr_tunnel_config_set_ike_version(tc, ike_version,
                                                           ikev1_flags))
            for p in ike_proposals:
                chk(lib.vpnr_tunnel_config_add_ike_proposal(tc, p.encode()))
            for p in esp_proposals:
                chk(lib.vpnr_tunnel_config_add_esp_proposal(tc, p.encode()))
            if if_id:
                chk(lib.vpnr_tunnel_config_set_if_id(tc, if_id))
            if local_id is not None:
                chk(lib.vpnr_tunnel_config_set_local_id(
                    tc, local_id[0], local_id[1], len(local_id[1])))
            if remote_id is not None:
                chk(lib.vpnr_tunnel_config_set_remote_id(
                    tc, remote_id[0], remote_id[1], len(remote_id[1])))
            for lt, rt in ts:
                a, b = ffi.new("vpnr_ts *"), ffi.new("vpnr_ts *")
                _ts_to_c(lt, a)
                _ts_to_c(rt, b)
                chk(lib.vpnr_tunnel_config_add_ts(tc, a, b))
            if dpd is not None:
                chk(lib.vpnr_tunnel_config_set_dpd(tc, *dpd))
            if liveness is not None:
                chk(lib.vpnr_tunnel_config_set_liveness(tc, *liveness))
            if suspect is not None:
                chk(lib.vpnr_tunnel_config_set_suspect(tc, suspect))
            if rekey is not None:
                chk(lib.vpnr_tunnel_config_set_rekey(tc, *rekey))
            if force_encap:
                chk(lib.vpnr_tunnel_config_set_force_encap(tc, 1))
            if share_ike:
                chk(lib.vpnr_tunnel_config_set_share_ike(tc, 1))
            if replay_window is not None:
                chk(lib.vpnr_tunnel_config_set_replay_window(
                    tc, replay_window))
            if retransmit is not None:
                chk(lib.vpnr_tunnel_config_set_retransmit(tc, *retransmit))
            tid = ffi.new("uint64_t *")
            self._drive(lib.vpnr_tunnel_add, tc, ffi.NULL, tid)
            return tid[0]
        finally:
            lib.vpnr_tunnel_config_del(tc)

    def initiate(self, tunnel_id: int) -> None:
        """Start IKE_SA_INIT."""
        self._drive(lib.vpnr_tunnel_initiate, tunnel_id, self.clock())

    def close_tunnel(self, tunnel_id: int) -> None:
        """Send DELETE and tear the tunnel down."""
        self._drive(lib.vpnr_tunnel_close, tunnel_id, self.clock())

    def del_tunnel(self, tunnel_id: int) -> None:
        """Close and forget the tunnel."""
        self._drive(lib.vpnr_tunnel_del, tunnel_id, self.clock())

    def rekey(self, tunnel_id: int, what: int = lib.VPNR_REKEY_CHILD) -> None:
        """Rekey the CHILD_SA (VPNR_REKEY_CHILD) or IKE SA now."""
        self._drive(lib.vpnr_tunnel_rekey, tunnel_id, what, self.clock())

    def tunnel_info(self, tunnel_id: int) -> TunnelInfo:
        """Snapshot of a tunnel."""
        i = ffi.new("vpnr_tunnel_info *")
        self._drive(lib.vpnr_tunnel_get_info, tunnel_id, i)
        return TunnelInfo(i.state, i.n_child_sa, _addr_from_c(i.local),
                          _addr_from_c(i.remote), i.established_at,
                          i.ike_rekeys, i.child_rekeys, i.spi_i, i.spi_r,
                          i.child_spi_in, i.child_spi_out, i.last_error,
                          i.retransmits, i.malformed)

    # BGP
    def add_bgp_peer(self, remote: AddrLike, remote_as: int, *,
                     local: Optional[AddrLike] = None,
                     tunnel_id: int = 0,
                     import_all: bool = True,
                     export: int = lib.VPNR_BGP_EXPORT_LOCAL,
                     hold: Optional[Tuple[int, int]] = None,
                     connect_retry: Optional[int] = None,
                     passive: bool = False, multihop: int = 0,
                     md5_key: Optional[bytes] = None,
                     max_prefix: int = 0, families: int = 0,
                     nexthops: Iterable[AddrLike] = (),
                     prefix_list: Iterable[Tuple[int, str, int, int, bool]] =
                     (),
                     enable: bool = True) -> int:
        """Add an eBGP peer (and enable it unless enable=False); returns
        its id.  hold is (hold s, keepalive s); prefix_list entries are
        (VPNR_BGP_DIR_*, prefix, ge, le, permit)."""
        ppc = ffi.new("vpnr_bgp_peer_config **")
        _check(lib.vpnr_bgp_peer_config_new(ppc, ffi.NULL))
        pc = ppc[0]
        try:
            _check(lib.vpnr_bgp_peer_config_set_remote(pc, _caddr(remote),
                                                        remote_as))
            if local is not None:
                _check(lib.vpnr_bgp_peer_config_set_local(pc, _caddr(local)))
            if tunnel_id:
                _check(lib.vpnr_bgp_peer_config_set_tunnel(pc, tunnel_id))
            _check(lib.vpnr_bgp_peer_config_set_policy(
                pc, lib.VPNR_BGP_IMPORT_ALL if import_all
                else lib.VPNR_BGP_IMPORT_NONE, export))
            if hold is not None:
                _check(lib.vpnr_bgp_peer_config_set_timers(pc, *hold))
            if connect_retry is not None:
                _check(lib.vpnr_bgp_peer_config_set_connect_timers(
                    pc, connect_retry, 0))
            if passive:
                _check(lib.vpnr_bgp_peer_config_set_passive(pc, 1))
            if multihop:
                _check(lib.vpnr_bgp_peer_config_set_multihop(pc, multihop))
            if md5_key:
                _check(lib.vpnr_bgp_peer_config_set_md5(pc, md5_key,
                                                         len(md5_key)))
            if max_prefix:
                _check(lib.vpnr_bgp_peer_config_set_max_prefix(pc,
                                                                max_prefix))
            if families:
                _check(lib.vpnr_bgp_peer_config_set_families(pc, families))
            for nh in nexthops:
                _check(lib.vpnr_bgp_peer_config_set_nexthop(pc, _caddr(nh)))
            for d, pfx, ge, le, permit in prefix_list:
                cp = ffi.new("vpnr_prefix *")
                _prefix_to_c(pfx, cp)
                _check(lib.vpnr_bgp_peer_config_add_prefix_list(
                    pc, d, cp, ge, le, int(permit)))
            pid = ffi.new("uint64_t *")
            self._drive(lib.vpnr_bgp_peer_add, pc, ffi.NULL, pid)
        finally:
            lib.vpnr_bgp_peer_config_del(pc)
        if enable:
            self.enable_bgp_peer(pid[0], True)
        return pid[0]

    def enable_bgp_peer(self, peer_id: int, enable: bool = True) -> None:
        """Start or stop (Cease/Administrative Shutdown) a peer."""
        self._drive(lib.vpnr_bgp_peer_enable, peer_id, int(enable),
                    self.clock())

    def del_bgp_peer(self, peer_id: int) -> None:
        """Stop and forget a peer; its routes are withdrawn."""
        self._drive(lib.vpnr_bgp_peer_del, peer_id, self.clock())

    def bgp_peer_info(self, peer_id: int) -> BgpPeerInfo:
        """A "show bgp summary" line."""
        i = ffi.new("vpnr_bgp_peer_info *")
        self._drive(lib.vpnr_bgp_peer_get_info, peer_id, i)
        return BgpPeerInfo(
            i.state, i.remote_as, _addr_from_c(i.remote), i.peer_router_id,
            i.hold_s, i.keepalive_s, i.established_at, i.pfx_received_v4,
            i.pfx_received_v6, i.pfx_accepted_v4, i.pfx_accepted_v6,
            i.pfx_sent_v4, i.pfx_sent_v6, i.updates_in, i.updates_out,
            i.flaps, i.last_reason)

    def add_path(self, prefix: str, attrs: Optional[PathAttrs] = None) -> int:
        """Originate a prefix; returns the path id."""
        cp = ffi.new("vpnr_prefix *")
        _prefix_to_c(prefix, cp)
        ca, keep = ffi.NULL, None
        if attrs is not None:
            ca = ffi.new("vpnr_path_attrs *")
            _addr_to_c(attrs.nexthop, ca.nexthop)
            if attrs.med is not None:
                ca.med = attrs.med
                ca.flags |= lib.VPNR_PATH_F_HAS_MED
            if attrs.communities:
                keep = ffi.new("uint32_t[]", list(attrs.communities))
                ca.communities = keep
                ca.n_communities = len(attrs.communities)
        pid = ffi.new("uint64_t *")
        self._drive(lib.vpnr_bgp_path_add, cp, ca, pid, self.clock())
        return pid[0]

    def del_path(self, path_id: int) -> None:
        """Withdraw a path added with add_path()."""
        self._drive(lib.vpnr_bgp_path_del, path_id, self.clock())

    def rib(self, rib: int = lib.VPNR_RIB_LOC,
            peer_id: int = 0) -> List[Tuple[str, PathAttrs, int]]:
        """(prefix, attrs, peer_id) of every path in a RIB
        (VPNR_RIB_ADJ_IN, _LOC or _ADJ_OUT)."""
        out: list = []
        self._drive(lib.vpnr_bgp_rib_walk, rib, peer_id, lib._py_rib_cb,
                    ffi.new_handle(out))
        return out


# ------------------------------------------------------------- callbacks
# Every callback: error= VPNR_ERR_CALLBACK_FAILURE when Python raised,
# and onerror keeps the exception for the triggering call.

_FAIL = lib.VPNR_ERR_CALLBACK_FAILURE


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_send_datagram(c, local, remote, data, n, ud):
    return _rc(_ctx_of(ud).host.send_datagram(
        _addr_from_c(local), _addr_from_c(remote), ffi.buffer(data, n)[:]))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_transport_open(c, tid, local, remote, ttl, md5, md5_len, ud):
    return _rc(_ctx_of(ud).host.transport_open(
        tid, _addr_from_c(local), _addr_from_c(remote), ttl,
        ffi.buffer(md5, md5_len)[:] if md5 != ffi.NULL else None))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_transport_send(c, tid, data, n, ud):
    r = _ctx_of(ud).host.transport_send(tid, ffi.buffer(data, n)[:])
    if not isinstance(r, int) or isinstance(r, bool) or r > n:
        raise TypeError("transport_send must return a count <= len(data)"
                        " or VPNR_ERR_WOULDBLOCK, not %r" % (r,))
    return r


@ffi.def_extern(onerror=_onerror)
def _py_transport_close(c, tid, ud):
    _ctx_of(ud).host.transport_close(tid)


@ffi.def_extern(onerror=_onerror)
def _py_expiry_changed(c, expiry, ud):
    _ctx_of(ud).host.expiry_changed(expiry)


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_rand_bytes(c, buf, n, ud):
    b = _ctx_of(ud)._rand(n)
    if len(b) != n:
        raise ValueError("rand_bytes returned %d bytes, not %d" % (len(b), n))
    ffi.memmove(buf, b, n)
    return lib.VPNR_OK


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_tunnel_event(c, ev, ud):
    return _rc(_ctx_of(ud).host.tunnel_event(TunnelEvent(
        ev.type, ev.reason, ev.tunnel_id, ev.sa_id, _addr_from_c(ev.local),
        _addr_from_c(ev.remote), ev.notify, ev.ike_spi_i, ev.ike_spi_r)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_bgp_event(c, ev, ud):
    return _rc(_ctx_of(ud).host.bgp_event(BgpEvent(
        ev.type, ev.reason, ev.peer_id, ev.notif_code, ev.notif_subcode,
        ev.afi_safi)))


@ffi.def_extern(onerror=_onerror)
def _py_log_msg(c, level, subsys, msg, n, ud):
    _ctx_of(ud).host.log(level, ffi.string(subsys).decode(),
                         ffi.buffer(msg, n)[:].decode("utf-8", "replace"))


def _dp(ud) -> Dataplane:
    return _ctx_of(ud).dataplane


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_get_spi(c, src, dst, proto, spi, ud):
    r = _dp(ud).get_spi(_addr_from_c(src), _addr_from_c(dst), proto)
    if r is None:
        return lib.VPNR_ERR_UNSUPPORTED
    spi[0] = r
    return lib.VPNR_OK


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_sa_add(c, op, sa, ud):
    return _rc(_dp(ud).sa_add(op, _child_sa_from_c(sa)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_sa_del(c, op, sa, ud):
    return _rc(_dp(ud).sa_del(op, _child_sa_from_c(sa)))


def _policy_from_c(p) -> Policy:
    return Policy(p.policy_id, p.tunnel_id, p.direction, p.priority,
                  p.out_sa_id, _ts_from_c(p.ts_local), _ts_from_c(p.ts_remote),
                  p.if_id)


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_policy_add(c, op, pol, ud):
    return _rc(_dp(ud).policy_add(op, _policy_from_c(pol)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_policy_del(c, op, pol, ud):
    return _rc(_dp(ud).policy_del(op, _policy_from_c(pol)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_route_add(c, op, rt, ud):
    return _rc(_dp(ud).route_add(op, _route_from_c(rt)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_route_del(c, op, rt, ud):
    return _rc(_dp(ud).route_del(op, _route_from_c(rt)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_dp_sa_query(c, sa_id, nbytes, npackets, last_used, ud):
    r = _dp(ud).sa_query(sa_id)
    if r is None:
        return lib.VPNR_ERR_NOT_FOUND
    nbytes[0], npackets[0], last_used[0] = r
    return lib.VPNR_OK


# The built-in ESP data plane chains its route ops to the Esp object.
@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_esp_route_add(c, op, rt, ud):
    return _rc(_dp(ud).route_add(op, _route_from_c(rt)))


@ffi.def_extern(error=_FAIL, onerror=_onerror)
def _py_esp_route_del(c, op, rt, ud):
    return _rc(_dp(ud).route_del(op, _route_from_c(rt)))


@ffi.def_extern(error=1, onerror=_onerror)
def _py_rib_cb(prefix, attrs, peer_id, arg):
    a = attrs
    pa = PathAttrs(
        _addr_from_c(a.nexthop),
        a.med if a.flags & lib.VPNR_PATH_F_HAS_MED else None,
        tuple(a.communities[i] for i in range(a.n_communities)))
    ffi.from_handle(arg).append((_prefix_from_c(prefix), pa, peer_id))
    return 0


@ffi.def_extern(error=1, onerror=_onerror)
def _py_esp_sa_cb(info, arg):
    ffi.from_handle(arg).append(_esp_sa_from_c(info))
    return 0
