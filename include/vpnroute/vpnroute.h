/*
 * libvpnroute - embeddable route-based IPsec (IKEv2, ESP) and eBGP.
 *
 * Contract (details in README.md):
 *  - sans-I/O core: the library never opens sockets, reads clocks or
 *    starts threads; the host feeds datagrams, TCP bytes and "now" in,
 *    and receives datagrams, bytes, SA and route operations and events
 *    through callbacks;
 *  - one vpnr_ctx is used by one thread at a time; every callback runs
 *    synchronously inside the vpnr_* call that triggered it;
 *  - every pointer handed to a vpnr_* function is copied before it
 *    returns; every pointer handed to a callback is valid only until
 *    that callback returns (key buffers are wiped right after);
 *  - ids (tunnels, SAs, peers, paths, transports, ops) are uint64_t and
 *    never reused within a context.
 *
 * All declarations appeared in 0.1.0 unless noted otherwise.
 */
#ifndef VPNROUTE_VPNROUTE_H
#define VPNROUTE_VPNROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VPNR_STATICLIB)
#define VPNR_API
#elif defined(VPNR_BUILDING_LIBRARY) && defined(__GNUC__)
#define VPNR_API __attribute__((visibility("default")))
#else
#define VPNR_API
#endif

/*
 * ABI rules (fixed while 0.x, see README.md):
 *  - every public struct has fixed-width members and no implicit
 *    padding; its size and member offsets are pinned by the
 *    VPNR_LAYOUT_ASSERT lines at the end of its header (LP64);
 *  - a struct that crosses the API through a caller's buffer or table
 *    is versioned by an int argument (VPNR_<STRUCT>_V<n>) and only
 *    grows by appending; the library copies exactly the bytes of the
 *    caller's version and refuses versions newer than it knows
 *    (VPNR_ERR_INVALID_ARGUMENT);
 *  - structs handed to callbacks by pointer are only appended to;
 *  - vpnr_addr, vpnr_prefix, vpnr_ts, vpnr_lifetime and vpnr_mem are
 *    embedded in other structs or arrays: they never change;
 *  - reserved members are zero on output; callers set them to zero
 *    on input (refused otherwise where the declaration says so);
 *  - every convenience macro has an exported function of the same name
 *    (for ctypes, cffi ABI mode and cgo): the macro passes the
 *    versions of the header it was compiled with, the function passes
 *    version 1 for ever.  Since 0.1.0.
 */
#if defined(__cplusplus)
#define VPNR_LAYOUT_ASSERT(e) static_assert(e, #e)
#elif defined(__GNUC__)
#define VPNR_LAYOUT_ASSERT(e) __extension__ _Static_assert(e, #e)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define VPNR_LAYOUT_ASSERT(e) _Static_assert(e, #e)
#else
#define VPNR_LAYOUT_ASSERT(e) extern int vpnr_layout_unchecked
#endif
/* Member m of struct t: first, right after prev at offset off, or the
 * last one, ending at size (used at the end of each header). */
#define VPNR_LAYOUT_END(t, m)   (offsetof(t, m) + sizeof(((t *)0)->m))
#define VPNR_LAYOUT_FIRST(t, m) VPNR_LAYOUT_ASSERT(offsetof(t, m) == 0)
#define VPNR_LAYOUT_NEXT(t, prev, m, off) \
	VPNR_LAYOUT_ASSERT(offsetof(t, m) == (off) && \
	    offsetof(t, m) == VPNR_LAYOUT_END(t, prev))
#define VPNR_LAYOUT_SIZE(t, last, size) \
	VPNR_LAYOUT_ASSERT( \
	    sizeof(t) == (size) && sizeof(t) == VPNR_LAYOUT_END(t, last))

/* ------------------------------------------------------------------ */
/* Versions                                                            */

typedef struct vpnr_info {
	int age;                 /* VPNR_INFO_AGE; fields only appended */
	uint32_t version_num;    /* run-time VPNR_VERSION_NUM */
	const char *version_str; /* run-time VPNR_VERSION */
	const char *crypto_str;  /* OpenSSL version in use */
} vpnr_info;
#define VPNR_INFO_AGE 1

/**
 * Run-time version.  Returns NULL if the library is older than
 * least_version (0 accepts any).  Legal inside callbacks.
 */
VPNR_API const vpnr_info *vpnr_version(uint32_t least_version);

/* ------------------------------------------------------------------ */
/* Errors: 0 is success, errors are negative ints, never errno values. */

#define VPNR_OK                   0
#define VPNR_ASYNC                1 /* data-plane op completes later */
#define VPNR_ERR_INVALID_ARGUMENT -101
#define VPNR_ERR_INVALID_STATE    -102
#define VPNR_ERR_NOT_FOUND        -103
#define VPNR_ERR_EXISTS           -104
#define VPNR_ERR_UNSUPPORTED      -105
#define VPNR_ERR_WOULDBLOCK       -106 /* transport_send only */
#define VPNR_ERR_IN_CALLBACK      -107 /* forbidden re-entrant call */
#define VPNR_ERR_BUFFER_TOO_SMALL -108
#define VPNR_ERR_LIMIT            -109 /* a configured limit was hit */
/* A callback asked to abort: the driving call returns it at once; the
 * context stays usable (was -902, inside the fatal range, before 0.2). */
#define VPNR_ERR_CALLBACK_FAILURE -110
#define VPNR_ERR_MALFORMED        -201 /* peer sent garbage; dropped */
#define VPNR_ERR_AUTH_FAILED      -202
#define VPNR_ERR_NO_PROPOSAL      -203
#define VPNR_ERR_PEER_CLOSED      -204
#define VPNR_ERR_TS_UNACCEPTABLE  -205
#define VPNR_ERR_TIMEOUT          -206 /* peer stopped answering */
#define VPNR_ERR_PEER_ERROR       -207 /* peer sent an error notify */
#define VPNR_ERR_REPLAY           -208 /* ESP: replayed or too old */
#define VPNR_ERR_INTEGRITY        -209 /* ESP/IKE: ICV mismatch */
#define VPNR_ERR_NOT_IKE          -210 /* datagram is ESP, not IKE */
/* The tunnel a BGP session runs over went down; or (tunnel events) the
 * sibling tunnel whose IKE SA carried this one's CHILD_SAs was closed
 * here (vpnr_tunnel_config_set_share_ike).  Since 0.2.0. */
#define VPNR_ERR_TUNNEL_DOWN -211
/* Liveness: nothing authenticated came from the peer for the tunnel's
 * liveness timeout (vpnr_tunnel_config_set_liveness).  Since 0.2.0. */
#define VPNR_ERR_DEAD_PEER -212
/* Closed on our side (vpnr_tunnel_close/_del, context shutdown): never
 * followed by a reconnect.  Since 0.2.0. */
#define VPNR_ERR_LOCAL_CLOSE -213
#define VPNR_ERR_DATAPLANE   -301 /* a data-plane op failed */
#define VPNR_ERR_CRYPTO      -302
/* Everything <= VPNR_ERR_FATAL leaves the vpnr_ctx unusable. */
#define VPNR_ERR_FATAL    -900
#define VPNR_ERR_NOMEM    -901
#define VPNR_ERR_INTERNAL -903

/** "out of memory" etc.; never NULL.  Legal inside callbacks. */
VPNR_API const char *vpnr_strerror(int err);
/** "VPNR_ERR_NOMEM" etc.; never NULL.  Legal inside callbacks. */
VPNR_API const char *vpnr_err_name(int err);
/** Non-zero if err <= VPNR_ERR_FATAL (the context is unusable; not
 * VPNR_ERR_CALLBACK_FAILURE).  Legal inside callbacks. */
VPNR_API int vpnr_err_is_fatal(int err);

/* ------------------------------------------------------------------ */
/* Plain data types: fixed-width fields only (no enums, no sockaddr).  */

typedef uint64_t vpnr_tstamp; /* monotonic nanoseconds, host's clock */
#define VPNR_TSTAMP_NEVER UINT64_MAX
#define VPNR_MILLISECONDS ((vpnr_tstamp)1000000ULL)
#define VPNR_SECONDS      ((vpnr_tstamp)1000000000ULL)

#define VPNR_AF_INET  4
#define VPNR_AF_INET6 6

typedef struct vpnr_addr {
	uint8_t family; /* VPNR_AF_*, 0 = unset */
	uint8_t reserved;
	uint16_t port;     /* host byte order, 0 if unused */
	uint32_t scope_id; /* IPv6 link-local only */
	uint8_t bytes[16]; /* network byte order */
} vpnr_addr;

typedef struct vpnr_prefix {
	vpnr_addr addr;
	uint8_t len;
	uint8_t reserved[3];
} vpnr_prefix;

/**
 * Parse "192.0.2.1", "2001:db8::1" (optionally "[..]:port" or
 * "a.b.c.d:port") into addr.  Returns VPNR_OK or
 * VPNR_ERR_INVALID_ARGUMENT.  Legal inside callbacks.
 */
VPNR_API int vpnr_addr_parse(vpnr_addr *addr, const char *str);
/** Parse "10.0.0.0/8" into prefix; host bits must be zero. */
VPNR_API int vpnr_prefix_parse(vpnr_prefix *prefix, const char *str);
/**
 * Format addr (with port when non-zero) into buf; returns buf, or ""
 * when len is too small.  46 + 8 bytes are always enough.
 */
VPNR_API const char *
vpnr_addr_format(const vpnr_addr *addr, char *buf, size_t len);

/* IKEv2 traffic selector, RFC 7296 section 3.13.1. */
typedef struct vpnr_ts {
	uint8_t ip_proto; /* 0 = any */
	uint8_t reserved;
	uint16_t port_start;
	uint16_t port_end;
	uint16_t reserved2; /* zero */
	vpnr_addr addr_start;
	vpnr_addr addr_end;
} vpnr_ts;

/*
 * Allocator hooks for the library's own allocations (OpenSSL keeps its
 * own allocator, which can only be replaced process-wide).  NULL means
 * libc.  Field names avoid "malloc"/"free", which cmocka redefines.
 */
typedef struct vpnr_mem {
	void *user_data;
	void *(*alloc_fn)(size_t size, void *user_data);
	void *(*zalloc_fn)(size_t nmemb, size_t size, void *user_data);
	void *(*realloc_fn)(void *ptr, size_t size, void *user_data);
	void (*free_fn)(void *ptr, void *user_data);
} vpnr_mem;

/* ------------------------------------------------------------------ */
/* Opaque handles                                                      */

typedef struct vpnr_ctx vpnr_ctx;
typedef struct vpnr_config vpnr_config;
typedef struct vpnr_tunnel_config vpnr_tunnel_config;
typedef struct vpnr_bgp_peer_config vpnr_bgp_peer_config;

