/*
 * Test helper: two vpnr_ctx wired back to back through an in-memory
 * datagram queue with deterministic loss, duplication and reordering,
 * a fake clock and a fake data plane that records every SA.
 */
#ifndef VPNR_TEST_IKE_WIRE_H
#define VPNR_TEST_IKE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#define IKEW_MAX_SA  64
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
};

struct ikew_ev {
	uint32_t type;
	int32_t reason;
	uint16_t notify;
	uint64_t sa_id;
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
	/* sa_query answers for inbound SAs with esp_in_packets (inbound
	 * ESP seen) when set, else fails (no counters). */
	int dp_query;
	uint64_t esp_in_packets;
	uint64_t n_query;
	struct ikew_trace trace[IKEW_MAX_TRACE];
	int n_trace;
};

struct ikew_pkt {
	int to;
	vpnr_addr local, remote; /* as the receiver sees them */
	uint8_t *data;
	size_t len;
};

struct ikew {
	struct ikew_side s[2];
	vpnr_tstamp now;
	struct ikew_pkt q[IKEW_MAX_PKT];
	int nq;
	uint64_t rng;
	int loss_pct, dup_pct, reorder_pct;
	uint64_t dropped, duplicated, reordered, delivered;
	int verbose;
	/* Optional: sees every datagram just before it is delivered. */
	void (*on_deliver)(struct ikew *w, const struct ikew_pkt *p);
};

/* Create both contexts (cookie_threshold for both) and builders. */
int ikew_init(struct ikew *w, uint64_t seed, uint32_t cookie_threshold);
/* The same with IKE / NAT-T ports: side 0 ike, natt, side 1 ike, natt. */
int ikew_init_ports(struct ikew *w, uint64_t seed, uint32_t cookie_threshold,
    const uint16_t ports[4]);
/* Add side i's tunnel from s[i].tc. */
int ikew_add_tunnel(struct ikew *w, int i);
void ikew_free(struct ikew *w);
/* Deliver queued datagrams (no time passes); returns count. */
int ikew_flush(struct ikew *w);
/* Advance the fake clock by dt, running timers and delivering. */
void ikew_advance(struct ikew *w, vpnr_tstamp dt);
/* Run until pred() holds or max time passes; returns pred(). */
int ikew_run_until(struct ikew *w, int (*pred)(struct ikew *, void *),
    void *arg, vpnr_tstamp max);
/* Number of events of a type on side i. */
int ikew_count_ev(const struct ikew_side *s, uint32_t type);
const struct ikew_ev *ikew_last_ev(const struct ikew_side *s, uint32_t type);
/* Live SAs of a direction on side i. */
int ikew_count_sa(const struct ikew_side *s, uint8_t dir);
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

#endif
