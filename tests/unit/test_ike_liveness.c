/*
 * Liveness, reconnects and the events that report them: our engine
 * against our engine (helpers/ike_wire.c) on a fake clock.  Dead peers
 * are declared at the configured time, busy or lossy live peers never;
 * every failure is retried with a jittered, capped backoff; DOWN and
 * CHILD_DOWN say why, UP carries the IKE SPIs; a NAT mapping change
 * moves the CHILD_SAs at once.
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

#define S  VPNR_SECONDS
#define MS VPNR_MILLISECONDS

/* What the event hook saw, per side. */
#define MAX_T 64
struct seen {
	vpnr_tstamp failed_at[MAX_T];
	int n_failed;
	vpnr_tstamp down_at;
	uint64_t up_spi_i, up_spi_r;
	uint64_t rekeyed_spi_i, rekeyed_spi_r;
	uint64_t down_spi_i;
	vpnr_tstamp suspect_at, live_at; /* the last of each */
	int n_suspect, n_live;
};
static struct seen seen[2];

static int
record(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	struct seen *x = &seen[s->idx];

	switch (ev->type) {
	case VPNR_TUNNEL_EV_FAILED:
		if (x->n_failed < MAX_T)
			x->failed_at[x->n_failed++] = s->w->now;
		break;
	case VPNR_TUNNEL_EV_DOWN:
		x->down_at = s->w->now;
		x->down_spi_i = ev->ike_spi_i;
		break;
	case VPNR_TUNNEL_EV_UP:
		x->up_spi_i = ev->ike_spi_i;
		x->up_spi_r = ev->ike_spi_r;
		break;
	case VPNR_TUNNEL_EV_REKEYED:
		x->rekeyed_spi_i = ev->ike_spi_i;
		x->rekeyed_spi_r = ev->ike_spi_r;
		break;
	case VPNR_TUNNEL_EV_SUSPECT:
		assert_int_equal(ev->reason, VPNR_ERR_TIMEOUT);
		x->suspect_at = s->w->now;
		x->n_suspect++;
		break;
	case VPNR_TUNNEL_EV_LIVE:
		assert_int_equal(ev->reason, VPNR_OK);
		x->live_at = s->w->now;
		x->n_live++;
		break;
	}
	return VPNR_OK;
}

static void
setup(struct ikew *w, uint64_t seed)
{
	assert_int_equal(ikew_init(w, seed, 64), VPNR_OK);
	memset(seen, 0, sizeof(seen));
	w->s[0].on_event = w->s[1].on_event = record;
}

static int
pred_down0(struct ikew *w, void *arg)
{
	return ikew_count_ev(&w->s[0], VPNR_TUNNEL_EV_DOWN) > 0;
}

/*
 * Defaults: 10 s without proof of life, then probes at 0, 0.5, 1.5,
 * 2.5 ... 19.5 s (21 of them), and the peer is dead 20 s after
 * probing began: 30 s after its last sign of life.
 */
static void
test_dead_peer_default(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	vpnr_tstamp t0;
	uint64_t sent;

	setup(&w, 1);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	/* The peer dies right after the last message it sent. */
	w.s[1].silent = 1;
	t0 = w.now;
	sent = w.s[0].sent;
	assert_true(ikew_run_until(&w, pred_down0, NULL, 60 * S));
	assert_int_equal(seen[0].down_at - t0, 30 * S);
	assert_int_equal(w.s[0].sent - sent, 21);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_int_equal(ev->reason, VPNR_ERR_DEAD_PEER);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_DEAD_PEER);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_IN), 0);
	assert_int_equal(ikew_count_sa(&w.s[0], VPNR_DIR_OUT), 0);
	/* The DPD action (restart) reconnects once the peer is back. */
	w.s[1].silent = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 60 * S));
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 2);
	ikew_free(&w);
}

/* A rekey outstanding when the peer died is no excuse to wait for its
 * seven retransmits (255 s): liveness still decides in 30 s. */
static void
test_dead_peer_during_rekey(void **state)
{
	struct ikew w;
	vpnr_tstamp t0;

	setup(&w, 2);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	w.s[1].silent = 1;
	t0 = w.now;
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	assert_true(ikew_run_until(&w, pred_down0, NULL, 300 * S));
	assert_true(seen[0].down_at - t0 <= 30 * S);
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN)->reason,
	    VPNR_ERR_DEAD_PEER);
	ikew_free(&w);
}

