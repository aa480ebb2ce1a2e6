/*
 * The BGP session state machine (RFC 4271 section 8): active and
 * passive open, connect-retry, hold, keepalive and send-hold (RFC
 * 9687) timers, OPEN negotiation (capabilities, hold time) and
 * connection collision detection (6.8).  A peer has at most two
 * connections, [0] the one we opened and [1] the one we accepted; the
 * collision resolution closes one of them.
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/mem.h"

#define BGP_OPEN_HOLD_S 240 /* large hold time while OPEN is awaited */
#define BGP_RX_MAX      VPNR__BGP_MAX_LEN

static int hold_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static int ka_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static int
sendhold_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static int
connect_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static int idle_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static int gr_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now);
static void
conn_close(struct vpnr__bgp_conn *c, const struct vpnr__bgp_err *err,
    int32_t reason, int graceful, vpnr_tstamp now);

static struct vpnr__bgp *
bgp_of(struct vpnr__bgp_peer *p)
{
	return p->ctx->bgp;
}

static const char *
peer_name(struct vpnr__bgp_peer *p, char *buf, size_t len)
{
	return vpnr_addr_format(&p->cfg.remote, buf, len);
}

int
vpnr__bgp_emit(struct vpnr__bgp_peer *p, uint32_t type, int32_t reason,
    uint8_t code, uint8_t sub, uint8_t afi)
{
	vpnr_bgp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.reason = reason;
	ev.peer_id = p->id;
	ev.peer_user_data = p->user_data;
	ev.notif_code = code;
	ev.notif_subcode = sub;
	ev.afi_safi = afi;
	return vpnr__cb_bgp_event(p->ctx, &ev);
}

void
vpnr__bgp_peer_timers_init(struct vpnr__bgp_peer *p)
{
	vpnr__timer_init(&p->connect_timer, connect_expired, p);
	vpnr__timer_init(&p->idle_timer, idle_expired, p);
	vpnr__timer_init(&p->gr_timer, gr_expired, p);
}

static void
peer_update_state(struct vpnr__bgp_peer *p)
{
	int i, st = BGP_ST_IDLE;

	if (p->est != NULL) {
		p->state = BGP_ST_ESTABLISHED;
		return;
	}
	for (i = 0; i < 2; i++)
		if (p->conn[i] != NULL && p->conn[i]->state > st)
			st = p->conn[i]->state;
	if (st == BGP_ST_IDLE && p->enabled && !p->deleting &&
	    vpnr__timer_armed(&p->connect_timer))
		st = BGP_ST_ACTIVE;
	p->state = st;
}

/* ------------------------------------------------------------------ */
/* Connections: allocation, transmit queue */

/* Transport id, then peer and direction: ids from a host repeat
 * at worst across peers, and a lookup takes the first. */
static int
conn_cmp(const struct vpnr__bgp_conn *a, const struct vpnr__bgp_conn *b)
{
	uint64_t x = a->peer != NULL ? a->peer->id : 0;
	uint64_t y = b->peer != NULL ? b->peer->id : 0;

	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	if (x != y)
		return x < y ? -1 : 1;
	return a->outgoing - b->outgoing;
}
RB_GENERATE(vpnr__bgp_conn_tree, vpnr__bgp_conn, tid_entry, conn_cmp)

static struct vpnr__bgp_conn *
conn_new(struct vpnr__bgp_peer *p, uint64_t tid, int outgoing)
{
	struct vpnr__bgp_conn *c;

	if ((c = vpnr__calloc(p->ctx->mem, 1, sizeof(*c))) == NULL)
		return NULL;
	c->peer = p;
	c->tid = tid;
	c->outgoing = outgoing;
	c->state = BGP_ST_CONNECT;
	vpnr__timer_init(&c->hold_timer, hold_expired, c);
	vpnr__timer_init(&c->ka_timer, ka_expired, c);
	vpnr__timer_init(&c->sendhold_timer, sendhold_expired, c);
	p->conn[outgoing ? 0 : 1] = c;
	RB_INSERT(vpnr__bgp_conn_tree,
	    &((struct vpnr__bgp *)p->ctx->bgp)->conns, c);
	return c;
}

static void
conn_free(struct vpnr__bgp_conn *c)
{
	vpnr_ctx *ctx = c->peer->ctx;
	struct vpnr__bgp_peer *p = c->peer;

	vpnr__timer_disarm(ctx, &c->hold_timer);
	vpnr__timer_disarm(ctx, &c->ka_timer);
	vpnr__timer_disarm(ctx, &c->sendhold_timer);
	RB_REMOVE(vpnr__bgp_conn_tree, &((struct vpnr__bgp *)ctx->bgp)->conns,
	    c);
	if (p->conn[0] == c)
		p->conn[0] = NULL;
	if (p->conn[1] == c)
		p->conn[1] = NULL;
	if (p->est == c)
		p->est = NULL;
	vpnr__free(ctx->mem, c->rx);
	vpnr__free(ctx->mem, c->tx);
	vpnr__free(ctx->mem, c);
}

