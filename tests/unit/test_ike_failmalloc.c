/*
 * Allocation-failure injection for the IKEv2 engine: an initiator and
 * a responder context, both built with counting vpnr_mem hooks, run a
 * full handshake (and, in the second test, a CHILD_SA rekey, an IKE SA
 * rekey and a close) through in-memory queues with a fake clock.  The
 * run is repeated failing the Nth library allocation for N = 0, 1, 2,
 * ... until a run completes without any failure injected.  Every run
 * must end with no live allocation after vpnr_ctx_del of both
 * contexts, no bad free, consistent data-plane state, and the failure
 * surfaced as an error code or a FAILED / DOWN tunnel event (or
 * recovered by retransmission).  OpenSSL's own allocations are not
 * covered by vpnr_mem (documented in vpnroute.h).
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

/* ---- counting allocator with single-shot failure ---- */

#define FM_MAGIC 0x766e70726d656d21ULL
#define FM_FREED 0x6672656564212121ULL

union fm_hdr {
	max_align_t align;
	struct {
		uint64_t magic;
		size_t size;
	} h;
};

struct fm {
	long calls;     /* allocation calls so far */
	long fail_at;   /* index of the call to fail, -1 none */
	int failed;     /* the injected failure happened */
	int phase;      /* PH_* now */
	int fail_phase; /* PH_* when the failure was injected */
	long live;      /* blocks allocated and not freed */
	long bad_free;
};

static struct fm fm;

#define PH_SETUP       0
#define PH_HANDSHAKE   1
#define PH_CHILD_REKEY 2
#define PH_IKE_REKEY   3
#define PH_CLOSE       4
static int fm_verbose; /* FM_VERBOSE=1: print events and log lines */
/* 1: the responder demands a COOKIE and accepts only x25519 while the
 * initiator's KE is ecp256 (INVALID_KE_PAYLOAD), ESP with PFS. */
static int fm_variant;
/* 1: the tunnels speak IKEv1 (Main Mode + Quick Mode). */
static int fm_ikev1;

static void *
fm_alloc(size_t size, void *ud)
{
	union fm_hdr *h;

	(void)ud;
	if (fm.calls++ == fm.fail_at) {
		fm.failed = 1;
		fm.fail_phase = fm.phase;
		if (fm_verbose)
			fprintf(stderr,
			    "*** failing allocation %ld (%zu bytes)\n",
			    fm.fail_at, size);
		return NULL;
	}
	if ((h = malloc(sizeof(*h) + size)) == NULL)
		return NULL;
	h->h.magic = FM_MAGIC;
	h->h.size = size;
	fm.live++;
	return h + 1;
}

static void *
fm_zalloc(size_t nmemb, size_t size, void *ud)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if ((p = fm_alloc(nmemb * size, ud)) != NULL)
		memset(p, 0, nmemb * size);
	return p;
}

static void
fm_free(void *p, void *ud)
{
	union fm_hdr *h;

	(void)ud;
	if (p == NULL)
		return;
	h = (union fm_hdr *)p - 1;
	if (h->h.magic != FM_MAGIC) {
		fm.bad_free++;
		return;
	}
	h->h.magic = FM_FREED;
	fm.live--;
	free(h);
}

static void *
fm_realloc(void *p, size_t size, void *ud)
{
	union fm_hdr *h, *n;

	(void)ud;
	if (p == NULL)
		return fm_alloc(size, ud);
	h = (union fm_hdr *)p - 1;
	if (h->h.magic != FM_MAGIC) {
		fm.bad_free++;
		return NULL;
	}
	if (fm.calls++ == fm.fail_at) {
		fm.failed = 1;
		fm.fail_phase = fm.phase;
		return NULL;
	}
	if ((n = realloc(h, sizeof(*n) + size)) == NULL)
		return NULL;
	n->h.size = size;
	return n + 1;
}

static const vpnr_mem fm_mem = {
	.alloc_fn = fm_alloc,
	.zalloc_fn = fm_zalloc,
	.realloc_fn = fm_realloc,
	.free_fn = fm_free,
};

/* ---- two contexts back to back ---- */

#define W_MAX_SA  256
#define W_MAX_PKT 256
#define W_MANY    50 /* tunnels up in the isolation sweep */

