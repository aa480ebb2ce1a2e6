/*
 * IKEv2 codec: builder -> parser round trips of every payload, the
 * malformed inputs of RFC 7296 section 3 (each must be
 * VPNR_ERR_MALFORMED, never a crash), and real strongSwan packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "ike_captures.h"
#include "ike_msg.h"

/* ---- helpers ------------------------------------------------------- */

static void
hdr_init(struct vpnr__ike_hdr *h, uint8_t exchange)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = 0x0102030405060708ULL;
	h->spi_r = 0;
	h->version = 0x20;
	h->exchange = exchange;
	h->flags = VPNR__IKE_F_INITIATOR;
	h->msg_id = 0;
}

static void
ts4(vpnr_ts *ts, const char *s, const char *e, uint8_t proto, uint16_t ps,
    uint16_t pe)
{
	uint32_t a, b;
	int i;

	memset(ts, 0, sizeof(*ts));
	ts->ip_proto = proto;
	ts->port_start = ps;
	ts->port_end = pe;
	ts->addr_start.family = ts->addr_end.family = VPNR_AF_INET;
	a = b = 0;
	for (i = 0; i < 4; i++) {
		a = a << 8 | (uint8_t)s[i];
		b = b << 8 | (uint8_t)e[i];
	}
	memcpy(ts->addr_start.bytes, s, 4);
	memcpy(ts->addr_end.bytes, e, 4);
}

static void
ike_sa(struct vpnr__ike_sa_pl *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->n = 2;
	sa->p[0].num = 1;
	sa->p[0].protocol = VPNR__PROTO_IKE;
	sa->p[0].n_transforms = 4;
	sa->p[0].t[0] =
	    (struct vpnr__ike_transform){ VPNR__TRANS_ENCR, 12, 256 };
	sa->p[0].t[1] = (struct vpnr__ike_transform){ VPNR__TRANS_PRF, 2, 0 };
	sa->p[0].t[2] = (struct vpnr__ike_transform){ VPNR__TRANS_INTEG, 2, 0 };
	sa->p[0].t[3] = (struct vpnr__ike_transform){ VPNR__TRANS_DH, 2, 0 };
	sa->p[1].num = 2;
	sa->p[1].protocol = VPNR__PROTO_IKE;
	sa->p[1].n_transforms = 3;
	sa->p[1].t[0] =
	    (struct vpnr__ike_transform){ VPNR__TRANS_ENCR, 20, 128 };
	sa->p[1].t[1] = (struct vpnr__ike_transform){ VPNR__TRANS_PRF, 5, 0 };
	sa->p[1].t[2] = (struct vpnr__ike_transform){ VPNR__TRANS_DH, 19, 0 };
}

/* Build a message with every (non-SK) payload into w. */
static void
build_full(struct vpnr__wbuf *w)
{
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr h;
	struct vpnr__ike_sa_pl sa;
	uint8_t ke[64], nonce[32], idb[64], auth[20], spis[8];
	vpnr_ts ts[2];
	size_t idl;
	int i;

	for (i = 0; i < 64; i++)
		ke[i] = (uint8_t)i;
	for (i = 0; i < 32; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 20; i++)
		auth[i] = (uint8_t)(0x50 + i);
	for (i = 0; i < 8; i++)
		spis[i] = (uint8_t)(0xc0 + i);
	hdr_init(&h, VPNR__IKE_SA_INIT);
	ike_sa(&sa);
	vpnr__ike_build_begin(&b, w, &h);
	vpnr__ike_add_sa(&b, &sa);
	vpnr__ike_add_ke(&b, 2, ke, sizeof(ke));
	vpnr__ike_add_nonce(&b, nonce, sizeof(nonce));
	idl = vpnr__ike_id_body(1, (const uint8_t *)"\xcb\x00\x71\x01", 4, idb,
	    sizeof(idb));
	assert_int_equal(idl, 8);
	vpnr__ike_add_id(&b, VPNR__PL_IDI, idb, idl);
	idl = vpnr__ike_id_body(2, (const uint8_t *)"peer.example", 12, idb,
	    sizeof(idb));
	vpnr__ike_add_id(&b, VPNR__PL_IDR, idb, idl);
	vpnr__ike_add_auth(&b, VPNR__AUTH_PSK, auth, sizeof(auth));
	vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_NAT_DETECTION_SOURCE_IP,
	    auth, 20);
	vpnr__ike_add_notify(&b, VPNR__PROTO_ESP, spis, 4, VPNR__N_REKEY_SA,
	    NULL, 0);
	vpnr__ike_add_delete(&b, VPNR__PROTO_ESP, 4, spis, 2);
	vpnr__ike_add_delete(&b, VPNR__PROTO_IKE, 0, NULL, 0);
	ts4(&ts[0], "\x0a\x00\x00\x00", "\x0a\xff\xff\xff", 0, 0, 65535);
	ts4(&ts[1], "\xc0\x00\x02\x01", "\xc0\x00\x02\x09", 6, 80, 80);
	vpnr__ike_add_ts(&b, VPNR__PL_TSI, ts, 2);
	memset(&ts[1], 0, sizeof(ts[1]));
	ts[1].addr_start.family = ts[1].addr_end.family = VPNR_AF_INET6;
	ts[1].addr_start.bytes[0] = 0x20;
	ts[1].addr_start.bytes[1] = 0x01;
	ts[1].addr_end.bytes[0] = 0x20;
	ts[1].addr_end.bytes[1] = 0x01;
	memset(ts[1].addr_end.bytes + 2, 0xff, 14);
	ts[1].ip_proto = 17;
	ts[1].port_start = 500;
	ts[1].port_end = 4500;
	vpnr__ike_add_ts(&b, VPNR__PL_TSR, &ts[1], 1);
	assert_int_equal(vpnr__ike_build_end(&b), 0);
}

static int
parse_buf(struct vpnr__ike_msg *m, const uint8_t *p, size_t n)
{
	return vpnr__ike_parse(m, p, n);
}

/* Patch the IKE header length to the buffer's size. */
static void
fix_len(uint8_t *p, size_t n)
{
	p[24] = (uint8_t)(n >> 24);
	p[25] = (uint8_t)(n >> 16);
	p[26] = (uint8_t)(n >> 8);
	p[27] = (uint8_t)n;
}

