/*
 * IKEv2 engine paths: COOKIE, INVALID_KE_PAYLOAD, authentication and
 * proposal failures, traffic selectors, rekeying from either side,
 * simultaneous rekey collisions, DELETE, DPD, retransmission limits,
 * duplicated requests, days of fake time and malformed datagrams.
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

static void
test_cookie(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 11, 0), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	/* INIT, INIT again with the COOKIE, AUTH. */
	assert_int_equal(w.s[0].sent, 3);
	assert_int_equal(w.s[1].sent, 3);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static void
test_invalid_ke(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;

	assert_int_equal(ikew_init(&w, 12, 64), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(w.s[0].tc,
			     "aes256-sha256-ecp256-modp2048"),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(w.s[1].tc,
			     "aes256-sha256-modp2048"),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(w.s[0].sent, 3);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.ike_dh, 14);
	ikew_free(&w);
}

static void
expect_failed(struct ikew *w, int i, int reason, uint16_t notify)
{
	const struct ikew_ev *ev =
	    ikew_last_ev(&w->s[i], VPNR_TUNNEL_EV_FAILED);

	assert_non_null(ev);
	assert_int_equal(ev->reason, reason);
	if (notify != 0)
		assert_int_equal(ev->notify, notify);
}

static void
test_wrong_psk(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;

	assert_int_equal(ikew_init(&w, 13, 64), VPNR_OK);
	vpnr_tunnel_config_set_psk(w.s[1].tc, (const uint8_t *)"other", 5);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_flush(&w);
	expect_failed(&w, 0, VPNR_ERR_AUTH_FAILED, 24);
	expect_failed(&w, 1, VPNR_ERR_AUTH_FAILED, 24);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 0);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.last_error, VPNR_ERR_AUTH_FAILED);
	ikew_free(&w);
}

static void
test_no_proposal(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 14, 64), VPNR_OK);
	vpnr_tunnel_config_add_ike_proposal(w.s[0].tc, "aes128-sha1-modp1024");
	vpnr_tunnel_config_add_ike_proposal(w.s[1].tc,
	    "aes256-sha256-modp2048");
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_flush(&w);
	expect_failed(&w, 0, VPNR_ERR_NO_PROPOSAL, 14);
	expect_failed(&w, 1, VPNR_ERR_NO_PROPOSAL, 14);
	ikew_free(&w);
}

static void
test_esp_no_proposal(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 15, 64), VPNR_OK);
	vpnr_tunnel_config_add_esp_proposal(w.s[0].tc, "aes128-sha1");
	vpnr_tunnel_config_add_esp_proposal(w.s[1].tc, "aes256gcm16");
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	expect_failed(&w, 0, VPNR_ERR_NO_PROPOSAL, 14);
	expect_failed(&w, 1, VPNR_ERR_NO_PROPOSAL, 14);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 0);
	ikew_free(&w);
}

static void
ts_of(vpnr_ts *ts, const char *pfx)
{
	vpnr_prefix p;
	int i, bits;

	memset(ts, 0, sizeof(*ts));
	assert_int_equal(vpnr_prefix_parse(&p, pfx), VPNR_OK);
	ts->port_end = 65535;
	ts->addr_start = p.addr;
	ts->addr_end = p.addr;
	for (i = 0; i < 4; i++) {
		bits = (int)p.len - 8 * i;
		if (bits >= 8)
			continue;
		ts->addr_end.bytes[i] |=
		    (uint8_t)(bits <= 0 ? 0xff : 0xff >> bits);
	}
}

static void
test_ts_unacceptable(void **state)
{
	struct ikew w;
	vpnr_ts a, b;

	assert_int_equal(ikew_init(&w, 16, 64), VPNR_OK);
	ts_of(&a, "10.0.0.0/24");
	ts_of(&b, "10.1.0.0/24");
	vpnr_tunnel_config_add_ts(w.s[0].tc, &a, &b);
	ts_of(&a, "172.16.0.0/16");
	ts_of(&b, "172.17.0.0/16");
	vpnr_tunnel_config_add_ts(w.s[1].tc, &a, &b);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	expect_failed(&w, 0, VPNR_ERR_TS_UNACCEPTABLE, 38);
	expect_failed(&w, 1, VPNR_ERR_TS_UNACCEPTABLE, 38);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	ikew_free(&w);
}

