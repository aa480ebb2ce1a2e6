package vpnroute

// #include "shim.h"
import "C"

import (
	"net/netip"
	"unsafe"
)

// Constants of the C API (vpnroute.h) that Go programs use.
const (
	TunnelEvUp           = C.VPNR_TUNNEL_EV_UP
	TunnelEvDown         = C.VPNR_TUNNEL_EV_DOWN
	TunnelEvRekeyed      = C.VPNR_TUNNEL_EV_REKEYED
	TunnelEvChildUp      = C.VPNR_TUNNEL_EV_CHILD_UP
	TunnelEvChildDown    = C.VPNR_TUNNEL_EV_CHILD_DOWN
	TunnelEvChildRekeyed = C.VPNR_TUNNEL_EV_CHILD_REKEYED
	TunnelEvFailed       = C.VPNR_TUNNEL_EV_FAILED
	TunnelEvSuspect      = C.VPNR_TUNNEL_EV_SUSPECT
	TunnelEvLive         = C.VPNR_TUNNEL_EV_LIVE

	BgpEvEstablished    = C.VPNR_BGP_EV_ESTABLISHED
	BgpEvDown           = C.VPNR_BGP_EV_DOWN
	BgpEvPrefixLimit    = C.VPNR_BGP_EV_PREFIX_LIMIT
	BgpEvEOR            = C.VPNR_BGP_EV_EOR
	BgpEvNexthopRefused = C.VPNR_BGP_EV_NEXTHOP_REFUSED
	BgpEvTunnelDown     = C.VPNR_BGP_EV_TUNNEL_DOWN
	BgpEvTunnelUp       = C.VPNR_BGP_EV_TUNNEL_UP

	TunnelIdle        = C.VPNR_TUNNEL_IDLE
	TunnelConnecting  = C.VPNR_TUNNEL_CONNECTING
	TunnelEstablished = C.VPNR_TUNNEL_ESTABLISHED

	BgpStateIdle        = C.VPNR_BGP_STATE_IDLE
	BgpStateEstablished = C.VPNR_BGP_STATE_ESTABLISHED

	BgpImportNone  = C.VPNR_BGP_IMPORT_NONE
	BgpImportAll   = C.VPNR_BGP_IMPORT_ALL
	BgpExportNone  = C.VPNR_BGP_EXPORT_NONE
	BgpExportLocal = C.VPNR_BGP_EXPORT_LOCAL
	BgpExportAll   = C.VPNR_BGP_EXPORT_ALL

	RibAdjIn  = C.VPNR_RIB_ADJ_IN
	RibLoc    = C.VPNR_RIB_LOC
	RibAdjOut = C.VPNR_RIB_ADJ_OUT

	DirIn  = C.VPNR_DIR_IN
	DirOut = C.VPNR_DIR_OUT

	RouteFBgp    = C.VPNR_ROUTE_F_BGP
	RouteFTunnel = C.VPNR_ROUTE_F_TUNNEL

	LogErr   = C.VPNR_LOG_ERR
	LogInfo  = C.VPNR_LOG_INFO
	LogDebug = C.VPNR_LOG_DEBUG

	UDPIKE       = C.VPNR_UDP_IKE
	UDPESP       = C.VPNR_UDP_ESP
	UDPKeepalive = C.VPNR_UDP_KEEPALIVE

	IKEv1Aggressive = C.VPNR_IKEV1_AGGRESSIVE
	IKEv1Commit     = C.VPNR_IKEV1_COMMIT

	RekeyChild = C.VPNR_REKEY_CHILD
	RekeyIKE   = C.VPNR_REKEY_IKE

	Millisecond = uint64(1000000)
	Second      = uint64(1000000000)
	Never       = ^uint64(0)
)

// Version is the run-time library version ("0.1.0") and OpenSSL's.
func Version() (string, string) {
	v := C.vpnr_version(0)
	return C.GoString(v.version_str), C.GoString(v.crypto_str)
}

