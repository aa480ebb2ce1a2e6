/*
 * bgp/msg: framing, OPEN/capabilities (captured BIRD 2 and GoBGP
 * OPENs), KEEPALIVE, NOTIFICATION, ROUTE-REFRESH, UPDATE splitting,
 * NLRI prefixes and End-of-RIB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "attr.h"
#include "bgp_captures.h"
#include "buf.h"
#include "msg.h"

/* hex string (spaces ignored) into out; returns the byte count */
static size_t
hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &v) == 1);
		assert_true(n < max);
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

/* header + body into out */
static size_t
mkmsg(uint8_t type, const char *body_hex, uint8_t *out, size_t max)
{
	size_t n;

	assert_true(max >= VPNR__BGP_HDR_LEN);
	memset(out, 0xff, 16);
	n = hex(body_hex, out + VPNR__BGP_HDR_LEN, max - VPNR__BGP_HDR_LEN);
	n += VPNR__BGP_HDR_LEN;
	out[16] = (uint8_t)(n >> 8);
	out[17] = (uint8_t)n;
	out[18] = type;
	return n;
}

static const struct bgp_capture *
capture(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(bgp_captures) / sizeof(bgp_captures[0]); i++)
		if (strcmp(bgp_captures[i].name, name) == 0)
			return &bgp_captures[i];
	fail_msg("no capture %s", name);
	return NULL;
}

/* ------------------------------------------------------------------ */

static void
test_frame_incremental_stream(void **state)
{
	uint8_t stream[8192];
	size_t len = 0, i, have, off, need, nmsg = 0, total = 0;
	struct vpnr__bgp_err err;
	uint8_t type;
	int rc;

	(void)state;
	/* concatenate every capture into one TCP byte stream */
	for (i = 0; i < sizeof(bgp_captures) / sizeof(bgp_captures[0]); i++) {
		assert_true(len + bgp_captures[i].len <= sizeof(stream));
		memcpy(stream + len, bgp_captures[i].msg, bgp_captures[i].len);
		len += bgp_captures[i].len;
	}
	/* feed it one byte at a time */
	off = 0;
	for (have = 1; have <= len; have++) {
		rc = vpnr__bgp_frame(stream + off, have - off,
		    VPNR__BGP_MAX_LEN, &need, &type, &err);
		assert_true(rc >= 0);
		if (rc == 0) {
			assert_true(need > have - off);
			continue;
		}
		assert_int_equal(need, have - off);
		assert_int_equal(type, bgp_captures[nmsg].type);
		assert_int_equal(need, bgp_captures[nmsg].len);
		total += need;
		off += need;
		nmsg++;
	}
	assert_int_equal(nmsg, sizeof(bgp_captures) / sizeof(bgp_captures[0]));
	assert_int_equal(total, len);
}

