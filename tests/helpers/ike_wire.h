/*
 * Test helper: two vpnr_ctx wired back to back through an in-memory
 * datagram queue with deterministic loss, duplication and reordering,
 * a fake clock and a fake data plane that records every SA.  One
 * helper for the unit tests, the engine fuzzers and the benches
 * (library vpnr_test_wire): struct ikew_opts picks the clock, the
 * randomness, the data plane, the allocators and the queue bound.
 *
 * Usage: ikew_new() (or ikew_init()), adjust s[i].tc, ikew_add_pair(),
 * vpnr_tunnel_initiate(w->s[0].ctx, w->s[0].tunnel_id, ikew_now(w)),
 * then ikew_flush() / ikew_advance() / ikew_run_until() or, step by
 * step, ikew_pop() + ikew_deliver(); ikew_free() at the end.
 */
#ifndef VPNR_TEST_IKE_WIRE_H
#define VPNR_TEST_IKE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#define IKEW_MAX_SA  256 /* 50 tunnels with a rekey in flight */
#define IKEW_MAX_EV  512
#define IKEW_MAX_PKT 256

struct ikew_sa {
	int live;
	uint64_t sa_id;
	uint32_t spi;
	uint8_t dir;
	uint16_t flags;
	vpnr_addr src, dst;
	uint16_t encr, encr_bits, integ;
	uint8_t ek[64], ik[64];
	size_t ek_len, ik_len;
	uint32_t replay_window;
	uint64_t tunnel_id;
	uint32_t if_id;
	vpnr_ts ts_local, ts_remote; /* the first selectors, or zeros */
};

/* A policy installed (recorded with dp_policies). */
struct ikew_pol {
	int live;
	uint64_t policy_id, tunnel_id, out_sa_id;
	uint8_t dir;
	uint32_t if_id;
	vpnr_ts ts_local, ts_remote;
};

struct ikew_ev {
	uint32_t type;
	int32_t reason;
	uint16_t notify;
	uint64_t sa_id;
	uint64_t tunnel_id;
};

/* What happened on one side, in order: data-plane ops, completions
 * and events, so that tests can assert the order. */
#define IKEW_T_ADD      'A' /* sa_add: spi, dir */
#define IKEW_T_DEL      'D' /* sa_del */
#define IKEW_T_POL_ADD  'P' /* policy_add: id, dir */
#define IKEW_T_POL_DEL  'Q'
#define IKEW_T_COMPLETE 'C' /* vpnr_dp_complete: op id, status */
#define IKEW_T_EVENT    'E' /* tunnel event: type, reason, notify */
#define IKEW_MAX_TRACE  1024

struct ikew_trace {
	char kind;
	uint8_t dir;
	uint16_t notify;
	uint32_t spi;
	uint32_t type; /* event type */
	int32_t status;
	uint64_t id; /* sa_id, policy_id, op id or event sa_id */
};

/* How side i's data plane answers sa_add / policy_add. */
#define IKEW_DP_SYNC   0 /* VPNR_OK */
#define IKEW_DP_ASYNC  1 /* VPNR_ASYNC; ikew_complete() finishes */
#define IKEW_DP_INSIDE 2 /* VPNR_ASYNC, completed inside the op */
#define IKEW_DP_FAIL   3 /* VPNR_ERR_DATAPLANE */
#define IKEW_DP_OTHER  4 /* complete the oldest pending op inside */

struct ikew;

struct ikew_side {
	struct ikew *w;
	int idx;
	vpnr_ctx *ctx;
	vpnr_tunnel_config *tc;
	uint64_t tunnel_id;
	vpnr_addr addr;
	uint64_t rng;
	struct ikew_sa sas[IKEW_MAX_SA];
	uint64_t n_add, n_del;
	struct ikew_ev ev[IKEW_MAX_EV];
	int n_ev;
	int silent; /* drop everything this side sends */
	/* A driving call returned a fatal error (vpnr_err_is_fatal): the
	 * context is only deleted now; datagrams to it vanish. */
	int dead;
	int dup_spi; /* sa_add of an SPI and direction already live */
	uint64_t sent;
	int recv_errors;
	/* Optional: called from the tunnel_event callback. */
	int (*on_event)(struct ikew_side *s, const vpnr_tunnel_event *ev);
	int cb_rv; /* last result of a call made by on_event */
	/* sa_add answers VPNR_ASYNC; ikew_complete() finishes the ops. */
	int dp_async;
	uint64_t pending[IKEW_MAX_SA];
	int pending_sa[IKEW_MAX_SA]; /* index into sas, or -1 */
	int n_pending;
	/* Set a mode for the n-th next add (fail_at counts sa_add calls
	 * from 1; 0 = off) with fail_mode (IKEW_DP_FAIL or _INSIDE with
	 * inside_status). */
	int fail_at;
	int fail_mode;
	int inside_status;
	int n_sa_add_calls;
	int inside_rv;   /* what vpnr_dp_complete returned inside */
	int inside_ran;  /* trace entries the inside completion caused */
	int dp_policies; /* install policy_add/_del ops */
	struct ikew_pol pols[IKEW_MAX_SA]; /* those live, with dp_policies */
	/* sa_query answers for inbound SAs with esp_in_packets (inbound
	 * ESP seen) when set, else fails (no counters). */
	int dp_query;
	uint64_t esp_in_packets;
	uint64_t esp_out_packets; /* what outbound SAs answer */
	/* last_used for inbound and outbound SAs (0: unknown). */
	vpnr_tstamp esp_in_used, esp_out_used;
	uint64_t n_query;
	struct ikew_trace trace[IKEW_MAX_TRACE];
	int n_trace;
};

