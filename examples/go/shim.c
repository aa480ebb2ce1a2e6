/* See shim.h. */
#include "shim.h"

#include "_cgo_export.h"

#define H(ud) ((uintptr_t)(ud))

static int
s_send_datagram(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *ud)
{
	(void)ctx;
	return goSendDatagram(H(ud), (vpnr_addr *)local, (vpnr_addr *)remote,
	    (uint8_t *)data, len);
}

static int
s_transport_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *local,
    const vpnr_addr *remote, uint8_t ttl, const uint8_t *md5, size_t md5_len,
    void *ud)
{
	(void)ctx;
	return goTransportOpen(H(ud), tid, (vpnr_addr *)local,
	    (vpnr_addr *)remote, ttl, (uint8_t *)md5, md5_len);
}

static int64_t
s_transport_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *data, size_t len,
    void *ud)
{
	(void)ctx;
	return goTransportSend(H(ud), tid, (uint8_t *)data, len);
}

static void
s_transport_close(vpnr_ctx *ctx, uint64_t tid, void *ud)
{
	(void)ctx;
	goTransportClose(H(ud), tid);
}

static void
s_expiry_changed(vpnr_ctx *ctx, vpnr_tstamp expiry, void *ud)
{
	(void)ctx;
	goExpiryChanged(H(ud), expiry);
}

static int
s_rand_bytes(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	(void)ctx;
	return goRandBytes(H(ud), buf, len);
}

static int
s_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	(void)ctx;
	return goTunnelEvent(H(ud), (vpnr_tunnel_event *)ev);
}

static int
s_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	(void)ctx;
	return goBgpEvent(H(ud), (vpnr_bgp_event *)ev);
}

static void
s_log_msg(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	(void)ctx;
	goLogMsg(H(ud), level, (char *)subsys, (char *)msg, len);
}

static int
s_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dpd)
{
	(void)ctx;
	return goSaOp(H(dpd), 1, op, (vpnr_child_sa *)sa);
}

static int
s_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dpd)
{
	(void)ctx;
	return goSaOp(H(dpd), 0, op, (vpnr_child_sa *)sa);
}

static int
s_policy_add(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *dpd)
{
	(void)ctx;
	return goPolicyOp(H(dpd), 1, op, (vpnr_policy *)p);
}

static int
s_policy_del(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *dpd)
{
	(void)ctx;
	return goPolicyOp(H(dpd), 0, op, (vpnr_policy *)p);
}

static int
s_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	(void)ctx;
	return goRouteOp(H(dpd), 1, op, (vpnr_route *)rt);
}

static int
s_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	(void)ctx;
	return goRouteOp(H(dpd), 0, op, (vpnr_route *)rt);
}

int
shim_ctx_new(vpnr_ctx **pctx, const vpnr_config *cfg, uintptr_t h, int go_dp,
    int go_rand, vpnr_esp *esp)
{
	vpnr_callbacks cb = { 0 };
	vpnr_dataplane dp = { 0 };
	const vpnr_dataplane *dpp = NULL;
	void *dpd = NULL;
	int rc;

	cb.send_datagram = s_send_datagram;
	cb.transport_open = s_transport_open;
	cb.transport_send = s_transport_send;
	cb.transport_close = s_transport_close;
	cb.expiry_changed = s_expiry_changed;
	if (go_rand)
		cb.rand_bytes = s_rand_bytes;
	cb.tunnel_event = s_tunnel_event;
	cb.bgp_event = s_bgp_event;
	cb.log_msg = s_log_msg;
	if (go_dp) {
		dp.sa_add = s_sa_add;
		dp.sa_del = s_sa_del;
		dp.policy_add = s_policy_add;
		dp.policy_del = s_policy_del;
		dp.route_add = s_route_add;
		dp.route_del = s_route_del;
		dpp = &dp;
		dpd = (void *)h;
	} else if (esp != NULL) {
		rc = vpnr_esp_set_route_ops(esp, s_route_add, s_route_del,
		    (void *)h);
		if (rc != VPNR_OK)
			return rc;
		dpp = vpnr_esp_dataplane();
		dpd = esp;
	}
	/* The real function, with this header's versions (cgo cannot call
	 * the vpnr_ctx_new macro). */
	return vpnr_ctx_new_versioned(pctx, cfg, VPNR_CALLBACKS_VERSION, &cb,
	    (void *)h, VPNR_DATAPLANE_VERSION, dpp, dpd, NULL);
}

void
shim_esp_detach(vpnr_esp *esp)
{
	vpnr_esp_set_route_ops(esp, NULL, NULL, NULL);
}

static int
s_rib_cb(const vpnr_prefix *pfx, const vpnr_path_attrs *attrs, uint64_t peer_id,
    void *arg)
{
	return goRibEntry(H(arg), (vpnr_prefix *)pfx, (vpnr_path_attrs *)attrs,
	    peer_id);
}

int
shim_rib_walk(vpnr_ctx *ctx, int rib, uint64_t peer_id, uintptr_t h)
{
	return vpnr_bgp_rib_walk(ctx, rib, peer_id, s_rib_cb, (void *)h);
}

static int
s_esp_sa_cb(const vpnr_esp_sa_info *info, void *arg)
{
	return goEspSA(H(arg), (vpnr_esp_sa_info *)info);
}

int
shim_esp_sa_walk(const vpnr_esp *esp, uintptr_t h)
{
	return vpnr_esp_sa_walk(esp, s_esp_sa_cb, (void *)h);
}