struct w_sa {
	int live;
	uint64_t sa_id;
	uint32_t spi;
	uint8_t dir;
	uint8_t ek[64], ik[64];
	size_t ek_len, ik_len;
};

struct w_pkt {
	int to;
	vpnr_addr local, remote;
	uint8_t *data;
	size_t len;
};

struct w;

struct w_side {
	struct w *w;
	int idx;
	vpnr_ctx *ctx;
	uint64_t tid;
	uint64_t tids[W_MANY]; /* isolation sweep: tids[0] == tid */
	int affected[W_MANY];  /* FAILED / DOWN after the failure */
	vpnr_addr addr;
	uint64_t rng;
	int dead; /* a fatal error was returned: only vpnr_ctx_del */
	int n_up, n_child_up, n_failed, n_down;
	int n_reported; /* FAILED, or DOWN with a local reason, after the
			 * injected failure */
	int32_t last_reason;
	struct w_sa sas[W_MAX_SA];
	int dup_spi; /* invariant violations seen by the data plane */
};

struct w {
	struct w_side s[2];
	struct w_pkt q[W_MAX_PKT];
	int nq;
	vpnr_tstamp now;
	int errors; /* driving / API calls that returned an error */
	int last_err;
	int setup_failed; /* a context or tunnel could not be created */
};

static uint64_t
w_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
w_rand(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	struct w_side *s = ud;
	uint64_t r = 0;
	size_t i;

	(void)ctx;
	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = w_rand64(&s->rng);
		buf[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
	return VPNR_OK;
}

static int
w_send(vpnr_ctx *ctx, const vpnr_addr *l, const vpnr_addr *r, const uint8_t *d,
    size_t n, void *ud)
{
	struct w_side *s = ud;
	struct w *w = s->w;
	struct w_pkt *p;

	(void)ctx;
	if (w->nq >= W_MAX_PKT)
		return VPNR_OK;
	p = &w->q[w->nq];
	if ((p->data = malloc(n)) == NULL)
		return VPNR_OK;
	memcpy(p->data, d, n);
	p->len = n;
	p->to = !s->idx;
	p->local = *r;
	p->remote = *l;
	w->nq++;
	return VPNR_OK;
}

/* Which of the isolation sweep's tunnels a failure touched. */
static void
w_affected(struct w_side *s, uint64_t tunnel_id)
{
	int k;

	if (!fm.failed)
		return;
	for (k = 0; k < W_MANY; k++)
		if (s->tids[k] == tunnel_id && tunnel_id != 0)
			s->affected[k] = 1;
}

static int
w_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct w_side *s = ud;

	(void)ctx;
	if (fm_verbose)
		fprintf(stderr, "[%d] t=%llus event %u reason %s notify %u\n",
		    s->idx,
		    (unsigned long long)(s->w->now / VPNR_SECONDS - 1000),
		    ev->type, vpnr_err_name(ev->reason), ev->notify);
	switch (ev->type) {
	case VPNR_TUNNEL_EV_UP:
		s->n_up++;
		break;
	case VPNR_TUNNEL_EV_CHILD_UP:
		s->n_child_up++;
		break;
	case VPNR_TUNNEL_EV_FAILED:
		w_affected(s, ev->tunnel_id);
		s->n_failed++;
		s->last_reason = ev->reason;
		if (fm.failed)
			s->n_reported++;
		break;
	case VPNR_TUNNEL_EV_DOWN:
		if (ev->reason != 0 && ev->reason != VPNR_ERR_PEER_CLOSED)
			w_affected(s, ev->tunnel_id);
		s->n_down++;
		s->last_reason = ev->reason;
		/* A plain close (0) or the peer's DELETE reports nothing. */
		if (fm.failed && ev->reason != 0 &&
		    ev->reason != VPNR_ERR_PEER_CLOSED)
			s->n_reported++;
		break;
	}
	return VPNR_OK;
}

static void
w_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg, size_t len,
    void *ud)
{
	struct w_side *s = ud;

	(void)ctx;
	(void)level;
	if (fm_verbose)
		fprintf(stderr, "[%d] %s: %.*s\n", s->idx, subsys, (int)len,
		    msg);
}

