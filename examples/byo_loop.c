/*
 * byo_loop: the reference host for a vendor who brings its own event
 * loop, sockets and data plane (read examples/PORTING.md beside it).
 * No libuv: one poll() loop, real UDP and TCP sockets on loopback, two
 * contexts ("a" on 127.0.0.1, "b" on 127.0.0.2) with an IKEv2 tunnel
 * and an eBGP session between them, and a fake data plane whose ops
 * complete synchronously, later (20 ms, from the loop), late (1 s, so
 * that a rekey starts meanwhile) or fail.
 *
 *   byo_loop [--dp sync|later|late] [--fail-at N] [--short-write]
 *            [--prefixes N] [--port BASE] [--verbose]
 *
 * It runs a scenario and exits 0 only if every step checked out:
 * bring-up; CHILD_SA and IKE_SA rekeys from both sides (each side's
 * outbound SA matches the other's inbound SA, old pairs deleted only
 * after the new ones completed); with --fail-at N the N-th install op
 * of "a" fails and the tunnel must recover; N prefixes from a to b
 * (--short-write: a socket wrapper that accepts at most 700 bytes per
 * call and says WOULDBLOCK every third call); a shutdown of "a" after
 * which "b" must have received a Cease NOTIFICATION.
 */
#define _GNU_SOURCE /* accept4 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vpnroute/vpnroute.h>

#define MAX_SA    64
#define MAX_OPS   256
#define MAX_CONNS 8

#define DP_SYNC  0
#define DP_LATER 1
#define DP_LATE  2

static int dp_mode = DP_SYNC, fail_at, short_write, verbose;
static uint32_t n_prefixes = 200;
static uint16_t port_base;

struct sa_rec {
	int live;
	uint64_t sa_id;
	uint32_t spi;
	uint8_t dir;
	uint8_t key[64];
	size_t key_len;
};

struct op_rec {
	uint64_t op_id;
	vpnr_tstamp due;
	int status;
	uint64_t sa_id; /* an sa_add's SA, to forget on failure */
};

struct conn {
	int fd;
	uint64_t tid;
	int connecting; /* our transport_open, connect() in progress */
	int want_write; /* a write was partial: wait for POLLOUT */
	int sends;      /* for the short-write wrapper */
};

struct host {
	const char *name;
	vpnr_ctx *ctx;
	vpnr_addr addr;
	int udp_ike, udp_natt, listen_fd;
	uint64_t tunnel_id, peer_id;
	struct sa_rec sas[MAX_SA];
	struct op_rec ops[MAX_OPS];
	int n_ops, n_install_ops;
	struct conn conns[MAX_CONNS];
	/* what happened */
	int up, child_up, child_rekeyed, rekeyed, failed, down;
	int bgp_up, bgp_down, cease_rcvd;
	uint32_t routes;
};

static struct host hosts[2];

static vpnr_tstamp
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (vpnr_tstamp)ts.tv_sec * VPNR_SECONDS + (vpnr_tstamp)ts.tv_nsec;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "byo_loop: FAILED: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void
to_sockaddr(const vpnr_addr *a, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(a->port);
	memcpy(&sin->sin_addr, a->bytes, 4);
}

static void
from_sockaddr(const struct sockaddr_in *sin, vpnr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = VPNR_AF_INET;
	a->port = ntohs(sin->sin_port);
	memcpy(a->bytes, &sin->sin_addr, 4);
}

/* ------------------------------------------------------------------ */
/* The data plane: a vendor's ASIC that installs SAs asynchronously.   */

