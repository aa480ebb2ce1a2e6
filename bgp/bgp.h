/*
 * The eBGP engine's internal structures: the module state hung on
 * ctx->bgp, peers and their connections (FSM), the RIB tables and the
 * export state.  Wire formats live in msg.h / attr.h (the codec).
 */
#ifndef VPNR_BGP_BGP_H
#define VPNR_BGP_BGP_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "bgp/attr.h"
#include "bgp/msg.h"
#include "bgp/pool.h"
#include "lib/buf.h"
#include "lib/ctx.h"
#include "lib/timer.h"

/* FSM states (RFC 4271 8.2.2); also VPNR_BGP_STATE_* in vpnroute.h. */
#define BGP_ST_IDLE        0
#define BGP_ST_CONNECT     1
#define BGP_ST_ACTIVE      2
#define BGP_ST_OPENSENT    3
#define BGP_ST_OPENCONFIRM 4
#define BGP_ST_ESTABLISHED 5

#define BGP_AFI_V4 0 /* index into per-family arrays */
#define BGP_AFI_V6 1
#define BGP_NAFI   2

/* ------------------------------------------------------------------ */
/* RIB tables: a chained hash keyed by prefix.  One node per prefix
 * holds every peer's path (Adj-RIB-In) and the Loc-RIB marks. */

#define BGP_PATH_BEST      0x01 /* Loc-RIB best */
#define BGP_PATH_ECMP      0x02 /* in the multipath set (best included) */
#define BGP_PATH_INSTALLED 0x04 /* route_add was issued */
#define BGP_PATH_STALE     0x08 /* graceful restart: awaiting refresh */

/* 24 bytes: nodes and paths come from pools (bgp/pool.h), so a
 * received IPv4 route costs a node, a path and a bucket pointer. */
#define BGP_LSLOT_MAX   0xffffffu /* local paths per context, less one */
#define BGP_LSLOT_BLOCK 1024
struct vpnr__bgp_lslots {
	uintptr_t node[BGP_LSLOT_BLOCK];
	uint32_t gen[BGP_LSLOT_BLOCK];
};
struct vpnr__bgp_path {
	struct vpnr__bgp_path *next;
	const struct vpnr__bgp_attrs *attrs; /* one reference held */
	uint32_t peer_idx;                   /* 0 = locally originated */
	uint32_t flags : 8;                  /* BGP_PATH_* */
	uint32_t lslot : 24; /* local path: its id's slot (api.c) */
};

/* 24 bytes for IPv4, 40 for IPv6. */
struct vpnr__bgp_node {
	struct vpnr__bgp_node *hnext;
	union {
		struct vpnr__bgp_path *paths;      /* RIB: every path */
		const struct vpnr__bgp_attrs *out; /* Adj-RIB-Out: what was
						      sent (one reference) */
	};
	uint8_t af;
	uint8_t len;
	uint8_t key[]; /* 4 or 16 bytes */
};

struct vpnr__bgp_table {
	struct vpnr__bgp_node **b;
	size_t nb; /* power of two, or 0 */
	size_t n;
	uint64_t gen; /* bumped on every resize (walk cursors restart) */
	int adj_out;  /* nodes hold .out, not .paths (kept by _free) */
};

struct vpnr__bgp;
void vpnr__bgp_table_init(struct vpnr__bgp_table *t);
/* Back to its pool. */
void vpnr__bgp_path_free(struct vpnr__bgp *bgp, struct vpnr__bgp_path *p);
void vpnr__bgp_table_free(vpnr_ctx *ctx, struct vpnr__bgp_table *t);
struct vpnr__bgp_node *
vpnr__bgp_table_get(struct vpnr__bgp_table *t, const struct vpnr__bgp_pfx *p);
/* A hint before a lookup of p: load its bucket (node 0) or, once the
 * bucket is in cache, its first node (node 1). */
void vpnr__bgp_table_prefetch(const struct vpnr__bgp_table *t,
    const struct vpnr__bgp_pfx *p, int node);
/* Find or create; NULL on NOMEM. */
struct vpnr__bgp_node *vpnr__bgp_table_add(vpnr_ctx *ctx,
    struct vpnr__bgp_table *t, const struct vpnr__bgp_pfx *p);
