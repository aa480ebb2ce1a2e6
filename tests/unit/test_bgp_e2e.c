/*
 * Our BGP speaker against our BGP speaker in one process: in-memory
 * transports and a fake clock (bgp_harness.h).  Sessions, IPv4 and
 * IPv6 exchange, withdraw, ECMP across two peers of one AS, hold-time
 * negotiation with the clouds' timers, hold expiry, send-hold,
 * max-prefix (teardown and warning), collision, policy defaults
 * (RFC 8212), prefix lists, export transforms, peer restart.
 */
#include "bgp_harness.h"

#include "lib/ctx.h"

#define A_ADDR "192.0.2.1"
#define B_ADDR "192.0.2.2"
#define C_ADDR "192.0.2.3"

static void
teardown_all(void)
{
	bh_reset();
}

static uint64_t
add_path(int s, const char *pfx, const char *nh)
{
	vpnr_prefix p = bh_pfx(pfx);
	vpnr_path_attrs a;
	uint64_t id;

	memset(&a, 0, sizeof(a));
	if (nh != NULL)
		a.nexthop = bh_addr(nh);
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &a, &id, bh_now),
	    VPNR_OK);
	assert_true(id != 0);
	return id;
}

static void
tw_nh6(vpnr_bgp_peer_config *pc, void *arg)
{
	vpnr_addr nh = bh_addr(arg);

	assert_int_equal(vpnr_bgp_peer_config_set_nexthop(pc, &nh), VPNR_OK);
}

/* A (AS 65001, active) <-> B (AS 65002, passive). */
static void
pair(uint64_t *pa, uint64_t *pb, void (*twa)(vpnr_bgp_peer_config *, void *),
    void *arga, void (*twb)(vpnr_bgp_peer_config *, void *), void *argb)
{
	int a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	int b = bh_speaker("B", B_ADDR, 65002, 0x02020202);

	*pa = bh_peer(a, B_ADDR, 65002, 0, twa, arga);
	*pb = bh_peer(b, A_ADDR, 65001, 1, twb, argb);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[b].ctx, *pb, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, *pa, 1, bh_now),
	    VPNR_OK);
	bh_run();
}

static void
test_establish(void **state)
{
	uint64_t pa, pb;
	vpnr_bgp_peer_info info;

	(void)state;
	pair(&pa, &pb, NULL, NULL, NULL, NULL);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_state(1, pb), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 1);
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_ESTABLISHED), 1);
	/* both families, End-of-RIB for each */
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_EOR), 2);
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_EOR), 2);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, pa, &info),
	    VPNR_OK);
	assert_int_equal(info.hold_s, 90);
	assert_int_equal(info.keepalive_s, 30);
	assert_int_equal(info.families, 3);
	assert_int_equal(info.peer_router_id, 0x02020202);
	/* keepalives keep it up for a long time */
	bh_advance(600 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 0);
	teardown_all();
}

static void
test_exchange_v4_v6(void **state)
{
	uint64_t pa, pb, p4, p6;

	(void)state;
	pair(&pa, &pb, NULL, NULL, tw_nh6, "2001:db8:ffff::2");
	p4 = add_path(1, "10.1.0.0/16", NULL);
	p6 = add_path(1, "2001:db8:1::/48", NULL);
	bh_run();
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", B_ADDR), 1);
	assert_int_equal(bh_has_route(0, "2001:db8:1::/48", "2001:db8:ffff::2"),
	    1);
	assert_int_equal(bh_spk[0].routes[0].peer_id, pa);
	assert_int_equal(bh_rib_count(0, VPNR_RIB_LOC, 0), 2);
	assert_int_equal(bh_rib_count(0, VPNR_RIB_ADJ_IN, pa), 2);
	assert_int_equal(bh_rib_count(1, VPNR_RIB_ADJ_OUT, pb), 2);
	/* A exports nothing of what it learned (EXPORT_LOCAL) */
	assert_int_equal(bh_rib_count(0, VPNR_RIB_ADJ_OUT, pa), 0);
	/* withdraw */
	assert_int_equal(vpnr_bgp_path_del(bh_spk[1].ctx, p4, bh_now), VPNR_OK);
	bh_run();
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	assert_int_equal(bh_has_route(0, "2001:db8:1::/48", NULL), 1);
	assert_int_equal(vpnr_bgp_path_del(bh_spk[1].ctx, p6, bh_now), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_del(bh_spk[1].ctx, p6, bh_now),
	    VPNR_ERR_NOT_FOUND);
	bh_run();
	assert_int_equal(bh_spk[0].n_routes, 0);
	teardown_all();
}

