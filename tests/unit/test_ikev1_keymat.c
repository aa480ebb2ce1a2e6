/*
 * IKEv1 key derivation (ipsec/ikev1_keymat.c, lib/crypto_v1.c).
 *
 * Published vectors: NIST CAVP SP 800-135 IKEv1 KDF samples (PSK
 * SKEYID, SKEYID_d/a/e, signature-mode SKEYID) for SHA-1 and SHA-256,
 * as NSS carries them in gtests/common/testvectors/ike-sha{1,256}-
 * vectors.h, and NSS's own Appendix B expansion vectors from the same
 * files.  Captured: a strongSwan-to-strongSwan Main Mode + Quick Mode
 * with the keys charon logged (ikev1_captures.h), replayed through our
 * codec, proposal matcher and key derivation end to end.  The hashes, IVs and
 * NAT-D have no published vectors; they are checked against an independent
 * computation with OpenSSL's one-shot HMAC() and EVP_Digest() over the RFC 2409
 * formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vpnroute/vpnroute.h>

#include "crypto_v1.h"
#include "ikev1_captures.h"
#include "ikev1_keymat.h"
#include "ikev1_msg.h"
#include "ikev1_proposal.h"

/* Hex to bytes; returns the length (the test's own vectors only). */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2, i;
	unsigned v;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void
assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t w[256];
	size_t n = unhex(want, w, sizeof(w));

	assert_int_equal(n, len);
	assert_memory_equal(got, w, n);
}

/* One CAVP chain: PSK SKEYID, then SKEYID_d/a/e from another SKEYID. */
struct cavp {
	uint16_t hash;
	const char *psk, *ni, *nr, *skeyid_psk;
	const char *sig_ni, *sig_nr, *gxy, *skeyid_sig;
	const char *cky_i, *cky_r, *skeyid, *d, *a, *e;
};

static const struct cavp cavp[] = {
	{ VPNR__V1_HASH_SHA1, "c0", "03a6f25a83c8c2a3", "9d958a6618f77e7f",
	    "ab3be41bc62f2ef0c41a3076d58768be77fadd2e", "69a62284195f1680",
	    "80c94ba25c8abda5",
	    "8ba4cbc73c0187301dc19a975823854dbd641c597f637f8d053a83b9514673eb",
	    "707197817fb2d90cf54d1842606bdea59b9f4823", "8c3bcd3a69831d7f",
	    "d2d9a7ff4fbe95a7", "707197817fb2d90cf54d1842606bdea59b9f4823",
	    "384be709a8a5e63c3ed160cfe3921c4b37d5b32d",
	    "48b327575abe3adba0f279849e289022a13e2b47",
	    "a4a415c8e0c38c0da847c356cc61c24df8025560" },
	{ VPNR__V1_HASH_SHA2_256, "a0", "ead9ced494868f41", "f1aff4f425a94f18",
	    "558a99b299773d267cf7c8ef073bf3b7af362c206c75a538403c5ef884d4cace",
	    NULL, NULL,
	    "a1ff3dc6cf9b4c04709943cb4ca1f1789bcf360b03f1d027de3ae8ee039e9155",
	    NULL, "6c6beb72631ddc3d", "b84e24b22cffbd14",
	    "750c5c94b9c2ec20b68033e024dadf0fa87e8b48c6561b21c72478451a06583d",
	    "a4f7ca7de913814813e3312099e7c943bd293483f387532330237f1b20957310",
	    "1d4b705746c43b0a6fcbb8db33983c0f24ff6f8b6543e3779fed227c6067f004",
	    "03e6f16cd9ce9f64b5cdc5b34cca7163483ba5389a30afebef3d14640b0a815"
	    "e" },
};

