/*
 * IKEv1 additions to lib/crypto.c (OpenSSL 3 EVP): bare hashes and
 * HMAC for MD5 and SHA-1/2, 3DES-CBC and AES-CBC, and MODP-1536.
 * Algorithm objects are fetched once (pthread_once) and only read
 * afterwards, as in crypto.c.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto_v1.h"
#include "mem.h"

enum { H_MD5, H_SHA1, H_SHA256, H_SHA384, H_SHA512, H_COUNT };
static const char *const h_names[H_COUNT] = { "MD5", "SHA1", "SHA2-256",
	"SHA2-384", "SHA2-512" };
static const size_t h_lens[H_COUNT] = { 16, 20, 32, 48, 64 };

enum { C_3DES, C_AES128, C_AES192, C_AES256, C_COUNT };
static const char *const c_names[C_COUNT] = { "DES-EDE3-CBC", "AES-128-CBC",
	"AES-192-CBC", "AES-256-CBC" };

#define MODP1536_LEN 192

static struct {
	int ok;
	EVP_MD *md[H_COUNT];
	EVP_MAC *hmac;
	EVP_CIPHER *cbc[C_COUNT];
	EVP_PKEY *modp1536; /* domain parameters */
} v1;
static pthread_once_t v1_once = PTHREAD_ONCE_INIT;

static void
v1_init(void)
{
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *pctx = NULL;
	size_t i;

	for (i = 0; i < H_COUNT; i++)
		if ((v1.md[i] = EVP_MD_fetch(NULL, h_names[i], NULL)) == NULL)
			goto fail;
	for (i = 0; i < C_COUNT; i++)
		if ((v1.cbc[i] = EVP_CIPHER_fetch(NULL, c_names[i], NULL)) ==
		    NULL)
			goto fail;
	if ((v1.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)"modp_1536", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &v1.modp1536, EVP_PKEY_KEY_PARAMETERS,
		params) != 1)
		goto fail;
	EVP_PKEY_CTX_free(pctx);
	v1.ok = 1;
	return;
fail:
	/* What was fetched stays referenced; every call fails. */
	EVP_PKEY_CTX_free(pctx);
	ERR_clear_error();
}

static int
v1_ready(void)
{
	if (pthread_once(&v1_once, v1_init) != 0)
		return 0;
	return v1.ok;
}

static int
hash_idx(uint16_t hash)
{
	switch (hash) {
	case VPNR__V1_HASH_MD5:
		return H_MD5;
	case VPNR__V1_HASH_SHA1:
		return H_SHA1;
	case VPNR__V1_HASH_SHA2_256:
		return H_SHA256;
	case VPNR__V1_HASH_SHA2_384:
		return H_SHA384;
	case VPNR__V1_HASH_SHA2_512:
		return H_SHA512;
	}
	return -1;
}

size_t
vpnr__v1_hash_len(uint16_t hash)
{
	int i = hash_idx(hash);

	return i < 0 ? 0 : h_lens[i];
}

int
vpnr__v1_hash(uint16_t hash, const struct vpnr__iov *data, size_t n,
    uint8_t *out)
{
	EVP_MD_CTX *ctx;
	unsigned int outl = 0;
	size_t k;
	int i = hash_idx(hash), rc = VPNR_ERR_CRYPTO;

	if (i < 0)
		return VPNR_ERR_UNSUPPORTED;
	if (!v1_ready())
		return VPNR_ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return VPNR_ERR_NOMEM;
	if (EVP_DigestInit_ex2(ctx, v1.md[i], NULL) != 1)
		goto done;
	for (k = 0; k < n; k++)
		if (data[k].len > 0 &&
		    EVP_DigestUpdate(ctx, data[k].p, data[k].len) != 1)
			goto done;
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != h_lens[i])
		goto done;
	rc = VPNR_OK;
done:
	EVP_MD_CTX_free(ctx);
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

int
vpnr__v1_prf(uint16_t hash, const uint8_t *key, size_t klen,
    const struct vpnr__iov *data, size_t n, uint8_t *out)
{
	static const uint8_t nokey;
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	size_t k, outl = 0;
	int i = hash_idx(hash), rc = VPNR_ERR_CRYPTO;

	if (i < 0)
		return VPNR_ERR_UNSUPPORTED;
	if (!v1_ready())
		return VPNR_ERR_CRYPTO;
	if ((ctx = EVP_MAC_CTX_new(v1.hmac)) == NULL)
		return VPNR_ERR_NOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)h_names[i], 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, klen ? key : &nokey, klen, params) != 1)
		goto done;
	for (k = 0; k < n; k++)
		if (data[k].len > 0 &&
		    EVP_MAC_update(ctx, data[k].p, data[k].len) != 1)
			goto done;
	if (EVP_MAC_final(ctx, out, &outl, h_lens[i]) != 1 || outl != h_lens[i])
		goto done;
	rc = VPNR_OK;
