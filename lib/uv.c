/*
 * libuv driver for a vpnr_ctx (see include/vpnroute/vpnroute_uv.h).
 *
 * Written only against the public API, the way a host would write it:
 * it owns two UDP sockets (IKE and NAT-T), an optional BGP listener,
 * one TCP handle per BGP transport, the expiry timer and a zero-delay
 * "defer" timer that reports transport failures detected inside a
 * vpnr callback (where driving calls are forbidden).
 *
 * Every driving call is followed by a re-arm of the expiry timer; the
 * context's expiry_changed callback re-arms it too.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

#include "vstruct.h" /* header-only: the versioned-struct copies */

/* Sizes of each vpnr_uv_options version (see vstruct.h). */
#define VS_UV_OPTIONS VPNR__VEND(vpnr_uv_options, log_level)
_Static_assert(VPNR__VEND(vpnr_uv_options, log_level) ==
	sizeof(vpnr_uv_options),
    "vpnr_uv_options grew: add VPNR_UV_OPTIONS_V<n> and VS_UV_OPTIONS");

#define UV_DGRAM_MAX     65536 /* libuv's recvmmsg chunk size */
#define UV_MMSG_CHUNKS   8     /* datagrams per recvmmsg batch on 4500 */
#define UV_TCP_READ_SIZE 65536
#define UV_TCP_LIMIT_DEF (1024 * 1024)
#define UV_MD5_MAXKEY    80 /* TCP_MD5SIG_MAXKEYLEN */
#define UV_LOG_LINE      256
#define UV_RATELIMIT_NS  (10 * VPNR_SECONDS)

enum tr_state { TR_CONNECTING = 1, TR_OPEN, TR_CLOSING };

/* One BGP TCP connection. */
struct uv_tr {
	RB_ENTRY(uv_tr) entry;
	vpnr_uv *uv;
	uint64_t id; /* 0 while an accepted socket is being registered */
	uv_tcp_t tcp;
	uv_connect_t connect;
	size_t queued; /* bytes in pending uv_write requests */
	int state;
	int want_writable;
	int in_tree;
};
RB_HEAD(uv_tr_tree, uv_tr);

/* One uv_write request and a copy of its bytes. */
struct uv_wreq {
	uv_write_t req;
	struct uv_tr *tr;
	size_t len;
	uint8_t data[];
};

/* Transport outcome to report from the loop (not from a callback). */
struct uv_deferred {
	STAILQ_ENTRY(uv_deferred) entry;
	uint64_t id;
	int connect; /* 1: vpnr_transport_connected, 0: _closed */
	int status;
};
STAILQ_HEAD(uv_deferred_q, uv_deferred);

#define H_TIMER    0x01
#define H_DEFER    0x02
#define H_UDP_IKE  0x04
#define H_UDP_NATT 0x08
#define H_LISTENER 0x10

struct vpnr_uv {
	uv_loop_t *loop;
	vpnr_ctx *ctx;
	vpnr_mem mem_store;
	const vpnr_mem *mem;
	vpnr_callbacks host_cb; /* the host's events, log, rand */
	void *host_ud;
	vpnr_uv_options opts;
	uint16_t ike_port;
	uint16_t natt_port;
	size_t tcp_limit;
	int log_level;

	uv_timer_t timer;
	uv_timer_t defer_timer;
	uv_udp_t udp_ike;
	uv_udp_t udp_natt;
	uv_tcp_t listener;
	unsigned int handles; /* H_* initialised */
	unsigned int nopen;   /* handles whose close_cb has not run */
	vpnr_addr local_ike;  /* bound addresses, as reported */
	vpnr_addr local_natt;
	vpnr_tstamp armed_at; /* expiry the timer is armed for */
	vpnr_tstamp fired_at; /* expiry the last timer callback served */
	vpnr_tstamp last_spin_log;

	struct uv_tr_tree trs;
	struct uv_tr *accepting; /* inside vpnr_transport_accepted() */
	struct uv_deferred_q deferred;

	int closing;
	int dead; /* the context returned a fatal error */
	void (*on_closed)(void *arg);
	void *on_closed_arg;

	vpnr_tstamp last_send_log;
	vpnr_tstamp last_recv_log;
	uint8_t ike_buf[UV_DGRAM_MAX];
	uint8_t *natt_buf; /* UV_MMSG_CHUNKS * UV_DGRAM_MAX */
	uint8_t tcp_buf[UV_TCP_READ_SIZE];
};

static int
tr_cmp(const struct uv_tr *a, const struct uv_tr *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}
RB_GENERATE_STATIC(uv_tr_tree, uv_tr, entry, tr_cmp)

static void uv_rearm(vpnr_uv *uv);

/* ------------------------------------------------------------------ */
/* Memory, log, addresses                                              */

static void *
uv_zalloc(vpnr_uv *uv, const vpnr_mem *mem, size_t size)
{
	void *p;

	if (uv != NULL)
		mem = uv->mem;
	if (mem != NULL && mem->zalloc_fn != NULL)
		return mem->zalloc_fn(1, size, mem->user_data);
	if (mem != NULL && mem->alloc_fn != NULL) {
		if ((p = mem->alloc_fn(size, mem->user_data)) != NULL)
			memset(p, 0, size);
		return p;
	}
	return calloc(1, size);
}

static void
uv_free(const vpnr_mem *mem, void *p)
{
	if (p == NULL)
		return;
	if (mem != NULL && mem->free_fn != NULL)
		mem->free_fn(p, mem->user_data);
	else
		free(p);
}

