/*
 * "show ..." answers, as a router prints them (text) or as JSON built
 * with json-c (escaping done by the library, never by hand).  The
 * fields follow what the cloud how-tos check on a NEC IX or Cisco
 * router: show ikev2 sa / child-sa with per-SA statistics, show ip bgp
 * summary, show ip bgp neighbors X routes | advertised-routes.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "minigw.h"
#include "textbuf.h"

static const char *
tname(uint32_t type, uint16_t id)
{
	const char *n = vpnr_transform_name(type, id);

	return n != NULL ? n : "-";
}

static const char *const tstate[] = { "IDLE", "CONNECTING", "ESTABLISHED",
	"CLOSING" };
static const char *const bstate[] = { "Idle", "Connect", "Active", "OpenSent",
	"OpenConfirm", "Established" };

static void
jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

#define JS(o, k, v) jadd((o), (k), json_object_new_string(v))
#define JI(o, k, v) jadd((o), (k), json_object_new_int64((int64_t)(v)))
#define JB(o, k, v) jadd((o), (k), json_object_new_boolean((v) != 0))

/* "1d02h03m", "00:12:34" as routers print up/down times. */
static void
fmt_dur(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m",
		    s / 86400, s % 86400 / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
		    s / 3600, s % 3600 / 60, s % 60);
}

static const char *
af(const vpnr_addr *a, char *buf, size_t len)
{
	return vpnr_addr_format(a, buf, len);
}

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
	F(policy_dropped),
#undef F
};

static uint64_t
cval(const vpnr_esp_counters *c, size_t i)
{
	return *(const uint64_t *)(const void *)((const char *)c +
	    cnt_fields[i].off);
}

static void
counters_json(json_object *o, const vpnr_esp_counters *c)
{
	size_t i;

	for (i = 0; i < sizeof(cnt_fields) / sizeof(cnt_fields[0]); i++)
		JI(o, cnt_fields[i].name, cval(c, i));
}

static void
counters_text(struct mgw_textbuf *b, const vpnr_esp_counters *c)
{
	size_t i;

	for (i = 0; i < sizeof(cnt_fields) / sizeof(cnt_fields[0]); i++)
		mgw_textbuf_printf(b, "%s%s=%" PRIu64, i ? " " : "",
		    cnt_fields[i].name, cval(c, i));
}

/* ---- SA walks ---------------------------------------------------------- */

struct sawalk {
	struct mgw *gw;
	struct mgw_tunnel *t; /* NULL = all */
	json_object *arr;
	struct mgw_textbuf *b;
	int n;
};

static json_object *
sa_json(struct mgw *gw, const vpnr_esp_sa_info *i)
{
	json_object *o = json_object_new_object();
	struct mgw_tunnel *t = mgw_tunnel_by_if_id(gw, i->if_id);
	char s[64], d[64], spi[16], enc[48];
	vpnr_tstamp now = vpnr_uv_now(gw->drv);
	int64_t left = -1;

	if (t != NULL && i->installed_at != 0)
		left = (int64_t)t->cfg.child_lifetime -
		    (int64_t)((now - i->installed_at) / VPNR_SECONDS);
	snprintf(spi, sizeof(spi), "%08" PRIx32, i->spi);
	snprintf(enc, sizeof(enc), "%s-%u",
	    tname(VPNR_TRANSFORM_ENCR, i->encr_id), i->encr_key_bits);
	JI(o, "sa_id", i->sa_id);
	JS(o, "tunnel", t != NULL ? t->cfg.name : "");
	JS(o, "spi", spi);
	JS(o, "protocol", "ESP");
	JS(o, "dir", i->direction == VPNR_DIR_IN ? "in" : "out");
	JI(o, "active", i->active);
	JI(o, "if_id", i->if_id);
	JS(o, "encr", enc);
	JS(o, "integ", tname(VPNR_TRANSFORM_INTEG, i->integ_id));
	JI(o, "esn", (i->flags & VPNR_SA_F_ESN) != 0);
	JB(o, "udp_encap", i->flags & VPNR_SA_F_UDP_ENCAP);
	JS(o, "src", af(&i->src, s, sizeof(s)));
	JS(o, "dst", af(&i->dst, d, sizeof(d)));
	JI(o, "seq", i->seq);
	JI(o, "replay_window", i->replay_window);
	JI(o, "remaining_s", left < 0 ? 0 : left);
	JI(o, "soft_expired", i->soft_expired);
	JI(o, "hard_expired", i->hard_expired);
	counters_json(o, &i->counters);
	return o;
}

