/*
 * IKEv1 engine (ipsec/ikev1_sa.c): our initiator against our
 * responder, back to back with a fake clock, for the clouds' suites;
 * with 30% loss, duplication and reordering (seeded, so every run is
 * the same); wrong PSK, no proposal in either phase, a silent peer,
 * DPD and deletes; the same for Aggressive Mode; Phase 2 rekeys from
 * either side and at once; the commit bit; RESPONDER-LIFETIME.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <vpnroute/vpnroute.h>

#include "ikev1_sa.h"

/* ---- A lossy network between two engines --------------------------- */

#define NET_MAX 64

struct pkt {
	int to; /* 0 initiator, 1 responder */
	vpnr_tstamp at;
	size_t len;
	uint8_t data[4096];
};

struct net {
	struct vpnr__v1_ike *e[2];
	struct pkt q[NET_MAX];
	int n;
	uint64_t rng;
	unsigned loss, dup; /* percent */
	vpnr_tstamp now;
	unsigned delivered, lost, duplicated;
};

static uint32_t
prng(struct net *n)
{
	/* xorshift64*: the test's own, so runs repeat exactly */
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return (uint32_t)((n->rng * 2685821657736338717ULL) >> 32);
}

static void
net_put(struct net *n, int to, const uint8_t *d, size_t len)
{
	struct pkt *p;

	if (n->n == NET_MAX)
		return;
	p = &n->q[n->n++];
	p->to = to;
	/* 1..40 ms in flight: later packets overtake earlier ones */
	p->at = n->now + (1 + prng(n) % 40) * VPNR_MILLISECONDS;
	assert_true(len <= sizeof(p->data));
	p->len = len;
	memcpy(p->data, d, len);
}

static void
pump(struct net *n)
{
	uint8_t buf[4096];
	size_t len;
	int i;

	for (i = 0; i < 2; i++)
		for (;;) {
			assert_int_equal(vpnr__v1_ike_output(n->e[i], buf,
					     sizeof(buf), &len),
			    VPNR_OK);
			if (len == 0)
				break;
			if (prng(n) % 100 < n->loss) {
				n->lost++;
				continue;
			}
			net_put(n, !i, buf, len);
			if (prng(n) % 100 < n->dup) {
				n->duplicated++;
				net_put(n, !i, buf, len);
			}
		}
}

/* Deliver the next packet or fire the next timer; 0 when idle. */
static int
step(struct net *n)
{
	vpnr_tstamp t, best = 0;
	int i, k = -1;

	pump(n);
	for (i = 0; i < n->n; i++)
		if (k < 0 || n->q[i].at < n->q[k].at)
			k = i;
	for (i = 0; i < 2; i++) {
		t = vpnr__v1_ike_next_timer(n->e[i]);
		if (t != 0 && (best == 0 || t < best))
			best = t;
	}
	if (k >= 0 && (best == 0 || n->q[k].at <= best)) {
		struct pkt p = n->q[k];

		n->q[k] = n->q[--n->n];
		if (p.at > n->now)
			n->now = p.at;
		n->delivered++;
		(void)vpnr__v1_ike_input(n->e[p.to], p.data, p.len, n->now);
		return 1;
	}
	if (best == 0)
		return 0;
	n->now = best;
	for (i = 0; i < 2; i++)
		(void)vpnr__v1_ike_timer(n->e[i], n->now);
	return 1;
}

/* ---- Configurations ------------------------------------------------ */

struct side {
	struct vpnr__prop ike, esp;
	struct vpnr__v1_cfg cfg;
	struct vpnr__v1_ike sa;
};

