/*
 * Internal state of the built-in ESP data plane (include/vpnroute/
 * esp.h): the SA record, the per-tunnel record, the per-SA crypto
 * state and the SA tables.  Only ipsec/esp*.c include this.
 */
#ifndef VPNR_IPSEC_ESP_INT_H
#define VPNR_IPSEC_ESP_INT_H

#include <sys/queue.h>
#include <sys/tree.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>

#include "buf.h"
#include "esp_replay.h"

#define ESP_HDR_LEN     8
#define ESP_NATT_PORT   4500
#define ESP_MAX_IV_LEN  16
#define ESP_MAX_ICV_LEN 32
#define ESP_MAX_TS      8 /* selectors kept per side; more: no check */

/* ---- esp_crypto.c: one direction of one SA ------------------------- */

struct vpnr__esp_crypto {
	uint16_t encr;
	uint16_t integ;
	int aead;
	size_t iv_len;  /* 8 GCM, 16 CBC */
	size_t align;   /* 4 GCM, 16 CBC: ciphertext length multiple */
	size_t icv_len; /* 16 GCM, 12/16/24/32 HMAC */
	uint8_t salt[4];
	EVP_CIPHER_CTX *cctx;  /* keyed once at install */
	EVP_MAC_CTX *mctx;     /* HMAC keyed once at install */
	EVP_CIPHER_CTX *ivctx; /* CBC outbound: AES-ECB IV generator */
};

/*
 * Key the contexts from sa (encr/integ ids and keys).  encrypt selects
 * the direction.  Returns VPNR_OK, VPNR_ERR_UNSUPPORTED,
 * VPNR_ERR_INVALID_ARGUMENT (key length) or VPNR_ERR_CRYPTO.
 */
int vpnr__esp_crypto_init(struct vpnr__esp_crypto *c, const vpnr_child_sa *sa,
    int encrypt);
void vpnr__esp_crypto_free(struct vpnr__esp_crypto *c);
/*
 * Outbound.  pkt holds the 8-byte ESP header; the IV is written after
 * it, then the ciphertext of pt | trailer, then the ICV.  Returns
 * VPNR_OK or VPNR_ERR_CRYPTO.
 */
int vpnr__esp_crypto_seal(struct vpnr__esp_crypto *c, uint8_t *pkt,
    uint64_t seq, int esn, const uint8_t *pt, size_t ptlen,
    const uint8_t *trailer, size_t tlen);
/*
 * Inbound.  pkt/len is the whole ESP packet; ctlen the ciphertext
 * length (len - header - IV - ICV).  Verifies the ICV (constant time;
 * for CBC+HMAC before decrypting) and decrypts into out (ctlen
 * bytes).  Returns VPNR_OK, VPNR_ERR_INTEGRITY or VPNR_ERR_CRYPTO.
 */
int vpnr__esp_crypto_open(struct vpnr__esp_crypto *c, const uint8_t *pkt,
    size_t len, uint64_t seq, int esn, uint8_t *out, size_t ctlen);

/* ---- SA and tunnel records ----------------------------------------- */

struct vpnr__esp_tunnel;

#define ESP_EXP_SOFT 0x01
#define ESP_EXP_HARD 0x02

struct vpnr__esp_sa {
	RB_ENTRY(vpnr__esp_sa) id_entry;
	struct vpnr__esp_sa *hnext;          /* inbound SPI hash chain */
	TAILQ_ENTRY(vpnr__esp_sa) out_entry; /* tunnel's outbound list */
	TAILQ_ENTRY(vpnr__esp_sa) exp_entry; /* expiry queue */
	vpnr_ctx *ctx;                       /* who installed it, or NULL */
	struct vpnr__esp_tunnel *tun;
	uint64_t sa_id;
	uint64_t tunnel_id;
	uint64_t order; /* install order: newest outbound wins */
	uint32_t spi;
	uint32_t if_id;
	uint8_t dir;
	uint8_t esn;
	uint8_t hit;     /* ESP_EXP_* limits reached */
	uint8_t pending; /* ESP_EXP_* not yet reported */
	uint16_t flags;
	uint16_t encr_key_bits;
	vpnr_addr src;
	vpnr_addr dst;
	vpnr_lifetime soft;
	vpnr_lifetime hard;
	/* inbound: the inner packet must match (RFC 4301 5.2) */
	vpnr_ts ts_local[ESP_MAX_TS];
	vpnr_ts ts_remote[ESP_MAX_TS];
	uint8_t n_ts_local;
	uint8_t n_ts_remote;
	uint8_t ts_check;
	uint64_t seq; /* outbound: last sequence number used */
	struct vpnr__replay replay;
	uint64_t *bitmap;
	size_t bitmap_words;
	struct vpnr__esp_crypto crypto;
	vpnr_tstamp installed_at;
	vpnr_tstamp last_used;
	vpnr_tstamp waiting_since; /* outbound: first time passed over */
	vpnr_esp_counters c;
};

