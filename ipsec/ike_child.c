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

static int
child_id_cmp(const struct child_sa *a, const struct child_sa *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(vpnr__child_id_tree, child_sa, id_entry, child_id_cmp)

/* By inbound SPI, then id: a data plane's get_spi may repeat one. */
static int
child_spi_cmp(const struct child_sa *a, const struct child_sa *b)
{
	if (a->spi_in != b->spi_in)
		return a->spi_in < b->spi_in ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(vpnr__child_spi_tree, child_sa, spi_entry, child_spi_cmp)

/* Offered SPIs by value, then by the offering IKE SA. */
static int
req_spi_cmp(const struct ike_sa *a, const struct ike_sa *b)
{
	if (a->req_spi != b->req_spi)
		return a->req_spi < b->req_spi ? -1 : 1;
	return a->local_spi < b->local_spi ? -1 : a->local_spi > b->local_spi;
}
RB_GENERATE(vpnr__req_spi_tree, ike_sa, req_spi_entry, req_spi_cmp)

struct child_sa *
vpnr__child_by_id(vpnr_ctx *ctx, uint64_t id)
{
	struct child_sa key;

	if (ctx->ike == NULL || id == 0)
		return NULL;
	key.id = id;
	return RB_FIND(vpnr__child_id_tree, &vpnr__ike(ctx)->children, &key);
}

/* install() takes sa_id_out right after sa_id_in, so a data-plane SA
 * id is the child's id or one more. */
struct child_sa *
vpnr__child_by_sa_id(vpnr_ctx *ctx, uint64_t sa_id)
{
	struct child_sa *c;

	if ((c = vpnr__child_by_id(ctx, sa_id)) != NULL)
		return c;
	if (sa_id > 1 && (c = vpnr__child_by_id(ctx, sa_id - 1)) != NULL &&
	    c->sa_id_out == sa_id)
		return c;
	return NULL;
}

void
vpnr__ike_sa_set_req_spi(vpnr_ctx *ctx, struct ike_sa *sa, uint32_t spi)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);

	if (sa->req_spi_indexed) {
		RB_REMOVE(vpnr__req_spi_tree, &ike->req_spis, sa);
		sa->req_spi_indexed = 0;
	}
	sa->req_spi = spi;
	if (spi != 0) {
		RB_INSERT(vpnr__req_spi_tree, &ike->req_spis, sa);
		sa->req_spi_indexed = 1;
	}
}

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
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct child_sa ckey, *c;
	struct ike_sa skey, *sa;

	ckey.spi_in = spi;
	ckey.id = 0;
	c = RB_NFIND(vpnr__child_spi_tree, &ike->child_spis, &ckey);
	if (c != NULL && c->spi_in == spi)
		return 1;
	/* Offered in an outstanding IKE_AUTH / CREATE_CHILD_SA request:
	 * installed only when the response arrives.  An SA keeps its last
	 * offer indexed after the request ended; that one is free. */
	skey.req_spi = spi;
	skey.local_spi = 0;
	for (sa = RB_NFIND(vpnr__req_spi_tree, &ike->req_spis, &skey);
	     sa != NULL && sa->req_spi == spi;
	     sa = RB_NEXT(vpnr__req_spi_tree, &ike->req_spis, sa))
		if (sa->req_type != REQ_NONE)
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

void
vpnr__child_arm_rekey(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	vpnr_tstamp t = c->tun->cfg.child_rekey;

	if (t == 0)
		return;
	vpnr__timer_arm(ctx, &c->rekey_timer, now + t);
}

/* Our rekey request of c is outstanding: a peer's rekey of c crosses
 * it.  (CHILD_REKEYING lasts until our new pair is installed.) */
int
vpnr__child_collides(const struct ike_sa *sa, const struct child_sa *c)
{
	return sa->req_type == REQ_REKEY_CHILD && sa->req_child == c->id;
}

int
vpnr__child_live(const struct child_sa *c)
{
	return c->state == CHILD_INSTALLED || c->state == CHILD_REKEYING;
}

