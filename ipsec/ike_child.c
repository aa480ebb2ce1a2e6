/*
 * The CREATE_CHILD_SA exchange for CHILD_SAs (RFC 7296 1.3, 2.8,
 * 2.17) and the CHILD_SA payloads of IKE_AUTH: proposals, PFS,
 * traffic selector narrowing, KEYMAT, rekeying (make-before-break)
 * and simultaneous rekey collisions (2.8.1: the exchange with the
 * lowest nonce loses, its initiator deletes what it created).  A
 * CREATE_CHILD_SA that rekeys the IKE SA goes to ike_rekey.c.  The
 * CHILD_SAs themselves (install, indexes, expiry) are child_sa.c's;
 * the window is ike_sa.c's (layers in ike_exch.h).
 */
#include <string.h>

#include "crypto.h"
#include "ctx.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "ike_ts.h"
#include "log.h"

/* ---- creation ---- */

/*
 * An IKEv2 CHILD_SA: keymat is i->r encr | integ | r->i encr | integ;
 * we_init says whether we initiated the creating exchange.
 */
static int
install(vpnr_ctx *ctx, struct ike_sa *sa, struct tunnel *t,
    const struct vpnr__suite *suite, uint32_t spi_in, uint32_t spi_out,
    const uint8_t *km, int we_init, int role, uint64_t rekey_of,
    const vpnr_ts *tsl, size_t ntsl, const vpnr_ts *tsr, size_t ntsr,
    vpnr_tstamp now, struct child_sa **out)
{
	struct vpnr__child_spec sp;
	size_t ek, ik;

	ek = vpnr__encr_keymat_len(suite->encr, suite->encr_bits);
	ik = suite->integ ? vpnr__integ_key_len(suite->integ) : 0;
	memset(&sp, 0, sizeof(sp));
	sp.tun = t;
	sp.local = sa->local;
	sp.remote = sa->remote;
	sp.natt = sa->natt;
	sp.suite = suite;
	sp.spi_in = spi_in;
	sp.spi_out = spi_out;
	/* i->r keys protect what the initiator sends. */
	sp.key_in = we_init ? km + ek + ik : km;
	sp.key_out = we_init ? km : km + ek + ik;
	sp.we_init = we_init;
	sp.role = role;
	sp.rekey_of = rekey_of;
	sp.tsl = tsl;
	sp.ntsl = ntsl;
	sp.tsr = tsr;
	sp.ntsr = ntsr;
	return vpnr__child_install(ctx, &sp, now, out);
}

int
vpnr__child_add_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_builder *b)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	uint8_t spi[4];
	int rv;

	vpnr__ike_sa_set_req_spi(ctx, sa, vpnr__child_alloc_spi(ctx, sa));
	if (sa->req_spi == 0)
		return VPNR_ERR_INTERNAL;
	vpnr__put_be32(spi, sa->req_spi);
	rv = vpnr__prop_to_sa_ex(&sapl, c->esp, c->n_esp, spi, 4, 0,
	    VPNR__PROP_NO_DH);
	if (rv != VPNR_OK)
		return rv;
	vpnr__ike_add_sa(b, &sapl);
	vpnr__ike_add_ts(b, VPNR__PL_TSI, c->ts_local, c->n_ts_local);
	vpnr__ike_add_ts(b, VPNR__PL_TSR, c->ts_remote, c->n_ts_remote);
	return VPNR_OK;
}

