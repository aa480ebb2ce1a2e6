/*
 * `minigw import aws-generic` (examples/minigw/import_aws.c) on the
 * sample files in tests/fuzz/corpus/fuzz_minigw_import/, written from
 * the documented layouts (documentation addresses, made-up keys): the
 * 2020 layout (IKEv1, kept as ike_version 1; BGP, placeholders for our
 * address and ASN), a newer one (IKEv2, GCM, no BGP part, "- " bullets
 * without indent) and the interop round trip's IKEv2 sample (BGP,
 * nothing to fill in).  Each imports into a configuration that minigw
 * loads (the AWS profile checks it); malformed files get a
 * line-numbered error.
 * `minigw import azure-sample` (import_azure.c) on azure_* samples of the
 * device sample's parameter block: one instance without BGP (Cisco "!"
 * comments, placeholders), active-active with BGP from a loopback ("#"
 * comments, Azure's policy names), an older layout with IKEv1 and
 * policy-based selectors, one instance with BGP on the tunnel's /30; and
 * refusals (bad_azure_public_ip.txt and short texts).
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
#include "import.h"

static char *
slurp(const char *name, size_t *len)
{
	char path[1024], *buf;
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;

	snprintf(path, sizeof(path),
	    "%.*s/../fuzz/corpus/fuzz_minigw_import/%s",
	    (int)(slash - __FILE__), __FILE__, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot read %s", path);
	buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* Where import() copies the YAML it made (NULL: nowhere). */
static char *last_out;

/* Import name, then load what came out; the configuration in c. */
static int
import(const char *name, const struct mgw_import_opts *o, struct mgw_config *c,
    char *err, size_t errlen)
{
	char *in, *out = NULL;
	size_t len, olen = 0;
	FILE *f;
	int rc;

	in = slurp(name, &len);
	f = open_memstream(&out, &olen);
	assert_non_null(f);
	/* azure_* and bad_azure_* are Azure device samples. */
	rc = (strstr(name, "azure") != NULL ?
		mgw_import_azure_sample :
		mgw_import_aws_generic)(name, in, len, o, f, err, errlen);
	fclose(f);
	if (last_out != NULL)
		snprintf(last_out, 4096, "%s", out != NULL ? out : "");
	if (rc == 0 &&
	    mgw_config_load(c, "imported.yaml", out, olen, 0, err, errlen) != 0)
		fail_msg("the import of %s does not load: %s\n%s", name, err,
		    out);
	free(in);
	free(out);
	return rc;
}

