/*
 * IKEv2 message codec (RFC 7296 section 3).  Parsing walks the generic
 * payload headers with lib/buf readers only; building appends payloads
 * to a wbuf and patches the previous "next payload" field and the
 * lengths afterwards.
 */
#include <string.h>

#include "ike_msg.h"

#define PL_CRITICAL 0x80

/* Substructure "last" markers (3.3.1, 3.3.2). */
#define SUB_LAST       0
#define SUB_MORE_PROP  2
#define SUB_MORE_TRANS 3

/* Transform attribute (3.3.5). */
#define ATTR_AF         0x8000
#define ATTR_KEY_LENGTH 14

#define NONCE_MIN 16
#define NONCE_MAX 256

/* ---- parsing ------------------------------------------------------- */

int
vpnr__ike_parse_hdr(struct vpnr__ike_hdr *hdr, const uint8_t *data, size_t len)
{
	struct vpnr__rbuf b;

	memset(hdr, 0, sizeof(*hdr));
	if (data == NULL || len < VPNR__IKE_HDR_LEN)
		return VPNR_ERR_MALFORMED;
	vpnr__rbuf_init(&b, data, len);
	vpnr__rbuf_get_u64(&b, &hdr->spi_i);
	vpnr__rbuf_get_u64(&b, &hdr->spi_r);
	vpnr__rbuf_get_u8(&b, &hdr->next_payload);
	vpnr__rbuf_get_u8(&b, &hdr->version);
	vpnr__rbuf_get_u8(&b, &hdr->exchange);
	vpnr__rbuf_get_u8(&b, &hdr->flags);
	vpnr__rbuf_get_u32(&b, &hdr->msg_id);
	if (vpnr__rbuf_get_u32(&b, &hdr->length) != 0)
		return VPNR_ERR_MALFORMED;
	/* The header is filled in even when the checks fail, so that
	 * the caller can answer INVALID_MAJOR_VERSION. */
	if ((hdr->version >> 4) != 2)
		return VPNR_ERR_MALFORMED;
	if (hdr->length < VPNR__IKE_HDR_LEN || hdr->length != len)
		return VPNR_ERR_MALFORMED;
	return VPNR_OK;
}

static int
parse_transform(struct vpnr__rbuf *b, struct vpnr__ike_transform *t)
{
	uint16_t atype, aval, alen;
	int have_kl = 0;

	if (vpnr__rbuf_get_u8(b, &t->type) != 0 || vpnr__rbuf_skip(b, 1) != 0 ||
	    vpnr__rbuf_get_u16(b, &t->id) != 0)
		return VPNR_ERR_MALFORMED;
	t->key_len = 0;
	while (vpnr__rbuf_left(b) > 0) {
		if (vpnr__rbuf_get_u16(b, &atype) != 0 ||
		    vpnr__rbuf_get_u16(b, &aval) != 0)
			return VPNR_ERR_MALFORMED;
		if (atype & ATTR_AF) {
			if ((atype & ~ATTR_AF) == ATTR_KEY_LENGTH) {
				if (have_kl)
					return VPNR_ERR_MALFORMED;
				have_kl = 1;
				if (t->key_len != VPNR__IKE_ATTR_UNKNOWN)
					t->key_len = aval;
			} else
				t->key_len = VPNR__IKE_ATTR_UNKNOWN;
			continue;
		}
		/* TLV: Key Length must be TV, anything else unknown. */
		if ((atype & ~ATTR_AF) == ATTR_KEY_LENGTH)
			return VPNR_ERR_MALFORMED;
		alen = aval;
		if (vpnr__rbuf_skip(b, alen) != 0)
			return VPNR_ERR_MALFORMED;
		t->key_len = VPNR__IKE_ATTR_UNKNOWN;
	}
	return b->err ? VPNR_ERR_MALFORMED : VPNR_OK;
}

