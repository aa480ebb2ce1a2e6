/*
 * IKEv1 Main Mode + Quick Mode engine (RFC 2409 5.4, 5.5; NAT-D per
 * RFC 3947; notifies per RFC 2408 3.14), sans I/O.  See ikev1_sa.h.
 *
 * Message flow (I initiator, R responder; * encrypted):
 *   MM1 I: SA, VID(NAT-T), VID(DPD)        MM2 R: SA (chosen), VIDs
 *   MM3 I: KE, Ni, NAT-D, NAT-D            MM4 R: KE, Nr, NAT-D, NAT-D
 *   MM5 I*: IDii, HASH_I, N(INITIAL-CONTACT)   MM6 R*: IDir, HASH_R
 *   QM1 I*: HASH(1), SA, Ni, [KE], IDci, IDcr
 *   QM2 R*: HASH(2), SA, Nr, [KE], IDci, IDcr   QM3 I*: HASH(3)
 * A responder that finds no proposal, or a wrong HASH_I, answers with
 * a clear Informational notify so that the initiator fails at once
 * rather than by timeout; an initiator accepts such a notify only in
 * the state that expects the answer (it is unauthenticated).
 */
#include <string.h>

#include <openssl/rand.h>

#include "buf.h"
#include "ikev1_sa.h"
#include "mem.h"

#define MAX_MSG 65535

/* ---- Helpers --------------------------------------------------------- */

static int
rnd(struct vpnr__v1_ike *sa, uint8_t *buf, size_t len)
{
	if (sa->cfg->rand_bytes != NULL)
		return sa->cfg->rand_bytes(sa->cfg->rand_arg, buf, len) == 0 ?
		    VPNR_OK :
		    VPNR_ERR_CRYPTO;
	return RAND_bytes(buf, (int)len) == 1 ? VPNR_OK : VPNR_ERR_CRYPTO;
}

static int
fail(struct vpnr__v1_ike *sa, int err, const char *why)
{
	sa->state = V1S_FAILED;
	sa->error = err;
	sa->why = why;
	sa->rtx_armed = 0;
	return err;
}

static void
hdr_init(struct vpnr__v1_ike *sa, struct vpnr__v1_hdr *h, uint8_t exch,
    uint32_t mid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->cky_i, sa->cky_i, 8);
	memcpy(h->cky_r, sa->cky_r, 8);
	h->exchange = exch;
	h->msg_id = mid;
}

/* Start a message in w (freed by end_send). */
static void
begin_msg(struct vpnr__v1_ike *sa, struct vpnr__v1_builder *b,
    struct vpnr__wbuf *w, struct vpnr__v1_hdr *h, uint8_t exch, uint32_t mid)
{
	hdr_init(sa, h, exch, mid);
	vpnr__wbuf_init(w, sa->cfg->mem, MAX_MSG);
	vpnr__v1_build_begin(b, w, h);
}

static int resend(struct vpnr__v1_ike *sa, const uint8_t *d, size_t len);

/* send_msg's arm for an informational: sent once, never retransmitted,
 * and leaving the exchange in flight alone (its retransmission and the
 * answer kept for duplicates): a DPD ACK must not stop a Quick Mode's
 * retransmissions. */
#define SEND_ONCE (-1)

/*
 * Queue a finished datagram; keep it as the message to retransmit
 * (or to resend on a duplicate request).  arm: the peer owes a reply.
 */
static int
send_msg(struct vpnr__v1_ike *sa, const struct vpnr__wbuf *w, int arm,
    vpnr_tstamp now)
{
	const vpnr_mem *mem = sa->cfg->mem;
	size_t len = vpnr__wbuf_len(w);
	unsigned slot;
	uint8_t *copy;
	int rc;

	if (arm == SEND_ONCE) {
		if ((rc = resend(sa, vpnr__wbuf_data(w), len)) == VPNR_OK)
			sa->n_sent++;
		return rc;
	}
	if ((copy = vpnr__memdup(mem, vpnr__wbuf_data(w), len)) == NULL)
		return VPNR_ERR_NOMEM;
	vpnr__free(mem, sa->last_out);
	sa->last_out = copy;
	sa->last_out_len = len;
	sa->rtx_armed = arm;
	sa->rtx_count = 0;
	sa->rtx_at = now + sa->cfg->rtx_timeout;
	if (sa->out_n == VPNR__V1_OUTBOX) {
		/* The host stopped reading; the oldest datagram goes. */
		vpnr__free(mem, sa->out[sa->out_head]);
		sa->out[sa->out_head] = NULL;
		sa->out_head = (sa->out_head + 1) % VPNR__V1_OUTBOX;
		sa->out_n--;
	}
	slot = (sa->out_head + sa->out_n) % VPNR__V1_OUTBOX;
	if ((sa->out[slot] = vpnr__memdup(mem, copy, len)) == NULL)
		return VPNR_ERR_NOMEM;
	sa->out_len[slot] = len;
	sa->out_n++;
	sa->n_sent++;
	return VPNR_OK;
}

/* Queue a stored datagram again (retransmission or repeat answer). */
static int
resend(struct vpnr__v1_ike *sa, const uint8_t *d, size_t len)
{
	const vpnr_mem *mem = sa->cfg->mem;
	unsigned slot;

	if (d == NULL || sa->out_n == VPNR__V1_OUTBOX)
		return VPNR_OK;
	slot = (sa->out_head + sa->out_n) % VPNR__V1_OUTBOX;
	if ((sa->out[slot] = vpnr__memdup(mem, d, len)) == NULL)
		return VPNR_ERR_NOMEM;
	sa->out_len[slot] = len;
	sa->out_n++;
	return VPNR_OK;
}

static int
resend_last(struct vpnr__v1_ike *sa)
{
	return resend(sa, sa->last_out, sa->last_out_len);
}

/* A clear Informational notify (no keys yet, or keys the peer lacks). */
static void
send_clear_notify(struct vpnr__v1_ike *sa, uint16_t type, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t spi[16];

	memcpy(spi, sa->cky_i, 8);
	memcpy(spi + 8, sa->cky_r, 8);
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_INFO, 0);
	vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ISAKMP, spi,
	    16, type, NULL, 0);
	if (vpnr__v1_build_end(&b) == VPNR_OK)
		(void)send_msg(sa, &w, SEND_ONCE, now);
	vpnr__wbuf_free(&w);
}

/* Our ID payload names UDP port 500 (RFC 2407 4.6.2). */
#define V1_ID_PORT 500

/* Our ID for Phase 1: the local address (IPV4_ADDR / IPV6_ADDR). */
static void
add_own_id(struct vpnr__v1_ike *sa, struct vpnr__v1_builder *b)
{
	const vpnr_addr *a = &sa->cfg->local;
	int v6 = a->family == VPNR_AF_INET6;

	vpnr__v1_add_id(b, v6 ? VPNR__V1_ID_IPV6_ADDR : VPNR__V1_ID_IPV4_ADDR,
	    17, V1_ID_PORT, a->bytes, v6 ? 16 : 4);
}

/* The peer's Phase 1 ID must be its address (we configure no other). */
static int
peer_id_ok(const struct vpnr__v1_ike *sa, const struct vpnr__v1_id *id)
{
	const vpnr_addr *a = &sa->cfg->remote;
	int v6 = a->family == VPNR_AF_INET6;

	if (id->type != (v6 ? VPNR__V1_ID_IPV6_ADDR : VPNR__V1_ID_IPV4_ADDR))
		return 0;
	return id->len == (v6 ? 16u : 4u) &&
	    memcmp(id->data, a->bytes, id->len) == 0;
}

static int
add_natd(struct vpnr__v1_ike *sa, struct vpnr__v1_builder *b)
{
	uint8_t h[VPNR__V1_MAX_HASH_LEN];
	size_t hl = vpnr__v1_hash_len(sa->p1.hash);
	int rc;

	/* RFC 3947 3.2: the peer's address first, then ours. */
	if ((rc = vpnr__v1_natd(sa->p1.hash, sa->cky_i, sa->cky_r,
		 &sa->cfg->remote, h)) != VPNR_OK)
		return rc;
	vpnr__v1_add_natd(b, VPNR__V1_PL_NATD, h, hl);
	/* Forced encapsulation: a random hash of ours makes the peer see
	 * us behind a NAT and agree to UDP encapsulation (strongSwan's
	 * forceencaps does the same). */
	if (sa->cfg->encap == VPNR__V1_ENCAP_UDP_TUNNEL)
		rc = rnd(sa, h, hl);
	else
		rc = vpnr__v1_natd(sa->p1.hash, sa->cky_i, sa->cky_r,
		    &sa->cfg->local, h);
	if (rc != VPNR_OK)
		return rc;
	vpnr__v1_add_natd(b, VPNR__V1_PL_NATD, h, hl);
	return VPNR_OK;
}

static void
check_natd(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m)
{
	uint8_t hl_[VPNR__V1_MAX_HASH_LEN], hr[VPNR__V1_MAX_HASH_LEN];
	size_t hl = vpnr__v1_hash_len(sa->p1.hash);
	uint8_t i;
	int seen = 0;

	if (m->n_natd < 2 ||
	    vpnr__v1_natd(sa->p1.hash, sa->cky_i, sa->cky_r, &sa->cfg->local,
		hl_) != VPNR_OK ||
	    vpnr__v1_natd(sa->p1.hash, sa->cky_i, sa->cky_r, &sa->cfg->remote,
		hr) != VPNR_OK)
		return;
	/* The first is what the peer sent to: our address. */
	sa->nat_local =
	    m->natd[0].len != hl || memcmp(m->natd[0].data, hl_, hl) != 0;
	for (i = 1; i < m->n_natd; i++)
		if (m->natd[i].len == hl &&
		    memcmp(m->natd[i].data, hr, hl) == 0)
			seen = 1;
	sa->nat_remote = !seen;
}

static uint16_t
want_encap(const struct vpnr__v1_ike *sa)
{
	if (sa->nat_local || sa->nat_remote)
		return VPNR__V1_ENCAP_UDP_TUNNEL;
	return sa->cfg->encap;
}

/* KE payload data for our DH key into the builder. */
static int
add_ke(struct vpnr__v1_builder *b, struct vpnr__v1_dh *dh, uint8_t *copy)
{
	uint8_t pub[VPNR__V1_MAX_KE_LEN];
	size_t len = vpnr__v1_dh_public_len(vpnr__v1_dh_group(dh));
	int rc;

	if ((rc = vpnr__v1_dh_public(dh, pub, sizeof(pub))) != VPNR_OK)
		return rc;
	if (copy != NULL)
		memcpy(copy, pub, len);
	vpnr__v1_add_ke(b, pub, len);
	return VPNR_OK;
}

