/*
 * libFuzzer harness for the BGP session engine, and the invariants it
 * must keep.  Our speaker (AS 65010) has two eBGP peers of AS 65001:
 * A (192.0.2.9) over tunnel 7 and B (192.0.2.10), over tunnel 8 or
 * none.  The input is a script: it plays both peers' TCP bytes (the
 * harness plays their OPEN and KEEPALIVE when a connection comes up),
 * closes their connections, moves the clock, adds and removes our own
 * paths, enables and disables peers, blocks the transports, and takes
 * the tunnels down and up the way the IKE engine does (through the
 * context's tunnel hooks, which is why this harness links the internal
 * library), so framing, UPDATE processing (RFC 7606), RIB, decision,
 * export, timers and the tunnel-down modes all see hostile data.
 *
 * Input: one flags byte, then ops.
 *   flags bit 0: A is VPNR_BGP_TUNNEL_DOWN_HOLD (else RESET)
 *         bit 1: B runs over tunnel 8
 *         bit 2: B is HOLD
 *         bit 3: graceful-restart helper off on both
 *         bit 4: B is active (we connect; else passive, as A)
 *         bit 5: export all (transit) to both, else our paths only
 * Each op is one byte: low 3 bits the op, bit 3 the peer (A/B) or the
 * tunnel (7/8), bits 4-7 an argument.
 *   0 [len:u8][dt:u8][len bytes]: bytes from the peer, then the clock
 *     moves dt/4 s
 *   1 the tunnel goes down if up, up if down
 *   2 the peer connects (passive: we accept; active: our pending open
 *     completes), and its OPEN + KEEPALIVE arrive
 *   3 the host reports the peer's connection closed
 *   4 [dt:u8]: the clock moves dt/4 s (x16 with argument bit 0)
 *   5 our path number (argument & 7) is added, or removed if present
 *   6 the peer is disabled if enabled, enabled if not
 *   7 the peer's transport blocks (sends return WOULDBLOCK), or
 *     unblocks and the host says writable
 *
 * After every op the harness checks, and abort()s on a violation:
 *   - route_add / route_del balanced per route (prefix, next hop,
 *     interface): no add of an installed route, no del of one that is
 *     not; every installed route is in the RIB's multipath set and the
 *     RIB installed exactly those (counted both ways);
 *   - no installed route of a peer that is not Established, unless it
 *     is a graceful-restart stale route; none of a peer whose tunnel is
 *     down (both modes);
 *   - a RESET peer whose tunnel went down is no longer Established and
 *     said VPNR_ERR_TUNNEL_DOWN; a HOLD peer's session outlives it;
 *   - ids (peers, our paths, transports, data-plane ops) never reused;
 *   - counters (messages, UPDATEs, malformed, treat-as-withdraw, flaps)
 *     never go back; a new session only with a flap counted; the
 *     received/accepted prefix counts equal the peer's Adj-RIB-In;
 *   - the pools hand out exactly the nodes and paths the RIB and the
 *     Adj-RIBs-Out hold; every Established peer with an export policy
 *     is on the exporters list and every peer with export work on the
 *     work list (the per-change and per-pump walks see only those).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "bgp/bgp.h"
#include "lib/ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_OPS    512
#define FZ_MAX_ROUTES 4096
#define FZ_NPEER      2

#define CHECK(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "fuzz_bgp_session: %s:%d: %s\n", \
			    __FILE__, __LINE__, #c); \
			abort(); \
		} \
	} while (0)

/* ---- ids: an open-addressing set, never shrinks within one input */

static uint64_t *ids;
static size_t ids_n, ids_cap;

static void
id_insert(uint64_t id)
{
	size_t i, cap;
	uint64_t *old;

	if (ids_n * 2 >= ids_cap) {
		old = ids;
		cap = ids_cap;
		ids_cap = cap ? cap * 2 : 1024;
		ids = calloc(ids_cap, sizeof(*ids));
		CHECK(ids != NULL);
		ids_n = 0;
		for (i = 0; i < cap; i++)
			if (old[i] != 0)
				id_insert(old[i]);
		free(old);
	}
	for (i = (id * 0x9E3779B97F4A7C15ull) & (ids_cap - 1); ids[i] != 0;
	     i = (i + 1) & (ids_cap - 1))
		CHECK(ids[i] != id); /* an id handed out twice */
	ids[i] = id;
	ids_n++;
}

