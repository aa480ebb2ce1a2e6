/*
 * BGP path attributes (RFC 4271, 4760, 6793, 1997, 8092, 7606):
 * parsing with RFC 7606 revised error handling, a canonical immutable
 * interned attribute set, eBGP export transformations and the UPDATE
 * encoders/packer.
 *
 * Implementation: bgp/attr.c (builder, parser, queries),
 * bgp/attr_intern.c (canonical form, hash table), bgp/update_pack.c
 * (export, encoding, UPDATE packer).
 *
 * Memory model: a route in a RIB holds one pointer to an interned
 * struct vpnr__bgp_attrs.  Identical attribute sets (same content,
 * same next hop) are one allocation with a reference count, so a full
 * table sharing a few sets costs one pointer per route here.
 *
 * Flow for a received UPDATE:
 *   vpnr__bgp_update_split()            (bgp/msg.h)
 *   vpnr__bgp_attrs_parse(&pctx, u.attrs, u.attrs_len, has_nlri,
 *       scratch, &res)
 *   switch (res.action): RESET -> send res.err, close;
 *     WITHDRAW -> withdraw u.withdrawn, u.nlri, res.mp_reach.nlri,
 *       res.mp_unreach.withdrawn;
 *     OK / DISCARD -> a = vpnr__bgp_attrs_intern(tbl, scratch, aid)
 *       for each family that has NLRI, install, unref when replaced.
 */
#ifndef VPNR_BGP_ATTR_H
#define VPNR_BGP_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "msg.h"
#include "buf.h"

/* Attribute type codes */
#define VPNR__BGP_ATTR_ORIGIN            1
#define VPNR__BGP_ATTR_AS_PATH           2
#define VPNR__BGP_ATTR_NEXT_HOP          3
#define VPNR__BGP_ATTR_MED               4
#define VPNR__BGP_ATTR_LOCAL_PREF        5
#define VPNR__BGP_ATTR_ATOMIC_AGGREGATE  6
#define VPNR__BGP_ATTR_AGGREGATOR        7
#define VPNR__BGP_ATTR_COMMUNITIES       8
#define VPNR__BGP_ATTR_ORIGINATOR_ID     9
#define VPNR__BGP_ATTR_CLUSTER_LIST      10
#define VPNR__BGP_ATTR_MP_REACH          14
#define VPNR__BGP_ATTR_MP_UNREACH        15
#define VPNR__BGP_ATTR_EXT_COMMUNITIES   16
#define VPNR__BGP_ATTR_AS4_PATH          17
#define VPNR__BGP_ATTR_AS4_AGGREGATOR    18
#define VPNR__BGP_ATTR_LARGE_COMMUNITIES 32
#define VPNR__BGP_ATTR_OTC               35 /* RFC 9234: kept as unknown */

/* Attribute flags octet */
#define VPNR__BGP_AF_OPTIONAL   0x80
#define VPNR__BGP_AF_TRANSITIVE 0x40
#define VPNR__BGP_AF_PARTIAL    0x20
#define VPNR__BGP_AF_EXTLEN     0x10

/* ORIGIN values */
#define VPNR__BGP_ORIGIN_IGP        0
#define VPNR__BGP_ORIGIN_EGP        1
#define VPNR__BGP_ORIGIN_INCOMPLETE 2

/* AS_PATH segment types */
#define VPNR__BGP_AS_SET             1
#define VPNR__BGP_AS_SEQUENCE        2
#define VPNR__BGP_AS_CONFED_SEQUENCE 3
#define VPNR__BGP_AS_CONFED_SET      4

/* Well-known communities (RFC 1997, 7999, 8326) */
#define VPNR__BGP_COMM_GRACEFUL_SHUTDOWN   0xFFFF0000u
#define VPNR__BGP_COMM_BLACKHOLE           0xFFFF029Au
#define VPNR__BGP_COMM_NO_EXPORT           0xFFFFFF01u
#define VPNR__BGP_COMM_NO_ADVERTISE        0xFFFFFF02u
#define VPNR__BGP_COMM_NO_EXPORT_SUBCONFED 0xFFFFFF03u

