/*
 * The session state machine against a scripted peer (the test writes
 * BGP bytes itself) with a fake clock: OPEN handshake, hold expiry,
 * keepalives, NOTIFICATIONs with the right codes, FSM errors, header
 * errors, connect-retry, RFC 7606 treat-as-withdraw keeping the
 * session up, AS-path loop rejection, graceful-restart helper (and
 * none across a tunnel going down).
 */
#include "bgp_harness.h"

#include "bgp/msg.h"

#define A_ADDR "192.0.2.1"
#define R_ADDR "192.0.2.9"
#define R_AS   65009

/* Frame the speaker's output on raw link l into types[] (and the
 * NOTIFICATION code/subcode of the last one seen). */
static int
raw_read(struct bh_link *l, uint8_t *types, int max, uint8_t *ncode,
    uint8_t *nsub, uint8_t *ndata, size_t *ndlen)
{
	struct vpnr__bgp_err err;
	size_t off = 0, need;
	uint8_t type;
	int n = 0;

	while (off < l->ab.len) {
		assert_int_equal(vpnr__bgp_frame(l->ab.buf + off,
				     l->ab.len - off, VPNR__BGP_MAX_LEN, &need,
				     &type, &err),
		    1);
		if (type == VPNR__BGP_NOTIFICATION && ncode != NULL) {
			*ncode = l->ab.buf[off + 19];
			*nsub = l->ab.buf[off + 20];
			if (ndata != NULL) {
				*ndlen = need - 21;
				memcpy(ndata, l->ab.buf + off + 21, *ndlen);
			}
		}
		if (n < max)
			types[n] = type;
		n++;
		off += need;
	}
	l->ab.len = 0;
	return n;
}

static int
raw_count(struct bh_link *l, uint8_t type)
{
	uint8_t t[256];
	int i, n, c = 0;

	n = raw_read(l, t, 256, NULL, NULL, NULL, NULL);
	for (i = 0; i < n && i < 256; i++)
		if (t[i] == type)
			c++;
	return c;
}

static void
raw_open(struct bh_link *l, uint16_t hold, int gr)
{
	struct vpnr__wbuf w;
	struct vpnr__bgp_open o;

	memset(&o, 0, sizeof(o));
	o.version = 4;
	o.hold_time = hold;
	o.bgp_id = 0x09090909;
	o.local_as = R_AS;
	o.caps =
	    VPNR__BGP_CAPF_MP | VPNR__BGP_CAPF_AS4 | VPNR__BGP_CAPF_RREFRESH;
	o.mp_aids = 3;
	if (gr) {
		o.caps |= VPNR__BGP_CAPF_GR;
		o.gr_time = 120;
		o.gr_aids = 1;
		o.gr_fwd_aids = 1;
	}
	vpnr__wbuf_init(&w, NULL, 4096);
	assert_int_equal(vpnr__bgp_open_encode(&w, &o), 0);
	assert_int_equal(bh_raw_send(l, vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w)),
	    VPNR_OK);
	vpnr__wbuf_free(&w);
}

static void
raw_keepalive(struct bh_link *l)
{
	uint8_t m[19];

	memset(m, 0xff, 16);
	m[16] = 0;
	m[17] = 19;
	m[18] = VPNR__BGP_KEEPALIVE;
	assert_int_equal(bh_raw_send(l, m, sizeof(m)), VPNR_OK);
}

static void
raw_notification(struct bh_link *l, uint8_t code, uint8_t sub)
{
	uint8_t m[21];

	memset(m, 0xff, 16);
	m[16] = 0;
	m[17] = 21;
	m[18] = VPNR__BGP_NOTIFICATION;
	m[19] = code;
	m[20] = sub;
	assert_int_equal(bh_raw_send(l, m, sizeof(m)), VPNR_OK);
}

/* UPDATE with the given path attributes and IPv4 NLRI bytes. */
static void
raw_update(struct bh_link *l, const uint8_t *attrs, size_t alen,
    const uint8_t *nlri, size_t nlen)
{
	uint8_t m[512];
	size_t len = 19 + 2 + 2 + alen + nlen;

	assert_true(len <= sizeof(m));
	memset(m, 0xff, 16);
	m[16] = (uint8_t)(len >> 8);
	m[17] = (uint8_t)len;
	m[18] = VPNR__BGP_UPDATE;
	m[19] = 0;
	m[20] = 0;
	m[21] = (uint8_t)(alen >> 8);
	m[22] = (uint8_t)alen;
	if (alen > 0)
		memcpy(m + 23, attrs, alen);
	if (nlen > 0)
		memcpy(m + 23 + alen, nlri, nlen);
	assert_int_equal(bh_raw_send(l, m, len), VPNR_OK);
}

