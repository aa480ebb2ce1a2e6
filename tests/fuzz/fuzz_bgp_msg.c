/*
 * libFuzzer harness for the BGP message codec: the input is a TCP byte
 * stream.  Every framed message is parsed by type and whatever parses
 * is encoded again and re-parsed (OPEN, NOTIFICATION, ROUTE-REFRESH);
 * UPDATEs are split, their attributes parsed in both AS modes, and
 * their IPv4/IPv6 prefixes packed into new UPDATEs that must parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vpnr__bgp_attrs_build *bld;
static struct vpnr__bgp_attr_table *tbl;

static void
repack_check(const uint8_t *nlri, size_t len, uint8_t afi,
    const struct vpnr__bgp_attrs *a, int as4)
{
	struct vpnr__bgp_pfx pfx[64];
	struct vpnr__rbuf r;
	struct vpnr__wbuf w;
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	size_t n = 0, off;
	int rc, aid = vpnr__bgp_aid_from_family(afi);
	size_t need;
	uint8_t type;

	vpnr__rbuf_init(&r, nlri, len);
	while (n < 64 && vpnr__bgp_nlri_next(&r, afi, &pfx[n]) == 1)
		n++;
	if (n == 0)
		return;
	vpnr__wbuf_init(&w, NULL, 1 << 20);
	off = 0;
	while (off < n) {
		size_t start = vpnr__wbuf_len(&w);
		rc = vpnr__bgp_update_pack(&w, a, aid, as4, pfx + off, n - off);
		if (rc <= 0)
			break; /* e.g. attributes too large for one message */
		off += (size_t)rc;
		if (vpnr__bgp_frame(vpnr__wbuf_data(&w) + start,
			vpnr__wbuf_len(&w) - start, VPNR__BGP_MAX_LEN, &need,
			&type, &err) != 1 ||
		    need != vpnr__wbuf_len(&w) - start)
			abort();
		if (vpnr__bgp_update_split(vpnr__wbuf_data(&w) + start, need,
			&u, &err) != 0)
			abort();
	}
	vpnr__wbuf_free(&w);
}

static void
update(const uint8_t *msg, size_t len)
{
	struct vpnr__bgp_update u;
	struct vpnr__bgp_err err;
	struct vpnr__bgp_attr_pctx pctx;
	struct vpnr__bgp_attr_result res;
	const struct vpnr__bgp_attrs *a;
	int as4;

	if (vpnr__bgp_update_split(msg, len, &u, &err) != 0) {
		if (err.code != VPNR__BGP_ERR_UPDATE)
			abort();
		return;
	}
	(void)vpnr__bgp_update_is_eor4(&u);
	repack_check(u.withdrawn, u.withdrawn_len, VPNR_AF_INET, NULL, 1);
	for (as4 = 0; as4 < 2; as4++) {
		pctx.as4 = as4;
		pctx.ebgp = 1;
		vpnr__bgp_attrs_parse(&pctx, u.attrs, u.attrs_len,
		    u.nlri_len > 0, bld, &res);
		if (res.action == VPNR__BGP_ACT_RESET && res.err.code == 0)
			abort();
		if (res.action >= VPNR__BGP_ACT_WITHDRAW)
			continue;
		if (u.nlri_len > 0) {
			a = vpnr__bgp_attrs_intern(tbl, bld,
			    VPNR__BGP_AID_IPV4);
			if (a == NULL)
				abort();
			repack_check(u.nlri, u.nlri_len, VPNR_AF_INET, a, as4);
			vpnr__bgp_attrs_unref(tbl, a);
		}
		if (res.mp_reach.present && res.mp_reach.aid >= 0) {
			a = vpnr__bgp_attrs_intern(tbl, bld, res.mp_reach.aid);
			if (a == NULL)
				abort();
			if (a->flags & VPNR__BGP_A_NEXTHOP)
				repack_check(res.mp_reach.nlri,
				    res.mp_reach.nlri_len,
				    vpnr__bgp_aid_family(res.mp_reach.aid), a,
				    as4);
			vpnr__bgp_attrs_unref(tbl, a);
		}
		if (res.mp_unreach.present && res.mp_unreach.aid >= 0)
			repack_check(res.mp_unreach.nlri,
			    res.mp_unreach.nlri_len,
			    vpnr__bgp_aid_family(res.mp_unreach.aid), NULL,
			    as4);
	}
}

