/* The text buffer shared by the "show" answers and the metrics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "textbuf.h"

void
mgw_textbuf_printf(struct mgw_textbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *q;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		if ((q = realloc(b->p, (b->cap + (size_t)n) * 2)) == NULL)
			return;
		b->p = q;
		b->cap = (b->cap + (size_t)n) * 2;
	}
}
