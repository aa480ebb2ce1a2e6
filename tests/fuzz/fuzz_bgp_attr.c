/*
 * libFuzzer harness for the BGP path attribute parser.  The first
 * input byte selects the mode: bit 0 4-octet AS, bit 1 eBGP, bit 2 the
 * UPDATE has IPv4 NLRI.  The rest is a path attribute block.  Whatever
 * parses is interned, encoded and parsed again; in 4-octet iBGP-free
 * mode the round trip must give back the same interned set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vpnr__bgp_attrs_build *b1, *b2;
static struct vpnr__bgp_attr_table *tbl;

static void
check_queries(const struct vpnr__bgp_attrs *a)
{
	static uint32_t scratch[VPNR__BGP_MAX_ASPATH_WORDS];
	char buf[256];
	vpnr_path_attrs pub;
	const uint32_t *flat, *p;
	size_t n, i, j, k, cnt, segs;

	(void)vpnr__bgp_attrs_first_as(a);
	(void)vpnr__bgp_attrs_origin_as(a);
	(void)vpnr__bgp_attrs_aspath_contains(a, 65001);
	(void)vpnr__bgp_attrs_has_comm(a, VPNR__BGP_COMM_NO_EXPORT);
	vpnr__bgp_attrs_aspath_str(a, buf, sizeof(buf));
	vpnr__bgp_attrs_to_public(a, &pub);
	if (pub.origin > VPNR_ORIGIN_INCOMPLETE)
		abort();
	/* the flat path: every word but the segment headers, in order */
	flat = vpnr__bgp_attrs_aspath_flat(a, scratch, &n);
	p = vpnr__bgp_attrs_aspath(a);
	for (i = 0, k = 0, segs = 0; i < a->aspath_words; segs++) {
		cnt = p[i] & 0xffff;
		for (j = 1; j <= cnt && i + j < a->aspath_words; j++)
			if (k >= n || flat[k++] != p[i + j])
				abort();
		i += 1 + cnt;
	}
	if (k != n || (n == 0) != (flat == NULL) || n + segs != a->aspath_words)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpnr__bgp_attr_pctx pctx;
	struct vpnr__bgp_attr_result res, res2;
	const struct vpnr__bgp_attrs *a, *a2, *ex;
	struct vpnr__bgp_export x;
	struct vpnr__wbuf w;
	int has_nlri, aid;

	if (size < 1)
		return 0;
	if (tbl == NULL) {
		b1 = malloc(sizeof(*b1));
		b2 = malloc(sizeof(*b2));
		if (b1 == NULL || b2 == NULL ||
		    vpnr__bgp_attr_table_new(&tbl, NULL, 0x1234) != 0)
			abort();
	}
	memset(&pctx, 0, sizeof(pctx));
	pctx.as4 = data[0] & 1;
	pctx.ebgp = (data[0] >> 1) & 1;
	has_nlri = (data[0] >> 2) & 1;
	vpnr__bgp_attrs_parse(&pctx, data + 1, size - 1, has_nlri, b1, &res);
	if (res.action >= VPNR__BGP_ACT_WITHDRAW)
		return 0;
	aid = b1->has_nh4 ? VPNR__BGP_AID_IPV4 : -1;
	if ((a = vpnr__bgp_attrs_intern(tbl, b1, aid)) == NULL)
		abort();
	check_queries(a);

	vpnr__wbuf_init(&w, NULL, 65536);
	if (vpnr__bgp_attrs_encode(&w, a, pctx.as4, 1) != 0)
		abort();
	vpnr__bgp_attrs_parse(&pctx, vpnr__wbuf_data(&w), vpnr__wbuf_len(&w),
	    has_nlri, b2, &res2);
	if (res2.action >= VPNR__BGP_ACT_WITHDRAW)
		abort(); /* our own encoding must parse */
	if (pctx.as4 && res2.action == VPNR__BGP_ACT_OK) {
		b2->flags |=
		    b1->flags & (VPNR__BGP_A_ORIGIN | VPNR__BGP_A_ASPATH);
		b2->flags &=
		    b1->flags | ~(VPNR__BGP_A_ORIGIN | VPNR__BGP_A_ASPATH);
		if ((a2 = vpnr__bgp_attrs_intern(tbl, b2, aid)) == NULL)
			abort();
		if (a2 != a)
			abort(); /* round trip changed the set */
		vpnr__bgp_attrs_unref(tbl, a2);
	}
	vpnr__wbuf_free(&w);

	/* export transformation */
	memset(&x, 0, sizeof(x));
	x.local_as = 4200000001u;
	x.prepend = data[0] >> 5;
	x.remove_private = (data[0] >> 3) & 1;
	x.med_mode =
	    (data[0] >> 4) & 1 ? VPNR__BGP_MED_SET : VPNR__BGP_MED_STRIP;
	x.med = 10;
	x.nexthop_self = 1;
	x.nexthop.family = VPNR_AF_INET;
	x.nexthop.bytes[0] = 192;
	x.nexthop.bytes[3] = 1;
	if (vpnr__bgp_attrs_export(tbl, a, &x, b2, &ex) == 0) {
		if (!vpnr__bgp_attrs_aspath_contains(ex, x.local_as) ||
		    vpnr__bgp_attrs_first_as(ex) != x.local_as)
			abort();
		if (ex->flags & VPNR__BGP_A_LOCAL_PREF)
			abort();
		check_queries(ex);
		vpnr__bgp_attrs_unref(tbl, ex);
	}
	vpnr__bgp_attrs_unref(tbl, a);
	if (vpnr__bgp_attr_table_count(tbl) != 0)
		abort(); /* every reference was dropped */
	return 0;
}
