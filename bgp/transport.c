/*
 * The host's TCP connections for BGP (bring-your-own-loop mode): the
 * host accepts or opens them and feeds their events in here.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/addr.h"
#include "lib/log.h"

static struct vpnr__bgp_peer *
peer_by_remote(struct vpnr__bgp *bgp, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	struct vpnr__bgp_peer *p;

	TAILQ_FOREACH(p, &bgp->peers, entry) {
		if (p->deleting || !vpnr__addr_eq(&p->cfg.remote, remote))
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
	rv = vpnr__bgp_fsm_accepted(p, tid, local, now);
	if (rv == VPNR_OK) {
		*transport_id = tid;
		rv = vpnr__bgp_pump_all(ctx);
	}
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

VPNR_API int
vpnr_transport_writable(vpnr_ctx *ctx, uint64_t transport_id, vpnr_tstamp now)
{
	TRANSPORT_CALL(ctx, transport_id, now, vpnr__bgp_fsm_writable(c, now));
}

VPNR_API int
vpnr_transport_closed(vpnr_ctx *ctx, uint64_t transport_id, int status,
    vpnr_tstamp now)
{
	TRANSPORT_CALL(ctx, transport_id, now,
	    vpnr__bgp_fsm_closed(c, status, now));
}
