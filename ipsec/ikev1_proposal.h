/*
 * IKEv1 proposals: the same strongSwan-style strings as IKEv2
 * ("aes128-sha1-modp1024", ESP "aes256gcm16-modp2048") parsed into
 * the project's struct vpnr__prop (IKEv2 transform ids, so one
 * configuration serves both versions), turned into Phase 1 (RFC 2409
 * Appendix A) and Quick Mode (RFC 2407 4.5) SA payloads, and matched
 * for responder selection and initiator acceptance.
 */
#ifndef VPNR_IPSEC_IKEV1_PROPOSAL_H
#define VPNR_IPSEC_IKEV1_PROPOSAL_H

#include <stddef.h>
#include <stdint.h>

#include "ike_proposal.h"
#include "ikev1_msg.h"

/* Phase 1 attribute classes (RFC 2409 Appendix A) */
#define VPNR__V1_A_ENC           1
#define VPNR__V1_A_HASH          2
#define VPNR__V1_A_AUTH          3
#define VPNR__V1_A_GROUP         4
#define VPNR__V1_A_GROUP_TYPE    5
#define VPNR__V1_A_LIFE_TYPE     11
#define VPNR__V1_A_LIFE_DURATION 12
#define VPNR__V1_A_PRF           13
#define VPNR__V1_A_KEY_LENGTH    14

#define VPNR__V1_AUTH_PSK     1
#define VPNR__V1_LIFE_SECONDS 1
#define VPNR__V1_LIFE_KB      2

/* IPsec DOI SA attributes (RFC 2407 4.5, RFC 4304) */
#define VPNR__V1_QA_LIFE_TYPE     1
#define VPNR__V1_QA_LIFE_DURATION 2
#define VPNR__V1_QA_GROUP         3
#define VPNR__V1_QA_ENCAP         4
#define VPNR__V1_QA_AUTH          5
#define VPNR__V1_QA_KEY_LENGTH    6
#define VPNR__V1_QA_ESN           11

/* Encapsulation modes (RFC 2407 4.5, RFC 3947 5.2, draft values) */
#define VPNR__V1_ENCAP_TUNNEL              1
#define VPNR__V1_ENCAP_TRANSPORT           2
#define VPNR__V1_ENCAP_UDP_TUNNEL          3
#define VPNR__V1_ENCAP_UDP_TRANSPORT       4
#define VPNR__V1_ENCAP_UDP_TUNNEL_DRAFT    61443
#define VPNR__V1_ENCAP_UDP_TRANSPORT_DRAFT 61444

/* ESP authentication algorithms (RFC 2407 4.5, RFC 4868) */
#define VPNR__V1_AA_HMAC_MD5      1
#define VPNR__V1_AA_HMAC_SHA      2
#define VPNR__V1_AA_HMAC_SHA2_256 5
#define VPNR__V1_AA_HMAC_SHA2_384 6
#define VPNR__V1_AA_HMAC_SHA2_512 7

/* ESP transform ids (RFC 2407 4.4.4, RFC 4106) */
#define VPNR__V1_ESP_3DES       3
#define VPNR__V1_ESP_AES        12
#define VPNR__V1_ESP_AES_GCM_16 20

/* IKEv2 registry ids IKEv1 needs beyond vpnroute.h's. */
#define VPNR__V2_ENCR_3DES         3
#define VPNR__V2_INTEG_HMAC_MD5_96 1
#define VPNR__V2_PRF_HMAC_MD5      1

struct vpnr__v1_life {
	uint32_t seconds; /* 0: not given */
	uint64_t kbytes;  /* 0: not given */
};

/* A chosen Phase 1 transform, in IKEv1 attribute values. */
struct vpnr__v1_p1_suite {
	uint16_t enc;      /* VPNR__V1_ENC_* */
	uint16_t enc_bits; /* 0 for 3DES */
	uint16_t hash;     /* VPNR__V1_HASH_* */
	uint16_t auth;     /* VPNR__V1_AUTH_PSK */
	uint16_t group;
	struct vpnr__v1_life life;
	uint8_t t_idx; /* the transform in the peer's SA (sa.t index) */
};

/* A chosen Quick Mode transform. */
struct vpnr__v1_p2_suite {
	struct vpnr__suite suite; /* IKEv2 ids; protocol ESP, dh = PFS */
	uint16_t encap;           /* normalised: TUNNEL .. UDP_TRANSPORT */
	struct vpnr__v1_life life;
	uint8_t p_idx, t_idx;
	uint8_t spi[4]; /* the peer's SPI from the chosen proposal */
};

/*
 * Parse a proposal string for IKEv1: protocol VPNR__PROTO_IKE (Phase
 * 1: cipher, hash, DH group; no AEAD) or VPNR__PROTO_ESP (Quick Mode;
 * DH groups are the PFS groups).  Beyond the IKEv2 tokens it knows
 * 3des, md5 and modp1536.  On error VPNR_ERR_INVALID_ARGUMENT and a
 * message naming the token in err.
 */
int vpnr__v1_prop_parse(struct vpnr__prop *p, uint8_t protocol, const char *str,
    char *err, size_t errlen);

/*
 * Phase 1 SA payload offering every combination of our proposals (one
 * ISAKMP proposal, transforms numbered from 1), PSK authentication,
 * and the lifetime.  VPNR_ERR_LIMIT when more than
 * VPNR__V1_MAX_TRANSFORMS combinations.
 */
int vpnr__v1_p1_to_sa(struct vpnr__v1_sa *sa, const struct vpnr__prop *p,
    size_t n, const struct vpnr__v1_life *life);
/* A chosen Phase 1 transform in IKEv2 ids (for info and logs). */
void
vpnr__v1_p1_suite_v2(const struct vpnr__v1_p1_suite *s, struct vpnr__suite *o);
/* Responder: the first peer transform one of ours accepts. */
int vpnr__v1_p1_select(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, struct vpnr__v1_p1_suite *out);
/* Initiator: the reply must hold one proposal with one transform. */
int vpnr__v1_p1_accept(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, struct vpnr__v1_p1_suite *out);

/*
 * Quick Mode SA: one ESP proposal with our SPI and every combination
 * as a transform; encap is VPNR__V1_ENCAP_TUNNEL or _UDP_TUNNEL (NAT).
 */
int
vpnr__v1_p2_to_sa(struct vpnr__v1_sa *sa, const struct vpnr__prop *p, size_t n,
    const uint8_t spi[4], uint16_t encap, const struct vpnr__v1_life *life);
/*
 * Responder: first acceptable ESP transform with the encapsulation we
 * expect (the draft values count as their RFC ones).  Proposals that
 * bundle ESP with AH or IPComp are skipped.
 */
int vpnr__v1_p2_select(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, uint16_t encap,
    struct vpnr__v1_p2_suite *out);
int vpnr__v1_p2_accept(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, uint16_t encap,
    struct vpnr__v1_p2_suite *out);

/*
 * The reply SA: the peer's proposal p_idx with only transform t_idx,
 * and spi (may be NULL: keep the proposal's).  Attribute values point
 * into the peer's message, which must outlive out's use.
 */
int vpnr__v1_sa_echo(struct vpnr__v1_sa *out, const struct vpnr__v1_sa *in,
    uint8_t p_idx, uint8_t t_idx, const uint8_t *spi, uint8_t spi_len);

/* KEYMAT bytes one direction of the ESP SA needs (cipher | integ). */
size_t vpnr__v1_esp_keymat_len(const struct vpnr__suite *s);

#endif /* VPNR_IPSEC_IKEV1_PROPOSAL_H */
