/* SPDX-License-Identifier: Apache-2.0 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/codec.h"

static const char hexdigits[] = "0123456789abcdef";

void vouch_hex_encode(const void *src, size_t n, char *dst)
{
    const uint8_t *s = src;
    size_t i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = hexdigits[s[i] >> 4];
        dst[2 * i + 1] = hexdigits[s[i] & 0xf];
    }
    dst[2 * n] = '\0';
}

char *vouch_hex_alloc(const void *src, size_t n)
{
    char *p;

    if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    p = malloc(2 * n + 1);
    if (p)
        vouch_hex_encode(src, n, p);
    return p;
}

int vouch_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex digit values; 0xff: not a hex digit. */
static const uint8_t hex_value[256] = {
    ['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6, ['7'] = 7,
    ['8'] = 8, ['9'] = 9, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14,
    ['f'] = 15, ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};
static const uint8_t hex_valid[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
};

/* Decode exactly len (even) chars into dst; the caller sized dst.  Table-driven (event logs
 * carry kilobytes of hex). */
static vouch_err hex_into(const char *s, size_t len, uint8_t *dst,
                          struct vouch_errbuf *eb)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i;

    for (i = 0; i < len; i += 2) {
        if (!(hex_valid[u[i]] & hex_valid[u[i + 1]]))
            return vouch_fail(eb, VOUCH_E_INVALID, "invalid hex character at offset %zu",
                              hex_valid[u[i]] ? i + 1 : i);
        dst[i / 2] = (uint8_t)(hex_value[u[i]] << 4 | hex_value[u[i + 1]]);
    }
    return VOUCH_OK;
}

vouch_err vouch_hex_decode(const char *s, size_t len, size_t max, uint8_t **ret,
                           size_t *ret_len, struct vouch_errbuf *eb)
{
    uint8_t *out;
    vouch_err e;

    if (len % 2)
        return vouch_fail(eb, VOUCH_E_INVALID, "hex string has odd length %zu", len);
    if (len / 2 > max)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "hex string decodes to %zu bytes, limit %zu",
                          len / 2, max);
    out = malloc(len / 2 + 1);
    if (!out)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = hex_into(s, len, out, eb);
    if (e) {
        free(out);
        return e;
    }
    out[len / 2] = '\0';
    *ret = out;
    *ret_len = len / 2;
    return VOUCH_OK;
}

vouch_err vouch_hex_decode_exact(const char *s, size_t len, uint8_t *dst, size_t n,
                                 struct vouch_errbuf *eb)
{
    uint8_t tmp[256];
    uint8_t *t = tmp;
    vouch_err e;

