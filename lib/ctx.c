/*
 * Context lifecycle, ids, the callback guard, deferred work and the
 * wrapped host callbacks.
 */
#include <openssl/rand.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "dp.h"
#include "log.h"
#include "mem.h"
#include "vstruct.h"

VPNR_API int
vpnr_ctx_new_versioned(vpnr_ctx **pctx, const vpnr_config *cfg,
    int callbacks_version, const vpnr_callbacks *cb, void *user_data,
    int dataplane_version, const vpnr_dataplane *dp, void *dp_data,
    const vpnr_mem *mem)
{
	vpnr_ctx *ctx;
	int rv;

	if (pctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*pctx = NULL;
	if ((ctx = vpnr__calloc(mem, 1, sizeof(*ctx))) == NULL)
		return VPNR_ERR_NOMEM;
	if (mem != NULL) {
		ctx->mem_store = *mem;
		ctx->mem = &ctx->mem_store;
	}
	if (cfg != NULL)
		ctx->cfg = *cfg;
	else
		vpnr__config_defaults(&ctx->cfg);
	/* The host's tables, of its versions, zero-extended to ours. */
	if ((rv = VPNR__VCOPY_IN(&ctx->cb, cb, callbacks_version,
		 VPNR__VS_CALLBACKS)) != VPNR_OK ||
	    (rv = VPNR__VCOPY_IN(&ctx->dp, dp, dataplane_version,
		 VPNR__VS_DATAPLANE)) != VPNR_OK) {
		vpnr__free(mem, ctx);
		return rv;
	}
	ctx->user_data = user_data;
	ctx->dp_data = dp_data;
	ctx->next_id = 1;
	RB_INIT(&ctx->timers);
	STAILQ_INIT(&ctx->deferred);
	ctx->last_expiry_reported = VPNR_TSTAMP_NEVER;
	*pctx = ctx;
	return VPNR_OK;
}

/* The exported twin of the vpnr_ctx_new macro: version 1 for ever. */
VPNR_API int(vpnr_ctx_new)(vpnr_ctx **pctx, const vpnr_config *cfg,
    const vpnr_callbacks *cb, void *user_data, const vpnr_dataplane *dp,
    void *dp_data, const vpnr_mem *mem)
{
	return vpnr_ctx_new_versioned(pctx, cfg, VPNR_CALLBACKS_V1, cb,
	    user_data, VPNR_DATAPLANE_V1, dp, dp_data, mem);
}

VPNR_API void
vpnr_ctx_del(vpnr_ctx *ctx)
{
	struct vpnr__deferred *d;

	if (ctx == NULL)
		return;
	if (ctx->cb_depth > 0) {
		/* A programming error the contract forbids; freeing now
		 * would crash the caller's caller. */
		vpnr__log(ctx, VPNR_LOG_ERR, "ctx",
		    "vpnr_ctx_del called from a callback");
		abort();
	}
	if (ctx->bgp_free != NULL)
		ctx->bgp_free(ctx);
	if (ctx->ike_free != NULL)
		ctx->ike_free(ctx);
	vpnr__dp_free(ctx);
	while ((d = STAILQ_FIRST(&ctx->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&ctx->deferred, entry);
		vpnr__free(ctx->mem, d);
	}
	vpnr__free(ctx->mem, ctx);
}

static int
shutdown_run(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	int rv, rv2 = VPNR_OK;

	(void)id;
	(void)arg;
	if (ctx->bgp_shutdown != NULL)
		rv2 = ctx->bgp_shutdown(ctx, now);
	if (ctx->ike_shutdown != NULL) {
		rv = ctx->ike_shutdown(ctx, now);
		if (rv2 == VPNR_OK)
			rv2 = rv;
	}
	return rv2;
}

VPNR_API int
vpnr_ctx_shutdown(vpnr_ctx *ctx, vpnr_tstamp now)
{
	return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, shutdown_run, 0, 0, now);
}

VPNR_API void *
vpnr_ctx_get_user_data(const vpnr_ctx *ctx)
{
	return ctx == NULL ? NULL : ctx->user_data;
}

VPNR_API const char *
vpnr_ctx_last_error(const vpnr_ctx *ctx)
{
	return ctx == NULL ? "" : ctx->last_error;
}

int
vpnr__ctx_error(vpnr_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
	va_end(ap);
	return err;
}

uint64_t
vpnr__ctx_new_id(vpnr_ctx *ctx)
{
	return ctx->next_id++;
}

uint64_t
vpnr__ctx_new_ids(vpnr_ctx *ctx, uint64_t n)
{
	uint64_t first = ctx->next_id;

	ctx->next_id += n;
	return first;
}

VPNR_API vpnr_tstamp
vpnr_ctx_get_expiry(const vpnr_ctx *ctx)
{
	if (ctx == NULL || ctx->dead)
		return VPNR_TSTAMP_NEVER;
	return vpnr__timer_next(ctx);
}

static int
expiry_run(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now)
{
	(void)id;
	(void)arg;
	return vpnr__timer_run(ctx, now);
}

VPNR_API int
vpnr_ctx_handle_expiry(vpnr_ctx *ctx, vpnr_tstamp now)
{
	return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, expiry_run, 0, 0, now);
}

