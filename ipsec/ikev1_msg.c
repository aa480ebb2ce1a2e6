/*
 * IKEv1 codec (RFC 2408 3, RFC 2407 4, RFC 3947, RFC 3706): parser,
 * builder, encrypted bodies, Quick Mode IDs.
 *
 * ISAKMP has no critical bit: every payload has a generic header whose
 * reserved byte must be zero; payload types we do not use are skipped
 * after the generic checks (RFC 2408 5.1 lets a receiver reject them,
 * but strongSwan and Cisco send CERT requests and Mode Config
 * attributes we can ignore).  Proposal and transform payloads appear
 * only inside an SA payload.
 */
#include <string.h>

#include "buf.h"
#include "crypto_v1.h"
#include "ikev1_msg.h"

static const char *const perr_names[V1E_REASONS] = {
	[V1E_NONE] = "no error",
	[V1E_SHORT] = "message or structure truncated",
	[V1E_VERSION] = "major version not 1",
	[V1E_FLAGS] = "undefined header flags",
	[V1E_LENGTH] = "header length differs from datagram",
	[V1E_PAYLOAD_LENGTH] = "payload length out of bounds",
	[V1E_RESERVED] = "reserved field not zero",
	[V1E_NESTING] = "proposal/transform nesting",
	[V1E_DUPLICATE] = "duplicate payload",
	[V1E_TOO_MANY] = "too many payloads, proposals or attributes",
	[V1E_DOI] = "DOI not IPsec",
	[V1E_SITUATION] = "situation not IDENTITY_ONLY",
	[V1E_COUNT] = "transform count mismatch",
	[V1E_SPI_SIZE] = "SPI size out of range",
	[V1E_ATTR] = "malformed attribute",
	[V1E_ID] = "ID data length wrong for its type",
	[V1E_NONCE] = "nonce length not 8..256",
	[V1E_EMPTY] = "empty payload",
	[V1E_TRAILING] = "data after the last payload",
	[V1E_PADDING] = "encrypted body length",
};

const char *
vpnr__v1_perr_str(int reason)
{
	if (reason < 0 || reason >= V1E_REASONS)
		return "unknown";
	return perr_names[reason];
}

/* Record the first failure; always returns VPNR_ERR_MALFORMED. */
static int
perr(struct vpnr__v1_perr *err, int reason, uint8_t pl, size_t off)
{
	if (err != NULL && err->reason == V1E_NONE) {
		err->reason = reason;
		err->payload = pl;
		err->offset = off;
	}
	return VPNR_ERR_MALFORMED;
}

/* ---- Vendor IDs ----------------------------------------------------- */

struct vid_def {
	int kind;
	uint8_t len;    /* bytes to send */
	uint8_t prefix; /* bytes that must match (versions follow) */
	uint8_t b[16];
};

/* MD5 of the names in comments (checked in the unit test). */
static const struct vid_def vids[] = {
	{ VPNR__V1_VID_NATT_RFC3947, 16, 16, /* "RFC 3947" */
	    { 0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28,
		0xf2, 0x0e, 0x95, 0x45, 0x2f } },
	{ VPNR__V1_VID_NATT_DRAFT_02, 16, 16, /* "...-nat-t-ike-02" */
	    { 0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2,
		0xfc, 0x68, 0xb6, 0xa4, 0x48 } },
	{ VPNR__V1_VID_NATT_DRAFT_02N, 16, 16, /* "...-nat-t-ike-02\n" */
	    { 0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81,
		0xb5, 0xec, 0x42, 0x7b, 0x1f } },
	{ VPNR__V1_VID_NATT_DRAFT_03, 16, 16, /* "...-nat-t-ike-03" */
	    { 0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d,
		0x92, 0x15, 0x52, 0x9d, 0x56 } },
	/* RFC 3706 7: 14 bytes, then major 1, minor 0 */
	{ VPNR__V1_VID_DPD, 16, 14,
	    { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96,
		0xfc, 0x77, 0x57, 0x01, 0x00 } },
	{ VPNR__V1_VID_STRONGSWAN, 16, 16, /* "strongSwan" */
	    { 0x88, 0x2f, 0xe5, 0x6d, 0x6f, 0xd2, 0x0d, 0xbc, 0x22, 0x51, 0x61,
		0x3b, 0x2e, 0xbe, 0x5b, 0xeb } },
	/* "CISCO-UNITY", 14 bytes, then version 1.0 */
	{ VPNR__V1_VID_CISCO_UNITY, 16, 14,
	    { 0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9, 0x70, 0x2d, 0x9f,
		0xe2, 0x74, 0xcc, 0x01, 0x00 } },
	{ VPNR__V1_VID_XAUTH, 8, 8,
	    { 0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12 } },
	/* "FRAGMENTATION", Cisco appends capability flags */
	{ VPNR__V1_VID_FRAGMENTATION, 16, 16,
	    { 0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde,
		0x7f, 0x00, 0xd6, 0xc2, 0xd3 } },
};
#define NVIDS (sizeof(vids) / sizeof(vids[0]))

int
vpnr__v1_vid_kind(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < NVIDS; i++) {
		/* Only the prefix is compared; versions or flags follow. */
		if (len < vids[i].prefix)
			continue;
		if (memcmp(data, vids[i].b, vids[i].prefix) == 0)
			return vids[i].kind;
	}
	return VPNR__V1_VID_OTHER;
}

const uint8_t *
vpnr__v1_vid_bytes(int kind, size_t *len)
{
	size_t i;

	for (i = 0; i < NVIDS; i++)
		if (vids[i].kind == kind) {
			*len = vids[i].len;
			return vids[i].b;
		}
	*len = 0;
	return NULL;
}

/* ---- Attributes ----------------------------------------------------- */

const uint8_t *
vpnr__v1_attr_bytes(const struct vpnr__v1_attr *a)
{
	return a->val != NULL ? a->val : a->inl;
}

