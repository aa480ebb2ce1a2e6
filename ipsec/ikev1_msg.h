/*
 * IKEv1 message codec: the ISAKMP header and payloads (RFC 2408 3),
 * the IPsec DOI (RFC 2407), NAT-D (RFC 3947), DPD notifies (RFC 3706)
 * and the encrypted body (RFC 2408 3.1 flag E; RFC 2409 Appendix B IV
 * chaining).  Parsing goes through lib/buf; parsed structs point into
 * the caller's buffer (zero-copy) and live as long as it does.  A
 * parse failure names its reason (struct vpnr__v1_perr) so that the
 * engine can count each reason and log it once.
 */
#ifndef VPNR_IPSEC_IKEV1_MSG_H
#define VPNR_IPSEC_IKEV1_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"

#define VPNR__V1_HDR_LEN 28
#define VPNR__V1_VERSION 0x10 /* major 1, minor 0 */
#define VPNR__V1_MAX_MSG 65535
#define VPNR__V1_COOKIE  8

/* Exchange types (RFC 2408 3.1, RFC 2409 5.5) */
#define VPNR__V1_EXCH_BASE        1
#define VPNR__V1_EXCH_MAIN        2 /* Identity Protection */
#define VPNR__V1_EXCH_AUTH_ONLY   3
#define VPNR__V1_EXCH_AGGRESSIVE  4
#define VPNR__V1_EXCH_INFO        5
#define VPNR__V1_EXCH_TRANSACTION 6 /* Mode Config */
#define VPNR__V1_EXCH_QUICK       32

/* Header flags */
#define VPNR__V1_F_ENC       0x01
#define VPNR__V1_F_COMMIT    0x02
#define VPNR__V1_F_AUTH_ONLY 0x04

/* Payload types (RFC 2408 3.1, RFC 3947 3.2, RFC 7296 for none) */
#define VPNR__V1_PL_NONE        0
#define VPNR__V1_PL_SA          1
#define VPNR__V1_PL_P           2
#define VPNR__V1_PL_T           3
#define VPNR__V1_PL_KE          4
#define VPNR__V1_PL_ID          5
#define VPNR__V1_PL_CERT        6
#define VPNR__V1_PL_CR          7
#define VPNR__V1_PL_HASH        8
#define VPNR__V1_PL_SIG         9
#define VPNR__V1_PL_NONCE       10
#define VPNR__V1_PL_N           11
#define VPNR__V1_PL_D           12
#define VPNR__V1_PL_VID         13
#define VPNR__V1_PL_ATTR        14
#define VPNR__V1_PL_NATD        20
#define VPNR__V1_PL_NATOA       21
#define VPNR__V1_PL_NATD_DRAFT  130
#define VPNR__V1_PL_NATOA_DRAFT 131
#define VPNR__V1_PL_FRAG        132

/* DOI and situation (RFC 2407 4.2) */
#define VPNR__V1_DOI_ISAKMP        0
#define VPNR__V1_DOI_IPSEC         1
#define VPNR__V1_SIT_IDENTITY_ONLY 1

/* Protocol ids (RFC 2407 4.4.1) */
#define VPNR__V1_PROTO_ISAKMP 1
#define VPNR__V1_PROTO_AH     2
#define VPNR__V1_PROTO_ESP    3
#define VPNR__V1_PROTO_IPCOMP 4

#define VPNR__V1_KEY_IKE 1 /* ISAKMP transform id */

/* ID types (RFC 2407 4.6.2.1) */
#define VPNR__V1_ID_IPV4_ADDR        1
#define VPNR__V1_ID_FQDN             2
#define VPNR__V1_ID_USER_FQDN        3
#define VPNR__V1_ID_IPV4_ADDR_SUBNET 4
#define VPNR__V1_ID_IPV6_ADDR        5
#define VPNR__V1_ID_IPV6_ADDR_SUBNET 6
#define VPNR__V1_ID_IPV4_ADDR_RANGE  7
#define VPNR__V1_ID_IPV6_ADDR_RANGE  8
#define VPNR__V1_ID_DER_ASN1_DN      9
#define VPNR__V1_ID_DER_ASN1_GN      10
#define VPNR__V1_ID_KEY_ID           11