static void
test_cavp_skeyid(void **state)
{
	uint8_t psk[8], ni[8], nr[8], gxy[64], ck_i[8], ck_r[8], sk[64];
	uint8_t out[64];
	struct vpnr__v1_keys k;
	size_t i, pl, nl, rl, gl, hl;

	(void)state;
	for (i = 0; i < sizeof(cavp) / sizeof(cavp[0]); i++) {
		hl = vpnr__v1_hash_len(cavp[i].hash);
		pl = unhex(cavp[i].psk, psk, sizeof(psk));
		nl = unhex(cavp[i].ni, ni, sizeof(ni));
		rl = unhex(cavp[i].nr, nr, sizeof(nr));
		assert_int_equal(vpnr__v1_skeyid_psk(cavp[i].hash, psk, pl, ni,
				     nl, nr, rl, out),
		    VPNR_OK);
		assert_hex(out, hl, cavp[i].skeyid_psk);

		gl = unhex(cavp[i].gxy, gxy, sizeof(gxy));
		if (cavp[i].sig_ni != NULL) {
			nl = unhex(cavp[i].sig_ni, ni, sizeof(ni));
			rl = unhex(cavp[i].sig_nr, nr, sizeof(nr));
			assert_int_equal(vpnr__v1_skeyid_sig(cavp[i].hash, ni,
					     nl, nr, rl, gxy, gl, out),
			    VPNR_OK);
			assert_hex(out, hl, cavp[i].skeyid_sig);
		}

		memset(&k, 0, sizeof(k));
		k.hash = cavp[i].hash;
		k.enc = VPNR__V1_ENC_AES_CBC;
		k.enc_bits = 128;
		unhex(cavp[i].cky_i, ck_i, sizeof(ck_i));
		unhex(cavp[i].cky_r, ck_r, sizeof(ck_r));
		unhex(cavp[i].skeyid, sk, sizeof(sk));
		assert_int_equal(vpnr__v1_derive(&k, sk, gxy, gl, ck_i, ck_r),
		    VPNR_OK);
		assert_int_equal(k.prf_len, hl);
		assert_hex(k.skeyid_d, hl, cavp[i].d);
		assert_hex(k.skeyid_a, hl, cavp[i].a);
		assert_hex(k.skeyid_e, hl, cavp[i].e);
		/* AES-128 needs 16 bytes: SKEYID_e truncated (App. B). */
		assert_int_equal(k.enc_len, 16);
		assert_memory_equal(k.enc_key, k.skeyid_e, 16);
		vpnr__v1_keys_wipe(&k);
		assert_int_equal(k.prf_len, 0);
	}
}

/*
 * Appendix B expansion and the KEYMAT chaining, NSS's vectors (SHA-1
 * and SHA-256): Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0x00).  The
 * Quick Mode form is Kn = prf(key, Kn-1 | seed) with seed 0x00, which
 * vpnr__v1_keymat computes with protocol 0 and nothing else.
 */
static void
test_appendix_b(void **state)
{
	static const struct {
		uint16_t hash;
		const char *key, *appb, *quick;
	} v[] = {
		{ VPNR__V1_HASH_SHA1,
		    "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
		    "933347a07de5782247dd36d1562ffe0eecade1eb4134165257e3af10"
		    "00af8ae3f165063828cbb60d910b7db38fa3c7f62c4afaaf3203da06"
		    "5c841729853edb23e9e7ac8286ae65c8cb6c667d79268c0bd6705abb"
		    "9131698eb822b1c1f9dd142fc7be2c1010ee0152e10195add98999c6"
		    "b6d42c8fe9c1b134d56ad5f2c6f20e815bd25c52",
		    "933347a07de5782247dd36d1562ffe0eecade1ebaeaa476a5f578c34"
		    "a9b2b7101a621202f61db924c5ef9efa3bb2698095841603b7ac8a88"
		    "0329a927ecd4ad53a944b607a5ac2f3d154e2748c188d7370d76be83"
		    "fc204fdacf0f66b99dd760ba619ffac65eda1420c8a936dac5a599af"
		    "af4043b29ef2b65dc042724355b550875316c6fd" },
		{ VPNR__V1_HASH_SHA2_256,
		    "5f00d1bd2c58ec224b1e6b71fa0f19a1faa7a193952c444411b47c1a"
		    "9d8ba6fe",
		    "b10fff32cbeaa1e7afe6ab0b191e0bd63cd524849a4b56019146d232"
		    "a24cf9af6b89494d2a360b06825db8bb0324c15cecf47fc0bc99e39b"
		    "f1171a7f4bf1733dc49ef64c642e73b054b2e82456e34fa3c822da47"
		    "5e27e403b3da3929da50e6aa9e7f9252c68fa069b4b0edd374e80d35"
		    "378c4f5e8ec285a1b169c92bbb5353d05ba94165",
		    "b10fff32cbeaa1e7afe6ab0b191e0bd63cd524849a4b56019146d232"
		    "a24cf9af59f18ed9aabbb2dbbafecf48d72a34a8f72fab2ff4f37e5c"
		    "917288a78ce00933612e9531a7469995c7f7cc33c7627cac3efbc819"
		    "330c4fe3bfa3788799630f37bcb74800d82bbebd17b1906e304a786f"
		    "4f810c266c15be1a30576039c293272748d65966" },
	};
	struct vpnr__v1_keys k;
	uint8_t key[64], out[132];
	size_t i, kl;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kl = unhex(v[i].key, key, sizeof(key));
		assert_int_equal(vpnr__v1_expand_key(v[i].hash, key, kl, out,
				     132),
		    VPNR_OK);
		assert_hex(out, 132, v[i].appb);
		/* Long enough already: the key itself, truncated. */
		assert_int_equal(vpnr__v1_expand_key(v[i].hash, key, kl, out,
				     15),
		    VPNR_OK);
		assert_memory_equal(out, key, 15);

		memset(&k, 0, sizeof(k));
		k.hash = v[i].hash;
		k.prf_len = kl;
		memcpy(k.skeyid_d, key, kl);
		assert_int_equal(vpnr__v1_keymat(&k, NULL, 0, 0, NULL, 0, NULL,
				     0, NULL, 0, out, 132),
		    VPNR_OK);
		assert_hex(out, 132, v[i].quick);
	}
	/* 3DES from a SHA-1 SKEYID_e (20 bytes) needs K1 | K2. */
	memset(&k, 0, sizeof(k));
	k.hash = VPNR__V1_HASH_SHA1;
	k.enc = VPNR__V1_ENC_3DES_CBC;
	unhex(v[0].key, key, sizeof(key));
	assert_int_equal(vpnr__v1_derive(&k, key, key, 20, key, key), VPNR_OK);
	assert_int_equal(k.enc_len, 24);
	assert_int_equal(vpnr__v1_expand_key(k.hash, k.skeyid_e, 20, out, 24),
	    VPNR_OK);
	assert_memory_equal(k.enc_key, out, 24);
	assert_int_equal(k.block_len, 8);
}