void
vpnr__child_failed(vpnr_ctx *ctx, struct tunnel *t, int err, uint16_t notify,
    uint64_t sa_id, vpnr_tstamp now)
{
	struct child_sa *c;

	t->last_error = err;
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED, err, notify, sa_id);
	if (t->ike == NULL || t->ike->state != IKE_ESTABLISHED)
		return;
	TAILQ_FOREACH(c, &t->children, entry)
		if (vpnr__child_live(c) || c->state == CHILD_INSTALLING)
			return;
	vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
	    "tunnel %llu: IKE_SA left without a CHILD_SA, deleting it",
	    (unsigned long long)t->id);
	vpnr__tunnel_fail(ctx, t, err, notify, now);
}

/* Queue a request whose failure only needs a log line. */
static void
child_task(vpnr_ctx *ctx, struct ike_sa *sa, int type, uint64_t child_id,
    vpnr_tstamp now)
{
	int rv;

	if ((rv = vpnr__ike_sa_task(ctx, sa, type, child_id, now)) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "could not queue request %d: %s", type, vpnr_err_name(rv));
}

/* The one place CHILD_UP / CHILD_REKEYED are said: only for an
 * installed pair, which from then on also gets its CHILD_DOWN. */
static void
child_announce(vpnr_ctx *ctx, struct child_sa *c, uint32_t type)
{
	c->up_reported = 1;
	vpnr__tunnel_event(ctx, c->tun, type, 0, 0, c->id);
}

/*
 * An installed CHILD_SA takes the place its creating exchange gave
 * it: CHILD_UP, or (make-before-break) the switch from the pair it
 * replaces, whose DELETE starts only now.  A pair that lost a rekey
 * collision (replaced_by set) is redundant instead: the rekey's
 * initiator deletes it.  A CHILD_ROLE_COLLIDE pair waits here until
 * child_rekey_response() decides (2.8.1) and calls again.
 */
static void
child_settle(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	struct tunnel *t = c->tun;
	struct child_sa *old = NULL;
	int ike_up = t->ike != NULL && t->ike->state == IKE_ESTABLISHED;

	if (c->replaced_by != 0) {
		vpnr__child_mark_rekeyed(ctx, c, now);
		if (c->role == CHILD_ROLE_REKEY_I && ike_up)
			child_task(ctx, t->ike, REQ_DELETE_CHILD, c->id, now);
		return;
	}
	if (c->role == CHILD_ROLE_COLLIDE)
		return;
	if (c->rekey_of != 0 &&
	    (old = vpnr__child_find(t, c->rekey_of)) != NULL &&
	    !vpnr__child_live(old))
		old = NULL;
	if (old != NULL) {
		vpnr__child_mark_rekeyed(ctx, old, now);
		old->replaced_by = c->id;
		t->child_rekeys++;
		child_announce(ctx, c, VPNR_TUNNEL_EV_CHILD_REKEYED);
		/* The rekey initiator deletes the old pair. */
		if (c->role == CHILD_ROLE_REKEY_I && vpnr__tunnel_v1(t))
			vpnr__v1_child_delete(ctx, old, now);
		else if (c->role == CHILD_ROLE_REKEY_I && ike_up)
			child_task(ctx, t->ike, REQ_DELETE_CHILD, old->id, now);
	} else {
		/* New, or the pair it replaces vanished meanwhile. */
		child_announce(ctx, c, VPNR_TUNNEL_EV_CHILD_UP);
	}
	vpnr__tunnel_child_changed(ctx, t, now);
}

/*
 * Every install op of c completed: the CHILD_SA carries traffic now.
 * A held response goes out first, whatever happened meanwhile.
 */
static void
child_ready(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	struct tunnel *t = c->tun;
	vpnr_tstamp d;

	vpnr__ike_release_response(ctx, c->id, 1);
	if (c->state != CHILD_INSTALLING)
		return; /* being deleted meanwhile */
	c->state = CHILD_INSTALLED;
	c->installed_at = now;
	vpnr__timer_disarm(ctx, &c->rekey_timer); /* the install deadline */
	d = t->cfg.child_rekey;
	/* IKEv1: the proposed lifetime, or the peer's shorter one, and
	 * a rekey at 90 % of it (the responder at 95 %). */
	if (vpnr__tunnel_v1(t) && c->life != 0 &&
	    (d == 0 || (vpnr_tstamp)c->life * VPNR_SECONDS < d))
		d = (vpnr_tstamp)c->life * VPNR_SECONDS;
	if (vpnr__tunnel_v1(t) && d != 0)
		d = d / 100 * (c->we_init ? 90 : 95);
	if (d != 0) {
		d = c->we_init ? vpnr__jitter(ctx, d, t->cfg.jitter_percent) :
				 d + d / 20;
		vpnr__timer_arm(ctx, &c->rekey_timer, now + d);
	}
	child_settle(ctx, c, now);
}

