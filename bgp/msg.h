/*
 * BGP-4 message codec (RFC 4271, 4760, 6793, 5492, 2918, 7313, 4724,
 * 9072, 4486, 8203): framing, OPEN with capabilities, KEEPALIVE,
 * NOTIFICATION, ROUTE-REFRESH, UPDATE splitting, NLRI prefixes and
 * End-of-RIB.  Path attributes are in bgp/attr.h.
 *
 * Sans-I/O: the engine owns its receive buffer and asks the framer how
 * many bytes the next message needs; every parser reads through
 * lib/buf.h and every encoder appends to a struct vpnr__wbuf.
 *
 * Errors: parsers return 0 on success or VPNR_ERR_MALFORMED, and fill a
 * struct vpnr__bgp_err with the NOTIFICATION code/subcode/data the
 * engine must send before closing the session (RFC 4271 section 6).
 */
#ifndef VPNR_BGP_MSG_H
#define VPNR_BGP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"

/* ------------------------------------------------------------------ */
/* Constants                                                           */

#define VPNR__BGP_HDR_LEN      19   /* marker 16 + length 2 + type 1 */
#define VPNR__BGP_MAX_LEN      4096 /* RFC 4271 */
#define VPNR__BGP_VERSION      4
#define VPNR__BGP_AS_TRANS     23456 /* RFC 6793 */
#define VPNR__BGP_PORT         179
#define VPNR__BGP_OPEN_MIN     29 /* header + 10 */
#define VPNR__BGP_UPDATE_MIN   23 /* header + 2 + 2 */
#define VPNR__BGP_NOTIF_MIN    21 /* header + 2 */
#define VPNR__BGP_RREFRESH_LEN 23 /* header + 4 */

/* Message types */
#define VPNR__BGP_OPEN          1
#define VPNR__BGP_UPDATE        2
#define VPNR__BGP_NOTIFICATION  3
#define VPNR__BGP_KEEPALIVE     4
#define VPNR__BGP_ROUTE_REFRESH 5

/* NOTIFICATION error codes (RFC 4271 4.5, 6608, 7313) */
#define VPNR__BGP_ERR_HEADER   1
#define VPNR__BGP_ERR_OPEN     2
#define VPNR__BGP_ERR_UPDATE   3
#define VPNR__BGP_ERR_HOLD     4
#define VPNR__BGP_ERR_FSM      5
#define VPNR__BGP_ERR_CEASE    6
#define VPNR__BGP_ERR_RREFRESH 7

/* Message Header Error subcodes */
#define VPNR__BGP_HDR_NOT_SYNC 1 /* connection not synchronized */
#define VPNR__BGP_HDR_BAD_LEN  2 /* data: the 2-octet length */
#define VPNR__BGP_HDR_BAD_TYPE 3 /* data: the 1-octet type */

/* OPEN Message Error subcodes */
#define VPNR__BGP_OPEN_UNSPEC        0
#define VPNR__BGP_OPEN_BAD_VERSION   1 /* data: 2-octet version 4 */
#define VPNR__BGP_OPEN_BAD_PEER_AS   2
#define VPNR__BGP_OPEN_BAD_BGP_ID    3
#define VPNR__BGP_OPEN_BAD_OPT_PARAM 4
#define VPNR__BGP_OPEN_BAD_HOLD_TIME 6
#define VPNR__BGP_OPEN_BAD_CAPA      7  /* RFC 5492; data: capabilities */
#define VPNR__BGP_OPEN_ROLE_MISMATCH 11 /* RFC 9234 */

/* UPDATE Message Error subcodes */
#define VPNR__BGP_UPD_MALFORMED_ATTR_LIST 1
#define VPNR__BGP_UPD_UNKNOWN_WELLKNOWN   2 /* data: the attribute */
#define VPNR__BGP_UPD_MISSING_WELLKNOWN   3 /* data: the type code */
#define VPNR__BGP_UPD_ATTR_FLAGS          4 /* data: the attribute */
#define VPNR__BGP_UPD_ATTR_LEN            5 /* data: the attribute */
#define VPNR__BGP_UPD_BAD_ORIGIN          6
#define VPNR__BGP_UPD_BAD_NEXTHOP         8
#define VPNR__BGP_UPD_OPT_ATTR            9
#define VPNR__BGP_UPD_BAD_NETWORK         10
#define VPNR__BGP_UPD_MALFORMED_ASPATH    11

