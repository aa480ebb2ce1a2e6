/*
 * IKEv1 Main Mode + Quick Mode handshakes per second, one core, in
 * process: our initiator against our responder (ipsec/ikev1_sa.c), 9
 * messages, PSK, one CHILD_SA, beside the key-exchange cost alone (2
 * keygens + 2 derives per DH exchange; two exchanges with PFS).
 * Anchor (reference/interop-harness.md): strongSwan 5.9 IKEv1 Main
 * Mode + Quick Mode with PFS modp1024 takes 0.24-0.32 s wall in the
 * harness.  Usage: bench_ikev1_handshake [seconds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ikev1_sa.h"

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct vpnr__prop ike[2], esp[2];
static struct vpnr__v1_cfg cfg[2];
static struct vpnr__v1_ike e[2];

static int
setup(const char *ikes, const char *esps)
{
	int i;

	for (i = 0; i < 2; i++) {
		memset(&cfg[i], 0, sizeof(cfg[i]));
		if (vpnr__v1_prop_parse(&ike[i], VPNR__PROTO_IKE, ikes, NULL,
			0) != VPNR_OK ||
		    vpnr__v1_prop_parse(&esp[i], VPNR__PROTO_ESP, esps, NULL,
			0) != VPNR_OK)
			return -1;
		cfg[i].ike = &ike[i];
		cfg[i].n_ike = 1;
		cfg[i].esp = &esp[i];
		cfg[i].n_esp = 1;
		cfg[i].psk = (const uint8_t *)"bench-psk";
		cfg[i].psk_len = 9;
		vpnr_addr_parse(&cfg[i].local,
		    i ? "203.0.113.2" : "203.0.113.1");
		vpnr_addr_parse(&cfg[i].remote,
		    i ? "203.0.113.1" : "203.0.113.2");
		vpnr_addr_parse(&cfg[i].local_ts.addr_start, "0.0.0.0");
		vpnr_addr_parse(&cfg[i].local_ts.addr_end, "255.255.255.255");
		cfg[i].local_ts.port_end = 0xffff;
		cfg[i].remote_ts = cfg[i].local_ts;
		cfg[i].encap = VPNR__V1_ENCAP_TUNNEL;
		cfg[i].rtx_timeout = VPNR_SECONDS;
		cfg[i].rtx_tries = 3;
	}
	return 0;
}

static int
handshake(void)
{
	static uint8_t buf[65536];
	size_t len;
	int i, moved, quick = 0, rc = -1;

	if (vpnr__v1_ike_init(&e[0], &cfg[0], 1) != VPNR_OK ||
	    vpnr__v1_ike_init(&e[1], &cfg[1], 0) != VPNR_OK ||
	    vpnr__v1_ike_start(&e[0], VPNR_SECONDS) != VPNR_OK)
		return -1;
	do {
		moved = 0;
		for (i = 0; i < 2; i++)
			while (vpnr__v1_ike_output(&e[i], buf, sizeof(buf),
				   &len) == VPNR_OK &&
			    len > 0) {
				vpnr__v1_ike_input(&e[!i], buf, len,
				    VPNR_SECONDS);
				moved = 1;
			}
		if (!quick && e[0].state == V1S_P1_DONE) {
			quick = 1;
			moved =
			    vpnr__v1_ike_quick(&e[0], VPNR_SECONDS) == VPNR_OK;
		}
	} while (moved);
	if (e[0].child_ready && e[1].child_ready)
		rc = 0;
	vpnr__v1_ike_free(&e[0]);
	vpnr__v1_ike_free(&e[1]);
	return rc;
}

static double
hs_rate(double secs, long *fails)
{
	double t0 = now_s(), t;
	long n = 0;

	*fails = 0;
	do {
		if (handshake() != 0)
			(*fails)++;
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)(n - *fails) / t;
}

/* Key exchanges alone: 2 keygens + 2 derives, times n_dh. */
static double
ke_rate(uint16_t group, int n_dh, double secs)
{
	struct vpnr__v1_dh *a, *b;
	uint8_t pa[VPNR__V1_MAX_KE_LEN], pb[VPNR__V1_MAX_KE_LEN];
	uint8_t s[VPNR__V1_MAX_KE_LEN];
	size_t pl = vpnr__v1_dh_public_len(group), sl;
	double t0 = now_s(), t;
	long n = 0;
	int k;

	do {
		for (k = 0; k < n_dh; k++) {
			if (vpnr__v1_dh_new(group, &a) != VPNR_OK ||
			    vpnr__v1_dh_new(group, &b) != VPNR_OK)
				return 0;
			vpnr__v1_dh_public(a, pa, sizeof(pa));
			vpnr__v1_dh_public(b, pb, sizeof(pb));
			vpnr__v1_dh_derive(a, pb, pl, s, sizeof(s), &sl);
			vpnr__v1_dh_derive(b, pa, pl, s, sizeof(s), &sl);
			vpnr__v1_dh_free(a);
			vpnr__v1_dh_free(b);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name, *ike, *esp;
		uint16_t group;
		int n_dh;
	} g[] = {
		{ "aws-pfs2", "aes128-sha1-modp1024", "aes128-sha1-modp1024", 2,
		    2 },
		{ "modp1024", "aes128-sha1-modp1024", "aes128-sha1", 2, 1 },
		{ "modp2048", "aes256-sha256-modp2048", "aes256gcm16", 14, 1 },
		{ "ecp256", "aes256-sha256-ecp256", "aes256gcm16", 19, 1 },
	};
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	long total_fails = 0;
	size_t i;

	if (secs <= 0)
		secs = 2.0;
	printf("IKEv1 Main Mode + Quick Mode handshakes/s, one core, in "
	       "process (PSK, 9 messages, 1 CHILD_SA)\n");
	printf("%-10s %14s %16s %8s %8s\n", "suite", "handshakes/s",
	    "KE-only/s", "ratio", "fails");
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
		long fails = 0, f;
		double hs = 0, ke = 0, x;
		int r;

		if (setup(g[i].ike, g[i].esp) != 0)
			return 1;
		/* Interleaved rounds, best of three: the VM is shared. */
		for (r = 0; r < 3; r++) {
			x = hs_rate(secs / 3, &f);
			if (x > hs)
				hs = x;
			fails += f;
			x = ke_rate(g[i].group, g[i].n_dh, secs / 3);
			if (x > ke)
				ke = x;
		}
		printf("%-10s %14.0f %16.0f %7.2fx %8ld\n", g[i].name, hs, ke,
		    ke > 0 ? hs / ke : 0, fails);
		total_fails += fails;
	}
	printf("anchor: strongSwan 5.9 IKEv1 MM+QM (PFS modp1024) 0.24-0.32 s "
	       "wall per handshake in the interop harness\n");
	return total_fails == 0 ? 0 : 1;
}