static void
side_init(struct side *s, int initiator, const char *ike, const char *esp,
    const char *psk)
{
	char err[200];
	const char *l = initiator ? "203.0.113.1" : "203.0.113.2";
	const char *r = initiator ? "203.0.113.2" : "203.0.113.1";

	memset(s, 0, sizeof(*s));
	if (vpnr__v1_prop_parse(&s->ike, VPNR__PROTO_IKE, ike, err,
		sizeof(err)) != VPNR_OK ||
	    vpnr__v1_prop_parse(&s->esp, VPNR__PROTO_ESP, esp, err,
		sizeof(err)) != VPNR_OK)
		fail_msg("%s", err);
	s->cfg.ike = &s->ike;
	s->cfg.n_ike = 1;
	s->cfg.esp = &s->esp;
	s->cfg.n_esp = 1;
	s->cfg.psk = (const uint8_t *)psk;
	s->cfg.psk_len = strlen(psk);
	assert_int_equal(vpnr_addr_parse(&s->cfg.local, l), VPNR_OK);
	assert_int_equal(vpnr_addr_parse(&s->cfg.remote, r), VPNR_OK);
	s->cfg.local.port = s->cfg.remote.port = 500;
	/* Alibaba's how-to: 192.168.0.0/16 <-> 172.16.0.0/12 */
	assert_int_equal(vpnr_addr_parse(initiator ?
				 &s->cfg.local_ts.addr_start :
				 &s->cfg.remote_ts.addr_start,
			     "192.168.0.0"),
	    VPNR_OK);
	assert_int_equal(vpnr_addr_parse(initiator ? &s->cfg.local_ts.addr_end :
						     &s->cfg.remote_ts.addr_end,
			     "192.168.255.255"),
	    VPNR_OK);
	assert_int_equal(vpnr_addr_parse(initiator ?
				 &s->cfg.remote_ts.addr_start :
				 &s->cfg.local_ts.addr_start,
			     "172.16.0.0"),
	    VPNR_OK);
	assert_int_equal(vpnr_addr_parse(initiator ?
				 &s->cfg.remote_ts.addr_end :
				 &s->cfg.local_ts.addr_end,
			     "172.31.255.255"),
	    VPNR_OK);
	s->cfg.local_ts.port_end = s->cfg.remote_ts.port_end = 0xffff;
	s->cfg.p1_life.seconds = 28800;
	s->cfg.p2_life.seconds = 3600;
	s->cfg.encap = VPNR__V1_ENCAP_TUNNEL;
	s->cfg.rtx_timeout = 500 * VPNR_MILLISECONDS;
	s->cfg.rtx_tries = 12;
	assert_int_equal(vpnr__v1_ike_init(&s->sa, &s->cfg, initiator),
	    VPNR_OK);
}

static struct side I, R;
static struct net net;
static int aggr_i, aggr_r; /* Aggressive Mode for the next pair */

static void
pair(const char *ike_i, const char *esp_i, const char *ike_r, const char *esp_r,
    const char *psk_r, uint64_t seed, unsigned loss)
{
	side_init(&I, 1, ike_i, esp_i, "cloud-psk-1");
	side_init(&R, 0, ike_r, esp_r, psk_r);
	I.cfg.aggressive = aggr_i;
	R.cfg.aggressive = aggr_r;
	memset(&net, 0, sizeof(net));
	net.e[0] = &I.sa;
	net.e[1] = &R.sa;
	net.rng = seed * 0x9e3779b97f4a7c15ULL + 1;
	net.loss = net.dup = loss;
	net.now = VPNR_SECONDS;
}

/* Run until both sides settle; Quick Mode starts after Phase 1. */
static void
run(void)
{
	int quick = 0, guard = 0;

	assert_int_equal(vpnr__v1_ike_start(&I.sa, net.now), VPNR_OK);
	while (step(&net)) {
		assert_true(++guard < 20000);
		if (!quick && I.sa.state == V1S_P1_DONE) {
			quick = 1;
			assert_int_equal(vpnr__v1_ike_quick(&I.sa, net.now),
			    VPNR_OK);
		}
		if (I.sa.qm.state == V1Q_DONE && R.sa.qm.state == V1Q_DONE &&
		    net.n == 0)
			break;
	}
}

