/*
 * BGP path attribute parsing (RFC 4271 5 and 6.3, RFC 4760, RFC 6793,
 * RFC 1997, RFC 8092) with the revised error handling of RFC 7606,
 * the attribute builder and the queries used by decision and policy.
 * Interning is in attr_intern.c, encoding and packing in
 * update_pack.c.
 */
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "buf.h"

/* ------------------------------------------------------------------ */
/* Builder                                                             */

void
vpnr__bgp_attrs_build_init(struct vpnr__bgp_attrs_build *b)
{
	/* The arrays are large; clear only the scalar head. */
	memset(b, 0, offsetof(struct vpnr__bgp_attrs_build, aspath));
	b->aspath_words = 0;
	b->n_comm = 0;
	b->n_lcomm = 0;
	b->unknown_len = 0;
}

void
vpnr__bgp_attrs_build_from(struct vpnr__bgp_attrs_build *b,
    const struct vpnr__bgp_attrs *a)
{
	vpnr__bgp_attrs_build_init(b);
	b->flags = a->flags & ~(VPNR__BGP_A_NEXTHOP | VPNR__BGP_A_NEXTHOP_LL);
	b->origin = a->origin;
	b->med = a->med;
	b->local_pref = a->local_pref;
	b->agg_as = a->agg_as;
	b->agg_addr = a->agg_addr;
	if (a->flags & VPNR__BGP_A_NEXTHOP) {
		if (a->nh_family == VPNR_AF_INET) {
			b->has_nh4 = 1;
			memcpy(b->nh4, a->nexthop, 4);
		} else {
			b->has_mp_nh = 1;
			b->mp_nh_family = a->nh_family;
			memcpy(b->mp_nh, a->nexthop, 16);
			if (a->flags & VPNR__BGP_A_NEXTHOP_LL) {
				b->has_mp_nh_ll = 1;
				memcpy(b->mp_nh_ll, a->nexthop_ll, 16);
			}
		}
	}
	b->aspath_words = a->aspath_words;
	memcpy(b->aspath, vpnr__bgp_attrs_aspath(a),
	    a->aspath_words * sizeof(uint32_t));
	b->n_comm = a->n_comm;
	memcpy(b->comm, vpnr__bgp_attrs_comm(a), a->n_comm * sizeof(uint32_t));
	b->n_lcomm = a->n_lcomm;
	memcpy(b->lcomm, vpnr__bgp_attrs_lcomm(a),
	    3 * (size_t)a->n_lcomm * sizeof(uint32_t));
	b->unknown_len = a->unknown_len;
	memcpy(b->unknown, vpnr__bgp_attrs_unknown(a), a->unknown_len);
}

int
vpnr__bgp_attrs_build_aspath_seg(struct vpnr__bgp_attrs_build *b, uint8_t type,
    const uint32_t *asns, size_t n)
{
	if (n == 0)
		return 0;
	if (n > 0xffff || b->aspath_words + 1 + n > VPNR__BGP_MAX_ASPATH_WORDS)
		return VPNR_ERR_LIMIT;
	b->aspath[b->aspath_words++] = ((uint32_t)type << 16) | (uint32_t)n;
	memcpy(&b->aspath[b->aspath_words], asns, n * sizeof(uint32_t));
	b->aspath_words += n;
	b->flags |= VPNR__BGP_A_ASPATH;
	return 0;
}

int
vpnr__bgp_attrs_build_add_comm(struct vpnr__bgp_attrs_build *b, uint32_t c)
{
	if (b->n_comm >= VPNR__BGP_MAX_COMM)
		return VPNR_ERR_LIMIT;
	b->comm[b->n_comm++] = c;
	return 0;
}