done:
	EVP_MAC_CTX_free(ctx); /* clears the key */
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

/* ---- CBC ------------------------------------------------------------ */

static int
cipher_idx(uint16_t enc, size_t klen)
{
	if (enc == VPNR__V1_ENC_3DES_CBC)
		return klen == 24 ? C_3DES : -1;
	if (enc != VPNR__V1_ENC_AES_CBC)
		return -1;
	switch (klen) {
	case 16:
		return C_AES128;
	case 24:
		return C_AES192;
	case 32:
		return C_AES256;
	}
	return -1;
}

size_t
vpnr__v1_cipher_block_len(uint16_t enc)
{
	if (enc == VPNR__V1_ENC_3DES_CBC)
		return 8;
	if (enc == VPNR__V1_ENC_AES_CBC)
		return 16;
	return 0;
}

size_t
vpnr__v1_cipher_key_len(uint16_t enc, uint16_t bits)
{
	if (enc == VPNR__V1_ENC_3DES_CBC)
		return bits == 0 || bits == 192 ? 24 : 0;
	if (enc == VPNR__V1_ENC_AES_CBC &&
	    (bits == 128 || bits == 192 || bits == 256))
		return bits / 8;
	return 0;
}

int
vpnr__v1_cbc(uint16_t enc, int encrypt, const uint8_t *key, size_t klen,
    const uint8_t *iv, uint8_t *buf, size_t len)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t bl = vpnr__v1_cipher_block_len(enc);
	int ci = cipher_idx(enc, klen), outl = 0, rc = VPNR_ERR_CRYPTO;

	if (ci < 0 || bl == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (len % bl != 0 || len > 0x7fffffff)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (!v1_ready())
		return VPNR_ERR_CRYPTO;
	if (len == 0)
		return VPNR_OK;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return VPNR_ERR_NOMEM;
	if (EVP_CipherInit_ex2(ctx, v1.cbc[ci], key, iv, encrypt ? 1 : 0,
		NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) != 1 ||
	    (size_t)outl != len)
		goto done;
	rc = VPNR_OK;
done:
	EVP_CIPHER_CTX_free(ctx); /* clears the key schedule */
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

/* ---- DH ------------------------------------------------------------- */

struct vpnr__v1_dh {
	uint16_t group;
	struct vpnr__dh *v2; /* every group but 5 */
	EVP_PKEY *pkey;      /* group 5 */
	uint8_t pub[MODP1536_LEN];
};

int
vpnr__v1_dh_supported(uint16_t group)
{
	if (group == VPNR__V1_DH_MODP1536)
		return 1;
	/* 24 and 31 are IKEv2-only registrations. */
	if (group == VPNR__DH_MODP2048S256 || group == VPNR__DH_X25519)
		return 0;
	return vpnr__dh_supported(group);
}

size_t
vpnr__v1_dh_public_len(uint16_t group)
{
	if (!vpnr__v1_dh_supported(group))
		return 0;
	if (group == VPNR__V1_DH_MODP1536)
		return MODP1536_LEN;
	return vpnr__dh_public_len(group);
}

uint16_t
vpnr__v1_dh_group(const struct vpnr__v1_dh *dh)
{
	return dh->group;
}

static int
dh5_new(struct vpnr__v1_dh *dh)
{
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *y = NULL;
	int rc = VPNR_ERR_CRYPTO;

	if (!v1_ready())
		return VPNR_ERR_CRYPTO;
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, v1.modp1536, NULL)) ==
		NULL ||
	    EVP_PKEY_keygen_init(pctx) != 1 ||
	    EVP_PKEY_keygen(pctx, &dh->pkey) != 1)
		goto done;
	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) != 1 ||
	    BN_bn2binpad(y, dh->pub, MODP1536_LEN) != MODP1536_LEN)
		goto done;
	rc = VPNR_OK;
done:
	BN_free(y);
	EVP_PKEY_CTX_free(pctx);
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