static void uv_log(vpnr_uv *uv, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
uv_log(vpnr_uv *uv, int level, const char *fmt, ...)
{
	char line[UV_LOG_LINE];
	va_list ap;
	int n;

	if (level > uv->log_level || uv->host_cb.log_msg == NULL ||
	    uv->ctx == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	uv->host_cb.log_msg(uv->ctx, level, "uv", line, (size_t)n, uv->host_ud);
}

static int
ratelimit(vpnr_tstamp *last, vpnr_tstamp now)
{
	if (*last != 0 && now - *last < UV_RATELIMIT_NS)
		return 0;
	*last = now;
	return 1;
}

/* vpnr_addr -> sockaddr; returns the sockaddr length or 0. */
static socklen_t
addr_to_sa(const vpnr_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	switch (a->family) {
	case VPNR_AF_INET:
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	case VPNR_AF_INET6:
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_scope_id = a->scope_id;
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	default:
		return 0;
	}
}

static int
sa_to_addr(const struct sockaddr *sa, vpnr_addr *a)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	memset(a, 0, sizeof(*a));
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		a->family = VPNR_AF_INET;
		a->port = ntohs(sin->sin_port);
		memcpy(a->bytes, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		a->family = VPNR_AF_INET6;
		a->port = ntohs(sin6->sin6_port);
		a->scope_id = sin6->sin6_scope_id;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		return 0;
	default:
		return -1;
	}
}

static int
af_of(const vpnr_addr *a)
{
	return a->family == VPNR_AF_INET6 ? AF_INET6 : AF_INET;
}

/* libuv error -> the closest vpnr error for transport statuses. */
static int
map_uv_err(int err)
{
	switch (err) {
	case 0:
		return VPNR_OK;
	case UV_ETIMEDOUT:
		return VPNR_ERR_TIMEOUT;
	case UV_EOF:
	case UV_ECONNREFUSED:
	case UV_ECONNRESET:
	case UV_ECONNABORTED:
	case UV_EPIPE:
	case UV_EHOSTUNREACH:
	case UV_ENETUNREACH:
		return VPNR_ERR_PEER_CLOSED;
	case UV_ENOMEM:
	case UV_ENOBUFS:
		return VPNR_ERR_NOMEM;
	default:
		return VPNR_ERR_INVALID_STATE;
	}
}

/* ------------------------------------------------------------------ */
/* Driving calls                                                       */

/* Called after every driving call: log failures, re-arm the timer. */
static void
uv_after(vpnr_uv *uv, int rc, const char *what)
{
	if (rc < 0) {
		if (vpnr_err_is_fatal(rc)) {
			if (!uv->dead)
				uv_log(uv, VPNR_LOG_ERR,
				    "%s: fatal %s (%s): context unusable", what,
				    vpnr_err_name(rc),
				    vpnr_ctx_last_error(uv->ctx));
			uv->dead = 1;
		} else
			uv_log(uv, VPNR_LOG_DEBUG, "%s: %s", what,
			    vpnr_err_name(rc));
	}
	uv_rearm(uv);
}

static void
on_timer(uv_timer_t *t)
{
	vpnr_uv *uv = t->data;
	int rc;

	uv->fired_at = uv->armed_at;
	uv->armed_at = VPNR_TSTAMP_NEVER;
	rc = vpnr_ctx_handle_expiry(uv->ctx, vpnr_uv_now(uv));
	uv_after(uv, rc, "handle_expiry");
}

static void
uv_rearm_at(vpnr_uv *uv, vpnr_tstamp expiry)
{
	vpnr_tstamp now;
	uint64_t ms;

	if (uv->closing || !(uv->handles & H_TIMER))
		return;
	if (expiry == VPNR_TSTAMP_NEVER || uv->dead) {
		/* A dead context only answers with its fatal error. */
		uv_timer_stop(&uv->timer);
		uv->armed_at = VPNR_TSTAMP_NEVER;
		return;
	}
	if (expiry == uv->armed_at && uv_is_active((uv_handle_t *)&uv->timer))
		return;
	now = vpnr_uv_now(uv);
	/* Round up so that the timer never fires before the expiry. */
	ms = expiry > now ?
	    (expiry - now + VPNR_MILLISECONDS - 1) / VPNR_MILLISECONDS :
	    0;
	if (ms == 0 && expiry == uv->fired_at) {
		/* handle_expiry() left this deadline in place: do not spin. */
		if (ratelimit(&uv->last_spin_log, now))
			uv_log(uv, VPNR_LOG_WARNING,
			    "expiry did not advance after handle_expiry");
		ms = 1;
	}
	/* The loop's cached time may be stale inside long callbacks. */
	uv_update_time(uv->loop);
	uv_timer_start(&uv->timer, on_timer, ms, 0);
	uv->armed_at = expiry;
}

static void
uv_rearm(vpnr_uv *uv)
{
	if (uv->ctx != NULL)
		uv_rearm_at(uv, vpnr_ctx_get_expiry(uv->ctx));
}

/* ------------------------------------------------------------------ */
/* Transports                                                          */

static struct uv_tr *
tr_find(vpnr_uv *uv, uint64_t id)
{
	struct uv_tr key, *tr;

	key.id = id;
	if ((tr = RB_FIND(uv_tr_tree, &uv->trs, &key)) != NULL)
		return tr;
	/*
	 * The context may use a freshly accepted transport (send its
	 * OPEN) before vpnr_transport_accepted() has returned its id.
	 */
	if ((tr = uv->accepting) != NULL && tr->id == 0) {
		tr->id = id;
		RB_INSERT(uv_tr_tree, &uv->trs, tr);
		tr->in_tree = 1;
		return tr;
	}
	return NULL;
}

static void uv_finish(vpnr_uv *uv);

static void
on_tr_closed(uv_handle_t *h)
{
	struct uv_tr *tr = h->data;
	vpnr_uv *uv = tr->uv;

	uv_free(uv->mem, tr);
	uv->nopen--;
	if (uv->closing && uv->nopen == 0)
		uv_finish(uv);
}

/* Stop using tr: out of the tree, handle closed, freed in close_cb. */
static void
tr_close(struct uv_tr *tr)
{
	vpnr_uv *uv = tr->uv;

	if (tr->state == TR_CLOSING)
		return;
	tr->state = TR_CLOSING;
	if (tr->in_tree) {
		RB_REMOVE(uv_tr_tree, &uv->trs, tr);
		tr->in_tree = 0;
	}
	uv_close((uv_handle_t *)&tr->tcp, on_tr_closed);
}

static void
on_defer(uv_timer_t *t)
{
	vpnr_uv *uv = t->data;
	struct uv_deferred *d;
	int rc;

	while (!uv->closing && (d = STAILQ_FIRST(&uv->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&uv->deferred, entry);
		if (d->connect)
			rc = vpnr_transport_connected(uv->ctx, d->id, d->status,
			    vpnr_uv_now(uv));
		else
			rc = vpnr_transport_closed(uv->ctx, d->id, d->status,
			    vpnr_uv_now(uv));
		uv_free(uv->mem, d);
		uv_after(uv, rc, "transport report");
	}
}

/*
 * Fail a transport: close it and tell the context, now when called
 * from the loop, else (inside a vpnr callback) from the defer timer.
 */
static void
tr_fail(struct uv_tr *tr, int connect, int status, int from_loop)
{
	vpnr_uv *uv = tr->uv;
	struct uv_deferred *d;
	uint64_t id = tr->id;
	int rc;

	tr_close(tr);
	if (id == 0 || uv->closing)
		return;
	if (from_loop) {
		if (connect)
			rc = vpnr_transport_connected(uv->ctx, id, status,
			    vpnr_uv_now(uv));
		else
			rc = vpnr_transport_closed(uv->ctx, id, status,
			    vpnr_uv_now(uv));
		uv_after(uv, rc, "transport report");
		return;
	}
	if ((d = uv_zalloc(uv, NULL, sizeof(*d))) == NULL) {
		uv_log(uv, VPNR_LOG_ERR, "transport %llu: out of memory",
		    (unsigned long long)id);
		return;
	}
	d->id = id;
	d->connect = connect;
	d->status = status;
	STAILQ_INSERT_TAIL(&uv->deferred, d, entry);
	uv_timer_start(&uv->defer_timer, on_defer, 0, 0);
}

static void
on_tr_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct uv_tr *tr = h->data;

	buf->base = (char *)tr->uv->tcp_buf;
	buf->len = sizeof(tr->uv->tcp_buf);
}

static void
on_tr_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct uv_tr *tr = s->data;
	vpnr_uv *uv = tr->uv;
	int rc;

	if (tr->state != TR_OPEN || nread == 0)
		return;
	if (nread < 0) {
		uv_log(uv, VPNR_LOG_INFO, "transport %llu: %s",
		    (unsigned long long)tr->id,
		    nread == UV_EOF ? "closed by peer" :
				      uv_strerror((int)nread));
		tr_fail(tr, 0, map_uv_err((int)nread), 1);
		return;
	}
	rc = vpnr_transport_recv(uv->ctx, tr->id, (const uint8_t *)buf->base,
	    (size_t)nread, vpnr_uv_now(uv));
	uv_after(uv, rc, "transport_recv");
}

