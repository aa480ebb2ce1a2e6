/*
 * Adj-RIB-Out and update packing.  Each Established peer with an
 * export policy has, per family, a table of what it was sent (prefix
 * -> interned attribute set), an initial-table walk (a cursor over the
 * Loc-RIB hash) and a queue of prefixes whose best path changed.  The
 * pump evaluates them in batches, compares with the Adj-RIB-Out,
 * groups the announcements by attribute set (many prefixes per UPDATE,
 * attributes written once) and stops while the transport has more
 * than HIGH_WATER bytes queued: a slow peer holds back generation, not
 * memory.  The outbound prefix budget holds back new prefixes past
 * the configured count.
 */
#include <stdlib.h>
#include <string.h>

#include "bgp/bgp.h"
#include "lib/log.h"
#include "lib/mem.h"

#define HIGH_WATER (256 * 1024)
#define BATCH      4096

static int
exports(const struct vpnr__bgp_peer *p, int a)
{
	return p->est != NULL && (p->sess.afi & (1 << a)) &&
	    p->cfg.export != VPNR_BGP_EXPORT_NONE;
}

static void
work_set(struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;

	p->work = 1;
	if (!p->on_work) {
		TAILQ_INSERT_TAIL(&bgp->workq, p, work_entry);
		p->on_work = 1;
	}
}

static void
work_clear(struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;

	p->work = 0;
	if (p->on_work) {
		TAILQ_REMOVE(&bgp->workq, p, work_entry);
		p->on_work = 0;
	}
}

void
vpnr__bgp_out_forget(struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;

	work_clear(p);
	if (p->on_exp) {
		TAILQ_REMOVE(&bgp->exporters, p, exp_entry);
		p->on_exp = 0;
	}
}

static int
pend_push(struct vpnr__bgp_peer *p, const struct vpnr__bgp_pfx *pfx)
{
	struct vpnr__bgp_pending *q = &p->pend;
	struct vpnr__bgp_pfx *v;
	size_t cap;

	if (q->head > 0 && q->head == q->n)
		q->head = q->n = 0;
	if (q->n == q->cap) {
		if (q->head > 0) {
			memmove(q->v, q->v + q->head,
			    (q->n - q->head) * sizeof(*q->v));
			q->n -= q->head;
			q->head = 0;
		}
		if (q->n == q->cap) {
			cap = q->cap ? q->cap * 2 : 256;
			v = vpnr__reallocarray(p->ctx->mem, q->v, cap,
			    sizeof(*v));
			if (v == NULL)
				return VPNR_ERR_NOMEM;
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->n++] = *pfx;
	return VPNR_OK;
}

void
vpnr__bgp_out_changed(struct vpnr__bgp *bgp, const struct vpnr__bgp_node *n)
{
	struct vpnr__bgp_peer *p;
	struct vpnr__bgp_pfx pfx;
	int a = vpnr__bgp_afi_idx(n->af), have = 0;

	TAILQ_FOREACH(p, &bgp->exporters, exp_entry) {
		if (!exports(p, a))
			continue;
		if (p->syncing[a] &&
		    (p->sync_gen[a] != bgp->rib[a].gen ||
			vpnr__bgp_table_bucket(&bgp->rib[a], n) >=
			    p->sync_cursor[a]))
			continue; /* the walk will get there */
		if (!have) {
			vpnr__bgp_node_pfx(n, &pfx);
			have = 1;
		}
		if (pend_push(p, &pfx) != VPNR_OK) {
			/* out of memory: resend everything later */
			p->syncing[a] = 1;
			p->sync_cursor[a] = 0;
		}
		work_set(p);
	}
}

void
vpnr__bgp_out_start(struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	int a;

	for (a = 0; a < BGP_NAFI; a++) {
		p->eor_sent[a] = 0;
		p->syncing[a] = exports(p, a);
		p->sync_cursor[a] = 0;
		p->sync_gen[a] = bgp->rib[a].gen;
	}
	if (p->cfg.export != VPNR_BGP_EXPORT_NONE && !p->on_exp) {
		TAILQ_INSERT_TAIL(&bgp->exporters, p, exp_entry);
		p->on_exp = 1;
	}
	work_set(p);
}

void
vpnr__bgp_out_reset(struct vpnr__bgp_peer *p)
{
	int a;

	for (a = 0; a < BGP_NAFI; a++) {
		vpnr__bgp_table_free(p->ctx, &p->adj_out[a]);
		p->syncing[a] = 0;
		p->pfx_out[a] = 0;
		p->eor_sent[a] = 0;
	}
	p->pend.n = p->pend.head = 0;
	vpnr__bgp_out_forget(p);
}

void
vpnr__bgp_out_refresh(struct vpnr__bgp_peer *p, int a)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;

	/* Forget what was sent: the walk sends it all again. */
	vpnr__bgp_table_free(p->ctx, &p->adj_out[a]);
	p->pfx_out[a] = 0;
	p->syncing[a] = exports(p, a);
	p->sync_cursor[a] = 0;
	p->sync_gen[a] = bgp->rib[a].gen;
	work_set(p);
}