/* FSM Error subcodes (RFC 6608) */
#define VPNR__BGP_FSM_UNSPEC         0
#define VPNR__BGP_FSM_IN_OPENSENT    1
#define VPNR__BGP_FSM_IN_OPENCONFIRM 2
#define VPNR__BGP_FSM_IN_ESTABLISHED 3

/* Cease subcodes (RFC 4486, 8538) */
#define VPNR__BGP_CEASE_MAX_PREFIX       1 /* data: AFI 2, SAFI 1, limit 4 */
#define VPNR__BGP_CEASE_ADMIN_SHUTDOWN   2 /* data: RFC 8203 message */
#define VPNR__BGP_CEASE_PEER_DECONF      3
#define VPNR__BGP_CEASE_ADMIN_RESET      4 /* data: RFC 8203 message */
#define VPNR__BGP_CEASE_CONN_REJECTED    5
#define VPNR__BGP_CEASE_CONFIG_CHANGE    6
#define VPNR__BGP_CEASE_COLLISION        7
#define VPNR__BGP_CEASE_OUT_OF_RESOURCES 8
#define VPNR__BGP_CEASE_HARD_RESET       9

/* ROUTE-REFRESH Message Error subcode (RFC 7313) */
#define VPNR__BGP_RREFRESH_BAD_LEN 1

/* Wire AFI/SAFI */
#define VPNR__BGP_AFI_IPV4     1
#define VPNR__BGP_AFI_IPV6     2
#define VPNR__BGP_SAFI_UNICAST 1

/*
 * Internal address-family index ("aid", as in OpenBGPD) for the two
 * AFI/SAFI pairs we support; used in bitmasks (1u << aid).
 */
#define VPNR__BGP_AID_IPV4 0 /* AFI 1 SAFI 1 */
#define VPNR__BGP_AID_IPV6 1 /* AFI 2 SAFI 1 */
#define VPNR__BGP_AID_MAX  2

/* Capability codes (IANA) */
#define VPNR__BGP_CAP_MP             1
#define VPNR__BGP_CAP_RREFRESH       2
#define VPNR__BGP_CAP_EXTNH          5   /* RFC 8950: parsed, ignored */
#define VPNR__BGP_CAP_EXTMSG         6   /* RFC 8654: parsed, ignored */
#define VPNR__BGP_CAP_ROLE           9   /* RFC 9234: parsed, ignored */
#define VPNR__BGP_CAP_GR             64  /* RFC 4724 */
#define VPNR__BGP_CAP_AS4            65  /* RFC 6793 */
#define VPNR__BGP_CAP_ADDPATH        69  /* RFC 7911: parsed, ignored */
#define VPNR__BGP_CAP_ENH_RREFRESH   70  /* RFC 7313 */
#define VPNR__BGP_CAP_LLGR           71  /* parsed, ignored */
#define VPNR__BGP_CAP_FQDN           73  /* parsed, ignored */
#define VPNR__BGP_CAP_RREFRESH_CISCO 128 /* pre-standard RR */

/* struct vpnr__bgp_open.caps bits: which capabilities were present */
#define VPNR__BGP_CAPF_MP           0x0001
#define VPNR__BGP_CAPF_RREFRESH     0x0002 /* code 2 or 128 */
#define VPNR__BGP_CAPF_AS4          0x0004
#define VPNR__BGP_CAPF_GR           0x0008
#define VPNR__BGP_CAPF_ENH_RREFRESH 0x0010
#define VPNR__BGP_CAPF_EXTMSG       0x0020
#define VPNR__BGP_CAPF_ADDPATH      0x0040
#define VPNR__BGP_CAPF_EXTNH        0x0080
#define VPNR__BGP_CAPF_LLGR         0x0100
#define VPNR__BGP_CAPF_FQDN         0x0200
#define VPNR__BGP_CAPF_ROLE         0x0400
#define VPNR__BGP_CAPF_UNKNOWN      0x8000 /* at least one unknown cap */

/* Graceful restart flags (RFC 4724 3, RFC 8538 N bit) */
#define VPNR__BGP_GR_F_RESTART 0x8 /* R: sender restarted */
#define VPNR__BGP_GR_F_NOTIF   0x4 /* N: RFC 8538 */

