/*
 * minigw: a route-based IPsec gateway with BGP on libvpnroute.
 *
 *   minigw -c /etc/minigw/minigw.conf [--check | --print]
 *   minigw ctl [-s SOCK] show bgp summary       (see minigw(8))
 *   minigw --local A --remote B --psk-file F --tun-addr A/LEN ...
 *                                                (0.1 command line)
 *
 * IKE runs in the library (libuv driver), ESP in its built-in data
 * plane; inner packets come and go through one TUN device per tunnel.
 * Events go to stdout one per line ("EVENT CHILD_UP ..."), the log to
 * stderr or syslog.  Exit codes: 0 ok, 1 configuration, 2 usage,
 * 3 runtime (see config.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "legacy.h"
#include "minigw.h"

static void
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "minigw: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(code);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: minigw -c FILE [--check | --print] [--control SOCK] "
	    "[--debug]\n"
	    "       minigw ctl [-s SOCK] [--json] COMMAND...\n"
	    "       minigw import aws-generic|azure-sample FILE [--local ADDR] "
	    "[--local-as N]\n"
	    "       minigw --local ADDR --remote ADDR (--psk-file F | --psk S) "
	    "--tun-addr A/LEN\n"
	    "           [--ike P]... [--esp P]... [--tun NAME] [--route "
	    "PREFIX]... [--initiate]\n"
	    "           [--force-encap] [--mss N] [--mtu N] [--if-id N] "
	    "[--replay-window N]\n"
	    "           [--child-lifetime-bytes SOFT[:HARD]] [--no-offload] "
	    "[--manual-sa SPEC]\n"
	    "           [--dpd-interval S] [--dpd-timeout S] "
	    "[--dpd-action clear|restart|none]\n"
	    "           [--bgp-as N --bgp-peer ADDR:AS --bgp-advertise "
	    "PREFIX...]\n"
	    "           [--control SOCK] [--exit-after S] "
	    "[--rekey-child-after S] [--debug]\n"
	    "       minigw --control SOCK --show [json]\n"
	    "       minigw --help | --version\n"
	    "\n"
	    "ctl commands: show tunnels | ike-sa | child-sa | routes | bgp "
	    "summary |\n"
	    "              bgp neighbors [ADDR [routes|advertised-routes|"
	    "received-routes]];\n"
	    "              tunnel up|down|rekey NAME; bgp clear ADDR [soft]; "
	    "reload; metrics\n"
	    "exit codes: 0 ok, 1 configuration error, 2 usage, 3 runtime "
	    "error\n"
	    "see minigw(8) and minigw.conf(5)\n");
}

/* ---- ctl ---------------------------------------------------------------- */

static int
ctl_main(int argc, char **argv)
{
	const char *sock = "/run/minigw/minigw.sock";
	char cmd[512];
	size_t k = 0;
	int i = 1;

	if (getenv("MINIGW_CONTROL") != NULL)
		sock = getenv("MINIGW_CONTROL");
	for (; i < argc; i++) {
		if ((strcmp(argv[i], "-s") == 0 ||
			strcmp(argv[i], "--socket") == 0) &&
		    i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return MGW_EXIT_OK;
		} else
			break;
	}
	if (i == argc) {
		usage(stderr);
		return MGW_EXIT_USAGE;
	}
	cmd[0] = '\0';
	for (; i < argc; i++) {
		if (k + strlen(argv[i]) + 2 >= sizeof(cmd))
			die(MGW_EXIT_USAGE, "ctl: command too long");
		k += (size_t)snprintf(cmd + k, sizeof(cmd) - k, "%s%s",
		    k ? " " : "", argv[i]);
	}
	return mgw_control_client(sock, cmd);
}

/* ---- signals and exit --------------------------------------------------- */

static struct mgw gw;

static void
on_closed(void *arg)
{
	struct mgw *g = arg;
	int i;

	uv_close((uv_handle_t *)&g->t_exit, NULL);
	uv_close((uv_handle_t *)&g->t_rekey, NULL);
	uv_close((uv_handle_t *)&g->sig_int, NULL);
	uv_close((uv_handle_t *)&g->sig_term, NULL);
	uv_close((uv_handle_t *)&g->sig_usr1, NULL);
	uv_close((uv_handle_t *)&g->sig_hup, NULL);
	mgw_control_stop(g);
	mgw_metrics_stop(g);
	mgw_gro_stop(g);
	/* All TUNs in one kernel round, then the (now cheap) closes. */
	mgw_tun_del_many(g->tuns, g->n_tuns);
	for (i = 0; i < g->n_tuns; i++)
		mgw_tun_stop(g->tuns[i], NULL);
}

