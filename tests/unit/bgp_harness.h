/*
 * Test harness for the BGP engine: several speakers (one vpnr_ctx
 * each) in one process, in-memory TCP "links" between them, a fake
 * clock, a recording data plane and event log.  Header-only (static
 * functions) so that each test file has its own copy.
 *
 * A speaker's transport_open is answered from the top level (never
 * inside the callback): bh_run() connects pending opens to the speaker
 * owning the remote address, delivers queued bytes and closes until
 * nothing moves.  Links can be cut (bytes dropped) or blocked (the
 * sender gets VPNR_ERR_WOULDBLOCK) to test hold and send-hold timers.
 * A "raw" endpoint lets a test speak BGP bytes to a speaker itself.
 * bh_tunnel_set() plays the IKE engine for peers bound to a tunnel.
 */
#ifndef BGP_HARNESS_H
#define BGP_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "lib/ctx.h"

#define BH_MAX_SPK    6
#define BH_MAX_LINKS  32
#define BH_MAX_ROUTES 256
#define BH_MAX_EVENTS 64

struct bh_route {
	char pfx[64];
	char nh[64];
	uint64_t peer_id;
	uint64_t tunnel_id;
	uint32_t if_id;
};

struct bh_spk {
	vpnr_ctx *ctx;
	char name[16];
	vpnr_addr addr;
	struct bh_route routes[BH_MAX_ROUTES];
	int n_routes;
	uint64_t route_adds, route_dels;
	vpnr_bgp_event ev[BH_MAX_EVENTS];
	int n_ev;
	/* pending transport_open requests */
	uint64_t open_tid[8];
	vpnr_addr open_remote[8];
	int n_open;
	int refuse_connect; /* answer transport_open with a failure */
	int report_local;   /* tell the ctx our address on connect */
};

struct bh_dir {
	uint8_t *buf;
	size_t len, cap;
};

struct bh_link {
	int used;
	int a, b; /* speaker indexes; b = -1: raw endpoint */
	uint64_t ta, tb;
	struct bh_dir ab, ba;
	int closed_a, closed_b; /* side closed itself */
	int notify_a, notify_b; /* owe transport_closed to a / b */
	int cut;                /* drop all bytes */
	int block_a;            /* a's sends return WOULDBLOCK */
	int was_blocked_a;
};

static struct bh_spk bh_spk[BH_MAX_SPK];
static int bh_n_spk;
static struct bh_link bh_links[BH_MAX_LINKS];
static vpnr_tstamp bh_now = 1000 * VPNR_SECONDS;

static int
bh_idx(vpnr_ctx *ctx)
{
	int i;

	for (i = 0; i < bh_n_spk; i++)
		if (bh_spk[i].ctx == ctx)
			return i;
	return -1;
}

static struct bh_link *
bh_link_of(int s, uint64_t tid)
{
	int i;

	for (i = 0; i < BH_MAX_LINKS; i++) {
		struct bh_link *l = &bh_links[i];

		if (!l->used)
			continue;
		if (l->a == s && l->ta == UINT64_MAX)
			l->ta = tid; /* accepted call still running */
		if (l->a == s && l->ta == tid)
			return l;
		if (l->b == s && l->b >= 0 && l->tb == UINT64_MAX)
			l->tb = tid; /* accepted call still running */
		if (l->b == s && l->b >= 0 && l->tb == tid)
			return l;
	}
	return NULL;
}