static int
walk_sa(const vpnr_esp_sa_info *i, void *arg)
{
	struct sawalk *w = arg;

	if (w->t == NULL || w->t->if_id == i->if_id)
		json_object_array_add(w->arr, sa_json(w->gw, i));
	return 0;
}

/* ---- show tunnels (and the old "show") ---------------------------------- */

static json_object *
tunnels_json(struct mgw *gw)
{
	json_object *top = json_object_new_object(), *arr, *o;
	struct sawalk w;
	vpnr_tunnel_info ti;
	vpnr_esp_counters c;
	struct mgw_tunnel *t;
	char r[64];
	int i, have;

	arr = json_object_new_array();
	for (i = 0; i < gw->n_tuns; i++) {
		t = gw->tuns[i];
		o = json_object_new_object();
		have = t->id != 0 &&
		    vpnr_tunnel_get_info(gw->ctx, t->id, &ti) == VPNR_OK;
		memset(&c, 0, sizeof(c));
		vpnr_esp_get_tunnel_counters(gw->esp, t->if_id, &c);
		JS(o, "name", t->cfg.name);
		JI(o, "id", t->id);
		JI(o, "if_id", t->if_id);
		JS(o, "tun", t->tun_name);
		JS(o, "remote", af(&t->remote, r, sizeof(r)));
		JS(o, "state",
		    have && ti.state < 4 ?
			tstate[ti.state] :
			(t->child_up ? "MANUAL" : "UNKNOWN"));
		JB(o, "child_up", t->child_up);
		JI(o, "child_rekeys", have ? ti.child_rekeys : 0);
		JI(o, "ike_rekeys", have ? ti.ike_rekeys : 0);
		JI(o, "ups", t->ups);
		JI(o, "downs", t->downs);
		JI(o, "tun_rx", t->tun_rx);
		JI(o, "tun_tx", t->tun_tx);
		JI(o, "tun_tx_err", t->tun_tx_err);
		JI(o, "encap_err", t->encap_err);
		JI(o, "decap_err",
		    c.integrity_failed + c.replay_dropped + c.invalid_padding +
			c.cipher_failed + c.malformed + c.lifetime_dropped +
			c.policy_dropped);
		JI(o, "send_err", t->send_err);
		JI(o, "mss_clamped", t->mss_clamped);
		JI(o, "tx_batches", t->tx_batches);
		JI(o, "gso_sends", t->gso_sends);
		JI(o, "tso_segments", t->tso_segments);
		JI(o, "gro_merged", t->gro_merged);
		JI(o, "natt_fd", gw->natt_fd);
		counters_json(o, &c);
		json_object_array_add(arr, o);
	}
	jadd(top, "tunnels", arr);
	w.gw = gw;
	w.t = NULL;
	w.arr = json_object_new_array();
	vpnr_esp_sa_walk(gw->esp, walk_sa, &w);
	jadd(top, "child_sas", w.arr);
	return top;
}

static void
tunnels_text(struct mgw *gw, struct mgw_textbuf *b)
{
	json_object *top = tunnels_json(gw), *arr, *o, *sas;
	vpnr_esp_counters c;
	struct mgw_tunnel *t;
	size_t i, j;

	arr = json_object_object_get(top, "tunnels");
	mgw_textbuf_printf(b, "%-12s %-8s %-8s %-12s %-16s %-6s %12s %12s\n",
	    "Tunnel", "If", "If-id", "State", "Remote", "Child", "Pkts-in",
	    "Pkts-out");
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		t = gw->tuns[i];
		mgw_textbuf_printf(b,
		    "%-12s %-8s %-8u %-12s %-16s %-6s %12" PRId64 " %12" PRId64
		    "\n",
		    t->cfg.name, t->tun_name, t->if_id,
		    json_object_get_string(json_object_object_get(o, "state")),
		    json_object_get_string(json_object_object_get(o, "remote")),
		    t->child_up ? "up" : "down",
		    json_object_get_int64(
			json_object_object_get(o, "packets_in")),
		    json_object_get_int64(
			json_object_object_get(o, "packets_out")));
	}
	/* The counters in full, one tunnel per block (the old --show). */
	for (i = 0; i < (size_t)gw->n_tuns; i++) {
		t = gw->tuns[i];
		memset(&c, 0, sizeof(c));
		vpnr_esp_get_tunnel_counters(gw->esp, t->if_id, &c);
		mgw_textbuf_printf(b,
		    "\ntunnel %s (%s): tun_rx=%" PRIu64 " tun_tx=%" PRIu64
		    " encap_err=%" PRIu64 " send_err=%" PRIu64
		    " mss_clamped=%" PRIu64 " tx_batches=%" PRIu64
		    " gso_sends=%" PRIu64 " tso_segments=%" PRIu64
		    " gro_merged=%" PRIu64 "\n  ",
		    t->cfg.name, t->tun_name, t->tun_rx, t->tun_tx,
		    t->encap_err, t->send_err, t->mss_clamped, t->tx_batches,
		    t->gso_sends, t->tso_segments, t->gro_merged);
		counters_text(b, &c);
		mgw_textbuf_printf(b, "\n");
		sas = json_object_object_get(top, "child_sas");
		for (j = 0; j < json_object_array_length(sas); j++) {
			o = json_object_array_get_idx(sas, j);
			if ((uint32_t)json_object_get_int64(
				json_object_object_get(o, "if_id")) != t->if_id)
				continue;
			mgw_textbuf_printf(b,
			    "  child sa spi %s %-3s %s/%s%s\n",
			    json_object_get_string(
				json_object_object_get(o, "spi")),
			    json_object_get_string(
				json_object_object_get(o, "dir")),
			    json_object_get_string(
				json_object_object_get(o, "encr")),
			    json_object_get_string(
				json_object_object_get(o, "integ")),
			    json_object_get_int64(
				json_object_object_get(o, "active")) ?
				" (active)" :
				"");
		}
	}
	json_object_put(top);
}

