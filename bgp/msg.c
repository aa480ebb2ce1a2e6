/*
 * BGP-4 message codec: framing, OPEN/capabilities, KEEPALIVE,
 * NOTIFICATION, ROUTE-REFRESH, UPDATE splitting and NLRI prefixes.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "buf.h"

/* ------------------------------------------------------------------ */
/* Errors and names                                                    */

void
vpnr__bgp_err_set(struct vpnr__bgp_err *err, uint8_t code, uint8_t subcode,
    const void *data, size_t len)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->code = code;
	err->subcode = subcode;
	if (data == NULL)
		len = 0;
	if (len > VPNR__BGP_ERR_DATA_MAX)
		len = VPNR__BGP_ERR_DATA_MAX;
	if (len > 0)
		memcpy(err->data, data, len);
	err->data_len = (uint16_t)len;
}

static void
err_u16(struct vpnr__bgp_err *err, uint8_t code, uint8_t subcode, uint16_t v)
{
	uint8_t d[2];

	d[0] = v >> 8;
	d[1] = v & 0xff;
	vpnr__bgp_err_set(err, code, subcode, d, sizeof(d));
}

const char *
vpnr__bgp_err_code_name(uint8_t code)
{
	switch (code) {
	case VPNR__BGP_ERR_HEADER:
		return "Message Header Error";
	case VPNR__BGP_ERR_OPEN:
		return "OPEN Message Error";
	case VPNR__BGP_ERR_UPDATE:
		return "UPDATE Message Error";
	case VPNR__BGP_ERR_HOLD:
		return "Hold Timer Expired";
	case VPNR__BGP_ERR_FSM:
		return "Finite State Machine Error";
	case VPNR__BGP_ERR_CEASE:
		return "Cease";
	case VPNR__BGP_ERR_RREFRESH:
		return "ROUTE-REFRESH Message Error";
	}
	return "Unknown";
}

const char *
vpnr__bgp_err_subcode_name(uint8_t code, uint8_t subcode)
{
	static const char *const hdr[] = { "Unspecific",
		"Connection Not Synchronized", "Bad Message Length",
		"Bad Message Type" };
	static const char *const open[] = { "Unspecific",
		"Unsupported Version Number", "Bad Peer AS",
		"Bad BGP Identifier", "Unsupported Optional Parameter",
		"Authentication Failure", "Unacceptable Hold Time",
		"Unsupported Capability", NULL, NULL, NULL, "Role Mismatch" };
	static const char *const upd[] = { "Unspecific",
		"Malformed Attribute List", "Unrecognized Well-known Attribute",
		"Missing Well-known Attribute", "Attribute Flags Error",
		"Attribute Length Error", "Invalid ORIGIN Attribute",
		"AS Routing Loop", "Invalid NEXT_HOP Attribute",
		"Optional Attribute Error", "Invalid Network Field",
		"Malformed AS_PATH" };
	static const char *const fsm[] = { "Unspecified",
		"Unexpected Message in OpenSent",
		"Unexpected Message in OpenConfirm",
		"Unexpected Message in Established" };
	static const char *const cease[] = { "Unspecific",
		"Maximum Number of Prefixes Reached", "Administrative Shutdown",
		"Peer De-configured", "Administrative Reset",
		"Connection Rejected", "Other Configuration Change",
		"Connection Collision Resolution", "Out of Resources",
		"Hard Reset" };
	const char *const *t = NULL;
	size_t n = 0;

#define TAB(x) \
	do { \
		t = (x); \
		n = sizeof(x) / sizeof((x)[0]); \
	} while (0)
	switch (code) {
	case VPNR__BGP_ERR_HEADER:
		TAB(hdr);
		break;
	case VPNR__BGP_ERR_OPEN:
		TAB(open);
		break;
	case VPNR__BGP_ERR_UPDATE:
		TAB(upd);
		break;
	case VPNR__BGP_ERR_FSM:
		TAB(fsm);
		break;
	case VPNR__BGP_ERR_CEASE:
		TAB(cease);
		break;
	case VPNR__BGP_ERR_HOLD:
		return subcode == 0 ? "Unspecific" : "Unknown";
	case VPNR__BGP_ERR_RREFRESH:
		if (subcode == VPNR__BGP_RREFRESH_BAD_LEN)
			return "Invalid Message Length";
		return subcode == 0 ? "Reserved" : "Unknown";
	}
#undef TAB
	if (t == NULL || subcode >= n || t[subcode] == NULL)
		return "Unknown";
	return t[subcode];
}