/*
 * SIGTERM, in three steps: BGP CEASE to every neighbour (the TCP
 * NOTIFICATION still needs the tunnels to leave), then IKE DELETE for
 * every tunnel, then close.
 */
static void
on_exit_timer(uv_timer_t *t)
{
	struct mgw *g = t->data;
	vpnr_tstamp now = vpnr_uv_now(g->drv);
	int i;

	switch (g->stopping++) {
	case 0:
		mgw_notify("STOPPING=1");
		mgw_log(VPNR_LOG_NOTICE,
		    "stopping: BGP CEASE, then IKE DELETE");
		for (i = 0; i < g->n_peers; i++)
			vpnr_bgp_peer_enable(g->ctx, g->peers[i]->id, 0, now);
		vpnr_uv_kick(g->drv);
		uv_timer_start(t, on_exit_timer, g->n_peers ? 300 : 0, 0);
		return;
	case 1:
		vpnr_ctx_shutdown(g->ctx, now);
		vpnr_uv_kick(g->drv);
		uv_timer_start(t, on_exit_timer, 500, 0);
		return;
	case 2:
		mgw_rt_flush(g);
		printf("EXIT\n");
		vpnr_uv_close(g->drv, on_closed, g);
		return;
	}
}

static void
on_rekey_timer(uv_timer_t *t)
{
	struct mgw *g = t->data;
	int rc;

	if (g->n_tuns == 0)
		return;
	rc = vpnr_tunnel_rekey(g->ctx, g->tuns[0]->id, VPNR_REKEY_CHILD,
	    vpnr_uv_now(g->drv));
	printf("REKEY what=child rc=%s\n", vpnr_err_name(rc));
	vpnr_uv_kick(g->drv);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct mgw *g = s->data;
	char *st, msg[512];

	if (signum == SIGUSR1) {
		if ((st = mgw_show(g, "tunnels", 0)) != NULL)
			fputs(st, stdout);
		fflush(stdout);
		free(st);
		return;
	}
	if (signum == SIGHUP) {
		mgw_reload(g, msg, sizeof(msg));
		return;
	}
	if (!g->stopping)
		on_exit_timer(&g->t_exit);
}

/* ---- run ---------------------------------------------------------------- */

