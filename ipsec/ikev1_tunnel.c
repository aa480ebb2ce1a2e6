/*
 * IKEv1 tunnels: the sans-I/O IKEv1 engine (ikev1_sa.c) driven for the
 * tunnels configured with version 1.  This file owns the ISAKMP SAs
 * (struct v1_sa: an engine, its addresses, timers and index entry),
 * demultiplexes ISAKMP datagrams by the initiator's cookie, floats to
 * the NAT-T port, and turns what the engine negotiated into the same
 * CHILD_SAs, events, liveness and reconnects as IKEv2
 * (vpnr__child_install, vpnr__tunnel_up/_gone).
 *
 * IKEv1 differs from IKEv2 in ways that shape this file:
 * - IPsec SAs outlive the ISAKMP SA that made them: a Phase 1 rekey is
 *   a new Main Mode, after which the old ISAKMP SA is deleted and the
 *   CHILD_SAs stay; only INITIAL-CONTACT says the peer forgot them.
 * - Several connections between the same two gateways may share one
 *   ISAKMP SA, each with its own Quick Modes: a responder picks the
 *   connection by the Quick Mode IDs (qm_select), a tunnel without
 *   an ISAKMP SA of its own uses a sibling's (v1_channel), and one
 *   whose sibling's Phase 1 is under way waits for it rather than open
 *   a second at the same moment (qm_next).
 * - Informational exchanges are not acknowledged: a DELETE is sent
 *   once, and R-U-THERE is answered by R-U-THERE-ACK (RFC 3706).
 */
#include <stdio.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "addr.h"
#include "buf.h"
#include "crypto.h"
#include "ctx.h"
#include "ike.h"
#include "ike_ts.h"
#include "ikev1_sa.h"
#include "log.h"
#include "mem.h"

/* The lifetimes we propose rekey at 90 %; the responder of a Phase 1
 * waits a little longer so that both ends do not rekey at once. */
#define V1_REKEY_PERCENT      90
#define V1_REKEY_PERCENT_RESP 95
/* Retransmissions: 1 s doubling, 4 tries: a silent peer fails an
 * attempt in 31 s, as IKEv2's attempt cap does (VPNR__IKE_ATTEMPT_RTX_MAX). */
#define V1_RTX_TRIES 4
/* A replaced CHILD_SA keeps receiving this long after the switch. */
#define V1_OLD_CHILD_LINGER (2 * VPNR_SECONDS)
/* After our Phase 1 rekey the old ISAKMP SA is deleted this much later:
 * strongSwan moves the CHILD_SAs to the new SA in a job of its own after
 * Main Mode (adopt_children_job), and a DELETE that overtakes that job
 * takes them away with the old SA. */
#define V1_OLD_SA_LINGER (2 * VPNR_SECONDS)

struct v1_sa {
	RB_ENTRY(v1_sa) entry;     /* ike->v1_sas, by cky_i */
	TAILQ_ENTRY(v1_sa) tentry; /* its tunnel's v1_sas */
	struct tunnel *tun;        /* whose configuration it uses */
	uint64_t cky_i, cky_r;     /* host order, for the index and logs */
	int indexed;
	struct vpnr__v1_cfg cfg;
	struct vpnr__v1_ike e;
	vpnr_addr local, remote; /* current, ports included */
	int natt;                /* floated to the NAT-T ports */
	int up;                  /* Phase 1 completed */
	int counted;             /* in ike->v1_half_open */
	struct v1_sa *replaces;  /* our Phase 1 rekey: the SA it replaces */
	uint32_t gen_seen;       /* e.child_gen handled so far */
	uint32_t dpd_acked_seen;
	uint64_t qm_rekey_of; /* our Quick Mode replaces this CHILD_SA */
	struct vpnr__timer rtx_timer;
	struct vpnr__timer life_timer; /* Phase 1 rekey, then expiry */
	vpnr_tstamp expires_at;        /* Phase 1's lifetime or deadline */
	vpnr_tstamp retire_at;         /* replaced by our rekey: deleted then */
};

static int
v1_sa_cmp(const struct v1_sa *a, const struct v1_sa *b)
{
	return a->cky_i < b->cky_i ? -1 : a->cky_i > b->cky_i;
}
RB_GENERATE_STATIC(vpnr__v1_sa_tree, v1_sa, entry, v1_sa_cmp)

static int sa_process(vpnr_ctx *, struct v1_sa *, int, vpnr_tstamp);
static int want_child(vpnr_ctx *, struct tunnel *, uint64_t, vpnr_tstamp);

int
vpnr__tunnel_v1(const struct tunnel *t)
{
	return t->cfg.ike_version == 1;
}

/* ---- configuration ---- */

static void
conn_of(const struct tunnel *t, struct vpnr__v1_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->esp = t->cfg.esp;
	c->n_esp = t->cfg.n_esp;
	c->local_ts = t->cfg.ts_local[0];
	c->remote_ts = t->cfg.ts_remote[0];
	c->p2_life.seconds = (uint32_t)(t->cfg.child_rekey / VPNR_SECONDS);
	c->id = t->id;
}

/* Every algorithm of an ESP proposal is one the data planes know. */
static int
esp_prop_ok(const struct vpnr__prop *p)
{
	uint8_t k;

	for (k = 0; k < p->n_encr; k++)
		if (!vpnr__encr_supported(p->encr[k].id, p->encr[k].bits))
			return 0;
	for (k = 0; k < p->n_integ; k++)
		if (p->integ[k] != VPNR_INTEG_NONE &&
		    vpnr__integ_key_len(p->integ[k]) == 0)
			return 0;
	return 1;
}