static int
w_sa_add(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct w_side *s = dp;
	int i;

	(void)ctx;
	(void)op;
	for (i = 0; i < W_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].spi == sa->spi &&
		    s->sas[i].dir == sa->direction)
			s->dup_spi++;
	for (i = 0; i < W_MAX_SA; i++) {
		struct w_sa *x = &s->sas[i];

		if (x->live)
			continue;
		if (sa->encr_key == NULL || sa->encr_key_len > sizeof(x->ek) ||
		    sa->integ_key_len > sizeof(x->ik))
			return VPNR_ERR_DATAPLANE;
		memset(x, 0, sizeof(*x));
		x->live = 1;
		x->sa_id = sa->sa_id;
		x->spi = sa->spi;
		x->dir = sa->direction;
		memcpy(x->ek, sa->encr_key, sa->encr_key_len);
		x->ek_len = sa->encr_key_len;
		if (sa->integ_key_len > 0)
			memcpy(x->ik, sa->integ_key, sa->integ_key_len);
		x->ik_len = sa->integ_key_len;
		return VPNR_OK;
	}
	return VPNR_ERR_DATAPLANE;
}

static int
w_sa_del(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	struct w_side *s = dp;
	int i;

	(void)ctx;
	(void)op;
	for (i = 0; i < W_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].sa_id == sa->sa_id)
			s->sas[i].live = 0;
	return VPNR_OK;
}

static const struct w_sa *
w_find(const struct w_side *s, uint32_t spi, uint8_t dir)
{
	int i;

	for (i = 0; i < W_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].spi == spi &&
		    s->sas[i].dir == dir)
			return &s->sas[i];
	return NULL;
}

/* Record a call's result; a fatal one retires the context. */
static void
w_rv(struct w *w, struct w_side *s, int rv)
{
	if (rv >= 0 || rv == VPNR_ERR_NOT_IKE)
		return;
	if (fm.failed)
		w->errors++;
	w->last_err = rv;
	if (s != NULL && vpnr_err_is_fatal(rv))
		s->dead = 1;
}

static int
w_init(struct w *w, uint64_t seed)
{
	static const char *addrs[2] = { "198.51.100.2", "198.51.100.1" };
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	vpnr_tunnel_config *tc;
	int i, rv;

	memset(w, 0, sizeof(*w));
	w->now = 1000 * VPNR_SECONDS;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = w_send;
	cb.rand_bytes = w_rand;
	cb.tunnel_event = w_event;
	cb.log_msg = w_log;
	memset(&dp, 0, sizeof(dp));
	dp.sa_add = w_sa_add;
	dp.sa_del = w_sa_del;
	for (i = 0; i < 2; i++) {
		w->s[i].w = w;
		w->s[i].idx = i;
		w->s[i].rng = seed * 2 + (uint64_t)i;
		vpnr_addr_parse(&w->s[i].addr, addrs[i]);
	}
	for (i = 0; i < 2; i++) {
		struct w_side *s = &w->s[i];

		if ((rv = vpnr_config_new(&cfg, &fm_mem)) != VPNR_OK)
			return rv;
		vpnr_config_set_log_level(cfg, VPNR_LOG_DEBUG);
		if (fm_variant && i == 1)
			vpnr_config_set_cookie_threshold(cfg, 0);
		rv = vpnr_ctx_new(&s->ctx, cfg, &cb, s, &dp, s, &fm_mem);
		vpnr_config_del(cfg);
		if (rv != VPNR_OK) {
			s->ctx = NULL;
			return rv;
		}
		if ((rv = vpnr_tunnel_config_new(&tc, &fm_mem)) != VPNR_OK)
			return rv;
		rv = vpnr_tunnel_config_set_addrs(tc, &s->addr, &w->s[!i].addr);
		if (rv == VPNR_OK)
			rv = vpnr_tunnel_config_set_psk(tc,
			    (const uint8_t *)"failmalloc-psk", 14);
		if (rv == VPNR_OK && fm_ikev1)
			rv = vpnr_tunnel_config_set_ike_version(tc, 1, 0);
		if (rv == VPNR_OK && (fm_ikev1 || (fm_variant && i == 0)))
			rv = vpnr_tunnel_config_add_ike_proposal(tc,
			    "aes256-sha256-ecp256");
		if (rv == VPNR_OK && !fm_ikev1)
			rv = vpnr_tunnel_config_add_ike_proposal(tc,
			    "aes256-sha256-x25519");
		if (rv == VPNR_OK)
			rv = vpnr_tunnel_config_add_esp_proposal(tc,
			    fm_variant ? "aes256gcm16-x25519" : "aes256gcm16");
		if (rv == VPNR_OK)
			rv = vpnr_tunnel_config_set_retransmit(tc, VPNR_SECONDS,
			    4);
		if (rv == VPNR_OK)
			rv = vpnr_tunnel_add(s->ctx, tc, NULL, &s->tid);
		vpnr_tunnel_config_del(tc);
		if (rv != VPNR_OK)
			return rv;
	}
	return VPNR_OK;
}

