/*
 * The IKE_SA_INIT exchange for both roles (RFC 7296 1.2, 2.6, 2.23):
 * proposals and KE (INVALID_KE_PAYLOAD retry), COOKIE, NAT detection
 * and the float to the NAT-T port.  The initiator goes on with
 * IKE_AUTH (ike_auth.c).  Uses the window (ike_sa.c); layers in
 * ike_exch.h.
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

/* An unauthenticated answer to an IKE_SA_INIT request. */
static int
send_plain_notify(vpnr_ctx *ctx, const struct vpnr__ike_hdr *req,
    const vpnr_addr *local, const vpnr_addr *remote, uint16_t type,
    const uint8_t *data, size_t len)
{
	return vpnr__ike_send_plain_notify(ctx, req, local, remote, type, data,
	    len);
}

/* ---- NAT detection (2.23) ---- */

static void
natd_hash(uint64_t spi_i, uint64_t spi_r, const vpnr_addr *a, uint8_t out[20])
{
	struct vpnr__iov iov[4];
	uint8_t spis[16], port[2];

	vpnr__put_be64(spis, spi_i);
	vpnr__put_be64(spis + 8, spi_r);
	vpnr__put_be16(port, a->port);
	iov[0].p = spis;
	iov[0].len = 16;
	iov[1].p = a->bytes;
	iov[1].len = vpnr__addr_len(a);
	iov[2].p = port;
	iov[2].len = 2;
	vpnr__sha1(iov, 3, out);
}

static void
add_natd(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_builder *b,
    uint64_t spi_r)
{
	uint8_t h[20];

	if (sa->tun->cfg.force_encap)
		vpnr__random(ctx, h, sizeof(h)); /* fake: peer sees NAT */
	else
		natd_hash(sa->spi_i, spi_r, &sa->local, h);
	vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_NAT_DETECTION_SOURCE_IP, h,
	    20);
	natd_hash(sa->spi_i, spi_r, &sa->remote, h);
	vpnr__ike_add_notify(b, 0, NULL, 0,
	    VPNR__N_NAT_DETECTION_DESTINATION_IP, h, 20);
}

/* Returns non-zero if the peer sent NAT-D payloads (NAT-T support). */
static int
check_natd(struct ike_sa *sa, const struct vpnr__ike_msg *msg,
    const vpnr_addr *local, const vpnr_addr *remote)
{
	uint8_t h[20];
	int have_src = 0, src_match = 0, have_dst = 0, dst_match = 0;
	uint8_t i;

	for (i = 0; i < msg->n_notify; i++) {
		const struct vpnr__ike_notify *n = &msg->notify[i];

		if (n->data_len != 20)
			continue;
		if (n->type == VPNR__N_NAT_DETECTION_SOURCE_IP) {
			have_src = 1;
			natd_hash(msg->hdr.spi_i, msg->hdr.spi_r, remote, h);
			if (memcmp(h, n->data, 20) == 0)
				src_match = 1;
		} else if (n->type == VPNR__N_NAT_DETECTION_DESTINATION_IP) {
			have_dst = 1;
			natd_hash(msg->hdr.spi_i, msg->hdr.spi_r, local, h);
			if (memcmp(h, n->data, 20) == 0)
				dst_match = 1;
		}
	}
	if (!have_src || !have_dst)
		return 0;
	if (!dst_match)
		sa->nat_flags |= 1;
	if (!src_match)
		sa->nat_flags |= 2;
	if (sa->tun->cfg.force_encap)
		sa->nat_flags |= 4;
	return 1;
}

/* ---- IKE_SA_INIT, initiator ---- */

