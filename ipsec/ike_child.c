/*
 * CHILD_SAs (RFC 7296 1.3, 2.8, 2.17): creation inside IKE_AUTH and
 * CREATE_CHILD_SA, rekeying of CHILD_SAs (make-before-break) and of
 * the IKE SA, simultaneous rekey collisions (2.8.1: the exchange with
 * the lowest nonce loses, its initiator deletes what it created), PFS,
 * traffic selector narrowing, SPI allocation and the data-plane
 * calls, DELETE of CHILD_SAs and lifetime expiry.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "crypto.h"
#include "ctx.h"
#include "dp.h"
#include "ike.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "ike_ts.h"
#include "log.h"
#include "mem.h"

static int child_rekey_fire(vpnr_ctx *, struct vpnr__timer *, vpnr_tstamp);

struct child_sa *
vpnr__child_find(struct tunnel *t, uint64_t id)
{
	struct child_sa *c;

	if (id == 0)
		return NULL;
	TAILQ_FOREACH(c, &t->children, entry)
		if (c->id == id)
			return c;
	return NULL;
}

struct child_sa *
vpnr__child_by_spi_in(struct tunnel *t, uint32_t spi)
{
	struct child_sa *c;

	TAILQ_FOREACH(c, &t->children, entry)
		if (c->spi_in == spi)
			return c;
	return NULL;
}

struct child_sa *
vpnr__child_by_spi_out(struct tunnel *t, uint32_t spi)
{
	struct child_sa *c;

	TAILQ_FOREACH(c, &t->children, entry)
		if (c->spi_out == spi)
			return c;
	return NULL;
}

static int
spi_in_use(vpnr_ctx *ctx, uint32_t spi)
{
	struct tunnel *t;
	struct ike_sa *sa;

	RB_FOREACH(t, tunnel_tree, &vpnr__ike(ctx)->tunnels)
		if (vpnr__child_by_spi_in(t, spi) != NULL)
			return 1;
	/* Offered in an outstanding IKE_AUTH / CREATE_CHILD_SA request:
	 * installed only when the response arrives. */
	RB_FOREACH(sa, ike_sa_tree, &vpnr__ike(ctx)->sas)
		if (sa->req_type != REQ_NONE && sa->req_spi == spi)
			return 1;
	return 0;
}

uint32_t
vpnr__child_alloc_spi(vpnr_ctx *ctx, struct ike_sa *sa)
{
	uint32_t spi = 0;
	int i;

	if (vpnr__dp_get_spi(ctx, &sa->remote, &sa->local, &spi) == VPNR_OK &&
	    spi != 0)
		return spi;
	for (i = 0; i < 32; i++) {
		if (vpnr__random(ctx, &spi, sizeof(spi)) != VPNR_OK)
			return 0;
		spi |= 0x80000000u; /* never in the reserved 1..255 */
		if (!spi_in_use(ctx, spi))
			return spi;
	}
	return 0;
}

static void
put_spi(uint8_t out[4], uint32_t spi)
{
	out[0] = (uint8_t)(spi >> 24);
	out[1] = (uint8_t)(spi >> 16);
	out[2] = (uint8_t)(spi >> 8);
	out[3] = (uint8_t)spi;
}

