/*
 * `minigw import aws-generic` and `azure-sample` (examples/minigw/
 * import_aws.c, import_azure.c) on arbitrary text, each importer on every
 * input.  Invariants: a refusal names the file and a line ("fuzz.txt:N:
 * ...") and says of a pre-shared key only its length; an accepted file
 * gives YAML that minigw's own parser either loads, with every tunnel
 * (and every neighbour) under that cloud's profile, or refuses naming a
 * line of it (the cloud's rules may refuse what the file says).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "import.h"

/* Checked in every build type (NDEBUG does not remove it). */
#define assert(e) ((e) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(int (*fn)(const char *, const char *, size_t,
	const struct mgw_import_opts *, FILE *, char *, size_t),
    int profile, const uint8_t *data, size_t size)
{
	struct mgw_import_opts o = { "192.0.2.10", 65000 };
	struct mgw_config c;
	char err[1024], *out = NULL, *k;
	size_t olen = 0;
	FILE *f;
	int i, rc;

	f = open_memstream(&out, &olen);
	assert(f != NULL);
	rc = fn("fuzz.txt", (const char *)data, size, &o, f, err, sizeof(err));
	fclose(f);
	if (rc < 0) {
		assert(strncmp(err, "fuzz.txt:", 9) == 0);
		assert(err[9] >= '1' && err[9] <= '9');
		/* About the key: only its length. */
		k = strchr(err + 9, ':');
		assert(k != NULL);
		if (strncasecmp(k, ": Pre-Shared Key: ", 18) == 0)
			assert(k[18] >= '0' && k[18] <= '9' &&
			    strstr(k, " characters (allowed ") != NULL);
		free(out);
		return;
	}
	if (mgw_config_load(&c, "out.yaml", out, olen, 0, err, sizeof(err)) ==
	    0) {
		assert(c.n_tun >= 1);
		for (i = 0; i < c.n_tun; i++)
			assert(c.tun[i].profile == profile);
		for (i = 0; i < c.n_nb; i++)
			assert(c.nb[i].profile == profile);
		mgw_config_free(&c);
	} else
		assert(strncmp(err, "out.yaml:", 9) == 0);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(mgw_import_aws_generic, MGW_PROFILE_AWS, data, size);
	one(mgw_import_azure_sample, MGW_PROFILE_AZURE, data, size);
	return 0;
}