static void
on_tr_connect(uv_connect_t *req, int status)
{
	struct uv_tr *tr = req->data;
	vpnr_uv *uv = tr->uv;
	int rc;

	if (tr->state != TR_CONNECTING)
		return; /* closed meanwhile: UV_ECANCELED */
	if (status < 0) {
		uv_log(uv, VPNR_LOG_INFO, "transport %llu: connect: %s",
		    (unsigned long long)tr->id, uv_strerror(status));
		tr_fail(tr, 1, map_uv_err(status), 1);
		return;
	}
	tr->state = TR_OPEN;
	uv_tcp_nodelay(&tr->tcp, 1);
	/* Tell BGP which source address the kernel picked (next hop). */
	{
		struct sockaddr_storage ss;
		int sslen = sizeof(ss);
		vpnr_addr local;

		if (uv_tcp_getsockname(&tr->tcp, (struct sockaddr *)&ss,
			&sslen) == 0 &&
		    sa_to_addr((struct sockaddr *)&ss, &local) == 0)
			(void)vpnr_transport_set_local(uv->ctx, tr->id, &local);
	}
	if ((rc = uv_read_start((uv_stream_t *)&tr->tcp, on_tr_alloc,
		 on_tr_read)) < 0) {
		tr_fail(tr, 1, map_uv_err(rc), 1);
		return;
	}
	rc =
	    vpnr_transport_connected(uv->ctx, tr->id, VPNR_OK, vpnr_uv_now(uv));
	uv_after(uv, rc, "transport_connected");
}

static void
on_tr_write(uv_write_t *req, int status)
{
	struct uv_wreq *w = req->data;
	struct uv_tr *tr = w->tr;
	vpnr_uv *uv = tr->uv;
	int rc;

	tr->queued -= w->len;
	uv_free(uv->mem, w);
	if (tr->state == TR_CLOSING || status == UV_ECANCELED)
		return;
	if (status < 0) {
		uv_log(uv, VPNR_LOG_INFO, "transport %llu: write: %s",
		    (unsigned long long)tr->id, uv_strerror(status));
		tr_fail(tr, 0, map_uv_err(status), 1);
		return;
	}
	if (tr->want_writable && tr->queued <= uv->tcp_limit / 2) {
		tr->want_writable = 0;
		rc = vpnr_transport_writable(uv->ctx, tr->id, vpnr_uv_now(uv));
		uv_after(uv, rc, "transport_writable");
	}
}

