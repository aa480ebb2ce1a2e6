/*
 * OpenSSL 3 EVP wrappers for IKEv2: DH groups, PRF/prf+, integrity,
 * AES-CBC and AES-GCM-16, SHA-1.
 *
 * Every algorithm object (EVP_MD, EVP_CIPHER, EVP_MAC and a keyed-less
 * HMAC context per digest) and every DH domain (an EVP_PKEY holding
 * only parameters) is fetched once, under pthread_once, and then only
 * read: contexts on different threads may share them.  They live until
 * the process exits (OpenSSL's own atexit handler runs before any
 * destructor of ours could, so they are deliberately not freed).
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "crypto.h"
#include "mem.h"

enum dh_kind {
	DH_KIND_MODP,
	DH_KIND_ECP,
	DH_KIND_X25519,
};

struct dh_group {
	uint16_t id;
	uint8_t kind;       /* enum dh_kind */
	uint8_t full_check; /* y^q == 1 needed (RFC 6989 2.2) */
	uint16_t publen;    /* KE payload data length */
	uint16_t seclen;    /* g^ir length */
	const char *name;   /* OpenSSL group name, NULL: built by hand */
};

static const struct dh_group dh_groups[] = {
	/* RFC 2409 6.2: OpenSSL has the prime but no named group. */
	{ VPNR__DH_MODP1024, DH_KIND_MODP, 0, 128, 128, NULL },
	/* RFC 3526 */
	{ VPNR__DH_MODP2048, DH_KIND_MODP, 0, 256, 256, "modp_2048" },
	{ VPNR__DH_MODP3072, DH_KIND_MODP, 0, 384, 384, "modp_3072" },
	{ VPNR__DH_MODP4096, DH_KIND_MODP, 0, 512, 512, "modp_4096" },
	/* RFC 5903, x || y; secret is x */
	{ VPNR__DH_ECP256, DH_KIND_ECP, 0, 64, 32, "P-256" },
	{ VPNR__DH_ECP384, DH_KIND_ECP, 0, 96, 48, "P-384" },
	{ VPNR__DH_ECP521, DH_KIND_ECP, 0, 132, 66, "P-521" },
	/*
	 * RFC 5114 2.3 (p, g, q; checked against the RFC in the unit
	 * test).  The subgroup is small: peers' values need y^q = 1.
	 */
	{ VPNR__DH_MODP2048S256, DH_KIND_MODP, 1, 256, 256, "dh_2048_256" },
	/* RFC 8031 */
	{ VPNR__DH_X25519, DH_KIND_X25519, 0, 32, 32, "X25519" },
};
#define NGROUPS (sizeof(dh_groups) / sizeof(dh_groups[0]))

/* Private exponent bits for the hand-built 1024-bit group. */
#define MODP1024_PRIV_BITS 256

struct vpnr__dh {
	const struct dh_group *grp;
	EVP_PKEY *pkey;
	uint8_t pub[VPNR__MAX_KE_LEN];
};

/* ---- One-time algorithm cache -------------------------------------- */

enum { MD_SHA1, MD_SHA256, MD_SHA384, MD_SHA512, MD_COUNT };
static const char *const md_names[MD_COUNT] = { "SHA1", "SHA2-256", "SHA2-384",
	"SHA2-512" };

enum { AES_128, AES_192, AES_256, AES_COUNT };
static const char *const cbc_names[AES_COUNT] = { "AES-128-CBC", "AES-192-CBC",
	"AES-256-CBC" };
static const char *const gcm_names[AES_COUNT] = { "AES-128-GCM", "AES-192-GCM",
	"AES-256-GCM" };

static struct {
	int ok;
	EVP_MD *md[MD_COUNT];
	EVP_MAC *hmac;
	EVP_MAC_CTX *hmac_tmpl[MD_COUNT]; /* digest set, no key */
	EVP_CIPHER *cbc[AES_COUNT];
	EVP_CIPHER *gcm[AES_COUNT];
	EVP_PKEY *dom[NGROUPS]; /* domain parameters, NULL for X25519 */
} cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

/*
 * One AES-GCM cipher context per thread and key size, reused for every
 * IKE message: a new EVP_CIPHER_CTX per message (allocate, set up the
 * provider context, cleanse, free) cost more than the AES itself.
 * After each use the context is keyed with zeros, so no key schedule
 * outlives the call.  Freed when the thread exits.
 */
