/*
 * vpnr_tunnel: bring up ONE IKEv2 tunnel with the libuv driver and a
 * data plane that only prints what it is asked to do.  This is the
 * smallest complete program on top of libvpnroute; start reading here.
 *
 *   vpnr_tunnel --local 203.0.113.1 --remote 203.0.113.2 --psk secret \
 *       --ike aes256-sha1-modp1024 --esp aes256-sha256 --initiate
 *
 * Every line on stdout is one record, "WORD key=value ...", so scripts
 * can parse it:
 *   READY local=203.0.113.1 remote=203.0.113.2 tunnel=1
 *   SA_ADD dir=in spi=0xc1234567 encr=AES_GCM_16-256 integ=NONE ...
 *   EVENT CHILD_UP tunnel=1 t=0.012 reason=OK ... spi_in=0x... spi_out=...
 *   EVENT FAILED tunnel=1 t=0.004 reason=VPNR_ERR_AUTH_FAILED notify=24
 *       msg="..."
 *   REKEY what=child rc=VPNR_OK          SA_DEL ...   EXIT
 * (t= is seconds since READY.)
 * The library's log goes to stderr.  Key bytes are never printed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

struct app {
	uv_loop_t *loop;
	vpnr_uv *drv;
	vpnr_ctx *ctx;
	uint64_t tunnel;
	vpnr_tstamp t0; /* for the t= field of EVENT lines */
	uv_timer_t t_rekey_child, t_rekey_ike, t_exit;
	uv_signal_t sig_int, sig_term;
	int stopping;
};

/* ------------------------------------------------------------------ */
/* The data plane: print each operation, accept it.                    */

/* "AES_GCM_16-256": the library names transforms as strongSwan does. */
static const char *
encr_name(const vpnr_child_sa *sa, char *buf, size_t len)
{
	const char *n = vpnr_transform_name(VPNR_TRANSFORM_ENCR, sa->encr_id);

	snprintf(buf, len, "%s-%u", n != NULL ? n : "ENCR", sa->encr_key_bits);
	return buf;
}

static const char *
integ_name(uint16_t id)
{
	const char *n = vpnr_transform_name(VPNR_TRANSFORM_INTEG, id);

	return n != NULL ? n : "UNKNOWN";
}

static void
print_sa(const char *what, const vpnr_child_sa *sa)
{
	char e[32], s[64], d[64];

	printf("%s dir=%s spi=0x%08" PRIx32 " sa=%" PRIu64 " tunnel=%" PRIu64
	       " encr=%s integ=%s encr_key_len=%zu integ_key_len=%zu "
	       "flags=%s%s%s src=%s dst=%s if_id=%" PRIu32 "\n",
	    what, sa->direction == VPNR_DIR_IN ? "in" : "out", sa->spi,
	    sa->sa_id, sa->tunnel_id, encr_name(sa, e, sizeof(e)),
	    integ_name(sa->integ_id), sa->encr_key_len, sa->integ_key_len,
	    sa->flags & VPNR_SA_F_ESN ? "ESN," : "",
	    sa->flags & VPNR_SA_F_UDP_ENCAP ? "UDP_ENCAP," : "",
	    sa->flags & VPNR_SA_F_TUNNEL ? "TUNNEL" : "TRANSPORT",
	    vpnr_addr_format(&sa->src, s, sizeof(s)),
	    vpnr_addr_format(&sa->dst, d, sizeof(d)), sa->if_id);
}

static int
dp_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *arg)
{
	print_sa("SA_ADD", sa);
	return VPNR_OK;
}

static int
dp_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *arg)
{
	print_sa("SA_DEL", sa);
	return VPNR_OK;
}

static void
print_policy(const char *what, const vpnr_policy *p)
{
	char l[64], r[64];

	printf("%s id=%" PRIu64 " tunnel=%" PRIu64 " dir=%u out_sa=%" PRIu64
	       " local=%s remote=%s if_id=%" PRIu32 "\n",
	    what, p->policy_id, p->tunnel_id, p->direction, p->out_sa_id,
	    vpnr_addr_format(&p->ts_local.addr_start, l, sizeof(l)),
	    vpnr_addr_format(&p->ts_remote.addr_start, r, sizeof(r)), p->if_id);
}