int
vpnr__v1_dh_new(uint16_t group, struct vpnr__v1_dh **pdh)
{
	struct vpnr__v1_dh *dh;
	int rc;

	if (pdh == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*pdh = NULL;
	if (!vpnr__v1_dh_supported(group))
		return VPNR_ERR_UNSUPPORTED;
	if ((dh = vpnr__calloc(NULL, 1, sizeof(*dh))) == NULL)
		return VPNR_ERR_NOMEM;
	dh->group = group;
	if (group == VPNR__V1_DH_MODP1536)
		rc = dh5_new(dh);
	else
		rc = vpnr__dh_new(group, &dh->v2);
	if (rc != VPNR_OK) {
		vpnr__v1_dh_free(dh);
		return rc;
	}
	*pdh = dh;
	return VPNR_OK;
}

int
vpnr__v1_dh_new_with_private(uint16_t group, const uint8_t *priv, size_t len,
    struct vpnr__v1_dh **pdh)
{
	struct vpnr__v1_dh *dh;
	int rc;

	if (pdh == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*pdh = NULL;
	if (!vpnr__v1_dh_supported(group) || group == VPNR__V1_DH_MODP1536)
		return VPNR_ERR_UNSUPPORTED;
	if ((dh = vpnr__calloc(NULL, 1, sizeof(*dh))) == NULL)
		return VPNR_ERR_NOMEM;
	dh->group = group;
	if ((rc = vpnr__dh_new_with_private(group, priv, len, &dh->v2)) !=
	    VPNR_OK) {
		vpnr__v1_dh_free(dh);
		return rc;
	}
	*pdh = dh;
	return VPNR_OK;
}

int
vpnr__v1_dh_public(const struct vpnr__v1_dh *dh, uint8_t *out, size_t len)
{
	if (dh == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (dh->v2 != NULL)
		return vpnr__dh_public(dh->v2, out, len);
	if (len < MODP1536_LEN)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	memcpy(out, dh->pub, MODP1536_LEN);
	return VPNR_OK;
}

/* Group 5: 1 < y < p-1 (RFC 6989 2.1), then a padded derive. */
static int
dh5_derive(struct vpnr__v1_dh *dh, const uint8_t *peer, size_t len,
    uint8_t *secret, size_t cap, size_t *slen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *p = NULL, *y = NULL;
	size_t outlen = cap;
	int rc = VPNR_ERR_MALFORMED;

	if (len != MODP1536_LEN)
		return VPNR_ERR_MALFORMED;
	if (cap < MODP1536_LEN)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	if (EVP_PKEY_get_bn_param(dh->pkey, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
	    (y = BN_bin2bn(peer, (int)len, NULL)) == NULL ||
	    BN_sub_word(p, 1) != 1) {
		rc = VPNR_ERR_CRYPTO;
		goto done;
	}
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, p) >= 0)
		goto done; /* y <= 1 or y >= p-1 */
	rc = VPNR_ERR_CRYPTO;
	if ((pk = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_copy_parameters(pk, dh->pkey) != 1 ||
	    EVP_PKEY_set1_encoded_public_key(pk, peer, len) != 1)
		goto done;
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_dh_pad(pctx, 1) != 1 ||
	    EVP_PKEY_derive_set_peer_ex(pctx, pk, 0) != 1 ||
	    EVP_PKEY_derive(pctx, secret, &outlen) != 1 ||
	    outlen != MODP1536_LEN) {
		OPENSSL_cleanse(secret, cap);
		goto done;
	}
	*slen = outlen;
	rc = VPNR_OK;
done:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pk);
	BN_free(p);
	BN_free(y);
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

int
vpnr__v1_dh_derive(struct vpnr__v1_dh *dh, const uint8_t *peer, size_t len,
    uint8_t *secret, size_t cap, size_t *slen)
{
	if (dh == NULL || peer == NULL || secret == NULL || slen == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*slen = 0;
	if (dh->v2 != NULL)
		return vpnr__dh_derive(dh->v2, peer, len, secret, cap, slen);
	return dh5_derive(dh, peer, len, secret, cap, slen);
}

void
vpnr__v1_dh_free(struct vpnr__v1_dh *dh)
{
	if (dh == NULL)
		return;
	vpnr__dh_free(dh->v2);
	EVP_PKEY_free(dh->pkey);
	vpnr__freezero(NULL, dh, sizeof(*dh));
}
