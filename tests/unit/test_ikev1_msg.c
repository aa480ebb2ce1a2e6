/*
 * IKEv1 codec (ipsec/ikev1_msg.c): every payload built, parsed and
 * rebuilt byte for byte; a malformed case for each payload and each
 * header field, with the reason the parser must name; encrypted
 * bodies with IV chaining; Quick Mode IDs to selectors and back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"
#include "crypto_v1.h"
#include "ikev1_msg.h"

/* ---- A hand-made message writer for malformed input ---------------- */

struct mb {
	uint8_t b[4096];
	size_t n;
	size_t np_off; /* where the previous next-payload byte is */
};

static void
mb_hdr(struct mb *m, uint8_t exch, uint8_t flags)
{
	memset(m, 0, sizeof(*m));
	memset(m->b, 0x11, 8);     /* CKY-I */
	memset(m->b + 8, 0x22, 8); /* CKY-R */
	m->np_off = 16;
	m->b[17] = 0x10;
	m->b[18] = exch;
	m->b[19] = flags;
	m->n = 28;
}

/* A payload with the given body; res is the reserved byte. */
static void
mb_pl(struct mb *m, uint8_t type, uint8_t res, const void *body, size_t len)
{
	m->b[m->np_off] = type;
	m->np_off = m->n;
	m->b[m->n] = 0;
	m->b[m->n + 1] = res;
	m->b[m->n + 2] = (uint8_t)((len + 4) >> 8);
	m->b[m->n + 3] = (uint8_t)(len + 4);
	memcpy(m->b + m->n + 4, body, len);
	m->n += 4 + len;
}

static void
mb_end(struct mb *m)
{
	m->b[24] = (uint8_t)(m->n >> 24);
	m->b[25] = (uint8_t)(m->n >> 16);
	m->b[26] = (uint8_t)(m->n >> 8);
	m->b[27] = (uint8_t)m->n;
}

static struct vpnr__v1_msg msg; /* large: not on the stack */

static void
expect_err(struct mb *m, int reason, uint8_t payload)
{
	struct vpnr__v1_perr e;

	assert_int_equal(vpnr__v1_parse(&msg, m->b, m->n, 0, &e),
	    VPNR_ERR_MALFORMED);
	if (e.reason != reason)
		fail_msg("reason %d (%s), want %d (%s)", e.reason,
		    vpnr__v1_perr_str(e.reason), reason,
		    vpnr__v1_perr_str(reason));
	assert_int_equal(e.payload, payload);
	assert_true(e.offset <= m->n);
}

static void
expect_ok(struct mb *m)
{
	struct vpnr__v1_perr e;

	if (vpnr__v1_parse(&msg, m->b, m->n, 0, &e) != VPNR_OK)
		fail_msg("parse failed: %s at %zu", vpnr__v1_perr_str(e.reason),
		    e.offset);
}

/* ---- Full build / parse / rebuild ---------------------------------- */

static const uint8_t ke[128] = { 1, 2, 3 };
static const uint8_t nonce[32] = { 4, 5, 6 };
static const uint8_t hashv[20] = { 7, 8, 9 };
static const uint8_t natd1[20] = { 0xa1 }, natd2[20] = { 0xa2 };
static const uint8_t idi[4] = { 192, 0, 2, 1 };
static const uint8_t idr[8] = { 10, 0, 0, 0, 255, 0, 0, 0 };
static const uint8_t cky16[16] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	0x11, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };
static const uint8_t seq[4] = { 0, 0, 0x30, 0x39 };
static const uint8_t dspis[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t unknown_vid[5] = { 'h', 'e', 'l', 'l', 'o' };
static const uint8_t cert[3] = { 4, 0xaa, 0xbb };
static const uint8_t tlv_life[4] = { 0x00, 0x01, 0x51, 0x80 }; /* 86400 */

static void
mk_sa(struct vpnr__v1_sa *sa)
{
	struct vpnr__v1_transform *t;

	memset(sa, 0, sizeof(*sa));
	sa->doi = VPNR__V1_DOI_IPSEC;
	sa->situation = VPNR__V1_SIT_IDENTITY_ONLY;
	sa->n_p = 2;
	sa->p[0].num = 1;
	sa->p[0].protocol = VPNR__V1_PROTO_ESP;
	sa->p[0].spi_len = 4;
	memcpy(sa->p[0].spi, "\xc0\x01\xd0\x0d", 4);
	sa->p[0].n_t = 2;
	sa->p[1].num = 2;
	sa->p[1].protocol = VPNR__V1_PROTO_ESP;
	sa->p[1].spi_len = 4;
	memcpy(sa->p[1].spi, "\xc0\x01\xd0\x0e", 4);
	sa->p[1].first_t = 2;
	sa->p[1].n_t = 1;
	sa->n_t = 3;
	t = &sa->t[0];
	t->num = 1;
	t->id = 12;
	assert_int_equal(vpnr__v1_attr_tv(t, 1, 1), VPNR_OK);
	assert_int_equal(vpnr__v1_attr_num(t, 2, 86400), VPNR_OK); /* TLV */
	assert_int_equal(vpnr__v1_attr_tv(t, 4, 1), VPNR_OK);
	assert_int_equal(vpnr__v1_attr_tv(t, 6, 256), VPNR_OK);
	t = &sa->t[1];
	t->num = 2;
	t->id = 3;
	/* A TLV pointing at caller memory. */
	t->n_attr = 1;
	t->attr[0].type = 2;
	t->attr[0].len = 4;
	t->attr[0].val = tlv_life;
	t = &sa->t[2];
	t->num = 1;
	t->id = 20;
	assert_int_equal(vpnr__v1_attr_tv(t, 4, 3), VPNR_OK);
}

static void
build_full(struct vpnr__wbuf *w, const struct vpnr__v1_sa *sa)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	const uint8_t *v;
	size_t vl;

	memset(&h, 0, sizeof(h));
	memset(h.cky_i, 0x11, 8);
	memset(h.cky_r, 0x22, 8);
	h.exchange = VPNR__V1_EXCH_AGGRESSIVE;
	h.flags = VPNR__V1_F_COMMIT;
	h.msg_id = 0;
	vpnr__v1_build_begin(&b, w, &h);
	vpnr__v1_add_sa(&b, sa);
	vpnr__v1_add_ke(&b, ke, sizeof(ke));
	vpnr__v1_add_nonce(&b, nonce, sizeof(nonce));
	vpnr__v1_add_id(&b, VPNR__V1_ID_IPV4_ADDR, 17, 500, idi, 4);
	vpnr__v1_add_id(&b, VPNR__V1_ID_IPV4_ADDR_SUBNET, 0, 0, idr, 8);
	vpnr__v1_add_hash(&b, hashv, sizeof(hashv));
	vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ISAKMP,
	    cky16, 16, VPNR__V1_N_INITIAL_CONTACT, NULL, 0);
	vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ISAKMP,
	    cky16, 16, VPNR__V1_N_DPD_R_U_THERE, seq, 4);
	vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ESP, dspis,
	    4, VPNR__V1_N_RESPONDER_LIFETIME, tlv_life, 4);
	vpnr__v1_add_delete(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ESP, 4,
	    dspis, 2);
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_NATT_RFC3947, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_DPD, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_STRONGSWAN, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	vpnr__v1_add_vid(&b, unknown_vid, sizeof(unknown_vid));
	vpnr__v1_add_natd(&b, VPNR__V1_PL_NATD, natd1, 20);
	vpnr__v1_add_natd(&b, VPNR__V1_PL_NATD, natd2, 20);
	vpnr__v1_add_raw(&b, VPNR__V1_PL_CERT, cert, sizeof(cert));
	vpnr__v1_add_raw(&b, 200, cert, sizeof(cert)); /* unknown type */
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_OK);
}

