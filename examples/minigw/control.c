/*
 * The control socket (a Unix stream socket): one command line in, the
 * answer out, then the server closes.  `minigw ctl COMMAND` is the
 * client.  Commands:
 *   show tunnels | ike-sa | child-sa | routes | bgp summary |
 *        bgp routes | bgp neighbors [ADDR [routes|advertised-routes|
 *        received-routes]]            (add --json for JSON)
 *   tunnel up|down|rekey|rekey-ike NAME
 *   bgp clear ADDR [soft]
 *   reload
 *   metrics                            (Prometheus text format)
 *   show / show json                   (the old --show: show tunnels)
 * An answer that starts with "error: " (or {"error": ...}) failed.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minigw.h"

#define CTL_LINE 512

char *
mgw_command(struct mgw *gw, const char *line, int *rc)
{
	char buf[CTL_LINE], msg[768], *tok[8], *save = NULL, *s, *reply;
	int n = 0, json = 0, i, k;

	*rc = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (s = strtok_r(buf, " \t", &save); s != NULL && n < 8;
	     s = strtok_r(NULL, " \t", &save)) {
		if (strcmp(s, "--json") == 0 || strcmp(s, "json") == 0)
			json = 1;
		else
			tok[n++] = s;
	}
	if (n == 0) {
		*rc = MGW_EXIT_RUNTIME;
		return strdup("error: empty command\n");
	}
	if (strcmp(tok[0], "show") == 0) {
		msg[0] = '\0';
		for (i = 1, k = 0; i < n; i++)
			k += snprintf(msg + k, sizeof(msg) - (size_t)k, "%s%s",
			    i > 1 ? " " : "", tok[i]);
		reply = mgw_show(gw, msg, json);
		if (reply == NULL || strncmp(reply, "error", 5) == 0 ||
		    strncmp(reply, "{\"error\"", 9) == 0)
			*rc = MGW_EXIT_RUNTIME;
		return reply;
	}
	if (strcmp(tok[0], "metrics") == 0)
		return mgw_metrics(gw);
	if (strcmp(tok[0], "reload") == 0)
		*rc =
		    mgw_reload(gw, msg, sizeof(msg)) < 0 ? MGW_EXIT_RUNTIME : 0;
	else if (strcmp(tok[0], "tunnel") == 0 && n == 3)
		*rc = mgw_tunnel_action(gw, tok[2], tok[1], msg, sizeof(msg)) <
			0 ?
		    MGW_EXIT_RUNTIME :
		    0;
	else if (strcmp(tok[0], "bgp") == 0 && n >= 3 &&
	    strcmp(tok[1], "clear") == 0 &&
	    (n == 3 || (n == 4 && strcmp(tok[3], "soft") == 0)))
		*rc = mgw_bgp_clear(gw, tok[2], n == 4, msg, sizeof(msg)) < 0 ?
		    MGW_EXIT_RUNTIME :
		    0;
	else {
		*rc = MGW_EXIT_RUNTIME;
		snprintf(msg, sizeof(msg),
		    "unknown command '%s' (allowed: show ..., tunnel "
		    "up|down|rekey NAME, bgp clear ADDR [soft], reload, "
		    "metrics)",
		    line);
	}
	if (asprintf(&reply, "%s%s\n", *rc ? "error: " : "", msg) < 0)
		return NULL;
	return reply;
}

/* ---- server ----------------------------------------------------------- */

struct conn {
	uv_pipe_t pipe;
	struct mgw *gw;
	char line[CTL_LINE];
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
	int rc;

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
	c->reply = mgw_command(c->gw, c->line, &rc);
	if (c->reply == NULL) {
		uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
		return;
	}
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

	if (path != gw->control_path)
		snprintf(gw->control_path, sizeof(gw->control_path), "%s",
		    path);
	/* The instance lock is held (mgw_lock): a socket file left here
	 * is a stale one from a process that died. */
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
	int fd, first = 1, failed = 0;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "minigw: %s: path too long\n", path);
		return MGW_EXIT_USAGE;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto err;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    write(fd, cmd, strlen(cmd)) < 0 || write(fd, "\n", 1) < 0)
		goto err;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first &&
		    ((n >= 6 && memcmp(buf, "error:", 6) == 0) ||
			(n >= 9 && memcmp(buf, "{\"error\"", 9) == 0)))
			failed = 1;
		first = 0;
		fwrite(buf, 1, (size_t)n, stdout);
	}
	close(fd);
	if (first) {
		fprintf(stderr, "minigw: no answer from %s\n", path);
		return MGW_EXIT_RUNTIME;
	}
	return failed ? MGW_EXIT_RUNTIME : 0;
err:
	fprintf(stderr, "minigw: control socket %s: %s (is minigw running?)\n",
	    path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return MGW_EXIT_RUNTIME;
}
