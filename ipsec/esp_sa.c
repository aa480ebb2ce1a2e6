/*
 * SA tables of the built-in ESP data plane: every SA by sa_id (RB
 * tree), inbound SAs by SPI (chained hash table), tunnel interfaces by
 * if_id (RB tree) with their outbound SAs, newest first.
 */
#include <string.h>

#include "esp_int.h"
#include "mem.h"

static int
vpnr__esp_sa_cmp(const struct vpnr__esp_sa *a, const struct vpnr__esp_sa *b)
{
	return a->sa_id < b->sa_id ? -1 : a->sa_id > b->sa_id;
}

static int
vpnr__esp_tun_cmp(const struct vpnr__esp_tunnel *a,
    const struct vpnr__esp_tunnel *b)
{
	return a->if_id < b->if_id ? -1 : a->if_id > b->if_id;
}

RB_GENERATE(vpnr__esp_sa_tree, vpnr__esp_sa, id_entry, vpnr__esp_sa_cmp)
RB_GENERATE(vpnr__esp_tun_tree, vpnr__esp_tunnel, entry, vpnr__esp_tun_cmp)

static size_t
spi_bucket(const vpnr_esp *esp, uint32_t spi)
{
	return (size_t)((spi * 0x9e3779b1U) ^ (spi >> 16)) &
	    (esp->spi_hash_size - 1);
}

static int
spi_hash_grow(vpnr_esp *esp)
{
	struct vpnr__esp_sa **nh, *sa, *next;
	size_t i, nsize, old;
	struct vpnr__esp_sa **oh;

	nsize = esp->spi_hash_size == 0 ? 64 : esp->spi_hash_size * 2;
	if ((nh = vpnr__calloc(esp->mem, nsize, sizeof(*nh))) == NULL)
		return VPNR_ERR_NOMEM;
	oh = esp->spi_hash;
	old = esp->spi_hash_size;
	esp->spi_hash = nh;
	esp->spi_hash_size = nsize;
	for (i = 0; i < old; i++) {
		for (sa = oh[i]; sa != NULL; sa = next) {
			next = sa->hnext;
			sa->hnext = nh[spi_bucket(esp, sa->spi)];
			nh[spi_bucket(esp, sa->spi)] = sa;
		}
	}
	vpnr__free(esp->mem, oh);
	return VPNR_OK;
}

struct vpnr__esp_sa *
vpnr__esp_sa_by_spi(const vpnr_esp *esp, uint32_t spi)
{
	struct vpnr__esp_sa *sa;

	if (esp->spi_hash_size == 0)
		return NULL;
	for (sa = esp->spi_hash[spi_bucket(esp, spi)]; sa != NULL;
	     sa = sa->hnext)
		if (sa->spi == spi)
			return sa;
	return NULL;
}

struct vpnr__esp_sa *
vpnr__esp_sa_by_id(const vpnr_esp *esp, uint64_t sa_id)
{
	struct vpnr__esp_sa key;

	key.sa_id = sa_id;
	return RB_FIND(vpnr__esp_sa_tree, (struct vpnr__esp_sa_tree *)&esp->sas,
	    &key);
}

struct vpnr__esp_tunnel *
vpnr__esp_tun_find(const vpnr_esp *esp, uint32_t if_id)
{
	struct vpnr__esp_tunnel key;

	key.if_id = if_id;
	return RB_FIND(vpnr__esp_tun_tree,
	    (struct vpnr__esp_tun_tree *)&esp->tuns, &key);
}

static int
addr_eq(const vpnr_addr *a, const vpnr_addr *b)
{
	size_t n;

	if (a->family != b->family || a->family == 0)
		return 0;
	n = a->family == VPNR_AF_INET ? 4 : 16;
	return memcmp(a->bytes, b->bytes, n) == 0;
}

static int
tun_peer_cmp(const struct vpnr__esp_tunnel *a, const struct vpnr__esp_tunnel *b)
{
	int c;

	if (a->peer.family != b->peer.family)
		return a->peer.family < b->peer.family ? -1 : 1;
	c = memcmp(a->peer.bytes, b->peer.bytes,
	    a->peer.family == VPNR_AF_INET ? 4 : 16);
	if (c != 0)
		return c;
	return a->if_id < b->if_id ? -1 : a->if_id > b->if_id;
}
RB_GENERATE_STATIC(vpnr__esp_tun_peer_tree, vpnr__esp_tunnel, peer_entry,
    tun_peer_cmp)

