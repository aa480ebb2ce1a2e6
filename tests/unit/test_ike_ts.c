/*
 * Traffic selector narrowing (RFC 7296 2.9), containment, formatting.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ike_ts.h"

/* "a..b" or "a" (single address), any family */
static vpnr_ts
mk(const char *s, const char *e, uint8_t proto, uint16_t ps, uint16_t pe)
{
	vpnr_ts ts;
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	memset(&ts, 0, sizeof(ts));
	ts.ip_proto = proto;
	ts.port_start = ps;
	ts.port_end = pe;
	ts.addr_start.family = ts.addr_end.family =
	    af == AF_INET ? VPNR_AF_INET : VPNR_AF_INET6;
	assert_int_equal(inet_pton(af, s, ts.addr_start.bytes), 1);
	assert_int_equal(inet_pton(af, e, ts.addr_end.bytes), 1);
	return ts;
}

static const char *
str(const vpnr_ts *ts)
{
	static char buf[128];

	return vpnr__ts_str(ts, buf, sizeof(buf));
}

static void
test_any(void **state)
{
	vpnr_ts ts;

	(void)state;
	vpnr__ts_any(&ts, VPNR_AF_INET);
	assert_string_equal(str(&ts), "0.0.0.0/0");
	assert_int_equal(ts.port_end, 65535);
	vpnr__ts_any(&ts, VPNR_AF_INET6);
	assert_string_equal(str(&ts), "::/0");
}

static void
test_format(void **state)
{
	vpnr_ts ts;
	char small[6];

	(void)state;
	ts = mk("10.0.0.0", "10.255.255.255", 0, 0, 65535);
	assert_string_equal(str(&ts), "10.0.0.0/8");
	ts = mk("192.0.2.1", "192.0.2.9", 6, 80, 80);
	assert_string_equal(str(&ts), "192.0.2.1..192.0.2.9[tcp/80]");
	ts = mk("192.0.2.1", "192.0.2.1", 17, 500, 4500);
	assert_string_equal(str(&ts), "192.0.2.1/32[udp/500-4500]");
	ts = mk("192.0.2.0", "192.0.2.127", 47, 0, 65535);
	assert_string_equal(str(&ts), "192.0.2.0/25[gre]");
	ts = mk("192.0.2.0", "192.0.2.127", 0, 65535, 0);
	assert_string_equal(str(&ts), "192.0.2.0/25[0/OPAQUE]");
	ts = mk("2001:db8::", "2001:db8::ffff", 58, 0, 65535);
	assert_string_equal(str(&ts), "2001:db8::/112[ipv6-icmp]");
	ts = mk("2001:db8::1", "2001:db8::3", 132, 1, 2);
	assert_string_equal(str(&ts), "2001:db8::1..2001:db8::3[132/1-2]");
	/* truncation and bad input are safe */
	ts = mk("10.0.0.0", "10.255.255.255", 0, 0, 65535);
	assert_string_equal(vpnr__ts_str(&ts, small, sizeof(small)), "10.0.");
	memset(&ts, 0, sizeof(ts));
	assert_string_equal(str(&ts), "(invalid)");
}

static void
test_narrow_basic(void **state)
{
	vpnr_ts peer[2], ours[2], out[8];
	size_t n;

	(void)state;
	/* peer any <-> ours 10/8: narrowed to ours */
	vpnr__ts_any(&peer[0], VPNR_AF_INET);
	ours[0] = mk("10.0.0.0", "10.255.255.255", 0, 0, 65535);
	n = vpnr__ts_narrow(peer, 1, ours, 1, out, 8);
	assert_int_equal(n, 1);
	assert_string_equal(str(&out[0]), "10.0.0.0/8");
	/* partially overlapping ranges */
	peer[0] = mk("10.0.0.100", "10.0.1.50", 0, 0, 65535);
	ours[0] = mk("10.0.0.0", "10.0.0.255", 0, 0, 65535);
	n = vpnr__ts_narrow(peer, 1, ours, 1, out, 8);
	assert_int_equal(n, 1);
	assert_string_equal(str(&out[0]), "10.0.0.100..10.0.0.255");
	/* disjoint */
	ours[0] = mk("10.0.2.0", "10.0.2.255", 0, 0, 65535);
	assert_int_equal(vpnr__ts_narrow(peer, 1, ours, 1, out, 8), 0);
	/* protocols: any vs tcp -> tcp; tcp vs udp -> nothing */
	peer[0] = mk("10.0.0.0", "10.0.0.255", 0, 0, 65535);
	ours[0] = mk("10.0.0.0", "10.0.0.255", 6, 0, 65535);
	n = vpnr__ts_narrow(peer, 1, ours, 1, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].ip_proto, 6);
	peer[0].ip_proto = 17;
	assert_int_equal(vpnr__ts_narrow(peer, 1, ours, 1, out, 8), 0);
	/* ports */
	peer[0] = mk("10.0.0.0", "10.0.0.255", 6, 1000, 2000);
	ours[0] = mk("10.0.0.0", "10.0.0.255", 6, 1500, 65535);
	n = vpnr__ts_narrow(peer, 1, ours, 1, out, 8);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].port_start, 1500);
	assert_int_equal(out[0].port_end, 2000);
	ours[0].port_start = 2001;
	assert_int_equal(vpnr__ts_narrow(peer, 1, ours, 1, out, 8), 0);
	/* family mismatch */
	peer[0] = mk("2001:db8::", "2001:db8::ff", 0, 0, 65535);
	ours[0] = mk("10.0.0.0", "10.0.0.255", 0, 0, 65535);
	assert_int_equal(vpnr__ts_narrow(peer, 1, ours, 1, out, 8), 0);
}

