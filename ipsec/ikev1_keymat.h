/*
 * IKEv1 key derivation with pre-shared keys (RFC 2409 5, 5.4, 5.5,
 * Appendix B): SKEYID and SKEYID_d/a/e, the ISAKMP SA encryption key,
 * the Phase 1 and Phase 2 IVs, HASH_I/HASH_R, the Quick Mode and
 * Informational hashes, Quick Mode KEYMAT, and NAT-D (RFC 3947 3.2).
 * The prf is HMAC with the negotiated hash (no PRF attribute).
 */
#ifndef VPNR_IPSEC_IKEV1_KEYMAT_H
#define VPNR_IPSEC_IKEV1_KEYMAT_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "crypto_v1.h"

#define VPNR__V1_MAX_ENC_KEY 32

/* The keys of one ISAKMP SA.  Wipe with vpnr__v1_keys_wipe. */
struct vpnr__v1_keys {
	uint16_t hash;     /* VPNR__V1_HASH_* */
	uint16_t enc;      /* VPNR__V1_ENC_* */
	uint16_t enc_bits; /* AES key length, 0 for 3DES */
	size_t prf_len;    /* = hash length */
	size_t enc_len;    /* cipher key bytes */
	size_t block_len;
	uint8_t skeyid[VPNR__V1_MAX_HASH_LEN];
	uint8_t skeyid_d[VPNR__V1_MAX_HASH_LEN];
	uint8_t skeyid_a[VPNR__V1_MAX_HASH_LEN];
	uint8_t skeyid_e[VPNR__V1_MAX_HASH_LEN];
	uint8_t enc_key[VPNR__V1_MAX_ENC_KEY];
};

void vpnr__v1_keys_wipe(struct vpnr__v1_keys *k);

/* SKEYID = prf(pre-shared-key, Ni_b | Nr_b) (RFC 2409 5). */
int vpnr__v1_skeyid_psk(uint16_t hash, const uint8_t *psk, size_t psk_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out);
/* SKEYID = prf(Ni_b | Nr_b, g^xy): signature authentication. */
int vpnr__v1_skeyid_sig(uint16_t hash, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, const uint8_t *gxy, size_t gxy_len,
    uint8_t *out);

/*
 * With k->hash, k->enc and k->enc_bits set and skeyid of prf_len
 * bytes:
 *   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
 *   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
 *   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
 * and the cipher key from SKEYID_e (Appendix B).  VPNR_ERR_UNSUPPORTED
 * for an unknown hash or cipher.
 */
int vpnr__v1_derive(struct vpnr__v1_keys *k, const uint8_t *skeyid,
    const uint8_t *gxy, size_t gxy_len, const uint8_t *cky_i,
    const uint8_t *cky_r);
/*
 * Appendix B: SKEYID_e itself when long enough, else K1 | K2 | ...
 * with K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1), truncated.
 */
int vpnr__v1_expand_key(uint16_t hash, const uint8_t *skeyid_e, size_t len,
    uint8_t *out, size_t outlen);

/* Phase 1 IV = hash(g^xi | g^xr) truncated to the block length. */
int vpnr__v1_p1_iv(const struct vpnr__v1_keys *k, const uint8_t *gxi,
    size_t gxi_len, const uint8_t *gxr, size_t gxr_len, uint8_t *iv);
/*
 * Quick Mode / Informational IV = hash(last Phase 1 CBC block | M-ID)
 * truncated (RFC 2409 Appendix B).
 */
int vpnr__v1_p2_iv(const struct vpnr__v1_keys *k, const uint8_t *last_block,
    uint32_t msg_id, uint8_t *iv);

/*
 * Main and Aggressive Mode (RFC 2409 5):
 *   HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
 *   HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
 * gxi/cky_i are always the initiator's; responder selects HASH_R.
 * id_b is the ID payload body (struct vpnr__v1_id body).
 */
int vpnr__v1_hash_auth(const struct vpnr__v1_keys *k, int responder,
    const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr, size_t gxr_len,
    const uint8_t *cky_i, const uint8_t *cky_r, const uint8_t *sai_b,
    size_t sai_len, const uint8_t *id_b, size_t id_len, uint8_t *out);

/*
 * Quick Mode (RFC 2409 5.5) and Informational (5.7) hashes; rest is
 * the payloads after the HASH payload (struct vpnr__v1_msg
 * after_hash):
 *   HASH(1) = prf(SKEYID_a, M-ID | rest)             (also INFO)
 *   HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest)
 *   HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
 */
int vpnr__v1_hash1(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *rest, size_t rest_len, uint8_t *out);
int vpnr__v1_hash2(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *ni, size_t ni_len, const uint8_t *rest, size_t rest_len,
    uint8_t *out);
int vpnr__v1_hash3(const struct vpnr__v1_keys *k, uint32_t msg_id,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out);
/* Constant-time: VPNR_OK or VPNR_ERR_AUTH_FAILED. */
int vpnr__v1_hash_verify(const uint8_t *want, size_t want_len,
    const uint8_t *got, size_t got_len);

/*
 * KEYMAT = K1 | K2 | ... with
 *   K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 *   Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
 * (RFC 2409 5.5), outlen bytes; gxy NULL without PFS.  spi is the SPI
 * of the SA the keys are for (the receiver's), 4 bytes for ESP.
 */
int vpnr__v1_keymat(const struct vpnr__v1_keys *k, const uint8_t *gxy,
    size_t gxy_len, uint8_t protocol, const uint8_t *spi, size_t spi_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out, size_t outlen);

/*
 * NAT-D = HASH(CKY-I | CKY-R | IP | Port) (RFC 3947 3.2), with the
 * negotiated hash; addr has family, bytes and port.
 */
int vpnr__v1_natd(uint16_t hash, const uint8_t *cky_i, const uint8_t *cky_r,
    const vpnr_addr *addr, uint8_t *out);

#endif /* VPNR_IPSEC_IKEV1_KEYMAT_H */