static int
dp_policy_add(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *arg)
{
	print_policy("POLICY_ADD", p);
	return VPNR_OK;
}

static int
dp_policy_del(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *arg)
{
	print_policy("POLICY_DEL", p);
	return VPNR_OK;
}

static void
print_route(const char *what, const vpnr_route *rt)
{
	char p[64], n[64];

	printf("%s prefix=%s/%u nexthop=%s if_id=%" PRIu32 " tunnel=%" PRIu64
	       "\n",
	    what, vpnr_addr_format(&rt->prefix.addr, p, sizeof(p)),
	    rt->prefix.len, vpnr_addr_format(&rt->nexthop, n, sizeof(n)),
	    rt->if_id, rt->tunnel_id);
}

static int
dp_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	print_route("ROUTE_ADD", rt);
	return VPNR_OK;
}

static int
dp_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	print_route("ROUTE_DEL", rt);
	return VPNR_OK;
}

/* ------------------------------------------------------------------ */
/* Events and log                                                      */

static int
on_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *arg)
{
	struct app *app = arg;
	vpnr_tunnel_info ti;

	printf("EVENT %s tunnel=%" PRIu64 " t=%.3f reason=%s notify=%u",
	    vpnr_tunnel_event_name(ev->type), ev->tunnel_id,
	    (double)(vpnr_uv_now(app->drv) - app->t0) / VPNR_SECONDS,
	    ev->reason != 0 ? vpnr_err_name(ev->reason) : "OK", ev->notify);
	/* The info snapshot is legal inside callbacks. */
	if (vpnr_tunnel_get_info(ctx, ev->tunnel_id, &ti) == VPNR_OK)
		printf(" ike_spi_i=%016" PRIx64 " ike_spi_r=%016" PRIx64
		       " spi_in=0x%08" PRIx32 " spi_out=0x%08" PRIx32,
		    ti.spi_i, ti.spi_r, ti.child_spi_in, ti.child_spi_out);
	if (ev->reason != 0)
		printf(" msg=\"%s\"", vpnr_strerror(ev->reason));
	printf("\n");
	return VPNR_OK;
}

static void
on_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *arg)
{
	fprintf(stderr, "LOG %d %s: %.*s\n", level, subsys, (int)len, msg);
}

/* ------------------------------------------------------------------ */
/* Timers and signals                                                  */

static void
on_closed(void *arg)
{
	struct app *app = arg;

	uv_close((uv_handle_t *)&app->t_rekey_child, NULL);
	uv_close((uv_handle_t *)&app->t_rekey_ike, NULL);
	uv_close((uv_handle_t *)&app->t_exit, NULL);
	uv_close((uv_handle_t *)&app->sig_int, NULL);
	uv_close((uv_handle_t *)&app->sig_term, NULL);
}

static void
on_exit_timer(uv_timer_t *t)
{
	struct app *app = t->data;

	if (!app->stopping) {
		/* Send IKE DELETE, give it 500 ms to leave, then close. */
		app->stopping = 1;
		vpnr_ctx_shutdown(app->ctx, vpnr_uv_now(app->drv));
		vpnr_uv_kick(app->drv);
		uv_timer_start(t, on_exit_timer, 500, 0);
		return;
	}
	printf("EXIT\n");
	vpnr_uv_close(app->drv, on_closed, app);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct app *app = s->data;

	if (!app->stopping)
		on_exit_timer(&app->t_exit);
}

