/*
 * Proposals: strongSwan-style strings ("aes256-sha1-modp1024",
 * "aes256gcm16-prfsha384-x25519", ESP "aes128-sha1", "aes256gcm16-
 * modp2048", "...-esn") to internal form, to and from SA payloads, and
 * selection of the first acceptable peer proposal (RFC 7296 2.7).
 */
#ifndef VPNR_IPSEC_IKE_PROPOSAL_H
#define VPNR_IPSEC_IKE_PROPOSAL_H

#include <stddef.h>
#include <stdint.h>

#include "ike_msg.h"

#define VPNR__PROP_MAX_ALGS 8

/*
 * One proposal in our configuration: for each transform type a list of
 * acceptable algorithms, in preference order.  encr carries key bits.
 */
struct vpnr__prop {
	uint8_t protocol; /* VPNR__PROTO_IKE or VPNR__PROTO_ESP */
	uint8_t n_encr, n_prf, n_integ, n_dh, n_esn;
	struct {
		uint16_t id;
		uint16_t bits;
	} encr[VPNR__PROP_MAX_ALGS];
	uint16_t prf[VPNR__PROP_MAX_ALGS];
	uint16_t integ[VPNR__PROP_MAX_ALGS];
	uint16_t dh[VPNR__PROP_MAX_ALGS]; /* ESP: PFS groups, may be empty */
	uint16_t esn[2];                  /* 0 = no ESN, 1 = ESN */
};

/*
 * The negotiated result: one algorithm per type.  dh is 0 for ESP
 * without PFS; esn 0 or 1.
 */
struct vpnr__suite {
	uint8_t protocol;
	uint16_t encr, encr_bits, prf, integ, dh, esn;
};

/*
 * Parse one proposal string.  protocol selects the defaults and the
 * rules (IKE needs a DH group and a PRF, derived from the integrity
 * algorithm when no "prf..." token is given; AEAD needs no integrity).
 * On an unknown token returns VPNR_ERR_INVALID_ARGUMENT and writes
 * "unknown algorithm 'xyz' in proposal '...'" into err.
 */
int vpnr__prop_parse(struct vpnr__prop *p, uint8_t protocol, const char *str,
    char *err, size_t errlen);

/*
 * Our proposals as an SA payload.  spi/spi_len go into every proposal
 * (8-byte IKE SPI only for IKE rekeys, 4-byte ESP SPI for CHILD_SAs).
 * Proposals are numbered 1..n.  See vpnr__prop_to_sa_ex for first_dh
 * (put a DH group first, after INVALID_KE_PAYLOAD) and IKE_AUTH.
 */
int vpnr__prop_to_sa(struct vpnr__ike_sa_pl *sa, const struct vpnr__prop *p,
    size_t n, const uint8_t *spi, uint8_t spi_len);

/*
 * Responder: choose the first peer proposal (peer's order) that one
 * of ours accepts completely.  On success fills out (and *chosen with
 * the index of the peer proposal, whose number and SPI go back in the
 * reply).  VPNR_ERR_NO_PROPOSAL when none matches.  When pfs_dh is
 * given (non-zero) the DH transform must include that group.
 */
int vpnr__prop_select(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, struct vpnr__suite *out,
    size_t *chosen);
/*
 * Initiator: check that the responder's single proposal is one we
 * offered and extract it.  VPNR_ERR_NO_PROPOSAL / VPNR_ERR_MALFORMED.
 */
int vpnr__prop_accept(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, struct vpnr__suite *out);
/* The SA payload that answers with one chosen suite. */
void vpnr__suite_to_sa(struct vpnr__ike_sa_pl *sa, const struct vpnr__suite *s,
    uint8_t num, const uint8_t *spi, uint8_t spi_len);
/*
 * Extended forms (additive).  flags VPNR__PROP_NO_DH: IKE_AUTH child
 * SA negotiation, where no KE is exchanged: ESP proposals are offered
 * without DH transforms, and DH transforms in the peer's ESP proposal
 * are ignored (suite dh = 0), as strongSwan does.  Without the flag an
 * ESP proposal of ours with DH groups (PFS) only matches a peer
 * proposal carrying one of them, and one without DH groups only
 * matches a peer proposal with no DH transform (or DH NONE).
 *
 * first_dh: when non-zero and in a proposal's DH list, it is put first
 * in that proposal (after INVALID_KE_PAYLOAD).
 * prefer_dh: when non-zero and acceptable in the chosen peer proposal,
 * it is chosen over the peer's first acceptable group (pass the
 * group of the peer's KE payload to avoid an INVALID_KE round trip).
 */
#define VPNR__PROP_NO_DH 0x01
int vpnr__prop_to_sa_ex(struct vpnr__ike_sa_pl *sa, const struct vpnr__prop *p,
    size_t n, const uint8_t *spi, uint8_t spi_len, uint16_t first_dh,
    int flags);
int vpnr__prop_select_ex(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, uint16_t prefer_dh, int flags,
    struct vpnr__suite *out, size_t *chosen);
int vpnr__prop_accept_ex(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, int flags, struct vpnr__suite *out);

/* First DH group we would offer (0 if none). */
uint16_t vpnr__prop_first_dh(const struct vpnr__prop *p, size_t n);
/* Non-zero if some proposal of ours accepts DH group g. */
int vpnr__prop_has_dh(const struct vpnr__prop *p, size_t n, uint16_t g);
/* Human form, e.g. "AES_CBC-256/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024". */
const char *vpnr__suite_str(const struct vpnr__suite *s, char *buf, size_t len);

#endif /* VPNR_IPSEC_IKE_PROPOSAL_H */
