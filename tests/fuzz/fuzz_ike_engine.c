/*
 * Fuzz the IKEv2 (or, built as fuzz_ikev1_engine, the IKEv1) state
 * machines through the public API: two contexts (initiator side 0,
 * responder side 1) wired back to back in the harness; the input is a
 * script of operations on the wire and the API, so the fuzzer explores
 * orders, losses, duplicates, corruption, collisions and timeouts with
 * real encrypted exchanges.  Each operation is one byte (low 4 bits:
 * op, bit 4: side) plus arguments:
 *   0 deliver the next queued datagram     1 drop it
 *   2 duplicate it (deliver twice)         3 X Y: xor byte X with Y,
 *                                            then deliver
 *   4 N: advance the clock by N seconds    5 rekey CHILD_SA (side)
 *   6 rekey IKE SA (side)                  7 close (side)
 *   8 initiate (side)                      9 L bytes: raw datagram to
 *                                            side (bit 5: NAT-T port)
 *  10 deliver everything queued           11 move the next datagram to
 *                                            the back (reorder)
 *  12 DELETE the tunnel and re-add it (side)
 * Randomness comes from a fixed seed.  After every operation the
 * invariants of ike_inv.h are checked on both sides (a tracking data
 * plane, ids never reused, sane event order, monotonic counters), and
 * at the end every tunnel is deleted and nothing may stay installed;
 * besides: no crash, no leak, no sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "ike_inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ikev1_engine.c builds this harness with IKEv1 tunnels. */
#ifndef FZ_IKE_VERSION
#define FZ_IKE_VERSION 2
#endif

#define FZ_Q 32

struct fz_pkt {
	int to;
	vpnr_addr local, remote;
	uint8_t *data;
	size_t len;
};

struct fz_side {
	vpnr_ctx *ctx;
	uint64_t tid;
	uint64_t rng;
	int idx;
	vpnr_addr addr;
	struct fz *f;
	struct inv inv;
};

struct fz {
	struct fz_side s[2];
	struct fz_pkt q[FZ_Q];
	int nq;
	vpnr_tstamp now;
};

static uint64_t
fz_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
fz_rand(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	struct fz_side *s = ud;
	uint64_t r = 0;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = fz_rand64(&s->rng);
		buf[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
	return VPNR_OK;
}

static int
fz_send(vpnr_ctx *ctx, const vpnr_addr *l, const vpnr_addr *r, const uint8_t *d,
    size_t n, void *ud)
{
	struct fz_side *s = ud;
	struct fz *f = s->f;
	struct fz_pkt *p;

	(void)ctx;
	if (f->nq >= FZ_Q)
		return VPNR_OK;
	p = &f->q[f->nq];
	if ((p->data = malloc(n)) == NULL)
		return VPNR_OK;
	memcpy(p->data, d, n);
	p->len = n;
	p->to = !s->idx;
	p->local = *r;
	p->remote = *l;
	f->nq++;
	return VPNR_OK;
}

static int
fz_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct fz_side *s = dp;

	(void)ctx;
	inv_sa_add(&s->inv, op, sa);
	return VPNR_OK;
}

static int
fz_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct fz_side *s = dp;

	(void)ctx;
	inv_sa_del(&s->inv, op, sa);
	return VPNR_OK;
}

static int
fz_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct fz_side *s = ud;

	(void)ctx;
	inv_event(&s->inv, ev);
	return VPNR_OK;
}

static void
fz_del_tunnel(struct fz *f, int i)
{
	uint64_t tid = f->s[i].tid;

	if (tid != 0 && vpnr_tunnel_del(f->s[i].ctx, tid, f->now) == VPNR_OK)
		inv_tunnel_gone(&f->s[i].inv, tid);
	f->s[i].tid = 0;
}

static void
fz_pop(struct fz *f, struct fz_pkt *p)
{
	*p = f->q[0];
	memmove(&f->q[0], &f->q[1], (size_t)(f->nq - 1) * sizeof(f->q[0]));
	f->nq--;
}

static void
fz_deliver(struct fz *f, struct fz_pkt *p)
{
	vpnr_ctx_recv_datagram(f->s[p->to].ctx, &p->local, &p->remote, p->data,
	    p->len, f->now);
}

static void
fz_add_tunnel(struct fz *f, int i)
{
	vpnr_tunnel_config *tc;

	if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK)
		return;
	vpnr_tunnel_config_set_addrs(tc, &f->s[i].addr, &f->s[!i].addr);
	vpnr_tunnel_config_set_psk(tc, (const uint8_t *)"fuzz", 4);
#if FZ_IKE_VERSION == 1
	vpnr_tunnel_config_set_ike_version(tc, 1, 0);
	vpnr_tunnel_config_add_ike_proposal(tc, "aes128-sha256-ecp256");
	vpnr_tunnel_config_add_ike_proposal(tc, "aes128-sha1-modp1024");
	vpnr_tunnel_config_add_esp_proposal(tc, "aes128gcm16-ecp256");
#else
	vpnr_tunnel_config_add_ike_proposal(tc, "aes128gcm16-prfsha256-x25519");
	vpnr_tunnel_config_add_ike_proposal(tc, "aes128-sha256-ecp256");
	vpnr_tunnel_config_add_esp_proposal(tc, "aes128gcm16-x25519");