static void
test_ts_narrowing(void **state)
{
	struct ikew w;
	vpnr_ts a, b;

	assert_int_equal(ikew_init(&w, 17, 64), VPNR_OK);
	/* Initiator proposes 0/0; the responder narrows to its nets. */
	ts_of(&a, "10.2.0.0/16");
	ts_of(&b, "10.1.0.0/16");
	vpnr_tunnel_config_add_ts(w.s[1].tc, &a, &b);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static void
rekey_test(int side, uint32_t what)
{
	struct ikew w;
	vpnr_tunnel_info a0, b0, a1, b1;

	assert_int_equal(ikew_init(&w, 20 + (uint64_t)side * 3 + what, 64),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(ikew_info(&w, 0, &a0), VPNR_OK);
	assert_int_equal(ikew_info(&w, 1, &b0), VPNR_OK);
	assert_int_equal(vpnr_tunnel_rekey(w.s[side].ctx, w.s[side].tunnel_id,
			     what, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_info(&w, 0, &a1), VPNR_OK);
	assert_int_equal(ikew_info(&w, 1, &b1), VPNR_OK);
	assert_int_equal(a1.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(b1.state, VPNR_TUNNEL_ESTABLISHED);
	assert_true(a1.spi_i == b1.spi_i && a1.spi_r == b1.spi_r);
	if (what & VPNR_REKEY_CHILD) {
		assert_true(a1.child_spi_in != a0.child_spi_in);
		assert_int_equal(a1.child_rekeys, 1);
		assert_int_equal(b1.child_rekeys, 1);
		assert_int_equal(ikew_count_ev(&w.s[0],
				     VPNR_TUNNEL_EV_CHILD_DOWN),
		    0);
		assert_int_equal(ikew_count_ev(&w.s[1],
				     VPNR_TUNNEL_EV_CHILD_REKEYED),
		    1);
	} else {
		assert_int_equal(a1.child_spi_in, a0.child_spi_in);
	}
	if (what & VPNR_REKEY_IKE) {
		assert_true(a1.spi_i != a0.spi_i);
		assert_int_equal(a1.ike_rekeys, 1);
		assert_int_equal(b1.ike_rekeys, 1);
	}
	/* The (new) IKE SA works: rekey the CHILD_SA over it. */
	assert_int_equal(vpnr_tunnel_rekey(w.s[!side].ctx, w.s[!side].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_true(ikew_pred_up(&w, NULL));
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 0);
	ikew_free(&w);
}

static void
test_rekey_child_initiator(void **state)
{
	rekey_test(0, VPNR_REKEY_CHILD);
}

static void
test_rekey_child_responder(void **state)
{
	rekey_test(1, VPNR_REKEY_CHILD);
}

static void
test_rekey_ike_initiator(void **state)
{
	rekey_test(0, VPNR_REKEY_IKE);
}

static void
test_rekey_ike_responder(void **state)
{
	rekey_test(1, VPNR_REKEY_IKE);
}

static void
collision_test(uint32_t what, uint64_t seed)
{
	struct ikew w;
	vpnr_tunnel_info a, b;

	assert_int_equal(ikew_init(&w, seed, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id, what,
			     w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id, what,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 60 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_OUT), 1);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
	assert_int_equal(a.n_child_sa, 1);
	assert_int_equal(b.n_child_sa, 1);
	assert_true(a.spi_i == b.spi_i && a.spi_r == b.spi_r);
	assert_int_equal(a.child_spi_in, b.child_spi_out);
	if (what & VPNR_REKEY_IKE) {
		assert_int_equal(a.ike_rekeys, 1);
		assert_int_equal(b.ike_rekeys, 1);
	}
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 0);
	/* Everything still works afterwards, from both sides. */
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id,
			     VPNR_REKEY_IKE, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_true(ikew_pred_up(&w, NULL));
	ikew_free(&w);
}

static void
test_collision_child(void **state)
{
	uint64_t seed;

	for (seed = 40; seed < 46; seed++)
		collision_test(VPNR_REKEY_CHILD, seed);
}

static void
test_collision_ike(void **state)
{
	uint64_t seed;

	for (seed = 50; seed < 56; seed++)
		collision_test(VPNR_REKEY_IKE, seed);
}

static void
test_delete(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	vpnr_tunnel_info a;

	assert_int_equal(ikew_init(&w, 60, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	ev = ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_PEER_CLOSED);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_LOCAL_CLOSE);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 1);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_DOWN), 1);
	/* CHILD_DOWN says why too: closed here, closed by the peer. */
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN)
			     ->reason,
	    VPNR_ERR_LOCAL_CLOSE);
	assert_int_equal(ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_DOWN)
			     ->reason,
	    VPNR_ERR_PEER_CLOSED);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN) +
		ikew_count_sa(&w.s[0], VPNR_DIR_OUT) +
		ikew_count_sa(&w.s[1], VPNR_DIR_IN) +
		ikew_count_sa(&w.s[1], VPNR_DIR_OUT),
	    0);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.state, VPNR_TUNNEL_IDLE);
	/* Nothing comes back by itself: closed means closed. */
	ikew_advance(&w, 600 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 1);
	/* And it can be brought up again. */
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	ikew_free(&w);
}