/* ------------------------------------------------------------------ */
/* The interned attribute set                                          */

/* vpnr__bgp_attrs.flags */
#define VPNR__BGP_A_MED        0x0001 /* med is valid */
#define VPNR__BGP_A_LOCAL_PREF 0x0002 /* local_pref is valid */
#define VPNR__BGP_A_ATOMIC_AGG 0x0004
#define VPNR__BGP_A_AGGREGATOR 0x0008 /* agg_as/agg_addr valid */
#define VPNR__BGP_A_NEXTHOP    0x0010 /* nh_family/nexthop valid */
#define VPNR__BGP_A_NEXTHOP_LL 0x0020 /* nexthop_ll valid (IPv6) */
#define VPNR__BGP_A_ORIGIN     0x0040 /* ORIGIN was present */
#define VPNR__BGP_A_ASPATH     0x0080 /* AS_PATH was present */

/*
 * Canonical, compact, immutable attribute set.  Only the intern table
 * creates these (one allocation each: the header below plus data[]);
 * the engine treats them as const and compares them by pointer.
 *
 * data[] holds, in this order (all host byte order uint32 words):
 *   aspath_words words of AS path: each segment is a header word
 *     (type << 16 | count) followed by count ASNs (always 4-octet,
 *     after AS4_PATH merging);
 *   n_comm RFC 1997 communities, sorted ascending, no duplicates;
 *   3 * n_lcomm words of RFC 8092 large communities (global admin,
 *     local 1, local 2), sorted, no duplicates;
 *   unknown_len bytes (padded to 4) of unknown optional transitive
 *     attributes in wire form (flags with PARTIAL set, type, length,
 *     value; extended length form when the value > 255), sorted by
 *     type, ready to be copied into an UPDATE.
 * Use the accessors below instead of indexing data[].
 */
struct vpnr__bgp_attrs {
	/* intern table bookkeeping (not part of the content) */
	struct vpnr__bgp_attrs *hnext;
	uint32_t hash;
	uint32_t refcnt;
	/* content, compared by vpnr__bgp_attrs_eq; no padding holes */
	uint32_t flags; /* VPNR__BGP_A_* */
	uint8_t origin;
	uint8_t nh_family; /* VPNR_AF_INET / VPNR_AF_INET6 / 0 */
	uint16_t aspath_words;
	uint16_t aspath_plen; /* path length for the decision process */
	uint16_t n_comm;
	uint16_t n_lcomm;
	uint16_t unknown_len;
	uint32_t med;
	uint32_t local_pref;
	uint32_t agg_as;
	uint32_t agg_addr;   /* IPv4, host byte order */
	uint8_t nexthop[16]; /* network order; IPv4 in the first 4 */
	uint8_t nexthop_ll[16];
	uint32_t data[];
};

static inline const uint32_t *
vpnr__bgp_attrs_aspath(const struct vpnr__bgp_attrs *a)
{
	return a->data;
}
static inline const uint32_t *
vpnr__bgp_attrs_comm(const struct vpnr__bgp_attrs *a)
{
	return a->data + a->aspath_words;
}
static inline const uint32_t *
vpnr__bgp_attrs_lcomm(const struct vpnr__bgp_attrs *a)
{
	return a->data + a->aspath_words + a->n_comm;
}
static inline const uint8_t *
vpnr__bgp_attrs_unknown(const struct vpnr__bgp_attrs *a)
{
	return (const uint8_t *)(a->data + a->aspath_words + a->n_comm +
	    3 * (size_t)a->n_lcomm);
}

/* Content hash / equality (ignore hnext, hash, refcnt). */
uint32_t vpnr__bgp_attrs_hash(const struct vpnr__bgp_attrs *a);
int vpnr__bgp_attrs_eq(const struct vpnr__bgp_attrs *a,
    const struct vpnr__bgp_attrs *b);
/* Bytes used by a (header + data), for memory accounting. */
size_t vpnr__bgp_attrs_size(const struct vpnr__bgp_attrs *a);

/* ------------------------------------------------------------------ */
/* Builder: the mutable scratch form a parser fills and intern reads   */

