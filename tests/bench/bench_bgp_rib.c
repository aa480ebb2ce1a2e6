/*
 * In-process BGP engine benchmark (no sockets, no peer daemon): how
 * fast the engine takes N IPv4 prefixes in UPDATEs through parsing,
 * import policy, Adj-RIB-In/Loc-RIB, the decision process and the
 * data-plane callback; how fast it packs and sends N of its own
 * prefixes; and the memory per route.  Prints figures.
 *
 *   bench_bgp_rib [N]      (default 1000000)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vpnroute/vpnroute.h>

static uint64_t routes, tx_bytes, tx_updates;
static uint64_t tid_seen;

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static int
dp_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)rt, (void)d;
	routes++;
	return VPNR_OK;
}

static int
dp_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)rt, (void)d;
	routes--;
	return VPNR_OK;
}

static int64_t
t_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *data, size_t len, void *u)
{
	size_t off = 0;

	(void)ctx, (void)u;
	tid_seen = tid;
	tx_bytes += len;
	/* count UPDATEs */
	while (off + 19 <= len) {
		size_t l = ((size_t)data[off + 16] << 8) | data[off + 17];

		if (data[off + 18] == 2)
			tx_updates++;
		if (l < 19)
			break;
		off += l;
	}
	return (int64_t)len;
}

static void
t_close(vpnr_ctx *ctx, uint64_t tid, void *u)
{
	(void)ctx, (void)tid, (void)u;
}

static int
t_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *l, const vpnr_addr *r,
    uint8_t ttl, const uint8_t *k, size_t kl, void *u)
{
	(void)ctx, (void)tid, (void)l, (void)r, (void)ttl, (void)k, (void)kl;
	(void)u;
	return VPNR_OK;
}

static vpnr_ctx *
mk_ctx(uint32_t as, uint32_t rid)
{
	static const vpnr_callbacks cb = {
		.transport_open = t_open,
		.transport_send = t_send,
		.transport_close = t_close,
	};
	static const vpnr_dataplane dp = {
		.route_add = dp_add,
		.route_del = dp_del,
	};
	vpnr_config *cfg;
	vpnr_ctx *ctx;

	vpnr_config_new(&cfg, NULL);
	vpnr_config_set_local_as(cfg, as);
	vpnr_config_set_router_id(cfg, rid);
	if (vpnr_ctx_new(&ctx, cfg, &cb, NULL, &dp, NULL, NULL) != VPNR_OK)
		exit(1);
	vpnr_config_del(cfg);
	return ctx;
}

static size_t
hdr(uint8_t *m, size_t len, uint8_t type)
{
	memset(m, 0xff, 16);
	m[16] = (uint8_t)(len >> 8);
	m[17] = (uint8_t)len;
	m[18] = type;
	return 19;
}

