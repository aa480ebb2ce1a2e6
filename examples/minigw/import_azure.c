/*
 * Azure's downloaded device configuration sample (cloud-vpn-requirements.md
 * 4.3, seed-scenarios.md 3): before the device's own commands, a block of
 * comment lines holds the parameters,
 *
 *   ! [1] Network parameters
 *   !   > Connection name:       Connection01
 *   !   > Public IP addresses:
 *   !     + Public IP 1:         198.51.100.7
 *   !   > Virtual network address space:
 *   !     + CIDR:10.0.0.0/16, prefix:10.0.0.0, netmask:255.255.0.0, ...
 *   ! [2] IPsec/IKE parameters
 *   !   > IKE version:             IKEv2
 *   !     + Encryption algorithm:  aes-cbc-256
 *   !   > IPsec
 *   !     + Encryption algorithm:  esp-gcm 256
 *   ! [3] BGP parameters - Azure VPN gateway
 *   !     + Enable BGP:            True
 *
 * "[N] title" opens a part, "> Key: value" a group, "+ Key: value" is an
 * item of the group.  Tolerated: any comment mark ("!", "#", ";", "//")
 * or none; keys compared without case, blanks and punctuation (the
 * sample's own "Integrityalgorithm", "On-premises" or "On premises");
 * one gateway address ("Public IP address", "Azure gateway IP", older)
 * or a list ("Public IP 1", "Public IP 2": active-active); IKEv1 or
 * IKEv2; Cisco spellings (esp-aes 256, esp-sha256-hmac) or Azure's
 * policy names (GCMAES256, DHGroup14, PFS2048) (IKEv1 becomes
 * ike_version 1); no BGP part, or BGP off
 * with its placeholders (VNG_ASN).  The block ends at the first "===="
 * line after part [2]; lines that are not items are skipped.  Refused,
 * with the line: a
 * value we cannot map, an address that is not one, a missing PSK or
 * gateway address.  The PSK never goes into a message.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "import.h"

#define MAXGW   2  /* Azure's active-active has two instances */
#define MAXPFX  16 /* prefixes kept per side */
#define ADDRLEN 64

enum { G_NONE, G_PUBIP, G_VNET, G_ONPREM, G_IKE, G_ESP };

struct az {
	struct mgw_ictx x;
	int part, group;
	char conn[64];
	char gw[MAXGW][ADDRLEN];
	int gw_line[MAXGW];
	char local[ADDRLEN];
	char vnet[MAXPFX][ADDRLEN], onprem[MAXPFX][ADDRLEN];
	int n_vnet, n_onprem;
	int ikev1, ike_line, policy_ts;
	char psk[MGW_PSK_MAX + 1];
	int psk_line;
	struct mgw_iprop ike, esp;
	uint32_t ike_life, child_life;
	uint64_t child_kb;
	int bgp, bgp_line;
	uint32_t az_asn, op_asn;
	char az_ip[MAXGW][ADDRLEN], op_ip[ADDRLEN];
};

/* Lower case letters and digits only: "On-premises BGP IP" = "onpremisesbgpip".
 */
