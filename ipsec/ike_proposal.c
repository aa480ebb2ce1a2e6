/*
 * Proposals (RFC 7296 2.7, 3.3): strongSwan-style strings, SA payload
 * conversion, responder selection and initiator acceptance.
 *
 * String rules (as strongSwan's proposal parser):
 *  - tokens are separated by '-'; several tokens of one transform type
 *    are alternatives, in preference order;
 *  - IKE: without a "prf..." token the PRFs are derived from the
 *    integrity tokens; an IKE proposal without any PRF (e.g. a bare
 *    "aes256gcm16-ecp256") is rejected like strongSwan does ("a PRF
 *    algorithm is mandatory in IKE proposals"); a DH group is required;
 *  - AEAD (GCM) proposals drop integrity tokens (after deriving PRFs);
 *    AEAD and non-AEAD ciphers cannot be mixed in one proposal;
 *  - ESP: DH tokens are the PFS groups for CREATE_CHILD_SA; "esn" /
 *    "noesn" select extended sequence numbers (default noesn).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "ike_proposal.h"

enum tok_kind { TK_ENCR, TK_INTEG, TK_PRF, TK_DH, TK_ESN };

struct tok {
	const char *name;
	enum tok_kind kind;
	uint16_t id;
	uint16_t arg; /* ENCR: key bits; INTEG: implied PRF */
};

static const struct tok toks[] = {
	{ "aes128", TK_ENCR, VPNR_ENCR_AES_CBC, 128 },
	{ "aes192", TK_ENCR, VPNR_ENCR_AES_CBC, 192 },
	{ "aes256", TK_ENCR, VPNR_ENCR_AES_CBC, 256 },
	{ "aes128gcm16", TK_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm16", TK_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm16", TK_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "aes128gcm128", TK_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm128", TK_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm128", TK_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "aes128gcm", TK_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm", TK_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm", TK_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "sha1", TK_INTEG, VPNR_INTEG_HMAC_SHA1_96, VPNR__PRF_HMAC_SHA1 },
	{ "sha256", TK_INTEG, VPNR_INTEG_HMAC_SHA2_256_128,
	    VPNR__PRF_HMAC_SHA2_256 },
	{ "sha2_256", TK_INTEG, VPNR_INTEG_HMAC_SHA2_256_128,
	    VPNR__PRF_HMAC_SHA2_256 },
	{ "sha384", TK_INTEG, VPNR_INTEG_HMAC_SHA2_384_192,
	    VPNR__PRF_HMAC_SHA2_384 },
	{ "sha2_384", TK_INTEG, VPNR_INTEG_HMAC_SHA2_384_192,
	    VPNR__PRF_HMAC_SHA2_384 },
	{ "sha512", TK_INTEG, VPNR_INTEG_HMAC_SHA2_512_256,
	    VPNR__PRF_HMAC_SHA2_512 },
	{ "sha2_512", TK_INTEG, VPNR_INTEG_HMAC_SHA2_512_256,
	    VPNR__PRF_HMAC_SHA2_512 },
	{ "prfsha1", TK_PRF, VPNR__PRF_HMAC_SHA1, 0 },
	{ "prfsha256", TK_PRF, VPNR__PRF_HMAC_SHA2_256, 0 },
	{ "prfsha384", TK_PRF, VPNR__PRF_HMAC_SHA2_384, 0 },
	{ "prfsha512", TK_PRF, VPNR__PRF_HMAC_SHA2_512, 0 },
	{ "modp1024", TK_DH, VPNR__DH_MODP1024, 0 },
	{ "modp2048", TK_DH, VPNR__DH_MODP2048, 0 },
	{ "modp3072", TK_DH, VPNR__DH_MODP3072, 0 },
	{ "modp4096", TK_DH, VPNR__DH_MODP4096, 0 },
	{ "modp2048s256", TK_DH, VPNR__DH_MODP2048S256, 0 },
	{ "ecp256", TK_DH, VPNR__DH_ECP256, 0 },
	{ "ecp384", TK_DH, VPNR__DH_ECP384, 0 },
	{ "ecp521", TK_DH, VPNR__DH_ECP521, 0 },
	{ "x25519", TK_DH, VPNR__DH_X25519, 0 },
	{ "curve25519", TK_DH, VPNR__DH_X25519, 0 },
	{ "esn", TK_ESN, 1, 0 },
	{ "noesn", TK_ESN, 0, 0 },
};

#define PROP_STR_MAX 256

static int
is_aead(uint16_t encr)
{
	return encr == VPNR_ENCR_AES_GCM_16;
}

static void
seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, a, b);
}