static void
bh_dir_put(struct bh_dir *d, const uint8_t *p, size_t n)
{
	if (d->len + n > d->cap) {
		d->cap = (d->len + n) * 2 + 4096;
		d->buf = realloc(d->buf, d->cap);
		assert_non_null(d->buf);
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static int
bh_transport_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *local,
    const vpnr_addr *remote, uint8_t ttl, const uint8_t *md5, size_t md5_len,
    void *ud)
{
	struct bh_spk *s = &bh_spk[bh_idx(ctx)];

	(void)local, (void)ttl, (void)md5, (void)md5_len, (void)ud;
	if (s->n_open >= 8)
		return VPNR_ERR_LIMIT;
	s->open_tid[s->n_open] = tid;
	s->open_remote[s->n_open] = *remote;
	s->n_open++;
	return VPNR_OK;
}

static int64_t
bh_transport_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *data, size_t len,
    void *ud)
{
	int s = bh_idx(ctx);
	struct bh_link *l = bh_link_of(s, tid);

	(void)ud;
	if (l == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (l->a == s && l->ta == tid) {
		if (l->block_a) {
			l->was_blocked_a = 1;
			return VPNR_ERR_WOULDBLOCK;
		}
		if (!l->cut && !l->closed_b)
			bh_dir_put(&l->ab, data, len);
	} else if (!l->cut && !l->closed_a) {
		bh_dir_put(&l->ba, data, len);
	}
	return (int64_t)len;
}

static void
bh_transport_close(vpnr_ctx *ctx, uint64_t tid, void *ud)
{
	int s = bh_idx(ctx);
	struct bh_link *l = bh_link_of(s, tid);

	(void)ud;
	if (l == NULL)
		return;
	if (l->a == s && l->ta == tid) {
		l->closed_a = 1;
		if (!l->closed_b)
			l->notify_b = 1;
	} else {
		l->closed_b = 1;
		if (!l->closed_a)
			l->notify_a = 1;
	}
}

static int
bh_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	struct bh_spk *s = &bh_spk[bh_idx(ctx)];

	(void)ud;
	if (s->n_ev < BH_MAX_EVENTS)
		s->ev[s->n_ev++] = *ev;
	return VPNR_OK;
}

static void
bh_route_str(const vpnr_route *rt, struct bh_route *r)
{
	char a[56];

	vpnr_addr_format(&rt->prefix.addr, a, sizeof(a));
	snprintf(r->pfx, sizeof(r->pfx), "%s/%u", a, rt->prefix.len);
	vpnr_addr_format(&rt->nexthop, r->nh, sizeof(r->nh));
	r->peer_id = rt->peer_id;
	r->tunnel_id = rt->tunnel_id;
	r->if_id = rt->if_id;
}

static int
bh_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	struct bh_spk *s = &bh_spk[bh_idx(ctx)];
	struct bh_route r;
	int i;

	(void)op, (void)dpd;
	bh_route_str(rt, &r);
	s->route_adds++;
	for (i = 0; i < s->n_routes; i++)
		if (strcmp(s->routes[i].pfx, r.pfx) == 0 &&
		    strcmp(s->routes[i].nh, r.nh) == 0)
			fail_msg("route_add twice for %s via %s", r.pfx, r.nh);
	if (s->n_routes < BH_MAX_ROUTES)
		s->routes[s->n_routes++] = r;
	return VPNR_OK;
}

static int
bh_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	struct bh_spk *s = &bh_spk[bh_idx(ctx)];
	struct bh_route r;
	int i;

	(void)op, (void)dpd;
	bh_route_str(rt, &r);
	s->route_dels++;
	for (i = 0; i < s->n_routes; i++)
		if (strcmp(s->routes[i].pfx, r.pfx) == 0 &&
		    strcmp(s->routes[i].nh, r.nh) == 0) {
			s->routes[i] = s->routes[--s->n_routes];
			return VPNR_OK;
		}
	fail_msg("route_del for unknown %s via %s", r.pfx, r.nh);
	return VPNR_OK;
}

/* Number of data-plane routes for pfx (ECMP: one per next hop). */
static int
bh_has_route(int s, const char *pfx, const char *nh)
{
	int i, n = 0;

	for (i = 0; i < bh_spk[s].n_routes; i++)
		if (strcmp(bh_spk[s].routes[i].pfx, pfx) == 0 &&
		    (nh == NULL || strcmp(bh_spk[s].routes[i].nh, nh) == 0))
			n++;
	return n;
}

static int
bh_count_ev(int s, uint32_t type)
{
	int i, n = 0;

	for (i = 0; i < bh_spk[s].n_ev; i++)
		if (bh_spk[s].ev[i].type == type)
			n++;
	return n;
}

static const vpnr_bgp_event *
bh_last_ev(int s, uint32_t type)
{
	int i;

	for (i = bh_spk[s].n_ev - 1; i >= 0; i--)
		if (bh_spk[s].ev[i].type == type)
			return &bh_spk[s].ev[i];
	return NULL;
}

static vpnr_addr
bh_addr(const char *s)
{
	vpnr_addr a;

	assert_int_equal(vpnr_addr_parse(&a, s), VPNR_OK);
	return a;
}

