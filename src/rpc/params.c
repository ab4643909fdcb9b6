/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RPC request parameters: decoding a URL query or a form body, and
 * Alibaba's percent-encoding for signing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "rpc/rpc.h"

void vouch_rpc_params_free(struct vouch_rpc_params *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++) {
        free(p->v[i].name);
        free(p->v[i].value);
    }
    free(p->v);
    p->v = NULL;
    p->n = 0;
    p->total = 0;
}

const char *vouch_rpc_param(const struct vouch_rpc_params *p, const char *name)
{
    size_t i;

    for (i = 0; p && i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return p->v[i].value;
    return NULL;
}

#define HIGH_BITS 0x8080808080808080ull

/* Is s[0..n) UTF-8?  Eight ASCII bytes at a time, the rest one sequence at a time. */
static bool utf8_valid(const char *s, size_t n)
{
    size_t i = 0, len;
    uint64_t word;
    uint32_t cp;

    while (i < n) {
        if (n - i >= sizeof(word)) {
            memcpy(&word, s + i, sizeof(word));
            if (!(word & HIGH_BITS)) {
                i += sizeof(word);
                continue;
            }
        }
        len = vouch_utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

const char *vouch_rpc_params_not_utf8(const struct vouch_rpc_params *p)
{
    size_t i;

    for (i = 0; p && i < p->n; i++)
        if (!utf8_valid(p->v[i].value, p->v[i].value_len))
            return p->v[i].name;
    return NULL;
}

static bool name_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > VOUCH_RPC_MAX_NAME)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* The end of the run of bytes from s[i] that decode to themselves (not '%', '+' or NUL). */
static size_t plain_run(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] != '%' && s[i] != '+' && s[i] != '\0')
        i++;
    return i;
}

/*
 * Decode form-urlencoded `s[0..n)` into a new NUL-terminated string of at
 * most `cap` bytes.  NULL with *ret_bad set on a bad escape, a NUL byte or
 * the cap; NULL with *ret_bad clear when out of memory.
 */
static char *form_decode(const char *s, size_t n, size_t cap, size_t *ret_len, bool *ret_bad)
{
    char *out;
    size_t i, j = 0;

    *ret_bad = true;
    if (n > cap * 3)      /* even all "%XX" would decode past the cap */
        return NULL;
    out = malloc(n + 1);
    if (!out) {
        *ret_bad = false;
        return NULL;
    }
    for (i = 0; i < n; i++) {
        size_t run = plain_run(s, i, n);
        int c;

        if (run > i) {                /* copied as it is, up to the next '%', '+' or NUL */
            if (run - i > cap - j)
                goto bad;
            memcpy(out + j, s + i, run - i);
            j += run - i;
            i = run;
            if (i == n)
                break;
        }
        c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (n - i < 3)            /* "%" or "%X" at the end */
                goto bad;
            hi = vouch_hex_digit(s[i + 1]);
            lo = vouch_hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                goto bad;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c == 0 || j >= cap)
            goto bad;
        out[j++] = (char)c;
    }
    out[j] = '\0';
    *ret_len = j;
    *ret_bad = false;
    return out;
bad:
    free(out);
    return NULL;
}

static vouch_err append(struct vouch_rpc_params *p, char *name, char *value, size_t value_len,
                        struct vouch_errbuf *eb)
{
    struct vouch_rpc_param *v;
    size_t total;
    vouch_err e = VOUCH_OK;

    if (vouch_rpc_param(p, name)) {
        e = vouch_fail_field(eb, VOUCH_E_INVALID, name, "parameter %s: given more than once",
                             name);
        goto out;
    }
    if (p->n >= VOUCH_RPC_MAX_PARAMS ||
        __builtin_add_overflow(p->total, value_len + strlen(name), &total) ||
        total > VOUCH_RPC_MAX_TOTAL) {
        e = vouch_fail_field(eb, VOUCH_E_TOO_LARGE, name,
                             "more than %d parameters or %zu bytes of them",
                             VOUCH_RPC_MAX_PARAMS, VOUCH_RPC_MAX_TOTAL);
        goto out;
    }
    v = realloc(p->v, (p->n + 1) * sizeof(*v));
    if (!v) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    p->v = v;
    v[p->n].name = name;
    v[p->n].value = value;
    v[p->n].value_len = value_len;
    p->n++;
    p->total = total;
    name = value = NULL;
out:
    free(name);
    free(value);
    return e;
}

vouch_err vouch_rpc_params_add(struct vouch_rpc_params *p, const char *name, const char *value,
                               struct vouch_errbuf *eb)
{
    size_t n = strlen(name), vn = strlen(value);
    char *nc, *vc;

