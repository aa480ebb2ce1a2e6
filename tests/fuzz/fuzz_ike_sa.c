/*
 * State-machine fuzzer for the IKEv2 responder (in the style of
 * ngtcp2's read_write_pkt): per input, a responder context with one
 * tunnel (PSK, 198.51.100.1 <-> 198.51.100.2, several proposals) and
 * optionally a real initiator context are created through the public
 * API; the rest of the input is a script.
 *
 * Header: flags byte, then 8 seed bytes (missing bytes read as 0).
 *   flags bit 0: create the initiator context
 *   bits 1-2:   initiator IKE proposal (3 = offer all)
 *   bit 3:      initiator forces UDP encapsulation
 *   bit 4:      short rekey timers on both sides
 *   bit 5:      low-entropy rand_bytes (IKE SPI / nonce collisions;
 *               ESP SPIs too with FUZZ_IKE_SA_STRICT)
 *   bit 6:      responder data plane answers sa_add with VPNR_ASYNC
 *   bit 7:      responder demands a COOKIE always
 * Chunks: one op byte (low 3 bits: op, bits 4-7: argument) and data:
 *   0 u16 len, bytes: deliver a raw datagram to the responder (bit 4:
 *     NAT-T port 4500, else 500; bit 5: from an unknown address)
 *   1 u16 n: advance the fake clock by n ms (bit 4: n s) and run
 *     vpnr_ctx_handle_expiry on both contexts
 *   2 deliver the initiator's next datagram to the responder; bit 4:
 *     a count byte k (<= 8), then k times (u16 offset, xor byte)
 *   3 deliver the responder's next datagram to the initiator (bit 4:
 *     drop it instead)
 *   4 drop the initiator's next datagram (bit 4: duplicate it)
 *   5 initiator API (bits 4-5): initiate, rekey CHILD, rekey IKE, close
 *   6 responder API (bits 4-6): rekey CHILD, rekey IKE, close,
 *     initiate, data plane reports soft / hard expiry of the newest
 *     SA, complete the oldest async op with OK / with an error
 *   7 deliver everything queued both ways (bounded)
 * Runs are bounded: at most FZ_MAX_OPS chunks and FZ_MAX_TIME of fake
 * time.  Every OpenSSL and rand_bytes random byte comes from a stream
 * seeded by the input, per context, so scripts replay exactly.
 *
 * The no-op data plane checks invariants and aborts on a violation:
 * sa_add keys present with the lengths the algorithms imply, never two
 * live SAs with the same SPI and direction, no sa_del of an SA that
 * was never added or already deleted; an ESTABLISHED tunnel's current
 * CHILD_SA SPIs are live SAs.  The checks of ike_inv.h run too (ids
 * never reused, events in a sane order, monotonic counters), and at
 * the end each tunnel is deleted: none of its SAs may stay installed.
 *
 * FUZZ_IKE_SA_RECORD=<dir> (environment) makes the program write the
 * seed corpus into <dir> and exit: full handshakes, rekeys and closes
 * driven by the real initiator, plus the same exchanges recorded as
 * raw datagrams (op 0) for a responder alone.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <vpnroute/vpnroute.h>

#include "ike_inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_OPS   256
#define FZ_MAX_TIME  (6 * 3600 * VPNR_SECONDS)
#define FZ_Q         32
#define FZ_MAX_SA    256
#define FZ_MAX_PEND  64
#define FZ_MAX_DGRAM 4096

#define FZ_F_INIT    0x01
#define FZ_F_PROP(f) (((f) >> 1) & 3)
#define FZ_F_ENCAP   0x08
#define FZ_F_SHORT   0x10
#define FZ_F_LOWENT  0x20
#define FZ_F_ASYNC   0x40
#define FZ_F_COOKIE  0x80

#define FZ_RESP 0
#define FZ_INIT 1

struct fz_pkt {
	vpnr_addr local, remote; /* as the receiver sees them */
	uint8_t *data;
	size_t len;
};

struct fz_q {
	struct fz_pkt p[FZ_Q];
	int n;
};

#define SA_LIVE   1
#define SA_DEAD   2
#define SA_FAILED 3

struct fz_sa {
	uint64_t sa_id;
	uint32_t spi;
	uint8_t dir;
	int state;
};

