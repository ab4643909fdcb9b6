/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "common/buf.h"
#include "common/codec.h"
#include "common/file.h"
#include "common/json.h"

/*
 * Our own JSON reader (RFC 8259), building jansson values.  jansson's lexer
 * handles a string byte by byte through several layers (about 140
 * instructions a byte); request bodies and evidence documents are mostly
 * long base64 strings, so this one scans a string's plain bytes 32 at a time
 * (AVX2) or 8 at a time (skip_plain) and copies it once.  Same acceptance as
 * json_loadb(JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL): an array or object at
 * the top, strict UTF-8 (no overlongs, no surrogates), \u0000 allowed in
 * values but not in keys, integers that fit int64, finite reals; nesting is
 * capped at JSON_MAX_DEPTH.
 */
#define JSON_MAX_DEPTH 1024

struct jp {
    const uint8_t *start, *p, *end;
    const uint8_t *err_at;
    const char *err;
    int depth;
};

/* A byte that a string carries as it is: printable ASCII but '"' and '\\'. */
static inline bool plain(uint8_t c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#define BYTES8(b) (0x0101010101010101ULL * (uint8_t)(b))

#if defined(__x86_64__)
/*
 * The same 32 bytes at a time (AVX2): '"' and '\\' by equality, and one
 * signed "below 0x20" compare catches both the control bytes and every
 * byte >= 0x80.  Returns at the first byte that is not plain, or where
 * fewer than 32 bytes are left.
 */
static __attribute__((target("avx2"))) const uint8_t *skip_plain_avx2(const uint8_t *p,
                                                                       const uint8_t *end)
{
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
    const __m256i space = _mm256_set1_epi8(0x20);

    while (end - p >= 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)p);
        __m256i stop = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, quote),
                                                       _mm256_cmpeq_epi8(x, backslash)),
                                       _mm256_cmpgt_epi8(space, x));
        unsigned mask = (unsigned)_mm256_movemask_epi8(stop);

        if (mask)
            return p + __builtin_ctz(mask);
        p += 32;
    }
    return p;
}
#endif

/*
 * Skip the plain bytes at p: 32 at a time with AVX2 while 32 are left, then
 * eight at a time while a whole word is plain (no byte < 0x20, >= 0x80, '"'
 * or '\\'): event logs travel as strings of hundreds of KiB of base64.  The
 * classic "has a zero byte" test on w, w ^ '"' and w ^ '\\', and "has a byte
 * below 0x20" on w; any high bit stops it.
 */
static const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end)
{
    const uint64_t lo = BYTES8(0x01), hi = BYTES8(0x80);

#if defined(__x86_64__)
    if (end - p >= 32 && vouch_codec_avx2()) {
        p = skip_plain_avx2(p, end);
        if (end - p >= 32)
            return p;           /* at a byte that is not plain */
    }
#endif
    while (end - p >= 8) {
        uint64_t w, q, b;

        memcpy(&w, p, 8);
        q = w ^ BYTES8('"');
        b = w ^ BYTES8('\\');
        if (((w - BYTES8(0x20)) | (q - lo) | (b - lo) | w) & hi)
            break;
        p += 8;
    }
    while (p < end && plain(*p))
        p++;
    return p;
}

static json_t *jp_fail(struct jp *j, const uint8_t *at, const char *msg)
{
    if (!j->err) {
        j->err = msg;
        j->err_at = at;
    }
    return NULL;
}

