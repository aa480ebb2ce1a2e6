/*
 * IKE SAs (RFC 7296), the bottom layer of the IKEv2 engine: life
 * cycle, message ids with a window of one, retransmission with
 * exponential backoff, the cached response for duplicate requests,
 * queued work and timers, and the dispatch of incoming messages and
 * queued work to the exchanges (ike_init.c, ike_auth.c, ike_child.c,
 * ike_rekey.c, ike_info.c).  They call down into this file; it calls
 * up only through their entry points (the layers: ike_exch.h).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "crypto.h"
#include "ctx.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "log.h"
#include "mem.h"

static int
sa_cmp(const struct ike_sa *a, const struct ike_sa *b)
{
	return a->local_spi < b->local_spi ? -1 : a->local_spi > b->local_spi;
}
RB_GENERATE(vpnr__ike_sa_tree, ike_sa, entry, sa_cmp)

static int rtx_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);
static int life_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);
static int rekey_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);
static int keepalive_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);

static uint16_t
ike_port(const vpnr_ctx *ctx)
{
	return ctx->cfg.ike_port != 0 ? ctx->cfg.ike_port : VPNR__IKE_PORT;
}

struct ike_sa *
vpnr__ike_sa_find(vpnr_ctx *ctx, uint64_t local_spi)
{
	struct ike_sa key;

	key.local_spi = local_spi;
	return RB_FIND(vpnr__ike_sa_tree, &vpnr__ike(ctx)->sas, &key);
}

uint64_t
vpnr__ike_new_spi(vpnr_ctx *ctx)
{
	uint64_t spi;
	int i;

	for (i = 0; i < 16; i++) {
		if (vpnr__random(ctx, &spi, sizeof(spi)) != VPNR_OK)
			return 0;
		if (spi != 0 && vpnr__ike_sa_find(ctx, spi) == NULL)
			return spi;
	}
	return 0;
}

int
vpnr__ike_sa_set_nonce(vpnr_ctx *ctx, struct ike_sa *sa, int resp,
    const uint8_t *src, size_t len)
{
	uint8_t **pp = resp ? &sa->nr : &sa->ni, *p;
	uint32_t *plen = resp ? &sa->nr_len : &sa->ni_len;
	int rv;

	if (len == 0 || len > VPNR__IKE_MAX_NONCE)
		return VPNR_ERR_INTERNAL;
	if ((p = vpnr__malloc(ctx->mem, len)) == NULL)
		return VPNR_ERR_NOMEM;
	if (src != NULL)
		memcpy(p, src, len);
	else if ((rv = vpnr__random(ctx, p, len)) != VPNR_OK) {
		vpnr__freezero(ctx->mem, p, len);
		return rv;
	}
	vpnr__freezero(ctx->mem, *pp, *plen);
	*pp = p;
	*plen = (uint32_t)len; /* len <= VPNR__IKE_MAX_NONCE */
	return VPNR_OK;
}

void
vpnr__ike_sa_drop_nonces(vpnr_ctx *ctx, struct ike_sa *sa)
{
	vpnr__freezero(ctx->mem, sa->ni, sa->ni_len);
	vpnr__freezero(ctx->mem, sa->nr, sa->nr_len);
	sa->ni = sa->nr = NULL;
	sa->ni_len = sa->nr_len = 0;
}

struct ike_sa *
vpnr__ike_sa_new(vpnr_ctx *ctx, struct tunnel *t, int initiator, uint64_t spi)
{
	struct ike_sa *sa;

	if (spi != 0 && vpnr__ike_sa_find(ctx, spi) != NULL)
		return NULL;
	sa = vpnr__calloc(ctx->mem, 1, sizeof(*sa));
	if (sa == NULL)
		return NULL;
	sa->local_spi = spi != 0 ? spi : vpnr__ike_new_spi(ctx);
	if (sa->local_spi == 0) {
		vpnr__free(ctx->mem, sa);
		return NULL;
	}
	sa->tun = t;
	sa->initiator = initiator;
	if (initiator)
		sa->spi_i = sa->local_spi;
	else
		sa->spi_r = sa->local_spi;
	sa->local = t->cfg.local;
	sa->remote = t->cfg.remote;
	if (sa->local.port == 0)
		sa->local.port = ike_port(ctx);
	sa->remote.port = vpnr__peer_ike_port(ctx, t);
	/* A peer configured on the NAT-T port is talked to from ours,
	 * with the non-ESP marker, from the first message on (ESP is
	 * still encapsulated only when NAT is detected, 2.23). */
	if (sa->remote.port == vpnr__peer_natt_port(ctx, t))
		sa->local.port = vpnr__natt_port(ctx);
	vpnr__wbuf_init(&sa->req, ctx->mem,
	    VPNR__IKE_MAX_MSG + VPNR__IKE_MARKER_LEN);
	vpnr__wbuf_init(&sa->resp, ctx->mem,
	    VPNR__IKE_MAX_MSG + VPNR__IKE_MARKER_LEN);
	STAILQ_INIT(&sa->tasks);
	vpnr__timer_init(&sa->rtx_timer, rtx_fire, sa);
	vpnr__timer_init(&sa->life_timer, life_fire, sa);
	vpnr__timer_init(&sa->rekey_timer, rekey_fire, sa);
	vpnr__timer_init(&sa->keepalive_timer, keepalive_fire, sa);
	RB_INSERT(vpnr__ike_sa_tree, &vpnr__ike(ctx)->sas, sa);
	TAILQ_INSERT_TAIL(&t->sas, sa, tentry);
	return sa;
}