static void
test_liveness_config(void **state)
{
	struct ikew w;
	vpnr_tunnel_config *tc;
	vpnr_tstamp t0;
	uint64_t sent;

	/* Out of range: refused, named, nothing changed. */
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_liveness(NULL, 10 * S, 20 * S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 500 * MS, 20 * S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_tunnel_config_last_error(tc), "interval"));
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 3601 * S, 20 * S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 10 * S, S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_tunnel_config_last_error(tc), "timeout"));
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 10 * S, 3601 * S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_dpd(tc, 200 * MS,
			     VPNR_DPD_ACTION_RESTART),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_dpd(tc, 4000 * S,
			     VPNR_DPD_ACTION_RESTART),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 0, 20 * S),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_liveness(tc, 3600 * S,
			     3600 * S),
	    VPNR_OK);
	vpnr_tunnel_config_del(tc);

	/* 3 s / 6 s: dead 9 s after the last sign of life. */
	setup(&w, 3);
	assert_int_equal(vpnr_tunnel_config_set_liveness(w.s[0].tc, 3 * S,
			     6 * S),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	w.s[1].silent = 1;
	t0 = w.now;
	assert_true(ikew_run_until(&w, pred_down0, NULL, 60 * S));
	assert_int_equal(seen[0].down_at - t0, 9 * S);
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN)->reason,
	    VPNR_ERR_DEAD_PEER);
	ikew_free(&w);

	/* Interval 0: no probe, nothing declared dead. */
	setup(&w, 4);
	assert_int_equal(vpnr_tunnel_config_set_liveness(w.s[0].tc, 0, 20 * S),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	w.s[1].silent = 1;
	sent = w.s[0].sent;
	ikew_advance(&w, 600 * S);
	assert_int_equal(w.s[0].sent, sent);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	ikew_free(&w);
}

/* Inbound ESP seen through sa_query is proof of life: no probe while
 * traffic comes in, a probe soon after it stops. */