static void
teardown_pair(void)
{
	vpnr__v1_ike_free(&I.sa);
	vpnr__v1_ike_free(&R.sa);
}

static void
assert_up(void)
{
	if (I.sa.state != V1S_P1_DONE || R.sa.state != V1S_P1_DONE)
		fail_msg("phase 1: I %d (%s) R %d (%s)", I.sa.state,
		    I.sa.why ? I.sa.why : "", R.sa.state,
		    R.sa.why ? R.sa.why : "");
	assert_true(I.sa.child_ready);
	assert_true(R.sa.child_ready);
	/* One SA pair: each side's outbound is the other's inbound. */
	assert_memory_equal(I.sa.child.spi_out, R.sa.child.spi_in, 4);
	assert_memory_equal(I.sa.child.spi_in, R.sa.child.spi_out, 4);
	assert_int_equal(I.sa.child.key_len, R.sa.child.key_len);
	assert_memory_equal(I.sa.child.key_out, R.sa.child.key_in,
	    I.sa.child.key_len);
	assert_memory_equal(I.sa.child.key_in, R.sa.child.key_out,
	    I.sa.child.key_len);
	assert_memory_not_equal(I.sa.child.key_in, I.sa.child.key_out,
	    I.sa.child.key_len);
	assert_memory_equal(&I.sa.child.suite, &R.sa.child.suite,
	    sizeof(I.sa.child.suite));
	assert_int_equal(I.sa.child.life.seconds, 3600);
	assert_int_equal(R.sa.p1.life.seconds, 28800);
}

static const struct {
	const char *ike, *esp;
	uint16_t dh, encr;
} suites[] = {
	/* AWS's IKEv1 defaults: PFS group 2 */
	{ "aes128-sha1-modp1024", "aes128-sha1-modp1024", 2,
	    VPNR_ENCR_AES_CBC },
	/* Alibaba's defaults (no PFS) */
	{ "aes128-sha1-modp1024", "aes128-sha1", 0, VPNR_ENCR_AES_CBC },
	{ "aes256-sha256-modp2048", "aes256gcm16-modp2048", 14,
	    VPNR_ENCR_AES_GCM_16 },
	{ "3des-md5-modp1536", "3des-md5-modp1536", 5, VPNR__V2_ENCR_3DES },
	{ "aes192-sha384-ecp384", "aes256-sha512-ecp256", 19,
	    VPNR_ENCR_AES_CBC },
	{ "aes256-sha512-ecp521", "aes128gcm16", 0, VPNR_ENCR_AES_GCM_16 },
};

static void
test_suites(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		pair(suites[i].ike, suites[i].esp, suites[i].ike, suites[i].esp,
		    "cloud-psk-1", i, 0);
		run();
		assert_up();
		assert_int_equal(I.sa.child.suite.dh, suites[i].dh);
		assert_int_equal(I.sa.child.suite.encr, suites[i].encr);
		assert_int_equal(I.sa.child.encap, VPNR__V1_ENCAP_TUNNEL);
		assert_int_equal(net.lost, 0);
		/* exactly MM1..MM6 + QM1..QM3 */
		assert_int_equal(net.delivered, 9);
		assert_int_equal(I.sa.n_rtx + R.sa.n_rtx, 0);
		teardown_pair();
	}
}

/* 30% loss, 30% duplication, reordering; 25 seeds per suite. */
static void
test_lossy(void **state)
{
	unsigned seed, lost = 0, dups = 0, rtx = 0;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++)
		for (seed = 1; seed <= 25; seed++) {
			pair(suites[i].ike, suites[i].esp, suites[i].ike,
			    suites[i].esp, "cloud-psk-1", seed, 30);
			run();
			assert_up();
			lost += net.lost;
			dups += I.sa.n_dup + R.sa.n_dup;
			rtx += (unsigned)(I.sa.n_rtx + R.sa.n_rtx);
			teardown_pair();
		}
	/* the network did its worst, and the engine noticed */
	assert_true(lost > 50);
	assert_true(dups > 20);
	assert_true(rtx > 20);
}

