/*
 * The Encrypted payload (RFC 7296 3.14; AES-GCM per RFC 5282):
 * IV | E(inner payloads | padding | pad length) | ICV.  CBC + HMAC
 * checks the ICV over the whole message before decrypting; GCM uses
 * the IKE header and the SK payload header as associated data.
 */
#include <string.h>

#include "crypto.h"
#include "ike.h"
#include "ike_msg.h"
#include "mem.h"

static void
sk_keys(const struct ike_sa *sa, int outbound, const uint8_t **ek,
    const uint8_t **ak)
{
	int use_i = outbound ? sa->initiator : !sa->initiator;

	*ek = use_i ? sa->keys.sk_ei : sa->keys.sk_er;
	*ak = use_i ? sa->keys.sk_ai : sa->keys.sk_ar;
}

int
vpnr__ike_sk_build(vpnr_ctx *ctx, struct ike_sa *sa,
    const struct vpnr__ike_hdr *hdr, const uint8_t *inner, size_t inner_len,
    uint8_t first, struct vpnr__wbuf *w)
{
	struct vpnr__ike_builder b;
	const uint8_t *ek, *ak;
	uint8_t iv[16], pad[16];
	size_t start, sk_off, body, ivlen, blk, icvlen, padlen, ctlen, i;
	uint16_t encr = sa->suite.encr;
	uint8_t *p, *ivp, *icv;
	int aead, rv;

	aead = vpnr__encr_is_aead(encr);
	ivlen = vpnr__encr_iv_len(encr);
	blk = vpnr__encr_block_len(encr);
	icvlen = aead ? vpnr__encr_icv_len(encr) :
			vpnr__integ_icv_len(sa->suite.integ);
	if (ivlen == 0 || ivlen > sizeof(iv) || blk == 0 || blk > 16 ||
	    icvlen == 0 || sa->keys.sk_d == NULL)
		return VPNR_ERR_INTERNAL;
	start = vpnr__wbuf_len(w);
	vpnr__ike_build_begin(&b, w, hdr);
	vpnr__ike_add_sk_begin(&b, first, &sk_off);
	body = vpnr__wbuf_len(w);
	if (aead && ivlen == 8) {
		/* RFC 5282 3.1: an AEAD IV need only never repeat under
		 * a key, and one key seals everything we send on sa: a
		 * counter, without a DRBG call per message.  CBC's IV
		 * must be unpredictable (random). */
		uint64_t seq = ++sa->iv_seq;

		vpnr__put_be64(iv, seq);
	} else if ((rv = vpnr__random(ctx, iv, ivlen)) != VPNR_OK)
		return rv;
	padlen = (blk - ((inner_len + 1) % blk)) % blk;
	memset(pad, 0, sizeof(pad));
	vpnr__wbuf_put_bytes(w, iv, ivlen);
	vpnr__wbuf_put_bytes(w, inner, inner_len);
	vpnr__wbuf_put_bytes(w, pad, padlen);
	vpnr__wbuf_put_u8(w, (uint8_t)padlen);
	vpnr__wbuf_put_zero(w, icvlen);
	vpnr__ike_sk_finish(&b, sk_off);
	if ((rv = vpnr__ike_build_end(&b)) != 0)
		return rv;
	ctlen = inner_len + padlen + 1;
	p = vpnr__wbuf_ptr(w, body + ivlen, ctlen + icvlen);
	ivp = vpnr__wbuf_ptr(w, body, ivlen);
	if (p == NULL || ivp == NULL)
		return VPNR_ERR_INTERNAL;
	icv = p + ctlen;
	sk_keys(sa, 1, &ek, &ak);
	if (aead) {
		const uint8_t *aad = vpnr__wbuf_ptr(w, start, body - start);

		rv = vpnr__gcm_seal(ek, sa->keys.encr_len, ivp, aad,
		    body - start, p, ctlen, icv);
	} else {
		const uint8_t *all;

		rv = vpnr__cbc_encrypt(ek, sa->keys.encr_len, ivp, p, ctlen);
		if (rv != VPNR_OK)
			return rv;
		i = vpnr__wbuf_len(w) - start - icvlen;
		all = vpnr__wbuf_ptr(w, start, i);
		rv = vpnr__integ_compute(sa->suite.integ, ak,
		    sa->keys.integ_len, all, i, icv);
	}
	return rv;
}

int
vpnr__ike_sk_open(vpnr_ctx *ctx, struct ike_sa *sa, struct vpnr__ike_msg *msg,
    const uint8_t *data, size_t len)
{
	struct vpnr__ike *ike = vpnr__ike(ctx);
	const uint8_t *ek, *ak, *body, *icv;
	size_t ivlen, icvlen, ctlen, bodyoff, blk;
	uint16_t encr = sa->suite.encr;
	uint8_t padlen;
	int aead, rv;

	if (!msg->has_sk)
		return VPNR_ERR_MALFORMED;
	aead = vpnr__encr_is_aead(encr);
	ivlen = vpnr__encr_iv_len(encr);
	blk = vpnr__encr_block_len(encr);
	icvlen = aead ? vpnr__encr_icv_len(encr) :
			vpnr__integ_icv_len(sa->suite.integ);
	body = msg->sk_body;
	if (msg->sk_body_len < ivlen + icvlen + 1 || body < data ||
	    body + msg->sk_body_len != data + len)
		return VPNR_ERR_MALFORMED;
	ctlen = msg->sk_body_len - ivlen - icvlen;
	if (blk > 1 && ctlen % blk != 0)
		return VPNR_ERR_MALFORMED;
	bodyoff = (size_t)(body - data);
	icv = body + ivlen + ctlen;
	if (ike->scratch_cap < ctlen)
		return VPNR_ERR_MALFORMED;
	if (sa->keys.sk_d == NULL) /* no keys yet (or any more) */
		return VPNR_ERR_INTEGRITY;
	sk_keys(sa, 0, &ek, &ak);
	memcpy(ike->scratch, body + ivlen, ctlen);
	if (aead) {
		rv = vpnr__gcm_open(ek, sa->keys.encr_len, body, data, bodyoff,
		    ike->scratch, ctlen, icv);
		if (rv != VPNR_OK)
			return VPNR_ERR_INTEGRITY;
	} else {
		rv = vpnr__integ_verify(sa->suite.integ, ak, sa->keys.integ_len,
		    data, len - icvlen, icv);
		if (rv != VPNR_OK)
			return VPNR_ERR_INTEGRITY;
		rv = vpnr__cbc_decrypt(ek, sa->keys.encr_len, body,
		    ike->scratch, ctlen);
		if (rv != VPNR_OK)
			return rv;
	}
	padlen = ike->scratch[ctlen - 1];
	if ((size_t)padlen + 1 > ctlen)
		return VPNR_ERR_MALFORMED;
	return vpnr__ike_parse_chain(msg, msg->sk_next, ike->scratch,
	    ctlen - padlen - 1);
}