int
vpnr__v1_config_check(const struct vpnr_tunnel_config *tc, char *err,
    size_t len)
{
	struct vpnr__v1_sa sa;
	uint8_t spi[4] = { 1, 2, 3, 4 };
	size_t i;

	if (tc->n_ts_local > 1 || tc->n_ts_remote > 1) {
		snprintf(err, len,
		    "IKEv1 carries one local and one remote selector per "
		    "connection: add one tunnel per pair");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (tc->ike_rekey / VPNR_SECONDS > UINT32_MAX ||
	    tc->child_rekey / VPNR_SECONDS > UINT32_MAX) {
		snprintf(err, len, "IKEv1 lifetime out of range");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	/* Every proposal must make an IKEv1 SA payload. */
	for (i = 0; i < tc->n_ike; i++)
		if (vpnr__v1_p1_to_sa(&sa, &tc->ike[i], 1, NULL) != VPNR_OK) {
			snprintf(err, len,
			    "IKE proposal %zu cannot be used with IKEv1 "
			    "(AEAD or an algorithm IKEv1 lacks)",
			    i + 1);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	/* ESP is what the data-plane contract carries for IKEv2 too:
	 * 3DES and MD5 are for Phase 1 only. */
	for (i = 0; i < tc->n_esp; i++)
		if (vpnr__v1_p2_to_sa(&sa, &tc->esp[i], 1, spi,
			VPNR__V1_ENCAP_TUNNEL, NULL) != VPNR_OK ||
		    !esp_prop_ok(&tc->esp[i])) {
			snprintf(err, len,
			    "ESP proposal %zu cannot be used with IKEv1 (3des "
			    "and md5 are for Phase 1 only; ESP takes what "
			    "IKEv2 does)",
			    i + 1);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	return VPNR_OK;
}

static int
rand_bytes(void *arg, uint8_t *buf, size_t len)
{
	return vpnr__random(arg, buf, len);
}

/* Another v1 tunnel to the same peer with the same PSK: one that may
 * take Quick Modes over this ISAKMP SA. */
static int
sibling(const struct tunnel *a, const struct tunnel *b)
{
	return vpnr__tunnel_v1(b) && !b->deleting &&
	    vpnr__addr_eq(&a->cfg.remote, &b->cfg.remote) &&
	    a->cfg.psk_len == b->cfg.psk_len &&
	    memcmp(a->cfg.psk, b->cfg.psk, a->cfg.psk_len) == 0;
}

static int
ts_same(const vpnr_ts *a, const vpnr_ts *b)
{
	return vpnr__ts_subset(a, 1, b, 1) && vpnr__ts_subset(b, 1, a, 1);
}

/*
 * Responder Quick Mode whose IDs are not the SA's own tunnel's: the
 * sibling tunnel configured for exactly them (ci: the initiator's,
 * ours cr).  The peer's tunnels are one range of the by-peer index.
 */
static int
qm_select(void *arg, const vpnr_ts *ci, const vpnr_ts *cr,
    struct vpnr__v1_conn *conn)
{
	struct v1_sa *s = arg;
	vpnr_ctx *ctx = s->cfg.rand_arg;
	struct tunnel *t;

	for (t = vpnr__tunnel_first_by_peer(ctx, &s->tun->cfg.remote);
	     t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t)) {
		if (t == s->tun || !sibling(s->tun, t))
			continue;
		if (!ts_same(ci, &t->cfg.ts_remote[0]) ||
		    !ts_same(cr, &t->cfg.ts_local[0]))
			continue;
		conn_of(t, conn);
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKEv1 Quick Mode for tunnel %llu over the ISAKMP SA of "
		    "tunnel %llu (selected by its IDs)",
		    (unsigned long long)t->id, (unsigned long long)s->tun->id);
		return 1;
	}
	return 0;
}

/* ---- life cycle of an ISAKMP SA ---- */

static int rtx_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);
static int life_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);

/* s belongs to t: its engine's settings are t's, and point into t's
 * configuration (proposals, PSK). */
static void
sa_cfg(struct v1_sa *s, struct tunnel *t)
{
	struct vpnr__v1_cfg *c = &s->cfg;

	s->tun = t;
	c->ike = t->cfg.ike;
	c->n_ike = t->cfg.n_ike;
	c->esp = t->cfg.esp;
	c->n_esp = t->cfg.n_esp;
	c->psk = t->cfg.psk;
	c->psk_len = t->cfg.psk_len;
	c->local_ts = t->cfg.ts_local[0];
	c->remote_ts = t->cfg.ts_remote[0];
	c->p1_life.seconds = (uint32_t)(t->cfg.ike_rekey / VPNR_SECONDS);
	c->p2_life.seconds = (uint32_t)(t->cfg.child_rekey / VPNR_SECONDS);
	c->encap = t->cfg.force_encap ? VPNR__V1_ENCAP_UDP_TUNNEL :
					VPNR__V1_ENCAP_TUNNEL;
	c->aggressive = (t->cfg.ikev1_flags & VPNR_IKEV1_AGGRESSIVE) != 0;
	c->commit = (t->cfg.ikev1_flags & VPNR_IKEV1_COMMIT) != 0;
	c->rtx_timeout =
	    t->cfg.rtx_first != 0 ? t->cfg.rtx_first : VPNR_SECONDS;
	c->rtx_tries =
	    t->cfg.rtx_tries != 0 && t->cfg.rtx_tries < V1_RTX_TRIES ?
	    t->cfg.rtx_tries :
	    V1_RTX_TRIES;
}

static struct v1_sa *
sa_new(vpnr_ctx *ctx, struct tunnel *t, int initiator, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	struct v1_sa *s;
	struct vpnr__v1_cfg *c;

	if ((s = vpnr__calloc(ctx->mem, 1, sizeof(*s))) == NULL)
		return NULL;
	s->local = *local;
	s->remote = *remote;
	c = &s->cfg;
	sa_cfg(s, t);
	c->local = *local;
	c->remote = *remote;
	c->qm_select = qm_select;
	c->qm_arg = s;
	c->rand_bytes = rand_bytes;
	c->rand_arg = ctx;
	c->mem = ctx->mem;
	if (vpnr__v1_ike_init(&s->e, c, initiator) != VPNR_OK) {
		vpnr__free(ctx->mem, s);
		return NULL;
	}
	vpnr__timer_init(&s->rtx_timer, rtx_fire, s);
	vpnr__timer_init(&s->life_timer, life_fire, s);
	TAILQ_INSERT_TAIL(&t->v1_sas, s, tentry);
	/* A Phase 1 that does not complete in time goes (life_fire). */
	s->expires_at = ctx->now + VPNR__IKE_HALF_OPEN_TMO;
	vpnr__timer_arm(ctx, &s->life_timer, s->expires_at);
	s->counted = 1;
	vpnr__ike(ctx)->v1_half_open++;
	return s;
}

static void
sa_uncount(vpnr_ctx *ctx, struct v1_sa *s)
{
	if (s->counted) {
		s->counted = 0;
		vpnr__ike(ctx)->v1_half_open--;
	}
}

static void
sa_free(vpnr_ctx *ctx, struct v1_sa *s)
{
	struct tunnel *t = s->tun;
	struct v1_sa *o;

	sa_uncount(ctx, s);
	if (s->indexed)
		RB_REMOVE(vpnr__v1_sa_tree, &vpnr__ike(ctx)->v1_sas, s);
	TAILQ_REMOVE(&t->v1_sas, s, tentry);
	TAILQ_FOREACH(o, &t->v1_sas, tentry)
		if (o->replaces == s)
			o->replaces = NULL;
	if (t->v1 == s)
		t->v1 = NULL;
	vpnr__timer_disarm(ctx, &s->rtx_timer);
	vpnr__timer_disarm(ctx, &s->life_timer);
	vpnr__v1_ike_free(&s->e);
	vpnr__freezero(ctx->mem, s, sizeof(*s));
}

void
vpnr__v1_tunnel_free(vpnr_ctx *ctx, struct tunnel *t)
{
	struct v1_sa *s;

	while ((s = TAILQ_FIRST(&t->v1_sas)) != NULL)
		sa_free(ctx, s);
}

/* Index the SA once its initiator cookie is known. */
static int
sa_index(vpnr_ctx *ctx, struct v1_sa *s)
{
	if (s->indexed)
		return VPNR_OK;
	s->cky_i = vpnr__get_be64(s->e.cky_i);
	if (RB_INSERT(vpnr__v1_sa_tree, &vpnr__ike(ctx)->v1_sas, s) != NULL)
		return VPNR_ERR_INVALID_STATE; /* a cookie already in use */
	s->indexed = 1;
	return VPNR_OK;
}

/* The established ISAKMP SA t's Quick Modes, DPD and deletes use: its
 * own, else one of a sibling tunnel to the same peer. */
static struct v1_sa *
v1_channel(vpnr_ctx *ctx, struct tunnel *t)
{
	struct tunnel *o;

	if (t->v1 != NULL && t->v1->up && t->v1->e.state == V1S_P1_DONE)
		return t->v1;
	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o))
		if (o != t && sibling(t, o) && o->v1 != NULL && o->v1->up &&
		    o->v1->e.state == V1S_P1_DONE)
			return o->v1;
	return NULL;
}

/* Any ISAKMP SA but except (even one connecting) or CHILD_SA with t's
 * peer, on t or a sibling: INITIAL-CONTACT would tell the peer to drop
 * them. */
