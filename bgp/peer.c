/*
 * What an Established session does with what it receives: UPDATEs
 * (RFC 7606 error handling: treat-as-withdraw keeps the session up),
 * End-of-RIB, ROUTE-REFRESH, the inbound prefix limit (RFC 4486), and
 * what happens to a peer's routes when the session comes and goes
 * (graceful-restart helper, RFC 4724).
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/log.h"

static const char *
pname(struct vpnr__bgp_peer *p, char *buf, size_t len)
{
	return vpnr_addr_format(&p->cfg.remote, buf, len);
}

static uint32_t
accepted_total(struct vpnr__bgp_peer *p)
{
	return p->pfx_accepted[0] + p->pfx_accepted[1];
}

/* Returns 1 when the session was torn down. */
static int
check_max_prefix(struct vpnr__bgp_peer *p, int aid, vpnr_tstamp now)
{
	struct vpnr__bgp_err err;
	uint8_t d[7];
	uint32_t max = p->cfg.max_prefix;
	char nb[64];

	if (max == 0 || accepted_total(p) <= max)
		return 0;
	if (p->cfg.max_prefix_action == VPNR_BGP_MAXPFX_WARN) {
		/* once per session */
		if (p->budget_warned & 2)
			return 0;
		p->budget_warned |= 2;
		vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
		    "peer %s: %u prefixes exceed the limit %u",
		    pname(p, nb, sizeof(nb)), accepted_total(p), max);
		(void)vpnr__bgp_emit(p, VPNR_BGP_EV_PREFIX_LIMIT, 0, 0, 0,
		    (uint8_t)(aid + 1));
		return 0;
	}
	vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
	    "peer %s: %u prefixes exceed the limit %u: session closed",
	    pname(p, nb, sizeof(nb)), accepted_total(p), max);
	d[0] = 0;
	d[1] = aid == VPNR__BGP_AID_IPV6 ? 2 : 1;
	d[2] = 1;
	d[3] = (uint8_t)(max >> 24);
	d[4] = (uint8_t)(max >> 16);
	d[5] = (uint8_t)(max >> 8);
	d[6] = (uint8_t)max;
	vpnr__bgp_err_set(&err, VPNR__BGP_ERR_CEASE, VPNR__BGP_CEASE_MAX_PREFIX,
	    d, sizeof(d));
	p->maxpfx_tripped = 1;
	vpnr__timer_disarm(p->ctx, &p->connect_timer);
	if (p->cfg.max_prefix_restart_s > 0)
		vpnr__timer_arm(p->ctx, &p->idle_timer,
		    now +
			(vpnr_tstamp)p->cfg.max_prefix_restart_s *
			    VPNR_SECONDS);
	(void)vpnr__bgp_emit(p, VPNR_BGP_EV_PREFIX_LIMIT, VPNR_ERR_LIMIT,
	    VPNR__BGP_ERR_CEASE, VPNR__BGP_CEASE_MAX_PREFIX,
	    (uint8_t)(aid + 1));
	vpnr__bgp_session_reset(p, &err, VPNR_ERR_LIMIT, now);
	return 1;
}

static void
withdraw_block(struct vpnr__bgp_peer *p, const uint8_t *data, size_t len,
    uint8_t family)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx pfx;
	int a = vpnr__bgp_afi_idx(family);

	vpnr__rbuf_init(&r, data, len);
	while (vpnr__bgp_nlri_next(&r, family, &pfx) == 1)
		if (vpnr__bgp_rib_withdraw(bgp, p->idx, &pfx) &&
		    p->pfx_accepted[a] > 0) {
			p->pfx_accepted[a]--;
			p->pfx_rcvd[a]--;
		}
}

/* Returns 1 when the session was torn down (stop touching msg). */
#define ANN_CHUNK 256 /* prefixes parsed ahead of the RIB updates */
#define ANN_AHEAD 8   /* prefixes between a prefetch and its use */