static void
test_dpd_timeout_restart(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;

	assert_int_equal(ikew_init(&w, 61, 64), VPNR_OK);
	vpnr_tunnel_config_set_retransmit(w.s[0].tc, VPNR_SECONDS, 3);
	vpnr_tunnel_config_set_dpd(w.s[0].tc, 10 * VPNR_SECONDS,
	    VPNR_DPD_ACTION_RESTART);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	/* Idle with DPD working: nothing happens. */
	ikew_advance(&w, 100 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	w.s[1].silent = 1;
	ikew_advance(&w, 40 * VPNR_SECONDS);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DEAD_PEER);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	w.s[1].silent = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 300 * VPNR_SECONDS));
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 2);
	ikew_free(&w);
}

static void
test_retransmit_limit(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	vpnr_tunnel_info a;

	assert_int_equal(ikew_init(&w, 62, 64), VPNR_OK);
	vpnr_tunnel_config_set_retransmit(w.s[0].tc, VPNR_SECONDS, 3);
	vpnr_tunnel_config_set_dpd(w.s[0].tc, 10 * VPNR_SECONDS,
	    VPNR_DPD_ACTION_CLEAR);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	w.s[1].silent = 1;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	/* 1, 2, 4 s, then 4 s (an attempt's timeout stops doubling
	 * there): given up after 11 s, and retried 0.25 s to 0.5 s
	 * later. */
	ikew_advance(&w, 10 * VPNR_SECONDS);
	assert_null(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED));
	ikew_advance(&w, 1100 * VPNR_MILLISECONDS);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
	assert_int_equal(w.s[0].sent, 4); /* 1 + 3 retransmits */
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.retransmits, 3);
	assert_int_equal(a.state, VPNR_TUNNEL_IDLE);
	ikew_free(&w);
}