static void
aws_2020_bgp(void **state)
{
	struct mgw_import_opts o = { "192.0.2.10", 65000 };
	struct mgw_config c;
	char err[512];

	(void)state;
	if (import("aws_generic_2020.txt", &o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 2);
	assert_int_equal(c.tun[0].profile, MGW_PROFILE_AWS);
	/* "IKE version : IKEv1" in the file, for both tunnels. */
	assert_int_equal(c.tun[0].ike_version, 1);
	assert_int_equal(c.tun[1].ike_version, 1);
	assert_string_equal(c.tun[0].remote, "198.51.100.1");
	assert_string_equal(c.tun[1].remote, "198.51.100.2");
	assert_string_equal(c.tun[0].local, "192.0.2.10");
	assert_int_equal(c.tun[0].psk_len, strlen("Example_psk.tunnel1"));
	assert_memory_equal(c.tun[1].psk, "Example_psk.tunnel2", 19);
	assert_string_equal(c.tun[0].ike[0], "aes128-sha1-modp1024");
	assert_string_equal(c.tun[0].esp[0], "aes128-sha1-modp1024");
	assert_int_equal(c.tun[0].ike_lifetime, 28800);
	assert_int_equal(c.tun[0].child_lifetime, 3600);
	assert_int_equal(c.tun[0].dpd_interval, 10);
	assert_int_equal(c.tun[0].dpd_timeout, 30);
	assert_int_equal(c.tun[0].mtu, 1436);
	assert_int_equal(c.tun[0].mss, 1387);
	assert_int_equal(c.tun[1].address.len, 30);
	assert_int_equal(c.tun[1].address.addr.bytes[3], 6);
	assert_int_equal(c.g.local_as, 65000);
	assert_int_equal(c.n_nb, 2);
	assert_int_equal(c.nb[1].remote_as, 7224);
	assert_int_equal(c.nb[1].addr.bytes[3], 5);
	assert_string_equal(c.nb[1].tunnel, "aws2");
	assert_int_equal(c.nb[0].hold, 30);
	assert_int_equal(c.nb[0].profile, MGW_PROFILE_AWS);
	mgw_config_free(&c);
}

static void
aws_ikev2_static(void **state)
{
	struct mgw_import_opts o = { NULL, 0 };
	struct mgw_config c;
	char err[512];

	(void)state;
	if (import("aws_generic_ikev2_static.txt", &o, &c, err, sizeof(err)) !=
	    0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 2);
	assert_int_equal(c.n_nb, 0);
	assert_int_equal(c.tun[0].ike_version, 2);
	assert_int_equal(c.tun[1].ike_version, 2);
	assert_string_equal(c.tun[1].local, "192.0.2.10");
	assert_string_equal(c.tun[0].ike[0], "aes256gcm16-prfsha256-modp2048");
	assert_string_equal(c.tun[0].esp[0], "aes256gcm16-modp2048");
	assert_int_equal(c.tun[1].address.addr.bytes[2], 10);
	/* Not in the file: the AWS profile's defaults. */
	assert_int_equal(c.tun[1].dpd_timeout, 30);
	assert_int_equal(c.tun[1].mtu, 1422);
	mgw_config_free(&c);
}

/* The round trip's IKEv2 sample (tests/interop/test_minigw_import_aws.sh)
 * with fixed keys: nothing to fill in, a 4-byte Amazon ASN (AWS-ASN-1),
 * shorter lifetimes, GCM ESP with PFS. */
static void
aws_ikev2_bgp(void **state)
{
	struct mgw_import_opts o = { NULL, 0 };
	struct mgw_config c;
	char err[512];
	int i;

	(void)state;
	if (import("aws_generic_ikev2_bgp.txt", &o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 2);
	assert_string_equal(c.tun[0].remote, "198.51.100.2");
	assert_string_equal(c.tun[1].remote, "192.0.2.2");
	assert_memory_equal(c.tun[1].psk, "Example.psk_bgp_2", 17);
	assert_int_equal(c.g.local_as, 65030);
	assert_int_equal(c.n_nb, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(c.tun[i].ike_version, 2);
		assert_string_equal(c.tun[i].local, "203.0.113.1");
		assert_string_equal(c.tun[i].ike[0], "aes256-sha256-modp2048");
		assert_string_equal(c.tun[i].esp[0], "aes256gcm16-modp2048");
		assert_int_equal(c.tun[i].ike_lifetime, 14400);
		assert_int_equal(c.tun[i].child_lifetime, 1800);
		assert_int_equal(c.tun[i].address.addr.bytes[2], 21 + i);
		assert_int_equal(c.tun[i].address.addr.bytes[3], 14);
		assert_int_equal(c.nb[i].remote_as, 4200000100u);
		assert_int_equal(c.nb[i].addr.bytes[3], 13);
		assert_int_equal(c.nb[i].hold, 30);
	}
	mgw_config_free(&c);
}

static void
refusals(void **state)
{
	struct mgw_import_opts none = { NULL, 0 }, asn = { NULL, 65000 };
	struct mgw_config c;
	char err[512], *out = NULL;
	size_t olen = 0;
	FILE *f;

	(void)state;
	assert_int_equal(import("bad_algorithm.txt", &none, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "bad_algorithm.txt:25: Encryption Algorithm: 'aes-512-xyz' is "
	    "not one minigw maps (e.g. aes-128-cbc, aes-256-gcm-16)");
	/* Placeholders need the command line's values. */
	assert_int_equal(import("aws_generic_2020.txt", &none, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "aws_generic_2020.txt:15: the Customer Gateway ASN is a "
	    "placeholder: give --local-as N");
	assert_int_equal(import("aws_generic_2020.txt", &asn, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "aws_generic_2020.txt:15: IPsec Tunnel #1: the Customer Gateway "
	    "outside address is a placeholder: give --local ADDRESS");
	assert_int_equal(import("bad_no_psk.txt", &none, &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "bad_no_psk.txt:1: IPsec Tunnel #1: no Pre-Shared Key");
	assert_int_equal(import("bad_twice.txt", &none, &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "bad_twice.txt:4: IPsec Tunnel #1 given twice (first on line 1)");
	/* Not an AWS file at all; the PSK never in a message. */
	f = open_memstream(&out, &olen);
	assert_int_equal(mgw_import_aws_generic("x.txt", "hello\n", 6, &none, f,
			     err, sizeof(err)),
	    -1);
	fclose(f);
	free(out);
	assert_string_equal(err,
	    "x.txt:1: no 'IPsec Tunnel #N' section: not an AWS Generic "
	    "configuration");
	assert_int_equal(import("bad_psk_short.txt", &none, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "bad_psk_short.txt:2: Pre-Shared Key: 5 characters (allowed "
	    "8-256)");
}

static void
azure_static(void **state)
{
	struct mgw_import_opts o = { NULL, 0 };
	struct mgw_config c;
	char err[512];

	(void)state;
	if (import("azure_sample_static.txt", &o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 1);
	assert_int_equal(c.tun[0].profile, MGW_PROFILE_AZURE);
	assert_string_equal(c.tun[0].local, "203.0.113.1");
	assert_string_equal(c.tun[0].remote, "198.51.100.7");
	assert_memory_equal(c.tun[0].psk, "ExampleKey0123456789", 20);
	assert_string_equal(c.tun[0].ike[0], "aes256-sha1-modp1024");
	assert_string_equal(c.tun[0].esp[0], "aes256gcm16");
	assert_int_equal(c.tun[0].ike_lifetime, 3600);
	assert_int_equal(c.tun[0].child_lifetime_kb, 102400000);
	assert_int_equal(c.tun[0].n_local_ts, 0);
	assert_int_equal(c.n_nb, 0);
	/* Both VNet prefixes into the tunnel; the block ended at "====". */
	assert_int_equal(c.n_routes, 2);
	assert_string_equal(c.routes[1].tunnel, "azure1");
	assert_int_equal(c.routes[1].prefix.len, 24);
	mgw_config_free(&c);
}

static void
azure_aa_bgp(void **state)
{
	struct mgw_import_opts o = { NULL, 0 };
	struct mgw_config c;
	char err[512];
	int i;

	(void)state;
	if (import("azure_sample_aa_bgp.txt", &o, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 2);
	assert_string_equal(c.tun[0].remote, "198.51.100.7");
	assert_string_equal(c.tun[1].remote, "192.0.2.7");
	assert_string_equal(c.tun[1].ike[0], "aes256gcm16-prfsha384-ecp384");
	assert_string_equal(c.tun[1].esp[0], "aes256gcm16-modp2048");
	assert_int_equal(c.tun[1].child_lifetime, 27000);
	assert_int_equal(c.g.local_as, 65050);
	assert_int_equal(c.n_nb, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(c.tun[i].profile, MGW_PROFILE_AZURE);
		assert_int_equal(c.nb[i].remote_as, 65010);
		assert_int_equal(c.nb[i].addr.bytes[2], 21 + i);
		assert_string_equal(c.nb[i].update_source, "lo0");
		/* Azure's BGP IP /32 into its own tunnel. */
		assert_int_equal(c.routes[i].prefix.len, 32);
		assert_string_equal(c.routes[i].tunnel,
		    i ? "azure2" : "azure1");
	}
	assert_int_equal(c.nb[0].hold, 180); /* the Azure profile's */
	mgw_config_free(&c);
}

static void
azure_ikev1_older(void **state)
{
	struct mgw_import_opts none = { NULL, 0 }, asn = { NULL, 65050 };
	struct mgw_config c;
	char err[512], out[4096];

	(void)state;
	assert_int_equal(import("azure_sample_ikev1_older.txt", &none, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "azure_sample_ikev1_older.txt:37: the On premises BGP ASN is a "
	    "placeholder: give --local-as N");
	last_out = out;
	if (import("azure_sample_ikev1_older.txt", &asn, &c, err,
		sizeof(err)) != 0)
		fail_msg("%s", err);
	last_out = NULL;
	/* IKEv1 as such; its one selector pair per tunnel cannot carry
	 * UsePolicyBasedTS's 2 x 1 pairs: 0.0.0.0/0, and a warning. */
	assert_int_equal(c.tun[0].ike_version, 1);
	assert_non_null(strstr(out,
	    "# WARNING: UsePolicyBasedTS with IKEv1 "
	    "(line 20): 2 x 1 prefix pairs"));
	assert_int_equal(c.tun[0].n_local_ts, 0);
	assert_string_equal(c.tun[0].remote, "198.51.100.9");
	assert_string_equal(c.tun[0].ike[0], "aes128-sha256-modp2048");
	assert_string_equal(c.tun[0].esp[0], "aes256-sha256");
	assert_int_equal(c.nb[0].multihop, 255);
	assert_int_equal(c.nb[0].addr.bytes[3], 254);
	mgw_config_free(&c);
}

static void
azure_apipa_direct(void **state)
{
	struct mgw_import_opts o = { NULL, 0 };
	struct mgw_config c;
	char err[512];

	(void)state;
	if (import("azure_sample_apipa_direct.txt", &o, &c, err, sizeof(err)) !=
	    0)
		fail_msg("%s", err);
	assert_int_equal(c.n_tun, 1);
	assert_int_equal(c.tun[0].address.len, 30);
	assert_int_equal(c.tun[0].address.addr.bytes[3], 2);
	assert_int_equal(c.n_nb, 1);
	assert_string_equal(c.nb[0].tunnel, "azure1");
	assert_int_equal(c.n_routes, 0);
	mgw_config_free(&c);
}

static void
azure_refusals(void **state)
{
	struct mgw_import_opts none = { NULL, 0 };
	struct mgw_config c;
	char err[512], *out = NULL;
	size_t olen = 0;
	FILE *f;
	static const struct {
		const char *text, *err;
	} bad[] = {
		{ "! [1] Network parameters\n!   > Azure gateway IP: "
		  "198.51.100.7"
		  "\n! [2] IPsec/IKE parameters\n!     + Pre-shared key: abc\n",
		    "x.txt:4: Pre-shared key: 3 characters (allowed 8-256)" },
		{ "! [2] IPsec/IKE parameters\n!   > IKE version: IKEv3\n",
		    "x.txt:2: IKE version: 'IKEv3' (allowed: IKEv1, IKEv2)" },
		{ "[2] x\n  > IKE version: IKEv2\n    + Encryption algorithm: "
		  "3des\n",
		    "x.txt:3: Encryption algorithm: '3des' is not a cipher "
		    "minigw "
		    "has (AES-CBC or AES-GCM, 128 or 256 bits)" },
		{ "[1] x\n  > Public IP addresses:\n    + Public IP 1: "
		  "192.0.2.1\n    + Public IP 1: 192.0.2.2\n",
		    "x.txt:4: Public IP 1: gateway address 1 given twice "
		    "(first "
		    "on line 3)" },
		{ "[1] x\n  > Public IP addresses:\n    + Public IP 3: "
		  "192.0.2.1\n",
		    "x.txt:3: Public IP 3: an Azure gateway has at most 2 "
		    "instances" },
		{ "[1] x\n  > Azure gateway IP: 192.0.2.1\n  > On-premises VPN "
		  "IP: YOUR_IP\n[2] y\n  > IKE version: IKEv2\n    + "
		  "Encryption algorithm: aes-cbc-128\n    + Integrity "
		  "algorithm: sha256\n    + Pre-shared key: abcdefgh\n  > "
		  "IPsec\n    + Encryption algorithm: esp-gcm 128\n",
		    "x.txt:1: the On-premises VPN IP is missing or a "
		    "placeholder: give --local ADDRESS" },
		{ "hello\n",
		    "x.txt:1: no gateway address (\"Public IP 1\" or "
		    "\"Public IP address\" in [1] Network "
		    "parameters): not an Azure device sample" },
	};
	size_t i;

	(void)state;
	assert_int_equal(import("bad_azure_public_ip.txt", &none, &c, err,
			     sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "bad_azure_public_ip.txt:17: Public IP 1: '198.51.100.x' is not "
	    "an IPv4 address");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = open_memstream(&out, &olen);
		assert_non_null(f);
		assert_int_equal(mgw_import_azure_sample("x.txt", bad[i].text,
				     strlen(bad[i].text), &none, f, err,
				     sizeof(err)),
		    -1);
		fclose(f);
		assert_string_equal(err, bad[i].err);
		free(out);
		out = NULL;
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aws_2020_bgp),
		cmocka_unit_test(aws_ikev2_static),
		cmocka_unit_test(aws_ikev2_bgp),
		cmocka_unit_test(refusals),
		cmocka_unit_test(azure_static),
		cmocka_unit_test(azure_aa_bgp),
		cmocka_unit_test(azure_ikev1_older),
		cmocka_unit_test(azure_apipa_direct),
		cmocka_unit_test(azure_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
