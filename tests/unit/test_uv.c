/*
 * libuv driver (lib/uv.c) on a real loop over loopback: IKE
 * retransmissions driven by the expiry timer, two drivers back to back
 * bringing up a tunnel (through the NAT-T socket and the non-ESP
 * marker), a BGP TCP transport with back-pressure, error paths and a
 * clean close.  High ports on 127.0.0.x only: no root needed.  The
 * loop is bounded by a guard timer; no timing is asserted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

#include "ctx.h" /* white-box: the driver's I/O callbacks in ctx->cb */

#define GUARD_MS 20000 /* loop-time safety net, not an assertion */
#define PSK      "uv-test-psk-0123456789"

static uint16_t
port_base(void)
{
	/* Spread concurrent runs over 16 ports each; every test uses its own
	 * ports so that a failed test cannot break the next one. */
	return (uint16_t)(20000 + (getpid() % 2000) * 16);
}

static vpnr_addr
mkaddr(const char *s, uint16_t port)
{
	vpnr_addr a;

	assert_int_equal(vpnr_addr_parse(&a, s), VPNR_OK);
	a.port = port;
	return a;
}

/* ------------------------------------------------------------------ */
/* A side: driver + recorded events and SAs                             */

struct side {
	const char *name;
	vpnr_uv *uv;
	uint64_t tunnel;
	int child_up, failed, up;
	int32_t fail_reason;
	uint32_t spi_in, spi_out; /* from SA_ADD */
	uint16_t encap_flags;
	int closed;
	int bgp_up, bgp_down;
	int close_on_fail; /* vpnr_uv_close() from inside the event */
	int routes;        /* route_add of 10.1.0.0/16 */
};

static void
on_side_closed(void *arg)
{
	((struct side *)arg)->closed++;
}

static int
ev_cb(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct side *s = ud;

	switch (ev->type) {
	case VPNR_TUNNEL_EV_UP:
		s->up++;
		break;
	case VPNR_TUNNEL_EV_CHILD_UP:
		s->child_up++;
		break;
	case VPNR_TUNNEL_EV_FAILED:
		s->failed++;
		s->fail_reason = ev->reason;
		if (s->close_on_fail)
			assert_int_equal(vpnr_uv_close(s->uv, on_side_closed,
					     s),
			    VPNR_OK);
		break;
	}
	return VPNR_OK;
}

static void
log_cb(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	if (getenv("VPNR_TEST_VERBOSE") != NULL)
		fprintf(stderr, "[%s] %d %s: %.*s\n", ((struct side *)ud)->name,
		    level, subsys, (int)len, msg);
}

static int
sa_add_cb(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dpd)
{
	struct side *s = dpd;

	if (sa->direction == VPNR_DIR_IN)
		s->spi_in = sa->spi;
	else
		s->spi_out = sa->spi;
	s->encap_flags |= sa->flags & VPNR_SA_F_UDP_ENCAP;
	return VPNR_OK;
}

static int
sa_del_cb(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dpd)
{
	return VPNR_OK;
}

static int
pol_cb(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *dpd)
{
	return VPNR_OK;
}

static int
route_cb(vpnr_ctx *ctx, uint64_t op, const vpnr_route *r, void *dpd)
{
	return VPNR_OK;
}

static int
route_add_cb(vpnr_ctx *ctx, uint64_t op, const vpnr_route *r, void *dpd)
{
	struct side *s = dpd;
	static const uint8_t want[4] = { 10, 1, 0, 0 };

	if (r->prefix.len == 16 && memcmp(r->prefix.addr.bytes, want, 4) == 0)
		s->routes++;
	return VPNR_OK;
}

static int
bgp_ev_cb(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	struct side *s = ud;

	if (ev->type == VPNR_BGP_EV_ESTABLISHED)
		s->bgp_up++;
	else if (ev->type == VPNR_BGP_EV_DOWN)
		s->bgp_down++;
	return VPNR_OK;
}

static const vpnr_callbacks test_cb = { .tunnel_event = ev_cb,
	.bgp_event = bgp_ev_cb,
	.log_msg = log_cb };