static void
sa_unlink(vpnr_ctx *ctx, struct ike_sa *sa)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);

	if (sa->req_spi_indexed) {
		RB_REMOVE(vpnr__req_spi_tree, &ike->req_spis, sa);
		sa->req_spi_indexed = 0;
	}
	if (sa->local_spi != 0) {
		RB_REMOVE(vpnr__ike_sa_tree, &ike->sas, sa);
		sa->local_spi = 0;
	}
	vpnr__ike_half_open_drop(ctx, sa);
	vpnr__timer_disarm(ctx, &sa->rtx_timer);
	vpnr__timer_disarm(ctx, &sa->rekey_timer);
	vpnr__timer_disarm(ctx, &sa->keepalive_timer);
	vpnr__timer_disarm(ctx, &sa->life_timer);
	vpnr__ike_guests_drop(ctx, sa);
	if (sa->tun != NULL && sa->tun->ike == sa)
		sa->tun->ike = NULL;
}

static void
resp_fail_free(vpnr_ctx *ctx, struct ike_sa *sa)
{
	if (sa->resp_fail == NULL)
		return;
	vpnr__wbuf_free(sa->resp_fail);
	vpnr__free(ctx->mem, sa->resp_fail);
	sa->resp_fail = NULL;
}

void
vpnr__ike_sa_free(vpnr_ctx *ctx, struct ike_sa *sa)
{
	struct ike_task *tk;

	sa_unlink(ctx, sa);
	if (sa->tun != NULL)
		TAILQ_REMOVE(&sa->tun->sas, sa, tentry);
	while ((tk = STAILQ_FIRST(&sa->tasks)) != NULL) {
		STAILQ_REMOVE_HEAD(&sa->tasks, entry);
		vpnr__free(ctx->mem, tk);
	}
	if (sa->dh != NULL)
		vpnr__dh_free(sa->dh);
	if (sa->req_dh != NULL)
		vpnr__dh_free(sa->req_dh);
	vpnr__free(ctx->mem, sa->init_req);
	vpnr__free(ctx->mem, sa->init_resp);
	vpnr__free(ctx->mem, sa->cookie);
	vpnr__ike_sa_drop_nonces(ctx, sa);
	vpnr__freezero(ctx->mem, sa->peer_rekey_nonce,
	    sa->peer_rekey_nonce_len);
	vpnr__ike_keys_free(ctx->mem, &sa->keys);
	vpnr__wbuf_free(&sa->req);
	vpnr__wbuf_free(&sa->resp);
	resp_fail_free(ctx, sa);
	vpnr__freezero(ctx->mem, sa, sizeof(*sa));
}

/*
 * A replaced IKE SA goes while CHILD_SA work is pending on it (crossed
 * rekeys, losses): the work moves to the tunnel's current IKE SA.
 */
static void
hand_over(vpnr_ctx *ctx, struct ike_sa *sa, struct ike_sa *cur, vpnr_tstamp now)
{
	struct ike_task *tk;
	struct child_sa *c;

	switch (sa->req_type) {
	case REQ_DELETE_CHILD:
	case REQ_DELETE_SPI:
		if (vpnr__ike_sa_task(ctx, cur, sa->req_type, sa->req_child,
			now) != VPNR_OK)
			break; /* cur ended (reported), or an abort */
		break;
	case REQ_REKEY_CHILD:
		/*
		 * Whether the peer processed our rekey is unknown: void
		 * it (DELETE of the SPI we offered; the peer then keeps
		 * the old pair) and keep ours until the peer says more.
		 */
		c = vpnr__ike_child(ctx, sa, sa->req_child);
		if (c == NULL || c->state != CHILD_REKEYING)
			break;
		c->state = CHILD_INSTALLED;
		vpnr__timer_arm(ctx, &c->rekey_timer,
		    now + VPNR__IKE_REKEY_RETRY);
		if (vpnr__ike_sa_task(ctx, cur, REQ_DELETE_SPI, sa->req_spi,
			now) != VPNR_OK)
			break; /* cur ended (reported), or an abort */
		break;
	case REQ_NEW_CHILD:
		/* A guest's CHILD_SA: asked again on cur; what the peer may
		 * have made of the first request goes after that. */
		if (vpnr__ike_sa_task(ctx, cur, REQ_NEW_CHILD, sa->req_tun,
			now) != VPNR_OK ||
		    vpnr__ike_sa_task(ctx, cur, REQ_DELETE_SPI, sa->req_spi,
			now) != VPNR_OK)
			break; /* cur ended (reported), or an abort */
		break;
	default:
		break;
	}
	sa->req_type = REQ_NONE;
	while ((tk = STAILQ_FIRST(&sa->tasks)) != NULL) {
		STAILQ_REMOVE_HEAD(&sa->tasks, entry);
		/* Once cur ended (reported), the rest is dropped. */
		if ((tk->type == REQ_DELETE_CHILD ||
			tk->type == REQ_DELETE_SPI ||
			tk->type == REQ_REKEY_CHILD ||
			tk->type == REQ_NEW_CHILD) &&
		    cur->state != IKE_DEAD &&
		    vpnr__ike_sa_task(ctx, cur, tk->type, tk->child_id, now) !=
			VPNR_OK)
			vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
			    "task %d not handed over", tk->type);
		vpnr__free(ctx->mem, tk);
	}
}

