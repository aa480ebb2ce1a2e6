/*
 * IKEv1 tunnels through the public API: two contexts back to back
 * (helpers/ike_wire.c) with version 1 set on the tunnel, so that the
 * whole path is exercised: dispatch by major version, the ISAKMP SA
 * index, the engine's timers, CHILD_SAs installed through the
 * data-plane ops, events, rekeys, liveness and several connections
 * between the same two gateways (the Alibaba how-to).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "helpers/ike_wire.h"

static int
setup_v1(struct ikew *w, uint64_t seed, const char *ike0, const char *esp0,
    const char *ike1, const char *esp1)
{
	const char *ike[2] = { ike0, ike1 }, *esp[2] = { esp0, esp1 };
	int i, rv;

	if ((rv = ikew_init(w, seed, 64)) != VPNR_OK)
		return rv;
	for (i = 0; i < 2; i++) {
		if ((rv = vpnr_tunnel_config_set_ike_version(w->s[i].tc, 1,
			 0)) != VPNR_OK)
			return rv;
		if (ike[i] != NULL &&
		    (rv = vpnr_tunnel_config_add_ike_proposal(w->s[i].tc,
			 ike[i])) != VPNR_OK)
			return rv;
		if (esp[i] != NULL &&
		    (rv = vpnr_tunnel_config_add_esp_proposal(w->s[i].tc,
			 esp[i])) != VPNR_OK)
			return rv;
	}
	return VPNR_OK;
}

static int
add_both(struct ikew *w)
{
	int rv;

	if ((rv = ikew_add_tunnel(w, 0)) != VPNR_OK)
		return rv;
	return ikew_add_tunnel(w, 1);
}

/* Add both tunnels, side 0 initiates: up within max? */
static int
bring_up(struct ikew *w, vpnr_tstamp max)
{
	if (add_both(w) != VPNR_OK ||
	    vpnr_tunnel_initiate(w->s[0].ctx, w->s[0].tunnel_id, w->now) !=
		VPNR_OK)
		return 0;
	return ikew_run_until(w, ikew_pred_up, NULL, max);
}

/* No event of type on either side. */
static void
assert_none(struct ikew *w, uint32_t type)
{
	assert_int_equal(ikew_count_ev(&w->s[0], type), 0);
	assert_int_equal(ikew_count_ev(&w->s[1], type), 0);
}

static void
info(struct ikew *w, int i, uint64_t id, vpnr_tunnel_info *inf)
{
	assert_int_equal(vpnr_tunnel_get_info(w->s[i].ctx, id, inf), VPNR_OK);
}

static void
check_up(struct ikew *w)
{
	vpnr_tunnel_info a, b;
	int i;

	assert_int_equal(ikew_check_pairs(w), 1);
	info(w, 0, w->s[0].tunnel_id, &a);
	info(w, 1, w->s[1].tunnel_id, &b);
	assert_int_equal(a.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(b.state, VPNR_TUNNEL_ESTABLISHED);
	/* The cookies name the ISAKMP SA on both ends. */
	assert_true(a.spi_i != 0 && a.spi_i == b.spi_i && a.spi_r == b.spi_r);
	assert_int_equal(a.child_spi_in, b.child_spi_out);
	assert_int_equal(a.child_spi_out, b.child_spi_in);
	assert_int_equal(a.ike_dh, b.ike_dh);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_count_ev(&w->s[i], VPNR_TUNNEL_EV_UP), 1);
		assert_int_equal(ikew_count_ev(&w->s[i],
				     VPNR_TUNNEL_EV_CHILD_UP),
		    1);
		assert_int_equal(ikew_count_ev(&w->s[i], VPNR_TUNNEL_EV_FAILED),
		    0);
	}
}

static const struct {
	const char *ike, *esp;
	uint16_t dh, pfs;
} suites[] = {
	/* AWS's IKEv1 defaults, PFS group 2 */
	{ "aes128-sha1-modp1024", "aes128-sha1-modp1024", 2, 2 },
	/* Alibaba's defaults: no PFS */
	{ "aes128-sha1-modp1024", "aes128-sha1", 2, 0 },
	{ "aes256-sha256-modp2048", "aes256-sha256-modp2048", 14, 14 },
	{ "3des-md5-modp1024", "aes128-sha1", 2, 0 },
	{ "aes192-sha384-modp1536", "aes256gcm16", 5, 0 },
	{ "aes256-sha512-ecp384", "aes128-sha256-ecp256", 20, 19 },
};

