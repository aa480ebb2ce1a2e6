/*
 * Timers: an RB tree ordered by (deadline, arming sequence), so that
 * timers due at the same instant run in the order they were armed.
 */
#include <sys/tree.h>

#include <stdint.h>

#include "ctx.h"
#include "log.h"
#include "timer.h"

static int
timer_cmp(const struct vpnr__timer *a, const struct vpnr__timer *b)
{
	if (a->when != b->when)
		return a->when < b->when ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

RB_GENERATE_STATIC(vpnr__timer_tree, vpnr__timer, entry, timer_cmp)

void
vpnr__timer_init(struct vpnr__timer *t, vpnr__timer_fn fn, void *arg)
{
	t->when = 0;
	t->seq = 0;
	t->fn = fn;
	t->arg = arg;
}

void
vpnr__timer_arm(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp when)
{
	if (t->seq != 0)
		RB_REMOVE(vpnr__timer_tree, &ctx->timers, t);
	if (when == VPNR_TSTAMP_NEVER) {
		t->seq = 0;
		return;
	}
	t->when = when;
	t->seq = ++ctx->timer_seq; /* never 0: 64 bits do not wrap */
	RB_INSERT(vpnr__timer_tree, &ctx->timers, t);
}

void
vpnr__timer_disarm(vpnr_ctx *ctx, struct vpnr__timer *t)
{
	if (t->seq == 0)
		return;
	RB_REMOVE(vpnr__timer_tree, &ctx->timers, t);
	t->seq = 0;
}

vpnr_tstamp
vpnr__timer_next(const vpnr_ctx *ctx)
{
	struct vpnr__timer *t;

	/* RB_MIN does not take a const head. */
	t = RB_MIN(vpnr__timer_tree, (struct vpnr__timer_tree *)&ctx->timers);
	return t == NULL ? VPNR_TSTAMP_NEVER : t->when;
}

int
vpnr__timer_run(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__timer *t;
	uint64_t limit;
	int rv;

	/* Only timers armed before this call run now; a handler that
	 * re-arms for "now" runs on the next call, never in a loop. */
	limit = ctx->timer_seq;
	while ((t = RB_MIN(vpnr__timer_tree, &ctx->timers)) != NULL &&
	    t->when <= now) {
		if (t->seq > limit) {
			/* Skip freshly armed ones without starving older. */
			struct vpnr__timer *n;
			int ran = 0;

			for (n = t; n != NULL && n->when <= now;
			     n = RB_NEXT(vpnr__timer_tree, &ctx->timers, n)) {
				if (n->seq <= limit) {
					t = n;
					ran = 1;
					break;
				}
			}
			if (!ran)
				break;
		}
		RB_REMOVE(vpnr__timer_tree, &ctx->timers, t);
		t->seq = 0; /* not armed */
		rv = t->fn(ctx, t, now);
		if (rv == VPNR_ERR_CALLBACK_FAILURE || vpnr_err_is_fatal(rv))
			return rv;
		if (rv < 0)
			vpnr__log(ctx, VPNR_LOG_DEBUG, "ctx",
			    "timer handler: %s", vpnr_strerror(rv));
	}
	return VPNR_OK;
}
