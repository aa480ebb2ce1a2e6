/*
 * libFuzzer harness for the BGP session engine: an Established eBGP
 * session (the harness plays the peer's OPEN and KEEPALIVE) is fed the
 * input as TCP bytes, in chunks whose sizes and the clock jumps between
 * them come from the input too, so framing, UPDATE processing (RFC
 * 7606), RIB, decision, export and the timers all see hostile data.
 * Input layout: repeated [len:u8][dt:u8][len bytes].
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

static int64_t
f_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *d, size_t len, void *u)
{
	(void)ctx, (void)tid, (void)d, (void)u;
	return (int64_t)len;
}

static void
f_close(vpnr_ctx *ctx, uint64_t tid, void *u)
{
	(void)ctx, (void)tid, (void)u;
}

static int
f_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *l, const vpnr_addr *r,
    uint8_t ttl, const uint8_t *k, size_t kl, void *u)
{
	(void)ctx, (void)tid, (void)l, (void)r, (void)ttl, (void)k, (void)kl;
	(void)u;
	return VPNR_OK;
}

static int
f_route(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *d)
{
	(void)ctx, (void)op, (void)rt, (void)d;
	return VPNR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const vpnr_callbacks cb = {
		.transport_open = f_open,
		.transport_send = f_send,
		.transport_close = f_close,
	};
	static const vpnr_dataplane dp = {
		.route_add = f_route,
		.route_del = f_route,
	};
	/* OPEN: AS 65001, hold 30, id 192.0.2.9, MP v4+v6, AS4, RR, GR */
	static const uint8_t open_msg[] = {
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0xff,
		0,
		59,
		1,
		4,
		0xfd,
		0xe9,
		0,
		30,
		192,
		0,
		2,
		9,
		30,
		2,
		28,
		1,
		4,
		0,
		1,
		0,
		1,
		1,
		4,
		0,
		2,
		0,
		1,
		65,
		4,
		0,
		0,
		0xfd,
		0xe9,
		2,
		0,
		64,
		6,
		0x00,
		120,
		0,
		1,
		1,
		0x80,
	};
	static const uint8_t ka[19] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
		19, 4 };
	vpnr_config *cfg;
	vpnr_ctx *ctx;
	vpnr_bgp_peer_config *pc;
	vpnr_addr r, l;
	vpnr_prefix p;
	vpnr_path_attrs pa;
	uint64_t peer, tid, pid;
	vpnr_tstamp now = 1000 * VPNR_SECONDS;
	size_t off = 0;

	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		return 0;
	vpnr_config_set_local_as(cfg, 65010);
	vpnr_config_set_router_id(cfg, 0x0a000001);
	if (vpnr_ctx_new(&ctx, cfg, &cb, NULL, &dp, NULL, NULL) != VPNR_OK) {
		vpnr_config_del(cfg);
		return 0;
	}
	vpnr_config_del(cfg);
	vpnr_addr_parse(&r, "192.0.2.9");
	vpnr_addr_parse(&l, "192.0.2.1");
	vpnr_bgp_peer_config_new(&pc, NULL);
	vpnr_bgp_peer_config_set_remote(pc, &r, 65001);
	vpnr_bgp_peer_config_set_local(pc, &l);
	vpnr_bgp_peer_config_set_passive(pc, 1);
	vpnr_bgp_peer_config_set_max_prefix(pc, 1000);
	vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
	    VPNR_BGP_EXPORT_ALL);
	vpnr_bgp_peer_add(ctx, pc, NULL, &peer);
	vpnr_bgp_peer_config_del(pc);
	vpnr_bgp_peer_enable(ctx, peer, 1, now);
	memset(&pa, 0, sizeof(pa));
	vpnr_prefix_parse(&p, "198.51.100.0/24");
	vpnr_bgp_path_add(ctx, &p, &pa, &pid, now);
	if (vpnr_transport_accepted(ctx, &l, &r, &tid, now) == VPNR_OK) {
		vpnr_transport_recv(ctx, tid, open_msg, sizeof(open_msg), now);
		vpnr_transport_recv(ctx, tid, ka, sizeof(ka), now);
		while (off + 2 <= size) {
			size_t len = data[off];
			vpnr_tstamp dt =
			    (vpnr_tstamp)data[off + 1] * VPNR_SECONDS / 4;

			off += 2;
			if (len > size - off)
				len = size - off;
			if (vpnr_transport_recv(ctx, tid, data + off, len,
				now) == VPNR_ERR_NOT_FOUND)
				break; /* the session was closed */
			off += len;
			now += dt;
			vpnr_ctx_handle_expiry(ctx, now);
		}
	}
	vpnr_ctx_del(ctx);
	return 0;
}