/* ORIGIN IGP, AS_PATH 65009 (4-octet), NEXT_HOP 192.0.2.9 */
static const uint8_t good_attrs[] = {
	0x40,
	1,
	1,
	0,
	0x40,
	2,
	6,
	2,
	1,
	0x00,
	0x00,
	0xfd,
	0xf1,
	0x40,
	3,
	4,
	192,
	0,
	2,
	9,
};
/* the same with ORIGIN of length 2 (RFC 7606 7.1: treat-as-withdraw) */
static const uint8_t bad_origin_attrs[] = {
	0x40,
	1,
	2,
	0,
	0,
	0x40,
	2,
	6,
	2,
	1,
	0x00,
	0x00,
	0xfd,
	0xf1,
	0x40,
	3,
	4,
	192,
	0,
	2,
	9,
};
/* AS_PATH 65009 65001: contains our AS (loop) */
static const uint8_t loop_attrs[] = {
	0x40,
	1,
	1,
	0,
	0x40,
	2,
	10,
	2,
	2,
	0x00,
	0x00,
	0xfd,
	0xf1,
	0x00,
	0x00,
	0xfd,
	0xe9,
	0x40,
	3,
	4,
	192,
	0,
	2,
	9,
};
static const uint8_t nlri_10_1[] = { 16, 10, 1 };    /* 10.1.0.0/16 */
static const uint8_t nlri_10_2[] = { 24, 10, 2, 0 }; /* 10.2.0.0/24 */

static void
tw_hold30(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_timers(pc, 30, 10), VPNR_OK);
}

/* Speaker A with a passive peer R and an established raw session. */
static struct bh_link *
setup_raw(uint64_t *peer, int gr, void (*tw)(vpnr_bgp_peer_config *, void *),
    void *arg)
{
	int a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	struct bh_link *l;
	uint8_t t[8];

	bh_tunnel_fake(a);
	bh_tun_up[7] = 1;
	*peer = bh_peer(a, R_ADDR, R_AS, 1, tw ? tw : tw_hold30, arg);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, *peer, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(bh_state(a, *peer), VPNR_BGP_STATE_ACTIVE);
	l = bh_raw_connect(a, R_ADDR);
	assert_int_equal(bh_state(a, *peer), VPNR_BGP_STATE_OPENSENT);
	assert_int_equal(raw_read(l, t, 8, NULL, NULL, NULL, NULL), 1);
	assert_int_equal(t[0], VPNR__BGP_OPEN);
	raw_open(l, 30, gr);
	assert_int_equal(bh_state(a, *peer), VPNR_BGP_STATE_OPENCONFIRM);
	assert_int_equal(raw_read(l, t, 8, NULL, NULL, NULL, NULL), 1);
	assert_int_equal(t[0], VPNR__BGP_KEEPALIVE);
	raw_keepalive(l);
	assert_int_equal(bh_state(a, *peer), VPNR_BGP_STATE_ESTABLISHED);
	bh_run();
	/* End-of-RIB for IPv4 and IPv6 */
	assert_int_equal(raw_count(l, VPNR__BGP_UPDATE), 2);
	return l;
}

static void
test_handshake(void **state)
{
	uint64_t p;

	(void)state;
	setup_raw(&p, 0, NULL, NULL);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 1);
}