static int
peer_has_sas(vpnr_ctx *ctx, struct tunnel *t, const struct v1_sa *except)
{
	struct tunnel *o;
	struct v1_sa *s;

	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o)) {
		if (o != t && !sibling(t, o))
			continue;
		if (!TAILQ_EMPTY(&o->children))
			return 1;
		TAILQ_FOREACH(s, &o->v1_sas, tentry)
			if (s != except)
				return 1;
	}
	return 0;
}

int
vpnr__v1_tunnel_has_sa(const struct tunnel *t)
{
	return t->v1 != NULL;
}

int
vpnr__v1_tunnel_up(vpnr_ctx *ctx, struct tunnel *t)
{
	return v1_channel(ctx, t) != NULL;
}

/* ---- output ---- */

static int
sa_flush(vpnr_ctx *ctx, struct v1_sa *s)
{
	uint8_t *buf;
	size_t len, cap;
	int rv = VPNR_OK, r;

	while (s->e.out_n > 0) {
		cap = s->e.out_len[s->e.out_head] + VPNR__IKE_MARKER_LEN;
		if ((buf = vpnr__malloc(ctx->mem, cap)) == NULL)
			return VPNR_ERR_NOMEM; /* still queued: sent later */
		if (vpnr__v1_ike_output(&s->e, buf + VPNR__IKE_MARKER_LEN,
			cap - VPNR__IKE_MARKER_LEN, &len) != VPNR_OK ||
		    len == 0) {
			vpnr__free(ctx->mem, buf);
			return VPNR_ERR_INTERNAL;
		}
		/* On the NAT-T port behind the non-ESP marker (RFC 3948
		 * 2.2). */
		memset(buf, 0, VPNR__IKE_MARKER_LEN);
		r = s->natt ? vpnr__cb_send_datagram(ctx, &s->local, &s->remote,
				  buf, len + VPNR__IKE_MARKER_LEN) :
			      vpnr__cb_send_datagram(ctx, &s->local, &s->remote,
				  buf + VPNR__IKE_MARKER_LEN, len);
		vpnr__free(ctx->mem, buf);
		if (r == VPNR_ERR_CALLBACK_FAILURE)
			rv = r;
	}
	return rv;
}

/*
 * RFC 3947 4: once NAT-D saw a NAT (or encapsulation is forced and the
 * peer speaks NAT-T), the initiator moves to the NAT-T ports for MM5 /
 * AM3 and everything after; a responder follows the peer there.
 */
static void
sa_float(vpnr_ctx *ctx, struct v1_sa *s)
{
	if (s->natt || !s->e.initiator || !s->e.peer_natt)
		return;
	if (!(s->e.nat_local || s->e.nat_remote || s->tun->cfg.force_encap))
		return;
	/* MM5 is queued, or AM3 went with Phase 1 done. */
	if (s->e.state != V1S_MM_SENT5 && s->e.state != V1S_P1_DONE)
		return;
	s->natt = 1;
	s->local.port = vpnr__natt_port(ctx);
	s->remote.port = vpnr__peer_natt_port(ctx, s->tun);
}

/* ---- CHILD_SAs ---- */

static struct tunnel *
conn_tunnel(vpnr_ctx *ctx, struct v1_sa *s, uint64_t conn_id)
{
	struct tunnel *t;

	if (conn_id == 0 || conn_id == s->tun->id)
		return s->tun;
	t = vpnr__tunnel_find(ctx, conn_id);
	return t != NULL && !t->deleting ? t : NULL;
}

static struct child_sa *
live_child(struct tunnel *t)
{
	struct child_sa *c, *last = NULL;

	TAILQ_FOREACH(c, &t->children, entry)
		if (vpnr__child_live(c))
			last = c;
	return last;
}

/* The engine negotiated a CHILD_SA: install it like IKEv2's. */
static int
child_new(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	const struct vpnr__v1_child *k = &s->e.child;
	struct vpnr__child_spec sp;
	struct child_sa *c = NULL, *old;
	struct tunnel *t;
	int rv;

	if ((t = conn_tunnel(ctx, s, k->conn_id)) == NULL)
		return VPNR_OK; /* its tunnel went meanwhile */
	memset(&sp, 0, sizeof(sp));
	sp.tun = t;
	sp.local = s->local;
	sp.remote = s->remote;
	sp.natt = k->encap == VPNR__V1_ENCAP_UDP_TUNNEL;
	sp.suite = &k->suite;
	sp.spi_in = vpnr__get_be32(k->spi_in);
	sp.spi_out = vpnr__get_be32(k->spi_out);
	sp.key_in = k->key_in;
	sp.key_out = k->key_out;
	sp.we_init = s->e.qm.initiator;
	sp.tsl = &k->local_ts;
	sp.ntsl = 1;
	sp.tsr = &k->remote_ts;
	sp.ntsr = 1;
	if (sp.we_init && s->qm_rekey_of != 0 &&
	    vpnr__child_find(t, s->qm_rekey_of) != NULL) {
		sp.role = CHILD_ROLE_REKEY_I;
		sp.rekey_of = s->qm_rekey_of;
	} else if (!sp.we_init && (old = live_child(t)) != NULL) {
		sp.role = CHILD_ROLE_REKEY_R;
		sp.rekey_of = old->id;
	} else
		sp.role = sp.we_init ? CHILD_ROLE_NEW_I : CHILD_ROLE_NEW_R;
	s->qm_rekey_of = 0;
	rv = vpnr__child_install(ctx, &sp, now, &c);
	if (rv != VPNR_OK) {
		/* The peer is told; the pair never carried traffic. */
		(void)vpnr__v1_ike_delete_child(&s->e, k->spi_in, now);
		vpnr__child_failed(ctx, t, rv, 0, 0, now);
		/* Reported; the ISAKMP SA and the context go on. */
		return rv == VPNR_ERR_CALLBACK_FAILURE ? rv : VPNR_OK;
	}
	c->life = k->life.seconds;
	/* Over a sibling's SA, or over its own that outlived the tunnel's
	 * going down (another of its ISAKMP SAs failed): UP first. */
	if (t->state != VPNR_TUNNEL_ESTABLISHED)
		vpnr__tunnel_up(ctx, t, now);
	vpnr__child_install_wait(ctx, c, now);
	return VPNR_OK;
}

/* The peer deleted the IPsec SA whose SPI (its inbound) is spi. */
static int
child_deleted(vpnr_ctx *ctx, struct v1_sa *s, uint32_t spi, vpnr_tstamp now)
{
	struct tunnel *t;
	struct child_sa *c;

	for (t = vpnr__tunnel_first_by_peer(ctx, &s->tun->cfg.remote);
	     t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t)) {
		if (t != s->tun && !sibling(s->tun, t))
			continue;
		if ((c = vpnr__child_by_spi_out(t, spi)) == NULL)
			continue;
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKEv1: the peer deleted CHILD_SA %08x_i %08x_o", c->spi_in,
		    c->spi_out);
		if (c->down_reason == 0)
			c->down_reason = VPNR_ERR_PEER_CLOSED;
		vpnr__child_destroy(ctx, c, c->state == CHILD_REKEYED, now);
		/* A tunnel we want up gets a new pair at once. */
		if (t->want_up && live_child(t) == NULL && s->up)
			return want_child(ctx, t, 0, now);
		return VPNR_OK;
	}
	return VPNR_OK;
}

/* s's Quick Mode under way as initiator or responder (one at a
 * time per ISAKMP SA). */
