/*
 * Addresses and prefixes: parsing, formatting, comparisons, and the
 * cloud rules about them (APIPA inside addresses, private ASNs).
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "addr.h"

size_t
vpnr__addr_len(const vpnr_addr *a)
{
	switch (a->family) {
	case VPNR_AF_INET:
		return 4;
	case VPNR_AF_INET6:
		return 16;
	default:
		return 0;
	}
}

int
vpnr__addr_eq(const vpnr_addr *a, const vpnr_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->bytes, b->bytes, vpnr__addr_len(a)) == 0;
}

int
vpnr__addr_eq_port(const vpnr_addr *a, const vpnr_addr *b)
{
	return vpnr__addr_eq(a, b) && a->port == b->port;
}

void
vpnr__addr_set4(vpnr_addr *a, const uint8_t bytes[4], uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = VPNR_AF_INET;
	a->port = port;
	memcpy(a->bytes, bytes, 4);
}

void
vpnr__addr_set6(vpnr_addr *a, const uint8_t bytes[16], uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = VPNR_AF_INET6;
	a->port = port;
	memcpy(a->bytes, bytes, 16);
}

int
vpnr__addr_is_apipa(const vpnr_addr *a)
{
	return a->family == VPNR_AF_INET && a->bytes[0] == 169 &&
	    a->bytes[1] == 254;
}

int
vpnr__prefix_contains(const vpnr_prefix *p, const vpnr_addr *a)
{
	unsigned full, rest;

	if (p->addr.family != a->family || p->len > vpnr__addr_len(a) * 8)
		return 0;
	full = p->len / 8;
	rest = p->len % 8;
	if (memcmp(p->addr.bytes, a->bytes, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((p->addr.bytes[full] ^ a->bytes[full]) &
		   (uint8_t)(0xff << (8 - rest))) == 0;
}

int
vpnr__asn_is_private(uint32_t asn)
{
	return (asn >= 64512 && asn <= 65534) ||
	    (asn >= 4200000000u && asn <= 4294967294u);
}

static int
parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s == '\0')
		return VPNR_ERR_INVALID_ARGUMENT;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return VPNR_ERR_INVALID_ARGUMENT;
	*port = (uint16_t)v;
	return VPNR_OK;
}

VPNR_API int
vpnr_addr_parse(vpnr_addr *addr, const char *str)
{
	char tmp[INET6_ADDRSTRLEN + 16];
	char *colon, *close, *host = tmp, *pct;
	uint16_t port = 0;

	if (addr == NULL || str == NULL || strlen(str) >= sizeof(tmp))
		return VPNR_ERR_INVALID_ARGUMENT;
	memset(addr, 0, sizeof(*addr));
	strcpy(tmp, str);
	if (tmp[0] == '[') {
		if ((close = strchr(tmp, ']')) == NULL)
			return VPNR_ERR_INVALID_ARGUMENT;
		*close = '\0';
		host = tmp + 1;
		if (close[1] == ':') {
			if (parse_port(close + 2, &port) != VPNR_OK)
				return VPNR_ERR_INVALID_ARGUMENT;
		} else if (close[1] != '\0')
			return VPNR_ERR_INVALID_ARGUMENT;
	} else if ((colon = strchr(tmp, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		/* Exactly one colon: IPv4 with a port. */
		*colon = '\0';
		if (parse_port(colon + 1, &port) != VPNR_OK)
			return VPNR_ERR_INVALID_ARGUMENT;
	}
	if ((pct = strchr(host, '%')) != NULL) {
		*pct = '\0';
		addr->scope_id = (uint32_t)strtoul(pct + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, host, addr->bytes) == 1)
		addr->family = VPNR_AF_INET;
	else if (inet_pton(AF_INET6, host, addr->bytes) == 1)
		addr->family = VPNR_AF_INET6;
	else
		return VPNR_ERR_INVALID_ARGUMENT;
	addr->port = port;
	return VPNR_OK;
}

VPNR_API int
vpnr_prefix_parse(vpnr_prefix *prefix, const char *str)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned long len;
	vpnr_prefix p;

	if (prefix == NULL || str == NULL || strlen(str) >= sizeof(tmp))
		return VPNR_ERR_INVALID_ARGUMENT;
	strcpy(tmp, str);
	memset(&p, 0, sizeof(p));
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash = '\0';
	if (strchr(tmp, '[') != NULL || vpnr_addr_parse(&p.addr, tmp) != 0 ||
	    p.addr.port != 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (slash == NULL)
		len = vpnr__addr_len(&p.addr) * 8;
	else {
		len = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' ||
		    len > vpnr__addr_len(&p.addr) * 8)
			return VPNR_ERR_INVALID_ARGUMENT;
	}
	p.len = (uint8_t)len;
	/* Host bits must be zero. */
	{
		size_t i, n = vpnr__addr_len(&p.addr);

		for (i = 0; i < n; i++) {
			unsigned bits = len >= (i + 1) * 8 ? 8 :
			    len > i * 8                    ? len - i * 8 :
							     0;
			uint8_t mask =
			    bits == 0 ? 0 : (uint8_t)(0xff << (8 - bits));
			if ((p.addr.bytes[i] & ~mask) != 0)
				return VPNR_ERR_INVALID_ARGUMENT;
		}
	}
	*prefix = p;
	return VPNR_OK;
}

VPNR_API const char *
vpnr_addr_format(const vpnr_addr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (buf == NULL || len == 0)
		return "";
	buf[0] = '\0';
	if (addr == NULL)
		return buf;
	switch (addr->family) {
	case VPNR_AF_INET:
		inet_ntop(AF_INET, addr->bytes, host, sizeof(host));
		n = addr->port != 0 ?
		    snprintf(buf, len, "%s:%u", host, addr->port) :
		    snprintf(buf, len, "%s", host);
		break;
	case VPNR_AF_INET6:
		inet_ntop(AF_INET6, addr->bytes, host, sizeof(host));
		n = addr->port != 0 ?
		    snprintf(buf, len, "[%s]:%u", host, addr->port) :
		    snprintf(buf, len, "%s", host);
		break;
	default:
		n = snprintf(buf, len, "(none)");
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return "";
	}
	return buf;
}