/* A datagram in flight, one malloc'ed block; whoever holds it (the
 * queue, or the caller after ikew_pop()) frees it. */
struct ikew_pkt {
	int to;
	vpnr_addr local, remote; /* as the receiver sees them */
	size_t len;
	uint8_t data[];
};

/* Creation options; all-zero gives ikew_init(w, 0, 0). */
struct ikew_opts {
	uint64_t seed;        /* loss/dup/reorder and, by default, rand_bytes */
	uint64_t rng[2];      /* if not both 0: side i's rand_bytes state */
	int cookie_threshold; /* both sides; < 0: the library's default */
	const uint16_t *ports; /* NULL, or side 0 ike, natt, side 1 ike, natt */
	/* Applied to both s[i].tc: IKE version (0: the default), proposal
	 * lists ending in NULL (NULL: the defaults), PSK (NULL: "test-psk"). */
	uint32_t ike_version;
	const char *const *ike;
	const char *const *esp;
	const char *psk;
	int max_queue; /* 0: IKEW_MAX_PKT; < 0: unbounded */
	/* Datagrams one ikew_flush() delivers (0: 100000); when a flush
	 * stops there, ikew_advance() and _run_until() let time pass. */
	int max_flush;
	int real_clock; /* ikew_now() reads CLOCK_MONOTONIC (benches) */
	int real_rand;  /* the library's RNG instead of the seeded one */
	/* NULL: the recording data plane above (ikew_dp_record); else
	 * this one, called with the struct ikew_side as its user data. */
	const vpnr_dataplane *dp;
	const vpnr_mem *mem[2];
	/* Called last on each side's vpnr_config. */
	/* Side i's allocator, also for its vpnr_config and tunnel
	 * configs; NULL: the default. */
	void (*config)(vpnr_config *cfg, int side, void *arg);
	void *arg;
};

struct ikew {
	struct ikew_side s[2];
	vpnr_tstamp now;     /* the fake clock; see ikew_now() */
	struct ikew_pkt **q; /* ring: nq packets from q[qhead] */
	int qhead, nq, qcap;
	int max_queue; /* a datagram sent while nq == max_queue is lost */
	uint64_t rng;
	int loss_pct, dup_pct, reorder_pct;
	uint64_t dropped, duplicated, reordered, delivered;
	int verbose;
	/* Optional: sees every datagram just before it is delivered. */
	void (*on_deliver)(struct ikew *w, const struct ikew_pkt *p);
	/* Optional: sees every datagram a side sends, before loss; a
	 * nonzero result keeps it off the wire. */
	int (*on_send)(struct ikew_side *s, const vpnr_addr *local,
	    const vpnr_addr *remote, const uint8_t *data, size_t len);
	/* Optional: sees every non-OK result of a call driving side s
	 * (receive, timers, ikew_rv()), before s->dead is set. */
	void (*on_rv)(struct ikew_side *s, int rv);
	void *user;            /* the caller's */
	struct ikew_opts opts; /* a copy: the pointers in it must live on */
};

/* A data plane that accepts every op and records nothing. */
extern const vpnr_dataplane ikew_dp_noop;
/* The default one, recording into struct ikew_side: a test may take
 * a copy without some ops (the engine then does without them). */
extern const vpnr_dataplane ikew_dp_record;

/* Create both contexts and both tunnel configs (addresses, PSK); on
 * failure ikew_free() releases what was made. */
