"""cffi API-mode builder for vpnroute._vpnroute (out-of-line).

The C compiler reads the installed headers, so struct layouts, constant
values and the header's current struct versions come from the headers
themselves: the declarations below name only what the binding uses and
end every struct with "...;".  Macros (vpnr_ctx_new, the *_get_info
pair) are declared as functions; cffi calls them through a small C
wrapper, so the versions the headers define are the ones passed.

Where the library is found:
  VPNR_INCLUDE_DIRS / VPNR_LIBRARY_DIRS (os.pathsep-separated), set by
  the CMake build for the in-tree tests, else `pkg-config vpnroute`.
"""

import os
import shlex
import subprocess

from cffi import FFI

CDEF = r"""
typedef uint64_t vpnr_tstamp;

#define VPNR_OK ...
#define VPNR_ASYNC ...
#define VPNR_ERR_INVALID_ARGUMENT ...
#define VPNR_ERR_INVALID_STATE ...
#define VPNR_ERR_NOT_FOUND ...
#define VPNR_ERR_EXISTS ...
#define VPNR_ERR_UNSUPPORTED ...
#define VPNR_ERR_WOULDBLOCK ...
#define VPNR_ERR_IN_CALLBACK ...
#define VPNR_ERR_BUFFER_TOO_SMALL ...
#define VPNR_ERR_LIMIT ...
#define VPNR_ERR_MALFORMED ...
#define VPNR_ERR_AUTH_FAILED ...
#define VPNR_ERR_NO_PROPOSAL ...
#define VPNR_ERR_PEER_CLOSED ...
#define VPNR_ERR_TS_UNACCEPTABLE ...
#define VPNR_ERR_TIMEOUT ...
#define VPNR_ERR_PEER_ERROR ...
#define VPNR_ERR_REPLAY ...
#define VPNR_ERR_INTEGRITY ...
#define VPNR_ERR_NOT_IKE ...
#define VPNR_ERR_TUNNEL_DOWN ...
#define VPNR_ERR_DEAD_PEER ...
#define VPNR_ERR_LOCAL_CLOSE ...
#define VPNR_ERR_DATAPLANE ...
#define VPNR_ERR_CRYPTO ...
#define VPNR_ERR_FATAL ...
#define VPNR_ERR_NOMEM ...
#define VPNR_ERR_CALLBACK_FAILURE ...
#define VPNR_ERR_INTERNAL ...

#define VPNR_AF_INET ...
#define VPNR_AF_INET6 ...
#define VPNR_DIR_IN ...
#define VPNR_DIR_OUT ...
#define VPNR_DIR_FWD ...
#define VPNR_SA_F_ESN ...
#define VPNR_SA_F_UDP_ENCAP ...
#define VPNR_SA_F_TUNNEL ...
#define VPNR_ROUTE_F_BGP ...
#define VPNR_ROUTE_F_TUNNEL ...
#define VPNR_LOG_ERR ...
#define VPNR_LOG_WARNING ...
#define VPNR_LOG_NOTICE ...
#define VPNR_LOG_INFO ...
#define VPNR_LOG_DEBUG ...
#define VPNR_TUNNEL_EV_UP ...
#define VPNR_TUNNEL_EV_DOWN ...
#define VPNR_TUNNEL_EV_REKEYED ...
#define VPNR_TUNNEL_EV_CHILD_UP ...
#define VPNR_TUNNEL_EV_CHILD_DOWN ...
#define VPNR_TUNNEL_EV_CHILD_REKEYED ...
#define VPNR_TUNNEL_EV_FAILED ...
#define VPNR_TUNNEL_EV_SUSPECT ...
#define VPNR_TUNNEL_EV_LIVE ...
#define VPNR_BGP_EV_ESTABLISHED ...
#define VPNR_BGP_EV_DOWN ...
#define VPNR_BGP_EV_PREFIX_LIMIT ...
#define VPNR_BGP_EV_EOR ...
#define VPNR_BGP_EV_NEXTHOP_REFUSED ...
#define VPNR_BGP_EV_TUNNEL_DOWN ...
#define VPNR_BGP_EV_TUNNEL_UP ...
#define VPNR_BGP_TUNNEL_DOWN_RESET ...
#define VPNR_BGP_TUNNEL_DOWN_HOLD ...
#define VPNR_UDP_IKE ...
#define VPNR_UDP_ESP ...
#define VPNR_UDP_KEEPALIVE ...
#define VPNR_ID_IPV4_ADDR ...
#define VPNR_ID_FQDN ...
#define VPNR_ID_IPV6_ADDR ...
#define VPNR_ID_KEY_ID ...
#define VPNR_DPD_ACTION_CLEAR ...
#define VPNR_DPD_ACTION_RESTART ...
#define VPNR_DPD_ACTION_NONE ...
#define VPNR_IKEV1_AGGRESSIVE ...
#define VPNR_IKEV1_COMMIT ...
#define VPNR_REKEY_CHILD ...
#define VPNR_REKEY_IKE ...
#define VPNR_TUNNEL_IDLE ...
#define VPNR_TUNNEL_CONNECTING ...
#define VPNR_TUNNEL_ESTABLISHED ...
#define VPNR_TUNNEL_CLOSING ...
#define VPNR_PATH_F_HAS_MED ...
#define VPNR_RIB_ADJ_IN ...
#define VPNR_RIB_LOC ...
#define VPNR_RIB_ADJ_OUT ...
#define VPNR_BGP_IMPORT_NONE ...
#define VPNR_BGP_IMPORT_ALL ...
#define VPNR_BGP_EXPORT_NONE ...
#define VPNR_BGP_EXPORT_LOCAL ...
#define VPNR_BGP_EXPORT_ALL ...
#define VPNR_BGP_DIR_IN ...
#define VPNR_BGP_DIR_OUT ...
#define VPNR_BGP_STATE_IDLE ...
#define VPNR_BGP_STATE_CONNECT ...
#define VPNR_BGP_STATE_ACTIVE ...
#define VPNR_BGP_STATE_OPENSENT ...
#define VPNR_BGP_STATE_OPENCONFIRM ...
#define VPNR_BGP_STATE_ESTABLISHED ...
#define VPNR_ESP_MAX_OVERHEAD ...
#define VPNR_ENCR_AES_CBC ...
#define VPNR_ENCR_AES_GCM_16 ...
#define VPNR_INTEG_NONE ...
#define VPNR_INTEG_HMAC_SHA1_96 ...
#define VPNR_INTEG_HMAC_SHA2_256_128 ...
#define VPNR_INTEG_HMAC_SHA2_384_192 ...
#define VPNR_INTEG_HMAC_SHA2_512_256 ...

typedef struct { uint8_t family; uint16_t port; uint32_t scope_id;
    uint8_t bytes[16]; ...; } vpnr_addr;
typedef struct { vpnr_addr addr; uint8_t len; ...; } vpnr_prefix;
typedef struct { uint8_t ip_proto; uint16_t port_start; uint16_t port_end;
    vpnr_addr addr_start; vpnr_addr addr_end; ...; } vpnr_ts;
typedef struct { uint64_t bytes; uint64_t packets; uint64_t seconds;
    ...; } vpnr_lifetime;

typedef struct vpnr_ctx vpnr_ctx;
typedef struct vpnr_config vpnr_config;
typedef struct vpnr_tunnel_config vpnr_tunnel_config;
typedef struct vpnr_bgp_peer_config vpnr_bgp_peer_config;
typedef struct vpnr_esp vpnr_esp;
typedef struct vpnr_mem vpnr_mem;

typedef struct {
    uint64_t sa_id; uint64_t tunnel_id; uint32_t spi; uint8_t protocol;
    uint8_t direction; uint16_t flags; vpnr_addr src; vpnr_addr dst;
    uint16_t encr_id; uint16_t encr_key_bits; uint16_t integ_id;
    const uint8_t *encr_key; size_t encr_key_len;
    const uint8_t *integ_key; size_t integ_key_len;
    uint32_t replay_window; uint32_t if_id;
    vpnr_lifetime soft; vpnr_lifetime hard;
    const vpnr_ts *ts_local; size_t n_ts_local;
    const vpnr_ts *ts_remote; size_t n_ts_remote;
    ...;
} vpnr_child_sa;
typedef struct {
    uint64_t policy_id; uint64_t tunnel_id; uint8_t direction;
    uint32_t priority; uint64_t out_sa_id; vpnr_ts ts_local;
    vpnr_ts ts_remote; uint32_t if_id; ...;
} vpnr_policy;
typedef struct {
    vpnr_prefix prefix; vpnr_addr nexthop; uint32_t if_id; uint32_t flags;
    uint32_t metric; uint64_t peer_id; uint64_t tunnel_id; ...;
} vpnr_route;

typedef struct {
    int (*get_spi)(vpnr_ctx *, const vpnr_addr *, const vpnr_addr *,
        uint8_t, uint32_t *, void *);
    int (*sa_add)(vpnr_ctx *, uint64_t, const vpnr_child_sa *, void *);
    int (*sa_del)(vpnr_ctx *, uint64_t, const vpnr_child_sa *, void *);
    int (*policy_add)(vpnr_ctx *, uint64_t, const vpnr_policy *, void *);
    int (*policy_del)(vpnr_ctx *, uint64_t, const vpnr_policy *, void *);
    int (*route_add)(vpnr_ctx *, uint64_t, const vpnr_route *, void *);
    int (*route_del)(vpnr_ctx *, uint64_t, const vpnr_route *, void *);
    int (*sa_query)(vpnr_ctx *, uint64_t, uint64_t *, uint64_t *,
        vpnr_tstamp *, void *);
    ...;
} vpnr_dataplane;

typedef struct {
    uint32_t type; int32_t reason; uint64_t tunnel_id; uint64_t sa_id;
    vpnr_addr local; vpnr_addr remote; uint16_t notify; uint64_t ike_spi_i;
    uint64_t ike_spi_r; ...;
} vpnr_tunnel_event;
typedef struct {
    uint32_t type; int32_t reason; uint64_t peer_id; uint8_t notif_code;
    uint8_t notif_subcode; uint8_t afi_safi; ...;
} vpnr_bgp_event;

typedef struct {
    int (*send_datagram)(vpnr_ctx *, const vpnr_addr *, const vpnr_addr *,
        const uint8_t *, size_t, void *);
    int (*transport_open)(vpnr_ctx *, uint64_t, const vpnr_addr *,
        const vpnr_addr *, uint8_t, const uint8_t *, size_t, void *);
    int64_t (*transport_send)(vpnr_ctx *, uint64_t, const uint8_t *, size_t,
        void *);
    void (*transport_close)(vpnr_ctx *, uint64_t, void *);
    void (*expiry_changed)(vpnr_ctx *, vpnr_tstamp, void *);
    int (*rand_bytes)(vpnr_ctx *, uint8_t *, size_t, void *);
    int (*tunnel_event)(vpnr_ctx *, const vpnr_tunnel_event *, void *);
    int (*bgp_event)(vpnr_ctx *, const vpnr_bgp_event *, void *);
    void (*log_msg)(vpnr_ctx *, int, const char *, const char *, size_t,
        void *);
    ...;
} vpnr_callbacks;

typedef struct {
    uint32_t state; uint32_t n_child_sa; vpnr_addr local; vpnr_addr remote;
    vpnr_tstamp established_at; uint64_t ike_rekeys; uint64_t child_rekeys;
    uint64_t spi_i; uint64_t spi_r; uint32_t child_spi_in;
    uint32_t child_spi_out; int32_t last_error; uint64_t retransmits;
    uint64_t malformed; ...;
} vpnr_tunnel_info;

typedef struct {
    uint32_t state; uint32_t remote_as; vpnr_addr remote;
    uint32_t peer_router_id; uint16_t hold_s; uint16_t keepalive_s;
    uint32_t families; vpnr_tstamp established_at;
    uint32_t pfx_received_v4; uint32_t pfx_received_v6;
    uint32_t pfx_accepted_v4; uint32_t pfx_accepted_v6;
    uint32_t pfx_sent_v4; uint32_t pfx_sent_v6;
    uint64_t msgs_in; uint64_t msgs_out; uint64_t updates_in;
    uint64_t updates_out; uint32_t flaps; int32_t last_reason; ...;
} vpnr_bgp_peer_info;

typedef struct {
    vpnr_addr nexthop; uint32_t med; uint32_t flags;
    const uint32_t *communities; size_t n_communities; ...;
} vpnr_path_attrs;

typedef struct {
    uint64_t packets_in; uint64_t octets_in; uint64_t packets_out;
    uint64_t octets_out; uint64_t integrity_failed; uint64_t replay_dropped;
    uint64_t invalid_padding; uint64_t unknown_spi; uint64_t cipher_failed;
    uint64_t malformed; uint64_t dummy_dropped; uint64_t lifetime_dropped;
    uint64_t no_sa_dropped; uint64_t policy_dropped; ...;
} vpnr_esp_counters;
typedef struct {
    uint64_t sa_id; uint64_t tunnel_id; uint32_t spi; uint32_t if_id;
    uint8_t direction; uint8_t active; uint16_t encr_id; uint64_t seq;
    vpnr_addr src; vpnr_addr dst; vpnr_esp_counters counters; ...;
} vpnr_esp_sa_info;

typedef struct { int age; uint32_t version_num; const char *version_str;
    const char *crypto_str; ...; } vpnr_info;

const vpnr_info *vpnr_version(uint32_t least_version);
const char *vpnr_strerror(int err);
const char *vpnr_err_name(int err);
int vpnr_err_is_fatal(int err);
const char *vpnr_transform_name(uint32_t type, uint16_t id);
int vpnr_udp_classify(const uint8_t *data, size_t len);

int vpnr_config_new(vpnr_config **pcfg, const vpnr_mem *mem);
void vpnr_config_del(vpnr_config *cfg);
int vpnr_config_set_router_id(vpnr_config *cfg, uint32_t id);
int vpnr_config_set_local_as(vpnr_config *cfg, uint32_t asn);
int vpnr_config_set_log_level(vpnr_config *cfg, int level);
int vpnr_config_set_ike_ports(vpnr_config *cfg, uint16_t ike, uint16_t natt);
int vpnr_config_set_cookie_threshold(vpnr_config *cfg, uint32_t half_open);

/* A macro over vpnr_ctx_new_versioned: the header's versions are used. */
int vpnr_ctx_new(vpnr_ctx **pctx, const vpnr_config *cfg,
    const vpnr_callbacks *cb, void *user_data, const vpnr_dataplane *dp,
    void *dp_data, const vpnr_mem *mem);
int vpnr_ctx_shutdown(vpnr_ctx *ctx, vpnr_tstamp now);
void vpnr_ctx_del(vpnr_ctx *ctx);
void *vpnr_ctx_get_user_data(const vpnr_ctx *ctx);
const char *vpnr_ctx_last_error(const vpnr_ctx *ctx);
int vpnr_ctx_recv_datagram(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, vpnr_tstamp now);
vpnr_tstamp vpnr_ctx_get_expiry(const vpnr_ctx *ctx);
int vpnr_ctx_handle_expiry(vpnr_ctx *ctx, vpnr_tstamp now);

int vpnr_transport_accepted(vpnr_ctx *ctx, const vpnr_addr *local,
    const vpnr_addr *remote, uint64_t *transport_id, vpnr_tstamp now);
int vpnr_transport_connected(vpnr_ctx *ctx, uint64_t transport_id,
    int status, vpnr_tstamp now);
int vpnr_transport_set_local(vpnr_ctx *ctx, uint64_t transport_id,
    const vpnr_addr *local);
int vpnr_transport_recv(vpnr_ctx *ctx, uint64_t transport_id,
    const uint8_t *data, size_t len, vpnr_tstamp now);
int vpnr_transport_writable(vpnr_ctx *ctx, uint64_t transport_id,
    vpnr_tstamp now);
int vpnr_transport_closed(vpnr_ctx *ctx, uint64_t transport_id, int status,
    vpnr_tstamp now);

int vpnr_dp_complete(vpnr_ctx *ctx, uint64_t op_id, int status,
    vpnr_tstamp now);
int vpnr_dp_sa_expired(vpnr_ctx *ctx, uint64_t sa_id, int hard,
    vpnr_tstamp now);
int vpnr_dp_replay(vpnr_ctx *ctx, vpnr_tstamp now);

int vpnr_tunnel_config_new(vpnr_tunnel_config **ptc, const vpnr_mem *mem);
void vpnr_tunnel_config_del(vpnr_tunnel_config *tc);
int vpnr_tunnel_config_set_addrs(vpnr_tunnel_config *tc,
    const vpnr_addr *local, const vpnr_addr *remote);
int vpnr_tunnel_config_set_psk(vpnr_tunnel_config *tc, const uint8_t *psk,
    size_t len);
int vpnr_tunnel_config_set_local_id(vpnr_tunnel_config *tc, uint8_t type,
    const uint8_t *value, size_t len);
int vpnr_tunnel_config_set_remote_id(vpnr_tunnel_config *tc, uint8_t type,
    const uint8_t *value, size_t len);
int vpnr_tunnel_config_add_ike_proposal(vpnr_tunnel_config *tc,
    const char *proposal);
int vpnr_tunnel_config_add_esp_proposal(vpnr_tunnel_config *tc,
    const char *proposal);
const char *vpnr_tunnel_config_last_error(const vpnr_tunnel_config *tc);
int vpnr_tunnel_config_add_ts(vpnr_tunnel_config *tc, const vpnr_ts *local,
    const vpnr_ts *remote);
int vpnr_tunnel_config_set_if_id(vpnr_tunnel_config *tc, uint32_t if_id);
int vpnr_tunnel_config_set_dpd(vpnr_tunnel_config *tc, vpnr_tstamp interval,
    uint32_t action);
int vpnr_tunnel_config_set_liveness(vpnr_tunnel_config *tc,
    vpnr_tstamp interval, vpnr_tstamp timeout);
int vpnr_tunnel_config_set_suspect(vpnr_tunnel_config *tc, vpnr_tstamp after);
const char *vpnr_tunnel_event_name(uint32_t type);
const char *vpnr_bgp_event_name(uint32_t type);
int vpnr_tunnel_config_set_rekey(vpnr_tunnel_config *tc,
    vpnr_tstamp ike_rekey, vpnr_tstamp child_rekey, uint32_t jitter_percent);
int vpnr_tunnel_config_set_force_encap(vpnr_tunnel_config *tc, int on);
int vpnr_tunnel_config_set_share_ike(vpnr_tunnel_config *tc, int share);
int vpnr_tunnel_config_set_ike_version(vpnr_tunnel_config *tc,
    uint32_t version, uint32_t flags);
int vpnr_tunnel_config_set_replay_window(vpnr_tunnel_config *tc,
    uint32_t packets);
int vpnr_tunnel_config_set_retransmit(vpnr_tunnel_config *tc,
    vpnr_tstamp first, uint32_t tries);
int vpnr_tunnel_add(vpnr_ctx *ctx, const vpnr_tunnel_config *tc,
    void *tunnel_user_data, uint64_t *tunnel_id);
int vpnr_tunnel_initiate(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
int vpnr_tunnel_close(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
int vpnr_tunnel_del(vpnr_ctx *ctx, uint64_t tunnel_id, vpnr_tstamp now);
int vpnr_tunnel_rekey(vpnr_ctx *ctx, uint64_t tunnel_id, uint32_t what,
    vpnr_tstamp now);
/* Macro over vpnr_tunnel_get_info_versioned. */
int vpnr_tunnel_get_info(const vpnr_ctx *ctx, uint64_t tunnel_id,
    vpnr_tunnel_info *info);

int vpnr_bgp_peer_config_new(vpnr_bgp_peer_config **ppc, const vpnr_mem *mem);
void vpnr_bgp_peer_config_del(vpnr_bgp_peer_config *pc);
int vpnr_bgp_peer_config_set_remote(vpnr_bgp_peer_config *pc,
    const vpnr_addr *addr, uint32_t remote_as);
int vpnr_bgp_peer_config_set_local(vpnr_bgp_peer_config *pc,
    const vpnr_addr *addr);
int vpnr_bgp_peer_config_set_timers(vpnr_bgp_peer_config *pc, uint16_t hold_s,
    uint16_t keepalive_s);
int vpnr_bgp_peer_config_set_md5(vpnr_bgp_peer_config *pc,
    const uint8_t *key, size_t len);
int vpnr_bgp_peer_config_set_max_prefix(vpnr_bgp_peer_config *pc,
    uint32_t max);
int vpnr_bgp_peer_config_set_tunnel(vpnr_bgp_peer_config *pc,
    uint64_t tunnel_id);
int vpnr_bgp_peer_config_set_policy(vpnr_bgp_peer_config *pc,
    uint32_t import_policy, uint32_t export_policy);
int vpnr_bgp_peer_config_add_prefix_list(vpnr_bgp_peer_config *pc,
    uint32_t dir, const vpnr_prefix *prefix, uint8_t ge, uint8_t le,
    int permit);
int vpnr_bgp_peer_config_set_multihop(vpnr_bgp_peer_config *pc, uint8_t ttl);
int vpnr_bgp_peer_config_set_passive(vpnr_bgp_peer_config *pc, int passive);
int vpnr_bgp_peer_config_set_families(vpnr_bgp_peer_config *pc,
    uint32_t mask);
int vpnr_bgp_peer_config_set_connect_timers(vpnr_bgp_peer_config *pc,
    uint16_t connect_retry_s, uint16_t send_hold_s);
int vpnr_bgp_peer_config_set_nexthop(vpnr_bgp_peer_config *pc,
    const vpnr_addr *nh);
int vpnr_bgp_peer_add(vpnr_ctx *ctx, const vpnr_bgp_peer_config *pc,
    void *peer_user_data, uint64_t *peer_id);
int vpnr_bgp_peer_enable(vpnr_ctx *ctx, uint64_t peer_id, int enable,
    vpnr_tstamp now);
int vpnr_bgp_peer_del(vpnr_ctx *ctx, uint64_t peer_id, vpnr_tstamp now);
int vpnr_bgp_path_add(vpnr_ctx *ctx, const vpnr_prefix *prefix,
    const vpnr_path_attrs *attrs, uint64_t *path_id, vpnr_tstamp now);
int vpnr_bgp_path_del(vpnr_ctx *ctx, uint64_t path_id, vpnr_tstamp now);
int vpnr_bgp_rib_walk(vpnr_ctx *ctx, int rib, uint64_t peer_id,
    int (*cb)(const vpnr_prefix *, const vpnr_path_attrs *, uint64_t,
        void *), void *arg);
/* Macro over vpnr_bgp_peer_get_info_versioned. */
int vpnr_bgp_peer_get_info(const vpnr_ctx *ctx, uint64_t peer_id,
    vpnr_bgp_peer_info *info);

int vpnr_esp_new(vpnr_esp **pesp, const vpnr_mem *mem);
void vpnr_esp_del(vpnr_esp *esp);
const vpnr_dataplane *vpnr_esp_dataplane(void);
int vpnr_esp_set_route_ops(vpnr_esp *esp,
    int (*route_add)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    int (*route_del)(vpnr_ctx *, uint64_t, const vpnr_route *, void *),
    void *arg);
int vpnr_esp_encap(vpnr_esp *esp, uint32_t if_id, const uint8_t *ip_pkt,
    size_t len, uint8_t *out, size_t cap, size_t *out_len, vpnr_addr *dst,
    vpnr_tstamp now);
int vpnr_esp_decap(vpnr_esp *esp, const vpnr_addr *src,
    const uint8_t *udp_payload, size_t len, uint8_t *out, size_t cap,
    size_t *out_len, uint32_t *if_id, vpnr_tstamp now);
int vpnr_esp_poll_expired(vpnr_esp *esp, vpnr_tstamp now);
int vpnr_esp_expired_pending(const vpnr_esp *esp);
int vpnr_esp_get_sa_info(const vpnr_esp *esp, uint64_t sa_id,
    vpnr_esp_sa_info *info);
int vpnr_esp_get_tunnel_counters(const vpnr_esp *esp, uint32_t if_id,
    vpnr_esp_counters *c);
int vpnr_esp_get_counters(const vpnr_esp *esp, vpnr_esp_counters *c);
int vpnr_esp_sa_install(vpnr_esp *esp, const vpnr_child_sa *sa);
int vpnr_esp_sa_remove(vpnr_esp *esp, uint64_t sa_id);
int vpnr_esp_sa_walk(const vpnr_esp *esp,
    int (*cb)(const vpnr_esp_sa_info *, void *), void *arg);

/* Callbacks into Python: each returns VPNR_ERR_CALLBACK_FAILURE when the
 * Python code raised (the exception is kept and re-raised by the call
 * that triggered it). */
extern "Python" int _py_send_datagram(vpnr_ctx *, const vpnr_addr *,
    const vpnr_addr *, const uint8_t *, size_t, void *);
extern "Python" int _py_transport_open(vpnr_ctx *, uint64_t,
    const vpnr_addr *, const vpnr_addr *, uint8_t, const uint8_t *, size_t,
    void *);
extern "Python" int64_t _py_transport_send(vpnr_ctx *, uint64_t,
    const uint8_t *, size_t, void *);
extern "Python" void _py_transport_close(vpnr_ctx *, uint64_t, void *);
extern "Python" void _py_expiry_changed(vpnr_ctx *, vpnr_tstamp, void *);
extern "Python" int _py_rand_bytes(vpnr_ctx *, uint8_t *, size_t, void *);
extern "Python" int _py_tunnel_event(vpnr_ctx *, const vpnr_tunnel_event *,
    void *);
extern "Python" int _py_bgp_event(vpnr_ctx *, const vpnr_bgp_event *,
    void *);
extern "Python" void _py_log_msg(vpnr_ctx *, int, const char *,
    const char *, size_t, void *);
extern "Python" int _py_dp_get_spi(vpnr_ctx *, const vpnr_addr *,
    const vpnr_addr *, uint8_t, uint32_t *, void *);
extern "Python" int _py_dp_sa_add(vpnr_ctx *, uint64_t, const vpnr_child_sa *,
    void *);
extern "Python" int _py_dp_sa_del(vpnr_ctx *, uint64_t, const vpnr_child_sa *,
    void *);
extern "Python" int _py_dp_policy_add(vpnr_ctx *, uint64_t,
    const vpnr_policy *, void *);
extern "Python" int _py_dp_policy_del(vpnr_ctx *, uint64_t,
    const vpnr_policy *, void *);
extern "Python" int _py_dp_route_add(vpnr_ctx *, uint64_t, const vpnr_route *,
    void *);
extern "Python" int _py_dp_route_del(vpnr_ctx *, uint64_t, const vpnr_route *,
    void *);
extern "Python" int _py_dp_sa_query(vpnr_ctx *, uint64_t, uint64_t *,
    uint64_t *, vpnr_tstamp *, void *);
extern "Python" int _py_esp_route_add(vpnr_ctx *, uint64_t,
    const vpnr_route *, void *);
extern "Python" int _py_esp_route_del(vpnr_ctx *, uint64_t,
    const vpnr_route *, void *);
extern "Python" int _py_rib_cb(const vpnr_prefix *, const vpnr_path_attrs *,
    uint64_t, void *);
extern "Python" int _py_esp_sa_cb(const vpnr_esp_sa_info *, void *);
"""

