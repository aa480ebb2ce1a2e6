/*
 * Host-owned BGP transports (issue 13): the transport id is the
 * host's before any callback names it; after a partial write nothing
 * is sent until vpnr_transport_writable(); a NOTIFICATION the socket
 * did not take is sent before transport_close (or its loss logged after
 * a while); the close handshake; a refused next hop is evented.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

struct side {
	vpnr_ctx *ctx;
	uint64_t peer;
	vpnr_addr addr;
	uint64_t tid;      /* the host's variable for its one connection */
	uint64_t open_tid; /* transport_open asked for this one */
	uint8_t in[1 << 20];
	size_t in_len;        /* bytes for the other side to read */
	size_t cap;           /* accept at most this per send; 0 = all */
	int wouldblock;       /* answer VPNR_ERR_WOULDBLOCK */
	int partial;          /* a partial write happened */
	int sends_after_part; /* sends before writable: must stay 0 */
	int sends;
	int unknown_tid; /* a callback named an id the host lacks */
	int closed_by_lib;
	int est, down, refused;
	uint8_t last_notif;
	int warnings;
};

static struct side S[2];
static vpnr_tstamp now = 1000 * VPNR_SECONDS;

static struct side *
side_of(vpnr_ctx *ctx)
{
	return S[0].ctx == ctx ? &S[0] : &S[1];
}

static int
t_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *l, const vpnr_addr *r,
    uint8_t ttl, const uint8_t *md5, size_t md5_len, void *ud)
{
	(void)l, (void)r, (void)ttl, (void)md5, (void)md5_len, (void)ud;
	side_of(ctx)->open_tid = tid;
	return VPNR_OK;
}

static int64_t
t_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *data, size_t len, void *ud)
{
	struct side *s = side_of(ctx);

	(void)ud;
	if (tid != s->tid)
		s->unknown_tid++;
	s->sends++;
	if (s->partial)
		s->sends_after_part++;
	if (s->wouldblock) {
		s->partial = 1;
		return VPNR_ERR_WOULDBLOCK;
	}
	if (s->cap != 0 && len > s->cap) {
		len = s->cap;
		s->partial = 1;
	}
	assert_true(s->in_len + len <= sizeof(s->in));
	memcpy(s->in + s->in_len, data, len);
	s->in_len += len;
	return (int64_t)len;
}

static void
t_close(vpnr_ctx *ctx, uint64_t tid, void *ud)
{
	struct side *s = side_of(ctx);

	(void)ud;
	if (tid != s->tid)
		s->unknown_tid++;
	s->closed_by_lib++;
}

static int
t_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	struct side *s = side_of(ctx);

	(void)ud;
	if (ev->type == VPNR_BGP_EV_ESTABLISHED)
		s->est++;
	if (ev->type == VPNR_BGP_EV_DOWN) {
		s->down++;
		s->last_notif = ev->notif_code;
	}
	if (ev->type == VPNR_BGP_EV_NEXTHOP_REFUSED) {
		s->refused++;
		assert_int_equal(ev->reason, VPNR_ERR_MALFORMED);
		assert_int_equal(ev->afi_safi, 1);
	}
	return VPNR_OK;
}

static void
t_log(vpnr_ctx *ctx, int level, const char *sub, const char *msg, size_t len,
    void *ud)
{
	(void)sub, (void)msg, (void)len, (void)ud;
	if (level <= VPNR_LOG_WARNING)
		side_of(ctx)->warnings++;
}

static int
t_route(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	(void)ctx, (void)op, (void)rt, (void)dpd;
	return VPNR_OK;
}

