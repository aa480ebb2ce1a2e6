/*
 * Data-plane dispatch: op ids, synchronous or asynchronous completion
 * (VPNR_ASYNC + vpnr_dp_complete), a copy of every installed SA and
 * policy for vpnr_dp_replay(), and key wiping.
 */
#ifndef VPNR_LIB_DP_H
#define VPNR_LIB_DP_H

#include <vpnroute/vpnroute.h>

/*
 * Called when an op that returned VPNR_ASYNC completes.  cookie is
 * whatever the engine passed (an id, never a pointer, so a completion
 * for a freed object is harmless).
 */
typedef void (*vpnr__dp_done_fn)(vpnr_ctx *ctx, uint64_t cookie, int status,
    vpnr_tstamp now);

/*
 * Each returns VPNR_OK (done), VPNR_ASYNC (done_fn runs later),
 * VPNR_ERR_DATAPLANE (the op failed) or VPNR_ERR_CALLBACK_FAILURE.
 * A NULL op in the table counts as success.  sa_add copies the SA,
 * keys included, for replay; the copy is wiped by sa_del.
 */
int vpnr__dp_sa_add(vpnr_ctx *ctx, const vpnr_child_sa *sa,
    vpnr__dp_done_fn done_fn, uint64_t cookie);
int vpnr__dp_sa_del(vpnr_ctx *ctx, uint64_t sa_id, vpnr__dp_done_fn done_fn,
    uint64_t cookie);
int vpnr__dp_policy_add(vpnr_ctx *ctx, const vpnr_policy *pol,
    vpnr__dp_done_fn done_fn, uint64_t cookie);
int vpnr__dp_policy_del(vpnr_ctx *ctx, uint64_t policy_id,
    vpnr__dp_done_fn done_fn, uint64_t cookie);
/*
 * An installed SA's outer addresses changed (a NAT mapping moved, RFC
 * 7296 2.23): the copy is updated and sa_add re-issued for the same
 * sa_id, as vpnr_dp_replay() does; the data plane updates the SA in
 * place, keeping its counters, sequence numbers and replay window.  A
 * failure reaches the SA's done_fn as a failed install does.  Returns
 * VPNR_OK, VPNR_ASYNC, VPNR_ERR_NOT_FOUND or VPNR_ERR_DATAPLANE.
 */
int vpnr__dp_sa_move(vpnr_ctx *ctx, uint64_t sa_id, const vpnr_addr *src,
    const vpnr_addr *dst);
/* Routes are not copied (BGP keeps them; see bgp_replay_routes). */
int vpnr__dp_route_add(vpnr_ctx *ctx, const vpnr_route *rt,
    vpnr__dp_done_fn done_fn, uint64_t cookie);
int vpnr__dp_route_del(vpnr_ctx *ctx, const vpnr_route *rt,
    vpnr__dp_done_fn done_fn, uint64_t cookie);
/* The host's get_spi, or 0 when it has none. */
int vpnr__dp_get_spi(vpnr_ctx *ctx, const vpnr_addr *src, const vpnr_addr *dst,
    uint32_t *spi);
/* Counters via sa_query; VPNR_ERR_UNSUPPORTED when not provided. */
int vpnr__dp_sa_query(vpnr_ctx *ctx, uint64_t sa_id, uint64_t *bytes,
    uint64_t *packets, vpnr_tstamp *last_used);

/*
 * Who handles vpnr_dp_sa_expired(): the IKE engine registers this.
 */
typedef int (*vpnr__dp_expired_fn)(vpnr_ctx *ctx, uint64_t sa_id, int hard,
    vpnr_tstamp now);
void vpnr__dp_set_expired_handler(vpnr_ctx *ctx, vpnr__dp_expired_fn fn);

void vpnr__dp_free(vpnr_ctx *ctx);

#endif /* VPNR_LIB_DP_H */