const char *
vpnr__bgp_msg_type_name(uint8_t type)
{
	switch (type) {
	case VPNR__BGP_OPEN:
		return "OPEN";
	case VPNR__BGP_UPDATE:
		return "UPDATE";
	case VPNR__BGP_NOTIFICATION:
		return "NOTIFICATION";
	case VPNR__BGP_KEEPALIVE:
		return "KEEPALIVE";
	case VPNR__BGP_ROUTE_REFRESH:
		return "ROUTE-REFRESH";
	}
	return "UNKNOWN";
}

/* ------------------------------------------------------------------ */
/* Prefixes and address families                                       */

static size_t
family_bits(uint8_t afi)
{
	if (afi == VPNR_AF_INET)
		return 32;
	if (afi == VPNR_AF_INET6)
		return 128;
	return 0;
}

static void
pfx_mask(struct vpnr__bgp_pfx *p)
{
	size_t i, full = p->len / 8;
	unsigned rem = p->len % 8;

	if (rem != 0) {
		p->addr[full] &= (uint8_t)(0xff << (8 - rem));
		full++;
	}
	for (i = full; i < sizeof(p->addr); i++)
		p->addr[i] = 0;
}

int
vpnr__bgp_pfx_cmp(const struct vpnr__bgp_pfx *a, const struct vpnr__bgp_pfx *b)
{
	int c;

	if (a->afi != b->afi)
		return a->afi < b->afi ? -1 : 1;
	if ((c = memcmp(a->addr, b->addr, sizeof(a->addr))) != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

int
vpnr__bgp_pfx_from_public(struct vpnr__bgp_pfx *p, const vpnr_prefix *pub)
{
	size_t bits = family_bits(pub->addr.family);

	memset(p, 0, sizeof(*p));
	if (bits == 0 || pub->len > bits)
		return VPNR_ERR_INVALID_ARGUMENT;
	p->afi = pub->addr.family;
	p->len = pub->len;
	memcpy(p->addr, pub->addr.bytes, bits / 8);
	pfx_mask(p);
	return VPNR_OK;
}

void
vpnr__bgp_pfx_to_public(const struct vpnr__bgp_pfx *p, vpnr_prefix *pub)
{
	memset(pub, 0, sizeof(*pub));
	pub->addr.family = p->afi;
	pub->len = p->len;
	memcpy(pub->addr.bytes, p->addr, family_bits(p->afi) / 8);
}

const char *
vpnr__bgp_pfx_str(const struct vpnr__bgp_pfx *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (inet_ntop(p->afi == VPNR_AF_INET6 ? AF_INET6 : AF_INET, p->addr, a,
		sizeof(a)) == NULL)
		return buf;
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

int
vpnr__bgp_aid_from_afi_safi(uint16_t afi, uint8_t safi)
{
	if (safi != VPNR__BGP_SAFI_UNICAST)
		return -1;
	if (afi == VPNR__BGP_AFI_IPV4)
		return VPNR__BGP_AID_IPV4;
	if (afi == VPNR__BGP_AFI_IPV6)
		return VPNR__BGP_AID_IPV6;
	return -1;
}

int
vpnr__bgp_aid_from_family(uint8_t family)
{
	if (family == VPNR_AF_INET)
		return VPNR__BGP_AID_IPV4;
	if (family == VPNR_AF_INET6)
		return VPNR__BGP_AID_IPV6;
	return -1;
}

uint8_t
vpnr__bgp_aid_family(int aid)
{
	if (aid == VPNR__BGP_AID_IPV4)
		return VPNR_AF_INET;
	if (aid == VPNR__BGP_AID_IPV6)
		return VPNR_AF_INET6;
	return 0;
}

uint16_t
vpnr__bgp_aid_afi(int aid)
{
	if (aid == VPNR__BGP_AID_IPV4)
		return VPNR__BGP_AFI_IPV4;
	if (aid == VPNR__BGP_AID_IPV6)
		return VPNR__BGP_AFI_IPV6;
	return 0;
}

int
vpnr__bgp_nlri_next(struct vpnr__rbuf *r, uint8_t afi, struct vpnr__bgp_pfx *p)
{
	uint8_t plen;
	size_t bits = family_bits(afi), n;

	/* Once per received prefix (twice: checked, then applied), so
	 * the buffer is read directly, with the rbuf's rules: a short
	 * read is a sticky error. */
	if (r->err != 0 || bits == 0)
		return VPNR_ERR_MALFORMED;
	if (r->off >= r->len)
		return 0;
	plen = r->data[r->off];
	if (plen > bits) {
		r->off++;
		return VPNR_ERR_MALFORMED;
	}
	n = ((size_t)plen + 7) / 8;
	if (n > r->len - r->off - 1) {
		r->err = VPNR_ERR_MALFORMED;
		return VPNR_ERR_MALFORMED;
	}
	memset(p, 0, sizeof(*p));
	p->afi = afi;
	p->len = plen;
	memcpy(p->addr, r->data + r->off + 1, n);
	r->off += 1 + n;
	if (plen % 8 != 0) /* host bits of the last byte */
		p->addr[n - 1] &= (uint8_t)(0xff << (8 - plen % 8));
	return 1;
}

int
vpnr__bgp_nlri_check(const uint8_t *data, size_t len, uint8_t afi)
{
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx p;
	int rc, count = 0;

	vpnr__rbuf_init(&r, data, len);
	while ((rc = vpnr__bgp_nlri_next(&r, afi, &p)) == 1)
		count++;
	if (rc < 0)
		return rc;
	return count;
}

int
vpnr__bgp_nlri_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_pfx *p)
{
	size_t bits = family_bits(p->afi);

	if (bits == 0 || p->len > bits)
		return VPNR_ERR_INVALID_ARGUMENT;
	vpnr__wbuf_put_u8(w, p->len);
	return vpnr__wbuf_put_bytes(w, p->addr, ((size_t)p->len + 7) / 8);
}

/* ------------------------------------------------------------------ */
/* Framing                                                             */

int
vpnr__bgp_frame(const uint8_t *data, size_t len, size_t max_len, size_t *need,
    uint8_t *type, struct vpnr__bgp_err *err)
{
	struct vpnr__rbuf r;
	uint8_t m;
	uint16_t mlen;
	size_t i, min;
	int bad;

	*need = VPNR__BGP_HDR_LEN;
	if (len < VPNR__BGP_HDR_LEN)
		return 0;
	vpnr__rbuf_init(&r, data, len);
	bad = 0;
	for (i = 0; i < 16; i++) {
		vpnr__rbuf_get_u8(&r, &m);
		bad |= (m != 0xff);
	}
	vpnr__rbuf_get_u16(&r, &mlen);
	vpnr__rbuf_get_u8(&r, type);
	if (r.err != 0)
		return 0;
	if (bad) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_HEADER,
		    VPNR__BGP_HDR_NOT_SYNC, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	switch (*type) {
	case VPNR__BGP_OPEN:
		min = VPNR__BGP_OPEN_MIN;
		break;
	case VPNR__BGP_UPDATE:
		min = VPNR__BGP_UPDATE_MIN;
		break;
	case VPNR__BGP_NOTIFICATION:
		min = VPNR__BGP_NOTIF_MIN;
		break;
	case VPNR__BGP_KEEPALIVE:
	case VPNR__BGP_ROUTE_REFRESH: /* RFC 7313: its own error */
		min = VPNR__BGP_HDR_LEN;
		break;
	default:
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_HEADER,
		    VPNR__BGP_HDR_BAD_TYPE, type, 1);
		return VPNR_ERR_MALFORMED;
	}
	if (max_len < VPNR__BGP_MAX_LEN)
		max_len = VPNR__BGP_MAX_LEN;
	if (mlen < min || mlen > max_len ||
	    (*type == VPNR__BGP_KEEPALIVE && mlen != VPNR__BGP_HDR_LEN)) {
		err_u16(err, VPNR__BGP_ERR_HEADER, VPNR__BGP_HDR_BAD_LEN, mlen);
		return VPNR_ERR_MALFORMED;
	}
	*need = mlen;
	if (len < mlen)
		return 0;
	return 1;
}

int
vpnr__bgp_msg_begin(struct vpnr__wbuf *w, uint8_t type, size_t *start)
{
	*start = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u32(w, 0xffffffffu);
	vpnr__wbuf_put_u32(w, 0xffffffffu);
	vpnr__wbuf_put_u32(w, 0xffffffffu);
	vpnr__wbuf_put_u32(w, 0xffffffffu);
	vpnr__wbuf_put_u16(w, 0);
	return vpnr__wbuf_put_u8(w, type);
}

int
vpnr__bgp_msg_end(struct vpnr__wbuf *w, size_t start)
{
	size_t len;

	if (w->err != 0)
		return w->err;
	len = vpnr__wbuf_len(w) - start;
	if (len > VPNR__BGP_MAX_LEN)
		return VPNR_ERR_LIMIT;
	return vpnr__wbuf_set_u16(w, start + 16, (uint16_t)len);
}

/* Body reader over a framed message (after the 19-byte header). */
static int
body(struct vpnr__rbuf *r, const uint8_t *msg, size_t len)
{
	vpnr__rbuf_init(r, msg, len);
	return vpnr__rbuf_skip(r, VPNR__BGP_HDR_LEN);
}

/* ------------------------------------------------------------------ */
/* OPEN                                                                */

static void
open_mp(struct vpnr__bgp_open *o, uint16_t afi, uint8_t safi)
{
	int aid = vpnr__bgp_aid_from_afi_safi(afi, safi);

	if (aid < 0) {
		if (o->mp_unknown < 0xff)
			o->mp_unknown++;
	} else
		o->mp_aids |= 1u << aid;
}

static int
parse_capa(struct vpnr__rbuf *r, struct vpnr__bgp_open *o)
{
	uint8_t code, clen, safi, f;
	uint16_t afi, gr;
	uint32_t as4;
	struct vpnr__rbuf c;
	int aid;

	while (vpnr__rbuf_left(r) > 0) {
		if (vpnr__rbuf_get_u8(r, &code) != 0 ||
		    vpnr__rbuf_get_u8(r, &clen) != 0 ||
		    vpnr__rbuf_get_sub(r, clen, &c) != 0)
			return VPNR_ERR_MALFORMED;
		switch (code) {
		case VPNR__BGP_CAP_MP:
			if (clen != 4)
				return VPNR_ERR_MALFORMED;
			vpnr__rbuf_get_u16(&c, &afi);
			vpnr__rbuf_skip(&c, 1);
			vpnr__rbuf_get_u8(&c, &safi);
			o->caps |= VPNR__BGP_CAPF_MP;
			open_mp(o, afi, safi);
			break;
		case VPNR__BGP_CAP_RREFRESH:
		case VPNR__BGP_CAP_RREFRESH_CISCO:
			o->caps |= VPNR__BGP_CAPF_RREFRESH;
			break;
		case VPNR__BGP_CAP_ENH_RREFRESH:
			o->caps |= VPNR__BGP_CAPF_ENH_RREFRESH;
			break;
		case VPNR__BGP_CAP_AS4:
			if (clen != 4)
				return VPNR_ERR_MALFORMED;
			vpnr__rbuf_get_u32(&c, &as4);
			o->caps |= VPNR__BGP_CAPF_AS4;
			o->as4 = as4;
			break;
		case VPNR__BGP_CAP_GR:
			if (clen < 2 || (clen - 2) % 4 != 0)
				return VPNR_ERR_MALFORMED;
			vpnr__rbuf_get_u16(&c, &gr);
			o->caps |= VPNR__BGP_CAPF_GR;
			o->gr_flags = gr >> 12;
			o->gr_time = gr & 0x0fff;
			o->gr_aids = o->gr_fwd_aids = 0;
			o->n_gr_afi = 0;
			while (vpnr__rbuf_left(&c) >= 4) {
				vpnr__rbuf_get_u16(&c, &afi);
				vpnr__rbuf_get_u8(&c, &safi);
				vpnr__rbuf_get_u8(&c, &f);
				if (o->n_gr_afi < VPNR__BGP_GR_MAX_AFI) {
					o->gr_afi[o->n_gr_afi].afi = afi;
					o->gr_afi[o->n_gr_afi].safi = safi;
					o->gr_afi[o->n_gr_afi].flags = f;
					o->n_gr_afi++;
				}
				aid = vpnr__bgp_aid_from_afi_safi(afi, safi);
				if (aid < 0)
					continue;
				o->gr_aids |= 1u << aid;
				if (f & VPNR__BGP_GR_AFI_F_FWD)
					o->gr_fwd_aids |= 1u << aid;
			}
			break;
		case VPNR__BGP_CAP_EXTMSG:
			o->caps |= VPNR__BGP_CAPF_EXTMSG;
			break;
		case VPNR__BGP_CAP_ADDPATH:
			o->caps |= VPNR__BGP_CAPF_ADDPATH;
			break;
		case VPNR__BGP_CAP_EXTNH:
			o->caps |= VPNR__BGP_CAPF_EXTNH;
			break;
		case VPNR__BGP_CAP_LLGR:
			o->caps |= VPNR__BGP_CAPF_LLGR;
			break;
		case VPNR__BGP_CAP_FQDN:
			o->caps |= VPNR__BGP_CAPF_FQDN;
			break;
		case VPNR__BGP_CAP_ROLE:
			o->caps |= VPNR__BGP_CAPF_ROLE;
			break;
		default:
			o->caps |= VPNR__BGP_CAPF_UNKNOWN;
			break;
		}
		if (c.err != 0)
			return VPNR_ERR_MALFORMED;
	}
	return 0;
}

int
vpnr__bgp_open_parse(const uint8_t *msg, size_t len, struct vpnr__bgp_open *o,
    struct vpnr__bgp_err *err)
{
	struct vpnr__rbuf r, params, pv;
	uint8_t optlen, ptype, plen8, b;
	uint16_t plen, elen, v4 = VPNR__BGP_VERSION;
	int ext = 0;

	memset(o, 0, sizeof(*o));
	vpnr__bgp_err_set(err, 0, 0, NULL, 0);
	body(&r, msg, len);
	vpnr__rbuf_get_u8(&r, &o->version);
	vpnr__rbuf_get_u16(&r, &o->my_as2);
	vpnr__rbuf_get_u16(&r, &o->hold_time);
	vpnr__rbuf_get_u32(&r, &o->bgp_id);
	vpnr__rbuf_get_u8(&r, &optlen);
	if (r.err != 0) {
		err_u16(err, VPNR__BGP_ERR_HEADER, VPNR__BGP_HDR_BAD_LEN,
		    (uint16_t)len);
		return VPNR_ERR_MALFORMED;
	}
	if (o->version != VPNR__BGP_VERSION) {
		err_u16(err, VPNR__BGP_ERR_OPEN, VPNR__BGP_OPEN_BAD_VERSION,
		    v4);
		return VPNR_ERR_MALFORMED;
	}
	if (o->hold_time == 1 || o->hold_time == 2) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_HOLD_TIME, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	if (o->bgp_id == 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_BGP_ID, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	if (o->my_as2 == 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_PEER_AS, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	/* RFC 9072: non-ext length 255 and first type 255 */
	if (optlen == 255 && vpnr__rbuf_peek_u8(&r, 0, &b) == 0 && b == 255) {
		vpnr__rbuf_skip(&r, 1);
		if (vpnr__rbuf_get_u16(&r, &elen) != 0)
			goto badlen;
		ext = 1;
		o->ext_opt_params = 1;
		if (vpnr__rbuf_get_sub(&r, elen, &params) != 0)
			goto badlen;
	} else if (vpnr__rbuf_get_sub(&r, optlen, &params) != 0)
		goto badlen;
	if (vpnr__rbuf_left(&r) != 0)
		goto badlen;
	while (vpnr__rbuf_left(&params) > 0) {
		vpnr__rbuf_get_u8(&params, &ptype);
		if (ext)
			vpnr__rbuf_get_u16(&params, &plen);
		else {
			vpnr__rbuf_get_u8(&params, &plen8);
			plen = plen8;
		}
		if (vpnr__rbuf_get_sub(&params, plen, &pv) != 0)
			goto unspec;
		if (ptype != 2) {
			vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN,
			    VPNR__BGP_OPEN_BAD_OPT_PARAM, NULL, 0);
			return VPNR_ERR_MALFORMED;
		}
		if (parse_capa(&pv, o) != 0)
			goto unspec;
	}
	if ((o->caps & VPNR__BGP_CAPF_AS4) && o->as4 == 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN,
		    VPNR__BGP_OPEN_BAD_PEER_AS, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	return 0;
badlen:
	err_u16(err, VPNR__BGP_ERR_HEADER, VPNR__BGP_HDR_BAD_LEN,
	    (uint16_t)len);
	return VPNR_ERR_MALFORMED;
unspec:
	vpnr__bgp_err_set(err, VPNR__BGP_ERR_OPEN, VPNR__BGP_OPEN_UNSPEC, NULL,
	    0);
	return VPNR_ERR_MALFORMED;
}

static void
capa_begin(struct vpnr__wbuf *w, uint8_t code, uint8_t len)
{
	vpnr__wbuf_put_u8(w, 2); /* optional parameter: capabilities */
	vpnr__wbuf_put_u8(w, (uint8_t)(len + 2));
	vpnr__wbuf_put_u8(w, code);
	vpnr__wbuf_put_u8(w, len);
}

int
vpnr__bgp_open_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_open *o)
{
	size_t start, optoff, optlen;
	int aid, n;

	vpnr__bgp_msg_begin(w, VPNR__BGP_OPEN, &start);
	vpnr__wbuf_put_u8(w, VPNR__BGP_VERSION);
	vpnr__wbuf_put_u16(w,
	    o->local_as > 0xffff ? VPNR__BGP_AS_TRANS : (uint16_t)o->local_as);
	vpnr__wbuf_put_u16(w, o->hold_time);
	vpnr__wbuf_put_u32(w, o->bgp_id);
	vpnr__wbuf_reserve(w, 1, &optoff);
	/* One capability per optional parameter, like BIRD and GoBGP. */
	for (aid = 0; aid < VPNR__BGP_AID_MAX; aid++) {
		if (!(o->mp_aids & (1u << aid)))
			continue;
		capa_begin(w, VPNR__BGP_CAP_MP, 4);
		vpnr__wbuf_put_u16(w, vpnr__bgp_aid_afi(aid));
		vpnr__wbuf_put_u8(w, 0);
		vpnr__wbuf_put_u8(w, VPNR__BGP_SAFI_UNICAST);
	}
	if (o->caps & VPNR__BGP_CAPF_RREFRESH)
		capa_begin(w, VPNR__BGP_CAP_RREFRESH, 0);
	if (o->caps & VPNR__BGP_CAPF_ENH_RREFRESH)
		capa_begin(w, VPNR__BGP_CAP_ENH_RREFRESH, 0);
	if (o->caps & VPNR__BGP_CAPF_GR) {
		n = 0;
		for (aid = 0; aid < VPNR__BGP_AID_MAX; aid++)
			if (o->gr_aids & (1u << aid))
				n++;
		capa_begin(w, VPNR__BGP_CAP_GR, (uint8_t)(2 + 4 * n));
		vpnr__wbuf_put_u16(w,
		    (uint16_t)(((o->gr_flags & 0xf) << 12) |
			(o->gr_time & 0x0fff)));
		for (aid = 0; aid < VPNR__BGP_AID_MAX; aid++) {
			if (!(o->gr_aids & (1u << aid)))
				continue;
			vpnr__wbuf_put_u16(w, vpnr__bgp_aid_afi(aid));
			vpnr__wbuf_put_u8(w, VPNR__BGP_SAFI_UNICAST);
			vpnr__wbuf_put_u8(w,
			    (o->gr_fwd_aids & (1u << aid)) ?
				VPNR__BGP_GR_AFI_F_FWD :
				0);
		}
	}
	if (o->caps & VPNR__BGP_CAPF_AS4) {
		capa_begin(w, VPNR__BGP_CAP_AS4, 4);
		vpnr__wbuf_put_u32(w, o->local_as);
	}
	if (w->err != 0)
		return w->err;
	optlen = vpnr__wbuf_len(w) - optoff - 1;
	if (optlen > 255)
		return VPNR_ERR_LIMIT;
	vpnr__wbuf_set_u8(w, optoff, (uint8_t)optlen);
	return vpnr__bgp_msg_end(w, start);
}

/* ------------------------------------------------------------------ */
/* KEEPALIVE, NOTIFICATION, ROUTE-REFRESH                              */

int
vpnr__bgp_keepalive_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_err *err)
{
	(void)msg;
	if (len != VPNR__BGP_HDR_LEN) {
		err_u16(err, VPNR__BGP_ERR_HEADER, VPNR__BGP_HDR_BAD_LEN,
		    (uint16_t)len);
		return VPNR_ERR_MALFORMED;
	}
	return 0;
}

int
vpnr__bgp_keepalive_encode(struct vpnr__wbuf *w)
{
	size_t start;

	vpnr__bgp_msg_begin(w, VPNR__BGP_KEEPALIVE, &start);
	return vpnr__bgp_msg_end(w, start);
}

int
vpnr__bgp_notif_parse(const uint8_t *msg, size_t len, struct vpnr__bgp_notif *n)
{
	struct vpnr__rbuf r;

	memset(n, 0, sizeof(*n));
	body(&r, msg, len);
	vpnr__rbuf_get_u8(&r, &n->code);
	vpnr__rbuf_get_u8(&r, &n->subcode);
	if (r.err != 0)
		return VPNR_ERR_MALFORMED;
	n->data_len = vpnr__rbuf_left(&r);
	if (n->data_len > 0)
		vpnr__rbuf_get_ptr(&r, n->data_len, &n->data);
	return 0;
}

int
vpnr__bgp_notif_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_err *err)
{
	size_t start;

	vpnr__bgp_msg_begin(w, VPNR__BGP_NOTIFICATION, &start);
	vpnr__wbuf_put_u8(w, err->code);
	vpnr__wbuf_put_u8(w, err->subcode);
	if (err->data_len > 0)
		vpnr__wbuf_put_bytes(w, err->data,
		    err->data_len > VPNR__BGP_ERR_DATA_MAX ?
			VPNR__BGP_ERR_DATA_MAX :
			err->data_len);
	return vpnr__bgp_msg_end(w, start);
}