/* A raw message: header with first payload `first`, then body. */
static size_t
raw_msg(uint8_t *out, size_t cap, uint8_t first, const uint8_t *body,
    size_t blen)
{
	assert_true(28 + blen <= cap);
	memset(out, 0, 28);
	out[0] = 1;
	out[16] = first;
	out[17] = 0x20;
	out[18] = VPNR__IKE_SA_INIT;
	out[19] = VPNR__IKE_F_INITIATOR;
	memcpy(out + 28, body, blen);
	fix_len(out, 28 + blen);
	return 28 + blen;
}

static void
expect_malformed(uint8_t first, const uint8_t *body, size_t blen)
{
	struct vpnr__ike_msg m;
	uint8_t buf[4096];
	size_t n;

	n = raw_msg(buf, sizeof(buf), first, body, blen);
	assert_int_equal(vpnr__ike_parse(&m, buf, n), VPNR_ERR_MALFORMED);
}

static void
expect_ok(uint8_t first, const uint8_t *body, size_t blen,
    struct vpnr__ike_msg *m)
{
	static uint8_t buf[4096];
	size_t n;

	n = raw_msg(buf, sizeof(buf), first, body, blen);
	assert_int_equal(vpnr__ike_parse(m, buf, n), VPNR_OK);
}

/* ---- round trips --------------------------------------------------- */

static void
test_roundtrip_all(void **state)
{
	struct vpnr__wbuf w;
	struct vpnr__ike_msg m;
	const struct vpnr__ike_notify *n;

	(void)state;
	vpnr__wbuf_init(&w, NULL, 0);
	build_full(&w);
	assert_int_equal(parse_buf(&m, w.data, w.len), VPNR_OK);
	assert_int_equal(m.hdr.spi_i, 0x0102030405060708ULL);
	assert_int_equal(m.hdr.exchange, VPNR__IKE_SA_INIT);
	assert_int_equal(m.hdr.flags, VPNR__IKE_F_INITIATOR);
	assert_int_equal(m.hdr.length, w.len);
	assert_int_equal(m.hdr.next_payload, VPNR__PL_SA);
	/* SA */
	assert_true(m.has_sa);
	assert_int_equal(m.sa.n, 2);
	assert_int_equal(m.sa.p[0].num, 1);
	assert_int_equal(m.sa.p[0].protocol, VPNR__PROTO_IKE);
	assert_int_equal(m.sa.p[0].n_transforms, 4);
	assert_int_equal(m.sa.p[0].t[0].type, VPNR__TRANS_ENCR);
	assert_int_equal(m.sa.p[0].t[0].id, 12);
	assert_int_equal(m.sa.p[0].t[0].key_len, 256);
	assert_int_equal(m.sa.p[0].t[3].type, VPNR__TRANS_DH);
	assert_int_equal(m.sa.p[0].t[3].id, 2);
	assert_int_equal(m.sa.p[1].num, 2);
	assert_int_equal(m.sa.p[1].t[0].id, 20);
	assert_int_equal(m.sa.p[1].t[0].key_len, 128);
	assert_int_equal(m.sa.p[1].t[2].id, 19);
	/* KE, nonce */
	assert_true(m.has_ke);
	assert_int_equal(m.ke_group, 2);
	assert_int_equal(m.ke_len, 64);
	assert_int_equal(m.ke_data[63], 63);
	assert_true(m.has_nonce);
	assert_int_equal(m.nonce_len, 32);
	assert_int_equal(m.nonce[0], 0xa0);
	/* IDs */
	assert_true(m.has_idi && m.has_idr);
	assert_int_equal(m.idi_type, 1);
	assert_int_equal(m.idi_body_len, 8);
	assert_int_equal(m.idi_data_len, 4);
	assert_memory_equal(m.idi_data, "\xcb\x00\x71\x01", 4);
	assert_int_equal(m.idr_type, 2);
	assert_int_equal(m.idr_data_len, 12);
	assert_memory_equal(m.idr_data, "peer.example", 12);
	/* AUTH */
	assert_true(m.has_auth);
	assert_int_equal(m.auth_method, VPNR__AUTH_PSK);
	assert_int_equal(m.auth_len, 20);
	/* Notify */
	assert_int_equal(m.n_notify, 2);
	n = vpnr__ike_find_notify(&m, VPNR__N_NAT_DETECTION_SOURCE_IP);
	assert_non_null(n);
	assert_int_equal(n->data_len, 20);
	assert_int_equal(n->spi_len, 0);
	n = vpnr__ike_find_notify(&m, VPNR__N_REKEY_SA);
	assert_non_null(n);
	assert_int_equal(n->protocol, VPNR__PROTO_ESP);
	assert_int_equal(n->spi_len, 4);
	assert_memory_equal(n->spi, "\xc0\xc1\xc2\xc3", 4);
	assert_int_equal(n->data_len, 0);
	assert_null(vpnr__ike_find_notify(&m, VPNR__N_COOKIE));
	/* Delete */
	assert_int_equal(m.n_delete, 2);
	assert_int_equal(m.del[0].protocol, VPNR__PROTO_ESP);
	assert_int_equal(m.del[0].n_spi, 2);
	assert_memory_equal(m.del[0].spis, "\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7",
	    8);
	assert_int_equal(m.del[1].protocol, VPNR__PROTO_IKE);
	assert_int_equal(m.del[1].n_spi, 0);
	/* TS */
	assert_true(m.has_tsi && m.has_tsr);
	assert_int_equal(m.tsi.n, 2);
	assert_int_equal(m.tsi.ts[0].addr_start.family, VPNR_AF_INET);
	assert_int_equal(m.tsi.ts[0].port_end, 65535);
	assert_int_equal(m.tsi.ts[1].ip_proto, 6);
	assert_int_equal(m.tsi.ts[1].port_start, 80);
	assert_memory_equal(m.tsi.ts[1].addr_end.bytes, "\xc0\x00\x02\x09", 4);
	assert_int_equal(m.tsr.n, 1);
	assert_int_equal(m.tsr.ts[0].addr_start.family, VPNR_AF_INET6);
	assert_int_equal(m.tsr.ts[0].ip_proto, 17);
	assert_int_equal(m.tsr.ts[0].port_start, 500);
	assert_int_equal(m.tsr.ts[0].port_end, 4500);
	assert_int_equal(m.tsr.ts[0].addr_end.bytes[15], 0xff);
	assert_false(m.has_sk);
	assert_int_equal(m.unsupported_critical, 0);
	vpnr__wbuf_free(&w);
}