/* Encrypt the message in w with iv (updated to the chain's next IV). */
static int
seal(struct vpnr__v1_ike *sa, struct vpnr__wbuf *w, uint8_t *iv)
{
	return vpnr__v1_encrypt(w, 0, sa->keys.enc, sa->keys.enc_key,
	    sa->keys.enc_len, iv, iv);
}

/* Decrypt into a scratch buffer and parse; next gets the chain IV. */
static int
open_msg(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    const uint8_t *iv, uint8_t *next, uint8_t *scratch, struct vpnr__v1_msg *m)
{
	size_t olen;
	int rc;

	rc = vpnr__v1_decrypt(data, len, sa->keys.enc, sa->keys.enc_key,
	    sa->keys.enc_len, iv, scratch, len, &olen, next, &sa->last_perr);
	if (rc != VPNR_OK)
		return rc;
	return vpnr__v1_parse(m, scratch, olen, VPNR__V1_PARSE_DECRYPTED,
	    &sa->last_perr);
}

/* ---- Life cycle ------------------------------------------------------ */

int
vpnr__v1_ike_init(struct vpnr__v1_ike *sa, const struct vpnr__v1_cfg *cfg,
    int initiator)
{
	memset(sa, 0, sizeof(*sa));
	if (cfg == NULL || cfg->n_ike == 0 || cfg->n_esp == 0 ||
	    cfg->psk == NULL || cfg->psk_len == 0 || cfg->rtx_timeout == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	sa->cfg = cfg;
	sa->initiator = initiator;
	sa->state = initiator ? V1S_IDLE : V1S_MM_WAIT1;
	return VPNR_OK;
}

void
vpnr__v1_ike_free(struct vpnr__v1_ike *sa)
{
	const vpnr_mem *mem;
	unsigned i;

	if (sa == NULL || sa->cfg == NULL)
		return;
	mem = sa->cfg->mem;
	vpnr__v1_dh_free(sa->dh);
	vpnr__v1_dh_free(sa->qm.dh);
	vpnr__free(mem, sa->sai_b);
	vpnr__free(mem, sa->last_out);
	vpnr__free(mem, sa->reply);
	for (i = 0; i < VPNR__V1_OUTBOX; i++)
		vpnr__free(mem, sa->out[i]);
	vpnr__v1_keys_wipe(&sa->keys);
	explicit_bzero(sa, sizeof(*sa));
}

int
vpnr__v1_ike_output(struct vpnr__v1_ike *sa, uint8_t *buf, size_t cap,
    size_t *len)
{
	unsigned h = sa->out_head;

	*len = 0;
	if (sa->out_n == 0)
		return VPNR_OK;
	if (sa->out_len[h] > cap)
		return VPNR_ERR_BUFFER_TOO_SMALL;
	memcpy(buf, sa->out[h], sa->out_len[h]);
	*len = sa->out_len[h];
	vpnr__free(sa->cfg->mem, sa->out[h]);
	sa->out[h] = NULL;
	sa->out_head = (h + 1) % VPNR__V1_OUTBOX;
	sa->out_n--;
	return VPNR_OK;
}

vpnr_tstamp
vpnr__v1_ike_next_timer(const struct vpnr__v1_ike *sa)
{
	return sa->rtx_armed ? sa->rtx_at : 0;
}

int
vpnr__v1_ike_timer(struct vpnr__v1_ike *sa, vpnr_tstamp now)
{
	if (!sa->rtx_armed || now < sa->rtx_at)
		return VPNR_OK;
	if (sa->rtx_count >= sa->cfg->rtx_tries)
		return fail(sa, VPNR_ERR_TIMEOUT,
		    sa->state == V1S_P1_DONE ? "Quick Mode: peer stopped "
					       "answering" :
					       "Phase 1: peer stopped "
					       "answering");
	sa->rtx_count++;
	sa->n_rtx++;
	/* Exponential backoff, bounded by the shift. */
	sa->rtx_at = now +
	    (sa->cfg->rtx_timeout << (sa->rtx_count < 6 ? sa->rtx_count : 6));
	return resend_last(sa);
}

/* ---- Main Mode: initiator ------------------------------------------ */

static int add_ke(struct vpnr__v1_builder *, struct vpnr__v1_dh *, uint8_t *);

/*
 * Aggressive Mode offers one DH group (its KE goes with the offer):
 * the first of the first proposal, with every cipher and hash of the
 * proposals that allow it.
 */
static int
am_props(struct vpnr__v1_ike *sa, struct vpnr__v1_sa *sapl)
{
	struct vpnr__prop p[VPNR__IKE_MAX_PROPOSALS];
	size_t i, n = 0;

	sa->p1.group = sa->cfg->ike[0].dh[0];
	for (i = 0; i < sa->cfg->n_ike && n < VPNR__IKE_MAX_PROPOSALS; i++) {
		uint8_t k;

		for (k = 0; k < sa->cfg->ike[i].n_dh; k++)
			if (sa->cfg->ike[i].dh[k] == sa->p1.group)
				break;
		if (k == sa->cfg->ike[i].n_dh)
			continue;
		p[n] = sa->cfg->ike[i];
		p[n].n_dh = 1;
		p[n].dh[0] = sa->p1.group;
		n++;
	}
	return vpnr__v1_p1_to_sa(sapl, p, n, &sa->cfg->p1_life);
}

int
vpnr__v1_ike_start(struct vpnr__v1_ike *sa, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_msg *m = NULL;
	struct vpnr__v1_sa *sapl = NULL;
	const uint8_t *v;
	size_t vl;
	int rc;

	if (!sa->initiator || sa->state != V1S_IDLE)
		return VPNR_ERR_INVALID_STATE;
	if ((rc = rnd(sa, sa->cky_i, 8)) != VPNR_OK)
		return fail(sa, rc, "no random bytes");
	memset(sa->cky_r, 0, 8);
	vpnr__wbuf_init(&w, sa->cfg->mem, MAX_MSG);
	if ((sapl = vpnr__calloc(sa->cfg->mem, 1, sizeof(*sapl))) == NULL ||
	    (m = vpnr__calloc(sa->cfg->mem, 1, sizeof(*m))) == NULL) {
		rc = VPNR_ERR_NOMEM;
		goto done;
	}
	if ((rc = sa->cfg->aggressive ?
		    am_props(sa, sapl) :
		    vpnr__v1_p1_to_sa(sapl, sa->cfg->ike, sa->cfg->n_ike,
			&sa->cfg->p1_life)) != VPNR_OK)
		goto done;
	hdr_init(sa, &h,
	    sa->cfg->aggressive ? VPNR__V1_EXCH_AGGRESSIVE : VPNR__V1_EXCH_MAIN,
	    0);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_sa(&b, sapl);
	if (sa->cfg->aggressive) {
		/* KE, Ni and IDii go with the proposal. */
		sa->ni_len = 32;
		sa->gx_len = vpnr__v1_dh_public_len(sa->p1.group);
		if ((rc = vpnr__v1_dh_new(sa->p1.group, &sa->dh)) != VPNR_OK ||
		    (rc = rnd(sa, sa->ni, sa->ni_len)) != VPNR_OK ||
		    (rc = add_ke(&b, sa->dh, sa->gxi)) != VPNR_OK)
			goto done;
		vpnr__v1_add_nonce(&b, sa->ni, sa->ni_len);
		add_own_id(sa, &b);
	}
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_NATT_RFC3947, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_DPD, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	if ((rc = vpnr__v1_build_end(&b)) != VPNR_OK)
		goto done;
	/* SAi_b as sent, for HASH_I and HASH_R. */
	if ((rc = vpnr__v1_parse(m, vpnr__wbuf_data(&w), vpnr__wbuf_len(&w), 0,
		 NULL)) != VPNR_OK)
		goto done;
	if ((sa->sai_b = vpnr__memdup(sa->cfg->mem, m->sa_body,
		 m->sa_body_len)) == NULL) {
		rc = VPNR_ERR_NOMEM;
		goto done;
	}
	sa->sai_len = m->sa_body_len;
	if ((rc = send_msg(sa, &w, 1, now)) == VPNR_OK)
		sa->state = sa->cfg->aggressive ? V1S_AM_SENT1 : V1S_MM_SENT1;
done:
	vpnr__wbuf_free(&w);
	vpnr__free(sa->cfg->mem, sapl);
	vpnr__free(sa->cfg->mem, m);
	return rc == VPNR_OK ? rc : fail(sa, rc, "cannot build Main Mode 1");
}

/* DH for Phase 1 and SKEYID..., the initial IV (both roles). */
static int
p1_keys(struct vpnr__v1_ike *sa, const uint8_t *peer_ke, size_t ke_len)
{
	uint8_t gxy[VPNR__V1_MAX_KE_LEN];
	size_t gl = 0;
	int rc;

	if ((rc = vpnr__v1_dh_derive(sa->dh, peer_ke, ke_len, gxy, sizeof(gxy),
		 &gl)) != VPNR_OK)
		return rc;
	memset(&sa->keys, 0, sizeof(sa->keys));
	sa->keys.hash = sa->p1.hash;
	sa->keys.enc = sa->p1.enc;
	sa->keys.enc_bits = sa->p1.enc_bits;
	rc = vpnr__v1_skeyid_psk(sa->p1.hash, sa->cfg->psk, sa->cfg->psk_len,
	    sa->ni, sa->ni_len, sa->nr, sa->nr_len, sa->keys.skeyid);
	if (rc == VPNR_OK)
		rc = vpnr__v1_derive(&sa->keys, sa->keys.skeyid, gxy, gl,
		    sa->cky_i, sa->cky_r);
	if (rc == VPNR_OK)
		rc = vpnr__v1_p1_iv(&sa->keys, sa->gxi, sa->gx_len, sa->gxr,
		    sa->gx_len, sa->iv);
	explicit_bzero(gxy, sizeof(gxy));
	vpnr__v1_dh_free(sa->dh);
	sa->dh = NULL;
	return rc;
}

static size_t
own_idb(const struct vpnr__v1_ike *sa, uint8_t *idb)
{
	size_t idl = sa->cfg->local.family == VPNR_AF_INET6 ? 16 : 4;

	idb[0] = idl == 16 ? VPNR__V1_ID_IPV6_ADDR : VPNR__V1_ID_IPV4_ADDR;
	idb[1] = 17;
	vpnr__put_be16(idb + 2, V1_ID_PORT);
	memcpy(idb + 4, sa->cfg->local.bytes, idl);
	return 4 + idl;
}

/* HASH_I (responder 0) or HASH_R (responder 1) over an IDx_b. */
static int
p1_hash(struct vpnr__v1_ike *sa, int responder, const uint8_t *idb, size_t idl,
    uint8_t *hash)
{
	return vpnr__v1_hash_auth(&sa->keys, responder, sa->gxi, sa->gx_len,
	    sa->gxr, sa->gx_len, sa->cky_i, sa->cky_r, sa->sai_b, sa->sai_len,
	    idb, idl, hash);
}

/* Does the peer's HASH payload match the one computed over its IDx_b? */
static int
p1_hash_ok(struct vpnr__v1_ike *sa, int responder, const uint8_t *idb,
    size_t idl, const struct vpnr__v1_msg *m)
{
	uint8_t hash[VPNR__V1_MAX_HASH_LEN];

	return p1_hash(sa, responder, idb, idl, hash) == VPNR_OK &&
	    vpnr__v1_hash_verify(hash, sa->keys.prf_len, m->hash,
		m->hash_len) == VPNR_OK;
}

/*
 * Finish a message begun by begin_msg unless rc already failed: close
 * it, encrypt it when iv is given, send it; w is freed in every case.
 */
static int
end_send(struct vpnr__v1_ike *sa, struct vpnr__v1_builder *b,
    struct vpnr__wbuf *w, int rc, uint8_t *iv, int arm, vpnr_tstamp now)
{
	if (rc == VPNR_OK)
		rc = vpnr__v1_build_end(b);
	if (rc == VPNR_OK && iv != NULL)
		rc = seal(sa, w, iv);
	if (rc == VPNR_OK)
		rc = send_msg(sa, w, arm, now);
	vpnr__wbuf_free(w);
	return rc;
}

/* MM2 -> MM3 */
static int
i_mm2(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	int rc;

	if (!m->has_sa)
		return VPNR_ERR_MALFORMED;
	if ((rc = vpnr__v1_p1_accept(sa->cfg->ike, sa->cfg->n_ike, &m->sa,
		 &sa->p1)) != VPNR_OK)
		return fail(sa, VPNR_ERR_NO_PROPOSAL,
		    "Main Mode: the responder chose a proposal we did not "
		    "offer");
	memcpy(sa->cky_r, m->hdr.cky_r, 8);
	sa->peer_natt = vpnr__v1_has_vid(m, VPNR__V1_VID_NATT_RFC3947);
	sa->peer_dpd = vpnr__v1_has_vid(m, VPNR__V1_VID_DPD);
	sa->ni_len = 32;
	if ((rc = vpnr__v1_dh_new(sa->p1.group, &sa->dh)) != VPNR_OK ||
	    (rc = rnd(sa, sa->ni, sa->ni_len)) != VPNR_OK)
		return fail(sa, rc, "Main Mode: no key pair or nonce");
	sa->gx_len = vpnr__v1_dh_public_len(sa->p1.group);
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_MAIN, 0);
	rc = add_ke(&b, sa->dh, sa->gxi);
	vpnr__v1_add_nonce(&b, sa->ni, sa->ni_len);
	if (rc == VPNR_OK && sa->peer_natt)
		rc = add_natd(sa, &b);
	rc = end_send(sa, &b, &w, rc, NULL, 1, now);
	if (rc != VPNR_OK)
		return fail(sa, rc, "Main Mode: cannot build message 3");
	sa->state = V1S_MM_SENT3;
	return VPNR_OK;
}

