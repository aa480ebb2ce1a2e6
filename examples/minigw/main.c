/*
 * minigw: a route-based IPsec gateway on libvpnroute.
 *
 *   minigw --local 203.0.113.1 --remote 203.0.113.2 --psk-file F \
 *       --ike aes256-sha1-modp1024 --esp aes256-sha256 \
 *       --tun vpnr0 --tun-addr 169.254.21.1/30 --route 172.16.0.0/16 \
 *       [--initiate] [--force-encap] [--mss 1350] [--mtu 1400] \
 *       [--bgp-as N --bgp-peer ADDR:AS --bgp-advertise PFX ...] \
 *       [--control SOCK] [--exit-after S] [--debug]
 *   minigw --control SOCK --show [json]
 *
 * IKE runs in the library (libuv driver), ESP in its built-in data
 * plane; inner packets come and go through one TUN device.  Events go
 * to stdout one per line ("EVENT CHILD_UP ..."), the log to stderr.
 * SIGUSR1 prints the status (tunnel and CHILD_SA counters) to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minigw.h"

#define DIE(...) \
	do { \
		fprintf(stderr, "minigw: "); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		exit(1); \
	} while (0)

static vpnr_prefix routes[MGW_MAX_ROUTES];
static int n_routes;

/* ---- library callbacks ------------------------------------------------ */

static int
on_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *arg)
{
	static const char *names[] = { "?", "UP", "DOWN", "REKEYED", "CHILD_UP",
		"CHILD_DOWN", "CHILD_REKEYED", "FAILED" };
	struct mgw *gw = arg;
	vpnr_tunnel_info ti;

	printf("EVENT %s tunnel=%" PRIu64 " reason=%s",
	    ev->type < 8 ? names[ev->type] : "?", ev->tunnel_id,
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "OK");
	if (vpnr_tunnel_get_info(ctx, ev->tunnel_id, &ti) == VPNR_OK)
		printf(" spi_in=%08" PRIx32 " spi_out=%08" PRIx32,
		    ti.child_spi_in, ti.child_spi_out);
	printf("\n");
	if (ev->type == VPNR_TUNNEL_EV_CHILD_UP ||
	    ev->type == VPNR_TUNNEL_EV_CHILD_REKEYED)
		gw->tun.child_up = 1;
	else if (ev->type == VPNR_TUNNEL_EV_DOWN)
		gw->tun.child_up = 0;
	return VPNR_OK;
}

static int
on_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *arg)
{
	printf("BGP_EVENT type=%" PRIu32 " peer=%" PRIu64 " reason=%s\n",
	    ev->type, ev->peer_id,
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "OK");
	return VPNR_OK;
}

static void
on_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *arg)
{
	fprintf(stderr, "LOG %d %s: %.*s\n", level, subsys, (int)len, msg);
}

/* Routes learned over BGP go into the TUN of their tunnel. */
static int
route_op(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg, int add)
{
	struct mgw *gw = arg;
	char p[64];
	int rc;

	if (rt->if_id != gw->tun.if_id || gw->tun.tun_ifindex <= 0) {
		/* Not ours (no tunnel interface): nothing to install. */
		printf("ROUTE_%s prefix=%s/%u if_id=%" PRIu32 " skipped\n",
		    add ? "ADD" : "DEL",
		    vpnr_addr_format(&rt->prefix.addr, p, sizeof(p)),
		    rt->prefix.len, rt->if_id);
		return VPNR_OK;
	}
	rc = mgw_nl_route(add, gw->tun.tun_ifindex, &rt->prefix,
	    &gw->tun.tun_addr.addr);
	printf("ROUTE_%s prefix=%s/%u dev=%s rc=%d\n", add ? "ADD" : "DEL",
	    vpnr_addr_format(&rt->prefix.addr, p, sizeof(p)), rt->prefix.len,
	    gw->tun.tun_name, rc);
	return rc == 0 || (!add && rc == -ESRCH) ? VPNR_OK : VPNR_ERR_DATAPLANE;
}

static int
route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	return route_op(ctx, op, rt, arg, 1);
}

static int
route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	return route_op(ctx, op, rt, arg, 0);
}

/* ---- signals and exit -------------------------------------------------- */

