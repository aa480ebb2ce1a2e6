package vpnroute

// #include "shim.h"
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

// Entry points from shim.c.  Each runs on the owner goroutine inside a
// library call.  A plain error or a panic is kept for the triggering
// method and VPNR_ERR_CALLBACK_FAILURE goes back to C; an *Error's
// code goes back as it is.

func ctxOf(h C.uintptr_t) *Context { return cgo.Handle(h).Value().(*Context) }

// fail keeps the first failure of the current call.
func (c *Context) fail(err error) {
	if c.cbErr == nil {
		c.cbErr = err
	}
}

// guard converts a callback's outcome into a C code.
func (c *Context) guard(fn func() error) (rc C.int) {
	defer func() {
		if r := recover(); r != nil {
			c.fail(&PanicError{r})
			rc = C.VPNR_ERR_CALLBACK_FAILURE
		}
	}()
	err := fn()
	switch {
	case err == nil:
		return C.VPNR_OK
	case errors.Is(err, ErrAsync):
		return C.VPNR_ASYNC
	}
	var e *Error
	if errors.As(err, &e) {
		return C.int(e.Code)
	}
	c.fail(err)
	return C.VPNR_ERR_CALLBACK_FAILURE
}

//export goSendDatagram
func goSendDatagram(h C.uintptr_t, l, r *C.vpnr_addr, d *C.uint8_t, n C.size_t) C.int {
	c := ctxOf(h)
	if c.opts.Host == nil {
		return C.VPNR_OK
	}
	return c.guard(func() error {
		return c.opts.Host.SendDatagram(addrFromC(l), addrFromC(r), C.GoBytes(unsafe.Pointer(d), C.int(n)))
	})
}

//export goTransportOpen
func goTransportOpen(h C.uintptr_t, id C.uint64_t, l, r *C.vpnr_addr, ttl C.uint8_t, md5 *C.uint8_t, md5len C.size_t) C.int {
	c := ctxOf(h)
	if c.opts.Host == nil {
		return C.VPNR_ERR_UNSUPPORTED
	}
	var key []byte
	if md5 != nil {
		key = C.GoBytes(unsafe.Pointer(md5), C.int(md5len))
	}
	return c.guard(func() error {
		return c.opts.Host.TransportOpen(uint64(id), addrFromC(l), addrFromC(r), uint8(ttl), key)
	})
}

//export goTransportSend
func goTransportSend(h C.uintptr_t, id C.uint64_t, d *C.uint8_t, n C.size_t) C.int64_t {
	c := ctxOf(h)
	if c.opts.Host == nil {
		return C.int64_t(n)
	}
	var sent int
	rc := c.guard(func() error {
		var err error
		sent, err = c.opts.Host.TransportSend(uint64(id), C.GoBytes(unsafe.Pointer(d), C.int(n)))
		return err
	})
	if rc != C.VPNR_OK {
		return C.int64_t(rc)
	}
	return C.int64_t(sent)
}

//export goTransportClose
func goTransportClose(h C.uintptr_t, id C.uint64_t) {
	c := ctxOf(h)
	if c.opts.Host != nil {
		c.guard(func() error { c.opts.Host.TransportClose(uint64(id)); return nil })
	}
}

//export goExpiryChanged
func goExpiryChanged(h C.uintptr_t, exp C.vpnr_tstamp) {
	// The owner goroutine re-arms its timer after every call.
}

