/*
 * Many BGP sessions in one process, through the public API: a hub
 * context (AS 65000, passive) with N peers, and N spoke contexts (AS
 * 65001, one peer each) that each originate K /28s and send them to the
 * hub over in-memory transports (bytes move from the top level, never
 * inside a callback; a fake clock).  The hub imports everything and
 * exports nothing, as a VPN concentrator learning its sites' routes.
 *
 * Per row it prints the time from enabling the sessions until the hub
 * holds every route in its data plane and has seen every End-of-RIB
 * (wall and process CPU, both sides), and the hub's heap (counted by
 * its vpnr_mem hooks: bytes handed out plus 8 per block, like glibc's
 * chunks): per configured idle peer, and per session once converged.
 * The first row is one session carrying all N * K routes, the anchor
 * the many-session rows are compared with (same routes, same run); a
 * row of N sessions without routes gives the cost of a session alone.
 * The last lines are the ratio of the N-session rate to the
 * one-session rate, and the hub's heap per route with N sessions (less
 * the sessions' own cost) beside the one-session figure.
 *
 * usage: bench_bgp_scale [N [K]]   (default 1000 100; K <= 4096)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vpnroute/vpnroute.h>

#include "bench_time.h"

struct bbuf {
	uint8_t *p;
	size_t len, cap;
};

struct link {
	int i;
	vpnr_ctx *spoke;
	uint64_t spoke_peer, hub_peer;
	uint64_t stid, htid; /* spoke's and hub's transport ids */
	vpnr_addr haddr, saddr;
	struct bbuf to_hub, to_spoke;
	int opening, active, hub_closed, spoke_closed;
};

static struct link *links;
static size_t nlinks;
static struct link **act; /* links with bytes queued */
static size_t nact;
static struct link **opens; /* transport_open to answer */
static size_t nopens;
static struct link **by_htid; /* hub transport id -> link */
static size_t htid_cap;
static struct link *accepting; /* vpnr_transport_accepted running */
static vpnr_ctx *hub;
static vpnr_tstamp fake_now = 1000 * VPNR_SECONDS;
static uint64_t hub_routes, hub_eor, hub_est, hub_down;
static size_t hub_bytes;
static int oom;

/* ---- the hub's allocator: counts what it holds ---------------------- */

static void *
c_alloc(size_t n, void *u)
{
	void *p = malloc(n);

	(void)u;
	if (p != NULL)
		hub_bytes += malloc_usable_size(p) + 8;
	return p;
}

static void *
c_zalloc(size_t m, size_t n, void *u)
{
	void *p = calloc(m, n);

	(void)u;
	if (p != NULL)
		hub_bytes += malloc_usable_size(p) + 8;
	return p;
}

static void *
c_realloc(void *o, size_t n, void *u)
{
	size_t old = o != NULL ? malloc_usable_size(o) + 8 : 0;
	void *p = realloc(o, n);

	(void)u;
	if (p != NULL)
		hub_bytes += malloc_usable_size(p) + 8 - old;
	return p;
}

static void
c_free(void *p, void *u)
{
	(void)u;
	if (p != NULL)
		hub_bytes -= malloc_usable_size(p) + 8;
	free(p);
}

static const vpnr_mem hub_mem = {
	.alloc_fn = c_alloc,
	.zalloc_fn = c_zalloc,
	.realloc_fn = c_realloc,
	.free_fn = c_free,
};

/* ---- transports ------------------------------------------------------ */