static vpnr_dataplane test_dp;

static void
dp_init(void)
{
	test_dp.sa_add = sa_add_cb;
	test_dp.sa_del = sa_del_cb;
	test_dp.policy_add = pol_cb;
	test_dp.policy_del = pol_cb;
	test_dp.route_add = route_add_cb;
	test_dp.route_del = route_cb;
}

static int
side_new_as(struct side *s, uv_loop_t *loop, const char *addr, uint16_t base,
    int listener, uint32_t asn)
{
	vpnr_uv_options o;
	vpnr_config *cfg = NULL;
	int rc;

	dp_init();
	memset(&o, 0, sizeof(o));
	o.bind_addr = mkaddr(addr, 0);
	o.ike_port = base;
	o.natt_port = base + 1;
	if (listener)
		o.bgp_listen_addr = mkaddr(addr, base + 2);
	o.tcp_write_limit = 64 * 1024;
	o.log_level = VPNR_LOG_DEBUG;
	if (asn != 0) {
		/* With a cfg the host sets the same ports as the driver. */
		assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
		vpnr_config_set_ike_ports(cfg, base, base + 1);
		vpnr_config_set_local_as(cfg, asn);
		vpnr_config_set_log_level(cfg, VPNR_LOG_DEBUG);
	}
	rc = vpnr_uv_new(&s->uv, loop, cfg, &test_cb, s, &test_dp, s, &o);
	vpnr_config_del(cfg);
	return rc;
}

static int
side_new(struct side *s, uv_loop_t *loop, const char *addr, uint16_t base,
    int listener)
{
	return side_new_as(s, loop, addr, base, listener, 0);
}

