/*
 * RIB internals: the prefix hash (growth, lookups, deletes), Adj-RIB-In
 * replace/withdraw with the data-plane operations they cause, the
 * multipath set as paths come and go, purging a peer, graceful-restart
 * stale marking, interning (a big table with one attribute set holds
 * one set), data-plane replay, path owner indexes, the object pools
 * and local path ids.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

static int n_add, n_del;
static vpnr_route last_add, last_del;

static int
dp_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)d;
	n_add++;
	last_add = *rt;
	return VPNR_OK;
}

static int
dp_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)d;
	n_del++;
	last_del = *rt;
	return VPNR_OK;
}

static vpnr_ctx *
mk(void)
{
	static const vpnr_dataplane dp = { .route_add = dp_add,
		.route_del = dp_del };
	vpnr_config *cfg;
	vpnr_ctx *ctx;

	assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
	vpnr_config_set_local_as(cfg, 65001);
	vpnr_config_set_router_id(cfg, 0x01010101);
	assert_int_equal(vpnr_ctx_new(&ctx, cfg, NULL, NULL, &dp, NULL, NULL),
	    VPNR_OK);
	vpnr_config_del(cfg);
	n_add = n_del = 0;
	return ctx;
}

/* A configured (never started) peer with a known BGP identifier. */
static struct vpnr__bgp_peer *
peer(vpnr_ctx *ctx, const char *addr, uint32_t as, uint32_t rid)
{
	vpnr_bgp_peer_config *pc;
	vpnr_addr a;
	uint64_t id;
	struct vpnr__bgp_peer *p;

	assert_int_equal(vpnr_addr_parse(&a, addr), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	vpnr_bgp_peer_config_set_remote(pc, &a, as);
	assert_int_equal(vpnr_bgp_peer_add(ctx, pc, NULL, &id), VPNR_OK);
	vpnr_bgp_peer_config_del(pc);
	p = vpnr__bgp_peer_find(ctx->bgp, id);
	assert_non_null(p);
	p->sess.peer_id = rid;
	p->sess.peer_as = as;
	return p;
}

/* Interned attributes: AS path of plen copies of as, next hop nh. */
static const struct vpnr__bgp_attrs *
attrs(struct vpnr__bgp *bgp, uint32_t as, int plen, const char *nh)
{
	struct vpnr__bgp_attrs_build *b = bgp->bld;
	uint32_t path[8];
	vpnr_addr a;
	int i;

	for (i = 0; i < plen; i++)
		path[i] = as;
	vpnr__bgp_attrs_build_init(b);
	b->flags |= VPNR__BGP_A_ORIGIN | VPNR__BGP_A_ASPATH;
	assert_int_equal(vpnr__bgp_attrs_build_aspath_seg(b,
			     VPNR__BGP_AS_SEQUENCE, path, (size_t)plen),
	    0);
	assert_int_equal(vpnr_addr_parse(&a, nh), VPNR_OK);
	vpnr__bgp_attrs_build_set_nexthop(b, &a, NULL);
	return vpnr__bgp_attrs_intern(bgp->attrs, b,
	    vpnr__bgp_aid_from_family(a.family));
}

static struct vpnr__bgp_pfx
pfx(const char *s)
{
	vpnr_prefix p;
	struct vpnr__bgp_pfx k;

	assert_int_equal(vpnr_prefix_parse(&p, s), VPNR_OK);
	assert_int_equal(vpnr__bgp_pfx_from_public(&k, &p), VPNR_OK);
	return k;
}

static void
test_table(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp_table t;
	struct vpnr__bgp_pfx k;
	struct vpnr__bgp_node *n;
	uint32_t i;
	uint64_t gen0;

	(void)state;
	vpnr__bgp_table_init(&t);
	memset(&k, 0, sizeof(k));
	k.afi = VPNR_AF_INET;
	k.len = 24;
	gen0 = t.gen;
	for (i = 0; i < 50000; i++) {
		k.addr[0] = 10;
		k.addr[1] = (uint8_t)(i >> 8);
		k.addr[2] = (uint8_t)i;
		assert_non_null(vpnr__bgp_table_add(ctx, &t, &k));
	}
	assert_int_equal(t.n, 50000);
	assert_true(t.gen > gen0);
	assert_true(t.nb >= t.n);
	/* an existing prefix is found, not added */
	k.addr[1] = 0;
	k.addr[2] = 7;
	n = vpnr__bgp_table_get(&t, &k);
	assert_non_null(n);
	assert_ptr_equal(vpnr__bgp_table_add(ctx, &t, &k), n);
	assert_int_equal(t.n, 50000);
	/* same address, other length: another node */
	k.len = 23;
	assert_null(vpnr__bgp_table_get(&t, &k));
	k.len = 24;
	/* IPv6 keys live beside (16 bytes) */
	{
		struct vpnr__bgp_pfx k6 = pfx("2001:db8::/32");
		struct vpnr__bgp_pfx o;

		n = vpnr__bgp_table_add(ctx, &t, &k6);
		assert_non_null(n);
		vpnr__bgp_node_pfx(n, &o);
		assert_memory_equal(&o, &k6, sizeof(o));
	}
	for (i = 0; i < 50000; i++) {
		k.addr[1] = (uint8_t)(i >> 8);
		k.addr[2] = (uint8_t)i;
		n = vpnr__bgp_table_get(&t, &k);
		assert_non_null(n);
		vpnr__bgp_table_del(ctx, &t, n);
	}
	assert_int_equal(t.n, 1);
	vpnr__bgp_table_free(ctx, &t);
	vpnr_ctx_del(ctx);
}

static void
test_update_replace_withdraw(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp *bgp = vpnr__bgp_get(ctx);
	struct vpnr__bgp_peer *p1 = peer(ctx, "192.0.2.2", 65002, 2);
	struct vpnr__bgp_pfx k = pfx("10.1.0.0/16");
	char buf[64];
	int nw;

	(void)state;
	assert_int_equal(vpnr__bgp_rib_update(bgp, p1->idx, &k,
			     attrs(bgp, 65002, 1, "192.0.2.2"), &nw),
	    VPNR_OK);
	assert_int_equal(nw, 1);
	assert_int_equal(n_add, 1);
	assert_int_equal(last_add.peer_id, p1->id);
	assert_string_equal(vpnr_addr_format(&last_add.nexthop, buf,
				sizeof(buf)),
	    "192.0.2.2");
	assert_true(last_add.flags & VPNR_ROUTE_F_BGP);
	/* the same again: nothing happens */
	vpnr__bgp_rib_update(bgp, p1->idx, &k,
	    attrs(bgp, 65002, 1, "192.0.2.2"), &nw);
	assert_int_equal(nw, 0);
	assert_int_equal(n_add, 1);
	assert_int_equal(n_del, 0);
	/* implicit withdraw with a new next hop: del old, add new */
	vpnr__bgp_rib_update(bgp, p1->idx, &k,
	    attrs(bgp, 65002, 1, "192.0.2.3"), &nw);
	assert_int_equal(n_del, 1);
	assert_int_equal(n_add, 2);
	assert_string_equal(vpnr_addr_format(&last_del.nexthop, buf,
				sizeof(buf)),
	    "192.0.2.2");
	assert_string_equal(vpnr_addr_format(&last_add.nexthop, buf,
				sizeof(buf)),
	    "192.0.2.3");
	/* withdraw */
	assert_int_equal(vpnr__bgp_rib_withdraw(bgp, p1->idx, &k), 1);
	assert_int_equal(n_del, 2);
	assert_int_equal(bgp->rib[0].n, 0);
	assert_int_equal(vpnr__bgp_rib_withdraw(bgp, p1->idx, &k), 0);
	/* every reference went back: only unreferenced sets remain */
	vpnr_ctx_del(ctx);
}

static void
test_ecmp_set(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp *bgp = vpnr__bgp_get(ctx);
	struct vpnr__bgp_peer *a = peer(ctx, "169.254.21.1", 65515, 10);
	struct vpnr__bgp_peer *b = peer(ctx, "169.254.22.1", 65515, 20);
	struct vpnr__bgp_peer *c = peer(ctx, "169.254.23.1", 65515, 5);
	struct vpnr__bgp_pfx k = pfx("10.0.0.0/16");
	int nw;

	(void)state;
	vpnr__bgp_rib_update(bgp, a->idx, &k,
	    attrs(bgp, 65515, 1, "169.254.21.1"), &nw);
	vpnr__bgp_rib_update(bgp, b->idx, &k,
	    attrs(bgp, 65515, 1, "169.254.22.1"), &nw);
	assert_int_equal(n_add, 2); /* both tunnels */
	assert_int_equal(n_del, 0);
	/* a longer path from c: not in the set */
	vpnr__bgp_rib_update(bgp, c->idx, &k,
	    attrs(bgp, 65515, 3, "169.254.23.1"), &nw);
	assert_int_equal(n_add, 2);
	/* a loses; b stays installed, no flap */
	vpnr__bgp_rib_withdraw(bgp, a->idx, &k);
	assert_int_equal(n_del, 1);
	assert_int_equal(n_add, 2);
	/* b goes: c takes over */
	vpnr__bgp_rib_withdraw(bgp, b->idx, &k);
	assert_int_equal(n_del, 2);
	assert_int_equal(n_add, 3);
	assert_int_equal(last_add.peer_id, c->id);
	/* a comes back shorter: replaces c */
	vpnr__bgp_rib_update(bgp, a->idx, &k,
	    attrs(bgp, 65515, 1, "169.254.21.1"), &nw);
	assert_int_equal(n_add, 4);
	assert_int_equal(n_del, 3);
	assert_int_equal(last_del.peer_id, c->id);
	vpnr_ctx_del(ctx);
}

static void
test_purge_and_stale(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp *bgp = vpnr__bgp_get(ctx);
	struct vpnr__bgp_peer *a = peer(ctx, "192.0.2.2", 65002, 2);
	struct vpnr__bgp_peer *b = peer(ctx, "192.0.2.3", 65003, 3);
	const struct vpnr__bgp_attrs *at = attrs(bgp, 65002, 1, "192.0.2.2");
	const struct vpnr__bgp_attrs *bt = attrs(bgp, 65003, 2, "192.0.2.3");
	char s[32];
	int i, nw;

	(void)state;
	for (i = 0; i < 1000; i++) {
		struct vpnr__bgp_pfx k;

		snprintf(s, sizeof(s), "10.%d.%d.0/24", i / 256, i % 256);
		k = pfx(s);
		vpnr__bgp_attrs_ref(at);
		vpnr__bgp_rib_update(bgp, a->idx, &k, at, &nw);
		vpnr__bgp_attrs_ref(bt);
		vpnr__bgp_rib_update(bgp, b->idx, &k, bt, &nw);
	}
	/* one attribute set per peer, however many routes */
	assert_int_equal(at->refcnt, 1001);
	assert_int_equal(n_add, 1000); /* a is best everywhere */
	/* graceful restart: a's routes are stale, still installed */
	vpnr__bgp_rib_mark_stale(bgp, a->idx, 1);
	assert_int_equal(n_del, 0);
	/* 10 refreshed */
	for (i = 0; i < 10; i++) {
		struct vpnr__bgp_pfx k;

		snprintf(s, sizeof(s), "10.%d.%d.0/24", i / 256, i % 256);
		k = pfx(s);
		vpnr__bgp_attrs_ref(at);
		vpnr__bgp_rib_update(bgp, a->idx, &k, at, &nw);
	}
	vpnr__bgp_rib_purge_peer(bgp, a->idx, 1);
	/* 990 fell back to b: del a + add b each */
	assert_int_equal(n_del, 990);
	assert_int_equal(n_add, 1990);
	/* b deconfigured: its 990 best routes go */
	vpnr__bgp_rib_purge_peer(bgp, b->idx, 0);
	assert_int_equal(n_del, 1980);
	assert_int_equal(bgp->rib[0].n, 10);
	/* replay re-issues the 10 installed routes */
	n_add = 0;
	assert_int_equal(vpnr_dp_replay(ctx, 5), VPNR_OK);
	assert_int_equal(n_add, 10);
	vpnr__bgp_attrs_unref(bgp->attrs, at);
	vpnr__bgp_attrs_unref(bgp->attrs, bt);
	vpnr_ctx_del(ctx);
}

/* Path owner indexes: a deleted peer's index is handed out again, the
 * others stay; by_idx names each peer by its own. */
static void
test_peer_idx_reuse(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp *bgp;
	struct vpnr__bgp_peer *p;
	uint64_t ids[600];
	uint32_t idx[600], n_idx;
	char s[32];
	int i;

	(void)state;
	for (i = 0; i < 600; i++) {
		snprintf(s, sizeof(s), "10.9.%d.%d", i / 250, 1 + i % 250);
		p = peer(ctx, s, 65002, (uint32_t)i + 1);
		ids[i] = p->id;
		idx[i] = p->idx;
	}
	bgp = ctx->bgp;
	n_idx = bgp->n_idx;
	assert_int_equal(n_idx, 601); /* 0 is ours */
	for (i = 0; i < 600; i += 3)
		assert_int_equal(vpnr_bgp_peer_del(ctx, ids[i], 1), VPNR_OK);
	for (i = 0; i < 600; i += 3) {
		snprintf(s, sizeof(s), "10.8.%d.%d", i / 250, 1 + i % 250);
		p = peer(ctx, s, 65003, 7);
		assert_true(p->idx >= 1 && p->idx < n_idx);
		assert_ptr_equal(bgp->by_idx[p->idx], p);
	}
	assert_int_equal(bgp->n_idx, n_idx); /* no new index */
	for (i = 1; i < 600; i += 3) {
		p = vpnr__bgp_peer_find(bgp, ids[i]);
		assert_non_null(p);
		assert_int_equal(p->idx, idx[i]);
		assert_ptr_equal(bgp->by_idx[idx[i]], p);
	}
	vpnr_ctx_del(ctx);
}

/* Pools: objects come back for reuse; the chunks grow 1 KiB to 64 KiB
 * and all go back to the allocator with the last object. */
static void
test_pool(void **state)
{
	struct vpnr__bgp_pool pl;
	void *o[5000], *x;
	size_t i, b1;

	(void)state;
	vpnr__bgp_pool_init(&pl, NULL, 20);
	assert_int_equal(pl.size, 24);
	for (i = 0; i < 5000; i++) {
		o[i] = vpnr__bgp_pool_get(&pl);
		assert_non_null(o[i]);
		assert_int_equal((uintptr_t)o[i] % 8, 0);
		memset(o[i], (int)i, 24); /* no overlap: checked below */
	}
	for (i = 0; i < 5000; i++)
		assert_int_equal(((uint8_t *)o[i])[23], (uint8_t)i);
	assert_int_equal(pl.live, 5000);
	assert_true(pl.nchunk >= 7 && pl.nchunk < 12); /* doubling */
	b1 = vpnr__bgp_pool_bytes(&pl);
	assert_true(b1 >= 5000 * 24 && b1 < 5000 * 24 + 2 * 65536);
	vpnr__bgp_pool_put(&pl, o[17]);
	x = vpnr__bgp_pool_get(&pl); /* the freed one, no new chunk */
	assert_ptr_equal(x, o[17]);
	assert_int_equal(vpnr__bgp_pool_bytes(&pl), b1);
	for (i = 0; i < 5000; i++)
		vpnr__bgp_pool_put(&pl, o[i]);
	assert_int_equal(pl.live, 0);
	assert_int_equal(vpnr__bgp_pool_bytes(&pl), 0);
	assert_null(pl.chunks);
	/* usable again after it emptied */
	assert_non_null(x = vpnr__bgp_pool_get(&pl));
	vpnr__bgp_pool_clear(&pl);
	assert_int_equal(pl.live, 0);
}

/* Local path ids are handles (slot, generation): a replaced or deleted
 * path's id is refused, also once its slot serves another prefix; the
 * objects go back to their pools when the table empties. */
static int
count_cb(const vpnr_prefix *p, const vpnr_path_attrs *a, uint64_t id, void *arg)
{
	(void)p, (void)a, (void)id;
	(*(int *)arg)++;
	return 0;
}

static void
test_local_path_ids(void **state)
{
	vpnr_ctx *ctx = mk();
	struct vpnr__bgp *bgp;
	vpnr_prefix p1, p2;
	uint64_t id1, id1b, id2, ids[300];
	char s[32];
	int i, n;

	(void)state;
	assert_int_equal(vpnr_prefix_parse(&p1, "10.1.0.0/16"), VPNR_OK);
	assert_int_equal(vpnr_prefix_parse(&p2, "2001:db8::/32"), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_add(ctx, &p1, NULL, &id1, 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_add(ctx, &p1, NULL, &id1b, 1), VPNR_OK);
	assert_true(id1 != 0 && id1b != 0 && id1 != id1b);
	bgp = ctx->bgp;
	assert_int_equal(bgp->rib[0].n, 1);
	/* the replaced id is gone, the new one works once */
	assert_int_equal(vpnr_bgp_path_del(ctx, id1, 1), VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_bgp_path_add(ctx, &p2, NULL, &id2, 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_del(ctx, id1b, 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_del(ctx, id1b, 1), VPNR_ERR_NOT_FOUND);
	assert_int_equal(bgp->rib[0].n, 0);
	/* the freed slot serves the next prefix; the old id stays dead */
	assert_int_equal(vpnr_bgp_path_add(ctx, &p1, NULL, &id1, 1), VPNR_OK);
	assert_int_equal((uint32_t)id1, (uint32_t)id1b);
	assert_int_equal(vpnr_bgp_path_del(ctx, id1b, 1), VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_bgp_path_del(ctx, 0, 1), VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_bgp_path_del(ctx, ~0ull, 1), VPNR_ERR_NOT_FOUND);
	/* many: every id deletes its own prefix and nothing else */
	for (i = 0; i < 300; i++) {
		vpnr_prefix p;

		snprintf(s, sizeof(s), "10.%d.%d.0/24", 2 + i / 256, i % 256);
		assert_int_equal(vpnr_prefix_parse(&p, s), VPNR_OK);
		assert_int_equal(vpnr_bgp_path_add(ctx, &p, NULL, &ids[i], 1),
		    VPNR_OK);
	}
	for (i = 0; i < 300; i += 2)
		assert_int_equal(vpnr_bgp_path_del(ctx, ids[i], 1), VPNR_OK);
	n = 0;
	assert_int_equal(vpnr_bgp_rib_walk(ctx, VPNR_RIB_LOC, 0, count_cb, &n),
	    VPNR_OK);
	assert_int_equal(n, 152); /* 150 left, p1 and p2 */
	assert_int_equal(bgp->rib[0].n, 151);
	assert_int_equal(bgp->rib[1].n, 1);
	for (i = 1; i < 300; i += 2)
		assert_int_equal(vpnr_bgp_path_del(ctx, ids[i], 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_del(ctx, id1, 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_del(ctx, id2, 1), VPNR_OK);
	assert_int_equal(bgp->rib[0].n + bgp->rib[1].n, 0);
	/* every node and path returned: the pools hold no chunk */
	assert_int_equal(bgp->pool_path.live, 0);
	assert_int_equal(vpnr__bgp_pool_bytes(&bgp->pool_path), 0);
	assert_int_equal(vpnr__bgp_pool_bytes(&bgp->pool_node[0]), 0);
	vpnr_ctx_del(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_update_replace_withdraw),
		cmocka_unit_test(test_ecmp_set),
		cmocka_unit_test(test_purge_and_stale),
		cmocka_unit_test(test_peer_idx_reuse),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_local_path_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