static uint32_t
get_spi(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

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

void
vpnr__child_arm_rekey(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	vpnr_tstamp t = c->tun->cfg.child_rekey;

	if (t == 0)
		return;
	vpnr__timer_arm(ctx, &c->rekey_timer, now + t);
}

/*
 * An asynchronous sa_add finished.  cookie is the SA id.  A failed
 * install takes its CHILD_SA down (DELETE to the peer when possible).
 */
static void
dp_done(vpnr_ctx *ctx, uint64_t cookie, int status, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct tunnel *t;
	struct child_sa *c;

	if (status == VPNR_OK || ike == NULL)
		return;
	vpnr__log(ctx, VPNR_LOG_ERR, "ike",
	    "data plane failed to install SA %llu: %s",
	    (unsigned long long)cookie, vpnr_err_name(status));
	RB_FOREACH(t, tunnel_tree, &ike->tunnels) {
		TAILQ_FOREACH(c, &t->children, entry) {
			if (c->sa_id_in != cookie && c->sa_id_out != cookie)
				continue;
			if (t->ike != NULL && t->ike->state == IKE_ESTABLISHED)
				vpnr__ike_sa_task(ctx, t->ike, REQ_DELETE_CHILD,
				    c->id, now);
			else
				vpnr__child_destroy(ctx, c, 0, now);
			return;
		}
	}
}

static void
fill_sa(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c, int dir,
    vpnr_child_sa *o)
{
	struct tunnel *t = sa->tun;

	memset(o, 0, sizeof(*o));
	o->tunnel_id = t->id;
	o->tunnel_user_data = t->user_data;
	o->protocol = 50;
	o->direction = (uint8_t)dir;
	o->flags = VPNR_SA_F_TUNNEL;
	if (c->suite.esn)
		o->flags |= VPNR_SA_F_ESN;
	if (dir == VPNR_DIR_IN) {
		o->sa_id = c->sa_id_in;
		o->spi = c->spi_in;
		o->src = sa->remote;
		o->dst = sa->local;
		o->replay_window = t->cfg.replay_window;
	} else {
		o->sa_id = c->sa_id_out;
		o->spi = c->spi_out;
		o->src = sa->local;
		o->dst = sa->remote;
	}
	if (sa->natt)
		o->flags |= VPNR_SA_F_UDP_ENCAP;
	else
		o->src.port = o->dst.port = 0;
	o->encr_id = c->suite.encr;
	o->encr_key_bits = c->suite.encr_bits;
	o->integ_id = c->suite.integ;
	o->if_id = t->cfg.if_id;
	o->soft = t->cfg.soft;
	o->hard = t->cfg.hard;
	o->ts_local = c->ts_local;
	o->n_ts_local = c->n_ts_local;
	o->ts_remote = c->ts_remote;
	o->n_ts_remote = c->n_ts_remote;
}

static const char *
ts_list_str(const vpnr_ts *ts, size_t n, char *buf, size_t cap)
{
	char one[96];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o + 2 < cap; i++) {
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "",
		    vpnr__ts_str(&ts[i], one, sizeof(one)));
		if (o >= cap)
			break;
	}
	return buf;
}

/*
 * Install a CHILD_SA pair.  keymat is i->r encr | integ | r->i encr |
 * integ; we_init says whether we initiated the creating exchange.
 */
static int
install(vpnr_ctx *ctx, struct ike_sa *sa, const struct vpnr__suite *suite,
    uint32_t spi_in, uint32_t spi_out, const uint8_t *km, int we_init,
    const vpnr_ts *tsl, size_t ntsl, const vpnr_ts *tsr, size_t ntsr,
    vpnr_tstamp now, struct child_sa **out)
{
	struct tunnel *t = sa->tun;
	struct child_sa *c;
	vpnr_child_sa o;
	size_t ek, ik;
	const uint8_t *ir, *ri;
	char s[128], a[256], b[256];
	int rv;

	ek = vpnr__encr_keymat_len(suite->encr, suite->encr_bits);
	ik = suite->integ ? vpnr__integ_key_len(suite->integ) : 0;
	c = vpnr__calloc(ctx->mem, 1, sizeof(*c));
	if (c == NULL)
		return VPNR_ERR_NOMEM;
	c->tun = t;
	c->suite = *suite;
	c->spi_in = spi_in;
	c->spi_out = spi_out;
	c->sa_id_in = vpnr__ctx_new_id(ctx);
	c->sa_id_out = vpnr__ctx_new_id(ctx);
	c->id = c->sa_id_in;
	c->state = CHILD_INSTALLED;
	c->installed_at = now;
	if (ntsl > VPNR__IKE_MAX_TS)
		ntsl = VPNR__IKE_MAX_TS;
	if (ntsr > VPNR__IKE_MAX_TS)
		ntsr = VPNR__IKE_MAX_TS;
	memcpy(c->ts_local, tsl, ntsl * sizeof(*tsl));
	memcpy(c->ts_remote, tsr, ntsr * sizeof(*tsr));
	c->n_ts_local = ntsl;
	c->n_ts_remote = ntsr;
	vpnr__timer_init(&c->rekey_timer, child_rekey_fire, c);
	ir = km;
	ri = km + ek + ik;
	fill_sa(ctx, sa, c, VPNR_DIR_IN, &o);
	o.encr_key = we_init ? ri : ir;
	o.encr_key_len = ek;
	o.integ_key = ik ? o.encr_key + ek : NULL;
	o.integ_key_len = ik;
	rv = vpnr__dp_sa_add(ctx, &o, dp_done, c->sa_id_in);
	if (rv != VPNR_OK && rv != VPNR_ASYNC)
		goto fail;
	fill_sa(ctx, sa, c, VPNR_DIR_OUT, &o);
	o.encr_key = we_init ? ir : ri;
	o.encr_key_len = ek;
	o.integ_key = ik ? o.encr_key + ek : NULL;
	o.integ_key_len = ik;
	rv = vpnr__dp_sa_add(ctx, &o, dp_done, c->sa_id_out);
	if (rv != VPNR_OK && rv != VPNR_ASYNC) {
		vpnr__dp_sa_del(ctx, c->sa_id_in, NULL, 0);
		goto fail;
	}
	TAILQ_INSERT_TAIL(&t->children, c, entry);
	if (t->cfg.child_rekey != 0) {
		vpnr_tstamp d = t->cfg.child_rekey;

		d = we_init ? vpnr__jitter(ctx, d, t->cfg.jitter_percent) :
			      d + d / 20;
		vpnr__timer_arm(ctx, &c->rekey_timer, now + d);
	}
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "CHILD_SA installed SPIs %08x_i %08x_o, %s%s, TS %s === %s",
	    c->spi_in, c->spi_out, vpnr__suite_str(suite, s, sizeof(s)),
	    sa->natt ? ", UDP-encapsulated" : "",
	    ts_list_str(c->ts_local, c->n_ts_local, a, sizeof(a)),
	    ts_list_str(c->ts_remote, c->n_ts_remote, b, sizeof(b)));
	*out = c;
	return VPNR_OK;
