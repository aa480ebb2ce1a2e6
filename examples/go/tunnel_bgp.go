package vpnroute

// #include "shim.h"
import "C"

import (
	"net/netip"
	"runtime/cgo"
	"unsafe"
)

// TunnelConfig describes a tunnel; zero values are library defaults.
type TunnelConfig struct {
	Local, Remote   netip.AddrPort // port 0: the context's IKE port
	PSK             []byte
	IKEProposals    []string // strongSwan style, e.g. "aes256gcm16-prfsha256-x25519"
	ESPProposals    []string
	IfID            uint32
	ForceEncap      bool
	DPDInterval     uint64 // ns; with DPDAction
	DPDAction       uint32
	ReplayWindow    uint32
	RetransmitFrom  uint64 // ns; with RetransmitTries
	RetransmitTries uint32
	// Liveness: probe after LivenessInterval ns without proof of life,
	// dead after LivenessTimeout ns more; set when the timeout is not 0.
	LivenessInterval uint64
	LivenessTimeout  uint64
	// SuspectAfter: fast failover (vpnr_tunnel_config_set_suspect), ns;
	// 0 leaves it off.
	SuspectAfter uint64
	// IKEVersion 1 speaks IKEv1 (0 or 2: IKEv2), with IKEv1Flags
	// (IKEv1Aggressive, IKEv1Commit).
	IKEVersion uint32
	IKEv1Flags uint32
	// ShareIKE opens the CHILD_SA inside the IKE SA of a sibling tunnel
	// to the same peer (vpnr_tunnel_config_set_share_ike).
	ShareIKE bool
}

// AddTunnel adds a tunnel (responder-ready at once) and returns its id.
func (c *Context) AddTunnel(tc TunnelConfig) (uint64, error) {
	var ptc *C.vpnr_tunnel_config
	if rc := C.vpnr_tunnel_config_new(&ptc, nil); rc != 0 {
		return 0, &Error{Code: int(rc)}
	}
	defer C.vpnr_tunnel_config_del(ptc)
	chk := func(rc C.int) error {
		if rc < 0 {
			return &Error{Code: int(rc), Detail: C.GoString(C.vpnr_tunnel_config_last_error(ptc))}
		}
		return nil
	}
	var l, r C.vpnr_addr
	addrToC(tc.Local, &l)
	addrToC(tc.Remote, &r)
	if err := chk(C.vpnr_tunnel_config_set_addrs(ptc, &l, &r)); err != nil {
		return 0, err
	}
	if err := chk(C.vpnr_tunnel_config_set_psk(ptc, bptr(tc.PSK), C.size_t(len(tc.PSK)))); err != nil {
		return 0, err
	}
	// The version first: it decides how the proposals are read.
	if tc.IKEVersion != 0 {
		if err := chk(C.vpnr_tunnel_config_set_ike_version(ptc, C.uint32_t(tc.IKEVersion), C.uint32_t(tc.IKEv1Flags))); err != nil {
			return 0, err
		}
	}
	for _, p := range tc.IKEProposals {
		cs := C.CString(p)
		err := chk(C.vpnr_tunnel_config_add_ike_proposal(ptc, cs))
		C.free(unsafe.Pointer(cs))
		if err != nil {
			return 0, err
		}
	}
	for _, p := range tc.ESPProposals {
		cs := C.CString(p)
		err := chk(C.vpnr_tunnel_config_add_esp_proposal(ptc, cs))
		C.free(unsafe.Pointer(cs))
		if err != nil {
			return 0, err
		}
	}
	if tc.IfID != 0 {
		if err := chk(C.vpnr_tunnel_config_set_if_id(ptc, C.uint32_t(tc.IfID))); err != nil {
			return 0, err
		}
	}
	if tc.ForceEncap {
		if err := chk(C.vpnr_tunnel_config_set_force_encap(ptc, 1)); err != nil {
			return 0, err
		}
	}
	if tc.ShareIKE {
		if err := chk(C.vpnr_tunnel_config_set_share_ike(ptc, 1)); err != nil {
			return 0, err
		}
	}
	if tc.DPDAction != 0 {
		if err := chk(C.vpnr_tunnel_config_set_dpd(ptc, C.vpnr_tstamp(tc.DPDInterval), C.uint32_t(tc.DPDAction))); err != nil {
			return 0, err
		}
	}
	if tc.LivenessTimeout != 0 {
		if err := chk(C.vpnr_tunnel_config_set_liveness(ptc, C.vpnr_tstamp(tc.LivenessInterval), C.vpnr_tstamp(tc.LivenessTimeout))); err != nil {
			return 0, err
		}
	}
	if tc.SuspectAfter != 0 {
		if err := chk(C.vpnr_tunnel_config_set_suspect(ptc, C.vpnr_tstamp(tc.SuspectAfter))); err != nil {
			return 0, err
		}
	}
	if tc.ReplayWindow != 0 {
		if err := chk(C.vpnr_tunnel_config_set_replay_window(ptc, C.uint32_t(tc.ReplayWindow))); err != nil {
			return 0, err
		}
	}
	if tc.RetransmitTries != 0 {
		if err := chk(C.vpnr_tunnel_config_set_retransmit(ptc, C.vpnr_tstamp(tc.RetransmitFrom), C.uint32_t(tc.RetransmitTries))); err != nil {
			return 0, err
		}
	}
	var id C.uint64_t
	err := c.drive(func(C.vpnr_tstamp) C.int { return C.vpnr_tunnel_add(c.p, ptc, nil, &id) })
	return uint64(id), err
}

