/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "crypto/jcs.h"

#define JCS_MAX_DEPTH 128

/*
 * Shortest decimal digits that read back as d: try each precision of
 * %.*e from 1 to 17 digits.  Gives the digit string (no dot, no
 * trailing zeros) and the exponent n such that d = 0.DIGITS * 10^n.
 */
static void shortest(double d, char digits[32], int *ret_n)
{
    char tmp[40];
    int prec, exp10, k = 0;
    char *e, *p;

    for (prec = 0; prec < 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is "D[.DDD]e[+-]XX" */
    e = strchr(tmp, 'e');
    exp10 = atoi(e + 1);
    for (p = tmp; p < e; p++)
        if (*p >= '0' && *p <= '9')
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    digits[k] = '\0';
    *ret_n = exp10 + 1;
}

void vouch_jcs_number(double d, char *buf, size_t size)
{
    char digits[32], out[64];
    int n, k, i, o = 0;

    if (d == 0) {
        snprintf(buf, size, "0");  /* also -0 */
        return;
    }
    if (!isfinite(d)) {
        snprintf(buf, size, "null");  /* JSON has no inf or nan (and %e gives no exponent) */
        return;
    }
    if (d < 0) {
        out[o++] = '-';
        d = -d;
    }
    shortest(d, digits, &n);
    k = (int)strlen(digits);
    if (k <= n && n <= 21) {
        /* integer: digits then n-k zeros */
        for (i = 0; i < k; i++)
            out[o++] = digits[i];
        for (i = 0; i < n - k; i++)
            out[o++] = '0';
    } else if (0 < n && n <= 21) {
        for (i = 0; i < n; i++)
            out[o++] = digits[i];
        out[o++] = '.';
        for (i = n; i < k; i++)
            out[o++] = digits[i];
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < -n; i++)
            out[o++] = '0';
        for (i = 0; i < k; i++)
            out[o++] = digits[i];
    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            for (i = 1; i < k; i++)
                out[o++] = digits[i];
        }
        o += snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d", n - 1 >= 0 ? '+' : '-',
                      n - 1 >= 0 ? n - 1 : -(n - 1));
    }
    out[o] = '\0';
    snprintf(buf, size, "%s", out);
}

static vouch_err put_string(struct vouch_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    vouch_err e = vouch_buf_putc(b, '"');
    size_t i, run = 0;

    for (i = 0; !e && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];

        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        e = vouch_buf_append(b, s + i - run, run);
        run = 0;
        if (e)
            break;
        switch (c) {
        case '"': e = vouch_buf_puts(b, "\\\""); break;
        case '\\': e = vouch_buf_puts(b, "\\\\"); break;
        case '\b': e = vouch_buf_puts(b, "\\b"); break;
        case '\f': e = vouch_buf_puts(b, "\\f"); break;
        case '\n': e = vouch_buf_puts(b, "\\n"); break;
        case '\r': e = vouch_buf_puts(b, "\\r"); break;
        case '\t': e = vouch_buf_puts(b, "\\t"); break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            e = vouch_buf_append(b, esc, 6);
        }
    }
    if (!e)
        e = vouch_buf_append(b, s + n - run, run);
    if (!e)
        e = vouch_buf_putc(b, '"');
    return e;
}