static void
hmac(const EVP_MD *md, const uint8_t *k, size_t kl, const uint8_t *d, size_t dl,
    uint8_t *out)
{
	unsigned int ol = 0;

	assert_non_null(HMAC(md, k, (int)kl, d, dl, out, &ol));
}

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* HASH_I/R, HASH(1)/(2)/(3), IVs, KEYMAT with PFS, NAT-D. */
static void
test_hashes_independent(void **state)
{
	struct vpnr__v1_keys k;
	uint8_t gxi[128], gxr[128], ck_i[8], ck_r[8], sa[60], idi[12], idr[8];
	uint8_t ni[32], nr[24], buf[600], want[64], got[64], spi[4], gq[64];
	uint8_t km[100], wkm[100], last[16], t[64];
	unsigned int ol;
	const EVP_MD *md = EVP_sha256();
	vpnr_addr a;
	size_t off;

	(void)state;
	fill(gxi, sizeof(gxi), 1);
	fill(gxr, sizeof(gxr), 2);
	fill(ck_i, 8, 3);
	fill(ck_r, 8, 4);
	fill(sa, sizeof(sa), 5);
	fill(idi, sizeof(idi), 6);
	fill(idr, sizeof(idr), 7);
	fill(ni, sizeof(ni), 8);
	fill(nr, sizeof(nr), 9);
	memset(&k, 0, sizeof(k));
	k.hash = VPNR__V1_HASH_SHA2_256;
	k.enc = VPNR__V1_ENC_AES_CBC;
	k.enc_bits = 256;
	assert_int_equal(vpnr__v1_skeyid_psk(k.hash, (const uint8_t *)"secret",
			     6, ni, 32, nr, 24, k.skeyid),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_derive(&k, k.skeyid, gxi, 128, ck_i, ck_r),
	    VPNR_OK);
	/* AES-256 from SHA-256: SKEYID_e is exactly long enough. */
	assert_memory_equal(k.enc_key, k.skeyid_e, 32);

	/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) */
	off = 0;
	memcpy(buf + off, gxi, 128), off += 128;
	memcpy(buf + off, gxr, 128), off += 128;
	memcpy(buf + off, ck_i, 8), off += 8;
	memcpy(buf + off, ck_r, 8), off += 8;
	memcpy(buf + off, sa, 60), off += 60;
	memcpy(buf + off, idi, 12), off += 12;
	hmac(md, k.skeyid, 32, buf, off, want);
	assert_int_equal(vpnr__v1_hash_auth(&k, 0, gxi, 128, gxr, 128, ck_i,
			     ck_r, sa, 60, idi, 12, got),
	    VPNR_OK);
	assert_memory_equal(got, want, 32);
	assert_int_equal(vpnr__v1_hash_verify(want, 32, got, 32), VPNR_OK);
	got[31] ^= 1;
	assert_int_equal(vpnr__v1_hash_verify(want, 32, got, 32),
	    VPNR_ERR_AUTH_FAILED);
	assert_int_equal(vpnr__v1_hash_verify(want, 32, got, 20),
	    VPNR_ERR_AUTH_FAILED);
	/* HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b) */
	off = 0;
	memcpy(buf + off, gxr, 128), off += 128;
	memcpy(buf + off, gxi, 128), off += 128;
	memcpy(buf + off, ck_r, 8), off += 8;
	memcpy(buf + off, ck_i, 8), off += 8;
	memcpy(buf + off, sa, 60), off += 60;
	memcpy(buf + off, idr, 8), off += 8;
	hmac(md, k.skeyid, 32, buf, off, want);
	assert_int_equal(vpnr__v1_hash_auth(&k, 1, gxi, 128, gxr, 128, ck_i,
			     ck_r, sa, 60, idr, 8, got),
	    VPNR_OK);
	assert_memory_equal(got, want, 32);

	/* HASH(1) = prf(SKEYID_a, M-ID | rest); M-ID big-endian */
	buf[0] = 0x12, buf[1] = 0x34, buf[2] = 0x56, buf[3] = 0x78;
	memcpy(buf + 4, sa, 60);
	hmac(md, k.skeyid_a, 32, buf, 64, want);
	assert_int_equal(vpnr__v1_hash1(&k, 0x12345678, sa, 60, got), VPNR_OK);
	assert_memory_equal(got, want, 32);
	/* HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest) */
	memcpy(buf + 4, ni, 32);
	memcpy(buf + 36, sa, 60);
	hmac(md, k.skeyid_a, 32, buf, 96, want);
	assert_int_equal(vpnr__v1_hash2(&k, 0x12345678, ni, 32, sa, 60, got),
	    VPNR_OK);
	assert_memory_equal(got, want, 32);
	/* HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
	buf[0] = 0;
	buf[1] = 0x12, buf[2] = 0x34, buf[3] = 0x56, buf[4] = 0x78;
	memcpy(buf + 5, ni, 32);
	memcpy(buf + 37, nr, 24);
	hmac(md, k.skeyid_a, 32, buf, 61, want);
	assert_int_equal(vpnr__v1_hash3(&k, 0x12345678, ni, 32, nr, 24, got),
	    VPNR_OK);
	assert_memory_equal(got, want, 32);

	/* Phase 1 IV = SHA-256(g^xi | g^xr)[0..16) */
	memcpy(buf, gxi, 128);
	memcpy(buf + 128, gxr, 128);
	assert_int_equal(EVP_Digest(buf, 256, want, &ol, md, NULL), 1);
	assert_int_equal(vpnr__v1_p1_iv(&k, gxi, 128, gxr, 128, got), VPNR_OK);
	assert_memory_equal(got, want, 16);
	/* Phase 2 IV = SHA-256(last block | M-ID)[0..16) */
	fill(last, 16, 10);
	memcpy(buf, last, 16);
	buf[16] = 0xde, buf[17] = 0xad, buf[18] = 0xbe, buf[19] = 0xef;
	assert_int_equal(EVP_Digest(buf, 20, want, &ol, md, NULL), 1);
	assert_int_equal(vpnr__v1_p2_iv(&k, last, 0xdeadbeef, got), VPNR_OK);
	assert_memory_equal(got, want, 16);

	/* KEYMAT with PFS: K1 = prf(SKEYID_d, g^xy | 3 | SPI | Ni | Nr) */
	fill(spi, 4, 11);
	fill(gq, sizeof(gq), 12);
	off = 0;
	memcpy(buf + off, gq, 64), off += 64;
	buf[off++] = 3;
	memcpy(buf + off, spi, 4), off += 4;
	memcpy(buf + off, ni, 32), off += 32;
	memcpy(buf + off, nr, 24), off += 24;
	hmac(md, k.skeyid_d, 32, buf, off, wkm);
	memmove(buf + 32, buf, off);
	memcpy(buf, wkm, 32);
	for (size_t n = 32; n < sizeof(wkm); n += 32) {
		hmac(md, k.skeyid_d, 32, buf, off + 32, t);
		memcpy(wkm + n, t, sizeof(wkm) - n < 32 ? sizeof(wkm) - n : 32);
		memcpy(buf, t, 32);
	}
	assert_int_equal(vpnr__v1_keymat(&k, gq, 64, 3, spi, 4, ni, 32, nr, 24,
			     km, sizeof(km)),
	    VPNR_OK);
	assert_memory_equal(km, wkm, sizeof(km));

	/* NAT-D = HASH(CKY-I | CKY-R | IP | Port) */
	assert_int_equal(vpnr_addr_parse(&a, "192.0.2.1:4500"), VPNR_OK);
	memcpy(buf, ck_i, 8);
	memcpy(buf + 8, ck_r, 8);
	buf[16] = 192, buf[17] = 0, buf[18] = 2, buf[19] = 1;
	buf[20] = 0x11, buf[21] = 0x94;
	assert_int_equal(EVP_Digest(buf, 22, want, &ol, EVP_sha1(), NULL), 1);
	assert_int_equal(vpnr__v1_natd(VPNR__V1_HASH_SHA1, ck_i, ck_r, &a, got),
	    VPNR_OK);
	assert_memory_equal(got, want, 20);
	vpnr__v1_keys_wipe(&k);
}