/* ---- the recording data plane */

struct fz_route {
	vpnr_prefix pfx;
	vpnr_addr nh;
	uint32_t if_id;
	uint64_t peer_id, tunnel_id;
};

static struct fz_route routes[FZ_MAX_ROUTES];
static int n_routes;

static int
route_same(const struct fz_route *r, const vpnr_route *rt)
{
	return memcmp(&r->pfx, &rt->prefix, sizeof(r->pfx)) == 0 &&
	    memcmp(&r->nh, &rt->nexthop, sizeof(r->nh)) == 0 &&
	    r->if_id == rt->if_id;
}

static int
f_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	int i;

	(void)ctx, (void)d;
	id_insert(op);
	for (i = 0; i < n_routes; i++)
		CHECK(!route_same(&routes[i], rt)); /* added twice */
	CHECK(n_routes < FZ_MAX_ROUTES);
	routes[n_routes].pfx = rt->prefix;
	routes[n_routes].nh = rt->nexthop;
	routes[n_routes].if_id = rt->if_id;
	routes[n_routes].peer_id = rt->peer_id;
	routes[n_routes].tunnel_id = rt->tunnel_id;
	n_routes++;
	return VPNR_OK;
}

static int
f_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	int i;

	(void)ctx, (void)d;
	id_insert(op);
	for (i = 0; i < n_routes; i++)
		if (route_same(&routes[i], rt)) {
			CHECK(routes[i].peer_id == rt->peer_id);
			CHECK(routes[i].tunnel_id == rt->tunnel_id);
			routes[i] = routes[--n_routes];
			return VPNR_OK;
		}
	CHECK(0); /* route_del of a route that is not installed */
	return VPNR_OK;
}

/* ---- the peers and their transports */

struct fz_peer {
	uint64_t id;
	vpnr_addr addr;
	uint64_t tunnel; /* 0: none */
	uint32_t mode;   /* VPNR_BGP_TUNNEL_DOWN_* */
	int active, enabled, blocked;
	uint64_t tid;     /* live connection, 0: none */
	uint64_t pending; /* active: transport_open not yet answered */
	vpnr_bgp_peer_info last;
	int have_last;
	int down_tunnel_ev; /* DOWN events with VPNR_ERR_TUNNEL_DOWN */
};

static struct fz_peer peers[FZ_NPEER];
static int tun_up[9];

static struct fz_peer *
peer_by_tid(uint64_t tid)
{
	int i;

	for (i = 0; i < FZ_NPEER; i++)
		if (tid != 0 &&
		    (peers[i].tid == tid || peers[i].pending == tid))
			return &peers[i];
	return NULL;
}

static int64_t
f_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *d, size_t len, void *u)
{
	struct fz_peer *p = peer_by_tid(tid);

	(void)ctx, (void)d, (void)u;
	if (p != NULL && p->blocked)
		return VPNR_ERR_WOULDBLOCK;
	return (int64_t)len;
}

static void
f_close(vpnr_ctx *ctx, uint64_t tid, void *u)
{
	struct fz_peer *p = peer_by_tid(tid);

	(void)ctx, (void)u;
	if (p == NULL)
		return;
	if (p->tid == tid)
		p->tid = 0;
	if (p->pending == tid)
		p->pending = 0;
}

static int
f_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *l, const vpnr_addr *r,
    uint8_t ttl, const uint8_t *k, size_t kl, void *u)
{
	int i;

	(void)ctx, (void)l, (void)ttl, (void)k, (void)kl, (void)u;
	id_insert(tid);
	for (i = 0; i < FZ_NPEER; i++)
		if (memcmp(r->bytes, peers[i].addr.bytes, 4) == 0) {
			CHECK(peers[i].active);
			peers[i].pending = tid;
			return VPNR_OK;
		}
	CHECK(0); /* a connection to nobody */
	return VPNR_OK;
}

static int
f_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *u)
{
	int i;

	(void)ctx, (void)u;
	for (i = 0; i < FZ_NPEER; i++)
		if (ev->peer_id == peers[i].id &&
		    ev->type == VPNR_BGP_EV_DOWN &&
		    ev->reason == VPNR_ERR_TUNNEL_DOWN)
			peers[i].down_tunnel_ev++;
	return VPNR_OK;
}