int
vpnr__child_respond(vpnr_ctx *ctx, struct ike_sa *sa, struct tunnel *t,
    const struct vpnr__ike_msg *msg, struct vpnr__ike_builder *b, int in_auth,
    struct child_sa *rekeyed, vpnr_tstamp now, struct child_sa **created,
    uint16_t *notify)
{
	const struct vpnr_tunnel_config *cfg = &t->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__suite suite;
	struct vpnr__dh *dh = NULL;
	vpnr_ts tsi[VPNR__IKE_MAX_TS], tsr[VPNR__IKE_MAX_TS];
	uint8_t km[4 * VPNR__MAX_KEY_LEN], gir[VPNR__MAX_KE_LEN];
	uint8_t nr[VPNR__IKE_NONCE_LEN], ke[VPNR__MAX_KE_LEN], spi[4], g[2];
	const uint8_t *ni, *np;
	size_t chosen = 0, nti, ntr, glen = 0, ni_len, np_len, kmlen, kelen = 0;
	uint32_t spi_in, spi_out;
	int rv, role;

	*created = NULL;
	*notify = 0;
	/* A peer's rekey of a pair we are rekeying ourselves (collision)
	 * replaces nothing until the nonces decide (2.8.1). */
	role = rekeyed == NULL                ? CHILD_ROLE_NEW_R :
	    vpnr__child_collides(sa, rekeyed) ? CHILD_ROLE_COLLIDE :
						CHILD_ROLE_REKEY_R;
	rv = vpnr__prop_select_ex(cfg->esp, cfg->n_esp, &msg->sa,
	    msg->has_ke ? msg->ke_group : 0, in_auth ? VPNR__PROP_NO_DH : 0,
	    &suite, &chosen);
	if (rv != VPNR_OK || msg->sa.p[chosen].spi_len != 4) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "no acceptable ESP proposal");
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_NO_PROPOSAL_CHOSEN,
		    NULL, 0);
		*notify = VPNR__N_NO_PROPOSAL_CHOSEN;
		return VPNR_ERR_NO_PROPOSAL;
	}
	spi_out = vpnr__get_be32(msg->sa.p[chosen].spi);
	nti = vpnr__ts_narrow(msg->tsi.ts, msg->has_tsi ? msg->tsi.n : 0,
	    cfg->ts_remote, cfg->n_ts_remote, tsi, VPNR__IKE_MAX_TS);
	ntr = vpnr__ts_narrow(msg->tsr.ts, msg->has_tsr ? msg->tsr.n : 0,
	    cfg->ts_local, cfg->n_ts_local, tsr, VPNR__IKE_MAX_TS);
	if (nti == 0 || ntr == 0) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "traffic selectors unacceptable");
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TS_UNACCEPTABLE,
		    NULL, 0);
		*notify = VPNR__N_TS_UNACCEPTABLE;
		return VPNR_ERR_TS_UNACCEPTABLE;
	}
	if (in_auth) {
		ni = sa->ni;
		ni_len = sa->ni_len;
		np = sa->nr;
		np_len = sa->nr_len;
	} else {
		if (!msg->has_nonce || msg->nonce_len < VPNR__IKE_MIN_NONCE ||
		    msg->nonce_len > VPNR__IKE_MAX_NONCE)
			return VPNR_ERR_MALFORMED;
		ni = msg->nonce;
		ni_len = msg->nonce_len;
		np = nr;
		np_len = sizeof(nr);
		if ((rv = vpnr__random(ctx, nr, sizeof(nr))) != VPNR_OK)
			return rv;
		if (suite.dh != 0) {
			if (!msg->has_ke || msg->ke_group != suite.dh) {
				vpnr__put_be16(g, suite.dh);
				vpnr__ike_add_notify(b, 0, NULL, 0,
				    VPNR__N_INVALID_KE_PAYLOAD, g, 2);
				*notify = VPNR__N_INVALID_KE_PAYLOAD;
				return VPNR_ERR_NO_PROPOSAL;
			}
			if ((rv = vpnr__dh_new(suite.dh, &dh)) != VPNR_OK)
				return rv;
			kelen = vpnr__dh_public_len(suite.dh);
			rv = vpnr__dh_public(dh, ke, kelen);
			if (rv == VPNR_OK)
				rv = vpnr__ike_ke_derive(dh, msg, gir,
				    sizeof(gir), &glen);
			vpnr__dh_free(dh);
			if (rv != VPNR_OK)
				return rv;
		}
	}
	spi_in = vpnr__child_alloc_spi(ctx, sa);
	if (spi_in == 0)
		return VPNR_ERR_INTERNAL;
	kmlen = 2 *
	    (vpnr__encr_keymat_len(suite.encr, suite.encr_bits) +
		(suite.integ ? vpnr__integ_key_len(suite.integ) : 0));
	rv = vpnr__child_keymat(sa, glen ? gir : NULL, glen, ni, ni_len, np,
	    np_len, km, kmlen);
	explicit_bzero(gir, sizeof(gir));
	/* Crossing rekeys: the lower nonce of the peer's exchange decides
	 * against ours when our response comes (2.8.1). */
	if (rv == VPNR_OK && role == CHILD_ROLE_COLLIDE)
		rv = vpnr__ike_keep_min_nonce(ctx, ni, ni_len, nr, sizeof(nr),
		    &rekeyed->peer_rekey_nonce, &rekeyed->peer_rekey_nonce_len);
	if (rv != VPNR_OK)
		goto done;
	/* TSi is the initiator's (the peer's) side: our remote. */
	rv = install(ctx, sa, t, &suite, spi_in, spi_out, km, 0, role,
	    role == CHILD_ROLE_REKEY_R ? rekeyed->id : 0, tsr, ntr, tsi, nti,
	    now, created);
	if (rv != VPNR_OK) {
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE,
		    NULL, 0);
		*notify = VPNR__N_TEMPORARY_FAILURE;
		goto done;
	}
	vpnr__put_be32(spi, spi_in);
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, spi, 4);
	vpnr__ike_add_sa(b, &sapl);
	if (!in_auth) {
		vpnr__ike_add_nonce(b, nr, sizeof(nr));
		if (kelen > 0)
			vpnr__ike_add_ke(b, suite.dh, ke, kelen);
	}
	vpnr__ike_add_ts(b, VPNR__PL_TSI, tsi, nti);
	vpnr__ike_add_ts(b, VPNR__PL_TSR, tsr, ntr);