/*
 * A peer without a configured local address: the host reports the
 * source address its TCP stack chose, and that becomes next hop self.
 */
static void
test_local_address_from_host(void **state)
{
	vpnr_bgp_peer_config *pc;
	vpnr_addr rb = bh_addr(B_ADDR);
	int a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	int b = bh_speaker("B", B_ADDR, 65002, 0x02020202);
	uint64_t pa, pb;

	(void)state;
	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_remote(pc, &rb, 65002),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_policy(pc,
			     VPNR_BGP_IMPORT_ALL, VPNR_BGP_EXPORT_LOCAL),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_add(bh_spk[a].ctx, pc, NULL, &pa),
	    VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	pb = bh_peer(b, A_ADDR, 65001, 1, NULL, NULL);
	assert_int_equal(vpnr_transport_set_local(bh_spk[a].ctx, 12345, &rb),
	    VPNR_ERR_NOT_FOUND);
	bh_spk[a].report_local = 1;
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, pa, 1, bh_now),
	    VPNR_OK);
	bh_run();
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	add_path(a, "10.9.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(b, "10.9.0.0/16", A_ADDR), 1);
	teardown_all();
}

static void
tw_no_policy(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_policy(pc,
			     VPNR_BGP_IMPORT_NONE, VPNR_BGP_EXPORT_NONE),
	    VPNR_OK);
}

/* RFC 8212: the default is to import and export nothing. */
static void
test_rfc8212_default(void **state)
{
	uint64_t pa, pb;

	(void)state;
	pair(&pa, &pb, tw_no_policy, NULL, NULL, NULL);
	add_path(1, "10.1.0.0/16", NULL);
	add_path(0, "10.2.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	/* B exported, A did not import; A did not export */
	assert_int_equal(bh_rib_count(1, VPNR_RIB_ADJ_OUT, pb), 1);
	assert_int_equal(bh_spk[0].n_routes, 0);
	assert_int_equal(bh_spk[1].n_routes, 0);
	teardown_all();
}

static void
tw_plist_in(vpnr_bgp_peer_config *pc, void *arg)
{
	vpnr_prefix p = bh_pfx("10.0.0.0/8");

	(void)arg;
	/* 10.0.0.0/8 le 24 only */
	assert_int_equal(vpnr_bgp_peer_config_add_prefix_list(pc,
			     VPNR_BGP_DIR_IN, &p, 8, 24, 1),
	    VPNR_OK);
}

static void
test_prefix_list(void **state)
{
	uint64_t pa, pb;

	(void)state;
	pair(&pa, &pb, tw_plist_in, NULL, NULL, NULL);
	add_path(1, "10.1.0.0/16", NULL);
	add_path(1, "10.1.2.128/25", NULL);
	add_path(1, "172.16.0.0/12", NULL);
	bh_run();
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 1);
	assert_int_equal(bh_has_route(0, "10.1.2.128/25", NULL), 0);
	assert_int_equal(bh_has_route(0, "172.16.0.0/12", NULL), 0);
	teardown_all();
}

