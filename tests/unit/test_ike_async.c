/*
 * The data-plane contract of the IKE engine (issue 13): CHILD_UP,
 * CHILD_REKEYED and the responder's answer follow the completion of
 * every install op; a rekey switches over and deletes the old pair only
 * after the new one is in (make-before-break); a failed install takes
 * one path whether it failed at once or later; vpnr_dp_complete() is
 * legal inside the op's own callback and its continuation runs after
 * the callback; replayed ops go through the same table; policies per
 * CHILD_SA; the peer's NAT-T port; deletes from inside callbacks.
 * Every test asserts the order of ops and events in the trace.
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
initiate(struct ikew *w, int i)
{
	assert_int_equal(vpnr_tunnel_initiate(w->s[i].ctx, w->s[i].tunnel_id,
			     w->now),
	    VPNR_OK);
}

/* Bring the tunnel up, completing pending ops from the "loop". */
static void
up_async(struct ikew *w)
{
	int k;

	initiate(w, 0);
	for (k = 0; k < 100 && !ikew_pred_up(w, NULL); k++) {
		ikew_advance(w, 100 * VPNR_MILLISECONDS);
		ikew_complete(w, 1, VPNR_OK);
		ikew_complete(w, 0, VPNR_OK);
	}
	ikew_advance(w, 100 * VPNR_MILLISECONDS);
	assert_true(ikew_pred_up(w, NULL));
}

/* Last index of a trace entry of kind at or after from, or -1. */
static int
trace_last(const struct ikew_side *s, char kind, uint32_t type, int from)
{
	int i, last = -1;

	for (i = from; (i = ikew_trace_find(s, kind, type, i)) >= 0; i++)
		last = i;
	return last;
}

static void
test_initiator_child_up_after_both(void **state)
{
	struct ikew w;
	vpnr_tunnel_info inf;
	int up, c2;

	(void)state;
	assert_int_equal(ikew_init(&w, 1301, 64), VPNR_OK);
	w.s[0].dp_async = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(w.s[0].n_pending, 2);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(vpnr_tunnel_get_info(w.s[0].ctx, w.s[0].tunnel_id,
			     &inf),
	    VPNR_OK);
	assert_int_equal(inf.child_spi_in, 0); /* not installed yet */
	assert_int_equal(ikew_complete_one(&w, 0, VPNR_OK), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_complete_one(&w, 0, VPNR_OK), 1);
	up = ikew_trace_find(&w.s[0], IKEW_T_EVENT, VPNR_TUNNEL_EV_CHILD_UP, 0);
	c2 = trace_last(&w.s[0], IKEW_T_COMPLETE, 0, 0);
	assert_true(up > c2 && c2 > 0);
	assert_true(ikew_pred_up(&w, NULL));
	/* Completing again is an unknown op. */
	assert_int_equal(vpnr_dp_complete(w.s[0].ctx, w.s[0].trace[c2].id,
			     VPNR_OK, w.now),
	    VPNR_ERR_NOT_FOUND);
	ikew_free(&w);
}

static void
test_responder_holds_answer(void **state)
{
	struct ikew w;
	int up;

	(void)state;
	assert_int_equal(ikew_init(&w, 1302, 64), VPNR_OK);
	w.s[1].dp_async = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, 500 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[1].n_pending, 2);
	assert_int_equal(w.s[1].sent, 1); /* IKE_SA_INIT answer only */
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 0);
	/* Retransmitted IKE_AUTH requests get no answer meanwhile. */
	ikew_advance(&w, 3500 * VPNR_MILLISECONDS);
	assert_true(w.s[0].sent >= 4);
	assert_int_equal(w.s[1].sent, 1);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(ikew_complete(&w, 1, VPNR_OK), 2);
	assert_int_equal(w.s[1].sent, 2);
	up = ikew_trace_find(&w.s[1], IKEW_T_EVENT, VPNR_TUNNEL_EV_CHILD_UP, 0);
	assert_true(up > trace_last(&w.s[1], IKEW_T_COMPLETE, 0, 0));
	ikew_advance(&w, 100 * VPNR_MILLISECONDS);
	assert_true(ikew_pred_up(&w, NULL));
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	ikew_free(&w);
}

