/*
 * Two contexts back to back: see ike_wire.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
ikew_push(struct ikew *w, int to, const vpnr_addr *local,
    const vpnr_addr *remote, const uint8_t *data, size_t len, int at)
{
	struct ikew_pkt *p;

	if (w->nq >= IKEW_MAX_PKT)
		return;
	if (at < 0 || at > w->nq)
		at = w->nq;
	memmove(&w->q[at + 1], &w->q[at],
	    (size_t)(w->nq - at) * sizeof(w->q[0]));
	p = &w->q[at];
	p->to = to;
	p->local = *local;
	p->remote = *remote;
	p->data = malloc(len);
	memcpy(p->data, data, len);
	p->len = len;
	w->nq++;
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
			    0;
			*bytes = *packets * 100;
			*last_used = 0; /* unknown: the counter speaks */
			return VPNR_OK;
		}
	return VPNR_ERR_NOT_FOUND;
}

int
ikew_init(struct ikew *w, uint64_t seed, uint32_t cookie_threshold)
{
	return ikew_init_ports(w, seed, cookie_threshold, NULL);
}

int
ikew_init_ports(struct ikew *w, uint64_t seed, uint32_t cookie_threshold,
    const uint16_t ports[4])
{
	vpnr_callbacks cb;
	vpnr_dataplane dp;
	vpnr_config *cfg;
	int i, rv;
	static const char *addrs[2] = { "192.0.2.1", "198.51.100.2" };

	memset(w, 0, sizeof(*w));
	w->now = 1000 * VPNR_SECONDS;
	w->rng = seed * 7919 + 1;
	if (getenv("IKEW_VERBOSE") != NULL)
		w->verbose = 1;
	memset(&cb, 0, sizeof(cb));
	cb.send_datagram = ikew_send;
	cb.rand_bytes = ikew_rand_bytes;
	cb.tunnel_event = ikew_event;
	cb.log_msg = ikew_log;
	memset(&dp, 0, sizeof(dp));
	dp.sa_add = ikew_sa_add;
	dp.sa_del = ikew_sa_del;
	dp.policy_add = ikew_policy_add;
	dp.policy_del = ikew_policy_del;
	dp.sa_query = ikew_sa_query;
	for (i = 0; i < 2; i++) {
		struct ikew_side *s = &w->s[i];

		s->w = w;
		s->idx = i;
		s->rng = seed * 1000003 + (uint64_t)i * 77 + 5;
		if ((rv = vpnr_config_new(&cfg, NULL)) != VPNR_OK)
			return rv;
		vpnr_config_set_cookie_threshold(cfg, cookie_threshold);
		if (ports != NULL)
			vpnr_config_set_ike_ports(cfg, ports[2 * i],
			    ports[2 * i + 1]);
		vpnr_config_set_log_level(cfg,
		    w->verbose ? VPNR_LOG_DEBUG : VPNR_LOG_ERR);
		rv = vpnr_ctx_new(&s->ctx, cfg, &cb, s, &dp, s, NULL);
		vpnr_config_del(cfg);
		if (rv != VPNR_OK)
			return rv;
		vpnr_addr_parse(&s->addr, addrs[i]);
		if ((rv = vpnr_tunnel_config_new(&s->tc, NULL)) != VPNR_OK)
			return rv;
	}
	for (i = 0; i < 2; i++) {
		struct ikew_side *s = &w->s[i];

		vpnr_tunnel_config_set_addrs(s->tc, &s->addr, &w->s[!i].addr);
		vpnr_tunnel_config_set_psk(s->tc, (const uint8_t *)"test-psk",
		    8);
	}
	return VPNR_OK;
}

int
ikew_add_tunnel(struct ikew *w, int i)
{
	return vpnr_tunnel_add(w->s[i].ctx, w->s[i].tc, &w->s[i],
	    &w->s[i].tunnel_id);
}

void
ikew_free(struct ikew *w)
{
	int i;

	for (i = 0; i < w->nq; i++)
		free(w->q[i].data);
	w->nq = 0;
	for (i = 0; i < 2; i++) {
		vpnr_ctx_del(w->s[i].ctx);
		vpnr_tunnel_config_del(w->s[i].tc);
		w->s[i].ctx = NULL;
		w->s[i].tc = NULL;
	}
}

int
ikew_flush(struct ikew *w)
{
	struct ikew_pkt p;
	int n = 0, rv;

	while (w->nq > 0 && n < 100000) {
		p = w->q[0];
		memmove(&w->q[0], &w->q[1],
		    (size_t)(w->nq - 1) * sizeof(w->q[0]));
		w->nq--;
		if (w->on_deliver != NULL)
			w->on_deliver(w, &p);
		rv = vpnr_ctx_recv_datagram(w->s[p.to].ctx, &p.local, &p.remote,
		    p.data, p.len, w->now);
		if (rv != VPNR_OK)
			w->s[p.to].recv_errors++;
		free(p.data);
		w->delivered++;
		n++;
	}
	return n;
}

static vpnr_tstamp
ikew_next(struct ikew *w)
{
	vpnr_tstamp a = vpnr_ctx_get_expiry(w->s[0].ctx);
	vpnr_tstamp b = vpnr_ctx_get_expiry(w->s[1].ctx);

	return a < b ? a : b;
}

static void
ikew_timers(struct ikew *w)
{
	int i;

	for (i = 0; i < 2; i++)
		if (vpnr_ctx_get_expiry(w->s[i].ctx) <= w->now)
			vpnr_ctx_handle_expiry(w->s[i].ctx, w->now);
}

void
ikew_advance(struct ikew *w, vpnr_tstamp dt)
{
	vpnr_tstamp end = w->now + dt, next;

	for (;;) {
		ikew_flush(w);
		ikew_timers(w);
		if (w->nq > 0)
			continue;
		next = ikew_next(w);
		if (next > end)
			break;
		if (next > w->now)
			w->now = next;
	}
	w->now = end;
	ikew_timers(w);
	ikew_flush(w);
}

int
ikew_run_until(struct ikew *w, int (*pred)(struct ikew *, void *), void *arg,
    vpnr_tstamp max)
{
	vpnr_tstamp end = w->now + max, next;

	for (;;) {
		ikew_flush(w);
		ikew_timers(w);
		if (pred(w, arg))
			return 1;
		if (w->nq > 0)
			continue;
		next = ikew_next(w);
		if (next > end)
			break;
		if (next > w->now)
			w->now = next;
	}
	return pred(w, arg);
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

static const struct ikew_sa *
ikew_find_in(const struct ikew_side *s, uint32_t spi)
{
	int i;

	for (i = 0; i < IKEW_MAX_SA; i++)
		if (s->sas[i].live && s->sas[i].dir == VPNR_DIR_IN &&
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
			in = ikew_find_in(b, o->spi);
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
