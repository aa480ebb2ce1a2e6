/*
 * IKEv2 handshakes per second on one core, in process: our initiator
 * against our responder (IKE_SA_INIT + IKE_AUTH with one CHILD_SA,
 * PSK), through the public API with a no-op data plane, next to the
 * cost of the key exchange alone (two key generations and two derives
 * per handshake, OpenSSL EVP directly) measured in the same run.  The
 * v1- rows are IKEv1 tunnels (Main Mode + Quick Mode) through the same
 * API and harness.
 *
 * usage: bench_ike_handshake [seconds per figure, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <vpnroute/vpnroute.h>

#include "helpers/ike_wire.h"

static struct ikew w;
static int child_up[2];

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
b_event(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	if (ev->type == VPNR_TUNNEL_EV_CHILD_UP)
		child_up[s->idx] = 1;
	else if (ev->type == VPNR_TUNNEL_EV_DOWN ||
	    ev->type == VPNR_TUNNEL_EV_FAILED)
		child_up[s->idx] = 0;
	return VPNR_OK;
}

/* Our two contexts on the real clock, one tunnel each. */
static int
setup(const char *ike, uint32_t version)
{
	static const char *ikes[2]; /* w keeps a pointer to it */
	static const char *const esp[] = { "aes256gcm16", NULL };
	struct ikew_opts o;
	vpnr_addr a[2];
	int i;

	ikes[0] = ike;
	memset(&o, 0, sizeof(o));
	o.cookie_threshold = -1;
	o.ike_version = version;
	o.ike = ikes;
	o.esp = esp;
	o.psk = "bench";
	o.max_queue = -1;
	o.real_clock = 1;
	o.real_rand = 1;
	o.dp = &ikew_dp_noop;
	vpnr_addr_parse(&a[0], "192.0.2.1");
	vpnr_addr_parse(&a[1], "192.0.2.2");
	if (ikew_new(&w, &o) != VPNR_OK ||
	    ikew_set_addrs(&w, &a[0], &a[1]) != VPNR_OK ||
	    ikew_add_pair(&w, NULL) != VPNR_OK) {
		ikew_free(&w);
		return -1;
	}
	for (i = 0; i < 2; i++)
		w.s[i].on_event = b_event;
	return 0;
}

/* One full handshake and a DELETE; returns 0 when it came up. */
static int
handshake(void)
{
	child_up[0] = child_up[1] = 0;
	vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tunnel_id, ikew_now(&w));
	ikew_flush(&w);
	if (!child_up[0] || !child_up[1])
		return -1;
	vpnr_tunnel_close(w.s[0].ctx, w.s[0].tunnel_id, ikew_now(&w));
	ikew_flush(&w);
	/* Free the dead SAs (zero-delay timers). */
	ikew_timers(&w);
	return 0;
}

/* Parameter templates, made once, so only the key work is timed. */
static EVP_PKEY *tmpl_ec, *tmpl_dh;

static EVP_PKEY *
make_tmpl(const char *alg, const char *group)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *k = NULL;
	OSSL_PARAM p[2];

	EVP_PKEY_paramgen_init(pc);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)group, 0);
	p[1] = OSSL_PARAM_construct_end();
	EVP_PKEY_CTX_set_params(pc, p);
	EVP_PKEY_paramgen(pc, &k);
	EVP_PKEY_CTX_free(pc);
	return k;
}

static EVP_PKEY *
keygen(int group)
{
	EVP_PKEY_CTX *pc;
	EVP_PKEY *k = NULL;

	if (tmpl_ec == NULL) {
		tmpl_ec = make_tmpl("EC", "P-256");
		tmpl_dh = make_tmpl("DH", "modp_2048");
	}
	switch (group) {
	case 31:
		pc = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
		break;
	case 19:
		pc = EVP_PKEY_CTX_new(tmpl_ec, NULL);
		break;
	default:
		pc = EVP_PKEY_CTX_new(tmpl_dh, NULL);
		break;
	}
	EVP_PKEY_keygen_init(pc);
	EVP_PKEY_keygen(pc, &k);
	EVP_PKEY_CTX_free(pc);
	return k;
}

static void
derive(EVP_PKEY *a, EVP_PKEY *b)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(a, NULL);
	uint8_t s[512];
	size_t sl = sizeof(s);

	EVP_PKEY_derive_init(pc);
	EVP_PKEY_derive_set_peer_ex(pc, b, 0); /* no peer validation */
	EVP_PKEY_derive(pc, s, &sl);
	EVP_PKEY_CTX_free(pc);
}

static double
ke_rate(int group, double secs)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		EVP_PKEY *a = keygen(group), *b = keygen(group);

		derive(a, b);
		derive(b, a);
		EVP_PKEY_free(a);
		EVP_PKEY_free(b);
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

static double
hs_rate(const char *ike, uint32_t version, double secs, long *fails)
{
	double t0, t;
	long n = 0;

	*fails = 0;
	if (setup(ike, version) != 0) {
		fprintf(stderr, "setup failed for %s\n", ike);
		return 0;
	}
	t0 = now_s();
	do {
		if (handshake() != 0)
			(*fails)++;
		n++;
		t = now_s() - t0;
	} while (t < secs);
	ikew_free(&w);
	return (double)(n - *fails) / t;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		const char *ike;
		int group;
		uint32_t version;
	} g[] = {
		{ "x25519", "aes256gcm16-prfsha256-x25519", 31, 2 },
		{ "ecp256", "aes256gcm16-prfsha256-ecp256", 19, 2 },
		{ "modp2048", "aes256-sha256-modp2048", 14, 2 },
		/* IKEv1 Main Mode + Quick Mode (9 messages) through the same
		 * API: one DH exchange, no PFS. */
		{ "v1-ecp256", "aes128-sha256-ecp256", 19, 1 },
		{ "v1-mod2048", "aes256-sha256-modp2048", 14, 1 },
	};
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	size_t i;

	if (secs <= 0)
		secs = 2.0;
	printf("IKEv2 handshakes/s, one core, in process (PSK, IKE_SA_INIT + "
	       "IKE_AUTH + 1 CHILD_SA, plus DELETE; v1-: IKEv1 Main Mode + "
	       "Quick Mode)\n");
	printf("%-10s %14s %16s %8s %8s\n", "group", "handshakes/s",
	    "KE-only/s (EVP)", "ratio", "fails");
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		long fails = 0, f;
		double hs = 0, ke = 0, x;
		int r;

		/* Interleaved rounds, best of three: the VM is shared. */
		for (r = 0; r < 3; r++) {
			x = hs_rate(g[i].ike, g[i].version, secs / 3, &f);
			if (x > hs)
				hs = x;
			fails += f;
			x = ke_rate(g[i].group, secs / 3);
			if (x > ke)
				ke = x;
		}
		printf("%-10s %14.0f %16.0f %7.2fx %8ld\n", g[i].name, hs, ke,
		    ke > 0 ? hs / ke : 0, fails);
	}
	printf("target: ratio >= 0.5 (KE-only = 2 keygens + 2 derives per "
	       "handshake)\n");
	return 0;
}
