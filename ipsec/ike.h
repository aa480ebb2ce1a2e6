/*
 * IKEv2 engine internals (RFC 7296, PSK): the module state hung on
 * ctx->ike, tunnels, IKE SAs and CHILD_SAs, and the functions the
 * engine's files share.  Nothing outside ipsec/ includes this.
 */
#ifndef VPNR_IPSEC_IKE_H
#define VPNR_IPSEC_IKE_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "buf.h"
#include "crypto.h"
#include "ctx.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "timer.h"

#define VPNR__IKE_MAX_PROPS     8
#define VPNR__IKE_MAX_CFG_TS    8
#define VPNR__IKE_MAX_ID        255
#define VPNR__IKE_NONCE_LEN     32
#define VPNR__IKE_MAX_NONCE     256
#define VPNR__IKE_MARKER_LEN    4    /* non-ESP marker on port 4500 */
#define VPNR__IKE_MIN_NONCE     16   /* RFC 7296 2.10 */
#define VPNR__IKE_PORT          500  /* the default ports (vpnr_config) */
#define VPNR__IKE_NATT_PORT     4500 /* and those of a standard peer */
#define VPNR__IKE_KEEPALIVE     (20 * VPNR_SECONDS)
#define VPNR__IKE_HALF_OPEN_TMO (30 * VPNR_SECONDS)
#define VPNR__IKE_DELETE_TMO    (10 * VPNR_SECONDS)
/* How long a CHILD_SA's data-plane ops may stay pending. */
#define VPNR__IKE_INSTALL_TMO (10 * VPNR_SECONDS)
/* A replaced IKE SA / CHILD_SA waits this long for a DELETE (the
 * peer's, or ours of the CHILD_SA when it is still there). */
#define VPNR__IKE_REKEYED_TMO   (4 * VPNR__IKE_DELETE_TMO)
#define VPNR__CHILD_REKEYED_TMO (3 * VPNR__IKE_DELETE_TMO)
/* A rekey that failed or was voided (the old SA stays) is tried again
 * after this; IKEv1's, when no Quick Mode could start, after the
 * other. */
#define VPNR__IKE_REKEY_RETRY    (30 * VPNR_SECONDS)
#define VPNR__IKE_V1_REKEY_RETRY (5 * VPNR_SECONDS)
/* A retransmit timeout doubles at most this often (then the caps
 * below, if any, apply). */
#define VPNR__IKE_RTX_DOUBLINGS 20
/* INVALID_KE_PAYLOAD: how many times another DH group is tried. */
#define VPNR__IKE_INVALID_KE_TRIES 2
/*
 * Reconnects: jittered exponential backoff (up to half of each delay
 * is taken off at random).  A failure that will not fix itself
 * (AUTH_FAILED, NO_PROPOSAL, TS_UNACCEPTABLE) backs off further.
 */
#define VPNR__IKE_RECONNECT_BASE      (VPNR_SECONDS / 2)
#define VPNR__IKE_RECONNECT_MAX       (10 * VPNR_SECONDS)
#define VPNR__IKE_RECONNECT_PERM_BASE (5 * VPNR_SECONDS)
#define VPNR__IKE_RECONNECT_PERM_MAX  (60 * VPNR_SECONDS)
/* A connection attempt's retransmit timeout stops doubling here, so
 * that after a long outage the next try is never far away. */
#define VPNR__IKE_ATTEMPT_RTX_MAX (4 * VPNR_SECONDS)
/* On an established IKE SA with liveness checks a request never gives
 * up by count (the checks find a dead peer): its timeout stops here. */
#define VPNR__IKE_LIVE_RTX_MAX (8 * VPNR_SECONDS)
/* Liveness defaults and limits (vpnr_tunnel_config_set_liveness). */
#define VPNR__IKE_DPD_INTERVAL     (10 * VPNR_SECONDS)
#define VPNR__IKE_DPD_TIMEOUT      (20 * VPNR_SECONDS)
#define VPNR__IKE_DPD_INTERVAL_MAX (3600 * VPNR_SECONDS)
#define VPNR__IKE_DPD_TIMEOUT_MIN  (2 * VPNR_SECONDS)
#define VPNR__IKE_DPD_TIMEOUT_MAX  (3600 * VPNR_SECONDS)
#define VPNR__SUSPECT_MAX          (60 * VPNR_SECONDS)
#define VPNR__IKE_PROBE_FIRST      (VPNR_SECONDS / 2)
/* A share_ike tunnel whose sibling's IKE SA is still connecting (and an
 * IKEv1 tunnel whose sibling's Phase 1 is under way) waits for it,
 * started when it is up, and looks again this often. */
#define VPNR__IKE_SHARE_WAIT (VPNR_SECONDS)

/*
 * The head of a block that is immutable once made and shared by
 * reference; freed with the allocator that made it when the last
 * holder lets go.
 */
struct vpnr__shared {
	uint32_t refs; /* atomic */
	int has_mem;
	vpnr_mem mem;
};

/*
 * A proposal list, shared: every tunnel added from one builder holds
 * the builder's list instead of a copy (adding a proposal to the
 * builder makes a new list).
 */
struct vpnr__prop_set {
	struct vpnr__shared hdr; /* first: the block starts here */
	size_t n;
	struct vpnr__prop p[];
};

/* The traffic selectors, shared the same way: n_local, then n_remote. */
struct vpnr__ts_set {
	struct vpnr__shared hdr; /* first: the block starts here */
	size_t n_local, n_remote;
	vpnr_ts ts[];
};