static __attribute__((unused)) vpnr_prefix
bh_pfx(const char *s)
{
	vpnr_prefix p;

	assert_int_equal(vpnr_prefix_parse(&p, s), VPNR_OK);
	return p;
}

static void
bh_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	(void)level, (void)ud;
	if (getenv("BH_LOG") != NULL)
		fprintf(stderr, "[%s %s] %.*s\n", bh_spk[bh_idx(ctx)].name,
		    subsys, (int)len, msg);
}

static int
bh_speaker(const char *name, const char *addr, uint32_t as, uint32_t rid)
{
	static const vpnr_callbacks cb = {
		.transport_open = bh_transport_open,
		.transport_send = bh_transport_send,
		.transport_close = bh_transport_close,
		.bgp_event = bh_bgp_event,
		.log_msg = bh_log,
	};
	static const vpnr_dataplane dp = {
		.route_add = bh_route_add,
		.route_del = bh_route_del,
	};
	vpnr_config *cfg;
	struct bh_spk *s = &bh_spk[bh_n_spk];

	memset(s, 0, sizeof(*s));
	assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
	assert_int_equal(vpnr_config_set_local_as(cfg, as), VPNR_OK);
	assert_int_equal(vpnr_config_set_router_id(cfg, rid), VPNR_OK);
	if (getenv("BH_LOG") != NULL)
		vpnr_config_set_log_level(cfg, VPNR_LOG_DEBUG);
	assert_int_equal(vpnr_ctx_new(&s->ctx, cfg, &cb, NULL, &dp, NULL, NULL),
	    VPNR_OK);
	vpnr_config_del(cfg);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->addr = bh_addr(addr);
	return bh_n_spk++;
}

/* Add a peer on speaker s toward remote (AS), import/export all. */
static uint64_t
bh_peer(int s, const char *remote, uint32_t as, int passive,
    void (*tweak)(vpnr_bgp_peer_config *pc, void *arg), void *arg)
{
	vpnr_bgp_peer_config *pc;
	vpnr_addr r = bh_addr(remote);
	uint64_t id;

	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_remote(pc, &r, as), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_local(pc, &bh_spk[s].addr),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_policy(pc,
			     VPNR_BGP_IMPORT_ALL, VPNR_BGP_EXPORT_LOCAL),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_passive(pc, passive),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_connect_timers(pc, 5, 0),
	    VPNR_OK);
	if (tweak != NULL)
		tweak(pc, arg);
	assert_int_equal(vpnr_bgp_peer_add(bh_spk[s].ctx, pc, NULL, &id),
	    VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	return id;
}

static struct bh_link *
bh_new_link(void)
{
	int i;

	for (i = 0; i < BH_MAX_LINKS; i++)
		if (!bh_links[i].used) {
			memset(&bh_links[i], 0, sizeof(bh_links[i]));
			bh_links[i].used = 1;
			return &bh_links[i];
		}
	fail_msg("out of links");
	return NULL;
}

