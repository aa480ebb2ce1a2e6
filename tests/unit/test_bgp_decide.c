/*
 * The decision process (RFC 4271 9.1.2.2) and the multipath rule, on
 * path descriptions: each step decides when the ones before it tie;
 * paths equal down to the router-id tie-break from one neighbor AS are
 * multipath-equal (two tunnels to one cloud), others are not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/bgp.h"

static struct vpnr__bgp_path_info
pi(uint32_t idx, uint32_t plen, uint32_t nas, uint8_t origin, uint32_t med,
    uint32_t rid, uint8_t last_octet)
{
	struct vpnr__bgp_path_info p;

	memset(&p, 0, sizeof(p));
	p.peer_idx = idx;
	p.as_path_len = plen;
	p.neighbor_as = nas;
	p.origin = origin;
	p.med = med;
	p.has_med = med != 0;
	p.local_pref = 100;
	p.router_id = rid;
	p.peer_addr.family = VPNR_AF_INET;
	p.peer_addr.bytes[0] = 169;
	p.peer_addr.bytes[1] = 254;
	p.peer_addr.bytes[3] = last_octet;
	p.ebgp = 1;
	return p;
}

/* a must beat b (and b lose to a), deciding at step want_step. */
static void
beats(const struct vpnr__bgp_path_info *a, const struct vpnr__bgp_path_info *b,
    int acm, int want_step)
{
	int t1 = -1, t2 = -1;

	assert_true(vpnr__bgp_decide_cmp(a, b, acm, &t1) < 0);
	assert_true(vpnr__bgp_decide_cmp(b, a, acm, &t2) > 0);
	assert_int_equal(t1, t2);
	if (want_step >= 0)
		assert_int_equal(t1, want_step);
}

static void
test_local_first(void **state)
{
	struct vpnr__bgp_path_info l = pi(0, 0, 0, 2, 0, 0, 0);
	struct vpnr__bgp_path_info e = pi(1, 1, 65515, 0, 0, 1, 1);

	(void)state;
	l.local = 1;
	l.ebgp = 0;
	beats(&l, &e, 0, 0);
}

static void
test_shortest_as_path(void **state)
{
	struct vpnr__bgp_path_info a = pi(1, 1, 65515, 2, 500, 9, 9);
	struct vpnr__bgp_path_info b = pi(2, 3, 65515, 0, 0, 1, 1);

	(void)state;
	/* a shorter path beats a better origin, MED and router id */
	beats(&a, &b, 0, 2);
}

static void
test_lowest_origin(void **state)
{
	struct vpnr__bgp_path_info a = pi(1, 2, 65515, 0, 500, 9, 9);
	struct vpnr__bgp_path_info b = pi(2, 2, 65515, 1, 0, 1, 1);
	struct vpnr__bgp_path_info c = pi(3, 2, 65515, 2, 0, 1, 1);

	(void)state;
	beats(&a, &b, 0, 3);
	beats(&b, &c, 0, 3);
}

static void
test_med_same_neighbor_as(void **state)
{
	struct vpnr__bgp_path_info a = pi(1, 2, 65515, 0, 10, 9, 9);
	struct vpnr__bgp_path_info b = pi(2, 2, 65515, 0, 20, 1, 1);
	struct vpnr__bgp_path_info nomed = pi(3, 2, 65515, 0, 0, 9, 9);

	(void)state;
	beats(&a, &b, 0, 4);
	/* a missing MED counts as 0, the best */
	beats(&nomed, &a, 0, 4);
}

static void
test_med_other_neighbor_as(void **state)
{
	/* different neighbor AS: MED not compared, the router id
	 * decides, and the paths are not multipath-equal */
	struct vpnr__bgp_path_info a = pi(1, 2, 64512, 0, 100, 1, 1);
	struct vpnr__bgp_path_info b = pi(2, 2, 64513, 0, 10, 2, 2);
	int t;

	(void)state;
	assert_true(vpnr__bgp_decide_cmp(&a, &b, 0, &t) < 0);
	assert_true(t < BGP_DECIDE_ECMP_STEP);
	/* with always-compare-med the lower MED wins */
	beats(&b, &a, 1, 4);
}

static void
test_router_id_then_address(void **state)
{
	struct vpnr__bgp_path_info a = pi(1, 2, 65515, 0, 0, 1, 9);
	struct vpnr__bgp_path_info b = pi(2, 2, 65515, 0, 0, 2, 1);
	struct vpnr__bgp_path_info c = pi(3, 2, 65515, 0, 0, 2, 5);

	(void)state;
	beats(&a, &b, 0, 8);
	beats(&b, &c, 0, 9);
}

/* Two tunnels to one cloud: same AS path length, origin, MED and
 * neighbor AS: multipath-equal, the router id only orders them. */
static void
test_ecmp_equal(void **state)
{
	struct vpnr__bgp_path_info a = pi(1, 1, 12076, 0, 0, 0x0a000001, 1);
	struct vpnr__bgp_path_info b = pi(2, 1, 12076, 0, 0, 0x0a000002, 5);
	int t;

	(void)state;
	assert_true(vpnr__bgp_decide_cmp(&a, &b, 0, &t) < 0);
	assert_true(t >= BGP_DECIDE_ECMP_STEP);
	/* a MED difference breaks the tie (AWS uses MED for this) */
	b.med = 100;
	b.has_med = 1;
	assert_true(vpnr__bgp_decide_cmp(&a, &b, 0, &t) < 0);
	assert_true(t < BGP_DECIDE_ECMP_STEP);
	/* and so does prepending */
	b.med = 0;
	b.as_path_len = 3;
	assert_true(vpnr__bgp_decide_cmp(&a, &b, 0, &t) < 0);
	assert_true(t < BGP_DECIDE_ECMP_STEP);
}

static void
test_total_order(void **state)
{
	struct vpnr__bgp_path_info v[6];
	int i, j, k, t;

	(void)state;
	v[0] = pi(1, 1, 65515, 0, 0, 1, 1);
	v[1] = pi(2, 1, 65515, 0, 5, 1, 2);
	v[2] = pi(3, 2, 65515, 0, 0, 3, 3);
	v[3] = pi(4, 1, 65516, 1, 0, 4, 4);
	v[4] = pi(5, 1, 65515, 0, 0, 1, 5);
	v[5] = pi(6, 3, 65517, 2, 9, 0, 6);
	/* antisymmetric and transitive on these */
	for (i = 0; i < 6; i++) {
		assert_int_equal(vpnr__bgp_decide_cmp(&v[i], &v[i], 0, &t), 0);
		for (j = 0; j < 6; j++) {
			int ij = vpnr__bgp_decide_cmp(&v[i], &v[j], 0, &t);
			int ji = vpnr__bgp_decide_cmp(&v[j], &v[i], 0, &t);

			if (i != j)
				assert_true((ij < 0) == (ji > 0));
			for (k = 0; k < 6; k++)
				if (ij < 0 &&
				    vpnr__bgp_decide_cmp(&v[j], &v[k], 0, &t) <
					0)
					assert_true(vpnr__bgp_decide_cmp(&v[i],
							&v[k], 0, &t) < 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_first),
		cmocka_unit_test(test_shortest_as_path),
		cmocka_unit_test(test_lowest_origin),
		cmocka_unit_test(test_med_same_neighbor_as),
		cmocka_unit_test(test_med_other_neighbor_as),
		cmocka_unit_test(test_router_id_then_address),
		cmocka_unit_test(test_ecmp_equal),
		cmocka_unit_test(test_total_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
