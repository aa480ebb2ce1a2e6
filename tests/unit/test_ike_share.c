/*
 * IKEv2 sibling tunnels in one IKE SA (vpnr_tunnel_config_set_share_ike):
 * two contexts back to back (helpers/ike_wire.c), each with tunnels A
 * (192.168/16 <-> 172.16/12) and B (192.168/16 <-> 10/8) to the same
 * peer.  Side 0 shares: B's CHILD_SA rides A's IKE SA, rekeys and
 * deletes from either side travel over it, and it goes with it.
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

#define S                 VPNR_SECONDS
#define A                 0 /* ids[side][A] */
#define B                 1
#define N_TS_UNACCEPTABLE 38 /* RFC 7296 notify */

static int n_init[2]; /* IKE_SA_INIT requests each side sent */

#define X_CREATE_CHILD  36 /* IKEv2 exchange types */
#define X_INFORMATIONAL 37

/* Keep the next n responses of an exchange type from side `side`
 * off the wire (n = 0: none). */
static struct {
	int side, exch, n;
} drop;

/* Counts IKE_SA_INIT requests (each starts an IKE SA of its own) and
 * applies the drop rule. */
static int
on_send(struct ikew_side *s, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *d, size_t len)
{
	int resp;

	(void)local;
	(void)remote;
	if (len >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 0) {
		d += 4; /* the non-ESP marker on the NAT-T port */
		len -= 4;
	}
	if (len < 28)
		return 0;
	resp = (d[19] & 0x20) != 0; /* the Response flag */
	if (d[18] == 34 && !resp)
		n_init[s->idx]++;
	if (drop.n > 0 && s->idx == drop.side && d[18] == drop.exch && resp) {
		drop.n--;
		return 1;
	}
	return 0;
}

static void
ts_net(vpnr_ts *ts, const char *lo, const char *hi)
{
	memset(ts, 0, sizeof(*ts));
	vpnr_addr_parse(&ts->addr_start, lo);
	vpnr_addr_parse(&ts->addr_end, hi);
	ts->port_end = 65535;
}

/* Tunnel k's selectors on side i: 192.168/16 on side 0, the
 * tunnel's network (172.16/12 for A, 10/8 for B) on side 1. */
static void
sel(int i, int k, vpnr_ts *local, vpnr_ts *remote)
{
	vpnr_ts hk, net;

	ts_net(&hk, "192.168.0.0", "192.168.255.255");
	if (k == A)
		ts_net(&net, "172.16.0.0", "172.31.255.255");
	else
		ts_net(&net, "10.0.0.0", "10.255.255.255");
	*local = i == 0 ? hk : net;
	*remote = i == 0 ? net : hk;
}

/*
 * Both sides' A and B (side 1's B only with b1; its id stays 0), each
 * with its own config: same addresses, PSK and identities, if_id k + 1.
 * share: side 0's set_share_ike.  child_rekey: if not 0, every tunnel
 * rekeys its CHILD_SA after that, its IKE SA after five times that.
 * Policies are recorded.
 */
static void
setup_rekey(struct ikew *w, uint64_t seed, uint64_t ids[2][2], int share,
    int b1, vpnr_tstamp child_rekey)
{
	vpnr_tunnel_config *tc;
	vpnr_ts l, r;
	int i, k;

	assert_int_equal(ikew_init(w, seed, 64), VPNR_OK);
	memset(n_init, 0, sizeof(n_init));
	memset(&drop, 0, sizeof(drop));
	w->on_send = on_send;
	memset(ids, 0, 4 * sizeof(ids[0][0]));
	for (i = 0; i < 2; i++) {
		w->s[i].dp_policies = 1;
		for (k = A; k <= B; k++) {
			if (i == 1 && k == B && !b1)
				continue;
			assert_int_equal(vpnr_tunnel_config_new(&tc, NULL),
			    VPNR_OK);
			vpnr_tunnel_config_set_addrs(tc, &w->s[i].addr,
			    &w->s[!i].addr);
			vpnr_tunnel_config_set_psk(tc,
			    (const uint8_t *)"test1234", 8);
			vpnr_tunnel_config_set_if_id(tc, (uint32_t)(k + 1));
			if (child_rekey != 0)
				assert_int_equal(
				    vpnr_tunnel_config_set_rekey(tc,
					5 * child_rekey, child_rekey, 10),
				    VPNR_OK);
			sel(i, k, &l, &r);
			assert_int_equal(vpnr_tunnel_config_add_ts(tc, &l, &r),
			    VPNR_OK);
			if (i == 0)
				assert_int_equal(
				    vpnr_tunnel_config_set_share_ike(tc, share),
				    VPNR_OK);
			assert_int_equal(vpnr_tunnel_add(w->s[i].ctx, tc,
					     &w->s[i], &ids[i][k]),
			    VPNR_OK);
			vpnr_tunnel_config_del(tc);
		}
	}
}

static void
setup(struct ikew *w, uint64_t seed, uint64_t ids[2][2], int share, int b1)
{
	setup_rekey(w, seed, ids, share, b1, 0);
}

static void
info(struct ikew *w, int i, uint64_t id, vpnr_tunnel_info *inf)
{
	assert_int_equal(vpnr_tunnel_get_info(w->s[i].ctx, id, inf), VPNR_OK);
}

/* Events of a type on side i for one tunnel. */
static int
cnt(struct ikew *w, int i, uint64_t id, uint32_t type)
{
	return ikew_count_ev_of(&w->s[i], type, id);
}

static const struct ikew_ev *
last(struct ikew *w, int i, uint64_t id, uint32_t type)
{
	int k;

	for (k = w->s[i].n_ev - 1; k >= 0; k--)
		if (w->s[i].ev[k].type == type && w->s[i].ev[k].tunnel_id == id)
			return &w->s[i].ev[k];
	return NULL;
}

/* The reason of side i's last event of a type for a tunnel (one
 * there must be). */
