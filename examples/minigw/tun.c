/*
 * The TUN device of a tunnel and the packet path:
 *   TUN -> encap -> NAT-T socket    (up to MGW_BATCH packets per wake-up)
 *   NAT-T socket -> decap -> TUN    (the driver batches with recvmmsg)
 * TCP SYNs are MSS-clamped both ways.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minigw.h"

/*
 * Open the TUN device.  With *vnet set, ask for the virtio-net header
 * and TSO/checksum offloads (see gso.c); *vnet says what was granted.
 */
int
mgw_tun_open(const char *name, char *ifname, size_t len, int *vnet)
{
	struct ifreq ifr;
	int fd, hsz = MGW_VNET_HDR;
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (*vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (*vnet &&
	    (ioctl(fd, TUNSETVNETHDRSZ, &hsz) < 0 ||
		ioctl(fd, TUNSETOFFLOAD, off) < 0)) {
		/* No offloads: start again without the header. */
		close(fd);
		*vnet = 0;
		return mgw_tun_open(name, ifname, len, vnet);
	}
	snprintf(ifname, len, "%s", ifr.ifr_name);
	return fd;
}

static void
after_batch(struct mgw *gw, vpnr_tstamp now)
{
	int rc;

	/* Lifetime expiries are reported outside any vpnr callback. */
	if (vpnr_esp_expired_pending(gw->esp)) {
		rc = vpnr_esp_poll_expired(gw->esp, now);
		if (rc < 0)
			fprintf(stderr, "minigw: sa_expired: %s\n",
			    vpnr_strerror(rc));
		vpnr_uv_kick(gw->drv);
	}
}

/*
 * The libuv driver owns the NAT-T socket and offers one send per call
 * (vpnr_uv_send_natt).  To send a batch with one sendmmsg() minigw uses
 * the socket itself (vpnr_uv_natt_fd), and enlarges its buffers: ESP
 * bursts overflow the default 208 KiB and every drop costs TCP a
 * retransmit.
 */
int
mgw_natt_fd_tune(int fd)
{
	int size = 8 << 20;

	if (fd < 0)
		return fd;
	/* FORCE variants pass rmem_max when privileged. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	return fd;
}

static socklen_t
to_sockaddr(const vpnr_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == VPNR_AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(a->port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(a->port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	sin6->sin6_scope_id = a->scope_id;
	return sizeof(*sin6);
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/*
 * Send the n queued datagrams with one sendmmsg (or one by one through
 * the driver).  Runs of datagrams of one size to one peer leave as a
 * single UDP GSO message (UDP_SEGMENT): the stack is crossed once per
 * run and the datagrams are cut at the device, or at the receiver.
 */
static void
flush_tx(struct mgw *gw, struct mgw_tunnel *t, int n)
{
	struct mmsghdr msg[MGW_BATCH];
	struct iovec iov[MGW_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[MGW_BATCH];
	struct cmsghdr *cm;
	size_t total;
	int i, j, m = 0, done = 0, rc, sent;

	if (gw->natt_fd < 0) {
		for (i = 0; i < n; i++)
			if (vpnr_uv_send_natt(gw->drv, &gw->txq_dst[i],
				gw->txq + (size_t)i * MGW_SLOT,
				gw->txq_len[i]) != VPNR_OK)
				t->send_err++;
		return;
	}
	for (i = 0; i < n; i++) {
		iov[i].iov_base = gw->txq + (size_t)i * MGW_SLOT;
		iov[i].iov_len = gw->txq_len[i];
	}
	for (i = 0; i < n; i = j) {
		/* A run: same length and peer; the last may be shorter. */
		total = gw->txq_len[i];
		j = i + 1;
		while (!gw->gso_off && j < n &&
		    total + gw->txq_len[j] <= 65000 &&
		    gw->txq_len[j] <= gw->txq_len[i] &&
		    gw->txq_dst[j].port == gw->txq_dst[i].port &&
		    memcmp(gw->txq_dst[j].bytes, gw->txq_dst[i].bytes, 16) ==
			0) {
			total += gw->txq_len[j];
			if (gw->txq_len[j++] < gw->txq_len[i])
				break;
		}
		memset(&msg[m], 0, sizeof(msg[m]));
		msg[m].msg_hdr.msg_iov = &iov[i];
		msg[m].msg_hdr.msg_iovlen = (size_t)(j - i);
		msg[m].msg_hdr.msg_namelen =
		    to_sockaddr(&gw->txq_dst[i], &gw->txq_ss[m]);
		msg[m].msg_hdr.msg_name = &gw->txq_ss[m];
		if (j - i > 1) {
			msg[m].msg_hdr.msg_control = ctl[m].buf;
			msg[m].msg_hdr.msg_controllen = sizeof(ctl[m].buf);
			cm = CMSG_FIRSTHDR(&msg[m].msg_hdr);
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			*(uint16_t *)(void *)CMSG_DATA(cm) =
			    (uint16_t)gw->txq_len[i];
			t->gso_sends++;
		}
		m++;
	}
	while (done < m) {
		rc = sendmmsg(gw->natt_fd, msg + done, (unsigned int)(m - done),
		    MSG_DONTWAIT);
		if (rc <= 0) {
			if (!gw->gso_off &&
			    (errno == EIO || errno == EINVAL ||
				errno == EOPNOTSUPP)) {
				/* No UDP GSO here: send plainly from now. */
				gw->gso_off = 1;
				flush_tx(gw, t, n);
				return;
			}
			for (sent = done; sent < m; sent++)
				t->send_err += msg[sent].msg_hdr.msg_iovlen;
			return;
		}
		done += rc;
	}
	t->tx_batches++;
}

/* Encapsulate one inner packet into the outbound queue. */
static int
queue_packet(uint8_t *pkt, size_t n, void *arg)
{
	struct mgw_tunnel *t = arg;
	struct mgw *gw = t->gw;
	size_t olen;
	int rc;

	if (t->cfg.mss != 0 && mgw_mss_clamp(pkt, n, (uint16_t)t->cfg.mss))
		t->mss_clamped++;
	if (n + VPNR_ESP_MAX_OVERHEAD > MGW_SLOT) {
		/* Jumbo inner packet: encapsulate and send alone. */
		rc = vpnr_esp_encap(gw->esp, t->if_id, pkt, n, gw->txbuf,
		    MGW_PKT_MAX + VPNR_ESP_MAX_OVERHEAD, &olen,
		    &gw->txq_dst[MGW_BATCH], gw->batch_now);
		if (rc != VPNR_OK)
			t->encap_err++;
		else if (vpnr_uv_send_natt(gw->drv, &gw->txq_dst[MGW_BATCH],
			     gw->txbuf, olen) != VPNR_OK)
			t->send_err++;
		return 0;
	}
	if (gw->txq_n == MGW_BATCH) {
		flush_tx(gw, t, gw->txq_n);
		gw->txq_n = 0;
	}
	rc = vpnr_esp_encap(gw->esp, t->if_id, pkt, n,
	    gw->txq + (size_t)gw->txq_n * MGW_SLOT, MGW_SLOT, &olen,
	    &gw->txq_dst[gw->txq_n], gw->batch_now);
	if (rc != VPNR_OK) {
		t->encap_err++;
		return 0;
	}
	gw->txq_len[gw->txq_n++] = olen;
	return 0;
}

static void
on_tun_readable(uv_poll_t *p, int status, int events)
{
	struct mgw_tunnel *t = p->data;
	struct mgw *gw = t->gw;
	size_t hdr = t->vnet ? MGW_VNET_HDR : 0;
	ssize_t n;
	int i, k;

	if (status < 0)
		return;
	gw->batch_now = vpnr_uv_now(gw->drv);
	gw->txq_n = 0;
	for (i = 0; i < MGW_BATCH; i++) {
		n = read(t->tun_fd, gw->rxbuf, MGW_PKT_MAX + MGW_VNET_HDR);
		if (n <= (ssize_t)hdr)
			break;
		t->tun_rx++;
		if (!t->vnet) {
			queue_packet(gw->rxbuf, (size_t)n, t);
			continue;
		}
		k = mgw_gso_split(gw->rxbuf, gw->rxbuf + hdr, (size_t)n - hdr,
		    queue_packet, t, gw->segbuf);
		if (k < 0)
			t->encap_err++;
		else if (k > 1)
			t->tso_segments += (uint64_t)k;
	}
	if (gw->txq_n > 0)
		flush_tx(gw, t, gw->txq_n);
	gw->txq_n = 0;
	after_batch(gw, gw->batch_now);
}

void
mgw_on_esp(vpnr_uv *uv, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *arg)
{
	struct mgw *gw = arg;
	struct mgw_tunnel *t;
	vpnr_tstamp now = vpnr_uv_now(uv);
	/* Room for a virtio-net header in front, whichever TUN it is. */
	uint8_t *out = gw->txbuf + MGW_VNET_HDR;
	size_t olen, hdr;
	uint32_t if_id;
	int rc;

	rc = vpnr_esp_decap(gw->esp, remote, data, len, out, MGW_PKT_MAX, &olen,
	    &if_id, now);
	if (rc != VPNR_OK) {
		/* Counted per SA/tunnel by the data plane itself. */
		after_batch(gw, now);
		return;
	}
	if (olen == 0 || (t = mgw_tunnel_by_if_id(gw, if_id)) == NULL ||
	    t->tun_fd < 0 || t->removing)
		return;
	if (t->cfg.mss != 0 && mgw_mss_clamp(out, olen, (uint16_t)t->cfg.mss))
		t->mss_clamped++;
	if (t->vnet) {
		/* Offloads: coalesce, written at the end of the burst. */
		mgw_gro_add(gw, t, gw->txbuf, olen);
		after_batch(gw, now);
		return;
	}
	hdr = MGW_VNET_HDR;
	if (write(t->tun_fd, gw->txbuf + hdr, olen) < 0)
		t->tun_tx_err++;
	else
		t->tun_tx++;
	after_batch(gw, now);
}

static void
on_check(uv_check_t *c)
{
	mgw_gro_flush(c->data);
}

int
mgw_gro_start(struct mgw *gw)
{
	gw->gro_check.data = gw;
	uv_check_init(gw->loop, &gw->gro_check);
	gw->gro_on = 1;
	return uv_check_start(&gw->gro_check, on_check);
}

void
mgw_gro_stop(struct mgw *gw)
{
	if (!gw->gro_on)
		return;
	gw->gro_on = 0;
	mgw_gro_flush(gw);
	gw->gro_tun = NULL;
	uv_check_stop(&gw->gro_check);
	uv_close((uv_handle_t *)&gw->gro_check, NULL);
}

int
mgw_tun_start(struct mgw_tunnel *t)
{
	int rc;

	t->tun_poll.data = t;
	if ((rc = uv_poll_init(t->gw->loop, &t->tun_poll, t->tun_fd)) < 0)
		return rc;
	t->poll_on = 1;
	return uv_poll_start(&t->tun_poll, UV_READABLE, on_tun_readable);
}

/* Stop reading the TUN, close it; done (may be NULL) runs after. */
void
mgw_tun_stop(struct mgw_tunnel *t, uv_close_cb done)
{
	if (t->tun_fd < 0)
		return;
	if (t->poll_on) {
		uv_poll_stop(&t->tun_poll);
		t->tun_poll.data = t;
		uv_close((uv_handle_t *)&t->tun_poll, done);
		t->poll_on = 0;
	}
	close(t->tun_fd);
	t->tun_fd = -1;
}

/*
 * The interface group that mgw_tun_del_many() passes its devices
 * through: 0x4d000000 + pid, unique among the live processes of this
 * PID namespace (pids are below 2^22); a device of anyone else's in it
 * (say a minigw of the same pid in another PID namespace sharing this
 * network namespace) makes mgw_nl_links_del() refuse.
 */
#define MGW_TUN_GROUP_BASE 0x4d000000u

/*
 * Delete the TUN devices of n tunnels in one kernel round before their
 * descriptors are closed.  Closing the last descriptor of a
 * non-persistent TUN deletes it too, but alone, and the kernel waits for
 * that device to be released (RCU, references) before the next: about
 * 20 ms each with the tunnels up in bench_udp_scale.sh, 20 s for 1,000
 * (0.2 ms each for idle ones in a quiet namespace).  Persistent
 * devices (the administrator's) are left alone; on failure the closes
 * delete the devices one by one as before.
 */
void
mgw_tun_del_many(struct mgw_tunnel **ts, int n)
{
	struct ifreq ifr;
	int *ifx, i, k = 0, rc;

	if (n < 2 || (ifx = malloc(sizeof(*ifx) * (size_t)n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		memset(&ifr, 0, sizeof(ifr));
		if (ts[i]->tun_fd >= 0 && ts[i]->tun_ifindex > 0 &&
		    ioctl(ts[i]->tun_fd, TUNGETIFF, &ifr) == 0 &&
		    !(ifr.ifr_flags & IFF_PERSIST))
			ifx[k++] = ts[i]->tun_ifindex;
	}
	if (k > 1 &&
	    (rc = mgw_nl_links_del(ifx, k,
		 MGW_TUN_GROUP_BASE + (uint32_t)getpid())) < 0)
		mgw_log(VPNR_LOG_WARNING,
		    "deleting %d TUN devices at once: %s; closing them one "
		    "by one",
		    k, strerror(-rc));
	free(ifx);
}
