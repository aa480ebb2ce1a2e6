/*
 * Tunnels, BGP neighbours, networks, loopbacks and static routes, made
 * from the configuration; reload applies only what changed (a tunnel
 * or neighbour that compares equal is not touched: same SPIs, same
 * BGP session).  The library's events come here too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minigw.h"

struct mgw_tunnel *
mgw_tunnel_by_name(struct mgw *gw, const char *name)
{
	int i;

	for (i = 0; i < gw->n_tuns; i++)
		if (strcmp(gw->tuns[i]->cfg.name, name) == 0)
			return gw->tuns[i];
	return NULL;
}

struct mgw_tunnel *
mgw_tunnel_by_if_id(struct mgw *gw, uint32_t if_id)
{
	int i;

	for (i = 0; i < gw->n_tuns; i++)
		if (gw->tuns[i]->if_id == if_id)
			return gw->tuns[i];
	return NULL;
}

static struct mgw_tunnel *
tunnel_by_id(struct mgw *gw, uint64_t id)
{
	int i;

	for (i = 0; i < gw->n_tuns; i++)
		if (gw->tuns[i]->id == id)
			return gw->tuns[i];
	return NULL;
}

struct mgw_peer *
mgw_peer_by_addr(struct mgw *gw, const vpnr_addr *a)
{
	int i;

	for (i = 0; i < gw->n_peers; i++)
		if (gw->peers[i]->cfg.addr.family == a->family &&
		    memcmp(gw->peers[i]->cfg.addr.bytes, a->bytes, 16) == 0)
			return gw->peers[i];
	return NULL;
}

struct mgw_peer *
mgw_peer_by_id(struct mgw *gw, uint64_t id)
{
	int i;

	for (i = 0; i < gw->n_peers; i++)
		if (gw->peers[i]->id == id)
			return gw->peers[i];
	return NULL;
}

/* ---- library callbacks ------------------------------------------------ */

/* A tunnel's CHILD_SA came or went: its routes follow at once. */
void
mgw_tunnel_updown(struct mgw_tunnel *t, int up)
{
	if (t->child_up == up)
		return;
	t->child_up = up;
	t->suspect = 0;
	if (up) {
		t->ups++;
		t->up_since = uv_now(t->gw->loop);
	} else
		t->downs++;
	mgw_rt_sync(t->gw);
}

static int
on_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *arg)
{
	struct mgw *gw = arg;
	struct mgw_tunnel *t = tunnel_by_id(gw, ev->tunnel_id);
	vpnr_tunnel_info ti;
	const char *name = vpnr_tunnel_event_name(ev->type);

	printf("EVENT %s tunnel=%" PRIu64 " name=%s reason=%s", name,
	    ev->tunnel_id, t != NULL ? t->cfg.name : "?",
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "OK");
	if (vpnr_tunnel_get_info(ctx, ev->tunnel_id, &ti) == VPNR_OK)
		printf(" spi_in=%08" PRIx32 " spi_out=%08" PRIx32,
		    ti.child_spi_in, ti.child_spi_out);
	if (ev->ike_spi_i != 0)
		printf(" ike_spi=%016" PRIx64 "_i/%016" PRIx64 "_r",
		    ev->ike_spi_i, ev->ike_spi_r);
	if (ev->notify != 0)
		printf(" notify=%u", ev->notify);
	printf("\n");
	mgw_log(ev->type == VPNR_TUNNEL_EV_FAILED ? VPNR_LOG_WARNING :
						    VPNR_LOG_NOTICE,
	    "tunnel %s: %s%s%s", t != NULL ? t->cfg.name : "?", name,
	    ev->reason != 0 ? " " : "",
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "");
	if (t == NULL)
		return VPNR_OK;
	if (ev->type == VPNR_TUNNEL_EV_SUSPECT ||
	    ev->type == VPNR_TUNNEL_EV_LIVE) {
		t->suspect = ev->type == VPNR_TUNNEL_EV_SUSPECT;
		mgw_rt_sync(t->gw);
	} else if (ev->type == VPNR_TUNNEL_EV_CHILD_UP ||
	    ev->type == VPNR_TUNNEL_EV_CHILD_REKEYED)
		mgw_tunnel_updown(t, 1);
	else if (ev->type == VPNR_TUNNEL_EV_DOWN ||
	    (ev->type == VPNR_TUNNEL_EV_CHILD_DOWN &&
		vpnr_tunnel_get_info(ctx, ev->tunnel_id, &ti) == VPNR_OK &&
		ti.n_child_sa == 0))
		mgw_tunnel_updown(t, 0);
	return VPNR_OK;
}