// UDPClassify tells IKE, ESP and NAT keepalives apart on port 4500.
func UDPClassify(b []byte) int {
	if len(b) == 0 {
		return C.VPNR_ERR_MALFORMED
	}
	return int(C.vpnr_udp_classify((*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))))
}

func addrToC(a netip.AddrPort, out *C.vpnr_addr) {
	*out = C.vpnr_addr{}
	ip := a.Addr()
	if !ip.IsValid() {
		return
	}
	if ip.Is4() || ip.Is4In6() {
		b := ip.Unmap().As4()
		out.family = C.VPNR_AF_INET
		for i := range b {
			out.bytes[i] = C.uint8_t(b[i])
		}
	} else {
		b := ip.As16()
		out.family = C.VPNR_AF_INET6
		for i := range b {
			out.bytes[i] = C.uint8_t(b[i])
		}
	}
	out.port = C.uint16_t(a.Port())
}

func addrFromC(p *C.vpnr_addr) netip.AddrPort {
	if p == nil || p.family == 0 {
		return netip.AddrPort{}
	}
	var ip netip.Addr
	if p.family == C.VPNR_AF_INET {
		var b [4]byte
		for i := range b {
			b[i] = byte(p.bytes[i])
		}
		ip = netip.AddrFrom4(b)
	} else {
		var b [16]byte
		for i := range b {
			b[i] = byte(p.bytes[i])
		}
		ip = netip.AddrFrom16(b)
	}
	return netip.AddrPortFrom(ip, uint16(p.port))
}

func prefixToC(p netip.Prefix, out *C.vpnr_prefix) {
	*out = C.vpnr_prefix{}
	addrToC(netip.AddrPortFrom(p.Masked().Addr(), 0), &out.addr)
	out.len = C.uint8_t(p.Bits())
}

func prefixFromC(p *C.vpnr_prefix) netip.Prefix {
	return netip.PrefixFrom(addrFromC(&p.addr).Addr(), int(p.len))
}

// TS is an IKEv2 traffic selector.
type TS struct {
	Start, End         netip.Addr
	Proto              uint8
	PortStart, PortEnd uint16
}

func tsFromC(p *C.vpnr_ts) TS {
	return TS{addrFromC(&p.addr_start).Addr(), addrFromC(&p.addr_end).Addr(),
		uint8(p.ip_proto), uint16(p.port_start), uint16(p.port_end)}
}

// TunnelEvent is a VPNR_TUNNEL_EV_* event; Reason is 0 or a code.
type TunnelEvent struct {
	Type          int
	Reason        int
	TunnelID      uint64
	SaID          uint64
	Local, Remote netip.AddrPort
	Notify        uint16
	// The tunnel's IKE SA (initiator's, responder's SPI), when it has one.
	IkeSpiI, IkeSpiR uint64
}

// BgpEvent is a VPNR_BGP_EV_* event.
type BgpEvent struct {
	Type                    int
	Reason                  int
	PeerID                  uint64
	NotifCode, NotifSubcode uint8
	AfiSafi                 uint8
}

// ChildSA is one direction of a CHILD_SA handed to a Dataplane.  The
// keys are copies the Dataplane owns (zero them when done).
type ChildSA struct {
	SaID, TunnelID      uint64
	SPI                 uint32
	Protocol, Direction uint8
	Flags               uint16
	Src, Dst            netip.AddrPort
	EncrID, EncrKeyBits uint16
	IntegID             uint16
	EncrKey, IntegKey   []byte
	ReplayWindow, IfID  uint32
	TSLocal, TSRemote   []TS
}

