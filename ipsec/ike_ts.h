/*
 * Traffic selectors: narrowing (RFC 7296 2.9) and helpers.
 */
#ifndef VPNR_IPSEC_IKE_TS_H
#define VPNR_IPSEC_IKE_TS_H

#include <stddef.h>

#include <vpnroute/vpnroute.h>

/* 0.0.0.0/0 (or ::/0), any protocol, any port. */
void vpnr__ts_any(vpnr_ts *ts, uint8_t family);
/*
 * Narrow the peer's proposed selectors to what ours allow: the result
 * holds every non-empty intersection of a peer TS with one of ours
 * (at most cap).  Returns the count, 0 when nothing is left
 * (TS_UNACCEPTABLE).
 */
size_t vpnr__ts_narrow(const vpnr_ts *peer, size_t n_peer, const vpnr_ts *ours,
    size_t n_ours, vpnr_ts *out, size_t cap);
/* Non-zero if every TS in a is contained in some TS of b. */
int vpnr__ts_subset(const vpnr_ts *a, size_t na, const vpnr_ts *b, size_t nb);
/* "10.0.0.0/8", "192.0.2.1..192.0.2.9[tcp/80]" etc. */
const char *vpnr__ts_str(const vpnr_ts *ts, char *buf, size_t len);

#endif /* VPNR_IPSEC_IKE_TS_H */
