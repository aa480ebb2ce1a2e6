/*
 * IKE datagrams in and out: the NAT-T port's non-ESP marker and
 * keepalives (RFC 3948 2.2, 2.3), and the demultiplexing of a message
 * to its IKE SA by SPI (RFC 7296 2.1); a new IKE_SA_INIT request goes
 * to the responder code; a message of a higher major version gets
 * INVALID_MAJOR_VERSION (2.5) and unauthenticated answers without state.
 */
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "ctx.h"
#include "ike.h"
#include "ike_msg.h"
#include "log.h"
#include "mem.h"

uint16_t
vpnr__natt_port(const vpnr_ctx *ctx)
{
	return ctx->cfg.natt_port != 0 ? ctx->cfg.natt_port :
					 VPNR__IKE_NATT_PORT;
}

/*
 * The peer's ports (set_peer_ports(), else the port given with its
 * address, else our IKE port: 500 by default).  A peer on IKE port 500
 * is a standard one: its NAT-T port is 4500 whatever ours is (the
 * float goes to the peer's port); a peer on another port is taken to
 * be set up like us (tests, two hosts on one address).
 */
uint16_t
vpnr__peer_ike_port(const vpnr_ctx *ctx, const struct tunnel *t)
{
	if (t->cfg.peer_ike_port != 0)
		return t->cfg.peer_ike_port;
	if (t->cfg.remote.port != 0)
		return t->cfg.remote.port;
	return ctx->cfg.ike_port != 0 ? ctx->cfg.ike_port : VPNR__IKE_PORT;
}

uint16_t
vpnr__peer_natt_port(const vpnr_ctx *ctx, const struct tunnel *t)
{
	if (t->cfg.peer_natt_port != 0)
		return t->cfg.peer_natt_port;
	return vpnr__peer_ike_port(ctx, t) == VPNR__IKE_PORT ?
	    VPNR__IKE_NATT_PORT :
	    vpnr__natt_port(ctx);
}

int
vpnr_udp_classify(const uint8_t *data, size_t len)
{
	if (data == NULL || len == 0)
		return VPNR_ERR_MALFORMED;
	if (len == 1 && data[0] == 0xff)
		return VPNR_UDP_KEEPALIVE;
	if (len < 4)
		return VPNR_ERR_MALFORMED;
	if (data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0) {
		if (len < 4 + VPNR__IKE_HDR_LEN)
			return VPNR_ERR_MALFORMED;
		return VPNR_UDP_IKE;
	}
	if (len < 8)
		return VPNR_ERR_MALFORMED;
	return VPNR_UDP_ESP;
}

void
vpnr__ike_msg_buf(vpnr_ctx *ctx, struct vpnr__wbuf *w)
{
	vpnr__wbuf_init(w, ctx->mem, VPNR__IKE_MAX_MSG + VPNR__IKE_MARKER_LEN);
	vpnr__wbuf_put_zero(w, VPNR__IKE_MARKER_LEN);
}

/* w holds the marker room and then the message. */
int
vpnr__ike_send(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const struct vpnr__wbuf *w)
{
	const uint8_t *p = vpnr__wbuf_data(w);
	size_t len = vpnr__wbuf_len(w);

	if (len <= VPNR__IKE_MARKER_LEN)
		return VPNR_ERR_INTERNAL;
	if (local->port != vpnr__natt_port(ctx)) {
		p += VPNR__IKE_MARKER_LEN;
		len -= VPNR__IKE_MARKER_LEN;
	}
	return vpnr__cb_send_datagram(ctx, local, remote, p, len);
}

int
vpnr__ike_send_plain_notify(vpnr_ctx *ctx, const struct vpnr__ike_hdr *req,
    const vpnr_addr *local, const vpnr_addr *remote, uint16_t type,
    const uint8_t *data, size_t len)
{
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr hdr;
	struct vpnr__wbuf w;
	int rv;

	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = req->spi_i;
	hdr.spi_r = req->spi_r;
	hdr.exchange = req->exchange;
	hdr.flags = VPNR__IKE_F_RESPONSE;
	hdr.msg_id = req->msg_id;
	vpnr__ike_msg_buf(ctx, &w);
	vpnr__ike_build_begin(&b, &w, &hdr);
	vpnr__ike_add_notify(&b, 0, NULL, 0, type, data, len);
	rv = vpnr__ike_build_end(&b);
	if (rv == 0)
		rv = vpnr__ike_send(ctx, local, remote, &w);
	vpnr__wbuf_free(&w);
	return rv;
}

/*
 * A major version above ours (RFC 7296 1.5, 2.5): a request from a
 * configured peer is answered INVALID_MAJOR_VERSION with the highest
 * version we speak (rate-limited); a response is dropped.  Nothing is
 * kept, and the message counts as dropped (VPNR_ERR_MALFORMED, counted
 * as refused_version).  Major version 1 (IKEv1) goes to ikev1_tunnel.c.
 */
static int
recv_bad_version(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const struct vpnr__ike_hdr *hdr, vpnr_tstamp now)
{
	uint8_t ver = 2 << 4;
	int rv;

	vpnr__ike_refused(ctx, VPNR__REFUSE_VERSION, remote, now);
	if ((hdr->flags & VPNR__IKE_F_RESPONSE) ||
	    vpnr__tunnel_match(ctx, local, remote) == NULL ||
	    !vpnr__ike_err_notify_budget(ctx, now))
		return VPNR_ERR_MALFORMED;
	rv = vpnr__ike_send_plain_notify(ctx, hdr, local, remote,
	    VPNR__N_INVALID_MAJOR_VERSION, &ver, 1);
	return rv == VPNR_ERR_CALLBACK_FAILURE ? rv : VPNR_ERR_MALFORMED;
}

