/*
 * TUN offloads (IFF_VNET_HDR): the kernel hands minigw TCP super-
 * packets of up to 64 KiB (TSO) and packets whose checksum is not yet
 * computed (CHECKSUM_PARTIAL), which saves one read() and one pass
 * through the stack per segment.  This file finishes the work the
 * kernel left: it cuts a super-packet into MSS-sized TCP segments with
 * correct IPv4/IPv6 and TCP headers and checksums, and completes a
 * partial checksum.
 */
#include <string.h>

#include <linux/virtio_net.h>

#include "minigw.h"

/* One's complement sum of big-endian 16-bit words, 4 bytes a step. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	uint32_t w;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		s += __builtin_bswap32(w);
	}
	for (; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)(p[i] << 8);
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	/* Fold 32 to 16 bits without losing carries. */
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* TCP checksum of the segment at l4 (len bytes) with the pseudo-header. */
static void
tcp_csum(uint8_t *pkt, size_t l4, size_t len, int v6)
{
	uint32_t sum = 0;

	pkt[l4 + 16] = pkt[l4 + 17] = 0;
	if (v6)
		sum = csum_add(sum, pkt + 8, 32);
	else
		sum = csum_add(sum, pkt + 12, 8);
	sum += 6 + (uint32_t)len;
	sum = csum_add(sum, pkt + l4, len);
	put16(pkt + l4 + 16, csum_fold(sum));
}

int
mgw_gso_split(const uint8_t *vh, uint8_t *pkt, size_t len,
    int (*emit)(uint8_t *seg, size_t len, void *arg), void *arg,
    uint8_t *scratch)
{
	const struct virtio_net_hdr *h = (const void *)vh;
	size_t iphl, thl, hl, payload, off, seg, mss;
	uint32_t seq;
	uint16_t id, cs;
	int v6, n = 0, last, rc;
	uint8_t flags;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		    (size_t)h->csum_start + h->csum_offset + 2 <= len) {
			/* The field holds the pseudo-header sum. */
			cs = csum_fold(csum_add(0, pkt + h->csum_start,
			    len - h->csum_start));
			put16(pkt + h->csum_start + h->csum_offset, cs);
		}
		return emit(pkt, len, arg) < 0 ? -1 : 1;
	}
	if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) !=
		VIRTIO_NET_HDR_GSO_TCPV4 &&
	    (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV6)
		return -1;
	v6 = (pkt[0] >> 4) == 6;
	if (v6) {
		if (len < 40 || pkt[6] != 6)
			return -1;
		iphl = 40;
	} else {
		if (len < 20 || pkt[9] != 6)
			return -1;
		iphl = (size_t)(pkt[0] & 0x0f) * 4;
	}
	if (len < iphl + 20)
		return -1;
	thl = (size_t)(pkt[iphl + 12] >> 4) * 4;
	hl = iphl + thl;
	mss = h->gso_size;
	if (thl < 20 || len < hl || mss == 0 || hl + mss > MGW_SLOT)
		return -1;
	payload = len - hl;
	seq = (uint32_t)pkt[iphl + 4] << 24 | (uint32_t)pkt[iphl + 5] << 16 |
	    (uint32_t)pkt[iphl + 6] << 8 | pkt[iphl + 7];
	id = (uint16_t)(pkt[4] << 8 | pkt[5]);
	flags = pkt[iphl + 13];
	for (off = 0; off < payload; off += seg) {
		seg = payload - off < mss ? payload - off : mss;
		last = off + seg == payload;
		memcpy(scratch, pkt, hl);
		memcpy(scratch + hl, pkt + hl + off, seg);
		if (v6) {
			put16(scratch + 4, (uint16_t)(thl + seg));
		} else {
			put16(scratch + 2, (uint16_t)(hl + seg));
			put16(scratch + 4, (uint16_t)(id + n));
			scratch[10] = scratch[11] = 0;
			put16(scratch + 10,
			    csum_fold(csum_add(0, scratch, iphl)));
		}
		scratch[iphl + 4] = (uint8_t)((seq + off) >> 24);
		scratch[iphl + 5] = (uint8_t)((seq + off) >> 16);
		scratch[iphl + 6] = (uint8_t)((seq + off) >> 8);
		scratch[iphl + 7] = (uint8_t)(seq + off);
		/* FIN and PSH only on the last segment, CWR on the first. */
		scratch[iphl + 13] = flags &
		    (uint8_t) ~((last ? 0 : 0x09) | (n == 0 ? 0 : 0x80));
		tcp_csum(scratch, iphl, thl + seg, v6);
		if ((rc = emit(scratch, hl + seg, arg)) < 0)
			return -1;
		n++;
	}
	return n;
}
