/*
 * IKEv1 key derivation (RFC 2409 5, Appendix B; RFC 3947 3.2).  Every
 * intermediate buffer holding key material is wiped before return.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "ikev1_keymat.h"
#include "ikev1_msg.h"

void
vpnr__v1_keys_wipe(struct vpnr__v1_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int
vpnr__v1_skeyid_psk(uint16_t hash, const uint8_t *psk, size_t psk_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out)
{
	struct vpnr__iov iov[2] = { { ni, ni_len }, { nr, nr_len } };

	if (psk == NULL || psk_len == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	return vpnr__v1_prf(hash, psk, psk_len, iov, 2, out);
}

int
vpnr__v1_skeyid_sig(uint16_t hash, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
    uint8_t *out)
{
	uint8_t key[2 * VPNR__V1_MAX_NONCE];
	struct vpnr__iov iov = { gxy, gxy_len };
	int rc;

	if (ni_len > VPNR__V1_MAX_NONCE || nr_len > VPNR__V1_MAX_NONCE)
		return VPNR_ERR_INVALID_ARGUMENT;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	rc = vpnr__v1_prf(hash, key, ni_len + nr_len, &iov, 1, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
vpnr__v1_expand_key(uint16_t hash, const uint8_t *skeyid_e, size_t len,
    uint8_t *out, size_t outlen)
{
	uint8_t kn[VPNR__V1_MAX_HASH_LEN];
	static const uint8_t zero;
	struct vpnr__iov iov;
	size_t hl = vpnr__v1_hash_len(hash), off = 0, n;
	int rc = VPNR_OK;

	if (hl == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (len >= outlen) {
		memcpy(out, skeyid_e, outlen);
		return VPNR_OK;
	}
	iov.p = &zero;
	iov.len = 1;
	while (off < outlen) {
		if ((rc = vpnr__v1_prf(hash, skeyid_e, len, &iov, 1, kn)) !=
		    VPNR_OK)
			break;
		n = outlen - off < hl ? outlen - off : hl;
		memcpy(out + off, kn, n);
		off += n;
		iov.p = kn;
		iov.len = hl;
	}
	OPENSSL_cleanse(kn, sizeof(kn));
	if (rc != VPNR_OK)
		OPENSSL_cleanse(out, outlen);
	return rc;
}

int
vpnr__v1_derive(struct vpnr__v1_keys *k, const uint8_t *skeyid,
    const uint8_t *gxy, size_t gxy_len, const uint8_t *cky_i,
    const uint8_t *cky_r)
{
	struct vpnr__iov iov[5];
	uint8_t c;
	int rc;

	k->prf_len = vpnr__v1_hash_len(k->hash);
	k->enc_len = vpnr__v1_cipher_key_len(k->enc, k->enc_bits);
	k->block_len = vpnr__v1_cipher_block_len(k->enc);
	if (k->prf_len == 0 || k->enc_len == 0 || k->block_len == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (skeyid != k->skeyid)
		memcpy(k->skeyid, skeyid, k->prf_len);
	iov[1].p = gxy;
	iov[1].len = gxy_len;
	iov[2].p = cky_i;
	iov[2].len = VPNR__V1_COOKIE;
	iov[3].p = cky_r;
	iov[3].len = VPNR__V1_COOKIE;
	iov[4].p = &c;
	iov[4].len = 1;
	c = 0;
	if ((rc = vpnr__v1_prf(k->hash, k->skeyid, k->prf_len, iov + 1, 4,
		 k->skeyid_d)) != VPNR_OK)
		goto fail;
	c = 1;
	iov[0].p = k->skeyid_d;
	iov[0].len = k->prf_len;
	if ((rc = vpnr__v1_prf(k->hash, k->skeyid, k->prf_len, iov, 5,
		 k->skeyid_a)) != VPNR_OK)
		goto fail;
	c = 2;
	iov[0].p = k->skeyid_a;
	if ((rc = vpnr__v1_prf(k->hash, k->skeyid, k->prf_len, iov, 5,
		 k->skeyid_e)) != VPNR_OK)
		goto fail;
	if ((rc = vpnr__v1_expand_key(k->hash, k->skeyid_e, k->prf_len,
		 k->enc_key, k->enc_len)) != VPNR_OK)
		goto fail;
	return VPNR_OK;
fail:
	vpnr__v1_keys_wipe(k);
	return rc;
}

/* An IV is the first block of a hash (RFC 2409 appendix B). */
static int
iv_from_hash(const struct vpnr__v1_keys *k, const struct vpnr__iov *iov,
    size_t n, uint8_t *iv)
{
	uint8_t h[VPNR__V1_MAX_HASH_LEN];
	int rc;

	if (k->block_len == 0 || k->block_len > vpnr__v1_hash_len(k->hash))
		return VPNR_ERR_UNSUPPORTED;
	if ((rc = vpnr__v1_hash(k->hash, iov, n, h)) == VPNR_OK)
		memcpy(iv, h, k->block_len);
	return rc;
}