static int
qm_busy(const struct v1_sa *s)
{
	return s->e.qm.state == V1Q_SENT1 || s->e.qm.state == V1Q_SENT2;
}

/* t waits for an ISAKMP SA to its peer to be up or free (qm_next), and
 * looks again in a second (reconnect_fire) in case none comes. */
static void
wait_for_sa(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	t->v1_wait = 1;
	vpnr__timer_arm(ctx, &t->reconnect_timer, now + VPNR__IKE_SHARE_WAIT);
}

/*
 * A Quick Mode for t over the ISAKMP SA s: queued and sent, its timer
 * armed.  What comes of it (a failure at once included) is sa_process's
 * to handle, so this is safe to call while s is being processed.
 */
static int
qm_start(vpnr_ctx *ctx, struct tunnel *t, struct v1_sa *s, uint64_t rekey_of,
    vpnr_tstamp now)
{
	struct vpnr__v1_conn conn;
	vpnr_tstamp next;
	int rv;

	if (qm_busy(s)) {
		/* One at a time: a rekey's next look retries, a new
		 * CHILD_SA follows this Quick Mode (qm_next). */
		if (rekey_of == 0)
			t->v1_wait = 1;
		return VPNR_OK;
	}
	conn_of(t, &conn);
	s->qm_rekey_of = rekey_of;
	rv = vpnr__v1_ike_quick_conn(&s->e, &conn, now);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "IKEv1 Quick Mode for tunnel %llu%s%s", (unsigned long long)t->id,
	    rekey_of ? " (rekey)" : "", rv != VPNR_OK ? ": not started" : "");
	if ((next = vpnr__v1_ike_next_timer(&s->e)) != 0)
		vpnr__timer_arm(ctx, &s->rtx_timer, next);
	rv = sa_flush(ctx, s);
	return rv == VPNR_ERR_CALLBACK_FAILURE ? rv : VPNR_OK;
}

/* t wants a CHILD_SA: a Quick Mode over an ISAKMP SA to its peer, else
 * a new Main Mode (its end starts the Quick Mode). */
static int
want_child(vpnr_ctx *ctx, struct tunnel *t, uint64_t rekey_of, vpnr_tstamp now)
{
	struct v1_sa *s = v1_channel(ctx, t);

	if (s == NULL)
		return t->v1 == NULL ? vpnr__v1_tunnel_start(ctx, t, now) :
				       VPNR_OK;
	return qm_start(ctx, t, s, rekey_of, now);
}

/*
 * s is up and its Quick Mode free: the tunnels that waited for an
 * ISAKMP SA to their peer (v1_wait) take s, and the first of them
 * without a CHILD_SA starts its Quick Mode.  Only t's siblings are
 * walked, on messages of s, not on ESP.
 */
static int
qm_next(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	struct tunnel *o;

	if (!s->up || s->e.state != V1S_P1_DONE || qm_busy(s))
		return VPNR_OK;
	for (o = vpnr__tunnel_first_by_peer(ctx, &s->tun->cfg.remote);
	     o != NULL; o = vpnr__tunnel_next_by_peer(ctx, o)) {
		if (!o->v1_wait || (o != s->tun && !sibling(s->tun, o)) ||
		    (o->v1 != NULL && o->v1 != s))
			continue;
		o->v1_wait = 0;
		if (!o->want_up || o->deleting)
			continue;
		vpnr__timer_disarm(ctx, &o->reconnect_timer);
		if (live_child(o) != NULL) {
			/* Its CHILD_SAs go on over s, as over an SA of its
			 * own (p1_up). */
			if (o->state != VPNR_TUNNEL_ESTABLISHED)
				vpnr__tunnel_up(ctx, o, now);
			continue;
		}
		return qm_start(ctx, o, s, 0, now);
	}
	return VPNR_OK;
}

/*
 * Our Quick Mode on s for tunnel conn_id gave way to the peer's (both
 * started one, ikev1_sa.h): a tunnel still without a CHILD_SA asks
 * again once s is free (qm_next), and looks again in a second in case
 * s goes meanwhile.  (A rekey's next look retries.)
 */
static void
qm_gave_way(vpnr_ctx *ctx, struct v1_sa *s, uint64_t conn_id, vpnr_tstamp now)
{
	struct tunnel *t = conn_tunnel(ctx, s, conn_id);

	if (t != NULL && t->want_up && live_child(t) == NULL)
		wait_for_sa(ctx, t, now);
}

int
vpnr__v1_tunnel_resume(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	t->v1_wait = 0;
	if (live_child(t) == NULL)
		return vpnr__v1_child_start(ctx, t, 0, now);
	if (v1_channel(ctx, t) == NULL)
		return vpnr__v1_tunnel_start(ctx, t, now);
	return VPNR_OK;
}

int
vpnr__v1_child_start(vpnr_ctx *ctx, struct tunnel *t, uint64_t rekey_of,
    vpnr_tstamp now)
{
	struct v1_sa *s = v1_channel(ctx, t);
	int rv;

	if (s == NULL)
		return want_child(ctx, t, rekey_of, now);
	rv = qm_start(ctx, t, s, rekey_of, now);
	return sa_process(ctx, s, rv, now);
}

void
vpnr__v1_child_delete(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	struct v1_sa *s = v1_channel(ctx, c->tun);
	uint8_t spi[4];

	if (s != NULL) {
		vpnr__put_be32(spi, c->spi_in);
		if (vpnr__v1_ike_delete_child(&s->e, spi, now) == VPNR_OK)
			(void)sa_flush(ctx, s);
	}
	/* Unacknowledged in IKEv1: a replaced pair lingers briefly for
	 * packets in flight, any other goes now. */
	if (c->state == CHILD_REKEYED) {
		vpnr__timer_arm(ctx, &c->rekey_timer,
		    now + V1_OLD_CHILD_LINGER);
		return;
	}
	vpnr__child_destroy(ctx, c, 0, now);
}

/* ---- Phase 1 events ---- */

static vpnr_tstamp
life_at(uint32_t seconds, int percent)
{
	return (vpnr_tstamp)seconds * VPNR_SECONDS / 100 * (uint64_t)percent;
}

/*
 * INITIAL-CONTACT (RFC 2407 4.6.3.3): the peer starts over, so what it
 * had with us is gone: the established ISAKMP SAs and the CHILD_SAs
 * of t and its siblings (Phase 1s still under way stay: they are new).
 */
static void
initial_contact(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	struct tunnel *t = s->tun, *o;
	struct v1_sa *a, *n;

	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o)) {
		if (o != t && !sibling(t, o))
			continue;
		for (a = TAILQ_FIRST(&o->v1_sas); a != NULL; a = n) {
			n = TAILQ_NEXT(a, tentry);
			if (a != s && a->up)
				sa_free(ctx, a);
		}
		if (!TAILQ_EMPTY(&o->children)) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "tunnel %llu: INITIAL-CONTACT from the peer, its "
			    "old CHILD_SAs go",
			    (unsigned long long)o->id);
			vpnr__tunnel_children_down(ctx, o, VPNR_ERR_PEER_CLOSED,
			    now);
		}
	}
}

