/*
 * A sans-I/O IKEv1 exchange engine for one peer: Main Mode (or
 * Aggressive Mode) with a pre-shared key (RFC 2409 5.4) and Quick Mode with
 * optional PFS (RFC 2409 5.5), as initiator or responder.  Datagrams go in
 * through vpnr__v1_ike_input and come out of vpnr__v1_ike_output; time comes in
 * through vpnr__v1_ike_timer.  The engine owns no socket, timer or
 * data plane: it reports the Phase 1 result and the negotiated CHILD_SA
 * (SPIs, suite, keys) for the caller to install.
 *
 * ikev1_tunnel.c drives it for tunnels configured with version 1:
 * dispatch by cookie, timers, NAT-T float, CHILD_SAs through the
 * data-plane ops, rekeys, DPD, and Quick Modes of several connections
 * over one ISAKMP SA (qm_select, vpnr__v1_ike_quick_conn).
 *
 * Reliability (RFC 2408 does not define it; this follows what
 * strongSwan and Cisco do): the initiator of each exchange retransmits
 * its last message until the reply arrives, with exponential backoff;
 * a repeated request (same bytes, recognised by its SHA-1) makes a
 * responder send its stored reply again; the Quick Mode responder
 * retransmits its reply until the third message arrives.
 */
#ifndef VPNR_IPSEC_IKEV1_SA_H
#define VPNR_IPSEC_IKEV1_SA_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

#include "crypto_v1.h"
#include "ikev1_keymat.h"
#include "ikev1_msg.h"
#include "ikev1_proposal.h"

/*
 * What one Quick Mode negotiates for: a connection's ESP proposals,
 * selectors and lifetime.  Several connections between the same two
 * gateways share one ISAKMP SA, each with its own Quick Modes; id is
 * the caller's name for the connection (0: the cfg's own).
 */
struct vpnr__v1_conn {
	const struct vpnr__prop *esp;
	size_t n_esp;
	vpnr_ts local_ts, remote_ts;
	struct vpnr__v1_life p2_life;
	uint64_t id;
};

struct vpnr__v1_cfg {
	const struct vpnr__prop *ike; /* Phase 1 proposals */
	size_t n_ike;
	const struct vpnr__prop *esp; /* Quick Mode proposals */
	size_t n_esp;
	const uint8_t *psk;
	size_t psk_len;
	vpnr_addr local, remote; /* with ports: IDs and NAT-D */
	vpnr_ts local_ts, remote_ts;
	struct vpnr__v1_life p1_life, p2_life;
	uint16_t encap; /* VPNR__V1_ENCAP_TUNNEL or _UDP_TUNNEL */
	/*
	 * Aggressive Mode (RFC 2409 5.4): as initiator, use it; as
	 * responder, accept it (besides Main Mode).  One DH group: the
	 * first of the first proposal.
	 */
	int aggressive;
	/*
	 * Set the commit bit in QM1 (RFC 2408 3.1; Cisco does).  Either
	 * way a responder that sees it answers with the commit bit and a
	 * CONNECTED notify after QM3, and an initiator that sees it in
	 * QM2 holds the CHILD_SA back until that notify.
	 */
	int commit;
	/* Leave INITIAL-CONTACT out of MM5: SAs with the peer exist (a
	 * Phase 1 rekey, a second connection), which it must keep. */
	int no_initial_contact;
	/*
	 * Responder Quick Mode with IDs other than local_ts/remote_ts:
	 * may fill *conn with the connection those IDs (ci: the
	 * initiator's, cr: ours) belong to and return 1; NULL or 0: the
	 * IDs are refused (INVALID-ID-INFORMATION).
	 */
	int (*qm_select)(void *arg, const vpnr_ts *ci, const vpnr_ts *cr,
	    struct vpnr__v1_conn *conn);
	void *qm_arg;
	vpnr_tstamp rtx_timeout; /* first retransmission, then doubled */
	unsigned rtx_tries;      /* retransmissions before giving up */
	/* Random bytes (cookies, nonces, SPIs); NULL: OpenSSL RAND_bytes. */
	int (*rand_bytes)(void *arg, uint8_t *buf, size_t len);
	void *rand_arg;
	const vpnr_mem *mem;
};

