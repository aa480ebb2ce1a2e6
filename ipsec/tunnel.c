/*
 * Tunnels: the public tunnel API, the IKE module's life on the
 * context, events, dead peer detection, reconnects and the hooks the
 * context and BGP use (ctx->ike_*, bgp_tunnel_changed, SA expiry from
 * the data plane).
 */
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "addr.h"
#include "ctx.h"
#include "dp.h"
#include "ike.h"
#include "log.h"
#include "mem.h"
#include "vstruct.h"

static int
tunnel_cmp(const struct tunnel *a, const struct tunnel *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(vpnr__tunnel_tree, tunnel, entry, tunnel_cmp)

/* Address bytes only, family first; ports never match a tunnel. */
static int
addr_order(const vpnr_addr *a, const vpnr_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, vpnr__addr_len(a));
}

/* Peer address, then local address, then id: one peer's tunnels are
 * one range, and an exact (remote, local) pair is one lookup. */
static int
tunnel_peer_cmp(const struct tunnel *a, const struct tunnel *b)
{
	int c;

	if ((c = addr_order(&a->cfg.remote, &b->cfg.remote)) != 0)
		return c;
	if ((c = addr_order(&a->cfg.local, &b->cfg.local)) != 0)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(vpnr__tunnel_peer_tree, tunnel, peer_entry, tunnel_peer_cmp)

static int dpd_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);

/* The tunnel has an IKE / ISAKMP SA: connecting or up. */
static int
has_sa(const struct tunnel *t)
{
	return vpnr__tunnel_v1(t) ? vpnr__v1_tunnel_has_sa(t) : t->ike != NULL;
}

/* An established IKE SA (IKEv1: its own or a sibling's ISAKMP SA). */
static int
sa_up(vpnr_ctx *ctx, struct tunnel *t)
{
	if (vpnr__tunnel_v1(t))
		return vpnr__v1_tunnel_up(ctx, t);
	return t->ike != NULL && t->ike->state == IKE_ESTABLISHED;
}
static int reconnect_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);
static int tunnel_start(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);

/* ---- module ---- */

static void
tunnel_free(vpnr_ctx *ctx, struct tunnel *t, int dp_ops)
{
	struct child_sa *c;
	struct ike_sa *sa;

	vpnr__timer_disarm(ctx, &t->dpd_timer);
	vpnr__timer_disarm(ctx, &t->reconnect_timer);
	while ((c = TAILQ_FIRST(&t->children)) != NULL) {
		vpnr__timer_disarm(ctx, &c->rekey_timer);
		TAILQ_REMOVE(&t->children, c, entry);
		RB_REMOVE(vpnr__child_id_tree, &vpnr__ike(ctx)->children, c);
		RB_REMOVE(vpnr__child_spi_tree, &vpnr__ike(ctx)->child_spis, c);
		if (dp_ops)
			vpnr__child_dp_remove(ctx, c);
		vpnr__free(ctx->mem, c->ts_local); /* and ts_remote */
		vpnr__freezero(ctx->mem, c->peer_rekey_nonce,
		    c->peer_rekey_nonce_len);
		vpnr__freezero(ctx->mem, c, sizeof(*c));
	}
	while ((sa = TAILQ_FIRST(&t->sas)) != NULL)
		vpnr__ike_sa_free(ctx, sa);
	vpnr__v1_tunnel_free(ctx, t);
	vpnr__tunnel_config_clear(&t->cfg);
	vpnr__freezero(ctx->mem, t, sizeof(*t));
}

static void
ike_free(vpnr_ctx *ctx)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct tunnel *t;

	if (ike == NULL)
		return;
	while ((t = RB_MIN(vpnr__tunnel_tree, &ike->tunnels)) != NULL) {
		RB_REMOVE(vpnr__tunnel_tree, &ike->tunnels, t);
		RB_REMOVE(vpnr__tunnel_peer_tree, &ike->by_peer, t);
		tunnel_free(ctx, t, 0);
	}
	vpnr__freezero(ctx->mem, ike->scratch, ike->scratch_cap);
	vpnr__freezero(ctx->mem, ike, sizeof(*ike));
	ctx->ike = NULL;
}

static int close_now(vpnr_ctx *, uint64_t, uint32_t, vpnr_tstamp);

static int
ike_shutdown(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct tunnel *t;

	if (ike == NULL)
		return VPNR_OK;
	RB_FOREACH(t, vpnr__tunnel_tree, &ike->tunnels)
		close_now(ctx, t->id, 0, now);
	return VPNR_OK;
}