/* MM4 -> MM5 */
static int
i_mm4(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t hash[VPNR__V1_MAX_HASH_LEN], spi[16], idb[20];
	size_t idl;
	int rc;

	if (!m->has_ke || !m->has_nonce || m->ke_len != sa->gx_len)
		return VPNR_ERR_MALFORMED;
	memcpy(sa->gxr, m->ke, m->ke_len);
	sa->nr_len = m->nonce_len;
	memcpy(sa->nr, m->nonce, m->nonce_len);
	check_natd(sa, m);
	if ((rc = p1_keys(sa, m->ke, m->ke_len)) != VPNR_OK)
		return fail(sa, rc == VPNR_ERR_MALFORMED ? rc : VPNR_ERR_CRYPTO,
		    "Main Mode: bad KE or key derivation failed");
	/* IDii_b as we send it: type, protocol, port, address. */
	idl = own_idb(sa, idb);
	if ((rc = p1_hash(sa, 0, idb, idl, hash)) != VPNR_OK)
		return fail(sa, rc, "Main Mode: HASH_I");
	memcpy(spi, sa->cky_i, 8);
	memcpy(spi + 8, sa->cky_r, 8);
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_MAIN, 0);
	add_own_id(sa, &b);
	vpnr__v1_add_hash(&b, hash, sa->keys.prf_len);
	if (!sa->cfg->no_initial_contact)
		vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC,
		    VPNR__V1_PROTO_ISAKMP, spi, 16, VPNR__V1_N_INITIAL_CONTACT,
		    NULL, 0);
	rc = end_send(sa, &b, &w, rc, sa->iv, 1, now);
	if (rc != VPNR_OK)
		return fail(sa, rc, "Main Mode: cannot build message 5");
	sa->state = V1S_MM_SENT5;
	return VPNR_OK;
}

/* MM6: Phase 1 done. */
static int
i_mm6(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch)
{
	uint8_t next[VPNR__V1_MAX_BLOCK_LEN];

	if (open_msg(sa, data, len, sa->iv, next, scratch, m) != VPNR_OK ||
	    m->n_id != 1 || !m->has_hash)
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: message 6 does not decrypt (pre-shared key "
		    "mismatch?)");
	if (!peer_id_ok(sa, &m->id[0]))
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: the responder's ID is not its address");
	if (!p1_hash_ok(sa, 1, m->id[0].body, m->id[0].body_len, m))
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: HASH_R mismatch (pre-shared key mismatch?)");
	memcpy(sa->iv, next, sa->keys.block_len);
	sa->state = V1S_P1_DONE;
	sa->rtx_armed = 0;
	return VPNR_OK;
}

/* ---- Main Mode: responder ------------------------------------------ */

/* MM1 -> MM2 */
static int
r_mm1(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_sa *echo;
	const uint8_t *v;
	size_t vl;
	int rc;

	if (!m->has_sa || m->hdr.msg_id != 0)
		return VPNR_ERR_MALFORMED;
	memcpy(sa->cky_i, m->hdr.cky_i, 8);
	if ((rc = rnd(sa, sa->cky_r, 8)) != VPNR_OK)
		return fail(sa, rc, "no random bytes");
	if (vpnr__v1_p1_select(sa->cfg->ike, sa->cfg->n_ike, &m->sa, &sa->p1) !=
	    VPNR_OK) {
		send_clear_notify(sa, VPNR__V1_N_NO_PROPOSAL_CHOSEN, now);
		return fail(sa, VPNR_ERR_NO_PROPOSAL,
		    "Main Mode: no acceptable proposal from the initiator");
	}
	if ((sa->sai_b = vpnr__memdup(sa->cfg->mem, m->sa_body,
		 m->sa_body_len)) == NULL)
		return fail(sa, VPNR_ERR_NOMEM, "out of memory");
	sa->sai_len = m->sa_body_len;
	sa->peer_natt = vpnr__v1_has_vid(m, VPNR__V1_VID_NATT_RFC3947);
	sa->peer_dpd = vpnr__v1_has_vid(m, VPNR__V1_VID_DPD);
	if ((echo = vpnr__calloc(sa->cfg->mem, 1, sizeof(*echo))) == NULL)
		return fail(sa, VPNR_ERR_NOMEM, "out of memory");
	rc = vpnr__v1_sa_echo(echo, &m->sa, 0, sa->p1.t_idx, NULL, 0);
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_MAIN, 0);
	vpnr__v1_add_sa(&b, echo);
	if (sa->peer_natt) {
		v = vpnr__v1_vid_bytes(VPNR__V1_VID_NATT_RFC3947, &vl);
		vpnr__v1_add_vid(&b, v, vl);
	}
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_DPD, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	rc = end_send(sa, &b, &w, rc, NULL, 0, now);
	vpnr__free(sa->cfg->mem, echo);
	if (rc != VPNR_OK)
		return fail(sa, rc, "Main Mode: cannot build message 2");
	sa->state = V1S_MM_SENT2;
	return VPNR_OK;
}

/* MM3 -> MM4 */
static int
r_mm3(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	int rc;

	sa->gx_len = vpnr__v1_dh_public_len(sa->p1.group);
	if (!m->has_ke || !m->has_nonce || m->ke_len != sa->gx_len)
		return VPNR_ERR_MALFORMED;
	memcpy(sa->gxi, m->ke, m->ke_len);
	sa->ni_len = m->nonce_len;
	memcpy(sa->ni, m->nonce, m->nonce_len);
	sa->nr_len = 32;
	check_natd(sa, m);
	if ((rc = vpnr__v1_dh_new(sa->p1.group, &sa->dh)) != VPNR_OK ||
	    (rc = rnd(sa, sa->nr, sa->nr_len)) != VPNR_OK)
		return fail(sa, rc, "Main Mode: no key pair or nonce");
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_MAIN, 0);
	rc = add_ke(&b, sa->dh, sa->gxr);
	vpnr__v1_add_nonce(&b, sa->nr, sa->nr_len);
	if (rc == VPNR_OK && sa->peer_natt)
		rc = add_natd(sa, &b);
	if (rc == VPNR_OK)
		rc = vpnr__v1_build_end(&b);
	if (rc == VPNR_OK)
		rc = p1_keys(sa, m->ke, m->ke_len);
	if (rc == VPNR_OK)
		rc = send_msg(sa, &w, 0, now);
	vpnr__wbuf_free(&w);
	if (rc != VPNR_OK)
		return fail(sa, rc == VPNR_ERR_MALFORMED ? rc : VPNR_ERR_CRYPTO,
		    "Main Mode: bad KE or key derivation failed");
	sa->state = V1S_MM_SENT4;
	return VPNR_OK;
}