/*
 * An install op failed (at once, later, or by missing its deadline;
 * or a replayed op of a live CHILD_SA): the CHILD_SA goes, with the
 * peer (its DELETE, or the TEMPORARY_FAILURE answer a held response
 * turns into); a pair being rekeyed stays in use and is rekeyed again
 * later.
 */
static void
child_install_failed(vpnr_ctx *ctx, struct child_sa *c, int status,
    vpnr_tstamp now)
{
	struct tunnel *t = c->tun;
	struct child_sa *old;
	uint64_t id = c->id;
	int told, err;

	err =
	    status == VPNR_ERR_TIMEOUT ? VPNR_ERR_TIMEOUT : VPNR_ERR_DATAPLANE;
	vpnr__log(ctx, VPNR_LOG_ERR, "ike",
	    "data plane failed to install CHILD_SA %08x_i %08x_o: %s",
	    c->spi_in, c->spi_out, vpnr_err_name(status));
	told = vpnr__ike_release_response(ctx, id, 0);
	c->state = CHILD_FAILED;
	c->down_reason = err;
	vpnr__timer_disarm(ctx, &c->rekey_timer);
	if (c->rekey_of != 0 &&
	    (old = vpnr__child_find(t, c->rekey_of)) != NULL &&
	    old->state == CHILD_REKEYING) {
		old->state = CHILD_INSTALLED;
		vpnr__timer_arm(ctx, &old->rekey_timer,
		    now + 30 * VPNR_SECONDS);
	}
	if (vpnr__tunnel_v1(t))
		vpnr__v1_child_delete(ctx, c, now);
	else if (told || t->ike == NULL || t->ike->state != IKE_ESTABLISHED)
		vpnr__child_destroy(ctx, c, 0, now);
	else
		child_task(ctx, t->ike, REQ_DELETE_CHILD, id, now);
	vpnr__child_failed(ctx, t, err, told ? VPNR__N_TEMPORARY_FAILURE : 0,
	    id, now);
}

/*
 * An install op finished later (cookie: the CHILD_SA id).  Ops of
 * CHILD_SAs gone meanwhile are ignored: the id is never reused.  The
 * last one releases a held answer whatever the CHILD_SA's state; a
 * replayed op reports only its failure (lib/dp.c), so it never counts.
 */
static void
dp_done(vpnr_ctx *ctx, uint64_t cookie, int status, vpnr_tstamp now)
{
	struct child_sa *c = vpnr__child_by_id(ctx, cookie);

	if (c == NULL)
		return;
	if (c->pending > 0)
		c->pending--;
	if (status < 0) {
		if (c->state == CHILD_INSTALLING || vpnr__child_live(c))
			child_install_failed(ctx, c, status, now);
		return;
	}
	if (c->pending == 0)
		child_ready(ctx, c, now);
}

static void
fill_sa(const struct vpnr__child_spec *sp, struct child_sa *c, int dir,
    vpnr_child_sa *o)
{
	struct tunnel *t = sp->tun;

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
		o->src = sp->remote;
		o->dst = sp->local;
		o->replay_window = t->cfg.replay_window;
	} else {
		o->sa_id = c->sa_id_out;
		o->spi = c->spi_out;
		o->src = sp->local;
		o->dst = sp->remote;
	}
	if (sp->natt)
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

/* One install op's result: counts an asynchronous one. */
static int
install_op(struct child_sa *c, int rv)
{
	if (rv == VPNR_ASYNC) {
		c->pending++;
		return VPNR_OK;
	}
	return rv;
}

