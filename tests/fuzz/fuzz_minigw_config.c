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

/* Rule id checked (not in the override list). */
static int
on(const char (*ovr)[MGW_RULEID_MAX], int n, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(ovr[i], id) == 0)
			return 0;
	return 1;
}

static void
check_profiles(const struct mgw_config *c)
{
	const struct mgw_cfg_tunnel *t;
	const struct mgw_cfg_neighbor *n;
	int i, k;

	for (i = 0; i < c->n_tun; i++) {
		t = &c->tun[i];
		assert(t->profile >= MGW_PROFILE_NONE &&
		    t->profile <= MGW_PROFILE_ALIBABA);
		assert(t->n_ovr >= 0 && t->n_ovr <= MGW_OVR_MAX);
		for (k = 0; k < t->n_ovr; k++)
			assert(mgw_profile_rule_source(t->profile, t->ovr[k]) !=
			    NULL);
#define ON(id) on((const char(*)[MGW_RULEID_MAX])t->ovr, t->n_ovr, id)
		if (t->profile == MGW_PROFILE_AWS && ON("AWS-PSK-1"))
			assert(t->psk_len <= 64 && t->psk[0] != '0');
		if (t->profile == MGW_PROFILE_AWS && ON("AWS-MTU-1"))
			assert(t->mtu <= 1446 && t->mss <= 1406);
		if (t->profile == MGW_PROFILE_AZURE && ON("AZ-MTU-1"))
			assert(t->mtu <= 1400 && t->mss <= 1350);
		if (t->profile == MGW_PROFILE_AZURE && ON("AZ-PSK-1"))
			assert(memchr(t->psk, '-', t->psk_len) == NULL);
		if (t->profile == MGW_PROFILE_GCP && ON("GCP-MTU-1"))
			assert(t->mtu <= 1460);
		if (t->profile == MGW_PROFILE_ALIBABA && ON("ALI-MTU-1"))
			assert(t->mtu <= 1360);
#undef ON
	}
	for (i = 0; i < c->n_nb; i++) {
		n = &c->nb[i];
		assert(n->n_ovr >= 0 && n->n_ovr <= MGW_OVR_MAX);
		for (k = 0; k < n->n_ovr; k++)
			assert(mgw_profile_rule_source(n->profile, n->ovr[k]) !=
			    NULL);
#define ON(id) on((const char(*)[MGW_RULEID_MAX])n->ovr, n->n_ovr, id)
		if (n->profile == MGW_PROFILE_AZURE && ON("AZ-BGP-1"))
			assert(n->hold == 180);
		if (n->profile == MGW_PROFILE_AZURE && ON("AZ-BGP-3"))
			assert(n->out_max_prefix >= 1 &&
			    n->out_max_prefix <= 4000 && c->n_networks <= 4000);
		if (n->profile == MGW_PROFILE_AWS && ON("AWS-BGP-2"))
			assert(n->out_max_prefix >= 1 &&
			    n->out_max_prefix <= 100 && c->n_networks <= 100);
		if (n->profile == MGW_PROFILE_GCP && ON("GCP-BGP-1"))
			assert(n->keepalive >= 20 && n->keepalive <= 60 &&
			    n->hold == 3 * n->keepalive);
		if (n->profile == MGW_PROFILE_ALIBABA && ON("ALI-BGP-3"))
			assert(n->out_max_prefix >= 1 &&
			    n->out_max_prefix <= 50 && c->n_networks <= 50);
#undef ON
	}
}

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
	check_profiles(&a);
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