static int32_t
reason_of(struct ikew *w, int i, uint64_t id, uint32_t type)
{
	const struct ikew_ev *e = last(w, i, id, type);

	assert_non_null(e);
	return e->reason;
}

/* Tunnel k established with a CHILD_SA on both sides. */
static int
up_k(struct ikew *w, uint64_t ids[2][2], int k)
{
	vpnr_tunnel_info inf;
	int i;

	for (i = 0; i < 2; i++)
		if (vpnr_tunnel_get_info(w->s[i].ctx, ids[i][k], &inf) !=
			VPNR_OK ||
		    inf.state != VPNR_TUNNEL_ESTABLISHED ||
		    inf.child_spi_in == 0)
			return 0;
	return 1;
}

static int
pred_a(struct ikew *w, void *arg)
{
	return up_k(w, arg, A);
}

static int
pred_ab(struct ikew *w, void *arg)
{
	return up_k(w, arg, A) && up_k(w, arg, B);
}

static int
pred_b(struct ikew *w, void *arg)
{
	return up_k(w, arg, B);
}

/* At least n events of a type for tunnel k on both sides. */
struct want {
	uint64_t (*ids)[2];
	int k;
	uint32_t type;
	int n;
};

static int
pred_ev(struct ikew *w, void *arg)
{
	const struct want *x = arg;

	return cnt(w, 0, x->ids[0][x->k], x->type) >= x->n &&
	    cnt(w, 1, x->ids[1][x->k], x->type) >= x->n;
}

/* The same on side 0 only. */
static int
pred_ev0(struct ikew *w, void *arg)
{
	const struct want *x = arg;

	return cnt(w, 0, x->ids[0][x->k], x->type) >= x->n;
}

static void
wait_ev(struct ikew *w, uint64_t ids[2][2], int k, uint32_t type, int n)
{
	struct want x = { ids, k, type, n };

	assert_true(ikew_run_until(w, pred_ev, &x, 20 * S));
}

/* Side 0 brings A up on both sides. */
static void
bring_a(struct ikew *w, uint64_t ids[2][2], vpnr_tstamp max)
{
	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, ids[0][A], w->now),
	    VPNR_OK);
	assert_true(ikew_run_until(w, pred_a, ids, max));
}

/* Side 0 brings A up, then B; each up on both sides. */
static void
bring_ab(struct ikew *w, uint64_t ids[2][2], vpnr_tstamp max)
{
	vpnr_tunnel_info b;

	bring_a(w, ids, max);
	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, ids[0][B], w->now),
	    VPNR_OK);
	info(w, 0, ids[0][B], &b);
	assert_int_equal(b.state, VPNR_TUNNEL_CONNECTING);
	assert_true(ikew_run_until(w, pred_ab, ids, max));
}

/* Both tunnels on both sides show one IKE SA; returns its spi_i. */
static uint64_t
one_ike(struct ikew *w, uint64_t ids[2][2])
{
	vpnr_tunnel_info a, x;
	int i, k;

	info(w, 0, ids[0][A], &a);
	assert_true(a.spi_i != 0 && a.spi_r != 0);
	for (i = 0; i < 2; i++)
		for (k = A; k <= B; k++) {
			info(w, i, ids[i][k], &x);
			assert_int_equal(x.state, VPNR_TUNNEL_ESTABLISHED);
			assert_true(x.spi_i == a.spi_i);
			assert_true(x.spi_r == a.spi_r);
		}
	return a.spi_i;
}

static int
ts_eq(const vpnr_ts *a, const vpnr_ts *b)
{
	return a->ip_proto == b->ip_proto && a->port_start == b->port_start &&
	    a->port_end == b->port_end &&
	    a->addr_start.family == b->addr_start.family &&
	    memcmp(a->addr_start.bytes, b->addr_start.bytes, 16) == 0 &&
	    a->addr_end.family == b->addr_end.family &&
	    memcmp(a->addr_end.bytes, b->addr_end.bytes, 16) == 0;
}

/* Live SAs plus policies of a tunnel on side i. */
static int
installed(struct ikew *w, int i, uint64_t id)
{
	int k, n = 0;

	for (k = 0; k < IKEW_MAX_SA; k++) {
		if (w->s[i].sas[k].live && w->s[i].sas[k].tunnel_id == id)
			n++;
		if (w->s[i].pols[k].live && w->s[i].pols[k].tunnel_id == id)
			n++;
	}
	return n;
}

static int
installed_all(struct ikew *w, int i)
{
	int k, n = 0;

	for (k = 0; k < IKEW_MAX_SA; k++)
		n += w->s[i].sas[k].live + w->s[i].pols[k].live;
	return n;
}

/* An SA or a policy of tunnel k on side i: its if_id and selectors;
 * counts it in n[0] (inbound) or n[1] (outbound). */
static void
check_entry(int n[2], uint8_t dir, uint32_t if_id, const vpnr_ts *tl,
    const vpnr_ts *tr, int i, int k)
{
	vpnr_ts l, r;

	sel(i, k, &l, &r);
	assert_int_equal(if_id, k + 1);
	assert_true(ts_eq(tl, &l));
	assert_true(ts_eq(tr, &r));
	assert_true(dir == VPNR_DIR_IN || dir == VPNR_DIR_OUT);
	n[dir == VPNR_DIR_OUT]++;
}

/*
 * Side i's data plane holds exactly tunnel k's current pair (the SPIs
 * of its info) and its two policies: its tunnel id, if_id k + 1, its
 * selectors, the outbound policy on the outbound SA.
 */
