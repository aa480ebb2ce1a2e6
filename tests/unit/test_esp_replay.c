/*
 * Anti-replay window (ipsec/esp_replay.c): in order, out of order,
 * duplicates, too old, windows of several sizes, and the ESN
 * inference of RFC 4303 Appendix A2 across the 2^32 boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "esp_replay.h"

static uint64_t bitmap[1024]; /* 65536 bits */

/* check + update, as decap does after a good ICV. */
static int
accept(struct vpnr__replay *r, uint64_t seq)
{
	if (vpnr__replay_check(r, seq) != 0)
		return VPNR_ERR_REPLAY;
	vpnr__replay_update(r, seq);
	return 0;
}

static void
test_in_order(void **state)
{
	struct vpnr__replay r;
	uint64_t s;

	vpnr__replay_init(&r, 1024, 0, bitmap);
	for (s = 1; s <= 5000; s++)
		assert_int_equal(accept(&r, s), 0);
	assert_int_equal(r.top, 5000);
	/* Everything already seen is refused. */
	for (s = 4000; s <= 5000; s++)
		assert_int_equal(vpnr__replay_check(&r, s), VPNR_ERR_REPLAY);
}

static void
test_zero_refused(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 64, 0, bitmap);
	assert_int_equal(vpnr__replay_check(&r, 0), VPNR_ERR_REPLAY);
	vpnr__replay_init(&r, 64, 1, bitmap);
	assert_int_equal(vpnr__replay_check(&r, 0), VPNR_ERR_REPLAY);
}

static void
test_out_of_order(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 64, 0, bitmap);
	assert_int_equal(accept(&r, 10), 0);
	assert_int_equal(accept(&r, 5), 0);
	assert_int_equal(accept(&r, 7), 0);
	assert_int_equal(accept(&r, 100), 0);
	/* 37 = 100 - 63: inside a 64 window; 36 is outside. */
	assert_int_equal(accept(&r, 37), 0);
	assert_int_equal(accept(&r, 36), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 99), 0);
	assert_int_equal(accept(&r, 99), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 37), VPNR_ERR_REPLAY);
	assert_int_equal(r.top, 100);
}

static void
test_duplicate(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 1024, 0, bitmap);
	assert_int_equal(accept(&r, 1), 0);
	assert_int_equal(accept(&r, 1), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 3), 0);
	assert_int_equal(accept(&r, 2), 0);
	assert_int_equal(accept(&r, 2), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 3), VPNR_ERR_REPLAY);
}

static void
test_too_old(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 1024, 0, bitmap);
	assert_int_equal(accept(&r, 5000), 0);
	assert_int_equal(accept(&r, 5000 - 1023), 0);
	assert_int_equal(accept(&r, 5000 - 1024), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 1), VPNR_ERR_REPLAY);
}

static void
test_big_jump_clears(void **state)
{
	struct vpnr__replay r;
	uint64_t s;

	vpnr__replay_init(&r, 128, 0, bitmap);
	for (s = 1; s <= 128; s++)
		assert_int_equal(accept(&r, s), 0);
	/* Jump by exactly the bitmap size and by less: stale bits of
	 * reused slots must be cleared. */
	assert_int_equal(accept(&r, 256), 0);
	for (s = 129; s < 256; s++)
		assert_int_equal(accept(&r, s), 0);
	assert_int_equal(accept(&r, 300), 0);
	for (s = 300 - 127; s <= 256; s++)
		assert_int_equal(vpnr__replay_check(&r, s), VPNR_ERR_REPLAY);
	for (s = 257; s < 300; s++)
		assert_int_equal(accept(&r, s), 0);
	assert_int_equal(vpnr__replay_check(&r, 300 - 128), VPNR_ERR_REPLAY);
	assert_int_equal(accept(&r, 299 + 10000), 0);
	assert_int_equal(accept(&r, 299 + 9999), 0);
}

