/*
 * IKEv2 end to end: our initiator against our responder in one
 * process (helpers/ike_wire.c), for every supported transform, with
 * and without injected loss, duplication and reordering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "helpers/ike_wire.h"

struct suite_case {
	const char *ike;
	const char *esp;
};

static const struct suite_case cases[] = {
	{ "aes256-sha256-modp2048", "aes256gcm16" },
	{ "aes128-sha1-modp1024", "aes128-sha1" },
	{ "aes256-sha256-modp3072", "aes256-sha256" },
	{ "aes128-sha384-modp4096", "aes128-sha384" },
	{ "aes256-sha512-ecp256", "aes256-sha512" },
	{ "aes128gcm16-prfsha256-ecp384", "aes128gcm16" },
	{ "aes256gcm16-prfsha384-ecp521", "aes256gcm16-esn" },
	{ "aes256gcm16-prfsha512-x25519", "aes128gcm16-esn" },
	{ "aes128-sha256-modp2048s256", "aes256-sha1-esn" },
	{ "aes256-sha1-x25519", "aes128-sha256" },
	{ "aes128gcm16-prfsha1-ecp256", "aes256gcm16" },
};

static int
setup_pair(struct ikew *w, uint64_t seed, const char *ike, const char *esp,
    int force_encap)
{
	int i, rv;

	rv = ikew_init(w, seed, 64);
	if (rv != VPNR_OK)
		return rv;
	for (i = 0; i < 2; i++) {
		if (ike != NULL &&
		    (rv = vpnr_tunnel_config_add_ike_proposal(w->s[i].tc,
			 ike)) != VPNR_OK)
			return rv;
		if (esp != NULL &&
		    (rv = vpnr_tunnel_config_add_esp_proposal(w->s[i].tc,
			 esp)) != VPNR_OK)
			return rv;
		vpnr_tunnel_config_set_force_encap(w->s[i].tc, force_encap);
		if ((rv = ikew_add_tunnel(w, i)) != VPNR_OK)
			return rv;
	}
	return VPNR_OK;
}

static void
check_up(struct ikew *w, int encap)
{
	vpnr_tunnel_info a, b;
	int i;

	assert_int_equal(ikew_check_pairs(w), 1);
	assert_int_equal(vpnr_tunnel_get_info(w->s[0].ctx, w->s[0].tunnel_id,
			     &a),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_get_info(w->s[1].ctx, w->s[1].tunnel_id,
			     &b),
	    VPNR_OK);
	assert_int_equal(a.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(b.state, VPNR_TUNNEL_ESTABLISHED);
	assert_true(a.spi_i == b.spi_i && a.spi_r == b.spi_r);
	assert_int_equal(a.child_spi_in, b.child_spi_out);
	assert_int_equal(a.child_spi_out, b.child_spi_in);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_count_ev(&w->s[i], VPNR_TUNNEL_EV_UP), 1);
		assert_int_equal(ikew_count_ev(&w->s[i],
				     VPNR_TUNNEL_EV_CHILD_UP),
		    1);
		assert_int_equal(ikew_count_ev(&w->s[i], VPNR_TUNNEL_EV_FAILED),
		    0);
	}
	for (i = 0; i < IKEW_MAX_SA; i++) {
		const struct ikew_sa *s = &w->s[0].sas[i];

		if (!s->live)
			continue;
		assert_true(s->flags & VPNR_SA_F_TUNNEL);
		if (encap) {
			assert_true(s->flags & VPNR_SA_F_UDP_ENCAP);
			assert_int_equal(s->src.port, 4500);
			assert_int_equal(s->dst.port, 4500);
		} else {
			assert_false(s->flags & VPNR_SA_F_UDP_ENCAP);
		}
		if (s->dir == VPNR_DIR_IN)
			assert_int_equal(s->replay_window, 1024);
	}
	if (encap) {
		assert_int_equal(a.local.port, 4500);
		assert_int_equal(a.remote.port, 4500);
		assert_int_equal(b.local.port, 4500);
	}
}

static void
test_default_handshake(void **state)
{
	struct ikew w;

	assert_int_equal(setup_pair(&w, 1, NULL, NULL, 0), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	check_up(&w, 0);
	/* Exactly four messages each way: INIT, AUTH. */
	assert_int_equal(w.s[0].sent, 2);
	assert_int_equal(w.s[1].sent, 2);
	ikew_free(&w);
}

