/*
 * Two contexts back to back: see ike_wire.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vpnroute/vpnroute.h>

#include "ike_wire.h"

static uint64_t
ikew_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
ikew_rand_bytes(vpnr_ctx *ctx, uint8_t *buf, size_t len, void *ud)
{
	struct ikew_side *s = ud;
	size_t i;
	uint64_t r = 0;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			r = ikew_rand64(&s->rng);
		buf[i] = (uint8_t)(r >> (8 * (i % 8)));
	}
	return VPNR_OK;
}

/* Room for one more packet at the back of the ring; 0 if full. */
static int
ikew_room(struct ikew *w)
{
	struct ikew_pkt **nq;
	int cap;

	if (w->max_queue >= 0 && w->nq >= w->max_queue)
		return 0;
	if (w->qhead + w->nq < w->qcap)
		return 1;
	if (w->qhead > 0) {
		memmove(&w->q[0], &w->q[w->qhead],
		    (size_t)w->nq * sizeof(w->q[0]));
		w->qhead = 0;
		return 1;
	}
	cap = w->qcap ? w->qcap * 2 : 64;
	if ((nq = realloc(w->q, (size_t)cap * sizeof(*nq))) == NULL)
		return 0;
	w->q = nq;
	w->qcap = cap;
	return 1;
}

/* Queue p at position at (-1: the back), or free it if full. */
static void
ikew_insert(struct ikew *w, struct ikew_pkt *p, int at)
{
	struct ikew_pkt **q;

	if (!ikew_room(w)) {
		free(p);
		return;
	}
	if (at < 0 || at > w->nq)
		at = w->nq;
	q = &w->q[w->qhead];
	memmove(&q[at + 1], &q[at], (size_t)(w->nq - at) * sizeof(q[0]));
	q[at] = p;
	w->nq++;
}

static void
ikew_push(struct ikew *w, int to, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, int at)
{
	struct ikew_pkt *p;

	if (w->max_queue >= 0 && w->nq >= w->max_queue)
		return;
	if ((p = malloc(sizeof(*p) + len)) == NULL)
		return;
	p->to = to;
	p->local = *local;
	p->remote = *remote;
	p->len = len;
	memcpy(p->data, data, len);
	ikew_insert(w, p, at);
}

struct ikew_pkt *
ikew_peek(struct ikew *w, int i)
{
	return i >= 0 && i < w->nq ? w->q[w->qhead + i] : NULL;
}

struct ikew_pkt *
ikew_pop(struct ikew *w)
{
	struct ikew_pkt *p;

	if (w->nq == 0)
		return NULL;
	p = w->q[w->qhead++];
	if (--w->nq == 0)
		w->qhead = 0;
	return p;
}

void
ikew_requeue(struct ikew *w, struct ikew_pkt *p)
{
	ikew_insert(w, p, -1);
}

void
ikew_clear(struct ikew *w)
{
	struct ikew_pkt *p;

	while ((p = ikew_pop(w)) != NULL)
		free(p);
}

vpnr_tstamp
ikew_now(struct ikew *w)
{
	struct timespec ts;

	if (!w->opts.real_clock)
		return w->now;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (vpnr_tstamp)ts.tv_sec * 1000000000ULL + (vpnr_tstamp)ts.tv_nsec;
}

static int
ikew_send(vpnr_ctx *ctx, const vpnr_addr *local, const vpnr_addr *remote,
    const uint8_t *data, size_t len, void *ud)
{
	struct ikew_side *s = ud;
	struct ikew *w = s->w;
	int at = -1;

	s->sent++;
	if (s->silent)
		return VPNR_OK;
	if (w->on_send != NULL && w->on_send(s, local, remote, data, len))
		return VPNR_OK;
	if (w->loss_pct && (int)(ikew_rand64(&w->rng) % 100) < w->loss_pct) {
		w->dropped++;
		return VPNR_OK;
	}
	if (w->reorder_pct && w->nq > 0 &&
	    (int)(ikew_rand64(&w->rng) % 100) < w->reorder_pct) {
		at = (int)(ikew_rand64(&w->rng) % (uint64_t)w->nq);
		w->reordered++;
	}
	/* The receiver sees: local = where it was sent, remote = sender. */
	ikew_push(w, !s->idx, remote, local, data, len, at);
	if (w->dup_pct && (int)(ikew_rand64(&w->rng) % 100) < w->dup_pct) {
		ikew_push(w, !s->idx, remote, local, data, len, -1);
		w->duplicated++;
	}
	return VPNR_OK;
}

