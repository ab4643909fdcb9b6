/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_READER_H
#define VOUCH_COMMON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * A bounds-checked cursor over untrusted bytes.  Every read checks the bytes
 * left against the explicit end first (subtracting, never adding, so a huge
 * length cannot wrap), and on failure returns VOUCH_E_TRUNCATED without
 * moving the cursor or writing the output.  Zero-copy: vouch_reader_bytes()
 * hands back a pointer into the input.
 */
struct vouch_reader {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
};

void vouch_reader_init(struct vouch_reader *r, const void *data, size_t len);

static inline size_t vouch_reader_left(const struct vouch_reader *r)
{
    return (size_t)(r->end - r->p);
}

static inline size_t vouch_reader_offset(const struct vouch_reader *r)
{
    return (size_t)(r->p - r->start);
}

static inline bool vouch_reader_done(const struct vouch_reader *r)
{
    return r->p == r->end;
}

vouch_err vouch_reader_u8(struct vouch_reader *r, uint8_t *ret);
vouch_err vouch_reader_u16le(struct vouch_reader *r, uint16_t *ret);
vouch_err vouch_reader_u32le(struct vouch_reader *r, uint32_t *ret);
vouch_err vouch_reader_u64le(struct vouch_reader *r, uint64_t *ret);
vouch_err vouch_reader_u16be(struct vouch_reader *r, uint16_t *ret);
vouch_err vouch_reader_u32be(struct vouch_reader *r, uint32_t *ret);
vouch_err vouch_reader_u64be(struct vouch_reader *r, uint64_t *ret);

/* Point *ret at the next n bytes of the input and advance past them. */
vouch_err vouch_reader_bytes(struct vouch_reader *r, size_t n, const uint8_t **ret);

/* Copy the next n bytes into dst (which must hold n bytes) and advance. */
vouch_err vouch_reader_copy(struct vouch_reader *r, void *dst, size_t n);

vouch_err vouch_reader_skip(struct vouch_reader *r, size_t n);

/*
 * Carve the next n bytes into their own reader (for a length-prefixed
 * structure) and advance the parent past them.
 */
vouch_err vouch_reader_sub(struct vouch_reader *r, size_t n, struct vouch_reader *ret);

/* Look at the next n bytes without advancing. */
vouch_err vouch_reader_peek(const struct vouch_reader *r, size_t n, const uint8_t **ret);

#endif