static void
norm(const char *s, char *out, size_t outlen)
{
	size_t k = 0;

	for (; *s && k + 1 < outlen; s++)
		if (isalnum((unsigned char)*s))
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

static int
has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

/* A value that stands for "fill me in" (BGP off, a REPLACE marker). */
static int
placeholder(const char *v)
{
	char n[64];

	norm(v, n, sizeof(n));
	return n[0] == '\0' || has(n, "replace") || has(n, "asn") ||
	    has(n, "bgpip") ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(v);
}

/* Cipher: aes-cbc-256, esp-aes 256, esp-gcm 256, GCMAES256, AES128. */
static int
map_enc(struct az *a, const char *key, const char *v, char *out, size_t len)
{
	char n[64];
	int64_t bits;

	norm(v, n, sizeof(n));
	bits = mgw_last_num(n);
	if (has(n, "aes") && !has(n, "gcm") && bits < 0)
		bits = 128; /* Cisco's bare esp-aes */
	if ((!has(n, "aes") && !has(n, "gcm")) || has(n, "des") ||
	    (bits != 128 && bits != 256))
		return mgw_ifail(&a->x,
		    "%s: '%s' is not a cipher minigw has (AES-CBC or "
		    "AES-GCM, 128 or 256 bits)",
		    key, v);
	snprintf(out, len, "aes%d%s", (int)bits, has(n, "gcm") ? "gcm16" : "");
	return 0;
}

/* Integrity: sha1, sha256, esp-sha-hmac, esp-sha256-hmac, SHA384;
 * empty or a GCM name: none (GCM has its own). */
static int
map_auth(struct az *a, const char *key, const char *v, char *out, size_t len)
{
	static const char *const w[] = { "sha", "sha1", "sha256", "sha2256",
		"sha384", "sha2384", "sha512", "sha2512", NULL };
	static const char *const to[] = { "sha1", "sha1", "sha256", "sha256",
		"sha384", "sha384", "sha512", "sha512" };
	char n[64], *h;

	norm(v, n, sizeof(n));
	if (strncmp(n, "esp", 3) == 0)
		memmove(n, n + 3, strlen(n + 3) + 1);
	if ((h = strstr(n, "hmac")) != NULL)
		*h = '\0';
	if (n[0] == '\0' || has(n, "gcm")) {
		out[0] = '\0';
		return 0;
	}
	if (mgw_iword(n, w, to, out, len) < 0)
		return mgw_ifail(&a->x,
		    "%s: '%s' is not an integrity minigw has (SHA1, SHA256, "
		    "SHA384, SHA512)",
		    key, v);
	return 0;
}

/* DH / PFS group: 2, DHGroup14, DHGroup2048, ECP256, PFS24, none. */
static int
map_dh(struct az *a, const char *key, const char *v, char *out, size_t len)
{
	char n[64];
	const char *d = NULL;
	int64_t g;

	norm(v, n, sizeof(n));
	if (n[0] == '\0' || strcmp(n, "none") == 0) {
		out[0] = '\0';
		return 0;
	}
	if (has(n, "ecp256"))
		d = "ecp256";
	else if (has(n, "ecp384"))
		d = "ecp384";
	else if (has(n, "2048"))
		d = "modp2048"; /* DHGroup2048, PFS2048: group 14 */
	else if ((g = mgw_last_num(n)) >= 0)
		d = mgw_dh_name(g);
	if (d == NULL)
		return mgw_ifail(&a->x,
		    "%s: '%s' is not a group minigw has (2, 14, 24, ECP256, "
		    "ECP384, none)",
		    key, v);
	snprintf(out, len, "%s", d);
	return 0;
}

static int
addr(struct az *a, const char *key, const char *v, int prefix, char *out)
{
	if (!mgw_addr_ok(v, prefix))
		return mgw_ifail(&a->x, "%s: '%s' is not an IPv4 %s", key, v,
		    prefix ? "prefix (a.b.c.d/len)" : "address");
	snprintf(out, ADDRLEN, "%s", v);
	return 0;
}

static int
seconds(struct az *a, const char *key, const char *v, uint32_t *out)
{
	int64_t n = mgw_first_num(v);

	if (n < 300 || n > 86400)
		return mgw_ifail(&a->x, "%s: '%s' is not 300-86400 seconds",
		    key, v);
	*out = (uint32_t)n;
	return 0;
}

/* Which instance a key numbers ("Public IP 2", "Second ..."; none: the
 * first), or -1 past Azure's two. */
static int
index_of(const char *nk)
{
	int64_t i = mgw_last_num(nk);

	if (has(nk, "second"))
		return 1;
	if (i < 0)
		return 0;
	return i >= 1 && i <= MAXGW ? (int)i - 1 : -1;
}

/* "CIDR:10.0.0.0/16, prefix:..." or a bare prefix, into a list. */
static int
prefix_item(struct az *a, const char *key, const char *v, char (*list)[ADDRLEN],
    int *n)
{
	char buf[ADDRLEN];
	size_t k = strcspn(v, ", ");

	if (k >= sizeof(buf))
		return mgw_ifail(&a->x, "%s: '%.40s...' is not an IPv4 prefix",
		    key, v);
	memcpy(buf, v, k);
	buf[k] = '\0';
	if (*n == MAXPFX)
		return mgw_ifail(&a->x, "%s: more than %d prefixes", key,
		    MAXPFX);
	if (addr(a, key, buf, 1, list[*n]) < 0)
		return -1;
	(*n)++;
	return 0;
}

static int
gateway(struct az *a, const char *key, const char *v, int i)
{
	if (i < 0)
		return mgw_ifail(&a->x,
		    "%s: an Azure gateway has at most %d instances", key,
		    MAXGW);
	if (a->gw_line[i] != 0)
		return mgw_ifail(&a->x,
		    "%s: gateway address %d given twice "
		    "(first on line %d)",
		    key, i + 1, a->gw_line[i]);
	a->gw_line[i] = a->x.line;
	return addr(a, key, v, 0, a->gw[i]);
}

/* One "> Key: value" (group 1) or "+ Key: value" (0) of the block. */
static int
item(struct az *a, int group, const char *key, const char *v)
{
	char nk[64];
	int64_t n;
	int esp = a->group == G_ESP;

	norm(key, nk, sizeof(nk));
	if (group) {
		a->group = G_NONE;
		if (has(nk, "publicipaddresses"))
			a->group = G_PUBIP;
		else if (has(nk, "virtualnetworkaddress") ||
		    has(nk, "vnetaddress"))
			a->group = G_VNET;
		else if (has(nk, "onpremisesaddress") ||
		    has(nk, "localnetworkaddress"))
			a->group = G_ONPREM;
		else if (strncmp(nk, "ike", 3) == 0)
			a->group = G_IKE; /* "> IKE version: IKEv2" */
		else if (strncmp(nk, "ipsec", 5) == 0)
			a->group = G_ESP; /* "> IPsec" */
		esp = 0;
	}
	if (strcmp(nk, "connectionname") == 0)
		snprintf(a->conn, sizeof(a->conn), "%s", v);
	else if (a->group == G_PUBIP && !group && has(nk, "publicip"))
		return gateway(a, key, v, index_of(nk));
	else if (group &&
	    (strcmp(nk, "publicipaddress") == 0 ||
		strcmp(nk, "azuregatewayip") == 0 ||
		strcmp(nk, "gatewaypublicip") == 0 ||
		strcmp(nk, "azuregatewaypublicip") == 0))
		return gateway(a, key, v, 0);
	else if (has(nk, "onpremisesvpnip")) {
		/* Anything but an address is left for --local. */
		if (mgw_addr_ok(v, 0))
			snprintf(a->local, sizeof(a->local), "%s", v);
	} else if (!group && (a->group == G_VNET || a->group == G_ONPREM) &&
	    (strcmp(nk, "cidr") == 0 || strcmp(nk, "prefix") == 0))
		return a->group == G_VNET ?
		    prefix_item(a, key, v, a->vnet, &a->n_vnet) :
		    prefix_item(a, key, v, a->onprem, &a->n_onprem);
	else if (strcmp(nk, "ikeversion") == 0) {
		if (strcasecmp(v, "IKEv1") != 0 && strcasecmp(v, "IKEv2") != 0)
			return mgw_ifail(&a->x,
			    "%s: '%s' (allowed: IKEv1, IKEv2)", key, v);
		a->ikev1 = strcasecmp(v, "IKEv1") == 0;
		a->ike_line = a->x.line;
	} else if (strcmp(nk, "presharedkey") == 0 ||
	    strcmp(nk, "sharedkey") == 0) {
		/* Measured, never cut; the key is not quoted back. */
		if (strlen(v) < MGW_PSK_MIN || strlen(v) > MGW_PSK_MAX)
			return mgw_ifail(&a->x,
			    "Pre-shared key: %zu characters (allowed %d-%d)",
			    strlen(v), MGW_PSK_MIN, MGW_PSK_MAX);
		snprintf(a->psk, sizeof(a->psk), "%s", v);
		a->psk_line = a->x.line;
	} else if (has(nk, "usepolicybased"))
		a->policy_ts = strcasecmp(v, "True") == 0;
	else if (strcmp(nk, "encryptionalgorithm") == 0)
		return map_enc(a, key, v, esp ? a->esp.enc : a->ike.enc,
		    sizeof(a->ike.enc));
	else if (strcmp(nk, "integrityalgorithm") == 0)
		return map_auth(a, key, v, esp ? a->esp.auth : a->ike.auth,
		    sizeof(a->ike.auth));
	else if (has(nk, "diffiehellman") || strcmp(nk, "dhgroup") == 0 ||
	    strcmp(nk, "pfsgroup") == 0)
		return map_dh(a, key, v,
		    esp || has(nk, "pfs") ? a->esp.dh : a->ike.dh,
		    sizeof(a->ike.dh));
	else if (strcmp(nk, "salifetimeseconds") == 0)
		return seconds(a, key, v, esp ? &a->child_life : &a->ike_life);
	else if (strcmp(nk, "salifetimekb") == 0) {
		if ((n = mgw_first_num(v)) < 1024)
			return mgw_ifail(&a->x,
			    "%s: '%s' is not 1024 KB or "
			    "more",
			    key, v);
		a->child_kb = (uint64_t)n;
	} else if (strcmp(nk, "enablebgp") == 0) {
		if (strcasecmp(v, "True") != 0 && strcasecmp(v, "False") != 0)
			return mgw_ifail(&a->x,
			    "%s: '%s' (allowed: True, "
			    "False)",
			    key, v);
		a->bgp = strcasecmp(v, "True") == 0;
		a->bgp_line = a->x.line;
	} else if (strcmp(nk, "azurebgpasn") == 0 ||
	    strcmp(nk, "onpremisesbgpasn") == 0) {
		n = mgw_first_num(v);
		if (placeholder(v) && n < 0)
			return 0; /* checked once BGP is known to be on */
		if (n < 1 || !mgw_asn_ok((uint64_t)n) ||
		    strspn(v, "0123456789") != strlen(v))
			return mgw_ifail(&a->x, "%s: '%s' is not an AS number",
			    key, v);
		*(nk[0] == 'a' ? &a->az_asn : &a->op_asn) = (uint32_t)n;
	} else if (has(nk, "azure") &&
	    (has(nk, "bgpip") || has(nk, "bgppeerip"))) {
		if (index_of(nk) < 0)
			return mgw_ifail(&a->x,
			    "%s: an Azure gateway has at most %d instances",
			    key, MAXGW);
		if (!placeholder(v))
			return addr(a, key, v, 0, a->az_ip[index_of(nk)]);
	} else if (strcmp(nk, "onpremisesbgpip") == 0) {
		if (!placeholder(v))
			return addr(a, key, v, 0, a->op_ip);
	}
	return 0;
}

/* One line of the file: 1 = the block is over, 0 = go on, -1 = refused. */
static int
feed(struct az *a, char *line)
{
	char *s = line, *sep, *v;
	int group;

	while (*s == ' ' || *s == '!' || *s == '#' || *s == ';' ||
	    (*s == '/' && s[1] == '/'))
		s += *s == '/' ? 2 : 1;
	if (strncmp(s, "====", 4) == 0)
		return a->part >= 2;
	if (s[0] == '[' && isdigit((unsigned char)s[1]) && s[2] == ']') {
		a->part = s[1] - '0';
		a->group = G_NONE;
		return 0;
	}
	if (a->part == 0 || (s[0] != '>' && s[0] != '+'))
		return 0;
	group = s[0] == '>';
	s++;
	if ((sep = strchr(s, ':')) == NULL) {
		sep = s + strlen(s); /* "> IPsec": a group, no value */
		v = sep;
	} else {
		*sep = '\0';
		v = sep + 1;
	}
	while (*s == ' ')
		s++;
	mgw_itrim(s);
	while (*v == ' ')
		v++;
	/* Blanks only: a PSK may end in ':' (Azure allows it). */
	for (sep = v + strlen(v); sep > v && sep[-1] == ' '; sep--)
		sep[-1] = '\0';
	return item(a, group, s, v) < 0 ? -1 : 0;
}

static void
list(FILE *out, const char *key, char (*l)[ADDRLEN], int n)
{
	int i;

	fprintf(out, "%s[", key);
	for (i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", l[i]);
	fprintf(out, "]\n");
}

/* Same /30 as ours: the BGP session runs on the tunnel's own address. */
static int
same30(const char *p, const char *q)
{
	unsigned a[4], b[4];

	return sscanf(p, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) == 4 &&
	    sscanf(q, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) == 4 &&
	    a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	    (a[3] & ~3u) == (b[3] & ~3u) && a[3] != b[3];
}

static int
emit(struct az *a, const struct mgw_import_opts *o, FILE *out)
{
	const char *local = a->local[0] ? a->local : o->local;
	uint32_t las = a->op_asn ? a->op_asn : o->local_as;
	int n = a->gw[1][0] ? 2 : 1, i, direct, third = 0;

	a->x.line = 1;
	if (a->gw[0][0] == '\0')
		return mgw_ifail(&a->x,
		    "no gateway address (\"Public IP 1\" or \"Public IP "
		    "address\" in [1] Network parameters): not an Azure "
		    "device sample");
	if (a->psk[0] == '\0')
		return mgw_ifail(&a->x, "no Pre-shared key in [2]");
	if (a->ike.enc[0] == '\0' || a->esp.enc[0] == '\0')
		return mgw_ifail(&a->x, "no Encryption algorithm for %s in [2]",
		    a->ike.enc[0] ? "IPsec" : "IKE");
	if ((a->esp.auth[0] == '\0' && strstr(a->esp.enc, "gcm") == NULL) ||
	    a->ike.auth[0] == '\0')
		return mgw_ifail(&a->x, "no Integrity algorithm for %s in [2]",
		    a->ike.auth[0] ? "IPsec (AES-CBC needs one)" : "IKE");
	if (local == NULL || !mgw_addr_ok(local, 0))
		return mgw_ifail(&a->x,
		    "the On-premises VPN IP is missing or a placeholder: "
		    "give --local ADDRESS");
	if (a->bgp) {
		a->x.line = a->bgp_line;
		if (a->az_asn == 0 || a->az_ip[0][0] == '\0' ||
		    (n == 2 && a->az_ip[1][0] == '\0'))
			return mgw_ifail(&a->x,
			    "BGP is on but the Azure BGP ASN or a BGP IP "
			    "per gateway address is missing");
		if (a->op_ip[0] == '\0')
			return mgw_ifail(&a->x,
			    "BGP is on but the On premises BGP IP is "
			    "missing");
		if (las == 0)
			return mgw_ifail(&a->x,
			    "the On premises BGP ASN is a placeholder: "
			    "give --local-as N");
	}
	/* One tunnel whose /30 holds both BGP addresses: the session runs
	 * on it.  Otherwise (a GatewaySubnet address, two instances) our
	 * BGP IP goes on a loopback, Azure's reach through each tunnel. */
	direct = a->bgp && n == 1 && same30(a->op_ip, a->az_ip[0]);
	for (i = 0; i < MAXGW + 1; i++)
		if (strncmp(i < MAXGW ? a->az_ip[i] : a->op_ip, "169.254.0.",
			10) == 0)
			third = 3;
	fprintf(out,
	    "# minigw configuration imported from %s (Azure device "
	    "sample%s%s)\n",
	    a->x.path, a->conn[0] ? ", connection " : "", a->conn);
	if (a->bgp)
		fprintf(out, "global:\n  local_as: %" PRIu32 "\n", las);
	if (a->bgp && !direct)
		fprintf(out,
		    "interfaces:\n  - name: lo0\n    addresses: [%s/32]\n",
		    a->op_ip);
	fprintf(out, "tunnels:\n");
	for (i = 0; i < n; i++) {
		fprintf(out, "  - name: azure%d\n    profile: azure\n", i + 1);
		if (a->ikev1)
			fprintf(out, "    ike_version: 1\n");
		fprintf(out, "    local: %s\n    remote: %s\n", local,
		    a->gw[i]);
		mgw_emit_psk(out, a->psk);
		mgw_emit_proposals(out, &a->ike, &a->esp);
		if (a->ike_life)
			fprintf(out, "    ike_lifetime: %" PRIu32 "\n",
			    a->ike_life);
		if (a->child_life)
			fprintf(out, "    child_lifetime: %" PRIu32 "\n",
			    a->child_life);
		if (a->child_kb)
			fprintf(out, "    child_lifetime_kb: %" PRIu64 "\n",
			    a->child_kb);
		/* Azure never sees the tunnel's own address unless BGP runs
		 * on it: an APIPA /30 per tunnel, as Azure's samples pick
		 * one (169.254.0.1), clear of the BGP addresses. */
		if (direct)
			fprintf(out, "    address: %s/30\n", a->op_ip);
		else
			fprintf(out, "    address: 169.254.%d.%d/30\n", third,
			    4 * i + 1);
		/* IKEv1 carries one pair of selectors per tunnel. */
		if (a->policy_ts && a->ikev1 && a->n_onprem * a->n_vnet > 1)
			fprintf(out,
			    "    # WARNING: UsePolicyBasedTS with IKEv1 (line "
			    "%d): %d x %d prefix pairs need a tunnel each; "
			    "this one carries 0.0.0.0/0\n",
			    a->ike_line, a->n_onprem, a->n_vnet);
		else if (a->policy_ts && a->n_onprem && a->n_vnet) {
			list(out, "    local_ts: ", a->onprem, a->n_onprem);
			list(out, "    remote_ts: ", a->vnet, a->n_vnet);
		}
	}
	if (!a->bgp) {
		if (a->n_vnet == 0) {
			fprintf(out, "# routes: [the VNet's prefixes]\n");
			return ferror(out) ? -1 : 0;
		}
		/* Both instances: one multipath route per prefix. */
		fprintf(out, "routes:\n");
		for (i = 0; i < a->n_vnet * n; i++)
			fprintf(out, "  - prefix: %s\n    tunnel: azure%d\n",
			    a->vnet[i / n], i % n + 1);
		return ferror(out) ? -1 : 0;
	}
	if (!direct) {
		fprintf(out, "routes:\n");
		for (i = 0; i < n; i++)
			fprintf(out, "  - prefix: %s/32\n    tunnel: azure%d\n",
			    a->az_ip[i], i + 1);
	}
	fprintf(out, "bgp:\n  neighbors:\n");
	for (i = 0; i < n; i++) {
		/* The profile named: a neighbour from a loopback rides no
		 * tunnel to take it from. */
		fprintf(out,
		    "    - address: %s\n      remote_as: %" PRIu32
		    "\n      profile: azure\n",
		    a->az_ip[i], a->az_asn);
		if (direct)
			fprintf(out, "      tunnel: azure%d\n", i + 1);
		else
			fprintf(out,
			    "      update_source: lo0\n      multihop: 255\n");
	}
	/* Our prefixes, less the BGP IP's own /32 (AZ-BGP-6, older). */
	fprintf(out, "  networks: [");
	for (i = 0, n = 0; i < a->n_onprem; i++) {
		char host[ADDRLEN + 4];

		snprintf(host, sizeof(host), "%s/32", a->op_ip);
		if (strcmp(a->onprem[i], host) != 0)
			fprintf(out, "%s%s", n++ ? ", " : "", a->onprem[i]);
	}
	fprintf(out, "]\n");
	return ferror(out) ? -1 : 0;
}

int
mgw_import_azure_sample(const char *path, const char *text, size_t len,
    const struct mgw_import_opts *o, FILE *out, char *err, size_t errlen)
{
	struct az *a;
	char line[1024];
	const char *p = text, *end = text + len;
	int r, rc = -1;

	/* ~5 KB of addresses: off the stack; wiped, it holds the PSK. */
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "%s:1: out of memory", path);
		return -1;
	}
	a->x = (struct mgw_ictx){ path, err, errlen, 0 };
	while ((r = mgw_inext(&a->x, &p, end, line, sizeof(line))) > 0)
		if ((r = feed(a, line)) != 0)
			break;
	if (r >= 0)
		rc = emit(a, o, out);
	explicit_bzero(line, sizeof(line));
	explicit_bzero(a, sizeof(*a));
	free(a);
	return rc;
}