static void
w_free(struct w *w)
{
	int i;

	for (i = 0; i < w->nq; i++)
		free(w->q[i].data);
	w->nq = 0;
	for (i = 0; i < 2; i++) {
		vpnr_ctx_del(w->s[i].ctx);
		w->s[i].ctx = NULL;
	}
}

/* Deliver what is queued (bounded); datagrams to dead contexts vanish. */
static void
w_flush(struct w *w)
{
	struct w_pkt p;
	int n;

	for (n = 0; n < 256 && w->nq > 0; n++) {
		p = w->q[0];
		memmove(&w->q[0], &w->q[1], (size_t)(w->nq - 1) * sizeof(p));
		w->nq--;
		if (!w->s[p.to].dead)
			w_rv(w, &w->s[p.to],
			    vpnr_ctx_recv_datagram(w->s[p.to].ctx, &p.local,
				&p.remote, p.data, p.len, w->now));
		free(p.data);
	}
}

static int
w_up(const struct w *w)
{
	vpnr_tunnel_info ti;
	int i;

	for (i = 0; i < 2; i++) {
		if (w->s[i].dead ||
		    vpnr_tunnel_get_info(w->s[i].ctx, w->s[i].tid, &ti) !=
			VPNR_OK ||
		    ti.state != VPNR_TUNNEL_ESTABLISHED || ti.child_spi_in == 0)
			return 0;
	}
	return 1;
}

/* Run for up to max of fake time, or until pred holds. */
static void
w_run(struct w *w, int (*pred)(const struct w *), vpnr_tstamp max)
{
	vpnr_tstamp end = w->now + max, next, e;
	int i;

	for (;;) {
		w_flush(w);
		if (pred != NULL && pred(w))
			return;
		next = end;
		for (i = 0; i < 2; i++) {
			if (w->s[i].dead)
				continue;
			e = vpnr_ctx_get_expiry(w->s[i].ctx);
			if (e < next)
				next = e;
		}
		if (next > w->now)
			w->now = next;
		for (i = 0; i < 2; i++)
			if (!w->s[i].dead)
				w_rv(w, &w->s[i],
				    vpnr_ctx_handle_expiry(w->s[i].ctx,
					w->now));
		if (w->now >= end) {
			w_flush(w);
			return;
		}
	}
}

/*
 * No corrupted state: each live context's ESTABLISHED tunnel has its
 * current CHILD_SA pair installed, and when both are up the pairs
 * match (SPIs and keys).  Returns a description or NULL.
 */
static const char *
w_consistent(const struct w *w)
{
	vpnr_tunnel_info ti[2];
	const struct w_sa *a, *b;
	int i, up[2] = { 0, 0 };

	for (i = 0; i < 2; i++) {
		if (w->s[i].dup_spi)
			return "two live SAs with one SPI and direction";
		if (w->s[i].dead)
			continue;
		if (vpnr_tunnel_get_info(w->s[i].ctx, w->s[i].tid, &ti[i]) !=
		    VPNR_OK)
			return "tunnel vanished";
		if (ti[i].state != VPNR_TUNNEL_ESTABLISHED ||
		    ti[i].child_spi_in == 0)
			continue;
		if (w_find(&w->s[i], ti[i].child_spi_in, VPNR_DIR_IN) == NULL ||
		    w_find(&w->s[i], ti[i].child_spi_out, VPNR_DIR_OUT) == NULL)
			return "current CHILD_SA not installed";
		up[i] = 1;
	}
	if (!up[0] || !up[1])
		return NULL;
	if (ti[0].spi_i != ti[1].spi_i || ti[0].spi_r != ti[1].spi_r)
		return "both up with different IKE SAs";
	for (i = 0; i < 2; i++) {
		a = w_find(&w->s[i], ti[i].child_spi_out, VPNR_DIR_OUT);
		b = w_find(&w->s[!i], ti[i].child_spi_out, VPNR_DIR_IN);
		if (b == NULL)
			return "outbound SA without the peer's inbound SA";
		if (a->ek_len != b->ek_len ||
		    memcmp(a->ek, b->ek, a->ek_len) != 0 ||
		    a->ik_len != b->ik_len ||
		    memcmp(a->ik, b->ik, a->ik_len) != 0)
			return "SA keys differ between the peers";
	}
	return NULL;
}