static void
finish_loop(uv_loop_t *loop)
{
	/* Everything must be closed: uv_loop_close() refuses otherwise. */
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void
on_guard(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void
run_until(uv_loop_t *loop, int (*done)(void *), void *arg)
{
	uv_timer_t guard;

	uv_timer_init(loop, &guard);
	uv_timer_start(&guard, on_guard, GUARD_MS, 0);
	while (!done(arg) && uv_is_active((uv_handle_t *)&guard))
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* ------------------------------------------------------------------ */
/* Argument checks and bind failures                                    */

static void
test_uv_bad_args(void **state)
{
	uv_loop_t loop;
	struct side a = { .name = "a" }, b = { .name = "b" };
	vpnr_uv_options o;
	vpnr_uv *uv = (vpnr_uv *)1;
	uint16_t base = port_base();

	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&o, 0, sizeof(o));
	/* No bind family. */
	assert_int_equal(vpnr_uv_new(&uv, &loop, NULL, &test_cb, NULL, NULL,
			     NULL, &o),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_null(uv);
	assert_int_equal(vpnr_uv_new(&uv, &loop, NULL, &test_cb, NULL, NULL,
			     NULL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
	/* Second driver on the same address and ports: bind fails, the
	 * half-built driver cleans up through the loop. */
	assert_int_equal(side_new(&a, &loop, "127.0.0.1", base, 0), VPNR_OK);
	assert_int_equal(side_new(&b, &loop, "127.0.0.1", base, 0),
	    VPNR_ERR_INVALID_STATE);
	assert_null(b.uv);
	/* Listener-only API without a listener. */
	o.bind_addr = mkaddr("127.0.0.2", 0);
	assert_int_equal(vpnr_uv_set_md5(a.uv, &o.bind_addr,
			     (const uint8_t *)"k", 1),
	    VPNR_ERR_INVALID_STATE);
	assert_true(vpnr_uv_now(a.uv) > 0);
	assert_ptr_equal(vpnr_uv_user_data(a.uv), &a);
	assert_ptr_equal(vpnr_ctx_get_user_data(vpnr_uv_ctx(a.uv)), a.uv);
	assert_int_equal(vpnr_uv_close(a.uv, on_side_closed, &a), VPNR_OK);
	finish_loop(&loop);
	assert_int_equal(a.closed, 1);
}

/* ------------------------------------------------------------------ */
/* NAT-T port demux (RFC 3948) and vpnr_uv_send_natt()                  */

#define N_ESP 16

static void silent_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf);

struct demux {
	uv_udp_t sock;
	int esp, bad_esp, back;
	vpnr_addr from;
	struct side *s;
};

static void
on_esp(vpnr_uv *uv, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *arg)
{
	struct demux *d = arg;

	/* The payload starts with the SPI we sent; index in byte 8. */
	if (len != 64 || data[0] != 0xc1 || data[8] != (uint8_t)d->esp ||
	    remote->port != d->from.port)
		d->bad_esp++;
	d->esp++;
	/* Answer through the driver's NAT-T socket (legal here). */
	if (d->esp == N_ESP)
		assert_int_equal(vpnr_uv_send_natt(uv, remote, data, len),
		    VPNR_OK);
}

static void
demux_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
    const struct sockaddr *sa, unsigned flags)
{
	struct demux *d = h->data;

	if (n == 64 && sa != NULL && (uint8_t)buf->base[0] == 0xc1)
		d->back++;
}

static int
demux_done(void *arg)
{
	struct demux *d = arg;

	return d->back > 0;
}

static void
natt_demux(const char *addr, uint16_t base)
{
	uv_loop_t loop;
	struct side a = { .name = "a" };
	struct demux d = { 0 };
	vpnr_uv_options o;
	struct sockaddr_storage sin, dst;
	uint8_t pkt[64];
	uv_buf_t b;
	int i, len = sizeof(sin);
	int v6 = strchr(addr, ':') != NULL;

	assert_int_equal(uv_loop_init(&loop), 0);
	dp_init();
	memset(&o, 0, sizeof(o));
	o.bind_addr = mkaddr(addr, 0);
	o.ike_port = base;
	o.natt_port = base + 1;
	o.on_esp = on_esp;
	o.on_esp_arg = &d;
	assert_int_equal(vpnr_uv_new(&a.uv, &loop, NULL, &test_cb, &a, &test_dp,
			     &a, &o),
	    VPNR_OK);
	d.s = &a;
	uv_udp_init(&loop, &d.sock);
	d.sock.data = &d;
	if (v6) {
		uv_ip6_addr(addr, 0, (struct sockaddr_in6 *)&sin);
		uv_ip6_addr(addr, base + 1, (struct sockaddr_in6 *)&dst);
	} else {
		uv_ip4_addr(addr, 0, (struct sockaddr_in *)&sin);
		uv_ip4_addr(addr, base + 1, (struct sockaddr_in *)&dst);
	}
	assert_int_equal(uv_udp_bind(&d.sock, (struct sockaddr *)&sin, 0), 0);
	uv_udp_getsockname(&d.sock, (struct sockaddr *)&sin, &len);
	d.from = mkaddr(addr,
	    v6 ? ntohs(((struct sockaddr_in6 *)&sin)->sin6_port) :
		 ntohs(((struct sockaddr_in *)&sin)->sin_port));
	uv_udp_recv_start(&d.sock, silent_alloc, demux_recv);

	/* Keepalives and a marked (non-ESP) garbage IKE message first:
	 * neither may reach on_esp. */
	pkt[0] = 0xff;
	b = uv_buf_init((char *)pkt, 1);
	assert_int_equal(uv_udp_try_send(&d.sock, &b, 1,
			     (struct sockaddr *)&dst),
	    1);
	memset(pkt, 0, sizeof(pkt));
	b = uv_buf_init((char *)pkt, 40);
	assert_int_equal(uv_udp_try_send(&d.sock, &b, 1,
			     (struct sockaddr *)&dst),
	    40);
	/* A burst of ESP-in-UDP: read in recvmmsg batches, in order. */
	for (i = 0; i < N_ESP; i++) {
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 0xc1;
		pkt[3] = 0x01;
		pkt[8] = (uint8_t)i;
		b = uv_buf_init((char *)pkt, sizeof(pkt));
		assert_int_equal(uv_udp_try_send(&d.sock, &b, 1,
				     (struct sockaddr *)&dst),
		    sizeof(pkt));
	}
	run_until(&loop, demux_done, &d);
	assert_int_equal(d.esp, N_ESP);
	assert_int_equal(d.bad_esp, 0);
	assert_int_equal(d.back, 1);
	assert_int_equal(vpnr_uv_send_natt(a.uv, NULL, pkt, 1),
	    VPNR_ERR_INVALID_ARGUMENT);

	uv_close((uv_handle_t *)&d.sock, NULL);
	assert_int_equal(vpnr_uv_close(a.uv, on_side_closed, &a), VPNR_OK);
	finish_loop(&loop);
	assert_int_equal(a.closed, 1);
}

static void
test_uv_natt_demux(void **state)
{
	natt_demux("127.0.0.1", port_base() + 13);
}

static void
test_uv_natt_demux_v6(void **state)
{
	uv_udp_t probe;
	uv_loop_t loop;
	struct sockaddr_in6 sin6;
	int rc;

	/* Skip where the host has no IPv6 loopback. */
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_udp_init(&loop, &probe);
	uv_ip6_addr("::1", 0, &sin6);
	rc = uv_udp_bind(&probe, (struct sockaddr *)&sin6, 0);
	uv_close((uv_handle_t *)&probe, NULL);
	finish_loop(&loop);
	if (rc != 0)
		skip();
	natt_demux("::1", port_base() + 13);
}

/* ------------------------------------------------------------------ */
/* The expiry timer drives IKE retransmissions to a silent peer         */

struct silent {
	uv_udp_t sock;
	int n;
	size_t first_len;
	uint8_t first[2048];
	int same; /* every retransmission equals the first message */
	struct side *s;
};

static void
silent_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	static char b[65536];

	buf->base = b;
	buf->len = sizeof(b);
}

static void
silent_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
    const struct sockaddr *sa, unsigned flags)
{
	struct silent *p = h->data;

	if (n <= 0 || sa == NULL)
		return;
	if (p->n++ == 0) {
		p->first_len =
		    (size_t)n < sizeof(p->first) ? (size_t)n : sizeof(p->first);
		memcpy(p->first, buf->base, p->first_len);
		p->same = 1;
	} else if ((size_t)n != p->first_len ||
	    memcmp(p->first, buf->base, p->first_len) != 0)
		p->same = 0;
}

static int
silent_done(void *arg)
{
	struct silent *p = arg;

	return p->s->failed > 0;
}

static void
test_uv_timer_retransmits(void **state)
{
	uv_loop_t loop;
	struct side a = { .name = "a" };
	struct silent peer = { 0 };
	vpnr_tunnel_config *tc;
	struct sockaddr_in sin;
	vpnr_addr local, remote;
	uint16_t base = port_base() + 6;
	int len = sizeof(sin);

	assert_int_equal(uv_loop_init(&loop), 0);
	a.close_on_fail = 1;
	/* The silent peer: an ephemeral UDP port on 127.0.0.1. */
	uv_udp_init(&loop, &peer.sock);
	peer.sock.data = &peer;
	peer.s = &a;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_udp_bind(&peer.sock, (struct sockaddr *)&sin, 0),
	    0);
	uv_udp_getsockname(&peer.sock, (struct sockaddr *)&sin, &len);
	uv_udp_recv_start(&peer.sock, silent_alloc, silent_recv);

	assert_int_equal(side_new(&a, &loop, "127.0.0.1", base, 0), VPNR_OK);
	local = mkaddr("127.0.0.1", 0);
	remote = mkaddr("127.0.0.1", ntohs(sin.sin_port));
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	vpnr_tunnel_config_set_addrs(tc, &local, &remote);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)PSK, strlen(PSK));
	vpnr_tunnel_config_set_retransmit(tc, 20 * VPNR_MILLISECONDS, 3);
	assert_int_equal(vpnr_tunnel_add(vpnr_uv_ctx(a.uv), tc, NULL,
			     &a.tunnel),
	    VPNR_OK);
	vpnr_tunnel_config_del(tc);
	assert_int_equal(vpnr_tunnel_initiate(vpnr_uv_ctx(a.uv), a.tunnel,
			     vpnr_uv_now(a.uv)),
	    VPNR_OK);
	/* A deadline now exists; the driver's timer must serve it. */
	assert_true(
	    vpnr_ctx_get_expiry(vpnr_uv_ctx(a.uv)) != VPNR_TSTAMP_NEVER);
	vpnr_uv_kick(a.uv);

	run_until(&loop, silent_done, &peer);
	/* Only the timer can have produced retransmissions and the
	 * final timeout: nothing else drives the context here. */
	assert_int_equal(a.failed, 1);
	assert_int_equal(a.fail_reason, VPNR_ERR_TIMEOUT);
	assert_true(peer.n >= 2);
	assert_true(peer.same);
	assert_int_equal(a.up, 0);

	/* The host closed the driver from inside the FAILED event (no
	 * other close call here): the close must complete. */
	uv_close((uv_handle_t *)&peer.sock, NULL);
	finish_loop(&loop);
	assert_int_equal(a.closed, 1);
}

