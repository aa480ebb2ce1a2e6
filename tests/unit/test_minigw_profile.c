/*
 * minigw's cloud profiles (examples/minigw/profile.c): a valid
 * configuration for each cloud loads with the cloud's defaults filled
 * in; every rule of every profile, broken once, refuses the file with
 * "FILE:LINE: FIELD: RULE-ID: ... (SOURCE)" and leaves nothing loaded;
 * the same file with profile_override: [RULE-ID] loads, and --print
 * shows the override.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "profile.h"

/*
 * One layout for the four clouds, so the lines are the same: local_as
 * on line 2, the tunnel's profile on 5, psk on 8, address on 9, the
 * neighbour's address on 12, remote_as on 13, tunnel on 14, networks
 * on 15.  Rows insert keys after line 5 (they land on line 6) or after
 * line 14 (line 15).
 */
#define BASE(las, prof, remote, addr, nbaddr, ras) \
	"global:\n" \
	"  local_as: " las "\n" \
	"tunnels:\n" \
	"  - name: t\n" \
	"    profile: " prof "\n" \
	"    local: 192.0.2.1\n" \
	"    remote: " remote "\n" \
	"    psk: Example.psk_0001\n" \
	"    address: " addr "\n" \
	"bgp:\n" \
	"  neighbors:\n" \
	"    - address: " nbaddr "\n" \
	"      remote_as: " ras "\n" \
	"      tunnel: t\n" \
	"  networks: [10.10.0.0/16]\n"

static const char *const base[] = {
	[MGW_PROFILE_AZURE] = BASE("65050", "azure", "203.0.113.10",
	    "169.254.21.14/30", "169.254.21.13", "65515"),
	[MGW_PROFILE_AWS] = BASE("65000", "aws", "198.51.100.1",
	    "169.254.21.2/30", "169.254.21.1", "64512"),
	[MGW_PROFILE_GCP] = BASE("65050", "gcp", "198.51.100.9",
	    "169.254.21.14/30", "169.254.21.13", "64514"),
	[MGW_PROFILE_ALIBABA] = BASE("65050", "alibaba", "203.0.113.20",
	    "169.254.21.14/30", "169.254.21.13", "45104"),
};

#define TUN "    profile: %s\n" /* insert after this (line 6) */
#define NB  "      tunnel: t\n" /* or after this (line 15) */

struct row {
	int prof;
	const char *from, *to;   /* a replacement, or NULL */
	const char *from2, *to2; /* a second one, or NULL */
	const char *ins_t;       /* a line after the profile, or NULL */
	const char *ins_n;       /* a line after the neighbour's tunnel */
	const char *expect;      /* the message up to the source */
	int ovr_ok; /* overriding it loads (minigw's own checks pass) */
};

#define AZ  MGW_PROFILE_AZURE
#define AWS MGW_PROFILE_AWS
#define GCP MGW_PROFILE_GCP
#define ALI MGW_PROFILE_ALIBABA
#define R(p, f, t, f2, t2, it, in, e, o) \
	{ \
		p, f, t, f2, t2, it, in, e, o \
	}

