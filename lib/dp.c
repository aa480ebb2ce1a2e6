/*
 * Data-plane dispatch.  One completion rule for every op: the op is
 * entered in the pending table before its callback runs, so that
 * vpnr_dp_complete() is legal anywhere, even inside that callback; an
 * op answered with VPNR_ASYNC stays there until it is completed, and
 * its continuation (the engine's done_fn) always runs after the
 * current callback returns, queued through the context's guard.
 * Installed SAs (with their keys) and policies are copied so that
 * vpnr_dp_replay() can re-issue them through the same table; the
 * copies are wiped when deleted.  The copies are compact: an SA and
 * its keys are one allocation, a policy keeps no vpnr_policy (rebuilt
 * for each call), and the selectors are one block shared by the SAs
 * and policies of a CHILD_SA that carry the same ones.
 */
#include <sys/tree.h>

#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "dp.h"
#include "log.h"
#include "mem.h"

struct dp_pending {
	RB_ENTRY(dp_pending) entry;
	uint64_t op_id;
	const char *name;
	vpnr__dp_done_fn done_fn;
	uint64_t cookie;
	int kind;        /* OP_* */
	int add;         /* an add: a failure forgets the copy */
	int replay;      /* re-issued by vpnr_dp_replay() */
	uint64_t obj_id; /* the SA or policy id of an add */
	int in_call;     /* its callback is running */
	int completed;   /* vpnr_dp_complete() was called */
	int status;
};

/* Selectors, shared by reference: n_local, then the remote ones. */
struct dp_ts {
	uint32_t refs;
	uint32_t n;
	vpnr_ts ts[];
};

/* A vpnr_child_sa, compact (rebuilt for each call by sa_of()). */
struct dp_sa {
	RB_ENTRY(dp_sa) entry;
	uint64_t sa_id;
	uint64_t tunnel_id;
	void *tunnel_user_data;
	vpnr_addr src, dst;
	vpnr_lifetime soft, hard;
	struct dp_ts *ts;         /* n_ts_local, then remote; or NULL */
	vpnr__dp_done_fn done_fn; /* for replayed adds */
	uint64_t cookie;
	uint32_t spi;
	uint32_t replay_window;
	uint32_t if_id;
	uint16_t flags, encr_id, encr_key_bits, integ_id;
	uint8_t protocol, direction;
	uint16_t n_ts_local, n_ts_remote;
	uint16_t encr_key_len, integ_key_len;
	uint8_t keys[]; /* encr, then integ */
};

/* A vpnr_policy without its selectors, which are ts->ts[0] (local)
 * and ts->ts[1] (remote). */
struct dp_policy {
	RB_ENTRY(dp_policy) entry;
	uint64_t policy_id;
	uint64_t tunnel_id;
	uint64_t out_sa_id;
	uint32_t priority;
	uint32_t if_id;
	uint8_t direction;
	struct dp_ts *ts;
	vpnr__dp_done_fn done_fn;
	uint64_t cookie;
};

RB_HEAD(dp_pending_tree, dp_pending);
RB_HEAD(dp_sa_tree, dp_sa);
RB_HEAD(dp_policy_tree, dp_policy);

struct vpnr__dp_state {
	struct dp_pending_tree pending;
	struct dp_sa_tree sas;
	struct dp_policy_tree policies;
	vpnr__dp_expired_fn expired_fn;
	/* The last selector block made: the next SA or policy of the
	 * same CHILD_SA shares it (not a reference: cleared on free). */
	struct dp_ts *last_ts;
	/* A pending record kept from the last op answered at once: most
	 * ops (every route of a BGP table) need none after their call,
	 * and this spares an allocation and a free for each. */
	struct dp_pending *spare;
};

static int
pending_cmp(const struct dp_pending *a, const struct dp_pending *b)
{
	return a->op_id < b->op_id ? -1 : a->op_id > b->op_id;
}

static int
sa_cmp(const struct dp_sa *a, const struct dp_sa *b)
{
	return a->sa_id < b->sa_id ? -1 : a->sa_id > b->sa_id;
}

static int
policy_cmp(const struct dp_policy *a, const struct dp_policy *b)
{
	return a->policy_id < b->policy_id ? -1 : a->policy_id > b->policy_id;
}

RB_GENERATE_STATIC(dp_pending_tree, dp_pending, entry, pending_cmp)
RB_GENERATE_STATIC(dp_sa_tree, dp_sa, entry, sa_cmp)
RB_GENERATE_STATIC(dp_policy_tree, dp_policy, entry, policy_cmp)