static void
test_roundtrip_sk(void **state)
{
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr h;
	struct vpnr__ike_msg m;
	struct vpnr__wbuf w;
	uint8_t body[48];
	size_t sk_off;
	int i;

	(void)state;
	for (i = 0; i < 48; i++)
		body[i] = (uint8_t)(i * 7);
	vpnr__wbuf_init(&w, NULL, 0);
	hdr_init(&h, VPNR__IKE_AUTH);
	h.msg_id = 1;
	h.spi_r = 0x1122334455667788ULL;
	vpnr__ike_build_begin(&b, &w, &h);
	vpnr__ike_add_notify(&b, 0, NULL, 0, VPNR__N_INITIAL_CONTACT, NULL, 0);
	vpnr__ike_add_sk_begin(&b, VPNR__PL_IDI, &sk_off);
	assert_int_equal(sk_off, 28 + 8 + 4);
	assert_int_equal(vpnr__wbuf_put_bytes(&w, body, sizeof(body)), 0);
	vpnr__ike_sk_finish(&b, sk_off);
	assert_int_equal(vpnr__ike_build_end(&b), 0);
	assert_int_equal(w.len, 28 + 8 + 4 + 48);
	assert_int_equal(parse_buf(&m, w.data, w.len), VPNR_OK);
	assert_int_equal(m.hdr.msg_id, 1);
	assert_int_equal(m.hdr.spi_r, 0x1122334455667788ULL);
	assert_int_equal(m.n_notify, 1);
	assert_true(m.has_sk);
	assert_int_equal(m.sk_next, VPNR__PL_IDI);
	assert_int_equal(m.sk_offset, 36);
	assert_int_equal(m.sk_body_len, 48);
	assert_ptr_equal(m.sk_body, w.data + sk_off);

	/* Nothing may follow SK in the builder. */
	vpnr__ike_add_nonce(&b, body, 32);
	assert_int_equal(vpnr__ike_build_end(&b), VPNR_ERR_INVALID_STATE);
	vpnr__wbuf_free(&w);
}

static void
test_inner_chain(void **state)
{
	struct vpnr__ike_builder b;
	struct vpnr__ike_msg m;
	struct vpnr__ike_sa_pl sa;
	struct vpnr__wbuf w;
	uint8_t idb[32], auth[32];
	vpnr_ts ts;
	size_t idl;

	(void)state;
	memset(auth, 0x33, sizeof(auth));
	memset(&sa, 0, sizeof(sa));
	sa.n = 1;
	sa.p[0].num = 1;
	sa.p[0].protocol = VPNR__PROTO_ESP;
	sa.p[0].spi_len = 4;
	memcpy(sa.p[0].spi, "\xca\xfe\xba\xbe", 4);
	sa.p[0].n_transforms = 2;
	sa.p[0].t[0] =
	    (struct vpnr__ike_transform){ VPNR__TRANS_ENCR, 20, 256 };
	sa.p[0].t[1] = (struct vpnr__ike_transform){ VPNR__TRANS_ESN, 0, 0 };
	ts4(&ts, "\x00\x00\x00\x00", "\xff\xff\xff\xff", 0, 0, 65535);

	vpnr__wbuf_init(&w, NULL, 0);
	vpnr__ike_build_begin_inner(&b, &w);
	idl = vpnr__ike_id_body(1, (const uint8_t *)"\xcb\x00\x71\x01", 4, idb,
	    sizeof(idb));
	vpnr__ike_add_id(&b, VPNR__PL_IDI, idb, idl);
	vpnr__ike_add_auth(&b, VPNR__AUTH_PSK, auth, sizeof(auth));
	vpnr__ike_add_sa(&b, &sa);
	vpnr__ike_add_ts(&b, VPNR__PL_TSI, &ts, 1);
	vpnr__ike_add_ts(&b, VPNR__PL_TSR, &ts, 1);
	assert_int_equal(vpnr__ike_build_end(&b), 0);
	assert_int_equal(vpnr__ike_build_first(&b), VPNR__PL_IDI);

	memset(&m, 0, sizeof(m));
	assert_int_equal(vpnr__ike_parse_chain(&m, VPNR__PL_IDI, w.data, w.len),
	    VPNR_OK);
	assert_true(
	    m.has_idi && m.has_auth && m.has_sa && m.has_tsi && m.has_tsr);
	assert_int_equal(m.idi_body_len, 8);
	assert_memory_equal(m.idi_body, idb, 8);
	assert_int_equal(m.auth_len, 32);
	assert_int_equal(m.sa.p[0].spi_len, 4);
	assert_memory_equal(m.sa.p[0].spi, "\xca\xfe\xba\xbe", 4);
	assert_int_equal(m.sa.p[0].t[1].type, VPNR__TRANS_ESN);
	assert_int_equal(m.tsi.ts[0].addr_end.bytes[3], 0xff);

	/* Adding again to the same msg: duplicate singletons. */
	assert_int_equal(vpnr__ike_parse_chain(&m, VPNR__PL_IDI, w.data, w.len),
	    VPNR_ERR_MALFORMED);
	/* Wrong first type: the IDi body does not parse as a Nonce. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(vpnr__ike_parse_chain(&m, VPNR__PL_NONCE, w.data,
			     w.len),
	    VPNR_ERR_MALFORMED);
	/* An empty chain. */
	memset(&m, 0, sizeof(m));
	assert_int_equal(vpnr__ike_parse_chain(&m, VPNR__PL_NONE, NULL, 0),
	    VPNR_OK);
	vpnr__wbuf_free(&w);
}

static void
test_builder_fixed_too_small(void **state)
{
	struct vpnr__ike_builder b;
	struct vpnr__ike_hdr h;
	struct vpnr__wbuf w;
	uint8_t buf[40], nonce[32];

	(void)state;
	memset(nonce, 1, sizeof(nonce));
	vpnr__wbuf_init_fixed(&w, buf, sizeof(buf));
	hdr_init(&h, VPNR__IKE_SA_INIT);
	vpnr__ike_build_begin(&b, &w, &h);
	vpnr__ike_add_nonce(&b, nonce, sizeof(nonce));
	assert_int_equal(vpnr__ike_build_end(&b), VPNR_ERR_BUFFER_TOO_SMALL);
	/* id_body into too small a buffer */
	assert_int_equal(vpnr__ike_id_body(1, nonce, 8, buf, 10), 0);
}

/* ---- header -------------------------------------------------------- */

