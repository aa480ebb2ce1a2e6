/*
 * libvpnroute built-in userspace ESP data plane.
 *
 * For hosts that have no IPsec data plane of their own (no kernel ESP,
 * no ASIC): it implements the vpnr_dataplane ops table (SA, policy and
 * route add/del) and gives the host two packet calls:
 *
 *  - vpnr_esp_encap(): an inner IP packet leaving through tunnel
 *    interface if_id becomes an ESP packet (RFC 4303, tunnel mode),
 *    which the host sends as the payload of a UDP datagram to the
 *    address returned in *dst (ESP-in-UDP, RFC 3948);
 *  - vpnr_esp_decap(): the payload of a UDP datagram received on the
 *    NAT-T port (4500) that is not IKE becomes the inner IP packet,
 *    plus the if_id of the tunnel it arrived on.
 *
 * It does no I/O of its own, reads no clock (time is the "now"
 * argument) and allocates nothing per packet.  Suites: AES-GCM-16
 * with 128/256-bit keys (RFC 4106) and AES-CBC 128/256 with
 * HMAC-SHA1-96, HMAC-SHA2-256-128, -384-192 or -512-256; extended
 * sequence numbers (RFC 4303 2.2.1); an anti-replay window of the size
 * the SA asks for (vpnr_child_sa.replay_window; 0 disables it).
 *
 * Usage with a context (or the libuv driver):
 *
 *	vpnr_esp *esp;
 *	vpnr_esp_new(&esp, NULL);
 *	vpnr_ctx_new(&ctx, cfg, &cb, host, vpnr_esp_dataplane(), esp, NULL);
 *	... on a packet from the tunnel interface:
 *	vpnr_esp_encap(esp, if_id, pkt, len, out, sizeof(out), &n, &dst, now);
 *	... on an ESP datagram from port 4500:
 *	vpnr_esp_decap(esp, &src, data, len, out, sizeof(out), &n, &if_id, now);
 *	... after each batch of packets, outside any vpnr callback:
 *	vpnr_esp_poll_expired(esp, now);
 *
 * Lifetimes: byte and packet lifetimes (vpnr_child_sa.soft/.hard) are
 * checked by encap/decap.  Since vpnr_dp_sa_expired() may delete or
 * add SAs, encap and decap never call it themselves: they queue the
 * event and the host reports it with vpnr_esp_poll_expired() (cheap
 * when nothing is pending; vpnr_esp_expired_pending() tells).  An SA
 * past its hard lifetime carries no more packets.  Lifetimes in
 * seconds are the library's business, not the data plane's.
 *
 * Threads: a vpnr_esp is used by one thread at a time, the same one
 * that drives the vpnr_ctx it is attached to.  Callbacks: only
 * vpnr_esp_poll_expired() drives a context, so it is not legal inside
 * vpnr callbacks (it returns VPNR_ERR_IN_CALLBACK from
 * vpnr_dp_sa_expired); every other function here is legal anywhere,
 * except that the SA table must not be changed from a walk callback.
 * Ownership: every pointer handed in is only read during the call
 * (keys are copied and wiped on removal); nothing returned needs to be
 * freed except the vpnr_esp itself (vpnr_esp_del).
 *
 * All declarations appeared in 0.1.0.
 */
#ifndef VPNROUTE_ESP_H
#define VPNROUTE_ESP_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpnr_esp vpnr_esp;

/* Upper bound of the ESP overhead that vpnr_esp_encap() adds to an
 * inner packet: header 8 + IV 16 + padding 15 + trailer 2 + ICV 32. */
#define VPNR_ESP_MAX_OVERHEAD 73

/* Largest anti-replay window accepted (packets). */
#define VPNR_ESP_MAX_REPLAY_WINDOW 65536

/**
 * Create an empty data plane.  mem may be NULL (libc); it is copied.
 * Returns VPNR_OK, VPNR_ERR_INVALID_ARGUMENT or VPNR_ERR_NOMEM.
 * Since 0.1.0.
 */
VPNR_API int vpnr_esp_new(vpnr_esp **pesp, const vpnr_mem *mem);