static void
test_sizes(void **state)
{
	static const uint32_t sizes[] = { 1, 32, 64, 65, 1000, 1024, 4096,
		65536 };
	struct vpnr__replay r;
	uint64_t *bm;
	size_t i;
	uint32_t w;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		w = sizes[i];
		bm = calloc(vpnr__replay_words(w), sizeof(*bm));
		assert_non_null(bm);
		vpnr__replay_init(&r, w, 0, bm);
		assert_int_equal(accept(&r, 100000), 0);
		if (w > 1)
			assert_int_equal(accept(&r, 100000 - w + 1), 0);
		assert_int_equal(accept(&r, 100000 - w), VPNR_ERR_REPLAY);
		assert_int_equal(accept(&r, 100000 - w + 1), VPNR_ERR_REPLAY);
		free(bm);
	}
}

static void
test_disabled(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 0, 0, bitmap);
	assert_int_equal(accept(&r, 5), 0);
	assert_int_equal(accept(&r, 5), 0);
	assert_int_equal(accept(&r, 1), 0);
	assert_int_equal(r.top, 5);
}

static void
test_esn_infer(void **state)
{
	struct vpnr__replay r;

	vpnr__replay_init(&r, 1024, 1, bitmap);
	/* Case A, same subspace. */
	r.top = 0x0000000500001000ULL;
	assert_int_equal(vpnr__replay_infer(&r, 0x1001), 0x0000000500001001ULL);
	assert_int_equal(vpnr__replay_infer(&r, 0x1000 - 1023),
	    0x0000000500001000ULL - 1023);
	/* Below the window: the low half wrapped, next subspace. */
	assert_int_equal(vpnr__replay_infer(&r, 0x10), 0x0000000600000010ULL);
	/* Case B: window spans two subspaces. */
	r.top = 0x0000000500000010ULL;
	assert_int_equal(vpnr__replay_infer(&r, 0xfffffff0),
	    0x00000004fffffff0ULL);
	assert_int_equal(vpnr__replay_infer(&r, 0x20), 0x0000000500000020ULL);
	/* Without ESN the low half is the number. */
	vpnr__replay_init(&r, 1024, 0, bitmap);
	r.top = 0x00000000fffffff0ULL;
	assert_int_equal(vpnr__replay_infer(&r, 5), 5);
}

static void
test_esn_boundary(void **state)
{
	struct vpnr__replay r;
	uint64_t s, full;

	vpnr__replay_init(&r, 1024, 1, bitmap);
	/* Walk across 2^32 in order, with the receiver seeing only the
	 * low 32 bits, as on the wire. */
	assert_int_equal(accept(&r, 0xffffff00ULL), 0);
	for (s = 0xffffff01ULL; s <= 0x100000100ULL; s++) {
		full = vpnr__replay_infer(&r, (uint32_t)s);
		assert_int_equal(full, s);
		assert_int_equal(accept(&r, full), 0);
	}
	assert_int_equal(r.top, 0x100000100ULL);
	/* Late packets from before the wrap, inside the window, are
	 * placed in the old subspace and refused as duplicates. */
	full = vpnr__replay_infer(&r, 0xfffffff0U);
	assert_int_equal(full, 0xfffffff0ULL);
	assert_int_equal(vpnr__replay_check(&r, full), VPNR_ERR_REPLAY);
	/* Out of order across the boundary. */
	vpnr__replay_init(&r, 1024, 1, bitmap);
	assert_int_equal(accept(&r, 0xfffffffeULL), 0);
	full = vpnr__replay_infer(&r, 1); /* 2^32 + 1 arrives first */
	assert_int_equal(full, 0x100000001ULL);
	assert_int_equal(accept(&r, full), 0);
	full = vpnr__replay_infer(&r, 0xffffffffU);
	assert_int_equal(full, 0xffffffffULL);
	assert_int_equal(accept(&r, full), 0);
	full = vpnr__replay_infer(&r, 0);
	assert_int_equal(full, 0x100000000ULL);
	assert_int_equal(accept(&r, full), 0);
	assert_int_equal(accept(&r, full), VPNR_ERR_REPLAY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_zero_refused),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_big_jump_clears),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_esn_infer),
		cmocka_unit_test(test_esn_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