done:
	explicit_bzero(km, sizeof(km));
	return rv;
}

int
vpnr__child_complete(vpnr_ctx *ctx, struct ike_sa *sa, struct tunnel *t,
    const struct vpnr__ike_msg *msg, int in_auth, struct child_sa *rekeyed,
    vpnr_tstamp now, struct child_sa **created)
{
	const struct vpnr_tunnel_config *cfg = &t->cfg;
	struct vpnr__suite suite;
	uint8_t km[4 * VPNR__MAX_KEY_LEN], gir[VPNR__MAX_KE_LEN];
	const uint8_t *ni, *nr;
	const vpnr_ts *ol, * or ;
	size_t ni_len, nr_len, glen = 0, kmlen, nol, nor;
	int rv;

	*created = NULL;
	rv = vpnr__prop_accept_ex(cfg->esp, cfg->n_esp, &msg->sa,
	    in_auth ? VPNR__PROP_NO_DH : 0, &suite);
	if (rv != VPNR_OK || msg->sa.p[0].spi_len != 4)
		return VPNR_ERR_NO_PROPOSAL;
	if (!msg->has_tsi || !msg->has_tsr)
		return VPNR_ERR_TS_UNACCEPTABLE;
	ol = rekeyed != NULL ? rekeyed->ts_local : cfg->ts_local;
	nol = rekeyed != NULL ? rekeyed->n_ts_local : cfg->n_ts_local;
	or = rekeyed != NULL ? rekeyed->ts_remote : cfg->ts_remote;
	nor = rekeyed != NULL ? rekeyed->n_ts_remote : cfg->n_ts_remote;
	if (!vpnr__ts_subset(msg->tsi.ts, msg->tsi.n, ol, nol) ||
	    !vpnr__ts_subset(msg->tsr.ts, msg->tsr.n, or, nor))
		return VPNR_ERR_TS_UNACCEPTABLE;
	if (in_auth) {
		ni = sa->ni;
		ni_len = sa->ni_len;
		nr = sa->nr;
		nr_len = sa->nr_len;
	} else {
		if (!msg->has_nonce || msg->nonce_len < VPNR__IKE_MIN_NONCE ||
		    msg->nonce_len > VPNR__IKE_MAX_NONCE)
			return VPNR_ERR_MALFORMED;
		ni = sa->req_nonce;
		ni_len = sa->req_nonce_len;
		nr = msg->nonce;
		nr_len = msg->nonce_len;
		if (suite.dh != 0) {
			if (sa->req_dh == NULL ||
			    vpnr__dh_group(sa->req_dh) != suite.dh)
				return VPNR_ERR_NO_PROPOSAL;
			rv = vpnr__ike_ke_derive(sa->req_dh, msg, gir,
			    sizeof(gir), &glen);
			if (rv != VPNR_OK)
				return rv;
		}
	}
	kmlen = 2 *
	    (vpnr__encr_keymat_len(suite.encr, suite.encr_bits) +
		(suite.integ ? vpnr__integ_key_len(suite.integ) : 0));
	rv = vpnr__child_keymat(sa, glen ? gir : NULL, glen, ni, ni_len, nr,
	    nr_len, km, kmlen);
	explicit_bzero(gir, sizeof(gir));
	if (rv == VPNR_OK)
		rv = install(ctx, sa, t, &suite, sa->req_spi,
		    vpnr__get_be32(msg->sa.p[0].spi), km, 1,
		    rekeyed != NULL ? CHILD_ROLE_REKEY_I : CHILD_ROLE_NEW_I,
		    rekeyed != NULL ? rekeyed->id : 0, msg->tsi.ts, msg->tsi.n,
		    msg->tsr.ts, msg->tsr.n, now, created);
	explicit_bzero(km, sizeof(km));
	return rv;
}

