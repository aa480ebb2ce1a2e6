/*
 * IKEv1 proposals (ipsec/ikev1_proposal.c): strings, Phase 1 and
 * Quick Mode SA payloads over the wire (built, parsed, selected,
 * echoed, accepted), the clouds' defaults (AWS, Alibaba), mismatches
 * and malformed attributes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"
#include "crypto_v1.h"
#include "ikev1_msg.h"
#include "ikev1_proposal.h"

static struct vpnr__v1_msg msg;
static struct vpnr__v1_sa sa, echo;
static uint8_t wire[65536];

static void
parse_ok(struct vpnr__prop *p, uint8_t proto, const char *s)
{
	char err[200];

	if (vpnr__v1_prop_parse(p, proto, s, err, sizeof(err)) != VPNR_OK)
		fail_msg("'%s': %s", s, err);
}

static void
parse_bad(uint8_t proto, const char *s, const char *needle)
{
	struct vpnr__prop p;
	char err[200];

	assert_int_equal(vpnr__v1_prop_parse(&p, proto, s, err, sizeof(err)),
	    VPNR_ERR_INVALID_ARGUMENT);
	if (strstr(err, needle) == NULL)
		fail_msg("'%s': error '%s' lacks '%s'", s, err, needle);
}

/* sa -> wire (one SA payload) -> msg.sa; returns the wire length. */
static size_t
to_wire(const struct vpnr__v1_sa *s)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_perr e;

	memset(&h, 0, sizeof(h));
	h.exchange = VPNR__V1_EXCH_MAIN;
	vpnr__wbuf_init_fixed(&w, wire, sizeof(wire));
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_sa(&b, s);
	assert_int_equal(vpnr__v1_build_end(&b), VPNR_OK);
	assert_int_equal(vpnr__v1_parse(&msg, wire, vpnr__wbuf_len(&w), 0, &e),
	    VPNR_OK);
	assert_true(msg.has_sa);
	return vpnr__wbuf_len(&w);
}

static uint64_t
attr(const struct vpnr__v1_transform *t, uint16_t type, int nth)
{
	uint64_t v;
	uint8_t i;

	for (i = 0; i < t->n_attr; i++)
		if (t->attr[i].type == type && nth-- == 0) {
			assert_int_equal(vpnr__v1_attr_value(&t->attr[i], &v),
			    VPNR_OK);
			return v;
		}
	return 0;
}

static void
test_parse_strings(void **state)
{
	struct vpnr__prop p;

	(void)state;
	parse_ok(&p, VPNR__PROTO_IKE, "aes128-sha1-modp1024");
	assert_int_equal(p.n_encr, 1);
	assert_int_equal(p.encr[0].id, VPNR_ENCR_AES_CBC);
	assert_int_equal(p.encr[0].bits, 128);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA1_96);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA1);
	assert_int_equal(p.dh[0], 2);
	parse_ok(&p, VPNR__PROTO_IKE, "3des-md5-modp1536");
	assert_int_equal(p.encr[0].id, VPNR__V2_ENCR_3DES);
	assert_int_equal(p.integ[0], VPNR__V2_INTEG_HMAC_MD5_96);
	assert_int_equal(p.dh[0], 5);
	parse_ok(&p, VPNR__PROTO_IKE, "AES256-SHA256-prfsha256-MODP2048");
	assert_int_equal(p.n_prf, 1);
	parse_ok(&p, VPNR__PROTO_ESP, "aes256gcm16-modp2048");
	assert_int_equal(p.n_integ, 0);
	assert_int_equal(p.dh[0], 14);
	assert_int_equal(p.esn[0], 0);
	parse_ok(&p, VPNR__PROTO_ESP, "aes128-sha1-esn-noesn");
	assert_int_equal(p.n_esn, 2);
	assert_int_equal(p.n_dh, 0);
	parse_bad(VPNR__PROTO_IKE, "aes256gcm16-prfsha256-modp2048",
	    "AEAD cipher not defined for IKEv1");
	parse_bad(VPNR__PROTO_IKE, "aes128-sha1-prfsha256-modp1024",
	    "PRF differs");
	parse_bad(VPNR__PROTO_IKE, "aes128-sha1-modp999", "'modp999'");
	parse_bad(VPNR__PROTO_IKE, "aes128-sha1", "DH group is mandatory");
	parse_bad(VPNR__PROTO_IKE, "sha1-modp1024", "no encryption");
	parse_bad(VPNR__PROTO_IKE, "aes128-modp1024", "no integrity");
	parse_bad(VPNR__PROTO_IKE, "aes128-sha1-modp1024-esn",
	    "ESN not allowed");
	parse_bad(VPNR__PROTO_ESP, "aes128-sha1-prfsha1", "PRF not allowed");
	parse_bad(VPNR__PROTO_ESP, "aes128gcm16-aes128-sha1",
	    "AEAD and non-AEAD");
	parse_bad(VPNR__PROTO_ESP, "", "empty");
	/* repeated tokens are one algorithm */
	parse_ok(&p, VPNR__PROTO_ESP, "aes128gcm16-aes128gcm128-aes128gcm");
	assert_int_equal(p.n_encr, 1);
	parse_bad(2, "aes128-sha1", "bad protocol");
}