int
vpnr__bgp_notif_shutdown_msg(const struct vpnr__bgp_notif *n, const uint8_t **s,
    size_t *len)
{
	struct vpnr__rbuf r;
	uint8_t l;

	if (n->code != VPNR__BGP_ERR_CEASE ||
	    (n->subcode != VPNR__BGP_CEASE_ADMIN_SHUTDOWN &&
		n->subcode != VPNR__BGP_CEASE_ADMIN_RESET) ||
	    n->data_len == 0)
		return 0;
	vpnr__rbuf_init(&r, n->data, n->data_len);
	if (vpnr__rbuf_get_u8(&r, &l) != 0 || l == 0 ||
	    vpnr__rbuf_get_ptr(&r, l, s) != 0)
		return 0;
	*len = l;
	return 1;
}

void
vpnr__bgp_err_shutdown(struct vpnr__bgp_err *err, uint8_t subcode,
    const char *msg)
{
	uint8_t d[VPNR__BGP_ERR_DATA_MAX];
	size_t l = msg != NULL ? strlen(msg) : 0;

	if (l > sizeof(d) - 1)
		l = sizeof(d) - 1;
	/* Do not cut a UTF-8 sequence in half. */
	while (l > 0 && l < strlen(msg) && ((uint8_t)msg[l] & 0xc0) == 0x80)
		l--;
	if (l == 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_CEASE, subcode, NULL, 0);
		return;
	}
	d[0] = (uint8_t)l;
	memcpy(d + 1, msg, l);
	vpnr__bgp_err_set(err, VPNR__BGP_ERR_CEASE, subcode, d, l + 1);
}