/* A raw peer (AS 65001, 192.0.2.9) connected and Established. */
static uint64_t
raw_session(vpnr_ctx *ctx, uint64_t *peer, int export)
{
	vpnr_bgp_peer_config *pc;
	vpnr_addr r, l;
	uint64_t tid;
	uint8_t m[64];
	static const uint8_t open_body[] = {
		4,
		0xfd,
		0xe9,
		0,
		240,
		192,
		0,
		2,
		9,
		14,
		2,
		12,
		1,
		4,
		0,
		1,
		0,
		1,
		65,
		4,
		0,
		0,
		0xfd,
		0xe9,
	};

	vpnr_addr_parse(&r, "192.0.2.9");
	vpnr_addr_parse(&l, "192.0.2.1");
	vpnr_bgp_peer_config_new(&pc, NULL);
	vpnr_bgp_peer_config_set_remote(pc, &r, 65001);
	vpnr_bgp_peer_config_set_local(pc, &l);
	vpnr_bgp_peer_config_set_passive(pc, 1);
	vpnr_bgp_peer_config_set_timers(pc, 240, 80);
	vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
	    export ? VPNR_BGP_EXPORT_LOCAL : VPNR_BGP_EXPORT_NONE);
	vpnr_bgp_peer_add(ctx, pc, NULL, peer);
	vpnr_bgp_peer_config_del(pc);
	vpnr_bgp_peer_enable(ctx, *peer, 1, 1);
	if (vpnr_transport_accepted(ctx, &l, &r, &tid, 1) != VPNR_OK)
		exit(1);
	memcpy(m + hdr(m, 19 + sizeof(open_body), 1), open_body,
	    sizeof(open_body));
	vpnr_transport_recv(ctx, tid, m, 19 + sizeof(open_body), 1);
	hdr(m, 19, 4);
	vpnr_transport_recv(ctx, tid, m, 19, 1);
	return tid;
}

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	static const uint8_t attrs[] = {
		0x40,
		1,
		1,
		0,
		0x40,
		2,
		6,
		2,
		1,
		0,
		0,
		0xfd,
		0xe9,
		0x40,
		3,
		4,
		192,
		0,
		2,
		9,
	};
	vpnr_ctx *ctx;
	uint64_t peer, tid;
	uint8_t *buf;
	size_t cap = 64 << 20, len = 0, h0, h1;
	unsigned long i;
	double t0, t1, rx_b;
	vpnr_bgp_peer_info info;

	/* ---- ingest ---- */
	ctx = mk_ctx(65010, 0x0a000001);
	tid = raw_session(ctx, &peer, 0);
	buf = malloc(cap);
	for (i = 0; i < n;) {
		uint8_t *m = buf + len;
		size_t ml = 23 + sizeof(attrs);
		unsigned long k;

		for (k = 0; k < 800 && i < n; k++, i++) {
			uint32_t a = 167772160u + (uint32_t)i * 16;

			m[ml++] = 28;
			m[ml++] = (uint8_t)(a >> 24);
			m[ml++] = (uint8_t)(a >> 16);
			m[ml++] = (uint8_t)(a >> 8);
			m[ml++] = (uint8_t)a;
		}
		hdr(m, ml, 2);
		m[19] = m[20] = 0;
		m[21] = 0;
		m[22] = sizeof(attrs);
		memcpy(m + 23, attrs, sizeof(attrs));
		len += ml;
		if (len + 8192 > cap)
			break;
	}
	h0 = heap_used();
	t0 = mono();
	for (size_t off = 0; off < len; off += 65536)
		vpnr_transport_recv(ctx, tid, buf + off,
		    len - off < 65536 ? len - off : 65536, 2);
	t1 = mono();
	h1 = heap_used();
	vpnr_bgp_peer_get_info(ctx, peer, &info);
	rx_b = (double)(h1 - h0) / n;
	printf("ingest: %u prefixes in %.3f s = %.0f prefixes/s; data-plane "
	       "routes %llu; heap %.1f bytes/route\n",
	    info.pfx_accepted_v4, t1 - t0, info.pfx_accepted_v4 / (t1 - t0),
	    (unsigned long long)routes, (double)(h1 - h0) / n);
	t0 = mono();
	vpnr_ctx_del(ctx);
	printf("teardown of the table: %.3f s\n", mono() - t0);

	/* ---- origination + export ---- */
	ctx = mk_ctx(65010, 0x0a000001);
	h0 = heap_used();
	t0 = mono();
	for (i = 0; i < n; i++) {
		vpnr_prefix p;
		vpnr_path_attrs pa;
		uint64_t id;
		uint32_t a = 167772160u + (uint32_t)i * 16;

		memset(&p, 0, sizeof(p));
		memset(&pa, 0, sizeof(pa));
		p.addr.family = VPNR_AF_INET;
		p.addr.bytes[0] = (uint8_t)(a >> 24);
		p.addr.bytes[1] = (uint8_t)(a >> 16);
		p.addr.bytes[2] = (uint8_t)(a >> 8);
		p.addr.bytes[3] = (uint8_t)a;
		p.len = 28;
		vpnr_bgp_path_add(ctx, &p, &pa, &id, 3);
	}
	t1 = mono();
	h1 = heap_used();
	printf("path_add: %lu paths in %.3f s = %.0f/s; heap %.1f "
	       "bytes/route\n",
	    n, t1 - t0, n / (t1 - t0), (double)(h1 - h0) / n);
	tx_bytes = tx_updates = 0;
	t0 = mono();
	raw_session(ctx, &peer, 1);
	/* the transport takes everything at once: one call sends all */
	t1 = mono();
	vpnr_bgp_peer_get_info(ctx, peer, &info);
	printf("export: %u prefixes in %llu UPDATEs (%.1f MB) in %.3f s = "
	       "%.0f prefixes/s\n",
	    info.pfx_sent_v4, (unsigned long long)tx_updates, tx_bytes / 1e6,
	    t1 - t0, info.pfx_sent_v4 / (t1 - t0));
	printf("origination heap: %.1f bytes/route with one exporting peer "
	       "(target <= 100; the received table above: %.1f)\n",
	    (double)(heap_used() - h0) / n, rx_b);
	vpnr_ctx_del(ctx);
	free(buf);
	return 0;
}
