/*
 * Built-in ESP data plane (ipsec/esp*.c): GCM known answers from
 * draft-mcgrew-gcm-test-01 (the RFC 4106 ESP test cases, built on the
 * NIST GCM keys), round trips for every suite, ESN across 2^32,
 * malformed and hostile packets dropped and counted, lifetimes,
 * make-before-break and the ops table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/hmac.h>

#include <vpnroute/esp.h>

#include "esp_int.h"

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (s[0] != '\0' && s[1] != '\0' && n < cap) {
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* ---- SA helpers ---------------------------------------------------- */

struct suite {
	const char *name;
	uint16_t encr, bits, integ;
};

static const struct suite suites[] = {
	{ "aes128gcm16", VPNR_ENCR_AES_GCM_16, 128, VPNR_INTEG_NONE },
	{ "aes256gcm16", VPNR_ENCR_AES_GCM_16, 256, VPNR_INTEG_NONE },
	{ "aes128-sha1", VPNR_ENCR_AES_CBC, 128, VPNR_INTEG_HMAC_SHA1_96 },
	{ "aes256-sha1", VPNR_ENCR_AES_CBC, 256, VPNR_INTEG_HMAC_SHA1_96 },
	{ "aes128-sha256", VPNR_ENCR_AES_CBC, 128,
	    VPNR_INTEG_HMAC_SHA2_256_128 },
	{ "aes256-sha256", VPNR_ENCR_AES_CBC, 256,
	    VPNR_INTEG_HMAC_SHA2_256_128 },
	{ "aes256-sha384", VPNR_ENCR_AES_CBC, 256,
	    VPNR_INTEG_HMAC_SHA2_384_192 },
	{ "aes256-sha512", VPNR_ENCR_AES_CBC, 256,
	    VPNR_INTEG_HMAC_SHA2_512_256 },
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static uint8_t ekey[36], ikey[64];

static size_t
integ_klen(uint16_t integ)
{
	switch (integ) {
	case VPNR_INTEG_HMAC_SHA1_96:
		return 20;
	case VPNR_INTEG_HMAC_SHA2_256_128:
		return 32;
	case VPNR_INTEG_HMAC_SHA2_384_192:
		return 48;
	case VPNR_INTEG_HMAC_SHA2_512_256:
		return 64;
	}
	return 0;
}

static void
make_sa(vpnr_child_sa *sa, const struct suite *s, uint8_t dir, uint32_t spi,
    uint64_t sa_id, uint32_t if_id, uint16_t flags, uint32_t window)
{
	size_t i;

	for (i = 0; i < sizeof(ekey); i++)
		ekey[i] = (uint8_t)(0x10 + i);
	for (i = 0; i < sizeof(ikey); i++)
		ikey[i] = (uint8_t)(0x80 + i);
	memset(sa, 0, sizeof(*sa));
	sa->sa_id = sa_id;
	sa->tunnel_id = 7;
	sa->spi = spi;
	sa->protocol = 50;
	sa->direction = dir;
	sa->flags = flags | VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
	vpnr_addr_parse(&sa->src,
	    dir == VPNR_DIR_OUT ? "203.0.113.1" : "203.0.113.2");
	vpnr_addr_parse(&sa->dst,
	    dir == VPNR_DIR_OUT ? "203.0.113.2" : "203.0.113.1");
	sa->src.port = 4500;
	sa->dst.port = 4500;
	sa->encr_id = s->encr;
	sa->encr_key_bits = s->bits;
	sa->integ_id = s->integ;
	sa->encr_key = ekey;
	sa->encr_key_len =
	    s->bits / 8 + (s->encr == VPNR_ENCR_AES_GCM_16 ? 4 : 0);
	sa->integ_key = s->integ != 0 ? ikey : NULL;
	sa->integ_key_len = integ_klen(s->integ);
	sa->replay_window = window;
	sa->if_id = if_id;
}

/* Sender A and receiver B with one SA pair of suite s. */
struct pair {
	vpnr_esp *a, *b;
};

static void
pair_new(struct pair *p, const struct suite *s, uint16_t flags, uint32_t window)
{
	vpnr_child_sa sa;

	assert_int_equal(vpnr_esp_new(&p->a, NULL), VPNR_OK);
	assert_int_equal(vpnr_esp_new(&p->b, NULL), VPNR_OK);
	make_sa(&sa, s, VPNR_DIR_OUT, 0xc0ffee01, 1, 5, flags, 0);
	assert_int_equal(vpnr_esp_sa_install(p->a, &sa), VPNR_OK);
	make_sa(&sa, s, VPNR_DIR_IN, 0xc0ffee01, 2, 9, flags, window);
	assert_int_equal(vpnr_esp_sa_install(p->b, &sa), VPNR_OK);
}

static void
pair_del(struct pair *p)
{
	vpnr_esp_del(p->a);
	vpnr_esp_del(p->b);
}

/* An IPv4 (v = 4) or IPv6 packet of len bytes. */
static void
make_ip(uint8_t *pkt, size_t len, int v, uint8_t fill)
{
	size_t i;

	for (i = 0; i < len; i++)
		pkt[i] = (uint8_t)(fill + i * 7);
	pkt[0] = v == 6 ? 0x60 : 0x45;
}

static vpnr_addr
peer_b(void)
{
	vpnr_addr a;

	vpnr_addr_parse(&a, "203.0.113.2");
	a.port = 4500;
	return a;
}

/* ---- known answers -------------------------------------------------- */

struct gcm_kat {
	const char *key; /* key | salt */
	unsigned bits;
	const char *spi_seq; /* AAD as on the wire (8 or 12 bytes) */
	const char *iv;
	const char *pt;
	const char *ct_tag;
};

/* draft-mcgrew-gcm-test-01 section 4, test cases 1 (ESN), 2, 3. */
static const struct gcm_kat kats[] = {
	{ "4c80cdefbb5d10da906ac73c3613a634"
	  "2e443b68",
	    128, "000043218765432100000000", "4956ed7e3b244cfe",
	    "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
	    "00000000045f736970045f756470037369700963796265726369747902646b00"
	    "0021000101020201",
	    "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
	    "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
	    "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4" },
	{ "feffe9928665731c6d6a8f9467308308feffe9928665731c"
	  "cafebabe",
	    192, "0000a5f80000000a", "facedbaddecaf888",
	    "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e"
	    "501016d075680001",
	    "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0"
	    "315b27452144cc7795457b9652037f5318027b5b4cd7a636" },
	{ "abbccddef00112233445566778899aababbccddef00112233445566778899aab"
	  "11223344",
	    256, "4a2cbfe300000002", "0102030405060708",
	    "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
	    "7002400020bf0000020405b40101040201020201",
	    "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
	    "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
	    "15956c96" },
};

static void
test_gcm_kat(void **state)
{
	uint8_t key[36], aad[12], pkt[256], pt[128], out[128];
	struct vpnr__esp_crypto c;
	vpnr_child_sa sa;
	size_t i, klen, aadlen, ptlen, ctlen, len;
	uint64_t seq;
	int esn;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
		klen = unhex(kats[i].key, key, sizeof(key));
		aadlen = unhex(kats[i].spi_seq, aad, sizeof(aad));
		ptlen = unhex(kats[i].pt, pt, sizeof(pt));
		esn = aadlen == 12;
		/* On the wire: SPI | low seq | IV | ciphertext | tag. */
		memcpy(pkt, aad, 4);
		memcpy(pkt + 4, aad + aadlen - 4, 4);
		unhex(kats[i].iv, pkt + 8, 8);
		len = 16 + unhex(kats[i].ct_tag, pkt + 16, sizeof(pkt) - 16);
		ctlen = len - 16 - 16;
		assert_int_equal(ctlen, ptlen);
		seq = esn ?
		    ((uint64_t)aad[4] << 56 | (uint64_t)aad[5] << 48 |
			(uint64_t)aad[6] << 40 | (uint64_t)aad[7] << 32 |
			(uint64_t)aad[8] << 24 | aad[9] << 16 | aad[10] << 8 |
			aad[11]) :
		    ((uint64_t)aad[4] << 24 | aad[5] << 16 | aad[6] << 8 |
			aad[7]);
		memset(&sa, 0, sizeof(sa));
		sa.encr_id = VPNR_ENCR_AES_GCM_16;
		sa.encr_key_bits = (uint16_t)kats[i].bits;
		sa.encr_key = key;
		sa.encr_key_len = klen;
		assert_int_equal(vpnr__esp_crypto_init(&c, &sa, 0), VPNR_OK);
		assert_int_equal(vpnr__esp_crypto_open(&c, pkt, len, seq, esn,
				     out, ctlen),
		    VPNR_OK);
		assert_memory_equal(out, pt, ptlen);
		/* One flipped bit anywhere authenticated fails. */
		pkt[1] ^= 0x01; /* SPI: part of the AAD */
		assert_int_equal(vpnr__esp_crypto_open(&c, pkt, len, seq, esn,
				     out, ctlen),
		    VPNR_ERR_INTEGRITY);
		pkt[1] ^= 0x01;
		assert_int_equal(vpnr__esp_crypto_open(&c, pkt, len, seq ^ 1,
				     esn, out, ctlen),
		    VPNR_ERR_INTEGRITY);
		pkt[len - 1] ^= 0x80;
		assert_int_equal(vpnr__esp_crypto_open(&c, pkt, len, seq, esn,
				     out, ctlen),
		    VPNR_ERR_INTEGRITY);
		pkt[len - 1] ^= 0x80;
		if (esn) {
			/* The high half of the ESN is authenticated. */
			assert_int_equal(vpnr__esp_crypto_open(&c, pkt, len,
					     seq + (1ULL << 32), esn, out,
					     ctlen),
			    VPNR_ERR_INTEGRITY);
		}
		vpnr__esp_crypto_free(&c);
	}
}

