/*
 * Interned path attribute sets: canonicalization of a builder into the
 * compact immutable form, seeded hashing and a chained hash table with
 * reference counts.  Identical sets share one allocation.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "mem.h"

#define CONTENT_OFF offsetof(struct vpnr__bgp_attrs, flags)
#define MAX_DATA_WORDS \
	(VPNR__BGP_MAX_ASPATH_WORDS + VPNR__BGP_MAX_COMM + \
	    3 * VPNR__BGP_MAX_LCOMM + (VPNR__BGP_MAX_UNKNOWN + 3) / 4)

struct vpnr__bgp_attr_table {
	const vpnr_mem *mem;
	uint64_t seed;
	struct vpnr__bgp_attrs **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t bytes;
	struct vpnr__bgp_attrs *scratch; /* MAX_DATA_WORDS of data */
};

static size_t
data_words(const struct vpnr__bgp_attrs *a)
{
	return (size_t)a->aspath_words + a->n_comm + 3 * (size_t)a->n_lcomm +
	    ((size_t)a->unknown_len + 3) / 4;
}

size_t
vpnr__bgp_attrs_size(const struct vpnr__bgp_attrs *a)
{
	return sizeof(*a) + data_words(a) * sizeof(uint32_t);
}

static size_t
content_len(const struct vpnr__bgp_attrs *a)
{
	return vpnr__bgp_attrs_size(a) - CONTENT_OFF;
}

static uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static uint32_t
hash_seeded(const struct vpnr__bgp_attrs *a, uint64_t seed)
{
	const uint8_t *p = (const uint8_t *)a + CONTENT_OFF;
	size_t n = content_len(a), i;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), k;
	uint32_t w[2];

	/* content_len is a multiple of 4 */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(w, p + i, 8);
		k = ((uint64_t)w[0] << 32) | w[1];
		k *= 0x87c37b91114253d5ULL;
		k = (k << 31) | (k >> 33);
		k *= 0x4cf5ad432745937fULL;
		h ^= k;
		h = ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
	}
	if (i < n) {
		memcpy(w, p + i, 4);
		h ^= fmix64(w[0] + 0x1234567ULL);
	}
	h = fmix64(h);
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t
vpnr__bgp_attrs_hash(const struct vpnr__bgp_attrs *a)
{
	return hash_seeded(a, 0);
}