SOURCE = r"""
#include <vpnroute/vpnroute.h>
#include <vpnroute/esp.h>
"""


def _split_env(name):
    v = os.environ.get(name, "")
    return [p for p in v.split(os.pathsep) if p]


def _pkg_config():
    """Include and library dirs from `pkg-config vpnroute`, or empty."""
    try:
        out = subprocess.run(
            ["pkg-config", "--cflags-only-I", "--libs-only-L", "vpnroute"],
            check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [], []
    inc, lib = [], []
    for tok in shlex.split(out):
        if tok.startswith("-I"):
            inc.append(tok[2:])
        elif tok.startswith("-L"):
            lib.append(tok[2:])
    return inc, lib


def make_ffi():
    inc = _split_env("VPNR_INCLUDE_DIRS")
    lib = _split_env("VPNR_LIBRARY_DIRS")
    if not inc and not lib:
        inc, lib = _pkg_config()
    ffibuilder = FFI()
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source(
        "vpnroute._vpnroute", SOURCE, libraries=["vpnroute"],
        include_dirs=inc, library_dirs=lib,
        # A library outside the loader's path is found by rpath.
        runtime_library_dirs=lib,
        extra_compile_args=["-Wall", "-Werror=implicit-function-declaration"])
    return ffibuilder


ffibuilder = make_ffi()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