    if (n > SIZE_MAX / 2 || len != 2 * n)
        return vouch_fail(eb, VOUCH_E_INVALID, "expected %zu hex characters, got %zu",
                          n > SIZE_MAX / 2 ? 0 : 2 * n, len);
    if (n > sizeof(tmp)) {
        t = malloc(n);
        if (!t)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    e = hex_into(s, len, t, eb);
    if (!e)
        memcpy(dst, t, n);
    if (t != tmp)
        free(t);
    return e;
}

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t vouch_b64_encoded_len(size_t n, int flags)
{
    if (flags & VOUCH_B64_NOPAD)
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    return (n + 2) / 3 * 4;
}

void vouch_b64_encode(const void *src, size_t n, int flags, char *dst)
{
    const char *abc = (flags & VOUCH_B64_URL) ? b64url : b64std;
    const uint8_t *s = src;
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

        dst[o++] = abc[v >> 18 & 63];
        dst[o++] = abc[v >> 12 & 63];
        dst[o++] = abc[v >> 6 & 63];
        dst[o++] = abc[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;

        dst[o++] = abc[v >> 18 & 63];
        dst[o++] = abc[v >> 12 & 63];
        if (!(flags & VOUCH_B64_NOPAD)) {
            dst[o++] = '=';
            dst[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

        dst[o++] = abc[v >> 18 & 63];
        dst[o++] = abc[v >> 12 & 63];
        dst[o++] = abc[v >> 6 & 63];
        if (!(flags & VOUCH_B64_NOPAD))
            dst[o++] = '=';
    }
    dst[o] = '\0';
}

char *vouch_b64_alloc(const void *src, size_t n, int flags)
{
    char *p;

    if (n > SIZE_MAX / 2)
        return NULL;
    p = malloc(vouch_b64_encoded_len(n, flags) + 1);
    if (p)
        vouch_b64_encode(src, n, flags, p);
    return p;
}

/* Sextet of byte c, -1 outside the alphabet (url: '-' and '_' for '+' and '/'). */
#define B64_SEXTET(c, url)                                                                    \
    ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                                   \
     : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                              \
     : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                              \
     : (c) == ((url) ? '-' : '+') ? 62                                                        \
     : (c) == ((url) ? '_' : '/') ? 63                                                        \
                                  : -1)
/* The sextet already in its place in a quad's 24 bits; B64_BAD (bit 31) outside the alphabet. */
#define B64_BAD 0x80000000u
#define B64_AT(c, url, pos)                                                                   \
    (B64_SEXTET(c, url) < 0 ? B64_BAD : (uint32_t)B64_SEXTET(c, url) << (18 - 6 * (pos)))
#define B64_R4(c, url, pos)                                                                   \
    B64_AT(c, url, pos), B64_AT((c) + 1, url, pos), B64_AT((c) + 2, url, pos),                \
        B64_AT((c) + 3, url, pos)
#define B64_R16(c, url, pos)                                                                  \
    B64_R4(c, url, pos), B64_R4((c) + 4, url, pos), B64_R4((c) + 8, url, pos),                \
        B64_R4((c) + 12, url, pos)
#define B64_R64(c, url, pos)                                                                  \
    B64_R16(c, url, pos), B64_R16((c) + 16, url, pos), B64_R16((c) + 32, url, pos),           \
        B64_R16((c) + 48, url, pos)
#define B64_TABLE(url, pos)                                                                   \
    { B64_R64(0, url, pos), B64_R64(64, url, pos), B64_R64(128, url, pos),                    \
      B64_R64(192, url, pos) }

/*
 * For each alphabet and each position in a quad, every byte's bits in the
 * quad's 24: a quad decodes with four loads OR-ed together and one test of
 * B64_BAD, instead of four sign tests and four shifts.
 */
static const uint32_t b64_quad[2][4][256] = {
    { B64_TABLE(0, 0), B64_TABLE(0, 1), B64_TABLE(0, 2), B64_TABLE(0, 3) },
    { B64_TABLE(1, 0), B64_TABLE(1, 1), B64_TABLE(1, 2), B64_TABLE(1, 3) },
};

/* The bits of the quad at p, B64_BAD set if any of its characters is outside the alphabet. */
static inline uint32_t b64_quad_bits(const uint32_t (*t)[256], const unsigned char *p)
{
    return t[0][p[0]] | t[1][p[1]] | t[2][p[2]] | t[3][p[3]];
}

static inline void b64_quad_put(uint8_t *out, uint32_t v)
{
    out[0] = (uint8_t)(v >> 16);
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
}

/*
 * Whole quads of s[0..data_len) into out, two at a time while it can; stops
 * before the first quad with a character outside the alphabet.  Returns the
 * characters consumed (a multiple of 4; out got 3/4 as many bytes).
 */
static size_t b64_decode_quads(const uint32_t (*t)[256], const unsigned char *s,
                               size_t data_len, uint8_t *out)
{
    size_t i = 0, o = 0;

    for (; i + 8 <= data_len; i += 8, o += 6) {
        uint32_t v = b64_quad_bits(t, s + i), w = b64_quad_bits(t, s + i + 4);

        if ((v | w) & B64_BAD)
            break;
        b64_quad_put(out + o, v);
        b64_quad_put(out + o + 3, w);
    }
    for (; i + 4 <= data_len; i += 4, o += 3) {
        uint32_t v = b64_quad_bits(t, s + i);

        if (v & B64_BAD)
            break;
        b64_quad_put(out + o, v);
    }
    return i;
}

/* Sextet of one character, -1 outside the alphabet (the tail and error path). */
static int b64_sextet(const uint32_t (*t)[256], unsigned char c)
{
    return t[3][c] & B64_BAD ? -1 : (int)t[3][c];
}

/* ---- AVX2 paths (x86-64, chosen at run time) ---- */

static atomic_bool force_scalar;

void vouch_codec_force_scalar(bool on)
{
    atomic_store_explicit(&force_scalar, on, memory_order_relaxed);
}

bool vouch_codec_avx2(void)
{
#if defined(__x86_64__)
    /* libgcc / compiler-rt read CPUID once at start-up: this is a load and a test */
    return !atomic_load_explicit(&force_scalar, memory_order_relaxed) &&
           __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

#if defined(__x86_64__)
#define VOUCH_AVX2 __attribute__((target("avx2")))

/*
 * Is each of the 32 bytes in the alphabet?  Every byte's high nibble picks a
 * class bit (lut_hi), its low nibble the classes in which it is NOT in the
 * alphabet (lut_lo); the byte is outside the alphabet when the two share a
 * bit.  Classes: 0x01 high nibble 2 ("+/" or "-"), 0x02 nibble 3 (digits),
 * 0x04 nibbles 4 and 6 (letters after '@' / '`'), 0x08 nibble 5, 0x20 nibble 7,
 * 0x10 the nibbles with no character in the alphabet (0, 1 and 8-15).
 */
struct b64_avx2_tables {
    int8_t lut_lo[16], lut_hi[16];
    int8_t delta[16];   /* sextet - byte, by high nibble; slot nibble ^ 8 for `special` */
    char special;       /* the one character whose delta differs within its nibble */
};

static const struct b64_avx2_tables b64_avx2[2] = {
    {   /* standard: '+' 0x2b and '/' 0x2f in nibble 2; '/' takes slot 10 */
        .lut_lo = { 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                    0x11, 0x11, 0x13, 0x3a, 0x3b, 0x3b, 0x3b, 0x3a },
        .lut_hi = { 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x20,
                    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10 },
        .delta = { 0, 0, 62 - '+', 52 - '0', -'A', 15 - 'P', 26 - 'a', 41 - 'p',
                   0, 0, 63 - '/', 0, 0, 0, 0, 0 },
        .special = '/',
    },
    {   /* url: '-' 0x2d in nibble 2, '_' 0x5f in nibble 5; '_' takes slot 13 */
        .lut_lo = { 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                    0x11, 0x11, 0x13, 0x3b, 0x3b, 0x3a, 0x3b, 0x33 },
        .lut_hi = { 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x20,
                    0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10 },
        .delta = { 0, 0, 62 - '-', 52 - '0', -'A', 15 - 'P', 26 - 'a', 41 - 'p',
                   0, 0, 0, 0, 0, 63 - '_', 0, 0 },
        .special = '_',
    },
};

static inline VOUCH_AVX2 __m256i bcast16(const int8_t t[16])
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

/*
 * Whole 32-character blocks of s[0..data_len) into out; stops before the
 * first block with a character outside the alphabet.  Returns the characters
 * consumed (a multiple of 32; out got 3/4 as many bytes).  Each block: the
 * sextets by nibble lookups, then pairs merged to 12 bits (maddubs), pairs of
 * those to 24 (madd), and the three low bytes of each 32-bit word, big end
 * first, packed together (a byte shuffle per lane, a dword permute across).
 */
static VOUCH_AVX2 size_t b64_decode_avx2(const struct b64_avx2_tables *t,
                                         const unsigned char *s, size_t data_len, uint8_t *out)
{
    const __m256i lut_lo = bcast16(t->lut_lo), lut_hi = bcast16(t->lut_hi);
    const __m256i delta = bcast16(t->delta), nib = _mm256_set1_epi8(0x0f);
    const __m256i special = _mm256_set1_epi8(t->special), slot = _mm256_set1_epi8(8);
    const __m256i merge6 = _mm256_set1_epi32(0x01400140), merge12 = _mm256_set1_epi32(0x00011000);
    const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
                                          2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
    size_t i = 0, o = 0;

    for (; i + 32 <= data_len; i += 32, o += 24) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(s + i));
        __m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
        __m256i idx, v;

        if (!_mm256_testz_si256(_mm256_shuffle_epi8(lut_lo, _mm256_and_si256(x, nib)),
                                _mm256_shuffle_epi8(lut_hi, hi)))
            break;
        idx = _mm256_xor_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(x, special), slot));
        v = _mm256_add_epi8(x, _mm256_shuffle_epi8(delta, idx));
        v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, merge6), merge12);
        v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pack), lanes);
        _mm_storeu_si128((__m128i *)(out + o), _mm256_castsi256_si128(v));
        _mm_storel_epi64((__m128i *)(out + o + 16), _mm256_extracti128_si256(v, 1));
    }
    return i;
}
#endif