/* One policy per selector pair and direction (RFC 4301 SPD entries). */
static int
install_policies(vpnr_ctx *ctx, struct child_sa *c)
{
	vpnr_policy pol;
	uint64_t id = c->policy_base;
	size_t i, j;
	int dir, rv;

	for (i = 0; i < c->n_ts_local; i++)
		for (j = 0; j < c->n_ts_remote; j++)
			for (dir = VPNR_DIR_IN; dir <= VPNR_DIR_OUT; dir++) {
				memset(&pol, 0, sizeof(pol));
				pol.policy_id = id++;
				pol.tunnel_id = c->tun->id;
				pol.direction = (uint8_t)dir;
				pol.out_sa_id =
				    dir == VPNR_DIR_OUT ? c->sa_id_out : 0;
				pol.ts_local = c->ts_local[i];
				pol.ts_remote = c->ts_remote[j];
				pol.if_id = c->tun->cfg.if_id;
				rv = install_op(c,
				    vpnr__dp_policy_add(ctx, &pol, dp_done,
					c->id));
				if (rv != VPNR_OK)
					return rv;
			}
	return VPNR_OK;
}

/*
 * Install a CHILD_SA pair and its policies (either IKE version).  The
 * CHILD_SA stays CHILD_INSTALLING until every op completed:
 * child_ready() runs then (the caller runs it, through
 * vpnr__child_install_wait(), when none was asynchronous).  A
 * synchronous failure removes it at once.
 */
int
vpnr__child_install(vpnr_ctx *ctx, const struct vpnr__child_spec *sp,
    vpnr_tstamp now, struct child_sa **out)
{
	const struct vpnr__suite *suite = sp->suite;
	struct tunnel *t = sp->tun;
	struct child_sa *c;
	vpnr_child_sa o;
	size_t ek, ik, ntsl = sp->ntsl, ntsr = sp->ntsr;
	char s[128], a[256], b[256];
	int rv;

	ek = vpnr__encr_keymat_len(suite->encr, suite->encr_bits);
	ik = suite->integ ? vpnr__integ_key_len(suite->integ) : 0;
	c = vpnr__calloc(ctx->mem, 1, sizeof(*c));
	if (c == NULL)
		return VPNR_ERR_NOMEM;
	c->tun = t;
	c->suite = *suite;
	c->spi_in = sp->spi_in;
	c->spi_out = sp->spi_out;
	c->sa_id_in = vpnr__ctx_new_id(ctx);
	c->sa_id_out = vpnr__ctx_new_id(ctx);
	c->id = c->sa_id_in;
	c->state = CHILD_INSTALLING;
	c->role = sp->role;
	c->we_init = sp->we_init;
	c->rekey_of = sp->rekey_of;
	c->installed_at = now;
	if (ntsl > VPNR__IKE_MAX_TS)
		ntsl = VPNR__IKE_MAX_TS;
	if (ntsr > VPNR__IKE_MAX_TS)
		ntsr = VPNR__IKE_MAX_TS;
	/* The selectors in one block sized to them (usually one each). */
	c->ts_local = vpnr__calloc(ctx->mem, ntsl + ntsr > 0 ? ntsl + ntsr : 1,
	    sizeof(vpnr_ts));
	if (c->ts_local == NULL) {
		vpnr__free(ctx->mem, c);
		return VPNR_ERR_NOMEM;
	}
	c->ts_remote = c->ts_local + ntsl;
	memcpy(c->ts_local, sp->tsl, ntsl * sizeof(*sp->tsl));
	memcpy(c->ts_remote, sp->tsr, ntsr * sizeof(*sp->tsr));
	c->n_ts_local = ntsl;
	c->n_ts_remote = ntsr;
	c->n_policies = (uint32_t)(2 * ntsl * ntsr);
	c->policy_base = vpnr__ctx_new_ids(ctx, c->n_policies);
	vpnr__timer_init(&c->rekey_timer, child_rekey_fire, c);
	TAILQ_INSERT_TAIL(&t->children, c, entry);
	RB_INSERT(vpnr__child_id_tree, &vpnr__ike(ctx)->children, c);
	RB_INSERT(vpnr__child_spi_tree, &vpnr__ike(ctx)->child_spis, c);
	fill_sa(sp, c, VPNR_DIR_IN, &o);
	o.encr_key = sp->key_in;
	o.encr_key_len = ek;
	o.integ_key = ik ? o.encr_key + ek : NULL;
	o.integ_key_len = ik;
	rv = install_op(c, vpnr__dp_sa_add(ctx, &o, dp_done, c->id));
	if (rv != VPNR_OK)
		goto fail;
	fill_sa(sp, c, VPNR_DIR_OUT, &o);
	o.encr_key = sp->key_out;
	o.encr_key_len = ek;
	o.integ_key = ik ? o.encr_key + ek : NULL;
	o.integ_key_len = ik;
	rv = install_op(c, vpnr__dp_sa_add(ctx, &o, dp_done, c->id));
	explicit_bzero(&o, sizeof(o));
	if (rv != VPNR_OK || (rv = install_policies(ctx, c)) != VPNR_OK)
		goto fail;
	/* A completion that never comes fails the install (and frees a
	 * held answer) instead of holding the IKE SA for ever. */
	if (c->pending > 0)
		vpnr__timer_arm(ctx, &c->rekey_timer,
		    now + VPNR__IKE_INSTALL_TMO);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "CHILD_SA %s SPIs %08x_i %08x_o, %s%s, TS %s === %s",
	    c->pending > 0 ? "installing" : "installed", c->spi_in, c->spi_out,
	    vpnr__suite_str(suite, s, sizeof(s)),
	    sp->natt ? ", UDP-encapsulated" : "",
	    ts_list_str(c->ts_local, c->n_ts_local, a, sizeof(a)),
	    ts_list_str(c->ts_remote, c->n_ts_remote, b, sizeof(b)));
	*out = c;
	return VPNR_OK;