/**
 * Free the data plane, wiping every key.  NULL-safe.  Delete the
 * vpnr_ctx that uses it first (or never use that ctx again).
 * Since 0.1.0.
 */
VPNR_API void vpnr_esp_del(vpnr_esp *esp);

/**
 * The ops table of the built-in data plane; pass it with the vpnr_esp
 * as dp_data to vpnr_ctx_new() or vpnr_uv_new().  The table is static
 * (never NULL, never freed).  Since 0.1.0.
 */
VPNR_API const vpnr_dataplane *vpnr_esp_dataplane(void);

/**
 * Chain route_add/route_del to the host (e.g. to install a kernel
 * route into the tunnel's TUN device).  Without it route ops succeed
 * and do nothing.  The functions get the vpnr_ctx, the op id, the
 * route and arg; they follow the vpnr_dataplane rules (VPNR_OK,
 * VPNR_ASYNC or a negative error; no driving calls).  Either may be
 * NULL.  Returns VPNR_OK or VPNR_ERR_INVALID_ARGUMENT.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_set_route_ops(vpnr_esp *esp,
    int (*route_add)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt,
	void *arg),
    int (*route_del)(vpnr_ctx *ctx, uint64_t op_id, const vpnr_route *rt,
	void *arg),
    void *arg);

/**
 * Encapsulate one inner IPv4/IPv6 packet leaving through tunnel
 * interface if_id.  The outbound SA is chosen make-before-break: the
 * newest installed outbound SA of that if_id takes over from the
 * previous one as soon as a packet arrived on an inbound SA installed
 * after that previous one (so the peer has the new pair: this matters
 * when we answered the rekey), when the previous SA is deleted, or two
 * seconds after it was first passed over.  out receives the ESP packet (cap
 * must be at least len + VPNR_ESP_MAX_OVERHEAD to be safe); *out_len its
 * length; *dst the peer address and UDP port (4500 unless the SA says
 * otherwise) to send it to.  out must not overlap ip_pkt.
 *
 * Returns VPNR_OK; VPNR_ERR_NOT_FOUND (no outbound SA on if_id);
 * VPNR_ERR_BUFFER_TOO_SMALL; VPNR_ERR_INVALID_ARGUMENT (empty packet
 * or not IPv4/IPv6); VPNR_ERR_LIMIT (the SA passed its hard lifetime
 * or its sequence number space is used up); VPNR_ERR_CRYPTO.
 * Counts the packet on the SA and the tunnel.  Since 0.1.0.
 */
VPNR_API int
vpnr_esp_encap(vpnr_esp *esp, uint32_t if_id, const uint8_t *ip_pkt, size_t len,
    uint8_t *out, size_t cap, size_t *out_len, vpnr_addr *dst, vpnr_tstamp now);

/**
 * Decapsulate one ESP packet (the payload of a UDP datagram received
 * on the NAT-T port, non-ESP marker absent) from src.  On success out
 * holds the inner IP packet, *out_len its length and *if_id the
 * tunnel interface it arrived on.  A dummy packet (next header 59,
 * RFC 4303 2.6) is consumed: VPNR_OK with *out_len 0, nothing to
 * deliver.  out must not overlap udp_payload; cap >= len suffices.
 *
 * Every drop is counted (SA, tunnel and global counters) and returns:
 * VPNR_ERR_MALFORMED (too short, not a whole number of cipher blocks,
 * bad padding, unknown next header), VPNR_ERR_NOT_FOUND (unknown SPI),
 * VPNR_ERR_REPLAY (duplicate or older than the window),
 * VPNR_ERR_INTEGRITY (ICV mismatch; checked in constant time before
 * any decryption), VPNR_ERR_LIMIT (SA past its hard lifetime),
 * VPNR_ERR_CRYPTO (cipher failure), VPNR_ERR_TS_UNACCEPTABLE (the
 * inner source or destination lies outside the SA's traffic selectors,
 * RFC 4301 5.2; addresses, protocol and TCP/UDP/SCTP ports are
 * checked; an SA installed with more than 8 selectors per side is not
 * checked), VPNR_ERR_BUFFER_TOO_SMALL.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_decap(vpnr_esp *esp, const vpnr_addr *src,
    const uint8_t *udp_payload, size_t len, uint8_t *out, size_t cap,
    size_t *out_len, uint32_t *if_id, vpnr_tstamp now);

/**
 * Report queued lifetime expiries to the library: for each, calls
 * vpnr_dp_sa_expired() on the context that installed the SA (soft
 * first, then hard).  Call it after encap/decap, outside vpnr
 * callbacks.  Returns the number reported (>= 0) or the first error
 * of vpnr_dp_sa_expired (the remaining events stay queued).
 * Since 0.1.0.
 */