static int
parse_proposal(struct vpnr__rbuf *b, struct vpnr__ike_proposal *p)
{
	struct vpnr__rbuf tb;
	uint8_t ntrans, last, i;
	uint16_t tlen;

	if (vpnr__rbuf_get_u8(b, &p->num) != 0 ||
	    vpnr__rbuf_get_u8(b, &p->protocol) != 0 ||
	    vpnr__rbuf_get_u8(b, &p->spi_len) != 0 ||
	    vpnr__rbuf_get_u8(b, &ntrans) != 0)
		return VPNR_ERR_MALFORMED;
	if (p->spi_len != 0 && p->spi_len != 4 && p->spi_len != 8)
		return VPNR_ERR_MALFORMED;
	if (vpnr__rbuf_get_bytes(b, p->spi, p->spi_len) != 0)
		return VPNR_ERR_MALFORMED;
	if (ntrans == 0 || ntrans > VPNR__IKE_MAX_TRANSFORMS)
		return VPNR_ERR_MALFORMED;
	p->n_transforms = 0;
	for (i = 0; i < ntrans; i++) {
		if (vpnr__rbuf_get_u8(b, &last) != 0 ||
		    vpnr__rbuf_skip(b, 1) != 0 ||
		    vpnr__rbuf_get_u16(b, &tlen) != 0)
			return VPNR_ERR_MALFORMED;
		if (tlen < 8 || (last != SUB_LAST && last != SUB_MORE_TRANS))
			return VPNR_ERR_MALFORMED;
		if ((last == SUB_LAST) != (i + 1 == ntrans))
			return VPNR_ERR_MALFORMED;
		if (vpnr__rbuf_get_sub(b, tlen - 4, &tb) != 0)
			return VPNR_ERR_MALFORMED;
		if (parse_transform(&tb, &p->t[i]) != VPNR_OK)
			return VPNR_ERR_MALFORMED;
		p->n_transforms++;
	}
	/* The proposal length must cover exactly its transforms. */
	if (vpnr__rbuf_left(b) != 0)
		return VPNR_ERR_MALFORMED;
	return VPNR_OK;
}

static int
parse_sa(struct vpnr__rbuf *b, struct vpnr__ike_sa_pl *sa)
{
	struct vpnr__rbuf pb;
	uint8_t last;
	uint16_t plen;

	sa->n = 0;
	if (vpnr__rbuf_left(b) == 0)
		return VPNR_ERR_MALFORMED;
	while (vpnr__rbuf_left(b) > 0) {
		if (sa->n >= VPNR__IKE_MAX_PROPOSALS)
			return VPNR_ERR_MALFORMED;
		if (vpnr__rbuf_get_u8(b, &last) != 0 ||
		    vpnr__rbuf_skip(b, 1) != 0 ||
		    vpnr__rbuf_get_u16(b, &plen) != 0)
			return VPNR_ERR_MALFORMED;
		if (plen < 8 || (last != SUB_LAST && last != SUB_MORE_PROP))
			return VPNR_ERR_MALFORMED;
		if (vpnr__rbuf_get_sub(b, plen - 4, &pb) != 0)
			return VPNR_ERR_MALFORMED;
		if ((last == SUB_LAST) != (vpnr__rbuf_left(b) == 0))
			return VPNR_ERR_MALFORMED;
		if (parse_proposal(&pb, &sa->p[sa->n]) != VPNR_OK)
			return VPNR_ERR_MALFORMED;
		/*
		 * 3.3.1: numbering starts at 1 and goes up by one.  A lone
		 * proposal in a reply carries the number it accepted.
		 */
		if (sa->p[sa->n].num == 0)
			return VPNR_ERR_MALFORMED;
		if (sa->n > 0 && sa->p[sa->n].num != sa->p[sa->n - 1].num + 1)
			return VPNR_ERR_MALFORMED;
		sa->n++;
	}
	if (sa->n > 1 && sa->p[0].num != 1)
		return VPNR_ERR_MALFORMED;
	return VPNR_OK;
}

static int
addr_cmp(const vpnr_addr *a, const vpnr_addr *b, size_t alen)
{
	return memcmp(a->bytes, b->bytes, alen);
}