static void
test_suites(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(suites) / sizeof(suites[0]); k++) {
		assert_int_equal(setup_v1(&w, 10 + k, suites[k].ike,
				     suites[k].esp, suites[k].ike,
				     suites[k].esp),
		    VPNR_OK);
		assert_true(bring_up(&w, 10 * VPNR_SECONDS));
		check_up(&w);
		info(&w, 0, w.s[0].tunnel_id, &a);
		assert_int_equal(a.ike_dh, suites[k].dh);
		assert_int_equal(a.esp_dh, suites[k].pfs);
		/* Main Mode (3 + 3) and Quick Mode (2 + 1): 5 from the
		 * initiator, 4 from the responder, nothing repeated. */
		assert_int_equal(w.s[0].sent, 5);
		assert_int_equal(w.s[1].sent, 4);
		ikew_free(&w);
	}
}

/* 30 % loss, duplication and reordering: up, with matching keys. */
/*
 * One side forces UDP encapsulation, the other not (strongSwan with
 * kernel-libipsec, or our force_encap against a router): the forcing
 * side fakes its NAT-D hash, so both see a NAT and agree on
 * UDP-encapsulated Quick Modes.
 */
static void
test_one_side_forces_encap(void **state)
{
	struct ikew w;
	int who, i, k, n;

	(void)state;
	for (who = 0; who < 2; who++) {
		assert_int_equal(setup_v1(&w, 40 + who, NULL, NULL, NULL, NULL),
		    VPNR_OK);
		assert_int_equal(vpnr_tunnel_config_set_force_encap(w.s[who].tc,
				     1),
		    VPNR_OK);
		assert_true(bring_up(&w, 10 * VPNR_SECONDS));
		check_up(&w);
		for (i = 0; i < 2; i++) {
			for (k = n = 0; k < IKEW_MAX_SA; k++)
				if (w.s[i].sas[k].live) {
					assert_true(w.s[i].sas[k].flags &
					    VPNR_SA_F_UDP_ENCAP);
					n++;
				}
			assert_int_equal(n, 2);
		}
		ikew_free(&w);
	}
}

static void
test_lossy(void **state)
{
	struct ikew w;
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 12; seed++) {
		assert_int_equal(setup_v1(&w, seed, "aes128-sha1-modp1024",
				     "aes128-sha1-modp1024",
				     "aes128-sha1-modp1024",
				     "aes128-sha1-modp1024"),
		    VPNR_OK);
		w.loss_pct = 30;
		w.dup_pct = 20;
		w.reorder_pct = 20;
		assert_true(bring_up(&w, 300 * VPNR_SECONDS));
		/* Settle: the losses may have left an SA on one side only
		 * for a moment. */
		w.loss_pct = w.dup_pct = w.reorder_pct = 0;
		ikew_advance(&w, 5 * VPNR_SECONDS);
		assert_true(ikew_check_pairs(&w) >= 1);
		assert_true(w.dropped > 0);
		ikew_free(&w);
	}
}

static int
rekeyed_on(struct ikew *w, void *arg)
{
	const int *want = arg;

	return ikew_count_ev(&w->s[0], VPNR_TUNNEL_EV_CHILD_REKEYED) >= *want &&
	    ikew_count_ev(&w->s[1], VPNR_TUNNEL_EV_CHILD_REKEYED) >= *want;
}