fail:
	vpnr__log(ctx, VPNR_LOG_ERR, "ike",
	    "data plane refused CHILD_SA %08x_i %08x_o: %s", spi_in, spi_out,
	    vpnr_err_name(rv));
	vpnr__free(ctx->mem, c);
	return rv == VPNR_ERR_CALLBACK_FAILURE || vpnr_err_is_fatal(rv) ?
	    rv :
	    VPNR_ERR_DATAPLANE;
}

void
vpnr__child_destroy(vpnr_ctx *ctx, struct child_sa *c, int quiet,
    vpnr_tstamp now)
{
	struct tunnel *t = c->tun;
	uint64_t id = c->id;

	vpnr__timer_disarm(ctx, &c->rekey_timer);
	TAILQ_REMOVE(&t->children, c, entry);
	vpnr__dp_sa_del(ctx, c->sa_id_in, NULL, 0);
	vpnr__dp_sa_del(ctx, c->sa_id_out, NULL, 0);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike", "CHILD_SA %08x_i %08x_o removed",
	    c->spi_in, c->spi_out);
	vpnr__freezero(ctx->mem, c, sizeof(*c));
	if (!quiet)
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_DOWN, 0, 0, id);
	vpnr__tunnel_child_changed(ctx, t, now);
}

void
vpnr__child_destroy_all(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now)
{
	struct child_sa *c;

	while ((c = TAILQ_FIRST(&t->children)) != NULL)
		vpnr__child_destroy(ctx, c, c->state == CHILD_REKEYED, now);
}

/* ---- creation ---- */

int
vpnr__child_add_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_builder *b)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	uint8_t spi[4];
	int rv;

	sa->req_spi = vpnr__child_alloc_spi(ctx, sa);
	if (sa->req_spi == 0)
		return VPNR_ERR_INTERNAL;
	put_spi(spi, sa->req_spi);
	rv = vpnr__prop_to_sa_ex(&sapl, c->esp, c->n_esp, spi, 4, 0,
	    VPNR__PROP_NO_DH);
	if (rv != VPNR_OK)
		return rv;
	vpnr__ike_add_sa(b, &sapl);
	vpnr__ike_add_ts(b, VPNR__PL_TSI, c->ts_local, c->n_ts_local);
	vpnr__ike_add_ts(b, VPNR__PL_TSR, c->ts_remote, c->n_ts_remote);
	return VPNR_OK;
}

static int
derive_child_dh(struct vpnr__dh *dh, const struct vpnr__ike_msg *msg,
    uint8_t *gir, size_t cap, size_t *glen)
{
	if (!msg->has_ke || msg->ke_group != vpnr__dh_group(dh))
		return VPNR_ERR_MALFORMED;
	return vpnr__dh_derive(dh, msg->ke_data, msg->ke_len, gir, cap, glen);
}