static const struct row rows[] = {
	/* Azure */
	R(AZ, "Example.psk_0001", "Example-psk_0001", NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: AZ-PSK-1: the PSK has a character at "
	    "offset 7 Azure refuses",
	    1),
	R(AZ, NULL, NULL, NULL, NULL,
	    "    ike_proposals: aes256-sha512-modp2048", NULL,
	    "p.yaml:6: tunnels[0].ike_proposals[0]: AZ-IKE-4: 'sha512' in "
	    "'aes256-sha512-modp2048' is not accepted by azure",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, "    esp_proposals: aes256-sha256-ecp521",
	    NULL,
	    "p.yaml:6: tunnels[0].esp_proposals[0]: AZ-IKE-4: 'ecp521' in "
	    "'aes256-sha256-ecp521' is not accepted by azure",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, "    child_lifetime_kb: 1000", NULL,
	    "p.yaml:6: tunnels[0].child_lifetime_kb: AZ-IKE-6: 1000 KB is "
	    "below Azure's minimum of 1024",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, "    dpd_timeout: 8", NULL,
	    "p.yaml:6: tunnels[0].dpd_timeout: AZ-DPD-1: 8 s is outside "
	    "Azure's 9-3600 s",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, "    mtu: 1500", NULL,
	    "p.yaml:6: tunnels[0].mtu: AZ-MTU-1: 1500 is more than azure "
	    "carries (at most 1400)",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, "    mss: 1360", NULL,
	    "p.yaml:6: tunnels[0].mss: AZ-MTU-1: 1360 is more than azure "
	    "allows (at most 1350)",
	    1),
	R(AZ, "169.254.21.14/30", "169.254.20.14/30", NULL, NULL, NULL, NULL,
	    "p.yaml:9: tunnels[0].address: AZ-APIPA-1: our BGP APIPA address "
	    "for Azure must be in 169.254.21.0-169.254.22.255",
	    1),
	R(AZ, "address: 169.254.21.13", "address: 169.254.23.13", NULL, NULL,
	    NULL, NULL,
	    "p.yaml:12: bgp.neighbors[0].address: AZ-APIPA-1: Azure's APIPA "
	    "BGP address must be in 169.254.21.0-169.254.22.255",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, NULL, "      passive: true",
	    "p.yaml:15: bgp.neighbors[0].passive: AZ-APIPA-3: Azure does not "
	    "initiate BGP to an APIPA address: we must",
	    1),
	R(AZ, "local_as: 65050", "local_as: 65517", NULL, NULL, NULL, NULL,
	    "p.yaml:2: global.local_as: AZ-ASN-1: 65517 is reserved by Azure "
	    "or IANA",
	    1),
	R(AZ, "remote_as: 65515", "remote_as: 65050", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: AZ-ASN-2: the "
	    "on-premises ASN must differ from the Azure gateway's (65050)",
	    0),
	R(AZ, NULL, NULL, NULL, NULL, NULL, "      hold_time: 90",
	    "p.yaml:15: bgp.neighbors[0].hold_time: AZ-BGP-1: 90 s: Azure's "
	    "hold time is fixed at 180 s",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, NULL, "      keepalive: 30",
	    "p.yaml:15: bgp.neighbors[0].keepalive: AZ-BGP-1: 30 s: Azure's "
	    "keepalive is fixed at 60 s",
	    1),
	R(AZ, NULL, NULL, NULL, NULL, NULL, "      out_max_prefix: 4001",
	    "p.yaml:15: bgp.neighbors[0].out_max_prefix: AZ-BGP-3: 4001: "
	    "azure takes at most 4000 prefixes",
	    1),
	/* AWS */
	R(AWS, "Example.psk_0001", "0xample.psk_0001", NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: AWS-PSK-1: the PSK must not start "
	    "with \"0\"",
	    1),
	R(AWS, "Example.psk_0001", "Example~psk_0001", NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: AWS-PSK-1: the PSK has a character at "
	    "offset 7 AWS refuses (allowed: letters, digits, '.', '_')",
	    1),
	R(AWS, "Example.psk_0001",
	    "Example.psk_00010123456789012345678901234567890123456789012345678",
	    NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: AWS-PSK-1: the PSK is 65 characters "
	    "(allowed 8-64)",
	    1),
	R(AWS, NULL, NULL, NULL, NULL,
	    "    ike_proposals: aes256-sha256-x25519", NULL,
	    "p.yaml:6: tunnels[0].ike_proposals[0]: AWS-IKE-2: 'curve25519' "
	    "in 'aes256-sha256-x25519' is not accepted by aws",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    esp_proposals: aes192-sha256", NULL,
	    "p.yaml:6: tunnels[0].esp_proposals[0]: AWS-IKE-3: 'aes192' in "
	    "'aes192-sha256' is not accepted by aws",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    ike_lifetime: 600", NULL,
	    "p.yaml:6: tunnels[0].ike_lifetime: AWS-IKE-4: 600 s is outside "
	    "AWS's Phase 1 900-28800 s",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    child_lifetime: 7200", NULL,
	    "p.yaml:6: tunnels[0].child_lifetime: AWS-IKE-4: 7200 s is "
	    "outside AWS's Phase 2 900-3600 s",
	    1),
	R(AWS, NULL, NULL, NULL, NULL,
	    "    ike_lifetime: 1800\n    child_lifetime: 1800", NULL,
	    "p.yaml:7: tunnels[0].child_lifetime: AWS-IKE-4: 1800 s must be "
	    "less than ike_lifetime 1800 s",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    dpd_timeout: 20", NULL,
	    "p.yaml:6: tunnels[0].dpd_timeout: AWS-DPD-1: 20 s is below AWS's "
	    "minimum DPD timeout of 30 s",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    role: respond", NULL,
	    "p.yaml:6: tunnels[0].role: AWS-INIT-1: AWS waits for the "
	    "customer gateway to initiate (allowed: initiate, both)",
	    1),
	R(AWS, NULL, NULL, NULL, NULL,
	    "    local_ts: [10.1.0.0/16, 10.2.0.0/16]\n"
	    "    remote_ts: [0.0.0.0/0]",
	    NULL,
	    "p.yaml:6: tunnels[0].local_ts: AWS-SA-1: AWS allows one SA pair "
	    "per tunnel (one selector each side)",
	    1),
	R(AWS, NULL, NULL, NULL, NULL, "    mtu: 1460", NULL,
	    "p.yaml:6: tunnels[0].mtu: AWS-MTU-1: 1460 is more than aws "
	    "carries (at most 1446)",
	    1),
	/* mss past 1406 never fits mtu 1446 - 40: minigw's check follows. */
	R(AWS, NULL, NULL, NULL, NULL, "    mss: 1410", NULL,
	    "p.yaml:6: tunnels[0].mss: AWS-MTU-1: 1410 is more than aws "
	    "allows (at most 1406)",
	    0),
	R(AWS, "169.254.21.2/30", "169.254.3.2/30", "169.254.21.1",
	    "169.254.3.1", NULL, NULL,
	    "p.yaml:9: tunnels[0].address: AWS-IN-1: 169.254.3.0/30 is "
	    "reserved",
	    1),
	R(AWS, "169.254.21.2/30", "169.254.21.2/29", NULL, NULL, NULL, NULL,
	    "p.yaml:9: tunnels[0].address: AWS-IN-1: the inside address must "
	    "be in a /30 of 169.254.0.0/16",
	    0),
	R(AWS, "169.254.21.2/30", "169.254.21.1/30", "address: 169.254.21.1\n",
	    "address: 169.254.21.2\n", NULL, NULL,
	    "p.yaml:12: bgp.neighbors[0].address: AWS-IN-3: AWS takes the "
	    "first host of the /30",
	    1),
	R(AWS, "address: 169.254.21.1\n", "address: 169.254.21.5\n", NULL, NULL,
	    NULL, NULL,
	    "p.yaml:12: bgp.neighbors[0].address: AWS-IN-3: the neighbour "
	    "must be the other host of tunnel t's /30",
	    1),
	R(AWS, "remote_as: 64512", "remote_as: 3000", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: AWS-ASN-1: 3000 is not an "
	    "Amazon-side ASN",
	    1),
	R(AWS, "local_as: 65000", "local_as: 7224", NULL, NULL, NULL, NULL,
	    "p.yaml:2: global.local_as: AWS-ASN-2: 7224 cannot be a customer "
	    "gateway ASN",
	    1),
	R(AWS, "remote_as: 64512", "remote_as: 65000", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: AWS-ASN-3: the "
	    "Amazon-side ASN must differ from the customer gateway's (65000)",
	    0),
	R(AWS, NULL, NULL, NULL, NULL, NULL, "      out_max_prefix: 0",
	    "p.yaml:15: bgp.neighbors[0].out_max_prefix: AWS-BGP-2: 0: aws "
	    "takes at most 100 prefixes (0 = unlimited is not allowed)",
	    1),
	/* GCP (every IKE algorithm of the library is one GCP takes) */
	R(GCP, NULL, NULL, NULL, NULL,
	    "    esp_proposals: aes256-sha384-modp2048", NULL,
	    "p.yaml:6: tunnels[0].esp_proposals[0]: GCP-IKE-1: 'sha384' in "
	    "'aes256-sha384-modp2048' is not accepted by gcp",
	    1),
	R(GCP, NULL, NULL, NULL, NULL, "    esp_proposals: aes256gcm16", NULL,
	    "p.yaml:6: tunnels[0].esp_proposals[0]: GCP-PEER-1: 'aes256gcm16' "
	    "has no DH group: Cloud VPN requires PFS",
	    1),
	R(GCP, NULL, NULL, NULL, NULL, "    mtu: 1500", NULL,
	    "p.yaml:6: tunnels[0].mtu: GCP-MTU-1: 1500 is more than Cloud "
	    "VPN's gateway MTU 1460",
	    1),
	R(GCP, "169.254.21.14/30", "10.0.0.14/30", "169.254.21.13", "10.0.0.13",
	    NULL, NULL,
	    "p.yaml:9: tunnels[0].address: GCP-BGPIP-1: the inside address "
	    "must be in a /30 of 169.254.0.0/16",
	    1),
	R(GCP, "address: 169.254.21.13", "address: 169.254.21.17", NULL, NULL,
	    NULL, NULL,
	    "p.yaml:12: bgp.neighbors[0].address: GCP-BGPIP-1: the neighbour "
	    "must be the other host of tunnel t's /30",
	    1),
	R(GCP, "remote_as: 64514", "remote_as: 15169", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: GCP-ASN-1: 15169: the "
	    "Cloud Router ASN is a private one",
	    1),
	R(GCP, "remote_as: 64514", "remote_as: 65050", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: X-ASN-1: local_as and "
	    "remote_as are both 65050 (eBGP only)",
	    0),
	R(GCP, NULL, NULL, NULL, NULL, NULL, "      keepalive: 10",
	    "p.yaml:15: bgp.neighbors[0].keepalive: GCP-BGP-1: 10 s is "
	    "outside Cloud Router's 20-60 s",
	    1),
	R(GCP, NULL, NULL, NULL, NULL, NULL, "      hold_time: 90",
	    "p.yaml:15: bgp.neighbors[0].hold_time: GCP-BGP-1: 90 s: Cloud "
	    "Router's hold time is 3 x keepalive = 60 s",
	    1),
	/* Alibaba */
	R(ALI, "Example.psk_0001", "Example'psk_0001", NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: ALI-PSK-1: the PSK has a character at "
	    "offset 7 Alibaba refuses",
	    1),
	R(ALI, "Example.psk_0001",
	    "Example.psk_000101234567890123456789012345678901234567890123456789"
	    "01234567890123456789012345678901234",
	    NULL, NULL, NULL, NULL,
	    "p.yaml:8: tunnels[0].psk: ALI-PSK-1: the PSK is 101 characters "
	    "(allowed 1-100)",
	    1),
	R(ALI, NULL, NULL, NULL, NULL,
	    "    ike_proposals: aes256gcm16-prfsha256-modp2048", NULL,
	    "p.yaml:6: tunnels[0].ike_proposals[0]: ALI-IKE-2: 'aes256gcm' in "
	    "'aes256gcm16-prfsha256-modp2048' is not accepted by alibaba",
	    1),
	R(ALI, NULL, NULL, NULL, NULL,
	    "    esp_proposals: aes256-sha256-ecp256", NULL,
	    "p.yaml:6: tunnels[0].esp_proposals[0]: ALI-IKE-3: 'ecp256' in "
	    "'aes256-sha256-ecp256' is not accepted by alibaba",
	    1),
	R(ALI, NULL, NULL, NULL, NULL, "    mtu: 1400", NULL,
	    "p.yaml:6: tunnels[0].mtu: ALI-MTU-1: 1400 is more than alibaba "
	    "carries (at most 1360)",
	    1),
	R(ALI, "169.254.21.14/30", "169.254.6.2/30", "169.254.21.13",
	    "169.254.6.1", NULL, NULL,
	    "p.yaml:9: tunnels[0].address: ALI-BGP-1: 169.254.6.0/30 is "
	    "reserved",
	    1),
	R(ALI, "address: 169.254.21.13", "address: 169.254.21.17", NULL, NULL,
	    NULL, NULL,
	    "p.yaml:12: bgp.neighbors[0].address: ALI-BGP-1: the neighbour "
	    "must be the other host of tunnel t's /30",
	    1),
	R(ALI, "remote_as: 45104", "remote_as: 65050", NULL, NULL, NULL, NULL,
	    "p.yaml:13: bgp.neighbors[0].remote_as: X-ASN-1: local_as and "
	    "remote_as are both 65050 (eBGP only)",
	    0),
	R(ALI, NULL, NULL, NULL, NULL, NULL, "      out_max_prefix: 60",
	    "p.yaml:15: bgp.neighbors[0].out_max_prefix: ALI-BGP-3: 60: "
	    "alibaba takes at most 50 prefixes",
	    1),
	R(ALI, "[10.10.0.0/16]", "[100.64.1.0/24]", NULL, NULL, NULL, NULL,
	    "p.yaml:15: bgp.networks: ALI-BGP-3: [0] is in 100.64.0.0/10, "
	    "which Alibaba does not take",
	    1),
};