VPNR_API int vpnr_esp_poll_expired(vpnr_esp *esp, vpnr_tstamp now);

/** Non-zero if expiries are queued.  Since 0.1.0. */
VPNR_API int vpnr_esp_expired_pending(const vpnr_esp *esp);

/**
 * Take the next queued expiry without reporting it (for hosts that
 * drive expiry themselves, and tests).  Returns VPNR_OK with *sa_id
 * and *hard set, or VPNR_ERR_NOT_FOUND when the queue is empty.
 * Since 0.1.0.
 */
VPNR_API int vpnr_esp_next_expired(vpnr_esp *esp, uint64_t *sa_id, int *hard);

/*
 * Counters, as a router's "show crypto ipsec sa" / "show child sa".
 * Octets count inner IP packet bytes (what strongSwan and the Linux
 * kernel count as bytes_i/bytes_o), not ESP overhead.
 */
typedef struct vpnr_esp_counters {
	uint64_t packets_in; /* decapsulated and delivered (or dummy) */
	uint64_t octets_in;
	uint64_t packets_out;
	uint64_t octets_out;
	uint64_t integrity_failed; /* ICV mismatch */
	uint64_t replay_dropped;   /* duplicate or too old */
	uint64_t invalid_padding;  /* pad bytes or pad length wrong */
	uint64_t unknown_spi;      /* tunnel/global only */
	uint64_t cipher_failed;    /* EVP error, bad block length */
	uint64_t malformed;        /* too short, bad next header */
	uint64_t dummy_dropped;    /* next header 59 */
	uint64_t lifetime_dropped; /* SA past hard lifetime / seq space */
	uint64_t no_sa_dropped;    /* encap: no outbound SA on if_id */
	uint64_t policy_dropped;   /* inner addresses outside the TS */
	uint64_t reserved[2];
} vpnr_esp_counters;
/* Versions of vpnr_esp_counters for the *_versioned calls.  0.1.0. */
#define VPNR_ESP_COUNTERS_V1      1
#define VPNR_ESP_COUNTERS_VERSION VPNR_ESP_COUNTERS_V1

/** Per-SA snapshot for "show child sa".  Fields only appended. */
typedef struct vpnr_esp_sa_info {
	uint64_t sa_id;
	uint64_t tunnel_id;
	uint32_t spi; /* host byte order */
	uint32_t if_id;
	uint8_t direction; /* VPNR_DIR_IN / VPNR_DIR_OUT */
	uint8_t active;    /* outbound: the SA encap uses now */
	uint16_t flags;    /* VPNR_SA_F_* */
	uint16_t encr_id;  /* VPNR_ENCR_* */
	uint16_t encr_key_bits;
	uint16_t integ_id; /* VPNR_INTEG_* */
	uint16_t reserved;
	uint32_t replay_window;
	vpnr_addr src;
	vpnr_addr dst;
	uint64_t seq;             /* outbound: last sent; inbound: highest */
	vpnr_tstamp installed_at; /* install time (ctx's now), else the
				     now of the first packet, or 0 */
	vpnr_tstamp last_used;    /* now of the last packet, or 0 */
	uint8_t soft_expired;
	uint8_t hard_expired;
	uint8_t reserved2[6];
	vpnr_esp_counters counters;
} vpnr_esp_sa_info;
/* Versions of vpnr_esp_sa_info for the *_versioned calls.  0.1.0. */
#define VPNR_ESP_SA_INFO_V1      1
#define VPNR_ESP_SA_INFO_VERSION VPNR_ESP_SA_INFO_V1