/*
 * The same vectors through vpnr_esp_decap: ICV and padding pass, and
 * the packet is then refused only because these test packets carry
 * next header 1, which tunnel mode does not deliver.
 */
static void
test_gcm_kat_decap(void **state)
{
	uint8_t key[36], aad[12], pkt[256], out[256];
	vpnr_esp *esp;
	vpnr_esp_counters c;
	vpnr_child_sa sa;
	size_t i, klen, aadlen, len, n;
	uint32_t if_id;

	for (i = 1; i < sizeof(kats) / sizeof(kats[0]); i++) {
		klen = unhex(kats[i].key, key, sizeof(key));
		aadlen = unhex(kats[i].spi_seq, aad, sizeof(aad));
		memcpy(pkt, aad, 8);
		unhex(kats[i].iv, pkt + 8, 8);
		len = 16 + unhex(kats[i].ct_tag, pkt + 16, sizeof(pkt) - 16);
		memset(&sa, 0, sizeof(sa));
		sa.sa_id = 1;
		sa.direction = VPNR_DIR_IN;
		sa.spi = (uint32_t)aad[0] << 24 | aad[1] << 16 | aad[2] << 8 |
		    aad[3];
		sa.encr_id = VPNR_ENCR_AES_GCM_16;
		sa.encr_key_bits = (uint16_t)kats[i].bits;
		sa.encr_key = key;
		sa.encr_key_len = klen;
		sa.replay_window = 64;
		assert_int_equal(vpnr_esp_new(&esp, NULL), VPNR_OK);
		assert_int_equal(vpnr_esp_sa_install(esp, &sa), VPNR_OK);
		assert_int_equal(vpnr_esp_decap(esp, NULL, pkt, len, out,
				     sizeof(out), &n, &if_id, 1),
		    VPNR_ERR_MALFORMED);
		vpnr_esp_get_counters(esp, &c);
		assert_int_equal(c.malformed, 1);
		assert_int_equal(c.integrity_failed, 0);
		assert_int_equal(c.invalid_padding, 0);
		/* Authentic, so the window moved: a replay is refused. */
		assert_int_equal(vpnr_esp_decap(esp, NULL, pkt, len, out,
				     sizeof(out), &n, &if_id, 2),
		    VPNR_ERR_REPLAY);
		vpnr_esp_del(esp);
	}
	(void)aadlen;
}