static int
announce_block(struct vpnr__bgp_peer *p, const uint8_t *data, size_t len,
    int aid, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	const struct vpnr__bgp_attrs *a;
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx v[ANN_CHUNK], *pfx;
	struct vpnr__bgp_table *t;
	uint8_t family = vpnr__bgp_aid_family(aid);
	int ai = vpnr__bgp_afi_idx(family), was_new, rv = 0, more = 1;
	size_t i, n;

	if ((a = vpnr__bgp_attrs_intern(bgp->attrs, bgp->bld, aid)) == NULL)
		return 0;
	t = &bgp->rib[ai];
	vpnr__rbuf_init(&r, data, len);
	while (more && rv == 0) {
		for (n = 0; n < ANN_CHUNK; n++)
			if (vpnr__bgp_nlri_next(&r, family, &v[n]) != 1) {
				more = 0;
				break;
			}
		/* A big table's buckets and nodes are cache misses: ask
		 * for them a few prefixes ahead (bucket, then node). */
		for (i = 0; i < n && i < 2 * ANN_AHEAD; i++)
			vpnr__bgp_table_prefetch(t, &v[i], 0);
		for (i = 0; i < n && rv == 0; i++) {
			if (i + 2 * ANN_AHEAD < n)
				vpnr__bgp_table_prefetch(t,
				    &v[i + 2 * ANN_AHEAD], 0);
			if (i + ANN_AHEAD < n)
				vpnr__bgp_table_prefetch(t, &v[i + ANN_AHEAD],
				    1);
			pfx = &v[i];
			if (vpnr__bgp_policy_import(p, pfx, a) != 0) {
				if (vpnr__bgp_rib_withdraw(bgp, p->idx, pfx) &&
				    p->pfx_accepted[ai] > 0) {
					p->pfx_accepted[ai]--;
					p->pfx_rcvd[ai]--;
				}
				continue;
			}
			vpnr__bgp_attrs_ref(a);
			if (vpnr__bgp_rib_update(bgp, p->idx, pfx, a,
				&was_new) != VPNR_OK)
				continue;
			if (was_new) {
				p->pfx_accepted[ai]++;
				p->pfx_rcvd[ai]++;
				if (p->cfg.max_prefix &&
				    accepted_total(p) > p->cfg.max_prefix &&
				    check_max_prefix(p, aid, now))
					rv = 1;
			}
		}
	}
	vpnr__bgp_attrs_unref(bgp->attrs, a);
	return rv;
}

static void
eor_received(struct vpnr__bgp_peer *p, int aid)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	int i, all = 1;

	if (aid < 0 || aid >= BGP_NAFI)
		return;
	p->eor_rcvd[aid] = 1;
	for (i = 0; i < BGP_NAFI; i++)
		if ((p->sess.afi & (1 << i)) && !p->eor_rcvd[i])
			all = 0;
	if (p->gr_stale && all) {
		vpnr__bgp_rib_purge_peer(bgp, p->idx, 1);
		p->gr_stale = 0;
		vpnr__timer_disarm(p->ctx, &p->gr_timer);
	}
	(void)vpnr__bgp_emit(p, VPNR_BGP_EV_EOR, VPNR_OK, 0, 0,
	    (uint8_t)(aid + 1));
}