/* PORTING: async-op */
static int
dp_answer(struct host *h, uint64_t op_id, uint64_t sa_id, int install)
{
	struct op_rec *o;
	/* --fail-at: the N-th install op of "a" fails. */
	int fail = install && h == &hosts[0] && ++h->n_install_ops == fail_at;

	if (dp_mode == DP_SYNC)
		return fail ? VPNR_ERR_DATAPLANE : VPNR_OK;
	if (h->n_ops == MAX_OPS)
		return VPNR_ERR_LIMIT;
	/* Remember the op; the loop completes it when it is due. */
	o = &h->ops[h->n_ops++];
	o->op_id = op_id;
	o->sa_id = sa_id;
	o->status = fail ? VPNR_ERR_DATAPLANE : VPNR_OK;
	o->due = now_ns() +
	    (dp_mode == DP_LATE ? VPNR_SECONDS : 20 * VPNR_MILLISECONDS);
	return VPNR_ASYNC;
}
/* PORTING: end */

static int
dp_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dpd)
{
	struct host *h = dpd;
	int i, rv;

	(void)ctx;
	for (i = 0; i < MAX_SA && h->sas[i].live; i++)
		;
	if (i == MAX_SA || sa->encr_key_len > sizeof(h->sas[i].key))
		return VPNR_ERR_LIMIT;
	rv = dp_answer(h, op_id, sa->sa_id, 1);
	if (rv < 0)
		return rv;
	h->sas[i].live = 1;
	h->sas[i].sa_id = sa->sa_id;
	h->sas[i].spi = sa->spi;
	h->sas[i].dir = sa->direction;
	/* The key only to compare both ends; a real plane programs it. */
	memcpy(h->sas[i].key, sa->encr_key, sa->encr_key_len);
	h->sas[i].key_len = sa->encr_key_len;
	if (verbose)
		printf("%s: sa_add %s spi=%08x op=%" PRIu64 "\n", h->name,
		    sa->direction == VPNR_DIR_IN ? "in" : "out", sa->spi,
		    op_id);
	return rv;
}

static void
sa_forget(struct host *h, uint64_t sa_id)
{
	int i;

	for (i = 0; i < MAX_SA; i++)
		if (h->sas[i].live && h->sas[i].sa_id == sa_id)
			h->sas[i].live = 0;
}

static int
dp_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dpd)
{
	struct host *h = dpd;

	(void)ctx;
	(void)op_id;
	if (sa->encr_key != NULL || sa->encr_key_len != 0)
		die("sa_del carries key material");
	sa_forget(h, sa->sa_id);
	if (verbose)
		printf("%s: sa_del spi=%08x\n", h->name, sa->spi);
	return VPNR_OK;
}

static int
dp_policy_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dpd)
{
	(void)ctx;
	(void)pol;
	return dp_answer(dpd, op_id, 0, 1);
}

static int
dp_policy_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dpd)
{
	(void)ctx;
	(void)op_id;
	(void)pol;
	(void)dpd;
	return VPNR_OK;
}

static int
dp_route_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt, void *dpd)
{
	struct host *h = dpd;

	(void)ctx;
	(void)op_id;
	(void)rt;
	h->routes++;
	return VPNR_OK;
}

static int
dp_route_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt, void *dpd)
{
	struct host *h = dpd;

	(void)ctx;
	(void)op_id;
	(void)rt;
	h->routes--;
	return VPNR_OK;
}

/* PORTING: complete-due */
/* From the loop: complete the ops that are due. */
static void
dp_complete_due(struct host *h, vpnr_tstamp now)
{
	struct op_rec o;
	int i = 0;

	while (i < h->n_ops) {
		if (h->ops[i].due > now) {
			i++;
			continue;
		}
		o = h->ops[i];
		h->ops[i] = h->ops[--h->n_ops];
		if (o.status < 0 && o.sa_id != 0)
			sa_forget(h, o.sa_id);
		if (vpnr_dp_complete(h->ctx, o.op_id, o.status, now) != VPNR_OK)
			die("%s: vpnr_dp_complete(%" PRIu64 ") refused",
			    h->name, o.op_id);
	}
}
/* PORTING: end */

/* ------------------------------------------------------------------ */
/* Sockets.                                                            */

static int
udp_socket(const vpnr_addr *a, uint16_t port)
{
	struct sockaddr_in sin;
	vpnr_addr b = *a;
	int fd;

	b.port = port;
	to_sockaddr(&b, &sin);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("udp bind port %u: %s", port, strerror(errno));
	return fd;
}