/* Rebuild from a parsed message, in the order build_full uses. */
static void
rebuild(struct vpnr__wbuf *w, const struct vpnr__v1_msg *m)
{
	struct vpnr__v1_builder b;
	uint8_t i, k;

	vpnr__v1_build_begin(&b, w, &m->hdr);
	if (m->has_sa)
		vpnr__v1_add_sa(&b, &m->sa);
	if (m->has_ke)
		vpnr__v1_add_ke(&b, m->ke, m->ke_len);
	if (m->has_nonce)
		vpnr__v1_add_nonce(&b, m->nonce, m->nonce_len);
	for (i = 0; i < m->n_id; i++)
		vpnr__v1_add_id(&b, m->id[i].type, m->id[i].proto,
		    m->id[i].port, m->id[i].data, m->id[i].len);
	if (m->has_hash)
		vpnr__v1_add_hash(&b, m->hash, m->hash_len);
	for (i = 0; i < m->n_notify; i++)
		vpnr__v1_add_notify(&b, m->notify[i].doi, m->notify[i].protocol,
		    m->notify[i].spi, m->notify[i].spi_len, m->notify[i].type,
		    m->notify[i].data, m->notify[i].data_len);
	for (i = 0; i < m->n_delete; i++)
		vpnr__v1_add_delete(&b, m->del[i].doi, m->del[i].protocol,
		    m->del[i].spi_len, m->del[i].spis, m->del[i].n_spi);
	for (i = 0; i < m->n_vid; i++)
		vpnr__v1_add_vid(&b, m->vid[i].data, m->vid[i].len);
	for (i = 0; i < m->n_natd; i++)
		vpnr__v1_add_natd(&b, m->natd[i].type, m->natd[i].data,
		    m->natd[i].len);
	for (k = 0; k < m->n_other; k++)
		vpnr__v1_add_raw(&b, m->other[k].type, m->other[k].data,
		    m->other[k].len);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_OK);
}

static struct vpnr__v1_sa sa_in;