int
vpnr__child_respond_finish(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    uint8_t exch, uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first,
    struct vpnr__wbuf *fail_inner, uint8_t fail_first, vpnr_tstamp now)
{
	int rv;

	if (c != NULL && c->state == CHILD_INSTALLING && c->pending > 0)
		return vpnr__ike_hold_response(ctx, sa, exch, msg_id, inner,
		    first, fail_inner, fail_first, c);
	rv = vpnr__ike_send_response(ctx, sa, exch, msg_id, inner, first);
	if (c != NULL)
		vpnr__child_install_wait(ctx, c, now);
	return rv;
}

/* ---- rekeying ---- */

/*
 * Our CREATE_CHILD_SA for a CHILD_SA of t: the rekey of c, or (c NULL)
 * a new one for t's selectors, t riding sa (ike_guest.c).
 */
static int
child_request(vpnr_ctx *ctx, struct ike_sa *sa, struct tunnel *t,
    struct child_sa *c, vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *cfg = &t->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[4], old[4], ke[VPNR__MAX_KE_LEN];
	uint16_t group;
	size_t kelen = 0;
	int rv;

	group = c != NULL && c->suite.dh != 0 ?
	    c->suite.dh :
	    vpnr__prop_first_dh(cfg->esp, cfg->n_esp);
	if (sa->req_dh != NULL) {
		vpnr__dh_free(sa->req_dh);
		sa->req_dh = NULL;
	}
	if (group != 0) {
		if ((rv = vpnr__dh_new(group, &sa->req_dh)) != VPNR_OK)
			return rv;
		kelen = vpnr__dh_public_len(group);
		if ((rv = vpnr__dh_public(sa->req_dh, ke, kelen)) != VPNR_OK)
			return rv;
	}
	vpnr__ike_sa_set_req_spi(ctx, sa, vpnr__child_alloc_spi(ctx, sa));
	sa->req_nonce_len = VPNR__IKE_NONCE_LEN;
	if (sa->req_spi == 0 ||
	    vpnr__random(ctx, sa->req_nonce, sa->req_nonce_len) != VPNR_OK)
		return VPNR_ERR_INTERNAL;
	vpnr__put_be32(spi, sa->req_spi);
	rv = vpnr__prop_to_sa_ex(&sapl, cfg->esp, cfg->n_esp, spi, 4, group, 0);
	if (rv != VPNR_OK)
		return rv;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	if (c != NULL) {
		vpnr__put_be32(old, c->spi_in);
		vpnr__ike_add_notify(&b, VPNR__PROTO_ESP, old, 4,
		    VPNR__N_REKEY_SA, NULL, 0);
	}
	vpnr__ike_add_sa(&b, &sapl);
	vpnr__ike_add_nonce(&b, sa->req_nonce, sa->req_nonce_len);
	if (kelen > 0)
		vpnr__ike_add_ke(&b, group, ke, kelen);
	if (c != NULL) {
		vpnr__ike_add_ts(&b, VPNR__PL_TSI, c->ts_local, c->n_ts_local);
		vpnr__ike_add_ts(&b, VPNR__PL_TSR, c->ts_remote,
		    c->n_ts_remote);
	} else {
		vpnr__ike_add_ts(&b, VPNR__PL_TSI, cfg->ts_local,
		    cfg->n_ts_local);
		vpnr__ike_add_ts(&b, VPNR__PL_TSR, cfg->ts_remote,
		    cfg->n_ts_remote);
	}
	rv = vpnr__ike_build_end(&b);
	if (rv == 0) {
		if (c != NULL) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "rekeying CHILD_SA %08x_i %08x_o%s", c->spi_in,
			    c->spi_out, group ? " with PFS" : "");
			c->state = CHILD_REKEYING;
			c->peer_rekey_child = 0;
		} else
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "tunnel %llu: CREATE_CHILD_SA inside the IKE_SA "
			    "%016llx_i %016llx_r of tunnel %llu%s",
			    (unsigned long long)t->id,
			    (unsigned long long)sa->spi_i,
			    (unsigned long long)sa->spi_r,
			    (unsigned long long)sa->tun->id,
			    group ? " with PFS" : "");
		sa->req_child = c != NULL ? c->id : t->id;
		sa->req_tun = t->id;
		sa->peer_del_spi = 0;
		rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_CREATE_CHILD_SA,
		    &inner, vpnr__ike_build_first(&b),
		    c != NULL ? REQ_REKEY_CHILD : REQ_NEW_CHILD, now);
		if (rv != VPNR_OK && c != NULL) {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + VPNR__IKE_REKEY_RETRY);
		}
	}
	vpnr__wbuf_free(&inner);
	return rv;
}

