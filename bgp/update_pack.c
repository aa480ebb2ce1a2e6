/*
 * Outbound side of path attributes: eBGP export transformation,
 * attribute encoding (4-octet, or 2-octet plus AS4_PATH/AS4_AGGREGATOR
 * per RFC 6793 4.2.2) and the UPDATE packer.
 */
#include <stdint.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "addr.h"
#include "buf.h"

/* ------------------------------------------------------------------ */
/* Export                                                              */

static void
remove_private(struct vpnr__bgp_attrs_build *b)
{
	size_t i, j, cnt, o = 0, hdr_at, kept;
	uint32_t type;

	for (i = 0; i < b->aspath_words; i += 1 + cnt) {
		type = b->aspath[i] >> 16;
		cnt = b->aspath[i] & 0xffff;
		if (i + 1 + cnt > b->aspath_words)
			break;
		hdr_at = o++;
		kept = 0;
		for (j = 1; j <= cnt; j++) {
			if (vpnr__asn_is_private(b->aspath[i + j]))
				continue;
			b->aspath[o++] = b->aspath[i + j];
			kept++;
		}
		if (kept == 0)
			o = hdr_at; /* segment left empty: drop it */
		else
			b->aspath[hdr_at] = (type << 16) | (uint32_t)kept;
	}
	b->aspath_words = o;
}

static int
prepend(struct vpnr__bgp_attrs_build *b, uint32_t asn, size_t n)
{
	size_t i, shift, cnt = 0;
	int merge;

	if (n == 0)
		return 0;
	merge = b->aspath_words > 0 &&
	    (b->aspath[0] >> 16) == VPNR__BGP_AS_SEQUENCE &&
	    (cnt = b->aspath[0] & 0xffff) + n <= 0xffff;
	shift = merge ? n : n + 1;
	if (b->aspath_words + shift > VPNR__BGP_MAX_ASPATH_WORDS)
		return VPNR_ERR_LIMIT;
	memmove(&b->aspath[shift], &b->aspath[0],
	    b->aspath_words * sizeof(uint32_t));
	b->aspath_words += shift;
	if (merge) {
		/* shifted by n: the old header lands on slot n, which
		 * becomes the last prepended ASN; a1 stays at n + 1 */
		b->aspath[0] = ((uint32_t)VPNR__BGP_AS_SEQUENCE << 16) |
		    (uint32_t)(cnt + n);
		for (i = 1; i <= n; i++)
			b->aspath[i] = asn;
	} else {
		b->aspath[0] =
		    ((uint32_t)VPNR__BGP_AS_SEQUENCE << 16) | (uint32_t)n;
		for (i = 1; i <= n; i++)
			b->aspath[i] = asn;
	}
	b->flags |= VPNR__BGP_A_ASPATH;
	return 0;
}

int
vpnr__bgp_attrs_export(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *in, const struct vpnr__bgp_export *x,
    struct vpnr__bgp_attrs_build *bld, const struct vpnr__bgp_attrs **out)
{
	int rc, aid;

	*out = NULL;
	vpnr__bgp_attrs_build_from(bld, in);
	bld->flags &= ~VPNR__BGP_A_LOCAL_PREF;
	bld->local_pref = 0;
	if (x->remove_private)
		remove_private(bld);
	if (x->local_as != 0 &&
	    (rc = prepend(bld, x->local_as, 1 + (size_t)x->prepend)) != 0)
		return rc;
	switch (x->med_mode) {
	case VPNR__BGP_MED_STRIP:
		bld->flags &= ~VPNR__BGP_A_MED;
		bld->med = 0;
		break;
	case VPNR__BGP_MED_SET:
		bld->flags |= VPNR__BGP_A_MED;
		bld->med = x->med;
		break;
	default:
		break;
	}
	if (x->nexthop_self) {
		vpnr__bgp_attrs_build_set_nexthop(bld, &x->nexthop,
		    x->nexthop_ll.family ? &x->nexthop_ll : NULL);
		aid = vpnr__bgp_aid_from_family(x->nexthop.family);
	} else
		aid = vpnr__bgp_aid_from_family(in->nh_family);
	if ((*out = vpnr__bgp_attrs_intern(t, bld, aid)) == NULL)
		return VPNR_ERR_NOMEM;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Attribute encoding                                                  */

static void
attr_hdr(struct vpnr__wbuf *w, uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		vpnr__wbuf_put_u8(w, flags | VPNR__BGP_AF_EXTLEN);
		vpnr__wbuf_put_u8(w, type);
		vpnr__wbuf_put_u16(w, (uint16_t)len);
	} else {
		vpnr__wbuf_put_u8(w, flags & ~VPNR__BGP_AF_EXTLEN);
		vpnr__wbuf_put_u8(w, type);
		vpnr__wbuf_put_u8(w, (uint8_t)len);
	}
}