int
vpnr__child_respond(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_msg *msg, struct vpnr__ike_builder *b, int in_auth,
    struct child_sa *rekeyed, vpnr_tstamp now, struct child_sa **created)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__suite suite;
	struct vpnr__dh *dh = NULL;
	vpnr_ts tsi[VPNR__IKE_MAX_TS], tsr[VPNR__IKE_MAX_TS];
	uint8_t km[4 * VPNR__MAX_KEY_LEN], gir[VPNR__MAX_KE_LEN];
	uint8_t nr[VPNR__IKE_NONCE_LEN], ke[VPNR__MAX_KE_LEN], spi[4], g[2];
	const uint8_t *ni, *np;
	size_t chosen = 0, nti, ntr, glen = 0, ni_len, np_len, kmlen, kelen = 0;
	uint32_t spi_in, spi_out;
	int rv;

	*created = NULL;
	rv = vpnr__prop_select_ex(cfg->esp, cfg->n_esp, &msg->sa,
	    msg->has_ke ? msg->ke_group : 0, in_auth ? VPNR__PROP_NO_DH : 0,
	    &suite, &chosen);
	if (rv != VPNR_OK || msg->sa.p[chosen].spi_len != 4) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "no acceptable ESP proposal");
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_NO_PROPOSAL_CHOSEN,
		    NULL, 0);
		return VPNR_ERR_NO_PROPOSAL;
	}
	spi_out = get_spi(msg->sa.p[chosen].spi);
	nti = vpnr__ts_narrow(msg->tsi.ts, msg->has_tsi ? msg->tsi.n : 0,
	    cfg->ts_remote, cfg->n_ts_remote, tsi, VPNR__IKE_MAX_TS);
	ntr = vpnr__ts_narrow(msg->tsr.ts, msg->has_tsr ? msg->tsr.n : 0,
	    cfg->ts_local, cfg->n_ts_local, tsr, VPNR__IKE_MAX_TS);
	if (nti == 0 || ntr == 0) {
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "traffic selectors unacceptable");
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TS_UNACCEPTABLE,
		    NULL, 0);
		return VPNR_ERR_TS_UNACCEPTABLE;
	}
	if (in_auth) {
		ni = sa->ni;
		ni_len = sa->ni_len;
		np = sa->nr;
		np_len = sa->nr_len;
	} else {
		if (!msg->has_nonce || msg->nonce_len < 16 ||
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
				g[0] = (uint8_t)(suite.dh >> 8);
				g[1] = (uint8_t)suite.dh;
				vpnr__ike_add_notify(b, 0, NULL, 0,
				    VPNR__N_INVALID_KE_PAYLOAD, g, 2);
				return VPNR_ERR_NO_PROPOSAL;
			}
			if ((rv = vpnr__dh_new(suite.dh, &dh)) != VPNR_OK)
				return rv;
			kelen = vpnr__dh_public_len(suite.dh);
			rv = vpnr__dh_public(dh, ke, kelen);
			if (rv == VPNR_OK)
				rv = derive_child_dh(dh, msg, gir, sizeof(gir),
				    &glen);
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
	if (rv != VPNR_OK)
		goto done;
	/* TSi is the initiator's (the peer's) side: our remote. */
	rv = install(ctx, sa, &suite, spi_in, spi_out, km, 0, tsr, ntr, tsi,
	    nti, now, created);
	if (rv != VPNR_OK) {
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_TEMPORARY_FAILURE,
		    NULL, 0);
		goto done;
	}
	put_spi(spi, spi_in);
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, spi, 4);
	vpnr__ike_add_sa(b, &sapl);
	if (!in_auth) {
		vpnr__ike_add_nonce(b, nr, sizeof(nr));
		if (kelen > 0)
			vpnr__ike_add_ke(b, suite.dh, ke, kelen);
		if (rekeyed != NULL) {
			memcpy(rekeyed->peer_rekey_nonce, ni, ni_len);
			rekeyed->peer_rekey_nonce_len = ni_len;
			nonce_min(ni, ni_len, nr, sizeof(nr),
			    rekeyed->peer_rekey_nonce,
			    &rekeyed->peer_rekey_nonce_len);
		}
	}
	vpnr__ike_add_ts(b, VPNR__PL_TSI, tsi, nti);
	vpnr__ike_add_ts(b, VPNR__PL_TSR, tsr, ntr);
done:
	explicit_bzero(km, sizeof(km));
	return rv;
}

int
vpnr__child_complete(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_msg *msg, int in_auth, struct child_sa *rekeyed,
    vpnr_tstamp now, struct child_sa **created)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
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
		if (!msg->has_nonce || msg->nonce_len < 16 ||
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
			rv = derive_child_dh(sa->req_dh, msg, gir, sizeof(gir),
			    &glen);
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
		rv = install(ctx, sa, &suite, sa->req_spi,
		    get_spi(msg->sa.p[0].spi), km, 1, msg->tsi.ts, msg->tsi.n,
		    msg->tsr.ts, msg->tsr.n, now, created);
	explicit_bzero(km, sizeof(km));
	if (rv == VPNR_OK && rekeyed == NULL)
		vpnr__tunnel_event(ctx, sa->tun, VPNR_TUNNEL_EV_CHILD_UP, 0, 0,
		    (*created)->id);
	if (rv == VPNR_OK)
		vpnr__tunnel_child_changed(ctx, sa->tun, now);
	return rv;
}

/* ---- rekeying ---- */