static void
test_hdr_malformed(void **state)
{
	struct vpnr__ike_hdr h;
	struct vpnr__ike_msg m;
	struct vpnr__wbuf w;
	uint8_t buf[256];

	(void)state;
	vpnr__wbuf_init(&w, NULL, 0);
	build_full(&w);
	assert_true(w.len < sizeof(buf) + 1024);
	/* truncated header */
	assert_int_equal(vpnr__ike_parse_hdr(&h, w.data, 27),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr__ike_parse(&m, w.data, 0), VPNR_ERR_MALFORMED);
	assert_int_equal(vpnr__ike_parse(&m, NULL, 0), VPNR_ERR_MALFORMED);
	/* truncated message (length field says more) */
	assert_int_equal(vpnr__ike_parse(&m, w.data, w.len - 1),
	    VPNR_ERR_MALFORMED);
	/* header alone of a full message */
	assert_int_equal(vpnr__ike_parse_hdr(&h, w.data, w.len), VPNR_OK);
	assert_int_equal(h.length, w.len);

	memcpy(buf, w.data, 28);
	buf[16] = 0; /* no payloads */
	fix_len(buf, 28);
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_OK);
	/* major version 1 and 3: rejected, header still filled in */
	buf[17] = 0x10;
	assert_int_equal(vpnr__ike_parse_hdr(&h, buf, 28), VPNR_ERR_MALFORMED);
	assert_int_equal(h.version, 0x10);
	assert_int_equal(h.exchange, VPNR__IKE_SA_INIT);
	buf[17] = 0x30;
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_ERR_MALFORMED);
	/* minor version is ignored */
	buf[17] = 0x21;
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_OK);
	buf[17] = 0x20;
	/* length field < 28, > len, < len */
	fix_len(buf, 20);
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_ERR_MALFORMED);
	fix_len(buf, 29);
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_ERR_MALFORMED);
	memset(buf + 28, 0, 4);
	fix_len(buf, 28);
	assert_int_equal(vpnr__ike_parse(&m, buf, 32), VPNR_ERR_MALFORMED);
	fix_len(buf, 0xffffffffu);
	assert_int_equal(vpnr__ike_parse(&m, buf, 28), VPNR_ERR_MALFORMED);
	vpnr__wbuf_free(&w);
}

/* ---- generic payload chain ----------------------------------------- */

static const uint8_t nonce_pl[] = { 0, 0, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	11, 12, 13, 14, 15, 16 };

static void
test_chain_malformed(void **state)
{
	uint8_t b[128];
	struct vpnr__ike_msg m;

	(void)state;
	/* payload length past the end */
	memcpy(b, nonce_pl, sizeof(nonce_pl));
	b[3] = 21;
	expect_malformed(VPNR__PL_NONCE, b, sizeof(nonce_pl));
	/* payload length < 4 */
	b[3] = 3;
	expect_malformed(VPNR__PL_NONCE, b, sizeof(nonce_pl));
	b[3] = 0;
	expect_malformed(VPNR__PL_NONCE, b, sizeof(nonce_pl));
	/* truncated generic header */
	expect_malformed(VPNR__PL_NONCE, b, 3);
	/* next payload announced but nothing follows */
	memcpy(b, nonce_pl, sizeof(nonce_pl));
	b[0] = VPNR__PL_NOTIFY;
	expect_malformed(VPNR__PL_NONCE, b, sizeof(nonce_pl));
	/* trailing garbage after the last payload */
	memcpy(b, nonce_pl, sizeof(nonce_pl));
	b[20] = 0xee;
	expect_malformed(VPNR__PL_NONCE, b, sizeof(nonce_pl) + 1);
	/* a proper nonce parses */
	expect_ok(VPNR__PL_NONCE, nonce_pl, sizeof(nonce_pl), &m);
	assert_int_equal(m.nonce_len, 16);
	/* nonce too short (15) */
	memcpy(b, nonce_pl, sizeof(nonce_pl));
	b[3] = 19;
	expect_malformed(VPNR__PL_NONCE, b, 19);
	/* nonce 256 ok, 257 too long */
	memset(b, 0, sizeof(b));
	{
		uint8_t big[4 + 257];

		memset(big, 0x5a, sizeof(big));
		big[0] = 0;
		big[1] = 0;
		big[2] = (uint8_t)(260 >> 8);
		big[3] = (uint8_t)260;
		expect_ok(VPNR__PL_NONCE, big, 260, &m);
		assert_int_equal(m.nonce_len, 256);
		big[2] = (uint8_t)(261 >> 8);
		big[3] = (uint8_t)261;
		expect_malformed(VPNR__PL_NONCE, big, 261);
	}
}

static void
test_critical_bit(void **state)
{
	/* unknown type 200, critical, then a nonce */
	uint8_t b[64];
	struct vpnr__ike_msg m;

	(void)state;
	b[0] = VPNR__PL_NONCE;
	b[1] = 0x80;
	b[2] = 0;
	b[3] = 8;
	memset(b + 4, 0xab, 4);
	memcpy(b + 8, nonce_pl, sizeof(nonce_pl));
	expect_ok(200, b, 8 + sizeof(nonce_pl), &m);
	assert_int_equal(m.unsupported_critical, 200);
	assert_true(m.has_nonce);
	/* non-critical unknown: skipped */
	b[1] = 0x00;
	expect_ok(200, b, 8 + sizeof(nonce_pl), &m);
	assert_int_equal(m.unsupported_critical, 0);
	assert_true(m.has_nonce);
	/* reserved flag bits other than critical are ignored */
	b[1] = 0x7f;
	expect_ok(200, b, 8 + sizeof(nonce_pl), &m);
	assert_int_equal(m.unsupported_critical, 0);
	/* SKF is treated as unsupported */
	b[0] = 0;
	b[1] = 0x80;
	expect_ok(VPNR__PL_SKF, b, 8, &m);
	assert_int_equal(m.unsupported_critical, VPNR__PL_SKF);
	assert_false(m.has_sk);
	/* skipped known payloads: VID, CERTREQ, CP */
	b[0] = VPNR__PL_CERTREQ;
	b[1] = 0;
	memcpy(b + 8, "\x2f\x00\x00\x08\x04\x00\x00\x00", 8); /* CP */
	b[8] = VPNR__PL_CP;
	memcpy(b + 16, "\x00\x00\x00\x05\x01", 5);
	b[8] = VPNR__PL_CP;
	/* VID -> CERTREQ(next CP) -> CP */
	b[8] = VPNR__PL_CP;
	b[9] = 0;
	b[10] = 0;
	b[11] = 8;
	expect_ok(VPNR__PL_VENDOR, b, 21, &m);
	assert_int_equal(m.unsupported_critical, 0);
}