/* ---- show ike-sa ------------------------------------------------------- */

static json_object *
ike_json(struct mgw *gw)
{
	json_object *arr = json_object_new_array(), *o;
	vpnr_tunnel_info ti;
	struct mgw_tunnel *t;
	vpnr_tstamp now = vpnr_uv_now(gw->drv);
	char l[64], r[64], spi[40];
	int64_t age, left;
	int i;

	for (i = 0; i < gw->n_tuns; i++) {
		t = gw->tuns[i];
		if (t->id == 0 ||
		    vpnr_tunnel_get_info(gw->ctx, t->id, &ti) != VPNR_OK)
			continue;
		o = json_object_new_object();
		age = ti.established_at != 0 && ti.state == 2 ?
		    (int64_t)((now - ti.established_at) / VPNR_SECONDS) :
		    0;
		left = ti.state == 2 ? (int64_t)t->cfg.ike_lifetime - age : 0;
		JS(o, "tunnel", t->cfg.name);
		JS(o, "interface", t->tun_name);
		JS(o, "state", ti.state < 4 ? tstate[ti.state] : "?");
		snprintf(spi, sizeof(spi), "%016" PRIx64, ti.spi_i);
		JS(o, "spi_i", spi);
		snprintf(spi, sizeof(spi), "%016" PRIx64, ti.spi_r);
		JS(o, "spi_r", spi);
		JS(o, "local", af(&ti.local, l, sizeof(l)));
		JS(o, "remote", af(&ti.remote, r, sizeof(r)));
		JS(o, "encr", tname(VPNR_TRANSFORM_ENCR, ti.ike_encr));
		JI(o, "encr_bits", ti.ike_encr_bits);
		JS(o, "prf", tname(VPNR_TRANSFORM_PRF, ti.ike_prf));
		JS(o, "integ", tname(VPNR_TRANSFORM_INTEG, ti.ike_integ));
		JS(o, "dh", tname(VPNR_TRANSFORM_DH, ti.ike_dh));
		JI(o, "lifetime_s", t->cfg.ike_lifetime);
		JI(o, "remaining_s", left < 0 ? 0 : left);
		JI(o, "age_s", age);
		JB(o, "nat_local", ti.nat_flags & 1);
		JB(o, "nat_remote", ti.nat_flags & 2);
		JB(o, "nat_forced", ti.nat_flags & 4);
		JI(o, "ike_rekeys", ti.ike_rekeys);
		JI(o, "child_rekeys", ti.child_rekeys);
		JI(o, "retransmits", ti.retransmits);
		JI(o, "malformed", ti.malformed);
		JS(o, "last_error",
		    ti.last_error != 0 ? vpnr_err_name(ti.last_error) : "");
		json_object_array_add(arr, o);
	}
	return arr;
}

