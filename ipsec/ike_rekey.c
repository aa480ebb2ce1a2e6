/*
 * Rekeying the IKE SA (RFC 7296 1.3.2, 2.8, 2.18): a CREATE_CHILD_SA
 * exchange makes a new IKE SA with keys from the old one's SK_d, the
 * tunnel switches to it (its CHILD_SAs stay), and the old one is
 * deleted; crossed rekeys (2.8.2: the lowest nonce loses).  Called by
 * the CREATE_CHILD_SA handlers (ike_child.c) and the task queue; uses
 * the window (ike_sa.c); layers in ike_exch.h.
 */
#include <string.h>

#include "crypto.h"
#include "ctx.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "log.h"

int
vpnr__ike_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[8], ke[VPNR__MAX_KE_LEN];
	size_t kelen;
	int rv;

	if (sa->req_dh != NULL) {
		vpnr__dh_free(sa->req_dh);
		sa->req_dh = NULL;
	}
	sa->req_ike_spi = vpnr__ike_new_spi(ctx);
	if (sa->req_ike_spi == 0)
		return VPNR_ERR_INTERNAL;
	if ((rv = vpnr__dh_new(sa->suite.dh, &sa->req_dh)) != VPNR_OK)
		return rv;
	kelen = vpnr__dh_public_len(sa->suite.dh);
	if ((rv = vpnr__dh_public(sa->req_dh, ke, kelen)) != VPNR_OK)
		return rv;
	sa->req_nonce_len = VPNR__IKE_NONCE_LEN;
	if ((rv = vpnr__random(ctx, sa->req_nonce, sa->req_nonce_len)) !=
	    VPNR_OK)
		return rv;
	vpnr__put_be64(spi, sa->req_ike_spi);
	vpnr__suite_to_sa(&sapl, &sa->suite, 1, spi, 8);
	sa->peer_rekey_spi = 0;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	vpnr__ike_add_sa(&b, &sapl);
	vpnr__ike_add_nonce(&b, sa->req_nonce, sa->req_nonce_len);
	vpnr__ike_add_ke(&b, sa->suite.dh, ke, kelen);
	rv = vpnr__ike_build_end(&b);
	if (rv == 0) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying IKE_SA %016llx_i %016llx_r",
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r);
		rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_CREATE_CHILD_SA,
		    &inner, vpnr__ike_build_first(&b), REQ_REKEY_IKE, now);
	}
	vpnr__wbuf_free(&inner);
	return rv;
}

/* Build the new IKE SA of a rekey and derive its keys. */
static struct ike_sa *
new_ike_sa(vpnr_ctx *ctx, struct ike_sa *old, int we_init, uint64_t local,
    uint64_t peer, const struct vpnr__suite *suite, const uint8_t *ni,
    size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *gir,
    size_t glen, vpnr_tstamp now)
{
	struct ike_sa *n;

	n = vpnr__ike_sa_new(ctx, old->tun, we_init, local);
	if (n == NULL)
		return NULL;
	if (we_init) {
		n->spi_i = n->local_spi;
		n->spi_r = peer;
	} else {
		n->spi_i = peer;
		n->spi_r = n->local_spi;
	}
	n->suite = *suite;
	if (vpnr__ike_sa_set_nonce(ctx, n, 0, ni, ni_len) != VPNR_OK ||
	    vpnr__ike_sa_set_nonce(ctx, n, 1, nr, nr_len) != VPNR_OK) {
		vpnr__ike_sa_free(ctx, n);
		return NULL;
	}
	n->local = old->local;
	n->remote = old->remote;
	n->natt = old->natt;
	n->nat_flags = old->nat_flags;
	if (vpnr__ike_keymat(ctx->mem, n, old->keys.sk_d, old->keys.prf_len,
		old->suite.prf, gir, glen) != VPNR_OK) {
		vpnr__ike_sa_free(ctx, n);
		return NULL;
	}
	/* A rekeyed IKE SA has no IKE_AUTH: its nonces served. */
	vpnr__ike_sa_drop_nonces(ctx, n);
	vpnr__ike_sa_established(ctx, n, now);
	return n;
}