int
vpnr__child_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    vpnr_tstamp now)
{
	return child_request(ctx, sa, c->tun, c, now);
}

int
vpnr__child_start_new(vpnr_ctx *ctx, struct ike_sa *sa, struct tunnel *t,
    vpnr_tstamp now)
{
	return child_request(ctx, sa, t, NULL, now);
}

int
vpnr__ike_create_child_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	const struct vpnr__ike_notify *rn;
	struct vpnr__ike_builder b, fb;
	struct vpnr__wbuf inner, finner;
	struct child_sa *old = NULL, *c = NULL;
	struct ike_sa *n = NULL;
	struct tunnel *t = sa->tun;
	uint16_t notify = 0;
	int rv, crv = VPNR_OK, collide = 0;

	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	if (!msg->has_sa || msg->sa.n == 0) {
		vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_INVALID_SYNTAX,
		    NULL, 0);
		rv = VPNR_OK;
	} else if (msg->sa.p[0].protocol == VPNR__PROTO_IKE) {
		collide = sa->req_type == REQ_REKEY_IKE;
		rv = vpnr__ike_rekey_request(ctx, sa, msg, &b, now, &n);
	} else {
		rn = vpnr__ike_find_notify(msg, VPNR__N_REKEY_SA);
		if (rn != NULL) {
			if (rn->spi_len == 4 && rn->spi != NULL)
				old = vpnr__ike_child_by_spi_out(ctx, sa,
				    vpnr__get_be32(rn->spi));
			if (old == NULL ||
			    (old->state != CHILD_INSTALLED &&
				old->state != CHILD_REKEYING)) {
				vpnr__ike_add_notify(&b, VPNR__PROTO_ESP,
				    rn->spi, rn->spi_len,
				    old == NULL ? VPNR__N_CHILD_SA_NOT_FOUND :
						  VPNR__N_TEMPORARY_FAILURE,
				    NULL, 0);
				rv = VPNR_OK;
				goto send;
			}
			collide = vpnr__child_collides(sa, old);
			t = old->tun;
		} else
			t = vpnr__ike_child_tunnel(ctx, sa, msg);
		crv = rv = vpnr__child_respond(ctx, sa, t, msg, &b, 0, old, now,
		    &c, &notify);
		/* A sibling's CHILD_SA: that tunnel rides sa from now. */
		if (c != NULL && t != sa->tun)
			vpnr__ike_guest_join(ctx, t, sa, now);
		if (rv != VPNR_OK && rv > VPNR_ERR_FATAL &&
		    rv != VPNR_ERR_MALFORMED)
			rv = VPNR_OK; /* answered with an error notify */
	}