/*
 * The calls that fill a caller's vpnr_esp_sa_info or vpnr_esp_counters
 * take its version and write exactly the bytes of that version; a
 * version newer than the library's is VPNR_ERR_INVALID_ARGUMENT.  Each
 * has a macro and an exported function without the version (the macro
 * passes the header's *_VERSION, the function *_V1).  Since 0.1.0.
 */
VPNR_API int vpnr_esp_get_sa_info_versioned(const vpnr_esp *esp, uint64_t sa_id,
    int info_version, vpnr_esp_sa_info *info);
VPNR_API int vpnr_esp_get_sa_info_by_spi_versioned(const vpnr_esp *esp,
    uint32_t spi, int info_version, vpnr_esp_sa_info *info);
VPNR_API int vpnr_esp_get_tunnel_counters_versioned(const vpnr_esp *esp,
    uint32_t if_id, int counters_version, vpnr_esp_counters *c);

/**
 * Snapshot of one SA by sa_id (as in vpnr_child_sa.sa_id).  Returns
 * VPNR_OK or VPNR_ERR_NOT_FOUND.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_get_sa_info(const vpnr_esp *esp, uint64_t sa_id,
    vpnr_esp_sa_info *info);
#define vpnr_esp_get_sa_info(esp, sa_id, info) \
	vpnr_esp_get_sa_info_versioned((esp), (sa_id), \
	    VPNR_ESP_SA_INFO_VERSION, (info))

/**
 * Snapshot of one inbound SA by SPI (host byte order).  Returns
 * VPNR_OK or VPNR_ERR_NOT_FOUND.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_get_sa_info_by_spi(const vpnr_esp *esp, uint32_t spi,
    vpnr_esp_sa_info *info);
#define vpnr_esp_get_sa_info_by_spi(esp, spi, info) \
	vpnr_esp_get_sa_info_by_spi_versioned((esp), (spi), \
	    VPNR_ESP_SA_INFO_VERSION, (info))

/**
 * Counters of tunnel interface if_id: the sum over every SA it ever
 * had (deleted SAs included) plus drops attributed to it.  Returns
 * VPNR_OK or VPNR_ERR_NOT_FOUND.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_get_tunnel_counters(const vpnr_esp *esp, uint32_t if_id,
    vpnr_esp_counters *c);
#define vpnr_esp_get_tunnel_counters(esp, if_id, c) \
	vpnr_esp_get_tunnel_counters_versioned((esp), (if_id), \
	    VPNR_ESP_COUNTERS_VERSION, (c))

/**
 * Counters over everything, unknown SPIs included (all zero for a NULL
 * esp).  Returns VPNR_OK or VPNR_ERR_INVALID_ARGUMENT (c NULL, unknown
 * version).  Since 0.1.0.
 */
VPNR_API int vpnr_esp_get_counters_versioned(const vpnr_esp *esp,
    int counters_version, vpnr_esp_counters *c);
/** The macro passes VPNR_ESP_COUNTERS_VERSION, the exported function
 * VPNR_ESP_COUNTERS_V1.  Since 0.1.0 (returns int since 0.1.0). */
VPNR_API int vpnr_esp_get_counters(const vpnr_esp *esp, vpnr_esp_counters *c);
#define vpnr_esp_get_counters(esp, c) \
	vpnr_esp_get_counters_versioned((esp), VPNR_ESP_COUNTERS_VERSION, (c))

/**
 * Walk every installed SA (in sa_id order); cb returns non-zero to
 * stop.  The SA table must not be changed from cb.  Returns VPNR_OK or
 * cb's non-zero value.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_sa_walk(const vpnr_esp *esp,
    int (*cb)(const vpnr_esp_sa_info *info, void *arg), void *arg);

/**
 * Walk every tunnel interface the data plane knows (if_id order).
 * Returns VPNR_OK or cb's non-zero value.  Since 0.1.0.
 */