static void jp_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int hex4(const uint8_t *p)
{
    int v = 0, i;

    for (i = 0; i < 4; i++) {
        int d = vouch_hex_digit(p[i]);

        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

bool vouch_json_string_decode(const char *p, const char *end, unsigned flags, char *out,
                              size_t *ret_len, const char **ret_end, const char **ret_err)
{
    const uint8_t *q = (const uint8_t *)p, *e = (const uint8_t *)end;
    uint8_t *o = (uint8_t *)out;
    uint32_t cp;
    size_t n;

#define FAIL(at, msg) do { *ret_end = (const char *)(at); *ret_err = (msg); return false; } while (0)
    while (q < e) {
        uint8_t c = *q;

        if (c == '"') {
            *ret_len = (size_t)(o - (uint8_t *)out);
            *ret_end = (const char *)q;
            return true;
        }
        if (c < 0x20)
            FAIL(q, "control character in a string");
        if (c >= 0x80) {
            n = vouch_utf8_decode((const char *)q, (size_t)(e - q), &cp);
            if (!n)
                FAIL(q, "invalid UTF-8 in a string");
            memcpy(o, q, n);
            o += n;
            q += n;
            continue;
        }
        if (c != '\\') {
            *o++ = c;
            q++;
            continue;
        }
        if (e - q < 2)
            break;
        switch (q[1]) {
        case '"': case '\\': case '/':
            *o++ = q[1];
            break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int hi, lo = -1;

            if (e - q < 6 || (hi = hex4(q + 2)) < 0)
                FAIL(q, "invalid \\u escape");
            cp = (uint32_t)hi;
            if (hi >= 0xd800 && hi <= 0xdbff && e - q >= 12 && q[6] == '\\' && q[7] == 'u' &&
                (lo = hex4(q + 8)) >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                q += 6;
            } else if (hi >= 0xd800 && hi <= 0xdfff) {
                if (!(flags & VOUCH_JSON_LONE_SURROGATE_FFFD))
                    FAIL(q, "invalid Unicode: a lone UTF-16 surrogate");
                cp = 0xfffd;
            }
            /* 6 or 12 escape bytes never decode to more than 4 */
            o += vouch_utf8_encode(cp, (char *)o);
            q += 6;
            continue;
        }
        default:
            FAIL(q, "invalid escape");
        }
        q += 2;
    }
    FAIL(e, "premature end of input in a string");
#undef FAIL
}

/*
 * The string at j->p (its opening quote).  *ret_s points into the input
 * when it has no escapes, else to *ret_alloc (decoded; free it).
 */
static bool jp_string(struct jp *j, const char **ret_s, size_t *ret_len, char **ret_alloc)
{
    const uint8_t *s = ++j->p, *p = s, *end = j->end;
    uint8_t *buf;
    uint32_t cp;
    size_t n;

    *ret_alloc = NULL;
    for (;;) {
        p = skip_plain(p, end);
        if (p >= end)
            return jp_fail(j, end, "premature end of input in a string"), false;
        if (*p == '"') {
            *ret_s = (const char *)s;
            *ret_len = (size_t)(p - s);
            j->p = p + 1;
            return true;
        }
        if (*p < 0x20)
            return jp_fail(j, p, "control character in a string"), false;
        if (*p == '\\')
            break;              /* an escape: decode from here */
        n = vouch_utf8_decode((const char *)p, (size_t)(end - p), &cp);
        if (!n)
            return jp_fail(j, p, "invalid UTF-8 in a string"), false;
        p += n;
    }
    /* Decoding never grows the text: size the buffer by the raw string. */
    {
        const uint8_t *q = p;
        const char *stop, *msg;

        while (q < end && *q != '"')
            q += *q == '\\' ? 2 : 1;
        if (q >= end)
            return jp_fail(j, end, "premature end of input in a string"), false;
        buf = malloc((size_t)(q - s) + 1);
        if (!buf)
            return jp_fail(j, p, "out of memory"), false;
        if (!vouch_json_string_decode((const char *)s, (const char *)end, 0, (char *)buf, &n,
                                      &stop, &msg)) {
            free(buf);
            return jp_fail(j, (const uint8_t *)stop, msg), false;
        }
        buf[n] = '\0';
        *ret_s = (const char *)buf;
        *ret_len = n;
        *ret_alloc = (char *)buf;
        j->p = (const uint8_t *)stop + 1;
        return true;
    }
}

static json_t *jp_number(struct jp *j)
{
    const uint8_t *s = j->p, *p = s, *end = j->end;
    bool real = false;
    char tmp[64], *big = NULL, *ep;
    size_t n;
    json_t *v;

    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return jp_fail(j, s, "invalid number");
    if (*p == '0')
        p++;
    else
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    if (p < end && *p == '.') {
        real = true;
        if (++p >= end || *p < '0' || *p > '9')
            return jp_fail(j, p, "invalid number: a digit must follow '.'");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        real = true;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return jp_fail(j, p, "invalid number: a digit must follow the exponent");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    n = (size_t)(p - s);
    if (n < sizeof(tmp)) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
    } else if (!real) {
        return jp_fail(j, s, *s == '-' ? "too big negative integer" : "too big integer");
    } else if (!(big = malloc(n + 1))) {
        return jp_fail(j, s, "out of memory");
    } else {
        memcpy(big, s, n);
        big[n] = '\0';
    }
    errno = 0;
    if (!real) {
        long long i = strtoll(tmp, &ep, 10);

        if (errno == ERANGE)
            return jp_fail(j, s, *s == '-' ? "too big negative integer" : "too big integer");
        v = json_integer((json_int_t)i);
    } else {
        double d = strtod(big ? big : tmp, &ep);

        free(big);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            return jp_fail(j, s, "real number overflow");
        v = json_real(d);
    }
    if (!v)
        return jp_fail(j, s, "out of memory");
    j->p = p;
    return v;
}

static json_t *jp_value(struct jp *j);

static json_t *jp_array(struct jp *j)
{
    json_t *a = json_array(), *v;

    if (!a)
        return jp_fail(j, j->p, "out of memory");
    j->p++;
    jp_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return a;
    }
    for (;;) {
        v = jp_value(j);
        if (!v || json_array_append_new(a, v))
            goto bad;
        jp_ws(j);
        if (j->p >= j->end) {
            jp_fail(j, j->p, "premature end of input in an array");
            goto bad;
        }
        if (*j->p == ']') {
            j->p++;
            return a;
        }
        if (*j->p != ',') {
            jp_fail(j, j->p, "']' or ',' expected");
            goto bad;
        }
        j->p++;
        jp_ws(j);
    }
bad:
    jp_fail(j, j->p, "out of memory");
    json_decref(a);
    return NULL;
}