fail:
	vpnr__log(ctx, VPNR_LOG_ERR, "ike",
	    "data plane refused CHILD_SA %08x_i %08x_o: %s", sp->spi_in,
	    sp->spi_out, vpnr_err_name(rv));
	vpnr__child_destroy(ctx, c, 1, now);
	return rv == VPNR_ERR_CALLBACK_FAILURE || vpnr_err_is_fatal(rv) ?
	    rv :
	    VPNR_ERR_DATAPLANE;
}

/*
 * An IKEv2 CHILD_SA: keymat is i->r encr | integ | r->i encr | integ;
 * we_init says whether we initiated the creating exchange.
 */
static int
install(vpnr_ctx *ctx, struct ike_sa *sa, const struct vpnr__suite *suite,
    uint32_t spi_in, uint32_t spi_out, const uint8_t *km, int we_init, int role,
    uint64_t rekey_of, const vpnr_ts *tsl, size_t ntsl, const vpnr_ts *tsr,
    size_t ntsr, vpnr_tstamp now, struct child_sa **out)
{
	struct vpnr__child_spec sp;
	size_t ek, ik;

	ek = vpnr__encr_keymat_len(suite->encr, suite->encr_bits);
	ik = suite->integ ? vpnr__integ_key_len(suite->integ) : 0;
	memset(&sp, 0, sizeof(sp));
	sp.tun = sa->tun;
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

/* Remove c's policies and SAs from the data plane; policies first, so
 * that no traffic is steered to an SA being removed. */
void
vpnr__child_dp_remove(vpnr_ctx *ctx, struct child_sa *c)
{
	uint32_t k;

	for (k = 0; k < c->n_policies; k++)
		vpnr__dp_policy_del(ctx, c->policy_base + k, NULL, 0);
	vpnr__dp_sa_del(ctx, c->sa_id_in, NULL, 0);
	vpnr__dp_sa_del(ctx, c->sa_id_out, NULL, 0);
}

void
vpnr__child_destroy(vpnr_ctx *ctx, struct child_sa *c, int quiet,
    vpnr_tstamp now)
{
	struct tunnel *t = c->tun;
	uint64_t id = c->id;
	int reason = c->down_reason, report = !quiet && c->up_reported;

	/* Removed while its answer waits (a close): the peer is told
	 * it failed, and our own requests may go out again. */
	if (c->held_spi != 0)
		vpnr__ike_release_response(ctx, c->id, 0);
	vpnr__timer_disarm(ctx, &c->rekey_timer);
	TAILQ_REMOVE(&t->children, c, entry);
	RB_REMOVE(vpnr__child_id_tree, &vpnr__ike(ctx)->children, c);
	RB_REMOVE(vpnr__child_spi_tree, &vpnr__ike(ctx)->child_spis, c);
	vpnr__child_dp_remove(ctx, c);
	vpnr__log(ctx, VPNR_LOG_INFO, "ike", "CHILD_SA %08x_i %08x_o removed",
	    c->spi_in, c->spi_out);
	vpnr__free(ctx->mem, c->ts_local);
	vpnr__freezero(ctx->mem, c->peer_rekey_nonce, c->peer_rekey_nonce_len);
	vpnr__freezero(ctx->mem, c, sizeof(*c));
	if (report)
		vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_CHILD_DOWN, reason, 0,
		    id);
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
    struct child_sa *rekeyed, vpnr_tstamp now, struct child_sa **created,
    uint16_t *notify)
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
				*notify = VPNR__N_INVALID_KE_PAYLOAD;
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
	/* Crossing rekeys: the lower nonce of the peer's exchange decides
	 * against ours when our response comes (2.8.1). */
	if (rv == VPNR_OK && role == CHILD_ROLE_COLLIDE)
		rv = vpnr__ike_keep_min_nonce(ctx, ni, ni_len, nr, sizeof(nr),
		    &rekeyed->peer_rekey_nonce, &rekeyed->peer_rekey_nonce_len);
	if (rv != VPNR_OK)
		goto done;
	/* TSi is the initiator's (the peer's) side: our remote. */
	rv = install(ctx, sa, &suite, spi_in, spi_out, km, 0, role,
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
		    vpnr__get_be32(msg->sa.p[0].spi), km, 1,
		    rekeyed != NULL ? CHILD_ROLE_REKEY_I : CHILD_ROLE_NEW_I,
		    rekeyed != NULL ? rekeyed->id : 0, msg->tsi.ts, msg->tsi.n,
		    msg->tsr.ts, msg->tsr.n, now, created);
	explicit_bzero(km, sizeof(km));
	return rv;
}