/* Every hash works bare and as HMAC; unknown ids are refused. */
static void
test_hash_prf_all(void **state)
{
	static const struct {
		uint16_t id;
		const char *name;
	} h[] = {
		{ VPNR__V1_HASH_MD5, "MD5" },
		{ VPNR__V1_HASH_SHA1, "SHA1" },
		{ VPNR__V1_HASH_SHA2_256, "SHA256" },
		{ VPNR__V1_HASH_SHA2_384, "SHA384" },
		{ VPNR__V1_HASH_SHA2_512, "SHA512" },
	};
	const uint8_t msg[] = "abc", key[] = "key";
	struct vpnr__iov iov = { msg, 3 };
	uint8_t want[64], got[64];
	unsigned int ol;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		const EVP_MD *md = EVP_get_digestbyname(h[i].name);

		assert_non_null(md);
		assert_int_equal(vpnr__v1_hash_len(h[i].id),
		    (size_t)EVP_MD_get_size(md));
		assert_int_equal(EVP_Digest(msg, 3, want, &ol, md, NULL), 1);
		assert_int_equal(vpnr__v1_hash(h[i].id, &iov, 1, got), VPNR_OK);
		assert_memory_equal(got, want, ol);
		hmac(md, key, 3, msg, 3, want);
		assert_int_equal(vpnr__v1_prf(h[i].id, key, 3, &iov, 1, got),
		    VPNR_OK);
		assert_memory_equal(got, want, ol);
	}
	assert_int_equal(vpnr__v1_hash_len(3), 0);
	assert_int_equal(vpnr__v1_prf(3, key, 3, &iov, 1, got),
	    VPNR_ERR_UNSUPPORTED);
	assert_int_equal(vpnr__v1_skeyid_psk(VPNR__V1_HASH_SHA1, key, 0, msg, 3,
			     msg, 3, got),
	    VPNR_ERR_INVALID_ARGUMENT);
}