static const char *
jstr(json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static int64_t
jint(json_object *o, const char *k)
{
	return json_object_get_int64(json_object_object_get(o, k));
}

static void
ike_text(struct mgw *gw, struct mgw_textbuf *b)
{
	json_object *arr = ike_json(gw), *o;
	size_t i;

	mgw_textbuf_printf(b, "IKEv2 SA: %zu\n", json_object_array_length(arr));
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		mgw_textbuf_printf(b,
		    "\n  Interface %s (tunnel %s), %s\n"
		    "    SPI (I)%s (R)%s\n"
		    "    Local %s, remote %s\n"
		    "    Encryption %s-%" PRId64
		    ", PRF %s, integrity %s, DH %s\n"
		    "    Lifetime %" PRId64 " secs, remaining %" PRId64
		    " secs, age %" PRId64 " secs\n"
		    "    NAT: local %s, remote %s%s\n"
		    "    Rekeys: IKE %" PRId64 ", CHILD %" PRId64
		    ", retransmits %" PRId64 "%s%s\n",
		    jstr(o, "interface"), jstr(o, "tunnel"), jstr(o, "state"),
		    jstr(o, "spi_i"), jstr(o, "spi_r"), jstr(o, "local"),
		    jstr(o, "remote"), jstr(o, "encr"), jint(o, "encr_bits"),
		    jstr(o, "prf"), jstr(o, "integ"), jstr(o, "dh"),
		    jint(o, "lifetime_s"), jint(o, "remaining_s"),
		    jint(o, "age_s"),
		    jint(o, "nat_local") ? "behind NAT" : "no NAT",
		    jint(o, "nat_remote") ? "behind NAT" : "no NAT",
		    jint(o, "nat_forced") ? " (UDP encapsulation forced)" : "",
		    jint(o, "ike_rekeys"), jint(o, "child_rekeys"),
		    jint(o, "retransmits"),
		    jstr(o, "last_error")[0] ? ", last error " : "",
		    jstr(o, "last_error"));
	}
	json_object_put(arr);
}

/* ---- show child-sa ----------------------------------------------------- */

static json_object *
child_json(struct mgw *gw)
{
	struct sawalk w;

	w.gw = gw;
	w.t = NULL;
	w.arr = json_object_new_array();
	vpnr_esp_sa_walk(gw->esp, walk_sa, &w);
	return w.arr;
}

static void
child_text(struct mgw *gw, struct mgw_textbuf *b)
{
	json_object *arr = child_json(gw), *o;
	size_t i;
	int in;

	mgw_textbuf_printf(b, "Child SA: %zu\n", json_object_array_length(arr));
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		in = strcmp(jstr(o, "dir"), "in") == 0;
		mgw_textbuf_printf(b,
		    "\n  Tunnel %s, SPI 0x%s, protocol ESP%s, %s\n"
		    "    Local %s, peer %s\n"
		    "    Encryption %s, hash %s, ESN %s\n"
		    "    Remaining lifetime %" PRId64 " secs, anti-replay %s "
		    "(window %" PRId64 ")\n",
		    jstr(o, "tunnel"), jstr(o, "spi"),
		    jint(o, "udp_encap") ? " (UDP encapsulated)" : "",
		    in ? "inbound" : "outbound",
		    in ? jstr(o, "dst") : jstr(o, "src"),
		    in ? jstr(o, "src") : jstr(o, "dst"), jstr(o, "encr"),
		    jstr(o, "integ"), jint(o, "esn") ? "on" : "off",
		    jint(o, "remaining_s"),
		    jint(o, "replay_window") ? "on" : "off",
		    jint(o, "replay_window"));
		if (in)
			mgw_textbuf_printf(b,
			    "    Statistics (inbound):\n"
			    "      packets %" PRId64 ", octets %" PRId64
			    ", invalid SA %" PRId64 ", replay detected %" PRId64
			    "\n      integrity failure %" PRId64
			    ", cipher failure %" PRId64
			    ", packet truncated %" PRId64
			    ", invalid padding %" PRId64
			    "\n      TS unacceptable %" PRId64
			    ", lifetime %" PRId64 ", dummy %" PRId64 "\n",
			    jint(o, "packets_in"), jint(o, "octets_in"),
			    jint(o, "unknown_spi"), jint(o, "replay_dropped"),
			    jint(o, "integrity_failed"),
			    jint(o, "cipher_failed"), jint(o, "malformed"),
			    jint(o, "invalid_padding"),
			    jint(o, "policy_dropped"),
			    jint(o, "lifetime_dropped"),
			    jint(o, "dummy_dropped"));
		else
			mgw_textbuf_printf(b,
			    "    Statistics (outbound%s):\n"
			    "      packets %" PRId64 ", octets %" PRId64
			    ", cipher failure %" PRId64 ", lifetime %" PRId64
			    ", sequence %" PRId64 "\n",
			    jint(o, "active") ? ", active" : "",
			    jint(o, "packets_out"), jint(o, "octets_out"),
			    jint(o, "cipher_failed"),
			    jint(o, "lifetime_dropped"), jint(o, "seq"));
	}
	json_object_put(arr);
}