int
vpnr__drive_begin(vpnr_ctx *ctx, vpnr_tstamp now)
{
	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (ctx->cb_depth > 0)
		return VPNR_ERR_IN_CALLBACK;
	if (ctx->dead)
		return VPNR_ERR_INVALID_STATE;
	if (now == VPNR_TSTAMP_NEVER)
		return VPNR_ERR_INVALID_ARGUMENT;
	/* Time never runs backwards inside the library. */
	if (now > ctx->now)
		ctx->now = now;
	if (ctx->drive_depth++ == 0)
		ctx->cb_error = VPNR_OK;
	return VPNR_OK;
}

static int
run_deferred(vpnr_ctx *ctx)
{
	struct vpnr__deferred *d;
	int rv, first = VPNR_OK;

	while ((d = STAILQ_FIRST(&ctx->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&ctx->deferred, entry);
		rv = d->fn(ctx, d->id, d->arg, ctx->now);
		vpnr__free(ctx->mem, d);
		if (rv < 0 && first == VPNR_OK)
			first = rv;
	}
	return first;
}

int
vpnr__drive_end(vpnr_ctx *ctx, int rv)
{
	vpnr_tstamp exp;
	int drv;

	if (ctx->drive_depth > 1) {
		ctx->drive_depth--;
		return rv;
	}
	/*
	 * Still inside the call: work that expiry_changed queues (a
	 * vpnr_dp_complete, a delete) runs before the call returns, and
	 * may move the expiry again.
	 */
	for (;;) {
		drv = run_deferred(ctx);
		if (rv == VPNR_OK && vpnr_err_is_fatal(drv))
			rv = drv;
		if (vpnr_err_is_fatal(rv) && rv != VPNR_ERR_CALLBACK_FAILURE)
			ctx->dead = 1;
		exp = vpnr__timer_next(ctx);
		if (ctx->cb.expiry_changed != NULL &&
		    exp != ctx->last_expiry_reported) {
			ctx->last_expiry_reported = exp;
			ctx->cb_depth++;
			ctx->cb.expiry_changed(ctx, exp, ctx->user_data);
			ctx->cb_depth--;
		}
		if (ctx->dead || STAILQ_EMPTY(&ctx->deferred))
			break;
	}
	ctx->drive_depth = 0;
	if (ctx->cb_error != VPNR_OK) {
		rv = ctx->cb_error;
		ctx->cb_error = VPNR_OK;
	}
	return rv;
}

int
vpnr__ctx_defer(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, uint32_t, vpnr_tstamp), uint64_t id,
    uint32_t arg)
{
	struct vpnr__deferred *d;

	if ((d = vpnr__calloc(ctx->mem, 1, sizeof(*d))) == NULL)
		return VPNR_ERR_NOMEM;
	d->fn = fn;
	d->id = id;
	d->arg = arg;
	STAILQ_INSERT_TAIL(&ctx->deferred, d, entry);
	return VPNR_OK;
}