static struct ikew_trace *
ikew_tr(struct ikew_side *s, char kind)
{
	struct ikew_trace *t;

	if (s->n_trace >= IKEW_MAX_TRACE)
		return &s->trace[IKEW_MAX_TRACE - 1];
	t = &s->trace[s->n_trace++];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	return t;
}

int
ikew_trace_find(const struct ikew_side *s, char kind, uint32_t type, int from)
{
	int i;

	for (i = from < 0 ? 0 : from; i < s->n_trace; i++)
		if (s->trace[i].kind == kind &&
		    (kind != IKEW_T_EVENT || s->trace[i].type == type))
			return i;
	return -1;
}

static int
ikew_event(vpnr_ctx *ctx, const vpnr_tunnel_event *ev, void *ud)
{
	struct ikew_side *s = ud;
	struct ikew_trace *t = ikew_tr(s, IKEW_T_EVENT);

	t->type = ev->type;
	t->status = ev->reason;
	t->notify = ev->notify;
	t->id = ev->sa_id;

	if (s->w->verbose)
		fprintf(stderr, "[%d] event %u reason %d notify %u\n", s->idx,
		    ev->type, ev->reason, ev->notify);
	if (s->n_ev < IKEW_MAX_EV) {
		s->ev[s->n_ev].type = ev->type;
		s->ev[s->n_ev].reason = ev->reason;
		s->ev[s->n_ev].notify = ev->notify;
		s->ev[s->n_ev].sa_id = ev->sa_id;
		s->ev[s->n_ev].tunnel_id = ev->tunnel_id;
		s->n_ev++;
	}
	if (s->on_event != NULL)
		return s->on_event(s, ev);
	return VPNR_OK;
}

static void
ikew_log(vpnr_ctx *ctx, int level, const char *subsys, const char *msg,
    size_t len, void *ud)
{
	struct ikew_side *s = ud;

	if (s->w->verbose)
		fprintf(stderr, "[%d] %s: %.*s\n", s->idx, subsys, (int)len,
		    msg);
}

