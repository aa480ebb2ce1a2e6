/*
 * RIBs: one chained hash per address family keyed by prefix.  A node
 * carries every peer's path for its prefix (the Adj-RIBs-In) and the
 * Loc-RIB marks (best, multipath set).  Nodes and paths are small
 * (24 bytes each for IPv4) and come from pools, and attribute sets are
 * interned, so a large table with few distinct attribute sets costs
 * about 56 bytes per route (node, path, bucket pointer).  The
 * Adj-RIBs-Out use the same tables with the sent attributes in the
 * node itself: about 28 bytes per route and peer.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/dp.h"
#include "lib/log.h"
#include "lib/mem.h"

static uint32_t
pfx_hash(uint8_t af, uint8_t len, const uint8_t *key)
{
	uint32_t h = 2166136261u ^ len;
	size_t i, n = af == VPNR_AF_INET6 ? 16 : 4;

	if (n == 4) {
		uint32_t v = ((uint32_t)key[0] << 24) | (key[1] << 16) |
		    (key[2] << 8) | key[3];
		uint64_t x = ((uint64_t)v << 8 | len) * 0x9E3779B97F4A7C15ull;
		return (uint32_t)(x >> 32);
	}
	for (i = 0; i < n; i++)
		h = (h ^ key[i]) * 16777619u;
	return h ^ (h >> 15);
}

static size_t
key_len(uint8_t af)
{
	return af == VPNR_AF_INET6 ? 16 : 4;
}

void
vpnr__bgp_table_init(struct vpnr__bgp_table *t)
{
	memset(t, 0, sizeof(*t));
}

static struct vpnr__bgp_pool *
node_pool(struct vpnr__bgp *bgp, uint8_t af)
{
	return &bgp->pool_node[vpnr__bgp_afi_idx(af)];
}

void
vpnr__bgp_path_free(struct vpnr__bgp *bgp, struct vpnr__bgp_path *p)
{
	vpnr__bgp_pool_put(&bgp->pool_path, p);
}

void
vpnr__bgp_table_free(vpnr_ctx *ctx, struct vpnr__bgp_table *t)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_node *n, *nn;
	struct vpnr__bgp_path *p, *pn;
	size_t i;
	int adj_out = t->adj_out;

	/* the context is going: the pools and interned sets go whole */
	for (i = 0; i < t->nb && !bgp->dying; i++) {
		for (n = t->b[i]; n != NULL; n = nn) {
			nn = n->hnext;
			if (adj_out) {
				vpnr__bgp_attrs_unref(bgp->attrs, n->out);
			} else {
				for (p = n->paths; p != NULL; p = pn) {
					pn = p->next;
					vpnr__bgp_attrs_unref(bgp->attrs,
					    p->attrs);
					vpnr__bgp_path_free(bgp, p);
				}
			}
			vpnr__bgp_pool_put(node_pool(bgp, n->af), n);
		}
	}
	vpnr__free(ctx->mem, t->b);
	memset(t, 0, sizeof(*t));
	t->adj_out = adj_out;
}

static int
node_match(const struct vpnr__bgp_node *n, const struct vpnr__bgp_pfx *p)
{
	if (n->len != p->len || n->af != p->afi)
		return 0;
	/* constant sizes: compiled inline, no library call per node */
	if (p->afi == VPNR_AF_INET6)
		return memcmp(n->key, p->addr, 16) == 0;
	return memcmp(n->key, p->addr, 4) == 0;
}

struct vpnr__bgp_node *
vpnr__bgp_table_get(struct vpnr__bgp_table *t, const struct vpnr__bgp_pfx *p)
{
	struct vpnr__bgp_node *n;

	if (t->nb == 0)
		return NULL;
	n = t->b[pfx_hash(p->afi, p->len, p->addr) & (t->nb - 1)];
	for (; n != NULL; n = n->hnext)
		if (node_match(n, p))
			return n;
	return NULL;
}

void
vpnr__bgp_table_prefetch(const struct vpnr__bgp_table *t,
    const struct vpnr__bgp_pfx *p, int node)
{
	struct vpnr__bgp_node *const *b;

	if (t->nb == 0)
		return;
	b = &t->b[pfx_hash(p->afi, p->len, p->addr) & (t->nb - 1)];
	if (!node)
		__builtin_prefetch(b);
	else if (*b != NULL)
		__builtin_prefetch(*b);
}

