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

/*
 * The compact copies (issue 12): what a replay hands the data plane
 * is what the engine added, field for field, keys and selectors
 * included, whether the selectors are shared between SAs and policies
 * or not; a delete carries no keys.
 */
#define X_SAS  3
#define X_POLS 3
static vpnr_child_sa x_sa[X_SAS];
static vpnr_policy x_pol[X_POLS];
static vpnr_ts x_ts[4];
static const uint8_t x_keys[2][52] = { { 0x11, 0x22, 0x33 }, { 0x44 } };
static int x_seen, x_del_keys, x_del_seen;

static void
x_check_sa(const vpnr_child_sa *got)
{
	const vpnr_child_sa *w = NULL;
	int i;

	for (i = 0; i < X_SAS; i++)
		if (x_sa[i].sa_id == got->sa_id)
			w = &x_sa[i];
	assert_non_null(w);
	assert_int_equal(got->tunnel_id, w->tunnel_id);
	assert_ptr_equal(got->tunnel_user_data, w->tunnel_user_data);
	assert_int_equal(got->spi, w->spi);
	assert_int_equal(got->protocol, w->protocol);
	assert_int_equal(got->direction, w->direction);
	assert_int_equal(got->flags, w->flags);
	assert_memory_equal(&got->src, &w->src, sizeof(w->src));
	assert_memory_equal(&got->dst, &w->dst, sizeof(w->dst));
	assert_int_equal(got->encr_id, w->encr_id);
	assert_int_equal(got->encr_key_bits, w->encr_key_bits);
	assert_int_equal(got->integ_id, w->integ_id);
	assert_int_equal(got->replay_window, w->replay_window);
	assert_int_equal(got->if_id, w->if_id);
	assert_memory_equal(&got->soft, &w->soft, sizeof(w->soft));
	assert_memory_equal(&got->hard, &w->hard, sizeof(w->hard));
	assert_int_equal(got->n_ts_local, w->n_ts_local);
	assert_int_equal(got->n_ts_remote, w->n_ts_remote);
	assert_memory_equal(got->ts_local, w->ts_local,
	    w->n_ts_local * sizeof(vpnr_ts));
	assert_memory_equal(got->ts_remote, w->ts_remote,
	    w->n_ts_remote * sizeof(vpnr_ts));
	if (got->encr_key == NULL && got->integ_key == NULL) {
		/* A delete: the description, never keys. */
		assert_int_equal(got->encr_key_len, 0);
		assert_int_equal(got->integ_key_len, 0);
		x_del_keys += got->encr_key_len != 0;
		x_del_seen++;
		return;
	}
	assert_int_equal(got->encr_key_len, w->encr_key_len);
	assert_int_equal(got->integ_key_len, w->integ_key_len);
	assert_memory_equal(got->encr_key, w->encr_key, w->encr_key_len);
	if (w->integ_key_len > 0)
		assert_memory_equal(got->integ_key, w->integ_key,
		    w->integ_key_len);
	x_seen++;
}

static int
x_sa_op(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dpd)
{
	(void)ctx, (void)op_id, (void)dpd;
	x_check_sa(sa);
	return VPNR_OK;
}

static int
x_pol_op(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dpd)
{
	int i, found = 0;

	(void)ctx, (void)op_id, (void)dpd;
	for (i = 0; i < X_POLS; i++)
		if (x_pol[i].policy_id == pol->policy_id) {
			assert_memory_equal(pol, &x_pol[i], sizeof(*pol));
			found = 1;
		}
	assert_true(found);
	x_seen++;
	return VPNR_OK;
}

static int
x_add_step(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	int i;

	(void)id, (void)arg, (void)now;
	for (i = 0; i < X_SAS; i++)
		assert_int_equal(vpnr__dp_sa_add(ctx, &x_sa[i], NULL, 0),
		    VPNR_OK);
	for (i = 0; i < X_POLS; i++)
		assert_int_equal(vpnr__dp_policy_add(ctx, &x_pol[i], NULL, 0),
		    VPNR_OK);
	return VPNR_OK;
}

static int
x_del_step(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	(void)arg, (void)now;
	assert_int_equal(vpnr__dp_sa_del(ctx, id, NULL, 0), VPNR_OK);
	return VPNR_OK;
}