send:
	/* Said instead if the new CHILD_SA's install fails later. */
	vpnr__wbuf_init(&finner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&fb, &finner);
	vpnr__ike_add_notify(&fb, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE, NULL,
	    0);
	if (rv == VPNR_OK) {
		if ((rv = vpnr__ike_build_end(&b)) == 0 &&
		    (rv = vpnr__ike_build_end(&fb)) == 0) {
			if (c != NULL && collide)
				old->peer_rekey_child = c->id;
			rv = vpnr__child_respond_finish(ctx, sa, c,
			    VPNR__IKE_CREATE_CHILD_SA, msg->hdr.msg_id, &inner,
			    vpnr__ike_build_first(&b), &finner,
			    vpnr__ike_build_first(&fb), now);
		}
		sa->next_peer_id++;
	}
	vpnr__wbuf_free(&inner);
	vpnr__wbuf_free(&finner);
	if (n != NULL) {
		if (collide) {
			sa->peer_rekey_spi = n->local_spi;
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "IKE_SA rekey collision, peer created %016llx_i "
			    "%016llx_r",
			    (unsigned long long)n->spi_i,
			    (unsigned long long)n->spi_r);
		} else {
			vpnr__ike_switch(ctx, sa, n, now);
		}
	}
	if (c != NULL && collide)
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "CHILD_SA rekey collision on %08x_i %08x_o", old->spi_in,
		    old->spi_out);
	/* The CHILD_UP / CHILD_REKEYED of c follow its install. */
	if (crv == VPNR_ERR_DATAPLANE)
		vpnr__child_failed(ctx, t, crv, notify, 0, now);
	return rv;
}

/*
 * The peer's rekey of c stands (its exchange won the collision, or
 * ours failed): its pair replaces c once installed (vpnr__child_settle).
 */
static void
peer_rekey_stands(vpnr_ctx *ctx, struct child_sa *c, struct child_sa *peer,
    vpnr_tstamp now)
{
	peer->role = CHILD_ROLE_REKEY_R;
	peer->rekey_of = c->id;
	if (peer->state == CHILD_INSTALLED)
		vpnr__child_settle(ctx, peer, now);
}

