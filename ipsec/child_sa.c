/*
 * CHILD_SAs of either IKE version, whatever exchange made them: SPI
 * allocation and the indexes (by id, by inbound SPI, SPIs offered),
 * installation through the data plane (asynchronous completion, held
 * responses released), CHILD_UP / CHILD_REKEYED / CHILD_DOWN, the
 * removal, the rekey and expiry timers.  It sits beside the window
 * (ike_sa.c), whose task queue it uses; the exchanges (ike_child.c,
 * ike_auth.c, ike_info.c, ikev1_*) call into it (layers: ike_exch.h).
 */
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "ctx.h"
#include "dp.h"
#include "ike.h"
#include "ike_exch.h"
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

int
vpnr__tunnel_has_child(const struct tunnel *t)
{
	const struct child_sa *c;

	TAILQ_FOREACH(c, &t->children, entry)
		if (vpnr__child_live(c) || c->state == CHILD_INSTALLING)
			return 1;
	return 0;
}

void
vpnr__child_failed(vpnr_ctx *ctx, struct tunnel *t, int err, uint16_t notify,
    uint64_t sa_id, vpnr_tstamp now)
{
	t->last_error = err;
	vpnr__tunnel_event(ctx, t, VPNR_TUNNEL_EV_FAILED, err, notify, sa_id);
	if (t->ike == NULL || t->ike->state != IKE_ESTABLISHED ||
	    vpnr__tunnel_has_child(t))
		return;
	if (vpnr__ike_guest(t)) {
		vpnr__ike_guest_emptied(ctx, t, err, notify, now);
		return;
	}
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
void
vpnr__child_settle(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
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
	vpnr__child_settle(ctx, c, now);
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
		    now + VPNR__IKE_REKEY_RETRY);
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

void
vpnr__child_install_wait(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	if (c->state == CHILD_INSTALLING && c->pending == 0)
		child_ready(ctx, c, now);
}

/* ---- replaced, rekey and install timer, expiry ---- */

/*
 * Replaced by a new CHILD_SA; normally a DELETE (ours or the peer's)
 * removes it within a round trip.  If none came (losses, crossed
 * rekeys), the timer deletes it after a while.
 */
void
vpnr__child_mark_rekeyed(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now)
{
	c->state = CHILD_REKEYED;
	vpnr__timer_arm(ctx, &c->rekey_timer, now + VPNR__CHILD_REKEYED_TMO);
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
		vpnr__timer_arm(ctx, tm, now + VPNR__IKE_V1_REKEY_RETRY);
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