static int
on_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *arg)
{
	const char *name = vpnr_bgp_event_name(ev->type);
	struct mgw *gw = arg;
	struct mgw_peer *p = mgw_peer_by_id(gw, ev->peer_id);
	char a[64] = "?";

	if (p != NULL)
		vpnr_addr_format(&p->cfg.addr, a, sizeof(a));
	printf("BGP_EVENT type=%" PRIu32 " %s peer=%" PRIu64 " addr=%s "
	       "reason=%s\n",
	    ev->type, name, ev->peer_id, a,
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "OK");
	if (ev->type != VPNR_BGP_EV_EOR)
		mgw_log(ev->type == VPNR_BGP_EV_ESTABLISHED ? VPNR_LOG_NOTICE :
							      VPNR_LOG_WARNING,
		    "bgp neighbor %s: %s%s%s", a, name,
		    ev->reason != 0 ? " " : "",
		    ev->reason != 0 ? vpnr_err_name(ev->reason) : "");
	if (p != NULL &&
	    (ev->type == VPNR_BGP_EV_ESTABLISHED ||
		ev->type == VPNR_BGP_EV_DOWN))
		p->up_since = uv_now(gw->loop);
	return VPNR_OK;
}

static void
on_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *arg)
{
	mgw_log(level, "%s: %.*s", subsys, (int)len, msg);
}

const vpnr_callbacks mgw_callbacks = { .tunnel_event = on_tunnel_event,
	.bgp_event = on_bgp_event,
	.log_msg = on_log };

/* Routes learned over BGP go into the TUN of the neighbour's tunnel. */
static int
route_op(vpnr_ctx *ctx, const vpnr_route *rt, void *arg, int add)
{
	struct mgw *gw = arg;
	struct mgw_tunnel *t = NULL;
	char p[64];
	int rc;

	if (rt->if_id != 0)
		t = mgw_tunnel_by_if_id(gw, rt->if_id);
	vpnr_addr_format(&rt->prefix.addr, p, sizeof(p));
	if (t == NULL) {
		printf("ROUTE_%s prefix=%s/%u if_id=%" PRIu32 " skipped\n",
		    add ? "ADD" : "DEL", p, rt->prefix.len, rt->if_id);
		return VPNR_OK;
	}
	rc = add ? mgw_rt_add(gw, &rt->prefix, t, rt->peer_id) :
		   mgw_rt_del(gw, &rt->prefix, t, rt->peer_id);
	mgw_rt_sync(gw);
	printf("ROUTE_%s prefix=%s/%u dev=%s rc=%d\n", add ? "ADD" : "DEL", p,
	    rt->prefix.len, t->tun_name, rc);
	return rc == 0 || (!add && rc == -ESRCH) ? VPNR_OK : VPNR_ERR_DATAPLANE;
}

int
mgw_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	return route_op(ctx, rt, arg, 1);
}

int
mgw_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	return route_op(ctx, rt, arg, 0);
}

/* ---- tunnels ---------------------------------------------------------- */

/*
 * An IPv4-only tunnel interface carries no IPv6: otherwise the kernel
 * sends router solicitations and MLD reports into the tunnel, which a
 * peer with IPv4 traffic selectors drops.
 */
static void
disable_ipv6(const char *ifname)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
	    ifname);
	if ((f = fopen(path, "w")) != NULL) {
		fputs("1\n", f);
		fclose(f);
	}
}

static void
ts_of(const vpnr_prefix *p, vpnr_ts *ts)
{
	int i, bits = p->len, n = p->addr.family == VPNR_AF_INET ? 4 : 16;

	memset(ts, 0, sizeof(*ts));
	ts->port_end = 65535;
	ts->addr_start = p->addr;
	ts->addr_end = p->addr;
	for (i = 0; i < n; i++, bits -= 8)
		if (bits < 8)
			ts->addr_end.bytes[i] |=
			    bits <= 0 ? 0xff : (uint8_t)(0xff >> bits);
}

static int
set_id(vpnr_tunnel_config *tc, const char *s, int local)
{
	vpnr_addr a;
	uint8_t type;
	const uint8_t *v;
	size_t len;

	if (s[0] == '\0')
		return VPNR_OK;
	if (vpnr_addr_parse(&a, s) == VPNR_OK && a.port == 0) {
		type = a.family == VPNR_AF_INET ? VPNR_ID_IPV4_ADDR :
						  VPNR_ID_IPV6_ADDR;
		v = a.bytes;
		len = a.family == VPNR_AF_INET ? 4 : 16;
	} else if (strncmp(s, "keyid:", 6) == 0) {
		type = VPNR_ID_KEY_ID;
		v = (const uint8_t *)s + 6;
		len = strlen(s + 6);
	} else {
		type = VPNR_ID_FQDN;
		v = (const uint8_t *)s;
		len = strlen(s);
	}
	return local ? vpnr_tunnel_config_set_local_id(tc, type, v, len) :
		       vpnr_tunnel_config_set_remote_id(tc, type, v, len);
}

