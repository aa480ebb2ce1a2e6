// Package vpnroute is the Go binding of libvpnroute: route-based IPsec
// (IKEv2, userspace ESP) and eBGP, driven by the program around it.
//
// Each Context has one owner goroutine that makes every call into the
// library, so a Context may be used from any number of goroutines.
// Callbacks (Host, Dataplane, Esp route hook) run on that goroutine,
// inside the call that triggered them, and must not call Context
// methods (they get ErrInCallback); events arrive on channels.  A
// callback that returns a plain error or panics makes the triggering
// method return a *CallbackError wrapping it; returning an *Error hands
// that code to the library instead (e.g. ErrDataplane fails the SA).
package vpnroute

// #cgo LDFLAGS: -lvpnroute
// #include "shim.h"
import "C"

import (
	"bytes"
	"net/netip"
	"runtime"
	"runtime/cgo"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Host is what the library asks of the program: I/O for the
// bring-your-own-loop mode.  Methods run on the owner goroutine inside
// library calls and must not block long nor call Context methods.
type Host interface {
	// SendDatagram sends an IKE datagram from local (port 500/4500).
	SendDatagram(local, remote netip.AddrPort, data []byte) error
	// TransportOpen starts a BGP TCP connection; report the outcome
	// with Context.TransportConnected from another goroutine.
	TransportOpen(id uint64, local, remote netip.AddrPort, ttl uint8, md5 []byte) error
	// TransportSend queues bytes; returns how many were taken (or
	// ErrWouldBlock, then call Context.TransportWritable later).
	TransportSend(id uint64, data []byte) (int, error)
	// TransportClose closes a connection the library is done with.
	TransportClose(id uint64)
}

// Dataplane is a data plane written in Go.  Return nil, ErrAsync
// (complete with Context.DPComplete later) or an error.
type Dataplane interface {
	SAAdd(op uint64, sa *ChildSA) error
	SADel(op uint64, sa *ChildSA) error
	PolicyAdd(op uint64, p *Policy) error
	PolicyDel(op uint64, p *Policy) error
	RouteAdd(op uint64, r Route) error
	RouteDel(op uint64, r Route) error
}

// LogLine is one log message from the library.
type LogLine struct {
	Level  int
	Subsys string
	Msg    string
}

// Options configure a Context.  Zero values are the library defaults.
type Options struct {
	LocalAS, RouterID uint32
	LogLevel          int // VPNR_LOG_*; 0 = info
	IKEPort, NATTPort uint16
	Host              Host      // nil: datagrams dropped, no BGP transports
	Dataplane         Dataplane // or Esp (built-in); neither: no-op
	Esp               *Esp
	// Clock in monotonic ns; nil = the process's monotonic clock, and
	// the owner goroutine then also runs the timers itself.  With a
	// Clock (fake time in tests) the caller calls HandleExpiry.
	Clock func() uint64
	// Rand replaces OpenSSL's RAND_bytes (tests).
	Rand func(b []byte) error
	// NoEvents drops tunnel and BGP events instead of queueing them
	// for TunnelEvents/BgpEvents (whose queues grow until read).
	NoEvents bool
}

var monoBase = time.Now()

func monoNow() uint64 { return uint64(time.Since(monoBase)) + Second }

// Context is a vpnr_ctx with its owner goroutine.
type Context struct {
	p       *C.vpnr_ctx
	h       cgo.Handle
	opts    Options
	clock   func() uint64
	reqs    chan func()
	quit    chan struct{}
	ownerID uint64
	inC     int32 // owner is inside a library call
	cbErr   error // first callback failure of the current call
	closed  int32
	timer   *time.Timer

	tunnelEv *queue[TunnelEvent]
	bgpEv    *queue[BgpEvent]
	logs     *queue[LogLine]
	wantLogs bool
}

// NewContext creates a context and starts its owner goroutine; Close
// must be called to stop it.
func NewContext(o Options) (*Context, error) {
	c := &Context{opts: o, clock: o.Clock, reqs: make(chan func()),
		quit: make(chan struct{}), tunnelEv: newQueue[TunnelEvent](),
		bgpEv: newQueue[BgpEvent](), logs: newQueue[LogLine]()}
	if c.clock == nil {
		c.clock = monoNow
		c.timer = time.NewTimer(time.Hour)
		c.timer.Stop()
	}
	ready := make(chan error, 1)
	go c.owner(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Context) owner(ready chan<- error) {
	c.ownerID = goid()
	ready <- c.create()
	if c.p == nil {
		return
	}
	var tc <-chan time.Time
	if c.timer != nil {
		tc = c.timer.C
	}
	for {
		select {
		case fn := <-c.reqs:
			fn()
		case <-tc:
			if c.p != nil {
				c.call(func() C.int { return C.vpnr_ctx_handle_expiry(c.p, C.vpnr_tstamp(c.clock())) })
				c.cbErr = nil // nobody to report to: see Failures
			}
		case <-c.quit:
			return
		}
		c.arm()
	}
}

func (c *Context) create() error {
	var cfg *C.vpnr_config
	if rc := C.vpnr_config_new(&cfg, nil); rc != 0 {
		return &Error{Code: int(rc)}
	}
	defer C.vpnr_config_del(cfg)
	o := c.opts
	chk := func(rc C.int) error {
		if rc < 0 {
			return &Error{Code: int(rc)}
		}
		return nil
	}
	if o.LocalAS != 0 {
		if err := chk(C.vpnr_config_set_local_as(cfg, C.uint32_t(o.LocalAS))); err != nil {
			return err
		}
	}
	if o.RouterID != 0 {
		if err := chk(C.vpnr_config_set_router_id(cfg, C.uint32_t(o.RouterID))); err != nil {
			return err
		}
	}
	if o.LogLevel != 0 {
		if err := chk(C.vpnr_config_set_log_level(cfg, C.int(o.LogLevel))); err != nil {
			return err
		}
	}
	if o.IKEPort != 0 || o.NATTPort != 0 {
		if err := chk(C.vpnr_config_set_ike_ports(cfg, C.uint16_t(o.IKEPort), C.uint16_t(o.NATTPort))); err != nil {
			return err
		}
	}
	var esp *C.vpnr_esp
	if o.Esp != nil {
		if o.Esp.p == nil {
			return ErrClosed
		}
		esp = o.Esp.p
	}
	goDp, goRand := 0, 0
	if o.Dataplane != nil {
		goDp = 1
	}
	if o.Rand != nil {
		goRand = 1
	}
	c.h = cgo.NewHandle(c)
	var p *C.vpnr_ctx
	rc := c.call(func() C.int {
		return C.shim_ctx_new(&p, cfg, C.uintptr_t(c.h), C.int(goDp), C.int(goRand), esp)
	})
	if err := c.result(rc); err != nil {
		c.h.Delete()
		return err
	}
	c.p = p
	if o.Esp != nil {
		o.Esp.attach(c)
	}
	c.arm()
	return nil
}

// call runs fn (a library call) on the owner goroutine, marking it.
func (c *Context) call(fn func() C.int) C.int {
	c.cbErr = nil
	atomic.StoreInt32(&c.inC, 1)
	rc := fn()
	atomic.StoreInt32(&c.inC, 0)
	return rc
}

// result turns a return code and a callback failure into an error.
func (c *Context) result(rc C.int) error {
	if err := c.cbErr; err != nil {
		c.cbErr = nil
		return &CallbackError{Err: err, Code: int(rc)}
	}
	if rc < 0 {
		e := &Error{Code: int(rc)}
		if c.p != nil {
			e.Detail = C.GoString(C.vpnr_ctx_last_error(c.p))
		}
		return e
	}
	return nil
}

// do runs fn on the owner goroutine and waits.
func (c *Context) do(fn func()) error {
	if atomic.LoadInt32(&c.closed) != 0 {
		return ErrClosed
	}
	if atomic.LoadInt32(&c.inC) != 0 && goid() == c.ownerID {
		return ErrInCallback // a callback calling back in
	}
	done := make(chan struct{})
	select {
	case c.reqs <- func() { defer close(done); fn() }:
	case <-c.quit:
		return ErrClosed
	}
	<-done
	return nil
}

// drive runs one library call that takes "now" and returns a code.
func (c *Context) drive(fn func(now C.vpnr_tstamp) C.int) error {
	var err error
	if e := c.do(func() {
		if c.p == nil {
			err = ErrClosed
			return
		}
		err = c.result(c.call(func() C.int { return fn(C.vpnr_tstamp(c.clock())) }))
	}); e != nil {
		return e
	}
	return err
}

func (c *Context) arm() {
	if c.timer == nil || c.p == nil {
		return
	}
	exp := uint64(C.vpnr_ctx_get_expiry(c.p))
	c.timer.Stop()
	select {
	case <-c.timer.C:
	default:
	}
	if exp == Never {
		return
	}
	now := c.clock()
	d := time.Duration(0)
	if exp > now {
		d = time.Duration(exp - now)
	}
	c.timer.Reset(d)
}

// Close frees the context (no DELETE is sent: Shutdown first for
// that) and stops its goroutine.  Idempotent.
func (c *Context) Close() {
	if !atomic.CompareAndSwapInt32(&c.closed, 0, 1) {
		return
	}
	done := make(chan struct{})
	c.reqs <- func() {
		defer close(done)
		if c.opts.Esp != nil {
			c.opts.Esp.detach(c)
		}
		C.vpnr_ctx_del(c.p)
		c.p = nil
		c.h.Delete()
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	<-done
	close(c.quit)
	c.tunnelEv.close()
	c.bgpEv.close()
	c.logs.close()
}

// TunnelEvents delivers tunnel events (never blocks the context: the
// queue behind it is unbounded, so read it or set Options.NoEvents).
// Closed by Close.
func (c *Context) TunnelEvents() <-chan TunnelEvent { return c.tunnelEv.out }

// BgpEvents delivers BGP peer events.
func (c *Context) BgpEvents() <-chan BgpEvent { return c.bgpEv.out }

// Logs delivers the library's log lines (only kept once called).
func (c *Context) Logs() <-chan LogLine {
	_ = c.do(func() { c.wantLogs = true })
	return c.logs.out
}

// Now is the context's clock (monotonic ns).
func (c *Context) Now() uint64 { return c.clock() }

// Shutdown deletes every tunnel (IKE DELETE) and peer (CEASE).
func (c *Context) Shutdown() error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_ctx_shutdown(c.p, now) })
}