static int
ike_tunnel_lookup(const vpnr_ctx *ctx, uint64_t id, uint32_t *if_id,
    int *child_up)
{
	struct tunnel *t;
	struct child_sa *c;

	t = vpnr__tunnel_find((vpnr_ctx *)ctx, id);
	if (t == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (if_id != NULL)
		*if_id = t->cfg.if_id;
	if (child_up != NULL) {
		*child_up = 0;
		TAILQ_FOREACH(c, &t->children, entry)
			if (vpnr__child_live(c))
				*child_up = 1;
	}
	return VPNR_OK;
}

int
vpnr__ike_init(vpnr_ctx *ctx)
{
	struct vpnr__ike *ike;

	if (ctx->ike != NULL)
		return VPNR_OK;
	ike = vpnr__calloc(ctx->mem, 1, sizeof(*ike));
	if (ike == NULL)
		return VPNR_ERR_NOMEM;
	RB_INIT(&ike->tunnels);
	RB_INIT(&ike->by_peer);
	RB_INIT(&ike->sas);
	RB_INIT(&ike->req_spis);
	RB_INIT(&ike->children);
	RB_INIT(&ike->child_spis);
	RB_INIT(&ike->v1_sas);
	ike->scratch_cap = VPNR__IKE_MAX_MSG;
	ike->scratch = vpnr__malloc(ctx->mem, ike->scratch_cap);
	if (ike->scratch == NULL ||
	    vpnr__random(ctx, ike->cookie_secret, sizeof(ike->cookie_secret)) !=
		VPNR_OK) {
		vpnr__free(ctx->mem, ike->scratch);
		vpnr__free(ctx->mem, ike);
		return VPNR_ERR_NOMEM;
	}
	ctx->ike = ike;
	ctx->ike_free = ike_free;
	ctx->ike_shutdown = ike_shutdown;
	ctx->ike_tunnel_lookup = ike_tunnel_lookup;
	vpnr__dp_set_expired_handler(ctx, vpnr__child_expired);
	return VPNR_OK;
}

struct tunnel *
vpnr__tunnel_find(vpnr_ctx *ctx, uint64_t id)
{
	struct tunnel key;

	if (ctx->ike == NULL)
		return NULL;
	key.id = id;
	return RB_FIND(vpnr__tunnel_tree, &vpnr__ike(ctx)->tunnels, &key);
}

struct tunnel *
vpnr__tunnel_first_by_peer(vpnr_ctx *ctx, const vpnr_addr *remote)
{
	struct tunnel key, *t;

	memset(&key.cfg.local, 0, sizeof(key.cfg.local)); /* sorts first */
	key.cfg.remote = *remote;
	key.id = 0;
	t = RB_NFIND(vpnr__tunnel_peer_tree, &vpnr__ike(ctx)->by_peer, &key);
	if (t == NULL || !vpnr__addr_eq(&t->cfg.remote, remote))
		return NULL;
	return t;
}

struct tunnel *
vpnr__tunnel_next_by_peer(vpnr_ctx *ctx, struct tunnel *t)
{
	struct tunnel *n =
	    RB_NEXT(vpnr__tunnel_peer_tree, &vpnr__ike(ctx)->by_peer, t);

	if (n == NULL || !vpnr__addr_eq(&n->cfg.remote, &t->cfg.remote))
		return NULL;
	return n;
}

/*
 * The tunnel for an IKE_SA_INIT from remote to local: the first one
 * configured for exactly that pair, else the first one for the peer
 * address (IKE_AUTH's identity may move the SA to a sibling).
 */
struct tunnel *
vpnr__tunnel_match(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	struct tunnel key, *t;

	key.cfg.local = *local;
	key.cfg.remote = *remote;
	key.id = 0;
	t = RB_NFIND(vpnr__tunnel_peer_tree, &vpnr__ike(ctx)->by_peer, &key);
	if (t != NULL && vpnr__addr_eq(&t->cfg.remote, remote) &&
	    vpnr__addr_eq(&t->cfg.local, local))
		return t;
	return vpnr__tunnel_first_by_peer(ctx, remote);
}

vpnr_tstamp
vpnr__jitter(vpnr_ctx *ctx, vpnr_tstamp t, uint32_t percent)
{
	uint64_t r = 0, span;

	if (percent == 0)
		return t;
	span = t / 100 * percent;
	if (span == 0 || vpnr__random(ctx, &r, sizeof(r)) != VPNR_OK)
		return t;
	return t - r % span;
}

/* ---- events ---- */

void
vpnr__tunnel_event(vpnr_ctx *ctx, struct tunnel *t, uint32_t type, int reason,
    uint16_t notify, uint64_t sa_id)
{
	vpnr_tunnel_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.reason = reason;
	ev.tunnel_id = t->id;
	ev.tunnel_user_data = t->user_data;
	ev.sa_id = sa_id;
	ev.notify = notify;
	if (vpnr__tunnel_v1(t)) {
		vpnr__v1_fill_event(ctx, t, &ev);
	} else if (t->ike != NULL) {
		ev.local = t->ike->local;
		ev.remote = t->ike->remote;
		ev.ike_spi_i = t->ike->spi_i;
		ev.ike_spi_r = t->ike->spi_r;
	} else {
		ev.local = t->cfg.local;
		ev.remote = t->cfg.remote;
	}
	vpnr__cb_tunnel_event(ctx, &ev);
}

void
vpnr__tunnel_child_changed(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct child_sa *c;
	int up = 0;

	/* Only installed pairs count: BGP starts over them. */
	TAILQ_FOREACH(c, &t->children, entry)
		if (vpnr__child_live(c))
			up = 1;
	if (up == t->child_up_reported)
		return;
	t->child_up_reported = up;
	/* Usable again: the next failure backs off from the start. */
	if (up) {
		t->reconnects = 0;
		t->permanent_logged = 0;
	}
	if (ctx->bgp_tunnel_changed != NULL)
		ctx->bgp_tunnel_changed(ctx, t->id, up, now);
}

/* ---- liveness ---- */

/*
 * Liveness is kept apart from the handshakes' retransmissions.  Proof
 * of life (alive_at) is any authenticated message from the peer and
 * inbound ESP seen through the data plane's counters.  After
 * dpd_interval without it, probing starts: an empty INFORMATIONAL (or
 * the request already outstanding) is retransmitted on the probe
 * schedule, and if nothing authenticated arrives within dpd_timeout
 * of the start, the peer is dead.
 *
 * The probe schedule starts at 0.5 s and doubles, capped at
 * dpd_timeout / 20, so that about 20 probes fit in the timeout:
 * defaults 0.5 s, then 1 s: probes at 0, 0.5, 1.5, 2.5 ... 19.5 s,
 * 21 of them.  A silent, idle but live peer at 40 % random loss each
 * way answers one probe with p = 0.6 * 0.6 = 0.36 (each retransmission
 * is answered from the peer's cached response), so it is declared
 * dead in one probe round with P = 0.64^21 = 8.5e-5 (0.64^20 = 1.3e-4
 * counting only probes whose answer has 0.5 s to arrive), well below
 * 1e-3; with 1.5 s or 2 s caps it would be 1.2e-3 or 4.7e-3.
 * A dead peer is declared at most dpd_interval + dpd_timeout (30 s)
 * after its last sign of life.
 */
/*
 * Two idle peers should not both probe: one's request is the other's
 * proof of life.  When the peer's requests are what keeps an IKE SA's
 * responder informed (one came within the last interval), the
 * responder looks a little later (grace: a sixteenth of the interval,
 * at most a quarter of the timeout), so the initiator's next probe
 * reaches it first and it does not probe while the initiator lives.
 * Its probe round is shorter by as much: either end still declares a
 * silent peer dead interval + timeout after its last sign of life.
 */
static vpnr_tstamp
dpd_grace(const struct tunnel *t)
{
	vpnr_tstamp g = t->cfg.dpd_interval / 16;

	if (t->ike == NULL || t->ike->initiator || t->peer_req_at == 0 ||
	    t->alive_at - t->peer_req_at >= t->cfg.dpd_interval)
		return 0;
	return g < t->cfg.dpd_timeout / 4 ? g : t->cfg.dpd_timeout / 4;
}

/* The next look, and the end of a probe round. */
static vpnr_tstamp
dpd_due(const struct tunnel *t)
{
	return t->alive_at + t->cfg.dpd_interval + dpd_grace(t);
}

static vpnr_tstamp
dpd_dead_at(const struct tunnel *t)
{
	return t->probe_start + t->cfg.dpd_timeout - dpd_grace(t);
}

/* When the liveness timer looks next: the end of the probe round (or
 * IKEv1's next R-U-THERE), else the end of the interval; with
 * suspicion on, at least every quarter of its time, to see ESP. */
static vpnr_tstamp
next_look(const struct tunnel *t, vpnr_tstamp now)
{
	vpnr_tstamp at;

	if (vpnr__tunnel_probing(t)) {
		at = dpd_dead_at(t);
		if (vpnr__tunnel_v1(t) && t->probe_next < at)
			at = t->probe_next;
	} else
		at = dpd_due(t);
	if (t->cfg.suspect_after != 0 && now + t->cfg.suspect_after / 4 < at)
		at = now + t->cfg.suspect_after / 4;
	return at;
}

static void
set_suspect(vpnr_ctx *ctx, struct tunnel *t, int suspect, vpnr_tstamp now)
{
	if (t->suspect == suspect)
		return;
	t->suspect = suspect;
	if (suspect)
		vpnr__log(ctx, VPNR_LOG_NOTICE, "ike",
		    "tunnel %llu: ESP out, nothing back for %llu ms: suspect",
		    (unsigned long long)t->id,
		    (unsigned long long)((now - t->alive_at) /
			(VPNR_SECONDS / 1000)));
	else
		vpnr__log(ctx, VPNR_LOG_NOTICE, "ike",
		    "tunnel %llu: the peer is alive again",
		    (unsigned long long)t->id);
	vpnr__tunnel_event(ctx, t,
	    suspect ? VPNR_TUNNEL_EV_SUSPECT : VPNR_TUNNEL_EV_LIVE,
	    suspect ? VPNR_ERR_TIMEOUT : VPNR_OK, 0, 0);
	if (ctx->bgp_tunnel_suspect != NULL)
		ctx->bgp_tunnel_suspect(ctx, t->id, suspect, now);
}

void
vpnr__tunnel_alive(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	int probing;

	if (t == NULL || now <= t->alive_at)
		return;
	probing = vpnr__tunnel_probing(t);
	t->alive_at = now;
	if (ctx == NULL)
		return; /* the liveness timer itself looked */
	if (t->suspect)
		set_suspect(ctx, t, 0, now);
	/* Probing is over: the next look is an interval from now (else
	 * the timer waits for the end of the probe round). */
	if (probing && t->cfg.dpd_interval != 0)
		vpnr__timer_arm(ctx, &t->dpd_timer, next_look(t, now));
}

int
vpnr__tunnel_probing(const struct tunnel *t)
{
	return t->probe_start != 0 && t->alive_at < t->probe_start;
}

vpnr_tstamp
vpnr__tunnel_probe_rtx(const struct tunnel *t, uint32_t tries)
{
	vpnr_tstamp cap = t->cfg.dpd_timeout / 20, d = VPNR__IKE_PROBE_FIRST;

	if (cap < VPNR_SECONDS / 10)
		cap = VPNR_SECONDS / 10;
	while (tries-- > 0 && d < cap)
		d *= 2;
	return d < cap ? d : cap;
}

void
vpnr__tunnel_dpd_arm(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	if (t->cfg.dpd_interval == 0 || !sa_up(ctx, t)) {
		vpnr__timer_disarm(ctx, &t->dpd_timer);
		return;
	}
	vpnr__timer_arm(ctx, &t->dpd_timer, next_look(t, now));
}

/*
 * Inbound ESP as proof of life: packets or last_used advanced on the
 * inbound SA of a CHILD_SA in use since the last look.  Data planes
 * without sa_query leave it to IKE.
 */
static void
esp_alive(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct child_sa *c;
	uint64_t bytes = 0, packets = 0;
	vpnr_tstamp used = 0;

	TAILQ_FOREACH(c, &t->children, entry) {
		if (!vpnr__child_live(c))
			continue;
		if (vpnr__dp_sa_query(ctx, c->sa_id_in, &bytes, &packets,
			&used) != VPNR_OK)
			continue;
		if (packets == c->seen_packets && used == c->seen_used)
			continue;
		c->seen_packets = packets;
		c->seen_used = used;
		/* The data plane's clock is the host's: trust last_used
		 * when it is sane, else the traffic came since we last
		 * looked, which is as good as now. */
		vpnr__tunnel_alive(NULL, t,
		    used != 0 && used <= now ? used : now);
	}
}

/* Suspicion's other half: ESP leaving since the last look, timed as
 * esp_alive() times what arrives (last_used when sane, else now), so
 * that a request and its answer seen in one look compare right. */
static void
esp_sent(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct child_sa *c;
	uint64_t bytes = 0, packets = 0;
	vpnr_tstamp used = 0, at;

	TAILQ_FOREACH(c, &t->children, entry) {
		if (!vpnr__child_live(c) ||
		    vpnr__dp_sa_query(ctx, c->sa_id_out, &bytes, &packets,
			&used) != VPNR_OK ||
		    packets == c->seen_out_packets)
			continue;
		c->seen_out_packets = packets;
		at = used != 0 && used <= now ? used : now;
		if (at > t->sent_at)
			t->sent_at = at;
	}
}

/*
 * Suspicion (vpnr_tunnel_config_set_suspect): ESP going out with
 * nothing back for half the time starts the probe round early (the
 * caller probes when this returns 1); nothing back for the whole time,
 * with the probe out for half of it, makes the tunnel suspect.  Life
 * ends it (vpnr__tunnel_alive, or here after esp_alive).
 */
static int
suspicion(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	vpnr_tstamp after = t->cfg.suspect_after;

	if (after == 0)
		return 0;
	esp_sent(ctx, t, now);
	if (!vpnr__tunnel_probing(t)) {
		if (t->suspect)
			set_suspect(ctx, t, 0, now);
		return t->sent_at > t->alive_at &&
		    now >= t->alive_at + after / 2;
	}
	/* An idle tunnel is never suspect: DPD speaks for it. */
	if (!t->suspect && t->sent_at > t->alive_at &&
	    now >= t->alive_at + after && now >= t->probe_start + after / 2)
		set_suspect(ctx, t, 1, now);
	return 0;
}

/* Every CHILD_SA goes; each CHILD_DOWN says why (its own reason, if
 * it had one: a failed install). */
void
vpnr__tunnel_children_down(vpnr_ctx *ctx, struct tunnel *t, int reason,
    vpnr_tstamp now)
{
	struct child_sa *c;

	TAILQ_FOREACH(c, &t->children, entry)
		if (c->down_reason == 0)
			c->down_reason = reason;
	vpnr__child_destroy_all(ctx, t, now);
}

/* share_ike tunnels that waited for t's IKE SA start at once, after
 * what is under way on it (a zero-delay timer), and ride it.  Only
 * looked for while some tunnel has share_ike. */
static void
start_waiting_siblings(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct tunnel *o;

	if (vpnr__ike(ctx)->n_share == 0)
		return;
	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o))
		if (o->cfg.share_ike && o->want_up && o->ike == NULL &&
		    o->state == VPNR_TUNNEL_CONNECTING &&
		    vpnr__ike_sibling(t, o))
			vpnr__timer_arm(ctx, &o->reconnect_timer, now);
}