/* PORTING: send-datagram */
static int
cb_send_datagram(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *ud)
{
	struct host *h = ud;
	struct sockaddr_in sin;
	int fd = local->port == port_base + 1 ? h->udp_natt : h->udp_ike;

	(void)ctx;
	to_sockaddr(remote, &sin);
	/* A lost datagram is fine: IKE retransmits. */
	(void)sendto(fd, data, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	return VPNR_OK;
}
/* PORTING: end */

static struct conn *
conn_find(struct host *h, uint64_t tid)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++)
		if (h->conns[i].fd >= 0 && h->conns[i].tid == tid)
			return &h->conns[i];
	return NULL;
}

static struct conn *
conn_new(struct host *h, int fd)
{
	int i;

	for (i = 0; i < MAX_CONNS; i++)
		if (h->conns[i].fd < 0) {
			memset(&h->conns[i], 0, sizeof(h->conns[i]));
			h->conns[i].fd = fd;
			return &h->conns[i];
		}
	die("%s: too many connections", h->name);
	return NULL;
}

static int
cb_transport_open(vpnr_ctx *ctx, uint64_t tid, const vpnr_addr *local,
    const vpnr_addr *remote, uint8_t ttl, const uint8_t *md5, size_t md5_len,
    void *ud)
{
	struct host *h = ud;
	struct sockaddr_in sin;
	struct conn *c;
	vpnr_addr l = *local;
	int fd;

	(void)ctx, (void)ttl, (void)md5, (void)md5_len;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return VPNR_ERR_LIMIT;
	l.port = 0;
	to_sockaddr(&l, &sin);
	(void)bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	to_sockaddr(remote, &sin);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return VPNR_ERR_PEER_CLOSED;
	}
	/* Report the outcome from the loop, never from in here. */
	c = conn_new(h, fd);
	c->tid = tid;
	c->connecting = 1;
	return VPNR_OK;
}

/* PORTING: transport-send */
static int64_t
cb_transport_send(vpnr_ctx *ctx, uint64_t tid, const uint8_t *data, size_t len,
    void *ud)
{
	struct host *h = ud;
	struct conn *c = conn_find(h, tid);
	ssize_t n;

	(void)ctx;
	if (c == NULL)
		die("%s: transport_send for unknown id %" PRIu64, h->name, tid);
	/* The wrapper of --short-write: a congested socket. */
	if (short_write && ++c->sends % 3 == 0) {
		c->want_write = 1;
		return VPNR_ERR_WOULDBLOCK;
	}
	if (short_write && len > 700)
		len = 700;
	n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->want_write = 1;
		return VPNR_ERR_WOULDBLOCK;
	}
	if (n < 0)
		return VPNR_ERR_PEER_CLOSED; /* POLLHUP reports it */
	/* Partial or not: after a short write the library waits for
	 * vpnr_transport_writable(). */
	if ((size_t)n < len || short_write)
		c->want_write = 1;
	return n;
}
/* PORTING: end */

/* PORTING: transport-close */
static void
cb_transport_close(vpnr_ctx *ctx, uint64_t tid, void *ud)
{
	struct host *h = ud;
	struct conn *c = conn_find(h, tid);

	(void)ctx;
	/* The library is done with it (anything queued was sent): close
	 * and forget; no vpnr_transport_closed() for this id. */
	if (c != NULL) {
		close(c->fd);
		c->fd = -1;
	}
}
/* PORTING: end */

static int
cb_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct host *h = ud;

	(void)ctx;
	printf("%s: EVENT %s reason=%s notify=%u\n", h->name,
	    vpnr_tunnel_event_name(ev->type), vpnr_err_name(ev->reason),
	    ev->notify);
	switch (ev->type) {
	case VPNR_TUNNEL_EV_UP:
		h->up++;
		break;
	case VPNR_TUNNEL_EV_DOWN:
		h->down++;
		break;
	case VPNR_TUNNEL_EV_REKEYED:
		h->rekeyed++;
		break;
	case VPNR_TUNNEL_EV_CHILD_UP:
		h->child_up++;
		break;
	case VPNR_TUNNEL_EV_CHILD_REKEYED:
		h->child_rekeyed++;
		break;
	case VPNR_TUNNEL_EV_FAILED:
		h->failed++;
		break;
	}
	return VPNR_OK;
}