static void
check_dp(struct ikew *w, uint64_t ids[2][2], int i, int k)
{
	const struct ikew_side *s = &w->s[i];
	const struct ikew_sa *in = NULL, *out = NULL;
	const struct ikew_pol *pout = NULL;
	vpnr_tunnel_info inf;
	uint64_t id = ids[i][k];
	int j, n_sa[2] = { 0, 0 }, n_pol[2] = { 0, 0 };

	info(w, i, id, &inf);
	for (j = 0; j < IKEW_MAX_SA; j++) {
		const struct ikew_sa *x = &s->sas[j];
		const struct ikew_pol *p = &s->pols[j];

		if (x->live && x->tunnel_id == id) {
			check_entry(n_sa, x->dir, x->if_id, &x->ts_local,
			    &x->ts_remote, i, k);
			*(x->dir == VPNR_DIR_IN ? &in : &out) = x;
		}
		if (p->live && p->tunnel_id == id) {
			check_entry(n_pol, p->dir, p->if_id, &p->ts_local,
			    &p->ts_remote, i, k);
			if (p->dir == VPNR_DIR_OUT)
				pout = p;
		}
	}
	assert_true(n_sa[0] == 1 && n_sa[1] == 1);
	assert_true(n_pol[0] == 1 && n_pol[1] == 1);
	assert_int_equal(in->spi, inf.child_spi_in);
	assert_int_equal(out->spi, inf.child_spi_out);
	assert_true(pout->out_sa_id == out->sa_id);
	assert_int_equal(inf.n_child_sa, 1);
}

/* Both tunnels up on both sides, each with its own pair. */
static void
check_both(struct ikew *w, uint64_t ids[2][2])
{
	vpnr_tunnel_info a, b;
	int i, k;

	assert_int_equal(ikew_check_pairs(w), 2);
	for (k = A; k <= B; k++) {
		info(w, 0, ids[0][k], &a);
		info(w, 1, ids[1][k], &b);
		assert_int_equal(a.child_spi_in, b.child_spi_out);
		assert_int_equal(a.child_spi_out, b.child_spi_in);
		for (i = 0; i < 2; i++)
			check_dp(w, ids, i, k);
	}
}

/* No event of a type for any tunnel on either side. */
static void
assert_none(struct ikew *w, uint32_t type)
{
	assert_int_equal(ikew_count_ev(&w->s[0], type), 0);
	assert_int_equal(ikew_count_ev(&w->s[1], type), 0);
}