static int
table_grow(vpnr_ctx *ctx, struct vpnr__bgp_table *t)
{
	struct vpnr__bgp_node **nb, *n, *nn;
	size_t i, sz = t->nb ? t->nb * 2 : 1024;
	uint32_t h;

	if ((nb = vpnr__calloc(ctx->mem, sz, sizeof(*nb))) == NULL)
		return VPNR_ERR_NOMEM;
	for (i = 0; i < t->nb; i++) {
		/* the nodes are scattered: ask for a later bucket's first */
		if (i + 8 < t->nb && t->b[i + 8] != NULL)
			__builtin_prefetch(t->b[i + 8]);
		for (n = t->b[i]; n != NULL; n = nn) {
			nn = n->hnext;
			h = pfx_hash(n->af, n->len, n->key) & (sz - 1);
			n->hnext = nb[h];
			nb[h] = n;
		}
	}
	vpnr__free(ctx->mem, t->b);
	t->b = nb;
	t->nb = sz;
	t->gen++;
	return VPNR_OK;
}

struct vpnr__bgp_node *
vpnr__bgp_table_add(vpnr_ctx *ctx, struct vpnr__bgp_table *t,
    const struct vpnr__bgp_pfx *p)
{
	struct vpnr__bgp_node *n;

	if ((n = vpnr__bgp_table_get(t, p)) != NULL)
		return n;
	return vpnr__bgp_table_insert(ctx, t, p);
}

struct vpnr__bgp_node *
vpnr__bgp_table_insert(vpnr_ctx *ctx, struct vpnr__bgp_table *t,
    const struct vpnr__bgp_pfx *p)
{
	struct vpnr__bgp_node *n;
	size_t h;

	if (ctx->bgp == NULL && vpnr__bgp_get(ctx) == NULL)
		return NULL;
	/* Adj-RIBs-Out are looked up once per export, off the receive
	 * path: two nodes per bucket there save 4 bytes per route. */
	if (t->n >= (t->adj_out ? 2 * t->nb : t->nb) &&
	    table_grow(ctx, t) != VPNR_OK)
		return NULL;
	if ((n = vpnr__bgp_pool_get(node_pool(ctx->bgp, p->afi))) == NULL)
		return NULL;
	n->paths = NULL;
	n->af = p->afi;
	n->len = p->len;
	memcpy(n->key, p->addr, key_len(p->afi));
	h = pfx_hash(p->afi, p->len, p->addr) & (t->nb - 1);
	n->hnext = t->b[h];
	t->b[h] = n;
	t->n++;
	return n;
}

size_t
vpnr__bgp_table_bucket(const struct vpnr__bgp_table *t,
    const struct vpnr__bgp_node *n)
{
	if (t->nb == 0)
		return 0;
	return pfx_hash(n->af, n->len, n->key) & (t->nb - 1);
}

void
vpnr__bgp_table_del(vpnr_ctx *ctx, struct vpnr__bgp_table *t,
    struct vpnr__bgp_node *n)
{
	struct vpnr__bgp_node **pp;

	pp = &t->b[vpnr__bgp_table_bucket(t, n)];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			t->n--;
			vpnr__bgp_pool_put(node_pool(ctx->bgp, n->af), n);
			return;
		}
	}
}

void
vpnr__bgp_node_pfx(const struct vpnr__bgp_node *n, struct vpnr__bgp_pfx *p)
{
	memset(p, 0, sizeof(*p));
	p->afi = n->af;
	p->len = n->len;
	memcpy(p->addr, n->key, key_len(n->af));
}

/* ------------------------------------------------------------------ */
/* Data-plane routes for the multipath set. */

static struct vpnr__bgp_peer *
peer_of(struct vpnr__bgp *bgp, uint32_t idx)
{
	if (idx == 0 || idx >= bgp->n_idx)
		return NULL;
	return bgp->by_idx[idx];
}

static void
route_fill(struct vpnr__bgp *bgp, const struct vpnr__bgp_node *n,
    const struct vpnr__bgp_path *path, vpnr_route *rt)
{
	struct vpnr__bgp_peer *p = peer_of(bgp, path->peer_idx);
	struct vpnr__bgp_pfx pfx;

	memset(rt, 0, sizeof(*rt));
	vpnr__bgp_node_pfx(n, &pfx);
	vpnr__bgp_pfx_to_public(&pfx, &rt->prefix);
	vpnr__bgp_attrs_nexthop(path->attrs, &rt->nexthop);
	rt->flags = VPNR_ROUTE_F_BGP;
	rt->metric = vpnr__bgp_attrs_med(path->attrs);
	if (p != NULL) {
		rt->peer_id = p->id;
		if (p->cfg.tunnel_id != 0) {
			rt->tunnel_id = p->cfg.tunnel_id;
			rt->if_id = p->if_id;
			rt->flags |= VPNR_ROUTE_F_TUNNEL;
		}
	}
}

