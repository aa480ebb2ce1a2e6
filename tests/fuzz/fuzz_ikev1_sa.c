/*
 * libFuzzer harness for the IKEv1 engine (ipsec/ikev1_sa.c).
 *
 * The input is a list of datagrams (2-byte length, then the bytes;
 * the first byte of the input picks the role, PFS, Aggressive Mode
 * a Quick Mode started by the responder too, and the commit bit).  They are fed
 * to an initiator (after it sent MM1) or to a responder, with the
 * clock moving between them; the engine's random bytes come from a
 * counter, so cookies and nonces are the same on every run and a
 * corpus recorded from a real exchange reaches deep into it.
 * Invariants (abort on violation): every input returns VPNR_OK or an
 * error, never crashes; every datagram the engine emits parses as an
 * ISAKMP message with our cookies; a failed engine names why; a
 * CHILD_SA reported ready has keys and distinct SPIs; the outbox never
 * exceeds its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ikev1_sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

static uint32_t counter;

static int
fake_rand(void *arg, uint8_t *buf, size_t len)
{
	size_t i;

	(void)arg;
	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(++counter * 131u >> 3);
	return 0;
}

static struct vpnr__prop ike, esp;
static struct vpnr__v1_cfg cfg;
static struct vpnr__v1_ike sa;
static struct vpnr__v1_msg m;

static void
setup(int initiator, int pfs, int aggressive)
{
	memset(&cfg, 0, sizeof(cfg));
	check(vpnr__v1_prop_parse(&ike, VPNR__PROTO_IKE,
		  "aes128-aes256-sha1-sha256-modp1024-ecp256", NULL,
		  0) == VPNR_OK);
	check(vpnr__v1_prop_parse(&esp, VPNR__PROTO_ESP,
		  pfs ? "aes256gcm16-aes128gcm16-modp1024" : "aes128-sha1",
		  NULL, 0) == VPNR_OK);
	cfg.ike = &ike;
	cfg.n_ike = 1;
	cfg.esp = &esp;
	cfg.n_esp = 1;
	cfg.psk = (const uint8_t *)"fuzz-psk";
	cfg.psk_len = 8;
	check(vpnr_addr_parse(&cfg.local,
		  initiator ? "203.0.113.1" : "203.0.113.2") == VPNR_OK);
	check(vpnr_addr_parse(&cfg.remote,
		  initiator ? "203.0.113.2" : "203.0.113.1") == VPNR_OK);
	cfg.local.port = cfg.remote.port = 500;
	check(vpnr_addr_parse(&cfg.local_ts.addr_start, "10.1.0.0") == VPNR_OK);
	check(
	    vpnr_addr_parse(&cfg.local_ts.addr_end, "10.1.255.255") == VPNR_OK);
	check(
	    vpnr_addr_parse(&cfg.remote_ts.addr_start, "10.2.0.0") == VPNR_OK);
	check(vpnr_addr_parse(&cfg.remote_ts.addr_end, "10.2.255.255") ==
	    VPNR_OK);
	cfg.local_ts.port_end = cfg.remote_ts.port_end = 0xffff;
	cfg.encap = VPNR__V1_ENCAP_TUNNEL;
	cfg.rtx_timeout = VPNR_SECONDS;
	cfg.rtx_tries = 3;
	cfg.aggressive = aggressive;
	cfg.rand_bytes = fake_rand;
	counter = 0;
	check(vpnr__v1_ike_init(&sa, &cfg, initiator) == VPNR_OK);
}

static void
drain(void)
{
	static uint8_t buf[65536];
	size_t len;

	check(sa.out_n <= VPNR__V1_OUTBOX);
	for (;;) {
		check(vpnr__v1_ike_output(&sa, buf, sizeof(buf), &len) ==
		    VPNR_OK);
		if (len == 0)
			break;
		check(vpnr__v1_parse(&m, buf, len, 0, NULL) == VPNR_OK);
		check(memcmp(m.hdr.cky_i, sa.cky_i, 8) == 0);
	}
}

static void
check_state(void)
{
	static const uint8_t zero[4];

	check(sa.state >= V1S_IDLE && sa.state <= V1S_FAILED);
	if (sa.state == V1S_FAILED)
		check(sa.why != NULL && sa.error < 0);
	if (sa.child_ready) {
		check(sa.child.key_len > 0);
		check(memcmp(sa.child.spi_in, zero, 4) != 0);
		check(memcmp(sa.child.spi_in, sa.child.spi_out, 4) != 0 ||
		    memcmp(sa.child.key_in, sa.child.key_out,
			sa.child.key_len) != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vpnr_tstamp now = VPNR_SECONDS;
	size_t off = 1, len;
	int initiator, rc;

	if (size < 1)
		return 0;
	initiator = data[0] & 1;
	setup(initiator, (data[0] & 2) != 0, (data[0] & 4) != 0);
	cfg.commit = (data[0] & 16) != 0;
	if (initiator)
		check(vpnr__v1_ike_start(&sa, now) == VPNR_OK);
	drain();
	while (off + 2 <= size) {
		len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		rc = vpnr__v1_ike_input(&sa, data + off, len, now);
		check(rc == VPNR_OK || rc < 0);
		off += len;
		check_state();
		/* the responder starts one too with flag 8 (collisions) */
		if ((initiator || (data[0] & 8)) && sa.state == V1S_P1_DONE &&
		    sa.qm.state == V1Q_NONE && !sa.child_ready && sa.error == 0)
			check(vpnr__v1_ike_quick(&sa, now) == VPNR_OK);
		drain();
		/* time passes: retransmissions fire too */
		now += 700 * VPNR_MILLISECONDS;
		rc = vpnr__v1_ike_timer(&sa, now);
		check(rc == VPNR_OK || rc == VPNR_ERR_TIMEOUT);
		drain();
		check_state();
	}
	if (sa.state == V1S_P1_DONE) {
		check(vpnr__v1_ike_dpd(&sa, now) == VPNR_OK);
		drain();
	}
	vpnr__v1_ike_free(&sa);
	return 0;
}
