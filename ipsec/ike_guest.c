/*
 * Several IKEv2 connections inside one IKE SA (RFC 7296 1.3.1).  A peer
 * with several connections to us (one PSK, one identity, a pair of
 * networks each) may open a second connection's CHILD_SA with a
 * CREATE_CHILD_SA inside the IKE SA of the first, as strongSwan does for
 * the children of one connection; with vpnr_tunnel_config_set_share_ike
 * we do the same.  The CHILD_SA belongs to the tunnel configured for its
 * selectors (its policies, interface and events).  That tunnel becomes a
 * guest of the IKE SA: its t->ike points to an SA owned by another
 * tunnel (sa->tun, the host) and kept in the host's list only.  Guests
 * rekey, delete and probe over that SA, move with it when it is rekeyed,
 * and go down when it goes, then follow their own reconnect policy.
 * Guests are found in the peer's range of the by-peer index, so there is
 * no list to keep in step; each IKE SA counts its guests, so that one
 * without (nearly all) costs no walk.
 */
#include <string.h>

#include "addr.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_ts.h"
#include "log.h"

int
vpnr__ike_guest(const struct tunnel *t)
{
	return t->ike != NULL && t->ike->tun != t;
}

void
vpnr__ike_guest_attach(struct tunnel *t, struct ike_sa *sa)
{
	t->ike = sa;
	sa->n_guests++;
}

void
vpnr__tunnel_drop_ike(struct tunnel *t)
{
	if (vpnr__ike_guest(t))
		t->ike->n_guests--;
	t->ike = NULL;
}

/* t's CHILD_SAs ride sa: t owns it, or is a guest of sa's tunnel (of
 * its current IKE SA, which replaced sa if sa was rekeyed). */
static int
carries(const struct ike_sa *sa, const struct tunnel *t)
{
	return t == sa->tun || (t->ike != NULL && t->ike->tun == sa->tun);
}

/* The guests of sa, in the peer's range of the index; none is looked
 * for while sa has none (the common case: one IKE SA per tunnel). */
static struct tunnel *
guest_from(const struct ike_sa *sa, struct tunnel *t, vpnr_ctx *ctx)
{
	for (; t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t))
		if (t->ike == sa && t != sa->tun)
			return t;
	return NULL;
}

static struct tunnel *
first_guest(vpnr_ctx *ctx, const struct ike_sa *sa)
{
	if (sa->n_guests == 0 || sa->tun == NULL)
		return NULL;
	return guest_from(sa,
	    vpnr__tunnel_first_by_peer(ctx, &sa->tun->cfg.remote), ctx);
}

static struct tunnel *
next_guest(vpnr_ctx *ctx, const struct ike_sa *sa, struct tunnel *t)
{
	return guest_from(sa, vpnr__tunnel_next_by_peer(ctx, t), ctx);
}

struct child_sa *
vpnr__ike_child(vpnr_ctx *ctx, const struct ike_sa *sa, uint64_t id)
{
	struct child_sa *c;

	if (id == 0 || sa->tun == NULL)
		return NULL;
	c = vpnr__child_by_id(ctx, id);
	return c != NULL && !vpnr__tunnel_v1(c->tun) && carries(sa, c->tun) ?
	    c :
	    NULL;
}

struct child_sa *
vpnr__ike_child_by_spi_out(vpnr_ctx *ctx, const struct ike_sa *sa, uint32_t spi)
{
	const struct ike_sa *cur;
	struct tunnel *t;
	struct child_sa *c;

	if (sa->tun == NULL)
		return NULL;
	if ((c = vpnr__child_by_spi_out(sa->tun, spi)) != NULL)
		return c;
	/* The guests ride the tunnel's current IKE SA (sa, or the one
	 * that replaced it). */
	cur = sa->tun->ike != NULL ? sa->tun->ike : sa;
	for (t = first_guest(ctx, cur); t != NULL; t = next_guest(ctx, cur, t))
		if ((c = vpnr__child_by_spi_out(t, spi)) != NULL)
			return c;
	return NULL;
}

/* The initiator's proposed selectors (TSi: its side, TSr: ours) meet
 * t's, or it proposed none. */