struct fm_result {
	int completed; /* no failure injected and the scenario succeeded */
	int recovered; /* failure injected, scenario succeeded anyway */
	int surfaced;  /* failure injected and reported */
	int last_err;
	int fatal; /* surfaced as a fatal error (context unusable) */
	const char *problem;
};

/*
 * One run failing allocation fail_at (-1: none).  Rekey phases last
 * 70 s: a rekey refused with TEMPORARY_FAILURE or lost to a failed
 * install is retried by the engine after 30 s.  full: after the
 * handshake also rekey the CHILD_SA and the IKE SA, then close.
 */
static struct fm_result
fm_run(long fail_at, int full, uint64_t seed)
{
	struct fm_result r;
	struct w w;
	vpnr_tunnel_info ti;
	int ok, rv, i;

	memset(&r, 0, sizeof(r));
	memset(&fm, 0, sizeof(fm));
	fm.fail_at = fail_at;
	rv = w_init(&w, seed);
	if (rv != VPNR_OK) {
		w.setup_failed = 1;
		w_rv(&w, NULL, rv);
		goto done;
	}
	fm.phase = PH_HANDSHAKE;
	w_rv(&w, &w.s[0], vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tid, w.now));
	w_run(&w, w_up, 60 * VPNR_SECONDS);
	if ((r.problem = w_consistent(&w)) != NULL)
		goto done;
	ok = w_up(&w);
	if (ok && full) {
		fm.phase = PH_CHILD_REKEY;
		if (!w.s[0].dead)
			w_rv(&w, &w.s[0],
			    vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tid,
				VPNR_REKEY_CHILD, w.now));
		w_run(&w, NULL, 70 * VPNR_SECONDS);
		if ((r.problem = w_consistent(&w)) != NULL)
			goto done;
		fm.phase = PH_IKE_REKEY;
		if (!w.s[1].dead)
			w_rv(&w, &w.s[1],
			    vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tid,
				VPNR_REKEY_IKE, w.now));
		w_run(&w, NULL, 70 * VPNR_SECONDS);
		if ((r.problem = w_consistent(&w)) != NULL)
			goto done;
		ok = w_up(&w);
		for (i = 0; ok && i < 2; i++) {
			vpnr_tunnel_get_info(w.s[i].ctx, w.s[i].tid, &ti);
			if (ti.child_rekeys < 1 || ti.ike_rekeys < 1)
				ok = 0;
		}
		fm.phase = PH_CLOSE;
		if (!w.s[0].dead)
			w_rv(&w, &w.s[0],
			    vpnr_tunnel_close(w.s[0].ctx, w.s[0].tid, w.now));
		w_run(&w, NULL, 20 * VPNR_SECONDS);
		if ((r.problem = w_consistent(&w)) != NULL)
			goto done;
		for (i = 0; ok && i < 2; i++) {
			vpnr_tunnel_get_info(w.s[i].ctx, w.s[i].tid, &ti);
			if (ti.state == VPNR_TUNNEL_ESTABLISHED)
				ok = 0;
		}
	}
	if (!fm.failed) {
		r.completed = ok;
		if (!ok)
			r.problem = "scenario failed without injected failure";
	} else if (ok)
		r.recovered = 1;