enum vpnr__v1_state {
	V1S_IDLE = 0,
	V1S_MM_SENT1, /* I: MM1 sent */
	V1S_MM_SENT3, /* I: MM3 sent */
	V1S_MM_SENT5, /* I: MM5 sent */
	V1S_MM_WAIT1, /* R: waiting for MM1 */
	V1S_MM_SENT2, /* R: MM2 sent */
	V1S_MM_SENT4, /* R: MM4 sent */
	V1S_AM_SENT1, /* I: Aggressive Mode 1 sent */
	V1S_AM_SENT2, /* R: Aggressive Mode 2 sent */
	V1S_P1_DONE,  /* ISAKMP SA up; Quick Mode may run */
	V1S_FAILED,
};

enum vpnr__v1_qm_state {
	V1Q_NONE = 0,
	V1Q_SENT1,          /* I: QM1 sent */
	V1Q_SENT2,          /* R: QM2 sent */
	V1Q_WAIT_CONNECTED, /* I: QM3 sent, commit bit: until CONNECTED */
	V1Q_DONE,
};

#define VPNR__V1_OUTBOX 4

/* A negotiated IPsec SA pair, ready for the data-plane ops. */
struct vpnr__v1_child {
	uint8_t spi_in[4], spi_out[4];
	struct vpnr__suite suite;
	uint16_t encap;
	struct vpnr__v1_life life;
	vpnr_ts local_ts, remote_ts;
	uint64_t conn_id; /* the vpnr__v1_conn it was negotiated for */
	size_t key_len;   /* per direction: cipher key (| salt) | integ */
	uint8_t key_in[96], key_out[96];
};

struct vpnr__v1_quick {
	int state;     /* enum vpnr__v1_qm_state */
	int initiator; /* of this Quick Mode, not of Phase 1 */
	int commit;    /* R: the initiator set the commit bit */
	uint32_t mid;
	struct vpnr__v1_conn conn; /* what it negotiates for */
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN];
	uint8_t ni[VPNR__V1_MAX_NONCE], nr[VPNR__V1_MAX_NONCE];
	size_t ni_len, nr_len; /* ni is always the initiator's */
	struct vpnr__v1_dh *dh;
	uint8_t gxy[VPNR__V1_MAX_KE_LEN]; /* responder: PFS until QM3 */
	size_t gxy_len;
	uint8_t spi_in[4], spi_out[4];
	struct vpnr__v1_p2_suite chosen;
};

struct vpnr__v1_ike {
	const struct vpnr__v1_cfg *cfg;
	int initiator;
	int state; /* enum vpnr__v1_state */
	int error; /* VPNR_ERR_* once FAILED */
	const char *why;
	uint64_t error_conn; /* the connection of a Quick Mode that failed
			      * alone (its conn id, 0 if none chosen) */
	uint8_t cky_i[8], cky_r[8];
	struct vpnr__v1_p1_suite p1;
	struct vpnr__v1_keys keys;
	struct vpnr__v1_dh *dh;
	uint8_t gxi[VPNR__V1_MAX_KE_LEN], gxr[VPNR__V1_MAX_KE_LEN];
	size_t gx_len;
	uint8_t ni[VPNR__V1_MAX_NONCE], nr[VPNR__V1_MAX_NONCE];
	size_t ni_len, nr_len;
	uint8_t *sai_b;            /* initiator's SA body, for HASH_I/HASH_R */
	uint8_t peer_idb[4 + 256]; /* AM responder: IDii_b until AM3 */
	size_t peer_idb_len;
	size_t sai_len;
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN]; /* Phase 1 CBC chain */
	int nat_local, nat_remote;          /* NAT-D said so */
	int peer_natt, peer_dpd;            /* VIDs */
	int peer_initial_contact;           /* drop older SAs with this peer */

	struct vpnr__v1_quick qm;
	int child_ready, child_deleted;
	uint32_t child_gen; /* bumped for each new CHILD_SA (rekeys) */
	uint8_t del_spi[4]; /* the last ESP SPI the peer deleted (its in) */
	int qm_abandoned;   /* our QM1 gave way to the peer's (collision) */
	struct vpnr__v1_child child;
	uint32_t dpd_seq, dpd_acked;

	/* Retransmission and duplicate detection. */
	uint8_t *last_out;
	size_t last_out_len;
	int rtx_armed;
	unsigned rtx_count;
	vpnr_tstamp rtx_at;
	uint8_t last_in[20]; /* SHA-1 of the last accepted message */
	int have_last_in, last_in_answered;
	uint8_t *reply; /* what we answered it with */
	size_t reply_len;
	uint64_t n_sent;

	/* Datagrams waiting for vpnr__v1_ike_output. */
	uint8_t *out[VPNR__V1_OUTBOX];
	size_t out_len[VPNR__V1_OUTBOX];
	unsigned out_head, out_n;

	/* Counters (the engine will fold them into its stats). */
	uint64_t n_malformed, n_dropped, n_dup, n_rtx;
	struct vpnr__v1_perr last_perr;
};

