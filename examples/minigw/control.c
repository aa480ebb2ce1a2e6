/*
 * Control socket (a Unix stream socket): one command line in, the
 * answer out, then the server closes.  Commands:
 *   show            tunnel and CHILD_SA counters as text
 *   show json       the same as one JSON object
 * `minigw --control SOCK --show [json]` is the client.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minigw.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
}

static const char *
encr_name(uint16_t id)
{
	const char *n = vpnr_transform_name(VPNR_TRANSFORM_ENCR, id);

	return n != NULL ? n : "?";
}

static const char *
integ_name(uint16_t id)
{
	const char *n = vpnr_transform_name(VPNR_TRANSFORM_INTEG, id);

	return n != NULL ? n : "?";
}

struct walk {
	struct sbuf *b;
	int json;
	int n;
};

static const struct {
	const char *name;
	size_t off;
} cnt_fields[] = {
#define F(f) \
	{ \
#f, offsetof(vpnr_esp_counters, f) \
	}
	F(packets_in),
	F(octets_in),
	F(packets_out),
	F(octets_out),
	F(integrity_failed),
	F(replay_dropped),
	F(invalid_padding),
	F(unknown_spi),
	F(cipher_failed),
	F(malformed),
	F(dummy_dropped),
	F(lifetime_dropped),
	F(no_sa_dropped),
#undef F
};

static void
counters(struct sbuf *b, const vpnr_esp_counters *c, int json)
{
	const uint64_t *v;
	size_t i;

	for (i = 0; i < sizeof(cnt_fields) / sizeof(cnt_fields[0]); i++) {
		v = (const uint64_t *)(const void *)((const char *)c +
		    cnt_fields[i].off);
		sb_printf(b, json ? "%s\"%s\":%" PRIu64 : "%s%s=%" PRIu64,
		    i == 0 ? "" : (json ? "," : " "), cnt_fields[i].name, *v);
	}
}

static int
walk_sa(const vpnr_esp_sa_info *i, void *arg)
{
	struct walk *w = arg;
	char s[64], d[64];

	vpnr_addr_format(&i->src, s, sizeof(s));
	vpnr_addr_format(&i->dst, d, sizeof(d));
	if (w->json) {
		sb_printf(w->b,
		    "%s{\"sa_id\":%" PRIu64 ",\"spi\":\"%08" PRIx32
		    "\",\"dir\":\"%s\",\"active\":%u,\"if_id\":%" PRIu32
		    ",\"encr\":\"%s-%u\",\"integ\":\"%s\",\"esn\":%d,"
		    "\"src\":\"%s\",\"dst\":\"%s\",\"seq\":%" PRIu64
		    ",\"replay_window\":%" PRIu32 ",\"soft_expired\":%u,"
		    "\"hard_expired\":%u,",
		    w->n ? "," : "", i->sa_id, i->spi,
		    i->direction == VPNR_DIR_IN ? "in" : "out", i->active,
		    i->if_id, encr_name(i->encr_id), i->encr_key_bits,
		    integ_name(i->integ_id), (i->flags & VPNR_SA_F_ESN) != 0, s,
		    d, i->seq, i->replay_window, i->soft_expired,
		    i->hard_expired);
		counters(w->b, &i->counters, 1);
		sb_printf(w->b, "}");
	} else {
		sb_printf(w->b,
		    "  child sa %" PRIu64 " %s spi %08" PRIx32
		    "%s %s-%u/%s%s %s -> %s seq %" PRIu64 "\n    ",
		    i->sa_id, i->direction == VPNR_DIR_IN ? "in " : "out",
		    i->spi, i->active ? " (active)" : "", encr_name(i->encr_id),
		    i->encr_key_bits, integ_name(i->integ_id),
		    (i->flags & VPNR_SA_F_ESN) ? "/ESN" : "", s, d, i->seq);
		counters(w->b, &i->counters, 0);
		sb_printf(w->b, "\n");
	}
	w->n++;
	return 0;
}

static int
walk_rib(const vpnr_prefix *prefix, const vpnr_path_attrs *attrs,
    uint64_t peer_id, void *arg)
{
	struct sbuf *b = arg;
	char p[64], nh[64];

	sb_printf(b, "  %s/%u via %s peer %" PRIu64 "\n",
	    vpnr_addr_format(&prefix->addr, p, sizeof(p)), prefix->len,
	    vpnr_addr_format(&attrs->nexthop, nh, sizeof(nh)), peer_id);
	return 0;
}

char *
mgw_status(struct mgw *gw, int json)
{
	struct mgw_tunnel *t = &gw->tun;
	struct sbuf b = { NULL, 0, 0 };
	struct walk w;
	vpnr_tunnel_info ti;
	vpnr_esp_counters c;
	char r[64];
	static const char *st[] = { "IDLE", "CONNECTING", "ESTABLISHED",
		"CLOSING" };
	int have_ti;

	b.cap = 4096;
	if ((b.p = malloc(b.cap)) == NULL)
		abort();
	b.p[0] = '\0';
	have_ti = vpnr_tunnel_get_info(gw->ctx, t->id, &ti) == VPNR_OK;
	memset(&c, 0, sizeof(c));
	vpnr_esp_get_tunnel_counters(gw->esp, t->if_id, &c);
	vpnr_addr_format(&t->remote, r, sizeof(r));
	w.b = &b;
	w.json = json;
	w.n = 0;
	if (json) {
		sb_printf(&b,
		    "{\"tunnels\":[{\"id\":%" PRIu64 ",\"if_id\":%" PRIu32
		    ",\"tun\":\"%s\",\"remote\":\"%s\",\"state\":\"%s\","
		    "\"child_rekeys\":%" PRIu64 ",\"ike_rekeys\":%" PRIu64
		    ",\"tun_rx\":%" PRIu64 ",\"tun_tx\":%" PRIu64
		    ",\"encap_err\":%" PRIu64 ",\"decap_err\":%" PRIu64
		    ",\"send_err\":%" PRIu64 ",\"mss_clamped\":%" PRIu64
		    ",\"tx_batches\":%" PRIu64 ",\"gso_sends\":%" PRIu64
		    ",\"natt_fd\":%d,",
		    t->id, t->if_id, t->tun_name, r,
		    have_ti && ti.state < 4 ? st[ti.state] : "UNKNOWN",
		    have_ti ? ti.child_rekeys : 0, have_ti ? ti.ike_rekeys : 0,
		    t->tun_rx, t->tun_tx, t->encap_err, t->decap_err,
		    t->send_err, t->mss_clamped, t->tx_batches, t->gso_sends,
		    gw->natt_fd);
		counters(&b, &c, 1);
		sb_printf(&b, "}],\"child_sas\":[");
		vpnr_esp_sa_walk(gw->esp, walk_sa, &w);
		sb_printf(&b, "]}\n");
	} else {
		sb_printf(&b,
		    "tunnel %" PRIu64 " %s if_id %" PRIu32 " tun %s remote %s "
		    "child_rekeys %" PRIu64 "\n  tun_rx=%" PRIu64
		    " tun_tx=%" PRIu64 " encap_err=%" PRIu64
		    " decap_err=%" PRIu64 " send_err=%" PRIu64
		    " mss_clamped=%" PRIu64 " tx_batches=%" PRIu64
		    " gso_sends=%" PRIu64 " tso_segments=%" PRIu64
		    " gro_merged=%" PRIu64 "\n  ",
		    t->id, have_ti && ti.state < 4 ? st[ti.state] : "UNKNOWN",
		    t->if_id, t->tun_name, r, have_ti ? ti.child_rekeys : 0,
		    t->tun_rx, t->tun_tx, t->encap_err, t->decap_err,
		    t->send_err, t->mss_clamped, t->tx_batches, t->gso_sends,
		    t->tso_segments, t->gro_merged);
		counters(&b, &c, 0);
		sb_printf(&b, "\n");
		vpnr_esp_sa_walk(gw->esp, walk_sa, &w);
		if (gw->bgp_on) {
			sb_printf(&b, "bgp loc-rib:\n");
			vpnr_bgp_rib_walk(gw->ctx, VPNR_RIB_LOC, 0, walk_rib,
			    &b);
			sb_printf(&b, "bgp adj-rib-out:\n");
			vpnr_bgp_rib_walk(gw->ctx, VPNR_RIB_ADJ_OUT, 0,
			    walk_rib, &b);
		}
	}
	return b.p;
}

/* ---- server ----------------------------------------------------------- */