/* Append v to list (n entries) unless present; -1 when full. */
static int
add_u16(uint16_t *list, uint8_t *n, uint16_t v)
{
	uint8_t i;

	for (i = 0; i < *n; i++)
		if (list[i] == v)
			return 0;
	if (*n >= VPNR__PROP_MAX_ALGS)
		return -1;
	list[(*n)++] = v;
	return 0;
}

static int
add_encr(struct vpnr__prop *p, uint16_t id, uint16_t bits)
{
	uint8_t i;

	for (i = 0; i < p->n_encr; i++)
		if (p->encr[i].id == id && p->encr[i].bits == bits)
			return 0;
	if (p->n_encr >= VPNR__PROP_MAX_ALGS)
		return -1;
	p->encr[p->n_encr].id = id;
	p->encr[p->n_encr].bits = bits;
	p->n_encr++;
	return 0;
}

int
vpnr__prop_parse(struct vpnr__prop *p, uint8_t protocol, const char *str,
    char *err, size_t errlen)
{
	char buf[PROP_STR_MAX], *s, *tok;
	const struct tok *t;
	uint16_t implied_prf[VPNR__PROP_MAX_ALGS];
	uint8_t n_implied = 0, i, aead = 0, classic = 0;
	size_t k, len = 0;
	int full = 0;

	memset(p, 0, sizeof(*p));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (protocol != VPNR__PROTO_IKE && protocol != VPNR__PROTO_ESP) {
		seterr(err, errlen, "bad protocol for proposal '%s'%s",
		    str ? str : "", "");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	/* A bounded copy without strlcpy (no libbsd at link time). */
	if (str == NULL || str[0] == '\0' ||
	    (len = strnlen(str, sizeof(buf))) >= sizeof(buf)) {
		seterr(err, errlen, "empty or too long proposal '%s'%s",
		    str ? str : "", "");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	memcpy(buf, str, len + 1);
	p->protocol = protocol;
	s = buf;
	while ((tok = strsep(&s, "-")) != NULL) {
		t = NULL;
		for (k = 0; k < sizeof(toks) / sizeof(toks[0]); k++)
			if (strcasecmp(tok, toks[k].name) == 0) {
				t = &toks[k];
				break;
			}
		if (t == NULL) {
			seterr(err, errlen,
			    "unknown algorithm '%s' in proposal '%s'", tok,
			    str);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
		switch (t->kind) {
		case TK_ENCR:
			if (is_aead(t->id))
				aead = 1;
			else
				classic = 1;
			full |= add_encr(p, t->id, t->arg);
			break;
		case TK_INTEG:
			full |= add_u16(p->integ, &p->n_integ, t->id);
			full |= add_u16(implied_prf, &n_implied, t->arg);
			break;
		case TK_PRF:
			if (protocol != VPNR__PROTO_IKE) {
				seterr(err, errlen,
				    "PRF '%s' not allowed in ESP proposal "
				    "'%s'",
				    tok, str);
				return VPNR_ERR_INVALID_ARGUMENT;
			}
			full |= add_u16(p->prf, &p->n_prf, t->id);
			break;
		case TK_DH:
			full |= add_u16(p->dh, &p->n_dh, t->id);
			break;
		case TK_ESN:
			if (protocol != VPNR__PROTO_ESP) {
				seterr(err, errlen,
				    "'%s' not allowed in IKE proposal '%s'",
				    tok, str);
				return VPNR_ERR_INVALID_ARGUMENT;
			}
			if (p->n_esn >= 2) /* duplicate token */
				break;
			if (p->n_esn == 0 || p->esn[0] != t->id)
				p->esn[p->n_esn++] = t->id;
			break;
		}
		if (full) {
			seterr(err, errlen,
			    "too many algorithms of one kind in proposal "
			    "'%s'%s",
			    str, "");
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	}
	if (p->n_encr == 0) {
		seterr(err, errlen,
		    "no encryption algorithm in proposal '%s'%s", str, "");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (aead && classic) {
		seterr(err, errlen,
		    "AEAD and non-AEAD ciphers mixed in proposal '%s'%s", str,
		    "");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (protocol == VPNR__PROTO_IKE && p->n_prf == 0)
		for (i = 0; i < n_implied; i++)
			add_u16(p->prf, &p->n_prf, implied_prf[i]);
	if (aead)
		p->n_integ = 0; /* RFC 5282: no integrity with AEAD */
	else if (p->n_integ == 0) {
		seterr(err, errlen, "no integrity algorithm in proposal '%s'%s",
		    str, "");
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (protocol == VPNR__PROTO_IKE) {
		if (p->n_prf == 0) {
			seterr(err, errlen,
			    "a PRF algorithm (e.g. prfsha256) is mandatory in "
			    "IKE proposal '%s'%s",
			    str, "");
			return VPNR_ERR_INVALID_ARGUMENT;
		}
		if (p->n_dh == 0) {
			seterr(err, errlen,
			    "a DH group is mandatory in IKE proposal '%s'%s",
			    str, "");
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	} else if (p->n_esn == 0) {
		p->esn[0] = 0;
		p->n_esn = 1;
	}
	return VPNR_OK;
}

/* ---- to SA payload ------------------------------------------------- */

static int
put_t(struct vpnr__ike_proposal *pp, uint8_t type, uint16_t id, uint16_t kl)
{
	if (pp->n_transforms >= VPNR__IKE_MAX_TRANSFORMS)
		return -1;
	pp->t[pp->n_transforms].type = type;
	pp->t[pp->n_transforms].id = id;
	pp->t[pp->n_transforms].key_len = kl;
	pp->n_transforms++;
	return 0;
}

static int
has_u16(const uint16_t *list, uint8_t n, uint16_t v)
{
	uint8_t i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

int
vpnr__prop_to_sa_ex(struct vpnr__ike_sa_pl *sa, const struct vpnr__prop *p,
    size_t n, const uint8_t *spi, uint8_t spi_len, uint16_t first_dh, int flags)
{
	struct vpnr__ike_proposal *pp;
	const struct vpnr__prop *q;
	size_t i;
	uint8_t j;
	int full = 0;

	memset(sa, 0, sizeof(*sa));
	if (n == 0 || n > VPNR__IKE_MAX_PROPOSALS ||
	    spi_len > VPNR__IKE_MAX_SPI || (spi_len > 0 && spi == NULL))
		return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < n; i++) {
		q = &p[i];
		pp = &sa->p[i];
		pp->num = (uint8_t)(i + 1);
		pp->protocol = q->protocol;
		pp->spi_len = spi_len;
		if (spi_len > 0)
			memcpy(pp->spi, spi, spi_len);
		for (j = 0; j < q->n_encr; j++)
			full |= put_t(pp, VPNR__TRANS_ENCR, q->encr[j].id,
			    q->encr[j].bits);
		if (q->protocol == VPNR__PROTO_IKE)
			for (j = 0; j < q->n_prf; j++)
				full |=
				    put_t(pp, VPNR__TRANS_PRF, q->prf[j], 0);
		for (j = 0; j < q->n_integ; j++)
			full |= put_t(pp, VPNR__TRANS_INTEG, q->integ[j], 0);
		if (!(flags & VPNR__PROP_NO_DH) ||
		    q->protocol == VPNR__PROTO_IKE) {
			if (first_dh != 0 && has_u16(q->dh, q->n_dh, first_dh))
				full |= put_t(pp, VPNR__TRANS_DH, first_dh, 0);
			for (j = 0; j < q->n_dh; j++)
				if (first_dh == 0 || q->dh[j] != first_dh)
					full |= put_t(pp, VPNR__TRANS_DH,
					    q->dh[j], 0);
		}
		if (q->protocol != VPNR__PROTO_IKE) {
			if (q->n_esn == 0)
				full |= put_t(pp, VPNR__TRANS_ESN, 0, 0);
			for (j = 0; j < q->n_esn && j < 2; j++)
				full |=
				    put_t(pp, VPNR__TRANS_ESN, q->esn[j], 0);
		}
		if (full || pp->n_transforms == 0)
			return VPNR_ERR_INVALID_ARGUMENT;
	}
	sa->n = (uint8_t)n;
	return VPNR_OK;
}

int
vpnr__prop_to_sa(struct vpnr__ike_sa_pl *sa, const struct vpnr__prop *p,
    size_t n, const uint8_t *spi, uint8_t spi_len)
{
	return vpnr__prop_to_sa_ex(sa, p, n, spi, spi_len, 0, 0);
}

/* ---- selection ----------------------------------------------------- */

/* Our ESN list; empty means "no ESN" only. */
static int
esn_ok(const struct vpnr__prop *q, uint16_t id)
{
	if (id > 1)
		return 0;
	if (q->n_esn == 0)
		return id == 0;
	return has_u16(q->esn, q->n_esn > 2 ? 2 : q->n_esn, id);
}

/*
 * Try to match peer proposal pp against ours q; 1 and *out on success.
 * Every transform type the peer lists must be matched (unknown types
 * are ignored); mandatory types must be present.
 */
static int
match_one(const struct vpnr__prop *q, const struct vpnr__ike_proposal *pp,
    uint16_t prefer_dh, int flags, struct vpnr__suite *out)
{
	const struct vpnr__ike_transform *t;
	int has[6] = { 0 }, got_encr = 0, got_prf = 0, got_integ = 0;
	int got_dh = 0, got_esn = 0, integ_none = 0, dh_none = 0;
	int ike = q->protocol == VPNR__PROTO_IKE;
	uint8_t i, j;

	if (pp->protocol != q->protocol)
		return 0;
	if (ike ? (pp->spi_len != 0 && pp->spi_len != 8) : pp->spi_len != 4)
		return 0;
	memset(out, 0, sizeof(*out));
	out->protocol = q->protocol;
	for (i = 0; i < pp->n_transforms && i < VPNR__IKE_MAX_TRANSFORMS; i++) {
		t = &pp->t[i];
		if (t->type < VPNR__TRANS_ENCR || t->type > VPNR__TRANS_ESN)
			continue; /* unknown transform type: ignored */
		has[t->type] = 1;
		switch (t->type) {
		case VPNR__TRANS_ENCR:
			if (got_encr)
				break;
			for (j = 0; j < q->n_encr; j++)
				if (q->encr[j].id == t->id &&
				    q->encr[j].bits == t->key_len) {
					out->encr = t->id;
					out->encr_bits = t->key_len;
					got_encr = 1;
					break;
				}
			break;
		case VPNR__TRANS_PRF:
			if (!got_prf && t->key_len == 0 &&
			    has_u16(q->prf, q->n_prf, t->id)) {
				out->prf = t->id;
				got_prf = 1;
			}
			break;
		case VPNR__TRANS_INTEG:
			if (t->id == VPNR_INTEG_NONE && t->key_len == 0)
				integ_none = 1;
			else if (!got_integ && t->key_len == 0 &&
			    has_u16(q->integ, q->n_integ, t->id)) {
				out->integ = t->id;
				got_integ = 1;
			}
			break;
		case VPNR__TRANS_DH:
			if (t->key_len != 0)
				break;
			if (t->id == 0)
				dh_none = 1;
			else if (has_u16(q->dh, q->n_dh, t->id) &&
			    (!got_dh ||
				(t->id == prefer_dh && out->dh != prefer_dh))) {
				out->dh = t->id;
				got_dh = 1;
			}
			break;
		case VPNR__TRANS_ESN:
			if (!got_esn && t->key_len == 0 && esn_ok(q, t->id)) {
				out->esn = t->id;
				got_esn = 1;
			}
			break;
		}
	}
	if (!got_encr)
		return 0;
	/* Integrity: AEAD takes none (or NONE), others need one. */
	if (is_aead(out->encr)) {
		if (has[VPNR__TRANS_INTEG] && !integ_none)
			return 0;
		out->integ = VPNR_INTEG_NONE;
	} else if (!got_integ)
		return 0;
	if (ike) {
		if (!got_prf || has[VPNR__TRANS_ESN])
			return 0;
		if (!got_dh)
			return 0;
	} else {
		if (has[VPNR__TRANS_PRF])
			return 0;
		if (flags & VPNR__PROP_NO_DH)
			out->dh = 0;
		else if (q->n_dh > 0) {
			if (!got_dh)
				return 0; /* we require PFS */
		} else if (has[VPNR__TRANS_DH] && !dh_none)
			return 0;
		else
			out->dh = 0;
		if (has[VPNR__TRANS_ESN]) {
			if (!got_esn)
				return 0;
		} else {
			/* ESN missing: only as "no ESN", if we allow it */
			if (!esn_ok(q, 0))
				return 0;
			out->esn = 0;
		}
	}
	return 1;
}

int
vpnr__prop_select_ex(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, uint16_t prefer_dh, int flags,
    struct vpnr__suite *out, size_t *chosen)
{
	struct vpnr__suite s;
	size_t i, k;

	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < peer->n && i < VPNR__IKE_MAX_PROPOSALS; i++)
		for (k = 0; k < n_ours; k++)
			if (match_one(&ours[k], &peer->p[i], prefer_dh, flags,
				&s)) {
				*out = s;
				if (chosen != NULL)
					*chosen = i;
				return VPNR_OK;
			}
	return VPNR_ERR_NO_PROPOSAL;
}

int
vpnr__prop_select(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, struct vpnr__suite *out, size_t *chosen)
{
	return vpnr__prop_select_ex(ours, n_ours, peer, 0, 0, out, chosen);
}

int
vpnr__prop_accept_ex(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, int flags, struct vpnr__suite *out)
{
	const struct vpnr__ike_proposal *pp;
	struct vpnr__suite s;
	int cnt[6] = { 0 };
	size_t k;
	uint8_t i;

	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (peer->n != 1)
		return VPNR_ERR_MALFORMED;
	pp = &peer->p[0];
	for (i = 0; i < pp->n_transforms && i < VPNR__IKE_MAX_TRANSFORMS; i++) {
		if (pp->t[i].type < VPNR__TRANS_ENCR ||
		    pp->t[i].type > VPNR__TRANS_ESN)
			return VPNR_ERR_NO_PROPOSAL; /* we never offered it */
		if (++cnt[pp->t[i].type] > 1)
			return VPNR_ERR_MALFORMED; /* 2.7: one of each */
	}
	for (k = 0; k < n_ours; k++)
		if (match_one(&ours[k], pp, 0, flags, &s)) {
			*out = s;
			return VPNR_OK;
		}
	return VPNR_ERR_NO_PROPOSAL;
}

int
vpnr__prop_accept(const struct vpnr__prop *ours, size_t n_ours,
    const struct vpnr__ike_sa_pl *peer, struct vpnr__suite *out)
{
	return vpnr__prop_accept_ex(ours, n_ours, peer, 0, out);
}

void
vpnr__suite_to_sa(struct vpnr__ike_sa_pl *sa, const struct vpnr__suite *s,
    uint8_t num, const uint8_t *spi, uint8_t spi_len)
{
	struct vpnr__ike_proposal *pp;

	memset(sa, 0, sizeof(*sa));
	sa->n = 1;
	pp = &sa->p[0];
	pp->num = num;
	pp->protocol = s->protocol;
	if (spi_len > VPNR__IKE_MAX_SPI)
		spi_len = 0;
	pp->spi_len = spi_len;
	if (spi_len > 0 && spi != NULL)
		memcpy(pp->spi, spi, spi_len);
	put_t(pp, VPNR__TRANS_ENCR, s->encr, s->encr_bits);
	if (s->protocol == VPNR__PROTO_IKE)
		put_t(pp, VPNR__TRANS_PRF, s->prf, 0);
	if (s->integ != VPNR_INTEG_NONE)
		put_t(pp, VPNR__TRANS_INTEG, s->integ, 0);
	if (s->dh != 0)
		put_t(pp, VPNR__TRANS_DH, s->dh, 0);
	if (s->protocol != VPNR__PROTO_IKE)
		put_t(pp, VPNR__TRANS_ESN, s->esn, 0);
}

uint16_t
vpnr__prop_first_dh(const struct vpnr__prop *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].n_dh > 0)
			return p[i].dh[0];
	return 0;
}

int
vpnr__prop_has_dh(const struct vpnr__prop *p, size_t n, uint16_t g)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (has_u16(p[i].dh, p[i].n_dh, g))
			return 1;
	return 0;
}

/* ---- names --------------------------------------------------------- */

/* Append "/NAME" (or "/PFX_<id>"); sep selects the separator. */
static void
app(char *buf, size_t len, int sep, const char *name, const char *pfx,
    unsigned id)
{
	size_t used = strlen(buf);

	if (used >= len)
		return;
	if (name != NULL)
		snprintf(buf + used, len - used, "%s%s", sep ? "/" : "", name);
	else
		snprintf(buf + used, len - used, "%s%s_%u", sep ? "/" : "", pfx,
		    id);
}

const char *
vpnr__suite_str(const struct vpnr__suite *s, char *buf, size_t len)
{
	char kb[16];

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	app(buf, len, 0, vpnr_transform_name(VPNR_TRANSFORM_ENCR, s->encr),
	    "ENCR", s->encr);
	if (s->encr_bits != 0) {
		snprintf(kb, sizeof(kb), "-%u", (unsigned)s->encr_bits);
		app(buf, len, 0, kb, NULL, 0);
	}
	if (s->integ != VPNR_INTEG_NONE)
		app(buf, len, 1,
		    vpnr_transform_name(VPNR_TRANSFORM_INTEG, s->integ),
		    "INTEG", s->integ);
	if (s->protocol == VPNR__PROTO_IKE)
		app(buf, len, 1,
		    vpnr_transform_name(VPNR_TRANSFORM_PRF, s->prf), "PRF",
		    s->prf);
	if (s->dh != 0)
		app(buf, len, 1, vpnr_transform_name(VPNR_TRANSFORM_DH, s->dh),
		    "DH", s->dh);
	if (s->protocol != VPNR__PROTO_IKE && s->esn)
		app(buf, len, 1, "EXT_SEQ", NULL, 0);
	return buf;
}