/* The tunnel moves from old to n (children stay with the tunnel). */
void
vpnr__ike_switch(vpnr_ctx *ctx, struct ike_sa *old, struct ike_sa *n,
    vpnr_tstamp now)
{
	struct tunnel *t = old->tun;
	struct ike_task *tk, *tmp;

	t->ike = n;
	t->ike_rekeys++;
	old->state = IKE_REKEYED;
	vpnr__timer_disarm(ctx, &old->rekey_timer);
	vpnr__timer_disarm(ctx, &old->keepalive_timer);
	vpnr__timer_arm(ctx, &old->life_timer, now + VPNR__IKE_REKEYED_TMO);
	/* Queued work (not deletes of the old SA) moves along. */
	STAILQ_FOREACH_SAFE(tk, &old->tasks, entry, tmp) {
		if (tk->type == REQ_DELETE_IKE)
			continue;
		STAILQ_REMOVE(&old->tasks, tk, ike_task, entry);
		STAILQ_INSERT_TAIL(&n->tasks, tk, entry);
	}
	vpnr__ike_sa_log_up(ctx, n);
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_REKEYED, 0, 0, 0);
	vpnr__tunnel_dpd_arm(ctx, t, now);
	vpnr__ike_guests_switch(ctx, old, n, now);
	/* The moved work starts now if n's window is free: else (say,
	 * a replaced CHILD_SA's DELETE) it waited for the next request
	 * someone queued on n, a DPD probe at best. */
	if (vpnr__ike_sa_next_task(ctx, n, now) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "queued work aborted by a callback");
}

int
vpnr__ike_rekey_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, struct vpnr__ike_builder *b, vpnr_tstamp now,
    struct ike_sa **created)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__suite suite;
	struct vpnr__dh *dh = NULL;
	struct ike_sa *n;
	uint8_t nr[VPNR__IKE_NONCE_LEN], ke[VPNR__MAX_KE_LEN], g[2], spi[8];
	uint8_t gir[VPNR__MAX_KE_LEN];
	uint64_t peer_spi = 0, local;
	size_t chosen = 0, kelen, glen = 0;
	int rv;

	*created = NULL;
	if (sa->tun->ike != sa || sa->state != IKE_ESTABLISHED) {
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE,
		    NULL, 0);
		return VPNR_OK;
	}
	rv = vpnr__prop_select_ex(cfg->ike, cfg->n_ike, &msg->sa,
	    msg->has_ke ? msg->ke_group : 0, 0, &suite, &chosen);
	if (rv != VPNR_OK || msg->sa.p[chosen].spi_len != 8) {
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_NO_PROPOSAL_CHOSEN,
		    NULL, 0);
		return VPNR_OK;
	}
	if (!msg->has_ke || msg->ke_group != suite.dh) {
		vpnr__put_be16(g, suite.dh);
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_INVALID_KE_PAYLOAD,
		    g, 2);
		return VPNR_OK;
	}
	if (!msg->has_nonce || msg->nonce_len < VPNR__IKE_MIN_NONCE ||
	    msg->nonce_len > VPNR__IKE_MAX_NONCE)
		return VPNR_ERR_MALFORMED;
	peer_spi = vpnr__get_be64(msg->sa.p[chosen].spi);
	if ((rv = vpnr__random(ctx, nr, sizeof(nr))) != VPNR_OK)
		return rv;
	if ((rv = vpnr__dh_new(suite.dh, &dh)) != VPNR_OK)
		return rv;
	kelen = vpnr__dh_public_len(suite.dh);
	rv = vpnr__dh_public(dh, ke, kelen);
	if (rv == VPNR_OK)
		rv = vpnr__ike_ke_derive(dh, msg, gir, sizeof(gir), &glen);
	vpnr__dh_free(dh);
	/* Crossing IKE rekeys: the lower nonce of the peer's exchange
	 * decides against ours when our response comes (2.8.2). */
	if (rv == VPNR_OK && sa->req_type == REQ_REKEY_IKE)
		rv = vpnr__ike_keep_min_nonce(ctx, msg->nonce, msg->nonce_len,
		    nr, sizeof(nr), &sa->peer_rekey_nonce,
		    &sa->peer_rekey_nonce_len);
	if (rv != VPNR_OK) {
		explicit_bzero(gir, sizeof(gir));
		return rv;
	}
	local = vpnr__ike_new_spi(ctx);
	n = local != 0 ?
	    new_ike_sa(ctx, sa, 0, local, peer_spi, &suite, msg->nonce,
		msg->nonce_len, nr, sizeof(nr), gir, glen, now) :
	    NULL;
	explicit_bzero(gir, sizeof(gir));
	if (n == NULL) {
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE,
		    NULL, 0);
		return VPNR_OK;
	}
	vpnr__put_be64(spi, n->spi_r);
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, spi, 8);
	vpnr__ike_add_sa(b, &sapl);
	vpnr__ike_add_nonce(b, nr, sizeof(nr));
	vpnr__ike_add_ke(b, suite.dh, ke, kelen);
	*created = n;
	return VPNR_OK;
}