void
vpnr__bgp_attrs_build_set_nexthop(struct vpnr__bgp_attrs_build *b,
    const vpnr_addr *nh, const vpnr_addr *ll)
{
	b->has_nh4 = 0;
	b->has_mp_nh = b->has_mp_nh_ll = 0;
	if (nh == NULL)
		return;
	if (nh->family == VPNR_AF_INET) {
		b->has_nh4 = 1;
		memcpy(b->nh4, nh->bytes, 4);
	} else if (nh->family == VPNR_AF_INET6) {
		b->has_mp_nh = 1;
		b->mp_nh_family = VPNR_AF_INET6;
		memcpy(b->mp_nh, nh->bytes, 16);
		if (ll != NULL && ll->family == VPNR_AF_INET6) {
			b->has_mp_nh_ll = 1;
			memcpy(b->mp_nh_ll, ll->bytes, 16);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

struct pstate {
	const struct vpnr__bgp_attr_pctx *pctx;
	struct vpnr__bgp_attrs_build *b;
	struct vpnr__bgp_attr_result *res;
	uint8_t seen[32];
	unsigned n_attrs;
	/* AS4 attributes, merged at the end */
	const uint8_t *as4path;
	size_t as4path_len;
	int has_as4agg;
	uint32_t as4agg_as;
	uint32_t as4agg_addr;
};

static void
act(struct pstate *s, int action, uint8_t subcode, uint8_t type,
    const uint8_t *raw, size_t rawlen)
{
	struct vpnr__bgp_attr_result *res = s->res;

	if (action == VPNR__BGP_ACT_DISCARD)
		res->n_discarded++;
	if (action <= res->action)
		return;
	res->action = action;
	res->first_bad_type = type;
	vpnr__bgp_err_set(&res->err, VPNR__BGP_ERR_UPDATE, subcode, raw,
	    rawlen);
}

/* RFC 7606: how a malformed attribute of this type is handled. */
static int
malformed_action(uint8_t type)
{
	switch (type) {
	case VPNR__BGP_ATTR_ATOMIC_AGGREGATE:
	case VPNR__BGP_ATTR_AGGREGATOR:
	case VPNR__BGP_ATTR_AS4_PATH:
	case VPNR__BGP_ATTR_AS4_AGGREGATOR:
		return VPNR__BGP_ACT_DISCARD;
	case VPNR__BGP_ATTR_MP_REACH:
	case VPNR__BGP_ATTR_MP_UNREACH:
		return VPNR__BGP_ACT_RESET;
	}
	return VPNR__BGP_ACT_WITHDRAW;
}

/* Expected Optional/Transitive bits of recognized types, or -1. */
static int
expected_flags(uint8_t type)
{
	const int O = VPNR__BGP_AF_OPTIONAL, T = VPNR__BGP_AF_TRANSITIVE;

	switch (type) {
	case VPNR__BGP_ATTR_ORIGIN:
	case VPNR__BGP_ATTR_AS_PATH:
	case VPNR__BGP_ATTR_NEXT_HOP:
	case VPNR__BGP_ATTR_LOCAL_PREF:
	case VPNR__BGP_ATTR_ATOMIC_AGGREGATE:
		return T;
	case VPNR__BGP_ATTR_MED:
	case VPNR__BGP_ATTR_ORIGINATOR_ID:
	case VPNR__BGP_ATTR_CLUSTER_LIST:
	case VPNR__BGP_ATTR_MP_REACH:
	case VPNR__BGP_ATTR_MP_UNREACH:
		return O;
	case VPNR__BGP_ATTR_AGGREGATOR:
	case VPNR__BGP_ATTR_COMMUNITIES:
	case VPNR__BGP_ATTR_EXT_COMMUNITIES:
	case VPNR__BGP_ATTR_AS4_PATH:
	case VPNR__BGP_ATTR_AS4_AGGREGATOR:
	case VPNR__BGP_ATTR_LARGE_COMMUNITIES:
		return O | T;
	}
	return -1;
}

/*
 * Validate an AS path value (2- or 4-octet ASNs).  Returns the path
 * length (AS_SET 1, confed 0) or -1 if malformed.  When out is not
 * NULL the segments are stored there (*words receives the count).
 */
static int
aspath_scan(const uint8_t *data, size_t len, int as4, int allow_confed,
    uint32_t *out, size_t max, size_t *words)
{
	struct vpnr__rbuf r;
	uint8_t type, cnt;
	uint16_t a16;
	uint32_t a32;
	size_t i, w = 0;
	int plen = 0;

	vpnr__rbuf_init(&r, data, len);
	while (vpnr__rbuf_left(&r) > 0) {
		if (vpnr__rbuf_get_u8(&r, &type) != 0 ||
		    vpnr__rbuf_get_u8(&r, &cnt) != 0)
			return -1;
		if (cnt == 0)
			return -1;
		switch (type) {
		case VPNR__BGP_AS_SEQUENCE:
			plen += cnt;
			break;
		case VPNR__BGP_AS_SET:
			plen += 1;
			break;
		case VPNR__BGP_AS_CONFED_SEQUENCE:
		case VPNR__BGP_AS_CONFED_SET:
			if (!allow_confed)
				return -1;
			break;
		default:
			return -1;
		}
		if (vpnr__rbuf_left(&r) < (size_t)cnt * (as4 ? 4 : 2))
			return -1;
		if (out != NULL) {
			if (w + 1 + cnt > max)
				return -1;
			out[w] = ((uint32_t)type << 16) | cnt;
		}
		w++;
		for (i = 0; i < cnt; i++) {
			if (as4)
				vpnr__rbuf_get_u32(&r, &a32);
			else {
				vpnr__rbuf_get_u16(&r, &a16);
				a32 = a16;
			}
			if (a32 == 0)
				return -1; /* RFC 7607 */
			if (out != NULL)
				out[w] = a32;
			w++;
		}
	}
	if (r.err != 0)
		return -1;
	if (words != NULL)
		*words = w;
	return plen;
}

static int
nh4_martian(const uint8_t nh[4])
{
	return nh[0] == 0 || nh[0] == 127 || nh[0] >= 224;
}

static void
parse_mp_reach(struct pstate *s, struct vpnr__rbuf *v, const uint8_t *raw,
    size_t rawlen)
{
	struct vpnr__bgp_mp *mp = &s->res->mp_reach;
	uint8_t nhlen;
	const uint8_t *nh;
	int n;

	mp->present = 1;
	vpnr__rbuf_get_u16(v, &mp->afi);
	vpnr__rbuf_get_u8(v, &mp->safi);
	vpnr__rbuf_get_u8(v, &nhlen);
	vpnr__rbuf_get_ptr(v, nhlen, &nh);
	vpnr__rbuf_skip(v, 1); /* reserved */
	if (v->err != 0)
		goto bad;
	mp->aid = vpnr__bgp_aid_from_afi_safi(mp->afi, mp->safi);
	mp->nlri_len = vpnr__rbuf_left(v);
	mp->nlri = mp->nlri_len ? vpnr__rbuf_rest(v) : NULL;
	if (mp->aid < 0)
		return; /* not ours: the engine ignores it */
	if (vpnr__bgp_mp_nexthop_parse(nh, nhlen, mp->aid, s->b) != 0)
		goto bad;
	n = vpnr__bgp_nlri_check(mp->nlri, mp->nlri_len,
	    vpnr__bgp_aid_family(mp->aid));
	if (n < 0) {
		act(s, VPNR__BGP_ACT_RESET, VPNR__BGP_UPD_BAD_NETWORK,
		    VPNR__BGP_ATTR_MP_REACH, raw, rawlen);
	}
	return;
bad:
	act(s, VPNR__BGP_ACT_RESET, VPNR__BGP_UPD_OPT_ATTR,
	    VPNR__BGP_ATTR_MP_REACH, raw, rawlen);
}

int
vpnr__bgp_mp_nexthop_parse(const uint8_t *nh, size_t len, int aid,
    struct vpnr__bgp_attrs_build *b)
{
	struct vpnr__rbuf r;

	vpnr__rbuf_init(&r, nh, len);
	b->has_mp_nh = b->has_mp_nh_ll = 0;
	if (aid == VPNR__BGP_AID_IPV4) {
		if (len != 4)
			return VPNR_ERR_MALFORMED;
		memset(b->mp_nh, 0, sizeof(b->mp_nh));
		vpnr__rbuf_get_bytes(&r, b->mp_nh, 4);
		b->mp_nh_family = VPNR_AF_INET;
		b->has_mp_nh = 1;
		return 0;
	}
	if (aid != VPNR__BGP_AID_IPV6 || (len != 16 && len != 32))
		return VPNR_ERR_MALFORMED;
	vpnr__rbuf_get_bytes(&r, b->mp_nh, 16);
	b->mp_nh_family = VPNR_AF_INET6;
	b->has_mp_nh = 1;
	if (len == 32) {
		vpnr__rbuf_get_bytes(&r, b->mp_nh_ll, 16);
		/* RFC 2545: a zero second address means none */
		b->has_mp_nh_ll = 0;
		for (size_t i = 0; i < 16; i++)
			if (b->mp_nh_ll[i] != 0)
				b->has_mp_nh_ll = 1;
	}
	return r.err != 0 ? VPNR_ERR_MALFORMED : 0;
}

static void
parse_mp_unreach(struct pstate *s, struct vpnr__rbuf *v, const uint8_t *raw,
    size_t rawlen)
{
	struct vpnr__bgp_mp *mp = &s->res->mp_unreach;

	mp->present = 1;
	vpnr__rbuf_get_u16(v, &mp->afi);
	vpnr__rbuf_get_u8(v, &mp->safi);
	if (v->err != 0) {
		act(s, VPNR__BGP_ACT_RESET, VPNR__BGP_UPD_OPT_ATTR,
		    VPNR__BGP_ATTR_MP_UNREACH, raw, rawlen);
		return;
	}
	mp->aid = vpnr__bgp_aid_from_afi_safi(mp->afi, mp->safi);
	mp->nlri_len = vpnr__rbuf_left(v);
	mp->nlri = mp->nlri_len ? vpnr__rbuf_rest(v) : NULL;
	if (mp->aid >= 0 &&
	    vpnr__bgp_nlri_check(mp->nlri, mp->nlri_len,
		vpnr__bgp_aid_family(mp->aid)) < 0)
		act(s, VPNR__BGP_ACT_RESET, VPNR__BGP_UPD_BAD_NETWORK,
		    VPNR__BGP_ATTR_MP_UNREACH, raw, rawlen);
}

static void
keep_unknown(struct pstate *s, uint8_t flags, uint8_t type, const uint8_t *val,
    size_t len)
{
	struct vpnr__bgp_attrs_build *b = s->b;
	struct vpnr__wbuf w;

	flags &= ~VPNR__BGP_AF_EXTLEN;
	if (len > 255)
		flags |= VPNR__BGP_AF_EXTLEN;
	vpnr__wbuf_init_fixed(&w, b->unknown + b->unknown_len,
	    sizeof(b->unknown) - b->unknown_len);
	vpnr__wbuf_put_u8(&w, flags);
	vpnr__wbuf_put_u8(&w, type);
	if (len > 255)
		vpnr__wbuf_put_u16(&w, (uint16_t)len);
	else
		vpnr__wbuf_put_u8(&w, (uint8_t)len);
	vpnr__wbuf_put_bytes(&w, val, len);
	if (w.err == 0)
		b->unknown_len += vpnr__wbuf_len(&w);
	/* cannot overflow: the unknown area is as large as a message */
}

static void
parse_one(struct pstate *s, uint8_t flags, uint8_t type, const uint8_t *val,
    size_t len, const uint8_t *raw, size_t rawlen)
{
	struct vpnr__bgp_attrs_build *b = s->b;
	const struct vpnr__bgp_attr_pctx *pctx = s->pctx;
	struct vpnr__rbuf v;
	uint16_t as2;
	uint32_t x;
	size_t i, n;
	int ef, plen;

	vpnr__rbuf_init(&v, val, len);
	ef = expected_flags(type);
	if (ef >= 0 &&
	    (flags & (VPNR__BGP_AF_OPTIONAL | VPNR__BGP_AF_TRANSITIVE)) != ef) {
		/* RFC 7606 3c: handled as this attribute's malformation,
		 * except for what an eBGP session ignores anyway */
		if (pctx->ebgp &&
		    (type == VPNR__BGP_ATTR_LOCAL_PREF ||
			type == VPNR__BGP_ATTR_ORIGINATOR_ID ||
			type == VPNR__BGP_ATTR_CLUSTER_LIST))
			return;
		act(s, malformed_action(type), VPNR__BGP_UPD_ATTR_FLAGS, type,
		    raw, rawlen);
		return;
	}
	switch (type) {
	case VPNR__BGP_ATTR_ORIGIN:
		if (len != 1) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		vpnr__rbuf_get_u8(&v, &b->origin);
		if (b->origin > VPNR__BGP_ORIGIN_INCOMPLETE) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_BAD_ORIGIN,
			    type, raw, rawlen);
			return;
		}
		b->flags |= VPNR__BGP_A_ORIGIN;
		break;
	case VPNR__BGP_ATTR_AS_PATH:
		plen = aspath_scan(val, len, pctx->as4, !pctx->ebgp, b->aspath,
		    VPNR__BGP_MAX_ASPATH_WORDS, &n);
		if (plen < 0) {
			b->aspath_words = 0;
			act(s, VPNR__BGP_ACT_WITHDRAW,
			    VPNR__BGP_UPD_MALFORMED_ASPATH, type, raw, rawlen);
			return;
		}
		b->aspath_words = n;
		b->flags |= VPNR__BGP_A_ASPATH;
		break;
	case VPNR__BGP_ATTR_NEXT_HOP:
		if (len != 4) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		vpnr__rbuf_get_bytes(&v, b->nh4, 4);
		if (nh4_martian(b->nh4)) {
			act(s, VPNR__BGP_ACT_WITHDRAW,
			    VPNR__BGP_UPD_BAD_NEXTHOP, type, raw, rawlen);
			return;
		}
		b->has_nh4 = 1;
		break;
	case VPNR__BGP_ATTR_MED:
		if (len != 4) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		vpnr__rbuf_get_u32(&v, &b->med);
		b->flags |= VPNR__BGP_A_MED;
		break;
	case VPNR__BGP_ATTR_LOCAL_PREF:
		if (pctx->ebgp)
			return; /* RFC 7606 7.5: discarded silently */
		if (len != 4) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		vpnr__rbuf_get_u32(&v, &b->local_pref);
		b->flags |= VPNR__BGP_A_LOCAL_PREF;
		break;
	case VPNR__BGP_ATTR_ATOMIC_AGGREGATE:
		if (len != 0) {
			act(s, VPNR__BGP_ACT_DISCARD, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		b->flags |= VPNR__BGP_A_ATOMIC_AGG;
		break;
	case VPNR__BGP_ATTR_AGGREGATOR:
		if (len != (pctx->as4 ? 8u : 6u)) {
			act(s, VPNR__BGP_ACT_DISCARD, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		if (pctx->as4)
			vpnr__rbuf_get_u32(&v, &x);
		else {
			vpnr__rbuf_get_u16(&v, &as2);
			x = as2;
		}
		if (x == 0) { /* RFC 7607 */
			act(s, VPNR__BGP_ACT_DISCARD, VPNR__BGP_UPD_OPT_ATTR,
			    type, raw, rawlen);
			return;
		}
		b->agg_as = x;
		vpnr__rbuf_get_u32(&v, &b->agg_addr);
		b->flags |= VPNR__BGP_A_AGGREGATOR;
		break;
	case VPNR__BGP_ATTR_COMMUNITIES:
		if (len == 0 || len % 4 != 0) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_OPT_ATTR,
			    type, raw, rawlen);
			return;
		}
		n = len / 4;
		for (i = 0; i < n && b->n_comm < VPNR__BGP_MAX_COMM; i++)
			vpnr__rbuf_get_u32(&v, &b->comm[b->n_comm++]);
		break;
	case VPNR__BGP_ATTR_LARGE_COMMUNITIES:
		if (len == 0 || len % 12 != 0) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_OPT_ATTR,
			    type, raw, rawlen);
			return;
		}
		n = len / 12;
		for (i = 0; i < n && b->n_lcomm < VPNR__BGP_MAX_LCOMM; i++) {
			vpnr__rbuf_get_u32(&v, &b->lcomm[3 * b->n_lcomm]);
			vpnr__rbuf_get_u32(&v, &b->lcomm[3 * b->n_lcomm + 1]);
			vpnr__rbuf_get_u32(&v, &b->lcomm[3 * b->n_lcomm + 2]);
			b->n_lcomm++;
		}
		break;
	case VPNR__BGP_ATTR_EXT_COMMUNITIES:
		if (len == 0 || len % 8 != 0) {
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_OPT_ATTR,
			    type, raw, rawlen);
			return;
		}
		/* kept verbatim (recognized: no PARTIAL added) */
		keep_unknown(s, flags, type, val, len);
		break;
	case VPNR__BGP_ATTR_ORIGINATOR_ID:
	case VPNR__BGP_ATTR_CLUSTER_LIST:
		if (pctx->ebgp)
			return; /* route reflection is iBGP only: dropped */
		if ((type == VPNR__BGP_ATTR_ORIGINATOR_ID && len != 4) ||
		    (type == VPNR__BGP_ATTR_CLUSTER_LIST &&
			(len == 0 || len % 4 != 0)))
			act(s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
		/* not kept: non-transitive, we do not reflect */
		break;
	case VPNR__BGP_ATTR_MP_REACH:
		parse_mp_reach(s, &v, raw, rawlen);
		break;
	case VPNR__BGP_ATTR_MP_UNREACH:
		parse_mp_unreach(s, &v, raw, rawlen);
		break;
	case VPNR__BGP_ATTR_AS4_PATH:
		if (pctx->as4) { /* RFC 6793 6: NEW speakers ignore it */
			s->res->n_discarded++;
			return;
		}
		if (aspath_scan(val, len, 1, 0, NULL, 0, NULL) < 0) {
			act(s, VPNR__BGP_ACT_DISCARD,
			    VPNR__BGP_UPD_MALFORMED_ASPATH, type, raw, rawlen);
			return;
		}
		s->as4path = val;
		s->as4path_len = len;
		break;
	case VPNR__BGP_ATTR_AS4_AGGREGATOR:
		if (pctx->as4) {
			s->res->n_discarded++;
			return;
		}
		if (len != 8) {
			act(s, VPNR__BGP_ACT_DISCARD, VPNR__BGP_UPD_ATTR_LEN,
			    type, raw, rawlen);
			return;
		}
		vpnr__rbuf_get_u32(&v, &s->as4agg_as);
		vpnr__rbuf_get_u32(&v, &s->as4agg_addr);
		if (s->as4agg_as == 0) {
			act(s, VPNR__BGP_ACT_DISCARD, VPNR__BGP_UPD_OPT_ATTR,
			    type, raw, rawlen);
			return;
		}
		s->has_as4agg = 1;
		break;
	default:
		if (!(flags & VPNR__BGP_AF_OPTIONAL)) {
			act(s, VPNR__BGP_ACT_RESET,
			    VPNR__BGP_UPD_UNKNOWN_WELLKNOWN, type, raw, rawlen);
			return;
		}
		if (flags & VPNR__BGP_AF_TRANSITIVE)
			keep_unknown(s, flags | VPNR__BGP_AF_PARTIAL, type, val,
			    len);
		/* unknown optional non-transitive: dropped quietly */
		break;
	}
}

/*
 * RFC 6793 4.2.3: the first (plen(AS_PATH) - plen(AS4_PATH)) ASes of
 * AS_PATH followed by AS4_PATH.
 */
static void
as4_merge(struct pstate *s)
{
	struct vpnr__bgp_attrs_build *b = s->b;
	int plen, plen4, need;
	size_t i, cnt, type, cut = 0, w4, split_at;
	uint32_t hdr;

	if ((b->flags & VPNR__BGP_A_AGGREGATOR) &&
	    b->agg_as != VPNR__BGP_AS_TRANS)
		return; /* AS4_* ignored entirely */
	if (s->has_as4agg && (b->flags & VPNR__BGP_A_AGGREGATOR)) {
		b->agg_as = s->as4agg_as;
		b->agg_addr = s->as4agg_addr;
		s->res->as4_merged = 1;
	}
	if (s->as4path == NULL || !(b->flags & VPNR__BGP_A_ASPATH))
		return;
	/* path length of AS_PATH */
	plen = 0;
	for (i = 0; i < b->aspath_words; i += 1 + cnt) {
		hdr = b->aspath[i];
		type = hdr >> 16;
		cnt = hdr & 0xffff;
		if (type == VPNR__BGP_AS_SEQUENCE)
			plen += (int)cnt;
		else if (type == VPNR__BGP_AS_SET)
			plen += 1;
	}
	plen4 = aspath_scan(s->as4path, s->as4path_len, 1, 0, NULL, 0, &w4);
	if (plen4 < 0 || plen < plen4)
		return;
	/* keep the first `need` ASes of AS_PATH */
	need = plen - plen4;
	split_at = SIZE_MAX;
	for (i = 0; i < b->aspath_words && need > 0; i += 1 + cnt) {
		hdr = b->aspath[i];
		type = hdr >> 16;
		cnt = hdr & 0xffff;
		if (type == VPNR__BGP_AS_SEQUENCE && (int)cnt > need) {
			split_at = i;
			cut = i + 1 + (size_t)need;
			need = 0;
			break;
		}
		if (type == VPNR__BGP_AS_SEQUENCE)
			need -= (int)cnt;
		else if (type == VPNR__BGP_AS_SET)
			need -= 1;
		cut = i + 1 + cnt;
	}
	if (need > 0 || cut + w4 > VPNR__BGP_MAX_ASPATH_WORDS)
		return;
	if (split_at != SIZE_MAX)
		b->aspath[split_at] = ((uint32_t)VPNR__BGP_AS_SEQUENCE << 16) |
		    (uint32_t)(cut - split_at - 1);
	if (aspath_scan(s->as4path, s->as4path_len, 1, 0, b->aspath + cut,
		VPNR__BGP_MAX_ASPATH_WORDS - cut, &w4) < 0)
		return;
	b->aspath_words = cut + w4;
	s->res->as4_merged = 1;
}

int
vpnr__bgp_attrs_parse(const struct vpnr__bgp_attr_pctx *pctx,
    const uint8_t *data, size_t len, int has_nlri,
    struct vpnr__bgp_attrs_build *b, struct vpnr__bgp_attr_result *res)
{
	struct pstate s;
	struct vpnr__rbuf r;
	uint8_t flags, type, l8, missing;
	uint16_t l16;
	size_t alen, start;
	const uint8_t *val, *raw;
	int reach;

	vpnr__bgp_attrs_build_init(b);
	memset(res, 0, sizeof(*res));
	res->eor_aid = -1;
	res->mp_reach.aid = res->mp_unreach.aid = -1;
	memset(&s, 0, sizeof(s));
	s.pctx = pctx;
	s.b = b;
	s.res = res;

	vpnr__rbuf_init(&r, data, len);
	while (vpnr__rbuf_left(&r) > 0 && res->action < VPNR__BGP_ACT_RESET) {
		start = vpnr__rbuf_offset(&r);
		raw = vpnr__rbuf_rest(&r);
		/* RFC 7606 4: too short for a header -> treat-as-withdraw */
		if (vpnr__rbuf_get_u8(&r, &flags) != 0 ||
		    vpnr__rbuf_get_u8(&r, &type) != 0)
			goto overrun;
		if (flags & VPNR__BGP_AF_EXTLEN) {
			if (vpnr__rbuf_get_u16(&r, &l16) != 0)
				goto overrun;
			alen = l16;
		} else {
			if (vpnr__rbuf_get_u8(&r, &l8) != 0)
				goto overrun;
			alen = l8;
		}
		if (vpnr__rbuf_get_ptr(&r, alen, &val) != 0) {
			/* the last attribute overruns the block */
			if (type == VPNR__BGP_ATTR_MP_REACH ||
			    type == VPNR__BGP_ATTR_MP_UNREACH)
				act(&s, VPNR__BGP_ACT_RESET,
				    VPNR__BGP_UPD_ATTR_LEN, type, raw,
				    len - start);
			else
				act(&s, VPNR__BGP_ACT_WITHDRAW,
				    VPNR__BGP_UPD_ATTR_LEN, type, raw,
				    len - start);
			break;
		}
		if (alen == 0)
			val = NULL;
		s.n_attrs++;
		if (s.seen[type / 8] & (1u << (type % 8))) {
			/* RFC 7606 3g */
			if (type == VPNR__BGP_ATTR_MP_REACH ||
			    type == VPNR__BGP_ATTR_MP_UNREACH)
				act(&s, VPNR__BGP_ACT_RESET,
				    VPNR__BGP_UPD_MALFORMED_ATTR_LIST, type,
				    NULL, 0);
			else
				act(&s, VPNR__BGP_ACT_DISCARD,
				    VPNR__BGP_UPD_MALFORMED_ATTR_LIST, type,
				    NULL, 0);
			continue;
		}
		s.seen[type / 8] |= 1u << (type % 8);
		parse_one(&s, flags, type, val, alen, raw,
		    vpnr__rbuf_offset(&r) - start);
	}
	goto done;
overrun:
	act(&s, VPNR__BGP_ACT_WITHDRAW, VPNR__BGP_UPD_MALFORMED_ATTR_LIST, 0,
	    NULL, 0);
done:
	if (res->action == VPNR__BGP_ACT_RESET)
		return res->action;
	if (!pctx->as4)
		as4_merge(&s);
	/* RFC 7606 3d: missing well-known mandatory -> treat-as-withdraw */
	reach =
	    has_nlri || (res->mp_reach.present && res->mp_reach.nlri_len > 0);
	if (reach) {
		missing = 0;
		if (!(b->flags & VPNR__BGP_A_ORIGIN))
			missing = VPNR__BGP_ATTR_ORIGIN;
		else if (!(b->flags & VPNR__BGP_A_ASPATH))
			missing = VPNR__BGP_ATTR_AS_PATH;
		else if (has_nlri && !b->has_nh4)
			missing = VPNR__BGP_ATTR_NEXT_HOP;
		if (missing != 0 &&
		    !(s.seen[missing / 8] & (1u << (missing % 8))))
			act(&s, VPNR__BGP_ACT_WITHDRAW,
			    VPNR__BGP_UPD_MISSING_WELLKNOWN, missing, &missing,
			    1);
		else if (missing != 0)
			act(&s, VPNR__BGP_ACT_WITHDRAW,
			    VPNR__BGP_UPD_MALFORMED_ATTR_LIST, missing, NULL,
			    0);
	}
	/* End-of-RIB: the only attribute is an empty MP_UNREACH */
	if (!has_nlri && s.n_attrs == 1 && res->mp_unreach.present &&
	    res->mp_unreach.nlri_len == 0 && res->action == VPNR__BGP_ACT_OK)
		res->eor_aid = res->mp_unreach.aid;
	return res->action;
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

uint32_t
vpnr__bgp_attrs_first_as(const struct vpnr__bgp_attrs *a)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);

	if (a->aspath_words < 2 || (p[0] >> 16) != VPNR__BGP_AS_SEQUENCE)
		return 0;
	return p[1];
}