    if (!name_ok(name, n))
        return vouch_fail_field(eb, VOUCH_E_INVALID, "", "bad parameter name");
    if (vn > VOUCH_RPC_MAX_VALUE)
        return vouch_fail_field(eb, VOUCH_E_TOO_LARGE, name, "parameter %s: over %zu bytes",
                                name, VOUCH_RPC_MAX_VALUE);
    nc = strdup(name);
    vc = strdup(value);
    if (!nc || !vc) {
        free(nc);
        free(vc);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    return append(p, nc, vc, vn, eb);
}

/* Decode one "name[=value]" pair of `len` bytes and append it. */
static vouch_err parse_pair(struct vouch_rpc_params *p, const char *s, size_t len,
                            struct vouch_errbuf *eb)
{
    const char *eq = memchr(s, '=', len);
    size_t nlen = eq ? (size_t)(eq - s) : len, vlen = eq ? len - nlen - 1 : 0, dn, dv;
    char *name, *value;
    bool bad;

    name = form_decode(s, nlen, VOUCH_RPC_MAX_NAME, &dn, &bad);
    if (!name || !name_ok(name, dn)) {
        free(name);
        return bad || name ? vouch_fail_field(eb, VOUCH_E_INVALID, "", "bad parameter name")
                           : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    value = form_decode(eq ? eq + 1 : "", vlen, VOUCH_RPC_MAX_VALUE, &dv, &bad);
    if (!value) {
        vouch_err e = bad ? vouch_fail_field(eb, VOUCH_E_INVALID, name,
                                             "parameter %s: bad %%-escape, NUL byte or over "
                                             "%zu bytes", name, VOUCH_RPC_MAX_VALUE)
                          : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");

        free(name);
        return e;
    }
    return append(p, name, value, dv, eb);
}

vouch_err vouch_rpc_params_parse(struct vouch_rpc_params *p, const char *text, size_t len,
                                 struct vouch_errbuf *eb)
{
    size_t n0 = p->n, i = 0;
    vouch_err e = VOUCH_OK;

    while (i < len) {
        const char *amp = memchr(text + i, '&', len - i);
        size_t plen = amp ? (size_t)(amp - (text + i)) : len - i;

        if (plen > 0) {
            e = parse_pair(p, text + i, plen, eb);
            if (e)
                break;
        }
        i += plen + 1;
    }
    if (e) {                          /* leave p as it was */
        while (p->n > n0) {
            p->n--;
            p->total -= p->v[p->n].value_len + strlen(p->v[p->n].name);
            free(p->v[p->n].name);
            free(p->v[p->n].value);
        }
    }
    return e;
}

/* 1 for the bytes percent-encoding leaves as they are: A-Z a-z 0-9 - _ . ~ */
static const uint8_t unreserved[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/*
 * Reserve the most the encoding can take (`width` bytes a byte: "%XX" or,
 * encoded twice, "%25XX") when the buffer allows it, else exactly what it
 * takes, then write it in one pass: a FileData value is tens of kilobytes
 * and is encoded for every signed call.
 */
static vouch_err encode(struct vouch_buf *b, const char *s, size_t n, size_t width)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *in = (const unsigned char *)s;
    size_t i, need = n;
    uint8_t *start, *out;
    vouch_err e;

    if (n > SIZE_MAX / width)
        return VOUCH_E_TOO_LARGE;
    if (b->len > b->max || b->max - b->len < width * n)
        for (i = 0; i < n; i++)
            need += (width - 1) * !unreserved[in[i]];
    else
        need = width * n;
    e = vouch_buf_reserve(b, need);
    if (e)
        return e;
    start = out = b->data + b->len;
    for (i = 0; i < n; i++) {
        unsigned char c = in[i];

        if (unreserved[c]) {
            *out++ = c;
            continue;
        }
        *out++ = '%';
        if (width == 5) {                /* the '%' of "%XX", encoded */
            *out++ = '2';
            *out++ = '5';
        }
        out[0] = (uint8_t)hex[c >> 4];
        out[1] = (uint8_t)hex[c & 15];
        out += 2;
    }
    b->len += (size_t)(out - start);
    b->data[b->len] = '\0';
    return VOUCH_OK;
}

vouch_err vouch_rpc_encode(struct vouch_buf *b, const char *s, size_t n)
{
    return encode(b, s, n, 3);
}

vouch_err vouch_rpc_encode_twice(struct vouch_buf *b, const char *s, size_t n)
{
    return encode(b, s, n, 5);
}
