/*
 * IKEv2 message codec (RFC 7296 section 3): the header, the payload
 * chain and every payload the engine uses, parsed into the structs
 * below and built through a payload-chain writer.  All parsing goes
 * through lib/buf; parsed structs point into the caller's buffer
 * (zero-copy) and are valid as long as it is.
 */
#ifndef VPNR_IPSEC_IKE_MSG_H
#define VPNR_IPSEC_IKE_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"

#define VPNR__IKE_HDR_LEN 28
#define VPNR__IKE_MAX_MSG 65535

/* Exchange types */
#define VPNR__IKE_SA_INIT         34
#define VPNR__IKE_AUTH            35
#define VPNR__IKE_CREATE_CHILD_SA 36
#define VPNR__IKE_INFORMATIONAL   37

/* Header flags */
#define VPNR__IKE_F_INITIATOR 0x08
#define VPNR__IKE_F_VERSION   0x10
#define VPNR__IKE_F_RESPONSE  0x20

/* Payload types (RFC 7296 3.2) */
#define VPNR__PL_NONE    0
#define VPNR__PL_SA      33
#define VPNR__PL_KE      34
#define VPNR__PL_IDI     35
#define VPNR__PL_IDR     36
#define VPNR__PL_CERT    37
#define VPNR__PL_CERTREQ 38
#define VPNR__PL_AUTH    39
#define VPNR__PL_NONCE   40
#define VPNR__PL_NOTIFY  41
#define VPNR__PL_DELETE  42
#define VPNR__PL_VENDOR  43
#define VPNR__PL_TSI     44
#define VPNR__PL_TSR     45
#define VPNR__PL_SK      46
#define VPNR__PL_CP      47
#define VPNR__PL_EAP     48
#define VPNR__PL_SKF     53

/* Protocol ids */
#define VPNR__PROTO_IKE 1
#define VPNR__PROTO_AH  2
#define VPNR__PROTO_ESP 3

/* Transform types */
#define VPNR__TRANS_ENCR  1
#define VPNR__TRANS_PRF   2
#define VPNR__TRANS_INTEG 3
#define VPNR__TRANS_DH    4
#define VPNR__TRANS_ESN   5

/* Auth methods */
#define VPNR__AUTH_PSK 2

/* Notify types (errors < 16384, status >= 16384) */
#define VPNR__N_UNSUPPORTED_CRITICAL_PAYLOAD  1
#define VPNR__N_INVALID_IKE_SPI               4
#define VPNR__N_INVALID_MAJOR_VERSION         5
#define VPNR__N_INVALID_SYNTAX                7
#define VPNR__N_INVALID_MESSAGE_ID            9
#define VPNR__N_INVALID_SPI                   11
#define VPNR__N_NO_PROPOSAL_CHOSEN            14
#define VPNR__N_INVALID_KE_PAYLOAD            17
#define VPNR__N_AUTHENTICATION_FAILED         24
#define VPNR__N_SINGLE_PAIR_REQUIRED          34
#define VPNR__N_NO_ADDITIONAL_SAS             35
#define VPNR__N_INTERNAL_ADDRESS_FAILURE      36
#define VPNR__N_FAILED_CP_REQUIRED            37
#define VPNR__N_TS_UNACCEPTABLE               38
#define VPNR__N_INVALID_SELECTORS             39
#define VPNR__N_TEMPORARY_FAILURE             43
#define VPNR__N_CHILD_SA_NOT_FOUND            44
#define VPNR__N_INITIAL_CONTACT               16384
#define VPNR__N_SET_WINDOW_SIZE               16385
#define VPNR__N_ADDITIONAL_TS_POSSIBLE        16386
#define VPNR__N_IPCOMP_SUPPORTED              16387
#define VPNR__N_NAT_DETECTION_SOURCE_IP       16388
#define VPNR__N_NAT_DETECTION_DESTINATION_IP  16389
#define VPNR__N_COOKIE                        16390
#define VPNR__N_USE_TRANSPORT_MODE            16391
#define VPNR__N_REKEY_SA                      16393
#define VPNR__N_ESP_TFC_PADDING_NOT_SUPPORTED 16394
#define VPNR__N_NON_FIRST_FRAGMENTS_ALSO      16395
#define VPNR__N_MOBIKE_SUPPORTED              16396
#define VPNR__N_IKEV2_FRAGMENTATION_SUPPORTED 16430
#define VPNR__N_SIGNATURE_HASH_ALGORITHMS     16431