static void
test_wrong_psk(void **state)
{
	(void)state;
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "not-the-psk", 1, 0);
	run();
	assert_int_equal(R.sa.state, V1S_FAILED);
	assert_int_equal(R.sa.error, VPNR_ERR_AUTH_FAILED);
	assert_non_null(strstr(R.sa.why, "pre-shared key"));
	assert_int_equal(I.sa.state, V1S_FAILED);
	assert_int_equal(I.sa.error, VPNR_ERR_AUTH_FAILED);
	assert_false(I.sa.child_ready || R.sa.child_ready);
	teardown_pair();
}

static void
test_no_proposal(void **state)
{
	(void)state;
	/* Phase 1 */
	pair("aes128-sha1-modp1024", "aes128-sha1", "aes256-sha256-modp2048",
	    "aes128-sha1", "cloud-psk-1", 1, 0);
	run();
	assert_int_equal(R.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_non_null(strstr(R.sa.why, "Main Mode"));
	assert_int_equal(I.sa.state, V1S_FAILED);
	assert_int_equal(I.sa.error, VPNR_ERR_NO_PROPOSAL);
	teardown_pair();
	/* Quick Mode: PFS on one side only; the ISAKMP SA stays */
	pair("aes128-sha1-modp1024", "aes128-sha1-modp1024",
	    "aes128-sha1-modp1024", "aes128-sha1", "cloud-psk-1", 1, 0);
	run();
	assert_int_equal(I.sa.state, V1S_P1_DONE);
	assert_int_equal(R.sa.state, V1S_P1_DONE);
	assert_int_equal(R.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_non_null(strstr(R.sa.why, "Quick Mode"));
	assert_int_equal(I.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_false(I.sa.child_ready || R.sa.child_ready);
	assert_int_equal(I.sa.qm.state, V1Q_NONE);
	teardown_pair();
}

static void
test_silent_peer(void **state)
{
	(void)state;
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "cloud-psk-1", 1, 100);
	run();
	assert_int_equal(I.sa.state, V1S_FAILED);
	assert_int_equal(I.sa.error, VPNR_ERR_TIMEOUT);
	assert_int_equal(I.sa.n_rtx, I.cfg.rtx_tries);
	assert_int_equal(R.sa.state, V1S_MM_WAIT1);
	teardown_pair();
}

static void
test_dpd_and_delete(void **state)
{
	int guard = 0;

	(void)state;
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "cloud-psk-1", 3, 0);
	run();
	assert_up();
	assert_int_equal(vpnr__v1_ike_dpd(&I.sa, net.now), VPNR_OK);
	while (step(&net) && ++guard < 100)
		;
	assert_int_equal(I.sa.dpd_seq, 1);
	assert_int_equal(I.sa.dpd_acked, 1);
	assert_int_equal(vpnr__v1_ike_dpd(&R.sa, net.now), VPNR_OK);
	while (step(&net) && ++guard < 200)
		;
	assert_int_equal(R.sa.dpd_acked, 1);
	/* delete: the responder sees the IPsec SA and ISAKMP SA go */
	assert_int_equal(vpnr__v1_ike_delete(&I.sa, net.now), VPNR_OK);
	while (step(&net) && ++guard < 300)
		;
	assert_true(R.sa.child_deleted);
	assert_int_equal(R.sa.state, V1S_FAILED);
	assert_int_equal(R.sa.error, VPNR_ERR_PEER_CLOSED);
	teardown_pair();
}

/* Garbage and foreign cookies are counted and change nothing. */
static void
test_garbage(void **state)
{
	uint8_t junk[64];

	(void)state;
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "cloud-psk-1", 4, 0);
	memset(junk, 0x41, sizeof(junk));
	assert_int_equal(vpnr__v1_ike_input(&R.sa, junk, sizeof(junk), net.now),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(R.sa.n_malformed, 1);
	assert_int_equal(R.sa.state, V1S_MM_WAIT1);
	run();
	assert_up();
	/* a Main Mode message with other cookies */
	assert_int_equal(vpnr__v1_ike_input(&I.sa, junk, 28, net.now),
	    VPNR_ERR_MALFORMED);
	teardown_pair();
}

/* Aggressive Mode: 3 + 3 messages, lossy, wrong PSK, not enabled. */
static void
test_aggressive(void **state)
{
	unsigned seed;
	size_t i;

	(void)state;
	aggr_i = aggr_r = 1;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		pair(suites[i].ike, suites[i].esp, suites[i].ike, suites[i].esp,
		    "cloud-psk-1", i, 0);
		run();
		assert_up();
		/* 6, or 7 when QM1 overtook AM3 and was sent again */
		assert_true(net.delivered == 6 || net.delivered == 7);
		assert_int_equal(I.sa.child.suite.dh, suites[i].dh);
		teardown_pair();
	}
	for (seed = 1; seed <= 25; seed++) {
		pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
		    "cloud-psk-1", seed, 30);
		run();
		assert_up();
		teardown_pair();
	}
	/* the initiator offers only the first group: a responder that
	 * wants another one finds no proposal */
	pair("aes128-sha1-modp1024-modp2048", "aes128-sha1",
	    "aes128-sha1-modp2048", "aes128-sha1", "cloud-psk-1", 1, 0);
	run();
	assert_int_equal(R.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_int_equal(I.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_non_null(strstr(I.sa.why, "Aggressive Mode"));
	teardown_pair();
	/* wrong PSK: the initiator sees HASH_R fail and says so */
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "not-the-psk", 1, 0);
	run();
	assert_int_equal(I.sa.error, VPNR_ERR_AUTH_FAILED);
	assert_non_null(strstr(I.sa.why, "HASH_R"));
	assert_int_equal(R.sa.error, VPNR_ERR_AUTH_FAILED);
	teardown_pair();
	/* a responder without Aggressive Mode refuses it */
	aggr_r = 0;
	pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
	    "cloud-psk-1", 1, 0);
	run();
	assert_int_equal(R.sa.error, VPNR_ERR_NO_PROPOSAL);
	assert_non_null(strstr(R.sa.why, "not enabled"));
	assert_int_equal(I.sa.error, VPNR_ERR_NO_PROPOSAL);
	teardown_pair();
	aggr_i = 0;
}

