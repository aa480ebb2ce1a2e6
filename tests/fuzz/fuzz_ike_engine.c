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
 *
 * Built as fuzz_ike_share (FZ_SHARE), each side has two sibling IKEv2 tunnels
 * to the other (one address pair and PSK; 192.168/16 <-> 172.16/12 and
 * 192.168/16 <-> 10/8, if_id 1 and 2), side 0's with
 * vpnr_tunnel_config_set_share_ike: ops 5 6 7 8 12 act on tunnel (op >> 6) & 1,
 * and op 12 on side 1 re-adds the tunnel sharing when bit 7 is set.  Checked
 * besides: each SA is its tunnel's (if_id, selectors within the tunnel's),
 * initiating a sharing tunnel while its sibling is ESTABLISHED sends no
 * IKE_SA_INIT, and no tunnel stays CONNECTING beside an ESTABLISHED sibling
 * for FZ_STUCK timer runs of a minute or more.
 *
 * Built as fuzz_ikev1_share (FZ_IKE_VERSION 1 and FZ_SHARE), the siblings
 * are IKEv1 tunnels, which share ISAKMP SAs without share_ike (bit 7 of op
 * 12 does nothing): initiating one while its sibling is ESTABLISHED over an
 * ISAKMP SA that is up sends no new Main or Aggressive Mode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "ike_inv.h"
#include "helpers/ike_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ikev1_engine.c builds this harness with IKEv1 tunnels,
 * fuzz_ike_share.c with two sibling tunnels a side, fuzz_ikev1_share.c
 * with both. */
#ifndef FZ_IKE_VERSION
#define FZ_IKE_VERSION 2
#endif
#ifndef FZ_SHARE
#define FZ_SHARE 0
#endif
#define FZ_NT (FZ_SHARE ? 2 : 1) /* tunnels a side */

/* The harness's state (w.user). */
struct fz {
	struct ikew w;
	struct inv inv[2];
	uint64_t tid[2][FZ_NT];
#if FZ_SHARE
	vpnr_tunnel_config *tc[2][FZ_NT];
	int share[2][FZ_NT]; /* set_share_ike of tunnel k */
	uint64_t n_init[2];  /* new IKE SAs side i started (fz_send) */
	int stuck[2][FZ_NT]; /* long timer runs it sat CONNECTING */
#endif
};

#if FZ_SHARE
/* Tunnel k's selector on side i: 192.168/16 on side 0, the tunnel's
 * network (172.16/12, 10/8) on side 1. */
static void
fz_net(vpnr_ts *ts, int i, int k)
{
	static const char *const lo[3] = { "192.168.0.0", "172.16.0.0",
		"10.0.0.0" };
	static const char *const hi[3] = { "192.168.255.255", "172.31.255.255",
		"10.255.255.255" };
	int n = i == 0 ? 0 : 1 + k;

	memset(ts, 0, sizeof(*ts));
	vpnr_addr_parse(&ts->addr_start, lo[n]);
	vpnr_addr_parse(&ts->addr_end, hi[n]);
	ts->port_end = 65535;
}

static int
fz_within(const vpnr_ts *ts, const vpnr_ts *net)
{
	return ts->addr_start.family == VPNR_AF_INET &&
	    memcmp(ts->addr_start.bytes, net->addr_start.bytes, 4) >= 0 &&
	    memcmp(ts->addr_end.bytes, net->addr_end.bytes, 4) <= 0 &&
	    memcmp(ts->addr_start.bytes, ts->addr_end.bytes, 4) <= 0;
}

/* A CHILD_SA belongs to the tunnel it names: its if_id (k + 1), and
 * its selectors within that tunnel's (a sibling's SA was not handed
 * to the wrong tunnel). */
static void
fz_sa_owner(struct fz *f, int i, const vpnr_child_sa *sa)
{
	vpnr_ts l, r;
	size_t j;
	int k;

	for (k = 0; k < FZ_NT && f->tid[i][k] != sa->tunnel_id; k++)
		;
	if (k == FZ_NT)
		return; /* inv_sa_add tells */
	if (sa->if_id != (uint32_t)k + 1)
		inv_fail(&f->inv[i], "sa_add with another tunnel's if_id",
		    sa->if_id);
	fz_net(&l, i, k);
	fz_net(&r, !i, k);
	for (j = 0; j < sa->n_ts_local; j++)
		if (!fz_within(&sa->ts_local[j], &l))
			inv_fail(&f->inv[i],
			    "sa_add local selector outside its tunnel's",
			    sa->sa_id);
	for (j = 0; j < sa->n_ts_remote; j++)
		if (!fz_within(&sa->ts_remote[j], &r))
			inv_fail(&f->inv[i],
			    "sa_add remote selector outside its tunnel's",
			    sa->sa_id);
}