/* A copy of s with from replaced by to (once, which must be there). */
static char *
subst(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n;
	char *r;

	assert_non_null(at);
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	r = malloc(n);
	assert_non_null(r);
	snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
	return r;
}

static char *
step(char *s, const char *from, const char *to)
{
	char *r = subst(s, from, to);

	free(s);
	return r;
}

/* The row's file; with ovr, profile_override: [ID] on the broken item. */
static char *
build(const struct row *r, const char *id, int ovr)
{
	char *s = strdup(base[r->prof]), after[64], line[192];

	assert_non_null(s);
	if (r->from != NULL)
		s = step(s, r->from, r->to);
	if (r->from2 != NULL)
		s = step(s, r->from2, r->to2);
	snprintf(after, sizeof(after), TUN, mgw_profile_name(r->prof));
	if (r->ins_t != NULL) {
		snprintf(line, sizeof(line), "%s%s\n", after, r->ins_t);
		s = step(s, after, line);
	}
	if (r->ins_n != NULL) {
		snprintf(line, sizeof(line), "%s%s\n", NB, r->ins_n);
		s = step(s, NB, line);
	}
	if (ovr &&
	    strncmp(strstr(r->expect, ": ") + 2, "tunnels[0]", 10) == 0) {
		/* On the tunnel the message names... */
		snprintf(line, sizeof(line), "%s    profile_override: [%s]\n",
		    after, id);
		s = step(s, after, line);
	} else if (ovr) {
		/* ...else on the neighbour (local_as and networks too). */
		snprintf(line, sizeof(line), "%s      profile_override: [%s]\n",
		    NB, id);
		s = step(s, NB, line);
	}
	return s;
}

