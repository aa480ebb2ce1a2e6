/*
 * Prometheus metrics (text exposition format 0.0.4): tunnel and SA
 * state, packets, bytes and drops, rekeys, half-open IKE SAs and IKE
 * messages refused (vpnr_ike_stats), BGP state and prefix
 * counts, minigw's own route and reload counters.  Served by the
 * control socket ("metrics") and, when global.metrics_listen is set,
 * by a tiny HTTP/1.0 listener (any GET gets the metrics).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minigw.h"
#include "textbuf.h"

static void
help(struct mgw_textbuf *b, const char *name, const char *type,
    const char *text)
{
	mgw_textbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name,
	    type);
}

char *
mgw_metrics(struct mgw *gw)
{
	struct mgw_textbuf b = { NULL, 0, 0 };
	vpnr_tunnel_info ti;
	vpnr_bgp_peer_info pi;
	vpnr_esp_counters c;
	vpnr_ike_stats st;
	struct mgw_tunnel *t;
	char a[64];
	int i;

	if ((b.p = malloc(b.cap = 4096)) == NULL)
		return NULL;
	b.p[0] = '\0';
	help(&b, "minigw_tunnel_up", "gauge",
	    "1 when the tunnel's CHILD_SA is installed");
	for (i = 0; i < gw->n_tuns; i++)
		mgw_textbuf_printf(&b, "minigw_tunnel_up{tunnel=\"%s\"} %d\n",
		    gw->tuns[i]->cfg.name, gw->tuns[i]->child_up);
	help(&b, "minigw_tunnel_ike_state", "gauge",
	    "IKE SA state: 0 idle, 1 connecting, 2 established, 3 closing");
	help(&b, "minigw_tunnel_rekeys_total", "counter", "rekeys by kind");
	help(&b, "minigw_tunnel_packets_total", "counter",
	    "ESP packets by direction");
	help(&b, "minigw_tunnel_bytes_total", "counter",
	    "inner octets by direction");
	help(&b, "minigw_tunnel_drops_total", "counter",
	    "dropped packets by reason");
	for (i = 0; i < gw->n_tuns; i++) {
		t = gw->tuns[i];
		if (t->id != 0 &&
		    vpnr_tunnel_get_info(gw->ctx, t->id, &ti) == VPNR_OK) {
			mgw_textbuf_printf(&b,
			    "minigw_tunnel_ike_state{tunnel=\"%s\"} %u\n",
			    t->cfg.name, ti.state);
			mgw_textbuf_printf(&b,
			    "minigw_tunnel_rekeys_total{tunnel=\"%s\",kind="
			    "\"ike\"} %" PRIu64 "\n"
			    "minigw_tunnel_rekeys_total{tunnel=\"%s\",kind="
			    "\"child\"} %" PRIu64 "\n",
			    t->cfg.name, ti.ike_rekeys, t->cfg.name,
			    ti.child_rekeys);
		}
		memset(&c, 0, sizeof(c));
		vpnr_esp_get_tunnel_counters(gw->esp, t->if_id, &c);
		mgw_textbuf_printf(&b,
		    "minigw_tunnel_packets_total{tunnel=\"%s\",dir=\"in\"} "
		    "%" PRIu64 "\n"
		    "minigw_tunnel_packets_total{tunnel=\"%s\",dir=\"out\"} "
		    "%" PRIu64 "\n"
		    "minigw_tunnel_bytes_total{tunnel=\"%s\",dir=\"in\"} "
		    "%" PRIu64 "\n"
		    "minigw_tunnel_bytes_total{tunnel=\"%s\",dir=\"out\"} "
		    "%" PRIu64 "\n",
		    t->cfg.name, c.packets_in, t->cfg.name, c.packets_out,
		    t->cfg.name, c.octets_in, t->cfg.name, c.octets_out);
#define DROP(reason, v) \
	mgw_textbuf_printf(&b, \
	    "minigw_tunnel_drops_total{tunnel=\"%s\",reason=\"" reason \
	    "\"} %" PRIu64 "\n", \
	    t->cfg.name, (uint64_t)(v))
		DROP("integrity", c.integrity_failed);
		DROP("replay", c.replay_dropped);
		DROP("padding", c.invalid_padding);
		DROP("cipher", c.cipher_failed);
		DROP("malformed", c.malformed);
		DROP("lifetime", c.lifetime_dropped);
		DROP("no_sa", c.no_sa_dropped);
		DROP("policy", c.policy_dropped);
		DROP("encap", t->encap_err);
		DROP("send", t->send_err);
#undef DROP
	}
	help(&b, "minigw_bgp_neighbor_state", "gauge",
	    "BGP FSM state: 0 idle .. 5 established");
	help(&b, "minigw_bgp_neighbor_prefixes", "gauge",
	    "prefixes by kind (received, accepted, sent)");
	help(&b, "minigw_bgp_neighbor_messages_total", "counter",
	    "BGP messages by direction");
	for (i = 0; i < gw->n_peers; i++) {
		if (vpnr_bgp_peer_get_info(gw->ctx, gw->peers[i]->id, &pi) !=
		    VPNR_OK)
			continue;
		vpnr_addr_format(&gw->peers[i]->cfg.addr, a, sizeof(a));
		mgw_textbuf_printf(&b,
		    "minigw_bgp_neighbor_state{neighbor=\"%s\"} %u\n"
		    "minigw_bgp_neighbor_prefixes{neighbor=\"%s\",kind="
		    "\"received\"} %u\n"
		    "minigw_bgp_neighbor_prefixes{neighbor=\"%s\",kind="
		    "\"accepted\"} %u\n"
		    "minigw_bgp_neighbor_prefixes{neighbor=\"%s\",kind="
		    "\"sent\"} %u\n"
		    "minigw_bgp_neighbor_messages_total{neighbor=\"%s\",dir="
		    "\"in\"} %" PRIu64 "\n"
		    "minigw_bgp_neighbor_messages_total{neighbor=\"%s\",dir="
		    "\"out\"} %" PRIu64 "\n",
		    a, pi.state, a, pi.pfx_received_v4 + pi.pfx_received_v6, a,
		    pi.pfx_accepted_v4 + pi.pfx_accepted_v6, a,
		    pi.pfx_sent_v4 + pi.pfx_sent_v6, a, pi.msgs_in, a,
		    pi.msgs_out);
	}
	if (vpnr_ike_get_stats(gw->ctx, &st) == VPNR_OK) {
		help(&b, "minigw_ike_half_open", "gauge",
		    "responder IKE SAs waiting for IKE_AUTH, and the "
		    "addresses they come from");
		mgw_textbuf_printf(&b,
		    "minigw_ike_half_open %u\n"
		    "minigw_ike_half_open_sources %u\n",
		    st.half_open, st.half_open_sources);
		help(&b, "minigw_ike_refused_total", "counter",
		    "IKE messages refused before any state, by reason");
		mgw_textbuf_printf(&b,
		    "minigw_ike_refused_total{reason=\"cookie\"} %" PRIu64 "\n"
		    "minigw_ike_refused_total{reason=\"per_source\"} %" PRIu64
		    "\n"
		    "minigw_ike_refused_total{reason=\"limit\"} %" PRIu64 "\n"
		    "minigw_ike_refused_total{reason=\"critical\"} %" PRIu64
		    "\n"
		    "minigw_ike_refused_total{reason=\"version\"} %" PRIu64 "\n"
		    "minigw_ike_refused_total{reason=\"rate_limited\"} %" PRIu64
		    "\n"
		    "minigw_ike_refused_total{reason=\"malformed\"} %" PRIu64
		    "\n",
		    st.cookies_sent, st.refused_per_source, st.refused_limit,
		    st.refused_critical, st.refused_version,
		    st.notifies_rate_limited, st.malformed);
	}
	help(&b, "minigw_routes", "gauge", "routes minigw keeps in the kernel");
	mgw_textbuf_printf(&b, "minigw_routes %d\n", gw->n_rts);
	help(&b, "minigw_route_conflicts_total", "counter",
	    "routes not installed because one minigw did not make was there");
	mgw_textbuf_printf(&b, "minigw_route_conflicts_total %" PRIu64 "\n",
	    gw->rt_conflicts);
	help(&b, "minigw_reloads_total", "counter", "reloads by result");
	mgw_textbuf_printf(&b,
	    "minigw_reloads_total{result=\"ok\"} %" PRIu64 "\n"
	    "minigw_reloads_total{result=\"error\"} %" PRIu64 "\n",
	    gw->reloads - gw->reload_errors, gw->reload_errors);
	return b.p;
}

/* ---- HTTP ------------------------------------------------------------- */