/* One side rekeys the CHILD_SA; both data planes are slow. */
static void
rekey_make_before_break(struct ikew *w, int ini)
{
	struct ikew_side *a = &w->s[ini], *b = &w->s[!ini];
	int ma = a->n_trace, mb = b->n_trace, rk, del, k;
	int rka = ikew_count_ev(a, VPNR_TUNNEL_EV_CHILD_REKEYED);
	int rkb = ikew_count_ev(b, VPNR_TUNNEL_EV_CHILD_REKEYED);

	assert_int_equal(vpnr_tunnel_rekey(a->ctx, a->tunnel_id,
			     VPNR_REKEY_CHILD, w->now),
	    VPNR_OK);
	ikew_advance(w, 200 * VPNR_MILLISECONDS);
	/* The responder installs and holds its answer. */
	assert_int_equal(b->n_pending, 2);
	assert_int_equal(ikew_count_ev(b, VPNR_TUNNEL_EV_CHILD_REKEYED), rkb);
	assert_int_equal(ikew_complete(w, !ini, VPNR_OK), 2);
	assert_int_equal(ikew_count_ev(b, VPNR_TUNNEL_EV_CHILD_REKEYED),
	    rkb + 1);
	ikew_advance(w, 100 * VPNR_MILLISECONDS);
	/* The initiator installs; the old pair stays until it is in. */
	assert_int_equal(a->n_pending, 2);
	assert_int_equal(ikew_count_sa(a, VPNR_DIR_IN), 2);
	assert_int_equal(ikew_trace_find(a, IKEW_T_DEL, 0, ma), -1);
	assert_int_equal(ikew_complete_one(w, ini, VPNR_OK), 1);
	assert_int_equal(ikew_count_ev(a, VPNR_TUNNEL_EV_CHILD_REKEYED), rka);
	assert_int_equal(ikew_trace_find(a, IKEW_T_DEL, 0, ma), -1);
	assert_int_equal(ikew_complete_one(w, ini, VPNR_OK), 1);
	assert_int_equal(ikew_count_ev(a, VPNR_TUNNEL_EV_CHILD_REKEYED),
	    rka + 1);
	rk = trace_last(a, IKEW_T_EVENT, VPNR_TUNNEL_EV_CHILD_REKEYED, ma);
	for (k = 0; k < 20 && ikew_count_sa(a, VPNR_DIR_IN) > 1; k++)
		ikew_advance(w, 100 * VPNR_MILLISECONDS);
	del = ikew_trace_find(a, IKEW_T_DEL, 0, ma);
	assert_true(del > rk && rk > trace_last(a, IKEW_T_COMPLETE, 0, ma));
	/* The responder deleted its old pair only after its new one. */
	del = ikew_trace_find(b, IKEW_T_DEL, 0, mb);
	assert_true(del > trace_last(b, IKEW_T_COMPLETE, 0, mb));
	assert_int_equal(ikew_count_sa(a, VPNR_DIR_IN), 1);
	assert_int_equal(ikew_count_sa(b, VPNR_DIR_IN), 1);
	assert_int_equal(ikew_check_pairs(w), 1);
}

static void
test_rekeys_make_before_break(void **state)
{
	struct ikew w;
	int m0;

	(void)state;
	assert_int_equal(ikew_init(&w, 1303, 64), VPNR_OK);
	w.s[0].dp_async = w.s[1].dp_async = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	up_async(&w);
	rekey_make_before_break(&w, 0);
	rekey_make_before_break(&w, 1);
	/* IKE rekeys from both sides leave the data plane alone. */
	m0 = w.s[0].n_trace;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_IKE, w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id,
			     VPNR_REKEY_IKE, w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_REKEYED), 2);
	assert_int_equal(ikew_trace_find(&w.s[0], IKEW_T_ADD, 0, m0), -1);
	assert_int_equal(ikew_trace_find(&w.s[0], IKEW_T_DEL, 0, m0), -1);
	/* And CHILD rekeys still work over the new IKE SA. */
	rekey_make_before_break(&w, 0);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 0);
	ikew_free(&w);
}

