/*
 * Hostile IKE_SA_INIT (RFC 7296 1.5, 2.5, 2.6): unknown critical
 * payloads, higher major versions, per-source COOKIE and drop
 * thresholds, a flood from 10,000 addresses against the global cap,
 * and a legitimate initiator that still gets through.  A responder
 * context R (with a counting allocator, so "no state" is checked as
 * "no byte allocated") and an initiator L are wired back to back
 * (tests/helpers/ike_wire.h); requests from other addresses are
 * crafted from a real IKE_SA_INIT of L's and injected into R directly.  One
 * test seals an encrypted request with L's IKE SA keys (white box) to check
 * that later exchanges refuse unknown critical payloads too.
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

#include "helpers/ike_wire.h"

/* White box, for one encrypted message built with an IKE SA's keys. */
#include "buf.h"
#include "ipsec/ike.h"

#define HX_MAXMSG  2048
#define HX_SOURCES 10000

/* The wire (tests/helpers/ike_wire.h): L is side 0, R side 1. */
struct hx {
	struct ikew w;
	vpnr_ctx *r, *l;
	uint64_t r_tid, l_tid;
	vpnr_addr r_addr, l_addr;
	void (*cfg_fn)(vpnr_config *); /* R's settings */
	/* R's last answer to an injected request (not to L). */
	uint8_t ans[HX_MAXMSG];
	size_t ans_len;
	int n_ans;
	/* R's allocator. */
	size_t mem_in_use;
	uint8_t tmpl[HX_MAXMSG]; /* L's IKE_SA_INIT request */
	size_t tmpl_len;
};

/* ---- R's counting allocator ---- */

static void *
hx_alloc(size_t n, void *ud)
{
	struct hx *h = ud;
	size_t *p = malloc(n + 16);

	if (p == NULL)
		return NULL;
	p[0] = n;
	h->mem_in_use += n;
	return (uint8_t *)p + 16;
}

static void *
hx_zalloc(size_t m, size_t n, void *ud)
{
	void *p;

	if (n != 0 && m > SIZE_MAX / n)
		return NULL;
	if ((p = hx_alloc(m * n, ud)) != NULL)
		memset(p, 0, m * n);
	return p;
}

static void
hx_free(void *ptr, void *ud)
{
	struct hx *h = ud;
	size_t *p;

	if (ptr == NULL)
		return;
	p = (size_t *)((uint8_t *)ptr - 16);
	h->mem_in_use -= p[0];
	free(p);
}

static void *
hx_realloc(void *ptr, size_t n, void *ud)
{
	size_t *p, old;
	void *q;

	if (ptr == NULL)
		return hx_alloc(n, ud);
	p = (size_t *)((uint8_t *)ptr - 16);
	old = p[0];
	if ((q = hx_alloc(n, ud)) == NULL)
		return NULL;
	memcpy(q, ptr, old < n ? old : n);
	hx_free(ptr, ud);
	return q;
}

/* ---- the wire ---- */

/* R's answers to the crafted requests never reach L: keep the last. */
static int
hx_capture(struct ikew_side *s, const vpnr_addr *l, const vpnr_addr *r,
    const uint8_t *d, size_t n)
{
	struct hx *h = s->w->user;

	assert_true(n <= HX_MAXMSG);
	if (s->idx != 1 || memcmp(r->bytes, h->l_addr.bytes, 4) == 0)
		return 0;
	memcpy(h->ans, d, n);
	h->ans_len = n;
	h->n_ans++;
	return 1;
}

static void
hx_config(vpnr_config *cfg, int side, void *arg)
{
	struct hx *h = arg;

	if (side == 1 && h->cfg_fn != NULL)
		h->cfg_fn(cfg);
}

static void
hx_addr(vpnr_addr *a, uint32_t v4)
{
	memset(a, 0, sizeof(*a));
	a->family = VPNR_AF_INET;
	a->bytes[0] = (uint8_t)(v4 >> 24);
	a->bytes[1] = (uint8_t)(v4 >> 16);
	a->bytes[2] = (uint8_t)(v4 >> 8);
	a->bytes[3] = (uint8_t)v4;
}

