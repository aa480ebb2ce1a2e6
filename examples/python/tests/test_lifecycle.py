"""Lifecycle: create, use, close; misuse is refused; a 10,000-iteration
create/use/destroy loop keeps RSS flat."""

import gc
import os

import pytest

import vpnroute as v
from conftest import A_WAN, B_WAN, IF_ID, PSK, ipv4_udp


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def test_version_and_errors():
    ver, crypto = v.version()
    assert ver.count(".") == 2 and "OpenSSL" in crypto
    assert v.err_name(v.ERR_NOMEM) == "VPNR_ERR_NOMEM"
    assert v.Error(v.ERR_IN_CALLBACK).code == v.ERR_IN_CALLBACK
    assert v.Error(v.ERR_INTERNAL).fatal and not v.Error(v.ERR_LIMIT).fatal
    assert v.udp_classify(b"\xff") == v.UDP_KEEPALIVE
    assert v.udp_classify(b"\0\0\0\0" + b"x" * 28) == v.UDP_IKE
    assert v.tunnel_event_name(v.TUNNEL_EV_CHILD_DOWN) == "CHILD_DOWN"
    assert v.tunnel_event_name(99) == "UNKNOWN"
    assert v.bgp_event_name(v.BGP_EV_ESTABLISHED) == "ESTABLISHED"
    assert v.err_name(v.ERR_DEAD_PEER) == "VPNR_ERR_DEAD_PEER"
    with v.Context() as c:
        with pytest.raises(v.Error) as ei:  # timeout out of range
            c.add_tunnel(A_WAN, B_WAN, PSK, liveness=(10 * v.SECONDS, 0))
        assert "timeout" in ei.value.detail


def test_close_is_idempotent_and_final():
    c = v.Context(local_as=65010)
    t = c.add_tunnel(A_WAN, B_WAN, PSK)
    assert c.tunnel_info(t).state == v.TUNNEL_IDLE
    c.close()
    c.close()
    with pytest.raises(ValueError):
        c.tunnel_info(t)


def test_esp_outlives_context_only():
    esp = v.Esp()
    c = v.Context(dataplane=esp)
    with pytest.raises(ValueError):
        esp.close()  # the context still uses it
    c.close()
    esp.close()
    with pytest.raises(ValueError):
        v.Context(dataplane=esp)


def test_ids_never_reused():
    with v.Context(local_as=65010) as c:
        t1 = c.add_tunnel(A_WAN, B_WAN, PSK)
        c.del_tunnel(t1)
        t2 = c.add_tunnel(A_WAN, B_WAN, PSK)
        assert t2 != t1
        with pytest.raises(v.Error) as ei:
            c.tunnel_info(t1)
        assert ei.value.code == v.ERR_NOT_FOUND
        p1 = c.add_path("10.1.0.0/16")
        c.del_path(p1)
        assert c.add_path("10.1.0.0/16") != p1


def _static_sa(sa_id, direction, spi, src, dst):
    return v.ChildSA(
        sa_id=sa_id, tunnel_id=1, spi=spi, protocol=50, direction=direction,
        flags=v.SA_F_UDP_ENCAP | v.SA_F_TUNNEL, src=v.Addr(src, 4500),
        dst=v.Addr(dst, 4500), encr_id=v.ENCR_AES_GCM_16, encr_key_bits=128,
        integ_id=0, encr_key=bytes(range(20)), integ_key=b"",
        replay_window=64, if_id=IF_ID, soft=(0, 0, 0), hard=(0, 0, 0))


def iteration(i: int) -> None:
    esp = v.Esp()
    with v.Context(dataplane=esp, local_as=65010) as c:
        t = c.add_tunnel(A_WAN, B_WAN, PSK, if_id=IF_ID,
                         ike_proposals=["aes256gcm16-prfsha256-x25519"])
        p = c.add_bgp_peer("169.254.21.2", 65050, local="169.254.21.1",
                           tunnel_id=t)
        c.add_path("10.%d.0.0/16" % (i % 200))
        assert len(c.rib()) == 1
        assert c.bgp_peer_info(p).state == v.BGP_STATE_IDLE
        c.handle_expiry()
    # static keys through the data plane (no context)
    esp.sa_install(_static_sa(1, v.DIR_OUT, 0x1000 + i, A_WAN, B_WAN))
    esp.sa_install(_static_sa(2, v.DIR_IN, 0x1000 + i, B_WAN, A_WAN))
    pkt = ipv4_udp("192.168.2.10", "10.50.1.1", b"x" * 64)
    out, dst = esp.encap(IF_ID, pkt)
    assert esp.decap(v.Addr(B_WAN, 4500), out) == (pkt, IF_ID)
    esp.close()


def test_create_use_destroy_10000_rss_flat():
    for i in range(1000):
        iteration(i)
    gc.collect()
    base = rss_kib()
    for i in range(1000, 10000):
        iteration(i)
    gc.collect()
    grown = rss_kib() - base
    if os.environ.get("VPNR_UNDER_ASAN"):
        # ASan's quarantine holds freed memory, so RSS says nothing
        # there; lsan_check.sh looks for leaks from the library instead.
        return
    # A leak of even 100 bytes per iteration would show as ~900 KiB.
    assert grown < 512, "RSS grew by %d KiB over 9000 iterations" % grown
