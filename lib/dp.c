/*
 * Data-plane dispatch.  Each op gets an id; an op answered with
 * VPNR_ASYNC waits in a tree until vpnr_dp_complete().  Installed SAs
 * (with their keys) and policies are copied so that vpnr_dp_replay()
 * can re-issue them; the copies are wiped when deleted.
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
	vpnr__dp_done_fn done_fn;
	uint64_t cookie;
};

struct dp_sa {
	RB_ENTRY(dp_sa) entry;
	vpnr_child_sa sa; /* key pointers point into keys below */
	uint8_t *keys;
	size_t keys_len;
	vpnr_ts *ts;
	size_t n_ts;
};

struct dp_policy {
	RB_ENTRY(dp_policy) entry;
	vpnr_policy pol;
};

RB_HEAD(dp_pending_tree, dp_pending);
RB_HEAD(dp_sa_tree, dp_sa);
RB_HEAD(dp_policy_tree, dp_policy);

struct vpnr__dp_state {
	struct dp_pending_tree pending;
	struct dp_sa_tree sas;
	struct dp_policy_tree policies;
	vpnr__dp_expired_fn expired_fn;
};

static int
pending_cmp(const struct dp_pending *a, const struct dp_pending *b)
{
	return a->op_id < b->op_id ? -1 : a->op_id > b->op_id;
}

static int
sa_cmp(const struct dp_sa *a, const struct dp_sa *b)
{
	return a->sa.sa_id < b->sa.sa_id ? -1 : a->sa.sa_id > b->sa.sa_id;
}