/* Two peers in one AS advertise the same prefix: both next hops. */
static void
test_ecmp(void **state)
{
	int a, b, c;
	uint64_t ab, ac, ba, ca;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65515, 0x02020202);
	c = bh_speaker("C", C_ADDR, 65515, 0x03030303);
	ab = bh_peer(a, B_ADDR, 65515, 0, NULL, NULL);
	ac = bh_peer(a, C_ADDR, 65515, 0, NULL, NULL);
	ba = bh_peer(b, A_ADDR, 65001, 1, NULL, NULL);
	ca = bh_peer(c, A_ADDR, 65001, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, ba, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[c].ctx, ca, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, ab, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, ac, 1, bh_now);
	bh_run();
	add_path(b, "10.9.0.0/16", NULL);
	add_path(c, "10.9.0.0/16", NULL);
	add_path(c, "10.8.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", NULL), 2);
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", B_ADDR), 1);
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", C_ADDR), 1);
	assert_int_equal(bh_has_route(a, "10.8.0.0/16", C_ADDR), 1);
	/* Loc-RIB walk shows the multipath set */
	assert_int_equal(bh_rib_count(a, VPNR_RIB_LOC, 0), 3);
	/* one tunnel goes away: one next hop left */
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, ac, 0, bh_now),
	    VPNR_OK);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", NULL), 1);
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", B_ADDR), 1);
	assert_int_equal(bh_has_route(a, "10.8.0.0/16", NULL), 0);
	assert_int_equal(bh_count_ev(c, VPNR_BGP_EV_DOWN), 1);
	assert_int_equal(bh_last_ev(c, VPNR_BGP_EV_DOWN)->notif_code, 6);
	assert_int_equal(bh_last_ev(c, VPNR_BGP_EV_DOWN)->notif_subcode, 2);
	/* back again */
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, ac, 1, bh_now),
	    VPNR_OK);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", NULL), 2);
	/* a longer AS path on C loses the multipath */
	teardown_all();
}

static void
tw_prepend2(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_export(pc, 2, 0, 1, 50),
	    VPNR_OK);
}

/* AS-path prepend on C: B's shorter path wins alone. */
static void
test_prepend_breaks_ecmp(void **state)
{
	int a, b, c;
	uint64_t ab, ac, ba, ca;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65515, 0x02020202);
	c = bh_speaker("C", C_ADDR, 65515, 0x03030303);
	ab = bh_peer(a, B_ADDR, 65515, 0, NULL, NULL);
	ac = bh_peer(a, C_ADDR, 65515, 0, NULL, NULL);
	ba = bh_peer(b, A_ADDR, 65001, 1, NULL, NULL);
	ca = bh_peer(c, A_ADDR, 65001, 1, tw_prepend2, NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, ba, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[c].ctx, ca, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, ab, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, ac, 1, bh_now);
	bh_run();
	add_path(c, "10.9.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", C_ADDR), 1);
	add_path(b, "10.9.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", NULL), 1);
	assert_int_equal(bh_has_route(a, "10.9.0.0/16", B_ADDR), 1);
	teardown_all();
}

static void
tw_timers(vpnr_bgp_peer_config *pc, void *arg)
{
	const uint16_t *t = arg;

	assert_int_equal(vpnr_bgp_peer_config_set_timers(pc, t[0], t[1]),
	    VPNR_OK);
}

/* The clouds' hold times against our default and each other. */
static void
test_hold_negotiation(void **state)
{
	static const struct {
		uint16_t ours[2], theirs[2], hold, ka;
	} cases[] = {
		{ { 90, 30 }, { 180, 60 }, 90, 30 }, /* Azure 60/180 */
		{ { 90, 30 }, { 30, 10 }, 30, 10 },  /* AWS 10/30 */
		{ { 90, 30 }, { 60, 20 }, 60, 20 },  /* GCP 20/60 */
		{ { 180, 60 }, { 30, 10 }, 30, 10 },
		{ { 0, 0 }, { 30, 10 }, 0, 0 }, /* hold 0: no keepalives */
	};
	size_t i;
	uint64_t pa, pb;
	vpnr_bgp_peer_info ia, ib;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pair(&pa, &pb, tw_timers, (void *)cases[i].ours, tw_timers,
		    (void *)cases[i].theirs);
		assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, pa, &ia),
		    VPNR_OK);
		assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[1].ctx, pb, &ib),
		    VPNR_OK);
		assert_int_equal(ia.state, VPNR_BGP_STATE_ESTABLISHED);
		assert_int_equal(ia.hold_s, cases[i].hold);
		assert_int_equal(ib.hold_s, cases[i].hold);
		assert_int_equal(ia.keepalive_s, cases[i].ka);
		/* survives ten hold times */
		bh_advance((vpnr_tstamp)(cases[i].hold ? cases[i].hold : 60) *
		    10 * VPNR_SECONDS);
		assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
		teardown_all();
	}
}

/* The peer goes silent: hold expiry withdraws its routes; then it
 * comes back and they are learned again. */
