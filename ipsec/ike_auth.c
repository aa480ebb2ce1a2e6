/*
 * The IKE_AUTH exchange for both roles (RFC 7296 1.2, 2.15, 2.4):
 * PSK authentication (the AUTH values: ike_psk.c), INITIAL_CONTACT,
 * the responder's choice among several tunnels to one peer, and the
 * first CHILD_SA (child_sa.c installs it).  Uses the window
 * (ike_sa.c); layers in ike_exch.h.
 */
#include <string.h>

#include "ctx.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "ike_ts.h"
#include "log.h"

/* ---- IKE_AUTH, initiator ---- */

/*
 * Another IKE SA with this peer (another tunnel to the same address,
 * established or connecting): INITIAL_CONTACT (RFC 7296 2.4) would
 * make the peer delete it, so it is said only by the first.
 */
static int
other_ike_sas(vpnr_ctx *ctx, const struct ike_sa *sa)
{
	struct tunnel *t;

	for (t = vpnr__tunnel_first_by_peer(ctx, &sa->tun->cfg.remote);
	     t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t))
		if (t != sa->tun && t->ike != NULL)
			return 1;
	return 0;
}

int
vpnr__ike_auth_start(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t id[VPNR__IKE_MAX_ID + 4], auth[VPNR__MAX_PRF_LEN];
	size_t idlen, alen = 0;
	int rv;

	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	idlen = vpnr__ike_local_id(sa, id, sizeof(id));
	vpnr__ike_add_id(&b, VPNR__PL_IDI, id, idlen);
	if (c->remote_id_set && c->remote_id_type != 0) {
		uint8_t rid[VPNR__IKE_MAX_ID + 4];
		size_t rlen = vpnr__ike_id_body(c->remote_id_type, c->remote_id,
		    c->remote_id_len, rid, sizeof(rid));

		vpnr__ike_add_id(&b, VPNR__PL_IDR, rid, rlen);
	}
	rv = vpnr__ike_auth_compute(sa, 1, id, idlen, auth, &alen);
	if (rv != VPNR_OK)
		goto done;
	vpnr__ike_add_auth(&b, VPNR__AUTH_PSK, auth, alen);
	explicit_bzero(auth, sizeof(auth));
	if (!other_ike_sas(ctx, sa))
		vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_INITIAL_CONTACT,
		    NULL, 0);
	rv = vpnr__child_add_request(ctx, sa, &b);
	if (rv != VPNR_OK)
		goto done;
	if ((rv = vpnr__ike_build_end(&b)) != 0)
		goto done;
	sa->state = IKE_AUTH_SENT;
	rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_AUTH, &inner,
	    vpnr__ike_build_first(&b), REQ_AUTH, now);
done:
	vpnr__wbuf_free(&inner);
	return rv;
}

/*
 * The identity the peer claimed (IDi or IDr: has_id, type, data, len)
 * is the one configured and its AUTH verifies; the log says which
 * identity passed or failed ("none" when it sent no ID).
 */
static int
peer_authentic(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_msg *msg, int has_id, uint8_t type,
    const uint8_t *data, size_t len, const char *none)
{
	char idb[128];
	int ok = has_id && vpnr__ike_id_check(sa, type, data, len) == VPNR_OK &&
	    vpnr__ike_auth_verify(sa, msg) == VPNR_OK;
	const char *who =
	    has_id ? vpnr__ike_id_str(type, data, len, idb, sizeof(idb)) : none;

	if (ok)
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "authentication of '%s' with pre-shared key successful",
		    who);
	else
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "authentication of '%s' failed", who);
	return ok;
}