/* One round of the network; returns non-zero if anything moved. */
static int
bh_step(void)
{
	int i, j, k, moved = 0;

	for (i = 0; i < bh_n_spk; i++) {
		struct bh_spk *s = &bh_spk[i];

		while (s->n_open > 0) {
			uint64_t tid = s->open_tid[0];
			vpnr_addr rem = s->open_remote[0];
			struct bh_link *l;
			uint64_t tb = 0;
			int rv;

			memmove(s->open_tid, s->open_tid + 1,
			    --s->n_open * sizeof(s->open_tid[0]));
			memmove(s->open_remote, s->open_remote + 1,
			    s->n_open * sizeof(s->open_remote[0]));
			moved = 1;
			for (k = 0; k < bh_n_spk; k++) {
				vpnr_addr a = bh_spk[k].addr;

				rem.port = a.port = 0;
				if (k != i && memcmp(&a, &rem, sizeof(a)) == 0)
					break;
			}
			if (k == bh_n_spk || s->refuse_connect) {
				vpnr_transport_connected(s->ctx, tid,
				    VPNR_ERR_PEER_CLOSED, bh_now);
				continue;
			}
			l = bh_new_link();
			l->a = i;
			l->b = k;
			l->ta = tid;
			l->tb = UINT64_MAX;
			rv = vpnr_transport_accepted(bh_spk[k].ctx, &rem,
			    &s->addr, &tb, bh_now);
			if (rv != VPNR_OK) {
				l->used = 0;
				vpnr_transport_connected(s->ctx, tid,
				    VPNR_ERR_PEER_CLOSED, bh_now);
				continue;
			}
			l->tb = tb;
			if (s->report_local)
				assert_int_equal(vpnr_transport_set_local(
						     s->ctx, tid, &s->addr),
				    VPNR_OK);
			assert_int_equal(vpnr_transport_connected(s->ctx, tid,
					     VPNR_OK, bh_now),
			    VPNR_OK);
		}
	}
	for (j = 0; j < BH_MAX_LINKS; j++) {
		struct bh_link *l = &bh_links[j];
		uint8_t *buf;
		size_t n;

		if (!l->used)
			continue;
		if (l->ab.len > 0 && l->b >= 0 && !l->closed_b) {
			buf = l->ab.buf;
			n = l->ab.len;
			l->ab.buf = NULL;
			l->ab.len = l->ab.cap = 0;
			if (!l->cut)
				vpnr_transport_recv(bh_spk[l->b].ctx, l->tb,
				    buf, n, bh_now);
			free(buf);
			moved = 1;
		}
		if (l->ba.len > 0 && !l->closed_a && l->b >= 0) {
			buf = l->ba.buf;
			n = l->ba.len;
			l->ba.buf = NULL;
			l->ba.len = l->ba.cap = 0;
			if (!l->cut)
				vpnr_transport_recv(bh_spk[l->a].ctx, l->ta,
				    buf, n, bh_now);
			free(buf);
			moved = 1;
		}
		if (l->notify_b && l->b >= 0 && l->ab.len == 0) {
			l->notify_b = 0;
			l->closed_b = 1;
			vpnr_transport_closed(bh_spk[l->b].ctx, l->tb,
			    VPNR_ERR_PEER_CLOSED, bh_now);
			moved = 1;
		}
		if (l->notify_a && l->ba.len == 0) {
			l->notify_a = 0;
			l->closed_a = 1;
			vpnr_transport_closed(bh_spk[l->a].ctx, l->ta,
			    VPNR_ERR_PEER_CLOSED, bh_now);
			moved = 1;
		}
		if (l->closed_a && (l->closed_b || l->b < 0) &&
		    l->ab.len == 0 && l->ba.len == 0 && l->b >= 0) {
			free(l->ab.buf);
			free(l->ba.buf);
			l->used = 0;
		}
	}
	return moved;
}

/* Run the network and every timer already due, like a host loop. */
static void
bh_run(void)
{
	int i, j, moved;

	for (i = 0; i < 10000; i++) {
		moved = bh_step();
		for (j = 0; j < bh_n_spk; j++)
			if (vpnr_ctx_get_expiry(bh_spk[j].ctx) <= bh_now) {
				assert_int_equal(vpnr_ctx_handle_expiry(
						     bh_spk[j].ctx, bh_now),
				    VPNR_OK);
				moved = 1;
			}
		if (!moved)
			break;
	}
}

/* Advance the fake clock by dt in 1 s steps, running timers. */
static void
bh_advance(vpnr_tstamp dt)
{
	vpnr_tstamp end = bh_now + dt;
	int i;

	while (bh_now < end) {
		bh_now += dt < VPNR_SECONDS ? dt : VPNR_SECONDS;
		if (bh_now > end)
			bh_now = end;
		for (i = 0; i < bh_n_spk; i++)
			while (vpnr_ctx_get_expiry(bh_spk[i].ctx) <= bh_now)
				assert_int_equal(vpnr_ctx_handle_expiry(
						     bh_spk[i].ctx, bh_now),
				    VPNR_OK);
		bh_run();
	}
}

static uint32_t
bh_state(int s, uint64_t peer)
{
	vpnr_bgp_peer_info info;

	assert_int_equal(vpnr_bgp_peer_get_info(bh_spk[s].ctx, peer, &info),
	    VPNR_OK);
	return info.state;
}

static void
bh_reset(void)
{
	int i;

	for (i = 0; i < bh_n_spk; i++)
		vpnr_ctx_del(bh_spk[i].ctx);
	for (i = 0; i < BH_MAX_LINKS; i++) {
		free(bh_links[i].ab.buf);
		free(bh_links[i].ba.buf);
	}
	memset(bh_links, 0, sizeof(bh_links));
	memset(bh_spk, 0, sizeof(bh_spk));
	bh_n_spk = 0;
}