#define VPNR__BGP_MAX_ASPATH_WORDS 2048 /* 2-octet ASNs in 4096 bytes */
#define VPNR__BGP_MAX_COMM         1024
#define VPNR__BGP_MAX_LCOMM        341
#define VPNR__BGP_MAX_UNKNOWN      4096

/*
 * Large (~30 KB): keep one per engine (heap), not on the stack in deep
 * call chains.  Fields mirror struct vpnr__bgp_attrs; arrays need not
 * be sorted (intern sorts and de-duplicates communities).  The IPv4
 * NEXT_HOP attribute and the MP_REACH next hop are kept apart because
 * one UPDATE may carry both; intern picks one by aid.
 */
struct vpnr__bgp_attrs_build {
	uint32_t flags; /* VPNR__BGP_A_* except NEXTHOP/NEXTHOP_LL */
	uint8_t origin;
	uint32_t med;
	uint32_t local_pref;
	uint32_t agg_as;
	uint32_t agg_addr;
	int has_nh4; /* NEXT_HOP attribute */
	uint8_t nh4[4];
	int has_mp_nh;        /* MP_REACH_NLRI next hop (IPv6) */
	int has_mp_nh_ll;     /* ... with a link-local second address */
	uint8_t mp_nh_family; /* VPNR_AF_* of the MP next hop */
	uint8_t mp_nh[16];
	uint8_t mp_nh_ll[16];
	size_t aspath_words;
	uint32_t aspath[VPNR__BGP_MAX_ASPATH_WORDS];
	size_t n_comm;
	uint32_t comm[VPNR__BGP_MAX_COMM];
	size_t n_lcomm;
	uint32_t lcomm[3 * VPNR__BGP_MAX_LCOMM];
	size_t unknown_len;
	uint8_t unknown[VPNR__BGP_MAX_UNKNOWN];
};

/* Empty set: ORIGIN absent, no path, nothing. */
void vpnr__bgp_attrs_build_init(struct vpnr__bgp_attrs_build *b);
/* Copy an interned set back into a builder (next hop as MP/NH4). */
void vpnr__bgp_attrs_build_from(struct vpnr__bgp_attrs_build *b,
    const struct vpnr__bgp_attrs *a);
/* Append an AS_SEQUENCE / AS_SET segment; VPNR_ERR_LIMIT if full. */
int vpnr__bgp_attrs_build_aspath_seg(struct vpnr__bgp_attrs_build *b,
    uint8_t type, const uint32_t *asns, size_t n);
int vpnr__bgp_attrs_build_add_comm(struct vpnr__bgp_attrs_build *b, uint32_t c);
/* Set the next hop from an address (v4 -> nh4, v6 -> mp_nh). */
void vpnr__bgp_attrs_build_set_nexthop(struct vpnr__bgp_attrs_build *b,
    const vpnr_addr *nh, const vpnr_addr *ll /* may be NULL */);

/* ------------------------------------------------------------------ */
/* Intern table                                                        */

struct vpnr__bgp_attr_table;

/* seed randomizes the hash (pass random bytes: peers choose attrs). */
int vpnr__bgp_attr_table_new(struct vpnr__bgp_attr_table **tp,
    const vpnr_mem *mem, uint64_t seed);
/* Frees the table and every set still in it (session teardown). */
void vpnr__bgp_attr_table_free(struct vpnr__bgp_attr_table *t);
size_t vpnr__bgp_attr_table_count(const struct vpnr__bgp_attr_table *t);
/* Bytes held by sets and buckets. */
size_t vpnr__bgp_attr_table_memory(const struct vpnr__bgp_attr_table *t);

/*
 * Canonicalize b for family aid (VPNR__BGP_AID_IPV4: next hop from
 * nh4, or from an IPv4 MP next hop; VPNR__BGP_AID_IPV6: next hop from
 * mp_nh/mp_nh_ll; aid -1: no next hop) and return the interned set
 * with one more reference, or NULL on allocation failure.
 */
