/*
 * The ABI rules of include/vpnroute/ (vpnroute.h, "ABI rules"):
 *  - lib/vstruct.h copies exactly the caller's version of a struct:
 *    canary bytes past an old caller's buffer stay intact, and a struct
 *    that ends right before an inaccessible page is read without a
 *    fault (so nothing past its version is read);
 *  - versions newer than the library knows (and 0) are refused and the
 *    caller's buffer is left untouched;
 *  - reserved input fields must be zero;
 *  - the exported twins of the convenience macros behave as version 1.
 * Every *_versioned entry point is exercised: context, libuv driver,
 * tunnel and BGP peer info, path attributes, ESP SA install, SA info
 * and counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

#include "ctx.h"     /* white-box: the copied tables in ctx->cb/dp */
#include "vstruct.h" /* the helper under test */

#define CANARY 0xa5
#define SLACK  64 /* canary bytes after a caller's struct */

/* ---- buffers ------------------------------------------------------- */

/* len bytes ending exactly where a PROT_NONE page starts. */
struct guarded {
	uint8_t *map;
	size_t maplen;
	void *p;
};

static void *
guarded_new(struct guarded *g, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + pg - 1) / pg * pg;

	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + data, pg, PROT_NONE), 0);
	g->p = g->map + data - len;
	memset(g->p, 0, len);
	return g->p;
}

static void
guarded_free(struct guarded *g)
{
	munmap(g->map, g->maplen);
}

/* A caller's struct of size len followed by SLACK canary bytes. */
static uint8_t *
canary_new(size_t len)
{
	uint8_t *b = malloc(len + SLACK);

	assert_non_null(b);
	memset(b, CANARY, len + SLACK);
	return b;
}

static void
assert_canary(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = len; i < len + SLACK; i++)
		assert_int_equal(b[i], CANARY);
}

/* ---- the helper ---------------------------------------------------- */

/* A struct with two versions: v1 ends after b, v2 appended c. */
struct two {
	uint32_t a;
	uint32_t b;
	uint64_t c;
};
#define VS_TWO VPNR__VEND(struct two, b), VPNR__VEND(struct two, c)