#endif
	vpnr_tunnel_config_set_force_encap(tc, i == 0);
	vpnr_tunnel_config_set_retransmit(tc, VPNR_SECONDS, 2);
	if (vpnr_tunnel_add(f->s[i].ctx, tc, NULL, &f->s[i].tid) == VPNR_OK)
		inv_tunnel_added(&f->s[i].inv, f->s[i].tid);
	vpnr_tunnel_config_del(tc);
}

static int
fz_setup(struct fz *f)
{
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	int i;

	memset(f, 0, sizeof(*f));
	f->now = 1000 * VPNR_SECONDS;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = fz_send;
	cb.rand_bytes = fz_rand;
	cb.tunnel_event = fz_event;
	memset(&dp, 0, sizeof(dp));
	dp.sa_add = fz_sa_add;
	dp.sa_del = fz_sa_del;
	vpnr_addr_parse(&f->s[0].addr, "192.0.2.1");
	vpnr_addr_parse(&f->s[1].addr, "198.51.100.2");
	for (i = 0; i < 2; i++) {
		f->s[i].idx = i;
		f->s[i].f = f;
		inv_init(&f->s[i].inv,
		    i == 0 ? "fuzz_ike_engine initiator" :
			     "fuzz_ike_engine responder");
		f->s[i].rng = 12345 + (uint64_t)i;
		if (vpnr_config_new(&cfg, NULL) != VPNR_OK)
			return -1;
		vpnr_config_set_log_level(cfg, VPNR_LOG_ERR);
		vpnr_config_set_cookie_threshold(cfg, i == 1 ? 1 : 64);
		if (vpnr_ctx_new(&f->s[i].ctx, cfg, &cb, &f->s[i], &dp,
			&f->s[i], NULL) != VPNR_OK) {
			vpnr_config_del(cfg);
			return -1;
		}
		vpnr_config_del(cfg);
	}
	fz_add_tunnel(f, 0);
	fz_add_tunnel(f, 1);
	return 0;
}

static void
fz_free(struct fz *f)
{
	int i;

	for (i = 0; i < f->nq; i++)
		free(f->q[i].data);
	f->nq = 0;
	/* Deleting the tunnels removes every SA they installed. */
	for (i = 0; i < 2; i++)
		if (f->s[i].ctx != NULL)
			fz_del_tunnel(f, i);
	for (i = 0; i < f->nq; i++)
		free(f->q[i].data);
	f->nq = 0;
	for (i = 0; i < 2; i++)
		vpnr_ctx_del(f->s[i].ctx);
}

static void
fz_timers(struct fz *f)
{
	int i;

	for (i = 0; i < 2; i++)
		if (f->s[i].ctx != NULL &&
		    vpnr_ctx_get_expiry(f->s[i].ctx) <= f->now)
			vpnr_ctx_handle_expiry(f->s[i].ctx, f->now);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	struct fz_pkt p;
	size_t off = 0, len, n = 0;
	vpnr_addr l, r;
	uint8_t op, x, y;
	int side;

	if (fz_setup(&f) != 0) {
		fz_free(&f);
		return 0;
	}
	while (off < size && n++ < 4096) {
		op = data[off++];
		side = (op >> 4) & 1;
		switch (op & 0x0f) {
		case 0:
		case 2:
			if (f.nq == 0)
				break;
			fz_pop(&f, &p);
			fz_deliver(&f, &p);
			if ((op & 0x0f) == 2)
				fz_deliver(&f, &p);
			free(p.data);
			break;
		case 1:
			if (f.nq == 0)
				break;
			fz_pop(&f, &p);
			free(p.data);
			break;
		case 3:
			if (off + 2 > size)
				goto done;
			x = data[off++];
			y = data[off++];
			if (f.nq == 0)
				break;
			fz_pop(&f, &p);
			p.data[x % p.len] ^= y;
			fz_deliver(&f, &p);
			free(p.data);
			break;
		case 4:
			if (off + 1 > size)
				goto done;
			f.now += (vpnr_tstamp)data[off++] * VPNR_SECONDS;
			fz_timers(&f);
			break;
		case 5:
			vpnr_tunnel_rekey(f.s[side].ctx, f.s[side].tid,
			    VPNR_REKEY_CHILD, f.now);
			break;
		case 6:
			vpnr_tunnel_rekey(f.s[side].ctx, f.s[side].tid,
			    VPNR_REKEY_IKE, f.now);
			break;
		case 7:
			vpnr_tunnel_close(f.s[side].ctx, f.s[side].tid, f.now);
			break;
		case 8:
			vpnr_tunnel_initiate(f.s[side].ctx, f.s[side].tid,
			    f.now);
			break;
		case 9:
			if (off + 1 > size)
				goto done;
			len = data[off++];
			if (len > size - off)
				len = size - off;
			l = f.s[side].addr;
			r = f.s[!side].addr;
			l.port = r.port = (op & 0x20) ? 4500 : 500;
			vpnr_ctx_recv_datagram(f.s[side].ctx, &l, &r,
			    data + off, len, f.now);
			off += len;
			break;
		case 10:
			while (f.nq > 0) {
				fz_pop(&f, &p);
				fz_deliver(&f, &p);
				free(p.data);
			}
			break;
		case 11:
			if (f.nq < 2)
				break;
			fz_pop(&f, &p);
			f.q[f.nq++] = p;
			break;
		case 12:
			fz_del_tunnel(&f, side);
			fz_add_tunnel(&f, side);
			break;
		default:
			break;
		}
		inv_check(&f.s[0].inv, f.s[0].ctx);
		inv_check(&f.s[1].inv, f.s[1].ctx);
	}
done:
	fz_free(&f);
	return 0;
}
