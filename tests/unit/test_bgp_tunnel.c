/*
 * Routes follow the tunnel: a BGP peer bound to a tunnel, in the two
 * tunnel-down modes (vpnr_bgp_peer_config_set_tunnel_down).  Our
 * speaker A talks to B and C (one cloud AS, two gateways) in one
 * process (bgp_harness.h); the IKE engine is played by a fake tunnel
 * lookup and the context's tunnel-changed hook.  Every check of the
 * data plane is made right after the call that reported the tunnel,
 * before the harness runs anything else: "at once" means in that call.
 */
#include "bgp_harness.h"

#define A_ADDR "192.0.2.1"
#define B_ADDR "192.0.2.2"
#define C_ADDR "192.0.2.3"
#define PFX    "10.9.0.0/16"

struct tw {
	uint64_t tunnel;
	uint32_t mode; /* 0: the default */
	uint8_t prepend;
};

static void
tweak(vpnr_bgp_peer_config *pc, void *arg)
{
	const struct tw *t = arg;

	assert_int_equal(vpnr_bgp_peer_config_set_timers(pc, 30, 10), VPNR_OK);
	if (t == NULL)
		return;
	if (t->tunnel != 0)
		assert_int_equal(vpnr_bgp_peer_config_set_tunnel(pc, t->tunnel),
		    VPNR_OK);
	if (t->mode != 0)
		assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc,
				     t->mode),
		    VPNR_OK);
	if (t->prepend != 0)
		assert_int_equal(vpnr_bgp_peer_config_set_export(pc, t->prepend,
				     0, 0, 0),
		    VPNR_OK);
}

static uint64_t ab, ac; /* A's peers toward B and C */

/*
 * A (65001) with peers toward B and C (65515, passive), both of which
 * announce PFX; C prepends cprepend times (0: ECMP, else C is the
 * backup).  A's peer toward B runs over tunnel 7 in mode bmode; the one
 * toward C over tunnel ctun (0: none).
 */
static void
topology(uint32_t bmode, uint64_t ctun, uint8_t cprepend)
{
	struct tw twb = { 7, bmode, 0 }, twc = { ctun, 0, 0 };
	struct tw twcp = { 0, 0, cprepend };
	vpnr_prefix p = bh_pfx(PFX);
	vpnr_path_attrs at;
	uint64_t ba, ca, id;
	int a, b, c;

	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65515, 0x02020202);
	c = bh_speaker("C", C_ADDR, 65515, 0x03030303);
	bh_tunnel_fake(a);
	bh_tun_up[7] = 1;
	bh_tun_up[8] = 1;
	ab = bh_peer(a, B_ADDR, 65515, 0, tweak, &twb);
	ac = bh_peer(a, C_ADDR, 65515, 0, tweak, &twc);
	ba = bh_peer(b, A_ADDR, 65001, 1, tweak, NULL);
	ca = bh_peer(c, A_ADDR, 65001, 1, tweak, &twcp);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[b].ctx, ba, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[c].ctx, ca, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, ab, 1, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_enable(bh_spk[a].ctx, ac, 1, bh_now),
	    VPNR_OK);
	memset(&at, 0, sizeof(at));
	assert_int_equal(vpnr_bgp_path_add(bh_spk[b].ctx, &p, &at, &id, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_path_add(bh_spk[c].ctx, &p, &at, &id, bh_now),
	    VPNR_OK);
	bh_run();
	bh_advance(VPNR_SECONDS); /* coalesced exports go out */
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_state(0, ac), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), cprepend == 0 ? 1 : 0);
}

static void
test_config_range(void **state)
{
	vpnr_bgp_peer_config *pc;

	(void)state;
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(NULL,
			     VPNR_BGP_TUNNEL_DOWN_HOLD),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc, 3),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc, UINT32_MAX),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc,
			     VPNR_BGP_TUNNEL_DOWN_HOLD),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_tunnel_down(pc,
			     VPNR_BGP_TUNNEL_DOWN_RESET),
	    VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	assert_string_equal(vpnr_err_name(VPNR_ERR_TUNNEL_DOWN),
	    "VPNR_ERR_TUNNEL_DOWN");
}

/* RESET (the default), ECMP over two tunnels: the route through the
 * tunnel that went leaves in that call, the other next hop stays; the
 * session is closed saying why, and comes back with the tunnel. */