func childSAFromC(p *C.vpnr_child_sa) *ChildSA {
	sa := &ChildSA{
		SaID: uint64(p.sa_id), TunnelID: uint64(p.tunnel_id), SPI: uint32(p.spi),
		Protocol: uint8(p.protocol), Direction: uint8(p.direction), Flags: uint16(p.flags),
		Src: addrFromC(&p.src), Dst: addrFromC(&p.dst), EncrID: uint16(p.encr_id),
		EncrKeyBits: uint16(p.encr_key_bits), IntegID: uint16(p.integ_id),
		EncrKey:      C.GoBytes(unsafe.Pointer(p.encr_key), C.int(p.encr_key_len)),
		ReplayWindow: uint32(p.replay_window), IfID: uint32(p.if_id),
	}
	if p.integ_key_len > 0 {
		sa.IntegKey = C.GoBytes(unsafe.Pointer(p.integ_key), C.int(p.integ_key_len))
	}
	if p.n_ts_local > 0 {
		for _, t := range unsafe.Slice(p.ts_local, int(p.n_ts_local)) {
			sa.TSLocal = append(sa.TSLocal, tsFromC(&t))
		}
	}
	if p.n_ts_remote > 0 {
		for _, t := range unsafe.Slice(p.ts_remote, int(p.n_ts_remote)) {
			sa.TSRemote = append(sa.TSRemote, tsFromC(&t))
		}
	}
	return sa
}

// Policy is an IPsec policy of a tunnel.
type Policy struct {
	PolicyID, TunnelID uint64
	Direction          uint8
	Priority           uint32
	OutSaID            uint64
	TSLocal, TSRemote  TS
	IfID               uint32
}

// Route is a route the library hands to the data plane.
type Route struct {
	Prefix           netip.Prefix
	Nexthop          netip.AddrPort
	IfID, Flags      uint32
	Metric           uint32
	PeerID, TunnelID uint64
}

func routeFromC(p *C.vpnr_route) Route {
	return Route{prefixFromC(&p.prefix), addrFromC(&p.nexthop), uint32(p.if_id),
		uint32(p.flags), uint32(p.metric), uint64(p.peer_id), uint64(p.tunnel_id)}
}

// TunnelInfo is a snapshot of a tunnel.
type TunnelInfo struct {
	State, NChildSA         uint32
	Local, Remote           netip.AddrPort
	EstablishedAt           uint64
	IkeRekeys, ChildRekeys  uint64
	SpiI, SpiR              uint64
	ChildSpiIn, ChildSpiOut uint32
	LastError               int
	Retransmits, Malformed  uint64
}

// BgpPeerInfo is a "show bgp summary" line.
type BgpPeerInfo struct {
	State, RemoteAS                         uint32
	Remote                                  netip.AddrPort
	HoldS, KeepaliveS                       uint16
	EstablishedAt                           uint64
	PfxReceivedV4, PfxAcceptedV4, PfxSentV4 uint32
	UpdatesIn, UpdatesOut                   uint64
	Flaps                                   uint32
	LastReason                              int
}

// PathAttrs are the attributes of a BGP path (Med < 0: absent).
type PathAttrs struct {
	Nexthop     netip.AddrPort
	Med         int64
	Communities []uint32
}

// RibEntry is one path of a RIB walk.
type RibEntry struct {
	Prefix netip.Prefix
	Attrs  PathAttrs
	PeerID uint64 // 0 for our own paths
}

// EspCounters are packet and drop counters of the ESP data plane.
type EspCounters struct {
	PacketsIn, OctetsIn, PacketsOut, OctetsOut uint64
	IntegrityFailed, ReplayDropped, UnknownSPI uint64
	NoSADropped, PolicyDropped, Malformed      uint64
}

func countersFromC(c *C.vpnr_esp_counters) EspCounters {
	return EspCounters{uint64(c.packets_in), uint64(c.octets_in), uint64(c.packets_out),
		uint64(c.octets_out), uint64(c.integrity_failed), uint64(c.replay_dropped),
		uint64(c.unknown_spi), uint64(c.no_sa_dropped), uint64(c.policy_dropped),
		uint64(c.malformed)}
}

// EspSAInfo is one SA of the ESP data plane.
type EspSAInfo struct {
	SaID, TunnelID uint64
	SPI, IfID      uint32
	Direction      uint8
	Active         bool
	Seq            uint64
	Counters       EspCounters
}