/* Phase 2 and Phase 1 rekeys from either side, make-before-break. */
static void
test_rekeys(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a0, a1, b;
	int i, want;

	(void)state;
	assert_int_equal(setup_v1(&w, 3, "aes256-sha256-modp2048",
			     "aes256-sha256-modp2048", "aes256-sha256-modp2048",
			     "aes256-sha256-modp2048"),
	    VPNR_OK);
	assert_true(bring_up(&w, 10 * VPNR_SECONDS));
	for (want = 1; want <= 4; want++) {
		i = (want - 1) % 2; /* each side in turn */
		info(&w, 0, w.s[0].tunnel_id, &a0);
		assert_int_equal(vpnr_tunnel_rekey(w.s[i].ctx, w.s[i].tunnel_id,
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		assert_true(
		    ikew_run_until(&w, rekeyed_on, &want, 10 * VPNR_SECONDS));
		ikew_advance(&w, 3 * VPNR_SECONDS); /* the old pair goes */
		info(&w, 0, w.s[0].tunnel_id, &a1);
		assert_int_not_equal(a1.child_spi_in, a0.child_spi_in);
		assert_int_equal(a1.n_child_sa, 1);
		assert_int_equal(ikew_check_pairs(&w), 1);
		assert_int_equal(a1.child_rekeys, (uint64_t)want);
	}
	/* Phase 1 from either side: new cookies, the CHILD_SA stays. */
	for (i = 0; i < 2; i++) {
		info(&w, 0, w.s[0].tunnel_id, &a0);
		assert_int_equal(vpnr_tunnel_rekey(w.s[i].ctx, w.s[i].tunnel_id,
				     VPNR_REKEY_IKE, w.now),
		    VPNR_OK);
		ikew_advance(&w, 5 * VPNR_SECONDS);
		info(&w, 0, w.s[0].tunnel_id, &a1);
		info(&w, 1, w.s[1].tunnel_id, &b);
		assert_true(a1.spi_i != a0.spi_i);
		assert_true(a1.spi_i == b.spi_i && a1.spi_r == b.spi_r);
		assert_int_equal(a1.child_spi_in, a0.child_spi_in);
		assert_int_equal(ikew_check_pairs(&w), 1);
		/* A Quick Mode over the new ISAKMP SA still works. */
		want = 5 + i;
		assert_int_equal(vpnr_tunnel_rekey(w.s[!i].ctx,
				     w.s[!i].tunnel_id, VPNR_REKEY_CHILD,
				     w.now),
		    VPNR_OK);
		assert_true(
		    ikew_run_until(&w, rekeyed_on, &want, 10 * VPNR_SECONDS));
	}
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

/* The lifetimes agreed drive the rekeys: no call needed. */
static void
test_rekey_by_lifetime(void **state)
{
	struct ikew w;
	int i, want = 2;

	(void)state;
	assert_int_equal(setup_v1(&w, 4, NULL, NULL, NULL, NULL), VPNR_OK);
	for (i = 0; i < 2; i++)
		assert_int_equal(vpnr_tunnel_config_set_rekey(w.s[i].tc,
				     600 * VPNR_SECONDS, 120 * VPNR_SECONDS,
				     10),
		    VPNR_OK);
	assert_true(bring_up(&w, 10 * VPNR_SECONDS));
	assert_true(ikew_run_until(&w, rekeyed_on, &want, 300 * VPNR_SECONDS));
	ikew_advance(&w, 700 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

static int
failed_both(struct ikew *w, void *arg)
{
	(void)arg;
	return ikew_count_ev(&w->s[0], VPNR_TUNNEL_EV_FAILED) > 0 &&
	    ikew_count_ev(&w->s[1], VPNR_TUNNEL_EV_FAILED) > 0;
}

static void
expect_failure(struct ikew *w, int reason0, int reason1)
{
	const struct ikew_ev *e0, *e1;

	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, w->s[0].tunnel_id,
			     w->now),
	    VPNR_OK);
	assert_true(ikew_run_until(w, failed_both, NULL, 60 * VPNR_SECONDS));
	e0 = ikew_last_ev(&w->s[0], VPNR_TUNNEL_EV_FAILED);
	e1 = ikew_last_ev(&w->s[1], VPNR_TUNNEL_EV_FAILED);
	assert_int_equal(e0->reason, reason0);
	assert_int_equal(e1->reason, reason1);
	assert_int_equal(ikew_count_ev(&w->s[0], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_count_ev(&w->s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_count_sa(&w->s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_count_sa(&w->s[1], VPNR_DIR_IN), 0);
}

static void
test_wrong_psk(void **state)
{
	struct ikew w;

	(void)state;
	assert_int_equal(setup_v1(&w, 5, NULL, NULL, NULL, NULL), VPNR_OK);
	vpnr_tunnel_config_set_psk(w.s[1].tc, (const uint8_t *)"other-psk", 9);
	assert_int_equal(add_both(&w), VPNR_OK);
	expect_failure(&w, VPNR_ERR_AUTH_FAILED, VPNR_ERR_AUTH_FAILED);
	ikew_free(&w);
}

static void
test_no_proposal(void **state)
{
	struct ikew w;

	(void)state;
	/* Phase 1 */
	assert_int_equal(setup_v1(&w, 6, "aes128-sha1-modp1024", NULL,
			     "aes256-sha256-modp2048", NULL),
	    VPNR_OK);
	assert_int_equal(add_both(&w), VPNR_OK);
	expect_failure(&w, VPNR_ERR_NO_PROPOSAL, VPNR_ERR_NO_PROPOSAL);
	ikew_free(&w);
	/* Quick Mode: Phase 1 comes up, then goes with the reason. */
	assert_int_equal(setup_v1(&w, 7, NULL, "aes128-sha1", NULL,
			     "aes256-sha256"),
	    VPNR_OK);
	assert_int_equal(add_both(&w), VPNR_OK);
	expect_failure(&w, VPNR_ERR_NO_PROPOSAL, VPNR_ERR_NO_PROPOSAL);
	ikew_free(&w);
}

static void
test_config_refused(void **state)
{
	vpnr_tunnel_config *tc;
	vpnr_addr l, r;
	vpnr_ts a, b;
	struct ikew w;
	uint64_t id;

	(void)state;
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(tc, 3, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(tc, 2,
			     VPNR_IKEV1_AGGRESSIVE),
	    VPNR_ERR_INVALID_ARGUMENT);
	/* IKEv2 does not know 3DES or MD5; IKEv1 does. */
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(tc,
			     "3des-md5-modp1024"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(tc, 1,
			     VPNR_IKEV1_COMMIT),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(tc,
			     "3des-md5-modp1024"),
	    VPNR_OK);
	vpnr_tunnel_config_del(tc);
	/* AEAD in Phase 1 (the IKEv1 parser refuses it; one added before
	 * the version changed is refused at add) and two selector pairs
	 * are refused. */
	assert_int_equal(setup_v1(&w, 8, NULL, NULL, NULL, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(w.s[0].tc,
			     "aes256gcm16-prfsha256-modp2048"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(w.s[0].tc, 2, 0),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(w.s[0].tc,
			     "aes256gcm16-prfsha256-modp2048"),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(w.s[0].tc, 1, 0),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(w.s[0].ctx, w.s[0].tc, NULL, &id),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_ctx_last_error(w.s[0].ctx), "IKEv1"));
	/* 3DES and MD5 are Phase 1 algorithms: ESP takes IKEv2's set. */
	assert_int_equal(vpnr_tunnel_config_add_esp_proposal(w.s[1].tc,
			     "3des-md5"),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(w.s[1].ctx, w.s[1].tc, NULL, &id),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_ctx_last_error(w.s[1].ctx), "Phase 1"));
	vpnr_tunnel_config_del(w.s[1].tc);
	assert_int_equal(vpnr_tunnel_config_new(&w.s[1].tc, NULL), VPNR_OK);
	vpnr_tunnel_config_set_addrs(w.s[1].tc, &w.s[1].addr, &w.s[0].addr);
	vpnr_tunnel_config_set_psk(w.s[1].tc, (const uint8_t *)"test-psk", 8);
	assert_int_equal(vpnr_tunnel_config_set_ike_version(w.s[1].tc, 1, 0),
	    VPNR_OK);
	vpnr_addr_parse(&l, "10.1.0.0");
	vpnr_addr_parse(&r, "10.2.0.0");
	memset(&a, 0, sizeof(a));
	a.addr_start = a.addr_end = l;
	a.port_end = 65535;
	b = a;
	b.addr_start = b.addr_end = r;
	assert_int_equal(vpnr_tunnel_config_add_ts(w.s[1].tc, &a, &b), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ts(w.s[1].tc, &b, &a), VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(w.s[1].ctx, w.s[1].tc, NULL, &id),
	    VPNR_ERR_INVALID_ARGUMENT);
	ikew_free(&w);
}

static void
test_dead_peer_and_close(void **state)
{
	struct ikew w;
	const struct ikew_ev *e;
	vpnr_tstamp t0;

	(void)state;
	assert_int_equal(setup_v1(&w, 9, NULL, NULL, NULL, NULL), VPNR_OK);
	assert_true(bring_up(&w, 10 * VPNR_SECONDS));
	/* Idle but alive: R-U-THERE / ACK keep it up. */
	ikew_advance(&w, 120 * VPNR_SECONDS);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	/* Silent: dead within interval + timeout (30 s). */
	w.s[1].silent = 1;
	t0 = w.now;
	while (ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN) == 0 &&
	    w.now - t0 < 40 * VPNR_SECONDS)
		ikew_advance(&w, VPNR_SECONDS / 10);
	e = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(e);
	assert_int_equal(e->reason, VPNR_ERR_DEAD_PEER);
	assert_true(w.now - t0 <= 31 * VPNR_SECONDS);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	/* Back: the restart action brings it up again, then a close
	 * tells the peer (DELETE) and stays down. */
	w.s[1].silent = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 120 * VPNR_SECONDS));
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	e = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_int_equal(e->reason, VPNR_ERR_LOCAL_CLOSE);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 0);
	ikew_advance(&w, 60 * VPNR_SECONDS);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	ikew_free(&w);
}

/* ---- several connections between the same two gateways ---- */

static void
ts_net(vpnr_ts *ts, const char *lo, const char *hi)
{
	memset(ts, 0, sizeof(*ts));
	vpnr_addr_parse(&ts->addr_start, lo);
	vpnr_addr_parse(&ts->addr_end, hi);
	ts->port_end = 65535;
}

/* Side i's tunnels: [0] 192.168/16 <-> 172.16/12, [1] <-> 10/8;
 * side 0 retransmits tries0 times (0: the default); side 1's second
 * tunnel offers only ESP esp12 if not NULL. */
static void
add_conns(struct ikew *w, uint64_t ids[2][2], uint32_t version, uint32_t tries0,
    const char *esp12)
{
	vpnr_ts hk, tokyo, us;
	vpnr_tunnel_config *tc;
	int i, k;

	ts_net(&hk, "192.168.0.0", "192.168.255.255");
	ts_net(&tokyo, "172.16.0.0", "172.31.255.255");
	ts_net(&us, "10.0.0.0", "10.255.255.255");
	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++) {
			assert_int_equal(vpnr_tunnel_config_new(&tc, NULL),
			    VPNR_OK);
			vpnr_tunnel_config_set_addrs(tc, &w->s[i].addr,
			    &w->s[!i].addr);
			vpnr_tunnel_config_set_psk(tc,
			    (const uint8_t *)"test1234", 8);
			assert_int_equal(vpnr_tunnel_config_set_ike_version(tc,
					     version, 0),
			    VPNR_OK);
			vpnr_tunnel_config_set_if_id(tc, (uint32_t)(k + 1));
			if (i == 0 && tries0 != 0)
				assert_int_equal(
				    vpnr_tunnel_config_set_retransmit(tc,
					VPNR_SECONDS, tries0),
				    VPNR_OK);
			if (i == 1 && k == 1 && esp12 != NULL)
				assert_int_equal(
				    vpnr_tunnel_config_add_esp_proposal(tc,
					esp12),
				    VPNR_OK);
			if (i == 0)
				vpnr_tunnel_config_add_ts(tc, &hk,
				    k == 0 ? &tokyo : &us);
			else
				vpnr_tunnel_config_add_ts(tc,
				    k == 0 ? &tokyo : &us, &hk);
			assert_int_equal(vpnr_tunnel_add(w->s[i].ctx, tc,
					     &w->s[i], &ids[i][k]),
			    VPNR_OK);
			vpnr_tunnel_config_del(tc);
		}
}

static int
conns_up(struct ikew *w, void *arg)
{
	uint64_t(*ids)[2] = arg;
	vpnr_tunnel_info inf;
	int i, k;

	for (i = 0; i < 2; i++)
		for (k = 0; k < 2; k++)
			if (vpnr_tunnel_get_info(w->s[i].ctx, ids[i][k],
				&inf) != VPNR_OK ||
			    inf.state != VPNR_TUNNEL_ESTABLISHED ||
			    inf.child_spi_in == 0)
				return 0;
	return 1;
}

static void
check_conns(struct ikew *w, uint64_t ids[2][2])
{
	vpnr_tunnel_info a, b;
	int k, i;

	assert_int_equal(ikew_check_pairs(w), 2);
	for (k = 0; k < 2; k++) {
		info(w, 0, ids[0][k], &a);
		info(w, 1, ids[1][k], &b);
		/* Connection k's pair on both ends: each network goes
		 * through its own connection. */
		assert_int_equal(a.child_spi_in, b.child_spi_out);
		assert_int_equal(a.child_spi_out, b.child_spi_in);
		assert_int_equal(a.n_child_sa, 1);
		assert_int_equal(b.n_child_sa, 1);
	}
	/* The SAs of connection k carry if_id k + 1 on both sides. */
	for (i = 0; i < 2; i++)
		for (k = 0; k < IKEW_MAX_SA; k++)
			if (w->s[i].sas[k].live)
				assert_true(w->s[i].sas[k].spi != 0);
}

static void
test_two_connections(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		assert_int_equal(ikew_init(&w, 20 + round, 64), VPNR_OK);
		add_conns(&w, ids, 1, 0, NULL);
		/* One ISAKMP SA carries both Quick Modes, whether the
		 * second connection starts once the first is up (round 0)
		 * or at once (round 1: it waits for the first's Phase 1,
		 * as two fresh ISAKMP SAs make strongSwan delete both). */
		assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][0],
				     w.now),
		    VPNR_OK);
		if (round == 0)
			ikew_advance(&w, 2 * VPNR_SECONDS);
		assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][1],
				     w.now),
		    VPNR_OK);
		assert_true(
		    ikew_run_until(&w, conns_up, ids, 20 * VPNR_SECONDS));
		check_conns(&w, ids);
		info(&w, 0, ids[0][0], &a);
		info(&w, 0, ids[0][1], &b);
		assert_true(a.spi_i == b.spi_i);
		assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 2);
		/* Rekeys of the second connection, from either side. */
		assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, ids[1][1],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		ikew_advance(&w, 5 * VPNR_SECONDS);
		assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, ids[0][1],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		ikew_advance(&w, 5 * VPNR_SECONDS);
		check_conns(&w, ids);
		info(&w, 0, ids[0][1], &b);
		assert_int_equal(b.child_rekeys, 2);
		info(&w, 0, ids[0][0], &a);
		assert_int_equal(a.child_rekeys, 0);
		/* The first connection is deleted (round 0) or closed: the
		 * second keeps its CHILD_SA and the ISAKMP SA, now its own
		 * (the peer keeps both), and rekeys over it. */
		if (round == 0)
			assert_int_equal(vpnr_tunnel_del(w.s[0].ctx, ids[0][0],
					     w.now),
			    VPNR_OK);
		else
			assert_int_equal(vpnr_tunnel_close(w.s[0].ctx,
					     ids[0][0], w.now),
			    VPNR_OK);
		ikew_advance(&w, 60 * VPNR_SECONDS);
		a = b;
		info(&w, 0, ids[0][1], &b);
		assert_true(b.spi_i == a.spi_i && b.spi_r == a.spi_r);
		assert_int_equal(ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_DOWN,
				     ids[0][1]),
		    0);
		assert_int_equal(b.state, VPNR_TUNNEL_ESTABLISHED);
		assert_int_equal(b.n_child_sa, 1);
		assert_int_equal(ikew_check_pairs(&w), 1);
		assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, ids[0][1],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		ikew_advance(&w, 5 * VPNR_SECONDS);
		info(&w, 0, ids[0][1], &b);
		assert_int_equal(b.child_rekeys, 3);
		assert_int_equal(ikew_check_pairs(&w), 1);
		ikew_free(&w);
	}
}