struct fz_side {
	struct fz *f;
	int idx;
	vpnr_ctx *ctx;
	uint64_t tid;
	vpnr_addr addr;
	uint64_t rng;     /* rand_bytes hook */
	uint64_t ssl_rng; /* OpenSSL RAND */
	struct fz_sa sas[FZ_MAX_SA];
	int nsa;
	int overflow;
	uint64_t pend[FZ_MAX_PEND];
	int npend;
	int async;
	int closing; /* vpnr_tunnel_close called, no UP since */
	struct inv inv;
};

struct fz {
	struct fz_side s[2];
	struct fz_q q[2]; /* datagrams to side i */
	vpnr_tstamp now, start;
	uint8_t flags;
	/* Recording (FUZZ_IKE_SA_RECORD). */
	uint8_t *rec;
	size_t rec_len, rec_cap;
};

static struct fz fz;
static struct fz_side *fz_cur; /* whose OpenSSL stream is drawn */
static int fz_verbose;         /* FUZZ_IKE_SA_VERBOSE: print events */
/* FUZZ_IKE_SA_STRICT: also check invariants a known, reported engine
 * bug violates (the replay test runs without). */
static int fz_strict;
static uint64_t fz_other_rng;

static void
fz_check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_ike_sa: invariant violated: %s\n", what);
		abort();
	}
}