static void
test_duplicate_request(void **state)
{
	struct ikew w;
	uint64_t before;

	assert_int_equal(ikew_init(&w, 63, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	w.dup_pct = 100;
	before = w.s[1].sent;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	/* Two requests (CREATE_CHILD_SA, DELETE), each seen twice: the
	 * cached response went out again, nothing was processed twice. */
	assert_int_equal(w.s[1].sent - before, 4);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	ikew_free(&w);
}

static void
test_days(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a, b;
	int h;

	assert_int_equal(ikew_init(&w, 64, 64), VPNR_OK);
	/* Azure IKE 28800 s, AWS CHILD 3600 s, on both sides. */
	vpnr_tunnel_config_set_rekey(w.s[0].tc, 28800 * VPNR_SECONDS,
	    3600 * VPNR_SECONDS, 10);
	vpnr_tunnel_config_set_rekey(w.s[1].tc, 28800 * VPNR_SECONDS,
	    3600 * VPNR_SECONDS, 10);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	for (h = 0; h < 72; h++) {
		ikew_advance(&w, 3600 * VPNR_SECONDS);
		if (ikew_check_pairs(&w) < 1)
			fail_msg("no CHILD_SA pair after %d h", h + 1);
		assert_true(ikew_pred_up(&w, NULL));
	}
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
	assert_true(a.ike_rekeys >= 8);
	assert_true(a.child_rekeys >= 70);
	assert_int_equal(a.ike_rekeys, b.ike_rekeys);
	assert_int_equal(a.child_rekeys, b.child_rekeys);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 0);
	assert_true(a.n_child_sa <= 2);
	ikew_free(&w);
}

static void
test_malformed(void **state)
{
	struct ikew w;
	struct ikew_pkt *p;
	vpnr_tunnel_info b;
	vpnr_addr l, r;
	uint8_t junk[200];
	size_t i;

	assert_int_equal(ikew_init(&w, 65, 64), VPNR_OK);
	vpnr_tunnel_config_set_force_encap(w.s[0].tc, 1);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	l = w.s[1].addr;
	r = w.s[0].addr;
	l.port = 500;
	r.port = 500;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(vpnr_ctx_recv_datagram(w.s[1].ctx, &l, &r, junk, 10,
			     w.now),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr_ctx_recv_datagram(w.s[1].ctx, &l, &r, junk,
			     sizeof(junk), w.now),
	    VPNR_ERR_MALFORMED);
	l.port = 4500;
	r.port = 4500;
	memset(junk, 0, 4);
	assert_int_equal(vpnr_ctx_recv_datagram(w.s[1].ctx, &l, &r, junk, 20,
			     w.now),
	    VPNR_ERR_MALFORMED);
	junk[0] = 0xff;
	assert_int_equal(vpnr_ctx_recv_datagram(w.s[1].ctx, &l, &r, junk, 1,
			     w.now),
	    VPNR_OK); /* NAT keepalive */
	junk[0] = 0x12;
	assert_int_equal(vpnr_ctx_recv_datagram(w.s[1].ctx, &l, &r, junk, 60,
			     w.now),
	    VPNR_ERR_NOT_IKE); /* ESP */
	assert_int_equal(vpnr_udp_classify(junk, 60), VPNR_UDP_ESP);
	assert_int_equal(vpnr_udp_classify(junk, 3), VPNR_ERR_MALFORMED);
	/* A tampered message of the live IKE SA is dropped and counted. */
	w.dup_pct = 0;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	assert_int_equal(w.nq, 1);
	p = ikew_peek(&w, 0);
	p->data[p->len - 3] ^= 0x40;
	ikew_flush(&w);
	assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
	assert_true(b.malformed >= 1);
	assert_int_equal(b.child_rekeys, 0);
	/* The retransmission gets through. */
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
	assert_int_equal(b.child_rekeys, 1);
	ikew_free(&w);
}

static void
test_dp_expiry(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a0, a1;
	uint64_t sa_id = 0;
	int i;

	assert_int_equal(ikew_init(&w, 66, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(ikew_info(&w, 0, &a0), VPNR_OK);
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (w.s[0].sas[i].live && w.s[0].sas[i].dir == VPNR_DIR_IN)
			sa_id = w.s[0].sas[i].sa_id;
	assert_int_equal(vpnr_dp_sa_expired(w.s[0].ctx, sa_id, 0, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_info(&w, 0, &a1), VPNR_OK);
	assert_int_equal(a1.child_rekeys, 1);
	assert_true(a1.child_spi_in != a0.child_spi_in);
	assert_int_equal(ikew_check_pairs(&w), 1);
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (w.s[0].sas[i].live && w.s[0].sas[i].dir == VPNR_DIR_OUT)
			sa_id = w.s[0].sas[i].sa_id;
	assert_int_equal(vpnr_dp_sa_expired(w.s[0].ctx, sa_id, 1, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_DOWN), 1);
	assert_int_equal(vpnr_dp_sa_expired(w.s[0].ctx, 999999, 1, w.now),
	    VPNR_ERR_NOT_FOUND);
	ikew_free(&w);
}

static int
reinit_cb(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	return VPNR_OK;
}

static void
test_config_builder(void **state)
{
	vpnr_tunnel_config *tc;
	uint8_t v4[4] = { 192, 0, 2, 1 };

	(void)reinit_cb;
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(tc, "aes256-foo"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_tunnel_config_last_error(tc), "foo"));
	assert_int_equal(vpnr_tunnel_config_set_local_id(tc, VPNR_ID_IPV4_ADDR,
			     v4, 3),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_local_id(tc, VPNR_ID_FQDN,
			     (const uint8_t *)"gw.example", 10),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_dpd(tc, 0, 9),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_retransmit(tc, 0, 3),
	    VPNR_ERR_INVALID_ARGUMENT);
	vpnr_tunnel_config_del(tc);
	vpnr_tunnel_config_del(NULL);
}

static void
test_fqdn_ids(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 67, 64), VPNR_OK);
	vpnr_tunnel_config_set_local_id(w.s[0].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"left.example", 12);
	vpnr_tunnel_config_set_remote_id(w.s[0].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"right.example", 13);
	vpnr_tunnel_config_set_local_id(w.s[1].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"right.example", 13);
	vpnr_tunnel_config_set_remote_id(w.s[1].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"left.example", 12);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	ikew_free(&w);
	/* A remote ID mismatch fails authentication. */
	assert_int_equal(ikew_init(&w, 68, 64), VPNR_OK);
	vpnr_tunnel_config_set_remote_id(w.s[1].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"someone.else", 12);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_flush(&w);
	expect_failed(&w, 1, VPNR_ERR_AUTH_FAILED, 24);
	expect_failed(&w, 0, VPNR_ERR_AUTH_FAILED, 24);
	ikew_free(&w);
}

static void
test_crossed_initiation(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a, b;
	uint64_t seed;

	for (seed = 70; seed < 74; seed++) {
		assert_int_equal(ikew_init(&w, seed, 64), VPNR_OK);
		assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
		assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx,
				     w.s[0].tunnel_id, w.now),
		    VPNR_OK);
		assert_int_equal(vpnr_tunnel_initiate(w.s[1].ctx,
				     w.s[1].tunnel_id, w.now),
		    VPNR_OK);
		ikew_advance(&w, 60 * VPNR_SECONDS);
		assert_true(ikew_pred_up(&w, NULL));
		assert_int_equal(ikew_check_pairs(&w), 1);
		assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
		assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
		assert_true(a.spi_i == b.spi_i && a.spi_r == b.spi_r);
		assert_int_equal(a.n_child_sa, 1);
		assert_int_equal(b.n_child_sa, 1);
		/* Still healthy a while later (DPD, no stale SA). */
		ikew_advance(&w, 120 * VPNR_SECONDS);
		assert_int_equal(ikew_check_pairs(&w), 1);
		assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN),
		    0);
		ikew_free(&w);
	}
}

