/*
 * Bounded reader and writer: the only place that does pointer
 * arithmetic on wire bytes.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

void
vpnr__rbuf_init(struct vpnr__rbuf *b, const uint8_t *data, size_t len)
{
	b->data = data;
	b->len = data == NULL ? 0 : len;
	b->off = 0;
	b->err = 0;
}

static int
rbuf_need(struct vpnr__rbuf *b, size_t n)
{
	if (b->err != 0)
		return b->err;
	if (n > b->len - b->off) {
		b->err = VPNR_ERR_MALFORMED;
		return b->err;
	}
	return 0;
}

int
vpnr__rbuf_get_u8(struct vpnr__rbuf *b, uint8_t *v)
{
	if (rbuf_need(b, 1) != 0)
		return b->err;
	*v = b->data[b->off++];
	return 0;
}

int
vpnr__rbuf_get_u16(struct vpnr__rbuf *b, uint16_t *v)
{
	const uint8_t *p;

	if (rbuf_need(b, 2) != 0)
		return b->err;
	p = b->data + b->off;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	b->off += 2;
	return 0;
}

int
vpnr__rbuf_get_u24(struct vpnr__rbuf *b, uint32_t *v)
{
	const uint8_t *p;

	if (rbuf_need(b, 3) != 0)
		return b->err;
	p = b->data + b->off;
	*v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	b->off += 3;
	return 0;
}

int
vpnr__rbuf_get_u32(struct vpnr__rbuf *b, uint32_t *v)
{
	const uint8_t *p;

	if (rbuf_need(b, 4) != 0)
		return b->err;
	p = b->data + b->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    p[3];
	b->off += 4;
	return 0;
}

int
vpnr__rbuf_get_u64(struct vpnr__rbuf *b, uint64_t *v)
{
	uint32_t hi = 0, lo = 0;

	if (rbuf_need(b, 8) != 0)
		return b->err;
	vpnr__rbuf_get_u32(b, &hi);
	vpnr__rbuf_get_u32(b, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
vpnr__rbuf_get_bytes(struct vpnr__rbuf *b, void *out, size_t n)
{
	if (rbuf_need(b, n) != 0)
		return b->err;
	if (n > 0)
		memcpy(out, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
vpnr__rbuf_get_ptr(struct vpnr__rbuf *b, size_t n, const uint8_t **p)
{
	if (rbuf_need(b, n) != 0)
		return b->err;
	*p = b->data + b->off;
	b->off += n;
	return 0;
}

int
vpnr__rbuf_get_sub(struct vpnr__rbuf *b, size_t n, struct vpnr__rbuf *sub)
{
	if (rbuf_need(b, n) != 0)
		return b->err;
	vpnr__rbuf_init(sub, b->data + b->off, n);
	b->off += n;
	return 0;
}

int
vpnr__rbuf_skip(struct vpnr__rbuf *b, size_t n)
{
	if (rbuf_need(b, n) != 0)
		return b->err;
	b->off += n;
	return 0;
}

int
vpnr__rbuf_peek_u8(const struct vpnr__rbuf *b, size_t at, uint8_t *v)
{
	if (b->err != 0 || at >= b->len - b->off)
		return VPNR_ERR_MALFORMED;
	*v = b->data[b->off + at];
	return 0;
}

int
vpnr__rbuf_peek_u16(const struct vpnr__rbuf *b, size_t at, uint16_t *v)
{
	const uint8_t *p;

	if (b->err != 0 || b->len - b->off < 2 || at > b->len - b->off - 2)
		return VPNR_ERR_MALFORMED;
	p = b->data + b->off + at;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

int
vpnr__rbuf_peek_u32(const struct vpnr__rbuf *b, size_t at, uint32_t *v)
{
	const uint8_t *p;

	if (b->err != 0 || b->len - b->off < 4 || at > b->len - b->off - 4)
		return VPNR_ERR_MALFORMED;
	p = b->data + b->off + at;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    p[3];
	return 0;
}

size_t
vpnr__rbuf_left(const struct vpnr__rbuf *b)
{
	return b->err != 0 ? 0 : b->len - b->off;
}

size_t
vpnr__rbuf_offset(const struct vpnr__rbuf *b)
{
	return b->off;
}

const uint8_t *
vpnr__rbuf_rest(const struct vpnr__rbuf *b)
{
	if (b->err != 0 || b->off >= b->len)
		return NULL;
	return b->data + b->off;
}

/* ---- writer ------------------------------------------------------- */

void
vpnr__wbuf_init(struct vpnr__wbuf *w, const vpnr_mem *mem, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->mem = mem;
	w->max = max == 0 ? SIZE_MAX : max;
}

void
vpnr__wbuf_init_fixed(struct vpnr__wbuf *w, uint8_t *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->data = buf;
	w->cap = cap;
	w->max = cap;
	w->fixed = 1;
}

void
vpnr__wbuf_free(struct vpnr__wbuf *w)
{
	if (!w->fixed)
		vpnr__freezero(w->mem, w->data, w->cap);
	w->data = NULL;
	w->len = w->cap = 0;
	w->err = 0;
}

void
vpnr__wbuf_shrink(struct vpnr__wbuf *w)
{
	uint8_t *p;

	if (w->fixed || w->err != 0 || w->len == 0 || w->len == w->cap)
		return;
	if ((p = vpnr__malloc(w->mem, w->len)) == NULL)
		return; /* the larger buffer serves as well */
	memcpy(p, w->data, w->len);
	vpnr__freezero(w->mem, w->data, w->cap);
	w->data = p;
	w->cap = w->len;
}