/* A source address of the flood: 10.0.0.0/16 from 10.0.0.1 up. */
static uint32_t
hx_src(int i)
{
	return 0x0a000000u + 1 + (uint32_t)i;
}

/* One more tunnel on R, to remote. */
static void
hx_tunnel(struct hx *h, const vpnr_addr *remote)
{
	vpnr_tunnel_config *tc = h->w.s[1].tc;
	uint64_t id;

	assert_int_equal(vpnr_tunnel_config_set_addrs(tc, &h->r_addr, remote),
	    VPNR_OK);
	assert_int_equal(vpnr_tunnel_add(h->r, tc, NULL, &id), VPNR_OK);
}

/* R and L with one tunnel each; R's config tuned by cfg_fn. */
static void
hx_init(struct hx *h, void (*cfg_fn)(vpnr_config *))
{
	static const char *const ike[] = { "aes128gcm16-prfsha256-x25519",
		NULL };
	static const char *const esp[] = { "aes128gcm16", NULL };
	struct ikew_opts o;
	vpnr_mem mem;

	memset(h, 0, sizeof(*h));
	h->cfg_fn = cfg_fn;
	mem.user_data = h;
	mem.alloc_fn = hx_alloc;
	mem.zalloc_fn = hx_zalloc;
	mem.realloc_fn = hx_realloc;
	mem.free_fn = hx_free;
	memset(&o, 0, sizeof(o));
	o.seed = 42;
	o.cookie_threshold = -1;
	o.ike = ike;
	o.esp = esp;
	o.psk = "hostile-psk";
	o.dp = &ikew_dp_noop;
	o.mem[1] = &mem;
	o.config = hx_config;
	o.arg = h;
	assert_int_equal(ikew_new(&h->w, &o), VPNR_OK);
	h->w.user = h;
	h->w.on_send = hx_capture;
	hx_addr(&h->r_addr, 0xc6336401); /* 198.51.100.1 */
	hx_addr(&h->l_addr, 0xc0000201); /* 192.0.2.1 */
	assert_int_equal(ikew_set_addrs(&h->w, &h->l_addr, &h->r_addr),
	    VPNR_OK);
	assert_int_equal(ikew_add_pair(&h->w, NULL), VPNR_OK);
	h->l = h->w.s[0].ctx;
	h->r = h->w.s[1].ctx;
	h->l_tid = h->w.s[0].tunnel_id;
	h->r_tid = h->w.s[1].tunnel_id;
}

static void
hx_fini(struct hx *h)
{
	ikew_free(&h->w);
	assert_int_equal(h->mem_in_use, 0);
}

/* L's IKE_SA_INIT request, taken off the wire into h->tmpl. */
static void
hx_template(struct hx *h)
{
	struct ikew_pkt *p;

	assert_int_equal(vpnr_tunnel_initiate(h->l, h->l_tid, h->w.now),
	    VPNR_OK);
	assert_int_equal(h->w.nq, 1);
	p = ikew_peek(&h->w, 0);
	assert_int_equal(p->to, 1);
	assert_true(p->len <= sizeof(h->tmpl));
	h->tmpl_len = p->len;
	memcpy(h->tmpl, p->data, h->tmpl_len);
	ikew_clear(&h->w);
	/* L gives up on this attempt quietly: close it. */
	assert_int_equal(vpnr_tunnel_close(h->l, h->l_tid, h->w.now), VPNR_OK);
	ikew_clear(&h->w);
}

/* ---- crafting ---- */

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
set_spi_i(uint8_t *m, uint64_t spi)
{
	put32(m, (uint32_t)(spi >> 32));
	put32(m + 4, (uint32_t)spi);
}

