/*
 * minigw's configuration: one YAML file (libyaml), checked field by
 * field, every error as "FILE:LINE: FIELD: what is wrong (what is
 * allowed)".  The structures below are the configuration as it will be
 * applied, after defaults; mgw_config_print() writes them back as YAML.
 * See minigw.conf(5).
 */
#ifndef MGW_CONFIG_H
#define MGW_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vpnroute/vpnroute.h>

#include "profile.h"

/* Exit codes of minigw (stable, documented in minigw(8)). */
#define MGW_EXIT_OK      0
#define MGW_EXIT_CONFIG  1 /* the configuration is wrong */
#define MGW_EXIT_USAGE   2 /* bad command line */
#define MGW_EXIT_RUNTIME 3 /* could not run, or a ctl command failed */

#define MGW_NAME_MAX   32  /* tunnel, interface, prefix-list names */
#define MGW_IFNAME_MAX 16  /* IFNAMSIZ */
#define MGW_PSK_MIN    8   /* shortest PSK accepted (AWS: 8) */
#define MGW_PSK_MAX    256 /* longest PSK accepted (never truncated) */
#define MGW_MD5_MAX    80  /* RFC 2385 key, the library's limit */
#define MGW_ID_MAX     256
#define MGW_LIST_MAX   16 /* proposals, selectors, addresses per item */
#define MGW_PATH_MAX   256
#define MGW_KEYS_MAX   48 /* rows of one section's key table */

/* The policy words of a neighbour's import/export. */
#define MGW_POL_NONE     0
#define MGW_POL_ALL      1
#define MGW_POL_NETWORKS 2 /* export only: our network statements */
#define MGW_POL_LIST     3 /* a prefix list: pl names it */

#define MGW_ROLE_INITIATE 0
#define MGW_ROLE_RESPOND  1
#define MGW_ROLE_BOTH     2

struct mgw_cfg_global {
	uint32_t router_id; /* host order; 0 = derived */
	uint32_t local_as;  /* 0 = no BGP */
	vpnr_addr listen;   /* IKE sockets' address; unset = see main.c */
	uint16_t ike_port, natt_port;
	int log_level;      /* VPNR_LOG_* */
	char log_target[8]; /* auto | stderr | syslog */
	char control[108];  /* control socket path */
	char user[64];      /* run as, after setup ("" = stay root) */
	char metrics[64];   /* ADDR:PORT of the HTTP metrics listener */
	/* Half-open IKE SAs before COOKIEs are demanded: in all, then per
	 * source address, and per source before its requests are dropped
	 * (the library's defaults 64, 3 and 5, strongSwan's names). */
	uint32_t cookie_threshold, cookie_threshold_ip, block_threshold;
	uint32_t half_open_limit; /* past it IKE_SA_INITs are dropped */
	/* Where each key was given: see mgw_tunnel_key_line(). */
	int key_line[MGW_KEYS_MAX];
};

struct mgw_cfg_iface {
	char name[MGW_IFNAME_MAX];
	vpnr_prefix addr[MGW_LIST_MAX];
	int n_addr;
	int line;
};

struct mgw_cfg_tunnel {
	char name[MGW_NAME_MAX];
	char local[256], remote[256];      /* as written (FQDN or address) */
	vpnr_addr local_addr, remote_addr; /* resolved once */
	char local_id[MGW_ID_MAX], remote_id[MGW_ID_MAX]; /* "" = address */
	uint8_t psk[MGW_PSK_MAX];
	size_t psk_len;
	char psk_file[MGW_PATH_MAX]; /* "" = inline psk */
	int ike_version;
	char ike[MGW_LIST_MAX][64], esp[MGW_LIST_MAX][64];
	int n_ike, n_esp;
	uint32_t ike_lifetime, child_lifetime; /* seconds */
	uint64_t child_lifetime_kb;            /* 0 = none */
	uint64_t soft_bytes;   /* command line only; else 90 % of the KB */
	uint32_t rekey_margin; /* seconds before lifetime */
	uint32_t rekey_fuzz;   /* percent */
	uint32_t dpd_interval, dpd_timeout; /* seconds */
	uint32_t suspect;                   /* seconds, 0 = off */
	uint32_t dpd_action;                /* VPNR_DPD_ACTION_* */
	int role;                           /* MGW_ROLE_* */
	vpnr_prefix local_ts[MGW_LIST_MAX], remote_ts[MGW_LIST_MAX];
	int n_local_ts, n_remote_ts;
	vpnr_prefix address; /* inner address on the TUN (host bits ok) */
	char ifname[MGW_IFNAME_MAX];
	uint32_t mtu, mss, replay_window, if_id;
	int force_encap, offload;
	int aggressive; /* IKEv1: initiate Aggressive Mode */
	int share_ike;  /* IKEv2: open our CHILD_SA in a sibling's IKE SA */
	int profile;    /* MGW_PROFILE_*: profile.c fills and checks */
	char ovr[MGW_OVR_MAX][MGW_RULEID_MAX]; /* profile_override */
	int n_ovr;
	int key_line[MGW_KEYS_MAX]; /* see mgw_tunnel_key_line() */
	int line;
};

struct mgw_cfg_route {
	vpnr_prefix prefix;
	char tunnel[MGW_NAME_MAX];
	int line;
};