static void
rule_id(const struct row *r, char *id, size_t len)
{
	/* The word after the field: "p.yaml:8: tunnels[0].psk: ID: ..." */
	const char *a = strstr(strstr(r->expect, ": ") + 2, ": ") + 2;
	const char *b = strstr(a, ": ");

	snprintf(id, len, "%.*s", (int)(b - a), a);
}

static int
load(struct mgw_config *c, const char *text, char *err, size_t errlen)
{
	return mgw_config_load(c, "p.yaml", text, strlen(text), 0, err, errlen);
}

static void
valid_each_cloud(void **state)
{
	struct mgw_config c;
	char err[512];
	int p;

	(void)state;
	for (p = AZ; p <= ALI; p++) {
		if (load(&c, base[p], err, sizeof(err)) != 0)
			fail_msg("%s: %s", mgw_profile_name(p), err);
		assert_int_equal(c.tun[0].profile, p);
		/* The neighbour rides the tunnel: the same cloud. */
		assert_int_equal(c.nb[0].profile, p);
		mgw_config_free(&c);
	}
}

static void
every_rule_broken_once(void **state)
{
	struct mgw_config c;
	char err[512], id[MGW_RULEID_MAX], tail[128], *text;
	const char *src;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rule_id(&rows[i], id, sizeof(id));
		src = mgw_profile_rule_source(rows[i].prof, id);
		if (src == NULL)
			fail_msg("row %zu: %s is not a rule of %s", i, id,
			    mgw_profile_name(rows[i].prof));
		text = build(&rows[i], id, 0);
		if (load(&c, text, err, sizeof(err)) == 0)
			fail_msg("row %zu (%s) loaded:\n%s", i, id, text);
		/* Nothing kept: the gateway has nothing to start. */
		assert_int_equal(c.n_tun, 0);
		assert_null(c.tun);
		assert_int_equal(c.n_nb, 0);
		n = strlen(rows[i].expect);
		if (strncmp(err, rows[i].expect, n) != 0)
			fail_msg("row %zu:\n got  %s\n want %s...", i, err,
			    rows[i].expect);
		/* It ends with its source. */
		snprintf(tail, sizeof(tail), " (%s)", src);
		if (strlen(err) < strlen(tail) ||
		    strcmp(err + strlen(err) - strlen(tail), tail) != 0)
			fail_msg("row %zu: does not end with%s: %s", i, tail,
			    err);
		/* The key never shows. */
		assert_null(strstr(err, "psk_0001"));
		free(text);

		/* Overridden, the rule lets the file through (unless one of
		 * minigw's own checks refuses it too). */
		text = build(&rows[i], id, 1);
		if (rows[i].ovr_ok && load(&c, text, err, sizeof(err)) != 0)
			fail_msg("row %zu (%s) overridden still fails: %s\n%s",
			    i, id, err, text);
		if (rows[i].ovr_ok)
			mgw_config_free(&c);
		else if (load(&c, text, err, sizeof(err)) == 0 ||
		    strstr(err, id) != NULL)
			fail_msg("row %zu (%s): overridden, minigw's own check "
				 "should answer: %s",
			    i, id, err);
		free(text);
	}
}

