/*
 * lib/dp.c, the one completion rule (issue 13): an op is registered
 * before its callback runs, so vpnr_dp_complete() works inside it; the
 * continuation runs after the current callback (at the end of the
 * outermost driving call) or at once from the host's loop; replayed
 * ops go through the same table; a failed add is forgotten.
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

#define MODE_SYNC           0
#define MODE_ASYNC          1
#define MODE_INSIDE_OK      2 /* ASYNC, completed inside with OK */
#define MODE_INSIDE_FAIL    3 /* ASYNC, completed inside with an error */
#define MODE_FAIL           4
#define MODE_INSIDE_THEN_OK 5 /* completed inside with an error, OK */
#define MODE_POSITIVE       6 /* answers a positive code, not VPNR_ASYNC */

struct fdp {
	int mode;
	uint64_t ops[16];
	int n_ops, adds, dels;
	int inside_rv;
	int done_calls, done_status;
	int done_during_op; /* a continuation ran inside an op */
	int in_op;
};

static int
f_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dpd)
{
	struct fdp *f = dpd;
	int rv = VPNR_OK;

	(void)sa;
	f->in_op = 1;
	f->adds++;
	f->ops[f->n_ops++ % 16] = op_id;
	switch (f->mode) {
	case MODE_ASYNC:
		rv = VPNR_ASYNC;
		break;
	case MODE_INSIDE_OK:
	case MODE_INSIDE_FAIL:
		f->inside_rv = vpnr_dp_complete(ctx, op_id,
		    f->mode == MODE_INSIDE_OK ? VPNR_OK : VPNR_ERR_LIMIT, 5);
		rv = VPNR_ASYNC;
		break;
	case MODE_FAIL:
		rv = VPNR_ERR_LIMIT;
		break;
	case MODE_INSIDE_THEN_OK:
		f->inside_rv = vpnr_dp_complete(ctx, op_id, VPNR_ERR_LIMIT, 5);
		rv = VPNR_OK;
		break;
	case MODE_POSITIVE:
		rv = 7;
		break;
	}
	f->in_op = 0;
	return rv;
}

static int
f_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dpd)
{
	struct fdp *f = dpd;

	(void)ctx, (void)op_id, (void)sa;
	f->dels++;
	return VPNR_OK;
}

static void
f_done(vpnr_ctx *ctx, uint64_t cookie, int status, vpnr_tstamp now)
{
	struct fdp *f = ctx->dp_data;

	(void)now;
	assert_int_equal(cookie, 42);
	if (f->in_op)
		f->done_during_op++;
	f->done_calls++;
	f->done_status = status;
}

static vpnr_ctx *
new_ctx(struct fdp *f)
{
	vpnr_dataplane dp = { .sa_add = f_sa_add, .sa_del = f_sa_del };
	vpnr_ctx *ctx;

	memset(f, 0, sizeof(*f));
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, NULL, NULL, &dp, f, NULL),
	    VPNR_OK);
	return ctx;
}

static void
sa_init(vpnr_child_sa *sa, uint64_t id)
{
	static const uint8_t key[16] = { 1, 2, 3 };

	memset(sa, 0, sizeof(*sa));
	sa->sa_id = id;
	sa->spi = 0xc0000000u + (uint32_t)id;
	sa->encr_key = key;
	sa->encr_key_len = sizeof(key);
}

/* An engine step run inside a driving call, as the engines' are. */
static struct fdp *step_f;
static int step_rv;

static int
add_step(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	vpnr_child_sa sa;
	int before = step_f->done_calls;

	(void)arg, (void)now;
	sa_init(&sa, id);
	step_rv = vpnr__dp_sa_add(ctx, &sa, f_done, 42);
	/* Whatever happened inside, the continuation has not run. */
	assert_int_equal(step_f->done_calls, before);
	return VPNR_OK;
}

static void
test_complete_inside_own_op(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	step_f = &f;
	f.mode = MODE_INSIDE_OK;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 9, 0,
			     5),
	    VPNR_OK);
	assert_int_equal(step_rv, VPNR_ASYNC);
	assert_int_equal(f.inside_rv, VPNR_OK);
	/* ... it ran when the driving call unwound. */
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_OK);
	assert_int_equal(f.done_during_op, 0);
	/* Completed ops are gone: a second completion is unknown. */
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[0], VPNR_OK, 6),
	    VPNR_ERR_NOT_FOUND);

	/* An error completed inside is delivered, and the failed add
	 * leaves no copy behind (nothing to replay or delete). */
	f.mode = MODE_INSIDE_FAIL;
	f.done_calls = 0;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 10, 0,
			     6),
	    VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_ERR_LIMIT);
	assert_int_equal(vpnr__dp_sa_del(ctx, 10, NULL, 0), VPNR_ERR_NOT_FOUND);
	assert_int_equal(f.dels, 0);
	vpnr_ctx_del(ctx);
}