static void
test_sk_rules(void **state)
{
	uint8_t b[128];
	struct vpnr__ike_msg m;

	(void)state;
	/* SK followed by a nonce: SK not last */
	b[0] = VPNR__PL_IDI;
	b[1] = 0x80;
	b[2] = 0;
	b[3] = 20;
	memset(b + 4, 0x11, 16);
	memcpy(b + 20, nonce_pl, sizeof(nonce_pl));
	expect_malformed(VPNR__PL_SK, b, 20 + sizeof(nonce_pl));
	/* SK last: ok */
	expect_ok(VPNR__PL_SK, b, 20, &m);
	assert_true(m.has_sk);
	assert_int_equal(m.sk_next, VPNR__PL_IDI);
	assert_int_equal(m.sk_offset, 28);
	assert_int_equal(m.sk_body_len, 16);
	/* SK with an empty body */
	b[3] = 4;
	expect_malformed(VPNR__PL_SK, b, 4);
	/* nonce then SK: ok, offset after the nonce */
	memcpy(b, nonce_pl, sizeof(nonce_pl));
	b[0] = VPNR__PL_SK;
	b[20] = 0;
	b[21] = 0;
	b[22] = 0;
	b[23] = 8;
	memset(b + 24, 0x22, 4);
	expect_ok(VPNR__PL_NONCE, b, 28, &m);
	assert_int_equal(m.sk_offset, 48);
	assert_int_equal(m.sk_next, 0);
	/* SK in an inner chain is malformed */
	memset(&m, 0, sizeof(m));
	assert_int_equal(vpnr__ike_parse_chain(&m, VPNR__PL_SK, b + 20, 8),
	    VPNR_ERR_MALFORMED);
}

/* ---- SA ------------------------------------------------------------ */

/* SA payload body with one proposal holding one ENCR transform. */
static size_t
sa_one(uint8_t *b, uint8_t plast, uint8_t pnum, uint8_t tlast,
    uint16_t tlen_field, uint8_t ntrans)
{
	size_t n = 0;

	b[n++] = 0; /* generic header */
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 4 + 8 + 12;
	b[n++] = plast;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 8 + 12;
	b[n++] = pnum;
	b[n++] = VPNR__PROTO_IKE;
	b[n++] = 0;
	b[n++] = ntrans;
	b[n++] = tlast;
	b[n++] = 0;
	b[n++] = (uint8_t)(tlen_field >> 8);
	b[n++] = (uint8_t)tlen_field;
	b[n++] = VPNR__TRANS_ENCR;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 12;
	b[n++] = 0x80;
	b[n++] = 14;
	b[n++] = 0x01;
	b[n++] = 0x00;
	return n;
}