int
vpnr__ike_rekey_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
	struct vpnr__suite suite;
	struct ike_sa *n, *peer;
	uint8_t gir[VPNR__MAX_KE_LEN];
	size_t glen = 0;
	uint64_t peer_spi = 0;
	int rv;

	peer = sa->peer_rekey_spi ? vpnr__ike_sa_find(ctx, sa->peer_rekey_spi) :
				    NULL;
	rv = VPNR_ERR_NO_PROPOSAL;
	if (msg->has_sa && msg->has_ke && msg->has_nonce &&
	    msg->nonce_len >= VPNR__IKE_MIN_NONCE &&
	    msg->nonce_len <= VPNR__IKE_MAX_NONCE)
		rv = vpnr__prop_accept(cfg->ike, cfg->n_ike, &msg->sa, &suite);
	if (rv == VPNR_OK &&
	    (msg->sa.p[0].spi_len != 8 || sa->req_dh == NULL ||
		suite.dh != vpnr__dh_group(sa->req_dh)))
		rv = VPNR_ERR_NO_PROPOSAL;
	if (rv == VPNR_OK)
		rv = vpnr__ike_ke_derive(sa->req_dh, msg, gir, sizeof(gir),
		    &glen);
	if (rv != VPNR_OK) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying IKE_SA failed (%s)", vpnr_err_name(rv));
		if (peer != NULL && sa->tun->ike == sa)
			vpnr__ike_switch(ctx, sa, peer, now);
		else if (sa->state == IKE_ESTABLISHED)
			vpnr__timer_arm(ctx, &sa->rekey_timer,
			    now + VPNR__IKE_REKEY_RETRY);
		return VPNR_OK;
	}
	peer_spi = vpnr__get_be64(msg->sa.p[0].spi);
	n = new_ike_sa(ctx, sa, 1, sa->req_ike_spi, peer_spi, &suite,
	    sa->req_nonce, sa->req_nonce_len, msg->nonce, msg->nonce_len, gir,
	    glen, now);
	explicit_bzero(gir, sizeof(gir));
	if (n == NULL)
		return VPNR_ERR_NOMEM;
	if (peer != NULL) {
		if (vpnr__ike_collision_lost(sa, msg, sa->peer_rekey_nonce,
			sa->peer_rekey_nonce_len)) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "IKE_SA rekey collision lost, deleting redundant "
			    "%016llx_i %016llx_r",
			    (unsigned long long)n->spi_i,
			    (unsigned long long)n->spi_r);
			vpnr__ike_switch(ctx, sa, peer, now);
			n->state = IKE_REKEYED;
			vpnr__timer_disarm(ctx, &n->rekey_timer);
			vpnr__timer_disarm(ctx, &n->keepalive_timer);
			return vpnr__ike_task_rv(
			    vpnr__ike_sa_task(ctx, n, REQ_DELETE_IKE, 0, now));
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKE_SA rekey collision won");
		peer->state = IKE_REKEYED;
		vpnr__timer_disarm(ctx, &peer->rekey_timer);
		vpnr__timer_disarm(ctx, &peer->keepalive_timer);
		vpnr__timer_arm(ctx, &peer->life_timer,
		    now + VPNR__IKE_REKEYED_TMO);
	}
	vpnr__ike_switch(ctx, sa, n, now);
	return vpnr__ike_task_rv(
	    vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now));
}