static int
run(struct mgw *g, struct mgw_config *c, const char *manual, int foreground)
{
	vpnr_uv_options o;
	vpnr_config *vc;
	char err[512];
	int rc, i;

	mgw_log_init(c->g.log_target, c->g.log_level, foreground);
	g->lock_fd = -1;
	g->natt_fd = -1;
	if (c->g.control[0] != '\0') {
		if (mgw_lock(g, c->g.control, err, sizeof(err)) < 0)
			die(MGW_EXIT_RUNTIME, "%s", err);
		snprintf(g->control_path, sizeof(g->control_path), "%s",
		    c->g.control);
	}
	if ((g->rxbuf = malloc(MGW_PKT_MAX + MGW_VNET_HDR)) == NULL ||
	    (g->segbuf = malloc(MGW_SLOT)) == NULL ||
	    (g->gro = malloc(MGW_GRO_BUF)) == NULL ||
	    (g->txq = malloc((size_t)MGW_BATCH * MGW_SLOT)) == NULL ||
	    (g->txbuf = malloc(
		 MGW_PKT_MAX + VPNR_ESP_MAX_OVERHEAD + MGW_VNET_HDR)) == NULL)
		die(MGW_EXIT_RUNTIME, "out of memory");
	if ((rc = vpnr_esp_new(&g->esp, NULL)) != VPNR_OK)
		die(MGW_EXIT_RUNTIME, "esp: %s", vpnr_strerror(rc));
	vpnr_esp_set_route_ops(g->esp, mgw_route_add, mgw_route_del, g);
	g->loop = uv_default_loop();
	g->started_ms = uv_now(g->loop);
	if (vpnr_config_new(&vc, NULL) != VPNR_OK)
		die(MGW_EXIT_RUNTIME, "out of memory");
	vpnr_config_set_log_level(vc, c->g.log_level);
	vpnr_config_set_ike_ports(vc, c->g.ike_port, c->g.natt_port);
	/* Checked by the parser: cookie_threshold_ip <= block_threshold. */
	vpnr_config_set_cookie_threshold(vc, c->g.cookie_threshold);
	vpnr_config_set_half_open_per_source(vc, c->g.cookie_threshold_ip,
	    c->g.block_threshold);
	vpnr_config_set_half_open_limit(vc, c->g.half_open_limit);
	if (c->g.local_as != 0)
		vpnr_config_set_local_as(vc, c->g.local_as);
	/* One identifier for every session, fixed until a restart. */
	if ((g->router_id = mgw_config_router_id(c)) != 0)
		vpnr_config_set_router_id(vc, g->router_id);
	memset(&o, 0, sizeof(o));
	o.bind_addr = c->g.listen;
	if (o.bind_addr.family == 0) {
		/*
		 * No listen address: the tunnels' local address when they
		 * all share one (the library then knows the exact local
		 * address, e.g. for NAT detection), else any address.
		 */
		o.bind_addr.family = VPNR_AF_INET;
		for (i = 0; i < c->n_tun; i++)
			if (memcmp(&c->tun[i].local_addr, &c->tun[0].local_addr,
				sizeof(vpnr_addr)) != 0)
				break;
		if (c->n_tun > 0 && i == c->n_tun)
			o.bind_addr = c->tun[0].local_addr;
	}
	o.ike_port = c->g.ike_port;
	o.natt_port = c->g.natt_port;
	o.on_esp = mgw_on_esp;
	o.on_esp_arg = g;
	o.log_level = c->g.log_level;
	if (c->n_nb > 0) {
		/* One listener for every neighbour: any address. */
		o.bgp_listen_addr.family = c->nb[0].addr.family;
	}
	g->bound = o.bind_addr;
	rc = vpnr_uv_new(&g->drv, g->loop, vc, &mgw_callbacks, g,
	    vpnr_esp_dataplane(), g->esp, &o);
	vpnr_config_del(vc);
	if (rc != VPNR_OK)
		die(MGW_EXIT_RUNTIME,
		    "cannot open the IKE/NAT-T sockets (ports %u/%u): %s; is "
		    "another IKE daemon running?",
		    c->g.ike_port, c->g.natt_port, vpnr_strerror(rc));
	g->ctx = vpnr_uv_ctx(g->drv);
	g->natt_fd = mgw_natt_fd_tune(vpnr_uv_natt_fd(g->drv));
	mgw_gro_start(g);
	mgw_config_init(&g->cfg);
	g->cfg.g = c->g;
	if (mgw_apply(g, c, err, sizeof(err)) < 0)
		die(MGW_EXIT_RUNTIME, "%s", err);
	if (manual != NULL && g->n_tuns > 0) {
		struct mgw_tunnel *t = g->tuns[0];

		if ((rc = mgw_manual_sa(g->esp, manual, &t->cfg.local_addr,
			 &t->cfg.remote_addr, t->if_id)) < 0)
			die(MGW_EXIT_USAGE, "--manual-sa: %s",
			    vpnr_strerror(rc));
		mgw_tunnel_updown(t, 1);
	}
	if (g->control_path[0] != '\0' &&
	    (rc = mgw_control_start(g, g->control_path)) < 0)
		die(MGW_EXIT_RUNTIME, "control socket %s: %s", g->control_path,
		    uv_strerror(rc));
	if (g->cfg.g.metrics[0] != '\0' &&
	    (rc = mgw_metrics_start(g, g->cfg.g.metrics)) < 0)
		die(MGW_EXIT_RUNTIME, "metrics_listen %s: %s", g->cfg.g.metrics,
		    uv_strerror(rc));
	if (mgw_drop_privileges(g->cfg.g.user, err, sizeof(err)) < 0)
		die(MGW_EXIT_RUNTIME, "%s", err);

	uv_timer_init(g->loop, &g->t_exit);
	g->t_exit.data = g;
	if (g->exit_after > 0)
		uv_timer_start(&g->t_exit, on_exit_timer,
		    (uint64_t)(g->exit_after * 1000), 0);
	uv_timer_init(g->loop, &g->t_rekey);
	g->t_rekey.data = g;
	if (g->rekey_child > 0) /* test knob: one CHILD_SA rekey */
		uv_timer_start(&g->t_rekey, on_rekey_timer,
		    (uint64_t)(g->rekey_child * 1000), 0);
	uv_signal_init(g->loop, &g->sig_int);
	uv_signal_init(g->loop, &g->sig_term);
	uv_signal_init(g->loop, &g->sig_usr1);
	uv_signal_init(g->loop, &g->sig_hup);
	g->sig_int.data = g->sig_term.data = g->sig_usr1.data = g;
	g->sig_hup.data = g;
	uv_signal_start(&g->sig_int, on_signal, SIGINT);
	uv_signal_start(&g->sig_term, on_signal, SIGTERM);
	uv_signal_start(&g->sig_usr1, on_signal, SIGUSR1);
	uv_signal_start(&g->sig_hup, on_signal, SIGHUP);
	vpnr_uv_kick(g->drv);

	printf("READY tunnels=%d neighbors=%d tunnel=%" PRIu64 " tun=%s\n",
	    g->n_tuns, g->n_peers, g->n_tuns ? g->tuns[0]->id : 0,
	    g->n_tuns ? g->tuns[0]->tun_name : "-");
	mgw_log(VPNR_LOG_NOTICE, "minigw %s ready: %d tunnels, %d neighbors",
	    MGW_VERSION, g->n_tuns, g->n_peers);
	mgw_notify("READY=1");
	uv_run(g->loop, UV_RUN_DEFAULT);
	uv_loop_close(g->loop);
	while (g->n_tuns > 0)
		free(g->tuns[--g->n_tuns]);
	while (g->n_peers > 0)
		free(g->peers[--g->n_peers]);
	free(g->tuns);
	free(g->peers);
	free(g->nets);
	mgw_config_free(&g->cfg);
	vpnr_esp_del(g->esp);
	mgw_unlock(g);
	free(g->rxbuf);
	free(g->txbuf);
	free(g->txq);
	free(g->segbuf);
	free(g->gro);
	return MGW_EXIT_OK;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { { "config", 1, NULL, 'c' },
		{ "check", 0, NULL, 'k' }, { "print", 0, NULL, 'p' },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
		{ "foreground", 0, NULL, 'F' }, { "control", 1, NULL, 'C' },
		{ "show", 2, NULL, 'S' }, { "exit-after", 1, NULL, 'x' },
		{ "rekey-child-after", 1, NULL, 'r' },
		{ "debug", 0, NULL, 'D' },
		/* the 0.1 command line (legacy.c) */
		{ "local", 1, NULL, 'L' }, { "remote", 1, NULL, 'L' },
		{ "psk", 1, NULL, 'L' }, { "psk-file", 1, NULL, 'L' },
		{ "ike", 1, NULL, 'L' }, { "esp", 1, NULL, 'L' },
		{ "tun", 1, NULL, 'L' }, { "tun-addr", 1, NULL, 'L' },
		{ "route", 1, NULL, 'L' }, { "initiate", 0, NULL, 'L' },
		{ "force-encap", 0, NULL, 'L' }, { "mss", 1, NULL, 'L' },
		{ "mtu", 1, NULL, 'L' }, { "if-id", 1, NULL, 'L' },
		{ "replay-window", 1, NULL, 'L' }, { "bgp-as", 1, NULL, 'L' },
		{ "bgp-peer", 1, NULL, 'L' }, { "bgp-advertise", 1, NULL, 'L' },
		{ "manual-sa", 1, NULL, 'L' }, { "no-offload", 0, NULL, 'L' },
		{ "child-lifetime-bytes", 1, NULL, 'L' },
		{ "dpd-interval", 1, NULL, 'L' },
		{ "dpd-timeout", 1, NULL, 'L' }, { "dpd-action", 1, NULL, 'L' },
		{ NULL, 0, NULL, 0 } };
	static struct mgw_legacy leg;
	struct mgw_config cfg;
	const char *file = NULL, *control = NULL, *show = NULL;
	char err[1024], *end;
	int c, idx, check = 0, print = 0, want_show = 0, debug = 0;
	int foreground = 0;
	double d;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strcmp(argv[1], "import") == 0)
		return mgw_import_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	mgw_legacy_init(&leg);
	while ((c = getopt_long(argc, argv, "c:hVF", longopts, &idx)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'p':
			print = 1;
			break;
		case 'h':
			usage(stdout);
			return MGW_EXIT_OK;
		case 'V':
			printf("minigw %s (libvpnroute %s)\n", MGW_VERSION,
			    VPNR_VERSION);
			return MGW_EXIT_OK;
		case 'F':
			foreground = 1;
			break;
		case 'C':
			control = optarg;
			break;
		case 'S':
			want_show = 1;
			show = optarg;
			break;
		case 'x':
		case 'r':
			d = strtod(optarg, &end);
			if (*end != '\0' || !(d > 0 && d < 1e7))
				die(MGW_EXIT_USAGE,
				    "--%s: '%s' is not a number of seconds",
				    longopts[idx].name, optarg);
			if (c == 'x')
				gw.exit_after = d;
			else
				gw.rekey_child = d;
			break;
		case 'D':
			debug = 1;
			break;
		case 'L':
			if (mgw_legacy_opt(&leg, longopts[idx].name, optarg,
				err, sizeof(err)) < 0)
				die(MGW_EXIT_USAGE, "%s", err);
			break;
		default:
			usage(stderr);
			return MGW_EXIT_USAGE;
		}
	}
	if (optind < argc && !(want_show && show == NULL && optind + 1 == argc))
		die(MGW_EXIT_USAGE, "unexpected argument '%s' (see --help)",
		    argv[optind]);
	if (want_show) {
		/* The 0.1 "--control SOCK --show [json]". */
		if (show == NULL && optind < argc)
			show = argv[optind];
		if (show != NULL && strcmp(show, "json") != 0)
			die(MGW_EXIT_USAGE, "--show: '%s' (allowed: json)",
			    show);
		if (control == NULL)
			die(MGW_EXIT_USAGE, "--show needs --control SOCK");
		return mgw_control_client(control,
		    show != NULL ? "show tunnels --json" : "show tunnels");
	}
	if (file != NULL && leg.used)
		die(MGW_EXIT_USAGE,
		    "-c FILE and the tunnel options (--local ...) exclude "
		    "each other");
	if (file != NULL) {
		if (mgw_config_load(&cfg, file, NULL, 0,
			MGW_LOAD_RESOLVE | MGW_LOAD_FILES, err,
			sizeof(err)) < 0)
			die(MGW_EXIT_CONFIG, "%s", err);
		snprintf(gw.cfg_path, sizeof(gw.cfg_path), "%s", file);
	} else if (leg.used) {
		if (mgw_legacy_config(&leg, &cfg, err, sizeof(err)) < 0)
			die(leg.t.psk_len || leg.manual[0] ? MGW_EXIT_CONFIG :
							     MGW_EXIT_USAGE,
			    "%s", err);
		gw.manual_keying = leg.manual[0] != '\0';
	} else {
		usage(stderr);
		return MGW_EXIT_USAGE;
	}
	if (control != NULL)
		snprintf(cfg.g.control, sizeof(cfg.g.control), "%s", control);
	if (debug)
		cfg.g.log_level = VPNR_LOG_DEBUG;
	if (check) {
		printf("%s: ok (%d tunnels, %d neighbors, %d routes, %d "
		       "networks)\n",
		    file != NULL ? file : "command line", cfg.n_tun, cfg.n_nb,
		    cfg.n_routes, cfg.n_networks);
		mgw_config_free(&cfg);
		return MGW_EXIT_OK;
	}
	if (print) {
		c = mgw_config_print(&cfg, stdout);
		mgw_config_free(&cfg);
		return c < 0 ? MGW_EXIT_RUNTIME : MGW_EXIT_OK;
	}
	return run(&gw, &cfg, gw.manual_keying ? leg.manual : NULL,
	    foreground || isatty(2));
}