static void
on_closed(void *arg)
{
	struct mgw *gw = arg;

	uv_close((uv_handle_t *)&gw->t_exit, NULL);
	uv_close((uv_handle_t *)&gw->t_rekey, NULL);
	uv_close((uv_handle_t *)&gw->sig_int, NULL);
	uv_close((uv_handle_t *)&gw->sig_term, NULL);
	uv_close((uv_handle_t *)&gw->sig_usr1, NULL);
	mgw_control_stop(gw);
	mgw_tun_stop(&gw->tun);
}

static void
on_exit_timer(uv_timer_t *t)
{
	struct mgw *gw = t->data;

	if (!gw->stopping) {
		/* IKE DELETE, 500 ms to leave, then close. */
		gw->stopping = 1;
		vpnr_ctx_shutdown(gw->ctx, vpnr_uv_now(gw->drv));
		vpnr_uv_kick(gw->drv);
		uv_timer_start(t, on_exit_timer, 500, 0);
		return;
	}
	printf("EXIT\n");
	vpnr_uv_close(gw->drv, on_closed, gw);
}

static void
on_rekey_timer(uv_timer_t *t)
{
	struct mgw *gw = t->data;
	int rc;

	rc = vpnr_tunnel_rekey(gw->ctx, gw->tun.id, VPNR_REKEY_CHILD,
	    vpnr_uv_now(gw->drv));
	printf("REKEY what=child rc=%s\n", vpnr_err_name(rc));
	vpnr_uv_kick(gw->drv);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct mgw *gw = s->data;
	char *st;

	if (signum == SIGUSR1) {
		st = mgw_status(gw, 0);
		fputs(st, stdout);
		fflush(stdout);
		free(st);
		return;
	}
	if (!gw->stopping)
		on_exit_timer(&gw->t_exit);
}

/* ---- command line ------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: minigw --local ADDR --remote ADDR (--psk-file F | --psk "
	    "S)\n"
	    "    [--ike PROPOSAL]... [--esp PROPOSAL]... --tun NAME "
	    "--tun-addr A/LEN\n"
	    "    [--route PREFIX]... [--initiate] [--force-encap] "
	    "[--mss N] [--mtu N]\n"
	    "    [--if-id N] [--replay-window N] [--rekey-child-after S]\n"
	    "    [--child-lifetime-bytes SOFT[:HARD]] [--no-offload]\n"
	    "    [--bgp-as N --bgp-peer ADDR:AS --bgp-advertise PREFIX...]\n"
	    "    [--control SOCK] [--exit-after S] [--debug]\n"
	    "       minigw --control SOCK --show [json]\n");
	exit(2);
}

/*
 * --manual-sa SPI_OUT:SPI_IN:SUITE:KEYHEX installs one outbound and one
 * inbound SA without IKE (both directions use the same keys; the peer
 * swaps the SPIs).  SUITE: aes{128,256}gcm16 or
 * aes{128,256}-{sha1,sha256,sha384,sha512}.  KEYHEX: the cipher key
 * (+ 4-byte salt for GCM), then the HMAC key.
 */
static int
manual_sa(struct mgw *gw, const char *spec, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	static const struct {
		const char *name;
		uint16_t encr, bits, integ, iklen;
	} suites[] = {
		{ "aes128gcm16", VPNR_ENCR_AES_GCM_16, 128, 0, 0 },
		{ "aes256gcm16", VPNR_ENCR_AES_GCM_16, 256, 0, 0 },
		{ "aes128-sha1", VPNR_ENCR_AES_CBC, 128,
		    VPNR_INTEG_HMAC_SHA1_96, 20 },
		{ "aes256-sha1", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA1_96, 20 },
		{ "aes128-sha256", VPNR_ENCR_AES_CBC, 128,
		    VPNR_INTEG_HMAC_SHA2_256_128, 32 },
		{ "aes256-sha256", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_256_128, 32 },
		{ "aes256-sha384", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_384_192, 48 },
		{ "aes256-sha512", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_512_256, 64 },
	};
	char buf[512], *f[4], *save = NULL;
	uint8_t key[128];
	vpnr_child_sa sa;
	size_t i, n, eklen;
	unsigned int v;
	int k, rc;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (k = 0; k < 4; k++)
		if ((f[k] = strtok_r(k ? NULL : buf, ":", &save)) == NULL)
			return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suites[i].name, f[2]) == 0)
			break;
	if (i == sizeof(suites) / sizeof(suites[0]))
		return VPNR_ERR_UNSUPPORTED;
	for (n = 0; f[3][2 * n] != '\0' && n < sizeof(key); n++) {
		if (sscanf(f[3] + 2 * n, "%2x", &v) != 1)
			return VPNR_ERR_INVALID_ARGUMENT;
		key[n] = (uint8_t)v;
	}
	eklen = suites[i].bits / 8 + (suites[i].integ == 0 ? 4 : 0);
	if (n != eklen + suites[i].iklen)
		return VPNR_ERR_INVALID_ARGUMENT;
	for (k = 0; k < 2; k++) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_id = (uint64_t)k + 1;
		sa.protocol = 50;
		sa.direction = k == 0 ? VPNR_DIR_OUT : VPNR_DIR_IN;
		sa.spi = (uint32_t)strtoul(f[k], NULL, 16);
		sa.flags = VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
		sa.src = k == 0 ? *local : *remote;
		sa.dst = k == 0 ? *remote : *local;
		sa.src.port = sa.dst.port = 4500;
		sa.encr_id = suites[i].encr;
		sa.encr_key_bits = suites[i].bits;
		sa.integ_id = suites[i].integ;
		sa.encr_key = key;
		sa.encr_key_len = eklen;
		sa.integ_key = suites[i].iklen ? key + eklen : NULL;
		sa.integ_key_len = suites[i].iklen;
		sa.replay_window = 1024;
		sa.if_id = gw->tun.if_id;
		if ((rc = vpnr_esp_sa_install(gw->esp, &sa)) != VPNR_OK)
			return rc;
	}
	explicit_bzero(key, sizeof(key));
	gw->tun.child_up = 1;
	return VPNR_OK;
}

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