static void
test_setter(void **state)
{
	vpnr_tunnel_config *tc;

	(void)state;
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_share_ike(tc, 2),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_share_ike(tc, -1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_share_ike(NULL, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_config_set_share_ike(tc, 1), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_share_ike(tc, 0), VPNR_OK);
	vpnr_tunnel_config_del(tc);
}

/* 1. B's CHILD_SA comes up inside A's IKE SA. */
static void
test_share_up(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	int i, k;

	(void)state;
	setup(&w, 1, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	one_ike(&w, ids);
	assert_int_equal(n_init[0], 1);
	assert_int_equal(n_init[1], 0);
	for (i = 0; i < 2; i++)
		for (k = A; k <= B; k++) {
			assert_int_equal(cnt(&w, i, ids[i][k],
					     VPNR_TUNNEL_EV_UP),
			    1);
			assert_int_equal(cnt(&w, i, ids[i][k],
					     VPNR_TUNNEL_EV_CHILD_UP),
			    1);
		}
	/* UP before CHILD_UP for the guest too. */
	for (i = 0; i < 2; i++) {
		const struct ikew_ev *up =
		    last(&w, i, ids[i][B], VPNR_TUNNEL_EV_UP);
		const struct ikew_ev *cu =
		    last(&w, i, ids[i][B], VPNR_TUNNEL_EV_CHILD_UP);

		assert_true(up < cu);
	}
	check_both(&w, ids);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	ikew_free(&w);
}

/* 2. CHILD rekeys of B from either side; A untouched. */
static void
test_share_child_rekey(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;
	vpnr_tunnel_info a0, a1, b0, b1;
	int r, i;

	(void)state;
	setup(&w, 2, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	spi = one_ike(&w, ids);
	for (r = 1; r <= 4; r++) {
		i = r % 2;
		info(&w, 0, ids[0][A], &a0);
		info(&w, 0, ids[0][B], &b0);
		assert_int_equal(vpnr_tunnel_rekey(w.s[i].ctx, ids[i][B],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		wait_ev(&w, ids, B, VPNR_TUNNEL_EV_CHILD_REKEYED, r);
		ikew_advance(&w, 5 * S); /* the old pair goes */
		info(&w, 0, ids[0][A], &a1);
		info(&w, 0, ids[0][B], &b1);
		assert_int_not_equal(b1.child_spi_in, b0.child_spi_in);
		assert_int_equal(b1.child_rekeys, (uint64_t)r);
		assert_int_equal(a1.child_spi_in, a0.child_spi_in);
		assert_int_equal(a1.child_rekeys, 0);
		assert_true(one_ike(&w, ids) == spi);
		check_both(&w, ids);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(cnt(&w, i, ids[i][A],
				     VPNR_TUNNEL_EV_CHILD_REKEYED),
		    0);
	assert_int_equal(n_init[0] + n_init[1], 1);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

/* 3. IKE rekeys of A's SA from either side keep B; B rekeys after. */
static void
test_share_ike_rekey(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi, spi1;
	vpnr_tunnel_info a0, b0, b1;
	int i;

	(void)state;
	setup(&w, 3, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	spi = one_ike(&w, ids);
	for (i = 0; i < 2; i++) {
		info(&w, 0, ids[0][A], &a0);
		info(&w, 0, ids[0][B], &b0);
		assert_int_equal(vpnr_tunnel_rekey(w.s[i].ctx, ids[i][A],
				     VPNR_REKEY_IKE, w.now),
		    VPNR_OK);
		wait_ev(&w, ids, A, VPNR_TUNNEL_EV_REKEYED, i + 1);
		ikew_advance(&w, 5 * S); /* the old IKE SA goes */
		/* One IKE SA, the new one, in B's info too. */
		spi1 = one_ike(&w, ids);
		assert_true(spi1 != spi);
		spi = spi1;
		info(&w, 0, ids[0][B], &b1);
		assert_int_equal(b1.child_spi_in, b0.child_spi_in);
		check_both(&w, ids);
		/* A CHILD rekey of B over the new IKE SA, from the other
		 * side. */
		assert_int_equal(vpnr_tunnel_rekey(w.s[!i].ctx, ids[!i][B],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		wait_ev(&w, ids, B, VPNR_TUNNEL_EV_CHILD_REKEYED, i + 1);
		ikew_advance(&w, 5 * S);
		info(&w, 0, ids[0][B], &b1);
		assert_int_not_equal(b1.child_spi_in, b0.child_spi_in);
		assert_true(one_ike(&w, ids) == spi);
		check_both(&w, ids);
	}
	assert_int_equal(n_init[0] + n_init[1], 1);
	/* An IKE rekey asked of the guest rekeys the IKE SA it rides. */
	for (i = 0; i < 2; i++) {
		assert_int_equal(vpnr_tunnel_rekey(w.s[i].ctx, ids[i][B],
				     VPNR_REKEY_IKE, w.now),
		    VPNR_OK);
		wait_ev(&w, ids, A, VPNR_TUNNEL_EV_REKEYED, 3 + i);
		ikew_advance(&w, 5 * S);
		spi1 = one_ike(&w, ids);
		assert_true(spi1 != spi);
		spi = spi1;
		check_both(&w, ids);
	}
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

/* Both tunnels up, one IKE SA, one pair each. */
static int
settled(struct ikew *w, void *arg)
{
	uint64_t(*ids)[2] = arg;
	vpnr_tunnel_info a, x;
	int i, k;

	if (!pred_ab(w, arg) || ikew_check_pairs(w) != 2)
		return 0;
	info(w, 0, ids[0][A], &a);
	for (i = 0; i < 2; i++)
		for (k = A; k <= B; k++) {
			info(w, i, ids[i][k], &x);
			if (x.spi_i != a.spi_i || x.spi_r != a.spi_r ||
			    x.n_child_sa != 1)
				return 0;
		}
	return 1;
}

/* The lifetimes drive the rekeys of both, B's over A's IKE SA. */
static void
test_share_lifetimes(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;
	vpnr_tunnel_info a, b;
	int i;

	(void)state;
	setup_rekey(&w, 4, ids, 1, 1, 120 * S);
	bring_ab(&w, ids, 20 * S);
	spi = one_ike(&w, ids);
	ikew_advance(&w, 1500 * S);
	assert_true(ikew_run_until(&w, settled, ids, 300 * S));
	assert_true(one_ike(&w, ids) != spi);
	check_both(&w, ids);
	for (i = 0; i < 2; i++) {
		assert_true(cnt(&w, i, ids[i][A], VPNR_TUNNEL_EV_REKEYED) >= 2);
		assert_true(
		    cnt(&w, i, ids[i][A], VPNR_TUNNEL_EV_CHILD_REKEYED) >= 5);
		assert_true(
		    cnt(&w, i, ids[i][B], VPNR_TUNNEL_EV_CHILD_REKEYED) >= 5);
	}
	info(&w, 0, ids[0][A], &a);
	info(&w, 0, ids[0][B], &b);
	assert_true(a.ike_rekeys >= 2);
	assert_true(b.child_rekeys >= 5);
	assert_int_equal(n_init[0] + n_init[1], 1);
	assert_none(&w, VPNR_TUNNEL_EV_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_CHILD_DOWN);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

/* Rekeys crossing each other: side 0's, then side 1's, at once. */
static const struct {
	int k0;
	uint32_t what0;
	int k1;
	uint32_t what1;
} crossings[] = {
	{ B, VPNR_REKEY_CHILD, B, VPNR_REKEY_CHILD },
	{ A, VPNR_REKEY_IKE, B, VPNR_REKEY_CHILD },
	{ B, VPNR_REKEY_CHILD, A, VPNR_REKEY_IKE },
	{ A, VPNR_REKEY_IKE, A, VPNR_REKEY_IKE },
	{ B, VPNR_REKEY_IKE, A, VPNR_REKEY_IKE },
	{ A, VPNR_REKEY_CHILD, B, VPNR_REKEY_CHILD },
};

static void
test_share_collisions(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], seed, spi;
	vpnr_tunnel_info b0, b1;
	size_t c;
	int n;

	(void)state;
	for (c = 0; c < sizeof(crossings) / sizeof(crossings[0]); c++)
		for (seed = 0; seed < 4; seed++) {
			setup(&w, 200 + 10 * c + seed, ids, 1, 1);
			bring_ab(&w, ids, 20 * S);
			spi = one_ike(&w, ids);
			assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx,
					     ids[0][crossings[c].k0],
					     crossings[c].what0, w.now),
			    VPNR_OK);
			assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx,
					     ids[1][crossings[c].k1],
					     crossings[c].what1, w.now),
			    VPNR_OK);
			ikew_advance(&w, 60 * S);
			assert_true(settled(&w, ids));
			if (crossings[c].what0 == VPNR_REKEY_IKE ||
			    crossings[c].what1 == VPNR_REKEY_IKE)
				assert_true(one_ike(&w, ids) != spi);
			check_both(&w, ids);
			assert_none(&w, VPNR_TUNNEL_EV_DOWN);
			assert_none(&w, VPNR_TUNNEL_EV_CHILD_DOWN);
			assert_none(&w, VPNR_TUNNEL_EV_FAILED);
			/* B still rekeys afterwards. */
			info(&w, 0, ids[0][B], &b0);
			n = cnt(&w, 1, ids[1][B], VPNR_TUNNEL_EV_CHILD_REKEYED);
			assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx,
					     ids[0][B], VPNR_REKEY_CHILD,
					     w.now),
			    VPNR_OK);
			wait_ev(&w, ids, B, VPNR_TUNNEL_EV_CHILD_REKEYED,
			    n + 1);
			ikew_advance(&w, 5 * S);
			info(&w, 0, ids[0][B], &b1);
			assert_int_not_equal(b1.child_spi_in, b0.child_spi_in);
			assert_true(settled(&w, ids));
			check_both(&w, ids);
			assert_int_equal(n_init[0] + n_init[1], 1);
			ikew_free(&w);
		}
}

/* Side 1's inbound SA of tunnel k, by its data plane. */
static uint64_t
sa_in(struct ikew *w, uint64_t id)
{
	int j;

	for (j = 0; j < IKEW_MAX_SA; j++)
		if (w->s[1].sas[j].live && w->s[1].sas[j].tunnel_id == id &&
		    w->s[1].sas[j].dir == VPNR_DIR_IN)
			return w->s[1].sas[j].sa_id;
	fail();
	return 0;
}

/*
 * B's SA lifetimes run out on the responder: the soft one rekeys B
 * from there, the hard one deletes it; both over A's IKE SA.  Side 0
 * wants B up and brings it back in A's IKE SA.
 */
static void
test_share_expiry(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;
	vpnr_tunnel_info a0, a1, b0, b1;

	(void)state;
	setup(&w, 5, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	spi = one_ike(&w, ids);
	info(&w, 0, ids[0][A], &a0);
	info(&w, 0, ids[0][B], &b0);
	assert_int_equal(vpnr_dp_sa_expired(w.s[1].ctx, sa_in(&w, ids[1][B]), 0,
			     w.now),
	    VPNR_OK);
	wait_ev(&w, ids, B, VPNR_TUNNEL_EV_CHILD_REKEYED, 1);
	ikew_advance(&w, 5 * S);
	info(&w, 0, ids[0][B], &b1);
	assert_int_not_equal(b1.child_spi_in, b0.child_spi_in);
	assert_true(one_ike(&w, ids) == spi);
	check_both(&w, ids);
	/* Hard: gone on both sides, A stays. */
	assert_int_equal(vpnr_dp_sa_expired(w.s[1].ctx, sa_in(&w, ids[1][B]), 1,
			     w.now),
	    VPNR_OK);
	ikew_flush(&w);
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_CHILD_DOWN),
	    VPNR_ERR_PEER_CLOSED);
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_DOWN),
	    VPNR_ERR_PEER_CLOSED);
	assert_int_equal(installed(&w, 0, ids[0][B]), 0);
	assert_int_equal(installed(&w, 1, ids[1][B]), 0);
	assert_int_equal(ikew_check_pairs(&w), 1);
	info(&w, 0, ids[0][A], &a1);
	assert_int_equal(a1.state, VPNR_TUNNEL_ESTABLISHED);
	assert_int_equal(a1.child_spi_in, a0.child_spi_in);
	assert_true(ikew_run_until(&w, pred_ab, ids, 60 * S));
	assert_true(one_ike(&w, ids) == spi);
	check_both(&w, ids);
	assert_int_equal(n_init[0] + n_init[1], 1);
	assert_int_equal(cnt(&w, 0, ids[0][A], VPNR_TUNNEL_EV_DOWN), 0);
	assert_int_equal(cnt(&w, 1, ids[1][A], VPNR_TUNNEL_EV_DOWN), 0);
	ikew_free(&w);
}

/* 4. Closing B on either side takes only B down. */
static void
test_share_close_b(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;
	vpnr_tunnel_info a0, a1;
	int who, i;

	(void)state;
	for (who = 0; who < 2; who++) {
		setup(&w, 10 + who, ids, 1, 1);
		bring_ab(&w, ids, 20 * S);
		spi = one_ike(&w, ids);
		info(&w, 0, ids[0][A], &a0);
		assert_int_equal(vpnr_tunnel_close(w.s[who].ctx, ids[who][B],
				     w.now),
		    VPNR_OK);
		ikew_flush(&w); /* the DELETE and its answer; no time */
		assert_int_equal(reason_of(&w, who, ids[who][B],
				     VPNR_TUNNEL_EV_DOWN),
		    VPNR_ERR_LOCAL_CLOSE);
		assert_int_equal(reason_of(&w, !who, ids[!who][B],
				     VPNR_TUNNEL_EV_DOWN),
		    VPNR_ERR_PEER_CLOSED);
		for (i = 0; i < 2; i++) {
			assert_int_equal(cnt(&w, i, ids[i][B],
					     VPNR_TUNNEL_EV_DOWN),
			    1);
			assert_int_equal(cnt(&w, i, ids[i][B],
					     VPNR_TUNNEL_EV_CHILD_DOWN),
			    1);
			assert_int_equal(installed(&w, i, ids[i][B]), 0);
			check_dp(&w, ids, i, A);
		}
		assert_int_equal(ikew_check_pairs(&w), 1);
		info(&w, 0, ids[0][A], &a1);
		assert_int_equal(a1.state, VPNR_TUNNEL_ESTABLISHED);
		assert_int_equal(a1.child_spi_in, a0.child_spi_in);
		assert_true(a1.spi_i == spi);
		if (who == 0) {
			/* Closed here, and a responder there: B stays down. */
			ikew_advance(&w, 60 * S);
			for (i = 0; i < 2; i++) {
				assert_int_equal(cnt(&w, i, ids[i][B],
						     VPNR_TUNNEL_EV_UP),
				    1);
				assert_int_equal(installed(&w, i, ids[i][B]),
				    0);
			}
			assert_int_equal(ikew_check_pairs(&w), 1);
			assert_true(pred_a(&w, ids));
		} else {
			/* Side 0 wants B up: it comes back in A's IKE SA. */
			assert_true(ikew_run_until(&w, pred_ab, ids, 60 * S));
			assert_true(one_ike(&w, ids) == spi);
			assert_int_equal(n_init[0] + n_init[1], 1);
			check_both(&w, ids);
		}
		for (i = 0; i < 2; i++) {
			assert_int_equal(cnt(&w, i, ids[i][A],
					     VPNR_TUNNEL_EV_DOWN),
			    0);
			assert_int_equal(cnt(&w, i, ids[i][A],
					     VPNR_TUNNEL_EV_CHILD_DOWN),
			    0);
		}
		ikew_free(&w);
	}
}

/* 5. Closing A (side 0, side 1, or deleting it on side 0) takes its
 * guest B along, on both sides. */
static void
test_share_close_a(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;
	vpnr_tunnel_info a, b;
	int run, who, i;

	(void)state;
	for (run = 0; run < 3; run++) {
		who = run % 2;
		setup(&w, 20 + run, ids, 1, 1);
		bring_ab(&w, ids, 20 * S);
		spi = one_ike(&w, ids);
		if (run == 2)
			assert_int_equal(vpnr_tunnel_del(w.s[who].ctx,
					     ids[who][A], w.now),
			    VPNR_OK);
		else
			assert_int_equal(vpnr_tunnel_close(w.s[who].ctx,
					     ids[who][A], w.now),
			    VPNR_OK);
		ikew_flush(&w); /* the DELETE and its answer; no time */
		/* Closed or deleted, it reports its end. */
		assert_int_equal(reason_of(&w, who, ids[who][A],
				     VPNR_TUNNEL_EV_DOWN),
		    VPNR_ERR_LOCAL_CLOSE);
		assert_int_equal(reason_of(&w, who, ids[who][B],
				     VPNR_TUNNEL_EV_DOWN),
		    VPNR_ERR_TUNNEL_DOWN);
		/* The peer lost the IKE SA by its DELETE. */
		for (i = A; i <= B; i++) {
			assert_int_equal(reason_of(&w, !who, ids[!who][i],
					     VPNR_TUNNEL_EV_DOWN),
			    VPNR_ERR_PEER_CLOSED);
		}
		for (i = 0; i < 2; i++) {
			assert_int_equal(cnt(&w, i, ids[i][B],
					     VPNR_TUNNEL_EV_DOWN),
			    1);
			assert_int_equal(installed(&w, i, ids[i][B]), 0);
			assert_int_equal(installed_all(&w, i), 0);
			info(&w, i, ids[i][B], &b);
			assert_int_not_equal(b.state, VPNR_TUNNEL_ESTABLISHED);
			assert_int_equal(b.n_child_sa, 0);
		}
		if (who == 0) {
			/* B was not closed: by its reconnect policy it
			 * comes back, in an IKE SA of its own; A not. */
			assert_true(ikew_run_until(&w, pred_b, ids, 60 * S));
			info(&w, 0, ids[0][B], &b);
			assert_true(b.spi_i != 0 && b.spi_i != spi);
			if (run == 2) {
				assert_int_equal(vpnr_tunnel_get_info(w.s[0]
									  .ctx,
						     ids[0][A], &a),
				    VPNR_ERR_NOT_FOUND);
			} else {
				info(&w, 0, ids[0][A], &a);
				assert_int_equal(a.state, VPNR_TUNNEL_IDLE);
			}
			assert_int_equal(n_init[0], 2);
			assert_int_equal(ikew_check_pairs(&w), 1);
			for (i = 0; i < 2; i++)
				check_dp(&w, ids, i, B);
		}
		ikew_free(&w);
	}
}

static int
down_ab(struct ikew *w, void *arg)
{
	const struct want *x = arg;
	int i = x->k; /* the side that hears nothing */

	return cnt(w, i, x->ids[i][A], VPNR_TUNNEL_EV_DOWN) > 0 &&
	    cnt(w, i, x->ids[i][B], VPNR_TUNNEL_EV_DOWN) > 0;
}

/* 6. A silent peer: A and B go down together, nothing stays. */
static void
test_share_dead_peer(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	struct want x;
	int who, o, k;

	(void)state;
	for (who = 0; who < 2; who++) {
		o = !who;
		setup(&w, 30 + who, ids, 1, 1);
		bring_ab(&w, ids, 20 * S);
		one_ike(&w, ids);
		w.s[who].silent = 1;
		x.ids = ids;
		x.k = o;
		/* Liveness defaults: dead within 30 s. */
		assert_true(ikew_run_until(&w, down_ab, &x, 60 * S));
		for (k = A; k <= B; k++) {
			assert_int_equal(cnt(&w, o, ids[o][k],
					     VPNR_TUNNEL_EV_DOWN),
			    1);
			assert_int_equal(reason_of(&w, o, ids[o][k],
					     VPNR_TUNNEL_EV_DOWN),
			    VPNR_ERR_DEAD_PEER);
			assert_int_equal(installed(&w, o, ids[o][k]), 0);
		}
		assert_int_equal(installed_all(&w, o), 0);
		/* Restarts find nobody: still nothing installed. */
		ikew_advance(&w, 60 * S);
		assert_int_equal(installed_all(&w, o), 0);
		for (k = A; k <= B; k++)
			assert_int_equal(cnt(&w, o, ids[o][k],
					     VPNR_TUNNEL_EV_CHILD_UP),
			    1);
		ikew_free(&w);
	}
}

/* 7. Share off (the default): B makes an IKE SA of its own. */
static void
test_share_off(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a, b;
	int i;

	(void)state;
	setup(&w, 40, ids, 0, 1);
	bring_ab(&w, ids, 20 * S);
	assert_int_equal(n_init[0], 2);
	for (i = 0; i < 2; i++) {
		info(&w, i, ids[i][A], &a);
		info(&w, i, ids[i][B], &b);
		assert_true(a.spi_i != 0 && b.spi_i != 0);
		assert_true(a.spi_i != b.spi_i);
	}
	check_both(&w, ids);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
	/* Share on, both started at once: B waits for A's IKE SA while
	 * it connects, then rides it. */
	setup(&w, 41, ids, 1, 1);
	for (i = A; i <= B; i++)
		assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][i],
				     w.now),
		    VPNR_OK);
	assert_true(ikew_run_until(&w, pred_ab, ids, 20 * S));
	assert_int_equal(n_init[0], 1);
	info(&w, 0, ids[0][A], &a);
	info(&w, 0, ids[0][B], &b);
	assert_true(a.spi_i == b.spi_i);
	check_both(&w, ids);
	assert_none(&w, VPNR_TUNNEL_EV_FAILED);
	ikew_free(&w);
}