static void
route_op(struct vpnr__bgp *bgp, const struct vpnr__bgp_node *n,
    struct vpnr__bgp_path *path, int add)
{
	vpnr_ctx *ctx = bgp->ctx;
	vpnr_route rt;
	int rv;

	route_fill(bgp, n, path, &rt);
	if (add) {
		rv = vpnr__dp_route_add(ctx, &rt, NULL, 0);
		path->flags |= BGP_PATH_INSTALLED;
		bgp->routes_installed++;
	} else {
		rv = vpnr__dp_route_del(ctx, &rt, NULL, 0);
		path->flags &= ~BGP_PATH_INSTALLED;
		bgp->routes_installed--;
	}
	if (rv < 0 && rv != VPNR_ERR_CALLBACK_FAILURE) {
		bgp->dp_errors++;
		if (vpnr__log_ratelimit(&bgp->log_last, ctx->now))
			vpnr__log(ctx, VPNR_LOG_WARNING, "bgp",
			    "data plane route_%s failed: %s (%llu so far)",
			    add ? "add" : "del", vpnr_strerror(rv),
			    (unsigned long long)bgp->dp_errors);
	}
}

int
vpnr__bgp_peer_usable(const struct vpnr__bgp_peer *p)
{
	return p->cfg.tunnel_id == 0 || p->tunnel_up;
}

/* Paths of a peer whose tunnel is down (kept by HOLD, or stale) are
 * left out of the decision (rank 0): nothing may point into a dead
 * tunnel.  Those over a suspect tunnel (rank 1) are used only where no
 * path over a healthy one (rank 2) exists: fast failover without
 * blackholing a prefix that has nowhere else to go. */
#define PATH_UNUSABLE 0
#define PATH_SUSPECT  1
#define PATH_USABLE   2

static int
path_rank(struct vpnr__bgp *bgp, const struct vpnr__bgp_path *path)
{
	struct vpnr__bgp_peer *p;

	if (path->peer_idx == 0)
		return PATH_USABLE;
	p = peer_of(bgp, path->peer_idx);
	if (p == NULL || !vpnr__bgp_peer_usable(p))
		return PATH_UNUSABLE;
	return p->tunnel_suspect ? PATH_SUSPECT : PATH_USABLE;
}

/* ------------------------------------------------------------------ */
/* Decision: best path and multipath set, then the diffs. */

void
vpnr__bgp_rib_decide(struct vpnr__bgp *bgp, struct vpnr__bgp_node *n)
{
	struct vpnr__bgp_path *path, *best = NULL, *old_best = NULL;
	struct vpnr__bgp_path_info bi, pi;
	int tie, acm = 0, changed = 0, top = PATH_UNUSABLE, rank;
	uint32_t nf;
	struct vpnr__bgp_peer *p;

	for (path = n->paths; path != NULL; path = path->next) {
		if (path->flags & BGP_PATH_BEST)
			old_best = path;
		if (path->peer_idx != 0 &&
		    (p = peer_of(bgp, path->peer_idx)) != NULL &&
		    p->cfg.always_compare_med)
			acm = 1;
		if ((rank = path_rank(bgp, path)) > top)
			top = rank;
	}
	if (n->paths != NULL && n->paths->next == NULL) {
		/* one path, the common case: nothing to compare */
		if (top != PATH_UNUSABLE)
			best = n->paths;
	} else if (top != PATH_UNUSABLE) {
		for (path = n->paths; path != NULL; path = path->next) {
			if (path_rank(bgp, path) != top)
				continue;
			vpnr__bgp_path_info(bgp, path, &pi);
			if (best == NULL ||
			    vpnr__bgp_decide_cmp(&pi, &bi, acm, &tie) < 0) {
				best = path;
				bi = pi;
			}
		}
	}
	for (path = n->paths; path != NULL; path = path->next) {
		nf = path->flags & ~(BGP_PATH_BEST | BGP_PATH_ECMP);
		if (path == best) {
			nf |= BGP_PATH_BEST | BGP_PATH_ECMP;
		} else if (best != NULL && path->peer_idx != 0 &&
		    best->peer_idx != 0 && path_rank(bgp, path) == top) {
			vpnr__bgp_path_info(bgp, path, &pi);
			if (vpnr__bgp_decide_cmp(&pi, &bi, acm, &tie) >= 0 &&
			    tie >= BGP_DECIDE_ECMP_STEP)
				nf |= BGP_PATH_ECMP;
		}
		if ((nf ^ path->flags) & (BGP_PATH_BEST | BGP_PATH_ECMP))
			changed = 1;
		path->flags = nf;
	}
	/* Data plane: withdraw first, then add (make-before-break is
	 * the data plane's business: it sees every op). */
	for (path = n->paths; path != NULL; path = path->next)
		if ((path->flags & BGP_PATH_INSTALLED) &&
		    !(path->flags & BGP_PATH_ECMP))
			route_op(bgp, n, path, 0);
	for (path = n->paths; path != NULL; path = path->next)
		if (!(path->flags & BGP_PATH_INSTALLED) &&
		    (path->flags & BGP_PATH_ECMP) && path->peer_idx != 0)
			route_op(bgp, n, path, 1);
	(void)changed;
	if (best != old_best || best == NULL || changed)
		vpnr__bgp_out_changed(bgp, n);
}