/* Offset of the next-payload byte that says "none", walking the chain. */
static size_t
last_next_off(const uint8_t *m, size_t len)
{
	size_t off = 28, at = 16;
	uint8_t next = m[16];

	while (next != 0) {
		assert_true(off + 4 <= len);
		at = off;
		next = m[off];
		off += get16(m + off + 2);
	}
	assert_int_equal(off, len);
	return at;
}

/* Append a payload of type t (critical flag as given) with 4 bytes. */
static size_t
add_payload(uint8_t *m, size_t len, uint8_t t, uint8_t flags)
{
	m[last_next_off(m, len)] = t;
	m[len] = 0;
	m[len + 1] = flags;
	m[len + 2] = 0;
	m[len + 3] = 8;
	put32(m + len + 4, 0xdeadbeef);
	len += 8;
	put32(m + 24, (uint32_t)len);
	return len;
}

/* Put a COOKIE notify first in the chain. */
static size_t
add_cookie(uint8_t *m, size_t len, const uint8_t *ck, size_t cklen)
{
	size_t plen = 8 + cklen;

	memmove(m + 28 + plen, m + 28, len - 28);
	m[28] = m[16];
	m[29] = 0;
	m[30] = 0;
	m[31] = (uint8_t)plen;
	m[32] = 0;
	m[33] = 0;
	m[34] = 16390 >> 8;
	m[35] = 16390 & 0xff;
	memcpy(m + 36, ck, cklen);
	m[16] = 41;
	len += plen;
	put32(m + 24, (uint32_t)len);
	return len;
}

/* The first notify of type in a plain answer; its data and length. */
static int
find_notify(const uint8_t *m, size_t len, uint16_t type, const uint8_t **data,
    size_t *dlen)
{
	size_t off = 28, plen;
	uint8_t next = m[16], t;

	while (next != 0 && off + 4 <= len) {
		t = next;
		next = m[off];
		plen = get16(m + off + 2);
		if (plen < 4 || off + plen > len)
			return 0;
		if (t == 41 && plen >= 8 && get16(m + off + 6) == type) {
			*data = m + off + 8 + m[off + 5];
			*dlen = plen - 8 - m[off + 5];
			return 1;
		}
		off += plen;
	}
	return 0;
}

static int
has_sa_payload(const uint8_t *m, size_t len)
{
	(void)len;
	return m[16] == 33;
}

/* Inject msg into R as if from src (port 500); returns R's result. */
static int
hx_inject(struct hx *h, uint32_t src, const uint8_t *m, size_t len)
{
	vpnr_addr l = h->r_addr, r;

	if (src == 0)
		r = h->l_addr;
	else
		hx_addr(&r, src);
	l.port = 500;
	r.port = 500;
	h->ans_len = 0;
	return vpnr_ctx_recv_datagram(h->r, &l, &r, m, len, h->w.now);
}

static void
stats(struct hx *h, vpnr_ike_stats *st)
{
	assert_int_equal(vpnr_ike_get_stats(h->r, st), VPNR_OK);
}

/* ---- tests ---- */

/* A source that is not L, so that R's answers are captured. */
#define SRC_A 0xc0000202u /* 192.0.2.2 */
#define SRC_B 0xc0000203u /* 192.0.2.3 */

static void
add_sources(struct hx *h, const uint32_t *src, int n)
{
	vpnr_addr a;
	int i;

	for (i = 0; i < n; i++) {
		hx_addr(&a, src[i]);
		hx_tunnel(h, &a);
	}
}