/* ------------------------------------------------------------------ */
/* Data plane: what the vendor implements (cf. strongSwan
 * kernel_ipsec_t and kernel_net_t).  Each op returns VPNR_OK,
 * VPNR_ASYNC (the host calls vpnr_dp_complete() later with the same
 * op_id; it may do so inside the op itself) or a negative error.  Ops
 * are called from inside driving calls; they must not call driving
 * functions.  Ops on one SA or policy are issued in order; an sa_del
 * may follow an sa_add that has not completed yet.
 *
 * What the library waits for (since 0.1.0): a CHILD_SA counts as
 * installed once both sa_add ops and its policy_add ops completed;
 * only then come VPNR_TUNNEL_EV_CHILD_UP / _CHILD_REKEYED, the IKE
 * response that creates it (the responder holds its answer), and on a
 * rekey the switch from the old pair, whose sa_del ops follow
 * (make-before-break).  A failed install op, synchronous or not, takes
 * one path: the CHILD_SA is removed and the peer told (TEMPORARY_FAILURE
 * in a held answer, else an INFORMATIONAL DELETE), VPNR_TUNNEL_EV_FAILED
 * carries VPNR_ERR_DATAPLANE (VPNR_ERR_TIMEOUT when the ops were not all
 * completed within 10 s), a pair being rekeyed stays in use, and an
 * IKE SA left without a CHILD_SA is deleted so that the tunnel's
 * reconnect policy retries.
 *
 * sa_add for an sa_id that is installed already (since 0.2.0) updates
 * that SA in place: vpnr_dp_replay() re-sends it unchanged, and when an
 * authenticated IKE message shows that a peer behind a NAT moved (RFC
 * 7296 2.23) it comes with the new outer addresses and ports.  The SA
 * keeps its sequence numbers, replay window and counters; a failure
 * takes the CHILD_SA down as a failed install does.                  */

#define VPNR_DIR_IN  1
#define VPNR_DIR_OUT 2
#define VPNR_DIR_FWD 3

#define VPNR_SA_F_ESN       0x01 /* extended sequence numbers */
#define VPNR_SA_F_UDP_ENCAP 0x02 /* ESP-in-UDP (RFC 3948), ports set */
#define VPNR_SA_F_TUNNEL    0x04 /* tunnel mode (else transport) */

/* IANA IKEv2 transform ids used in vpnr_child_sa (RFC 7296 3.3.2). */
#define VPNR_ENCR_AES_CBC            12
#define VPNR_ENCR_AES_GCM_16         20
#define VPNR_INTEG_NONE              0
#define VPNR_INTEG_HMAC_SHA1_96      2
#define VPNR_INTEG_HMAC_SHA2_256_128 12
#define VPNR_INTEG_HMAC_SHA2_384_192 13
#define VPNR_INTEG_HMAC_SHA2_512_256 14

/* IKEv2 transform types (RFC 7296 3.3.2), for vpnr_transform_name(). */
#define VPNR_TRANSFORM_ENCR  1
#define VPNR_TRANSFORM_PRF   2
#define VPNR_TRANSFORM_INTEG 3
#define VPNR_TRANSFORM_DH    4
#define VPNR_TRANSFORM_ESN   5

/**
 * Name of a transform as strongSwan prints it ("AES_GCM_16",
 * "HMAC_SHA2_256_128", "PRF_HMAC_SHA1", "MODP_1024", "CURVE_25519"),
 * or NULL for an id the library does not implement.  Legal anywhere.
 * Since 0.1.0.
 */
VPNR_API const char *vpnr_transform_name(uint32_t type, uint16_t id);

typedef struct vpnr_lifetime {
	uint64_t bytes; /* 0 = unlimited */
	uint64_t packets;
	uint64_t seconds;
} vpnr_lifetime;

typedef struct vpnr_child_sa {
	uint64_t sa_id; /* unique per ctx, never reused */
	uint64_t tunnel_id;
	void *tunnel_user_data;
	uint32_t spi;      /* host byte order */
	uint8_t protocol;  /* 50 = ESP */
	uint8_t direction; /* VPNR_DIR_IN / VPNR_DIR_OUT */
	uint16_t flags;    /* VPNR_SA_F_* */
	vpnr_addr src;     /* outer header; ports set with UDP_ENCAP */
	vpnr_addr dst;
	uint16_t encr_id;       /* VPNR_ENCR_* */
	uint16_t encr_key_bits; /* 128 or 256, without the GCM salt */
	uint16_t integ_id;      /* VPNR_INTEG_*, 0 for AEAD */
	uint16_t reserved;
	const uint8_t *encr_key; /* key, then the 4-byte salt for GCM */
	size_t encr_key_len;
	const uint8_t *integ_key;
	size_t integ_key_len;
	uint32_t replay_window; /* packets; 0 disables anti-replay */
	uint32_t if_id;         /* vendor tunnel interface id */
	vpnr_lifetime soft;     /* report with vpnr_dp_sa_expired(.., 0) */
	vpnr_lifetime hard;     /* report with vpnr_dp_sa_expired(.., 1) */
	const vpnr_ts *ts_local;
	size_t n_ts_local;
	const vpnr_ts *ts_remote;
	size_t n_ts_remote;
	/* Fields are only ever appended here. */
} vpnr_child_sa;
/* Versions of vpnr_child_sa where a caller hands one in
 * (vpnr_esp_sa_install_versioned).  Since 0.1.0. */
#define VPNR_CHILD_SA_V1      1
#define VPNR_CHILD_SA_VERSION VPNR_CHILD_SA_V1

/*
 * Security policies (RFC 4301 SPD entries), one per pair of the
 * CHILD_SA's negotiated selectors and direction (VPNR_DIR_IN, and
 * VPNR_DIR_OUT with out_sa_id = the outbound SA), added with its SAs
 * and deleted (before them) with it.  A route-based data plane (the
 * built-in one, minigw) may ignore them and steer by if_id; a
 * policy-based one (e.g. for IKEv1 peers with one CIDR pair per
 * connection) installs them.  During a rekey the new pair's policies
 * (same selectors, new out_sa_id) are added before the old pair's are
 * deleted: key them by policy_id.
 */
typedef struct vpnr_policy {
	uint64_t policy_id;
	uint64_t tunnel_id;
	uint8_t direction; /* VPNR_DIR_* */
	uint8_t reserved[3];
	uint32_t priority;
	uint64_t out_sa_id; /* 0 until an outbound SA exists */
	vpnr_ts ts_local;
	vpnr_ts ts_remote;
	uint32_t if_id;
	uint32_t reserved2;
} vpnr_policy;

#define VPNR_ROUTE_F_BGP    0x01 /* learned from an eBGP peer */
#define VPNR_ROUTE_F_TUNNEL 0x02 /* points into an IPsec tunnel */

typedef struct vpnr_route {
	vpnr_prefix prefix;
	vpnr_addr nexthop;
	uint32_t if_id; /* tunnel interface, 0 if none */
	uint32_t flags; /* VPNR_ROUTE_F_* */
	uint32_t metric;
	uint32_t reserved;
	uint32_t reserved2;
	uint64_t peer_id;   /* BGP peer the path came from */
	uint64_t tunnel_id; /* tunnel the route points into, or 0 */
} vpnr_route;

typedef struct vpnr_dataplane {
	/* Optional: choose an inbound SPI; else the library picks one. */
	int (*get_spi)(vpnr_ctx *ctx, const vpnr_addr *src,
	    const vpnr_addr *dst, uint8_t protocol, uint32_t *spi,
	    void *dp_data);
	int (*sa_add)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
	    void *dp_data);
	int (*sa_del)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa,
	    void *dp_data);
	int (*policy_add)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol,
	    void *dp_data);
	int (*policy_del)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol,
	    void *dp_data);
	int (*route_add)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt,
	    void *dp_data);
	int (*route_del)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt,
	    void *dp_data);
	/* Optional: counters, used by DPD to skip probes on busy SAs. */
	int (*sa_query)(vpnr_ctx *ctx, uint64_t sa_id, uint64_t *bytes,
	    uint64_t *packets, vpnr_tstamp *last_used, void *dp_data);
} vpnr_dataplane;

#define VPNR_DATAPLANE_V1      1
#define VPNR_DATAPLANE_VERSION VPNR_DATAPLANE_V1

/**
 * Complete an op for which the data plane returned VPNR_ASYNC.
 * status is VPNR_OK or a negative error.  Legal anywhere, including
 * inside the op's own callback (the op is registered before it is
 * called) and inside other callbacks; the library's continuation
 * always runs after the current callback returns (at the end of the
 * outermost driving call), or at once when called from the host's
 * loop.  Returns VPNR_OK; VPNR_ERR_INVALID_ARGUMENT (ctx NULL, or a
 * positive status such as VPNR_ASYNC: refused, the op stays pending);
 * VPNR_ERR_NOT_FOUND (unknown or already completed op_id, an op that
 * did not return VPNR_ASYNC, or one whose CHILD_SA is gone); from the
 * host's loop, the results of a driving call: VPNR_ERR_INVALID_STATE
 * (the context is dead), VPNR_ERR_CALLBACK_FAILURE (a callback the
 * continuation ran asked to abort); VPNR_ERR_NOMEM.  When it fails
 * other than with VPNR_ERR_CALLBACK_FAILURE, the op stays pending and
 * can be completed again.  An install whose ops are not all completed
 * within 10 s fails (the tunnel reports VPNR_ERR_TIMEOUT); later
 * completions of its ops are accepted and ignored.
 */
VPNR_API int
vpnr_dp_complete(vpnr_ctx *ctx, uint64_t op_id, int status, vpnr_tstamp now);
/**
 * The data plane reports that an SA hit its soft (hard = 0) or hard
 * (hard = 1) byte/packet lifetime.  Soft starts a rekey; hard deletes
 * the CHILD_SA.  Not legal inside callbacks (VPNR_ERR_IN_CALLBACK).
 */
VPNR_API int
vpnr_dp_sa_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard, vpnr_tstamp now);
/** Re-send every installed SA, policy and route (data plane restart).
 * Replayed ops get new op ids and follow the same completion rule: a
 * replayed op may return VPNR_ASYNC, and a failure (synchronous or
 * not) takes the CHILD_SA down as a failed install does.  Not inside
 * callbacks. */
VPNR_API int vpnr_dp_replay(vpnr_ctx *ctx, vpnr_tstamp now);

/* ------------------------------------------------------------------ */
/* Host callbacks: I/O for the bring-your-own-loop mode, events, log.   */

#define VPNR_LOG_ERR     3 /* syslog(3) numbering */
#define VPNR_LOG_WARNING 4
#define VPNR_LOG_NOTICE  5
#define VPNR_LOG_INFO    6
#define VPNR_LOG_DEBUG   7

/*
 * Tunnel events.  DOWN and CHILD_DOWN always carry a reason (since
 * 0.2.0): VPNR_ERR_DEAD_PEER (liveness timeout), VPNR_ERR_PEER_CLOSED
 * (the peer's DELETE), VPNR_ERR_LOCAL_CLOSE (vpnr_tunnel_close/_del),
 * or the failure that ended the IKE SA (with its notify).  After every
 * end but a local close the tunnel reconnects by its policy
 * (exponential backoff from 0.5 s, capped at 10 s; from 5 s, capped at
 * 60 s, after AUTH_FAILED, NO_PROPOSAL and TS_UNACCEPTABLE, which do
 * not fix themselves; each delay less up to half of it at random).
 */
