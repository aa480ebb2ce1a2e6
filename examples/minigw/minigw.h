/*
 * minigw: a small route-based IPsec gateway on libvpnroute, its
 * libuv driver and its built-in ESP data plane.  One TUN device per
 * tunnel carries the inner traffic; routes to the remote networks
 * point into it.
 */
#ifndef MINIGW_H
#define MINIGW_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <uv.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>
#include <vpnroute/vpnroute_uv.h>

#define MGW_BATCH      64    /* packets read from the TUN per wake-up */
#define MGW_PKT_MAX    65536 /* largest inner packet */
#define MGW_MAX_ROUTES 64
#define MGW_SLOT       2048 /* one queued ESP datagram (MTU <= 1900) */
#define MGW_VNET_HDR   10   /* struct virtio_net_hdr */
#define MGW_GRO_BUF    (65536 + MGW_VNET_HDR)

struct mgw;

struct mgw_tunnel {
	struct mgw *gw;
	uint64_t id;
	uint32_t if_id;
	char tun_name[16];
	int tun_fd;
	int tun_ifindex;
	int vnet; /* IFF_VNET_HDR with TSO offloads */
	uv_poll_t tun_poll;
	vpnr_prefix tun_addr;
	vpnr_addr remote; /* the peer gateway */
	int child_up;
	/* data path counters that the ESP plane does not see */
	uint64_t tun_rx, tun_tx, tun_tx_err, send_err, encap_err, decap_err;
	uint64_t mss_clamped, tx_batches, gso_sends, tso_segments, gro_merged;
};

struct mgw {
	uv_loop_t *loop;
	vpnr_uv *drv;
	vpnr_ctx *ctx;
	vpnr_esp *esp;
	struct mgw_tunnel tun;
	uint16_t mss;
	int stopping;
	int nl_ok;
	int bgp_on;
	uv_signal_t sig_int, sig_term, sig_usr1;
	uv_timer_t t_exit, t_rekey;
	uv_pipe_t control;
	int control_on;
	char control_path[108];
	uint8_t *rxbuf; /* MGW_BATCH * MGW_PKT_MAX for TUN reads */
	uint8_t *txbuf; /* one encapsulated packet */
	/* outbound batch for sendmmsg */
	int natt_fd;
	int gso_off;
	uint8_t *txq; /* MGW_BATCH * MGW_SLOT */
	int txq_n;
	uint8_t *segbuf; /* one TCP segment cut from a TSO packet */
	/* receive coalescing (gro.c) */
	uv_check_t gro_check;
	uint8_t *gro; /* MGW_GRO_BUF: virtio-net header + packet */
	size_t gro_len, gro_segs, gro_mss;
	uint32_t gro_next_seq;
	int gro_last_short;
	vpnr_tstamp batch_now;
	size_t txq_len[MGW_BATCH];
	vpnr_addr txq_dst[MGW_BATCH + 1];
	struct sockaddr_storage txq_ss[MGW_BATCH];
};

/* tun.c */
int mgw_tun_open(const char *name, char *ifname, size_t len, int *vnet);
int mgw_tun_start(struct mgw_tunnel *t);
void mgw_tun_stop(struct mgw_tunnel *t);
int mgw_natt_fd_tune(int fd);
void mgw_on_esp(vpnr_uv *uv, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *arg);

/* netlink.c: rtnetlink through libmnl; 0 or -errno. */
int mgw_nl_ifindex(const char *name);
int mgw_nl_link_up(int ifindex, uint32_t mtu);
int mgw_nl_addr_add(int ifindex, const vpnr_prefix *p);
int
mgw_nl_route(int add, int ifindex, const vpnr_prefix *p, const vpnr_addr *src);

/* gso.c: cut a TSO packet (vh: its virtio-net header) into segments
 * for emit, or complete a partial checksum; returns the number of
 * packets emitted or -1.  scratch holds MGW_SLOT bytes. */
int mgw_gso_split(const uint8_t *vh, uint8_t *pkt, size_t len,
    int (*emit)(uint8_t *seg, size_t len, void *arg), void *arg,
    uint8_t *scratch);

/* gro.c: write one decrypted packet (at buf + MGW_VNET_HDR) to the
 * TUN, merging TCP segments; flush writes what is pending. */
void mgw_gro_add(struct mgw *gw, uint8_t *buf, size_t len);
void mgw_gro_flush(struct mgw *gw);

/* mss.c: clamp the MSS option of a TCP SYN in an IPv4/IPv6 packet;
 * returns 1 if the packet was changed. */
int mgw_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss);

/* control.c */
int mgw_control_start(struct mgw *gw, const char *path);
void mgw_control_stop(struct mgw *gw);
/* Writes the status as text (json = 0) or JSON into a malloc'ed string. */
char *mgw_status(struct mgw *gw, int json);
int mgw_control_client(const char *path, const char *cmd);

#endif /* MINIGW_H */
