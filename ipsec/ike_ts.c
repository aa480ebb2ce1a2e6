/*
 * Traffic selectors (RFC 7296 2.9, 3.13.1): narrowing by intersection,
 * containment and formatting.  Port range 65535..0 is OPAQUE (3.13.1);
 * it intersects only with OPAQUE or with the full port range.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "ike_ts.h"

static size_t
ts_alen(const vpnr_ts *ts)
{
	if (ts->addr_start.family != ts->addr_end.family)
		return 0;
	if (ts->addr_start.family == VPNR_AF_INET)
		return 4;
	if (ts->addr_start.family == VPNR_AF_INET6)
		return 16;
	return 0;
}

static int
opaque(const vpnr_ts *ts)
{
	return ts->port_start == 65535 && ts->port_end == 0;
}

static int
all_ports(const vpnr_ts *ts)
{
	return ts->port_start == 0 && ts->port_end == 65535;
}

void
vpnr__ts_any(vpnr_ts *ts, uint8_t family)
{
	size_t alen = family == VPNR_AF_INET6 ? 16 : 4;

	memset(ts, 0, sizeof(*ts));
	ts->ip_proto = 0;
	ts->port_start = 0;
	ts->port_end = 65535;
	ts->addr_start.family = ts->addr_end.family =
	    family == VPNR_AF_INET6 ? VPNR_AF_INET6 : VPNR_AF_INET;
	memset(ts->addr_end.bytes, 0xff, alen);
}

/* Intersection of a and b into r; 0 when empty. */
static int
ts_intersect(const vpnr_ts *a, const vpnr_ts *b, vpnr_ts *r)
{
	size_t alen = ts_alen(a);

	if (alen == 0 || ts_alen(b) != alen)
		return 0;
	memset(r, 0, sizeof(*r));
	if (a->ip_proto == 0)
		r->ip_proto = b->ip_proto;
	else if (b->ip_proto == 0 || b->ip_proto == a->ip_proto)
		r->ip_proto = a->ip_proto;
	else
		return 0;
	if (opaque(a) || opaque(b)) {
		if (!(opaque(a) || all_ports(a)) ||
		    !(opaque(b) || all_ports(b)))
			return 0;
		r->port_start = 65535;
		r->port_end = 0;
	} else {
		r->port_start = a->port_start > b->port_start ? a->port_start :
								b->port_start;
		r->port_end =
		    a->port_end < b->port_end ? a->port_end : b->port_end;
		if (r->port_start > r->port_end)
			return 0;
	}
	r->addr_start =
	    memcmp(a->addr_start.bytes, b->addr_start.bytes, alen) > 0 ?
	    a->addr_start :
	    b->addr_start;
	r->addr_end = memcmp(a->addr_end.bytes, b->addr_end.bytes, alen) < 0 ?
	    a->addr_end :
	    b->addr_end;
	r->addr_start.port = r->addr_end.port = 0;
	if (memcmp(r->addr_start.bytes, r->addr_end.bytes, alen) > 0)
		return 0;
	return 1;
}

static int
ts_eq(const vpnr_ts *a, const vpnr_ts *b)
{
	size_t alen = ts_alen(a);

	return alen != 0 && alen == ts_alen(b) && a->ip_proto == b->ip_proto &&
	    a->port_start == b->port_start && a->port_end == b->port_end &&
	    memcmp(a->addr_start.bytes, b->addr_start.bytes, alen) == 0 &&
	    memcmp(a->addr_end.bytes, b->addr_end.bytes, alen) == 0;
}

size_t
vpnr__ts_narrow(const vpnr_ts *peer, size_t n_peer, const vpnr_ts *ours,
    size_t n_ours, vpnr_ts *out, size_t cap)
{
	vpnr_ts r;
	size_t i, j, k, n = 0;
	int dup;

	for (i = 0; i < n_peer; i++)
		for (j = 0; j < n_ours && n < cap; j++) {
			if (!ts_intersect(&peer[i], &ours[j], &r))
				continue;
			dup = 0;
			for (k = 0; k < n; k++)
				if (ts_eq(&out[k], &r))
					dup = 1;
			if (!dup)
				out[n++] = r;
		}
	return n;
}

