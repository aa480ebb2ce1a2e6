/*
 * minigw's configuration parser (examples/minigw/config.c) on arbitrary
 * text.  Invariants: a refusal always names the file and a line
 * ("fuzz.yaml:N: ..."); an accepted configuration holds only values in
 * range, and its --print form parses again into the same text (inline
 * keys are not printed, so a file with a tunnel may then lack its psk,
 * and must say so).  No host name lookups, no file reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* Checked in every build type (NDEBUG does not remove it). */
#define assert(e) ((e) ? (void)0 : abort())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
print_cfg(const struct mgw_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert(f != NULL);
	assert(mgw_config_print(c, f) == 0);
	fclose(f);
	return buf;
}

static void
check_ranges(const struct mgw_config *c)
{
	int i;

	assert(c->g.local_as == 0 || mgw_asn_ok(c->g.local_as));
	for (i = 0; i < c->n_tun; i++) {
		assert(c->tun[i].psk_len >= MGW_PSK_MIN &&
		    c->tun[i].psk_len <= MGW_PSK_MAX);
		assert(c->tun[i].mtu >= 576 && c->tun[i].mtu <= 9000);
		assert(c->tun[i].mss == 0 ||
		    (c->tun[i].mss >= 536 &&
			c->tun[i].mss <= c->tun[i].mtu - 40));
		assert(c->tun[i].replay_window <= 65536);
		assert(c->tun[i].rekey_margin < c->tun[i].child_lifetime);
		assert(c->tun[i].address.len <=
		    (c->tun[i].address.addr.family == VPNR_AF_INET ? 32 : 128));
	}
	for (i = 0; i < c->n_nb; i++) {
		assert(mgw_asn_ok(c->nb[i].remote_as));
		assert(c->nb[i].remote_as != c->g.local_as);
		assert(c->nb[i].prepend <= 16);
		assert(c->nb[i].hold == 0 || c->nb[i].hold >= 3);
		assert(strlen(c->nb[i].md5) <= MGW_MD5_MAX);
	}
	for (i = 0; i < c->n_routes; i++)
		assert(mgw_config_tunnel(c, c->routes[i].tunnel) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mgw_config a, b;
	char err[1024], *pa, *pb;
	int rc;

	if (mgw_config_load(&a, "fuzz.yaml", (const char *)data, size, 0, err,
		sizeof(err)) < 0) {
		assert(strncmp(err, "fuzz.yaml:", 10) == 0);
		assert(err[10] >= '0' && err[10] <= '9');
		return 0;
	}
	check_ranges(&a);
	pa = print_cfg(&a);
	rc = mgw_config_load(&b, "fuzz.yaml", pa, strlen(pa), 0, err,
	    sizeof(err));
	if (rc == 0) {
		pb = print_cfg(&b);
		assert(strcmp(pa, pb) == 0);
		free(pb);
		mgw_config_free(&b);
	} else
		assert(a.n_tun > 0 &&
		    strstr(err, "'psk' or 'psk_file' is required") != NULL);
	free(pa);
	mgw_config_free(&a);
	return 0;
}