/* Calls from inside callbacks queue (rekey, close) or are refused. */
static int
rekey_on_child_up(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	vpnr_addr a;
	uint8_t b = 0;

	if (ev->type == VPNR_TUNNEL_EV_CHILD_UP) {
		s->cb_rv = vpnr_tunnel_rekey(s->ctx, s->tunnel_id,
		    VPNR_REKEY_CHILD | VPNR_REKEY_IKE, s->w->now);
		memset(&a, 0, sizeof(a));
		assert_int_equal(vpnr_ctx_recv_datagram(s->ctx, &a, &a, &b, 1,
				     s->w->now),
		    VPNR_ERR_IN_CALLBACK);
	} else if (ev->type == VPNR_TUNNEL_EV_REKEYED) {
		s->cb_rv = vpnr_tunnel_close(s->ctx, s->tunnel_id, s->w->now);
	}
	return VPNR_OK;
}

static void
test_calls_inside_callbacks(void **state)
{
	struct ikew w;

	assert_int_equal(ikew_init(&w, 75, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	w.s[0].on_event = rekey_on_child_up;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 10 * VPNR_SECONDS);
	assert_int_equal(w.s[0].cb_rv, VPNR_OK);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_REKEYED), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 1);
	assert_non_null(ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN));
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 0);
	ikew_free(&w);
}