// Initiate starts IKE_SA_INIT.
func (c *Context) Initiate(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_tunnel_initiate(c.p, C.uint64_t(id), now) })
}

// CloseTunnel sends DELETE and tears the tunnel down.
func (c *Context) CloseTunnel(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_tunnel_close(c.p, C.uint64_t(id), now) })
}

// DelTunnel closes and forgets a tunnel.
func (c *Context) DelTunnel(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_tunnel_del(c.p, C.uint64_t(id), now) })
}

// Rekey rekeys the CHILD_SA (RekeyChild) or the IKE SA (RekeyIKE) now.
func (c *Context) Rekey(id uint64, what uint32) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_tunnel_rekey(c.p, C.uint64_t(id), C.uint32_t(what), now)
	})
}

// TunnelInfo is a snapshot of a tunnel.
func (c *Context) TunnelInfo(id uint64) (TunnelInfo, error) {
	var i C.vpnr_tunnel_info
	err := c.drive(func(C.vpnr_tstamp) C.int {
		// The real function with this header's version.
		return C.vpnr_tunnel_get_info_versioned(c.p, C.uint64_t(id), C.VPNR_TUNNEL_INFO_VERSION, &i)
	})
	return TunnelInfo{uint32(i.state), uint32(i.n_child_sa), addrFromC(&i.local),
		addrFromC(&i.remote), uint64(i.established_at), uint64(i.ike_rekeys),
		uint64(i.child_rekeys), uint64(i.spi_i), uint64(i.spi_r), uint32(i.child_spi_in),
		uint32(i.child_spi_out), int(i.last_error), uint64(i.retransmits),
		uint64(i.malformed)}, err
}

// BgpPeerConfig describes an eBGP peer; zero values are defaults.
type BgpPeerConfig struct {
	Remote            netip.AddrPort // port 0 = 179
	RemoteAS          uint32
	Local             netip.AddrPort
	TunnelID          uint64 // run the session over this tunnel
	Import            uint32 // BgpImport*; default none (RFC 8212)
	Export            uint32 // BgpExport*
	HoldS, KeepaliveS uint16
	ConnectRetryS     uint16
	Passive           bool
	Multihop          uint8
	MD5               []byte
	MaxPrefix         uint32
	Nexthops          []netip.Addr
	Disabled          bool // add without enabling
}

// AddBgpPeer adds (and unless Disabled enables) a peer; returns its id.
func (c *Context) AddBgpPeer(pc BgpPeerConfig) (uint64, error) {
	var p *C.vpnr_bgp_peer_config
	if rc := C.vpnr_bgp_peer_config_new(&p, nil); rc != 0 {
		return 0, &Error{Code: int(rc)}
	}
	defer C.vpnr_bgp_peer_config_del(p)
	var steps []func() C.int
	var r, l C.vpnr_addr
	addrToC(pc.Remote, &r)
	steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_remote(p, &r, C.uint32_t(pc.RemoteAS)) })
	if pc.Local.IsValid() {
		addrToC(pc.Local, &l)
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_local(p, &l) })
	}
	if pc.TunnelID != 0 {
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_tunnel(p, C.uint64_t(pc.TunnelID)) })
	}
	steps = append(steps, func() C.int {
		return C.vpnr_bgp_peer_config_set_policy(p, C.uint32_t(pc.Import), C.uint32_t(pc.Export))
	})
	if pc.HoldS != 0 || pc.KeepaliveS != 0 {
		steps = append(steps, func() C.int {
			return C.vpnr_bgp_peer_config_set_timers(p, C.uint16_t(pc.HoldS), C.uint16_t(pc.KeepaliveS))
		})
	}
	if pc.ConnectRetryS != 0 {
		steps = append(steps, func() C.int {
			return C.vpnr_bgp_peer_config_set_connect_timers(p, C.uint16_t(pc.ConnectRetryS), 0)
		})
	}
	if pc.Passive {
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_passive(p, 1) })
	}
	if pc.Multihop != 0 {
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_multihop(p, C.uint8_t(pc.Multihop)) })
	}
	if len(pc.MD5) > 0 {
		steps = append(steps, func() C.int {
			return C.vpnr_bgp_peer_config_set_md5(p, bptr(pc.MD5), C.size_t(len(pc.MD5)))
		})
	}
	if pc.MaxPrefix != 0 {
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_max_prefix(p, C.uint32_t(pc.MaxPrefix)) })
	}
	nhs := make([]C.vpnr_addr, len(pc.Nexthops))
	for i, nh := range pc.Nexthops {
		addrToC(netip.AddrPortFrom(nh, 0), &nhs[i])
		a := &nhs[i]
		steps = append(steps, func() C.int { return C.vpnr_bgp_peer_config_set_nexthop(p, a) })
	}
	for _, s := range steps {
		if rc := s(); rc < 0 {
			return 0, &Error{Code: int(rc)}
		}
	}
	var id C.uint64_t
	if err := c.drive(func(C.vpnr_tstamp) C.int { return C.vpnr_bgp_peer_add(c.p, p, nil, &id) }); err != nil {
		return 0, err
	}
	if !pc.Disabled {
		return uint64(id), c.EnableBgpPeer(uint64(id), true)
	}
	return uint64(id), nil
}