/* ---- BGP --------------------------------------------------------------- */

static json_object *
peer_json(struct mgw *gw, struct mgw_peer *p)
{
	json_object *o = json_object_new_object();
	vpnr_bgp_peer_info pi;
	char a[64], rid[20];
	uint32_t r;
	uint64_t up;

	memset(&pi, 0, sizeof(pi));
	vpnr_bgp_peer_get_info(gw->ctx, p->id, &pi);
	up = (uv_now(gw->loop) - p->up_since) / 1000;
	r = htonl(pi.peer_router_id);
	inet_ntop(AF_INET, &r, rid, sizeof(rid));
	JS(o, "neighbor", af(&p->cfg.addr, a, sizeof(a)));
	JI(o, "remote_as", p->cfg.remote_as);
	JS(o, "state", pi.state < 6 ? bstate[pi.state] : "?");
	JS(o, "router_id", rid);
	JS(o, "tunnel", p->cfg.tunnel);
	JS(o, "local",
	    p->cfg.local.family ? af(&p->cfg.local, a, sizeof(a)) : "");
	JI(o, "multihop", p->cfg.multihop);
	JI(o, "msgs_in", pi.msgs_in);
	JI(o, "msgs_out", pi.msgs_out);
	JI(o, "updates_in", pi.updates_in);
	JI(o, "updates_out", pi.updates_out);
	JI(o, "up_down_s", up);
	JI(o, "hold_s", pi.hold_s);
	JI(o, "keepalive_s", pi.keepalive_s);
	JI(o, "pfx_received", pi.pfx_received_v4 + pi.pfx_received_v6);
	JI(o, "pfx_accepted", pi.pfx_accepted_v4 + pi.pfx_accepted_v6);
	JI(o, "pfx_sent", pi.pfx_sent_v4 + pi.pfx_sent_v6);
	JI(o, "flaps", pi.flaps);
	JI(o, "malformed", pi.malformed);
	JS(o, "last_reason",
	    pi.last_reason != 0 ? vpnr_err_name(pi.last_reason) : "");
	JI(o, "last_notification_code", pi.last_notif_code);
	JI(o, "last_notification_subcode", pi.last_notif_subcode);
	return o;
}

static json_object *
summary_json(struct mgw *gw)
{
	json_object *top = json_object_new_object(), *arr;
	char rid[20];
	uint32_t r = htonl(gw->router_id);
	int i;

	inet_ntop(AF_INET, &r, rid, sizeof(rid));
	JS(top, "router_id", rid);
	JI(top, "local_as", gw->cfg.g.local_as);
	arr = json_object_new_array();
	for (i = 0; i < gw->n_peers; i++)
		json_object_array_add(arr, peer_json(gw, gw->peers[i]));
	jadd(top, "neighbors", arr);
	return top;
}

static void
summary_text(struct mgw *gw, struct mgw_textbuf *b)
{
	json_object *top = summary_json(gw), *arr, *o;
	char dur[32];
	size_t i;

	mgw_textbuf_printf(b,
	    "BGP router identifier %s, local AS number %" PRId64 "\n",
	    jstr(top, "router_id"), jint(top, "local_as"));
	arr = json_object_object_get(top, "neighbors");
	mgw_textbuf_printf(b, "%zu neighbor(s), %d network(s)\n\n",
	    json_object_array_length(arr), gw->n_nets);
	mgw_textbuf_printf(b, "%-16s %-10s %8s %8s %-10s %s\n", "Neighbor",
	    "AS", "MsgRcvd", "MsgSent", "Up/Down", "State/PfxRcd");
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		fmt_dur((uint64_t)jint(o, "up_down_s"), dur, sizeof(dur));
		if (strcmp(jstr(o, "state"), "Established") == 0)
			mgw_textbuf_printf(b,
			    "%-16s %-10" PRId64 " %8" PRId64 " %8" PRId64
			    " %-10s %" PRId64 "\n",
			    jstr(o, "neighbor"), jint(o, "remote_as"),
			    jint(o, "msgs_in"), jint(o, "msgs_out"), dur,
			    jint(o, "pfx_accepted"));
		else
			mgw_textbuf_printf(b,
			    "%-16s %-10" PRId64 " %8" PRId64 " %8" PRId64
			    " %-10s %s\n",
			    jstr(o, "neighbor"), jint(o, "remote_as"),
			    jint(o, "msgs_in"), jint(o, "msgs_out"), dur,
			    jstr(o, "state"));
	}
	json_object_put(top);
}