/* Create, p known to be absent; NULL on NOMEM. */
struct vpnr__bgp_node *vpnr__bgp_table_insert(vpnr_ctx *ctx,
    struct vpnr__bgp_table *t, const struct vpnr__bgp_pfx *p);
/* Unlink and free a node whose path list is empty. */
void vpnr__bgp_table_del(vpnr_ctx *ctx, struct vpnr__bgp_table *t,
    struct vpnr__bgp_node *n);
void
vpnr__bgp_node_pfx(const struct vpnr__bgp_node *n, struct vpnr__bgp_pfx *p);
size_t vpnr__bgp_table_bucket(const struct vpnr__bgp_table *t,
    const struct vpnr__bgp_node *n);

/* ------------------------------------------------------------------ */
/* Configuration (the public opaque builder, copied into each peer). */

#define BGP_PLIST_MAX 256

struct vpnr__bgp_plist_entry {
	struct vpnr__bgp_pfx pfx;
	uint8_t ge, le; /* accepted lengths [ge, le] */
	uint8_t permit;
};

struct vpnr__bgp_plist {
	struct vpnr__bgp_plist_entry *e;
	size_t n;
	int set; /* a list was configured (else: no filtering) */
};

struct vpnr_bgp_peer_config {
	vpnr_mem mem_store;
	const vpnr_mem *mem;
	vpnr_addr remote;
	uint32_t remote_as;
	vpnr_addr local;
	uint16_t hold_s;
	uint16_t keepalive_s;
	uint16_t connect_retry_s;
	uint16_t send_hold_s; /* 0 = max(2 * hold, 8 min) */
	uint8_t md5[80];
	size_t md5_len;
	uint32_t max_prefix;
	uint32_t max_prefix_action; /* VPNR_BGP_MAXPFX_* */
	uint32_t max_prefix_restart_s;
	uint32_t out_budget;
	uint64_t tunnel_id;
	uint8_t tunnel_down; /* VPNR_BGP_TUNNEL_DOWN_* */
	uint8_t ttl;
	uint8_t passive;
	uint8_t import;         /* VPNR_BGP_IMPORT_* */
	uint8_t export;         /* VPNR_BGP_EXPORT_* */
	uint8_t prepend;        /* extra copies of the local AS */
	uint8_t remove_private; /* strip private ASNs on export */
	uint8_t reject_private; /* refuse paths with private ASNs past the
				   neighbor AS (off by default) */
	uint8_t nh_self;        /* always (eBGP); kept for info */
	uint8_t has_med;
	uint8_t afi_mask; /* 1 = IPv4, 2 = IPv6 unicast */
	uint8_t gr_helper;
	uint8_t always_compare_med;
	uint32_t med;
	vpnr_addr nh4;         /* next hop we advertise, per family (else the */
	vpnr_addr nh6;         /* session's local address) */
	uint32_t gr_restart_s; /* our advertised restart time (0) */
	struct vpnr__bgp_plist pl_in;
	struct vpnr__bgp_plist pl_out;
};

int vpnr__bgp_config_copy(const vpnr_mem *mem, struct vpnr_bgp_peer_config *dst,
    const struct vpnr_bgp_peer_config *src);
void vpnr__bgp_config_clear(struct vpnr_bgp_peer_config *pc);
int vpnr__bgp_plist_match(const struct vpnr__bgp_plist *pl,
    const struct vpnr__bgp_pfx *p);

/* ------------------------------------------------------------------ */
/* Peers and connections. */

struct vpnr__bgp_peer;

/* One TCP connection (there may be two per peer during a collision). */
struct vpnr__bgp_conn {
	RB_ENTRY(vpnr__bgp_conn) tid_entry; /* bgp->conns */
	struct vpnr__bgp_peer *peer;
	uint64_t tid;    /* transport id */
	vpnr_addr local; /* our end, when known */
	int outgoing;
	int state; /* BGP_ST_CONNECT (outgoing, not yet up), OPENSENT,
		      OPENCONFIRM, ESTABLISHED */
	int host_closed;
	/* receive: partial message */
	uint8_t *rx;
	size_t rx_len, rx_cap;
	/* transmit queue */
	uint8_t *tx;
	size_t tx_off, tx_len, tx_cap;
	int tx_blocked;
	/* what the peer sent in OPEN */
	uint32_t peer_as;
	uint32_t peer_id;
	uint16_t peer_hold;
	int open_rcvd;
	struct vpnr__timer hold_timer;
	struct vpnr__timer ka_timer;
	struct vpnr__timer sendhold_timer;
};

