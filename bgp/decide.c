/*
 * The decision process of RFC 4271 section 9.1.2.2, for an eBGP-only
 * speaker.  Locally originated paths win over learned ones (the way a
 * router's own networks do).  Paths equal down to (and excluding) the
 * BGP-identifier tie-break, from the same neighbor AS, form the
 * multipath (ECMP) set: two tunnels to the same cloud.
 */
#include <string.h>

#include "bgp/bgp.h"

void
vpnr__bgp_path_info(struct vpnr__bgp *bgp, const struct vpnr__bgp_path *path,
    struct vpnr__bgp_path_info *pi)
{
	struct vpnr__bgp_peer *p = NULL;

	memset(pi, 0, sizeof(*pi));
	pi->peer_idx = path->peer_idx;
	if (path->peer_idx != 0 && path->peer_idx < bgp->n_idx)
		p = bgp->by_idx[path->peer_idx];
	pi->local = path->peer_idx == 0;
	pi->ebgp = !pi->local;
	pi->as_path_len = vpnr__bgp_attrs_path_len(path->attrs);
	pi->neighbor_as = vpnr__bgp_attrs_first_as(path->attrs);
	pi->origin = path->attrs->origin;
	pi->has_med = (path->attrs->flags & VPNR__BGP_A_MED) ? 1 : 0;
	pi->med = vpnr__bgp_attrs_med(path->attrs);
	pi->local_pref = 100;
	if (p != NULL) {
		pi->router_id = p->sess.peer_id;
		pi->peer_addr = p->cfg.remote;
		if (pi->neighbor_as == 0)
			pi->neighbor_as = p->sess.peer_as;
	}
}

static int
addr_cmp(const vpnr_addr *a, const vpnr_addr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

#define DECIDE(step, cond_a_better, cond_b_better) \
	do { \
		if (cond_a_better) { \
			*tie_at = (step); \
			return -1; \
		} \
		if (cond_b_better) { \
			*tie_at = (step); \
			return 1; \
		} \
	} while (0)

int
vpnr__bgp_decide_cmp(const struct vpnr__bgp_path_info *a,
    const struct vpnr__bgp_path_info *b, int always_compare_med, int *tie_at)
{
	int c;

	/* 0: locally originated first */
	DECIDE(0, a->local && !b->local, b->local && !a->local);
	/* 1: highest LOCAL_PREF (degree of preference) */
	DECIDE(1, a->local_pref > b->local_pref, b->local_pref > a->local_pref);
	/* 2: shortest AS_PATH (an AS_SET counts as one) */
	DECIDE(2, a->as_path_len < b->as_path_len,
	    b->as_path_len < a->as_path_len);
	/* 3: lowest ORIGIN */
	DECIDE(3, a->origin < b->origin, b->origin < a->origin);
	/* 4: lowest MED, among paths from the same neighbor AS; a
	 * missing MED is the lowest value (RFC 4271 9.1.2.2 c) */
	if (always_compare_med || a->neighbor_as == b->neighbor_as)
		DECIDE(4, a->med < b->med, b->med < a->med);
	/* 5: eBGP over iBGP (all ours are eBGP) */
	DECIDE(5, a->ebgp && !b->ebgp, b->ebgp && !a->ebgp);
	/* 6 (IGP cost: none).  From here on the paths are equal for
	 * multipath if they come from the same neighbor AS; *tie_at 7
	 * says they are not. */
	if (a->neighbor_as != b->neighbor_as) {
		c = a->router_id < b->router_id ?
		    -1 :
		    a->router_id > b->router_id ?
		    1 :
		    addr_cmp(&a->peer_addr, &b->peer_addr);
		*tie_at = 7;
		if (c == 0)
			c = a->peer_idx < b->peer_idx ? -1 : 1;
		return c < 0 ? -1 : 1;
	}
	/* 8: lowest BGP identifier */
	DECIDE(8, a->router_id < b->router_id, b->router_id < a->router_id);
	/* 9: lowest peer address */
	c = addr_cmp(&a->peer_addr, &b->peer_addr);
	DECIDE(9, c<0, c> 0);
	/* 10: same peer (can't happen within one node): stable */
	DECIDE(10, a->peer_idx < b->peer_idx, b->peer_idx < a->peer_idx);
	*tie_at = 11;
	return 0;
}