int
vpnr__bgp_rib_update(struct vpnr__bgp *bgp, uint32_t peer_idx,
    const struct vpnr__bgp_pfx *pfx, const struct vpnr__bgp_attrs *a,
    int *was_new)
{
	struct vpnr__bgp_table *t = &bgp->rib[vpnr__bgp_afi_idx(pfx->afi)];
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;

	*was_new = 0;
	if ((n = vpnr__bgp_table_add(bgp->ctx, t, pfx)) == NULL) {
		vpnr__bgp_attrs_unref(bgp->attrs, a);
		return VPNR_ERR_NOMEM;
	}
	for (path = n->paths; path != NULL; path = path->next)
		if (path->peer_idx == peer_idx)
			break;
	if (path != NULL) {
		path->flags &= ~BGP_PATH_STALE;
		if (path->attrs == a) {
			/* duplicate announcement */
			vpnr__bgp_attrs_unref(bgp->attrs, a);
			return VPNR_OK;
		}
		if (path->flags & BGP_PATH_INSTALLED)
			route_op(bgp, n, path, 0);
		vpnr__bgp_attrs_unref(bgp->attrs, path->attrs);
		path->attrs = a;
		/* attributes changed: the best may be the same path but
		 * advertise differently */
		path->flags &= ~BGP_PATH_BEST;
	} else {
		if ((path = vpnr__bgp_pool_get(&bgp->pool_path)) == NULL) {
			vpnr__bgp_attrs_unref(bgp->attrs, a);
			if (n->paths == NULL)
				vpnr__bgp_table_del(bgp->ctx, t, n);
			return VPNR_ERR_NOMEM;
		}
		path->attrs = a;
		path->peer_idx = peer_idx;
		path->flags = 0;
		path->lslot = 0;
		path->next = n->paths;
		n->paths = path;
		*was_new = 1;
	}
	vpnr__bgp_rib_decide(bgp, n);
	return VPNR_OK;
}

static void
path_remove(struct vpnr__bgp *bgp, struct vpnr__bgp_table *t,
    struct vpnr__bgp_node *n, struct vpnr__bgp_path **pp)
{
	struct vpnr__bgp_path *path = *pp;

	if (path->flags & BGP_PATH_INSTALLED)
		route_op(bgp, n, path, 0);
	*pp = path->next;
	vpnr__bgp_attrs_unref(bgp->attrs, path->attrs);
	vpnr__bgp_path_free(bgp, path);
	vpnr__bgp_rib_decide(bgp, n);
	if (n->paths == NULL)
		vpnr__bgp_table_del(bgp->ctx, t, n);
}

int
vpnr__bgp_rib_withdraw(struct vpnr__bgp *bgp, uint32_t peer_idx,
    const struct vpnr__bgp_pfx *pfx)
{
	struct vpnr__bgp_table *t = &bgp->rib[vpnr__bgp_afi_idx(pfx->afi)];
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path **pp;

	if ((n = vpnr__bgp_table_get(t, pfx)) == NULL)
		return 0;
	for (pp = &n->paths; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->peer_idx == peer_idx) {
			path_remove(bgp, t, n, pp);
			return 1;
		}
	}
	return 0;
}