/* The CBC+HMAC ICV equals an independent HMAC over header|IV|ct. */
static void
test_hmac_icv(void **state)
{
	uint8_t ip[100], out[300], md[64];
	struct pair p;
	vpnr_addr dst;
	size_t n, i;
	unsigned int mdlen;

	for (i = 2; i < NSUITES; i++) {
		const EVP_MD *evp;
		size_t icv;

		pair_new(&p, &suites[i], 0, 1024);
		make_ip(ip, sizeof(ip), 4, 1);
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), out,
				     sizeof(out), &n, &dst, 1),
		    VPNR_OK);
		switch (suites[i].integ) {
		case VPNR_INTEG_HMAC_SHA1_96:
			evp = EVP_sha1();
			icv = 12;
			break;
		case VPNR_INTEG_HMAC_SHA2_256_128:
			evp = EVP_sha256();
			icv = 16;
			break;
		case VPNR_INTEG_HMAC_SHA2_384_192:
			evp = EVP_sha384();
			icv = 24;
			break;
		default:
			evp = EVP_sha512();
			icv = 32;
			break;
		}
		HMAC(evp, ikey, (int)integ_klen(suites[i].integ), out, n - icv,
		    md, &mdlen);
		assert_memory_equal(md, out + n - icv, icv);
		/* Header: SPI and sequence number 1. */
		assert_int_equal(out[0], 0xc0);
		assert_int_equal(out[7], 1);
		/* 8 + 16 IV + 100 + 2 -> padded to 112 */
		assert_int_equal(n, 8 + 16 + 112 + icv);
		pair_del(&p);
	}
}

/* ---- round trips ------------------------------------------------------ */

static void
roundtrip(struct pair *p, size_t len, int v, uint8_t fill)
{
	uint8_t ip[1600], esp[1700], out[1700];
	vpnr_addr dst, src = peer_b();
	size_t n, m;
	uint32_t if_id = 0;

	make_ip(ip, len, v, fill);
	assert_int_equal(vpnr_esp_encap(p->a, 5, ip, len, esp, sizeof(esp), &n,
			     &dst, 10),
	    VPNR_OK);
	assert_true(n <= len + VPNR_ESP_MAX_OVERHEAD);
	assert_int_equal(dst.port, 4500);
	assert_int_equal(dst.bytes[3], 2);
	assert_int_equal(vpnr_esp_decap(p->b, &src, esp, n, out, sizeof(out),
			     &m, &if_id, 11),
	    VPNR_OK);
	assert_int_equal(m, len);
	assert_int_equal(if_id, 9);
	assert_memory_equal(out, ip, len);
}

static void
test_roundtrip_all_suites(void **state)
{
	static const size_t lens[] = { 1, 20, 21, 40, 63, 64, 65, 512, 1279,
		1400, 1500 };
	vpnr_esp_sa_info info;
	vpnr_esp_counters c;
	struct pair p;
	size_t i, j;
	uint64_t octets;

	for (i = 0; i < NSUITES; i++) {
		for (j = 0; j < 2; j++) { /* without and with ESN */
			size_t k;

			pair_new(&p, &suites[i], j ? VPNR_SA_F_ESN : 0, 1024);
			octets = 0;
			for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				roundtrip(&p, lens[k], k % 2 ? 6 : 4,
				    (uint8_t)k);
				octets += lens[k];
			}
			assert_int_equal(vpnr_esp_get_sa_info(p.a, 1, &info),
			    VPNR_OK);
			assert_int_equal(info.counters.packets_out, k);
			assert_int_equal(info.counters.octets_out, octets);
			assert_int_equal(info.seq, k);
			assert_int_equal(info.active, 1);
			assert_int_equal(vpnr_esp_get_sa_info_by_spi(p.b,
					     0xc0ffee01, &info),
			    VPNR_OK);
			assert_int_equal(info.counters.packets_in, k);
			assert_int_equal(info.counters.octets_in, octets);
			assert_int_equal(vpnr_esp_get_tunnel_counters(p.b, 9,
					     &c),
			    VPNR_OK);
			assert_int_equal(c.octets_in, octets);
			pair_del(&p);
		}
	}
}

/* Wrong keys on the receiver: every packet fails the ICV. */
static void
test_wrong_key(void **state)
{
	uint8_t ip[100], esp[300], out[300];
	vpnr_child_sa sa;
	struct pair p;
	vpnr_esp_counters c;
	size_t i, n, m;

	for (i = 0; i < NSUITES; i++) {
		pair_new(&p, &suites[i], 0, 1024);
		vpnr_esp_sa_remove(p.b, 2);
		make_sa(&sa, &suites[i], VPNR_DIR_IN, 0xc0ffee01, 2, 9, 0,
		    1024);
		ekey[3] ^= 1;
		ikey[3] ^= 1;
		assert_int_equal(vpnr_esp_sa_install(p.b, &sa), VPNR_OK);
		make_ip(ip, sizeof(ip), 4, 0);
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
				     sizeof(esp), &n, NULL, 1),
		    VPNR_OK);
		assert_int_equal(vpnr_esp_decap(p.b, NULL, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_INTEGRITY);
		vpnr_esp_get_counters(p.b, &c);
		assert_int_equal(c.integrity_failed, 1);
		assert_int_equal(c.packets_in, 0);
		pair_del(&p);
	}
}

