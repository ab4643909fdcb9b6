/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RPC request parameters: decoding a URL query or a form body, and
 * Alibaba's percent-encoding for signing.
 */
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
        int c = (unsigned char)s[i];

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

vouch_err vouch_rpc_encode(struct vouch_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    vouch_err e = VOUCH_OK;

    for (i = 0; i < n && !e; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            e = vouch_buf_putc(b, c);
        } else {
            char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

            e = vouch_buf_append(b, esc, 3);
        }
    }
    return e;
}