static int
parse_ts(struct vpnr__rbuf *b, struct vpnr__ike_ts_pl *tsp)
{
	struct vpnr__rbuf sb;
	uint8_t count, i, type, proto;
	uint16_t slen, ps, pe;
	size_t alen;
	vpnr_ts *ts;

	tsp->n = 0;
	if (vpnr__rbuf_get_u8(b, &count) != 0 || vpnr__rbuf_skip(b, 3) != 0)
		return VPNR_ERR_MALFORMED;
	if (count == 0 || count > VPNR__IKE_MAX_TS)
		return VPNR_ERR_MALFORMED;
	for (i = 0; i < count; i++) {
		if (vpnr__rbuf_get_u8(b, &type) != 0 ||
		    vpnr__rbuf_get_u8(b, &proto) != 0 ||
		    vpnr__rbuf_get_u16(b, &slen) != 0)
			return VPNR_ERR_MALFORMED;
		if (slen < 8 || vpnr__rbuf_get_sub(b, slen - 4, &sb) != 0)
			return VPNR_ERR_MALFORMED;
		if (type == VPNR__TS_IPV4_ADDR_RANGE)
			alen = 4;
		else if (type == VPNR__TS_IPV6_ADDR_RANGE)
			alen = 16;
		else
			continue; /* unknown TS type: not ours to narrow */
		if (slen != 8 + 2 * alen)
			return VPNR_ERR_MALFORMED;
		ts = &tsp->ts[tsp->n];
		memset(ts, 0, sizeof(*ts));
		ts->ip_proto = proto;
		vpnr__rbuf_get_u16(&sb, &ps);
		vpnr__rbuf_get_u16(&sb, &pe);
		ts->port_start = ps;
		ts->port_end = pe;
		ts->addr_start.family = ts->addr_end.family =
		    alen == 4 ? VPNR_AF_INET : VPNR_AF_INET6;
		vpnr__rbuf_get_bytes(&sb, ts->addr_start.bytes, alen);
		if (vpnr__rbuf_get_bytes(&sb, ts->addr_end.bytes, alen) != 0)
			return VPNR_ERR_MALFORMED;
		if (addr_cmp(&ts->addr_start, &ts->addr_end, alen) > 0)
			return VPNR_ERR_MALFORMED;
		/* start > end ports only as OPAQUE (65535..0), 3.13.1 */
		if (ps > pe && !(ps == 65535 && pe == 0))
			return VPNR_ERR_MALFORMED;
		tsp->n++;
	}
	if (vpnr__rbuf_left(b) != 0)
		return VPNR_ERR_MALFORMED;
	return VPNR_OK;
}

static int
parse_id(struct vpnr__rbuf *b, const uint8_t **body, size_t *body_len,
    uint8_t *type, const uint8_t **data, size_t *data_len)
{
	size_t len = vpnr__rbuf_left(b);

	if (len < 5)
		return VPNR_ERR_MALFORMED;
	if (vpnr__rbuf_peek_u8(b, 0, type) != 0 ||
	    vpnr__rbuf_get_ptr(b, len, body) != 0)
		return VPNR_ERR_MALFORMED;
	*body_len = len;
	/* identification data follows type + 3 reserved bytes */
	{
		struct vpnr__rbuf ib;

		vpnr__rbuf_init(&ib, *body, len);
		if (vpnr__rbuf_skip(&ib, 4) != 0 ||
		    vpnr__rbuf_get_ptr(&ib, len - 4, data) != 0)
			return VPNR_ERR_MALFORMED;
		*data_len = len - 4;
	}
	return VPNR_OK;
}

static int
parse_notify(struct vpnr__rbuf *b, struct vpnr__ike_msg *msg)
{
	struct vpnr__ike_notify *n;

	if (msg->n_notify >= VPNR__IKE_MAX_NOTIFIES)
		return VPNR_ERR_MALFORMED;
	n = &msg->notify[msg->n_notify];
	memset(n, 0, sizeof(*n));
	if (vpnr__rbuf_get_u8(b, &n->protocol) != 0 ||
	    vpnr__rbuf_get_u8(b, &n->spi_len) != 0 ||
	    vpnr__rbuf_get_u16(b, &n->type) != 0)
		return VPNR_ERR_MALFORMED;
	if (n->spi_len > 0 && vpnr__rbuf_get_ptr(b, n->spi_len, &n->spi) != 0)
		return VPNR_ERR_MALFORMED;
	n->data_len = vpnr__rbuf_left(b);
	if (n->data_len > 0 &&
	    vpnr__rbuf_get_ptr(b, n->data_len, &n->data) != 0)
		return VPNR_ERR_MALFORMED;
	msg->n_notify++;
	return VPNR_OK;
}