static void
test_frame_header_errors(void **state)
{
	static const struct {
		const char *hdr; /* 19 bytes */
		uint8_t code, subcode;
		size_t dlen;
		uint8_t d0, d1;
	} cases[] = {
		/* marker not all ones */
		{ "ffffffffffffffffffffffffffff7fff 0013 04", 1, 1, 0, 0, 0 },
		/* length below 19 */
		{ "ffffffffffffffffffffffffffffffff 0012 04", 1, 2, 2, 0x00,
		    0x12 },
		/* length above 4096 */
		{ "ffffffffffffffffffffffffffffffff 1001 02", 1, 2, 2, 0x10,
		    0x01 },
		/* KEEPALIVE must be exactly 19 */
		{ "ffffffffffffffffffffffffffffffff 0014 04", 1, 2, 2, 0x00,
		    0x14 },
		/* OPEN shorter than 29 */
		{ "ffffffffffffffffffffffffffffffff 001c 01", 1, 2, 2, 0x00,
		    0x1c },
		/* UPDATE shorter than 23 */
		{ "ffffffffffffffffffffffffffffffff 0016 02", 1, 2, 2, 0x00,
		    0x16 },
		/* NOTIFICATION shorter than 21 */
		{ "ffffffffffffffffffffffffffffffff 0014 03", 1, 2, 2, 0x00,
		    0x14 },
		/* unknown type */
		{ "ffffffffffffffffffffffffffffffff 0013 09", 1, 3, 1, 0x09,
		    0 },
	};
	uint8_t buf[32];
	struct vpnr__bgp_err err;
	size_t i, n, need;
	uint8_t type;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hex(cases[i].hdr, buf, sizeof(buf));
		assert_int_equal(n, 19);
		assert_int_equal(vpnr__bgp_frame(buf, n, VPNR__BGP_MAX_LEN,
				     &need, &type, &err),
		    VPNR_ERR_MALFORMED);
		assert_int_equal(err.code, cases[i].code);
		assert_int_equal(err.subcode, cases[i].subcode);
		assert_int_equal(err.data_len, cases[i].dlen);
		if (cases[i].dlen > 0)
			assert_int_equal(err.data[0], cases[i].d0);
		if (cases[i].dlen > 1)
			assert_int_equal(err.data[1], cases[i].d1);
	}
	/* fewer than 19 bytes: just wait */
	assert_int_equal(vpnr__bgp_frame(buf, 18, VPNR__BGP_MAX_LEN, &need,
			     &type, &err),
	    0);
	assert_int_equal(need, 19);
}

static void
test_open_bird_capture(void **state)
{
	const struct bgp_capture *c = capture("cap_bird_as4_open0");
	struct vpnr__bgp_open o;
	struct vpnr__bgp_err err;

	(void)state;
	assert_int_equal(vpnr__bgp_open_parse(c->msg, c->len, &o, &err), 0);
	assert_int_equal(o.version, 4);
	assert_int_equal(o.my_as2, VPNR__BGP_AS_TRANS);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(o.bgp_id, 0xc0000201); /* 192.0.2.1 */
	assert_true(o.caps & VPNR__BGP_CAPF_AS4);
	assert_int_equal(o.as4, 4200000001u);
	assert_int_equal(vpnr__bgp_open_peer_as(&o), 4200000001u);
	assert_int_equal(o.mp_aids,
	    (1u << VPNR__BGP_AID_IPV4) | (1u << VPNR__BGP_AID_IPV6));
	assert_int_equal(o.mp_unknown, 0);
	assert_true(o.caps & VPNR__BGP_CAPF_RREFRESH);
	assert_true(o.caps & VPNR__BGP_CAPF_ENH_RREFRESH);
	assert_true(o.caps & VPNR__BGP_CAPF_LLGR);
	/* BIRD advertises GR helper: restart time 120, no AFIs */
	assert_true(o.caps & VPNR__BGP_CAPF_GR);
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(o.gr_flags, 0);
	assert_int_equal(o.gr_aids, 0);
	assert_int_equal(o.n_gr_afi, 0);
	assert_false(o.caps & VPNR__BGP_CAPF_UNKNOWN);

	c = capture("cap_bird_v6_open0");
	assert_int_equal(vpnr__bgp_open_parse(c->msg, c->len, &o, &err), 0);
	assert_int_equal(o.my_as2, 65001);
	assert_int_equal(vpnr__bgp_open_peer_as(&o), 65001);
}

