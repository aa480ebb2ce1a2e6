// Command vpnr-example brings up an IPsec tunnel and an eBGP session
// bound to it against a real peer (strongSwan and BIRD, or minigw),
// prints the routes it learns and cleans up.  Go's net package owns the
// sockets (vpnroute.NetDriver); the built-in userspace ESP data plane
// holds the SAs and routes.
//
//	vpnr-example -local 203.0.113.1 -remote 203.0.113.2 -psk SECRET \
//	    -local-as 65010 -peer-as 65050 -advertise 192.168.2.0/24 [-md5 KEY] [-linger]
//
// Output: "tunnel up ...", "bgp established ...", one "route PREFIX via
// NH tunnel T if_id I" per learned route, "routes: N"; with -linger it
// then waits for SIGTERM/SIGINT; finally IKE DELETE and BGP CEASE go
// out and it prints "done".  Exit 1 on timeout or error.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"vpnroute.example/vpnroute"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	local := flag.String("local", "", "our WAN address")
	remote := flag.String("remote", "", "peer gateway address")
	peer := flag.String("peer", "", "BGP peer address (default: -remote)")
	psk := flag.String("psk", "", "pre-shared key")
	localAS := flag.Uint("local-as", 0, "our AS")
	peerAS := flag.Uint("peer-as", 0, "peer AS")
	minRoutes := flag.Int("min-routes", 1, "routes to wait for")
	timeout := flag.Duration("timeout", 60*time.Second, "per step")
	linger := flag.Bool("linger", false, "wait for SIGTERM before cleaning up")
	md5 := flag.String("md5", "", "TCP-MD5 key of the BGP session")
	var adv, ike, esp list
	flag.Var(&adv, "advertise", "prefix to originate (repeatable)")
	flag.Var(&ike, "ike", "IKE proposal (repeatable)")
	flag.Var(&esp, "esp", "ESP proposal (repeatable)")
	flag.Parse()
	if err := run(*local, *remote, *peer, *psk, uint32(*localAS), uint32(*peerAS),
		*minRoutes, *timeout, *linger, []byte(*md5), adv, ike, esp); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(local, remote, peer, psk string, localAS, peerAS uint32, minRoutes int,
	timeout time.Duration, linger bool, md5 []byte, adv, ike, espP []string) error {
	la, err := netip.ParseAddr(local)
	if err != nil {
		return err
	}
	ra, err := netip.ParseAddr(remote)
	if err != nil {
		return err
	}
	pa := ra
	if peer != "" {
		if pa, err = netip.ParseAddr(peer); err != nil {
			return err
		}
	}
	esp, err := vpnroute.NewEsp()
	if err != nil {
		return err
	}
	defer esp.Close()
	routes := make(chan struct{}, 1)
	esp.OnRoute = func(add bool, r vpnroute.Route) error {
		select {
		case routes <- struct{}{}:
		default:
		}
		return nil
	}
	drv := vpnroute.NewNetDriver()
	ctx, err := vpnroute.NewContext(vpnroute.Options{Host: drv, Esp: esp, LocalAS: localAS})
	if err != nil {
		return err
	}
	defer ctx.Close()
	defer drv.Close()
	if err := drv.Start(ctx, esp, la, 500, 4500, false); err != nil {
		return err
	}
	tid, err := ctx.AddTunnel(vpnroute.TunnelConfig{Local: netip.AddrPortFrom(la, 0),
		Remote: netip.AddrPortFrom(ra, 0), PSK: []byte(psk), IfID: 1, ForceEncap: true,
		IKEProposals: ike, ESPProposals: espP})
	if err != nil {
		return err
	}
	pid, err := ctx.AddBgpPeer(vpnroute.BgpPeerConfig{Remote: netip.AddrPortFrom(pa, 0),
		RemoteAS: peerAS, Local: netip.AddrPortFrom(la, 0), TunnelID: tid,
		Import: vpnroute.BgpImportAll, Export: vpnroute.BgpExportLocal, HoldS: 9,
		ConnectRetryS: 2, MD5: md5})
	if err != nil {
		return err
	}
	for _, p := range adv {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return err
		}
		if _, err := ctx.AddPath(pfx, nil); err != nil {
			return err
		}
	}
	if err := ctx.Initiate(tid); err != nil {
		return err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
wait:
	for {
		select {
		case ev := <-ctx.TunnelEvents():
			fmt.Printf("event %+v\n", ev)
			if ev.Type == vpnroute.TunnelEvChildUp {
				break wait
			}
		case err := <-drv.Errors:
			return err
		case <-deadline.C:
			return fmt.Errorf("no CHILD_SA within %v", timeout)
		}
	}
	ti, err := ctx.TunnelInfo(tid)
	if err != nil {
		return err
	}
	fmt.Printf("tunnel up %s -> %s spi in %08x out %08x\n", ti.Local.Addr(), ti.Remote.Addr(),
		ti.ChildSpiIn, ti.ChildSpiOut)
	deadline.Reset(timeout)
bgp:
	for {
		select {
		case ev := <-ctx.BgpEvents():
			fmt.Printf("event %+v\n", ev)
			if ev.Type == vpnroute.BgpEvEstablished {
				break bgp
			}
		case err := <-drv.Errors:
			return err
		case <-deadline.C:
			return fmt.Errorf("no BGP session within %v", timeout)
		}
	}
	bi, err := ctx.BgpPeerInfo(pid)
	if err != nil {
		return err
	}
	fmt.Printf("bgp established with %s AS%d hold %ds\n", bi.Remote.Addr(), bi.RemoteAS, bi.HoldS)
	deadline.Reset(timeout)
	for len(esp.Routes()) < minRoutes {
		select {
		case <-routes:
		case <-deadline.C:
			return fmt.Errorf("only %d routes within %v", len(esp.Routes()), timeout)
		}
	}
	rs := esp.Routes()
	keys := make([]netip.Prefix, 0, len(rs))
	for k := range rs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		r := rs[k]
		fmt.Printf("route %s via %s tunnel %d if_id %d\n", r.Prefix, r.Nexthop.Addr(), r.TunnelID, r.IfID)
	}
	fmt.Printf("routes: %d\n", len(rs))
	if linger {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
	}
	if err := ctx.Shutdown(); err != nil { // IKE DELETE and BGP CEASE
		return err
	}
	fmt.Println("done")
	return nil
}