static int
ikew_sa_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	int i;

	if (ikew_find_sa(s, sa->spi, sa->direction) != NULL)
		s->dup_spi++;
	/* vpnr_dp_replay() re-adds an SA we have: one entry per SA. */
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].sa_id == sa->sa_id)
			s->sas[i].live = 0;
	for (i = 0; i < IKEW_MAX_SA; i++) {
		struct ikew_sa *x = &s->sas[i];

		if (x->live)
			continue;
		memset(x, 0, sizeof(*x));
		x->live = 1;
		x->sa_id = sa->sa_id;
		x->spi = sa->spi;
		x->dir = sa->direction;
		x->flags = sa->flags;
		x->src = sa->src;
		x->dst = sa->dst;
		x->encr = sa->encr_id;
		x->encr_bits = sa->encr_key_bits;
		x->integ = sa->integ_id;
		if (sa->encr_key_len > sizeof(x->ek) ||
		    sa->integ_key_len > sizeof(x->ik))
			return VPNR_ERR_DATAPLANE;
		memcpy(x->ek, sa->encr_key, sa->encr_key_len);
		x->ek_len = sa->encr_key_len;
		if (sa->integ_key_len)
			memcpy(x->ik, sa->integ_key, sa->integ_key_len);
		x->ik_len = sa->integ_key_len;
		x->replay_window = sa->replay_window;
		x->tunnel_id = sa->tunnel_id;
		x->if_id = sa->if_id;
		if (sa->n_ts_local > 0 && sa->n_ts_remote > 0) {
			x->ts_local = sa->ts_local[0];
			x->ts_remote = sa->ts_remote[0];
		}
		s->n_add++;
		{
			struct ikew_trace *t = ikew_tr(s, IKEW_T_ADD);

			t->spi = sa->spi;
			t->dir = sa->direction;
			t->id = sa->sa_id;
		}
		if (++s->n_sa_add_calls == s->fail_at && s->fail_at != 0) {
			if (s->fail_mode == IKEW_DP_FAIL) {
				x->live = 0;
				return VPNR_ERR_DATAPLANE;
			}
			if (s->fail_mode == IKEW_DP_OTHER && s->n_pending > 0) {
				/* Complete another op inside this one. */
				int before = s->n_trace, k;

				s->inside_rv = vpnr_dp_complete(ctx,
				    s->pending[0], s->inside_status, s->w->now);
				s->inside_ran = s->n_trace - before;
				if (s->inside_status < 0 &&
				    s->pending_sa[0] >= 0)
					s->sas[s->pending_sa[0]].live = 0;
				for (k = 1; k < s->n_pending; k++) {
					s->pending[k - 1] = s->pending[k];
					s->pending_sa[k - 1] = s->pending_sa[k];
				}
				s->n_pending--;
				s->pending_sa[s->n_pending] = i;
				s->pending[s->n_pending++] = op_id;
				return VPNR_ASYNC;
			}
			/* Completed inside its own callback. */
			s->inside_rv = vpnr_dp_complete(ctx, op_id,
			    s->inside_status, s->w->now);
			if (s->inside_status < 0)
				x->live = 0;
			return VPNR_ASYNC;
		}
		if (s->dp_async && s->n_pending < IKEW_MAX_SA) {
			s->pending_sa[s->n_pending] = i;
			s->pending[s->n_pending++] = op_id;
			return VPNR_ASYNC;
		}
		return VPNR_OK;
	}
	return VPNR_ERR_DATAPLANE;
}

static int
ikew_sa_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_child_sa *sa, void *dp)
{
	struct ikew_side *s = dp;
	int i;

	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].sa_id == sa->sa_id) {
			struct ikew_trace *t = ikew_tr(s, IKEW_T_DEL);

			t->spi = sa->spi;
			t->dir = sa->direction;
			t->id = sa->sa_id;
			s->sas[i].live = 0;
			s->n_del++;
			return VPNR_OK;
		}
	return VPNR_OK;
}

/* Keep s->pols: one entry per live policy_id. */
static void
ikew_pol_note(struct ikew_side *s, const vpnr_policy *pol, int add)
{
	struct ikew_pol *free_slot = NULL;
	int i;

	for (i = 0; i < IKEW_MAX_SA; i++) {
		struct ikew_pol *p = &s->pols[i];

		if (p->live && p->policy_id == pol->policy_id)
			p->live = 0;
		if (!p->live && free_slot == NULL)
			free_slot = p;
	}
	if (!add || free_slot == NULL)
		return;
	free_slot->live = 1;
	free_slot->policy_id = pol->policy_id;
	free_slot->tunnel_id = pol->tunnel_id;
	free_slot->out_sa_id = pol->out_sa_id;
	free_slot->dir = pol->direction;
	free_slot->if_id = pol->if_id;
	free_slot->ts_local = pol->ts_local;
	free_slot->ts_remote = pol->ts_remote;
}

static int
ikew_policy(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dp,
    char kind)
{
	struct ikew_side *s = dp;
	struct ikew_trace *t;

	if (!s->dp_policies)
		return VPNR_OK;
	t = ikew_tr(s, kind);
	t->id = pol->policy_id;
	t->dir = pol->direction;
	t->spi = (uint32_t)pol->out_sa_id;
	ikew_pol_note(s, pol, kind == IKEW_T_POL_ADD);
	if (kind == IKEW_T_POL_ADD && s->dp_async &&
	    s->n_pending < IKEW_MAX_SA) {
		s->pending_sa[s->n_pending] = -1;
		s->pending[s->n_pending++] = op_id;
		return VPNR_ASYNC;
	}
	return VPNR_OK;
}

static int
ikew_policy_add(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dp)
{
	return ikew_policy(ctx, op_id, pol, dp, IKEW_T_POL_ADD);
}