void
vpnr__tunnel_ike_up(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now)
{
	struct ike_sa *old = t->ike;

	if (old != NULL && old != sa && vpnr__ike_guest(t)) {
		vpnr__ike_guest_part(ctx, t, now);
	} else if (old != NULL && old != sa) {
		/* A new IKE SA replaces the old one (peer restarted, or a
		 * crossed initiation): the old one and its children go. */
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKE_SA %016llx_i %016llx_r replaces %016llx_i %016llx_r",
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r,
		    (unsigned long long)old->spi_i,
		    (unsigned long long)old->spi_r);
		t->ike = NULL;
		/* The peer started over: what it had is gone. */
		vpnr__tunnel_children_down(ctx, t, VPNR_ERR_PEER_CLOSED, now);
		vpnr__ike_sa_dead(ctx, old, VPNR_ERR_PEER_CLOSED, 0, now);
	}
	t->ike = sa;
	vpnr__tunnel_up(ctx, t, now);
	start_waiting_siblings(ctx, t, now);
}

void
vpnr__tunnel_up(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	t->state = VPNR_TUNNEL_ESTABLISHED;
	t->established_at = now;
	t->last_error = 0;
	t->alive_at = now;
	t->probe_start = 0;
	t->sent_at = 0;
	set_suspect(ctx, t, 0, now); /* a new IKE SA is a sign of life */
	vpnr__timer_disarm(ctx, &t->reconnect_timer);
	vpnr__tunnel_dpd_arm(ctx, t, now);
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_UP, 0, 0, 0);
}

