/*
 * lib/crypto.c against published known-answer vectors:
 *  - RFC 2202 (HMAC-SHA1) and RFC 4231 (HMAC-SHA2) through vpnr__prf
 *    and the truncating vpnr__integ_* functions;
 *  - NIST CAVS SP 800-135 IKEv2 KDF (SHA-1, COUNT 0 of ikev2.fax):
 *    SKEYSEED, DKM, child SA DKMs and SKEYSEED(rekey) through
 *    vpnr__prf and vpnr__prf_plus;
 *  - RFC 3602 section 4 and NIST SP 800-38A F.2 (AES-CBC);
 *  - the GCM specification (McGrew and Viega) test cases 4, 13-16
 *    through the RFC 4106 salt | IV nonce of vpnr__gcm_*;
 *  - RFC 7748 6.1 (X25519), RFC 5903 8.1 and 8.2 (ECP-256/384),
 *    RFC 5114 2.3 (group 24 p, g, q), the RFC 2409 / RFC 3526 primes;
 *  - FIPS 180 SHA-1 ("abc", empty);
 * plus rejection of bad peer values (RFC 6989) and tamper tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>

#include "crypto.h"

/* ---- helpers ------------------------------------------------------- */

/* Hex (whitespace ignored) into a fresh buffer; *len gets its size. */
static uint8_t *
unhex(const char *s, size_t *len)
{
	uint8_t *out;
	size_t n = 0, i;
	int hi = -1, v;

	out = malloc(strlen(s) / 2 + 1);
	assert_non_null(out);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v = s[i] - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	*len = n;
	return out;
}

static uint8_t *
filled(uint8_t c, size_t n)
{
	uint8_t *p = malloc(n);

	assert_non_null(p);
	memset(p, c, n);
	return p;
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t *w;
	size_t wl;

	w = unhex(want, &wl);
	assert_int_equal(len, wl);
	assert_memory_equal(got, w, wl);
	free(w);
}

static int
is_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* ---- HMAC through prf and integ ------------------------------------ */

struct hmac_vec {
	const char *name;
	uint8_t key_byte; /* key is key_len copies, or ... */
	size_t key_len;
	const char *key_str; /* ... this string if non-NULL */
	const char *data;    /* string data, or ... */
	uint8_t data_byte;   /* ... data_len copies */
	size_t data_len;
	const char *sha1, *sha256, *sha384, *sha512;
};