static int
ann_cmp(const void *x, const void *y)
{
	const struct vpnr__bgp_out_ent *a = x, *b = y;

	if (a->a != b->a)
		return (uintptr_t)a->a < (uintptr_t)b->a ? -1 : 1;
	return 0;
}

/* The best path of a Loc-RIB node (NULL: look pfx up). */
static struct vpnr__bgp_path *
best_of(struct vpnr__bgp *bgp, const struct vpnr__bgp_node *n,
    const struct vpnr__bgp_pfx *pfx)
{
	struct vpnr__bgp_path *path;

	if (n == NULL)
		n = vpnr__bgp_table_get(&bgp->rib[vpnr__bgp_afi_idx(pfx->afi)],
		    pfx);
	if (n == NULL)
		return NULL;
	for (path = n->paths; path != NULL; path = path->next)
		if (path->flags & BGP_PATH_BEST)
			return path;
	return NULL;
}

/* Pack grp[0..n) (a == NULL: withdraw) into bgp->wb. */
static int
pack_all(struct vpnr__bgp_peer *p, const struct vpnr__bgp_attrs *a, int aid,
    size_t n)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	size_t off = 0;
	int k;

	while (off < n) {
		k = vpnr__bgp_update_pack(&bgp->wb, a, aid, p->sess.as4,
		    bgp->grp + off, n - off);
		if (k <= 0)
			return k < 0 ? k : VPNR_ERR_INTERNAL;
		off += (size_t)k;
		p->tx_updates++;
	}
	return VPNR_OK;
}

/* Evaluate batch[0..n) of one family (with their Loc-RIB nodes in
 * batch_node when walk is set) and queue the UPDATEs. */
/*
 * The outbound budget (the clouds' caps) is close: at 90 % of it a
 * warning and one VPNR_BGP_EV_PREFIX_LIMIT event with reason VPNR_OK,
 * once per session, so that an operator hears of it before routes are
 * held back (the event at the cap says VPNR_ERR_LIMIT).
 */
static void
budget_near(struct vpnr__bgp_peer *p, int a)
{
	uint32_t max = p->cfg.out_budget, n = p->pfx_out[0] + p->pfx_out[1];
	char nb[64];

	if (max < 10 || n < (uint64_t)max * 9 / 10 || (p->budget_warned & 4))
		return;
	p->budget_warned |= 4;
	vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
	    "peer %s: %u of the outbound prefix budget %u advertised",
	    vpnr_addr_format(&p->cfg.remote, nb, sizeof(nb)), n, max);
	(void)vpnr__bgp_emit(p, VPNR_BGP_EV_PREFIX_LIMIT, VPNR_OK, 0, 0,
	    (uint8_t)(0x80 | (a + 1)));
}

