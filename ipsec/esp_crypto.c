/*
 * ESP ciphers through OpenSSL EVP: AES-GCM-16 (RFC 4106) and AES-CBC
 * (RFC 3602) with HMAC-SHA1-96 / SHA2-256-128 / -384-192 / -512-256
 * (RFC 2404, RFC 4868).  Each SA direction keys its EVP contexts once
 * at install; per packet only the IV is set.  Nothing is allocated
 * per packet by this file.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "esp_int.h"

static const EVP_CIPHER *
esp_cipher(uint16_t encr, uint16_t bits)
{
	if (encr == VPNR_ENCR_AES_GCM_16) {
		switch (bits) {
		case 128:
			return EVP_aes_128_gcm();
		case 192:
			return EVP_aes_192_gcm();
		case 256:
			return EVP_aes_256_gcm();
		}
	} else if (encr == VPNR_ENCR_AES_CBC) {
		switch (bits) {
		case 128:
			return EVP_aes_128_cbc();
		case 192:
			return EVP_aes_192_cbc();
		case 256:
			return EVP_aes_256_cbc();
		}
	}
	return NULL;
}

/* Digest name, key length and truncated ICV length of an integ id. */
static const char *
esp_integ(uint16_t integ, size_t *klen, size_t *icvlen)
{
	switch (integ) {
	case VPNR_INTEG_HMAC_SHA1_96:
		*klen = 20;
		*icvlen = 12;
		return "SHA1";
	case VPNR_INTEG_HMAC_SHA2_256_128:
		*klen = 32;
		*icvlen = 16;
		return "SHA2-256";
	case VPNR_INTEG_HMAC_SHA2_384_192:
		*klen = 48;
		*icvlen = 24;
		return "SHA2-384";
	case VPNR_INTEG_HMAC_SHA2_512_256:
		*klen = 64;
		*icvlen = 32;
		return "SHA2-512";
	}
	return NULL;
}

int
vpnr__esp_crypto_init(struct vpnr__esp_crypto *c, const vpnr_child_sa *sa,
    int encrypt)
{
	const EVP_CIPHER *cipher;
	const char *md;
	EVP_MAC *mac = NULL;
	OSSL_PARAM params[2];
	uint8_t ivkey[32];
	size_t klen, mklen, icvlen;
	int rv = VPNR_ERR_CRYPTO;

	memset(c, 0, sizeof(*c));
	c->encr = sa->encr_id;
	c->integ = sa->integ_id;
	if ((cipher = esp_cipher(sa->encr_id, sa->encr_key_bits)) == NULL)
		return VPNR_ERR_UNSUPPORTED;
	klen = sa->encr_key_bits / 8;
	if (sa->encr_key == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (sa->encr_id == VPNR_ENCR_AES_GCM_16) {
		if (sa->integ_id != VPNR_INTEG_NONE)
			return VPNR_ERR_UNSUPPORTED;
		if (sa->encr_key_len != klen + 4)
			return VPNR_ERR_INVALID_ARGUMENT;
		c->aead = 1;
		c->iv_len = 8;
		c->align = 4;
		c->icv_len = 16;
		memcpy(c->salt, sa->encr_key + klen, 4);
	} else {
		if ((md = esp_integ(sa->integ_id, &mklen, &icvlen)) == NULL)
			return VPNR_ERR_UNSUPPORTED;
		if (sa->encr_key_len != klen || sa->integ_key == NULL ||
		    sa->integ_key_len != mklen)
			return VPNR_ERR_INVALID_ARGUMENT;
		c->iv_len = 16;
		c->align = 16;
		c->icv_len = icvlen;
		if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
			goto fail;
		if ((c->mctx = EVP_MAC_CTX_new(mac)) == NULL)
			goto fail;
		params[0] =
		    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
			(char *)md, 0);
		params[1] = OSSL_PARAM_construct_end();
		if (!EVP_MAC_init(c->mctx, sa->integ_key, mklen, params))
			goto fail;
	}
	if ((c->cctx = EVP_CIPHER_CTX_new()) == NULL)
		goto fail;
	if (!EVP_CipherInit_ex(c->cctx, cipher, NULL, sa->encr_key, NULL,
		encrypt ? 1 : 0))
		goto fail;
	if (!c->aead) {
		EVP_CIPHER_CTX_set_padding(c->cctx, 0);
		if (encrypt) {
			/* IV = AES-ECB(random key, seq): unpredictable and
			 * never repeating (RFC 4303 3.3.2 asks for an
			 * unpredictable CBC IV). */
			if (RAND_bytes(ivkey, sizeof(ivkey)) != 1)
				goto fail;
			if ((c->ivctx = EVP_CIPHER_CTX_new()) == NULL)
				goto fail;
			if (!EVP_EncryptInit_ex(c->ivctx, EVP_aes_256_ecb(),
				NULL, ivkey, NULL))
				goto fail;
			EVP_CIPHER_CTX_set_padding(c->ivctx, 0);
		}
	}
	rv = VPNR_OK;
fail:
	explicit_bzero(ivkey, sizeof(ivkey));
	EVP_MAC_free(mac);
	if (rv != VPNR_OK)
		vpnr__esp_crypto_free(c);
	return rv;
}