/* Each cloud's rules are all tested (rows name every rule). */
static void
rules_all_covered(void **state)
{
	static const char *const ids[] = { "AZ-PSK-1", "AZ-IKE-4", "AZ-IKE-6",
		"AZ-DPD-1", "AZ-MTU-1", "AZ-APIPA-1", "AZ-APIPA-3", "AZ-ASN-1",
		"AZ-ASN-2", "AZ-BGP-1", "AZ-BGP-3", "AWS-PSK-1", "AWS-IKE-2",
		"AWS-IKE-3", "AWS-IKE-4", "AWS-DPD-1", "AWS-INIT-1", "AWS-SA-1",
		"AWS-MTU-1", "AWS-IN-1", "AWS-IN-3", "AWS-ASN-1", "AWS-ASN-2",
		"AWS-ASN-3", "AWS-BGP-2", "GCP-IKE-1", "GCP-PEER-1",
		"GCP-MTU-1", "GCP-BGPIP-1", "GCP-ASN-1", "GCP-BGP-1", "X-ASN-1",
		"ALI-PSK-1", "ALI-IKE-2", "ALI-IKE-3", "ALI-MTU-1", "ALI-BGP-1",
		"ALI-BGP-3", NULL };
	char id[MGW_RULEID_MAX];
	size_t i, k;

	(void)state;
	for (k = 0; ids[k] != NULL; k++) {
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			rule_id(&rows[i], id, sizeof(id));
			if (strcmp(id, ids[k]) == 0)
				break;
		}
		if (i == sizeof(rows) / sizeof(rows[0]))
			fail_msg("%s is never broken", ids[k]);
	}
}