static int
p1_up(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	struct tunnel *t = s->tun;
	struct v1_sa *old = t->v1;
	struct vpnr__suite su;
	uint32_t life = s->e.p1.life.seconds;
	vpnr_tstamp d;
	char a[64], b[160];

	s->up = 1;
	sa_uncount(ctx, s);
	s->cky_r = vpnr__get_be64(s->e.cky_r);
	vpnr__v1_p1_suite_v2(&s->e.p1, &su);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "IKEv1 ISAKMP SA %016llx_i %016llx_r established with %s (%s, "
	    "%s%s)",
	    (unsigned long long)s->cky_i, (unsigned long long)s->cky_r,
	    vpnr_addr_format(&s->remote, a, sizeof(a)),
	    vpnr__suite_str(&su, b, sizeof(b)),
	    s->cfg.aggressive && s->e.initiator ? "Aggressive Mode" :
						  "Main Mode",
	    s->natt ? ", NAT-T" : "");
	/* Rekey before the agreed lifetime (ours if the peer gave none). */
	if (life == 0)
		life = s->cfg.p1_life.seconds;
	vpnr__timer_disarm(ctx, &s->life_timer);
	s->expires_at = 0;
	if (life != 0) {
		s->expires_at = now + (vpnr_tstamp)life * VPNR_SECONDS;
		d = life_at(life,
		    s->e.initiator ? V1_REKEY_PERCENT : V1_REKEY_PERCENT_RESP);
		if (s->e.initiator)
			d = vpnr__jitter(ctx, d, t->cfg.jitter_percent);
		vpnr__timer_arm(ctx, &s->life_timer, now + d);
	}
	if (s->e.peer_initial_contact) {
		initial_contact(ctx, s, now);
		old = t->v1 != s ? t->v1 : NULL;
	}
	t->v1 = s;
	if (old != NULL && old != s && old->up && s->replaces != old) {
		/* The peer's Phase 1 rekey (strongSwan's reauthentication):
		 * the new SA is used at once; the old one stays until the
		 * peer deletes it or it expires, and becomes current again
		 * if the peer goes on using it (vpnr__v1_recv). */
		t->ike_rekeys++;
		vpnr__tunnel_alive(ctx, t, now);
	} else if (old != NULL && old != s && old->up) {
		/* Our Phase 1 rekey: the CHILD_SAs stay; the old ISAKMP SA
		 * is deleted a little later (V1_OLD_SA_LINGER). */
		t->ike_rekeys++;
		old->retire_at = now + V1_OLD_SA_LINGER;
		vpnr__timer_arm(ctx, &old->life_timer, old->retire_at);
		vpnr__tunnel_alive(ctx, t, now);
		/* A first message on the new SA makes the peer use it even
		 * if our DELETE of the old one was lost (see vpnr__v1_recv);
		 * its answer is proof of life. */
		(void)vpnr__v1_ike_dpd(&s->e, now);
	} else if (t->state != VPNR_TUNNEL_ESTABLISHED)
		vpnr__tunnel_up(ctx, t, now);
	else
		vpnr__tunnel_dpd_arm(ctx, t, now); /* its own SA now */
	s->replaces = NULL;
	/* The initiator asks for the CHILD_SA the tunnel lacks. */
	if (s->e.initiator && t->want_up && live_child(t) == NULL)
		return want_child(ctx, t, 0, now);
	return VPNR_OK;
}

/* The tunnel's newest established ISAKMP SA (the last in its list). */
static struct v1_sa *
newest_up(struct tunnel *t)
{
	struct v1_sa *o, *n = NULL;

	TAILQ_FOREACH(o, &t->v1_sas, tentry)
		if (o->up && o->e.state == V1S_P1_DONE)
			n = o;
	return n;
}

static int p1_end(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now);

/* The sibling tunnel whose Quick Mode we started on s is under way,
 * or 0. */
static uint64_t
qm_rider(const struct v1_sa *s)
{
	const struct vpnr__v1_quick *q = &s->e.qm;

	if (!q->initiator || q->state == V1Q_NONE || q->state == V1Q_DONE ||
	    q->conn.id == s->tun->id)
		return 0;
	return q->conn.id;
}

/*
 * A sibling's Quick Mode went with the ISAKMP SA of tunnel owner: if
 * the sibling still wants up and has neither an ISAKMP SA of its own
 * nor a CHILD_SA, it asks again, over another ISAKMP SA or a new one
 * (strongSwan may delete two fresh ISAKMP SAs at once, each taken for
 * the other's reauthentication).
 */
static int
qm_lost(vpnr_ctx *ctx, uint64_t rider, uint64_t owner, vpnr_tstamp now)
{
	struct tunnel *o;

	if (rider == 0 || (o = vpnr__tunnel_find(ctx, rider)) == NULL ||
	    !o->want_up || o->deleting || o->v1 != NULL ||
	    live_child(o) != NULL)
		return VPNR_OK;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu: its Quick Mode went with the ISAKMP SA of tunnel "
	    "%llu, asking again",
	    (unsigned long long)o->id, (unsigned long long)owner);
	return want_child(ctx, o, 0, now);
}

/* The engine failed s (its reason and why), or it timed out. */
static int
p1_failed(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	uint64_t rider = qm_rider(s), owner = s->tun->id;
	int rv = p1_end(ctx, s, now);

	return rv == VPNR_OK ? qm_lost(ctx, rider, owner, now) : rv;
}

static int
p1_end(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	struct tunnel *t = s->tun;
	int reason = s->e.error != 0 ? s->e.error : VPNR_ERR_PEER_CLOSED;
	int current = t->v1 == s, was_up = s->up;
	char a[64];

	vpnr__log(ctx,
	    reason == VPNR_ERR_PEER_CLOSED ? VPNR_LOG_INFO : VPNR_LOG_WARNING,
	    "ike", "IKEv1 %s with %s ended: %s (%s)",
	    was_up ? "ISAKMP SA" : "Phase 1",
	    vpnr_addr_format(&s->remote, a, sizeof(a)), vpnr_err_name(reason),
	    s->e.why != NULL ? s->e.why : "no detail");
	sa_free(ctx, s);
	/* The peer deleted the current SA after its Phase 1 rekey: the
	 * newest established one of this tunnel takes over. */
	if (current && was_up && reason == VPNR_ERR_PEER_CLOSED &&
	    (t->v1 = newest_up(t)) != NULL) {
		vpnr__tunnel_dpd_arm(ctx, t, now);
		return VPNR_OK;
	}
	if (!current) {
		/* A replaced SA, or a responder's attempt that failed. */
		if (!was_up && reason != VPNR_ERR_PEER_CLOSED) {
			t->last_error = reason;
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED,
			    reason, 0, 0);
		}
		return VPNR_OK;
	}
	/*
	 * An ISAKMP SA going leaves the CHILD_SAs (IKEv1): the tunnel
	 * goes on over a sibling's ISAKMP SA to the same peer (strongSwan
	 * takes a second one for a reauthentication, adopts the CHILD_SAs
	 * and deletes the first), else over a new one.  Only a dead peer
	 * or a Phase 1 that never came up ends the tunnel.
	 */
	if (was_up && reason == VPNR_ERR_PEER_CLOSED &&
	    v1_channel(ctx, t) != NULL) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "tunnel %llu goes on over another ISAKMP SA with the peer",
		    (unsigned long long)t->id);
		/* A Quick Mode lost with the SA starts again there. */
		if (t->want_up && live_child(t) == NULL)
			return want_child(ctx, t, 0, now);
		return VPNR_OK;
	}
	if (was_up && reason == VPNR_ERR_PEER_CLOSED && live_child(t) != NULL &&
	    t->want_up)
		return vpnr__v1_tunnel_start(ctx, t, now);
	vpnr__tunnel_gone(ctx, t, reason, 0, now);
	return VPNR_OK;
}