/* The first message of a new IKE SA: an IKE_SA_INIT request (exchange
 * 34, Response flag clear); in IKEv1 a Main (2) or Aggressive Mode (4)
 * message without the responder's cookie (bytes 8..15). */
static int
fz_first(const uint8_t *d, size_t len)
{
	static const uint8_t zero[8];

	if (len < 28)
		return 0;
	if (FZ_IKE_VERSION == 1)
		return (d[18] == 2 || d[18] == 4) &&
		    memcmp(d + 8, zero, 8) == 0;
	return d[18] == 34 && (d[19] & 0x20) == 0;
}

/* Counts them, after the non-ESP marker on port 4500. */
static int
fz_send(struct ikew_side *s, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *d, size_t len)
{
	struct fz *f = s->w->user;
	static const uint8_t marker[4];

	(void)remote;
	if (local->port == 4500 && len >= 4 && memcmp(d, marker, 4) == 0) {
		d += 4;
		len -= 4;
	}
	if (fz_first(d, len))
		f->n_init[s->idx]++;
	return 0;
}

/* An event for the tunnel: something happens. */
static void
fz_share_event(struct fz *f, int i, uint64_t tid)
{
	int k;

	for (k = 0; k < FZ_NT; k++)
		if (f->tid[i][k] == tid)
			f->stuck[i][k] = 0;
}
#endif

/* The invariants' tracking data plane, one per side (w.user). */
static int
fz_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	struct fz *f = s->w->user;

	(void)ctx;
	inv_sa_add(&f->inv[s->idx], op, sa);
#if FZ_SHARE
	fz_sa_owner(f, s->idx, sa);
#endif
	return VPNR_OK;
}

static int
fz_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	struct fz *f = s->w->user;

	(void)ctx;
	inv_sa_del(&f->inv[s->idx], op, sa);
	return VPNR_OK;
}

static const vpnr_dataplane fz_dp = {
	.sa_add = fz_sa_add,
	.sa_del = fz_sa_del,
};

