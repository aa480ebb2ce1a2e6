/*
 * Admission of IKE_SA_INIT requests (RFC 7296 2.6, 2.5): half-open
 * responder SAs are counted in total and per source address, so that
 * COOKIEs are demanded from an address past its own threshold (or from
 * everyone past the global one) and requests past the per-source or
 * global limits are dropped before any state is made.  The per-source
 * counts live in a tree keyed by address; an entry exists only while
 * its address has a half-open SA, so the tree is bounded by the global
 * limit.  Every refusal is counted (vpnr_ike_get_stats) and logged at
 * most once per log window.  The model is strongSwan's cookie_threshold
 * / cookie_threshold_ip / block_threshold / init_limit_half_open.
 */
#include <string.h>

#include "addr.h"
#include "ctx.h"
#include "ike.h"
#include "log.h"
#include "mem.h"
#include "vstruct.h"

/* Unauthenticated error answers sent without state (INVALID_MAJOR_
 * VERSION, UNSUPPORTED_CRITICAL_PAYLOAD) per second and context. */
#define ERR_NOTIFY_PER_SEC 100

static int
src_cmp(const struct vpnr__ike_src *a, const struct vpnr__ike_src *b)
{
	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes, vpnr__addr_len(&a->addr));
}
RB_GENERATE(vpnr__ike_src_tree, vpnr__ike_src, entry, src_cmp)

static struct vpnr__ike_src *
src_find(struct vpnr__ike *ike, const vpnr_addr *a)
{
	struct vpnr__ike_src key;

	memset(&key, 0, sizeof(key));
	key.addr.family = a->family;
	memcpy(key.addr.bytes, a->bytes, vpnr__addr_len(a));
	return RB_FIND(vpnr__ike_src_tree, &ike->srcs, &key);
}

static const char *
refusal_str(int why)
{
	switch (why) {
	case VPNR__REFUSE_COOKIE:
		return "COOKIE demanded";
	case VPNR__REFUSE_PER_SOURCE:
		return "dropped, per-source half-open limit";
	case VPNR__REFUSE_LIMIT:
		return "dropped, half-open limit";
	case VPNR__REFUSE_CRITICAL:
		return "unsupported critical payload";
	case VPNR__REFUSE_VERSION:
		return "unsupported major version";
	default:
		return "refused";
	}
}

void
vpnr__ike_refused(vpnr_ctx *ctx, int why, const vpnr_addr *remote,
    vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	char a[64];

	if (ike == NULL)
		return;
	switch (why) {
	case VPNR__REFUSE_COOKIE:
		ike->st.cookies_sent++;
		break;
	case VPNR__REFUSE_PER_SOURCE:
		ike->st.refused_per_source++;
		break;
	case VPNR__REFUSE_LIMIT:
		ike->st.refused_limit++;
		break;
	case VPNR__REFUSE_CRITICAL:
		ike->st.refused_critical++;
		break;
	case VPNR__REFUSE_VERSION:
		ike->st.refused_version++;
		break;
	}
	/* Once per window for all kinds: a flood makes one line. */
	if (vpnr__log_ratelimit(&ike->dos_log, now))
		vpnr__log(ctx, VPNR_LOG_WARNING, "ike",
		    "IKE message from %s: %s (%u half-open; so far %llu "
		    "cookies, %llu per-source and %llu limit drops, %llu "
		    "critical, %llu version refusals)",
		    remote != NULL ? vpnr_addr_format(remote, a, sizeof(a)) :
				     "?",
		    refusal_str(why), ike->half_open,
		    (unsigned long long)ike->st.cookies_sent,
		    (unsigned long long)ike->st.refused_per_source,
		    (unsigned long long)ike->st.refused_limit,
		    (unsigned long long)ike->st.refused_critical,
		    (unsigned long long)ike->st.refused_version);
}