/*
 * Encode (or measure, w == NULL) the AS path with asz-octet ASNs;
 * as4path: AS4_PATH form (confed segments left out).  Segments longer
 * than 255 are split.  Returns the value length.
 */
static size_t
aspath_value(struct vpnr__wbuf *w, const struct vpnr__bgp_attrs *a, size_t asz,
    int as4path)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	size_t i, j, cnt, chunk, done, len = 0;
	uint32_t type, asn;

	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		type = p[i] >> 16;
		cnt = p[i] & 0xffff;
		if (as4path &&
		    (type == VPNR__BGP_AS_CONFED_SEQUENCE ||
			type == VPNR__BGP_AS_CONFED_SET))
			continue;
		for (done = 0; done < cnt; done += chunk) {
			chunk = cnt - done > 255 ? 255 : cnt - done;
			len += 2 + chunk * asz;
			if (w == NULL)
				continue;
			vpnr__wbuf_put_u8(w, (uint8_t)type);
			vpnr__wbuf_put_u8(w, (uint8_t)chunk);
			for (j = 0; j < chunk; j++) {
				asn = p[i + 1 + done + j];
				if (asz == 4)
					vpnr__wbuf_put_u32(w, asn);
				else
					vpnr__wbuf_put_u16(w,
					    asn > 0xffff ? VPNR__BGP_AS_TRANS :
							   (uint16_t)asn);
			}
		}
	}
	return len;
}

static int
aspath_needs_as4(const struct vpnr__bgp_attrs *a)
{
	const uint32_t *p = vpnr__bgp_attrs_aspath(a);
	size_t i, j, cnt;

	for (i = 0; i < a->aspath_words; i += 1 + cnt) {
		cnt = p[i] & 0xffff;
		for (j = 1; j <= cnt; j++)
			if (p[i + j] > 0xffff)
				return 1;
	}
	return 0;
}

int
vpnr__bgp_attrs_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_attrs *a,
    int as4, int with_nh4)
{
	const uint8_t T = VPNR__BGP_AF_TRANSITIVE, O = VPNR__BGP_AF_OPTIONAL;
	const uint32_t *c;
	size_t len, i;
	int big_agg;

	/* ORIGIN is mandatory: IGP when the set never had one */
	attr_hdr(w, T, VPNR__BGP_ATTR_ORIGIN, 1);
	vpnr__wbuf_put_u8(w, a->origin);

	len = aspath_value(NULL, a, as4 ? 4 : 2, 0);
	attr_hdr(w, T, VPNR__BGP_ATTR_AS_PATH, len);
	aspath_value(w, a, as4 ? 4 : 2, 0);

	if (with_nh4 && (a->flags & VPNR__BGP_A_NEXTHOP) &&
	    a->nh_family == VPNR_AF_INET) {
		attr_hdr(w, T, VPNR__BGP_ATTR_NEXT_HOP, 4);
		vpnr__wbuf_put_bytes(w, a->nexthop, 4);
	}
	if (a->flags & VPNR__BGP_A_MED) {
		attr_hdr(w, O, VPNR__BGP_ATTR_MED, 4);
		vpnr__wbuf_put_u32(w, a->med);
	}
	if (a->flags & VPNR__BGP_A_LOCAL_PREF) {
		attr_hdr(w, T, VPNR__BGP_ATTR_LOCAL_PREF, 4);
		vpnr__wbuf_put_u32(w, a->local_pref);
	}
	if (a->flags & VPNR__BGP_A_ATOMIC_AGG)
		attr_hdr(w, T, VPNR__BGP_ATTR_ATOMIC_AGGREGATE, 0);
	big_agg = 0;
	if (a->flags & VPNR__BGP_A_AGGREGATOR) {
		attr_hdr(w, O | T, VPNR__BGP_ATTR_AGGREGATOR, as4 ? 8 : 6);
		if (as4)
			vpnr__wbuf_put_u32(w, a->agg_as);
		else {
			big_agg = a->agg_as > 0xffff;
			vpnr__wbuf_put_u16(w,
			    big_agg ? VPNR__BGP_AS_TRANS : (uint16_t)a->agg_as);
		}
		vpnr__wbuf_put_u32(w, a->agg_addr);
	}
	if (a->n_comm > 0) {
		attr_hdr(w, O | T, VPNR__BGP_ATTR_COMMUNITIES,
		    4 * (size_t)a->n_comm);
		c = vpnr__bgp_attrs_comm(a);
		for (i = 0; i < a->n_comm; i++)
			vpnr__wbuf_put_u32(w, c[i]);
	}
	if (!as4 && aspath_needs_as4(a)) {
		len = aspath_value(NULL, a, 4, 1);
		attr_hdr(w, O | T, VPNR__BGP_ATTR_AS4_PATH, len);
		aspath_value(w, a, 4, 1);
	}
	if (big_agg) {
		attr_hdr(w, O | T, VPNR__BGP_ATTR_AS4_AGGREGATOR, 8);
		vpnr__wbuf_put_u32(w, a->agg_as);
		vpnr__wbuf_put_u32(w, a->agg_addr);
	}
	if (a->n_lcomm > 0) {
		attr_hdr(w, O | T, VPNR__BGP_ATTR_LARGE_COMMUNITIES,
		    12 * (size_t)a->n_lcomm);
		c = vpnr__bgp_attrs_lcomm(a);
		for (i = 0; i < 3 * (size_t)a->n_lcomm; i++)
			vpnr__wbuf_put_u32(w, c[i]);
	}
	if (a->unknown_len > 0)
		vpnr__wbuf_put_bytes(w, vpnr__bgp_attrs_unknown(a),
		    a->unknown_len);
	return w->err;
}