int
vpnr__ike_ts_fit(const struct tunnel *t, const struct vpnr__ike_msg *msg)
{
	vpnr_ts out[1];

	if (!msg->has_tsi || !msg->has_tsr)
		return 1;
	return vpnr__ts_narrow(msg->tsi.ts, msg->tsi.n, t->cfg.ts_remote,
		   t->cfg.n_ts_remote, out, 1) > 0 &&
	    vpnr__ts_narrow(msg->tsr.ts, msg->tsr.n, t->cfg.ts_local,
		t->cfg.n_ts_local, out, 1) > 0;
}

static int
same_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

/* Another IKEv2 tunnel between the same two addresses that the same
 * PSK and identities authenticate. */
int
vpnr__ike_sibling(const struct tunnel *a, const struct tunnel *b)
{
	const struct vpnr_tunnel_config *x = &a->cfg, *y = &b->cfg;

	return a != b && !vpnr__tunnel_v1(b) && !b->deleting &&
	    vpnr__addr_eq(&x->local, &y->local) &&
	    vpnr__addr_eq(&x->remote, &y->remote) &&
	    same_bytes(x->psk, x->psk_len, y->psk, y->psk_len) &&
	    x->local_id_set == y->local_id_set &&
	    x->local_id_type == y->local_id_type &&
	    same_bytes(x->local_id, x->local_id_len, y->local_id,
		y->local_id_len) &&
	    x->remote_id_set == y->remote_id_set &&
	    x->remote_id_type == y->remote_id_type &&
	    same_bytes(x->remote_id, x->remote_id_len, y->remote_id,
		y->remote_id_len);
}

struct tunnel *
vpnr__ike_child_tunnel(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_msg *msg)
{
	struct tunnel *t;

	if (vpnr__ike_ts_fit(sa->tun, msg))
		return sa->tun;
	for (t = vpnr__tunnel_first_by_peer(ctx, &sa->tun->cfg.remote);
	     t != NULL; t = vpnr__tunnel_next_by_peer(ctx, t)) {
		/* Free, or already riding sa: not one with an IKE SA of
		 * its own (connecting or up). */
		if (!vpnr__ike_sibling(sa->tun, t) ||
		    (t->ike != NULL && t->ike != sa) ||
		    !vpnr__ike_ts_fit(t, msg))
			continue;
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "CREATE_CHILD_SA for tunnel %llu inside the IKE_SA "
		    "%016llx_i %016llx_r of tunnel %llu (selected by its "
		    "selectors)",
		    (unsigned long long)t->id, (unsigned long long)sa->spi_i,
		    (unsigned long long)sa->spi_r,
		    (unsigned long long)sa->tun->id);
		return t;
	}
	return sa->tun; /* its selectors refuse them: TS_UNACCEPTABLE */
}

struct ike_sa *
vpnr__ike_sibling_sa(vpnr_ctx *ctx, struct tunnel *t)
{
	struct tunnel *o;
	struct ike_sa *connecting = NULL;

	for (o = vpnr__tunnel_first_by_peer(ctx, &t->cfg.remote); o != NULL;
	     o = vpnr__tunnel_next_by_peer(ctx, o)) {
		if (!vpnr__ike_sibling(t, o) || o->ike == NULL ||
		    o->ike->tun != o)
			continue;
		if (o->ike->state == IKE_ESTABLISHED)
			return o->ike;
		if (o->ike->state == IKE_INIT_SENT ||
		    o->ike->state == IKE_AUTH_SENT)
			connecting = o->ike;
	}
	return connecting;
}

void
vpnr__ike_guest_join(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now)
{
	if (t->ike != sa)
		vpnr__ike_guest_attach(t, sa);
	/* Its own CREATE_CHILD_SA may be crossing the peer's: one UP. */
	if (t->state != VPNR_TUNNEL_ESTABLISHED)
		vpnr__tunnel_up(ctx, t, now);
}

void
vpnr__ike_guests_alive(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	struct tunnel *t;

	for (t = first_guest(ctx, sa); t != NULL; t = next_guest(ctx, sa, t))
		vpnr__tunnel_alive(ctx, t, now);
}

void
vpnr__ike_guests_moved(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	struct tunnel *t;

	for (t = first_guest(ctx, sa); t != NULL; t = next_guest(ctx, sa, t))
		vpnr__tunnel_peer_moved(ctx, t, sa, now);
}