/* Notify types (RFC 2408 3.14.1, RFC 2407 4.6.3, RFC 3706) */
#define VPNR__V1_N_INVALID_PAYLOAD_TYPE   1
#define VPNR__V1_N_DOI_NOT_SUPPORTED      2
#define VPNR__V1_N_SITUATION_NOT_SUPP     3
#define VPNR__V1_N_INVALID_COOKIE         4
#define VPNR__V1_N_INVALID_MAJOR_VERSION  5
#define VPNR__V1_N_INVALID_EXCHANGE_TYPE  7
#define VPNR__V1_N_INVALID_FLAGS          8
#define VPNR__V1_N_INVALID_MESSAGE_ID     9
#define VPNR__V1_N_INVALID_PROTOCOL_ID    10
#define VPNR__V1_N_INVALID_SPI            11
#define VPNR__V1_N_INVALID_TRANSFORM_ID   12
#define VPNR__V1_N_ATTRIBUTES_NOT_SUPP    13
#define VPNR__V1_N_NO_PROPOSAL_CHOSEN     14
#define VPNR__V1_N_BAD_PROPOSAL_SYNTAX    15
#define VPNR__V1_N_PAYLOAD_MALFORMED      16
#define VPNR__V1_N_INVALID_KEY_INFO       17
#define VPNR__V1_N_INVALID_ID_INFORMATION 18
#define VPNR__V1_N_INVALID_HASH_INFO      23
#define VPNR__V1_N_AUTHENTICATION_FAILED  24
#define VPNR__V1_N_CONNECTED              16384
#define VPNR__V1_N_RESPONDER_LIFETIME     24576
#define VPNR__V1_N_REPLAY_STATUS          24577
#define VPNR__V1_N_INITIAL_CONTACT        24578
#define VPNR__V1_N_DPD_R_U_THERE          36136
#define VPNR__V1_N_DPD_R_U_THERE_ACK      36137

/* Limits on one message; more is a parse error (V1E_TOO_MANY). */
#define VPNR__V1_MAX_PROPOSALS  8
#define VPNR__V1_MAX_TRANSFORMS 64 /* over all proposals */
#define VPNR__V1_MAX_ATTRS      16 /* per transform */
#define VPNR__V1_MAX_SPI        16
#define VPNR__V1_MAX_IDS        2
#define VPNR__V1_MAX_NATD       4
#define VPNR__V1_MAX_NOTIFIES   8
#define VPNR__V1_MAX_DELETES    4
#define VPNR__V1_MAX_VIDS       16
#define VPNR__V1_MAX_OTHERS     8
#define VPNR__V1_MIN_NONCE      8 /* RFC 2409 5 */
#define VPNR__V1_MAX_NONCE      256

/* Parse failure reasons: one counter each in the engine. */
enum vpnr__v1_perr_reason {
	V1E_NONE = 0,
	V1E_SHORT,          /* shorter than a header or structure */
	V1E_VERSION,        /* major version not 1 */
	V1E_FLAGS,          /* undefined header flag bits */
	V1E_LENGTH,         /* header length differs from the datagram */
	V1E_PAYLOAD_LENGTH, /* a payload length out of bounds */
	V1E_RESERVED,       /* a reserved field not zero */
	V1E_NESTING,        /* P/T outside an SA, bad chain inside one */
	V1E_DUPLICATE,      /* a singleton payload twice */
	V1E_TOO_MANY,       /* more than the limits above */
	V1E_DOI,            /* DOI not IPsec */
	V1E_SITUATION,      /* situation other than IDENTITY_ONLY */
	V1E_COUNT,          /* #transforms differs from the proposal's */
	V1E_SPI_SIZE,       /* SPI size out of range */
	V1E_ATTR,           /* attribute encoding */
	V1E_ID,             /* ID data length wrong for its type */
	V1E_NONCE,          /* nonce not 8..256 bytes */
	V1E_EMPTY,          /* a payload that needs data has none */
	V1E_TRAILING,       /* bytes after the chain of a clear message */
	V1E_PADDING,        /* encrypted body length or padding */
	V1E_REASONS
};

struct vpnr__v1_perr {
	int reason;      /* enum vpnr__v1_perr_reason */
	uint8_t payload; /* payload type being parsed, or 0 */
	size_t offset;   /* byte offset in the message */
};

/* "payload length out of bounds" etc.; never NULL. */
const char *vpnr__v1_perr_str(int reason);