static int
ikew_policy_del(vpnr_ctx *ctx, uint64_t op_id, const vpnr_policy *pol, void *dp)
{
	return ikew_policy(ctx, op_id, pol, dp, IKEW_T_POL_DEL);
}

static int
ikew_sa_query(vpnr_ctx *ctx, uint64_t sa_id, uint64_t *bytes, uint64_t *packets,
    vpnr_tstamp *last_used, void *dp)
{
	struct ikew_side *s = dp;
	int i;

	s->n_query++;
	if (!s->dp_query)
		return VPNR_ERR_NOT_FOUND;
	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].sa_id == sa_id) {
			*packets = s->sas[i].dir == VPNR_DIR_IN ?
			    s->esp_in_packets :
			    s->esp_out_packets;
			*bytes = *packets * 100;
			/* 0: unknown, the counter speaks */
			*last_used = s->sas[i].dir == VPNR_DIR_IN ?
			    s->esp_in_used :
			    s->esp_out_used;
			return VPNR_OK;
		}
	return VPNR_ERR_NOT_FOUND;
}

static int
ikew_noop_sa(vpnr_ctx *ctx, uint64_t op, const vpnr_child_sa *sa, void *dp)
{
	return VPNR_OK;
}

static int
ikew_noop_pol(vpnr_ctx *ctx, uint64_t op, const vpnr_policy *p, void *dp)
{
	return VPNR_OK;
}

const vpnr_dataplane ikew_dp_record = {
	.sa_add = ikew_sa_add,
	.sa_del = ikew_sa_del,
	.policy_add = ikew_policy_add,
	.policy_del = ikew_policy_del,
	.sa_query = ikew_sa_query,
};

const vpnr_dataplane ikew_dp_noop = {
	.sa_add = ikew_noop_sa,
	.sa_del = ikew_noop_sa,
	.policy_add = ikew_noop_pol,
	.policy_del = ikew_noop_pol,
};

int
ikew_init(struct ikew *w, uint64_t seed, uint32_t cookie_threshold)
{
	return ikew_init_ports(w, seed, cookie_threshold, NULL);
}

int
ikew_init_ports(struct ikew *w, uint64_t seed, uint32_t cookie_threshold,
    const uint16_t ports[4])
{
	struct ikew_opts o;

	memset(&o, 0, sizeof(o));
	o.seed = seed;
	o.cookie_threshold = (int)cookie_threshold;
	o.ports = ports;
	return ikew_new(w, &o);
}

static int
ikew_new_ctx(struct ikew *w, const struct ikew_opts *o, int i,
    const vpnr_callbacks *cb, const vpnr_dataplane *dp)
{
	struct ikew_side *s = &w->s[i];
	vpnr_config *cfg;
	int rv;

	if ((rv = vpnr_config_new(&cfg, o->mem[i])) != VPNR_OK)
		return rv;
	if (o->cookie_threshold >= 0)
		vpnr_config_set_cookie_threshold(cfg,
		    (uint32_t)o->cookie_threshold);
	if (o->ports != NULL)
		vpnr_config_set_ike_ports(cfg, o->ports[2 * i],
		    o->ports[2 * i + 1]);
	vpnr_config_set_log_level(cfg,
	    w->verbose ? VPNR_LOG_DEBUG : VPNR_LOG_ERR);
	if (o->config != NULL)
		o->config(cfg, i, o->arg);
	rv = vpnr_ctx_new(&s->ctx, cfg, cb, s, dp, s, o->mem[i]);
	vpnr_config_del(cfg);
	return rv;
}