struct bgp_opts {
	uint32_t local_as;
	vpnr_addr peer;
	uint32_t peer_as;
	vpnr_prefix adv[MGW_MAX_ROUTES];
	int n_adv;
};

static void
setup_bgp(struct mgw *gw, struct bgp_opts *b)
{
	vpnr_bgp_peer_config *pc;
	vpnr_path_attrs attrs;
	uint64_t peer_id, path_id;
	int i, rc;
	vpnr_tstamp now = vpnr_uv_now(gw->drv);

	if ((rc = vpnr_bgp_peer_config_new(&pc, NULL)) != VPNR_OK)
		DIE("bgp: %s", vpnr_strerror(rc));
	if ((rc = vpnr_bgp_peer_config_set_remote(pc, &b->peer, b->peer_as)) !=
		VPNR_OK ||
	    (rc = vpnr_bgp_peer_config_set_local(pc, &gw->tun.tun_addr.addr)) !=
		VPNR_OK ||
	    (rc = vpnr_bgp_peer_config_set_tunnel(pc, gw->tun.id)) != VPNR_OK ||
	    /* RFC 8212: say explicitly what goes in and out. */
	    (rc = vpnr_bgp_peer_config_set_policy(pc, VPNR_BGP_IMPORT_ALL,
		 VPNR_BGP_EXPORT_LOCAL)) != VPNR_OK ||
	    (rc = vpnr_bgp_peer_add(gw->ctx, pc, gw, &peer_id)) != VPNR_OK)
		DIE("bgp peer: %s (%s)", vpnr_strerror(rc),
		    vpnr_ctx_last_error(gw->ctx));
	vpnr_bgp_peer_config_del(pc);
	/* Peers are added disabled; the session starts once the tunnel's
	 * CHILD_SA is up. */
	if ((rc = vpnr_bgp_peer_enable(gw->ctx, peer_id, 1, now)) != VPNR_OK)
		DIE("bgp enable: %s", vpnr_strerror(rc));
	for (i = 0; i < b->n_adv; i++) {
		memset(&attrs, 0, sizeof(attrs));
		attrs.nexthop = gw->tun.tun_addr.addr;
		if ((rc = vpnr_bgp_path_add(gw->ctx, &b->adv[i], &attrs,
			 &path_id, now)) != VPNR_OK)
			DIE("bgp advertise: %s", vpnr_strerror(rc));
	}
	gw->bgp_on = 1;
	printf("BGP peer=%" PRIu64 " as=%" PRIu32 " advertised=%d\n", peer_id,
	    b->peer_as, b->n_adv);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { "local", 1, NULL, 'l' },
		{ "remote", 1, NULL, 'r' }, { "psk", 1, NULL, 'p' },
		{ "psk-file", 1, NULL, 'P' }, { "ike", 1, NULL, 'i' },
		{ "esp", 1, NULL, 'e' }, { "tun", 1, NULL, 't' },
		{ "tun-addr", 1, NULL, 'a' }, { "route", 1, NULL, 'R' },
		{ "initiate", 0, NULL, 'I' }, { "force-encap", 0, NULL, 'f' },
		{ "mss", 1, NULL, 'm' }, { "mtu", 1, NULL, 'M' },
		{ "if-id", 1, NULL, 'n' }, { "replay-window", 1, NULL, 'w' },
		{ "rekey-child-after", 1, NULL, 'c' },
		{ "bgp-as", 1, NULL, 'A' }, { "bgp-peer", 1, NULL, 'B' },
		{ "bgp-advertise", 1, NULL, 'V' }, { "control", 1, NULL, 'C' },
		{ "show", 2, NULL, 'S' }, { "exit-after", 1, NULL, 'x' },
		{ "debug", 0, NULL, 'D' }, { "manual-sa", 1, NULL, 'Z' },
		{ "no-offload", 0, NULL, 'O' },
		{ "child-lifetime-bytes", 1, NULL, 'L' },
		{ NULL, 0, NULL, 0 } };
	vpnr_callbacks cb = { .tunnel_event = on_tunnel_event,
		.bgp_event = on_bgp_event,
		.log_msg = on_log };
	vpnr_uv_options o;
	vpnr_tunnel_config *tc;
	vpnr_config *cfg;
	vpnr_addr local = { 0 }, remote = { 0 };
	static struct mgw gw;
	struct bgp_opts bgp;
	char psk[256] = "", tun_name[16] = "vpnr0", l[64], r[64];
	char *show = NULL, *colon;
	const char *control = NULL, *manual = NULL;
	double exit_after = 0, rekey_child = 0;
	int no_offload = 0;
	vpnr_lifetime life_soft = { 0 }, life_hard = { 0 };
	int c, rc, i, initiate = 0, force_encap = 0, debug = 0, want_show = 0;
	uint32_t mtu = 1400, replay_window = 0;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&bgp, 0, sizeof(bgp));
	gw.mss = 1350;
	gw.tun.if_id = 1;
	gw.tun.tun_fd = -1;
	gw.tun.gw = &gw;
	if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK)
		DIE("out of memory");
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (vpnr_addr_parse(&local, optarg) != VPNR_OK)
				DIE("bad --local %s", optarg);
			break;
		case 'r':
			if (vpnr_addr_parse(&remote, optarg) != VPNR_OK)
				DIE("bad --remote %s", optarg);
			break;
		case 'p':
			snprintf(psk, sizeof(psk), "%s", optarg);
			break;
		case 'P':
			if ((f = fopen(optarg, "r")) == NULL ||
			    fgets(psk, sizeof(psk), f) == NULL)
				DIE("cannot read %s", optarg);
			fclose(f);
			psk[strcspn(psk, "\r\n")] = '\0';
			break;
		case 'i':
		case 'e':
			rc = c == 'i' ?
			    vpnr_tunnel_config_add_ike_proposal(tc, optarg) :
			    vpnr_tunnel_config_add_esp_proposal(tc, optarg);
			if (rc != VPNR_OK)
				DIE("bad proposal %s: %s", optarg,
				    vpnr_tunnel_config_last_error(tc));
			break;
		case 't':
			snprintf(tun_name, sizeof(tun_name), "%s", optarg);
			break;
		case 'a':
			/* An interface address: host bits allowed. */
			colon = strchr(optarg, '/');
			if (colon == NULL ||
			    (*colon = '\0',
				vpnr_addr_parse(&gw.tun.tun_addr.addr,
				    optarg) != VPNR_OK))
				DIE("bad --tun-addr");
			gw.tun.tun_addr.len = (uint8_t)atoi(colon + 1);
			break;
		case 'R':
			if (n_routes == MGW_MAX_ROUTES ||
			    vpnr_prefix_parse(&routes[n_routes], optarg) !=
				VPNR_OK)
				DIE("bad --route %s", optarg);
			n_routes++;
			break;
		case 'I':
			initiate = 1;
			break;
		case 'f':
			force_encap = 1;
			break;
		case 'm':
			gw.mss = (uint16_t)atoi(optarg);
			break;
		case 'M':
			mtu = (uint32_t)atoi(optarg);
			break;
		case 'n':
			gw.tun.if_id = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			replay_window = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'c':
			rekey_child = atof(optarg);
			break;
		case 'A':
			bgp.local_as = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'B':
			if ((colon = strrchr(optarg, ':')) == NULL)
				DIE("--bgp-peer ADDR:AS");
			*colon = '\0';
			if (vpnr_addr_parse(&bgp.peer, optarg) != VPNR_OK)
				DIE("bad --bgp-peer %s", optarg);
			bgp.peer_as = (uint32_t)strtoul(colon + 1, NULL, 10);
			break;
		case 'V':
			if (bgp.n_adv == MGW_MAX_ROUTES ||
			    vpnr_prefix_parse(&bgp.adv[bgp.n_adv], optarg) !=
				VPNR_OK)
				DIE("bad --bgp-advertise %s", optarg);
			bgp.n_adv++;
			break;
		case 'C':
			control = optarg;
			break;
		case 'S':
			want_show = 1;
			show = optarg;
			break;
		case 'x':
			exit_after = atof(optarg);
			break;
		case 'D':
			debug = 1;
			break;
		case 'Z':
			manual = optarg;
			break;
		case 'O':
			no_offload = 1;
			break;
		case 'L':
			/* SOFT[:HARD] bytes: the data plane reports them and
			 * the library rekeys (soft) or deletes (hard). */
			life_soft.bytes = strtoull(optarg, &colon, 10);
			if (*colon == ':')
				life_hard.bytes = strtoull(colon + 1, NULL, 10);
			vpnr_tunnel_config_set_child_lifetime(tc, &life_soft,
			    &life_hard);
			break;
		default:
			usage();
		}
	}
	if (want_show) {
		/* "--show json" arrives as a separate argument. */
		if (show == NULL && optind < argc)
			show = argv[optind];
		if (control == NULL)
			DIE("--show needs --control SOCK");
		rc = mgw_control_client(control,
		    show != NULL && strcmp(show, "json") == 0 ? "show json" :
								"show");
		if (rc < 0)
			DIE("%s: %s", control, strerror(-rc));
		return 0;
	}
	if (local.family == 0 || remote.family == 0 || psk[0] == '\0' ||
	    gw.tun.tun_addr.addr.family == 0)
		usage();
	if (bgp.peer.family != 0 && bgp.local_as == 0)
		DIE("--bgp-peer needs --bgp-as");

	/* The TUN device, up with its inner address and routes. */
	gw.tun.vnet = !no_offload;
	if ((gw.tun.tun_fd = mgw_tun_open(tun_name, gw.tun.tun_name,
		 sizeof(gw.tun.tun_name), &gw.tun.vnet)) < 0)
		DIE("tun %s: %s", tun_name, strerror(-gw.tun.tun_fd));
	if ((gw.tun.tun_ifindex = mgw_nl_ifindex(gw.tun.tun_name)) < 0)
		DIE("ifindex %s", gw.tun.tun_name);
	if (gw.tun.tun_addr.addr.family == VPNR_AF_INET)
		disable_ipv6(gw.tun.tun_name);
	if ((rc = mgw_nl_link_up(gw.tun.tun_ifindex, mtu)) < 0)
		DIE("link up %s: %s", gw.tun.tun_name, strerror(-rc));
	if ((rc = mgw_nl_addr_add(gw.tun.tun_ifindex, &gw.tun.tun_addr)) < 0)
		DIE("address on %s: %s", gw.tun.tun_name, strerror(-rc));
	for (i = 0; i < n_routes; i++)
		if ((rc = mgw_nl_route(1, gw.tun.tun_ifindex, &routes[i],
			 NULL)) < 0)
			DIE("route: %s", strerror(-rc));
	if ((gw.rxbuf = malloc(MGW_PKT_MAX + MGW_VNET_HDR)) == NULL ||
	    (gw.segbuf = malloc(MGW_SLOT)) == NULL ||
	    (gw.gro = malloc(MGW_GRO_BUF)) == NULL ||
	    (gw.txbuf = malloc(
		 MGW_PKT_MAX + VPNR_ESP_MAX_OVERHEAD + MGW_VNET_HDR)) == NULL)
		DIE("out of memory");

	/* The tunnel. */
	gw.tun.remote = remote;
	vpnr_tunnel_config_set_addrs(tc, &local, &remote);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)psk, strlen(psk));
	explicit_bzero(psk, sizeof(psk));
	vpnr_tunnel_config_set_if_id(tc, gw.tun.if_id);
	vpnr_tunnel_config_set_force_encap(tc, force_encap);
	if (replay_window != 0)
		vpnr_tunnel_config_set_replay_window(tc, replay_window);

	/* The data plane, the driver and the context. */
	if ((rc = vpnr_esp_new(&gw.esp, NULL)) != VPNR_OK)
		DIE("esp: %s", vpnr_strerror(rc));
	vpnr_esp_set_route_ops(gw.esp, route_add, route_del, &gw);
	gw.loop = uv_default_loop();
	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		DIE("out of memory");
	vpnr_config_set_log_level(cfg, debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO);
	if (bgp.local_as != 0)
		vpnr_config_set_local_as(cfg, bgp.local_as);
	memset(&o, 0, sizeof(o));
	o.bind_addr = local;
	o.on_esp = mgw_on_esp;
	o.on_esp_arg = &gw;
	o.log_level = debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO;
	if (bgp.peer.family != 0)
		o.bgp_listen_addr = gw.tun.tun_addr.addr;
	rc = vpnr_uv_new(&gw.drv, gw.loop, cfg, &cb, &gw, vpnr_esp_dataplane(),
	    gw.esp, &o);
	vpnr_config_del(cfg);
	if (rc != VPNR_OK)
		DIE("driver: %s", vpnr_strerror(rc));
	gw.ctx = vpnr_uv_ctx(gw.drv);
	gw.natt_fd = mgw_natt_fd_tune(vpnr_uv_natt_fd(gw.drv));
	if ((gw.txq = malloc((size_t)MGW_BATCH * MGW_SLOT)) == NULL)
		DIE("out of memory");
	if (manual != NULL) {
		/* Manual keying: no IKE, a fixed SA pair (tests, benches). */
		if ((rc = manual_sa(&gw, manual, &local, &remote)) < 0)
			DIE("--manual-sa: %s", vpnr_strerror(rc));
		initiate = 0;
	} else if ((rc = vpnr_tunnel_add(gw.ctx, tc, &gw, &gw.tun.id)) !=
	    VPNR_OK)
		DIE("tunnel: %s (%s)", vpnr_strerror(rc),
		    vpnr_ctx_last_error(gw.ctx));
	vpnr_tunnel_config_del(tc);
	if (bgp.peer.family != 0)
		setup_bgp(&gw, &bgp);
	if ((rc = mgw_tun_start(&gw.tun)) < 0)
		DIE("tun poll: %s", uv_strerror(rc));
	if (control != NULL && (rc = mgw_control_start(&gw, control)) < 0)
		DIE("control %s: %s", control, uv_strerror(rc));
	printf("READY local=%s remote=%s tunnel=%" PRIu64 " tun=%s\n",
	    vpnr_addr_format(&local, l, sizeof(l)),
	    vpnr_addr_format(&remote, r, sizeof(r)), gw.tun.id,
	    gw.tun.tun_name);
	if (initiate &&
	    (rc = vpnr_tunnel_initiate(gw.ctx, gw.tun.id,
		 vpnr_uv_now(gw.drv))) != VPNR_OK)
		printf("EVENT FAILED tunnel=%" PRIu64 " reason=%s\n", gw.tun.id,
		    vpnr_err_name(rc));
	vpnr_uv_kick(gw.drv);

	uv_timer_init(gw.loop, &gw.t_exit);
	gw.t_exit.data = &gw;
	if (exit_after > 0)
		uv_timer_start(&gw.t_exit, on_exit_timer,
		    (uint64_t)(exit_after * 1000), 0);
	uv_timer_init(gw.loop, &gw.t_rekey);
	gw.t_rekey.data = &gw;
	if (rekey_child > 0) /* test knob: one CHILD_SA rekey */
		uv_timer_start(&gw.t_rekey, on_rekey_timer,
		    (uint64_t)(rekey_child * 1000), 0);
	uv_signal_init(gw.loop, &gw.sig_int);
	uv_signal_init(gw.loop, &gw.sig_term);
	uv_signal_init(gw.loop, &gw.sig_usr1);
	gw.sig_int.data = gw.sig_term.data = gw.sig_usr1.data = &gw;
	uv_signal_start(&gw.sig_int, on_signal, SIGINT);
	uv_signal_start(&gw.sig_term, on_signal, SIGTERM);
	uv_signal_start(&gw.sig_usr1, on_signal, SIGUSR1);

	uv_run(gw.loop, UV_RUN_DEFAULT);
	uv_loop_close(gw.loop);
	close(gw.tun.tun_fd);
	vpnr_esp_del(gw.esp);
	free(gw.rxbuf);
	free(gw.txbuf);
	free(gw.txq);
	free(gw.segbuf);
	free(gw.gro);
	return 0;
}