/* A callback completing another op: the continuation waits. */
static int
complete_other(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	struct fdp *f = ctx->dp_data;
	int rv;

	(void)arg;
	ctx->cb_depth++; /* as inside a host callback */
	rv = vpnr_dp_complete(ctx, id, VPNR_OK, now);
	ctx->cb_depth--;
	assert_int_equal(rv, VPNR_OK);
	assert_int_equal(f->done_calls, 0);
	return VPNR_OK;
}

static void
test_complete_from_callback_and_loop(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	step_f = &f;
	f.mode = MODE_ASYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 11, 0,
			     5),
	    VPNR_OK);
	assert_int_equal(step_rv, VPNR_ASYNC);
	assert_int_equal(f.done_calls, 0);
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, complete_other,
			     f.ops[0], 0, 6),
	    VPNR_OK);
	assert_int_equal(f.done_calls, 1);

	/* From the host's loop the continuation runs at once. */
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 12, 0,
			     7),
	    VPNR_OK);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[1], VPNR_ERR_LIMIT, 8),
	    VPNR_OK);
	assert_int_equal(f.done_calls, 2);
	assert_int_equal(f.done_status, VPNR_ERR_LIMIT);
	assert_int_equal(vpnr_dp_complete(NULL, 1, VPNR_OK, 8),
	    VPNR_ERR_INVALID_ARGUMENT);
	vpnr_ctx_del(ctx);
}

static void
test_replay_uses_the_table(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	step_f = &f;
	f.mode = MODE_SYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 13, 0,
			     5),
	    VPNR_OK);
	assert_int_equal(f.done_calls, 0);
	/* The restarted plane answers ASYNC: completing works, and the
	 * engine's continuation hears about it. */
	f.mode = MODE_ASYNC;
	assert_int_equal(vpnr_dp_replay(ctx, 6), VPNR_OK);
	assert_int_equal(f.adds, 2);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[1], VPNR_ERR_LIMIT, 7),
	    VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_ERR_LIMIT);
	/* A failed replayed add is forgotten. */
	assert_int_equal(vpnr_dp_replay(ctx, 8), VPNR_OK);
	assert_int_equal(f.adds, 2);

	/* A synchronous failure of a replayed op reaches it as well. */
	f.mode = MODE_SYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 14, 0,
			     9),
	    VPNR_OK);
	f.mode = MODE_FAIL;
	f.done_calls = 0;
	assert_int_equal(vpnr_dp_replay(ctx, 10), VPNR_ERR_DATAPLANE);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_ERR_LIMIT);
	vpnr_ctx_del(ctx);
}

static int
complete_in_callback_refused(vpnr_ctx *ctx, uint64_t id, uint32_t arg,
    vpnr_tstamp now)
{
	(void)arg;
	ctx->cb_depth++;
	/* Driving calls are refused inside callbacks ... */
	assert_int_equal(vpnr_dp_replay(ctx, now), VPNR_ERR_IN_CALLBACK);
	/* ... unknown ops are still unknown. */
	assert_int_equal(vpnr_dp_complete(ctx, id, VPNR_OK, now),
	    VPNR_ERR_NOT_FOUND);
	ctx->cb_depth--;
	return VPNR_OK;
}

static void
test_guard(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE,
			     complete_in_callback_refused, 999, 0, 5),
	    VPNR_OK);
	assert_int_equal(vpnr__ctx_call(NULL, VPNR__CALL_QUEUE,
			     complete_in_callback_refused, 1, 0, 5),
	    VPNR_ERR_INVALID_ARGUMENT);
	vpnr_ctx_del(ctx);
}

#include "timer.h"

/* vpnr_dp_complete() from inside expiry_changed: its continuation runs
 * before the driving call that reported the expiry returns. */
static uint64_t exp_op;
static int exp_rv = 12345;
static struct vpnr__timer exp_tm;

static int
exp_fire(vpnr_ctx *c, struct vpnr__timer *t, vpnr_tstamp n)
{
	(void)c, (void)t, (void)n;
	return VPNR_OK;
}