void
vpnr__tunnel_fail(vpnr_ctx *ctx, struct tunnel *t, int reason, uint16_t notify,
    vpnr_tstamp now)
{
	struct ike_sa *sa = t->ike;

	if (sa == NULL || sa->state != IKE_ESTABLISHED)
		return;
	if (vpnr__ike_guest(t)) { /* the IKE SA is its host's */
		vpnr__ike_guest_leave(ctx, t, reason, notify, now);
		return;
	}
	sa->close_reason = reason;
	sa->close_notify = notify;
	/* Could the DELETE not be queued, the IKE SA ended already and
	 * its tunnel reported why. */
	if (vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "tunnel %llu: IKE_SA ended without its DELETE",
		    (unsigned long long)t->id);
}

/* Failures that another try will not fix: the peer's or our
 * configuration has to change first. */
static int
permanent_failure(int reason)
{
	return reason == VPNR_ERR_AUTH_FAILED ||
	    reason == VPNR_ERR_NO_PROPOSAL ||
	    reason == VPNR_ERR_TS_UNACCEPTABLE;
}

/*
 * Jittered exponential backoff: base doubling per failure since a
 * CHILD_SA was last up, capped, and up to half of it taken off at
 * random so that many tunnels that failed together do not retry in
 * step.  A failure that will not fix itself starts and ends higher and
 * is said once per streak.
 */
