/*
 * The habits of a service: logging (syslog/journald, or a terminal
 * with timestamps and level names), systemd readiness (sd_notify),
 * the instance lock beside the control socket, and the privilege drop
 * to an unprivileged user that keeps CAP_NET_ADMIN (libcap-ng).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cap-ng.h>
#include <systemd/sd-daemon.h>

#include "minigw.h"

static int log_syslog;
static int log_max = VPNR_LOG_INFO;

static const char *const level_names[] = { "emerg", "alert", "crit", "err",
	"warning", "notice", "info", "debug" };

/*
 * target: "syslog", "stderr" or "auto" (syslog when stderr is not a
 * terminal and not a pipe the caller reads, i.e. under systemd, whose
 * journal also takes syslog).
 */
void
mgw_log_init(const char *target, int level, int foreground)
{
	log_max = level;
	if (strcmp(target, "syslog") == 0 ||
	    (strcmp(target, "auto") == 0 && !foreground &&
		getenv("JOURNAL_STREAM") != NULL))
		log_syslog = 1;
	if (log_syslog)
		openlog("minigw", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
mgw_log_level(int level)
{
	log_max = level;
}

void
mgw_log(int level, const char *fmt, ...)
{
	char buf[1024], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(level, "%s", buf);
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03d minigw[%d] %s: %s\n", ts,
	    (int)(tv.tv_usec / 1000), (int)getpid(),
	    level >= 0 && level < 8 ? level_names[level] : "?", buf);
}

/* READY=1, RELOADING=1, STOPPING=1 to systemd (nothing without it). */
void
mgw_notify(const char *state)
{
	sd_notify(0, state);
}

/*
 * One instance per control socket: an flock on SOCK.lock, held for
 * the life of the process.  A second instance says who holds it
 * instead of silently taking the socket over.
 */
int
mgw_lock(struct mgw *gw, const char *control, char *err, size_t len)
{
	char path[128], pid[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s.lock", control);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, len, "lock %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, len,
		    "another minigw (pid %s) already runs with control "
		    "socket %s; refusing to start",
		    pid[0] ? pid : "?", control);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		/* The pid is only informative. */
		(void)!write(fd, pid, (size_t)n);
	}
	gw->lock_fd = fd;
	return 0;
}

void
mgw_unlock(struct mgw *gw)
{
	char path[128];

	if (gw->lock_fd < 0)
		return;
	snprintf(path, sizeof(path), "%s.lock", gw->control_path);
	unlink(path);
	close(gw->lock_fd);
	gw->lock_fd = -1;
}

/*
 * After setup (TUNs open, sockets bound): become user, keeping only
 * CAP_NET_ADMIN (routes, addresses, new TUNs on reload) and
 * CAP_NET_BIND_SERVICE (a reload may open a metrics listener).
 */
int
mgw_drop_privileges(const char *user, char *err, size_t len)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, len, "user '%s' does not exist", user);
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, -1);
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
		CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0) {
		snprintf(err, len, "cannot become '%s' keeping CAP_NET_ADMIN",
		    user);
		return -1;
	}
	mgw_log(VPNR_LOG_INFO,
	    "running as %s with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE", user);
	return 0;
}