void
vpnr__bgp_peer_free_conns(struct vpnr__bgp_peer *p)
{
	int i;

	for (i = 0; i < 2; i++)
		if (p->conn[i] != NULL) {
			if (!p->conn[i]->host_closed)
				vpnr__cb_transport_close(p->ctx,
				    p->conn[i]->tid);
			conn_free(p->conn[i]);
		}
}

struct vpnr__bgp_conn *
vpnr__bgp_conn_find(struct vpnr__bgp *bgp, uint64_t tid)
{
	struct vpnr__bgp_conn key, *c;

	if (bgp == NULL)
		return NULL;
	key.tid = tid;
	key.peer = NULL;
	key.outgoing = 0;
	c = RB_NFIND(vpnr__bgp_conn_tree, &bgp->conns, &key);
	return c != NULL && c->tid == tid ? c : NULL;
}

size_t
vpnr__bgp_conn_queued(const struct vpnr__bgp_conn *c)
{
	return c->tx_len - c->tx_off;
}

static vpnr_tstamp
sendhold_ns(struct vpnr__bgp_peer *p)
{
	uint32_t s = p->cfg.send_hold_s;

	if (s == 0) {
		s = 2u * (p->sess.hold_s ? p->sess.hold_s : p->cfg.hold_s);
		if (s < 480)
			s = 480;
	}
	return (vpnr_tstamp)s * VPNR_SECONDS;
}

/* Hand queued bytes to the host; returns 0 or a negative error. */
static int
conn_flush(struct vpnr__bgp_conn *c)
{
	vpnr_ctx *ctx = c->peer->ctx;
	int64_t n;
	int progress = 0;

	while (c->tx_off < c->tx_len) {
		n = vpnr__cb_transport_send(ctx, c->tid, c->tx + c->tx_off,
		    c->tx_len - c->tx_off);
		if (n == VPNR_ERR_WOULDBLOCK || n == 0) {
			c->tx_blocked = 1;
			break;
		}
		if (n < 0) {
			/* a broken transport: the host reports it closed;
			 * the send-hold timer covers a host that does not */
			c->tx_blocked = 1;
			if (n == VPNR_ERR_CALLBACK_FAILURE)
				return (int)n;
			break;
		}
		progress = 1;
		c->tx_off += (size_t)n;
		if (c->tx_off < c->tx_len) {
			/* short write: the host calls writable later */
			c->tx_blocked = 1;
			break;
		}
	}
	if (c->tx_off == c->tx_len) {
		/* an idle session holds no transmit buffer (4 KiB or
		 * more each, with a thousand sessions) */
		vpnr__free(ctx->mem, c->tx);
		c->tx = NULL;
		c->tx_cap = c->tx_off = c->tx_len = 0;
		c->tx_blocked = 0;
		vpnr__timer_disarm(ctx, &c->sendhold_timer);
	} else if (progress || !vpnr__timer_armed(&c->sendhold_timer)) {
		vpnr__timer_arm(ctx, &c->sendhold_timer,
		    ctx->now + sendhold_ns(c->peer));
	}
	return VPNR_OK;
}

int
vpnr__bgp_conn_send(struct vpnr__bgp_conn *c, const uint8_t *data, size_t len)
{
	vpnr_ctx *ctx = c->peer->ctx;
	size_t need;
	uint8_t *nb;

	if (c->tx_off > 0 && c->tx_off == c->tx_len)
		c->tx_off = c->tx_len = 0;
	if (c->tx_off > 65536 && c->tx_off * 2 > c->tx_len) {
		memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
		c->tx_len -= c->tx_off;
		c->tx_off = 0;
	}
	need = c->tx_len + len;
	if (need > c->tx_cap) {
		size_t cap = c->tx_cap ? c->tx_cap : 4096;

		while (cap < need)
			cap *= 2;
		if ((nb = vpnr__realloc(ctx->mem, c->tx, cap)) == NULL)
			return VPNR_ERR_NOMEM;
		c->tx = nb;
		c->tx_cap = cap;
	}
	memcpy(c->tx + c->tx_len, data, len);
	c->tx_len += len;
	c->peer->tx_msgs++;
	if (c->tx_blocked)
		return VPNR_OK;
	return conn_flush(c);
}

/* Encode with the engine's scratch writer and queue. */
static int
send_keepalive(struct vpnr__bgp_conn *c)
{
	struct vpnr__bgp *bgp = bgp_of(c->peer);

	vpnr__wbuf_reset(&bgp->wb);
	if (vpnr__bgp_keepalive_encode(&bgp->wb) != 0)
		return VPNR_ERR_NOMEM;
	return vpnr__bgp_conn_send(c, vpnr__wbuf_data(&bgp->wb),
	    vpnr__wbuf_len(&bgp->wb));
}

