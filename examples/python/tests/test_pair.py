"""A tunnel and an eBGP session between two contexts in one process, data
through the built-in ESP data plane both ways."""

import pytest

import vpnroute as v
from conftest import (A_AS, A_BGP, A_WAN, B_AS, B_BGP, B_WAN, IF_ID, PSK,
                      add_tunnels, ipv4_udp)


def bring_up(net):
    a, b = net.make(0), net.make(1)
    ta, tb = add_tunnels(net)
    pa = a.add_bgp_peer(B_BGP, B_AS, local=A_BGP, tunnel_id=ta,
                        hold=(9, 3), connect_retry=1)
    pb = b.add_bgp_peer(A_BGP, A_AS, local=B_BGP, tunnel_id=tb,
                        hold=(9, 3), passive=True)
    a.add_path("192.168.2.0/24")
    b.add_path("10.50.0.0/16", v.PathAttrs(med=20, communities=(65050 << 16 | 7,)))
    b.add_path("10.51.0.0/16")
    a.initiate(ta)
    net.advance(5 * v.SECONDS)
    return a, b, ta, tb, pa, pb


def test_tunnel_bgp_and_esp(net):
    a, b, ta, tb, pa, pb = bring_up(net)
    ha, hb = net.hosts
    assert v.TUNNEL_EV_UP in ha.types() and v.TUNNEL_EV_CHILD_UP in ha.types()
    assert v.TUNNEL_EV_CHILD_UP in hb.types()
    ia = a.tunnel_info(ta)
    assert ia.state == v.TUNNEL_ESTABLISHED
    up = [e for e in ha.tunnel_events if e.type == v.TUNNEL_EV_UP][-1]
    assert (up.ike_spi_i, up.ike_spi_r) == (ia.spi_i, ia.spi_r) != (0, 0)
    assert ia.remote.host == B_WAN and ia.n_child_sa >= 1
    assert b.tunnel_info(tb).child_spi_in == ia.child_spi_out

    # BGP over the tunnel: established, routes point into it.
    assert a.bgp_peer_info(pa).state == v.BGP_STATE_ESTABLISHED
    assert b.bgp_peer_info(pb).state == v.BGP_STATE_ESTABLISHED
    assert [e.type for e in ha.bgp_events].count(v.BGP_EV_ESTABLISHED) == 1
    routes = net.esp[0].routes
    assert set(routes) == {"10.50.0.0/16", "10.51.0.0/16"}
    r = routes["10.50.0.0/16"]
    assert r.nexthop.host == B_BGP and r.tunnel_id == ta and r.peer_id == pa
    assert r.if_id == IF_ID and r.flags & v.ROUTE_F_BGP
    assert net.esp[1].routes["192.168.2.0/24"].tunnel_id == tb
    loc = {p: (attrs, peer) for p, attrs, peer in a.rib(v.RIB_LOC)}
    assert loc["10.50.0.0/16"][0].med == 20
    assert loc["10.50.0.0/16"][0].communities == (65050 << 16 | 7,)
    assert loc["10.50.0.0/16"][1] == pa
    assert loc["192.168.2.0/24"][1] == 0
    assert [p for p, _, _ in b.rib(v.RIB_ADJ_IN, pb)] == ["192.168.2.0/24"]

    # Data: encrypt on A, decrypt on B, and back.
    for i in range(3):
        pkt = ipv4_udp("192.168.2.10", "10.50.1.1", b"hello %d" % i)
        esp, dst = net.esp[0].encap(IF_ID, pkt)
        assert dst == v.Addr(B_WAN, 4500)
        assert pkt[28:] not in esp
        inner, if_id = net.esp[1].decap(v.Addr(A_WAN, 4500), esp)
        assert inner == pkt and if_id == IF_ID
    back = ipv4_udp("10.50.1.1", "192.168.2.10", b"reply")
    esp, dst = net.esp[1].encap(IF_ID, back)
    assert dst.host == A_WAN
    assert net.esp[0].decap(v.Addr(B_WAN, 4500), esp) == (back, IF_ID)
    # a replayed packet is refused and counted
    try:
        net.esp[0].decap(v.Addr(B_WAN, 4500), esp)
        raise AssertionError("replay accepted")
    except v.Error as e:
        assert e.code == v.ERR_REPLAY
    assert net.esp[0].counters(IF_ID).replay_dropped == 1
    assert net.esp[1].counters(IF_ID).packets_in == 3
    sas = net.esp[0].sas()
    assert {s.direction for s in sas} == {v.DIR_IN, v.DIR_OUT}
    assert all(s.tunnel_id == ta for s in sas)

    # Tear down from A: the routes leave B's and A's data planes.
    a.close_tunnel(ta)
    net.advance(2 * v.SECONDS)
    assert v.TUNNEL_EV_DOWN in hb.types()
    assert net.esp[0].routes == {} and net.esp[1].routes == {}
    assert b.bgp_peer_info(pb).state != v.BGP_STATE_ESTABLISHED


