/*
 * eBGP policy.  RFC 8212: without an explicit import (export) policy
 * nothing is accepted (advertised).  Import: prefix list, AS-path loop
 * detection, the neighbor AS first in the path (RFC 4271 6.3), and
 * optionally no private ASNs past it.  Export: never back to the peer
 * a path came from, well-known communities, prefix list, sender-side
 * loop check, then the transforms of attr.h (remove-private-AS,
 * prepend, MED, next-hop-self).
 */
#include <string.h>

#include "bgp/bgp.h"
#include "lib/addr.h"

static int
pfx_covers(const struct vpnr__bgp_pfx *outer, const struct vpnr__bgp_pfx *p)
{
	unsigned i, bits = outer->len;

	if (outer->afi != p->afi || p->len < outer->len)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (outer->addr[i] != p->addr[i])
			return 0;
	if (bits > 0 &&
	    ((outer->addr[i] ^ p->addr[i]) & (uint8_t)(0xff00 >> bits)) != 0)
		return 0;
	return 1;
}

/* 1 permit, 0 deny; an unset list permits everything. */
int
vpnr__bgp_plist_match(const struct vpnr__bgp_plist *pl,
    const struct vpnr__bgp_pfx *p)
{
	size_t i;

	if (!pl->set)
		return 1;
	for (i = 0; i < pl->n; i++) {
		const struct vpnr__bgp_plist_entry *e = &pl->e[i];

		if (p->len < e->ge || p->len > e->le)
			continue;
		if (pfx_covers(&e->pfx, p))
			return e->permit;
	}
	return 0;
}

/* Any private ASN in the path other than the leading neighbor AS. */
static int
has_private_past_first(const struct vpnr__bgp_attrs *a)
{
	const uint32_t *w = vpnr__bgp_attrs_aspath(a);
	size_t i = 0, j, n = a->aspath_words;
	int first = 1;

	while (i < n) {
		uint32_t cnt = w[i] & 0xffff;

		i++;
		for (j = 0; j < cnt && i < n; j++, i++) {
			if (first) {
				first = 0;
				continue;
			}
			if (vpnr__asn_is_private(w[i]))
				return 1;
		}
	}
	return 0;
}

int
vpnr__bgp_policy_import(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_pfx *pfx, const struct vpnr__bgp_attrs *a)
{
	if (p->cfg.import == VPNR_BGP_IMPORT_NONE)
		return BGP_DENY_POLICY;
	if (!vpnr__bgp_plist_match(&p->cfg.pl_in, pfx))
		return BGP_DENY_PLIST;
	if (vpnr__bgp_attrs_aspath_contains(a, p->ctx->cfg.local_as))
		return BGP_DENY_LOOP;
	if (vpnr__bgp_attrs_first_as(a) != p->sess.peer_as)
		return BGP_DENY_FIRSTAS;
	if (p->cfg.reject_private && has_private_past_first(a))
		return BGP_DENY_PRIVATE;
	return 0;
}

/* The address we put in NEXT_HOP / MP_REACH for family af. */
static int
self_nexthop(struct vpnr__bgp_peer *p, uint8_t af, vpnr_addr *nh)
{
	memset(nh, 0, sizeof(*nh));
	if (af == VPNR_AF_INET && p->cfg.nh4.family == VPNR_AF_INET)
		*nh = p->cfg.nh4;
	else if (af == VPNR_AF_INET6 && p->cfg.nh6.family == VPNR_AF_INET6)
		*nh = p->cfg.nh6;
	else if (p->cfg.local.family == af)
		*nh = p->cfg.local;
	else if (p->est != NULL && p->est->local.family == af)
		*nh = p->est->local;
	else
		return -1;
	nh->port = 0;
	return 0;
}

const struct vpnr__bgp_attrs *
vpnr__bgp_policy_export(struct vpnr__bgp_peer *p,
    const struct vpnr__bgp_pfx *pfx, const struct vpnr__bgp_path *best)
{
	struct vpnr__bgp *bgp = p->ctx->bgp;
	struct vpnr__bgp_export x;
	const struct vpnr__bgp_attrs *out = NULL;

	if (best == NULL || p->cfg.export == VPNR_BGP_EXPORT_NONE)
		return NULL;
	if (best->peer_idx != 0 && p->cfg.export != VPNR_BGP_EXPORT_ALL)
		return NULL;
	if (best->peer_idx == p->idx)
		return NULL;
	if (!vpnr__bgp_plist_match(&p->cfg.pl_out, pfx))
		return NULL;
	if (vpnr__bgp_attrs_has_comm(best->attrs, VPNR__BGP_COMM_NO_EXPORT) ||
	    vpnr__bgp_attrs_has_comm(best->attrs, VPNR__BGP_COMM_NO_ADVERTISE))
		return NULL;
	if (p->sess.peer_as != 0 &&
	    vpnr__bgp_attrs_aspath_contains(best->attrs, p->sess.peer_as))
		return NULL;
	memset(&x, 0, sizeof(x));
	x.local_as = p->ctx->cfg.local_as;
	x.prepend = p->cfg.prepend;
	x.remove_private = p->cfg.remove_private;
	x.nexthop_self = 1;
	if (p->cfg.has_med) {
		x.med_mode = VPNR__BGP_MED_SET;
		x.med = p->cfg.med;
	} else {
		x.med_mode = best->peer_idx == 0 ? VPNR__BGP_MED_KEEP :
						   VPNR__BGP_MED_STRIP;
	}
	if (self_nexthop(p, pfx->afi, &x.nexthop) != 0) {
		/* no address of this family: keep a next hop given with
		 * vpnr_bgp_path_add, else we cannot advertise */
		vpnr_addr nh;

		vpnr__bgp_attrs_nexthop(best->attrs, &nh);
		if (nh.family != pfx->afi)
			return NULL;
		x.nexthop_self = 0;
	}
	if (vpnr__bgp_attrs_export(bgp->attrs, best->attrs, &x, bgp->bld,
		&out) != 0)
		return NULL;
	return out;
}
