/*
 * Invariants the IKE fuzzers check after every input step (header
 * only, included by fuzz_ike_engine.c and fuzz_ike_sa.c); a violation
 * prints what broke and aborts, so the fuzzer reports it as a crash.
 *
 *  - the data plane: every sa_add has a fresh, non-zero sa_id; every
 *    sa_del names a live SA (added, its add not failed) with the SPI
 *    and direction it was added with; once a tunnel is deleted none of
 *    its SAs is left installed, and once all are, no SA at all;
 *  - ids (SAs, ops, policies, tunnels) come from one counter and are
 *    never handed out twice;
 *  - events: CHILD_UP, CHILD_REKEYED and REKEYED only while the tunnel
 *    is UP, CHILD_UP naming a live inbound SA, and every event naming
 *    the tunnel it belongs to;
 *  - counters (tunnel info, vpnr_ike_stats) never go down while the
 *    tunnel lives, and an ESTABLISHED tunnel's current CHILD_SA SPIs
 *    are live SAs of that tunnel.
 * A side may have up to INV_MAX_TUN tunnels (sibling tunnels sharing an
 * IKE SA, fuzz_ike_share): each is tracked on its own.
 */
#ifndef VPNR_FUZZ_IKE_INV_H
#define VPNR_FUZZ_IKE_INV_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#define INV_MAX_SA  512
#define INV_MAX_IDS 8192
#define INV_MAX_TUN 4

struct inv_sa {
	uint64_t sa_id, tunnel_id;
	uint64_t op; /* the sa_add op */
	uint32_t spi;
	uint8_t dir;
	int live;
};

/* A tunnel of the side (tid 0: a free slot). */
struct inv_tun {
	uint64_t tid;
	int up; /* UP reported, no DOWN since */
	int have_info;
	vpnr_tunnel_info info;
};

struct inv {
	const char *who;
	struct inv_sa sa[INV_MAX_SA];
	int nsa;
	int sa_overflow; /* table full: SA checks stop */
	uint64_t ids[INV_MAX_IDS];
	int nids;
	int ids_overflow;
	struct inv_tun tun[INV_MAX_TUN]; /* the current tunnels */
	vpnr_ike_stats st;
};

static inline void
inv_fail(const struct inv *v, const char *what, uint64_t id)
{
	fprintf(stderr, "%s: invariant violated: %s (id %llu)\n",
	    v->who != NULL ? v->who : "ike", what, (unsigned long long)id);
	abort();
}

static inline void
inv_init(struct inv *v, const char *who)
{
	memset(v, 0, sizeof(*v));
	v->who = who;
}

/* A freshly handed-out id (SA, op, policy or tunnel). */
static inline void
inv_new_id(struct inv *v, uint64_t id, const char *what)
{
	int i;

	if (id == 0)
		inv_fail(v, what, id);
	if (v->ids_overflow)
		return;
	for (i = 0; i < v->nids; i++)
		if (v->ids[i] == id)
			inv_fail(v, what, id);
	if (v->nids == INV_MAX_IDS) {
		v->ids_overflow = 1;
		return;
	}
	v->ids[v->nids++] = id;
}

/* The live tunnel tid, or NULL. */
static inline struct inv_tun *
inv_tun(struct inv *v, uint64_t tid)
{
	int i;

	for (i = 0; tid != 0 && i < INV_MAX_TUN; i++)
		if (v->tun[i].tid == tid)
			return &v->tun[i];
	return NULL;
}

static inline struct inv_sa *
inv_find(struct inv *v, uint64_t sa_id)
{
	int i;

	for (i = v->nsa - 1; i >= 0; i--)
		if (v->sa[i].sa_id == sa_id)
			return &v->sa[i];
	return NULL;
}