static int
fz_event(struct ikew_side *s, const vpnr_tunnel_event *ev)
{
	struct fz *f = s->w->user;

	inv_event(&f->inv[s->idx], ev);
#if FZ_SHARE
	fz_share_event(f, s->idx, ev->tunnel_id);
#endif
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
fz_del_tunnel(struct fz *f, int i, int k)
{
	uint64_t tid = f->tid[i][k];

	if (tid != 0 &&
	    vpnr_tunnel_del(f->w.s[i].ctx, tid, f->w.now) == VPNR_OK)
		inv_tunnel_gone(&f->inv[i], tid);
	f->tid[i][k] = 0;
}

static void
fz_add_tunnel(struct fz *f, int i, int k)
{
	struct ikew_side *s = &f->w.s[i];
#if FZ_SHARE
	vpnr_tunnel_config *tc = f->tc[i][k];
#else
	vpnr_tunnel_config *tc = s->tc;
#endif

	if (vpnr_tunnel_add(s->ctx, tc, s, &f->tid[i][k]) == VPNR_OK)
		inv_tunnel_added(&f->inv[i], f->tid[i][k]);
	else
		f->tid[i][k] = 0;
}

static void
fz_tune(vpnr_tunnel_config *tc, int i)
{
	vpnr_tunnel_config_set_force_encap(tc, i == 0);
	vpnr_tunnel_config_set_retransmit(tc, VPNR_SECONDS, 2);
}

#if FZ_SHARE
/* Side i's tunnel configs, fresh from ikew's options, made sibling. */
static int
fz_share_configs(struct fz *f)
{
	vpnr_ts l, r;
	int i, k, rv;

	for (k = 0; k < FZ_NT; k++) {
		if ((rv = ikew_new_configs(&f->w)) != VPNR_OK)
			return rv;
		for (i = 0; i < 2; i++) {
			f->tc[i][k] = f->w.s[i].tc;
			f->w.s[i].tc = NULL;
			/* IKEv1 siblings share ISAKMP SAs anyway, and
			 * refuse share_ike. */
			f->share[i][k] = i == 0 && FZ_IKE_VERSION == 2;
			fz_tune(f->tc[i][k], i);
			fz_net(&l, i, k);
			fz_net(&r, !i, k);
			if ((rv = vpnr_tunnel_config_add_ts(f->tc[i][k], &l,
				 &r)) != VPNR_OK ||
			    (rv = vpnr_tunnel_config_set_if_id(f->tc[i][k],
				 (uint32_t)k + 1)) != VPNR_OK ||
			    (rv = vpnr_tunnel_config_set_share_ike(f->tc[i][k],
				 f->share[i][k])) != VPNR_OK)
				return rv;
		}
	}
	return VPNR_OK;
}

static int
fz_state(struct fz *f, int i, int k)
{
	vpnr_tunnel_info ti;

	if (f->tid[i][k] == 0 ||
	    vpnr_tunnel_get_info(f->w.s[i].ctx, f->tid[i][k], &ti) != VPNR_OK)
		return -1;
	return (int)ti.state;
}

/* Tunnel k on side i can ride its ESTABLISHED sibling's IKE SA: if
 * sharing (IKEv2); in IKEv1 if the sibling's ISAKMP SA is up, as its
 * CHILD_SAs outlive it (the info has IKE SPIs only while it is up). */
static int
fz_may_ride(struct fz *f, int i, int k)
{
	vpnr_tunnel_info ti;

	if (fz_state(f, i, !k) != VPNR_TUNNEL_ESTABLISHED)
		return 0;
	if (FZ_IKE_VERSION == 2)
		return f->share[i][k];
	if (vpnr_tunnel_get_info(f->w.s[i].ctx, f->tid[i][!k], &ti) != VPNR_OK)
		return 0;
	return ti.spi_i != 0;
}

/* Initiating a tunnel that may ride its sibling's IKE SA opens a
 * CHILD_SA (Quick Mode) in it: no new IKE SA (fz_first). */
static void
fz_initiate(struct fz *f, int i, int k)
{
	int must =
	    fz_state(f, i, k) == VPNR_TUNNEL_IDLE && fz_may_ride(f, i, k);
	uint64_t n = f->n_init[i];

	vpnr_tunnel_initiate(f->w.s[i].ctx, f->tid[i][k], f->w.now);
	if (must && f->n_init[i] != n)
		inv_fail(&f->inv[i],
		    "a new IKE SA although a sibling's IKE SA is up",
		    f->tid[i][k]);
}

/*
 * A tunnel CONNECTING while its sibling is ESTABLISHED is a guest whose
 * CREATE_CHILD_SA is under way (or one that is about to become one);
 * in IKEv1 one whose Quick Mode is under way over the sibling's ISAKMP
 * SA or waits for the one there, or for a Phase 1 (its own, or the
 * sibling's, looked at every second): every exchange ends within a
 * minute (retransmits, install and half-open timeouts) and one timer
 * run fires what is due, so after FZ_STUCK runs of a minute or more
 * without an event for it, its request was lost without a retry or a
 * failure.
 */
#define FZ_STUCK 8

static void
fz_check_stuck(struct fz *f, int long_run)
{
	int i, k;

	for (i = 0; i < 2; i++)
		for (k = 0; k < FZ_NT; k++) {
			if (fz_state(f, i, k) != VPNR_TUNNEL_CONNECTING ||
			    fz_state(f, i, !k) != VPNR_TUNNEL_ESTABLISHED)
				f->stuck[i][k] = 0;
			else if (long_run && ++f->stuck[i][k] > FZ_STUCK)
				inv_fail(&f->inv[i],
				    "tunnel stuck CONNECTING beside an "
				    "established sibling",
				    f->tid[i][k]);
		}
}

#endif

static int
fz_setup(struct fz *f)
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
	struct ikew *w = &f->w;
	struct ikew_opts o;
	int i, k, rv;

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
	memset(f->tid, 0, sizeof(f->tid));
	rv = ikew_new(w, &o);
	w->user = f;
	for (i = 0; i < 2; i++) {
		inv_init(&f->inv[i],
		    i == 0 ? "fuzz_ike_engine initiator" :
			     "fuzz_ike_engine responder");
		w->s[i].on_event = fz_event;
		if (rv == VPNR_OK && !FZ_SHARE)
			fz_tune(w->s[i].tc, i);
	}
#if FZ_SHARE
	memset(f->tc, 0, sizeof(f->tc));
	memset(f->stuck, 0, sizeof(f->stuck));
	f->n_init[0] = f->n_init[1] = 0;
	w->on_send = fz_send;
	if (rv == VPNR_OK)
		rv = fz_share_configs(f);
#endif
	if (rv != VPNR_OK)
		return -1;
	for (k = 0; k < FZ_NT; k++)
		for (i = 0; i < 2; i++)
			fz_add_tunnel(f, i, k);
	return 0;
}