uint32_t
vpnr__bgp_attrs_origin_as(const struct vpnr__bgp_attrs *a)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	size_t i, cnt, last = 0, found = 0;

	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		cnt = p[i] & 0xffff;
		last = i;
		found = 1;
	}
	if (!found || (p[last] >> 16) != VPNR__BGP_AS_SEQUENCE)
		return 0;
	return p[last + (p[last] & 0xffff)];
}

int
vpnr__bgp_attrs_aspath_contains(const struct vpnr__bgp_attrs *a, uint32_t asn)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	size_t i, j, cnt;

	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		cnt = p[i] & 0xffff;
		for (j = 1; j <= cnt && i + j < a->aspath_words; j++)
			if (p[i + j] == asn)
				return 1;
	}
	return 0;
}

int
vpnr__bgp_attrs_has_comm(const struct vpnr__bgp_attrs *a, uint32_t c)
{
	const uint32_t *v = vpnr__bgp_attrs_comm(a);
	size_t lo = 0, hi = a->n_comm, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == c)
			return 1;
		if (v[mid] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
vpnr__bgp_attrs_nexthop(const struct vpnr__bgp_attrs *a, vpnr_addr *nh)
{
	memset(nh, 0, sizeof(*nh));
	if (!(a->flags & VPNR__BGP_A_NEXTHOP))
		return;
	nh->family = a->nh_family;
	memcpy(nh->bytes, a->nexthop, a->nh_family == VPNR_AF_INET ? 4 : 16);
}

void
vpnr__bgp_attrs_to_public(const struct vpnr__bgp_attrs *a, vpnr_path_attrs *out)
{
	memset(out, 0, sizeof(*out));
	vpnr__bgp_attrs_nexthop(a, &out->nexthop);
	if (a->flags & VPNR__BGP_A_MED) {
		out->med = a->med;
		out->flags |= VPNR_PATH_F_HAS_MED;
	}
	out->communities = a->n_comm ? vpnr__bgp_attrs_comm(a) : NULL;
	out->n_communities = a->n_comm;
	out->origin = a->origin;
}

const uint32_t *
vpnr__bgp_attrs_aspath_flat(const struct vpnr__bgp_attrs *a, uint32_t *scratch,
    size_t *n)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	size_t i, cnt, o = 0;

	*n = 0;
	if (a->aspath_words == 0)
		return NULL;
	/* the common case, one segment: its members as they are */
	cnt = p[0] & 0xffff;
	if (1 + cnt == a->aspath_words) {
		*n = cnt;
		return cnt > 0 ? p + 1 : NULL;
	}
	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		cnt = p[i] & 0xffff;
		if (cnt > a->aspath_words - i - 1)
			cnt = a->aspath_words - i - 1;
		/* o + cnt < aspath_words <= the scratch size */
		memcpy(scratch + o, p + i + 1, cnt * sizeof(*p));
		o += cnt;
	}
	*n = o;
	return o > 0 ? scratch : NULL;
}