static const struct hmac_vec hmac_vecs[] = {
	{ "RFC 2202/4231 case 1", 0x0b, 20, NULL, "Hi There", 0, 0,
	    "b617318655057264e28bc0b6fb378c8ef146be00",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
	    "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a12685"
	    "4" },
	{ "RFC 2202/4231 case 2", 0, 0, "Jefe", "what do ya want for nothing?",
	    0, 0, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
	    "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce73"
	    "7" },
	{ "RFC 2202 case 3", 0xaa, 20, NULL, NULL, 0xdd, 50,
	    "125d7342b9ac11cd91a39af48aa17b4f63f175d3", NULL, NULL, NULL },
	{ "RFC 2202 case 6", 0xaa, 80, NULL,
	    "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	    "aa4ae5e15272d00e95705637ce8a3b55ed402112", NULL, NULL, NULL },
	{ "RFC 4231 case 6", 0xaa, 131, NULL,
	    "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	    NULL,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
	    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
	    "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
	    "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
	    "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d78659"
	    "8" },
};

static void
hmac_vec_bytes(const struct hmac_vec *v, uint8_t **key, size_t *klen,
    uint8_t **data, size_t *dlen)
{
	if (v->key_str != NULL) {
		*klen = strlen(v->key_str);
		*key = (uint8_t *)strdup(v->key_str);
	} else {
		*klen = v->key_len;
		*key = filled(v->key_byte, v->key_len);
	}
	if (v->data != NULL) {
		*dlen = strlen(v->data);
		*data = (uint8_t *)strdup(v->data);
	} else {
		*dlen = v->data_len;
		*data = filled(v->data_byte, v->data_len);
	}
}

static void
check_prf(uint16_t prf, uint16_t integ, const uint8_t *key, size_t klen,
    const uint8_t *data, size_t dlen, const char *want)
{
	uint8_t out[VPNR__MAX_PRF_LEN], icv[VPNR__MAX_ICV_LEN];
	struct vpnr__iov iov[3];
	uint8_t *w;
	size_t wl, icvlen;

	if (want == NULL)
		return;
	w = unhex(want, &wl);
	assert_int_equal(vpnr__prf_len(prf), wl);

	/* One piece, then the same data split over three iovecs. */
	iov[0].p = data;
	iov[0].len = dlen;
	memset(out, 0, sizeof(out));
	assert_int_equal(vpnr__prf(prf, key, klen, iov, 1, out), VPNR_OK);
	assert_memory_equal(out, w, wl);
	iov[0].len = dlen / 3;
	iov[1].p = data + dlen / 3;
	iov[1].len = 0;
	iov[2].p = data + dlen / 3;
	iov[2].len = dlen - dlen / 3;
	memset(out, 0, sizeof(out));
	assert_int_equal(vpnr__prf(prf, key, klen, iov, 3, out), VPNR_OK);
	assert_memory_equal(out, w, wl);

	/* The integrity transform is the same HMAC, truncated. */
	icvlen = vpnr__integ_icv_len(integ);
	assert_true(icvlen > 0 && icvlen < wl);
	memset(icv, 0, sizeof(icv));
	assert_int_equal(vpnr__integ_compute(integ, key, klen, data, dlen, icv),
	    VPNR_OK);
	assert_memory_equal(icv, w, icvlen);
	assert_true(is_zero(icv + icvlen, sizeof(icv) - icvlen));
	assert_int_equal(vpnr__integ_verify(integ, key, klen, data, dlen, w),
	    VPNR_OK);
	free(w);
}

static void
test_hmac_vectors(void **state)
{
	uint8_t *key, *data;
	size_t klen, dlen, i;

	(void)state;
	for (i = 0; i < sizeof(hmac_vecs) / sizeof(hmac_vecs[0]); i++) {
		const struct hmac_vec *v = &hmac_vecs[i];

		hmac_vec_bytes(v, &key, &klen, &data, &dlen);
		check_prf(VPNR__PRF_HMAC_SHA1, VPNR_INTEG_HMAC_SHA1_96, key,
		    klen, data, dlen, v->sha1);
		check_prf(VPNR__PRF_HMAC_SHA2_256, VPNR_INTEG_HMAC_SHA2_256_128,
		    key, klen, data, dlen, v->sha256);
		check_prf(VPNR__PRF_HMAC_SHA2_384, VPNR_INTEG_HMAC_SHA2_384_192,
		    key, klen, data, dlen, v->sha384);
		check_prf(VPNR__PRF_HMAC_SHA2_512, VPNR_INTEG_HMAC_SHA2_512_256,
		    key, klen, data, dlen, v->sha512);
		free(key);
		free(data);
	}
}

/* An empty key is a valid HMAC key (and not "reuse the old key"). */
static void
test_hmac_empty_key(void **state)
{
	struct vpnr__iov iov = { (const uint8_t *)"", 0 };
	uint8_t out[VPNR__MAX_PRF_LEN];

	(void)state;
	assert_int_equal(vpnr__prf(VPNR__PRF_HMAC_SHA2_256, NULL, 0, &iov, 1,
			     out),
	    VPNR_OK);
	assert_hex(out, 32,
	    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	assert_int_equal(vpnr__prf(VPNR__PRF_HMAC_SHA1, NULL, 0, NULL, 0, out),
	    VPNR_OK);
	assert_hex(out, 20, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

/* RFC 4231 case 5: the published 128-bit truncation. */
static void
test_integ_rfc4231_truncation(void **state)
{
	static const char data[] = "Test With Truncation";
	uint8_t icv[VPNR__MAX_ICV_LEN], *key, *w;
	size_t wl;

	(void)state;
	key = filled(0x0c, 20);
	assert_int_equal(vpnr__integ_compute(VPNR_INTEG_HMAC_SHA2_256_128, key,
			     20, (const uint8_t *)data, strlen(data), icv),
	    VPNR_OK);
	assert_hex(icv, 16, "a3b6167473100ee06e0c796c2955552b");
	w = unhex("a3b6167473100ee06e0c796c2955552b", &wl);
	assert_int_equal(vpnr__integ_verify(VPNR_INTEG_HMAC_SHA2_256_128, key,
			     20, (const uint8_t *)data, strlen(data), w),
	    VPNR_OK);
	free(w);
	free(key);
}

static void
test_integ_lengths_and_tamper(void **state)
{
	static const struct {
		uint16_t id;
		size_t key, icv;
	} t[] = {
		{ VPNR_INTEG_HMAC_SHA1_96, 20, 12 },
		{ VPNR_INTEG_HMAC_SHA2_256_128, 32, 16 },
		{ VPNR_INTEG_HMAC_SHA2_384_192, 48, 24 },
		{ VPNR_INTEG_HMAC_SHA2_512_256, 64, 32 },
	};
	uint8_t key[64], msg[100], icv[VPNR__MAX_ICV_LEN];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(vpnr__integ_key_len(VPNR_INTEG_NONE), 0);
	assert_int_equal(vpnr__integ_icv_len(VPNR_INTEG_NONE), 0);
	assert_int_equal(vpnr__integ_compute(99, key, 20, msg, 10, icv),
	    VPNR_ERR_UNSUPPORTED);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(vpnr__integ_key_len(t[i].id), t[i].key);
		assert_int_equal(vpnr__integ_icv_len(t[i].id), t[i].icv);
		assert_int_equal(vpnr__integ_compute(t[i].id, key, t[i].key,
				     msg, sizeof(msg), icv),
		    VPNR_OK);
		assert_int_equal(vpnr__integ_verify(t[i].id, key, t[i].key, msg,
				     sizeof(msg), icv),
		    VPNR_OK);
		/* Any flipped bit of the ICV, the data or the key fails. */
		for (j = 0; j < t[i].icv; j++) {
			icv[j] ^= 0x01;
			assert_int_equal(vpnr__integ_verify(t[i].id, key,
					     t[i].key, msg, sizeof(msg), icv),
			    VPNR_ERR_INTEGRITY);
			icv[j] ^= 0x01;
		}
		msg[50] ^= 0x80;
		assert_int_equal(vpnr__integ_verify(t[i].id, key, t[i].key, msg,
				     sizeof(msg), icv),
		    VPNR_ERR_INTEGRITY);
		msg[50] ^= 0x80;
		key[0] ^= 0x80;
		assert_int_equal(vpnr__integ_verify(t[i].id, key, t[i].key, msg,
				     sizeof(msg), icv),
		    VPNR_ERR_INTEGRITY);
		key[0] ^= 0x80;
		/* Truncated data changes the MAC too. */
		assert_int_equal(vpnr__integ_verify(t[i].id, key, t[i].key, msg,
				     sizeof(msg) - 1, icv),
		    VPNR_ERR_INTEGRITY);
	}
}

/* ---- PRF / prf+ ---------------------------------------------------- */

/*
 * NIST CAVS 12.x SP 800-135 KDF, ikev2.fax [SHA-1], [Ni length = 64],
 * [Nr length = 64], [g^ir length = 256], [DKM length = 1056], COUNT 0.
 */
static const char cavs_ni[] = "32b50d5f4a3763f3";
static const char cavs_nr[] = "9206a04b26564cb1";
static const char cavs_gir[] =
    "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52";
static const char cavs_gir_new[] =
    "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330";
static const char cavs_spii[] = "34c9e7c188868785";
static const char cavs_spir[] = "3ff77d760d2b2199";
static const char cavs_skeyseed[] = "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7";
static const char cavs_dkm[] =
    "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002"
    "a2a63080e514a062768b76606f9fa5e992204fc5a670bde3f10d6b027113936a"
    "5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd1119"
    "8af1670b143d384bd275c5f594cf266b05ebadca855e4249520a441a81157435"
    "a7a56cc4";
static const char cavs_dkm_child[] =
    "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c581"
    "1a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85eccdf0ad0dc9abd94b51ee7181"
    "4ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf"
    "285f524aea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e66499"
    "4d234cb4";
static const char cavs_dkm_child_dh[] =
    "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d373016"
    "28190e38c66232eab4b3ab14c400a5197dd3730ed4820a8a10394d51e1c04000"
    "52f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a"
    "05884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054"
    "d56fd74c";
static const char cavs_skeyseed_rekey[] =
    "63e81194946ebd05df7df5ebf5d8750056bf1f1d";

static void
test_prf_plus_cavs_ikev2(void **state)
{
	uint8_t *ni, *nr, *gir, *girn, *spii, *spir;
	size_t nil, nrl, girl, girnl, spiil, spirl, off;
	uint8_t key[64], seed[256], skeyseed[20], dkm[132], out[132];
	struct vpnr__iov iov[3];
	const uint8_t *skd;

	(void)state;
	ni = unhex(cavs_ni, &nil);
	nr = unhex(cavs_nr, &nrl);
	gir = unhex(cavs_gir, &girl);
	girn = unhex(cavs_gir_new, &girnl);
	spii = unhex(cavs_spii, &spiil);
	spir = unhex(cavs_spir, &spirl);

	/* SKEYSEED = prf(Ni | Nr, g^ir) */
	memcpy(key, ni, nil);
	memcpy(key + nil, nr, nrl);
	iov[0].p = gir;
	iov[0].len = girl;
	assert_int_equal(vpnr__prf(VPNR__PRF_HMAC_SHA1, key, nil + nrl, iov, 1,
			     skeyseed),
	    VPNR_OK);
	assert_hex(skeyseed, sizeof(skeyseed), cavs_skeyseed);

	/* DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), 1056 bits */
	off = 0;
	memcpy(seed + off, ni, nil), off += nil;
	memcpy(seed + off, nr, nrl), off += nrl;
	memcpy(seed + off, spii, spiil), off += spiil;
	memcpy(seed + off, spir, spirl), off += spirl;
	assert_int_equal(vpnr__prf_plus(VPNR__PRF_HMAC_SHA1, skeyseed,
			     sizeof(skeyseed), seed, off, dkm, sizeof(dkm)),
	    VPNR_OK);
	assert_hex(dkm, sizeof(dkm), cavs_dkm);
	skd = dkm; /* SK_d is the first prf-length piece */

	/* Child SA DKM = prf+(SK_d, Ni | Nr) */
	assert_int_equal(vpnr__prf_plus(VPNR__PRF_HMAC_SHA1, skd, 20, seed,
			     nil + nrl, out, sizeof(out)),
	    VPNR_OK);
	assert_hex(out, sizeof(out), cavs_dkm_child);

	/* Child SA DKM with PFS = prf+(SK_d, g^ir (new) | Ni | Nr) */
	off = 0;
	memcpy(seed + off, girn, girnl), off += girnl;
	memcpy(seed + off, ni, nil), off += nil;
	memcpy(seed + off, nr, nrl), off += nrl;
	assert_int_equal(vpnr__prf_plus(VPNR__PRF_HMAC_SHA1, skd, 20, seed, off,
			     out, sizeof(out)),
	    VPNR_OK);
	assert_hex(out, sizeof(out), cavs_dkm_child_dh);

	/* SKEYSEED (rekey) = prf(SK_d (old), g^ir (new) | Ni | Nr) */
	iov[0].p = girn;
	iov[0].len = girnl;
	iov[1].p = ni;
	iov[1].len = nil;
	iov[2].p = nr;
	iov[2].len = nrl;
	assert_int_equal(vpnr__prf(VPNR__PRF_HMAC_SHA1, skd, 20, iov, 3,
			     skeyseed),
	    VPNR_OK);
	assert_hex(skeyseed, sizeof(skeyseed), cavs_skeyseed_rekey);

	/* A prefix of prf+ output is the same as a shorter request. */
	assert_int_equal(vpnr__prf_plus(VPNR__PRF_HMAC_SHA1, skd, 20, seed, off,
			     out, 33),
	    VPNR_OK);
	assert_hex(out, 33,
	    "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547"
	    "df7f4fa61d37301628");

	free(ni);
	free(nr);
	free(gir);
	free(girn);
	free(spii);
	free(spir);
}

/*
 * prf+ built by hand from the PRF for every hash (RFC 7296 2.13):
 * T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), and the 255-block
 * limit of the one-octet counter.
 */
static void
test_prf_plus_structure(void **state)
{
	static const uint16_t prfs[] = { VPNR__PRF_HMAC_SHA1,
		VPNR__PRF_HMAC_SHA2_256, VPNR__PRF_HMAC_SHA2_384,
		VPNR__PRF_HMAC_SHA2_512 };
	static const uint8_t k[] = "a prf+ key", s[] = "seed bytes";
	uint8_t t[3][VPNR__MAX_PRF_LEN], ctr, *big;
	struct vpnr__iov iov[3];
	uint8_t out[3 * VPNR__MAX_PRF_LEN];
	size_t i, n, h;

	(void)state;
	for (i = 0; i < sizeof(prfs) / sizeof(prfs[0]); i++) {
		h = vpnr__prf_len(prfs[i]);
		for (n = 0; n < 3; n++) {
			ctr = (uint8_t)(n + 1);
			iov[0].p = n ? t[n - 1] : NULL;
			iov[0].len = n ? h : 0;
			iov[1].p = s;
			iov[1].len = sizeof(s);
			iov[2].p = &ctr;
			iov[2].len = 1;
			assert_int_equal(vpnr__prf(prfs[i], k, sizeof(k), iov,
					     3, t[n]),
			    VPNR_OK);
		}
		assert_int_equal(vpnr__prf_plus(prfs[i], k, sizeof(k), s,
				     sizeof(s), out, 3 * h),
		    VPNR_OK);
		for (n = 0; n < 3; n++)
			assert_memory_equal(out + n * h, t[n], h);

		/* 255 blocks are allowed, one byte more is not. */
		big = malloc(255 * h + 1);
		assert_non_null(big);
		assert_int_equal(vpnr__prf_plus(prfs[i], k, sizeof(k), s,
				     sizeof(s), big, 255 * h),
		    VPNR_OK);
		assert_memory_equal(big, t[0], h);
		assert_int_equal(vpnr__prf_plus(prfs[i], k, sizeof(k), s,
				     sizeof(s), big, 255 * h + 1),
		    VPNR_ERR_INVALID_ARGUMENT);
		free(big);
	}
	assert_int_equal(vpnr__prf_len(4), 0); /* AES128-XCBC: no */
	assert_int_equal(vpnr__prf(4, k, sizeof(k), iov, 1, out),
	    VPNR_ERR_UNSUPPORTED);
	assert_int_equal(vpnr__prf_plus(4, k, sizeof(k), s, sizeof(s), out, 8),
	    VPNR_ERR_UNSUPPORTED);
}

/* ---- AES-CBC ------------------------------------------------------- */

static void
check_cbc(const char *key, const char *iv, const char *pt, const char *ct)
{
	uint8_t *k, *v, *p, *c;
	size_t kl, vl, pl, cl;

	k = unhex(key, &kl);
	v = unhex(iv, &vl);
	p = unhex(pt, &pl);
	c = unhex(ct, &cl);
	assert_int_equal(vl, 16);
	assert_int_equal(pl, cl);
	assert_int_equal(vpnr__cbc_encrypt(k, kl, v, p, pl), VPNR_OK);
	assert_memory_equal(p, c, cl);
	assert_int_equal(vpnr__cbc_decrypt(k, kl, v, p, pl), VPNR_OK);
	free(c);
	c = unhex(pt, &cl);
	assert_memory_equal(p, c, cl);
	free(k);
	free(v);
	free(p);
	free(c);
}

static const char sp800_38a_pt[] = "6bc1bee22e409f96e93d7e117393172a"
				   "ae2d8a571e03ac9c9eb76fac45af8e51"
				   "30c81c46a35ce411e5fbc1191a0a52ef"
				   "f69f2445df4f9b17ad2b417be66c3710";

static void
test_cbc_vectors(void **state)
{
	uint8_t key[16] = { 0 }, iv[16] = { 0 }, buf[32] = { 0 };

	(void)state;
	/* RFC 3602 4, cases 1 and 2 */
	check_cbc("06a9214036b8a15b512e03d534120006",
	    "3dafba429d9eb430b422da802c9fac41",
	    "53696e676c6520626c6f636b206d7367", /* "Single block msg" */
	    "e353779c1079aeb82708942dbe77181a");
	check_cbc("c286696d887c9aa0611bbb3e2025a45a",
	    "562e17996d093d28ddb3ba695a2e6f58",
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
	/* SP 800-38A F.2.3 (CBC-AES192) and F.2.5 (CBC-AES256) */
	check_cbc("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
	    "000102030405060708090a0b0c0d0e0f", sp800_38a_pt,
	    "4f021db243bc633d7178183a9fa071e8b4d9ada9ad7dedf4e5e738763f69145a"
	    "571b242012fb7ae07fa9baac3df102e008b0e27988598881d920a9e64f5615cd");
	check_cbc("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914"
		  "dff4",
	    "000102030405060708090a0b0c0d0e0f", sp800_38a_pt,
	    "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
	    "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b");

	/* No padding: partial blocks and odd key sizes are refused. */
	assert_int_equal(vpnr__cbc_encrypt(key, 16, iv, buf, 31),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__cbc_decrypt(key, 16, iv, buf, 17),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__cbc_encrypt(key, 20, iv, buf, 32),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__cbc_encrypt(key, 16, iv, buf, 0), VPNR_OK);
}

/* ---- AES-GCM ------------------------------------------------------- */

struct gcm_vec {
	const char *name, *key, *nonce, *aad, *pt, *ct, *tag;
};

/* GCM spec (McGrew, Viega 2005) appendix B; nonce = salt | IV. */
static const struct gcm_vec gcm_vecs[] = {
	{ "test case 4 (AES-128)", "feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	    "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "test case 13",
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000000",
	    "000000000000000000000000", "", "", "",
	    "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "test case 14",
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000000",
	    "000000000000000000000000", "", "00000000000000000000000000000000",
	    "cea7403d4d606b6e074ec5d3baf39d18",
	    "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "test case 15",
	    "feffe9928665731c6d6a8f9467308308"
	    "feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888", "",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	    "b094dac5d93471bdec1a502270e3cc6c" },
	{ "test case 16",
	    "feffe9928665731c6d6a8f9467308308"
	    "feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888",
	    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    "76fc6ece0f4e1768cddf8853bb2d551b" },
};

struct gcm_case {
	uint8_t keymat[36];
	size_t kmlen;
	uint8_t iv[8];
	uint8_t *aad, *pt, *ct, *tag;
	size_t aadlen, len, taglen;
};

static void
gcm_case_load(const struct gcm_vec *v, struct gcm_case *c)
{
	uint8_t *key, *nonce;
	size_t kl, nl, cl;

	key = unhex(v->key, &kl);
	nonce = unhex(v->nonce, &nl);
	assert_int_equal(nl, 12);
	/* RFC 4106 8.1: keymat = key | salt; salt is the nonce's head. */
	memcpy(c->keymat, key, kl);
	memcpy(c->keymat + kl, nonce, 4);
	c->kmlen = kl + 4;
	memcpy(c->iv, nonce + 4, 8);
	c->aad = unhex(v->aad, &c->aadlen);
	c->pt = unhex(v->pt, &c->len);
	c->ct = unhex(v->ct, &cl);
	assert_int_equal(cl, c->len);
	c->tag = unhex(v->tag, &c->taglen);
	assert_int_equal(c->taglen, 16);
	free(key);
	free(nonce);
}

static void
gcm_case_free(struct gcm_case *c)
{
	free(c->aad);
	free(c->pt);
	free(c->ct);
	free(c->tag);
}

static void
test_gcm_vectors(void **state)
{
	struct gcm_case c;
	uint8_t buf[64], tag[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
		gcm_case_load(&gcm_vecs[i], &c);
		assert_int_equal(vpnr__encr_keymat_len(VPNR_ENCR_AES_GCM_16,
				     (uint16_t)((c.kmlen - 4) * 8)),
		    c.kmlen);
		memcpy(buf, c.pt, c.len);
		assert_int_equal(vpnr__gcm_seal(c.keymat, c.kmlen, c.iv, c.aad,
				     c.aadlen, buf, c.len, tag),
		    VPNR_OK);
		assert_memory_equal(buf, c.ct, c.len);
		assert_memory_equal(tag, c.tag, 16);
		assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
				     c.aadlen, buf, c.len, tag),
		    VPNR_OK);
		assert_memory_equal(buf, c.pt, c.len);
		gcm_case_free(&c);
	}
}

static void
test_gcm_tamper(void **state)
{
	struct gcm_case c;
	uint8_t buf[64], tag[16];
	size_t i;

	(void)state;
	gcm_case_load(&gcm_vecs[4], &c); /* test case 16, with AAD */

	/* Each flipped bit in ciphertext, tag, AAD, IV or salt fails. */
	for (i = 0; i < c.len; i += 7) {
		memcpy(buf, c.ct, c.len);
		buf[i] ^= 0x04;
		assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
				     c.aadlen, buf, c.len, c.tag),
		    VPNR_ERR_INTEGRITY);
		/* Unauthenticated plaintext is not handed out. */
		assert_true(is_zero(buf, c.len));
	}
	for (i = 0; i < 16; i++) {
		memcpy(buf, c.ct, c.len);
		memcpy(tag, c.tag, 16);
		tag[i] ^= 0x80;
		assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
				     c.aadlen, buf, c.len, tag),
		    VPNR_ERR_INTEGRITY);
	}
	memcpy(buf, c.ct, c.len);
	c.aad[3] ^= 1;
	assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
			     c.aadlen, buf, c.len, c.tag),
	    VPNR_ERR_INTEGRITY);
	c.aad[3] ^= 1;
	memcpy(buf, c.ct, c.len);
	assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
			     c.aadlen - 1, buf, c.len, c.tag),
	    VPNR_ERR_INTEGRITY);
	memcpy(buf, c.ct, c.len);
	c.iv[7] ^= 1;
	assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
			     c.aadlen, buf, c.len, c.tag),
	    VPNR_ERR_INTEGRITY);
	c.iv[7] ^= 1;
	memcpy(buf, c.ct, c.len);
	c.keymat[c.kmlen - 1] ^= 1; /* salt */
	assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
			     c.aadlen, buf, c.len, c.tag),
	    VPNR_ERR_INTEGRITY);
	c.keymat[c.kmlen - 1] ^= 1;
	/* And the untouched message still opens. */
	memcpy(buf, c.ct, c.len);
	assert_int_equal(vpnr__gcm_open(c.keymat, c.kmlen, c.iv, c.aad,
			     c.aadlen, buf, c.len, c.tag),
	    VPNR_OK);
	assert_memory_equal(buf, c.pt, c.len);
	/* A keymat that is not key | 4-byte salt is refused. */
	assert_int_equal(vpnr__gcm_seal(c.keymat, 32, c.iv, c.aad, c.aadlen,
			     buf, c.len, tag),
	    VPNR_ERR_INVALID_ARGUMENT);
	gcm_case_free(&c);
}