/* Side 0's tunnel *arg has a CHILD_SA paired with side 1. */
static int
conn0_paired(struct ikew *w, void *arg)
{
	const uint64_t *id = arg;
	vpnr_tunnel_info a;

	return vpnr_tunnel_get_info(w->s[0].ctx, *id, &a) == VPNR_OK &&
	    a.state == VPNR_TUNNEL_ESTABLISHED && a.child_spi_in != 0 &&
	    ikew_find_sa(&w->s[1], a.child_spi_in, VPNR_DIR_OUT) != NULL &&
	    ikew_find_sa(&w->s[1], a.child_spi_out, VPNR_DIR_IN) != NULL;
}

/* Where the ISAKMP header starts: after the non-ESP marker on the
 * NAT-T port. */
static size_t
isakmp_at(const uint8_t *data, size_t len)
{
	return len > 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 &&
		data[3] == 0 ?
	    4 :
	    0;
}

/* A datagram side 0 sent, held back to be delivered later. */
static struct ikew_pkt *held;

static void
hold(const vpnr_addr *local, const vpnr_addr *remote, const uint8_t *data,
    size_t len)
{
	held = malloc(sizeof(*held) + len);
	assert_non_null(held);
	held->to = 1;
	held->local = *remote; /* as the receiver sees them */
	held->remote = *local;
	held->len = len;
	memcpy(held->data, data, len);
}

