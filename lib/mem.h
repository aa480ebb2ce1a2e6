/*
 * Allocation through the host's vpnr_mem hooks (NULL means libc).
 */
#ifndef VPNR_LIB_MEM_H
#define VPNR_LIB_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

void *vpnr__malloc(const vpnr_mem *mem, size_t size);
void *vpnr__calloc(const vpnr_mem *mem, size_t nmemb, size_t size);
void *vpnr__realloc(const vpnr_mem *mem, void *ptr, size_t size);
/* Grows an array like reallocarray(3); NULL on overflow or failure. */
void *
vpnr__reallocarray(const vpnr_mem *mem, void *ptr, size_t nmemb, size_t size);
void vpnr__free(const vpnr_mem *mem, void *ptr);
/* Wipes len bytes before freeing: use for every key buffer. */
void vpnr__freezero(const vpnr_mem *mem, void *ptr, size_t len);
void *vpnr__memdup(const vpnr_mem *mem, const void *src, size_t len);
char *vpnr__strdup(const vpnr_mem *mem, const char *s);

#endif /* VPNR_LIB_MEM_H */