struct hconn {
	uv_tcp_t tcp;
	struct mgw *gw;
	char req[1024];
	size_t len;
	uv_write_t wr;
	char *reply;
};

static void
h_closed(uv_handle_t *h)
{
	struct hconn *c = h->data;

	free(c->reply);
	free(c);
}

static void
h_written(uv_write_t *w, int status)
{
	struct hconn *c = w->data;

	uv_close((uv_handle_t *)&c->tcp, h_closed);
}

static void
h_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	struct hconn *c = h->data;

	buf->base = c->req + c->len;
	buf->len = sizeof(c->req) - 1 - c->len;
}

static void
h_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct hconn *c = s->data;
	char *body;
	uv_buf_t b;
	int ok;

	if (n < 0 || c->len + (size_t)n >= sizeof(c->req) - 1) {
		uv_close((uv_handle_t *)&c->tcp, h_closed);
		return;
	}
	c->len += (size_t)n;
	c->req[c->len] = '\0';
	if (strstr(c->req, "\r\n\r\n") == NULL &&
	    strstr(c->req, "\n\n") == NULL)
		return;
	uv_read_stop(s);
	ok = strncmp(c->req, "GET ", 4) == 0;
	body = ok ? mgw_metrics(c->gw) : NULL;
	if (asprintf(&c->reply,
		"HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4\r\n"
		"Connection: close\r\n\r\n%s",
		ok ? "200 OK" : "405 Method Not Allowed",
		body != NULL ? body : "") < 0)
		c->reply = NULL;
	free(body);
	if (c->reply == NULL) {
		uv_close((uv_handle_t *)&c->tcp, h_closed);
		return;
	}
	b = uv_buf_init(c->reply, (unsigned int)strlen(c->reply));
	c->wr.data = c;
	if (uv_write(&c->wr, s, &b, 1, h_written) < 0)
		uv_close((uv_handle_t *)&c->tcp, h_closed);
}