/* AWS's IKEv1 defaults: aes128-sha1-modp1024, 28,800 s. */
static void
test_phase1_aws(void **state)
{
	struct vpnr__prop ours, theirs;
	struct vpnr__v1_p1_suite s, a;
	struct vpnr__v1_life life = { 28800, 0 };
	const struct vpnr__v1_transform *t;

	(void)state;
	parse_ok(&ours, VPNR__PROTO_IKE, "aes128-sha1-modp1024");
	assert_int_equal(vpnr__v1_p1_to_sa(&sa, &ours, 1, &life), VPNR_OK);
	assert_int_equal(sa.n_p, 1);
	assert_int_equal(sa.n_t, 1);
	to_wire(&sa);
	assert_int_equal(msg.sa.p[0].protocol, VPNR__V1_PROTO_ISAKMP);
	assert_int_equal(msg.sa.p[0].spi_len, 0);
	t = &msg.sa.t[0];
	assert_int_equal(t->id, VPNR__V1_KEY_IKE);
	assert_int_equal(attr(t, VPNR__V1_A_ENC, 0), VPNR__V1_ENC_AES_CBC);
	assert_int_equal(attr(t, VPNR__V1_A_KEY_LENGTH, 0), 128);
	assert_int_equal(attr(t, VPNR__V1_A_HASH, 0), VPNR__V1_HASH_SHA1);
	assert_int_equal(attr(t, VPNR__V1_A_AUTH, 0), VPNR__V1_AUTH_PSK);
	assert_int_equal(attr(t, VPNR__V1_A_GROUP, 0), 2);
	assert_int_equal(attr(t, VPNR__V1_A_LIFE_TYPE, 0),
	    VPNR__V1_LIFE_SECONDS);
	assert_int_equal(attr(t, VPNR__V1_A_LIFE_DURATION, 0), 28800);

	/* responder with several proposals picks the peer's one */
	parse_ok(&theirs, VPNR__PROTO_IKE,
	    "aes256-aes128-sha256-sha1-modp2048-modp1024");
	assert_int_equal(vpnr__v1_p1_select(&theirs, 1, &msg.sa, &s), VPNR_OK);
	assert_int_equal(s.enc, VPNR__V1_ENC_AES_CBC);
	assert_int_equal(s.enc_bits, 128);
	assert_int_equal(s.hash, VPNR__V1_HASH_SHA1);
	assert_int_equal(s.group, 2);
	assert_int_equal(s.life.seconds, 28800);
	assert_int_equal(s.t_idx, 0);
	/* the reply echoes it; the initiator accepts it */
	assert_int_equal(vpnr__v1_sa_echo(&echo, &msg.sa, 0, s.t_idx, NULL, 0),
	    VPNR_OK);
	to_wire(&echo);
	assert_int_equal(vpnr__v1_p1_accept(&ours, 1, &msg.sa, &a), VPNR_OK);
	assert_int_equal(a.enc_bits, 128);
	assert_int_equal(a.group, 2);

	/* Alibaba's defaults: aes-sha1-group2, 86,400 s (a TLV). */
	life.seconds = 86400;
	assert_int_equal(vpnr__v1_p1_to_sa(&sa, &ours, 1, &life), VPNR_OK);
	to_wire(&sa);
	assert_int_equal(attr(&msg.sa.t[0], VPNR__V1_A_LIFE_DURATION, 0),
	    86400);
	assert_false(msg.sa.t[0].attr[msg.sa.t[0].n_attr - 1].tv);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s), VPNR_OK);
	assert_int_equal(s.life.seconds, 86400);
}