static void
purge(struct vpnr__bgp *bgp, uint32_t peer_idx, int only_stale,
    uint8_t afi_mask)
{
	struct vpnr__bgp_table *t;
	struct vpnr__bgp_node *n, *nn;
	struct vpnr__bgp_path **pp;
	/* its counters follow what is taken out of its Adj-RIB-In */
	struct vpnr__bgp_peer *p = peer_of(bgp, peer_idx);
	size_t i;
	int a;

	for (a = 0; a < BGP_NAFI; a++) {
		if (!(afi_mask & (1 << a)))
			continue;
		t = &bgp->rib[a];
		for (i = 0; i < t->nb; i++) {
			for (n = t->b[i]; n != NULL; n = nn) {
				nn = n->hnext;
				for (pp = &n->paths; *pp != NULL;
				     pp = &(*pp)->next) {
					if ((*pp)->peer_idx != peer_idx)
						continue;
					if (only_stale &&
					    !((*pp)->flags & BGP_PATH_STALE))
						break;
					/* may free n; nn is kept */
					path_remove(bgp, t, n, pp);
					if (p != NULL &&
					    p->pfx_accepted[a] > 0) {
						p->pfx_accepted[a]--;
						p->pfx_rcvd[a]--;
					}
					break;
				}
			}
		}
	}
}

void
vpnr__bgp_rib_purge_peer(struct vpnr__bgp *bgp, uint32_t peer_idx,
    int only_stale)
{
	purge(bgp, peer_idx, only_stale, 3);
}

void
vpnr__bgp_rib_purge_peer_afi(struct vpnr__bgp *bgp, uint32_t peer_idx,
    uint8_t afi_mask)
{
	purge(bgp, peer_idx, 0, afi_mask);
}

/* fn on each path of a peer in the families of afi_mask (a peer has at
 * most one path per node; fn may change flags and issue route ops, but
 * must not free the node). */
static void
peer_paths(struct vpnr__bgp *bgp, uint32_t peer_idx, uint8_t afi_mask,
    void (*fn)(struct vpnr__bgp *, struct vpnr__bgp_node *,
	struct vpnr__bgp_path *))
{
	struct vpnr__bgp_table *t;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;
	size_t i;
	int a;

	for (a = 0; a < BGP_NAFI; a++) {
		if (!(afi_mask & (1 << a)))
			continue;
		t = &bgp->rib[a];
		for (i = 0; i < t->nb; i++)
			for (n = t->b[i]; n != NULL; n = n->hnext)
				for (path = n->paths; path != NULL;
				     path = path->next)
					if (path->peer_idx == peer_idx) {
						fn(bgp, n, path);
						break;
					}
	}
}

static void
mark_stale(struct vpnr__bgp *bgp, struct vpnr__bgp_node *n,
    struct vpnr__bgp_path *path)
{
	(void)bgp, (void)n;
	path->flags |= BGP_PATH_STALE;
}

void
vpnr__bgp_rib_mark_stale(struct vpnr__bgp *bgp, uint32_t peer_idx,
    uint8_t afi_mask)
{
	peer_paths(bgp, peer_idx, afi_mask, mark_stale);
}

static void
redecide(struct vpnr__bgp *bgp, struct vpnr__bgp_node *n,
    struct vpnr__bgp_path *path)
{
	(void)path;
	vpnr__bgp_rib_decide(bgp, n);
}

void
vpnr__bgp_rib_redecide_peer(struct vpnr__bgp *bgp, uint32_t peer_idx)
{
	peer_paths(bgp, peer_idx, 3, redecide);
}

static void
reinstall(struct vpnr__bgp *bgp, struct vpnr__bgp_node *n,
    struct vpnr__bgp_path *path)
{
	if (path->flags & BGP_PATH_INSTALLED) {
		route_op(bgp, n, path, 0);
		route_op(bgp, n, path, 1);
	}
}

void
vpnr__bgp_rib_reinstall_peer(struct vpnr__bgp *bgp, uint32_t peer_idx)
{
	peer_paths(bgp, peer_idx, 3, reinstall);
}

int
vpnr__bgp_rib_replay(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_table *t;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;
	vpnr_route rt;
	size_t i;
	int a, rv;

	(void)now;
	if (bgp == NULL)
		return VPNR_OK;
	for (a = 0; a < BGP_NAFI; a++) {
		t = &bgp->rib[a];
		for (i = 0; i < t->nb; i++)
			for (n = t->b[i]; n != NULL; n = n->hnext)
				for (path = n->paths; path != NULL;
				     path = path->next) {
					if (!(path->flags & BGP_PATH_INSTALLED))
						continue;
					route_fill(bgp, n, path, &rt);
					rv = vpnr__dp_route_add(ctx, &rt, NULL,
					    0);
					if (rv == VPNR_ERR_CALLBACK_FAILURE)
						return rv;
				}
	}
	return VPNR_OK;
}