static void
send_notification(struct vpnr__bgp_conn *c, const struct vpnr__bgp_err *err)
{
	struct vpnr__bgp *bgp = bgp_of(c->peer);

	vpnr__wbuf_reset(&bgp->wb);
	if (vpnr__bgp_notif_encode(&bgp->wb, err) != 0)
		return;
	(void)vpnr__bgp_conn_send(c, vpnr__wbuf_data(&bgp->wb),
	    vpnr__wbuf_len(&bgp->wb));
}

static uint32_t
local_router_id(struct vpnr__bgp_peer *p)
{
	const vpnr_addr *a = &p->cfg.local;

	if (p->ctx->cfg.router_id != 0)
		return p->ctx->cfg.router_id;
	if (a->family == VPNR_AF_INET)
		return ((uint32_t)a->bytes[0] << 24) | (a->bytes[1] << 16) |
		    (a->bytes[2] << 8) | a->bytes[3];
	return 0x0a000001; /* no v4 address known */
}

static int
send_open(struct vpnr__bgp_conn *c)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp *bgp = bgp_of(p);
	struct vpnr__bgp_open o;

	memset(&o, 0, sizeof(o));
	o.version = VPNR__BGP_VERSION;
	o.hold_time = p->cfg.hold_s;
	o.bgp_id = local_router_id(p);
	o.local_as = p->ctx->cfg.local_as;
	o.caps =
	    VPNR__BGP_CAPF_MP | VPNR__BGP_CAPF_RREFRESH | VPNR__BGP_CAPF_AS4;
	o.mp_aids = p->cfg.afi_mask & 3;
	if (p->cfg.gr_helper) {
		/* Receiving speaker (helper): the capability with no
		 * families, restart time for our own restarts. */
		o.caps |= VPNR__BGP_CAPF_GR;
		o.gr_time = (uint16_t)(p->cfg.gr_restart_s & 0xfff);
	}
	vpnr__wbuf_reset(&bgp->wb);
	if (vpnr__bgp_open_encode(&bgp->wb, &o) != 0)
		return VPNR_ERR_NOMEM;
	return vpnr__bgp_conn_send(c, vpnr__wbuf_data(&bgp->wb),
	    vpnr__wbuf_len(&bgp->wb));
}

/* ------------------------------------------------------------------ */
/* Start, stop, down */

static int
open_outgoing(struct vpnr__bgp_peer *p, vpnr_tstamp now)
{
	struct vpnr__bgp_conn *c;
	vpnr_addr remote = p->cfg.remote;
	uint64_t tid;
	int rv;

	(void)now;
	if (p->cfg.passive || p->conn[0] != NULL || p->est != NULL)
		return VPNR_OK;
	if (remote.port == 0)
		remote.port = VPNR__BGP_PORT;
	tid = vpnr__ctx_new_id(p->ctx);
	if ((c = conn_new(p, tid, 1)) == NULL)
		return VPNR_ERR_NOMEM;
	c->local = p->cfg.local;
	rv = vpnr__cb_transport_open(p->ctx, tid, &p->cfg.local, &remote,
	    p->cfg.ttl, p->cfg.md5_len ? p->cfg.md5 : NULL, p->cfg.md5_len);
	if (rv != VPNR_OK) {
		c->host_closed = 1;
		conn_free(c);
		if (rv == VPNR_ERR_CALLBACK_FAILURE)
			return rv;
		/* retried by the connect-retry timer */
	}
	peer_update_state(p);
	return VPNR_OK;
}

int
vpnr__bgp_fsm_start(struct vpnr__bgp_peer *p, vpnr_tstamp now)
{
	vpnr__timer_arm(p->ctx, &p->connect_timer,
	    now + (vpnr_tstamp)p->cfg.connect_retry_s * VPNR_SECONDS);
	if (open_outgoing(p, now) == VPNR_ERR_CALLBACK_FAILURE)
		return VPNR_ERR_CALLBACK_FAILURE;
	peer_update_state(p);
	return VPNR_OK;
}

static int
connect_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = t->arg;

	if (!p->enabled || p->deleting || p->maxpfx_tripped ||
	    (p->cfg.tunnel_id != 0 && !p->tunnel_up))
		return VPNR_OK;
	vpnr__timer_arm(ctx, t,
	    now + (vpnr_tstamp)p->cfg.connect_retry_s * VPNR_SECONDS);
	if (p->est != NULL)
		return VPNR_OK;
	/* An outgoing attempt that never completed is abandoned. */
	if (p->conn[0] != NULL && p->conn[0]->state == BGP_ST_CONNECT)
		conn_close(p->conn[0], NULL, VPNR_ERR_TIMEOUT, 0, now);
	if (open_outgoing(p, now) == VPNR_ERR_CALLBACK_FAILURE)
		return VPNR_ERR_CALLBACK_FAILURE;
	return vpnr__bgp_pump_all(ctx);
}

