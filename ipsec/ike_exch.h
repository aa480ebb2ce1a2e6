/*
 * What the IKEv2 engine's files share beyond ike.h.  The layers, each
 * calling only into those below it:
 *
 *   exchanges   ike_init.c   IKE_SA_INIT, both roles; hands over to
 *               ike_auth.c   IKE_AUTH, both roles, the first CHILD_SA
 *               ike_child.c  CREATE_CHILD_SA for CHILD_SAs (new, rekey,
 *                            collisions); an SA payload for the IKE
 *                            protocol goes to
 *               ike_rekey.c  CREATE_CHILD_SA rekeying the IKE SA
 *               ike_info.c   INFORMATIONAL (DELETE, liveness, notifies)
 *   below them  ike_sa.c     the message window: send, retransmit, the
 *                            cached response, task queue, dispatch of
 *                            incoming messages and queued work to the
 *                            exchanges' entry points (ike.h, and the
 *                            ike_info.c ones below); IKE SA life cycle
 *               child_sa.c   CHILD_SA life cycle (either IKE version):
 *                            SPIs, indexes, install, destroy, expiry;
 *                            queues its work through the window
 *               ike_keymat.c, ike_psk.c, ike_sk.c, ike_msg.c, ...
 *
 * The window calls up only through those entry points; child_sa.c
 * and ike_sa.c use each other's lookups and task queue.
 */
#ifndef VPNR_IPSEC_IKE_EXCH_H
#define VPNR_IPSEC_IKE_EXCH_H

#include "ike.h"

/* ---- ike_sa.c ---- */
/* Crossed rekeys (RFC 7296 2.8.1, 2.8.2): our exchange (sa's request
 * nonce, msg's response nonce) has a lower nonce than the peer's, kept
 * by vpnr__ike_keep_min_nonce(), and so loses. */
int vpnr__ike_collision_lost(const struct ike_sa *sa,
    const struct vpnr__ike_msg *msg, const uint8_t *peer, size_t peer_len);
/* The peer answered IKE_SA_INIT / IKE_AUTH with error notify type:
 * the SA ends with the matching reason. */
void vpnr__ike_fail_notify(vpnr_ctx *ctx, struct ike_sa *sa, uint16_t type,
    vpnr_tstamp now);
/* The reason an error notify from the peer stands for. */
int vpnr__ike_notify_reason(uint16_t type);
/* msg's first error notify type, or 0. */
uint16_t vpnr__ike_first_error(const struct vpnr__ike_msg *msg);

/* ---- ike_auth.c ---- */
/* Initiator: IKE_SA_INIT done, send IKE_AUTH. */
VPNR__MUST_CHECK int
vpnr__ike_auth_start(vpnr_ctx *ctx, struct ike_sa *sa, vpnr_tstamp now);

/* ---- ike_rekey.c (called by ike_child.c's CREATE_CHILD_SA) ---- */
/* The peer's IKE SA rekey: the answer into b, the new SA in *created. */
VPNR__MUST_CHECK int vpnr__ike_rekey_request(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, struct vpnr__ike_builder *b, vpnr_tstamp now,
    struct ike_sa **created);
VPNR__MUST_CHECK int vpnr__ike_rekey_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now);

/* ---- ike_info.c ---- */
/* The answer to our INFORMATIONAL request (the window's dispatch). */
VPNR__MUST_CHECK int vpnr__ike_info_response(vpnr_ctx *ctx, struct ike_sa *sa,
    struct vpnr__ike_msg *msg, vpnr_tstamp now);
/* A queued REQ_DELETE_SPI, REQ_DELETE_IKE or REQ_DPD starts. */
VPNR__MUST_CHECK int vpnr__ike_info_request(vpnr_ctx *ctx, struct ike_sa *sa,
    int type, uint64_t child_id, vpnr_tstamp now);
/* An encrypted INFORMATIONAL request with a single notify, not kept. */
void
vpnr__ike_send_notify_request(vpnr_ctx *ctx, struct ike_sa *sa, uint16_t type);

/* ---- child_sa.c ---- */
/* An installed CHILD_SA takes the place its creating exchange gave it
 * (CHILD_UP, or the switch from the pair it replaces). */
void vpnr__child_settle(vpnr_ctx *ctx, struct child_sa *c, vpnr_tstamp now);

/* ---- ike_keymat.c ---- */
/* g^ir of dh and msg's KE payload (CREATE_CHILD_SA). */
VPNR__MUST_CHECK int vpnr__ike_ke_derive(struct vpnr__dh *dh,
    const struct vpnr__ike_msg *msg, uint8_t *gir, size_t cap, size_t *glen);

#endif /* VPNR_IPSEC_IKE_EXCH_H */