static void
defaults_filled(void **state)
{
	struct mgw_config c;
	char err[512], *text;

	(void)state;
	assert_int_equal(load(&c, base[AZ], err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].child_lifetime, 27000);
	assert_int_equal(c.tun[0].child_lifetime_kb, 102400000);
	assert_int_equal(c.tun[0].dpd_timeout, 45);
	assert_int_equal(c.tun[0].mtu, 1400);
	assert_int_equal(c.tun[0].mss, 1350);
	assert_string_equal(c.tun[0].ike[0], "aes256-sha256-modp2048");
	assert_int_equal(c.nb[0].hold, 180);
	assert_int_equal(c.nb[0].keepalive, 60);
	assert_int_equal(c.nb[0].out_max_prefix, 4000);
	mgw_config_free(&c);

	assert_int_equal(load(&c, base[AWS], err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].ike_lifetime, 28800);
	assert_int_equal(c.tun[0].child_lifetime, 3600);
	assert_int_equal(c.tun[0].dpd_timeout, 30);
	assert_int_equal(c.tun[0].mtu, 1422);
	assert_int_equal(c.tun[0].role, MGW_ROLE_INITIATE);
	assert_int_equal(c.nb[0].hold, 30);
	assert_int_equal(c.nb[0].keepalive, 10);
	assert_int_equal(c.nb[0].out_max_prefix, 100);
	mgw_config_free(&c);

	assert_int_equal(load(&c, base[GCP], err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].ike_lifetime, 36000);
	assert_int_equal(c.tun[0].child_lifetime, 10800);
	assert_int_equal(c.tun[0].mtu, 1390);
	assert_string_equal(c.tun[0].esp[0], "aes256-sha256-modp2048");
	assert_int_equal(c.nb[0].hold, 60);
	assert_int_equal(c.nb[0].keepalive, 20);
	mgw_config_free(&c);

	assert_int_equal(load(&c, base[ALI], err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].ike_lifetime, 86400);
	assert_int_equal(c.tun[0].mtu, 1360);
	assert_int_equal(c.tun[0].mss, 1320);
	assert_int_equal(c.nb[0].out_max_prefix, 50);
	mgw_config_free(&c);

	/* What the file says wins over the profile. */
	text = subst(base[AWS], "    profile: aws\n",
	    "    profile: aws\n    dpd_timeout: 40\n    mtu: 1400\n");
	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].dpd_timeout, 40);
	assert_int_equal(c.tun[0].mtu, 1400);
	mgw_config_free(&c);
	free(text);

	/* Without a profile, minigw's own defaults. */
	text = subst(base[AWS], "    profile: aws\n", "");
	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].profile, MGW_PROFILE_NONE);
	assert_int_equal(c.tun[0].dpd_timeout, 20);
	assert_int_equal(c.nb[0].hold, 90);
	assert_int_equal(c.nb[0].out_max_prefix, 0);
	mgw_config_free(&c);
	free(text);
}

