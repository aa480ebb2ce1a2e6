/*
 * A growing text buffer for the reports minigw prints ("show ...",
 * metrics): appended to printf-style, NUL-terminated all along.
 */
#ifndef MGW_TEXTBUF_H
#define MGW_TEXTBUF_H

#include <stddef.h>

struct mgw_textbuf {
	char *p; /* malloc'ed by the caller, cap bytes */
	size_t len, cap;
};

/*
 * Append to b, growing b->p as needed.  When realloc fails the piece
 * is cut short or lost; b stays terminated and is never overrun.
 */
void mgw_textbuf_printf(struct mgw_textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