static void
bput(struct bbuf *b, const uint8_t *d, size_t n)
{
	uint8_t *p;

	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2 + 4096;

		if ((p = realloc(b->p, cap)) == NULL) {
			oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
mark_active(struct link *l)
{
	if (!l->active) {
		l->active = 1;
		act[nact++] = l;
	}
}

static size_t
htid_hash(uint64_t tid)
{
	return (size_t)((tid * 0x9E3779B97F4A7C15ull) >> 20) & (htid_cap - 1);
}

static struct link *
link_of_htid(uint64_t tid)
{
	size_t h = htid_hash(tid);

	for (; by_htid[h] != NULL; h = (h + 1) & (htid_cap - 1))
		if (by_htid[h]->htid == tid)
			return by_htid[h];
	if (accepting != NULL) {
		/* our OPEN goes out from inside vpnr_transport_accepted */
		accepting->htid = tid;
		by_htid[h] = accepting;
		return accepting;
	}
	return NULL;
}

static int64_t
hub_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *d, size_t n, void *u)
{
	struct link *l = link_of_htid(tid);

	(void)ctx, (void)u;
	if (l != NULL) {
		bput(&l->to_spoke, d, n);
		mark_active(l);
	}
	return (int64_t)n;
}

static void
hub_close(vpnr_ctx *ctx, uint64_t tid, void *u)
{
	struct link *l = link_of_htid(tid);

	(void)ctx, (void)u;
	if (l != NULL)
		l->hub_closed = 1;
}

static int
hub_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *u)
{
	(void)ctx, (void)u;
	if (ev->type == VPNR_BGP_EV_ESTABLISHED)
		hub_est++;
	else if (ev->type == VPNR_BGP_EV_EOR && ev->afi_safi == 1)
		hub_eor++;
	else if (ev->type == VPNR_BGP_EV_DOWN)
		hub_down++;
	return VPNR_OK;
}

static int
hub_rt_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)rt, (void)d;
	hub_routes++;
	return VPNR_OK;
}

static int
hub_rt_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)rt, (void)d;
	hub_routes--;
	return VPNR_OK;
}

static int
spoke_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *l, const vpnr_addr *r,
    uint8_t ttl, const uint8_t *k, size_t kl, void *u)
{
	struct link *lk = u;

	(void)ctx, (void)l, (void)r, (void)ttl, (void)k, (void)kl;
	lk->stid = tid;
	if (!lk->opening) {
		lk->opening = 1;
		opens[nopens++] = lk;
	}
	return VPNR_OK;
}

static int64_t
spoke_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *d, size_t n, void *u)
{
	struct link *l = u;

	(void)ctx, (void)tid;
	bput(&l->to_hub, d, n);
	mark_active(l);
	return (int64_t)n;
}

static void
spoke_close(vpnr_ctx *ctx, uint64_t tid, void *u)
{
	struct link *l = u;

	(void)ctx, (void)tid;
	l->spoke_closed = 1;
}

/* ---- set-up ---------------------------------------------------------- */