/* A static list past the cloud's cap is refused before anything runs. */
static void
network_caps(void **state)
{
	struct mgw_config c;
	char err[512], *text, *list;
	size_t k = 0;
	int i;

	(void)state;
	list = malloc(101 * 20 + 4);
	assert_non_null(list);
	k += (size_t)sprintf(list, "[");
	for (i = 0; i < 101; i++)
		k += (size_t)sprintf(list + k, "%s10.0.%d.0/24", i ? ", " : "",
		    i);
	sprintf(list + k, "]");
	text = subst(base[AWS], "[10.10.0.0/16]", list);
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "p.yaml:15: bgp.networks: AWS-BGP-2: 101 prefixes, aws takes at "
	    "most 100 (AWS Site-to-Site VPN User Guide, quotas)"));
	free(text);
	/* 100 is the cap itself: allowed. */
	strcpy(strstr(list, ", 10.0.100.0/24"), "]");
	text = subst(base[AWS], "[10.10.0.0/16]", list);
	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	mgw_config_free(&c);
	free(text);
	/* Alibaba: 50. */
	strcpy(strstr(list, ", 10.0.51.0/24"), "]");
	text = subst(base[ALI], "[10.10.0.0/16]", list);
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bgp.networks: ALI-BGP-3: 51 prefixes"));
	free(text);
	free(list);
}

static void
override_printed(void **state)
{
	struct mgw_config c, c2;
	char err[512], *text, *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;

	(void)state;
	text = subst(base[AWS], "    profile: aws\n",
	    "    profile: aws\n    profile_override: [AWS-DPD-1]\n"
	    "    dpd_timeout: 20\n");
	if (load(&c, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.tun[0].dpd_timeout, 20);
	f = open_memstream(&out, &len);
	assert_int_equal(mgw_config_print(&c, f), 0);
	fclose(f);
	assert_non_null(strstr(out,
	    "    profile: aws\n"
	    "    profile_override: [AWS-DPD-1]\n"
	    "    # AWS-DPD-1 overridden: not checked"));
	assert_non_null(strstr(out, "    dpd_timeout: 20\n"));
	/* What is printed loads again, to the same (given the key). */
	free(text);
	text = subst(out, "    # psk: (inline, not printed)\n",
	    "    psk: Example.psk_0001\n");
	if (load(&c2, text, err, sizeof(err)) != 0)
		fail_msg("%s\n%s", err, text);
	assert_true(mgw_tunnel_equal(&c.tun[0], &c2.tun[0]));
	assert_true(mgw_neighbor_equal(&c, &c.nb[0], &c2, &c2.nb[0]));
	f = open_memstream(&out2, &len2);
	assert_int_equal(mgw_config_print(&c2, f), 0);
	fclose(f);
	assert_string_equal(out, out2);
	mgw_config_free(&c);
	mgw_config_free(&c2);
	free(out);
	free(out2);
	free(text);

	/* An id that is not this profile's rule, and no profile at all. */
	text = subst(base[AWS], "    profile: aws\n",
	    "    profile: aws\n    profile_override: [AZ-PSK-1]\n");
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "p.yaml:6: tunnels[0].profile_override: 'AZ-PSK-1' is not a rule "
	    "of profile aws (see minigw.conf(5), PROFILES)");
	free(text);
	text = subst(base[AWS], "    profile: aws\n",
	    "    profile_override: [AWS-PSK-1]\n");
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "p.yaml:5: tunnels[0].profile_override: needs a profile");
	free(text);
	text = subst(base[AWS], "    profile: aws\n", "    profile: oracle\n");
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "p.yaml:5: tunnels[0].profile: 'oracle' is not allowed (allowed: "
	    "azure, aws, gcp, alibaba)");
	free(text);
}