/* A new outbound SA is used once traffic arrived on an inbound SA
 * installed after the previous outbound SA, once that one is gone, or
 * after this long. */
#define ESP_SWITCH_TIMEOUT (2 * VPNR_SECONDS)

struct vpnr__esp_tunnel {
	RB_ENTRY(vpnr__esp_tunnel) entry;
	RB_ENTRY(vpnr__esp_tunnel) peer_entry; /* esp->tuns_by_peer */
	int peer_indexed;
	uint32_t if_id;
	vpnr_addr peer; /* peer's outer address, for unknown-SPI drops */
	uint64_t in_seen_order; /* newest inbound SA that carried traffic */
	struct vpnr__esp_sa *active_out; /* last used by encap, or NULL */
	TAILQ_HEAD(, vpnr__esp_sa) out;  /* newest first */
	vpnr_esp_counters c;
};

RB_HEAD(vpnr__esp_sa_tree, vpnr__esp_sa);
RB_HEAD(vpnr__esp_tun_tree, vpnr__esp_tunnel);
RB_HEAD(vpnr__esp_tun_peer_tree, vpnr__esp_tunnel);
RB_PROTOTYPE(vpnr__esp_sa_tree, vpnr__esp_sa, id_entry, vpnr__esp_sa_cmp)
RB_PROTOTYPE(vpnr__esp_tun_tree, vpnr__esp_tunnel, entry, vpnr__esp_tun_cmp)

struct vpnr_esp {
	vpnr_mem mem_store;
	const vpnr_mem *mem;
	struct vpnr__esp_sa_tree sas;   /* by sa_id */
	struct vpnr__esp_tun_tree tuns; /* by if_id */
	/* by peer address, then if_id: an unknown SPI is counted on its
	 * peer's tunnel without walking every tunnel */
	struct vpnr__esp_tun_peer_tree tuns_by_peer;
	struct vpnr__esp_sa **spi_hash; /* inbound SAs by SPI */
	size_t spi_hash_size;           /* power of two */
	size_t n_inbound;
	uint64_t order;
	TAILQ_HEAD(, vpnr__esp_sa) expq;
	struct vpnr__esp_tunnel *last_tun; /* encap lookup cache */
	vpnr_esp_counters c;               /* global */
	vpnr_tstamp last_log[8];
	int (*route_add)(vpnr_ctx *, uint64_t, const vpnr_route *, void *);
	int (*route_del)(vpnr_ctx *, uint64_t, const vpnr_route *, void *);
	void *route_arg;
};

/* ---- esp_sa.c: tables ----------------------------------------------- */

int vpnr__esp_sa_add(vpnr_esp *esp, vpnr_ctx *ctx, const vpnr_child_sa *sa,
    struct vpnr__esp_sa **psa);
/* New outer addresses for an installed SA (a NAT mapping moved):
 * its state (sequence numbers, replay window, counters) is kept. */
void vpnr__esp_sa_move(vpnr_esp *esp, struct vpnr__esp_sa *sa,
    const vpnr_addr *src, const vpnr_addr *dst);
void vpnr__esp_sa_remove(vpnr_esp *esp, struct vpnr__esp_sa *sa);
struct vpnr__esp_sa *vpnr__esp_sa_by_id(const vpnr_esp *esp, uint64_t sa_id);
struct vpnr__esp_sa *vpnr__esp_sa_by_spi(const vpnr_esp *esp, uint32_t spi);
struct vpnr__esp_tunnel *
vpnr__esp_tun_find(const vpnr_esp *esp, uint32_t if_id);
struct vpnr__esp_tunnel *
vpnr__esp_tun_by_peer(const vpnr_esp *esp, const vpnr_addr *peer);
void
vpnr__esp_sa_fill_info(const struct vpnr__esp_sa *sa, vpnr_esp_sa_info *info);
void vpnr__esp_tables_free(vpnr_esp *esp);

#endif /* VPNR_IPSEC_ESP_INT_H */
