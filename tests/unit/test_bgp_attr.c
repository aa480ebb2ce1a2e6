/*
 * bgp/attr: path attribute parsing and RFC 7606 error handling,
 * AS4_PATH merging (RFC 6793), interning, eBGP export, encoding and
 * UPDATE packing.  Captured BIRD 2 and GoBGP UPDATEs are used where
 * they exist.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "bgp_captures.h"
#include "buf.h"
#include "msg.h"

static struct vpnr__bgp_attrs_build *B, *B2;
static struct vpnr__bgp_attr_table *T;

static int
setup(void **state)
{
	(void)state;
	B = malloc(sizeof(*B));
	B2 = malloc(sizeof(*B2));
	if (B == NULL || B2 == NULL)
		return -1;
	return vpnr__bgp_attr_table_new(&T, NULL, 42);
}

static int
teardown(void **state)
{
	(void)state;
	vpnr__bgp_attr_table_free(T);
	free(B);
	free(B2);
	return 0;
}

static size_t
hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &v) == 1);
		assert_true(n < max);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static const struct bgp_capture *
capture(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(bgp_captures) / sizeof(bgp_captures[0]); i++)
		if (strcmp(bgp_captures[i].name, name) == 0)
			return &bgp_captures[i];
	fail_msg("no capture %s", name);
	return NULL;
}

/* split a captured UPDATE and parse its attributes */
static int
parse_capture(const char *name, int as4, struct vpnr__bgp_update *u,
    struct vpnr__bgp_attrs_build *b, struct vpnr__bgp_attr_result *res)
{
	const struct bgp_capture *c = capture(name);
	struct vpnr__bgp_attr_pctx pctx = { as4, 1 };
	struct vpnr__bgp_err err;

	assert_int_equal(vpnr__bgp_update_split(c->msg, c->len, u, &err), 0);
	return vpnr__bgp_attrs_parse(&pctx, u->attrs, u->attrs_len,
	    u->nlri_len > 0, b, res);
}

static int
parse_hex(const char *h, int as4, int ebgp, int has_nlri,
    struct vpnr__bgp_attrs_build *b, struct vpnr__bgp_attr_result *res)
{
	static uint8_t buf[8192];
	struct vpnr__bgp_attr_pctx pctx = { as4, ebgp };
	size_t n = hex(h, buf, sizeof(buf));

	return vpnr__bgp_attrs_parse(&pctx, buf, n, has_nlri, b, res);
}

static void
assert_path(const struct vpnr__bgp_attrs *a, const char *want)
{
	char s[512];

	assert_string_equal(vpnr__bgp_attrs_aspath_str(a, s, sizeof(s)), want);
}

/* ------------------------------------------------------------------ */

static void
test_capture_bird_communities(void **state)
{
	struct vpnr__bgp_update u;
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	const uint32_t *c;
	vpnr_path_attrs pub;

	(void)state;
	assert_int_equal(parse_capture("cap_bird_as4_update2", 1, &u, B, &res),
	    VPNR__BGP_ACT_OK);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_non_null(a);
	assert_int_equal(a->origin, VPNR__BGP_ORIGIN_IGP);
	assert_path(a, "4200000001");
	assert_int_equal(vpnr__bgp_attrs_path_len(a), 1);
	assert_int_equal(vpnr__bgp_attrs_first_as(a), 4200000001u);
	assert_int_equal(vpnr__bgp_attrs_origin_as(a), 4200000001u);
	assert_int_equal(a->nh_family, VPNR_AF_INET);
	assert_int_equal(a->nexthop[0], 192);
	assert_int_equal(a->nexthop[3], 1);
	/* BIRD sent (65001,7) (65001,100); stored sorted */
	assert_int_equal(a->n_comm, 2);
	c = vpnr__bgp_attrs_comm(a);
	assert_int_equal(c[0], (65001u << 16) | 7);
	assert_int_equal(c[1], (65001u << 16) | 100);
	assert_true(vpnr__bgp_attrs_has_comm(a, (65001u << 16) | 100));
	assert_false(vpnr__bgp_attrs_has_comm(a, VPNR__BGP_COMM_NO_EXPORT));
	assert_int_equal(a->n_lcomm, 1);
	c = vpnr__bgp_attrs_lcomm(a);
	assert_int_equal(c[0], 4200000001u);
	assert_int_equal(c[1], 1);
	assert_int_equal(c[2], 2);
	assert_false(a->flags & VPNR__BGP_A_MED);
	vpnr__bgp_attrs_to_public(a, &pub);
	assert_int_equal(pub.n_communities, 2);
	assert_ptr_equal(pub.communities, vpnr__bgp_attrs_comm(a));
	assert_int_equal(pub.nexthop.family, VPNR_AF_INET);
	vpnr__bgp_attrs_unref(T, a);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

static void
test_capture_as4_forms_intern_equal(void **state)
{
	static const char *pairs[][2] = {
		/* BIRD, AS 4200000001 with prepends 4200000002 64512 */
		{ "cap_bird_as4_update3", "cap_bird_as2_update3" },
		{ "cap_bird_as4_update2", "cap_bird_as2_update2" },
		/* GoBGP: MED, communities, path 4200000001 4200000003 65010 */
		{ "cap_gobgp_as4_update3", "cap_gobgp_as2_update2" },
	};
	struct vpnr__bgp_update u;
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a4, *a2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(parse_capture(pairs[i][0], 1, &u, B, &res),
		    VPNR__BGP_ACT_OK);
		assert_int_equal(res.as4_merged, 0);
		a4 = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
		/* the 2-octet session carries AS_TRANS + AS4_PATH */
		assert_int_equal(parse_capture(pairs[i][1], 0, &u, B, &res),
		    VPNR__BGP_ACT_OK);
		assert_int_equal(res.as4_merged, 1);
		a2 = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
		assert_non_null(a4);
		assert_ptr_equal(a4, a2);
		assert_int_equal(a4->refcnt, 2);
		vpnr__bgp_attrs_unref(T, a4);
		vpnr__bgp_attrs_unref(T, a2);
	}
	assert_int_equal(parse_capture("cap_bird_as4_update3", 1, &u, B, &res),
	    VPNR__BGP_ACT_OK);
	a4 = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_path(a4, "4200000001 4200000002 64512");
	assert_int_equal(vpnr__bgp_attrs_path_len(a4), 3);
	assert_true(vpnr__bgp_attrs_aspath_contains(a4, 64512));
	assert_false(vpnr__bgp_attrs_aspath_contains(a4, 65001));
	vpnr__bgp_attrs_unref(T, a4);
	assert_int_equal(parse_capture("cap_gobgp_as4_update3", 1, &u, B, &res),
	    VPNR__BGP_ACT_OK);
	a4 = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_int_equal(a4->origin, VPNR__BGP_ORIGIN_EGP);
	assert_true(a4->flags & VPNR__BGP_A_MED);
	assert_int_equal(vpnr__bgp_attrs_med(a4), 77);
	assert_int_equal(vpnr__bgp_attrs_origin_as(a4), 65010);
	vpnr__bgp_attrs_unref(T, a4);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

static void
test_capture_ipv6_mp_reach(void **state)
{
	struct vpnr__bgp_update u;
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx p;
	char s[64];

	(void)state;
	/* BIRD: global + link-local next hop */
	assert_int_equal(parse_capture("cap_bird_as4_update5", 1, &u, B, &res),
	    VPNR__BGP_ACT_OK);
	assert_true(res.mp_reach.present);
	assert_int_equal(res.mp_reach.aid, VPNR__BGP_AID_IPV6);
	assert_int_equal(u.nlri_len, 0);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV6);
	assert_int_equal(a->nh_family, VPNR_AF_INET6);
	assert_true(a->flags & VPNR__BGP_A_NEXTHOP_LL);
	assert_int_equal(a->nexthop[0], 0x20);
	assert_int_equal(a->nexthop[15], 0x01);
	assert_int_equal(a->nexthop_ll[0], 0xfe);
	assert_int_equal(a->nexthop_ll[1], 0x80);
	vpnr__rbuf_init(&r, res.mp_reach.nlri, res.mp_reach.nlri_len);
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET6, &p), 1);
	assert_string_equal(vpnr__bgp_pfx_str(&p, s, sizeof(s)),
	    "2001:db8:100::/48");
	vpnr__bgp_attrs_unref(T, a);
	/* GoBGP: global only, MP_REACH after AS_PATH */
	assert_int_equal(parse_capture("cap_gobgp_as4_update1", 1, &u, B, &res),
	    VPNR__BGP_ACT_OK);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV6);
	assert_int_equal(a->nh_family, VPNR_AF_INET6);
	assert_false(a->flags & VPNR__BGP_A_NEXTHOP_LL);
	assert_int_equal(a->origin, VPNR__BGP_ORIGIN_INCOMPLETE);
	vpnr__bgp_attrs_unref(T, a);
}