static void
schedule_reconnect(vpnr_ctx *ctx, struct tunnel *t, int reason, vpnr_tstamp now)
{
	int perm = permanent_failure(reason);
	vpnr_tstamp d =
	    perm ? VPNR__IKE_RECONNECT_PERM_BASE : VPNR__IKE_RECONNECT_BASE;
	vpnr_tstamp max =
	    perm ? VPNR__IKE_RECONNECT_PERM_MAX : VPNR__IKE_RECONNECT_MAX;
	uint32_t i;

	for (i = 0; i < t->reconnects && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	d = vpnr__jitter(ctx, d, 50);
	if (t->reconnects < UINT32_MAX)
		t->reconnects++;
	if (perm && !t->permanent_logged) {
		t->permanent_logged = 1;
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "tunnel %llu: %s will not go away without a configuration "
		    "change on one side; retrying every %llu s at most",
		    (unsigned long long)t->id, vpnr_err_name(reason),
		    (unsigned long long)(max / VPNR_SECONDS));
	}
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu: reconnecting in %llu ms", (unsigned long long)t->id,
	    (unsigned long long)(d / (VPNR_SECONDS / 1000)));
	vpnr__timer_arm(ctx, &t->reconnect_timer, now + d);
}

void
vpnr__tunnel_ike_gone(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    int reason, uint16_t notify, vpnr_tstamp now)
{
	if (t->ike != sa) {
		/* A responder's half-open attempt failed. */
		if (reason != 0 && reason != VPNR_ERR_LOCAL_CLOSE) {
			t->last_error = reason;
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED,
			    reason, notify, 0);
		}
		return;
	}
	vpnr__tunnel_gone(ctx, t, reason, notify, now);
}

void
vpnr__tunnel_gone(vpnr_ctx *ctx, struct tunnel *t, int reason, uint16_t notify,
    vpnr_tstamp now)
{
	int was_up = t->state == VPNR_TUNNEL_ESTABLISHED ||
	    (t->state == VPNR_TUNNEL_CLOSING && t->established_at != 0);

	/* Every end has a reason; one that lost it was ours. */
	if (reason == 0)
		reason = VPNR_ERR_LOCAL_CLOSE;
	vpnr__tunnel_children_down(ctx, t, reason, now);
	vpnr__timer_disarm(ctx, &t->dpd_timer);
	t->probe_start = 0;
	t->suspect = 0; /* BGP hears DOWN, which ends suspicion too */
	if (reason != VPNR_ERR_LOCAL_CLOSE)
		t->last_error = reason;
	/* A close of a tunnel still connecting reports DOWN, not FAILED. */
	vpnr__tunnel_event(ctx, t,
	    was_up || reason == VPNR_ERR_LOCAL_CLOSE ? VPNR_TUNNEL_EV_DOWN :
						       VPNR_TUNNEL_EV_FAILED,
	    reason, notify, 0);
	vpnr__tunnel_drop_ike(t);
	t->state = VPNR_TUNNEL_IDLE;
	t->established_at = 0;
	if (reason == VPNR_ERR_LOCAL_CLOSE)
		return; /* closed here: never reconnects by itself */
	/* A dead peer: the DPD action decides (restart makes even a
	 * responder-only tunnel initiate; clear stays down until the
	 * next vpnr_tunnel_initiate; none only reports). */
	if (reason == VPNR_ERR_DEAD_PEER ||
	    (reason == VPNR_ERR_TIMEOUT && was_up)) {
		if (t->cfg.dpd_action != VPNR_DPD_ACTION_RESTART) {
			if (t->cfg.dpd_action == VPNR_DPD_ACTION_CLEAR)
				t->want_up = 0;
			return;
		}
		t->want_up = 1;
	}
	/* Every other end of a tunnel we want up is retried. */
	if (t->want_up)
		schedule_reconnect(ctx, t, reason, now);
}

void
vpnr__tunnel_peer_moved(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now)
{
	vpnr_addr l = sa->local, r = sa->remote;
	struct child_sa *c;

	(void)now;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu: peer now at %s (NAT mapping changed), moving its "
	    "CHILD_SAs",
	    (unsigned long long)t->id,
	    vpnr_addr_format(&r, (char[64]){ 0 }, 64));
	if (!sa->natt)
		l.port = r.port = 0;
	/* Updated in place (make-before-break has nothing to break):
	 * a failure takes the CHILD_SA down as a failed install does. */
	TAILQ_FOREACH(c, &t->children, entry) {
		if (vpnr__dp_sa_move(ctx, c->sa_id_in, &r, &l) ==
			VPNR_ERR_DATAPLANE ||
		    vpnr__dp_sa_move(ctx, c->sa_id_out, &l, &r) ==
			VPNR_ERR_DATAPLANE)
			vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
			    "CHILD_SA %08x_i %08x_o: the data plane refused "
			    "the new outer addresses",
			    c->spi_in, c->spi_out);
	}
}

/* ---- timers ---- */

/* Nothing came within the probe round: the IKE SA (IKEv1: the
 * tunnel's ISAKMP SAs) goes, and the DPD action runs. */
static void
peer_dead(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	vpnr_tunnel_event ev;

	memset(&ev, 0, sizeof(ev));
	if (vpnr__tunnel_v1(t))
		vpnr__v1_fill_event(ctx, t, &ev);
	else {
		ev.ike_spi_i = t->ike->spi_i;
		ev.ike_spi_r = t->ike->spi_r;
	}
	vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
	    "tunnel %llu: nothing from the peer for %llu s, declaring IKE SA "
	    "%016llx_i %016llx_r dead",
	    (unsigned long long)t->id,
	    (unsigned long long)((now - t->alive_at) / VPNR_SECONDS),
	    (unsigned long long)ev.ike_spi_i, (unsigned long long)ev.ike_spi_r);
	t->probe_start = 0;
	if (vpnr__tunnel_v1(t))
		vpnr__v1_tunnel_end(ctx, t, VPNR_ERR_DEAD_PEER, 0, now);
	else
		vpnr__ike_sa_dead(ctx, t->ike, VPNR_ERR_DEAD_PEER, 0, now);
}