static void
test_replay_copies_exact(void **state)
{
	vpnr_dataplane dp = { .sa_add = x_sa_op,
		.sa_del = x_sa_op,
		.policy_add = x_pol_op,
		.policy_del = x_pol_op };
	vpnr_ctx *ctx;
	int i;

	(void)state;
	memset(x_ts, 0, sizeof(x_ts));
	for (i = 0; i < 4; i++) {
		x_ts[i].ip_proto = (uint8_t)(i == 3 ? 6 : 0);
		x_ts[i].port_end = 65535;
		vpnr_addr_parse(&x_ts[i].addr_start,
		    i == 0     ? "10.1.0.0" :
			i == 1 ? "10.2.0.0" :
				 "10.3.0.0");
		vpnr_addr_parse(&x_ts[i].addr_end,
		    i == 0     ? "10.1.255.255" :
			i == 1 ? "10.2.255.255" :
				 "10.3.255.255");
	}
	memset(x_sa, 0, sizeof(x_sa));
	for (i = 0; i < X_SAS; i++) {
		vpnr_child_sa *a = &x_sa[i];

		a->sa_id = 100 + (uint64_t)i;
		a->tunnel_id = 7;
		a->tunnel_user_data = &x_seen;
		a->spi = 0xc1000000u + (uint32_t)i;
		a->protocol = 50;
		a->direction = (uint8_t)(i % 2 ? VPNR_DIR_OUT : VPNR_DIR_IN);
		a->flags = (uint16_t)i;
		vpnr_addr_parse(&a->src, "192.0.2.1");
		vpnr_addr_parse(&a->dst, "192.0.2.2");
		a->encr_id = 20;
		a->encr_key_bits = 256;
		a->integ_id = (uint16_t)(i == 2 ? 12 : 0);
		a->encr_key = x_keys[i % 2];
		a->encr_key_len = 36;
		a->integ_key = i == 2 ? x_keys[1] + 16 : NULL;
		a->integ_key_len = i == 2 ? 32 : 0;
		a->replay_window = 1024;
		a->if_id = 9;
		a->soft.seconds = 3000 + (uint64_t)i;
		a->hard.bytes = 1u << 30;
		/* The pair shares [0, 1]; the third has two remote ones. */
		a->ts_local = &x_ts[0];
		a->n_ts_local = 1;
		a->ts_remote = i == 2 ? &x_ts[2] : &x_ts[1];
		a->n_ts_remote = i == 2 ? 2 : 1;
	}
	memset(x_pol, 0, sizeof(x_pol));
	for (i = 0; i < X_POLS; i++) {
		vpnr_policy *p = &x_pol[i];

		p->policy_id = 200 + (uint64_t)i;
		p->tunnel_id = 7;
		p->direction = (uint8_t)(i % 2 ? VPNR_DIR_OUT : VPNR_DIR_IN);
		p->priority = 1000 + (uint32_t)i;
		p->out_sa_id = i % 2 ? 101 : 0;
		p->ts_local = x_ts[0];
		p->ts_remote = x_ts[i == 2 ? 3 : 1];
		p->if_id = 9;
	}
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, NULL, NULL, &dp, NULL, NULL),
	    VPNR_OK);
	x_seen = x_del_seen = x_del_keys = 0;
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, x_add_step, 0, 0,
			     5),
	    VPNR_OK);
	assert_int_equal(x_seen, X_SAS + X_POLS);
	assert_int_equal(vpnr_dp_replay(ctx, 6), VPNR_OK);
	assert_int_equal(x_seen, 2 * (X_SAS + X_POLS));
	/* Deleting one of a shared block leaves the others whole. */
	assert_int_equal(vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, x_del_step, 100,
			     0, 7),
	    VPNR_OK);
	assert_int_equal(x_del_seen, 1);
	assert_int_equal(x_del_keys, 0);
	assert_int_equal(vpnr_dp_replay(ctx, 8), VPNR_OK);
	assert_int_equal(x_seen, 2 * (X_SAS + X_POLS) + X_SAS - 1 + X_POLS);
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
		cmocka_unit_test(test_replay_copies_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
