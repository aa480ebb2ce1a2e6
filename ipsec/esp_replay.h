/*
 * ESP anti-replay window (RFC 4303 3.4.3 and Appendix A): a bitmap of
 * a configurable size indexed by sequence number modulo its size, and
 * the inference of the high 32 bits of an extended sequence number
 * from its low half (Appendix A2).  Pure functions on a caller-owned
 * bitmap; no allocation here.
 */
#ifndef VPNR_IPSEC_ESP_REPLAY_H
#define VPNR_IPSEC_ESP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct vpnr__replay {
	uint64_t top;     /* highest authenticated sequence number */
	uint32_t window;  /* packets; 0 = anti-replay off */
	uint32_t nbits;   /* bitmap size: power of two >= window, >= 64 */
	uint64_t *bitmap; /* nbits / 64 words, owned by the caller */
	int esn;          /* 64-bit sequence numbers */
};

/* Words of bitmap needed for window (0 allowed). */
size_t vpnr__replay_words(uint32_t window);
/* bitmap holds vpnr__replay_words(window) words. */
void vpnr__replay_init(struct vpnr__replay *r, uint32_t window, int esn,
    uint64_t *bitmap);
/*
 * The full sequence number for a received low half (A2 for ESN, the
 * low half itself otherwise).  Pure: no state changes.
 */
uint64_t vpnr__replay_infer(const struct vpnr__replay *r, uint32_t seql);
/*
 * Check before the ICV: 0 if seq may be new, VPNR_ERR_REPLAY if it is
 * a duplicate, older than the window, or 0.
 */
int vpnr__replay_check(const struct vpnr__replay *r, uint64_t seq);
/* After the ICV passed: record seq (call check first). */
void vpnr__replay_update(struct vpnr__replay *r, uint64_t seq);

#endif /* VPNR_IPSEC_ESP_REPLAY_H */