vouch_err vouch_b64_decode(const char *s, size_t len, int flags, size_t max,
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    bool url = flags & VOUCH_B64_URL;
    const uint32_t (*tab)[256] = b64_quad[url];
    size_t pad = 0, data_len, out_len, i, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    uint8_t *out;

    /* Split off trailing padding and check it against the options. */
    while (pad < len && pad < 3 && s[len - 1 - pad] == '=')
        pad++;
    data_len = len - pad;
    if (pad) {
        if (flags & VOUCH_B64_NOPAD)
            return vouch_fail(eb, VOUCH_E_INVALID,
                              "base64url padding '=' is not allowed (offset %zu)", data_len);
        if (pad > 2 || len % 4)
            return vouch_fail(eb, VOUCH_E_INVALID, "invalid base64 padding at offset %zu",
                              data_len);
    } else if (!(flags & (VOUCH_B64_NOPAD | VOUCH_B64_PAD_OPTIONAL)) && len % 4) {
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "base64 length %zu is not a multiple of 4 (missing padding?)", len);
    }
    if (data_len % 4 == 1)
        return vouch_fail(eb, VOUCH_E_INVALID, "base64 length %zu is impossible", data_len);
    out_len = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
    if (out_len > max)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "base64 decodes to %zu bytes, limit %zu",
                          out_len, max);
    out = malloc(out_len + 1);
    if (!out)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    /*
     * Whole 32-character blocks (AVX2), then whole quads; the byte-wise loop below does the
     * tail and names a bad offset.  A block or quad with a bad character is left to the next.
     */
    i = 0;