static void
test_ipv6(void **state)
{
	struct ikew w;
	int i;

	assert_int_equal(ikew_init(&w, 80, 64), VPNR_OK);
	vpnr_addr_parse(&w.s[0].addr, "2001:db8::1");
	vpnr_addr_parse(&w.s[1].addr, "2001:db8:1::2");
	for (i = 0; i < 2; i++)
		assert_int_equal(vpnr_tunnel_config_set_addrs(w.s[i].tc,
				     &w.s[i].addr, &w.s[!i].addr),
		    VPNR_OK);
	vpnr_tunnel_config_set_force_encap(w.s[0].tc, 1);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	assert_int_equal(ikew_check_pairs(&w), 1);
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (w.s[0].sas[i].live)
			assert_int_equal(w.s[0].sas[i].src.family,
			    VPNR_AF_INET6);
	ikew_free(&w);
}

static void
test_async_dataplane(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;

	assert_int_equal(ikew_init(&w, 81, 64), VPNR_OK);
	w.s[0].dp_async = w.s[1].dp_async = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	/* The responder holds its IKE_AUTH answer for its pair. */
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_complete(&w, 1, VPNR_OK), 2);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 1);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_complete(&w, 0, VPNR_OK), 2);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	assert_true(ikew_pred_up(&w, NULL));
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	/* The responder's data plane fails the new pair: it answers
	 * TEMPORARY_FAILURE and both keep the old pair. */
	assert_int_equal(ikew_complete(&w, 1, VPNR_ERR_DATAPLANE), 2);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ev = ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	assert_int_equal(ev->notify, 43);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    0);
	ikew_free(&w);
}

