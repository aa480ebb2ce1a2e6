"""Callbacks that raise or return errors: the exception (the same
object) comes out of the call that triggered it, an error code goes
where the library sends it, and the context stays usable."""

import pytest

import vpnroute as v
from conftest import A_WAN, B_WAN, IF_ID, PSK, add_tunnels


class Boom(Exception):
    pass


def test_send_datagram_raises_out_of_initiate(net):
    a, b = net.make(0), net.make(1)
    ta, tb = add_tunnels(net)
    exc = Boom("no route to host")
    net.hosts[0].raise_on["send_datagram"] = exc
    with pytest.raises(Boom) as ei:
        a.initiate(ta)
    assert ei.value is exc
    # usable afterwards: IKE retransmits and the tunnel comes up
    net.advance(5 * v.SECONDS)
    assert a.tunnel_info(ta).state == v.TUNNEL_ESTABLISHED


def test_event_raises_out_of_recv_datagram(net):
    a, b = net.make(0), net.make(1)
    ta, tb = add_tunnels(net)
    exc = Boom("event handler bug")
    net.hosts[1].raise_on["tunnel_event"] = exc
    a.initiate(ta)
    with pytest.raises(Boom) as ei:
        net.run()  # B's recv_datagram delivers the IKE_AUTH request
    assert ei.value is exc
    assert b.last_error() is not None
    # the context is still usable: more tunnels, info, timers
    t2 = b.add_tunnel(B_WAN, "192.0.2.3", PSK)
    assert b.tunnel_info(t2).state == v.TUNNEL_IDLE
    net.advance(30 * v.SECONDS)


def test_event_returns_callback_failure(net):
    a, b = net.make(0), net.make(1)
    ta, tb = add_tunnels(net)
    net.hosts[0].raise_on["tunnel_event_rc"] = v.ERR_CALLBACK_FAILURE
    a.initiate(ta)
    with pytest.raises(v.Error) as ei:
        net.run()
    assert ei.value.code == v.ERR_CALLBACK_FAILURE
    assert ei.value.name == "VPNR_ERR_CALLBACK_FAILURE"


def test_void_callback_exception_still_surfaces(net):
    a = net.make(0)
    ta = a.add_tunnel(A_WAN, B_WAN, PSK)
    exc = Boom("log sink failed")
    net.hosts[0].raise_on["log"] = exc
    with pytest.raises(Boom) as ei:
        a.initiate(ta)  # logs at debug level
    assert ei.value is exc


class FailingDataplane(v.Dataplane):
    """sa_add fails with an error code, or raises."""

    def __init__(self, mode):
        self.mode = mode
        self.ops = []

    def sa_add(self, op_id, sa):
        self.ops.append(("sa_add", sa.direction, sa.spi))
        assert len(sa.encr_key) * 8 >= sa.encr_key_bits
        if self.mode == "code":
            return v.ERR_DATAPLANE
        if self.mode == "raise":
            raise Boom("ASIC full")
        if self.mode == "async":
            return v.ASYNC
        return None

    def sa_del(self, op_id, sa):
        self.ops.append(("sa_del", sa.direction, sa.spi))

    def policy_add(self, op_id, pol):
        self.ops.append(("policy_add", pol.direction))


def test_dataplane_error_code_fails_the_tunnel(net):
    dp = FailingDataplane("code")
    a, b = net.make(0, dataplane=dp), net.make(1)
    ta, tb = add_tunnels(net)
    a.initiate(ta)
    net.advance(2 * v.SECONDS)
    assert dp.ops and dp.ops[0][0] == "sa_add"
    reasons = [e.reason for e in net.hosts[0].tunnel_events
               if e.type in (v.TUNNEL_EV_FAILED, v.TUNNEL_EV_DOWN)]
    assert v.ERR_DATAPLANE in reasons
    assert v.TUNNEL_EV_CHILD_UP not in net.hosts[0].types()


def test_dataplane_exception_surfaces(net):
    dp = FailingDataplane("raise")
    a, b = net.make(0, dataplane=dp), net.make(1)
    ta, tb = add_tunnels(net)
    a.initiate(ta)
    with pytest.raises(Boom):
        net.run()
    assert v.TUNNEL_EV_CHILD_UP not in net.hosts[0].types()


def test_dataplane_async_completion(net):
    dp = FailingDataplane("async")
    ops = []
    orig = dp.sa_add

    def sa_add(op_id, sa):
        ops.append(op_id)
        return orig(op_id, sa)
    dp.sa_add = sa_add
    a, b = net.make(0, dataplane=dp), net.make(1)
    ta, tb = add_tunnels(net)
    a.initiate(ta)
    net.run()
    assert len(ops) == 2  # inbound and outbound SA, both pending
    for op in ops:
        a.dp_complete(op, 0)
    net.run()
    assert v.TUNNEL_EV_CHILD_UP in net.hosts[0].types()
    with pytest.raises(v.Error) as ei:
        a.dp_complete(ops[0], 0)
    assert ei.value.code == v.ERR_NOT_FOUND


def test_bad_config_names_the_field(net):
    a = net.make(0)
    with pytest.raises(v.Error) as ei:
        a.add_tunnel(A_WAN, B_WAN, PSK, ike_proposals=["aes256-bogus-x25519"])
    assert ei.value.code == v.ERR_INVALID_ARGUMENT
    assert "bogus" in str(ei.value)
    with pytest.raises(v.Error) as ei:
        a.initiate(12345)
    assert ei.value.code == v.ERR_NOT_FOUND


def test_rand_bytes_raises():
    def bad(n):
        raise Boom("entropy")
    with v.Context(rand_bytes=bad) as c:
        with pytest.raises(Boom):
            c.add_tunnel(A_WAN, B_WAN, PSK)  # SPI and nonce draws


def test_bad_return_type_is_a_type_error(net):
    class Bad(v.Host):
        def send_datagram(self, local, remote, data):
            return "sent"
    with v.Context(Bad()) as c:
        t = c.add_tunnel(A_WAN, B_WAN, PSK)
        with pytest.raises(TypeError):
            c.initiate(t)


def test_esp_route_op_exception(net):
    class BadEsp(v.Esp):
        def route_add(self, op_id, route):
            raise Boom("kernel said no")
    a = net.make(0)
    b = net.make(1, dataplane=BadEsp())
    net.esp[1] = b.dataplane
    ta, tb = add_tunnels(net)
    b.add_bgp_peer("169.254.21.1", 65010, local="169.254.21.2",
                   tunnel_id=tb, passive=True)
    a.add_bgp_peer("169.254.21.2", 65050, local="169.254.21.1", tunnel_id=ta)
    a.add_path("192.168.9.0/24")
    a.initiate(ta)
    with pytest.raises(Boom):
        net.advance(5 * v.SECONDS)
    assert IF_ID  # routes into the tunnel were attempted on B