/* a (192.0.2.1, AS 65001) connects to b (192.0.2.2, AS 65002). */
static void
setup_pair(const char *a_addr, int a_nexthop)
{
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	vpnr_bgp_peer_config *pc;
	vpnr_addr nh;
	int i;
	static const char *b_addr = "192.0.2.2";

	memset(S, 0, sizeof(S));
	memset(&cb, 0, sizeof(cb));
	cb.transport_open = t_open;
	cb.transport_send = t_send;
	cb.transport_close = t_close;
	cb.bgp_event = t_bgp_event;
	cb.log_msg = t_log;
	memset(&dp, 0, sizeof(dp));
	dp.route_add = dp.route_del = t_route;
	vpnr_addr_parse(&S[0].addr, a_addr);
	vpnr_addr_parse(&S[1].addr, b_addr);
	for (i = 0; i < 2; i++) {
		assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
		vpnr_config_set_local_as(cfg, 65001 + (uint32_t)i);
		vpnr_config_set_router_id(cfg, 0x0a000001 + (uint32_t)i);
		vpnr_config_set_log_level(cfg, VPNR_LOG_WARNING);
		assert_int_equal(vpnr_ctx_new(&S[i].ctx, cfg, &cb, NULL, &dp,
				     NULL, NULL),
		    VPNR_OK);
		vpnr_config_del(cfg);
		assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
		vpnr_bgp_peer_config_set_remote(pc, &S[!i].addr,
		    65001 + (uint32_t)!i);
		vpnr_bgp_peer_config_set_local(pc, &S[i].addr);
		vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
		    VPNR_BGP_EXPORT_LOCAL);
		if (i == 0 && a_nexthop) {
			vpnr_addr_parse(&nh, "198.51.100.1");
			vpnr_bgp_peer_config_set_nexthop(pc, &nh);
		}
		if (i == 1)
			vpnr_bgp_peer_config_set_passive(pc, 1);
		assert_int_equal(vpnr_bgp_peer_add(S[i].ctx, pc, NULL,
				     &S[i].peer),
		    VPNR_OK);
		vpnr_bgp_peer_config_del(pc);
		assert_int_equal(vpnr_bgp_peer_enable(S[i].ctx, S[i].peer, 1,
				     now),
		    VPNR_OK);
	}
}

/* Deliver what each side wrote to the other. */
static void
pump(void)
{
	uint8_t buf[sizeof(S[0].in)];
	size_t n;
	int i, k;

	for (k = 0; k < 50; k++) {
		int moved = 0;

		for (i = 0; i < 2; i++) {
			if (S[i].in_len == 0 || S[!i].tid == 0)
				continue;
			n = S[i].in_len;
			memcpy(buf, S[i].in, n);
			S[i].in_len = 0;
			vpnr_transport_recv(S[!i].ctx, S[!i].tid, buf, n, now);
			moved = 1;
		}
		for (i = 0; i < 2; i++)
			if (vpnr_ctx_get_expiry(S[i].ctx) <= now)
				vpnr_ctx_handle_expiry(S[i].ctx, now);
		if (!moved)
			break;
	}
}

static void
connect_pair(void)
{
	vpnr_ctx_handle_expiry(S[0].ctx, now);
	assert_int_not_equal(S[0].open_tid, 0);
	S[0].tid = S[0].open_tid;
	/* b accepts: its OPEN goes out from inside this call, naming an
	 * id that must already be in b's variable. */
	assert_int_equal(vpnr_transport_accepted(S[1].ctx, &S[1].addr,
			     &S[0].addr, &S[1].tid, now),
	    VPNR_OK);
	assert_int_not_equal(S[1].tid, 0);
	assert_true(S[1].sends >= 1);
	assert_int_equal(vpnr_transport_connected(S[0].ctx, S[0].tid, VPNR_OK,
			     now),
	    VPNR_OK);
	pump();
	assert_int_equal(S[0].est, 1);
	assert_int_equal(S[1].est, 1);
	assert_int_equal(S[0].unknown_tid + S[1].unknown_tid, 0);
}

static void
teardown_pair(void)
{
	vpnr_ctx_del(S[0].ctx);
	vpnr_ctx_del(S[1].ctx);
}

static void
add_paths(int n)
{
	vpnr_prefix p;
	uint64_t id;
	char s[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "10.%d.%d.0/24", i >> 8, i & 0xff);
		assert_int_equal(vpnr_prefix_parse(&p, s), VPNR_OK);
		assert_int_equal(vpnr_bgp_path_add(S[0].ctx, &p, NULL, &id,
				     now),
		    VPNR_OK);
	}
	now += VPNR_SECONDS;
	vpnr_ctx_handle_expiry(S[0].ctx, now);
}

static uint32_t
accepted_at_b(void)
{
	vpnr_bgp_peer_info inf;

	assert_int_equal(vpnr_bgp_peer_get_info(S[1].ctx, S[1].peer, &inf),
	    VPNR_OK);
	return inf.pfx_accepted_v4;
}

static void
test_accepted_id_and_short_writes(void **state)
{
	int k;

	(void)state;
	setup_pair("192.0.2.1", 1);
	connect_pair();
	/* a's socket takes 100 bytes a call: one write, then nothing
	 * until the host says writable. */
	S[0].cap = 100;
	add_paths(2000);
	assert_int_equal(S[0].partial, 1);
	assert_int_equal(S[0].sends_after_part, 0);
	for (k = 0; k < 100000 && accepted_at_b() < 2000; k++) {
		S[0].partial = 0;
		pump();
		assert_int_equal(vpnr_transport_writable(S[0].ctx, S[0].tid,
				     now),
		    VPNR_OK);
		assert_true(S[0].sends_after_part <= 1);
		S[0].sends_after_part = 0;
	}
	pump();
	assert_int_equal(accepted_at_b(), 2000);
	assert_int_equal(S[1].refused, 0);
	teardown_pair();
}

