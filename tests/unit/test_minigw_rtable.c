/*
 * minigw's kernel route table (examples/minigw/rtable.c) against a
 * recorded fake kernel: one multipath route when several tunnels carry
 * a prefix, a nexthop leaves as soon as its tunnel is down, static
 * routes win over BGP, and a route minigw did not install is never
 * replaced (the first add is exclusive; a conflict is counted once).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "minigw.h"

struct op {
	int op, n, proto;
	int ifx[MGW_NH_MAX];
};

static struct op ops[32];
static int n_ops;
static int kernel_rc; /* what the fake kernel answers to the next add */

static int
fake_kernel(int op, const vpnr_prefix *p, const int *ifx, int n, int proto,
    const vpnr_addr *src)
{
	struct op *o = &ops[n_ops++];
	int rc = op == MGW_NL_ADD ? kernel_rc : 0;

	assert_true(n_ops < 32);
	o->op = op;
	o->n = n;
	o->proto = proto;
	memcpy(o->ifx, ifx, sizeof(int) * (size_t)n);
	return rc;
}

static struct mgw gw;
static struct mgw_tunnel t1, t2;

static int
setup(void **state)
{
	memset(&gw, 0, sizeof(gw));
	memset(&t1, 0, sizeof(t1));
	memset(&t2, 0, sizeof(t2));
	t1.gw = t2.gw = &gw;
	t1.tun_ifindex = 11;
	t2.tun_ifindex = 12;
	n_ops = 0;
	kernel_rc = 0;
	mgw_rt_kernel = fake_kernel;
	mgw_log_level(VPNR_LOG_ERR);
	return 0;
}

static int
teardown(void **state)
{
	free(gw.rts);
	gw.rts = NULL;
	gw.n_rts = 0;
	return 0;
}

static vpnr_prefix
pfx(const char *s)
{
	vpnr_prefix p;

	assert_int_equal(vpnr_prefix_parse(&p, s), VPNR_OK);
	return p;
}

static void
ecmp_and_down(void **state)
{
	vpnr_prefix p = pfx("172.16.0.0/16");

	t1.child_up = t2.child_up = 1;
	assert_int_equal(mgw_rt_add(&gw, &p, &t1, 5), 0);
	assert_int_equal(mgw_rt_add(&gw, &p, &t2, 6), 0);
	mgw_rt_sync(&gw);
	assert_int_equal(n_ops, 1);
	assert_int_equal(ops[0].op, MGW_NL_ADD);
	assert_int_equal(ops[0].proto, MGW_RTPROT_BGP);
	assert_int_equal(ops[0].n, 2);
	assert_int_equal(ops[0].ifx[0], 11);
	assert_int_equal(ops[0].ifx[1], 12);
	/* Nothing changed: no kernel call. */
	mgw_rt_sync(&gw);
	assert_int_equal(n_ops, 1);
	/* Tunnel 2 down: replaced at once by the single path. */
	t2.child_up = 0;
	mgw_rt_sync(&gw);
	assert_int_equal(n_ops, 2);
	assert_int_equal(ops[1].op, MGW_NL_REPLACE);
	assert_int_equal(ops[1].n, 1);
	assert_int_equal(ops[1].ifx[0], 11);
	/* Tunnel 1 down too: deleted, with our protocol. */
	t1.child_up = 0;
	mgw_rt_sync(&gw);
	assert_int_equal(n_ops, 3);
	assert_int_equal(ops[2].op, MGW_NL_DEL);
	assert_int_equal(ops[2].proto, MGW_RTPROT_BGP);
	/* Back up: exclusive add again. */
	t1.child_up = t2.child_up = 1;
	mgw_rt_sync(&gw);
	assert_int_equal(ops[3].op, MGW_NL_ADD);
	assert_int_equal(ops[3].n, 2);
	/* The BGP paths withdrawn: the route goes, the entry too. */
	assert_int_equal(mgw_rt_del(&gw, &p, &t1, 5), 0);
	assert_int_equal(mgw_rt_del(&gw, &p, &t2, 6), 0);
	assert_int_equal(mgw_rt_del(&gw, &p, &t2, 6), -ESRCH);
	mgw_rt_sync(&gw);
	assert_int_equal(ops[4].op, MGW_NL_DEL);
	assert_int_equal(gw.n_rts, 0);
}

static void
static_wins(void **state)
{
	vpnr_prefix p = pfx("10.0.0.0/8");

	t1.child_up = t2.child_up = 1;
	mgw_rt_add(&gw, &p, &t1, 7); /* BGP via t1 */
	mgw_rt_add(&gw, &p, &t2, 0); /* static via t2 */
	mgw_rt_sync(&gw);
	assert_int_equal(ops[0].proto, MGW_RTPROT);
	assert_int_equal(ops[0].n, 1);
	assert_int_equal(ops[0].ifx[0], 12);
	/* The static tunnel down: BGP takes over. */
	t2.child_up = 0;
	mgw_rt_sync(&gw);
	assert_int_equal(ops[1].op, MGW_NL_REPLACE);
	assert_int_equal(ops[1].proto, MGW_RTPROT_BGP);
	assert_int_equal(ops[1].ifx[0], 11);
	/* The tunnel is removed (reload): its nexthops are forgotten. */
	mgw_rt_forget_tunnel(&gw, &t1);
	mgw_rt_sync(&gw);
	assert_int_equal(ops[2].op, MGW_NL_DEL);
	mgw_rt_forget_tunnel(&gw, &t2);
	mgw_rt_sync(&gw);
	assert_int_equal(gw.n_rts, 0);
}

static void
never_replaces_foreign(void **state)
{
	vpnr_prefix p = pfx("192.168.9.0/24");

	t1.child_up = 1;
	kernel_rc = -EEXIST; /* the operator's route is there */
	mgw_rt_add(&gw, &p, &t1, 0);
	mgw_rt_sync(&gw);
	mgw_rt_sync(&gw);
	assert_int_equal(n_ops, 2);
	/* Only exclusive adds, never a replace of a route not ours. */
	assert_int_equal(ops[0].op, MGW_NL_ADD);
	assert_int_equal(ops[1].op, MGW_NL_ADD);
	assert_int_equal(gw.rt_conflicts, 1);
	assert_int_equal(gw.rts[0].installed, 0);
	/* Once the operator's route is gone ours goes in. */
	kernel_rc = 0;
	mgw_rt_sync(&gw);
	assert_int_equal(gw.rts[0].installed, 1);
	assert_int_equal(gw.rts[0].conflict, 0);
	mgw_rt_flush(&gw);
	assert_int_equal(ops[n_ops - 1].op, MGW_NL_DEL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ecmp_and_down, setup, teardown),
		cmocka_unit_test_setup_teardown(static_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(never_replaces_foreign, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