static void
on_rekey_timer(uv_timer_t *t)
{
	struct app *app = t->data;
	uint32_t what =
	    t == &app->t_rekey_ike ? VPNR_REKEY_IKE : VPNR_REKEY_CHILD;
	int rc;

	rc = vpnr_tunnel_rekey(app->ctx, app->tunnel, what,
	    vpnr_uv_now(app->drv));
	printf("REKEY what=%s rc=%s\n",
	    what == VPNR_REKEY_IKE ? "ike" : "child", vpnr_err_name(rc));
	vpnr_uv_kick(app->drv);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

/* "203.0.113.1" -> IPv4 id, "2001:db8::1" -> IPv6, else an FQDN. */
static int
set_id(vpnr_tunnel_config *tc, const char *s, int local)
{
	vpnr_addr a;
	uint8_t type = VPNR_ID_FQDN;
	const uint8_t *v = (const uint8_t *)s;
	size_t len = strlen(s);

	if (vpnr_addr_parse(&a, s) == VPNR_OK && a.port == 0) {
		type = a.family == VPNR_AF_INET ? VPNR_ID_IPV4_ADDR :
						  VPNR_ID_IPV6_ADDR;
		v = a.bytes;
		len = a.family == VPNR_AF_INET ? 4 : 16;
	}
	return local ? vpnr_tunnel_config_set_local_id(tc, type, v, len) :
		       vpnr_tunnel_config_set_remote_id(tc, type, v, len);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vpnr_tunnel --local ADDR --remote ADDR "
	    "(--psk STR | --psk-file F)\n"
	    "  [--ike PROPOSAL]... [--esp PROPOSAL]... [--local-id ID] "
	    "[--remote-id ID]\n"
	    "  [--initiate] [--force-encap] [--dpd S] [--rekey-child-after S]\n"
	    "  [--rekey-ike-after S] [--exit-after S] [--ike-port P] "
	    "[--natt-port P] [--debug]\n");
	exit(2);
}

#define DIE(...) \
	do { \
		fprintf(stderr, __VA_ARGS__); \
		fprintf(stderr, "\n"); \
		exit(1); \
	} while (0)

