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
#define VPNR_ERR_DATAPLANE        -301 /* a data-plane op failed */
#define VPNR_ERR_CRYPTO           -302
/* Everything <= VPNR_ERR_FATAL leaves the vpnr_ctx unusable. */
#define VPNR_ERR_FATAL            -900
#define VPNR_ERR_NOMEM            -901
#define VPNR_ERR_CALLBACK_FAILURE -902 /* a callback asked to abort */
#define VPNR_ERR_INTERNAL         -903

/** "out of memory" etc.; never NULL.  Legal inside callbacks. */
VPNR_API const char *vpnr_strerror(int err);
/** "VPNR_ERR_NOMEM" etc.; never NULL.  Legal inside callbacks. */
VPNR_API const char *vpnr_err_name(int err);
/** Non-zero if err <= VPNR_ERR_FATAL.  Legal inside callbacks. */
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
 * op_id) or a negative error.  Ops are called from inside driving
 * calls; they must not call driving functions.                        */

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
 * status is VPNR_OK or a negative error.  Returns VPNR_ERR_NOT_FOUND
 * for an unknown op_id.  Legal inside callbacks for a different op.
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
/** Re-send every installed SA, policy and route (data plane restart). */
VPNR_API int vpnr_dp_replay(vpnr_ctx *ctx, vpnr_tstamp now);

/* ------------------------------------------------------------------ */
/* Host callbacks: I/O for the bring-your-own-loop mode, events, log.   */

#define VPNR_LOG_ERR     3 /* syslog(3) numbering */
#define VPNR_LOG_WARNING 4
#define VPNR_LOG_NOTICE  5
#define VPNR_LOG_INFO    6
#define VPNR_LOG_DEBUG   7

#define VPNR_TUNNEL_EV_UP            1 /* IKE SA established */
#define VPNR_TUNNEL_EV_DOWN          2 /* IKE SA gone; reason says why */
#define VPNR_TUNNEL_EV_REKEYED       3 /* IKE SA rekeyed in place */
#define VPNR_TUNNEL_EV_CHILD_UP      4 /* CHILD_SA pair installed */
#define VPNR_TUNNEL_EV_CHILD_DOWN    5 /* CHILD_SA pair removed */
#define VPNR_TUNNEL_EV_CHILD_REKEYED 6 /* new pair replaced old one */
#define VPNR_TUNNEL_EV_FAILED        7 /* attempt failed; reason says why */

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
} vpnr_tunnel_event;

#define VPNR_BGP_EV_ESTABLISHED  1
#define VPNR_BGP_EV_DOWN         2
#define VPNR_BGP_EV_PREFIX_LIMIT 3
#define VPNR_BGP_EV_EOR          4 /* End-of-RIB received */

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
	/* Returns bytes accepted (may be short) or VPNR_ERR_WOULDBLOCK;
	 * then the host calls vpnr_transport_writable() later. */
	int64_t (*transport_send)(vpnr_ctx *ctx, uint64_t transport_id,
	    const uint8_t *data, size_t len, void *user_data);
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
 * Half-open IKE SAs above which the responder demands a COOKIE
 * (RFC 7296 2.6).  Default 64; 0 demands a cookie always.
 */
VPNR_API int
vpnr_config_set_cookie_threshold(vpnr_config *cfg, uint32_t half_open);

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
 * counted and logged once: VPNR_ERR_MALFORMED.
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

/** A BGP TCP connection the host accepted; a transport id is returned. */
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
VPNR_API int
vpnr_transport_writable(vpnr_ctx *ctx, uint64_t transport_id, vpnr_tstamp now);
/** The peer closed or the connection failed; status is informative. */
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
/** Text of the last error on this builder, or "". */
VPNR_API const char *
vpnr_tunnel_config_last_error(const vpnr_tunnel_config *tc);
/** Traffic selectors; default 0.0.0.0/0 <-> 0.0.0.0/0 (route-based). */
VPNR_API int vpnr_tunnel_config_add_ts(vpnr_tunnel_config *tc,
    const vpnr_ts *local, const vpnr_ts *remote);
VPNR_API int
vpnr_tunnel_config_set_if_id(vpnr_tunnel_config *tc, uint32_t if_id);
/** DPD interval (0 disables; default 10 s) and action on silence. */
VPNR_API int vpnr_tunnel_config_set_dpd(vpnr_tunnel_config *tc,
    vpnr_tstamp interval, uint32_t action);
/**
 * Rekey times (0 = never) and the jitter subtracted at random (up to
 * jitter_percent of the time).  Defaults: IKE 4 h, CHILD 1 h, 10 %.
 */