static int
parse_delete(struct vpnr__rbuf *b, struct vpnr__ike_msg *msg)
{
	struct vpnr__ike_delete *d;

	if (msg->n_delete >= VPNR__IKE_MAX_DELETES)
		return VPNR_ERR_MALFORMED;
	d = &msg->del[msg->n_delete];
	memset(d, 0, sizeof(*d));
	if (vpnr__rbuf_get_u8(b, &d->protocol) != 0 ||
	    vpnr__rbuf_get_u8(b, &d->spi_len) != 0 ||
	    vpnr__rbuf_get_u16(b, &d->n_spi) != 0)
		return VPNR_ERR_MALFORMED;
	switch (d->protocol) {
	case VPNR__PROTO_IKE:
		if (d->spi_len != 0 || d->n_spi != 0)
			return VPNR_ERR_MALFORMED;
		break;
	case VPNR__PROTO_AH:
	case VPNR__PROTO_ESP:
		if (d->spi_len != 4 || d->n_spi == 0)
			return VPNR_ERR_MALFORMED;
		break;
	default:
		return VPNR_ERR_MALFORMED;
	}
	if (vpnr__rbuf_left(b) != (size_t)d->spi_len * d->n_spi)
		return VPNR_ERR_MALFORMED;
	if (d->n_spi > 0 &&
	    vpnr__rbuf_get_ptr(b, (size_t)d->spi_len * d->n_spi, &d->spis) != 0)
		return VPNR_ERR_MALFORMED;
	msg->n_delete++;
	return VPNR_OK;
}

/* One payload body of type t. */
static int
parse_payload(struct vpnr__ike_msg *msg, uint8_t t, uint8_t flags,
    struct vpnr__rbuf *pb)
{
	size_t left = vpnr__rbuf_left(pb);

	switch (t) {
	case VPNR__PL_SA:
		if (msg->has_sa)
			return VPNR_ERR_MALFORMED;
		msg->has_sa = 1;
		return parse_sa(pb, &msg->sa);
	case VPNR__PL_KE:
		if (msg->has_ke || left < 5)
			return VPNR_ERR_MALFORMED;
		msg->has_ke = 1;
		vpnr__rbuf_get_u16(pb, &msg->ke_group);
		vpnr__rbuf_skip(pb, 2);
		msg->ke_len = left - 4;
		return vpnr__rbuf_get_ptr(pb, msg->ke_len, &msg->ke_data) ?
		    VPNR_ERR_MALFORMED :
		    VPNR_OK;
	case VPNR__PL_NONCE:
		if (msg->has_nonce || left < NONCE_MIN || left > NONCE_MAX)
			return VPNR_ERR_MALFORMED;
		msg->has_nonce = 1;
		msg->nonce_len = left;
		return vpnr__rbuf_get_ptr(pb, left, &msg->nonce) ?
		    VPNR_ERR_MALFORMED :
		    VPNR_OK;
	case VPNR__PL_IDI:
		if (msg->has_idi)
			return VPNR_ERR_MALFORMED;
		msg->has_idi = 1;
		return parse_id(pb, &msg->idi_body, &msg->idi_body_len,
		    &msg->idi_type, &msg->idi_data, &msg->idi_data_len);
	case VPNR__PL_IDR:
		if (msg->has_idr)
			return VPNR_ERR_MALFORMED;
		msg->has_idr = 1;
		return parse_id(pb, &msg->idr_body, &msg->idr_body_len,
		    &msg->idr_type, &msg->idr_data, &msg->idr_data_len);
	case VPNR__PL_AUTH:
		if (msg->has_auth || left < 5)
			return VPNR_ERR_MALFORMED;
		msg->has_auth = 1;
		vpnr__rbuf_get_u8(pb, &msg->auth_method);
		vpnr__rbuf_skip(pb, 3);
		msg->auth_len = left - 4;
		return vpnr__rbuf_get_ptr(pb, msg->auth_len, &msg->auth_data) ?
		    VPNR_ERR_MALFORMED :
		    VPNR_OK;
	case VPNR__PL_NOTIFY:
		return parse_notify(pb, msg);
	case VPNR__PL_DELETE:
		return parse_delete(pb, msg);
	case VPNR__PL_TSI:
		if (msg->has_tsi)
			return VPNR_ERR_MALFORMED;
		msg->has_tsi = 1;
		return parse_ts(pb, &msg->tsi);
	case VPNR__PL_TSR:
		if (msg->has_tsr)
			return VPNR_ERR_MALFORMED;
		msg->has_tsr = 1;
		return parse_ts(pb, &msg->tsr);
	case VPNR__PL_CERT:
	case VPNR__PL_CERTREQ:
	case VPNR__PL_VENDOR:
	case VPNR__PL_CP:
	case VPNR__PL_EAP:
		/* Known but not used: skipped. */
		return VPNR_OK;
	default:
		/*
		 * Unknown (SKF included: we never announce fragmentation
		 * support): with the critical bit the message must be
		 * rejected with UNSUPPORTED_CRITICAL_PAYLOAD, else skip.
		 */
		if ((flags & PL_CRITICAL) && msg->unsupported_critical == 0)
			msg->unsupported_critical = t;
		return VPNR_OK;
	}
}