static void
test_critical_payload(void **state)
{
	struct hx h;
	vpnr_ike_stats st;
	uint8_t m[HX_MAXMSG];
	const uint8_t *d;
	size_t len, dl, before;

	(void)state;
	hx_init(&h, NULL);
	add_sources(&h, (const uint32_t[]){ SRC_A }, 1);
	hx_template(&h);
	memcpy(m, h.tmpl, h.tmpl_len);
	len = add_payload(m, h.tmpl_len, 200, 0x80);
	before = h.mem_in_use;
	assert_int_equal(hx_inject(&h, SRC_A, m, len), VPNR_OK);
	assert_true(h.ans_len > 0);
	assert_true(h.ans[19] & 0x20); /* a response */
	assert_false(has_sa_payload(h.ans, h.ans_len));
	assert_true(find_notify(h.ans, h.ans_len, 1, &d, &dl));
	assert_int_equal(dl, 1);
	assert_int_equal(d[0], 200);
	/* No state: not a byte kept, no half-open SA. */
	assert_int_equal(h.mem_in_use, before);
	stats(&h, &st);
	assert_int_equal(st.refused_critical, 1);
	assert_int_equal(st.half_open, 0);
	assert_int_equal(st.half_open_sources, 0);
	/* The same unknown payload without the critical bit is skipped:
	 * a full answer and a half-open SA. */
	memcpy(m, h.tmpl, h.tmpl_len);
	set_spi_i(m, 0x1111);
	len = add_payload(m, h.tmpl_len, 200, 0);
	assert_int_equal(hx_inject(&h, SRC_A, m, len), VPNR_OK);
	assert_true(has_sa_payload(h.ans, h.ans_len));
	stats(&h, &st);
	assert_int_equal(st.refused_critical, 1);
	assert_int_equal(st.half_open, 1);
	assert_int_equal(st.half_open_sources, 1);
	assert_true(h.mem_in_use > before);
	/* The half-open SA expires with its source entry. */
	ikew_advance(&h.w, 31 * VPNR_SECONDS);
	stats(&h, &st);
	assert_int_equal(st.half_open, 0);
	assert_int_equal(st.half_open_sources, 0);
	assert_int_equal(h.mem_in_use, before);
	hx_fini(&h);
}

static void
test_major_version(void **state)
{
	struct hx h;
	vpnr_ike_stats st;
	uint8_t m[HX_MAXMSG];
	const uint8_t *d;
	size_t dl, before;
	int i;

	(void)state;
	hx_init(&h, NULL);
	add_sources(&h, (const uint32_t[]){ SRC_A }, 1);
	hx_template(&h);
	memcpy(m, h.tmpl, h.tmpl_len);
	m[17] = 0x30; /* version 3.0 */
	before = h.mem_in_use;
	assert_int_equal(hx_inject(&h, SRC_A, m, h.tmpl_len),
	    VPNR_ERR_MALFORMED);
	assert_true(h.ans_len > 0);
	assert_int_equal(h.ans[17], 0x20); /* we answer as 2.0 */
	assert_true(h.ans[19] & 0x20);
	assert_int_equal(memcmp(h.ans, m, 8), 0); /* the request's SPIi */
	assert_int_equal(h.ans[18], 34);          /* its exchange */
	assert_true(find_notify(h.ans, h.ans_len, 5, &d, &dl));
	assert_int_equal(dl, 1);
	assert_int_equal(d[0], 0x20); /* the highest version we speak */
	assert_int_equal(h.mem_in_use, before);
	stats(&h, &st);
	assert_int_equal(st.refused_version, 1);
	assert_int_equal(st.half_open, 0);
	/* A version-3 response gets silence. */
	m[19] |= 0x20;
	assert_int_equal(hx_inject(&h, SRC_A, m, h.tmpl_len),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.ans_len, 0);
	/* A request from an address with no tunnel: silence too. */
	m[19] &= ~0x20;
	assert_int_equal(hx_inject(&h, 0x0a090909u, m, h.tmpl_len),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.ans_len, 0);
	stats(&h, &st);
	assert_int_equal(st.refused_version, 3);
	/* Major version 1 (IKEv1) from a peer without an IKEv1 tunnel:
	 * malformed, not a version refusal. */
	m[17] = 0x10;
	assert_int_equal(hx_inject(&h, SRC_A, m, h.tmpl_len),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.ans_len, 0);
	stats(&h, &st);
	assert_int_equal(st.refused_version, 3);
	assert_int_equal(st.malformed, 1);
	/* Rate limit: 100 answers per second, the rest counted. */
	m[17] = 0x30;
	h.n_ans = 0;
	h.w.now += VPNR_SECONDS; /* a fresh rate window */
	for (i = 0; i < 150; i++)
		assert_int_equal(hx_inject(&h, SRC_A, m, h.tmpl_len),
		    VPNR_ERR_MALFORMED);
	stats(&h, &st);
	assert_int_equal(h.n_ans, 100);
	assert_int_equal(st.notifies_rate_limited, 50);
	assert_int_equal(st.refused_version, 153);
	h.w.now += VPNR_SECONDS;
	assert_int_equal(hx_inject(&h, SRC_A, m, h.tmpl_len),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.n_ans, 101);
	assert_int_equal(h.mem_in_use, before);
	hx_fini(&h);
}