static int
tunnel_config(const struct mgw_cfg_tunnel *c, vpnr_tunnel_config **ptc,
    char *err, size_t len)
{
	vpnr_tunnel_config *tc;
	vpnr_lifetime soft = { 0 }, hard = { 0 };
	vpnr_ts l, r;
	int i, rc = VPNR_OK;

	if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	vpnr_tunnel_config_set_addrs(tc, &c->local_addr, &c->remote_addr);
	vpnr_tunnel_config_set_psk(tc, c->psk, c->psk_len);
	/* The version first: it decides how proposals are read. */
	rc = vpnr_tunnel_config_set_ike_version(tc, (uint32_t)c->ike_version,
	    c->ike_version == 1 && c->aggressive ? VPNR_IKEV1_AGGRESSIVE : 0);
	for (i = 0; i < c->n_ike && rc == VPNR_OK; i++)
		rc = vpnr_tunnel_config_add_ike_proposal(tc, c->ike[i]);
	for (i = 0; i < c->n_esp && rc == VPNR_OK; i++)
		rc = vpnr_tunnel_config_add_esp_proposal(tc, c->esp[i]);
	for (i = 0; i < c->n_local_ts && rc == VPNR_OK; i++) {
		ts_of(&c->local_ts[i], &l);
		ts_of(&c->remote_ts[i < c->n_remote_ts ? i : 0], &r);
		rc = vpnr_tunnel_config_add_ts(tc, &l, &r);
	}
	for (; i < c->n_remote_ts && rc == VPNR_OK; i++) {
		ts_of(&c->local_ts[0], &l);
		ts_of(&c->remote_ts[i], &r);
		rc = vpnr_tunnel_config_add_ts(tc, &l, &r);
	}
	if (rc == VPNR_OK)
		rc = set_id(tc, c->local_id, 1);
	if (rc == VPNR_OK)
		rc = set_id(tc, c->remote_id, 0);
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_if_id(tc, c->if_id);
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_dpd(tc,
		    (vpnr_tstamp)c->dpd_interval * VPNR_SECONDS, c->dpd_action);
	/* The liveness timeout is the library's own, apart from the
	 * handshakes' retransmissions. */
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_liveness(tc,
		    (vpnr_tstamp)c->dpd_interval * VPNR_SECONDS,
		    (vpnr_tstamp)c->dpd_timeout * VPNR_SECONDS);
	/* Fast failover: a tunnel sending into silence steps aside for
	 * another path within `suspect` seconds. */
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_suspect(tc,
		    (vpnr_tstamp)c->suspect * VPNR_SECONDS);
	/* IKEv1 proposes the lifetimes and rekeys before them itself;
	 * IKEv2 has no lifetimes on the wire, only our rekey times. */
	if (rc == VPNR_OK && c->ike_version == 1)
		rc = vpnr_tunnel_config_set_rekey(tc,
		    (vpnr_tstamp)c->ike_lifetime * VPNR_SECONDS,
		    (vpnr_tstamp)c->child_lifetime * VPNR_SECONDS,
		    c->rekey_fuzz);
	else if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_rekey(tc,
		    (vpnr_tstamp)(c->ike_lifetime - c->rekey_margin) *
			VPNR_SECONDS,
		    (vpnr_tstamp)(c->child_lifetime - c->rekey_margin) *
			VPNR_SECONDS,
		    c->rekey_fuzz);
	if (c->child_lifetime_kb != 0 || c->soft_bytes != 0) {
		hard.bytes = c->child_lifetime_kb * 1024;
		soft.bytes =
		    c->soft_bytes != 0 ? c->soft_bytes : hard.bytes / 10 * 9;
		if (rc == VPNR_OK)
			rc = vpnr_tunnel_config_set_child_lifetime(tc, &soft,
			    &hard);
	}
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_force_encap(tc, c->force_encap);
	if (rc == VPNR_OK)
		rc = vpnr_tunnel_config_set_replay_window(tc, c->replay_window);
	/* A sibling tunnel to the same peer may carry our CHILD_SA in its
	 * IKE SA (the config check keeps this off IKEv1). */
	if (rc == VPNR_OK && c->share_ike)
		rc = vpnr_tunnel_config_set_share_ike(tc, 1);
	if (rc != VPNR_OK) {
		snprintf(err, len, "tunnel %s: %s (%s)", c->name,
		    vpnr_strerror(rc), vpnr_tunnel_config_last_error(tc));
		vpnr_tunnel_config_del(tc);
		return -1;
	}
	*ptc = tc;
	return 0;
}

static void
on_tun_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Stop t and take it out of gw (DELETE to the peer, routes out); the
 * TUN goes with tunnel_free(). */