static inline void
inv_sa_add(struct inv *v, uint64_t op, const vpnr_child_sa *sa)
{
	struct inv_sa *e;
	int i;

	inv_new_id(v, op, "sa_add op_id reused");
	/* A NAT mapping change re-issues sa_add for a live SA with new
	 * addresses (RFC 7296 2.23): the same SA moved, not a new id. */
	if ((e = inv_find(v, sa->sa_id)) != NULL && e->live) {
		if (e->spi != sa->spi || e->dir != sa->direction)
			inv_fail(v, "sa_add moved SA with other SPI/direction",
			    sa->sa_id);
		return;
	}
	if (inv_tun(v, sa->tunnel_id) == NULL)
		inv_fail(v, "sa_add for another tunnel", sa->tunnel_id);
	if (v->sa_overflow)
		return; /* live SAs untracked: a move would look like reuse */
	inv_new_id(v, sa->sa_id, "sa_add sa_id reused");
	if (v->nsa == INV_MAX_SA) {
		/* Forget the dead; if all are live, stop checking. */
		for (i = 0; i < v->nsa && v->sa[i].live; i++)
			;
		if (i == v->nsa) {
			v->sa_overflow = 1;
			return;
		}
		memmove(&v->sa[i], &v->sa[i + 1],
		    (size_t)(v->nsa - i - 1) * sizeof(v->sa[0]));
		v->nsa--;
	}
	e = &v->sa[v->nsa++];
	e->sa_id = sa->sa_id;
	e->op = op;
	e->tunnel_id = sa->tunnel_id;
	e->spi = sa->spi;
	e->dir = sa->direction;
	e->live = 1;
}

/* The host completes an sa_add that returned VPNR_ASYNC: a failed
 * one was never installed. */
static inline void
inv_complete(struct inv *v, uint64_t op, int status)
{
	int i;

	if (status >= 0)
		return;
	for (i = 0; i < v->nsa; i++)
		if (v->sa[i].op == op)
			v->sa[i].live = 0;
}

static inline void
inv_sa_del(struct inv *v, uint64_t op, const vpnr_child_sa *sa)
{
	struct inv_sa *e;

	inv_new_id(v, op, "sa_del op_id reused");
	if (v->sa_overflow)
		return;
	if ((e = inv_find(v, sa->sa_id)) == NULL) {
		/* Dead entries may have been forgotten when full. */
		if (v->nsa < INV_MAX_SA)
			inv_fail(v, "sa_del of an SA never added", sa->sa_id);
		return;
	}
	if (!e->live)
		inv_fail(v, "sa_del of an SA already deleted", sa->sa_id);
	if (e->spi != sa->spi || e->dir != sa->direction)
		inv_fail(v, "sa_del SPI/direction differ from sa_add",
		    sa->sa_id);
	e->live = 0;
}

static inline int
inv_live_spi(const struct inv *v, uint64_t tid, uint32_t spi, uint8_t dir)
{
	int i;

	for (i = 0; i < v->nsa; i++)
		if (v->sa[i].live && v->sa[i].tunnel_id == tid &&
		    v->sa[i].spi == spi && v->sa[i].dir == dir)
			return 1;
	return 0;
}

static inline void
inv_event(struct inv *v, const vpnr_tunnel_event *ev)
{
	struct inv_tun *t = inv_tun(v, ev->tunnel_id);
	struct inv_sa *e;

	if (t == NULL)
		inv_fail(v, "event for another tunnel", ev->tunnel_id);
	if (ev->type < VPNR_TUNNEL_EV_UP || ev->type > VPNR_TUNNEL_EV_FAILED)
		inv_fail(v, "event type", ev->type);
	switch (ev->type) {
	case VPNR_TUNNEL_EV_UP:
		t->up = 1;
		break;
	case VPNR_TUNNEL_EV_DOWN:
		t->up = 0;
		break;
	case VPNR_TUNNEL_EV_REKEYED:
	case VPNR_TUNNEL_EV_CHILD_REKEYED:
		if (!t->up)
			inv_fail(v, "REKEYED while the tunnel is not UP",
			    ev->sa_id);
		break;
	case VPNR_TUNNEL_EV_CHILD_UP:
		if (!t->up)
			inv_fail(v, "CHILD_UP while the tunnel is not UP",
			    ev->sa_id);
		if (ev->sa_id != 0 && !v->sa_overflow &&
		    ((e = inv_find(v, ev->sa_id)) == NULL || !e->live ||
			e->dir != VPNR_DIR_IN))
			inv_fail(v, "CHILD_UP names no live inbound SA",
			    ev->sa_id);
		break;
	default:
		break;
	}
}

#define INV_MONO(what, a, b) \
	do { \
		if ((b) < (a)) \
			inv_fail(v, what " went down", (uint64_t)(a)); \
	} while (0)

