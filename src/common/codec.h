/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_CODEC_H
#define VOUCH_COMMON_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/* Lower-case hex of n bytes into dst, which must hold 2n + 1 bytes. */
void vouch_hex_encode(const void *src, size_t n, char *dst);

/* The same, allocated (free with free()); NULL when out of memory. */
char *vouch_hex_alloc(const void *src, size_t n);

/*
 * Strict hex decode of s[0..len): an even number of [0-9a-fA-F], nothing
 * else.  At most max output bytes.  *ret is allocated (free with free())
 * and NUL-terminated for convenience; both outputs are written only on
 * success.  A zero-length input gives a valid empty allocation.
 */
vouch_err vouch_hex_decode(const char *s, size_t len, size_t max, uint8_t **ret,
                           size_t *ret_len, struct vouch_errbuf *eb);

/* Strict hex decode into a fixed buffer: the input must be exactly 2n chars. */
vouch_err vouch_hex_decode_exact(const char *s, size_t len, uint8_t *dst, size_t n,
                                 struct vouch_errbuf *eb);

/* Base64 alphabet and padding options; combine with |. */
enum {
    VOUCH_B64_URL = 1 << 0,          /* '-' and '_' instead of '+' and '/' */
    VOUCH_B64_NOPAD = 1 << 1,        /* encode without '='; decode rejects '=' */
    VOUCH_B64_PAD_OPTIONAL = 1 << 2, /* decode: padding may be present or not */
    VOUCH_B64_LAX_BITS = 1 << 3,     /* decode: allow non-zero unused low bits */
};
#define VOUCH_B64_STD 0
#define VOUCH_B64URL (VOUCH_B64_URL | VOUCH_B64_NOPAD)

/* Encoded length (without terminator) of n bytes. */
size_t vouch_b64_encoded_len(size_t n, int flags);

/* Encode into dst, which must hold vouch_b64_encoded_len() + 1 bytes. */
void vouch_b64_encode(const void *src, size_t n, int flags, char *dst);

/* Encode, allocated (free with free()); NULL when out of memory. */
char *vouch_b64_alloc(const void *src, size_t n, int flags);

/*
 * Strict base64 decode.  Rejects characters outside the alphabet, a length
 * that cannot be a valid encoding, misplaced or wrong padding, and
 * non-zero unused bits (unless VOUCH_B64_LAX_BITS).  *ret is allocated and
 * NUL-terminated; outputs are written only on success.
 */
vouch_err vouch_b64_decode(const char *s, size_t len, int flags, size_t max,
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb);

/*
 * Whether the AVX2 paths (base64 decoding here, the JSON string scan) run:
 * an x86-64 CPU with AVX2, unless vouch_codec_force_scalar(true) was called.
 * Both paths give the same results and messages.
 */
bool vouch_codec_avx2(void);

/* Tests and fuzz targets: true makes every caller take the scalar paths. */
void vouch_codec_force_scalar(bool on);

/* The value of a hex digit (either case), or -1. */
int vouch_hex_digit(int c);

/*
 * Strict UTF-8: the code point of the sequence at s (at most n bytes) and
 * its length, or 0 for an invalid, overlong, surrogate or cut-short one.
 */
size_t vouch_utf8_decode(const char *s, size_t n, uint32_t *ret_cp);

/* Encode a code point (at most U+10FFFF); returns its length, 1-4. */
size_t vouch_utf8_encode(uint32_t cp, char out[4]);

#endif
