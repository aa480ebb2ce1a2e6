/*
 * minigw: a route-based IPsec gateway on libvpnroute, its libuv driver
 * and its built-in ESP data plane.  One process carries any number of
 * tunnels (one TUN device each, one pair of UDP sockets for all) and
 * BGP neighbours; routes to the remote networks point into the TUNs.
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

#include "config.h"

#define MGW_VERSION    "0.2.0"
#define MGW_BATCH      64    /* packets read from the TUN per wake-up */
#define MGW_PKT_MAX    65536 /* largest inner packet */
#define MGW_SLOT       2048  /* one queued ESP datagram (MTU <= 1900) */
#define MGW_VNET_HDR   10    /* struct virtio_net_hdr */
#define MGW_GRO_BUF    (65536 + MGW_VNET_HDR)
#define MGW_RTPROT     245 /* our static routes' protocol (bgp: 186) */
#define MGW_RTPROT_BGP 186 /* RTPROT_BGP */
#define MGW_NH_MAX     16  /* nexthops of one ECMP route */

struct mgw;

struct mgw_tunnel {
	struct mgw *gw;
	struct mgw_cfg_tunnel cfg;
	uint64_t id; /* library tunnel id; 0 with manual keying */
	uint32_t if_id;
	char tun_name[16];
	int tun_fd;
	int tun_ifindex;
	int vnet; /* IFF_VNET_HDR with TSO offloads */
	int poll_on;
	uv_poll_t tun_poll;
	vpnr_prefix tun_addr;
	vpnr_addr remote; /* the peer gateway */
	int child_up;
	int suspect;       /* VPNR_TUNNEL_EV_SUSPECT: used as a last resort */
	int removing;      /* reload removed it; freed once the poll closed */
	uint64_t up_since; /* uv_now() ms of the last CHILD_UP */
	/* data path counters that the ESP plane does not see */
	uint64_t tun_rx, tun_tx, tun_tx_err, send_err, encap_err, decap_err;
	uint64_t mss_clamped, tx_batches, gso_sends, tso_segments, gro_merged;
	uint64_t ups, downs;
};

struct mgw_peer {
	struct mgw_cfg_neighbor cfg;
	uint64_t id;
	uint64_t up_since; /* uv_now() ms of the last state change */
	uint32_t last_state;
};

struct mgw_network {
	vpnr_prefix prefix;
	uint64_t path_id;
};

/* One kernel route: a prefix and the tunnels that carry it. */
struct mgw_rt_nh {
	struct mgw_tunnel *t;
	uint64_t peer_id; /* 0 = static route */
};

struct mgw_rt {
	vpnr_prefix prefix;
	struct mgw_rt_nh nh[MGW_NH_MAX];
	int n;
	/* what is in the kernel now */
	int installed, proto;
	int inst_ifx[MGW_NH_MAX];
	int n_inst;
	int conflict; /* a route we did not make is there: left alone */
};

struct mgw {
	uv_loop_t *loop;
	vpnr_uv *drv;
	vpnr_ctx *ctx;
	vpnr_esp *esp;
	struct mgw_config cfg;
	uint32_t router_id; /* in use: mgw_config_router_id() at start */
	char cfg_path[MGW_PATH_MAX];
	struct mgw_tunnel **tuns;
	int n_tuns;
	struct mgw_peer **peers;
	int n_peers;
	struct mgw_network *nets;
	int n_nets;
	struct mgw_rt *rts;
	int n_rts;
	uint64_t rt_conflicts, rt_errors, reloads, reload_errors;
	int stopping;
	int manual_keying; /* --manual-sa: tunnels without IKE */
	vpnr_addr bound;   /* the IKE sockets' address */
	int debug;
	double exit_after, rekey_child;
	uv_signal_t sig_int, sig_term, sig_usr1, sig_hup;
	uv_timer_t t_exit, t_rekey;
	uv_pipe_t control;
	int control_on;
	char control_path[108];
	int lock_fd;
	uv_tcp_t metrics;
	int metrics_on;
	uint8_t *rxbuf; /* one TUN read */
	uint8_t *txbuf; /* one encapsulated packet */
	/* outbound batch for sendmmsg */
	int natt_fd;
	int gso_off;
	uint8_t *txq; /* MGW_BATCH * MGW_SLOT */
	int txq_n;
	uint8_t *segbuf; /* one TCP segment cut from a TSO packet */
	/* receive coalescing (gro.c) */
	uv_check_t gro_check;
	int gro_on;
	struct mgw_tunnel *gro_tun;
	uint8_t *gro; /* MGW_GRO_BUF: virtio-net header + packet */
	size_t gro_len, gro_segs, gro_mss;
	uint32_t gro_next_seq;
	int gro_last_short;
	vpnr_tstamp batch_now;
	size_t txq_len[MGW_BATCH];
	vpnr_addr txq_dst[MGW_BATCH + 1];
	struct sockaddr_storage txq_ss[MGW_BATCH];
	uint64_t started_ms;
};

/* tun.c */
int mgw_tun_open(const char *name, char *ifname, size_t len, int *vnet);
int mgw_tun_start(struct mgw_tunnel *t);
void mgw_tun_stop(struct mgw_tunnel *t, uv_close_cb done);
void mgw_tun_del_many(struct mgw_tunnel **ts, int n);
int mgw_gro_start(struct mgw *gw);
void mgw_gro_stop(struct mgw *gw);
int mgw_natt_fd_tune(int fd);
void mgw_on_esp(vpnr_uv *uv, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *arg);