void
vpnr__esp_crypto_free(struct vpnr__esp_crypto *c)
{
	/* EVP_*_free wipe the key schedules. */
	EVP_CIPHER_CTX_free(c->cctx);
	EVP_CIPHER_CTX_free(c->ivctx);
	EVP_MAC_CTX_free(c->mctx);
	explicit_bzero(c, sizeof(*c));
}

/* GCM AAD: SPI | seq (8 bytes) or SPI | seq high | seq low (ESN). */
static size_t
gcm_aad(uint8_t *aad, const uint8_t *hdr, uint64_t seq, int esn)
{
	memcpy(aad, hdr, 4);
	if (esn) {
		vpnr__put_be32(aad + 4, (uint32_t)(seq >> 32));
		vpnr__put_be32(aad + 8, (uint32_t)seq);
		return 12;
	}
	vpnr__put_be32(aad + 4, (uint32_t)seq);
	return 8;
}

/* HMAC over header | IV | ciphertext (| seq high with ESN). */
static int
esp_hmac(struct vpnr__esp_crypto *c, const uint8_t *data, size_t len,
    uint64_t seq, int esn, uint8_t *icv)
{
	uint8_t full[64], hi[4];
	size_t outl;

	if (!EVP_MAC_init(c->mctx, NULL, 0, NULL))
		return VPNR_ERR_CRYPTO;
	if (!EVP_MAC_update(c->mctx, data, len))
		return VPNR_ERR_CRYPTO;
	if (esn) {
		vpnr__put_be32(hi, (uint32_t)(seq >> 32));
		if (!EVP_MAC_update(c->mctx, hi, 4))
			return VPNR_ERR_CRYPTO;
	}
	if (!EVP_MAC_final(c->mctx, full, &outl, sizeof(full)) ||
	    outl < c->icv_len)
		return VPNR_ERR_CRYPTO;
	memcpy(icv, full, c->icv_len);
	explicit_bzero(full, sizeof(full));
	return VPNR_OK;
}