int ikew_new(struct ikew *w, const struct ikew_opts *o);
/* ikew_new() with seed and cookie_threshold for both sides. */
int ikew_init(struct ikew *w, uint64_t seed, uint32_t cookie_threshold);
/* The same with IKE / NAT-T ports: side 0 ike, natt, side 1 ike, natt. */
int ikew_init_ports(struct ikew *w, uint64_t seed, uint32_t cookie_threshold,
    const uint16_t ports[4]);
/* Add side i's tunnel from s[i].tc. */
int ikew_add_tunnel(struct ikew *w, int i);
/* Add both sides' tunnels; their ids to ids[0], ids[1] if not NULL. */
int ikew_add_pair(struct ikew *w, uint64_t ids[2]);
/* Fresh s[i].tc from the options (nothing shared with the tunnels
 * added before, as when each tunnel has its own config). */
int ikew_new_configs(struct ikew *w);
/* Point s[0].tc from a0 to a1 and s[1].tc back (next ikew_add_pair). */
int ikew_set_addrs(struct ikew *w, const vpnr_addr *a0, const vpnr_addr *a1);
/* Drop what is queued, delete both contexts and configs. */
void ikew_free(struct ikew *w);
/* The fake clock, or CLOCK_MONOTONIC with opts.real_clock. */
vpnr_tstamp ikew_now(struct ikew *w);
/* The i-th queued datagram (0: the next), NULL past the end. */
struct ikew_pkt *ikew_peek(struct ikew *w, int i);
/* Take the next queued datagram (NULL if none); free() it after. */
struct ikew_pkt *ikew_pop(struct ikew *w);
/* Hand p to side p->to (on_deliver first) unless that side is dead;
 * p stays the caller's. */
void ikew_deliver(struct ikew *w, const struct ikew_pkt *p);
/* Queue p at the back; the queue takes it. */
void ikew_requeue(struct ikew *w, struct ikew_pkt *p);
/* Drop every queued datagram. */
void ikew_clear(struct ikew *w);
/* Deliver queued datagrams, up to opts.max_flush (no time passes);
 * returns count. */
int ikew_flush(struct ikew *w);
/* Run the timers that are due now, without delivering. */
void ikew_timers(struct ikew *w);
/* Advance the fake clock by dt, running timers and delivering. */
void ikew_advance(struct ikew *w, vpnr_tstamp dt);
/* Run until pred() holds or max time passes; returns pred(). */
int ikew_run_until(struct ikew *w, int (*pred)(struct ikew *, void *),
    void *arg, vpnr_tstamp max);
/* Note the result of a call on side s's context (on_rv, s->dead);
 * returns rv.  The helper's own calls go through it. */
int ikew_rv(struct ikew_side *s, int rv);
/* Number of events of a type on side i. */
int ikew_count_ev(const struct ikew_side *s, uint32_t type);
/* The same for one tunnel's events. */
int
ikew_count_ev_of(const struct ikew_side *s, uint32_t type, uint64_t tunnel_id);
const struct ikew_ev *ikew_last_ev(const struct ikew_side *s, uint32_t type);
/* Live SAs of a direction on side i. */
int ikew_count_sa(const struct ikew_side *s, uint8_t dir);
/* Side s's live SA with this SPI and direction, or NULL. */
const struct ikew_sa *
ikew_find_sa(const struct ikew_side *s, uint32_t spi, uint8_t dir);
/*
 * Each side's outbound SA matches a live inbound SA on the other side
 * (SPI, algorithms, keys); returns the number of pairs or -1.
 */
int ikew_check_pairs(const struct ikew *w);
/* Complete side i's oldest pending op; returns 1 if
 * vpnr_dp_complete() accepted it, 0 if none was pending. */
int ikew_complete_one(struct ikew *w, int i, int status);
/* Complete side i's pending async ops with status; returns count. */
int ikew_complete(struct ikew *w, int i, int status);
/* Index of the n-th (from 0) trace entry of kind (and event type,
 * when kind is IKEW_T_EVENT) on side s after index from, or -1. */
int
ikew_trace_find(const struct ikew_side *s, char kind, uint32_t type, int from);
/* Both tunnels ESTABLISHED with a CHILD_SA up. */
int ikew_pred_up(struct ikew *w, void *arg);
/* Side 0 initiates; run up to max until ikew_pred_up(); returns it. */
int ikew_bring_up(struct ikew *w, vpnr_tstamp max);
/* vpnr_tunnel_get_info() of side i's tunnel. */
int ikew_info(struct ikew *w, int i, vpnr_tunnel_info *inf);

#endif