/* Set the RFC 2385 key for peer on fd; len 0 removes it. */
static int
set_md5(int fd, const vpnr_addr *peer, const uint8_t *key, size_t len)
{
	struct tcp_md5sig sig;

	if (len > UV_MD5_MAXKEY || len > sizeof(sig.tcpm_key))
		return VPNR_ERR_INVALID_ARGUMENT;
	memset(&sig, 0, sizeof(sig));
	if (addr_to_sa(peer, 0, &sig.tcpm_addr) == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	sig.tcpm_keylen = (uint16_t)len;
	if (len > 0)
		memcpy(sig.tcpm_key, key, len);
	if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) {
		explicit_bzero(&sig, sizeof(sig));
		return VPNR_ERR_UNSUPPORTED;
	}
	explicit_bzero(&sig, sizeof(sig));
	return VPNR_OK;
}

static void
set_freebind(int fd, int af)
{
	int on = 1;

#ifdef IP_FREEBIND
	if (af == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
#endif
#ifdef IPV6_FREEBIND
	if (af == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on,
		    sizeof(on));
#endif
	(void)on;
}

static int
cb_transport_open(vpnr_ctx *ctx, uint64_t id, const vpnr_addr *local,
    const vpnr_addr *remote, uint8_t ttl, const uint8_t *md5_key,
    size_t md5_len, void *user_data)
{
	vpnr_uv *uv = user_data;
	struct sockaddr_storage ss;
	struct uv_tr *tr;
	uv_os_fd_t fd;
	int af, rc, v;
	char rbuf[64];

	if (uv->closing)
		return VPNR_OK; /* the context is about to be deleted */
	if ((tr = uv_zalloc(uv, NULL, sizeof(*tr))) == NULL)
		return VPNR_ERR_NOMEM;
	tr->uv = uv;
	tr->id = id;
	tr->state = TR_CONNECTING;
	af = af_of(remote);
	if ((rc = uv_tcp_init_ex(uv->loop, &tr->tcp, af)) < 0) {
		uv_log(uv, VPNR_LOG_ERR, "transport %llu: socket: %s",
		    (unsigned long long)id, uv_strerror(rc));
		uv_free(uv->mem, tr);
		return VPNR_ERR_NOMEM;
	}
	uv->nopen++;
	tr->tcp.data = tr;
	tr->connect.data = tr;
	RB_INSERT(uv_tr_tree, &uv->trs, tr);
	tr->in_tree = 1;
	vpnr_addr_format(remote, rbuf, sizeof(rbuf));

	if ((rc = uv_fileno((uv_handle_t *)&tr->tcp, &fd)) < 0)
		goto fail;
	if (ttl != 0) {
		v = ttl;
		if (af == AF_INET)
			rc = setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v));
		else
			rc = setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v,
			    sizeof(v));
		if (rc < 0)
			uv_log(uv, VPNR_LOG_WARNING,
			    "transport %llu: cannot set TTL %u",
			    (unsigned long long)id, ttl);
	}
	if (md5_key != NULL && md5_len > 0) {
		/* Never fall back to an unsigned session. */
		if ((rc = set_md5(fd, remote, md5_key, md5_len)) < 0) {
			uv_log(uv, VPNR_LOG_ERR,
			    "transport %llu: TCP-MD5 for %s refused",
			    (unsigned long long)id, rbuf);
			rc = UV_EINVAL;
			goto fail;
		}
		/* The same peer may connect to us as well. */
		if (uv->handles & H_LISTENER)
			(void)vpnr_uv_set_md5(uv, remote, md5_key, md5_len);
	}
	if (local != NULL && local->family != 0) {
		set_freebind(fd, af);
		if (addr_to_sa(local, local->port, &ss) == 0 ||
		    (rc = uv_tcp_bind(&tr->tcp, (struct sockaddr *)&ss, 0)) <
			0) {
			uv_log(uv, VPNR_LOG_ERR, "transport %llu: bind failed",
			    (unsigned long long)id);
			rc = rc < 0 ? rc : UV_EINVAL;
			goto fail;
		}
	}
	if (addr_to_sa(remote, remote->port != 0 ? remote->port : 179, &ss) ==
	    0) {
		rc = UV_EINVAL;
		goto fail;
	}
	if ((rc = uv_tcp_connect(&tr->connect, &tr->tcp, (struct sockaddr *)&ss,
		 on_tr_connect)) < 0)
		goto fail;
	uv_log(uv, VPNR_LOG_DEBUG, "transport %llu: connecting to %s%s",
	    (unsigned long long)id, rbuf, md5_len > 0 ? " (TCP-MD5)" : "");
	return VPNR_OK;
fail:
	uv_log(uv, VPNR_LOG_INFO, "transport %llu: open to %s failed: %s",
	    (unsigned long long)id, rbuf, uv_strerror(rc));
	tr_fail(tr, 1, map_uv_err(rc), 0);
	return VPNR_OK;
}