static void
test_reset_ecmp(void **state)
{
	const vpnr_bgp_event *ev;
	vpnr_bgp_peer_info info;
	uint64_t adds, dels;

	(void)state;
	topology(0, 8, 0);
	adds = bh_spk[0].route_adds;
	dels = bh_spk[0].route_dels;
	bh_tunnel_set(0, 7, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	assert_true(bh_spk[0].route_dels == dels + 1);
	assert_true(bh_spk[0].route_adds == adds);
	assert_int_not_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	ev = bh_last_ev(0, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->peer_id, ab);
	assert_int_equal(ev->reason, VPNR_ERR_TUNNEL_DOWN);
	assert_int_equal(ev->notif_code, 6);    /* Cease */
	assert_int_equal(ev->notif_subcode, 4); /* Administrative Reset */
	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[0].ctx, ab, &info),
	    VPNR_OK);
	assert_int_equal(info.last_reason, VPNR_ERR_TUNNEL_DOWN);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_TUNNEL_DOWN), 0);
	/* nothing is tried while the tunnel is down */
	bh_advance(20 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_IDLE);
	assert_int_equal(bh_state(0, ac), VPNR_BGP_STATE_ESTABLISHED);
	/* back: a new session, and ECMP again */
	bh_tunnel_set(0, 7, 1);
	bh_run();
	bh_advance(VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 3);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	bh_reset();
}

/*
 * HOLD, C as the backup (longer AS path); tunnel 7 goes down and
 * carries nothing from now on.  In that same call B's route leaves and
 * C's is installed; the session stays.  Returns the cut link A-B.
 */
static struct bh_link *
hold_backup_down(void)
{
	struct bh_link *l;
	uint64_t dels;

	topology(VPNR_BGP_TUNNEL_DOWN_HOLD, 0, 2);
	l = bh_link_between(0, 1);
	assert_non_null(l);
	l->cut = 1;
	dels = bh_spk[0].route_dels;
	bh_tunnel_set(0, 7, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	assert_true(bh_spk[0].route_dels == dels + 1);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	return l;
}

/* HOLD: B's Adj-RIB-In stays; when the tunnel is back before the hold
 * timer expires B's route returns in that call, without a new
 * session. */
static void
test_hold_backup_and_return(void **state)
{
	struct bh_link *l;

	(void)state;
	l = hold_backup_down();
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 0);
	assert_int_equal(bh_last_ev(0, VPNR_BGP_EV_TUNNEL_DOWN)->reason,
	    VPNR_ERR_TUNNEL_DOWN);
	assert_int_equal(bh_last_ev(0, VPNR_BGP_EV_TUNNEL_DOWN)->peer_id, ab);
	assert_int_equal(bh_rib_count(0, VPNR_RIB_ADJ_IN, ab), 1);
	/* an outage shorter than hold time less a keepalive interval */
	bh_advance(5 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	/* back within the hold time */
	l->cut = 0;
	bh_tunnel_set(0, 7, 1);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 0);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_TUNNEL_UP), 1);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 2);
	/* and the session lives on */
	bh_advance(90 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 0);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 2);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	bh_reset();
}

