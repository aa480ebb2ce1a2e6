/*
 * IKEv2 key derivation and PSK AUTH (RFC 7296 2.13-2.18, 2.15)
 * against an independent computation with OpenSSL's HMAC, and the SK
 * payload (3.14, RFC 5282) round trip with tampering.
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

#include "ike.h"
#include "ike_msg.h"

static void
hmac(const EVP_MD *md, const uint8_t *k, size_t kl, const uint8_t *d, size_t dl,
    uint8_t *out)
{
	unsigned int ol = 0;

	assert_non_null(HMAC(md, k, (int)kl, d, dl, out, &ol));
}

/* prf+ (2.13) with HMAC, written out independently. */
static void
prf_plus(const EVP_MD *md, const uint8_t *k, size_t kl, const uint8_t *s,
    size_t sl, uint8_t *out, size_t outlen)
{
	uint8_t t[64], buf[64 + 512 + 1];
	size_t hl = (size_t)EVP_MD_get_size(md), tl = 0, off = 0, n;
	uint8_t i = 1;

	while (off < outlen) {
		memcpy(buf, t, tl);
		memcpy(buf + tl, s, sl);
		buf[tl + sl] = i++;
		hmac(md, k, kl, buf, tl + sl + 1, t);
		tl = hl;
		n = outlen - off < hl ? outlen - off : hl;
		memcpy(out + off, t, n);
		off += n;
	}
}

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

static struct tunnel tun;
/* Nonce storage for the SAs a test has at once (they point into it). */
static uint8_t nonces[4][48];
static int nonce_next;

static void
sa_init(struct ike_sa *sa, uint16_t prf, uint16_t integ, uint16_t encr,
    uint16_t bits)
{
	memset(sa, 0, sizeof(*sa));
	sa->tun = &tun;
	sa->suite.prf = prf;
	sa->suite.integ = integ;
	sa->suite.encr = encr;
	sa->suite.encr_bits = bits;
	sa->spi_i = 0x0102030405060708ULL;
	sa->spi_r = 0x1112131415161718ULL;
	sa->ni = nonces[nonce_next++ % 4];
	sa->nr = nonces[nonce_next++ % 4];
	sa->ni_len = 32;
	sa->nr_len = 48;
	fill(sa->ni, sa->ni_len, 1);
	fill(sa->nr, sa->nr_len, 2);
}

static void
check_keys(const EVP_MD *md, const uint8_t *skeyseed, struct ike_sa *sa)
{
	uint8_t seed[32 + 48 + 16], km[512];
	size_t pl = (size_t)EVP_MD_get_size(md), il = sa->keys.integ_len;
	size_t el = sa->keys.encr_len, off = 0;
	int i;

	memcpy(seed, sa->ni, 32);
	memcpy(seed + 32, sa->nr, 48);
	for (i = 0; i < 8; i++) {
		seed[80 + i] = (uint8_t)(sa->spi_i >> (56 - 8 * i));
		seed[88 + i] = (uint8_t)(sa->spi_r >> (56 - 8 * i));
	}
	prf_plus(md, skeyseed, pl, seed, sizeof(seed), km,
	    3 * pl + 2 * il + 2 * el);
	assert_memory_equal(sa->keys.sk_d, km + off, pl);
	off += pl;
	assert_memory_equal(sa->keys.sk_ai, km + off, il);
	off += il;
	assert_memory_equal(sa->keys.sk_ar, km + off, il);
	off += il;
	assert_memory_equal(sa->keys.sk_ei, km + off, el);
	off += el;
	assert_memory_equal(sa->keys.sk_er, km + off, el);
	off += el;
	assert_memory_equal(sa->keys.sk_pi, km + off, pl);
	off += pl;
	assert_memory_equal(sa->keys.sk_pr, km + off, pl);
}

