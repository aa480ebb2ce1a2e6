/*
 * The one bounded reader/writer for all wire parsing and building
 * (modelled on OpenBSD's ibuf).  No other file does pointer arithmetic
 * on packet bytes.  Errors are sticky: after the first failure every
 * call fails, so a parser may check once at the end.
 */
#ifndef VPNR_LIB_BUF_H
#define VPNR_LIB_BUF_H

#include <stddef.h>
#include <stdint.h>

#include <vpnroute/vpnroute.h>

struct vpnr__rbuf {
	const uint8_t *data;
	size_t len;
	size_t off;
	int err; /* 0 or VPNR_ERR_MALFORMED, sticky */
};

void vpnr__rbuf_init(struct vpnr__rbuf *b, const uint8_t *data, size_t len);
/* Each returns 0 or VPNR_ERR_MALFORMED (short input); network order. */
int vpnr__rbuf_get_u8(struct vpnr__rbuf *b, uint8_t *v);
int vpnr__rbuf_get_u16(struct vpnr__rbuf *b, uint16_t *v);
int vpnr__rbuf_get_u24(struct vpnr__rbuf *b, uint32_t *v);
int vpnr__rbuf_get_u32(struct vpnr__rbuf *b, uint32_t *v);
int vpnr__rbuf_get_u64(struct vpnr__rbuf *b, uint64_t *v);
int vpnr__rbuf_get_bytes(struct vpnr__rbuf *b, void *out, size_t n);
/* Borrow n bytes without copying; *p stays valid as long as data. */
int vpnr__rbuf_get_ptr(struct vpnr__rbuf *b, size_t n, const uint8_t **p);
/* A reader over the next n bytes, which are consumed from b. */
int vpnr__rbuf_get_sub(struct vpnr__rbuf *b, size_t n, struct vpnr__rbuf *sub);
int vpnr__rbuf_skip(struct vpnr__rbuf *b, size_t n);
/* Peek without consuming. */
int vpnr__rbuf_peek_u8(const struct vpnr__rbuf *b, size_t at, uint8_t *v);
int vpnr__rbuf_peek_u16(const struct vpnr__rbuf *b, size_t at, uint16_t *v);
int vpnr__rbuf_peek_u32(const struct vpnr__rbuf *b, size_t at, uint32_t *v);
size_t vpnr__rbuf_left(const struct vpnr__rbuf *b);
size_t vpnr__rbuf_offset(const struct vpnr__rbuf *b);
/* Pointer to the unread rest (NULL when empty). */
const uint8_t *vpnr__rbuf_rest(const struct vpnr__rbuf *b);

/*
 * Writer: grows through the vpnr_mem hooks, or writes into a fixed
 * buffer (init_fixed) and fails with VPNR_ERR_BUFFER_TOO_SMALL.
 */
struct vpnr__wbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* growth limit */
	const vpnr_mem *mem;
	int fixed;
	int err; /* 0, VPNR_ERR_NOMEM or VPNR_ERR_BUFFER_TOO_SMALL */
};

void vpnr__wbuf_init(struct vpnr__wbuf *w, const vpnr_mem *mem, size_t max);
void vpnr__wbuf_init_fixed(struct vpnr__wbuf *w, uint8_t *buf, size_t cap);
/* Frees a growable buffer after wiping it (it may hold keys). */
void vpnr__wbuf_free(struct vpnr__wbuf *w);
void vpnr__wbuf_reset(struct vpnr__wbuf *w);
int vpnr__wbuf_put_u8(struct vpnr__wbuf *w, uint8_t v);
int vpnr__wbuf_put_u16(struct vpnr__wbuf *w, uint16_t v);
int vpnr__wbuf_put_u24(struct vpnr__wbuf *w, uint32_t v);
int vpnr__wbuf_put_u32(struct vpnr__wbuf *w, uint32_t v);
int vpnr__wbuf_put_u64(struct vpnr__wbuf *w, uint64_t v);
int vpnr__wbuf_put_bytes(struct vpnr__wbuf *w, const void *p, size_t n);
int vpnr__wbuf_put_zero(struct vpnr__wbuf *w, size_t n);
/* Reserve n bytes at the end; *off receives their offset. */
int vpnr__wbuf_reserve(struct vpnr__wbuf *w, size_t n, size_t *off);
/* Overwrite earlier bytes (lengths filled in later). */
int vpnr__wbuf_set_u8(struct vpnr__wbuf *w, size_t off, uint8_t v);
int vpnr__wbuf_set_u16(struct vpnr__wbuf *w, size_t off, uint16_t v);
int vpnr__wbuf_set_u32(struct vpnr__wbuf *w, size_t off, uint32_t v);
/* Writable pointer to n bytes at off (in-place crypto), or NULL. */
uint8_t *vpnr__wbuf_ptr(struct vpnr__wbuf *w, size_t off, size_t n);
/* Drop everything after len bytes. */
void vpnr__wbuf_truncate(struct vpnr__wbuf *w, size_t len);
/* A growable buffer kept for long (a message held for retransmission)
 * moves to an allocation of exactly its length; the old one is wiped.
 * On failure it stays as it was (still valid). */
void vpnr__wbuf_shrink(struct vpnr__wbuf *w);
static inline const uint8_t *
vpnr__wbuf_data(const struct vpnr__wbuf *w)
{
	return w->data;
}
static inline size_t
vpnr__wbuf_len(const struct vpnr__wbuf *w)
{
	return w->len;
}

/* Big-endian fixed fields (SPIs, cookies) read or written in place. */
static inline uint16_t
vpnr__get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t
vpnr__get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t
vpnr__get_be64(const uint8_t *p)
{
	return (uint64_t)vpnr__get_be32(p) << 32 | vpnr__get_be32(p + 4);
}
static inline void
vpnr__put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void
vpnr__put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void
vpnr__put_be64(uint8_t *p, uint64_t v)
{
	vpnr__put_be32(p, (uint32_t)(v >> 32));
	vpnr__put_be32(p + 4, (uint32_t)v);
}

#endif /* VPNR_LIB_BUF_H */