struct ribwalk {
	json_object *arr;
	struct mgw *gw;
	struct mgw_peer *p;
	int rib;
};

static const char *
origin_name(uint32_t origin)
{
	switch (origin) {
	case VPNR_ORIGIN_IGP:
		return "igp";
	case VPNR_ORIGIN_EGP:
		return "egp";
	default:
		return "incomplete";
	}
}

/*
 * The AS path as the library hands it out: for a learned route what
 * the neighbour sent (its AS first), for our own networks empty in
 * the Loc-RIB and, in advertised-routes, what we send (our AS first,
 * prepended as configured).  "path" is the ASNs as text, "as_path"
 * the same as numbers.
 */
static int
rib_cb(const vpnr_prefix *prefix, const vpnr_path_attrs *attrs,
    uint64_t peer_id, void *arg)
{
	struct ribwalk *w = arg;
	json_object *o = json_object_new_object();
	json_object *asp = json_object_new_array();
	struct mgw_peer *src =
	    peer_id != 0 ? mgw_peer_by_id(w->gw, peer_id) : NULL;
	char p[80], nh[64], path[1024] = "";
	size_t i, k = 0;
	int n;

	snprintf(p, sizeof(p), "%s/%u", af(&prefix->addr, nh, sizeof(nh)),
	    prefix->len);
	JS(o, "network", p);
	JS(o, "next_hop", af(&attrs->nexthop, nh, sizeof(nh)));
	if (attrs->flags & VPNR_PATH_F_HAS_MED)
		JI(o, "metric", attrs->med);
	for (i = 0; i < attrs->n_as_path; i++) {
		json_object_array_add(asp,
		    json_object_new_int64(attrs->as_path[i]));
		/* text cut short on a very long path; the array is whole */
		n = snprintf(path + k, sizeof(path) - k, "%s%u", i ? " " : "",
		    attrs->as_path[i]);
		if (n > 0 && (size_t)n < sizeof(path) - k)
			k += (size_t)n;
	}
	JS(o, "path", path);
	jadd(o, "as_path", asp);
	JS(o, "origin", origin_name(attrs->origin));
	JS(o, "from",
	    src != NULL ? af(&src->cfg.addr, nh, sizeof(nh)) : "local");
	JB(o, "best", w->rib != VPNR_RIB_ADJ_IN);
	json_object_array_add(w->arr, o);
	return 0;
}

static json_object *
rib_json(struct mgw *gw, struct mgw_peer *p, int rib)
{
	struct ribwalk w;

	w.arr = json_object_new_array();
	w.gw = gw;
	w.p = p;
	w.rib = rib;
	vpnr_bgp_rib_walk(gw->ctx, rib, p != NULL ? p->id : 0, rib_cb, &w);
	return w.arr;
}

/* "igp" -> "i", as in the "Origin codes" line */
static const char *
origin_code(const char *name)
{
	if (strcmp(name, "igp") == 0)
		return "i";
	if (strcmp(name, "egp") == 0)
		return "e";
	return "?";
}

static void
rib_text(json_object *arr, struct mgw_textbuf *b, const char *rid, uint32_t las)
{
	json_object *o, *m;
	size_t i;

	mgw_textbuf_printf(b,
	    "BGP table, local router ID is %s, local AS %u\n"
	    "Status codes: * valid, > best\n"
	    "Origin codes: i - IGP, e - EGP, ? - incomplete\n\n"
	    "   %-20s %-16s %10s %6s %s\n",
	    rid, las, "Network", "Next Hop", "Metric", "LocPrf", "Path");
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		m = json_object_object_get(o, "metric");
		mgw_textbuf_printf(b, "%-2s %-20s %-16s %10s %6s %s%s%s\n",
		    jint(o, "best") ? "*>" : "*", jstr(o, "network"),
		    jstr(o, "next_hop"),
		    m != NULL ? json_object_get_string(m) : "", "",
		    jstr(o, "path"), jstr(o, "path")[0] ? " " : "",
		    origin_code(jstr(o, "origin")));
	}
	mgw_textbuf_printf(b, "\nTotal number of prefixes %zu\n",
	    json_object_array_length(arr));
}