static json_t *jp_object(struct jp *j)
{
    json_t *o = json_object(), *v;
    const uint8_t *key_at;
    const char *k;
    char *alloc;
    size_t klen;

    if (!o)
        return jp_fail(j, j->p, "out of memory");
    j->p++;
    jp_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return o;
    }
    for (;;) {
        if (j->p >= j->end || *j->p != '"') {
            jp_fail(j, j->p, j->p >= j->end ? "premature end of input in an object"
                                            : "string or '}' expected");
            goto bad;
        }
        key_at = j->p;
        if (!jp_string(j, &k, &klen, &alloc))
            goto bad;
        if (memchr(k, '\0', klen)) {
            free(alloc);
            jp_fail(j, key_at, "NUL byte in object key not supported");
            goto bad;
        }
        if (json_object_getn(o, k, klen)) {
            free(alloc);
            jp_fail(j, key_at, "duplicate object key");
            goto bad;
        }
        jp_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            free(alloc);
            jp_fail(j, j->p, "':' expected");
            goto bad;
        }
        j->p++;
        jp_ws(j);
        v = jp_value(j);
        if (!v || json_object_setn_new_nocheck(o, k, klen, v)) {
            free(alloc);
            goto bad;
        }
        free(alloc);
        jp_ws(j);
        if (j->p >= j->end) {
            jp_fail(j, j->p, "premature end of input in an object");
            goto bad;
        }
        if (*j->p == '}') {
            j->p++;
            return o;
        }
        if (*j->p != ',') {
            jp_fail(j, j->p, "'}' or ',' expected");
            goto bad;
        }
        j->p++;
        jp_ws(j);
    }
bad:
    jp_fail(j, j->p, "out of memory");
    json_decref(o);
    return NULL;
}

static bool jp_word(struct jp *j, const char *w, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
        return false;
    j->p += n;
    return true;
}