static void
test_hold_expiry(void **state)
{
	uint64_t p;
	struct bh_link *l;
	uint8_t t[16], code = 0, sub = 0;
	const vpnr_bgp_event *ev;

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	bh_advance(29 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	/* our keepalives went out meanwhile */
	raw_read(l, t, 16, &code, &sub, NULL, NULL);
	bh_advance(2 * VPNR_SECONDS);
	assert_int_not_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	raw_read(l, t, 16, &code, &sub, NULL, NULL);
	assert_int_equal(code, 4);
	assert_int_equal(sub, 0);
	assert_true(l->closed_a);
	ev = bh_last_ev(0, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
}

static void
test_keepalives(void **state)
{
	uint64_t p;
	struct bh_link *l;
	int i, ka = 0;

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	for (i = 0; i < 10; i++) {
		bh_advance(10 * VPNR_SECONDS);
		raw_keepalive(l);
		ka += raw_count(l, VPNR__BGP_KEEPALIVE);
	}
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	/* keepalive 10 s over 100 s */
	assert_true(ka >= 9 && ka <= 11);
}

static void
test_unexpected_in_opensent(void **state)
{
	int a;
	uint64_t p;
	struct bh_link *l;
	uint8_t t[8], code = 0, sub = 0;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	p = bh_peer(a, R_ADDR, R_AS, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, p, 1, bh_now);
	l = bh_raw_connect(a, R_ADDR);
	raw_keepalive(l);
	raw_read(l, t, 8, &code, &sub, NULL, NULL);
	assert_int_equal(code, 5); /* FSM error */
	assert_int_equal(sub, 1);  /* in OpenSent */
	assert_true(l->closed_a);
	assert_int_not_equal(bh_state(a, p), VPNR_BGP_STATE_OPENSENT);
}

static void
test_bad_hold_time(void **state)
{
	int a;
	uint64_t p;
	struct bh_link *l;
	uint8_t t[8], code = 0, sub = 0;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	p = bh_peer(a, R_ADDR, R_AS, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, p, 1, bh_now);
	l = bh_raw_connect(a, R_ADDR);
	raw_open(l, 2, 0);
	raw_read(l, t, 8, &code, &sub, NULL, NULL);
	assert_int_equal(code, 2);
	assert_int_equal(sub, 6); /* Unacceptable Hold Time */
	assert_true(l->closed_a);
}

static void
test_header_error(void **state)
{
	int a;
	uint64_t p;
	struct bh_link *l;
	uint8_t t[8], code = 0, sub = 0, m[19];

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	p = bh_peer(a, R_ADDR, R_AS, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, p, 1, bh_now);
	l = bh_raw_connect(a, R_ADDR);
	memset(m, 0xff, sizeof(m));
	m[3] = 0; /* marker not all ones */
	m[16] = 0;
	m[17] = 19;
	m[18] = 4;
	bh_raw_send(l, m, sizeof(m));
	raw_read(l, t, 8, &code, &sub, NULL, NULL);
	assert_int_equal(code, 1);
	assert_int_equal(sub, 1);
	assert_true(l->closed_a);
}

static void
test_notification_received(void **state)
{
	uint64_t p;
	struct bh_link *l;
	const vpnr_bgp_event *ev;

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	raw_notification(l, 6, 2);
	ev = bh_last_ev(0, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->notif_code, 6);
	assert_int_equal(ev->notif_subcode, 2);
	assert_int_equal(ev->reason, VPNR_ERR_PEER_ERROR);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	/* no NOTIFICATION in reply to a NOTIFICATION */
	assert_int_equal(raw_count(l, VPNR__BGP_NOTIFICATION), 0);
	assert_true(l->closed_a);
}

/* RFC 7606: a malformed attribute withdraws, the session stays. */
static void
test_treat_as_withdraw(void **state)
{
	uint64_t p;
	struct bh_link *l;
	vpnr_bgp_peer_info info;

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_2,
	    sizeof(nlri_10_2));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	assert_int_equal(bh_has_route(0, "10.2.0.0/24", R_ADDR), 1);
	raw_update(l, bad_origin_attrs, sizeof(bad_origin_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	assert_int_equal(bh_has_route(0, "10.2.0.0/24", R_ADDR), 1);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(raw_count(l, VPNR__BGP_NOTIFICATION), 0);
	assert_false(l->closed_a);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, p, &info),
	    VPNR_OK);
	assert_int_equal(info.treat_as_withdraw, 1);
	assert_int_equal(info.pfx_accepted_v4, 1);
	/* and learned again when it is well-formed */
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
}

static void
test_as_loop(void **state)
{
	uint64_t p;
	struct bh_link *l;

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	raw_update(l, loop_attrs, sizeof(loop_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
}

/* The peer advertised graceful restart for IPv4: its routes survive
 * a TCP reset until the restart time runs out. */
static void
test_gr_helper(void **state)
{
	uint64_t p;
	struct bh_link *l;

	(void)state;
	l = setup_raw(&p, 1, NULL, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	assert_int_equal(vpnr_transport_closed(bh_spk[0].ctx, l->ta,
			     VPNR_ERR_PEER_CLOSED, bh_now),
	    VPNR_OK);
	l->closed_a = 1;
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 1);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	bh_advance(100 * VPNR_SECONDS);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	bh_advance(25 * VPNR_SECONDS);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
}

/* ... and a restarted peer that re-sends its routes keeps them
 * without a data-plane flap; the stale ones go at End-of-RIB. */
static void
test_gr_restart_eor(void **state)
{
	uint64_t p;
	struct bh_link *l;
	uint8_t t[8], eor[] = { 0 };
	vpnr_bgp_peer_info info;
	uint64_t dels;
	int i;

	(void)state;
	l = setup_raw(&p, 1, NULL, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_2,
	    sizeof(nlri_10_2));
	vpnr_transport_closed(bh_spk[0].ctx, l->ta, VPNR_ERR_PEER_CLOSED,
	    bh_now);
	l->closed_a = 1;
	dels = bh_spk[0].route_dels;
	bh_advance(5 * VPNR_SECONDS);
	l = bh_raw_connect(0, R_ADDR);
	raw_read(l, t, 8, NULL, NULL, NULL, NULL);
	raw_open(l, 30, 1);
	raw_keepalive(l);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_spk[0].route_dels, dels);
	raw_update(l, eor, 0, NULL, 0); /* IPv4 End-of-RIB */
	(void)eor;
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	/* 10.2 was not re-sent: it goes once both EoRs are in; the IPv6
	 * one never comes here, so the stale timer does it */
	assert_int_equal(bh_has_route(0, "10.2.0.0/24", R_ADDR), 1);
	for (i = 0; i < 40; i++) {
		bh_advance(10 * VPNR_SECONDS);
		raw_keepalive(l);
	}
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, "10.2.0.0/24", NULL), 0);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	/* the purged stale route is no longer counted */
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, p, &info),
	    VPNR_OK);
	assert_int_equal(info.pfx_received_v4, 1);
	assert_int_equal(info.pfx_accepted_v4, 1);
}

