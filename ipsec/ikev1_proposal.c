/*
 * IKEv1 proposals: strings, Phase 1 transforms (RFC 2409 Appendix A),
 * Quick Mode ESP transforms (RFC 2407 4.4.4, 4.5), selection.
 *
 * The configuration form is struct vpnr__prop with IKEv2 ids, as for
 * IKEv2; only the wire form differs.  IKEv1 expresses alternatives as
 * one transform per full combination, so a proposal string such as
 * "aes128-aes256-sha1-sha256-modp2048" becomes four transforms.  The
 * hash attribute is both the PRF (as HMAC) and, in Phase 1, the
 * integrity: there is no separate PRF.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "crypto_v1.h"
#include "ikev1_proposal.h"

/* ---- Strings ------------------------------------------------------- */

enum v1_kind { K_ENCR, K_INTEG, K_PRF, K_DH, K_ESN };

struct v1_tok {
	const char *name;
	enum v1_kind kind;
	uint16_t id;   /* IKEv2 id */
	uint16_t bits; /* ENCR key bits; INTEG: the implied PRF */
};

static const struct v1_tok v1_toks[] = {
	{ "aes128", K_ENCR, VPNR_ENCR_AES_CBC, 128 },
	{ "aes192", K_ENCR, VPNR_ENCR_AES_CBC, 192 },
	{ "aes256", K_ENCR, VPNR_ENCR_AES_CBC, 256 },
	{ "3des", K_ENCR, VPNR__V2_ENCR_3DES, 0 },
	{ "aes128gcm16", K_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm16", K_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm16", K_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "aes128gcm128", K_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm128", K_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm128", K_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "aes128gcm", K_ENCR, VPNR_ENCR_AES_GCM_16, 128 },
	{ "aes192gcm", K_ENCR, VPNR_ENCR_AES_GCM_16, 192 },
	{ "aes256gcm", K_ENCR, VPNR_ENCR_AES_GCM_16, 256 },
	{ "md5", K_INTEG, VPNR__V2_INTEG_HMAC_MD5_96, VPNR__V2_PRF_HMAC_MD5 },
	{ "sha1", K_INTEG, VPNR_INTEG_HMAC_SHA1_96, VPNR__PRF_HMAC_SHA1 },
	{ "sha", K_INTEG, VPNR_INTEG_HMAC_SHA1_96, VPNR__PRF_HMAC_SHA1 },
	{ "sha256", K_INTEG, VPNR_INTEG_HMAC_SHA2_256_128,
	    VPNR__PRF_HMAC_SHA2_256 },
	{ "sha2_256", K_INTEG, VPNR_INTEG_HMAC_SHA2_256_128,
	    VPNR__PRF_HMAC_SHA2_256 },
	{ "sha384", K_INTEG, VPNR_INTEG_HMAC_SHA2_384_192,
	    VPNR__PRF_HMAC_SHA2_384 },
	{ "sha2_384", K_INTEG, VPNR_INTEG_HMAC_SHA2_384_192,
	    VPNR__PRF_HMAC_SHA2_384 },
	{ "sha512", K_INTEG, VPNR_INTEG_HMAC_SHA2_512_256,
	    VPNR__PRF_HMAC_SHA2_512 },
	{ "sha2_512", K_INTEG, VPNR_INTEG_HMAC_SHA2_512_256,
	    VPNR__PRF_HMAC_SHA2_512 },
	{ "prfmd5", K_PRF, VPNR__V2_PRF_HMAC_MD5, 0 },
	{ "prfsha1", K_PRF, VPNR__PRF_HMAC_SHA1, 0 },
	{ "prfsha256", K_PRF, VPNR__PRF_HMAC_SHA2_256, 0 },
	{ "prfsha384", K_PRF, VPNR__PRF_HMAC_SHA2_384, 0 },
	{ "prfsha512", K_PRF, VPNR__PRF_HMAC_SHA2_512, 0 },
	{ "modp1024", K_DH, VPNR__DH_MODP1024, 0 },
	{ "modp1536", K_DH, VPNR__V1_DH_MODP1536, 0 },
	{ "modp2048", K_DH, VPNR__DH_MODP2048, 0 },
	{ "modp3072", K_DH, VPNR__DH_MODP3072, 0 },
	{ "modp4096", K_DH, VPNR__DH_MODP4096, 0 },
	{ "ecp256", K_DH, VPNR__DH_ECP256, 0 },
	{ "ecp384", K_DH, VPNR__DH_ECP384, 0 },
	{ "ecp521", K_DH, VPNR__DH_ECP521, 0 },
	{ "esn", K_ESN, 1, 0 },
	{ "noesn", K_ESN, 0, 0 },
};