/* Send the template from src with a fresh SPI; with a COOKIE demand
 * answered once when echo is set.  Returns 1 if a half-open SA was
 * made (a full answer), 2 if a COOKIE came (and was not echoed), 0
 * if it was dropped. */
static int
hx_try(struct hx *h, uint32_t src, uint64_t spi, int echo)
{
	uint8_t m[HX_MAXMSG], ck[64];
	const uint8_t *d;
	size_t len, dl;

	memcpy(m, h->tmpl, h->tmpl_len);
	set_spi_i(m, spi);
	len = h->tmpl_len;
	hx_inject(h, src, m, len);
	if (h->ans_len == 0)
		return 0;
	if (has_sa_payload(h->ans, h->ans_len))
		return 1;
	assert_true(find_notify(h->ans, h->ans_len, 16390, &d, &dl));
	if (!echo)
		return 2;
	assert_true(dl <= sizeof(ck));
	memcpy(ck, d, dl);
	len = add_cookie(m, len, ck, dl);
	hx_inject(h, src, m, len);
	if (h->ans_len == 0)
		return 0;
	assert_true(has_sa_payload(h->ans, h->ans_len));
	return 1;
}

static void
test_per_source(void **state)
{
	struct hx h;
	vpnr_ike_stats st;
	int i;

	(void)state;
	hx_init(&h, NULL);
	add_sources(&h, (const uint32_t[]){ SRC_A, SRC_B }, 2);
	hx_template(&h);
	/* Defaults: 3 straight through, then COOKIEs, then drops at 5. */
	for (i = 0; i < 3; i++)
		assert_int_equal(hx_try(&h, SRC_A, 0x100 + (uint64_t)i, 0), 1);
	assert_int_equal(hx_try(&h, SRC_A, 0x200, 0), 2);
	/* Another address still goes straight through. */
	assert_int_equal(hx_try(&h, SRC_B, 0x300, 0), 1);
	/* With the COOKIE, A gets to 5 and no further. */
	assert_int_equal(hx_try(&h, SRC_A, 0x201, 1), 1);
	assert_int_equal(hx_try(&h, SRC_A, 0x202, 1), 1);
	assert_int_equal(hx_try(&h, SRC_A, 0x203, 1), 0);
	assert_int_equal(hx_try(&h, SRC_B, 0x301, 0), 1);
	stats(&h, &st);
	assert_int_equal(st.half_open, 7);
	assert_int_equal(st.half_open_sources, 2);
	assert_int_equal(st.cookies_sent, 4);
	assert_int_equal(st.refused_per_source, 1);
	assert_int_equal(st.refused_limit, 0);
	/* Expiry frees A's budget. */
	ikew_advance(&h.w, 31 * VPNR_SECONDS);
	assert_int_equal(hx_try(&h, SRC_A, 0x400, 0), 1);
	hx_fini(&h);
}

static void
cfg_per_source_1_2(vpnr_config *cfg)
{
	assert_int_equal(vpnr_config_set_half_open_per_source(cfg, 1, 2),
	    VPNR_OK);
	assert_int_equal(vpnr_config_set_half_open_limit(cfg, 3), VPNR_OK);
}

