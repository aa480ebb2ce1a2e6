/*
 * bgp_speaker: a BGP-only program on the libuv driver.  It peers with
 * one or more eBGP neighbours, advertises prefixes, and prints what
 * the data plane is asked to do.  The interop tests and the benchmark
 * drive it.
 *
 *   bgp_speaker --local-as 65010 --router-id 169.254.21.1 \
 *       --listen 169.254.21.1 --peer 169.254.21.2:65050 \
 *       --advertise 192.168.2.0/24 --advertise 2001:db8:2::/48 \
 *       --nexthop6 fd00:21::1 --dump-routes /tmp/routes
 *
 * Options:
 *   --local-as N --router-id A.B.C.D (required)
 *   --listen ADDR          accept BGP connections on ADDR:179
 *   --local ADDR           update-source for the peers that follow
 *   --peer ADDR:AS[:passive]  (repeatable; --max-prefix, --ttl and
 *                          --md5 apply to the --peer before them)
 *   --hold S               hold time (keepalive = S/3)
 *   --connect-retry S
 *   --max-prefix N[:warn|:teardown[:RESTART_S]]
 *   --ttl N                multihop TTL
 *   --md5 KEY              TCP-MD5 (RFC 2385)
 *   --import all|none --export local|all|none   (RFC 8212 default: none)
 *   --prepend N --med N --remove-private-as --out-budget N
 *   --nexthop6 ADDR        next hop for IPv6 routes over an IPv4 session
 *   --advertise PFX        (repeatable, IPv4 or IPv6)
 *   --advertise-gen N      N /28s from 10.0.0.0/8 (benchmark)
 *   --dump-routes FILE     rewrite FILE with the data-plane routes and
 *                          peer states after every change (and SIGUSR1)
 *   --exit-after S
 *
 * stdout carries one record per line:
 *   EVENT ESTABLISHED peer=ADDR t=SECONDS
 *   EVENT DOWN peer=ADDR reason=NAME code=C sub=S
 *   EVENT EOR peer=ADDR afi=1|2 t=SECONDS routes=N hwm_kb=N
 *   EVENT PREFIX_LIMIT peer=ADDR afi=N
 * Library log lines go to stderr.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

#define DIE(...) \
	do { \
		fprintf(stderr, "bgp_speaker: "); \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		exit(1); \
	} while (0)

#define MAX_PEERS 8

struct peer_opt {
	vpnr_bgp_peer_config *pc;
	vpnr_addr addr;
	uint64_t id;
	const char *md5;
};

struct app {
	uv_loop_t *loop;
	vpnr_uv *drv;
	vpnr_ctx *ctx;
	struct peer_opt peers[MAX_PEERS];
	int n_peers;
	/* data plane */
	uint64_t routes;
	uint64_t adds, dels;
	vpnr_route *rt; /* kept only with --dump-routes */
	size_t n_rt, cap_rt;
	const char *dump;
	int dump_dirty;
	uv_timer_t t_dump, t_exit;
	uv_signal_t sig_int, sig_term, sig_usr1;
	uint64_t t0;
};

static struct app app;

static double
secs(void)
{
	return (double)(uv_hrtime() - app.t0) / 1e9;
}