static int64_t
cb_transport_send(vpnr_ctx *ctx, uint64_t id, const uint8_t *data, size_t len,
    void *user_data)
{
	vpnr_uv *uv = user_data;
	struct uv_tr *tr;
	struct uv_wreq *w;
	uv_buf_t b;
	size_t n, sent = 0;
	int rc;

	if ((tr = tr_find(uv, id)) == NULL || tr->state == TR_CLOSING)
		return (int64_t)len; /* gone: its closed report follows */
	if (tr->queued >= uv->tcp_limit) {
		tr->want_writable = 1;
		return VPNR_ERR_WOULDBLOCK;
	}
	n = len;
	if (n > uv->tcp_limit - tr->queued) {
		n = uv->tcp_limit - tr->queued;
		tr->want_writable = 1;
	}
	if (n > INT64_MAX)
		n = INT64_MAX;
	/* Nothing queued: try the socket directly, copy only the rest. */
	if (tr->queued == 0 && tr->state == TR_OPEN) {
		b = uv_buf_init((char *)(uintptr_t)data, (unsigned int)n);
		if ((rc = uv_try_write((uv_stream_t *)&tr->tcp, &b, 1)) > 0)
			sent = (size_t)rc;
	}
	if (sent == n)
		return (int64_t)n;
	if ((w = uv_zalloc(uv, NULL, sizeof(*w) + (n - sent))) == NULL) {
		if (sent > 0)
			return (int64_t)sent;
		tr->want_writable = 1;
		return VPNR_ERR_WOULDBLOCK;
	}
	w->tr = tr;
	w->len = n - sent;
	w->req.data = w;
	memcpy(w->data, data + sent, w->len);
	b = uv_buf_init((char *)w->data, (unsigned int)w->len);
	if ((rc = uv_write(&w->req, (uv_stream_t *)&tr->tcp, &b, 1,
		 on_tr_write)) < 0) {
		uv_free(uv->mem, w);
		uv_log(uv, VPNR_LOG_INFO, "transport %llu: write: %s",
		    (unsigned long long)id, uv_strerror(rc));
		tr_fail(tr, 0, map_uv_err(rc), 0);
		return (int64_t)n;
	}
	tr->queued += w->len;
	return (int64_t)n;
}

static void
cb_transport_close(vpnr_ctx *ctx, uint64_t id, void *user_data)
{
	vpnr_uv *uv = user_data;
	struct uv_tr *tr;

	if ((tr = tr_find(uv, id)) != NULL)
		tr_close(tr);
}

static void
on_connection(uv_stream_t *server, int status)
{
	vpnr_uv *uv = server->data;
	struct sockaddr_storage ss;
	vpnr_addr local, remote;
	struct uv_tr *tr;
	uint64_t id = 0;
	int len, rc;

	if (status < 0) {
		uv_log(uv, VPNR_LOG_WARNING, "listener: %s",
		    uv_strerror(status));
		return;
	}
	if ((tr = uv_zalloc(uv, NULL, sizeof(*tr))) == NULL)
		return;
	tr->uv = uv;
	if (uv_tcp_init(uv->loop, &tr->tcp) < 0) {
		uv_free(uv->mem, tr);
		return;
	}
	uv->nopen++;
	tr->tcp.data = tr;
	tr->state = TR_OPEN;
	if ((rc = uv_accept(server, (uv_stream_t *)&tr->tcp)) < 0)
		goto drop;
	len = sizeof(ss);
	if (uv_tcp_getsockname(&tr->tcp, (struct sockaddr *)&ss, &len) < 0 ||
	    sa_to_addr((struct sockaddr *)&ss, &local) < 0)
		goto drop;
	len = sizeof(ss);
	if (uv_tcp_getpeername(&tr->tcp, (struct sockaddr *)&ss, &len) < 0 ||
	    sa_to_addr((struct sockaddr *)&ss, &remote) < 0)
		goto drop;
	uv_tcp_nodelay(&tr->tcp, 1);
	if (uv_read_start((uv_stream_t *)&tr->tcp, on_tr_alloc, on_tr_read) < 0)
		goto drop;
	uv->accepting = tr;
	rc = vpnr_transport_accepted(uv->ctx, &local, &remote, &id,
	    vpnr_uv_now(uv));
	uv->accepting = NULL;
	if (rc < 0 || id == 0) {
		char rbuf[64];

		uv_log(uv, VPNR_LOG_INFO, "refused BGP connection from %s: %s",
		    vpnr_addr_format(&remote, rbuf, sizeof(rbuf)),
		    vpnr_err_name(rc));
		tr->id = 0;
		tr_close(tr);
		uv_after(uv, rc, "transport_accepted");
		return;
	}
	if (uv->closing) {
		/* vpnr_uv_close() from inside the accept. */
		tr_close(tr);
		return;
	}
	if (!tr->in_tree && tr->state != TR_CLOSING) {
		tr->id = id;
		RB_INSERT(uv_tr_tree, &uv->trs, tr);
		tr->in_tree = 1;
	}
	uv_after(uv, rc, "transport_accepted");
	return;
drop:
	tr_close(tr);
}

/* ------------------------------------------------------------------ */
/* UDP                                                                 */

static void
on_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	vpnr_uv *uv = h->data;

	if (h == (uv_handle_t *)&uv->udp_natt && uv->natt_buf != NULL) {
		buf->base = (char *)uv->natt_buf;
		buf->len = UV_MMSG_CHUNKS * UV_DGRAM_MAX;
	} else {
		buf->base = (char *)uv->ike_buf;
		buf->len = sizeof(uv->ike_buf);
	}
}

static void
on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *sa, unsigned flags)
{
	vpnr_uv *uv = h->data;
	const uint8_t *data = (const uint8_t *)buf->base;
	int natt = h == &uv->udp_natt;
	const vpnr_addr *local = natt ? &uv->local_natt : &uv->local_ike;
	vpnr_addr remote;
	int rc;

	if (nread < 0) {
		if (ratelimit(&uv->last_recv_log, vpnr_uv_now(uv)))
			uv_log(uv, VPNR_LOG_WARNING, "udp %u: recv: %s",
			    local->port, uv_strerror((int)nread));
		return;
	}
	/* nread 0 with no address: nothing more (or the MMSG_FREE). */
	if (sa == NULL || nread == 0 || uv->closing ||
	    sa_to_addr(sa, &remote) < 0)
		return;
	if (natt) {
		switch (vpnr_udp_classify(data, (size_t)nread)) {
		case VPNR_UDP_IKE:
			break; /* marker stripped by recv_datagram */
		case VPNR_UDP_ESP:
			if (uv->opts.on_esp != NULL)
				uv->opts.on_esp(uv, local, &remote, data,
				    (size_t)nread, uv->opts.on_esp_arg);
			return;
		case VPNR_UDP_KEEPALIVE:
		default:
			return;
		}
	}
	rc = vpnr_ctx_recv_datagram(uv->ctx, local, &remote, data,
	    (size_t)nread, vpnr_uv_now(uv));
	uv_after(uv, rc, "recv_datagram");
}

