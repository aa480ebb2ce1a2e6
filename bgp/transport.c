/*
 * The host's TCP connections for BGP (bring-your-own-loop mode): the
 * host accepts or opens them and feeds their events in here.
 *
 * The close handshake: either side closes once.  We call
 * transport_close and forget the id (the host then never calls in for
 * it; if it does, VPNR_ERR_NOT_FOUND); or the host calls
 * vpnr_transport_closed and we never call transport_close for it.
 * Bytes still queued when we close (a NOTIFICATION the socket did not
 * take) are sent first, on vpnr_transport_writable; transport_close
 * follows once they are out, or after VPNR__BGP_LINGER, when the loss
 * is logged and counted.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/mem.h"

#define BGP(ctx) ((struct vpnr__bgp *)(ctx)->bgp)

static void
linger_free(struct vpnr__bgp_linger *l)
{
	vpnr_ctx *ctx = l->ctx;

	vpnr__timer_disarm(ctx, &l->timer);
	LIST_REMOVE(l, entry);
	vpnr__free(ctx->mem, l->buf);
	vpnr__free(ctx->mem, l);
}

static void
linger_lost(struct vpnr__bgp_linger *l, const char *why)
{
	vpnr_ctx *ctx = l->ctx;

	BGP(ctx)->notif_lost++;
	vpnr__log(ctx, VPNR_LOG_WARNING, "bgp",
	    "transport %llu closed with %zu bytes unsent (%s); the peer did "
	    "not get our NOTIFICATION (%llu so far)",
	    (unsigned long long)l->tid, l->len - l->off, why,
	    (unsigned long long)BGP(ctx)->notif_lost);
}

static int
linger_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_linger *l = t->arg;
	uint64_t tid = l->tid;

	(void)now;
	linger_lost(l, "the host did not take them in time");
	linger_free(l);
	vpnr__cb_transport_close(ctx, tid);
	return VPNR_OK;
}

/* Hand what is left to the host; close once it is all out. */
static int
linger_flush(struct vpnr__bgp_linger *l)
{
	vpnr_ctx *ctx = l->ctx;
	uint64_t tid = l->tid;
	int64_t n;

	while (l->off < l->len) {
		n = vpnr__cb_transport_send(ctx, tid, l->buf + l->off,
		    l->len - l->off);
		if (n == VPNR_ERR_WOULDBLOCK || n == 0)
			return VPNR_OK; /* wait for the next writable */
		if (n < 0) {
			linger_lost(l, vpnr_err_name((int)n));
			break;
		}
		l->off += (size_t)n;
		if (l->off < l->len)
			return VPNR_OK; /* short write: wait as well */
	}
	linger_free(l);
	vpnr__cb_transport_close(ctx, tid);
	return VPNR_OK;
}

int
vpnr__bgp_close_after(vpnr_ctx *ctx, uint64_t tid, uint8_t *buf, size_t off,
    size_t len)
{
	struct vpnr__bgp_linger *l;

	if ((l = vpnr__calloc(ctx->mem, 1, sizeof(*l))) == NULL)
		return VPNR_ERR_NOMEM;
	l->ctx = ctx;
	l->tid = tid;
	l->buf = buf;
	l->off = off;
	l->len = len;
	vpnr__timer_init(&l->timer, linger_expired, l);
	vpnr__timer_arm(ctx, &l->timer, ctx->now + VPNR__BGP_LINGER);
	LIST_INSERT_HEAD(&BGP(ctx)->lingers, l, entry);
	return VPNR_OK;
}

void
vpnr__bgp_lingers_free(vpnr_ctx *ctx)
{
	struct vpnr__bgp_linger *l;

	while ((l = LIST_FIRST(&BGP(ctx)->lingers)) != NULL) {
		uint64_t tid = l->tid;

		linger_lost(l, "context deleted");
		linger_free(l);
		vpnr__cb_transport_close(ctx, tid);
	}
}

static struct vpnr__bgp_linger *
linger_find(vpnr_ctx *ctx, uint64_t tid)
{
	struct vpnr__bgp_linger *l;

	if (ctx->bgp == NULL)
		return NULL;
	LIST_FOREACH(l, &BGP(ctx)->lingers, entry)
		if (l->tid == tid)
			return l;
	return NULL;
}

static struct vpnr__bgp_peer *
peer_by_remote(struct vpnr__bgp *bgp, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	struct vpnr__bgp_peer *p;

	for (p = vpnr__bgp_peer_first_by_addr(bgp, remote); p != NULL;
	     p = vpnr__bgp_peer_next_by_addr(bgp, p)) {
		if (p->deleting)
			continue;
		if (p->cfg.local.family != 0 && local != NULL &&
		    local->family != 0 && !vpnr__addr_eq(&p->cfg.local, local))
			continue;
		return p;
	}
	return NULL;
}