static long
hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static const char *
peer_name(uint64_t id, char *buf, size_t len)
{
	int i;

	for (i = 0; i < app.n_peers; i++)
		if (app.peers[i].id == id)
			return vpnr_addr_format(&app.peers[i].addr, buf, len);
	snprintf(buf, len, "%" PRIu64, id);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Data plane */

static int
rt_same(const vpnr_route *a, const vpnr_route *b)
{
	return a->prefix.len == b->prefix.len &&
	    a->prefix.addr.family == b->prefix.addr.family &&
	    memcmp(a->prefix.addr.bytes, b->prefix.addr.bytes, 16) == 0 &&
	    memcmp(a->nexthop.bytes, b->nexthop.bytes, 16) == 0;
}

static void on_dump(uv_timer_t *t);

static void
dump_soon(void)
{
	if (app.dump != NULL && !app.dump_dirty) {
		app.dump_dirty = 1;
		uv_timer_start(&app.t_dump, on_dump, 100, 0);
	}
}

static int
dp_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	(void)ctx, (void)op, (void)dpd;
	app.adds++;
	app.routes++;
	if (app.dump != NULL) {
		if (app.n_rt == app.cap_rt) {
			app.cap_rt = app.cap_rt ? app.cap_rt * 2 : 64;
			app.rt = realloc(app.rt, app.cap_rt * sizeof(*app.rt));
			if (app.rt == NULL)
				DIE("out of memory");
		}
		app.rt[app.n_rt++] = *rt;
		dump_soon();
	}
	return VPNR_OK;
}

static int
dp_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dpd)
{
	size_t i;

	(void)ctx, (void)op, (void)dpd;
	app.dels++;
	app.routes--;
	if (app.dump != NULL) {
		for (i = 0; i < app.n_rt; i++)
			if (rt_same(&app.rt[i], rt)) {
				app.rt[i] = app.rt[--app.n_rt];
				break;
			}
		dump_soon();
	}
	return VPNR_OK;
}

static const char *
state_name(uint32_t s)
{
	static const char *n[] = { "Idle", "Connect", "Active", "OpenSent",
		"OpenConfirm", "Established" };

	return s < 6 ? n[s] : "?";
}

static void
write_dump(void)
{
	char tmp[512], a[64], b[64];
	FILE *f;
	size_t i;
	int j;

	if (app.dump == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", app.dump);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	for (j = 0; j < app.n_peers; j++) {
		vpnr_bgp_peer_info in;

		if (vpnr_bgp_peer_get_info(app.ctx, app.peers[j].id, &in) !=
		    VPNR_OK)
			continue;
		fprintf(f,
		    "peer %s state %s hold %u rcvd4 %u rcvd6 %u sent4 %u "
		    "sent6 %u malformed %" PRIu64 " withdrawn %" PRIu64
		    " flaps %u\n",
		    vpnr_addr_format(&app.peers[j].addr, a, sizeof(a)),
		    state_name(in.state), in.hold_s, in.pfx_accepted_v4,
		    in.pfx_accepted_v6, in.pfx_sent_v4, in.pfx_sent_v6,
		    in.malformed, in.treat_as_withdraw, in.flaps);
	}
	for (i = 0; i < app.n_rt; i++)
		fprintf(f, "route %s/%u via %s peer %s\n",
		    vpnr_addr_format(&app.rt[i].prefix.addr, a, sizeof(a)),
		    app.rt[i].prefix.len,
		    vpnr_addr_format(&app.rt[i].nexthop, b, sizeof(b)),
		    peer_name(app.rt[i].peer_id, tmp, sizeof(tmp)));
	fclose(f);
	snprintf(tmp, sizeof(tmp), "%s.tmp", app.dump);
	rename(tmp, app.dump);
}

static void
on_dump(uv_timer_t *t)
{
	(void)t;
	app.dump_dirty = 0;
	write_dump();
}

/* ------------------------------------------------------------------ */
/* Events */

static int
on_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev, void *ud)
{
	char n[64];

	(void)ctx, (void)ud;
	peer_name(ev->peer_id, n, sizeof(n));
	switch (ev->type) {
	case VPNR_BGP_EV_ESTABLISHED:
		printf("EVENT ESTABLISHED peer=%s t=%.3f\n", n, secs());
		break;
	case VPNR_BGP_EV_DOWN:
		printf("EVENT DOWN peer=%s reason=%s code=%u sub=%u t=%.3f\n",
		    n, vpnr_err_name(ev->reason), ev->notif_code,
		    ev->notif_subcode, secs());
		break;
	case VPNR_BGP_EV_EOR:
		printf("EVENT EOR peer=%s afi=%u t=%.3f routes=%" PRIu64
		       " hwm_kb=%ld\n",
		    n, ev->afi_safi, secs(), app.routes, hwm_kb());
		break;
	case VPNR_BGP_EV_PREFIX_LIMIT:
		printf("EVENT PREFIX_LIMIT peer=%s afi=%u code=%u sub=%u\n", n,
		    ev->afi_safi, ev->notif_code, ev->notif_subcode);
		break;
	}
	fflush(stdout);
	dump_soon();
	return VPNR_OK;
}