static int
idle_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = t->arg;

	(void)ctx;
	p->maxpfx_tripped = 0;
	if (p->enabled && !p->deleting &&
	    (p->cfg.tunnel_id == 0 || p->tunnel_up))
		return vpnr__bgp_fsm_start(p, now);
	return VPNR_OK;
}

static int
gr_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = t->arg;

	(void)now;
	if (p->gr_stale) {
		vpnr__bgp_rib_purge_peer(ctx->bgp, p->idx, 1);
		p->gr_stale = 0;
	}
	return vpnr__bgp_pump_all(ctx);
}

/*
 * Close a connection: optional NOTIFICATION, transport_close, free.
 * If it was the Established one the session goes down (routes are
 * withdrawn or, for a graceful-restart peer, kept stale).
 */
static void
conn_close(struct vpnr__bgp_conn *c, const struct vpnr__bgp_err *err,
    int32_t reason, int graceful, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	int was_est = p->est == c;
	uint8_t code = 0, sub = 0;
	char nb[64];

	if (err != NULL && err->code != 0) {
		if (!c->host_closed && c->state != BGP_ST_CONNECT)
			send_notification(c, err);
		code = err->code;
		sub = err->subcode;
		p->last_notif_code = code;
		p->last_notif_sub = sub;
		p->last_reason = reason;
	}
	if (!c->host_closed) {
		/* A NOTIFICATION the host could not take yet is sent
		 * before transport_close (transport.c). */
		if (vpnr__bgp_conn_queued(c) > 0 &&
		    vpnr__bgp_close_after(p->ctx, c->tid, c->tx, c->tx_off,
			c->tx_len) == VPNR_OK)
			c->tx = NULL;
		else
			vpnr__cb_transport_close(p->ctx, c->tid);
	}
	c->host_closed = 1;
	conn_free(c);
	if (was_est) {
		p->last_reason = reason;
		p->last_notif_code = code;
		p->last_notif_sub = sub;
		p->flaps++;
		vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
		    "peer %s: session down (%s%s%s)",
		    peer_name(p, nb, sizeof(nb)), vpnr_strerror(reason),
		    code ? ", " : "",
		    code ? vpnr__bgp_err_code_name(code) : "");
		vpnr__bgp_peer_down(p, graceful, now);
		(void)vpnr__bgp_emit(p, VPNR_BGP_EV_DOWN, reason, code, sub, 0);
	}
	peer_update_state(p);
}

int
vpnr__bgp_fsm_stop(struct vpnr__bgp_peer *p, uint8_t code, uint8_t sub,
    const uint8_t *data, size_t dlen, int32_t reason, vpnr_tstamp now)
{
	struct vpnr__bgp_err err;
	int i;

	memset(&err, 0, sizeof(err));
	if (code != 0)
		vpnr__bgp_err_set(&err, code, sub, data, dlen);
	vpnr__timer_disarm(p->ctx, &p->connect_timer);
	for (i = 0; i < 2; i++)
		if (p->conn[i] != NULL)
			conn_close(p->conn[i], code ? &err : NULL, reason, 0,
			    now);
	peer_update_state(p);
	return VPNR_OK;
}

/*
 * The tunnel under a peer went down or came back.  Its paths stop (or
 * start) counting in the decision first, so that its routes leave the
 * data plane and another peer's path is installed within this call;
 * then the session is closed (RESET), or an Established one is kept
 * until its hold timer says otherwise (HOLD).
 */
