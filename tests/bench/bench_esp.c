/*
 * ESP data-plane throughput on one core (issue 3, benchmark a).
 *
 * For each suite and packet size (64, 512, 1400 bytes of inner IP
 * packet) it measures, in the same run:
 *   ours   vpnr_esp_encap() on one data plane, then vpnr_esp_decap()
 *          on another (one packet through both directions);
 *   anchor raw OpenSSL EVP doing the same cryptographic work on the
 *          same sizes with the least possible overhead (IV set per
 *          packet on a pre-keyed context, AEAD tag / HMAC computed and
 *          checked, no ESP framing);
 * and prints both in MB/s of inner packet bytes and their ratio
 * (target: >= 0.80 at 1400 bytes).  With -o it also runs
 * `openssl speed -evp aes-{128,256}-gcm [-aead] -bytes N -seconds 1`
 * and compares its one-direction figure with ours per direction
 * (twice the round-trip rate): -aead does per buffer what ESP does per
 * packet (IV, AAD, data, tag); without it OpenSSL streams one buffer
 * after another through one context, an upper bound no per-packet
 * protocol reaches.
 *
 * Every figure is the best of -r runs (default 3), interleaved, since
 * other load on the machine only ever slows a run down.
 *
 * Usage: bench_esp [-t seconds_per_point] [-r reps] [-o]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <vpnroute/esp.h>

struct suite {
	const char *name;
	const char *ossl; /* openssl speed -evp name, or NULL */
	uint16_t encr, bits, integ;
	const char *md;
	size_t mklen, icvlen;
};

static const struct suite suites[] = {
	{ "aes128gcm16", "aes-128-gcm", VPNR_ENCR_AES_GCM_16, 128, 0, NULL, 0,
	    16 },
	{ "aes256gcm16", "aes-256-gcm", VPNR_ENCR_AES_GCM_16, 256, 0, NULL, 0,
	    16 },
	{ "aes128-sha1", NULL, VPNR_ENCR_AES_CBC, 128, VPNR_INTEG_HMAC_SHA1_96,
	    "SHA1", 20, 12 },
	{ "aes256-sha256", NULL, VPNR_ENCR_AES_CBC, 256,
	    VPNR_INTEG_HMAC_SHA2_256_128, "SHA2-256", 32, 16 },
};

static const size_t sizes[] = { 64, 512, 1400 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint8_t ekey[36], ikey[64];

static void
fill_sa(vpnr_child_sa *sa, const struct suite *s, uint8_t dir)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa_id = dir;
	sa->spi = 0x11223344;
	sa->protocol = 50;
	sa->direction = dir;
	sa->flags = VPNR_SA_F_ESN | VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
	vpnr_addr_parse(&sa->dst, "203.0.113.2");
	sa->encr_id = s->encr;
	sa->encr_key_bits = s->bits;
	sa->integ_id = s->integ;
	sa->encr_key = ekey;
	sa->encr_key_len = s->bits / 8 + (s->integ == 0 ? 4 : 0);
	sa->integ_key = s->integ ? ikey : NULL;
	sa->integ_key_len = s->mklen;
	sa->replay_window = 1024;
	sa->if_id = 1;
}

/* MB/s of inner bytes through encap + decap. */
static double
bench_ours(const struct suite *s, size_t len, double secs)
{
	static uint8_t ip[2048], esp_pkt[2048], out[2048];
	vpnr_child_sa sa;
	vpnr_esp *a, *b;
	double t0, t;
	size_t n, m;
	uint64_t iters = 0, k;

	vpnr_esp_new(&a, NULL);
	vpnr_esp_new(&b, NULL);
	fill_sa(&sa, s, VPNR_DIR_OUT);
	if (vpnr_esp_sa_install(a, &sa) != VPNR_OK)
		abort();
	fill_sa(&sa, s, VPNR_DIR_IN);
	if (vpnr_esp_sa_install(b, &sa) != VPNR_OK)
		abort();
	memset(ip, 0x42, sizeof(ip));
	ip[0] = 0x45;
	t0 = now_s();
	do {
		for (k = 0; k < 1000; k++) {
			if (vpnr_esp_encap(a, 1, ip, len, esp_pkt,
				sizeof(esp_pkt), &n, NULL, 1) != VPNR_OK)
				abort();
			if (vpnr_esp_decap(b, NULL, esp_pkt, n, out,
				sizeof(out), &m, NULL, 1) != VPNR_OK ||
			    m != len)
				abort();
		}
		iters += k;
		t = now_s() - t0;
	} while (t < secs);
	vpnr_esp_del(a);
	vpnr_esp_del(b);
	return (double)iters * len / t / 1e6;
}

