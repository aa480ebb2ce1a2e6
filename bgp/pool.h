/*
 * Fixed-size object pools for the RIB's small, numerous objects
 * (prefix nodes, paths): objects are carved from chunks (1 KiB
 * doubling to 64 KiB) taken from the context's allocator, so a route costs its
 * structure's size and no allocator header or size-class rounding, and a full
 * table is allocated and torn down in a few hundred calls instead of millions.
 * A pool hands its chunks back when its last object is returned.
 */
#ifndef VPNR_BGP_POOL_H
#define VPNR_BGP_POOL_H

#include <stddef.h>

#include <vpnroute/vpnroute.h>

struct vpnr__bgp_pool {
	const vpnr_mem *mem;
	size_t size;   /* object size, a multiple of 8 */
	void *free;    /* returned objects, linked through their first word */
	void *chunks;  /* chunks, linked through their first word */
	char *bump;    /* next never-used object in the newest chunk */
	char *end;     /* end of the newest chunk */
	size_t live;   /* objects handed out */
	size_t nchunk; /* chunks held */
	size_t bytes;  /* in those chunks */
};

void vpnr__bgp_pool_init(struct vpnr__bgp_pool *pl, const vpnr_mem *mem,
    size_t size);
/* An uninitialised object, or NULL on NOMEM. */
void *vpnr__bgp_pool_get(struct vpnr__bgp_pool *pl);
void vpnr__bgp_pool_put(struct vpnr__bgp_pool *pl, void *obj);
/* Hand every chunk back (every object must have been returned or be
 * dropped with it). */
void vpnr__bgp_pool_clear(struct vpnr__bgp_pool *pl);
/* Bytes held in chunks. */
size_t vpnr__bgp_pool_bytes(const struct vpnr__bgp_pool *pl);

#endif /* VPNR_BGP_POOL_H */