int
vpnr__v1_p1_iv(const struct vpnr__v1_keys *k, const uint8_t *gxi,
    size_t gxi_len, const uint8_t *gxr, size_t gxr_len, uint8_t *iv)
{
	struct vpnr__iov iov[2] = { { gxi, gxi_len }, { gxr, gxr_len } };

	return iv_from_hash(k, iov, 2, iv);
}

int
vpnr__v1_p2_iv(const struct vpnr__v1_keys *k, const uint8_t *last_block,
    uint32_t msg_id, uint8_t *iv)
{
	uint8_t mid[4];
	struct vpnr__iov iov[2] = { { last_block, k->block_len },
		{ mid, sizeof(mid) } };

	vpnr__put_be32(mid, msg_id);
	return iv_from_hash(k, iov, 2, iv);
}

int
vpnr__v1_hash_auth(const struct vpnr__v1_keys *k, int responder,
    const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr, size_t gxr_len,
    const uint8_t *cky_i, const uint8_t *cky_r, const uint8_t *sai_b,
    size_t sai_len, const uint8_t *id_b, size_t id_len, uint8_t *out)
{
	/* The sender's g^x and cookie come first. */
	struct vpnr__iov iov[6] = {
		{ responder ? gxr : gxi, responder ? gxr_len : gxi_len },
		{ responder ? gxi : gxr, responder ? gxi_len : gxr_len },
		{ responder ? cky_r : cky_i, VPNR__V1_COOKIE },
		{ responder ? cky_i : cky_r, VPNR__V1_COOKIE },
		{ sai_b, sai_len },
		{ id_b, id_len },
	};

	return vpnr__v1_prf(k->hash, k->skeyid, k->prf_len, iov, 6, out);
}

int
vpnr__v1_hash1(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *rest, size_t rest_len, uint8_t *out)
{
	/* HASH(2) without a nonce: empty pieces are not hashed. */
	return vpnr__v1_hash2(k, msg_id, NULL, 0, rest, rest_len, out);
}

int
vpnr__v1_hash2(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *ni, size_t ni_len, const uint8_t *rest, size_t rest_len,
    uint8_t *out)
{
	uint8_t mid[4];
	struct vpnr__iov iov[3] = { { mid, 4 }, { ni, ni_len },
		{ rest, rest_len } };

	vpnr__put_be32(mid, msg_id);
	return vpnr__v1_prf(k->hash, k->skeyid_a, k->prf_len, iov, 3, out);
}

int
vpnr__v1_hash3(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out)
{
	uint8_t zmid[5];
	struct vpnr__iov iov[3] = { { zmid, 5 }, { ni, ni_len },
		{ nr, nr_len } };

	zmid[0] = 0;
	vpnr__put_be32(zmid + 1, msg_id);
	return vpnr__v1_prf(k->hash, k->skeyid_a, k->prf_len, iov, 3, out);
}

int
vpnr__v1_hash_verify(const uint8_t *want, size_t want_len, const uint8_t *got,
    size_t got_len)
{
	if (want_len == 0 || want_len != got_len ||
	    CRYPTO_memcmp(want, got, want_len) != 0)
		return VPNR_ERR_AUTH_FAILED;
	return VPNR_OK;
}

int
vpnr__v1_keymat(const struct vpnr__v1_keys *k, const uint8_t *gxy,
    size_t gxy_len, uint8_t protocol, const uint8_t *spi, size_t spi_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out, size_t outlen)
{
	uint8_t kn[VPNR__V1_MAX_HASH_LEN];
	struct vpnr__iov iov[6] = { { kn, k->prf_len },
		{ gxy, gxy != NULL ? gxy_len : 0 }, { &protocol, 1 },
		{ spi, spi_len }, { ni, ni_len }, { nr, nr_len } };
	size_t off = 0, n, first = 1;
	int rc = VPNR_OK;

	if (k->prf_len == 0 || outlen == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	while (off < outlen) {
		/* K1 has no previous block in front. */
		if ((rc = vpnr__v1_prf(k->hash, k->skeyid_d, k->prf_len,
			 iov + first, 6 - first, kn)) != VPNR_OK)
			break;
		first = 0;
		n = outlen - off < k->prf_len ? outlen - off : k->prf_len;
		memcpy(out + off, kn, n);
		off += n;
	}
	OPENSSL_cleanse(kn, sizeof(kn));
	if (rc != VPNR_OK)
		OPENSSL_cleanse(out, outlen);
	return rc;
}

int
vpnr__v1_natd(uint16_t hash, const uint8_t *cky_i, const uint8_t *cky_r,
    const vpnr_addr *addr, uint8_t *out)
{
	uint8_t port[2];
	struct vpnr__iov iov[4] = { { cky_i, VPNR__V1_COOKIE },
		{ cky_r, VPNR__V1_COOKIE }, { addr->bytes, 0 }, { port, 2 } };

	if (addr->family == VPNR_AF_INET)
		iov[2].len = 4;
	else if (addr->family == VPNR_AF_INET6)
		iov[2].len = 16;
	else
		return VPNR_ERR_INVALID_ARGUMENT;
	vpnr__put_be16(port, addr->port);
	return vpnr__v1_hash(hash, iov, 4, out);
}