static struct vpnr__esp_sa *
sa_of(vpnr_esp *esp, uint64_t id)
{
	struct vpnr__esp_sa *sa = vpnr__esp_sa_by_id(esp, id);

	assert_non_null(sa);
	return sa;
}

/* ESN: carry on across 2^32 with only the low half on the wire. */
static void
test_esn_wrap(void **state)
{
	uint8_t ip[200], esp[400], out[400];
	struct pair p;
	size_t i, k, n, m;
	uint64_t start = 0xffffffe0ULL;

	for (i = 0; i < NSUITES; i++) {
		pair_new(&p, &suites[i], VPNR_SA_F_ESN, 1024);
		sa_of(p.a, 1)->seq = start;
		sa_of(p.b, 2)->replay.top = start;
		for (k = 0; k < 64; k++) {
			make_ip(ip, sizeof(ip), 4, (uint8_t)k);
			assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip),
					     esp, sizeof(esp), &n, NULL, 1),
			    VPNR_OK);
			assert_int_equal((uint32_t)esp[4] << 24 |
				(uint32_t)esp[5] << 16 | esp[6] << 8 | esp[7],
			    (uint32_t)(start + k + 1));
			assert_int_equal(vpnr_esp_decap(p.b, NULL, esp, n, out,
					     sizeof(out), &m, NULL, 1),
			    VPNR_OK);
			assert_memory_equal(out, ip, sizeof(ip));
		}
		assert_int_equal(sa_of(p.b, 2)->replay.top, start + 64);
		assert_true(sa_of(p.b, 2)->replay.top > 0xffffffffULL);
		pair_del(&p);
	}
}

/* Without ESN the sequence number never wraps: the SA is used up. */
static void
test_seq_exhausted(void **state)
{
	uint8_t ip[60], esp[200];
	struct pair p;
	uint64_t id;
	size_t n;
	int hard;

	pair_new(&p, &suites[0], 0, 1024);
	sa_of(p.a, 1)->seq = 0xfffffffeULL;
	make_ip(ip, sizeof(ip), 4, 0);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 1),
	    VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 1),
	    VPNR_ERR_LIMIT);
	assert_true(vpnr_esp_expired_pending(p.a));
	assert_int_equal(vpnr_esp_next_expired(p.a, &id, &hard), VPNR_OK);
	assert_int_equal(id, 1);
	assert_int_equal(hard, 1);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 1),
	    VPNR_ERR_LIMIT);
	pair_del(&p);
}

/* ---- malformed and hostile input ------------------------------------ */

/* Seal an arbitrary trailer with the sender's SA (bad padding etc.). */
static size_t
craft(struct pair *p, const uint8_t *pt, size_t ptlen, const uint8_t *tr,
    size_t trlen, uint8_t *pkt)
{
	struct vpnr__esp_sa *sa = sa_of(p->a, 1);

	sa->seq++;
	pkt[0] = sa->spi >> 24;
	pkt[1] = sa->spi >> 16;
	pkt[2] = sa->spi >> 8;
	pkt[3] = sa->spi;
	pkt[4] = (uint8_t)(sa->seq >> 24);
	pkt[5] = (uint8_t)(sa->seq >> 16);
	pkt[6] = (uint8_t)(sa->seq >> 8);
	pkt[7] = (uint8_t)sa->seq;
	assert_int_equal(vpnr__esp_crypto_seal(&sa->crypto, pkt, sa->seq, 0, pt,
			     ptlen, tr, trlen),
	    VPNR_OK);
	return 8 + sa->crypto.iv_len + ptlen + trlen + sa->crypto.icv_len;
}