/* Negotiated session parameters. */
struct vpnr__bgp_sess {
	uint16_t hold_s;
	uint16_t ka_s;
	int as4;
	int rr;           /* route refresh */
	uint8_t afi;      /* negotiated families: 1 v4, 2 v6 */
	int gr;           /* peer sent a GR capability */
	uint8_t gr_afi;   /* families the peer preserves forwarding for */
	uint16_t gr_time; /* peer's restart time, s */
	uint32_t peer_id; /* BGP identifier */
	uint32_t peer_as;
};

struct vpnr__bgp_pending {
	struct vpnr__bgp_pfx *v;
	size_t n, cap, head;
};

struct vpnr__bgp_peer {
	TAILQ_ENTRY(vpnr__bgp_peer) entry;
	TAILQ_ENTRY(vpnr__bgp_peer) exp_entry;  /* bgp->exporters */
	TAILQ_ENTRY(vpnr__bgp_peer) work_entry; /* bgp->workq */
	uint8_t on_exp, on_work;
	RB_ENTRY(vpnr__bgp_peer) id_entry;   /* bgp->peers_by_id */
	RB_ENTRY(vpnr__bgp_peer) addr_entry; /* bgp->peers_by_addr */
	RB_ENTRY(vpnr__bgp_peer) tun_entry;  /* bgp->peers_by_tunnel */
	vpnr_ctx *ctx;
	uint64_t id;
	uint32_t idx; /* path owner index, >= 1 */
	void *user_data;
	struct vpnr_bgp_peer_config cfg;
	int enabled;
	int deleting;
	int state; /* aggregate BGP_ST_* */
	int tunnel_up;
	int tunnel_suspect; /* its tunnel is suspect: paths rank lower */
	uint32_t if_id;
	struct vpnr__bgp_conn *conn[2]; /* [0] outgoing, [1] incoming */
	struct vpnr__bgp_conn *est;     /* the Established one */
	struct vpnr__bgp_sess sess;
	struct vpnr__timer connect_timer;
	struct vpnr__timer idle_timer; /* restart after max-prefix */
	struct vpnr__timer gr_timer;   /* helper: stale route purge */
	int gr_stale;                  /* stale paths exist */
	int maxpfx_tripped;
	vpnr_tstamp est_at;
	/* counters */
	uint64_t rx_msgs, tx_msgs, rx_updates, tx_updates;
	uint64_t malformed, treat_as_withdraw;
	uint64_t nexthop_refused;    /* UPDATEs refused for their next hop */
	uint32_t nexthop_event_flap; /* flaps + 1 once evented this session */
	uint32_t pfx_rcvd[BGP_NAFI]; /* in Adj-RIB-In (all) */
	uint32_t pfx_accepted[BGP_NAFI]; /* accepted by policy */
	uint32_t pfx_out[BGP_NAFI];      /* in Adj-RIB-Out */
	uint32_t flaps;
	int32_t last_reason;
	uint8_t last_notif_code, last_notif_sub;
	vpnr_tstamp log_last;
	/* export */
	struct vpnr__bgp_table adj_out[BGP_NAFI];
	struct vpnr__bgp_pending pend;
	int syncing[BGP_NAFI]; /* initial table walk running */
	size_t sync_cursor[BGP_NAFI];
	uint64_t sync_gen[BGP_NAFI];
	int eor_sent[BGP_NAFI];
	int eor_rcvd[BGP_NAFI];
	/* Said once per session: 1 the out budget reached, 2 max_prefix
	 * exceeded, 4 the out budget near. */
	int budget_warned;
	int work; /* has export work */
};
TAILQ_HEAD(vpnr__bgp_peer_q, vpnr__bgp_peer);
RB_HEAD(vpnr__bgp_peer_id_tree, vpnr__bgp_peer);
RB_PROTOTYPE(vpnr__bgp_peer_id_tree, vpnr__bgp_peer, id_entry,
    vpnr__bgp_peer_id_cmp);