static void
test_hold_expiry_and_restart(void **state)
{
	static const uint16_t t30[2] = { 30, 10 };
	uint64_t pa, pb;
	struct bh_link *l;
	const vpnr_bgp_event *ev;

	(void)state;
	pair(&pa, &pb, tw_timers, (void *)t30, tw_timers, (void *)t30);
	add_path(1, "10.1.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", B_ADDR), 1);
	l = bh_link_between(0, 1);
	assert_non_null(l);
	l->cut = 1;
	bh_advance(29 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	bh_advance(2 * VPNR_SECONDS);
	assert_int_not_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	ev = bh_last_ev(0, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
	assert_int_equal(ev->notif_code, 4); /* Hold Timer Expired */
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", NULL), 0);
	/* B also expires; both come back after connect-retry */
	bh_advance(20 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_state(1, pb), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, "10.1.0.0/16", B_ADDR), 1);
	teardown_all();
}

/* The peer stops reading: the send-hold timer drops it (RFC 9687). */
static void
test_send_hold(void **state)
{
	uint64_t pa, pb;
	struct bh_link *l;
	vpnr_bgp_peer_info info;
	static const uint16_t t0[2] = { 0, 0 };

	(void)state;
	/* hold 0 so that only the send-hold timer can fire */
	pair(&pa, &pb, tw_timers, (void *)t0, tw_timers, (void *)t0);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	l = bh_link_between(0, 1);
	assert_non_null(l);
	/* A is the active side: link side a is A */
	assert_int_equal(l->a, 0);
	l->block_a = 1;
	add_path(0, "10.7.0.0/16", NULL);
	bh_run();
	assert_true(l->was_blocked_a);
	bh_advance(470 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	bh_advance(20 * VPNR_SECONDS);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, pa, &info),
	    VPNR_OK);
	assert_true(info.flaps >= 1);
	assert_int_equal(info.last_reason, VPNR_ERR_TIMEOUT);
	teardown_all();
}

static void
tw_maxpfx(vpnr_bgp_peer_config *pc, void *arg)
{
	const uint32_t *v = arg;

	assert_int_equal(vpnr_bgp_peer_config_set_max_prefix(pc, v[0]),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_max_prefix_action(pc, v[1],
			     v[2]),
	    VPNR_OK);
}

static void
test_max_prefix_teardown(void **state)
{
	static const uint32_t mp[3] = { 2, VPNR_BGP_MAXPFX_TEARDOWN, 60 };
	uint64_t pa, pb;
	const vpnr_bgp_event *ev;

	(void)state;
	pair(&pa, &pb, tw_maxpfx, (void *)mp, NULL, NULL);
	add_path(1, "10.1.0.0/16", NULL);
	add_path(1, "10.2.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_spk[0].n_routes, 2);
	add_path(1, "10.3.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_PREFIX_LIMIT), 1);
	ev = bh_last_ev(1, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->notif_code, 6);    /* Cease */
	assert_int_equal(ev->notif_subcode, 1); /* max prefixes */
	assert_int_equal(bh_spk[0].n_routes, 0);
	/* stays down (A refuses B's attempts) until the restart timer */
	bh_advance(30 * VPNR_SECONDS);
	assert_int_not_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	bh_advance(40 * VPNR_SECONDS);
	/* and trips again (B still sends 3) */
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_PREFIX_LIMIT), 2);
	teardown_all();
}

static void
test_max_prefix_warn(void **state)
{
	static const uint32_t mp[3] = { 2, VPNR_BGP_MAXPFX_WARN, 0 };
	uint64_t pa, pb;

	(void)state;
	pair(&pa, &pb, tw_maxpfx, (void *)mp, NULL, NULL);
	add_path(1, "10.1.0.0/16", NULL);
	add_path(1, "10.2.0.0/16", NULL);
	add_path(1, "10.3.0.0/16", NULL);
	add_path(1, "10.4.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_PREFIX_LIMIT), 1);
	assert_int_equal(bh_spk[0].n_routes, 4);
	teardown_all();
}

static void
tw_budget(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_out_budget(pc, 2), VPNR_OK);
}

static void
test_out_budget(void **state)
{
	uint64_t pa, pb;

	(void)state;
	pair(&pa, &pb, NULL, NULL, tw_budget, NULL);
	add_path(1, "10.1.0.0/16", NULL);
	add_path(1, "10.2.0.0/16", NULL);
	add_path(1, "10.3.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_spk[0].n_routes, 2);
	assert_int_equal(bh_rib_count(1, VPNR_RIB_ADJ_OUT, pb), 2);
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_PREFIX_LIMIT), 1);
	assert_int_equal(bh_state(0, pa), VPNR_BGP_STATE_ESTABLISHED);
	teardown_all();
}