int
vpnr__v1_attr_value(const struct vpnr__v1_attr *a, uint64_t *v)
{
	const uint8_t *p = vpnr__v1_attr_bytes(a);
	uint16_t i;

	if (a->len == 0 || a->len > 8 || (a->val == NULL && a->len > 4))
		return VPNR_ERR_MALFORMED;
	*v = 0;
	for (i = 0; i < a->len; i++)
		*v = (*v << 8) | p[i];
	return VPNR_OK;
}

int
vpnr__v1_attr_tv(struct vpnr__v1_transform *t, uint16_t type, uint16_t value)
{
	struct vpnr__v1_attr *a;

	if (t->n_attr >= VPNR__V1_MAX_ATTRS)
		return VPNR_ERR_LIMIT;
	a = &t->attr[t->n_attr++];
	memset(a, 0, sizeof(*a));
	a->type = type & 0x7fff;
	a->tv = 1;
	a->len = 2;
	vpnr__put_be16(a->inl, value);
	return VPNR_OK;
}

int
vpnr__v1_attr_num(struct vpnr__v1_transform *t, uint16_t type, uint64_t value)
{
	struct vpnr__v1_attr *a;

	if (value > UINT32_MAX)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (value <= UINT16_MAX)
		return vpnr__v1_attr_tv(t, type, (uint16_t)value);
	if (t->n_attr >= VPNR__V1_MAX_ATTRS)
		return VPNR_ERR_LIMIT;
	a = &t->attr[t->n_attr++];
	memset(a, 0, sizeof(*a));
	a->type = type & 0x7fff;
	a->len = 4;
	vpnr__put_be32(a->inl, (uint32_t)value);
	return VPNR_OK;
}

/* ---- Parser --------------------------------------------------------- */

int
vpnr__v1_is_v1(const uint8_t *data, size_t len)
{
	return data != NULL && len >= VPNR__V1_HDR_LEN &&
	    (data[17] & 0xf0) == 0x10;
}

int
vpnr__v1_parse_hdr(struct vpnr__v1_hdr *hdr, const uint8_t *data, size_t len,
    struct vpnr__v1_perr *err)
{
	struct vpnr__rbuf b;

	memset(hdr, 0, sizeof(*hdr));
	vpnr__rbuf_init(&b, data, len);
	vpnr__rbuf_get_bytes(&b, hdr->cky_i, VPNR__V1_COOKIE);
	vpnr__rbuf_get_bytes(&b, hdr->cky_r, VPNR__V1_COOKIE);
	vpnr__rbuf_get_u8(&b, &hdr->next_payload);
	vpnr__rbuf_get_u8(&b, &hdr->version);
	vpnr__rbuf_get_u8(&b, &hdr->exchange);
	vpnr__rbuf_get_u8(&b, &hdr->flags);
	vpnr__rbuf_get_u32(&b, &hdr->msg_id);
	if (vpnr__rbuf_get_u32(&b, &hdr->length) != 0)
		return perr(err, V1E_SHORT, 0, 0);
	if ((hdr->version & 0xf0) != 0x10)
		return perr(err, V1E_VERSION, 0, 17);
	if (hdr->flags &
	    ~(VPNR__V1_F_ENC | VPNR__V1_F_COMMIT | VPNR__V1_F_AUTH_ONLY))
		return perr(err, V1E_FLAGS, 0, 19);
	if (hdr->length != len)
		return perr(err, V1E_LENGTH, 0, 24);
	return VPNR_OK;
}

/* Parsing context: the message base for offsets, and the error. */
struct pctx {
	const uint8_t *base;
	struct vpnr__v1_perr *err;
};

static size_t
off_of(const struct pctx *c, const struct vpnr__rbuf *b)
{
	return (size_t)(b->data - c->base) + b->off;
}

static int
parse_attrs(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_transform *t)
{
	struct vpnr__v1_attr *a;
	uint16_t at, v;

	while (vpnr__rbuf_left(b) > 0) {
		if (t->n_attr >= VPNR__V1_MAX_ATTRS)
			return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_T,
			    off_of(c, b));
		a = &t->attr[t->n_attr];
		memset(a, 0, sizeof(*a));
		if (vpnr__rbuf_get_u16(b, &at) != 0)
			return perr(c->err, V1E_ATTR, VPNR__V1_PL_T,
			    off_of(c, b));
		a->type = at & 0x7fff;
		a->tv = (at & 0x8000) != 0;
		if (a->tv) {
			a->len = 2;
			if (vpnr__rbuf_get_ptr(b, 2, &a->val) != 0)
				return perr(c->err, V1E_ATTR, VPNR__V1_PL_T,
				    off_of(c, b));
		} else {
			if (vpnr__rbuf_get_u16(b, &v) != 0 ||
			    vpnr__rbuf_get_ptr(b, v, &a->val) != 0)
				return perr(c->err, V1E_ATTR, VPNR__V1_PL_T,
				    off_of(c, b));
			a->len = v;
		}
		t->n_attr++;
	}
	return VPNR_OK;
}

static void put_attr(struct vpnr__v1_builder *b, const struct vpnr__v1_attr *a);

int
vpnr__v1_attrs_parse(const uint8_t *data, size_t len,
    struct vpnr__v1_transform *t)
{
	struct vpnr__rbuf b;
	struct pctx c;

	c.base = data;
	c.err = NULL;
	memset(t, 0, sizeof(*t));
	vpnr__rbuf_init(&b, data, len);
	return parse_attrs(&c, &b, t);
}

int
vpnr__v1_attrs_put(struct vpnr__wbuf *w, const struct vpnr__v1_transform *t)
{
	struct vpnr__v1_builder b;
	uint8_t k;

	memset(&b, 0, sizeof(b));
	b.w = w;
	for (k = 0; k < t->n_attr && k < VPNR__V1_MAX_ATTRS; k++)
		put_attr(&b, &t->attr[k]);
	if (b.err != 0)
		return b.err;
	return w->err;
}

/*
 * A generic payload header inside an SA (proposal, transform): next
 * must be 0 or want; the body reader is returned in sub.
 */
