/*
 * Proposal strings, SA payload conversion, selection and acceptance,
 * including strongSwan's real IKE_SA_INIT proposals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "ike_captures.h"
#include "ike_msg.h"
#include "ike_proposal.h"

static void
parse_ok(struct vpnr__prop *p, uint8_t proto, const char *s)
{
	char err[256];

	err[0] = 'x';
	assert_int_equal(vpnr__prop_parse(p, proto, s, err, sizeof(err)),
	    VPNR_OK);
	assert_string_equal(err, "");
}

static void
parse_err(uint8_t proto, const char *s, const char *needle)
{
	struct vpnr__prop p;
	char err[256];

	assert_int_equal(vpnr__prop_parse(&p, proto, s, err, sizeof(err)),
	    VPNR_ERR_INVALID_ARGUMENT);
	if (needle != NULL && strstr(err, needle) == NULL)
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static const char *
suite(const struct vpnr__suite *s)
{
	static char buf[128];

	return vpnr__suite_str(s, buf, sizeof(buf));
}

/* ---- parsing ------------------------------------------------------- */

static void
test_parse_ike_suites(void **state)
{
	struct vpnr__prop p;

	(void)state;
	parse_ok(&p, VPNR__PROTO_IKE, "aes256-sha1-modp1024");
	assert_int_equal(p.protocol, VPNR__PROTO_IKE);
	assert_int_equal(p.n_encr, 1);
	assert_int_equal(p.encr[0].id, VPNR_ENCR_AES_CBC);
	assert_int_equal(p.encr[0].bits, 256);
	assert_int_equal(p.n_integ, 1);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA1_96);
	assert_int_equal(p.n_prf, 1);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA1);
	assert_int_equal(p.n_dh, 1);
	assert_int_equal(p.dh[0], VPNR__DH_MODP1024);
	assert_int_equal(p.n_esn, 0);

	parse_ok(&p, VPNR__PROTO_IKE, "aes128-sha256-modp2048");
	assert_int_equal(p.encr[0].bits, 128);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_256);
	assert_int_equal(p.dh[0], VPNR__DH_MODP2048);

	parse_ok(&p, VPNR__PROTO_IKE, "aes256gcm16-prfsha256-ecp256");
	assert_int_equal(p.encr[0].id, VPNR_ENCR_AES_GCM_16);
	assert_int_equal(p.encr[0].bits, 256);
	assert_int_equal(p.n_integ, 0);
	assert_int_equal(p.n_prf, 1);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_256);
	assert_int_equal(p.dh[0], VPNR__DH_ECP256);

	parse_ok(&p, VPNR__PROTO_IKE, "aes256gcm16-prfsha384-x25519");
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_384);
	assert_int_equal(p.dh[0], VPNR__DH_X25519);
	assert_int_equal(p.n_integ, 0);

	/* explicit PRF overrides the derived one */
	parse_ok(&p, VPNR__PROTO_IKE, "aes128-sha1-prfsha512-modp2048s256");
	assert_int_equal(p.n_prf, 1);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_512);
	assert_int_equal(p.dh[0], VPNR__DH_MODP2048S256);

	/* AEAD with an integrity token: PRF derived, integrity dropped */
	parse_ok(&p, VPNR__PROTO_IKE, "aes128gcm16-sha384-ecp384");
	assert_int_equal(p.n_integ, 0);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_384);

	/* alternatives, upper case, aliases, duplicates */
	parse_ok(&p, VPNR__PROTO_IKE,
	    "AES256-aes128-aes256-sha256-sha1-modp3072-modp4096-curve25519-"
	    "ecp521");
	assert_int_equal(p.n_encr, 2);
	assert_int_equal(p.encr[1].bits, 128);
	assert_int_equal(p.n_integ, 2);
	assert_int_equal(p.n_prf, 2);
	assert_int_equal(p.prf[0], VPNR__PRF_HMAC_SHA2_256);
	assert_int_equal(p.prf[1], VPNR__PRF_HMAC_SHA1);
	assert_int_equal(p.n_dh, 4);
	assert_int_equal(p.dh[2], VPNR__DH_X25519);
	assert_int_equal(p.dh[3], VPNR__DH_ECP521);
}