static void
test_encr_params(void **state)
{
	(void)state;
	assert_true(vpnr__encr_supported(VPNR_ENCR_AES_CBC, 128));
	assert_true(vpnr__encr_supported(VPNR_ENCR_AES_CBC, 192));
	assert_true(vpnr__encr_supported(VPNR_ENCR_AES_CBC, 256));
	assert_true(vpnr__encr_supported(VPNR_ENCR_AES_GCM_16, 128));
	assert_true(vpnr__encr_supported(VPNR_ENCR_AES_GCM_16, 256));
	assert_false(vpnr__encr_supported(VPNR_ENCR_AES_CBC, 0));
	assert_false(vpnr__encr_supported(VPNR_ENCR_AES_CBC, 512));
	assert_false(vpnr__encr_supported(3 /* 3DES */, 192));
	assert_false(vpnr__encr_is_aead(VPNR_ENCR_AES_CBC));
	assert_true(vpnr__encr_is_aead(VPNR_ENCR_AES_GCM_16));
	assert_int_equal(vpnr__encr_keymat_len(VPNR_ENCR_AES_CBC, 256), 32);
	assert_int_equal(vpnr__encr_keymat_len(VPNR_ENCR_AES_GCM_16, 128), 20);
	assert_int_equal(vpnr__encr_keymat_len(VPNR_ENCR_AES_GCM_16, 256), 36);
	assert_int_equal(vpnr__encr_keymat_len(VPNR_ENCR_AES_GCM_16, 100), 0);
	assert_int_equal(vpnr__encr_iv_len(VPNR_ENCR_AES_CBC), 16);
	assert_int_equal(vpnr__encr_iv_len(VPNR_ENCR_AES_GCM_16), 8);
	assert_int_equal(vpnr__encr_block_len(VPNR_ENCR_AES_CBC), 16);
	assert_int_equal(vpnr__encr_block_len(VPNR_ENCR_AES_GCM_16), 1);
	assert_int_equal(vpnr__encr_icv_len(VPNR_ENCR_AES_CBC), 0);
	assert_int_equal(vpnr__encr_icv_len(VPNR_ENCR_AES_GCM_16), 16);
}