int
vpnr__ike_auth_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct child_sa *child = NULL;
	uint16_t err;
	int rv;

	/* AUTHENTICATION_FAILED wins over any other error notify. */
	if (vpnr__ike_find_notify(msg, VPNR__N_AUTHENTICATION_FAILED) != NULL)
		err = VPNR__N_AUTHENTICATION_FAILED;
	else
		err = msg->has_auth ? 0 : vpnr__ike_first_error(msg);
	if (err != 0) {
		vpnr__ike_fail_notify(ctx, sa, err, now);
		return VPNR_OK;
	}
	if (!peer_authentic(ctx, sa, msg, msg->has_idr, msg->idr_type,
		msg->idr_data, msg->idr_data_len, "(no IDr)")) {
		sa->next_req_id++;
		vpnr__ike_send_notify_request(ctx, sa,
		    VPNR__N_AUTHENTICATION_FAILED);
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_AUTH_FAILED,
		    VPNR__N_AUTHENTICATION_FAILED, now);
		return VPNR_OK;
	}
	sa->req_type = REQ_NONE;
	vpnr__wbuf_free(&sa->req); /* answered: no more retransmits */
	vpnr__timer_disarm(ctx, &sa->rtx_timer);
	sa->next_req_id++;
	vpnr__ike_sa_established(ctx, sa, now);
	vpnr__ike_sa_log_up(ctx, sa);
	vpnr__tunnel_ike_up(ctx, sa->tun, sa, now);
	if (sa->state != IKE_ESTABLISHED)
		return VPNR_OK;
	err = vpnr__ike_first_error(msg);
	if (err != 0 || !msg->has_sa) {
		if (err == 0)
			err = VPNR__N_NO_PROPOSAL_CHOSEN;
		rv = err == VPNR__N_TS_UNACCEPTABLE ? VPNR_ERR_TS_UNACCEPTABLE :
		    err == VPNR__N_NO_PROPOSAL_CHOSEN ? VPNR_ERR_NO_PROPOSAL :
							VPNR_ERR_PEER_ERROR;
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "CHILD_SA not established: peer sent notify %u", err);
		vpnr__tunnel_event(ctx, sa->tun, VPNR_TUNNEL_EV_FAILED, rv, err,
		    0);
		sa->tun->last_error = rv;
		sa->close_reason = rv; /* DOWN says why; reconnects */
		sa->close_notify = err;
		return vpnr__ike_task_rv(
		    vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now));
	}
	rv = vpnr__child_complete(ctx, sa, sa->tun, msg, 1, NULL, now, &child);
	/* AUTH and the first CHILD_SA's keys are made: Ni, Nr served. */
	vpnr__ike_sa_drop_nonces(ctx, sa);
	if (rv == VPNR_ERR_DATAPLANE) {
		/* The peer installed its half: the IKE SA goes with it
		 * and the reconnect policy retries. */
		vpnr__child_failed(ctx, sa->tun, rv, 0, 0, now);
		return VPNR_OK;
	}
	if (rv != VPNR_OK) {
		vpnr__tunnel_event(ctx, sa->tun, VPNR_TUNNEL_EV_FAILED, rv, 0,
		    0);
		sa->tun->last_error = rv;
		if (vpnr_err_is_fatal(rv))
			return rv;
		sa->close_reason = rv;
		return vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now);
	}
	/* CHILD_UP once both SAs are installed (maybe later). */
	vpnr__child_install_wait(ctx, child, now);
	return vpnr__ike_sa_next_task(ctx, sa, now);
}

/* ---- IKE_AUTH, responder ---- */

/* t is configured for the initiator's identity. */
static int
id_fit(const struct tunnel *t, const struct vpnr__ike_msg *msg)
{
	return t->cfg.remote_id_set && t->cfg.remote_id_type != 0 &&
	    t->cfg.remote_id_type == msg->idi_type &&
	    t->cfg.remote_id_len == msg->idi_data_len &&
	    memcmp(t->cfg.remote_id, msg->idi_data, msg->idi_data_len) == 0;
}

/*
 * Several tunnels to one peer address: IKE_SA_INIT picked the first;
 * the initiator's identity, then its selectors pick the right one
 * (several connections between the same two gateways, one per pair
 * of networks).  The peer's tunnels are one range of the index.
 */
static void
pick_tunnel(vpnr_ctx *ctx, struct ike_sa *sa, const struct vpnr__ike_msg *msg)
{
	struct tunnel *t, *cur = sa->tun, *by_id = NULL;
	int cur_id = vpnr__ike_id_check(sa, msg->idi_type, msg->idi_data,
			 msg->idi_data_len) == VPNR_OK;

	if (cur_id && vpnr__ike_ts_fit(cur, msg))
		return;
	for (t = vpnr__tunnel_first_by_peer(ctx, &cur->cfg.remote); t != NULL;
	     t = vpnr__tunnel_next_by_peer(ctx, t)) {
		if (t == cur || vpnr__tunnel_v1(t) || t->deleting)
			continue;
		/* An explicit identity match, or the same "any" as cur. */
		if (!id_fit(t, msg) && !(cur_id && !t->cfg.remote_id_set))
			continue;
		if (by_id == NULL)
			by_id = t;
		if (vpnr__ike_ts_fit(t, msg))
			break;
	}
	if (t == NULL && (cur_id || (t = by_id) == NULL))
		return;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "IKE_SA %016llx_i moves to tunnel %llu by %s",
	    (unsigned long long)sa->spi_i, (unsigned long long)t->id,
	    t == by_id && !vpnr__ike_ts_fit(t, msg) ? "identity" :
						      "identity and "
						      "selectors");
	TAILQ_REMOVE(&cur->sas, sa, tentry);
	TAILQ_INSERT_TAIL(&t->sas, sa, tentry);
	sa->tun = t;
}

