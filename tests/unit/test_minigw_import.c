/*
 * `minigw import aws-generic` (examples/minigw/import_aws.c) on the
 * sample files in tests/fuzz/corpus/fuzz_minigw_import/, written from
 * the documented layouts (documentation addresses, made-up keys): the
 * 2020 layout (IKEv1, BGP, placeholders for our address and ASN) and a
 * newer one (IKEv2, GCM, no BGP part, "- " bullets without indent).
 * Each imports into a configuration that minigw loads (the AWS profile
 * checks it); malformed files get a line-numbered error.
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
	rc = mgw_import_aws_generic(name, in, len, o, f, err, errlen);
	fclose(f);
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
	assert_string_equal(c.tun[1].local, "192.0.2.10");
	assert_string_equal(c.tun[0].ike[0], "aes256gcm16-prfsha256-modp2048");
	assert_string_equal(c.tun[0].esp[0], "aes256gcm16-modp2048");
	assert_int_equal(c.tun[1].address.addr.bytes[2], 10);
	/* Not in the file: the AWS profile's defaults. */
	assert_int_equal(c.tun[1].dpd_timeout, 30);
	assert_int_equal(c.tun[1].mtu, 1422);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aws_2020_bgp),
		cmocka_unit_test(aws_ikev2_static),
		cmocka_unit_test(refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