/* The per-tunnel settings of o on side i's tunnel config. */
static int
ikew_new_tc(struct ikew *w, const struct ikew_opts *o, int i)
{
	struct ikew_side *s = &w->s[i];
	const char *psk = o->psk != NULL ? o->psk : "test-psk";
	int k, rv;

	if ((rv = vpnr_tunnel_config_new(&s->tc, o->mem[i])) != VPNR_OK ||
	    (rv = vpnr_tunnel_config_set_addrs(s->tc, &s->addr,
		 &w->s[!i].addr)) != VPNR_OK ||
	    (rv = vpnr_tunnel_config_set_psk(s->tc, (const uint8_t *)psk,
		 strlen(psk))) != VPNR_OK)
		return rv;
	if (o->ike_version != 0 &&
	    (rv = vpnr_tunnel_config_set_ike_version(s->tc, o->ike_version,
		 0)) != VPNR_OK)
		return rv;
	for (k = 0; o->ike != NULL && o->ike[k] != NULL; k++)
		if ((rv = vpnr_tunnel_config_add_ike_proposal(s->tc,
			 o->ike[k])) != VPNR_OK)
			return rv;
	for (k = 0; o->esp != NULL && o->esp[k] != NULL; k++)
		if ((rv = vpnr_tunnel_config_add_esp_proposal(s->tc,
			 o->esp[k])) != VPNR_OK)
			return rv;
	return VPNR_OK;
}

int
ikew_new(struct ikew *w, const struct ikew_opts *o)
{
	vpnr_callbacks cb;
	int i, rv;
	static const char *addrs[2] = { "192.0.2.1", "198.51.100.2" };

	memset(w, 0, sizeof(*w));
	w->opts = *o;
	w->now = 1000 * VPNR_SECONDS;
	w->max_queue = o->max_queue == 0 ? IKEW_MAX_PKT : o->max_queue;
	w->rng = o->seed * 7919 + 1;
	if (getenv("IKEW_VERBOSE") != NULL)
		w->verbose = 1;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = ikew_send;
	if (!o->real_rand)
		cb.rand_bytes = ikew_rand_bytes;
	cb.tunnel_event = ikew_event;
	cb.log_msg = ikew_log;
	for (i = 0; i < 2; i++) {
		struct ikew_side *s = &w->s[i];

		s->w = w;
		s->idx = i;
		s->rng = o->rng[0] || o->rng[1] ?
		    o->rng[i] :
		    o->seed * 1000003 + (uint64_t)i * 77 + 5;
		vpnr_addr_parse(&s->addr, addrs[i]);
		if ((rv = ikew_new_ctx(w, o, i, &cb,
			 o->dp != NULL ? o->dp : &ikew_dp_record)) != VPNR_OK)
			return rv;
	}
	for (i = 0; i < 2; i++)
		if ((rv = ikew_new_tc(w, o, i)) != VPNR_OK)
			return rv;
	return VPNR_OK;
}

int
ikew_new_configs(struct ikew *w)
{
	int i, rv;

	for (i = 0; i < 2; i++) {
		vpnr_tunnel_config_del(w->s[i].tc);
		w->s[i].tc = NULL;
		if ((rv = ikew_new_tc(w, &w->opts, i)) != VPNR_OK)
			return rv;
	}
	return VPNR_OK;
}

int
ikew_add_tunnel(struct ikew *w, int i)
{
	return vpnr_tunnel_add(w->s[i].ctx, w->s[i].tc, &w->s[i],
	    &w->s[i].tunnel_id);
}

int
ikew_add_pair(struct ikew *w, uint64_t ids[2])
{
	int i, rv;

	for (i = 0; i < 2; i++) {
		if ((rv = ikew_add_tunnel(w, i)) != VPNR_OK)
			return rv;
		if (ids != NULL)
			ids[i] = w->s[i].tunnel_id;
	}
	return VPNR_OK;
}

int
ikew_set_addrs(struct ikew *w, const vpnr_addr *a0, const vpnr_addr *a1)
{
	int rv = vpnr_tunnel_config_set_addrs(w->s[0].tc, a0, a1);

	return rv != VPNR_OK ? rv :
			       vpnr_tunnel_config_set_addrs(w->s[1].tc, a1, a0);
}

void
ikew_free(struct ikew *w)
{
	int i;

	ikew_clear(w);
	for (i = 0; i < 2; i++) {
		vpnr_ctx_del(w->s[i].ctx);
		vpnr_tunnel_config_del(w->s[i].tc);
		w->s[i].ctx = NULL;
		w->s[i].tc = NULL;
	}
	/* Deleting a context may send (DELETE): drop that too. */
	ikew_clear(w);
	free(w->q);
	w->q = NULL;
	w->qcap = 0;
}