int
vpnr__bgp_fsm_tunnel(struct vpnr__bgp_peer *p, int up, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = bgp_of(p);
	struct vpnr__bgp_err err;
	int was = p->tunnel_up, i;
	char nb[64];

	p->tunnel_up = up ? 1 : 0;
	p->tunnel_suspect = 0; /* a new tunnel, or none, is not suspect */
	if (up) {
		if (was)
			return VPNR_OK;
		vpnr__bgp_rib_redecide_peer(bgp, p->idx);
		if (p->est != NULL) {
			vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
			    "peer %s: tunnel up again, its routes are back",
			    peer_name(p, nb, sizeof(nb)));
			return vpnr__bgp_emit(p, VPNR_BGP_EV_TUNNEL_UP, VPNR_OK,
			    0, 0, 0);
		}
		if (p->enabled && !p->deleting && !p->maxpfx_tripped &&
		    p->state == BGP_ST_IDLE)
			return vpnr__bgp_fsm_start(p, now);
		return VPNR_OK;
	}
	if (!was)
		return VPNR_OK;
	vpnr__bgp_rib_redecide_peer(bgp, p->idx);
	vpnr__bgp_err_set(&err, VPNR__BGP_ERR_CEASE,
	    VPNR__BGP_CEASE_ADMIN_RESET, NULL, 0);
	if (p->est != NULL && p->cfg.tunnel_down == VPNR_BGP_TUNNEL_DOWN_HOLD) {
		/* a connection racing the Established one cannot finish */
		for (i = 0; i < 2; i++)
			if (p->conn[i] != NULL && p->conn[i] != p->est)
				conn_close(p->conn[i], &err,
				    VPNR_ERR_TUNNEL_DOWN, 0, now);
		vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
		    "peer %s: tunnel down: its routes withdrawn, session "
		    "held for up to %us",
		    peer_name(p, nb, sizeof(nb)), p->sess.hold_s);
		return vpnr__bgp_emit(p, VPNR_BGP_EV_TUNNEL_DOWN,
		    VPNR_ERR_TUNNEL_DOWN, 0, 0, 0);
	}
	vpnr__timer_disarm(p->ctx, &p->connect_timer);
	for (i = 0; i < 2; i++)
		if (p->conn[i] != NULL)
			conn_close(p->conn[i], &err, VPNR_ERR_TUNNEL_DOWN, 0,
			    now);
	/* no graceful-restart help across a tunnel going down */
	if (p->gr_stale) {
		vpnr__bgp_rib_purge_peer(bgp, p->idx, 1);
		p->gr_stale = 0;
		vpnr__timer_disarm(p->ctx, &p->gr_timer);
	}
	peer_update_state(p);
	return VPNR_OK;
}

/*
 * The tunnel under a peer became suspect or showed life again: its
 * paths rank below those over healthy tunnels (rib.c), so that the
 * routes it shares with another peer leave it at once; the session is
 * not touched.
 */
void
vpnr__bgp_fsm_suspect(struct vpnr__bgp_peer *p, int suspect)
{
	char nb[64];

	if (!p->tunnel_up || p->tunnel_suspect == (suspect != 0))
		return;
	p->tunnel_suspect = suspect != 0;
	vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
	    suspect ? "peer %s: tunnel suspect, its paths used only where "
		      "there is no other" :
		      "peer %s: tunnel alive again, its paths count as before",
	    peer_name(p, nb, sizeof(nb)));
	vpnr__bgp_rib_redecide_peer(bgp_of(p), p->idx);
}

/* ------------------------------------------------------------------ */
/* Timers of a connection */

static void
arm_hold(struct vpnr__bgp_conn *c, vpnr_tstamp now)
{
	uint16_t h;

	h = c->state >= BGP_ST_OPENCONFIRM ? c->peer->sess.hold_s :
					     BGP_OPEN_HOLD_S;
	if (h == 0)
		vpnr__timer_disarm(c->peer->ctx, &c->hold_timer);
	else
		vpnr__timer_arm(c->peer->ctx, &c->hold_timer,
		    now + (vpnr_tstamp)h * VPNR_SECONDS);
}

static void
arm_ka(struct vpnr__bgp_conn *c, vpnr_tstamp now)
{
	uint16_t k = c->peer->sess.ka_s;

	if (k == 0)
		vpnr__timer_disarm(c->peer->ctx, &c->ka_timer);
	else
		vpnr__timer_arm(c->peer->ctx, &c->ka_timer,
		    now + (vpnr_tstamp)k * VPNR_SECONDS);
}

static int
hold_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_conn *c = t->arg;
	struct vpnr__bgp_err err;

	vpnr__bgp_err_set(&err, VPNR__BGP_ERR_HOLD, 0, NULL, 0);
	conn_close(c, &err, VPNR_ERR_TIMEOUT, 1, now);
	return vpnr__bgp_pump_all(ctx);
}

static int
ka_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_conn *c = t->arg;

	(void)ctx;
	arm_ka(c, now);
	return send_keepalive(c);
}

static int
sendhold_expired(vpnr_ctx *ctx, struct vpnr__timer *t, vpnr_tstamp now)
{
	struct vpnr__bgp_conn *c = t->arg;
	char nb[64];

	vpnr__log(ctx, VPNR_LOG_WARNING, "bgp",
	    "peer %s: send hold timer expired (peer not reading)",
	    peer_name(c->peer, nb, sizeof(nb)));
	/* RFC 9687: no NOTIFICATION can get through; just drop. */
	conn_close(c, NULL, VPNR_ERR_TIMEOUT, 0, now);
	return vpnr__bgp_pump_all(ctx);
}

/* ------------------------------------------------------------------ */
/* Transport events */