/* Next code point of valid UTF-8 (jansson guarantees validity). */
static uint32_t next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];

    if (c < 0x80) {
        *p += 1;
        return c;
    }
    if (c < 0xe0) {
        *p += 2;
        return (c & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (c < 0xf0) {
        *p += 3;
        return (c & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    }
    *p += 4;
    return (c & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 | (uint32_t)(s[2] & 0x3f) << 6 |
           (s[3] & 0x3f);
}

/* Compare two UTF-8 keys by their UTF-16 code units (RFC 8785 3.2.3). */
static int utf16_cmp(const void *pa, const void *pb)
{
    const unsigned char *a = *(const unsigned char *const *)pa;
    const unsigned char *b = *(const unsigned char *const *)pb;

    while (*a && *b) {
        uint32_t ca = next_cp(&a), cb = next_cp(&b);
        uint32_t ua = ca > 0xffff ? 0xd800 + ((ca - 0x10000) >> 10) : ca;
        uint32_t ub = cb > 0xffff ? 0xd800 + ((cb - 0x10000) >> 10) : cb;

        if (ua != ub)
            return ua < ub ? -1 : 1;
        if (ca != cb) {
            ua = 0xdc00 + ((ca - 0x10000) & 0x3ff);
            ub = 0xdc00 + ((cb - 0x10000) & 0x3ff);
            return ua < ub ? -1 : 1;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

static vouch_err emit(const json_t *v, struct vouch_buf *b, int depth, struct vouch_errbuf *eb)
{
    char num[40];
    vouch_err e = VOUCH_OK;

    if (depth > JCS_MAX_DEPTH)
        return vouch_fail(eb, VOUCH_E_LIMIT, "JSON nested deeper than %d", JCS_MAX_DEPTH);
    switch (json_typeof(v)) {
    case JSON_NULL:
        return vouch_buf_puts(b, "null");
    case JSON_TRUE:
        return vouch_buf_puts(b, "true");
    case JSON_FALSE:
        return vouch_buf_puts(b, "false");
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);

        /* ECMAScript numbers are doubles: exact up to 2^53, rounded beyond. */
        if (i >= -(1LL << 53) && i <= (1LL << 53))
            snprintf(num, sizeof(num), "%lld", (long long)i);
        else
            vouch_jcs_number((double)i, num, sizeof(num));
        return vouch_buf_puts(b, num);
    }
    case JSON_REAL: {
        double d = json_real_value(v);

        if (!isfinite(d))
            return vouch_fail(eb, VOUCH_E_INVALID, "JSON numbers must be finite");
        vouch_jcs_number(d, num, sizeof(num));
        return vouch_buf_puts(b, num);
    }
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_ARRAY: {
        size_t i;

        e = vouch_buf_putc(b, '[');
        for (i = 0; !e && i < json_array_size(v); i++) {
            if (i)
                e = vouch_buf_putc(b, ',');
            if (!e)
                e = emit(json_array_get(v, i), b, depth + 1, eb);
        }
        return e ? e : vouch_buf_putc(b, ']');
    }
    case JSON_OBJECT: {
        size_t n = json_object_size(v), i = 0;
        const char **keys;
        const char *k;
        json_t *val;

        keys = malloc((n ? n : 1) * sizeof(*keys));
        if (!keys)
            return VOUCH_E_NOMEM;
        json_object_foreach((json_t *)v, k, val)
            keys[i++] = k;
        qsort(keys, n, sizeof(*keys), utf16_cmp);
        e = vouch_buf_putc(b, '{');
        for (i = 0; !e && i < n; i++) {
            if (i)
                e = vouch_buf_putc(b, ',');
            if (!e)
                e = put_string(b, keys[i], strlen(keys[i]));
            if (!e)
                e = vouch_buf_putc(b, ':');
            if (!e)
                e = emit(json_object_get(v, keys[i]), b, depth + 1, eb);
        }
        free(keys);
        return e ? e : vouch_buf_putc(b, '}');
    }
    }
    return VOUCH_E_INTERNAL;
}

vouch_err vouch_jcs(const json_t *v, size_t max, char **ret, size_t *ret_len,
                    struct vouch_errbuf *eb)
{
    struct vouch_buf b = VOUCH_BUF_INIT(max);
    vouch_err e;
    uint8_t *out;

    e = emit(v, &b, 0, eb);
    if (e) {
        vouch_buf_free(&b);
        if (e == VOUCH_E_TOO_LARGE)
            return vouch_fail(eb, e, "canonical JSON larger than %zu bytes", max);
        if (e == VOUCH_E_NOMEM)
            return vouch_fail(eb, e, "out of memory");
        return e;
    }
    out = vouch_buf_steal(&b, ret_len);
    if (!out)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = (char *)out;
    return VOUCH_OK;
}
