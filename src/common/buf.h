/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_BUF_H
#define VOUCH_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * A growable byte buffer with a mandatory maximum size.  The contents are
 * always NUL-terminated (the terminator is not counted in len and not
 * counted against max), so text can be used as a C string directly.
 *
 * When an append fails (cap hit or no memory) the buffer frees its contents
 * and resets to empty, so callers never hold a half-built buffer; it may be
 * reused afterwards.
 */
struct vouch_buf {
    uint8_t *data;
    size_t len;
    size_t cap;   /* allocated bytes, including room for the terminator */
    size_t max;   /* the cap on len */
};

#define VOUCH_BUF_INIT(maxlen) { NULL, 0, 0, (maxlen) }

void vouch_buf_init(struct vouch_buf *b, size_t max);

/* Free the contents; the buffer is empty and reusable.  Accepts NULL. */
void vouch_buf_free(struct vouch_buf *b);

/* Drop the contents but keep the allocation. */
void vouch_buf_reset(struct vouch_buf *b);

vouch_err vouch_buf_append(struct vouch_buf *b, const void *data, size_t n);
vouch_err vouch_buf_putc(struct vouch_buf *b, uint8_t c);
vouch_err vouch_buf_puts(struct vouch_buf *b, const char *s);
/* A decimal integer, as "%llu" / "%lld" would write it, without printf. */
vouch_err vouch_buf_put_uint(struct vouch_buf *b, uint64_t v);
vouch_err vouch_buf_put_int(struct vouch_buf *b, int64_t v);
vouch_err vouch_buf_printf(struct vouch_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
vouch_err vouch_buf_vprintf(struct vouch_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Make sure n more bytes fit without a reallocation. */
vouch_err vouch_buf_reserve(struct vouch_buf *b, size_t n);

/*
 * Take ownership of the contents (NUL-terminated; free with free()).  The
 * buffer is left empty.  Returns a freshly allocated empty string when the
 * buffer is empty, or NULL when that allocation fails.
 */
uint8_t *vouch_buf_steal(struct vouch_buf *b, size_t *ret_len);

static inline const char *vouch_buf_str(const struct vouch_buf *b)
{
    return b->data ? (const char *)b->data : "";
}

#endif