/* ------------------------------------------------------------------ */
/* Two drivers back to back: a tunnel over loopback                     */

struct pair {
	struct side *a, *b;
};

static int
pair_done(void *arg)
{
	struct pair *p = arg;

	return (p->a->child_up > 0 && p->b->child_up > 0) || p->a->failed > 0 ||
	    p->b->failed > 0;
}

static void
add_tunnel(struct side *s, const char *l, const char *r, uint16_t base,
    int force)
{
	vpnr_tunnel_config *tc;
	vpnr_addr local = mkaddr(l, 0), remote = mkaddr(r, 0);

	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	vpnr_tunnel_config_set_addrs(tc, &local, &remote);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)PSK, strlen(PSK));
	vpnr_tunnel_config_set_force_encap(tc, force);
	/* The peer listens on our ports, not the standard 500/4500. */
	vpnr_tunnel_config_set_peer_ports(tc, base, (uint16_t)(base + 1));
	vpnr_tunnel_config_set_retransmit(tc, 200 * VPNR_MILLISECONDS, 5);
	assert_int_equal(vpnr_tunnel_add(vpnr_uv_ctx(s->uv), tc, NULL,
			     &s->tunnel),
	    VPNR_OK);
	vpnr_tunnel_config_del(tc);
}

static void
test_uv_tunnel_back_to_back(void **state)
{
	uv_loop_t loop;
	struct side a = { .name = "a" }, b = { .name = "b" };
	struct pair p = { &a, &b };
	vpnr_tunnel_info ia, ib;
	uint16_t base = port_base() + 8;

	assert_int_equal(uv_loop_init(&loop), 0);
	/* Same ports, two loopback addresses. */
	assert_int_equal(side_new(&a, &loop, "127.0.0.1", base, 0), VPNR_OK);
	assert_int_equal(side_new(&b, &loop, "127.0.0.2", base, 0), VPNR_OK);
	/* Forced UDP encapsulation: IKE moves to the NAT-T socket, so the
	 * non-ESP marker demux of the driver is exercised. */
	add_tunnel(&a, "127.0.0.1", "127.0.0.2", base, 1);
	add_tunnel(&b, "127.0.0.2", "127.0.0.1", base, 1);
	assert_int_equal(vpnr_tunnel_initiate(vpnr_uv_ctx(a.uv), a.tunnel,
			     vpnr_uv_now(a.uv)),
	    VPNR_OK);
	vpnr_uv_kick(a.uv);
	run_until(&loop, pair_done, &p);

	assert_int_equal(a.failed, 0);
	assert_int_equal(b.failed, 0);
	assert_int_equal(a.child_up, 1);
	assert_int_equal(b.child_up, 1);
	/* The pair crosses over: my inbound SPI is your outbound one. */
	assert_int_not_equal(a.spi_in, 0);
	assert_int_equal(a.spi_in, b.spi_out);
	assert_int_equal(b.spi_in, a.spi_out);
	assert_int_equal(a.encap_flags, VPNR_SA_F_UDP_ENCAP);
	assert_int_equal(vpnr_tunnel_get_info(vpnr_uv_ctx(a.uv), a.tunnel, &ia),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_get_info(vpnr_uv_ctx(b.uv), b.tunnel, &ib),
	    VPNR_OK);
	assert_int_equal(ia.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(ib.state, VPNR_TUNNEL_ESTABLISHED);
	/* IKE floated to the NAT-T port on both sides. */
	assert_int_equal(ia.local.port, base + 1);
	assert_int_equal(ia.remote.port, base + 1);
	assert_true(ia.spi_i == ib.spi_i && ia.spi_r == ib.spi_r);

	assert_int_equal(vpnr_uv_close(a.uv, on_side_closed, &a), VPNR_OK);
	assert_int_equal(vpnr_uv_close(b.uv, on_side_closed, &b), VPNR_OK);
	finish_loop(&loop);
	assert_int_equal(a.closed + b.closed, 2);
}

/* ------------------------------------------------------------------ */
/* BGP transport: connect, back-pressure, ordered delivery, close       */

#define TCP_TOTAL (8u * 1024 * 1024)
#define TCP_ID    ((uint64_t)1 << 40) /* never issued by the context */

struct sink {
	uv_tcp_t server, conn;
	int accepted, eof, reading;
	size_t got;
	int bad; /* a byte out of sequence */
	vpnr_addr peer;
	/* sender */
	struct side *s;
	size_t sent;
	int wouldblock, shorts;
	uv_timer_t pump;
};

static uint8_t
pattern(size_t i)
{
	return (uint8_t)((i * 7) % 251);
}

static void
sink_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	static char b[65536];

	buf->base = b;
	buf->len = sizeof(b);
}