static int
cb_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	struct host *h = ud;

	(void)ctx;
	printf("%s: BGP EVENT %s reason=%s notification=%u/%u\n", h->name,
	    vpnr_bgp_event_name(ev->type), vpnr_err_name(ev->reason),
	    ev->notif_code, ev->notif_subcode);
	if (ev->type == VPNR_BGP_EV_ESTABLISHED)
		h->bgp_up++;
	if (ev->type == VPNR_BGP_EV_DOWN) {
		h->bgp_down++;
		if (ev->notif_code == 6)
			h->cease_rcvd++;
	}
	if (ev->type == VPNR_BGP_EV_NEXTHOP_REFUSED)
		die("%s: next hop refused", h->name);
	return VPNR_OK;
}

static void
cb_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	struct host *h = ud;

	(void)ctx;
	if (verbose || level <= VPNR_LOG_WARNING)
		fprintf(stderr, "%s %s: %.*s\n", h->name, subsys, (int)len,
		    msg);
}

/* ------------------------------------------------------------------ */
/* The loop.                                                           */

static void
udp_readable(struct host *h, int fd, uint16_t port, vpnr_tstamp now)
{
	uint8_t buf[65536];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	vpnr_addr local = h->addr, remote;
	ssize_t n;
	int rv;

	while ((n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sin,
		    &sl)) > 0) {
		from_sockaddr(&sin, &remote);
		local.port = port;
		rv = vpnr_ctx_recv_datagram(h->ctx, &local, &remote, buf,
		    (size_t)n, now);
		/* ESP would go to the data plane; this one carries none. */
		if (rv != VPNR_OK && rv != VPNR_ERR_NOT_IKE && verbose)
			fprintf(stderr, "%s: datagram: %s\n", h->name,
			    vpnr_err_name(rv));
		sl = sizeof(sin);
	}
}

static void
tcp_accept(struct host *h, vpnr_tstamp now)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	vpnr_addr local, remote;
	struct conn *c;
	int fd;

	if ((fd = accept4(h->listen_fd, (struct sockaddr *)&sin, &sl,
		 SOCK_NONBLOCK)) < 0)
		return;
	from_sockaddr(&sin, &remote);
	sl = sizeof(sin);
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	from_sockaddr(&sin, &local);
	c = conn_new(h, fd);
	/* PORTING: accepted */
	/* c->tid is written before the library sends its OPEN through
	 * cb_transport_send(), which looks the connection up by it. */
	if (vpnr_transport_accepted(h->ctx, &local, &remote, &c->tid, now) !=
	    VPNR_OK) {
		close(fd);
		c->fd = -1;
	}
	/* PORTING: end */
}

static void
tcp_event(struct host *h, struct conn *c, short revents, vpnr_tstamp now)
{
	uint8_t buf[16384];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	vpnr_addr local;
	uint64_t tid = c->tid;
	int err = 0;
	ssize_t n;

	if (c->connecting && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		c->connecting = 0;
		sl = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err == 0) {
			sl = sizeof(sin);
			getsockname(c->fd, (struct sockaddr *)&sin, &sl);
			from_sockaddr(&sin, &local);
			vpnr_transport_set_local(h->ctx, tid, &local);
		} else {
			close(c->fd);
			c->fd = -1;
		}
		vpnr_transport_connected(h->ctx, tid,
		    err == 0 ? VPNR_OK : VPNR_ERR_PEER_CLOSED, now);
		return;
	}
	/* PORTING: tcp-event */
	if (revents & POLLOUT) {
		c->want_write = 0;
		vpnr_transport_writable(h->ctx, tid, now);
	}
	if ((c = conn_find(h, tid)) == NULL)
		return; /* transport_close came meanwhile */
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			vpnr_transport_recv(h->ctx, tid, buf, (size_t)n, now);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			/* The peer closed: tell the library, then close;
			 * it never calls transport_close for this id. */
			close(c->fd);
			c->fd = -1;
			vpnr_transport_closed(h->ctx, tid, VPNR_ERR_PEER_CLOSED,
			    now);
		}
	}
	/* PORTING: end */
}

