/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

void vouch_buf_init(struct vouch_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vouch_buf_free(struct vouch_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void vouch_buf_reset(struct vouch_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

vouch_err vouch_buf_reserve(struct vouch_buf *b, size_t n)
{
    size_t need, ncap;
    uint8_t *p;

    if (n > b->max || b->len > b->max - n) {
        vouch_buf_free(b);
        return VOUCH_E_TOO_LARGE;
    }
    need = b->len + n + 1;
    if (need <= b->cap)
        return VOUCH_OK;
    ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max + 1)
        ncap = b->max + 1;
    p = realloc(b->data, ncap);
    if (!p) {
        vouch_buf_free(b);
        return VOUCH_E_NOMEM;
    }
    b->data = p;
    b->cap = ncap;
    return VOUCH_OK;
}

vouch_err vouch_buf_append(struct vouch_buf *b, const void *data, size_t n)
{
    vouch_err e = vouch_buf_reserve(b, n);

    if (e)
        return e;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VOUCH_OK;
}

vouch_err vouch_buf_putc(struct vouch_buf *b, uint8_t c)
{
    return vouch_buf_append(b, &c, 1);
}

vouch_err vouch_buf_puts(struct vouch_buf *b, const char *s)
{
    return vouch_buf_append(b, s, strlen(s));
}

vouch_err vouch_buf_put_uint(struct vouch_buf *b, uint64_t v)
{
    char d[20];
    size_t i = sizeof(d);

    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return vouch_buf_append(b, d + i, sizeof(d) - i);
}

vouch_err vouch_buf_put_int(struct vouch_buf *b, int64_t v)
{
    vouch_err e = VOUCH_OK;

    if (v < 0)
        e = vouch_buf_putc(b, '-');
    return e ? e : vouch_buf_put_uint(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

vouch_err vouch_buf_vprintf(struct vouch_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    vouch_err e;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        vouch_buf_free(b);
        return VOUCH_E_INTERNAL;
    }
    e = vouch_buf_reserve(b, (size_t)n);
    if (e)
        return e;
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return VOUCH_OK;
}

vouch_err vouch_buf_printf(struct vouch_buf *b, const char *fmt, ...)
{
    va_list ap;
    vouch_err e;

    va_start(ap, fmt);
    e = vouch_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return e;
}

uint8_t *vouch_buf_steal(struct vouch_buf *b, size_t *ret_len)
{
    uint8_t *p = b->data;
    size_t len = b->len;

    if (!p) {
        p = calloc(1, 1);
        if (!p)
            return NULL;
        len = 0;
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    if (ret_len)
        *ret_len = len;
    return p;
}