static void
sink_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct sink *k = st->data;
	ssize_t i;

	if (n < 0) {
		k->eof = 1;
		uv_close((uv_handle_t *)st, NULL);
		return;
	}
	for (i = 0; i < n; i++)
		if ((uint8_t)buf->base[i] != pattern(k->got + (size_t)i))
			k->bad = 1;
	k->got += (size_t)n;
}

static void
sink_conn(uv_stream_t *srv, int status)
{
	struct sink *k = srv->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_int_equal(status, 0);
	uv_tcp_init(srv->loop, &k->conn);
	k->conn.data = k;
	assert_int_equal(uv_accept(srv, (uv_stream_t *)&k->conn), 0);
	uv_tcp_getpeername(&k->conn, (struct sockaddr *)&ss, &len);
	k->peer.family = VPNR_AF_INET;
	memcpy(k->peer.bytes, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	k->accepted = 1;
	/* Do not read yet: let the driver's queue fill up first. */
}

static void
pump(uv_timer_t *t)
{
	struct sink *k = t->data;
	vpnr_ctx *ctx = vpnr_uv_ctx(k->s->uv);
	uint8_t chunk[16384];
	size_t i, n;
	int64_t rc;

	if (!k->accepted)
		return;
	while (k->sent < TCP_TOTAL) {
		n = TCP_TOTAL - k->sent < sizeof(chunk) ? TCP_TOTAL - k->sent :
							  sizeof(chunk);
		for (i = 0; i < n; i++)
			chunk[i] = pattern(k->sent + i);
		rc = ctx->cb.transport_send(ctx, TCP_ID, chunk, n,
		    ctx->user_data);
		if (rc == VPNR_ERR_WOULDBLOCK) {
			k->wouldblock++;
			if (!k->reading) {
				/* Back-pressure seen: now drain. */
				k->reading = 1;
				uv_read_start((uv_stream_t *)&k->conn,
				    sink_alloc, sink_read);
			}
			return;
		}
		assert_true(rc > 0 && (size_t)rc <= n);
		if ((size_t)rc < n)
			k->shorts++;
		k->sent += (size_t)rc;
	}
	if (!k->reading) {
		/* The kernel absorbed it all: drain anyway. */
		k->reading = 1;
		uv_read_start((uv_stream_t *)&k->conn, sink_alloc, sink_read);
	}
	/* Everything accepted: close; queued bytes still go out first. */
	ctx->cb.transport_close(ctx, TCP_ID, ctx->user_data);
	uv_timer_stop(t);
}

static int
sink_done(void *arg)
{
	struct sink *k = arg;

	return k->eof;
}

static void
test_uv_tcp_transport(void **state)
{
	uv_loop_t loop;
	struct side a = { .name = "a" };
	struct sink k = { 0 };
	struct sockaddr_in sin;
	vpnr_addr local, remote, peer;
	vpnr_ctx *ctx;
	uint16_t base = port_base() + 3;
	int len = sizeof(sin);

	assert_int_equal(uv_loop_init(&loop), 0);
	uv_tcp_init(&loop, &k.server);
	k.server.data = &k;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_tcp_bind(&k.server, (struct sockaddr *)&sin, 0), 0);
	uv_tcp_getsockname(&k.server, (struct sockaddr *)&sin, &len);
	assert_int_equal(uv_listen((uv_stream_t *)&k.server, 4, sink_conn), 0);

	assert_int_equal(side_new(&a, &loop, "127.0.0.1", base, 1), VPNR_OK);
	k.s = &a;
	ctx = vpnr_uv_ctx(a.uv);
	/* The listener takes MD5 keys per peer; 81 bytes is too long. */
	peer = mkaddr("127.0.0.9", 0);
	assert_int_equal(vpnr_uv_set_md5(a.uv, &peer, (const uint8_t *)"secret",
			     6),
	    VPNR_OK);
	assert_int_equal(vpnr_uv_set_md5(a.uv, &peer, NULL, 0), VPNR_OK);
	{
		uint8_t big[81] = { 0 };

		assert_int_equal(vpnr_uv_set_md5(a.uv, &peer, big, sizeof(big)),
		    VPNR_ERR_INVALID_ARGUMENT);
	}

	/* Open as the BGP engine would, from 127.0.0.3 (bound source). */
	local = mkaddr("127.0.0.3", 0);
	remote = mkaddr("127.0.0.1", ntohs(sin.sin_port));
	assert_int_equal(ctx->cb.transport_open(ctx, TCP_ID, &local, &remote, 1,
			     NULL, 0, ctx->user_data),
	    VPNR_OK);
	uv_timer_init(&loop, &k.pump);
	k.pump.data = &k;
	uv_timer_start(&k.pump, pump, 1, 1);
	run_until(&loop, sink_done, &k);

	assert_true(k.accepted);
	assert_memory_equal(k.peer.bytes, local.bytes, 4);
	assert_int_equal(k.sent, TCP_TOTAL);
	assert_int_equal(k.got, TCP_TOTAL);
	assert_false(k.bad);
	assert_true(k.wouldblock > 0);
	assert_true(k.eof);
	/* Sending on a closed transport is swallowed, never a crash. */
	assert_int_equal(ctx->cb.transport_send(ctx, TCP_ID,
			     (const uint8_t *)"x", 1, ctx->user_data),
	    1);
	/* Opening to a closed port fails later, from the loop. */
	remote.port = base + 12;
	assert_int_equal(ctx->cb.transport_open(ctx, TCP_ID + 1, NULL, &remote,
			     1, NULL, 0, ctx->user_data),
	    VPNR_OK);

	uv_close((uv_handle_t *)&k.pump, NULL);
	uv_close((uv_handle_t *)&k.server, NULL);
	assert_int_equal(vpnr_uv_close(a.uv, on_side_closed, &a), VPNR_OK);
	finish_loop(&loop);
	assert_int_equal(a.closed, 1);
}

