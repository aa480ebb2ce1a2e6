/*
 * The context: configuration, callbacks, ids, timers, the callback
 * guard and the slots where the protocol engines (ipsec/, bgp/) hang
 * their state.  Engines never include each other's headers; they meet
 * through the hooks below.
 */
#ifndef VPNR_LIB_CTX_H
#define VPNR_LIB_CTX_H

#include <sys/queue.h>

#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "timer.h"

/* Internal functions whose result decides what happens next (a failed
 * step must end its tunnel or peer, never be lost): callers check. */
#define VPNR__MUST_CHECK __attribute__((warn_unused_result))

/*
 * Half-open IKE SA defaults (see vpnr_config_set_half_open_*): COOKIEs
 * once an address has 3 half-open SAs (strongSwan's cookie_threshold_ip),
 * drops once it has 5 (block_threshold), and at most 4096 in all (about
 * 3.1 KB each, measured by test_ike_hostile_init: 13 MB under a flood).
 */
#define VPNR__COOKIE_PER_SOURCE_DEFAULT    3
#define VPNR__HALF_OPEN_PER_SOURCE_DEFAULT 5
#define VPNR__HALF_OPEN_MAX_DEFAULT        4096
#define VPNR__HALF_OPEN_MAX_LIMIT          (1U << 20)

struct vpnr_config {
	vpnr_mem mem;
	int has_mem;
	uint32_t router_id;
	uint32_t local_as;
	int log_level;
	uint16_t ike_port;
	uint16_t natt_port;
	uint32_t cookie_threshold;
	/* IKE_SA_INIT admission (ipsec/ike_dos.c) */
	uint32_t cookie_threshold_per_source;
	uint32_t half_open_max_per_source;
	uint32_t half_open_max;
};

/* Work queued by calls made inside callbacks, run when the outermost
 * driving call unwinds. */
struct vpnr__deferred {
	STAILQ_ENTRY(vpnr__deferred) entry;
	int (*fn)(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now);
	uint64_t id;
	uint32_t arg;
};
STAILQ_HEAD(vpnr__deferred_q, vpnr__deferred);

struct vpnr__dp_state;

struct vpnr_ctx {
	vpnr_mem mem_store;
	const vpnr_mem *mem; /* &mem_store or NULL for libc */
	struct vpnr_config cfg;
	vpnr_callbacks cb;
	void *user_data;
	vpnr_dataplane dp;
	void *dp_data;

	uint64_t next_id; /* never reused; shared by every id kind */
	uint64_t timer_seq;
	struct vpnr__timer_tree timers;
	vpnr_tstamp now; /* "now" of the current driving call */
	vpnr_tstamp last_expiry_reported;

	int cb_depth;    /* > 0 while a host callback runs */
	int drive_depth; /* > 0 inside a driving call */
	int cb_error;    /* sticky callback failure of this call */
	int dead;        /* a fatal error happened */
	struct vpnr__deferred_q deferred;
	char last_error[160];

	struct vpnr__dp_state *dps; /* lib/dp.c */

	/* IKE/IPsec engine (ipsec/), created by the first tunnel. */
	void *ike;
	void (*ike_free)(vpnr_ctx *ctx);
	int (*ike_shutdown)(vpnr_ctx *ctx, vpnr_tstamp now);
	/* Tunnel lookup for BGP: if_id and whether a CHILD_SA is up. */
	int (*ike_tunnel_lookup)(const vpnr_ctx *ctx, uint64_t tunnel_id,
	    uint32_t *if_id, int *child_up);

	/* BGP engine (bgp/), created by the first peer or path. */
	void *bgp;
	void (*bgp_free)(vpnr_ctx *ctx);
	int (*bgp_shutdown)(vpnr_ctx *ctx, vpnr_tstamp now);
	/* A tunnel's first CHILD_SA came up (up = 1) or its last went. */
	int (*bgp_tunnel_changed)(vpnr_ctx *ctx, uint64_t tunnel_id, int up,
	    vpnr_tstamp now);
	/* It became suspect (1) or showed life again (0). */
	int (*bgp_tunnel_suspect)(vpnr_ctx *ctx, uint64_t tunnel_id,
	    int suspect, vpnr_tstamp now);
	/* Re-issue route_add for every installed route. */
	int (*bgp_replay_routes)(vpnr_ctx *ctx, vpnr_tstamp now);
};