static int
sub_hdr(struct pctx *c, struct vpnr__rbuf *b, uint8_t type, uint8_t want,
    uint8_t *np, struct vpnr__rbuf *sub)
{
	uint8_t res = 0;
	uint16_t plen;
	size_t at = off_of(c, b);

	vpnr__rbuf_get_u8(b, np);
	vpnr__rbuf_get_u8(b, &res);
	if (vpnr__rbuf_get_u16(b, &plen) != 0)
		return perr(c->err, V1E_SHORT, type, at);
	if (*np != 0 && *np != want)
		return perr(c->err, V1E_NESTING, type, at);
	if (res != 0)
		return perr(c->err, V1E_RESERVED, type, at + 1);
	if (plen < 4 || vpnr__rbuf_get_sub(b, plen - 4, sub) != 0)
		return perr(c->err, V1E_PAYLOAD_LENGTH, type, at + 2);
	return VPNR_OK;
}

static int
parse_transform(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_sa *sa,
    uint8_t *np)
{
	struct vpnr__rbuf t;
	struct vpnr__v1_transform *tr;
	uint16_t res2;
	size_t at = off_of(c, b);
	int rc;

	if ((rc = sub_hdr(c, b, VPNR__V1_PL_T, VPNR__V1_PL_T, np, &t)) != 0)
		return rc;
	if (sa->n_t >= VPNR__V1_MAX_TRANSFORMS)
		return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_T, at);
	tr = &sa->t[sa->n_t];
	tr->n_attr = 0;
	vpnr__rbuf_get_u8(&t, &tr->num);
	vpnr__rbuf_get_u8(&t, &tr->id);
	if (vpnr__rbuf_get_u16(&t, &res2) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_T, at);
	if (res2 != 0)
		return perr(c->err, V1E_RESERVED, VPNR__V1_PL_T, at + 6);
	if ((rc = parse_attrs(c, &t, tr)) != 0)
		return rc;
	sa->n_t++;
	return VPNR_OK;
}

static int
parse_proposal(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_sa *sa,
    uint8_t *np)
{
	struct vpnr__rbuf p;
	struct vpnr__v1_proposal *pp;
	uint8_t ntr = 0, tnp = VPNR__V1_PL_T, i;
	size_t at = off_of(c, b);
	int rc;

	if ((rc = sub_hdr(c, b, VPNR__V1_PL_P, VPNR__V1_PL_P, np, &p)) != 0)
		return rc;
	if (sa->n_p >= VPNR__V1_MAX_PROPOSALS)
		return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_P, at);
	pp = &sa->p[sa->n_p];
	memset(pp, 0, sizeof(*pp));
	vpnr__rbuf_get_u8(&p, &pp->num);
	vpnr__rbuf_get_u8(&p, &pp->protocol);
	vpnr__rbuf_get_u8(&p, &pp->spi_len);
	if (vpnr__rbuf_get_u8(&p, &ntr) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_P, at);
	if (pp->spi_len > VPNR__V1_MAX_SPI)
		return perr(c->err, V1E_SPI_SIZE, VPNR__V1_PL_P, at + 6);
	if (vpnr__rbuf_get_bytes(&p, pp->spi, pp->spi_len) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_P, at + 8);
	if (ntr == 0)
		return perr(c->err, V1E_COUNT, VPNR__V1_PL_P, at + 7);
	pp->first_t = sa->n_t;
	for (i = 0; i < ntr; i++) {
		if (tnp != VPNR__V1_PL_T || vpnr__rbuf_left(&p) == 0)
			return perr(c->err, V1E_COUNT, VPNR__V1_PL_P, at + 7);
		if ((rc = parse_transform(c, &p, sa, &tnp)) != 0)
			return rc;
	}
	/* The last transform ends the proposal, and says so. */
	if (tnp != 0 || vpnr__rbuf_left(&p) != 0)
		return perr(c->err, V1E_COUNT, VPNR__V1_PL_P, at + 7);
	pp->n_t = ntr;
	sa->n_p++;
	return VPNR_OK;
}

static int
parse_sa(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_sa *sa)
{
	uint8_t np = VPNR__V1_PL_P;
	size_t at = off_of(c, b);
	int rc;

	sa->n_p = sa->n_t = 0;
	vpnr__rbuf_get_u32(b, &sa->doi);
	if (vpnr__rbuf_get_u32(b, &sa->situation) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_SA, at);
	if (sa->doi != VPNR__V1_DOI_IPSEC)
		return perr(c->err, V1E_DOI, VPNR__V1_PL_SA, at);
	/* Secrecy/integrity situations add labels we do not parse. */
	if (sa->situation != VPNR__V1_SIT_IDENTITY_ONLY)
		return perr(c->err, V1E_SITUATION, VPNR__V1_PL_SA, at + 4);
	if (vpnr__rbuf_left(b) == 0)
		return perr(c->err, V1E_EMPTY, VPNR__V1_PL_SA, at);
	while (vpnr__rbuf_left(b) > 0) {
		if (np != VPNR__V1_PL_P)
			return perr(c->err, V1E_NESTING, VPNR__V1_PL_SA,
			    off_of(c, b));
		if ((rc = parse_proposal(c, b, sa, &np)) != 0)
			return rc;
	}
	if (np != 0)
		return perr(c->err, V1E_NESTING, VPNR__V1_PL_SA, off_of(c, b));
	return VPNR_OK;
}

/* Data length each ID type must have (else any non-empty). */
static int
id_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case VPNR__V1_ID_IPV4_ADDR:
		return len == 4;
	case VPNR__V1_ID_IPV4_ADDR_SUBNET:
	case VPNR__V1_ID_IPV4_ADDR_RANGE:
		return len == 8;
	case VPNR__V1_ID_IPV6_ADDR:
		return len == 16;
	case VPNR__V1_ID_IPV6_ADDR_SUBNET:
	case VPNR__V1_ID_IPV6_ADDR_RANGE:
		return len == 32;
	}
	return len > 0;
}