/* HOLD with ECMP: the other next hop simply remains. */
static void
test_hold_ecmp(void **state)
{
	(void)state;
	topology(VPNR_BGP_TUNNEL_DOWN_HOLD, 8, 0);
	bh_tunnel_set(0, 7, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	bh_tunnel_set(0, 7, 1);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	bh_reset();
}

/* HOLD, and the hold timer expires first: the session goes down as
 * usual (timeout), with no second route_del; it comes back with the
 * tunnel. */
static void
test_hold_expiry(void **state)
{
	const vpnr_bgp_event *ev;
	struct bh_link *l;
	uint64_t dels;

	(void)state;
	l = hold_backup_down();
	dels = bh_spk[0].route_dels;
	bh_advance(31 * VPNR_SECONDS);
	assert_int_not_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	ev = bh_last_ev(0, VPNR_BGP_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->peer_id, ab);
	assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
	/* the harness fails on a route_del of a route it does not have;
	 * and none was even tried */
	assert_true(bh_spk[0].route_dels == dels);
	assert_int_equal(bh_rib_count(0, VPNR_RIB_ADJ_IN, ab), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	/* B's side timed out as well; all back with the tunnel */
	bh_advance(31 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_IDLE);
	l->cut = 0;
	bh_tunnel_set(0, 7, 1);
	bh_run();
	bh_advance(2 * VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 0);
	bh_reset();
}

/* Only the peers bound to the tunnel that went are touched. */
static void
test_unbound_untouched(void **state)
{
	uint64_t adds, dels;
	int i;

	(void)state;
	topology(VPNR_BGP_TUNNEL_DOWN_RESET, 0, 0);
	adds = bh_spk[0].route_adds;
	dels = bh_spk[0].route_dels;
	/* no peer on tunnel 8 (C's peer is bound to none) */
	bh_tunnel_set(0, 8, 0);
	bh_tunnel_set(0, 8, 1);
	assert_true(bh_spk[0].route_adds == adds);
	assert_true(bh_spk[0].route_dels == dels);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 0);
	bh_tunnel_set(0, 7, 0);
	assert_true(bh_spk[0].route_dels == dels + 1);
	assert_int_equal(bh_state(0, ac), VPNR_BGP_STATE_ESTABLISHED);
	for (i = 0; i < bh_spk[0].n_routes; i++)
		assert_int_equal(bh_spk[0].routes[i].peer_id, ac);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	/* a second "down" changes nothing */
	bh_tunnel_set(0, 7, 0);
	assert_true(bh_spk[0].route_dels == dels + 1);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 1);
	bh_reset();
}

/*
 * Suspicion, ECMP over two tunnels: B's next hop leaves in the call
 * that says tunnel 7 is suspect, C's stays, the session is untouched;
 * life brings B back in that call.  Both suspect: neither path is
 * better, so both stay (a suspect path is dropped only for a better
 * one).
 */
static void
test_suspect_ecmp(void **state)
{
	uint64_t adds, dels;

	(void)state;
	topology(0, 8, 0);
	adds = bh_spk[0].route_adds;
	dels = bh_spk[0].route_dels;
	bh_tunnel_suspect(0, 7, 1);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	assert_true(bh_spk[0].route_dels == dels + 1);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_DOWN), 0);
	bh_tunnel_suspect(0, 8, 1);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	bh_tunnel_suspect(0, 8, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	bh_tunnel_suspect(0, 7, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	assert_true(bh_spk[0].route_adds == adds + 2);
	/* still the first two sessions */
	assert_int_equal(bh_count_ev(0, VPNR_BGP_EV_ESTABLISHED), 2);
	bh_reset();
}

/*
 * Suspicion with C as the backup (longer AS path): B's suspect path
 * gives way to C's; with C gone too it is used again, as the only
 * one: a suspect tunnel never blackholes a prefix that has nowhere
 * else to go.  A tunnel going down and up clears the suspicion.
 */
static void
test_suspect_backup(void **state)
{
	(void)state;
	topology(0, 8, 2);
	bh_tunnel_suspect(0, 7, 1);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	bh_tunnel_set(0, 8, 0);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 0);
	bh_tunnel_set(0, 8, 1);
	bh_run();
	bh_advance(VPNR_SECONDS);
	assert_int_equal(bh_state(0, ac), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 0);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 1);
	/* tunnel 7 restarts: a new tunnel is not suspect */
	bh_tunnel_set(0, 7, 0);
	bh_tunnel_set(0, 7, 1);
	bh_run();
	bh_advance(VPNR_SECONDS);
	assert_int_equal(bh_state(0, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_has_route(0, PFX, B_ADDR), 1);
	assert_int_equal(bh_has_route(0, PFX, C_ADDR), 0);
	bh_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_range),
		cmocka_unit_test_setup(test_reset_ecmp, bh_setup),
		cmocka_unit_test_setup(test_hold_backup_and_return, bh_setup),
		cmocka_unit_test_setup(test_hold_ecmp, bh_setup),
		cmocka_unit_test_setup(test_hold_expiry, bh_setup),
		cmocka_unit_test_setup(test_unbound_untouched, bh_setup),
		cmocka_unit_test_setup(test_suspect_ecmp, bh_setup),
		cmocka_unit_test_setup(test_suspect_backup, bh_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