struct gcm_tls {
	EVP_CIPHER_CTX *c[AES_COUNT];
};
static pthread_key_t gcm_key;
static int gcm_key_ok;

static EVP_PKEY *
dom_from_params(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;

	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEY_PARAMETERS, params) !=
		1)
		pkey = NULL;
	EVP_PKEY_CTX_free(pctx);
	return pkey;
}

static EVP_PKEY *
dom_named(const struct dh_group *grp)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)grp->name, 0);
	params[1] = OSSL_PARAM_construct_end();
	return dom_from_params(grp->kind == DH_KIND_ECP ? "EC" : "DH", params);
}

static EVP_PKEY *
dom_modp1024(void)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *p = NULL, *g = NULL;
	EVP_PKEY *pkey = NULL;

	if ((p = BN_get_rfc2409_prime_1024(NULL)) == NULL ||
	    (g = BN_new()) == NULL || BN_set_word(g, 2) != 1)
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, p) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, g) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	pkey = dom_from_params("DH", params);
done:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(g);
	return pkey;
}

static void
gcm_tls_free(void *arg)
{
	struct gcm_tls *g = arg;
	size_t i;

	for (i = 0; i < sizeof(g->c) / sizeof(g->c[0]); i++)
		EVP_CIPHER_CTX_free(g->c[i]);
	OPENSSL_free(g);
}

static void
cache_init(void)
{
	OSSL_PARAM params[2];
	size_t i;

	gcm_key_ok = pthread_key_create(&gcm_key, gcm_tls_free) == 0;
	if ((cache.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto fail;
	for (i = 0; i < MD_COUNT; i++) {
		if ((cache.md[i] = EVP_MD_fetch(NULL, md_names[i], NULL)) ==
		    NULL)
			goto fail;
		if ((cache.hmac_tmpl[i] = EVP_MAC_CTX_new(cache.hmac)) == NULL)
			goto fail;
		params[0] =
		    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
			(char *)md_names[i], 0);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_MAC_CTX_set_params(cache.hmac_tmpl[i], params) != 1)
			goto fail;
	}
	for (i = 0; i < AES_COUNT; i++) {
		if ((cache.cbc[i] = EVP_CIPHER_fetch(NULL, cbc_names[i],
			 NULL)) == NULL ||
		    (cache.gcm[i] =
			    EVP_CIPHER_fetch(NULL, gcm_names[i], NULL)) == NULL)
			goto fail;
	}
	for (i = 0; i < NGROUPS; i++) {
		if (dh_groups[i].kind == DH_KIND_X25519)
			continue;
		if (dh_groups[i].name == NULL)
			cache.dom[i] = dom_modp1024();
		else
			cache.dom[i] = dom_named(&dh_groups[i]);
		if (cache.dom[i] == NULL)
			goto fail;
	}
	cache.ok = 1;
	return;
fail:
	/* Whatever was fetched stays referenced; every call fails. */
	ERR_clear_error();
}

static int
cache_ready(void)
{
	if (pthread_once(&cache_once, cache_init) != 0)
		return 0;
	return cache.ok;
}

/* ---- Diffie-Hellman ------------------------------------------------ */

static const struct dh_group *
dh_lookup(uint16_t group, size_t *idx)
{
	size_t i;

	for (i = 0; i < NGROUPS; i++) {
		if (dh_groups[i].id == group) {
			if (idx != NULL)
				*idx = i;
			return &dh_groups[i];
		}
	}
	return NULL;
}

int
vpnr__dh_supported(uint16_t group)
{
	return dh_lookup(group, NULL) != NULL;
}

size_t
vpnr__dh_public_len(uint16_t group)
{
	const struct dh_group *grp;

	if ((grp = dh_lookup(group, NULL)) == NULL)
		return 0;
	return grp->publen;
}

uint16_t
vpnr__dh_group(const struct vpnr__dh *dh)
{
	return dh->grp->id;
}

