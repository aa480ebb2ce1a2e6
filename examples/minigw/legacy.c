/*
 * The single-tunnel command line of minigw 0.1 (--local, --remote,
 * --tun-addr, --bgp-peer ...), kept for scripts and benchmarks: the
 * flags become a configuration with one tunnel "t0", checked by the
 * same rules as a file (values out of range are refused, never
 * wrapped).  --manual-sa keys one SA pair without IKE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legacy.h"

static int
bad(char *err, size_t len, const char *opt, const char *val, const char *what)
{
	snprintf(err, len, "--%s: '%s' %s", opt, val, what);
	return -1;
}

static int
num(const char *opt, const char *v, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t len)
{
	char what[96];

	if (mgw_parse_u64(v, out) < 0 || *out < min || *out > max) {
		snprintf(what, sizeof(what), "is not a number in %llu-%llu",
		    (unsigned long long)min, (unsigned long long)max);
		return bad(err, len, opt, v, what);
	}
	return 0;
}

void
mgw_legacy_init(struct mgw_legacy *l)
{
	memset(l, 0, sizeof(*l));
	mgw_config_init(&l->c);
	snprintf(l->c.path, sizeof(l->c.path), "command line");
	mgw_tunnel_defaults(&l->t, 0);
	snprintf(l->t.name, sizeof(l->t.name), "t0");
	snprintf(l->t.ifname, sizeof(l->t.ifname), "vpnr0");
	/* 0.1 defaults: no DPD timeout changes, child rekey 1 h. */
	l->t.ike_lifetime = 14400 + 300;
	l->t.child_lifetime = 3600 + 300;
	l->c.g.control[0] = '\0';
	mgw_neighbor_defaults(&l->nb);
}