static void
test_busy_tunnel_sends_no_dpd(void **state)
{
	struct ikew w;
	uint64_t sent;
	int i;

	setup(&w, 5);
	w.s[0].dp_query = 1;
	/* The peer probes nothing itself: only ESP proves it alive. */
	assert_int_equal(vpnr_tunnel_config_set_liveness(w.s[1].tc, 0, 20 * S),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	sent = w.s[0].sent;
	for (i = 0; i < 300; i++) {
		w.s[0].esp_in_packets += 3;
		ikew_advance(&w, S);
	}
	assert_int_equal(w.s[0].sent, sent);
	assert_true(w.s[0].n_query > 0);
	/* Traffic stops: probed within the interval, answered, alive. */
	ikew_advance(&w, 11 * S);
	assert_true(w.s[0].sent > sent);
	ikew_advance(&w, 120 * S);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	ikew_free(&w);
}

/*
 * A live peer at 40 % random loss each way, for three hours of fake
 * time (hundreds of probe rounds, CHILD_SA rekeys under loss), is
 * never declared dead.
 */
static void
test_lossy_peer_stays_alive(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;
	uint64_t sent;
	int i;

	setup(&w, 6);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	w.loss_pct = 40;
	sent = w.s[0].sent + w.s[1].sent;
	ikew_advance(&w, 3 * 3600 * S);
	for (i = 0; i < 2; i++) {
		assert_int_equal(ikew_count_ev(&w.s[i], VPNR_TUNNEL_EV_DOWN),
		    0);
		assert_int_equal(ikew_count_ev(&w.s[i], VPNR_TUNNEL_EV_FAILED),
		    0);
	}
	/* Many probe rounds really ran, and many datagrams were lost. */
	assert_true(w.s[0].sent + w.s[1].sent - sent > 1000);
	assert_true(w.dropped > 400);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_true(a.child_rekeys >= 2);
	w.loss_pct = 0;
	ikew_advance(&w, 60 * S);
	assert_true(ikew_pred_up(&w, NULL));
	ikew_free(&w);

	/* The case the schedule was computed for: a silent idle peer
	 * (no probes, no rekeys of its own) answers only our probes;
	 * one round in ~12,000 would find none of 21 answered. */
	setup(&w, 16);
	assert_int_equal(vpnr_tunnel_config_set_liveness(w.s[1].tc, 0, 20 * S),
	    VPNR_OK);
	for (i = 0; i < 2; i++)
		assert_int_equal(vpnr_tunnel_config_set_rekey(w.s[i].tc, 0, 0,
				     0),
		    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	w.loss_pct = 40;
	sent = w.s[1].sent;
	ikew_advance(&w, 3600 * S);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	/* Side 1 only answers our probes: hundreds of rounds ran (one
	 * round an interval, 10 s, after the last answer). */
	assert_true(w.s[1].sent - sent > 300);
	ikew_free(&w);
}

/*
 * Attempt failures (a silent peer, 1 retransmit: 3 s each) are retried
 * after 0.5 s, 1 s, 2 s ... 10 s, each less up to half at random.
 */
static void
test_reconnect_backoff(void **state)
{
	struct ikew w;
	vpnr_tstamp d, nominal = 500 * MS;
	int i, jittered = 0;

	setup(&w, 7);
	assert_int_equal(vpnr_tunnel_config_set_retransmit(w.s[0].tc, S, 1),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	w.s[1].silent = 1;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 200 * S);
	assert_true(seen[0].n_failed >= 14);
	for (i = 0; i + 1 < seen[0].n_failed; i++) {
		d = seen[0].failed_at[i + 1] - seen[0].failed_at[i] - 3 * S;
		if (d > nominal || d < nominal / 2)
			fail_msg("retry %d after %lld ms, not in [%lld, %lld]",
			    i, (long long)(d / MS),
			    (long long)(nominal / 2 / MS),
			    (long long)(nominal / MS));
		if (d != nominal)
			jittered++;
		if (nominal < 10 * S)
			nominal = nominal * 2 > 10 * S ? 10 * S : nominal * 2;
	}
	assert_int_equal(nominal, 10 * S); /* the cap was reached */
	assert_true(jittered >= seen[0].n_failed / 2);
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED)->reason,
	    VPNR_ERR_TIMEOUT);
	/* The path comes back: up within one attempt plus one backoff. */
	w.s[1].silent = 0;
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 15 * S));
	ikew_free(&w);
}

/*
 * However long the outage, the next IKE_SA_INIT is never more than a
 * capped retransmit (4 s) plus a capped backoff (10 s) away: after an
 * hour of silence the tunnel is up within 15 s of the path's return
 * (it used to wait for a retransmit up to 128 s away).
 */
static void
test_recovery_after_long_outage(void **state)
{
	struct ikew w;
	uint64_t seed;

	for (seed = 20; seed < 26; seed++) {
		setup(&w, seed);
		assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
		assert_true(ikew_bring_up(&w, 10 * S));
		w.s[1].silent = 1;
		ikew_advance(&w, 3600 * S + (vpnr_tstamp)seed * 1234 * MS);
		assert_false(ikew_pred_up(&w, NULL));
		/* It kept trying: an attempt (27 s) and a backoff each. */
		assert_true(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED) > 80);
		w.s[1].silent = 0;
		assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 15 * S));
		ikew_free(&w);
	}
}

/* A failure that will not fix itself backs off from 5 s to 60 s. */
static void
test_permanent_failure_backoff(void **state)
{
	struct ikew w;
	vpnr_tstamp d, nominal = 5 * S;
	int i;

	setup(&w, 8);
	vpnr_tunnel_config_set_psk(w.s[1].tc, (const uint8_t *)"other", 5);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 600 * S);
	assert_true(seen[0].n_failed >= 10);
	for (i = 0; i + 1 < seen[0].n_failed; i++) {
		d = seen[0].failed_at[i + 1] - seen[0].failed_at[i];
		if (d > nominal || d < nominal / 2)
			fail_msg("retry %d after %lld ms, not in [%lld, %lld]",
			    i, (long long)(d / MS),
			    (long long)(nominal / 2 / MS),
			    (long long)(nominal / MS));
		nominal = nominal * 2 > 60 * S ? 60 * S : nominal * 2;
	}
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED)->reason,
	    VPNR_ERR_AUTH_FAILED);
	ikew_free(&w);
}