/* The tunnel configuration builder (public opaque type). */
struct vpnr_tunnel_config {
	const vpnr_mem *mem; /* a builder's: its own copy, beside it */
	vpnr_addr local, remote;
	uint8_t *psk;
	size_t psk_len;
	uint8_t local_id_type, remote_id_type;
	int local_id_set, remote_id_set;
	/* Identity values, *_id_len bytes each (NULL when 0). */
	uint8_t *local_id, *remote_id;
	size_t local_id_len, remote_id_len;
	/* Proposals: ike/esp point into the shared sets (n_* entries). */
	struct vpnr__prop_set *ike_set, *esp_set;
	const struct vpnr__prop *ike, *esp;
	size_t n_ike, n_esp;
	/* Selectors: ts_local/ts_remote point into the shared set. */
	struct vpnr__ts_set *ts_set;
	const vpnr_ts *ts_local, *ts_remote;
	size_t n_ts_local, n_ts_remote;
	uint32_t if_id;
	uint32_t ike_version; /* 2 (0 = unset) or 1 */
	uint32_t ikev1_flags; /* VPNR_IKEV1_* */
	uint32_t dpd_action;
	vpnr_tstamp dpd_interval, dpd_timeout; /* liveness */
	vpnr_tstamp suspect_after;             /* 0: no suspicion (tunnel.c) */
	vpnr_tstamp ike_rekey, child_rekey;
	uint32_t jitter_percent;
	uint32_t rtx_tries;
	vpnr_lifetime soft, hard;
	int force_encap;
	int share_ike; /* IKEv2: open the CHILD_SA in a sibling's IKE SA */
	/* The peer's ports, apart from the address: set_addrs() leaves
	 * them alone.  0: the defaults of vpnr__peer_ike_port() and
	 * vpnr__peer_natt_port(). */
	uint16_t peer_ike_port, peer_natt_port;
	uint32_t replay_window;
	vpnr_tstamp rtx_first;
	/* The builder's last error is kept beside it (struct
	 * vpnr__tc_builder in tunnel_config.c), not in each tunnel's copy. */
};

/* Fill defaults where the builder left things unset. */
VPNR__MUST_CHECK int vpnr__tunnel_config_copy(struct vpnr_tunnel_config *dst,
    const struct vpnr_tunnel_config *src, const vpnr_mem *mem);
void vpnr__tunnel_config_clear(struct vpnr_tunnel_config *tc);

struct ike_sa;
struct tunnel;

/*
 * Keys of one IKE SA: one allocation sized to the negotiated suite
 * (sk_d starts it, the others point into it, in prf+ order), wiped
 * when freed (vpnr__ike_keys_free).  All NULL before IKE_SA_INIT.
 */
struct ike_keys {
	uint8_t *sk_d, *sk_ai, *sk_ar, *sk_ei, *sk_er, *sk_pi, *sk_pr;
	uint16_t prf_len, integ_len, encr_len;
};

#define CHILD_INSTALLED  1
#define CHILD_REKEYING   2 /* our rekey request is outstanding */
#define CHILD_REKEYED    3 /* replaced; waiting for its DELETE */
#define CHILD_DELETING   4 /* our DELETE is outstanding */
#define CHILD_INSTALLING 5 /* data-plane ops not yet completed */
#define CHILD_FAILED     6 /* an install op failed; being removed */

/* Why a CHILD_SA was created: what its completed install leads to. */
#define CHILD_ROLE_NEW_I   1 /* we initiated (IKE_AUTH): CHILD_UP */
#define CHILD_ROLE_NEW_R   2 /* we answer: held response, CHILD_UP */
#define CHILD_ROLE_REKEY_I 3 /* our rekey: switch, delete the old */
#define CHILD_ROLE_REKEY_R 4 /* the peer's rekey: held response */
#define CHILD_ROLE_COLLIDE \
	5 /* the peer's rekey crossed ours: the \
	     nonces decide what is reported (2.8.1) */

struct child_sa {
	TAILQ_ENTRY(child_sa) entry;
	RB_ENTRY(child_sa) id_entry;  /* ike->children, by id */
	RB_ENTRY(child_sa) spi_entry; /* ike->child_spis, by spi_in */
	struct tunnel *tun;
	uint64_t id; /* = sa_id of the inbound SA */
	uint64_t sa_id_in, sa_id_out;
	uint32_t spi_in, spi_out; /* host order */
	int state;
	uint32_t life; /* IKEv1: the lifetime agreed (s), or 0 */
	struct vpnr__suite suite;
	vpnr_ts *ts_local, *ts_remote; /* one allocation, ts_local owns */
	size_t n_ts_local, n_ts_remote;
	vpnr_tstamp installed_at;
	struct vpnr__timer rekey_timer;
	/* Installation (sa_add x 2, policy_add per selector pair): the
	 * CHILD_SA counts only once every op completed. */
	int role;             /* CHILD_ROLE_* */
	int we_init;          /* we initiated the creating exchange */
	int pending;          /* install ops not yet completed */
	int up_reported;      /* CHILD_UP or CHILD_REKEYED named it */
	uint64_t rekey_of;    /* the CHILD_SA this one replaces, or 0 */
	uint64_t held_spi;    /* IKE SA whose response waits for it, or 0 */
	uint64_t policy_base; /* policy ids policy_base .. + n_policies */
	uint32_t n_policies;
	int down_reason; /* reason its CHILD_DOWN reports */
	/* Inbound SA counters last seen through sa_query (liveness), and
	 * the outbound SA's packets (suspicion). */
	uint64_t seen_packets, seen_out_packets;
	vpnr_tstamp seen_used;
	/* Rekey collision bookkeeping (RFC 7296 2.8.1). */
	uint64_t replaced_by;      /* child id that replaced this one */
	uint64_t peer_rekey_child; /* child the peer's rekey created */
	/* The lower nonce of the peer's crossing rekey, sized to it; held
	 * only while a collision is pending (NULL otherwise). */
	uint8_t *peer_rekey_nonce;
	size_t peer_rekey_nonce_len;
};
TAILQ_HEAD(child_list, child_sa);
RB_HEAD(vpnr__child_id_tree, child_sa);
RB_PROTOTYPE(vpnr__child_id_tree, child_sa, id_entry, vpnr__child_id_cmp);
RB_HEAD(vpnr__child_spi_tree, child_sa);
RB_PROTOTYPE(vpnr__child_spi_tree, child_sa, spi_entry, vpnr__child_spi_cmp);

/* What our outstanding request is. */
#define REQ_NONE         0
#define REQ_INIT         1
#define REQ_AUTH         2
#define REQ_REKEY_CHILD  3
#define REQ_REKEY_IKE    4
#define REQ_DELETE_CHILD 5
#define REQ_DELETE_IKE   6
#define REQ_DPD          7
#define REQ_NOTIFY       8  /* fire-and-forget error notify */
#define REQ_DELETE_SPI   9  /* DELETE of an ESP SPI we could not install */
#define REQ_NEW_CHILD    10 /* a guest tunnel's CHILD_SA (ike_guest.c) */