RB_HEAD(vpnr__bgp_peer_addr_tree, vpnr__bgp_peer);
RB_PROTOTYPE(vpnr__bgp_peer_addr_tree, vpnr__bgp_peer, addr_entry,
    vpnr__bgp_peer_addr_cmp);
RB_HEAD(vpnr__bgp_peer_tun_tree, vpnr__bgp_peer);
RB_PROTOTYPE(vpnr__bgp_peer_tun_tree, vpnr__bgp_peer, tun_entry,
    vpnr__bgp_peer_tun_cmp);
RB_HEAD(vpnr__bgp_conn_tree, vpnr__bgp_conn);
RB_PROTOTYPE(vpnr__bgp_conn_tree, vpnr__bgp_conn, tid_entry,
    vpnr__bgp_conn_cmp);

/*
 * A connection closed by us while bytes (its final NOTIFICATION) were
 * still queued: transport_close waits until they are sent
 * (bgp/transport.c).
 */
struct vpnr__bgp_linger {
	LIST_ENTRY(vpnr__bgp_linger) entry;
	vpnr_ctx *ctx;
	uint64_t tid;
	uint8_t *buf;
	size_t off, len;
	struct vpnr__timer timer;
};
LIST_HEAD(vpnr__bgp_linger_list, vpnr__bgp_linger);
#define VPNR__BGP_LINGER (10 * VPNR_SECONDS)

struct vpnr__bgp {
	vpnr_ctx *ctx;
	struct vpnr__bgp_linger_list lingers; /* zeroed = empty */
	uint64_t notif_lost; /* closes whose queued bytes were dropped */
	struct vpnr__bgp_peer_q peers;
	/* Per-message and per-pump work never walks every peer: */
	struct vpnr__bgp_peer_q exporters; /* Established, export policy */
	struct vpnr__bgp_peer_q workq;     /* p->work set */
	/* Lookups on the connection and setup paths never walk peers. */
	struct vpnr__bgp_peer_id_tree peers_by_id;
	struct vpnr__bgp_peer_addr_tree peers_by_addr;  /* remote, id */
	struct vpnr__bgp_peer_tun_tree peers_by_tunnel; /* tunnel, id */
	struct vpnr__bgp_conn_tree conns;               /* transport id */
	struct vpnr__bgp_peer **by_idx;
	uint32_t n_idx, cap_idx;
	uint32_t *free_idx; /* indexes of deleted peers, reused first */
	uint32_t n_free_idx;
	struct vpnr__bgp_table rib[BGP_NAFI];
	/* RIB and Adj-RIB-Out objects */
	struct vpnr__bgp_pool pool_node[BGP_NAFI];
	struct vpnr__bgp_pool pool_path;
	/* Locally originated paths: a path id is gen << 32 | (slot + 1);
	 * a slot's node is the prefix's node (free slots hold next << 1 |
	 * 1, a list from lslot_free - 1), its gen the generation of its
	 * current id.  12 bytes per path, no search. */
	struct vpnr__bgp_lslots **lslot; /* in blocks: no doubling slack */
	uint32_t lslot_n, lslot_nblk, lslot_free;
	uint32_t lgen; /* generation of the last path id handed out */
	uint64_t routes_installed;
	uint64_t dp_errors;
	vpnr_tstamp log_last;
	int pumping;
	int dying; /* bgp_free: tables go with the pools, no unref walk */
	struct vpnr__timer pump_timer; /* coalesces API-driven changes */
	uint32_t n_exporting; /* Established peers with an export policy */
	struct vpnr__bgp_pfx batch[4096];
	struct vpnr__bgp_node *batch_node[4096]; /* table walk: its nodes */
	struct vpnr__bgp_out_ent {
		struct vpnr__bgp_pfx pfx;
		const struct vpnr__bgp_attrs *a;
	} ann[4096];
	struct vpnr__bgp_pfx grp[4096];
	struct vpnr__bgp_attr_table *attrs; /* intern table */
	struct vpnr__bgp_attrs_build *bld;  /* parser / export scratch */
	struct vpnr__wbuf wb;               /* message scratch */
	/* scratch */
	uint8_t *scratch;
	size_t scratch_cap;
};

/* bgp/transport.c: close tid after off..len of buf (taken over) was
 * sent; VPNR_ERR_NOMEM leaves buf to the caller. */
