/*
 * rtnetlink through libmnl: link up and MTU, addresses on the TUN
 * device, routes into it.  Each call opens a socket, sends one request
 * with NLM_F_ACK and waits for the answer (a handful of calls per
 * tunnel event, so no persistent socket).
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "minigw.h"

static int
nl_talk(struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	unsigned int seq, portid;
	int rc;

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	rc = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (rc < 0) {
		rc = -errno;
		goto out;
	}
	rc = mnl_cb_run(buf, (size_t)rc, seq, portid, NULL, NULL);
	rc = rc < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return rc;
}

int
mgw_nl_ifindex(const char *name)
{
	unsigned int i = if_nametoindex(name);

	return i == 0 ? -errno : (int)i;
}

int
mgw_nl_link_up(int ifindex, uint32_t mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	if (mtu != 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	/* A longer queue absorbs bursts between two TUN reads. */
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 4000);
	return nl_talk(nlh);
}

static int
family_of(const vpnr_addr *a, size_t *alen)
{
	*alen = a->family == VPNR_AF_INET6 ? 16 : 4;
	return a->family == VPNR_AF_INET6 ? AF_INET6 : AF_INET;
}

int
mgw_nl_addr_add(int ifindex, const vpnr_prefix *p)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen;
	int af = family_of(&p->addr, &alen);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)af;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr.bytes);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr.bytes);
	return nl_talk(nlh);
}

/*
 * One route to p through the interfaces ifx: RTA_OIF for one, an
 * RTA_MULTIPATH list for several (the kernel spreads flows over
 * them).  MGW_NL_ADD uses NLM_F_EXCL so that a route minigw did not
 * make is never overwritten (-EEXIST); MGW_NL_REPLACE is only used on
 * routes minigw installed itself.
 */
int
mgw_nl_route(int op, const vpnr_prefix *p, const int *ifx, int n, int proto,
    const vpnr_addr *src)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct nlattr *mp;
	struct rtnexthop *nh;
	size_t alen;
	int af = family_of(&p->addr, &alen), i;

	if (n < 1 || n > 32)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = op == MGW_NL_DEL ? RTM_DELROUTE : RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (op == MGW_NL_ADD)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	else if (op == MGW_NL_REPLACE)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)af;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = (uint8_t)proto;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, alen, p->addr.bytes);
	if (src != NULL && src->family == p->addr.family)
		mnl_attr_put(nlh, RTA_PREFSRC, alen, src->bytes);
	if (op == MGW_NL_DEL) {
		/* The protocol in the request makes the kernel delete only
		 * a route of ours. */
		return nl_talk(nlh);
	}
	if (n == 1) {
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifx[0]);
		return nl_talk(nlh);
	}
	mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
	for (i = 0; i < n; i++) {
		nh = mnl_nlmsg_get_payload_tail(nlh);
		memset(nh, 0, sizeof(*nh));
		nh->rtnh_len = sizeof(*nh);
		nh->rtnh_ifindex = ifx[i];
		nlh->nlmsg_len += MNL_ALIGN(sizeof(*nh));
	}
	mnl_attr_nest_end(nlh, mp);
	return nl_talk(nlh);
}

/* A virtual interface of kind ("dummy", "bridge"), or -EEXIST. */
int
mgw_nl_virtual(const char *name, const char *kind)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *li;

	memset(buf, 0, sizeof(buf)); /* the attribute padding too */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, li);
	return nl_talk(nlh);
}

int
mgw_nl_link_del(int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nl_talk(nlh);
}

/* ---- many links at once ------------------------------------------------ */

#define BATCH_MAX 256 /* messages per send: their acks fit the rcvbuf */

/* Send the n messages in buf (seq seq0.., each asking for an ack) and
 * wait for every ack: 0, or the first error. */