static struct vpnr__dp_state *
dp_state(vpnr_ctx *ctx)
{
	if (ctx->dps == NULL) {
		ctx->dps = vpnr__calloc(ctx->mem, 1, sizeof(*ctx->dps));
		if (ctx->dps == NULL)
			return NULL;
		RB_INIT(&ctx->dps->pending);
		RB_INIT(&ctx->dps->sas);
		RB_INIT(&ctx->dps->policies);
	}
	return ctx->dps;
}

/* A block holding a then b (na + nb selectors): the last one made if
 * equal, else a new one.  NULL when empty or out of memory (*nomem). */
static struct dp_ts *
ts_hold(vpnr_ctx *ctx, const vpnr_ts *a, size_t na, const vpnr_ts *b, size_t nb,
    int *nomem)
{
	struct vpnr__dp_state *d = ctx->dps;
	struct dp_ts *t = d->last_ts;
	size_t n = na + nb;

	*nomem = 0;
	if (n == 0)
		return NULL;
	if (t != NULL && t->n == n &&
	    (na == 0 || memcmp(t->ts, a, na * sizeof(vpnr_ts)) == 0) &&
	    (nb == 0 || memcmp(t->ts + na, b, nb * sizeof(vpnr_ts)) == 0)) {
		t->refs++;
		return t;
	}
	t = vpnr__malloc(ctx->mem, sizeof(*t) + n * sizeof(vpnr_ts));
	if (t == NULL) {
		*nomem = 1;
		return NULL;
	}
	t->refs = 1;
	t->n = (uint32_t)n;
	if (na > 0)
		memcpy(t->ts, a, na * sizeof(vpnr_ts));
	if (nb > 0)
		memcpy(t->ts + na, b, nb * sizeof(vpnr_ts));
	d->last_ts = t;
	return t;
}

static void
ts_release(vpnr_ctx *ctx, struct dp_ts *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	if (ctx->dps != NULL && ctx->dps->last_ts == t)
		ctx->dps->last_ts = NULL;
	vpnr__free(ctx->mem, t);
}

static void
dp_sa_free(vpnr_ctx *ctx, struct dp_sa *s)
{
	ts_release(ctx, s->ts);
	vpnr__freezero(ctx->mem, s,
	    sizeof(*s) + s->encr_key_len + s->integ_key_len);
}

/* The vpnr_child_sa s stands for, for one call (keys: with them). */
static void
sa_of(const struct dp_sa *s, int keys, vpnr_child_sa *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa_id = s->sa_id;
	sa->tunnel_id = s->tunnel_id;
	sa->tunnel_user_data = s->tunnel_user_data;
	sa->spi = s->spi;
	sa->protocol = s->protocol;
	sa->direction = s->direction;
	sa->flags = s->flags;
	sa->src = s->src;
	sa->dst = s->dst;
	sa->encr_id = s->encr_id;
	sa->encr_key_bits = s->encr_key_bits;
	sa->integ_id = s->integ_id;
	if (keys) {
		sa->encr_key = s->keys;
		sa->encr_key_len = s->encr_key_len;
		sa->integ_key = s->keys + s->encr_key_len;
		sa->integ_key_len = s->integ_key_len;
	}
	sa->replay_window = s->replay_window;
	sa->if_id = s->if_id;
	sa->soft = s->soft;
	sa->hard = s->hard;
	sa->ts_local = s->n_ts_local > 0 ? s->ts->ts : NULL;
	sa->n_ts_local = s->n_ts_local;
	sa->ts_remote = s->n_ts_remote > 0 ? s->ts->ts + s->n_ts_local : NULL;
	sa->n_ts_remote = s->n_ts_remote;
}

static void
dp_policy_free(vpnr_ctx *ctx, struct dp_policy *q)
{
	ts_release(ctx, q->ts);
	vpnr__free(ctx->mem, q);
}

/* The vpnr_policy q stands for, for one call. */
static void
policy_of(const struct dp_policy *q, vpnr_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->policy_id = q->policy_id;
	pol->tunnel_id = q->tunnel_id;
	pol->direction = q->direction;
	pol->priority = q->priority;
	pol->out_sa_id = q->out_sa_id;
	pol->ts_local = q->ts->ts[0];
	pol->ts_remote = q->ts->ts[1];
	pol->if_id = q->if_id;
}