/* Queued work waiting for the request window. */
struct ike_task {
	STAILQ_ENTRY(ike_task) entry;
	int type;          /* REQ_* */
	uint64_t child_id; /* REQ_NEW_CHILD: the tunnel's id */
};
STAILQ_HEAD(ike_task_q, ike_task);

#define IKE_INIT_SENT   1 /* initiator: IKE_SA_INIT out */
#define IKE_AUTH_SENT   2 /* initiator: IKE_AUTH out */
#define IKE_HALF_OPEN   3 /* responder: IKE_SA_INIT answered */
#define IKE_ESTABLISHED 4
#define IKE_REKEYED     5 /* replaced by a new IKE SA */
#define IKE_DELETING    6
#define IKE_DEAD        7

/*
 * Where a tunnel's bytes go, per side, measured by bench_scale at
 * N = 10,000 alone (aes256gcm16-prfsha256-x25519, one CHILD_SA, idle):
 * 3.91 KiB of RSS in all (target 4; was 6.31), of which 3.66 KiB is
 * heap in use (mallinfo2) and ~0.25 KiB malloc's holes left by what
 * the bring-up freed.  Sizes are malloc chunks (header and 16-byte
 * rounding included):
 *   config   1.29 KiB: struct tunnel 720 (its vpnr_tunnel_config 336;
 *            the builder's error text and allocator copy stay with the
 *            builder), PSK, identities, proposal and selector sets
 *            (bench_scale makes one builder per tunnel: not shared)
 *   ike_sa   1.05 KiB: the struct 896 (four timers 256, two wbuf
 *            headers 96, tree/list links 112, our CREATE_CHILD_SA
 *            nonce 32, SPIs, addresses, counters; 16 more since for
 *            tunnels riding it, ike_guest.c), keys 176 (one
 *            allocation sized to the suite, wiped when freed).  Ni/Nr
 *            go once IKE_AUTH is done, a collision nonce exists only
 *            while a collision is pending, an answered request is
 *            freed, and the cached last response (kept until the next
 *            request, which it may have to answer again) is sized
 *            exactly
 *   child_sa 0.47 KiB: 352 + its selectors 128
 *   lib/dp.c 0.84 KiB kept for vpnr_dp_replay(): two SA copies 256
 *            each (fields and keys in one allocation), two policies
 *            112 each (rebuilt per call), one selector block 128
 *            shared by all four
 * What is left is state in use, one copy each.  Next candidates: the
 * handshake-only fields of ike_sa (~90 B), selectors shared between
 * the engine and lib/dp.c (128), and the holes (allocate the
 * handshake's transient buffers apart from long-lived objects).
 */
struct ike_sa {
	RB_ENTRY(ike_sa) entry;
	TAILQ_ENTRY(ike_sa) tentry; /* tunnel's list of IKE SAs */
	struct tunnel *tun;
	uint64_t local_spi;
	uint64_t spi_i, spi_r;
	int initiator; /* we are the original initiator */
	int state;
	/* Small fields side by side: no padding between them. */
	struct vpnr__suite suite;
	uint16_t ke_group;     /* group of the KE we sent */
	uint16_t nat_flags;    /* 1 local NAT, 2 remote NAT, 4 forced */
	uint16_t close_notify; /* the notify behind close_reason, or 0 */
	int natt;              /* floated to the NAT-T port */
	int close_reason;      /* reason our DELETE of this IKE SA reports */
	struct ike_keys keys;
	uint64_t iv_seq; /* last AEAD IV we sealed with (ike_sk.c) */
	struct vpnr__dh *dh;
	/* Ni and Nr, each sized to its length; needed for SKEYSEED, AUTH
	 * and the first CHILD_SA's KEYMAT only, so freed once IKE_AUTH is
	 * done (vpnr__ike_sa_drop_nonces) or a rekey derived its keys. */
	uint8_t *ni, *nr;
	uint32_t ni_len, nr_len;       /* <= VPNR__IKE_MAX_NONCE */
	uint8_t *init_req, *init_resp; /* IKE_SA_INIT messages (for AUTH) */
	uint32_t init_req_len, init_resp_len; /* <= VPNR__IKE_MAX_MSG */
	uint8_t *cookie;
	size_t cookie_len;
	int invalid_ke_retries;
	int half_open_counted;

	vpnr_addr local, remote; /* current, ports included */

	/* Our requests. */
	uint32_t next_req_id;
	int req_type; /* REQ_* outstanding, or REQ_NONE */
	uint64_t req_child;
	uint64_t req_tun;  /* tunnel of our CREATE_CHILD_SA's CHILD_SA */
	uint32_t n_guests; /* tunnels riding it (ike_guest.c) */
	/* An ESP SPI the peer deleted while our REQ_NEW_CHILD was out. */
	uint32_t peer_del_spi;
	struct vpnr__wbuf req; /* marker + message */
	uint32_t req_tries;
	uint32_t req_spi; /* new inbound ESP SPI (CREATE_CHILD_SA) */
	struct vpnr__timer rtx_timer;
	struct ike_task_q tasks;
	/* Data for an outstanding CREATE_CHILD_SA. */
	struct vpnr__dh *req_dh;
	uint8_t req_nonce[VPNR__IKE_NONCE_LEN]; /* ours: always this long */
	size_t req_nonce_len;
	RB_ENTRY(ike_sa) req_spi_entry; /* ike->req_spis while indexed */
	int req_spi_indexed;
	/* The peer's requests. */
	uint32_t next_peer_id;
	uint64_t req_ike_spi;   /* new IKE SPI for an IKE rekey */
	struct vpnr__wbuf resp; /* cached last response */
	int have_resp;
	/* A response held until a CHILD_SA's install ops complete
	 * (RFC 7296 lets the responder take its time), and the
	 * TEMPORARY_FAILURE answer sent instead if one fails. */
	uint64_t held_child;
	struct vpnr__wbuf *resp_fail; /* allocated while held, or NULL */

	vpnr_tstamp last_rx;      /* any valid message from the peer */
	vpnr_tstamp last_resp_rx; /* a response to one of our requests */
	vpnr_tstamp established_at;
	struct vpnr__timer rekey_timer;
	struct vpnr__timer keepalive_timer;
	struct vpnr__timer life_timer; /* half-open / delete timeout */