done:
	if (fm.failed) {
		for (i = 0; i < 2; i++)
			if (w.s[i].n_reported > 0)
				r.surfaced = 1;
		if (w.errors > 0)
			r.surfaced = 1;
		if (r.problem == NULL && !r.surfaced && !r.recovered)
			r.problem = "injected failure neither surfaced nor "
				    "recovered";
	}
	r.last_err = w.last_err;
	r.fatal = w.s[0].dead || w.s[1].dead;
	w_free(&w);
	if (r.problem == NULL && fm.live != 0)
		r.problem = "leak: live allocations after vpnr_ctx_del";
	if (r.problem == NULL && fm.bad_free != 0)
		r.problem = "free of a block not from the hooks (or twice)";
	if (r.problem == NULL && !fm.failed && fail_at >= 0 && !r.completed)
		r.problem = "scenario failed without injected failure";
	return r;
}

/*
 * Engine bugs found by this test and reported (fuzzsm report): runs
 * whose failure hit this phase and ended with this problem are
 * skipped and counted, not failed.  Matching on phase and problem
 * rather than on N keeps the entries valid while the engine's
 * allocation pattern changes.  Remove an entry once its bug is fixed.
 */
struct fm_skip {
	int phase;
	const char *problem;
	const char *why;
};
static const struct fm_skip fm_skips[] = {
	/*
	 * Fixed in the engine meanwhile, kept as examples of entries:
	 * { PH_CHILD_REKEY, "outbound SA without the peer's inbound SA",
	 *   "child_rekey_response() swallowed a failed install()" },
	 * { PH_CLOSE, "injected failure neither surfaced nor recovered",
	 *   "vpnr__ike_sa_next_task() only logged a failed DELETE" },
	 */
	{ -1, NULL, NULL }, /* end */
};

static const char *
fm_skipped(const struct fm_result *r)
{
	size_t i;

	if (r->problem == NULL)
		return NULL;
	for (i = 0; fm_skips[i].problem != NULL; i++)
		if (fm_skips[i].phase == fm.fail_phase &&
		    strcmp(fm_skips[i].problem, r->problem) == 0)
			return fm_skips[i].why;
	return NULL;
}

static void
fm_sweep(int full)
{
	struct fm_result r;
	long n, recovered = 0, surfaced = 0, skipped = 0, fatal = 0, total;
	int failures = 0;
	const char *why;

	if (getenv("FM_ONLY") != NULL) {
		/* Debugging: FM_ONLY=<full>:<N> runs one iteration. */
		long only = -1;
		int f = -1;

		fm_verbose = 1;
		sscanf(getenv("FM_ONLY"), "%d:%ld", &f, &only);
		if (f != full)
			skip();
		r = fm_run(only, full, 7);
		print_message("N=%ld: %s\n", only,
		    r.problem != NULL ? r.problem : "ok");
		return;
	}
	/* Baseline: how many allocations does the scenario make? */
	r = fm_run(-1, full, 7);
	if (r.problem != NULL)
		fail_msg("baseline: %s", r.problem);
	assert_true(r.completed);
	total = fm.calls;
	assert_true(total > 0);
	for (n = 0;; n++) {
		r = fm_run(n, full, 7);
		if (!fm.failed) {
			/* No failure could be injected: the end. */
			if (r.problem != NULL)
				fail_msg("N=%ld (no failure): %s", n,
				    r.problem);
			assert_true(r.completed);
			break;
		}
		if ((why = fm_skipped(&r)) != NULL) {
			print_message("skip %s N=%ld (phase %d): engine bug: "
				      "%s\n",
			    full ? "full" : "handshake", n, fm.fail_phase, why);
			skipped++;
			continue;
		}
		if (r.problem != NULL) {
			print_message("FAIL %s N=%ld (phase %d): %s (last "
				      "error %s, live %ld)\n",
			    full ? "full" : "handshake", n, fm.fail_phase,
			    r.problem, vpnr_err_name(r.last_err), fm.live);
			failures++;
			continue;
		}
		recovered += r.recovered;
		surfaced += r.surfaced;
		fatal += r.fatal;
	}
	print_message("%s: %ld allocations in the baseline run; %ld runs "
		      "with a failure injected: %ld recovered, %ld surfaced "
		      "(%ld as a fatal error), %ld skipped, %d failed\n",
	    fm_variant ? "cookie+INVALID_KE+PFS, rekeys, close" :
		full   ? "handshake+rekeys+close" :
			 "handshake",
	    total, n, recovered, surfaced, fatal, skipped, failures);
	assert_int_equal(failures, 0);
	/* One tunnel's failure never takes the context down (issue 12). */
	assert_int_equal(fatal, 0);
}