static void
test_cease_flushed_before_close(void **state)
{
	(void)state;
	setup_pair("192.0.2.1", 1);
	connect_pair();
	/* a's socket is full when a shuts down. */
	S[0].wouldblock = 1;
	assert_int_equal(vpnr_ctx_shutdown(S[0].ctx, now), VPNR_OK);
	assert_int_equal(S[0].down, 1);
	assert_int_equal(S[0].closed_by_lib, 0); /* Cease still queued */
	assert_int_equal(S[1].down, 0);
	now += VPNR_SECONDS;
	S[0].wouldblock = 0;
	S[0].partial = 0;
	assert_int_equal(vpnr_transport_writable(S[0].ctx, S[0].tid, now),
	    VPNR_OK);
	assert_int_equal(S[0].closed_by_lib, 1);
	pump();
	assert_int_equal(S[1].down, 1);
	assert_int_equal(S[1].last_notif, 6); /* Cease */
	/* The id is dead after transport_close. */
	assert_int_equal(vpnr_transport_closed(S[0].ctx, S[0].tid,
			     VPNR_ERR_PEER_CLOSED, now),
	    VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_transport_writable(S[0].ctx, S[0].tid, now),
	    VPNR_ERR_NOT_FOUND);
	teardown_pair();
}

static void
test_cease_lost_is_reported(void **state)
{
	int w;

	(void)state;
	setup_pair("192.0.2.1", 1);
	connect_pair();
	S[0].wouldblock = 1;
	w = S[0].warnings;
	assert_int_equal(vpnr_bgp_peer_enable(S[0].ctx, S[0].peer, 0, now),
	    VPNR_OK);
	assert_int_equal(S[0].closed_by_lib, 0);
	/* The host never drains the socket: after a while the library
	 * gives up, says so, and closes. */
	now += 11 * VPNR_SECONDS;
	vpnr_ctx_handle_expiry(S[0].ctx, now);
	assert_int_equal(S[0].closed_by_lib, 1);
	assert_true(S[0].warnings > w);
	teardown_pair();

	/* The host's own close of a lingering transport: no close back. */
	setup_pair("192.0.2.1", 1);
	connect_pair();
	S[0].wouldblock = 1;
	assert_int_equal(vpnr_bgp_peer_enable(S[0].ctx, S[0].peer, 0, now),
	    VPNR_OK);
	assert_int_equal(vpnr_transport_closed(S[0].ctx, S[0].tid,
			     VPNR_ERR_PEER_CLOSED, now),
	    VPNR_OK);
	now += 11 * VPNR_SECONDS;
	vpnr_ctx_handle_expiry(S[0].ctx, now);
	assert_int_equal(S[0].closed_by_lib, 0);
	teardown_pair();
}

static void
test_host_close_handshake(void **state)
{
	(void)state;
	setup_pair("192.0.2.1", 1);
	connect_pair();
	/* The peer closed: the host says so and gets no transport_close. */
	assert_int_equal(vpnr_transport_closed(S[1].ctx, S[1].tid,
			     VPNR_ERR_PEER_CLOSED, now),
	    VPNR_OK);
	assert_int_equal(S[1].closed_by_lib, 0);
	assert_int_equal(S[1].down, 1);
	assert_int_equal(vpnr_transport_closed(S[1].ctx, S[1].tid,
			     VPNR_ERR_PEER_CLOSED, now),
	    VPNR_ERR_NOT_FOUND);
	teardown_pair();
}

static void
test_refused_nexthop_evented(void **state)
{
	(void)state;
	/* a's session address is a loopback one and a sets no next hop:
	 * b refuses it, once evented, routes counted as withdrawn. */
	setup_pair("127.0.0.1", 0);
	connect_pair();
	add_paths(3);
	pump();
	add_paths(3);
	pump();
	assert_int_equal(S[1].refused, 1);
	assert_int_equal(accepted_at_b(), 0);
	{
		vpnr_bgp_peer_info inf;

		assert_int_equal(vpnr_bgp_peer_get_info(S[1].ctx, S[1].peer,
				     &inf),
		    VPNR_OK);
		assert_true(inf.treat_as_withdraw >= 1);
	}
	teardown_pair();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_id_and_short_writes),
		cmocka_unit_test(test_cease_flushed_before_close),
		cmocka_unit_test(test_cease_lost_is_reported),
		cmocka_unit_test(test_host_close_handshake),
		cmocka_unit_test(test_refused_nexthop_evented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