int
vpnr__ike_auth_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct vpnr__ike_builder b, fb;
	struct vpnr__wbuf inner, finner;
	struct child_sa *child = NULL;
	uint8_t id[VPNR__IKE_MAX_ID + 4], auth[VPNR__MAX_PRF_LEN];
	size_t idlen, alen = 0;
	uint16_t notify = 0;
	int rv, crv;

	if (sa->state != IKE_HALF_OPEN)
		return VPNR_ERR_MALFORMED;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	/* The answer sent instead if the CHILD_SA's install fails. */
	vpnr__wbuf_init(&finner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&fb, &finner);
	if (msg->has_idi)
		pick_tunnel(ctx, sa, msg);
	if (!peer_authentic(ctx, sa, msg, msg->has_idi, msg->idi_type,
		msg->idi_data, msg->idi_data_len, "(no IDi)")) {
		vpnr__ike_add_notify(&b, 0, NULL, 0,
		    VPNR__N_AUTHENTICATION_FAILED, NULL, 0);
		/* Best effort: the SA ends whether or not it went out. */
		rv = vpnr__ike_build_end(&b) != 0 ?
		    VPNR_OK :
		    vpnr__ike_send_response(ctx, sa, VPNR__IKE_AUTH,
			msg->hdr.msg_id, &inner, vpnr__ike_build_first(&b));
		vpnr__wbuf_free(&inner);
		vpnr__wbuf_free(&finner);
		sa->next_peer_id++;
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_AUTH_FAILED,
		    VPNR__N_AUTHENTICATION_FAILED, now);
		return vpnr__ike_task_rv(rv);
	}
	idlen = vpnr__ike_local_id(sa, id, sizeof(id));
	vpnr__ike_add_id(&b, VPNR__PL_IDR, id, idlen);
	rv = vpnr__ike_auth_compute(sa, 0, id, idlen, auth, &alen);
	if (rv != VPNR_OK)
		goto done;
	vpnr__ike_add_auth(&b, VPNR__AUTH_PSK, auth, alen);
	vpnr__ike_add_id(&fb, VPNR__PL_IDR, id, idlen);
	vpnr__ike_add_auth(&fb, VPNR__AUTH_PSK, auth, alen);
	vpnr__ike_add_notify(&fb, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE, NULL,
	    0);
	explicit_bzero(auth, sizeof(auth));
	vpnr__ike_sa_established(ctx, sa, now);
	vpnr__ike_sa_log_up(ctx, sa);
	vpnr__tunnel_ike_up(ctx, sa->tun, sa, now);
	crv = VPNR_ERR_NO_PROPOSAL;
	notify = VPNR__N_NO_PROPOSAL_CHOSEN;
	if (msg->has_sa)
		crv = vpnr__child_respond(ctx, sa, sa->tun, msg, &b, 1, NULL,
		    now, &child, &notify);
	else
		vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_NO_PROPOSAL_CHOSEN,
		    NULL, 0);
	/* AUTH and the first CHILD_SA's keys are made: Ni, Nr served
	 * (a retransmitted IKE_AUTH gets the cached answer). */
	vpnr__ike_sa_drop_nonces(ctx, sa);
	if ((rv = vpnr__ike_build_end(&b)) != 0 ||
	    (rv = vpnr__ike_build_end(&fb)) != 0)
		goto done;
	/* Held until both SAs are installed; CHILD_UP follows them. */
	rv = vpnr__child_respond_finish(ctx, sa, child, VPNR__IKE_AUTH,
	    msg->hdr.msg_id, &inner, vpnr__ike_build_first(&b), &finner,
	    vpnr__ike_build_first(&fb), now);
	sa->next_peer_id++;
	if (crv == VPNR_ERR_DATAPLANE) {
		vpnr__child_failed(ctx, sa->tun, crv, notify, 0, now);
	} else if (crv != VPNR_OK && crv > VPNR_ERR_FATAL) {
		sa->tun->last_error = crv;
		/* The notify we actually sent. */
		vpnr__tunnel_event(ctx, sa->tun, VPNR_TUNNEL_EV_FAILED, crv,
		    notify, 0);
	}
done:
	vpnr__wbuf_free(&inner);
	vpnr__wbuf_free(&finner);
	return rv;
}