static void
test_malformed(void **state)
{
	uint8_t ip[64], esp[400], out[400], tr[18];
	vpnr_esp_counters c;
	vpnr_addr src = peer_b(), other;
	struct pair p;
	size_t i, k, n, m, bad;
	int rv;

	for (i = 0; i < NSUITES; i++) {
		const size_t a =
		    suites[i].encr == VPNR_ENCR_AES_GCM_16 ? 4 : 16;

		pair_new(&p, &suites[i], 0, 1024);
		make_ip(ip, sizeof(ip), 4, 3);
		/* Short packets and the non-ESP marker. */
		for (k = 0; k < 8; k++) {
			memset(esp, 0xab, k);
			assert_int_equal(vpnr_esp_decap(p.b, &src, esp, k, out,
					     sizeof(out), &m, NULL, 1),
			    VPNR_ERR_MALFORMED);
		}
		memset(esp, 0, 40);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, 40, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_MALFORMED);
		/* Unknown SPI, attributed to the tunnel by the source. */
		memset(esp, 0x11, 60);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, 60, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_NOT_FOUND);
		vpnr_addr_parse(&other, "192.0.2.99");
		assert_int_equal(vpnr_esp_decap(p.b, &other, esp, 60, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_NOT_FOUND);
		vpnr_esp_get_counters(p.b, &c);
		assert_int_equal(c.unknown_spi, 2);
		assert_int_equal(c.malformed, 9);
		assert_int_equal(vpnr_esp_get_tunnel_counters(p.b, 9, &c),
		    VPNR_OK);
		assert_int_equal(c.unknown_spi, 1);
		/* Truncations of a good packet: too short or ragged. */
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
				     sizeof(esp), &n, NULL, 1),
		    VPNR_OK);
		for (k = 8; k < n; k++) {
			rv = vpnr_esp_decap(p.b, &src, esp, k, out, sizeof(out),
			    &m, NULL, 1);
			assert_true(rv == VPNR_ERR_MALFORMED ||
			    rv == VPNR_ERR_INTEGRITY);
		}
		/* Bit flips anywhere: integrity failure (or replay when
		 * the sequence number moves out of the window). */
		for (k = 4; k < n; k++) {
			esp[k] ^= 0x04;
			rv = vpnr_esp_decap(p.b, &src, esp, n, out, sizeof(out),
			    &m, NULL, 1);
			assert_true(
			    rv == VPNR_ERR_INTEGRITY || rv == VPNR_ERR_REPLAY);
			esp[k] ^= 0x04;
		}
		vpnr_esp_get_counters(p.b, &c);
		assert_int_equal(c.packets_in, 0);
		assert_true(c.integrity_failed >= n - 8 - 4);
		/* The untouched packet still goes through once. */
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_OK);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_REPLAY);
		/* Buffer too small. */
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
				     sizeof(ip), &n, NULL, 1),
		    VPNR_ERR_BUFFER_TOO_SMALL);
		/* Bad padding content, authentic packet. */
		bad = a - ((sizeof(ip) + 2) % a);
		if (bad == a)
			bad = a; /* add a full block of padding */
		for (k = 0; k < bad; k++)
			tr[k] = (uint8_t)(k + 1);
		tr[bad - 1] ^= 0x55;
		tr[bad] = (uint8_t)bad;
		tr[bad + 1] = 4;
		n = craft(&p, ip, sizeof(ip), tr, bad + 2, esp);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_MALFORMED);
		/* Pad length larger than the payload. */
		tr[bad - 1] = (uint8_t)bad;
		tr[bad] = 250;
		n = craft(&p, ip, sizeof(ip), tr, bad + 2, esp);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_MALFORMED);
		vpnr_esp_get_counters(p.b, &c);
		assert_int_equal(c.invalid_padding, 2);
		/* Unknown next header (TCP: transport mode). */
		tr[bad] = (uint8_t)bad;
		tr[bad + 1] = 6;
		n = craft(&p, ip, sizeof(ip), tr, bad + 2, esp);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_ERR_MALFORMED);
		/* Dummy packet: consumed, nothing delivered. */
		tr[bad + 1] = 59;
		n = craft(&p, ip, sizeof(ip), tr, bad + 2, esp);
		m = 99;
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_OK);
		assert_int_equal(m, 0);
		vpnr_esp_get_counters(p.b, &c);
		assert_int_equal(c.dummy_dropped, 1);
		assert_int_equal(c.packets_in, 1);
		/* Encap refuses what is not IP. */
		ip[0] = 0x20;
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
				     sizeof(esp), &n, NULL, 1),
		    VPNR_ERR_INVALID_ARGUMENT);
		assert_int_equal(vpnr_esp_encap(p.a, 6, ip, sizeof(ip), esp,
				     sizeof(esp), &n, NULL, 1),
		    VPNR_ERR_INVALID_ARGUMENT);
		ip[0] = 0x45;
		assert_int_equal(vpnr_esp_encap(p.a, 6, ip, sizeof(ip), esp,
				     sizeof(esp), &n, NULL, 1),
		    VPNR_ERR_NOT_FOUND);
		pair_del(&p);
	}
}

/* Random garbage with a known SPI never crashes and is never taken. */
static void
test_garbage(void **state)
{
	uint8_t pkt[300], out[300];
	struct pair p;
	size_t i, len, m;
	unsigned int seed = 42;
	int rv;

	pair_new(&p, &suites[5], VPNR_SA_F_ESN, 64);
	for (i = 0; i < 20000; i++) {
		size_t k;

		len = (size_t)(rand_r(&seed) % sizeof(pkt));
		for (k = 0; k < len; k++)
			pkt[k] = (uint8_t)rand_r(&seed);
		if (len >= 4 && i % 2 == 0) {
			pkt[0] = 0xc0;
			pkt[1] = 0xff;
			pkt[2] = 0xee;
			pkt[3] = 0x01;
		}
		rv = vpnr_esp_decap(p.b, NULL, pkt, len, out, sizeof(out), &m,
		    NULL, 1);
		assert_true(rv < 0);
	}
	pair_del(&p);
}

/* ---- lifetimes, rekey, ops --------------------------------------------- */

static void
test_lifetimes(void **state)
{
	uint8_t ip[100], esp[300], out[300];
	vpnr_child_sa sa;
	vpnr_esp *a, *b;
	vpnr_esp_sa_info info;
	uint64_t id;
	size_t k, n, m;
	int hard;

	assert_int_equal(vpnr_esp_new(&a, NULL), VPNR_OK);
	assert_int_equal(vpnr_esp_new(&b, NULL), VPNR_OK);
	make_sa(&sa, &suites[1], VPNR_DIR_OUT, 0x1234, 1, 5, 0, 0);
	sa.soft.packets = 10;
	sa.hard.packets = 20;
	assert_int_equal(vpnr_esp_sa_install(a, &sa), VPNR_OK);
	make_sa(&sa, &suites[1], VPNR_DIR_IN, 0x1234, 2, 9, 0, 1024);
	sa.soft.bytes = 100 * 5;
	sa.hard.bytes = 100 * 15;
	assert_int_equal(vpnr_esp_sa_install(b, &sa), VPNR_OK);
	make_ip(ip, sizeof(ip), 4, 0);
	for (k = 1; k <= 25; k++) {
		int rv = vpnr_esp_encap(a, 5, ip, sizeof(ip), esp, sizeof(esp),
		    &n, NULL, 1);

		assert_int_equal(rv, k <= 20 ? VPNR_OK : VPNR_ERR_LIMIT);
		if (rv != VPNR_OK)
			continue;
		rv = vpnr_esp_decap(b, NULL, esp, n, out, sizeof(out), &m, NULL,
		    1);
		assert_int_equal(rv, k <= 15 ? VPNR_OK : VPNR_ERR_LIMIT);
		if (k == 9)
			assert_false(vpnr_esp_expired_pending(a));
		if (k == 10)
			assert_true(vpnr_esp_expired_pending(a));
	}
	assert_int_equal(vpnr_esp_next_expired(a, &id, &hard), VPNR_OK);
	assert_int_equal(id, 1);
	assert_int_equal(hard, 0);
	assert_int_equal(vpnr_esp_next_expired(a, &id, &hard), VPNR_OK);
	assert_int_equal(hard, 1);
	assert_int_equal(vpnr_esp_next_expired(a, &id, &hard),
	    VPNR_ERR_NOT_FOUND);
	assert_int_equal(vpnr_esp_next_expired(b, &id, &hard), VPNR_OK);
	assert_int_equal(id, 2);
	assert_int_equal(hard, 0);
	assert_int_equal(vpnr_esp_next_expired(b, &id, &hard), VPNR_OK);
	assert_int_equal(hard, 1);
	assert_int_equal(vpnr_esp_get_sa_info(a, 1, &info), VPNR_OK);
	assert_int_equal(info.hard_expired, 1);
	assert_int_equal(info.counters.lifetime_dropped, 5);
	/* Without a ctx, poll just drains the queue. */
	assert_int_equal(vpnr_esp_poll_expired(a, 1), 0);
	vpnr_esp_del(a);
	vpnr_esp_del(b);
}