	/* IKE rekey collision: the SA the peer's rekey created. */
	uint64_t peer_rekey_spi;
	uint8_t *peer_rekey_nonce; /* sized; NULL unless colliding */
	size_t peer_rekey_nonce_len;
	struct vpnr__ike_src *half_open_src; /* its source's count */
};
RB_HEAD(vpnr__ike_sa_tree, ike_sa);
RB_PROTOTYPE(vpnr__ike_sa_tree, ike_sa, entry, vpnr__ike_sa_cmp);
RB_HEAD(vpnr__req_spi_tree, ike_sa);
RB_PROTOTYPE(vpnr__req_spi_tree, ike_sa, req_spi_entry, vpnr__req_spi_cmp);
TAILQ_HEAD(ike_sa_list, ike_sa);

struct v1_sa; /* an IKEv1 ISAKMP SA (ikev1_tunnel.c) */
TAILQ_HEAD(v1_sa_list, v1_sa);
RB_HEAD(vpnr__v1_sa_tree, v1_sa);

struct tunnel {
	RB_ENTRY(tunnel) entry;
	RB_ENTRY(tunnel) peer_entry; /* ike->by_peer */
	uint64_t id;
	void *user_data;
	struct vpnr_tunnel_config cfg;
	int state;              /* VPNR_TUNNEL_* */
	int want_up;            /* initiate/reconnect wanted */
	struct ike_sa *ike;     /* current IKE SA, or NULL */
	struct ike_sa_list sas; /* every IKE SA of this tunnel */
	struct child_list children;
	struct v1_sa_list v1_sas; /* IKEv1: its ISAKMP SAs */
	struct v1_sa *v1;         /* IKEv1: the current one, or NULL */
	int child_up_reported;
	int deleting; /* vpnr_tunnel_del queued from a callback */
	struct vpnr__timer dpd_timer;
	struct vpnr__timer reconnect_timer;
	uint32_t reconnects;     /* since a CHILD_SA was last up */
	int permanent_logged;    /* said that retrying will not help */
	vpnr_tstamp alive_at;    /* last proof of life of the peer */
	vpnr_tstamp peer_req_at; /* last request from the peer */
	vpnr_tstamp probe_start; /* liveness probing began, or 0 */
	uint32_t probe_tries;    /* IKEv1 R-U-THEREs sent this round */
	int v1_wait; /* IKEv1: waits for an ISAKMP SA to the peer to be
		      * up or free (ikev1_tunnel.c, qm_next) */
	vpnr_tstamp probe_next; /* IKEv1: the next R-U-THERE is due */
	vpnr_tstamp sent_at;    /* ESP last seen leaving (suspicion) */
	int suspect;            /* VPNR_TUNNEL_EV_SUSPECT reported */
	int32_t last_error;
	vpnr_tstamp established_at;
	uint64_t ike_rekeys, child_rekeys, retransmits, malformed;
	vpnr_tstamp log_last;
};
RB_HEAD(vpnr__tunnel_tree, tunnel);
RB_PROTOTYPE(vpnr__tunnel_tree, tunnel, entry, vpnr__tunnel_cmp);
RB_HEAD(vpnr__tunnel_peer_tree, tunnel);
RB_PROTOTYPE(vpnr__tunnel_peer_tree, tunnel, peer_entry, vpnr__tunnel_peer_cmp);

/* A source address with half-open IKE SAs (ike_dos.c). */
struct vpnr__ike_src {
	RB_ENTRY(vpnr__ike_src) entry;
	vpnr_addr addr; /* port 0 */
	uint32_t half_open;
};
RB_HEAD(vpnr__ike_src_tree, vpnr__ike_src);
RB_PROTOTYPE(vpnr__ike_src_tree, vpnr__ike_src, entry, vpnr__ike_src_cmp);

/*
 * Every lookup on a packet or setup path goes through one of these
 * indexes, so setting up the 10,000th tunnel costs what the first did.
 */
struct vpnr__ike {
	struct vpnr__tunnel_tree tunnels;       /* by id */
	struct vpnr__tunnel_peer_tree by_peer;  /* by remote, local, id */
	struct vpnr__ike_sa_tree sas;           /* by local SPI */
	struct vpnr__req_spi_tree req_spis;     /* ESP SPIs offered */
	struct vpnr__child_id_tree children;    /* by id (= sa_id_in) */
	struct vpnr__child_spi_tree child_spis; /* by spi_in */
	struct vpnr__v1_sa_tree v1_sas;         /* ISAKMP SAs by cky_i */
	uint32_t v1_half_open;
	uint32_t half_open;
	struct vpnr__ike_src_tree srcs; /* half-open SAs per address */
	uint32_t n_srcs;
	uint32_t n_share;  /* tunnels with share_ike (tunnel.c) */
	vpnr_ike_stats st; /* refusal counters (ike_dos.c) */
	vpnr_tstamp dos_log;
	vpnr_tstamp err_notify_start; /* rate window of error answers */
	uint32_t err_notify_n;
	uint8_t cookie_secret[32];
	uint64_t malformed;
	vpnr_tstamp malformed_log;
	uint8_t *scratch; /* decrypted SK payload */
	size_t scratch_cap;
};

static inline struct vpnr__ike *
vpnr__ike(const vpnr_ctx *ctx)
{
	return ctx->ike;
}

/* ---- module (tunnel.c) ---- */
VPNR__MUST_CHECK int vpnr__ike_init(vpnr_ctx *ctx);
struct tunnel *vpnr__tunnel_find(vpnr_ctx *ctx, uint64_t id);
struct tunnel *vpnr__tunnel_match(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote);
/* The tunnels to one peer address, in (local address, id) order: the
 * matcher narrows by identity / selectors among these. */
struct tunnel *
vpnr__tunnel_first_by_peer(vpnr_ctx *ctx, const vpnr_addr *remote);
struct tunnel *vpnr__tunnel_next_by_peer(vpnr_ctx *ctx, struct tunnel *t);
void vpnr__tunnel_event(vpnr_ctx *ctx, struct tunnel *t, uint32_t type,
    int reason, uint16_t notify, uint64_t sa_id);