/* CBC against EVP one-shot, both ciphers; bad lengths refused. */
static void
test_cbc(void **state)
{
	uint8_t key[32], iv[16], pt[64], ct[64], buf[64];
	EVP_CIPHER_CTX *c;
	int ol = 0;

	(void)state;
	fill(key, 32, 1);
	fill(iv, 16, 2);
	fill(pt, 64, 3);
	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_des_ede3_cbc(), NULL, key,
			     iv),
	    1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, ct, &ol, pt, 64), 1);
	memcpy(buf, pt, 64);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_3DES_CBC, 1, key, 24, iv,
			     buf, 64),
	    VPNR_OK);
	assert_memory_equal(buf, ct, 64);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_3DES_CBC, 0, key, 24, iv,
			     buf, 64),
	    VPNR_OK);
	assert_memory_equal(buf, pt, 64);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_192_cbc(), NULL, key,
			     iv),
	    1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, ct, &ol, pt, 64), 1);
	memcpy(buf, pt, 64);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_AES_CBC, 1, key, 24, iv, buf,
			     64),
	    VPNR_OK);
	assert_memory_equal(buf, ct, 64);
	EVP_CIPHER_CTX_free(c);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_AES_CBC, 1, key, 24, iv, buf,
			     60),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_AES_CBC, 1, key, 20, iv, buf,
			     64),
	    VPNR_ERR_UNSUPPORTED);
	assert_int_equal(vpnr__v1_cbc(VPNR__V1_ENC_3DES_CBC, 1, key, 16, iv,
			     buf, 64),
	    VPNR_ERR_UNSUPPORTED);
	assert_int_equal(vpnr__v1_cipher_key_len(VPNR__V1_ENC_AES_CBC, 0), 0);
	assert_int_equal(vpnr__v1_cipher_key_len(VPNR__V1_ENC_3DES_CBC, 0), 24);
}