/* 8. The peer has no B: TS_UNACCEPTABLE for B, A stays. */
static void
test_share_refused(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info a0, a1;
	struct want x;
	int i, n;

	(void)state;
	setup(&w, 50, ids, 1, 0);
	bring_a(&w, ids, 20 * S);
	info(&w, 0, ids[0][A], &a0);
	assert_int_equal(vpnr_tunnel_initiate(w.s[0].ctx, ids[0][B], w.now),
	    VPNR_OK);
	/* Side 1 has no B: wait on side 0 only (k = B, side 1's id 0). */
	x.ids = ids;
	x.k = B;
	x.type = VPNR_TUNNEL_EV_FAILED;
	x.n = 1;
	assert_true(ikew_run_until(&w, pred_ev0, &x, 20 * S));
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_FAILED),
	    VPNR_ERR_TS_UNACCEPTABLE);
	assert_int_equal(last(&w, 0, ids[0][B], VPNR_TUNNEL_EV_FAILED)->notify,
	    N_TS_UNACCEPTABLE);
	assert_int_equal(installed(&w, 0, ids[0][B]), 0);
	assert_int_equal(n_init[0], 1);
	/* Retries by its reconnect policy, over A's IKE SA each time. */
	ikew_advance(&w, 120 * S);
	n = cnt(&w, 0, ids[0][B], VPNR_TUNNEL_EV_FAILED);
	assert_true(n >= 2);
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_FAILED),
	    VPNR_ERR_TS_UNACCEPTABLE);
	assert_int_equal(cnt(&w, 0, ids[0][B], VPNR_TUNNEL_EV_UP), 0);
	assert_int_equal(cnt(&w, 0, ids[0][B], VPNR_TUNNEL_EV_CHILD_UP), 0);
	assert_int_equal(installed(&w, 0, ids[0][B]), 0);
	assert_int_equal(n_init[0] + n_init[1], 1);
	/* A untouched. */
	info(&w, 0, ids[0][A], &a1);
	assert_int_equal(a1.state, VPNR_TUNNEL_ESTABLISHED);
	assert_true(a1.spi_i == a0.spi_i && a1.spi_r == a0.spi_r);
	assert_int_equal(a1.child_spi_in, a0.child_spi_in);
	assert_int_equal(ikew_check_pairs(&w), 1);
	for (i = 0; i < 2; i++) {
		assert_int_equal(cnt(&w, i, ids[i][A], VPNR_TUNNEL_EV_DOWN), 0);
		assert_int_equal(cnt(&w, i, ids[i][A],
				     VPNR_TUNNEL_EV_CHILD_DOWN),
		    0);
		check_dp(&w, ids, i, A);
	}
	ikew_free(&w);
}