/*
 * A probe on the schedule of vpnr__tunnel_probe_rtx (first: the round
 * starts).  IKEv2: the round's one request (an empty INFORMATIONAL, or
 * the request already outstanding, a rekey say) retransmits itself on
 * that schedule.  IKEv1: an informational exchange is not
 * retransmitted, so each probe is a new R-U-THERE (RFC 3706).
 */
static int
probe(vpnr_ctx *ctx, struct tunnel *t, int first, vpnr_tstamp now)
{
	struct ike_sa *sa = t->ike;

	if (vpnr__tunnel_v1(t)) {
		t->probe_tries = first ? 0 : t->probe_tries + 1;
		t->probe_next = now + vpnr__tunnel_probe_rtx(t, t->probe_tries);
		return vpnr__v1_tunnel_probe(ctx, t, now);
	}
	if (!first)
		return VPNR_OK;
	if (sa->req_type != REQ_NONE) {
		sa->req_tries = 0;
		vpnr__timer_arm(ctx, &sa->rtx_timer,
		    now + vpnr__tunnel_probe_rtx(t, 0));
		return VPNR_OK;
	}
	return vpnr__ike_task_rv(vpnr__ike_sa_task(ctx, sa, REQ_DPD, 0, now));
}

static int
dpd_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct tunnel *t = tm->arg;
	int worry, rv = VPNR_OK;

	if (t->cfg.dpd_interval == 0)
		return VPNR_OK;
	if (!sa_up(ctx, t)) {
		/* IKEv1: the sibling's ISAKMP SA it used went; one of its
		 * own, so that liveness and rekeys go on. */
		if (vpnr__tunnel_v1(t) && t->want_up &&
		    !TAILQ_EMPTY(&t->children) && !has_sa(t))
			return vpnr__v1_tunnel_start(ctx, t, now);
		return VPNR_OK;
	}
	esp_alive(ctx, t, now);
	worry = suspicion(ctx, t, now);
	if (vpnr__tunnel_probing(t)) {
		if (now >= dpd_dead_at(t)) {
			peer_dead(ctx, t, now);
			return VPNR_OK;
		}
		if (vpnr__tunnel_v1(t) && now >= t->probe_next)
			rv = probe(ctx, t, 0, now);
	} else if (dpd_due(t) <= now || worry) {
		/* Silent for an interval, or sending into silence: probe. */
		t->probe_start = now;
		rv = probe(ctx, t, 1, now);
	} else
		t->probe_start = 0;
	if (sa_up(ctx, t))
		vpnr__timer_arm(ctx, tm, next_look(t, now));
	return rv;
}

static int
reconnect_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct tunnel *t = tm->arg;

	if (!t->want_up || has_sa(t))
		return VPNR_OK;
	return tunnel_start(ctx, t, now);
}

/* ---- public API ---- */

int
vpnr_tunnel_add(vpnr_ctx *ctx, const vpnr_tunnel_config *tc,
    void *tunnel_user_data, uint64_t *tunnel_id)
{
	struct tunnel *t;
	char err[160];
	int rv;

	if (ctx == NULL || tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rv = vpnr__ike_init(ctx)) != VPNR_OK)
		return rv;
	t = vpnr__calloc(ctx->mem, 1, sizeof(*t));
	if (t == NULL)
		return VPNR_ERR_NOMEM;
	rv = vpnr__tunnel_config_copy(&t->cfg, tc, ctx->mem);
	if (rv != VPNR_OK) {
		vpnr__free(ctx->mem, t);
		return vpnr__ctx_error(ctx, rv,
		    "tunnel config needs addresses and a PSK");
	}
	if (vpnr__tunnel_v1(t) &&
	    (rv = vpnr__v1_config_check(&t->cfg, err, sizeof(err))) !=
		VPNR_OK) {
		vpnr__tunnel_config_clear(&t->cfg);
		vpnr__free(ctx->mem, t);
		return vpnr__ctx_error(ctx, rv, "%s", err);
	}
	t->id = vpnr__ctx_new_id(ctx);
	t->user_data = tunnel_user_data;
	t->state = VPNR_TUNNEL_IDLE;
	TAILQ_INIT(&t->sas);
	TAILQ_INIT(&t->children);
	TAILQ_INIT(&t->v1_sas);
	vpnr__timer_init(&t->dpd_timer, dpd_fire, t);
	vpnr__timer_init(&t->reconnect_timer, reconnect_fire, t);
	RB_INSERT(vpnr__tunnel_tree, &vpnr__ike(ctx)->tunnels, t);
	RB_INSERT(vpnr__tunnel_peer_tree, &vpnr__ike(ctx)->by_peer, t);
	if (t->cfg.share_ike)
		vpnr__ike(ctx)->n_share++;
	if (tunnel_id != NULL)
		*tunnel_id = t->id;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike", "tunnel %llu added: %s...%s",
	    (unsigned long long)t->id,
	    vpnr_addr_format(&t->cfg.local, (char[64]){ 0 }, 64),
	    vpnr_addr_format(&t->cfg.remote, (char[64]){ 0 }, 64));
	return VPNR_OK;
}