int
vpnr__child_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[4], old[4], ke[VPNR__MAX_KE_LEN];
	uint16_t group;
	size_t kelen = 0;
	int rv;

	group = c->suite.dh != 0 ? c->suite.dh :
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
	sa->req_spi = vpnr__child_alloc_spi(ctx, sa);
	sa->req_nonce_len = VPNR__IKE_NONCE_LEN;
	if (sa->req_spi == 0 ||
	    vpnr__random(ctx, sa->req_nonce, sa->req_nonce_len) != VPNR_OK)
		return VPNR_ERR_INTERNAL;
	put_spi(spi, sa->req_spi);
	put_spi(old, c->spi_in);
	rv = vpnr__prop_to_sa_ex(&sapl, cfg->esp, cfg->n_esp, spi, 4, group, 0);
	if (rv != VPNR_OK)
		return rv;
	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	vpnr__ike_add_notify(&b, VPNR__PROTO_ESP, old, 4, VPNR__N_REKEY_SA,
	    NULL, 0);
	vpnr__ike_add_sa(&b, &sapl);
	vpnr__ike_add_nonce(&b, sa->req_nonce, sa->req_nonce_len);
	if (kelen > 0)
		vpnr__ike_add_ke(&b, group, ke, kelen);
	vpnr__ike_add_ts(&b, VPNR__PL_TSI, c->ts_local, c->n_ts_local);
	vpnr__ike_add_ts(&b, VPNR__PL_TSR, c->ts_remote, c->n_ts_remote);
	rv = vpnr__ike_build_end(&b);
	if (rv == 0) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying CHILD_SA %08x_i %08x_o%s", c->spi_in, c->spi_out,
		    group ? " with PFS" : "");
		c->state = CHILD_REKEYING;
		c->peer_rekey_child = 0;
		sa->req_child = c->id;
		rv = vpnr__ike_send_request(ctx, sa, VPNR__IKE_CREATE_CHILD_SA,
		    &inner, vpnr__ike_build_first(&b), REQ_REKEY_CHILD, now);
		if (rv != VPNR_OK) {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + 30 * VPNR_SECONDS);
		}
	}
	vpnr__wbuf_free(&inner);
	return rv;
}

int
vpnr__ike_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now)
{
	struct vpnr__ike_sa_pl sapl;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[8], ke[VPNR__MAX_KE_LEN];
	size_t kelen;
	int rv, i;

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
	for (i = 0; i < 8; i++)
		spi[i] = (uint8_t)(sa->req_ike_spi >> (56 - 8 * i));
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
	memcpy(n->ni, ni, ni_len);
	n->ni_len = ni_len;
	memcpy(n->nr, nr, nr_len);
	n->nr_len = nr_len;
	n->local = old->local;
	n->remote = old->remote;
	n->natt = old->natt;
	n->nat_flags = old->nat_flags;
	if (vpnr__ike_keymat(n, old->keys.sk_d, old->keys.prf_len,
		old->suite.prf, gir, glen) != VPNR_OK) {
		vpnr__ike_sa_free(ctx, n);
		return NULL;
	}
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
	vpnr__timer_arm(ctx, &old->life_timer, now + 4 * VPNR__IKE_DELETE_TMO);
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
}

static int
ike_rekey_request(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_msg *msg,
    struct vpnr__ike_builder *b, vpnr_tstamp now, struct ike_sa **created)
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
	int rv, i;

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
		g[0] = (uint8_t)(suite.dh >> 8);
		g[1] = (uint8_t)suite.dh;
		vpnr__ike_add_notify(b, 0, NULL, 0, VPNR__N_INVALID_KE_PAYLOAD,
		    g, 2);
		return VPNR_OK;
	}
	if (!msg->has_nonce || msg->nonce_len < 16 ||
	    msg->nonce_len > VPNR__IKE_MAX_NONCE)
		return VPNR_ERR_MALFORMED;
	for (i = 0; i < 8; i++)
		peer_spi = peer_spi << 8 | msg->sa.p[chosen].spi[i];
	if ((rv = vpnr__random(ctx, nr, sizeof(nr))) != VPNR_OK)
		return rv;
	if ((rv = vpnr__dh_new(suite.dh, &dh)) != VPNR_OK)
		return rv;
	kelen = vpnr__dh_public_len(suite.dh);
	rv = vpnr__dh_public(dh, ke, kelen);
	if (rv == VPNR_OK)
		rv = derive_child_dh(dh, msg, gir, sizeof(gir), &glen);
	vpnr__dh_free(dh);
	if (rv != VPNR_OK)
		return rv;
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
	for (i = 0; i < 8; i++)
		spi[i] = (uint8_t)(n->spi_r >> (56 - 8 * i));
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, spi, 8);
	vpnr__ike_add_sa(b, &sapl);
	vpnr__ike_add_nonce(b, nr, sizeof(nr));
	vpnr__ike_add_ke(b, suite.dh, ke, kelen);
	nonce_min(msg->nonce, msg->nonce_len, nr, sizeof(nr),
	    sa->peer_rekey_nonce, &sa->peer_rekey_nonce_len);
	*created = n;
	return VPNR_OK;
}