static int
udp_send(vpnr_uv *uv, uv_udp_t *h, const vpnr_addr *remote, const uint8_t *data,
    size_t len)
{
	struct sockaddr_storage ss;
	uv_buf_t b;
	int rc;

	if (uv->closing)
		return VPNR_ERR_INVALID_STATE;
	if (len > UINT32_MAX || addr_to_sa(remote, remote->port, &ss) == 0 ||
	    remote->port == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	b = uv_buf_init((char *)(uintptr_t)data, (unsigned int)len);
	rc = uv_udp_try_send(h, &b, 1, (struct sockaddr *)&ss);
	if (rc >= 0)
		return VPNR_OK;
	if (ratelimit(&uv->last_send_log, vpnr_uv_now(uv)))
		uv_log(uv, VPNR_LOG_WARNING, "udp send to port %u: %s",
		    remote->port, uv_strerror(rc));
	return rc == UV_EAGAIN || rc == UV_ENOBUFS ? VPNR_ERR_WOULDBLOCK :
						     VPNR_ERR_INVALID_STATE;
}

static int
cb_send_datagram(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *user_data)
{
	vpnr_uv *uv = user_data;
	uv_udp_t *h;

	h = local != NULL && local->port == uv->natt_port ? &uv->udp_natt :
							    &uv->udp_ike;
	/* IKE retransmits: a failed send is logged, never an error. */
	(void)udp_send(uv, h, remote, data, len);
	return VPNR_OK;
}

/* ------------------------------------------------------------------ */
/* The host's callbacks, with the host's user_data                     */

static void
cb_expiry_changed(vpnr_ctx *ctx, vpnr_tstamp expiry, void *user_data)
{
	uv_rearm_at(user_data, expiry);
}

static int
cb_rand_bytes(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *user_data)
{
	vpnr_uv *uv = user_data;

	return uv->host_cb.rand_bytes(ctx, buf, len, uv->host_ud);
}

static int
cb_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *user_data)
{
	vpnr_uv *uv = user_data;
	int rc;

	rc = uv->host_cb.tunnel_event(ctx, ev, uv->host_ud);
	return rc;
}

static int
cb_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *user_data)
{
	vpnr_uv *uv = user_data;
	int rc;

	rc = uv->host_cb.bgp_event(ctx, ev, uv->host_ud);
	return rc;
}

static void
cb_log_msg(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *user_data)
{
	vpnr_uv *uv = user_data;

	uv->host_cb.log_msg(ctx, level, subsys, msg, len, uv->host_ud);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

static void
uv_finish(vpnr_uv *uv)
{
	void (*on_closed)(void *) = uv->on_closed;
	void *arg = uv->on_closed_arg;
	const vpnr_mem *mem = uv->mem;
	struct uv_deferred *d;

	/* Callbacks from vpnr_ctx_del() find a closing driver. */
	vpnr_ctx_del(uv->ctx);
	uv->ctx = NULL;
	while ((d = STAILQ_FIRST(&uv->deferred)) != NULL) {
		STAILQ_REMOVE_HEAD(&uv->deferred, entry);
		uv_free(uv->mem, d);
	}
	uv_free(mem, uv->natt_buf);
	if (mem != NULL) {
		vpnr_mem m = *mem;

		uv_free(&m, uv);
	} else
		uv_free(NULL, uv);
	if (on_closed != NULL)
		on_closed(arg);
}

static void
uv_handle_closed(uv_handle_t *h)
{
	vpnr_uv *uv = h->data;

	uv->nopen--;
	if (uv->closing && uv->nopen == 0)
		uv_finish(uv);
}

static void
uv_begin_close(vpnr_uv *uv)
{
	struct uv_tr *tr, *next;

	uv->closing = 1;
	if (uv->handles & H_TIMER)
		uv_close((uv_handle_t *)&uv->timer, uv_handle_closed);
	if (uv->handles & H_DEFER)
		uv_close((uv_handle_t *)&uv->defer_timer, uv_handle_closed);
	if (uv->handles & H_UDP_IKE)
		uv_close((uv_handle_t *)&uv->udp_ike, uv_handle_closed);
	if (uv->handles & H_UDP_NATT)
		uv_close((uv_handle_t *)&uv->udp_natt, uv_handle_closed);
	if (uv->handles & H_LISTENER)
		uv_close((uv_handle_t *)&uv->listener, uv_handle_closed);
	uv->handles = 0;
	RB_FOREACH_SAFE(tr, uv_tr_tree, &uv->trs, next)
		tr_close(tr);
	if (uv->nopen == 0)
		uv_finish(uv);
}

/*
 * IKE's sockets get a bigger receive buffer than the kernel's default
 * 208 KiB: a thousand peers initiating at once overflow it, and each
 * datagram dropped there costs a 1 s retransmission (measured with
 * tests/bench/bench_udp_scale.sh: 131-627 drops at N = 1,000, and
 * 309-902 tunnels/s instead of about 2,300).  The FORCE variant passes
 * rmem_max when privileged; unprivileged, rmem_max caps it.
 */
#define UDP_RCVBUF (4 << 20)

static void
udp_rcvbuf(uv_udp_t *h)
{
	uv_os_fd_t fd;
	int size = UDP_RCVBUF;

	if (uv_fileno((uv_handle_t *)h, &fd) < 0)
		return;
#ifdef SO_RCVBUFFORCE
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) ==
	    0)
		return;