/* The same work with bare EVP calls. */
static double
bench_evp(const struct suite *s, size_t len, double secs)
{
	static uint8_t pt[2048], ct[2048], out[2048];
	uint8_t iv[16] = { 0 }, tag[16], icv[64], icv2[64], aad[12] = { 0 };
	EVP_CIPHER_CTX *enc, *dec;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *me = NULL, *md = NULL;
	OSSL_PARAM params[2];
	const EVP_CIPHER *c;
	double t0, t;
	uint64_t iters = 0, k;
	size_t clen, outl;
	int l;

	memset(pt, 0x42, sizeof(pt));
	enc = EVP_CIPHER_CTX_new();
	dec = EVP_CIPHER_CTX_new();
	if (s->integ == 0) {
		c = s->bits == 128 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
		clen = (len + 2 + 3) & ~(size_t)3;
	} else {
		c = s->bits == 128 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
		clen = (len + 2 + 15) & ~(size_t)15;
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		me = EVP_MAC_CTX_new(mac);
		md = EVP_MAC_CTX_new(mac);
		params[0] =
		    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
			(char *)s->md, 0);
		params[1] = OSSL_PARAM_construct_end();
		EVP_MAC_init(me, ikey, s->mklen, params);
		EVP_MAC_init(md, ikey, s->mklen, params);
	}
	EVP_EncryptInit_ex(enc, c, NULL, ekey, NULL);
	EVP_DecryptInit_ex(dec, c, NULL, ekey, NULL);
	EVP_CIPHER_CTX_set_padding(enc, 0);
	EVP_CIPHER_CTX_set_padding(dec, 0);
	t0 = now_s();
	do {
		for (k = 0; k < 1000; k++) {
			iv[0] = (uint8_t)k;
			if (s->integ == 0) {
				EVP_EncryptInit_ex(enc, NULL, NULL, NULL, iv);
				EVP_EncryptUpdate(enc, NULL, &l, aad, 12);
				EVP_EncryptUpdate(enc, ct, &l, pt, (int)clen);
				EVP_EncryptFinal_ex(enc, ct + l, &l);
				EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_GCM_GET_TAG,
				    16, tag);
				EVP_DecryptInit_ex(dec, NULL, NULL, NULL, iv);
				EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_GCM_SET_TAG,
				    16, tag);
				EVP_DecryptUpdate(dec, NULL, &l, aad, 12);
				EVP_DecryptUpdate(dec, out, &l, ct, (int)clen);
				if (EVP_DecryptFinal_ex(dec, out + l, &l) != 1)
					abort();
			} else {
				EVP_EncryptInit_ex(enc, NULL, NULL, NULL, iv);
				EVP_EncryptUpdate(enc, ct, &l, pt, (int)clen);
				EVP_MAC_init(me, NULL, 0, NULL);
				EVP_MAC_update(me, ct, clen + 24);
				EVP_MAC_final(me, icv, &outl, sizeof(icv));
				EVP_MAC_init(md, NULL, 0, NULL);
				EVP_MAC_update(md, ct, clen + 24);
				EVP_MAC_final(md, icv2, &outl, sizeof(icv2));
				if (CRYPTO_memcmp(icv, icv2, s->icvlen) != 0)
					abort();
				EVP_DecryptInit_ex(dec, NULL, NULL, NULL, iv);
				EVP_DecryptUpdate(dec, out, &l, ct, (int)clen);
			}
		}
		iters += k;
		t = now_s() - t0;
	} while (t < secs);
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	EVP_MAC_CTX_free(me);
	EVP_MAC_CTX_free(md);
	EVP_MAC_free(mac);
	return (double)iters * len / t / 1e6;
}