/*
 * The SA is finished: it leaves the SPI table and the tunnel at once
 * and is freed by a zero-delay timer, so callers up the stack may
 * still look at it.  If it was the tunnel's current SA, the tunnel is
 * told (children go, events).
 */
void
vpnr__ike_sa_dead(vpnr_ctx *ctx, struct ike_sa *sa, int reason, uint16_t notify,
    vpnr_tstamp now)
{
	struct tunnel *t = sa->tun;
	int prev = sa->state;

	if (sa->state == IKE_DEAD)
		return;
	sa->state = IKE_DEAD;
	if (t != NULL && t->ike != NULL && t->ike != sa &&
	    t->ike->state == IKE_ESTABLISHED)
		hand_over(ctx, sa, t->ike, now);
	/* Tunnels riding it go first (their CHILD_SAs went with it). */
	vpnr__ike_guests_gone(ctx, sa, reason, notify, now);
	if (t != NULL &&
	    (t->ike == sa ||
		(t->ike == NULL && prev == IKE_HALF_OPEN && reason != 0)))
		vpnr__tunnel_ike_gone(ctx, t, sa, reason, notify, now);
	sa_unlink(ctx, sa);
	vpnr__timer_arm(ctx, &sa->life_timer, now);
}

/* ---- crossed rekeys: the lower nonce loses (2.8.1, 2.8.2) ---- */

static int
nonce_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

/* The lower of two nonces into out. */
static void
nonce_min(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
    uint8_t *out, size_t *outlen)
{
	if (nonce_cmp(a, al, b, bl) <= 0) {
		memcpy(out, a, al);
		*outlen = al;
	} else {
		memcpy(out, b, bl);
		*outlen = bl;
	}
}

int
vpnr__ike_keep_min_nonce(vpnr_ctx *ctx, const uint8_t *a, size_t al,
    const uint8_t *b, size_t bl, uint8_t **out, size_t *outlen)
{
	uint8_t *p;
	size_t n = nonce_cmp(a, al, b, bl) <= 0 ? al : bl;

	vpnr__freezero(ctx->mem, *out, *outlen);
	*out = NULL;
	*outlen = 0;
	if ((p = vpnr__malloc(ctx->mem, n)) == NULL)
		return VPNR_ERR_NOMEM;
	nonce_min(a, al, b, bl, p, outlen);
	*out = p;
	return VPNR_OK;
}

int
vpnr__ike_collision_lost(const struct ike_sa *sa,
    const struct vpnr__ike_msg *msg, const uint8_t *peer, size_t peer_len)
{
	uint8_t ours[VPNR__IKE_MAX_NONCE];
	size_t ours_len = 0;

	nonce_min(sa->req_nonce, sa->req_nonce_len, msg->nonce, msg->nonce_len,
	    ours, &ours_len);
	return nonce_cmp(ours, ours_len, peer, peer_len) < 0;
}

/* ---- established, or refused by the peer (IKE_SA_INIT, IKE_AUTH,
 * IKE rekey) ---- */

void
vpnr__ike_sa_log_up(vpnr_ctx *ctx, struct ike_sa *sa)
{
	char l[64], r[64], s[128];

	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "IKE_SA established between %s...%s, SPIs %016llx_i %016llx_r, "
	    "%s%s",
	    vpnr_addr_format(&sa->local, l, sizeof(l)),
	    vpnr_addr_format(&sa->remote, r, sizeof(r)),
	    (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
	    vpnr__suite_str(&sa->suite, s, sizeof(s)),
	    !sa->natt             ? "" :
		sa->nat_flags & 3 ? ", NAT detected" :
				    ", UDP encapsulation forced");
}

void
vpnr__ike_sa_arm_rekey(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	vpnr_tstamp t = sa->tun->cfg.ike_rekey;

	if (t == 0)
		return;
	if (sa->initiator)
		t = vpnr__jitter(ctx, t, sa->tun->cfg.jitter_percent);
	else
		t += t / 20; /* the initiator normally goes first */
	vpnr__timer_arm(ctx, &sa->rekey_timer, now + t);
}