static void
tunnel_detach(struct mgw *gw, struct mgw_tunnel *t)
{
	int i;

	t->removing = 1;
	if (t->id != 0)
		vpnr_tunnel_del(gw->ctx, t->id, vpnr_uv_now(gw->drv));
	if (gw->gro_tun == t) {
		mgw_gro_flush(gw);
		gw->gro_tun = NULL;
	}
	mgw_rt_forget_tunnel(gw, t);
	mgw_rt_sync(gw);
	for (i = 0; i < gw->n_tuns; i++)
		if (gw->tuns[i] == t) {
			gw->tuns[i] = gw->tuns[--gw->n_tuns];
			break;
		}
}

static void
tunnel_free(struct mgw_tunnel *t)
{
	/* Closing the descriptor removes the (non-persistent) TUN, if
	 * mgw_tun_del_many() did not. */
	if (t->poll_on)
		mgw_tun_stop(t, on_tun_closed);
	else {
		if (t->tun_fd >= 0)
			close(t->tun_fd);
		free(t);
	}
}

static int
tunnel_create(struct mgw *gw, const struct mgw_cfg_tunnel *c, char *err,
    size_t len)
{
	struct mgw_tunnel *t, **tt;
	vpnr_tunnel_config *tc;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (tt = realloc(gw->tuns, sizeof(*tt) * (size_t)(gw->n_tuns + 1))) ==
		NULL) {
		free(t);
		snprintf(err, len, "out of memory");
		return -1;
	}
	gw->tuns = tt;
	t->gw = gw;
	t->cfg = *c;
	t->if_id = c->if_id;
	t->tun_addr = c->address;
	t->remote = c->remote_addr;
	t->vnet = c->offload;
	if ((t->tun_fd = mgw_tun_open(c->ifname, t->tun_name,
		 sizeof(t->tun_name), &t->vnet)) < 0) {
		snprintf(err, len, "tunnel %s: TUN %s: %s", c->name, c->ifname,
		    strerror(-t->tun_fd));
		free(t);
		return -1;
	}
	if ((t->tun_ifindex = mgw_nl_ifindex(t->tun_name)) < 0) {
		rc = t->tun_ifindex;
		goto nlfail;
	}
	if (c->address.addr.family == VPNR_AF_INET)
		disable_ipv6(t->tun_name);
	if ((rc = mgw_nl_link_up(t->tun_ifindex, c->mtu)) < 0 ||
	    (rc = mgw_nl_addr_add(t->tun_ifindex, &c->address)) < 0)
		goto nlfail;
	{
		static const uint8_t zero[16];
		char b[64];

		if (memcmp(gw->bound.bytes, zero, 16) != 0 &&
		    memcmp(&gw->bound, &c->local_addr, sizeof(vpnr_addr)) != 0)
			mgw_log(VPNR_LOG_WARNING,
			    "tunnel %s: IKE is bound to %s, not to this "
			    "tunnel's local address (set global.listen: "
			    "0.0.0.0 and restart)",
			    c->name,
			    vpnr_addr_format(&gw->bound, b, sizeof(b)));
	}
	if (gw->manual_keying)
		goto started; /* no IKE: SAs come from --manual-sa */
	if (tunnel_config(c, &tc, err, len) < 0)
		goto fail;
	rc = vpnr_tunnel_add(gw->ctx, tc, gw, &t->id);
	vpnr_tunnel_config_del(tc);
	if (rc != VPNR_OK) {
		snprintf(err, len, "tunnel %s: %s (%s)", c->name,
		    vpnr_strerror(rc), vpnr_ctx_last_error(gw->ctx));
		goto fail;
	}
started:
	if ((rc = mgw_tun_start(t)) < 0) {
		snprintf(err, len, "tunnel %s: poll: %s", c->name,
		    uv_strerror(rc));
		if (t->id != 0)
			vpnr_tunnel_del(gw->ctx, t->id, vpnr_uv_now(gw->drv));
		goto fail;
	}
	gw->tuns[gw->n_tuns++] = t;
	if (t->id != 0 && c->role != MGW_ROLE_RESPOND &&
	    (rc = vpnr_tunnel_initiate(gw->ctx, t->id, vpnr_uv_now(gw->drv))) !=
		VPNR_OK)
		printf("EVENT FAILED tunnel=%" PRIu64 " name=%s reason=%s\n",
		    t->id, c->name, vpnr_err_name(rc));
	mgw_log(VPNR_LOG_INFO, "tunnel %s: added on %s (if_id %u)", c->name,
	    t->tun_name, t->if_id);
	return 0;
nlfail:
	snprintf(err, len, "tunnel %s: interface %s: %s", c->name, t->tun_name,
	    strerror(-rc));
fail:
	close(t->tun_fd);
	free(t);
	return -1;
}

/* ---- BGP -------------------------------------------------------------- */

