/*
 * lib/buf: the bounded reader and writer every parser relies on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"

static void
test_reader_reads_network_order(void **state)
{
	static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
		0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
		0x11, 0x12 };
	struct vpnr__rbuf b;
	uint8_t u8;
	uint16_t u16;
	uint32_t u24, u32;
	uint64_t u64;

	(void)state;
	vpnr__rbuf_init(&b, data, sizeof(data));
	assert_int_equal(vpnr__rbuf_get_u8(&b, &u8), 0);
	assert_int_equal(u8, 0x01);
	assert_int_equal(vpnr__rbuf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(vpnr__rbuf_get_u24(&b, &u24), 0);
	assert_int_equal(u24, 0x040506);
	assert_int_equal(vpnr__rbuf_get_u32(&b, &u32), 0);
	assert_int_equal(u32, 0x0708090a);
	assert_int_equal(vpnr__rbuf_get_u64(&b, &u64), 0);
	assert_true(u64 == 0x0b0c0d0e0f101112ULL);
	assert_int_equal(vpnr__rbuf_left(&b), 0);
}

static void
test_reader_errors_are_sticky(void **state)
{
	static const uint8_t data[] = { 1, 2, 3 };
	struct vpnr__rbuf b;
	uint32_t u32;
	uint8_t u8;

	(void)state;
	vpnr__rbuf_init(&b, data, sizeof(data));
	assert_int_equal(vpnr__rbuf_get_u32(&b, &u32), VPNR_ERR_MALFORMED);
	/* Enough bytes for a u8, but the reader already failed. */
	assert_int_equal(vpnr__rbuf_get_u8(&b, &u8), VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr__rbuf_left(&b), 0);
	assert_null(vpnr__rbuf_rest(&b));
}

static void
test_reader_sub_and_skip_are_bounded(void **state)
{
	static const uint8_t data[] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	struct vpnr__rbuf b, sub;
	const uint8_t *p;
	uint16_t v;

	(void)state;
	vpnr__rbuf_init(&b, data, sizeof(data));
	assert_int_equal(vpnr__rbuf_get_sub(&b, 2, &sub), 0);
	assert_int_equal(vpnr__rbuf_left(&sub), 2);
	assert_int_equal(vpnr__rbuf_get_u16(&sub, &v), 0);
	assert_int_equal(v, 0xaabb);
	assert_int_equal(vpnr__rbuf_get_u8(&sub, (uint8_t *)&v),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr__rbuf_peek_u16(&b, 1, &v), 0);
	assert_int_equal(v, 0xddee);
	assert_int_equal(vpnr__rbuf_peek_u16(&b, 2, &v), VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr__rbuf_get_ptr(&b, 3, &p), 0);
	assert_int_equal(p[2], 0xee);
	assert_int_equal(vpnr__rbuf_skip(&b, 1), VPNR_ERR_MALFORMED);
	/* A huge length never wraps around. */
	vpnr__rbuf_init(&b, data, sizeof(data));
	assert_int_equal(vpnr__rbuf_skip(&b, SIZE_MAX), VPNR_ERR_MALFORMED);
}

static void
test_writer_grows_and_patches(void **state)
{
	struct vpnr__wbuf w;
	size_t off, i;

	(void)state;
	vpnr__wbuf_init(&w, NULL, 0);
	assert_int_equal(vpnr__wbuf_reserve(&w, 2, &off), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(vpnr__wbuf_put_u32(&w, (uint32_t)i), 0);
	assert_int_equal(vpnr__wbuf_set_u16(&w, off, 0xbeef), 0);
	assert_int_equal(vpnr__wbuf_len(&w), 4002);
	assert_int_equal(vpnr__wbuf_data(&w)[0], 0xbe);
	assert_int_equal(vpnr__wbuf_data(&w)[4001], 999 & 0xff);
	assert_int_equal(vpnr__wbuf_set_u32(&w, 3999, 1), VPNR_ERR_INTERNAL);
	assert_non_null(vpnr__wbuf_ptr(&w, 4000, 2));
	assert_null(vpnr__wbuf_ptr(&w, 4000, 3));
	vpnr__wbuf_free(&w);
}

static void
test_writer_fixed_and_limited(void **state)
{
	uint8_t buf[4];
	struct vpnr__wbuf w;

	(void)state;
	vpnr__wbuf_init_fixed(&w, buf, sizeof(buf));
	assert_int_equal(vpnr__wbuf_put_u16(&w, 0x0102), 0);
	assert_int_equal(vpnr__wbuf_put_u24(&w, 0x030405),
	    VPNR_ERR_BUFFER_TOO_SMALL);
	/* Sticky: even a fitting write now fails. */
	assert_int_equal(vpnr__wbuf_put_u8(&w, 9), VPNR_ERR_BUFFER_TOO_SMALL);
	assert_int_equal(vpnr__wbuf_len(&w), 2);

	vpnr__wbuf_init(&w, NULL, 8);
	assert_int_equal(vpnr__wbuf_put_u64(&w, 1), 0);
	assert_int_equal(vpnr__wbuf_put_u8(&w, 1), VPNR_ERR_BUFFER_TOO_SMALL);
	vpnr__wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_reads_network_order),
		cmocka_unit_test(test_reader_errors_are_sticky),
		cmocka_unit_test(test_reader_sub_and_skip_are_bounded),
		cmocka_unit_test(test_writer_grows_and_patches),
		cmocka_unit_test(test_writer_fixed_and_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