/* ROUTE-REFRESH subtypes (RFC 7313) */
#define VPNR__BGP_RR_NORMAL 0
#define VPNR__BGP_RR_BORR   1
#define VPNR__BGP_RR_EORR   2

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/*
 * What the engine sends as NOTIFICATION before it resets the session.
 * data is copied (truncated to VPNR__BGP_ERR_DATA_MAX bytes, which is
 * more than every fixed-size diagnostic; only very long malformed
 * attributes are cut).  code == 0 means "no error".
 */
#define VPNR__BGP_ERR_DATA_MAX 64
struct vpnr__bgp_err {
	uint8_t code;
	uint8_t subcode;
	uint16_t data_len;
	uint8_t data[VPNR__BGP_ERR_DATA_MAX];
};

/* Fill err (data may be NULL with len 0; longer data is truncated). */
void vpnr__bgp_err_set(struct vpnr__bgp_err *err, uint8_t code, uint8_t subcode,
    const void *data, size_t len);

/* "Message Header Error" etc. for logs; never NULL. */
const char *vpnr__bgp_err_code_name(uint8_t code);
/* "Bad Message Length" etc.; "Unknown" for unknown pairs; never NULL. */
const char *vpnr__bgp_err_subcode_name(uint8_t code, uint8_t subcode);
/* "OPEN", "UPDATE", ...; "UNKNOWN" otherwise. */
const char *vpnr__bgp_msg_type_name(uint8_t type);

/* ------------------------------------------------------------------ */
/* Prefixes                                                            */

/*
 * The compact prefix the RIBs key on: 18 bytes, no padding, byte
 * aligned, so it packs into RIB nodes.  afi is VPNR_AF_INET (4) or
 * VPNR_AF_INET6 (6) (the same values as vpnr_addr.family); addr is in
 * network byte order, only the first (len + 7) / 8 bytes are
 * significant and every byte/bit past len is zero (the decoder masks
 * trailing host bits), so memcmp of the whole struct is equality.
 */
struct vpnr__bgp_pfx {
	uint8_t afi;
	uint8_t len;
	uint8_t addr[16];
};

/* Total order: by afi, then address bytes, then length.  <0, 0, >0. */
int
vpnr__bgp_pfx_cmp(const struct vpnr__bgp_pfx *a, const struct vpnr__bgp_pfx *b);
/* Conversions; from_public masks host bits and returns
 * VPNR_ERR_INVALID_ARGUMENT for a bad family or length. */
int vpnr__bgp_pfx_from_public(struct vpnr__bgp_pfx *p, const vpnr_prefix *pub);
void vpnr__bgp_pfx_to_public(const struct vpnr__bgp_pfx *p, vpnr_prefix *pub);
/* "192.0.2.0/24" into buf (INET6_ADDRSTRLEN + 4 is enough); returns buf. */
const char *
vpnr__bgp_pfx_str(const struct vpnr__bgp_pfx *p, char *buf, size_t len);

/* aid <-> afi family / wire AFI/SAFI.  Return -1 when unsupported. */
int vpnr__bgp_aid_from_afi_safi(uint16_t afi, uint8_t safi);
int vpnr__bgp_aid_from_family(uint8_t family); /* VPNR_AF_* */
uint8_t vpnr__bgp_aid_family(int aid);         /* VPNR_AF_* */
uint16_t vpnr__bgp_aid_afi(int aid);           /* wire AFI */

/*
 * Read one NLRI prefix (length octet + minimal address bytes) of
 * family afi (VPNR_AF_*) from r.  Returns 1 and fills *p, 0 at the
 * clean end of r, or VPNR_ERR_MALFORMED (length > 32/128 or truncated:
 * RFC 7606 5.3 says session reset with UPDATE/Invalid Network Field).
 */
int
vpnr__bgp_nlri_next(struct vpnr__rbuf *r, uint8_t afi, struct vpnr__bgp_pfx *p);
/*
 * Validate a whole NLRI/withdrawn block; returns the prefix count
 * (>= 0) or VPNR_ERR_MALFORMED.
 */
int vpnr__bgp_nlri_check(const uint8_t *data, size_t len, uint8_t afi);
/* Append p in NLRI form (1 + (len+7)/8 bytes). */
int vpnr__bgp_nlri_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_pfx *p);
static inline size_t
vpnr__bgp_nlri_size(const struct vpnr__bgp_pfx *p)
{
	return 1 + ((size_t)p->len + 7) / 8;
}

/* ------------------------------------------------------------------ */
/* Framing                                                             */

