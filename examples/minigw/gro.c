/*
 * Receive-side coalescing for the TUN device (with IFF_VNET_HDR):
 * consecutive decrypted TCP/IPv4 segments of one flow are merged into
 * one super-packet and written once, with a virtio-net header asking
 * the kernel for GSO (as its own GRO would build).  This saves one
 * write() and one pass through the stack per segment.  Everything
 * else is written as it is.  The pending packet is flushed when the
 * next one does not fit and at the end of each loop iteration.
 */
#include <string.h>
#include <unistd.h>

#include <linux/virtio_net.h>

#include "minigw.h"

#define GRO_MAX_LEN  60000
#define GRO_MAX_SEGS 44

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t
sum16(uint32_t s, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	return s;
}

static uint16_t
fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int
write_pkt(struct mgw_tunnel *t, uint8_t *buf, size_t len)
{
	if (write(t->tun_fd, buf, len) < 0) {
		t->tun_tx_err++;
		return -1;
	}
	t->tun_tx++;
	return 0;
}

void
mgw_gro_flush(struct mgw *gw)
{
	struct mgw_tunnel *t = gw->gro_tun;
	struct virtio_net_hdr *h = (void *)gw->gro;
	uint8_t *ip = gw->gro + MGW_VNET_HDR;
	size_t iphl, thl, len;
	uint32_t s;

	if (gw->gro_len == 0)
		return;
	len = gw->gro_len;
	memset(h, 0, sizeof(*h));
	if (gw->gro_segs > 1) {
		iphl = (size_t)(ip[0] & 0x0f) * 4;
		thl = (size_t)(ip[iphl + 12] >> 4) * 4;
		put16(ip + 2, (uint16_t)len);
		ip[10] = ip[11] = 0;
		put16(ip + 10, (uint16_t)~fold(sum16(0, ip, iphl)));
		/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum. */
		s = sum16(0, ip + 12, 8) + 6 + (uint32_t)(len - iphl);
		put16(ip + iphl + 16, fold(s));
		h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h->hdr_len = (uint16_t)(iphl + thl);
		h->gso_size = (uint16_t)gw->gro_mss;
		h->csum_start = (uint16_t)iphl;
		h->csum_offset = 16;
		t->gro_merged += gw->gro_segs;
	}
	write_pkt(t, gw->gro, len + MGW_VNET_HDR);
	gw->gro_len = 0;
	gw->gro_segs = 0;
}

/* Can pkt (a TCP/IPv4 segment) be appended to the pending one? */
static int
gro_fits(struct mgw *gw, const uint8_t *p, size_t len, size_t iphl, size_t thl)
{
	const uint8_t *q = gw->gro + MGW_VNET_HDR;
	size_t qiphl = (size_t)(q[0] & 0x0f) * 4;
	size_t payload = len - iphl - thl;

	if (gw->gro_len == 0 || qiphl != iphl ||
	    (size_t)(q[iphl + 12] >> 4) * 4 != thl)
		return 0;
	if (gw->gro_segs >= GRO_MAX_SEGS ||
	    gw->gro_len + payload > GRO_MAX_LEN || payload > gw->gro_mss ||
	    gw->gro_last_short)
		return 0;
	/* Same addresses, ports, ack, TOS and TTL; options identical. */
	if (memcmp(q + 12, p + 12, 8) != 0 || memcmp(q + iphl, p + iphl, 4) ||
	    memcmp(q + iphl + 8, p + iphl + 8, 4) != 0 || q[1] != p[1] ||
	    q[8] != p[8] || memcmp(q + iphl + 20, p + iphl + 20, thl - 20) != 0)
		return 0;
	if (get32(p + iphl + 4) != gw->gro_next_seq)
		return 0;
	return 1;
}

void
mgw_gro_add(struct mgw *gw, struct mgw_tunnel *t, uint8_t *buf, size_t len)
{
	uint8_t *p = buf + MGW_VNET_HDR;
	size_t iphl, thl, payload;
	uint8_t flags;

	/* Only plain TCP/IPv4 data segments with ACK (PSH allowed) and
	 * no fragmentation are merged. */
	if (len < 40 || (p[0] >> 4) != 4 || p[9] != 6 ||
	    (get16(p + 6) & 0x3fff) != 0)
		goto plain;
	iphl = (size_t)(p[0] & 0x0f) * 4;
	if (iphl != 20 || len < iphl + 20)
		goto plain;
	thl = (size_t)(p[iphl + 12] >> 4) * 4;
	if (thl < 20 || len < iphl + thl || get16(p + 2) != len)
		goto plain;
	payload = len - iphl - thl;
	flags = p[iphl + 13];
	if (payload == 0 || (flags & ~0x08) != 0x10)
		goto plain;
	if (gw->gro_tun == t && gro_fits(gw, p, len, iphl, thl)) {
		memcpy(gw->gro + MGW_VNET_HDR + gw->gro_len, p + iphl + thl,
		    payload);
		gw->gro_len += payload;
		gw->gro_segs++;
		gw->gro_next_seq += (uint32_t)payload;
		/* PSH or a short segment ends the train (PSH kept). */
		gw->gro[MGW_VNET_HDR + iphl + 13] |= flags & 0x08;
		if (payload < gw->gro_mss || (flags & 0x08))
			gw->gro_last_short = 1;
		return;
	}
	mgw_gro_flush(gw);
	if (len + MGW_VNET_HDR > MGW_GRO_BUF)
		goto plain;
	memcpy(gw->gro + MGW_VNET_HDR, p, len);
	gw->gro_tun = t;
	gw->gro_len = len;
	gw->gro_segs = 1;
	gw->gro_mss = payload;
	gw->gro_next_seq = get32(p + iphl + 4) + (uint32_t)payload;
	gw->gro_last_short = (flags & 0x08) != 0;
	return;
plain:
	mgw_gro_flush(gw);
	memset(buf, 0, MGW_VNET_HDR);
	write_pkt(t, buf, len + MGW_VNET_HDR);
}