// EnableBgpPeer starts or stops (Cease) a peer.
func (c *Context) EnableBgpPeer(id uint64, on bool) error {
	e := 0
	if on {
		e = 1
	}
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_bgp_peer_enable(c.p, C.uint64_t(id), C.int(e), now)
	})
}

// DelBgpPeer stops and forgets a peer.
func (c *Context) DelBgpPeer(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_bgp_peer_del(c.p, C.uint64_t(id), now) })
}

// BgpPeerInfo is a "show bgp summary" line.
func (c *Context) BgpPeerInfo(id uint64) (BgpPeerInfo, error) {
	var i C.vpnr_bgp_peer_info
	err := c.drive(func(C.vpnr_tstamp) C.int {
		return C.vpnr_bgp_peer_get_info_versioned(c.p, C.uint64_t(id), C.VPNR_BGP_PEER_INFO_VERSION, &i)
	})
	return BgpPeerInfo{uint32(i.state), uint32(i.remote_as), addrFromC(&i.remote),
		uint16(i.hold_s), uint16(i.keepalive_s), uint64(i.established_at),
		uint32(i.pfx_received_v4), uint32(i.pfx_accepted_v4), uint32(i.pfx_sent_v4),
		uint64(i.updates_in), uint64(i.updates_out), uint32(i.flaps),
		int(i.last_reason)}, err
}

// AddPath originates a prefix (attrs may be nil); returns the path id.
func (c *Context) AddPath(prefix netip.Prefix, attrs *PathAttrs) (uint64, error) {
	var cp C.vpnr_prefix
	prefixToC(prefix, &cp)
	var id C.uint64_t
	var err error
	if attrs == nil {
		err = c.drive(func(now C.vpnr_tstamp) C.int {
			return C.vpnr_bgp_path_add_versioned(c.p, &cp, C.VPNR_PATH_ATTRS_VERSION, nil, &id, now)
		})
		return uint64(id), err
	}
	// The attrs and the communities live in C memory: the struct holds
	// a pointer, which cgo does not allow into Go memory.
	ca := (*C.vpnr_path_attrs)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vpnr_path_attrs{}))))
	defer C.free(unsafe.Pointer(ca))
	addrToC(attrs.Nexthop, &ca.nexthop)
	if attrs.Med >= 0 {
		ca.med = C.uint32_t(attrs.Med)
		ca.flags |= C.VPNR_PATH_F_HAS_MED
	}
	if n := len(attrs.Communities); n > 0 {
		cm := (*C.uint32_t)(C.calloc(C.size_t(n), 4))
		defer C.free(unsafe.Pointer(cm))
		copy(unsafe.Slice(cm, n), *(*[]C.uint32_t)(unsafe.Pointer(&attrs.Communities)))
		ca.communities = cm
		ca.n_communities = C.size_t(n)
	}
	err = c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_bgp_path_add_versioned(c.p, &cp, C.VPNR_PATH_ATTRS_VERSION, ca, &id, now)
	})
	return uint64(id), err
}

// DelPath withdraws a path added with AddPath.
func (c *Context) DelPath(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_bgp_path_del(c.p, C.uint64_t(id), now) })
}

// Rib lists a RIB (RibAdjIn, RibLoc, RibAdjOut); peer 0 = all (Loc).
func (c *Context) Rib(rib int, peer uint64) ([]RibEntry, error) {
	var out []RibEntry
	h := cgo.NewHandle(&out)
	defer h.Delete()
	err := c.drive(func(C.vpnr_tstamp) C.int {
		return C.shim_rib_walk(c.p, C.int(rib), C.uint64_t(peer), C.uintptr_t(h))
	})
	return out, err
}
