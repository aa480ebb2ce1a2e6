/*
 * The few primitives IKEv1 (RFC 2409) needs beyond lib/crypto.h: the
 * negotiated hash used bare (Phase 1/2 IVs, NAT-D) and as HMAC (the
 * PRF), MD5 among them; 3DES-CBC beside AES-CBC for the ISAKMP SA; and
 * DH group 5 (MODP-1536), which IKEv2 configurations never needed.
 * Identifiers are the IKEv1 attribute values (RFC 2409 Appendix A).
 * Other DH groups are passed through to lib/crypto.
 */
#ifndef VPNR_LIB_CRYPTO_V1_H
#define VPNR_LIB_CRYPTO_V1_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/* Hash Algorithm attribute values (class 2). */
#define VPNR__V1_HASH_MD5      1
#define VPNR__V1_HASH_SHA1     2
#define VPNR__V1_HASH_SHA2_256 4
#define VPNR__V1_HASH_SHA2_384 5
#define VPNR__V1_HASH_SHA2_512 6

/* Encryption Algorithm attribute values (class 1). */
#define VPNR__V1_ENC_3DES_CBC 5
#define VPNR__V1_ENC_AES_CBC  7

#define VPNR__V1_DH_MODP1536 5

#define VPNR__V1_MAX_HASH_LEN  64
#define VPNR__V1_MAX_BLOCK_LEN 16
#define VPNR__V1_MAX_KE_LEN    VPNR__MAX_KE_LEN

/* Digest length of the hash, 0 if unsupported. */
size_t vpnr__v1_hash_len(uint16_t hash);
/* hash(data[0] | data[1] | ...) into out (hash_len bytes). */
int vpnr__v1_hash(uint16_t hash, const struct vpnr__iov *data, size_t n,
    uint8_t *out);
/* HMAC with the hash: the IKEv1 prf (RFC 2409 4). */
int vpnr__v1_prf(uint16_t hash, const uint8_t *key, size_t klen,
    const struct vpnr__iov *data, size_t n, uint8_t *out);

/* Block length of the cipher (8 3DES, 16 AES), 0 if unsupported. */
size_t vpnr__v1_cipher_block_len(uint16_t enc);
/*
 * Key bytes for (enc, bits): 3DES 24 (bits must be 0 or 192), AES
 * 16/24/32 (bits 128/192/256).  0 if unsupported.
 */
size_t vpnr__v1_cipher_key_len(uint16_t enc, uint16_t bits);
/* CBC in place without padding; len a multiple of the block length. */
int vpnr__v1_cbc(uint16_t enc, int encrypt, const uint8_t *key, size_t klen,
    const uint8_t *iv, uint8_t *buf, size_t len);

/* ---- Diffie-Hellman: groups 2, 5, 14-16, 19-21 ---------------------- */

struct vpnr__v1_dh;

int vpnr__v1_dh_supported(uint16_t group);
size_t vpnr__v1_dh_public_len(uint16_t group);
/* VPNR_OK, VPNR_ERR_UNSUPPORTED, VPNR_ERR_NOMEM or VPNR_ERR_CRYPTO. */
int vpnr__v1_dh_new(uint16_t group, struct vpnr__v1_dh **pdh);
/* Known-answer tests only; group 5 is not supported here. */
int vpnr__v1_dh_new_with_private(uint16_t group, const uint8_t *priv,
    size_t len, struct vpnr__v1_dh **pdh);
uint16_t vpnr__v1_dh_group(const struct vpnr__v1_dh *dh);
int vpnr__v1_dh_public(const struct vpnr__v1_dh *dh, uint8_t *out, size_t len);
/*
 * g^xy from the peer's KE data, validated (1 < y < p-1, points on the
 * curve); VPNR_ERR_MALFORMED for a bad value.  MODP secrets are padded
 * to the prime length (RFC 2409 keeps leading zeros).
 */
int vpnr__v1_dh_derive(struct vpnr__v1_dh *dh, const uint8_t *peer, size_t len,
    uint8_t *secret, size_t cap, size_t *slen);
void vpnr__v1_dh_free(struct vpnr__v1_dh *dh);

#endif /* VPNR_LIB_CRYPTO_V1_H */