#endif
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

static int
udp_open(vpnr_uv *uv, uv_udp_t *h, unsigned int flag, uint16_t port,
    unsigned int extra_flags, vpnr_addr *bound)
{
	struct sockaddr_storage ss;
	char abuf[64];
	int len, rc;

	if ((rc = uv_udp_init_ex(uv->loop, h,
		 af_of(&uv->opts.bind_addr) | extra_flags)) < 0)
		goto fail;
	h->data = uv;
	uv->handles |= flag;
	uv->nopen++;
	addr_to_sa(&uv->opts.bind_addr, port, &ss);
	if ((rc = uv_udp_bind(h, (struct sockaddr *)&ss, 0)) < 0)
		goto fail;
	udp_rcvbuf(h);
	len = sizeof(ss);
	if ((rc = uv_udp_getsockname(h, (struct sockaddr *)&ss, &len)) < 0)
		goto fail;
	sa_to_addr((struct sockaddr *)&ss, bound);
	if ((rc = uv_udp_recv_start(h, on_udp_alloc, on_udp_recv)) < 0)
		goto fail;
	return VPNR_OK;
fail:
	uv_log(uv, VPNR_LOG_ERR, "udp %s port %u: %s",
	    vpnr_addr_format(&uv->opts.bind_addr, abuf, sizeof(abuf)), port,
	    uv_strerror(rc));
	return rc == UV_ENOMEM ? VPNR_ERR_NOMEM : VPNR_ERR_INVALID_STATE;
}

static int
listener_open(vpnr_uv *uv)
{
	struct sockaddr_storage ss;
	vpnr_addr *la = &uv->opts.bgp_listen_addr;
	uv_os_fd_t fd;
	char abuf[64];
	int rc;

	if ((rc = uv_tcp_init_ex(uv->loop, &uv->listener, af_of(la))) < 0)
		goto fail;
	uv->listener.data = uv;
	uv->handles |= H_LISTENER;
	uv->nopen++;
	if (uv_fileno((uv_handle_t *)&uv->listener, &fd) == 0)
		set_freebind(fd, af_of(la));
	addr_to_sa(la, la->port != 0 ? la->port : 179, &ss);
	if ((rc = uv_tcp_bind(&uv->listener, (struct sockaddr *)&ss, 0)) < 0)
		goto fail;
	if ((rc = uv_listen((uv_stream_t *)&uv->listener, 16, on_connection)) <
	    0)
		goto fail;
	return VPNR_OK;
fail:
	uv_log(uv, VPNR_LOG_ERR, "BGP listener %s: %s",
	    vpnr_addr_format(la, abuf, sizeof(abuf)), uv_strerror(rc));
	return VPNR_ERR_INVALID_STATE;
}