void
vpnr__dp_free(vpnr_ctx *ctx)
{
	struct vpnr__dp_state *d = ctx->dps;
	struct dp_pending *p, *pn;
	struct dp_sa *s, *sn;
	struct dp_policy *q, *qn;

	if (d == NULL)
		return;
	RB_FOREACH_SAFE(p, dp_pending_tree, &d->pending, pn) {
		RB_REMOVE(dp_pending_tree, &d->pending, p);
		vpnr__free(ctx->mem, p);
	}
	vpnr__free(ctx->mem, d->spare);
	RB_FOREACH_SAFE(s, dp_sa_tree, &d->sas, sn) {
		RB_REMOVE(dp_sa_tree, &d->sas, s);
		dp_sa_free(ctx, s);
	}
	RB_FOREACH_SAFE(q, dp_policy_tree, &d->policies, qn) {
		RB_REMOVE(dp_policy_tree, &d->policies, q);
		dp_policy_free(ctx, q);
	}
	vpnr__free(ctx->mem, d);
	ctx->dps = NULL;
}

void
vpnr__dp_set_expired_handler(vpnr_ctx *ctx, vpnr__dp_expired_fn fn)
{
	struct vpnr__dp_state *d = dp_state(ctx);

	if (d != NULL)
		d->expired_fn = fn;
}

/* The kinds of op; one dispatcher issues them all. */
#define OP_SA     1
#define OP_POLICY 2
#define OP_ROUTE  3

struct dp_op {
	int kind; /* OP_SA, OP_POLICY, OP_ROUTE */
	int add;  /* an add: a failure forgets the copy */
	const char *name;
	union {
		int (*sa)(vpnr_ctx *, uint64_t, const vpnr_child_sa *, void *);
		int (*pol)(vpnr_ctx *, uint64_t, const vpnr_policy *, void *);
		int (*rt)(vpnr_ctx *, uint64_t, const vpnr_route *, void *);
	} fn;
	const void *arg;
};

static int dp_finish(vpnr_ctx *, uint64_t, uint32_t, vpnr_tstamp);

static struct dp_pending *
pending_find(struct vpnr__dp_state *d, uint64_t op_id)
{
	struct dp_pending key;

	key.op_id = op_id;
	return RB_FIND(dp_pending_tree, &d->pending, &key);
}

static int
dp_fail_code(vpnr_ctx *ctx, const char *name, uint64_t op_id, int rv)
{
	if (rv == VPNR_ERR_CALLBACK_FAILURE) {
		if (ctx->cb_error == VPNR_OK)
			ctx->cb_error = rv;
		return rv;
	}
	vpnr__log(ctx, VPNR_LOG_ERR, "dp", "%s (op %llu) failed: %s", name,
	    (unsigned long long)op_id, vpnr_err_name(rv));
	return VPNR_ERR_DATAPLANE;
}

/*
 * Issue one op.  Returns VPNR_OK (done), VPNR_ASYNC (done_fn runs
 * later, after the current callback), VPNR_ERR_DATAPLANE or
 * VPNR_ERR_CALLBACK_FAILURE; with replay set, a synchronous failure is
 * reported through done_fn as well, since nobody waits for the result.
 */