int
vpnr__bgp_fsm_accepted(struct vpnr__bgp_peer *p, uint64_t tid,
    const vpnr_addr *local, vpnr_tstamp now)
{
	struct vpnr__bgp_conn *c;
	int rv;

	if (p->conn[1] != NULL)
		conn_close(p->conn[1], NULL, VPNR_ERR_PEER_CLOSED, 0, now);
	if ((c = conn_new(p, tid, 0)) == NULL)
		return VPNR_ERR_NOMEM;
	if (local != NULL)
		c->local = *local;
	if (p->est != NULL) {
		struct vpnr__bgp_err err;

		/* RFC 4271 6.8: a collision with an Established session
		 * closes the new connection. */
		c->state = BGP_ST_OPENSENT;
		vpnr__bgp_err_set(&err, VPNR__BGP_ERR_CEASE,
		    VPNR__BGP_CEASE_COLLISION, NULL, 0);
		conn_close(c, &err, VPNR_ERR_INVALID_STATE, 0, now);
		return VPNR_OK;
	}
	c->state = BGP_ST_OPENSENT;
	arm_hold(c, now);
	if ((rv = send_open(c)) != VPNR_OK)
		return rv;
	peer_update_state(p);
	return VPNR_OK;
}

int
vpnr__bgp_fsm_connected(struct vpnr__bgp_conn *c, int status, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	int rv;

	if (c->state != BGP_ST_CONNECT)
		return VPNR_ERR_INVALID_STATE;
	if (status != VPNR_OK) {
		c->host_closed = 1;
		conn_close(c, NULL, status, 0, now);
		return VPNR_OK;
	}
	if (p->est != NULL) {
		/* lost the race already */
		conn_close(c, NULL, VPNR_OK, 0, now);
		return VPNR_OK;
	}
	c->state = BGP_ST_OPENSENT;
	arm_hold(c, now);
	rv = send_open(c);
	peer_update_state(p);
	return rv;
}

int
vpnr__bgp_fsm_closed(struct vpnr__bgp_conn *c, int status, vpnr_tstamp now)
{
	c->host_closed = 1;
	conn_close(c, NULL, status < 0 ? status : VPNR_ERR_PEER_CLOSED, 1, now);
	return VPNR_OK;
}

int
vpnr__bgp_fsm_writable(struct vpnr__bgp_conn *c, vpnr_tstamp now)
{
	int rv;

	(void)now;
	c->tx_blocked = 0;
	if ((rv = conn_flush(c)) != VPNR_OK)
		return rv;
	return VPNR_OK;
}

/* ------------------------------------------------------------------ */
/* Messages */

#define CONN_GONE 1

static int
fsm_error(struct vpnr__bgp_conn *c, uint8_t type, vpnr_tstamp now)
{
	struct vpnr__bgp_err err;
	uint8_t sub = c->state == BGP_ST_OPENSENT ? VPNR__BGP_FSM_IN_OPENSENT :
	    c->state == BGP_ST_OPENCONFIRM ? VPNR__BGP_FSM_IN_OPENCONFIRM :
					     VPNR__BGP_FSM_IN_ESTABLISHED;

	(void)type;
	vpnr__bgp_err_set(&err, VPNR__BGP_ERR_FSM, sub, NULL, 0);
	conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
	return CONN_GONE;
}

/* RFC 4271 6.8, RFC 6286 2.3. */
static int
collision(struct vpnr__bgp_conn *c, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp_conn *o = p->conn[c->outgoing ? 1 : 0];
	struct vpnr__bgp_conn *loser;
	struct vpnr__bgp_err err;
	uint32_t lid = local_router_id(p);
	int local_wins;

	/* The OPEN just received names the peer's identifier, so a
	 * connection still in OpenSent is resolved as well (6.8 allows
	 * it); both ends reach the same verdict. */
	if (o == NULL || o->state < BGP_ST_OPENSENT)
		return 0;
	vpnr__bgp_err_set(&err, VPNR__BGP_ERR_CEASE, VPNR__BGP_CEASE_COLLISION,
	    NULL, 0);
	if (o->state == BGP_ST_ESTABLISHED) {
		conn_close(c, &err, VPNR_ERR_INVALID_STATE, 0, now);
		return CONN_GONE;
	}
	if (lid != c->peer_id)
		local_wins = lid > c->peer_id;
	else
		local_wins = p->ctx->cfg.local_as > c->peer_as;
	/* The higher identifier keeps the connection it initiated. */
	loser = (local_wins == c->outgoing) ? o : c;
	conn_close(loser, &err, VPNR_OK, 0, now);
	return loser == c ? CONN_GONE : 0;
}