struct vpnr__v1_hdr {
	uint8_t cky_i[VPNR__V1_COOKIE];
	uint8_t cky_r[VPNR__V1_COOKIE];
	uint8_t next_payload;
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

/*
 * A data attribute (RFC 2408 3.3).  tv: basic (AF=1) with a 16-bit
 * value; otherwise variable (TLV).  val points at the value bytes in
 * network order (2 bytes for TV); when val is NULL the value is in
 * inl (len <= 4: attributes we build ourselves, safe to copy).
 */
struct vpnr__v1_attr {
	uint16_t type; /* without the AF bit */
	uint8_t tv;
	uint16_t len;
	const uint8_t *val;
	uint8_t inl[4];
};

/* The attribute's value as an integer: TV, or a TLV of 1..8 bytes. */
int vpnr__v1_attr_value(const struct vpnr__v1_attr *a, uint64_t *v);

struct vpnr__v1_transform {
	uint8_t num;
	uint8_t id; /* KEY_IKE, or ESP_* */
	uint8_t n_attr;
	struct vpnr__v1_attr attr[VPNR__V1_MAX_ATTRS];
};

/* The value bytes of a. */
const uint8_t *vpnr__v1_attr_bytes(const struct vpnr__v1_attr *a);
/* Append a basic attribute (TV) to t; VPNR_ERR_LIMIT when full. */
int
vpnr__v1_attr_tv(struct vpnr__v1_transform *t, uint16_t type, uint16_t value);
/*
 * Append a number: TV when it fits 16 bits, else a 4-byte TLV (RFC
 * 2409 life durations); values over 32 bits are VPNR_ERR_INVALID_ARGUMENT.
 */
int
vpnr__v1_attr_num(struct vpnr__v1_transform *t, uint16_t type, uint64_t value);

/*
 * A bare attribute list (RESPONDER-LIFETIME notify data, RFC 2407
 * 4.6.3.1) into t / from t.  Parse: VPNR_OK or VPNR_ERR_MALFORMED.
 */
int vpnr__v1_attrs_parse(const uint8_t *data, size_t len,
    struct vpnr__v1_transform *t);
int
vpnr__v1_attrs_put(struct vpnr__wbuf *w, const struct vpnr__v1_transform *t);

struct vpnr__v1_proposal {
	uint8_t num;
	uint8_t protocol;
	uint8_t spi_len;
	uint8_t spi[VPNR__V1_MAX_SPI];
	uint8_t n_t;     /* transforms of this proposal ... */
	uint8_t first_t; /* ... starting at sa->t[first_t] */
};

struct vpnr__v1_sa {
	uint32_t doi;
	uint32_t situation;
	uint8_t n_p;
	uint8_t n_t;
	struct vpnr__v1_proposal p[VPNR__V1_MAX_PROPOSALS];
	struct vpnr__v1_transform t[VPNR__V1_MAX_TRANSFORMS];
};

struct vpnr__v1_id {
	uint8_t type;
	uint8_t proto;
	uint16_t port;
	const uint8_t *data;
	size_t len;
	/* Body from the type byte on: IDii_b / IDir_b in HASH_I/R. */
	const uint8_t *body;
	size_t body_len;
};

struct vpnr__v1_notify {
	uint32_t doi;
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t data_len;
};

struct vpnr__v1_delete {
	uint32_t doi;
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t n_spi;
	const uint8_t *spis; /* n_spi * spi_len bytes */
};

/* Vendor IDs we recognise; the rest are carried as VPNR__V1_VID_OTHER. */
enum {
	VPNR__V1_VID_OTHER = 0,
	VPNR__V1_VID_NATT_RFC3947,
	VPNR__V1_VID_NATT_DRAFT_02,
	VPNR__V1_VID_NATT_DRAFT_02N,
	VPNR__V1_VID_NATT_DRAFT_03,
	VPNR__V1_VID_DPD,
	VPNR__V1_VID_STRONGSWAN,
	VPNR__V1_VID_CISCO_UNITY,
	VPNR__V1_VID_XAUTH,
	VPNR__V1_VID_FRAGMENTATION,
};
/* The bytes of a recognised vendor ID (for sending); NULL for OTHER. */
const uint8_t *vpnr__v1_vid_bytes(int kind, size_t *len);
int vpnr__v1_vid_kind(const uint8_t *data, size_t len);

struct vpnr__v1_blob {
	uint8_t type; /* payload type (others, NAT-D) */
	const uint8_t *data;
	size_t len;
};

/*
 * A parsed message.  When the E flag is set and the body was not
 * decrypted yet, only the header is parsed: encrypted = 1 and body
 * holds the ciphertext.
 */
struct vpnr__v1_msg {
	struct vpnr__v1_hdr hdr;
	int encrypted;
	const uint8_t *body; /* after the header */
	size_t body_len;
	size_t chain_len; /* body bytes used by payloads (no padding) */
	size_t pad_len;   /* body bytes after the chain (decrypted only) */
	uint8_t n_payloads;