/*
 * A Quick Mode on s failed alone (proposal, IDs): said on its tunnel,
 * s's own or a sibling's riding s.  A tunnel left without a CHILD_SA
 * fails and retries by its reconnect policy; its own ISAKMP SA goes
 * with it, a sibling's stays.  1 if s was freed.
 */
static int
qm_failed(vpnr_ctx *ctx, struct v1_sa *s, vpnr_tstamp now)
{
	struct tunnel *t = conn_tunnel(ctx, s, s->e.error_conn);
	int r = s->e.error;

	s->e.error = 0;
	s->e.error_conn = 0;
	s->qm_rekey_of = 0;
	if (t == NULL)
		return 0; /* its tunnel went meanwhile */
	vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
	    "IKEv1 Quick Mode for tunnel %llu failed: %s (%s)",
	    (unsigned long long)t->id, vpnr_err_name(r),
	    s->e.why != NULL ? s->e.why : "no detail");
	if (live_child(t) == NULL && t->v1 == NULL) {
		vpnr__tunnel_gone(ctx, t, r, 0, now);
		return 0;
	}
	t->last_error = r;
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED, r, 0, 0);
	if (live_child(t) != NULL || t->v1 != s)
		return 0;
	s->e.child_ready = 0;
	if (vpnr__v1_ike_delete(&s->e, now) == VPNR_OK)
		(void)sa_flush(ctx, s);
	sa_free(ctx, s);
	vpnr__tunnel_gone(ctx, t, r, 0, now);
	return 1;
}

/* What changed in the engine after a call: act on it. */
static int
sa_process(vpnr_ctx *ctx, struct v1_sa *s, int rv, vpnr_tstamp now)
{
	struct tunnel *t = s->tun;
	vpnr_tstamp next;
	int r;

	/* A failure for want of memory (or of an internal step) ends this
	 * ISAKMP SA, reported with its tunnel; the context goes on. */
	if (vpnr_err_is_fatal(rv) && s->e.state != V1S_FAILED) {
		s->e.state = V1S_FAILED;
		s->e.error = rv;
		s->e.why = "out of memory or an internal failure";
		rv = VPNR_OK;
	}
	sa_float(ctx, s);
	if ((r = sa_flush(ctx, s)) == VPNR_ERR_CALLBACK_FAILURE)
		rv = r;
	if (s->e.state == V1S_FAILED) {
		r = p1_failed(ctx, s, now);
		return rv == VPNR_ERR_CALLBACK_FAILURE ? rv : r;
	}
	if (!s->indexed && sa_index(ctx, s) != VPNR_OK) {
		sa_free(ctx, s);
		return VPNR_OK;
	}
	/* s itself stays: only other SAs are freed meanwhile. */
	if (!s->up && s->e.state == V1S_P1_DONE &&
	    (r = p1_up(ctx, s, now)) != VPNR_OK)
		rv = r;
	if (s->e.child_deleted) {
		s->e.child_deleted = 0;
		if ((r = child_deleted(ctx, s, vpnr__get_be32(s->e.del_spi),
			 now)) != VPNR_OK)
			rv = r;
	}
	if (s->e.child_ready && s->e.child_gen != s->gen_seen) {
		s->gen_seen = s->e.child_gen;
		if ((r = child_new(ctx, s, now)) != VPNR_OK)
			rv = r;
	}
	if (s->e.error != 0 && s->e.qm.state == V1Q_NONE && s->up &&
	    qm_failed(ctx, s, now))
		return rv;
	if (s->e.dpd_acked != s->dpd_acked_seen) {
		s->dpd_acked_seen = s->e.dpd_acked;
		vpnr__tunnel_alive(ctx, t, now);
	}
	if ((r = qm_next(ctx, s, now)) != VPNR_OK)
		rv = r;
	next = vpnr__v1_ike_next_timer(&s->e);
	if (next != 0)
		vpnr__timer_arm(ctx, &s->rtx_timer, next);
	else
		vpnr__timer_disarm(ctx, &s->rtx_timer);
	return rv;
}

static int
rtx_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct v1_sa *s = tm->arg;
	uint64_t n = s->e.n_rtx;
	int rv;

	rv = vpnr__v1_ike_timer(&s->e, now);
	s->tun->retransmits += s->e.n_rtx - n;
	return sa_process(ctx, s, rv == VPNR_ERR_TIMEOUT ? VPNR_OK : rv, now);
}

/* Phase 1 rekey when due (a new Main Mode, make-before-break); at
 * the lifetime's end an SA still there goes. */
static int
life_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct v1_sa *s = tm->arg, *n;
	struct tunnel *t = s->tun;

	if (!s->up) {
		/* Phase 1 never completed; the initiator's retransmits
		 * normally end it first. */
		s->e.state = V1S_FAILED;
		s->e.error = VPNR_ERR_TIMEOUT;
		s->e.why = "Phase 1 did not complete in time";
		return sa_process(ctx, s, VPNR_OK, now);
	}
	if (s->retire_at != 0) {
		s->retire_at = 0;
		if (t->v1 != s) {
			s->e.child_ready = 0; /* only the ISAKMP SA */
			if (vpnr__v1_ike_delete(&s->e, now) == VPNR_OK)
				(void)sa_flush(ctx, s);
			sa_free(ctx, s);
			return VPNR_OK;
		}
		/* The peer went on using it: current again, it lives out
		 * its lifetime. */
		if (s->expires_at != 0)
			vpnr__timer_arm(ctx, tm, s->expires_at);
		return VPNR_OK;
	}
	if (s->expires_at != 0 && now >= s->expires_at) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKEv1 ISAKMP SA %016llx_i %016llx_r expired",
		    (unsigned long long)s->cky_i, (unsigned long long)s->cky_r);
		if (t->v1 == s && t->want_up)
			t->v1 =
			    NULL; /* the CHILD_SAs stay; a new one follows */
		sa_free(ctx, s);
		if (t->v1 == NULL && t->want_up)
			return vpnr__v1_tunnel_start(ctx, t, now);
		return VPNR_OK;
	}
	vpnr__timer_arm(ctx, tm, s->expires_at);
	if (t->v1 != s)
		return VPNR_OK;
	TAILQ_FOREACH(n, &t->v1_sas, tentry)
		if (n != s && !n->up)
			return VPNR_OK; /* a new one is on its way */
	return vpnr__v1_tunnel_rekey(ctx, t, VPNR_REKEY_IKE, now);
}

/* ---- tunnel operations ---- */

static int
sa_start(vpnr_ctx *ctx, struct tunnel *t, struct v1_sa *replaces,
    vpnr_tstamp now)
{
	struct v1_sa *s;
	vpnr_addr local = t->cfg.local, remote = t->cfg.remote;
	/* Asked before this SA joins the tunnel's list. */
	int others = replaces != NULL || peer_has_sas(ctx, t, NULL);
	int rv;

	local.port =
	    ctx->cfg.ike_port != 0 ? ctx->cfg.ike_port : VPNR__IKE_PORT;
	remote.port = vpnr__peer_ike_port(ctx, t);
	if ((s = sa_new(ctx, t, 1, &local, &remote)) == NULL)
		return VPNR_ERR_NOMEM;
	s->replaces = replaces;
	s->cfg.no_initial_contact = others;
	if (replaces == NULL)
		t->v1 = s;
	rv = vpnr__v1_ike_start(&s->e, now);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu: initiating IKEv1 %s with %s%s",
	    (unsigned long long)t->id,
	    s->cfg.aggressive ? "Aggressive Mode" : "Main Mode",
	    vpnr_addr_format(&remote, (char[64]){ 0 }, 64),
	    replaces != NULL ? " (Phase 1 rekey)" : "");
	if (rv != VPNR_OK && s->e.state != V1S_FAILED) {
		s->e.state = V1S_FAILED;
		s->e.error = rv;
		s->e.why = "cannot build the first message";
	}
	return sa_process(ctx, s, VPNR_OK, now);
}