static void
test_open_gobgp_capture(void **state)
{
	const struct bgp_capture *c = capture("cap_gobgp_as4_open0");
	struct vpnr__bgp_open o;
	struct vpnr__bgp_err err;

	(void)state;
	assert_int_equal(vpnr__bgp_open_parse(c->msg, c->len, &o, &err), 0);
	assert_int_equal(o.hold_time, 90);
	assert_int_equal(vpnr__bgp_open_peer_as(&o), 4200000001u);
	assert_int_equal(o.mp_aids,
	    (1u << VPNR__BGP_AID_IPV4) | (1u << VPNR__BGP_AID_IPV6));
	assert_true(o.caps & VPNR__BGP_CAPF_RREFRESH);
	assert_true(o.caps & VPNR__BGP_CAPF_FQDN);
	assert_true(o.caps & VPNR__BGP_CAPF_EXTNH);
	assert_false(o.caps & VPNR__BGP_CAPF_ENH_RREFRESH);
	/* GR with IPv4 unicast listed, forwarding state not preserved */
	assert_true(o.caps & VPNR__BGP_CAPF_GR);
	assert_int_equal(o.gr_time, 120);
	assert_int_equal(o.n_gr_afi, 1);
	assert_int_equal(o.gr_afi[0].afi, 1);
	assert_int_equal(o.gr_afi[0].safi, 1);
	assert_int_equal(o.gr_aids, 1u << VPNR__BGP_AID_IPV4);
	assert_int_equal(o.gr_fwd_aids, 0);
}

static void
test_open_roundtrip(void **state)
{
	struct vpnr__bgp_open o, p;
	struct vpnr__bgp_err err;
	struct vpnr__wbuf w;
	size_t need;
	uint8_t type;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.local_as = 4200000005u;
	o.hold_time = 30;
	o.bgp_id = 0xa9fe1501;
	o.caps = VPNR__BGP_CAPF_AS4 | VPNR__BGP_CAPF_RREFRESH |
	    VPNR__BGP_CAPF_ENH_RREFRESH | VPNR__BGP_CAPF_GR;
	o.mp_aids = 3;
	o.gr_flags = VPNR__BGP_GR_F_RESTART | VPNR__BGP_GR_F_NOTIF;
	o.gr_time = 300;
	o.gr_aids = 3;
	o.gr_fwd_aids = 1u << VPNR__BGP_AID_IPV6;
	vpnr__wbuf_init(&w, NULL, 4096);
	assert_int_equal(vpnr__bgp_open_encode(&w, &o), 0);
	assert_int_equal(vpnr__bgp_frame(vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), VPNR__BGP_MAX_LEN, &need,
			     &type, &err),
	    1);
	assert_int_equal(type, VPNR__BGP_OPEN);
	assert_int_equal(need, vpnr__wbuf_len(&w));
	assert_int_equal(vpnr__bgp_open_parse(vpnr__wbuf_data(&w), need, &p,
			     &err),
	    0);
	assert_int_equal(p.my_as2, VPNR__BGP_AS_TRANS);
	assert_int_equal(vpnr__bgp_open_peer_as(&p), 4200000005u);
	assert_int_equal(p.hold_time, 30);
	assert_int_equal(p.bgp_id, 0xa9fe1501);
	assert_int_equal(p.mp_aids, 3);
	assert_int_equal(p.caps, o.caps | VPNR__BGP_CAPF_MP);
	assert_int_equal(p.gr_flags, o.gr_flags);
	assert_int_equal(p.gr_time, 300);
	assert_int_equal(p.gr_aids, 3);
	assert_int_equal(p.gr_fwd_aids, 1u << VPNR__BGP_AID_IPV6);
	vpnr__wbuf_free(&w);

	/* a 2-octet speaker without capabilities */
	memset(&o, 0, sizeof(o));
	o.local_as = 65010;
	o.hold_time = 0;
	o.bgp_id = 1;
	vpnr__wbuf_init(&w, NULL, 4096);
	assert_int_equal(vpnr__bgp_open_encode(&w, &o), 0);
	assert_int_equal(vpnr__wbuf_len(&w), VPNR__BGP_OPEN_MIN);
	assert_int_equal(vpnr__bgp_open_parse(vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), &p, &err),
	    0);
	assert_int_equal(vpnr__bgp_open_peer_as(&p), 65010);
	assert_int_equal(p.caps, 0);
	vpnr__wbuf_free(&w);
}