static int
add_plist(vpnr_bgp_peer_config *pc, uint32_t dir, const struct mgw_cfg_plist *l)
{
	int i, rc;

	for (i = 0; i < l->n; i++)
		if ((rc = vpnr_bgp_peer_config_add_prefix_list(pc, dir,
			 &l->e[i].prefix, l->e[i].ge, l->e[i].le,
			 l->e[i].permit)) != VPNR_OK)
			return rc;
	return VPNR_OK;
}

static int
peer_create(struct mgw *gw, const struct mgw_config *cfg,
    const struct mgw_cfg_neighbor *c, char *err, size_t len)
{
	vpnr_bgp_peer_config *pc;
	struct mgw_peer *p, **pp;
	struct mgw_tunnel *t = NULL;
	char a[64];
	int rc;

	vpnr_addr_format(&c->addr, a, sizeof(a));
	if (c->tunnel[0] != '\0')
		t = mgw_tunnel_by_name(gw, c->tunnel);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (pp = realloc(gw->peers,
		 sizeof(*pp) * (size_t)(gw->n_peers + 1))) == NULL ||
	    vpnr_bgp_peer_config_new(&pc, NULL) != VPNR_OK) {
		free(p);
		snprintf(err, len, "out of memory");
		return -1;
	}
	gw->peers = pp;
	p->cfg = *c;
	rc = vpnr_bgp_peer_config_set_remote(pc, &c->addr, c->remote_as);
	if (rc == VPNR_OK && c->local.family != 0)
		rc = vpnr_bgp_peer_config_set_local(pc, &c->local);
	if (rc == VPNR_OK && t != NULL && t->id != 0)
		rc = vpnr_bgp_peer_config_set_tunnel(pc, t->id);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_timers(pc, c->hold, c->keepalive);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_connect_timers(pc,
		    c->connect_retry, 0);
	if (rc == VPNR_OK && c->md5[0] != '\0')
		rc = vpnr_bgp_peer_config_set_md5(pc, (const uint8_t *)c->md5,
		    strlen(c->md5));
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_max_prefix(pc, c->max_prefix);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_max_prefix_action(pc,
		    c->max_prefix_teardown ? VPNR_BGP_MAXPFX_TEARDOWN :
					     VPNR_BGP_MAXPFX_WARN,
		    c->max_prefix_restart);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_out_budget(pc, c->out_max_prefix);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_multihop(pc, c->multihop);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_passive(pc, c->passive);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_graceful_restart(pc,
		    c->graceful_restart);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_tunnel_down(pc,
		    (uint32_t)c->tunnel_down);
	/* RFC 8212: what goes in and out is always said explicitly. */
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_policy(pc,
		    c->import_pol == MGW_POL_NONE ? VPNR_BGP_IMPORT_NONE :
						    VPNR_BGP_IMPORT_ALL,
		    c->export_pol == MGW_POL_NONE    ? VPNR_BGP_EXPORT_NONE :
			c->export_pol == MGW_POL_ALL ? VPNR_BGP_EXPORT_ALL :
						       VPNR_BGP_EXPORT_LOCAL);
	if (rc == VPNR_OK && c->import_pol == MGW_POL_LIST)
		rc = add_plist(pc, VPNR_BGP_DIR_IN,
		    mgw_config_plist(cfg, c->import_list));
	if (rc == VPNR_OK && c->export_pol == MGW_POL_LIST)
		rc = add_plist(pc, VPNR_BGP_DIR_OUT,
		    mgw_config_plist(cfg, c->export_list));
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_config_set_export(pc, c->prepend,
		    c->remove_private_as, c->has_med, c->med);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_add(gw->ctx, pc, gw, &p->id);
	vpnr_bgp_peer_config_del(pc);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_enable(gw->ctx, p->id, 1,
		    vpnr_uv_now(gw->drv));
	if (rc != VPNR_OK) {
		snprintf(err, len, "bgp neighbor %s: %s (%s)", a,
		    vpnr_strerror(rc), vpnr_ctx_last_error(gw->ctx));
		if (p->id != 0)
			vpnr_bgp_peer_del(gw->ctx, p->id, vpnr_uv_now(gw->drv));
		free(p);
		return -1;
	}
	p->up_since = uv_now(gw->loop);
	gw->peers[gw->n_peers++] = p;
	printf("BGP peer=%" PRIu64 " addr=%s as=%" PRIu32 " tunnel=%s\n", p->id,
	    a, c->remote_as, t != NULL ? t->cfg.name : "-");
	return 0;
}

static void
peer_destroy(struct mgw *gw, struct mgw_peer *p)
{
	int i;

	vpnr_bgp_peer_del(gw->ctx, p->id, vpnr_uv_now(gw->drv));
	for (i = 0; i < gw->n_peers; i++)
		if (gw->peers[i] == p) {
			gw->peers[i] = gw->peers[--gw->n_peers];
			break;
		}
	free(p);
}