static uint64_t
fz_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
fz_fill(uint64_t *s, uint8_t *buf, size_t len)
{
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = fz_rand64(s);
		buf[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
}

/* OpenSSL RAND_METHOD: keys generated by EVP_PKEY_keygen replay too. */
static int
fz_ssl_bytes(unsigned char *buf, int num)
{
	if (num > 0)
		fz_fill(fz_cur != NULL ? &fz_cur->ssl_rng : &fz_other_rng, buf,
		    (size_t)num);
	return 1;
}

static int
fz_ssl_status(void)
{
	return 1;
}

static RAND_METHOD fz_ssl_meth = {
	.bytes = fz_ssl_bytes,
	.pseudorand = fz_ssl_bytes,
	.status = fz_ssl_status,
};

static int
fz_rand(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	struct fz_side *s = ud;
	uint64_t small;

	(void)ctx;
	/* ESP SPIs (4 bytes) keep full entropy unless strict: a known,
	 * reported bug (an SPI reserved by an outstanding CREATE_CHILD_SA
	 * request can be handed out again) would mask everything else. */
	if ((s->f->flags & FZ_F_LOWENT) && (fz_strict || len != 4)) {
		/* One of 256 outputs per call. */
		small = fz_rand64(&s->rng) & 0xff;
		fz_fill(&small, buf, len);
	} else
		fz_fill(&s->rng, buf, len);
	return VPNR_OK;
}

static int
fz_send(vpnr_ctx *ctx, const vpnr_addr *l, const vpnr_addr *r, const uint8_t *d,
    size_t n, void *ud)
{
	struct fz_side *s = ud;
	struct fz_q *q = &s->f->q[!s->idx];
	struct fz_pkt *p;

	(void)ctx;
	fz_check(d != NULL && n > 0 && n <= 65535, "send_datagram length");
	fz_check(l->port != 0 && r->port != 0, "send_datagram ports");
	if (s->f->s[!s->idx].ctx == NULL || q->n >= FZ_Q)
		return VPNR_OK;
	p = &q->p[q->n];
	if ((p->data = malloc(n)) == NULL)
		return VPNR_OK;
	memcpy(p->data, d, n);
	p->len = n;
	p->local = *r;
	p->remote = *l;
	q->n++;
	return VPNR_OK;
}

static struct fz_sa *
fz_sa_find(struct fz_side *s, uint64_t sa_id)
{
	int i;

	for (i = 0; i < s->nsa; i++)
		if (s->sas[i].sa_id == sa_id)
			return &s->sas[i];
	return NULL;
}

static void
fz_check_keys(const vpnr_child_sa *sa)
{
	size_t ek;

	fz_check(sa->protocol == 50, "sa_add protocol");
	fz_check(sa->direction == VPNR_DIR_IN || sa->direction == VPNR_DIR_OUT,
	    "sa_add direction");
	fz_check(sa->spi >= 256, "sa_add SPI in reserved range");
	fz_check(sa->encr_key_bits == 128 || sa->encr_key_bits == 192 ||
		sa->encr_key_bits == 256,
	    "sa_add key bits");
	ek = sa->encr_key_bits / 8;
	fz_check(sa->encr_key != NULL, "sa_add encr_key NULL");
	switch (sa->encr_id) {
	case VPNR_ENCR_AES_GCM_16:
		fz_check(sa->encr_key_len == ek + 4, "sa_add GCM key length");
		fz_check(sa->integ_id == VPNR_INTEG_NONE &&
			sa->integ_key_len == 0,
		    "sa_add integrity with AEAD");
		break;
	case VPNR_ENCR_AES_CBC:
		fz_check(sa->encr_key_len == ek, "sa_add CBC key length");
		fz_check(sa->integ_key != NULL, "sa_add integ_key NULL");
		switch (sa->integ_id) {
		case VPNR_INTEG_HMAC_SHA1_96:
			fz_check(sa->integ_key_len == 20, "sha1 key length");
			break;
		case VPNR_INTEG_HMAC_SHA2_256_128:
			fz_check(sa->integ_key_len == 32, "sha256 key length");
			break;
		case VPNR_INTEG_HMAC_SHA2_384_192:
			fz_check(sa->integ_key_len == 48, "sha384 key length");
			break;
		case VPNR_INTEG_HMAC_SHA2_512_256:
			fz_check(sa->integ_key_len == 64, "sha512 key length");
			break;
		default:
			fz_check(0, "sa_add integ_id");
		}
		break;
	default:
		fz_check(0, "sa_add encr_id");
	}
	if (sa->flags & VPNR_SA_F_UDP_ENCAP)
		fz_check(sa->src.port != 0 && sa->dst.port != 0,
		    "UDP_ENCAP without ports");
	fz_check(sa->n_ts_local == 0 || sa->ts_local != NULL, "ts_local NULL");
	fz_check(sa->n_ts_remote == 0 || sa->ts_remote != NULL,
	    "ts_remote NULL");
}

static int
fz_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct fz_side *s = dp;
	struct fz_sa *e;
	int i;

	(void)ctx;
	if (fz_verbose)
		fprintf(stderr, "%s sa_add id %llu dir %u spi %08x\n",
		    s->idx == FZ_RESP ? "resp" : "init",
		    (unsigned long long)sa->sa_id, sa->direction, sa->spi);
	fz_check_keys(sa);
	inv_sa_add(&s->inv, op, sa);
	fz_check(sa->sa_id != 0, "sa_add sa_id 0");
	fz_check(sa->tunnel_id == s->tid, "sa_add tunnel_id");
	fz_check(fz_sa_find(s, sa->sa_id) == NULL, "sa_add sa_id reused");
	for (i = 0; i < s->nsa; i++)
		fz_check(!(s->sas[i].state == SA_LIVE &&
			     s->sas[i].spi == sa->spi &&
			     s->sas[i].dir == sa->direction),
		    "two live SAs with the same SPI and direction");
	if (s->nsa == FZ_MAX_SA) {
		/* Forget the oldest dead SA; else stop checking. */
		for (i = 0; i < s->nsa && s->sas[i].state == SA_LIVE; i++)
			;
		if (i == s->nsa) {
			s->overflow = 1;
			return VPNR_OK;
		}
		memmove(&s->sas[i], &s->sas[i + 1],
		    (size_t)(s->nsa - i - 1) * sizeof(s->sas[0]));
		s->nsa--;
	}
	e = &s->sas[s->nsa++];
	e->sa_id = sa->sa_id;
	e->spi = sa->spi;
	e->dir = sa->direction;
	e->state = SA_LIVE;
	if (s->async && s->npend < FZ_MAX_PEND) {
		s->pend[s->npend++] = op;
		return VPNR_ASYNC;
	}
	return VPNR_OK;
}

static int
fz_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct fz_side *s = dp;
	struct fz_sa *e;

	(void)ctx;
	inv_sa_del(&s->inv, op, sa);
	if (s->overflow)
		return VPNR_OK;
	e = fz_sa_find(s, sa->sa_id);
	/* Old dead entries may have been forgotten at FZ_MAX_SA. */
	if (e == NULL && s->nsa < FZ_MAX_SA)
		fz_check(0, "sa_del of an SA never added");
	if (e == NULL)
		return VPNR_OK;
	fz_check(e->state != SA_DEAD, "sa_del of an SA already deleted");
	fz_check(e->spi == sa->spi && e->dir == sa->direction,
	    "sa_del SPI/direction differ from sa_add");
	e->state = SA_DEAD;
	return VPNR_OK;
}

static int
fz_pol(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *pol, void *dp)
{
	struct fz_side *s = dp;

	(void)ctx;
	inv_new_id(&s->inv, op, "policy op_id reused");
	fz_check(pol->direction >= VPNR_DIR_IN &&
		pol->direction <= VPNR_DIR_FWD,
	    "policy direction");
	return VPNR_OK;
}