static void
test_parse_esp_suites(void **state)
{
	struct vpnr__prop p;

	(void)state;
	parse_ok(&p, VPNR__PROTO_ESP, "aes256-sha256");
	assert_int_equal(p.protocol, VPNR__PROTO_ESP);
	assert_int_equal(p.encr[0].id, VPNR_ENCR_AES_CBC);
	assert_int_equal(p.encr[0].bits, 256);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(p.n_prf, 0);
	assert_int_equal(p.n_dh, 0);
	assert_int_equal(p.n_esn, 1);
	assert_int_equal(p.esn[0], 0);

	parse_ok(&p, VPNR__PROTO_ESP, "aes128-sha1");
	assert_int_equal(p.encr[0].bits, 128);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA1_96);

	parse_ok(&p, VPNR__PROTO_ESP, "aes256gcm16");
	assert_int_equal(p.encr[0].id, VPNR_ENCR_AES_GCM_16);
	assert_int_equal(p.n_integ, 0);
	assert_int_equal(p.n_dh, 0);

	parse_ok(&p, VPNR__PROTO_ESP, "aes256gcm16-x25519");
	assert_int_equal(p.n_dh, 1);
	assert_int_equal(p.dh[0], VPNR__DH_X25519);

	parse_ok(&p, VPNR__PROTO_ESP, "aes128gcm-esn-noesn");
	assert_int_equal(p.encr[0].bits, 128);
	assert_int_equal(p.n_esn, 2);
	assert_int_equal(p.esn[0], 1);
	assert_int_equal(p.esn[1], 0);
	parse_ok(&p, VPNR__PROTO_ESP, "aes128-sha512-esn");
	assert_int_equal(p.n_esn, 1);
	assert_int_equal(p.esn[0], 1);
	assert_int_equal(p.integ[0], VPNR_INTEG_HMAC_SHA2_512_256);
}