static int
parse_id(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_msg *m)
{
	struct vpnr__v1_id *id;
	size_t at = off_of(c, b);

	if (m->n_id >= VPNR__V1_MAX_IDS)
		return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_ID, at);
	id = &m->id[m->n_id];
	id->body = vpnr__rbuf_rest(b);
	id->body_len = vpnr__rbuf_left(b);
	vpnr__rbuf_get_u8(b, &id->type);
	vpnr__rbuf_get_u8(b, &id->proto);
	if (vpnr__rbuf_get_u16(b, &id->port) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_ID, at);
	id->len = vpnr__rbuf_left(b);
	id->data = vpnr__rbuf_rest(b);
	if (!id_len_ok(id->type, id->len))
		return perr(c->err, V1E_ID, VPNR__V1_PL_ID, at);
	vpnr__rbuf_skip(b, id->len);
	m->n_id++;
	return VPNR_OK;
}

static int
parse_notify(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_msg *m)
{
	struct vpnr__v1_notify *n;
	size_t at = off_of(c, b);

	if (m->n_notify >= VPNR__V1_MAX_NOTIFIES)
		return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_N, at);
	n = &m->notify[m->n_notify];
	vpnr__rbuf_get_u32(b, &n->doi);
	vpnr__rbuf_get_u8(b, &n->protocol);
	vpnr__rbuf_get_u8(b, &n->spi_len);
	if (vpnr__rbuf_get_u16(b, &n->type) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_N, at);
	if (n->doi != VPNR__V1_DOI_IPSEC && n->doi != VPNR__V1_DOI_ISAKMP)
		return perr(c->err, V1E_DOI, VPNR__V1_PL_N, at);
	if (n->spi_len > VPNR__V1_MAX_SPI)
		return perr(c->err, V1E_SPI_SIZE, VPNR__V1_PL_N, at + 5);
	if (vpnr__rbuf_get_ptr(b, n->spi_len, &n->spi) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_N, at + 8);
	n->data_len = vpnr__rbuf_left(b);
	n->data = vpnr__rbuf_rest(b);
	vpnr__rbuf_skip(b, n->data_len);
	m->n_notify++;
	return VPNR_OK;
}

static int
parse_delete(struct pctx *c, struct vpnr__rbuf *b, struct vpnr__v1_msg *m)
{
	struct vpnr__v1_delete *d;
	size_t at = off_of(c, b);

	if (m->n_delete >= VPNR__V1_MAX_DELETES)
		return perr(c->err, V1E_TOO_MANY, VPNR__V1_PL_D, at);
	d = &m->del[m->n_delete];
	vpnr__rbuf_get_u32(b, &d->doi);
	vpnr__rbuf_get_u8(b, &d->protocol);
	vpnr__rbuf_get_u8(b, &d->spi_len);
	if (vpnr__rbuf_get_u16(b, &d->n_spi) != 0)
		return perr(c->err, V1E_SHORT, VPNR__V1_PL_D, at);
	if (d->doi != VPNR__V1_DOI_IPSEC && d->doi != VPNR__V1_DOI_ISAKMP)
		return perr(c->err, V1E_DOI, VPNR__V1_PL_D, at);
	if (d->spi_len == 0 || d->spi_len > VPNR__V1_MAX_SPI)
		return perr(c->err, V1E_SPI_SIZE, VPNR__V1_PL_D, at + 5);
	if (d->n_spi == 0 ||
	    vpnr__rbuf_left(b) != (size_t)d->n_spi * d->spi_len)
		return perr(c->err, V1E_COUNT, VPNR__V1_PL_D, at + 6);
	vpnr__rbuf_get_ptr(b, vpnr__rbuf_left(b), &d->spis);
	m->n_delete++;
	return VPNR_OK;
}

static int
add_blob(struct pctx *c, struct vpnr__v1_blob *list, uint8_t *n, uint8_t max,
    uint8_t type, struct vpnr__rbuf *b)
{
	if (*n >= max)
		return perr(c->err, V1E_TOO_MANY, type, off_of(c, b));
	list[*n].type = type;
	list[*n].len = vpnr__rbuf_left(b);
	list[*n].data = vpnr__rbuf_rest(b);
	vpnr__rbuf_skip(b, list[*n].len);
	(*n)++;
	return VPNR_OK;
}

/* Body of one top-level payload (its generic header already read). */
static int
parse_payload(struct pctx *c, uint8_t type, struct vpnr__rbuf *b,
    struct vpnr__v1_msg *m)
{
	size_t at = off_of(c, b), len = vpnr__rbuf_left(b);
	int rc;

	switch (type) {
	case VPNR__V1_PL_SA:
		if (m->has_sa)
			return perr(c->err, V1E_DUPLICATE, type, at);
		m->sa_body = vpnr__rbuf_rest(b);
		m->sa_body_len = len;
		if ((rc = parse_sa(c, b, &m->sa)) != 0)
			return rc;
		m->has_sa = 1;
		return VPNR_OK;
	case VPNR__V1_PL_P:
	case VPNR__V1_PL_T:
		return perr(c->err, V1E_NESTING, type, at);
	case VPNR__V1_PL_KE:
	case VPNR__V1_PL_HASH:
	case VPNR__V1_PL_NONCE:
		if (len == 0)
			return perr(c->err, V1E_EMPTY, type, at);
		if ((type == VPNR__V1_PL_KE && m->has_ke) ||
		    (type == VPNR__V1_PL_HASH && m->has_hash) ||
		    (type == VPNR__V1_PL_NONCE && m->has_nonce))
			return perr(c->err, V1E_DUPLICATE, type, at);
		if (type == VPNR__V1_PL_KE) {
			m->ke = vpnr__rbuf_rest(b);
			m->ke_len = len;
			m->has_ke = 1;
		} else if (type == VPNR__V1_PL_HASH) {
			m->hash = vpnr__rbuf_rest(b);
			m->hash_len = len;
			m->has_hash = 1;
			m->hash_first = m->n_payloads == 0;
		} else {
			if (len < VPNR__V1_MIN_NONCE ||
			    len > VPNR__V1_MAX_NONCE)
				return perr(c->err, V1E_NONCE, type, at);
			m->nonce = vpnr__rbuf_rest(b);
			m->nonce_len = len;
			m->has_nonce = 1;
		}
		return vpnr__rbuf_skip(b, len);
	case VPNR__V1_PL_ID:
		return parse_id(c, b, m);
	case VPNR__V1_PL_N:
		return parse_notify(c, b, m);
	case VPNR__V1_PL_D:
		return parse_delete(c, b, m);
	case VPNR__V1_PL_VID:
		if (len == 0)
			return perr(c->err, V1E_EMPTY, type, at);
		if (m->n_vid < VPNR__V1_MAX_VIDS)
			m->vid_kind[m->n_vid] =
			    (uint8_t)vpnr__v1_vid_kind(vpnr__rbuf_rest(b), len);
		return add_blob(c, m->vid, &m->n_vid, VPNR__V1_MAX_VIDS, type,
		    b);
	case VPNR__V1_PL_NATD:
	case VPNR__V1_PL_NATD_DRAFT:
		if (len == 0)
			return perr(c->err, V1E_EMPTY, type, at);
		return add_blob(c, m->natd, &m->n_natd, VPNR__V1_MAX_NATD, type,
		    b);
	case VPNR__V1_PL_CERT:
	case VPNR__V1_PL_CR:
	case VPNR__V1_PL_SIG:
	case VPNR__V1_PL_ATTR:
	case VPNR__V1_PL_NATOA:
	case VPNR__V1_PL_NATOA_DRAFT:
	case VPNR__V1_PL_FRAG:
		break;
	default:
		m->n_unknown++;
		break;
	}
	return add_blob(c, m->other, &m->n_other, VPNR__V1_MAX_OTHERS, type, b);
}