int
vpnr__bgp_attrs_eq(const struct vpnr__bgp_attrs *a,
    const struct vpnr__bgp_attrs *b)
{
	size_t n = content_len(a);

	if (a == b)
		return 1;
	if (n != content_len(b))
		return 0;
	return memcmp((const uint8_t *)a + CONTENT_OFF,
		   (const uint8_t *)b + CONTENT_OFF, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */

int
vpnr__bgp_attr_table_new(struct vpnr__bgp_attr_table **tp, const vpnr_mem *mem,
    uint64_t seed)
{
	struct vpnr__bgp_attr_table *t;

	*tp = NULL;
	if ((t = vpnr__calloc(mem, 1, sizeof(*t))) == NULL)
		return VPNR_ERR_NOMEM;
	t->mem = mem;
	t->seed = seed;
	t->nbuckets = 64;
	t->buckets = vpnr__calloc(mem, t->nbuckets, sizeof(*t->buckets));
	t->scratch = vpnr__calloc(mem, 1,
	    sizeof(struct vpnr__bgp_attrs) + MAX_DATA_WORDS * sizeof(uint32_t));
	if (t->buckets == NULL || t->scratch == NULL) {
		vpnr__bgp_attr_table_free(t);
		return VPNR_ERR_NOMEM;
	}
	*tp = t;
	return VPNR_OK;
}

void
vpnr__bgp_attr_table_free(struct vpnr__bgp_attr_table *t)
{
	struct vpnr__bgp_attrs *a, *next;
	size_t i;

	if (t == NULL)
		return;
	if (t->buckets != NULL) {
		for (i = 0; i < t->nbuckets; i++) {
			for (a = t->buckets[i]; a != NULL; a = next) {
				next = a->hnext;
				vpnr__free(t->mem, a);
			}
		}
	}
	vpnr__free(t->mem, t->buckets);
	vpnr__free(t->mem, t->scratch);
	vpnr__free(t->mem, t);
}

size_t
vpnr__bgp_attr_table_count(const struct vpnr__bgp_attr_table *t)
{
	return t->count;
}

size_t
vpnr__bgp_attr_table_memory(const struct vpnr__bgp_attr_table *t)
{
	return t->bytes + t->nbuckets * sizeof(*t->buckets);
}

static void
grow(struct vpnr__bgp_attr_table *t)
{
	struct vpnr__bgp_attrs **nb, *a, *next;
	size_t i, n = t->nbuckets * 2, h;

	if (n < t->nbuckets || n > SIZE_MAX / sizeof(*nb))
		return;
	if ((nb = vpnr__calloc(t->mem, n, sizeof(*nb))) == NULL)
		return; /* keep working with longer chains */
	for (i = 0; i < t->nbuckets; i++) {
		for (a = t->buckets[i]; a != NULL; a = next) {
			next = a->hnext;
			h = a->hash & (n - 1);
			a->hnext = nb[h];
			nb[h] = a;
		}
	}
	vpnr__free(t->mem, t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

/* Look up t->scratch (hash filled in); insert a copy if absent. */
static const struct vpnr__bgp_attrs *
lookup_insert(struct vpnr__bgp_attr_table *t)
{
	struct vpnr__bgp_attrs *s = t->scratch, *a;
	size_t sz, h;

	s->hash = hash_seeded(s, t->seed);
	h = s->hash & (t->nbuckets - 1);
	for (a = t->buckets[h]; a != NULL; a = a->hnext) {
		if (a->hash == s->hash && vpnr__bgp_attrs_eq(a, s)) {
			a->refcnt++;
			return a;
		}
	}
	sz = vpnr__bgp_attrs_size(s);
	if ((a = vpnr__malloc(t->mem, sz)) == NULL)
		return NULL;
	memcpy(a, s, sz);
	a->refcnt = 1;
	a->hnext = t->buckets[h];
	t->buckets[h] = a;
	t->count++;
	t->bytes += sz;
	if (t->count > t->nbuckets)
		grow(t);
	return a;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_lc(const void *x, const void *y)
{
	const uint32_t *a = x, *b = y;
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Sort and de-duplicate n elements of size words; returns new n. */
static size_t
sort_uniq(uint32_t *v, size_t n, size_t words,
    int (*cmp)(const void *, const void *))
{
	size_t i, o;

	if (n < 2)
		return n;
	qsort(v, n, words * sizeof(uint32_t), cmp);
	for (i = 1, o = 1; i < n; i++) {
		if (cmp(&v[(o - 1) * words], &v[i * words]) != 0) {
			if (o != i)
				memmove(&v[o * words], &v[i * words],
				    words * sizeof(uint32_t));
			o++;
		}
	}
	return o;
}

/* Copy the unknown TLVs sorted by type (duplicates dropped). */
static size_t
copy_unknown_sorted(uint8_t *dst, const uint8_t *src, size_t len)
{
	struct vpnr__rbuf r;
	uint8_t flags, type, l8;
	uint16_t l16;
	size_t alen, start, o = 0;
	int last = -1, best;
	size_t best_off, best_len;

	for (;;) {
		best = 256;
		best_off = best_len = 0;
		vpnr__rbuf_init(&r, src, len);
		while (vpnr__rbuf_left(&r) > 0) {
			start = vpnr__rbuf_offset(&r);
			vpnr__rbuf_get_u8(&r, &flags);
			vpnr__rbuf_get_u8(&r, &type);
			if (flags & VPNR__BGP_AF_EXTLEN) {
				vpnr__rbuf_get_u16(&r, &l16);
				alen = l16;
			} else {
				vpnr__rbuf_get_u8(&r, &l8);
				alen = l8;
			}
			if (vpnr__rbuf_skip(&r, alen) != 0)
				break;
			if ((int)type > last && (int)type < best) {
				best = type;
				best_off = start;
				best_len = vpnr__rbuf_offset(&r) - start;
			}
		}
		if (best == 256)
			break;
		memcpy(dst + o, src + best_off, best_len);
		o += best_len;
		last = best;
	}
	return o;
}

static void
canon_aspath(struct vpnr__bgp_attrs *s, const uint32_t *in, size_t words)
{
	uint32_t *out = s->data;
	size_t i, cnt, o = 0, last_seq = SIZE_MAX, lcnt;
	unsigned type, plen = 0;

	for (i = 0; i < words; i += 1 + cnt) {
		type = in[i] >> 16;
		cnt = in[i] & 0xffff;
		if (i + 1 + cnt > words)
			break;
		if (cnt == 0)
			continue;
		if (type == VPNR__BGP_AS_SEQUENCE)
			plen += cnt;
		else if (type == VPNR__BGP_AS_SET)
			plen += 1;
		if (type == VPNR__BGP_AS_SEQUENCE && last_seq != SIZE_MAX &&
		    (lcnt = out[last_seq] & 0xffff) + cnt <= 0xffff) {
			/* merge adjacent sequences (255-limit is wire only) */
			out[last_seq] =
			    ((uint32_t)VPNR__BGP_AS_SEQUENCE << 16) |
			    (uint32_t)(lcnt + cnt);
		} else {
			last_seq = type == VPNR__BGP_AS_SEQUENCE ? o : SIZE_MAX;
			out[o++] = in[i];
		}
		memcpy(&out[o], &in[i + 1], cnt * sizeof(uint32_t));
		o += cnt;
	}
	s->aspath_words = (uint16_t)o;
	s->aspath_plen = (uint16_t)(plen > 0xffff ? 0xffff : plen);
}

static void
canon(struct vpnr__bgp_attr_table *t, const struct vpnr__bgp_attrs_build *b,
    int aid)
{
	struct vpnr__bgp_attrs *s = t->scratch;
	uint32_t *p;
	size_t n, ul;

	memset(s, 0, sizeof(*s));
	s->flags = b->flags & ~(VPNR__BGP_A_NEXTHOP | VPNR__BGP_A_NEXTHOP_LL);
	s->origin = b->origin;
	if (b->flags & VPNR__BGP_A_MED)
		s->med = b->med;
	if (b->flags & VPNR__BGP_A_LOCAL_PREF)
		s->local_pref = b->local_pref;
	if (b->flags & VPNR__BGP_A_AGGREGATOR) {
		s->agg_as = b->agg_as;
		s->agg_addr = b->agg_addr;
	}
	if (aid == VPNR__BGP_AID_IPV4) {
		if (b->has_nh4) {
			s->nh_family = VPNR_AF_INET;
			memcpy(s->nexthop, b->nh4, 4);
		} else if (b->has_mp_nh && b->mp_nh_family == VPNR_AF_INET) {
			s->nh_family = VPNR_AF_INET;
			memcpy(s->nexthop, b->mp_nh, 4);
		}
	} else if (aid == VPNR__BGP_AID_IPV6 && b->has_mp_nh &&
	    b->mp_nh_family == VPNR_AF_INET6) {
		s->nh_family = VPNR_AF_INET6;
		memcpy(s->nexthop, b->mp_nh, 16);
		if (b->has_mp_nh_ll) {
			memcpy(s->nexthop_ll, b->mp_nh_ll, 16);
			s->flags |= VPNR__BGP_A_NEXTHOP_LL;
		}
	}
	if (s->nh_family != 0)
		s->flags |= VPNR__BGP_A_NEXTHOP;

	n = b->aspath_words;
	if (n > VPNR__BGP_MAX_ASPATH_WORDS)
		n = VPNR__BGP_MAX_ASPATH_WORDS;
	canon_aspath(s, b->aspath, n);

	p = s->data + s->aspath_words;
	n = b->n_comm < VPNR__BGP_MAX_COMM ? b->n_comm : VPNR__BGP_MAX_COMM;
	memcpy(p, b->comm, n * sizeof(uint32_t));
	s->n_comm = (uint16_t)sort_uniq(p, n, 1, cmp_u32);

	p += s->n_comm;
	n = b->n_lcomm < VPNR__BGP_MAX_LCOMM ? b->n_lcomm : VPNR__BGP_MAX_LCOMM;
	memcpy(p, b->lcomm, 3 * n * sizeof(uint32_t));
	s->n_lcomm = (uint16_t)sort_uniq(p, n, 3, cmp_lc);

	p += 3 * (size_t)s->n_lcomm;
	ul = b->unknown_len < VPNR__BGP_MAX_UNKNOWN ? b->unknown_len :
						      VPNR__BGP_MAX_UNKNOWN;
	ul = copy_unknown_sorted((uint8_t *)p, b->unknown, ul);
	s->unknown_len = (uint16_t)ul;
	/* zero the padding so that memcmp/hash see canonical bytes */
	memset((uint8_t *)p + ul, 0, ((ul + 3) & ~(size_t)3) - ul);
}

const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_intern(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs_build *b, int aid)
{
	canon(t, b, aid);
	return lookup_insert(t);
}

const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_intern_attrs(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *a)
{
	size_t sz = vpnr__bgp_attrs_size(a);

	if (sz >
	    sizeof(struct vpnr__bgp_attrs) + MAX_DATA_WORDS * sizeof(uint32_t))
		return NULL;
	memcpy(t->scratch, a, sz);
	t->scratch->hnext = NULL;
	t->scratch->refcnt = 0;
	return lookup_insert(t);
}

const struct vpnr__bgp_attrs *
vpnr__bgp_attrs_ref(const struct vpnr__bgp_attrs *a)
{
	struct vpnr__bgp_attrs *m = (struct vpnr__bgp_attrs *)(uintptr_t)a;

	if (m != NULL)
		m->refcnt++;
	return a;
}

void
vpnr__bgp_attrs_unref(struct vpnr__bgp_attr_table *t,
    const struct vpnr__bgp_attrs *a)
{
	struct vpnr__bgp_attrs *m = (struct vpnr__bgp_attrs *)(uintptr_t)a;
	struct vpnr__bgp_attrs **pp;

	if (m == NULL)
		return;
	if (--m->refcnt > 0)
		return;
	for (pp = &t->buckets[m->hash & (t->nbuckets - 1)]; *pp != NULL;
	     pp = &(*pp)->hnext) {
		if (*pp == m) {
			*pp = m->hnext;
			t->count--;
			t->bytes -= vpnr__bgp_attrs_size(m);
			break;
		}
	}
	vpnr__free(t->mem, m);
}