/*
 * interop.test_minigw_azure_bgp's file (the NEC router scenario) with
 * the Azure profile: BGP from a loopback to Azure's GatewaySubnet
 * address, so the unrouted 169.254.0.1/30 tunnel address is never told
 * to Azure and AZ-APIPA-1 does not apply; nothing else is broken.
 */
static void
azure_bgp_scenario(void **state)
{
	static const char text[] = "global:\n"
				   "  router_id: 10.2.2.2\n"
				   "  local_as: 65050\n"
				   "interfaces:\n"
				   "  - name: lo0\n"
				   "    addresses: [10.2.2.2/32]\n"
				   "tunnels:\n"
				   "  - name: azure\n"
				   "    profile: azure\n"
				   "    local: 203.0.113.1\n"
				   "    remote: 203.0.113.2\n"
				   "    psk: interop.test.psk.0123456789\n"
				   "    ike_proposals: [aes256-sha1-modp1024]\n"
				   "    esp_proposals: [aes256-sha256]\n"
				   "    ike_lifetime: 3600\n"
				   "    child_lifetime: 3600\n"
				   "    address: 169.254.0.1/30\n"
				   "routes:\n"
				   "  - prefix: 172.16.0.6/32\n"
				   "    tunnel: azure\n"
				   "bgp:\n"
				   "  neighbors:\n"
				   "    - address: 172.16.0.6\n"
				   "      remote_as: 65010\n"
				   "      update_source: lo0\n"
				   "      multihop: 255\n"
				   "      tunnel: azure\n"
				   "  networks: [192.168.2.0/24]\n";
	struct mgw_config c;
	char err[512], *t;

	(void)state;
	if (load(&c, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.nb[0].hold, 180);
	assert_int_equal(c.nb[0].keepalive, 60);
	assert_int_equal(c.tun[0].ike_lifetime, 3600);
	mgw_config_free(&c);
	/* Sourced from the tunnel address instead, it is told to Azure. */
	t = subst(text, "      update_source: lo0\n", "");
	assert_int_equal(load(&c, t, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "p.yaml:17: tunnels[0].address: "
	    "AZ-APIPA-1: our BGP APIPA address"));
	free(t);
}

/* A neighbour with its own profile and no tunnel: its rules alone. */
static void
neighbor_profile(void **state)
{
	struct mgw_config c;
	char err[512], *text;

	(void)state;
	text = subst(base[AZ], "      tunnel: t\n", "      profile: aws\n");
	text = step(text, "    profile: azure\n", "");
	assert_int_equal(load(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.tun[0].profile, MGW_PROFILE_NONE);
	assert_int_equal(c.tun[0].mtu, 1400);
	assert_int_equal(c.nb[0].profile, MGW_PROFILE_AWS);
	assert_int_equal(c.nb[0].hold, 30);
	mgw_config_free(&c);
	text = step(text, "remote_as: 65515", "remote_as: 3000");
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err,
	    "p.yaml:12: bgp.neighbors[0].remote_as: AWS-ASN-1: 3000 is not"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_each_cloud),
		cmocka_unit_test(every_rule_broken_once),
		cmocka_unit_test(rules_all_covered),
		cmocka_unit_test(defaults_filled),
		cmocka_unit_test(network_caps),
		cmocka_unit_test(override_printed),
		cmocka_unit_test(neighbor_profile),
		cmocka_unit_test(azure_bgp_scenario),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