/* Fill dh->pub in KE encoding from dh->pkey. */
static int
dh_export_public(struct vpnr__dh *dh)
{
	uint8_t enc[1 + VPNR__MAX_KE_LEN];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(dh->pkey,
		OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc, sizeof(enc),
		&len) != 1)
		return VPNR_ERR_CRYPTO;
	switch (dh->grp->kind) {
	case DH_KIND_ECP:
		/* SEC1 uncompressed point: 0x04 | x | y */
		if (len != 1 + (size_t)dh->grp->publen || enc[0] != 0x04)
			return VPNR_ERR_CRYPTO;
		memcpy(dh->pub, enc + 1, dh->grp->publen);
		break;
	default:
		/* DH pads to the prime length; X25519 is raw. */
		if (len != dh->grp->publen)
			return VPNR_ERR_CRYPTO;
		memcpy(dh->pub, enc, len);
		break;
	}
	return VPNR_OK;
}

static int
dh_alloc(uint16_t group, struct vpnr__dh **pdh, size_t *idx)
{
	const struct dh_group *grp;
	struct vpnr__dh *dh;

	*pdh = NULL;
	if ((grp = dh_lookup(group, idx)) == NULL)
		return VPNR_ERR_UNSUPPORTED;
	if (!cache_ready())
		return VPNR_ERR_CRYPTO;
	if ((dh = vpnr__calloc(NULL, 1, sizeof(*dh))) == NULL)
		return VPNR_ERR_NOMEM;
	dh->grp = grp;
	*pdh = dh;
	return VPNR_OK;
}

int
vpnr__dh_new(uint16_t group, struct vpnr__dh **pdh)
{
	struct vpnr__dh *dh;
	EVP_PKEY_CTX *pctx = NULL;
	OSSL_PARAM params[2];
	int privbits = MODP1024_PRIV_BITS;
	size_t idx = 0;
	int rc;

	if (pdh == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rc = dh_alloc(group, &dh, &idx)) != VPNR_OK)
		return rc;
	rc = VPNR_ERR_CRYPTO;
	if (dh->grp->kind == DH_KIND_X25519)
		pctx = EVP_PKEY_CTX_new_from_name(NULL, dh->grp->name, NULL);
	else
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, cache.dom[idx], NULL);
	if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1)
		goto fail;
	/* The exponent length is a generation parameter, not a domain one. */
	if (dh->grp->id == VPNR__DH_MODP1024) {
		params[0] =
		    OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN,
			&privbits);
		params[1] = OSSL_PARAM_construct_end();
		if (EVP_PKEY_CTX_set_params(pctx, params) != 1)
			goto fail;
	}
	if (EVP_PKEY_keygen(pctx, &dh->pkey) != 1)
		goto fail;
	if ((rc = dh_export_public(dh)) != VPNR_OK)
		goto fail;
	EVP_PKEY_CTX_free(pctx);
	*pdh = dh;
	return VPNR_OK;
fail:
	EVP_PKEY_CTX_free(pctx);
	vpnr__dh_free(dh);
	ERR_clear_error();
	return rc;
}

/* Test-only: a key pair from a fixed private value (big-endian for
 * MODP and ECP, RFC 7748 little-endian bytes for X25519). */
static EVP_PKEY *
dh_modp_from_private(size_t idx, const uint8_t *priv, size_t len)
{
	OSSL_PARAM *dom = NULL, *key = NULL, *all = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *p = NULL, *g = NULL, *x = NULL, *y = NULL;
	BN_CTX *bnctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (EVP_PKEY_get_bn_param(cache.dom[idx], OSSL_PKEY_PARAM_FFC_P, &p) !=
		1 ||
	    EVP_PKEY_get_bn_param(cache.dom[idx], OSSL_PKEY_PARAM_FFC_G, &g) !=
		1)
		goto done;
	if ((bnctx = BN_CTX_secure_new()) == NULL ||
	    (x = BN_secure_new()) == NULL || (y = BN_new()) == NULL ||
	    BN_bin2bn(priv, len, x) == NULL || BN_is_zero(x) ||
	    BN_mod_exp(y, g, x, p, bnctx) != 1)
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) != 1 ||
	    (key = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	if (EVP_PKEY_todata(cache.dom[idx], EVP_PKEY_KEY_PARAMETERS, &dom) !=
		1 ||
	    (all = OSSL_PARAM_merge(dom, key)) == NULL)
		goto done;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, all) != 1)
		pkey = NULL;
done:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(all);
	OSSL_PARAM_free(dom);
	OSSL_PARAM_free(key);
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(bnctx);
	BN_clear_free(x);
	BN_free(y);
	BN_free(p);
	BN_free(g);
	return pkey;
}

static EVP_PKEY *
dh_ecp_from_private(const struct dh_group *grp, const uint8_t *priv, size_t len)
{
	uint8_t pub[1 + VPNR__MAX_KE_LEN];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EC_GROUP *ecg = NULL;
	EC_POINT *pt = NULL;
	BN_CTX *bnctx = NULL;
	BIGNUM *x = NULL;
	EVP_PKEY *pkey = NULL;
	size_t plen;

	if ((ecg = EC_GROUP_new_by_curve_name(EC_curve_nist2nid(grp->name))) ==
	    NULL)
		goto done;
	/* Any byte string is usable: reduce it mod n; 0 is refused. */
	if ((x = BN_secure_new()) == NULL || BN_bin2bn(priv, len, x) == NULL ||
	    (bnctx = BN_CTX_secure_new()) == NULL ||
	    BN_nnmod(x, x, EC_GROUP_get0_order(ecg), bnctx) != 1 ||
	    BN_is_zero(x) || (pt = EC_POINT_new(ecg)) == NULL ||
	    EC_POINT_mul(ecg, pt, x, NULL, NULL, NULL) != 1)
		goto done;
	plen = EC_POINT_point2oct(ecg, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof(pub), NULL);
	if (plen != 1 + (size_t)grp->publen)
		goto done;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		grp->name, 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, x) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
		plen) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto done;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		pkey = NULL;
done:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(pt);
	EC_GROUP_free(ecg);
	BN_CTX_free(bnctx);
	BN_clear_free(x);
	return pkey;
}

int
vpnr__dh_new_with_private(uint16_t group, const uint8_t *priv, size_t len,
    struct vpnr__dh **pdh)
{
	struct vpnr__dh *dh;
	size_t idx = 0;
	int rc;

	if (pdh == NULL || priv == NULL || len == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rc = dh_alloc(group, &dh, &idx)) != VPNR_OK)
		return rc;
	switch (dh->grp->kind) {
	case DH_KIND_MODP:
		dh->pkey = dh_modp_from_private(idx, priv, len);
		break;
	case DH_KIND_ECP:
		dh->pkey = dh_ecp_from_private(dh->grp, priv, len);
		break;
	case DH_KIND_X25519:
		dh->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL,
		    priv, len);
		break;
	}
	rc = VPNR_ERR_CRYPTO;
	if (dh->pkey == NULL || (rc = dh_export_public(dh)) != VPNR_OK) {
		vpnr__dh_free(dh);
		ERR_clear_error();
		return rc;
	}
	*pdh = dh;
	return VPNR_OK;
}

int
vpnr__dh_public(const struct vpnr__dh *dh, uint8_t *out, size_t len)
{
	if (dh == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (len < dh->grp->publen)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	memcpy(out, dh->pub, dh->grp->publen);
	return VPNR_OK;
}

/*
 * The peer's public value as an EVP_PKEY with our domain.  OpenSSL
 * rejects y outside 1 < y < p-1 for DH and points off the curve (or
 * coordinates >= p) for EC while decoding; the small-subgroup group
 * additionally gets the full y^q = 1 check.  X25519 accepts any u; its
 * low-order points are caught by the all-zero result (RFC 8031 2).
 */
static int
dh_peer_key(const struct vpnr__dh *dh, const uint8_t *peer, size_t len,
    EVP_PKEY **ppeer)
{
	uint8_t enc[1 + VPNR__MAX_KE_LEN];
	const uint8_t *p = peer;
	EVP_PKEY_CTX *cctx = NULL;
	EVP_PKEY *pk = NULL;
	size_t n = len;
	int rc = VPNR_ERR_MALFORMED;

	*ppeer = NULL;
	if (len != dh->grp->publen)
		return VPNR_ERR_MALFORMED;
	if (dh->grp->kind == DH_KIND_ECP) {
		enc[0] = 0x04;
		memcpy(enc + 1, peer, len);
		p = enc;
		n = len + 1;
	}
	if ((pk = EVP_PKEY_new()) == NULL ||
	    EVP_PKEY_copy_parameters(pk, dh->pkey) != 1) {
		rc = VPNR_ERR_CRYPTO;
		goto fail;
	}
	if (EVP_PKEY_set1_encoded_public_key(pk, p, n) != 1)
		goto fail; /* out of range, not on the curve */
	if (dh->grp->full_check) {
		if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) ==
		    NULL) {
			rc = VPNR_ERR_CRYPTO;
			goto fail;
		}
		if (EVP_PKEY_public_check(cctx) != 1)
			goto fail;
		EVP_PKEY_CTX_free(cctx);
	}
	*ppeer = pk;
	return VPNR_OK;