static int
parse_chain(struct pctx *c, uint8_t first, struct vpnr__rbuf *b,
    struct vpnr__v1_msg *m, int padded)
{
	struct vpnr__rbuf body;
	uint8_t np = first, next = 0, res = 0;
	uint16_t plen;
	size_t at, start = vpnr__rbuf_offset(b), ah = 0;
	int rc;

	while (np != VPNR__V1_PL_NONE) {
		at = off_of(c, b);
		vpnr__rbuf_get_u8(b, &next);
		vpnr__rbuf_get_u8(b, &res);
		if (vpnr__rbuf_get_u16(b, &plen) != 0)
			return perr(c->err, V1E_SHORT, np, at);
		if (res != 0)
			return perr(c->err, V1E_RESERVED, np, at + 1);
		if (plen < 4 || vpnr__rbuf_get_sub(b, plen - 4, &body) != 0)
			return perr(c->err, V1E_PAYLOAD_LENGTH, np, at + 2);
		if (m->n_payloads == UINT8_MAX)
			return perr(c->err, V1E_TOO_MANY, np, at);
		if ((rc = parse_payload(c, np, &body, m)) != 0)
			return rc;
		if (np == VPNR__V1_PL_HASH) {
			m->after_hash = c->base + off_of(c, b);
			ah = vpnr__rbuf_offset(b);
		}
		m->n_payloads++;
		np = next;
	}
	m->chain_len = vpnr__rbuf_offset(b) - start;
	if (m->after_hash != NULL)
		m->after_hash_len = vpnr__rbuf_offset(b) - ah;
	m->pad_len = vpnr__rbuf_left(b);
	if (m->pad_len > 0 && !padded)
		return perr(c->err, V1E_TRAILING, 0, off_of(c, b));
	/* More than 255 bytes is no padding a peer would send. */
	if (m->pad_len > 255)
		return perr(c->err, V1E_PADDING, 0, off_of(c, b));
	return VPNR_OK;
}

int
vpnr__v1_parse(struct vpnr__v1_msg *m, const uint8_t *data, size_t len,
    int flags, struct vpnr__v1_perr *err)
{
	struct vpnr__v1_perr dummy;
	struct vpnr__rbuf b;
	struct pctx c;
	int rc;

	if (err == NULL)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	/* The SA's transform array is large: leave it, clear the rest. */
	memset(m, 0, offsetof(struct vpnr__v1_msg, sa));
	m->sa.doi = m->sa.situation = 0;
	m->sa.n_p = m->sa.n_t = 0;
	memset(&m->sa_body, 0,
	    sizeof(*m) - offsetof(struct vpnr__v1_msg, sa_body));
	if ((rc = vpnr__v1_parse_hdr(&m->hdr, data, len, err)) != VPNR_OK)
		return rc;
	c.base = data;
	c.err = err;
	vpnr__rbuf_init(&b, data, len);
	vpnr__rbuf_skip(&b, VPNR__V1_HDR_LEN);
	m->body = vpnr__rbuf_rest(&b);
	m->body_len = vpnr__rbuf_left(&b);
	if ((m->hdr.flags & VPNR__V1_F_ENC) &&
	    !(flags & VPNR__V1_PARSE_DECRYPTED)) {
		/* Every cipher we know has 8- or 16-byte blocks. */
		if (m->body_len == 0 || m->body_len % 8 != 0)
			return perr(err, V1E_PADDING, 0, VPNR__V1_HDR_LEN);
		m->encrypted = 1;
		return VPNR_OK;
	}
	return parse_chain(&c, m->hdr.next_payload, &b, m,
	    (flags & VPNR__V1_PARSE_DECRYPTED) != 0);
}