void
vpnr__ike_sa_established(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	vpnr__ike_half_open_drop(ctx, sa);
	vpnr__timer_disarm(ctx, &sa->life_timer);
	sa->state = IKE_ESTABLISHED;
	sa->established_at = now;
	sa->last_rx = now;
	sa->last_resp_rx = now;
	vpnr__ike_sa_arm_rekey(ctx, sa, now);
	if (sa->natt && (sa->nat_flags & 5))
		vpnr__timer_arm(ctx, &sa->keepalive_timer,
		    now + VPNR__IKE_KEEPALIVE);
	vpnr__free(ctx->mem, sa->init_req);
	vpnr__free(ctx->mem, sa->init_resp);
	sa->init_req = sa->init_resp = NULL;
	sa->init_req_len = sa->init_resp_len = 0;
}

int
vpnr__ike_notify_reason(uint16_t type)
{
	switch (type) {
	case VPNR__N_NO_PROPOSAL_CHOSEN:
		return VPNR_ERR_NO_PROPOSAL;
	case VPNR__N_AUTHENTICATION_FAILED:
		return VPNR_ERR_AUTH_FAILED;
	case VPNR__N_TS_UNACCEPTABLE:
		return VPNR_ERR_TS_UNACCEPTABLE;
	case VPNR__N_INVALID_SYNTAX:
		return VPNR_ERR_MALFORMED;
	default:
		return VPNR_ERR_PEER_ERROR;
	}
}

void
vpnr__ike_fail_notify(vpnr_ctx *ctx, struct ike_sa *sa, uint16_t type,
    vpnr_tstamp now)
{
	int reason = vpnr__ike_notify_reason(type);
	vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
	    "IKE_SA %016llx_i %016llx_r: peer sent error notify %u (%s)",
	    (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r, type,
	    vpnr_err_name(reason));
	vpnr__ike_sa_dead(ctx, sa, reason, type, now);
}

uint16_t
vpnr__ike_first_error(const struct vpnr__ike_msg *msg)
{
	uint8_t i;

	for (i = 0; i < msg->n_notify; i++)
		if (msg->notify[i].type < 16384)
			return msg->notify[i].type;
	return 0;
}

/* ---- sending ---- */

/*
 * On a tunnel's established IKE SA with liveness checks, whether the
 * peer is gone is for the liveness checks to say, not a request's
 * retransmit count: a request unanswered at 40 % loss (0.64^8 = 2.8 %
 * for 8 tries) must not end a tunnel whose peer is heard.
 */
static int
liveness_decides(const struct ike_sa *sa)
{
	const struct tunnel *t = sa->tun;

	return t != NULL && t->ike == sa && sa->state == IKE_ESTABLISHED &&
	    t->cfg.dpd_interval != 0;
}

static vpnr_tstamp
rtx_timeout(const struct ike_sa *sa)
{
	vpnr_tstamp first = sa->tun->cfg.rtx_first, d, cap = 0;
	uint32_t n = sa->req_tries > VPNR__IKE_RTX_DOUBLINGS ?
	    VPNR__IKE_RTX_DOUBLINGS :
	    sa->req_tries;

	/* A probe, or any request while the tunnel is probing. */
	if (liveness_decides(sa) &&
	    (sa->req_type == REQ_DPD || vpnr__tunnel_probing(sa->tun)))
		return vpnr__tunnel_probe_rtx(sa->tun, sa->req_tries);
	d = first << n;
	/* A connection attempt never waits long for its next try:
	 * after an outage, the path's return is noticed in seconds.
	 * Requests that do not give up by count keep trying too. */
	if (sa->state == IKE_INIT_SENT || sa->state == IKE_AUTH_SENT)
		cap = VPNR__IKE_ATTEMPT_RTX_MAX;
	else if (liveness_decides(sa))
		cap = VPNR__IKE_LIVE_RTX_MAX;
	if (cap != 0 && cap < first)
		cap = first;
	if (cap != 0 && d > cap)
		d = cap;
	return d;
}

int
vpnr__ike_send_req_buf(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	sa->req_tries = 0;
	vpnr__timer_arm(ctx, &sa->rtx_timer, now + rtx_timeout(sa));
	return vpnr__ike_send(ctx, &sa->local, &sa->remote, &sa->req);
}

/* Seal inner into w (marker room, header, SK payload) for this SA. */
static int
seal_message(vpnr_ctx *ctx, struct ike_sa *sa, uint8_t exch, uint32_t msg_id,
    uint8_t flags, struct vpnr__wbuf *inner, uint8_t first,
    struct vpnr__wbuf *w)
{
	struct vpnr__ike_hdr hdr;

	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = sa->spi_i;
	hdr.spi_r = sa->spi_r;
	hdr.exchange = exch;
	hdr.flags = flags | (sa->initiator ? VPNR__IKE_F_INITIATOR : 0);
	hdr.msg_id = msg_id;
	int rv;