static int
fz_route(vpnr_ctx *ctx, uint64_t op, const vpnr_route *rt, void *dp)
{
	(void)ctx;
	(void)op;
	(void)rt;
	(void)dp;
	return VPNR_OK;
}

static int
fz_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct fz_side *s = ud;

	(void)ctx;
	fz_check(ev->type >= VPNR_TUNNEL_EV_UP &&
		ev->type <= VPNR_TUNNEL_EV_FAILED,
	    "tunnel event type");
	fz_check(ev->tunnel_id == s->tid, "tunnel event id");
	inv_event(&s->inv, ev);
	if (ev->type == VPNR_TUNNEL_EV_UP)
		s->closing = 0;
	/* Known bug (reported): a CHILD_SA rekey answered after
	 * vpnr_tunnel_close installs a fresh CHILD_SA (CHILD_UP). */
	if (fz_strict && ev->type == VPNR_TUNNEL_EV_CHILD_UP)
		fz_check(!s->closing, "CHILD_UP after vpnr_tunnel_close");
	if (fz_verbose)
		fprintf(stderr, "%s t=%llums event %u reason %d notify %u\n",
		    s->idx == FZ_RESP ? "resp" : "init",
		    (unsigned long long)((s->f->now - s->f->start) /
			VPNR_MILLISECONDS),
		    ev->type, ev->reason, ev->notify);
	return VPNR_OK;
}

static const char *fz_ike_props[] = {
	"aes256-sha1-modp1024",
	"aes256gcm16-prfsha256-ecp256",
	"aes256-sha256-x25519",
};

static int
fz_add_tunnel(struct fz *f, int i)
{
	vpnr_tunnel_config *tc;
	size_t k;
	int rv, p;

	if ((rv = vpnr_tunnel_config_new(&tc, NULL)) != VPNR_OK)
		return rv;
	vpnr_tunnel_config_set_addrs(tc, &f->s[i].addr, &f->s[!i].addr);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)"fuzz-psk-0123456789",
	    19);
	if (i == FZ_RESP || FZ_F_PROP(f->flags) == 3) {
		for (k = 0; k < 3; k++)
			vpnr_tunnel_config_add_ike_proposal(tc,
			    fz_ike_props[k]);
		vpnr_tunnel_config_add_esp_proposal(tc, "aes256gcm16");
		vpnr_tunnel_config_add_esp_proposal(tc, "aes256-sha1");
		vpnr_tunnel_config_add_esp_proposal(tc, "aes128gcm16-x25519");
	} else {
		p = FZ_F_PROP(f->flags);
		vpnr_tunnel_config_add_ike_proposal(tc, fz_ike_props[p]);
		vpnr_tunnel_config_add_esp_proposal(tc,
		    p == 0     ? "aes256-sha1" :
			p == 1 ? "aes256gcm16" :
				 "aes128gcm16-x25519");
	}
	if (i == FZ_INIT && (f->flags & FZ_F_ENCAP))
		vpnr_tunnel_config_set_force_encap(tc, 1);
	if (f->flags & FZ_F_SHORT)
		vpnr_tunnel_config_set_rekey(tc, 300 * VPNR_SECONDS,
		    120 * VPNR_SECONDS, 10);
	vpnr_tunnel_config_set_retransmit(tc, 500 * VPNR_MILLISECONDS, 3);
	rv = vpnr_tunnel_add(f->s[i].ctx, tc, NULL, &f->s[i].tid);
	vpnr_tunnel_config_del(tc);
	if (rv == VPNR_OK)
		inv_tunnel_added(&f->s[i].inv, f->s[i].tid);
	return rv;
}