const struct vpnr__v1_notify *
vpnr__v1_find_notify(const struct vpnr__v1_msg *m, uint16_t type)
{
	uint8_t i;

	for (i = 0; i < m->n_notify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

int
vpnr__v1_has_vid(const struct vpnr__v1_msg *m, int kind)
{
	uint8_t i;

	for (i = 0; i < m->n_vid; i++)
		if (m->vid_kind[i] == kind)
			return 1;
	return 0;
}

int
vpnr__v1_dpd_seq(const struct vpnr__v1_notify *n, uint32_t *seq)
{
	struct vpnr__rbuf b;

	if (n->type != VPNR__V1_N_DPD_R_U_THERE &&
	    n->type != VPNR__V1_N_DPD_R_U_THERE_ACK)
		return VPNR_ERR_INVALID_ARGUMENT;
	/* RFC 3706 5: SPI is CKY-I | CKY-R, data a 32-bit number. */
	if (n->spi_len != 16 || n->data_len != 4)
		return VPNR_ERR_MALFORMED;
	vpnr__rbuf_init(&b, n->data, n->data_len);
	return vpnr__rbuf_get_u32(&b, seq);
}

/* ---- Builder -------------------------------------------------------- */

static void
bset(struct vpnr__v1_builder *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

void
vpnr__v1_build_begin(struct vpnr__v1_builder *b, struct vpnr__wbuf *w,
    const struct vpnr__v1_hdr *hdr)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = vpnr__wbuf_len(w);
	vpnr__wbuf_put_bytes(w, hdr->cky_i, VPNR__V1_COOKIE);
	vpnr__wbuf_put_bytes(w, hdr->cky_r, VPNR__V1_COOKIE);
	b->prev_np_off = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u8(w, VPNR__V1_PL_NONE);
	vpnr__wbuf_put_u8(w, hdr->version ? hdr->version : VPNR__V1_VERSION);
	vpnr__wbuf_put_u8(w, hdr->exchange);
	vpnr__wbuf_put_u8(w, hdr->flags);
	vpnr__wbuf_put_u32(w, hdr->msg_id);
	vpnr__wbuf_put_u32(w, 0);
	if (w->err != 0)
		bset(b, w->err);
}

/* Generic header of a new top-level payload; *lenoff for the length. */
static void
pl_begin(struct vpnr__v1_builder *b, uint8_t type, size_t *lenoff)
{
	struct vpnr__wbuf *w = b->w;

	vpnr__wbuf_set_u8(w, b->prev_np_off, type);
	b->prev_np_off = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u8(w, VPNR__V1_PL_NONE);
	vpnr__wbuf_put_u8(w, 0);
	*lenoff = vpnr__wbuf_len(w);
	vpnr__wbuf_put_u16(w, 0);
}

static void
len_patch(struct vpnr__v1_builder *b, size_t lenoff)
{
	size_t n = vpnr__wbuf_len(b->w) - (lenoff - 2);

	if (b->w->err != 0) {
		bset(b, b->w->err);
		return;
	}
	if (n > 0xffff) {
		bset(b, VPNR_ERR_INVALID_ARGUMENT);
		return;
	}
	vpnr__wbuf_set_u16(b->w, lenoff, (uint16_t)n);
}

static void
put_pl(struct vpnr__v1_builder *b, uint8_t type, const uint8_t *body,
    size_t len)
{
	size_t lo;

	if (len > 0xffff - 4) {
		bset(b, VPNR_ERR_INVALID_ARGUMENT);
		return;
	}
	pl_begin(b, type, &lo);
	vpnr__wbuf_put_bytes(b->w, body, len);
	len_patch(b, lo);
}

static void
put_attr(struct vpnr__v1_builder *b, const struct vpnr__v1_attr *a)
{
	struct vpnr__wbuf *w = b->w;
	const uint8_t *v = vpnr__v1_attr_bytes(a);

	if ((a->tv && a->len != 2) || (a->val == NULL && a->len > 4)) {
		bset(b, VPNR_ERR_INVALID_ARGUMENT);
		return;
	}
	if (a->tv) {
		vpnr__wbuf_put_u16(w, 0x8000 | a->type);
		vpnr__wbuf_put_bytes(w, v, 2);
	} else {
		vpnr__wbuf_put_u16(w, a->type & 0x7fff);
		vpnr__wbuf_put_u16(w, a->len);
		vpnr__wbuf_put_bytes(w, v, a->len);
	}
}

void
vpnr__v1_add_sa(struct vpnr__v1_builder *b, const struct vpnr__v1_sa *sa)
{
	struct vpnr__wbuf *w = b->w;
	const struct vpnr__v1_proposal *pp;
	const struct vpnr__v1_transform *t;
	size_t lo, plo, tlo;
	uint8_t i, j, k;

	if (sa->n_p == 0 || sa->n_p > VPNR__V1_MAX_PROPOSALS ||
	    sa->n_t > VPNR__V1_MAX_TRANSFORMS) {
		bset(b, VPNR_ERR_INVALID_ARGUMENT);
		return;
	}
	pl_begin(b, VPNR__V1_PL_SA, &lo);
	vpnr__wbuf_put_u32(w, sa->doi);
	vpnr__wbuf_put_u32(w, sa->situation);
	for (i = 0; i < sa->n_p; i++) {
		pp = &sa->p[i];
		if (pp->n_t == 0 || pp->first_t + pp->n_t > sa->n_t ||
		    pp->spi_len > VPNR__V1_MAX_SPI) {
			bset(b, VPNR_ERR_INVALID_ARGUMENT);
			return;
		}
		vpnr__wbuf_put_u8(w, i + 1 < sa->n_p ? VPNR__V1_PL_P : 0);
		vpnr__wbuf_put_u8(w, 0);
		plo = vpnr__wbuf_len(w);
		vpnr__wbuf_put_u16(w, 0);
		vpnr__wbuf_put_u8(w, pp->num);
		vpnr__wbuf_put_u8(w, pp->protocol);
		vpnr__wbuf_put_u8(w, pp->spi_len);
		vpnr__wbuf_put_u8(w, pp->n_t);
		vpnr__wbuf_put_bytes(w, pp->spi, pp->spi_len);
		for (j = 0; j < pp->n_t; j++) {
			t = &sa->t[pp->first_t + j];
			vpnr__wbuf_put_u8(w,
			    j + 1 < pp->n_t ? VPNR__V1_PL_T : 0);
			vpnr__wbuf_put_u8(w, 0);
			tlo = vpnr__wbuf_len(w);
			vpnr__wbuf_put_u16(w, 0);
			vpnr__wbuf_put_u8(w, t->num);
			vpnr__wbuf_put_u8(w, t->id);
			vpnr__wbuf_put_u16(w, 0);
			for (k = 0; k < t->n_attr && k < VPNR__V1_MAX_ATTRS;
			     k++)
				put_attr(b, &t->attr[k]);
			len_patch(b, tlo);
		}
		len_patch(b, plo);
	}
	len_patch(b, lo);
}

void
vpnr__v1_add_ke(struct vpnr__v1_builder *b, const uint8_t *data, size_t len)
{
	put_pl(b, VPNR__V1_PL_KE, data, len);
}

void
vpnr__v1_add_id(struct vpnr__v1_builder *b, uint8_t type, uint8_t proto,
    uint16_t port, const uint8_t *data, size_t len)
{
	size_t lo;

	pl_begin(b, VPNR__V1_PL_ID, &lo);
	vpnr__wbuf_put_u8(b->w, type);
	vpnr__wbuf_put_u8(b->w, proto);
	vpnr__wbuf_put_u16(b->w, port);
	vpnr__wbuf_put_bytes(b->w, data, len);
	len_patch(b, lo);
}

void
vpnr__v1_add_hash(struct vpnr__v1_builder *b, const uint8_t *data, size_t len)
{
	put_pl(b, VPNR__V1_PL_HASH, data, len);
}

void
vpnr__v1_add_hash_slot(struct vpnr__v1_builder *b, size_t len, size_t *off)
{
	size_t lo;

	pl_begin(b, VPNR__V1_PL_HASH, &lo);
	*off = vpnr__wbuf_len(b->w);
	vpnr__wbuf_put_zero(b->w, len);
	len_patch(b, lo);
}

void
vpnr__v1_add_nonce(struct vpnr__v1_builder *b, const uint8_t *data, size_t len)
{
	put_pl(b, VPNR__V1_PL_NONCE, data, len);
}

void
vpnr__v1_add_notify(struct vpnr__v1_builder *b, uint32_t doi, uint8_t protocol,
    const uint8_t *spi, uint8_t spi_len, uint16_t type, const uint8_t *data,
    size_t len)
{
	size_t lo;

	pl_begin(b, VPNR__V1_PL_N, &lo);
	vpnr__wbuf_put_u32(b->w, doi);
	vpnr__wbuf_put_u8(b->w, protocol);
	vpnr__wbuf_put_u8(b->w, spi_len);
	vpnr__wbuf_put_u16(b->w, type);
	vpnr__wbuf_put_bytes(b->w, spi, spi_len);
	vpnr__wbuf_put_bytes(b->w, data, len);
	len_patch(b, lo);
}

void
vpnr__v1_add_delete(struct vpnr__v1_builder *b, uint32_t doi, uint8_t protocol,
    uint8_t spi_len, const uint8_t *spis, uint16_t n_spi)
{
	size_t lo;

	pl_begin(b, VPNR__V1_PL_D, &lo);
	vpnr__wbuf_put_u32(b->w, doi);
	vpnr__wbuf_put_u8(b->w, protocol);
	vpnr__wbuf_put_u8(b->w, spi_len);
	vpnr__wbuf_put_u16(b->w, n_spi);
	vpnr__wbuf_put_bytes(b->w, spis, (size_t)spi_len * n_spi);
	len_patch(b, lo);
}

void
vpnr__v1_add_vid(struct vpnr__v1_builder *b, const uint8_t *data, size_t len)
{
	put_pl(b, VPNR__V1_PL_VID, data, len);
}

void
vpnr__v1_add_natd(struct vpnr__v1_builder *b, uint8_t type, const uint8_t *hash,
    size_t len)
{
	if (type != VPNR__V1_PL_NATD && type != VPNR__V1_PL_NATD_DRAFT) {
		bset(b, VPNR_ERR_INVALID_ARGUMENT);
		return;
	}
	put_pl(b, type, hash, len);
}

void
vpnr__v1_add_raw(struct vpnr__v1_builder *b, uint8_t type, const uint8_t *body,
    size_t len)
{
	put_pl(b, type, body, len);
}

int
vpnr__v1_build_end(struct vpnr__v1_builder *b)
{
	size_t n;

	if (b->w->err != 0)
		bset(b, b->w->err);
	if (b->err != 0)
		return b->err;
	n = vpnr__wbuf_len(b->w) - b->start;
	if (n > VPNR__V1_MAX_MSG)
		return VPNR_ERR_INVALID_ARGUMENT;
	vpnr__wbuf_set_u32(b->w, b->start + 24, (uint32_t)n);
	return b->w->err;
}

/* ---- Encrypted bodies ----------------------------------------------- */

int
vpnr__v1_encrypt(struct vpnr__wbuf *w, size_t start, uint16_t enc,
    const uint8_t *key, size_t klen, const uint8_t *iv, uint8_t *next_iv)
{
	size_t bl = vpnr__v1_cipher_block_len(enc), body, pad, total;
	uint8_t *p;
	int rc;

	if (bl == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (w->err != 0 || vpnr__wbuf_len(w) < start + VPNR__V1_HDR_LEN)
		return VPNR_ERR_INVALID_ARGUMENT;
	body = vpnr__wbuf_len(w) - start - VPNR__V1_HDR_LEN;
	pad = (bl - body % bl) % bl;
	total = VPNR__V1_HDR_LEN + body + pad;
	if (body == 0 || total > VPNR__V1_MAX_MSG)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (vpnr__wbuf_put_zero(w, pad) != 0)
		return w->err;
	if ((p = vpnr__wbuf_ptr(w, start, total)) == NULL)
		return VPNR_ERR_INTERNAL;
	vpnr__wbuf_set_u8(w, start + 19, p[19] | VPNR__V1_F_ENC);
	vpnr__wbuf_set_u32(w, start + 24, (uint32_t)total);
	rc = vpnr__v1_cbc(enc, 1, key, klen, iv, p + VPNR__V1_HDR_LEN,
	    body + pad);
	if (rc == VPNR_OK && next_iv != NULL)
		memcpy(next_iv, p + total - bl, bl);
	return rc;
}

int
vpnr__v1_decrypt(const uint8_t *in, size_t len, uint16_t enc,
    const uint8_t *key, size_t klen, const uint8_t *iv, uint8_t *out,
    size_t cap, size_t *outlen, uint8_t *next_iv, struct vpnr__v1_perr *err)
{
	uint8_t last[VPNR__V1_MAX_BLOCK_LEN];
	size_t bl = vpnr__v1_cipher_block_len(enc);
	int rc;

	*outlen = 0;
	if (bl == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (len < VPNR__V1_HDR_LEN + bl || (len - VPNR__V1_HDR_LEN) % bl != 0)
		return perr(err, V1E_PADDING, 0, VPNR__V1_HDR_LEN);
	if (cap < len)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	/* Saved first: out may be in. */
	memcpy(last, in + len - bl, bl);
	if (out != in)
		memmove(out, in, len);
	rc = vpnr__v1_cbc(enc, 0, key, klen, iv, out + VPNR__V1_HDR_LEN,
	    len - VPNR__V1_HDR_LEN);
	if (rc != VPNR_OK)
		return rc;
	if (next_iv != NULL)
		memcpy(next_iv, last, bl);
	*outlen = len;
	return VPNR_OK;
}

/* ---- Quick Mode IDs <-> selectors ----------------------------------- */

static void
addr_set(vpnr_addr *a, int v6, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = v6 ? VPNR_AF_INET6 : VPNR_AF_INET;
	memcpy(a->bytes, p, v6 ? 16 : 4);
}

/* Prefix length of a contiguous mask, -1 if not contiguous. */
static int
mask_len(const uint8_t *m, size_t n)
{
	size_t i;
	int bits = 0, done = 0, k;

	for (i = 0; i < n; i++)
		for (k = 7; k >= 0; k--) {
			if (m[i] & (1u << k)) {
				if (done)
					return -1;
				bits++;
			} else
				done = 1;
		}
	return bits;
}

int
vpnr__v1_id_to_ts(const struct vpnr__v1_id *id, vpnr_ts *ts)
{
	uint8_t a[16], e[16];
	size_t n, i;
	int v6;

	memset(ts, 0, sizeof(*ts));
	switch (id->type) {
	case VPNR__V1_ID_IPV4_ADDR:
	case VPNR__V1_ID_IPV4_ADDR_SUBNET:
	case VPNR__V1_ID_IPV4_ADDR_RANGE:
		v6 = 0;
		break;
	case VPNR__V1_ID_IPV6_ADDR:
	case VPNR__V1_ID_IPV6_ADDR_SUBNET:
	case VPNR__V1_ID_IPV6_ADDR_RANGE:
		v6 = 1;
		break;
	default:
		return VPNR_ERR_UNSUPPORTED;
	}
	n = v6 ? 16 : 4;
	if (!id_len_ok(id->type, id->len))
		return VPNR_ERR_MALFORMED;
	memcpy(a, id->data, n);
	memcpy(e, id->data, n);
	if (id->type == VPNR__V1_ID_IPV4_ADDR_SUBNET ||
	    id->type == VPNR__V1_ID_IPV6_ADDR_SUBNET) {
		if (mask_len(id->data + n, n) < 0)
			return VPNR_ERR_MALFORMED;
		for (i = 0; i < n; i++) {
			a[i] = id->data[i] & id->data[n + i];
			e[i] = a[i] | (uint8_t)~id->data[n + i];
		}
	} else if (id->type == VPNR__V1_ID_IPV4_ADDR_RANGE ||
	    id->type == VPNR__V1_ID_IPV6_ADDR_RANGE) {
		memcpy(e, id->data + n, n);
		if (memcmp(a, e, n) > 0)
			return VPNR_ERR_MALFORMED;
	}
	addr_set(&ts->addr_start, v6, a);
	addr_set(&ts->addr_end, v6, e);
	ts->ip_proto = id->proto;
	ts->port_start = id->port;
	ts->port_end = id->port == 0 ? 0xffff : id->port;
	return VPNR_OK;
}

int
vpnr__v1_ts_to_id(const vpnr_ts *ts, uint8_t *type, uint8_t *proto,
    uint16_t *port, uint8_t *data, size_t cap, size_t *len)
{
	const uint8_t *s = ts->addr_start.bytes, *e = ts->addr_end.bytes;
	uint8_t m[16];
	size_t n, i;
	int v6, ok = 1;

	if (ts->addr_start.family != ts->addr_end.family)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (ts->addr_start.family == VPNR_AF_INET)
		v6 = 0;
	else if (ts->addr_start.family == VPNR_AF_INET6)
		v6 = 1;
	else
		return VPNR_ERR_INVALID_ARGUMENT;
	n = v6 ? 16 : 4;
	if (cap < 2 * n)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	/* An ID carries one port or all of them (RFC 2407 4.6.2). */
	if (ts->port_start == 0 && ts->port_end == 0xffff)
		*port = 0;
	else if (ts->port_start == ts->port_end)
		*port = ts->port_start;
	else
		return VPNR_ERR_UNSUPPORTED;
	*proto = ts->ip_proto;
	if (memcmp(s, e, n) == 0) {
		*type = v6 ? VPNR__V1_ID_IPV6_ADDR : VPNR__V1_ID_IPV4_ADDR;
		memcpy(data, s, n);
		*len = n;
		return VPNR_OK;
	}
	/* A prefix when start has the host bits 0 and end has them 1. */
	for (i = 0; i < n; i++)
		m[i] = (uint8_t) ~(s[i] ^ e[i]);
	if (mask_len(m, n) < 0)
		ok = 0;
	for (i = 0; ok && i < n; i++)
		if ((s[i] & ~m[i]) != 0 || (e[i] | m[i]) != 0xff)
			ok = 0;
	memcpy(data, s, n);
	if (ok) {
		*type = v6 ? VPNR__V1_ID_IPV6_ADDR_SUBNET :
			     VPNR__V1_ID_IPV4_ADDR_SUBNET;
		memcpy(data + n, m, n);
	} else {
		*type = v6 ? VPNR__V1_ID_IPV6_ADDR_RANGE :
			     VPNR__V1_ID_IPV4_ADDR_RANGE;
		memcpy(data + n, e, n);
	}
	*len = 2 * n;
	return VPNR_OK;
}