/* rev: delete each side's tunnels last first. */
static void
fz_free(struct fz *f, int rev)
{
	int i, j;

	ikew_clear(&f->w);
	/* Deleting the tunnels removes every SA they installed. */
	for (i = 0; i < 2; i++) {
		if (f->w.s[i].ctx == NULL)
			continue;
		for (j = 0; j < FZ_NT; j++)
			fz_del_tunnel(f, i, rev ? FZ_NT - 1 - j : j);
		inv_all_gone(&f->inv[i]);
	}
	ikew_free(&f->w);
#if FZ_SHARE
	for (i = 0; i < 2; i++)
		for (j = 0; j < FZ_NT; j++)
			vpnr_tunnel_config_del(f->tc[i][j]);
#endif
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	struct ikew *w = &f.w;
	struct ikew_pkt *p;
	size_t off = 0, len, n = 0;
	vpnr_addr l, r;
	uint8_t op, x, y;
	uint64_t tid;
	int side, k;

	if (fz_setup(&f) != 0) {
		fz_free(&f, 0);
		return 0;
	}
	while (off < size && n++ < 4096) {
		op = data[off++];
		side = (op >> 4) & 1;
		k = FZ_SHARE ? (op >> 6) & 1 : 0; /* the tunnel */
		tid = f.tid[side][k];
		switch (op & 0x0f) {
		case 0:
		case 2:
			if ((p = ikew_pop(w)) == NULL)
				break;
			ikew_deliver(w, p);
			if ((op & 0x0f) == 2)
				ikew_deliver(w, p);
			free(p);
			break;
		case 1:
			free(ikew_pop(w));
			break;
		case 3:
			if (off + 2 > size)
				goto done;
			x = data[off++];
			y = data[off++];
			if ((p = ikew_pop(w)) == NULL)
				break;
			p->data[x % p->len] ^= y;
			ikew_deliver(w, p);
			free(p);
			break;
		case 4:
			if (off + 1 > size)
				goto done;
			w->now += (vpnr_tstamp)data[off++] * VPNR_SECONDS;
			ikew_timers(w);
			break;
		case 5:
			vpnr_tunnel_rekey(w->s[side].ctx, tid, VPNR_REKEY_CHILD,
			    w->now);
			break;
		case 6:
			vpnr_tunnel_rekey(w->s[side].ctx, tid, VPNR_REKEY_IKE,
			    w->now);
			break;
		case 7:
			vpnr_tunnel_close(w->s[side].ctx, tid, w->now);
			break;
		case 8:
#if FZ_SHARE
			fz_initiate(&f, side, k);
#else
			vpnr_tunnel_initiate(w->s[side].ctx, tid, w->now);
#endif
			break;
		case 9:
			if (off + 1 > size)
				goto done;
			len = data[off++];
			if (len > size - off)
				len = size - off;
			l = w->s[side].addr;
			r = w->s[!side].addr;
			l.port = r.port = (op & 0x20) ? 4500 : 500;
			vpnr_ctx_recv_datagram(w->s[side].ctx, &l, &r,
			    data + off, len, w->now);
			off += len;
			break;
		case 10:
			while ((p = ikew_pop(w)) != NULL) {
				ikew_deliver(w, p);
				free(p);
			}
			break;
		case 11:
			if (w->nq < 2)
				break;
			ikew_requeue(w, ikew_pop(w));
			break;
		case 12:
			fz_del_tunnel(&f, side, k);
#if FZ_SHARE
			if (side == 1) {
				f.share[1][k] = FZ_IKE_VERSION == 2 && op >> 7;
				vpnr_tunnel_config_set_share_ike(f.tc[1][k],
				    f.share[1][k]);
			}
#endif
			fz_add_tunnel(&f, side, k);
			break;
		default:
			break;
		}
		inv_check(&f.inv[0], w->s[0].ctx);
		inv_check(&f.inv[1], w->s[1].ctx);
#if FZ_SHARE
		/* op 4 read its N: data[off - 1] */
		fz_check_stuck(&f, (op & 0x0f) == 4 && data[off - 1] >= 60);
#endif
	}
done:
	fz_free(&f, FZ_SHARE && (size & 1));
	return 0;
}