/* One option of the old command line; 0, or -1 with err set. */
int
mgw_legacy_opt(struct mgw_legacy *l, const char *opt, const char *v, char *err,
    size_t len)
{
	struct mgw_cfg_tunnel *t = &l->t;
	uint64_t n;
	char *colon, buf[300];
	FILE *f;
	size_t k;

	l->used = 1;
	if (strcmp(opt, "local") == 0 || strcmp(opt, "remote") == 0) {
		vpnr_addr *a = opt[0] == 'l' ? &t->local_addr : &t->remote_addr;

		if (vpnr_addr_parse(a, v) != VPNR_OK || a->port != 0)
			return bad(err, len, opt, v, "is not an address");
		snprintf(opt[0] == 'l' ? t->local : t->remote, sizeof(t->local),
		    "%s", v);
	} else if (strcmp(opt, "psk") == 0) {
		if (strlen(v) < MGW_PSK_MIN || strlen(v) > MGW_PSK_MAX) {
			snprintf(err, len,
			    "--psk: the key is %zu bytes "
			    "(allowed %d-%d)",
			    strlen(v), MGW_PSK_MIN, MGW_PSK_MAX);
			return -1;
		}
		t->psk_len = strlen(v);
		memcpy(t->psk, v, t->psk_len);
	} else if (strcmp(opt, "psk-file") == 0) {
		if ((f = fopen(v, "r")) == NULL) {
			snprintf(err, len, "--psk-file: %s: %s", v,
			    strerror(errno));
			return -1;
		}
		k = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
			k--;
		if (k < MGW_PSK_MIN || k > MGW_PSK_MAX ||
		    memchr(buf, '\n', k) != NULL) {
			explicit_bzero(buf, sizeof(buf));
			snprintf(err, len,
			    "--psk-file: %s: the key must be one line of "
			    "%d-%d bytes",
			    v, MGW_PSK_MIN, MGW_PSK_MAX);
			return -1;
		}
		memcpy(t->psk, buf, k);
		t->psk_len = k;
		explicit_bzero(buf, sizeof(buf));
	} else if (strcmp(opt, "ike") == 0 || strcmp(opt, "esp") == 0) {
		vpnr_tunnel_config *tc;
		int rc, esp = opt[0] == 'e';

		if ((esp ? t->n_esp : t->n_ike) == MGW_LIST_MAX ||
		    strlen(v) >= 64)
			return bad(err, len, opt, v, "is one too many or long");
		if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK)
			return bad(err, len, opt, v, "(out of memory)");
		rc = esp ? vpnr_tunnel_config_add_esp_proposal(tc, v) :
			   vpnr_tunnel_config_add_ike_proposal(tc, v);
		if (rc != VPNR_OK) {
			snprintf(err, len, "--%s: '%s' is not a proposal (%s)",
			    opt, v, vpnr_tunnel_config_last_error(tc));
			vpnr_tunnel_config_del(tc);
			return -1;
		}
		vpnr_tunnel_config_del(tc);
		snprintf(esp ? t->esp[t->n_esp++] : t->ike[t->n_ike++], 64,
		    "%s", v);
	} else if (strcmp(opt, "tun") == 0) {
		if (strlen(v) == 0 || strlen(v) >= sizeof(t->ifname))
			return bad(err, len, opt, v,
			    "is not an interface name (1-15 characters)");
		snprintf(t->ifname, sizeof(t->ifname), "%s", v);
	} else if (strcmp(opt, "tun-addr") == 0) {
		if (mgw_parse_ifaddr(v, &t->address) < 0)
			return bad(err, len, opt, v,
			    "is not ADDRESS/LENGTH (e.g. 169.254.21.1/30)");
	} else if (strcmp(opt, "route") == 0) {
		struct mgw_cfg_route *r;

		if ((r = realloc(l->c.routes,
			 sizeof(*r) * (size_t)(l->c.n_routes + 1))) == NULL)
			return bad(err, len, opt, v, "(out of memory)");
		l->c.routes = r;
		r = &r[l->c.n_routes];
		memset(r, 0, sizeof(*r));
		if (vpnr_prefix_parse(&r->prefix, v) != VPNR_OK ||
		    strchr(v, '/') == NULL)
			return bad(err, len, opt, v,
			    "is not a prefix (host bits zero)");
		snprintf(r->tunnel, sizeof(r->tunnel), "t0");
		l->c.n_routes++;
	} else if (strcmp(opt, "initiate") == 0) {
		l->initiate = 1;
	} else if (strcmp(opt, "force-encap") == 0) {
		t->force_encap = 1;
	} else if (strcmp(opt, "no-offload") == 0) {
		t->offload = 0;
	} else if (strcmp(opt, "mss") == 0) {
		if (num(opt, v, 0, 9000, &n, err, len) < 0)
			return -1;
		t->mss = (uint32_t)n;
	} else if (strcmp(opt, "mtu") == 0) {
		if (num(opt, v, 576, 9000, &n, err, len) < 0)
			return -1;
		t->mtu = (uint32_t)n;
	} else if (strcmp(opt, "if-id") == 0) {
		if (num(opt, v, 1, UINT32_MAX, &n, err, len) < 0)
			return -1;
		t->if_id = (uint32_t)n;
	} else if (strcmp(opt, "replay-window") == 0) {
		if (num(opt, v, 0, 65536, &n, err, len) < 0)
			return -1;
		t->replay_window = (uint32_t)n;
	} else if (strcmp(opt, "dpd-interval") == 0) {
		/* The same ranges as the configuration keys. */
		if (num(opt, v, 0, 3600, &n, err, len) < 0)
			return -1;
		t->dpd_interval = (uint32_t)n;
	} else if (strcmp(opt, "dpd-timeout") == 0) {
		if (num(opt, v, 2, 3600, &n, err, len) < 0)
			return -1;
		t->dpd_timeout = (uint32_t)n;
	} else if (strcmp(opt, "dpd-action") == 0) {
		if (strcmp(v, "clear") == 0)
			t->dpd_action = VPNR_DPD_ACTION_CLEAR;
		else if (strcmp(v, "restart") == 0)
			t->dpd_action = VPNR_DPD_ACTION_RESTART;
		else if (strcmp(v, "none") == 0)
			t->dpd_action = VPNR_DPD_ACTION_NONE;
		else
			return bad(err, len, opt, v,
			    "is not clear, restart or none");
	} else if (strcmp(opt, "child-lifetime-bytes") == 0) {
		/* SOFT[:HARD] bytes */
		snprintf(buf, sizeof(buf), "%s", v);
		if ((colon = strchr(buf, ':')) != NULL)
			*colon++ = '\0';
		if (num(opt, buf, 1, UINT64_MAX / 2, &n, err, len) < 0)
			return -1;
		t->soft_bytes = n;
		if (colon != NULL) {
			if (num(opt, colon, n, UINT64_MAX / 2, &n, err, len) <
			    0)
				return -1;
			t->child_lifetime_kb = n / 1024;
		}
	} else if (strcmp(opt, "bgp-as") == 0) {
		if (mgw_parse_u64(v, &n) < 0 || !mgw_asn_ok(n))
			return bad(err, len, opt, v,
			    "is not an AS number (allowed 1-4294967295 "
			    "except 23456)");
		l->c.g.local_as = (uint32_t)n;
	} else if (strcmp(opt, "bgp-peer") == 0) {
		snprintf(buf, sizeof(buf), "%s", v);
		if ((colon = strrchr(buf, ':')) == NULL)
			return bad(err, len, opt, v, "is not ADDR:AS");
		*colon++ = '\0';
		if (vpnr_addr_parse(&l->nb.addr, buf) != VPNR_OK ||
		    l->nb.addr.port != 0)
			return bad(err, len, opt, v, "has no valid address");
		if (mgw_parse_u64(colon, &n) < 0 || !mgw_asn_ok(n))
			return bad(err, len, opt, v,
			    "has no valid AS (allowed 1-4294967295 except "
			    "23456)");
		l->nb.remote_as = (uint32_t)n;
		snprintf(l->nb.tunnel, sizeof(l->nb.tunnel), "t0");
		l->has_peer = 1;
	} else if (strcmp(opt, "bgp-advertise") == 0) {
		vpnr_prefix *p;

		if ((p = realloc(l->c.networks,
			 sizeof(*p) * (size_t)(l->c.n_networks + 1))) == NULL)
			return bad(err, len, opt, v, "(out of memory)");
		l->c.networks = p;
		if (vpnr_prefix_parse(&p[l->c.n_networks], v) != VPNR_OK ||
		    strchr(v, '/') == NULL)
			return bad(err, len, opt, v,
			    "is not a prefix (host bits zero)");
		l->c.n_networks++;
	} else if (strcmp(opt, "manual-sa") == 0) {
		snprintf(l->manual, sizeof(l->manual), "%s", v);
	} else {
		snprintf(err, len, "--%s: unknown option", opt);
		return -1;
	}
	return 0;
}