static void
tw_budget10(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_out_budget(pc, 10), VPNR_OK);
}

/* 90 % of the budget: a warning event (VPNR_OK) before the cap's. */
static void
test_out_budget_warning(void **state)
{
	uint64_t pa, pb;
	char pfx[32];
	int i;

	(void)state;
	pair(&pa, &pb, NULL, NULL, tw_budget10, NULL);
	for (i = 0; i < 8; i++) {
		snprintf(pfx, sizeof(pfx), "10.%d.0.0/16", i);
		add_path(1, pfx, NULL);
	}
	bh_run();
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_PREFIX_LIMIT), 0);
	add_path(1, "10.8.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_PREFIX_LIMIT), 1);
	assert_int_equal(bh_last_ev(1, VPNR_BGP_EV_PREFIX_LIMIT)->reason,
	    VPNR_OK);
	assert_int_equal(bh_spk[0].n_routes, 9);
	add_path(1, "10.9.0.0/16", NULL);
	add_path(1, "10.10.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_spk[0].n_routes, 10);
	assert_int_equal(bh_count_ev(1, VPNR_BGP_EV_PREFIX_LIMIT), 2);
	assert_int_equal(bh_last_ev(1, VPNR_BGP_EV_PREFIX_LIMIT)->reason,
	    VPNR_ERR_LIMIT);
	teardown_all();
}

/* Both sides active and connecting at once: one session survives. */
static void
test_collision(void **state)
{
	int a, b;
	uint64_t pa, pb;
	int i, live = 0;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65002, 0x02020202);
	pa = bh_peer(a, B_ADDR, 65002, 0, NULL, NULL);
	pb = bh_peer(b, A_ADDR, 65001, 0, NULL, NULL);
	/* both open before either connection is answered */
	vpnr_bgp_peer_enable(bh_spk[a].ctx, pa, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now);
	assert_int_equal(bh_spk[a].n_open, 1);
	assert_int_equal(bh_spk[b].n_open, 1);
	bh_run();
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_state(b, pb), VPNR_BGP_STATE_ESTABLISHED);
	for (i = 0; i < BH_MAX_LINKS; i++)
		if (bh_links[i].used && !bh_links[i].closed_a &&
		    !bh_links[i].closed_b)
			live++;
	assert_int_equal(live, 1);
	/* B has the higher identifier: its connection (B -> A) wins */
	assert_int_equal(bh_link_between(a, b)->a, b);
	assert_int_equal(bh_count_ev(a, VPNR_BGP_EV_ESTABLISHED), 1);
	assert_int_equal(bh_count_ev(a, VPNR_BGP_EV_DOWN), 0);
	add_path(b, "10.5.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(a, "10.5.0.0/16", B_ADDR), 1);
	teardown_all();
}

/* Wrong remote AS: OPEN error 2/2, no session. */
static void
test_bad_peer_as(void **state)
{
	int a, b;
	uint64_t pa, pb;
	vpnr_bgp_peer_info info;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65002, 0x02020202);
	pa = bh_peer(a, B_ADDR, 65099, 0, NULL, NULL);
	pb = bh_peer(b, A_ADDR, 65001, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, pa, 1, bh_now);
	bh_run();
	assert_int_not_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[b].ctx, pb, &info),
	    VPNR_OK);
	assert_int_equal(info.last_notif_code, 2);
	assert_int_equal(info.last_notif_subcode, 2);
	assert_int_equal(bh_count_ev(a, VPNR_BGP_EV_ESTABLISHED), 0);
	teardown_all();
}