int
ikew_rv(struct ikew_side *s, int rv)
{
	if (rv == VPNR_OK)
		return rv;
	if (s->w->on_rv != NULL)
		s->w->on_rv(s, rv);
	if (vpnr_err_is_fatal(rv))
		s->dead = 1;
	return rv;
}

void
ikew_deliver(struct ikew *w, const struct ikew_pkt *p)
{
	struct ikew_side *s = &w->s[p->to];

	if (s->dead)
		return;
	if (w->on_deliver != NULL)
		w->on_deliver(w, p);
	if (ikew_rv(s,
		vpnr_ctx_recv_datagram(s->ctx, &p->local, &p->remote, p->data,
		    p->len, ikew_now(w))) != VPNR_OK)
		s->recv_errors++;
	w->delivered++;
}

static int
ikew_max_flush(const struct ikew *w)
{
	return w->opts.max_flush > 0 ? w->opts.max_flush : 100000;
}

int
ikew_flush(struct ikew *w)
{
	struct ikew_pkt *p;
	int n = 0;

	while (n < ikew_max_flush(w) && (p = ikew_pop(w)) != NULL) {
		ikew_deliver(w, p);
		free(p);
		n++;
	}
	return n;
}

static vpnr_tstamp
ikew_next(struct ikew *w)
{
	vpnr_tstamp t, next = VPNR_TSTAMP_NEVER;
	int i;

	for (i = 0; i < 2; i++)
		if (!w->s[i].dead &&
		    (t = vpnr_ctx_get_expiry(w->s[i].ctx)) < next)
			next = t;
	return next;
}

void
ikew_timers(struct ikew *w)
{
	vpnr_tstamp now = ikew_now(w);
	int i;

	for (i = 0; i < 2; i++)
		if (!w->s[i].dead && vpnr_ctx_get_expiry(w->s[i].ctx) <= now)
			ikew_rv(&w->s[i],
			    vpnr_ctx_handle_expiry(w->s[i].ctx, now));
}

/* Deliver and run timers, the fake clock going no further than end,
 * until pred (if not NULL) holds (returns 1) or nothing is left to do
 * before end (0).  A flush cut short by max_flush lets time pass. */
static int
ikew_run(struct ikew *w, int (*pred)(struct ikew *, void *), void *arg,
    vpnr_tstamp end)
{
	vpnr_tstamp next;
	int capped;

	for (;;) {
		capped = ikew_flush(w) >= ikew_max_flush(w) && w->nq > 0;
		ikew_timers(w);
		if (pred != NULL && pred(w, arg))
			return 1;
		if (w->nq > 0 && !capped)
			continue;
		next = ikew_next(w);
		if (next > end)
			return 0;
		if (next > w->now)
			w->now = next;
	}
}

void
ikew_advance(struct ikew *w, vpnr_tstamp dt)
{
	vpnr_tstamp end = w->now + dt;

	ikew_run(w, NULL, NULL, end);
	w->now = end;
	ikew_timers(w);
	ikew_flush(w);
}

int
ikew_run_until(struct ikew *w, int (*pred)(struct ikew *, void *), void *arg,
    vpnr_tstamp max)
{
	return ikew_run(w, pred, arg, w->now + max) || pred(w, arg);
}

int
ikew_complete(struct ikew *w, int i, int status)
{
	struct ikew_side *s = &w->s[i];
	int k, n = s->n_pending;

	s->n_pending = 0;
	for (k = 0; k < n; k++) {
		struct ikew_trace *t = ikew_tr(s, IKEW_T_COMPLETE);

		t->id = s->pending[k];
		t->status = status;
		/* A failed add leaves nothing installed. */
		if (status < 0 && s->pending_sa[k] >= 0)
			s->sas[s->pending_sa[k]].live = 0;
		vpnr_dp_complete(s->ctx, s->pending[k], status, w->now);
	}
	return n;
}