static int
child_rekey_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct tunnel *t;
	struct child_sa *c, *n = NULL, *peer;
	uint16_t err;
	int rv, crv;

	c = vpnr__ike_child(ctx, sa, sa->req_child);
	t = c != NULL ? c->tun : vpnr__tunnel_find(ctx, sa->req_tun);
	err = vpnr__ike_first_error(msg);
	if (c == NULL) {
		struct child_sa *o;
		uint64_t other = 0;

		/* Deleted meanwhile (crossed rekeys, losses): keep the new
		 * pair unless another one already replaced the old, or
		 * its tunnel left sa meanwhile (maybe to come back: then
		 * it asks for a CHILD_SA of its own). */
		if (err != 0 || !msg->has_sa)
			return VPNR_OK;
		if (t == NULL ||
		    (t != sa->tun &&
			(!vpnr__ike_guest(t) ||
			    t->state != VPNR_TUNNEL_ESTABLISHED)))
			return vpnr__ike_task_rv(vpnr__ike_sa_task(ctx, sa,
			    REQ_DELETE_SPI, sa->req_spi, now));
		/* Closing: install nothing (the IKE DELETE removes the
		 * peer's half too). */
		if (t->state == VPNR_TUNNEL_CLOSING)
			return VPNR_OK;
		rv = vpnr__child_complete(ctx, sa, t, msg, 0, NULL, now, &n);
		if (rv == VPNR_ERR_DATAPLANE)
			vpnr__child_failed(ctx, t, rv, 0, 0, now);
		if (rv != VPNR_OK)
			return vpnr_err_is_fatal(rv) ? rv : VPNR_OK;
		TAILQ_FOREACH(o, &t->children, entry)
			if (o != n &&
			    (o->state == CHILD_INSTALLED ||
				o->state == CHILD_REKEYING))
				other = o->id;
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeyed CHILD_SA vanished meanwhile, %s %08x_i",
		    other ? "deleting redundant" : "keeping", n->spi_in);
		/* Redundant: deleted once installed (vpnr__child_settle). */
		n->replaced_by = other;
		vpnr__child_install_wait(ctx, n, now);
		return VPNR_OK;
	}
	peer = vpnr__child_find(t, c->peer_rekey_child);
	if (err != 0 || !msg->has_sa) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying CHILD_SA %08x_i failed: notify %u", c->spi_in,
		    err);
		if (peer != NULL) {
			peer_rekey_stands(ctx, c, peer, now);
		} else {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + VPNR__IKE_REKEY_RETRY);
		}
		return VPNR_OK;
	}
	rv = vpnr__child_complete(ctx, sa, t, msg, 0, c, now, &n);
	if (rv != VPNR_OK) {
		if (vpnr_err_is_fatal(rv))
			return rv;
		/* The peer installed its side: have it removed again. */
		if (msg->sa.n == 1 && msg->sa.p[0].spi_len == 4 &&
		    (crv = vpnr__ike_sa_task(ctx, sa, REQ_DELETE_SPI,
			 sa->req_spi, now)) != VPNR_OK)
			return vpnr__ike_task_rv(crv); /* SA ended, reported */
		if (peer != NULL) {
			peer_rekey_stands(ctx, c, peer, now);
		} else {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + VPNR__IKE_REKEY_RETRY);
		}
		if (rv == VPNR_ERR_DATAPLANE)
			vpnr__child_failed(ctx, t, rv, 0, 0, now);
		return rv == VPNR_ERR_MALFORMED ? rv : VPNR_OK;
	}
	if (peer != NULL) {
		/* Collision: the exchange with the lowest nonce loses. */
		if (vpnr__ike_collision_lost(sa, msg, c->peer_rekey_nonce,
			c->peer_rekey_nonce_len)) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "CHILD_SA rekey collision lost, deleting "
			    "redundant %08x_i",
			    n->spi_in);
			/* Each pair takes its place once installed. */
			n->replaced_by = peer->id;
			peer_rekey_stands(ctx, c, peer, now);
			vpnr__child_install_wait(ctx, n, now);
			return VPNR_OK;
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "CHILD_SA rekey collision won");
		/* The peer deletes its redundant one. */
		peer->replaced_by = n->id;
		if (peer->state == CHILD_INSTALLED)
			vpnr__child_settle(ctx, peer, now);
	}
	/* Make-before-break: c is replaced (CHILD_REKEYED) and deleted
	 * once every install op of n completed (child_ready). */
	vpnr__child_install_wait(ctx, n, now);
	return VPNR_OK;
}

/* The answer to a guest's CREATE_CHILD_SA (child_request).  Had it
 * failed, the guest leaves unless a crossing CREATE_CHILD_SA of the
 * peer's made it a CHILD_SA meanwhile (vpnr__ike_guest_emptied). */