int
vpnr__ctx_call(vpnr_ctx *ctx, int how, vpnr__call_fn fn, uint64_t id,
    uint32_t arg, vpnr_tstamp now)
{
	int rv;

	if (ctx == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (ctx->cb_depth > 0) {
		if (how != VPNR__CALL_QUEUE)
			return VPNR_ERR_IN_CALLBACK;
		if (ctx->dead)
			return VPNR_ERR_INVALID_STATE;
		return vpnr__ctx_defer(ctx, fn, id, arg);
	}
	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	rv = fn(ctx, id, arg, ctx->now);
	return vpnr__drive_end(ctx, rv);
}

int
vpnr__ctx_delete(vpnr_ctx *ctx, vpnr__call_fn fn, uint64_t id, vpnr_tstamp now,
    int *deleting)
{
	int queued = ctx->cb_depth > 0, rv;

	rv = vpnr__ctx_call(ctx, VPNR__CALL_QUEUE, fn, id, 0, now);
	if (rv == VPNR_OK && queued)
		*deleting = 1;
	return rv;
}

/* ---- wrapped host callbacks ---------------------------------------- */

static int
cb_result(vpnr_ctx *ctx, int rv)
{
	if (rv == VPNR_OK)
		return VPNR_OK;
	if (ctx->cb_error == VPNR_OK)
		ctx->cb_error = VPNR_ERR_CALLBACK_FAILURE;
	return VPNR_ERR_CALLBACK_FAILURE;
}

int
vpnr__cb_send_datagram(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len)
{
	if (ctx->cb.send_datagram == NULL)
		return VPNR_OK;
	ctx->cb_depth++;
	/* A lost datagram is fine (IKE retransmits): the result only
	 * matters when the host asks to abort. */
	if (ctx->cb.send_datagram(ctx, local, remote, data, len,
		ctx->user_data) == VPNR_ERR_CALLBACK_FAILURE)
		cb_result(ctx, VPNR_ERR_CALLBACK_FAILURE);
	ctx->cb_depth--;
	return VPNR_OK;
}

int
vpnr__cb_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev)
{
	int rv;

	if (ctx->cb.tunnel_event == NULL)
		return VPNR_OK;
	ctx->cb_depth++;
	rv = ctx->cb.tunnel_event(ctx, ev, ctx->user_data);
	ctx->cb_depth--;
	return cb_result(ctx, rv);
}

int
vpnr__cb_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev)
{
	int rv;

	if (ctx->cb.bgp_event == NULL)
		return VPNR_OK;
	ctx->cb_depth++;
	rv = ctx->cb.bgp_event(ctx, ev, ctx->user_data);
	ctx->cb_depth--;
	return cb_result(ctx, rv);
}

int
vpnr__cb_transport_open(vpnr_ctx *ctx, uint64_t transport_id,
    const vpnr_addr *local, const vpnr_addr *remote, uint8_t ttl,
    const uint8_t *md5_key, size_t md5_len)
{
	int rv;

	if (ctx->cb.transport_open == NULL)
		return VPNR_ERR_UNSUPPORTED;
	ctx->cb_depth++;
	rv = ctx->cb.transport_open(ctx, transport_id, local, remote, ttl,
	    md5_key, md5_len, ctx->user_data);
	ctx->cb_depth--;
	if (rv == VPNR_ERR_CALLBACK_FAILURE)
		return cb_result(ctx, rv);
	return rv < 0 ? rv : VPNR_OK;
}

int64_t
vpnr__cb_transport_send(vpnr_ctx *ctx, uint64_t transport_id,
    const uint8_t *data, size_t len)
{
	int64_t rv;

	if (ctx->cb.transport_send == NULL)
		return VPNR_ERR_UNSUPPORTED;
	ctx->cb_depth++;
	rv = ctx->cb.transport_send(ctx, transport_id, data, len,
	    ctx->user_data);
	ctx->cb_depth--;
	if (rv == VPNR_ERR_CALLBACK_FAILURE)
		return cb_result(ctx, (int)rv);
	return rv;
}

void
vpnr__cb_transport_close(vpnr_ctx *ctx, uint64_t transport_id)
{
	if (ctx->cb.transport_close == NULL)
		return;
	ctx->cb_depth++;
	ctx->cb.transport_close(ctx, transport_id, ctx->user_data);
	ctx->cb_depth--;
}

int
vpnr__random(vpnr_ctx *ctx, void *buf, size_t len)
{
	int rv;

	if (ctx != NULL && ctx->cb.rand_bytes != NULL) {
		ctx->cb_depth++;
		rv = ctx->cb.rand_bytes(ctx, buf, len, ctx->user_data);
		ctx->cb_depth--;
		return rv == VPNR_OK ? VPNR_OK : cb_result(ctx, rv);
	}
	if (len > 0 && RAND_bytes(buf, (int)len) != 1)
		return VPNR_ERR_CRYPTO;
	return VPNR_OK;
}