int vpnr__bgp_close_after(vpnr_ctx *ctx, uint64_t tid, uint8_t *buf, size_t off,
    size_t len);
void vpnr__bgp_lingers_free(vpnr_ctx *ctx);

/* bgp/api.c */
struct vpnr__bgp *vpnr__bgp_get(vpnr_ctx *ctx); /* create on first use */
struct vpnr__bgp_peer *vpnr__bgp_peer_find(struct vpnr__bgp *bgp, uint64_t id);
/* The first peer (by id) configured for a remote address, or NULL. */
struct vpnr__bgp_peer *
vpnr__bgp_peer_first_by_addr(struct vpnr__bgp *bgp, const vpnr_addr *remote);
struct vpnr__bgp_peer *
vpnr__bgp_peer_next_by_addr(struct vpnr__bgp *bgp, struct vpnr__bgp_peer *p);

static inline int
vpnr__bgp_afi_idx(uint8_t af)
{
	return af == VPNR_AF_INET6 ? BGP_AFI_V6 : BGP_AFI_V4;
}

/* bgp/fsm.c: session state machine. */
int vpnr__bgp_fsm_start(struct vpnr__bgp_peer *p, vpnr_tstamp now);
/* Stop with a NOTIFICATION (code 0 = none), reason for the event. */
int vpnr__bgp_fsm_stop(struct vpnr__bgp_peer *p, uint8_t code, uint8_t sub,
    const uint8_t *data, size_t dlen, int32_t reason, vpnr_tstamp now);
int vpnr__bgp_fsm_accepted(struct vpnr__bgp_peer *p, uint64_t tid,
    const vpnr_addr *local, vpnr_tstamp now);
int
vpnr__bgp_fsm_connected(struct vpnr__bgp_conn *c, int status, vpnr_tstamp now);
int vpnr__bgp_fsm_recv(struct vpnr__bgp_conn *c, const uint8_t *data,
    size_t len, vpnr_tstamp now);
int vpnr__bgp_fsm_writable(struct vpnr__bgp_conn *c, vpnr_tstamp now);
int vpnr__bgp_fsm_closed(struct vpnr__bgp_conn *c, int status, vpnr_tstamp now);
struct vpnr__bgp_conn *vpnr__bgp_conn_find(struct vpnr__bgp *bgp, uint64_t tid);
/* Queue bytes on a connection and try to send. */
int
vpnr__bgp_conn_send(struct vpnr__bgp_conn *c, const uint8_t *data, size_t len);
size_t vpnr__bgp_conn_queued(const struct vpnr__bgp_conn *c);
void vpnr__bgp_peer_timers_init(struct vpnr__bgp_peer *p);
void vpnr__bgp_peer_free_conns(struct vpnr__bgp_peer *p);
void vpnr__bgp_session_reset(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_err *err, int32_t reason, vpnr_tstamp now);
/* The peer's tunnel went down (up = 0) or came back (api.c). */
int vpnr__bgp_fsm_tunnel(struct vpnr__bgp_peer *p, int up, vpnr_tstamp now);
void vpnr__bgp_fsm_suspect(struct vpnr__bgp_peer *p, int suspect);
int vpnr__bgp_emit(struct vpnr__bgp_peer *p, uint32_t type, int32_t reason,
    uint8_t code, uint8_t sub, uint8_t afi);

/* bgp/peer.c: UPDATE processing on an Established session. */
int vpnr__bgp_peer_update(struct vpnr__bgp_peer *p, const uint8_t *msg,
    size_t len, vpnr_tstamp now);
int vpnr__bgp_peer_refresh(struct vpnr__bgp_peer *p, const uint8_t *msg,
    size_t len, vpnr_tstamp now);
void vpnr__bgp_peer_established(struct vpnr__bgp_peer *p, vpnr_tstamp now);
void
vpnr__bgp_peer_down(struct vpnr__bgp_peer *p, int graceful, vpnr_tstamp now);

/* bgp/rib.c */
/* Insert/replace peer's path (takes the attrs reference). */
int vpnr__bgp_rib_update(struct vpnr__bgp *bgp, uint32_t peer_idx,
    const struct vpnr__bgp_pfx *p, const struct vpnr__bgp_attrs *a,
    int *was_new);
