/*
 * Allocation through the host's vpnr_mem hooks, or libc.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void *
vpnr__malloc(const vpnr_mem *mem, size_t size)
{
	if (size == 0)
		size = 1;
	if (mem != NULL && mem->alloc_fn != NULL)
		return mem->alloc_fn(size, mem->user_data);
	return malloc(size);
}

void *
vpnr__calloc(const vpnr_mem *mem, size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if (size > SIZE_MAX / nmemb)
		return NULL;
	if (mem != NULL && mem->zalloc_fn != NULL)
		return mem->zalloc_fn(nmemb, size, mem->user_data);
	if (mem != NULL && mem->alloc_fn != NULL) {
		if ((p = mem->alloc_fn(nmemb * size, mem->user_data)) != NULL)
			memset(p, 0, nmemb * size);
		return p;
	}
	return calloc(nmemb, size);
}

void *
vpnr__realloc(const vpnr_mem *mem, void *ptr, size_t size)
{
	if (size == 0)
		size = 1;
	if (mem != NULL && mem->realloc_fn != NULL)
		return mem->realloc_fn(ptr, size, mem->user_data);
	return realloc(ptr, size);
}

void *
vpnr__reallocarray(const vpnr_mem *mem, void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	return vpnr__realloc(mem, ptr, nmemb * size);
}

void
vpnr__free(const vpnr_mem *mem, void *ptr)
{
	if (ptr == NULL)
		return;
	if (mem != NULL && mem->free_fn != NULL)
		mem->free_fn(ptr, mem->user_data);
	else
		free(ptr);
}

void
vpnr__freezero(const vpnr_mem *mem, void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	explicit_bzero(ptr, len);
	vpnr__free(mem, ptr);
}

void *
vpnr__memdup(const vpnr_mem *mem, const void *src, size_t len)
{
	void *p;

	if ((p = vpnr__malloc(mem, len)) != NULL && len > 0)
		memcpy(p, src, len);
	return p;
}

char *
vpnr__strdup(const vpnr_mem *mem, const char *s)
{
	return vpnr__memdup(mem, s, strlen(s) + 1);
}