/* VPNR_OK or VPNR_ERR_NOMEM / _INVALID_ARGUMENT; cfg must outlive sa. */
int vpnr__v1_ike_init(struct vpnr__v1_ike *sa, const struct vpnr__v1_cfg *cfg,
    int initiator);
void vpnr__v1_ike_free(struct vpnr__v1_ike *sa);
/* Initiator: queue MM1. */
int vpnr__v1_ike_start(struct vpnr__v1_ike *sa, vpnr_tstamp now);
/*
 * After Phase 1, either side: queue QM1 for the configured selectors (a
 * new CHILD_SA, or its rekey: the previous one stays installed until
 * the caller deletes it, make-before-break).  sa->child then describes
 * the newest pair.  If both sides start one at once, the Phase 1
 * initiator's goes on and the other side's gives way (qm_abandoned).
 */
int vpnr__v1_ike_quick(struct vpnr__v1_ike *sa, vpnr_tstamp now);
/* The same for another connection to this peer (copied). */
int vpnr__v1_ike_quick_conn(struct vpnr__v1_ike *sa,
    const struct vpnr__v1_conn *conn, vpnr_tstamp now);
/* The Quick Mode under way, if any, is forgotten: the connection it
 * negotiates for (whose proposals it points to) goes. */
void vpnr__v1_ike_quick_abort(struct vpnr__v1_ike *sa);
/* The cfg's own connection (id 0). */
void
vpnr__v1_cfg_conn(const struct vpnr__v1_cfg *cfg, struct vpnr__v1_conn *conn);
/*
 * One received datagram (ISAKMP, no non-ESP marker).  Returns VPNR_OK
 * (processed, dropped as a duplicate or out of place), or the error
 * that failed the SA (sa->state V1S_FAILED, sa->why names it).
 * Malformed input is counted and dropped: VPNR_ERR_MALFORMED.
 */
int vpnr__v1_ike_input(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    vpnr_tstamp now);
/* Send DPD R-U-THERE (RFC 3706); the ACK sets dpd_acked = dpd_seq. */
int vpnr__v1_ike_dpd(struct vpnr__v1_ike *sa, vpnr_tstamp now);
/* Delete notification for one IPsec SA (our inbound SPI): the old one
 * after a rekey. */
int vpnr__v1_ike_delete_child(struct vpnr__v1_ike *sa, const uint8_t *spi_in,
    vpnr_tstamp now);
/* Delete notifications for the IPsec SA and the ISAKMP SA; ends sa. */
int vpnr__v1_ike_delete(struct vpnr__v1_ike *sa, vpnr_tstamp now);
/* Retransmit when due; VPNR_ERR_TIMEOUT when the tries ran out. */
int vpnr__v1_ike_timer(struct vpnr__v1_ike *sa, vpnr_tstamp now);
/* When vpnr__v1_ike_timer wants to run next; 0 if never. */
vpnr_tstamp vpnr__v1_ike_next_timer(const struct vpnr__v1_ike *sa);
/* Pop the next datagram to send: its length, 0 if none; copied to buf
 * (VPNR_ERR_BUFFER_TOO_SMALL leaves it queued). */
int vpnr__v1_ike_output(struct vpnr__v1_ike *sa, uint8_t *buf, size_t cap,
    size_t *len);

#endif /* VPNR_IPSEC_IKEV1_SA_H */