void
vpnr__ike_count_malformed(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now,
    const char *what)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);

	if (ike == NULL)
		return;
	ike->malformed++;
	if (t != NULL)
		t->malformed++;
	if (vpnr__log_ratelimit(&ike->malformed_log, now))
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "dropped message: %s (%llu dropped so far)", what,
		    (unsigned long long)ike->malformed);
}

static int
recv_ike(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct vpnr__ike_msg msg;
	struct ike_sa *sa;
	uint64_t spi;
	int rv;

	if (ike == NULL)
		return VPNR_OK; /* no tunnel: nothing to talk about */
	/* The header is filled in whatever its version (len >= 28); one
	 * whose length field is wrong is garbage, dropped below. */
	(void)vpnr__ike_parse_hdr(&msg.hdr, data, len);
	/* IKEv1 (ISAKMP, major version 1) goes to its own engine. */
	if ((msg.hdr.version >> 4) == 1 && msg.hdr.length == len)
		return vpnr__v1_recv(ctx, local, remote, data, len, now);
	if ((msg.hdr.version >> 4) > 2 && msg.hdr.length == len)
		return recv_bad_version(ctx, local, remote, &msg.hdr, now);
	rv = vpnr__ike_parse(&msg, data, len);
	if (rv != VPNR_OK) {
		vpnr__ike_count_malformed(ctx, NULL, now, "unparsable");
		return VPNR_ERR_MALFORMED;
	}
	if (msg.hdr.exchange == VPNR__IKE_SA_INIT &&
	    !(msg.hdr.flags & VPNR__IKE_F_RESPONSE)) {
		if (msg.hdr.spi_r != 0 || msg.hdr.msg_id != 0 ||
		    !(msg.hdr.flags & VPNR__IKE_F_INITIATOR)) {
			vpnr__ike_count_malformed(ctx, NULL, now,
			    "bad IKE_SA_INIT header");
			return VPNR_ERR_MALFORMED;
		}
		rv = vpnr__ike_sa_init_request(ctx, &msg, data, len, local,
		    remote, now);
		/* No state is kept for a request we could not answer (no
		 * memory): it is dropped and the peer retransmits. */
		if (vpnr_err_is_fatal(rv)) {
			vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
			    "IKE_SA_INIT from %s not answered: %s",
			    vpnr_addr_format(remote, (char[64]){ 0 }, 64),
			    vpnr_strerror(rv));
			return VPNR_OK;
		}
		return rv;
	}
	spi = (msg.hdr.flags & VPNR__IKE_F_INITIATOR) ? msg.hdr.spi_r :
							msg.hdr.spi_i;
	sa = spi != 0 ? vpnr__ike_sa_find(ctx, spi) : NULL;
	if (sa == NULL) {
		if (vpnr__log_ratelimit(&ike->malformed_log, now))
			vpnr__log(ctx, VPNR_LOG_INFO, "ike",
			    "message for unknown IKE SA %016llx_i %016llx_r "
			    "dropped",
			    (unsigned long long)msg.hdr.spi_i,
			    (unsigned long long)msg.hdr.spi_r);
		return VPNR_OK;
	}
	/* The I flag must say the sender's role in this SA. */
	if (!!(msg.hdr.flags & VPNR__IKE_F_INITIATOR) == sa->initiator ||
	    msg.hdr.spi_i != sa->spi_i ||
	    (sa->state != IKE_INIT_SENT && msg.hdr.spi_r != sa->spi_r)) {
		vpnr__ike_count_malformed(ctx, sa->tun, now, "SPI mismatch");
		return VPNR_ERR_MALFORMED;
	}
	rv = vpnr__ike_sa_recv(ctx, sa, &msg, data, len, local, remote, now);
	return vpnr__ike_sa_contain(ctx, sa, rv, now);
}

int
vpnr_ctx_recv_datagram(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, vpnr_tstamp now)
{
	int rv, kind;

	if (ctx == NULL || local == NULL || remote == NULL || data == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rv = vpnr__drive_begin(ctx, now)) != VPNR_OK)
		return rv;
	if (local->port == vpnr__natt_port(ctx)) {
		kind = vpnr_udp_classify(data, len);
		switch (kind) {
		case VPNR_UDP_KEEPALIVE:
			rv = VPNR_OK;
			goto done;
		case VPNR_UDP_ESP:
			rv = VPNR_ERR_NOT_IKE;
			goto done;
		case VPNR_UDP_IKE:
			data += VPNR__IKE_MARKER_LEN;
			len -= VPNR__IKE_MARKER_LEN;
			break;
		default:
			vpnr__ike_count_malformed(ctx, NULL, now,
			    "short datagram on the NAT-T port");
			rv = VPNR_ERR_MALFORMED;
			goto done;
		}
	}
	if (len < VPNR__IKE_HDR_LEN || len > VPNR__IKE_MAX_MSG) {
		vpnr__ike_count_malformed(ctx, NULL, now, "bad length");
		rv = VPNR_ERR_MALFORMED;
		goto done;
	}
	rv = recv_ike(ctx, local, remote, data, len, now);
done:
	return vpnr__drive_end(ctx, rv);
}