/* 9. 30 % loss, duplication and reordering: bring-up and rekeys. */
static void
test_share_lossy(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], seed;
	vpnr_tunnel_info a, b;

	(void)state;
	for (seed = 1; seed <= 20; seed++) {
		setup(&w, 100 + seed, ids, 1, 1);
		w.loss_pct = 30;
		w.dup_pct = 20;
		w.reorder_pct = 20;
		bring_ab(&w, ids, 300 * S);
		assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, ids[0][B],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		ikew_advance(&w, 30 * S);
		assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, ids[1][A],
				     VPNR_REKEY_IKE, w.now),
		    VPNR_OK);
		ikew_advance(&w, 30 * S);
		assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, ids[1][B],
				     VPNR_REKEY_CHILD, w.now),
		    VPNR_OK);
		ikew_advance(&w, 30 * S);
		/* Settle: the losses may have left an SA on one side only
		 * for a moment. */
		w.loss_pct = w.dup_pct = w.reorder_pct = 0;
		ikew_advance(&w, 10 * S);
		assert_true(pred_ab(&w, ids));
		one_ike(&w, ids);
		check_both(&w, ids);
		info(&w, 0, ids[0][A], &a);
		info(&w, 0, ids[0][B], &b);
		assert_true(a.ike_rekeys >= 1);
		assert_true(b.child_rekeys >= 2);
		assert_true(w.dropped > 0);
		ikew_free(&w);
	}
}