static int
fz_setup(struct fz *f, const uint8_t *hdr, size_t hlen)
{
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	uint64_t seed = 0;
	size_t k;
	int i, rv;

	memset(f, 0, sizeof(*f));
	f->flags = hlen > 0 ? hdr[0] : 0;
	for (k = 1; k < 9 && k < hlen; k++)
		seed |= (uint64_t)hdr[k] << (8 * (k - 1));
	f->start = f->now = 1000 * VPNR_SECONDS;
	fz_other_rng = seed ^ 0x5555;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = fz_send;
	cb.rand_bytes = fz_rand;
	cb.tunnel_event = fz_event;
	memset(&dp, 0, sizeof(dp));
	dp.sa_add = fz_sa_add;
	dp.sa_del = fz_sa_del;
	dp.policy_add = fz_pol;
	dp.policy_del = fz_pol;
	dp.route_add = fz_route;
	dp.route_del = fz_route;
	vpnr_addr_parse(&f->s[FZ_RESP].addr, "198.51.100.1");
	vpnr_addr_parse(&f->s[FZ_INIT].addr, "198.51.100.2");
	for (i = 0; i < 2; i++) {
		struct fz_side *s = &f->s[i];

		s->f = f;
		s->idx = i;
		inv_init(&s->inv,
		    i == FZ_RESP ? "fuzz_ike_sa responder" :
				   "fuzz_ike_sa initiator");
		s->rng = seed * 2 + (uint64_t)i;
		s->ssl_rng = seed * 2 + (uint64_t)i + 0x1000;
		s->async = i == FZ_RESP && (f->flags & FZ_F_ASYNC);
		if (i == FZ_INIT && !(f->flags & FZ_F_INIT))
			break;
		fz_cur = s;
		if ((rv = vpnr_config_new(&cfg, NULL)) != VPNR_OK)
			return rv;
		vpnr_config_set_log_level(cfg, VPNR_LOG_ERR);
		if (i == FZ_RESP && (f->flags & FZ_F_COOKIE))
			vpnr_config_set_cookie_threshold(cfg, 0);
		rv = vpnr_ctx_new(&s->ctx, cfg, &cb, s, &dp, s, NULL);
		vpnr_config_del(cfg);
		if (rv != VPNR_OK)
			return rv;
		if ((rv = fz_add_tunnel(f, i)) != VPNR_OK)
			return rv;
	}
	fz_cur = NULL;
	return VPNR_OK;
}

static void
fz_check_state(struct fz_side *s)
{
	vpnr_tunnel_info ti;
	int i, in = 0, out = 0;

	if (s->ctx == NULL)
		return;
	inv_check(&s->inv, s->ctx);
	if (s->overflow)
		return;
	if (vpnr_tunnel_get_info(s->ctx, s->tid, &ti) != VPNR_OK)
		return;
	fz_check(ti.state <= VPNR_TUNNEL_CLOSING, "tunnel state");
	if (ti.state != VPNR_TUNNEL_ESTABLISHED || ti.child_spi_in == 0)
		return;
	for (i = 0; i < s->nsa; i++) {
		if (s->sas[i].state != SA_LIVE)
			continue;
		if (s->sas[i].dir == VPNR_DIR_IN &&
		    s->sas[i].spi == ti.child_spi_in)
			in = 1;
		if (s->sas[i].dir == VPNR_DIR_OUT &&
		    s->sas[i].spi == ti.child_spi_out)
			out = 1;
	}
	fz_check(in && out, "current CHILD_SA SPIs are not live SAs");
}

static void
fz_free(struct fz *f)
{
	int i, k;

	for (i = 0; i < 2; i++) {
		for (k = 0; k < f->q[i].n; k++)
			free(f->q[i].p[k].data);
		f->q[i].n = 0;
	}
	/* Deleting the tunnels removes every SA they installed. */
	for (i = 0; i < 2; i++) {
		fz_cur = &f->s[i];
		if (f->s[i].ctx != NULL && f->s[i].tid != 0 &&
		    vpnr_tunnel_del(f->s[i].ctx, f->s[i].tid, f->now) ==
			VPNR_OK)
			inv_tunnel_gone(&f->s[i].inv, f->s[i].tid);
	}
	for (i = 0; i < 2; i++) {
		for (k = 0; k < f->q[i].n; k++)
			free(f->q[i].p[k].data);
		f->q[i].n = 0;
	}
	for (i = 0; i < 2; i++) {
		fz_cur = &f->s[i];
		vpnr_ctx_del(f->s[i].ctx);
		f->s[i].ctx = NULL;
	}
	fz_cur = NULL;
}

static void
fz_rec(struct fz *f, const void *d, size_t n)
{
	uint8_t *p;

	if (f->rec_cap == 0)
		return;
	if (f->rec_len + n > f->rec_cap) {
		if ((p = realloc(f->rec, (f->rec_len + n) * 2)) == NULL)
			abort();
		f->rec = p;
		f->rec_cap = (f->rec_len + n) * 2;
	}
	memcpy(f->rec + f->rec_len, d, n);
	f->rec_len += n;
}