/* netlink.c: rtnetlink through libmnl; 0 or -errno. */
int mgw_nl_ifindex(const char *name);
int mgw_nl_link_up(int ifindex, uint32_t mtu);
int mgw_nl_addr_add(int ifindex, const vpnr_prefix *p);
int mgw_nl_virtual(const char *name, const char *kind);
int mgw_nl_link_del(int ifindex);
/* Delete the n links ifx at once through the interface group group
 * (unused by anyone else); when that is not possible they are left. */
int mgw_nl_links_del(const int *ifx, int n, uint32_t group);
/* Add (excl = refuse to replace), replace or delete one route to p
 * through the n interfaces ifx (several = one multipath route). */
#define MGW_NL_ADD     1
#define MGW_NL_REPLACE 2
#define MGW_NL_DEL     3
int mgw_nl_route(int op, const vpnr_prefix *p, const int *ifx, int n, int proto,
    const vpnr_addr *src);

/* rtable.c: the routes minigw puts in the kernel (ECMP over tunnels). */
int mgw_rt_add(struct mgw *gw, const vpnr_prefix *p, struct mgw_tunnel *t,
    uint64_t peer_id);
int mgw_rt_del(struct mgw *gw, const vpnr_prefix *p, struct mgw_tunnel *t,
    uint64_t peer_id);
void mgw_rt_forget_tunnel(struct mgw *gw, struct mgw_tunnel *t);
/* Bring the kernel in line with the table (after up/down changes). */
void mgw_rt_sync(struct mgw *gw);
void mgw_rt_flush(struct mgw *gw);
/* Test hook: replaces mgw_nl_route when set. */
extern int (*mgw_rt_kernel)(int op, const vpnr_prefix *p, const int *ifx, int n,
    int proto, const vpnr_addr *src);

/* gso.c: cut a TSO packet (vh: its virtio-net header) into segments
 * for emit, or complete a partial checksum; returns the number of
 * packets emitted or -1.  scratch holds MGW_SLOT bytes. */
int mgw_gso_split(const uint8_t *vh, uint8_t *pkt, size_t len,
    int (*emit)(uint8_t *seg, size_t len, void *arg), void *arg,
    uint8_t *scratch);

/* gro.c: write one decrypted packet (at buf + MGW_VNET_HDR) to the
 * TUN of t, merging TCP segments; flush writes what is pending. */
void
mgw_gro_add(struct mgw *gw, struct mgw_tunnel *t, uint8_t *buf, size_t len);
void mgw_gro_flush(struct mgw *gw);

/* mss.c: clamp the MSS option of a TCP SYN in an IPv4/IPv6 packet;
 * returns 1 if the packet was changed. */
int mgw_mss_clamp(uint8_t *pkt, size_t len, uint16_t mss);

/* gateway.c: tunnels, neighbours and networks from the configuration. */
int mgw_apply(struct mgw *gw, struct mgw_config *nc, char *err, size_t len);
int mgw_reload(struct mgw *gw, char *msg, size_t len);
struct mgw_tunnel *mgw_tunnel_by_name(struct mgw *gw, const char *name);
struct mgw_tunnel *mgw_tunnel_by_if_id(struct mgw *gw, uint32_t if_id);
struct mgw_peer *mgw_peer_by_addr(struct mgw *gw, const vpnr_addr *a);
struct mgw_peer *mgw_peer_by_id(struct mgw *gw, uint64_t id);
void mgw_tunnel_updown(struct mgw_tunnel *t, int up);
int mgw_tunnel_action(struct mgw *gw, const char *name, const char *what,
    char *msg, size_t len);
int mgw_bgp_clear(struct mgw *gw, const char *addr, int soft, char *msg,
    size_t len);
void mgw_shutdown(struct mgw *gw);
extern const vpnr_callbacks mgw_callbacks;
int mgw_route_add(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg);
int mgw_route_del(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *arg);

/* show.c: the answers of "show ..." as text or JSON (malloc'ed). */
char *mgw_show(struct mgw *gw, const char *what, int json);
char *mgw_metrics(struct mgw *gw);

/* control.c */
int mgw_control_start(struct mgw *gw, const char *path);
void mgw_control_stop(struct mgw *gw);
/* One command line in, the answer on stdout; returns an exit code. */
int mgw_control_client(const char *path, const char *cmd);
/* Runs one command line; *rc gets 0 or MGW_EXIT_RUNTIME. */
char *mgw_command(struct mgw *gw, const char *line, int *rc);

/* metrics.c: Prometheus text over HTTP. */
int mgw_metrics_start(struct mgw *gw, const char *listen);
void mgw_metrics_stop(struct mgw *gw);

/* service.c: logging, systemd, privileges, the instance lock. */
void mgw_log_init(const char *target, int level, int foreground);
void mgw_log_level(int level);
void
mgw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mgw_notify(const char *state);
int mgw_lock(struct mgw *gw, const char *control, char *err, size_t len);
void mgw_unlock(struct mgw *gw);
int mgw_drop_privileges(const char *user, char *err, size_t len);

#endif /* MINIGW_H */
