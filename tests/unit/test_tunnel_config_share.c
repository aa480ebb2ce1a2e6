/*
 * Tunnel configs share their proposal and selector lists with the
 * builder they came from (refcounted, immutable once made): a change
 * to the builder after vpnr_tunnel_add leaves the tunnel's lists
 * alone, setters called in any order keep what was set before, and
 * every list goes back to the allocator that made it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "ike.h"

static long live; /* allocations not yet freed (both allocators) */

static void *
c_alloc(size_t size, void *ud)
{
	void *p = malloc(size);

	(void)ud;
	if (p != NULL)
		live++;
	return p;
}

static void *
c_zalloc(size_t n, size_t size, void *ud)
{
	void *p = calloc(n, size);

	(void)ud;
	if (p != NULL)
		live++;
	return p;
}

static void *
c_realloc(void *ptr, size_t size, void *ud)
{
	void *p = realloc(ptr, size);

	(void)ud;
	if (p != NULL && ptr == NULL)
		live++;
	return p;
}

static void
c_free(void *ptr, void *ud)
{
	(void)ud;
	if (ptr != NULL)
		live--;
	free(ptr);
}

static int
no_send(vpnr_ctx *ctx, const vpnr_addr *l, const vpnr_addr *r, const uint8_t *d,
    size_t n, void *ud)
{
	(void)ctx;
	(void)l;
	(void)r;
	(void)d;
	(void)n;
	(void)ud;
	return VPNR_OK;
}

static void
test_share_and_copy_on_write(void **state)
{
	vpnr_mem mem = { NULL, c_alloc, c_zalloc, c_realloc, c_free };
	vpnr_callbacks cb;
	vpnr_tunnel_config *tc;
	vpnr_ctx *ctx;
	vpnr_addr a, b;
	vpnr_ts ts;
	uint64_t id1, id2, id3;
	struct tunnel *t1, *t2, *t3;

	(void)state;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = no_send;
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, &cb, NULL, NULL, NULL, &mem),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_new(&tc, &mem), VPNR_OK);
	vpnr_addr_parse(&a, "192.0.2.1");
	vpnr_addr_parse(&b, "192.0.2.2");
	/* Lists and identity first, PSK last: the PSK setter must not
	 * drop them. */
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(tc,
			     "aes256gcm16-prfsha384-x25519"),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_add_esp_proposal(tc, "aes128gcm16"),
	    VPNR_OK);
	memset(&ts, 0, sizeof(ts));
	ts.addr_start = a;
	ts.addr_end = a;
	ts.port_end = 65535;
	assert_int_equal(vpnr_tunnel_config_add_ts(tc, &ts, NULL), VPNR_OK);
	assert_int_equal(vpnr_tunnel_config_set_remote_id(tc, VPNR_ID_FQDN,
			     (const uint8_t *)"peer.example", 12),
	    VPNR_OK);
	vpnr_tunnel_config_set_addrs(tc, &a, &b);
	assert_int_equal(vpnr_tunnel_config_set_psk(tc,
			     (const uint8_t *)"secret", 6),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(ctx, tc, NULL, &id1), VPNR_OK);
	vpnr_addr_parse(&b, "192.0.2.3");
	vpnr_tunnel_config_set_addrs(tc, &a, &b);
	assert_int_equal(vpnr_tunnel_add(ctx, tc, NULL, &id2), VPNR_OK);
	t1 = vpnr__tunnel_find(ctx, id1);
	t2 = vpnr__tunnel_find(ctx, id2);
	assert_non_null(t1);
	assert_non_null(t2);
	/* One list for the builder and both tunnels. */
	assert_int_equal(t1->cfg.n_ike, 1);
	assert_int_equal(t1->cfg.n_esp, 1);
	assert_ptr_equal(t1->cfg.ike_set, t2->cfg.ike_set);
	assert_ptr_equal(t1->cfg.esp_set, t2->cfg.esp_set);
	assert_ptr_equal(t1->cfg.ike_set, tc->ike_set);
	assert_int_equal(t1->cfg.ike_set->hdr.refs, 3);
	assert_int_equal(t1->cfg.n_ts_local, 1);
	assert_int_equal(t1->cfg.n_ts_remote, 1); /* "any" filled in */
	assert_memory_equal(&t1->cfg.ts_local[0], &ts, sizeof(ts));
	assert_int_equal(t1->cfg.remote_id_len, 12);
	assert_memory_equal(t1->cfg.remote_id, "peer.example", 12);
	/* A change to the builder makes a new list; tunnels keep theirs. */
	assert_int_equal(vpnr_tunnel_config_add_ike_proposal(tc,
			     "aes256-sha256-modp2048"),
	    VPNR_OK);
	assert_int_equal(tc->n_ike, 2);
	assert_int_equal(t1->cfg.n_ike, 1);
	assert_int_equal(t1->cfg.ike_set->hdr.refs, 2);
	vpnr_addr_parse(&b, "192.0.2.4");
	vpnr_tunnel_config_set_addrs(tc, &a, &b);
	assert_int_equal(vpnr_tunnel_add(ctx, tc, NULL, &id3), VPNR_OK);
	t3 = vpnr__tunnel_find(ctx, id3);
	assert_non_null(t3);
	assert_int_equal(t3->cfg.n_ike, 2);
	assert_ptr_equal(t3->cfg.ike_set, tc->ike_set);
	assert_ptr_not_equal(t3->cfg.ike_set, t1->cfg.ike_set);
	/* The builder goes first; the tunnels' lists stay valid. */
	vpnr_tunnel_config_del(tc);
	assert_int_equal(t1->cfg.ike_set->hdr.refs, 2);
	assert_int_equal(t3->cfg.ike_set->hdr.refs, 1);
	assert_int_equal(t3->cfg.ike[1].protocol, t1->cfg.ike[0].protocol);
	vpnr_ctx_del(ctx);
	assert_int_equal(live, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_and_copy_on_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
