/*
 * libFuzzer harness for the IKEv1 codec (ipsec/ikev1_msg.c) and the
 * IKEv1 proposal matcher (ipsec/ikev1_proposal.c).
 *
 * The input is parsed as a clear message and as a decrypted one (the
 * padding rules differ).  An encrypted message is decrypted with a
 * fixed AES-128 and 3DES key and parsed too.  Invariants (abort on
 * violation):
 *  - on success the chain and padding add up to the body, and the
 *    bytes a Quick Mode hash covers lie inside the chain;
 *  - decode -> encode -> decode -> encode is stable, and the encoding
 *    is exactly the header and the chain;
 *  - encrypting the encoding and decrypting it gives it back;
 *  - a Phase 1 / Quick Mode selection from a parsed SA names a
 *    transform inside it, and the echoed reply is accepted with the
 *    same result;
 *  - a Quick Mode ID that converts to a selector converts back to the
 *    same selector.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto_v1.h"
#include "ikev1_msg.h"
#include "ikev1_proposal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
rebuild(struct vpnr__wbuf *w, const struct vpnr__v1_msg *m)
{
	struct vpnr__v1_builder b;
	uint8_t i;

	vpnr__v1_build_begin(&b, w, &m->hdr);
	if (m->has_sa)
		vpnr__v1_add_sa(&b, &m->sa);
	if (m->has_ke)
		vpnr__v1_add_ke(&b, m->ke, m->ke_len);
	if (m->has_nonce)
		vpnr__v1_add_nonce(&b, m->nonce, m->nonce_len);
	for (i = 0; i < m->n_id; i++)
		vpnr__v1_add_id(&b, m->id[i].type, m->id[i].proto,
		    m->id[i].port, m->id[i].data, m->id[i].len);
	if (m->has_hash)
		vpnr__v1_add_hash(&b, m->hash, m->hash_len);
	for (i = 0; i < m->n_notify; i++)
		vpnr__v1_add_notify(&b, m->notify[i].doi, m->notify[i].protocol,
		    m->notify[i].spi, m->notify[i].spi_len, m->notify[i].type,
		    m->notify[i].data, m->notify[i].data_len);
	for (i = 0; i < m->n_delete; i++)
		vpnr__v1_add_delete(&b, m->del[i].doi, m->del[i].protocol,
		    m->del[i].spi_len, m->del[i].spis, m->del[i].n_spi);
	for (i = 0; i < m->n_vid; i++)
		vpnr__v1_add_vid(&b, m->vid[i].data, m->vid[i].len);
	for (i = 0; i < m->n_natd; i++)
		vpnr__v1_add_natd(&b, m->natd[i].type, m->natd[i].data,
		    m->natd[i].len);
	for (i = 0; i < m->n_other; i++)
		vpnr__v1_add_raw(&b, m->other[i].type, m->other[i].data,
		    m->other[i].len);
	check(vpnr__v1_build_end(&b) == VPNR_OK);
}

static struct vpnr__v1_msg m1, m2, m3;
static struct vpnr__v1_sa echo;
static uint8_t buf1[65536 + 64], buf2[65536 + 64], buf3[65536 + 64];

static struct vpnr__prop p1[2], p2[3];
static int props_ready;

static void
props_init(void)
{
	if (props_ready)
		return;
	check(vpnr__v1_prop_parse(&p1[0], VPNR__PROTO_IKE,
		  "aes128-aes256-sha1-sha256-modp1024-modp2048", NULL,
		  0) == VPNR_OK);
	check(vpnr__v1_prop_parse(&p1[1], VPNR__PROTO_IKE,
		  "3des-md5-sha512-modp1536-ecp256", NULL, 0) == VPNR_OK);
	check(vpnr__v1_prop_parse(&p2[0], VPNR__PROTO_ESP,
		  "aes128-aes256-sha1-sha256-modp1024-esn-noesn", NULL,
		  0) == VPNR_OK);
	check(vpnr__v1_prop_parse(&p2[1], VPNR__PROTO_ESP, "3des-md5", NULL,
		  0) == VPNR_OK);
	check(vpnr__v1_prop_parse(&p2[2], VPNR__PROTO_ESP,
		  "aes256gcm16-aes128gcm16", NULL, 0) == VPNR_OK);
	props_ready = 1;
}

/* The reply SA for a selection, parsed back; accept must agree. */
static void
check_proposals(const struct vpnr__v1_sa *sa)
{
	struct vpnr__v1_p1_suite s1, a1;
	struct vpnr__v1_p2_suite s2, a2;
	struct vpnr__v1_builder b;
	struct vpnr__v1_hdr h;
	struct vpnr__wbuf w;
	static const uint16_t encaps[] = { VPNR__V1_ENCAP_TUNNEL,
		VPNR__V1_ENCAP_UDP_TUNNEL };
	size_t k;

	props_init();
	memset(&h, 0, sizeof(h));
	if (vpnr__v1_p1_select(p1, 2, sa, &s1) == VPNR_OK) {
		check(s1.t_idx < sa->n_t);
		check(vpnr__v1_cipher_key_len(s1.enc, s1.enc_bits) > 0);
		check(vpnr__v1_hash_len(s1.hash) > 0);
		/* echo from the proposal holding the transform */
		for (k = 0; k < sa->n_p; k++)
			if (s1.t_idx >= sa->p[k].first_t &&
			    s1.t_idx < sa->p[k].first_t + sa->p[k].n_t)
				break;
		check(k < sa->n_p);
		check(vpnr__v1_sa_echo(&echo, sa, (uint8_t)k, s1.t_idx, NULL,
			  0) == VPNR_OK);
		vpnr__wbuf_init_fixed(&w, buf3, sizeof(buf3));
		vpnr__v1_build_begin(&b, &w, &h);
		vpnr__v1_add_sa(&b, &echo);
		check(vpnr__v1_build_end(&b) == VPNR_OK);
		check(vpnr__v1_parse(&m3, buf3, vpnr__wbuf_len(&w), 0, NULL) ==
		    VPNR_OK);
		check(vpnr__v1_p1_accept(p1, 2, &m3.sa, &a1) == VPNR_OK);
		check(a1.enc == s1.enc && a1.enc_bits == s1.enc_bits &&
		    a1.hash == s1.hash && a1.group == s1.group &&
		    a1.life.seconds == s1.life.seconds &&
		    a1.life.kbytes == s1.life.kbytes);
	}
	for (k = 0; k < 2; k++) {
		if (vpnr__v1_p2_select(p2, 3, sa, encaps[k], &s2) != VPNR_OK)
			continue;
		check(s2.p_idx < sa->n_p && s2.t_idx < sa->n_t);
		check(s2.encap == encaps[k]);
		check(vpnr__v1_esp_keymat_len(&s2.suite) > 0);
		check(vpnr__v1_sa_echo(&echo, sa, s2.p_idx, s2.t_idx,
			  (const uint8_t *)"\1\2\3\4", 4) == VPNR_OK);
		vpnr__wbuf_init_fixed(&w, buf3, sizeof(buf3));
		vpnr__v1_build_begin(&b, &w, &h);
		vpnr__v1_add_sa(&b, &echo);
		check(vpnr__v1_build_end(&b) == VPNR_OK);
		check(vpnr__v1_parse(&m3, buf3, vpnr__wbuf_len(&w), 0, NULL) ==
		    VPNR_OK);
		check(vpnr__v1_p2_accept(p2, 3, &m3.sa, encaps[k], &a2) ==
		    VPNR_OK);
		check(a2.suite.encr == s2.suite.encr &&
		    a2.suite.encr_bits == s2.suite.encr_bits &&
		    a2.suite.integ == s2.suite.integ &&
		    a2.suite.dh == s2.suite.dh && a2.suite.esn == s2.suite.esn);
		check(memcmp(a2.spi, "\1\2\3\4", 4) == 0);
	}
}

