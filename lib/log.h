/*
 * Logging through the host's log_msg callback.  The level check comes
 * before formatting, so disabled debug logging costs a compare.
 * Never pass key material.
 */
#ifndef VPNR_LIB_LOG_H
#define VPNR_LIB_LOG_H

#include <stdint.h>

#include <vpnroute/vpnroute.h>

void vpnr__log_impl(vpnr_ctx *ctx, int level, const char *subsys,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int vpnr__log_enabled(const vpnr_ctx *ctx, int level);

#define vpnr__log(ctx, level, subsys, ...) \
	do { \
		if (vpnr__log_enabled((ctx), (level))) \
			vpnr__log_impl((ctx), (level), (subsys), __VA_ARGS__); \
	} while (0)

/*
 * "Logged once": *last holds the time this class of message was last
 * logged; returns non-zero (and updates it) if at least 10 s passed.
 * Counters still count every event.
 */
int vpnr__log_ratelimit(vpnr_tstamp *last, vpnr_tstamp now);

#endif /* VPNR_LIB_LOG_H */