/* ---- isolation: 50 tunnels up, failures in tunnel 0's work ---- */

static int
w_tunnel_up(const struct w *w, int k)
{
	vpnr_tunnel_info ti;
	int i;

	for (i = 0; i < 2; i++)
		if (w->s[i].dead ||
		    vpnr_tunnel_get_info(w->s[i].ctx, w->s[i].tids[k], &ti) !=
			VPNR_OK ||
		    ti.state != VPNR_TUNNEL_ESTABLISHED || ti.child_spi_in == 0)
			return 0;
	return 1;
}

static int
w_all_up(const struct w *w)
{
	int k;

	for (k = 0; k < W_MANY; k++)
		if (!w_tunnel_up(w, k))
			return 0;
	return 1;
}

/* Tunnels 1.. up, except any the failure touched (they reconnect). */
static int
w_others_up(const struct w *w)
{
	int k;

	for (k = 1; k < W_MANY; k++)
		if (!w->s[0].affected[k] && !w->s[1].affected[k] &&
		    !w_tunnel_up(w, k))
			return 0;
	return 1;
}

/* Tunnels 1..W_MANY-1 between 10.0.k.1 and 10.0.k.2, DPD every 10 s:
 * their exchanges run beside tunnel 0's and take failures too. */
static int
w_add_many(struct w *w)
{
	vpnr_tunnel_config *tc;
	vpnr_addr a[2];
	char b[32];
	int i, k, rv = VPNR_OK;

	for (k = 1; k < W_MANY && rv == VPNR_OK; k++) {
		for (i = 0; i < 2; i++) {
			snprintf(b, sizeof(b), "10.0.%d.%d", k, i + 1);
			vpnr_addr_parse(&a[i], b);
		}
		for (i = 0; i < 2 && rv == VPNR_OK; i++) {
			if ((rv = vpnr_tunnel_config_new(&tc, &fm_mem)) !=
			    VPNR_OK)
				break;
			rv = vpnr_tunnel_config_set_addrs(tc, &a[i], &a[!i]);
			if (rv == VPNR_OK)
				rv = vpnr_tunnel_config_set_psk(tc,
				    (const uint8_t *)"failmalloc-psk", 14);
			if (rv == VPNR_OK)
				rv = vpnr_tunnel_config_add_ike_proposal(tc,
				    "aes256-sha256-x25519");
			if (rv == VPNR_OK)
				rv = vpnr_tunnel_config_add_esp_proposal(tc,
				    "aes256gcm16");
			if (rv == VPNR_OK)
				rv = vpnr_tunnel_config_set_dpd(tc,
				    10 * VPNR_SECONDS, VPNR_DPD_ACTION_RESTART);
			if (rv == VPNR_OK)
				rv = vpnr_tunnel_add(w->s[i].ctx, tc, NULL,
				    &w->s[i].tids[k]);
			vpnr_tunnel_config_del(tc);
		}
	}
	for (k = 1; k < W_MANY && rv == VPNR_OK; k++)
		rv = vpnr_tunnel_initiate(w->s[0].ctx, w->s[0].tids[k], w->now);
	return rv;
}

/*
 * 50 tunnels up; then tunnel 0 rekeys its CHILD_SA and its IKE SA and
 * closes, failing the Nth allocation after the setup (fail_at, -1:
 * none; *calls gets the count).  Every failure must leave both
 * contexts usable, touch at most one tunnel besides tunnel 0 (a timer
 * of its own that the failure hit), and leave every other tunnel up.
 */