const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_intern(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs_build *b, int aid);
/* Intern a copy of an existing (possibly foreign-table) set. */
const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_intern_attrs(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *a);
/* Take one more reference; returns a. */
const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_ref(const struct vpnr__bgp_attrs *a);
/* Drop a reference; frees the set at zero.  NULL is a no-op. */
void vpnr__bgp_attrs_unref(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *a);

/* ------------------------------------------------------------------ */
/* Parsing with RFC 7606 error handling                                */

/* Outcome, in increasing severity; the parser reports the worst. */
#define VPNR__BGP_ACT_OK       0 /* use the attributes */
#define VPNR__BGP_ACT_DISCARD  1 /* some attributes were dropped; use */
#define VPNR__BGP_ACT_WITHDRAW 2 /* treat-as-withdraw: every NLRI in */
				 /* the UPDATE is withdrawn           */
#define VPNR__BGP_ACT_RESET 3    /* send err as NOTIFICATION, close   */

struct vpnr__bgp_attr_pctx {
	int as4;  /* 4-octet AS negotiated (both sides sent cap 65) */
	int ebgp; /* external peer: LOCAL_PREF, ORIGINATOR_ID, */
		  /* CLUSTER_LIST and confed segments handled per 7606 */
};

struct vpnr__bgp_mp {
	int present;
	int aid;      /* VPNR__BGP_AID_* or -1 (unsupported AFI/SAFI) */
	uint16_t afi; /* wire values */
	uint8_t safi;
	const uint8_t *nlri; /* borrowed prefixes (reach: NLRI, unreach: */
	size_t nlri_len;     /* withdrawn routes) of family aid          */
};

struct vpnr__bgp_attr_result {
	int action; /* VPNR__BGP_ACT_* */
	/* RESET: the NOTIFICATION to send.  WITHDRAW/DISCARD: the first
	 * problem, for the log (code 3 / subcode as RFC 4271 would). */
	struct vpnr__bgp_err err;
	uint8_t first_bad_type; /* attribute type of the first problem */
	uint16_t n_discarded;   /* attributes dropped */
	struct vpnr__bgp_mp mp_reach;
	struct vpnr__bgp_mp mp_unreach;
	/* aid of an End-of-RIB (only an empty MP_UNREACH), else -1 */
	int eor_aid;
	/* AS4_PATH / AS4_AGGREGATOR were present and merged */
	int as4_merged;
};

/*
 * Parse the path attribute block of an UPDATE into b (which is reset
 * first) and res.  has_nlri: the UPDATE's IPv4 NLRI field is not
 * empty (mandatory attribute checks apply to it, and to MP_REACH
 * NLRI).  RFC 7606 decisions (section numbers of RFC 7606):
 *   flags conflicting with the type (3c)      -> as malformed attr
 *   attribute/total length overrun (4)        -> WITHDRAW, or RESET
 *                                                if MP_* was involved
 *   duplicate MP_REACH/MP_UNREACH (3g)        -> RESET 3/1
 *   other duplicates (3g)                     -> DISCARD (keep first)
 *   unrecognized well-known (RFC 4271)        -> RESET 3/2
 *   ORIGIN bad length/value (7.1)             -> WITHDRAW
 *   AS_PATH malformed, confed from eBGP (7.2),
 *     AS 0 in the path (RFC 7607)             -> WITHDRAW
 *   NEXT_HOP bad length / martian (7.3)       -> WITHDRAW
 *   MED bad length (7.4)                      -> WITHDRAW
 *   LOCAL_PREF from eBGP (7.5)                -> DISCARD (ignored)
 *   LOCAL_PREF bad length, iBGP (7.5)         -> WITHDRAW
 *   ATOMIC_AGGREGATE bad length (7.6)         -> DISCARD
 *   AGGREGATOR bad length / AS 0 (7.7)        -> DISCARD
 *   COMMUNITIES bad length (7.8)              -> WITHDRAW
 *   ORIGINATOR_ID/CLUSTER_LIST (7.9, 7.10)    -> eBGP: DISCARD;
 *                                                iBGP bad length: WITHDRAW
 *   MP_REACH/MP_UNREACH malformed (7.11,7.12) -> RESET 3/9 (or 3/1)
 *   MP NLRI malformed (5.3)                   -> RESET 3/10
 *   EXT_COMMUNITIES bad length (7.14)         -> WITHDRAW
 *   LARGE_COMMUNITIES bad length (RFC 8092)   -> WITHDRAW
 *   AS4_PATH / AS4_AGGREGATOR malformed, or
 *     received from a 4-octet peer (RFC 6793 6) -> DISCARD
 *   missing ORIGIN/AS_PATH/NEXT_HOP with NLRI (3d) -> WITHDRAW
 *   unknown optional non-transitive           -> dropped silently
 *   unknown optional transitive               -> kept, PARTIAL set
 * AS4_PATH and AS4_AGGREGATOR are merged (RFC 6793 4.2.3) when as4 is
 * off.  Returns res->action.
 */
