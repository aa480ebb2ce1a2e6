/*
 * libFuzzer harness for the IKEv2 codec (ipsec/ike_msg.c).
 *
 * 1. The input as a whole message (vpnr__ike_parse).
 * 2. input[0] as the first payload type and the rest as a decrypted
 *    inner chain (vpnr__ike_parse_chain).
 * Whatever parses is rebuilt with the builder and parsed again; the
 * second parse must succeed and agree with the first (else abort).
 * Parsed SA and TS payloads go through proposal selection and TS
 * narrowing.
 * 3. The input as a proposal string (vpnr__prop_parse, IKE and ESP):
 *    a proposal that parses must select itself from its own SA payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ike_msg.h"
#include "ike_proposal.h"
#include "ike_ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static void
rebuild_payloads(struct vpnr__ike_builder *b, const struct vpnr__ike_msg *m)
{
	uint8_t i;

	if (m->has_sa)
		vpnr__ike_add_sa(b, &m->sa);
	if (m->has_ke)
		vpnr__ike_add_ke(b, m->ke_group, m->ke_data, m->ke_len);
	if (m->has_nonce)
		vpnr__ike_add_nonce(b, m->nonce, m->nonce_len);
	if (m->has_idi)
		vpnr__ike_add_id(b, VPNR__PL_IDI, m->idi_body, m->idi_body_len);
	if (m->has_idr)
		vpnr__ike_add_id(b, VPNR__PL_IDR, m->idr_body, m->idr_body_len);
	if (m->has_auth)
		vpnr__ike_add_auth(b, m->auth_method, m->auth_data,
		    m->auth_len);
	for (i = 0; i < m->n_notify; i++)
		vpnr__ike_add_notify(b, m->notify[i].protocol, m->notify[i].spi,
		    m->notify[i].spi_len, m->notify[i].type, m->notify[i].data,
		    m->notify[i].data_len);
	for (i = 0; i < m->n_delete; i++)
		vpnr__ike_add_delete(b, m->del[i].protocol, m->del[i].spi_len,
		    m->del[i].spis, m->del[i].n_spi);
	/* TS payloads holding only unknown selector types are dropped */
	if (m->has_tsi && m->tsi.n > 0)
		vpnr__ike_add_ts(b, VPNR__PL_TSI, m->tsi.ts, m->tsi.n);
	if (m->has_tsr && m->tsr.n > 0)
		vpnr__ike_add_ts(b, VPNR__PL_TSR, m->tsr.ts, m->tsr.n);
}

static int
ts_same(const struct vpnr__ike_ts_pl *a, const struct vpnr__ike_ts_pl *b)
{
	uint8_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->ts[i].ip_proto != b->ts[i].ip_proto ||
		    a->ts[i].port_start != b->ts[i].port_start ||
		    a->ts[i].port_end != b->ts[i].port_end ||
		    a->ts[i].addr_start.family != b->ts[i].addr_start.family ||
		    memcmp(a->ts[i].addr_start.bytes, b->ts[i].addr_start.bytes,
			16) != 0 ||
		    memcmp(a->ts[i].addr_end.bytes, b->ts[i].addr_end.bytes,
			16) != 0)
			return 0;
	}
	return 1;
}