/* ------------------------------------------------------------------ */
/* UPDATE packer                                                       */

static int
pack_fail(struct vpnr__bgp_packer *pk, int rc)
{
	vpnr__wbuf_truncate(pk->w, pk->start);
	pk->w = NULL;
	return rc;
}

int
vpnr__bgp_pack_begin_reach(struct vpnr__bgp_packer *pk, struct vpnr__wbuf *w,
    const struct vpnr__bgp_attrs *a, int aid, int as4)
{
	int rc;

	memset(pk, 0, sizeof(*pk));
	pk->w = w;
	pk->aid = aid;
	pk->start = vpnr__wbuf_len(w);
	if (aid != VPNR__BGP_AID_IPV4 && aid != VPNR__BGP_AID_IPV6)
		return pack_fail(pk, VPNR_ERR_INVALID_ARGUMENT);
	if (!(a->flags & VPNR__BGP_A_NEXTHOP) ||
	    a->nh_family != vpnr__bgp_aid_family(aid))
		return pack_fail(pk, VPNR_ERR_INVALID_ARGUMENT);
	vpnr__bgp_msg_begin(w, VPNR__BGP_UPDATE, &pk->start);
	vpnr__wbuf_put_u16(w, 0); /* no withdrawn routes */
	vpnr__wbuf_reserve(w, 2, &pk->attr_len_off);
	if ((rc = vpnr__bgp_attrs_encode(w, a, as4,
		 aid == VPNR__BGP_AID_IPV4)) != 0)
		return pack_fail(pk, rc);
	if (aid == VPNR__BGP_AID_IPV6) {
		vpnr__wbuf_put_u8(w,
		    VPNR__BGP_AF_OPTIONAL | VPNR__BGP_AF_EXTLEN);
		vpnr__wbuf_put_u8(w, VPNR__BGP_ATTR_MP_REACH);
		vpnr__wbuf_reserve(w, 2, &pk->mp_len_off);
		vpnr__wbuf_put_u16(w, VPNR__BGP_AFI_IPV6);
		vpnr__wbuf_put_u8(w, VPNR__BGP_SAFI_UNICAST);
		if (a->flags & VPNR__BGP_A_NEXTHOP_LL) {
			vpnr__wbuf_put_u8(w, 32);
			vpnr__wbuf_put_bytes(w, a->nexthop, 16);
			vpnr__wbuf_put_bytes(w, a->nexthop_ll, 16);
		} else {
			vpnr__wbuf_put_u8(w, 16);
			vpnr__wbuf_put_bytes(w, a->nexthop, 16);
		}
		vpnr__wbuf_put_u8(w, 0); /* reserved */
	} else {
		vpnr__wbuf_set_u16(w, pk->attr_len_off,
		    (uint16_t)(vpnr__wbuf_len(w) - pk->attr_len_off - 2));
	}
	if (w->err != 0)
		return pack_fail(pk, w->err);
	/* room for at least the longest prefix of the family? */
	if (vpnr__wbuf_len(w) - pk->start +
		(aid == VPNR__BGP_AID_IPV4 ? 5 : 17) >
	    VPNR__BGP_MAX_LEN)
		return pack_fail(pk, VPNR_ERR_LIMIT);
	return 0;
}