/*
 * An ESP-only proposal mismatch: the IKE SA comes up, the CHILD_SA
 * fails; DOWN says NO_PROPOSAL with its notify, the tunnel retries,
 * and comes up once the responder's configuration is fixed.
 */
static void
test_esp_mismatch_retried(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	vpnr_tunnel_config *tc;

	setup(&w, 9);
	vpnr_tunnel_config_add_esp_proposal(w.s[0].tc, "aes128-sha1");
	vpnr_tunnel_config_add_esp_proposal(w.s[1].tc, "aes256gcm16");
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 30 * S);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(ev->notify, 14);
	assert_true(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP) >= 2);
	/* The responder's configuration is fixed (its tunnel replaced). */
	assert_int_equal(vpnr_tunnel_del(w.s[1].ctx, w.s[1].tunnel_id, w.now),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	vpnr_tunnel_config_set_addrs(tc, &w.s[1].addr, &w.s[0].addr);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)"test-psk", 8);
	vpnr_tunnel_config_add_esp_proposal(tc, "aes128-sha1");
	vpnr_tunnel_config_del(w.s[1].tc);
	w.s[1].tc = tc;
	assert_int_equal(ikew_add_tunnel(&w, 1), VPNR_OK);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 120 * S));
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/* A local close never reconnects, connected or still connecting. */
static void
test_local_close_no_reconnect(void **state)
{
	struct ikew w;
	uint64_t sent;

	setup(&w, 10);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, S);
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN)->reason,
	    VPNR_ERR_LOCAL_CLOSE);
	assert_int_equal(ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_DOWN)->reason,
	    VPNR_ERR_PEER_CLOSED);
	sent = w.s[0].sent;
	ikew_advance(&w, 600 * S);
	assert_int_equal(w.s[0].sent, sent);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 1);
	/* Closed while connecting (the peer silent): DOWN, nothing more. */
	w.s[1].silent = 1;
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 2 * S);
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_OK);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 2);
	assert_int_equal(ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN)->reason,
	    VPNR_ERR_LOCAL_CLOSE);
	sent = w.s[0].sent;
	ikew_advance(&w, 600 * S);
	assert_int_equal(w.s[0].sent, sent);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_FAILED), 0);
	ikew_free(&w);
}

/*
 * The peer deletes the only CHILD_SA (here at its hard lifetime) and
 * keeps the IKE SA: the initiator, left without traffic, starts over.
 */
static void
test_peer_closes_last_child(void **state)
{
	struct ikew w;
	const struct ikew_ev *ev;
	int i;

	setup(&w, 13);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (w.s[1].sas[i].live && w.s[1].sas[i].dir == VPNR_DIR_IN)
			break;
	assert_true(i < IKEW_MAX_SA);
	assert_int_equal(vpnr_dp_sa_expired(w.s[1].ctx, w.s[1].sas[i].sa_id, 1,
			     w.now),
	    VPNR_OK);
	ikew_advance(&w, 100 * MS);
	ev = ikew_last_ev(&w.s[1], VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_LIMIT);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_PEER_CLOSED);
	ev = ikew_last_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN);
	assert_non_null(ev);
	assert_int_equal(ev->reason, VPNR_ERR_PEER_CLOSED);
	assert_true(ikew_run_until(&w, ikew_pred_up, NULL, 5 * S));
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_UP), 2);
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/* UP (and REKEYED, DOWN) carry the IKE SPIs. */
static void
test_events_carry_spis(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;
	int i;

	setup(&w, 11);
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	for (i = 0; i < 2; i++) {
		assert_true(seen[i].up_spi_i != 0 && seen[i].up_spi_r != 0);
		assert_true(seen[i].up_spi_i == a.spi_i);
		assert_true(seen[i].up_spi_r == a.spi_r);
	}
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tunnel_id,
			     VPNR_REKEY_IKE, w.now),
	    VPNR_OK);
	ikew_advance(&w, 5 * S);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_true(a.spi_i != seen[0].up_spi_i);
	assert_true(seen[0].rekeyed_spi_i == a.spi_i);
	assert_true(seen[1].rekeyed_spi_r == a.spi_r);
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, w.now),
	    VPNR_OK);
	ikew_advance(&w, S);
	assert_true(seen[0].down_spi_i == a.spi_i);
	ikew_free(&w);
}