static void
neighbor_text(json_object *o, struct mgw_textbuf *b)
{
	char dur[32];

	fmt_dur((uint64_t)jint(o, "up_down_s"), dur, sizeof(dur));
	mgw_textbuf_printf(b,
	    "BGP neighbor is %s, remote AS %" PRId64 ", external link\n"
	    "  BGP state = %s, %s %s\n"
	    "  Remote router ID %s, hold time %" PRId64 ", keepalive %" PRId64
	    "\n"
	    "  Tunnel %s, update-source %s, multihop TTL %" PRId64 "\n"
	    "  Messages: received %" PRId64 " (updates %" PRId64
	    "), sent %" PRId64 " (updates %" PRId64 ")\n"
	    "  Prefixes: received %" PRId64 ", accepted %" PRId64
	    ", advertised %" PRId64 "\n"
	    "  Connections dropped %" PRId64 "%s%s\n",
	    jstr(o, "neighbor"), jint(o, "remote_as"), jstr(o, "state"),
	    strcmp(jstr(o, "state"), "Established") == 0 ? "up for" :
							   "down for",
	    dur, jstr(o, "router_id"), jint(o, "hold_s"),
	    jint(o, "keepalive_s"),
	    jstr(o, "tunnel")[0] ? jstr(o, "tunnel") : "-",
	    jstr(o, "local")[0] ? jstr(o, "local") : "-", jint(o, "multihop"),
	    jint(o, "msgs_in"), jint(o, "updates_in"), jint(o, "msgs_out"),
	    jint(o, "updates_out"), jint(o, "pfx_received"),
	    jint(o, "pfx_accepted"), jint(o, "pfx_sent"), jint(o, "flaps"),
	    jstr(o, "last_reason")[0] ? ", last reset: " : "",
	    jstr(o, "last_reason"));
}

/* ---- show routes ------------------------------------------------------- */

static json_object *
routes_json(struct mgw *gw)
{
	json_object *arr = json_object_new_array(), *o, *nh, *n;
	struct mgw_rt *r;
	char p[80], a[64];
	int i, j;

	for (i = 0; i < gw->n_rts; i++) {
		r = &gw->rts[i];
		o = json_object_new_object();
		snprintf(p, sizeof(p), "%s/%u",
		    af(&r->prefix.addr, a, sizeof(a)), r->prefix.len);
		JS(o, "prefix", p);
		JB(o, "installed", r->installed);
		JB(o, "conflict", r->conflict);
		JS(o, "proto",
		    !r->installed ?
			"" :
			(r->proto == MGW_RTPROT ? "minigw" : "bgp"));
		JB(o, "multipath", r->installed && r->n_inst > 1);
		nh = json_object_new_array();
		for (j = 0; j < r->n; j++) {
			n = json_object_new_object();
			JS(n, "tunnel", r->nh[j].t->cfg.name);
			JS(n, "dev", r->nh[j].t->tun_name);
			JS(n, "source", r->nh[j].peer_id ? "bgp" : "static");
			JB(n, "up", r->nh[j].t->child_up);
			json_object_array_add(nh, n);
		}
		jadd(o, "nexthops", nh);
		json_object_array_add(arr, o);
	}
	return arr;
}

static void
routes_text(struct mgw *gw, struct mgw_textbuf *b)
{
	json_object *arr = routes_json(gw), *o, *nh, *n;
	size_t i, j;

	mgw_textbuf_printf(b,
	    "Codes: S - static, B - bgp, * - in the kernel, "
	    "! - a route minigw did not make is in the way\n\n");
	for (i = 0; i < json_object_array_length(arr); i++) {
		o = json_object_array_get_idx(arr, i);
		nh = json_object_object_get(o, "nexthops");
		mgw_textbuf_printf(b, "%s %s\n",
		    jint(o, "installed") ? "*" :
					   (jint(o, "conflict") ? "!" : " "),
		    jstr(o, "prefix"));
		for (j = 0; j < json_object_array_length(nh); j++) {
			n = json_object_array_get_idx(nh, j);
			mgw_textbuf_printf(b, "    %s via tunnel %s (%s)%s\n",
			    strcmp(jstr(n, "source"), "bgp") == 0 ? "B" : "S",
			    jstr(n, "tunnel"), jstr(n, "dev"),
			    jint(n, "up") ? "" : ", tunnel down");
		}
	}
	json_object_put(arr);
}

/* ---- dispatch ---------------------------------------------------------- */

static char *
finish_json(json_object *o)
{
	char *s;
	const char *j = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = strlen(j);

	if ((s = malloc(n + 2)) != NULL) {
		memcpy(s, j, n);
		s[n] = '\n';
		s[n + 1] = '\0';
	}
	json_object_put(o);
	return s;
}

static char *error_reply(int json, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
error_reply(int json, const char *fmt, ...)
{
	char msg[512], *s;
	json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json) {
		o = json_object_new_object();
		JS(o, "error", msg);
		return finish_json(o);
	}
	if (asprintf(&s, "error: %s\n", msg) < 0)
		return NULL;
	return s;
}

