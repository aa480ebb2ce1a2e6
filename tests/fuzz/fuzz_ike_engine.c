/*
 * Fuzz the IKEv2 (or, built as fuzz_ikev1_engine, the IKEv1) state
 * machines through the public API: two contexts (initiator side 0,
 * responder side 1) wired back to back in the harness; the input is a
 * script of operations on the wire and the API, so the fuzzer explores
 * orders, losses, duplicates, corruption, collisions and timeouts with
 * real encrypted exchanges (the wire is tests/helpers/ike_wire.c, its
 * queue bounded at 32 and stepped by the script only).  Each operation is one
 * byte (low 4 bits: op, bit 4: side) plus arguments: 0 deliver the next queued
 * datagram     1 drop it 2 duplicate it (deliver twice)         3 X Y: xor byte
 * X with Y, then deliver 4 N: advance the clock by N seconds    5 rekey
 * CHILD_SA (side) 6 rekey IKE SA (side)                  7 close (side) 8
 * initiate (side)                      9 L bytes: raw datagram to side (bit 5:
 * NAT-T port) 10 deliver everything queued           11 move the next datagram
 * to the back (reorder) 12 DELETE the tunnel and re-add it (side) Randomness
 * comes from a fixed seed.  After every operation the invariants of ike_inv.h
 * are checked on both sides (a tracking data plane, ids never reused, sane
 * event order, monotonic counters), and at the end every tunnel is deleted and
 * nothing may stay installed; besides: no crash, no leak, no sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "ike_inv.h"
#include "helpers/ike_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ikev1_engine.c builds this harness with IKEv1 tunnels. */
#ifndef FZ_IKE_VERSION
#define FZ_IKE_VERSION 2
#endif

/* The invariants' tracking data plane, one per side (w.user). */
static int
fz_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	struct inv *inv = s->w->user;

	(void)ctx;
	inv_sa_add(&inv[s->idx], op, sa);
	return VPNR_OK;
}

static int
fz_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	struct inv *inv = s->w->user;

	(void)ctx;
	inv_sa_del(&inv[s->idx], op, sa);
	return VPNR_OK;
}

static const vpnr_dataplane fz_dp = {
	.sa_add = fz_sa_add,
	.sa_del = fz_sa_del,
};

static int
fz_event(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	struct inv *inv = s->w->user;

	inv_event(&inv[s->idx], ev);
	return VPNR_OK;
}

/* The responder sends a COOKIE at once. */
static void
fz_config(vpnr_config *cfg, int side, void *arg)
{
	(void)arg;
	vpnr_config_set_cookie_threshold(cfg, side == 1 ? 1 : 64);
}

static void
fz_del_tunnel(struct ikew *w, struct inv *inv, int i)
{
	uint64_t tid = w->s[i].tunnel_id;

	if (tid != 0 && vpnr_tunnel_del(w->s[i].ctx, tid, w->now) == VPNR_OK)
		inv_tunnel_gone(&inv[i], tid);
	w->s[i].tunnel_id = 0;
}

static void
fz_add_tunnel(struct ikew *w, struct inv *inv, int i)
{
	if (ikew_add_tunnel(w, i) == VPNR_OK)
		inv_tunnel_added(&inv[i], w->s[i].tunnel_id);
	else
		w->s[i].tunnel_id = 0;
}