static int
dp_issue(vpnr_ctx *ctx, const struct dp_op *op, vpnr__dp_done_fn done_fn,
    uint64_t cookie, int replay)
{
	struct vpnr__dp_state *d;
	struct dp_pending *p;
	uint64_t op_id;
	int rv;

	if ((d = dp_state(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	if ((p = d->spare) != NULL) {
		d->spare = NULL;
		memset(p, 0, sizeof(*p));
	} else if ((p = vpnr__calloc(ctx->mem, 1, sizeof(*p))) == NULL)
		return VPNR_ERR_NOMEM;
	op_id = vpnr__ctx_new_id(ctx);
	p->op_id = op_id;
	p->name = op->name;
	p->done_fn = done_fn;
	p->cookie = cookie;
	p->in_call = 1;
	p->kind = op->kind;
	p->add = op->add;
	p->replay = replay;
	if (op->kind == OP_SA)
		p->obj_id = ((const vpnr_child_sa *)op->arg)->sa_id;
	else if (op->kind == OP_POLICY)
		p->obj_id = ((const vpnr_policy *)op->arg)->policy_id;
	RB_INSERT(dp_pending_tree, &d->pending, p);
	ctx->cb_depth++;
	switch (op->kind) {
	case OP_SA:
		rv = op->fn.sa(ctx, op_id, op->arg, ctx->dp_data);
		break;
	case OP_POLICY:
		rv = op->fn.pol(ctx, op_id, op->arg, ctx->dp_data);
		break;
	default:
		rv = op->fn.rt(ctx, op_id, op->arg, ctx->dp_data);
		break;
	}
	ctx->cb_depth--;
	p->in_call = 0;
	/* An answer other than VPNR_ASYNC wins over a completion made
	 * inside the callback. */
	if (p->completed && rv != VPNR_ASYNC)
		vpnr__log(ctx, VPNR_LOG_DEBUG, "dp",
		    "%s (op %llu) completed and answered %s; the answer wins",
		    op->name, (unsigned long long)op_id, vpnr_err_name(rv));
	if (rv == VPNR_ASYNC && p->completed) {
		/* Completed inside its own callback: finish it later;
		 * if that cannot be queued, as if answered at once. */
		if (vpnr__ctx_defer(ctx, dp_finish, op_id, 0) == VPNR_OK)
			return VPNR_ASYNC;
		rv = p->status;
		p->completed = 0;
	}
	if (rv == VPNR_ASYNC)
		return VPNR_ASYNC;
	if (rv > 0) /* not a result the contract knows */
		rv = VPNR_ERR_DATAPLANE;
	if (rv != VPNR_OK && rv != VPNR_ERR_CALLBACK_FAILURE && replay &&
	    done_fn != NULL) {
		p->completed = 1;
		p->status = rv;
		if (vpnr__ctx_defer(ctx, dp_finish, op_id, 0) == VPNR_OK)
			return VPNR_ERR_DATAPLANE; /* dp_finish logs it */
	}
	RB_REMOVE(dp_pending_tree, &d->pending, p);
	if (d->spare == NULL)
		d->spare = p;
	else
		vpnr__free(ctx->mem, p);
	if (rv == VPNR_OK)
		return VPNR_OK;
	return dp_fail_code(ctx, op->name, op_id, rv);
}

/* An add that failed later: nothing to replay or delete any more. */
static void
forget_failed(vpnr_ctx *ctx, const struct dp_pending *p)
{
	struct vpnr__dp_state *d = ctx->dps;
	struct dp_sa skey, *s;
	struct dp_policy qkey, *q;

	if (!p->add)
		return;
	if (p->kind == OP_SA) {
		skey.sa_id = p->obj_id;
		if ((s = RB_FIND(dp_sa_tree, &d->sas, &skey)) != NULL) {
			RB_REMOVE(dp_sa_tree, &d->sas, s);
			dp_sa_free(ctx, s);
		}
	} else if (p->kind == OP_POLICY) {
		qkey.policy_id = p->obj_id;
		if ((q = RB_FIND(dp_policy_tree, &d->policies, &qkey)) !=
		    NULL) {
			RB_REMOVE(dp_policy_tree, &d->policies, q);
			dp_policy_free(ctx, q);
		}
	}
}

/* Run a completed op's continuation (always from the deferred queue or
 * a top-level vpnr_dp_complete, never inside a callback). */
static int
dp_finish(vpnr_ctx *ctx, uint64_t op_id, uint32_t arg, vpnr_tstamp now)
{
	struct vpnr__dp_state *d = ctx->dps;
	struct dp_pending *p;
	vpnr__dp_done_fn fn;
	uint64_t cookie;
	int status, replay;

	(void)arg;
	if (d == NULL || (p = pending_find(d, op_id)) == NULL || !p->completed)
		return VPNR_OK;
	RB_REMOVE(dp_pending_tree, &d->pending, p);
	fn = p->done_fn;
	cookie = p->cookie;
	status = p->status;
	replay = p->replay;
	if (status < 0) {
		vpnr__log(ctx, VPNR_LOG_ERR, "dp", "%s (op %llu) failed: %s",
		    p->name, (unsigned long long)op_id, vpnr_err_name(status));
		forget_failed(ctx, p);
	}
	vpnr__free(ctx->mem, p);
	/* A replayed op's success changes nothing the engine counts. */
	if (fn != NULL && (status < 0 || !replay))
		fn(ctx, cookie, status, now);
	return VPNR_OK;
}

static int
dp_sa_issue(vpnr_ctx *ctx, int add, const char *name,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_child_sa *, void *),
    const vpnr_child_sa *sa, vpnr__dp_done_fn done_fn, uint64_t cookie,
    int replay)
{
	struct dp_op op = { .kind = OP_SA, .name = name, .arg = sa };

	op.add = add;

	op.fn.sa = fn;
	return dp_issue(ctx, &op, done_fn, cookie, replay);
}

static int
dp_policy_issue(vpnr_ctx *ctx, int add, const char *name,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_policy *, void *),
    const vpnr_policy *pol, vpnr__dp_done_fn done_fn, uint64_t cookie,
    int replay)
{
	struct dp_op op = { .kind = OP_POLICY, .name = name, .arg = pol };

	op.add = add;

	op.fn.pol = fn;
	return dp_issue(ctx, &op, done_fn, cookie, replay);
}

static struct dp_sa *
sa_copy(vpnr_ctx *ctx, const vpnr_child_sa *sa)
{
	struct dp_sa *s;
	int nomem;

	/* Key lengths and selector counts are small (checked, not cut). */
	if (sa->encr_key_len > UINT16_MAX || sa->integ_key_len > UINT16_MAX ||
	    sa->n_ts_local > UINT16_MAX || sa->n_ts_remote > UINT16_MAX)
		return NULL;
	s = vpnr__calloc(ctx->mem, 1,
	    sizeof(*s) + sa->encr_key_len + sa->integ_key_len);
	if (s == NULL)
		return NULL;
	s->sa_id = sa->sa_id;
	s->tunnel_id = sa->tunnel_id;
	s->tunnel_user_data = sa->tunnel_user_data;
	s->spi = sa->spi;
	s->protocol = sa->protocol;
	s->direction = sa->direction;
	s->flags = sa->flags;
	s->src = sa->src;
	s->dst = sa->dst;
	s->encr_id = sa->encr_id;
	s->encr_key_bits = sa->encr_key_bits;
	s->integ_id = sa->integ_id;
	s->replay_window = sa->replay_window;
	s->if_id = sa->if_id;
	s->soft = sa->soft;
	s->hard = sa->hard;
	s->encr_key_len = (uint16_t)sa->encr_key_len;
	s->integ_key_len = (uint16_t)sa->integ_key_len;
	s->n_ts_local = (uint16_t)sa->n_ts_local;
	s->n_ts_remote = (uint16_t)sa->n_ts_remote;
	s->ts = ts_hold(ctx, sa->ts_local, sa->n_ts_local, sa->ts_remote,
	    sa->n_ts_remote, &nomem);
	if (nomem) {
		dp_sa_free(ctx, s);
		return NULL;
	}
	if (sa->encr_key_len > 0)
		memcpy(s->keys, sa->encr_key, sa->encr_key_len);
	if (sa->integ_key_len > 0)
		memcpy(s->keys + sa->encr_key_len, sa->integ_key,
		    sa->integ_key_len);
	return s;
}

int
vpnr__dp_sa_add(vpnr_ctx *ctx, const vpnr_child_sa *sa,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_sa *s;
	vpnr_child_sa c;
	int rv;

	if ((d = dp_state(ctx)) == NULL || (s = sa_copy(ctx, sa)) == NULL)
		return VPNR_ERR_NOMEM;
	if (RB_INSERT(dp_sa_tree, &d->sas, s) != NULL) {
		dp_sa_free(ctx, s);
		return VPNR_ERR_EXISTS;
	}
	s->done_fn = done_fn;
	s->cookie = cookie;
	if (ctx->dp.sa_add == NULL)
		return VPNR_OK;
	sa_of(s, 1, &c);
	rv = dp_sa_issue(ctx, 1, "sa_add", ctx->dp.sa_add, &c, done_fn, cookie,
	    0);
	if (rv != VPNR_OK && rv != VPNR_ASYNC) {
		RB_REMOVE(dp_sa_tree, &d->sas, s);
		dp_sa_free(ctx, s);
	}
	return rv;
}

int
vpnr__dp_sa_move(vpnr_ctx *ctx, uint64_t sa_id, const vpnr_addr *src,
    const vpnr_addr *dst)
{
	struct dp_sa key, *s;
	vpnr_child_sa c;

	if (ctx->dps == NULL)
		return VPNR_ERR_NOT_FOUND;
	key.sa_id = sa_id;
	if ((s = RB_FIND(dp_sa_tree, &ctx->dps->sas, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	s->src = *src;
	s->dst = *dst;
	if (ctx->dp.sa_add == NULL)
		return VPNR_OK;
	/* As a replayed add: only a failure reaches the engine. */
	sa_of(s, 1, &c);
	return dp_sa_issue(ctx, 1, "sa_add (moved)", ctx->dp.sa_add, &c,
	    s->done_fn, s->cookie, 1);
}

int
vpnr__dp_sa_del(vpnr_ctx *ctx, uint64_t sa_id, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_sa key, *s;
	vpnr_child_sa c;
	int rv = VPNR_OK;

	if ((d = dp_state(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	key.sa_id = sa_id;
	if ((s = RB_FIND(dp_sa_tree, &d->sas, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_REMOVE(dp_sa_tree, &d->sas, s);
	if (ctx->dp.sa_del != NULL) {
		/* The delete carries the SA's description, never keys. */
		sa_of(s, 0, &c);
		rv = dp_sa_issue(ctx, 0, "sa_del", ctx->dp.sa_del, &c, done_fn,
		    cookie, 0);
	}
	dp_sa_free(ctx, s);
	return rv;
}

int
vpnr__dp_policy_add(vpnr_ctx *ctx, const vpnr_policy *pol,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_policy *q;
	vpnr_policy p;
	int rv, nomem;

	if ((d = dp_state(ctx)) == NULL ||
	    (q = vpnr__calloc(ctx->mem, 1, sizeof(*q))) == NULL)
		return VPNR_ERR_NOMEM;
	q->policy_id = pol->policy_id;
	q->tunnel_id = pol->tunnel_id;
	q->out_sa_id = pol->out_sa_id;
	q->priority = pol->priority;
	q->if_id = pol->if_id;
	q->direction = pol->direction;
	q->done_fn = done_fn;
	q->cookie = cookie;
	/* Usually the block of the CHILD_SA's SAs (one selector each). */
	q->ts = ts_hold(ctx, &pol->ts_local, 1, &pol->ts_remote, 1, &nomem);
	if (q->ts == NULL) {
		vpnr__free(ctx->mem, q);
		return VPNR_ERR_NOMEM;
	}
	if (RB_INSERT(dp_policy_tree, &d->policies, q) != NULL) {
		dp_policy_free(ctx, q);
		return VPNR_ERR_EXISTS;
	}
	if (ctx->dp.policy_add == NULL)
		return VPNR_OK;
	policy_of(q, &p);
	rv = dp_policy_issue(ctx, 1, "policy_add", ctx->dp.policy_add, &p,
	    done_fn, cookie, 0);
	if (rv != VPNR_OK && rv != VPNR_ASYNC) {
		RB_REMOVE(dp_policy_tree, &d->policies, q);
		dp_policy_free(ctx, q);
	}
	return rv;
}

int
vpnr__dp_policy_del(vpnr_ctx *ctx, uint64_t policy_id, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_policy key, *q;
	vpnr_policy p;
	int rv = VPNR_OK;

	if ((d = dp_state(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	key.policy_id = policy_id;
	if ((q = RB_FIND(dp_policy_tree, &d->policies, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_REMOVE(dp_policy_tree, &d->policies, q);
	if (ctx->dp.policy_del != NULL) {
		policy_of(q, &p);
		rv = dp_policy_issue(ctx, 0, "policy_del", ctx->dp.policy_del,
		    &p, done_fn, cookie, 0);
	}
	dp_policy_free(ctx, q);
	return rv;
}

static int
dp_route_op(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    const char *name, const vpnr_route *rt, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	struct dp_op op = { .kind = OP_ROUTE, .name = name, .arg = rt };

	if (fn == NULL)
		return VPNR_OK;
	op.fn.rt = fn;
	return dp_issue(ctx, &op, done_fn, cookie, 0);
}

int
vpnr__dp_route_add(vpnr_ctx *ctx, const vpnr_route *rt,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	return dp_route_op(ctx, ctx->dp.route_add, "route_add", rt, done_fn,
	    cookie);
}

int
vpnr__dp_route_del(vpnr_ctx *ctx, const vpnr_route *rt,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	return dp_route_op(ctx, ctx->dp.route_del, "route_del", rt, done_fn,
	    cookie);
}

int
vpnr__dp_get_spi(vpnr_ctx *ctx, const vpnr_addr *src, const vpnr_addr *dst,
    uint32_t *spi)
{
	int rv;

	*spi = 0;
	if (ctx->dp.get_spi == NULL)
		return VPNR_OK;
	ctx->cb_depth++;
	rv = ctx->dp.get_spi(ctx, src, dst, 50, spi, ctx->dp_data);
	ctx->cb_depth--;
	if (rv == VPNR_ERR_CALLBACK_FAILURE)
		return dp_fail_code(ctx, "get_spi", 0, rv);
	if (rv != VPNR_OK) {
		*spi = 0;
		return VPNR_ERR_DATAPLANE;
	}
	return VPNR_OK;
}

int
vpnr__dp_sa_query(vpnr_ctx *ctx, uint64_t sa_id, uint64_t *bytes,
    uint64_t *packets, vpnr_tstamp *last_used)
{
	int rv;

	if (ctx->dp.sa_query == NULL)
		return VPNR_ERR_UNSUPPORTED;
	ctx->cb_depth++;
	rv = ctx->dp.sa_query(ctx, sa_id, bytes, packets, last_used,
	    ctx->dp_data);
	ctx->cb_depth--;
	return rv == VPNR_OK ? VPNR_OK : VPNR_ERR_DATAPLANE;
}

VPNR_API int
vpnr_dp_complete(vpnr_ctx *ctx, uint64_t op_id, int status, vpnr_tstamp now)
{
	struct dp_pending *p;
	int rv;

	/* VPNR_ASYNC or another positive code is no result: refused,
	 * the op stays pending. */
	if (ctx == NULL || status > 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (ctx->dps == NULL || (p = pending_find(ctx->dps, op_id)) == NULL ||
	    p->completed)
		return VPNR_ERR_NOT_FOUND;
	p->completed = 1;
	p->status = status;
	/* Inside the op's own callback: dp_issue() picks it up. */
	if (p->in_call)
		return VPNR_OK;
	/* The continuation runs when the current call unwinds (queued),
	 * or now when the host's loop calls from outside the library. */
	rv = vpnr__ctx_call(ctx, VPNR__CALL_QUEUE, dp_finish, op_id, 0, now);
	/* Refused by the guard (or not queued): the op stays pending, so
	 * that a later call can complete it. */
	if (rv != VPNR_OK && (p = pending_find(ctx->dps, op_id)) != NULL)
		p->completed = 0;
	return rv;
}

static int
sa_expired_run(vpnr_ctx *ctx, uint64_t sa_id, uint32_t hard, vpnr_tstamp now)
{
	struct vpnr__dp_state *d = ctx->dps;

	if (d == NULL || d->expired_fn == NULL)
		return VPNR_ERR_NOT_FOUND;
	return d->expired_fn(ctx, sa_id, (int)hard, now);
}

VPNR_API int
vpnr_dp_sa_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard, vpnr_tstamp now)
{
	return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, sa_expired_run, sa_id,
	    hard != 0, now);
}

static int
dp_replay_run(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct vpnr__dp_state *d;
	struct dp_sa *s;
	struct dp_policy *q;
	vpnr_child_sa c;
	vpnr_policy p;
	int rv, first = VPNR_OK;

	(void)id;
	(void)arg;
	if ((d = ctx->dps) != NULL) {
		/* Through the pending table like any op: a replayed op may
		 * complete later, and its failure reaches the engine. */
		RB_FOREACH(s, dp_sa_tree, &d->sas) {
			if (ctx->dp.sa_add == NULL)
				break;
			sa_of(s, 1, &c);
			rv = dp_sa_issue(ctx, 1, "sa_add (replay)",
			    ctx->dp.sa_add, &c, s->done_fn, s->cookie, 1);
			if (rv < 0 && first == VPNR_OK)
				first = rv;
		}
		RB_FOREACH(q, dp_policy_tree, &d->policies) {
			if (ctx->dp.policy_add == NULL)
				break;
			policy_of(q, &p);
			rv = dp_policy_issue(ctx, 1, "policy_add (replay)",
			    ctx->dp.policy_add, &p, q->done_fn, q->cookie, 1);
			if (rv < 0 && first == VPNR_OK)
				first = rv;
		}
	}
	if (ctx->bgp_replay_routes != NULL) {
		rv = ctx->bgp_replay_routes(ctx, now);
		if (rv < 0 && first == VPNR_OK)
			first = rv;
	}
	return first;
}

VPNR_API int
vpnr_dp_replay(vpnr_ctx *ctx, vpnr_tstamp now)
{
	return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, dp_replay_run, 0, 0, now);
}