static void
tw_tunnel7(vpnr_bgp_peer_config *pc, void *arg)
{
	tw_hold30(pc, NULL);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel(pc, 7), VPNR_OK);
	if (arg != NULL)
		assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc,
				     *(const uint32_t *)arg),
		    VPNR_OK);
}

/* A restarting GR peer's stale routes leave as soon as its tunnel goes
 * down, and are not brought back with it. */
static void
test_gr_stale_tunnel_down(void **state)
{
	uint64_t p;
	struct bh_link *l;

	(void)state;
	l = setup_raw(&p, 1, tw_tunnel7, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	vpnr_transport_closed(bh_spk[0].ctx, l->ta, VPNR_ERR_PEER_CLOSED,
	    bh_now);
	l->closed_a = 1;
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	bh_tunnel_set(0, 7, 0);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	bh_tunnel_set(0, 7, 1);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
}

/* HOLD, and the hold timer expires while the tunnel is down: a GR
 * peer's routes are not kept for a restart either. */
static void
test_gr_hold_expiry_tunnel_down(void **state)
{
	static const uint32_t hold = VPNR_BGP_TUNNEL_DOWN_HOLD;
	vpnr_bgp_peer_info info;
	uint64_t p;
	struct bh_link *l;

	(void)state;
	l = setup_raw(&p, 1, tw_tunnel7, (void *)&hold);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", R_ADDR), 1);
	bh_tunnel_set(0, 7, 0);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	bh_advance(31 * VPNR_SECONDS);
	assert_int_not_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, p, &info),
	    VPNR_OK);
	assert_int_equal(info.last_reason, VPNR_ERR_TIMEOUT);
	assert_int_equal(info.pfx_received_v4, 0);
	bh_tunnel_set(0, 7, 1);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
}

static void
test_connect_retry(void **state)
{
	int a;
	uint64_t p;
	vpnr_bgp_peer_config *pc;
	vpnr_addr r = bh_addr(R_ADDR);
	int opens = 0;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	bh_spk[a].refuse_connect = 1;
	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	vpnr_bgp_peer_config_set_remote(pc, &r, R_AS);
	vpnr_bgp_peer_config_set_connect_timers(pc, 7, 0);
	assert_int_equal(vpnr_bgp_peer_add(bh_spk[a].ctx, pc, NULL, &p),
	    VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, p, 1, bh_now);
	opens += bh_spk[a].n_open;
	assert_int_equal(opens, 1);
	assert_int_equal(bh_state(a, p), VPNR_BGP_STATE_CONNECT);
	bh_run(); /* refused */
	assert_int_equal(bh_state(a, p), VPNR_BGP_STATE_ACTIVE);
	bh_advance(6 * VPNR_SECONDS);
	assert_int_equal(bh_spk[a].n_open, 0);
	/* second attempt after ConnectRetry (7 s) */
	bh_now += VPNR_SECONDS;
	vpnr_ctx_handle_expiry(bh_spk[a].ctx, bh_now);
	assert_int_equal(bh_spk[a].n_open, 1);
	bh_run();
	/* disable: back to Idle, no more attempts */
	vpnr_bgp_peer_enable(bh_spk[a].ctx, p, 0, bh_now);
	assert_int_equal(bh_state(a, p), VPNR_BGP_STATE_IDLE);
	bh_advance(30 * VPNR_SECONDS);
	assert_int_equal(bh_spk[a].n_open, 0);
}