static void
test_force_encap(void **state)
{
	struct ikew w;

	assert_int_equal(setup_pair(&w, 2, NULL, NULL, 1), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	check_up(&w, 1);
	ikew_free(&w);
}

static void
test_one_side_forces_encap(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 3, 64), VPNR_OK);
	/* Like strongSwan with kernel-libipsec: only the peer forces. */
	vpnr_tunnel_config_set_force_encap(w.s[1].tc, 1);
	assert_int_equal(ikew_add_tunnel(&w, 0), VPNR_OK);
	assert_int_equal(ikew_add_tunnel(&w, 1), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	check_up(&w, 1);
	ikew_free(&w);
}

static void
run_suites(int lossy)
{
	uint64_t dropped = 0, duplicated = 0, reordered = 0;
	size_t i;
	int k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < 2; k++) {
			struct ikew w;

			assert_int_equal(setup_pair(&w, 100 + i * 2 + (size_t)k,
					     cases[i].ike, cases[i].esp, k),
			    VPNR_OK);
			if (lossy) {
				w.loss_pct = 30;
				w.dup_pct = 20;
				w.reorder_pct = 20;
			}
			assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx,
					     w.s[0].tunnel_id, w.now),
			    VPNR_OK);
			if (!ikew_run_until(&w, ikew_pred_up, NULL,
				120 * VPNR_SECONDS))
				fail_msg("suite %s / %s (encap %d) not up",
				    cases[i].ike, cases[i].esp, k);
			if (!lossy)
				check_up(&w, k);
			else
				assert_int_equal(ikew_check_pairs(&w), 1);
			/* Rekey the CHILD_SA (with PFS where configured)
			 * and the IKE SA: still one consistent pair. */
			assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx,
					     w.s[0].tunnel_id,
					     VPNR_REKEY_CHILD | VPNR_REKEY_IKE,
					     w.now),
			    VPNR_OK);
			ikew_advance(&w, 200 * VPNR_SECONDS);
			assert_int_equal(ikew_check_pairs(&w), 1);
			assert_true(ikew_pred_up(&w, NULL));
			assert_true(ikew_count_ev(&w.s[0],
					VPNR_TUNNEL_EV_CHILD_REKEYED) >= 1);
			assert_true(ikew_count_ev(&w.s[1],
					VPNR_TUNNEL_EV_REKEYED) >= 1);
			dropped += w.dropped;
			duplicated += w.duplicated;
			reordered += w.reordered;
			ikew_free(&w);
		}
	}
	if (lossy) {
		/* The faults really happened. */
		assert_true(dropped > 20);
		assert_true(duplicated > 10);
		assert_true(reordered > 5);
	}
}

static void
test_all_suites(void **state)
{
	run_suites(0);
}

static void
test_all_suites_lossy(void **state)
{
	run_suites(1);
}

static void
test_pfs_rekey(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;

	assert_int_equal(setup_pair(&w, 7, "aes256-sha256-ecp256",
			     "aes256gcm16-ecp256", 0),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	assert_int_equal(vpnr_tunnel_get_info(w.s[0].ctx, w.s[0].tunnel_id, &a),
	    VPNR_OK);
	assert_int_equal(a.esp_dh, 0); /* no KE in IKE_AUTH */
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(vpnr_tunnel_get_info(w.s[0].ctx, w.s[0].tunnel_id, &a),
	    VPNR_OK);
	assert_int_equal(a.esp_dh, 19);
	assert_int_equal(a.child_rekeys, 1);
	ikew_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_handshake),
		cmocka_unit_test(test_force_encap),
		cmocka_unit_test(test_one_side_forces_encap),
		cmocka_unit_test(test_pfs_rekey),
		cmocka_unit_test(test_all_suites),
		cmocka_unit_test(test_all_suites_lossy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