static int
process_batch(struct vpnr__bgp_peer *p, int a, size_t n, int walk)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	struct vpnr__bgp_table *ao = &p->adj_out[a];
	struct vpnr__bgp_node *node;
	struct vpnr__bgp_path *best;
	const struct vpnr__bgp_attrs *out, *cur;
	size_t i, j, nw = 0, na = 0;
	int rv = VPNR_OK, aid = a;
	char nb[64];

	for (i = 0; i < n; i++) {
		const struct vpnr__bgp_pfx *pfx = &bgp->batch[i];

		/* the Adj-RIB-Out lookups miss the cache: ask ahead */
		if (i + 16 < n)
			vpnr__bgp_table_prefetch(ao, &bgp->batch[i + 16], 0);
		if (i + 8 < n) {
			vpnr__bgp_table_prefetch(ao, &bgp->batch[i + 8], 1);
			if (walk)
				__builtin_prefetch(
				    bgp->batch_node[i + 8]->paths);
		}
		best = best_of(bgp, walk ? bgp->batch_node[i] : NULL, pfx);
		out =
		    best != NULL ? vpnr__bgp_policy_export(p, pfx, best) : NULL;
		node = vpnr__bgp_table_get(ao, pfx);
		cur = node != NULL ? node->out : NULL;
		if (out == cur) {
			vpnr__bgp_attrs_unref(bgp->attrs, out);
			continue;
		}
		if (out == NULL) {
			/* withdraw */
			vpnr__bgp_attrs_unref(bgp->attrs, cur);
			vpnr__bgp_table_del(p->ctx, ao, node);
			p->pfx_out[a]--;
			bgp->grp[nw++] = *pfx;
			continue;
		}
		if (node == NULL) {
			if (p->cfg.out_budget != 0 &&
			    p->pfx_out[0] + p->pfx_out[1] >=
				p->cfg.out_budget) {
				vpnr__bgp_attrs_unref(bgp->attrs, out);
				if (!(p->budget_warned & 1)) {
					p->budget_warned |= 1;
					vpnr__log(p->ctx, VPNR_LOG_WARNING,
					    "bgp",
					    "peer %s: outbound prefix budget "
					    "%u reached; holding back the rest",
					    vpnr_addr_format(&p->cfg.remote, nb,
						sizeof(nb)),
					    p->cfg.out_budget);
					(void)vpnr__bgp_emit(p,
					    VPNR_BGP_EV_PREFIX_LIMIT,
					    VPNR_ERR_LIMIT, 0, 0,
					    (uint8_t)(0x80 | (a + 1)));
				}
				continue;
			}
			if ((node = vpnr__bgp_table_insert(p->ctx, ao, pfx)) ==
			    NULL) {
				vpnr__bgp_attrs_unref(bgp->attrs, out);
				rv = VPNR_ERR_NOMEM;
				continue;
			}
			node->out = out;
			p->pfx_out[a]++;
			budget_near(p, a);
		} else {
			vpnr__bgp_attrs_unref(bgp->attrs, cur);
			node->out = out;
		}
		bgp->ann[na].pfx = *pfx;
		bgp->ann[na].a = vpnr__bgp_attrs_ref(out);
		na++;
	}
	vpnr__wbuf_reset(&bgp->wb);
	if (nw > 0 && rv == VPNR_OK)
		rv = pack_all(p, NULL, aid, nw);
	if (na > 0) {
		qsort(bgp->ann, na, sizeof(bgp->ann[0]), ann_cmp);
		for (i = 0; i < na; i = j) {
			size_t g = 0;

			for (j = i; j < na && bgp->ann[j].a == bgp->ann[i].a;
			     j++)
				bgp->grp[g++] = bgp->ann[j].pfx;
			if (rv == VPNR_OK)
				rv = pack_all(p, bgp->ann[i].a, aid, g);
		}
		for (i = 0; i < na; i++)
			vpnr__bgp_attrs_unref(bgp->attrs, bgp->ann[i].a);
	}
	if (rv == VPNR_OK && vpnr__wbuf_len(&bgp->wb) > 0)
		rv = vpnr__bgp_conn_send(p->est, vpnr__wbuf_data(&bgp->wb),
		    vpnr__wbuf_len(&bgp->wb));
	return rv;
}

static int
send_eor(struct vpnr__bgp_peer *p, int a)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;

	p->eor_sent[a] = 1;
	vpnr__wbuf_reset(&bgp->wb);
	if (vpnr__bgp_eor_encode(&bgp->wb, a) != 0)
		return VPNR_ERR_NOMEM;
	return vpnr__bgp_conn_send(p->est, vpnr__wbuf_data(&bgp->wb),
	    vpnr__wbuf_len(&bgp->wb));
}