/* DH: both sides agree for every IKEv1 group; group 5 checks y. */
static void
test_dh_groups(void **state)
{
	static const uint16_t groups[] = { 2, 5, 14, 15, 16, 19, 20, 21 };
	struct vpnr__v1_dh *a, *b;
	uint8_t pa[512], pb[512], sa[512], sb[512];
	size_t i, pl, la, lb;

	(void)state;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		assert_true(vpnr__v1_dh_supported(groups[i]));
		pl = vpnr__v1_dh_public_len(groups[i]);
		assert_true(pl > 0 && pl <= sizeof(pa));
		assert_int_equal(vpnr__v1_dh_new(groups[i], &a), VPNR_OK);
		assert_int_equal(vpnr__v1_dh_new(groups[i], &b), VPNR_OK);
		assert_int_equal(vpnr__v1_dh_group(a), groups[i]);
		assert_int_equal(vpnr__v1_dh_public(a, pa, sizeof(pa)),
		    VPNR_OK);
		assert_int_equal(vpnr__v1_dh_public(b, pb, sizeof(pb)),
		    VPNR_OK);
		assert_int_equal(vpnr__v1_dh_derive(a, pb, pl, sa, sizeof(sa),
				     &la),
		    VPNR_OK);
		assert_int_equal(vpnr__v1_dh_derive(b, pa, pl, sb, sizeof(sb),
				     &lb),
		    VPNR_OK);
		assert_int_equal(la, lb);
		assert_memory_equal(sa, sb, la);
		/* Wrong length, and y = 1 (MODP) / zeros (ECP). */
		assert_int_equal(vpnr__v1_dh_derive(a, pb, pl - 1, sa,
				     sizeof(sa), &la),
		    VPNR_ERR_MALFORMED);
		memset(pb, 0, pl);
		pb[pl - 1] = 1;
		assert_int_equal(vpnr__v1_dh_derive(a, pb, pl, sa, sizeof(sa),
				     &la),
		    VPNR_ERR_MALFORMED);
		vpnr__v1_dh_free(a);
		vpnr__v1_dh_free(b);
	}
	/* group 5: p - 1 is refused too */
	assert_int_equal(vpnr__v1_dh_new(5, &a), VPNR_OK);
	memset(pb, 0xff, 192);
	pb[191] = 0xfe; /* p = 2^1536 - ... ends in ff..ff: p-1 ends fe */
	assert_int_equal(vpnr__v1_dh_derive(a, pb, 192, sa, sizeof(sa), &la),
	    VPNR_ERR_MALFORMED);
	vpnr__v1_dh_free(a);
	assert_false(vpnr__v1_dh_supported(1));
	assert_false(vpnr__v1_dh_supported(31));
	assert_int_equal(vpnr__v1_dh_new(31, &a), VPNR_ERR_UNSUPPORTED);
}

static struct vpnr__v1_msg cm;
static uint8_t cbuf[1024];

/* Decrypt a captured message with iv; parse; *next gets the next IV. */
static void
cap_open(const uint8_t *pkt, size_t len, const struct vpnr__v1_keys *k,
    const uint8_t *iv, uint8_t *next)
{
	struct vpnr__v1_perr e;
	size_t olen;

	assert_int_equal(vpnr__v1_parse(&cm, pkt, len, 0, &e), VPNR_OK);
	assert_true(cm.encrypted);
	assert_int_equal(vpnr__v1_decrypt(pkt, len, k->enc, k->enc_key,
			     k->enc_len, iv, cbuf, sizeof(cbuf), &olen, next,
			     &e),
	    VPNR_OK);
	if (vpnr__v1_parse(&cm, cbuf, olen, VPNR__V1_PARSE_DECRYPTED, &e) !=
	    VPNR_OK)
		fail_msg("decrypted message: %s at %zu",
		    vpnr__v1_perr_str(e.reason), e.offset);
}