static void
on_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	(void)ctx, (void)ud;
	fprintf(stderr, "%.3f %d %s: %.*s\n", secs(), level, subsys, (int)len,
	    msg);
}

static void
on_stop(uv_timer_t *t)
{
	(void)t;
	uv_stop(app.loop);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	int i;

	if (signum == SIGUSR1) {
		write_dump();
		printf("STATS routes=%" PRIu64 " adds=%" PRIu64 " dels=%" PRIu64
		       " hwm_kb=%ld\n",
		    app.routes, app.adds, app.dels, hwm_kb());
		fflush(stdout);
		return;
	}
	(void)s;
	for (i = 0; i < app.n_peers; i++)
		vpnr_bgp_peer_del(app.ctx, app.peers[i].id,
		    vpnr_uv_now(app.drv));
	vpnr_uv_kick(app.drv);
	/* let the NOTIFICATIONs go out */
	uv_timer_start(&app.t_exit, on_stop, 200, 0);
}

static void
on_exit_timer(uv_timer_t *t)
{
	(void)t;
	on_signal(NULL, SIGTERM);
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bgp_speaker --local-as N --router-id A.B.C.D "
	    "[--listen ADDR] [--local ADDR] --peer ADDR:AS[:passive] ...\n"
	    "  [--hold S] [--connect-retry S] [--max-prefix N[:warn|:teardown"
	    "[:S]]] [--ttl N]\n  [--md5 KEY] [--import all|none] "
	    "[--export local|all|none] [--prepend N] [--med N]\n"
	    "  [--remove-private-as] [--out-budget N] [--nexthop6 ADDR]\n"
	    "  [--advertise PFX]... [--advertise-gen N] [--dump-routes FILE]"
	    " [--exit-after S] [--debug]\n");
	exit(2);
}

static struct peer_opt *
cur_peer(void)
{
	if (app.n_peers == 0)
		DIE("--peer must come before per-peer options");
	return &app.peers[app.n_peers - 1];
}

static void
parse_peer(const char *arg, const vpnr_addr *local, uint16_t hold,
    uint16_t retry)
{
	char buf[128], *as, *mode;
	struct peer_opt *p;
	unsigned long asn;

	if (app.n_peers == MAX_PEERS)
		DIE("too many peers");
	snprintf(buf, sizeof(buf), "%s", arg);
	/* ADDR:AS[:passive]; IPv6 addresses in brackets */
	if (buf[0] == '[') {
		char *e = strchr(buf, ']');

		if (e == NULL || e[1] != ':')
			DIE("bad --peer %s", arg);
		*e = '\0';
		as = e + 2;
		memmove(buf, buf + 1, strlen(buf + 1) + 1);
	} else {
		if ((as = strchr(buf, ':')) == NULL)
			DIE("bad --peer %s", arg);
		*as++ = '\0';
	}
	if ((mode = strchr(as, ':')) != NULL)
		*mode++ = '\0';
	asn = strtoul(as, NULL, 10);
	p = &app.peers[app.n_peers++];
	if (vpnr_addr_parse(&p->addr, buf) != VPNR_OK || asn == 0)
		DIE("bad --peer %s", arg);
	if (vpnr_bgp_peer_config_new(&p->pc, NULL) != VPNR_OK)
		DIE("out of memory");
	vpnr_bgp_peer_config_set_remote(p->pc, &p->addr, (uint32_t)asn);
	if (local->family != 0)
		vpnr_bgp_peer_config_set_local(p->pc, local);
	if (hold != 0xffff)
		vpnr_bgp_peer_config_set_timers(p->pc, hold, 0);
	if (retry != 0)
		vpnr_bgp_peer_config_set_connect_timers(p->pc, retry, 0);
	if (mode != NULL && strcmp(mode, "passive") == 0)
		vpnr_bgp_peer_config_set_passive(p->pc, 1);
}