VPNR_API int vpnr_tunnel_config_set_rekey(vpnr_tunnel_config *tc,
    vpnr_tstamp ike_rekey, vpnr_tstamp child_rekey, uint32_t jitter_percent);
/** CHILD_SA byte/packet lifetimes handed to the data plane (0 = none). */
VPNR_API int vpnr_tunnel_config_set_child_lifetime(vpnr_tunnel_config *tc,
    const vpnr_lifetime *soft, const vpnr_lifetime *hard);
/** Always use UDP encapsulation, as if behind NAT (default off). */
VPNR_API int vpnr_tunnel_config_set_force_encap(vpnr_tunnel_config *tc, int on);
/** Anti-replay window in packets for inbound SAs (default 1024). */
VPNR_API int
vpnr_tunnel_config_set_replay_window(vpnr_tunnel_config *tc, uint32_t packets);
/** Retransmission: first timeout, tries (default 1 s doubling, 7). */
VPNR_API int vpnr_tunnel_config_set_retransmit(vpnr_tunnel_config *tc,
    vpnr_tstamp first, uint32_t tries);

/** Adds a tunnel (responder-ready at once).  tc is copied. */
VPNR_API int vpnr_tunnel_add(vpnr_ctx *ctx, const vpnr_tunnel_config *tc,
    void *tunnel_user_data, uint64_t *tunnel_id);
/** Start IKE_SA_INIT.  Allowed inside callbacks (queues). */
VPNR_API int
vpnr_tunnel_initiate(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
/** Send DELETE and tear down.  Allowed inside callbacks (queues). */
VPNR_API int
vpnr_tunnel_close(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
/** Close and forget the tunnel.  Not inside callbacks. */
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

/** Snapshot of a tunnel.  Legal inside callbacks. */
VPNR_API int vpnr_tunnel_get_info_versioned(const vpnr_ctx *ctx,
    uint64_t tunnel_id, int info_version, vpnr_tunnel_info *info);
#define vpnr_tunnel_get_info(ctx, id, info) \
	vpnr_tunnel_get_info_versioned((ctx), (id), VPNR_TUNNEL_INFO_VERSION, \
	    (info))

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
/** Run the session over this tunnel (starts when its CHILD_SA is up). */
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

typedef struct vpnr_path_attrs {
	vpnr_addr nexthop;
	uint32_t med;
	uint32_t flags;              /* VPNR_PATH_F_* below */
	const uint32_t *communities; /* RFC 1997 values */
	size_t n_communities;
} vpnr_path_attrs;
#define VPNR_PATH_F_HAS_MED 0x01

/**
 * Originate prefix (host bits are cleared) with ORIGIN IGP, an empty
 * AS path and attrs (may be NULL; nexthop family 0 = next-hop-self,
 * MED only with VPNR_PATH_F_HAS_MED, communities copied).  A second
 * add for the same prefix replaces the first (whose id becomes
 * invalid).  UPDATEs for many adds in a row are packed together at
 * the next vpnr_ctx_handle_expiry().  Returns VPNR_OK and *path_id,
 * VPNR_ERR_INVALID_ARGUMENT, VPNR_ERR_LIMIT (too many communities),
 * VPNR_ERR_NOMEM or VPNR_ERR_IN_CALLBACK.
 */
VPNR_API int vpnr_bgp_path_add(vpnr_ctx *ctx, const vpnr_prefix *prefix,
    const vpnr_path_attrs *attrs, uint64_t *path_id, vpnr_tstamp now);
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
 * VPNR_ERR_INVALID_ARGUMENT or VPNR_ERR_NOT_FOUND (peer).
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
 * back and one VPNR_BGP_EV_PREFIX_LIMIT event (afi_safi 0x80 | family)
 * is raised.  0 = unlimited.
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
 * always our session address (eBGP next-hop-self).
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

/** Snapshot of a peer.  VPNR_ERR_NOT_FOUND.  Legal inside callbacks. */
VPNR_API int vpnr_bgp_peer_get_info_versioned(const vpnr_ctx *ctx,
    uint64_t peer_id, int info_version, vpnr_bgp_peer_info *info);
#define vpnr_bgp_peer_get_info(ctx, id, info) \
	vpnr_bgp_peer_get_info_versioned((ctx), (id), \
	    VPNR_BGP_PEER_INFO_VERSION, (info))

#ifdef __cplusplus
}
#endif

#endif /* VPNROUTE_VPNROUTE_H */