struct vpnr__esp_tunnel *
vpnr__esp_tun_by_peer(const vpnr_esp *esp, const vpnr_addr *peer)
{
	struct vpnr__esp_tunnel key, *t;

	if (peer == NULL || peer->family == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.peer = *peer;
	t = RB_NFIND(vpnr__esp_tun_peer_tree,
	    (struct vpnr__esp_tun_peer_tree *)&esp->tuns_by_peer, &key);
	return t != NULL && addr_eq(&t->peer, peer) ? t : NULL;
}

/* The tunnel's peer moved (a new SA): re-key it in tuns_by_peer. */
static void
tun_set_peer(vpnr_esp *esp, struct vpnr__esp_tunnel *t, const vpnr_addr *peer)
{
	if (t->peer_indexed)
		RB_REMOVE(vpnr__esp_tun_peer_tree, &esp->tuns_by_peer, t);
	t->peer = *peer;
	t->peer_indexed = 1;
	RB_INSERT(vpnr__esp_tun_peer_tree, &esp->tuns_by_peer, t);
}

static struct vpnr__esp_tunnel *
tun_get(vpnr_esp *esp, uint32_t if_id)
{
	struct vpnr__esp_tunnel *t;

	if ((t = vpnr__esp_tun_find(esp, if_id)) != NULL)
		return t;
	if ((t = vpnr__calloc(esp->mem, 1, sizeof(*t))) == NULL)
		return NULL;
	t->if_id = if_id;
	TAILQ_INIT(&t->out);
	RB_INSERT(vpnr__esp_tun_tree, &esp->tuns, t);
	return t;
}

static void
sa_free(vpnr_esp *esp, struct vpnr__esp_sa *sa)
{
	vpnr__esp_crypto_free(&sa->crypto);
	if (sa->bitmap != NULL)
		vpnr__free(esp->mem, sa->bitmap);
	vpnr__freezero(esp->mem, sa, sizeof(*sa));
}

void
vpnr__esp_sa_move(vpnr_esp *esp, struct vpnr__esp_sa *sa, const vpnr_addr *src,
    const vpnr_addr *dst)
{
	sa->src = *src;
	sa->dst = *dst;
	tun_set_peer(esp, sa->tun,
	    sa->dir == VPNR_DIR_OUT ? &sa->dst : &sa->src);
	esp->last_tun = NULL;
}

int
vpnr__esp_sa_add(vpnr_esp *esp, vpnr_ctx *ctx, const vpnr_child_sa *csa,
    struct vpnr__esp_sa **psa)
{
	struct vpnr__esp_sa *sa;
	struct vpnr__esp_tunnel *t;
	size_t b;
	int rv;

	if (csa->direction != VPNR_DIR_IN && csa->direction != VPNR_DIR_OUT)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (csa->protocol != 0 && csa->protocol != 50)
		return VPNR_ERR_UNSUPPORTED;
	if (csa->replay_window > VPNR_ESP_MAX_REPLAY_WINDOW)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (vpnr__esp_sa_by_id(esp, csa->sa_id) != NULL)
		return VPNR_ERR_EXISTS;
	if (csa->direction == VPNR_DIR_IN &&
	    vpnr__esp_sa_by_spi(esp, csa->spi) != NULL)
		return VPNR_ERR_EXISTS;
	if ((sa = vpnr__calloc(esp->mem, 1, sizeof(*sa))) == NULL)
		return VPNR_ERR_NOMEM;
	if ((rv = vpnr__esp_crypto_init(&sa->crypto, csa,
		 csa->direction == VPNR_DIR_OUT)) != VPNR_OK) {
		vpnr__freezero(esp->mem, sa, sizeof(*sa));
		return rv;
	}
	sa->ctx = ctx;
	sa->sa_id = csa->sa_id;
	sa->tunnel_id = csa->tunnel_id;
	sa->spi = csa->spi;
	sa->if_id = csa->if_id;
	sa->dir = csa->direction;
	sa->esn = (csa->flags & VPNR_SA_F_ESN) != 0;
	sa->flags = csa->flags;
	sa->encr_key_bits = csa->encr_key_bits;
	sa->src = csa->src;
	sa->dst = csa->dst;
	sa->soft = csa->soft;
	sa->hard = csa->hard;
	if (csa->n_ts_local > 0 && csa->n_ts_remote > 0 &&
	    csa->n_ts_local <= ESP_MAX_TS && csa->n_ts_remote <= ESP_MAX_TS &&
	    csa->ts_local != NULL && csa->ts_remote != NULL) {
		memcpy(sa->ts_local, csa->ts_local,
		    csa->n_ts_local * sizeof(vpnr_ts));
		memcpy(sa->ts_remote, csa->ts_remote,
		    csa->n_ts_remote * sizeof(vpnr_ts));
		sa->n_ts_local = (uint8_t)csa->n_ts_local;
		sa->n_ts_remote = (uint8_t)csa->n_ts_remote;
		sa->ts_check = 1;
	}
	if (sa->dir == VPNR_DIR_IN) {
		sa->bitmap_words = vpnr__replay_words(csa->replay_window);
		sa->bitmap =
		    vpnr__calloc(esp->mem, sa->bitmap_words, sizeof(uint64_t));
		if (sa->bitmap == NULL)
			goto nomem;
		vpnr__replay_init(&sa->replay, csa->replay_window, sa->esn,
		    sa->bitmap);
		if (esp->n_inbound + 1 > esp->spi_hash_size * 2 &&
		    spi_hash_grow(esp) != VPNR_OK)
			goto nomem;
	}
	if ((t = tun_get(esp, sa->if_id)) == NULL)
		goto nomem;
	sa->tun = t;
	sa->order = ++esp->order;
	tun_set_peer(esp, t, sa->dir == VPNR_DIR_OUT ? &sa->dst : &sa->src);
	RB_INSERT(vpnr__esp_sa_tree, &esp->sas, sa);
	if (sa->dir == VPNR_DIR_IN) {
		b = spi_bucket(esp, sa->spi);
		sa->hnext = esp->spi_hash[b];
		esp->spi_hash[b] = sa;
		esp->n_inbound++;
	} else {
		TAILQ_INSERT_HEAD(&t->out, sa, out_entry);
	}
	esp->last_tun = NULL;
	*psa = sa;
	return VPNR_OK;
nomem:
	sa_free(esp, sa);
	return VPNR_ERR_NOMEM;
}

void
vpnr__esp_sa_remove(vpnr_esp *esp, struct vpnr__esp_sa *sa)
{
	struct vpnr__esp_sa **pp;

	RB_REMOVE(vpnr__esp_sa_tree, &esp->sas, sa);
	if (sa->dir == VPNR_DIR_IN) {
		for (pp = &esp->spi_hash[spi_bucket(esp, sa->spi)]; *pp != NULL;
		     pp = &(*pp)->hnext) {
			if (*pp == sa) {
				*pp = sa->hnext;
				break;
			}
		}
		esp->n_inbound--;
	} else {
		TAILQ_REMOVE(&sa->tun->out, sa, out_entry);
		if (sa->tun->active_out == sa)
			sa->tun->active_out = NULL;
	}
	if (sa->pending != 0)
		TAILQ_REMOVE(&esp->expq, sa, exp_entry);
	esp->last_tun = NULL;
	sa_free(esp, sa);
}

void
vpnr__esp_sa_fill_info(const struct vpnr__esp_sa *sa, vpnr_esp_sa_info *info)
{
	memset(info, 0, sizeof(*info));
	info->sa_id = sa->sa_id;
	info->tunnel_id = sa->tunnel_id;
	info->spi = sa->spi;
	info->if_id = sa->if_id;
	info->direction = sa->dir;
	info->active = sa->dir == VPNR_DIR_OUT && sa->tun->active_out == sa;
	info->flags = sa->flags;
	info->encr_id = sa->crypto.encr;
	info->encr_key_bits = sa->encr_key_bits;
	info->integ_id = sa->crypto.integ;
	info->replay_window = sa->replay.window;
	info->src = sa->src;
	info->dst = sa->dst;
	info->seq = sa->dir == VPNR_DIR_OUT ? sa->seq : sa->replay.top;
	info->installed_at = sa->installed_at;
	info->last_used = sa->last_used;
	info->soft_expired = (sa->hit & ESP_EXP_SOFT) != 0;
	info->hard_expired = (sa->hit & ESP_EXP_HARD) != 0;
	info->counters = sa->c;
}

void
vpnr__esp_tables_free(vpnr_esp *esp)
{
	struct vpnr__esp_sa *sa, *snext;
	struct vpnr__esp_tunnel *t, *tnext;

	RB_FOREACH_SAFE(sa, vpnr__esp_sa_tree, &esp->sas, snext)
		vpnr__esp_sa_remove(esp, sa);
	RB_FOREACH_SAFE(t, vpnr__esp_tun_tree, &esp->tuns, tnext) {
		RB_REMOVE(vpnr__esp_tun_tree, &esp->tuns, t);
		if (t->peer_indexed)
			RB_REMOVE(vpnr__esp_tun_peer_tree, &esp->tuns_by_peer,
			    t);
		vpnr__free(esp->mem, t);
	}
	vpnr__free(esp->mem, esp->spi_hash);
	esp->spi_hash = NULL;
	esp->spi_hash_size = 0;
}