static void
test_event_names(void **state)
{
	static const struct {
		uint32_t type;
		const char *name;
	} tev[] = {
		{ VPNR_TUNNEL_EV_UP, "UP" },
		{ VPNR_TUNNEL_EV_DOWN, "DOWN" },
		{ VPNR_TUNNEL_EV_REKEYED, "REKEYED" },
		{ VPNR_TUNNEL_EV_CHILD_UP, "CHILD_UP" },
		{ VPNR_TUNNEL_EV_CHILD_DOWN, "CHILD_DOWN" },
		{ VPNR_TUNNEL_EV_CHILD_REKEYED, "CHILD_REKEYED" },
		{ VPNR_TUNNEL_EV_FAILED, "FAILED" },
		{ VPNR_TUNNEL_EV_SUSPECT, "SUSPECT" },
		{ VPNR_TUNNEL_EV_LIVE, "LIVE" },
	},
	  bev[] = {
		  { VPNR_BGP_EV_ESTABLISHED, "ESTABLISHED" },
		  { VPNR_BGP_EV_DOWN, "DOWN" },
		  { VPNR_BGP_EV_PREFIX_LIMIT, "PREFIX_LIMIT" },
		  { VPNR_BGP_EV_EOR, "EOR" },
		  { VPNR_BGP_EV_NEXTHOP_REFUSED, "NEXTHOP_REFUSED" },
		  { VPNR_BGP_EV_TUNNEL_DOWN, "TUNNEL_DOWN" },
		  { VPNR_BGP_EV_TUNNEL_UP, "TUNNEL_UP" },
	  };
	uint32_t t;
	size_t i;
	int named;

	for (i = 0; i < sizeof(tev) / sizeof(tev[0]); i++)
		assert_string_equal(vpnr_tunnel_event_name(tev[i].type),
		    tev[i].name);
	for (i = 0; i < sizeof(bev) / sizeof(bev[0]); i++)
		assert_string_equal(vpnr_bgp_event_name(bev[i].type),
		    bev[i].name);
	/* Nothing else has a name, and nothing is NULL. */
	for (t = 0, named = 0; t < 1000; t++) {
		assert_non_null(vpnr_tunnel_event_name(t));
		named += strcmp(vpnr_tunnel_event_name(t), "UNKNOWN") != 0;
	}
	assert_int_equal(named, sizeof(tev) / sizeof(tev[0]));
	for (t = 0, named = 0; t < 1000; t++) {
		assert_non_null(vpnr_bgp_event_name(t));
		named += strcmp(vpnr_bgp_event_name(t), "UNKNOWN") != 0;
	}
	assert_int_equal(named, sizeof(bev) / sizeof(bev[0]));
	assert_string_equal(vpnr_tunnel_event_name(UINT32_MAX), "UNKNOWN");
	assert_string_equal(vpnr_err_name(VPNR_ERR_DEAD_PEER),
	    "VPNR_ERR_DEAD_PEER");
	assert_string_equal(vpnr_err_name(VPNR_ERR_LOCAL_CLOSE),
	    "VPNR_ERR_LOCAL_CLOSE");
	assert_string_not_equal(vpnr_strerror(VPNR_ERR_DEAD_PEER),
	    "unknown error");
	assert_false(vpnr_err_is_fatal(VPNR_ERR_DEAD_PEER));
	assert_false(vpnr_err_is_fatal(VPNR_ERR_LOCAL_CLOSE));
}

/*
 * A NAT in front of side 1: its ports 500 and 4500 appear as 40500
 * and nat_port (4500 reaches it from outside).  Side 0 (not behind a
 * NAT) follows an authenticated message from a new mapping at once.
 */
static uint16_t nat_port;

static void
nat_deliver(struct ikew *w, const struct ikew_pkt *cp)
{
	/* The helper hands over its own copy of the datagram's header. */
	struct ikew_pkt *p = (struct ikew_pkt *)cp;
	vpnr_addr *a = p->to == 1 ? &p->local : &p->remote;
	uint16_t port = a->port;

	(void)w;
	if (p->to == 0) /* from side 1: public address, mapped port */
		port = port == 500 ? 40500 : port == 4500 ? nat_port : port;
	else /* to side 1: its private address and real port */
		port = port == 40500 ? 500 : port > 40000 ? 4500 : port;
	vpnr_addr_parse(a, p->to == 1 ? "10.1.0.2" : "198.51.100.2");
	a->port = port;
}