struct mgw_cfg_pl_entry {
	vpnr_prefix prefix;
	uint8_t ge, le;
	int permit;
};

struct mgw_cfg_plist {
	char name[MGW_NAME_MAX];
	struct mgw_cfg_pl_entry *e;
	int n;
	int line;
};

struct mgw_cfg_neighbor {
	vpnr_addr addr;
	uint32_t remote_as;
	char tunnel[MGW_NAME_MAX];        /* the tunnel it rides, or "" */
	char update_source[MGW_NAME_MAX]; /* interface or address, or "" */
	vpnr_addr local;                  /* resolved update-source */
	uint8_t multihop;                 /* TTL; 1 = directly connected */
	uint16_t hold, keepalive, connect_retry;
	char md5[MGW_MD5_MAX + 1];
	uint32_t max_prefix;
	int max_prefix_teardown;
	uint32_t max_prefix_restart;
	uint32_t out_max_prefix;
	int graceful_restart, passive, next_hop_self, remove_private_as;
	int tunnel_down;            /* VPNR_BGP_TUNNEL_DOWN_* */
	int import_pol, export_pol; /* MGW_POL_* */
	char import_list[MGW_NAME_MAX], export_list[MGW_NAME_MAX];
	uint8_t prepend;
	int has_med;
	uint32_t med;
	int profile; /* MGW_PROFILE_*; 0 = the tunnel's */
	char ovr[MGW_OVR_MAX][MGW_RULEID_MAX];
	int n_ovr;
	int key_line[MGW_KEYS_MAX];
	int line;
};

struct mgw_config {
	char path[MGW_PATH_MAX];
	struct mgw_cfg_global g;
	struct mgw_cfg_iface *ifs;
	int n_ifs;
	struct mgw_cfg_tunnel *tun;
	int n_tun;
	struct mgw_cfg_route *routes;
	int n_routes;
	struct mgw_cfg_plist *pl;
	int n_pl;
	struct mgw_cfg_neighbor *nb;
	int n_nb;
	vpnr_prefix *networks;
	int n_networks;
	int networks_line; /* of bgp.networks, 0 = not given */
};

/* Defaults for an empty configuration (and for each new tunnel). */
void mgw_config_init(struct mgw_config *c);
void mgw_tunnel_defaults(struct mgw_cfg_tunnel *t, int index);
void mgw_neighbor_defaults(struct mgw_cfg_neighbor *n);
/* The BGP identifier: router_id, else the highest IPv4 address of ours
 * in the configuration (tunnel inner and outer addresses, neighbours'
 * update sources), as a router picks one when none is configured; 0
 * when there is none (the library then uses each session's address). */
uint32_t mgw_config_router_id(const struct mgw_config *c);
/* An IPv4 address's 4 bytes as a number, host order. */
uint32_t mgw_v4(const vpnr_addr *a);
/*
 * Load and check path (or, when text is not NULL, parse len bytes of
 * text and call them path).  Returns 0, or -1 with the message in
 * err.  On error c is freed.  Without MGW_LOAD_RESOLVE host names are
 * refused instead of looked up, without MGW_LOAD_FILES psk_file is
 * (the fuzzer).
 */
#define MGW_LOAD_RESOLVE 1
#define MGW_LOAD_FILES   2
int mgw_config_load(struct mgw_config *c, const char *path, const char *text,
    size_t len, int flags, char *err, size_t errlen);
/* Cross-checks done after loading, and after the command line built a
 * configuration: names, duplicates, references. */
int mgw_config_check(struct mgw_config *c, char *err, size_t errlen);
void mgw_config_free(struct mgw_config *c);
/* The configuration as applied, in the file's own syntax.  Inline
 * PSKs and MD5 keys are not printed (a comment says so). */
int mgw_config_print(const struct mgw_config *c, FILE *f);

/* Equality of one tunnel / neighbour (reload keeps what is equal). */
int mgw_tunnel_equal(const struct mgw_cfg_tunnel *a,
    const struct mgw_cfg_tunnel *b);
int mgw_neighbor_equal(const struct mgw_config *ca,
    const struct mgw_cfg_neighbor *a, const struct mgw_config *cb,
    const struct mgw_cfg_neighbor *b);
const struct mgw_cfg_plist *
mgw_config_plist(const struct mgw_config *c, const char *name);
const struct mgw_cfg_tunnel *
mgw_config_tunnel(const struct mgw_config *c, const char *name);

/*
 * The line where a key of this tunnel / neighbour / the global section
 * was given, 0 when the file did not give it (a profile's defaults go
 * there) or when the configuration came from the command line.
 */
int mgw_tunnel_key_line(const struct mgw_cfg_tunnel *t, const char *key);
int mgw_neighbor_key_line(const struct mgw_cfg_neighbor *n, const char *key);
int mgw_global_key_line(const struct mgw_cfg_global *g, const char *key);

/* Strict number parsing: decimal digits only, no wrap. 0 or -1. */
int mgw_parse_u64(const char *s, uint64_t *v);
/* "A/LEN" with host bits allowed (an interface address). */
int mgw_parse_ifaddr(const char *s, vpnr_prefix *p);
/* An AS number: 1-4294967295 except 23456 (AS_TRANS). */
int mgw_asn_ok(uint64_t v);

#endif /* MGW_CONFIG_H */