static void
test_roundtrip_all(void **state)
{
	struct vpnr__wbuf w, w2;
	struct vpnr__v1_perr e;
	const struct vpnr__v1_notify *n;
	uint64_t v;
	uint32_t s;

	(void)state;
	mk_sa(&sa_in);
	vpnr__wbuf_init(&w, NULL, 65535);
	build_full(&w, &sa_in);
	assert_true(vpnr__v1_is_v1(vpnr__wbuf_data(&w), vpnr__wbuf_len(&w)));
	assert_int_equal(vpnr__v1_parse(&msg, vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), 0, &e),
	    VPNR_OK);
	assert_int_equal(e.reason, V1E_NONE);
	assert_int_equal(msg.hdr.exchange, VPNR__V1_EXCH_AGGRESSIVE);
	assert_int_equal(msg.hdr.flags, VPNR__V1_F_COMMIT);
	assert_int_equal(msg.hdr.version, VPNR__V1_VERSION);
	assert_int_equal(msg.n_payloads, 18);
	assert_int_equal(msg.chain_len, vpnr__wbuf_len(&w) - 28);
	assert_int_equal(msg.pad_len, 0);
	/* SA */
	assert_true(msg.has_sa);
	assert_int_equal(msg.sa.n_p, 2);
	assert_int_equal(msg.sa.n_t, 3);
	assert_int_equal(msg.sa.p[1].first_t, 2);
	assert_memory_equal(msg.sa.p[1].spi, "\xc0\x01\xd0\x0e", 4);
	assert_int_equal(msg.sa.t[0].n_attr, 4);
	assert_true(msg.sa.t[0].attr[0].tv);
	assert_false(msg.sa.t[0].attr[1].tv);
	assert_int_equal(vpnr__v1_attr_value(&msg.sa.t[0].attr[1], &v),
	    VPNR_OK);
	assert_int_equal(v, 86400);
	assert_int_equal(vpnr__v1_attr_value(&msg.sa.t[0].attr[3], &v),
	    VPNR_OK);
	assert_int_equal(v, 256);
	assert_int_equal(msg.sa.t[2].id, 20);
	assert_int_equal(msg.sa_body_len,
	    4 + 4 + (8 + 4 + 8 + 20 + 8 + 8) + (8 + 4 + 8 + 4));
	/* KE, NONCE, IDs, HASH */
	assert_int_equal(msg.ke_len, 128);
	assert_memory_equal(msg.ke, ke, 128);
	assert_int_equal(msg.nonce_len, 32);
	assert_int_equal(msg.n_id, 2);
	assert_int_equal(msg.id[0].type, VPNR__V1_ID_IPV4_ADDR);
	assert_int_equal(msg.id[0].proto, 17);
	assert_int_equal(msg.id[0].port, 500);
	assert_int_equal(msg.id[0].body_len, 8);
	assert_memory_equal(msg.id[0].body, "\x01\x11\x01\xf4", 4);
	assert_int_equal(msg.id[1].len, 8);
	assert_true(msg.has_hash);
	assert_false(msg.hash_first);
	assert_int_equal(msg.hash_len, 20);
	/* N (three), D, VID, NAT-D, others */
	assert_int_equal(msg.n_notify, 3);
	assert_non_null(vpnr__v1_find_notify(&msg, VPNR__V1_N_INITIAL_CONTACT));
	assert_non_null(
	    n = vpnr__v1_find_notify(&msg, VPNR__V1_N_DPD_R_U_THERE));
	assert_int_equal(vpnr__v1_dpd_seq(n, &s), VPNR_OK);
	assert_int_equal(s, 12345);
	assert_memory_equal(n->spi, cky16, 16);
	assert_non_null(
	    n = vpnr__v1_find_notify(&msg, VPNR__V1_N_RESPONDER_LIFETIME));
	assert_int_equal(n->protocol, VPNR__V1_PROTO_ESP);
	assert_int_equal(n->data_len, 4);
	assert_int_equal(vpnr__v1_dpd_seq(n, &s), VPNR_ERR_INVALID_ARGUMENT);
	assert_null(vpnr__v1_find_notify(&msg, VPNR__V1_N_DPD_R_U_THERE_ACK));
	assert_int_equal(msg.n_delete, 1);
	assert_int_equal(msg.del[0].n_spi, 2);
	assert_memory_equal(msg.del[0].spis, dspis, 8);
	assert_int_equal(msg.n_vid, 4);
	assert_true(vpnr__v1_has_vid(&msg, VPNR__V1_VID_NATT_RFC3947));
	assert_true(vpnr__v1_has_vid(&msg, VPNR__V1_VID_DPD));
	assert_true(vpnr__v1_has_vid(&msg, VPNR__V1_VID_STRONGSWAN));
	assert_false(vpnr__v1_has_vid(&msg, VPNR__V1_VID_CISCO_UNITY));
	assert_int_equal(msg.vid_kind[3], VPNR__V1_VID_OTHER);
	assert_int_equal(msg.n_natd, 2);
	assert_memory_equal(msg.natd[1].data, natd2, 20);
	assert_int_equal(msg.n_other, 2);
	assert_int_equal(msg.n_unknown, 1);
	assert_int_equal(msg.other[1].type, 200);

	/* Rebuild: byte for byte the same. */
	vpnr__wbuf_init(&w2, NULL, 65535);
	rebuild(&w2, &msg);
	assert_int_equal(vpnr__wbuf_len(&w2), vpnr__wbuf_len(&w));
	assert_memory_equal(vpnr__wbuf_data(&w2), vpnr__wbuf_data(&w),
	    vpnr__wbuf_len(&w));
	vpnr__wbuf_free(&w2);
	vpnr__wbuf_free(&w);
}

/* ---- Malformed: header --------------------------------------------- */

static void
test_bad_header(void **state)
{
	struct mb m;
	struct vpnr__v1_hdr h;

	(void)state;
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_end(&m);
	expect_ok(&m);
	assert_int_equal(msg.n_payloads, 0);
	m.n = 27;
	expect_err(&m, V1E_SHORT, 0);
	m.n = 28;
	m.b[17] = 0x20; /* IKEv2 */
	expect_err(&m, V1E_VERSION, 0);
	assert_false(vpnr__v1_is_v1(m.b, m.n));
	m.b[17] = 0x10;
	m.b[19] = 0x08;
	expect_err(&m, V1E_FLAGS, 0);
	m.b[19] = 0;
	m.b[27] = 29;
	expect_err(&m, V1E_LENGTH, 0);
	/* The header parser alone fills the header even when it fails. */
	assert_int_equal(vpnr__v1_parse_hdr(&h, m.b, m.n, NULL),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.exchange, VPNR__V1_EXCH_MAIN);
}