int
vpnr__bgp_peer_update(struct vpnr__bgp_peer *p, const uint8_t *msg, size_t len,
    vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	struct vpnr__bgp_attr_result res;
	struct vpnr__bgp_attr_pctx pctx;
	int action;
	char nb[64];

	p->rx_updates++;
	memset(&err, 0, sizeof(err));
	if (vpnr__bgp_update_split(msg, len, &u, &err) != 0) {
		p->malformed++;
		vpnr__bgp_session_reset(p, &err, VPNR_ERR_MALFORMED, now);
		return VPNR_ERR_MALFORMED;
	}
	if (vpnr__bgp_update_is_eor4(&u)) {
		eor_received(p, VPNR__BGP_AID_IPV4);
		return VPNR_OK;
	}
	memset(&res, 0, sizeof(res));
	pctx.as4 = p->sess.as4;
	pctx.ebgp = 1;
	action = vpnr__bgp_attrs_parse(&pctx, u.attrs, u.attrs_len,
	    u.nlri_len > 0, bgp->bld, &res);
	if (action == VPNR__BGP_ACT_RESET) {
		p->malformed++;
		if (vpnr__log_ratelimit(&p->log_last, now))
			vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
			    "peer %s: malformed UPDATE (%s / %s): reset",
			    pname(p, nb, sizeof(nb)),
			    vpnr__bgp_err_code_name(res.err.code),
			    vpnr__bgp_err_subcode_name(res.err.code,
				res.err.subcode));
		vpnr__bgp_session_reset(p, &res.err, VPNR_ERR_MALFORMED, now);
		return VPNR_ERR_MALFORMED;
	}
	/* Withdrawals first (RFC 4271 9: withdraw then announce). */
	if (u.withdrawn_len > 0 && (p->sess.afi & 1))
		withdraw_block(p, u.withdrawn, u.withdrawn_len, VPNR_AF_INET);
	if (res.mp_unreach.present && res.mp_unreach.aid >= 0 &&
	    (p->sess.afi & (1 << res.mp_unreach.aid)))
		withdraw_block(p, res.mp_unreach.nlri, res.mp_unreach.nlri_len,
		    vpnr__bgp_aid_family(res.mp_unreach.aid));
	if (res.eor_aid >= 0) {
		eor_received(p, res.eor_aid);
		return VPNR_OK;
	}
	if (action == VPNR__BGP_ACT_WITHDRAW) {
		/* RFC 7606 treat-as-withdraw: the session stays up. */
		p->malformed++;
		p->treat_as_withdraw++;
		if (vpnr__log_ratelimit(&p->log_last, now))
			vpnr__log(p->ctx, VPNR_LOG_WARNING, "bgp",
			    "peer %s: malformed attribute %u (%s): prefixes "
			    "treated as withdrawn (%llu so far)",
			    pname(p, nb, sizeof(nb)), res.first_bad_type,
			    vpnr__bgp_err_subcode_name(res.err.code,
				res.err.subcode),
			    (unsigned long long)p->treat_as_withdraw);
		/* A next hop we refuse (a martian, e.g. the sender's
		 * loopback session address) withdraws everything the
		 * UPDATE carries: counted, and evented once a session. */
		if (res.err.subcode == VPNR__BGP_UPD_BAD_NEXTHOP) {
			p->nexthop_refused++;
			if (p->nexthop_event_flap != p->flaps + 1) {
				p->nexthop_event_flap = p->flaps + 1;
				(void)vpnr__bgp_emit(p,
				    VPNR_BGP_EV_NEXTHOP_REFUSED,
				    VPNR_ERR_MALFORMED, 0, 0,
				    res.mp_reach.present &&
					    res.mp_reach.aid >= 0 ?
					(uint8_t)(res.mp_reach.aid + 1) :
					1);
			}
		}
		if (u.nlri_len > 0 && (p->sess.afi & 1))
			withdraw_block(p, u.nlri, u.nlri_len, VPNR_AF_INET);
		if (res.mp_reach.present && res.mp_reach.aid >= 0 &&
		    (p->sess.afi & (1 << res.mp_reach.aid)))
			withdraw_block(p, res.mp_reach.nlri,
			    res.mp_reach.nlri_len,
			    vpnr__bgp_aid_family(res.mp_reach.aid));
		return VPNR_OK;
	}
	if (action == VPNR__BGP_ACT_DISCARD) {
		p->malformed++;
		if (vpnr__log_ratelimit(&p->log_last, now))
			vpnr__log(p->ctx, VPNR_LOG_INFO, "bgp",
			    "peer %s: %u malformed attribute(s) discarded",
			    pname(p, nb, sizeof(nb)), res.n_discarded);
	}
	if (u.nlri_len > 0 && (p->sess.afi & 1) &&
	    announce_block(p, u.nlri, u.nlri_len, VPNR__BGP_AID_IPV4, now))
		return VPNR_ERR_LIMIT;
	if (res.mp_reach.present && res.mp_reach.aid >= 0 &&
	    (p->sess.afi & (1 << res.mp_reach.aid)) &&
	    announce_block(p, res.mp_reach.nlri, res.mp_reach.nlri_len,
		res.mp_reach.aid, now))
		return VPNR_ERR_LIMIT;
	return VPNR_OK;
}