int
ikew_complete_one(struct ikew *w, int i, int status)
{
	struct ikew_side *s = &w->s[i];
	struct ikew_trace *t;
	uint64_t op;
	int k;

	if (s->n_pending == 0)
		return 0;
	op = s->pending[0];
	if (status < 0 && s->pending_sa[0] >= 0)
		s->sas[s->pending_sa[0]].live = 0;
	for (k = 1; k < s->n_pending; k++) {
		s->pending[k - 1] = s->pending[k];
		s->pending_sa[k - 1] = s->pending_sa[k];
	}
	s->n_pending--;
	t = ikew_tr(s, IKEW_T_COMPLETE);
	t->id = op;
	t->status = status;
	return vpnr_dp_complete(s->ctx, op, status, w->now) == VPNR_OK;
}

int
ikew_count_ev(const struct ikew_side *s, uint32_t type)
{
	int i, n = 0;

	for (i = 0; i < s->n_ev; i++)
		if (s->ev[i].type == type)
			n++;
	return n;
}

int
ikew_count_ev_of(const struct ikew_side *s, uint32_t type, uint64_t tunnel_id)
{
	int i, n = 0;

	for (i = 0; i < s->n_ev; i++)
		if (s->ev[i].type == type && s->ev[i].tunnel_id == tunnel_id)
			n++;
	return n;
}

const struct ikew_ev *
ikew_last_ev(const struct ikew_side *s, uint32_t type)
{
	int i;

	for (i = s->n_ev - 1; i >= 0; i--)
		if (s->ev[i].type == type)
			return &s->ev[i];
	return NULL;
}

int
ikew_count_sa(const struct ikew_side *s, uint8_t dir)
{
	int i, n = 0;

	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].dir == dir)
			n++;
	return n;
}

const struct ikew_sa *
ikew_find_sa(const struct ikew_side *s, uint32_t spi, uint8_t dir)
{
	int i;

	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].dir == dir &&
		    s->sas[i].spi == spi)
			return &s->sas[i];
	return NULL;
}

int
ikew_check_pairs(const struct ikew *w)
{
	int i, k, pairs = 0;

	for (k = 0; k < 2; k++) {
		const struct ikew_side *a = &w->s[k], *b = &w->s[!k];

		if (ikew_count_sa(a, VPNR_DIR_OUT) !=
		    ikew_count_sa(b, VPNR_DIR_IN))
			return -1;
		for (i = 0; i < IKEW_MAX_SA; i++) {
			const struct ikew_sa *o = &a->sas[i], *in;

			if (!o->live || o->dir != VPNR_DIR_OUT)
				continue;
			in = ikew_find_sa(b, o->spi, VPNR_DIR_IN);
			if (in == NULL || in->encr != o->encr ||
			    in->encr_bits != o->encr_bits ||
			    in->integ != o->integ || in->ek_len != o->ek_len ||
			    memcmp(in->ek, o->ek, o->ek_len) != 0 ||
			    in->ik_len != o->ik_len ||
			    memcmp(in->ik, o->ik, o->ik_len) != 0 ||
			    in->flags != o->flags)
				return -1;
			pairs++;
		}
	}
	return pairs / 2;
}

int
ikew_pred_up(struct ikew *w, void *arg)
{
	vpnr_tunnel_info a, b;

	if (vpnr_tunnel_get_info(w->s[0].ctx, w->s[0].tunnel_id, &a) != 0 ||
	    vpnr_tunnel_get_info(w->s[1].ctx, w->s[1].tunnel_id, &b) != 0)
		return 0;
	return a.state == VPNR_TUNNEL_ESTABLISHED &&
	    b.state == VPNR_TUNNEL_ESTABLISHED && a.child_spi_in != 0 &&
	    b.child_spi_in != 0 && ikew_check_pairs(w) >= 1;
}

int
ikew_bring_up(struct ikew *w, vpnr_tstamp max)
{
	if (vpnr_tunnel_initiate(w->s[0].ctx, w->s[0].tunnel_id, ikew_now(w)) !=
	    VPNR_OK)
		return 0;
	return ikew_run_until(w, ikew_pred_up, NULL, max);
}

int
ikew_info(struct ikew *w, int i, vpnr_tunnel_info *inf)
{
	return vpnr_tunnel_get_info(w->s[i].ctx, w->s[i].tunnel_id, inf);
}