/* MM5 -> MM6: Phase 1 done. */
static int
r_mm5(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t hash[VPNR__V1_MAX_HASH_LEN], next[VPNR__V1_MAX_BLOCK_LEN];
	uint8_t idb[20];
	size_t idl;
	int rc;

	if (open_msg(sa, data, len, sa->iv, next, scratch, m) != VPNR_OK ||
	    m->n_id != 1 || !m->has_hash) {
		send_clear_notify(sa, VPNR__V1_N_AUTHENTICATION_FAILED, now);
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: message 5 does not decrypt (pre-shared key "
		    "mismatch?)");
	}
	if (!p1_hash_ok(sa, 0, m->id[0].body, m->id[0].body_len, m)) {
		send_clear_notify(sa, VPNR__V1_N_AUTHENTICATION_FAILED, now);
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: HASH_I mismatch (pre-shared key mismatch?)");
	}
	if (!peer_id_ok(sa, &m->id[0])) {
		send_clear_notify(sa, VPNR__V1_N_INVALID_ID_INFORMATION, now);
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: the initiator's ID is not its address");
	}
	memcpy(sa->iv, next, sa->keys.block_len);
	sa->peer_initial_contact =
	    vpnr__v1_find_notify(m, VPNR__V1_N_INITIAL_CONTACT) != NULL;
	idl = own_idb(sa, idb);
	if ((rc = p1_hash(sa, 1, idb, idl, hash)) != VPNR_OK)
		return fail(sa, rc, "Main Mode: HASH_R");
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_MAIN, 0);
	add_own_id(sa, &b);
	vpnr__v1_add_hash(&b, hash, sa->keys.prf_len);
	rc = end_send(sa, &b, &w, rc, sa->iv, 0, now);
	if (rc != VPNR_OK)
		return fail(sa, rc, "Main Mode: cannot build message 6");
	sa->state = V1S_P1_DONE;
	return VPNR_OK;
}

/* ---- Aggressive Mode (RFC 2409 5.4) ------------------------------- */

/* R: AM1 -> AM2 (SA, KE, Nr, IDir, HASH_R, NAT-D) */
static int
r_am1(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_sa *echo;
	uint8_t hash[VPNR__V1_MAX_HASH_LEN], idb[20];
	const uint8_t *v;
	size_t vl, idl;
	int rc;

	if (!m->has_sa || !m->has_ke || !m->has_nonce || m->n_id != 1 ||
	    m->hdr.msg_id != 0 || m->id[0].body_len > sizeof(sa->peer_idb))
		return VPNR_ERR_MALFORMED;
	memcpy(sa->cky_i, m->hdr.cky_i, 8);
	if ((rc = rnd(sa, sa->cky_r, 8)) != VPNR_OK)
		return fail(sa, rc, "no random bytes");
	if (!sa->cfg->aggressive ||
	    vpnr__v1_p1_select(sa->cfg->ike, sa->cfg->n_ike, &m->sa, &sa->p1) !=
		VPNR_OK ||
	    vpnr__v1_dh_public_len(sa->p1.group) != m->ke_len) {
		send_clear_notify(sa, VPNR__V1_N_NO_PROPOSAL_CHOSEN, now);
		return fail(sa, VPNR_ERR_NO_PROPOSAL,
		    sa->cfg->aggressive ?
			"Aggressive Mode: no acceptable proposal from the "
			"initiator" :
			"Aggressive Mode is not enabled for this peer");
	}
	if (!peer_id_ok(sa, &m->id[0])) {
		send_clear_notify(sa, VPNR__V1_N_INVALID_ID_INFORMATION, now);
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Aggressive Mode: the initiator's ID is not its address");
	}
	if ((sa->sai_b = vpnr__memdup(sa->cfg->mem, m->sa_body,
		 m->sa_body_len)) == NULL)
		return fail(sa, VPNR_ERR_NOMEM, "out of memory");
	sa->sai_len = m->sa_body_len;
	memcpy(sa->peer_idb, m->id[0].body, m->id[0].body_len);
	sa->peer_idb_len = m->id[0].body_len;
	sa->gx_len = m->ke_len;
	memcpy(sa->gxi, m->ke, m->ke_len);
	sa->ni_len = m->nonce_len;
	memcpy(sa->ni, m->nonce, m->nonce_len);
	sa->nr_len = 32;
	sa->peer_natt = vpnr__v1_has_vid(m, VPNR__V1_VID_NATT_RFC3947);
	sa->peer_dpd = vpnr__v1_has_vid(m, VPNR__V1_VID_DPD);
	if ((rc = vpnr__v1_dh_new(sa->p1.group, &sa->dh)) != VPNR_OK ||
	    (rc = rnd(sa, sa->nr, sa->nr_len)) != VPNR_OK)
		return fail(sa, rc, "Aggressive Mode: no key pair or nonce");
	if ((echo = vpnr__calloc(sa->cfg->mem, 1, sizeof(*echo))) == NULL)
		return fail(sa, VPNR_ERR_NOMEM, "out of memory");
	rc = vpnr__v1_sa_echo(echo, &m->sa, 0, sa->p1.t_idx, NULL, 0);
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_AGGRESSIVE, 0);
	vpnr__v1_add_sa(&b, echo);
	if (rc == VPNR_OK)
		rc = add_ke(&b, sa->dh, sa->gxr);
	if (rc == VPNR_OK)
		rc = p1_keys(sa, m->ke, m->ke_len);
	idl = own_idb(sa, idb);
	if (rc == VPNR_OK)
		rc = p1_hash(sa, 1, idb, idl, hash);
	vpnr__v1_add_nonce(&b, sa->nr, sa->nr_len);
	add_own_id(sa, &b);
	vpnr__v1_add_hash(&b, hash, sa->keys.prf_len);
	if (sa->peer_natt) {
		v = vpnr__v1_vid_bytes(VPNR__V1_VID_NATT_RFC3947, &vl);
		vpnr__v1_add_vid(&b, v, vl);
		if (rc == VPNR_OK)
			rc = add_natd(sa, &b);
	}
	v = vpnr__v1_vid_bytes(VPNR__V1_VID_DPD, &vl);
	vpnr__v1_add_vid(&b, v, vl);
	/* Retransmitted until AM3 comes: AM3 answers nothing. */
	/* Retransmitted until AM3 comes: AM3 answers nothing. */
	rc = end_send(sa, &b, &w, rc, NULL, 1, now);
	vpnr__free(sa->cfg->mem, echo);
	if (rc != VPNR_OK)
		return fail(sa, rc == VPNR_ERR_MALFORMED ? rc : VPNR_ERR_CRYPTO,
		    "Aggressive Mode: bad KE or cannot build message 2");
	sa->state = V1S_AM_SENT2;
	return VPNR_OK;
}

/* I: AM2 -> AM3 (HASH_I, NAT-D; encrypted), Phase 1 done */
static int
i_am2(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t hash[VPNR__V1_MAX_HASH_LEN], idb[20];
	size_t idl;
	int rc;

	if (!m->has_sa || !m->has_ke || !m->has_nonce || m->n_id != 1 ||
	    !m->has_hash || m->ke_len != sa->gx_len)
		return VPNR_ERR_MALFORMED;
	if (vpnr__v1_p1_accept(sa->cfg->ike, sa->cfg->n_ike, &m->sa, &sa->p1) !=
		VPNR_OK ||
	    vpnr__v1_dh_public_len(sa->p1.group) != sa->gx_len)
		return fail(sa, VPNR_ERR_NO_PROPOSAL,
		    "Aggressive Mode: the responder chose a proposal we did "
		    "not offer");
	memcpy(sa->cky_r, m->hdr.cky_r, 8);
	sa->peer_natt = vpnr__v1_has_vid(m, VPNR__V1_VID_NATT_RFC3947);
	sa->peer_dpd = vpnr__v1_has_vid(m, VPNR__V1_VID_DPD);
	memcpy(sa->gxr, m->ke, m->ke_len);
	sa->nr_len = m->nonce_len;
	memcpy(sa->nr, m->nonce, m->nonce_len);
	if ((rc = p1_keys(sa, m->ke, m->ke_len)) != VPNR_OK)
		return fail(sa, rc == VPNR_ERR_MALFORMED ? rc : VPNR_ERR_CRYPTO,
		    "Aggressive Mode: bad KE or key derivation failed");
	if (!peer_id_ok(sa, &m->id[0]) ||
	    !p1_hash_ok(sa, 1, m->id[0].body, m->id[0].body_len, m)) {
		send_clear_notify(sa, VPNR__V1_N_AUTHENTICATION_FAILED, now);
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Aggressive Mode: HASH_R mismatch (pre-shared key "
		    "mismatch?)");
	}
	check_natd(sa, m);
	idl = own_idb(sa, idb);
	if ((rc = p1_hash(sa, 0, idb, idl, hash)) != VPNR_OK)
		return fail(sa, rc, "Aggressive Mode: HASH_I");
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_AGGRESSIVE, 0);
	vpnr__v1_add_hash(&b, hash, sa->keys.prf_len);
	if (sa->peer_natt)
		rc = add_natd(sa, &b);
	rc = end_send(sa, &b, &w, rc, sa->iv, 0, now);
	if (rc != VPNR_OK)
		return fail(sa, rc, "Aggressive Mode: cannot build message 3");
	sa->state = V1S_P1_DONE;
	return VPNR_OK;
}

/* R: AM3 (encrypted or, from some peers, clear): Phase 1 done */
static int
r_am3(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch)
{
	uint8_t next[VPNR__V1_MAX_BLOCK_LEN];
	int enc = m->encrypted;

	if (enc && open_msg(sa, data, len, sa->iv, next, scratch, m) != VPNR_OK)
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Aggressive Mode: message 3 does not decrypt "
		    "(pre-shared key mismatch?)");
	if (!m->has_hash ||
	    !p1_hash_ok(sa, 0, sa->peer_idb, sa->peer_idb_len, m))
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Aggressive Mode: HASH_I mismatch (pre-shared key "
		    "mismatch?)");
	check_natd(sa, m);
	sa->peer_initial_contact =
	    vpnr__v1_find_notify(m, VPNR__V1_N_INITIAL_CONTACT) != NULL;
	if (enc)
		memcpy(sa->iv, next, sa->keys.block_len);
	sa->state = V1S_P1_DONE;
	sa->rtx_armed = 0;
	return VPNR_OK;
}

/* ---- Quick Mode and Informational ------------------------------------ */

/* Does the HASH(1) of m, Message ID mid, check out? */
static int
hash1_ok(struct vpnr__v1_ike *sa, uint32_t mid, const struct vpnr__v1_msg *m)
{
	uint8_t hash[VPNR__V1_MAX_HASH_LEN];

	return vpnr__v1_hash1(&sa->keys, mid, m->after_hash, m->after_hash_len,
		   hash) == VPNR_OK &&
	    vpnr__v1_hash_verify(hash, sa->keys.prf_len, m->hash,
		m->hash_len) == VPNR_OK;
}