/* A removed SA that had pending expiries leaves the queue cleanly. */
static void
test_expired_then_removed(void **state)
{
	uint8_t ip[100], esp[300];
	vpnr_child_sa sa;
	vpnr_esp *a;
	uint64_t id;
	size_t n;
	int hard;

	assert_int_equal(vpnr_esp_new(&a, NULL), VPNR_OK);
	make_sa(&sa, &suites[0], VPNR_DIR_OUT, 0x1234, 1, 5, 0, 0);
	sa.soft.packets = 1;
	assert_int_equal(vpnr_esp_sa_install(a, &sa), VPNR_OK);
	make_ip(ip, sizeof(ip), 4, 0);
	assert_int_equal(vpnr_esp_encap(a, 5, ip, sizeof(ip), esp, sizeof(esp),
			     &n, NULL, 1),
	    VPNR_OK);
	assert_true(vpnr_esp_expired_pending(a));
	assert_int_equal(vpnr_esp_sa_remove(a, 1), VPNR_OK);
	assert_false(vpnr_esp_expired_pending(a));
	assert_int_equal(vpnr_esp_next_expired(a, &id, &hard),
	    VPNR_ERR_NOT_FOUND);
	vpnr_esp_del(a);
}

static int
count_sa(const vpnr_esp_sa_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * Make-before-break: a new outbound SA takes over once the peer shows
 * it has the new pair (traffic on a newer inbound SA), once the old
 * outbound SA is deleted, or after a timeout; the old inbound SA keeps
 * working until it is deleted.
 */
/*
 * sa_add again for an installed sa_id (a NAT mapping moved, or
 * vpnr_dp_replay): the SA takes the new outer addresses in place and
 * keeps its state: the sequence numbers go on (a new SA would start
 * at 1 again and the peer's replay window would drop it).
 */
static void
test_sa_moved_in_place(void **state)
{
	const vpnr_dataplane *dp = vpnr_esp_dataplane();
	uint8_t ip[100], esp[300], out[300];
	vpnr_addr dst, src = peer_b();
	vpnr_child_sa sa;
	struct pair p;
	size_t n, m;
	int i;

	pair_new(&p, &suites[1], 0, 64);
	make_ip(ip, sizeof(ip), 4, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
				     sizeof(esp), &n, &dst, 1),
		    VPNR_OK);
		assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out,
				     sizeof(out), &m, NULL, 1),
		    VPNR_OK);
	}
	make_sa(&sa, &suites[1], VPNR_DIR_OUT, 0xc0ffee01, 1, 5, 0, 0);
	sa.dst.port = 44500;
	assert_int_equal(dp->sa_add(NULL, 1, &sa, p.a), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, &dst, 2),
	    VPNR_OK);
	assert_int_equal(dst.port, 44500);
	assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out, sizeof(out), &m,
			     NULL, 2),
	    VPNR_OK);
	/* The moved packet was the fourth: a replay of it is dropped. */
	assert_int_equal(vpnr_esp_decap(p.b, &src, esp, n, out, sizeof(out), &m,
			     NULL, 2),
	    VPNR_ERR_REPLAY);
	pair_del(&p);
}