/* After each step, per tunnel: counters and the current CHILD_SA. */
static inline void
inv_check_tun(struct inv *v, struct inv_tun *t, const vpnr_ctx *ctx)
{
	vpnr_tunnel_info ti;

	if (t->tid == 0 || vpnr_tunnel_get_info(ctx, t->tid, &ti) != VPNR_OK)
		return;
	if (ti.state > VPNR_TUNNEL_CLOSING)
		inv_fail(v, "tunnel state", ti.state);
	if (t->have_info) {
		INV_MONO("retransmits", t->info.retransmits, ti.retransmits);
		INV_MONO("tunnel malformed", t->info.malformed, ti.malformed);
		INV_MONO("ike_rekeys", t->info.ike_rekeys, ti.ike_rekeys);
		INV_MONO("child_rekeys", t->info.child_rekeys, ti.child_rekeys);
	}
	t->info = ti;
	t->have_info = 1;
	if (!v->sa_overflow && ti.state == VPNR_TUNNEL_ESTABLISHED &&
	    ti.child_spi_in != 0 &&
	    (!inv_live_spi(v, t->tid, ti.child_spi_in, VPNR_DIR_IN) ||
		!inv_live_spi(v, t->tid, ti.child_spi_out, VPNR_DIR_OUT)))
		inv_fail(v, "current CHILD_SA SPIs are not live SAs",
		    ti.child_spi_in);
}

/* After each step: the context's counters, then each tunnel. */
static inline void
inv_check(struct inv *v, const vpnr_ctx *ctx)
{
	vpnr_ike_stats st;
	int i;

	if (ctx == NULL)
		return;
	if (vpnr_ike_get_stats(ctx, &st) != VPNR_OK)
		inv_fail(v, "vpnr_ike_get_stats failed", 0);
	INV_MONO("cookies_sent", v->st.cookies_sent, st.cookies_sent);
	INV_MONO("refused_per_source", v->st.refused_per_source,
	    st.refused_per_source);
	INV_MONO("refused_limit", v->st.refused_limit, st.refused_limit);
	INV_MONO("refused_critical", v->st.refused_critical,
	    st.refused_critical);
	INV_MONO("refused_version", v->st.refused_version, st.refused_version);
	INV_MONO("notifies_rate_limited", v->st.notifies_rate_limited,
	    st.notifies_rate_limited);
	INV_MONO("ike malformed", v->st.malformed, st.malformed);
	if (st.half_open_sources > st.half_open)
		inv_fail(v, "more half-open sources than half-open SAs",
		    st.half_open_sources);
	v->st = st;
	for (i = 0; i < INV_MAX_TUN; i++)
		inv_check_tun(v, &v->tun[i], ctx);
}

/* A tunnel was added (id from vpnr_tunnel_add). */
static inline void
inv_tunnel_added(struct inv *v, uint64_t tid)
{
	struct inv_tun *t = inv_tun(v, tid);
	int i;

	inv_new_id(v, tid, "tunnel id reused");
	for (i = 0; t == NULL && i < INV_MAX_TUN; i++)
		if (v->tun[i].tid == 0)
			t = &v->tun[i];
	if (t == NULL) /* deletes failed: forget the last one */
		t = &v->tun[INV_MAX_TUN - 1];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
}

/* vpnr_tunnel_del returned (outside callbacks: done at once). */
static inline void
inv_tunnel_gone(struct inv *v, uint64_t tid)
{
	struct inv_tun *t;
	int i;

	if (!v->sa_overflow)
		for (i = 0; i < v->nsa; i++)
			if (v->sa[i].live && v->sa[i].tunnel_id == tid)
				inv_fail(v,
				    "SA left installed after the "
				    "tunnel was deleted",
				    v->sa[i].sa_id);
	if ((t = inv_tun(v, tid)) != NULL)
		memset(t, 0, sizeof(*t));
}

/* Every tunnel of the side was deleted: nothing may stay installed
 * (a sibling's CHILD_SAs go with the IKE SA they rode). */
static inline void
inv_all_gone(const struct inv *v)
{
	int i;

	if (!v->sa_overflow)
		for (i = 0; i < v->nsa; i++)
			if (v->sa[i].live)
				inv_fail(v,
				    "SA left installed after every tunnel "
				    "was deleted",
				    v->sa[i].sa_id);
}

#endif /* VPNR_FUZZ_IKE_INV_H */