static int
bh_setup(void **state)
{
	(void)state;
	bh_reset();
	return 0;
}

/* Raw endpoint: the test plays a BGP speaker connected to s. */
static __attribute__((unused)) struct bh_link *
bh_raw_connect(int s, const char *from)
{
	struct bh_link *l = bh_new_link();
	vpnr_addr rem = bh_addr(from);
	uint64_t tid;

	l->a = s;
	l->b = -1;
	l->ta = UINT64_MAX;
	assert_int_equal(vpnr_transport_accepted(bh_spk[s].ctx, &bh_spk[s].addr,
			     &rem, &tid, bh_now),
	    VPNR_OK);
	l->ta = tid;
	return l;
}

/* Send bytes from the raw endpoint to the speaker. */
static __attribute__((unused)) int
bh_raw_send(struct bh_link *l, const uint8_t *data, size_t len)
{
	return vpnr_transport_recv(bh_spk[l->a].ctx, l->ta, data, len, bh_now);
}

/* The link between speakers a and b still open on a's side, or NULL. */
static __attribute__((unused)) struct bh_link *
bh_link_between(int a, int b)
{
	int i;

	for (i = 0; i < BH_MAX_LINKS; i++)
		if (bh_links[i].used && !bh_links[i].closed_a &&
		    ((bh_links[i].a == a && bh_links[i].b == b) ||
			(bh_links[i].a == b && bh_links[i].b == a)))
			return &bh_links[i];
	return NULL;
}

static int
bh_count_walk(const vpnr_prefix *p, const vpnr_path_attrs *a, uint64_t peer,
    void *arg)
{
	(void)p, (void)a, (void)peer;
	(*(int *)arg)++;
	return 0;
}

/* Paths in one of speaker s's RIBs (VPNR_RIB_*), for peer (0: all). */
static __attribute__((unused)) int
bh_rib_count(int s, int rib, uint64_t peer)
{
	int n = 0;

	assert_int_equal(vpnr_bgp_rib_walk(bh_spk[s].ctx, rib, peer,
			     bh_count_walk, &n),
	    VPNR_OK);
	return n;
}

/* Tunnels 1-15 as the IKE engine would report them: CHILD_SA up or
 * not, interface id 100 + id.  Install with bh_tunnel_fake(s). */
static int bh_tun_up[16];

static int
bh_tunnel_lookup(const vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t *if_id,
    int *child_up)
{
	(void)ctx;
	if (tunnel_id == 0 || tunnel_id >= 16)
		return VPNR_ERR_NOT_FOUND;
	*if_id = 100 + (uint32_t)tunnel_id;
	*child_up = bh_tun_up[tunnel_id];
	return VPNR_OK;
}

static __attribute__((unused)) void
bh_tunnel_fake(int s)
{
	memset(bh_tun_up, 0, sizeof(bh_tun_up));
	bh_spk[s].ctx->ike_tunnel_lookup = bh_tunnel_lookup;
}

/* What the IKE engine does when a tunnel's first CHILD_SA comes up or
 * its last one goes. */
static __attribute__((unused)) void
bh_tunnel_set(int s, uint64_t id, int up)
{
	vpnr_ctx *ctx = bh_spk[s].ctx;

	assert_true(id > 0 && id < 16);
	bh_tun_up[id] = up;
	assert_int_equal(vpnr__drive_begin(ctx, bh_now), VPNR_OK);
	assert_int_equal(ctx->bgp_tunnel_changed(ctx, id, up, bh_now), VPNR_OK);
	assert_int_equal(vpnr__drive_end(ctx, VPNR_OK), VPNR_OK);
}

/* What the IKE engine does when a tunnel becomes suspect or shows life
 * again (vpnr_tunnel_config_set_suspect). */
static __attribute__((unused)) void
bh_tunnel_suspect(int s, uint64_t id, int suspect)
{
	vpnr_ctx *ctx = bh_spk[s].ctx;

	assert_int_equal(vpnr__drive_begin(ctx, bh_now), VPNR_OK);
	assert_int_equal(ctx->bgp_tunnel_suspect(ctx, id, suspect, bh_now),
	    VPNR_OK);
	assert_int_equal(vpnr__drive_end(ctx, VPNR_OK), VPNR_OK);
}

#endif /* BGP_HARNESS_H */