def test_shutdown_sends_delete(net):
    a, b, ta, tb, pa, pb = bring_up(net)
    a.shutdown()
    net.advance(2 * v.SECONDS)
    assert v.TUNNEL_EV_DOWN in net.hosts[1].types()
    assert b.tunnel_info(tb).state != v.TUNNEL_ESTABLISHED


class ForwardingDataplane(v.Dataplane):
    """A data plane written in Python: it keeps its own SA table and
    programs a static-keyed Esp from what the library hands it (as a
    vendor's code would program an ASIC)."""

    def __init__(self):
        self.esp = v.Esp()
        self.sas = {}
        self.policies = []

    def sa_add(self, op_id, sa):
        self.sas[sa.sa_id] = sa
        self.esp.sa_install(sa)

    def sa_del(self, op_id, sa):
        self.sas.pop(sa.sa_id, None)
        self.esp.sa_remove(sa.sa_id)

    def policy_add(self, op_id, pol):
        self.policies.append(pol)

    def get_spi(self, src, dst, protocol):
        self.spi = getattr(self, "spi", 0xc0de0000) + 1
        return self.spi


def test_python_dataplane_carries_traffic(net):
    dps = [ForwardingDataplane(), ForwardingDataplane()]
    try:
        a, b = net.make(0, dataplane=dps[0]), net.make(1, dataplane=dps[1])
        ta, tb = add_tunnels(net, esp_proposals=["aes128-sha256"])
        a.initiate(ta)
        net.advance(2 * v.SECONDS)
        assert v.TUNNEL_EV_CHILD_UP in net.hosts[1].types()
        out = [s for s in dps[0].sas.values() if s.direction == v.DIR_OUT][0]
        inb = [s for s in dps[1].sas.values() if s.direction == v.DIR_IN][0]
        assert inb.spi == out.spi and inb.spi & 0xffff0000 == 0xc0de0000
        assert out.encr_id == v.ENCR_AES_CBC and out.encr_key_bits == 128
        assert out.integ_id == v.INTEG_HMAC_SHA2_256_128
        assert len(out.encr_key) == 16 and len(out.integ_key) == 32
        assert out.dst == v.Addr(B_WAN, 4500) and out.if_id == IF_ID
        assert out.flags & v.SA_F_UDP_ENCAP and out.flags & v.SA_F_TUNNEL
        assert out.ts_local[0] == v.Ts("0.0.0.0", "255.255.255.255")
        assert dps[0].policies and dps[0].policies[0].if_id == IF_ID
        pkt = ipv4_udp("192.168.2.10", "10.50.1.1", b"via a Python data plane")
        esp, dst = dps[0].esp.encap(IF_ID, pkt)
        assert dps[1].esp.decap(v.Addr(A_WAN, 4500), esp) == (pkt, IF_ID)
        a.close_tunnel(ta)
        net.advance(2 * v.SECONDS)
        assert dps[0].sas == {} and dps[1].sas == {}
    finally:
        net.close()
        for d in dps:
            d.esp.close()


def test_ikev1_tunnel_carries_traffic(net):
    """ike_version=1: Main Mode + Quick Mode between the contexts, with a
    proposal only IKEv1 knows (read after the version), data both ways."""
    net.make(0), net.make(1)
    ta, tb = add_tunnels(net, ike_version=1,
                         ike_proposals=["3des-md5-modp1024"],
                         esp_proposals=["aes128-sha1"])
    net.ctx[0].initiate(ta)
    net.advance(5 * v.SECONDS)
    ia, ib = net.ctx[0].tunnel_info(ta), net.ctx[1].tunnel_info(tb)
    assert ia.state == ib.state == v.TUNNEL_ESTABLISHED
    assert ia.child_spi_out == ib.child_spi_in != 0
    assert (ia.spi_i, ia.spi_r) == (ib.spi_i, ib.spi_r) != (0, 0)
    for src, dst, a, b, peer in ((0, 1, "192.168.2.10", "10.50.1.1", A_WAN),
                                 (1, 0, "10.50.1.1", "192.168.2.10", B_WAN)):
        pkt = ipv4_udp(a, b, b"over IKEv1")
        esp, _ = net.esp[src].encap(IF_ID, pkt)
        inner, if_id = net.esp[dst].decap(v.Addr(peer, 4500), esp)
        assert inner == pkt and if_id == IF_ID
    # IKEv2 refuses what only IKEv1 knows, naming it.
    with pytest.raises(v.Error, match="3des"):
        net.ctx[0].add_tunnel(A_WAN, B_WAN, PSK,
                              ike_proposals=["3des-md5-modp1024"])
