/*
 * rtnetlink through libmnl: link up and MTU, addresses on the TUN
 * device, routes into it.  Each call opens a socket, sends one request
 * with NLM_F_ACK and waits for the answer (a handful of calls per
 * tunnel event, so no persistent socket).
 */
#include <errno.h>
#include <net/if.h>
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
