/*
 * PSK authentication (RFC 7296 2.15) and identities (3.5):
 * AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
 * where the signed octets are the signer's IKE_SA_INIT message, the
 * peer's nonce and prf(SK_p[ir], ID payload body).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "ike.h"
#include "ike_msg.h"

static const char key_pad[] = "Key Pad for IKEv2";

size_t
vpnr__ike_local_id(const struct ike_sa *sa, uint8_t *out, size_t cap)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;

	return vpnr__ike_id_body(c->local_id_type, c->local_id, c->local_id_len,
	    out, cap);
}

/* AUTH value of the initiator (signer_i) or the responder. */
int
vpnr__ike_auth_compute(const struct ike_sa *sa, int signer_i,
    const uint8_t *id_body, size_t id_len, uint8_t *out, size_t *outlen)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;
	uint8_t macid[VPNR__MAX_PRF_LEN], padkey[VPNR__MAX_PRF_LEN];
	struct vpnr__iov iov[3];
	uint16_t prf = sa->suite.prf;
	size_t plen = vpnr__prf_len(prf);
	int rv;

	if (plen == 0 || c->psk == NULL)
		return VPNR_ERR_INTERNAL;
	iov[0].p = id_body;
	iov[0].len = id_len;
	rv = vpnr__prf(prf, signer_i ? sa->keys.sk_pi : sa->keys.sk_pr, plen,
	    iov, 1, macid);
	if (rv != VPNR_OK)
		goto done;
	iov[0].p = (const uint8_t *)key_pad;
	iov[0].len = sizeof(key_pad) - 1;
	rv = vpnr__prf(prf, c->psk, c->psk_len, iov, 1, padkey);
	if (rv != VPNR_OK)
		goto done;
	if (signer_i) {
		iov[0].p = sa->init_req;
		iov[0].len = sa->init_req_len;
		iov[1].p = sa->nr;
		iov[1].len = sa->nr_len;
	} else {
		iov[0].p = sa->init_resp;
		iov[0].len = sa->init_resp_len;
		iov[1].p = sa->ni;
		iov[1].len = sa->ni_len;
	}
	iov[2].p = macid;
	iov[2].len = plen;
	rv = vpnr__prf(prf, padkey, plen, iov, 3, out);
	*outlen = plen;
done:
	explicit_bzero(macid, sizeof(macid));
	explicit_bzero(padkey, sizeof(padkey));
	return rv;
}

/* Check the peer's AUTH payload in msg; VPNR_ERR_AUTH_FAILED if bad. */
int
vpnr__ike_auth_verify(const struct ike_sa *sa, const struct vpnr__ike_msg *msg)
{
	uint8_t want[VPNR__MAX_PRF_LEN];
	const uint8_t *id;
	size_t idlen, wlen = 0;
	int peer_i = !sa->initiator, rv;

	if (!msg->has_auth || msg->auth_method != VPNR__AUTH_PSK)
		return VPNR_ERR_AUTH_FAILED;
	id = peer_i ? msg->idi_body : msg->idr_body;
	idlen = peer_i ? msg->idi_body_len : msg->idr_body_len;
	if (id == NULL || (peer_i ? !msg->has_idi : !msg->has_idr))
		return VPNR_ERR_AUTH_FAILED;
	rv = vpnr__ike_auth_compute(sa, peer_i, id, idlen, want, &wlen);
	if (rv != VPNR_OK)
		return rv;
	if (msg->auth_len != wlen ||
	    CRYPTO_memcmp(want, msg->auth_data, wlen) != 0)
		rv = VPNR_ERR_AUTH_FAILED;
	explicit_bzero(want, sizeof(want));
	return rv;
}

/* The peer's identity against the configured remote identity. */
int
vpnr__ike_id_check(const struct ike_sa *sa, uint8_t type, const uint8_t *data,
    size_t len)
{
	const struct vpnr_tunnel_config *c = &sa->tun->cfg;

	if (!c->remote_id_set || c->remote_id_type == 0)
		return VPNR_OK;
	if (type != c->remote_id_type || len != c->remote_id_len ||
	    memcmp(data, c->remote_id, len) != 0)
		return VPNR_ERR_AUTH_FAILED;
	return VPNR_OK;
}

const char *
vpnr__ike_id_str(uint8_t type, const uint8_t *data, size_t len, char *buf,
    size_t cap)
{
	vpnr_addr a;
	size_t i, o;

	memset(&a, 0, sizeof(a));
	switch (type) {
	case VPNR_ID_IPV4_ADDR:
		if (len != 4)
			break;
		a.family = VPNR_AF_INET;
		memcpy(a.bytes, data, 4);
		return vpnr_addr_format(&a, buf, cap);
	case VPNR_ID_IPV6_ADDR:
		if (len != 16)
			break;
		a.family = VPNR_AF_INET6;
		memcpy(a.bytes, data, 16);
		return vpnr_addr_format(&a, buf, cap);
	case VPNR_ID_FQDN:
		snprintf(buf, cap, "%.*s", (int)(len > 200 ? 200 : len),
		    (const char *)data);
		for (i = 0; buf[i] != '\0'; i++)
			if (buf[i] < 0x20 || buf[i] > 0x7e)
				buf[i] = '?';
		return buf;
	case VPNR_ID_KEY_ID:
		o = (size_t)snprintf(buf, cap, "keyid:");
		for (i = 0; i < len && o + 3 < cap; i++)
			o +=
			    (size_t)snprintf(buf + o, cap - o, "%02x", data[i]);
		return buf;
	default:
		break;
	}
	snprintf(buf, cap, "(id type %u, %zu bytes)", type, len);
	return buf;
}