static int
handle_open(struct vpnr__bgp_conn *c, const uint8_t *msg, size_t len,
    vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp_open o;
	struct vpnr__bgp_err err;
	struct vpnr__bgp_sess *s = &p->sess;
	uint32_t peer_as;
	uint16_t hold, ka;
	char nb[64];

	memset(&err, 0, sizeof(err));
	if (vpnr__bgp_open_parse(msg, len, &o, &err) != 0) {
		p->malformed++;
		conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
		return CONN_GONE;
	}
	peer_as = vpnr__bgp_open_peer_as(&o);
	if (peer_as != p->cfg.remote_as) {
		uint8_t d[2] = { (uint8_t)(o.my_as2 >> 8), (uint8_t)o.my_as2 };

		if (vpnr__log_ratelimit(&p->log_last, now))
			vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
			    "peer %s: OPEN with AS %u, expected %u",
			    peer_name(p, nb, sizeof(nb)), peer_as,
			    p->cfg.remote_as);
		vpnr__bgp_err_set(&err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_PEER_AS, d, sizeof(d));
		conn_close(c, &err, VPNR_ERR_AUTH_FAILED, 0, now);
		return CONN_GONE;
	}
	if (o.bgp_id == local_router_id(p) && peer_as == p->ctx->cfg.local_as) {
		vpnr__bgp_err_set(&err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_BGP_ID, NULL, 0);
		conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
		return CONN_GONE;
	}
	c->peer_as = peer_as;
	c->peer_id = o.bgp_id;
	c->peer_hold = o.hold_time;
	c->open_rcvd = 1;
	if (collision(c, now) == CONN_GONE)
		return CONN_GONE;

	/* Negotiate (the session parameters of the surviving conn). */
	memset(s, 0, sizeof(*s));
	hold = p->cfg.hold_s < o.hold_time ? p->cfg.hold_s : o.hold_time;
	ka = p->cfg.keepalive_s ? p->cfg.keepalive_s : hold / 3;
	if (ka > hold / 3)
		ka = hold / 3;
	if (hold != 0 && ka == 0)
		ka = 1;
	s->hold_s = hold;
	s->ka_s = hold ? ka : 0;
	s->as4 = (o.caps & VPNR__BGP_CAPF_AS4) != 0;
	s->rr = (o.caps & VPNR__BGP_CAPF_RREFRESH) != 0;
	if (o.caps & VPNR__BGP_CAPF_MP)
		s->afi = p->cfg.afi_mask & o.mp_aids;
	else
		s->afi = p->cfg.afi_mask & 1; /* RFC 4760: IPv4 implied */
	if (o.caps & VPNR__BGP_CAPF_GR) {
		s->gr = 1;
		s->gr_afi = o.gr_fwd_aids;
		s->gr_time = o.gr_time;
	}
	s->peer_id = o.bgp_id;
	s->peer_as = peer_as;

	c->state = BGP_ST_OPENCONFIRM;
	arm_hold(c, now);
	arm_ka(c, now);
	peer_update_state(p);
	return send_keepalive(c) == VPNR_OK ? 0 : 0;
}

static int
become_established(struct vpnr__bgp_conn *c, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp_conn *o = p->conn[c->outgoing ? 1 : 0];
	struct vpnr__bgp_err err;
	char nb[64];

	if (o != NULL) {
		vpnr__bgp_err_set(&err, VPNR__BGP_ERR_CEASE,
		    VPNR__BGP_CEASE_COLLISION, NULL, 0);
		conn_close(o, &err, VPNR_OK, 0, now);
	}
	c->state = BGP_ST_ESTABLISHED;
	p->est = c;
	p->est_at = now;
	peer_update_state(p);
	arm_hold(c, now);
	vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
	    "peer %s AS%u: established (hold %us%s%s)",
	    peer_name(p, nb, sizeof(nb)), p->sess.peer_as, p->sess.hold_s,
	    (p->sess.afi & 1) ? ", ipv4" : "",
	    (p->sess.afi & 2) ? ", ipv6" : "");
	vpnr__bgp_peer_established(p, now);
	(void)vpnr__bgp_emit(p, VPNR_BGP_EV_ESTABLISHED, VPNR_OK, 0, 0, 0);
	return 0;
}

static int
handle_notification(struct vpnr__bgp_conn *c, const uint8_t *msg, size_t len,
    vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp_notif n;
	struct vpnr__bgp_err err;
	char nb[64];

	memset(&err, 0, sizeof(err));
	if (vpnr__bgp_notif_parse(msg, len, &n) == 0) {
		vpnr__log(p->ctx, VPNR_LOG_NOTICE, "bgp",
		    "peer %s: NOTIFICATION received: %s / %s",
		    peer_name(p, nb, sizeof(nb)),
		    vpnr__bgp_err_code_name(n.code),
		    vpnr__bgp_err_subcode_name(n.code, n.subcode));
		err.code = n.code;
		err.subcode = n.subcode;
		p->last_notif_code = n.code;
		p->last_notif_sub = n.subcode;
		p->last_reason = VPNR_ERR_PEER_ERROR;
	}
	/* Do not answer a NOTIFICATION with one. */
	c->host_closed = 0;
	{
		int was_est = p->est == c;

		vpnr__cb_transport_close(p->ctx, c->tid);
		c->host_closed = 1;
		conn_free(c);
		if (was_est) {
			p->last_reason = VPNR_ERR_PEER_ERROR;
			p->last_notif_code = err.code;
			p->last_notif_sub = err.subcode;
			p->flaps++;
			/* RFC 8538 N bit not negotiated: no GR */
			vpnr__bgp_peer_down(p, 0, now);
			(void)vpnr__bgp_emit(p, VPNR_BGP_EV_DOWN,
			    VPNR_ERR_PEER_ERROR, err.code, err.subcode, 0);
		}
		peer_update_state(p);
	}
	return CONN_GONE;
}

