/*
 * TCP MSS clamping on SYNs that cross the tunnel (both directions),
 * with an incremental checksum update (RFC 1624).  Only plain IPv4 and
 * IPv6 headers followed directly by TCP are handled; everything else
 * passes untouched.
 */
#include <string.h>

#include "minigw.h"

/* HC' = ~(~HC + ~m + m') for one 16-bit word. */
static uint16_t
csum_update(uint16_t hc, uint16_t old, uint16_t new)
{
	uint32_t s;

	s = (uint16_t)~hc + (uint16_t)~old + new;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

int
mgw_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss)
{
	size_t l4, thl, off, olen;
	uint16_t cur, sum, w_old, w_new;
	uint8_t proto;

	if (len < 1 || mss == 0)
		return 0;
	if ((pkt[0] >> 4) == 4) {
		if (len < 20)
			return 0;
		l4 = (size_t)(pkt[0] & 0x0f) * 4;
		proto = pkt[9];
		/* Fragments other than the first carry no TCP header. */
		if ((((pkt[6] & 0x1f) << 8) | pkt[7]) != 0)
			return 0;
	} else if ((pkt[0] >> 4) == 6) {
		l4 = 40;
		proto = len >= 40 ? pkt[6] : 0;
	} else {
		return 0;
	}
	if (proto != 6 || len < l4 + 20)
		return 0;
	if (!(pkt[l4 + 13] & 0x02)) /* SYN */
		return 0;
	thl = (size_t)(pkt[l4 + 12] >> 4) * 4;
	if (thl < 20 || len < l4 + thl)
		return 0;
	off = l4 + 20;
	while (off < l4 + thl) {
		if (pkt[off] == 0) /* end of options */
			break;
		if (pkt[off] == 1) { /* NOP */
			off++;
			continue;
		}
		if (off + 1 >= l4 + thl)
			break;
		olen = pkt[off + 1];
		if (olen < 2 || off + olen > l4 + thl)
			break;
		if (pkt[off] == 2 && olen == 4) {
			cur = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
			if (cur <= mss)
				return 0;
			sum = (uint16_t)(pkt[l4 + 16] << 8 | pkt[l4 + 17]);
			/* The checksum sums 16-bit words from the TCP
			 * header start: an odd offset swaps the bytes. */
			if (((off + 2 - l4) & 1) == 0) {
				w_old = cur;
				w_new = mss;
			} else {
				w_old = (uint16_t)((cur >> 8) | (cur << 8));
				w_new = (uint16_t)((mss >> 8) | (mss << 8));
			}
			sum = csum_update(sum, w_old, w_new);
			pkt[off + 2] = (uint8_t)(mss >> 8);
			pkt[off + 3] = (uint8_t)mss;
			pkt[l4 + 16] = (uint8_t)(sum >> 8);
			pkt[l4 + 17] = (uint8_t)sum;
			return 1;
		}
		off += olen;
	}
	return 0;
}