/*
 * Finish a message built with a HASH slot at hoff: HASH(1) (or HASH(2)
 * with ni), then encrypt with iv (updated) and queue it.
 */
static int
finish_hashed(struct vpnr__v1_ike *sa, struct vpnr__wbuf *w, size_t hoff,
    uint32_t mid, const uint8_t *ni, size_t ni_len, uint8_t *iv, int arm,
    vpnr_tstamp now)
{
	uint8_t h[VPNR__V1_MAX_HASH_LEN], *slot, *rest;
	size_t pl = sa->keys.prf_len, rl;
	int rc;

	rl = vpnr__wbuf_len(w) - hoff - pl;
	if ((slot = vpnr__wbuf_ptr(w, hoff, pl)) == NULL ||
	    (rest = vpnr__wbuf_ptr(w, hoff + pl, rl)) == NULL)
		return VPNR_ERR_INTERNAL;
	rc = ni != NULL ?
	    vpnr__v1_hash2(&sa->keys, mid, ni, ni_len, rest, rl, h) :
	    vpnr__v1_hash1(&sa->keys, mid, rest, rl, h);
	if (rc != VPNR_OK)
		return rc;
	memcpy(slot, h, pl);
	if ((rc = seal(sa, w, iv)) != VPNR_OK)
		return rc;
	return send_msg(sa, w, arm, now);
}

/*
 * An encrypted Informational exchange: one notify (notify != 0), or
 * deletes for the IPsec SA (child_spi, may be NULL) and the ISAKMP SA.
 */
static int
send_info(struct vpnr__v1_ike *sa, uint16_t notify, uint8_t proto,
    const uint8_t *spi, uint8_t spi_len, const uint8_t *data, size_t dlen,
    const uint8_t *child_spi, vpnr_tstamp now)
{
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN], mb[4];
	uint32_t mid;
	size_t hoff;
	int rc;

	if ((rc = rnd(sa, mb, 4)) != VPNR_OK)
		return rc;
	mid = vpnr__get_be32(mb);
	mid |= 1; /* never 0, Phase 1's */
	if ((rc = vpnr__v1_p2_iv(&sa->keys, sa->iv, mid, iv)) != VPNR_OK)
		return rc;
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_INFO, mid);
	vpnr__v1_add_hash_slot(&b, sa->keys.prf_len, &hoff);
	if (notify != 0)
		vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, proto, spi, spi_len,
		    notify, data, dlen);
	else {
		if (child_spi != NULL)
			vpnr__v1_add_delete(&b, VPNR__V1_DOI_IPSEC,
			    VPNR__V1_PROTO_ESP, 4, child_spi, 1);
		vpnr__v1_add_delete(&b, VPNR__V1_DOI_IPSEC, proto, spi_len, spi,
		    1);
	}
	rc = vpnr__v1_build_end(&b);
	if (rc == VPNR_OK)
		rc = finish_hashed(sa, &w, hoff, mid, NULL, 0, iv, SEND_ONCE,
		    now);
	vpnr__wbuf_free(&w);
	return rc;
}

static int
child_keys(struct vpnr__v1_ike *sa, const uint8_t *gxy, size_t gl,
    const uint8_t *spi_out)
{
	struct vpnr__v1_quick *q = &sa->qm;
	struct vpnr__v1_child *c = &sa->child;
	size_t kl = vpnr__v1_esp_keymat_len(&q->chosen.suite);
	int rc;

	if (kl == 0 || kl > sizeof(c->key_in))
		return VPNR_ERR_UNSUPPORTED;
	explicit_bzero(c, sizeof(*c));
	memcpy(c->spi_in, q->spi_in, 4);
	memcpy(c->spi_out, spi_out, 4);
	c->suite = q->chosen.suite;
	c->encap = q->chosen.encap;
	c->life = q->chosen.life;
	c->local_ts = q->conn.local_ts;
	c->remote_ts = q->conn.remote_ts;
	c->conn_id = q->conn.id;
	c->key_len = kl;
	/* Each direction keyed with the SPI its receiver chose. */
	rc = vpnr__v1_keymat(&sa->keys, gxy, gl, VPNR__V1_PROTO_ESP, c->spi_in,
	    4, q->ni, q->ni_len, q->nr, q->nr_len, c->key_in, kl);
	if (rc == VPNR_OK)
		rc = vpnr__v1_keymat(&sa->keys, gxy, gl, VPNR__V1_PROTO_ESP,
		    c->spi_out, 4, q->ni, q->ni_len, q->nr, q->nr_len,
		    c->key_out, kl);
	if (rc != VPNR_OK) {
		explicit_bzero(c, sizeof(*c));
		return rc;
	}
	sa->child_ready = 1;
	sa->child_gen++;
	return VPNR_OK;
}

/* Not inlined: gcc 12 with ASan otherwise takes the wipe of sa->qm for
 * a write past its first member (a -Wstringop-overflow false alarm). */
static __attribute__((noinline)) void
qm_reset(struct vpnr__v1_ike *sa)
{
	vpnr__v1_dh_free(sa->qm.dh);
	explicit_bzero(&sa->qm, sizeof(sa->qm));
}

static int
qm_fail(struct vpnr__v1_ike *sa, int err, const char *why)
{
	/* Quick Mode fails alone; the ISAKMP SA stays. */
	sa->error_conn = sa->qm.conn.id;
	qm_reset(sa);
	sa->error = err;
	sa->why = why;
	sa->rtx_armed = 0;
	return err;
}

/* Add IDci/IDcr for the configured selectors (from our side's view). */
static int
add_qm_ids(struct vpnr__v1_builder *b, const vpnr_ts *ci, const vpnr_ts *cr)
{
	uint8_t d[32], type, proto;
	uint16_t port;
	size_t len;
	int rc;

	if ((rc = vpnr__v1_ts_to_id(ci, &type, &proto, &port, d, sizeof(d),
		 &len)) != VPNR_OK)
		return rc;
	vpnr__v1_add_id(b, type, proto, port, d, len);
	if ((rc = vpnr__v1_ts_to_id(cr, &type, &proto, &port, d, sizeof(d),
		 &len)) != VPNR_OK)
		return rc;
	vpnr__v1_add_id(b, type, proto, port, d, len);
	return VPNR_OK;
}

static int
ts_eq(const vpnr_ts *a, const vpnr_ts *b)
{
	return a->ip_proto == b->ip_proto && a->port_start == b->port_start &&
	    a->port_end == b->port_end &&
	    a->addr_start.family == b->addr_start.family &&
	    memcmp(a->addr_start.bytes, b->addr_start.bytes, 16) == 0 &&
	    memcmp(a->addr_end.bytes, b->addr_end.bytes, 16) == 0;
}

/*
 * IDci must be the initiator's selector, IDcr the responder's.  A
 * responder whose own connection's selectors differ asks qm_select
 * for the connection they belong to (it sets sa->qm.conn).
 */
static int
qm_ids_ok(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m)
{
	const struct vpnr__v1_conn *c = &sa->qm.conn;
	vpnr_ts ci, cr;

	if (m->n_id == 0)
		return 1; /* the ISAKMP peers themselves: not ours to accept */
	if (m->n_id != 2 || vpnr__v1_id_to_ts(&m->id[0], &ci) != VPNR_OK ||
	    vpnr__v1_id_to_ts(&m->id[1], &cr) != VPNR_OK)
		return 0;
	if (sa->qm.initiator)
		return ts_eq(&ci, &c->local_ts) && ts_eq(&cr, &c->remote_ts);
	if (ts_eq(&ci, &c->remote_ts) && ts_eq(&cr, &c->local_ts))
		return 1;
	return sa->cfg->qm_select != NULL &&
	    sa->cfg->qm_select(sa->cfg->qm_arg, &ci, &cr, &sa->qm.conn) &&
	    sa->qm.conn.n_esp > 0;
}

static int
new_spi(struct vpnr__v1_ike *sa, uint8_t *spi)
{
	int rc;

	/* SPIs 1..255 are reserved (RFC 4303 2.1). */
	do {
		if ((rc = rnd(sa, spi, 4)) != VPNR_OK)
			return rc;
	} while (spi[0] == 0 && spi[1] == 0 && spi[2] == 0);
	return VPNR_OK;
}

void
vpnr__v1_cfg_conn(const struct vpnr__v1_cfg *cfg, struct vpnr__v1_conn *conn)
{
	memset(conn, 0, sizeof(*conn));
	conn->esp = cfg->esp;
	conn->n_esp = cfg->n_esp;
	conn->local_ts = cfg->local_ts;
	conn->remote_ts = cfg->remote_ts;
	conn->p2_life = cfg->p2_life;
}

void
vpnr__v1_ike_quick_abort(struct vpnr__v1_ike *sa)
{
	if (sa->qm.state == V1Q_NONE)
		return;
	qm_reset(sa);
	sa->rtx_armed = 0;
}

int
vpnr__v1_ike_quick(struct vpnr__v1_ike *sa, vpnr_tstamp now)
{
	struct vpnr__v1_conn own;

	vpnr__v1_cfg_conn(sa->cfg, &own);
	return vpnr__v1_ike_quick_conn(sa, &own, now);
}