static void
test_skeyseed_and_keys(void **state)
{
	struct ike_sa sa, n;
	uint8_t gir[256], nn[80], skeyseed[64], in[256 + 80];
	const EVP_MD *md = EVP_sha256();

	sa_init(&sa, 5, 12, 12, 256);
	fill(gir, sizeof(gir), 7);
	assert_int_equal(vpnr__ike_keymat(NULL, &sa, NULL, 0, 0, gir,
			     sizeof(gir)),
	    VPNR_OK);
	assert_int_equal(sa.keys.integ_len, 32);
	assert_int_equal(sa.keys.encr_len, 32);
	memcpy(nn, sa.ni, 32);
	memcpy(nn + 32, sa.nr, 48);
	hmac(md, nn, 80, gir, sizeof(gir), skeyseed); /* 2.14 */
	check_keys(md, skeyseed, &sa);

	/* Rekey (2.18): SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr),
	 * here with a different PRF for the new SA and GCM (salt). */
	sa_init(&n, 7, 0, 20, 128);
	n.spi_i = 0xa1a2a3a4a5a6a7a8ULL;
	fill(gir, 32, 9);
	assert_int_equal(vpnr__ike_keymat(NULL, &n, sa.keys.sk_d,
			     sa.keys.prf_len, 5, gir, 32),
	    VPNR_OK);
	assert_int_equal(n.keys.encr_len, 16 + 4);
	assert_int_equal(n.keys.integ_len, 0);
	memcpy(in, gir, 32);
	memcpy(in + 32, n.ni, 32);
	memcpy(in + 64, n.nr, 48);
	hmac(md, sa.keys.sk_d, 32, in, 112, skeyseed);
	/* prf+ of the new SA runs with its own PRF (SHA-512) keyed with
	 * the 32-byte SKEYSEED of the old PRF (SHA-256). */
	{
		uint8_t seed[32 + 48 + 16], km[3 * 64 + 2 * 20];
		size_t off;

		memcpy(seed, n.ni, 32);
		memcpy(seed + 32, n.nr, 48);
		for (off = 0; off < 8; off++) {
			seed[80 + off] = (uint8_t)(n.spi_i >> (56 - 8 * off));
			seed[88 + off] = (uint8_t)(n.spi_r >> (56 - 8 * off));
		}
		prf_plus(EVP_sha512(), skeyseed, 32, seed, sizeof(seed), km,
		    sizeof(km));
		assert_memory_equal(n.keys.sk_d, km, 64);
		assert_memory_equal(n.keys.sk_ei, km + 64, 20);
		assert_memory_equal(n.keys.sk_er, km + 84, 20);
		assert_memory_equal(n.keys.sk_pi, km + 104, 64);
		assert_memory_equal(n.keys.sk_pr, km + 168, 64);
	}
	vpnr__ike_keys_free(NULL, &n.keys);
	vpnr__ike_keys_free(NULL, &sa.keys);
}

static void
test_rekey_same_prf(void **state)
{
	struct ike_sa sa, n;
	uint8_t gir[97], skeyseed[64], in[97 + 80];
	const EVP_MD *md = EVP_sha384();

	sa_init(&sa, 6, 13, 12, 128);
	fill(gir, sizeof(gir), 3);
	assert_int_equal(vpnr__ike_keymat(NULL, &sa, NULL, 0, 0, gir,
			     sizeof(gir)),
	    VPNR_OK);
	sa_init(&n, 6, 13, 12, 128);
	n.spi_r = 0x5555666677778888ULL;
	assert_int_equal(vpnr__ike_keymat(NULL, &n, sa.keys.sk_d,
			     sa.keys.prf_len, 6, gir, sizeof(gir)),
	    VPNR_OK);
	memcpy(in, gir, sizeof(gir));
	memcpy(in + sizeof(gir), n.ni, 32);
	memcpy(in + sizeof(gir) + 32, n.nr, 48);
	hmac(md, sa.keys.sk_d, 48, in, sizeof(in), skeyseed);
	check_keys(md, skeyseed, &n);
	vpnr__ike_keys_free(NULL, &n.keys);
	vpnr__ike_keys_free(NULL, &sa.keys);
}

