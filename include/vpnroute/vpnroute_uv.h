/*
 * libuv driver: opens the IKE (500) and NAT-T (4500) UDP sockets and
 * the BGP TCP listener on a uv_loop_t that the host owns, drives one
 * uv_timer_t from vpnr_ctx_get_expiry(), and implements the I/O
 * callbacks of vpnroute.h.  It never calls uv_run().  It is written
 * only against the public API.  Consumers need _GNU_SOURCE or
 * _POSIX_C_SOURCE=200809L because of <uv.h>.
 *
 * Threading: like the context, a driver belongs to the thread that runs
 * its loop.  Every vpnr_uv_* function may be called from that thread
 * outside vpnr callbacks; the few that are also legal inside callbacks
 * say so.
 *
 * All declarations appeared in 0.1.0.
 */
#ifndef VPNROUTE_VPNROUTE_UV_H
#define VPNROUTE_VPNROUTE_UV_H

#include <uv.h>

#include <vpnroute/vpnroute.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vpnr_uv vpnr_uv;

typedef struct vpnr_uv_options {
	/*
	 * Local address to bind the UDP sockets to (family required;
	 * all-zero bytes = any).  Ports come from ike_port/natt_port.
	 * Bind to a specific address on multi-homed hosts: the bound
	 * address is what the context sees as the local address of
	 * every received datagram.
	 */
	vpnr_addr bind_addr;
	/*
	 * 0 = 500 and 4500.  They must match the ports the context uses:
	 * with cfg == NULL the driver configures them itself, otherwise
	 * set the same values with vpnr_config_set_ike_ports().
	 */
	uint16_t ike_port;
	uint16_t natt_port;
	/* BGP listener; family 0 = no listener.  port 0 = 179.  The
	 * address may be one that does not exist yet (IP_FREEBIND), e.g.
	 * an APIPA address on a tunnel interface created later. */
	vpnr_addr bgp_listen_addr;
	uint32_t reserved; /* must be zero (VPNR_ERR_INVALID_ARGUMENT) */
	/*
	 * ESP-in-UDP received on the NAT-T port (RFC 3948 demux): the
	 * UDP payload, the local (bound) address and port, the peer's
	 * address and port.  data is valid only during the call.  The
	 * callback runs from the loop, not inside a vpnr call, so it may
	 * call driving functions (e.g. the built-in ESP data plane) and
	 * vpnr_uv_send_natt().  NULL drops ESP.
	 */
	void (*on_esp)(vpnr_uv *uv, const vpnr_addr *local,
	    const vpnr_addr *remote, const uint8_t *data, size_t len,
	    void *arg);
	void *on_esp_arg;
	/*
	 * Allocator for the driver's own memory; also handed to
	 * vpnr_ctx_new() for the context.  NULL = libc.
	 */
	const vpnr_mem *mem;
	/* Bytes queued per BGP transport before transport_send says
	 * VPNR_ERR_WOULDBLOCK; 0 = 1 MiB.  vpnr_transport_writable() is
	 * called once the queue drains below half of it. */
	uint32_t tcp_write_limit;
	/* Highest level of the driver's own log messages (subsys "uv");
	 * 0 = VPNR_LOG_INFO.  The context's level is set in vpnr_config. */
	int32_t log_level;
	/* Fields are only ever appended here (VPNR_UV_OPTIONS_V*). */
} vpnr_uv_options;
#define VPNR_UV_OPTIONS_V1      1
#define VPNR_UV_OPTIONS_VERSION VPNR_UV_OPTIONS_V1

/**
 * Create a context whose I/O callbacks (send_datagram, transport_*,
 * expiry_changed) are provided by the driver, bind the sockets and
 * attach everything to loop (which must outlive the driver).
 *
 * cfg, cb, dp and opts are copied (cfg may be NULL for defaults);
 * of cb, dp and opts exactly the bytes of the given versions are read,
 * and a version newer than the library's is refused.
 * cb supplies the host's other callbacks (events, log, rand_bytes);
 * its I/O members are ignored.  Every host callback receives
 * user_data as usual, but
 * vpnr_ctx_get_user_data() on this context returns the vpnr_uv
 * (use vpnr_uv_user_data() to get user_data back).  dp and dp_data go
 * to the context unchanged.
 *
 * Returns VPNR_OK and stores the driver in *puv, or a negative error
 * with *puv = NULL: VPNR_ERR_INVALID_ARGUMENT (NULL loop/puv, unknown
 * version, no bind family), VPNR_ERR_NOMEM, or VPNR_ERR_INVALID_STATE
 * when a socket cannot be bound (the reason goes to cb->log_msg with
 * subsys "uv").  On failure the handles opened so far close
 * asynchronously: run the loop to release them.  Not legal inside
 * vpnr callbacks.
 */
VPNR_API int vpnr_uv_new_versioned(vpnr_uv **puv, uv_loop_t *loop,
    const vpnr_config *cfg, int callbacks_version, const vpnr_callbacks *cb,
    void *user_data, int dataplane_version, const vpnr_dataplane *dp,
    void *dp_data, int options_version, const vpnr_uv_options *opts);
/**
 * vpnr_uv_new_versioned() without the version arguments.  The macro
 * passes the header's VPNR_CALLBACKS_VERSION, VPNR_DATAPLANE_VERSION
 * and VPNR_UV_OPTIONS_VERSION; the exported function passes version 1
 * of each for ever (for bindings that call it by name).  Since 0.1.0.
 */
VPNR_API int vpnr_uv_new(vpnr_uv **puv, uv_loop_t *loop, const vpnr_config *cfg,
    const vpnr_callbacks *cb, void *user_data, const vpnr_dataplane *dp,
    void *dp_data, const vpnr_uv_options *opts);