static void
addr4(vpnr_addr *a, uint32_t v)
{
	memset(a, 0, sizeof(*a));
	a->family = VPNR_AF_INET;
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

static vpnr_ctx *
mk_ctx(uint32_t as, uint32_t rid, const vpnr_callbacks *cb, void *ud,
    const vpnr_dataplane *dp, const vpnr_mem *mem)
{
	vpnr_config *cfg;
	vpnr_ctx *ctx;

	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		exit(1);
	vpnr_config_set_local_as(cfg, as);
	vpnr_config_set_router_id(cfg, rid);
	if (vpnr_ctx_new(&ctx, cfg, cb, ud, dp, NULL, mem) != VPNR_OK)
		exit(1);
	vpnr_config_del(cfg);
	return ctx;
}

static uint64_t
mk_peer(vpnr_ctx *ctx, const vpnr_addr *remote, uint32_t as,
    const vpnr_addr *local, int passive, uint32_t imp, uint32_t exp)
{
	vpnr_bgp_peer_config *pc;
	uint64_t id;

	if (vpnr_bgp_peer_config_new(&pc, NULL) != VPNR_OK)
		exit(1);
	vpnr_bgp_peer_config_set_remote(pc, remote, as);
	vpnr_bgp_peer_config_set_local(pc, local);
	vpnr_bgp_peer_config_set_passive(pc, passive);
	vpnr_bgp_peer_config_set_timers(pc, 240, 80);
	vpnr_bgp_peer_config_set_policy(pc, imp, exp);
	if (vpnr_bgp_peer_add(ctx, pc, NULL, &id) != VPNR_OK)
		exit(1);
	vpnr_bgp_peer_config_del(pc);
	return id;
}

static void
spoke_paths(vpnr_ctx *ctx, size_t first, size_t k)
{
	vpnr_prefix p;
	uint64_t id;
	size_t j;

	for (j = 0; j < k; j++) {
		memset(&p, 0, sizeof(p));
		/* 11.0.0.0/8 in /28s, each spoke its own run */
		addr4(&p.addr, 0x0b000000u + (uint32_t)(first + j) * 16);
		p.len = 28;
		if (vpnr_bgp_path_add(ctx, &p, NULL, &id, fake_now) != VPNR_OK)
			exit(1);
	}
}

static void
flush_ctx(vpnr_ctx *ctx)
{
	if (vpnr_ctx_get_expiry(ctx) <= fake_now)
		vpnr_ctx_handle_expiry(ctx, fake_now);
}

struct row {
	size_t n, k;
	double wall, cpu, routes_s;
	double hub_peer_b;  /* per configured, idle peer */
	double hub_sess_b;  /* per session, converged, with its routes */
	double hub_route_b; /* (converged - idle) / routes */
	double hub_conv_b;  /* hub heap when converged */
	double rss_mb;
	int ok;
};

static double
rss_mb(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (double)(mi.uordblks + mi.hblkhd) / 1e6;
}

static void
run(size_t n, size_t k, struct row *r)
{
	static const vpnr_callbacks hcb = {
		.transport_send = hub_send,
		.transport_close = hub_close,
		.bgp_event = hub_event,
	};
	static const vpnr_callbacks scb = {
		.transport_open = spoke_open,
		.transport_send = spoke_send,
		.transport_close = spoke_close,
	};
	static const vpnr_dataplane hdp = {
		.route_add = hub_rt_add,
		.route_del = hub_rt_del,
	};
	size_t i, rounds = 0, b0, b1, b2, stall = 0;
	double t0, c0, m0;

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->k = k;
	hub_routes = hub_eor = hub_est = hub_down = 0;
	hub_bytes = 0;
	nact = nopens = 0;
	links = calloc(n, sizeof(*links));
	act = calloc(2 * n, sizeof(*act)); /* a round's and the next */
	opens = calloc(n, sizeof(*opens));
	for (htid_cap = 1024; htid_cap < 4 * n; htid_cap *= 2)
		;
	by_htid = calloc(htid_cap, sizeof(*by_htid));
	if (links == NULL || act == NULL || opens == NULL || by_htid == NULL)
		exit(1);
	nlinks = n;
	m0 = rss_mb();
	hub = mk_ctx(65000, 0x0a010000, &hcb, NULL, &hdp, &hub_mem);
	b0 = hub_bytes;
	for (i = 0; i < n; i++) {
		struct link *l = &links[i];

		l->i = (int)i;
		addr4(&l->haddr, 0x0a010000u + (uint32_t)i + 1); /* 10.1/16 */
		addr4(&l->saddr, 0x0a020000u + (uint32_t)i + 1); /* 10.2/16 */
		l->hub_peer = mk_peer(hub, &l->saddr, 65001, &l->haddr, 1,
		    VPNR_BGP_IMPORT_ALL, VPNR_BGP_EXPORT_NONE);
		if (vpnr_bgp_peer_enable(hub, l->hub_peer, 1, fake_now) !=
		    VPNR_OK)
			exit(1);
	}
	flush_ctx(hub);
	b1 = hub_bytes;
	for (i = 0; i < n; i++) {
		struct link *l = &links[i];

		l->spoke = mk_ctx(65001, 0x0a020000u + (uint32_t)i + 1, &scb, l,
		    NULL, NULL);
		l->spoke_peer = mk_peer(l->spoke, &l->haddr, 65000, &l->saddr,
		    0, VPNR_BGP_IMPORT_NONE, VPNR_BGP_EXPORT_LOCAL);
		spoke_paths(l->spoke, i * k, k);
		flush_ctx(l->spoke);
	}
	t0 = mono_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++)
		vpnr_bgp_peer_enable(links[i].spoke, links[i].spoke_peer, 1,
		    fake_now);
	while (!oom && (hub_eor < n || hub_routes < n * k)) {
		size_t moved = 0, na;

		rounds++;
		/* answer the connects: the hub accepts, the spoke is up */
		while (nopens > 0) {
			struct link *l = opens[--nopens];

			l->opening = 0;
			accepting = l;
			vpnr_transport_accepted(hub, &l->haddr, &l->saddr,
			    &l->htid, fake_now);
			accepting = NULL;
			vpnr_transport_connected(l->spoke, l->stid, VPNR_OK,
			    fake_now);
			moved++;
		}
		/* move the bytes queued so far (new ones wait a round) */
		na = nact;
		for (i = 0; i < na; i++) {
			struct link *l = act[i];
			struct bbuf h = l->to_hub, s = l->to_spoke;

			l->active = 0;
			memset(&l->to_hub, 0, sizeof(l->to_hub));
			memset(&l->to_spoke, 0, sizeof(l->to_spoke));
			if (h.len > 0 && !l->hub_closed)
				vpnr_transport_recv(hub, l->htid, h.p, h.len,
				    fake_now);
			if (s.len > 0 && !l->spoke_closed)
				vpnr_transport_recv(l->spoke, l->stid, s.p,
				    s.len, fake_now);
			moved += h.len + s.len;
			free(h.p);
			free(s.p);
		}
		memmove(act, act + na, (nact - na) * sizeof(*act));
		nact -= na;
		flush_ctx(hub);
		for (i = 0; i < n; i++)
			flush_ctx(links[i].spoke);
		if (moved == 0) {
			/* nothing in flight: let the timers run */
			fake_now += VPNR_SECONDS / 10;
			if (++stall > 6000)
				break;
		}
	}
	r->wall = mono_s() - t0;
	r->cpu = cpu_s() - c0;
	r->ok = !oom && hub_eor == n && hub_routes == n * k && hub_down == 0;
	b2 = hub_bytes;
	r->routes_s = (double)(n * k) / r->wall;
	r->hub_peer_b = (double)(b1 - b0) / (double)n;
	r->hub_sess_b = (double)(b2 - b0) / (double)n;
	r->hub_route_b = k > 0 ? (double)(b2 - b1) / (double)(n * k) : 0;
	r->hub_conv_b = (double)b2;
	r->rss_mb = rss_mb() - m0;
	if (!r->ok)
		fprintf(stderr,
		    "  incomplete: %llu/%zu sessions up, %llu End-of-RIB, "
		    "%llu/%zu routes, %llu downs, %zu rounds\n",
		    (unsigned long long)hub_est, n, (unsigned long long)hub_eor,
		    (unsigned long long)hub_routes, n * k,
		    (unsigned long long)hub_down, rounds);
	for (i = 0; i < n; i++) {
		vpnr_ctx_del(links[i].spoke);
		free(links[i].to_hub.p);
		free(links[i].to_spoke.p);
	}
	vpnr_ctx_del(hub);
	free(links);
	free(act);
	free(opens);
	free(by_htid);
}