/*
 * Walk a payload chain from b's position to its end.  outer allows
 * an SK payload (which must be the last one).
 */
static int
parse_chain(struct vpnr__ike_msg *msg, uint8_t first, struct vpnr__rbuf *b,
    int outer)
{
	struct vpnr__rbuf pb;
	uint8_t t = first, next, flags;
	uint16_t plen;
	size_t off;
	int rv;

	while (t != VPNR__PL_NONE) {
		off = vpnr__rbuf_offset(b);
		if (vpnr__rbuf_get_u8(b, &next) != 0 ||
		    vpnr__rbuf_get_u8(b, &flags) != 0 ||
		    vpnr__rbuf_get_u16(b, &plen) != 0)
			return VPNR_ERR_MALFORMED;
		if (plen < 4 || vpnr__rbuf_get_sub(b, plen - 4, &pb) != 0)
			return VPNR_ERR_MALFORMED;
		if (t == VPNR__PL_SK) {
			if (!outer || msg->has_sk)
				return VPNR_ERR_MALFORMED;
			/* 3.14: SK is the last payload; next is the inner
			 * chain's first payload. */
			if (vpnr__rbuf_left(b) != 0)
				return VPNR_ERR_MALFORMED;
			msg->has_sk = 1;
			msg->sk_next = next;
			msg->sk_offset = off;
			msg->sk_body_len = plen - 4;
			if (msg->sk_body_len == 0)
				return VPNR_ERR_MALFORMED;
			if (vpnr__rbuf_get_ptr(&pb, msg->sk_body_len,
				&msg->sk_body) != 0)
				return VPNR_ERR_MALFORMED;
			return VPNR_OK;
		}
		rv = parse_payload(msg, t, flags, &pb);
		if (rv != VPNR_OK)
			return VPNR_ERR_MALFORMED;
		t = next;
	}
	/* Trailing bytes after the last payload. */
	if (vpnr__rbuf_left(b) != 0)
		return VPNR_ERR_MALFORMED;
	return VPNR_OK;
}

int
vpnr__ike_parse(struct vpnr__ike_msg *msg, const uint8_t *data, size_t len)
{
	struct vpnr__rbuf b;
	int rv;

	memset(msg, 0, sizeof(*msg));
	if ((rv = vpnr__ike_parse_hdr(&msg->hdr, data, len)) != VPNR_OK)
		return rv;
	vpnr__rbuf_init(&b, data, len);
	if (vpnr__rbuf_skip(&b, VPNR__IKE_HDR_LEN) != 0)
		return VPNR_ERR_MALFORMED;
	return parse_chain(msg, msg->hdr.next_payload, &b, 1);
}