VPNR_API int
vpnr_transport_accepted(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, uint64_t *transport_id, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p;
	uint64_t tid;
	int rv;

	if (ctx == NULL || remote == NULL || transport_id == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*transport_id = 0;
	if (ctx->bgp == NULL ||
	    (p = peer_by_remote(ctx->bgp, local, remote)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (!p->enabled || p->maxpfx_tripped ||
	    (p->cfg.tunnel_id != 0 && !p->tunnel_up))
		return VPNR_ERR_INVALID_STATE;
	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	tid = vpnr__ctx_new_id(ctx);
	/* The host learns the id before any callback names it (our OPEN
	 * goes out from in here). */
	*transport_id = tid;
	rv = vpnr__bgp_fsm_accepted(p, tid, local, now);
	if (rv == VPNR_OK)
		rv = vpnr__bgp_pump_all(ctx);
	else
		*transport_id = 0;
	return vpnr__drive_end(ctx, rv);
}

/* Common wrapper: find the connection, run fn, pump exports. */
#define TRANSPORT_CALL(ctx, tid, now, expr) \
	do { \
		struct vpnr__bgp_conn *c; \
		int rv_; \
		if ((ctx) == NULL) \
			return VPNR_ERR_INVALID_ARGUMENT; \
		if ((rv_ = vpnr__drive_begin((ctx), (now))) != VPNR_OK) \
			return rv_; \
		c = vpnr__bgp_conn_find((ctx)->bgp, (tid)); \
		if (c == NULL) { \
			rv_ = VPNR_ERR_NOT_FOUND; \
		} else { \
			rv_ = (expr); \
			if (rv_ == VPNR_OK) \
				rv_ = vpnr__bgp_pump_all(ctx); \
		} \
		return vpnr__drive_end((ctx), rv_); \
	} while (0)

VPNR_API int
vpnr_transport_connected(vpnr_ctx *ctx, uint64_t transport_id, int status,
    vpnr_tstamp now)
{
	TRANSPORT_CALL(ctx, transport_id, now,
	    vpnr__bgp_fsm_connected(c, status, now));
}

VPNR_API int
vpnr_transport_set_local(vpnr_ctx *ctx, uint64_t transport_id,
    const vpnr_addr *local)
{
	struct vpnr__bgp_conn *c;

	if (ctx == NULL || local == NULL ||
	    (local->family != VPNR_AF_INET && local->family != VPNR_AF_INET6))
		return VPNR_ERR_INVALID_ARGUMENT;
	if (vpnr__ctx_in_callback(ctx))
		return VPNR_ERR_IN_CALLBACK;
	if (ctx->bgp == NULL ||
	    (c = vpnr__bgp_conn_find(ctx->bgp, transport_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	/* A configured update-source always wins. */
	if (c->local.family == 0) {
		c->local = *local;
		c->local.port = 0;
	}
	return VPNR_OK;
}

VPNR_API int
vpnr_transport_recv(vpnr_ctx *ctx, uint64_t transport_id, const uint8_t *data,
    size_t len, vpnr_tstamp now)
{
	if (data == NULL && len > 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	TRANSPORT_CALL(ctx, transport_id, now,
	    vpnr__bgp_fsm_recv(c, data, len, now));
}

/* A lingering close: finish it (or drop it when the host closed). */
static int
linger_call(vpnr_ctx *ctx, uint64_t tid, uint32_t closed, vpnr_tstamp now)
{
	struct vpnr__bgp_linger *l = linger_find(ctx, tid);

	(void)now;
	if (l == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (!closed)
		return linger_flush(l);
	linger_lost(l, "the host closed the connection");
	linger_free(l);
	return VPNR_OK;
}

VPNR_API int
vpnr_transport_writable(vpnr_ctx *ctx, uint64_t transport_id, vpnr_tstamp now)
{
	if (ctx != NULL && linger_find(ctx, transport_id) != NULL)
		return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, linger_call,
		    transport_id, 0, now);
	TRANSPORT_CALL(ctx, transport_id, now, vpnr__bgp_fsm_writable(c, now));
}

VPNR_API int
vpnr_transport_closed(vpnr_ctx *ctx, uint64_t transport_id, int status,
    vpnr_tstamp now)
{
	if (ctx != NULL && linger_find(ctx, transport_id) != NULL)
		return vpnr__ctx_call(ctx, VPNR__CALL_DRIVE, linger_call,
		    transport_id, 1, now);
	TRANSPORT_CALL(ctx, transport_id, now,
	    vpnr__bgp_fsm_closed(c, status, now));
}