static void
advertise(const char *s)
{
	vpnr_prefix p;
	vpnr_path_attrs a;
	uint64_t id;
	int rc;

	if (vpnr_prefix_parse(&p, s) != VPNR_OK)
		DIE("bad prefix %s", s);
	memset(&a, 0, sizeof(a));
	if ((rc = vpnr_bgp_path_add(app.ctx, &p, &a, &id,
		 vpnr_uv_now(app.drv))) != VPNR_OK)
		DIE("path add %s: %s", s, vpnr_strerror(rc));
}

static void
advertise_gen(unsigned long n)
{
	vpnr_prefix p;
	vpnr_path_attrs a;
	uint64_t id;
	unsigned long i;
	uint32_t v;

	memset(&a, 0, sizeof(a));
	memset(&p, 0, sizeof(p));
	p.addr.family = VPNR_AF_INET;
	p.len = 28;
	for (i = 0; i < n; i++) {
		v = 167772160u + (uint32_t)i * 16;
		p.addr.bytes[0] = (uint8_t)(v >> 24);
		p.addr.bytes[1] = (uint8_t)(v >> 16);
		p.addr.bytes[2] = (uint8_t)(v >> 8);
		p.addr.bytes[3] = (uint8_t)v;
		if (vpnr_bgp_path_add(app.ctx, &p, &a, &id,
			vpnr_uv_now(app.drv)) != VPNR_OK)
			DIE("path add failed");
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "local-as", required_argument, NULL, 'a' },
		{ "router-id", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "local", required_argument, NULL, 'L' },
		{ "peer", required_argument, NULL, 'p' },
		{ "hold", required_argument, NULL, 'h' },
		{ "connect-retry", required_argument, NULL, 'c' },
		{ "max-prefix", required_argument, NULL, 'm' },
		{ "ttl", required_argument, NULL, 't' },
		{ "md5", required_argument, NULL, '5' },
		{ "import", required_argument, NULL, 'i' },
		{ "export", required_argument, NULL, 'e' },
		{ "prepend", required_argument, NULL, 'P' },
		{ "med", required_argument, NULL, 'M' },
		{ "remove-private-as", no_argument, NULL, 'R' },
		{ "out-budget", required_argument, NULL, 'b' },
		{ "nexthop6", required_argument, NULL, '6' },
		{ "advertise", required_argument, NULL, 'A' },
		{ "advertise-gen", required_argument, NULL, 'G' },
		{ "dump-routes", required_argument, NULL, 'd' },
		{ "exit-after", required_argument, NULL, 'x' },
		{ "ike-port", required_argument, NULL, 'I' },
		{ "debug", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static const vpnr_callbacks cb = {
		.bgp_event = on_bgp_event,
		.log_msg = on_log,
	};
	static const vpnr_dataplane dp = {
		.route_add = dp_route_add,
		.route_del = dp_route_del,
	};
	const char *adv[256];
	int n_adv = 0, ch, i, rc, debug = 0;
	unsigned long gen = 0;
	uint32_t local_as = 0, rid = 0;
	uint16_t hold = 0xffff, retry = 0, ike_port = 0;
	vpnr_addr listen_addr, local, a;
	vpnr_uv_options o;
	vpnr_config *cfg;
	double exit_after = 0;
	uint32_t import = VPNR_BGP_IMPORT_NONE, export = VPNR_BGP_EXPORT_NONE;
	int prepend = 0, rpa = 0, has_med = 0;
	uint32_t med = 0, budget = 0;
	vpnr_addr nh6;

	memset(&listen_addr, 0, sizeof(listen_addr));
	memset(&local, 0, sizeof(local));
	memset(&nh6, 0, sizeof(nh6));
	app.t0 = uv_hrtime();
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			local_as = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			if (vpnr_addr_parse(&a, optarg) != VPNR_OK ||
			    a.family != VPNR_AF_INET)
				DIE("bad router id");
			rid = ((uint32_t)a.bytes[0] << 24) |
			    ((uint32_t)a.bytes[1] << 16) |
			    ((uint32_t)a.bytes[2] << 8) | a.bytes[3];
			break;
		case 'l':
			if (vpnr_addr_parse(&listen_addr, optarg) != VPNR_OK)
				DIE("bad --listen");
			break;
		case 'L':
			if (vpnr_addr_parse(&local, optarg) != VPNR_OK)
				DIE("bad --local");
			break;
		case 'p':
			parse_peer(optarg, &local, hold, retry);
			break;
		case 'h':
			hold = (uint16_t)atoi(optarg);
			break;
		case 'c':
			retry = (uint16_t)atoi(optarg);
			break;
		case 'm': {
			char *s;
			unsigned long n = strtoul(optarg, &s, 10);
			uint32_t act = VPNR_BGP_MAXPFX_TEARDOWN, rs = 0;

			if (strncmp(s, ":warn", 5) == 0)
				act = VPNR_BGP_MAXPFX_WARN;
			else if (strncmp(s, ":teardown", 9) == 0 && s[9] == ':')
				rs = (uint32_t)atoi(s + 10);
			vpnr_bgp_peer_config_set_max_prefix(cur_peer()->pc,
			    (uint32_t)n);
			vpnr_bgp_peer_config_set_max_prefix_action(cur_peer()
								       ->pc,
			    act, rs);
			break;
		}
		case 't':
			vpnr_bgp_peer_config_set_multihop(cur_peer()->pc,
			    (uint8_t)atoi(optarg));
			break;
		case '5':
			vpnr_bgp_peer_config_set_md5(cur_peer()->pc,
			    (const uint8_t *)optarg, strlen(optarg));
			cur_peer()->md5 = optarg;
			break;
		case 'i':
			import = strcmp(optarg, "all") == 0 ?
			    VPNR_BGP_IMPORT_ALL :
			    VPNR_BGP_IMPORT_NONE;
			break;
		case 'e':
			export = strcmp(optarg, "all") == 0 ?
			    VPNR_BGP_EXPORT_ALL :
			    strcmp(optarg, "local") == 0 ?
			    VPNR_BGP_EXPORT_LOCAL :
			    VPNR_BGP_EXPORT_NONE;
			break;
		case 'P':
			prepend = atoi(optarg);
			break;
		case 'M':
			has_med = 1;
			med = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'R':
			rpa = 1;
			break;
		case 'b':
			budget = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case '6':
			if (vpnr_addr_parse(&nh6, optarg) != VPNR_OK ||
			    nh6.family != VPNR_AF_INET6)
				DIE("bad --nexthop6");
			break;
		case 'A':
			if (n_adv < 256)
				adv[n_adv++] = optarg;
			break;
		case 'G':
			gen = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			app.dump = optarg;
			break;
		case 'x':
			exit_after = atof(optarg);
			break;
		case 'I':
			ike_port = (uint16_t)atoi(optarg);
			break;
		case 'D':
			debug = 1;
			break;
		default:
			usage();
		}
	}
	if (local_as == 0 || rid == 0 || app.n_peers == 0)
		usage();

	app.loop = uv_default_loop();
	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		DIE("out of memory");
	vpnr_config_set_local_as(cfg, local_as);
	vpnr_config_set_router_id(cfg, rid);
	vpnr_config_set_log_level(cfg, debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO);
	memset(&o, 0, sizeof(o));
	/* The driver also opens the IKE ports; keep them out of the way. */
	if (ike_port == 0)
		ike_port = (uint16_t)(20000 + (getpid() % 20000));
	vpnr_config_set_ike_ports(cfg, ike_port, (uint16_t)(ike_port + 1));
	o.ike_port = ike_port;
	o.natt_port = (uint16_t)(ike_port + 1);
	o.bind_addr = listen_addr.family ? listen_addr :
	    local.family                 ? local :
					   app.peers[0].addr;
	memset(o.bind_addr.bytes, 0, sizeof(o.bind_addr.bytes));
	o.bgp_listen_addr = listen_addr;
	o.log_level = debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO;
	rc = vpnr_uv_new(&app.drv, app.loop, cfg, &cb, &app, &dp, &app, &o);
	vpnr_config_del(cfg);
	if (rc != VPNR_OK)
		DIE("driver: %s", vpnr_strerror(rc));
	app.ctx = vpnr_uv_ctx(app.drv);
	uv_timer_init(app.loop, &app.t_dump);
	uv_timer_init(app.loop, &app.t_exit);

	for (i = 0; i < app.n_peers; i++) {
		struct peer_opt *p = &app.peers[i];

		/* these apply to every peer, wherever they were given */
		if (local.family != 0)
			vpnr_bgp_peer_config_set_local(p->pc, &local);
		if (hold != 0xffff)
			vpnr_bgp_peer_config_set_timers(p->pc, hold, 0);
		if (retry != 0)
			vpnr_bgp_peer_config_set_connect_timers(p->pc, retry,
			    0);
		vpnr_bgp_peer_config_set_policy(p->pc, import, export);
		vpnr_bgp_peer_config_set_export(p->pc, (uint8_t)prepend, rpa,
		    has_med, med);
		if (budget)
			vpnr_bgp_peer_config_set_out_budget(p->pc, budget);
		if (nh6.family)
			vpnr_bgp_peer_config_set_nexthop(p->pc, &nh6);
		if ((rc = vpnr_bgp_peer_add(app.ctx, p->pc, NULL, &p->id)) !=
		    VPNR_OK)
			DIE("peer add: %s (%s)", vpnr_strerror(rc),
			    vpnr_ctx_last_error(app.ctx));
		vpnr_bgp_peer_config_del(p->pc);
		p->pc = NULL;
		/* passive peers: the listener needs the key too */
		if (p->md5 != NULL && listen_addr.family != 0 &&
		    (rc = vpnr_uv_set_md5(app.drv, &p->addr,
			 (const uint8_t *)p->md5, strlen(p->md5))) != VPNR_OK)
			DIE("TCP-MD5 on the listener: %s", vpnr_strerror(rc));
	}
	for (i = 0; i < n_adv; i++)
		advertise(adv[i]);
	if (gen > 0)
		advertise_gen(gen);
	for (i = 0; i < app.n_peers; i++)
		vpnr_bgp_peer_enable(app.ctx, app.peers[i].id, 1,
		    vpnr_uv_now(app.drv));
	vpnr_uv_kick(app.drv);
	printf("READY peers=%d advertised=%lu t=%.3f\n", app.n_peers,
	    (unsigned long)n_adv + gen, secs());
	fflush(stdout);

	app.t_dump.data = &app;
	uv_timer_stop(&app.t_dump);
	if (app.dump != NULL)
		write_dump();
	if (exit_after > 0)
		uv_timer_start(&app.t_exit, on_exit_timer,
		    (uint64_t)(exit_after * 1000), 0);
	uv_signal_init(app.loop, &app.sig_int);
	uv_signal_init(app.loop, &app.sig_term);
	uv_signal_init(app.loop, &app.sig_usr1);
	uv_signal_start(&app.sig_int, on_signal, SIGINT);
	uv_signal_start(&app.sig_term, on_signal, SIGTERM);
	uv_signal_start(&app.sig_usr1, on_signal, SIGUSR1);
	uv_run(app.loop, UV_RUN_DEFAULT);
	return 0;
}