static void
compare(const struct vpnr__ike_msg *a, const struct vpnr__ike_msg *b)
{
	uint8_t i, j;

	check(a->has_sa == b->has_sa && a->has_ke == b->has_ke &&
	    a->has_nonce == b->has_nonce && a->has_idi == b->has_idi &&
	    a->has_idr == b->has_idr && a->has_auth == b->has_auth &&
	    a->has_sk == b->has_sk);
	check(a->n_notify == b->n_notify && a->n_delete == b->n_delete);
	if (a->has_sa) {
		check(a->sa.n == b->sa.n);
		for (i = 0; i < a->sa.n; i++) {
			const struct vpnr__ike_proposal *p = &a->sa.p[i];
			const struct vpnr__ike_proposal *q = &b->sa.p[i];

			check(p->num == q->num && p->protocol == q->protocol &&
			    p->spi_len == q->spi_len &&
			    p->n_transforms == q->n_transforms &&
			    memcmp(p->spi, q->spi, p->spi_len) == 0);
			for (j = 0; j < p->n_transforms; j++)
				check(p->t[j].type == q->t[j].type &&
				    p->t[j].id == q->t[j].id &&
				    p->t[j].key_len == q->t[j].key_len);
		}
	}
	if (a->has_ke)
		check(a->ke_group == b->ke_group && a->ke_len == b->ke_len &&
		    memcmp(a->ke_data, b->ke_data, a->ke_len) == 0);
	if (a->has_nonce)
		check(a->nonce_len == b->nonce_len &&
		    memcmp(a->nonce, b->nonce, a->nonce_len) == 0);
	if (a->has_idi)
		check(a->idi_body_len == b->idi_body_len &&
		    a->idi_type == b->idi_type &&
		    memcmp(a->idi_body, b->idi_body, a->idi_body_len) == 0);
	if (a->has_idr)
		check(a->idr_body_len == b->idr_body_len &&
		    memcmp(a->idr_body, b->idr_body, a->idr_body_len) == 0);
	if (a->has_auth)
		check(a->auth_method == b->auth_method &&
		    a->auth_len == b->auth_len &&
		    memcmp(a->auth_data, b->auth_data, a->auth_len) == 0);
	for (i = 0; i < a->n_notify; i++)
		check(a->notify[i].type == b->notify[i].type &&
		    a->notify[i].spi_len == b->notify[i].spi_len &&
		    a->notify[i].data_len == b->notify[i].data_len &&
		    (a->notify[i].data_len == 0 ||
			memcmp(a->notify[i].data, b->notify[i].data,
			    a->notify[i].data_len) == 0));
	for (i = 0; i < a->n_delete; i++)
		check(a->del[i].protocol == b->del[i].protocol &&
		    a->del[i].n_spi == b->del[i].n_spi);
	if (a->has_tsi && a->tsi.n > 0)
		check(ts_same(&a->tsi, &b->tsi));
	if (a->has_tsr && a->tsr.n > 0)
		check(ts_same(&a->tsr, &b->tsr));
	if (a->has_sk)
		check(a->sk_next == b->sk_next &&
		    a->sk_body_len == b->sk_body_len &&
		    memcmp(a->sk_body, b->sk_body, a->sk_body_len) == 0);
}

/* Feed what parsed to proposal selection and TS narrowing. */
static void
semantics(const struct vpnr__ike_msg *m)
{
	static const char *strs[] = { "aes256-sha1-modp1024",
		"aes256gcm16-prfsha384-x25519-ecp256",
		"aes128-sha256-esn-noesn", "aes256gcm16-modp2048" };
	static const uint8_t protos[] = { VPNR__PROTO_IKE, VPNR__PROTO_IKE,
		VPNR__PROTO_ESP, VPNR__PROTO_ESP };
	struct vpnr__prop ours[4];
	struct vpnr__suite s;
	struct vpnr__ike_sa_pl sa;
	vpnr_ts any[2], out[8];
	char buf[128];
	size_t i, chosen, n;

	if (m->has_sa) {
		for (i = 0; i < 4; i++)
			check(vpnr__prop_parse(&ours[i], protos[i], strs[i],
				  NULL, 0) == VPNR_OK);
		if (vpnr__prop_select_ex(ours, 4, &m->sa, m->ke_group, 0, &s,
			&chosen) == VPNR_OK) {
			check(chosen < m->sa.n);
			vpnr__suite_str(&s, buf, sizeof(buf));
			vpnr__suite_to_sa(&sa, &s, m->sa.p[chosen].num,
			    m->sa.p[chosen].spi, m->sa.p[chosen].spi_len);
			/* our own answer must be acceptable to us */
			check(vpnr__prop_accept(ours, 4, &sa, &s) == VPNR_OK);
		}
		(void)vpnr__prop_select_ex(ours, 4, &m->sa, 0, VPNR__PROP_NO_DH,
		    &s, &chosen);
		(void)vpnr__prop_accept(ours, 4, &m->sa, &s);
	}
	vpnr__ts_any(&any[0], VPNR_AF_INET);
	vpnr__ts_any(&any[1], VPNR_AF_INET6);
	if (m->has_tsi) {
		n = vpnr__ts_narrow(m->tsi.ts, m->tsi.n, any, 2, out, 8);
		check(vpnr__ts_subset(out, n, m->tsi.ts, m->tsi.n));
		check(vpnr__ts_subset(m->tsi.ts, m->tsi.n, any, 2));
		for (i = 0; i < n; i++)
			vpnr__ts_str(&out[i], buf, sizeof(buf));
	}
	if (m->has_tsi && m->has_tsr) {
		n = vpnr__ts_narrow(m->tsi.ts, m->tsi.n, m->tsr.ts, m->tsr.n,
		    out, 8);
		check(vpnr__ts_subset(out, n, m->tsr.ts, m->tsr.n));
	}
}