int
vpnr__ike_sa_start(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr hdr;
	uint8_t ke[VPNR__MAX_KE_LEN];
	size_t kelen;
	int rv;

	if (sa->ke_group == 0)
		sa->ke_group = vpnr__prop_first_dh(c->ike, c->n_ike);
	if (sa->dh != NULL && vpnr__dh_group(sa->dh) != sa->ke_group) {
		vpnr__dh_free(sa->dh);
		sa->dh = NULL;
	}
	if (sa->dh == NULL &&
	    (rv = vpnr__dh_new(sa->ke_group, &sa->dh)) != VPNR_OK)
		return rv;
	kelen = vpnr__dh_public_len(sa->ke_group);
	if (kelen == 0 || kelen > sizeof(ke) ||
	    (rv = vpnr__dh_public(sa->dh, ke, kelen)) != VPNR_OK)
		return VPNR_ERR_CRYPTO;
	if (sa->ni_len == 0 &&
	    (rv = vpnr__ike_sa_set_nonce(ctx, sa, 0, NULL,
		 VPNR__IKE_NONCE_LEN)) != VPNR_OK)
		return rv;
	rv = vpnr__prop_to_sa_ex(&sapl, c->ike, c->n_ike, NULL, 0, sa->ke_group,
	    0);
	if (rv != VPNR_OK)
		return rv;
	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = sa->spi_i;
	hdr.exchange = VPNR__IKE_SA_INIT;
	hdr.flags = VPNR__IKE_F_INITIATOR;
	vpnr__wbuf_reset(&sa->req);
	vpnr__wbuf_put_zero(&sa->req, VPNR__IKE_MARKER_LEN);
	vpnr__ike_build_begin(&b, &sa->req, &hdr);
	if (sa->cookie != NULL)
		vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_COOKIE, sa->cookie,
		    sa->cookie_len);
	vpnr__ike_add_sa(&b, &sapl);
	vpnr__ike_add_ke(&b, sa->ke_group, ke, kelen);
	vpnr__ike_add_nonce(&b, sa->ni, sa->ni_len);
	add_natd(ctx, sa, &b, 0);
	if ((rv = vpnr__ike_build_end(&b)) != 0)
		return rv;
	vpnr__free(ctx->mem, sa->init_req);
	sa->init_req_len = vpnr__wbuf_len(&sa->req) - VPNR__IKE_MARKER_LEN;
	sa->init_req = vpnr__memdup(ctx->mem,
	    vpnr__wbuf_data(&sa->req) + VPNR__IKE_MARKER_LEN, sa->init_req_len);
	if (sa->init_req == NULL)
		return VPNR_ERR_NOMEM;
	sa->state = IKE_INIT_SENT;
	sa->next_req_id = 0;
	sa->req_type = REQ_INIT;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "initiating IKE_SA %016llx_i to %s (%s)",
	    (unsigned long long)sa->spi_i,
	    vpnr_addr_format(&sa->remote, (char[64]){ 0 }, 64),
	    sa->cookie != NULL ? "with COOKIE" : "IKE_SA_INIT");
	return vpnr__ike_send_req_buf(ctx, sa, now);
}

static int
derive_ike(vpnr_ctx *ctx, struct ike_sa *sa, const struct vpnr__ike_msg *msg)
{
	uint8_t gir[VPNR__MAX_KE_LEN];
	size_t glen = 0;
	int rv;

	if (msg->ke_group != vpnr__dh_group(sa->dh))
		return VPNR_ERR_MALFORMED;
	rv = vpnr__dh_derive(sa->dh, msg->ke_data, msg->ke_len, gir,
	    sizeof(gir), &glen);
	if (rv == VPNR_OK)
		rv = vpnr__ike_keymat(ctx->mem, sa, NULL, 0, 0, gir, glen);
	explicit_bzero(gir, sizeof(gir));
	vpnr__dh_free(sa->dh);
	sa->dh = NULL;
	return rv;
}