/* A CHILD_UP, if any, comes after the DOWN of the IKE SA whose
 * install failed (it belongs to the reconnect). */
static int
first_child_up_after_down(const struct ikew_side *s)
{
	int up = ikew_trace_find(s, IKEW_T_EVENT, VPNR_TUNNEL_EV_CHILD_UP, 0);
	int down = ikew_trace_find(s, IKEW_T_EVENT, VPNR_TUNNEL_EV_DOWN, 0);

	return up < 0 || (down >= 0 && up > down);
}

/* The initiator gives up at its first failure (every failure is
 * retried, and the test looks at the failed attempt). */
static int
close_on_failed(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	if (ev->type == VPNR_TUNNEL_EV_FAILED)
		s->cb_rv = vpnr_tunnel_close(s->ctx, s->tunnel_id, s->w->now);
	return VPNR_OK;
}

/*
 * The first install fails (at once, or later): the events on the
 * initiator must be the same, the IKE SA goes and the tunnel
 * reconnects.
 */
static int
failed_install_events(int sync, uint32_t *types, int32_t *reasons, int max)
{
	struct ikew w;
	int i, n;

	assert_int_equal(ikew_init(&w, 1304, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	if (sync) {
		w.s[0].fail_at = 1;
		w.s[0].fail_mode = IKEW_DP_FAIL;
	} else {
		w.s[0].dp_async = 1;
	}
	initiate(&w, 0);
	ikew_advance(&w, 500 * VPNR_MILLISECONDS);
	if (!sync) {
		assert_int_equal(w.s[0].n_pending, 2);
		assert_int_equal(ikew_complete_one(&w, 0, VPNR_ERR_LIMIT), 1);
		/* The other op's late success changes nothing. */
		assert_int_equal(ikew_complete_one(&w, 0, VPNR_OK), 1);
		w.s[0].dp_async = 0;
	}
	/* No CHILD_UP for the failed pair: the first one is the
	 * reconnect's (which may already have run: it starts within
	 * 0.5 s), after the failed IKE SA's DOWN. */
	assert_true(first_child_up_after_down(&w.s[0]));
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 30 * VPNR_SECONDS));
	ikew_advance(&w, 100 * VPNR_MILLISECONDS);
	/* The peer lost the IKE SA with its half of the CHILD_SA. */
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 1);
	assert_int_equal(ikew_check_pairs(&w), 1);
	n = w.s[0].n_ev < max ? w.s[0].n_ev : max;
	for (i = 0; i < n; i++) {
		types[i] = w.s[0].ev[i].type;
		reasons[i] = w.s[0].ev[i].reason;
	}
	ikew_free(&w);
	return n;
}

static void
test_failed_install_one_path(void **state)
{
	uint32_t ta[16], tb[16];
	int32_t ra[16], rb[16];
	int na, nb, i;
	static const uint32_t want[] = { VPNR_TUNNEL_EV_UP,
		VPNR_TUNNEL_EV_FAILED, VPNR_TUNNEL_EV_DOWN, VPNR_TUNNEL_EV_UP,
		VPNR_TUNNEL_EV_CHILD_UP };

	(void)state;
	na = failed_install_events(1, ta, ra, 16);
	nb = failed_install_events(0, tb, rb, 16);
	assert_int_equal(na, 5);
	assert_int_equal(nb, na);
	for (i = 0; i < na; i++) {
		assert_int_equal(ta[i], want[i]);
		assert_int_equal(tb[i], ta[i]);
		assert_int_equal(rb[i], ra[i]);
	}
	assert_int_equal(ra[1], VPNR_ERR_DATAPLANE);
	assert_int_equal(ra[2], VPNR_ERR_DATAPLANE);
}