static void
test_rekey_make_before_break(void **state)
{
	uint8_t ip[100], esp[300], out[300], old_pkt[300];
	vpnr_esp_sa_info info;
	vpnr_child_sa sa;
	struct pair p;
	size_t n, m, old_n;
	int cnt = 0;

	pair_new(&p, &suites[1], 0, 1024);
	make_ip(ip, sizeof(ip), 4, 0);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), old_pkt,
			     sizeof(old_pkt), &old_n, NULL, 1),
	    VPNR_OK);
	/* Rekey on A's side: new inbound (reverse direction) and new
	 * outbound.  The peer may not have its new inbound SA yet, so A
	 * keeps sending on the old SA. */
	make_sa(&sa, &suites[1], VPNR_DIR_IN, 0xbeef0003, 5, 5, 0, 1024);
	assert_int_equal(vpnr_esp_sa_install(p.a, &sa), VPNR_OK);
	make_sa(&sa, &suites[1], VPNR_DIR_IN, 0xbeef0002, 4, 9, 0, 1024);
	assert_int_equal(vpnr_esp_sa_install(p.b, &sa), VPNR_OK);
	make_sa(&sa, &suites[1], VPNR_DIR_OUT, 0xbeef0002, 3, 5, 0, 0);
	assert_int_equal(vpnr_esp_sa_install(p.a, &sa), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 2),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xc0);
	assert_int_equal(vpnr_esp_get_sa_info(p.a, 1, &info), VPNR_OK);
	assert_int_equal(info.active, 1);
	/* The peer answers on the new pair: A switches. */
	make_sa(&sa, &suites[1], VPNR_DIR_OUT, 0xbeef0003, 6, 9, 0, 0);
	assert_int_equal(vpnr_esp_sa_install(p.b, &sa), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.b, 9, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 3),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xbe);
	assert_int_equal(vpnr_esp_decap(p.a, NULL, esp, n, out, sizeof(out), &m,
			     NULL, 3),
	    VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 4),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xbe);
	assert_int_equal(vpnr_esp_get_sa_info(p.a, 3, &info), VPNR_OK);
	assert_int_equal(info.active, 1);
	assert_int_equal(vpnr_esp_decap(p.b, NULL, esp, n, out, sizeof(out), &m,
			     NULL, 4),
	    VPNR_OK);
	/* A packet in flight on the old SA still arrives. */
	assert_int_equal(vpnr_esp_decap(p.b, NULL, old_pkt, old_n, out,
			     sizeof(out), &m, NULL, 5),
	    VPNR_OK);
	assert_int_equal(vpnr_esp_sa_walk(p.a, count_sa, &cnt), VPNR_OK);
	assert_int_equal(cnt, 3);
	/* Old pair deleted. */
	assert_int_equal(vpnr_esp_sa_remove(p.a, 1), VPNR_OK);
	assert_int_equal(vpnr_esp_sa_remove(p.b, 2), VPNR_OK);
	assert_int_equal(vpnr_esp_decap(p.b, NULL, old_pkt, old_n, out,
			     sizeof(out), &m, NULL, 6),
	    VPNR_ERR_NOT_FOUND);
	pair_del(&p);
}

/* Without traffic from the peer, the new SA takes over when the old
 * one is deleted or after the switch timeout. */
static void
test_rekey_switch_fallbacks(void **state)
{
	uint8_t ip[100], esp[300];
	vpnr_child_sa sa;
	struct pair p;
	size_t n;
	vpnr_tstamp t0 = 1000 * VPNR_SECONDS;

	pair_new(&p, &suites[0], 0, 1024);
	make_ip(ip, sizeof(ip), 4, 0);
	make_sa(&sa, &suites[0], VPNR_DIR_OUT, 0xbeef0002, 3, 5, 0, 0);
	assert_int_equal(vpnr_esp_sa_install(p.a, &sa), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, t0),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xc0);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, t0 + VPNR_SECONDS),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xc0);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, t0 + 3 * VPNR_SECONDS),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xbe);
	pair_del(&p);

	pair_new(&p, &suites[0], 0, 1024);
	make_sa(&sa, &suites[0], VPNR_DIR_OUT, 0xbeef0002, 3, 5, 0, 0);
	assert_int_equal(vpnr_esp_sa_install(p.a, &sa), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, t0),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xc0);
	assert_int_equal(vpnr_esp_sa_remove(p.a, 1), VPNR_OK);
	assert_int_equal(vpnr_esp_encap(p.a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, t0),
	    VPNR_OK);
	assert_int_equal(esp[0], 0xbe);
	pair_del(&p);
}

/* Inbound traffic selectors (RFC 4301 5.2): addresses, protocol and
 * ports of the inner packet are checked against the SA's. */
static void
set_ts(vpnr_ts *ts, const char *a, const char *b, uint8_t proto, uint16_t p0,
    uint16_t p1)
{
	memset(ts, 0, sizeof(*ts));
	vpnr_addr_parse(&ts->addr_start, a);
	vpnr_addr_parse(&ts->addr_end, b);
	ts->ip_proto = proto;
	ts->port_start = p0;
	ts->port_end = p1;
}

static int
ts_try(struct pair *p, const char *src, const char *dst, uint8_t proto,
    uint16_t dport)
{
	uint8_t ip[60], esp[200], out[200];
	vpnr_addr a;
	size_t n, m;

	memset(ip, 0, sizeof(ip));
	ip[0] = 0x45;
	ip[3] = sizeof(ip);
	ip[9] = proto;
	vpnr_addr_parse(&a, src);
	memcpy(ip + 12, a.bytes, 4);
	vpnr_addr_parse(&a, dst);
	memcpy(ip + 16, a.bytes, 4);
	ip[20] = 0x30;
	ip[21] = 0x39;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	assert_int_equal(vpnr_esp_encap(p->a, 5, ip, sizeof(ip), esp,
			     sizeof(esp), &n, NULL, 1),
	    VPNR_OK);
	return vpnr_esp_decap(p->b, NULL, esp, n, out, sizeof(out), &m, NULL,
	    1);
}

static void
test_traffic_selectors(void **state)
{
	vpnr_ts tsl[2], tsr[1];
	vpnr_child_sa sa;
	vpnr_esp_counters c;
	struct pair p;

	pair_new(&p, &suites[0], 0, 1024);
	vpnr_esp_sa_remove(p.b, 2);
	make_sa(&sa, &suites[0], VPNR_DIR_IN, 0xc0ffee01, 2, 9, 0, 1024);
	set_ts(&tsr[0], "10.0.0.0", "10.0.0.255", 0, 0, 0xffff);
	set_ts(&tsl[0], "192.168.2.0", "192.168.2.255", 0, 0, 0xffff);
	set_ts(&tsl[1], "172.16.0.1", "172.16.0.1", 6, 179, 179);
	sa.ts_local = tsl;
	sa.n_ts_local = 2;
	sa.ts_remote = tsr;
	sa.n_ts_remote = 1;
	assert_int_equal(vpnr_esp_sa_install(p.b, &sa), VPNR_OK);
	assert_int_equal(ts_try(&p, "10.0.0.5", "192.168.2.10", 17, 53),
	    VPNR_OK);
	assert_int_equal(ts_try(&p, "10.0.0.255", "192.168.2.0", 1, 0),
	    VPNR_OK);
	assert_int_equal(ts_try(&p, "10.0.1.5", "192.168.2.10", 17, 53),
	    VPNR_ERR_TS_UNACCEPTABLE);
	assert_int_equal(ts_try(&p, "10.0.0.5", "192.168.3.10", 17, 53),
	    VPNR_ERR_TS_UNACCEPTABLE);
	assert_int_equal(ts_try(&p, "10.0.0.5", "172.16.0.1", 6, 179), VPNR_OK);
	assert_int_equal(ts_try(&p, "10.0.0.5", "172.16.0.1", 6, 22),
	    VPNR_ERR_TS_UNACCEPTABLE);
	assert_int_equal(ts_try(&p, "10.0.0.5", "172.16.0.1", 17, 179),
	    VPNR_ERR_TS_UNACCEPTABLE);
	vpnr_esp_get_counters(p.b, &c);
	assert_int_equal(c.policy_dropped, 4);
	assert_int_equal(c.packets_in, 3);
	pair_del(&p);
}

