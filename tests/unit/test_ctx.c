/*
 * lib/ctx, timer, dp, err, addr: the context contract with a fake
 * clock and a fake data plane.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctx.h"
#include "dp.h"
#include "timer.h"

/* ---- timers -------------------------------------------------------- */

struct fired {
	int order[8];
	int n;
};

static struct fired fired;

static int
record_timer(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	(void)ctx;
	(void)now;
	fired.order[fired.n++] = (int)(intptr_t)t->arg;
	return VPNR_OK;
}

static void
test_timers_fire_in_deadline_order(void **state)
{
	struct vpnr__timer t1, t2, t3;
	vpnr_ctx *ctx;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, NULL, NULL, NULL, NULL, NULL),
	    VPNR_OK);
	assert_true(vpnr_ctx_get_expiry(ctx) == VPNR_TSTAMP_NEVER);
	vpnr__timer_init(&t1, record_timer, (void *)1);
	vpnr__timer_init(&t2, record_timer, (void *)2);
	vpnr__timer_init(&t3, record_timer, (void *)3);
	vpnr__timer_arm(ctx, &t1, 30 * VPNR_SECONDS);
	vpnr__timer_arm(ctx, &t2, 10 * VPNR_SECONDS);
	vpnr__timer_arm(ctx, &t3, 20 * VPNR_SECONDS);
	vpnr__timer_arm(ctx, &t1, 5 * VPNR_SECONDS); /* re-arm earlier */
	assert_true(vpnr_ctx_get_expiry(ctx) == 5 * VPNR_SECONDS);

	/* Nothing runs before its deadline. */
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 5 * VPNR_SECONDS - 1),
	    VPNR_OK);
	assert_int_equal(fired.n, 0);
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 10 * VPNR_SECONDS),
	    VPNR_OK);
	assert_int_equal(fired.n, 2);
	assert_int_equal(fired.order[0], 1);
	assert_int_equal(fired.order[1], 2);
	vpnr__timer_disarm(ctx, &t3);
	assert_true(vpnr_ctx_get_expiry(ctx) == VPNR_TSTAMP_NEVER);
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 100 * VPNR_SECONDS),
	    VPNR_OK);
	assert_int_equal(fired.n, 2);
	vpnr_ctx_del(ctx);
}

/* ---- re-entrancy and callback failure ------------------------------ */

struct reentry {
	int inner_rv;
	int event_rv;
	int deferred_ran;
};

static int
event_cb(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct reentry *r = ud;

	(void)ev;
	/* Driving the context from inside a callback is refused. */
	r->inner_rv = vpnr_ctx_handle_expiry(ctx, 1);
	return r->event_rv;
}

static int
event_timer(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	vpnr_tunnel_event ev;

	(void)t;
	(void)now;
	memset(&ev, 0, sizeof(ev));
	ev.type = VPNR_TUNNEL_EV_UP;
	vpnr__cb_tunnel_event(ctx, &ev);
	return VPNR_OK;
}

static int
deferred_fn(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct reentry *r = ctx->user_data;

	(void)now;
	assert_int_equal(id, 42);
	assert_int_equal(arg, 7);
	assert_false(vpnr__ctx_in_callback(ctx));
	r->deferred_ran++;
	return VPNR_OK;
}

static int
defer_timer(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	(void)t;
	(void)now;
	return vpnr__ctx_defer(ctx, deferred_fn, 42, 7);
}

static void
test_reentrant_call_refused_and_failure_propagates(void **state)
{
	vpnr_callbacks cb = { .tunnel_event = event_cb };
	struct reentry r = { 0, VPNR_ERR_CALLBACK_FAILURE, 0 };
	struct vpnr__timer t, d;
	vpnr_ctx *ctx;

	(void)state;
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, &cb, &r, NULL, NULL, NULL),
	    VPNR_OK);
	vpnr__timer_init(&t, event_timer, NULL);
	vpnr__timer_arm(ctx, &t, 1);
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 1),
	    VPNR_ERR_CALLBACK_FAILURE);
	assert_int_equal(r.inner_rv, VPNR_ERR_IN_CALLBACK);

	/* The context survives a callback failure. */
	r.event_rv = VPNR_OK;
	vpnr__timer_arm(ctx, &t, 2);
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 2), VPNR_OK);

	vpnr__timer_init(&d, defer_timer, NULL);
	vpnr__timer_arm(ctx, &d, 3);
	assert_int_equal(vpnr_ctx_handle_expiry(ctx, 3), VPNR_OK);
	assert_int_equal(r.deferred_ran, 1);
	vpnr_ctx_del(ctx);
}