#define VPNR_TUNNEL_EV_UP            1 /* IKE SA established */
#define VPNR_TUNNEL_EV_DOWN          2 /* IKE SA gone; reason says why */
#define VPNR_TUNNEL_EV_REKEYED       3 /* IKE SA rekeyed in place */
#define VPNR_TUNNEL_EV_CHILD_UP      4 /* CHILD_SA pair installed */
#define VPNR_TUNNEL_EV_CHILD_DOWN    5 /* CHILD_SA pair removed */
#define VPNR_TUNNEL_EV_CHILD_REKEYED 6 /* new pair replaced old one */
/* An attempt failed; reason says why (VPNR_ERR_DATAPLANE: an install
 * op failed, sa_id names the CHILD_SA when known) and notify is the
 * notify actually sent to or received from the peer. */
#define VPNR_TUNNEL_EV_FAILED 7
/* Suspicion (vpnr_tunnel_config_set_suspect): ESP goes out and
 * nothing has come back for the suspicion time, reason
 * VPNR_ERR_TIMEOUT; then LIVE (reason VPNR_OK) at the first proof of
 * life.  Neither ends anything: DOWN still comes only at the liveness
 * timeout.  Since 0.3.0. */
#define VPNR_TUNNEL_EV_SUSPECT 8
#define VPNR_TUNNEL_EV_LIVE    9

typedef struct vpnr_tunnel_event {
	uint32_t type;  /* VPNR_TUNNEL_EV_* */
	int32_t reason; /* 0 or a VPNR_ERR_* */
	uint64_t tunnel_id;
	void *tunnel_user_data;
	uint64_t sa_id; /* CHILD_* events: the inbound SA id */
	vpnr_addr local;
	vpnr_addr remote;
	uint16_t notify; /* RFC 7296 notify type behind reason, or 0 */
	uint16_t reserved[3];
	/* The IKE SA's SPIs (initiator's, responder's), set whenever the
	 * tunnel has an IKE SA (UP: the new one; REKEYED: the new one;
	 * DOWN: the one that ended), else 0.  Since 0.2.0. */
	uint64_t ike_spi_i;
	uint64_t ike_spi_r;
} vpnr_tunnel_event;

/** "UP", "DOWN", "REKEYED", "CHILD_UP", "CHILD_DOWN", "CHILD_REKEYED",
 * "FAILED", "SUSPECT", "LIVE" for VPNR_TUNNEL_EV_*, else "UNKNOWN";
 * never NULL.  Legal anywhere, inside callbacks too.  Since 0.2.0. */
VPNR_API const char *vpnr_tunnel_event_name(uint32_t type);

#define VPNR_BGP_EV_ESTABLISHED  1
#define VPNR_BGP_EV_DOWN         2
#define VPNR_BGP_EV_PREFIX_LIMIT 3
#define VPNR_BGP_EV_EOR          4 /* End-of-RIB received */
/* An UPDATE's next hop was refused (a martian such as a loopback
 * address): its prefixes are treated as withdrawn (RFC 7606) and
 * counted in treat_as_withdraw; raised once per session, afi_safi as
 * for EOR, reason VPNR_ERR_MALFORMED.  Since 0.1.0. */
#define VPNR_BGP_EV_NEXTHOP_REFUSED 5
/* A peer held over its tunnel (VPNR_BGP_TUNNEL_DOWN_HOLD): the tunnel
 * went down, the peer's routes left the data plane and the session is
 * kept (reason VPNR_ERR_TUNNEL_DOWN); or the tunnel came back before
 * the hold timer expired and the routes are used again (reason
 * VPNR_OK).  Since 0.2.0. */
#define VPNR_BGP_EV_TUNNEL_DOWN 6
#define VPNR_BGP_EV_TUNNEL_UP   7

typedef struct vpnr_bgp_event {
	uint32_t type; /* VPNR_BGP_EV_* */
	int32_t reason;
	uint64_t peer_id;
	void *peer_user_data;
	uint8_t notif_code; /* RFC 4271 NOTIFICATION, if any */
	uint8_t notif_subcode;
	uint8_t afi_safi; /* EOR: 1 = IPv4 unicast, 2 = IPv6 unicast */
	uint8_t reserved[5];
} vpnr_bgp_event;

/** The VPNR_BGP_EV_* constant's name without its prefix
 * ("ESTABLISHED", "DOWN", ...), else "UNKNOWN"; never NULL.  Legal
 * anywhere, inside callbacks too.  Since 0.2.0. */
VPNR_API const char *vpnr_bgp_event_name(uint32_t type);

typedef struct vpnr_callbacks {
	/*
	 * BYO-loop I/O; provided by vpnr_uv_new() in libuv mode.  local
	 * carries the source port (500 or 4500); the library adds the
	 * non-ESP marker itself on 4500.  Send failures may be ignored:
	 * IKE retransmits.
	 */
	int (*send_datagram)(vpnr_ctx *ctx, const vpnr_addr *local,
	    const vpnr_addr *remote, const uint8_t *data, size_t len,
	    void *user_data);
	/* Open a TCP connection for BGP; report with
	 * vpnr_transport_connected().  ttl: outgoing TTL (1 unless
	 * multihop); md5_key: RFC 2385 key or NULL. */
	int (*transport_open)(vpnr_ctx *ctx, uint64_t transport_id,
	    const vpnr_addr *local, const vpnr_addr *remote, uint8_t ttl,
	    const uint8_t *md5_key, size_t md5_len, void *user_data);
	/* Returns bytes accepted (may be short) or VPNR_ERR_WOULDBLOCK.
	 * After any partial write (short or WOULDBLOCK) the library sends
	 * nothing more on this transport until the host calls
	 * vpnr_transport_writable(): that call is the one way to resume. */
	int64_t (*transport_send)(vpnr_ctx *ctx, uint64_t transport_id,
	    const uint8_t *data, size_t len, void *user_data);
	/* The library is done with the transport: close the socket.  The
	 * id is dead; the host does not call vpnr_transport_closed() for
	 * it.  Bytes still queued (a final NOTIFICATION) were sent before
	 * this call, or their loss was logged after 10 s without
	 * vpnr_transport_writable(). */
	void (*transport_close)(vpnr_ctx *ctx, uint64_t transport_id,
	    void *user_data);
	/* Optional: called when vpnr_ctx_get_expiry() may have changed. */
	void (*expiry_changed)(vpnr_ctx *ctx, vpnr_tstamp expiry,
	    void *user_data);
	/* Optional; the default uses OpenSSL's RAND_bytes.  Tests make
	 * runs deterministic with it. */
	int (*rand_bytes)(vpnr_ctx *ctx, uint8_t *buf, size_t len,
	    void *user_data);
	/* Events; return VPNR_OK, or VPNR_ERR_CALLBACK_FAILURE to abort
	 * the driving call, which then returns that code unchanged. */
	int (*tunnel_event)(vpnr_ctx *ctx, const vpnr_tunnel_event *ev,
	    void *user_data);
	int (*bgp_event)(vpnr_ctx *ctx, const vpnr_bgp_event *ev,
	    void *user_data);
	/* Pre-formatted line, not NUL-terminated; no va_list in the ABI.
	 * subsys is "ike", "esp", "bgp", "dp", "uv" or "ctx".  Never
	 * carries key material. */
	void (*log_msg)(vpnr_ctx *ctx, int level, const char *subsys,
	    const char *msg, size_t len, void *user_data);
	/* New members are only ever appended (see VPNR_CALLBACKS_V*). */
} vpnr_callbacks;

#define VPNR_CALLBACKS_V1      1
#define VPNR_CALLBACKS_VERSION VPNR_CALLBACKS_V1

/* ------------------------------------------------------------------ */
/* Global configuration (opaque builder, copied into the context).     */

/** Returns VPNR_OK or VPNR_ERR_NOMEM; mem may be NULL. */
VPNR_API int vpnr_config_new(vpnr_config **pcfg, const vpnr_mem *mem);
/** NULL-safe. */
VPNR_API void vpnr_config_del(vpnr_config *cfg);
/** BGP identifier (host byte order); 0 = derive from first address. */
VPNR_API int vpnr_config_set_router_id(vpnr_config *cfg, uint32_t id);
/** Local AS for BGP (4-octet). */
VPNR_API int vpnr_config_set_local_as(vpnr_config *cfg, uint32_t asn);
/** Messages above level are dropped before formatting (default INFO). */
VPNR_API int vpnr_config_set_log_level(vpnr_config *cfg, int level);
/** UDP ports used for IKE and NAT-T (default 500 and 4500). */
VPNR_API int
vpnr_config_set_ike_ports(vpnr_config *cfg, uint16_t ike, uint16_t natt);
/**
 * Half-open IKE SAs (responder side, in the whole context) from which
 * on every IKE_SA_INIT must carry a COOKIE (RFC 7296 2.6).  Default 64;
 * 0 demands a cookie always.
 */
VPNR_API int
vpnr_config_set_cookie_threshold(vpnr_config *cfg, uint32_t half_open);
/**
 * The same per source address: once one address has cookie_after
 * half-open IKE SAs, its IKE_SA_INITs must carry a COOKIE (0: always);
 * once it has drop_after, they are dropped even with one, so that one
 * address never takes the whole budget.  Defaults 3 and 5 (strongSwan's
 * cookie_threshold_ip and block_threshold).  drop_after 1..1048576,
 * cookie_after <= drop_after, else VPNR_ERR_INVALID_ARGUMENT.  Refusals
 * are counted in vpnr_ike_stats.  Since 0.2.0.
 */
VPNR_API int vpnr_config_set_half_open_per_source(vpnr_config *cfg,
    uint32_t cookie_after, uint32_t drop_after);
/**
 * Hard cap on half-open IKE SAs in the context (default 4096, range
 * 1..1048576, else VPNR_ERR_INVALID_ARGUMENT): past it IKE_SA_INITs
 * are dropped until some complete or time out (30 s).  It bounds the
 * memory a flood from many addresses can take, per-source counts
 * included: about 3.1 KB per half-open SA, 13 MB at the default.
 * Since 0.2.0.
 */
VPNR_API int vpnr_config_set_half_open_limit(vpnr_config *cfg, uint32_t max);

/* ------------------------------------------------------------------ */
/* Context lifecycle                                                   */

/**
 * Create a context.  cfg (may be NULL for defaults), cb and dp are
 * copied; user_data goes to every callback, dp_data to every
 * data-plane op.  Returns VPNR_OK, VPNR_ERR_NOMEM or
 * VPNR_ERR_INVALID_ARGUMENT (unknown version).
 */
VPNR_API int vpnr_ctx_new_versioned(vpnr_ctx **pctx, const vpnr_config *cfg,
    int callbacks_version, const vpnr_callbacks *cb, void *user_data,
    int dataplane_version, const vpnr_dataplane *dp, void *dp_data,
    const vpnr_mem *mem);
/**
 * vpnr_ctx_new_versioned() without the version arguments.  The macro
 * passes VPNR_CALLBACKS_VERSION and VPNR_DATAPLANE_VERSION; the
 * exported function passes VPNR_CALLBACKS_V1 and VPNR_DATAPLANE_V1 for
 * ever (for bindings that call it by name).  Since 0.1.0.
 */
VPNR_API int vpnr_ctx_new(vpnr_ctx **pctx, const vpnr_config *cfg,
    const vpnr_callbacks *cb, void *user_data, const vpnr_dataplane *dp,
    void *dp_data, const vpnr_mem *mem);