static int route_calls;

static int
my_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg)
{
	route_calls++;
	assert_ptr_equal(arg, &route_calls);
	return VPNR_OK;
}

static void
test_ops_table(void **state)
{
	const vpnr_dataplane *dp = vpnr_esp_dataplane();
	vpnr_child_sa sa;
	vpnr_route rt;
	vpnr_esp *esp;
	uint64_t bytes, pkts;
	vpnr_tstamp last;

	assert_non_null(dp->sa_add);
	assert_non_null(dp->sa_del);
	assert_int_equal(vpnr_esp_new(&esp, NULL), VPNR_OK);
	make_sa(&sa, &suites[0], VPNR_DIR_IN, 0x4242, 11, 1, 0, 1024);
	assert_int_equal(dp->sa_add(NULL, 1, &sa, esp), VPNR_OK);
	/* Replay of the same SA is idempotent; another SPI clash is not. */
	assert_int_equal(dp->sa_add(NULL, 2, &sa, esp), VPNR_OK);
	sa.sa_id = 12;
	assert_int_equal(dp->sa_add(NULL, 3, &sa, esp), VPNR_ERR_DATAPLANE);
	/* Unsupported suite and bad key length. */
	sa.sa_id = 13;
	sa.spi = 0x4343;
	sa.encr_key_len = 5;
	assert_int_equal(dp->sa_add(NULL, 4, &sa, esp), VPNR_ERR_DATAPLANE);
	sa.encr_id = 3; /* 3DES */
	assert_int_equal(dp->sa_add(NULL, 4, &sa, esp), VPNR_ERR_DATAPLANE);
	assert_int_equal(dp->sa_query(NULL, 11, &bytes, &pkts, &last, esp),
	    VPNR_OK);
	assert_int_equal(bytes, 0);
	assert_int_equal(dp->sa_query(NULL, 99, &bytes, &pkts, &last, esp),
	    VPNR_ERR_NOT_FOUND);
	memset(&rt, 0, sizeof(rt));
	assert_int_equal(dp->route_add(NULL, 5, &rt, esp), VPNR_OK);
	assert_int_equal(route_calls, 0);
	vpnr_esp_set_route_ops(esp, my_route_add, NULL, &route_calls);
	assert_int_equal(dp->route_add(NULL, 6, &rt, esp), VPNR_OK);
	assert_int_equal(route_calls, 1);
	assert_int_equal(dp->route_del(NULL, 7, &rt, esp), VPNR_OK);
	sa.sa_id = 11;
	assert_int_equal(dp->sa_del(NULL, 8, &sa, esp), VPNR_OK);
	assert_int_equal(dp->sa_query(NULL, 11, &bytes, &pkts, &last, esp),
	    VPNR_ERR_NOT_FOUND);
	vpnr_esp_del(esp);
}

/* Many SAs: the SPI hash grows and every SA stays reachable. */
static void
test_many_sas(void **state)
{
	vpnr_child_sa sa;
	vpnr_esp_sa_info info;
	vpnr_esp *esp;
	uint32_t i;

	assert_int_equal(vpnr_esp_new(&esp, NULL), VPNR_OK);
	for (i = 1; i <= 2000; i++) {
		make_sa(&sa, &suites[i % NSUITES], VPNR_DIR_IN, i * 7919, i,
		    i % 50, 0, 1024);
		assert_int_equal(vpnr_esp_sa_install(esp, &sa), VPNR_OK);
	}
	for (i = 1; i <= 2000; i++) {
		assert_int_equal(vpnr_esp_get_sa_info_by_spi(esp, i * 7919,
				     &info),
		    VPNR_OK);
		assert_int_equal(info.sa_id, i);
	}
	for (i = 1; i <= 2000; i += 2)
		assert_int_equal(vpnr_esp_sa_remove(esp, i), VPNR_OK);
	for (i = 1; i <= 2000; i++)
		assert_int_equal(vpnr_esp_get_sa_info_by_spi(esp, i * 7919,
				     &info),
		    i % 2 ? VPNR_ERR_NOT_FOUND : VPNR_OK);
	vpnr_esp_del(esp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_kat),
		cmocka_unit_test(test_gcm_kat_decap),
		cmocka_unit_test(test_hmac_icv),
		cmocka_unit_test(test_roundtrip_all_suites),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_esn_wrap),
		cmocka_unit_test(test_seq_exhausted),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_expired_then_removed),
		cmocka_unit_test(test_rekey_make_before_break),
		cmocka_unit_test(test_sa_moved_in_place),
		cmocka_unit_test(test_rekey_switch_fallbacks),
		cmocka_unit_test(test_traffic_selectors),
		cmocka_unit_test(test_ops_table),
		cmocka_unit_test(test_many_sas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
