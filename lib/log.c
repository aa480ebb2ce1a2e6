/*
 * Log lines are formatted here and handed to the host pre-formatted.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ctx.h"
#include "log.h"

int
vpnr__log_enabled(const vpnr_ctx *ctx, int level)
{
	return ctx != NULL && ctx->cb.log_msg != NULL &&
	    level <= ctx->cfg.log_level;
}

void
vpnr__log_impl(vpnr_ctx *ctx, int level, const char *subsys, const char *fmt,
    ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	ctx->cb_depth++;
	ctx->cb.log_msg(ctx, level, subsys, line, (size_t)n, ctx->user_data);
	ctx->cb_depth--;
}

int
vpnr__log_ratelimit(vpnr_tstamp *last, vpnr_tstamp now)
{
	if (*last != 0 && now - *last < 10 * VPNR_SECONDS)
		return 0;
	*last = now == 0 ? 1 : now;
	return 1;
}
