package vpnroute

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// NetDriver is a Host built on Go's net package: UDP sockets on the IKE
// and NAT-T ports, TCP connections for BGP (outgoing, and optionally a
// listener on port 179), one goroutine per socket feeding the Context.
// ESP on the NAT-T port goes to the Esp, the inner packets to OnInner.
//
//	drv := vpnroute.NewNetDriver()
//	ctx, _ := vpnroute.NewContext(vpnroute.Options{Host: drv, Esp: esp, LocalAS: 65010})
//	drv.Start(ctx, esp, netip.MustParseAddr("203.0.113.1"), 500, 4500, false)
type NetDriver struct {
	// OnInner gets every decrypted inner packet (may be nil).
	OnInner func(ifID uint32, pkt []byte)
	// Errors receives failures of the socket goroutines (buffered;
	// extra ones are dropped).
	Errors chan error

	ctx       *Context
	esp       *Esp
	natt      uint16
	udp       map[uint16]*net.UDPConn
	ln        net.Listener
	mu        sync.Mutex
	conns     map[uint64]*tcpConn
	accMu     sync.Mutex // one accept at a time (see accepting)
	accepting *tcpConn
	wg        sync.WaitGroup
}

type tcpConn struct {
	c       net.Conn
	out     chan []byte
	closed  bool // the library closed it
	blocked bool // TransportSend said ErrWouldBlock
}

// NewNetDriver makes a driver; pass it as Options.Host, then Start.
func NewNetDriver() *NetDriver {
	return &NetDriver{Errors: make(chan error, 16), udp: map[uint16]*net.UDPConn{},
		conns: map[uint64]*tcpConn{}}
}

func (d *NetDriver) report(err error) {
	select {
	case d.Errors <- err:
	default:
	}
}

// Start opens the sockets on local and starts their goroutines.
func (d *NetDriver) Start(c *Context, esp *Esp, local netip.Addr, ikePort, nattPort uint16, listenBGP bool) error {
	d.ctx, d.esp, d.natt = c, esp, nattPort
	for _, port := range []uint16{ikePort, nattPort} {
		uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, port)))
		if err != nil {
			d.Close()
			return err
		}
		d.udp[port] = uc
	}
	for port, uc := range d.udp {
		d.wg.Add(1)
		go d.readUDP(uc, netip.AddrPortFrom(local, port))
	}
	if listenBGP {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(local, 179).String())
		if err != nil {
			d.Close()
			return err
		}
		d.ln = ln
		d.wg.Add(1)
		go d.accept()
	}
	return nil
}

// Close closes every socket and waits for the goroutines.
func (d *NetDriver) Close() {
	for _, uc := range d.udp {
		uc.Close()
	}
	if d.ln != nil {
		d.ln.Close()
	}
	d.mu.Lock()
	for id, tc := range d.conns {
		if !tc.closed {
			tc.closed = true
			close(tc.out)
		}
		delete(d.conns, id)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

func (d *NetDriver) readUDP(uc *net.UDPConn, local netip.AddrPort) {
	defer d.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			return // closed
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		data := buf[:n]
		if local.Port() == d.natt {
			switch UDPClassify(data) {
			case UDPKeepalive:
				continue
			case UDPESP:
				d.espIn(from, data)
				continue
			}
		}
		err = d.ctx.RecvDatagram(local, from, data)
		if err != nil && !errors.Is(err, ErrNotIKE) && !errors.Is(err, ErrMalformed) {
			d.report(err)
		}
	}
}

func (d *NetDriver) espIn(from netip.AddrPort, data []byte) {
	if d.esp == nil {
		return
	}
	pkt, ifID, err := d.esp.Decap(from, data)
	if err != nil {
		return // counted by the data plane
	}
	if len(pkt) > 0 && d.OnInner != nil {
		d.OnInner(ifID, pkt)
	}
	if _, err := d.esp.PollExpired(); err != nil {
		d.report(err)
	}
}

// SendInner encrypts an inner packet into tunnel ifID and sends it.
func (d *NetDriver) SendInner(ifID uint32, pkt []byte) error {
	out, dst, err := d.esp.Encap(ifID, pkt)
	if err != nil {
		return err
	}
	_, err = d.udp[d.natt].WriteToUDPAddrPort(out, dst)
	return err
}

func (d *NetDriver) accept() {
	defer d.wg.Done()
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		tc := &tcpConn{c: c, out: make(chan []byte, 1024)}
		l := c.LocalAddr().(*net.TCPAddr).AddrPort()
		r := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		// The library may send its OPEN before the id is returned.
		d.accMu.Lock()
		d.mu.Lock()
		d.accepting = tc
		d.mu.Unlock()
		id, err := d.ctx.TransportAccepted(netip.AddrPortFrom(l.Addr().Unmap(), l.Port()),
			netip.AddrPortFrom(r.Addr().Unmap(), r.Port()))
		d.mu.Lock()
		d.accepting = nil
		if err == nil {
			d.conns[id] = tc
		}
		d.mu.Unlock()
		d.accMu.Unlock()
		if err != nil {
			c.Close()
			continue
		}
		d.run(id, tc)
	}
}