/*
 * Incremental framer.  Look at the first len bytes of the engine's
 * receive buffer:
 *   returns 0 and sets *need to the total number of bytes the next
 *     message needs (19 until the header is complete, then its
 *     length) when fewer than that are buffered;
 *   returns 1, sets *need to the message length and *type to its type
 *     when a complete message is at the head of data (the engine hands
 *     data[0..*need) to the parser below and consumes *need bytes);
 *   returns VPNR_ERR_MALFORMED with err filled (marker not all ones:
 *     1/1; length < 19, > max_len, or wrong minimum for the type: 1/2
 *     with the length as data; unknown type: 1/3 with the type) as
 *     soon as the header is complete.
 * max_len is VPNR__BGP_MAX_LEN (or 65535 with RFC 8654, not used).
 */
int vpnr__bgp_frame(const uint8_t *data, size_t len, size_t max_len,
    size_t *need, uint8_t *type, struct vpnr__bgp_err *err);

/*
 * Begin a message in w: writes the marker, a length placeholder and the
 * type; *start receives the offset of the message.  After the body is
 * appended, vpnr__bgp_msg_end fills the length (VPNR_ERR_LIMIT if the
 * message exceeds VPNR__BGP_MAX_LEN; the caller truncates w to start).
 * Both return 0 or the wbuf error.
 */
int vpnr__bgp_msg_begin(struct vpnr__wbuf *w, uint8_t type, size_t *start);
int vpnr__bgp_msg_end(struct vpnr__wbuf *w, size_t start);

/* ------------------------------------------------------------------ */
/* OPEN                                                                */

struct vpnr__bgp_gr_afi {
	uint16_t afi; /* wire AFI */
	uint8_t safi;
	uint8_t flags; /* 0x80: forwarding state preserved */
};
#define VPNR__BGP_GR_AFI_F_FWD 0x80
#define VPNR__BGP_GR_MAX_AFI   8

struct vpnr__bgp_open {
	uint8_t version; /* 4 */
	uint16_t hold_time;
	uint32_t bgp_id; /* host byte order */
	/*
	 * Parse: my_as2 is the 2-octet "My AS" field; as4 is the AS from
	 * capability 65 (0 if absent).  Use vpnr__bgp_open_peer_as().
	 * Encode: local_as is the only input; my_as2 is derived
	 * (AS_TRANS when > 65535) and capability 65 is sent if
	 * caps & VPNR__BGP_CAPF_AS4.
	 */
	uint16_t my_as2;
	uint32_t as4;
	uint32_t local_as; /* encode only */
	uint32_t caps;     /* VPNR__BGP_CAPF_* present */
	/*
	 * Multiprotocol (cap 1): bitmask (1u << aid) of supported pairs;
	 * pairs we do not know are counted in mp_unknown.
	 */
	uint8_t mp_aids;
	uint8_t mp_unknown;
	/* Graceful restart (cap 64) */
	uint8_t gr_flags;    /* VPNR__BGP_GR_F_* (top 4 bits >> 4) */
	uint16_t gr_time;    /* restart time, seconds (12 bits) */
	uint8_t gr_aids;     /* (1u << aid) listed in the capability */
	uint8_t gr_fwd_aids; /* ... with the forwarding bit set */
	uint8_t n_gr_afi;    /* all listed pairs, up to GR_MAX_AFI */
	struct vpnr__bgp_gr_afi gr_afi[VPNR__BGP_GR_MAX_AFI];
	/* RFC 9072: the peer used the extended optional-parameters form */
	uint8_t ext_opt_params;
};

static inline uint32_t
vpnr__bgp_open_peer_as(const struct vpnr__bgp_open *o)
{
	return (o->caps & VPNR__BGP_CAPF_AS4) ? o->as4 : o->my_as2;
}

/*
 * Parse a whole OPEN message (header included, as framed).  Checks:
 * version 4 (else 2/1, data = 0x0004), hold time 1 or 2 (2/6), BGP
 * identifier 0 (2/3), AS 0 in My AS or capability 65 (2/2, RFC 7607),
 * optional parameter types other than 2 (2/4), malformed parameter or
 * capability lengths (2/0, or 1/2 when the lengths overrun the
 * message).  Unknown capabilities are skipped (CAPF_UNKNOWN).  Peer
 * AS / hold time policy (configured values) is the engine's job.
 * Returns 0 or VPNR_ERR_MALFORMED with err filled.
 */