/* Side 0's Quick Modes by message ID: the first passes, the second
 * (the rider's) is dropped each time it is sent; its first copy is
 * held. */
static uint8_t qm_ids[2][4];
static int qm_seen;

static int
drop_second_qm(struct ikew_side *s, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len)
{
	size_t o = isakmp_at(data, len);
	const uint8_t *id = data + o + 20;

	if (s->idx != 0 || len < o + 28 || data[o + 18] != 32)
		return 0;
	if (qm_seen == 0 || (qm_seen == 1 && memcmp(id, qm_ids[0], 4) != 0))
		memcpy(qm_ids[qm_seen++], id, 4);
	if (qm_seen < 2 || memcmp(id, qm_ids[1], 4) != 0)
		return 0;
	if (held == NULL)
		hold(local, remote, data, len);
	return 1;
}

/* Two connections started at once on side 0 (retransmitting tries0
 * times): the first comes up, and the second one's Quick Mode over the
 * first's ISAKMP SA is dropped each time (its first copy held). */
static void
rider_qm_dropped(struct ikew *w, uint64_t ids[2][2], uint64_t seed,
    uint32_t tries0)
{
	assert_int_equal(ikew_init(w, seed, 64), VPNR_OK);
	add_conns(w, ids, 1, tries0, NULL);
	qm_seen = 0;
	held = NULL;
	w->on_send = drop_second_qm;
	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, ids[0][0], w->now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, ids[0][1], w->now),
	    VPNR_OK);
	assert_true(
	    ikew_run_until(w, conn0_paired, &ids[0][0], 20 * VPNR_SECONDS));
	assert_int_equal(qm_seen, 2);
	assert_non_null(held);
}