int
vpnr__ike_parse_chain(struct vpnr__ike_msg *msg, uint8_t first,
    const uint8_t *data, size_t len)
{
	struct vpnr__rbuf b;

	if (data == NULL && len != 0)
		return VPNR_ERR_MALFORMED;
	vpnr__rbuf_init(&b, data, len);
	return parse_chain(msg, first, &b, 0);
}

const struct vpnr__ike_notify *
vpnr__ike_find_notify(const struct vpnr__ike_msg *msg, uint16_t type)
{
	uint8_t i;

	for (i = 0; i < msg->n_notify && i < VPNR__IKE_MAX_NOTIFIES; i++)
		if (msg->notify[i].type == type)
			return &msg->notify[i];
	return NULL;
}

/* ---- building ------------------------------------------------------ */

/* prev_next_off value after an SK payload: nothing may follow. */
#define NO_MORE ((size_t)-1)

static void
b_check(struct vpnr__ike_builder *b)
{
	if (b->err == 0 && b->w->err != 0)
		b->err = b->w->err;
}

static void
put_data(struct vpnr__ike_builder *b, const void *p, size_t n)
{
	if (n > 0 && p == NULL) {
		if (b->err == 0)
			b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	if (n > 0)
		vpnr__wbuf_put_bytes(b->w, p, n);
}

/* Chain a new payload of type t; returns the offset of its header. */
static size_t
pl_begin(struct vpnr__ike_builder *b, uint8_t t)
{
	size_t off;

	if (b->err)
		return 0;
	if (b->prev_next_off == NO_MORE) {
		b->err = VPNR_ERR_INVALID_STATE; /* SK must be last */
		return 0;
	}
	if (b->have_prev)
		vpnr__wbuf_set_u8(b->w, b->prev_next_off, t);
	else
		b->first = t;
	b->have_prev = 1;
	off = vpnr__wbuf_len(b->w);
	b->prev_next_off = off;
	vpnr__wbuf_put_u8(b->w, VPNR__PL_NONE);
	vpnr__wbuf_put_u8(b->w, 0);
	vpnr__wbuf_put_u16(b->w, 0);
	b_check(b);
	return off;
}

static void
pl_end(struct vpnr__ike_builder *b, size_t off)
{
	size_t len;

	if (b->err)
		return;
	len = vpnr__wbuf_len(b->w) - off;
	if (len > 0xffff) {
		b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	vpnr__wbuf_set_u16(b->w, off + 2, (uint16_t)len);
	b_check(b);
}

void
vpnr__ike_build_begin(struct vpnr__ike_builder *b, struct vpnr__wbuf *w,
    const struct vpnr__ike_hdr *hdr)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u64(w, hdr->spi_i);
	vpnr__wbuf_put_u64(w, hdr->spi_r);
	b->prev_next_off = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u8(w, VPNR__PL_NONE);
	vpnr__wbuf_put_u8(w, hdr->version != 0 ? hdr->version : 0x20);
	vpnr__wbuf_put_u8(w, hdr->exchange);
	vpnr__wbuf_put_u8(w, hdr->flags);
	vpnr__wbuf_put_u32(w, hdr->msg_id);
	vpnr__wbuf_put_u32(w, 0); /* length, patched by _end */
	b->have_prev = 1;
	b->hdr = 1;
	b_check(b);
}

void
vpnr__ike_build_begin_inner(struct vpnr__ike_builder *b, struct vpnr__wbuf *w)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = vpnr__wbuf_len(w);
	b->have_prev = 0;
	b->hdr = 0;
	b_check(b);
}