	/* Built afresh; kept (for retransmission) at its exact size. */
	vpnr__wbuf_free(w);
	vpnr__wbuf_put_zero(w, VPNR__IKE_MARKER_LEN);
	rv = vpnr__ike_sk_build(ctx, sa, &hdr,
	    inner != NULL ? vpnr__wbuf_data(inner) : NULL,
	    inner != NULL ? vpnr__wbuf_len(inner) : 0, first, w);
	if (rv == VPNR_OK)
		vpnr__wbuf_shrink(w);
	return rv;
}

int
vpnr__ike_send_request(vpnr_ctx *ctx, struct ike_sa *sa, uint8_t exch,
    struct vpnr__wbuf *inner, uint8_t first, int type, vpnr_tstamp now)
{
	int rv;

	rv = seal_message(ctx, sa, exch, sa->next_req_id, 0, inner, first,
	    &sa->req);
	if (rv != VPNR_OK)
		return rv;
	sa->req_type = type;
	return vpnr__ike_send_req_buf(ctx, sa, now);
}

int
vpnr__ike_hold_response(vpnr_ctx *ctx, struct ike_sa *sa, uint8_t exch,
    uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first,
    struct vpnr__wbuf *fail_inner, uint8_t fail_first, struct child_sa *c)
{
	int rv;

	rv = seal_message(ctx, sa, exch, msg_id, VPNR__IKE_F_RESPONSE, inner,
	    first, &sa->resp);
	/* The failure answer exists only while a response is held. */
	if (rv == VPNR_OK && sa->resp_fail == NULL) {
		sa->resp_fail =
		    vpnr__calloc(ctx->mem, 1, sizeof(*sa->resp_fail));
		if (sa->resp_fail == NULL)
			rv = VPNR_ERR_NOMEM;
		else
			vpnr__wbuf_init(sa->resp_fail, ctx->mem,
			    VPNR__IKE_MAX_MSG + VPNR__IKE_MARKER_LEN);
	}
	if (rv == VPNR_OK)
		rv = seal_message(ctx, sa, exch, msg_id, VPNR__IKE_F_RESPONSE,
		    fail_inner, fail_first, sa->resp_fail);
	sa->have_resp = rv == VPNR_OK;
	if (rv != VPNR_OK)
		return rv;
	sa->held_child = c->id;
	c->held_spi = sa->local_spi;
	vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
	    "response %u waits for the data plane", msg_id);
	return VPNR_OK;
}