#define PROP_STR_MAX 256

static void
seterr(char *err, size_t errlen, const char *msg, const char *tok,
    const char *str)
{
	if (err == NULL || errlen == 0)
		return;
	if (tok != NULL)
		snprintf(err, errlen, "%s '%s' in IKEv1 proposal '%s'", msg,
		    tok, str);
	else
		snprintf(err, errlen, "%s in IKEv1 proposal '%s'", msg, str);
}

static int
has(const uint16_t *l, uint8_t n, uint16_t v)
{
	uint8_t i;

	for (i = 0; i < n; i++)
		if (l[i] == v)
			return 1;
	return 0;
}

/* Append unless present; -1 when full. */
static int
add(uint16_t *l, uint8_t *n, uint16_t v)
{
	if (has(l, *n, v))
		return 0;
	if (*n >= VPNR__PROP_MAX_ALGS)
		return -1;
	l[(*n)++] = v;
	return 0;
}

int
vpnr__v1_prop_parse(struct vpnr__prop *p, uint8_t protocol, const char *str,
    char *err, size_t errlen)
{
	char buf[PROP_STR_MAX], *s, *tok;
	const struct v1_tok *t;
	uint16_t prfs[VPNR__PROP_MAX_ALGS];
	uint8_t n_prfs = 0, i, aead = 0, classic = 0;
	size_t k, len;
	int full = 0;

	memset(p, 0, sizeof(*p));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (str == NULL)
		str = "";
	if (protocol != VPNR__PROTO_IKE && protocol != VPNR__PROTO_ESP) {
		seterr(err, errlen, "bad protocol", NULL, str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (str[0] == '\0' ||
	    (len = strnlen(str, sizeof(buf))) >= sizeof(buf)) {
		seterr(err, errlen, "empty or too long string", NULL, str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	memcpy(buf, str, len + 1);
	p->protocol = protocol;
	s = buf;
	while ((tok = strsep(&s, "-")) != NULL) {
		t = NULL;
		for (k = 0; k < sizeof(v1_toks) / sizeof(v1_toks[0]); k++)
			if (strcasecmp(tok, v1_toks[k].name) == 0) {
				t = &v1_toks[k];
				break;
			}
		if (t == NULL) {
			seterr(err, errlen, "unknown algorithm", tok, str);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
		switch (t->kind) {
		case K_ENCR:
			if (t->id == VPNR_ENCR_AES_GCM_16) {
				if (protocol == VPNR__PROTO_IKE) {
					seterr(err, errlen,
					    "AEAD cipher not defined for "
					    "IKEv1 Phase 1",
					    tok, str);
					return VPNR_ERR_INVALID_ARGUMENT;
				}
				aead = 1;
			} else
				classic = 1;
			for (i = 0; i < p->n_encr; i++)
				if (p->encr[i].id == t->id &&
				    p->encr[i].bits == t->bits)
					break;
			if (i < p->n_encr)
				break;
			if (p->n_encr >= VPNR__PROP_MAX_ALGS) {
				full = 1;
				break;
			}
			p->encr[p->n_encr].id = t->id;
			p->encr[p->n_encr].bits = t->bits;
			p->n_encr++;
			break;
		case K_INTEG:
			full |= add(p->integ, &p->n_integ, t->id);
			if (protocol == VPNR__PROTO_IKE)
				full |= add(p->prf, &p->n_prf, t->bits);
			break;
		case K_PRF:
			if (protocol != VPNR__PROTO_IKE) {
				seterr(err, errlen, "PRF not allowed", tok,
				    str);
				return VPNR_ERR_INVALID_ARGUMENT;
			}
			full |= add(prfs, &n_prfs, t->id);
			break;
		case K_DH:
			full |= add(p->dh, &p->n_dh, t->id);
			break;
		case K_ESN:
			if (protocol != VPNR__PROTO_ESP) {
				seterr(err, errlen, "ESN not allowed", tok,
				    str);
				return VPNR_ERR_INVALID_ARGUMENT;
			}
			full |= add(p->esn, &p->n_esn, t->id);
			if (p->n_esn > 2)
				full = 1;
			break;
		}
		if (full) {
			seterr(err, errlen, "too many algorithms of one kind",
			    NULL, str);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	}
	if (p->n_encr == 0) {
		seterr(err, errlen, "no encryption algorithm", NULL, str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (aead && classic) {
		seterr(err, errlen, "AEAD and non-AEAD ciphers mixed", NULL,
		    str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (aead)
		p->n_integ = 0;
	else if (p->n_integ == 0) {
		seterr(err, errlen, "no integrity/hash algorithm", NULL, str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	/* IKEv1 has no separate PRF: an explicit one must be a hash. */
	for (i = 0; i < n_prfs; i++)
		if (!has(p->prf, p->n_prf, prfs[i])) {
			seterr(err, errlen,
			    "PRF differs from every hash (IKEv1 uses the "
			    "hash as PRF)",
			    NULL, str);
			return VPNR_ERR_INVALID_ARGUMENT;
		}
	if (protocol == VPNR__PROTO_IKE && p->n_dh == 0) {
		seterr(err, errlen, "a DH group is mandatory", NULL, str);
		return VPNR_ERR_INVALID_ARGUMENT;
	}
	if (protocol == VPNR__PROTO_ESP && p->n_esn == 0) {
		p->esn[0] = 0;
		p->n_esn = 1;
	}
	return VPNR_OK;
}

/* ---- Id mappings --------------------------------------------------- */

struct map {
	uint16_t v2, v1;
};

static const struct map hash_map[] = {
	{ VPNR__V2_INTEG_HMAC_MD5_96, VPNR__V1_HASH_MD5 },
	{ VPNR_INTEG_HMAC_SHA1_96, VPNR__V1_HASH_SHA1 },
	{ VPNR_INTEG_HMAC_SHA2_256_128, VPNR__V1_HASH_SHA2_256 },
	{ VPNR_INTEG_HMAC_SHA2_384_192, VPNR__V1_HASH_SHA2_384 },
	{ VPNR_INTEG_HMAC_SHA2_512_256, VPNR__V1_HASH_SHA2_512 },
};
/* Phase 1's PRF is the HMAC of its hash (RFC 2409 4). */
static const struct map prf_map[] = {
	{ VPNR__V2_PRF_HMAC_MD5, VPNR__V1_HASH_MD5 },
	{ VPNR__PRF_HMAC_SHA1, VPNR__V1_HASH_SHA1 },
	{ VPNR__PRF_HMAC_SHA2_256, VPNR__V1_HASH_SHA2_256 },
	{ VPNR__PRF_HMAC_SHA2_384, VPNR__V1_HASH_SHA2_384 },
	{ VPNR__PRF_HMAC_SHA2_512, VPNR__V1_HASH_SHA2_512 },
};
static const struct map auth_map[] = {
	{ VPNR__V2_INTEG_HMAC_MD5_96, VPNR__V1_AA_HMAC_MD5 },
	{ VPNR_INTEG_HMAC_SHA1_96, VPNR__V1_AA_HMAC_SHA },
	{ VPNR_INTEG_HMAC_SHA2_256_128, VPNR__V1_AA_HMAC_SHA2_256 },
	{ VPNR_INTEG_HMAC_SHA2_384_192, VPNR__V1_AA_HMAC_SHA2_384 },
	{ VPNR_INTEG_HMAC_SHA2_512_256, VPNR__V1_AA_HMAC_SHA2_512 },
};
static const struct map p1enc_map[] = {
	{ VPNR_ENCR_AES_CBC, VPNR__V1_ENC_AES_CBC },
	{ VPNR__V2_ENCR_3DES, VPNR__V1_ENC_3DES_CBC },
};
static const struct map esp_map[] = {
	{ VPNR_ENCR_AES_CBC, VPNR__V1_ESP_AES },
	{ VPNR__V2_ENCR_3DES, VPNR__V1_ESP_3DES },
	{ VPNR_ENCR_AES_GCM_16, VPNR__V1_ESP_AES_GCM_16 },
};
#define NMAP(m) (sizeof(m) / sizeof(m[0]))

static uint16_t
to_v1(const struct map *m, size_t n, uint16_t v2)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].v2 == v2)
			return m[i].v1;
	return 0;
}

static uint16_t
to_v2(const struct map *m, size_t n, uint16_t v1)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].v1 == v1)
			return m[i].v2;
	return 0;
}

static int
put_life(struct vpnr__v1_transform *t, uint16_t type_attr, uint16_t dur_attr,
    const struct vpnr__v1_life *life)
{
	int rc = VPNR_OK;

	if (life == NULL)
		return VPNR_OK;
	if (life->seconds != 0) {
		rc |= vpnr__v1_attr_tv(t, type_attr, VPNR__V1_LIFE_SECONDS);
		rc |= vpnr__v1_attr_num(t, dur_attr, life->seconds);
	}
	if (life->kbytes != 0) {
		rc |= vpnr__v1_attr_tv(t, type_attr, VPNR__V1_LIFE_KB);
		rc |= vpnr__v1_attr_num(t, dur_attr, life->kbytes);
	}
	return rc == VPNR_OK ? VPNR_OK : VPNR_ERR_INVALID_ARGUMENT;
}

/* Start an SA payload of alternative transforms. */
static void
sa_begin(struct vpnr__v1_sa *sa)
{
	sa->doi = VPNR__V1_DOI_IPSEC;
	sa->situation = VPNR__V1_SIT_IDENTITY_ONLY;
	sa->n_p = sa->n_t = 0;
}

/* The next transform of sa, numbered, without attributes yet. */
static int
sa_transform(struct vpnr__v1_sa *sa, uint8_t id, struct vpnr__v1_transform **t)
{
	if (sa->n_t >= VPNR__V1_MAX_TRANSFORMS)
		return VPNR_ERR_LIMIT;
	*t = &sa->t[sa->n_t++];
	(*t)->num = sa->n_t;
	(*t)->id = id;
	(*t)->n_attr = 0;
	return VPNR_OK;
}

/* Close sa: one proposal holding every transform as alternatives. */
static int
sa_end(struct vpnr__v1_sa *sa, uint8_t protocol)
{
	if (sa->n_t == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	sa->n_p = 1;
	memset(&sa->p[0], 0, sizeof(sa->p[0]));
	sa->p[0].num = 1;
	sa->p[0].protocol = protocol;
	sa->p[0].n_t = sa->n_t;
	return VPNR_OK;
}

/* ---- Phase 1 ------------------------------------------------------- */

/* One Phase 1 transform for one combination of q's algorithms. */
static int
p1_add(struct vpnr__v1_sa *sa, const struct vpnr__prop *q, uint8_t e, uint8_t h,
    uint8_t g, const struct vpnr__v1_life *life)
{
	struct vpnr__v1_transform *t;
	uint16_t enc, hash;
	int rc = VPNR_OK;

	enc = to_v1(p1enc_map, NMAP(p1enc_map), q->encr[e].id);
	hash = to_v1(hash_map, NMAP(hash_map), q->integ[h]);
	if (enc == 0 || hash == 0 || !vpnr__v1_dh_supported(q->dh[g]))
		return VPNR_ERR_UNSUPPORTED;
	if ((rc = sa_transform(sa, VPNR__V1_KEY_IKE, &t)) != VPNR_OK)
		return rc;
	rc |= vpnr__v1_attr_tv(t, VPNR__V1_A_ENC, enc);
	if (q->encr[e].bits != 0)
		rc |=
		    vpnr__v1_attr_tv(t, VPNR__V1_A_KEY_LENGTH, q->encr[e].bits);
	rc |= vpnr__v1_attr_tv(t, VPNR__V1_A_HASH, hash);
	rc |= vpnr__v1_attr_tv(t, VPNR__V1_A_AUTH, VPNR__V1_AUTH_PSK);
	rc |= vpnr__v1_attr_tv(t, VPNR__V1_A_GROUP, q->dh[g]);
	rc |= put_life(t, VPNR__V1_A_LIFE_TYPE, VPNR__V1_A_LIFE_DURATION, life);
	return rc == VPNR_OK ? VPNR_OK : VPNR_ERR_INVALID_ARGUMENT;
}

int
vpnr__v1_p1_to_sa(struct vpnr__v1_sa *sa, const struct vpnr__prop *p, size_t n,
    const struct vpnr__v1_life *life)
{
	const struct vpnr__prop *q;
	size_t i;
	uint8_t e, h, g;
	int rc;

	sa_begin(sa);
	for (i = 0; i < n; i++) {
		q = &p[i];
		if (q->protocol != VPNR__PROTO_IKE)
			return VPNR_ERR_INVALID_ARGUMENT;
		for (e = 0; e < q->n_encr; e++)
			for (h = 0; h < q->n_integ; h++)
				for (g = 0; g < q->n_dh; g++)
					if ((rc = p1_add(sa, q, e, h, g,
						 life)) != VPNR_OK)
						return rc;
	}
	return sa_end(sa, VPNR__V1_PROTO_ISAKMP);
}

/*
 * Life type/duration pairs (RFC 2409 Appendix A: a duration follows
 * its type).  0 or VPNR_ERR_NO_PROPOSAL on a duration without a type,
 * an unknown type, or a zero/oversized duration.
 */
static int
take_life(struct vpnr__v1_life *life, uint16_t *ltype,
    const struct vpnr__v1_attr *a, uint16_t type_attr, uint16_t dur_attr)
{
	uint64_t v;

	if (vpnr__v1_attr_value(a, &v) != VPNR_OK)
		return VPNR_ERR_NO_PROPOSAL;
	if (a->type == type_attr) {
		if (v != VPNR__V1_LIFE_SECONDS && v != VPNR__V1_LIFE_KB)
			return VPNR_ERR_NO_PROPOSAL;
		*ltype = (uint16_t)v;
		return VPNR_OK;
	}
	if (a->type != dur_attr || *ltype == 0 || v == 0)
		return VPNR_ERR_NO_PROPOSAL;
	if (*ltype == VPNR__V1_LIFE_SECONDS) {
		if (v > UINT32_MAX)
			return VPNR_ERR_NO_PROPOSAL;
		life->seconds = (uint32_t)v;
	} else
		life->kbytes = v;
	*ltype = 0;
	return VPNR_OK;
}

/* Decode one Phase 1 transform; VPNR_ERR_NO_PROPOSAL if unusable. */
static int
p1_decode(const struct vpnr__v1_transform *t, struct vpnr__v1_p1_suite *s)
{
	const struct vpnr__v1_attr *a;
	uint16_t ltype = 0;
	uint64_t v;
	uint8_t i;

	memset(s, 0, sizeof(*s));
	if (t->id != VPNR__V1_KEY_IKE)
		return VPNR_ERR_NO_PROPOSAL;
	for (i = 0; i < t->n_attr; i++) {
		a = &t->attr[i];
		if (a->type == VPNR__V1_A_LIFE_TYPE ||
		    a->type == VPNR__V1_A_LIFE_DURATION) {
			if (take_life(&s->life, &ltype, a, VPNR__V1_A_LIFE_TYPE,
				VPNR__V1_A_LIFE_DURATION) != VPNR_OK)
				return VPNR_ERR_NO_PROPOSAL;
			continue;
		}
		/* Every other attribute we know is basic (TV). */
		if (!a->tv || vpnr__v1_attr_value(a, &v) != VPNR_OK)
			return VPNR_ERR_NO_PROPOSAL;
		switch (a->type) {
		case VPNR__V1_A_ENC:
			s->enc = (uint16_t)v;
			break;
		case VPNR__V1_A_HASH:
			s->hash = (uint16_t)v;
			break;
		case VPNR__V1_A_AUTH:
			s->auth = (uint16_t)v;
			break;
		case VPNR__V1_A_GROUP:
			s->group = (uint16_t)v;
			break;
		case VPNR__V1_A_GROUP_TYPE:
			break; /* implied by the group description */
		case VPNR__V1_A_KEY_LENGTH:
			s->enc_bits = (uint16_t)v;
			break;
		default:
			return VPNR_ERR_NO_PROPOSAL; /* PRF, own groups... */
		}
	}
	if (s->enc == 0 || s->hash == 0 || s->auth == 0 || s->group == 0)
		return VPNR_ERR_NO_PROPOSAL;
	/* RFC 3602 5: AES needs a key length; 3DES has none. */
	if (vpnr__v1_cipher_key_len(s->enc, s->enc_bits) == 0)
		return VPNR_ERR_NO_PROPOSAL;
	if (s->enc == VPNR__V1_ENC_3DES_CBC)
		s->enc_bits = 0;
	return VPNR_OK;
}

static int
p1_match(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_p1_suite *s)
{
	const struct vpnr__prop *q;
	uint16_t enc2 = to_v2(p1enc_map, NMAP(p1enc_map), s->enc);
	uint16_t integ2 = to_v2(hash_map, NMAP(hash_map), s->hash);
	size_t i;
	uint8_t e;

	if (s->auth != VPNR__V1_AUTH_PSK || enc2 == 0 || integ2 == 0 ||
	    !vpnr__v1_dh_supported(s->group))
		return 0;
	for (i = 0; i < n; i++) {
		q = &ours[i];
		if (q->protocol != VPNR__PROTO_IKE)
			continue;
		for (e = 0; e < q->n_encr; e++)
			if (q->encr[e].id == enc2 &&
			    q->encr[e].bits == s->enc_bits)
				break;
		if (e == q->n_encr || !has(q->integ, q->n_integ, integ2) ||
		    !has(q->dh, q->n_dh, s->group))
			continue;
		return 1;
	}
	return 0;
}

void
vpnr__v1_p1_suite_v2(const struct vpnr__v1_p1_suite *s, struct vpnr__suite *o)
{
	memset(o, 0, sizeof(*o));
	o->protocol = VPNR__PROTO_IKE;
	o->encr = to_v2(p1enc_map, NMAP(p1enc_map), s->enc);
	o->encr_bits = s->enc_bits;
	o->integ = to_v2(hash_map, NMAP(hash_map), s->hash);
	o->prf = to_v2(prf_map, NMAP(prf_map), s->hash);
	o->dh = s->group;
}

int
vpnr__v1_p1_select(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, struct vpnr__v1_p1_suite *out)
{
	const struct vpnr__v1_proposal *pp;
	struct vpnr__v1_p1_suite s;
	uint8_t i, j;

	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < peer->n_p; i++) {
		pp = &peer->p[i];
		if (pp->protocol != VPNR__V1_PROTO_ISAKMP)
			continue;
		for (j = 0; j < pp->n_t; j++) {
			if (pp->first_t + j >= peer->n_t)
				break;
			if (p1_decode(&peer->t[pp->first_t + j], &s) !=
				VPNR_OK ||
			    !p1_match(ours, n, &s))
				continue;
			s.t_idx = (uint8_t)(pp->first_t + j);
			*out = s;
			return VPNR_OK;
		}
	}
	return VPNR_ERR_NO_PROPOSAL;
}

int
vpnr__v1_p1_accept(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, struct vpnr__v1_p1_suite *out)
{
	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (peer->n_p != 1 || peer->p[0].n_t != 1 || peer->n_t != 1 ||
	    peer->p[0].protocol != VPNR__V1_PROTO_ISAKMP)
		return VPNR_ERR_MALFORMED;
	return vpnr__v1_p1_select(ours, n, peer, out);
}

/* ---- Quick Mode ---------------------------------------------------- */

static uint16_t
encap_norm(uint64_t v)
{
	switch (v) {
	case VPNR__V1_ENCAP_TUNNEL:
	case VPNR__V1_ENCAP_TRANSPORT:
	case VPNR__V1_ENCAP_UDP_TUNNEL:
	case VPNR__V1_ENCAP_UDP_TRANSPORT:
		return (uint16_t)v;
	case VPNR__V1_ENCAP_UDP_TUNNEL_DRAFT:
		return VPNR__V1_ENCAP_UDP_TUNNEL;
	case VPNR__V1_ENCAP_UDP_TRANSPORT_DRAFT:
		return VPNR__V1_ENCAP_UDP_TRANSPORT;
	}
	return 0;
}

/* One Quick Mode transform for one combination of q's algorithms. */
static int
p2_add(struct vpnr__v1_sa *sa, const struct vpnr__prop *q, uint8_t e, uint8_t h,
    uint8_t g, uint8_t x, uint16_t encap, const struct vpnr__v1_life *life)
{
	struct vpnr__v1_transform *t;
	uint16_t tid, aa = 0;
	int rc = VPNR_OK;

	tid = to_v1(esp_map, NMAP(esp_map), q->encr[e].id);
	if (q->n_integ > 0 &&
	    (aa = to_v1(auth_map, NMAP(auth_map), q->integ[h])) == 0)
		return VPNR_ERR_UNSUPPORTED;
	if (tid == 0 || (q->n_dh > 0 && !vpnr__v1_dh_supported(q->dh[g])))
		return VPNR_ERR_UNSUPPORTED;
	if ((rc = sa_transform(sa, (uint8_t)tid, &t)) != VPNR_OK)
		return rc;
	rc |=
	    put_life(t, VPNR__V1_QA_LIFE_TYPE, VPNR__V1_QA_LIFE_DURATION, life);
	if (q->n_dh > 0)
		rc |= vpnr__v1_attr_tv(t, VPNR__V1_QA_GROUP, q->dh[g]);
	rc |= vpnr__v1_attr_tv(t, VPNR__V1_QA_ENCAP, encap);
	if (aa != 0)
		rc |= vpnr__v1_attr_tv(t, VPNR__V1_QA_AUTH, aa);
	if (q->encr[e].bits != 0)
		rc |= vpnr__v1_attr_tv(t, VPNR__V1_QA_KEY_LENGTH,
		    q->encr[e].bits);
	if (q->esn[x])
		rc |= vpnr__v1_attr_tv(t, VPNR__V1_QA_ESN, 1);
	return rc == VPNR_OK ? VPNR_OK : VPNR_ERR_INVALID_ARGUMENT;
}

int
vpnr__v1_p2_to_sa(struct vpnr__v1_sa *sa, const struct vpnr__prop *p, size_t n,
    const uint8_t spi[4], uint16_t encap, const struct vpnr__v1_life *life)
{
	const struct vpnr__prop *q;
	size_t i;
	uint8_t e, h, g, x, nh, ng;
	int rc;

	if (encap_norm(encap) != encap || spi == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	sa_begin(sa);
	for (i = 0; i < n; i++) {
		q = &p[i];
		if (q->protocol != VPNR__PROTO_ESP)
			return VPNR_ERR_INVALID_ARGUMENT;
		nh = q->n_integ > 0 ? q->n_integ : 1;
		ng = q->n_dh > 0 ? q->n_dh : 1;
		for (e = 0; e < q->n_encr; e++)
			for (h = 0; h < nh; h++)
				for (g = 0; g < ng; g++)
					for (x = 0; x < q->n_esn; x++)
						if ((rc = p2_add(sa, q, e, h, g,
							 x, encap, life)) !=
						    VPNR_OK)
							return rc;
	}
	if ((rc = sa_end(sa, VPNR__V1_PROTO_ESP)) != VPNR_OK)
		return rc;
	sa->p[0].spi_len = 4;
	memcpy(sa->p[0].spi, spi, 4);
	return VPNR_OK;
}

static int
p2_decode(const struct vpnr__v1_transform *t, struct vpnr__v1_p2_suite *s)
{
	const struct vpnr__v1_attr *a;
	uint16_t ltype = 0, aa = 0;
	uint64_t v;
	uint8_t i;

	memset(s, 0, sizeof(*s));
	s->suite.protocol = VPNR__PROTO_ESP;
	if ((s->suite.encr = to_v2(esp_map, NMAP(esp_map), t->id)) == 0)
		return VPNR_ERR_NO_PROPOSAL;
	for (i = 0; i < t->n_attr; i++) {
		a = &t->attr[i];
		if (a->type == VPNR__V1_QA_LIFE_TYPE ||
		    a->type == VPNR__V1_QA_LIFE_DURATION) {
			if (take_life(&s->life, &ltype, a,
				VPNR__V1_QA_LIFE_TYPE,
				VPNR__V1_QA_LIFE_DURATION) != VPNR_OK)
				return VPNR_ERR_NO_PROPOSAL;
			continue;
		}
		if (!a->tv || vpnr__v1_attr_value(a, &v) != VPNR_OK)
			return VPNR_ERR_NO_PROPOSAL;
		switch (a->type) {
		case VPNR__V1_QA_GROUP:
			s->suite.dh = (uint16_t)v;
			break;
		case VPNR__V1_QA_ENCAP:
			if ((s->encap = encap_norm(v)) == 0)
				return VPNR_ERR_NO_PROPOSAL;
			break;
		case VPNR__V1_QA_AUTH:
			aa = (uint16_t)v;
			break;
		case VPNR__V1_QA_KEY_LENGTH:
			s->suite.encr_bits = (uint16_t)v;
			break;
		case VPNR__V1_QA_ESN:
			if (v != 1)
				return VPNR_ERR_NO_PROPOSAL;
			s->suite.esn = 1;
			break;
		default:
			return VPNR_ERR_NO_PROPOSAL;
		}
	}
	/* RFC 2407 4.5: tunnel mode is not the default; say it. */
	if (s->encap == 0)
		return VPNR_ERR_NO_PROPOSAL;
	if (s->suite.encr == VPNR_ENCR_AES_GCM_16) {
		if (aa != 0)
			return VPNR_ERR_NO_PROPOSAL;
		s->suite.integ = VPNR_INTEG_NONE;
	} else if ((s->suite.integ = to_v2(auth_map, NMAP(auth_map), aa)) == 0)
		return VPNR_ERR_NO_PROPOSAL;
	if (s->suite.encr == VPNR__V2_ENCR_3DES) {
		if (s->suite.encr_bits != 0 && s->suite.encr_bits != 192)
			return VPNR_ERR_NO_PROPOSAL;
		s->suite.encr_bits = 0;
	} else if (s->suite.encr_bits != 128 && s->suite.encr_bits != 192 &&
	    s->suite.encr_bits != 256)
		return VPNR_ERR_NO_PROPOSAL;
	return VPNR_OK;
}

static int
p2_match(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_p2_suite *s)
{
	const struct vpnr__prop *q;
	size_t i;
	uint8_t e;

	for (i = 0; i < n; i++) {
		q = &ours[i];
		if (q->protocol != VPNR__PROTO_ESP)
			continue;
		for (e = 0; e < q->n_encr; e++)
			if (q->encr[e].id == s->suite.encr &&
			    q->encr[e].bits == s->suite.encr_bits)
				break;
		if (e == q->n_encr)
			continue;
		if (s->suite.integ != VPNR_INTEG_NONE &&
		    !has(q->integ, q->n_integ, s->suite.integ))
			continue;
		/* PFS both ways: ours requires a group, none without. */
		if (q->n_dh > 0 ? !has(q->dh, q->n_dh, s->suite.dh) :
				  s->suite.dh != 0)
			continue;
		if (!has(q->esn, q->n_esn, s->suite.esn))
			continue;
		return 1;
	}
	return 0;
}

int
vpnr__v1_p2_select(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, uint16_t encap,
    struct vpnr__v1_p2_suite *out)
{
	const struct vpnr__v1_proposal *pp;
	struct vpnr__v1_p2_suite s;
	uint8_t i, j, k, bundle;

	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < peer->n_p; i++) {
		pp = &peer->p[i];
		/* Same number as a neighbour: an AND bundle (AH+ESP...). */
		bundle = 0;
		for (k = 0; k < peer->n_p; k++)
			if (k != i && peer->p[k].num == pp->num)
				bundle = 1;
		if (bundle || pp->protocol != VPNR__V1_PROTO_ESP ||
		    pp->spi_len != 4)
			continue;
		for (j = 0; j < pp->n_t; j++) {
			if (pp->first_t + j >= peer->n_t)
				break;
			if (p2_decode(&peer->t[pp->first_t + j], &s) !=
				VPNR_OK ||
			    s.encap != encap || !p2_match(ours, n, &s))
				continue;
			s.p_idx = i;
			s.t_idx = (uint8_t)(pp->first_t + j);
			memcpy(s.spi, pp->spi, 4);
			*out = s;
			return VPNR_OK;
		}
	}
	return VPNR_ERR_NO_PROPOSAL;
}

int
vpnr__v1_p2_accept(const struct vpnr__prop *ours, size_t n,
    const struct vpnr__v1_sa *peer, uint16_t encap,
    struct vpnr__v1_p2_suite *out)
{
	if (ours == NULL || peer == NULL || out == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (peer->n_p != 1 || peer->p[0].n_t != 1 || peer->n_t != 1)
		return VPNR_ERR_MALFORMED;
	return vpnr__v1_p2_select(ours, n, peer, encap, out);
}

int
vpnr__v1_sa_echo(struct vpnr__v1_sa *out, const struct vpnr__v1_sa *in,
    uint8_t p_idx, uint8_t t_idx, const uint8_t *spi, uint8_t spi_len)
{
	if (p_idx >= in->n_p || t_idx >= in->n_t ||
	    t_idx < in->p[p_idx].first_t ||
	    t_idx >= in->p[p_idx].first_t + in->p[p_idx].n_t ||
	    spi_len > VPNR__V1_MAX_SPI)
		return VPNR_ERR_INVALID_ARGUMENT;
	out->doi = in->doi;
	out->situation = in->situation;
	out->n_p = 1;
	out->n_t = 1;
	out->p[0] = in->p[p_idx];
	out->p[0].first_t = 0;
	out->p[0].n_t = 1;
	if (spi != NULL) {
		out->p[0].spi_len = spi_len;
		memcpy(out->p[0].spi, spi, spi_len);
	}
	out->t[0] = in->t[t_idx];
	return VPNR_OK;
}

size_t
vpnr__v1_esp_keymat_len(const struct vpnr__suite *s)
{
	size_t e, i = 0;

	if (s->encr == VPNR__V2_ENCR_3DES)
		e = 24;
	else
		e = vpnr__encr_keymat_len(s->encr, s->encr_bits);
	if (e == 0)
		return 0;
	if (s->integ == VPNR__V2_INTEG_HMAC_MD5_96)
		i = 16;
	else if (s->integ != VPNR_INTEG_NONE &&
	    (i = vpnr__integ_key_len(s->integ)) == 0)
		return 0;
	return e + i;
}