static void
fz_deliver(struct fz *f, int to, const vpnr_addr *l, const vpnr_addr *r,
    const uint8_t *d, size_t n)
{
	uint8_t h[3];

	if (f->s[to].ctx == NULL)
		return;
	if (to == FZ_RESP) {
		h[0] = (uint8_t)(l->port == 4500 ? 0x10 : 0x00);
		h[1] = (uint8_t)(n >> 8);
		h[2] = (uint8_t)n;
		fz_rec(f, h, 3);
		fz_rec(f, d, n);
	}
	fz_cur = &f->s[to];
	vpnr_ctx_recv_datagram(f->s[to].ctx, l, r, d, n, f->now);
	fz_cur = NULL;
	fz_check_state(&f->s[to]);
}

static int
fz_pop(struct fz *f, int to, struct fz_pkt *p)
{
	struct fz_q *q = &f->q[to];

	if (q->n == 0)
		return 0;
	*p = q->p[0];
	memmove(&q->p[0], &q->p[1], (size_t)(q->n - 1) * sizeof(q->p[0]));
	q->n--;
	return 1;
}

static void
fz_advance(struct fz *f, vpnr_tstamp dt)
{
	uint8_t h[3];
	int i;

	if (f->now - f->start + dt > FZ_MAX_TIME)
		dt = FZ_MAX_TIME - (f->now - f->start);
	/* Recorded in whole seconds (bit 4) or in ms. */
	if (dt % VPNR_SECONDS == 0) {
		h[0] = 0x11;
		h[1] = (uint8_t)((dt / VPNR_SECONDS) >> 8);
		h[2] = (uint8_t)(dt / VPNR_SECONDS);
	} else {
		h[0] = 0x01;
		h[1] = (uint8_t)((dt / VPNR_MILLISECONDS) >> 8);
		h[2] = (uint8_t)(dt / VPNR_MILLISECONDS);
	}
	fz_rec(f, h, 3);
	f->now += dt;
	for (i = 0; i < 2; i++) {
		if (f->s[i].ctx == NULL)
			continue;
		fz_cur = &f->s[i];
		if (vpnr_ctx_get_expiry(f->s[i].ctx) <= f->now)
			vpnr_ctx_handle_expiry(f->s[i].ctx, f->now);
		fz_cur = NULL;
		fz_check_state(&f->s[i]);
	}
}

static void
fz_flush(struct fz *f)
{
	struct fz_pkt p;
	int n, i;

	for (n = 0; n < 64; n++) {
		for (i = 0; i < 2; i++) {
			if (!fz_pop(f, i, &p))
				continue;
			fz_deliver(f, i, &p.local, &p.remote, p.data, p.len);
			free(p.data);
		}
		if (f->q[0].n == 0 && f->q[1].n == 0)
			break;
	}
}

static void
fz_api(struct fz *f, int side, int what)
{
	struct fz_side *s = &f->s[side];
	struct fz_sa *e = NULL;
	int i, k;

	if (s->ctx == NULL)
		return;
	if (side == FZ_RESP) {
		k = 0x06 | what << 4;
		fz_rec(f, &(uint8_t){ (uint8_t)k }, 1);
	}
	fz_cur = s;
	switch (what) {
	case 0:
		vpnr_tunnel_rekey(s->ctx, s->tid, VPNR_REKEY_CHILD, f->now);
		break;
	case 1:
		vpnr_tunnel_rekey(s->ctx, s->tid, VPNR_REKEY_IKE, f->now);
		break;
	case 2:
		s->closing = 1;
		vpnr_tunnel_close(s->ctx, s->tid, f->now);
		break;
	case 3:
		s->closing = 0;
		vpnr_tunnel_initiate(s->ctx, s->tid, f->now);
		break;
	case 4:
	case 5:
		for (i = s->nsa - 1; i >= 0; i--)
			if (s->sas[i].state == SA_LIVE) {
				e = &s->sas[i];
				break;
			}
		if (e != NULL)
			vpnr_dp_sa_expired(s->ctx, e->sa_id, what == 5, f->now);
		break;
	case 6:
	case 7:
		if (s->npend == 0)
			break;
		k = what == 6 ? VPNR_OK : VPNR_ERR_DATAPLANE;
		{
			uint64_t op = s->pend[0];

			memmove(&s->pend[0], &s->pend[1],
			    (size_t)(s->npend - 1) * sizeof(s->pend[0]));
			s->npend--;
			inv_complete(&s->inv, op, k);
			vpnr_dp_complete(s->ctx, op, k, f->now);
		}
		break;
	}
	fz_cur = NULL;
	fz_check_state(s);
}