/* The configuration the flags describe (moved into c). */
int
mgw_legacy_config(struct mgw_legacy *l, struct mgw_config *c, char *err,
    size_t len)
{
	if (l->t.local_addr.family == 0 || l->t.remote_addr.family == 0 ||
	    l->t.address.addr.family == 0) {
		snprintf(err, len,
		    "--local, --remote and --tun-addr are required (or -c "
		    "FILE)");
		return -1;
	}
	if (l->t.psk_len == 0 && l->manual[0] == '\0') {
		snprintf(err, len, "--psk-file or --psk is required");
		return -1;
	}
	if (l->has_peer && l->c.g.local_as == 0) {
		snprintf(err, len, "--bgp-peer needs --bgp-as");
		return -1;
	}
	if (l->t.psk_len == 0) {
		/* Manual keying: IKE never runs, any key will do. */
		memcpy(l->t.psk, "manual-keying", 13);
		l->t.psk_len = 13;
	}
	l->t.role = l->initiate ? MGW_ROLE_INITIATE : MGW_ROLE_RESPOND;
	if ((l->c.tun = malloc(sizeof(*l->c.tun))) == NULL) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	l->c.tun[0] = l->t;
	l->c.n_tun = 1;
	explicit_bzero(l->t.psk, sizeof(l->t.psk));
	if (l->has_peer) {
		if ((l->c.nb = malloc(sizeof(*l->c.nb))) == NULL) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		l->c.nb[0] = l->nb;
		l->c.n_nb = 1;
	}
	*c = l->c;
	memset(&l->c, 0, sizeof(l->c));
	return mgw_config_check(c, err, len);
}