// run starts the reader and writer goroutines of a connection.
func (d *NetDriver) run(id uint64, tc *tcpConn) {
	d.wg.Add(2)
	go func() { // writer: drains out, then closes
		defer d.wg.Done()
		for b := range tc.out {
			if _, err := tc.c.Write(b); err != nil {
				break
			}
			d.mu.Lock()
			wake := tc.blocked && len(tc.out) == 0
			tc.blocked = tc.blocked && !wake
			d.mu.Unlock()
			if wake {
				d.ctx.TransportWritable(id)
			}
		}
		tc.c.Close()
	}()
	go func() { // reader
		defer d.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := tc.c.Read(buf)
			if n > 0 {
				if err := d.ctx.TransportRecv(id, buf[:n]); err != nil && !errors.Is(err, ErrClosed) {
					d.report(err)
				}
			}
			if err != nil {
				break
			}
		}
		d.mu.Lock()
		mine := d.conns[id] == tc && !tc.closed
		if mine {
			delete(d.conns, id)
			tc.closed = true
			close(tc.out)
		}
		d.mu.Unlock()
		if mine {
			d.ctx.TransportClosed(id, 0)
		}
	}()
}

const tcpMD5Sig = 14 // TCP_MD5SIG, linux/tcp.h

// md5sig is struct tcp_md5sig (linux/tcp.h) for the peer and key.
func md5sig(peer netip.Addr, key []byte) []byte {
	b := make([]byte, 128+8+80) // sockaddr_storage, flags.., key
	if peer.Is4() {
		binary.LittleEndian.PutUint16(b, syscall.AF_INET)
		a := peer.As4()
		copy(b[4:], a[:])
	} else {
		binary.LittleEndian.PutUint16(b, syscall.AF_INET6)
		a := peer.As16()
		copy(b[8:], a[:])
	}
	binary.LittleEndian.PutUint16(b[130:], uint16(len(key)))
	copy(b[136:], key)
	return b
}

// Host callbacks (owner goroutine, inside library calls).

// SendDatagram sends from the socket bound to local's port.
func (d *NetDriver) SendDatagram(local, remote netip.AddrPort, data []byte) error {
	uc := d.udp[local.Port()]
	if uc == nil {
		return ErrInvalidState
	}
	_, err := uc.WriteToUDPAddrPort(data, remote)
	return err
}

// TransportOpen dials in the background and reports the outcome.
func (d *NetDriver) TransportOpen(id uint64, local, remote netip.AddrPort, ttl uint8, md5 []byte) error {
	if remote.Port() == 0 {
		remote = netip.AddrPortFrom(remote.Addr(), 179)
	}
	dl := net.Dialer{Timeout: 10 * time.Second,
		Control: func(network, address string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				if remote.Addr().Is4() {
					serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_TTL, int(ttl))
				} else {
					serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS, int(ttl))
				}
				if serr == nil && len(md5) > 0 {
					serr = syscall.SetsockoptString(int(fd), syscall.IPPROTO_TCP,
						tcpMD5Sig, string(md5sig(remote.Addr(), md5)))
				}
			})
			if err != nil {
				return err
			}
			return serr
		}}
	if local.Addr().IsValid() {
		dl.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(local.Addr(), 0))
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		c, err := dl.Dial("tcp", remote.String())
		if err != nil {
			d.ctx.TransportConnected(id, ErrPeerClosed.Code)
			return
		}
		tc := &tcpConn{c: c, out: make(chan []byte, 1024)}
		d.mu.Lock()
		d.conns[id] = tc
		d.mu.Unlock()
		la := c.LocalAddr().(*net.TCPAddr).AddrPort()
		d.ctx.TransportSetLocal(id, netip.AddrPortFrom(la.Addr().Unmap(), la.Port()))
		d.run(id, tc)
		if err := d.ctx.TransportConnected(id, 0); err != nil && !errors.Is(err, ErrClosed) {
			d.report(err)
		}
	}()
	return nil
}

// TransportSend queues bytes for the connection's writer.
func (d *NetDriver) TransportSend(id uint64, data []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tc := d.conns[id]
	if tc == nil && d.accepting != nil {
		tc = d.accepting
	}
	if tc == nil || tc.closed {
		return 0, ErrInvalidState
	}
	select {
	case tc.out <- data:
		return len(data), nil
	default:
		tc.blocked = true
		return 0, ErrWouldBlock
	}
}

// TransportClose lets the writer drain, then closes.
func (d *NetDriver) TransportClose(id uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if tc := d.conns[id]; tc != nil && !tc.closed {
		tc.closed = true
		close(tc.out)
		delete(d.conns, id)
	}
}