int
vpnr__v1_ike_quick_conn(struct vpnr__v1_ike *sa,
    const struct vpnr__v1_conn *conn, vpnr_tstamp now)
{
	struct vpnr__v1_quick *q = &sa->qm;
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_sa *sapl;
	uint8_t mb[4];
	uint16_t pfs;
	size_t hoff;
	int rc;

	if (sa->state != V1S_P1_DONE || q->state == V1Q_SENT1 ||
	    q->state == V1Q_SENT2)
		return VPNR_ERR_INVALID_STATE;
	if (conn->n_esp == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	qm_reset(sa);
	q->initiator = 1;
	q->conn = *conn;
	sa->qm_abandoned = 0;
	sa->error = 0;
	sa->why = NULL;
	if ((rc = rnd(sa, mb, 4)) != VPNR_OK ||
	    (rc = new_spi(sa, q->spi_in)) != VPNR_OK ||
	    (rc = rnd(sa, q->ni, 32)) != VPNR_OK)
		return qm_fail(sa, rc, "no random bytes");
	q->ni_len = 32;
	q->mid = vpnr__get_be32(mb) | 1;
	pfs = q->conn.esp[0].n_dh > 0 ? q->conn.esp[0].dh[0] : 0;
	if (pfs != 0 && (rc = vpnr__v1_dh_new(pfs, &q->dh)) != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: no PFS key pair");
	if ((sapl = vpnr__calloc(sa->cfg->mem, 1, sizeof(*sapl))) == NULL)
		return qm_fail(sa, VPNR_ERR_NOMEM, "out of memory");
	rc = vpnr__v1_p2_to_sa(sapl, q->conn.esp, q->conn.n_esp, q->spi_in,
	    want_encap(sa), &q->conn.p2_life);
	if (rc == VPNR_OK)
		rc = vpnr__v1_p2_iv(&sa->keys, sa->iv, q->mid, q->iv);
	hdr_init(sa, &h, VPNR__V1_EXCH_QUICK, q->mid);
	if (sa->cfg->commit)
		h.flags |= VPNR__V1_F_COMMIT;
	vpnr__wbuf_init(&w, sa->cfg->mem, MAX_MSG);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_hash_slot(&b, sa->keys.prf_len, &hoff);
	vpnr__v1_add_sa(&b, sapl);
	vpnr__v1_add_nonce(&b, q->ni, q->ni_len);
	if (rc == VPNR_OK && q->dh != NULL)
		rc = add_ke(&b, q->dh, NULL);
	if (rc == VPNR_OK)
		rc = add_qm_ids(&b, &q->conn.local_ts, &q->conn.remote_ts);
	if (rc == VPNR_OK)
		rc = vpnr__v1_build_end(&b);
	if (rc == VPNR_OK)
		rc =
		    finish_hashed(sa, &w, hoff, q->mid, NULL, 0, q->iv, 1, now);
	vpnr__wbuf_free(&w);
	vpnr__free(sa->cfg->mem, sapl);
	if (rc != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: cannot build message 1");
	q->state = V1Q_SENT1;
	return VPNR_OK;
}

/* PFS: the peer's KE for our group, and g(qm)^xy. */
static int
qm_dh(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m, uint8_t *gxy,
    size_t cap, size_t *gl)
{
	*gl = 0;
	if (sa->qm.chosen.suite.dh == 0)
		return m->has_ke ? VPNR_ERR_MALFORMED : VPNR_OK;
	if (!m->has_ke || sa->qm.dh == NULL)
		return VPNR_ERR_MALFORMED;
	return vpnr__v1_dh_derive(sa->qm.dh, m->ke, m->ke_len, gxy, cap, gl);
}

/* N(RESPONDER-LIFETIME) for the chosen ESP SA (RFC 2407 4.6.3.1). */
static int
add_lifetime(struct vpnr__v1_ike *sa, struct vpnr__v1_builder *b)
{
	struct vpnr__v1_transform t;
	struct vpnr__wbuf w;
	uint8_t d[16];
	int rc;

	memset(&t, 0, sizeof(t));
	vpnr__wbuf_init_fixed(&w, d, sizeof(d));
	if ((rc = vpnr__v1_attr_tv(&t, VPNR__V1_QA_LIFE_TYPE,
		 VPNR__V1_LIFE_SECONDS)) != VPNR_OK ||
	    (rc = vpnr__v1_attr_num(&t, VPNR__V1_QA_LIFE_DURATION,
		 sa->qm.chosen.life.seconds)) != VPNR_OK ||
	    (rc = vpnr__v1_attrs_put(&w, &t)) != VPNR_OK)
		return rc;
	vpnr__v1_add_notify(b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ESP,
	    sa->qm.spi_in, 4, VPNR__V1_N_RESPONDER_LIFETIME, d,
	    vpnr__wbuf_len(&w));
	return VPNR_OK;
}

/* I: a RESPONDER-LIFETIME lower than what we proposed is taken. */
static void
take_lifetime(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m)
{
	const struct vpnr__v1_notify *n;
	struct vpnr__v1_transform t;
	uint64_t v, type = 0;
	uint8_t i;

	if ((n = vpnr__v1_find_notify(m, VPNR__V1_N_RESPONDER_LIFETIME)) ==
		NULL ||
	    n->protocol != VPNR__V1_PROTO_ESP ||
	    vpnr__v1_attrs_parse(n->data, n->data_len, &t) != VPNR_OK)
		return;
	for (i = 0; i < t.n_attr; i++) {
		if (vpnr__v1_attr_value(&t.attr[i], &v) != VPNR_OK)
			return;
		if (t.attr[i].type == VPNR__V1_QA_LIFE_TYPE)
			type = v;
		else if (t.attr[i].type == VPNR__V1_QA_LIFE_DURATION &&
		    type == VPNR__V1_LIFE_SECONDS && v > 0 && v <= UINT32_MAX &&
		    (sa->qm.chosen.life.seconds == 0 ||
			v < sa->qm.chosen.life.seconds))
			sa->qm.chosen.life.seconds = (uint32_t)v;
		else if (t.attr[i].type == VPNR__V1_QA_LIFE_DURATION &&
		    type == VPNR__V1_LIFE_KB && v > 0 &&
		    (sa->qm.chosen.life.kbytes == 0 ||
			v < sa->qm.chosen.life.kbytes))
			sa->qm.chosen.life.kbytes = v;
	}
}

/* R: QM1 -> QM2 */
static int
r_qm1(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	struct vpnr__v1_quick *q = &sa->qm;
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	struct vpnr__v1_sa *echo;
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN], next[VPNR__V1_MAX_BLOCK_LEN];
	uint8_t gxy[VPNR__V1_MAX_KE_LEN];
	uint32_t mid = m->hdr.msg_id;
	size_t hoff, gl;
	uint8_t i;
	int rc, lower;

	if (vpnr__v1_p2_iv(&sa->keys, sa->iv, mid, iv) != VPNR_OK ||
	    open_msg(sa, data, len, iv, next, scratch, m) != VPNR_OK)
		return VPNR_ERR_MALFORMED;
	if (!m->hash_first || !m->has_sa || !m->has_nonce ||
	    !hash1_ok(sa, mid, m))
		return VPNR_ERR_MALFORMED; /* forged or garbled: dropped */
	if (q->state == V1Q_SENT1)
		sa->qm_abandoned = 1;
	qm_reset(sa);
	q->mid = mid;
	/* The IDs pick the connection, whose proposals then apply. */
	vpnr__v1_cfg_conn(sa->cfg, &q->conn);
	if (!qm_ids_ok(sa, m)) {
		(void)send_info(sa, VPNR__V1_N_INVALID_ID_INFORMATION,
		    VPNR__V1_PROTO_ESP, NULL, 0, NULL, 0, NULL, now);
		return qm_fail(sa, VPNR_ERR_TS_UNACCEPTABLE,
		    "Quick Mode: the initiator's IDs are not our selectors");
	}
	if (vpnr__v1_p2_select(q->conn.esp, q->conn.n_esp, &m->sa,
		want_encap(sa), &q->chosen) != VPNR_OK) {
		(void)send_info(sa, VPNR__V1_N_NO_PROPOSAL_CHOSEN,
		    VPNR__V1_PROTO_ESP, NULL, 0, NULL, 0, NULL, now);
		return qm_fail(sa, VPNR_ERR_NO_PROPOSAL,
		    "Quick Mode: no acceptable proposal from the initiator");
	}
	q->ni_len = m->nonce_len;
	memcpy(q->ni, m->nonce, m->nonce_len);
	q->nr_len = 32;
	if ((rc = new_spi(sa, q->spi_in)) != VPNR_OK ||
	    (rc = rnd(sa, q->nr, q->nr_len)) != VPNR_OK ||
	    (q->chosen.suite.dh != 0 &&
		(rc = vpnr__v1_dh_new(q->chosen.suite.dh, &q->dh)) != VPNR_OK))
		return qm_fail(sa, rc, "Quick Mode: no key pair or nonce");
	if ((rc = qm_dh(sa, m, gxy, sizeof(gxy), &gl)) != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: bad or missing KE");
	memcpy(q->gxy, gxy, gl);
	q->gxy_len = gl;
	explicit_bzero(gxy, sizeof(gxy));
	memcpy(q->spi_out, q->chosen.spi, 4);
	/* A longer life than ours: ours, said with RESPONDER-LIFETIME. */
	lower = q->conn.p2_life.seconds != 0 &&
	    (q->chosen.life.seconds == 0 ||
		q->chosen.life.seconds > q->conn.p2_life.seconds);
	if (lower)
		q->chosen.life.seconds = q->conn.p2_life.seconds;
	if ((echo = vpnr__calloc(sa->cfg->mem, 1, sizeof(*echo))) == NULL)
		return qm_fail(sa, VPNR_ERR_NOMEM, "out of memory");
	rc = vpnr__v1_sa_echo(echo, &m->sa, q->chosen.p_idx, q->chosen.t_idx,
	    q->spi_in, 4);
	memcpy(q->iv, next, sa->keys.block_len);
	hdr_init(sa, &h, VPNR__V1_EXCH_QUICK, mid);
	/* Echo the commit bit: we send CONNECTED after QM3. */
	q->commit = (m->hdr.flags & VPNR__V1_F_COMMIT) != 0;
	if (q->commit)
		h.flags |= VPNR__V1_F_COMMIT;
	vpnr__wbuf_init(&w, sa->cfg->mem, MAX_MSG);
	vpnr__v1_build_begin(&b, &w, &h);
	vpnr__v1_add_hash_slot(&b, sa->keys.prf_len, &hoff);
	vpnr__v1_add_sa(&b, echo);
	vpnr__v1_add_nonce(&b, q->nr, q->nr_len);
	if (rc == VPNR_OK && q->dh != NULL)
		rc = add_ke(&b, q->dh, NULL);
	for (i = 0; i < m->n_id; i++)
		vpnr__v1_add_id(&b, m->id[i].type, m->id[i].proto,
		    m->id[i].port, m->id[i].data, m->id[i].len);
	if (rc == VPNR_OK && lower)
		rc = add_lifetime(sa, &b);
	if (rc == VPNR_OK)
		rc = vpnr__v1_build_end(&b);
	if (rc == VPNR_OK)
		rc = finish_hashed(sa, &w, hoff, mid, q->ni, q->ni_len, q->iv,
		    1, now);
	vpnr__wbuf_free(&w);
	vpnr__free(sa->cfg->mem, echo);
	if (rc != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: cannot build message 2");
	q->state = V1Q_SENT2;
	return VPNR_OK;
}

/* I: QM2 -> QM3, CHILD_SA ready */
static int
i_qm2(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	struct vpnr__v1_quick *q = &sa->qm;
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t next[VPNR__V1_MAX_BLOCK_LEN], hash[VPNR__V1_MAX_HASH_LEN];
	uint8_t gxy[VPNR__V1_MAX_KE_LEN];
	size_t gl = 0;
	int rc, commit;

	if (open_msg(sa, data, len, q->iv, next, scratch, m) != VPNR_OK)
		return VPNR_ERR_MALFORMED;
	if (!m->hash_first || !m->has_sa || !m->has_nonce ||
	    vpnr__v1_hash2(&sa->keys, q->mid, q->ni, q->ni_len, m->after_hash,
		m->after_hash_len, hash) != VPNR_OK ||
	    vpnr__v1_hash_verify(hash, sa->keys.prf_len, m->hash,
		m->hash_len) != VPNR_OK)
		return VPNR_ERR_MALFORMED;
	if (vpnr__v1_p2_accept(q->conn.esp, q->conn.n_esp, &m->sa,
		want_encap(sa), &q->chosen) != VPNR_OK ||
	    (q->dh != NULL) != (q->chosen.suite.dh != 0) ||
	    (q->dh != NULL && vpnr__v1_dh_group(q->dh) != q->chosen.suite.dh))
		return qm_fail(sa, VPNR_ERR_NO_PROPOSAL,
		    "Quick Mode: the responder chose a proposal we did not "
		    "offer");
	if (m->n_id != 2 || !qm_ids_ok(sa, m))
		return qm_fail(sa, VPNR_ERR_TS_UNACCEPTABLE,
		    "Quick Mode: the responder changed the IDs");
	take_lifetime(sa, m);
	q->nr_len = m->nonce_len;
	memcpy(q->nr, m->nonce, m->nonce_len);
	memcpy(q->iv, next, sa->keys.block_len);
	if ((rc = qm_dh(sa, m, gxy, sizeof(gxy), &gl)) != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: bad or missing KE");
	if ((rc = vpnr__v1_hash3(&sa->keys, q->mid, q->ni, q->ni_len, q->nr,
		 q->nr_len, hash)) != VPNR_OK)
		goto out;
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_QUICK, q->mid);
	vpnr__v1_add_hash(&b, hash, sa->keys.prf_len);
	/* With the commit bit, QM3 is retransmitted until CONNECTED. */
	commit = (m->hdr.flags & VPNR__V1_F_COMMIT) != 0;
	rc = end_send(sa, &b, &w, VPNR_OK, q->iv, commit, now);
	if (rc == VPNR_OK)
		rc = child_keys(sa, gl ? gxy : NULL, gl, q->chosen.spi);
out:
	explicit_bzero(gxy, sizeof(gxy));
	if (rc != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: cannot finish");
	if (commit) {
		/* Keys ready, but not to be used before CONNECTED. */
		sa->child_ready = 0;
		sa->child_gen--;
		q->state = V1Q_WAIT_CONNECTED;
		return VPNR_OK;
	}
	q->state = V1Q_DONE;
	return VPNR_OK;
}

/* R: QM3, CHILD_SA ready */
static int
r_qm3(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	struct vpnr__v1_quick *q = &sa->qm;
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	uint8_t next[VPNR__V1_MAX_BLOCK_LEN], hash[VPNR__V1_MAX_HASH_LEN];
	size_t hoff;
	int rc;

	if (open_msg(sa, data, len, q->iv, next, scratch, m) != VPNR_OK ||
	    !m->has_hash ||
	    vpnr__v1_hash3(&sa->keys, q->mid, q->ni, q->ni_len, q->nr,
		q->nr_len, hash) != VPNR_OK ||
	    vpnr__v1_hash_verify(hash, sa->keys.prf_len, m->hash,
		m->hash_len) != VPNR_OK)
		return VPNR_ERR_MALFORMED;
	rc = child_keys(sa, q->gxy_len ? q->gxy : NULL, q->gxy_len, q->spi_out);
	explicit_bzero(q->gxy, sizeof(q->gxy));
	if (rc != VPNR_OK)
		return qm_fail(sa, rc, "Quick Mode: cannot derive keys");
	memcpy(q->iv, next, sa->keys.block_len);
	q->state = V1Q_DONE;
	sa->rtx_armed = 0;
	if (!q->commit)
		return VPNR_OK;
	/* RFC 2409 5.5: HDR*, HASH(4), N(CONNECTED) with the same M-ID,
	 * HASH(4) = prf(SKEYID_a, M-ID | N). */
	begin_msg(sa, &b, &w, &h, VPNR__V1_EXCH_QUICK, q->mid);
	vpnr__v1_add_hash_slot(&b, sa->keys.prf_len, &hoff);
	vpnr__v1_add_notify(&b, VPNR__V1_DOI_IPSEC, VPNR__V1_PROTO_ESP,
	    q->spi_in, 4, VPNR__V1_N_CONNECTED, NULL, 0);
	rc = vpnr__v1_build_end(&b);
	if (rc == VPNR_OK)
		rc =
		    finish_hashed(sa, &w, hoff, q->mid, NULL, 0, q->iv, 0, now);
	vpnr__wbuf_free(&w);
	return rc;
}

/* I: CONNECTED after the commit bit: the CHILD_SA may be used now. */
static int
i_qm_connected(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch)
{
	struct vpnr__v1_quick *q = &sa->qm;
	uint8_t next[VPNR__V1_MAX_BLOCK_LEN];

	if (open_msg(sa, data, len, q->iv, next, scratch, m) != VPNR_OK ||
	    !m->hash_first || !hash1_ok(sa, q->mid, m) ||
	    vpnr__v1_find_notify(m, VPNR__V1_N_CONNECTED) == NULL)
		return VPNR_ERR_MALFORMED;
	q->state = V1Q_DONE;
	sa->child_ready = 1;
	sa->child_gen++;
	sa->rtx_armed = 0;
	return VPNR_OK;
}

/* Encrypted Informational: DPD, deletes, Quick Mode errors. */
static int
info_in(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN];
	const struct vpnr__v1_notify *n;
	uint8_t i, ck[16], seq[4];
	uint32_t s;
	int isakmp = 0;

	if (vpnr__v1_p2_iv(&sa->keys, sa->iv, m->hdr.msg_id, iv) != VPNR_OK ||
	    open_msg(sa, data, len, iv, NULL, scratch, m) != VPNR_OK ||
	    !m->hash_first || !hash1_ok(sa, m->hdr.msg_id, m))
		return VPNR_ERR_MALFORMED;
	memcpy(ck, sa->cky_i, 8);
	memcpy(ck + 8, sa->cky_r, 8);
	if ((n = vpnr__v1_find_notify(m, VPNR__V1_N_DPD_R_U_THERE)) != NULL &&
	    vpnr__v1_dpd_seq(n, &s) == VPNR_OK && memcmp(n->spi, ck, 16) == 0) {
		vpnr__put_be32(seq, s);
		return send_info(sa, VPNR__V1_N_DPD_R_U_THERE_ACK,
		    VPNR__V1_PROTO_ISAKMP, ck, 16, seq, 4, NULL, now);
	}
	if ((n = vpnr__v1_find_notify(m, VPNR__V1_N_DPD_R_U_THERE_ACK)) !=
		NULL &&
	    vpnr__v1_dpd_seq(n, &s) == VPNR_OK && s == sa->dpd_seq) {
		sa->dpd_acked = s;
		return VPNR_OK;
	}
	if (sa->qm.state == V1Q_SENT1 &&
	    ((n = vpnr__v1_find_notify(m, VPNR__V1_N_NO_PROPOSAL_CHOSEN)) !=
		    NULL ||
		(n = vpnr__v1_find_notify(m,
		     VPNR__V1_N_INVALID_ID_INFORMATION)) != NULL))
		return qm_fail(sa,
		    n->type == VPNR__V1_N_NO_PROPOSAL_CHOSEN ?
			VPNR_ERR_NO_PROPOSAL :
			VPNR_ERR_TS_UNACCEPTABLE,
		    n->type == VPNR__V1_N_NO_PROPOSAL_CHOSEN ?
			"Quick Mode: the responder chose no proposal" :
			"Quick Mode: the responder refused our IDs");
	for (i = 0; i < m->n_delete; i++) {
		if (m->del[i].protocol == VPNR__V1_PROTO_ISAKMP &&
		    m->del[i].spi_len == 16 &&
		    memcmp(m->del[i].spis, ck, 16) == 0)
			isakmp = 1;
		if (m->del[i].protocol == VPNR__V1_PROTO_ESP &&
		    m->del[i].spi_len == 4) {
			/* The caller removes the pair with this outbound SPI;
			 * our newest one may be another after a rekey. */
			memcpy(sa->del_spi, m->del[i].spis, 4);
			sa->child_deleted = 1;
			if (sa->child_ready &&
			    memcmp(m->del[i].spis, sa->child.spi_out, 4) == 0)
				sa->child_ready = 0;
		}
	}
	/* IPsec SAs first: they go with the ISAKMP SA anyway. */
	if (isakmp)
		return fail(sa, VPNR_ERR_PEER_CLOSED,
		    "the peer deleted the ISAKMP SA");
	return VPNR_OK;
}

int
vpnr__v1_ike_dpd(struct vpnr__v1_ike *sa, vpnr_tstamp now)
{
	uint8_t ck[16], seq[4];

	if (sa->state != V1S_P1_DONE)
		return VPNR_ERR_INVALID_STATE;
	memcpy(ck, sa->cky_i, 8);
	memcpy(ck + 8, sa->cky_r, 8);
	vpnr__put_be32(seq, ++sa->dpd_seq);
	return send_info(sa, VPNR__V1_N_DPD_R_U_THERE, VPNR__V1_PROTO_ISAKMP,
	    ck, 16, seq, 4, NULL, now);
}

int
vpnr__v1_ike_delete_child(struct vpnr__v1_ike *sa, const uint8_t *spi_in,
    vpnr_tstamp now)
{
	if (sa->state != V1S_P1_DONE || spi_in == NULL)
		return VPNR_ERR_INVALID_STATE;
	return send_info(sa, 0, VPNR__V1_PROTO_ESP, spi_in, 4, NULL, 0, NULL,
	    now);
}

int
vpnr__v1_ike_delete(struct vpnr__v1_ike *sa, vpnr_tstamp now)
{
	uint8_t ck[16];
	int rc;

	if (sa->state != V1S_P1_DONE)
		return VPNR_ERR_INVALID_STATE;
	/* One message: the IPsec SA (our inbound SPI), the ISAKMP SA. */
	memcpy(ck, sa->cky_i, 8);
	memcpy(ck + 8, sa->cky_r, 8);
	rc = send_info(sa, 0, VPNR__V1_PROTO_ISAKMP, ck, 16, NULL, 0,
	    sa->child_ready ? sa->child.spi_in : NULL, now);
	sa->child_ready = 0;
	fail(sa, VPNR_ERR_PEER_CLOSED, "deleted by us");
	return rc;
}

/* ---- Dispatch ------------------------------------------------------- */

/*
 * An encrypted notify while Phase 1 authenticates (I after MM5, R
 * after AM2).  strongSwan answers a HASH or message it cannot verify
 * this way, with its own keys: if ours do not open it, the keys
 * differ, which with matching DH means the pre-shared keys do.  (Only
 * a peer that sees our cookies can send this.)
 */
/*
 * Do our keys open data past its first block, to show our cookies (the
 * SPI of an ISAKMP notify or delete)?  CBC under a wrong IV garbles the
 * first block only.  Then the keys agree and the IV does not: the peer
 * finished Phase 1 and already talks on the IV chain after its last
 * message, which we lost (a responder's R-U-THERE before our MM6
 * arrived, say).  Our retransmission brings that message back.
 */
static int
keys_agree(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    uint8_t *scratch)
{
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN] = { 0 }, ck[16];
	size_t olen, i,
	    from = VPNR__V1_HDR_LEN + vpnr__v1_cipher_block_len(sa->keys.enc);

	if (vpnr__v1_decrypt(data, len, sa->keys.enc, sa->keys.enc_key,
		sa->keys.enc_len, iv, scratch, len, &olen, NULL,
		&sa->last_perr) != VPNR_OK)
		return 0;
	memcpy(ck, sa->cky_i, 8);
	memcpy(ck + 8, sa->cky_r, 8);
	for (i = from; i + sizeof(ck) <= olen; i++)
		if (memcmp(scratch + i, ck, sizeof(ck)) == 0)
			return 1;
	return 0;
}

static int
p1_info(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch)
{
	uint8_t iv[VPNR__V1_MAX_BLOCK_LEN];
	uint32_t mid = m->hdr.msg_id;

	if (vpnr__v1_p2_iv(&sa->keys, sa->iv, mid, iv) != VPNR_OK ||
	    open_msg(sa, data, len, iv, NULL, scratch, m) != VPNR_OK ||
	    !m->hash_first || !hash1_ok(sa, mid, m)) {
		if (keys_agree(sa, data, len, scratch)) {
			sa->n_dropped++;
			return VPNR_OK;
		}
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Phase 1: the peer's notify does not decrypt (pre-shared "
		    "key mismatch?)");
	}
	if (m->n_notify > 0 &&
	    m->notify[0].type == VPNR__V1_N_AUTHENTICATION_FAILED)
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Phase 1: the peer refused our authentication");
	if (m->n_notify > 0 && m->notify[0].type < 16384)
		return fail(sa, VPNR_ERR_PEER_ERROR,
		    "Phase 1: the peer sent an error notify");
	sa->n_dropped++;
	return VPNR_OK;
}

/* A clear notify from the responder, in the state that expects it. */
static int
clear_info(struct vpnr__v1_ike *sa, const struct vpnr__v1_msg *m)
{
	const struct vpnr__v1_notify *n;

	if (!sa->initiator) {
		if (sa->state == V1S_AM_SENT2 &&
		    vpnr__v1_find_notify(m, VPNR__V1_N_AUTHENTICATION_FAILED) !=
			NULL)
			return fail(sa, VPNR_ERR_AUTH_FAILED,
			    "Aggressive Mode: the initiator refused our "
			    "authentication (pre-shared key mismatch?)");
		sa->n_dropped++;
		return VPNR_OK;
	}
	if ((sa->state == V1S_MM_SENT1 || sa->state == V1S_AM_SENT1) &&
	    vpnr__v1_find_notify(m, VPNR__V1_N_NO_PROPOSAL_CHOSEN) != NULL)
		return fail(sa, VPNR_ERR_NO_PROPOSAL,
		    sa->state == V1S_AM_SENT1 ?
			"Aggressive Mode: the responder chose no proposal" :
			"Main Mode: the responder chose no proposal");
	if (sa->state == V1S_MM_SENT5 &&
	    ((n = vpnr__v1_find_notify(m, VPNR__V1_N_AUTHENTICATION_FAILED)) !=
		    NULL ||
		(n = vpnr__v1_find_notify(m,
		     VPNR__V1_N_INVALID_ID_INFORMATION)) != NULL ||
		(n = vpnr__v1_find_notify(m, VPNR__V1_N_INVALID_HASH_INFO)) !=
		    NULL))
		return fail(sa, VPNR_ERR_AUTH_FAILED,
		    "Main Mode: the responder refused our authentication "
		    "(pre-shared key mismatch?)");
	sa->n_dropped++;
	return VPNR_OK;
}

static int
dispatch(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    struct vpnr__v1_msg *m, uint8_t *scratch, vpnr_tstamp now)
{
	int enc = m->encrypted, st = sa->state;

	switch (m->hdr.exchange) {
	case VPNR__V1_EXCH_MAIN:
		if (sa->initiator) {
			if (st == V1S_MM_SENT1 && !enc)
				return i_mm2(sa, m, now);
			if (st == V1S_MM_SENT3 && !enc)
				return i_mm4(sa, m, now);
			if (st == V1S_MM_SENT5 && enc)
				return i_mm6(sa, data, len, m, scratch);
		} else {
			if (st == V1S_MM_WAIT1 && !enc)
				return r_mm1(sa, m, now);
			if (st == V1S_MM_SENT2 && !enc)
				return r_mm3(sa, m, now);
			if (st == V1S_MM_SENT4 && enc)
				return r_mm5(sa, data, len, m, scratch, now);
		}
		break;
	case VPNR__V1_EXCH_AGGRESSIVE:
		if (sa->initiator && st == V1S_AM_SENT1 && !enc)
			return i_am2(sa, m, now);
		if (!sa->initiator && st == V1S_MM_WAIT1 && !enc)
			return r_am1(sa, m, now);
		if (!sa->initiator && st == V1S_AM_SENT2)
			return r_am3(sa, data, len, m, scratch);
		break;
	case VPNR__V1_EXCH_QUICK:
		if (st != V1S_P1_DONE || !enc || m->hdr.msg_id == 0)
			break;
		if (m->hdr.msg_id == sa->qm.mid) {
			if (sa->qm.state == V1Q_SENT1)
				return i_qm2(sa, data, len, m, scratch, now);
			if (sa->qm.state == V1Q_SENT2)
				return r_qm3(sa, data, len, m, scratch, now);
			if (sa->qm.state == V1Q_WAIT_CONNECTED)
				return i_qm_connected(sa, data, len, m,
				    scratch);
			break;
		}
		/* Both started one: the Phase 1 initiator's goes on. */
		if (sa->qm.state == V1Q_SENT1 && sa->initiator)
			break;
		return r_qm1(sa, data, len, m, scratch, now);
	case VPNR__V1_EXCH_INFO:
		if (!enc)
			return clear_info(sa, m);
		if ((st == V1S_MM_SENT5 && sa->initiator) ||
		    (st == V1S_AM_SENT2 && !sa->initiator))
			return p1_info(sa, data, len, m, scratch);
		if (st == V1S_P1_DONE && m->hdr.msg_id != 0)
			return info_in(sa, data, len, m, scratch, now);
		break;
	}
	sa->n_dropped++;
	return VPNR_OK;
}

int
vpnr__v1_ike_input(struct vpnr__v1_ike *sa, const uint8_t *data, size_t len,
    vpnr_tstamp now)
{
	static const uint8_t zero[8];
	struct vpnr__v1_msg *m = NULL;
	struct vpnr__iov iov = { data, len };
	uint8_t h[20], *scratch = NULL;
	uint64_t sent, dropped;
	int rc;

	if (sa->state == V1S_FAILED) {
		sa->n_dropped++;
		return VPNR_OK;
	}
	if ((m = vpnr__malloc(sa->cfg->mem, sizeof(*m))) == NULL ||
	    (scratch = vpnr__malloc(sa->cfg->mem, len ? len : 1)) == NULL) {
		rc = VPNR_ERR_NOMEM;
		goto done;
	}
	if (vpnr__v1_parse(m, data, len, 0, &sa->last_perr) != VPNR_OK) {
		sa->n_malformed++;
		rc = VPNR_ERR_MALFORMED;
		goto done;
	}
	/* A repeat of what we last acted on (its cookies were checked). */
	rc = VPNR_OK;
	if (vpnr__v1_hash(VPNR__V1_HASH_SHA1, &iov, 1, h) != VPNR_OK) {
		rc = VPNR_ERR_CRYPTO;
		goto done;
	}
	if (sa->have_last_in && memcmp(h, sa->last_in, 20) == 0) {
		/* A retransmitted request: our answer again, if any. */
		sa->n_dup++;
		if (sa->last_in_answered)
			rc = resend(sa, sa->reply, sa->reply_len);
		goto done;
	}
	/* Cookies: ours, and the responder's once we know it. */
	rc = VPNR_OK;
	if (sa->state == V1S_MM_WAIT1 ?
		memcmp(m->hdr.cky_r, zero, 8) != 0 :
		(memcmp(m->hdr.cky_i, sa->cky_i, 8) != 0 ||
		    (sa->state != V1S_MM_SENT1 && sa->state != V1S_AM_SENT1 &&
			memcmp(m->hdr.cky_r, sa->cky_r, 8) != 0))) {
		sa->n_dropped++;
		goto done;
	}
	sent = sa->n_sent;
	dropped = sa->n_dropped;
	rc = dispatch(sa, data, len, m, scratch, now);
	if (rc == VPNR_ERR_MALFORMED)
		sa->n_malformed++;
	else if (sa->n_dropped == dropped) {
		/* Only what we acted on: a stray must not hide a repeat. */
		memcpy(sa->last_in, h, 20);
		sa->have_last_in = 1;
		sa->last_in_answered = sa->n_sent != sent;
		vpnr__free(sa->cfg->mem, sa->reply);
		sa->reply = NULL;
		sa->reply_len = 0;
		if (sa->last_in_answered &&
		    (sa->reply = vpnr__memdup(sa->cfg->mem, sa->last_out,
			 sa->last_out_len)) != NULL)
			sa->reply_len = sa->last_out_len;
	}
done:
	vpnr__free(sa->cfg->mem, m);
	if (scratch != NULL) {
		explicit_bzero(scratch, len ? len : 1);
		vpnr__free(sa->cfg->mem, scratch);
	}
	return rc;
}
