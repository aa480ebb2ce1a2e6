/*
 * The INFORMATIONAL exchange (RFC 7296 1.4, 1.5, 2.4): DELETE of
 * CHILD_SAs and of the IKE SA both ways, liveness checks (an empty
 * request), error notifies.  The window (ike_sa.c) dispatches the
 * peer's requests, the answers to ours and our queued requests here;
 * layers in ike_exch.h.
 */
#include <string.h>

#include "ctx.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "log.h"

/* ---- our requests ---- */

/* An encrypted INFORMATIONAL request with a single notify, not kept. */
void
vpnr__ike_send_notify_request(vpnr_ctx *ctx, struct ike_sa *sa, uint16_t type)
{
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;

	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	vpnr__ike_add_notify(&b, 0, NULL, 0, type, NULL, 0);
	if (vpnr__ike_build_end(&b) == 0 &&
	    vpnr__ike_send_request(ctx, sa, VPNR__IKE_INFORMATIONAL, &inner,
		vpnr__ike_build_first(&b), REQ_NOTIFY, ctx->now) == VPNR_OK)
		vpnr__timer_disarm(ctx, &sa->rtx_timer);
	vpnr__wbuf_free(&inner);
}

/* Our INFORMATIONAL requests of the task queue (DELETE of a CHILD_SA
 * is vpnr__child_send_delete()): REQ_DELETE_SPI (child_id: an ESP SPI
 * we offered), REQ_DELETE_IKE, REQ_DPD (empty). */
int
vpnr__ike_info_request(vpnr_ctx *ctx, struct ike_sa *sa, int type,
    uint64_t child_id, vpnr_tstamp now)
{
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[4];
	int rv;

	if (type != REQ_DELETE_SPI && type != REQ_DELETE_IKE && type != REQ_DPD)
		return VPNR_ERR_INTERNAL;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	if (type == REQ_DELETE_SPI) {
		vpnr__put_be32(spi, (uint32_t)child_id);
		vpnr__ike_add_delete(&b, VPNR__PROTO_ESP, 4, spi, 1);
	} else if (type == REQ_DELETE_IKE) {
		vpnr__ike_add_delete(&b, VPNR__PROTO_IKE, 0, NULL, 0);
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "sending DELETE for IKE_SA %016llx_i %016llx_r",
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r);
	}
	rv = vpnr__ike_build_end(&b);
	if (rv == 0)
		rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_INFORMATIONAL,
		    &inner, vpnr__ike_build_first(&b), type, now);
	vpnr__wbuf_free(&inner);
	if (rv == VPNR_OK && type == REQ_DELETE_IKE) {
		if (sa->state == IKE_ESTABLISHED)
			sa->state = IKE_DELETING;
		vpnr__timer_arm(ctx, &sa->life_timer,
		    now + VPNR__IKE_DELETE_TMO);
	}
	return rv;
}

int
vpnr__child_send_delete(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    vpnr_tstamp now)
{
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[4];
	int rv;

	vpnr__put_be32(spi, c->spi_in);
	if (c->state != CHILD_REKEYED)
		c->state = CHILD_DELETING;
	vpnr__timer_disarm(ctx, &c->rekey_timer);
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	vpnr__ike_add_delete(&b, VPNR__PROTO_ESP, 4, spi, 1);
	rv = vpnr__ike_build_end(&b);
	if (rv == 0) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "sending DELETE for CHILD_SA %08x_i %08x_o", c->spi_in,
		    c->spi_out);
		sa->req_child = c->id;
		rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_INFORMATIONAL,
		    &inner, vpnr__ike_build_first(&b), REQ_DELETE_CHILD, now);
	}
	vpnr__wbuf_free(&inner);
	return rv;
}

/* ---- the peer's requests, the answers to ours ---- */