/* A sibling's Phase 1 with t's peer under way, or NULL. */
static struct v1_sa *
sibling_phase1(vpnr_ctx *ctx, struct tunnel *t)
{
	struct tunnel *o;

	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o))
		if (o != t && sibling(t, o) && o->v1 != NULL && !o->v1->up &&
		    o->v1->e.state != V1S_FAILED)
			return o->v1;
	return NULL;
}

int
vpnr__v1_tunnel_start(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct v1_sa *o;
	int rv;

	t->state = VPNR_TUNNEL_CONNECTING;
	/*
	 * One Phase 1 with a peer at a time: two fresh ISAKMP SAs of
	 * one connection make strongSwan take each for the other's
	 * reauthentication and delete both.  t waits for the sibling's
	 * SA.
	 */
	if ((o = sibling_phase1(ctx, t)) != NULL) {
		if (!t->v1_wait)
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "tunnel %llu: waits for the Phase 1 of tunnel %llu "
			    "with the same peer",
			    (unsigned long long)t->id,
			    (unsigned long long)o->tun->id);
		wait_for_sa(ctx, t, now);
		return VPNR_OK;
	}
	rv = sa_start(ctx, t, NULL, now);
	if (rv == VPNR_ERR_NOMEM) {
		t->v1 = NULL;
		vpnr__tunnel_gone(ctx, t, VPNR_ERR_NOMEM, 0, now);
		return VPNR_OK;
	}
	return rv;
}

int
vpnr__v1_tunnel_rekey(vpnr_ctx *ctx, struct tunnel *t, uint32_t what,
    vpnr_tstamp now)
{
	struct child_sa *c;
	int rv = VPNR_OK;

	if (v1_channel(ctx, t) == NULL)
		return VPNR_ERR_INVALID_STATE;
	if (what & VPNR_REKEY_CHILD) {
		TAILQ_FOREACH(c, &t->children, entry)
			if (c->state == CHILD_INSTALLED) {
				rv = vpnr__v1_child_start(ctx, t, c->id, now);
				break; /* one Quick Mode at a time */
			}
		if (rv != VPNR_OK)
			return rv;
	}
	if ((what & VPNR_REKEY_IKE) && t->v1 != NULL && t->v1->up)
		rv = sa_start(ctx, t, t->v1, now);
	return rv == VPNR_ERR_NOMEM ? VPNR_OK : rv;
}

int
vpnr__v1_tunnel_probe(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct v1_sa *s = v1_channel(ctx, t);

	if (s == NULL)
		return VPNR_OK;
	/* R-U-THERE to any peer: RFC 3706 lets a peer that did not say
	 * DPD ignore it, and any answer is proof of life anyway. */
	return sa_process(ctx, s,
	    vpnr__v1_ike_dpd(&s->e, now) == VPNR_ERR_CALLBACK_FAILURE ?
		VPNR_ERR_CALLBACK_FAILURE :
		VPNR_OK,
	    now);
}

void
vpnr__v1_tunnel_quiet(vpnr_ctx *ctx, struct tunnel *t)
{
	const struct vpnr__v1_quick *q;
	struct tunnel *o;
	struct v1_sa *s;

	t->v1_wait = 0;
	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o)) {
		if (o != t && !sibling(t, o))
			continue;
		TAILQ_FOREACH(s, &o->v1_sas, tentry) {
			q = &s->e.qm;
			if (q->state != V1Q_NONE && q->state != V1Q_DONE &&
			    (q->conn.id != 0 ? q->conn.id : o->id) == t->id)
				vpnr__v1_ike_quick_abort(&s->e);
		}
	}
}

/* A sibling without an ISAKMP SA of its own whose CHILD_SAs the peer
 * keeps with t's, or NULL.  (One still without a CHILD_SA asks again
 * over a new ISAKMP SA: qm_lost.) */
static struct tunnel *
v1_heir(vpnr_ctx *ctx, struct tunnel *t)
{
	struct tunnel *o;

	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o))
		if (o != t && sibling(t, o) && o->v1 == NULL &&
		    live_child(o) != NULL)
			return o;
	return NULL;
}

/* t closes: its ISAKMP SAs go on as heir's, so that the peer keeps
 * heir's CHILD_SAs (strongSwan deletes an IKEv1 IKE_SA's CHILD_SAs
 * with it). */
static void
hand_over(vpnr_ctx *ctx, struct tunnel *t, struct tunnel *heir, vpnr_tstamp now)
{
	struct v1_sa *s;

	while ((s = TAILQ_FIRST(&t->v1_sas)) != NULL) {
		TAILQ_REMOVE(&t->v1_sas, s, tentry);
		TAILQ_INSERT_TAIL(&heir->v1_sas, s, tentry);
		sa_cfg(s, heir);
	}
	heir->v1 = t->v1;
	t->v1 = NULL;
	if (heir->v1 != NULL)
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKEv1 ISAKMP SA %016llx_i %016llx_r of tunnel %llu goes "
		    "on with tunnel %llu",
		    (unsigned long long)heir->v1->cky_i,
		    (unsigned long long)heir->v1->cky_r,
		    (unsigned long long)t->id, (unsigned long long)heir->id);
	vpnr__tunnel_dpd_arm(ctx, heir, now);
}

/* The peer is dead (liveness) or the tunnel closes: its ISAKMP SAs
 * go (with DELETEs when say_delete) or, on a close, go on with a
 * sibling that uses them; then its CHILD_SAs go. */
void
vpnr__v1_tunnel_end(vpnr_ctx *ctx, struct tunnel *t, int reason, int say_delete,
    vpnr_tstamp now)
{
	struct v1_sa *s = v1_channel(ctx, t), *o;
	struct tunnel *heir =
	    reason == VPNR_ERR_LOCAL_CLOSE ? v1_heir(ctx, t) : NULL;
	struct child_sa *c;
	uint64_t riders[4];
	size_t n = 0, i;

	vpnr__v1_tunnel_quiet(ctx, t);
	if (say_delete && s != NULL) {
		TAILQ_FOREACH(c, &t->children, entry) {
			uint8_t spi[4];

			vpnr__put_be32(spi, c->spi_in);
			(void)vpnr__v1_ike_delete_child(&s->e, spi, now);
		}
		if (s->tun == t && heir == NULL) {
			s->e.child_ready = 0;
			(void)vpnr__v1_ike_delete(&s->e, now);
		}
		(void)sa_flush(ctx, s);
	}
	if (heir != NULL)
		hand_over(ctx, t, heir, now);
	/* At most one Quick Mode per SA: a rider each, a few SAs. */
	while ((o = TAILQ_FIRST(&t->v1_sas)) != NULL) {
		if (n < sizeof(riders) / sizeof(riders[0]))
			riders[n++] = qm_rider(o);
		sa_free(ctx, o);
	}
	vpnr__tunnel_gone(ctx, t, reason, 0, now);
	for (i = 0; i < n; i++)
		if (qm_lost(ctx, riders[i], t->id, now) != VPNR_OK)
			break; /* a callback asked to abort */
}

/* ---- input ---- */