/* Every RFC 7606 case: malformed input -> expected action. */
#define BASE_ORIGIN "400101 00"
#define BASE_PATH   "400206 0201 0000fde9"
#define BASE_NH     "400304 c0000201"
#define BASE        BASE_ORIGIN BASE_PATH BASE_NH
#define AS4         1
#define AS2         0
#define EBGP        1
#define IBGP        0
#define MP6 \
	"800e 1c 0002 01 10 20010db8000000000000000000000001 00 30 " \
	"20010db80001"

static const struct rfc7606_case {
	const char *name;
	int as4, ebgp, has_nlri;
	const char *attrs;
	int action;
	uint8_t subcode; /* checked when non-zero */
} rfc7606_cases[] = {
	{ "valid", AS4, EBGP, 1, BASE, VPNR__BGP_ACT_OK, 0 },
	{ "valid 2-octet", AS2, EBGP, 1, BASE_ORIGIN "400204 0201 fde9" BASE_NH,
	    VPNR__BGP_ACT_OK, 0 },
	{ "extended length flag", AS4, EBGP, 1,
	    "500100 01 00" BASE_PATH BASE_NH, VPNR__BGP_ACT_OK, 0 },
	/* 7.1 ORIGIN */
	{ "origin len 2", AS4, EBGP, 1, "400102 0000" BASE_PATH BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	{ "origin value 3", AS4, EBGP, 1, "400101 03" BASE_PATH BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 6 },
	{ "origin flags optional", AS4, EBGP, 1, "c00101 00" BASE_PATH BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 4 },
	/* 7.2 AS_PATH */
	{ "aspath bad segment type", AS4, EBGP, 1,
	    BASE_ORIGIN "400206 0501 0000fde9" BASE_NH, VPNR__BGP_ACT_WITHDRAW,
	    11 },
	{ "aspath zero count", AS4, EBGP, 1, BASE_ORIGIN "400202 0200" BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 11 },
	{ "aspath overrun", AS4, EBGP, 1,
	    BASE_ORIGIN "400206 0202 0000fde9" BASE_NH, VPNR__BGP_ACT_WITHDRAW,
	    11 },
	{ "aspath underrun", AS4, EBGP, 1,
	    BASE_ORIGIN "400207 0201 0000fde9 00" BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 11 },
	{ "aspath 2-octet read as 4", AS4, EBGP, 1,
	    BASE_ORIGIN "400204 0201 fde9" BASE_NH, VPNR__BGP_ACT_WITHDRAW,
	    11 },
	{ "aspath confed from eBGP", AS4, EBGP, 1,
	    BASE_ORIGIN "400206 0301 0000fde9" BASE_NH, VPNR__BGP_ACT_WITHDRAW,
	    11 },
	{ "aspath AS 0 (RFC 7607)", AS4, EBGP, 1,
	    BASE_ORIGIN "40020a 0202 0000fde9 00000000" BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 11 },
	{ "as4_path AS 0", AS2, EBGP, 1,
	    BASE_ORIGIN "400204 0201 5ba0" BASE_NH "c01106 0201 00000000",
	    VPNR__BGP_ACT_DISCARD, 11 },
	{ "aspath confed from iBGP", AS4, IBGP, 1,
	    BASE_ORIGIN "400206 0301 0000fde9" BASE_NH, VPNR__BGP_ACT_OK, 0 },
	/* 7.3 NEXT_HOP */
	{ "nexthop len 5", AS4, EBGP, 1,
	    BASE_ORIGIN BASE_PATH "400305 c000020100", VPNR__BGP_ACT_WITHDRAW,
	    5 },
	{ "nexthop 0.0.0.0", AS4, EBGP, 1,
	    BASE_ORIGIN BASE_PATH "400304 00000000", VPNR__BGP_ACT_WITHDRAW,
	    8 },
	{ "nexthop multicast", AS4, EBGP, 1,
	    BASE_ORIGIN BASE_PATH "400304 e0000001", VPNR__BGP_ACT_WITHDRAW,
	    8 },
	{ "nexthop loopback", AS4, EBGP, 1,
	    BASE_ORIGIN BASE_PATH "400304 7f000001", VPNR__BGP_ACT_WITHDRAW,
	    8 },
	/* 7.4 MED */
	{ "med len 3", AS4, EBGP, 1, BASE "800403 000001",
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	{ "med transitive flag", AS4, EBGP, 1, BASE "c00404 00000001",
	    VPNR__BGP_ACT_WITHDRAW, 4 },
	/* 7.5 LOCAL_PREF */
	{ "local_pref from eBGP ignored", AS4, EBGP, 1, BASE "400504 00000064",
	    VPNR__BGP_ACT_OK, 0 },
	{ "local_pref bad from eBGP ignored", AS4, EBGP, 1,
	    BASE "400503 000064", VPNR__BGP_ACT_OK, 0 },
	{ "local_pref len 3 iBGP", AS4, IBGP, 1, BASE "400503 000064",
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	/* 7.6 ATOMIC_AGGREGATE */
	{ "atomic_aggregate len 1", AS4, EBGP, 1, BASE "400601 00",
	    VPNR__BGP_ACT_DISCARD, 5 },
	/* 7.7 AGGREGATOR */
	{ "aggregator len 7", AS4, EBGP, 1, BASE "c00707 0000fde9c00002",
	    VPNR__BGP_ACT_DISCARD, 5 },
	{ "aggregator 4-octet on 2-octet session", AS2, EBGP, 1,
	    BASE_ORIGIN "400204 0201 fde9" BASE_NH "c00708 0000fde9c0000201",
	    VPNR__BGP_ACT_DISCARD, 5 },
	{ "aggregator AS 0", AS4, EBGP, 1, BASE "c00708 00000000c0000201",
	    VPNR__BGP_ACT_DISCARD, 9 },
	{ "aggregator valid", AS4, EBGP, 1, BASE "c00708 0000fde9c0000201",
	    VPNR__BGP_ACT_OK, 0 },
	/* 7.8 COMMUNITIES */
	{ "communities len 3", AS4, EBGP, 1, BASE "c00803 000001",
	    VPNR__BGP_ACT_WITHDRAW, 9 },
	{ "communities len 0", AS4, EBGP, 1, BASE "c00800",
	    VPNR__BGP_ACT_WITHDRAW, 9 },
	/* 7.9/7.10 ORIGINATOR_ID, CLUSTER_LIST */
	{ "originator_id from eBGP dropped", AS4, EBGP, 1,
	    BASE "800904 01020304", VPNR__BGP_ACT_OK, 0 },
	{ "originator_id len 3 iBGP", AS4, IBGP, 1, BASE "800903 010203",
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	{ "cluster_list len 5 iBGP", AS4, IBGP, 1, BASE "800a05 0102030405",
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	/* 7.11/7.12 MP_REACH / MP_UNREACH */
	{ "mp_reach valid", AS4, EBGP, 0, BASE_ORIGIN BASE_PATH MP6,
	    VPNR__BGP_ACT_OK, 0 },
	{ "mp_reach truncated", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH "800e03 000201", VPNR__BGP_ACT_RESET, 9 },
	{ "mp_reach nexthop len 15", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH
	    "800e 1b 0002 01 0f 20010db80000000000000000000000 00 30 "
	    "20010db80001",
	    VPNR__BGP_ACT_RESET, 9 },
	{ "mp_reach bad prefix length", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH
	    "800e 1c 0002 01 10 20010db8000000000000000000000001 00 90 "
	    "20010db80001",
	    VPNR__BGP_ACT_RESET, 10 },
	{ "mp_reach truncated prefix", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH
	    "800e 19 0002 01 10 20010db8000000000000000000000001 00 30 20010d",
	    VPNR__BGP_ACT_RESET, 10 },
	{ "mp_reach wrong flags", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH
	    "c00e 1c 0002 01 10 20010db8000000000000000000000001 00 30 "
	    "20010db80001",
	    VPNR__BGP_ACT_RESET, 4 },
	{ "mp_reach overruns block", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH "800e 30 0002 01 10 2001",
	    VPNR__BGP_ACT_RESET, 5 },
	{ "mp_reach unknown afi kept opaque", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH "800e 0a 0019 46 04 01020304 00 ff",
	    VPNR__BGP_ACT_OK, 0 },
	{ "mp_unreach len 2", AS4, EBGP, 0, "800f02 0002", VPNR__BGP_ACT_RESET,
	    9 },
	{ "mp_unreach bad prefix", AS4, EBGP, 0, "800f05 000201 81 00",
	    VPNR__BGP_ACT_RESET, 10 },
	{ "mp_unreach valid", AS4, EBGP, 0, "800f08 000201 20 20010db8",
	    VPNR__BGP_ACT_OK, 0 },
	/* 3g duplicates */
	{ "duplicate mp_unreach", AS4, EBGP, 0, "800f03 000201 800f03 000201",
	    VPNR__BGP_ACT_RESET, 1 },
	{ "duplicate mp_reach", AS4, EBGP, 0, BASE_ORIGIN BASE_PATH MP6 MP6,
	    VPNR__BGP_ACT_RESET, 1 },
	{ "duplicate origin", AS4, EBGP, 1, BASE "400101 02",
	    VPNR__BGP_ACT_DISCARD, 1 },
	/* unrecognized attributes */
	{ "unknown well-known", AS4, EBGP, 1, BASE "406300",
	    VPNR__BGP_ACT_RESET, 2 },
	{ "unknown optional transitive", AS4, EBGP, 1, BASE "c06302 abcd",
	    VPNR__BGP_ACT_OK, 0 },
	{ "unknown optional non-transitive", AS4, EBGP, 1, BASE "806302 abcd",
	    VPNR__BGP_ACT_OK, 0 },
	/* 3d missing well-known mandatory */
	{ "missing origin", AS4, EBGP, 1, BASE_PATH BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 3 },
	{ "missing as_path", AS4, EBGP, 1, BASE_ORIGIN BASE_NH,
	    VPNR__BGP_ACT_WITHDRAW, 3 },
	{ "missing next_hop", AS4, EBGP, 1, BASE_ORIGIN BASE_PATH,
	    VPNR__BGP_ACT_WITHDRAW, 3 },
	{ "missing next_hop without IPv4 NLRI", AS4, EBGP, 0,
	    BASE_ORIGIN BASE_PATH MP6, VPNR__BGP_ACT_OK, 0 },
	{ "missing origin in mp_reach", AS4, EBGP, 0, BASE_PATH MP6,
	    VPNR__BGP_ACT_WITHDRAW, 3 },
	{ "no NLRI, nothing mandatory", AS4, EBGP, 0, "", VPNR__BGP_ACT_OK, 0 },
	/* 4 attribute length vs total length */
	{ "last attribute overruns", AS4, EBGP, 1, BASE "c00808 00010002",
	    VPNR__BGP_ACT_WITHDRAW, 5 },
	{ "trailing partial header", AS4, EBGP, 1, BASE "4001",
	    VPNR__BGP_ACT_WITHDRAW, 1 },
	{ "extended length header cut", AS4, EBGP, 1, BASE "d02000",
	    VPNR__BGP_ACT_WITHDRAW, 1 },
	/* RFC 8092, 7.14 */
	{ "large communities len 11", AS4, EBGP, 1,
	    BASE "c0200b 0000000100000002000000", VPNR__BGP_ACT_WITHDRAW, 9 },
	{ "ext communities len 7", AS4, EBGP, 1, BASE "c01007 00020000000000",
	    VPNR__BGP_ACT_WITHDRAW, 9 },
	{ "ext communities valid", AS4, EBGP, 1, BASE "c01008 0002fde900000064",
	    VPNR__BGP_ACT_OK, 0 },
	/* RFC 6793 6: AS4_PATH / AS4_AGGREGATOR errors -> discard */
	{ "as4_path confed", AS2, EBGP, 1,
	    BASE_ORIGIN "400204 0201 5ba0" BASE_NH "c01106 0301 fa56ea01",
	    VPNR__BGP_ACT_DISCARD, 11 },
	{ "as4_path overrun", AS2, EBGP, 1,
	    BASE_ORIGIN "400204 0201 5ba0" BASE_NH "c01106 0202 fa56ea01",
	    VPNR__BGP_ACT_DISCARD, 11 },
	{ "as4_aggregator len 6", AS2, EBGP, 1,
	    BASE_ORIGIN "400204 0201 5ba0" BASE_NH "c01206 5ba0c0000201",
	    VPNR__BGP_ACT_DISCARD, 5 },
	{ "as4_path on 4-octet session ignored", AS4, EBGP, 1,
	    BASE "c01106 0201 fa56ea01", VPNR__BGP_ACT_OK, 0 },
};

static void
test_rfc7606_table(void **state)
{
	struct vpnr__bgp_attr_result res;
	size_t i;
	int act;

	(void)state;
	for (i = 0; i < sizeof(rfc7606_cases) / sizeof(rfc7606_cases[0]); i++) {
		const struct rfc7606_case *c = &rfc7606_cases[i];

		act =
		    parse_hex(c->attrs, c->as4, c->ebgp, c->has_nlri, B, &res);
		if (act != c->action)
			fail_msg("%s: action %d, want %d", c->name, act,
			    c->action);
		assert_int_equal(res.action, act);
		if (act == VPNR__BGP_ACT_RESET) {
			assert_int_equal(res.err.code, VPNR__BGP_ERR_UPDATE);
		}
		if (c->subcode != 0 && res.err.subcode != c->subcode)
			fail_msg("%s: subcode %u, want %u", c->name,
			    res.err.subcode, c->subcode);
		if (act == VPNR__BGP_ACT_DISCARD)
			assert_true(res.n_discarded > 0);
	}
}

static void
test_rfc7606_details(void **state)
{
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	const uint8_t *u;

	(void)state;
	/* duplicate ORIGIN: the first one wins */
	parse_hex(BASE "400101 02", AS4, EBGP, 1, B, &res);
	assert_int_equal(B->origin, 0);
	/* LOCAL_PREF from eBGP is not kept, from iBGP it is */
	parse_hex(BASE "400504 00000064", AS4, EBGP, 1, B, &res);
	assert_false(B->flags & VPNR__BGP_A_LOCAL_PREF);
	parse_hex(BASE "400504 00000064", AS4, IBGP, 1, B, &res);
	assert_true(B->flags & VPNR__BGP_A_LOCAL_PREF);
	assert_int_equal(B->local_pref, 100);
	/* discarded AGGREGATOR leaves the rest usable */
	parse_hex(BASE "c00707 0000fde9c00002", AS4, EBGP, 1, B, &res);
	assert_false(B->flags & VPNR__BGP_A_AGGREGATOR);
	assert_true(B->has_nh4);
	/* unknown optional transitive kept with PARTIAL; non-transitive
	 * dropped; kept ones sorted by type */
	parse_hex(BASE "c06402 abcd 806502 abcd c06301 ee", AS4, EBGP, 1, B,
	    &res);
	assert_int_equal(res.action, VPNR__BGP_ACT_OK);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_int_equal(a->unknown_len, 9);
	u = vpnr__bgp_attrs_unknown(a);
	assert_int_equal(u[0], 0xe0);
	assert_int_equal(u[1], 0x63);
	assert_int_equal(u[2], 1);
	assert_int_equal(u[3], 0xee);
	assert_int_equal(u[4], 0xe0);
	assert_int_equal(u[5], 0x64);
	vpnr__bgp_attrs_unref(T, a);
	/* confederation segments (iBGP only) count 0 and print apart */
	parse_hex(BASE_ORIGIN "400216 0302 0000fde9 0000fdea 0401 0000fdeb"
			      " 0201 00000d1c" BASE_NH,
	    AS4, IBGP, 1, B, &res);
	assert_int_equal(res.action, VPNR__BGP_ACT_OK);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_path(a, "(65001 65002) [65003] 3356");
	assert_int_equal(vpnr__bgp_attrs_path_len(a), 1);
	assert_int_equal(vpnr__bgp_attrs_first_as(a), 0);
	assert_int_equal(vpnr__bgp_attrs_origin_as(a), 3356);
	vpnr__bgp_attrs_unref(T, a);
	/* RESET carries the attribute as NOTIFICATION data */
	parse_hex(BASE "406300", AS4, EBGP, 1, B, &res);
	assert_int_equal(res.err.data_len, 3);
	assert_int_equal(res.err.data[0], 0x40);
	assert_int_equal(res.err.data[1], 0x63);
	/* missing attribute data is its type code */
	parse_hex(BASE_PATH BASE_NH, AS4, EBGP, 1, B, &res);
	assert_int_equal(res.err.data_len, 1);
	assert_int_equal(res.err.data[0], VPNR__BGP_ATTR_ORIGIN);
	assert_int_equal(res.first_bad_type, VPNR__BGP_ATTR_ORIGIN);
	/* treat-as-withdraw still finds the MP_REACH NLRI to withdraw */
	parse_hex("400101 07" BASE_PATH MP6, AS4, EBGP, 0, B, &res);
	assert_int_equal(res.action, VPNR__BGP_ACT_WITHDRAW);
	assert_true(res.mp_reach.present);
	assert_int_equal(res.mp_reach.nlri_len, 7);
}

/* RFC 6793 4.2.3 merge cases (2-octet session). */
static void
test_as4_merge(void **state)
{
	static const struct {
		const char *attrs;
		const char *path;
		uint32_t agg_as;
	} cases[] = {
		/* AS_PATH longer: leading ASes kept */
		{ "400208 0203 fde9 5ba0 5ba0 c0110a 0202 fa56ea01 fa56ea02",
		    "65001 4200000001 4200000002", 0 },
		/* same length: AS4_PATH replaces */
		{ "400206 0202 5ba0 5ba0 c0110a 0202 fa56ea01 fa56ea02",
		    "4200000001 4200000002", 0 },
		/* AS4_PATH longer: ignored */
		{ "400204 0201 5ba0 c0110a 0202 fa56ea01 fa56ea02", "23456",
		    0 },
		/* AS_SET counts one; split inside a sequence */
		{ "40020e 0203 fde9 fdea 5ba0 0102 fdeb fdec"
		  " c01106 0201 fa56ea01",
		    "65001 65002 23456 4200000001", 0 },
		{ "40020a 0204 fde9 fdea 5ba0 5ba0 c0110a 0202 fa56ea01 "
		  "fa56ea02",
		    "65001 65002 4200000001 4200000002", 0 },
		{ "40020e 0201 fde9 0102 fdeb fdec 0201 5ba0"
		  " c01106 0201 fa56ea01",
		    "65001 {65003,65004} 4200000001", 0 },
		/* AS4_PATH with an AS_SET */
		{ "40020a 0202 fde9 5ba0 0101 5ba0"
		  " c0110c 0201 fa56ea01 0101 fa56ea02",
		    "65001 4200000001 {4200000002}", 0 },
		/* AGGREGATOR not AS_TRANS: AS4_PATH and AS4_AGGREGATOR
		 * ignored */
		{ "400206 0202 5ba0 5ba0 c0110a 0202 fa56ea01 fa56ea02"
		  " c00706 fde9c0000201 c01208 fa56ea09c0000201",
		    "23456 23456", 65001 },
		/* AGGREGATOR AS_TRANS: both merged */
		{ "400206 0202 5ba0 5ba0 c0110a 0202 fa56ea01 fa56ea02"
		  " c00706 5ba0c0000201 c01208 fa56ea09c0000201",
		    "4200000001 4200000002", 4200000009u },
		/* malformed AS4_PATH: discarded, AS_PATH stands */
		{ "400206 0202 5ba0 5ba0 c01105 0201 fa56ea", "23456 23456",
		    0 },
	};
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	char h[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(h, sizeof(h), "%s %s", BASE_ORIGIN, cases[i].attrs);
		parse_hex(h, AS2, EBGP, 0, B, &res);
		assert_true(res.action <= VPNR__BGP_ACT_DISCARD);
		a = vpnr__bgp_attrs_intern(T, B, -1);
		assert_path(a, cases[i].path);
		if (cases[i].agg_as != 0)
			assert_int_equal(a->agg_as, cases[i].agg_as);
		vpnr__bgp_attrs_unref(T, a);
	}
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

static void
test_intern_refcounts(void **state)
{
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a, *b, *c, *d;
	size_t mem;

	(void)state;
	parse_hex(BASE "c00808 fde90064 fde90007", AS4, EBGP, 1, B, &res);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	/* same communities in another order and duplicated */
	parse_hex(BASE "c0080c fde90007 fde90064 fde90007", AS4, EBGP, 1, B,
	    &res);
	b = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refcnt, 2);
	assert_int_equal(a->n_comm, 2);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 1);
	/* a different MED is a different set */
	parse_hex(BASE "c00808 fde90064 fde90007 800404 00000005", AS4, EBGP, 1,
	    B, &res);
	c = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_ptr_not_equal(a, c);
	assert_false(vpnr__bgp_attrs_eq(a, c));
	assert_int_equal(vpnr__bgp_attr_table_count(T), 2);
	mem = vpnr__bgp_attr_table_memory(T);
	assert_true(mem >= vpnr__bgp_attrs_size(a) + vpnr__bgp_attrs_size(c));
	/* seed independence of equality; the content hash is stable */
	assert_int_equal(vpnr__bgp_attrs_hash(a), vpnr__bgp_attrs_hash(b));
	d = vpnr__bgp_attrs_ref(c);
	assert_ptr_equal(c, d);
	assert_int_equal(c->refcnt, 2);
	/* many references to one set: one copy */
	for (int i = 0; i < 1000; i++) {
		b = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
		assert_ptr_equal(b, c);
	}
	assert_int_equal(c->refcnt, 1002);
	for (int i = 0; i < 1000; i++)
		vpnr__bgp_attrs_unref(T, c);
	vpnr__bgp_attrs_unref(T, d);
	vpnr__bgp_attrs_unref(T, c);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 1);
	vpnr__bgp_attrs_unref(T, a);
	vpnr__bgp_attrs_unref(T, a);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
	vpnr__bgp_attrs_unref(T, NULL);
	/* grows past the initial bucket count and shrinks back to empty */
	{
		const struct vpnr__bgp_attrs *v[300];
		int i;

		for (i = 0; i < 300; i++) {
			vpnr__bgp_attrs_build_init(B);
			B->flags |= VPNR__BGP_A_MED;
			B->med = (uint32_t)i;
			v[i] = vpnr__bgp_attrs_intern(T, B, -1);
		}
		assert_int_equal(vpnr__bgp_attr_table_count(T), 300);
		for (i = 0; i < 300; i++) {
			B->med = (uint32_t)i;
			assert_ptr_equal(vpnr__bgp_attrs_intern(T, B, -1),
			    v[i]);
			vpnr__bgp_attrs_unref(T, v[i]);
			vpnr__bgp_attrs_unref(T, v[i]);
		}
		assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
	}
}

static void
test_export(void **state)
{
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *in, *out, *out2;
	struct vpnr__bgp_export x;

	(void)state;
	/* path 64512 3356 4200000000 {64513,174}, MED, LOCAL_PREF */
	parse_hex(BASE_ORIGIN "400218 0203 0000fc00 00000d1c fa56ea00 0102 "
			      "0000fc01 000000ae" BASE_NH
			      "800404 00000032 400504 00000064",
	    AS4, IBGP, 1, B, &res);
	assert_int_equal(res.action, VPNR__BGP_ACT_OK);
	in = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_int_equal(vpnr__bgp_attrs_path_len(in), 4);
	assert_path(in, "64512 3356 4200000000 {64513,174}");

	memset(&x, 0, sizeof(x));
	x.local_as = 65010;
	x.prepend = 2;
	x.med_mode = VPNR__BGP_MED_STRIP;
	x.nexthop_self = 1;
	assert_int_equal(vpnr_addr_parse(&x.nexthop, "169.254.21.1"), 0);
	assert_int_equal(vpnr__bgp_attrs_export(T, in, &x, B, &out), 0);
	assert_path(out, "65010 65010 65010 64512 3356 4200000000 {64513,174}");
	assert_int_equal(vpnr__bgp_attrs_path_len(out), 7);
	assert_int_equal(vpnr__bgp_attrs_first_as(out), 65010);
	assert_false(out->flags & VPNR__BGP_A_MED);
	assert_false(out->flags & VPNR__BGP_A_LOCAL_PREF);
	assert_int_equal(out->nexthop[0], 169);
	assert_int_equal(out->nexthop[3], 1);
	/* exporting twice gives the same set */
	assert_int_equal(vpnr__bgp_attrs_export(T, in, &x, B, &out2), 0);
	assert_ptr_equal(out, out2);
	vpnr__bgp_attrs_unref(T, out2);
	vpnr__bgp_attrs_unref(T, out);

	/* remove private ASNs (the set keeps its public member), set MED */
	x.prepend = 0;
	x.remove_private = 1;
	x.med_mode = VPNR__BGP_MED_SET;
	x.med = 200;
	assert_int_equal(vpnr__bgp_attrs_export(T, in, &x, B, &out), 0);
	assert_path(out, "65010 3356 {174}");
	assert_int_equal(vpnr__bgp_attrs_med(out), 200);
	vpnr__bgp_attrs_unref(T, out);

	/* empty path (locally originated) with MED kept */
	vpnr__bgp_attrs_build_init(B);
	B->flags |= VPNR__BGP_A_ORIGIN | VPNR__BGP_A_MED;
	B->med = 7;
	vpnr__bgp_attrs_unref(T, in);
	in = vpnr__bgp_attrs_intern(T, B, -1);
	assert_int_equal(in->aspath_words, 0);
	assert_int_equal(vpnr__bgp_attrs_first_as(in), 0);
	x.remove_private = 0;
	x.med_mode = VPNR__BGP_MED_KEEP;
	assert_int_equal(vpnr_addr_parse(&x.nexthop, "2001:db8::1"), 0);
	assert_int_equal(vpnr_addr_parse(&x.nexthop_ll, "fe80::1"), 0);
	assert_int_equal(vpnr__bgp_attrs_export(T, in, &x, B, &out), 0);
	assert_path(out, "65010");
	assert_int_equal(vpnr__bgp_attrs_med(out), 7);
	assert_int_equal(out->nh_family, VPNR_AF_INET6);
	assert_true(out->flags & VPNR__BGP_A_NEXTHOP_LL);
	vpnr__bgp_attrs_unref(T, out);
	vpnr__bgp_attrs_unref(T, in);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

static void
test_encode_roundtrip(void **state)
{
	static const char *sets[] = {
		BASE,
		BASE_ORIGIN
		"40020e 0203 fa56ea01 0000fde9 fa56ea02" BASE_NH
		"c00708 fa56ea01c0000201 400600 800404 00000001"
		"c00808 fde90064 ffffff01 c0200c fa56ea01 00000001 00000002"
		"c06302 abcd c01008 0002fde900000064",
		BASE_ORIGIN "40020c 0201 0000fde9 0101 fa56ea05" BASE_NH,
	};
	struct vpnr__bgp_attr_result res;
	struct vpnr__wbuf w;
	const struct vpnr__bgp_attrs *a, *b;
	struct vpnr__bgp_attr_pctx pctx;
	size_t i;
	int as4;

	(void)state;
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		assert_int_equal(parse_hex(sets[i], AS4, EBGP, 1, B, &res),
		    VPNR__BGP_ACT_OK);
		a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
		for (as4 = 0; as4 < 2; as4++) {
			vpnr__wbuf_init(&w, NULL, 65536);
			assert_int_equal(vpnr__bgp_attrs_encode(&w, a, as4, 1),
			    0);
			pctx.as4 = as4;
			pctx.ebgp = 1;
			assert_int_equal(vpnr__bgp_attrs_parse(&pctx,
					     vpnr__wbuf_data(&w),
					     vpnr__wbuf_len(&w), 1, B2, &res),
			    VPNR__BGP_ACT_OK);
			assert_int_equal(res.as4_merged,
			    !as4 && i >= 1); /* AS4_PATH (+ AS4_AGGREGATOR) */
			b = vpnr__bgp_attrs_intern(T, B2, VPNR__BGP_AID_IPV4);
			assert_ptr_equal(a, b);
			vpnr__bgp_attrs_unref(T, b);
			vpnr__wbuf_free(&w);
		}
		vpnr__bgp_attrs_unref(T, a);
	}
	/* a long path is split into 255-ASN segments on the wire and
	 * merged again */
	vpnr__bgp_attrs_build_init(B);
	{
		uint32_t asns[600];

		for (i = 0; i < 600; i++)
			asns[i] = 65000 + (uint32_t)i;
		assert_int_equal(vpnr__bgp_attrs_build_aspath_seg(B,
				     VPNR__BGP_AS_SEQUENCE, asns, 600),
		    0);
	}
	B->flags |= VPNR__BGP_A_ORIGIN;
	a = vpnr__bgp_attrs_intern(T, B, -1);
	assert_int_equal(vpnr__bgp_attrs_path_len(a), 600);
	vpnr__wbuf_init(&w, NULL, 65536);
	assert_int_equal(vpnr__bgp_attrs_encode(&w, a, 1, 0), 0);
	/* flags 0x50 (extended length) for the 2412-byte AS_PATH */
	assert_int_equal(vpnr__wbuf_data(&w)[4], 0x50);
	pctx.as4 = 1;
	pctx.ebgp = 1;
	assert_int_equal(vpnr__bgp_attrs_parse(&pctx, vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), 0, B2, &res),
	    VPNR__BGP_ACT_OK);
	b = vpnr__bgp_attrs_intern(T, B2, -1);
	assert_ptr_equal(a, b);
	vpnr__bgp_attrs_unref(T, a);
	vpnr__bgp_attrs_unref(T, b);
	vpnr__wbuf_free(&w);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

/* Pack n prefixes, read every message back, compare. */
static void
pack_and_check(int aid, int withdraw, size_t n, size_t *nmsgs)
{
	struct vpnr__bgp_pfx *pfx, got;
	struct vpnr__wbuf w;
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	struct vpnr__bgp_attr_result res;
	struct vpnr__bgp_attr_pctx pctx = { 1, 1 };
	struct vpnr__rbuf r;
	const struct vpnr__bgp_attrs *a = NULL, *b;
	const uint8_t *nl;
	size_t i, off, pos, need, nl_len, seen = 0;
	uint8_t type, fam = vpnr__bgp_aid_family(aid);
	int rc;

	pfx = calloc(n, sizeof(*pfx));
	assert_non_null(pfx);
	for (i = 0; i < n; i++) {
		pfx[i].afi = fam;
		if (fam == VPNR_AF_INET) {
			pfx[i].len = (uint8_t)(i % 3 == 0 ? 24 : 32);
			pfx[i].addr[0] = 10;
			pfx[i].addr[1] = (uint8_t)(i >> 8);
			pfx[i].addr[2] = (uint8_t)i;
			if (pfx[i].len == 32)
				pfx[i].addr[3] = 1;
		} else {
			pfx[i].len = (uint8_t)(i % 2 ? 48 : 64);
			pfx[i].addr[0] = 0x20;
			pfx[i].addr[1] = 0x01;
			pfx[i].addr[2] = 0x0d;
			pfx[i].addr[3] = 0xb8;
			pfx[i].addr[4] = (uint8_t)(i >> 8);
			pfx[i].addr[5] = (uint8_t)i;
		}
	}
	if (!withdraw) {
		if (fam == VPNR_AF_INET)
			parse_hex(BASE "c00804 fde90064", AS4, EBGP, 1, B,
			    &res);
		else
			parse_hex(BASE_ORIGIN BASE_PATH MP6, AS4, EBGP, 0, B,
			    &res);
		a = vpnr__bgp_attrs_intern(T, B, aid);
	}
	vpnr__wbuf_init(&w, NULL, 1 << 24);
	for (off = 0; off < n; off += (size_t)rc) {
		rc = vpnr__bgp_update_pack(&w, a, aid, 1, pfx + off, n - off);
		assert_true(rc > 0);
	}
	/* read back */
	*nmsgs = 0;
	for (pos = 0; pos < vpnr__wbuf_len(&w); pos += need) {
		assert_int_equal(vpnr__bgp_frame(vpnr__wbuf_data(&w) + pos,
				     vpnr__wbuf_len(&w) - pos,
				     VPNR__BGP_MAX_LEN, &need, &type, &err),
		    1);
		assert_int_equal(type, VPNR__BGP_UPDATE);
		assert_true(need <= VPNR__BGP_MAX_LEN);
		/* every message but the last is nearly full */
		if (pos + need < vpnr__wbuf_len(&w))
			assert_true(need > VPNR__BGP_MAX_LEN - 18);
		assert_int_equal(vpnr__bgp_update_split(vpnr__wbuf_data(&w) +
					 pos,
				     need, &u, &err),
		    0);
		assert_int_equal(vpnr__bgp_attrs_parse(&pctx, u.attrs,
				     u.attrs_len, u.nlri_len > 0, B2, &res),
		    VPNR__BGP_ACT_OK);
		if (fam == VPNR_AF_INET) {
			nl = withdraw ? u.withdrawn : u.nlri;
			nl_len = withdraw ? u.withdrawn_len : u.nlri_len;
		} else {
			struct vpnr__bgp_mp *mp =
			    withdraw ? &res.mp_unreach : &res.mp_reach;

			assert_true(mp->present);
			assert_int_equal(mp->aid, aid);
			/* RFC 7606 5.1: MP_(UN)REACH_NLRI comes first */
			assert_int_equal(u.attrs[1],
			    withdraw ? VPNR__BGP_ATTR_MP_UNREACH :
				       VPNR__BGP_ATTR_MP_REACH);
			nl = mp->nlri;
			nl_len = mp->nlri_len;
		}
		if (!withdraw) {
			b = vpnr__bgp_attrs_intern(T, B2, aid);
			assert_ptr_equal(a, b);
			vpnr__bgp_attrs_unref(T, b);
		}
		vpnr__rbuf_init(&r, nl, nl_len);
		while (vpnr__bgp_nlri_next(&r, fam, &got) == 1) {
			assert_true(seen < n);
			assert_memory_equal(&got, &pfx[seen], sizeof(got));
			seen++;
		}
		(*nmsgs)++;
	}
	assert_int_equal(seen, n);
	vpnr__wbuf_free(&w);
	vpnr__bgp_attrs_unref(T, a);
	free(pfx);
}

static void
test_update_packing(void **state)
{
	size_t nm;

	(void)state;
	/* 3000 IPv4 prefixes (1000 x /24 + 2000 x /32): 4 + 2 * 5 =
	 * 14000 NLRI bytes in messages of ~4050 usable bytes */
	pack_and_check(VPNR__BGP_AID_IPV4, 0, 3000, &nm);
	assert_int_equal(nm, 4);
	pack_and_check(VPNR__BGP_AID_IPV4, 1, 3000, &nm);
	assert_int_equal(nm, 4);
	pack_and_check(VPNR__BGP_AID_IPV6, 0, 1000, &nm);
	assert_true(nm >= 2);
	pack_and_check(VPNR__BGP_AID_IPV6, 1, 1000, &nm);
	assert_true(nm >= 2);
	pack_and_check(VPNR__BGP_AID_IPV4, 0, 1, &nm);
	assert_int_equal(nm, 1);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

static void
test_packer_edges(void **state)
{
	struct vpnr__bgp_packer pk;
	struct vpnr__wbuf w;
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	struct vpnr__bgp_pfx p6;

	(void)state;
	parse_hex(BASE, AS4, EBGP, 1, B, &res);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	vpnr__wbuf_init(&w, NULL, 65536);
	/* nothing added: the message disappears */
	assert_int_equal(vpnr__bgp_pack_begin_reach(&pk, &w, a,
			     VPNR__BGP_AID_IPV4, 1),
	    0);
	assert_int_equal(vpnr__bgp_pack_finish(&pk), 0);
	assert_int_equal(vpnr__wbuf_len(&w), 0);
	/* wrong family prefix */
	assert_int_equal(vpnr__bgp_pack_begin_reach(&pk, &w, a,
			     VPNR__BGP_AID_IPV4, 1),
	    0);
	memset(&p6, 0, sizeof(p6));
	p6.afi = VPNR_AF_INET6;
	p6.len = 32;
	assert_int_equal(vpnr__bgp_pack_add(&pk, &p6),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__bgp_pack_finish(&pk), 0);
	/* an IPv4-next-hop set cannot carry IPv6 routes */
	assert_int_equal(vpnr__bgp_pack_begin_reach(&pk, &w, a,
			     VPNR__BGP_AID_IPV6, 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__wbuf_len(&w), 0);
	vpnr__wbuf_free(&w);
	vpnr__bgp_attrs_unref(T, a);
}

/* The public AS path: segment members in turn, AS_SET members where
 * the set stands; one segment is handed out in place. */
static void
test_public_aspath(void **state)
{
	static const uint32_t seq[] = { 65050, 65050, 65010 };
	static const uint32_t set[] = { 64512, 64513 };
	static const uint32_t tail[] = { 65020 };
	const struct vpnr__bgp_attrs *a;
	const uint32_t *f;
	uint32_t scratch[VPNR__BGP_MAX_ASPATH_WORDS];
	vpnr_path_attrs pub;
	size_t n;

	(void)state;
	vpnr__bgp_attrs_build_init(B);
	B->flags |= VPNR__BGP_A_ORIGIN;
	B->origin = VPNR__BGP_ORIGIN_INCOMPLETE;
	assert_int_equal(vpnr__bgp_attrs_build_aspath_seg(B,
			     VPNR__BGP_AS_SEQUENCE, seq, 3),
	    0);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_non_null(a);
	vpnr__bgp_attrs_to_public(a, &pub);
	assert_int_equal(pub.origin, VPNR_ORIGIN_INCOMPLETE);
	f = vpnr__bgp_attrs_aspath_flat(a, scratch, &n);
	assert_int_equal(n, 3);
	assert_ptr_equal(f, vpnr__bgp_attrs_aspath(a) + 1);
	assert_memory_equal(f, seq, sizeof(seq));
	vpnr__bgp_attrs_unref(T, a);

	/* 65050 65050 65010 {64512,64513} 65020 */
	assert_int_equal(vpnr__bgp_attrs_build_aspath_seg(B, VPNR__BGP_AS_SET,
			     set, 2),
	    0);
	assert_int_equal(vpnr__bgp_attrs_build_aspath_seg(B,
			     VPNR__BGP_AS_SEQUENCE, tail, 1),
	    0);
	B->origin = VPNR__BGP_ORIGIN_EGP;
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_non_null(a);
	assert_path(a, "65050 65050 65010 {64512,64513} 65020");
	vpnr__bgp_attrs_to_public(a, &pub);
	assert_int_equal(pub.origin, VPNR_ORIGIN_EGP);
	assert_null(pub.as_path);
	f = vpnr__bgp_attrs_aspath_flat(a, scratch, &n);
	assert_ptr_equal(f, scratch);
	assert_int_equal(n, 6);
	assert_int_equal(f[0], 65050);
	assert_int_equal(f[2], 65010);
	assert_int_equal(f[3], 64512);
	assert_int_equal(f[4], 64513);
	assert_int_equal(f[5], 65020);
	vpnr__bgp_attrs_unref(T, a);

	/* empty path: NULL */
	vpnr__bgp_attrs_build_init(B);
	a = vpnr__bgp_attrs_intern(T, B, VPNR__BGP_AID_IPV4);
	assert_non_null(a);
	assert_null(vpnr__bgp_attrs_aspath_flat(a, scratch, &n));
	assert_int_equal(n, 0);
	vpnr__bgp_attrs_unref(T, a);
	assert_int_equal(vpnr__bgp_attr_table_count(T), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_bird_communities),
		cmocka_unit_test(test_capture_as4_forms_intern_equal),
		cmocka_unit_test(test_capture_ipv6_mp_reach),
		cmocka_unit_test(test_rfc7606_table),
		cmocka_unit_test(test_rfc7606_details),
		cmocka_unit_test(test_as4_merge),
		cmocka_unit_test(test_intern_refcounts),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_update_packing),
		cmocka_unit_test(test_packer_edges),
		cmocka_unit_test(test_public_aspath),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
