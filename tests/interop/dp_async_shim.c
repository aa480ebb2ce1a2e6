/*
 * A slow ASIC for interop tests, without touching the program under
 * test: LD_PRELOAD'ed into minigw, it wraps the built-in ESP data plane
 * (vpnr_esp_dataplane) so that every sa_add and policy_add answers
 * VPNR_ASYNC and really happens VPNR_TEST_DP_DELAY_MS (default 20)
 * later, followed by vpnr_dp_complete(), from the host's own timer
 * (it also wraps vpnr_ctx_get_expiry / vpnr_ctx_handle_expiry, which the
 * libuv driver calls).  Each completion is logged to stderr as
 * "dp_async_shim: completed <op> <status>" for the test to count.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>

#define MAX_PEND 256
#define MAX_TS   16

struct pend {
	int used, is_sa, cancelled;
	vpnr_ctx *ctx;
	void *dp_data;
	uint64_t op_id;
	vpnr_tstamp due;
	vpnr_child_sa sa;
	uint8_t keys[128];
	vpnr_ts ts[2 * MAX_TS];
	vpnr_policy pol;
};

static struct pend q[MAX_PEND];
static const vpnr_dataplane *real_dp;
static vpnr_dataplane wrapped;
static vpnr_tstamp delay = 20 * VPNR_MILLISECONDS;

static vpnr_tstamp
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (vpnr_tstamp)ts.tv_sec * VPNR_SECONDS + (vpnr_tstamp)ts.tv_nsec;
}

static struct pend *
pend_new(vpnr_ctx *ctx, uint64_t op_id, void *dp_data)
{
	int i;

	for (i = 0; i < MAX_PEND; i++)
		if (!q[i].used) {
			memset(&q[i], 0, sizeof(q[i]));
			q[i].used = 1;
			q[i].ctx = ctx;
			q[i].op_id = op_id;
			q[i].dp_data = dp_data;
			q[i].due = mono_now() + delay;
			return &q[i];
		}
	return NULL;
}

static int
shim_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
    void *dp_data)
{
	struct pend *p;
	size_t kl = sa->encr_key_len + sa->integ_key_len;

	if (kl > sizeof(p->keys) || sa->n_ts_local > MAX_TS ||
	    sa->n_ts_remote > MAX_TS ||
	    (p = pend_new(ctx, op_id, dp_data)) == NULL)
		return real_dp->sa_add(ctx, op_id, sa, dp_data);
	/* Keep what the call hands over: it is only valid during it. */
	p->is_sa = 1;
	p->sa = *sa;
	memcpy(p->keys, sa->encr_key, sa->encr_key_len);
	if (sa->integ_key_len > 0)
		memcpy(p->keys + sa->encr_key_len, sa->integ_key,
		    sa->integ_key_len);
	p->sa.encr_key = p->keys;
	p->sa.integ_key =
	    sa->integ_key_len > 0 ? p->keys + sa->encr_key_len : NULL;
	memcpy(p->ts, sa->ts_local, sa->n_ts_local * sizeof(vpnr_ts));
	memcpy(p->ts + MAX_TS, sa->ts_remote,
	    sa->n_ts_remote * sizeof(vpnr_ts));
	p->sa.ts_local = p->ts;
	p->sa.ts_remote = p->ts + MAX_TS;
	return VPNR_ASYNC;
}

static int
shim_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
    void *dp_data)
{
	int i;

	/* Deleted before it was installed: complete it without. */
	for (i = 0; i < MAX_PEND; i++)
		if (q[i].used && q[i].is_sa && q[i].ctx == ctx &&
		    q[i].sa.sa_id == sa->sa_id)
			q[i].cancelled = 1;
	return real_dp->sa_del(ctx, op_id, sa, dp_data);
}

static int
shim_policy_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol,
    void *dp_data)
{
	struct pend *p = pend_new(ctx, op_id, dp_data);

	if (p == NULL)
		return real_dp->policy_add(ctx, op_id, pol, dp_data);
	p->pol = *pol;
	return VPNR_ASYNC;
}

const vpnr_dataplane *
vpnr_esp_dataplane(void)
{
	const vpnr_dataplane *(*next)(void);
	const char *e = getenv("VPNR_TEST_DP_DELAY_MS");

	if (real_dp == NULL) {
		next = (const vpnr_dataplane *(*)(void))dlsym(RTLD_NEXT,
		    "vpnr_esp_dataplane");
		if (next == NULL)
			abort();
		real_dp = next();
		wrapped = *real_dp;
		wrapped.sa_add = shim_sa_add;
		wrapped.sa_del = shim_sa_del;
		if (real_dp->policy_add != NULL)
			wrapped.policy_add = shim_policy_add;
		if (e != NULL)
			delay = (vpnr_tstamp)strtoul(e, NULL, 10) *
			    VPNR_MILLISECONDS;
		fprintf(stderr, "dp_async_shim: ops complete %llu ms late\n",
		    (unsigned long long)(delay / VPNR_MILLISECONDS));
	}
	return &wrapped;
}

vpnr_tstamp
vpnr_ctx_get_expiry(const vpnr_ctx *ctx)
{
	static vpnr_tstamp (*next)(const vpnr_ctx *);
	vpnr_tstamp e;
	int i;

	if (next == NULL)
		next = (vpnr_tstamp(*)(const vpnr_ctx *))dlsym(RTLD_NEXT,
		    "vpnr_ctx_get_expiry");
	e = next(ctx);
	for (i = 0; i < MAX_PEND; i++)
		if (q[i].used && q[i].ctx == ctx && q[i].due < e)
			e = q[i].due;
	return e;
}

int
vpnr_ctx_handle_expiry(vpnr_ctx *ctx, vpnr_tstamp now)
{
	static int (*next)(vpnr_ctx *, vpnr_tstamp);
	struct pend p;
	int i, rv;

	if (next == NULL)
		next = (int (*)(vpnr_ctx *, vpnr_tstamp))dlsym(RTLD_NEXT,
		    "vpnr_ctx_handle_expiry");
	for (i = 0; i < MAX_PEND; i++) {
		if (!q[i].used || q[i].ctx != ctx || q[i].due > now)
			continue;
		p = q[i];
		explicit_bzero(&q[i], sizeof(q[i]));
		/* The copy's pointers into itself. */
		p.sa.encr_key = p.keys;
		if (p.sa.integ_key != NULL)
			p.sa.integ_key = p.keys + p.sa.encr_key_len;
		p.sa.ts_local = p.ts;
		p.sa.ts_remote = p.ts + MAX_TS;
		if (p.cancelled)
			rv = VPNR_OK;
		else if (p.is_sa)
			rv = real_dp->sa_add(ctx, p.op_id, &p.sa, p.dp_data);
		else
			rv = real_dp->policy_add(ctx, p.op_id, &p.pol,
			    p.dp_data);
		fprintf(stderr, "dp_async_shim: completed %s %d\n",
		    p.is_sa ? "sa_add" : "policy_add", rv);
		vpnr_dp_complete(ctx, p.op_id, rv, now);
		explicit_bzero(&p, sizeof(p));
	}
	return next(ctx, now);
}