/* The v1 tunnel an MM1 / AM1 from remote to local is for: the one
 * configured for exactly that pair, else the first to that peer. */
static struct tunnel *
tunnel_for(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote)
{
	struct tunnel *t, *any = NULL;

	for (t = vpnr__tunnel_first_by_peer(ctx, remote); t != NULL;
	     t = vpnr__tunnel_next_by_peer(ctx, t)) {
		if (!vpnr__tunnel_v1(t) || t->deleting)
			continue;
		if (vpnr__addr_eq(&t->cfg.local, local))
			return t;
		if (any == NULL)
			any = t;
	}
	return any;
}

static int
responder_new(vpnr_ctx *ctx, struct tunnel *t, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct v1_sa *s;
	int rv;

	if (ike->v1_half_open >= ctx->cfg.half_open_max) {
		vpnr__ike_refused(ctx, VPNR__REFUSE_LIMIT, remote, now);
		return VPNR_OK;
	}
	if ((s = sa_new(ctx, t, 0, local, remote)) == NULL)
		return VPNR_OK; /* dropped: the peer retransmits */
	s->natt = local->port == vpnr__natt_port(ctx);
	rv = vpnr__v1_ike_input(&s->e, data, len, now);
	if (rv == VPNR_ERR_MALFORMED || s->e.state == V1S_MM_WAIT1) {
		/* Nothing came of it: no state kept. */
		sa_free(ctx, s);
		vpnr__ike_count_malformed(ctx, t, now,
		    "bad IKEv1 first message");
		return VPNR_ERR_MALFORMED;
	}
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "%s is initiating an IKEv1 %s (tunnel %llu)",
	    vpnr_addr_format(remote, (char[64]){ 0 }, 64),
	    s->e.state == V1S_AM_SENT2 ? "Aggressive Mode" : "Main Mode",
	    (unsigned long long)t->id);
	return sa_process(ctx, s, VPNR_OK, now);
}

int
vpnr__v1_recv(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, vpnr_tstamp now)
{
	static const uint8_t zero[8];
	struct v1_sa key, *s;
	struct tunnel *t;
	uint64_t dropped, malformed, dup, qm_conn;
	int rv, qm_sent;

	if (len < VPNR__V1_HDR_LEN)
		return VPNR_ERR_MALFORMED;
	key.cky_i = vpnr__get_be64(data);
	s = RB_FIND(vpnr__v1_sa_tree, &vpnr__ike(ctx)->v1_sas, &key);
	if (s == NULL) {
		if ((t = tunnel_for(ctx, local, remote)) == NULL) {
			vpnr__ike_count_malformed(ctx, NULL, now,
			    "IKEv1 from a peer without an IKEv1 tunnel");
			return VPNR_ERR_MALFORMED;
		}
		if (memcmp(data + 8, zero, 8) == 0 &&
		    (data[18] == VPNR__V1_EXCH_MAIN ||
			data[18] == VPNR__V1_EXCH_AGGRESSIVE))
			return responder_new(ctx, t, local, remote, data, len,
			    now);
		vpnr__ike_count_malformed(ctx, t, now,
		    "IKEv1 message for an unknown ISAKMP SA");
		return VPNR_OK;
	}
	if (!vpnr__addr_eq(remote, &s->remote)) {
		vpnr__ike_count_malformed(ctx, s->tun, now,
		    "IKEv1 message from another address");
		return VPNR_ERR_MALFORMED;
	}
	/* The peer moved to the NAT-T port (or its mapping changed). */
	if (local->port == vpnr__natt_port(ctx) &&
	    (!s->natt || remote->port != s->remote.port)) {
		s->natt = 1;
		s->local = *local;
		s->remote = *remote;
	}
	/* INITIAL-CONTACT goes with MM5 / AM3 only if there is still no
	 * other SA with the peer: two tunnels started together both saw
	 * none, and the peer would drop the one that came up first. */
	if (s->e.initiator && !s->up && !s->cfg.no_initial_contact &&
	    peer_has_sas(ctx, s->tun, s))
		s->cfg.no_initial_contact = 1;
	dropped = s->e.n_dropped;
	malformed = s->e.n_malformed;
	dup = s->e.n_dup;
	qm_sent = s->e.qm.initiator && s->e.qm.state == V1Q_SENT1;
	qm_conn = s->e.qm.conn.id;
	rv = vpnr__v1_ike_input(&s->e, data, len, now);
	s->tun->malformed += s->e.n_malformed - malformed;
	if (qm_sent && s->e.qm_abandoned)
		qm_gave_way(ctx, s, qm_conn, now);
	/* An authenticated message acted on: proof of life. */
	if (rv == VPNR_OK && s->up && s->e.state == V1S_P1_DONE &&
	    s->e.n_dropped == dropped && s->e.n_malformed == malformed &&
	    s->e.n_dup == dup) {
		vpnr__tunnel_alive(ctx, s->tun, now);
		/* Of the tunnel's ISAKMP SAs, the one the peer last used is
		 * current: after a Phase 1 rekey both ends then agree, even
		 * if one side of the new SA failed at the last step. */
		if (s->tun->v1 != s)
			s->tun->v1 = s;
		for (t = vpnr__tunnel_first_by_peer(ctx, &s->tun->cfg.remote);
		     t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t))
			if (t != s->tun && sibling(s->tun, t) && t->v1 == NULL)
				vpnr__tunnel_alive(ctx, t, now);
	}
	if (rv == VPNR_ERR_MALFORMED)
		vpnr__ike_count_malformed(ctx, s->tun, now,
		    "IKEv1 message does not parse or verify");
	return sa_process(ctx, s,
	    rv == VPNR_ERR_MALFORMED || rv == VPNR_ERR_TIMEOUT ||
		    (rv < 0 && !vpnr_err_is_fatal(rv)) ?
		VPNR_OK :
		rv,
	    now);
}

/* ---- info ---- */

void
vpnr__v1_fill_event(vpnr_ctx *ctx, struct tunnel *t, vpnr_tunnel_event *ev)
{
	struct v1_sa *s = t->v1 != NULL ? t->v1 : v1_channel(ctx, t);

	if (s == NULL) {
		ev->local = t->cfg.local;
		ev->remote = t->cfg.remote;
		return;
	}
	ev->local = s->local;
	ev->remote = s->remote;
	ev->ike_spi_i = vpnr__get_be64(s->e.cky_i);
	ev->ike_spi_r = vpnr__get_be64(s->e.cky_r);
}

void
vpnr__v1_fill_info(vpnr_ctx *ctx, const struct tunnel *t,
    vpnr_tunnel_info *info)
{
	struct v1_sa *s = v1_channel(ctx, (struct tunnel *)t);
	struct vpnr__suite su;

	if (s == NULL) {
		info->local = t->cfg.local;
		info->remote = t->cfg.remote;
		return;
	}
	vpnr__v1_p1_suite_v2(&s->e.p1, &su);
	info->local = s->local;
	info->remote = s->remote;
	info->spi_i = vpnr__get_be64(s->e.cky_i);
	info->spi_r = vpnr__get_be64(s->e.cky_r);
	info->ike_encr = su.encr;
	info->ike_encr_bits = su.encr_bits;
	info->ike_prf = su.prf;
	info->ike_integ = su.integ;
	info->ike_dh = su.dh;
	info->nat_flags = (uint16_t)((s->e.nat_local ? 1 : 0) |
	    (s->e.nat_remote ? 2 : 0) | (t->cfg.force_encap ? 4 : 0));
}