static void
exp_changed(vpnr_ctx *ctx, vpnr_tstamp e, void *ud)
{
	(void)e, (void)ud;
	if (exp_op != 0) {
		exp_rv = vpnr_dp_complete(ctx, exp_op, VPNR_OK, 50);
		exp_op = 0;
	}
}

static int
arm_step(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	(void)id, (void)arg;
	vpnr__timer_init(&exp_tm, exp_fire, NULL);
	vpnr__timer_arm(ctx, &exp_tm, now + 1000);
	return VPNR_OK;
}

static void
test_complete_in_expiry_changed(void **state)
{
	struct fdp f;
	vpnr_dataplane dp = { .sa_add = f_sa_add, .sa_del = f_sa_del };
	vpnr_callbacks cb;
	vpnr_ctx *ctx;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&cb, 0, sizeof(cb));
	cb.expiry_changed = exp_changed;
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, &cb, NULL, &dp, &f, NULL),
	    VPNR_OK);
	step_f = &f;
	f.mode = MODE_ASYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 21, 0,
			     5),
	    VPNR_OK);
	exp_op = f.ops[0];
	/* A driving call that moves the expiry; expiry_changed completes
	 * the op, and the continuation ran before the call returned. */
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, arm_step, 0, 0,
			     6),
	    VPNR_OK);
	assert_int_equal(exp_rv, VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_OK);
	vpnr__timer_disarm(ctx, &exp_tm);
	vpnr_ctx_del(ctx);
}

/* vpnr_dp_complete()'s edge cases. */
static void
test_complete_edges(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	step_f = &f;
	f.mode = MODE_ASYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 31, 0,
			     5),
	    VPNR_OK);
	/* A positive status (VPNR_ASYNC) is no result: refused, and the
	 * op stays pending. */
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[0], VPNR_ASYNC, 6),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(f.done_calls, 0);
	/* Refused by the guard (a dead context): not stranded, a later
	 * call completes it. */
	ctx->dead = 1;
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[0], VPNR_OK, 6),
	    VPNR_ERR_INVALID_STATE);
	ctx->dead = 0;
	assert_int_equal(f.done_calls, 0);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[0], VPNR_OK, 7), VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	assert_int_equal(f.done_status, VPNR_OK);

	/* Completed inside with an error, then answered VPNR_OK: the
	 * answer wins, nothing is left pending or run later. */
	f.mode = MODE_INSIDE_THEN_OK;
	f.done_calls = 0;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 32, 0,
			     8),
	    VPNR_OK);
	assert_int_equal(f.inside_rv, VPNR_OK);
	assert_int_equal(step_rv, VPNR_OK);
	assert_int_equal(f.done_calls, 0);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[1], VPNR_OK, 9),
	    VPNR_ERR_NOT_FOUND);

	/* A positive answer that is not VPNR_ASYNC is a failure, at once
	 * and for a replayed op (never a success). */
	f.mode = MODE_POSITIVE;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 33, 0,
			     10),
	    VPNR_OK);
	assert_int_equal(step_rv, VPNR_ERR_DATAPLANE);
	f.done_calls = 0;
	assert_int_equal(vpnr_dp_replay(ctx, 11), VPNR_ERR_DATAPLANE);
	assert_true(f.done_calls >= 1);
	assert_int_equal(f.done_status, VPNR_ERR_DATAPLANE);
	vpnr_ctx_del(ctx);
}

/* A replayed op's success is not reported: it must not count as the
 * completion of an install still pending. */
static void
test_replay_success_silent(void **state)
{
	struct fdp f;
	vpnr_ctx *ctx = new_ctx(&f);

	(void)state;
	step_f = &f;
	f.mode = MODE_ASYNC;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, add_step, 41, 0,
			     5),
	    VPNR_OK);
	assert_int_equal(vpnr_dp_replay(ctx, 6), VPNR_OK);
	assert_int_equal(f.n_ops, 2);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[1], VPNR_OK, 7), VPNR_OK);
	assert_int_equal(f.done_calls, 0);
	assert_int_equal(vpnr_dp_complete(ctx, f.ops[0], VPNR_OK, 8), VPNR_OK);
	assert_int_equal(f.done_calls, 1);
	vpnr_ctx_del(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_inside_own_op),
		cmocka_unit_test(test_complete_from_callback_and_loop),
		cmocka_unit_test(test_replay_uses_the_table),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_complete_in_expiry_changed),
		cmocka_unit_test(test_complete_edges),
		cmocka_unit_test(test_replay_success_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