/* ---- SHA-1 --------------------------------------------------------- */

static void
test_sha1(void **state)
{
	struct vpnr__iov iov[3];
	uint8_t out[20];

	(void)state;
	iov[0].p = (const uint8_t *)"a";
	iov[0].len = 1;
	iov[1].p = (const uint8_t *)"";
	iov[1].len = 0;
	iov[2].p = (const uint8_t *)"bc";
	iov[2].len = 2;
	assert_int_equal(vpnr__sha1(iov, 3, out), VPNR_OK);
	assert_hex(out, 20, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(vpnr__sha1(NULL, 0, out), VPNR_OK);
	assert_hex(out, 20, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

/* ---- Diffie-Hellman ------------------------------------------------ */

static void
check_kat(uint16_t group, const char *priv, const char *pub, const char *peer,
    const char *shared)
{
	uint8_t *p, *pb, *pe, *sh, out[VPNR__MAX_KE_LEN];
	size_t pl, pbl, pel, shl, sl;
	struct vpnr__dh *dh = NULL;

	p = unhex(priv, &pl);
	pb = unhex(pub, &pbl);
	pe = unhex(peer, &pel);
	sh = unhex(shared, &shl);
	assert_int_equal(vpnr__dh_public_len(group), pbl);
	assert_int_equal(vpnr__dh_new_with_private(group, p, pl, &dh), VPNR_OK);
	assert_non_null(dh);
	assert_int_equal(vpnr__dh_group(dh), group);
	assert_int_equal(vpnr__dh_public(dh, out, sizeof(out)), VPNR_OK);
	assert_memory_equal(out, pb, pbl);
	memset(out, 0, sizeof(out));
	assert_int_equal(vpnr__dh_derive(dh, pe, pel, out, sizeof(out), &sl),
	    VPNR_OK);
	assert_int_equal(sl, shl);
	assert_memory_equal(out, sh, shl);
	vpnr__dh_free(dh);
	free(p);
	free(pb);
	free(pe);
	free(sh);
}

/* RFC 7748 6.1 */
static const char x25519_a[] =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char x25519_a_pub[] =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char x25519_b[] =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char x25519_b_pub[] =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char x25519_k[] =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

static void
test_dh_x25519_rfc7748(void **state)
{
	(void)state;
	check_kat(VPNR__DH_X25519, x25519_a, x25519_a_pub, x25519_b_pub,
	    x25519_k);
	check_kat(VPNR__DH_X25519, x25519_b, x25519_b_pub, x25519_a_pub,
	    x25519_k);
}

/* RFC 5903 8.1: KE data is x | y, the shared secret x alone. */
static void
test_dh_ecp256_rfc5903(void **state)
{
	(void)state;
	check_kat(VPNR__DH_ECP256,
	    "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 "
	    "862D1433",
	    "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 "
	    "72581180 5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 "
	    "389E0577 B8990BB3",
	    "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 "
	    "4494BF63 56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 "
	    "53E74F33 039872AB",
	    "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 "
	    "4B9442DE");
	check_kat(VPNR__DH_ECP256,
	    "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 "
	    "476BEE53",
	    "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 "
	    "4494BF63 56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 "
	    "53E74F33 039872AB",
	    "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 "
	    "72581180 5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 "
	    "389E0577 B8990BB3",
	    "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 "
	    "4B9442DE");
}

/* RFC 5903 8.2 */
static void
test_dh_ecp384_rfc5903(void **state)
{
	(void)state;
	check_kat(VPNR__DH_ECP384,
	    "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 "
	    "14DCE655 E35B5380 41E649EE 3FAEF896 783AB194",
	    "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 "
	    "B4C55EE6 DE3AC808 ACB4BDB4 C88732AE E95F41AA "
	    "9482ED1F C0EEB9CA FC498462 5CCFC23F 65032149 E0E144AD A0241815 "
	    "35A0F38E EB9FCFF3 C2C947DA E69B4C63 4573A81C",
	    "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 "
	    "32BC509D 0D1AC43A 0336DEF9 6FDA41D0 774A3571 "
	    "DCFBEC7A ACF31964 72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 "
	    "759DD1FF F83FA401 42209DFF 5EAAD96D B9E6386C",
	    "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E "
	    "7156C5C4 D6031355 69B9E9D0 9CF5D4A2 70F59746");
}

/* Fresh key pairs on both sides agree, for every group. */
static void
test_dh_roundtrip(void **state)
{
	static const uint16_t groups[] = { VPNR__DH_MODP1024, VPNR__DH_MODP2048,
		VPNR__DH_MODP3072, VPNR__DH_MODP4096, VPNR__DH_ECP256,
		VPNR__DH_ECP384, VPNR__DH_ECP521, VPNR__DH_MODP2048S256,
		VPNR__DH_X25519 };
	static const size_t publen[] = { 128, 256, 384, 512, 64, 96, 132, 256,
		32 };
	static const size_t seclen[] = { 128, 256, 384, 512, 32, 48, 66, 256,
		32 };
	uint8_t pa[VPNR__MAX_KE_LEN], pb[VPNR__MAX_KE_LEN];
	uint8_t sa[VPNR__MAX_KE_LEN], sb[VPNR__MAX_KE_LEN];
	struct vpnr__dh *a, *b;
	size_t i, la, lb;

	(void)state;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		assert_true(vpnr__dh_supported(groups[i]));
		assert_int_equal(vpnr__dh_public_len(groups[i]), publen[i]);
		assert_int_equal(vpnr__dh_new(groups[i], &a), VPNR_OK);
		assert_int_equal(vpnr__dh_new(groups[i], &b), VPNR_OK);
		assert_int_equal(vpnr__dh_public(a, pa, publen[i]), VPNR_OK);
		assert_int_equal(vpnr__dh_public(b, pb, publen[i]), VPNR_OK);
		assert_memory_not_equal(pa, pb, publen[i]);
		assert_int_equal(vpnr__dh_public(a, pa, publen[i] - 1),
		    VPNR_ERR_BUFFER_TOO_SMALL);
		assert_int_equal(vpnr__dh_derive(a, pb, publen[i], sa,
				     sizeof(sa), &la),
		    VPNR_OK);
		assert_int_equal(vpnr__dh_derive(b, pa, publen[i], sb,
				     sizeof(sb), &lb),
		    VPNR_OK);
		assert_int_equal(la, seclen[i]);
		assert_int_equal(lb, seclen[i]);
		assert_memory_equal(sa, sb, la);
		assert_false(is_zero(sa, la));
		/* A too small secret buffer is refused. */
		assert_int_equal(vpnr__dh_derive(a, pb, publen[i], sa,
				     seclen[i] - 1, &la),
		    VPNR_ERR_BUFFER_TOO_SMALL);
		vpnr__dh_free(a);
		vpnr__dh_free(b);
	}
	vpnr__dh_free(NULL);
	assert_false(vpnr__dh_supported(5)); /* MODP-1536: not offered */
	assert_int_equal(vpnr__dh_public_len(5), 0);
	assert_int_equal(vpnr__dh_new(5, &a), VPNR_ERR_UNSUPPORTED);
	assert_int_equal(vpnr__dh_new(0, &a), VPNR_ERR_UNSUPPORTED);
}

/* BIGNUM from RFC hex. */
static BIGNUM *
bn_hex(const char *s)
{
	uint8_t *b;
	size_t l;
	BIGNUM *bn;

	b = unhex(s, &l);
	bn = BN_bin2bn(b, (int)l, NULL);
	assert_non_null(bn);
	free(b);
	return bn;
}

/* KE data of the key pair with private value x (big-endian). */
static void
ke_with_private(uint16_t group, const uint8_t *x, size_t xl, uint8_t *out)
{
	struct vpnr__dh *dh = NULL;

	assert_int_equal(vpnr__dh_new_with_private(group, x, xl, &dh), VPNR_OK);
	assert_int_equal(vpnr__dh_public(dh, out, vpnr__dh_public_len(group)),
	    VPNR_OK);
	vpnr__dh_free(dh);
}

/* g^x mod p must equal our KE value for private x. */
static void
check_modp_domain(uint16_t group, const BIGNUM *p, const BIGNUM *g)
{
	static const uint8_t x[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd,
		0xef, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe };
	uint8_t ke[VPNR__MAX_KE_LEN], want[VPNR__MAX_KE_LEN];
	size_t plen = vpnr__dh_public_len(group);
	BIGNUM *bx, *y;
	BN_CTX *bnctx;

	assert_int_equal((size_t)BN_num_bytes(p), plen);
	bnctx = BN_CTX_new();
	bx = BN_bin2bn(x, sizeof(x), NULL);
	y = BN_new();
	assert_non_null(bnctx);
	assert_non_null(bx);
	assert_non_null(y);
	assert_int_equal(BN_mod_exp(y, g, bx, p, bnctx), 1);
	assert_int_equal(BN_bn2binpad(y, want, (int)plen), (int)plen);
	ke_with_private(group, x, sizeof(x), ke);
	assert_memory_equal(ke, want, plen);
	BN_free(y);
	BN_free(bx);
	BN_CTX_free(bnctx);
}

/* RFC 5114 2.3 */
static const char rfc5114_p[] =
    "87A8E61D B4B6663C FFBBD19C 65195999 8CEEF608 660DD0F2"
    "5D2CEED4 435E3B00 E00DF8F1 D61957D4 FAF7DF45 61B2AA30"
    "16C3D911 34096FAA 3BF4296D 830E9A7C 209E0C64 97517ABD"
    "5A8A9D30 6BCF67ED 91F9E672 5B4758C0 22E0B1EF 4275BF7B"
    "6C5BFC11 D45F9088 B941F54E B1E59BB8 BC39A0BF 12307F5C"
    "4FDB70C5 81B23F76 B63ACAE1 CAA6B790 2D525267 35488A0E"
    "F13C6D9A 51BFA4AB 3AD83477 96524D8E F6A167B5 A41825D9"
    "67E144E5 14056425 1CCACB83 E6B486F6 B3CA3F79 71506026"
    "C0B857F6 89962856 DED4010A BD0BE621 C3A3960A 54E710C3"
    "75F26375 D7014103 A4B54330 C198AF12 6116D227 6E11715F"
    "693877FA D7EF09CA DB094AE9 1E1A1597";
static const char rfc5114_g[] =
    "3FB32C9B 73134D0B 2E775066 60EDBD48 4CA7B18F 21EF2054"
    "07F4793A 1A0BA125 10DBC150 77BE463F FF4FED4A AC0BB555"
    "BE3A6C1B 0C6B47B1 BC3773BF 7E8C6F62 901228F8 C28CBB18"
    "A55AE313 41000A65 0196F931 C77A57F2 DDF463E5 E9EC144B"
    "777DE62A AAB8A862 8AC376D2 82D6ED38 64E67982 428EBC83"
    "1D14348F 6F2F9193 B5045AF2 767164E1 DFC967C1 FB3F2E55"
    "A4BD1BFF E83B9C80 D052B985 D182EA0A DB2A3B73 13D3FE14"
    "C8484B1E 052588B9 B7D2BBD2 DF016199 ECD06E15 57CD0915"
    "B3353BBB 64E0EC37 7FD02837 0DF92B52 C7891428 CDC67EB6"
    "184B523D 1DB246C3 2F630784 90F00EF8 D647D148 D4795451"
    "5E2327CF EF98C582 664B4C0F 6CC41659";
static const char rfc5114_q[] = "8CF83642 A709A097 B4479976 40129DA2"
				"99B1A47D 1EB3750B A308B0FE 64F5FBD3";

static void
test_dh_modp_domains(void **state)
{
	uint8_t ke[VPNR__MAX_KE_LEN], *q, *g;
	size_t ql, gl;
	BIGNUM *p, *two;

	(void)state;
	two = BN_new();
	assert_non_null(two);
	assert_int_equal(BN_set_word(two, 2), 1);
	/* RFC 2409 6.2 and RFC 3526 2-5, generator 2. */
	p = BN_get_rfc2409_prime_1024(NULL);
	check_modp_domain(VPNR__DH_MODP1024, p, two);
	BN_free(p);
	p = BN_get_rfc3526_prime_2048(NULL);
	check_modp_domain(VPNR__DH_MODP2048, p, two);
	BN_free(p);
	p = BN_get_rfc3526_prime_3072(NULL);
	check_modp_domain(VPNR__DH_MODP3072, p, two);
	BN_free(p);
	p = BN_get_rfc3526_prime_4096(NULL);
	check_modp_domain(VPNR__DH_MODP4096, p, two);
	BN_free(p);
	BN_free(two);

	/* RFC 5114 2.3: p and g, then g^q = 1 (q is the order). */
	p = bn_hex(rfc5114_p);
	two = bn_hex(rfc5114_g);
	check_modp_domain(VPNR__DH_MODP2048S256, p, two);
	BN_free(p);
	BN_free(two);
	g = unhex(rfc5114_g, &gl);
	ke_with_private(VPNR__DH_MODP2048S256, (const uint8_t *)"\x01", 1, ke);
	assert_memory_equal(ke, g, gl);
	free(g);
	q = unhex(rfc5114_q, &ql);
	assert_int_equal(ql, 32);
	ke_with_private(VPNR__DH_MODP2048S256, q, ql, ke);
	assert_true(is_zero(ke, 255));
	assert_int_equal(ke[255], 1);
	free(q);
}

static void
expect_bad_peer(struct vpnr__dh *dh, const uint8_t *peer, size_t len)
{
	uint8_t out[VPNR__MAX_KE_LEN];
	size_t sl = 99;

	memset(out, 0x5a, sizeof(out));
	assert_int_equal(vpnr__dh_derive(dh, peer, len, out, sizeof(out), &sl),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(sl, 0);
}

/* RFC 6989: 0, 1, p-1, p and wrong lengths are refused for MODP. */
static void
test_dh_bad_modp(void **state)
{
	static const uint16_t groups[] = { VPNR__DH_MODP1024, VPNR__DH_MODP2048,
		VPNR__DH_MODP2048S256 };
	uint8_t v[VPNR__MAX_KE_LEN + 1];
	struct vpnr__dh *dh;
	size_t i, plen;
	BIGNUM *p, *pm1;

	(void)state;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		plen = vpnr__dh_public_len(groups[i]);
		assert_int_equal(vpnr__dh_new(groups[i], &dh), VPNR_OK);
		if (groups[i] == VPNR__DH_MODP1024)
			p = BN_get_rfc2409_prime_1024(NULL);
		else if (groups[i] == VPNR__DH_MODP2048)
			p = BN_get_rfc3526_prime_2048(NULL);
		else
			p = bn_hex(rfc5114_p);
		pm1 = BN_dup(p);
		assert_non_null(pm1);
		assert_int_equal(BN_sub_word(pm1, 1), 1);

		memset(v, 0, sizeof(v));
		expect_bad_peer(dh, v, plen); /* 0 */
		v[plen - 1] = 1;
		expect_bad_peer(dh, v, plen); /* 1 */
		BN_bn2binpad(pm1, v, (int)plen);
		expect_bad_peer(dh, v, plen); /* p - 1 */
		BN_bn2binpad(p, v, (int)plen);
		expect_bad_peer(dh, v, plen); /* p */
		memset(v, 0xff, plen);
		expect_bad_peer(dh, v, plen); /* > p */
		/* A valid value with a wrong length. */
		assert_int_equal(vpnr__dh_public(dh, v, plen), VPNR_OK);
		expect_bad_peer(dh, v, plen - 1);
		expect_bad_peer(dh, v, plen + 1);
		expect_bad_peer(dh, v, 0);
		if (groups[i] == VPNR__DH_MODP2048S256) {
			/* 2 is in range but outside the q-subgroup. */
			memset(v, 0, plen);
			v[plen - 1] = 2;
			expect_bad_peer(dh, v, plen);
		}
		BN_free(p);
		BN_free(pm1);
		vpnr__dh_free(dh);
	}
}

/* Points off the curve, coordinates >= p and wrong lengths. */
static void
test_dh_bad_ecp(void **state)
{
	static const uint16_t groups[] = { VPNR__DH_ECP256, VPNR__DH_ECP384,
		VPNR__DH_ECP521 };
	uint8_t v[VPNR__MAX_KE_LEN + 1], out[VPNR__MAX_KE_LEN];
	struct vpnr__dh *dh, *peer;
	size_t i, plen, sl;

	(void)state;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		plen = vpnr__dh_public_len(groups[i]);
		assert_int_equal(vpnr__dh_new(groups[i], &dh), VPNR_OK);
		assert_int_equal(vpnr__dh_new(groups[i], &peer), VPNR_OK);
		assert_int_equal(vpnr__dh_public(peer, v, plen), VPNR_OK);
		assert_int_equal(vpnr__dh_derive(dh, v, plen, out, sizeof(out),
				     &sl),
		    VPNR_OK);
		v[plen - 1] ^= 0x01; /* y changed: off the curve */
		expect_bad_peer(dh, v, plen);
		v[plen - 1] ^= 0x01;
		v[0] ^= 0x01; /* x changed */
		expect_bad_peer(dh, v, plen);
		v[0] ^= 0x01;
		expect_bad_peer(dh, v, plen - 1);
		expect_bad_peer(dh, v, plen + 1);
		memset(v, 0, plen); /* (0, 0): the "infinity" encoding */
		expect_bad_peer(dh, v, plen);
		memset(v, 0xff, plen); /* coordinates >= p */
		expect_bad_peer(dh, v, plen);
		/* SEC1 0x04 prefix is not the IKE encoding. */
		v[0] = 0x04;
		assert_int_equal(vpnr__dh_public(peer, v + 1, plen), VPNR_OK);
		expect_bad_peer(dh, v, plen + 1);
		vpnr__dh_free(peer);
		vpnr__dh_free(dh);
	}
}

/* Fixed private values: 0 is refused, ECP scalars are reduced mod n. */
static void
test_dh_with_private_edges(void **state)
{
	static const uint8_t zero[32],
	    ones[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0xff, 0xff, 0xff };
	uint8_t ke[VPNR__MAX_KE_LEN], sa[64], sb[64];
	struct vpnr__dh *a = NULL, *b = NULL;
	size_t la, lb;

	(void)state;
	assert_int_equal(vpnr__dh_new_with_private(VPNR__DH_ECP256, zero, 32,
			     &a),
	    VPNR_ERR_CRYPTO);
	assert_null(a);
	assert_int_equal(vpnr__dh_new_with_private(VPNR__DH_MODP2048, zero, 32,
			     &a),
	    VPNR_ERR_CRYPTO);
	assert_int_equal(vpnr__dh_new_with_private(VPNR__DH_ECP256, zero, 0,
			     &a),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__dh_new_with_private(5, ones, 32, &a),
	    VPNR_ERR_UNSUPPORTED);
	/* 2^256 - 1 >= n: still a working key pair after reduction. */
	assert_int_equal(vpnr__dh_new_with_private(VPNR__DH_ECP256, ones, 32,
			     &a),
	    VPNR_OK);
	assert_int_equal(vpnr__dh_new(VPNR__DH_ECP256, &b), VPNR_OK);
	assert_int_equal(vpnr__dh_public(b, ke, 64), VPNR_OK);
	assert_int_equal(vpnr__dh_derive(a, ke, 64, sa, sizeof(sa), &la),
	    VPNR_OK);
	assert_int_equal(vpnr__dh_public(a, ke, 64), VPNR_OK);
	assert_int_equal(vpnr__dh_derive(b, ke, 64, sb, sizeof(sb), &lb),
	    VPNR_OK);
	assert_int_equal(la, 32);
	assert_int_equal(lb, 32);
	assert_memory_equal(sa, sb, 32);
	vpnr__dh_free(a);
	vpnr__dh_free(b);
}

/* X25519: low-order points give an all-zero secret (RFC 8031 2). */
static void
test_dh_bad_x25519(void **state)
{
	uint8_t v[33];
	struct vpnr__dh *dh;

	(void)state;
	assert_int_equal(vpnr__dh_new(VPNR__DH_X25519, &dh), VPNR_OK);
	memset(v, 0, sizeof(v));
	expect_bad_peer(dh, v, 32); /* u = 0 */
	v[0] = 1;
	expect_bad_peer(dh, v, 32); /* u = 1 */
	expect_bad_peer(dh, v, 31);
	expect_bad_peer(dh, v, 33);
	vpnr__dh_free(dh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_hmac_empty_key),
		cmocka_unit_test(test_integ_rfc4231_truncation),
		cmocka_unit_test(test_integ_lengths_and_tamper),
		cmocka_unit_test(test_prf_plus_cavs_ikev2),
		cmocka_unit_test(test_prf_plus_structure),
		cmocka_unit_test(test_cbc_vectors),
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_gcm_tamper),
		cmocka_unit_test(test_encr_params),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_dh_x25519_rfc7748),
		cmocka_unit_test(test_dh_ecp256_rfc5903),
		cmocka_unit_test(test_dh_ecp384_rfc5903),
		cmocka_unit_test(test_dh_roundtrip),
		cmocka_unit_test(test_dh_modp_domains),
		cmocka_unit_test(test_dh_bad_modp),
		cmocka_unit_test(test_dh_bad_ecp),
		cmocka_unit_test(test_dh_bad_x25519),
		cmocka_unit_test(test_dh_with_private_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