//export goRandBytes
func goRandBytes(h C.uintptr_t, buf *C.uint8_t, n C.size_t) C.int {
	c := ctxOf(h)
	return c.guard(func() error {
		return c.opts.Rand(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
	})
}

//export goTunnelEvent
func goTunnelEvent(h C.uintptr_t, ev *C.vpnr_tunnel_event) C.int {
	c := ctxOf(h)
	if c.opts.NoEvents {
		return C.VPNR_OK
	}
	c.tunnelEv.push(TunnelEvent{int(ev._type), int(ev.reason), uint64(ev.tunnel_id),
		uint64(ev.sa_id), addrFromC(&ev.local), addrFromC(&ev.remote), uint16(ev.notify),
		uint64(ev.ike_spi_i), uint64(ev.ike_spi_r)})
	return C.VPNR_OK
}

//export goBgpEvent
func goBgpEvent(h C.uintptr_t, ev *C.vpnr_bgp_event) C.int {
	c := ctxOf(h)
	if c.opts.NoEvents {
		return C.VPNR_OK
	}
	c.bgpEv.push(BgpEvent{int(ev._type), int(ev.reason), uint64(ev.peer_id),
		uint8(ev.notif_code), uint8(ev.notif_subcode), uint8(ev.afi_safi)})
	return C.VPNR_OK
}

//export goLogMsg
func goLogMsg(h C.uintptr_t, level C.int, subsys *C.char, msg *C.char, n C.size_t) {
	c := ctxOf(h)
	if c.wantLogs {
		c.logs.push(LogLine{int(level), C.GoString(subsys), C.GoStringN(msg, C.int(n))})
	}
}

//export goSaOp
func goSaOp(h C.uintptr_t, add C.int, op C.uint64_t, sa *C.vpnr_child_sa) C.int {
	c := ctxOf(h)
	s := childSAFromC(sa)
	return c.guard(func() error {
		if add != 0 {
			return c.opts.Dataplane.SAAdd(uint64(op), s)
		}
		return c.opts.Dataplane.SADel(uint64(op), s)
	})
}

//export goPolicyOp
func goPolicyOp(h C.uintptr_t, add C.int, op C.uint64_t, p *C.vpnr_policy) C.int {
	c := ctxOf(h)
	pol := &Policy{uint64(p.policy_id), uint64(p.tunnel_id), uint8(p.direction),
		uint32(p.priority), uint64(p.out_sa_id), tsFromC(&p.ts_local), tsFromC(&p.ts_remote),
		uint32(p.if_id)}
	return c.guard(func() error {
		if add != 0 {
			return c.opts.Dataplane.PolicyAdd(uint64(op), pol)
		}
		return c.opts.Dataplane.PolicyDel(uint64(op), pol)
	})
}

// Route ops come from a Go Dataplane or from the Esp's route hook.
//
//export goRouteOp
func goRouteOp(h C.uintptr_t, add C.int, op C.uint64_t, rt *C.vpnr_route) C.int {
	c := ctxOf(h)
	r := routeFromC(rt)
	return c.guard(func() error {
		switch {
		case c.opts.Dataplane != nil && add != 0:
			return c.opts.Dataplane.RouteAdd(uint64(op), r)
		case c.opts.Dataplane != nil:
			return c.opts.Dataplane.RouteDel(uint64(op), r)
		case c.opts.Esp != nil:
			return c.opts.Esp.route(add != 0, r)
		}
		return nil
	})
}

//export goRibEntry
func goRibEntry(h C.uintptr_t, pfx *C.vpnr_prefix, a *C.vpnr_path_attrs, peer C.uint64_t) C.int {
	out := cgo.Handle(h).Value().(*[]RibEntry)
	pa := PathAttrs{Nexthop: addrFromC(&a.nexthop), Med: -1}
	if a.flags&C.VPNR_PATH_F_HAS_MED != 0 {
		pa.Med = int64(a.med)
	}
	if a.n_communities > 0 {
		for _, v := range unsafe.Slice(a.communities, int(a.n_communities)) {
			pa.Communities = append(pa.Communities, uint32(v))
		}
	}
	*out = append(*out, RibEntry{prefixFromC(pfx), pa, uint64(peer)})
	return 0
}

//export goEspSA
func goEspSA(h C.uintptr_t, i *C.vpnr_esp_sa_info) C.int {
	out := cgo.Handle(h).Value().(*[]EspSAInfo)
	*out = append(*out, espSAFromC(i))
	return 0
}