const char *
vpnr__bgp_attrs_aspath_str(const struct vpnr__bgp_attrs *a, char *buf,
    size_t len)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	const char *open, *close, *sep;
	size_t i, j, cnt, off = 0;
	unsigned type;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	/* 1 2 {3,4} (5 6) [7,8]: sequence, set, confed sequence, set */
	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		type = p[i] >> 16;
		cnt = p[i] & 0xffff;
		switch (type) {
		case VPNR__BGP_AS_SET:
			open = "{", close = "}", sep = ",";
			break;
		case VPNR__BGP_AS_CONFED_SEQUENCE:
			open = "(", close = ")", sep = " ";
			break;
		case VPNR__BGP_AS_CONFED_SET:
			open = "[", close = "]", sep = ",";
			break;
		default:
			open = "", close = "", sep = " ";
			break;
		}
		n = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
		    open);
		if (n < 0 || (size_t)n >= len - off)
			return buf;
		off += (size_t)n;
		for (j = 1; j <= cnt && i + j < a->aspath_words; j++) {
			n = snprintf(buf + off, len - off, "%s%u",
			    j > 1 ? sep : "", p[i + j]);
			if (n < 0 || (size_t)n >= len - off)
				return buf;
			off += (size_t)n;
		}
		n = snprintf(buf + off, len - off, "%s", close);
		if (n < 0 || (size_t)n >= len - off)
			return buf;
		off += (size_t)n;
	}
	return buf;
}