// Expiry is the next deadline or Never.
func (c *Context) Expiry() uint64 {
	var e uint64 = Never
	_ = c.do(func() {
		if c.p != nil {
			e = uint64(C.vpnr_ctx_get_expiry(c.p))
		}
	})
	return e
}

// HandleExpiry runs every timer due now (with a fake Clock).
func (c *Context) HandleExpiry() error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_ctx_handle_expiry(c.p, now) })
}

func bptr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// RecvDatagram feeds a UDP datagram received on the IKE or NAT-T port.
// ErrNotIKE means ESP (hand it to the Esp); ErrMalformed: dropped.
func (c *Context) RecvDatagram(local, remote netip.AddrPort, data []byte) error {
	var l, r C.vpnr_addr
	addrToC(local, &l)
	addrToC(remote, &r)
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_ctx_recv_datagram(c.p, &l, &r, bptr(data), C.size_t(len(data)), now)
	})
}

// TransportAccepted registers a BGP connection the host accepted.
func (c *Context) TransportAccepted(local, remote netip.AddrPort) (uint64, error) {
	var l, r C.vpnr_addr
	var id C.uint64_t
	addrToC(local, &l)
	addrToC(remote, &r)
	err := c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_accepted(c.p, &l, &r, &id, now)
	})
	return uint64(id), err
}

