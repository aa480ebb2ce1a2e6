/*
 * Fixed-size object pools (see pool.h).  Under AddressSanitizer the
 * objects that are not handed out are poisoned, so a use after
 * vpnr__bgp_pool_put() is caught as it would be after free().
 */
#include "bgp/pool.h"
#include "lib/mem.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_ASAN 1
#endif
#endif
#ifdef POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Chunks double from 1 KiB to 64 KiB (less room for the allocator's
 * header, below glibc's mmap threshold): a context with a hundred
 * routes does not hold 64 KiB per pool, a big table takes few calls. */
#define CHUNK_MIN  1024
#define CHUNK_MAX  65536
#define CHUNK_HEAD 16 /* next chunk, this chunk's size */

struct chunk_head {
	void *next;
	size_t bytes;
};

static size_t
chunk_bytes(size_t nchunk)
{
	return (nchunk < 6 ? (size_t)CHUNK_MIN << nchunk : CHUNK_MAX) - 64;
}

void
vpnr__bgp_pool_init(struct vpnr__bgp_pool *pl, const vpnr_mem *mem, size_t size)
{
	pl->mem = mem;
	pl->size = (size + 7) & ~(size_t)7;
	if (pl->size < sizeof(void *))
		pl->size = sizeof(void *);
	pl->free = pl->chunks = NULL;
	pl->bump = pl->end = NULL;
	pl->live = pl->nchunk = pl->bytes = 0;
}

void *
vpnr__bgp_pool_get(struct vpnr__bgp_pool *pl)
{
	struct chunk_head *h;
	void *o;
	char *c;
	size_t sz;

	if ((o = pl->free) != NULL) {
		UNPOISON(o, pl->size);
		pl->free = *(void **)o;
	} else {
		if (pl->bump == NULL ||
		    pl->end - pl->bump < (ptrdiff_t)pl->size) {
			sz = chunk_bytes(pl->nchunk);
			if ((c = vpnr__malloc(pl->mem, sz)) == NULL)
				return NULL;
			h = (struct chunk_head *)(void *)c;
			h->next = pl->chunks;
			h->bytes = sz;
			pl->chunks = c;
			pl->nchunk++;
			pl->bytes += sz;
			pl->bump = c + CHUNK_HEAD;
			pl->end = c + sz;
			POISON(pl->bump, (size_t)(pl->end - pl->bump));
		}
		o = pl->bump;
		pl->bump += pl->size;
		UNPOISON(o, pl->size);
	}
	pl->live++;
	return o;
}

void
vpnr__bgp_pool_put(struct vpnr__bgp_pool *pl, void *obj)
{
	if (obj == NULL)
		return;
	*(void **)obj = pl->free;
	pl->free = obj;
	POISON(obj, pl->size);
	/* the last one out: a table that emptied gives its memory back */
	if (--pl->live == 0)
		vpnr__bgp_pool_clear(pl);
}

void
vpnr__bgp_pool_clear(struct vpnr__bgp_pool *pl)
{
	struct chunk_head *h;
	void *c, *cn;

	for (c = pl->chunks; c != NULL; c = cn) {
		h = c;
		cn = h->next;
		UNPOISON(c, h->bytes);
		vpnr__free(pl->mem, c);
	}
	pl->free = pl->chunks = NULL;
	pl->bump = pl->end = NULL;
	pl->live = pl->nchunk = pl->bytes = 0;
}

size_t
vpnr__bgp_pool_bytes(const struct vpnr__bgp_pool *pl)
{
	return pl->bytes;
}