void
vpnr__ike_add_sa(struct vpnr__ike_builder *b, const struct vpnr__ike_sa_pl *sa)
{
	const struct vpnr__ike_proposal *p;
	const struct vpnr__ike_transform *t;
	size_t off, poff;
	uint8_t i, j;

	off = pl_begin(b, VPNR__PL_SA);
	if (b->err)
		return;
	if (sa->n == 0 || sa->n > VPNR__IKE_MAX_PROPOSALS) {
		b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	for (i = 0; i < sa->n; i++) {
		p = &sa->p[i];
		if (p->n_transforms == 0 ||
		    p->n_transforms > VPNR__IKE_MAX_TRANSFORMS ||
		    p->spi_len > VPNR__IKE_MAX_SPI) {
			b->err = VPNR_ERR_INVALID_ARGUMENT;
			return;
		}
		poff = vpnr__wbuf_len(b->w);
		vpnr__wbuf_put_u8(b->w,
		    i + 1 == sa->n ? SUB_LAST : SUB_MORE_PROP);
		vpnr__wbuf_put_u8(b->w, 0);
		vpnr__wbuf_put_u16(b->w, 0);
		vpnr__wbuf_put_u8(b->w, p->num);
		vpnr__wbuf_put_u8(b->w, p->protocol);
		vpnr__wbuf_put_u8(b->w, p->spi_len);
		vpnr__wbuf_put_u8(b->w, p->n_transforms);
		vpnr__wbuf_put_bytes(b->w, p->spi, p->spi_len);
		for (j = 0; j < p->n_transforms; j++) {
			t = &p->t[j];
			vpnr__wbuf_put_u8(b->w,
			    j + 1 == p->n_transforms ? SUB_LAST :
						       SUB_MORE_TRANS);
			vpnr__wbuf_put_u8(b->w, 0);
			vpnr__wbuf_put_u16(b->w, t->key_len ? 12 : 8);
			vpnr__wbuf_put_u8(b->w, t->type);
			vpnr__wbuf_put_u8(b->w, 0);
			vpnr__wbuf_put_u16(b->w, t->id);
			if (t->key_len) {
				vpnr__wbuf_put_u16(b->w,
				    ATTR_AF | ATTR_KEY_LENGTH);
				vpnr__wbuf_put_u16(b->w, t->key_len);
			}
		}
		b_check(b);
		if (b->err)
			return;
		if (vpnr__wbuf_len(b->w) - poff > 0xffff) {
			b->err = VPNR_ERR_INVALID_ARGUMENT;
			return;
		}
		vpnr__wbuf_set_u16(b->w, poff + 2,
		    (uint16_t)(vpnr__wbuf_len(b->w) - poff));
	}
	pl_end(b, off);
}

void
vpnr__ike_add_ke(struct vpnr__ike_builder *b, uint16_t group,
    const uint8_t *data, size_t len)
{
	size_t off;

	off = pl_begin(b, VPNR__PL_KE);
	vpnr__wbuf_put_u16(b->w, group);
	vpnr__wbuf_put_u16(b->w, 0);
	put_data(b, data, len);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_nonce(struct vpnr__ike_builder *b, const uint8_t *nonce,
    size_t len)
{
	size_t off;

	off = pl_begin(b, VPNR__PL_NONCE);
	put_data(b, nonce, len);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_id(struct vpnr__ike_builder *b, uint8_t type, const uint8_t *body,
    size_t len)
{
	size_t off;

	if (type != VPNR__PL_IDI && type != VPNR__PL_IDR) {
		if (b->err == 0)
			b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	off = pl_begin(b, type);
	put_data(b, body, len);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_auth(struct vpnr__ike_builder *b, uint8_t method,
    const uint8_t *data, size_t len)
{
	size_t off;

	off = pl_begin(b, VPNR__PL_AUTH);
	vpnr__wbuf_put_u8(b->w, method);
	vpnr__wbuf_put_zero(b->w, 3);
	put_data(b, data, len);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_notify(struct vpnr__ike_builder *b, uint8_t protocol,
    const uint8_t *spi, uint8_t spi_len, uint16_t type, const uint8_t *data,
    size_t len)
{
	size_t off;

	off = pl_begin(b, VPNR__PL_NOTIFY);
	vpnr__wbuf_put_u8(b->w, protocol);
	vpnr__wbuf_put_u8(b->w, spi_len);
	vpnr__wbuf_put_u16(b->w, type);
	put_data(b, spi, spi_len);
	put_data(b, data, len);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_delete(struct vpnr__ike_builder *b, uint8_t protocol,
    uint8_t spi_len, const uint8_t *spis, uint16_t n_spi)
{
	size_t off;

	off = pl_begin(b, VPNR__PL_DELETE);
	vpnr__wbuf_put_u8(b->w, protocol);
	vpnr__wbuf_put_u8(b->w, spi_len);
	vpnr__wbuf_put_u16(b->w, n_spi);
	put_data(b, spis, (size_t)spi_len * n_spi);
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_ts(struct vpnr__ike_builder *b, uint8_t type, const vpnr_ts *ts,
    size_t n)
{
	size_t off, i, alen;

	if ((type != VPNR__PL_TSI && type != VPNR__PL_TSR) || n == 0 ||
	    n > 255) {
		if (b->err == 0)
			b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	off = pl_begin(b, type);
	vpnr__wbuf_put_u8(b->w, (uint8_t)n);
	vpnr__wbuf_put_zero(b->w, 3);
	for (i = 0; i < n; i++) {
		alen = ts[i].addr_start.family == VPNR_AF_INET6 ? 16 : 4;
		vpnr__wbuf_put_u8(b->w,
		    alen == 4 ? VPNR__TS_IPV4_ADDR_RANGE :
				VPNR__TS_IPV6_ADDR_RANGE);
		vpnr__wbuf_put_u8(b->w, ts[i].ip_proto);
		vpnr__wbuf_put_u16(b->w, (uint16_t)(8 + 2 * alen));
		vpnr__wbuf_put_u16(b->w, ts[i].port_start);
		vpnr__wbuf_put_u16(b->w, ts[i].port_end);
		vpnr__wbuf_put_bytes(b->w, ts[i].addr_start.bytes, alen);
		vpnr__wbuf_put_bytes(b->w, ts[i].addr_end.bytes, alen);
	}
	b_check(b);
	pl_end(b, off);
}

void
vpnr__ike_add_sk_begin(struct vpnr__ike_builder *b, uint8_t inner_first,
    size_t *sk_off)
{
	size_t off;

	*sk_off = 0;
	off = pl_begin(b, VPNR__PL_SK);
	if (b->err)
		return;
	/* The SK header's next payload names the first inner payload. */
	vpnr__wbuf_set_u8(b->w, off, inner_first);
	b->prev_next_off = NO_MORE;
	b_check(b);
	*sk_off = off + 4;
}

void
vpnr__ike_sk_finish(struct vpnr__ike_builder *b, size_t sk_off)
{
	if (b->err)
		return;
	if (sk_off < 4 || sk_off > vpnr__wbuf_len(b->w)) {
		b->err = VPNR_ERR_INVALID_ARGUMENT;
		return;
	}
	pl_end(b, sk_off - 4);
}

int
vpnr__ike_build_end(struct vpnr__ike_builder *b)
{
	size_t len;

	b_check(b);
	if (b->err)
		return b->err;
	if (b->hdr) {
		len = vpnr__wbuf_len(b->w) - b->start;
		if (len > VPNR__IKE_MAX_MSG) {
			b->err = VPNR_ERR_INVALID_ARGUMENT;
			return b->err;
		}
		vpnr__wbuf_set_u32(b->w, b->start + 24, (uint32_t)len);
		b_check(b);
	}
	return b->err;
}

uint8_t
vpnr__ike_build_first(const struct vpnr__ike_builder *b)
{
	return b->first;
}

size_t
vpnr__ike_id_body(uint8_t type, const uint8_t *value, size_t len, uint8_t *out,
    size_t cap)
{
	struct vpnr__wbuf w;

	vpnr__wbuf_init_fixed(&w, out, cap);
	vpnr__wbuf_put_u8(&w, type);
	vpnr__wbuf_put_zero(&w, 3);
	if (len > 0)
		vpnr__wbuf_put_bytes(&w, value, len);
	if (w.err != 0)
		return 0;
	return vpnr__wbuf_len(&w);
}