/* ---- data plane ---------------------------------------------------- */

struct fake_dp {
	int answer; /* what ops return */
	uint64_t last_op;
	int adds, dels;
	uint8_t last_key[32];
	size_t last_key_len;
	int del_had_key;
	int done_calls;
	int done_status;
};

static int
fake_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
    void *dp_data)
{
	struct fake_dp *f = dp_data;

	(void)ctx;
	f->adds++;
	f->last_op = op_id;
	f->last_key_len = sa->encr_key_len;
	memcpy(f->last_key, sa->encr_key, sa->encr_key_len);
	return f->answer;
}

static int
fake_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
    void *dp_data)
{
	struct fake_dp *f = dp_data;

	(void)ctx;
	f->dels++;
	f->last_op = op_id;
	f->del_had_key = sa->encr_key != NULL || sa->encr_key_len != 0;
	return VPNR_OK;
}

static void
done_fn(vpnr_ctx *ctx, uint64_t cookie, int status, vpnr_tstamp now)
{
	struct fake_dp *f = ctx->dp_data;

	(void)now;
	assert_int_equal(cookie, 77);
	f->done_calls++;
	f->done_status = status;
}

static void
test_dataplane_async_replay_and_wipe(void **state)
{
	vpnr_dataplane dp = { .sa_add = fake_sa_add, .sa_del = fake_sa_del };
	struct fake_dp f;
	vpnr_child_sa sa;
	uint8_t key[20];
	vpnr_ctx *ctx;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, NULL, NULL, &dp, &f, NULL),
	    VPNR_OK);
	memset(&sa, 0, sizeof(sa));
	memset(key, 0x5a, sizeof(key));
	sa.sa_id = 9;
	sa.spi = 0xc0ffee01;
	sa.encr_key = key;
	sa.encr_key_len = sizeof(key);

	f.answer = VPNR_ASYNC;
	assert_int_equal(vpnr__dp_sa_add(ctx, &sa, done_fn, 77), VPNR_ASYNC);
	assert_int_equal(f.done_calls, 0);
	assert_int_equal(vpnr_dp_complete(ctx, f.last_op + 1000, VPNR_OK, 1),
	    VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_dp_complete(ctx, f.last_op, VPNR_OK, 1), VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_OK);
	/* Completing twice is an unknown op. */
	assert_int_equal(vpnr_dp_complete(ctx, f.last_op, VPNR_OK, 1),
	    VPNR_ERR_NOT_FOUND);

	/* The caller's key buffer may be wiped: replay uses a copy. */
	memset(key, 0, sizeof(key));
	f.answer = VPNR_OK;
	memset(f.last_key, 0, sizeof(f.last_key));
	assert_int_equal(vpnr_dp_replay(ctx, 2), VPNR_OK);
	assert_int_equal(f.adds, 2);
	assert_int_equal(f.last_key_len, 20);
	assert_int_equal(f.last_key[0], 0x5a);

	/* Deleting hands over no key material. */
	assert_int_equal(vpnr__dp_sa_del(ctx, 9, NULL, 0), VPNR_OK);
	assert_int_equal(f.dels, 1);
	assert_false(f.del_had_key);
	assert_int_equal(vpnr__dp_sa_del(ctx, 9, NULL, 0), VPNR_ERR_NOT_FOUND);

	/* A failing op is reported as a data-plane error. */
	f.answer = VPNR_ERR_UNSUPPORTED;
	sa.sa_id = 10;
	assert_int_equal(vpnr__dp_sa_add(ctx, &sa, NULL, 0),
	    VPNR_ERR_DATAPLANE);
	vpnr_ctx_del(ctx);
}

/* ---- allocation failures ------------------------------------------- */

struct failmem {
	int countdown; /* fail when it reaches zero */
	int live;
};

static void *
fm_alloc(size_t size, void *ud)
{
	struct failmem *m = ud;

	if (m->countdown-- == 0)
		return NULL;
	m->live++;
	return malloc(size);
}

static void
fm_free(void *p, void *ud)
{
	struct failmem *m = ud;

	m->live--;
	free(p);
}