static void
test_open_errors(void **state)
{
	static const struct {
		const char *body;
		uint8_t code, subcode;
	} cases[] = {
		/* version 3 */
		{ "03 fde9 005a c0000201 00", 2, 1 },
		/* hold time 1 and 2 */
		{ "04 fde9 0001 c0000201 00", 2, 6 },
		{ "04 fde9 0002 c0000201 00", 2, 6 },
		/* BGP identifier 0 */
		{ "04 fde9 005a 00000000 00", 2, 3 },
		/* My AS 0 (RFC 7607) */
		{ "04 0000 005a c0000201 00", 2, 2 },
		/* AS 0 in the 4-octet capability */
		{ "04 fde9 005a c0000201 08 0206 4104 00000000", 2, 2 },
		/* optional parameter type 1 (authentication, deprecated) */
		{ "04 fde9 005a c0000201 04 0102 0000", 2, 4 },
		/* capability length overruns the parameter */
		{ "04 fde9 005a c0000201 04 0202 4104", 2, 0 },
		/* MP capability of length 3 */
		{ "04 fde9 005a c0000201 07 0205 0103 000100", 2, 0 },
		/* optional parameters length overruns the message */
		{ "04 fde9 005a c0000201 09 0206 4104 0000fde9", 1, 2 },
		/* trailing garbage after the parameters */
		{ "04 fde9 005a c0000201 00 00", 1, 2 },
	};
	uint8_t msg[128];
	struct vpnr__bgp_open o;
	struct vpnr__bgp_err err;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = mkmsg(VPNR__BGP_OPEN, cases[i].body, msg, sizeof(msg));
		assert_int_equal(vpnr__bgp_open_parse(msg, n, &o, &err),
		    VPNR_ERR_MALFORMED);
		assert_int_equal(err.code, cases[i].code);
		assert_int_equal(err.subcode, cases[i].subcode);
	}
	/* the version error carries the version we support */
	n = mkmsg(VPNR__BGP_OPEN, cases[0].body, msg, sizeof(msg));
	vpnr__bgp_open_parse(msg, n, &o, &err);
	assert_int_equal(err.data_len, 2);
	assert_int_equal(err.data[0], 0);
	assert_int_equal(err.data[1], 4);
}

static void
test_open_extended_params(void **state)
{
	uint8_t msg[128];
	struct vpnr__bgp_open o;
	struct vpnr__bgp_err err;
	size_t n;

	(void)state;
	/* RFC 9072: opt len 255, type 255, 2-octet length, 2-octet
	 * parameter lengths */
	n = mkmsg(VPNR__BGP_OPEN,
	    "04 5ba0 00b4 c0000202 ff ff 000f"
	    " 02 000c 0104 00020001 4104 fa56ea02",
	    msg, sizeof(msg));
	assert_int_equal(vpnr__bgp_open_parse(msg, n, &o, &err), 0);
	assert_int_equal(o.ext_opt_params, 1);
	assert_int_equal(o.mp_aids, 1u << VPNR__BGP_AID_IPV6);
	assert_int_equal(vpnr__bgp_open_peer_as(&o), 4200000002u);
	/* unknown capabilities and AFI/SAFIs are skipped */
	n = mkmsg(VPNR__BGP_OPEN,
	    "04 fde9 00b4 c0000202 13 0211 0104 00010080 ee03 aabbcc 0104 "
	    "00010001",
	    msg, sizeof(msg));
	assert_int_equal(vpnr__bgp_open_parse(msg, n, &o, &err), 0);
	assert_int_equal(o.mp_aids, 1u << VPNR__BGP_AID_IPV4);
	assert_int_equal(o.mp_unknown, 1);
	assert_true(o.caps & VPNR__BGP_CAPF_UNKNOWN);
}