static void
test_child_keymat(void **state)
{
	struct ike_sa sa;
	uint8_t gir[32], km[128], want[128], seed[32 + 32 + 48];
	uint8_t ni[32], nr[48];

	sa_init(&sa, 5, 12, 12, 256);
	fill(gir, sizeof(gir), 5);
	assert_int_equal(vpnr__ike_keymat(NULL, &sa, NULL, 0, 0, gir,
			     sizeof(gir)),
	    VPNR_OK);
	fill(ni, sizeof(ni), 21);
	fill(nr, sizeof(nr), 22);
	/* Without PFS: prf+(SK_d, Ni | Nr). */
	assert_int_equal(vpnr__child_keymat(&sa, NULL, 0, ni, 32, nr, 48, km,
			     sizeof(km)),
	    VPNR_OK);
	memcpy(seed, ni, 32);
	memcpy(seed + 32, nr, 48);
	prf_plus(EVP_sha256(), sa.keys.sk_d, 32, seed, 80, want, sizeof(want));
	assert_memory_equal(km, want, sizeof(km));
	/* With PFS: prf+(SK_d, g^ir (new) | Ni | Nr). */
	assert_int_equal(vpnr__child_keymat(&sa, gir, 32, ni, 32, nr, 48, km,
			     sizeof(km)),
	    VPNR_OK);
	memcpy(seed, gir, 32);
	memcpy(seed + 32, ni, 32);
	memcpy(seed + 64, nr, 48);
	prf_plus(EVP_sha256(), sa.keys.sk_d, 32, seed, sizeof(seed), want,
	    sizeof(want));
	assert_memory_equal(km, want, sizeof(km));
	vpnr__ike_keys_free(NULL, &sa.keys);
}

static void
test_psk_auth(void **state)
{
	struct ike_sa sa;
	uint8_t gir[64], msg1[100], id[8] = { 1, 0, 0, 0, 192, 0, 2, 1 };
	uint8_t out[64], padkey[32], macid[32], all[100 + 48 + 32], want[32];
	size_t olen = 0;
	static const char pad[] = "Key Pad for IKEv2";

	sa_init(&sa, 5, 12, 12, 256);
	fill(gir, sizeof(gir), 11);
	assert_int_equal(vpnr__ike_keymat(NULL, &sa, NULL, 0, 0, gir,
			     sizeof(gir)),
	    VPNR_OK);
	tun.cfg.psk = (uint8_t *)"correct horse";
	tun.cfg.psk_len = 13;
	fill(msg1, sizeof(msg1), 33);
	sa.init_req = msg1;
	sa.init_req_len = sizeof(msg1);
	/* Initiator: RealMessage1 | NonceRData | prf(SK_pi, IDi'). */
	assert_int_equal(vpnr__ike_auth_compute(&sa, 1, id, sizeof(id), out,
			     &olen),
	    VPNR_OK);
	assert_int_equal(olen, 32);
	hmac(EVP_sha256(), tun.cfg.psk, 13, (const uint8_t *)pad,
	    sizeof(pad) - 1, padkey);
	hmac(EVP_sha256(), sa.keys.sk_pi, 32, id, sizeof(id), macid);
	memcpy(all, msg1, 100);
	memcpy(all + 100, sa.nr, 48);
	memcpy(all + 148, macid, 32);
	hmac(EVP_sha256(), padkey, 32, all, sizeof(all), want);
	assert_memory_equal(out, want, 32);
	sa.init_req = NULL;
	tun.cfg.psk = NULL;
	vpnr__ike_keys_free(NULL, &sa.keys);
}

static int
det_rand(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	memset(buf, 0x5a, len);
	return VPNR_OK;
}