int
vpnr__bgp_rrefresh_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_rrefresh *rr, struct vpnr__bgp_err *err)
{
	struct vpnr__rbuf r;

	memset(rr, 0, sizeof(*rr));
	if (len != VPNR__BGP_RREFRESH_LEN) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_RREFRESH,
		    VPNR__BGP_RREFRESH_BAD_LEN, msg, len);
		return VPNR_ERR_MALFORMED;
	}
	body(&r, msg, len);
	vpnr__rbuf_get_u16(&r, &rr->afi);
	vpnr__rbuf_get_u8(&r, &rr->subtype);
	vpnr__rbuf_get_u8(&r, &rr->safi);
	return r.err != 0 ? VPNR_ERR_MALFORMED : 0;
}

int
vpnr__bgp_rrefresh_encode(struct vpnr__wbuf *w,
    const struct vpnr__bgp_rrefresh *rr)
{
	size_t start;

	vpnr__bgp_msg_begin(w, VPNR__BGP_ROUTE_REFRESH, &start);
	vpnr__wbuf_put_u16(w, rr->afi);
	vpnr__wbuf_put_u8(w, rr->subtype);
	vpnr__wbuf_put_u8(w, rr->safi);
	return vpnr__bgp_msg_end(w, start);
}

/* ------------------------------------------------------------------ */
/* UPDATE                                                              */