static json_t *jp_value(struct jp *j)
{
    const char *s;
    char *alloc;
    size_t n;
    json_t *v;

    if (j->p >= j->end)
        return jp_fail(j, j->p, "premature end of input");
    switch (*j->p) {
    case '{':
    case '[':
        if (++j->depth > JSON_MAX_DEPTH)
            return jp_fail(j, j->p, "maximum parsing depth reached");
        v = *j->p == '{' ? jp_object(j) : jp_array(j);
        j->depth--;
        return v;
    case '"':
        if (!jp_string(j, &s, &n, &alloc))
            return NULL;
        v = json_stringn_nocheck(s, n);
        free(alloc);
        return v ? v : jp_fail(j, j->p, "out of memory");
    case 't':
        return jp_word(j, "true", 4) ? json_true() : jp_fail(j, j->p, "invalid token");
    case 'f':
        return jp_word(j, "false", 5) ? json_false() : jp_fail(j, j->p, "invalid token");
    case 'n':
        return jp_word(j, "null", 4) ? json_null() : jp_fail(j, j->p, "invalid token");
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return jp_number(j);
        return jp_fail(j, j->p, "unexpected token");
    }
}

vouch_err vouch_json_parse(const void *data, size_t len, json_t **ret,
                           struct vouch_errbuf *eb)
{
    struct jp j = { data, data, (const uint8_t *)data + len, NULL, NULL, 0 };
    const uint8_t *q, *line_start;
    json_t *v = NULL;
    int line = 1;

    jp_ws(&j);
    if (j.p >= j.end || (*j.p != '{' && *j.p != '['))
        jp_fail(&j, j.p, "'[' or '{' expected");
    else
        v = jp_value(&j);
    if (v) {
        jp_ws(&j);
        if (j.p == j.end) {
            *ret = v;
            return VOUCH_OK;
        }
        json_decref(v);
        jp_fail(&j, j.p, "end of file expected");
    }
    line_start = j.start;
    for (q = j.start; q < j.err_at; q++)
        if (*q == '\n') {
            line++;
            line_start = q + 1;
        }
    if (strcmp(j.err, "out of memory") == 0)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return vouch_fail_sub(eb, VOUCH_E_INVALID, VOUCH_SUB_JSON,
                          "invalid JSON at line %d column %d: %s", line,
                          (int)(j.err_at - line_start) + 1, j.err);
}

vouch_err vouch_json_load_file(const char *path, size_t max, json_t **ret,
                               struct vouch_errbuf *eb)
{
    uint8_t *data;
    size_t len;
    vouch_err e;

    e = vouch_file_read(path, max, &data, &len, eb);
    if (e)
        return e;
    e = vouch_json_parse(data, len, ret, eb);
    if (e)
        vouch_fail_prefix(eb, e, "%s: ", path);
    free(data);
    return e;
}

/*
 * Serialisation: byte for byte what jansson's json_dump_callback() writes
 * with JSON_COMPACT | JSON_ENCODE_ANY (members in the object's order, "\\",
 * "\"" and control characters escaped, \u00XX in upper-case hex, other
 * UTF-8 as it is; a string that is not valid UTF-8 fails), without its
 * per-container loop check (a hash-table insertion with a printed key for
 * every object and array) and its per-run callbacks, which made token
 * serialisation the costliest part of a request carrying an event log.
 * Depth is capped at JSON_DUMP_MAX_DEPTH: twice the parser's cap, so any
 * parsed value fits with the objects a token wraps around it.
 */
#define JSON_DUMP_MAX_DEPTH (2 * JSON_MAX_DEPTH)

/* A byte that needs the slow path: an escape, or the start of a multi-byte sequence. */
#define DUMP_SPECIAL(c) ((c) < 0x20 || (c) == '"' || (c) == '\\' || (c) >= 0x80)