/* Run until nothing moves (no packet in flight, no timer armed). */
static void
settle(void)
{
	int guard = 0;

	while (step(&net))
		assert_true(++guard < 5000);
}

/*
 * Phase 2 rekeys from either side, make-before-break: a new pair comes
 * up beside the old one, then the old one is deleted by its SPI.  Both
 * sides starting at once: the Phase 1 initiator's goes on.
 */
static void
test_rekey(void **state)
{
	uint8_t old_i_in[4], old_r_in[4];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		pair(suites[i].ike, suites[i].esp, suites[i].ike, suites[i].esp,
		    "cloud-psk-1", 7 + i, i ? 30 : 0);
		run();
		assert_up();
		assert_int_equal(I.sa.child_gen, 1);
		/* the Phase 1 responder rekeys */
		memcpy(old_i_in, I.sa.child.spi_in, 4);
		memcpy(old_r_in, R.sa.child.spi_in, 4);
		assert_int_equal(vpnr__v1_ike_quick(&R.sa, net.now), VPNR_OK);
		settle();
		assert_up();
		assert_int_equal(I.sa.child_gen, 2);
		assert_int_equal(R.sa.child_gen, 2);
		assert_memory_not_equal(I.sa.child.spi_in, old_i_in, 4);
		assert_memory_not_equal(R.sa.child.spi_in, old_r_in, 4);
		/* R deletes its old inbound SA; I learns which pair went */
		assert_int_equal(vpnr__v1_ike_delete_child(&R.sa, old_r_in,
				     net.now),
		    VPNR_OK);
		settle();
		assert_true(I.sa.child_deleted);
		assert_memory_equal(I.sa.del_spi, old_r_in, 4);
		assert_true(I.sa.child_ready); /* the new pair stays */
		/* the Phase 1 initiator rekeys */
		memcpy(old_i_in, I.sa.child.spi_in, 4);
		assert_int_equal(vpnr__v1_ike_quick(&I.sa, net.now), VPNR_OK);
		settle();
		assert_up();
		assert_int_equal(R.sa.child_gen, 3);
		assert_memory_not_equal(I.sa.child.spi_in, old_i_in, 4);
		/* both at once */
		assert_int_equal(vpnr__v1_ike_quick(&I.sa, net.now), VPNR_OK);
		assert_int_equal(vpnr__v1_ike_quick(&R.sa, net.now), VPNR_OK);
		settle();
		assert_up();
		assert_true(R.sa.qm_abandoned);
		assert_false(I.sa.qm_abandoned);
		assert_int_equal(I.sa.child_gen, 4);
		assert_int_equal(R.sa.child_gen, 4);
		/* and the side that gave way can try again */
		assert_int_equal(vpnr__v1_ike_quick(&R.sa, net.now), VPNR_OK);
		settle();
		assert_up();
		assert_int_equal(I.sa.child_gen, 5);
		teardown_pair();
	}
}