int
vpnr__ike_release_response(vpnr_ctx *ctx, uint64_t child_id, int ok)
{
	struct child_sa *c = NULL;
	struct ike_sa *sa;
	struct vpnr__wbuf w;

	if ((c = vpnr__child_by_id(ctx, child_id)) == NULL || c->held_spi == 0)
		return 0;
	sa = vpnr__ike_sa_find(ctx, c->held_spi);
	c->held_spi = 0;
	if (sa == NULL || sa->held_child != child_id)
		return 0;
	sa->held_child = 0;
	if (!ok && sa->resp_fail != NULL) {
		w = sa->resp;
		sa->resp = *sa->resp_fail;
		*sa->resp_fail = w;
	}
	resp_fail_free(ctx, sa);
	/* A lost answer is a lost datagram: the peer retransmits. */
	if (vpnr__ike_send(ctx, &sa->local, &sa->remote, &sa->resp) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike", "held response not sent");
	/* Our own requests waited for the answer; a failure among them
	 * ends this IKE SA (reported), a callback's abort reaches the
	 * driving call through ctx->cb_error. */
	if (vpnr__ike_sa_next_task(ctx, sa, ctx->now) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "queued work aborted by a callback");
	return 1;
}

int
vpnr__ike_send_response(vpnr_ctx *ctx, struct ike_sa *sa, uint8_t exch,
    uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first)
{
	int rv;

	rv = seal_message(ctx, sa, exch, msg_id, VPNR__IKE_F_RESPONSE, inner,
	    first, &sa->resp);
	sa->have_resp = rv == VPNR_OK;
	if (rv != VPNR_OK)
		return rv;
	return vpnr__ike_send(ctx, &sa->local, &sa->remote, &sa->resp);
}

/* ---- receive ---- */

/*
 * RFC 7296 2.23: an authenticated message from a new address or port
 * of a peer behind a NAT (and we are not behind one) moves the IKE SA
 * there and, at once, the CHILD_SAs' outer addresses.  Returns 1 if
 * it applied (whether or not anything moved).
 */
static int
follow_peer(vpnr_ctx *ctx, struct ike_sa *sa, const vpnr_addr *local,
    const vpnr_addr *remote, vpnr_tstamp now)
{
	if ((sa->nat_flags & 3) != 2)
		return 0;
	if (vpnr__addr_eq_port(&sa->remote, remote) &&
	    vpnr__addr_eq_port(&sa->local, local))
		return 1;
	sa->local = *local;
	sa->remote = *remote;
	if (sa->state == IKE_ESTABLISHED && sa->tun != NULL &&
	    sa->tun->ike == sa) {
		vpnr__tunnel_peer_moved(ctx, sa->tun, sa, now);
		vpnr__ike_guests_moved(ctx, sa, now);
	}
	return 1;
}

/* An authenticated message (a request: req) is proof of life for the
 * tunnel and for every tunnel riding the SA. */
static void
peer_heard(vpnr_ctx *ctx, struct ike_sa *sa, int req, vpnr_tstamp now)
{
	if (sa->tun == NULL)
		return;
	if (req)
		sa->tun->peer_req_at = now; /* see dpd_grace() */
	vpnr__tunnel_alive(ctx, sa->tun, now);
	vpnr__ike_guests_alive(ctx, sa, now);
}

int
vpnr__ike_sa_recv(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_msg *msg,
    const uint8_t *data, size_t len, const vpnr_addr *local,
    const vpnr_addr *remote, vpnr_tstamp now)
{
	uint8_t exch = msg->hdr.exchange;
	int rv;

	if (msg->hdr.flags & VPNR__IKE_F_RESPONSE) {
		if (sa->req_type == REQ_NONE ||
		    msg->hdr.msg_id != sa->next_req_id)
			return VPNR_OK; /* late duplicate */
		if (exch == VPNR__IKE_SA_INIT) {
			if (sa->state != IKE_INIT_SENT)
				return VPNR_OK;
			rv = vpnr__ike_init_response(ctx, sa, msg, data, len,
			    local, remote, now);
			if (rv == VPNR_ERR_MALFORMED)
				vpnr__ike_count_malformed(ctx, sa->tun, now,
				    "bad IKE_SA_INIT response");
			return rv;
		}
		rv = vpnr__ike_sk_open(ctx, sa, msg, data, len);
		if (rv != VPNR_OK) {
			vpnr__ike_count_malformed(ctx, sa->tun, now,
			    rv == VPNR_ERR_INTEGRITY ?
				"integrity check failed" :
				"bad encrypted payload");
			return rv;
		}
		sa->last_rx = now;
		sa->last_resp_rx = now;
		peer_heard(ctx, sa, 0, now);
		follow_peer(ctx, sa, local, remote, now);
		switch (sa->req_type) {
		case REQ_AUTH:
			if (exch != VPNR__IKE_AUTH)
				return VPNR_ERR_MALFORMED;
			return vpnr__ike_auth_response(ctx, sa, msg, now);
		case REQ_REKEY_CHILD:
		case REQ_REKEY_IKE:
		case REQ_NEW_CHILD:
			if (exch != VPNR__IKE_CREATE_CHILD_SA)
				return VPNR_ERR_MALFORMED;
			return vpnr__ike_create_child_response(ctx, sa, msg,
			    now);
		default:
			if (exch != VPNR__IKE_INFORMATIONAL)
				return VPNR_ERR_MALFORMED;
			return vpnr__ike_info_response(ctx, sa, msg, now);
		}
	}
	/* A request from the peer. */
	if (sa->state == IKE_INIT_SENT || sa->state == IKE_AUTH_SENT)
		return VPNR_OK;
	if (sa->have_resp && msg->hdr.msg_id + 1 == sa->next_peer_id) {
		/* Our answer still waits for the data plane. */
		if (sa->held_child != 0)
			return VPNR_OK;
		if (vpnr__ike_sk_open(ctx, sa, msg, data, len) != VPNR_OK) {
			vpnr__ike_count_malformed(ctx, sa->tun, now,
			    "bad retransmission");
			return VPNR_ERR_MALFORMED;
		}
		peer_heard(ctx, sa, 1, now);
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "retransmitting response to request %u", msg->hdr.msg_id);
		return vpnr__ike_send(ctx, &sa->local, &sa->remote, &sa->resp);
	}
	if (msg->hdr.msg_id != sa->next_peer_id)
		return VPNR_OK;
	rv = vpnr__ike_sk_open(ctx, sa, msg, data, len);
	if (rv != VPNR_OK) {
		vpnr__ike_count_malformed(ctx, sa->tun, now,
		    rv == VPNR_ERR_INTEGRITY ? "integrity check failed" :
					       "bad encrypted payload");
		return rv;
	}
	peer_heard(ctx, sa, 1, now);
	if (msg->unsupported_critical != 0) {
		uint8_t pl = msg->unsupported_critical;
		struct vpnr__ike_builder b;
		struct vpnr__wbuf inner;

		vpnr__ike_refused(ctx, VPNR__REFUSE_CRITICAL, remote, now);
		vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
		vpnr__ike_build_begin_inner(&b, &inner);
		vpnr__ike_add_notify(&b, 0, NULL, 0,
		    VPNR__N_UNSUPPORTED_CRITICAL_PAYLOAD, &pl, 1);
		rv = vpnr__ike_build_end(&b) != 0 ?
		    VPNR_OK :
		    vpnr__ike_send_response(ctx, sa, exch, msg->hdr.msg_id,
			&inner, vpnr__ike_build_first(&b));
		vpnr__wbuf_free(&inner);
		sa->next_peer_id++;
		return vpnr__ike_task_rv(rv); /* lost: the peer retransmits */
	}
	sa->last_rx = now;
	/* The peer may have moved (NAT mapping, float to NAT-T port). */
	if (!follow_peer(ctx, sa, local, remote, now)) {
		sa->local = *local;
		sa->remote = *remote;
	}
	switch (exch) {
	case VPNR__IKE_AUTH:
		return vpnr__ike_auth_request(ctx, sa, msg, now);
	case VPNR__IKE_CREATE_CHILD_SA:
		if (sa->state != IKE_ESTABLISHED && sa->state != IKE_REKEYED)
			return VPNR_OK;
		return vpnr__ike_create_child_request(ctx, sa, msg, now);
	case VPNR__IKE_INFORMATIONAL:
		if (sa->state == IKE_HALF_OPEN)
			return VPNR_OK;
		return vpnr__ike_sa_process_informational(ctx, sa, msg, now);
	default:
		vpnr__ike_count_malformed(ctx, sa->tun, now,
		    "unknown exchange type");
		return VPNR_ERR_MALFORMED;
	}
}