/* Length of the valid UTF-8 sequence at p (at most n bytes), as jansson checks it; 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t u = p[0];
    size_t len, i;
    uint32_t v;

    if (u >= 0xc2 && u <= 0xdf) {
        len = 2;
        v = u & 0x1f;
    } else if (u >= 0xe0 && u <= 0xef) {
        len = 3;
        v = u & 0x0f;
    } else if (u >= 0xf0 && u <= 0xf4) {
        len = 4;
        v = u & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) || (len == 3 && v < 0x800) ||
        (len == 4 && v < 0x10000))
        return 0;
    return len;
}

vouch_err vouch_json_write_string(struct vouch_buf *b, const char *str, size_t n)
{
    const uint8_t *p = (const uint8_t *)str, *run = p, *end = p + n;
    char esc[8];
    vouch_err e = vouch_buf_putc(b, '"');

    while (!e && p < end) {
        size_t k;

        if (!DUMP_SPECIAL(*p)) {
            p = skip_plain(p, end);
            continue;
        }
        if (*p >= 0x80) {
            if (!(k = utf8_seq(p, (size_t)(end - p))))
                return VOUCH_E_INVALID;
            p += k;
            continue;
        }
        e = vouch_buf_append(b, run, (size_t)(p - run));
        if (e)
            break;
        switch (*p) {
        case '\\': e = vouch_buf_append(b, "\\\\", 2); break;
        case '"': e = vouch_buf_append(b, "\\\"", 2); break;
        case '\b': e = vouch_buf_append(b, "\\b", 2); break;
        case '\f': e = vouch_buf_append(b, "\\f", 2); break;
        case '\n': e = vouch_buf_append(b, "\\n", 2); break;
        case '\r': e = vouch_buf_append(b, "\\r", 2); break;
        case '\t': e = vouch_buf_append(b, "\\t", 2); break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", *p);
            e = vouch_buf_append(b, esc, 6);
        }
        run = ++p;
    }
    if (!e)
        e = vouch_buf_append(b, run, (size_t)(p - run));
    return e ? e : vouch_buf_putc(b, '"');
}

static vouch_err dump_value(struct vouch_buf *b, const json_t *v, unsigned depth);

static vouch_err dump_container(struct vouch_buf *b, const json_t *v, unsigned depth)
{
    vouch_err e;
    size_t i;

    if (depth >= JSON_DUMP_MAX_DEPTH)
        return VOUCH_E_LIMIT;
    if (json_is_array(v)) {
        e = vouch_buf_putc(b, '[');
        for (i = 0; !e && i < json_array_size(v); i++) {
            if (i)
                e = vouch_buf_putc(b, ',');
            if (!e)
                e = dump_value(b, json_array_get(v, i), depth + 1);
        }
        return e ? e : vouch_buf_putc(b, ']');
    }
    {
        void *it = json_object_iter((json_t *)v);

        e = vouch_buf_putc(b, '{');
        for (i = 0; !e && it; it = json_object_iter_next((json_t *)v, it), i++) {
            if (i)
                e = vouch_buf_putc(b, ',');
            if (!e)
                e = vouch_json_write_string(b, json_object_iter_key(it),
                                            json_object_iter_key_len(it));
            if (!e)
                e = vouch_buf_putc(b, ':');
            if (!e)
                e = dump_value(b, json_object_iter_value(it), depth + 1);
        }
        return e ? e : vouch_buf_putc(b, '}');
    }
}

/* A real as jansson writes it (its %.17g with ".0" rules): rare, so jansson does it. */
static vouch_err dump_real(struct vouch_buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    vouch_err e;

    if (!s)
        return VOUCH_E_INVALID;
    e = vouch_buf_puts(b, s);
    free(s);
    return e;
}

static vouch_err dump_value(struct vouch_buf *b, const json_t *v, unsigned depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return dump_container(b, v, depth);
    case JSON_STRING:
        return vouch_json_write_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return vouch_buf_put_int(b, json_integer_value(v));
    case JSON_REAL:
        return dump_real(b, v);
    case JSON_TRUE:
        return vouch_buf_append(b, "true", 4);
    case JSON_FALSE:
        return vouch_buf_append(b, "false", 5);
    case JSON_NULL:
        return vouch_buf_append(b, "null", 4);
    }
    return VOUCH_E_INVALID;
}

vouch_err vouch_json_dump(const json_t *v, size_t max, char **ret, size_t *ret_len,
                          struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(max);
    uint8_t *p;
    vouch_err e = v ? dump_value(&b, v, 0) : VOUCH_E_INVALID;

    if (e) {
        vouch_buf_free(&b);
        if (e == VOUCH_E_TOO_LARGE)
            return vouch_fail(eb, e, "JSON output larger than %zu bytes", max);
        return vouch_fail(eb, e == VOUCH_E_NOMEM ? e : VOUCH_E_INTERNAL,
                          "cannot serialise JSON");
    }
    p = vouch_buf_steal(&b, ret_len);
    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = (char *)p;
    return VOUCH_OK;
}