int
vpnr__esp_crypto_seal(struct vpnr__esp_crypto *c, uint8_t *pkt, uint64_t seq,
    int esn, const uint8_t *pt, size_t ptlen, const uint8_t *trailer,
    size_t tlen)
{
	uint8_t nonce[12], aad[12], blk[16];
	uint8_t *iv, *ct;
	size_t aadlen;
	int outl, n;

	iv = pkt + ESP_HDR_LEN;
	ct = iv + c->iv_len;
	if (c->aead) {
		/* The sequence number is a unique 8-byte IV (RFC 4106 3.1). */
		vpnr__put_be32(iv, (uint32_t)(seq >> 32));
		vpnr__put_be32(iv + 4, (uint32_t)seq);
		memcpy(nonce, c->salt, 4);
		memcpy(nonce + 4, iv, 8);
		aadlen = gcm_aad(aad, pkt, seq, esn);
		if (!EVP_EncryptInit_ex(c->cctx, NULL, NULL, NULL, nonce))
			return VPNR_ERR_CRYPTO;
		if (!EVP_EncryptUpdate(c->cctx, NULL, &outl, aad, (int)aadlen))
			return VPNR_ERR_CRYPTO;
		if (!EVP_EncryptUpdate(c->cctx, ct, &outl, pt, (int)ptlen))
			return VPNR_ERR_CRYPTO;
		n = outl;
		if (!EVP_EncryptUpdate(c->cctx, ct + n, &outl, trailer,
			(int)tlen))
			return VPNR_ERR_CRYPTO;
		n += outl;
		if (!EVP_EncryptFinal_ex(c->cctx, ct + n, &outl))
			return VPNR_ERR_CRYPTO;
		n += outl;
		if ((size_t)n != ptlen + tlen)
			return VPNR_ERR_CRYPTO;
		if (!EVP_CIPHER_CTX_ctrl(c->cctx, EVP_CTRL_GCM_GET_TAG, 16,
			ct + n))
			return VPNR_ERR_CRYPTO;
		return VPNR_OK;
	}
	memset(blk, 0, sizeof(blk));
	vpnr__put_be32(blk, (uint32_t)(seq >> 32));
	vpnr__put_be32(blk + 4, (uint32_t)seq);
	if (!EVP_EncryptUpdate(c->ivctx, iv, &outl, blk, 16) || outl != 16)
		return VPNR_ERR_CRYPTO;
	if (!EVP_EncryptInit_ex(c->cctx, NULL, NULL, NULL, iv))
		return VPNR_ERR_CRYPTO;
	if (!EVP_EncryptUpdate(c->cctx, ct, &outl, pt, (int)ptlen))
		return VPNR_ERR_CRYPTO;
	n = outl;
	if (!EVP_EncryptUpdate(c->cctx, ct + n, &outl, trailer, (int)tlen))
		return VPNR_ERR_CRYPTO;
	n += outl;
	if ((size_t)n != ptlen + tlen)
		return VPNR_ERR_CRYPTO;
	return esp_hmac(c, pkt, ESP_HDR_LEN + c->iv_len + (size_t)n, seq, esn,
	    ct + n);
}

int
vpnr__esp_crypto_open(struct vpnr__esp_crypto *c, const uint8_t *pkt,
    size_t len, uint64_t seq, int esn, uint8_t *out, size_t ctlen)
{
	uint8_t nonce[12], aad[12], icv[ESP_MAX_ICV_LEN];
	const uint8_t *iv, *ct, *tag;
	size_t aadlen;
	int outl, n;

	iv = pkt + ESP_HDR_LEN;
	ct = iv + c->iv_len;
	tag = ct + ctlen;
	if (ESP_HDR_LEN + c->iv_len + ctlen + c->icv_len != len)
		return VPNR_ERR_CRYPTO;
	if (c->aead) {
		memcpy(nonce, c->salt, 4);
		memcpy(nonce + 4, iv, 8);
		aadlen = gcm_aad(aad, pkt, seq, esn);
		if (!EVP_DecryptInit_ex(c->cctx, NULL, NULL, NULL, nonce))
			return VPNR_ERR_CRYPTO;
		if (!EVP_CIPHER_CTX_ctrl(c->cctx, EVP_CTRL_GCM_SET_TAG, 16,
			(void *)tag))
			return VPNR_ERR_CRYPTO;
		if (!EVP_DecryptUpdate(c->cctx, NULL, &outl, aad, (int)aadlen))
			return VPNR_ERR_CRYPTO;
		if (!EVP_DecryptUpdate(c->cctx, out, &outl, ct, (int)ctlen))
			return VPNR_ERR_CRYPTO;
		n = outl;
		/* OpenSSL compares the tag in constant time. */
		if (!EVP_DecryptFinal_ex(c->cctx, out + n, &outl)) {
			explicit_bzero(out, ctlen);
			return VPNR_ERR_INTEGRITY;
		}
		return VPNR_OK;
	}
	if (esp_hmac(c, pkt, ESP_HDR_LEN + c->iv_len + ctlen, seq, esn, icv) !=
	    VPNR_OK)
		return VPNR_ERR_CRYPTO;
	if (CRYPTO_memcmp(icv, tag, c->icv_len) != 0)
		return VPNR_ERR_INTEGRITY;
	if (!EVP_DecryptInit_ex(c->cctx, NULL, NULL, NULL, iv))
		return VPNR_ERR_CRYPTO;
	if (!EVP_DecryptUpdate(c->cctx, out, &outl, ct, (int)ctlen) ||
	    (size_t)outl != ctlen)
		return VPNR_ERR_CRYPTO;
	return VPNR_OK;
}