struct conn {
	uv_pipe_t pipe;
	struct mgw *gw;
	char line[256];
	size_t len;
	uv_write_t wr;
	char *reply;
};

static void
on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	free(c->reply);
	free(c);
}

static void
on_written(uv_write_t *req, int status)
{
	struct conn *c = req->data;

	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	buf->base = c->line + c->len;
	buf->len = sizeof(c->line) - 1 - c->len;
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	uv_buf_t b;
	char *nl;

	if (n < 0 || (n == 0 && c->len == sizeof(c->line) - 1)) {
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
	c->len += (size_t)n;
	c->line[c->len] = '\0';
	if ((nl = strchr(c->line, '\n')) == NULL) {
		if (c->len == sizeof(c->line) - 1)
			uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
	*nl = '\0';
	uv_read_stop(s);
	if (strcmp(c->line, "show") == 0)
		c->reply = mgw_status(c->gw, 0);
	else if (strcmp(c->line, "show json") == 0)
		c->reply = mgw_status(c->gw, 1);
	else
		c->reply = strdup("error: unknown command "
				  "(show | show json)\n");
	b = uv_buf_init(c->reply, (unsigned int)strlen(c->reply));
	c->wr.data = c;
	if (uv_write(&c->wr, s, &b, 1, on_written) < 0)
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct mgw *gw = server->data;
	struct conn *c;

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->gw = gw;
	uv_pipe_init(gw->loop, &c->pipe, 0);
	c->pipe.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 ||
	    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0)
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

int
mgw_control_start(struct mgw *gw, const char *path)
{
	int rc;

	snprintf(gw->control_path, sizeof(gw->control_path), "%s", path);
	unlink(path);
	uv_pipe_init(gw->loop, &gw->control, 0);
	gw->control.data = gw;
	gw->control_on = 1;
	if ((rc = uv_pipe_bind(&gw->control, path)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&gw->control, 8, on_connection)) < 0)
		return rc;
	return 0;
}

void
mgw_control_stop(struct mgw *gw)
{
	if (!gw->control_on)
		return;
	gw->control_on = 0;
	uv_close((uv_handle_t *)&gw->control, NULL);
	unlink(gw->control_path);
}

/* ---- client ----------------------------------------------------------- */

int
mgw_control_client(const char *path, const char *cmd)
{
	struct sockaddr_un sun;
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