/*
 * what: "tunnels", "ike-sa", "child-sa", "bgp summary", "bgp neighbors
 * [ADDR [routes|advertised-routes|received-routes]]", "bgp routes",
 * "routes".  A reply starting with "error: " (or {"error":..}) is a
 * failed command.
 */
char *
mgw_show(struct mgw *gw, const char *what, int json)
{
	struct mgw_textbuf b = { NULL, 0, 0 };
	char w[256], *tok[6], *save = NULL, rid[20];
	json_object *o = NULL;
	struct mgw_peer *p = NULL;
	vpnr_addr a;
	uint32_t r;
	int n = 0, rib = 0;

	snprintf(w, sizeof(w), "%s", what);
	for (tok[n] = strtok_r(w, " ", &save); tok[n] != NULL && n < 5;
	     tok[++n] = strtok_r(NULL, " ", &save))
		;
	if ((b.p = malloc(b.cap = 1024)) == NULL)
		return NULL;
	b.p[0] = '\0';
	r = htonl(gw->router_id);
	inet_ntop(AF_INET, &r, rid, sizeof(rid));
	if (n == 0 || strcmp(tok[0], "tunnels") == 0) {
		if (json)
			o = tunnels_json(gw);
		else
			tunnels_text(gw, &b);
	} else if (strcmp(tok[0], "ike-sa") == 0) {
		if (json)
			o = ike_json(gw);
		else
			ike_text(gw, &b);
	} else if (strcmp(tok[0], "child-sa") == 0) {
		if (json)
			o = child_json(gw);
		else
			child_text(gw, &b);
	} else if (strcmp(tok[0], "routes") == 0) {
		if (json)
			o = routes_json(gw);
		else
			routes_text(gw, &b);
	} else if (strcmp(tok[0], "bgp") == 0 &&
	    (n == 1 || strcmp(tok[1], "summary") == 0)) {
		if (json)
			o = summary_json(gw);
		else
			summary_text(gw, &b);
	} else if (strcmp(tok[0], "bgp") == 0 &&
	    strcmp(tok[1], "routes") == 0) {
		o = rib_json(gw, NULL, VPNR_RIB_LOC);
		if (!json) {
			rib_text(o, &b, rid, gw->cfg.g.local_as);
			json_object_put(o);
			o = NULL;
		}
	} else if (strcmp(tok[0], "bgp") == 0 &&
	    (strcmp(tok[1], "neighbors") == 0 ||
		strcmp(tok[1], "neighbor") == 0)) {
		if (n >= 3 &&
		    (vpnr_addr_parse(&a, tok[2]) != VPNR_OK ||
			(p = mgw_peer_by_addr(gw, &a)) == NULL)) {
			free(b.p);
			return error_reply(json, "no bgp neighbor '%s'",
			    tok[2]);
		}
		if (n >= 4) {
			if (strcmp(tok[3], "routes") == 0)
				rib = VPNR_RIB_LOC;
			else if (strcmp(tok[3], "advertised-routes") == 0)
				rib = VPNR_RIB_ADJ_OUT;
			else if (strcmp(tok[3], "received-routes") == 0)
				rib = VPNR_RIB_ADJ_IN;
			else {
				free(b.p);
				return error_reply(json,
				    "'%s': allowed routes, advertised-routes, "
				    "received-routes",
				    tok[3]);
			}
			o = rib_json(gw, p, rib);
			if (!json) {
				rib_text(o, &b, rid, gw->cfg.g.local_as);
				json_object_put(o);
				o = NULL;
			}
		} else if (p != NULL) {
			o = peer_json(gw, p);
			if (!json) {
				neighbor_text(o, &b);
				json_object_put(o);
				o = NULL;
			}
		} else {
			o = summary_json(gw);
			if (!json) {
				json_object *arr =
				    json_object_object_get(o, "neighbors");
				size_t i;

				for (i = 0; i < json_object_array_length(arr);
				     i++) {
					neighbor_text(
					    json_object_array_get_idx(arr, i),
					    &b);
					mgw_textbuf_printf(&b, "\n");
				}
				json_object_put(o);
				o = NULL;
			}
		}
	} else {
		free(b.p);
		return error_reply(json,
		    "unknown show '%s' (allowed: tunnels, ike-sa, child-sa, "
		    "routes, bgp summary, bgp routes, bgp neighbors [ADDR "
		    "[routes|advertised-routes|received-routes]])",
		    what);
	}
	if (o != NULL) {
		free(b.p);
		return finish_json(o);
	}
	return b.p;
}
