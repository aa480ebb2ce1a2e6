/*
 * ESP anti-replay window: RFC 4303 3.4.3, Appendix A (A2 for ESN).
 */
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "esp_replay.h"

/* Window used to infer ESN high bits when anti-replay is off. */
#define REPLAY_INFER_WINDOW (1U << 30)

static uint32_t
replay_nbits(uint32_t window)
{
	uint32_t n;

	n = 64;
	while (n < window)
		n <<= 1;
	return n;
}

size_t
vpnr__replay_words(uint32_t window)
{
	return replay_nbits(window) / 64;
}

void
vpnr__replay_init(struct vpnr__replay *r, uint32_t window, int esn,
    uint64_t *bitmap)
{
	r->top = 0;
	r->window = window;
	r->nbits = replay_nbits(window);
	r->bitmap = bitmap;
	r->esn = esn != 0;
	memset(bitmap, 0, (r->nbits / 64) * sizeof(*bitmap));
}

uint64_t
vpnr__replay_infer(const struct vpnr__replay *r, uint32_t seql)
{
	uint32_t th, tl, w, bottom;

	if (!r->esn)
		return seql;
	w = r->window != 0 ? r->window : REPLAY_INFER_WINDOW;
	th = (uint32_t)(r->top >> 32);
	tl = (uint32_t)r->top;
	bottom = tl - w + 1; /* modulo 2^32 */
	if (tl >= w - 1) {
		/* Case A: the window lies within one 2^32 subspace. */
		if (seql < bottom)
			th++;
	} else {
		/* Case B: the window spans two subspaces. */
		if (seql >= bottom)
			th--;
	}
	return ((uint64_t)th << 32) | seql;
}

int
vpnr__replay_check(const struct vpnr__replay *r, uint64_t seq)
{
	uint64_t idx;

	if (seq == 0)
		return VPNR_ERR_REPLAY;
	if (r->window == 0 || seq > r->top)
		return 0;
	if (r->top - seq >= r->window)
		return VPNR_ERR_REPLAY;
	idx = seq & (r->nbits - 1);
	if (r->bitmap[idx >> 6] & (1ULL << (idx & 63)))
		return VPNR_ERR_REPLAY;
	return 0;
}

void
vpnr__replay_update(struct vpnr__replay *r, uint64_t seq)
{
	uint64_t s, n, idx, mask;

	mask = r->nbits - 1;
	if (seq > r->top) {
		if (r->window != 0 && seq - r->top >= r->nbits) {
			memset(r->bitmap, 0,
			    (r->nbits / 64) * sizeof(uint64_t));
		} else if (r->window != 0) {
			s = r->top + 1;
			n = seq - r->top; /* bits to clear, < nbits */
			while (n > 0) {
				idx = s & mask;
				if ((idx & 63) == 0 && n >= 64) {
					r->bitmap[idx >> 6] = 0;
					s += 64;
					n -= 64;
				} else {
					r->bitmap[idx >> 6] &=
					    ~(1ULL << (idx & 63));
					s++;
					n--;
				}
			}
		}
		r->top = seq;
	}
	if (r->window == 0)
		return;
	idx = seq & mask;
	r->bitmap[idx >> 6] |= 1ULL << (idx & 63);
}
