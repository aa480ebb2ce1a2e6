/*
 * OpenSSL EVP wrappers for IKE: Diffie-Hellman (MODP, ECP, X25519),
 * PRF and prf+ (RFC 7296 2.13), and the SK payload ciphers (AES-CBC +
 * HMAC, AES-GCM-16).  Identifiers are the IANA IKEv2 transform ids.
 * Every secret buffer is wiped by these functions when freed.
 */
#ifndef VPNR_LIB_CRYPTO_H
#define VPNR_LIB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

/* Transform type 2 (PRF). */
#define VPNR__PRF_HMAC_SHA1     2
#define VPNR__PRF_HMAC_SHA2_256 5
#define VPNR__PRF_HMAC_SHA2_384 6
#define VPNR__PRF_HMAC_SHA2_512 7

/* Transform type 4 (DH group). */
#define VPNR__DH_MODP1024     2
#define VPNR__DH_MODP2048     14
#define VPNR__DH_MODP3072     15
#define VPNR__DH_MODP4096     16
#define VPNR__DH_ECP256       19
#define VPNR__DH_ECP384       20
#define VPNR__DH_ECP521       21
#define VPNR__DH_MODP2048S256 24
#define VPNR__DH_X25519       31

#define VPNR__MAX_PRF_LEN 64  /* SHA-512 */
#define VPNR__MAX_KE_LEN  512 /* MODP-4096 */
#define VPNR__MAX_ICV_LEN 32
#define VPNR__MAX_KEY_LEN 64

/* ---- Diffie-Hellman ------------------------------------------------ */

struct vpnr__dh;

/* Non-zero if the group is supported. */
int vpnr__dh_supported(uint16_t group);
/* Length of the KE payload data for the group (RFC 7296 3.4, RFC 5903
 * x || y for ECP, RFC 8031 32 bytes for X25519), 0 if unsupported. */
size_t vpnr__dh_public_len(uint16_t group);
/* Generate a key pair.  VPNR_OK, VPNR_ERR_UNSUPPORTED, VPNR_ERR_CRYPTO. */
int vpnr__dh_new(uint16_t group, struct vpnr__dh **pdh);
uint16_t vpnr__dh_group(const struct vpnr__dh *dh);
/* Our public value in KE encoding; out must hold public_len bytes. */
int vpnr__dh_public(const struct vpnr__dh *dh, uint8_t *out, size_t len);
/*
 * Shared secret g^ir from the peer's KE data.  The peer value is
 * validated (length, range 1 < y < p-1 for MODP, point on curve for
 * ECP: RFC 6989); a bad one returns VPNR_ERR_MALFORMED.  *slen gets
 * the secret length (prime length for MODP, x only for ECP).
 */
int vpnr__dh_derive(struct vpnr__dh *dh, const uint8_t *peer, size_t len,
    uint8_t *secret, size_t cap, size_t *slen);
void vpnr__dh_free(struct vpnr__dh *dh);
/*
 * For tests only (known-answer vectors): a key pair from a fixed
 * private value, big-endian for MODP and ECP, the RFC 7748 byte string
 * for X25519.  Same returns as vpnr__dh_new.
 */
int vpnr__dh_new_with_private(uint16_t group, const uint8_t *priv, size_t len,
    struct vpnr__dh **pdh);

/* ---- PRF and prf+ -------------------------------------------------- */

/* Output length of the PRF (20, 32, 48, 64), 0 if unsupported. */
size_t vpnr__prf_len(uint16_t prf);
/* prf(key, data[0] | data[1] | ...).  out holds prf_len bytes. */
struct vpnr__iov {
	const uint8_t *p;
	size_t len;
};
int vpnr__prf(uint16_t prf, const uint8_t *key, size_t klen,
    const struct vpnr__iov *data, size_t n, uint8_t *out);
/* prf+(key, seed) = T1 | T2 | ...  (RFC 7296 2.13), outlen bytes. */
int vpnr__prf_plus(uint16_t prf, const uint8_t *key, size_t klen,
    const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen);

/* ---- Integrity (transform type 3) ---------------------------------- */

/* Key length / ICV length, 0 if unsupported (VPNR_INTEG_* ids). */
size_t vpnr__integ_key_len(uint16_t integ);
size_t vpnr__integ_icv_len(uint16_t integ);
/* Truncated HMAC of data into icv (icv_len bytes). */
int vpnr__integ_compute(uint16_t integ, const uint8_t *key, size_t klen,
    const uint8_t *data, size_t len, uint8_t *icv);
/* Constant-time check: 0 if equal, VPNR_ERR_INTEGRITY otherwise. */
int vpnr__integ_verify(uint16_t integ, const uint8_t *key, size_t klen,
    const uint8_t *data, size_t len, const uint8_t *icv);

/* ---- Encryption (transform type 1) --------------------------------- */

/* Non-zero if (encr, bits) is supported: AES-CBC and AES-GCM-16 with
 * 128 or 256 bits (192 also accepted). */
int vpnr__encr_supported(uint16_t encr, uint16_t bits);
int vpnr__encr_is_aead(uint16_t encr);
/* Keying material length: key bytes, plus 4 salt bytes for GCM. */
size_t vpnr__encr_keymat_len(uint16_t encr, uint16_t bits);
size_t vpnr__encr_iv_len(uint16_t encr);    /* 16 CBC, 8 GCM */
size_t vpnr__encr_block_len(uint16_t encr); /* 16 CBC, 1 GCM (pad 4) */
size_t vpnr__encr_icv_len(uint16_t encr);   /* 16 for GCM-16, else 0 */

/*
 * CBC: in place, len a multiple of 16.  iv is iv_len bytes.
 */
int vpnr__cbc_encrypt(const uint8_t *key, size_t klen, const uint8_t *iv,
    uint8_t *buf, size_t len);
int vpnr__cbc_decrypt(const uint8_t *key, size_t klen, const uint8_t *iv,
    uint8_t *buf, size_t len);
/*
 * AES-GCM with a 16-byte tag (RFC 4106 / RFC 5282): keymat is key |
 * 4-byte salt, nonce = salt | 8-byte iv.  In place.  open returns
 * VPNR_ERR_INTEGRITY on a bad tag.
 */
int vpnr__gcm_seal(const uint8_t *keymat, size_t kmlen, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len, uint8_t *tag);
int vpnr__gcm_open(const uint8_t *keymat, size_t kmlen, const uint8_t *iv,
    const uint8_t *aad, size_t aadlen, uint8_t *buf, size_t len,
    const uint8_t *tag);

/* ---- Hashes used by NAT detection and cookies ---------------------- */

/* SHA-1 of data[0] | data[1] | ... into out[20]. */
int vpnr__sha1(const struct vpnr__iov *data, size_t n, uint8_t out[20]);

#endif /* VPNR_LIB_CRYPTO_H */