static void
print_row(const char *what, const struct row *r)
{
	printf("%-26s %6zu x %-6zu %s %7.3f s wall %7.3f s CPU  %9.0f "
	       "routes/s | hub heap: %6.2f KiB/idle peer, %6.2f KiB/session "
	       "converged, %5.1f B/route | process heap +%.0f MB\n",
	    what, r->n, r->k, r->ok ? "ok  " : "FAIL", r->wall, r->cpu,
	    r->routes_s, r->hub_peer_b / 1024, r->hub_sess_b / 1024,
	    r->hub_route_b, r->rss_mb);
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t k = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	struct row one, empty, tenth, all;

	if (n == 0 || k == 0 || k > 4096 || n * k > 1000000) {
		fprintf(stderr,
		    "usage: bench_bgp_scale [N [K]] (K <= 4096, "
		    "N * K <= 1000000)\n");
		return 2;
	}
	printf("BGP sessions in one process: hub (passive, import all) <- "
	       "N spokes (K /28s each), in-memory transports, fake clock\n");
	run(1, n * k, &one);
	print_row("anchor: 1 session", &one);
	run(n, 0, &empty);
	print_row("N sessions, no routes", &empty);
	if (n >= 10) {
		run(n / 10, k, &tenth);
		print_row("N/10 sessions", &tenth);
	}
	run(n, k, &all);
	print_row("N sessions", &all);
	printf("N sessions vs 1 session carrying the same routes: rate ratio "
	       "%.2f (flat = 1)\n",
	    all.routes_s / one.routes_s);
	printf("hub heap per route: %.1f B with N sessions (less the "
	       "sessions' own %.2f KiB each) vs %.1f B with 1 session\n",
	    (all.hub_conv_b - empty.hub_conv_b) / (double)(n * k),
	    empty.hub_sess_b / 1024, one.hub_route_b);
	printf("Figures are noisy on a shared machine: compare medians of "
	       "several runs.\n");
	return one.ok && empty.ok && all.ok && (n < 10 || tenth.ok) ? 0 : 1;
}