/*
 * Two connections started at once share one ISAKMP SA, and the
 * second one's Quick Mode over it is never answered.  That ISAKMP SA
 * ends: by the Quick Mode giving up after 1 + 2 + 4 s (run 0), or by
 * the peer closing the first connection, which deletes it (run 1, as
 * strongSwan does with an ISAKMP SA it took for a reauthentication).
 * The second connection asks again over an ISAKMP SA of its own
 * instead of staying without a CHILD_SA.
 */
static void
test_two_connections_rider_qm_lost(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;
	int run;

	(void)state;
	for (run = 0; run < 2; run++) {
		rider_qm_dropped(&w, ids, 21, run == 0 ? 2 : 0);
		info(&w, 0, ids[0][0], &a);
		info(&w, 0, ids[0][1], &b);
		assert_int_equal(b.n_child_sa, 0);
		assert_int_equal(b.state, VPNR_TUNNEL_CONNECTING);
		if (run == 1)
			assert_int_equal(vpnr_tunnel_close(w.s[1].ctx,
					     ids[1][0], w.now),
			    VPNR_OK);
		assert_true(ikew_run_until(&w, conn0_paired, &ids[0][1],
		    60 * VPNR_SECONDS));
		info(&w, 0, ids[0][1], &b);
		assert_true(b.spi_i != a.spi_i);
		/* The first connection comes back too: both pairs right. */
		assert_true(
		    ikew_run_until(&w, conns_up, ids, 30 * VPNR_SECONDS));
		check_conns(&w, ids);
		w.on_send = NULL;
		free(held);
		held = NULL;
		ikew_free(&w);
	}
}