/* ---- DELETEs crossing other exchanges of B's, made with a lost answer ---- */

static void
drop_next(int side, int exch)
{
	drop.side = side;
	drop.exch = exch;
	drop.n = 1;
}

static int
b0_down(struct ikew *w, void *arg)
{
	uint64_t(*ids)[2] = arg;

	return cnt(w, 0, ids[0][B], VPNR_TUNNEL_EV_DOWN) > 0;
}

/* Side 0 brings A up, then asks for B: side 1 makes B's CHILD_SA,
 * its answer is lost. */
static void
a_up_b_unanswered(struct ikew *w, uint64_t ids[2][2])
{
	bring_a(w, ids, 20 * S);
	drop_next(1, X_CREATE_CHILD);
	assert_int_equal(vpnr_tunnel_initiate(w->s[0].ctx, ids[0][B], w->now),
	    VPNR_OK);
	ikew_flush(w);
	assert_int_equal(drop.n, 0);
	assert_int_equal(cnt(w, 1, ids[1][B], VPNR_TUNNEL_EV_CHILD_UP), 1);
}

/*
 * The peer deletes B's current CHILD_SA while B's rekeyed one waits
 * for the answer to its DELETE: once that comes, B has no CHILD_SA
 * left, reports DOWN and, wanted up, comes back in A's IKE SA.
 */