#define vpnr_uv_new(puv, loop, cfg, cb, ud, dp, dpd, opts) \
	vpnr_uv_new_versioned((puv), (loop), (cfg), VPNR_CALLBACKS_VERSION, \
	    (cb), (ud), VPNR_DATAPLANE_VERSION, (dp), (dpd), \
	    VPNR_UV_OPTIONS_VERSION, (opts))

/**
 * The context driven by this driver (use it for tunnels, peers).
 * Owned by the driver: deleted by vpnr_uv_close(), never by the host.
 * Legal inside callbacks.
 */
VPNR_API vpnr_ctx *vpnr_uv_ctx(vpnr_uv *uv);
/** The user_data given to vpnr_uv_new().  Legal inside callbacks. */
VPNR_API void *vpnr_uv_user_data(vpnr_uv *uv);
/**
 * Monotonic now in ns, from uv_hrtime(): pass it as "now" to every
 * vpnr_* call on the context.  Legal inside callbacks.
 */
VPNR_API vpnr_tstamp vpnr_uv_now(vpnr_uv *uv);
/**
 * Re-arm the timer from vpnr_ctx_get_expiry().  Call it after driving
 * the context from outside the driver's own callbacks (e.g. after
 * vpnr_tunnel_initiate() at start-up).  Harmless when not needed.
 * Legal inside callbacks.
 */
VPNR_API void vpnr_uv_kick(vpnr_uv *uv);
/**
 * Send one UDP datagram (an ESP-in-UDP packet from the data plane)
 * from the NAT-T socket to remote (address and port).  data is copied
 * or sent before the call returns.  Returns VPNR_OK,
 * VPNR_ERR_WOULDBLOCK (socket buffer full: the packet is dropped),
 * VPNR_ERR_INVALID_ARGUMENT or VPNR_ERR_INVALID_STATE (closing or
 * send error).  Legal inside callbacks.
 */
VPNR_API int vpnr_uv_send_natt(vpnr_uv *uv, const vpnr_addr *remote,
    const uint8_t *data, size_t len);
/**
 * The NAT-T socket's descriptor, for hosts that send ESP in batches
 * (sendmmsg, UDP GSO) or tune its buffers.  The driver keeps owning
 * it: never close it.  Returns the fd, or VPNR_ERR_INVALID_STATE when
 * the socket is not open.  Legal inside callbacks.  Since 0.1.0.
 */
VPNR_API int vpnr_uv_natt_fd(vpnr_uv *uv);
/**
 * Install (len > 0) or remove (key NULL or len 0) the RFC 2385 TCP-MD5
 * key for connections from peer (its port is ignored) on the BGP
 * listener.  Keys given to transport_open by the context are also
 * installed on the listener automatically; call this for passive-only
 * peers.  Returns VPNR_OK, VPNR_ERR_INVALID_ARGUMENT (key longer than
 * 80 bytes, bad address), VPNR_ERR_INVALID_STATE (no listener) or
 * VPNR_ERR_UNSUPPORTED (setsockopt refused).  Legal inside callbacks.
 */
VPNR_API int vpnr_uv_set_md5(vpnr_uv *uv, const vpnr_addr *peer,
    const uint8_t *key, size_t len);

/**
 * Close every handle (sockets, timer, listener, BGP connections);
 * once the loop has run all their close callbacks the context is
 * deleted (no IKE DELETE is sent: call vpnr_ctx_shutdown() and let the
 * loop run first for a graceful exit), the driver is freed and
 * on_closed(arg) runs (may be NULL); no callback runs after it.  Do
 * not use uv or its context after this call (the callback that made
 * it may finish normally).
 * Legal inside callbacks (the deletion always happens later, from the
 * loop).  Returns VPNR_OK, VPNR_ERR_INVALID_ARGUMENT (NULL) or
 * VPNR_ERR_INVALID_STATE (already closing).
 */
VPNR_API int
vpnr_uv_close(vpnr_uv *uv, void (*on_closed)(void *arg), void *arg);

#ifdef __cplusplus
}
#endif

/*
 * Layout pinned for 64-bit targets (LP64/LLP64): every member at its
 * offset, right after the previous one (no implicit padding), and the
 * size ends with the last member.  A change here is an ABI break.
 */
#if defined(UINTPTR_MAX) && UINTPTR_MAX > 0xffffffffu && SIZE_MAX > 0xffffffffu
VPNR_LAYOUT_FIRST(vpnr_uv_options, bind_addr);
VPNR_LAYOUT_NEXT(vpnr_uv_options, bind_addr, ike_port, 24);
VPNR_LAYOUT_NEXT(vpnr_uv_options, ike_port, natt_port, 26);
VPNR_LAYOUT_NEXT(vpnr_uv_options, natt_port, bgp_listen_addr, 28);
VPNR_LAYOUT_NEXT(vpnr_uv_options, bgp_listen_addr, reserved, 52);
VPNR_LAYOUT_NEXT(vpnr_uv_options, reserved, on_esp, 56);
VPNR_LAYOUT_NEXT(vpnr_uv_options, on_esp, on_esp_arg, 64);
VPNR_LAYOUT_NEXT(vpnr_uv_options, on_esp_arg, mem, 72);
VPNR_LAYOUT_NEXT(vpnr_uv_options, mem, tcp_write_limit, 80);
VPNR_LAYOUT_NEXT(vpnr_uv_options, tcp_write_limit, log_level, 84);
VPNR_LAYOUT_SIZE(vpnr_uv_options, log_level, 88);
#endif

#endif /* VPNROUTE_VPNROUTE_UV_H */