static int
tunnel_start(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct ike_sa *sa;
	int rv;

	if (vpnr__tunnel_v1(t))
		return vpnr__v1_tunnel_resume(ctx, t, now);
	/* Several connections to one peer: a CHILD_SA in a sibling's
	 * IKE SA (ike_guest.c). */
	if (t->cfg.share_ike && (sa = vpnr__ike_sibling_sa(ctx, t)) != NULL) {
		t->state = VPNR_TUNNEL_CONNECTING;
		if (sa->state != IKE_ESTABLISHED) {
			/* Wait for it (start_waiting_siblings), in case it
			 * fails looking again now and then. */
			vpnr__timer_arm(ctx, &t->reconnect_timer,
			    now + VPNR__IKE_SHARE_WAIT);
			return VPNR_OK;
		}
		vpnr__ike_guest_attach(t, sa);
		return vpnr__ike_task_rv(
		    vpnr__ike_sa_task(ctx, sa, REQ_NEW_CHILD, t->id, now));
	}
	/* No memory for this tunnel's attempt: it fails (reported) and
	 * retries by its reconnect policy; the context goes on. */
	sa = vpnr__ike_sa_new(ctx, t, 1, 0);
	if (sa == NULL) {
		t->last_error = VPNR_ERR_NOMEM;
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED,
		    VPNR_ERR_NOMEM, 0, 0);
		schedule_reconnect(ctx, t, VPNR_ERR_NOMEM, now);
		return VPNR_OK;
	}
	t->ike = sa;
	t->state = VPNR_TUNNEL_CONNECTING;
	rv = vpnr__ike_sa_start(ctx, sa, now);
	if (rv != VPNR_OK) {
		vpnr__log(ctx, VPNR_LOG_ERR, "ike",
		    "tunnel %llu: cannot start IKE_SA_INIT: %s",
		    (unsigned long long)t->id, vpnr_err_name(rv));
		vpnr__ike_sa_dead(ctx, sa, rv, 0, now); /* reported */
	}
	return vpnr_err_is_fatal(rv) ? VPNR_OK : rv;
}

static int
initiate_now(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct tunnel *t = vpnr__tunnel_find(ctx, id);

	if (t == NULL)
		return VPNR_ERR_NOT_FOUND;
	t->want_up = 1;
	if (has_sa(t) &&
	    (!vpnr__tunnel_v1(t) || t->child_up_reported || !sa_up(ctx, t)))
		return VPNR_OK; /* connecting or up already */
	vpnr__timer_disarm(ctx, &t->reconnect_timer);
	return tunnel_start(ctx, t, now);
}

static int
close_now(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct tunnel *t = vpnr__tunnel_find(ctx, id);
	struct ike_sa *sa;

	if (t == NULL)
		return VPNR_ERR_NOT_FOUND;
	t->want_up = 0;
	vpnr__timer_disarm(ctx, &t->reconnect_timer);
	if (vpnr__tunnel_v1(t)) {
		if (!has_sa(t) && TAILQ_EMPTY(&t->children)) {
			/* Waiting, or its Quick Mode on a sibling's SA. */
			vpnr__v1_tunnel_quiet(ctx, t);
			if (t->state == VPNR_TUNNEL_CONNECTING)
				t->state = VPNR_TUNNEL_IDLE;
			return VPNR_OK;
		}
		t->state = VPNR_TUNNEL_CLOSING;
		vpnr__v1_tunnel_end(ctx, t, VPNR_ERR_LOCAL_CLOSE, 1, now);
		return VPNR_OK;
	}
	sa = t->ike;
	if (sa == NULL) {
		t->state = VPNR_TUNNEL_IDLE; /* maybe waiting for a sibling */
		return VPNR_OK;
	}
	if (vpnr__ike_guest(t)) {
		/* Its CHILD_SAs go; the IKE SA stays with its tunnel. */
		t->state = VPNR_TUNNEL_CLOSING;
		vpnr__ike_guest_leave(ctx, t, VPNR_ERR_LOCAL_CLOSE, 0, now);
		return VPNR_OK;
	}
	if (sa->state != IKE_ESTABLISHED) {
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_LOCAL_CLOSE, 0, now);
		return VPNR_OK;
	}
	t->state = VPNR_TUNNEL_CLOSING;
	sa->close_reason = VPNR_ERR_LOCAL_CLOSE;
	vpnr__tunnel_children_down(ctx, t, VPNR_ERR_LOCAL_CLOSE, now);
	/* Drop queued work; the DELETE goes first. */
	return vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now);
}