/* PORTING: loop */
static void
loop_once(vpnr_tstamp max_wait)
{
	struct pollfd pfd[2 * (3 + MAX_CONNS)];
	struct {
		struct host *h;
		int what; /* 0 ike, 1 natt, 2 listen, 3+ conn */
	} who[2 * (3 + MAX_CONNS)];
	vpnr_tstamp now = now_ns(), next = now + max_wait, e;
	int i, k, n = 0, ms;

	for (i = 0; i < 2; i++) {
		struct host *h = &hosts[i];
		int fds[3] = { h->udp_ike, h->udp_natt, h->listen_fd };

		/* The wake-up time: the library's timers, our ops. */
		if ((e = vpnr_ctx_get_expiry(h->ctx)) < next)
			next = e;
		for (k = 0; k < h->n_ops; k++)
			if (h->ops[k].due < next)
				next = h->ops[k].due;
		for (k = 0; k < 3; k++) {
			pfd[n].fd = fds[k];
			pfd[n].events = POLLIN;
			who[n].h = h;
			who[n++].what = k;
		}
		for (k = 0; k < MAX_CONNS; k++) {
			struct conn *c = &h->conns[k];

			if (c->fd < 0)
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = c->connecting ? POLLOUT :
			    c->want_write             ? POLLIN | POLLOUT :
							POLLIN;
			who[n].h = h;
			who[n++].what = 3 + k;
		}
	}
	ms = next <= now ? 0 : (int)((next - now) / VPNR_MILLISECONDS) + 1;
	if (poll(pfd, (nfds_t)n, ms) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	now = now_ns();
	for (i = 0; i < n; i++) {
		struct host *h = who[i].h;

		if (pfd[i].revents == 0)
			continue;
		if (who[i].what == 0)
			udp_readable(h, pfd[i].fd, port_base, now);
		else if (who[i].what == 1)
			udp_readable(h, pfd[i].fd, port_base + 1, now);
		else if (who[i].what == 2)
			tcp_accept(h, now);
		else if (h->conns[who[i].what - 3].fd == pfd[i].fd)
			tcp_event(h, &h->conns[who[i].what - 3], pfd[i].revents,
			    now);
	}
	for (i = 0; i < 2; i++) {
		dp_complete_due(&hosts[i], now);
		if (vpnr_ctx_get_expiry(hosts[i].ctx) <= now)
			vpnr_ctx_handle_expiry(hosts[i].ctx, now);
	}
}
/* PORTING: end */

static int (*wait_pred)(void);

static void
wait_for(const char *what, int (*pred)(void), vpnr_tstamp max)
{
	vpnr_tstamp end = now_ns() + max;

	wait_pred = pred;
	while (!pred()) {
		if (now_ns() > end)
			die("timed out waiting for %s", what);
		loop_once(50 * VPNR_MILLISECONDS);
	}
	printf("ok: %s\n", what);
}

/* Outbound SAs of one side with an inbound twin on the other. */
static int
pairs(void)
{
	int i, j, k, n = 0;

	for (i = 0; i < 2; i++)
		for (j = 0; j < MAX_SA; j++) {
			struct sa_rec *o = &hosts[i].sas[j];

			if (!o->live || o->dir != VPNR_DIR_OUT)
				continue;
			for (k = 0; k < MAX_SA; k++) {
				struct sa_rec *x = &hosts[!i].sas[k];

				if (x->live && x->dir == VPNR_DIR_IN &&
				    x->spi == o->spi &&
				    x->key_len == o->key_len &&
				    memcmp(x->key, o->key, o->key_len) == 0)
					n++;
			}
		}
	return n;
}

static int
live_sas(const struct host *h)
{
	int i, n = 0;

	for (i = 0; i < MAX_SA; i++)
		n += h->sas[i].live;
	return n;
}

static int want_child_up, want_child_rekeyed, want_rekeyed;
static vpnr_tunnel_info info;

static int
pred_up(void)
{
	return hosts[0].child_up >= want_child_up &&
	    hosts[1].child_up >= want_child_up &&
	    vpnr_tunnel_get_info(hosts[1].ctx, hosts[1].tunnel_id, &info) ==
	    VPNR_OK &&
	    info.child_spi_in != 0 && hosts[0].n_ops == 0 &&
	    hosts[1].n_ops == 0 && live_sas(&hosts[0]) == 2 &&
	    live_sas(&hosts[1]) == 2 && pairs() == 2;
}

static int
pred_child_rekeyed(void)
{
	return hosts[0].child_rekeyed >= want_child_rekeyed &&
	    hosts[1].child_rekeyed >= want_child_rekeyed &&
	    hosts[0].n_ops == 0 && hosts[1].n_ops == 0 &&
	    live_sas(&hosts[0]) == 2 && live_sas(&hosts[1]) == 2 &&
	    pairs() == 2;
}

static int
pred_rekeyed(void)
{
	return hosts[0].rekeyed >= want_rekeyed &&
	    hosts[1].rekeyed >= want_rekeyed && pairs() == 2;
}

static int
pred_bgp_up(void)
{
	return hosts[0].bgp_up >= 1 && hosts[1].bgp_up >= 1;
}

static int
pred_routes(void)
{
	return hosts[1].routes == n_prefixes;
}

static int
open_conns(const struct host *h)
{
	int i, n = 0;

	for (i = 0; i < MAX_CONNS; i++)
		n += h->conns[i].fd >= 0;
	return n;
}

static int
pred_shutdown(void)
{
	return hosts[1].cease_rcvd >= 1 && hosts[1].down >= 1 &&
	    open_conns(&hosts[0]) == 0;
}

static void
host_init(struct host *h, const char *name, const char *addr, const char *peer,
    uint32_t asn, uint32_t peer_as, const char *nh)
{
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	vpnr_tunnel_config *tc;
	vpnr_bgp_peer_config *pc;
	vpnr_addr pa, nha;
	struct sockaddr_in sin;
	int i, one = 1;

	memset(h, 0, sizeof(*h));
	h->name = name;
	for (i = 0; i < MAX_CONNS; i++)
		h->conns[i].fd = -1;
	vpnr_addr_parse(&h->addr, addr);
	vpnr_addr_parse(&pa, peer);
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = cb_send_datagram;
	cb.transport_open = cb_transport_open;
	cb.transport_send = cb_transport_send;
	cb.transport_close = cb_transport_close;
	cb.tunnel_event = cb_tunnel_event;
	cb.bgp_event = cb_bgp_event;
	cb.log_msg = cb_log;
	memset(&dp, 0, sizeof(dp));
	dp.sa_add = dp_sa_add;
	dp.sa_del = dp_sa_del;
	dp.policy_add = dp_policy_add;
	dp.policy_del = dp_policy_del;
	dp.route_add = dp_route_add;
	dp.route_del = dp_route_del;
	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		die("config");
	vpnr_config_set_local_as(cfg, asn);
	vpnr_config_set_router_id(cfg, asn);
	vpnr_config_set_ike_ports(cfg, port_base, (uint16_t)(port_base + 1));
	vpnr_config_set_log_level(cfg,
	    verbose ? VPNR_LOG_DEBUG : VPNR_LOG_NOTICE);
	if (vpnr_ctx_new(&h->ctx, cfg, &cb, h, &dp, h, NULL) != VPNR_OK)
		die("ctx");
	vpnr_config_del(cfg);
	h->udp_ike = udp_socket(&h->addr, port_base);
	h->udp_natt = udp_socket(&h->addr, (uint16_t)(port_base + 1));
	to_sockaddr(&h->addr, &sin);
	sin.sin_port = htons((uint16_t)(port_base + 2));
	if ((h->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) <
		0 ||
	    setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		sizeof(one)) < 0 ||
	    bind(h->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(h->listen_fd, 4) < 0)
		die("tcp listen: %s", strerror(errno));

	if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK)
		die("tunnel config");
	vpnr_tunnel_config_set_addrs(tc, &h->addr, &pa);
	/* Both hosts use port_base, not the standard 500/4500. */
	vpnr_tunnel_config_set_peer_ports(tc, port_base,
	    (uint16_t)(port_base + 1));
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)"byo-loop-psk", 12);
	/* Rekeys are driven by the scenario, not by time. */
	vpnr_tunnel_config_set_rekey(tc, 0, 0, 0);
	if (vpnr_tunnel_add(h->ctx, tc, h, &h->tunnel_id) != VPNR_OK)
		die("tunnel add");
	vpnr_tunnel_config_del(tc);

	if (vpnr_bgp_peer_config_new(&pc, NULL) != VPNR_OK)
		die("peer config");
	pa.port = (uint16_t)(port_base + 2);
	vpnr_bgp_peer_config_set_remote(pc, &pa, peer_as);
	vpnr_bgp_peer_config_set_local(pc, &h->addr);
	vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
	    VPNR_BGP_EXPORT_LOCAL);
	/* Our session address is a loopback one, which the receiver
	 * refuses as a next hop: advertise a routable one. */
	vpnr_addr_parse(&nha, nh);
	vpnr_bgp_peer_config_set_nexthop(pc, &nha);
	vpnr_bgp_peer_config_set_connect_timers(pc, 1, 0);
	if (asn == 65002)
		vpnr_bgp_peer_config_set_passive(pc, 1);
	if (vpnr_bgp_peer_add(h->ctx, pc, h, &h->peer_id) != VPNR_OK)
		die("peer add");
	vpnr_bgp_peer_config_del(pc);
	if (vpnr_bgp_peer_enable(h->ctx, h->peer_id, 1, now_ns()) != VPNR_OK)
		die("peer enable");
}