int
vpnr__bgp_pack_begin_withdraw(struct vpnr__bgp_packer *pk, struct vpnr__wbuf *w,
    int aid)
{
	memset(pk, 0, sizeof(*pk));
	pk->w = w;
	pk->aid = aid;
	pk->withdraw = 1;
	pk->start = vpnr__wbuf_len(w);
	if (aid != VPNR__BGP_AID_IPV4 && aid != VPNR__BGP_AID_IPV6)
		return pack_fail(pk, VPNR_ERR_INVALID_ARGUMENT);
	vpnr__bgp_msg_begin(w, VPNR__BGP_UPDATE, &pk->start);
	if (aid == VPNR__BGP_AID_IPV4) {
		vpnr__wbuf_reserve(w, 2, &pk->len_off);
	} else {
		vpnr__wbuf_put_u16(w, 0);
		vpnr__wbuf_reserve(w, 2, &pk->attr_len_off);
		vpnr__wbuf_put_u8(w,
		    VPNR__BGP_AF_OPTIONAL | VPNR__BGP_AF_EXTLEN);
		vpnr__wbuf_put_u8(w, VPNR__BGP_ATTR_MP_UNREACH);
		vpnr__wbuf_reserve(w, 2, &pk->mp_len_off);
		vpnr__wbuf_put_u16(w, VPNR__BGP_AFI_IPV6);
		vpnr__wbuf_put_u8(w, VPNR__BGP_SAFI_UNICAST);
	}
	if (w->err != 0)
		return pack_fail(pk, w->err);
	return 0;
}

int
vpnr__bgp_pack_add(struct vpnr__bgp_packer *pk, const struct vpnr__bgp_pfx *p)
{
	size_t need;

	if (pk->w == NULL)
		return VPNR_ERR_INVALID_STATE;
	if (p->afi != vpnr__bgp_aid_family(pk->aid))
		return VPNR_ERR_INVALID_ARGUMENT;
	need = vpnr__bgp_nlri_size(p);
	if (pk->withdraw && pk->aid == VPNR__BGP_AID_IPV4)
		need += 2; /* the Total Path Attribute Length still to come */
	if (vpnr__wbuf_len(pk->w) - pk->start + need > VPNR__BGP_MAX_LEN)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	if (vpnr__bgp_nlri_encode(pk->w, p) != 0)
		return pk->w->err != 0 ? pk->w->err : VPNR_ERR_INVALID_ARGUMENT;
	pk->count++;
	return 0;
}

/*
 * RFC 7606 5.1: MP_REACH_NLRI SHOULD be the first attribute.  The
 * packer grows it at the end of the message, so move the attributes
 * written before it behind it (a rotation of our own buffer).
 */
static void
mp_first(struct vpnr__bgp_packer *pk, size_t end)
{
	uint8_t tmp[VPNR__BGP_MAX_LEN];
	size_t a0 = pk->attr_len_off + 2, mp0 = pk->mp_len_off - 2;
	size_t alen = mp0 - a0, mlen = end - mp0;
	uint8_t *p;

	if (alen == 0 || alen > sizeof(tmp) ||
	    (p = vpnr__wbuf_ptr(pk->w, a0, alen + mlen)) == NULL)
		return;
	memcpy(tmp, p, alen);
	memmove(p, p + alen, mlen);
	memcpy(p + mlen, tmp, alen);
}

int
vpnr__bgp_pack_finish(struct vpnr__bgp_packer *pk)
{
	struct vpnr__wbuf *w = pk->w;
	size_t end;
	int rc;

	if (w == NULL)
		return VPNR_ERR_INVALID_STATE;
	if (pk->count == 0) {
		vpnr__wbuf_truncate(w, pk->start);
		pk->w = NULL;
		return 0;
	}
	end = vpnr__wbuf_len(w);
	if (pk->aid == VPNR__BGP_AID_IPV6) {
		vpnr__wbuf_set_u16(w, pk->mp_len_off,
		    (uint16_t)(end - pk->mp_len_off - 2));
		vpnr__wbuf_set_u16(w, pk->attr_len_off,
		    (uint16_t)(end - pk->attr_len_off - 2));
		if (!pk->withdraw)
			mp_first(pk, end);
	} else if (pk->withdraw) {
		vpnr__wbuf_set_u16(w, pk->len_off,
		    (uint16_t)(end - pk->len_off - 2));
		vpnr__wbuf_put_u16(w, 0);
	}
	if ((rc = vpnr__bgp_msg_end(w, pk->start)) != 0)
		return pack_fail(pk, rc);
	pk->w = NULL;
	return (int)(vpnr__wbuf_len(w) - pk->start);
}

int
vpnr__bgp_update_pack(struct vpnr__wbuf *w, const struct vpnr__bgp_attrs *a,
    int aid, int as4, const struct vpnr__bgp_pfx *pfx, size_t n)
{
	struct vpnr__bgp_packer pk;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	rc = a != NULL ? vpnr__bgp_pack_begin_reach(&pk, w, a, aid, as4) :
			 vpnr__bgp_pack_begin_withdraw(&pk, w, aid);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = vpnr__bgp_pack_add(&pk, &pfx[i]);
		if (rc == VPNR_ERR_BUFFER_TOO_SMALL)
			break;
		if (rc != 0) {
			pack_fail(&pk, rc);
			return rc;
		}
	}
	rc = vpnr__bgp_pack_finish(&pk);
	if (rc < 0)
		return rc;
	return (int)i;
}