int
vpnr__ike_err_notify_budget(vpnr_ctx *ctx, vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);

	if (ike == NULL)
		return 0;
	if (ike->err_notify_start == 0 ||
	    now - ike->err_notify_start >= VPNR_SECONDS) {
		ike->err_notify_start = now == 0 ? 1 : now;
		ike->err_notify_n = 0;
	}
	if (ike->err_notify_n >= ERR_NOTIFY_PER_SEC) {
		ike->st.notifies_rate_limited++;
		return 0;
	}
	ike->err_notify_n++;
	return 1;
}

int
vpnr__ike_init_admit(vpnr_ctx *ctx, const vpnr_addr *remote, int cookie_ok,
    vpnr_tstamp now)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	const struct vpnr_config *c = &ctx->cfg;
	struct vpnr__ike_src *s = src_find(ike, remote);
	uint32_t n = s != NULL ? s->half_open : 0;

	/* The COOKIE first: it costs the sender a round trip from the
	 * address it claims, so the limits below count real senders. */
	if (!cookie_ok &&
	    (ike->half_open >= c->cookie_threshold ||
		n >= c->cookie_threshold_per_source)) {
		vpnr__ike_refused(ctx, VPNR__REFUSE_COOKIE, remote, now);
		return VPNR__ADMIT_COOKIE;
	}
	if (n >= c->half_open_max_per_source) {
		vpnr__ike_refused(ctx, VPNR__REFUSE_PER_SOURCE, remote, now);
		return VPNR__ADMIT_DROP;
	}
	if (ike->half_open >= c->half_open_max) {
		vpnr__ike_refused(ctx, VPNR__REFUSE_LIMIT, remote, now);
		return VPNR__ADMIT_DROP;
	}
	return VPNR__ADMIT_OK;
}

int
vpnr__ike_half_open_add(vpnr_ctx *ctx, struct ike_sa *sa,
    const vpnr_addr *remote)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct vpnr__ike_src *s;

	if (sa->half_open_counted)
		return VPNR_OK;
	if ((s = src_find(ike, remote)) == NULL) {
		if ((s = vpnr__calloc(ctx->mem, 1, sizeof(*s))) == NULL)
			return VPNR_ERR_NOMEM;
		s->addr.family = remote->family;
		memcpy(s->addr.bytes, remote->bytes, vpnr__addr_len(remote));
		RB_INSERT(vpnr__ike_src_tree, &ike->srcs, s);
		ike->n_srcs++;
	}
	s->half_open++;
	sa->half_open_src = s;
	sa->half_open_counted = 1;
	ike->half_open++;
	return VPNR_OK;
}

void
vpnr__ike_half_open_drop(vpnr_ctx *ctx, struct ike_sa *sa)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	struct vpnr__ike_src *s = sa->half_open_src;

	if (!sa->half_open_counted)
		return;
	sa->half_open_counted = 0;
	sa->half_open_src = NULL;
	ike->half_open--;
	if (s != NULL && --s->half_open == 0) {
		RB_REMOVE(vpnr__ike_src_tree, &ike->srcs, s);
		ike->n_srcs--;
		vpnr__free(ctx->mem, s);
	}
}

/* ---- public ---- */

VPNR_API int
vpnr_ike_get_stats_versioned(const vpnr_ctx *ctx, int stats_version,
    vpnr_ike_stats *stats)
{
	const struct vpnr__ike *ike;
	vpnr_ike_stats latest;

	if (ctx == NULL || stats == NULL ||
	    !VPNR__VKNOWN(stats_version, VPNR__VS_IKE_STATS))
		return VPNR_ERR_INVALID_ARGUMENT;
	memset(&latest, 0, sizeof(latest));
	if ((ike = vpnr__ike(ctx)) != NULL) {
		latest = ike->st;
		latest.half_open = ike->half_open;
		latest.half_open_sources = ike->n_srcs;
		latest.malformed = ike->malformed;
	}
	return VPNR__VCOPY_OUT(stats, &latest, stats_version,
	    VPNR__VS_IKE_STATS);
}

/* The exported twin of the vpnr_ike_get_stats macro: version 1. */
VPNR_API int(vpnr_ike_get_stats)(const vpnr_ctx *ctx, vpnr_ike_stats *stats)
{
	return vpnr_ike_get_stats_versioned(ctx, VPNR_IKE_STATS_V1, stats);
}