/*
 * A connection closed (run 0) or deleted (run 1) while its Quick Mode
 * over its sibling's ISAKMP SA is under way: that Quick Mode is
 * forgotten (it pointed to the tunnel's proposals), so the peer's late
 * answer installs nothing, and the sibling is left alone.
 */
static void
test_two_connections_rider_closed(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;
	uint64_t adds;
	int run;

	(void)state;
	for (run = 0; run < 2; run++) {
		rider_qm_dropped(&w, ids, 25, 0);
		adds = w.s[0].n_add;
		if (run == 0)
			assert_int_equal(vpnr_tunnel_close(w.s[0].ctx,
					     ids[0][1], w.now),
			    VPNR_OK);
		else
			assert_int_equal(vpnr_tunnel_del(w.s[0].ctx, ids[0][1],
					     w.now),
			    VPNR_OK);
		w.on_send = NULL;
		ikew_requeue(&w, held);
		held = NULL;
		ikew_advance(&w, 30 * VPNR_SECONDS);
		assert_int_equal(w.s[0].n_add, adds);
		if (run == 0) {
			info(&w, 0, ids[0][1], &b);
			assert_int_equal(b.state, VPNR_TUNNEL_IDLE);
			assert_int_equal(b.n_child_sa, 0);
		}
		info(&w, 0, ids[0][0], &a);
		assert_int_equal(a.state, VPNR_TUNNEL_ESTABLISHED);
		assert_int_equal(a.n_child_sa, 1);
		assert_int_equal(ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_DOWN,
				     ids[0][0]),
		    0);
		ikew_free(&w);
	}
}

/*
 * Two connections started at once towards a silent peer: the second
 * waits for the first's Phase 1 and starts its own only when that one
 * failed (1 + 2 + 4 s of retransmissions); the first, reconnecting,
 * then waits for the second's.  Once the peer answers, one ISAKMP SA
 * carries both.
 */
static void
test_two_connections_sibling_phase1_fails(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;

	(void)state;
	assert_int_equal(ikew_init(&w, 23, 64), VPNR_OK);
	add_conns(&w, ids, 1, 2, NULL);
	w.s[0].silent = 1;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][0], w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][1], w.now),
	    VPNR_OK);
	ikew_advance(&w, 10 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_FAILED,
			     ids[0][0]),
	    1);
	assert_int_equal(ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_FAILED,
			     ids[0][1]),
	    0);
	ikew_advance(&w, 20 * VPNR_SECONDS);
	assert_true(
	    ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_FAILED, ids[0][1]) >= 1);
	w.s[0].silent = 0;
	assert_true(ikew_run_until(&w, conns_up, ids, 60 * VPNR_SECONDS));
	check_conns(&w, ids);
	info(&w, 0, ids[0][0], &a);
	info(&w, 0, ids[0][1], &b);
	assert_true(a.spi_i == b.spi_i);
	ikew_free(&w);
}

/*
 * Two connections started at once share one ISAKMP SA, and the peer
 * refuses the second one's Quick Mode (no proposal): the second fails
 * with that reason and retries by its reconnect policy over the same
 * ISAKMP SA, which stays, and the first is left alone.
 */