static void
test_complete_inside_own_op(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;

	(void)state;
	/* Completed with success inside its own sa_add. */
	assert_int_equal(ikew_init(&w, 1305, 64), VPNR_OK);
	w.s[0].fail_at = 1;
	w.s[0].fail_mode = IKEW_DP_INSIDE;
	w.s[0].inside_status = VPNR_OK;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	assert_int_equal(w.s[0].inside_rv, VPNR_OK);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	ikew_free(&w);

	/* A failure completed inside the second sa_add is not lost. */
	assert_int_equal(ikew_init(&w, 1306, 64), VPNR_OK);
	w.s[0].fail_at = 2;
	w.s[0].fail_mode = IKEW_DP_INSIDE;
	w.s[0].inside_status = VPNR_ERR_DATAPLANE;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(w.s[0].inside_rv, VPNR_OK);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	assert_true(first_child_up_after_down(&w.s[0]));
	/* ... and the reconnect brings the tunnel back. */
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 30 * VPNR_SECONDS));
	ikew_free(&w);
}

/* Completing another op inside a callback runs nothing at once. */
static void
test_complete_other_inside_callback(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	int f;

	(void)state;
	assert_int_equal(ikew_init(&w, 1307, 64), VPNR_OK);
	/* The first sa_add answers ASYNC; the second completes the
	 * first, failed, from inside its own callback. */
	w.s[0].dp_async = 1;
	w.s[0].fail_at = 2;
	w.s[0].fail_mode = IKEW_DP_OTHER;
	w.s[0].inside_status = VPNR_ERR_DATAPLANE;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, 300 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[0].inside_rv, VPNR_OK);
	assert_int_equal(w.s[0].inside_ran, 0); /* nothing ran inside */
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	/* The failure ran after the op's callback returned: the
	 * FAILED event follows the second sa_add in the trace. */
	f = ikew_trace_find(&w.s[0], IKEW_T_EVENT, VPNR_TUNNEL_EV_FAILED, 0);
	assert_true(f > trace_last(&w.s[0], IKEW_T_ADD, 0, 0));
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 0);
	ikew_complete(&w, 0, VPNR_OK);
	w.s[0].dp_async = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 30 * VPNR_SECONDS));
	ikew_free(&w);
}