/* ---- tasks ---- */

static int
start_task(vpnr_ctx *ctx, struct ike_sa *sa, int type, uint64_t child_id,
    vpnr_tstamp now)
{
	struct child_sa *c;
	struct tunnel *t;

	switch (type) {
	case REQ_REKEY_CHILD:
		c = vpnr__ike_child(ctx, sa, child_id);
		if (c == NULL || c->state != CHILD_INSTALLED ||
		    sa->state != IKE_ESTABLISHED)
			return VPNR_ERR_NOT_FOUND;
		return vpnr__child_start_rekey(ctx, sa, c, now);
	case REQ_NEW_CHILD:
		t = vpnr__tunnel_find(ctx, child_id);
		if (t == NULL || t->ike != sa || sa->state != IKE_ESTABLISHED)
			return VPNR_ERR_NOT_FOUND;
		return vpnr__child_start_new(ctx, sa, t, now);
	case REQ_REKEY_IKE:
		if (sa->state != IKE_ESTABLISHED)
			return VPNR_ERR_INVALID_STATE;
		return vpnr__ike_start_rekey(ctx, sa, now);
	case REQ_DELETE_CHILD:
		c = vpnr__ike_child(ctx, sa, child_id);
		if (c == NULL)
			return VPNR_ERR_NOT_FOUND;
		return vpnr__child_send_delete(ctx, sa, c, now);
	case REQ_DELETE_SPI:
	case REQ_DELETE_IKE:
	case REQ_DPD:
		return vpnr__ike_info_request(ctx, sa, type, child_id, now);
	default:
		return VPNR_ERR_INTERNAL;
	}
}

/*
 * One IKE SA's work could not be queued or started (no memory, an
 * internal error): that IKE SA ends, its tunnel reports the reason and
 * reconnects by its policy; the context and the other tunnels go on.
 */