int
vpnr__bgp_out_pump(struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	struct vpnr__bgp_table *t;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_pending *q = &p->pend;
	size_t cnt, k;
	int a, rv, did;

	while (p->est != NULL && p->work &&
	    vpnr__bgp_conn_queued(p->est) < HIGH_WATER) {
		did = 0;
		/* changes first, one family per batch */
		if (q->head < q->n) {
			a = vpnr__bgp_afi_idx(q->v[q->head].afi);
			for (cnt = 0; cnt < BATCH && q->head < q->n &&
			     vpnr__bgp_afi_idx(q->v[q->head].afi) == a;
			     cnt++)
				bgp->batch[cnt] = q->v[q->head++];
			if (q->head == q->n)
				q->head = q->n = 0;
			if (exports(p, a) &&
			    (rv = process_batch(p, a, cnt, 0)) != VPNR_OK)
				return rv;
			continue;
		}
		for (a = 0; a < BGP_NAFI && !did; a++) {
			if (!p->syncing[a])
				continue;
			t = &bgp->rib[a];
			if (p->sync_gen[a] != t->gen) {
				p->sync_gen[a] = t->gen;
				p->sync_cursor[a] = 0;
			}
			cnt = 0;
			while (p->sync_cursor[a] < t->nb && cnt < BATCH - 64) {
				for (n = t->b[p->sync_cursor[a]]; n != NULL;
				     n = n->hnext) {
					if (cnt == BATCH)
						break;
					bgp->batch_node[cnt] = n;
					vpnr__bgp_node_pfx(n,
					    &bgp->batch[cnt++]);
				}
				if (n != NULL) {
					/* bucket longer than the batch:
					 * rare; finish it next round */
					break;
				}
				p->sync_cursor[a]++;
			}
			if (p->sync_cursor[a] >= t->nb)
				p->syncing[a] = 0;
			if (cnt > 0 && (rv = process_batch(p, a, cnt, 1)) != 0)
				return rv;
			did = 1;
		}
		if (did)
			continue;
		for (a = 0; a < BGP_NAFI; a++)
			if ((p->sess.afi & (1 << a)) && !p->eor_sent[a] &&
			    (rv = send_eor(p, a)) != VPNR_OK)
				return rv;
		work_clear(p);
	}
	(void)k;
	return VPNR_OK;
}

int
vpnr__bgp_pump_all(vpnr_ctx *ctx)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer *p, *pn;
	int rv, first = VPNR_OK;

	if (bgp == NULL || bgp->pumping)
		return VPNR_OK;
	bgp->pumping = 1;
	for (p = TAILQ_FIRST(&bgp->workq); p != NULL; p = pn) {
		pn = TAILQ_NEXT(p, work_entry);
		if (p->est == NULL || !p->work)
			continue;
		rv = vpnr__bgp_out_pump(p);
		if (rv < 0 && first == VPNR_OK)
			first = rv;
	}
	bgp->pumping = 0;
	return first == VPNR_ERR_CALLBACK_FAILURE || vpnr_err_is_fatal(first) ?
	    first :
	    VPNR_OK;
}

static int
pump_timer_fn(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	(void)t, (void)now;
	return vpnr__bgp_pump_all(ctx);
}

int
vpnr__bgp_pump_soon(vpnr_ctx *ctx)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer *p;

	if (bgp == NULL)
		return VPNR_OK;
	TAILQ_FOREACH(p, &bgp->workq, work_entry)
		if (p->est != NULL && p->pend.n - p->pend.head >= BATCH)
			return vpnr__bgp_pump_all(ctx);
	if (bgp->pump_timer.fn == NULL)
		vpnr__timer_init(&bgp->pump_timer, pump_timer_fn, bgp);
	if (!vpnr__timer_armed(&bgp->pump_timer))
		vpnr__timer_arm(ctx, &bgp->pump_timer, ctx->now);
	return VPNR_OK;
}