int
vpnr__ike_create_child_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	const struct vpnr__ike_notify *rn;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	struct child_sa *old = NULL, *c = NULL;
	struct ike_sa *n = NULL;
	struct tunnel *t = sa->tun;
	int rv, collide = 0;

	vpnr__wbuf_init(&inner, ctx->mem, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &inner);
	if (!msg->has_sa || msg->sa.n == 0) {
		vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_INVALID_SYNTAX,
		    NULL, 0);
		rv = VPNR_OK;
	} else if (msg->sa.p[0].protocol == VPNR__PROTO_IKE) {
		collide = sa->req_type == REQ_REKEY_IKE;
		rv = ike_rekey_request(ctx, sa, msg, &b, now, &n);
	} else {
		rn = vpnr__ike_find_notify(msg, VPNR__N_REKEY_SA);
		if (rn != NULL) {
			if (rn->spi_len == 4 && rn->spi != NULL)
				old =
				    vpnr__child_by_spi_out(t, get_spi(rn->spi));
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
			collide = old->state == CHILD_REKEYING;
		}
		rv = vpnr__child_respond(ctx, sa, msg, &b, 0, old, now, &c);
		if (rv != VPNR_OK && rv > VPNR_ERR_FATAL &&
		    rv != VPNR_ERR_MALFORMED)
			rv = VPNR_OK; /* answered with an error notify */
	}
send:
	if (rv == VPNR_OK) {
		if ((rv = vpnr__ike_build_end(&b)) == 0)
			rv = vpnr__ike_send_response(ctx, sa,
			    VPNR__IKE_CREATE_CHILD_SA, msg->hdr.msg_id, &inner,
			    vpnr__ike_build_first(&b));
		sa->next_peer_id++;
	}
	vpnr__wbuf_free(&inner);
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
	if (c != NULL) {
		if (old == NULL) {
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_UP, 0,
			    0, c->id);
		} else if (collide) {
			old->peer_rekey_child = c->id;
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "CHILD_SA rekey collision on %08x_i %08x_o",
			    old->spi_in, old->spi_out);
		} else {
			vpnr__child_mark_rekeyed(ctx, old, now);
			old->replaced_by = c->id;
			t->child_rekeys++;
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_REKEYED,
			    0, 0, c->id);
		}
		vpnr__tunnel_child_changed(ctx, t, now);
	}
	return rv;
}

