/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/reader.h"

void vouch_reader_init(struct vouch_reader *r, const void *data, size_t len)
{
    static const uint8_t empty[1];

    /* NULL input reads as empty (pointer arithmetic on NULL is undefined). */
    if (!data) {
        data = empty;
        len = 0;
    }
    r->start = data;
    r->p = data;
    r->end = r->p + len;
}

vouch_err vouch_reader_peek(const struct vouch_reader *r, size_t n, const uint8_t **ret)
{
    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    *ret = r->p;
    return VOUCH_OK;
}

vouch_err vouch_reader_bytes(struct vouch_reader *r, size_t n, const uint8_t **ret)
{
    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    *ret = r->p;
    r->p += n;
    return VOUCH_OK;
}

vouch_err vouch_reader_copy(struct vouch_reader *r, void *dst, size_t n)
{
    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    if (n)
        memcpy(dst, r->p, n);
    r->p += n;
    return VOUCH_OK;
}

vouch_err vouch_reader_skip(struct vouch_reader *r, size_t n)
{
    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    r->p += n;
    return VOUCH_OK;
}

vouch_err vouch_reader_sub(struct vouch_reader *r, size_t n, struct vouch_reader *ret)
{
    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    ret->start = r->p;
    ret->p = r->p;
    ret->end = r->p + n;
    r->p += n;
    return VOUCH_OK;
}

vouch_err vouch_reader_u8(struct vouch_reader *r, uint8_t *ret)
{
    if (vouch_reader_left(r) < 1)
        return VOUCH_E_TRUNCATED;
    *ret = *r->p++;
    return VOUCH_OK;
}

/* Read n (<= 8) bytes as an unsigned integer in the given byte order. */
static vouch_err read_uint(struct vouch_reader *r, size_t n, bool big, uint64_t *ret)
{
    uint64_t v = 0;
    size_t i;

    if (n > vouch_reader_left(r))
        return VOUCH_E_TRUNCATED;
    for (i = 0; i < n; i++) {
        if (big)
            v = (v << 8) | r->p[i];
        else
            v |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += n;
    *ret = v;
    return VOUCH_OK;
}

#define DEFINE_UINT_READER(name, type, n, big)                          \
    vouch_err name(struct vouch_reader *r, type *ret)                   \
    {                                                                   \
        uint64_t v;                                                     \
        vouch_err e = read_uint(r, n, big, &v);                         \
        if (e == VOUCH_OK)                                              \
            *ret = (type)v;                                             \
        return e;                                                       \
    }

DEFINE_UINT_READER(vouch_reader_u16le, uint16_t, 2, false)
DEFINE_UINT_READER(vouch_reader_u32le, uint32_t, 4, false)
DEFINE_UINT_READER(vouch_reader_u64le, uint64_t, 8, false)
DEFINE_UINT_READER(vouch_reader_u16be, uint16_t, 2, true)
DEFINE_UINT_READER(vouch_reader_u32be, uint32_t, 4, true)
DEFINE_UINT_READER(vouch_reader_u64be, uint64_t, 8, true)