/* Remove peer's path; returns 1 if one was removed. */
int vpnr__bgp_rib_withdraw(struct vpnr__bgp *bgp, uint32_t peer_idx,
    const struct vpnr__bgp_pfx *p);
/* Remove every path of a peer (only_stale: GR purge). */
void vpnr__bgp_rib_purge_peer(struct vpnr__bgp *bgp, uint32_t peer_idx,
    int only_stale);
void vpnr__bgp_rib_purge_peer_afi(struct vpnr__bgp *bgp, uint32_t peer_idx,
    uint8_t afi_mask);
void vpnr__bgp_rib_mark_stale(struct vpnr__bgp *bgp, uint32_t peer_idx,
    uint8_t afi_mask);
/* Re-run the decision on a node and apply data-plane + export diffs. */
void vpnr__bgp_rib_decide(struct vpnr__bgp *bgp, struct vpnr__bgp_node *n);
int vpnr__bgp_rib_replay(vpnr_ctx *ctx, vpnr_tstamp now);
/* Re-issue data-plane ops for a peer's installed routes (tunnel
 * if_id change). */
void vpnr__bgp_rib_reinstall_peer(struct vpnr__bgp *bgp, uint32_t peer_idx);
/* A peer's paths became usable or unusable (its tunnel came or went):
 * decide again on every prefix it has a path for. */
void vpnr__bgp_rib_redecide_peer(struct vpnr__bgp *bgp, uint32_t peer_idx);
/* Whether a peer's paths may be used: not while its tunnel is down. */
int vpnr__bgp_peer_usable(const struct vpnr__bgp_peer *p);

/* bgp/decide.c: RFC 4271 9.1.2.2; < 0 if a is better than b. */
struct vpnr__bgp_path_info {
	uint32_t peer_idx;
	uint32_t as_path_len;
	uint32_t neighbor_as; /* first AS, 0 if empty (local) */
	uint8_t origin;
	uint8_t has_med;
	uint32_t med;
	uint32_t local_pref;
	uint32_t router_id;
	vpnr_addr peer_addr;
	int local; /* locally originated */
	int ebgp;
};
void vpnr__bgp_path_info(struct vpnr__bgp *bgp,
    const struct vpnr__bgp_path *path, struct vpnr__bgp_path_info *pi);
/* Returns <0 / >0 if a / b wins; *tie_at is the step that decided
 * (steps >= BGP_DECIDE_ECMP_STEP are multipath-equal). */
#define BGP_DECIDE_ECMP_STEP 8
int vpnr__bgp_decide_cmp(const struct vpnr__bgp_path_info *a,
    const struct vpnr__bgp_path_info *b, int always_compare_med, int *tie_at);

/* bgp/policy.c */
/* Import: 0 accept, or a reason the path is denied. */
#define BGP_DENY_POLICY  1
#define BGP_DENY_PLIST   2
#define BGP_DENY_LOOP    3
#define BGP_DENY_PRIVATE 4
#define BGP_DENY_FIRSTAS 5
int vpnr__bgp_policy_import(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_pfx *pfx, const struct vpnr__bgp_attrs *a);
/* Export: NULL = do not advertise; else a new reference to the
 * transformed set to advertise. */
const struct vpnr__bgp_attrs *vpnr__bgp_policy_export(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_pfx *pfx, const struct vpnr__bgp_path *best);

/* bgp/adj_out.c */
void
vpnr__bgp_out_changed(struct vpnr__bgp *bgp, const struct vpnr__bgp_node *n);
void vpnr__bgp_out_start(struct vpnr__bgp_peer *p);
void vpnr__bgp_out_reset(struct vpnr__bgp_peer *p);
int vpnr__bgp_out_pump(struct vpnr__bgp_peer *p);
/* Take a peer off the export and work lists (it is being deleted). */
void vpnr__bgp_out_forget(struct vpnr__bgp_peer *p);
int vpnr__bgp_pump_all(vpnr_ctx *ctx);
/* Pump at the next vpnr_ctx_handle_expiry(), or now when a peer has a
 * full batch waiting: many API calls in a row make few UPDATEs. */
int vpnr__bgp_pump_soon(vpnr_ctx *ctx);
void vpnr__bgp_out_refresh(struct vpnr__bgp_peer *p, int afi_idx);

#endif /* VPNR_BGP_BGP_H */