#if defined(__x86_64__)
    if (data_len >= 32 && vouch_codec_avx2())
        i = b64_decode_avx2(&b64_avx2[url], (const unsigned char *)s, data_len, out);
#endif
    i += b64_decode_quads(tab, (const unsigned char *)s + i, data_len - i, out + i / 4 * 3);
    o = i / 4 * 3;
    acc = 0;
    for (; i < data_len; i++) {
        int v = b64_sextet(tab, (unsigned char)s[i]);

        if (v < 0) {
            free(out);
            return vouch_fail(eb, VOUCH_E_INVALID, "invalid %s character at offset %zu",
                              url ? "base64url" : "base64", i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits && acc && !(flags & VOUCH_B64_LAX_BITS)) {
        free(out);
        return vouch_fail(eb, VOUCH_E_INVALID, "non-canonical base64: unused bits are not zero");
    }
    out[o] = '\0';
    *ret = out;
    *ret_len = o;
    return VOUCH_OK;
}

/* ---- UTF-8 ---- */

size_t vouch_utf8_decode(const char *s, size_t n, uint32_t *ret_cp)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    size_t len, i;

    if (n == 0)
        return 0;
    if (u[0] < 0x80) {
        *ret_cp = u[0];
        return 1;
    }
    if ((u[0] & 0xe0) == 0xc0) {
        cp = u[0] & 0x1f;
        len = 2;
    } else if ((u[0] & 0xf0) == 0xe0) {
        cp = u[0] & 0x0f;
        len = 3;
    } else if ((u[0] & 0xf8) == 0xf0) {
        cp = u[0] & 0x07;
        len = 4;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *ret_cp = cp;
    return len;
}

size_t vouch_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}