int vpnr__bgp_open_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_open *o, struct vpnr__bgp_err *err);
/*
 * Append a complete OPEN message.  Capabilities sent: MP for every aid
 * in mp_aids, route refresh (2) if CAPF_RREFRESH, enhanced route
 * refresh if CAPF_ENH_RREFRESH, 4-octet AS if CAPF_AS4, graceful
 * restart if CAPF_GR (gr_flags, gr_time, and every aid in gr_aids with
 * the F bit for those in gr_fwd_aids).  Returns 0 or a wbuf error.
 */
int vpnr__bgp_open_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_open *o);

/* ------------------------------------------------------------------ */
/* KEEPALIVE, NOTIFICATION, ROUTE-REFRESH                              */

/* Message length must be exactly 19 (else 1/2).  0 or MALFORMED. */
int vpnr__bgp_keepalive_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_err *err);
int vpnr__bgp_keepalive_encode(struct vpnr__wbuf *w);

struct vpnr__bgp_notif {
	uint8_t code;
	uint8_t subcode;
	const uint8_t *data; /* borrowed from msg, NULL if data_len 0 */
	size_t data_len;
};
/* 0 or VPNR_ERR_MALFORMED (shorter than 21). */
int vpnr__bgp_notif_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_notif *n);
/* Append a NOTIFICATION carrying err. */
int
vpnr__bgp_notif_encode(struct vpnr__wbuf *w, const struct vpnr__bgp_err *err);
/*
 * RFC 8203/9003 shutdown communication for Cease 2 and 4: if present
 * and well formed, sets *s / *len to the UTF-8 text (not terminated)
 * and returns 1; else 0.
 */
int vpnr__bgp_notif_shutdown_msg(const struct vpnr__bgp_notif *n,
    const uint8_t **s, size_t *len);
/* Build err for Cease/Admin Shutdown (or Reset) with a message
 * (truncated to fit VPNR__BGP_ERR_DATA_MAX - 1 bytes). */
void vpnr__bgp_err_shutdown(struct vpnr__bgp_err *err, uint8_t subcode,
    const char *msg);

struct vpnr__bgp_rrefresh {
	uint16_t afi;
	uint8_t subtype; /* VPNR__BGP_RR_* (RFC 7313) */
	uint8_t safi;
};
/*
 * Length must be 23: else 7/1 (RFC 7313) with the message as data.
 * Unknown AFI/SAFI is not an error (the engine ignores it).
 */
int vpnr__bgp_rrefresh_parse(const uint8_t *msg, size_t len,
    struct vpnr__bgp_rrefresh *rr, struct vpnr__bgp_err *err);
int vpnr__bgp_rrefresh_encode(struct vpnr__wbuf *w,
    const struct vpnr__bgp_rrefresh *rr);

/* ------------------------------------------------------------------ */
/* UPDATE                                                              */

/*
 * The three parts of an UPDATE, borrowed from msg (the caller keeps
 * msg alive while it uses them).
 */
struct vpnr__bgp_update {
	const uint8_t *withdrawn; /* IPv4 withdrawn routes */
	size_t withdrawn_len;
	const uint8_t *attrs; /* path attributes (bgp/attr.h) */
	size_t attrs_len;
	const uint8_t *nlri; /* IPv4 NLRI */
	size_t nlri_len;
};

/*
 * Split an UPDATE (header included).  Withdrawn Routes Length or Total
 * Path Attribute Length overrunning the message: 3/1.  Also validates
 * the withdrawn and NLRI prefixes (3/10, session reset per RFC 7606
 * 5.3).  Returns 0 or VPNR_ERR_MALFORMED with err filled.
 */
int vpnr__bgp_update_split(const uint8_t *msg, size_t len,
    struct vpnr__bgp_update *u, struct vpnr__bgp_err *err);

/*
 * IPv4 unicast End-of-RIB (RFC 4724 2): an UPDATE with no withdrawn
 * routes, no attributes and no NLRI.  Returns 1 if u is one.  For the
 * other families the EoR is an UPDATE whose only attribute is an empty
 * MP_UNREACH_NLRI; see vpnr__bgp_attrs_parse result eor_aid.
 */
int vpnr__bgp_update_is_eor4(const struct vpnr__bgp_update *u);
/* Append an End-of-RIB UPDATE for aid. */
int vpnr__bgp_eor_encode(struct vpnr__wbuf *w, int aid);

#endif /* VPNR_BGP_MSG_H */