	int has_sa, has_ke, has_hash, has_nonce;
	struct vpnr__v1_sa sa;
	const uint8_t *sa_body; /* SAi_b: the SA payload minus its header */
	size_t sa_body_len;
	const uint8_t *ke;
	size_t ke_len;
	const uint8_t *hash;
	size_t hash_len;
	int hash_first; /* HASH was the first payload (QM, INFO) */
	/* The payloads after HASH, as Quick Mode and INFO hashes cover. */
	const uint8_t *after_hash;
	size_t after_hash_len;
	const uint8_t *nonce;
	size_t nonce_len;
	uint8_t n_id;
	struct vpnr__v1_id id[VPNR__V1_MAX_IDS];
	uint8_t n_natd;
	struct vpnr__v1_blob natd[VPNR__V1_MAX_NATD];
	uint8_t n_notify;
	struct vpnr__v1_notify notify[VPNR__V1_MAX_NOTIFIES];
	uint8_t n_delete;
	struct vpnr__v1_delete del[VPNR__V1_MAX_DELETES];
	uint8_t n_vid;
	struct vpnr__v1_blob vid[VPNR__V1_MAX_VIDS];
	uint8_t vid_kind[VPNR__V1_MAX_VIDS];
	/* CERT, CR, SIG, ATTR, NAT-OA, FRAG and unknown types: skipped
	 * after the generic checks, kept for re-encoding. */
	uint8_t n_other;
	uint8_t n_unknown;
	struct vpnr__v1_blob other[VPNR__V1_MAX_OTHERS];
};

/* Parse flags */
#define VPNR__V1_PARSE_DECRYPTED 0x01 /* body is plaintext, may be padded */

/*
 * Non-zero if the datagram looks like ISAKMP (major version 1 at byte
 * 17): for version dispatch beside IKEv2.
 */
int vpnr__v1_is_v1(const uint8_t *data, size_t len);
/* Header only: VPNR_OK or VPNR_ERR_MALFORMED (err may be NULL). */
int vpnr__v1_parse_hdr(struct vpnr__v1_hdr *hdr, const uint8_t *data,
    size_t len, struct vpnr__v1_perr *err);
/* Whole message; VPNR_OK or VPNR_ERR_MALFORMED with *err filled. */
int vpnr__v1_parse(struct vpnr__v1_msg *m, const uint8_t *data, size_t len,
    int flags, struct vpnr__v1_perr *err);
/* First notify of this type, or NULL. */
const struct vpnr__v1_notify *
vpnr__v1_find_notify(const struct vpnr__v1_msg *m, uint16_t type);
/* Whether a VID of this kind was received. */
int vpnr__v1_has_vid(const struct vpnr__v1_msg *m, int kind);
/* The DPD sequence number of an R-U-THERE(-ACK) (RFC 3706 5). */
int vpnr__v1_dpd_seq(const struct vpnr__v1_notify *n, uint32_t *seq);

/*
 * Building: _begin writes the header (next payload and length patched
 * later), each _add_* appends a payload and chains it.  Errors are
 * sticky; _end returns them.
 */
struct vpnr__v1_builder {
	struct vpnr__wbuf *w;
	size_t start;
	size_t prev_np_off;
	int err;
};

void vpnr__v1_build_begin(struct vpnr__v1_builder *b, struct vpnr__wbuf *w,
    const struct vpnr__v1_hdr *hdr);
void vpnr__v1_add_sa(struct vpnr__v1_builder *b, const struct vpnr__v1_sa *sa);
void
vpnr__v1_add_ke(struct vpnr__v1_builder *b, const uint8_t *data, size_t len);
void vpnr__v1_add_id(struct vpnr__v1_builder *b, uint8_t type, uint8_t proto,
    uint16_t port, const uint8_t *data, size_t len);
void
vpnr__v1_add_hash(struct vpnr__v1_builder *b, const uint8_t *data, size_t len);
/*
 * A HASH payload of len zero bytes, filled in later (Quick Mode and
 * INFO hashes cover the payloads after it): *off is where the hash
 * value goes in the wbuf; the bytes after the payload start at
 * *off + len.
 */
void
vpnr__v1_add_hash_slot(struct vpnr__v1_builder *b, size_t len, size_t *off);
void
vpnr__v1_add_nonce(struct vpnr__v1_builder *b, const uint8_t *data, size_t len);
void vpnr__v1_add_notify(struct vpnr__v1_builder *b, uint32_t doi,
    uint8_t protocol, const uint8_t *spi, uint8_t spi_len, uint16_t type,
    const uint8_t *data, size_t len);
void vpnr__v1_add_delete(struct vpnr__v1_builder *b, uint32_t doi,
    uint8_t protocol, uint8_t spi_len, const uint8_t *spis, uint16_t n_spi);
void
vpnr__v1_add_vid(struct vpnr__v1_builder *b, const uint8_t *data, size_t len);
/* type VPNR__V1_PL_NATD or VPNR__V1_PL_NATD_DRAFT */
void vpnr__v1_add_natd(struct vpnr__v1_builder *b, uint8_t type,
    const uint8_t *hash, size_t len);
/* Any other payload, body as given. */
void vpnr__v1_add_raw(struct vpnr__v1_builder *b, uint8_t type,
    const uint8_t *body, size_t len);
/* Patch the header length; 0 or the sticky error. */
int vpnr__v1_build_end(struct vpnr__v1_builder *b);

/* ---- Encrypted bodies (RFC 2408 3.1 E flag, RFC 2409 Appendix B) ---- */

/*
 * Encrypt the message built at [start, wbuf end) in place: set E, pad
 * the body with zero bytes to the block length (RFC 2409 does not
 * define the padding content; the chain's last next-payload 0 ends
 * it), CBC-encrypt the body with iv and patch the length.  next_iv
 * gets the last ciphertext block: the IV of the next message in the
 * exchange.  enc is VPNR__V1_ENC_* (lib/crypto_v1.h).
 */
int vpnr__v1_encrypt(struct vpnr__wbuf *w, size_t start, uint16_t enc,
    const uint8_t *key, size_t klen, const uint8_t *iv, uint8_t *next_iv);
/*
 * Decrypt a received message (E set) into out (header copied, body
 * decrypted); *outlen = len.  next_iv as above, taken from the
 * ciphertext: commit it only once the message authenticated, so a
 * forged or replayed message does not advance the chain.  A body that
 * is empty or not a multiple of the block length is
 * VPNR_ERR_MALFORMED (err->reason V1E_PADDING).
 */
int vpnr__v1_decrypt(const uint8_t *in, size_t len, uint16_t enc,
    const uint8_t *key, size_t klen, const uint8_t *iv, uint8_t *out,
    size_t cap, size_t *outlen, uint8_t *next_iv, struct vpnr__v1_perr *err);

/* ---- Identities and selectors --------------------------------------- */

/*
 * Quick Mode ID (IPV4/6_ADDR, _SUBNET, _RANGE) to a selector and back.
 * VPNR_ERR_UNSUPPORTED for name types, VPNR_ERR_MALFORMED for a
 * non-contiguous mask or a reversed range.
 */
int vpnr__v1_id_to_ts(const struct vpnr__v1_id *id, vpnr_ts *ts);
/*
 * Encodes ts as ADDR (one address), SUBNET (a prefix) or RANGE into
 * data (cap >= 32) with *type, *proto, *port (0: all ports) and *len.
 * A port range other than one port or all is VPNR_ERR_UNSUPPORTED.
 */
int vpnr__v1_ts_to_id(const vpnr_ts *ts, uint8_t *type, uint8_t *proto,
    uint16_t *port, uint8_t *data, size_t cap, size_t *len);

#endif /* VPNR_IPSEC_IKEV1_MSG_H */