static void
test_keepalive_notification_rrefresh(void **state)
{
	struct vpnr__wbuf w;
	struct vpnr__bgp_err err, e2;
	struct vpnr__bgp_notif n;
	struct vpnr__bgp_rrefresh rr, rr2;
	const uint8_t *s;
	size_t sl, i;
	uint8_t bad[24];

	(void)state;
	vpnr__wbuf_init(&w, NULL, 4096);
	assert_int_equal(vpnr__bgp_keepalive_encode(&w), 0);
	assert_int_equal(vpnr__wbuf_len(&w), 19);
	for (i = 0; i < 16; i++)
		assert_int_equal(vpnr__wbuf_data(&w)[i], 0xff);
	assert_int_equal(vpnr__wbuf_data(&w)[17], 19);
	assert_int_equal(vpnr__wbuf_data(&w)[18], VPNR__BGP_KEEPALIVE);
	assert_int_equal(vpnr__bgp_keepalive_parse(vpnr__wbuf_data(&w), 19,
			     &err),
	    0);
	assert_int_equal(vpnr__bgp_keepalive_parse(vpnr__wbuf_data(&w), 20,
			     &err),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(err.subcode, VPNR__BGP_HDR_BAD_LEN);

	/* NOTIFICATION with an RFC 8203 shutdown communication */
	vpnr__wbuf_reset(&w);
	vpnr__bgp_err_shutdown(&e2, VPNR__BGP_CEASE_ADMIN_SHUTDOWN,
	    "maintenance");
	assert_int_equal(vpnr__bgp_notif_encode(&w, &e2), 0);
	assert_int_equal(vpnr__wbuf_len(&w), 19 + 2 + 1 + 11);
	assert_int_equal(vpnr__bgp_notif_parse(vpnr__wbuf_data(&w),
			     vpnr__wbuf_len(&w), &n),
	    0);
	assert_int_equal(n.code, VPNR__BGP_ERR_CEASE);
	assert_int_equal(n.subcode, VPNR__BGP_CEASE_ADMIN_SHUTDOWN);
	assert_int_equal(vpnr__bgp_notif_shutdown_msg(&n, &s, &sl), 1);
	assert_int_equal(sl, 11);
	assert_memory_equal(s, "maintenance", 11);
	assert_string_equal(vpnr__bgp_err_code_name(n.code), "Cease");
	assert_string_equal(vpnr__bgp_err_subcode_name(n.code, n.subcode),
	    "Administrative Shutdown");
	assert_string_equal(vpnr__bgp_err_subcode_name(3, 11),
	    "Malformed AS_PATH");
	assert_string_equal(vpnr__bgp_err_subcode_name(1, 200), "Unknown");
	assert_string_equal(vpnr__bgp_err_code_name(99), "Unknown");
	assert_string_equal(vpnr__bgp_msg_type_name(5), "ROUTE-REFRESH");

	/* too short NOTIFICATION */
	assert_int_equal(vpnr__bgp_notif_parse(vpnr__wbuf_data(&w), 20, &n),
	    VPNR_ERR_MALFORMED);

	/* long data is truncated, never overflows */
	memset(bad, 0x41, sizeof(bad));
	vpnr__bgp_err_set(&err, 3, 1, vpnr__wbuf_data(&w), 4096);
	assert_int_equal(err.data_len, VPNR__BGP_ERR_DATA_MAX);

	/* ROUTE-REFRESH */
	vpnr__wbuf_reset(&w);
	rr.afi = VPNR__BGP_AFI_IPV6;
	rr.safi = 1;
	rr.subtype = VPNR__BGP_RR_BORR;
	assert_int_equal(vpnr__bgp_rrefresh_encode(&w, &rr), 0);
	assert_int_equal(vpnr__wbuf_len(&w), VPNR__BGP_RREFRESH_LEN);
	assert_int_equal(vpnr__bgp_rrefresh_parse(vpnr__wbuf_data(&w), 23, &rr2,
			     &err),
	    0);
	assert_memory_equal(&rr, &rr2, sizeof(rr));
	memcpy(bad, vpnr__wbuf_data(&w), 23);
	bad[23] = 0;
	bad[17] = 24;
	assert_int_equal(vpnr__bgp_rrefresh_parse(bad, 24, &rr2, &err),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(err.code, VPNR__BGP_ERR_RREFRESH);
	assert_int_equal(err.subcode, VPNR__BGP_RREFRESH_BAD_LEN);
	vpnr__wbuf_free(&w);
}

static void
test_update_split_and_eor(void **state)
{
	const struct bgp_capture *c;
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx p;
	struct vpnr__bgp_attrs_build *b;
	struct vpnr__bgp_attr_result res;
	struct vpnr__bgp_attr_pctx pctx = { 1, 1 };
	struct vpnr__wbuf w;
	char s[64];

	(void)state;
	c = capture("cap_bird_as4_update1");
	assert_int_equal(vpnr__bgp_update_split(c->msg, c->len, &u, &err), 0);
	assert_int_equal(u.withdrawn_len, 0);
	assert_int_equal(u.attrs_len, 20);
	assert_int_equal(u.nlri_len, 3);
	vpnr__rbuf_init(&r, u.nlri, u.nlri_len);
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET, &p), 1);
	assert_string_equal(vpnr__bgp_pfx_str(&p, s, sizeof(s)), "10.1.0.0/16");
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET, &p), 0);
	assert_false(vpnr__bgp_update_is_eor4(&u));

	/* BIRD's IPv4 End-of-RIB */
	c = capture("cap_bird_as4_update4");
	assert_int_equal(vpnr__bgp_update_split(c->msg, c->len, &u, &err), 0);
	assert_true(vpnr__bgp_update_is_eor4(&u));

	/* BIRD's IPv6 End-of-RIB: an empty MP_UNREACH_NLRI */
	c = capture("cap_bird_as4_update7");
	assert_int_equal(vpnr__bgp_update_split(c->msg, c->len, &u, &err), 0);
	assert_false(vpnr__bgp_update_is_eor4(&u));
	b = malloc(sizeof(*b));
	assert_non_null(b);
	assert_int_equal(vpnr__bgp_attrs_parse(&pctx, u.attrs, u.attrs_len, 0,
			     b, &res),
	    VPNR__BGP_ACT_OK);
	assert_int_equal(res.eor_aid, VPNR__BGP_AID_IPV6);

	/* our EoR encodings read back the same way */
	vpnr__wbuf_init(&w, NULL, 4096);
	assert_int_equal(vpnr__bgp_eor_encode(&w, VPNR__BGP_AID_IPV4), 0);
	assert_int_equal(vpnr__wbuf_len(&w), 23);
	assert_int_equal(vpnr__bgp_update_split(vpnr__wbuf_data(&w), 23, &u,
			     &err),
	    0);
	assert_true(vpnr__bgp_update_is_eor4(&u));
	vpnr__wbuf_reset(&w);
	assert_int_equal(vpnr__bgp_eor_encode(&w, VPNR__BGP_AID_IPV6), 0);
	assert_memory_equal(vpnr__wbuf_data(&w), c->msg, c->len);
	vpnr__wbuf_free(&w);
	free(b);
}