static int
f_lookup(const vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t *if_id,
    int *child_up)
{
	(void)ctx;
	if (tunnel_id != 7 && tunnel_id != 8)
		return VPNR_ERR_NOT_FOUND;
	*if_id = 100 + (uint32_t)tunnel_id;
	*child_up = tun_up[tunnel_id];
	return VPNR_OK;
}

/* ---- invariants */

static int
count_adj(const vpnr_prefix *p, const vpnr_path_attrs *a, uint64_t peer,
    void *arg)
{
	uint32_t *n = arg;

	(void)a, (void)peer;
	n[p->addr.family == VPNR_AF_INET6 ? 1 : 0]++;
	return 0;
}

static struct vpnr__bgp_path *
rib_path(struct vpnr__bgp *bgp, const struct fz_route *r, uint32_t idx)
{
	struct vpnr__bgp_pfx pfx;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;

	CHECK(vpnr__bgp_pfx_from_public(&pfx, &r->pfx) == VPNR_OK);
	n = vpnr__bgp_table_get(&bgp->rib[vpnr__bgp_afi_idx(pfx.afi)], &pfx);
	if (n == NULL)
		return NULL;
	for (path = n->paths; path != NULL; path = path->next)
		if (path->peer_idx == idx)
			return path;
	return NULL;
}

static void
check_pools_lists(struct vpnr__bgp *bgp)
{
	struct vpnr__bgp_peer *p;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;
	size_t i, nodes[BGP_NAFI] = { 0, 0 }, paths = 0, on_exp = 0,
		  on_work = 0;
	int a;

	for (a = 0; a < BGP_NAFI; a++)
		for (i = 0; i < bgp->rib[a].nb; i++)
			for (n = bgp->rib[a].b[i]; n != NULL; n = n->hnext) {
				nodes[a]++;
				CHECK(n->paths != NULL);
				for (path = n->paths; path != NULL;
				     path = path->next)
					paths++;
			}
	TAILQ_FOREACH(p, &bgp->peers, entry) {
		for (a = 0; a < BGP_NAFI; a++) {
			CHECK(p->adj_out[a].adj_out);
			nodes[a] += p->adj_out[a].n;
			if (p->est != NULL && (p->sess.afi & (1 << a)) &&
			    p->cfg.export != VPNR_BGP_EXPORT_NONE)
				CHECK(p->on_exp);
		}
		CHECK(p->work == p->on_work);
		on_exp += p->on_exp;
		on_work += p->on_work;
	}
	CHECK(bgp->pool_path.live == paths);
	CHECK(bgp->pool_node[0].live == nodes[0]);
	CHECK(bgp->pool_node[1].live == nodes[1]);
	TAILQ_FOREACH(p, &bgp->exporters, exp_entry) {
		CHECK(p->on_exp);
		on_exp--;
	}
	TAILQ_FOREACH(p, &bgp->workq, work_entry) {
		CHECK(p->on_work);
		on_work--;
	}
	CHECK(on_exp == 0 && on_work == 0);
}

static void
check_rib(vpnr_ctx *ctx)
{
	struct vpnr__bgp *bgp = ctx->bgp;
	struct vpnr__bgp_node *n;
	struct vpnr__bgp_path *path;
	size_t i;
	int a, installed = 0;

	for (a = 0; a < BGP_NAFI; a++)
		for (i = 0; i < bgp->rib[a].nb; i++)
			for (n = bgp->rib[a].b[i]; n != NULL; n = n->hnext)
				for (path = n->paths; path != NULL;
				     path = path->next) {
					int inst = (path->flags &
						       BGP_PATH_INSTALLED) != 0;
					int ecmp =
					    (path->flags & BGP_PATH_ECMP) != 0;

					/* installed = multipath set, ours
					 * (peer 0) excepted */
					CHECK(inst ==
					    (ecmp && path->peer_idx != 0));
					installed += inst;
				}
	CHECK(installed == n_routes);
	CHECK(bgp->routes_installed == (uint64_t)n_routes);
	check_pools_lists(bgp);
}