static void
test_parse_errors(void **state)
{
	struct vpnr__prop p;

	(void)state;
	parse_err(VPNR__PROTO_IKE, "aes256-sha1-modp1023",
	    "unknown algorithm 'modp1023' in proposal "
	    "'aes256-sha1-modp1023'");
	parse_err(VPNR__PROTO_ESP, "aes256-md5", "'md5'");
	parse_err(VPNR__PROTO_ESP, "3des-sha1", "'3des'");
	parse_err(VPNR__PROTO_IKE, "aes256--sha1-modp2048", "''");
	parse_err(VPNR__PROTO_IKE, "aes256-sha1-modp2048,aes128-sha1-modp2048",
	    "'modp2048,aes128'");
	/* IKE needs a DH group */
	parse_err(VPNR__PROTO_IKE, "aes256-sha1", "DH group");
	/* AEAD IKE needs a PRF (strongSwan rule) */
	parse_err(VPNR__PROTO_IKE, "aes256gcm16-ecp256", "PRF");
	/* non-AEAD needs integrity */
	parse_err(VPNR__PROTO_ESP, "aes256", "integrity");
	parse_err(VPNR__PROTO_IKE, "aes256-prfsha256-modp2048", "integrity");
	/* no cipher */
	parse_err(VPNR__PROTO_ESP, "sha256", "encryption");
	/* mixing AEAD and classic ciphers */
	parse_err(VPNR__PROTO_IKE, "aes256-aes256gcm16-sha1-modp2048", "AEAD");
	/* PRF in ESP, ESN in IKE */
	parse_err(VPNR__PROTO_ESP, "aes256gcm16-prfsha256", "prfsha256");
	parse_err(VPNR__PROTO_IKE, "aes256-sha1-modp2048-esn", "'esn'");
	/* empty, NULL, bad protocol, too long */
	parse_err(VPNR__PROTO_ESP, "", NULL);
	assert_int_equal(vpnr__prop_parse(&p, VPNR__PROTO_ESP, NULL, NULL, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	parse_err(VPNR__PROTO_AH, "aes256-sha1", NULL);
	{
		char big[400];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		parse_err(VPNR__PROTO_ESP, big, NULL);
	}
	/* too many of one kind (limit 8) */
	parse_err(VPNR__PROTO_IKE,
	    "aes256-sha1-modp1024-modp2048-modp3072-modp4096-ecp256-ecp384-"
	    "ecp521-x25519-modp2048s256",
	    "too many");
	/* a small error buffer is not overrun; a NULL one is fine */
	{
		char small[8];

		assert_int_equal(vpnr__prop_parse(&p, VPNR__PROTO_ESP, "bogus",
				     small, sizeof(small)),
		    VPNR_ERR_INVALID_ARGUMENT);
		assert_int_equal(strlen(small), 7);
		assert_int_equal(vpnr__prop_parse(&p, VPNR__PROTO_ESP, "bogus",
				     NULL, 0),
		    VPNR_ERR_INVALID_ARGUMENT);
	}
}

/* ---- SA payload ---------------------------------------------------- */

static void
test_to_sa(void **state)
{
	struct vpnr__prop p[2];
	struct vpnr__ike_sa_pl sa;
	const uint8_t spi[4] = { 0xc1, 0xc2, 0xc3, 0xc4 };

	(void)state;
	parse_ok(&p[0], VPNR__PROTO_IKE, "aes256-sha1-modp1024");
	parse_ok(&p[1], VPNR__PROTO_IKE, "aes256gcm16-prfsha384-x25519");
	assert_int_equal(vpnr__prop_to_sa(&sa, p, 2, NULL, 0), VPNR_OK);
	assert_int_equal(sa.n, 2);
	assert_int_equal(sa.p[0].num, 1);
	assert_int_equal(sa.p[1].num, 2);
	assert_int_equal(sa.p[0].spi_len, 0);
	assert_int_equal(sa.p[0].n_transforms, 4);
	assert_int_equal(sa.p[0].t[0].type, VPNR__TRANS_ENCR);
	assert_int_equal(sa.p[0].t[0].key_len, 256);
	assert_int_equal(sa.p[0].t[1].type, VPNR__TRANS_PRF);
	assert_int_equal(sa.p[0].t[2].type, VPNR__TRANS_INTEG);
	assert_int_equal(sa.p[0].t[3].type, VPNR__TRANS_DH);
	assert_int_equal(sa.p[0].t[3].id, VPNR__DH_MODP1024);
	assert_int_equal(sa.p[1].n_transforms, 3); /* no INTEG for AEAD */
	assert_int_equal(sa.p[1].t[0].id, VPNR_ENCR_AES_GCM_16);
	assert_int_equal(sa.p[1].t[1].id, VPNR__PRF_HMAC_SHA2_384);
	assert_int_equal(sa.p[1].t[2].id, VPNR__DH_X25519);

	/* ESP: ENCR (+INTEG), DH only with PFS, ESN always */
	parse_ok(&p[0], VPNR__PROTO_ESP, "aes256gcm16");
	parse_ok(&p[1], VPNR__PROTO_ESP, "aes128-sha1-x25519-esn-noesn");
	assert_int_equal(vpnr__prop_to_sa(&sa, p, 2, spi, 4), VPNR_OK);
	assert_int_equal(sa.p[0].spi_len, 4);
	assert_memory_equal(sa.p[0].spi, spi, 4);
	assert_memory_equal(sa.p[1].spi, spi, 4);
	assert_int_equal(sa.p[0].n_transforms, 2);
	assert_int_equal(sa.p[0].t[1].type, VPNR__TRANS_ESN);
	assert_int_equal(sa.p[0].t[1].id, 0);
	assert_int_equal(sa.p[1].n_transforms, 5);
	assert_int_equal(sa.p[1].t[1].type, VPNR__TRANS_INTEG);
	assert_int_equal(sa.p[1].t[2].type, VPNR__TRANS_DH);
	assert_int_equal(sa.p[1].t[3].id, 1);
	assert_int_equal(sa.p[1].t[4].id, 0);
	/* IKE_AUTH: no DH */
	assert_int_equal(vpnr__prop_to_sa_ex(&sa, p, 2, spi, 4, 0,
			     VPNR__PROP_NO_DH),
	    VPNR_OK);
	assert_int_equal(sa.p[1].n_transforms, 4);
	assert_int_equal(sa.p[1].t[2].type, VPNR__TRANS_ESN);

	/* first_dh reorders */
	parse_ok(&p[0], VPNR__PROTO_IKE,
	    "aes256-sha256-modp2048-ecp256-x25519");
	assert_int_equal(vpnr__prop_to_sa_ex(&sa, p, 1, NULL, 0,
			     VPNR__DH_ECP256, 0),
	    VPNR_OK);
	assert_int_equal(sa.p[0].t[3].id, VPNR__DH_ECP256);
	assert_int_equal(sa.p[0].t[4].id, VPNR__DH_MODP2048);
	assert_int_equal(sa.p[0].t[5].id, VPNR__DH_X25519);
	/* a group the proposal does not have: unchanged */
	assert_int_equal(vpnr__prop_to_sa_ex(&sa, p, 1, NULL, 0,
			     VPNR__DH_MODP1024, 0),
	    VPNR_OK);
	assert_int_equal(sa.p[0].t[3].id, VPNR__DH_MODP2048);
	assert_int_equal(vpnr__prop_first_dh(p, 1), VPNR__DH_MODP2048);
	assert_true(vpnr__prop_has_dh(p, 1, VPNR__DH_X25519));
	assert_false(vpnr__prop_has_dh(p, 1, VPNR__DH_MODP1024));
	/* bad arguments */
	assert_int_equal(vpnr__prop_to_sa(&sa, p, 0, NULL, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__prop_to_sa(&sa, p, 1, NULL, 4),
	    VPNR_ERR_INVALID_ARGUMENT);
}

/* ---- selection ----------------------------------------------------- */

static void
peer_sa(struct vpnr__ike_sa_pl *sa, uint8_t proto, const char **strs, size_t n)
{
	struct vpnr__prop p[8];
	const uint8_t spi[4] = { 1, 2, 3, 4 };
	size_t i;

	for (i = 0; i < n; i++)
		parse_ok(&p[i], proto, strs[i]);
	assert_int_equal(vpnr__prop_to_sa(sa, p, n, spi,
			     proto == VPNR__PROTO_IKE ? 0 : 4),
	    VPNR_OK);
}

static void
test_select_ike(void **state)
{
	struct vpnr__prop ours[2];
	struct vpnr__ike_sa_pl sa;
	struct vpnr__suite s;
	size_t chosen = 99;
	const char *peer1[] = { "aes128-sha256-modp2048",
		"aes256-sha1-modp1024" };
	const char *peer2[] = { "aes256gcm16-prfsha384-x25519" };
	const char *peer3[] = { "aes128-sha1-modp1024" };
	const char *peer4[] = { "aes256gcm16-prfsha256-ecp256-x25519" };

	(void)state;
	parse_ok(&ours[0], VPNR__PROTO_IKE, "aes256-sha1-modp1024");
	parse_ok(&ours[1], VPNR__PROTO_IKE, "aes256gcm16-prfsha384-x25519");

	/* peer's first proposal unacceptable, second is */
	peer_sa(&sa, VPNR__PROTO_IKE, peer1, 2);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	assert_int_equal(chosen, 1);
	assert_string_equal(suite(&s),
	    "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024");
	assert_int_equal(s.protocol, VPNR__PROTO_IKE);
	assert_int_equal(s.encr, VPNR_ENCR_AES_CBC);
	assert_int_equal(s.encr_bits, 256);

	peer_sa(&sa, VPNR__PROTO_IKE, peer2, 1);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	assert_int_equal(chosen, 0);
	assert_string_equal(suite(&s),
	    "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519");
	assert_int_equal(s.integ, VPNR_INTEG_NONE);

	/* key size mismatch: no proposal */
	peer_sa(&sa, VPNR__PROTO_IKE, peer3, 1);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* PRF mismatch */
	peer_sa(&sa, VPNR__PROTO_IKE, peer4, 1);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);

	/* unknown transform type ignored */
	peer_sa(&sa, VPNR__PROTO_IKE, peer2, 1);
	sa.p[0].t[sa.p[0].n_transforms++] =
	    (struct vpnr__ike_transform){ 77, 1, 0 };
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	/* unknown attribute: transform never chosen */
	peer_sa(&sa, VPNR__PROTO_IKE, peer2, 1);
	sa.p[0].t[0].key_len = VPNR__IKE_ATTR_UNKNOWN;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* missing DH in IKE */
	peer_sa(&sa, VPNR__PROTO_IKE, peer2, 1);
	sa.p[0].n_transforms = 2;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* an ESP proposal does not match IKE */
	{
		const char *esp[] = { "aes256gcm16" };

		peer_sa(&sa, VPNR__PROTO_ESP, esp, 1);
		assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
		    VPNR_ERR_NO_PROPOSAL);
	}
}

static void
test_select_prefer_dh(void **state)
{
	struct vpnr__prop ours;
	struct vpnr__ike_sa_pl sa;
	struct vpnr__suite s;
	const char *peer[] = { "aes256-sha256-modp2048-ecp256-modp1024" };

	(void)state;
	parse_ok(&ours, VPNR__PROTO_IKE, "aes256-sha256-ecp256-modp2048");
	peer_sa(&sa, VPNR__PROTO_IKE, peer, 1);
	/* peer's order wins by default */
	assert_int_equal(vpnr__prop_select(&ours, 1, &sa, &s, NULL), VPNR_OK);
	assert_int_equal(s.dh, VPNR__DH_MODP2048);
	/* the KE payload's group is preferred when acceptable */
	assert_int_equal(vpnr__prop_select_ex(&ours, 1, &sa, VPNR__DH_ECP256, 0,
			     &s, NULL),
	    VPNR_OK);
	assert_int_equal(s.dh, VPNR__DH_ECP256);
	/* not when we do not accept it */
	assert_int_equal(vpnr__prop_select_ex(&ours, 1, &sa, VPNR__DH_MODP1024,
			     0, &s, NULL),
	    VPNR_OK);
	assert_int_equal(s.dh, VPNR__DH_MODP2048);
}

static void
test_select_esp(void **state)
{
	struct vpnr__prop ours[2];
	struct vpnr__ike_sa_pl sa;
	struct vpnr__suite s;
	size_t chosen;
	const char *gcm[] = { "aes256gcm16" };
	const char *gcm_pfs[] = { "aes256gcm16-x25519" };
	const char *cbc[] = { "aes256-sha256", "aes128-sha1" };
	const char *esn[] = { "aes128-sha1-esn" };

	(void)state;
	parse_ok(&ours[0], VPNR__PROTO_ESP, "aes256gcm16-x25519");
	parse_ok(&ours[1], VPNR__PROTO_ESP, "aes128-sha1");

	/* CREATE_CHILD_SA, we require PFS, peer offers none: GCM refused */
	peer_sa(&sa, VPNR__PROTO_ESP, gcm, 1);
	assert_int_equal(vpnr__prop_select(ours, 1, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* IKE_AUTH: DH ignored */
	assert_int_equal(vpnr__prop_select_ex(ours, 1, &sa, 0, VPNR__PROP_NO_DH,
			     &s, &chosen),
	    VPNR_OK);
	assert_string_equal(suite(&s), "AES_GCM_16-256");
	assert_int_equal(s.dh, 0);
	assert_int_equal(s.esn, 0);
	/* with PFS */
	peer_sa(&sa, VPNR__PROTO_ESP, gcm_pfs, 1);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	assert_string_equal(suite(&s), "AES_GCM_16-256/CURVE_25519");
	/* IKE_AUTH with the peer's DH: ignored, dh 0 */
	assert_int_equal(vpnr__prop_select_ex(ours, 2, &sa, 0, VPNR__PROP_NO_DH,
			     &s, &chosen),
	    VPNR_OK);
	assert_int_equal(s.dh, 0);
	/* we do not want PFS for CBC, peer sends DH: refused */
	{
		const char *cbc_pfs[] = { "aes128-sha1-modp2048" };

		peer_sa(&sa, VPNR__PROTO_ESP, cbc_pfs, 1);
		assert_int_equal(vpnr__prop_select(&ours[1], 1, &sa, &s,
				     &chosen),
		    VPNR_ERR_NO_PROPOSAL);
		/* DH NONE is fine */
		sa.p[0].t[2].id = 0;
		assert_int_equal(vpnr__prop_select(&ours[1], 1, &sa, &s,
				     &chosen),
		    VPNR_OK);
		assert_int_equal(s.dh, 0);
	}
	/* CBC second peer proposal */
	peer_sa(&sa, VPNR__PROTO_ESP, cbc, 2);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	assert_int_equal(chosen, 1);
	assert_string_equal(suite(&s), "AES_CBC-128/HMAC_SHA1_96");
	/* ESN only: we only do no-ESN */
	peer_sa(&sa, VPNR__PROTO_ESP, esn, 1);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* ESN transform missing: taken as no ESN */
	peer_sa(&sa, VPNR__PROTO_ESP, esn, 1);
	sa.p[0].n_transforms = 2;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	assert_int_equal(s.esn, 0);
	/* AEAD with a real integrity algorithm is refused */
	peer_sa(&sa, VPNR__PROTO_ESP, gcm_pfs, 1);
	sa.p[0].t[sa.p[0].n_transforms++] =
	    (struct vpnr__ike_transform){ VPNR__TRANS_INTEG,
		    VPNR_INTEG_HMAC_SHA1_96, 0 };
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* ...but INTEG NONE is accepted */
	sa.p[0].t[sa.p[0].n_transforms - 1].id = VPNR_INTEG_NONE;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen), VPNR_OK);
	/* bad SPI size for ESP */
	sa.p[0].spi_len = 8;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
	/* empty SA */
	sa.n = 0;
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, &chosen),
	    VPNR_ERR_NO_PROPOSAL);
}