int
main(int argc, char **argv)
{
	/* clang-format off */
	static const struct option longopts[] = {
		{ "local",		1, NULL, 'l' },
		{ "remote",		1, NULL, 'r' },
		{ "psk",		1, NULL, 'p' },
		{ "psk-file",		1, NULL, 'P' },
		{ "ike",		1, NULL, 'i' },
		{ "esp",		1, NULL, 'e' },
		{ "local-id",		1, NULL, 'L' },
		{ "remote-id",		1, NULL, 'R' },
		{ "initiate",		0, NULL, 'I' },
		{ "force-encap",	0, NULL, 'f' },
		{ "dpd",		1, NULL, 'd' },
		{ "rekey-child-after",	1, NULL, 'c' },
		{ "rekey-ike-after",	1, NULL, 'k' },
		{ "exit-after",		1, NULL, 'x' },
		{ "ike-port",		1, NULL, 'y' },
		{ "natt-port",		1, NULL, 'z' },
		{ "debug",		0, NULL, 'D' },
		{ NULL,			0, NULL, 0 }
	};
	/* clang-format on */
	vpnr_callbacks cb = { .tunnel_event = on_tunnel_event,
		.log_msg = on_log };
	vpnr_dataplane dp = { .sa_add = dp_sa_add,
		.sa_del = dp_sa_del,
		.policy_add = dp_policy_add,
		.policy_del = dp_policy_del,
		.route_add = dp_route_add,
		.route_del = dp_route_del };
	vpnr_uv_options o = { 0 };
	vpnr_tunnel_config *tc;
	vpnr_config *cfg;
	vpnr_addr local = { 0 }, remote = { 0 };
	struct app app = { 0 };
	char psk[256] = "", l[64], r[64];
	const char *local_id = NULL, *remote_id = NULL;
	double dpd = -1, rk_child = 0, rk_ike = 0, exit_after = 0;
	int c, rc, initiate = 0, force_encap = 0, debug = 0;
	int ike_port = 500, natt_port = 4500;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0); /* one record per line, now */
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
		case 'L':
			local_id = optarg;
			break;
		case 'R':
			remote_id = optarg;
			break;
		case 'I':
			initiate = 1;
			break;
		case 'f':
			force_encap = 1;
			break;
		case 'd':
			dpd = atof(optarg);
			break;
		case 'c':
			rk_child = atof(optarg);
			break;
		case 'k':
			rk_ike = atof(optarg);
			break;
		case 'x':
			exit_after = atof(optarg);
			break;
		case 'y':
			ike_port = atoi(optarg);
			break;
		case 'z':
			natt_port = atoi(optarg);
			break;
		case 'D':
			debug = 1;
			break;
		default:
			usage();
		}
	}
	if (local.family == 0 || remote.family == 0 || psk[0] == '\0')
		usage();

	/* The tunnel: addresses, PSK, identities, timers. */
	vpnr_tunnel_config_set_addrs(tc, &local, &remote);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)psk, strlen(psk));
	explicit_bzero(psk, sizeof(psk)); /* the library has its copy */
	if ((local_id && set_id(tc, local_id, 1) != VPNR_OK) ||
	    (remote_id && set_id(tc, remote_id, 0) != VPNR_OK))
		DIE("bad identity");
	if (dpd >= 0)
		vpnr_tunnel_config_set_dpd(tc,
		    (vpnr_tstamp)(dpd * VPNR_SECONDS), VPNR_DPD_ACTION_CLEAR);
	vpnr_tunnel_config_set_force_encap(tc, force_encap);

	/* The driver: our sockets on the host's (here: our) loop. */
	app.loop = uv_default_loop();
	if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
		DIE("out of memory");
	vpnr_config_set_ike_ports(cfg, ike_port, natt_port);
	vpnr_config_set_log_level(cfg, debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO);
	o.bind_addr = local;
	o.ike_port = ike_port;
	o.natt_port = natt_port;
	o.log_level = debug ? VPNR_LOG_DEBUG : VPNR_LOG_INFO;
	rc = vpnr_uv_new(&app.drv, app.loop, cfg, &cb, &app, &dp, &app, &o);
	vpnr_config_del(cfg);
	if (rc != VPNR_OK)
		DIE("driver: %s", vpnr_strerror(rc));
	app.ctx = vpnr_uv_ctx(app.drv);
	if ((rc = vpnr_tunnel_add(app.ctx, tc, &app, &app.tunnel)) != VPNR_OK)
		DIE("tunnel: %s (%s)", vpnr_strerror(rc),
		    vpnr_ctx_last_error(app.ctx));
	vpnr_tunnel_config_del(tc);
	app.t0 = vpnr_uv_now(app.drv);
	printf("READY local=%s remote=%s tunnel=%" PRIu64 " role=%s\n",
	    vpnr_addr_format(&local, l, sizeof(l)),
	    vpnr_addr_format(&remote, r, sizeof(r)), app.tunnel,
	    initiate ? "initiator" : "responder");
	if (initiate &&
	    (rc = vpnr_tunnel_initiate(app.ctx, app.tunnel,
		 vpnr_uv_now(app.drv))) != VPNR_OK)
		printf("EVENT FAILED tunnel=%" PRIu64 " reason=%s msg=\"%s\"\n",
		    app.tunnel, vpnr_err_name(rc), vpnr_strerror(rc));
	vpnr_uv_kick(app.drv); /* we drove the ctx outside the loop */

	/* Test knobs: one forced rekey each, a bounded run time. */
	uv_timer_init(app.loop, &app.t_rekey_child);
	uv_timer_init(app.loop, &app.t_rekey_ike);
	uv_timer_init(app.loop, &app.t_exit);
	app.t_rekey_child.data = app.t_rekey_ike.data = app.t_exit.data = &app;
	if (rk_child > 0)
		uv_timer_start(&app.t_rekey_child, on_rekey_timer,
		    (uint64_t)(rk_child * 1000), 0);
	if (rk_ike > 0)
		uv_timer_start(&app.t_rekey_ike, on_rekey_timer,
		    (uint64_t)(rk_ike * 1000), 0);
	if (exit_after > 0)
		uv_timer_start(&app.t_exit, on_exit_timer,
		    (uint64_t)(exit_after * 1000), 0);
	uv_signal_init(app.loop, &app.sig_int);
	uv_signal_init(app.loop, &app.sig_term);
	app.sig_int.data = app.sig_term.data = &app;
	uv_signal_start(&app.sig_int, on_signal, SIGINT);
	uv_signal_start(&app.sig_term, on_signal, SIGTERM);

	uv_run(app.loop, UV_RUN_DEFAULT);
	uv_loop_close(app.loop);
	return 0;
}