static void
test_policies_per_child(void **state)
{
	struct ikew w;
	struct ikew_side *s;
	int i, p_in = 0, p_out = 0, m, first_q, last_q, first_d, new_p;
	uint64_t out_sa = 0;

	(void)state;
	assert_int_equal(ikew_init(&w, 1308, 64), VPNR_OK);
	s = &w.s[0];
	s->dp_policies = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	for (i = 0; i < s->n_trace; i++) {
		if (s->trace[i].kind == IKEW_T_ADD &&
		    s->trace[i].dir == VPNR_DIR_OUT)
			out_sa = s->trace[i].id;
		if (s->trace[i].kind != IKEW_T_POL_ADD)
			continue;
		if (s->trace[i].dir == VPNR_DIR_OUT) {
			p_out++;
			assert_int_equal(s->trace[i].spi, (uint32_t)out_sa);
		} else {
			p_in++;
			assert_int_equal(s->trace[i].spi, 0);
		}
	}
	/* 0.0.0.0/0 === 0.0.0.0/0: one policy each way, after the SAs. */
	assert_int_equal(p_in, 1);
	assert_int_equal(p_out, 1);
	assert_true(ikew_trace_find(s, IKEW_T_POL_ADD, 0, 0) >
	    ikew_trace_find(s, IKEW_T_ADD, 0, 0));
	/* A rekey adds the new policies before the old ones go. */
	m = s->n_trace;
	assert_int_equal(vpnr_tunnel_rekey(s->ctx, s->tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	new_p = ikew_trace_find(s, IKEW_T_POL_ADD, 0, m);
	first_q = ikew_trace_find(s, IKEW_T_POL_DEL, 0, m);
	last_q = trace_last(s, IKEW_T_POL_DEL, 0, m);
	first_d = ikew_trace_find(s, IKEW_T_DEL, 0, m);
	assert_true(new_p >= 0 && first_q > new_p);
	/* Policies leave before their SAs. */
	assert_true(first_d > last_q);
	/* Closing removes the rest, policies first. */
	m = s->n_trace;
	assert_int_equal(vpnr_tunnel_close(s->ctx, s->tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, VPNR_SECONDS);
	assert_true(ikew_trace_find(s, IKEW_T_POL_DEL, 0, m) >= 0);
	assert_true(ikew_trace_find(s, IKEW_T_DEL, 0, m) >
	    trace_last(s, IKEW_T_POL_DEL, 0, m));
	ikew_free(&w);
}

static int natt_auth_seen, natt_auth_port, natt_auth_from;

static void
natt_deliver(struct ikew *w, const struct ikew_pkt *p)
{
	(void)w;
	/* The first datagram to side 1 on a NAT-T port is IKE_AUTH. */
	if (p->to == 1 && !natt_auth_seen && p->local.port != 500) {
		natt_auth_seen = 1;
		natt_auth_port = p->local.port;
		natt_auth_from = p->remote.port;
	}
}

static void
test_peer_natt_port(void **state)
{
	static const uint16_t ports[4] = { 500, 4500, 500, 4501 };
	struct ikew w;
	int i, found = 0;

	(void)state;
	assert_int_equal(ikew_init_ports(&w, 1309, 64, ports), VPNR_OK);
	/* Forced encapsulation; the peer listens for NAT-T on 4501. */
	assert_int_equal(vpnr_tunnel_config_set_force_encap(w.s[0].tc, 1),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_peer_ports(w.s[0].tc, 500,
			     4501),
	    VPNR_OK);
	/* Setting the addresses again leaves the peer's ports alone. */
	assert_int_equal(vpnr_tunnel_config_set_addrs(w.s[0].tc, &w.s[0].addr,
			     &w.s[1].addr),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_peer_ports(w.s[1].tc, 0, 4500),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_peer_ports(NULL, 0, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	natt_auth_seen = 0;
	w.on_deliver = natt_deliver;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	assert_true(natt_auth_seen);
	assert_int_equal(natt_auth_port, 4501); /* the peer's, not ours */
	assert_int_equal(natt_auth_from, 4500);
	/* ESP-in-UDP SAs carry both ports. */
	for (i = 0; i < IKEW_MAX_SA; i++) {
		const struct ikew_sa *x = &w.s[0].sas[i];

		if (!x->live || x->dir != VPNR_DIR_OUT)
			continue;
		assert_true(x->flags & VPNR_SA_F_UDP_ENCAP);
		assert_int_equal(x->src.port, 4500);
		assert_int_equal(x->dst.port, 4501);
		found++;
	}
	assert_int_equal(found, 1);
	ikew_free(&w);
}

/* Our NAT-T port is not the peer's, and nothing is configured: the
 * float goes to the standard peer's 4500, from our 4501. */
static void
test_natt_default_peer_port(void **state)
{
	static const uint16_t ports[4] = { 500, 4501, 500, 4500 };
	struct ikew w;

	(void)state;
	assert_int_equal(ikew_init_ports(&w, 1316, 64, ports), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_force_encap(w.s[0].tc, 1),
	    VPNR_OK);
	natt_auth_seen = 0;
	w.on_deliver = natt_deliver;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	assert_true(natt_auth_seen);
	assert_int_equal(natt_auth_port, 4500);
	assert_int_equal(natt_auth_from, 4501);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static int del_rv, del_info_rv, del_again_rv;

static int
del_on_child_up(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	vpnr_tunnel_info inf;

	if (ev->type != VPNR_TUNNEL_EV_CHILD_UP)
		return VPNR_OK;
	del_rv = vpnr_tunnel_del(s->ctx, s->tunnel_id, s->w->now);
	/* Unknown at once, still inside the callback. */
	del_info_rv = vpnr_tunnel_get_info(s->ctx, s->tunnel_id, &inf);
	del_again_rv = vpnr_tunnel_del(s->ctx, s->tunnel_id, s->w->now);
	return VPNR_OK;
}

static void
test_tunnel_del_inside_callback(void **state)
{
	struct ikew w;
	vpnr_tunnel_info inf;

	(void)state;
	assert_int_equal(ikew_init(&w, 1310, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	del_rv = -1;
	w.s[0].on_event = del_on_child_up;
	initiate(&w, 0);
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(del_rv, VPNR_OK); /* queued, not refused */
	assert_int_equal(del_info_rv, VPNR_ERR_NOT_FOUND);
	assert_int_equal(del_again_rv, VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_tunnel_get_info(w.s[0].ctx, w.s[0].tunnel_id,
			     &inf),
	    VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_tunnel_del(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_ERR_NOT_FOUND);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	/* Its end was reported, once, as a close's. */
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 1);
	assert_int_equal(w.s[0].ev[w.s[0].n_ev - 1].type, VPNR_TUNNEL_EV_DOWN);
	assert_int_equal(w.s[0].ev[w.s[0].n_ev - 1].reason,
	    VPNR_ERR_LOCAL_CLOSE);
	/* The peer was told. */
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 1);
	ikew_free(&w);
}

static void
test_replay_through_table(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	int n;

	(void)state;
	assert_int_equal(ikew_init(&w, 1311, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	/* The restarted data plane completes replayed ops later. */
	w.s[0].dp_async = 1;
	assert_int_equal(vpnr_dp_replay(w.s[0].ctx, w.now), VPNR_OK);
	assert_int_equal(w.s[0].n_pending, 2);
	n = w.s[0].n_pending;
	while (w.s[0].n_pending > 0)
		assert_int_equal(ikew_complete_one(&w, 0, VPNR_OK), 1);
	assert_int_equal(n, 2);
	assert_null(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED));
	/* A replayed op that fails takes the CHILD_SA down. */
	assert_int_equal(vpnr_dp_replay(w.s[0].ctx, w.now), VPNR_OK);
	assert_int_equal(ikew_complete_one(&w, 0, VPNR_ERR_DATAPLANE), 1);
	ikew_complete(&w, 0, VPNR_OK);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	w.s[0].dp_async = 0;
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 1);
	/* ... and the tunnel reconnects. */
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 30 * VPNR_SECONDS));
	ikew_free(&w);
}

/* Closing while an answer waits for the data plane: not stuck. */
static void
test_close_while_answer_held(void **state)
{
	struct ikew w;
	vpnr_tunnel_info inf;
	const struct ikew_ev *ev;

	(void)state;
	assert_int_equal(ikew_init(&w, 1312, 64), VPNR_OK);
	w.s[1].dp_async = 1;
	w.s[0].on_event = close_on_failed;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, 500 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[1].n_pending, 2);
	assert_int_equal(vpnr_tunnel_close(w.s[1].ctx, w.s[1].tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	/* The initiator got the TEMPORARY_FAILURE answer, then DELETE. */
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->notify, 43);
	assert_int_equal(vpnr_tunnel_get_info(w.s[1].ctx, w.s[1].tunnel_id,
			     &inf),
	    VPNR_OK);
	assert_int_equal(inf.state, VPNR_TUNNEL_IDLE);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 0);
	/* Late completions of the removed pair are ignored. */
	ikew_complete(&w, 1, VPNR_OK);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	ikew_free(&w);
}

/*
 * CHILD_UP / CHILD_REKEYED name a pair only once every op of it
 * completed: counts events that name a pair with an op still pending.
 */
static int early_events;

static int
check_event_installed(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	int k;

	if (ev->type != VPNR_TUNNEL_EV_CHILD_UP &&
	    ev->type != VPNR_TUNNEL_EV_CHILD_REKEYED)
		return VPNR_OK;
	for (k = 0; k < s->n_pending; k++)
		if (s->pending_sa[k] >= 0 &&
		    (s->sas[s->pending_sa[k]].sa_id == ev->sa_id ||
			s->sas[s->pending_sa[k]].sa_id == ev->sa_id + 1))
			early_events++;
	return VPNR_OK;
}

static int
settled(struct ikew *w, void *arg)
{
	(void)arg;
	return w->s[0].n_pending == 0 && w->s[1].n_pending == 0 &&
	    ikew_count_sa(&w->s[0], VPNR_DIR_IN) == 1 &&
	    ikew_count_sa(&w->s[1], VPNR_DIR_IN) == 1 && ikew_pred_up(w, NULL);
}

/*
 * Both sides rekey the CHILD_SA at once (RFC 7296 2.8.1) while the
 * data plane of side 1 (both = 0) or of both sides completes every op
 * 100 ms late: whichever side wins, each side reports one
 * CHILD_REKEYED, after the pair it names is installed; one pair stays;
 * and the IKE SA still works (a later rekey).
 */
static void
crossed_rekey(uint64_t seed, int both)
{
	struct ikew w;
	int k, i, m0;

	assert_int_equal(ikew_init(&w, seed, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	early_events = 0;
	w.s[0].on_event = w.s[1].on_event = check_event_installed;
	w.s[1].dp_async = 1;
	w.s[0].dp_async = both;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 50 * VPNR_MILLISECONDS);
	for (k = 0; k < 400 && !settled(&w, NULL); k++) {
		ikew_advance(&w, 100 * VPNR_MILLISECONDS);
		for (i = 0; i < 2; i++)
			while (ikew_complete_one(&w, i, VPNR_OK) == 1)
				;
	}
	assert_true(settled(&w, NULL));
	assert_int_equal(early_events, 0);
	assert_int_equal(ikew_check_pairs(&w), 1);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_count_ev(&w.s[i], VPNR_TUNNEL_EV_DOWN),
		    0);
		assert_int_equal(ikew_count_ev(&w.s[i], VPNR_TUNNEL_EV_FAILED),
		    0);
		assert_int_equal(ikew_count_ev(&w.s[i],
				     VPNR_TUNNEL_EV_CHILD_REKEYED),
		    1);
		assert_int_equal(ikew_count_ev(&w.s[i],
				     VPNR_TUNNEL_EV_CHILD_DOWN),
		    0);
	}
	/* The IKE SA is not stuck: another rekey goes through. */
	w.s[0].dp_async = w.s[1].dp_async = 0;
	m0 = ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED);
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    m0 + 1);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static void
test_crossed_rekey_slow_dataplane(void **state)
{
	uint64_t seed;

	(void)state;
	for (seed = 40; seed < 52; seed++) {
		crossed_rekey(seed, 0);
		crossed_rekey(seed, 1);
	}
}

/* The responder's install fails later: its held answer becomes
 * TEMPORARY_FAILURE (one failure path), and the tunnel comes back. */
static void
test_responder_install_fails(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;

	(void)state;
	assert_int_equal(ikew_init(&w, 1313, 64), VPNR_OK);
	w.s[1].dp_async = 1;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, 500 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[1].n_pending, 2);
	assert_int_equal(ikew_complete_one(&w, 1, VPNR_ERR_DATAPLANE), 1);
	ikew_advance(&w, 100 * VPNR_MILLISECONDS);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->notify, 43); /* TEMPORARY_FAILURE */
	ev = ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	assert_int_equal(ev->notify, 43);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	/* The other op's late success changes nothing. */
	assert_int_equal(ikew_complete_one(&w, 1, VPNR_OK), 1);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	w.s[1].dp_async = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 30 * VPNR_SECONDS));
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/* Ops never completed: the install misses its deadline and takes the
 * same failure path (VPNR_ERR_TIMEOUT), instead of holding the IKE SA. */