static int
child_new_response(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_msg *msg,
    vpnr_tstamp now)
{
	struct tunnel *t = vpnr__tunnel_find(ctx, sa->req_tun);
	struct child_sa *n = NULL;
	uint16_t err = vpnr__ike_first_error(msg);
	int rv, crv, ok = err == 0 && msg->has_sa;

	/* t still rides sa, or the IKE SA that replaced it meanwhile. */
	if (t == NULL || !vpnr__ike_guest(t) || t->ike->tun != sa->tun) {
		/* Closed meanwhile: the peer's new CHILD_SA goes again. */
		if (!ok)
			return VPNR_OK;
		return vpnr__ike_task_rv(vpnr__ike_sa_task(ctx, sa,
		    REQ_DELETE_SPI, sa->req_spi, now));
	}
	/* The peer closed what it made before its answer reached us. */
	if (ok && sa->peer_del_spi != 0 && msg->sa.n == 1 &&
	    msg->sa.p[0].spi_len == 4 &&
	    vpnr__get_be32(msg->sa.p[0].spi) == sa->peer_del_spi) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "tunnel %llu: the peer deleted its new CHILD_SA before "
		    "the answer came",
		    (unsigned long long)t->id);
		vpnr__ike_guest_emptied(ctx, t, VPNR_ERR_PEER_CLOSED, 0, now);
		return VPNR_OK;
	}
	if (!ok) {
		rv = err != 0 ? vpnr__ike_notify_reason(err) :
				VPNR_ERR_MALFORMED;
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "tunnel %llu: CREATE_CHILD_SA refused: notify %u (%s)",
		    (unsigned long long)t->id, err, vpnr_err_name(rv));
		vpnr__ike_guest_emptied(ctx, t, rv, err, now);
		return VPNR_OK;
	}
	rv = vpnr__child_complete(ctx, sa, t, msg, 0, NULL, now, &n);
	if (rv != VPNR_OK) {
		if (vpnr_err_is_fatal(rv))
			return rv;
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "tunnel %llu: CREATE_CHILD_SA answer not taken: %s",
		    (unsigned long long)t->id, vpnr_err_name(rv));
		/* The peer installed its side: have it removed again. */
		if (msg->sa.n == 1 && msg->sa.p[0].spi_len == 4 &&
		    (crv = vpnr__ike_sa_task(ctx, sa, REQ_DELETE_SPI,
			 sa->req_spi, now)) != VPNR_OK)
			return vpnr__ike_task_rv(crv); /* SA ended, reported */
		vpnr__ike_guest_emptied(ctx, t, rv, 0, now);
		return rv == VPNR_ERR_MALFORMED ? rv : VPNR_OK;
	}
	/* Up already if the peer's CREATE_CHILD_SA for t crossed ours:
	 * both pairs stay (RFC 7296 allows duplicates). */
	if (t->state != VPNR_TUNNEL_ESTABLISHED)
		vpnr__tunnel_up(ctx, t, now);
	vpnr__child_install_wait(ctx, n, now); /* CHILD_UP once installed */
	return VPNR_OK;
}

int
vpnr__ike_create_child_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	int type = sa->req_type, rv;

	/*
	 * req_type stays set while the response is handled, so work the
	 * handlers queue waits and cannot overwrite req_dh/req_nonce.
	 */
	vpnr__timer_disarm(ctx, &sa->rtx_timer);
	sa->next_req_id++;
	if (type == REQ_REKEY_IKE)
		rv = vpnr__ike_rekey_response(ctx, sa, msg, now);
	else if (type == REQ_NEW_CHILD)
		rv = child_new_response(ctx, sa, msg, now);
	else
		rv = child_rekey_response(ctx, sa, msg, now);
	sa->req_type = REQ_NONE;
	vpnr__wbuf_free(&sa->req); /* answered: no more retransmits */
	if (sa->req_dh != NULL) {
		vpnr__dh_free(sa->req_dh);
		sa->req_dh = NULL;
	}
	explicit_bzero(sa->req_nonce, sizeof(sa->req_nonce));
	if (sa->state != IKE_DEAD && !vpnr_err_is_fatal(rv))
		rv = vpnr__ike_sa_next_task(ctx, sa, now);
	return rv;
}