static int
outer_ports(const struct ikew_side *s, uint16_t port, uint64_t *ids)
{
	int i, n = 0;

	for (i = 0; i < IKEW_MAX_SA; i++) {
		const struct ikew_sa *x = &s->sas[i];

		if (!x->live)
			continue;
		if ((x->dir == VPNR_DIR_OUT ? x->dst.port : x->src.port) !=
		    port)
			return -1;
		if (ids != NULL)
			ids[n] = x->sa_id;
		n++;
	}
	return n;
}

static void
test_nat_mapping_change(void **state)
{
	struct ikew w;
	vpnr_tunnel_info a;
	vpnr_addr priv;
	uint64_t before[IKEW_MAX_SA], after[IKEW_MAX_SA], adds;

	setup(&w, 12);
	/* Side 1 sits behind the NAT with a private address. */
	vpnr_addr_parse(&priv, "10.1.0.2");
	assert_int_equal(vpnr_tunnel_config_set_addrs(w.s[1].tc, &priv,
			     &w.s[0].addr),
	    VPNR_OK);
	nat_port = 44500;
	w.on_deliver = nat_deliver;
	assert_int_equal(ikew_add_pair(&w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(&w, 10 * S));
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.nat_flags & 3, 2); /* the peer is behind NAT */
	assert_int_equal(a.remote.port, 44500);
	assert_int_equal(outer_ports(&w.s[0], 44500, before), 2);
	/* The NAT forgets the mapping and picks another port. */
	nat_port = 45500;
	adds = w.s[0].n_add;
	/* Whoever probes first, the peer's next message is from it. */
	ikew_advance(&w, 15 * S);
	assert_int_equal(ikew_info(&w, 0, &a), VPNR_OK);
	assert_int_equal(a.remote.port, 45500);
	/* Both SAs moved in place: same ids, new port, re-added. */
	assert_int_equal(outer_ports(&w.s[0], 45500, after), 2);
	assert_true((before[0] == after[0] && before[1] == after[1]) ||
	    (before[0] == after[1] && before[1] == after[0]));
	assert_int_equal(w.s[0].n_add - adds, 2);
	assert_int_equal(ikew_check_pairs(&w), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_CHILD_DOWN), 0);
	/* Side 1 is behind the NAT: it does not chase addresses. */
	assert_int_equal(ikew_info(&w, 1, &a), VPNR_OK);
	assert_int_equal(a.nat_flags & 3, 1);
	ikew_free(&w);
}

/* A pair up, side 0 with counters and suspicion after `after` (0:
 * off, the default). */
static void
suspect_up(struct ikew *w, uint64_t seed, vpnr_tstamp after)
{
	setup(w, seed);
	w->s[0].dp_query = 1;
	assert_int_equal(vpnr_tunnel_config_set_suspect(w->s[0].tc, after),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(w, NULL), VPNR_OK);
	assert_true(ikew_bring_up(w, 10 * S));
}

/* ESP both ways for n seconds (side 0's counters), one look a
 * second; out only when in is 0. */
static void
esp_for(struct ikew *w, int n, int in)
{
	int i;

	for (i = 0; i < n; i++) {
		w->s[0].esp_out_packets += 10;
		w->s[0].esp_in_packets += in;
		ikew_advance(w, S);
	}
}

/*
 * Suspicion at 2 s: side 0 sends ESP every second; the peer goes
 * silent (a blackhole).  Half the time later side 0 probes; at 2 s,
 * with the probe unanswered, it is suspect, well before the liveness
 * timeout; life ends it in the next look.  Nothing ends.
 */