static void
tw_max1(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	tw_hold30(pc, NULL);
	vpnr_bgp_peer_config_set_max_prefix(pc, 1);
}

/* Cease/1 carries AFI, SAFI and the limit (RFC 4486). */
static void
test_max_prefix_notification(void **state)
{
	uint64_t p;
	struct bh_link *l;
	uint8_t t[8], code = 0, sub = 0, d[64];
	size_t dlen = 0;
	static const uint8_t want[] = { 0, 1, 1, 0, 0, 0, 1 };

	(void)state;
	l = setup_raw(&p, 0, tw_max1, NULL);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_1,
	    sizeof(nlri_10_1));
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	raw_update(l, good_attrs, sizeof(good_attrs), nlri_10_2,
	    sizeof(nlri_10_2));
	raw_read(l, t, 8, &code, &sub, d, &dlen);
	assert_int_equal(code, 6);
	assert_int_equal(sub, 1);
	assert_int_equal(dlen, sizeof(want));
	assert_memory_equal(d, want, sizeof(want));
	assert_int_equal(bh_spk[0].n_routes, 0);
	/* refuses the reconnect (no restart timer configured) */
	{
		vpnr_addr r = bh_addr(R_ADDR);
		uint64_t tid;

		assert_int_equal(vpnr_transport_accepted(bh_spk[0].ctx,
				     &bh_spk[0].addr, &r, &tid, bh_now),
		    VPNR_ERR_INVALID_STATE);
	}
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_PREFIX_LIMIT), 1);
}

/* ROUTE-REFRESH (RFC 2918): the Adj-RIB-Out is sent again. */
static void
test_route_refresh(void **state)
{
	uint64_t p;
	struct bh_link *l;
	vpnr_prefix pf;
	vpnr_path_attrs pa;
	uint64_t id;
	uint8_t m[23];

	(void)state;
	l = setup_raw(&p, 0, NULL, NULL);
	assert_int_equal(vpnr_prefix_parse(&pf, "198.51.100.0/24"), VPNR_OK);
	memset(&pa, 0, sizeof(pa));
	assert_int_equal(vpnr_bgp_path_add(bh_spk[0].ctx, &pf, &pa, &id,
			     bh_now),
	    VPNR_OK);
	bh_run();
	assert_int_equal(raw_count(l, VPNR__BGP_UPDATE), 1);
	memset(m, 0xff, 16);
	m[16] = 0;
	m[17] = 23;
	m[18] = VPNR__BGP_ROUTE_REFRESH;
	m[19] = 0;
	m[20] = 1; /* AFI IPv4 */
	m[21] = 0;
	m[22] = 1; /* SAFI unicast */
	assert_int_equal(bh_raw_send(l, m, sizeof(m)), VPNR_OK);
	bh_run();
	/* the prefix again (End-of-RIB is sent once per session) */
	assert_int_equal(raw_count(l, VPNR__BGP_UPDATE), 1);
	assert_int_equal(bh_state(0, p), VPNR_BGP_STATE_ESTABLISHED);
	/* a ROUTE-REFRESH of the wrong length: 7/1 (RFC 7313) */
	m[17] = 22;
	assert_int_equal(bh_raw_send(l, m, 22), VPNR_OK);
	assert_true(l->closed_a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_handshake, bh_setup),
		cmocka_unit_test_setup(test_hold_expiry, bh_setup),
		cmocka_unit_test_setup(test_keepalives, bh_setup),
		cmocka_unit_test_setup(test_unexpected_in_opensent, bh_setup),
		cmocka_unit_test_setup(test_bad_hold_time, bh_setup),
		cmocka_unit_test_setup(test_header_error, bh_setup),
		cmocka_unit_test_setup(test_notification_received, bh_setup),
		cmocka_unit_test_setup(test_treat_as_withdraw, bh_setup),
		cmocka_unit_test_setup(test_as_loop, bh_setup),
		cmocka_unit_test_setup(test_gr_helper, bh_setup),
		cmocka_unit_test_setup(test_gr_restart_eor, bh_setup),
		cmocka_unit_test_setup(test_connect_retry, bh_setup),
		cmocka_unit_test_setup(test_max_prefix_notification, bh_setup),
		cmocka_unit_test_setup(test_route_refresh, bh_setup),
		cmocka_unit_test_setup(test_gr_stale_tunnel_down, bh_setup),
		cmocka_unit_test_setup(test_gr_hold_expiry_tunnel_down,
		    bh_setup),
	};
	int rv;

	rv = cmocka_run_group_tests(tests, NULL, NULL);
	bh_reset();
	return rv;
}