static void
check_peer(vpnr_ctx *ctx, struct fz_peer *fp)
{
	struct vpnr__bgp_peer *p = vpnr__bgp_peer_find(ctx->bgp, fp->id);
	vpnr_bgp_peer_info in, *o = &fp->last;
	uint32_t adj[2] = { 0, 0 };
	int i;

	CHECK(p != NULL);
	CHECK(vpnr_bgp_peer_get_info(ctx, fp->id, &in) == VPNR_OK);
	for (i = 0; i < n_routes; i++) {
		struct vpnr__bgp_path *path;

		if (routes[i].peer_id != fp->id)
			continue;
		/* nothing points into a tunnel that is down */
		CHECK(fp->tunnel == 0 || tun_up[fp->tunnel]);
		CHECK(routes[i].tunnel_id == fp->tunnel);
		CHECK(routes[i].if_id == (fp->tunnel ? 100 + fp->tunnel : 0));
		path = rib_path(ctx->bgp, &routes[i], p->idx);
		CHECK(path != NULL && (path->flags & BGP_PATH_INSTALLED));
		/* a peer that is not Established has routes only while
		 * helping it restart */
		if (in.state != VPNR_BGP_STATE_ESTABLISHED)
			CHECK(p->gr_stale && (path->flags & BGP_PATH_STALE));
	}
	CHECK(vpnr_bgp_rib_walk(ctx, VPNR_RIB_ADJ_IN, fp->id, count_adj, adj) ==
	    VPNR_OK);
	CHECK(in.pfx_received_v4 == adj[0] && in.pfx_received_v6 == adj[1]);
	CHECK(in.pfx_accepted_v4 == adj[0] && in.pfx_accepted_v6 == adj[1]);
	if (fp->have_last) {
		CHECK(in.msgs_in >= o->msgs_in && in.msgs_out >= o->msgs_out);
		CHECK(in.updates_in >= o->updates_in);
		CHECK(in.updates_out >= o->updates_out);
		CHECK(in.malformed >= o->malformed);
		CHECK(in.treat_as_withdraw >= o->treat_as_withdraw);
		CHECK(in.treat_as_withdraw <= in.malformed);
		CHECK(in.flaps >= o->flaps);
		/* the same session, or one went down in between */
		if (in.state == VPNR_BGP_STATE_ESTABLISHED &&
		    o->state == VPNR_BGP_STATE_ESTABLISHED &&
		    in.established_at != o->established_at)
			CHECK(in.flaps > o->flaps);
	}
	fp->last = in;
	fp->have_last = 1;
}

static void
check_all(vpnr_ctx *ctx)
{
	int i;

	check_rib(ctx);
	for (i = 0; i < FZ_NPEER; i++)
		check_peer(ctx, &peers[i]);
}

/* ---- driving */

/* OPEN: AS 65001, hold 30, id 192.0.2.x, MP v4+v6, AS4, RR, GR with
 * IPv4 forwarding preserved */
static const uint8_t open_msg[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 59, 1, 4, 0xfd,
	0xe9, 0, 30, 192, 0, 2, 9, 30, 2, 28, 1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0,
	1, 65, 4, 0, 0, 0xfd, 0xe9, 2, 0, 64, 6, 0x00, 120, 0, 1, 1, 0x80 };
#define OPEN_ID_LAST 27
static const uint8_t ka[19] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 19, 4 };

static void
peer_connect(vpnr_ctx *ctx, struct fz_peer *p, vpnr_tstamp now)
{
	uint8_t open[sizeof(open_msg)];
	vpnr_addr l;
	uint64_t tid;

	if (p->tid != 0)
		return;
	vpnr_addr_parse(&l, "192.0.2.1");
	if (p->active) {
		if (p->pending == 0)
			return;
		tid = p->pending;
		p->pending = 0;
		p->tid = tid;
		if (vpnr_transport_connected(ctx, tid, VPNR_OK, now) !=
		    VPNR_OK) {
			p->tid = 0;
			return;
		}
	} else {
		if (vpnr_transport_accepted(ctx, &l, &p->addr, &tid, now) !=
		    VPNR_OK)
			return;
		id_insert(tid);
		p->tid = tid;
	}
	memcpy(open, open_msg, sizeof(open));
	open[OPEN_ID_LAST] = p->addr.bytes[3];
	if (p->tid != 0)
		vpnr_transport_recv(ctx, p->tid, open, sizeof(open), now);
	if (p->tid != 0)
		vpnr_transport_recv(ctx, p->tid, ka, sizeof(ka), now);
}