/* ------------------------------------------------------------------ */
/* BGP with TCP-MD5 through two drivers: active side and listener       */

#define MD5_KEY "uv-test-md5-key"

static int
bgp_done(void *arg)
{
	struct pair *p = arg;

	return p->a->bgp_up > 0 && p->b->bgp_up > 0 && p->b->routes > 0;
}

static void
add_peer(struct side *s, const char *l, const char *r, uint16_t port,
    uint32_t ras, int passive, uint64_t *id)
{
	vpnr_bgp_peer_config *pc;
	vpnr_addr local = mkaddr(l, 0), remote = mkaddr(r, port);
	vpnr_addr nh = mkaddr("192.0.2.1", 0);

	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	vpnr_bgp_peer_config_set_remote(pc, &remote, ras);
	vpnr_bgp_peer_config_set_local(pc, &local);
	vpnr_bgp_peer_config_set_md5(pc, (const uint8_t *)MD5_KEY,
	    strlen(MD5_KEY));
	vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
	    VPNR_BGP_EXPORT_LOCAL);
	vpnr_bgp_peer_config_set_passive(pc, passive);
	/* 127/8 is no valid NEXT_HOP: advertise a documentation address. */
	vpnr_bgp_peer_config_set_nexthop(pc, &nh);
	assert_int_equal(vpnr_bgp_peer_add(vpnr_uv_ctx(s->uv), pc, s, id),
	    VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	assert_int_equal(vpnr_bgp_peer_enable(vpnr_uv_ctx(s->uv), *id, 1,
			     vpnr_uv_now(s->uv)),
	    VPNR_OK);
	vpnr_uv_kick(s->uv);
}