static void
test_share_peer_delete_while_old_pair_goes(void **state)
{
	struct ikew w;
	uint64_t ids[2][2], spi;

	(void)state;
	setup(&w, 70, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	spi = one_ike(&w, ids);
	/* Side 0 rekeys B; side 1's answer to its DELETE of the old pair
	 * is lost. */
	drop_next(1, X_INFORMATIONAL);
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, ids[0][B],
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_flush(&w);
	assert_int_equal(cnt(&w, 0, ids[0][B], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	assert_int_equal(drop.n, 0);
	/* Side 1 closes B: its DELETE takes side 0's current pair. */
	assert_int_equal(vpnr_tunnel_close(w.s[1].ctx, ids[1][B], w.now),
	    VPNR_OK);
	ikew_flush(&w);
	/* The retransmitted DELETE ends the old pair, and with it B. */
	assert_true(ikew_run_until(&w, b0_down, ids, 60 * S));
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_DOWN),
	    VPNR_ERR_PEER_CLOSED);
	assert_true(ikew_run_until(&w, settled, ids, 60 * S));
	assert_true(one_ike(&w, ids) == spi);
	check_both(&w, ids);
	ikew_free(&w);
}

/*
 * Side 1 closes B while side 0's CREATE_CHILD_SA answer for B is
 * lost: side 0 must not end with a CHILD_SA that side 1 deleted.
 */
static void
test_share_close_crosses_create(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];

	(void)state;
	setup(&w, 71, ids, 1, 1);
	a_up_b_unanswered(&w, ids);
	assert_int_equal(vpnr_tunnel_close(w.s[1].ctx, ids[1][B], w.now),
	    VPNR_OK);
	ikew_flush(&w);
	/* Whatever the order, both ends agree in the end: side 0 wants B
	 * up, so it is up on both, with one pair. */
	ikew_advance(&w, 60 * S);
	assert_true(settled(&w, ids));
	check_both(&w, ids);
	ikew_free(&w);
}

/*
 * Side 0 closes B while its CHILD rekey of B waits for the answer:
 * the CHILD_SA side 1 made for that rekey must go too.
 */
static void
test_share_close_during_rekey(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	int i;

	(void)state;
	setup(&w, 72, ids, 1, 1);
	bring_ab(&w, ids, 20 * S);
	drop_next(1, X_CREATE_CHILD);
	assert_int_equal(vpnr_tunnel_rekey(w.s[0].ctx, ids[0][B],
			     VPNR_REKEY_CHILD, w.now),
	    VPNR_OK);
	ikew_flush(&w);
	assert_int_equal(drop.n, 0);
	assert_int_equal(cnt(&w, 1, ids[1][B], VPNR_TUNNEL_EV_CHILD_REKEYED),
	    1);
	assert_int_equal(vpnr_tunnel_close(w.s[0].ctx, ids[0][B], w.now),
	    VPNR_OK);
	ikew_advance(&w, 60 * S);
	assert_int_equal(reason_of(&w, 0, ids[0][B], VPNR_TUNNEL_EV_DOWN),
	    VPNR_ERR_LOCAL_CLOSE);
	assert_int_equal(cnt(&w, 1, ids[1][B], VPNR_TUNNEL_EV_DOWN), 1);
	assert_int_equal(reason_of(&w, 1, ids[1][B], VPNR_TUNNEL_EV_DOWN),
	    VPNR_ERR_PEER_CLOSED);
	for (i = 0; i < 2; i++) {
		assert_int_equal(installed(&w, i, ids[i][B]), 0);
		check_dp(&w, ids, i, A);
	}
	assert_int_equal(ikew_check_pairs(&w), 1);
	ikew_free(&w);
}

/*
 * Side 1 answers side 0's CREATE_CHILD_SA for B (the answer is lost),
 * then rekeys A's IKE SA and deletes the old one before side 0's
 * retransmission: side 0 asks again in the new IKE SA.  B must end
 * with one pair, not an extra CHILD_SA on side 1.
 */
static void
test_share_lost_answer_then_ike_rekey(void **state)
{
	struct ikew w;
	uint64_t ids[2][2];
	vpnr_tunnel_info b;

	(void)state;
	setup(&w, 73, ids, 1, 1);
	a_up_b_unanswered(&w, ids);
	assert_int_equal(vpnr_tunnel_rekey(w.s[1].ctx, ids[1][A],
			     VPNR_REKEY_IKE, w.now),
	    VPNR_OK);
	ikew_flush(&w);
	ikew_advance(&w, 60 * S);
	assert_true(settled(&w, ids));
	info(&w, 1, ids[1][B], &b);
	assert_int_equal(b.n_child_sa, 1);
	one_ike(&w, ids);
	check_both(&w, ids);
	ikew_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setter),
		cmocka_unit_test(test_share_up),
		cmocka_unit_test(test_share_child_rekey),
		cmocka_unit_test(test_share_ike_rekey),
		cmocka_unit_test(test_share_lifetimes),
		cmocka_unit_test(test_share_collisions),
		cmocka_unit_test(test_share_expiry),
		cmocka_unit_test(test_share_close_b),
		cmocka_unit_test(test_share_close_a),
		cmocka_unit_test(test_share_dead_peer),
		cmocka_unit_test(test_share_off),
		cmocka_unit_test(test_share_refused),
		cmocka_unit_test(test_share_lossy),
		cmocka_unit_test(test_share_peer_delete_while_old_pair_goes),
		cmocka_unit_test(test_share_close_crosses_create),
		cmocka_unit_test(test_share_close_during_rekey),
		cmocka_unit_test(test_share_lost_answer_then_ike_rekey),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