VPNR_API int vpnr_esp_tunnel_walk(const vpnr_esp *esp,
    int (*cb)(uint32_t if_id, const vpnr_esp_counters *c, void *arg),
    void *arg);

/**
 * Install an SA directly, without a vpnr_ctx (tests, static keying).
 * Same as the sa_add op with a NULL ctx: expiries are only queued
 * (vpnr_esp_next_expired).  Key material is copied.  Returns VPNR_OK,
 * VPNR_ERR_EXISTS (sa_id or inbound SPI taken), VPNR_ERR_UNSUPPORTED
 * (suite), VPNR_ERR_INVALID_ARGUMENT (key lengths, window) or
 * VPNR_ERR_NOMEM; VPNR_ERR_INVALID_ARGUMENT also for a sa_version newer
 * than the library's (only that version's bytes of sa are read).
 * Since 0.1.0.
 */
VPNR_API int vpnr_esp_sa_install_versioned(vpnr_esp *esp, int sa_version,
    const vpnr_child_sa *sa);
/** The macro passes VPNR_CHILD_SA_VERSION, the exported function
 * VPNR_CHILD_SA_V1.  Since 0.1.0. */
VPNR_API int vpnr_esp_sa_install(vpnr_esp *esp, const vpnr_child_sa *sa);
#define vpnr_esp_sa_install(esp, sa) \
	vpnr_esp_sa_install_versioned((esp), VPNR_CHILD_SA_VERSION, (sa))

/** Remove an SA by sa_id.  VPNR_OK or VPNR_ERR_NOT_FOUND.  0.1.0. */
VPNR_API int vpnr_esp_sa_remove(vpnr_esp *esp, uint64_t sa_id);

#ifdef __cplusplus
}
#endif

/*
 * Layout pinned for 64-bit targets (LP64/LLP64): every member at its
 * offset, right after the previous one (no implicit padding), and the
 * size ends with the last member.  A change here is an ABI break.
 */
#if defined(UINTPTR_MAX) && UINTPTR_MAX > 0xffffffffu && SIZE_MAX > 0xffffffffu
VPNR_LAYOUT_FIRST(vpnr_esp_counters, packets_in);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, packets_in, octets_in, 8);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, octets_in, packets_out, 16);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, packets_out, octets_out, 24);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, octets_out, integrity_failed, 32);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, integrity_failed, replay_dropped, 40);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, replay_dropped, invalid_padding, 48);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, invalid_padding, unknown_spi, 56);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, unknown_spi, cipher_failed, 64);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, cipher_failed, malformed, 72);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, malformed, dummy_dropped, 80);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, dummy_dropped, lifetime_dropped, 88);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, lifetime_dropped, no_sa_dropped, 96);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, no_sa_dropped, policy_dropped, 104);
VPNR_LAYOUT_NEXT(vpnr_esp_counters, policy_dropped, reserved, 112);
VPNR_LAYOUT_SIZE(vpnr_esp_counters, reserved, 128);
VPNR_LAYOUT_FIRST(vpnr_esp_sa_info, sa_id);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, sa_id, tunnel_id, 8);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, tunnel_id, spi, 16);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, spi, if_id, 20);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, if_id, direction, 24);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, direction, active, 25);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, active, flags, 26);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, flags, encr_id, 28);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, encr_id, encr_key_bits, 30);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, encr_key_bits, integ_id, 32);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, integ_id, reserved, 34);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, reserved, replay_window, 36);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, replay_window, src, 40);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, src, dst, 64);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, dst, seq, 88);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, seq, installed_at, 96);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, installed_at, last_used, 104);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, last_used, soft_expired, 112);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, soft_expired, hard_expired, 113);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, hard_expired, reserved2, 114);
VPNR_LAYOUT_NEXT(vpnr_esp_sa_info, reserved2, counters, 120);
VPNR_LAYOUT_SIZE(vpnr_esp_sa_info, counters, 248);
#endif

#endif /* VPNROUTE_ESP_H */