static void
test_vcopy_in(void **state)
{
	struct guarded g;
	struct two *v1, dst;

	(void)state;
	/* A v1 caller's struct is only 8 bytes long: reading c faults. */
	v1 = guarded_new(&g, VPNR__VEND(struct two, b));
	v1->a = 1;
	v1->b = 2;
	memset(&dst, 0xee, sizeof(dst));
	assert_int_equal(VPNR__VCOPY_IN(&dst, v1, 1, VS_TWO), VPNR_OK);
	assert_int_equal(dst.a, 1);
	assert_int_equal(dst.b, 2);
	assert_int_equal(dst.c, 0); /* zero-extended */
	guarded_free(&g);

	/* Unknown versions: refused, dst untouched. */
	memset(&dst, 0xee, sizeof(dst));
	assert_int_equal(VPNR__VCOPY_IN(&dst, &dst, 3, VS_TWO),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(VPNR__VCOPY_IN(&dst, &dst, 0, VS_TWO),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(VPNR__VCOPY_IN(&dst, &dst, -1, VS_TWO),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(dst.a, 0xeeeeeeeeu);
	/* NULL source: all zeros. */
	assert_int_equal(VPNR__VCOPY_IN(&dst, NULL, 2, VS_TWO), VPNR_OK);
	assert_int_equal(dst.a | dst.b, 0);
	assert_int_equal(dst.c, 0);
	assert_int_equal(VPNR__VCOUNT(VS_TWO), 2);
	assert_true(VPNR__VKNOWN(2, VS_TWO));
	assert_false(VPNR__VKNOWN(3, VS_TWO));
}

static void
test_vcopy_out(void **state)
{
	struct two src = { 1, 2, 3 };
	size_t v1 = VPNR__VEND(struct two, b);
	uint8_t *buf = canary_new(v1);
	struct two out;

	(void)state;
	/* A v1 caller gets 8 bytes, not one more. */
	assert_int_equal(VPNR__VCOPY_OUT((struct two *)buf, &src, 1, VS_TWO),
	    VPNR_OK);
	memcpy(&out, buf, v1);
	assert_int_equal(out.a, 1);
	assert_int_equal(out.b, 2);
	assert_canary(buf, v1);
	/* Newer than known: refused, nothing written. */
	memset(buf, CANARY, v1 + SLACK);
	assert_int_equal(VPNR__VCOPY_OUT((struct two *)buf, &src, 3, VS_TWO),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_canary(buf, 0);
	free(buf);
}

/* ---- context ------------------------------------------------------- */

static int
dummy_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
    void *dp_data)
{
	return VPNR_OK;
}

static void
dummy_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *user_data)
{}

static void
test_ctx_new_versions(void **state)
{
	struct guarded gc, gd;
	vpnr_callbacks *cb, full_cb;
	vpnr_dataplane *dp, full_dp;
	vpnr_ctx *ctx = (vpnr_ctx *)1;

	(void)state;
	/* V1 tables that end at a guard page: copied without overread. */
	cb = guarded_new(&gc, VPNR__VEND(vpnr_callbacks, log_msg));
	dp = guarded_new(&gd, VPNR__VEND(vpnr_dataplane, sa_query));
	cb->log_msg = dummy_log;
	dp->sa_add = dummy_sa_add;
	assert_int_equal(vpnr_ctx_new_versioned(&ctx, NULL, VPNR_CALLBACKS_V1,
			     cb, NULL, VPNR_DATAPLANE_V1, dp, NULL, NULL),
	    VPNR_OK);
	assert_true(ctx->cb.log_msg == dummy_log);
	assert_true(ctx->dp.sa_add == dummy_sa_add);
	assert_null(ctx->cb.tunnel_event);
	vpnr_ctx_del(ctx);

	/* The exported function (not the macro) is version 1. */
	assert_int_equal((vpnr_ctx_new)(&ctx, NULL, cb, NULL, dp, NULL, NULL),
	    VPNR_OK);
	assert_true(ctx->cb.log_msg == dummy_log);
	vpnr_ctx_del(ctx);
	guarded_free(&gc);
	guarded_free(&gd);

	/* Newer than known, or 0: refused, nothing allocated. */
	memset(&full_cb, 0, sizeof(full_cb));
	memset(&full_dp, 0, sizeof(full_dp));
	ctx = (vpnr_ctx *)1;
	assert_int_equal(vpnr_ctx_new_versioned(&ctx, NULL,
			     VPNR_CALLBACKS_VERSION + 1, &full_cb, NULL,
			     VPNR_DATAPLANE_VERSION, &full_dp, NULL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_null(ctx);
	assert_int_equal(vpnr_ctx_new_versioned(&ctx, NULL,
			     VPNR_CALLBACKS_VERSION, &full_cb, NULL,
			     VPNR_DATAPLANE_VERSION + 1, &full_dp, NULL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_ctx_new_versioned(&ctx, NULL, 0, &full_cb, NULL,
			     VPNR_DATAPLANE_VERSION, &full_dp, NULL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_null(ctx);
}

/* ---- tunnel and BGP peer info --------------------------------------- */

static vpnr_ctx *
ctx_with_as(void)
{
	vpnr_config *cfg;
	vpnr_ctx *ctx;
	vpnr_callbacks cb;
	vpnr_dataplane dp;

	memset(&cb, 0, sizeof(cb));
	memset(&dp, 0, sizeof(dp));
	assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
	assert_int_equal(vpnr_config_set_local_as(cfg, 65001), VPNR_OK);
	assert_int_equal(vpnr_config_set_router_id(cfg, 0xc0000201), VPNR_OK);
	assert_int_equal(vpnr_ctx_new(&ctx, cfg, &cb, NULL, &dp, NULL, NULL),
	    VPNR_OK);
	vpnr_config_del(cfg);
	return ctx;
}

static void
test_tunnel_info_versions(void **state)
{
	vpnr_ctx *ctx = ctx_with_as();
	vpnr_tunnel_config *tc;
	vpnr_tunnel_info twin;
	vpnr_addr l, r;
	uint64_t id;
	size_t v1 = VPNR__VEND(vpnr_tunnel_info, malformed);
	uint8_t *buf = canary_new(v1);
	vpnr_tunnel_info *info = (vpnr_tunnel_info *)buf;

	(void)state;
	assert_int_equal(vpnr_tunnel_config_new(&tc, NULL), VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&l, "192.0.2.1"), VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&r, "192.0.2.2"), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_addrs(tc, &l, &r), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_psk(tc,
			     (const uint8_t *)"abi-test-psk-0123", 17),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(ctx, tc, NULL, &id), VPNR_OK);
	vpnr_tunnel_config_del(tc);

	assert_int_equal(vpnr_tunnel_get_info_versioned(ctx, id,
			     VPNR_TUNNEL_INFO_V1, info),
	    VPNR_OK);
	assert_canary(buf, v1);
	assert_int_equal(info->state, VPNR_TUNNEL_IDLE);
	assert_int_equal(info->remote.bytes[3], 2);
	/* The exported twin gives the same bytes. */
	assert_int_equal((vpnr_tunnel_get_info)(ctx, id, &twin), VPNR_OK);
	assert_memory_equal(&twin, buf, v1);
	/* The macro too. */
	memset(&twin, 0xee, sizeof(twin));
	assert_int_equal(vpnr_tunnel_get_info(ctx, id, &twin), VPNR_OK);
	assert_memory_equal(&twin, buf, v1);

	/* Newer than known, 0, negative: refused, buffer untouched. */
	memset(buf, CANARY, v1 + SLACK);
	assert_int_equal(vpnr_tunnel_get_info_versioned(ctx, id,
			     VPNR_TUNNEL_INFO_VERSION + 1, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_get_info_versioned(ctx, id, 0, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_tunnel_get_info_versioned(ctx, id, -1, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_canary(buf, 0);
	assert_int_equal(vpnr_tunnel_get_info_versioned(ctx, id + 100,
			     VPNR_TUNNEL_INFO_V1, info),
	    VPNR_ERR_NOT_FOUND);
	free(buf);
	vpnr_ctx_del(ctx);
}

static void
test_bgp_peer_info_versions(void **state)
{
	vpnr_ctx *ctx = ctx_with_as();
	vpnr_bgp_peer_config *pc;
	vpnr_bgp_peer_info twin;
	vpnr_addr r;
	uint64_t id;
	size_t v1 = VPNR__VEND(vpnr_bgp_peer_info, reserved);
	uint8_t *buf = canary_new(v1);
	vpnr_bgp_peer_info *info = (vpnr_bgp_peer_info *)buf;
	int v;

	(void)state;
	assert_int_equal(vpnr_bgp_peer_config_new(&pc, NULL), VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&r, "192.0.2.9"), VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_remote(pc, &r, 65002),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_add(ctx, pc, NULL, &id), VPNR_OK);
	vpnr_bgp_peer_config_del(pc);

	/* Every version up to ours is accepted (older callers keep
	 * working); only its bytes are written. */
	for (v = VPNR_BGP_PEER_INFO_V1; v <= VPNR_BGP_PEER_INFO_VERSION; v++) {
		memset(buf, CANARY, v1 + SLACK);
		assert_int_equal(vpnr_bgp_peer_get_info_versioned(ctx, id, v,
				     info),
		    VPNR_OK);
		assert_canary(buf, v1);
		assert_int_equal(info->remote_as, 65002);
		assert_int_equal(info->state, VPNR_BGP_STATE_IDLE);
		assert_int_equal(info->reserved0, 0);
	}
	assert_int_equal((vpnr_bgp_peer_get_info)(ctx, id, &twin), VPNR_OK);
	assert_memory_equal(&twin, buf, v1);

	memset(buf, CANARY, v1 + SLACK);
	assert_int_equal(vpnr_bgp_peer_get_info_versioned(ctx, id,
			     VPNR_BGP_PEER_INFO_VERSION + 1, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_peer_get_info_versioned(ctx, id, 0, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_canary(buf, 0);
	free(buf);
	vpnr_ctx_del(ctx);
}

/* ---- path attributes ----------------------------------------------- */

struct walk {
	int seen;
	uint32_t med;
	uint64_t reserved_or;
};

static int
walk_cb(const vpnr_prefix *prefix, const vpnr_path_attrs *attrs,
    uint64_t peer_id, void *arg)
{
	struct walk *w = arg;

	w->seen++;
	w->med = attrs->med;
	w->reserved_or |= attrs->reserved[0] | attrs->reserved32;
	/* our own path: empty AS path, ORIGIN IGP */
	w->reserved_or |= attrs->n_as_path | attrs->origin;
	w->reserved_or |= attrs->as_path != NULL;
	return 0;
}

static void
test_path_attrs_versions(void **state)
{
	vpnr_ctx *ctx = ctx_with_as();
	struct guarded g;
	vpnr_path_attrs *a, full;
	vpnr_prefix p;
	uint64_t id = 0, id2 = 0;
	struct walk w = { 0 };
	uint32_t comm = 0xfde80001;

	(void)state;
	assert_int_equal(vpnr_prefix_parse(&p, "198.51.100.0/24"), VPNR_OK);
	/* V1 attrs ending at a guard page. */
	a = guarded_new(&g, VPNR__VEND(vpnr_path_attrs, reserved));
	a->med = 42;
	a->flags = VPNR_PATH_F_HAS_MED;
	a->communities = &comm;
	a->n_communities = 1;
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p,
			     VPNR_PATH_ATTRS_V1, a, &id, 1),
	    VPNR_OK);
	assert_true(id != 0);
	assert_int_equal(vpnr_bgp_rib_walk(ctx, VPNR_RIB_LOC, 0, walk_cb, &w),
	    VPNR_OK);
	assert_int_equal(w.seen, 1);
	assert_int_equal(w.med, 42);
	assert_true(w.reserved_or == 0); /* zero on output */

	/* Reserved and the output-only fields must be zero on input. */
	a->reserved[0] = 1;
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p,
			     VPNR_PATH_ATTRS_V1, a, &id2, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_true(id2 == 0);
	a->reserved[0] = 0;
	a->as_path = &comm;
	a->n_as_path = 1;
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p,
			     VPNR_PATH_ATTRS_V1, a, &id2, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_true(id2 == 0);
	guarded_free(&g);

	/* Newer than known or 0: refused, whatever attrs is. */
	memset(&full, 0, sizeof(full));
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p,
			     VPNR_PATH_ATTRS_VERSION + 1, &full, &id2, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p, 0, NULL, &id2, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	/* NULL attrs with a known version; the exported twin. */
	assert_int_equal(vpnr_bgp_path_add_versioned(ctx, &p,
			     VPNR_PATH_ATTRS_V1, NULL, &id2, 1),
	    VPNR_OK);
	assert_int_equal((vpnr_bgp_path_add)(ctx, &p, &full, &id2, 1), VPNR_OK);
	assert_int_equal(vpnr_bgp_path_add(ctx, &p, &full, &id2, 1), VPNR_OK);
	vpnr_ctx_del(ctx);
}

/* ---- ESP ------------------------------------------------------------ */

static uint8_t esp_key[20];

static void
make_in_sa(vpnr_child_sa *sa)
{
	memset(esp_key, 0x11, sizeof(esp_key));
	sa->sa_id = 2;
	sa->tunnel_id = 7;
	sa->spi = 0xc0ffee02;
	sa->protocol = 50;
	sa->direction = VPNR_DIR_IN;
	sa->flags = VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
	vpnr_addr_parse(&sa->src, "203.0.113.2");
	vpnr_addr_parse(&sa->dst, "203.0.113.1");
	sa->src.port = sa->dst.port = 4500;
	sa->encr_id = VPNR_ENCR_AES_GCM_16;
	sa->encr_key_bits = 128;
	sa->encr_key = esp_key;
	sa->encr_key_len = sizeof(esp_key);
	sa->replay_window = 64;
	sa->if_id = 9;
}

static void
test_esp_versions(void **state)
{
	vpnr_esp *esp;
	struct guarded g;
	vpnr_child_sa *sa, full;
	size_t iv1 = VPNR__VEND(vpnr_esp_sa_info, counters);
	size_t cv1 = VPNR__VEND(vpnr_esp_counters, reserved);
	uint8_t *ib = canary_new(iv1), *cb = canary_new(cv1);
	vpnr_esp_sa_info *info = (vpnr_esp_sa_info *)ib, twin;
	vpnr_esp_counters *c = (vpnr_esp_counters *)cb, ctwin;

	(void)state;
	assert_int_equal(vpnr_esp_new(&esp, NULL), VPNR_OK);
	/* A V1 vpnr_child_sa ending at a guard page. */
	sa = guarded_new(&g, VPNR__VEND(vpnr_child_sa, n_ts_remote));
	make_in_sa(sa);
	assert_int_equal(vpnr_esp_sa_install_versioned(esp,
			     VPNR_CHILD_SA_VERSION + 1, sa),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_esp_sa_install_versioned(esp, 0, sa),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_esp_sa_install_versioned(esp, VPNR_CHILD_SA_V1,
			     sa),
	    VPNR_OK);
	guarded_free(&g);
	/* The exported twin installs too (another SA id and SPI). */
	memset(&full, 0, sizeof(full));
	make_in_sa(&full);
	full.sa_id = 3;
	full.spi = 0xc0ffee03;
	assert_int_equal((vpnr_esp_sa_install)(esp, &full), VPNR_OK);

	/* SA info by id and by SPI: exactly V1 bytes. */
	assert_int_equal(vpnr_esp_get_sa_info_versioned(esp, 2,
			     VPNR_ESP_SA_INFO_V1, info),
	    VPNR_OK);
	assert_canary(ib, iv1);
	assert_int_equal(info->spi, 0xc0ffee02);
	assert_int_equal(info->if_id, 9);
	assert_int_equal((vpnr_esp_get_sa_info)(esp, 2, &twin), VPNR_OK);
	assert_memory_equal(&twin, ib, iv1);
	memset(ib, CANARY, iv1 + SLACK);
	assert_int_equal(vpnr_esp_get_sa_info_by_spi_versioned(esp, 0xc0ffee02,
			     VPNR_ESP_SA_INFO_V1, info),
	    VPNR_OK);
	assert_canary(ib, iv1);
	assert_int_equal(info->sa_id, 2);
	assert_int_equal((vpnr_esp_get_sa_info_by_spi)(esp, 0xc0ffee02, &twin),
	    VPNR_OK);
	assert_memory_equal(&twin, ib, iv1);
	memset(ib, CANARY, iv1 + SLACK);
	assert_int_equal(vpnr_esp_get_sa_info_versioned(esp, 2,
			     VPNR_ESP_SA_INFO_VERSION + 1, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_esp_get_sa_info_by_spi_versioned(esp, 0xc0ffee02,
			     0, info),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_canary(ib, 0);
	assert_int_equal(vpnr_esp_get_sa_info_versioned(esp, 99,
			     VPNR_ESP_SA_INFO_V1, info),
	    VPNR_ERR_NOT_FOUND);

	/* Counters of the tunnel interface and global ones. */
	assert_int_equal(vpnr_esp_get_tunnel_counters_versioned(esp, 9,
			     VPNR_ESP_COUNTERS_V1, c),
	    VPNR_OK);
	assert_canary(cb, cv1);
	assert_int_equal((vpnr_esp_get_tunnel_counters)(esp, 9, &ctwin),
	    VPNR_OK);
	assert_memory_equal(&ctwin, cb, cv1);
	memset(cb, CANARY, cv1 + SLACK);
	assert_int_equal(vpnr_esp_get_counters_versioned(esp,
			     VPNR_ESP_COUNTERS_V1, c),
	    VPNR_OK);
	assert_canary(cb, cv1);
	assert_int_equal((vpnr_esp_get_counters)(esp, &ctwin), VPNR_OK);
	assert_memory_equal(&ctwin, cb, cv1);
	assert_int_equal(vpnr_esp_get_counters(NULL, &ctwin), VPNR_OK);
	assert_int_equal(ctwin.packets_in | ctwin.unknown_spi, 0);
	memset(cb, CANARY, cv1 + SLACK);
	assert_int_equal(vpnr_esp_get_counters_versioned(esp,
			     VPNR_ESP_COUNTERS_VERSION + 1, c),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_esp_get_tunnel_counters_versioned(esp, 9,
			     VPNR_ESP_COUNTERS_VERSION + 1, c),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_canary(cb, 0);
	assert_int_equal(vpnr_esp_get_counters_versioned(esp,
			     VPNR_ESP_COUNTERS_V1, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);

	free(ib);
	free(cb);
	vpnr_esp_del(esp);
}

/* ---- libuv driver options ------------------------------------------ */

static int uv_closed;

static void
on_uv_closed(void *arg)
{
	uv_closed = 1;
}

static void
test_uv_options_versions(void **state)
{
	uv_loop_t loop;
	struct guarded g;
	vpnr_uv_options *o, full;
	vpnr_callbacks cbs;
	vpnr_uv *uv = (vpnr_uv *)1;
	/* High ports apart from test_uv's range (20000..52000 step 16). */
	uint16_t base = (uint16_t)(52000 + (getpid() % 1000) * 4);

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&cbs, 0, sizeof(cbs));
	memset(&full, 0, sizeof(full));
	vpnr_addr_parse(&full.bind_addr, "127.0.0.1");
	full.ike_port = base;
	full.natt_port = (uint16_t)(base + 1);
	/* Versions newer than known, and a non-zero reserved field. */
	assert_int_equal(vpnr_uv_new_versioned(&uv, &loop, NULL,
			     VPNR_CALLBACKS_VERSION, &cbs, NULL,
			     VPNR_DATAPLANE_VERSION, NULL, NULL,
			     VPNR_UV_OPTIONS_VERSION + 1, &full),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_null(uv);
	assert_int_equal(vpnr_uv_new_versioned(&uv, &loop, NULL,
			     VPNR_CALLBACKS_VERSION + 1, &cbs, NULL,
			     VPNR_DATAPLANE_VERSION, NULL, NULL,
			     VPNR_UV_OPTIONS_VERSION, &full),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_uv_new_versioned(&uv, &loop, NULL,
			     VPNR_CALLBACKS_VERSION, &cbs, NULL,
			     VPNR_DATAPLANE_VERSION + 1, NULL, NULL,
			     VPNR_UV_OPTIONS_VERSION, &full),
	    VPNR_ERR_INVALID_ARGUMENT);
	full.reserved = 1;
	assert_int_equal(vpnr_uv_new(&uv, &loop, NULL, &cbs, NULL, NULL, NULL,
			     &full),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_null(uv);

	/* V1 options ending at a guard page, through the exported twin. */
	o = guarded_new(&g, VPNR__VEND(vpnr_uv_options, log_level));
	vpnr_addr_parse(&o->bind_addr, "127.0.0.1");
	o->ike_port = base;
	o->natt_port = (uint16_t)(base + 1);
	assert_int_equal((vpnr_uv_new)(&uv, &loop, NULL, &cbs, NULL, NULL, NULL,
			     o),
	    VPNR_OK);
	guarded_free(&g); /* the driver kept a copy */
	assert_non_null(vpnr_uv_ctx(uv));
	uv_closed = 0;
	assert_int_equal(vpnr_uv_close(uv, on_uv_closed, NULL), VPNR_OK);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_closed, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcopy_in),
		cmocka_unit_test(test_vcopy_out),
		cmocka_unit_test(test_ctx_new_versions),
		cmocka_unit_test(test_tunnel_info_versions),
		cmocka_unit_test(test_bgp_peer_info_versions),
		cmocka_unit_test(test_path_attrs_versions),
		cmocka_unit_test(test_esp_versions),
		cmocka_unit_test(test_uv_options_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