int vpnr__bgp_attrs_parse(const struct vpnr__bgp_attr_pctx *pctx,
    const uint8_t *data, size_t len, int has_nlri,
    struct vpnr__bgp_attrs_build *b, struct vpnr__bgp_attr_result *res);

/*
 * Parse an MP_REACH next-hop field for aid: 4 bytes (IPv4), 16
 * (IPv6 global) or 32 (global + link-local).  Exposed for tests.
 */
int vpnr__bgp_mp_nexthop_parse(const uint8_t *nh, size_t len, int aid,
    struct vpnr__bgp_attrs_build *b);

/* ------------------------------------------------------------------ */
/* Queries for the decision process and policy                         */

/* Path length: AS_SEQUENCE counts each ASN, AS_SET 1, confed 0. */
static inline unsigned
vpnr__bgp_attrs_path_len(const struct vpnr__bgp_attrs *a)
{
	return a->aspath_plen;
}
/* Leftmost AS of the first AS_SEQUENCE (the neighbor AS), or 0. */
uint32_t vpnr__bgp_attrs_first_as(const struct vpnr__bgp_attrs *a);
/* Rightmost AS (the origin AS), or 0 (empty path or ends in a set). */
uint32_t vpnr__bgp_attrs_origin_as(const struct vpnr__bgp_attrs *a);
/* AS loop check: non-zero if asn occurs anywhere in the path. */
int
vpnr__bgp_attrs_aspath_contains(const struct vpnr__bgp_attrs *a, uint32_t asn);
/* Community membership (binary search). */
int vpnr__bgp_attrs_has_comm(const struct vpnr__bgp_attrs *a, uint32_t c);
/* MED for comparison: med, or 0 when absent (RFC 4271 9.1.2.2 c). */
static inline uint32_t
vpnr__bgp_attrs_med(const struct vpnr__bgp_attrs *a)
{
	return (a->flags & VPNR__BGP_A_MED) ? a->med : 0;
}
/* Next hop as a vpnr_addr (family 0 when none). */
void vpnr__bgp_attrs_nexthop(const struct vpnr__bgp_attrs *a, vpnr_addr *nh);
/* Fill the public view; communities point into a (valid while a is). */
void vpnr__bgp_attrs_to_public(const struct vpnr__bgp_attrs *a,
    vpnr_path_attrs *out);
/*
 * The path's ASNs, every segment's members in turn (segment headers
 * dropped), for vpnr_path_attrs.as_path: points into a when the path
 * is one segment, else into scratch (VPNR__BGP_MAX_ASPATH_WORDS words,
 * never overrun); NULL with *n 0 for an empty path.
 */
const uint32_t *vpnr__bgp_attrs_aspath_flat(const struct vpnr__bgp_attrs *a,
    uint32_t *scratch, size_t *n);
/* "65001 65002 {65003,65004} (confed seq) [confed,set]" into buf;
 * returns buf (output truncated to fit). */
