/*
 * Timers driven by the host's monotonic "now": an RB tree ordered by
 * (deadline, sequence).  vpnr_ctx_get_expiry() reads the first one;
 * nothing ever polls.  A timer is embedded in its owner's struct.
 */
#ifndef VPNR_LIB_TIMER_H
#define VPNR_LIB_TIMER_H

#include <sys/tree.h>

#include <vpnroute/vpnroute.h>

struct vpnr__timer;
/*
 * Returns 0, or an error: VPNR_ERR_CALLBACK_FAILURE and fatal errors
 * stop vpnr_ctx_handle_expiry(), which returns them; other errors are
 * logged.  The handler may re-arm or free its timer.
 */
typedef int (
    *vpnr__timer_fn)(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);

struct vpnr__timer {
	RB_ENTRY(vpnr__timer) entry;
	vpnr_tstamp when;
	uint64_t seq; /* arming sequence (from 1); 0: not armed */
	vpnr__timer_fn fn;
	void *arg;
};

RB_HEAD(vpnr__timer_tree, vpnr__timer);

void vpnr__timer_init(struct vpnr__timer *t, vpnr__timer_fn fn, void *arg);
/* (Re-)arm for an absolute deadline. */
void vpnr__timer_arm(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp when);
void vpnr__timer_disarm(vpnr_ctx *ctx, struct vpnr__timer *t);
static inline int
vpnr__timer_armed(const struct vpnr__timer *t)
{
	return t->seq != 0;
}

/* Used by ctx.c. */
vpnr_tstamp vpnr__timer_next(const vpnr_ctx *ctx);
int vpnr__timer_run(vpnr_ctx *ctx, vpnr_tstamp now);

#endif /* VPNR_LIB_TIMER_H */