static void
host_free(struct host *h)
{
	int i;

	vpnr_ctx_del(h->ctx);
	for (i = 0; i < MAX_CONNS; i++)
		if (h->conns[i].fd >= 0)
			close(h->conns[i].fd);
	close(h->udp_ike);
	close(h->udp_natt);
	close(h->listen_fd);
}

static void
rekey(int side, uint32_t what, const char *name)
{
	int rv = vpnr_tunnel_rekey(hosts[side].ctx, hosts[side].tunnel_id, what,
	    now_ns());

	if (rv != VPNR_OK)
		die("%s: %s", name, vpnr_err_name(rv));
	printf("%s: rekey %s\n", hosts[side].name, name);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = { { "dp", 1, NULL, 'd' },
		{ "fail-at", 1, NULL, 'f' }, { "short-write", 0, NULL, 's' },
		{ "prefixes", 1, NULL, 'n' }, { "port", 1, NULL, 'p' },
		{ "verbose", 0, NULL, 'v' }, { NULL, 0, NULL, 0 } };
	vpnr_prefix pfx;
	uint64_t path;
	uint32_t i;
	int c, b_child_up, b_down[2];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dp_mode = strcmp(optarg, "later") == 0 ? DP_LATER :
			    strcmp(optarg, "late") == 0        ? DP_LATE :
								 DP_SYNC;
			break;
		case 'f':
			fail_at = atoi(optarg);
			break;
		case 's':
			short_write = 1;
			break;
		case 'n':
			n_prefixes = (uint32_t)strtoul(optarg, NULL, 10);
			if (n_prefixes > 65536)
				die("at most 65536 prefixes");
			break;
		case 'p':
			port_base = (uint16_t)atoi(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: byo_loop [--dp sync|later|late] "
			    "[--fail-at N] [--short-write] [--prefixes N] "
			    "[--port BASE] [--verbose]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (port_base == 0)
		port_base = (uint16_t)(20000 + getpid() % 15000 * 3);
	host_init(&hosts[0], "a", "127.0.0.1", "127.0.0.2", 65001, 65002,
	    "192.0.2.1");
	host_init(&hosts[1], "b", "127.0.0.2", "127.0.0.1", 65002, 65001,
	    "198.51.100.1");

	/* 1. Bring-up (with --fail-at, through a failure and back). */
	if (vpnr_tunnel_initiate(hosts[0].ctx, hosts[0].tunnel_id, now_ns()) !=
	    VPNR_OK)
		die("initiate");
	want_child_up = 1;
	wait_for("tunnel up", pred_up, 60 * VPNR_SECONDS);
	if (fail_at > 0 && hosts[0].failed == 0)
		die("the injected failure was not reported");
	if (hosts[0].child_up != 1)
		die("CHILD_UP for a pair that failed to install");
	b_child_up = hosts[1].child_up;

	b_down[0] = hosts[0].down;
	b_down[1] = hosts[1].down;

	/* 2. CHILD_SA rekeys from both sides; with --dp late an IKE
	 * rekey starts while the new pair is still being installed. */
	want_child_rekeyed = 1;
	rekey(0, VPNR_REKEY_CHILD, "child");
	if (dp_mode == DP_LATE) {
		vpnr_tstamp t = now_ns() + 200 * VPNR_MILLISECONDS;

		while (now_ns() < t)
			loop_once(50 * VPNR_MILLISECONDS);
		rekey(0, VPNR_REKEY_IKE, "ike");
		want_rekeyed = 1;
	}
	wait_for("child rekey from a", pred_child_rekeyed, 30 * VPNR_SECONDS);
	want_child_rekeyed = 2;
	rekey(1, VPNR_REKEY_CHILD, "child");
	wait_for("child rekey from b", pred_child_rekeyed, 30 * VPNR_SECONDS);

	/* 3. IKE_SA rekeys from both sides. */
	want_rekeyed++;
	rekey(0, VPNR_REKEY_IKE, "ike");
	wait_for("ike rekey from a", pred_rekeyed, 30 * VPNR_SECONDS);
	want_rekeyed++;
	rekey(1, VPNR_REKEY_IKE, "ike");
	wait_for("ike rekey from b", pred_rekeyed, 30 * VPNR_SECONDS);
	if (hosts[0].down != b_down[0] || hosts[1].down != b_down[1] ||
	    hosts[0].child_up != 1 || hosts[1].child_up != b_child_up)
		die("a rekey took the tunnel down");

	/* 4. Prefixes from a to b over the (short-writing) socket. */
	wait_for("bgp established", pred_bgp_up, 30 * VPNR_SECONDS);
	for (i = 0; i < n_prefixes; i++) {
		char s[32];

		snprintf(s, sizeof(s), "10.%u.%u.0/24", (i >> 8) & 0xff,
		    i & 0xff);
		if (vpnr_prefix_parse(&pfx, s) != VPNR_OK ||
		    vpnr_bgp_path_add(hosts[0].ctx, &pfx, NULL, &path,
			now_ns()) != VPNR_OK)
			die("path add %s", s);
	}
	wait_for("prefixes at b", pred_routes, 60 * VPNR_SECONDS);

	/* 5. Shutdown: b gets Cease, a's sockets are all closed. */
	if (vpnr_ctx_shutdown(hosts[0].ctx, now_ns()) != VPNR_OK)
		die("shutdown");
	wait_for("shutdown (Cease at b)", pred_shutdown, 30 * VPNR_SECONDS);
	host_free(&hosts[0]);
	host_free(&hosts[1]);
	printf("PASS\n");
	return 0;
}