static void
h_conn(uv_stream_t *server, int status)
{
	struct mgw *gw = server->data;
	struct hconn *c;

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->gw = gw;
	uv_tcp_init(gw->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, h_alloc, h_read) < 0)
		uv_close((uv_handle_t *)&c->tcp, h_closed);
}

/* listen: "ADDR:PORT" or "[V6]:PORT". */
int
mgw_metrics_start(struct mgw *gw, const char *listen)
{
	struct sockaddr_storage ss;
	vpnr_addr a;
	char host[64];
	int rc;

	if (vpnr_addr_parse(&a, listen) != VPNR_OK || a.port == 0)
		return UV_EINVAL;
	vpnr_addr_format(&a, host, sizeof(host));
	if (a.family == VPNR_AF_INET) {
		*strrchr(host, ':') = '\0';
		rc = uv_ip4_addr(host, a.port, (struct sockaddr_in *)&ss);
	} else {
		memset(&ss, 0, sizeof(ss));
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(a.port);
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, a.bytes, 16);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	uv_tcp_init(gw->loop, &gw->metrics);
	gw->metrics.data = gw;
	gw->metrics_on = 1;
	if ((rc = uv_tcp_bind(&gw->metrics, (struct sockaddr *)&ss, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&gw->metrics, 8, h_conn)) < 0)
		return rc;
	return 0;
}

void
mgw_metrics_stop(struct mgw *gw)
{
	if (!gw->metrics_on)
		return;
	gw->metrics_on = 0;
	uv_close((uv_handle_t *)&gw->metrics, NULL);
}