int
vpnr_uv_new_versioned(vpnr_uv **puv, uv_loop_t *loop, const vpnr_config *cfg,
    int callbacks_version, const vpnr_callbacks *cb, void *user_data,
    int dataplane_version, const vpnr_dataplane *dp, void *dp_data,
    int options_version, const vpnr_uv_options *opts)
{
	vpnr_config *own_cfg = NULL;
	vpnr_callbacks wcb, host_cb;
	vpnr_uv_options opts_copy;
	vpnr_uv *uv;
	int rc;

	if (puv != NULL)
		*puv = NULL;
	if (puv == NULL || loop == NULL || opts == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	/* The host's structs of its versions, zero-extended to ours. */
	if (VPNR__VCOPY_IN(&host_cb, cb, callbacks_version,
		VPNR__VS_CALLBACKS) != VPNR_OK ||
	    VPNR__VCOPY_IN(&opts_copy, opts, options_version, VS_UV_OPTIONS) !=
		VPNR_OK)
		return VPNR_ERR_INVALID_ARGUMENT;
	opts = &opts_copy;
	if ((opts->bind_addr.family != VPNR_AF_INET &&
		opts->bind_addr.family != VPNR_AF_INET6) ||
	    opts->reserved != 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((uv = uv_zalloc(NULL, opts->mem, sizeof(*uv))) == NULL)
		return VPNR_ERR_NOMEM;
	if (opts->mem != NULL) {
		uv->mem_store = *opts->mem;
		uv->mem = &uv->mem_store;
	}
	uv->loop = loop;
	uv->opts = *opts;
	uv->opts.mem = uv->mem;
	uv->host_cb = host_cb;
	uv->host_ud = user_data;
	uv->ike_port = opts->ike_port != 0 ? opts->ike_port : 500;
	uv->natt_port = opts->natt_port != 0 ? opts->natt_port : 4500;
	uv->tcp_limit = opts->tcp_write_limit != 0 ? opts->tcp_write_limit :
						     UV_TCP_LIMIT_DEF;
	uv->log_level = opts->log_level != 0 ? opts->log_level : VPNR_LOG_INFO;
	uv->armed_at = VPNR_TSTAMP_NEVER;
	uv->fired_at = VPNR_TSTAMP_NEVER;
	RB_INIT(&uv->trs);
	STAILQ_INIT(&uv->deferred);

	/* The context: our I/O, the host's events. */
	memset(&wcb, 0, sizeof(wcb));
	wcb.send_datagram = cb_send_datagram;
	wcb.transport_open = cb_transport_open;
	wcb.transport_send = cb_transport_send;
	wcb.transport_close = cb_transport_close;
	wcb.expiry_changed = cb_expiry_changed;
	if (uv->host_cb.rand_bytes != NULL)
		wcb.rand_bytes = cb_rand_bytes;
	if (uv->host_cb.tunnel_event != NULL)
		wcb.tunnel_event = cb_tunnel_event;
	if (uv->host_cb.bgp_event != NULL)
		wcb.bgp_event = cb_bgp_event;
	if (uv->host_cb.log_msg != NULL)
		wcb.log_msg = cb_log_msg;
	if (cfg == NULL) {
		if ((rc = vpnr_config_new(&own_cfg, uv->mem)) < 0)
			goto fail_free;
		if ((rc = vpnr_config_set_ike_ports(own_cfg, uv->ike_port,
			 uv->natt_port)) < 0)
			goto fail_free;
		cfg = own_cfg;
	}
	rc = vpnr_ctx_new_versioned(&uv->ctx, cfg, VPNR_CALLBACKS_VERSION, &wcb,
	    uv, dataplane_version, dp, dp_data, uv->mem);
	vpnr_config_del(own_cfg);
	own_cfg = NULL;
	if (rc < 0)
		goto fail_free;

	if ((uv->natt_buf = uv_zalloc(uv, NULL,
		 UV_MMSG_CHUNKS * UV_DGRAM_MAX)) == NULL) {
		rc = VPNR_ERR_NOMEM;
		goto fail_close;
	}
	uv_timer_init(loop, &uv->timer);
	uv->timer.data = uv;
	uv->handles |= H_TIMER;
	uv->nopen++;
	uv_timer_init(loop, &uv->defer_timer);
	uv->defer_timer.data = uv;
	uv->handles |= H_DEFER;
	uv->nopen++;
	if ((rc = udp_open(uv, &uv->udp_ike, H_UDP_IKE, uv->ike_port, 0,
		 &uv->local_ike)) < 0)
		goto fail_close;
	/* Batch receives on the busy port: ESP-in-UDP arrives there. */
	if ((rc = udp_open(uv, &uv->udp_natt, H_UDP_NATT, uv->natt_port,
		 UV_UDP_RECVMMSG, &uv->local_natt)) < 0)
		goto fail_close;
	if (opts->bgp_listen_addr.family != 0 && (rc = listener_open(uv)) < 0)
		goto fail_close;
	uv_log(uv, VPNR_LOG_DEBUG, "driver up: ports %u/%u, recvmmsg %s",
	    uv->local_ike.port, uv->local_natt.port,
	    uv_udp_using_recvmmsg(&uv->udp_natt) ? "on" : "off");
	*puv = uv;
	return VPNR_OK;

fail_close:
	/* Handles close asynchronously: the loop frees the rest. */
	uv_begin_close(uv);
	return rc;
fail_free:
	vpnr_config_del(own_cfg);
	uv_free(uv->mem, uv);
	return rc;
}

/* The exported twin of the vpnr_uv_new macro: version 1 of each. */
int(vpnr_uv_new)(vpnr_uv **puv, uv_loop_t *loop, const vpnr_config *cfg,
    const vpnr_callbacks *cb, void *user_data, const vpnr_dataplane *dp,
    void *dp_data, const vpnr_uv_options *opts)
{
	return vpnr_uv_new_versioned(puv, loop, cfg, VPNR_CALLBACKS_V1, cb,
	    user_data, VPNR_DATAPLANE_V1, dp, dp_data, VPNR_UV_OPTIONS_V1,
	    opts);
}

vpnr_ctx *
vpnr_uv_ctx(vpnr_uv *uv)
{
	return uv != NULL ? uv->ctx : NULL;
}

void *
vpnr_uv_user_data(vpnr_uv *uv)
{
	return uv != NULL ? uv->host_ud : NULL;
}

vpnr_tstamp
vpnr_uv_now(vpnr_uv *uv)
{
	return (vpnr_tstamp)uv_hrtime();
}

void
vpnr_uv_kick(vpnr_uv *uv)
{
	if (uv != NULL)
		uv_rearm(uv);
}

int
vpnr_uv_send_natt(vpnr_uv *uv, const vpnr_addr *remote, const uint8_t *data,
    size_t len)
{
	if (uv == NULL || remote == NULL || (data == NULL && len > 0))
		return VPNR_ERR_INVALID_ARGUMENT;
	return udp_send(uv, &uv->udp_natt, remote, data, len);
}

int
vpnr_uv_natt_fd(vpnr_uv *uv)
{
	uv_os_fd_t fd;

	if (uv == NULL || uv_fileno((uv_handle_t *)&uv->udp_natt, &fd) < 0)
		return VPNR_ERR_INVALID_STATE;
	return fd;
}

int
vpnr_uv_set_md5(vpnr_uv *uv, const vpnr_addr *peer, const uint8_t *key,
    size_t len)
{
	uv_os_fd_t fd;

	if (uv == NULL || peer == NULL || (key == NULL && len > 0))
		return VPNR_ERR_INVALID_ARGUMENT;
	if (!(uv->handles & H_LISTENER) ||
	    uv_fileno((uv_handle_t *)&uv->listener, &fd) < 0)
		return VPNR_ERR_INVALID_STATE;
	return set_md5(fd, peer, key, key != NULL ? len : 0);
}

int
vpnr_uv_close(vpnr_uv *uv, void (*on_closed)(void *arg), void *arg)
{
	if (uv == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	/*
	 * Legal inside callbacks: handles only start closing here; the
	 * context is deleted from the loop once all of them are closed,
	 * after the driving call that ran the callback has returned.
	 */
	if (uv->closing)
		return VPNR_ERR_INVALID_STATE;
	uv->on_closed = on_closed;
	uv->on_closed_arg = arg;
	uv_begin_close(uv);
	return VPNR_OK;
}