void
vpnr__wbuf_reset(struct vpnr__wbuf *w)
{
	w->len = 0;
	w->err = 0;
}

static int
wbuf_room(struct vpnr__wbuf *w, size_t n)
{
	size_t ncap;
	uint8_t *p;

	if (w->err != 0)
		return w->err;
	if (n <= w->cap - w->len)
		return 0;
	if (w->fixed || n > w->max - w->len) {
		w->err = VPNR_ERR_BUFFER_TOO_SMALL;
		return w->err;
	}
	ncap = w->cap < 256 ? 256 : w->cap;
	while (ncap - w->len < n)
		ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
	if (ncap > w->max)
		ncap = w->max;
	/* Copy rather than realloc so that a buffer holding keys is
	 * wiped, never left behind by the allocator. */
	if ((p = vpnr__malloc(w->mem, ncap)) == NULL) {
		w->err = VPNR_ERR_NOMEM;
		return w->err;
	}
	if (w->len > 0)
		memcpy(p, w->data, w->len);
	vpnr__freezero(w->mem, w->data, w->cap);
	w->data = p;
	w->cap = ncap;
	return 0;
}

int
vpnr__wbuf_put_u8(struct vpnr__wbuf *w, uint8_t v)
{
	if (wbuf_room(w, 1) != 0)
		return w->err;
	w->data[w->len++] = v;
	return 0;
}

int
vpnr__wbuf_put_u16(struct vpnr__wbuf *w, uint16_t v)
{
	if (wbuf_room(w, 2) != 0)
		return w->err;
	w->data[w->len++] = (uint8_t)(v >> 8);
	w->data[w->len++] = (uint8_t)v;
	return 0;
}

int
vpnr__wbuf_put_u24(struct vpnr__wbuf *w, uint32_t v)
{
	if (wbuf_room(w, 3) != 0)
		return w->err;
	w->data[w->len++] = (uint8_t)(v >> 16);
	w->data[w->len++] = (uint8_t)(v >> 8);
	w->data[w->len++] = (uint8_t)v;
	return 0;
}

int
vpnr__wbuf_put_u32(struct vpnr__wbuf *w, uint32_t v)
{
	if (wbuf_room(w, 4) != 0)
		return w->err;
	w->data[w->len++] = (uint8_t)(v >> 24);
	w->data[w->len++] = (uint8_t)(v >> 16);
	w->data[w->len++] = (uint8_t)(v >> 8);
	w->data[w->len++] = (uint8_t)v;
	return 0;
}

int
vpnr__wbuf_put_u64(struct vpnr__wbuf *w, uint64_t v)
{
	if (wbuf_room(w, 8) != 0)
		return w->err;
	vpnr__wbuf_put_u32(w, (uint32_t)(v >> 32));
	return vpnr__wbuf_put_u32(w, (uint32_t)v);
}

int
vpnr__wbuf_put_bytes(struct vpnr__wbuf *w, const void *p, size_t n)
{
	if (wbuf_room(w, n) != 0)
		return w->err;
	if (n > 0)
		memcpy(w->data + w->len, p, n);
	w->len += n;
	return 0;
}

int
vpnr__wbuf_put_zero(struct vpnr__wbuf *w, size_t n)
{
	if (wbuf_room(w, n) != 0)
		return w->err;
	if (n > 0)
		memset(w->data + w->len, 0, n);
	w->len += n;
	return 0;
}

int
vpnr__wbuf_reserve(struct vpnr__wbuf *w, size_t n, size_t *off)
{
	if (wbuf_room(w, n) != 0)
		return w->err;
	*off = w->len;
	if (n > 0)
		memset(w->data + w->len, 0, n);
	w->len += n;
	return 0;
}

int
vpnr__wbuf_set_u8(struct vpnr__wbuf *w, size_t off, uint8_t v)
{
	if (w->err != 0)
		return w->err;
	if (off >= w->len)
		return VPNR_ERR_INTERNAL;
	w->data[off] = v;
	return 0;
}

int
vpnr__wbuf_set_u16(struct vpnr__wbuf *w, size_t off, uint16_t v)
{
	if (w->err != 0)
		return w->err;
	if (w->len < 2 || off > w->len - 2)
		return VPNR_ERR_INTERNAL;
	w->data[off] = (uint8_t)(v >> 8);
	w->data[off + 1] = (uint8_t)v;
	return 0;
}

int
vpnr__wbuf_set_u32(struct vpnr__wbuf *w, size_t off, uint32_t v)
{
	if (w->err != 0)
		return w->err;
	if (w->len < 4 || off > w->len - 4)
		return VPNR_ERR_INTERNAL;
	w->data[off] = (uint8_t)(v >> 24);
	w->data[off + 1] = (uint8_t)(v >> 16);
	w->data[off + 2] = (uint8_t)(v >> 8);
	w->data[off + 3] = (uint8_t)v;
	return 0;
}

uint8_t *
vpnr__wbuf_ptr(struct vpnr__wbuf *w, size_t off, size_t n)
{
	if (w->err != 0 || off > w->len || n > w->len - off)
		return NULL;
	return w->data + off;
}

void
vpnr__wbuf_truncate(struct vpnr__wbuf *w, size_t len)
{
	if (len < w->len)
		w->len = len;
}