/* The current IKE SA came up / went away. */
void vpnr__tunnel_ike_up(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now);
void vpnr__tunnel_ike_gone(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    int reason, uint16_t notify, vpnr_tstamp now);
void
vpnr__tunnel_child_changed(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
vpnr_tstamp vpnr__jitter(vpnr_ctx *ctx, vpnr_tstamp t, uint32_t percent);
void vpnr__tunnel_dpd_arm(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* Proof of life: an authenticated message from the peer on any of
 * t's IKE SAs. */
void vpnr__tunnel_alive(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* Liveness probing is under way (a request outstanding then
 * retransmits on the probe schedule, and gives up by the timeout). */
int vpnr__tunnel_probing(const struct tunnel *t);
/* The probe schedule's timeout after tries retransmissions. */
vpnr_tstamp vpnr__tunnel_probe_rtx(const struct tunnel *t, uint32_t tries);
/* An authenticated message came from a new address or port of a peer
 * behind a NAT (RFC 7296 2.23; we are not behind one): the CHILD_SAs'
 * outer addresses follow at once (sa_add again, in place). */
void vpnr__tunnel_peer_moved(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now);
/* The tunnel's IKE SA cannot go on (no CHILD_SA left after a failed
 * install): DELETE it, reporting reason; the reconnect policy runs. */
void vpnr__tunnel_fail(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now);
/* A CHILD_SA that carries traffic (installed, maybe being rekeyed). */
void vpnr__child_dp_remove(vpnr_ctx *ctx, struct child_sa *c);
int vpnr__child_collides(const struct ike_sa *sa, const struct child_sa *c);
int vpnr__child_live(const struct child_sa *c);

/* The tunnel came up / went away, whichever IKE version (the IKEv2
 * wrappers above add their IKE SA's part). */
void vpnr__tunnel_up(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
void vpnr__tunnel_gone(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now);
/* Every CHILD_SA of t goes; each CHILD_DOWN says reason (or its own). */
void vpnr__tunnel_children_down(vpnr_ctx *ctx, struct tunnel *t, int reason,
    vpnr_tstamp now);

/* ---- several connections in one IKE SA (ike_guest.c) ---- */
/* t's CHILD_SAs ride another tunnel's IKE SA (t->ike->tun != t). */
int vpnr__ike_guest(const struct tunnel *t);
/* A CHILD_SA of sa's tunnel or of one of its guests, by id / by the
 * peer's SPI (our outbound one). */
struct child_sa *
vpnr__ike_child(vpnr_ctx *ctx, const struct ike_sa *sa, uint64_t id);
struct child_sa *vpnr__ike_child_by_spi_out(vpnr_ctx *ctx,
    const struct ike_sa *sa, uint32_t spi);
/* The tunnel a CREATE_CHILD_SA request for a new CHILD_SA on sa is
 * for: sa's own if its selectors fit, else a free sibling's that fit
 * (which joins sa), else sa's own (which refuses them). */
struct tunnel *vpnr__ike_child_tunnel(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_msg *msg);
/* The selectors the initiator proposed (TSi, TSr) meet t's. */
int vpnr__ike_ts_fit(const struct tunnel *t, const struct vpnr__ike_msg *msg);
/* A sibling's own IKE SA that t may ride: an established one, else
 * one still connecting (t waits for it), else NULL. */
struct ike_sa *vpnr__ike_sibling_sa(vpnr_ctx *ctx, struct tunnel *t);
/* b may ride a's IKE SA: same addresses, PSK and identities. */
int vpnr__ike_sibling(const struct tunnel *a, const struct tunnel *b);
/* t rides sa from now (t->ike = sa, counted); t lets go of its IKE SA
 * (t->ike = NULL; a guest is no longer counted). */
void vpnr__ike_guest_attach(struct tunnel *t, struct ike_sa *sa);
void vpnr__tunnel_drop_ike(struct tunnel *t);
/* t becomes a guest of sa (if not yet) and is up (UP event, once). */
void vpnr__ike_guest_join(vpnr_ctx *ctx, struct tunnel *t, struct ike_sa *sa,
    vpnr_tstamp now);
/* Guest t leaves its IKE SA: its CHILD_SAs go, it reports reason and
 * follows its reconnect policy (vpnr__tunnel_gone). */
void vpnr__ike_guest_leave(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now);
/* Guest t gets an IKE SA of its own: its CHILD_SAs in the sibling's
 * go (deleted at the peer), without an event for the tunnel. */
void vpnr__ike_guest_part(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* Guest t has no CHILD_SA left (the peer's DELETE, ours answered, a
 * failed install): it leaves (closing: as a local close). */
void vpnr__ike_guest_emptied(vpnr_ctx *ctx, struct tunnel *t, int reason,
    uint16_t notify, vpnr_tstamp now);
/* What sa's guests follow: proof of life, a NAT move, an IKE rekey
 * (old to n), the SA's end (reason; a local close is TUNNEL_DOWN to
 * them), and its free without events (context teardown). */
void vpnr__ike_guests_alive(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
void vpnr__ike_guests_moved(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
void vpnr__ike_guests_switch(vpnr_ctx *ctx, struct ike_sa *old,
    struct ike_sa *n, vpnr_tstamp now);
void vpnr__ike_guests_gone(vpnr_ctx *ctx, struct ike_sa *sa, int reason,
    uint16_t notify, vpnr_tstamp now);
void vpnr__ike_guests_drop(vpnr_ctx *ctx, struct ike_sa *sa);
/* Our CREATE_CHILD_SA for guest t's CHILD_SA on sa (REQ_NEW_CHILD),
 * and the answer (ike_child.c). */
VPNR__MUST_CHECK int vpnr__child_start_new(vpnr_ctx *ctx, struct ike_sa *sa,
    struct tunnel *t, vpnr_tstamp now);

/* ---- IKEv1 tunnels (ikev1_tunnel.c) ---- */
int vpnr__tunnel_v1(const struct tunnel *t);
/* Refuse what IKEv1 cannot carry (message in err). */
int vpnr__v1_config_check(const struct vpnr_tunnel_config *tc, char *err,
    size_t len);
/* An ISAKMP datagram (no marker); like vpnr__ike_sa_recv's results. */
int vpnr__v1_recv(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, vpnr_tstamp now);
/* A Main Mode of t's own, unless a sibling's Phase 1 is under way:
 * then t waits for that ISAKMP SA. */
VPNR__MUST_CHECK int
vpnr__v1_tunnel_start(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* t, without an ISAKMP SA of its own, starts or waited: an ISAKMP SA
 * to its peer, and a CHILD_SA if it has none. */
VPNR__MUST_CHECK int
vpnr__v1_tunnel_resume(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__v1_tunnel_rekey(vpnr_ctx *ctx, struct tunnel *t,
    uint32_t what, vpnr_tstamp now);
/* One R-U-THERE (the liveness schedule is tunnel.c's). */
VPNR__MUST_CHECK int
vpnr__v1_tunnel_probe(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* t closes or goes: the Quick Modes under way for it, on its ISAKMP
 * SAs or its siblings', are forgotten, and it waits for none. */
void vpnr__v1_tunnel_quiet(vpnr_ctx *ctx, struct tunnel *t);
/* Its ISAKMP SAs go (DELETEs first when say_delete; on a local close
 * they go on with a sibling that uses them), then the tunnel reports
 * reason and follows its reconnect policy. */
void vpnr__v1_tunnel_end(vpnr_ctx *ctx, struct tunnel *t, int reason,
    int say_delete, vpnr_tstamp now);
void vpnr__v1_tunnel_free(vpnr_ctx *ctx, struct tunnel *t);
/* t has an ISAKMP SA (any state) / one established to use. */
int vpnr__v1_tunnel_has_sa(const struct tunnel *t);
int vpnr__v1_tunnel_up(vpnr_ctx *ctx, struct tunnel *t);
/* A Quick Mode for t (rekey_of: the CHILD_SA it replaces, or 0);
 * without an ISAKMP SA to the peer, a Main Mode first. */
VPNR__MUST_CHECK int vpnr__v1_child_start(vpnr_ctx *ctx, struct tunnel *t,
    uint64_t rekey_of, vpnr_tstamp now);
/* Tell the peer c is gone (unacknowledged) and remove it; a replaced
 * pair lingers briefly for packets in flight. */
void vpnr__v1_child_delete(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now);
void
vpnr__v1_fill_event(vpnr_ctx *ctx, struct tunnel *t, vpnr_tunnel_event *ev);
void vpnr__v1_fill_info(vpnr_ctx *ctx, const struct tunnel *t,
    vpnr_tunnel_info *info);

/* Our NAT-T port, and the one the peer of t listens on. */
uint16_t vpnr__natt_port(const vpnr_ctx *ctx);
uint16_t vpnr__peer_natt_port(const vpnr_ctx *ctx, const struct tunnel *t);
uint16_t vpnr__peer_ike_port(const vpnr_ctx *ctx, const struct tunnel *t);

/* ---- IKE SAs (ike_sa.c) ---- */
/* spi 0: pick a random unused local SPI. */
struct ike_sa *
vpnr__ike_sa_new(vpnr_ctx *ctx, struct tunnel *t, int initiator, uint64_t spi);
uint64_t vpnr__ike_new_spi(vpnr_ctx *ctx);
/* Set sa's Ni (resp 0) or Nr (resp 1) to len bytes of src, or of
 * random when src is NULL. */
VPNR__MUST_CHECK int vpnr__ike_sa_set_nonce(vpnr_ctx *ctx, struct ike_sa *sa,
    int resp, const uint8_t *src, size_t len);
/* Wipe and free Ni and Nr (IKE_AUTH done, or a rekey's keys made). */
void vpnr__ike_sa_drop_nonces(vpnr_ctx *ctx, struct ike_sa *sa);
/* Keep a copy of the lower of two nonces in *out (sized to it; the
 * previous one is wiped and freed).  VPNR_ERR_NOMEM leaves *out NULL. */
VPNR__MUST_CHECK int vpnr__ike_keep_min_nonce(vpnr_ctx *ctx, const uint8_t *a,
    size_t al, const uint8_t *b, size_t bl, uint8_t **out, size_t *outlen);
void vpnr__ike_sa_free(vpnr_ctx *ctx, struct ike_sa *sa);
struct ike_sa *vpnr__ike_sa_find(vpnr_ctx *ctx, uint64_t local_spi);
/* Our IKE_SA_INIT request (ike_init.c). */
VPNR__MUST_CHECK int
vpnr__ike_sa_start(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_sa_recv(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, const uint8_t *data, size_t len,
    const vpnr_addr *local, const vpnr_addr *remote, vpnr_tstamp now);
/* The peer's IKE_SA_INIT request (ike_init.c). */
VPNR__MUST_CHECK int vpnr__ike_sa_init_request(vpnr_ctx *ctx,
    struct vpnr__ike_msg *msg, const uint8_t *data, size_t len,
    const vpnr_addr *local, const vpnr_addr *remote, vpnr_tstamp now);
/*
 * Queue a task; starts it when the window is free.  Returns VPNR_OK;
 * VPNR_ERR_CALLBACK_FAILURE when a host callback asked to abort; or
 * VPNR_ERR_INVALID_STATE when the work will not happen: the IKE SA is
 * dead, or a failure (no memory, an internal error) ended it just now,
 * its tunnel reporting the reason.  Never fatal to the context.  The
 * tunnel's CHILD_SAs may be gone after a failure.
 */
VPNR__MUST_CHECK int vpnr__ike_sa_task(vpnr_ctx *ctx, struct ike_sa *sa,
    int type, uint64_t child_id, vpnr_tstamp now);
/*
 * rv came out of work on sa: a failure for want of memory or of an
 * internal step (fatal-range codes) ends sa, its tunnel reporting the
 * reason and reconnecting by its policy, and VPNR_OK is returned; the
 * context and the other tunnels go on.  Other codes come back as is.
 */
int
vpnr__ike_sa_contain(vpnr_ctx *ctx, struct ike_sa *sa, int rv, vpnr_tstamp now);
/* Starts queued work; a task that fails for want of memory or an
 * internal error ends the IKE SA (reported), not the context.  Returns
 * VPNR_OK, or VPNR_ERR_CALLBACK_FAILURE when a callback asked to abort. */
VPNR__MUST_CHECK int
vpnr__ike_sa_next_task(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
/* What a driving call returns for a task's result: a contained failure
 * was reported with its tunnel; only a callback's abort goes up. */
static inline int
vpnr__ike_task_rv(int rv)
{
	return rv == VPNR_ERR_CALLBACK_FAILURE ? rv : VPNR_OK;
}
/* The exchanges the window dispatches to: IKE_SA_INIT (ike_init.c),
 * IKE_AUTH (ike_auth.c); the others below, and in ike_exch.h. */
VPNR__MUST_CHECK int vpnr__ike_init_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, const uint8_t *data, size_t len,
    const vpnr_addr *local, const vpnr_addr *remote, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_auth_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_auth_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now);
/* Send sa->req (kept for retransmission) and arm the timer. */
VPNR__MUST_CHECK int
vpnr__ike_send_req_buf(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
/* Build, encrypt, send and keep a request / send a response. */
VPNR__MUST_CHECK int
vpnr__ike_send_request(vpnr_ctx *ctx, struct ike_sa *sa, uint8_t exch,
    struct vpnr__wbuf *inner, uint8_t first, int type, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_send_response(vpnr_ctx *ctx, struct ike_sa *sa,
    uint8_t exch, uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first);
/*
 * Seal a response into sa->resp (and, with fail_inner, the answer
 * used instead if the CHILD_SA's install fails into sa->resp_fail);
 * it goes out when c's install completes (vpnr__ike_release_response).
 */
VPNR__MUST_CHECK int vpnr__ike_hold_response(vpnr_ctx *ctx, struct ike_sa *sa,
    uint8_t exch, uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first,
    struct vpnr__wbuf *fail_inner, uint8_t fail_first, struct child_sa *c);
/* Send the response held for child_id (ok = 0: the failure answer).
 * Returns 1 if one was held. */
int vpnr__ike_release_response(vpnr_ctx *ctx, uint64_t child_id, int ok);
/* Tear the SA down (no message); children follow if it is current. */
void vpnr__ike_sa_dead(vpnr_ctx *ctx, struct ike_sa *sa, int reason,
    uint16_t notify, vpnr_tstamp now);
void
vpnr__ike_sa_established(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
void vpnr__ike_sa_arm_rekey(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
void vpnr__ike_sa_log_up(vpnr_ctx *ctx, struct ike_sa *sa);
/* The peer's INFORMATIONAL request (ike_info.c). */
VPNR__MUST_CHECK int vpnr__ike_sa_process_informational(vpnr_ctx *ctx,
    struct ike_sa *sa, struct vpnr__ike_msg *msg, vpnr_tstamp now);

/* ---- I/O (ike_io.c) ---- */
VPNR__MUST_CHECK int vpnr__ike_send(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const struct vpnr__wbuf *w);
/* A message buffer with room for the non-ESP marker in front. */
void vpnr__ike_msg_buf(vpnr_ctx *ctx, struct vpnr__wbuf *w);
void vpnr__ike_count_malformed(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now,
    const char *what);

/* Answer a request without state: an unauthenticated notify with the
 * request's SPIs, exchange and message id. */
VPNR__MUST_CHECK int vpnr__ike_send_plain_notify(vpnr_ctx *ctx,
    const struct vpnr__ike_hdr *req, const vpnr_addr *local,
    const vpnr_addr *remote, uint16_t type, const uint8_t *data, size_t len);

/* ---- IKE_SA_INIT admission and refusal counters (ike_dos.c) ---- */
#define VPNR__REFUSE_COOKIE     1 /* COOKIE demanded */
#define VPNR__REFUSE_PER_SOURCE 2 /* dropped: the address's limit */
#define VPNR__REFUSE_LIMIT      3 /* dropped: the context's limit */
#define VPNR__REFUSE_CRITICAL   4 /* UNSUPPORTED_CRITICAL_PAYLOAD */
#define VPNR__REFUSE_VERSION    5 /* major version above ours */
/* Count a refusal (why: VPNR__REFUSE_*), logged once per window. */
void vpnr__ike_refused(vpnr_ctx *ctx, int why, const vpnr_addr *remote,
    vpnr_tstamp now);
/* Non-zero if an unauthenticated error answer may go out now (a few
 * per second and context); else counted as rate-limited. */
int vpnr__ike_err_notify_budget(vpnr_ctx *ctx, vpnr_tstamp now);
#define VPNR__ADMIT_OK     0
#define VPNR__ADMIT_COOKIE 1 /* answer with a COOKIE demand */
#define VPNR__ADMIT_DROP   2 /* over a limit: drop, no answer */
/* May an IKE_SA_INIT from remote make a half-open SA?  cookie_ok: it
 * carries a valid COOKIE.  Counts and logs a refusal. */
int vpnr__ike_init_admit(vpnr_ctx *ctx, const vpnr_addr *remote, int cookie_ok,
    vpnr_tstamp now);
/* sa is half-open from remote / is no longer (established or gone). */
VPNR__MUST_CHECK int vpnr__ike_half_open_add(vpnr_ctx *ctx, struct ike_sa *sa,
    const vpnr_addr *remote);
void vpnr__ike_half_open_drop(vpnr_ctx *ctx, struct ike_sa *sa);

/* ---- SK payload (ike_sk.c) ---- */
/* Build hdr + SK{inner} into w (after the marker room). */
VPNR__MUST_CHECK int vpnr__ike_sk_build(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_hdr *hdr, const uint8_t *inner, size_t inner_len,
    uint8_t first, struct vpnr__wbuf *w);
/* Verify and decrypt msg's SK payload and parse the inner chain. */
VPNR__MUST_CHECK int vpnr__ike_sk_open(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, const uint8_t *data, size_t len);

/* ---- keys (ike_keymat.c) ---- */
/* Derives sa->keys into a new allocation from mem (the old one is
 * wiped and freed). */
VPNR__MUST_CHECK int vpnr__ike_keymat(const vpnr_mem *mem, struct ike_sa *sa,
    const uint8_t *skeyseed_key, size_t skeyseed_key_len, uint16_t skeyseed_prf,
    const uint8_t *gir, size_t gir_len);
/* KEYMAT for a CHILD_SA: out gets 2 * (encr + integ) bytes. */
VPNR__MUST_CHECK int vpnr__child_keymat(const struct ike_sa *sa,
    const uint8_t *gir, size_t gir_len, const uint8_t *ni, size_t ni_len,
    const uint8_t *nr, size_t nr_len, uint8_t *out, size_t outlen);
void vpnr__ike_keys_free(const vpnr_mem *mem, struct ike_keys *k);

/* ---- AUTH payload and identities (ike_psk.c) ---- */
/* Our ID payload body (type | 3 zero | value). */
size_t vpnr__ike_local_id(const struct ike_sa *sa, uint8_t *out, size_t cap);
VPNR__MUST_CHECK int vpnr__ike_auth_compute(const struct ike_sa *sa, int ours,
    const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *outlen);
int
vpnr__ike_auth_verify(const struct ike_sa *sa, const struct vpnr__ike_msg *msg);
int vpnr__ike_id_check(const struct ike_sa *sa, uint8_t type,
    const uint8_t *data, size_t len);
const char *vpnr__ike_id_str(uint8_t type, const uint8_t *data, size_t len,
    char *buf, size_t cap);

/* ---- CHILD_SAs: the CREATE_CHILD_SA exchange and CHILD_SA payloads
 * (ike_child.c), life cycle and install (child_sa.c), IKE SA rekey
 * (ike_rekey.c), DELETE (ike_info.c) ---- */
/* IKE_AUTH initiator: SA(ESP), TSi, TSr for the first CHILD_SA. */
VPNR__MUST_CHECK int vpnr__child_add_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_builder *b);
/*
 * Responder: select, narrow, install; adds the answer to b, or an
 * error notify (and returns the error).  in_auth: inside IKE_AUTH
 * (nonces of IKE_SA_INIT, no KE).
 */
VPNR__MUST_CHECK int vpnr__child_respond(vpnr_ctx *ctx, struct ike_sa *sa,
    struct tunnel *t, const struct vpnr__ike_msg *msg,
    struct vpnr__ike_builder *b, int in_auth, struct child_sa *rekeyed,
    vpnr_tstamp now, struct child_sa **created, uint16_t *notify);
/*
 * After the response to the creating exchange is built: send it now
 * if every install op of c completed, else hold it until they do.
 */
int
vpnr__child_respond_finish(vpnr_ctx *ctx, struct ike_sa *sa, struct child_sa *c,
    uint8_t exch, uint32_t msg_id, struct vpnr__wbuf *inner, uint8_t first,
    struct vpnr__wbuf *fail_inner, uint8_t fail_first, vpnr_tstamp now);
/*
 * A CHILD_SA could not be created or installed (err; notify: what the
 * peer was told, or 0): FAILED event, and an IKE SA left without a
 * CHILD_SA is deleted so that the reconnect policy takes over.
 */
void vpnr__child_failed(vpnr_ctx *ctx, struct tunnel *t, int err,
    uint16_t notify, uint64_t sa_id, vpnr_tstamp now);
/*
 * A negotiated CHILD_SA for the data plane, whichever IKE version
 * made it: outer addresses (ports included; natt: UDP-encapsulated),
 * SPIs, suite, and each direction's keys (encr (| salt) | integ).
 */
struct vpnr__child_spec {
	struct tunnel *tun;
	vpnr_addr local, remote;
	int natt;
	const struct vpnr__suite *suite;
	uint32_t spi_in, spi_out;
	const uint8_t *key_in, *key_out;
	int we_init, role; /* CHILD_ROLE_* */
	uint64_t rekey_of; /* the CHILD_SA it replaces, or 0 */
	const vpnr_ts *tsl, *tsr;
	size_t ntsl, ntsr;
};
/* Install sp's SAs and policies; see child_sa.c.  Then
 * vpnr__child_install_wait(). */
VPNR__MUST_CHECK int vpnr__child_install(vpnr_ctx *ctx,
    const struct vpnr__child_spec *sp, vpnr_tstamp now, struct child_sa **out);
/* Initiator side: accept the response and start installing; the
 * caller then calls vpnr__child_install_wait(). */
VPNR__MUST_CHECK int vpnr__child_complete(vpnr_ctx *ctx, struct ike_sa *sa,
    struct tunnel *t, const struct vpnr__ike_msg *msg, int in_auth,
    struct child_sa *rekeyed, vpnr_tstamp now, struct child_sa **created);
/* Run the completion of c's install now if no op of it is pending
 * (else its last completion does). */
void
vpnr__child_install_wait(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now);
VPNR__MUST_CHECK uint32_t vpnr__child_alloc_spi(vpnr_ctx *ctx,
    struct ike_sa *sa);
struct child_sa *vpnr__child_find(struct tunnel *t, uint64_t id);
/* Any tunnel's CHILD_SA by id, or by either of its data-plane SA ids. */
struct child_sa *vpnr__child_by_id(vpnr_ctx *ctx, uint64_t id);
struct child_sa *vpnr__child_by_sa_id(vpnr_ctx *ctx, uint64_t sa_id);
/* Set sa->req_spi and keep it in the index of offered SPIs; 0 drops it. */
void vpnr__ike_sa_set_req_spi(vpnr_ctx *ctx, struct ike_sa *sa, uint32_t spi);
struct child_sa *vpnr__child_by_spi_in(struct tunnel *t, uint32_t spi);
/* t has a CHILD_SA that carries traffic or is being installed. */
int vpnr__tunnel_has_child(const struct tunnel *t);
struct child_sa *vpnr__child_by_spi_out(struct tunnel *t, uint32_t spi);
/* Remove from the data plane and free (events unless quiet). */
void vpnr__child_destroy(vpnr_ctx *ctx, struct child_sa *c, int quiet,
    vpnr_tstamp now);
void vpnr__child_destroy_all(vpnr_ctx *ctx, struct tunnel *t, vpnr_tstamp now);
/* Exchanges: CREATE_CHILD_SA (ike_child.c). */
VPNR__MUST_CHECK int vpnr__child_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa,
    struct child_sa *c, vpnr_tstamp now);
/* IKE rekey (ike_rekey.c) done: the tunnel moves from old to n. */
void vpnr__ike_switch(vpnr_ctx *ctx, struct ike_sa *old, struct ike_sa *n,
    vpnr_tstamp now);
VPNR__MUST_CHECK int
vpnr__ike_start_rekey(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_create_child_request(vpnr_ctx *ctx,
    struct ike_sa *sa, struct vpnr__ike_msg *msg, vpnr_tstamp now);
VPNR__MUST_CHECK int vpnr__ike_create_child_response(vpnr_ctx *ctx,
    struct ike_sa *sa, struct vpnr__ike_msg *msg, vpnr_tstamp now);
/* INFORMATIONAL (ike_info.c). */
VPNR__MUST_CHECK int vpnr__child_send_delete(vpnr_ctx *ctx, struct ike_sa *sa,
    struct child_sa *c, vpnr_tstamp now);
/* Life cycle (child_sa.c). */
int
vpnr__child_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard, vpnr_tstamp now);
void
vpnr__child_mark_rekeyed(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now);
void vpnr__child_arm_rekey(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now);

#endif /* VPNR_IPSEC_IKE_H */