void
vpnr__child_install_wait(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	if (c->state == CHILD_INSTALLING && c->pending == 0)
		child_ready(ctx, c, now);
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
	vpnr__ike_sa_set_req_spi(ctx, sa, vpnr__child_alloc_spi(ctx, sa));
	sa->req_nonce_len = VPNR__IKE_NONCE_LEN;
	if (sa->req_spi == 0 ||
	    vpnr__random(ctx, sa->req_nonce, sa->req_nonce_len) != VPNR_OK)
		return VPNR_ERR_INTERNAL;
	vpnr__put_be32(spi, sa->req_spi);
	vpnr__put_be32(old, c->spi_in);
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
	/* The moved work starts now if n's window is free: else (say,
	 * a replaced CHILD_SA's DELETE) it waited for the next request
	 * someone queued on n, a DPD probe at best. */
	if (vpnr__ike_sa_next_task(ctx, n, now) != VPNR_OK)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "ike",
		    "queued work aborted by a callback");
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
	for (i = 0; i < 8; i++)
		spi[i] = (uint8_t)(n->spi_r >> (56 - 8 * i));
	vpnr__suite_to_sa(&sapl, &suite, msg->sa.p[chosen].num, spi, 8);
	vpnr__ike_add_sa(b, &sapl);
	vpnr__ike_add_nonce(b, nr, sizeof(nr));
	vpnr__ike_add_ke(b, suite.dh, ke, kelen);
	*created = n;
	return VPNR_OK;
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
		rv = ike_rekey_request(ctx, sa, msg, &b, now, &n);
	} else {
		rn = vpnr__ike_find_notify(msg, VPNR__N_REKEY_SA);
		if (rn != NULL) {
			if (rn->spi_len == 4 && rn->spi != NULL)
				old = vpnr__child_by_spi_out(t,
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
		}
		crv = rv = vpnr__child_respond(ctx, sa, msg, &b, 0, old, now,
		    &c, &notify);
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
 * ours failed): its pair replaces c once installed (child_settle).
 */
static void
peer_rekey_stands(vpnr_ctx *ctx, struct child_sa *c, struct child_sa *peer,
    vpnr_tstamp now)
{
	peer->role = CHILD_ROLE_REKEY_R;
	peer->rekey_of = c->id;
	if (peer->state == CHILD_INSTALLED)
		child_settle(ctx, peer, now);
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
	int rv, crv;

	c = vpnr__child_find(t, sa->req_child);
	for (i = 0; i < msg->n_notify; i++)
		if (msg->notify[i].type < 16384) {
			err = msg->notify[i].type;
			break;
		}
	if (c == NULL) {
		struct child_sa *o;
		uint64_t other = 0;

		/* Deleted meanwhile (crossed rekeys, losses): keep the new
		 * pair unless another one already replaced the old. */
		if (err != 0 || !msg->has_sa)
			return VPNR_OK;
		/* Closing: install nothing (the IKE DELETE removes the
		 * peer's half too). */
		if (t->state == VPNR_TUNNEL_CLOSING)
			return VPNR_OK;
		rv = vpnr__child_complete(ctx, sa, msg, 0, NULL, now, &n);
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
		/* Redundant: deleted once installed (child_settle). */
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
			    now + 30 * VPNR_SECONDS);
		}
		return VPNR_OK;
	}
	rv = vpnr__child_complete(ctx, sa, msg, 0, c, now, &n);
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
			    now + 30 * VPNR_SECONDS);
		}
		if (rv == VPNR_ERR_DATAPLANE)
			vpnr__child_failed(ctx, t, rv, 0, 0, now);
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
			child_settle(ctx, peer, now);
	}
	/* Make-before-break: c is replaced (CHILD_REKEYED) and deleted
	 * once every install op of n completed (child_ready). */
	vpnr__child_install_wait(ctx, n, now);
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
			return vpnr__ike_task_rv(
			    vpnr__ike_sa_task(ctx, n, REQ_DELETE_IKE, 0, now));
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
	return vpnr__ike_task_rv(
	    vpnr__ike_sa_task(ctx, sa, REQ_DELETE_IKE, 0, now));
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