fail:
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_free(pk);
	return rc;
}

int
vpnr__dh_derive(struct vpnr__dh *dh, const uint8_t *peer, size_t len,
    uint8_t *secret, size_t cap, size_t *slen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pk = NULL;
	size_t outlen;
	int rc;

	if (dh == NULL || peer == NULL || secret == NULL || slen == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*slen = 0;
	if (cap < dh->grp->seclen)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	if ((rc = dh_peer_key(dh, peer, len, &pk)) != VPNR_OK)
		goto done;
	rc = VPNR_ERR_CRYPTO;
	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(pctx) != 1)
		goto done;
	/* g^ir keeps its leading zeros: always the prime length. */
	if (dh->grp->kind == DH_KIND_MODP &&
	    EVP_PKEY_CTX_set_dh_pad(pctx, 1) != 1)
		goto done;
	/* Validation was done above, cheaper than OpenSSL's full check. */
	if (EVP_PKEY_derive_set_peer_ex(pctx, pk, 0) != 1)
		goto done;
	outlen = cap;
	if (EVP_PKEY_derive(pctx, secret, &outlen) != 1) {
		/* X25519: an all-zero result (low-order point). */
		rc = dh->grp->kind == DH_KIND_X25519 ? VPNR_ERR_MALFORMED :
						       VPNR_ERR_CRYPTO;
		OPENSSL_cleanse(secret, cap);
		goto done;
	}
	if (outlen != dh->grp->seclen) {
		OPENSSL_cleanse(secret, cap);
		goto done;
	}
	*slen = outlen;
	rc = VPNR_OK;
done:
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pk);
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

void
vpnr__dh_free(struct vpnr__dh *dh)
{
	if (dh == NULL)
		return;
	EVP_PKEY_free(dh->pkey); /* OpenSSL clears private BIGNUMs */
	vpnr__freezero(NULL, dh, sizeof(*dh));
}

/* ---- PRF and prf+ -------------------------------------------------- */

static int
prf_md(uint16_t prf)
{
	switch (prf) {
	case VPNR__PRF_HMAC_SHA1:
		return MD_SHA1;
	case VPNR__PRF_HMAC_SHA2_256:
		return MD_SHA256;
	case VPNR__PRF_HMAC_SHA2_384:
		return MD_SHA384;
	case VPNR__PRF_HMAC_SHA2_512:
		return MD_SHA512;
	}
	return -1;
}

static const size_t md_len[MD_COUNT] = { 20, 32, 48, 64 };

size_t
vpnr__prf_len(uint16_t prf)
{
	int md;

	if ((md = prf_md(prf)) < 0)
		return 0;
	return md_len[md];
}