static int
child_rekey_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now)
{
	struct tunnel *t = sa->tun;
	struct child_sa *c, *n = NULL, *peer;
	uint8_t ours[VPNR__IKE_MAX_NONCE];
	size_t ours_len = 0;
	uint16_t err = 0;
	uint8_t i;
	int rv;

	c = vpnr__child_find(t, sa->req_child);
	for (i = 0; i < msg->n_notify; i++)
		if (msg->notify[i].type < 16384) {
			err = msg->notify[i].type;
			break;
		}
	if (c == NULL) {
		struct child_sa *o;
		int other = 0;

		/* Deleted meanwhile (crossed rekeys, losses): keep the new
		 * pair unless another one already replaced the old. */
		if (err != 0 || !msg->has_sa)
			return VPNR_OK;
		/* Closing: install nothing (the IKE DELETE removes the
		 * peer's half too). */
		if (t->state == VPNR_TUNNEL_CLOSING)
			return VPNR_OK;
		rv = vpnr__child_complete(ctx, sa, msg, 0, NULL, now, &n);
		if (rv != VPNR_OK)
			return vpnr_err_is_fatal(rv) ? rv : VPNR_OK;
		TAILQ_FOREACH(o, &t->children, entry)
			if (o != n &&
			    (o->state == CHILD_INSTALLED ||
				o->state == CHILD_REKEYING))
				other = 1;
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeyed CHILD_SA vanished meanwhile, %s %08x_i",
		    other ? "deleting redundant" : "keeping", n->spi_in);
		if (other) {
			vpnr__child_mark_rekeyed(ctx, n, now);
			return vpnr__ike_sa_task(ctx, sa, REQ_DELETE_CHILD,
			    n->id, now);
		}
		return VPNR_OK;
	}
	peer = vpnr__child_find(t, c->peer_rekey_child);
	if (err != 0 || !msg->has_sa) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying CHILD_SA %08x_i failed: notify %u", c->spi_in,
		    err);
		if (peer != NULL) {
			vpnr__child_mark_rekeyed(ctx, c, now);
			c->replaced_by = peer->id;
			t->child_rekeys++;
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_REKEYED,
			    0, 0, peer->id);
		} else {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + 30 * VPNR_SECONDS);
		}
		return VPNR_OK;
	}
	rv = vpnr__child_complete(ctx, sa, msg, 0, c, now, &n);
	if (rv != VPNR_OK) {
		if (vpnr_err_is_fatal(rv))
			return rv;
		/* The peer installed its side: have it removed again. */
		if (msg->sa.n == 1 && msg->sa.p[0].spi_len == 4)
			vpnr__ike_sa_task(ctx, sa, REQ_DELETE_SPI, sa->req_spi,
			    now);
		if (peer != NULL) {
			vpnr__child_mark_rekeyed(ctx, c, now);
		} else {
			c->state = CHILD_INSTALLED;
			vpnr__timer_arm(ctx, &c->rekey_timer,
			    now + 30 * VPNR_SECONDS);
		}
		return rv == VPNR_ERR_MALFORMED ? rv : VPNR_OK;
	}
	if (peer != NULL) {
		/* Collision: the exchange with the lowest nonce loses. */
		nonce_min(sa->req_nonce, sa->req_nonce_len, msg->nonce,
		    msg->nonce_len, ours, &ours_len);
		if (nonce_cmp(ours, ours_len, c->peer_rekey_nonce,
			c->peer_rekey_nonce_len) < 0) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "CHILD_SA rekey collision lost, deleting "
			    "redundant %08x_i",
			    n->spi_in);
			vpnr__child_mark_rekeyed(ctx, n, now);
			n->replaced_by = peer->id;
			vpnr__child_mark_rekeyed(ctx, c, now);
			c->replaced_by = peer->id;
			t->child_rekeys++;
			vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_REKEYED,
			    0, 0, peer->id);
			vpnr__ike_sa_task(ctx, sa, REQ_DELETE_CHILD, n->id,
			    now);
			return VPNR_OK;
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "CHILD_SA rekey collision won");
		/* The peer deletes its redundant one. */
		vpnr__child_mark_rekeyed(ctx, peer, now);
		peer->replaced_by = n->id;
	}
	vpnr__child_mark_rekeyed(ctx, c, now);
	c->replaced_by = n->id;
	t->child_rekeys++;
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_REKEYED, 0, 0, n->id);
	vpnr__ike_sa_task(ctx, sa, REQ_DELETE_CHILD, c->id, now);
	return VPNR_OK;
}

static int
ike_rekey_response(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_msg *msg,
    vpnr_tstamp now)
{
	const struct vpnr_tunnel_config *cfg = &sa->tun->cfg;
	struct vpnr__suite suite;
	struct ike_sa *n, *peer;
	uint8_t gir[VPNR__MAX_KE_LEN], ours[VPNR__IKE_MAX_NONCE];
	size_t glen = 0, ours_len = 0;
	uint64_t peer_spi = 0;
	int rv, i;

	peer = sa->peer_rekey_spi ? vpnr__ike_sa_find(ctx, sa->peer_rekey_spi) :
				    NULL;
	rv = VPNR_ERR_NO_PROPOSAL;
	if (msg->has_sa && msg->has_ke && msg->has_nonce &&
	    msg->nonce_len >= 16 && msg->nonce_len <= VPNR__IKE_MAX_NONCE)
		rv = vpnr__prop_accept(cfg->ike, cfg->n_ike, &msg->sa, &suite);
	if (rv == VPNR_OK &&
	    (msg->sa.p[0].spi_len != 8 || sa->req_dh == NULL ||
		suite.dh != vpnr__dh_group(sa->req_dh)))
		rv = VPNR_ERR_NO_PROPOSAL;
	if (rv == VPNR_OK)
		rv = derive_child_dh(sa->req_dh, msg, gir, sizeof(gir), &glen);
	if (rv != VPNR_OK) {
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "rekeying IKE_SA failed (%s)", vpnr_err_name(rv));
		if (peer != NULL && sa->tun->ike == sa)
			vpnr__ike_switch(ctx, sa, peer, now);
		else if (sa->state == IKE_ESTABLISHED)
			vpnr__timer_arm(ctx, &sa->rekey_timer,
			    now + 30 * VPNR_SECONDS);
		return VPNR_OK;
	}
	for (i = 0; i < 8; i++)
		peer_spi = peer_spi << 8 | msg->sa.p[0].spi[i];
	n = new_ike_sa(ctx, sa, 1, sa->req_ike_spi, peer_spi, &suite,
	    sa->req_nonce, sa->req_nonce_len, msg->nonce, msg->nonce_len, gir,
	    glen, now);
	explicit_bzero(gir, sizeof(gir));
	if (n == NULL)
		return VPNR_ERR_NOMEM;
	if (peer != NULL) {
		nonce_min(sa->req_nonce, sa->req_nonce_len, msg->nonce,
		    msg->nonce_len, ours, &ours_len);
		if (nonce_cmp(ours, ours_len, sa->peer_rekey_nonce,
			sa->peer_rekey_nonce_len) < 0) {
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "IKE_SA rekey collision lost, deleting redundant "
			    "%016llx_i %016llx_r",
			    (unsigned long long)n->spi_i,
			    (unsigned long long)n->spi_r);
			vpnr__ike_switch(ctx, sa, peer, now);
			n->state = IKE_REKEYED;
			vpnr__timer_disarm(ctx, &n->rekey_timer);
			vpnr__timer_disarm(ctx, &n->keepalive_timer);
			vpnr__ike_sa_task(ctx, n, REQ_DELETE_IKE, 0, now);
			return VPNR_OK;
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "IKE_SA rekey collision won");
		peer->state = IKE_REKEYED;
		vpnr__timer_disarm(ctx, &peer->rekey_timer);
		vpnr__timer_disarm(ctx, &peer->keepalive_timer);
		vpnr__timer_arm(ctx, &peer->life_timer,
		    now + 4 * VPNR__IKE_DELETE_TMO);
	}
	vpnr__ike_switch(ctx, sa, n, now);
	vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now);
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
		rv = ike_rekey_response(ctx, sa, msg, now);
	else
		rv = child_rekey_response(ctx, sa, msg, now);
	sa->req_type = REQ_NONE;
	if (sa->req_dh != NULL) {
		vpnr__dh_free(sa->req_dh);
		sa->req_dh = NULL;
	}
	explicit_bzero(sa->req_nonce, sizeof(sa->req_nonce));
	if (sa->state != IKE_DEAD && !vpnr_err_is_fatal(rv))
		rv = vpnr__ike_sa_next_task(ctx, sa, now);
	return rv;
}