static void
check_ids(const struct vpnr__v1_msg *m)
{
	vpnr_ts ts, ts2;
	struct vpnr__v1_id id;
	uint8_t data[32], type, proto;
	uint16_t port;
	size_t len;
	uint8_t i;

	for (i = 0; i < m->n_id; i++) {
		if (vpnr__v1_id_to_ts(&m->id[i], &ts) != VPNR_OK)
			continue;
		check(memcmp(ts.addr_start.bytes, ts.addr_end.bytes, 16) <= 0);
		check(vpnr__v1_ts_to_id(&ts, &type, &proto, &port, data,
			  sizeof(data), &len) == VPNR_OK);
		memset(&id, 0, sizeof(id));
		id.type = type;
		id.proto = proto;
		id.port = port;
		id.data = data;
		id.len = len;
		check(vpnr__v1_id_to_ts(&id, &ts2) == VPNR_OK);
		check(memcmp(&ts, &ts2, sizeof(ts)) == 0);
	}
}

/* Invariants for a message that parsed (not encrypted). */
static void
check_parsed(const struct vpnr__v1_msg *m, int flags)
{
	static uint8_t out[65536 + 64];
	struct vpnr__wbuf w1, w2;
	uint8_t key[24], iv[16];
	size_t olen;

	check(!m->encrypted);
	check(m->body_len == m->chain_len + m->pad_len);
	check((flags & VPNR__V1_PARSE_DECRYPTED) || m->pad_len == 0);
	if (m->after_hash != NULL) {
		check(m->has_hash);
		check(m->after_hash >= m->body &&
		    m->after_hash + m->after_hash_len <=
			m->body + m->chain_len);
	}
	vpnr__wbuf_init_fixed(&w1, buf1, sizeof(buf1));
	rebuild(&w1, m);
	check(vpnr__wbuf_len(&w1) == VPNR__V1_HDR_LEN + m->chain_len);
	check(vpnr__v1_parse(&m2, buf1, vpnr__wbuf_len(&w1), flags, NULL) ==
	    VPNR_OK);
	check(m2.n_payloads == m->n_payloads && m2.sa.n_t == m->sa.n_t &&
	    m2.n_notify == m->n_notify && m2.n_vid == m->n_vid);
	vpnr__wbuf_init_fixed(&w2, buf2, sizeof(buf2));
	rebuild(&w2, &m2);
	check(vpnr__wbuf_len(&w2) == vpnr__wbuf_len(&w1));
	check(memcmp(buf1, buf2, vpnr__wbuf_len(&w1)) == 0);
	if (m->has_sa)
		check_proposals(&m->sa);
	check_ids(m);

	/* encrypt the encoding and back (AES-128) */
	if (vpnr__wbuf_len(&w1) > VPNR__V1_HDR_LEN &&
	    vpnr__wbuf_len(&w1) + 16 < sizeof(buf1)) {
		memset(key, 0x42, sizeof(key));
		memset(iv, 0x24, sizeof(iv));
		w1.cap = sizeof(buf1);
		check(vpnr__v1_encrypt(&w1, 0, VPNR__V1_ENC_AES_CBC, key, 16,
			  iv, NULL) == VPNR_OK);
		check(vpnr__v1_decrypt(buf1, vpnr__wbuf_len(&w1),
			  VPNR__V1_ENC_AES_CBC, key, 16, iv, out, sizeof(out),
			  &olen, NULL, NULL) == VPNR_OK);
		check(memcmp(out + VPNR__V1_HDR_LEN, buf2 + VPNR__V1_HDR_LEN,
			  vpnr__wbuf_len(&w2) - VPNR__V1_HDR_LEN) == 0);
		check(vpnr__v1_parse(&m3, out, olen, VPNR__V1_PARSE_DECRYPTED,
			  NULL) == VPNR_OK);
		check(m3.chain_len == m->chain_len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t plain[65536 + 64];
	static const uint8_t key[24] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 };
	static const uint8_t iv[16] = { 0 };
	struct vpnr__v1_perr e;
	size_t plen;
	int flags, rc;

	if (size > 65535)
		return 0;
	for (flags = 0; flags <= VPNR__V1_PARSE_DECRYPTED; flags++) {
		rc = vpnr__v1_parse(&m1, data, size, flags, &e);
		if (rc != VPNR_OK) {
			check(rc == VPNR_ERR_MALFORMED);
			check(e.reason > V1E_NONE && e.reason < V1E_REASONS);
			check(e.offset <= size);
			continue;
		}
		check(e.reason == V1E_NONE);
		if (!m1.encrypted) {
			check_parsed(&m1, flags);
			continue;
		}
		/* Decrypt with a fixed key: whatever comes out must
		 * either fail cleanly or satisfy the invariants. */
		if (vpnr__v1_decrypt(data, size, VPNR__V1_ENC_AES_CBC, key, 16,
			iv, plain, sizeof(plain), &plen, NULL,
			NULL) == VPNR_OK &&
		    vpnr__v1_parse(&m1, plain, plen, VPNR__V1_PARSE_DECRYPTED,
			NULL) == VPNR_OK)
			check_parsed(&m1, VPNR__V1_PARSE_DECRYPTED);
		if (vpnr__v1_decrypt(data, size, VPNR__V1_ENC_3DES_CBC, key, 24,
			iv, plain, sizeof(plain), &plen, NULL,
			NULL) == VPNR_OK &&
		    vpnr__v1_parse(&m1, plain, plen, VPNR__V1_PARSE_DECRYPTED,
			NULL) == VPNR_OK)
			check_parsed(&m1, VPNR__V1_PARSE_DECRYPTED);
	}
	return 0;
}