/* Fill cfg with the defaults (log level INFO, ports 500/4500, ...). */
void vpnr__config_defaults(struct vpnr_config *cfg);

uint64_t vpnr__ctx_new_id(vpnr_ctx *ctx);
/* n consecutive ids; returns the first. */
uint64_t vpnr__ctx_new_ids(vpnr_ctx *ctx, uint64_t n);

/*
 * Every public driving call is bracketed by drive_begin/drive_end.
 * begin refuses calls from inside callbacks and on a dead context;
 * end runs deferred work, reports expiry changes and returns the
 * sticky callback failure if one happened, else rv.
 */
int vpnr__drive_begin(vpnr_ctx *ctx, vpnr_tstamp now);
int vpnr__drive_end(vpnr_ctx *ctx, int rv);
/* Queue fn(ctx, id, arg, now) for the end of the outermost call. */
int vpnr__ctx_defer(vpnr_ctx *ctx,
    int (*fn)(vpnr_ctx *, uint64_t, uint32_t, vpnr_tstamp), uint64_t id,
    uint32_t arg);

/*
 * The one entry guard for calls that act on one object (a tunnel, a
 * BGP peer, a data-plane op): from inside a callback the call is
 * refused (VPNR__CALL_DRIVE: VPNR_ERR_IN_CALLBACK) or queued until the
 * outermost driving call unwinds (VPNR__CALL_QUEUE: returns VPNR_OK);
 * elsewhere fn runs between drive_begin and drive_end.
 */
typedef int (
    *vpnr__call_fn)(vpnr_ctx *ctx, uint64_t id, uint32_t arg, vpnr_tstamp now);
#define VPNR__CALL_DRIVE 0
#define VPNR__CALL_QUEUE 1
int vpnr__ctx_call(vpnr_ctx *ctx, int how, vpnr__call_fn fn, uint64_t id,
    uint32_t arg, vpnr_tstamp now);
/*
 * A delete through the guard: queued inside a callback, where the
 * object is marked (*deleting) so that calls naming it fail with
 * VPNR_ERR_NOT_FOUND from then on; run at once elsewhere.
 */
int vpnr__ctx_delete(vpnr_ctx *ctx, vpnr__call_fn fn, uint64_t id,
    vpnr_tstamp now, int *deleting);
static inline int
vpnr__ctx_in_callback(const vpnr_ctx *ctx)
{
	return ctx->cb_depth > 0;
}

/* Record a detail for vpnr_ctx_last_error() and return err. */
int vpnr__ctx_error(vpnr_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Host callbacks, wrapped: depth tracking and the sticky failure.  A
 * callback result other than VPNR_OK (or a documented code) becomes
 * VPNR_ERR_CALLBACK_FAILURE in ctx->cb_error; the engine keeps a
 * consistent state and the driving call returns the failure.
 */
int vpnr__cb_send_datagram(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len);
int vpnr__cb_tunnel_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev);
int vpnr__cb_bgp_event(vpnr_ctx *ctx, const vpnr_bgp_event *ev);
int vpnr__cb_transport_open(vpnr_ctx *ctx, uint64_t transport_id,
    const vpnr_addr *local, const vpnr_addr *remote, uint8_t ttl,
    const uint8_t *md5_key, size_t md5_len);
int64_t vpnr__cb_transport_send(vpnr_ctx *ctx, uint64_t transport_id,
    const uint8_t *data, size_t len);
void vpnr__cb_transport_close(vpnr_ctx *ctx, uint64_t transport_id);
/* Random bytes: the host's rand_bytes hook, else OpenSSL RAND_bytes. */
int vpnr__random(vpnr_ctx *ctx, void *buf, size_t len);

#endif /* VPNR_LIB_CTX_H */