int
vpnr__ike_init_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, const uint8_t *data, size_t len,
    const vpnr_addr *local, const vpnr_addr *remote, vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	const struct vpnr__ike_notify *n;
	uint16_t err, g;
	int rv;

	/* A response with an unknown critical payload is rejected (RFC
	 * 7296 2.5, 3.2): dropped as malformed; we retransmit. */
	if (msg->unsupported_critical != 0)
		return VPNR_ERR_MALFORMED;
	if ((n = vpnr__ike_find_notify(msg, VPNR__N_COOKIE)) != NULL) {
		if (n->data_len < 1 || n->data_len > 64 || sa->cookie_len > 0)
			return VPNR_ERR_MALFORMED;
		sa->cookie = vpnr__memdup(ctx->mem, n->data, n->data_len);
		if (sa->cookie == NULL)
			return VPNR_ERR_NOMEM;
		sa->cookie_len = n->data_len;
		vpnr__timer_disarm(ctx, &sa->rtx_timer);
		return vpnr__ike_sa_start(ctx, sa, now);
	}
	if ((n = vpnr__ike_find_notify(msg, VPNR__N_INVALID_KE_PAYLOAD)) !=
	    NULL) {
		if (n->data_len != 2)
			return VPNR_ERR_MALFORMED;
		g = vpnr__get_be16(n->data);
		if (g == sa->ke_group ||
		    sa->invalid_ke_retries >= VPNR__IKE_INVALID_KE_TRIES ||
		    !vpnr__prop_has_dh(c->ike, c->n_ike, g) ||
		    !vpnr__dh_supported(g)) {
			vpnr__ike_fail_notify(ctx, sa,
			    VPNR__N_NO_PROPOSAL_CHOSEN, now);
			return VPNR_OK;
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "peer wants DH group %u instead of %u, retrying", g,
		    sa->ke_group);
		sa->invalid_ke_retries++;
		sa->ke_group = g;
		vpnr__timer_disarm(ctx, &sa->rtx_timer);
		return vpnr__ike_sa_start(ctx, sa, now);
	}
	if ((err = vpnr__ike_first_error(msg)) != 0) {
		vpnr__ike_fail_notify(ctx, sa, err, now);
		return VPNR_OK;
	}
	if (!msg->has_sa || !msg->has_ke || !msg->has_nonce ||
	    msg->nonce_len < VPNR__IKE_MIN_NONCE ||
	    msg->nonce_len > VPNR__IKE_MAX_NONCE || msg->hdr.spi_r == 0)
		return VPNR_ERR_MALFORMED;
	rv = vpnr__prop_accept(c->ike, c->n_ike, &msg->sa, &sa->suite);
	if (rv != VPNR_OK || sa->suite.dh != sa->ke_group) {
		vpnr__ike_fail_notify(ctx, sa, VPNR__N_NO_PROPOSAL_CHOSEN, now);
		return VPNR_OK;
	}
	sa->spi_r = msg->hdr.spi_r;
	if ((rv = vpnr__ike_sa_set_nonce(ctx, sa, 1, msg->nonce,
		 msg->nonce_len)) != VPNR_OK)
		return rv;
	sa->init_resp = vpnr__memdup(ctx->mem, data, len);
	if (sa->init_resp == NULL)
		return VPNR_ERR_NOMEM;
	sa->init_resp_len = len;
	if ((rv = derive_ike(ctx, sa, msg)) != VPNR_OK) {
		vpnr__ike_sa_dead(ctx, sa, rv, 0, now);
		return rv;
	}
	/* The float (2.23): from our NAT-T port to the peer's. */
	if (check_natd(sa, msg, local, remote) &&
	    (sa->nat_flags != 0 || c->force_encap)) {
		sa->natt = 1;
		sa->local.port = vpnr__natt_port(ctx);
		sa->remote.port = vpnr__peer_natt_port(ctx, sa->tun);
	} else if (c->force_encap) {
		sa->nat_flags |= 4;
		sa->natt = 1;
		sa->local.port = vpnr__natt_port(ctx);
		sa->remote.port = vpnr__peer_natt_port(ctx, sa->tun);
	}
	vpnr__timer_disarm(ctx, &sa->rtx_timer);
	sa->req_type = REQ_NONE;
	sa->next_req_id = 1;
	return vpnr__ike_auth_start(ctx, sa, now);
}

/* ---- IKE_SA_INIT, responder ---- */

static void
cookie_value(vpnr_ctx *ctx, const struct vpnr__ike_msg *msg,
    const vpnr_addr *remote, uint8_t out[20])
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct vpnr__iov iov[4];
	uint8_t spi[8];

	vpnr__put_be64(spi, msg->hdr.spi_i);
	iov[0].p = msg->nonce;
	iov[0].len = msg->nonce_len;
	iov[1].p = remote->bytes;
	iov[1].len = vpnr__addr_len(remote);
	iov[2].p = spi;
	iov[2].len = 8;
	iov[3].p = ike->cookie_secret;
	iov[3].len = sizeof(ike->cookie_secret);
	vpnr__sha1(iov, 4, out);
}