static void
one(const uint8_t *msg, size_t len, uint8_t type)
{
	struct vpnr__bgp_err err;
	struct vpnr__bgp_open o, o2;
	struct vpnr__bgp_notif n;
	struct vpnr__bgp_rrefresh rr, rr2;
	struct vpnr__wbuf w;
	const uint8_t *s;
	size_t sl;

	vpnr__wbuf_init(&w, NULL, 65536);
	switch (type) {
	case VPNR__BGP_OPEN:
		if (vpnr__bgp_open_parse(msg, len, &o, &err) != 0)
			break;
		o.local_as = vpnr__bgp_open_peer_as(&o);
		if (vpnr__bgp_open_encode(&w, &o) != 0)
			abort();
		if (vpnr__bgp_open_parse(vpnr__wbuf_data(&w),
			vpnr__wbuf_len(&w), &o2, &err) != 0)
			abort();
		if (vpnr__bgp_open_peer_as(&o2) != o.local_as ||
		    o2.hold_time != o.hold_time || o2.bgp_id != o.bgp_id ||
		    o2.mp_aids != o.mp_aids)
			abort();
		break;
	case VPNR__BGP_UPDATE:
		update(msg, len);
		break;
	case VPNR__BGP_NOTIFICATION:
		if (vpnr__bgp_notif_parse(msg, len, &n) != 0)
			break;
		(void)vpnr__bgp_err_code_name(n.code);
		(void)vpnr__bgp_err_subcode_name(n.code, n.subcode);
		(void)vpnr__bgp_notif_shutdown_msg(&n, &s, &sl);
		vpnr__bgp_err_set(&err, n.code, n.subcode, n.data, n.data_len);
		if (vpnr__bgp_notif_encode(&w, &err) != 0)
			abort();
		break;
	case VPNR__BGP_KEEPALIVE:
		(void)vpnr__bgp_keepalive_parse(msg, len, &err);
		break;
	case VPNR__BGP_ROUTE_REFRESH:
		if (vpnr__bgp_rrefresh_parse(msg, len, &rr, &err) != 0)
			break;
		if (vpnr__bgp_rrefresh_encode(&w, &rr) != 0 ||
		    vpnr__bgp_rrefresh_parse(vpnr__wbuf_data(&w),
			vpnr__wbuf_len(&w), &rr2, &err) != 0 ||
		    memcmp(&rr, &rr2, sizeof(rr)) != 0)
			abort();
		break;
	}
	vpnr__wbuf_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpnr__bgp_err err;
	size_t off = 0, need;
	uint8_t type;
	int rc;

	if (tbl == NULL) {
		bld = malloc(sizeof(*bld));
		if (bld == NULL ||
		    vpnr__bgp_attr_table_new(&tbl, NULL, 0x5678) != 0)
			abort();
	}
	while (off < size) {
		rc = vpnr__bgp_frame(data + off, size - off, VPNR__BGP_MAX_LEN,
		    &need, &type, &err);
		if (rc < 0) {
			if (err.code != VPNR__BGP_ERR_HEADER)
				abort();
			break;
		}
		if (rc == 0) {
			if (need <= size - off)
				abort(); /* framer asked for what it has */
			break;
		}
		if (need < VPNR__BGP_HDR_LEN || need > size - off)
			abort();
		one(data + off, need, type);
		off += need;
	}
	if (vpnr__bgp_attr_table_count(tbl) != 0)
		abort();
	return 0;
}