static int
fz_setup(struct ikew *w, struct inv *inv)
{
#if FZ_IKE_VERSION == 1
	static const char *const ike[] = { "aes128-sha256-ecp256",
		"aes128-sha1-modp1024", NULL };
	static const char *const esp[] = { "aes128gcm16-ecp256", NULL };
#else
	static const char *const ike[] = { "aes128gcm16-prfsha256-x25519",
		"aes128-sha256-ecp256", NULL };
	static const char *const esp[] = { "aes128gcm16-x25519", NULL };
#endif
	struct ikew_opts o;
	int i, rv;

	memset(&o, 0, sizeof(o));
	o.cookie_threshold = -1;
	o.ike_version = FZ_IKE_VERSION == 1 ? 1 : 0;
	o.ike = ike;
	o.esp = esp;
	o.psk = "fuzz";
	o.max_queue = 32;
	o.dp = &fz_dp;
	o.config = fz_config;
	o.rng[0] = 12345;
	o.rng[1] = 12346;
	rv = ikew_new(w, &o);
	w->user = inv;
	for (i = 0; i < 2; i++) {
		inv_init(&inv[i],
		    i == 0 ? "fuzz_ike_engine initiator" :
			     "fuzz_ike_engine responder");
		w->s[i].on_event = fz_event;
		if (rv != VPNR_OK)
			continue;
		vpnr_tunnel_config_set_force_encap(w->s[i].tc, i == 0);
		vpnr_tunnel_config_set_retransmit(w->s[i].tc, VPNR_SECONDS, 2);
	}
	if (rv != VPNR_OK)
		return -1;
	fz_add_tunnel(w, inv, 0);
	fz_add_tunnel(w, inv, 1);
	return 0;
}

static void
fz_free(struct ikew *w, struct inv *inv)
{
	int i;

	ikew_clear(w);
	/* Deleting the tunnels removes every SA they installed. */
	for (i = 0; i < 2; i++)
		if (w->s[i].ctx != NULL)
			fz_del_tunnel(w, inv, i);
	ikew_free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ikew w;
	static struct inv inv[2];
	struct ikew_pkt *p;
	size_t off = 0, len, n = 0;
	vpnr_addr l, r;
	uint8_t op, x, y;
	int side;

	if (fz_setup(&w, inv) != 0) {
		fz_free(&w, inv);
		return 0;
	}
	while (off < size && n++ < 4096) {
		op = data[off++];
		side = (op >> 4) & 1;
		switch (op & 0x0f) {
		case 0:
		case 2:
			if ((p = ikew_pop(&w)) == NULL)
				break;
			ikew_deliver(&w, p);
			if ((op & 0x0f) == 2)
				ikew_deliver(&w, p);
			free(p);
			break;
		case 1:
			free(ikew_pop(&w));
			break;
		case 3:
			if (off + 2 > size)
				goto done;
			x = data[off++];
			y = data[off++];
			if ((p = ikew_pop(&w)) == NULL)
				break;
			p->data[x % p->len] ^= y;
			ikew_deliver(&w, p);
			free(p);
			break;
		case 4:
			if (off + 1 > size)
				goto done;
			w.now += (vpnr_tstamp)data[off++] * VPNR_SECONDS;
			ikew_timers(&w);
			break;
		case 5:
			vpnr_tunnel_rekey(w.s[side].ctx, w.s[side].tunnel_id,
			    VPNR_REKEY_CHILD, w.now);
			break;
		case 6:
			vpnr_tunnel_rekey(w.s[side].ctx, w.s[side].tunnel_id,
			    VPNR_REKEY_IKE, w.now);
			break;
		case 7:
			vpnr_tunnel_close(w.s[side].ctx, w.s[side].tunnel_id,
			    w.now);
			break;
		case 8:
			vpnr_tunnel_initiate(w.s[side].ctx, w.s[side].tunnel_id,
			    w.now);
			break;
		case 9:
			if (off + 1 > size)
				goto done;
			len = data[off++];
			if (len > size - off)
				len = size - off;
			l = w.s[side].addr;
			r = w.s[!side].addr;
			l.port = r.port = (op & 0x20) ? 4500 : 500;
			vpnr_ctx_recv_datagram(w.s[side].ctx, &l, &r,
			    data + off, len, w.now);
			off += len;
			break;
		case 10:
			while ((p = ikew_pop(&w)) != NULL) {
				ikew_deliver(&w, p);
				free(p);
			}
			break;
		case 11:
			if (w.nq < 2)
				break;
			ikew_requeue(&w, ikew_pop(&w));
			break;
		case 12:
			fz_del_tunnel(&w, inv, side);
			fz_add_tunnel(&w, inv, side);
			break;
		default:
			break;
		}
		inv_check(&inv[0], w.s[0].ctx);
		inv_check(&inv[1], w.s[1].ctx);
	}
done:
	fz_free(&w, inv);
	return 0;
}