static int
nl_batch(struct mnl_socket *nl, const char *buf, size_t len, int n,
    unsigned int seq0)
{
	char rx[MNL_SOCKET_BUFFER_SIZE];
	const struct nlmsghdr *h;
	const struct nlmsgerr *e;
	int got = 0, first = 0, r;

	if (mnl_socket_sendto(nl, buf, len) < 0)
		return -errno;
	while (got < n) {
		if ((r = (int)mnl_socket_recvfrom(nl, rx, sizeof(rx))) < 0)
			return -errno;
		for (h = (const void *)rx; mnl_nlmsg_ok(h, r);
		     h = mnl_nlmsg_next(h, &r)) {
			if (h->nlmsg_type != NLMSG_ERROR ||
			    h->nlmsg_seq - seq0 >= (unsigned int)n)
				continue;
			e = mnl_nlmsg_get_payload(h);
			got++;
			if (e->error != 0 && first == 0)
				first = e->error;
		}
	}
	return first;
}

/* RTM_NEWLINK or RTM_DELLINK with IFLA_GROUP, at p; its length. */
static size_t
put_group(char *p, int type, int ifindex, uint32_t group, unsigned int seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(p);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	return nlh->nlmsg_len;
}

struct members {
	const int *ifx; /* sorted */
	int n;
	uint32_t group;
	int ours, foreign;
};

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int
member_cb(const struct nlmsghdr *nlh, void *data)
{
	struct members *m = data;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(*ifm))
	{
		if (mnl_attr_get_type(a) != IFLA_GROUP ||
		    mnl_attr_get_u32(a) != m->group)
			continue;
		if (bsearch(&ifm->ifi_index, m->ifx, (size_t)m->n, sizeof(int),
			int_cmp) != NULL)
			m->ours++;
		else
			m->foreign++;
	}
	return MNL_CB_OK;
}

/* 0 when group holds exactly the n links ifx (sorted), else -EBUSY. */
static int
group_is(struct mnl_socket *nl, const int *ifx, int n, uint32_t group,
    unsigned int seq)
{
	static char rx[32768]; /* a dump's skbs are up to 32 KiB */
	struct members m = { ifx, n, group, 0, 0 };
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	int r;

	nlh = mnl_nlmsg_put_header(rx);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		if ((r = (int)mnl_socket_recvfrom(nl, rx, sizeof(rx))) < 0)
			return -errno;
		r = mnl_cb_run(rx, (size_t)r, seq, mnl_socket_get_portid(nl),
		    member_cb, &m);
	} while (r > MNL_CB_STOP);
	if (r < 0)
		return -errno;
	return m.ours == n && m.foreign == 0 ? 0 : -EBUSY;
}

/*
 * Delete n links in one kernel round: move them into group (batched
 * RTM_NEWLINK, cheap), check by a dump that the group holds them and
 * nothing else, then one RTM_DELLINK for the group.  The kernel then
 * unregisters them all at once and waits once for all to be released,
 * where a delete per link (or a close per TUN) waits for each in turn.
 * The group is only searched in this process's network namespace.
 */
int
mgw_nl_links_del(const int *ifx, int n, uint32_t group)
{
	static char buf[BATCH_MAX * 64];
	struct mnl_socket *nl;
	unsigned int seq = (unsigned int)time(NULL) << 16;
	size_t len;
	int *sorted, i, j, k, rc;

	if (n <= 0)
		return 0;
	if ((sorted = malloc(sizeof(int) * (size_t)n)) == NULL)
		return -ENOMEM;
	memcpy(sorted, ifx, sizeof(int) * (size_t)n);
	qsort(sorted, (size_t)n, sizeof(int), int_cmp);
	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL) {
		free(sorted);
		return -errno;
	}
	rc = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
	for (i = 0; rc == 0 && i < n; i += k) {
		k = n - i < BATCH_MAX ? n - i : BATCH_MAX;
		for (j = 0, len = 0; j < k; j++)
			len += put_group(buf + len, RTM_NEWLINK, sorted[i + j],
			    group, seq + (unsigned int)(i + j));
		rc = nl_batch(nl, buf, len, k, seq + (unsigned int)i);
	}
	seq += (unsigned int)n;
	if (rc == 0)
		rc = group_is(nl, sorted, n, group, seq++);
	if (rc == 0) {
		len = put_group(buf, RTM_DELLINK, 0, group, seq);
		rc = nl_batch(nl, buf, len, 1, seq);
	}
	mnl_socket_close(nl);
	free(sorted);
	return rc;
}