static int
network_add(struct mgw *gw, const vpnr_prefix *pf, char *err, size_t len)
{
	struct mgw_network *n;
	vpnr_path_attrs attrs;
	char a[64];
	int rc;

	if ((n = realloc(gw->nets, sizeof(*n) * (size_t)(gw->n_nets + 1))) ==
	    NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	gw->nets = n;
	memset(&attrs, 0, sizeof(attrs)); /* next hop: the session's */
	n = &gw->nets[gw->n_nets];
	n->prefix = *pf;
	if ((rc = vpnr_bgp_path_add(gw->ctx, pf, &attrs, &n->path_id,
		 vpnr_uv_now(gw->drv))) != VPNR_OK) {
		snprintf(err, len, "network %s/%u: %s",
		    vpnr_addr_format(&pf->addr, a, sizeof(a)), pf->len,
		    vpnr_strerror(rc));
		return -1;
	}
	gw->n_nets++;
	return 0;
}

/* ---- interfaces ------------------------------------------------------- */

static int
iface_apply(const struct mgw_cfg_iface *c, char *err, size_t len)
{
	int rc, ifx, i;

	/*
	 * A loopback: a dummy interface (kept if it exists already); a
	 * kernel without the dummy driver gets an empty bridge, which
	 * holds local addresses just as well.
	 */
	rc = mgw_nl_virtual(c->name, "dummy");
	if (rc == -EOPNOTSUPP)
		rc = mgw_nl_virtual(c->name, "bridge");
	if (rc < 0 && rc != -EEXIST)
		goto fail;
	if ((ifx = mgw_nl_ifindex(c->name)) < 0) {
		rc = ifx;
		goto fail;
	}
	if ((rc = mgw_nl_link_up(ifx, 0)) < 0)
		goto fail;
	for (i = 0; i < c->n_addr; i++)
		if ((rc = mgw_nl_addr_add(ifx, &c->addr[i])) < 0)
			goto fail;
	return 0;
fail:
	snprintf(err, len, "interface %s: %s", c->name, strerror(-rc));
	return -1;
}

/* ---- apply and reload ------------------------------------------------- */

static int
has_network(const struct mgw_config *c, const vpnr_prefix *p)
{
	int i;

	for (i = 0; i < c->n_networks; i++)
		if (memcmp(&c->networks[i], p, sizeof(*p)) == 0)
			return 1;
	return 0;
}

static void
static_routes(struct mgw *gw, const struct mgw_config *c, int add)
{
	struct mgw_tunnel *t;
	int i;

	for (i = 0; i < c->n_routes; i++)
		if ((t = mgw_tunnel_by_name(gw, c->routes[i].tunnel)) != NULL) {
			if (add)
				mgw_rt_add(gw, &c->routes[i].prefix, t, 0);
			else
				mgw_rt_del(gw, &c->routes[i].prefix, t, 0);
		}
}

/*
 * Make the running state match nc.  With nothing running yet this
 * builds everything; on reload only the differences are applied.  nc
 * becomes gw->cfg (the old one is freed).
 */
int
mgw_apply(struct mgw *gw, struct mgw_config *nc, char *err, size_t len)
{
	struct mgw_config *oc = &gw->cfg;
	const struct mgw_cfg_tunnel *ot;
	struct mgw_tunnel *t, **gone;
	struct mgw_peer *p;
	char e2[512], e3[64];
	int i, j, rc = 0, n_gone = 0;
	vpnr_tstamp now = vpnr_uv_now(gw->drv);

	for (i = 0; i < nc->n_ifs; i++)
		if (iface_apply(&nc->ifs[i], err, len) < 0)
			return -1;
	/* Old static routes out of the table (new ones go back in). */
	static_routes(gw, oc, 0);
	/* Neighbours that went away or changed. */
	for (i = 0; i < gw->n_peers;) {
		p = gw->peers[i];
		for (j = 0; j < nc->n_nb; j++)
			if (memcmp(&nc->nb[j].addr, &p->cfg.addr,
				sizeof(vpnr_addr)) == 0)
				break;
		ot = p->cfg.tunnel[0] ? mgw_config_tunnel(nc, p->cfg.tunnel) :
					NULL;
		t = p->cfg.tunnel[0] ? mgw_tunnel_by_name(gw, p->cfg.tunnel) :
				       NULL;
		if (j == nc->n_nb ||
		    !mgw_neighbor_equal(oc, &p->cfg, nc, &nc->nb[j]) ||
		    (t != NULL &&
			(ot == NULL || !mgw_tunnel_equal(&t->cfg, ot)))) {
			mgw_log(VPNR_LOG_NOTICE, "bgp neighbor %d: %s",
			    (int)p->id, j == nc->n_nb ? "removed" : "changed");
			peer_destroy(gw, p);
		} else
			i++;
	}
	/* Tunnels that went away or changed; their TUNs go in one batch,
	 * before a changed tunnel takes its device name again below. */
	gone = malloc(sizeof(*gone) * (size_t)(gw->n_tuns + 1));
	for (i = 0; i < gw->n_tuns;) {
		t = gw->tuns[i];
		ot = mgw_config_tunnel(nc, t->cfg.name);
		if (ot != NULL && mgw_tunnel_equal(&t->cfg, ot)) {
			i++;
			continue;
		}
		mgw_log(VPNR_LOG_NOTICE, "tunnel %s: %s", t->cfg.name,
		    ot == NULL ? "removed" : "changed");
		tunnel_detach(gw, t);
		if (gone != NULL)
			gone[n_gone++] = t;
		else
			tunnel_free(t);
	}
	mgw_tun_del_many(gone, n_gone);
	for (i = 0; i < n_gone; i++)
		tunnel_free(gone[i]);
	free(gone);
	/*
	 * New and changed tunnels.  One that fails does not stop the
	 * others (the first error is reported; a later reload retries).
	 */
#define FIRST_ERR (rc == 0 ? err : e2), (rc == 0 ? len : sizeof(e2))
	for (i = 0; i < nc->n_tun; i++)
		if (mgw_tunnel_by_name(gw, nc->tun[i].name) == NULL &&
		    tunnel_create(gw, &nc->tun[i], FIRST_ERR) < 0)
			rc = -1;
	/* Networks. */
	for (i = 0; i < gw->n_nets;)
		if (!has_network(nc, &gw->nets[i].prefix)) {
			vpnr_bgp_path_del(gw->ctx, gw->nets[i].path_id, now);
			gw->nets[i] = gw->nets[--gw->n_nets];
		} else
			i++;
	for (i = 0; i < nc->n_networks; i++) {
		for (j = 0; j < gw->n_nets; j++)
			if (memcmp(&gw->nets[j].prefix, &nc->networks[i],
				sizeof(vpnr_prefix)) == 0)
				break;
		if (j == gw->n_nets &&
		    network_add(gw, &nc->networks[i], FIRST_ERR) < 0)
			rc = -1;
	}
	/* New and changed neighbours (not on a tunnel that failed). */
	for (i = 0; i < nc->n_nb; i++) {
		if (mgw_peer_by_addr(gw, &nc->nb[i].addr) != NULL)
			continue;
		if (nc->nb[i].tunnel[0] != '\0' &&
		    mgw_tunnel_by_name(gw, nc->nb[i].tunnel) == NULL) {
			snprintf(FIRST_ERR,
			    "bgp neighbor %s: tunnel %s is not "
			    "running",
			    vpnr_addr_format(&nc->nb[i].addr, e3, sizeof(e3)),
			    nc->nb[i].tunnel);
			rc = -1;
		} else if (peer_create(gw, nc, &nc->nb[i], FIRST_ERR) < 0)
			rc = -1;
	}
#undef FIRST_ERR
	/* Keep each running tunnel's copy in step (line numbers). */
	for (i = 0; i < gw->n_tuns; i++)
		if ((ot = mgw_config_tunnel(nc, gw->tuns[i]->cfg.name)) != NULL)
			gw->tuns[i]->cfg = *ot;
	for (i = 0; i < gw->n_peers; i++)
		for (j = 0; j < nc->n_nb; j++)
			if (memcmp(&nc->nb[j].addr, &gw->peers[i]->cfg.addr,
				sizeof(vpnr_addr)) == 0)
				gw->peers[i]->cfg = nc->nb[j];
	static_routes(gw, nc, 1);
	mgw_rt_sync(gw);
	vpnr_uv_kick(gw->drv);
	mgw_log_level(nc->g.log_level);
	mgw_config_free(oc);
	*oc = *nc;
	memset(nc, 0, sizeof(*nc));
	return rc;
}

int
mgw_reload(struct mgw *gw, char *msg, size_t len)
{
	struct mgw_config nc;
	char err[512];
	int level;

	gw->reloads++;
	if (gw->cfg_path[0] == '\0') {
		snprintf(msg, len,
		    "reload: minigw was started without a configuration file");
		gw->reload_errors++;
		return -1;
	}
	mgw_notify("RELOADING=1");
	if (mgw_config_load(&nc, gw->cfg_path, NULL, 0,
		MGW_LOAD_RESOLVE | MGW_LOAD_FILES, err, sizeof(err)) < 0) {
		snprintf(msg, len, "reload refused, nothing changed: %s", err);
		gw->reload_errors++;
		mgw_log(VPNR_LOG_ERR, "%s", msg);
		mgw_notify("READY=1");
		return -1;
	}
	if (nc.g.local_as != gw->cfg.g.local_as ||
	    nc.g.router_id != gw->cfg.g.router_id ||
	    memcmp(&nc.g.listen, &gw->cfg.g.listen, sizeof(vpnr_addr)) != 0 ||
	    strcmp(nc.g.control, gw->cfg.g.control) != 0 ||
	    nc.g.cookie_threshold != gw->cfg.g.cookie_threshold ||
	    nc.g.cookie_threshold_ip != gw->cfg.g.cookie_threshold_ip ||
	    nc.g.block_threshold != gw->cfg.g.block_threshold ||
	    nc.g.half_open_limit != gw->cfg.g.half_open_limit)
		mgw_log(VPNR_LOG_WARNING,
		    "reload: changes to global local_as, router_id, listen, "
		    "control_socket or the half-open limits need a restart; "
		    "kept the old values");
	level = nc.g.log_level;
	nc.g = gw->cfg.g;
	nc.g.log_level = level; /* the one global that reload applies */
	if (mgw_apply(gw, &nc, err, sizeof(err)) < 0) {
		snprintf(msg, len, "reload: partly applied: %s", err);
		gw->reload_errors++;
		mgw_log(VPNR_LOG_ERR, "%s", msg);
		mgw_config_free(&nc);
		mgw_notify("READY=1");
		return -1;
	}
	snprintf(msg, len, "reloaded %s: %d tunnels, %d neighbors",
	    gw->cfg_path, gw->n_tuns, gw->n_peers);
	mgw_log(VPNR_LOG_NOTICE, "%s", msg);
	printf("RELOADED tunnels=%d neighbors=%d\n", gw->n_tuns, gw->n_peers);
	mgw_notify("READY=1");
	return 0;
}

/* ---- operator actions ------------------------------------------------- */

int
mgw_tunnel_action(struct mgw *gw, const char *name, const char *what, char *msg,
    size_t len)
{
	struct mgw_tunnel *t = mgw_tunnel_by_name(gw, name);
	vpnr_tstamp now = vpnr_uv_now(gw->drv);
	int rc;

	if (t == NULL || t->id == 0) {
		snprintf(msg, len, "no tunnel '%s'", name);
		return -1;
	}
	if (strcmp(what, "up") == 0)
		rc = vpnr_tunnel_initiate(gw->ctx, t->id, now);
	else if (strcmp(what, "down") == 0)
		rc = vpnr_tunnel_close(gw->ctx, t->id, now);
	else if (strcmp(what, "rekey") == 0)
		rc = vpnr_tunnel_rekey(gw->ctx, t->id, VPNR_REKEY_CHILD, now);
	else if (strcmp(what, "rekey-ike") == 0)
		rc = vpnr_tunnel_rekey(gw->ctx, t->id, VPNR_REKEY_IKE, now);
	else {
		snprintf(msg, len,
		    "tunnel %s: unknown action '%s' (allowed: up, down, rekey, "
		    "rekey-ike)",
		    name, what);
		return -1;
	}
	vpnr_uv_kick(gw->drv);
	snprintf(msg, len, "tunnel %s %s: %s", name, what,
	    rc == VPNR_OK ? "ok" : vpnr_strerror(rc));
	printf("REKEY what=%s tunnel=%s rc=%s\n", what, name,
	    vpnr_err_name(rc));
	return rc == VPNR_OK ? 0 : -1;
}

int
mgw_bgp_clear(struct mgw *gw, const char *addr, int soft, char *msg, size_t len)
{
	struct mgw_peer *p;
	vpnr_path_attrs at;
	vpnr_addr a;
	vpnr_tstamp now = vpnr_uv_now(gw->drv);
	int rc, i;

	if (vpnr_addr_parse(&a, addr) != VPNR_OK ||
	    (p = mgw_peer_by_addr(gw, &a)) == NULL) {
		snprintf(msg, len, "no bgp neighbor '%s'", addr);
		return -1;
	}
	if (soft) {
		/*
		 * The library has no ROUTE-REFRESH yet, so a soft clear can
		 * only re-send what we advertise: our networks are added
		 * again (to every neighbour); the sessions stay up.
		 */
		memset(&at, 0, sizeof(at));
		for (i = 0; i < gw->n_nets; i++)
			vpnr_bgp_path_add(gw->ctx, &gw->nets[i].prefix, &at,
			    &gw->nets[i].path_id, now);
		vpnr_uv_kick(gw->drv);
		snprintf(msg, len,
		    "bgp neighbor %s: soft clear (outbound re-advertised)",
		    addr);
		return 0;
	}
	rc = vpnr_bgp_peer_enable(gw->ctx, p->id, 0, now);
	if (rc == VPNR_OK)
		rc = vpnr_bgp_peer_enable(gw->ctx, p->id, 1, now);
	vpnr_uv_kick(gw->drv);
	snprintf(msg, len, "bgp neighbor %s: cleared: %s", addr,
	    rc == VPNR_OK ? "ok" : vpnr_strerror(rc));
	return rc == VPNR_OK ? 0 : -1;
}