/* ---- Malformed: generic payload header ----------------------------- */

static void
test_bad_generic(void **state)
{
	struct mb m;
	uint8_t k[8] = { 1 };

	(void)state;
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_KE, 1, k, 8);
	mb_end(&m);
	expect_err(&m, V1E_RESERVED, VPNR__V1_PL_KE);
	m.b[29] = 0;
	expect_ok(&m);
	m.b[31] = 3; /* length < 4 */
	expect_err(&m, V1E_PAYLOAD_LENGTH, VPNR__V1_PL_KE);
	m.b[31] = 13; /* beyond the message */
	expect_err(&m, V1E_PAYLOAD_LENGTH, VPNR__V1_PL_KE);
	m.b[31] = 12;
	m.b[28] = VPNR__V1_PL_NONCE; /* chain claims more */
	expect_err(&m, V1E_SHORT, VPNR__V1_PL_NONCE);
	m.b[28] = 0;
	/* trailing garbage after the chain of a clear message */
	m.b[m.n++] = 0;
	mb_end(&m);
	expect_err(&m, V1E_TRAILING, 0);
	/* P and T outside an SA */
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_P, 0, k, 8);
	mb_end(&m);
	expect_err(&m, V1E_NESTING, VPNR__V1_PL_P);
	m.b[16] = VPNR__V1_PL_T;
	expect_err(&m, V1E_NESTING, VPNR__V1_PL_T);
}

/* ---- Malformed: SA / proposal / transform / attributes ------------- */

/* An SA body: DOI, situation, one proposal, one transform. */
static size_t
sa_body(uint8_t *p, uint8_t nt)
{
	static const uint8_t b[] = {
		0, 0, 0, 1, 0, 0, 0, 1,  /* DOI IPsec, IDENTITY_ONLY */
		0, 0, 0, 20, 1, 1, 0, 1, /* P: last, len 20, #1 ISAKMP */
		0, 0, 0, 12, 1, 1, 0, 0, /* T: last, len 12, #1 KEY_IKE */
		0x80, 1, 0, 7,           /* ENC = AES-CBC (TV) */
	};

	memcpy(p, b, sizeof(b));
	p[15] = nt;
	return sizeof(b);
}

static void
sa_case(size_t at, uint8_t val, int reason, uint8_t payload)
{
	struct mb m;
	uint8_t b[64];
	size_t n = sa_body(b, 1);

	b[at] = val;
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, n);
	mb_end(&m);
	if (reason == V1E_NONE)
		expect_ok(&m);
	else
		expect_err(&m, reason, payload);
}

static void
test_bad_sa(void **state)
{
	struct mb m;
	uint8_t b[256];
	size_t n, i;

	(void)state;
	sa_case(0, 0, V1E_NONE, 0);
	assert_int_equal(msg.sa.n_p, 1);
	assert_int_equal(msg.sa.t[0].attr[0].type, 1);
	sa_case(3, 2, V1E_DOI, VPNR__V1_PL_SA);
	sa_case(7, 2, V1E_SITUATION, VPNR__V1_PL_SA);
	sa_case(8, VPNR__V1_PL_KE, V1E_NESTING, VPNR__V1_PL_P);
	sa_case(9, 1, V1E_RESERVED, VPNR__V1_PL_P);
	sa_case(11, 3, V1E_PAYLOAD_LENGTH, VPNR__V1_PL_P);
	sa_case(11, 21, V1E_PAYLOAD_LENGTH, VPNR__V1_PL_P);
	sa_case(14, 17, V1E_SPI_SIZE, VPNR__V1_PL_P);
	sa_case(14, 4, V1E_NESTING, VPNR__V1_PL_T); /* SPI eats T's header */
	sa_case(15, 0, V1E_COUNT, VPNR__V1_PL_P);
	sa_case(15, 2, V1E_COUNT, VPNR__V1_PL_P);
	sa_case(16, VPNR__V1_PL_P, V1E_NESTING, VPNR__V1_PL_T);
	sa_case(17, 1, V1E_RESERVED, VPNR__V1_PL_T);
	sa_case(19, 13, V1E_PAYLOAD_LENGTH, VPNR__V1_PL_T);
	sa_case(23, 1, V1E_RESERVED, VPNR__V1_PL_T);
	/* TLV attribute whose length runs past the transform */
	sa_case(24, 0x00, V1E_ATTR, VPNR__V1_PL_T);
	/* Odd attribute tail */
	sa_case(19, 11, V1E_ATTR, VPNR__V1_PL_T);

	/* Empty SA (no proposal). */
	n = sa_body(b, 1);
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, 8);
	mb_end(&m);
	expect_err(&m, V1E_EMPTY, VPNR__V1_PL_SA);
	/* Two SAs. */
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, n);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, n);
	mb_end(&m);
	expect_err(&m, V1E_DUPLICATE, VPNR__V1_PL_SA);
	/* Too many proposals: 9 chained. */
	memcpy(b, "\0\0\0\1\0\0\0\1", 8);
	for (i = 0; i < 9; i++) {
		static const uint8_t p[] = { 2, 0, 0, 16, 1, 1, 0, 1, 0, 0, 0,
			8, 1, 1, 0, 0 };

		memcpy(b + 8 + 16 * i, p, 16);
		if (i == 8)
			b[8 + 16 * i] = 0;
	}
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, 8 + 16 * 9);
	mb_end(&m);
	expect_err(&m, V1E_TOO_MANY, VPNR__V1_PL_P);
	/* 8 is fine */
	b[8 + 16 * 7] = 0;
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, 8 + 16 * 8);
	mb_end(&m);
	expect_ok(&m);
	assert_int_equal(msg.sa.n_p, 8);
	/* Proposal chain says more, but the SA ends. */
	b[8 + 16 * 7] = 2;
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, 8 + 16 * 8);
	mb_end(&m);
	expect_err(&m, V1E_NESTING, VPNR__V1_PL_SA);
	/* Too many attributes (17) in one transform. */
	memcpy(b, "\0\0\0\1\0\0\0\1", 8);
	memcpy(b + 8, "\0\0\0\x54\1\1\0\1", 8);
	memcpy(b + 16, "\0\0\0\x4c\1\1\0\0", 8);
	for (i = 0; i < 17; i++)
		memcpy(b + 24 + 4 * i, "\x80\x01\x00\x07", 4);
	mb_hdr(&m, VPNR__V1_EXCH_MAIN, 0);
	mb_pl(&m, VPNR__V1_PL_SA, 0, b, 24 + 68);
	mb_end(&m);
	expect_err(&m, V1E_TOO_MANY, VPNR__V1_PL_T);
}