/* `openssl speed` one-direction MB/s for name at len, or 0.  With
 * aead, `-aead`: IV, AAD, data and tag per buffer (the ESP pattern);
 * without, bulk EVP_EncryptUpdate on one stream. */
static double
openssl_speed(const char *name, size_t len, int aead)
{
	char cmd[256], line[1024];
	FILE *p;
	double v = 0, kb;
	char *q;

	snprintf(cmd, sizeof(cmd),
	    "openssl speed -evp %s %s-bytes %zu -seconds 1 2>/dev/null", name,
	    aead ? "-aead " : "", len);
	if ((p = popen(cmd, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), p) != NULL) {
		/* "AES-256-GCM   123456.78k" (1000-byte units) */
		if (strncasecmp(line, name, strlen(name)) != 0)
			continue;
		q = line + strlen(name);
		if ((kb = strtod(q, NULL)) > 0)
			v = kb * 1000 / 1e6;
	}
	pclose(p);
	return v;
}

static double
best_speed(const char *name, size_t len, int aead, int reps)
{
	double v, best = 0;
	int r;

	for (r = 0; r < reps; r++)
		if ((v = openssl_speed(name, len, aead)) > best)
			best = v;
	return best;
}

int
main(int argc, char **argv)
{
	double secs = 0.5, ours, evp, osp;
	int ch, do_openssl = 0, reps = 3, r;
	size_t i, j;

	while ((ch = getopt(argc, argv, "t:or:")) != -1) {
		switch (ch) {
		case 'r':
			reps = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'o':
			do_openssl = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: bench_esp [-t secs] [-r reps] [-o]\n");
			return 2;
		}
	}
	for (i = 0; i < sizeof(ekey); i++)
		ekey[i] = (uint8_t)i;
	for (i = 0; i < sizeof(ikey); i++)
		ikey[i] = (uint8_t)(0x40 + i);
	printf("# ESP encap+decap on one core vs raw EVP (same work), "
	       "MB/s of inner bytes, best of %d; %s\n",
	    reps, OpenSSL_version(OPENSSL_VERSION));
	printf("%-14s %6s %10s %10s %7s", "suite", "bytes", "ours", "evp",
	    "ratio");
	if (do_openssl)
		printf(" %9s %11s %6s %10s %6s", "ours/dir", "ossl-aead",
		    "ratio", "ossl-bulk", "ratio");
	printf("\n");
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			/* Best of reps, interleaved: other load on the
			 * machine only ever slows a run down. */
			ours = evp = 0;
			for (r = 0; r < reps; r++) {
				double a =
				    bench_ours(&suites[i], sizes[j], secs);
				double e =
				    bench_evp(&suites[i], sizes[j], secs);

				ours = a > ours ? a : ours;
				evp = e > evp ? e : evp;
			}
			printf("%-14s %6zu %10.1f %10.1f %7.2f", suites[i].name,
			    sizes[j], ours, evp, ours / evp);
			if (do_openssl && suites[i].ossl != NULL) {
				/* openssl speed times one direction only:
				 * compare with our time per direction. */
				osp = best_speed(suites[i].ossl, sizes[j], 1,
				    reps);
				printf(" %9.1f %11.1f %6.2f", ours * 2, osp,
				    osp > 0 ? ours * 2 / osp : 0.0);
				osp = best_speed(suites[i].ossl, sizes[j], 0,
				    reps);
				printf(" %10.1f %6.2f", osp,
				    osp > 0 ? ours * 2 / osp : 0.0);
			}
			printf("\n");
			fflush(stdout);
		}
	}
	return 0;
}