/*
 * --manual-sa SPI_OUT:SPI_IN:SUITE:KEYHEX installs one outbound and one
 * inbound SA without IKE (both directions use the same keys; the peer
 * swaps the SPIs).  SUITE: aes{128,256}gcm16 or
 * aes{128,256}-{sha1,sha256,sha384,sha512}.  KEYHEX: the cipher key
 * (+ 4-byte salt for GCM), then the HMAC key.
 */
int
mgw_manual_sa(vpnr_esp *esp, const char *spec, const vpnr_addr *local,
    const vpnr_addr *remote, uint32_t if_id)
{
	static const struct {
		const char *name;
		uint16_t encr, bits, integ, iklen;
	} suites[] = {
		{ "aes128gcm16", VPNR_ENCR_AES_GCM_16, 128, 0, 0 },
		{ "aes256gcm16", VPNR_ENCR_AES_GCM_16, 256, 0, 0 },
		{ "aes128-sha1", VPNR_ENCR_AES_CBC, 128,
		    VPNR_INTEG_HMAC_SHA1_96, 20 },
		{ "aes256-sha1", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA1_96, 20 },
		{ "aes128-sha256", VPNR_ENCR_AES_CBC, 128,
		    VPNR_INTEG_HMAC_SHA2_256_128, 32 },
		{ "aes256-sha256", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_256_128, 32 },
		{ "aes256-sha384", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_384_192, 48 },
		{ "aes256-sha512", VPNR_ENCR_AES_CBC, 256,
		    VPNR_INTEG_HMAC_SHA2_512_256, 64 },
	};
	char buf[512], *f[4], *save = NULL;
	uint8_t key[128];
	vpnr_child_sa sa;
	size_t i, n, eklen;
	unsigned int v;
	int k, rc;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (k = 0; k < 4; k++)
		if ((f[k] = strtok_r(k ? NULL : buf, ":", &save)) == NULL)
			return VPNR_ERR_INVALID_ARGUMENT;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strcmp(suites[i].name, f[2]) == 0)
			break;
	if (i == sizeof(suites) / sizeof(suites[0]))
		return VPNR_ERR_UNSUPPORTED;
	for (n = 0; f[3][2 * n] != '\0' && n < sizeof(key); n++) {
		if (sscanf(f[3] + 2 * n, "%2x", &v) != 1)
			return VPNR_ERR_INVALID_ARGUMENT;
		key[n] = (uint8_t)v;
	}
	eklen = suites[i].bits / 8 + (suites[i].integ == 0 ? 4 : 0);
	if (n != eklen + suites[i].iklen)
		return VPNR_ERR_INVALID_ARGUMENT;
	for (k = 0; k < 2; k++) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_id = (uint64_t)k + 1;
		sa.protocol = 50;
		sa.direction = k == 0 ? VPNR_DIR_OUT : VPNR_DIR_IN;
		sa.spi = (uint32_t)strtoul(f[k], NULL, 16);
		sa.flags = VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
		sa.src = k == 0 ? *local : *remote;
		sa.dst = k == 0 ? *remote : *local;
		sa.src.port = sa.dst.port = 4500;
		sa.encr_id = suites[i].encr;
		sa.encr_key_bits = suites[i].bits;
		sa.integ_id = suites[i].integ;
		sa.encr_key = key;
		sa.encr_key_len = eklen;
		sa.integ_key = suites[i].iklen ? key + eklen : NULL;
		sa.integ_key_len = suites[i].iklen;
		sa.replay_window = 1024;
		sa.if_id = if_id;
		if ((rc = vpnr_esp_sa_install(esp, &sa)) != VPNR_OK) {
			explicit_bzero(key, sizeof(key));
			return rc;
		}
	}
	explicit_bzero(key, sizeof(key));
	return VPNR_OK;
}