static void
test_update_split_errors(void **state)
{
	static const struct {
		const char *body;
		uint8_t subcode;
	} cases[] = {
		/* withdrawn length overruns */
		{ "0005 1800 0000", 1 },
		/* attribute length overruns */
		{ "0000 0010 400101 00", 1 },
		/* prefix length 33 in NLRI */
		{ "0000 0000 21 0a000000 00", 10 },
		/* truncated prefix in NLRI */
		{ "0000 0000 18 0a00", 10 },
		/* bad withdrawn prefix */
		{ "0002 2100 0000", 10 },
	};
	uint8_t msg[64];
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = mkmsg(VPNR__BGP_UPDATE, cases[i].body, msg, sizeof(msg));
		assert_int_equal(vpnr__bgp_update_split(msg, n, &u, &err),
		    VPNR_ERR_MALFORMED);
		assert_int_equal(err.code, VPNR__BGP_ERR_UPDATE);
		assert_int_equal(err.subcode, cases[i].subcode);
	}
}

static void
test_prefixes(void **state)
{
	uint8_t buf[64];
	struct vpnr__rbuf r;
	struct vpnr__bgp_pfx p, q;
	struct vpnr__wbuf w;
	vpnr_prefix pub;
	char s[64];
	size_t n;

	(void)state;
	/* host bits past the length are cleared */
	n = hex("13 c0a8ff 00 80 20010db8000000000000000000000001", buf,
	    sizeof(buf));
	vpnr__rbuf_init(&r, buf, 4);
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET, &p), 1);
	assert_string_equal(vpnr__bgp_pfx_str(&p, s, sizeof(s)),
	    "192.168.224.0/19");
	assert_int_equal(p.addr[2], 0xe0);
	vpnr__rbuf_init(&r, buf + 4, 1);
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET, &q), 1);
	assert_string_equal(vpnr__bgp_pfx_str(&q, s, sizeof(s)), "0.0.0.0/0");
	assert_true(vpnr__bgp_pfx_cmp(&q, &p) < 0);
	vpnr__rbuf_init(&r, buf + 5, n - 5);
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET6, &q), 1);
	assert_string_equal(vpnr__bgp_pfx_str(&q, s, sizeof(s)),
	    "2001:db8::1/128");
	assert_true(vpnr__bgp_pfx_cmp(&p, &q) < 0);
	/* IPv4 prefix length 33 is malformed; 128 bits only for IPv6 */
	n = hex("21 0a000000 00", buf, sizeof(buf));
	assert_int_equal(vpnr__bgp_nlri_check(buf, n, VPNR_AF_INET),
	    VPNR_ERR_MALFORMED);
	n = hex("81 00", buf, sizeof(buf));
	assert_int_equal(vpnr__bgp_nlri_check(buf, n, VPNR_AF_INET6),
	    VPNR_ERR_MALFORMED);
	/* public conversion round trip */
	assert_int_equal(vpnr_prefix_parse(&pub, "203.0.113.0/24"), 0);
	assert_int_equal(vpnr__bgp_pfx_from_public(&p, &pub), 0);
	vpnr__wbuf_init(&w, NULL, 64);
	assert_int_equal(vpnr__bgp_nlri_encode(&w, &p), 0);
	assert_int_equal(vpnr__wbuf_len(&w), vpnr__bgp_nlri_size(&p));
	assert_int_equal(vpnr__wbuf_len(&w), 4);
	vpnr__rbuf_init(&r, vpnr__wbuf_data(&w), vpnr__wbuf_len(&w));
	assert_int_equal(vpnr__bgp_nlri_next(&r, VPNR_AF_INET, &q), 1);
	assert_int_equal(vpnr__bgp_pfx_cmp(&p, &q), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	vpnr__bgp_pfx_to_public(&q, &pub);
	assert_int_equal(pub.len, 24);
	assert_int_equal(pub.addr.family, VPNR_AF_INET);
	assert_int_equal(pub.addr.bytes[0], 203);
	vpnr__wbuf_free(&w);
	assert_int_equal(sizeof(struct vpnr__bgp_pfx), 18);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_incremental_stream),
		cmocka_unit_test(test_frame_header_errors),
		cmocka_unit_test(test_open_bird_capture),
		cmocka_unit_test(test_open_gobgp_capture),
		cmocka_unit_test(test_open_roundtrip),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_open_extended_params),
		cmocka_unit_test(test_keepalive_notification_rrefresh),
		cmocka_unit_test(test_update_split_and_eor),
		cmocka_unit_test(test_update_split_errors),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