/* ---- Malformed: the other payloads --------------------------------- */

static void
one(uint8_t type, const void *body, size_t len, int reason)
{
	struct mb m;

	mb_hdr(&m, VPNR__V1_EXCH_QUICK, 0);
	mb_pl(&m, type, 0, body, len);
	mb_end(&m);
	if (reason == V1E_NONE)
		expect_ok(&m);
	else
		expect_err(&m, reason, type);
}

static void
twice(uint8_t type, const void *body, size_t len, int reason)
{
	struct mb m;

	mb_hdr(&m, VPNR__V1_EXCH_QUICK, 0);
	mb_pl(&m, type, 0, body, len);
	mb_pl(&m, type, 0, body, len);
	mb_end(&m);
	if (reason == V1E_NONE)
		expect_ok(&m);
	else
		expect_err(&m, reason, type);
}

static void
test_bad_payloads(void **state)
{
	uint8_t b[300];
	struct mb m;
	int i;

	(void)state;
	memset(b, 0, sizeof(b));
	/* KE, HASH, NONCE: empty; twice */
	one(VPNR__V1_PL_KE, b, 0, V1E_EMPTY);
	twice(VPNR__V1_PL_KE, b, 8, V1E_DUPLICATE);
	one(VPNR__V1_PL_HASH, b, 0, V1E_EMPTY);
	twice(VPNR__V1_PL_HASH, b, 20, V1E_DUPLICATE);
	one(VPNR__V1_PL_HASH, b, 20, V1E_NONE);
	assert_true(msg.hash_first);
	assert_int_equal(msg.after_hash_len, 0);
	one(VPNR__V1_PL_NONCE, b, 7, V1E_NONCE);
	one(VPNR__V1_PL_NONCE, b, 257, V1E_NONCE);
	one(VPNR__V1_PL_NONCE, b, 8, V1E_NONE);
	one(VPNR__V1_PL_NONCE, b, 256, V1E_NONE);
	twice(VPNR__V1_PL_NONCE, b, 16, V1E_DUPLICATE);
	/* ID: short, wrong length per type, three of them */
	one(VPNR__V1_PL_ID, b, 3, V1E_SHORT);
	b[0] = VPNR__V1_ID_IPV4_ADDR;
	one(VPNR__V1_PL_ID, b, 4 + 5, V1E_ID);
	one(VPNR__V1_PL_ID, b, 4 + 4, V1E_NONE);
	b[0] = VPNR__V1_ID_IPV6_ADDR_SUBNET;
	one(VPNR__V1_PL_ID, b, 4 + 16, V1E_ID);
	b[0] = VPNR__V1_ID_FQDN;
	one(VPNR__V1_PL_ID, b, 4, V1E_ID);
	b[0] = VPNR__V1_ID_KEY_ID;
	one(VPNR__V1_PL_ID, b, 4 + 1, V1E_NONE);
	mb_hdr(&m, VPNR__V1_EXCH_QUICK, 0);
	for (i = 0; i < 3; i++)
		mb_pl(&m, VPNR__V1_PL_ID, 0, b, 5);
	mb_end(&m);
	expect_err(&m, V1E_TOO_MANY, VPNR__V1_PL_ID);
	/* N: bad DOI, SPI size, SPI past the end */
	memset(b, 0, 16);
	b[3] = 7;
	one(VPNR__V1_PL_N, b, 8, V1E_DOI);
	b[3] = 1;
	b[5] = 17;
	one(VPNR__V1_PL_N, b, 8 + 17, V1E_SPI_SIZE);
	b[5] = 16;
	one(VPNR__V1_PL_N, b, 8 + 15, V1E_SHORT);
	one(VPNR__V1_PL_N, b, 7, V1E_SHORT);
	one(VPNR__V1_PL_N, b, 8 + 16 + 4, V1E_NONE);
	mb_hdr(&m, VPNR__V1_EXCH_INFO, 0);
	for (i = 0; i < 9; i++)
		mb_pl(&m, VPNR__V1_PL_N, 0, b, 24);
	mb_end(&m);
	expect_err(&m, V1E_TOO_MANY, VPNR__V1_PL_N);
	/* D: count/size mismatch, SPI size 0, no SPI */
	memset(b, 0, 16);
	b[3] = 1;
	b[4] = 3;
	b[5] = 4;
	b[7] = 2;
	one(VPNR__V1_PL_D, b, 8 + 8, V1E_NONE);
	one(VPNR__V1_PL_D, b, 8 + 7, V1E_COUNT);
	one(VPNR__V1_PL_D, b, 8 + 12, V1E_COUNT);
	b[7] = 0;
	one(VPNR__V1_PL_D, b, 8, V1E_COUNT);
	b[7] = 2;
	b[5] = 0;
	one(VPNR__V1_PL_D, b, 8, V1E_SPI_SIZE);
	b[5] = 4;
	b[3] = 9;
	one(VPNR__V1_PL_D, b, 16, V1E_DOI);
	one(VPNR__V1_PL_D, b, 6, V1E_SHORT);
	/* VID, NAT-D: empty */
	one(VPNR__V1_PL_VID, b, 0, V1E_EMPTY);
	one(VPNR__V1_PL_NATD, b, 0, V1E_EMPTY);
	one(VPNR__V1_PL_NATD_DRAFT, b, 20, V1E_NONE);
	assert_int_equal(msg.natd[0].type, VPNR__V1_PL_NATD_DRAFT);
	/* Unknown types: skipped (counted), up to the limit */
	one(99, b, 0, V1E_NONE);
	assert_int_equal(msg.n_unknown, 1);
	mb_hdr(&m, VPNR__V1_EXCH_QUICK, 0);
	for (i = 0; i < 9; i++)
		mb_pl(&m, 99, 0, b, 1);
	mb_end(&m);
	expect_err(&m, V1E_TOO_MANY, 99);
	/* every reason has a distinct name */
	for (i = 0; i < V1E_REASONS; i++)
		assert_non_null(vpnr__v1_perr_str(i));
	assert_string_equal(vpnr__v1_perr_str(V1E_REASONS), "unknown");
	assert_string_not_equal(vpnr__v1_perr_str(V1E_ID),
	    vpnr__v1_perr_str(V1E_NONCE));
}