static void
test_install_deadline(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;

	(void)state;
	assert_int_equal(ikew_init(&w, 1314, 64), VPNR_OK);
	w.s[1].dp_async = 1;
	w.s[0].on_event = close_on_failed;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	ikew_advance(&w, 5 * VPNR_SECONDS);
	assert_null(ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_FAILED));
	ikew_advance(&w, 6 * VPNR_SECONDS);
	assert_int_equal(w.s[1].n_pending, 2); /* the host never answered */
	ev = ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->notify, 43);
	/* Completions after the deadline are ignored. */
	assert_int_equal(ikew_complete(&w, 1, VPNR_OK), 2);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_UP), 0);
	/* An error notify in IKE_AUTH leaves the initiator down: the
	 * IKE SA is gone on both sides, and a new attempt works. */
	w.s[1].dp_async = 0;
	ikew_advance(&w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 1);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	ikew_free(&w);
}

/* While an answer waits for the data plane, our requests about other
 * things (here DPD) still go out. */
static void
test_dpd_while_answer_held(void **state)
{
	struct ikew w;
	uint64_t sent;

	(void)state;
	assert_int_equal(ikew_init(&w, 1315, 64), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_dpd(w.s[1].tc, 2 * VPNR_SECONDS,
			     VPNR_DPD_ACTION_RESTART),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	w.s[1].dp_async = 1;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 200 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[1].n_pending, 2);
	sent = w.s[1].sent;
	ikew_advance(&w, 3 * VPNR_SECONDS);
	assert_int_equal(w.s[1].n_pending, 2); /* still held */
	assert_true(w.s[1].sent > sent);       /* a DPD request */
	assert_int_equal(ikew_complete(&w, 1, VPNR_OK), 2);
	w.s[1].dp_async = 0;
	ikew_advance(&w, 2 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/*
 * An install op of a rekey fails (side 'fail' is the rekey's initiator
 * or responder): the old pair stays in use on both sides, the tunnel
 * stays up, and a later rekey works.
 */
static void
failed_rekey_install(int fail)
{
	struct ikew w;
	const struct ikew_ev *ev;
	int m;

	assert_int_equal(ikew_init(&w, 1317 + (uint64_t)fail, 64), VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	initiate(&w, 0);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * VPNR_SECONDS));
	w.s[fail].dp_async = 1;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 200 * VPNR_MILLISECONDS);
	assert_int_equal(w.s[fail].n_pending, 2);
	assert_int_equal(ikew_complete_one(&w, fail, VPNR_ERR_DATAPLANE), 1);
	assert_int_equal(ikew_complete_one(&w, fail, VPNR_OK), 1);
	w.s[fail].dp_async = 0;
	ikew_advance(&w, 2 * VPNR_SECONDS);
	ev = ikew_last_ev(&w.s[fail], VPNR_TUNNEL_EV_FAILED);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DATAPLANE);
	if (fail == 1) /* the held answer became TEMPORARY_FAILURE */
		assert_int_equal(ev->notify, 43);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    0);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(ikew_count_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN), 0);
	assert_true(ikew_pred_up(&w, NULL));
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_count_sa(&w.s[1], VPNR_DIR_IN), 1);
	assert_int_equal(ikew_check_pairs(&w), 1);
	/* The old pair is rekeyed again later. */
	m = ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED);
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    m + 1);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

static void
test_failed_rekey_install(void **state)
{
	(void)state;
	failed_rekey_install(0);
	failed_rekey_install(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initiator_child_up_after_both),
		cmocka_unit_test(test_responder_holds_answer),
		cmocka_unit_test(test_rekeys_make_before_break),
		cmocka_unit_test(test_failed_install_one_path),
		cmocka_unit_test(test_complete_inside_own_op),
		cmocka_unit_test(test_complete_other_inside_callback),
		cmocka_unit_test(test_policies_per_child),
		cmocka_unit_test(test_peer_natt_port),
		cmocka_unit_test(test_natt_default_peer_port),
		cmocka_unit_test(test_tunnel_del_inside_callback),
		cmocka_unit_test(test_replay_through_table),
		cmocka_unit_test(test_close_while_answer_held),
		cmocka_unit_test(test_crossed_rekey_slow_dataplane),
		cmocka_unit_test(test_responder_install_fails),
		cmocka_unit_test(test_install_deadline),
		cmocka_unit_test(test_dpd_while_answer_held),
		cmocka_unit_test(test_failed_rekey_install),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