static void
sk_roundtrip(uint16_t encr, uint16_t bits, uint16_t integ)
{
	struct ike_sa a, b;
	struct vpnr__ike_hdr hdr;
	struct vpnr__ike_msg m;
	struct vpnr__wbuf w, inner;
	struct vpnr__ike_builder ib;
	vpnr_callbacks cb;
	vpnr_ctx *ctx;
	uint8_t gir[32], *p;
	size_t len;
	uint64_t tid;
	vpnr_tunnel_config *tc;
	vpnr_addr l, r;

	memset(&cb, 0, sizeof(cb));
	cb.rand_bytes = det_rand;
	assert_int_equal(vpnr_ctx_new(&ctx, NULL, &cb, NULL, NULL, NULL, NULL),
	    VPNR_OK);
	/* A tunnel creates the IKE module (scratch buffer). */
	vpnr_tunnel_config_new(&tc, NULL);
	vpnr_addr_parse(&l, "192.0.2.1");
	vpnr_addr_parse(&r, "192.0.2.2");
	vpnr_tunnel_config_set_addrs(tc, &l, &r);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)"x", 1);
	assert_int_equal(vpnr_tunnel_add(ctx, tc, NULL, &tid), VPNR_OK);
	vpnr_tunnel_config_del(tc);
	sa_init(&a, 5, integ, encr, bits);
	fill(gir, sizeof(gir), 1);
	assert_int_equal(vpnr__ike_keymat(NULL, &a, NULL, 0, 0, gir, 32),
	    VPNR_OK);
	b = a;
	a.initiator = 1;
	b.initiator = 0;
	/* inner: one notify */
	vpnr__wbuf_init(&inner, NULL, 65535);
	vpnr__ike_build_begin_inner(&ib, &inner);
	vpnr__ike_add_notify(&ib, 0, NULL, 0, 16384, NULL, 0);
	assert_int_equal(vpnr__ike_build_end(&ib), 0);
	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = a.spi_i;
	hdr.spi_r = a.spi_r;
	hdr.exchange = 37;
	hdr.flags = 0x08;
	hdr.msg_id = 5;
	vpnr__wbuf_init(&w, NULL, 65535);
	assert_int_equal(vpnr__ike_sk_build(ctx, &a, &hdr,
			     vpnr__wbuf_data(&inner), vpnr__wbuf_len(&inner),
			     vpnr__ike_build_first(&ib), &w),
	    VPNR_OK);
	p = (uint8_t *)vpnr__wbuf_data(&w);
	len = vpnr__wbuf_len(&w);
	assert_int_equal(vpnr__ike_parse(&m, p, len), VPNR_OK);
	assert_int_equal(vpnr__ike_sk_open(ctx, &b, &m, p, len), VPNR_OK);
	assert_non_null(vpnr__ike_find_notify(&m, 16384));
	/* The sender cannot open its own message (other direction). */
	assert_int_equal(vpnr__ike_parse(&m, p, len), VPNR_OK);
	assert_int_equal(vpnr__ike_sk_open(ctx, &a, &m, p, len),
	    VPNR_ERR_INTEGRITY);
	/* Any flipped bit (header, IV, ciphertext, ICV) is refused. */
	p[20] ^= 1; /* message id */
	assert_int_equal(vpnr__ike_parse(&m, p, len), VPNR_OK);
	assert_int_equal(vpnr__ike_sk_open(ctx, &b, &m, p, len),
	    VPNR_ERR_INTEGRITY);
	p[20] ^= 1;
	p[len - 1] ^= 0x80;
	assert_int_equal(vpnr__ike_parse(&m, p, len), VPNR_OK);
	assert_int_equal(vpnr__ike_sk_open(ctx, &b, &m, p, len),
	    VPNR_ERR_INTEGRITY);
	vpnr__wbuf_free(&w);
	vpnr__wbuf_free(&inner);
	vpnr__ike_keys_free(NULL, &a.keys); /* b shares them */
	vpnr_ctx_del(ctx);
}

static void
test_sk_payload(void **state)
{
	sk_roundtrip(12, 128, 2);
	sk_roundtrip(12, 256, 12);
	sk_roundtrip(12, 256, 14);
	sk_roundtrip(20, 128, 0);
	sk_roundtrip(20, 256, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_skeyseed_and_keys),
		cmocka_unit_test(test_rekey_same_prf),
		cmocka_unit_test(test_child_keymat),
		cmocka_unit_test(test_psk_auth),
		cmocka_unit_test(test_sk_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