/* ---- Encrypted bodies ---------------------------------------------- */

static void
enc_case(uint16_t enc, size_t klen)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__v1_perr e;
	struct vpnr__wbuf w, w2;
	uint8_t key[32], iv[16], iv_tx[16], iv_rx[16], out[1024], nn[16];
	uint8_t *p;
	size_t off, olen, bl = vpnr__v1_cipher_block_len(enc);

	memset(key, 0x5a, sizeof(key));
	memset(iv, 0xa5, sizeof(iv));
	memset(nn, 0x33, sizeof(nn));
	memset(&h, 0, sizeof(h));
	h.exchange = VPNR__V1_EXCH_QUICK;
	h.msg_id = 0x01020304;
	vpnr__wbuf_init(&w, NULL, 65535);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_hash_slot(&b, 20, &off);
	vpnr__v1_add_nonce(&b, nn, 13); /* odd length: needs padding */
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_OK);
	p = vpnr__wbuf_ptr(&w, off, 20);
	assert_non_null(p);
	memset(p, 0xee, 20);
	assert_int_equal(vpnr__wbuf_len(&w), 28 + 24 + 17);
	assert_int_equal(vpnr__v1_encrypt(&w, 0, enc, key, klen, iv, iv_tx),
	    VPNR_OK);
	assert_int_equal((vpnr__wbuf_len(&w) - 28) % bl, 0);
	assert_true(vpnr__wbuf_len(&w) - 28 - 41 < bl);
	/* next IV = last ciphertext block */
	assert_memory_equal(iv_tx,
	    vpnr__wbuf_data(&w) + vpnr__wbuf_len(&w) - bl, bl);

	/* outer parse: encrypted, body not parsed */
	assert_int_equal(vpnr__v1_parse(&msg, vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), 0, &e),
	    VPNR_OK);
	assert_true(msg.encrypted);
	assert_true(msg.hdr.flags & VPNR__V1_F_ENC);
	assert_int_equal(vpnr__v1_decrypt(vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), enc, key, klen, iv, out,
			     sizeof(out), &olen, iv_rx, &e),
	    VPNR_OK);
	assert_memory_equal(iv_rx, iv_tx, bl);
	assert_int_equal(vpnr__v1_parse(&msg, out, olen,
			     VPNR__V1_PARSE_DECRYPTED, &e),
	    VPNR_OK);
	assert_int_equal(msg.pad_len, vpnr__wbuf_len(&w) - 28 - 41);
	assert_true(msg.hash_first);
	assert_int_equal(msg.hash_len, 20);
	assert_int_equal(msg.hash[0], 0xee);
	assert_int_equal(msg.nonce_len, 13);
	/* what HASH(1) covers: the NONCE payload, without padding */
	assert_int_equal(msg.after_hash_len, 17);
	assert_int_equal(msg.after_hash[0], 0);
	assert_int_equal(msg.after_hash[3], 17);
	/* Without E, the same bytes are refused for the padding. */
	out[19] &= ~VPNR__V1_F_ENC;
	if (msg.pad_len > 0) {
		assert_int_equal(vpnr__v1_parse(&msg, out, olen, 0, &e),
		    VPNR_ERR_MALFORMED);
		assert_int_equal(e.reason, V1E_TRAILING);
	}

	/* The next message uses the chained IV. */
	vpnr__wbuf_init(&w2, NULL, 65535);
	h.flags = 0;
	vpnr__v1_build_begin(&b, &w2, &h);
	vpnr__v1_add_nonce(&b, nn, 16);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_OK);
	assert_int_equal(vpnr__v1_encrypt(&w2, 0, enc, key, klen, iv_tx, NULL),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_decrypt(vpnr__wbuf_data(&w2),
			     vpnr__wbuf_len(&w2), enc, key, klen, iv_rx, out,
			     sizeof(out), &olen, NULL, &e),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_parse(&msg, out, olen,
			     VPNR__V1_PARSE_DECRYPTED, &e),
	    VPNR_OK);
	assert_memory_equal(msg.nonce, nn, 16);
	/* ... and the old IV garbles it */
	assert_int_equal(vpnr__v1_decrypt(vpnr__wbuf_data(&w2),
			     vpnr__wbuf_len(&w2), enc, key, klen, iv, out,
			     sizeof(out), &olen, NULL, &e),
	    VPNR_OK);
	assert_memory_not_equal(out + 28, "\0\0\0\x14", 4);
	/* in place works too */
	memcpy(out, vpnr__wbuf_data(&w2), vpnr__wbuf_len(&w2));
	assert_int_equal(vpnr__v1_decrypt(out, vpnr__wbuf_len(&w2), enc, key,
			     klen, iv_rx, out, sizeof(out), &olen, NULL, &e),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_parse(&msg, out, olen,
			     VPNR__V1_PARSE_DECRYPTED, &e),
	    VPNR_OK);
	/* body not a block multiple */
	memset(&e, 0, sizeof(e));
	assert_int_equal(vpnr__v1_decrypt(vpnr__wbuf_data(&w2),
			     vpnr__wbuf_len(&w2) - 1, enc, key, klen, iv, out,
			     sizeof(out), &olen, NULL, &e),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(e.reason, V1E_PADDING);
	assert_int_equal(vpnr__v1_decrypt(vpnr__wbuf_data(&w2),
			     vpnr__wbuf_len(&w2), enc, key, klen, iv, out, 30,
			     &olen, NULL, &e),
	    VPNR_ERR_BUFFER_TOO_SMALL);
	vpnr__wbuf_free(&w2);
	vpnr__wbuf_free(&w);
}