static void
test_allocation_failures_leave_nothing(void **state)
{
	struct failmem m;
	vpnr_mem mem = { .user_data = &m,
		.alloc_fn = fm_alloc,
		.free_fn = fm_free };
	struct reentry r = { 0, 0, 0 };
	struct vpnr__timer t;
	vpnr_ctx *ctx;
	int i, rv;

	(void)state;
	for (i = 0; i < 8; i++) {
		m.countdown = i;
		m.live = 0;
		rv = vpnr_ctx_new(&ctx, NULL, NULL, &r, NULL, NULL, &mem);
		if (rv != VPNR_OK) {
			assert_int_equal(rv, VPNR_ERR_NOMEM);
			assert_null(ctx);
			assert_int_equal(m.live, 0);
			continue;
		}
		vpnr__timer_init(&t, defer_timer, NULL);
		vpnr__timer_arm(ctx, &t, 1);
		rv = vpnr_ctx_handle_expiry(ctx, 1);
		assert_true(rv == VPNR_OK || rv == VPNR_ERR_NOMEM);
		vpnr_ctx_del(ctx);
		assert_int_equal(m.live, 0);
	}
}

/* ---- errors, versions, addresses ----------------------------------- */

static void
test_errors_versions_addresses(void **state)
{
	vpnr_addr a;
	vpnr_prefix p;
	vpnr_ctx *ctx;
	char buf[64];

	(void)state;
	assert_string_equal(vpnr_err_name(VPNR_ERR_NOMEM), "VPNR_ERR_NOMEM");
	assert_string_equal(vpnr_strerror(VPNR_ERR_AUTH_FAILED),
	    "authentication failed");
	assert_string_equal(vpnr_strerror(-12345), "unknown error");
	assert_true(vpnr_err_is_fatal(VPNR_ERR_NOMEM));
	assert_false(vpnr_err_is_fatal(VPNR_ERR_MALFORMED));
	/* The context survives a callback failure (test above). */
	assert_false(vpnr_err_is_fatal(VPNR_ERR_CALLBACK_FAILURE));
	assert_non_null(vpnr_version(0));
	assert_null(vpnr_version(0xffffff));
	assert_int_equal(vpnr_ctx_new_versioned(&ctx, NULL, 99, NULL, NULL,
			     VPNR_DATAPLANE_VERSION, NULL, NULL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);

	assert_string_equal(vpnr_transform_name(VPNR_TRANSFORM_ENCR, 20),
	    "AES_GCM_16");
	assert_string_equal(vpnr_transform_name(VPNR_TRANSFORM_INTEG, 12),
	    "HMAC_SHA2_256_128");
	assert_string_equal(vpnr_transform_name(VPNR_TRANSFORM_PRF, 2),
	    "PRF_HMAC_SHA1");
	assert_string_equal(vpnr_transform_name(VPNR_TRANSFORM_DH, 31),
	    "CURVE_25519");
	assert_null(vpnr_transform_name(VPNR_TRANSFORM_ENCR, 3)); /* 3DES */
	assert_null(vpnr_transform_name(99, 1));

	assert_int_equal(vpnr_addr_parse(&a, "169.254.21.1"), VPNR_OK);
	assert_int_equal(a.family, VPNR_AF_INET);
	assert_int_equal(a.bytes[3], 1);
	assert_int_equal(vpnr_addr_parse(&a, "203.0.113.2:4500"), VPNR_OK);
	assert_int_equal(a.port, 4500);
	assert_string_equal(vpnr_addr_format(&a, buf, sizeof(buf)),
	    "203.0.113.2:4500");
	assert_int_equal(vpnr_addr_parse(&a, "[2001:db8::1]:179"), VPNR_OK);
	assert_int_equal(a.family, VPNR_AF_INET6);
	assert_int_equal(a.port, 179);
	assert_string_equal(vpnr_addr_format(&a, buf, sizeof(buf)),
	    "[2001:db8::1]:179");
	assert_int_equal(vpnr_addr_parse(&a, "2001:db8::2"), VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&a, "300.1.1.1"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_addr_parse(&a, "1.2.3.4:0"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_addr_format(&a, buf, 4)[0], '\0');

	assert_int_equal(vpnr_prefix_parse(&p, "172.16.0.0/16"), VPNR_OK);
	assert_int_equal(p.len, 16);
	assert_int_equal(vpnr_prefix_parse(&p, "172.16.0.1/16"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_prefix_parse(&p, "10.0.0.0/33"),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_prefix_parse(&p, "2001:db8::/32"), VPNR_OK);
	assert_int_equal(vpnr_prefix_parse(&p, "0.0.0.0/0"), VPNR_OK);
	assert_int_equal(vpnr_prefix_parse(&p, "192.0.2.1"), VPNR_OK);
	assert_int_equal(p.len, 32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_deadline_order),
		cmocka_unit_test(
		    test_reentrant_call_refused_and_failure_propagates),
		cmocka_unit_test(test_dataplane_async_replay_and_wipe),
		cmocka_unit_test(test_allocation_failures_leave_nothing),
		cmocka_unit_test(test_errors_versions_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