/* Find key; absent or null counts as missing.  Returns NULL when missing. */
static json_t *member(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_null(v) ? NULL : v;
}

static vouch_err missing(const char *key, bool required, struct vouch_errbuf *eb)
{
    if (required)
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' is required", key);
    return VOUCH_OK;
}

vouch_err vouch_json_get_str(const json_t *obj, const char *key, bool required,
                             const char **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_string(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be a string", key);
    *ret = json_string_value(v);
    if (ret_len)
        *ret_len = json_string_length(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_int(const json_t *obj, const char *key, bool required,
                             int64_t *ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_integer(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an integer", key);
    *ret = json_integer_value(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_bool(const json_t *obj, const char *key, bool required,
                              bool *ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_boolean(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be a boolean", key);
    *ret = json_is_true(v);
    return VOUCH_OK;
}

vouch_err vouch_json_get_obj(const json_t *obj, const char *key, bool required,
                             json_t **ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_object(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an object", key);
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_json_get_array(const json_t *obj, const char *key, bool required,
                               json_t **ret, struct vouch_errbuf *eb)
{
    json_t *v = member(obj, key);

    if (!v)
        return missing(key, required, eb);
    if (!json_is_array(v))
        return vouch_fail(eb, VOUCH_E_INVALID, "'%s' must be an array", key);
    *ret = v;
    return VOUCH_OK;
}

vouch_err vouch_json_set_new(json_t *obj, const char *key, json_t *v)
{
    if (!v)
        return VOUCH_E_NOMEM;
    return json_object_set_new(obj, key, v) == 0 ? VOUCH_OK : VOUCH_E_NOMEM;
}

vouch_err vouch_json_set_str(json_t *obj, const char *key, const char *s)
{
    return vouch_json_set_new(obj, key, json_string(s));
}

vouch_err vouch_json_set_strn(json_t *obj, const char *key, const char *s, size_t n)
{
    return vouch_json_set_new(obj, key, json_stringn(s, n));
}

vouch_err vouch_text_append(struct vouch_buf *b, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s, *run = p, *end = p + n;
    vouch_err e = VOUCH_OK;

    while (!e && p < end) {
        size_t k = *p < 0x80 ? 1 : utf8_seq(p, (size_t)(end - p));

        if (k) {
            p += k;
            continue;
        }
        e = vouch_buf_append(b, run, (size_t)(p - run));
        if (!e)
            e = vouch_buf_printf(b, "%%%02X", *p);
        run = ++p;
    }
    return e ? e : vouch_buf_append(b, run, (size_t)(p - run));
}

json_t *vouch_json_text(const char *s, size_t n)
{
    struct vouch_buf b = VOUCH_BUF_INIT(VOUCH_TEXT_ESCAPED_MAX(n));
    json_t *j = json_stringn(s, n);

    if (j || vouch_text_append(&b, s, n))
        goto out;   /* valid UTF-8 as it is, or out of memory */
    j = json_stringn(vouch_buf_str(&b), b.len);
out:
    vouch_buf_free(&b);
    return j;
}

vouch_err vouch_json_set_text(json_t *obj, const char *key, const char *s, size_t n)
{
    return vouch_json_set_new(obj, key, vouch_json_text(s, n));
}

vouch_err vouch_json_set_int(json_t *obj, const char *key, int64_t v)
{
    return vouch_json_set_new(obj, key, json_integer(v));
}

vouch_err vouch_json_set_bool(json_t *obj, const char *key, bool v)
{
    return vouch_json_set_new(obj, key, json_boolean(v));
}

vouch_err vouch_json_set_hex(json_t *obj, const char *key, const void *data, size_t n)
{
    char *hex = vouch_hex_alloc(data, n);
    vouch_err e;

    if (!hex)
        return VOUCH_E_NOMEM;
    e = vouch_json_set_new(obj, key, json_stringn(hex, 2 * n));
    free(hex);
    return e;
}