static void
test_suspect_blackhole(void **state)
{
	struct ikew w;
	vpnr_tstamp cut;
	uint64_t sent;

	(void)state;
	suspect_up(&w, 21, 2 * S);
	esp_for(&w, 30, 10);
	assert_int_equal(seen[0].n_suspect, 0);
	sent = w.s[0].sent;
	cut = w.now;
	w.s[1].silent = 1;
	esp_for(&w, 3, 0);
	assert_int_equal(seen[0].n_suspect, 1);
	/* the last ESP in came a second before the cut */
	assert_true(seen[0].suspect_at >= cut + S);
	assert_true(seen[0].suspect_at <= cut + 2 * S + S / 2);
	assert_true(w.s[0].sent > sent); /* probed early */
	esp_for(&w, 10, 0);
	assert_int_equal(seen[0].n_suspect, 1);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	/* the path heals: ESP comes back */
	w.s[1].silent = 0;
	cut = w.now;
	esp_for(&w, 2, 10);
	assert_int_equal(seen[0].n_live, 1);
	assert_true(seen[0].live_at <= cut + S);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 0);
	/* silent for good: suspect again, then dead at the timeout */
	w.s[1].silent = 1;
	esp_for(&w, 40, 0);
	assert_int_equal(seen[0].n_suspect, 2);
	assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN), 1);
	ikew_free(&w);
}

/*
 * One-way traffic over a live tunnel: ESP goes out, nothing comes in,
 * but the peer answers the early probes, so the tunnel is never
 * suspect; and without suspicion no early probe is sent at all.
 */
static void
test_suspect_one_way_live(void **state)
{
	struct ikew w;
	uint64_t sent;
	int on;

	(void)state;
	for (on = 0; on < 2; on++) {
		suspect_up(&w, 22 + on, on ? 2 * S : 0);
		sent = w.s[0].sent;
		esp_for(&w, 5, 0);
		if (on)
			assert_true(w.s[0].sent > sent);
		else
			assert_int_equal(w.s[0].sent, sent);
		esp_for(&w, 120, 0);
		assert_int_equal(seen[0].n_suspect, 0);
		assert_int_equal(ikew_count_ev(&w.s[0], VPNR_TUNNEL_EV_DOWN),
		    0);
		ikew_free(&w);
	}
}

/*
 * A ping answered, then silence on an idle tunnel with a silent peer
 * (the idle 40 % loss case): the request left before its answer came,
 * though both show in one look, so nothing is suspect; DPD alone
 * speaks for an idle tunnel.  Timed by last_used, as the built-in data
 * plane reports it.
 */
static void
test_suspect_idle_after_answer(void **state)
{
	struct ikew w;

	(void)state;
	suspect_up(&w, 24, 2 * S);
	ikew_advance(&w, 5 * S);
	w.s[0].esp_out_packets++;
	w.s[0].esp_out_used = w.now;
	w.s[0].esp_in_packets++;
	w.s[0].esp_in_used = w.now + 10 * MS;
	ikew_advance(&w, 20 * MS);
	w.s[1].silent = 1;
	ikew_advance(&w, 9 * S);
	assert_int_equal(seen[0].n_suspect, 0);
	ikew_free(&w);
}

static void
test_suspect_config(void **state)
{
	vpnr_tunnel_config *tc;

	(void)state;
	assert_int_equal(vpnr_tunnel_config_set_suspect(NULL, 2 * S),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, S - 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, 60 * S + 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, UINT64_MAX),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(vpnr_tunnel_config_last_error(tc), "suspicion"));
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, S), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, 60 * S), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_suspect(tc, 0), VPNR_OK);
	vpnr_tunnel_config_del(tc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dead_peer_default),
		cmocka_unit_test(test_dead_peer_during_rekey),
		cmocka_unit_test(test_liveness_config),
		cmocka_unit_test(test_busy_tunnel_sends_no_dpd),
		cmocka_unit_test(test_lossy_peer_stays_alive),
		cmocka_unit_test(test_reconnect_backoff),
		cmocka_unit_test(test_recovery_after_long_outage),
		cmocka_unit_test(test_permanent_failure_backoff),
		cmocka_unit_test(test_esp_mismatch_retried),
		cmocka_unit_test(test_local_close_no_reconnect),
		cmocka_unit_test(test_peer_closes_last_child),
		cmocka_unit_test(test_events_carry_spis),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_nat_mapping_change),
		cmocka_unit_test(test_suspect_blackhole),
		cmocka_unit_test(test_suspect_one_way_live),
		cmocka_unit_test(test_suspect_idle_after_answer),
		cmocka_unit_test(test_suspect_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