static void
outer(const uint8_t *data, size_t size)
{
	static struct vpnr__ike_msg m, m2;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf w;
	size_t sk_off;

	if (vpnr__ike_parse(&m, data, size) != VPNR_OK)
		return;
	vpnr__wbuf_init(&w, NULL, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin(&b, &w, &m.hdr);
	rebuild_payloads(&b, &m);
	if (m.has_sk) {
		vpnr__ike_add_sk_begin(&b, m.sk_next, &sk_off);
		vpnr__wbuf_put_bytes(&w, m.sk_body, m.sk_body_len);
		vpnr__ike_sk_finish(&b, sk_off);
	}
	if (vpnr__ike_build_end(&b) == 0) {
		check(vpnr__ike_parse(&m2, vpnr__wbuf_data(&w),
			  vpnr__wbuf_len(&w)) == VPNR_OK);
		compare(&m, &m2);
		check(m2.hdr.msg_id == m.hdr.msg_id &&
		    m2.hdr.spi_i == m.hdr.spi_i && m2.hdr.flags == m.hdr.flags);
	}
	vpnr__wbuf_free(&w);
	(void)vpnr__ike_find_notify(&m, VPNR__N_COOKIE);
	semantics(&m);
}

static void
inner(const uint8_t *data, size_t size)
{
	static struct vpnr__ike_msg m, m2;
	struct vpnr__ike_builder b;
	struct vpnr__wbuf w;

	if (size < 1)
		return;
	memset(&m, 0, sizeof(m));
	if (vpnr__ike_parse_chain(&m, data[0], data + 1, size - 1) != VPNR_OK)
		return;
	vpnr__wbuf_init(&w, NULL, VPNR__IKE_MAX_MSG);
	vpnr__ike_build_begin_inner(&b, &w);
	rebuild_payloads(&b, &m);
	if (vpnr__ike_build_end(&b) == 0) {
		memset(&m2, 0, sizeof(m2));
		check(vpnr__ike_parse_chain(&m2, vpnr__ike_build_first(&b),
			  vpnr__wbuf_data(&w), vpnr__wbuf_len(&w)) == VPNR_OK);
		compare(&m, &m2);
	}
	vpnr__wbuf_free(&w);
	semantics(&m);
}

static void
prop_string(const uint8_t *data, size_t size)
{
	static const uint8_t protos[] = { VPNR__PROTO_IKE, VPNR__PROTO_ESP };
	static const uint8_t spi[4] = { 1, 2, 3, 4 };
	struct vpnr__prop p;
	struct vpnr__ike_sa_pl sa;
	struct vpnr__suite s, a;
	char str[300], err[128];
	size_t i, chosen;

	if (size >= sizeof(str))
		return;
	memcpy(str, data, size);
	str[size] = '\0';
	for (i = 0; i < 2; i++) {
		if (vpnr__prop_parse(&p, protos[i], str, err, sizeof(err)) !=
		    VPNR_OK)
			continue;
		check(vpnr__prop_to_sa(&sa, &p, 1, spi,
			  protos[i] == VPNR__PROTO_ESP ? 4 : 0) == VPNR_OK);
		check(vpnr__prop_select(&p, 1, &sa, &s, &chosen) == VPNR_OK);
		check(chosen == 0);
		vpnr__suite_to_sa(&sa, &s, 1, spi,
		    protos[i] == VPNR__PROTO_ESP ? 4 : 0);
		check(vpnr__prop_accept(&p, 1, &sa, &a) == VPNR_OK);
		check(a.protocol == s.protocol && a.encr == s.encr &&
		    a.encr_bits == s.encr_bits && a.prf == s.prf &&
		    a.integ == s.integ && a.dh == s.dh && a.esn == s.esn);
		vpnr__suite_str(&s, err, sizeof(err));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpnr__ike_hdr h;

	(void)vpnr__ike_parse_hdr(&h, data, size);
	outer(data, size);
	inner(data, size);
	prop_string(data, size);
	return 0;
}