/* Deleting a peer sends Cease/3 and withdraws its routes. */
static void
test_peer_delete(void **state)
{
	uint64_t pa, pb;
	const vpnr_bgp_event *ev;

	(void)state;
	pair(&pa, &pb, NULL, NULL, NULL, NULL);
	add_path(0, "10.10.0.0/16", NULL);
	add_path(1, "10.20.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_has_route(1, "10.10.0.0/16", A_ADDR), 1);
	assert_int_equal(bh_has_route(0, "10.20.0.0/16", B_ADDR), 1);
	assert_int_equal(vpnr_bgp_peer_del(bh_spk[0].ctx, pa, bh_now), VPNR_OK);
	bh_run();
	assert_int_equal(bh_spk[0].n_routes, 0);
	assert_int_equal(bh_spk[1].n_routes, 0);
	ev = bh_last_ev(1, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->notif_code, 6);
	assert_int_equal(ev->notif_subcode, 3);
	assert_int_equal(vpnr_bgp_peer_del(bh_spk[0].ctx, pa, bh_now),
	    VPNR_ERR_NOT_FOUND);
	teardown_all();
}

/* Many prefixes with one attribute set: packed into few UPDATEs. */
static void
test_packing(void **state)
{
	uint64_t pa, pb;
	vpnr_bgp_peer_info ia, ib;
	char buf[64];
	int i;

	(void)state;
	pair(&pa, &pb, NULL, NULL, NULL, NULL);
	for (i = 0; i < 2000; i++) {
		vpnr_prefix p;
		vpnr_path_attrs at;
		uint64_t id;

		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", i / 256, i % 256);
		p = bh_pfx(buf);
		memset(&at, 0, sizeof(at));
		assert_int_equal(vpnr_bgp_path_add(bh_spk[1].ctx, &p, &at, &id,
				     bh_now),
		    VPNR_OK);
	}
	bh_run();
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, pa, &ia),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[1].ctx, pb, &ib),
	    VPNR_OK);
	assert_int_equal(ia.pfx_accepted_v4, 2000);
	assert_int_equal(ib.pfx_sent_v4, 2000);
	/* ~1000 /24s fit in one 4096-byte UPDATE; allow slack for the
	 * path_add calls that each flushed a small batch */
	assert_true(ib.updates_out < 2000 / 2);
	teardown_all();
}

static int fake_tunnel_up;

static int
fake_lookup(const vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t *if_id,
    int *child_up)
{
	(void)ctx;
	if (tunnel_id != 7)
		return VPNR_ERR_NOT_FOUND;
	*if_id = 42;
	*child_up = fake_tunnel_up;
	return VPNR_OK;
}

static void
tw_tunnel(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel(pc, 7), VPNR_OK);
}

/* A peer bound to a tunnel starts when the tunnel's CHILD_SA is up and
 * stops when it goes; its routes point into the tunnel. */
static void
test_tunnel_binding(void **state)
{
	int a, b;
	uint64_t pa, pb;
	vpnr_ctx *ca;
	int i;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65515, 0x02020202);
	ca = bh_spk[a].ctx;
	ca->ike_tunnel_lookup = fake_lookup;
	fake_tunnel_up = 0;
	pa = bh_peer(a, B_ADDR, 65515, 0, tw_tunnel, NULL);
	pb = bh_peer(b, A_ADDR, 65001, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now);
	vpnr_bgp_peer_enable(ca, pa, 1, bh_now);
	add_path(b, "10.50.0.0/16", NULL);
	bh_run();
	/* tunnel down: nothing is even tried */
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_IDLE);
	bh_advance(30 * VPNR_SECONDS);
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_IDLE);
	/* the IKE engine reports the CHILD_SA up */
	fake_tunnel_up = 1;
	assert_int_equal(vpnr__drive_begin(ca, bh_now), VPNR_OK);
	ca->bgp_tunnel_changed(ca, 7, 1, bh_now);
	assert_int_equal(vpnr__drive_end(ca, VPNR_OK), VPNR_OK);
	bh_run();
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(a, "10.50.0.0/16", B_ADDR), 1);
	for (i = 0; i < bh_spk[a].n_routes; i++) {
		assert_int_equal(bh_spk[a].routes[i].tunnel_id, 7);
		assert_int_equal(bh_spk[a].routes[i].if_id, 42);
		assert_int_equal(bh_spk[a].routes[i].peer_id, pa);
	}
	/* and down: the session stops, the routes go */
	fake_tunnel_up = 0;
	assert_int_equal(vpnr__drive_begin(ca, bh_now), VPNR_OK);
	ca->bgp_tunnel_changed(ca, 7, 0, bh_now);
	assert_int_equal(vpnr__drive_end(ca, VPNR_OK), VPNR_OK);
	bh_run();
	assert_int_not_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_spk[a].n_routes, 0);
	assert_int_equal(bh_count_ev(a, VPNR_BGP_EV_DOWN), 1);
	bh_advance(30 * VPNR_SECONDS);
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_IDLE);
}

