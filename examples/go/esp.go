package vpnroute

// #include "shim.h"
import "C"

import (
	"net/netip"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Esp is the library's built-in userspace ESP data plane.  Pass it in
// Options.Esp; once attached, its calls run on that Context's owner
// goroutine (the library's one-thread rule), so Encap/Decap may be
// called from any goroutine.  Close the Context before the Esp.
type Esp struct {
	p   *C.vpnr_esp
	mu  sync.Mutex // without a context
	ctx *Context
	// OnRoute, if set, sees every route the library installs (add) or
	// removes; its error fails the op.  Routes are also kept in Routes.
	OnRoute func(add bool, r Route) error
	rmu     sync.Mutex
	routes  map[netip.Prefix]Route
	buf     []byte
}

// NewEsp creates an empty ESP data plane.
func NewEsp() (*Esp, error) {
	e := &Esp{routes: map[netip.Prefix]Route{}}
	if rc := C.vpnr_esp_new(&e.p, nil); rc != 0 {
		return nil, &Error{Code: int(rc)}
	}
	e.buf = make([]byte, 65535+C.VPNR_ESP_MAX_OVERHEAD)
	return e, nil
}

func (e *Esp) attach(c *Context) { e.ctx = c }

func (e *Esp) detach(c *Context) {
	C.shim_esp_detach(e.p)
	e.ctx = nil
}

// run executes fn serialised with the attached context, if any.
func (e *Esp) run(fn func()) error {
	if c := e.ctx; c != nil {
		return c.do(fn)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	fn()
	return nil
}

func (e *Esp) route(add bool, r Route) error {
	e.rmu.Lock()
	if add {
		e.routes[r.Prefix] = r
	} else {
		delete(e.routes, r.Prefix)
	}
	e.rmu.Unlock()
	if e.OnRoute != nil {
		return e.OnRoute(add, r)
	}
	return nil
}

// Routes is a copy of the routes the library has installed.
func (e *Esp) Routes() map[netip.Prefix]Route {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	m := make(map[netip.Prefix]Route, len(e.routes))
	for k, v := range e.routes {
		m[k] = v
	}
	return m
}

func codeErr(rc C.int) error {
	if rc < 0 {
		return &Error{Code: int(rc)}
	}
	return nil
}

// Encap encrypts an inner IP packet leaving through tunnel ifID; it
// returns the ESP packet and where to send it (ESP-in-UDP).
func (e *Esp) Encap(ifID uint32, pkt []byte) ([]byte, netip.AddrPort, error) {
	var out []byte
	var dst netip.AddrPort
	var err error
	if e2 := e.run(func() {
		if e.p == nil {
			err = ErrClosed
			return
		}
		var n C.size_t
		var d C.vpnr_addr
		rc := C.vpnr_esp_encap(e.p, C.uint32_t(ifID), bptr(pkt), C.size_t(len(pkt)),
			bptr(e.buf), C.size_t(len(e.buf)), &n, &d, C.vpnr_tstamp(e.now()))
		if err = codeErr(rc); err == nil {
			out = append([]byte(nil), e.buf[:n]...)
			dst = addrFromC(&d)
		}
	}); e2 != nil {
		return nil, dst, e2
	}
	return out, dst, err
}

// Decap decrypts an ESP packet from src; it returns the inner packet
// (empty for a dummy packet) and the tunnel interface it came in on.
func (e *Esp) Decap(src netip.AddrPort, data []byte) ([]byte, uint32, error) {
	var out []byte
	var ifID C.uint32_t
	var err error
	if e2 := e.run(func() {
		if e.p == nil {
			err = ErrClosed
			return
		}
		var n C.size_t
		var s C.vpnr_addr
		addrToC(src, &s)
		rc := C.vpnr_esp_decap(e.p, &s, bptr(data), C.size_t(len(data)),
			bptr(e.buf), C.size_t(len(e.buf)), &n, &ifID, C.vpnr_tstamp(e.now()))
		if err = codeErr(rc); err == nil {
			out = append([]byte(nil), e.buf[:n]...)
		}
	}); e2 != nil {
		return nil, 0, e2
	}
	return out, uint32(ifID), err
}

// PollExpired reports queued lifetime expiries to the context.
func (e *Esp) PollExpired() (int, error) {
	c := e.ctx
	if c == nil {
		return 0, nil
	}
	var n C.int
	err := c.drive(func(now C.vpnr_tstamp) C.int {
		n = C.vpnr_esp_poll_expired(e.p, now)
		return n
	})
	return int(n), err
}

func (e *Esp) now() uint64 {
	if c := e.ctx; c != nil {
		return c.clock()
	}
	return monoNow()
}

// Counters of one tunnel interface (ifID != 0) or of everything.
func (e *Esp) Counters(ifID uint32) (EspCounters, error) {
	var c C.vpnr_esp_counters
	var rc C.int
	if err := e.run(func() {
		if ifID == 0 {
			rc = C.vpnr_esp_get_counters_versioned(e.p, C.VPNR_ESP_COUNTERS_VERSION, &c)
		} else {
			rc = C.vpnr_esp_get_tunnel_counters_versioned(e.p, C.uint32_t(ifID),
				C.VPNR_ESP_COUNTERS_VERSION, &c)
		}
	}); err != nil {
		return EspCounters{}, err
	}
	return countersFromC(&c), codeErr(rc)
}

func espSAFromC(i *C.vpnr_esp_sa_info) EspSAInfo {
	return EspSAInfo{uint64(i.sa_id), uint64(i.tunnel_id), uint32(i.spi), uint32(i.if_id),
		uint8(i.direction), i.active != 0, uint64(i.seq), countersFromC(&i.counters)}
}

// SAs lists every installed SA.
func (e *Esp) SAs() ([]EspSAInfo, error) {
	var out []EspSAInfo
	h := cgo.NewHandle(&out)
	defer h.Delete()
	var rc C.int
	if err := e.run(func() { rc = C.shim_esp_sa_walk(e.p, C.uintptr_t(h)) }); err != nil {
		return nil, err
	}
	return out, codeErr(rc)
}

// Close frees the data plane (its Context must be closed already).
func (e *Esp) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx != nil {
		return ErrInvalidState
	}
	if e.p != nil {
		C.vpnr_esp_del(e.p)
		e.p = nil
	}
	return nil
}

var _ = unsafe.Pointer(nil)