static void
test_encrypted(void **state)
{
	struct mb m;

	(void)state;
	enc_case(VPNR__V1_ENC_AES_CBC, 16);
	enc_case(VPNR__V1_ENC_AES_CBC, 32);
	enc_case(VPNR__V1_ENC_3DES_CBC, 24);
	/* E set, body not a multiple of 8 */
	mb_hdr(&m, VPNR__V1_EXCH_QUICK, VPNR__V1_F_ENC);
	memset(m.b + 28, 0, 12);
	m.n += 12;
	mb_end(&m);
	expect_err(&m, V1E_PADDING, 0);
	m.n -= 12;
	mb_end(&m);
	expect_err(&m, V1E_PADDING, 0);
}

/* ---- IDs and selectors --------------------------------------------- */

static void
test_id_ts(void **state)
{
	struct vpnr__v1_id id;
	vpnr_ts ts;
	uint8_t data[32], type, proto;
	uint16_t port;
	size_t len;
	static const uint8_t sub[8] = { 192, 168, 1, 7, 255, 255, 0, 0 };
	static const uint8_t bad[8] = { 10, 0, 0, 0, 255, 0, 255, 0 };
	static const uint8_t rng[8] = { 10, 0, 0, 5, 10, 0, 0, 9 };

	(void)state;
	memset(&id, 0, sizeof(id));
	id.type = VPNR__V1_ID_IPV4_ADDR_SUBNET;
	id.data = sub;
	id.len = 8;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_OK);
	assert_int_equal(ts.addr_start.family, VPNR_AF_INET);
	assert_memory_equal(ts.addr_start.bytes, "\xc0\xa8\0\0", 4);
	assert_memory_equal(ts.addr_end.bytes, "\xc0\xa8\xff\xff", 4);
	assert_int_equal(ts.port_start, 0);
	assert_int_equal(ts.port_end, 0xffff);
	assert_int_equal(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			     sizeof(data), &len),
	    VPNR_OK);
	assert_int_equal(type, VPNR__V1_ID_IPV4_ADDR_SUBNET);
	assert_int_equal(len, 8);
	assert_memory_equal(data, "\xc0\xa8\0\0\xff\xff\0\0", 8);
	assert_int_equal(port, 0);

	id.data = bad;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_ERR_MALFORMED);
	id.type = VPNR__V1_ID_IPV4_ADDR_RANGE;
	id.data = rng;
	id.proto = 6;
	id.port = 179;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_OK);
	assert_int_equal(ts.ip_proto, 6);
	assert_int_equal(ts.port_start, 179);
	assert_int_equal(ts.port_end, 179);
	assert_int_equal(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			     sizeof(data), &len),
	    VPNR_OK);
	assert_int_equal(type, VPNR__V1_ID_IPV4_ADDR_RANGE);
	assert_memory_equal(data, rng, 8);
	assert_int_equal(proto, 6);
	assert_int_equal(port, 179);
	id.data = (const uint8_t *)"\x0a\0\0\x09\x0a\0\0\x05";
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_ERR_MALFORMED);
	/* one host */
	id.type = VPNR__V1_ID_IPV4_ADDR;
	id.data = sub;
	id.len = 4;
	id.port = 0;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_OK);
	assert_int_equal(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			     sizeof(data), &len),
	    VPNR_OK);
	assert_int_equal(type, VPNR__V1_ID_IPV4_ADDR);
	assert_int_equal(len, 4);
	/* IPv6 /64 */
	assert_int_equal(vpnr_addr_parse(&ts.addr_start, "2001:db8::"),
	    VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&ts.addr_end,
			     "2001:db8::ffff:ffff:ffff:ffff"),
	    VPNR_OK);
	ts.port_start = 0;
	ts.port_end = 0xffff;
	assert_int_equal(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			     sizeof(data), &len),
	    VPNR_OK);
	assert_int_equal(type, VPNR__V1_ID_IPV6_ADDR_SUBNET);
	assert_int_equal(len, 32);
	id.type = type;
	id.data = data;
	id.len = len;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_OK);
	assert_int_equal(ts.addr_end.bytes[15], 0xff);
	assert_int_equal(ts.addr_end.bytes[7], 0);
	/* port ranges cannot be expressed; names are not selectors */
	ts.port_start = 10;
	ts.port_end = 20;
	assert_int_equal(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			     sizeof(data), &len),
	    VPNR_ERR_UNSUPPORTED);
	id.type = VPNR__V1_ID_FQDN;
	assert_int_equal(vpnr__v1_id_to_ts(&id, &ts), VPNR_ERR_UNSUPPORTED);
}