void
vpnr__ike_guests_switch(vpnr_ctx *ctx, struct ike_sa *old, struct ike_sa *n,
    vpnr_tstamp now)
{
	struct tunnel *t, *next;

	for (t = first_guest(ctx, old); t != NULL; t = next) {
		next = next_guest(ctx, old, t);
		vpnr__tunnel_drop_ike(t);
		vpnr__ike_guest_attach(t, n);
		if (t->state != VPNR_TUNNEL_ESTABLISHED)
			continue; /* its CHILD_SA is still being made */
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_REKEYED, 0, 0, 0);
		vpnr__tunnel_dpd_arm(ctx, t, now);
	}
}

void
vpnr__ike_guests_gone(vpnr_ctx *ctx, struct ike_sa *sa, int reason,
    uint16_t notify, vpnr_tstamp now)
{
	struct tunnel *t, *next;

	/* A local close of the host is not one of the guest's. */
	if (reason == 0 || reason == VPNR_ERR_LOCAL_CLOSE)
		reason = VPNR_ERR_TUNNEL_DOWN;
	for (t = first_guest(ctx, sa); t != NULL; t = next) {
		next = next_guest(ctx, sa, t);
		vpnr__ike_guest_leave(ctx, t, reason, notify, now);
	}
}

void
vpnr__ike_guests_drop(vpnr_ctx *ctx, struct ike_sa *sa)
{
	struct tunnel *t, *next;

	for (t = first_guest(ctx, sa); t != NULL; t = next) {
		next = next_guest(ctx, sa, t);
		vpnr__tunnel_drop_ike(t);
	}
}

/* Up to this many of a leaving guest's CHILD_SAs are deleted at the
 * peer (one for each pair of networks, plus a rekey in flight). */
#define LEAVE_DELETES 16

/* Guest t's CHILD_SAs are deleted at the peer over its IKE SA, unless
 * that is going too.  The SPIs are taken first: queueing may end the
 * IKE SA, and with it this guest (t->ike is NULL then). */
static void
delete_at_peer(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct ike_sa *sa = t->ike;
	struct child_sa *c;
	uint32_t spis[LEAVE_DELETES];
	size_t n = 0, i;

	if (sa->state == IKE_ESTABLISHED)
		TAILQ_FOREACH(c, &t->children, entry)
			if (n < LEAVE_DELETES && c->state != CHILD_REKEYED)
				spis[n++] = c->spi_in;
	for (i = 0; i < n && t->ike == sa && sa->state == IKE_ESTABLISHED; i++)
		if (vpnr__ike_sa_task(ctx, sa, REQ_DELETE_SPI, spis[i], now) !=
		    VPNR_OK)
			break; /* sa ended (reported), or an abort */
}

void
vpnr__ike_guest_leave(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now)
{
	/* Closing here: whatever ends it now, it was our close. */
	if (t->state == VPNR_TUNNEL_CLOSING)
		reason = VPNR_ERR_LOCAL_CLOSE;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu leaves the IKE_SA %016llx_i %016llx_r of tunnel "
	    "%llu: %s",
	    (unsigned long long)t->id, (unsigned long long)t->ike->spi_i,
	    (unsigned long long)t->ike->spi_r,
	    (unsigned long long)t->ike->tun->id, vpnr_err_name(reason));
	delete_at_peer(ctx, t, now);
	if (t->ike != NULL)
		vpnr__tunnel_gone(ctx, t, reason, notify, now);
}

void
vpnr__ike_guest_part(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "tunnel %llu: an IKE_SA of its own replaces that of tunnel %llu",
	    (unsigned long long)t->id, (unsigned long long)t->ike->tun->id);
	delete_at_peer(ctx, t, now);
	if (t->ike != NULL)
		vpnr__tunnel_drop_ike(t);
	vpnr__tunnel_children_down(ctx, t, VPNR_ERR_PEER_CLOSED, now);
}

void
vpnr__ike_guest_emptied(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now)
{
	if (!vpnr__ike_guest(t) || vpnr__tunnel_has_child(t))
		return;
	vpnr__ike_guest_leave(ctx, t, reason, notify, now);
}