static void
test_strongswan_capture(void **state)
{
	struct vpnr__prop ike, esp;
	struct vpnr__v1_p1_suite p1;
	struct vpnr__v1_p2_suite p2;
	struct vpnr__v1_keys k;
	struct vpnr__v1_perr e;
	uint8_t cky_i[8], cky_r[8], gxi[128], gxr[128], ni[64], nr[64];
	uint8_t sai[512], iv[16], next[16], h[20], qni[64], qnr[64];
	uint8_t km[36];
	size_t sai_len, ni_len, nr_len, qni_len, qnr_len;
	uint32_t mid;

	(void)state;
	assert_int_equal(vpnr__v1_prop_parse(&ike, VPNR__PROTO_IKE,
			     "aes128-sha1-modp1024", NULL, 0),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_prop_parse(&esp, VPNR__PROTO_ESP,
			     "aes128-sha1-modp1024", NULL, 0),
	    VPNR_OK);
	/* MM1: SA (we would select it), VIDs */
	assert_int_equal(vpnr__v1_parse(&cm, v1cap_mm1, sizeof(v1cap_mm1), 0,
			     &e),
	    VPNR_OK);
	assert_int_equal(cm.hdr.exchange, VPNR__V1_EXCH_MAIN);
	assert_true(vpnr__v1_has_vid(&cm, VPNR__V1_VID_NATT_RFC3947));
	assert_true(vpnr__v1_has_vid(&cm, VPNR__V1_VID_DPD));
	assert_int_equal(vpnr__v1_p1_select(&ike, 1, &cm.sa, &p1), VPNR_OK);
	assert_int_equal(p1.enc, VPNR__V1_ENC_AES_CBC);
	assert_int_equal(p1.enc_bits, 128);
	assert_int_equal(p1.hash, VPNR__V1_HASH_SHA1);
	assert_int_equal(p1.group, 2);
	assert_true(cm.sa_body_len <= sizeof(sai));
	memcpy(sai, cm.sa_body, cm.sa_body_len);
	sai_len = cm.sa_body_len;
	memcpy(cky_i, cm.hdr.cky_i, 8);
	/* MM2: the echoed transform; we accept it */
	assert_int_equal(vpnr__v1_parse(&cm, v1cap_mm2, sizeof(v1cap_mm2), 0,
			     &e),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_p1_accept(&ike, 1, &cm.sa, &p1), VPNR_OK);
	memcpy(cky_r, cm.hdr.cky_r, 8);
	/* MM3, MM4: KE, nonces, NAT-D */
	assert_int_equal(vpnr__v1_parse(&cm, v1cap_mm3, sizeof(v1cap_mm3), 0,
			     &e),
	    VPNR_OK);
	assert_int_equal(cm.ke_len, 128);
	assert_int_equal(cm.n_natd, 2);
	memcpy(gxi, cm.ke, 128);
	ni_len = cm.nonce_len;
	memcpy(ni, cm.nonce, ni_len);
	assert_int_equal(vpnr__v1_parse(&cm, v1cap_mm4, sizeof(v1cap_mm4), 0,
			     &e),
	    VPNR_OK);
	memcpy(gxr, cm.ke, 128);
	nr_len = cm.nonce_len;
	memcpy(nr, cm.nonce, nr_len);

	/* SKEYID, SKEYID_d/a/e, Ka, the initial IV: as charon logged */
	memset(&k, 0, sizeof(k));
	k.hash = p1.hash;
	k.enc = p1.enc;
	k.enc_bits = p1.enc_bits;
	assert_int_equal(vpnr__v1_skeyid_psk(k.hash, (const uint8_t *)v1cap_psk,
			     strlen(v1cap_psk), ni, ni_len, nr, nr_len,
			     k.skeyid),
	    VPNR_OK);
	assert_memory_equal(k.skeyid, v1cap_skeyid, 20);
	assert_int_equal(vpnr__v1_derive(&k, k.skeyid, v1cap_gxy,
			     sizeof(v1cap_gxy), cky_i, cky_r),
	    VPNR_OK);
	assert_memory_equal(k.skeyid_d, v1cap_skeyid_d, 20);
	assert_memory_equal(k.skeyid_a, v1cap_skeyid_a, 20);
	assert_memory_equal(k.skeyid_e, v1cap_skeyid_e, 20);
	assert_memory_equal(k.enc_key, v1cap_ka, 16);
	assert_int_equal(vpnr__v1_p1_iv(&k, gxi, 128, gxr, 128, iv), VPNR_OK);
	assert_memory_equal(iv, v1cap_iv0, 16);

	/* MM5: IDii + HASH_I, decrypted with the initial IV */
	cap_open(v1cap_mm5, sizeof(v1cap_mm5), &k, iv, next);
	assert_int_equal(cm.n_id, 1);
	assert_int_equal(cm.id[0].type, VPNR__V1_ID_IPV4_ADDR);
	assert_memory_equal(cm.id[0].data, "\xcb\x00\x71\x01", 4);
	assert_int_equal(vpnr__v1_hash_auth(&k, 0, gxi, 128, gxr, 128, cky_i,
			     cky_r, sai, sai_len, cm.id[0].body,
			     cm.id[0].body_len, h),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_OK);
	/* a wrong PSK would not verify */
	h[0] ^= 1;
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_ERR_AUTH_FAILED);
	/* MM6: IDir + HASH_R, with the IV chained from MM5 */
	memcpy(iv, next, 16);
	cap_open(v1cap_mm6, sizeof(v1cap_mm6), &k, iv, next);
	assert_int_equal(vpnr__v1_hash_auth(&k, 1, gxi, 128, gxr, 128, cky_i,
			     cky_r, sai, sai_len, cm.id[0].body,
			     cm.id[0].body_len, h),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_OK);

	/* QM1: IV = hash(last Phase 1 block | M-ID); HASH(1); SA; PFS */
	mid = (uint32_t)v1cap_qm1[20] << 24 | (uint32_t)v1cap_qm1[21] << 16 |
	    (uint32_t)v1cap_qm1[22] << 8 | v1cap_qm1[23];
	assert_int_equal(vpnr__v1_p2_iv(&k, next, mid, iv), VPNR_OK);
	cap_open(v1cap_qm1, sizeof(v1cap_qm1), &k, iv, next);
	assert_int_equal(cm.hdr.msg_id, mid);
	assert_true(cm.hash_first);
	assert_int_equal(vpnr__v1_hash1(&k, mid, cm.after_hash,
			     cm.after_hash_len, h),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_p2_select(&esp, 1, &cm.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &p2),
	    VPNR_OK);
	assert_int_equal(p2.suite.dh, 2);
	assert_int_equal(p2.suite.encr_bits, 128);
	assert_int_equal(vpnr__v1_esp_keymat_len(&p2.suite), sizeof(km));
	assert_true(cm.has_ke);
	qni_len = cm.nonce_len;
	memcpy(qni, cm.nonce, qni_len);
	/* QM2: HASH(2) over Ni_b and the rest; we accept the SA */
	memcpy(iv, next, 16);
	cap_open(v1cap_qm2, sizeof(v1cap_qm2), &k, iv, next);
	assert_int_equal(vpnr__v1_hash2(&k, mid, qni, qni_len, cm.after_hash,
			     cm.after_hash_len, h),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_p2_accept(&esp, 1, &cm.sa,
			     VPNR__V1_ENCAP_UDP_TUNNEL, &p2),
	    VPNR_OK);
	qnr_len = cm.nonce_len;
	memcpy(qnr, cm.nonce, qnr_len);
	/* QM3: HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b) */
	memcpy(iv, next, 16);
	cap_open(v1cap_qm3, sizeof(v1cap_qm3), &k, iv, next);
	assert_int_equal(cm.n_payloads, 1);
	assert_int_equal(vpnr__v1_hash3(&k, mid, qni, qni_len, qnr, qnr_len, h),
	    VPNR_OK);
	assert_int_equal(vpnr__v1_hash_verify(h, 20, cm.hash, cm.hash_len),
	    VPNR_OK);

	/* KEYMAT with g(qm)^xy, per SPI: encryption key | integrity key */
	assert_int_equal(vpnr__v1_keymat(&k, v1cap_qm_gxy, sizeof(v1cap_qm_gxy),
			     VPNR__V1_PROTO_ESP, v1cap_spi_i, 4, qni, qni_len,
			     qnr, qnr_len, km, sizeof(km)),
	    VPNR_OK);
	assert_memory_equal(km, v1cap_esp_ei, 16);
	assert_memory_equal(km + 16, v1cap_esp_ai, 20);
	assert_int_equal(vpnr__v1_keymat(&k, v1cap_qm_gxy, sizeof(v1cap_qm_gxy),
			     VPNR__V1_PROTO_ESP, v1cap_spi_r, 4, qni, qni_len,
			     qnr, qnr_len, km, sizeof(km)),
	    VPNR_OK);
	assert_memory_equal(km, v1cap_esp_er, 16);
	assert_memory_equal(km + 16, v1cap_esp_ar, 20);
	vpnr__v1_keys_wipe(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cavp_skeyid),
		cmocka_unit_test(test_appendix_b),
		cmocka_unit_test(test_hashes_independent),
		cmocka_unit_test(test_hash_prf_all),
		cmocka_unit_test(test_cbc),
		cmocka_unit_test(test_dh_groups),
		cmocka_unit_test(test_strongswan_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