/* ---- accept -------------------------------------------------------- */

static void
test_accept(void **state)
{
	struct vpnr__prop ours[2];
	struct vpnr__ike_sa_pl sa, resp;
	struct vpnr__suite s, a;
	const uint8_t spi[4] = { 9, 8, 7, 6 };

	(void)state;
	parse_ok(&ours[0], VPNR__PROTO_IKE, "aes128-sha256-modp2048");
	parse_ok(&ours[1], VPNR__PROTO_IKE, "aes256gcm16-prfsha256-ecp256");
	assert_int_equal(vpnr__prop_to_sa(&sa, ours, 2, NULL, 0), VPNR_OK);
	assert_int_equal(vpnr__prop_select(ours, 2, &sa, &s, NULL), VPNR_OK);
	vpnr__suite_to_sa(&resp, &s, 1, NULL, 0);
	assert_int_equal(resp.n, 1);
	assert_int_equal(resp.p[0].num, 1);
	assert_int_equal(vpnr__prop_accept(ours, 2, &resp, &a), VPNR_OK);
	assert_int_equal(a.protocol, s.protocol);
	assert_int_equal(a.encr, s.encr);
	assert_int_equal(a.encr_bits, s.encr_bits);
	assert_int_equal(a.prf, s.prf);
	assert_int_equal(a.integ, s.integ);
	assert_int_equal(a.dh, s.dh);
	assert_int_equal(a.esn, s.esn);
	assert_string_equal(suite(&a),
	    "AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048");

	/* two proposals in a reply */
	assert_int_equal(vpnr__prop_accept(ours, 2, &sa, &a),
	    VPNR_ERR_MALFORMED);
	/* two transforms of one type */
	vpnr__suite_to_sa(&resp, &s, 1, NULL, 0);
	resp.p[0].t[resp.p[0].n_transforms++] =
	    (struct vpnr__ike_transform){ VPNR__TRANS_DH, 14, 0 };
	assert_int_equal(vpnr__prop_accept(ours, 2, &resp, &a),
	    VPNR_ERR_MALFORMED);
	/* something we never offered */
	s.dh = VPNR__DH_X25519;
	vpnr__suite_to_sa(&resp, &s, 1, NULL, 0);
	assert_int_equal(vpnr__prop_accept(ours, 2, &resp, &a),
	    VPNR_ERR_NO_PROPOSAL);
	vpnr__suite_to_sa(&resp, &s, 1, NULL, 0);
	resp.p[0].t[resp.p[0].n_transforms++] =
	    (struct vpnr__ike_transform){ 99, 1, 0 };
	assert_int_equal(vpnr__prop_accept(ours, 2, &resp, &a),
	    VPNR_ERR_NO_PROPOSAL);
	/* a mix of two of our proposals is not a subset of either */
	s.dh = VPNR__DH_ECP256; /* CBC + ECP256: not offered together */
	vpnr__suite_to_sa(&resp, &s, 1, NULL, 0);
	assert_int_equal(vpnr__prop_accept(ours, 2, &resp, &a),
	    VPNR_ERR_NO_PROPOSAL);

	/* ESP: PFS offered, reply without DH refused; IKE_AUTH fine */
	parse_ok(&ours[0], VPNR__PROTO_ESP, "aes256gcm16-x25519");
	memset(&s, 0, sizeof(s));
	s.protocol = VPNR__PROTO_ESP;
	s.encr = VPNR_ENCR_AES_GCM_16;
	s.encr_bits = 256;
	vpnr__suite_to_sa(&resp, &s, 1, spi, 4);
	assert_int_equal(resp.p[0].n_transforms, 2);
	assert_int_equal(resp.p[0].spi_len, 4);
	assert_int_equal(vpnr__prop_accept(ours, 1, &resp, &a),
	    VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(vpnr__prop_accept_ex(ours, 1, &resp, VPNR__PROP_NO_DH,
			     &a),
	    VPNR_OK);
	s.dh = VPNR__DH_X25519;
	vpnr__suite_to_sa(&resp, &s, 1, spi, 4);
	assert_int_equal(vpnr__prop_accept(ours, 1, &resp, &a), VPNR_OK);
	assert_int_equal(a.dh, VPNR__DH_X25519);
}

/* strongSwan's real proposals, from the wire. */
static void
test_strongswan_captures(void **state)
{
	static const char *ike[4] = { "aes256-sha1-modp1024",
		"aes128-sha256-modp2048", "aes256gcm16-prfsha256-ecp256",
		"aes256gcm16-prfsha384-x25519" };
	static const char *want[4] = {
		"AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024",
		"AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048",
		"AES_GCM_16-256/PRF_HMAC_SHA2_256/ECP_256",
		"AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519",
	};
	struct vpnr__prop ours, other;
	struct vpnr__ike_msg m;
	struct vpnr__suite s;
	size_t i, n = 0;
	int set;

	(void)state;
	for (i = 0; i < sizeof(ike_captures) / sizeof(ike_captures[0]); i++) {
		assert_int_equal(vpnr__ike_parse(&m, ike_captures[i].data,
				     ike_captures[i].len),
		    VPNR_OK);
		if (m.hdr.exchange != VPNR__IKE_SA_INIT)
			continue;
		set = ike_captures[i].set;
		parse_ok(&ours, VPNR__PROTO_IKE, ike[set - 1]);
		/* the other sets do not match */
		parse_ok(&other, VPNR__PROTO_IKE, ike[set % 4]);
		if (m.hdr.flags & VPNR__IKE_F_RESPONSE) {
			assert_int_equal(vpnr__prop_accept(&ours, 1, &m.sa, &s),
			    VPNR_OK);
			assert_int_equal(vpnr__prop_accept(&other, 1, &m.sa,
					     &s),
			    VPNR_ERR_NO_PROPOSAL);
		} else {
			assert_int_equal(vpnr__prop_select_ex(&ours, 1, &m.sa,
					     m.ke_group, 0, &s, NULL),
			    VPNR_OK);
			assert_int_equal(vpnr__prop_select(&other, 1, &m.sa, &s,
					     NULL),
			    VPNR_ERR_NO_PROPOSAL);
			assert_int_equal(vpnr__prop_select(&ours, 1, &m.sa, &s,
					     NULL),
			    VPNR_OK);
		}
		assert_string_equal(suite(&s), want[set - 1]);
		assert_int_equal(s.dh, m.ke_group);
		n++;
	}
	assert_int_equal(n, 8);
}

static void
test_suite_str(void **state)
{
	struct vpnr__suite s;
	char small[8];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.protocol = VPNR__PROTO_ESP;
	s.encr = VPNR_ENCR_AES_CBC;
	s.encr_bits = 256;
	s.integ = VPNR_INTEG_HMAC_SHA2_512_256;
	s.dh = VPNR__DH_MODP4096;
	s.esn = 1;
	assert_string_equal(suite(&s),
	    "AES_CBC-256/HMAC_SHA2_512_256/MODP_4096/EXT_SEQ");
	s.encr = 99;
	s.integ = 77;
	s.dh = 0;
	s.esn = 0;
	assert_string_equal(suite(&s), "ENCR_99-256/INTEG_77");
	/* truncation is safe */
	assert_string_equal(vpnr__suite_str(&s, small, sizeof(small)),
	    "ENCR_99");
	assert_string_equal(vpnr__suite_str(&s, NULL, 0), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ike_suites),
		cmocka_unit_test(test_parse_esp_suites),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_to_sa),
		cmocka_unit_test(test_select_ike),
		cmocka_unit_test(test_select_prefer_dh),
		cmocka_unit_test(test_select_esp),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_strongswan_captures),
		cmocka_unit_test(test_suite_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
