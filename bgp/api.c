/*
 * The public eBGP API: the peer configuration builder, peers (add,
 * enable, delete), locally originated paths, RIB walks, peer info, and
 * the engine's hooks on the context (free, shutdown, tunnel changes,
 * data-plane replay).
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/vstruct.h"

/* ------------------------------------------------------------------ */
/* Peer configuration builder */

VPNR_API int
vpnr_bgp_peer_config_new(vpnr_bgp_peer_config **ppc, const vpnr_mem *mem)
{
	vpnr_bgp_peer_config *pc;

	if (ppc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*ppc = NULL;
	if ((pc = vpnr__calloc(mem, 1, sizeof(*pc))) == NULL)
		return VPNR_ERR_NOMEM;
	if (mem != NULL) {
		pc->mem_store = *mem;
		pc->mem = &pc->mem_store;
	}
	pc->hold_s = 90;
	pc->keepalive_s = 30;
	pc->connect_retry_s = 30;
	pc->ttl = 1;
	pc->nh_self = 1;
	pc->afi_mask = 3;
	pc->gr_helper = 1;
	pc->max_prefix_action = VPNR_BGP_MAXPFX_TEARDOWN;
	pc->tunnel_down = VPNR_BGP_TUNNEL_DOWN_RESET;
	*ppc = pc;
	return VPNR_OK;
}

void
vpnr__bgp_config_clear(struct vpnr_bgp_peer_config *pc)
{
	vpnr__free(pc->mem, pc->pl_in.e);
	vpnr__free(pc->mem, pc->pl_out.e);
	pc->pl_in.e = pc->pl_out.e = NULL;
	explicit_bzero(pc->md5, sizeof(pc->md5));
}

VPNR_API void
vpnr_bgp_peer_config_del(vpnr_bgp_peer_config *pc)
{
	if (pc == NULL)
		return;
	vpnr__bgp_config_clear(pc);
	vpnr__free(pc->mem, pc);
}

static int
plist_copy(const vpnr_mem *mem, struct vpnr__bgp_plist *d,
    const struct vpnr__bgp_plist *s)
{
	*d = *s;
	d->e = NULL;
	if (s->n == 0)
		return VPNR_OK;
	d->e = vpnr__memdup(mem, s->e, s->n * sizeof(*s->e));
	return d->e == NULL ? VPNR_ERR_NOMEM : VPNR_OK;
}

int
vpnr__bgp_config_copy(const vpnr_mem *mem, struct vpnr_bgp_peer_config *dst,
    const struct vpnr_bgp_peer_config *src)
{
	*dst = *src;
	dst->mem = mem;
	dst->pl_in.e = dst->pl_out.e = NULL;
	if (plist_copy(mem, &dst->pl_in, &src->pl_in) != VPNR_OK ||
	    plist_copy(mem, &dst->pl_out, &src->pl_out) != VPNR_OK) {
		vpnr__bgp_config_clear(dst);
		return VPNR_ERR_NOMEM;
	}
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_remote(vpnr_bgp_peer_config *pc, const vpnr_addr *addr,
    uint32_t remote_as)
{
	if (pc == NULL || addr == NULL || remote_as == 0 ||
	    vpnr__addr_len(addr) == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->remote = *addr;
	pc->remote_as = remote_as;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_local(vpnr_bgp_peer_config *pc, const vpnr_addr *addr)
{
	if (pc == NULL || addr == NULL ||
	    (addr->family != 0 && vpnr__addr_len(addr) == 0))
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->local = *addr;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_timers(vpnr_bgp_peer_config *pc, uint16_t hold_s,
    uint16_t keepalive_s)
{
	if (pc == NULL || hold_s == 1 || hold_s == 2)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->hold_s = hold_s;
	pc->keepalive_s = keepalive_s ? keepalive_s : hold_s / 3;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_md5(vpnr_bgp_peer_config *pc, const uint8_t *key,
    size_t len)
{
	if (pc == NULL || len > sizeof(pc->md5) || (len > 0 && key == NULL))
		return VPNR_ERR_INVALID_ARGUMENT;
	explicit_bzero(pc->md5, sizeof(pc->md5));
	if (len > 0)
		memcpy(pc->md5, key, len);
	pc->md5_len = len;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_max_prefix(vpnr_bgp_peer_config *pc, uint32_t max)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->max_prefix = max;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_max_prefix_action(vpnr_bgp_peer_config *pc,
    uint32_t action, uint32_t restart_s)
{
	if (pc == NULL ||
	    (action != VPNR_BGP_MAXPFX_WARN &&
		action != VPNR_BGP_MAXPFX_TEARDOWN))
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->max_prefix_action = action;
	pc->max_prefix_restart_s = restart_s;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_tunnel(vpnr_bgp_peer_config *pc, uint64_t tunnel_id)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->tunnel_id = tunnel_id;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_tunnel_down(vpnr_bgp_peer_config *pc, uint32_t mode)
{
	if (pc == NULL ||
	    (mode != VPNR_BGP_TUNNEL_DOWN_RESET &&
		mode != VPNR_BGP_TUNNEL_DOWN_HOLD))
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->tunnel_down = (uint8_t)mode;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_policy(vpnr_bgp_peer_config *pc, uint32_t import,
    uint32_t export)
{
	if (pc == NULL || import > VPNR_BGP_IMPORT_ALL ||
	    export > VPNR_BGP_EXPORT_ALL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->import = (uint8_t)import;
	pc->export = (uint8_t) export;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_add_prefix_list(vpnr_bgp_peer_config *pc, uint32_t dir,
    const vpnr_prefix *prefix, uint8_t ge, uint8_t le, int permit)
{
	struct vpnr__bgp_plist *pl;
	struct vpnr__bgp_plist_entry *e;
	uint8_t maxlen;

	if (pc == NULL || prefix == NULL ||
	    (dir != VPNR_BGP_DIR_IN && dir != VPNR_BGP_DIR_OUT))
		return VPNR_ERR_INVALID_ARGUMENT;
	pl = dir == VPNR_BGP_DIR_IN ? &pc->pl_in : &pc->pl_out;
	if (pl->n >= BGP_PLIST_MAX)
		return VPNR_ERR_LIMIT;
	maxlen = prefix->addr.family == VPNR_AF_INET6 ? 128 : 32;
	if (ge == 0)
		ge = prefix->len;
	if (le == 0)
		le = ge;
	if (ge < prefix->len || le < ge || le > maxlen)
		return VPNR_ERR_INVALID_ARGUMENT;
	e = vpnr__reallocarray(pc->mem, pl->e, pl->n + 1, sizeof(*e));
	if (e == NULL)
		return VPNR_ERR_NOMEM;
	pl->e = e;
	e = &pl->e[pl->n];
	memset(e, 0, sizeof(*e));
	if (vpnr__bgp_pfx_from_public(&e->pfx, prefix) != VPNR_OK)
		return VPNR_ERR_INVALID_ARGUMENT;
	e->ge = ge;
	e->le = le;
	e->permit = permit ? 1 : 0;
	pl->n++;
	pl->set = 1;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_out_budget(vpnr_bgp_peer_config *pc, uint32_t max)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->out_budget = max;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_multihop(vpnr_bgp_peer_config *pc, uint8_t ttl)
{
	if (pc == NULL || ttl == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->ttl = ttl;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_passive(vpnr_bgp_peer_config *pc, int passive)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->passive = passive ? 1 : 0;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_export(vpnr_bgp_peer_config *pc, uint8_t prepend,
    int remove_private_as, int set_med, uint32_t med)
{
	if (pc == NULL || prepend > 16)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->prepend = prepend;
	pc->remove_private = remove_private_as ? 1 : 0;
	pc->has_med = set_med ? 1 : 0;
	pc->med = med;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_private_as_check(vpnr_bgp_peer_config *pc, int reject)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->reject_private = reject ? 1 : 0;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_families(vpnr_bgp_peer_config *pc, uint32_t mask)
{
	if (pc == NULL || mask == 0 ||
	    (mask & ~(uint32_t)(VPNR_BGP_FAM_IPV4 | VPNR_BGP_FAM_IPV6)))
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->afi_mask = (uint8_t)mask;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_graceful_restart(vpnr_bgp_peer_config *pc, int helper)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->gr_helper = helper ? 1 : 0;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_connect_timers(vpnr_bgp_peer_config *pc,
    uint16_t connect_retry_s, uint16_t send_hold_s)
{
	if (pc == NULL || connect_retry_s == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->connect_retry_s = connect_retry_s;
	pc->send_hold_s = send_hold_s;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_nexthop(vpnr_bgp_peer_config *pc, const vpnr_addr *nh)
{
	if (pc == NULL || nh == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (nh->family == VPNR_AF_INET)
		pc->nh4 = *nh;
	else if (nh->family == VPNR_AF_INET6)
		pc->nh6 = *nh;
	else
		return VPNR_ERR_INVALID_ARGUMENT;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_config_set_always_compare_med(vpnr_bgp_peer_config *pc, int on)
{
	if (pc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	pc->always_compare_med = on ? 1 : 0;
	return VPNR_OK;
}

/* ------------------------------------------------------------------ */
/* Module state */

static void
bgp_free(vpnr_ctx *ctx)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer *p;
	uint32_t i;
	int a;

	if (bgp == NULL)
		return;
	bgp->dying = 1;
	vpnr__bgp_lingers_free(ctx);
	while ((p = TAILQ_FIRST(&bgp->peers)) != NULL) {
		TAILQ_REMOVE(&bgp->peers, p, entry);
		RB_REMOVE(vpnr__bgp_peer_id_tree, &bgp->peers_by_id, p);
		RB_REMOVE(vpnr__bgp_peer_addr_tree, &bgp->peers_by_addr, p);
		RB_REMOVE(vpnr__bgp_peer_tun_tree, &bgp->peers_by_tunnel, p);
		vpnr__timer_disarm(ctx, &p->connect_timer);
		vpnr__timer_disarm(ctx, &p->idle_timer);
		vpnr__timer_disarm(ctx, &p->gr_timer);
		vpnr__bgp_peer_free_conns(p);
		for (a = 0; a < BGP_NAFI; a++)
			vpnr__bgp_table_free(ctx, &p->adj_out[a]);
		vpnr__free(ctx->mem, p->pend.v);
		vpnr__bgp_config_clear(&p->cfg);
		vpnr__free(ctx->mem, p);
	}
	for (a = 0; a < BGP_NAFI; a++)
		vpnr__bgp_table_free(ctx, &bgp->rib[a]);
	for (i = 0; i < bgp->lslot_nblk; i++)
		vpnr__free(ctx->mem, bgp->lslot[i]);
	vpnr__free(ctx->mem, bgp->lslot);
	for (a = 0; a < BGP_NAFI; a++)
		vpnr__bgp_pool_clear(&bgp->pool_node[a]);
	vpnr__bgp_pool_clear(&bgp->pool_path);
	vpnr__free(ctx->mem, bgp->by_idx);
	vpnr__free(ctx->mem, bgp->free_idx);
	vpnr__timer_disarm(ctx, &bgp->pump_timer);
	vpnr__wbuf_free(&bgp->wb);
	vpnr__free(ctx->mem, bgp->bld);
	vpnr__bgp_attr_table_free(bgp->attrs);
	vpnr__free(ctx->mem, bgp);
	ctx->bgp = NULL;
}

static int
bgp_shutdown(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer *p;

	if (bgp == NULL)
		return VPNR_OK;
	TAILQ_FOREACH(p, &bgp->peers, entry) {
		p->enabled = 0;
		vpnr__bgp_fsm_stop(p, VPNR__BGP_ERR_CEASE,
		    VPNR__BGP_CEASE_ADMIN_SHUTDOWN, NULL, 0, VPNR_OK, now);
	}
	return VPNR_OK;
}

static int
peer_wants_run(struct vpnr__bgp_peer *p)
{
	return p->enabled && !p->deleting && !p->maxpfx_tripped &&
	    (p->cfg.tunnel_id == 0 || p->tunnel_up);
}

/* A tunnel's first CHILD_SA came up or its last went (suspicion 0),
 * or it became suspect or showed life again (suspicion 1): only the
 * peers bound to it (an index range, never a walk of all peers) are
 * told. */
static int
tunnel_news(vpnr_ctx *ctx, uint64_t tunnel_id, int suspicion, int on,
    vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer key, *p, *next;
	uint32_t if_id = 0;
	int child_up = 0;

	if (bgp == NULL || tunnel_id == 0)
		return VPNR_OK;
	key.cfg.tunnel_id = tunnel_id;
	key.id = 0;
	for (p = RB_NFIND(vpnr__bgp_peer_tun_tree, &bgp->peers_by_tunnel, &key);
	     p != NULL && p->cfg.tunnel_id == tunnel_id; p = next) {
		next =
		    RB_NEXT(vpnr__bgp_peer_tun_tree, &bgp->peers_by_tunnel, p);
		if (p->deleting)
			continue;
		if (suspicion) {
			vpnr__bgp_fsm_suspect(p, on);
			continue;
		}
		if (ctx->ike_tunnel_lookup != NULL &&
		    ctx->ike_tunnel_lookup(ctx, tunnel_id, &if_id, &child_up) ==
			VPNR_OK &&
		    if_id != p->if_id) {
			p->if_id = if_id;
			vpnr__bgp_rib_reinstall_peer(bgp, p->idx);
		}
		/* a callback's failure is sticky (drive_end returns it);
		 * every peer on the tunnel must still learn its state */
		(void)vpnr__bgp_fsm_tunnel(p, on, now);
	}
	return vpnr__bgp_pump_all(ctx);
}

static int
bgp_tunnel_changed(vpnr_ctx *ctx, uint64_t tunnel_id, int up, vpnr_tstamp now)
{
	return tunnel_news(ctx, tunnel_id, 0, up, now);
}

static int
bgp_tunnel_suspect(vpnr_ctx *ctx, uint64_t tunnel_id, int suspect,
    vpnr_tstamp now)
{
	return tunnel_news(ctx, tunnel_id, 1, suspect, now);
}

struct vpnr__bgp *
vpnr__bgp_get(vpnr_ctx *ctx)
{
	struct vpnr__bgp *bgp;
	uint64_t seed = 0;

	if (ctx->bgp != NULL)
		return ctx->bgp;
	if ((bgp = vpnr__calloc(ctx->mem, 1, sizeof(*bgp))) == NULL)
		return NULL;
	bgp->ctx = ctx;
	TAILQ_INIT(&bgp->peers);
	TAILQ_INIT(&bgp->exporters);
	TAILQ_INIT(&bgp->workq);
	RB_INIT(&bgp->peers_by_id);
	RB_INIT(&bgp->peers_by_addr);
	RB_INIT(&bgp->peers_by_tunnel);
	RB_INIT(&bgp->conns);
	vpnr__bgp_table_init(&bgp->rib[0]);
	vpnr__bgp_table_init(&bgp->rib[1]);
	vpnr__bgp_pool_init(&bgp->pool_node[BGP_AFI_V4], ctx->mem,
	    offsetof(struct vpnr__bgp_node, key) + 4);
	vpnr__bgp_pool_init(&bgp->pool_node[BGP_AFI_V6], ctx->mem,
	    offsetof(struct vpnr__bgp_node, key) + 16);
	vpnr__bgp_pool_init(&bgp->pool_path, ctx->mem,
	    sizeof(struct vpnr__bgp_path));
	vpnr__wbuf_init(&bgp->wb, ctx->mem, 1 << 20);
	(void)vpnr__random(ctx, &seed, sizeof(seed));
	if ((bgp->bld = vpnr__malloc(ctx->mem, sizeof(*bgp->bld))) == NULL ||
	    vpnr__bgp_attr_table_new(&bgp->attrs, ctx->mem, seed) != VPNR_OK) {
		vpnr__free(ctx->mem, bgp->bld);
		vpnr__free(ctx->mem, bgp);
		return NULL;
	}
	bgp->n_idx = 1; /* index 0: local */
	ctx->bgp = bgp;
	ctx->bgp_free = bgp_free;
	ctx->bgp_shutdown = bgp_shutdown;
	ctx->bgp_tunnel_changed = bgp_tunnel_changed;
	ctx->bgp_tunnel_suspect = bgp_tunnel_suspect;
	ctx->bgp_replay_routes = vpnr__bgp_rib_replay;
	return bgp;
}

static int
peer_id_cmp(const struct vpnr__bgp_peer *a, const struct vpnr__bgp_peer *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE(vpnr__bgp_peer_id_tree, vpnr__bgp_peer, id_entry, peer_id_cmp)

/* Remote address bytes (no port), then id: one address is one range. */
static int
peer_addr_cmp(const struct vpnr__bgp_peer *a, const struct vpnr__bgp_peer *b)
{
	const vpnr_addr *x = &a->cfg.remote, *y = &b->cfg.remote;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((c = memcmp(x->bytes, y->bytes, vpnr__addr_len(x))) != 0)
		return c;
	return peer_id_cmp(a, b);
}
RB_GENERATE(vpnr__bgp_peer_addr_tree, vpnr__bgp_peer, addr_entry, peer_addr_cmp)

/* The tunnel a peer runs over (0: none), then id. */
static int
peer_tun_cmp(const struct vpnr__bgp_peer *a, const struct vpnr__bgp_peer *b)
{
	if (a->cfg.tunnel_id != b->cfg.tunnel_id)
		return a->cfg.tunnel_id < b->cfg.tunnel_id ? -1 : 1;
	return peer_id_cmp(a, b);
}
RB_GENERATE(vpnr__bgp_peer_tun_tree, vpnr__bgp_peer, tun_entry, peer_tun_cmp)

static struct vpnr__bgp_peer *
peer_by_id(struct vpnr__bgp *bgp, uint64_t id)
{
	struct vpnr__bgp_peer key;

	key.id = id;
	return RB_FIND(vpnr__bgp_peer_id_tree, &bgp->peers_by_id, &key);
}

struct vpnr__bgp_peer *
vpnr__bgp_peer_find(struct vpnr__bgp *bgp, uint64_t id)
{
	struct vpnr__bgp_peer *p;

	if (bgp == NULL || (p = peer_by_id(bgp, id)) == NULL || p->deleting)
		return NULL;
	return p;
}

struct vpnr__bgp_peer *
vpnr__bgp_peer_first_by_addr(struct vpnr__bgp *bgp, const vpnr_addr *remote)
{
	struct vpnr__bgp_peer key, *p;

	if (bgp == NULL)
		return NULL;
	key.cfg.remote = *remote;
	key.id = 0;
	p = RB_NFIND(vpnr__bgp_peer_addr_tree, &bgp->peers_by_addr, &key);
	if (p == NULL || !vpnr__addr_eq(&p->cfg.remote, remote))
		return NULL;
	return p;
}

struct vpnr__bgp_peer *
vpnr__bgp_peer_next_by_addr(struct vpnr__bgp *bgp, struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp_peer *n;

	n = RB_NEXT(vpnr__bgp_peer_addr_tree, &bgp->peers_by_addr, p);
	if (n == NULL || !vpnr__addr_eq(&n->cfg.remote, &p->cfg.remote))
		return NULL;
	return n;
}

/* ------------------------------------------------------------------ */
/* Peers */

/* A path owner index: a deleted peer's first, else a new one.  The
 * free list has room for every index, so deleting never allocates. */
static int
alloc_idx(struct vpnr__bgp *bgp, struct vpnr__bgp_peer *p)
{
	struct vpnr__bgp_peer **v;
	uint32_t i, *f, cap;

	if (bgp->n_free_idx > 0) {
		i = bgp->free_idx[--bgp->n_free_idx];
	} else {
		if (bgp->n_idx >= bgp->cap_idx) {
			if (bgp->cap_idx >= UINT32_MAX / 2)
				return VPNR_ERR_LIMIT;
			cap = bgp->cap_idx ? bgp->cap_idx * 2 : 16;
			v = vpnr__reallocarray(bgp->ctx->mem, bgp->by_idx, cap,
			    sizeof(*v));
			if (v == NULL)
				return VPNR_ERR_NOMEM;
			bgp->by_idx = v;
			f = vpnr__reallocarray(bgp->ctx->mem, bgp->free_idx,
			    cap, sizeof(*f));
			if (f == NULL)
				return VPNR_ERR_NOMEM;
			bgp->free_idx = f;
			if (bgp->cap_idx == 0)
				bgp->by_idx[0] = NULL; /* local */
			bgp->cap_idx = cap;
		}
		i = bgp->n_idx++;
	}
	bgp->by_idx[i] = p;
	p->idx = i;
	return VPNR_OK;
}

VPNR_API int
vpnr_bgp_peer_add(vpnr_ctx *ctx, const vpnr_bgp_peer_config *pc,
    void *peer_user_data, uint64_t *peer_id)
{
	struct vpnr__bgp *bgp;
	struct vpnr__bgp_peer *p, *q;
	int a;

	if (ctx == NULL || pc == NULL || peer_id == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (vpnr__ctx_in_callback(ctx))
		return VPNR_ERR_IN_CALLBACK;
	*peer_id = 0;
	if (pc->remote_as == 0 || vpnr__addr_len(&pc->remote) == 0)
		return vpnr__ctx_error(ctx, VPNR_ERR_INVALID_ARGUMENT,
		    "bgp peer: remote address and AS required");
	if (ctx->cfg.local_as == 0)
		return vpnr__ctx_error(ctx, VPNR_ERR_INVALID_STATE,
		    "bgp peer: no local AS configured");
	if (pc->remote_as == ctx->cfg.local_as)
		return vpnr__ctx_error(ctx, VPNR_ERR_UNSUPPORTED,
		    "bgp peer: iBGP is not supported");
	if ((bgp = vpnr__bgp_get(ctx)) == NULL)
		return VPNR_ERR_NOMEM;
	for (q = vpnr__bgp_peer_first_by_addr(bgp, &pc->remote); q != NULL;
	     q = vpnr__bgp_peer_next_by_addr(bgp, q))
		if (!q->deleting)
			return vpnr__ctx_error(ctx, VPNR_ERR_EXISTS,
			    "bgp peer: address already configured");
	if ((p = vpnr__calloc(ctx->mem, 1, sizeof(*p))) == NULL)
		return VPNR_ERR_NOMEM;
	if (vpnr__bgp_config_copy(ctx->mem, &p->cfg, pc) != VPNR_OK) {
		vpnr__free(ctx->mem, p);
		return VPNR_ERR_NOMEM;
	}
	if (alloc_idx(bgp, p) != VPNR_OK) {
		vpnr__bgp_config_clear(&p->cfg);
		vpnr__free(ctx->mem, p);
		return VPNR_ERR_NOMEM;
	}
	p->ctx = ctx;
	p->id = vpnr__ctx_new_id(ctx);
	p->user_data = peer_user_data;
	p->state = BGP_ST_IDLE;
	for (a = 0; a < BGP_NAFI; a++) {
		vpnr__bgp_table_init(&p->adj_out[a]);
		p->adj_out[a].adj_out = 1;
	}
	vpnr__bgp_peer_timers_init(p);
	TAILQ_INSERT_TAIL(&bgp->peers, p, entry);
	RB_INSERT(vpnr__bgp_peer_id_tree, &bgp->peers_by_id, p);
	RB_INSERT(vpnr__bgp_peer_addr_tree, &bgp->peers_by_addr, p);
	RB_INSERT(vpnr__bgp_peer_tun_tree, &bgp->peers_by_tunnel, p);
	*peer_id = p->id;
	return VPNR_OK;
}

static int
peer_enable_run(vpnr_ctx *ctx, uint64_t id, uint32_t enable, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = vpnr__bgp_peer_find(ctx->bgp, id);
	uint32_t if_id = 0;
	int up = 0;

	if (p == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (enable) {
		p->enabled = 1;
		p->maxpfx_tripped = 0;
		if (p->cfg.tunnel_id != 0 && ctx->ike_tunnel_lookup != NULL &&
		    ctx->ike_tunnel_lookup(ctx, p->cfg.tunnel_id, &if_id,
			&up) == VPNR_OK) {
			p->if_id = if_id;
			if ((up != 0) != (p->tunnel_up != 0))
				return vpnr__bgp_fsm_tunnel(p, up, now);
		}
		if (peer_wants_run(p) && p->state == BGP_ST_IDLE)
			return vpnr__bgp_fsm_start(p, now);
		return VPNR_OK;
	}
	p->enabled = 0;
	vpnr__timer_disarm(ctx, &p->idle_timer);
	return vpnr__bgp_fsm_stop(p, VPNR__BGP_ERR_CEASE,
	    VPNR__BGP_CEASE_ADMIN_SHUTDOWN, NULL, 0, VPNR_OK, now);
}

static int
peer_enable_call(vpnr_ctx *ctx, uint64_t id, uint32_t enable, vpnr_tstamp now)
{
	int rv = peer_enable_run(ctx, id, enable, now);

	return rv == VPNR_OK ? vpnr__bgp_pump_all(ctx) : rv;
}

VPNR_API int
vpnr_bgp_peer_enable(vpnr_ctx *ctx, uint64_t peer_id, int enable,
    vpnr_tstamp now)
{
	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (vpnr__bgp_peer_find(ctx->bgp, peer_id) == NULL)
		return VPNR_ERR_NOT_FOUND;
	return vpnr__ctx_call(ctx, VPNR__CALL_QUEUE, peer_enable_call, peer_id,
	    enable ? 1 : 0, now);
}

static int
peer_del_run(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_peer *p;
	int a;

	(void)arg;
	if (bgp == NULL)
		return VPNR_ERR_NOT_FOUND;
	if ((p = peer_by_id(bgp, id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	p->enabled = 0;
	vpnr__bgp_fsm_stop(p, VPNR__BGP_ERR_CEASE, VPNR__BGP_CEASE_PEER_DECONF,
	    NULL, 0, VPNR_OK, now);
	/* routes kept for graceful restart go now */
	vpnr__bgp_rib_purge_peer(bgp, p->idx, 0);
	vpnr__timer_disarm(ctx, &p->connect_timer);
	vpnr__timer_disarm(ctx, &p->idle_timer);
	vpnr__timer_disarm(ctx, &p->gr_timer);
	vpnr__bgp_peer_free_conns(p);
	vpnr__bgp_out_forget(p);
	TAILQ_REMOVE(&bgp->peers, p, entry);
	RB_REMOVE(vpnr__bgp_peer_id_tree, &bgp->peers_by_id, p);
	RB_REMOVE(vpnr__bgp_peer_addr_tree, &bgp->peers_by_addr, p);
	RB_REMOVE(vpnr__bgp_peer_tun_tree, &bgp->peers_by_tunnel, p);
	bgp->by_idx[p->idx] = NULL;
	/* room was made when the peer was added */
	bgp->free_idx[bgp->n_free_idx++] = p->idx;
	for (a = 0; a < BGP_NAFI; a++)
		vpnr__bgp_table_free(ctx, &p->adj_out[a]);
	vpnr__free(ctx->mem, p->pend.v);
	vpnr__bgp_config_clear(&p->cfg);
	vpnr__free(ctx->mem, p);
	return VPNR_OK;
}

static int
peer_del_call(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	int rv = peer_del_run(ctx, id, arg, now);

	return rv == VPNR_OK ? vpnr__bgp_pump_all(ctx) : rv;
}

VPNR_API int
vpnr_bgp_peer_del(vpnr_ctx *ctx, uint64_t peer_id, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p;

	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((p = vpnr__bgp_peer_find(ctx->bgp, peer_id)) == NULL || p->deleting)
		return VPNR_ERR_NOT_FOUND;
	return vpnr__ctx_delete(ctx, peer_del_call, peer_id, now, &p->deleting);
}

VPNR_API int
vpnr_bgp_peer_get_info_versioned(const vpnr_ctx *ctx, uint64_t peer_id,
    int info_version, vpnr_bgp_peer_info *out)
{
	struct vpnr__bgp_peer *p;
	vpnr_bgp_peer_info latest, *info = &latest;

	/* Any version up to ours; the caller gets exactly its bytes. */
	if (ctx == NULL || out == NULL ||
	    !VPNR__VKNOWN(info_version, VPNR__VS_BGP_PEER_INFO))
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((p = vpnr__bgp_peer_find(ctx->bgp, peer_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	memset(info, 0, sizeof(*info));
	info->state = (uint32_t)p->state;
	info->remote_as = p->cfg.remote_as;
	info->remote = p->cfg.remote;
	info->peer_router_id = p->sess.peer_id;
	info->hold_s = p->sess.hold_s;
	info->keepalive_s = p->sess.ka_s;
	info->families = p->sess.afi;
	info->established_at = p->state == BGP_ST_ESTABLISHED ? p->est_at : 0;
	info->pfx_received_v4 = p->pfx_rcvd[0];
	info->pfx_received_v6 = p->pfx_rcvd[1];
	info->pfx_accepted_v4 = p->pfx_accepted[0];
	info->pfx_accepted_v6 = p->pfx_accepted[1];
	info->pfx_sent_v4 = p->pfx_out[0];
	info->pfx_sent_v6 = p->pfx_out[1];
	info->msgs_in = p->rx_msgs;
	info->msgs_out = p->tx_msgs;
	info->updates_in = p->rx_updates;
	info->updates_out = p->tx_updates;
	info->malformed = p->malformed;
	info->treat_as_withdraw = p->treat_as_withdraw;
	info->flaps = p->flaps;
	info->last_reason = p->last_reason;
	info->last_notif_code = p->last_notif_code;
	info->last_notif_subcode = p->last_notif_sub;
	return VPNR__VCOPY_OUT(out, &latest, info_version,
	    VPNR__VS_BGP_PEER_INFO);
}

/* The exported twin of the vpnr_bgp_peer_get_info macro: version 1. */
VPNR_API int(vpnr_bgp_peer_get_info)(const vpnr_ctx *ctx, uint64_t peer_id,
    vpnr_bgp_peer_info *info)
{
	return vpnr_bgp_peer_get_info_versioned(ctx, peer_id,
	    VPNR_BGP_PEER_INFO_V1, info);
}

/* ------------------------------------------------------------------ */
/* Locally originated paths */

/* Path ids: see struct vpnr__bgp (lslot). */
static uintptr_t *
slot_node(struct vpnr__bgp *bgp, uint32_t slot)
{
	return &bgp->lslot[slot / BGP_LSLOT_BLOCK]
		    ->node[slot % BGP_LSLOT_BLOCK];
}

static uint32_t *
slot_gen(struct vpnr__bgp *bgp, uint32_t slot)
{
	return &bgp->lslot[slot / BGP_LSLOT_BLOCK]->gen[slot % BGP_LSLOT_BLOCK];
}

static int
slot_alloc(struct vpnr__bgp *bgp, uint32_t *slot)
{
	struct vpnr__bgp_lslots **v, *blk;

	if (bgp->lslot_free != 0) {
		*slot = bgp->lslot_free - 1;
		bgp->lslot_free = (uint32_t)(*slot_node(bgp, *slot) >> 1);
		*slot_node(bgp, *slot) = 0;
		return VPNR_OK;
	}
	if (bgp->lslot_n == bgp->lslot_nblk * BGP_LSLOT_BLOCK) {
		if (bgp->lslot_n > BGP_LSLOT_MAX)
			return VPNR_ERR_LIMIT;
		v = vpnr__reallocarray(bgp->ctx->mem, bgp->lslot,
		    bgp->lslot_nblk + 1, sizeof(*v));
		if (v == NULL)
			return VPNR_ERR_NOMEM;
		bgp->lslot = v;
		if ((blk = vpnr__malloc(bgp->ctx->mem, sizeof(*blk))) == NULL)
			return VPNR_ERR_NOMEM;
		bgp->lslot[bgp->lslot_nblk++] = blk;
	}
	*slot = bgp->lslot_n++;
	*slot_node(bgp, *slot) = 0;
	return VPNR_OK;
}

static void
slot_free(struct vpnr__bgp *bgp, uint32_t slot)
{
	*slot_node(bgp, slot) = (uintptr_t)bgp->lslot_free << 1 | 1;
	*slot_gen(bgp, slot) = 0;
	bgp->lslot_free = slot + 1;
}

static struct vpnr__bgp_path *
local_of(const struct vpnr__bgp_node *n)
{
	struct vpnr__bgp_path *path;

	for (path = n != NULL ? n->paths : NULL; path != NULL;
	     path = path->next)
		if (path->peer_idx == 0)
			return path;
	return NULL;
}

/* The node whose local path id is id, or NULL. */
static struct vpnr__bgp_node *
lp_find(struct vpnr__bgp *bgp, uint64_t id)
{
	uint32_t slot = (uint32_t)id - 1, gen = (uint32_t)(id >> 32);
	uintptr_t n;

	if ((uint32_t)id == 0 || slot >= bgp->lslot_n || gen == 0)
		return NULL;
	n = *slot_node(bgp, slot);
	if ((n & 1) || n == 0 || *slot_gen(bgp, slot) != gen)
		return NULL;
	return (struct vpnr__bgp_node *)n;
}

VPNR_API int
vpnr_bgp_path_add_versioned(vpnr_ctx *ctx, const vpnr_prefix *prefix,
    int attrs_version, const vpnr_path_attrs *attrs_in, uint64_t *path_id,
    vpnr_tstamp now)
{
	vpnr_path_attrs attrs_copy;
	const vpnr_path_attrs *attrs = NULL;
	struct vpnr__bgp *bgp;
	struct vpnr__bgp_attrs_build *b;
	struct vpnr__bgp_path *lp, *old;
	struct vpnr__bgp_node *n;
	const struct vpnr__bgp_attrs *a;
	struct vpnr__bgp_pfx pfx;
	struct vpnr__bgp_table *t;
	size_t i;
	uint32_t slot = 0;
	int rv, was_new;

	if (ctx == NULL || prefix == NULL || path_id == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*path_id = 0;
	if (vpnr__bgp_pfx_from_public(&pfx, prefix) != VPNR_OK)
		return VPNR_ERR_INVALID_ARGUMENT;
	/* The caller's version, zero-extended; reserved must be zero so
	 * that a later version can give it a meaning. */
	if (VPNR__VCOPY_IN(&attrs_copy, attrs_in, attrs_version,
		VPNR__VS_PATH_ATTRS) != VPNR_OK)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (attrs_in != NULL) {
		for (i = 0; i < sizeof(attrs_copy.reserved) /
			 sizeof(attrs_copy.reserved[0]);
		     i++)
			if (attrs_copy.reserved[i] != 0)
				return VPNR_ERR_INVALID_ARGUMENT;
		/* output-only fields: our paths start empty, ORIGIN IGP */
		if (attrs_copy.as_path != NULL || attrs_copy.n_as_path != 0 ||
		    attrs_copy.origin != 0 || attrs_copy.reserved32 != 0)
			return VPNR_ERR_INVALID_ARGUMENT;
		attrs = &attrs_copy;
	}
	if (attrs != NULL && attrs->n_communities > 0 &&
	    attrs->communities == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	if ((bgp = vpnr__bgp_get(ctx)) == NULL) {
		rv = VPNR_ERR_NOMEM;
		goto out;
	}
	b = bgp->bld;
	vpnr__bgp_attrs_build_init(b);
	b->flags |= VPNR__BGP_A_ORIGIN | VPNR__BGP_A_ASPATH;
	b->origin = VPNR__BGP_ORIGIN_IGP;
	if (attrs != NULL) {
		if (attrs->nexthop.family != 0)
			vpnr__bgp_attrs_build_set_nexthop(b, &attrs->nexthop,
			    NULL);
		if (attrs->flags & VPNR_PATH_F_HAS_MED) {
			b->flags |= VPNR__BGP_A_MED;
			b->med = attrs->med;
		}
		for (i = 0; i < attrs->n_communities; i++)
			if (vpnr__bgp_attrs_build_add_comm(b,
				attrs->communities[i]) != VPNR_OK) {
				rv = VPNR_ERR_LIMIT;
				goto out;
			}
	}
	a = vpnr__bgp_attrs_intern(bgp->attrs, b,
	    attrs != NULL && attrs->nexthop.family != 0 ?
		vpnr__bgp_aid_from_family(attrs->nexthop.family) :
		-1);
	if (a == NULL) {
		rv = VPNR_ERR_NOMEM;
		goto out;
	}
	/* One local path per prefix: a new add replaces the old one in
	 * its slot, with a new generation. */
	t = &bgp->rib[vpnr__bgp_afi_idx(pfx.afi)];
	old = local_of(vpnr__bgp_table_get(t, &pfx));
	if (old == NULL && (rv = slot_alloc(bgp, &slot)) != VPNR_OK) {
		vpnr__bgp_attrs_unref(bgp->attrs, a);
		goto out;
	}
	if ((rv = vpnr__bgp_rib_update(bgp, 0, &pfx, a, &was_new)) != VPNR_OK) {
		if (old == NULL)
			slot_free(bgp, slot);
		goto out;
	}
	n = vpnr__bgp_table_get(t, &pfx);
	lp = local_of(n);
	if (old == NULL) {
		lp->lslot = slot & BGP_LSLOT_MAX;
		*slot_node(bgp, slot) = (uintptr_t)n;
	}
	slot = lp->lslot;
	if (++bgp->lgen == 0)
		bgp->lgen = 1;
	*slot_gen(bgp, slot) = bgp->lgen;
	*path_id = (uint64_t)bgp->lgen << 32 | (slot + 1);
	rv = vpnr__bgp_pump_soon(ctx);
out:
	return vpnr__drive_end(ctx, rv);
}

/* The exported twin of the vpnr_bgp_path_add macro: version 1. */
VPNR_API int(vpnr_bgp_path_add)(vpnr_ctx *ctx, const vpnr_prefix *prefix,
    const vpnr_path_attrs *attrs, uint64_t *path_id, vpnr_tstamp now)
{
	return vpnr_bgp_path_add_versioned(ctx, prefix, VPNR_PATH_ATTRS_V1,
	    attrs, path_id, now);
}

VPNR_API int
vpnr_bgp_path_del(vpnr_ctx *ctx, uint64_t path_id, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_pfx pfx;
	int rv;

	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((bgp = ctx->bgp) == NULL || (n = lp_find(bgp, path_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	slot_free(bgp, (uint32_t)path_id - 1);
	vpnr__bgp_node_pfx(n, &pfx);
	vpnr__bgp_rib_withdraw(bgp, 0, &pfx);
	rv = vpnr__bgp_pump_soon(ctx);
	return vpnr__drive_end(ctx, rv);
}

/* ------------------------------------------------------------------ */
/* RIB walk */

/* scratch: VPNR__BGP_MAX_ASPATH_WORDS words for multi-segment paths */
static int
walk_table(struct vpnr__bgp *bgp, struct vpnr__bgp_table *t, int rib,
    uint32_t idx, uint64_t peer_id,
    int (*cb)(const vpnr_prefix *, const vpnr_path_attrs *, uint64_t, void *),
    void *arg, uint32_t *scratch)
{
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;
	struct vpnr__bgp_pfx pfx;
	vpnr_prefix pub;
	vpnr_path_attrs pa;
	uint64_t pid;
	size_t i;
	int rv;

	for (i = 0; i < t->nb; i++) {
		for (n = t->b[i]; n != NULL; n = n->hnext) {
			if (rib == VPNR_RIB_ADJ_OUT) {
				/* one sent attribute set per node */
				vpnr__bgp_node_pfx(n, &pfx);
				vpnr__bgp_pfx_to_public(&pfx, &pub);
				vpnr__bgp_attrs_to_public(n->out, &pa);
				pa.as_path = vpnr__bgp_attrs_aspath_flat(n->out,
				    scratch, &pa.n_as_path);
				if ((rv = cb(&pub, &pa, peer_id, arg)) != 0)
					return rv;
				continue;
			}
			for (path = n->paths; path != NULL; path = path->next) {
				if (rib == VPNR_RIB_ADJ_IN &&
				    path->peer_idx != idx)
					continue;
				if (rib == VPNR_RIB_LOC &&
				    !(path->flags & BGP_PATH_ECMP))
					continue;
				if (rib == VPNR_RIB_LOC && peer_id != 0 &&
				    path->peer_idx != idx)
					continue;
				vpnr__bgp_node_pfx(n, &pfx);
				vpnr__bgp_pfx_to_public(&pfx, &pub);
				vpnr__bgp_attrs_to_public(path->attrs, &pa);
				pa.as_path =
				    vpnr__bgp_attrs_aspath_flat(path->attrs,
					scratch, &pa.n_as_path);
				pid = path->peer_idx == 0 ?
				    0 :
				    bgp->by_idx[path->peer_idx]->id;
				if ((rv = cb(&pub, &pa, pid, arg)) != 0)
					return rv;
			}
		}
	}
	return 0;
}

VPNR_API int
vpnr_bgp_rib_walk(vpnr_ctx *ctx, int rib, uint64_t peer_id,
    int (*cb)(const vpnr_prefix *prefix, const vpnr_path_attrs *attrs,
	uint64_t peer_id, void *arg),
    void *arg)
{
	struct vpnr__bgp *bgp;
	struct vpnr__bgp_peer *p = NULL;
	uint32_t *scratch;
	int a, rv;

	if (ctx == NULL || cb == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (rib != VPNR_RIB_ADJ_IN && rib != VPNR_RIB_LOC &&
	    rib != VPNR_RIB_ADJ_OUT)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((bgp = ctx->bgp) == NULL)
		return rib == VPNR_RIB_LOC ? VPNR_OK : VPNR_ERR_NOT_FOUND;
	if (rib != VPNR_RIB_LOC || peer_id != 0) {
		if ((p = vpnr__bgp_peer_find(bgp, peer_id)) == NULL)
			return VPNR_ERR_NOT_FOUND;
	}
	/* per walk, not per route: multi-segment paths are flattened
	 * here (bgp->bld may be in use when a callback walks) */
	scratch = vpnr__malloc(ctx->mem,
	    VPNR__BGP_MAX_ASPATH_WORDS * sizeof(*scratch));
	if (scratch == NULL)
		return VPNR_ERR_NOMEM;
	ctx->cb_depth++; /* the callback must not drive the context */
	rv = 0;
	for (a = 0; a < BGP_NAFI && rv == 0; a++)
		rv = walk_table(bgp,
		    rib == VPNR_RIB_ADJ_OUT ? &p->adj_out[a] : &bgp->rib[a],
		    rib, p != NULL ? p->idx : 0, peer_id, cb, arg, scratch);
	ctx->cb_depth--;
	vpnr__free(ctx->mem, scratch);
	return VPNR_OK;
}