const char *vpnr__bgp_attrs_aspath_str(const struct vpnr__bgp_attrs *a,
    char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* eBGP export                                                         */

#define VPNR__BGP_MED_STRIP 0 /* RFC 4271 5.1.4: do not pass on MED */
#define VPNR__BGP_MED_KEEP  1 /* keep whatever the set has (local) */
#define VPNR__BGP_MED_SET   2 /* set to med */

struct vpnr__bgp_export {
	uint32_t local_as;
	uint8_t prepend;        /* extra copies of local_as (0 = just one) */
	uint8_t med_mode;       /* VPNR__BGP_MED_* */
	uint8_t remove_private; /* drop RFC 6996/7300 private ASNs first */
	uint8_t nexthop_self;   /* replace next hop with nexthop/_ll */
	uint32_t med;
	vpnr_addr nexthop;    /* our address on the session (v4 or v6) */
	vpnr_addr nexthop_ll; /* IPv6 link-local, family 0 if none */
};

/*
 * Produce the set sent to an eBGP peer: when asked, every private ASN
 * (RFC 6996, vpnr__asn_is_private) is dropped from the path (segments
 * left empty are removed); then local_as is prepended 1 + prepend
 * times, the next hop set to self if nexthop_self, MED per med_mode,
 * LOCAL_PREF stripped.  *out gets a reference
 * (unref it).  Returns 0 or VPNR_ERR_NOMEM / VPNR_ERR_LIMIT (path too
 * long).  bld is scratch space (the builder is large).
 */
int vpnr__bgp_attrs_export(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *in, const struct vpnr__bgp_export *x,
    struct vpnr__bgp_attrs_build *bld, const struct vpnr__bgp_attrs **out);

/* ------------------------------------------------------------------ */
/* Encoding and UPDATE packing                                         */

/*
 * Append the path attributes of a (no MP_REACH: the packer writes
 * it).  as4: the peer does 4-octet AS (AS_PATH with 4-octet ASNs);
 * otherwise 2-octet AS_PATH with AS_TRANS for big ASNs plus AS4_PATH
 * (and AGGREGATOR/AS4_AGGREGATOR likewise) when needed.  with_nh4:
 * write NEXT_HOP (IPv4 routes).  Returns 0 or a wbuf error.
 */
int vpnr__bgp_attrs_encode(struct vpnr__wbuf *w,
    const struct vpnr__bgp_attrs *a, int as4, int with_nh4);

/*
 * Incremental UPDATE packer.  One packer builds one UPDATE message in
 * w of at most VPNR__BGP_MAX_LEN bytes:
 *   reach:    begin_reach(a, aid), add() prefixes of that family until
 *             it returns VPNR_ERR_BUFFER_TOO_SMALL (that prefix was not
 *             added), then finish();
 *   withdraw: begin_withdraw(aid), add(), finish().
 * IPv4 goes in the NLRI / Withdrawn Routes fields, IPv6 in
 * MP_REACH_NLRI (next hop from a) / MP_UNREACH_NLRI.  finish() with
 * no prefix added truncates w back and returns 0; otherwise it returns
 * the message length.  The wbuf may hold earlier messages.
 */
struct vpnr__bgp_packer {
	struct vpnr__wbuf *w;
	size_t start;      /* message offset in w */
	size_t len_off;    /* offset of the field growing with adds */
	size_t mp_len_off; /* MP attribute length (2 bytes, ext len) */
	size_t attr_len_off;
	int aid;
	int withdraw;
	unsigned count;
};
int vpnr__bgp_pack_begin_reach(struct vpnr__bgp_packer *pk,
    struct vpnr__wbuf *w, const struct vpnr__bgp_attrs *a, int aid, int as4);
int vpnr__bgp_pack_begin_withdraw(struct vpnr__bgp_packer *pk,
    struct vpnr__wbuf *w, int aid);
int
vpnr__bgp_pack_add(struct vpnr__bgp_packer *pk, const struct vpnr__bgp_pfx *p);
int vpnr__bgp_pack_finish(struct vpnr__bgp_packer *pk);

/*
 * Convenience: pack as many of pfx[0..n) as fit in one UPDATE
 * (a == NULL: withdraw).  Returns the number packed (>= 1 when n > 0)
 * or a negative error.
 */
int vpnr__bgp_update_pack(struct vpnr__wbuf *w, const struct vpnr__bgp_attrs *a,
    int aid, int as4, const struct vpnr__bgp_pfx *pfx, size_t n);

#endif /* VPNR_BGP_ATTR_H */