static int
handle_msg(struct vpnr__bgp_conn *c, uint8_t type, const uint8_t *msg,
    size_t len, vpnr_tstamp now)
{
	struct vpnr__bgp_peer *p = c->peer;
	struct vpnr__bgp_err err;
	int rv;

	p->rx_msgs++;
	if (type == VPNR__BGP_NOTIFICATION)
		return handle_notification(c, msg, len, now);
	switch (c->state) {
	case BGP_ST_OPENSENT:
		if (type != VPNR__BGP_OPEN)
			return fsm_error(c, type, now);
		return handle_open(c, msg, len, now);
	case BGP_ST_OPENCONFIRM:
		if (type != VPNR__BGP_KEEPALIVE)
			return fsm_error(c, type, now);
		if (vpnr__bgp_keepalive_parse(msg, len, &err) != 0) {
			conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
			return CONN_GONE;
		}
		return become_established(c, now);
	case BGP_ST_ESTABLISHED:
		arm_hold(c, now);
		switch (type) {
		case VPNR__BGP_KEEPALIVE:
			if (vpnr__bgp_keepalive_parse(msg, len, &err) != 0) {
				conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
				return CONN_GONE;
			}
			return 0;
		case VPNR__BGP_UPDATE:
			rv = vpnr__bgp_peer_update(p, msg, len, now);
			return p->est != c ? CONN_GONE : (rv < 0 ? 0 : 0);
		case VPNR__BGP_ROUTE_REFRESH:
			vpnr__bgp_peer_refresh(p, msg, len, now);
			return p->est != c ? CONN_GONE : 0;
		default:
			return fsm_error(c, type, now);
		}
	default:
		return fsm_error(c, type, now);
	}
}

/* Reset the session from peer.c (UPDATE error, max-prefix). */
void vpnr__bgp_session_reset(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_err *err, int32_t reason, vpnr_tstamp now);
void
vpnr__bgp_session_reset(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_err *err, int32_t reason, vpnr_tstamp now)
{
	if (p->est != NULL)
		conn_close(p->est, err, reason, 0, now);
}

static int
rx_append(struct vpnr__bgp_conn *c, const uint8_t *data, size_t n)
{
	if (c->rx == NULL) {
		c->rx = vpnr__malloc(c->peer->ctx->mem, BGP_RX_MAX);
		if (c->rx == NULL)
			return VPNR_ERR_NOMEM;
		c->rx_cap = BGP_RX_MAX;
	}
	memcpy(c->rx + c->rx_len, data, n);
	c->rx_len += n;
	return VPNR_OK;
}

int
vpnr__bgp_fsm_recv(struct vpnr__bgp_conn *c, const uint8_t *data, size_t len,
    vpnr_tstamp now)
{
	struct vpnr__bgp_err err;
	size_t need, take;
	uint8_t type;
	int r;

	if (c->state < BGP_ST_OPENSENT)
		return VPNR_ERR_INVALID_STATE;
	/* Finish a partial message first. */
	while (c->rx_len > 0) {
		memset(&err, 0, sizeof(err));
		r = vpnr__bgp_frame(c->rx, c->rx_len, BGP_RX_MAX, &need, &type,
		    &err);
		if (r < 0)
			goto bad;
		if (r == 1) {
			c->rx_len = 0;
			if (handle_msg(c, type, c->rx, need, now) == CONN_GONE)
				return VPNR_OK;
			/* nor a receive buffer */
			vpnr__free(c->peer->ctx->mem, c->rx);
			c->rx = NULL;
			c->rx_cap = 0;
			break;
		}
		if (len == 0)
			return VPNR_OK;
		take = need - c->rx_len;
		if (take > len)
			take = len;
		if (rx_append(c, data, take) != VPNR_OK)
			return VPNR_ERR_NOMEM;
		data += take;
		len -= take;
	}
	while (len > 0) {
		memset(&err, 0, sizeof(err));
		r = vpnr__bgp_frame(data, len, BGP_RX_MAX, &need, &type, &err);
		if (r < 0)
			goto bad;
		if (r == 0)
			return rx_append(c, data, len);
		if (handle_msg(c, type, data, need, now) == CONN_GONE)
			return VPNR_OK;
		data += need;
		len -= need;
	}
	return VPNR_OK;
bad:
	c->peer->malformed++;
	conn_close(c, &err, VPNR_ERR_MALFORMED, 0, now);
	return VPNR_OK;
}