static void
tunnel_flip(vpnr_ctx *ctx, uint64_t tunnel, vpnr_tstamp now)
{
	vpnr_bgp_peer_info before[FZ_NPEER], after;
	int ev[FZ_NPEER], i, up = !tun_up[tunnel];

	for (i = 0; i < FZ_NPEER; i++) {
		CHECK(vpnr_bgp_peer_get_info(ctx, peers[i].id, &before[i]) ==
		    VPNR_OK);
		ev[i] = peers[i].down_tunnel_ev;
	}
	if (vpnr__drive_begin(ctx, now) != VPNR_OK)
		return;
	tun_up[tunnel] = up;
	CHECK(ctx->bgp_tunnel_changed(ctx, tunnel, up, now) == VPNR_OK);
	CHECK(vpnr__drive_end(ctx, VPNR_OK) == VPNR_OK);
	for (i = 0; i < FZ_NPEER; i++) {
		struct fz_peer *p = &peers[i];

		CHECK(vpnr_bgp_peer_get_info(ctx, p->id, &after) == VPNR_OK);
		if (p->tunnel != tunnel) {
			/* others are not touched */
			CHECK(after.state == before[i].state);
			CHECK(after.flaps == before[i].flaps);
			continue;
		}
		if (up || before[i].state != VPNR_BGP_STATE_ESTABLISHED)
			continue;
		if (p->mode == VPNR_BGP_TUNNEL_DOWN_HOLD) {
			CHECK(after.state == VPNR_BGP_STATE_ESTABLISHED);
			CHECK(after.established_at == before[i].established_at);
		} else {
			CHECK(after.state != VPNR_BGP_STATE_ESTABLISHED);
			CHECK(after.last_reason == VPNR_ERR_TUNNEL_DOWN);
			CHECK(p->down_tunnel_ev == ev[i] + 1);
		}
	}
}

static void
path_toggle(vpnr_ctx *ctx, uint64_t *path_ids, unsigned k, vpnr_tstamp now)
{
	static const char *const pfx[8] = { "198.51.100.0/24", "10.1.0.0/16",
		"10.2.0.0/24", "0.0.0.0/0", "2001:db8::/32", "10.1.0.0/24",
		"203.0.113.0/24", "2001:db8:1::/48" };
	vpnr_prefix p;
	vpnr_path_attrs pa;

	if (path_ids[k] != 0) {
		CHECK(vpnr_bgp_path_del(ctx, path_ids[k], now) == VPNR_OK);
		path_ids[k] = 0;
		return;
	}
	memset(&pa, 0, sizeof(pa));
	vpnr_prefix_parse(&p, pfx[k]);
	if (vpnr_bgp_path_add(ctx, &p, &pa, &path_ids[k], now) == VPNR_OK)
		id_insert(path_ids[k]);
}