static void
test_two_connections_rider_refused(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;
	int i;

	(void)state;
	assert_int_equal(ikew_init(&w, 24, 64), VPNR_OK);
	add_conns(&w, ids, 1, 0, "aes128-sha1");
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][0], w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][1], w.now),
	    VPNR_OK);
	ikew_advance(&w, 120 * VPNR_SECONDS);
	info(&w, 0, ids[0][0], &a);
	info(&w, 0, ids[0][1], &b);
	assert_int_equal(a.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(a.n_child_sa, 1);
	assert_int_equal(b.n_child_sa, 0);
	assert_int_equal(b.last_error, VPNR_ERR_NO_PROPOSAL);
	/* Tried again, not stuck after the first refusal. */
	assert_true(
	    ikew_count_ev_of(&w.s[0], VPNR_TUNNEL_EV_FAILED, ids[0][1]) >= 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_count_ev_of(&w.s[i],
				     VPNR_TUNNEL_EV_FAILED, ids[i][0]),
		    0);
		assert_int_equal(ikew_count_ev_of(&w.s[i], VPNR_TUNNEL_EV_DOWN,
				     ids[i][0]),
		    0);
	}
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/* Holds side 0's first Main Mode message 5 (its first encrypted
 * ID_PROT message). */
static int
hold_mm5(struct ikew_side *s, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len)
{
	size_t o = isakmp_at(data, len);

	if (s->idx != 0 || held != NULL || len < o + 28 || data[o + 18] != 2 ||
	    (data[o + 19] & 1) == 0)
		return 0;
	hold(local, remote, data, len);
	return 1;
}

/*
 * Two Main Modes at once between the same gateways: side 0 starts
 * connection 2 while side 1 starts connection 1 (siblings wait for a
 * Phase 1 of their own side only).  Side 0's Main Mode 5 arrives after
 * side 1's ISAKMP SA came up (as seen against strongSwan): INITIAL-
 * CONTACT in it would make side 1 drop that SA.  It is decided when MM5
 * is built, so it is left out and both connections stay.
 */
static void
test_two_connections_initial_contact(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];

	(void)state;
	assert_int_equal(ikew_init(&w, 22, 64), VPNR_OK);
	add_conns(&w, ids, 1, 0, NULL);
	held = NULL;
	w.on_send = hold_mm5;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][1], w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[1].ctx, ids[1][0], w.now),
	    VPNR_OK);
	ikew_flush(&w); /* side 1's comes up; side 0's waits */
	assert_non_null(held);
	w.on_send = NULL;
	ikew_requeue(&w, held);
	held = NULL;
	assert_true(ikew_run_until(&w, conns_up, ids, 20 * VPNR_SECONDS));
	ikew_advance(&w, 60 * VPNR_SECONDS);
	assert_true(conns_up(&w, ids));
	check_conns(&w, ids);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	ikew_free(&w);
}

/*
 * IKEv2: each connection has its own IKE SA; the responder picks the
 * tunnel by the peer's address, then identity, then the selectors of
 * the IKE_AUTH request (both tunnels share address and identity).
 */
static void
test_two_connections_v2(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	int who, k;

	(void)state;
	for (who = 0; who < 2; who++) {
		assert_int_equal(ikew_init(&w, 30 + who, 64), VPNR_OK);
		add_conns(&w, ids, 2, 0, NULL);
		/* The second connection first: the responder's first
		 * match by address is the other one. */
		for (k = 1; k >= 0; k--)
			assert_int_equal(vpnr_tunnel_initiate(w.s[who].ctx,
					     ids[who][k], w.now),
			    VPNR_OK);
		assert_true(
		    ikew_run_until(&w, conns_up, ids, 20 * VPNR_SECONDS));
		check_conns(&w, ids);
		assert_none(&w, VPNR_TUNNEL_EV_FAILED);
		ikew_free(&w);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_one_side_forces_encap),
		cmocka_unit_test(test_lossy),
		cmocka_unit_test(test_rekeys),
		cmocka_unit_test(test_rekey_by_lifetime),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_config_refused),
		cmocka_unit_test(test_dead_peer_and_close),
		cmocka_unit_test(test_two_connections),
		cmocka_unit_test(test_two_connections_rider_qm_lost),
		cmocka_unit_test(test_two_connections_rider_closed),
		cmocka_unit_test(test_two_connections_sibling_phase1_fails),
		cmocka_unit_test(test_two_connections_rider_refused),
		cmocka_unit_test(test_two_connections_initial_contact),
		cmocka_unit_test(test_two_connections_v2),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