static const char *
fm_many_run(long fail_at, long *calls, int *fatal)
{
	const char *problem = NULL;
	struct w w;
	long start;
	int i, k, touched = 0;

	memset(&fm, 0, sizeof(fm));
	fm.fail_at = -1;
	*fatal = 0;
	if (w_init(&w, 11) != VPNR_OK) {
		problem = "setup failed without injected failure";
		goto done;
	}
	for (i = 0; i < 2; i++)
		w.s[i].tids[0] = w.s[i].tid;
	w_rv(&w, &w.s[0], vpnr_tunnel_initiate(w.s[0].ctx, w.s[0].tid, w.now));
	if (w_add_many(&w) != VPNR_OK) {
		problem = "setup failed without injected failure";
		goto done;
	}
	w_run(&w, w_all_up, 60 * VPNR_SECONDS);
	if (!w_all_up(&w)) {
		problem = "50 tunnels did not come up";
		goto done;
	}
	start = fm.calls;
	fm.fail_at = fail_at < 0 ? -1 : start + fail_at;
	fm.phase = PH_CHILD_REKEY;
	w_rv(&w, &w.s[0],
	    vpnr_tunnel_rekey(w.s[0].ctx, w.s[0].tid, VPNR_REKEY_CHILD, w.now));
	w_run(&w, NULL, 5 * VPNR_SECONDS);
	fm.phase = PH_IKE_REKEY;
	if (!w.s[1].dead)
		w_rv(&w, &w.s[1],
		    vpnr_tunnel_rekey(w.s[1].ctx, w.s[1].tid, VPNR_REKEY_IKE,
			w.now));
	w_run(&w, NULL, 5 * VPNR_SECONDS);
	fm.phase = PH_CLOSE;
	if (!w.s[0].dead)
		w_rv(&w, &w.s[0],
		    vpnr_tunnel_close(w.s[0].ctx, w.s[0].tid, w.now));
	w_run(&w, NULL, 5 * VPNR_SECONDS);
	*calls = fm.calls - start;
	fm.fail_at = -1;
	/* A touched tunnel reconnects; the others must simply be up. */
	w_run(&w, w_others_up, 10 * VPNR_SECONDS);
	*fatal = w.s[0].dead || w.s[1].dead;
	for (k = 1; k < W_MANY; k++)
		touched += w.s[0].affected[k] || w.s[1].affected[k];
	if (*fatal)
		problem = "a context became unusable";
	else if (touched > 1)
		problem = "the failure touched more than one other tunnel";
	else if (!w_others_up(&w))
		problem = "a tunnel the failure did not touch went down";
	else if ((problem = w_consistent(&w)) != NULL)
		;
	else if (fail_at < 0 && (w.errors > 0 || touched > 0))
		problem = "scenario failed without injected failure";
	else if (fail_at >= 0 && !fm.failed)
		problem = "no failure injected";
done:
	w_free(&w);
	if (problem == NULL && fm.live != 0)
		problem = "leak: live allocations after vpnr_ctx_del";
	if (problem == NULL && fm.bad_free != 0)
		problem = "free of a block not from the hooks (or twice)";
	return problem;
}

static void
test_failmalloc_isolation_50_tunnels(void **state)
{
	const char *problem;
	long n, total = 0, calls = 0;
	int fatal, n_fatal = 0, failures = 0;

	(void)state;
	problem = fm_many_run(-1, &total, &fatal);
	if (problem != NULL)
		fail_msg("baseline: %s", problem);
	for (n = 0; n < total; n++) {
		problem = fm_many_run(n, &calls, &fatal);
		n_fatal += fatal;
		if (problem != NULL) {
			print_message("N=%ld (phase %d): %s\n", n,
			    fm.fail_phase, problem);
			failures++;
		}
	}
	print_message("50 tunnels up: %ld allocations after setup; %ld runs "
		      "with a failure injected: %d fatal, %d failed\n",
	    total, total, n_fatal, failures);
	assert_int_equal(n_fatal, 0);
	assert_int_equal(failures, 0);
}

static void
test_failmalloc_handshake(void **state)
{
	(void)state;
	fm_sweep(0);
}

static void
test_failmalloc_rekey_close(void **state)
{
	(void)state;
	fm_sweep(1);
}

/* The same sweep over IKEv1 tunnels: Main Mode, Quick Mode, both
 * rekeys, DELETE (ikev1_tunnel.c's allocations and the engine's). */
static void
test_failmalloc_ikev1(void **state)
{
	(void)state;
	fm_ikev1 = 1;
	fm_sweep(1);
	fm_ikev1 = 0;
}

static void
test_failmalloc_cookie_invalid_ke_pfs(void **state)
{
	(void)state;
	fm_variant = 1;
	fm_sweep(1);
	fm_variant = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failmalloc_handshake),
		cmocka_unit_test(test_failmalloc_rekey_close),
		cmocka_unit_test(test_failmalloc_cookie_invalid_ke_pfs),
		cmocka_unit_test(test_failmalloc_ikev1),
		cmocka_unit_test(test_failmalloc_isolation_50_tunnels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