/* The commit bit (Cisco sets it): CONNECTED before the SA is used. */
static void
test_commit_bit(void **state)
{
	unsigned seed;

	(void)state;
	for (seed = 0; seed <= 20; seed++) {
		pair(suites[0].ike, suites[0].esp, suites[0].ike, suites[0].esp,
		    "cloud-psk-1", seed, seed ? 30 : 0);
		I.cfg.commit = 1;
		run();
		settle();
		assert_up();
		assert_int_equal(I.sa.qm.state, V1Q_DONE);
		assert_true(R.sa.qm.commit);
		if (seed == 0) /* MM 6 + QM 3 + CONNECTED */
			assert_int_equal(net.delivered, 10);
		teardown_pair();
	}
}

/*
 * RESPONDER-LIFETIME: a responder with a shorter Phase 2 life says so
 * and the initiator takes it (AWS 3,600 s against a longer proposal);
 * INITIAL-CONTACT from the initiator reaches the responder.
 */
static void
test_lifetimes(void **state)
{
	(void)state;
	pair(suites[1].ike, suites[1].esp, suites[1].ike, suites[1].esp,
	    "cloud-psk-1", 2, 0);
	I.cfg.p2_life.seconds = 86400; /* Alibaba's default */
	R.cfg.p2_life.seconds = 3600;  /* AWS's */
	run();
	assert_true(R.sa.peer_initial_contact);
	assert_int_equal(R.sa.child.life.seconds, 3600);
	assert_int_equal(I.sa.child.life.seconds, 3600);
	teardown_pair();
	/* a shorter proposal is simply accepted, no notify needed */
	pair(suites[1].ike, suites[1].esp, suites[1].ike, suites[1].esp,
	    "cloud-psk-1", 2, 0);
	I.cfg.p2_life.seconds = 1800;
	run();
	assert_int_equal(R.sa.child.life.seconds, 1800);
	assert_int_equal(I.sa.child.life.seconds, 1800);
	teardown_pair();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suites),
		cmocka_unit_test(test_lossy),
		cmocka_unit_test(test_wrong_psk),
		cmocka_unit_test(test_no_proposal),
		cmocka_unit_test(test_silent_peer),
		cmocka_unit_test(test_dpd_and_delete),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_aggressive),
		cmocka_unit_test(test_rekey),
		cmocka_unit_test(test_commit_bit),
		cmocka_unit_test(test_lifetimes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