int
vpnr__ike_sa_init_request(vpnr_ctx *ctx, struct vpnr__ike_msg *msg,
    const uint8_t *data, size_t len, const vpnr_addr *local,
    const vpnr_addr *remote, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	const struct vpnr__ike_notify *n;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr hdr;
	struct vpnr__suite suite;
	struct ike_sa *sa;
	struct tunnel *t;
	uint8_t ke[VPNR__MAX_KE_LEN], ck[20], g[2];
	size_t chosen = 0, kelen;
	int rv, natd, cookie_ok;

	t = vpnr__tunnel_match(ctx, local, remote);
	if (t == NULL) {
		if (vpnr__log_ratelimit(&ike->malformed_log, now))
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "IKE_SA_INIT from %s: no tunnel configured",
			    vpnr_addr_format(remote, (char[64]){ 0 }, 64));
		return VPNR_OK;
	}
	/*
	 * An unknown payload marked critical (2.5): refused, and no state
	 * is made.  The answer is rate-limited like every error answer
	 * sent without state.
	 */
	if (msg->unsupported_critical != 0) {
		g[0] = msg->unsupported_critical;
		vpnr__ike_refused(ctx, VPNR__REFUSE_CRITICAL, remote, now);
		if (!vpnr__ike_err_notify_budget(ctx, now))
			return VPNR_OK;
		return send_plain_notify(ctx, &msg->hdr, local, remote,
		    VPNR__N_UNSUPPORTED_CRITICAL_PAYLOAD, g, 1);
	}
	/* A retransmitted request: replay our answer. */
	TAILQ_FOREACH(sa, &t->sas, tentry) {
		if (!sa->initiator && sa->spi_i == msg->hdr.spi_i &&
		    sa->state != IKE_DEAD &&
		    vpnr__addr_eq(&sa->remote, remote)) {
			if (sa->state == IKE_HALF_OPEN && sa->have_resp &&
			    sa->init_req_len == len &&
			    memcmp(sa->init_req, data, len) == 0)
				return vpnr__ike_send(ctx, local, remote,
				    &sa->resp);
			return VPNR_OK;
		}
	}
	/*
	 * Both ends initiating at once: the attempt with the higher
	 * SPIi goes on, the other is dropped here (and replaced by the
	 * winner on the peer's side when it is established there).
	 */
	if (t->ike != NULL && t->ike->initiator &&
	    (t->ike->state == IKE_INIT_SENT ||
		t->ike->state == IKE_AUTH_SENT) &&
	    t->ike->spi_i > msg->hdr.spi_i) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "crossed IKE_SA initiation, ours %016llx_i goes on",
		    (unsigned long long)t->ike->spi_i);
		return VPNR_OK;
	}
	if (!msg->has_sa || !msg->has_ke || !msg->has_nonce ||
	    msg->nonce_len < VPNR__IKE_MIN_NONCE ||
	    msg->nonce_len > VPNR__IKE_MAX_NONCE) {
		vpnr__ike_count_malformed(ctx, t, now,
		    "IKE_SA_INIT without SA, KE or Ni");
		return send_plain_notify(ctx, &msg->hdr, local, remote,
		    VPNR__N_INVALID_SYNTAX, NULL, 0);
	}
	/* Admission (ike_dos.c): COOKIE past the thresholds, a drop past
	 * the per-source and global limits; nothing is kept either way. */
	cookie_value(ctx, msg, remote, ck);
	n = vpnr__ike_find_notify(msg, VPNR__N_COOKIE);
	cookie_ok = n != NULL && n->data_len == sizeof(ck) &&
	    CRYPTO_memcmp(n->data, ck, sizeof(ck)) == 0;
	switch (vpnr__ike_init_admit(ctx, remote, cookie_ok, now)) {
	case VPNR__ADMIT_OK:
		break;
	case VPNR__ADMIT_COOKIE:
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "%u half-open IKE_SAs, asking %s for a COOKIE",
		    ike->half_open,
		    vpnr_addr_format(remote, (char[64]){ 0 }, 64));
		return send_plain_notify(ctx, &msg->hdr, local, remote,
		    VPNR__N_COOKIE, ck, sizeof(ck));
	default:
		return VPNR_OK;
	}
	rv = vpnr__prop_select_ex(t->cfg.ike, t->cfg.n_ike, &msg->sa,
	    msg->ke_group, 0, &suite, &chosen);
	if (rv != VPNR_OK) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "no acceptable IKE proposal from %s",
		    vpnr_addr_format(remote, (char[64]){ 0 }, 64));
		t->last_error = VPNR_ERR_NO_PROPOSAL;
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED,
		    VPNR_ERR_NO_PROPOSAL, VPNR__N_NO_PROPOSAL_CHOSEN, 0);
		return send_plain_notify(ctx, &msg->hdr, local, remote,
		    VPNR__N_NO_PROPOSAL_CHOSEN, NULL, 0);
	}
	if (suite.dh != msg->ke_group) {
		vpnr__put_be16(g, suite.dh);
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "DH group %u unacceptable, requesting %u", msg->ke_group,
		    suite.dh);
		return send_plain_notify(ctx, &msg->hdr, local, remote,
		    VPNR__N_INVALID_KE_PAYLOAD, g, 2);
	}
	sa = vpnr__ike_sa_new(ctx, t, 0, 0);
	if (sa == NULL)
		return VPNR_ERR_NOMEM;
	sa->spi_i = msg->hdr.spi_i;
	sa->local = *local;
	sa->remote = *remote;
	sa->suite = suite;
	sa->ke_group = suite.dh;
	if ((rv = vpnr__ike_sa_set_nonce(ctx, sa, 0, msg->nonce,
		 msg->nonce_len)) != VPNR_OK ||
	    (rv = vpnr__ike_sa_set_nonce(ctx, sa, 1, NULL,
		 VPNR__IKE_NONCE_LEN)) != VPNR_OK)
		goto fail;
	if ((rv = vpnr__dh_new(suite.dh, &sa->dh)) != VPNR_OK)
		goto fail;
	kelen = vpnr__dh_public_len(suite.dh);
	if ((rv = vpnr__dh_public(sa->dh, ke, kelen)) != VPNR_OK)
		goto fail;
	natd = check_natd(sa, msg, local, remote);
	/* The hashes we check used SPIr = 0; ours carry the new SPIr. */
	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = sa->spi_i;
	hdr.spi_r = sa->spi_r;
	hdr.exchange = VPNR__IKE_SA_INIT;
	hdr.flags = VPNR__IKE_F_RESPONSE;
	vpnr__wbuf_reset(&sa->resp);
	vpnr__wbuf_put_zero(&sa->resp, VPNR__IKE_MARKER_LEN);
	vpnr__ike_build_begin(&b, &sa->resp, &hdr);
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, NULL, 0);
	vpnr__ike_add_sa(&b, &sapl);
	vpnr__ike_add_ke(&b, suite.dh, ke, kelen);
	vpnr__ike_add_nonce(&b, sa->nr, sa->nr_len);
	if (natd)
		add_natd(ctx, sa, &b, sa->spi_r);
	if ((rv = vpnr__ike_build_end(&b)) != 0)
		goto fail;
	sa->init_req = vpnr__memdup(ctx->mem, data, len);
	sa->init_req_len = len;
	sa->init_resp_len = vpnr__wbuf_len(&sa->resp) - VPNR__IKE_MARKER_LEN;
	sa->init_resp = vpnr__memdup(ctx->mem,
	    vpnr__wbuf_data(&sa->resp) + VPNR__IKE_MARKER_LEN,
	    sa->init_resp_len);
	if (sa->init_req == NULL || sa->init_resp == NULL) {
		rv = VPNR_ERR_NOMEM;
		goto fail;
	}
	if ((rv = derive_ike(ctx, sa, msg)) != VPNR_OK)
		goto fail;
	if (natd && (sa->nat_flags != 0 || t->cfg.force_encap))
		sa->natt = 1;
	if ((rv = vpnr__ike_half_open_add(ctx, sa, remote)) != VPNR_OK)
		goto fail;
	sa->have_resp = 1;
	sa->state = IKE_HALF_OPEN;
	sa->next_peer_id = 1;
	sa->last_rx = now;
	vpnr__timer_arm(ctx, &sa->life_timer, now + VPNR__IKE_HALF_OPEN_TMO);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "%s is initiating an IKE_SA %016llx_i %016llx_r%s",
	    vpnr_addr_format(remote, (char[64]){ 0 }, 64),
	    (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
	    sa->nat_flags & 2 ? ", remote behind NAT" : "");
	return vpnr__ike_send(ctx, local, remote, &sa->resp);
fail:
	vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
	    "IKE_SA_INIT from %s failed: %s",
	    vpnr_addr_format(remote, (char[64]){ 0 }, 64), vpnr_err_name(rv));
	vpnr__ike_sa_free(ctx, sa);
	if (rv == VPNR_ERR_MALFORMED)
		vpnr__ike_count_malformed(ctx, t, now, "bad KE payload");
	return rv;
}