int
vpnr__bgp_update_split(const uint8_t *msg, size_t len,
    struct vpnr__bgp_update *u, struct vpnr__bgp_err *err)
{
	struct vpnr__rbuf r;
	uint16_t wlen, alen;

	memset(u, 0, sizeof(*u));
	vpnr__bgp_err_set(err, 0, 0, NULL, 0);
	body(&r, msg, len);
	if (vpnr__rbuf_get_u16(&r, &wlen) != 0 ||
	    vpnr__rbuf_get_ptr(&r, wlen, &u->withdrawn) != 0 ||
	    vpnr__rbuf_get_u16(&r, &alen) != 0 ||
	    vpnr__rbuf_get_ptr(&r, alen, &u->attrs) != 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_UPDATE,
		    VPNR__BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	u->withdrawn_len = wlen;
	u->attrs_len = alen;
	if (wlen == 0)
		u->withdrawn = NULL;
	if (alen == 0)
		u->attrs = NULL;
	u->nlri_len = vpnr__rbuf_left(&r);
	u->nlri = u->nlri_len ? vpnr__rbuf_rest(&r) : NULL;
	if (vpnr__bgp_nlri_check(u->withdrawn, u->withdrawn_len, VPNR_AF_INET) <
		0 ||
	    vpnr__bgp_nlri_check(u->nlri, u->nlri_len, VPNR_AF_INET) < 0) {
		vpnr__bgp_err_set(err, VPNR__BGP_ERR_UPDATE,
		    VPNR__BGP_UPD_BAD_NETWORK, NULL, 0);
		return VPNR_ERR_MALFORMED;
	}
	return 0;
}

int
vpnr__bgp_update_is_eor4(const struct vpnr__bgp_update *u)
{
	return u->withdrawn_len == 0 && u->attrs_len == 0 && u->nlri_len == 0;
}

int
vpnr__bgp_eor_encode(struct vpnr__wbuf *w, int aid)
{
	size_t start;

	vpnr__bgp_msg_begin(w, VPNR__BGP_UPDATE, &start);
	vpnr__wbuf_put_u16(w, 0);
	if (aid == VPNR__BGP_AID_IPV4) {
		vpnr__wbuf_put_u16(w, 0);
	} else {
		vpnr__wbuf_put_u16(w, 6);
		vpnr__wbuf_put_u8(w, 0x80); /* optional, non-transitive */
		vpnr__wbuf_put_u8(w, 15);   /* MP_UNREACH_NLRI */
		vpnr__wbuf_put_u8(w, 3);
		vpnr__wbuf_put_u16(w, vpnr__bgp_aid_afi(aid));
		vpnr__wbuf_put_u8(w, VPNR__BGP_SAFI_UNICAST);
	}
	return vpnr__bgp_msg_end(w, start);
}