/* A keyed HMAC context for digest md; NULL on failure. */
static EVP_MAC_CTX *
hmac_new(int md, const uint8_t *key, size_t klen)
{
	static const uint8_t nokey;
	EVP_MAC_CTX *ctx;

	if (!cache_ready())
		return NULL;
	if ((ctx = EVP_MAC_CTX_dup(cache.hmac_tmpl[md])) == NULL)
		return NULL;
	/* A NULL key would mean "the previous key": pass an empty one. */
	if (EVP_MAC_init(ctx, klen ? key : &nokey, klen, NULL) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
hmac_iov(int md, const uint8_t *key, size_t klen, const struct vpnr__iov *data,
    size_t n, uint8_t *out)
{
	EVP_MAC_CTX *ctx;
	size_t i, outl = 0;
	int rc = VPNR_ERR_CRYPTO;

	if ((ctx = hmac_new(md, key, klen)) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		if (data[i].len != 0 &&
		    EVP_MAC_update(ctx, data[i].p, data[i].len) != 1)
			goto done;
	}
	if (EVP_MAC_final(ctx, out, &outl, md_len[md]) != 1 ||
	    outl != md_len[md])
		goto done;
	rc = VPNR_OK;
done:
	EVP_MAC_CTX_free(ctx); /* clears the key schedule */
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

int
vpnr__prf(uint16_t prf, const uint8_t *key, size_t klen,
    const struct vpnr__iov *data, size_t n, uint8_t *out)
{
	int md;

	if ((md = prf_md(prf)) < 0)
		return VPNR_ERR_UNSUPPORTED;
	if ((key == NULL && klen != 0) || (data == NULL && n != 0) ||
	    out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	return hmac_iov(md, key, klen, data, n, out);
}

int
vpnr__prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
    const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen)
{
	uint8_t t[VPNR__MAX_PRF_LEN];
	EVP_MAC_CTX *ctx = NULL;
	size_t hlen, done = 0, tl = 0, chunk;
	uint8_t ctr;
	int md, rc = VPNR_ERR_CRYPTO;

	if ((md = prf_md(prf)) < 0)
		return VPNR_ERR_UNSUPPORTED;
	if ((key == NULL && klen != 0) || (seed == NULL && slen != 0) ||
	    (out == NULL && outlen != 0))
		return VPNR_ERR_INVALID_ARGUMENT;
	hlen = md_len[md];
	/* The one-octet counter allows 255 blocks (RFC 7296 2.13). */
	if (outlen > 255 * hlen)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (outlen == 0)
		return VPNR_OK;
	if ((ctx = hmac_new(md, key, klen)) == NULL)
		goto done;
	for (ctr = 1; done < outlen; ctr++) {
		/* Re-initialising with a NULL key reuses the key schedule. */
		if (ctr > 1 && EVP_MAC_init(ctx, NULL, 0, NULL) != 1)
			goto done;
		/* T(n) = prf(K, T(n-1) | S | n) */
		if ((tl != 0 && EVP_MAC_update(ctx, t, tl) != 1) ||
		    (slen != 0 && EVP_MAC_update(ctx, seed, slen) != 1) ||
		    EVP_MAC_update(ctx, &ctr, 1) != 1 ||
		    EVP_MAC_final(ctx, t, &tl, sizeof(t)) != 1 || tl != hlen)
			goto done;
		chunk = outlen - done < hlen ? outlen - done : hlen;
		memcpy(out + done, t, chunk);
		done += chunk;
	}
	rc = VPNR_OK;
done:
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(t, sizeof(t));
	if (rc != VPNR_OK) {
		if (out != NULL)
			OPENSSL_cleanse(out, outlen);
		ERR_clear_error();
	}
	return rc;
}

/* ---- Integrity ----------------------------------------------------- */

static int
integ_md(uint16_t integ, size_t *icv)
{
	switch (integ) {
	case VPNR_INTEG_HMAC_SHA1_96:
		*icv = 12;
		return MD_SHA1;
	case VPNR_INTEG_HMAC_SHA2_256_128:
		*icv = 16;
		return MD_SHA256;
	case VPNR_INTEG_HMAC_SHA2_384_192:
		*icv = 24;
		return MD_SHA384;
	case VPNR_INTEG_HMAC_SHA2_512_256:
		*icv = 32;
		return MD_SHA512;
	}
	*icv = 0;
	return -1;
}

size_t
vpnr__integ_key_len(uint16_t integ)
{
	size_t icv;
	int md;

	if ((md = integ_md(integ, &icv)) < 0)
		return 0;
	return md_len[md]; /* RFC 2404, RFC 4868: key = digest length */
}

size_t
vpnr__integ_icv_len(uint16_t integ)
{
	size_t icv;

	integ_md(integ, &icv);
	return icv;
}

int
vpnr__integ_compute(uint16_t integ, const uint8_t *key, size_t klen,
    const uint8_t *data, size_t len, uint8_t *icv)
{
	uint8_t mac[VPNR__MAX_PRF_LEN];
	struct vpnr__iov iov;
	size_t icvlen;
	int md, rc;

	if ((md = integ_md(integ, &icvlen)) < 0)
		return VPNR_ERR_UNSUPPORTED;
	if ((key == NULL && klen != 0) || (data == NULL && len != 0) ||
	    icv == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	iov.p = data;
	iov.len = len;
	if ((rc = hmac_iov(md, key, klen, &iov, 1, mac)) == VPNR_OK)
		memcpy(icv, mac, icvlen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

int
vpnr__integ_verify(uint16_t integ, const uint8_t *key, size_t klen,
    const uint8_t *data, size_t len, const uint8_t *icv)
{
	uint8_t mine[VPNR__MAX_ICV_LEN];
	size_t icvlen;
	int rc;

	if (icv == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((rc = vpnr__integ_compute(integ, key, klen, data, len, mine)) !=
	    VPNR_OK)
		return rc;
	icvlen = vpnr__integ_icv_len(integ);
	rc = CRYPTO_memcmp(mine, icv, icvlen) == 0 ? VPNR_OK :
						     VPNR_ERR_INTEGRITY;
	OPENSSL_cleanse(mine, sizeof(mine));
	return rc;
}

/* ---- Encryption ---------------------------------------------------- */

int
vpnr__encr_supported(uint16_t encr, uint16_t bits)
{
	if (encr != VPNR_ENCR_AES_CBC && encr != VPNR_ENCR_AES_GCM_16)
		return 0;
	return bits == 128 || bits == 192 || bits == 256;
}

int
vpnr__encr_is_aead(uint16_t encr)
{
	return encr == VPNR_ENCR_AES_GCM_16;
}

size_t
vpnr__encr_keymat_len(uint16_t encr, uint16_t bits)
{
	if (!vpnr__encr_supported(encr, bits))
		return 0;
	return bits / 8 + (encr == VPNR_ENCR_AES_GCM_16 ? 4 : 0);
}

size_t
vpnr__encr_iv_len(uint16_t encr)
{
	switch (encr) {
	case VPNR_ENCR_AES_CBC:
		return 16;
	case VPNR_ENCR_AES_GCM_16:
		return 8;
	}
	return 0;
}

size_t
vpnr__encr_block_len(uint16_t encr)
{
	switch (encr) {
	case VPNR_ENCR_AES_CBC:
		return 16;
	case VPNR_ENCR_AES_GCM_16:
		return 1;
	}
	return 0;
}

size_t
vpnr__encr_icv_len(uint16_t encr)
{
	return encr == VPNR_ENCR_AES_GCM_16 ? 16 : 0;
}

static int
aes_index(size_t klen)
{
	switch (klen) {
	case 16:
		return AES_128;
	case 24:
		return AES_192;
	case 32:
		return AES_256;
	}
	return -1;
}

static int
cbc_crypt(const uint8_t *key, size_t klen, const uint8_t *iv, uint8_t *buf,
    size_t len, int enc)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int ai, outl, rc = VPNR_ERR_CRYPTO;

	if ((ai = aes_index(klen)) < 0 || key == NULL || iv == NULL ||
	    (buf == NULL && len != 0) || len % 16 != 0 || len > INT_MAX)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (!cache_ready())
		return VPNR_ERR_CRYPTO;
	if (len == 0)
		return VPNR_OK;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(ctx, cache.cbc[ai], key, iv, enc, NULL) != 1 ||
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

int
vpnr__cbc_encrypt(const uint8_t *key, size_t klen, const uint8_t *iv,
    uint8_t *buf, size_t len)
{
	return cbc_crypt(key, klen, iv, buf, len, 1);
}

int
vpnr__cbc_decrypt(const uint8_t *key, size_t klen, const uint8_t *iv,
    uint8_t *buf, size_t len)
{
	return cbc_crypt(key, klen, iv, buf, len, 0);
}

#define GCM_SALT_LEN 4
#define GCM_IV_LEN   8
#define GCM_TAG_LEN  16

static const uint8_t gcm_zero_key[32];

/* This thread's cached contexts, or NULL (then one per call). */
static struct gcm_tls *
gcm_tls_get(void)
{
	struct gcm_tls *g;

	if (!gcm_key_ok)
		return NULL;
	if ((g = pthread_getspecific(gcm_key)) != NULL)
		return g;
	if ((g = OPENSSL_zalloc(sizeof(*g))) == NULL)
		return NULL;
	if (pthread_setspecific(gcm_key, g) != 0) {
		OPENSSL_free(g);
		return NULL;
	}
	return g;
}

static int
gcm_crypt(const uint8_t *keymat, size_t kmlen, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len, uint8_t *tag,
    int enc)
{
	uint8_t nonce[GCM_SALT_LEN + GCM_IV_LEN];
	EVP_CIPHER_CTX *ctx = NULL;
	struct gcm_tls *g = NULL;
	int ai, outl, rc = VPNR_ERR_CRYPTO;

	if (kmlen < GCM_SALT_LEN ||
	    (ai = aes_index(kmlen - GCM_SALT_LEN)) < 0 || keymat == NULL ||
	    iv == NULL || tag == NULL || (aad == NULL && aadlen != 0) ||
	    (buf == NULL && len != 0) || len > INT_MAX || aadlen > INT_MAX)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (!cache_ready())
		return VPNR_ERR_CRYPTO;
	/* RFC 4106 4: nonce = salt (last 4 octets of keymat) | IV */
	memcpy(nonce, keymat + kmlen - GCM_SALT_LEN, GCM_SALT_LEN);
	memcpy(nonce + GCM_SALT_LEN, iv, GCM_IV_LEN);
	if ((g = gcm_tls_get()) != NULL && g->c[ai] != NULL) {
		ctx = g->c[ai];
		g->c[ai] = NULL; /* back after a clean finish */
		if (EVP_CipherInit_ex2(ctx, NULL, keymat, nonce, enc, NULL) !=
		    1)
			goto done;
	} else if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex2(ctx, cache.gcm[ai], keymat, nonce, enc, NULL) !=
		1)
		goto done;
	if (aadlen != 0 &&
	    EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto done;
	if (len != 0 &&
	    (EVP_CipherUpdate(ctx, buf, &outl, buf, (int)len) != 1 ||
		(size_t)outl != len))
		goto done;
	if (enc) {
		if (EVP_CipherFinal_ex(ctx, nonce, &outl) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN,
			tag) != 1)
			goto done;
	} else {
		if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN,
			tag) != 1)
			goto done;
		if (EVP_CipherFinal_ex(ctx, nonce, &outl) != 1) {
			/* Never hand out unauthenticated plaintext. */
			if (len != 0)
				OPENSSL_cleanse(buf, len);
			rc = VPNR_ERR_INTEGRITY;
			goto done;
		}
	}
	rc = VPNR_OK;
done:
	/* Kept for the next call only after a clean run, and keyed with
	 * zeros first: the caller's key schedule does not stay behind. */
	if (ctx != NULL && g != NULL &&
	    (rc == VPNR_OK || rc == VPNR_ERR_INTEGRITY) &&
	    EVP_CipherInit_ex2(ctx, NULL, gcm_zero_key, NULL, enc, NULL) == 1) {
		g->c[ai] = ctx;
		ctx = NULL;
	}
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}

int
vpnr__gcm_seal(const uint8_t *keymat, size_t kmlen, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len, uint8_t *tag)
{
	return gcm_crypt(keymat, kmlen, iv, aad, aadlen, buf, len, tag, 1);
}

int
vpnr__gcm_open(const uint8_t *keymat, size_t kmlen, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
    const uint8_t *tag)
{
	/* The tag is only read (EVP_CTRL_AEAD_SET_TAG copies it). */
	return gcm_crypt(keymat, kmlen, iv, aad, aadlen, buf, len,
	    (uint8_t *)(uintptr_t)tag, 0);
}

/* ---- SHA-1 --------------------------------------------------------- */

int
vpnr__sha1(const struct vpnr__iov *data, size_t n, uint8_t out[20])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned int outl = 0;
	size_t i;
	int rc = VPNR_ERR_CRYPTO;

	if ((data == NULL && n != 0) || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (!cache_ready())
		return VPNR_ERR_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex2(ctx, cache.md[MD_SHA1], NULL) != 1)
		goto done;
	for (i = 0; i < n; i++) {
		if (data[i].len != 0 &&
		    EVP_DigestUpdate(ctx, data[i].p, data[i].len) != 1)
			goto done;
	}
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != 20)
		goto done;
	rc = VPNR_OK;
done:
	EVP_MD_CTX_free(ctx);
	if (rc != VPNR_OK)
		ERR_clear_error();
	return rc;
}