static int
policy_cmp(const struct dp_policy *a, const struct dp_policy *b)
{
	return a->pol.policy_id < b->pol.policy_id ?
	    -1 :
	    a->pol.policy_id > b->pol.policy_id;
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

static void
dp_sa_free(vpnr_ctx *ctx, struct dp_sa *s)
{
	vpnr__freezero(ctx->mem, s->keys, s->keys_len);
	vpnr__free(ctx->mem, s->ts);
	explicit_bzero(s, sizeof(*s));
	vpnr__free(ctx->mem, s);
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
	RB_FOREACH_SAFE(s, dp_sa_tree, &d->sas, sn) {
		RB_REMOVE(dp_sa_tree, &d->sas, s);
		dp_sa_free(ctx, s);
	}
	RB_FOREACH_SAFE(q, dp_policy_tree, &d->policies, qn) {
		RB_REMOVE(dp_policy_tree, &d->policies, q);
		vpnr__free(ctx->mem, q);
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

/*
 * Interpret an op's result.  An async op is remembered with its
 * completion; anything other than OK/ASYNC is a data-plane failure,
 * except a callback failure, which aborts the driving call.
 */
static int
dp_result(vpnr_ctx *ctx, const char *op, uint64_t op_id, int rv,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_pending *p;

	if (rv == VPNR_OK)
		return VPNR_OK;
	if (rv == VPNR_ASYNC) {
		if ((d = dp_state(ctx)) == NULL ||
		    (p = vpnr__calloc(ctx->mem, 1, sizeof(*p))) == NULL)
			return VPNR_ERR_NOMEM;
		p->op_id = op_id;
		p->done_fn = done_fn;
		p->cookie = cookie;
		RB_INSERT(dp_pending_tree, &d->pending, p);
		return VPNR_ASYNC;
	}
	if (rv == VPNR_ERR_CALLBACK_FAILURE) {
		if (ctx->cb_error == VPNR_OK)
			ctx->cb_error = rv;
		return rv;
	}
	vpnr__log(ctx, VPNR_LOG_ERR, "dp", "%s (op %llu) failed: %s", op,
	    (unsigned long long)op_id, vpnr_strerror(rv));
	return VPNR_ERR_DATAPLANE;
}

static int
dp_call_sa(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_child_sa *, void *),
    uint64_t op_id, const vpnr_child_sa *sa)
{
	int rv;

	ctx->cb_depth++;
	rv = fn(ctx, op_id, sa, ctx->dp_data);
	ctx->cb_depth--;
	return rv;
}

static struct dp_sa *
sa_copy(vpnr_ctx *ctx, const vpnr_child_sa *sa)
{
	struct dp_sa *s;
	size_t n_ts = sa->n_ts_local + sa->n_ts_remote;

	if ((s = vpnr__calloc(ctx->mem, 1, sizeof(*s))) == NULL)
		return NULL;
	s->sa = *sa;
	s->keys_len = sa->encr_key_len + sa->integ_key_len;
	if ((s->keys = vpnr__calloc(ctx->mem, 1, s->keys_len)) == NULL ||
	    (n_ts > 0 &&
		(s->ts = vpnr__calloc(ctx->mem, n_ts, sizeof(vpnr_ts))) ==
		    NULL)) {
		dp_sa_free(ctx, s);
		return NULL;
	}
	if (sa->encr_key_len > 0)
		memcpy(s->keys, sa->encr_key, sa->encr_key_len);
	if (sa->integ_key_len > 0)
		memcpy(s->keys + sa->encr_key_len, sa->integ_key,
		    sa->integ_key_len);
	s->sa.encr_key = s->keys;
	s->sa.integ_key = s->keys + sa->encr_key_len;
	s->n_ts = n_ts;
	if (sa->n_ts_local > 0)
		memcpy(s->ts, sa->ts_local, sa->n_ts_local * sizeof(vpnr_ts));
	if (sa->n_ts_remote > 0)
		memcpy(s->ts + sa->n_ts_local, sa->ts_remote,
		    sa->n_ts_remote * sizeof(vpnr_ts));
	s->sa.ts_local = sa->n_ts_local > 0 ? s->ts : NULL;
	s->sa.ts_remote = sa->n_ts_remote > 0 ? s->ts + sa->n_ts_local : NULL;
	return s;
}

int
vpnr__dp_sa_add(vpnr_ctx *ctx, const vpnr_child_sa *sa,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_sa *s;
	uint64_t op_id;
	int rv;

	if ((d = dp_state(ctx)) == NULL || (s = sa_copy(ctx, sa)) == NULL)
		return VPNR_ERR_NOMEM;
	if (RB_INSERT(dp_sa_tree, &d->sas, s) != NULL) {
		dp_sa_free(ctx, s);
		return VPNR_ERR_EXISTS;
	}
	if (ctx->dp.sa_add == NULL)
		return VPNR_OK;
	op_id = vpnr__ctx_new_id(ctx);
	rv = dp_call_sa(ctx, ctx->dp.sa_add, op_id, &s->sa);
	rv = dp_result(ctx, "sa_add", op_id, rv, done_fn, cookie);
	if (rv != VPNR_OK && rv != VPNR_ASYNC) {
		RB_REMOVE(dp_sa_tree, &d->sas, s);
		dp_sa_free(ctx, s);
	}
	return rv;
}

int
vpnr__dp_sa_del(vpnr_ctx *ctx, uint64_t sa_id, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_sa key, *s;
	uint64_t op_id;
	int rv = VPNR_OK;

	if ((d = dp_state(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	key.sa.sa_id = sa_id;
	if ((s = RB_FIND(dp_sa_tree, &d->sas, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_REMOVE(dp_sa_tree, &d->sas, s);
	if (ctx->dp.sa_del != NULL) {
		op_id = vpnr__ctx_new_id(ctx);
		/* The delete carries the SA's description, never keys. */
		s->sa.encr_key = NULL;
		s->sa.encr_key_len = 0;
		s->sa.integ_key = NULL;
		s->sa.integ_key_len = 0;
		rv = dp_call_sa(ctx, ctx->dp.sa_del, op_id, &s->sa);
		rv = dp_result(ctx, "sa_del", op_id, rv, done_fn, cookie);
	}
	dp_sa_free(ctx, s);
	return rv;
}

static int
dp_call_policy(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_policy *, void *),
    uint64_t op_id, const vpnr_policy *pol)
{
	int rv;

	ctx->cb_depth++;
	rv = fn(ctx, op_id, pol, ctx->dp_data);
	ctx->cb_depth--;
	return rv;
}

int
vpnr__dp_policy_add(vpnr_ctx *ctx, const vpnr_policy *pol,
    vpnr__dp_done_fn done_fn, uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_policy *q;
	uint64_t op_id;
	int rv;

	if ((d = dp_state(ctx)) == NULL ||
	    (q = vpnr__calloc(ctx->mem, 1, sizeof(*q))) == NULL)
		return VPNR_ERR_NOMEM;
	q->pol = *pol;
	if (RB_INSERT(dp_policy_tree, &d->policies, q) != NULL) {
		vpnr__free(ctx->mem, q);
		return VPNR_ERR_EXISTS;
	}
	if (ctx->dp.policy_add == NULL)
		return VPNR_OK;
	op_id = vpnr__ctx_new_id(ctx);
	rv = dp_call_policy(ctx, ctx->dp.policy_add, op_id, &q->pol);
	rv = dp_result(ctx, "policy_add", op_id, rv, done_fn, cookie);
	if (rv != VPNR_OK && rv != VPNR_ASYNC) {
		RB_REMOVE(dp_policy_tree, &d->policies, q);
		vpnr__free(ctx->mem, q);
	}
	return rv;
}

int
vpnr__dp_policy_del(vpnr_ctx *ctx, uint64_t policy_id, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	struct vpnr__dp_state *d;
	struct dp_policy key, *q;
	uint64_t op_id;
	int rv = VPNR_OK;

	if ((d = dp_state(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	key.pol.policy_id = policy_id;
	if ((q = RB_FIND(dp_policy_tree, &d->policies, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_REMOVE(dp_policy_tree, &d->policies, q);
	if (ctx->dp.policy_del != NULL) {
		op_id = vpnr__ctx_new_id(ctx);
		rv = dp_call_policy(ctx, ctx->dp.policy_del, op_id, &q->pol);
		rv = dp_result(ctx, "policy_del", op_id, rv, done_fn, cookie);
	}
	vpnr__free(ctx->mem, q);
	return rv;
}

static int
dp_route_op(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    const char *name, const vpnr_route *rt, vpnr__dp_done_fn done_fn,
    uint64_t cookie)
{
	uint64_t op_id;
	int rv;

	if (fn == NULL)
		return VPNR_OK;
	op_id = vpnr__ctx_new_id(ctx);
	ctx->cb_depth++;
	rv = fn(ctx, op_id, rt, ctx->dp_data);
	ctx->cb_depth--;
	return dp_result(ctx, name, op_id, rv, done_fn, cookie);
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
		return dp_result(ctx, "get_spi", 0, rv, NULL, 0);
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
	struct vpnr__dp_state *d;
	struct dp_pending key, *p;
	vpnr__dp_done_fn fn;
	uint64_t cookie;

	if (ctx == NULL || (d = ctx->dps) == NULL)
		return VPNR_ERR_NOT_FOUND;
	key.op_id = op_id;
	if ((p = RB_FIND(dp_pending_tree, &d->pending, &key)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	RB_REMOVE(dp_pending_tree, &d->pending, p);
	fn = p->done_fn;
	cookie = p->cookie;
	vpnr__free(ctx->mem, p);
	if (status > 0)
		status = VPNR_OK;
	if (fn == NULL)
		return VPNR_OK;
	/* Completion from inside a callback only runs the engine's
	 * continuation later, when the outer call unwinds. */
	if (ctx->cb_depth > 0 || ctx->drive_depth > 0) {
		fn(ctx, cookie, status, ctx->now);
		return VPNR_OK;
	}
	{
		int rv = vpnr__drive_begin(ctx, now);

		if (rv != VPNR_OK)
			return rv;
		fn(ctx, cookie, status, now);
		return vpnr__drive_end(ctx, VPNR_OK);
	}
}

VPNR_API int
vpnr_dp_sa_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard, vpnr_tstamp now)
{
	struct vpnr__dp_state *d;
	int rv;

	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	if ((d = ctx->dps) == NULL || d->expired_fn == NULL)
		rv = VPNR_ERR_NOT_FOUND;
	else
		rv = d->expired_fn(ctx, sa_id, hard, now);
	return vpnr__drive_end(ctx, rv);
}

VPNR_API int
vpnr_dp_replay(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__dp_state *d;
	struct dp_sa *s;
	struct dp_policy *q;
	int rv, first = VPNR_OK;

	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	if ((d = ctx->dps) != NULL) {
		RB_FOREACH(s, dp_sa_tree, &d->sas) {
			if (ctx->dp.sa_add == NULL)
				break;
			rv = dp_call_sa(ctx, ctx->dp.sa_add,
			    vpnr__ctx_new_id(ctx), &s->sa);
			if (rv < 0 && first == VPNR_OK)
				first = rv == VPNR_ERR_CALLBACK_FAILURE ?
				    rv :
				    VPNR_ERR_DATAPLANE;
		}
		RB_FOREACH(q, dp_policy_tree, &d->policies) {
			if (ctx->dp.policy_add == NULL)
				break;
			rv = dp_call_policy(ctx, ctx->dp.policy_add,
			    vpnr__ctx_new_id(ctx), &q->pol);
			if (rv < 0 && first == VPNR_OK)
				first = rv == VPNR_ERR_CALLBACK_FAILURE ?
				    rv :
				    VPNR_ERR_DATAPLANE;
		}
	}
	if (ctx->bgp_replay_routes != NULL) {
		rv = ctx->bgp_replay_routes(ctx, now);
		if (rv < 0 && first == VPNR_OK)
			first = rv;
	}
	return vpnr__drive_end(ctx, first);
}