static void
test_two_tunnels_one_peer(void **state)
{
	struct ikew w;
	vpnr_tunnel_config *tc2;
	uint64_t t2;
	vpnr_tunnel_info i1, i2;

	assert_int_equal(ikew_init(&w, 82, 64), VPNR_OK);
	vpnr_tunnel_config_set_local_id(w.s[0].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"site-b", 6);
	vpnr_tunnel_config_set_remote_id(w.s[1].tc, VPNR_ID_FQDN,
	    (const uint8_t *)"site-a", 6);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	/* A second tunnel to the same address, for identity site-b. */
	assert_int_equal(vpnr_tunnel_config_new(&tc2, NULL), VPNR_OK);
	vpnr_tunnel_config_set_addrs(tc2, &w.s[1].addr, &w.s[0].addr);
	vpnr_tunnel_config_set_psk(tc2, (const uint8_t *)"test-psk", 8);
	vpnr_tunnel_config_set_remote_id(tc2, VPNR_ID_FQDN,
	    (const uint8_t *)"site-b", 6);
	assert_int_equal(vpnr_tunnel_add(w.s[1].ctx, tc2, NULL, &t2), VPNR_OK);
	vpnr_tunnel_config_del(tc2);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	assert_int_equal(vpnr_tunnel_get_info(w.s[1].ctx, w.s[1].tunnel_id,
			     &i1),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_get_info(w.s[1].ctx, t2, &i2), VPNR_OK);
	assert_int_equal(i1.state, VPNR_TUNNEL_IDLE);
	assert_int_equal(i2.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static void
test_peer_on_natt_port(void **state)
{
	struct ikew w;
	vpnr_tunnel_info inf;
	vpnr_addr r;
	int i;

	assert_int_equal(ikew_init(&w, 83, 64), VPNR_OK);
	r = w.s[1].addr;
	r.port = 4500;
	vpnr_tunnel_config_set_addrs(w.s[0].tc, &w.s[0].addr, &r);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	/* IKE ran 4500 -> 4500 from IKE_SA_INIT on; without NAT, ESP is
	 * not encapsulated (RFC 7296 2.23), on both sides alike. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_info(&w, i, &inf), VPNR_OK);
		assert_int_equal(inf.local.port, 4500);
		assert_int_equal(inf.remote.port, 4500);
		assert_int_equal(inf.nat_flags, 0);
	}
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (w.s[1].sas[i].live)
			assert_false(w.s[1].sas[i].flags & VPNR_SA_F_UDP_ENCAP);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(w.s[1].recv_errors, 0);
	ikew_free(&w);
}

static void
test_dpd_both_ways(void **state)
{
	struct ikew w;
	uint64_t s0, s1;

	assert_int_equal(ikew_init(&w, 84, 64), VPNR_OK);
	vpnr_tunnel_config_set_dpd(w.s[0].tc, 10 * VPNR_SECONDS,
	    VPNR_DPD_ACTION_RESTART);
	vpnr_tunnel_config_set_dpd(w.s[1].tc, 2 * VPNR_SECONDS,
	    VPNR_DPD_ACTION_RESTART);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
	s0 = w.s[0].sent;
	s1 = w.s[1].sent;
	ikew_advance(&w, 100 * VPNR_SECONDS);
	/* Side 1 probes every 2 s and side 0 answers each: any
	 * authenticated message is proof of life, so side 0, which
	 * hears side 1 all the time, never probes. */
	assert_true(w.s[1].sent - s1 >= 48);
	assert_int_equal(w.s[0].sent - s0, w.s[1].sent - s1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 0);
	ikew_free(&w);
}

/* Simultaneous rekeys with 25 % loss, duplication and reordering. */
static void
lossy_collisions(uint32_t what)
{
	struct ikew w;
	vpnr_tunnel_info a, b;
	uint64_t seed;

	for (seed = 1; seed < 25; seed++) {
		assert_int_equal(ikew_init(&w, seed, 64), VPNR_OK);
		assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
		assert_true(ikew_bring_up(&w, 10 * VPNR_SECONDS));
		w.loss_pct = 25;
		w.dup_pct = 15;
		w.reorder_pct = 15;
		vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id, what, w.now);
		vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id, what, w.now);
		ikew_advance(&w, 200 * VPNR_SECONDS);
		w.loss_pct = w.dup_pct = w.reorder_pct = 0;
		ikew_advance(&w, 400 * VPNR_SECONDS);
		assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
		assert_int_equal(ikew_info(&w, 1, &b), VPNR_OK);
		if (ikew_check_pairs(&w) != 1 || a.spi_i != b.spi_i ||
		    a.state != VPNR_TUNNEL_ESTABLISHED ||
		    b.state != VPNR_TUNNEL_ESTABLISHED ||
		    ikew_count_sa(&w.s[0], VPNR_DIR_IN) != 1 ||
		    ikew_count_sa(&w.s[1], VPNR_DIR_IN) != 1)
			fail_msg("rekey %u, seed %llu: inconsistent", what,
			    (unsigned long long)seed);
		ikew_free(&w);
	}
}

static void
test_lossy_collision_child(void **state)
{
	lossy_collisions(VPNR_REKEY_CHILD);
}

static void
test_lossy_collision_ike(void **state)
{
	lossy_collisions(VPNR_REKEY_IKE);
	lossy_collisions(VPNR_REKEY_IKE | VPNR_REKEY_CHILD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_builder),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_invalid_ke),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_esp_no_proposal),
		cmocka_unit_test(test_ts_unacceptable),
		cmocka_unit_test(test_ts_narrowing),
		cmocka_unit_test(test_fqdn_ids),
		cmocka_unit_test(test_rekey_child_initiator),
		cmocka_unit_test(test_rekey_child_responder),
		cmocka_unit_test(test_rekey_ike_initiator),
		cmocka_unit_test(test_rekey_ike_responder),
		cmocka_unit_test(test_collision_child),
		cmocka_unit_test(test_collision_ike),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_dpd_timeout_restart),
		cmocka_unit_test(test_retransmit_limit),
		cmocka_unit_test(test_duplicate_request),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_dp_expiry),
		cmocka_unit_test(test_crossed_initiation),
		cmocka_unit_test(test_calls_inside_callbacks),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_async_dataplane),
		cmocka_unit_test(test_two_tunnels_one_peer),
		cmocka_unit_test(test_peer_on_natt_port),
		cmocka_unit_test(test_dpd_both_ways),
		cmocka_unit_test(test_lossy_collision_child),
		cmocka_unit_test(test_lossy_collision_ike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