/* TS types */
#define VPNR__TS_IPV4_ADDR_RANGE 7
#define VPNR__TS_IPV6_ADDR_RANGE 8

/* Limits on what one message may carry; more is VPNR_ERR_MALFORMED. */
#define VPNR__IKE_MAX_PROPOSALS  16
#define VPNR__IKE_MAX_TRANSFORMS 32
#define VPNR__IKE_MAX_NOTIFIES   32
#define VPNR__IKE_MAX_DELETES    8
#define VPNR__IKE_MAX_TS         16
#define VPNR__IKE_MAX_SPI        8

struct vpnr__ike_hdr {
	uint64_t spi_i; /* host order */
	uint64_t spi_r;
	uint8_t next_payload;
	uint8_t version; /* 0x20 for IKEv2 */
	uint8_t exchange;
	uint8_t flags;
	uint32_t msg_id;
	uint32_t length;
};

/*
 * key_len VPNR__IKE_ATTR_UNKNOWN: the transform carried an attribute
 * we do not understand (3.3.6: such a transform must not be chosen).
 */
#define VPNR__IKE_ATTR_UNKNOWN 0xffff

struct vpnr__ike_transform {
	uint8_t type;     /* VPNR__TRANS_* */
	uint16_t id;      /* IANA transform id */
	uint16_t key_len; /* Key Length attribute (bits), 0 if absent */
};

struct vpnr__ike_proposal {
	uint8_t num;
	uint8_t protocol; /* VPNR__PROTO_* */
	uint8_t spi_len;  /* 0, 4 or 8 */
	uint8_t spi[VPNR__IKE_MAX_SPI];
	uint8_t n_transforms;
	struct vpnr__ike_transform t[VPNR__IKE_MAX_TRANSFORMS];
};

struct vpnr__ike_sa_pl {
	uint8_t n;
	struct vpnr__ike_proposal p[VPNR__IKE_MAX_PROPOSALS];
};

struct vpnr__ike_notify {
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t data_len;
};

struct vpnr__ike_delete {
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t n_spi;
	const uint8_t *spis; /* n_spi * spi_len bytes */
};

struct vpnr__ike_ts_pl {
	uint8_t n;
	vpnr_ts ts[VPNR__IKE_MAX_TS];
};

/*
 * A parsed message.  has_* flags say which payloads were present.
 * Duplicate singleton payloads are VPNR_ERR_MALFORMED.
 */
struct vpnr__ike_msg {
	struct vpnr__ike_hdr hdr;

	int has_sa, has_ke, has_nonce, has_idi, has_idr, has_auth;
	int has_tsi, has_tsr, has_sk;
	struct vpnr__ike_sa_pl sa;
	uint16_t ke_group;
	const uint8_t *ke_data;
	size_t ke_len;
	const uint8_t *nonce;
	size_t nonce_len;
	/* ID payload bodies from the ID type byte on (what AUTH signs). */
	const uint8_t *idi_body, *idr_body;
	size_t idi_body_len, idr_body_len;
	uint8_t idi_type, idr_type;
	const uint8_t *idi_data, *idr_data; /* identification data */
	size_t idi_data_len, idr_data_len;
	uint8_t auth_method;
	const uint8_t *auth_data;
	size_t auth_len;
	struct vpnr__ike_ts_pl tsi, tsr;
	uint8_t n_notify;
	struct vpnr__ike_notify notify[VPNR__IKE_MAX_NOTIFIES];
	uint8_t n_delete;
	struct vpnr__ike_delete del[VPNR__IKE_MAX_DELETES];
	/*
	 * First unsupported payload with the critical bit, else 0.
	 * Unknown payloads without it are skipped; SKF (53) is treated
	 * as unknown (we do not announce RFC 7383 fragmentation).
	 * CERT, CERTREQ, VENDOR, CP and EAP are accepted and skipped.
	 */
	uint8_t unsupported_critical;

	/*
	 * SK payload (outer parse only): its first inner payload type,
	 * and its body (IV | ciphertext | padding | ICV).  sk_offset is
	 * where the SK generic header starts in the message, so that the
	 * header and SK header form the AEAD associated data.
	 */
	uint8_t sk_next;
	const uint8_t *sk_body;
	size_t sk_body_len;
	size_t sk_offset;
};

/*
 * Parse the 28-byte header.  Checks the version (major 2), the length
 * field against len (must be equal) and the minimum length.  VPNR_OK
 * or VPNR_ERR_MALFORMED.  When len >= 28, hdr is filled in even on
 * failure (e.g. to answer INVALID_MAJOR_VERSION).
 */