static void
test_phase1_combinations(void **state)
{
	struct vpnr__prop ours[2], theirs;
	struct vpnr__v1_p1_suite s;
	struct vpnr__v1_life life = { 3600, 1000000 };

	(void)state;
	parse_ok(&ours[0], VPNR__PROTO_IKE,
	    "aes128-aes256-sha1-sha256-modp1024-modp2048");
	parse_ok(&ours[1], VPNR__PROTO_IKE, "3des-md5-modp1536");
	assert_int_equal(vpnr__v1_p1_to_sa(&sa, ours, 2, &life), VPNR_OK);
	assert_int_equal(sa.n_t, 9);
	to_wire(&sa);
	assert_int_equal(msg.sa.p[0].n_t, 9);
	assert_int_equal(msg.sa.t[8].num, 9);
	assert_int_equal(attr(&msg.sa.t[8], VPNR__V1_A_ENC, 0),
	    VPNR__V1_ENC_3DES_CBC);
	assert_int_equal(attr(&msg.sa.t[8], VPNR__V1_A_KEY_LENGTH, 0), 0);
	assert_int_equal(attr(&msg.sa.t[8], VPNR__V1_A_LIFE_TYPE, 1),
	    VPNR__V1_LIFE_KB);
	assert_int_equal(attr(&msg.sa.t[8], VPNR__V1_A_LIFE_DURATION, 1),
	    1000000);
	/* aes256-sha256-modp2048 is transform 8 (index 7) */
	parse_ok(&theirs, VPNR__PROTO_IKE, "aes256-sha256-modp2048");
	assert_int_equal(vpnr__v1_p1_select(&theirs, 1, &msg.sa, &s), VPNR_OK);
	assert_int_equal(s.t_idx, 7);
	assert_int_equal(s.enc_bits, 256);
	assert_int_equal(s.hash, VPNR__V1_HASH_SHA2_256);
	assert_int_equal(s.life.seconds, 3600);
	assert_int_equal(s.life.kbytes, 1000000);
	parse_ok(&theirs, VPNR__PROTO_IKE, "3des-md5-modp1536");
	assert_int_equal(vpnr__v1_p1_select(&theirs, 1, &msg.sa, &s), VPNR_OK);
	assert_int_equal(s.t_idx, 8);
	assert_int_equal(s.enc_bits, 0);
	/* mismatch: no proposal */
	parse_ok(&theirs, VPNR__PROTO_IKE, "aes192-sha384-ecp384");
	assert_int_equal(vpnr__v1_p1_select(&theirs, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* the initiator refuses a reply with several transforms */
	assert_int_equal(vpnr__v1_p1_accept(ours, 2, &msg.sa, &s),
	    VPNR_ERR_MALFORMED);
	/* 3 x 5 x 5 = 75 combinations are more than one SA carries */
	parse_ok(&theirs, VPNR__PROTO_IKE,
	    "aes128-aes192-aes256-md5-sha1-sha256-sha384-sha512-modp1024-"
	    "modp1536-modp2048-ecp256-ecp384");
	assert_int_equal(vpnr__v1_p1_to_sa(&sa, &theirs, 1, NULL),
	    VPNR_ERR_LIMIT);
}

/* Peer transforms we must not choose. */
static void
test_phase1_bad_attrs(void **state)
{
	struct vpnr__prop ours;
	struct vpnr__v1_p1_suite s;
	struct vpnr__v1_transform *t;

	(void)state;
	parse_ok(&ours, VPNR__PROTO_IKE, "aes128-sha1-modp1024");
	assert_int_equal(vpnr__v1_p1_to_sa(&sa, &ours, 1, NULL), VPNR_OK);
	t = &sa.t[0];
	/* base: chosen */
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s), VPNR_OK);
	/* PRF attribute (class 13): we do not do it */
	assert_int_equal(vpnr__v1_attr_tv(t, VPNR__V1_A_PRF, 1), VPNR_OK);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* AES without a key length */
	t->n_attr = 0;
	vpnr__v1_attr_tv(t, VPNR__V1_A_ENC, VPNR__V1_ENC_AES_CBC);
	vpnr__v1_attr_tv(t, VPNR__V1_A_HASH, VPNR__V1_HASH_SHA1);
	vpnr__v1_attr_tv(t, VPNR__V1_A_AUTH, VPNR__V1_AUTH_PSK);
	vpnr__v1_attr_tv(t, VPNR__V1_A_GROUP, 2);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* RSA signatures (auth 3) */
	vpnr__v1_attr_tv(t, VPNR__V1_A_KEY_LENGTH, 128);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s), VPNR_OK);
	t->attr[2].inl[1] = 3;
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	t->attr[2].inl[1] = VPNR__V1_AUTH_PSK;
	/* a duration with no type before it; a zero duration */
	vpnr__v1_attr_num(t, VPNR__V1_A_LIFE_DURATION, 100);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	t->n_attr--;
	vpnr__v1_attr_tv(t, VPNR__V1_A_LIFE_TYPE, VPNR__V1_LIFE_SECONDS);
	vpnr__v1_attr_tv(t, VPNR__V1_A_LIFE_DURATION, 0);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* a basic attribute sent as TLV is refused */
	t->n_attr = 0;
	vpnr__v1_attr_num(t, VPNR__V1_A_ENC, 70000);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* an ESP proposal in a Phase 1 SA is ignored */
	sa.p[0].protocol = VPNR__V1_PROTO_ESP;
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p1_select(&ours, 1, &msg.sa, &s),
	    VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(vpnr__v1_sa_echo(&echo, &msg.sa, 1, 0, NULL, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
}

/* AWS Phase 2: ESP aes128-sha1 with PFS group 2, 3,600 s, NAT. */
static void
test_quick_mode(void **state)
{
	struct vpnr__prop ours, theirs[2];
	struct vpnr__v1_p2_suite s, a;
	struct vpnr__v1_life life = { 3600, 0 };
	static const uint8_t spi_i[4] = { 0xc1, 0, 0, 1 };
	static const uint8_t spi_r[4] = { 0xc2, 0, 0, 2 };
	const struct vpnr__v1_transform *t;

	(void)state;
	parse_ok(&ours, VPNR__PROTO_ESP, "aes128-sha1-modp1024");
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &ours, 1, spi_i,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &life),
	    VPNR_OK);
	to_wire(&sa);
	assert_int_equal(msg.sa.p[0].protocol, VPNR__V1_PROTO_ESP);
	assert_int_equal(msg.sa.p[0].spi_len, 4);
	t = &msg.sa.t[0];
	assert_int_equal(t->id, VPNR__V1_ESP_AES);
	assert_int_equal(attr(t, VPNR__V1_QA_ENCAP, 0),
	    VPNR__V1_ENCAP_UDP_TUNNEL);
	assert_int_equal(attr(t, VPNR__V1_QA_AUTH, 0), VPNR__V1_AA_HMAC_SHA);
	assert_int_equal(attr(t, VPNR__V1_QA_KEY_LENGTH, 0), 128);
	assert_int_equal(attr(t, VPNR__V1_QA_GROUP, 0), 2);
	assert_int_equal(attr(t, VPNR__V1_QA_LIFE_DURATION, 0), 3600);

	parse_ok(&theirs[0], VPNR__PROTO_ESP, "aes256gcm16-modp2048");
	parse_ok(&theirs[1], VPNR__PROTO_ESP, "aes128-sha1-modp1024");
	assert_int_equal(vpnr__v1_p2_select(theirs, 2, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.suite.encr, VPNR_ENCR_AES_CBC);
	assert_int_equal(s.suite.encr_bits, 128);
	assert_int_equal(s.suite.integ, VPNR_INTEG_HMAC_SHA1_96);
	assert_int_equal(s.suite.dh, 2);
	assert_int_equal(s.life.seconds, 3600);
	assert_memory_equal(s.spi, spi_i, 4);
	assert_int_equal(vpnr__v1_esp_keymat_len(&s.suite), 16 + 20);
	/* wrong encapsulation: not chosen */
	assert_int_equal(vpnr__v1_p2_select(theirs, 2, &msg.sa,
			     VPNR__V1_ENCAP_TUNNEL, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* reply with the responder's SPI; the initiator accepts */
	assert_int_equal(vpnr__v1_p2_select(theirs, 2, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_sa_echo(&echo, &msg.sa, s.p_idx, s.t_idx,
			     spi_r, 4),
	    VPNR_OK);
	to_wire(&echo);
	assert_memory_equal(msg.sa.p[0].spi, spi_r, 4);
	assert_int_equal(vpnr__v1_p2_accept(&ours, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &a),
	    VPNR_OK);
	assert_int_equal(a.suite.dh, 2);
	assert_memory_equal(a.spi, spi_r, 4);

	/* PFS both ways */
	parse_ok(&theirs[0], VPNR__PROTO_ESP, "aes128-sha1");
	assert_int_equal(vpnr__v1_p2_accept(theirs, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &a),
	    VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, theirs, 1, spi_i,
			     VPNR__V1_ENCAP_TUNNEL, NULL),
	    VPNR_OK);
	to_wire(&sa);
	assert_int_equal(attr(&msg.sa.t[0], VPNR__V1_QA_GROUP, 0), 0);
	assert_int_equal(vpnr__v1_p2_select(&ours, 1, &msg.sa,
			     VPNR__V1_ENCAP_TUNNEL, &s),
	    VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(vpnr__v1_p2_select(theirs, 1, &msg.sa,
			     VPNR__V1_ENCAP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.suite.dh, 0);
	assert_int_equal(s.life.seconds, 0);
}

static void
test_quick_mode_suites(void **state)
{
	struct vpnr__prop p;
	struct vpnr__v1_p2_suite s;
	struct vpnr__v1_transform *t;
	static const uint8_t spi[4] = { 1, 2, 3, 4 };

	(void)state;
	/* GCM: no auth attribute; keymat key | salt */
	parse_ok(&p, VPNR__PROTO_ESP, "aes256gcm16-esn");
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &p, 1, spi,
			     VPNR__V1_ENCAP_TUNNEL, NULL),
	    VPNR_OK);
	to_wire(&sa);
	assert_int_equal(msg.sa.t[0].id, VPNR__V1_ESP_AES_GCM_16);
	assert_int_equal(attr(&msg.sa.t[0], VPNR__V1_QA_AUTH, 0), 0);
	assert_int_equal(attr(&msg.sa.t[0], VPNR__V1_QA_ESN, 0), 1);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.suite.integ, VPNR_INTEG_NONE);
	assert_int_equal(s.suite.esn, 1);
	assert_int_equal(vpnr__v1_esp_keymat_len(&s.suite), 32 + 4);
	/* 3DES-MD5 */
	parse_ok(&p, VPNR__PROTO_ESP, "3des-md5");
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &p, 1, spi,
			     VPNR__V1_ENCAP_TUNNEL, NULL),
	    VPNR_OK);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.suite.encr, VPNR__V2_ENCR_3DES);
	assert_int_equal(vpnr__v1_esp_keymat_len(&s.suite), 24 + 16);
	/* SHA-2 auth ids (RFC 4868): 256 -> 5 */
	parse_ok(&p, VPNR__PROTO_ESP, "aes256-sha256");
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &p, 1, spi,
			     VPNR__V1_ENCAP_UDP_TUNNEL, NULL),
	    VPNR_OK);
	t = &sa.t[0];
	to_wire(&sa);
	assert_int_equal(attr(&msg.sa.t[0], VPNR__V1_QA_AUTH, 0),
	    VPNR__V1_AA_HMAC_SHA2_256);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_esp_keymat_len(&s.suite), 32 + 32);
	/* the pre-RFC UDP encapsulation value counts as RFC 3947's */
	t->attr[0].inl[0] = (uint8_t)(VPNR__V1_ENCAP_UDP_TUNNEL_DRAFT >> 8);
	t->attr[0].inl[1] = (uint8_t)VPNR__V1_ENCAP_UDP_TUNNEL_DRAFT;
	assert_int_equal(t->attr[0].type, VPNR__V1_QA_ENCAP);
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.encap, VPNR__V1_ENCAP_UDP_TUNNEL);
	/* no encapsulation attribute: refused */
	t->attr[0].type = 99;
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_ERR_NO_PROPOSAL);
	t->attr[0].type = VPNR__V1_QA_ENCAP;
	/* an AH proposal with the same number makes a bundle: skipped */
	sa.n_p = 2;
	sa.p[1] = sa.p[0];
	sa.p[1].protocol = VPNR__V1_PROTO_AH;
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_ERR_NO_PROPOSAL);
	/* ... a different number is an alternative: the ESP one is chosen */
	sa.p[1].num = 2;
	to_wire(&sa);
	assert_int_equal(vpnr__v1_p2_select(&p, 1, &msg.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &s),
	    VPNR_OK);
	assert_int_equal(s.p_idx, 0);
	/* bad arguments */
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &p, 1, spi, 9, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
	parse_ok(&p, VPNR__PROTO_IKE, "aes128-sha1-modp1024");
	assert_int_equal(vpnr__v1_p2_to_sa(&sa, &p, 1, spi,
			     VPNR__V1_ENCAP_TUNNEL, NULL),
	    VPNR_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_strings),
		cmocka_unit_test(test_phase1_aws),
		cmocka_unit_test(test_phase1_combinations),
		cmocka_unit_test(test_phase1_bad_attrs),
		cmocka_unit_test(test_quick_mode),
		cmocka_unit_test(test_quick_mode_suites),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