static void
fz_run(struct fz *f, const uint8_t *data, size_t size)
{
	struct fz_pkt p;
	vpnr_addr l, r;
	size_t off = 0, len;
	unsigned ops = 0;
	uint8_t op, k;
	uint16_t v;

	while (off < size && ops++ < FZ_MAX_OPS) {
		op = data[off++];
		switch (op & 7) {
		case 0:
			if (size - off < 2)
				return;
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (len > size - off)
				len = size - off;
			if (len > FZ_MAX_DGRAM)
				len = FZ_MAX_DGRAM;
			l = f->s[FZ_RESP].addr;
			r = f->s[FZ_INIT].addr;
			if (op & 0x20)
				vpnr_addr_parse(&r, "203.0.113.9");
			l.port = r.port = (op & 0x10) ? 4500 : 500;
			fz_deliver(f, FZ_RESP, &l, &r, data + off, len);
			off += len;
			break;
		case 1:
			if (size - off < 2)
				return;
			v = (uint16_t)(data[off] << 8 | data[off + 1]);
			off += 2;
			fz_advance(f,
			    (vpnr_tstamp)v *
				((op & 0x10) ? VPNR_SECONDS :
					       VPNR_MILLISECONDS));
			break;
		case 2:
			k = 0;
			if (op & 0x10) {
				if (size - off < 1)
					return;
				k = data[off++] % 9;
				if (size - off < (size_t)k * 3)
					return;
			}
			if (!fz_pop(f, FZ_RESP, &p)) {
				off += (size_t)k * 3;
				break;
			}
			for (; k > 0; k--, off += 3)
				p.data[((size_t)data[off] << 8 |
					   data[off + 1]) %
				    p.len] ^= data[off + 2];
			fz_deliver(f, FZ_RESP, &p.local, &p.remote, p.data,
			    p.len);
			free(p.data);
			break;
		case 3:
			if (!fz_pop(f, FZ_INIT, &p))
				break;
			if (!(op & 0x10))
				fz_deliver(f, FZ_INIT, &p.local, &p.remote,
				    p.data, p.len);
			free(p.data);
			break;
		case 4:
			if (!fz_pop(f, FZ_RESP, &p))
				break;
			if (op & 0x10) {
				fz_deliver(f, FZ_RESP, &p.local, &p.remote,
				    p.data, p.len);
				fz_deliver(f, FZ_RESP, &p.local, &p.remote,
				    p.data, p.len);
			}
			free(p.data);
			break;
		case 5:
			fz_api(f, FZ_INIT,
			    (const int[]){ 3, 0, 1, 2 }[(op >> 4) & 3]);
			break;
		case 6:
			fz_api(f, FZ_RESP, (op >> 4) & 7);
			break;
		case 7:
			fz_flush(f);
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	size_t hlen = size < 9 ? size : 9;

	if (!once) {
		fz_strict = getenv("FUZZ_IKE_SA_STRICT") != NULL;
		fz_verbose = getenv("FUZZ_IKE_SA_VERBOSE") != NULL;
		RAND_set_rand_method(&fz_ssl_meth);
		once = 1;
	}
	if (fz_setup(&fz, data, hlen) == VPNR_OK)
		fz_run(&fz, data + hlen, size - hlen);
	fz_free(&fz);
	return 0;
}

/* ---- seed corpus generator ---- */

struct fz_script {
	const char *name;
	uint8_t flags;
	const uint8_t *ops;
	size_t n;
};

#define OPS(...) \
	(const uint8_t[]){ __VA_ARGS__ }, \
	    sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Handshake: initiate, INIT req/resp, AUTH req/resp. */
#define HS 0x05, 0x02, 0x03, 0x02, 0x03
/* One exchange initiated by the initiator / by the responder. */
#define IX     0x02, 0x03
#define RX     0x03, 0x02
#define SEC(n) 0x11, (uint8_t)((n) >> 8), (uint8_t)(n)

static const struct fz_script fz_scripts[] = {
	{ "hs_modp1024", 0x01, OPS(HS) },
	{ "hs_ecp256", 0x03, OPS(HS) },
	{ "hs_x25519", 0x05, OPS(HS) },
	{ "hs_all", 0x07, OPS(HS) },
	{ "hs_encap", 0x09, OPS(HS) },
	{ "hs_encap_gcm", 0x0b, OPS(HS) },
	{ "hs_cookie", 0x81, OPS(0x05, IX, IX, IX) },
	{ "hs_async", 0x43, OPS(HS, 0x66, 0x66, 0x66, 0x66) },
	{ "hs_async_fail", 0x43, OPS(HS, 0x76, 0x66) },
	{ "hs_rekey_child_i", 0x01, OPS(HS, 0x15, IX, 0x15, IX) },
	{ "hs_rekey_child_pfs", 0x05, OPS(HS, 0x15, IX) },
	{ "hs_rekey_ike_i", 0x03, OPS(HS, 0x25, IX, IX) },
	{ "hs_rekey_child_r", 0x01, OPS(HS, 0x06, RX, RX) },
	{ "hs_rekey_ike_r", 0x05, OPS(HS, 0x16, RX, RX) },
	{ "hs_close_i", 0x01, OPS(HS, 0x35, IX) },
	{ "hs_close_r", 0x03, OPS(HS, 0x26, RX) },
	{ "hs_reinit_r", 0x01, OPS(HS, 0x26, RX, 0x36, RX, RX) },
	{ "hs_dpd", 0x01, OPS(HS, SEC(11), RX, SEC(11), 0x07) },
	{ "hs_short_timers", 0x13,
	    OPS(HS, SEC(130), 0x07, SEC(200), 0x07, SEC(400), 0x07) },
	{ "hs_soft_hard", 0x01, OPS(HS, 0x46, RX, 0x07, 0x56, 0x07) },
	{ "hs_collide_child", 0x01, OPS(HS, 0x15, 0x06, 0x07, 0x07, 0x07) },
	{ "hs_collide_ike", 0x05, OPS(HS, 0x25, 0x16, 0x07, 0x07, 0x07) },
	{ "hs_collide_close", 0x01, OPS(HS, 0x35, 0x26, 0x07, 0x07) },
	{ "hs_collide_init", 0x01, OPS(0x05, 0x36, 0x07, 0x07, 0x07) },
	{ "hs_rekey_then_close", 0x13,
	    OPS(HS, 0x15, 0x02, 0x35, 0x07, 0x07, SEC(20), 0x07) },
	{ "hs_lowent", 0x21, OPS(HS, 0x15, IX, 0x15, IX, 0x25, IX, IX) },
	{ "hs_lost_resp", 0x01, OPS(0x05, 0x02, 0x13, SEC(1), IX, IX) },
	{ "hs_dup", 0x01, OPS(0x05, 0x14, 0x03, 0x14, 0x03, 0x07) },
	{ "hs_timeout", 0x01, OPS(0x05, 0x02, SEC(2), SEC(2), SEC(40)) },
	{ "hs_silent_peer", 0x01, OPS(HS, SEC(12), SEC(12), SEC(12), SEC(40)) },
};

static void
fz_write(const char *dir, const char *name, const uint8_t *d, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL || fwrite(d, 1, n, fp) != n) {
		perror(path);
		exit(1);
	}
	fclose(fp);
}

__attribute__((constructor)) static void
fz_record_main(void)
{
	const char *dir = getenv("FUZZ_IKE_SA_RECORD");
	uint8_t buf[512], hdr[9];
	char name[128];
	size_t i, n;

	fz_verbose = getenv("FUZZ_IKE_SA_VERBOSE") != NULL;
	if (dir == NULL)
		return;
	RAND_set_rand_method(&fz_ssl_meth);
	for (i = 0; i < sizeof(fz_scripts) / sizeof(fz_scripts[0]); i++) {
		const struct fz_script *sc = &fz_scripts[i];

		memset(hdr, 0, sizeof(hdr));
		hdr[0] = sc->flags;
		hdr[1] = (uint8_t)(i + 1);
		memcpy(buf, hdr, 9);
		memcpy(buf + 9, sc->ops, sc->n);
		n = 9 + sc->n;
		fz_write(dir, sc->name, buf, n);
		/* The same run, recorded as raw datagrams for a
		 * responder alone (no initiator context). */
		if (fz_setup(&fz, buf, 9) != VPNR_OK)
			abort();
		hdr[0] = (uint8_t)(sc->flags & ~FZ_F_INIT);
		fz.rec_cap = 1;
		fz_rec(&fz, hdr, 9);
		fz_run(&fz, sc->ops, sc->n);
		snprintf(name, sizeof(name), "raw_%s", sc->name);
		fz_write(dir, name, fz.rec, fz.rec_len);
		fz_free(&fz);
		free(fz.rec);
		fz.rec = NULL;
		fz.rec_len = fz.rec_cap = 0;
	}
	exit(0);
}