#define vpnr_ctx_new(pctx, cfg, cb, ud, dp, dpd, mem) \
	vpnr_ctx_new_versioned((pctx), (cfg), VPNR_CALLBACKS_VERSION, (cb), \
	    (ud), VPNR_DATAPLANE_VERSION, (dp), (dpd), (mem))

/** Deletes every tunnel (IKE DELETE) and BGP peer (CEASE). */
VPNR_API int vpnr_ctx_shutdown(vpnr_ctx *ctx, vpnr_tstamp now);
/** Frees everything at once; NULL-safe.  Never from a callback. */
VPNR_API void vpnr_ctx_del(vpnr_ctx *ctx);
VPNR_API void *vpnr_ctx_get_user_data(const vpnr_ctx *ctx);
/** Text detail of the last error returned on this ctx, or "". */
VPNR_API const char *vpnr_ctx_last_error(const vpnr_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Driving the context (bring-your-own-loop mode).  All return VPNR_OK
 * or a negative error, and VPNR_ERR_IN_CALLBACK from a callback.      */

/**
 * One UDP datagram received on the IKE or NAT-T port (local->port says
 * which).  On the NAT-T port the non-ESP marker is stripped here; an
 * ESP packet returns VPNR_ERR_NOT_IKE (hand it to the data plane) and
 * a NAT keepalive returns VPNR_OK.  A malformed message is dropped,
 * counted and logged once: VPNR_ERR_MALFORMED.  So is a message of an
 * IKE major version above 2, after a request from a configured peer
 * was answered INVALID_MAJOR_VERSION (counted in vpnr_ike_stats).
 */
VPNR_API int vpnr_ctx_recv_datagram(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, vpnr_tstamp now);

#define VPNR_UDP_IKE       1
#define VPNR_UDP_ESP       2
#define VPNR_UDP_KEEPALIVE 3
/**
 * Classify a datagram received on the NAT-T port (RFC 3948): returns
 * VPNR_UDP_IKE (non-ESP marker), VPNR_UDP_ESP, VPNR_UDP_KEEPALIVE or
 * VPNR_ERR_MALFORMED.  Legal anywhere; touches no state.
 */
VPNR_API int vpnr_udp_classify(const uint8_t *data, size_t len);

/** A BGP TCP connection the host accepted; a transport id is returned.
 * *transport_id is written before any callback runs (our OPEN is sent
 * from inside this call), so pass the address of the field your
 * transport_send looks the socket up by; it is 0 again on failure. */
VPNR_API int vpnr_transport_accepted(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, uint64_t *transport_id, vpnr_tstamp now);
/** Outcome of transport_open: VPNR_OK or a negative error. */
VPNR_API int vpnr_transport_connected(vpnr_ctx *ctx, uint64_t transport_id,
    int status, vpnr_tstamp now);
/**
 * The local address the host's TCP stack chose for an outgoing
 * connection (getsockname after connect).  BGP uses it as next hop
 * when the peer has no configured local address.  Call it before or
 * right after vpnr_transport_connected().  Returns VPNR_OK,
 * VPNR_ERR_NOT_FOUND or VPNR_ERR_INVALID_ARGUMENT.  Not inside
 * callbacks.  Since 0.1.0.
 */
VPNR_API int vpnr_transport_set_local(vpnr_ctx *ctx, uint64_t transport_id,
    const vpnr_addr *local);
VPNR_API int vpnr_transport_recv(vpnr_ctx *ctx, uint64_t transport_id,
    const uint8_t *data, size_t len, vpnr_tstamp now);
/** The socket can take more bytes: call it after any partial write
 * (short or VPNR_ERR_WOULDBLOCK) of transport_send, also once the
 * library has closed the session, until transport_close comes. */
VPNR_API int
vpnr_transport_writable(vpnr_ctx *ctx, uint64_t transport_id, vpnr_tstamp now);
/** The peer closed or the connection failed; status is informative.
 * The library never calls transport_close for this id afterwards. */
VPNR_API int vpnr_transport_closed(vpnr_ctx *ctx, uint64_t transport_id,
    int status, vpnr_tstamp now);

/** Next deadline, or VPNR_TSTAMP_NEVER.  Legal inside callbacks. */
VPNR_API vpnr_tstamp vpnr_ctx_get_expiry(const vpnr_ctx *ctx);
/** Run every timer due at or before now. */
VPNR_API int vpnr_ctx_handle_expiry(vpnr_ctx *ctx, vpnr_tstamp now);

/* ------------------------------------------------------------------ */
/* IKEv2 tunnels                                                       */

#define VPNR_ID_IPV4_ADDR 1 /* RFC 7296 ID types */
#define VPNR_ID_FQDN      2
#define VPNR_ID_IPV6_ADDR 5
#define VPNR_ID_KEY_ID    11

#define VPNR_DPD_ACTION_CLEAR   1 /* delete the tunnel, stay down */
#define VPNR_DPD_ACTION_RESTART 2 /* delete, then initiate again */
#define VPNR_DPD_ACTION_NONE    3 /* only report the event */

VPNR_API int
vpnr_tunnel_config_new(vpnr_tunnel_config **ptc, const vpnr_mem *mem);
/** NULL-safe; wipes the PSK. */
VPNR_API void vpnr_tunnel_config_del(vpnr_tunnel_config *tc);
/** Outer addresses; ports 0 mean the context's IKE port. */
VPNR_API int vpnr_tunnel_config_set_addrs(vpnr_tunnel_config *tc,
    const vpnr_addr *local, const vpnr_addr *remote);
/** Pre-shared key (copied; wiped on del). */
VPNR_API int vpnr_tunnel_config_set_psk(vpnr_tunnel_config *tc,
    const uint8_t *psk, size_t len);
/**
 * Identities (VPNR_ID_* type and raw value: 4 or 16 address bytes, an
 * FQDN string or key-id bytes).  Default: the outer IP addresses.
 * remote_type 0 accepts any remote identity.
 */
VPNR_API int vpnr_tunnel_config_set_local_id(vpnr_tunnel_config *tc,
    uint8_t type, const uint8_t *value, size_t len);
VPNR_API int vpnr_tunnel_config_set_remote_id(vpnr_tunnel_config *tc,
    uint8_t type, const uint8_t *value, size_t len);
/**
 * strongSwan-style proposal strings, e.g. "aes256-sha1-modp1024",
 * "aes256gcm16-prfsha384-x25519" (IKE) or "aes256gcm16", "aes128-sha1"
 * and "aes256-sha256-modp2048" (ESP; a DH group enables PFS on
 * rekeys).  Several calls add several proposals in order.  An unknown
 * token returns VPNR_ERR_INVALID_ARGUMENT and names it in
 * vpnr_tunnel_config_last_error().  Defaults: aes256-sha256-modp2048
 * and aes256gcm16 / aes256-sha256.
 */
VPNR_API int vpnr_tunnel_config_add_ike_proposal(vpnr_tunnel_config *tc,
    const char *proposal);
VPNR_API int vpnr_tunnel_config_add_esp_proposal(vpnr_tunnel_config *tc,
    const char *proposal);
/** IKEv1 options (vpnr_tunnel_config_set_ike_version). */
#define VPNR_IKEV1_AGGRESSIVE 0x1 /* initiate Aggressive Mode */
#define VPNR_IKEV1_COMMIT     0x2 /* set the commit bit in Quick Mode */
/**
 * The IKE version a tunnel speaks: 2 (the default) or 1 (RFC 2409
 * Main Mode with a pre-shared key and Quick Mode, RFC 3706 DPD, RFC
 * 3947/3948 NAT-T).  flags (IKEv1 only, else 0): VPNR_IKEV1_AGGRESSIVE
 * initiates Aggressive Mode (a responder accepts it either way: the
 * peer's choice), VPNR_IKEV1_COMMIT sets the commit bit.  Call it
 * before adding proposals that only IKEv1 knows (3des, md5,
 * modp1536); proposals use the same syntax in both versions.  An
 * IKEv1 tunnel carries one local and one remote selector (Quick Mode
 * IDs): to reach several networks through one peer, add one tunnel
 * per pair; a responder picks the tunnel by the peer's address, then
 * its identity, then the Quick Mode IDs.  Its rekey times (set_rekey)
 * are the lifetimes it proposes; it rekeys at 90 % of the lifetime
 * agreed (minus jitter), make-before-break.  Returns VPNR_OK or
 * VPNR_ERR_INVALID_ARGUMENT.  Since 0.3.0.
 */
VPNR_API int vpnr_tunnel_config_set_ike_version(vpnr_tunnel_config *tc,
    uint32_t version, uint32_t flags);
/** Text of the last error on this builder, or "". */
VPNR_API const char *
vpnr_tunnel_config_last_error(const vpnr_tunnel_config *tc);
/** Traffic selectors; default 0.0.0.0/0 <-> 0.0.0.0/0 (route-based). */
VPNR_API int vpnr_tunnel_config_add_ts(vpnr_tunnel_config *tc,
    const vpnr_ts *local, const vpnr_ts *remote);
VPNR_API int
vpnr_tunnel_config_set_if_id(vpnr_tunnel_config *tc, uint32_t if_id);
/** DPD interval (0 disables; else 1 s to 3600 s; default 10 s) and
 * action on a dead peer.  The liveness timeout is left as it is (see
 * vpnr_tunnel_config_set_liveness).  VPNR_ERR_INVALID_ARGUMENT for an
 * unknown action or an interval out of range. */
VPNR_API int vpnr_tunnel_config_set_dpd(vpnr_tunnel_config *tc,
    vpnr_tstamp interval, uint32_t action);
/**
 * Liveness, separate from handshakes.  Proof of life is any
 * authenticated IKE message from the peer (request or response) and
 * inbound ESP seen through the data plane's sa_query (packets or
 * last_used advancing on an inbound SA): a busy tunnel sends no probe.
 * After interval without proof of life (0 disables liveness checks;
 * else 1 s to 3600 s; default 10 s) an empty INFORMATIONAL probes the
 * peer, retransmitted from 0.5 s, doubling, capped at timeout / 20
 * (at least 0.1 s), so that about 20 probes fit in timeout; when
 * nothing authenticated arrived for timeout (2 s to 3600 s; default
 * 20 s) after probing started, even while another request such as a
 * rekey is outstanding, the peer is declared dead: DOWN with
 * VPNR_ERR_DEAD_PEER, then the DPD action.  Defaults find a dead peer
 * within 30 s; a live but silent peer at 40 % loss each way answers
 * none of about 20 probes with probability 0.64^20 = 1.3e-4 per probe
 * round (a probe and its answer both arrive: 0.6 * 0.6).  Returns
 * VPNR_OK or VPNR_ERR_INVALID_ARGUMENT (NULL, or a value out of range;
 * nothing is changed).  Since 0.2.0.
 */
VPNR_API int vpnr_tunnel_config_set_liveness(vpnr_tunnel_config *tc,
    vpnr_tstamp interval, vpnr_tstamp timeout);
/**
 * Suspicion, for fast failover between tunnels (off by default).  A
 * tunnel that keeps sending ESP but hears nothing from the peer (no
 * inbound ESP, nothing authenticated over IKE) for after / 2 starts
 * its liveness probe at once rather than after the liveness interval
 * (RFC 3706's "worry").  If still nothing has come after `after`, with
 * the probe out for at least after / 2, the tunnel is suspect
 * (VPNR_TUNNEL_EV_SUSPECT): the paths of BGP peers bound to it
 * (vpnr_bgp_peer_config_set_tunnel) leave the data plane for every
 * prefix that has another usable path, and stay for the others, so
 * traffic moves to a healthy tunnel about `after` after the failure
 * without ending a session.  The first proof of life ends the
 * suspicion (VPNR_TUNNEL_EV_LIVE) and the paths are used again.  The
 * peer is declared dead only at the liveness timeout after the probe
 * started, as before.  A one-way flow over a live tunnel costs one
 * probe exchange every after / 2 or so and is never suspect unless
 * the probe goes unanswered.  Needs liveness checks on
 * (vpnr_tunnel_config_set_liveness interval != 0) and the data plane's
 * sa_query, polled every after / 4 while the tunnel has a CHILD_SA.
 * after: 0 (off) or 1 s to 60 s.  Returns VPNR_OK or
 * VPNR_ERR_INVALID_ARGUMENT (nothing changed).  Since 0.3.0.
 */
VPNR_API int
vpnr_tunnel_config_set_suspect(vpnr_tunnel_config *tc, vpnr_tstamp after);
/**
 * IKEv2, several connections to one peer: open this tunnel's CHILD_SA
 * inside the established IKE SA of a sibling tunnel (one to the same
 * peer with the same addresses, PSK and identities, as strongSwan does
 * for the children of one connection) rather than in an IKE SA of its
 * own.  Off by default: cloud gateways expect one IKE SA per
 * connection.  While a sibling's own IKE SA is connecting the tunnel
 * waits for it; with none, it makes its own, as when off.  A tunnel
 * riding a sibling's IKE SA reports UP and the sibling's IKE SPIs; its
 * CHILD_SAs are rekeyed and deleted
 * over that IKE SA and go with it (DOWN with the IKE SA's reason, or
 * VPNR_ERR_TUNNEL_DOWN when the sibling was closed here), after which
 * it follows its own reconnect policy.  As a responder the library
 * always accepts a peer's CREATE_CHILD_SA for a sibling's selectors
 * this way.  share: 0 or 1.  Returns VPNR_OK or
 * VPNR_ERR_INVALID_ARGUMENT.  Since 0.3.0.
 */
VPNR_API int
vpnr_tunnel_config_set_share_ike(vpnr_tunnel_config *tc, int share);
/**
 * Rekey times (0 = never) and the jitter subtracted at random (up to
 * jitter_percent of the time).  Defaults: IKE 4 h, CHILD 1 h, 10 %.
 */
VPNR_API int vpnr_tunnel_config_set_rekey(vpnr_tunnel_config *tc,
    vpnr_tstamp ike_rekey, vpnr_tstamp child_rekey, uint32_t jitter_percent);
/** CHILD_SA byte/packet lifetimes handed to the data plane (0 = none). */
VPNR_API int vpnr_tunnel_config_set_child_lifetime(vpnr_tunnel_config *tc,
    const vpnr_lifetime *soft, const vpnr_lifetime *hard);
/**
 * The peer's UDP ports, kept apart from its address (a later
 * _set_addrs() does not change them): IKE (0 = the port given to
 * _set_addrs(), else the context's IKE port, 500 by default) and NAT-T
 * (0 = 4500 when the peer's IKE port is 500, whatever our own NAT-T
 * port is; else the context's NAT-T port, for a peer set up like us).
 * The float to NAT-T (RFC 7296 2.23) goes from our NAT-T port to the
 * peer's.  Returns VPNR_OK or VPNR_ERR_INVALID_ARGUMENT.  Since 0.1.0.
 */
VPNR_API int vpnr_tunnel_config_set_peer_ports(vpnr_tunnel_config *tc,
    uint16_t ike, uint16_t natt);
/** Always use UDP encapsulation, as if behind NAT (default off). */
VPNR_API int vpnr_tunnel_config_set_force_encap(vpnr_tunnel_config *tc, int on);
/** Anti-replay window in packets for inbound SAs (default 1024). */
VPNR_API int
vpnr_tunnel_config_set_replay_window(vpnr_tunnel_config *tc, uint32_t packets);
/** Retransmission of handshakes: first timeout, tries (default 1 s
 * doubling, 7).  A connection attempt's timeout stops doubling at 4 s
 * (or at first, if larger), so that it ends in about 27 s and the
 * reconnect backoff cycles.  Once established, with liveness checks
 * on, a request's timeout stops doubling at 8 s and it never gives up
 * by count: the liveness checks find a silent peer. */
VPNR_API int vpnr_tunnel_config_set_retransmit(vpnr_tunnel_config *tc,
    vpnr_tstamp first, uint32_t tries);

/** Adds a tunnel (responder-ready at once).  tc is copied. */
VPNR_API int vpnr_tunnel_add(vpnr_ctx *ctx, const vpnr_tunnel_config *tc,
    void *tunnel_user_data, uint64_t *tunnel_id);
/** Start IKE_SA_INIT.  Allowed inside callbacks (queues). */
VPNR_API int
vpnr_tunnel_initiate(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
/** Send DELETE and tear down: DOWN and CHILD_DOWN report
 * VPNR_ERR_LOCAL_CLOSE, and the tunnel stays down until the next
 * vpnr_tunnel_initiate (no reconnect).  Allowed inside callbacks
 * (queues). */
VPNR_API int
vpnr_tunnel_close(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
/** Close (best-effort DELETE) and forget the tunnel.  A tunnel not
 * idle reports CHILD_DOWN and DOWN with VPNR_ERR_LOCAL_CLOSE first, as
 * a close does (since 0.2.0; before, IKEv2 tunnels reported no DOWN).
 * Allowed inside callbacks (queued; the id is refused from then on). */
VPNR_API int
vpnr_tunnel_del(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);

#define VPNR_REKEY_CHILD 1
#define VPNR_REKEY_IKE   2
/** Rekey now (operator command or test).  Allowed inside callbacks. */
VPNR_API int vpnr_tunnel_rekey(vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t what,
    vpnr_tstamp now);

#define VPNR_TUNNEL_IDLE        0
#define VPNR_TUNNEL_CONNECTING  1
#define VPNR_TUNNEL_ESTABLISHED 2
#define VPNR_TUNNEL_CLOSING     3

typedef struct vpnr_tunnel_info {
	uint32_t state; /* VPNR_TUNNEL_* */
	uint32_t n_child_sa;
	vpnr_addr local; /* current, after NAT-T port float */
	vpnr_addr remote;
	vpnr_tstamp established_at;
	uint64_t ike_rekeys;
	uint64_t child_rekeys;
	uint64_t spi_i; /* IKE SPIs, host byte order */
	uint64_t spi_r;
	uint32_t child_spi_in; /* current CHILD_SA pair, or 0 */
	uint32_t child_spi_out;
	uint16_t ike_encr, ike_encr_bits, ike_prf, ike_integ, ike_dh;
	uint16_t esp_encr, esp_encr_bits, esp_integ, esp_dh;
	uint16_t nat_flags; /* 1 local behind NAT, 2 remote, 4 forced */
	int32_t last_error; /* reason of the last failure, or 0 */
	uint64_t retransmits;
	uint64_t malformed; /* dropped messages for this tunnel */
} vpnr_tunnel_info;
#define VPNR_TUNNEL_INFO_V1      1
#define VPNR_TUNNEL_INFO_VERSION VPNR_TUNNEL_INFO_V1

/**
 * Snapshot of a tunnel into info, a struct of version info_version:
 * exactly the bytes of that version are written.  Returns VPNR_OK,
 * VPNR_ERR_NOT_FOUND or VPNR_ERR_INVALID_ARGUMENT (NULL, or a version
 * newer than the library's).  Legal inside callbacks.
 */
VPNR_API int vpnr_tunnel_get_info_versioned(const vpnr_ctx *ctx,
    uint64_t tunnel_id, int info_version, vpnr_tunnel_info *info);
/** The macro passes VPNR_TUNNEL_INFO_VERSION, the exported function
 * VPNR_TUNNEL_INFO_V1.  Since 0.1.0. */
VPNR_API int vpnr_tunnel_get_info(const vpnr_ctx *ctx, uint64_t tunnel_id,
    vpnr_tunnel_info *info);
#define vpnr_tunnel_get_info(ctx, id, info) \
	vpnr_tunnel_get_info_versioned((ctx), (id), VPNR_TUNNEL_INFO_VERSION, \
	    (info))

/*
 * Context-wide IKE counters: the responder's half-open SAs and every
 * IKE message refused before any state was made.  Since 0.2.0.
 */
typedef struct vpnr_ike_stats {
	uint32_t half_open;          /* responder IKE SAs before IKE_AUTH */
	uint32_t half_open_sources;  /* addresses with at least one */
	uint64_t cookies_sent;       /* IKE_SA_INITs answered with a COOKIE */
	uint64_t refused_per_source; /* dropped: that address's limit */
	uint64_t refused_limit;      /* dropped: the context's limit */
	/* Requests (any exchange) refused for an unknown critical payload,
	 * answered UNSUPPORTED_CRITICAL_PAYLOAD. */
	uint64_t refused_critical;
	/* Messages of a major version above 2 (requests are answered
	 * INVALID_MAJOR_VERSION, responses dropped). */
	uint64_t refused_version;
	/* Unauthenticated error answers not sent: over the rate limit
	 * (100 per second). */
	uint64_t notifies_rate_limited;
	uint64_t malformed; /* IKE messages dropped as malformed */
} vpnr_ike_stats;
#define VPNR_IKE_STATS_V1      1
#define VPNR_IKE_STATS_VERSION VPNR_IKE_STATS_V1

/**
 * Snapshot of the IKE counters into stats, a struct of version
 * stats_version (exactly its bytes are written; all zero before the
 * first tunnel).  Returns VPNR_OK or VPNR_ERR_INVALID_ARGUMENT (NULL,
 * or a version newer than the library's).  Legal inside callbacks.
 * Since 0.2.0.
 */
VPNR_API int vpnr_ike_get_stats_versioned(const vpnr_ctx *ctx,
    int stats_version, vpnr_ike_stats *stats);
/** The macro passes VPNR_IKE_STATS_VERSION, the exported function
 * VPNR_IKE_STATS_V1.  Since 0.2.0. */
VPNR_API int vpnr_ike_get_stats(const vpnr_ctx *ctx, vpnr_ike_stats *stats);
#define vpnr_ike_get_stats(ctx, stats) \
	vpnr_ike_get_stats_versioned((ctx), VPNR_IKE_STATS_VERSION, (stats))

/* ------------------------------------------------------------------ */
/* eBGP (control API modelled on GoBGP AddPeer/AddPath/ListPath).      */

/*
 * Peer configuration builder.  Defaults: hold 90 s / keepalive 30 s,
 * ConnectRetry 30 s, TTL 1, IPv4 and IPv6 unicast, graceful-restart
 * helper on, no import and no export (RFC 8212).  Setters return
 * VPNR_OK or VPNR_ERR_INVALID_ARGUMENT, copy what they are given and
 * are legal anywhere (they touch only the builder).
 */
/** Returns VPNR_OK or VPNR_ERR_NOMEM; mem may be NULL (libc). */
VPNR_API int
vpnr_bgp_peer_config_new(vpnr_bgp_peer_config **ppc, const vpnr_mem *mem);
/** NULL-safe; wipes the TCP-MD5 key. */
VPNR_API void vpnr_bgp_peer_config_del(vpnr_bgp_peer_config *pc);
/** Peer address (port 0 = 179) and AS (4-octet); required. */
VPNR_API int vpnr_bgp_peer_config_set_remote(vpnr_bgp_peer_config *pc,
    const vpnr_addr *addr, uint32_t remote_as);
/** Update-source: our address for the session, also the next hop
 * advertised for its family.  Family 0 = let the host choose. */
VPNR_API int
vpnr_bgp_peer_config_set_local(vpnr_bgp_peer_config *pc, const vpnr_addr *addr);
/**
 * Hold time offered in OPEN (0, or >= 3) and keepalive interval (0 =
 * hold / 3).  The session uses the smaller hold time of the two OPENs
 * and a keepalive of at most a third of it (RFC 4271 4.2).
 */
VPNR_API int vpnr_bgp_peer_config_set_timers(vpnr_bgp_peer_config *pc,
    uint16_t hold_s, uint16_t keepalive_s);
/** RFC 2385 TCP-MD5 key (up to 80 bytes; copied, wiped on del), handed
 * to transport_open; len 0 removes it. */
VPNR_API int vpnr_bgp_peer_config_set_md5(vpnr_bgp_peer_config *pc,
    const uint8_t *key, size_t len);
/** Inbound prefix limit (0 = none); see ..._set_max_prefix_action(). */
VPNR_API int
vpnr_bgp_peer_config_set_max_prefix(vpnr_bgp_peer_config *pc, uint32_t max);
/** Run the session over this tunnel (starts when its CHILD_SA is up;
 * what happens when it goes: vpnr_bgp_peer_config_set_tunnel_down()). */
VPNR_API int
vpnr_bgp_peer_config_set_tunnel(vpnr_bgp_peer_config *pc, uint64_t tunnel_id);

/**
 * Add a peer (disabled; pc is copied).  Returns VPNR_OK,
 * VPNR_ERR_INVALID_ARGUMENT (no remote address/AS), VPNR_ERR_INVALID_STATE
 * (no local AS in the context config), VPNR_ERR_UNSUPPORTED (iBGP),
 * VPNR_ERR_EXISTS (address already a peer), VPNR_ERR_NOMEM or
 * VPNR_ERR_IN_CALLBACK.
 */
VPNR_API int vpnr_bgp_peer_add(vpnr_ctx *ctx, const vpnr_bgp_peer_config *pc,
    void *peer_user_data, uint64_t *peer_id);
/**
 * Start (connect, or wait for the peer when passive; a peer bound to a
 * tunnel waits for its CHILD_SA) or stop (Cease/Administrative
 * Shutdown; its routes are withdrawn).  Enabling also clears a
 * max-prefix teardown.  Allowed inside callbacks (queued).  Returns
 * VPNR_OK or VPNR_ERR_NOT_FOUND.
 */
VPNR_API int vpnr_bgp_peer_enable(vpnr_ctx *ctx, uint64_t peer_id, int enable,
    vpnr_tstamp now);
/** Stop (Cease/Peer De-configured) and forget the peer; its routes are
 * withdrawn.  Allowed inside callbacks (queued).  VPNR_ERR_NOT_FOUND. */
VPNR_API int
vpnr_bgp_peer_del(vpnr_ctx *ctx, uint64_t peer_id, vpnr_tstamp now);

/*
 * Path attributes: handed in (vpnr_bgp_path_add_versioned, versioned
 * by VPNR_PATH_ATTRS_V*) and out (vpnr_bgp_rib_walk, by pointer).
 * reserved must be zero on input (else VPNR_ERR_INVALID_ARGUMENT) and
 * is zero on output, so later versions can give it a meaning.
 *
 * as_path, n_as_path and origin (since 0.1.0, carved from reserved
 * space, so still VPNR_PATH_ATTRS_V1) are output only: filled by
 * vpnr_bgp_rib_walk, they must be zero/NULL on input to
 * vpnr_bgp_path_add (else VPNR_ERR_INVALID_ARGUMENT; our own paths
 * start with an empty AS path and ORIGIN IGP).  as_path lists the
 * ASNs (4-octet) of the AS_PATH in wire order, nearest AS first:
 * every segment's members in turn; the members of an AS_SET are
 * appended in received order where the set stands, not marked as a
 * set, so n_as_path may exceed the path length the decision process
 * counts (a set counts 1).  In VPNR_RIB_ADJ_OUT it is the path as
 * sent, our AS (and its prepends) first.  as_path is NULL when
 * n_as_path is 0 and valid only during the callback.
 */
typedef struct vpnr_path_attrs {
	vpnr_addr nexthop;
	uint32_t med;
	uint32_t flags;              /* VPNR_PATH_F_* below */
	const uint32_t *communities; /* RFC 1997 values */
	size_t n_communities;
	const uint32_t *as_path; /* output only, see above */
	size_t n_as_path;
	uint32_t origin; /* output only: VPNR_ORIGIN_* */
	uint32_t reserved32;
	uint64_t reserved[1];
} vpnr_path_attrs;
#define VPNR_PATH_F_HAS_MED     0x01
#define VPNR_PATH_ATTRS_V1      1 /* since 0.1.0 */
#define VPNR_PATH_ATTRS_VERSION VPNR_PATH_ATTRS_V1
/* ORIGIN codes in vpnr_path_attrs.origin, as on the wire (RFC 4271). */
#define VPNR_ORIGIN_IGP        0
#define VPNR_ORIGIN_EGP        1
#define VPNR_ORIGIN_INCOMPLETE 2

/**
 * Originate prefix (host bits are cleared) with ORIGIN IGP, an empty
 * AS path and attrs (may be NULL; nexthop family 0 = next-hop-self,
 * MED only with VPNR_PATH_F_HAS_MED, communities copied).  A second
 * add for the same prefix replaces the first (whose id becomes
 * invalid).  UPDATEs for many adds in a row are packed together at
 * the next vpnr_ctx_handle_expiry().  Returns VPNR_OK and *path_id,
 * VPNR_ERR_INVALID_ARGUMENT, VPNR_ERR_LIMIT (too many communities, or
 * 16,777,216 paths already), VPNR_ERR_NOMEM or VPNR_ERR_IN_CALLBACK.
 */
VPNR_API int vpnr_bgp_path_add_versioned(vpnr_ctx *ctx,
    const vpnr_prefix *prefix, int attrs_version, const vpnr_path_attrs *attrs,
    uint64_t *path_id, vpnr_tstamp now);
/** The macro passes VPNR_PATH_ATTRS_VERSION, the exported function
 * VPNR_PATH_ATTRS_V1.  Since 0.1.0. */
VPNR_API int vpnr_bgp_path_add(vpnr_ctx *ctx, const vpnr_prefix *prefix,
    const vpnr_path_attrs *attrs, uint64_t *path_id, vpnr_tstamp now);
#define vpnr_bgp_path_add(ctx, prefix, attrs, path_id, now) \
	vpnr_bgp_path_add_versioned((ctx), (prefix), VPNR_PATH_ATTRS_VERSION, \
	    (attrs), (path_id), (now))
/** Withdraw a path added with vpnr_bgp_path_add().  VPNR_ERR_NOT_FOUND,
 * VPNR_ERR_IN_CALLBACK. */
VPNR_API int
vpnr_bgp_path_del(vpnr_ctx *ctx, uint64_t path_id, vpnr_tstamp now);

#define VPNR_RIB_ADJ_IN  1
#define VPNR_RIB_LOC     2
#define VPNR_RIB_ADJ_OUT 3

/**
 * Synchronous walk; return non-zero from cb to stop early.
 * VPNR_RIB_ADJ_IN: what peer_id sent (after import policy);
 * VPNR_RIB_LOC: the best path and its multipath (ECMP) companions for
 * every prefix (peer_id 0 = all, else only that peer's); cb's peer_id
 * is 0 for our own paths.  VPNR_RIB_ADJ_OUT: what was advertised to
 * peer_id.  cb must not drive the context.  Returns VPNR_OK,
 * VPNR_ERR_INVALID_ARGUMENT, VPNR_ERR_NOT_FOUND (peer) or
 * VPNR_ERR_NOMEM (its AS path scratch buffer, 8 KiB per walk).
 */
VPNR_API int vpnr_bgp_rib_walk(vpnr_ctx *ctx, int rib, uint64_t peer_id,
    int (*cb)(const vpnr_prefix *prefix, const vpnr_path_attrs *attrs,
	uint64_t peer_id, void *arg),
    void *arg);

/*
 * BGP peer policy and session options (since 0.1.0).  All builder
 * setters return VPNR_OK or VPNR_ERR_INVALID_ARGUMENT, touch only the
 * builder (copied by vpnr_bgp_peer_add) and are legal anywhere.
 */

/* RFC 8212: nothing is imported or exported without an explicit
 * policy.  Defaults: VPNR_BGP_IMPORT_NONE, VPNR_BGP_EXPORT_NONE. */
#define VPNR_BGP_IMPORT_NONE  0
#define VPNR_BGP_IMPORT_ALL   1 /* every path that passes the prefix list */
#define VPNR_BGP_EXPORT_NONE  0
#define VPNR_BGP_EXPORT_LOCAL 1 /* only paths added with vpnr_bgp_path_add */
#define VPNR_BGP_EXPORT_ALL   2 /* local and learned (transit!) */
/** Import and export policy (see above). */
VPNR_API int vpnr_bgp_peer_config_set_policy(vpnr_bgp_peer_config *pc,
    uint32_t import_policy, uint32_t export_policy);

#define VPNR_BGP_DIR_IN  1
#define VPNR_BGP_DIR_OUT 2
/**
 * Append an entry to the inbound or outbound prefix list: prefix with
 * lengths ge..le (0 = the prefix length; le 0 = ge), permit or deny.
 * First match wins; a configured list denies what matches nothing.
 * Up to 256 entries per direction (VPNR_ERR_LIMIT); VPNR_ERR_NOMEM.
 */
VPNR_API int
vpnr_bgp_peer_config_add_prefix_list(vpnr_bgp_peer_config *pc, uint32_t dir,
    const vpnr_prefix *prefix, uint8_t ge, uint8_t le, int permit);

#define VPNR_BGP_MAXPFX_WARN     1 /* VPNR_BGP_EV_PREFIX_LIMIT, keep going */
#define VPNR_BGP_MAXPFX_TEARDOWN 2 /* + CEASE/1 (RFC 4486); the default */
/**
 * What vpnr_bgp_peer_config_set_max_prefix() does when the limit is
 * exceeded; with TEARDOWN the session restarts after restart_s seconds
 * (0 = stays down until vpnr_bgp_peer_enable()).
 */
VPNR_API int
vpnr_bgp_peer_config_set_max_prefix_action(vpnr_bgp_peer_config *pc,
    uint32_t action, uint32_t restart_s);
/**
 * Outbound prefix budget (the clouds' caps: Azure 4000, AWS 100 per
 * table ...): at most max prefixes are advertised; the rest are held
 * back and one VPNR_BGP_EV_PREFIX_LIMIT event (afi_safi 0x80 | family,
 * reason VPNR_ERR_LIMIT) is raised.  With max >= 10, reaching 90 % of
 * it raises one such event with reason VPNR_OK first (and logs a
 * warning), once per session.  0 = unlimited.
 */
VPNR_API int
vpnr_bgp_peer_config_set_out_budget(vpnr_bgp_peer_config *pc, uint32_t max);
/** Multihop eBGP: outgoing TTL (default 1 = directly connected). */
VPNR_API int
vpnr_bgp_peer_config_set_multihop(vpnr_bgp_peer_config *pc, uint8_t ttl);
/** Never connect; only accept the peer's connection (default off). */
VPNR_API int
vpnr_bgp_peer_config_set_passive(vpnr_bgp_peer_config *pc, int passive);
/**
 * Export transforms: prepend our AS prepend extra times (0..16),
 * remove private ASNs (RFC 6996) from learned paths, set MED (else
 * MED is not passed on, except on our own paths).  The next hop is
 * ours (eBGP next-hop-self): the address set with
 * vpnr_bgp_peer_config_set_nexthop() for that family, else the
 * session's local address.
 */
VPNR_API int vpnr_bgp_peer_config_set_export(vpnr_bgp_peer_config *pc,
    uint8_t prepend, int remove_private_as, int set_med, uint32_t med);
/** Refuse (treat as withdrawn) paths carrying private ASNs beyond the
 * neighbor AS (default off: the clouds use private ASNs). */
VPNR_API int
vpnr_bgp_peer_config_set_private_as_check(vpnr_bgp_peer_config *pc, int reject);
#define VPNR_BGP_FAM_IPV4 1
#define VPNR_BGP_FAM_IPV6 2
/** Address families offered (MP-BGP, RFC 4760); default both. */
VPNR_API int
vpnr_bgp_peer_config_set_families(vpnr_bgp_peer_config *pc, uint32_t mask);
/** Graceful-restart helper (RFC 4724): keep the peer's routes while it
 * restarts, for the families it preserves; default on. */
VPNR_API int
vpnr_bgp_peer_config_set_graceful_restart(vpnr_bgp_peer_config *pc, int helper);
/**
 * ConnectRetry time (default 30 s) and send-hold time (RFC 9687; a
 * peer that does not read for that long is dropped; 0 = max(2 x hold,
 * 8 min)).
 */
VPNR_API int vpnr_bgp_peer_config_set_connect_timers(vpnr_bgp_peer_config *pc,
    uint16_t connect_retry_s, uint16_t send_hold_s);
/**
 * The next hop advertised for one family (nh's family): e.g. an IPv6
 * address for IPv6 routes over an IPv4 session.  Default: the
 * session's local address for its own family.
 */
VPNR_API int
vpnr_bgp_peer_config_set_nexthop(vpnr_bgp_peer_config *pc, const vpnr_addr *nh);
/** Compare MED across neighbor ASes (default off). */
VPNR_API int
vpnr_bgp_peer_config_set_always_compare_med(vpnr_bgp_peer_config *pc, int on);

#define VPNR_BGP_TUNNEL_DOWN_RESET 1 /* close the session; the default */
#define VPNR_BGP_TUNNEL_DOWN_HOLD  2 /* keep it while the hold timer runs */
/**
 * What a peer bound to a tunnel (vpnr_bgp_peer_config_set_tunnel()) does
 * when the tunnel's last CHILD_SA goes.  In both modes the routes learned
 * from the peer leave the data plane within the call that reports the
 * tunnel down (route_del), and the best path is chosen again, so that
 * another peer's path (an ECMP member or a backup) is installed in that
 * same call.  Peers not bound to that tunnel are not touched.
 *
 * VPNR_BGP_TUNNEL_DOWN_RESET (default): the session is closed
 * (Cease/Administrative Reset; VPNR_BGP_EV_DOWN and last_reason
 * VPNR_ERR_TUNNEL_DOWN) and starts again when the tunnel is back.
 *
 * VPNR_BGP_TUNNEL_DOWN_HOLD: an Established session is kept for as long
 * as its hold timer allows (with a negotiated hold time of 0, until the
 * connection closes).  Its paths stay in the Adj-RIB-In but are not
 * used (VPNR_BGP_EV_TUNNEL_DOWN).  When the tunnel is back before the
 * hold timer expires they are used and installed again without a new
 * session (VPNR_BGP_EV_TUNNEL_UP); when it expires first the session
 * goes down as usual (VPNR_ERR_TIMEOUT), and no route_del is repeated.
 * What we advertise to the peer follows our best paths as always.  A
 * session not yet Established is closed as with RESET.
 *
 * Graceful restart (RFC 4724 helper mode) is not applied to a tunnel
 * going down: the routes go at once in both modes.  Returns VPNR_OK or
 * VPNR_ERR_INVALID_ARGUMENT (pc NULL, or mode not one of the two).
 * Since 0.2.0.
 */
VPNR_API int
vpnr_bgp_peer_config_set_tunnel_down(vpnr_bgp_peer_config *pc, uint32_t mode);

#define VPNR_BGP_STATE_IDLE        0
#define VPNR_BGP_STATE_CONNECT     1
#define VPNR_BGP_STATE_ACTIVE      2
#define VPNR_BGP_STATE_OPENSENT    3
#define VPNR_BGP_STATE_OPENCONFIRM 4
#define VPNR_BGP_STATE_ESTABLISHED 5

/* A "show bgp summary" line. */
typedef struct vpnr_bgp_peer_info {
	uint32_t state; /* VPNR_BGP_STATE_* */
	uint32_t remote_as;
	vpnr_addr remote;
	uint32_t peer_router_id;
	uint16_t hold_s; /* negotiated */
	uint16_t keepalive_s;
	uint32_t families; /* negotiated VPNR_BGP_FAM_* */
	uint32_t reserved0;
	vpnr_tstamp established_at;
	uint32_t pfx_received_v4, pfx_received_v6;
	uint32_t pfx_accepted_v4, pfx_accepted_v6;
	uint32_t pfx_sent_v4, pfx_sent_v6;
	uint64_t msgs_in, msgs_out, updates_in, updates_out;
	uint64_t malformed;         /* UPDATEs with errors */
	uint64_t treat_as_withdraw; /* of which treated as withdraw */
	uint32_t flaps;
	int32_t last_reason; /* VPNR_ERR_* of the last down */
	uint8_t last_notif_code, last_notif_subcode;
	uint8_t reserved[6];
} vpnr_bgp_peer_info;
#define VPNR_BGP_PEER_INFO_V1      1
#define VPNR_BGP_PEER_INFO_VERSION VPNR_BGP_PEER_INFO_V1

/**
 * Snapshot of a peer into info, a struct of version info_version (any
 * version up to VPNR_BGP_PEER_INFO_VERSION; exactly its bytes are
 * written).  VPNR_ERR_NOT_FOUND, VPNR_ERR_INVALID_ARGUMENT.  Legal
 * inside callbacks.
 */
VPNR_API int vpnr_bgp_peer_get_info_versioned(const vpnr_ctx *ctx,
    uint64_t peer_id, int info_version, vpnr_bgp_peer_info *info);
/** The macro passes VPNR_BGP_PEER_INFO_VERSION, the exported function
 * VPNR_BGP_PEER_INFO_V1.  Since 0.1.0. */
VPNR_API int vpnr_bgp_peer_get_info(const vpnr_ctx *ctx, uint64_t peer_id,
    vpnr_bgp_peer_info *info);
#define vpnr_bgp_peer_get_info(ctx, id, info) \
	vpnr_bgp_peer_get_info_versioned((ctx), (id), \
	    VPNR_BGP_PEER_INFO_VERSION, (info))

#ifdef __cplusplus
}
#endif

/*
 * Layout pinned for 64-bit targets (LP64/LLP64): every member at its
 * offset, right after the previous one (no implicit padding), and the
 * size ends with the last member.  A change here is an ABI break.
 */
#if defined(UINTPTR_MAX) && UINTPTR_MAX > 0xffffffffu && SIZE_MAX > 0xffffffffu
VPNR_LAYOUT_FIRST(vpnr_info, age);
VPNR_LAYOUT_NEXT(vpnr_info, age, version_num, 4);
VPNR_LAYOUT_NEXT(vpnr_info, version_num, version_str, 8);
VPNR_LAYOUT_NEXT(vpnr_info, version_str, crypto_str, 16);
VPNR_LAYOUT_SIZE(vpnr_info, crypto_str, 24);
VPNR_LAYOUT_FIRST(vpnr_addr, family);
VPNR_LAYOUT_NEXT(vpnr_addr, family, reserved, 1);
VPNR_LAYOUT_NEXT(vpnr_addr, reserved, port, 2);
VPNR_LAYOUT_NEXT(vpnr_addr, port, scope_id, 4);
VPNR_LAYOUT_NEXT(vpnr_addr, scope_id, bytes, 8);
VPNR_LAYOUT_SIZE(vpnr_addr, bytes, 24);
VPNR_LAYOUT_FIRST(vpnr_prefix, addr);
VPNR_LAYOUT_NEXT(vpnr_prefix, addr, len, 24);
VPNR_LAYOUT_NEXT(vpnr_prefix, len, reserved, 25);
VPNR_LAYOUT_SIZE(vpnr_prefix, reserved, 28);
VPNR_LAYOUT_FIRST(vpnr_ts, ip_proto);
VPNR_LAYOUT_NEXT(vpnr_ts, ip_proto, reserved, 1);
VPNR_LAYOUT_NEXT(vpnr_ts, reserved, port_start, 2);
VPNR_LAYOUT_NEXT(vpnr_ts, port_start, port_end, 4);
VPNR_LAYOUT_NEXT(vpnr_ts, port_end, reserved2, 6);
VPNR_LAYOUT_NEXT(vpnr_ts, reserved2, addr_start, 8);
VPNR_LAYOUT_NEXT(vpnr_ts, addr_start, addr_end, 32);
VPNR_LAYOUT_SIZE(vpnr_ts, addr_end, 56);
VPNR_LAYOUT_FIRST(vpnr_mem, user_data);
VPNR_LAYOUT_NEXT(vpnr_mem, user_data, alloc_fn, 8);
VPNR_LAYOUT_NEXT(vpnr_mem, alloc_fn, zalloc_fn, 16);
VPNR_LAYOUT_NEXT(vpnr_mem, zalloc_fn, realloc_fn, 24);
VPNR_LAYOUT_NEXT(vpnr_mem, realloc_fn, free_fn, 32);
VPNR_LAYOUT_SIZE(vpnr_mem, free_fn, 40);
VPNR_LAYOUT_FIRST(vpnr_lifetime, bytes);
VPNR_LAYOUT_NEXT(vpnr_lifetime, bytes, packets, 8);
VPNR_LAYOUT_NEXT(vpnr_lifetime, packets, seconds, 16);
VPNR_LAYOUT_SIZE(vpnr_lifetime, seconds, 24);
VPNR_LAYOUT_FIRST(vpnr_child_sa, sa_id);
VPNR_LAYOUT_NEXT(vpnr_child_sa, sa_id, tunnel_id, 8);
VPNR_LAYOUT_NEXT(vpnr_child_sa, tunnel_id, tunnel_user_data, 16);
VPNR_LAYOUT_NEXT(vpnr_child_sa, tunnel_user_data, spi, 24);
VPNR_LAYOUT_NEXT(vpnr_child_sa, spi, protocol, 28);
VPNR_LAYOUT_NEXT(vpnr_child_sa, protocol, direction, 29);
VPNR_LAYOUT_NEXT(vpnr_child_sa, direction, flags, 30);
VPNR_LAYOUT_NEXT(vpnr_child_sa, flags, src, 32);
VPNR_LAYOUT_NEXT(vpnr_child_sa, src, dst, 56);
VPNR_LAYOUT_NEXT(vpnr_child_sa, dst, encr_id, 80);
VPNR_LAYOUT_NEXT(vpnr_child_sa, encr_id, encr_key_bits, 82);
VPNR_LAYOUT_NEXT(vpnr_child_sa, encr_key_bits, integ_id, 84);
VPNR_LAYOUT_NEXT(vpnr_child_sa, integ_id, reserved, 86);
VPNR_LAYOUT_NEXT(vpnr_child_sa, reserved, encr_key, 88);
VPNR_LAYOUT_NEXT(vpnr_child_sa, encr_key, encr_key_len, 96);
VPNR_LAYOUT_NEXT(vpnr_child_sa, encr_key_len, integ_key, 104);
VPNR_LAYOUT_NEXT(vpnr_child_sa, integ_key, integ_key_len, 112);
VPNR_LAYOUT_NEXT(vpnr_child_sa, integ_key_len, replay_window, 120);
VPNR_LAYOUT_NEXT(vpnr_child_sa, replay_window, if_id, 124);
VPNR_LAYOUT_NEXT(vpnr_child_sa, if_id, soft, 128);
VPNR_LAYOUT_NEXT(vpnr_child_sa, soft, hard, 152);
VPNR_LAYOUT_NEXT(vpnr_child_sa, hard, ts_local, 176);
VPNR_LAYOUT_NEXT(vpnr_child_sa, ts_local, n_ts_local, 184);
VPNR_LAYOUT_NEXT(vpnr_child_sa, n_ts_local, ts_remote, 192);
VPNR_LAYOUT_NEXT(vpnr_child_sa, ts_remote, n_ts_remote, 200);
VPNR_LAYOUT_SIZE(vpnr_child_sa, n_ts_remote, 208);
VPNR_LAYOUT_FIRST(vpnr_policy, policy_id);
VPNR_LAYOUT_NEXT(vpnr_policy, policy_id, tunnel_id, 8);
VPNR_LAYOUT_NEXT(vpnr_policy, tunnel_id, direction, 16);
VPNR_LAYOUT_NEXT(vpnr_policy, direction, reserved, 17);
VPNR_LAYOUT_NEXT(vpnr_policy, reserved, priority, 20);
VPNR_LAYOUT_NEXT(vpnr_policy, priority, out_sa_id, 24);
VPNR_LAYOUT_NEXT(vpnr_policy, out_sa_id, ts_local, 32);
VPNR_LAYOUT_NEXT(vpnr_policy, ts_local, ts_remote, 88);
VPNR_LAYOUT_NEXT(vpnr_policy, ts_remote, if_id, 144);
VPNR_LAYOUT_NEXT(vpnr_policy, if_id, reserved2, 148);
VPNR_LAYOUT_SIZE(vpnr_policy, reserved2, 152);
VPNR_LAYOUT_FIRST(vpnr_route, prefix);
VPNR_LAYOUT_NEXT(vpnr_route, prefix, nexthop, 28);
VPNR_LAYOUT_NEXT(vpnr_route, nexthop, if_id, 52);
VPNR_LAYOUT_NEXT(vpnr_route, if_id, flags, 56);
VPNR_LAYOUT_NEXT(vpnr_route, flags, metric, 60);
VPNR_LAYOUT_NEXT(vpnr_route, metric, reserved, 64);
VPNR_LAYOUT_NEXT(vpnr_route, reserved, reserved2, 68);
VPNR_LAYOUT_NEXT(vpnr_route, reserved2, peer_id, 72);
VPNR_LAYOUT_NEXT(vpnr_route, peer_id, tunnel_id, 80);
VPNR_LAYOUT_SIZE(vpnr_route, tunnel_id, 88);
VPNR_LAYOUT_FIRST(vpnr_dataplane, get_spi);
VPNR_LAYOUT_NEXT(vpnr_dataplane, get_spi, sa_add, 8);
VPNR_LAYOUT_NEXT(vpnr_dataplane, sa_add, sa_del, 16);
VPNR_LAYOUT_NEXT(vpnr_dataplane, sa_del, policy_add, 24);
VPNR_LAYOUT_NEXT(vpnr_dataplane, policy_add, policy_del, 32);
VPNR_LAYOUT_NEXT(vpnr_dataplane, policy_del, route_add, 40);
VPNR_LAYOUT_NEXT(vpnr_dataplane, route_add, route_del, 48);
VPNR_LAYOUT_NEXT(vpnr_dataplane, route_del, sa_query, 56);
VPNR_LAYOUT_SIZE(vpnr_dataplane, sa_query, 64);
VPNR_LAYOUT_FIRST(vpnr_tunnel_event, type);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, type, reason, 4);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, reason, tunnel_id, 8);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, tunnel_id, tunnel_user_data, 16);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, tunnel_user_data, sa_id, 24);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, sa_id, local, 32);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, local, remote, 56);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, remote, notify, 80);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, notify, reserved, 82);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, reserved, ike_spi_i, 88);
VPNR_LAYOUT_NEXT(vpnr_tunnel_event, ike_spi_i, ike_spi_r, 96);
VPNR_LAYOUT_SIZE(vpnr_tunnel_event, ike_spi_r, 104);
VPNR_LAYOUT_FIRST(vpnr_bgp_event, type);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, type, reason, 4);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, reason, peer_id, 8);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, peer_id, peer_user_data, 16);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, peer_user_data, notif_code, 24);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, notif_code, notif_subcode, 25);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, notif_subcode, afi_safi, 26);
VPNR_LAYOUT_NEXT(vpnr_bgp_event, afi_safi, reserved, 27);
VPNR_LAYOUT_SIZE(vpnr_bgp_event, reserved, 32);
VPNR_LAYOUT_FIRST(vpnr_callbacks, send_datagram);
VPNR_LAYOUT_NEXT(vpnr_callbacks, send_datagram, transport_open, 8);
VPNR_LAYOUT_NEXT(vpnr_callbacks, transport_open, transport_send, 16);
VPNR_LAYOUT_NEXT(vpnr_callbacks, transport_send, transport_close, 24);
VPNR_LAYOUT_NEXT(vpnr_callbacks, transport_close, expiry_changed, 32);
VPNR_LAYOUT_NEXT(vpnr_callbacks, expiry_changed, rand_bytes, 40);
VPNR_LAYOUT_NEXT(vpnr_callbacks, rand_bytes, tunnel_event, 48);
VPNR_LAYOUT_NEXT(vpnr_callbacks, tunnel_event, bgp_event, 56);
VPNR_LAYOUT_NEXT(vpnr_callbacks, bgp_event, log_msg, 64);
VPNR_LAYOUT_SIZE(vpnr_callbacks, log_msg, 72);
VPNR_LAYOUT_FIRST(vpnr_tunnel_info, state);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, state, n_child_sa, 4);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, n_child_sa, local, 8);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, local, remote, 32);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, remote, established_at, 56);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, established_at, ike_rekeys, 64);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_rekeys, child_rekeys, 72);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, child_rekeys, spi_i, 80);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, spi_i, spi_r, 88);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, spi_r, child_spi_in, 96);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, child_spi_in, child_spi_out, 100);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, child_spi_out, ike_encr, 104);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_encr, ike_encr_bits, 106);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_encr_bits, ike_prf, 108);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_prf, ike_integ, 110);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_integ, ike_dh, 112);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, ike_dh, esp_encr, 114);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, esp_encr, esp_encr_bits, 116);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, esp_encr_bits, esp_integ, 118);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, esp_integ, esp_dh, 120);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, esp_dh, nat_flags, 122);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, nat_flags, last_error, 124);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, last_error, retransmits, 128);
VPNR_LAYOUT_NEXT(vpnr_tunnel_info, retransmits, malformed, 136);
VPNR_LAYOUT_SIZE(vpnr_tunnel_info, malformed, 144);
VPNR_LAYOUT_FIRST(vpnr_ike_stats, half_open);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, half_open, half_open_sources, 4);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, half_open_sources, cookies_sent, 8);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, cookies_sent, refused_per_source, 16);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, refused_per_source, refused_limit, 24);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, refused_limit, refused_critical, 32);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, refused_critical, refused_version, 40);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, refused_version, notifies_rate_limited, 48);
VPNR_LAYOUT_NEXT(vpnr_ike_stats, notifies_rate_limited, malformed, 56);
VPNR_LAYOUT_SIZE(vpnr_ike_stats, malformed, 64);
VPNR_LAYOUT_FIRST(vpnr_path_attrs, nexthop);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, nexthop, med, 24);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, med, flags, 28);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, flags, communities, 32);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, communities, n_communities, 40);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, n_communities, as_path, 48);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, as_path, n_as_path, 56);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, n_as_path, origin, 64);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, origin, reserved32, 68);
VPNR_LAYOUT_NEXT(vpnr_path_attrs, reserved32, reserved, 72);
VPNR_LAYOUT_SIZE(vpnr_path_attrs, reserved, 80);
VPNR_LAYOUT_FIRST(vpnr_bgp_peer_info, state);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, state, remote_as, 4);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, remote_as, remote, 8);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, remote, peer_router_id, 32);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, peer_router_id, hold_s, 36);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, hold_s, keepalive_s, 38);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, keepalive_s, families, 40);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, families, reserved0, 44);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, reserved0, established_at, 48);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, established_at, pfx_received_v4, 56);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_received_v4, pfx_received_v6, 60);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_received_v6, pfx_accepted_v4, 64);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_accepted_v4, pfx_accepted_v6, 68);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_accepted_v6, pfx_sent_v4, 72);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_sent_v4, pfx_sent_v6, 76);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, pfx_sent_v6, msgs_in, 80);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, msgs_in, msgs_out, 88);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, msgs_out, updates_in, 96);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, updates_in, updates_out, 104);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, updates_out, malformed, 112);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, malformed, treat_as_withdraw, 120);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, treat_as_withdraw, flaps, 128);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, flaps, last_reason, 132);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, last_reason, last_notif_code, 136);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, last_notif_code, last_notif_subcode, 137);
VPNR_LAYOUT_NEXT(vpnr_bgp_peer_info, last_notif_subcode, reserved, 138);
VPNR_LAYOUT_SIZE(vpnr_bgp_peer_info, reserved, 144);
#endif

#endif /* VPNROUTE_VPNROUTE_H */