/* ---- delete, expiry ---- */

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

	if (c->state == CHILD_INSTALLING) {
		vpnr__log(ctx, VPNR_LOG_ERR, "ike",
		    "CHILD_SA %08x_i %08x_o: %d data-plane op(s) not completed "
		    "in time",
		    c->spi_in, c->spi_out, c->pending);
		child_install_failed(ctx, c, VPNR_ERR_TIMEOUT, now);
		return VPNR_OK;
	}
	if (vpnr__tunnel_v1(t) && c->state == CHILD_INSTALLED) {
		/* Retried if no Quick Mode could start now. */
		vpnr__timer_arm(ctx, tm, now + 5 * VPNR_SECONDS);
		return vpnr__v1_child_start(ctx, t, c->id, now);
	}
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
	struct tunnel *t;
	struct child_sa *c;

	if ((c = vpnr__child_by_sa_id(ctx, sa_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	t = c->tun;
	vpnr__log(ctx, VPNR_LOG_INFO, "ike",
	    "CHILD_SA %08x_i %08x_o hit its %s lifetime", c->spi_in, c->spi_out,
	    hard ? "hard" : "soft");
	/* Its CHILD_DOWN says a configured limit ended it. */
	if (hard && c->down_reason == 0)
		c->down_reason = VPNR_ERR_LIMIT;
	if (vpnr__tunnel_v1(t)) {
		if (hard)
			vpnr__v1_child_delete(ctx, c, now);
		else if (c->state == CHILD_INSTALLED)
			return vpnr__v1_child_start(ctx, t, c->id, now);
		return VPNR_OK;
	}
	if (t->ike == NULL || t->ike->state != IKE_ESTABLISHED) {
		if (hard)
			vpnr__child_destroy(ctx, c, 0, now);
		return VPNR_OK;
	}
	if (hard)
		return vpnr__ike_sa_task(ctx, t->ike, REQ_DELETE_CHILD, c->id,
		    now);
	if (c->state != CHILD_INSTALLED)
		return VPNR_OK;
	return vpnr__ike_sa_task(ctx, t->ike, REQ_REKEY_CHILD, c->id, now);
}