int
vpnr__ike_parse_hdr(struct vpnr__ike_hdr *hdr, const uint8_t *data, size_t len);
/*
 * Parse a whole (outer) message: header, then the payload chain.  An
 * SK payload must be last; its body is recorded, not decrypted.
 * Returns VPNR_OK or VPNR_ERR_MALFORMED.
 */
int vpnr__ike_parse(struct vpnr__ike_msg *msg, const uint8_t *data, size_t len);
/*
 * Parse a decrypted inner payload chain starting with type first into
 * msg (adds to what the outer parse found).
 */
int vpnr__ike_parse_chain(struct vpnr__ike_msg *msg, uint8_t first,
    const uint8_t *data, size_t len);
/* First notify of this type, or NULL. */
const struct vpnr__ike_notify *
vpnr__ike_find_notify(const struct vpnr__ike_msg *msg, uint16_t type);

/*
 * Building: vpnr__ike_build_begin writes the header (length patched by
 * _end); each _add_* appends one payload and chains the previous
 * payload's "next payload" field to it.  Errors are sticky in the
 * wbuf; check the result of _end.
 */
struct vpnr__ike_builder {
	struct vpnr__wbuf *w;
	size_t start;         /* offset of the IKE header in w */
	size_t prev_next_off; /* where to patch the next-payload type */
	int have_prev;        /* a payload (or header) precedes */
	uint8_t first;        /* first payload type of the chain */
	int err;
	int hdr; /* started by _build_begin (has an IKE header) */
};

void vpnr__ike_build_begin(struct vpnr__ike_builder *b, struct vpnr__wbuf *w,
    const struct vpnr__ike_hdr *hdr);
/* Start an inner chain (SK plaintext) with no IKE header. */
void
vpnr__ike_build_begin_inner(struct vpnr__ike_builder *b, struct vpnr__wbuf *w);
void
vpnr__ike_add_sa(struct vpnr__ike_builder *b, const struct vpnr__ike_sa_pl *sa);
void vpnr__ike_add_ke(struct vpnr__ike_builder *b, uint16_t group,
    const uint8_t *data, size_t len);
void vpnr__ike_add_nonce(struct vpnr__ike_builder *b, const uint8_t *nonce,
    size_t len);
/* type VPNR__PL_IDI or VPNR__PL_IDR; body is ID type + 3 reserved +
 * data, as AUTH signs it. */
void vpnr__ike_add_id(struct vpnr__ike_builder *b, uint8_t type,
    const uint8_t *body, size_t len);
void vpnr__ike_add_auth(struct vpnr__ike_builder *b, uint8_t method,
    const uint8_t *data, size_t len);
void vpnr__ike_add_notify(struct vpnr__ike_builder *b, uint8_t protocol,
    const uint8_t *spi, uint8_t spi_len, uint16_t type, const uint8_t *data,
    size_t len);
void vpnr__ike_add_delete(struct vpnr__ike_builder *b, uint8_t protocol,
    uint8_t spi_len, const uint8_t *spis, uint16_t n_spi);
/* type VPNR__PL_TSI or VPNR__PL_TSR */
void vpnr__ike_add_ts(struct vpnr__ike_builder *b, uint8_t type,
    const vpnr_ts *ts, size_t n);
/*
 * Appends an SK payload header and returns (in *sk_off) where its
 * body starts (the offset just after the 4-byte SK generic header, so
 * bytes [start, *sk_off) are the AEAD associated data); the caller
 * writes IV | encrypted inner chain | ICV and then calls
 * vpnr__ike_sk_finish(b, *sk_off) to patch the payload length.
 * inner_first is the type of the first inner payload.  No payload may
 * be added after SK (sticky VPNR_ERR_INVALID_STATE).
 */
void vpnr__ike_add_sk_begin(struct vpnr__ike_builder *b, uint8_t inner_first,
    size_t *sk_off);
void vpnr__ike_sk_finish(struct vpnr__ike_builder *b, size_t sk_off);
/* Patch the header length; returns 0 or the sticky error. */
int vpnr__ike_build_end(struct vpnr__ike_builder *b);
/* Type of the first payload of an inner chain (after _begin_inner). */
uint8_t vpnr__ike_build_first(const struct vpnr__ike_builder *b);

/* ID body helper: type + 3 zero bytes + value into out (cap bytes). */
size_t vpnr__ike_id_body(uint8_t type, const uint8_t *value, size_t len,
    uint8_t *out, size_t cap);

#endif /* VPNR_IPSEC_IKE_MSG_H */