int
vpnr__ike_sa_contain(vpnr_ctx *ctx, struct ike_sa *sa, int rv, vpnr_tstamp now)
{
	if (!vpnr_err_is_fatal(rv))
		return rv;
	vpnr__log(ctx, VPNR_LOG_ERR, "ike",
	    "IKE_SA %016llx_i %016llx_r: %s, ending it",
	    (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
	    vpnr_strerror(rv));
	if (sa->tun != NULL && sa->tun->ike == sa)
		sa->tun->last_error = rv;
	vpnr__ike_sa_dead(ctx, sa, rv, 0, now);
	return VPNR_OK;
}

static int
task_failed(vpnr_ctx *ctx, struct ike_sa *sa, int rv, vpnr_tstamp now)
{
	if (!vpnr_err_is_fatal(rv))
		return rv;
	(void)vpnr__ike_sa_contain(ctx, sa, rv, now);
	return VPNR_ERR_INVALID_STATE;
}

int
vpnr__ike_sa_task(vpnr_ctx *ctx, struct ike_sa *sa, int type, uint64_t child_id,
    vpnr_tstamp now)
{
	struct ike_task *tk;

	if (sa->state == IKE_DEAD)
		return VPNR_ERR_INVALID_STATE;
	STAILQ_FOREACH(tk, &sa->tasks, entry)
		if (tk->type == type && tk->child_id == child_id)
			return VPNR_OK;
	if ((sa->req_type == type && sa->req_child == child_id))
		return VPNR_OK;
	tk = vpnr__calloc(ctx->mem, 1, sizeof(*tk));
	if (tk == NULL)
		return task_failed(ctx, sa, VPNR_ERR_NOMEM, now);
	tk->type = type;
	tk->child_id = child_id;
	if (type == REQ_DELETE_IKE)
		STAILQ_INSERT_HEAD(&sa->tasks, tk, entry);
	else
		STAILQ_INSERT_TAIL(&sa->tasks, tk, entry);
	if (sa->req_type == REQ_NONE &&
	    vpnr__ike_sa_next_task(ctx, sa, now) == VPNR_ERR_CALLBACK_FAILURE)
		return VPNR_ERR_CALLBACK_FAILURE;
	return sa->state == IKE_DEAD ? VPNR_ERR_INVALID_STATE : VPNR_OK;
}

/*
 * The first queued task that may start.  While our answer to the peer
 * waits for a CHILD_SA's install, requests about that CHILD_SA and an
 * IKE rekey (which would move the exchange to another IKE SA) wait
 * too; others (DPD, DELETEs, other CHILD_SAs) go: the request and
 * response windows are separate (RFC 7296 2.3).
 */
static struct ike_task *
next_runnable(struct ike_sa *sa)
{
	struct ike_task *tk;

	STAILQ_FOREACH(tk, &sa->tasks, entry) {
		if (sa->held_child == 0)
			return tk;
		if (tk->type == REQ_REKEY_IKE)
			continue;
		if ((tk->type == REQ_REKEY_CHILD ||
			tk->type == REQ_DELETE_CHILD) &&
		    tk->child_id == sa->held_child)
			continue;
		return tk;
	}
	return NULL;
}

int
vpnr__ike_sa_next_task(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	struct ike_task *tk;
	int rv, first = VPNR_OK;

	while (sa->req_type == REQ_NONE && sa->state != IKE_DEAD &&
	    sa->state != IKE_INIT_SENT && sa->state != IKE_AUTH_SENT &&
	    sa->state != IKE_HALF_OPEN && (tk = next_runnable(sa)) != NULL) {
		STAILQ_REMOVE(&sa->tasks, tk, ike_task, entry);
		sa->req_child = tk->child_id;
		rv = start_task(ctx, sa, tk->type, tk->child_id, now);
		if (rv != VPNR_OK && rv != VPNR_ERR_NOT_FOUND)
			vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
			    "task %d failed: %s", tk->type, vpnr_err_name(rv));
		if (rv == VPNR_ERR_CALLBACK_FAILURE && first == VPNR_OK)
			first = rv;
		vpnr__free(ctx->mem, tk);
		if (vpnr_err_is_fatal(rv))
			(void)task_failed(ctx, sa, rv, now); /* ends the loop */
	}
	return first;
}

/* ---- timers ---- */

static int
rtx_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct ike_sa *sa = tm->arg;
	struct tunnel *t = sa->tun;

	if (sa->req_type == REQ_NONE)
		return VPNR_OK;
	if (sa->req_tries >= t->cfg.rtx_tries && !liveness_decides(sa)) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "giving up after %u retransmits of request %u, IKE_SA "
		    "%016llx_i %016llx_r",
		    sa->req_tries, sa->next_req_id,
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r);
		if (sa->req_type == REQ_DELETE_IKE)
			vpnr__ike_sa_dead(ctx, sa, sa->close_reason,
			    sa->close_notify, now);
		else
			vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_TIMEOUT, 0, now);
		return VPNR_OK;
	}
	sa->req_tries++;
	t->retransmits++;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike", "retransmit %u of request %u",
	    sa->req_tries, sa->next_req_id);
	vpnr__timer_arm(ctx, tm, now + rtx_timeout(sa));
	/* A failed send is one more loss; the next timeout retries. */
	return vpnr__ike_task_rv(
	    vpnr__ike_send(ctx, &sa->local, &sa->remote, &sa->req));
}

static int
life_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct ike_sa *sa = tm->arg;

	if (sa->state == IKE_DEAD) {
		vpnr__ike_sa_free(ctx, sa);
		return VPNR_OK;
	}
	if (sa->state == IKE_HALF_OPEN) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "half-open IKE_SA %016llx_i %016llx_r timed out",
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r);
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_TIMEOUT, 0, now);
	} else if (sa->state == IKE_DELETING || sa->state == IKE_REKEYED) {
		vpnr__ike_sa_dead(ctx, sa, sa->close_reason, sa->close_notify,
		    now);
	}
	return VPNR_OK;
}

static int
rekey_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct ike_sa *sa = tm->arg;

	if (sa->state == IKE_ESTABLISHED && sa->tun->ike == sa)
		return vpnr__ike_task_rv(
		    vpnr__ike_sa_task(ctx, sa, REQ_REKEY_IKE, 0, now));
	return VPNR_OK;
}

static int
keepalive_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct ike_sa *sa = tm->arg;
	uint8_t ka = 0xff;

	if (sa->state != IKE_ESTABLISHED || !sa->natt)
		return VPNR_OK;
	vpnr__cb_send_datagram(ctx, &sa->local, &sa->remote, &ka, 1);
	vpnr__timer_arm(ctx, tm, now + VPNR__IKE_KEEPALIVE);
	return VPNR_OK;
}