int
vpnr__ike_sa_process_informational(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	struct child_sa *c;
	struct tunnel *ct;
	uint8_t spis[4 * 64];
	uint16_t n_out = 0, j;
	uint32_t spi;
	int del_ike = 0, rv, auth_failed = 0, closed = 0;
	uint8_t i;

	for (i = 0; i < msg->n_delete; i++) {
		const struct vpnr__ike_delete *d = &msg->del[i];

		if (d->protocol == VPNR__PROTO_IKE) {
			del_ike = 1;
			continue;
		}
		if (d->protocol != VPNR__PROTO_ESP || d->spi_len != 4)
			continue;
		for (j = 0; j < d->n_spi; j++) {
			spi = vpnr__get_be32(d->spis + 4 * j);
			c = vpnr__ike_child_by_spi_out(ctx, sa, spi);
			if (c == NULL) {
				/* Maybe the pair our CREATE_CHILD_SA made,
				 * its answer still on the way. */
				if (sa->req_type == REQ_NEW_CHILD)
					sa->peer_del_spi = spi;
				continue;
			}
			ct = c->tun;
			if (n_out < 64) {
				vpnr__put_be32(spis + 4 * n_out, c->spi_in);
				n_out++;
			}
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "received DELETE for CHILD_SA %08x_i %08x_o",
			    c->spi_in, c->spi_out);
			/* Our own DELETE for it crossed this one. */
			if (sa->req_type == REQ_DELETE_CHILD &&
			    sa->req_child == c->id)
				sa->req_child = 0;
			/* The rekey initiator could not install what
			 * replaced an old CHILD_SA: the old one goes on. */
			if (c->state != CHILD_REKEYED) {
				struct child_sa *o;

				TAILQ_FOREACH(o, &ct->children, entry)
					if (o->replaced_by == c->id &&
					    o->state == CHILD_REKEYED) {
						o->state = CHILD_INSTALLED;
						o->replaced_by = 0;
						vpnr__timer_arm(ctx,
						    &o->rekey_timer,
						    now +
							VPNR__IKE_REKEY_RETRY);
					}
			}
			if (c->down_reason == 0)
				c->down_reason = VPNR_ERR_PEER_CLOSED;
			if (c->state != CHILD_REKEYED)
				closed = 1;
			vpnr__child_destroy(ctx, c, c->state == CHILD_REKEYED,
			    now);
			/* A tunnel riding sa without a CHILD_SA leaves. */
			vpnr__ike_guest_emptied(ctx, ct, VPNR_ERR_PEER_CLOSED,
			    0, now);
		}
	}
	if (vpnr__ike_find_notify(msg, VPNR__N_AUTHENTICATION_FAILED) != NULL)
		auth_failed = 1;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	if (n_out > 0 && !del_ike)
		vpnr__ike_add_delete(&b, VPNR__PROTO_ESP, 4, spis, n_out);
	rv = vpnr__ike_build_end(&b);
	if (rv == 0)
		rv = vpnr__ike_send_response(ctx, sa, VPNR__IKE_INFORMATIONAL,
		    msg->hdr.msg_id, &inner, vpnr__ike_build_first(&b));
	vpnr__wbuf_free(&inner);
	sa->next_peer_id++;
	if (del_ike) {
		struct ike_sa *n = NULL;

		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "received DELETE for IKE_SA %016llx_i %016llx_r",
		    (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r);
		/* Crossed IKE rekeys where our request got lost: the
		 * peer finished its rekey (2.8.2); take its new SA. */
		if (sa->tun->ike == sa && sa->peer_rekey_spi != 0)
			n = vpnr__ike_sa_find(ctx, sa->peer_rekey_spi);
		if (n != NULL && n->state == IKE_ESTABLISHED &&
		    n->tun == sa->tun)
			vpnr__ike_switch(ctx, sa, n, now);
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_PEER_CLOSED, 0, now);
	} else if (auth_failed) {
		vpnr__ike_sa_dead(ctx, sa, VPNR_ERR_AUTH_FAILED,
		    VPNR__N_AUTHENTICATION_FAILED, now);
	} else if (closed && sa->tun->ike == sa && sa->tun->want_up &&
	    !vpnr__tunnel_has_child(sa->tun)) {
		/* The peer closed our last CHILD_SA: a tunnel we want up
		 * starts over (DELETE, then the reconnect policy). */
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "tunnel %llu: the peer closed its last CHILD_SA, "
		    "reconnecting",
		    (unsigned long long)sa->tun->id);
		vpnr__tunnel_fail(ctx, sa->tun, VPNR_ERR_PEER_CLOSED, 0, now);
	}
	return rv;
}

int
vpnr__ike_info_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct child_sa *c;
	struct tunnel *ct;
	int type = sa->req_type, reason;

	sa->req_type = REQ_NONE;
	vpnr__wbuf_free(&sa->req); /* answered: no more retransmits */
	vpnr__timer_disarm(ctx, &sa->rtx_timer);
	sa->next_req_id++;
	switch (type) {
	case REQ_DELETE_CHILD:
		c = vpnr__ike_child(ctx, sa, sa->req_child);
		if (c == NULL)
			break;
		ct = c->tun;
		/* A guest left without CHILD_SA by this (the peer closed
		 * the pair that replaced it, a lifetime) leaves, saying
		 * why the pair went; a plain DELETE of ours ended it. */
		reason =
		    c->down_reason != 0 ? c->down_reason : VPNR_ERR_PEER_CLOSED;
		if (c->down_reason == 0)
			c->down_reason = VPNR_ERR_LOCAL_CLOSE;
		vpnr__child_destroy(ctx, c,
		    c->state == CHILD_REKEYED || c->replaced_by != 0, now);
		vpnr__ike_guest_emptied(ctx, ct, reason, 0, now);
		break;
	case REQ_DELETE_IKE:
		vpnr__ike_sa_dead(ctx, sa, sa->close_reason, sa->close_notify,
		    now);
		return VPNR_OK;
	default:
		break;
	}
	return vpnr__ike_sa_next_task(ctx, sa, now);
}