static vpnr_ctx *
setup(uint8_t flags, vpnr_tstamp now)
{
	static const vpnr_callbacks cb = {
		.transport_open = f_open,
		.transport_send = f_send,
		.transport_close = f_close,
		.bgp_event = f_event,
	};
	static const vpnr_dataplane dp = {
		.route_add = f_route_add,
		.route_del = f_route_del,
	};
	static const char *const addr[FZ_NPEER] = { "192.0.2.9", "192.0.2.10" };
	vpnr_config *cfg;
	vpnr_ctx *ctx;
	vpnr_bgp_peer_config *pc;
	vpnr_addr l;
	int i;

	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		return NULL;
	vpnr_config_set_local_as(cfg, 65010);
	vpnr_config_set_router_id(cfg, 0x0a000001);
	if (vpnr_ctx_new(&ctx, cfg, &cb, NULL, &dp, NULL, NULL) != VPNR_OK) {
		vpnr_config_del(cfg);
		return NULL;
	}
	vpnr_config_del(cfg);
	ctx->ike_tunnel_lookup = f_lookup;
	vpnr_addr_parse(&l, "192.0.2.1");
	peers[0].tunnel = 7;
	peers[0].mode = (flags & 1) ? VPNR_BGP_TUNNEL_DOWN_HOLD :
				      VPNR_BGP_TUNNEL_DOWN_RESET;
	peers[1].tunnel = (flags & 2) ? 8 : 0;
	peers[1].mode = (flags & 4) ? VPNR_BGP_TUNNEL_DOWN_HOLD :
				      VPNR_BGP_TUNNEL_DOWN_RESET;
	peers[1].active = (flags & 16) != 0;
	for (i = 0; i < FZ_NPEER; i++) {
		struct fz_peer *p = &peers[i];

		vpnr_addr_parse(&p->addr, addr[i]);
		CHECK(vpnr_bgp_peer_config_new(&pc, NULL) == VPNR_OK);
		vpnr_bgp_peer_config_set_remote(pc, &p->addr, 65001);
		vpnr_bgp_peer_config_set_local(pc, &l);
		vpnr_bgp_peer_config_set_passive(pc, !p->active);
		vpnr_bgp_peer_config_set_max_prefix(pc, 1000);
		vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
		    (flags & 32) ? VPNR_BGP_EXPORT_ALL : VPNR_BGP_EXPORT_LOCAL);
		vpnr_bgp_peer_config_set_graceful_restart(pc, !(flags & 8));
		if (p->tunnel != 0) {
			CHECK(vpnr_bgp_peer_config_set_tunnel(pc, p->tunnel) ==
			    VPNR_OK);
			CHECK(vpnr_bgp_peer_config_set_tunnel_down(pc,
				  p->mode) == VPNR_OK);
		}
		CHECK(vpnr_bgp_peer_add(ctx, pc, NULL, &p->id) == VPNR_OK);
		vpnr_bgp_peer_config_del(pc);
		id_insert(p->id);
		CHECK(vpnr_bgp_peer_enable(ctx, p->id, 1, now) == VPNR_OK);
		p->enabled = 1;
	}
	return ctx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vpnr_ctx *ctx;
	vpnr_tstamp now = 1000 * VPNR_SECONDS;
	uint64_t path_ids[8];
	size_t off = 1;
	int nops = 0;

	if (size < 1)
		return 0;
	memset(peers, 0, sizeof(peers));
	memset(path_ids, 0, sizeof(path_ids));
	n_routes = 0;
	free(ids);
	ids = NULL;
	ids_n = ids_cap = 0;
	tun_up[7] = tun_up[8] = 1;
	if ((ctx = setup(data[0], now)) == NULL)
		return 0;
	peer_connect(ctx, &peers[0], now);
	check_all(ctx);
	while (off < size && nops++ < FZ_MAX_OPS) {
		uint8_t op = data[off++];
		struct fz_peer *p = &peers[(op >> 3) & 1];
		unsigned arg = op >> 4;
		size_t len;
		vpnr_tstamp dt;

		switch (op & 7) {
		case 0:
			if (off + 2 > size)
				goto out;
			len = data[off];
			dt = (vpnr_tstamp)data[off + 1] * VPNR_SECONDS / 4;
			off += 2;
			if (len > size - off)
				len = size - off;
			if (p->tid != 0)
				vpnr_transport_recv(ctx, p->tid, data + off,
				    len, now);
			off += len;
			now += dt;
			vpnr_ctx_handle_expiry(ctx, now);
			break;
		case 1:
			tunnel_flip(ctx, (op & 8) ? 8 : 7, now);
			break;
		case 2:
			peer_connect(ctx, p, now);
			break;
		case 3:
			if (p->tid != 0) {
				uint64_t tid = p->tid;

				p->tid = 0;
				vpnr_transport_closed(ctx, tid,
				    VPNR_ERR_PEER_CLOSED, now);
			}
			break;
		case 4:
			if (off >= size)
				goto out;
			dt = (vpnr_tstamp)data[off++] * VPNR_SECONDS / 4;
			now += (arg & 1) ? dt * 16 : dt;
			vpnr_ctx_handle_expiry(ctx, now);
			break;
		case 5:
			path_toggle(ctx, path_ids, arg & 7, now);
			break;
		case 6:
			p->enabled = !p->enabled;
			CHECK(vpnr_bgp_peer_enable(ctx, p->id, p->enabled,
				  now) == VPNR_OK);
			break;
		case 7:
			p->blocked = !p->blocked;
			if (!p->blocked && p->tid != 0)
				vpnr_transport_writable(ctx, p->tid, now);
			break;
		}
		check_all(ctx);
	}
out:
	vpnr_ctx_del(ctx);
	free(ids);
	ids = NULL;
	return 0;
}