static void
test_narrow_multi(void **state)
{
	vpnr_ts peer[3], ours[2], out[8];
	size_t n;

	(void)state;
	/* RFC 2.9: first peer TS may be the triggering packet */
	peer[0] = mk("192.168.2.10", "192.168.2.10", 6, 443, 443);
	peer[1] = mk("192.168.2.0", "192.168.2.255", 0, 0, 65535);
	peer[2] = mk("2001:db8::", "2001:db8::ffff:ffff", 0, 0, 65535);
	ours[0] = mk("192.168.0.0", "192.168.255.255", 0, 0, 65535);
	ours[1] = mk("2001:db8::", "2001:db8::ffff", 0, 0, 65535);
	n = vpnr__ts_narrow(peer, 3, ours, 2, out, 8);
	assert_int_equal(n, 3);
	assert_string_equal(str(&out[0]), "192.168.2.10/32[tcp/443]");
	assert_string_equal(str(&out[1]), "192.168.2.0/24");
	assert_string_equal(str(&out[2]), "2001:db8::/112");
	/* cap limits the result */
	assert_int_equal(vpnr__ts_narrow(peer, 3, ours, 2, out, 2), 2);
	assert_int_equal(vpnr__ts_narrow(peer, 3, ours, 2, out, 0), 0);
	/* duplicates are collapsed */
	peer[0] = peer[1];
	n = vpnr__ts_narrow(peer, 2, ours, 2, out, 8);
	assert_int_equal(n, 1);
	/* the result is a subset of both sides */
	n = vpnr__ts_narrow(peer, 3, ours, 2, out, 8);
	assert_true(vpnr__ts_subset(out, n, peer, 3));
	assert_true(vpnr__ts_subset(out, n, ours, 2));
}

static void
test_opaque(void **state)
{
	vpnr_ts a, b, out[2];

	(void)state;
	a = mk("10.0.0.0", "10.0.0.255", 17, 65535, 0);
	b = mk("10.0.0.0", "10.0.0.255", 0, 0, 65535);
	assert_int_equal(vpnr__ts_narrow(&a, 1, &b, 1, out, 2), 1);
	assert_int_equal(out[0].port_start, 65535);
	assert_int_equal(out[0].port_end, 0);
	assert_true(vpnr__ts_subset(&a, 1, &b, 1));
	assert_false(vpnr__ts_subset(&b, 1, &a, 1));
	b.port_start = 500;
	b.port_end = 500;
	assert_int_equal(vpnr__ts_narrow(&a, 1, &b, 1, out, 2), 0);
	assert_false(vpnr__ts_subset(&a, 1, &b, 1));
	assert_false(vpnr__ts_subset(&b, 1, &a, 1));
}

static void
test_subset(void **state)
{
	vpnr_ts a[2], b[2], any4, any6;

	(void)state;
	vpnr__ts_any(&any4, VPNR_AF_INET);
	vpnr__ts_any(&any6, VPNR_AF_INET6);
	a[0] = mk("10.1.0.0", "10.1.255.255", 6, 22, 22);
	a[1] = mk("2001:db8::1", "2001:db8::1", 0, 0, 65535);
	b[0] = any4;
	b[1] = any6;
	assert_true(vpnr__ts_subset(a, 2, b, 2));
	assert_false(vpnr__ts_subset(a, 2, b, 1));
	assert_false(vpnr__ts_subset(b, 2, a, 2));
	assert_true(vpnr__ts_subset(a, 0, b, 0)); /* empty set */
	/* protocol: tcp inside any, any not inside tcp */
	b[0] = mk("10.0.0.0", "10.255.255.255", 6, 0, 65535);
	assert_true(vpnr__ts_subset(a, 1, b, 1));
	a[0].ip_proto = 0;
	assert_false(vpnr__ts_subset(a, 1, b, 1));
	/* address edges */
	a[0] = mk("10.0.0.0", "11.0.0.0", 6, 22, 22);
	assert_false(vpnr__ts_subset(a, 1, b, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_narrow_basic),
		cmocka_unit_test(test_narrow_multi),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_subset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