int
vpnr__bgp_peer_refresh(struct vpnr__bgp_peer *p, const uint8_t *msg, size_t len,
    vpnr_tstamp now)
{
	struct vpnr__bgp_rrefresh rr;
	struct vpnr__bgp_err err;
	int aid;

	memset(&err, 0, sizeof(err));
	if (vpnr__bgp_rrefresh_parse(msg, len, &rr, &err) != 0) {
		p->malformed++;
		vpnr__bgp_session_reset(p, &err, VPNR_ERR_MALFORMED, now);
		return VPNR_ERR_MALFORMED;
	}
	aid = vpnr__bgp_aid_from_afi_safi(rr.afi, rr.safi);
	if (aid < 0 || !(p->sess.afi & (1 << aid)) ||
	    rr.subtype != VPNR__BGP_RR_NORMAL)
		return VPNR_OK;
	vpnr__bgp_out_refresh(p, aid);
	return VPNR_OK;
}

void
vpnr__bgp_peer_established(struct vpnr__bgp_peer *p, vpnr_tstamp now)
{
	int a;

	for (a = 0; a < BGP_NAFI; a++) {
		p->eor_rcvd[a] = 0;
		p->eor_sent[a] = 0;
		if (!p->gr_stale) {
			p->pfx_accepted[a] = 0;
			p->pfx_rcvd[a] = 0;
		}
	}
	p->budget_warned = 0;
	if (p->gr_stale) {
		/* Stale routes live until End-of-RIB or this timer. */
		vpnr__timer_arm(p->ctx, &p->gr_timer,
		    now + (vpnr_tstamp)360 * VPNR_SECONDS);
	}
	vpnr__bgp_out_start(p);
}

void
vpnr__bgp_peer_down(struct vpnr__bgp_peer *p, int graceful, vpnr_tstamp now)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	uint8_t keep = 0;
	int a;

	/* no help across a tunnel that is down (a HOLD peer timing out) */
	if (graceful && p->cfg.gr_helper && p->sess.gr && p->enabled &&
	    !p->deleting && vpnr__bgp_peer_usable(p))
		keep = p->sess.gr_afi & p->sess.afi;
	if (keep != 0) {
		vpnr__bgp_rib_mark_stale(bgp, p->idx, keep);
		/* families not preserved go now */
		vpnr__bgp_rib_purge_peer_afi(bgp, p->idx, (uint8_t)(~keep & 3));
		p->gr_stale = 1;
		vpnr__timer_arm(p->ctx, &p->gr_timer,
		    now +
			(vpnr_tstamp)(p->sess.gr_time ? p->sess.gr_time : 1) *
			    VPNR_SECONDS);
	} else {
		vpnr__bgp_rib_purge_peer(bgp, p->idx, 0);
		p->gr_stale = 0;
		vpnr__timer_disarm(p->ctx, &p->gr_timer);
		for (a = 0; a < BGP_NAFI; a++) {
			p->pfx_accepted[a] = 0;
			p->pfx_rcvd[a] = 0;
		}
	}
	vpnr__bgp_out_reset(p);
	/* Come back: accept the peer's connection at once and retry
	 * ours after connect-retry (unless stopped or over the limit). */
	if (p->enabled && !p->deleting && !p->maxpfx_tripped &&
	    (p->cfg.tunnel_id == 0 || p->tunnel_up))
		vpnr__timer_arm(p->ctx, &p->connect_timer,
		    now + (vpnr_tstamp)p->cfg.connect_retry_s * VPNR_SECONDS);
}
