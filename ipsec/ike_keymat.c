/*
 * IKEv2 key derivation (RFC 7296 2.13, 2.14, 2.17, 2.18): SKEYSEED,
 * the seven SK_* keys of an IKE SA, KEYMAT for CHILD_SAs, and the
 * shared secret g^ir of a CREATE_CHILD_SA exchange's KE payload.
 */
#include <string.h>

#include "crypto.h"
#include "ike.h"
#include "ike_exch.h"
#include "ike_msg.h"
#include "mem.h"

/* The seven keys live in one allocation sk_d starts. */
static size_t
keys_len(const struct ike_keys *k)
{
	return 3 * (size_t)k->prf_len + 2 * (size_t)k->integ_len +
	    2 * (size_t)k->encr_len;
}

void
vpnr__ike_keys_free(const vpnr_mem *mem, struct ike_keys *k)
{
	vpnr__freezero(mem, k->sk_d, keys_len(k));
	explicit_bzero(k, sizeof(*k));
}

/*
 * SKEYSEED = prf(key, g^ir | Ni | Nr) for a rekey (key = SK_d of the
 * old SA, prf of the old SA), or prf(Ni | Nr, g^ir) for a new SA (key
 * NULL).  Then {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 * = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).  sa->suite, nonces and SPIs
 * must be set.
 */
int
vpnr__ike_keymat(const vpnr_mem *mem, struct ike_sa *sa, const uint8_t *key,
    size_t klen, uint16_t old_prf, const uint8_t *gir, size_t gir_len)
{
	struct ike_keys *k = &sa->keys;
	uint8_t skeyseed[VPNR__MAX_PRF_LEN];
	uint8_t seed[2 * VPNR__IKE_MAX_NONCE + 16];
	uint8_t nn[2 * VPNR__IKE_MAX_NONCE];
	uint8_t km[3 * VPNR__MAX_PRF_LEN + 4 * VPNR__MAX_KEY_LEN];
	struct vpnr__iov iov[3];
	size_t prf_len, integ_len, encr_len, seedlen, total, off;
	uint8_t *p;
	uint16_t prf = sa->suite.prf;
	int rv;

	prf_len = vpnr__prf_len(prf);
	if (prf_len == 0)
		return VPNR_ERR_UNSUPPORTED;
	memcpy(nn, sa->ni, sa->ni_len);
	memcpy(nn + sa->ni_len, sa->nr, sa->nr_len);
	seedlen = prf_len;
	if (key == NULL) {
		iov[0].p = gir;
		iov[0].len = gir_len;
		rv = vpnr__prf(prf, nn, sa->ni_len + sa->nr_len, iov, 1,
		    skeyseed);
	} else {
		iov[0].p = gir;
		iov[0].len = gir_len;
		iov[1].p = sa->ni;
		iov[1].len = sa->ni_len;
		iov[2].p = sa->nr;
		iov[2].len = sa->nr_len;
		/* The old SA's PRF makes SKEYSEED, the new one prf+. */
		seedlen = vpnr__prf_len(old_prf);
		rv = seedlen == 0 ?
		    VPNR_ERR_UNSUPPORTED :
		    vpnr__prf(old_prf, key, klen, iov, 3, skeyseed);
	}
	if (rv != VPNR_OK)
		goto done;
	off = sa->ni_len + sa->nr_len;
	memcpy(seed, nn, off);
	vpnr__put_be64(seed + off, sa->spi_i);
	vpnr__put_be64(seed + off + 8, sa->spi_r);
	vpnr__ike_keys_free(mem, k);
	integ_len = sa->suite.integ ? vpnr__integ_key_len(sa->suite.integ) : 0;
	encr_len = vpnr__encr_keymat_len(sa->suite.encr, sa->suite.encr_bits);
	if (encr_len == 0 || encr_len > VPNR__MAX_KEY_LEN ||
	    integ_len > VPNR__MAX_KEY_LEN) {
		rv = VPNR_ERR_UNSUPPORTED;
		goto done;
	}
	total = 3 * prf_len + 2 * integ_len + 2 * encr_len;
	rv = vpnr__prf_plus(prf, skeyseed, seedlen, seed, off + 16, km, total);
	if (rv != VPNR_OK)
		goto done;
	/* One allocation sized to the suite, in prf+ order. */
	if ((p = vpnr__malloc(mem, total)) == NULL) {
		rv = VPNR_ERR_NOMEM;
		goto done;
	}
	memcpy(p, km, total);
	k->prf_len = (uint16_t)prf_len;
	k->integ_len = (uint16_t)integ_len;
	k->encr_len = (uint16_t)encr_len;
	k->sk_d = p;
	k->sk_ai = k->sk_d + prf_len;
	k->sk_ar = k->sk_ai + integ_len;
	k->sk_ei = k->sk_ar + integ_len;
	k->sk_er = k->sk_ei + encr_len;
	k->sk_pi = k->sk_er + encr_len;
	k->sk_pr = k->sk_pi + prf_len;
done:
	explicit_bzero(skeyseed, sizeof(skeyseed));
	explicit_bzero(km, sizeof(km));
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(nn, sizeof(nn));
	return rv;
}

/* KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr). */
int
vpnr__child_keymat(const struct ike_sa *sa, const uint8_t *gir, size_t gir_len,
    const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
    uint8_t *out, size_t outlen)
{
	uint8_t seed[VPNR__MAX_KE_LEN + 2 * VPNR__IKE_MAX_NONCE];
	size_t off = 0;
	int rv;

	if (gir_len > VPNR__MAX_KE_LEN || ni_len > VPNR__IKE_MAX_NONCE ||
	    nr_len > VPNR__IKE_MAX_NONCE)
		return VPNR_ERR_INTERNAL;
	if (gir_len > 0) {
		memcpy(seed, gir, gir_len);
		off = gir_len;
	}
	memcpy(seed + off, ni, ni_len);
	off += ni_len;
	memcpy(seed + off, nr, nr_len);
	off += nr_len;
	rv = vpnr__prf_plus(sa->suite.prf, sa->keys.sk_d, sa->keys.prf_len,
	    seed, off, out, outlen);
	explicit_bzero(seed, off);
	return rv;
}

/* g^ir of our DH and the peer's KE (CREATE_CHILD_SA: PFS or IKE rekey). */
int
vpnr__ike_ke_derive(struct vpnr__dh *dh, const struct vpnr__ike_msg *msg,
    uint8_t *gir, size_t cap, size_t *glen)
{
	if (!msg->has_ke || msg->ke_group != vpnr__dh_group(dh))
		return VPNR_ERR_MALFORMED;
	return vpnr__dh_derive(dh, msg->ke_data, msg->ke_len, gir, cap, glen);
}
