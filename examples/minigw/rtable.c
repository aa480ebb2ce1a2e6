/*
 * The routes minigw puts in the kernel.  Each prefix collects its
 * nexthops: static routes of the configuration (proto MGW_RTPROT) and
 * BGP paths (proto bgp), each through one tunnel.  Only tunnels whose
 * CHILD_SA is up count; static nexthops win over BGP ones (a router's
 * administrative distance); several left = one multipath route.  A
 * route minigw did not install is never replaced: the first add is
 * exclusive and a conflict is logged once and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "minigw.h"

int (*mgw_rt_kernel)(int op, const vpnr_prefix *p, const int *ifx, int n,
    int proto, const vpnr_addr *src) = mgw_nl_route;

static struct mgw_rt *
rt_find(struct mgw *gw, const vpnr_prefix *p)
{
	int i;

	for (i = 0; i < gw->n_rts; i++)
		if (gw->rts[i].prefix.len == p->len &&
		    gw->rts[i].prefix.addr.family == p->addr.family &&
		    memcmp(gw->rts[i].prefix.addr.bytes, p->addr.bytes, 16) ==
			0)
			return &gw->rts[i];
	return NULL;
}

int
mgw_rt_add(struct mgw *gw, const vpnr_prefix *p, struct mgw_tunnel *t,
    uint64_t peer_id)
{
	struct mgw_rt *r, *n;
	int i;

	if ((r = rt_find(gw, p)) == NULL) {
		if ((n = realloc(gw->rts,
			 sizeof(*n) * (size_t)(gw->n_rts + 1))) == NULL)
			return -ENOMEM;
		gw->rts = n;
		r = &gw->rts[gw->n_rts++];
		memset(r, 0, sizeof(*r));
		r->prefix = *p;
	}
	for (i = 0; i < r->n; i++)
		if (r->nh[i].t == t && r->nh[i].peer_id == peer_id)
			return 0;
	if (r->n == MGW_NH_MAX)
		return -ENOSPC;
	r->nh[r->n].t = t;
	r->nh[r->n].peer_id = peer_id;
	r->n++;
	return 0;
}

int
mgw_rt_del(struct mgw *gw, const vpnr_prefix *p, struct mgw_tunnel *t,
    uint64_t peer_id)
{
	struct mgw_rt *r;
	int i;

	if ((r = rt_find(gw, p)) == NULL)
		return -ESRCH;
	for (i = 0; i < r->n; i++)
		if (r->nh[i].t == t && r->nh[i].peer_id == peer_id) {
			r->nh[i] = r->nh[--r->n];
			return 0;
		}
	return -ESRCH;
}

void
mgw_rt_forget_tunnel(struct mgw *gw, struct mgw_tunnel *t)
{
	int i, j;

	for (i = 0; i < gw->n_rts; i++)
		for (j = 0; j < gw->rts[i].n;)
			if (gw->rts[i].nh[j].t == t)
				gw->rts[i].nh[j] =
				    gw->rts[i].nh[--gw->rts[i].n];
			else
				j++;
}

static int
int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The interfaces a prefix should use now, sorted; returns the count.
 * Healthy tunnels first, then static routes before BGP's; a suspect
 * tunnel carries a prefix only when nothing healthy can. */
static int
wanted(const struct mgw_rt *r, int *ifx, int *proto)
{
	int i, j, n = 0, stat, level;

	for (level = 0; level < 4 && n == 0; level++)
		for (i = 0, stat = !(level & 1); i < r->n; i++) {
			if ((r->nh[i].peer_id == 0) != stat ||
			    r->nh[i].t->suspect != (level >= 2) ||
			    !r->nh[i].t->child_up || r->nh[i].t->removing ||
			    r->nh[i].t->tun_ifindex <= 0)
				continue;
			for (j = 0; j < n; j++)
				if (ifx[j] == r->nh[i].t->tun_ifindex)
					break;
			if (j == n) {
				ifx[n++] = r->nh[i].t->tun_ifindex;
				*proto = stat ? MGW_RTPROT : MGW_RTPROT_BGP;
			}
		}
	qsort(ifx, (size_t)n, sizeof(*ifx), int_cmp);
	return n;
}

static const vpnr_addr *
src_of(const struct mgw_rt *r)
{
	int i;

	/* The inner address of the first carrying tunnel of the family
	 * (so that pings from the gateway leave with it). */
	for (i = 0; i < r->n; i++)
		if (r->nh[i].t->child_up &&
		    r->nh[i].t->tun_addr.addr.family == r->prefix.addr.family)
			return &r->nh[i].t->tun_addr.addr;
	return NULL;
}

static void
sync_one(struct mgw *gw, struct mgw_rt *r)
{
	int ifx[MGW_NH_MAX], n, proto = 0, rc;
	char p[64];

	n = wanted(r, ifx, &proto);
	if (r->installed && n == r->n_inst && proto == r->proto &&
	    memcmp(ifx, r->inst_ifx, sizeof(int) * (size_t)n) == 0)
		return;
	vpnr_addr_format(&r->prefix.addr, p, sizeof(p));
	if (n == 0) {
		if (r->installed) {
			rc = mgw_rt_kernel(MGW_NL_DEL, &r->prefix, r->inst_ifx,
			    r->n_inst, r->proto, NULL);
			if (rc < 0 && rc != -ESRCH)
				gw->rt_errors++;
			mgw_log(VPNR_LOG_INFO, "route %s/%u removed", p,
			    r->prefix.len);
		}
		r->installed = 0;
		r->n_inst = 0;
		return;
	}
	rc = mgw_rt_kernel(r->installed ? MGW_NL_REPLACE : MGW_NL_ADD,
	    &r->prefix, ifx, n, proto, src_of(r));
	if (rc == -EEXIST) {
		if (!r->conflict)
			mgw_log(VPNR_LOG_WARNING,
			    "route %s/%u: the kernel has a route minigw did "
			    "not install; left alone",
			    p, r->prefix.len);
		if (!r->conflict)
			gw->rt_conflicts++;
		r->conflict = 1;
		return;
	}
	if (rc < 0) {
		gw->rt_errors++;
		mgw_log(VPNR_LOG_WARNING, "route %s/%u: %s", p, r->prefix.len,
		    strerror(-rc));
		return;
	}
	r->conflict = 0;
	r->installed = 1;
	r->proto = proto;
	r->n_inst = n;
	memcpy(r->inst_ifx, ifx, sizeof(int) * (size_t)n);
	mgw_log(VPNR_LOG_INFO, "route %s/%u via %d tunnel%s (proto %s)", p,
	    r->prefix.len, n, n > 1 ? "s, multipath" : "",
	    proto == MGW_RTPROT ? "minigw" : "bgp");
}

void
mgw_rt_sync(struct mgw *gw)
{
	int i;

	for (i = 0; i < gw->n_rts; i++)
		sync_one(gw, &gw->rts[i]);
	/* Entries with no nexthop left and nothing installed go. */
	for (i = 0; i < gw->n_rts;)
		if (gw->rts[i].n == 0 && !gw->rts[i].installed)
			gw->rts[i] = gw->rts[--gw->n_rts];
		else
			i++;
}

/* Remove every route of ours from the kernel (at exit). */
void
mgw_rt_flush(struct mgw *gw)
{
	int i;

	for (i = 0; i < gw->n_rts; i++)
		gw->rts[i].n = 0;
	mgw_rt_sync(gw);
	free(gw->rts);
	gw->rts = NULL;
	gw->n_rts = 0;
}