/* Paths added before the session comes up go in the initial sync. */
static void
test_initial_sync(void **state)
{
	int a, b;
	uint64_t pa, pb;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65002, 0x02020202);
	pa = bh_peer(a, B_ADDR, 65002, 0, NULL, NULL);
	pb = bh_peer(b, A_ADDR, 65001, 1, tw_nh6, "2001:db8:ffff::2");
	add_path(b, "192.168.2.0/24", NULL);
	add_path(b, "2001:db8:2::/48", NULL);
	add_path(a, "172.16.0.0/16", NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, pa, 1, bh_now);
	bh_run();
	assert_int_equal(bh_has_route(a, "192.168.2.0/24", B_ADDR), 1);
	assert_int_equal(bh_has_route(a, "2001:db8:2::/48", NULL), 1);
	assert_int_equal(bh_has_route(b, "172.16.0.0/16", A_ADDR), 1);
}

static void
tw_nh4(vpnr_bgp_peer_config *pc, void *arg)
{
	vpnr_addr nh = bh_addr(arg);

	assert_int_equal(vpnr_bgp_peer_config_set_nexthop(pc, &nh), VPNR_OK);
}

/* A session over IPv6 carries both families; IPv4 routes need an IPv4
 * next hop, given explicitly. */
static void
test_ipv6_transport(void **state)
{
	int a, b;
	uint64_t pa, pb;

	(void)state;
	a = bh_speaker("A", "2001:db8::1", 65001, 0x01010101);
	b = bh_speaker("B", "2001:db8::2", 65002, 0x02020202);
	pa = bh_peer(a, "2001:db8::2", 65002, 0, NULL, NULL);
	pb = bh_peer(b, "2001:db8::1", 65001, 1, tw_nh4, "192.0.2.2");
	vpnr_bgp_peer_enable(bh_spk[b].ctx, pb, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, pa, 1, bh_now);
	add_path(b, "10.60.0.0/16", NULL);
	add_path(b, "2001:db8:60::/48", NULL);
	add_path(a, "10.61.0.0/16", NULL);
	bh_run();
	assert_int_equal(bh_state(a, pa), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(a, "10.60.0.0/16", "192.0.2.2"), 1);
	assert_int_equal(bh_has_route(a, "2001:db8:60::/48", "2001:db8::2"), 1);
	/* A has no IPv4 address for this session: its IPv4 path stays
	 * unadvertised rather than carrying a wrong next hop */
	assert_int_equal(bh_has_route(b, "10.61.0.0/16", NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_establish, bh_setup),
		cmocka_unit_test_setup(test_exchange_v4_v6, bh_setup),
		cmocka_unit_test_setup(test_rfc8212_default, bh_setup),
		cmocka_unit_test_setup(test_local_address_from_host, bh_setup),
		cmocka_unit_test_setup(test_prefix_list, bh_setup),
		cmocka_unit_test_setup(test_ecmp, bh_setup),
		cmocka_unit_test_setup(test_prepend_breaks_ecmp, bh_setup),
		cmocka_unit_test_setup(test_hold_negotiation, bh_setup),
		cmocka_unit_test_setup(test_hold_expiry_and_restart, bh_setup),
		cmocka_unit_test_setup(test_send_hold, bh_setup),
		cmocka_unit_test_setup(test_max_prefix_teardown, bh_setup),
		cmocka_unit_test_setup(test_max_prefix_warn, bh_setup),
		cmocka_unit_test_setup(test_out_budget, bh_setup),
		cmocka_unit_test_setup(test_out_budget_warning, bh_setup),
		cmocka_unit_test_setup(test_collision, bh_setup),
		cmocka_unit_test_setup(test_bad_peer_as, bh_setup),
		cmocka_unit_test_setup(test_peer_delete, bh_setup),
		cmocka_unit_test_setup(test_packing, bh_setup),
		cmocka_unit_test_setup(test_initial_sync, bh_setup),
		cmocka_unit_test_setup(test_tunnel_binding, bh_setup),
		cmocka_unit_test_setup(test_ipv6_transport, bh_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