/* ---- delete, expiry ---- */

int
vpnr__child_send_delete(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    vpnr_tstamp now)
{
	struct vpnr__ike_builder b;
	struct vpnr__wbuf inner;
	uint8_t spi[4];
	int rv;

	put_spi(spi, c->spi_in);
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

/*
 * Replaced by a new CHILD_SA; normally a DELETE (ours or the peer's)
 * removes it within a round trip.  If none came (losses, crossed
 * rekeys), the timer deletes it after a while.
 */
void
vpnr__child_mark_rekeyed(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	c->state = CHILD_REKEYED;
	vpnr__timer_arm(ctx, &c->rekey_timer, now + 3 * VPNR__IKE_DELETE_TMO);
}

static int
child_rekey_fire(vpnr_ctx *ctx, struct vpnr__timer *tm, vpnr_tstamp now)
{
	struct child_sa *c = tm->arg;
	struct tunnel *t = c->tun;

	if (c->state == CHILD_REKEYED) {
		if (t->ike == NULL || t->ike->state != IKE_ESTABLISHED) {
			vpnr__child_destroy(ctx, c, 1, now);
			return VPNR_OK;
		}
		vpnr__log(ctx, VPNR_LOG_INFO, "ike",
		    "replaced CHILD_SA %08x_i %08x_o still there, deleting",
		    c->spi_in, c->spi_out);
		return vpnr__ike_sa_task(ctx, t->ike, REQ_DELETE_CHILD, c->id,
		    now);
	}

	if (c->state != CHILD_INSTALLED || t->ike == NULL ||
	    t->ike->state != IKE_ESTABLISHED)
		return VPNR_OK;
	return vpnr__ike_sa_task(ctx, t->ike, REQ_REKEY_CHILD, c->id, now);
}

int
vpnr__child_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct tunnel *t;
	struct child_sa *c;

	if (ike == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_FOREACH(t, tunnel_tree, &ike->tunnels) {
		TAILQ_FOREACH(c, &t->children, entry) {
			if (c->sa_id_in != sa_id && c->sa_id_out != sa_id)
				continue;
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "CHILD_SA %08x_i %08x_o hit its %s lifetime",
			    c->spi_in, c->spi_out, hard ? "hard" : "soft");
			if (t->ike == NULL ||
			    t->ike->state != IKE_ESTABLISHED) {
				if (hard)
					vpnr__child_destroy(ctx, c, 0, now);
				return VPNR_OK;
			}
			if (hard)
				return vpnr__ike_sa_task(ctx, t->ike,
				    REQ_DELETE_CHILD, c->id, now);
			if (c->state != CHILD_INSTALLED)
				return VPNR_OK;
			return vpnr__ike_sa_task(ctx, t->ike, REQ_REKEY_CHILD,
			    c->id, now);
		}
	}
	return VPNR_ERR_NOT_FOUND;
}
