/*
 * Built-in userspace ESP data plane (include/vpnroute/esp.h): the
 * vpnr_dataplane ops, ESP-in-UDP encapsulation and decapsulation in
 * tunnel mode (RFC 4303, RFC 3948), lifetimes and counters.
 */
#include <string.h>

#include <vpnroute/esp.h>

#include "ctx.h"
#include "esp_int.h"
#include "log.h"
#include "mem.h"
#include "vstruct.h"

#define ESP_NH_IPV4  4
#define ESP_NH_IPV6  41
#define ESP_NH_DUMMY 59

/* Non-ESN outbound SAs ask for a rekey this far before 2^32. */
#define ESP_SEQ_SOFT_MARGIN (1ULL << 20)

/* Log-once classes (vpnr_esp.last_log). */
enum {
	LOG_UNKNOWN_SPI,
	LOG_REPLAY,
	LOG_INTEGRITY,
	LOG_PADDING,
	LOG_MALFORMED,
	LOG_CRYPTO,
	LOG_LIFETIME,
	LOG_POLICY,
};

int
vpnr_esp_new(vpnr_esp **pesp, const vpnr_mem *mem)
{
	vpnr_esp *esp;

	if (pesp == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*pesp = NULL;
	if ((esp = vpnr__calloc(mem, 1, sizeof(*esp))) == NULL)
		return VPNR_ERR_NOMEM;
	if (mem != NULL) {
		esp->mem_store = *mem;
		esp->mem = &esp->mem_store;
	}
	RB_INIT(&esp->sas);
	RB_INIT(&esp->tuns);
	RB_INIT(&esp->tuns_by_peer);
	TAILQ_INIT(&esp->expq);
	*pesp = esp;
	return VPNR_OK;
}

void
vpnr_esp_del(vpnr_esp *esp)
{
	const vpnr_mem *mem;

	if (esp == NULL)
		return;
	vpnr__esp_tables_free(esp);
	mem = esp->mem != NULL ? &esp->mem_store : NULL;
	if (mem != NULL) {
		vpnr_mem copy = *mem;

		explicit_bzero(esp, sizeof(*esp));
		vpnr__free(&copy, esp);
		return;
	}
	explicit_bzero(esp, sizeof(*esp));
	vpnr__free(NULL, esp);
}

int
vpnr_esp_set_route_ops(vpnr_esp *esp,
    int (*route_add)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    int (*route_del)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    void *arg)
{
	if (esp == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	esp->route_add = route_add;
	esp->route_del = route_del;
	esp->route_arg = arg;
	return VPNR_OK;
}

/* ---- lifetimes ---------------------------------------------------- */

static void
sa_expire(vpnr_esp *esp, struct vpnr__esp_sa *sa, uint8_t what)
{
	if (sa->hit & what)
		return;
	sa->hit |= what;
	if (sa->pending == 0)
		TAILQ_INSERT_TAIL(&esp->expq, sa, exp_entry);
	sa->pending |= what;
}

static int
lifetime_hit(const vpnr_lifetime *lt, const vpnr_esp_counters *c, int out)
{
	uint64_t pkts, octets;

	pkts = out ? c->packets_out : c->packets_in;
	octets = out ? c->octets_out : c->octets_in;
	return (lt->packets != 0 && pkts >= lt->packets) ||
	    (lt->bytes != 0 && octets >= lt->bytes);
}

static void
sa_check_lifetimes(vpnr_esp *esp, struct vpnr__esp_sa *sa)
{
	int out = sa->dir == VPNR_DIR_OUT;

	if (!(sa->hit & ESP_EXP_SOFT) && lifetime_hit(&sa->soft, &sa->c, out))
		sa_expire(esp, sa, ESP_EXP_SOFT);
	if (!(sa->hit & ESP_EXP_HARD) && lifetime_hit(&sa->hard, &sa->c, out))
		sa_expire(esp, sa, ESP_EXP_HARD);
}

int
vpnr_esp_expired_pending(const vpnr_esp *esp)
{
	return esp != NULL && !TAILQ_EMPTY(&esp->expq);
}

/* Pops the next event; *ctx gets the SA's context. */
static int
next_expired(vpnr_esp *esp, uint64_t *sa_id, int *hard, vpnr_ctx **ctx)
{
	struct vpnr__esp_sa *sa;

	if ((sa = TAILQ_FIRST(&esp->expq)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	*sa_id = sa->sa_id;
	*ctx = sa->ctx;
	if (sa->pending & ESP_EXP_SOFT) {
		*hard = 0;
		sa->pending &= ~ESP_EXP_SOFT;
	} else {
		*hard = 1;
		sa->pending &= ~ESP_EXP_HARD;
	}
	if (sa->pending == 0)
		TAILQ_REMOVE(&esp->expq, sa, exp_entry);
	return VPNR_OK;
}

int
vpnr_esp_next_expired(vpnr_esp *esp, uint64_t *sa_id, int *hard)
{
	vpnr_ctx *ctx;

	if (esp == NULL || sa_id == NULL || hard == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	return next_expired(esp, sa_id, hard, &ctx);
}

int
vpnr_esp_poll_expired(vpnr_esp *esp, vpnr_tstamp now)
{
	vpnr_ctx *ctx;
	uint64_t sa_id;
	int hard, n = 0, rv;

	if (esp == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	/* The SA may be deleted by the call: pop first, then report. */
	while (next_expired(esp, &sa_id, &hard, &ctx) == VPNR_OK) {
		if (ctx == NULL)
			continue;
		if ((rv = vpnr_dp_sa_expired(ctx, sa_id, hard, now)) < 0 &&
		    rv != VPNR_ERR_NOT_FOUND)
			return rv;
		n++;
	}
	return n;
}

/* ---- packets ------------------------------------------------------ */

/* Count a drop on the SA (if any), its tunnel and globally. */
#define ESP_DROP(esp, sa, field) \
	do { \
		(esp)->c.field++; \
		if ((sa) != NULL) { \
			(sa)->c.field++; \
			(sa)->tun->c.field++; \
		} \
	} while (0)

/*
 * The outbound SA of a tunnel interface, make-before-break: the newest
 * installed SA, once the peer can be assumed to have its inbound
 * counterpart.  A rekey responder installs its new pair before the
 * initiator has seen the answer, so a packet sent on the new SA at
 * once would be dropped by the peer.  The new SA takes over when a
 * packet arrived on an inbound SA installed after the previous
 * outbound SA (the peer uses the new pair), when the previous outbound
 * SA is deleted, or ESP_SWITCH_TIMEOUT after it was first passed over.
 */
static struct vpnr__esp_sa *
out_sa(vpnr_esp *esp, uint32_t if_id, vpnr_tstamp now)
{
	struct vpnr__esp_tunnel *t;
	struct vpnr__esp_sa *sa, *older;

	t = esp->last_tun;
	if (t == NULL || t->if_id != if_id) {
		if ((t = vpnr__esp_tun_find(esp, if_id)) == NULL)
			return NULL;
		esp->last_tun = t;
	}
	TAILQ_FOREACH(sa, &t->out, out_entry) {
		if (sa->hit & ESP_EXP_HARD)
			continue;
		older = TAILQ_NEXT(sa, out_entry);
		while (older != NULL && (older->hit & ESP_EXP_HARD))
			older = TAILQ_NEXT(older, out_entry);
		if (older == NULL || t->in_seen_order > older->order)
			return sa;
		if (sa->waiting_since == 0)
			sa->waiting_since = now != 0 ? now : 1;
		else if (now - sa->waiting_since >= ESP_SWITCH_TIMEOUT)
			return sa;
	}
	/* Every SA is past its hard lifetime: encap reports it. */
	return TAILQ_FIRST(&t->out);
}

static void
drop_log(vpnr_esp *esp, vpnr_ctx *ctx, int cls, vpnr_tstamp now,
    const char *what, uint32_t spi)
{
	if (ctx == NULL || !vpnr__log_enabled(ctx, VPNR_LOG_NOTICE))
		return;
	if (!vpnr__log_ratelimit(&esp->last_log[cls], now))
		return;
	vpnr__log_impl(ctx, VPNR_LOG_NOTICE, "esp",
	    "dropped ESP packet (SPI 0x%08x): %s", spi, what);
}

int
vpnr_esp_encap(vpnr_esp *esp, uint32_t if_id, const uint8_t *ip_pkt, size_t len,
    uint8_t *out, size_t cap, size_t *out_len, vpnr_addr *dst, vpnr_tstamp now)
{
	struct vpnr__esp_sa *sa;
	struct vpnr__esp_crypto *c;
	uint8_t trailer[16 + 2];
	size_t padlen, total, i;
	uint64_t maxseq;
	uint8_t nh;
	int rv;

	if (esp == NULL || ip_pkt == NULL || out == NULL || out_len == NULL ||
	    len == 0 || len > 0xffff)
		return VPNR_ERR_INVALID_ARGUMENT;
	switch (ip_pkt[0] >> 4) {
	case 4:
		nh = ESP_NH_IPV4;
		break;
	case 6:
		nh = ESP_NH_IPV6;
		break;
	default:
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if ((sa = out_sa(esp, if_id, now)) == NULL) {
		esp->c.no_sa_dropped++;
		return VPNR_ERR_NOT_FOUND;
	}
	c = &sa->crypto;
	sa->tun->active_out = sa;
	if (sa->hit & ESP_EXP_HARD) {
		ESP_DROP(esp, sa, lifetime_dropped);
		return VPNR_ERR_LIMIT;
	}
	/* RFC 4303 2.6: payload | padding | pad length | next header,
	 * aligned to the cipher block (4 bytes for GCM). */
	padlen = (c->align - ((len + 2) % c->align)) % c->align;
	total = ESP_HDR_LEN + c->iv_len + len + padlen + 2 + c->icv_len;
	if (cap < total)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	maxseq = sa->esn ? UINT64_MAX : UINT32_MAX;
	if (sa->seq >= maxseq) {
		/* Never wrap (RFC 4303 3.3.3): the SA is used up. */
		sa_expire(esp, sa, ESP_EXP_HARD);
		ESP_DROP(esp, sa, lifetime_dropped);
		return VPNR_ERR_LIMIT;
	}
	sa->seq++;
	vpnr__put_be32(out, sa->spi);
	vpnr__put_be32(out + 4, (uint32_t)sa->seq);
	for (i = 0; i < padlen; i++)
		trailer[i] = (uint8_t)(i + 1);
	trailer[padlen] = (uint8_t)padlen;
	trailer[padlen + 1] = nh;
	if ((rv = vpnr__esp_crypto_seal(c, out, sa->seq, sa->esn, ip_pkt, len,
		 trailer, padlen + 2)) != VPNR_OK) {
		ESP_DROP(esp, sa, cipher_failed);
		return rv;
	}
	sa->c.packets_out++;
	sa->c.octets_out += len;
	sa->tun->c.packets_out++;
	sa->tun->c.octets_out += len;
	esp->c.packets_out++;
	esp->c.octets_out += len;
	if (sa->installed_at == 0)
		sa->installed_at = now;
	sa->last_used = now;
	if (!sa->esn && sa->seq == UINT32_MAX - ESP_SEQ_SOFT_MARGIN)
		sa_expire(esp, sa, ESP_EXP_SOFT);
	sa_check_lifetimes(esp, sa);
	*out_len = total;
	if (dst != NULL) {
		*dst = sa->dst;
		if (dst->port == 0)
			dst->port = ESP_NATT_PORT;
	}
	return VPNR_OK;
}

static int
inner_ts_ok(const struct vpnr__esp_sa *sa, const uint8_t *p, size_t len);

int
vpnr_esp_decap(vpnr_esp *esp, const vpnr_addr *src, const uint8_t *pkt,
    size_t len, uint8_t *out, size_t cap, size_t *out_len, uint32_t *if_id,
    vpnr_tstamp now)
{
	struct vpnr__esp_sa *sa;
	struct vpnr__esp_crypto *c;
	struct vpnr__esp_tunnel *t;
	size_t ctlen, padlen, inner, i;
	uint64_t seq;
	uint32_t spi;
	uint8_t nh, bad;
	int rv;

	if (esp == NULL || pkt == NULL || out == NULL || out_len == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*out_len = 0;
	if (len < ESP_HDR_LEN || (spi = vpnr__get_be32(pkt)) == 0) {
		/* spi 0 is the non-ESP marker (IKE) or a short packet. */
		esp->c.malformed++;
		return VPNR_ERR_MALFORMED;
	}
	if ((sa = vpnr__esp_sa_by_spi(esp, spi)) == NULL) {
		esp->c.unknown_spi++;
		if ((t = vpnr__esp_tun_by_peer(esp, src)) != NULL)
			t->c.unknown_spi++;
		return VPNR_ERR_NOT_FOUND;
	}
	c = &sa->crypto;
	if (sa->hit & ESP_EXP_HARD) {
		ESP_DROP(esp, sa, lifetime_dropped);
		drop_log(esp, sa->ctx, LOG_LIFETIME, now, "SA expired", spi);
		return VPNR_ERR_LIMIT;
	}
	if (len < ESP_HDR_LEN + c->iv_len + c->icv_len + c->align) {
		ESP_DROP(esp, sa, malformed);
		drop_log(esp, sa->ctx, LOG_MALFORMED, now, "too short", spi);
		return VPNR_ERR_MALFORMED;
	}
	ctlen = len - ESP_HDR_LEN - c->iv_len - c->icv_len;
	if (ctlen % c->align != 0) {
		ESP_DROP(esp, sa, malformed);
		drop_log(esp, sa->ctx, LOG_MALFORMED, now,
		    "not a whole number of blocks", spi);
		return VPNR_ERR_MALFORMED;
	}
	if (cap < ctlen)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	seq = vpnr__replay_infer(&sa->replay, vpnr__get_be32(pkt + 4));
	if (vpnr__replay_check(&sa->replay, seq) != 0) {
		ESP_DROP(esp, sa, replay_dropped);
		drop_log(esp, sa->ctx, LOG_REPLAY, now, "replayed or too old",
		    spi);
		return VPNR_ERR_REPLAY;
	}
	if ((rv = vpnr__esp_crypto_open(c, pkt, len, seq, sa->esn, out,
		 ctlen)) != VPNR_OK) {
		if (rv == VPNR_ERR_INTEGRITY) {
			ESP_DROP(esp, sa, integrity_failed);
			drop_log(esp, sa->ctx, LOG_INTEGRITY, now,
			    "ICV mismatch", spi);
		} else {
			ESP_DROP(esp, sa, cipher_failed);
			drop_log(esp, sa->ctx, LOG_CRYPTO, now,
			    "cipher failure", spi);
		}
		return rv;
	}
	/* Authentic: advance the window (RFC 4303 3.4.3). */
	vpnr__replay_update(&sa->replay, seq);
	if (sa->installed_at == 0)
		sa->installed_at = now;
	sa->last_used = now;
	nh = out[ctlen - 1];
	padlen = out[ctlen - 2];
	if (padlen + 2 > ctlen) {
		ESP_DROP(esp, sa, invalid_padding);
		drop_log(esp, sa->ctx, LOG_PADDING, now, "bad pad length", spi);
		return VPNR_ERR_MALFORMED;
	}
	inner = ctlen - 2 - padlen;
	/* Default padding is 1, 2, 3, ... (RFC 4303 2.4). */
	bad = 0;
	for (i = 0; i < padlen; i++)
		bad |= out[inner + i] ^ (uint8_t)(i + 1);
	if (bad != 0) {
		ESP_DROP(esp, sa, invalid_padding);
		drop_log(esp, sa->ctx, LOG_PADDING, now, "bad padding", spi);
		return VPNR_ERR_MALFORMED;
	}
	if (nh == ESP_NH_DUMMY) {
		ESP_DROP(esp, sa, dummy_dropped);
		return VPNR_OK;
	}
	if (inner == 0 || (nh == ESP_NH_IPV4 && (out[0] >> 4) != 4) ||
	    (nh == ESP_NH_IPV6 && (out[0] >> 4) != 6) ||
	    (nh != ESP_NH_IPV4 && nh != ESP_NH_IPV6)) {
		ESP_DROP(esp, sa, malformed);
		drop_log(esp, sa->ctx, LOG_MALFORMED, now,
		    "unexpected next header", spi);
		return VPNR_ERR_MALFORMED;
	}
	if (sa->ts_check && !inner_ts_ok(sa, out, inner)) {
		ESP_DROP(esp, sa, policy_dropped);
		drop_log(esp, sa->ctx, LOG_POLICY, now,
		    "inner packet outside the traffic selectors", spi);
		return VPNR_ERR_TS_UNACCEPTABLE;
	}
	if (sa->order > sa->tun->in_seen_order)
		sa->tun->in_seen_order = sa->order;
	sa->c.packets_in++;
	sa->c.octets_in += inner;
	sa->tun->c.packets_in++;
	sa->tun->c.octets_in += inner;
	esp->c.packets_in++;
	esp->c.octets_in += inner;
	sa_check_lifetimes(esp, sa);
	*out_len = inner;
	if (if_id != NULL)
		*if_id = sa->if_id;
	return VPNR_OK;
}

/* ---- traffic selectors ------------------------------------------- */

static int
ts_match(const vpnr_ts *ts, size_t n, uint8_t fam, const uint8_t *addr,
    uint8_t proto, int have_port, uint16_t port)
{
	size_t i, alen = fam == VPNR_AF_INET ? 4 : 16;

	for (i = 0; i < n; i++, ts++) {
		if (ts->addr_start.family != fam ||
		    memcmp(addr, ts->addr_start.bytes, alen) < 0 ||
		    memcmp(addr, ts->addr_end.bytes, alen) > 0)
			continue;
		if (ts->ip_proto != 0 && ts->ip_proto != proto)
			continue;
		if ((ts->port_start != 0 || ts->port_end != 0xffff) &&
		    have_port && (port < ts->port_start || port > ts->port_end))
			continue;
		return 1;
	}
	return 0;
}

/* Inner source within the remote selectors, destination within ours. */
static int
inner_ts_ok(const struct vpnr__esp_sa *sa, const uint8_t *p, size_t len)
{
	const uint8_t *src, *dst;
	size_t l4;
	uint8_t fam, proto;
	uint16_t sport = 0, dport = 0;
	int have_port = 0;

	if ((p[0] >> 4) == 4 && len >= 20) {
		fam = VPNR_AF_INET;
		src = p + 12;
		dst = p + 16;
		proto = p[9];
		l4 = (size_t)(p[0] & 0x0f) * 4;
		/* Only the first fragment carries ports. */
		if (((p[6] & 0x1f) | p[7]) != 0)
			l4 = len;
	} else if ((p[0] >> 4) == 6 && len >= 40) {
		fam = VPNR_AF_INET6;
		src = p + 8;
		dst = p + 24;
		proto = p[6];
		l4 = 40;
	} else {
		return 0;
	}
	if ((proto == 6 || proto == 17 || proto == 132) && len >= l4 + 4) {
		sport = vpnr__get_be16(p + l4);
		dport = vpnr__get_be16(p + l4 + 2);
		have_port = 1;
	}
	return ts_match(sa->ts_remote, sa->n_ts_remote, fam, src, proto,
		   have_port, sport) &&
	    ts_match(sa->ts_local, sa->n_ts_local, fam, dst, proto, have_port,
		dport);
}

/* ---- management ---------------------------------------------------- */

int
vpnr_esp_sa_install_versioned(vpnr_esp *esp, int sa_version,
    const vpnr_child_sa *sa)
{
	struct vpnr__esp_sa *s;
	vpnr_child_sa copy;

	if (esp == NULL || sa == NULL ||
	    VPNR__VCOPY_IN(&copy, sa, sa_version, VPNR__VS_CHILD_SA) != VPNR_OK)
		return VPNR_ERR_INVALID_ARGUMENT;
	return vpnr__esp_sa_add(esp, NULL, &copy, &s);
}

int(vpnr_esp_sa_install)(vpnr_esp *esp, const vpnr_child_sa *sa)
{
	return vpnr_esp_sa_install_versioned(esp, VPNR_CHILD_SA_V1, sa);
}

int
vpnr_esp_sa_remove(vpnr_esp *esp, uint64_t sa_id)
{
	struct vpnr__esp_sa *sa;

	if (esp == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((sa = vpnr__esp_sa_by_id(esp, sa_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	vpnr__esp_sa_remove(esp, sa);
	return VPNR_OK;
}

/* The caller's vpnr_esp_sa_info of its version from an SA (NULL:
 * VPNR_ERR_NOT_FOUND); exactly that version's bytes are written. */
static int
sa_info_out(const struct vpnr__esp_sa *sa, int version, vpnr_esp_sa_info *out)
{
	vpnr_esp_sa_info latest;

	if (sa == NULL)
		return VPNR_ERR_NOT_FOUND;
	vpnr__esp_sa_fill_info(sa, &latest);
	return VPNR__VCOPY_OUT(out, &latest, version, VPNR__VS_ESP_SA_INFO);
}

int
vpnr_esp_get_sa_info_versioned(const vpnr_esp *esp, uint64_t sa_id,
    int info_version, vpnr_esp_sa_info *info)
{
	if (esp == NULL || info == NULL ||
	    !VPNR__VKNOWN(info_version, VPNR__VS_ESP_SA_INFO))
		return VPNR_ERR_INVALID_ARGUMENT;
	return sa_info_out(vpnr__esp_sa_by_id(esp, sa_id), info_version, info);
}

int(vpnr_esp_get_sa_info)(const vpnr_esp *esp, uint64_t sa_id,
    vpnr_esp_sa_info *info)
{
	return vpnr_esp_get_sa_info_versioned(esp, sa_id, VPNR_ESP_SA_INFO_V1,
	    info);
}

int
vpnr_esp_get_sa_info_by_spi_versioned(const vpnr_esp *esp, uint32_t spi,
    int info_version, vpnr_esp_sa_info *info)
{
	if (esp == NULL || info == NULL ||
	    !VPNR__VKNOWN(info_version, VPNR__VS_ESP_SA_INFO))
		return VPNR_ERR_INVALID_ARGUMENT;
	return sa_info_out(vpnr__esp_sa_by_spi(esp, spi), info_version, info);
}

int(vpnr_esp_get_sa_info_by_spi)(const vpnr_esp *esp, uint32_t spi,
    vpnr_esp_sa_info *info)
{
	return vpnr_esp_get_sa_info_by_spi_versioned(esp, spi,
	    VPNR_ESP_SA_INFO_V1, info);
}

int
vpnr_esp_get_tunnel_counters_versioned(const vpnr_esp *esp, uint32_t if_id,
    int counters_version, vpnr_esp_counters *c)
{
	const struct vpnr__esp_tunnel *t;

	if (esp == NULL || c == NULL ||
	    !VPNR__VKNOWN(counters_version, VPNR__VS_ESP_COUNTERS))
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((t = vpnr__esp_tun_find(esp, if_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	return VPNR__VCOPY_OUT(c, &t->c, counters_version,
	    VPNR__VS_ESP_COUNTERS);
}

int(vpnr_esp_get_tunnel_counters)(const vpnr_esp *esp, uint32_t if_id,
    vpnr_esp_counters *c)
{
	return vpnr_esp_get_tunnel_counters_versioned(esp, if_id,
	    VPNR_ESP_COUNTERS_V1, c);
}

int
vpnr_esp_get_counters_versioned(const vpnr_esp *esp, int counters_version,
    vpnr_esp_counters *c)
{
	vpnr_esp_counters zero;

	if (c == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	memset(&zero, 0, sizeof(zero));
	return VPNR__VCOPY_OUT(c, esp != NULL ? &esp->c : &zero,
	    counters_version, VPNR__VS_ESP_COUNTERS);
}

int(vpnr_esp_get_counters)(const vpnr_esp *esp, vpnr_esp_counters *c)
{
	return vpnr_esp_get_counters_versioned(esp, VPNR_ESP_COUNTERS_V1, c);
}

int
vpnr_esp_sa_walk(const vpnr_esp *esp,
    int (*cb)(const vpnr_esp_sa_info *info, void *arg), void *arg)
{
	struct vpnr__esp_sa *sa;
	vpnr_esp_sa_info info;
	int rv;

	if (esp == NULL || cb == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	RB_FOREACH(sa, vpnr__esp_sa_tree,
	    (struct vpnr__esp_sa_tree *)&esp->sas) {
		vpnr__esp_sa_fill_info(sa, &info);
		if ((rv = cb(&info, arg)) != 0)
			return rv;
	}
	return VPNR_OK;
}

int
vpnr_esp_tunnel_walk(const vpnr_esp *esp,
    int (*cb)(uint32_t if_id, const vpnr_esp_counters *c, void *arg), void *arg)
{
	struct vpnr__esp_tunnel *t;
	int rv;

	if (esp == NULL || cb == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	RB_FOREACH(t, vpnr__esp_tun_tree,
	    (struct vpnr__esp_tun_tree *)&esp->tuns)
		if ((rv = cb(t->if_id, &t->c, arg)) != 0)
			return rv;
	return VPNR_OK;
}

/* ---- vpnr_dataplane ops --------------------------------------------- */

static int
dp_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *csa,
    void *dp_data)
{
	vpnr_esp *esp = dp_data;
	struct vpnr__esp_sa *sa;
	int rv;

	if ((sa = vpnr__esp_sa_by_id(esp, csa->sa_id)) != NULL &&
	    sa->spi == csa->spi && sa->dir == csa->direction) {
		/* vpnr_dp_replay() of an SA we kept, or its peer moved (a
		 * NAT mapping changed): updated in place. */
		vpnr__esp_sa_move(esp, sa, &csa->src, &csa->dst);
		return VPNR_OK;
	}
	rv = vpnr__esp_sa_add(esp, ctx, csa, &sa);
	if (rv != VPNR_OK) {
		vpnr__log(ctx, VPNR_LOG_ERR, "esp",
		    "cannot install SA 0x%08x: %s", csa->spi,
		    vpnr_strerror(rv));
		return rv == VPNR_ERR_NOMEM ? rv : VPNR_ERR_DATAPLANE;
	}
	if (ctx != NULL)
		sa->installed_at = ctx->now;
	vpnr__log(ctx, VPNR_LOG_DEBUG, "esp",
	    "installed %s SA 0x%08x (sa %llu, if_id %u)",
	    csa->direction == VPNR_DIR_IN ? "inbound" : "outbound", csa->spi,
	    (unsigned long long)csa->sa_id, csa->if_id);
	return VPNR_OK;
}

static int
dp_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *csa,
    void *dp_data)
{
	vpnr_esp *esp = dp_data;
	struct vpnr__esp_sa *sa;

	if ((sa = vpnr__esp_sa_by_id(esp, csa->sa_id)) == NULL)
		return VPNR_OK; /* already gone: deleting is idempotent */
	vpnr__esp_sa_remove(esp, sa);
	return VPNR_OK;
}

/*
 * Route-based tunnels: the host routes packets into the tunnel
 * interface, and the outbound SA is chosen by if_id, so policies need
 * no state here.  Traffic selectors are not enforced by this plane.
 */
static int
dp_policy_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol,
    void *dp_data)
{
	return VPNR_OK;
}

static int
dp_policy_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol,
    void *dp_data)
{
	return VPNR_OK;
}

static int
dp_route_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt, void *dp_data)
{
	vpnr_esp *esp = dp_data;

	if (esp->route_add == NULL)
		return VPNR_OK;
	return esp->route_add(ctx, op_id, rt, esp->route_arg);
}

static int
dp_route_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt, void *dp_data)
{
	vpnr_esp *esp = dp_data;

	if (esp->route_del == NULL)
		return VPNR_OK;
	return esp->route_del(ctx, op_id, rt, esp->route_arg);
}

static int
dp_sa_query(vpnr_ctx *ctx, uint64_t sa_id, uint64_t *bytes, uint64_t *packets,
    vpnr_tstamp *last_used, void *dp_data)
{
	vpnr_esp *esp = dp_data;
	struct vpnr__esp_sa *sa;

	if ((sa = vpnr__esp_sa_by_id(esp, sa_id)) == NULL)
		return VPNR_ERR_NOT_FOUND;
	if (bytes != NULL)
		*bytes = sa->c.octets_in + sa->c.octets_out;
	if (packets != NULL)
		*packets = sa->c.packets_in + sa->c.packets_out;
	if (last_used != NULL)
		*last_used = sa->last_used;
	return VPNR_OK;
}

static const vpnr_dataplane esp_dataplane = {
	.get_spi = NULL,
	.sa_add = dp_sa_add,
	.sa_del = dp_sa_del,
	.policy_add = dp_policy_add,
	.policy_del = dp_policy_del,
	.route_add = dp_route_add,
	.route_del = dp_route_del,
	.sa_query = dp_sa_query,
};

const vpnr_dataplane *
vpnr_esp_dataplane(void)
{
	return &esp_dataplane;
}