/* ---- Vendor IDs: the table is MD5 of the documented names ---------- */

static void
test_vids(void **state)
{
	static const struct {
		int kind;
		const char *name;
		size_t n; /* bytes of the MD5 that are used */
	} v[] = {
		{ VPNR__V1_VID_NATT_RFC3947, "RFC 3947", 16 },
		{ VPNR__V1_VID_NATT_DRAFT_02, "draft-ietf-ipsec-nat-t-ike-02",
		    16 },
		{ VPNR__V1_VID_NATT_DRAFT_02N,
		    "draft-ietf-ipsec-nat-t-ike-02\n", 16 },
		{ VPNR__V1_VID_NATT_DRAFT_03, "draft-ietf-ipsec-nat-t-ike-03",
		    16 },
		{ VPNR__V1_VID_STRONGSWAN, "strongSwan", 16 },
		{ VPNR__V1_VID_CISCO_UNITY, "CISCO-UNITY", 14 },
		{ VPNR__V1_VID_FRAGMENTATION, "FRAGMENTATION", 16 },
	};
	uint8_t md[16], ext[20];
	unsigned int ol;
	const uint8_t *b;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(EVP_Digest(v[i].name, strlen(v[i].name), md,
				     &ol, EVP_md5(), NULL),
		    1);
		b = vpnr__v1_vid_bytes(v[i].kind, &len);
		assert_non_null(b);
		assert_memory_equal(b, md, v[i].n);
		assert_int_equal(vpnr__v1_vid_kind(b, len), v[i].kind);
	}
	/* DPD (RFC 3706): version bytes 1.0 after 14 fixed bytes */
	b = vpnr__v1_vid_bytes(VPNR__V1_VID_DPD, &len);
	assert_int_equal(len, 16);
	assert_int_equal(b[14], 1);
	assert_int_equal(vpnr__v1_vid_kind(b, 16), VPNR__V1_VID_DPD);
	/* Cisco's FRAGMENTATION VID with capability flags appended */
	b = vpnr__v1_vid_bytes(VPNR__V1_VID_FRAGMENTATION, &len);
	memcpy(ext, b, 16);
	memcpy(ext + 16, "\x80\0\0\0", 4);
	assert_int_equal(vpnr__v1_vid_kind(ext, 20),
	    VPNR__V1_VID_FRAGMENTATION);
	assert_int_equal(vpnr__v1_vid_kind(ext, 10), VPNR__V1_VID_OTHER);
	b = vpnr__v1_vid_bytes(VPNR__V1_VID_XAUTH, &len);
	assert_int_equal(len, 8);
	assert_null(vpnr__v1_vid_bytes(VPNR__V1_VID_OTHER, &len));
	assert_int_equal(len, 0);
}

/* ---- Builder errors ------------------------------------------------ */

static void
test_builder_errors(void **state)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t small[40];
	static uint8_t big[70000];

	(void)state;
	memset(&h, 0, sizeof(h));
	/* fixed buffer too small: sticky error from _end */
	vpnr__wbuf_init_fixed(&w, small, sizeof(small));
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_nonce(&b, big, 32);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_ERR_BUFFER_TOO_SMALL);
	/* a payload over 64 KiB */
	vpnr__wbuf_init(&w, NULL, 1 << 20);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_ke(&b, big, sizeof(big));
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_ERR_INVALID_ARGUMENT);
	vpnr__wbuf_free(&w);
	/* an SA with no proposal; NAT-D of a wrong type */
	mk_sa(&sa_in);
	sa_in.n_p = 0;
	vpnr__wbuf_init(&w, NULL, 65535);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_sa(&b, &sa_in);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_ERR_INVALID_ARGUMENT);
	vpnr__wbuf_reset(&w);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_natd(&b, VPNR__V1_PL_VID, big, 20);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_ERR_INVALID_ARGUMENT);
	vpnr__wbuf_free(&w);
	/* numbers over 32 bits are refused, not truncated */
	memset(&sa_in.t[0], 0, sizeof(sa_in.t[0]));
	assert_int_equal(vpnr__v1_attr_num(&sa_in.t[0], 2, 1ULL << 32),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(sa_in.t[0].n_attr, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_generic),
		cmocka_unit_test(test_bad_sa),
		cmocka_unit_test(test_bad_payloads),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_id_ts),
		cmocka_unit_test(test_vids),
		cmocka_unit_test(test_builder_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