static void
test_sa_malformed(void **state)
{
	struct vpnr__ike_msg m;
	uint8_t b[2048];
	size_t n, i;

	(void)state;
	n = sa_one(b, 0, 1, 0, 12, 1);
	expect_ok(VPNR__PL_SA, b, n, &m);
	assert_int_equal(m.sa.n, 1);
	assert_int_equal(m.sa.p[0].t[0].key_len, 256);
	/* transform length < 8, > proposal, wrong */
	n = sa_one(b, 0, 1, 0, 7, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	n = sa_one(b, 0, 1, 0, 13, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	n = sa_one(b, 0, 1, 0, 8, 1); /* leaves 4 bytes in the proposal */
	expect_malformed(VPNR__PL_SA, b, n);
	/* transform last flag 3 on the last transform, or 1 */
	n = sa_one(b, 0, 1, 3, 12, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	n = sa_one(b, 0, 1, 1, 12, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	/* proposal last flag 2 on the last proposal, or 1 */
	n = sa_one(b, 2, 1, 0, 12, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	n = sa_one(b, 1, 1, 0, 12, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	/* number of transforms wrong (2 announced, 1 present; 0) */
	n = sa_one(b, 0, 1, 0, 12, 2);
	expect_malformed(VPNR__PL_SA, b, n);
	n = sa_one(b, 0, 1, 0, 12, 0);
	expect_malformed(VPNR__PL_SA, b, n);
	/* proposal number 0 */
	n = sa_one(b, 0, 0, 0, 12, 1);
	expect_malformed(VPNR__PL_SA, b, n);
	/* proposal length < 8 */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[7] = 7;
	expect_malformed(VPNR__PL_SA, b, n);
	/* proposal length past the SA payload */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[7] = 21;
	expect_malformed(VPNR__PL_SA, b, n);
	/* bad SPI size */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[10] = 3;
	expect_malformed(VPNR__PL_SA, b, n);
	/* empty SA payload */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[3] = 4;
	expect_malformed(VPNR__PL_SA, b, 4);
	/* Key Length as TLV */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[20] = 0x00;
	b[21] = 14;
	expect_malformed(VPNR__PL_SA, b, n);
	/* duplicate Key Length */
	n = sa_one(b, 0, 1, 0, 16, 1);
	b[3] += 4;
	b[7] += 4;
	memcpy(b + 24, "\x80\x0e\x00\x80", 4);
	expect_malformed(VPNR__PL_SA, b, n + 4);
	/* unknown TV attribute: parsed, marked */
	n = sa_one(b, 0, 1, 0, 12, 1);
	b[21] = 99;
	expect_ok(VPNR__PL_SA, b, n, &m);
	assert_int_equal(m.sa.p[0].t[0].key_len, VPNR__IKE_ATTR_UNKNOWN);
	/* unknown TLV attribute (type 99, empty): parsed, marked */
	n = sa_one(b, 0, 1, 0, 12, 1);
	memcpy(b + 20, "\x00\x63\x00\x00", 4);
	expect_ok(VPNR__PL_SA, b, n, &m);
	assert_int_equal(m.sa.p[0].t[0].key_len, VPNR__IKE_ATTR_UNKNOWN);
	/* TLV attribute longer than the transform */
	memcpy(b + 20, "\x00\x63\x00\x05", 4);
	expect_malformed(VPNR__PL_SA, b, n);

	/* Two proposals numbered 1, 3: bad numbering. */
	{
		uint8_t p[20];

		n = sa_one(b, 2, 1, 0, 12, 1);
		memcpy(p, b + 4, 20);
		p[0] = 0;
		p[4] = 3;
		memcpy(b + n, p, 20);
		b[3] = (uint8_t)(n + 20);
		expect_malformed(VPNR__PL_SA, b, n + 20);
		/* 1, 2 is fine */
		b[n + 4] = 2;
		expect_ok(VPNR__PL_SA, b, n + 20, &m);
		assert_int_equal(m.sa.n, 2);
		/* two proposals starting at 2 */
		b[8] = 2;
		b[n + 4] = 3;
		expect_malformed(VPNR__PL_SA, b, n + 20);
	}
	/* 17 proposals: too many; 16 fine */
	{
		size_t off = 4, k;
		uint8_t p[20];

		n = sa_one(b, 2, 1, 0, 12, 1);
		memcpy(p, b + 4, 20);
		for (k = 0; k < 17; k++) {
			memcpy(b + off, p, 20);
			b[off] = k == 16 ? 0 : 2;
			b[off + 4] = (uint8_t)(k + 1);
			off += 20;
		}
		b[2] = (uint8_t)(off >> 8);
		b[3] = (uint8_t)off;
		expect_malformed(VPNR__PL_SA, b, off);
		off -= 20;
		b[off - 20] = 0;
		b[2] = (uint8_t)(off >> 8);
		b[3] = (uint8_t)off;
		expect_ok(VPNR__PL_SA, b, off, &m);
		assert_int_equal(m.sa.n, 16);
	}
	/* 33 transforms: too many */
	{
		size_t off = 12, k;

		n = sa_one(b, 0, 1, 0, 12, 1);
		for (k = 0; k < 33; k++) {
			memcpy(b + off, "\x03\x00\x00\x08\x03\x00\x00\x02", 8);
			off += 8;
		}
		b[off - 8] = 0;
		b[11] = 33;
		b[6] = (uint8_t)((off - 4) >> 8);
		b[7] = (uint8_t)(off - 4);
		b[2] = (uint8_t)(off >> 8);
		b[3] = (uint8_t)off;
		expect_malformed(VPNR__PL_SA, b, off);
		for (i = 0; i < 1; i++)
			;
	}
	/* duplicate SA */
	{
		n = sa_one(b, 0, 1, 0, 12, 1);
		memcpy(b + n, b, n);
		b[0] = VPNR__PL_SA;
		expect_malformed(VPNR__PL_SA, b, 2 * n);
	}
}

/* ---- KE, ID, AUTH, notify, delete ---------------------------------- */

static void
test_misc_malformed(void **state)
{
	struct vpnr__ike_msg m;
	uint8_t b[1024];
	size_t i;

	(void)state;
	/* duplicate KE */
	memcpy(b, "\x22\x00\x00\x0a\x00\x0e\x00\x00\xaa\xbb", 10);
	memcpy(b + 10, "\x00\x00\x00\x0a\x00\x0e\x00\x00\xaa\xbb", 10);
	expect_malformed(VPNR__PL_KE, b, 20);
	/* single KE fine */
	expect_ok(VPNR__PL_KE, b + 10, 10, &m);
	assert_int_equal(m.ke_group, 14);
	assert_int_equal(m.ke_len, 2);
	/* KE with no data */
	memcpy(b, "\x00\x00\x00\x08\x00\x0e\x00\x00", 8);
	expect_malformed(VPNR__PL_KE, b, 8);
	/* ID with only the type */
	memcpy(b, "\x00\x00\x00\x08\x01\x00\x00\x00", 8);
	expect_malformed(VPNR__PL_IDI, b, 8);
	/* AUTH without data */
	expect_malformed(VPNR__PL_AUTH, b, 8);
	/* notify shorter than its fixed part, SPI past the end */
	memcpy(b, "\x00\x00\x00\x07\x00\x00\x40", 7);
	expect_malformed(VPNR__PL_NOTIFY, b, 7);
	memcpy(b, "\x00\x00\x00\x0a\x03\x04\x40\x00\x01\x02", 10);
	expect_malformed(VPNR__PL_NOTIFY, b, 10);
	/* 33 notifies */
	for (i = 0; i < 33; i++) {
		memcpy(b + i * 8, "\x29\x00\x00\x08\x00\x00\x40\x00", 8);
		if (i == 32)
			b[i * 8] = 0;
	}
	expect_malformed(VPNR__PL_NOTIFY, b, 33 * 8);
	expect_ok(VPNR__PL_NOTIFY, b + 8, 32 * 8, &m);
	assert_int_equal(m.n_notify, 32);
	/* delete: ESP with SPI size 8; count mismatch; IKE with SPIs */
	memcpy(b, "\x00\x00\x00\x10\x03\x08\x00\x01", 8);
	memset(b + 8, 1, 8);
	expect_malformed(VPNR__PL_DELETE, b, 16);
	memcpy(b, "\x00\x00\x00\x10\x03\x04\x00\x03", 8);
	expect_malformed(VPNR__PL_DELETE, b, 16);
	memcpy(b, "\x00\x00\x00\x10\x03\x04\x00\x02", 8);
	expect_ok(VPNR__PL_DELETE, b, 16, &m);
	assert_int_equal(m.del[0].n_spi, 2);
	memcpy(b, "\x00\x00\x00\x0c\x01\x00\x00\x01", 8);
	expect_malformed(VPNR__PL_DELETE, b, 12);
	memcpy(b, "\x00\x00\x00\x08\x09\x00\x00\x00", 8);
	expect_malformed(VPNR__PL_DELETE, b, 8);
}

/* ---- TS ------------------------------------------------------------ */

static size_t
ts_v4(uint8_t *b, uint8_t count, const char *s, const char *e, uint16_t ps,
    uint16_t pe)
{
	size_t n = 0;

	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 8 + 16;
	b[n++] = count;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = VPNR__TS_IPV4_ADDR_RANGE;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = 16;
	b[n++] = (uint8_t)(ps >> 8);
	b[n++] = (uint8_t)ps;
	b[n++] = (uint8_t)(pe >> 8);
	b[n++] = (uint8_t)pe;
	memcpy(b + n, s, 4);
	n += 4;
	memcpy(b + n, e, 4);
	n += 4;
	return n;
}

static void
test_ts_malformed(void **state)
{
	struct vpnr__ike_msg m;
	uint8_t b[256];
	size_t n;

	(void)state;
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	expect_ok(VPNR__PL_TSI, b, n, &m);
	assert_int_equal(m.tsi.n, 1);
	/* address start > end */
	n = ts_v4(b, 1, "\x0a\x00\x00\x09", "\x0a\x00\x00\x01", 0, 65535);
	expect_malformed(VPNR__PL_TSI, b, n);
	/* port start > end (not OPAQUE) */
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 90, 80);
	expect_malformed(VPNR__PL_TSR, b, n);
	/* OPAQUE ports are fine */
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 65535, 0);
	expect_ok(VPNR__PL_TSR, b, n, &m);
	assert_int_equal(m.tsr.ts[0].port_start, 65535);
	/* count 0, count 2 with one selector */
	n = ts_v4(b, 0, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	expect_malformed(VPNR__PL_TSI, b, n);
	n = ts_v4(b, 2, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	expect_malformed(VPNR__PL_TSI, b, n);
	/* selector length not 16 for IPv4 */
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	b[11] = 40;
	expect_malformed(VPNR__PL_TSI, b, n);
	b[11] = 7;
	expect_malformed(VPNR__PL_TSI, b, n);
	/* unknown TS type: skipped */
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	b[8] = 9;
	expect_ok(VPNR__PL_TSI, b, n, &m);
	assert_int_equal(m.tsi.n, 0);
	/* duplicate TSi */
	n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0, 65535);
	memcpy(b + n, b, n);
	b[0] = VPNR__PL_TSI;
	expect_malformed(VPNR__PL_TSI, b, 2 * n);
	/* 17 selectors */
	{
		uint8_t big[8 + 17 * 16];
		size_t k;

		n = ts_v4(b, 1, "\x0a\x00\x00\x01", "\x0a\x00\x00\x09", 0,
		    65535);
		memcpy(big, b, 8);
		for (k = 0; k < 17; k++)
			memcpy(big + 8 + k * 16, b + 8, 16);
		big[4] = 17;
		big[2] = (uint8_t)(sizeof(big) >> 8);
		big[3] = (uint8_t)sizeof(big);
		expect_malformed(VPNR__PL_TSI, big, sizeof(big));
	}
}

/* ---- captured strongSwan packets ----------------------------------- */

static void
test_captures_parse(void **state)
{
	struct vpnr__ike_msg m;
	struct vpnr__wbuf w;
	struct vpnr__ike_builder b;
	size_t i, n_init = 0, n_sk = 0;

	(void)state;
	for (i = 0; i < sizeof(ike_captures) / sizeof(ike_captures[0]); i++) {
		assert_int_equal(vpnr__ike_parse(&m, ike_captures[i].data,
				     ike_captures[i].len),
		    VPNR_OK);
		if (m.hdr.exchange == VPNR__IKE_SA_INIT) {
			assert_true(m.has_sa && m.has_ke && m.has_nonce);
			assert_int_equal(m.sa.n, 1);
			assert_int_equal(m.ke_group, ike_captures[i].expect_dh);
			n_init++;
			/* rebuild from the parse: the same bytes */
			vpnr__wbuf_init(&w, NULL, 0);
			vpnr__ike_build_begin(&b, &w, &m.hdr);
			vpnr__ike_add_sa(&b, &m.sa);
			vpnr__ike_add_ke(&b, m.ke_group, m.ke_data, m.ke_len);
			vpnr__ike_add_nonce(&b, m.nonce, m.nonce_len);
			assert_int_equal(vpnr__ike_build_end(&b), 0);
			assert_true(w.len <= ike_captures[i].len);
			vpnr__wbuf_free(&w);
		} else {
			assert_true(m.has_sk);
			assert_true(m.sk_offset >= 28);
			n_sk++;
		}
	}
	assert_true(n_init >= 4);
	assert_true(n_sk >= 4);
}

/* The first capture: strongSwan IKE_SA_INIT request for
 * aes256-sha1-modp1024. */
static void
test_capture_sa_init_transforms(void **state)
{
	struct vpnr__ike_msg m;
	const struct vpnr__ike_proposal *p;

	(void)state;
	assert_int_equal(vpnr__ike_parse(&m, ike_cap_sa_init_req,
			     sizeof(ike_cap_sa_init_req)),
	    VPNR_OK);
	assert_int_equal(m.hdr.exchange, VPNR__IKE_SA_INIT);
	assert_int_equal(m.hdr.flags, VPNR__IKE_F_INITIATOR);
	assert_int_equal(m.hdr.msg_id, 0);
	assert_int_equal(m.hdr.spi_r, 0);
	assert_int_equal(m.sa.n, 1);
	p = &m.sa.p[0];
	assert_int_equal(p->protocol, VPNR__PROTO_IKE);
	assert_int_equal(p->spi_len, 0);
	assert_int_equal(p->n_transforms, 4);
	assert_int_equal(p->t[0].type, VPNR__TRANS_ENCR);
	assert_int_equal(p->t[0].id, VPNR_ENCR_AES_CBC);
	assert_int_equal(p->t[0].key_len, 256);
	assert_int_equal(p->t[1].type, VPNR__TRANS_INTEG);
	assert_int_equal(p->t[1].id, VPNR_INTEG_HMAC_SHA1_96);
	assert_int_equal(p->t[2].type, VPNR__TRANS_PRF);
	assert_int_equal(p->t[2].id, 2);
	assert_int_equal(p->t[3].type, VPNR__TRANS_DH);
	assert_int_equal(p->t[3].id, 2);
	assert_int_equal(m.ke_group, 2);
	assert_int_equal(m.ke_len, 128);
	assert_true(m.nonce_len >= 16);
	assert_non_null(
	    vpnr__ike_find_notify(&m, VPNR__N_NAT_DETECTION_SOURCE_IP));
	assert_non_null(
	    vpnr__ike_find_notify(&m, VPNR__N_NAT_DETECTION_DESTINATION_IP));
	assert_int_equal(m.unsupported_critical, 0);
}

/* strongSwan's decrypted inner chains */
static void
test_inner_captures(void **state)
{
	const struct ike_inner_capture *c;
	struct vpnr__ike_msg m;
	size_t i, n_auth = 0, n_cc = 0, n_del = 0;

	(void)state;
	for (i = 0;
	     i < sizeof(ike_inner_captures) / sizeof(ike_inner_captures[0]);
	     i++) {
		c = &ike_inner_captures[i];
		memset(&m, 0, sizeof(m));
		assert_int_equal(vpnr__ike_parse_chain(&m, c->first, c->data,
				     c->len),
		    VPNR_OK);
		assert_int_equal(m.unsupported_critical, 0);
		switch (c->exchange) {
		case VPNR__IKE_AUTH:
			assert_true(m.has_idr && m.has_auth && m.has_sa &&
			    m.has_tsi && m.has_tsr);
			assert_int_equal(m.auth_method, VPNR__AUTH_PSK);
			assert_int_equal(m.idr_type, 1); /* ID_IPV4_ADDR */
			/* both sides send IDr = 203.0.113.2 */
			assert_memory_equal(m.idr_data, "\xcb\x00\x71\x02", 4);
			assert_int_equal(m.sa.p[0].protocol, VPNR__PROTO_ESP);
			assert_int_equal(m.sa.p[0].spi_len, 4);
			/* 0.0.0.0/0 both ways */
			assert_int_equal(m.tsi.n, 1);
			assert_int_equal(m.tsi.ts[0].addr_end.bytes[0], 0xff);
			assert_int_equal(m.tsr.ts[0].port_end, 65535);
			if (!c->response) {
				assert_true(m.has_idi);
				assert_memory_equal(m.idi_data,
				    "\xcb\x00\x71\x01", 4);
				assert_non_null(vpnr__ike_find_notify(&m,
				    VPNR__N_INITIAL_CONTACT));
			} else
				assert_int_equal(m.sa.n, 1);
			n_auth++;
			break;
		case VPNR__IKE_CREATE_CHILD_SA:
			assert_true(m.has_sa && m.has_nonce);
			if (m.sa.p[0].protocol == VPNR__PROTO_IKE) {
				/* IKE SA rekey: new SPI, KE */
				assert_int_equal(m.sa.p[0].spi_len, 8);
				assert_true(m.has_ke);
				assert_false(m.has_tsi);
			} else {
				assert_int_equal(m.sa.p[0].spi_len, 4);
				assert_true(m.has_tsi && m.has_tsr);
				if (!c->response)
					assert_non_null(
					    vpnr__ike_find_notify(&m,
						VPNR__N_REKEY_SA));
			}
			n_cc++;
			break;
		case VPNR__IKE_INFORMATIONAL:
			assert_int_equal(m.n_delete, 1);
			n_del++;
			break;
		default:
			fail();
		}
	}
	assert_true(n_auth >= 4);
	assert_true(n_cc >= 8);
	assert_true(n_del >= 2);
}

/*
 * The SK fields of the outer parse, checked against strongSwan's real
 * encryption: the AEAD associated data is the message up to the end of
 * the SK header, the body is IV | ciphertext | ICV.
 */
static void
sk_vector(const uint8_t *msg, size_t len, const uint8_t *ek, size_t eklen,
    const uint8_t *ak, size_t aklen, const uint8_t *plain, size_t plen,
    uint8_t first, int gcm)
{
	struct vpnr__ike_msg m;
	EVP_CIPHER_CTX *cx;
	uint8_t out[1024], mac[EVP_MAX_MD_SIZE], nonce[12];
	unsigned int maclen;
	size_t icv = gcm ? 16 : 12, ivl = gcm ? 8 : 16, ctl;
	int n1, n2;

	assert_int_equal(vpnr__ike_parse(&m, msg, len), VPNR_OK);
	assert_true(m.has_sk);
	assert_int_equal(m.sk_next, first);
	assert_ptr_equal(m.sk_body, msg + m.sk_offset + 4);
	assert_int_equal(m.sk_offset + 4 + m.sk_body_len, len);
	ctl = m.sk_body_len - ivl - icv;
	assert_true(ctl <= sizeof(out));
	cx = EVP_CIPHER_CTX_new();
	assert_non_null(cx);
	if (gcm) {
		memcpy(nonce, ek + eklen - 4, 4);
		memcpy(nonce + 4, m.sk_body, 8);
		assert_int_equal(EVP_DecryptInit_ex(cx, EVP_aes_256_gcm(), NULL,
				     NULL, NULL),
		    1);
		EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
		assert_int_equal(EVP_DecryptInit_ex(cx, NULL, NULL, ek, nonce),
		    1);
		assert_int_equal(EVP_DecryptUpdate(cx, NULL, &n1, msg,
				     (int)(m.sk_offset + 4)),
		    1);
		assert_int_equal(EVP_DecryptUpdate(cx, out, &n1,
				     m.sk_body + ivl, (int)ctl),
		    1);
		EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, 16,
		    (void *)(m.sk_body + ivl + ctl));
		assert_int_equal(EVP_DecryptFinal_ex(cx, out + n1, &n2), 1);
	} else {
		assert_non_null(HMAC(EVP_sha1(), ak, (int)aklen, msg, len - icv,
		    mac, &maclen));
		assert_memory_equal(mac, msg + len - icv, icv);
		assert_int_equal(EVP_DecryptInit_ex(cx, EVP_aes_256_cbc(), NULL,
				     ek, m.sk_body),
		    1);
		EVP_CIPHER_CTX_set_padding(cx, 0);
		assert_int_equal(EVP_DecryptUpdate(cx, out, &n1,
				     m.sk_body + ivl, (int)ctl),
		    1);
		assert_int_equal(EVP_DecryptFinal_ex(cx, out + n1, &n2), 1);
	}
	EVP_CIPHER_CTX_free(cx);
	/* strip padding: last byte is the pad length */
	assert_true((size_t)out[ctl - 1] + 1 <= ctl);
	ctl -= (size_t)out[ctl - 1] + 1;
	assert_int_equal(ctl, plen);
	assert_memory_equal(out, plain, plen);
	assert_int_equal(vpnr__ike_parse_chain(&m, m.sk_next, out, ctl),
	    VPNR_OK);
	assert_true(m.has_idi && m.has_auth && m.has_sa);
}

static void
test_sk_vectors(void **state)
{
	(void)state;
	sk_vector(ike_sk_vec_cbc_msg, sizeof(ike_sk_vec_cbc_msg),
	    ike_sk_vec_cbc_ek, sizeof(ike_sk_vec_cbc_ek), ike_sk_vec_cbc_ak,
	    sizeof(ike_sk_vec_cbc_ak), ike_sk_vec_cbc_plain,
	    sizeof(ike_sk_vec_cbc_plain), IKE_SK_VEC_CBC_FIRST, 0);
	sk_vector(ike_sk_vec_gcm_msg, sizeof(ike_sk_vec_gcm_msg),
	    ike_sk_vec_gcm_ek, sizeof(ike_sk_vec_gcm_ek), NULL, 0,
	    ike_sk_vec_gcm_plain, sizeof(ike_sk_vec_gcm_plain),
	    IKE_SK_VEC_GCM_FIRST, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_roundtrip_sk),
		cmocka_unit_test(test_inner_chain),
		cmocka_unit_test(test_builder_fixed_too_small),
		cmocka_unit_test(test_hdr_malformed),
		cmocka_unit_test(test_chain_malformed),
		cmocka_unit_test(test_critical_bit),
		cmocka_unit_test(test_sk_rules),
		cmocka_unit_test(test_sa_malformed),
		cmocka_unit_test(test_misc_malformed),
		cmocka_unit_test(test_ts_malformed),
		cmocka_unit_test(test_captures_parse),
		cmocka_unit_test(test_capture_sa_init_transforms),
		cmocka_unit_test(test_inner_captures),
		cmocka_unit_test(test_sk_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