static int
rekey_now(vpnr_ctx *ctx, uint64_t id, uint32_t what, vpnr_tstamp now)
{
	struct tunnel *t = vpnr__tunnel_find(ctx, id);
	struct child_sa *c;
	int rv = VPNR_OK;

	if (t == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (vpnr__tunnel_v1(t))
		return vpnr__v1_tunnel_rekey(ctx, t, what, now);
	if (t->ike == NULL || t->ike->state != IKE_ESTABLISHED)
		return VPNR_ERR_INVALID_STATE;
	if (what & VPNR_REKEY_CHILD) {
		TAILQ_FOREACH(c, &t->children, entry) {
			if (c->state != CHILD_INSTALLED)
				continue;
			rv = vpnr__ike_sa_task(ctx, t->ike, REQ_REKEY_CHILD,
			    c->id, now);
			if (rv != VPNR_OK)
				return rv;
		}
	}
	if (what & VPNR_REKEY_IKE)
		rv = vpnr__ike_sa_task(ctx, t->ike, REQ_REKEY_IKE, 0, now);
	return rv;
}

/* Tunnel calls are queued when made inside a callback. */
static int
drive(vpnr_ctx *ctx, vpnr__call_fn fn, uint64_t id, uint32_t arg,
    vpnr_tstamp now)
{
	struct tunnel *t;

	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((t = vpnr__tunnel_find(ctx, id)) == NULL || t->deleting)
		return VPNR_ERR_NOT_FOUND;
	return vpnr__ctx_call(ctx, VPNR__CALL_QUEUE, fn, id, arg, now);
}

int
vpnr_tunnel_initiate(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now)
{
	return drive(ctx, initiate_now, tunnel_id, 0, now);
}

int
vpnr_tunnel_close(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now)
{
	return drive(ctx, close_now, tunnel_id, 0, now);
}

int
vpnr_tunnel_rekey(vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t what,
    vpnr_tstamp now)
{
	if (what == 0 || (what & ~(VPNR_REKEY_CHILD | VPNR_REKEY_IKE)))
		return VPNR_ERR_INVALID_ARGUMENT;
	return drive(ctx, rekey_now, tunnel_id, what, now);
}

static int
del_now(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct tunnel *t = vpnr__tunnel_find(ctx, id);
	struct ike_sa *sa;

	(void)arg;
	if (t == NULL)
		return VPNR_ERR_NOT_FOUND;
	/* Best effort DELETE, then forget everything at once.  Tunnels
	 * riding its IKE SAs go down first. */
	close_now(ctx, id, 0, now);
	TAILQ_FOREACH(sa, &t->sas, tentry)
		vpnr__ike_guests_gone(ctx, sa, VPNR_ERR_TUNNEL_DOWN, 0, now);
	/* Its end, as a close reports it (an IKEv2 close reports it when
	 * the DELETE is answered, which is not waited for here). */
	if (t->state != VPNR_TUNNEL_IDLE) {
		t->state = VPNR_TUNNEL_IDLE;
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_DOWN,
		    VPNR_ERR_LOCAL_CLOSE, 0, 0);
	}
	if (t->child_up_reported) {
		t->child_up_reported = 0;
		if (ctx->bgp_tunnel_changed != NULL)
			ctx->bgp_tunnel_changed(ctx, t->id, 0, now);
	}
	RB_REMOVE(vpnr__tunnel_tree, &vpnr__ike(ctx)->tunnels, t);
	RB_REMOVE(vpnr__tunnel_peer_tree, &vpnr__ike(ctx)->by_peer, t);
	if (t->cfg.share_ike)
		vpnr__ike(ctx)->n_share--;
	tunnel_free(ctx, t, 1);
	return VPNR_OK;
}

int
vpnr_tunnel_del(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now)
{
	struct tunnel *t;

	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((t = vpnr__tunnel_find(ctx, tunnel_id)) == NULL || t->deleting)
		return VPNR_ERR_NOT_FOUND;
	return vpnr__ctx_delete(ctx, del_now, tunnel_id, now, &t->deleting);
}

/* Fill the latest vpnr_tunnel_info; the caller gets its version's
 * bytes of it (vpnr__vcopy_out). */
static void
tunnel_fill_info(vpnr_ctx *ctx, const struct tunnel *t, vpnr_tunnel_info *info)
{
	struct child_sa *c, *cur = NULL;
	struct ike_sa *sa;

	memset(info, 0, sizeof(*info));
	info->state = (uint32_t)t->state;
	TAILQ_FOREACH(c, &t->children, entry) {
		info->n_child_sa++;
		if (c->state == CHILD_INSTALLED || c->state == CHILD_REKEYING)
			cur = c;
	}
	sa = t->ike;
	if (vpnr__tunnel_v1(t)) {
		vpnr__v1_fill_info(ctx, t, info);
	} else if (sa != NULL) {
		info->local = sa->local;
		info->remote = sa->remote;
		info->spi_i = sa->spi_i;
		info->spi_r = sa->spi_r;
		info->ike_encr = sa->suite.encr;
		info->ike_encr_bits = sa->suite.encr_bits;
		info->ike_prf = sa->suite.prf;
		info->ike_integ = sa->suite.integ;
		info->ike_dh = sa->suite.dh;
		info->nat_flags = sa->nat_flags;
	} else {
		info->local = t->cfg.local;
		info->remote = t->cfg.remote;
	}
	if (cur != NULL) {
		info->child_spi_in = cur->spi_in;
		info->child_spi_out = cur->spi_out;
		info->esp_encr = cur->suite.encr;
		info->esp_encr_bits = cur->suite.encr_bits;
		info->esp_integ = cur->suite.integ;
		info->esp_dh = cur->suite.dh;
	}
	info->established_at = t->established_at;
	info->ike_rekeys = t->ike_rekeys;
	info->child_rekeys = t->child_rekeys;
	info->last_error = t->last_error;
	info->retransmits = t->retransmits;
	info->malformed = t->malformed;
}

int
vpnr_tunnel_get_info_versioned(const vpnr_ctx *ctx, uint64_t tunnel_id,
    int info_version, vpnr_tunnel_info *info)
{
	vpnr_tunnel_info latest;
	struct tunnel *t;

	if (ctx == NULL || info == NULL ||
	    !VPNR__VKNOWN(info_version, VPNR__VS_TUNNEL_INFO))
		return VPNR_ERR_INVALID_ARGUMENT;
	t = vpnr__tunnel_find((vpnr_ctx *)ctx, tunnel_id);
	if (t == NULL || t->deleting) /* a delete queued in a callback */
		return VPNR_ERR_NOT_FOUND;
	tunnel_fill_info((vpnr_ctx *)ctx, t, &latest);
	return VPNR__VCOPY_OUT(info, &latest, info_version,
	    VPNR__VS_TUNNEL_INFO);
}

/* The exported twin of the vpnr_tunnel_get_info macro: version 1. */
int(vpnr_tunnel_get_info)(const vpnr_ctx *ctx, uint64_t tunnel_id,
    vpnr_tunnel_info *info)
{
	return vpnr_tunnel_get_info_versioned(ctx, tunnel_id,
	    VPNR_TUNNEL_INFO_V1, info);
}