// TransportConnected reports the outcome of Host.TransportOpen
// (status 0 or a negative code).
func (c *Context) TransportConnected(id uint64, status int) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_connected(c.p, C.uint64_t(id), C.int(status), now)
	})
}

// TransportSetLocal reports the local address the TCP stack chose.
func (c *Context) TransportSetLocal(id uint64, local netip.AddrPort) error {
	var l C.vpnr_addr
	addrToC(local, &l)
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_set_local(c.p, C.uint64_t(id), &l)
	})
}

// TransportRecv feeds bytes received on a BGP connection.
func (c *Context) TransportRecv(id uint64, data []byte) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_recv(c.p, C.uint64_t(id), bptr(data), C.size_t(len(data)), now)
	})
}

// TransportWritable: a connection that returned ErrWouldBlock drained.
func (c *Context) TransportWritable(id uint64) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_writable(c.p, C.uint64_t(id), now)
	})
}

// TransportClosed: the peer closed the connection or it failed.
func (c *Context) TransportClosed(id uint64, status int) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_transport_closed(c.p, C.uint64_t(id), C.int(status), now)
	})
}

// DPComplete completes a data-plane op that returned ErrAsync.
func (c *Context) DPComplete(op uint64, status int) error {
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_dp_complete(c.p, C.uint64_t(op), C.int(status), now)
	})
}

// DPSAExpired reports an SA's soft or hard byte/packet lifetime.
func (c *Context) DPSAExpired(saID uint64, hard bool) error {
	h := 0
	if hard {
		h = 1
	}
	return c.drive(func(now C.vpnr_tstamp) C.int {
		return C.vpnr_dp_sa_expired(c.p, C.uint64_t(saID), C.int(h), now)
	})
}

// DPReplay re-sends every installed SA, policy and route (a restarted
// data plane).
func (c *Context) DPReplay() error {
	return c.drive(func(now C.vpnr_tstamp) C.int { return C.vpnr_dp_replay(c.p, now) })
}

// goid is the current goroutine's id (only used to refuse re-entrant
// calls from callbacks, which would otherwise deadlock).
func goid() uint64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	f := bytes.Fields(b[:n])
	if len(f) < 2 {
		return 0
	}
	id, _ := strconv.ParseUint(string(f[1]), 10, 64)
	return id
}

// queue is an unbounded FIFO in front of a channel, so that the owner
// goroutine never blocks on a slow reader.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
	out    chan T
}

func newQueue[T any]() *queue[T] {
	q := &queue[T]{wake: make(chan struct{}, 1), out: make(chan T)}
	go q.run()
	return q
}

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *queue[T]) run() {
	var pending []T
	for {
		q.mu.Lock()
		pending = append(pending, q.items...)
		q.items = q.items[:0]
		closed := q.closed
		q.mu.Unlock()
		if len(pending) == 0 {
			if closed {
				close(q.out)
				return
			}
			<-q.wake
			continue
		}
		select {
		case q.out <- pending[0]:
			var zero T
			pending[0] = zero
			pending = pending[1:]
		case <-q.wake:
			q.mu.Lock()
			closed = q.closed
			q.mu.Unlock()
			if closed { // closed with nobody reading: drop the rest
				close(q.out)
				return
			}
		}
	}
}