static void
test_uv_bgp_md5(void **state)
{
	uv_loop_t loop;
	struct side a = { .name = "a" }, b = { .name = "b" };
	struct pair p = { &a, &b };
	vpnr_addr peer_a = mkaddr("127.0.0.1", 0);
	vpnr_prefix pfx;
	vpnr_path_attrs attrs;
	uint64_t ida, idb, path;
	uint16_t base = port_base() + 10;
	int rc;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(side_new_as(&a, &loop, "127.0.0.1", base, 1, 65001),
	    VPNR_OK);
	assert_int_equal(side_new_as(&b, &loop, "127.0.0.2", base, 1, 65002),
	    VPNR_OK);
	/* b is passive: it never calls transport_open, so its host gives
	 * the listener the key for a.  A listener without the key would
	 * drop a's signed SYNs and the session could not come up. */
	rc = vpnr_uv_set_md5(b.uv, &peer_a, (const uint8_t *)MD5_KEY,
	    strlen(MD5_KEY));
	if (rc == VPNR_ERR_UNSUPPORTED) {
		/* Kernel without CONFIG_TCP_MD5SIG. */
		vpnr_uv_close(a.uv, NULL, NULL);
		vpnr_uv_close(b.uv, NULL, NULL);
		finish_loop(&loop);
		skip();
	}
	assert_int_equal(rc, VPNR_OK);
	add_peer(&a, "127.0.0.1", "127.0.0.2", base + 2, 65002, 0, &ida);
	add_peer(&b, "127.0.0.2", "127.0.0.1", base + 2, 65001, 1, &idb);
	assert_int_equal(vpnr_prefix_parse(&pfx, "10.1.0.0/16"), VPNR_OK);
	memset(&attrs, 0, sizeof(attrs));
	assert_int_equal(vpnr_bgp_path_add(vpnr_uv_ctx(a.uv), &pfx, &attrs,
			     &path, vpnr_uv_now(a.uv)),
	    VPNR_OK);
	vpnr_uv_kick(a.uv);
	run_until(&loop, bgp_done, &p);

	/* OPEN/KEEPALIVE/UPDATE crossed both drivers over signed TCP. */
	assert_int_equal(a.bgp_up, 1);
	assert_int_equal(b.bgp_up, 1);
	assert_int_equal(b.routes, 1);
	assert_int_equal(a.bgp_down + b.bgp_down, 0);

	assert_int_equal(vpnr_uv_close(a.uv, on_side_closed, &a), VPNR_OK);
	assert_int_equal(vpnr_uv_close(b.uv, on_side_closed, &b), VPNR_OK);
	finish_loop(&loop);
	assert_int_equal(a.closed + b.closed, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uv_bad_args),
		cmocka_unit_test(test_uv_tcp_transport),
		cmocka_unit_test(test_uv_natt_demux),
		cmocka_unit_test(test_uv_natt_demux_v6),
		cmocka_unit_test(test_uv_timer_retransmits),
		cmocka_unit_test(test_uv_tunnel_back_to_back),
		cmocka_unit_test(test_uv_bgp_md5),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