/* a inside b */
static int
ts_within(const vpnr_ts *a, const vpnr_ts *b)
{
	size_t alen = ts_alen(a);

	if (alen == 0 || ts_alen(b) != alen)
		return 0;
	if (b->ip_proto != 0 && b->ip_proto != a->ip_proto)
		return 0;
	if (opaque(a)) {
		if (!opaque(b) && !all_ports(b))
			return 0;
	} else if (opaque(b))
		return 0;
	else if (a->port_start < b->port_start || a->port_end > b->port_end)
		return 0;
	return memcmp(a->addr_start.bytes, b->addr_start.bytes, alen) >= 0 &&
	    memcmp(a->addr_end.bytes, b->addr_end.bytes, alen) <= 0;
}

int
vpnr__ts_subset(const vpnr_ts *a, size_t na, const vpnr_ts *b, size_t nb)
{
	size_t i, j;
	int found;

	for (i = 0; i < na; i++) {
		found = 0;
		for (j = 0; j < nb && !found; j++)
			found = ts_within(&a[i], &b[j]);
		if (!found)
			return 0;
	}
	return 1;
}

/* Prefix length if [s, e] is exactly one CIDR block, else -1. */
static int
range_prefix(const uint8_t *s, const uint8_t *e, size_t alen)
{
	size_t plen, i;
	uint8_t m;
	int ok;

	for (plen = 0; plen <= alen * 8; plen++) {
		ok = 1;
		for (i = 0; i < alen && ok; i++) {
			if (plen >= (i + 1) * 8)
				m = 0xff;
			else if (plen <= i * 8)
				m = 0;
			else
				m = (uint8_t)(0xff << (8 - (plen - i * 8)));
			if ((s[i] & (uint8_t)~m) != 0 ||
			    e[i] != (uint8_t)(s[i] | (uint8_t)~m))
				ok = 0;
		}
		if (ok)
			return (int)plen;
	}
	return -1;
}

static const char *
proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 47:
		return "gre";
	case 58:
		return "ipv6-icmp";
	}
	snprintf(buf, len, "%u", (unsigned)p);
	return buf;
}

const char *
vpnr__ts_str(const vpnr_ts *ts, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], pb[8], ports[24];
	size_t alen = ts_alen(ts);
	int af, plen;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	if (alen == 0) {
		snprintf(buf, len, "(invalid)");
		return buf;
	}
	af = alen == 4 ? AF_INET : AF_INET6;
	if (inet_ntop(af, ts->addr_start.bytes, a, sizeof(a)) == NULL ||
	    inet_ntop(af, ts->addr_end.bytes, b, sizeof(b)) == NULL)
		return buf;
	plen = range_prefix(ts->addr_start.bytes, ts->addr_end.bytes, alen);
	if (plen >= 0)
		snprintf(buf, len, "%s/%d", a, plen);
	else
		snprintf(buf, len, "%s..%s", a, b);
	if (ts->ip_proto == 0 && all_ports(ts))
		return buf;
	if (all_ports(ts))
		ports[0] = '\0';
	else if (opaque(ts))
		snprintf(ports, sizeof(ports), "/OPAQUE");
	else if (ts->port_start == ts->port_end)
		snprintf(ports, sizeof(ports), "/%u", (unsigned)ts->port_start);
	else
		snprintf(ports, sizeof(ports), "/%u-%u",
		    (unsigned)ts->port_start, (unsigned)ts->port_end);
	snprintf(buf + strlen(buf), len - strlen(buf), "[%s%s]",
	    proto_name(ts->ip_proto, pb, sizeof(pb)), ports);
	return buf;
}