static void
test_config(void **state)
{
	struct hx h;
	vpnr_config *cfg;
	vpnr_ike_stats st;

	(void)state;
	assert_int_equal(vpnr_config_new(&cfg, NULL), VPNR_OK);
	assert_int_equal(vpnr_config_set_half_open_per_source(cfg, 6, 5),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_per_source(cfg, 0, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_per_source(cfg, 0,
			     (1u << 20) + 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_per_source(NULL, 1, 2),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_per_source(cfg, 0, 1),
	    VPNR_OK);
	assert_int_equal(vpnr_config_set_half_open_limit(cfg, 0),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_limit(cfg, (1u << 20) + 1),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(vpnr_config_set_half_open_limit(cfg, 1u << 20),
	    VPNR_OK);
	assert_int_equal(vpnr_config_set_cookie_threshold(cfg, 0), VPNR_OK);
	vpnr_config_del(cfg);
	assert_int_equal(vpnr_ike_get_stats(NULL, &st),
	    VPNR_ERR_INVALID_ARGUMENT);
	/* Settings take effect: 1 straight, COOKIE, 2 per source, 3 in
	 * all. */
	hx_init(&h, cfg_per_source_1_2);
	assert_int_equal(vpnr_ike_get_stats_versioned(h.r, 2, &st),
	    VPNR_ERR_INVALID_ARGUMENT);
	add_sources(&h, (const uint32_t[]){ SRC_A, SRC_B }, 2);
	hx_template(&h);
	assert_int_equal(hx_try(&h, SRC_A, 1, 0), 1);
	assert_int_equal(hx_try(&h, SRC_A, 2, 0), 2);
	assert_int_equal(hx_try(&h, SRC_A, 3, 1), 1);
	assert_int_equal(hx_try(&h, SRC_A, 4, 1), 0);
	assert_int_equal(hx_try(&h, SRC_B, 5, 0), 1);
	assert_int_equal(hx_try(&h, SRC_B, 6, 1), 0); /* global cap 3 */
	stats(&h, &st);
	assert_int_equal(st.half_open, 3);
	assert_int_equal(st.refused_per_source, 1);
	assert_int_equal(st.refused_limit, 1);
	hx_fini(&h);
}

static void
cfg_cap_256(vpnr_config *cfg)
{
	assert_int_equal(vpnr_config_set_half_open_limit(cfg, 256), VPNR_OK);
}

/* A hub with 10,000 configured peers, each sending and answering its
 * COOKIE (real addresses): half-open SAs and the per-source table stay
 * under the cap, memory with them, and all of it goes with expiry. */
static void
flood(void (*cfg_fn)(vpnr_config *), uint32_t cap)
{
	struct hx h;
	vpnr_ike_stats st;
	size_t base, peak;
	uint32_t srcs[256];
	int i, j, made = 0, r;

	hx_init(&h, cfg_fn);
	for (i = 0; i < HX_SOURCES; i += 256) {
		for (j = 0; j < 256 && i + j < HX_SOURCES; j++)
			srcs[j] = hx_src(i + j);
		add_sources(&h, srcs, j);
	}
	hx_template(&h);
	base = h.mem_in_use;
	for (i = 0; i < HX_SOURCES; i++) {
		r = hx_try(&h, hx_src(i), 0x10000 + (uint64_t)i, 1);
		made += r == 1;
		if (i % 1000 == 999) {
			stats(&h, &st);
			assert_true(st.half_open <= cap);
			assert_true(st.half_open_sources <= cap);
		}
	}
	/* A second round from the same addresses: all dropped. */
	for (i = 0; i < HX_SOURCES; i++)
		assert_int_equal(hx_try(&h, hx_src(i), 0x90000 + (uint64_t)i,
				     1),
		    0);
	stats(&h, &st);
	peak = h.mem_in_use - base;
	print_message("flood, cap %u: %d half-open SAs from %u sources, %zu "
		      "bytes (%zu per SA); %llu COOKIEs, %llu dropped at the "
		      "cap\n",
	    cap, made, st.half_open_sources, peak, peak / (size_t)made,
	    (unsigned long long)st.cookies_sent,
	    (unsigned long long)st.refused_limit);
	assert_int_equal(made, cap);
	assert_int_equal(st.half_open, cap);
	assert_int_equal(st.half_open_sources, cap);
	assert_int_equal(st.refused_limit, 2 * HX_SOURCES - cap);
	/* Bounded: well under 16 KB per half-open SA, entry included. */
	assert_true(peak <= (size_t)cap * 16384);
	ikew_advance(&h.w, 31 * VPNR_SECONDS);
	stats(&h, &st);
	assert_int_equal(st.half_open, 0);
	assert_int_equal(st.half_open_sources, 0);
	assert_int_equal(h.mem_in_use, base);
	hx_fini(&h);
}

static void
test_flood_bounded(void **state)
{
	(void)state;
	flood(cfg_cap_256, 256);
	flood(NULL, 4096); /* the default cap */
}

/* A spoofed flood (no COOKIE comes back) from 10,000 configured
 * addresses: past the global threshold everyone is asked for a COOKIE,
 * and the legitimate initiator returns it and comes up. */
static void
test_legit_through_flood(void **state)
{
	struct hx h;
	vpnr_ike_stats st;
	uint32_t srcs[256];
	vpnr_tunnel_info ti;
	int i, j, made = 0;

	(void)state;
	hx_init(&h, NULL);
	for (i = 0; i < HX_SOURCES; i += 256) {
		for (j = 0; j < 256 && i + j < HX_SOURCES; j++)
			srcs[j] = hx_src(i + j);
		add_sources(&h, srcs, j);
	}
	hx_template(&h);
	for (i = 0; i < HX_SOURCES; i++)
		made += hx_try(&h, hx_src(i), 0x10000 + (uint64_t)i, 0) == 1;
	stats(&h, &st);
	assert_int_equal(made, 64); /* the default global threshold */
	assert_int_equal(st.half_open, 64);
	assert_int_equal(st.cookies_sent, HX_SOURCES - 64);
	/* The legitimate peer, mid-flood. */
	assert_int_equal(vpnr_tunnel_initiate(h.l, h.l_tid, h.w.now), VPNR_OK);
	ikew_advance(&h.w, 2 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&h.w.s[0], VPNR_TUNNEL_EV_UP), 1);
	assert_int_equal(ikew_count_ev(&h.w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	assert_int_equal(vpnr_tunnel_get_info(h.l, h.l_tid, &ti), VPNR_OK);
	assert_int_equal(ti.state, VPNR_TUNNEL_ESTABLISHED);
	stats(&h, &st);
	assert_int_equal(st.cookies_sent, HX_SOURCES - 64 + 1);
	assert_int_equal(st.half_open, 64);
	hx_fini(&h);
}

/* An unknown critical payload inside an encrypted request of an
 * established IKE SA: answered UNSUPPORTED_CRITICAL_PAYLOAD (in an
 * encrypted response), counted, and the IKE SA goes on. */
static void
test_critical_encrypted(void **state)
{
	struct hx h;
	vpnr_ike_stats st;
	struct vpnr__ike_hdr hdr;
	struct vpnr__wbuf w;
	struct tunnel *t;
	struct ike_sa *sa;
	vpnr_tunnel_info ti;
	vpnr_addr l, r;
	uint8_t inner[8] = { 0, 0x80, 0, 8, 1, 2, 3, 4 };
	int nq;

	(void)state;
	hx_init(&h, NULL);
	assert_int_equal(vpnr_tunnel_initiate(h.l, h.l_tid, h.w.now), VPNR_OK);
	ikew_advance(&h.w, VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&h.w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	t = vpnr__tunnel_find(h.l, h.l_tid);
	assert_non_null(t);
	sa = t->ike;
	assert_non_null(sa);
	memset(&hdr, 0, sizeof(hdr));
	hdr.spi_i = sa->spi_i;
	hdr.spi_r = sa->spi_r;
	hdr.exchange = VPNR__IKE_INFORMATIONAL;
	hdr.flags = VPNR__IKE_F_INITIATOR;
	hdr.msg_id = sa->next_req_id;
	vpnr__wbuf_init(&w, NULL, 0);
	assert_int_equal(vpnr__ike_sk_build(h.l, sa, &hdr, inner, sizeof(inner),
			     200, &w),
	    VPNR_OK);
	/* L sent it: its next request takes the next message id. */
	sa->next_req_id++;
	l = sa->remote;
	r = sa->local;
	nq = h.w.nq;
	assert_int_equal(vpnr_ctx_recv_datagram(h.r, &l, &r,
			     vpnr__wbuf_data(&w), vpnr__wbuf_len(&w), h.w.now),
	    VPNR_OK);
	vpnr__wbuf_free(&w);
	assert_int_equal(h.w.nq, nq + 1); /* R answered */
	stats(&h, &st);
	assert_int_equal(st.refused_critical, 1);
	ikew_flush(&h.w);
	assert_int_equal(vpnr_tunnel_get_info(h.r, h.r_tid, &ti), VPNR_OK);
	assert_int_equal(ti.state, VPNR_TUNNEL_ESTABLISHED);
	/* The window still works: a rekey goes through. */
	assert_int_equal(vpnr_tunnel_rekey(h.l, h.l_tid, VPNR_REKEY_CHILD,
			     h.w.now),
	    VPNR_OK);
	ikew_advance(&h.w, VPNR_SECONDS);
	assert_int_equal(vpnr_tunnel_get_info(h.l, h.l_tid, &ti), VPNR_OK);
	assert_int_equal(ti.child_rekeys, 1);
	hx_fini(&h);
}

/* Our IKE_SA_INIT gets a response with an unknown critical payload:
 * it is rejected (dropped, counted), and the genuine one goes on. */
static void
test_critical_in_response(void **state)
{
	struct hx h;
	struct ikew_pkt *p;
	uint8_t m[HX_MAXMSG];
	vpnr_addr l, r;
	vpnr_ike_stats st;
	vpnr_tunnel_info ti;
	size_t len;

	(void)state;
	hx_init(&h, NULL);
	assert_int_equal(vpnr_tunnel_initiate(h.l, h.l_tid, h.w.now), VPNR_OK);
	assert_int_equal(h.w.nq, 1);
	p = ikew_pop(&h.w);
	vpnr_ctx_recv_datagram(h.r, &p->local, &p->remote, p->data, p->len,
	    h.w.now);
	free(p);
	assert_int_equal(h.w.nq, 1);
	p = ikew_pop(&h.w);
	assert_int_equal(p->to, 0);
	assert_true(p->len <= sizeof(m));
	memcpy(m, p->data, p->len);
	l = p->local;
	r = p->remote;
	len = add_payload(m, p->len, 200, 0x80);
	free(p);
	assert_int_equal(vpnr_ctx_recv_datagram(h.l, &l, &r, m, len, h.w.now),
	    VPNR_ERR_MALFORMED);
	assert_int_equal(h.w.nq, 0); /* no IKE_AUTH */
	assert_int_equal(vpnr_ike_get_stats(h.l, &st), VPNR_OK);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(vpnr_tunnel_get_info(h.l, h.l_tid, &ti), VPNR_OK);
	assert_int_equal(ti.state, VPNR_TUNNEL_CONNECTING);
	/* The retransmission is answered and the tunnel comes up. */
	ikew_advance(&h.w, 3 * VPNR_SECONDS);
	assert_int_equal(ikew_count_ev(&h.w.s[0], VPNR_TUNNEL_EV_CHILD_UP), 1);
	hx_fini(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_critical_payload),
		cmocka_unit_test(test_critical_encrypted),
		cmocka_unit_test(test_critical_in_response),
		cmocka_unit_test(test_major_version),
		cmocka_unit_test(test_per_source),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_legit_through_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
