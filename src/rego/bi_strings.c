/* SPDX-License-Identifier: Apache-2.0 */
/*
 * String builtins.  Semantics follow OPA's (which are Go's strings
 * package): offsets and lengths count code points; invalid UTF-8 bytes
 * count as one code point each.  Case mapping covers Latin, Greek,
 * Cyrillic, Armenian and full-width Latin; other scripts are left as they
 * are (Go maps a few more).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/builtins.h"

#define STR(i) NEED(i, RT_STR, "string")

/* Decode one code point Go-style: an invalid byte is U+FFFD of length 1. */
static size_t dec1(const char *s, size_t n, uint32_t *cp)
{
    size_t l;

    if ((unsigned char)s[0] < 0x80) {
        *cp = (unsigned char)s[0];
        return 1;
    }
    l = rv_utf8_decode(s, n, cp);
    if (!l) {
        *cp = 0xfffd;
        return 1;
    }
    return l;
}

/* Code point boundaries of a string (offsets, n+1 entries). */
static uint32_t *runes_of(struct ev *ev, const char *s, size_t n, uint32_t *ret_count)
{
    uint32_t *off = ev_alloc(ev, (n + 1) * sizeof(*off)), c = 0;
    size_t i = 0;

    while (i < n) {
        uint32_t cp;

        off[c++] = (uint32_t)i;
        i += dec1(s + i, n - i, &cp);
    }
    off[c] = (uint32_t)n;
    *ret_count = c;
    return off;
}

/* Substring search in linear time (glibc's memmem is two-way), charged
 * for the bytes it may scan. */
static const char *memfind(struct ev *ev, const char *h, size_t hn, const char *nd, size_t nn)
{
    if (nn == 0)
        return h;
    const char *p;

    if (nn > hn)
        return NULL;
    p = memmem(h, hn, nd, nn);
    vouch_ev_charge_scan(ev, (p ? (size_t)(p - h) : hn) + nn);
    return p;
}

/* True when s holds no byte sequence dec1 would read as U+FFFD. */
static bool valid_utf8(struct ev *ev, const char *s, size_t n)
{
    size_t i = 0;

    vouch_ev_charge_scan(ev, n);
    while (i < n) {
        uint32_t cp;
        size_t l = (unsigned char)s[i] < 0x80 ? 1 : rv_utf8_decode(s + i, n - i, &cp);

        if (!l)
            return false;
        i += l;
    }
    return true;
}

/* Code point comparisons (two decodes each) charged as one step. */
#define RUNE_CMP_PER_STEP 16

/*
 * The code point index of the first match at or after code point `from`
 * (offsets `ob` of the haystack's code points, nb of them), or -1.  When
 * both strings are valid UTF-8 a byte match can only start on a code point
 * boundary, so a linear byte search does; otherwise code points are
 * compared one by one, each comparison charged.
 */
static int64_t rune_find(struct ev *ev, const struct rval *h, const uint32_t *ob, uint32_t nb,
                         const struct rval *nd, const uint32_t *os, uint32_t ns, uint32_t from,
                         bool valid)
{
    uint64_t cmp = 0;
    uint32_t i, j;

    if (valid) {
        const char *p = memfind(ev, h->u.s + ob[from], h->n - ob[from], nd->u.s, nd->n);
        uint32_t lo = from, hi = nb;

        if (!p)
            return -1;
        /* binary search of the byte offset among the code point offsets */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;

            if (ob[mid] < (uint32_t)(p - h->u.s))
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }
    for (i = from; i + ns <= nb; i++) {
        for (j = 0; j < ns; j++) {
            uint32_t c1, c2;

            dec1(h->u.s + ob[i + j], h->n - ob[i + j], &c1);
            dec1(nd->u.s + os[j], nd->n - os[j], &c2);
            if (c1 != c2)
                break;
        }
        cmp += j + 1;
        if (cmp >= RUNE_CMP_PER_STEP * 64) {
            vouch_ev_charge(ev, cmp / RUNE_CMP_PER_STEP);
            cmp %= RUNE_CMP_PER_STEP;
        }
        if (j == ns)
            return i;
    }
    return -1;
}

BI(bi_concat)
{
    const struct rval *c;
    struct sbuf b;
    uint32_t i;

    STR(0);
    c = rv_force(a[1]);
    if (c->t != RT_ARR && c->t != RT_SET)
        return vouch_bi_type(ev, 2, "one of {set, array}", c);
    for (i = 0; i < c->n; i++)
        if (c->u.a[i]->t != RT_STR)
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand 2 must be array of strings but got %s containing %s",
                                 vouch_rv_type_name(c), vouch_rv_type_name(c->u.a[i]));
    vouch_sb_init(&b, ev);
    for (i = 0; i < c->n; i++) {
        if (i)
            vouch_sb_put(&b, a[0]->u.s, a[0]->n);
        vouch_sb_put(&b, c->u.a[i]->u.s, c->u.a[i]->n);
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

BI(bi_contains)
{
    STR(0);
    STR(1);
    *ret = RV_BOOL(memfind(ev, a[0]->u.s, a[0]->n, a[1]->u.s, a[1]->n) != NULL);
    return BI_OK;
}

BI(bi_startswith)
{
    STR(0);
    STR(1);
    vouch_ev_charge_scan(ev, a[1]->n);
    *ret = RV_BOOL(a[1]->n <= a[0]->n && memcmp(a[0]->u.s, a[1]->u.s, a[1]->n) == 0);
    return BI_OK;
}

BI(bi_endswith)
{
    STR(0);
    STR(1);
    vouch_ev_charge_scan(ev, a[1]->n);
    *ret = RV_BOOL(a[1]->n <= a[0]->n &&
                   memcmp(a[0]->u.s + a[0]->n - a[1]->n, a[1]->u.s, a[1]->n) == 0);
    return BI_OK;
}

BI(bi_str_count)
{
    const char *s, *p;
    size_t n;
    int64_t c = 0;

    STR(0);
    STR(1);
    s = a[0]->u.s;
    n = a[0]->n;
    if (a[1]->n == 0) {
        uint32_t cnt;

        runes_of(ev, s, n, &cnt);
        *ret = vouch_rv_int(ev->a, (int64_t)cnt + 1);
        return BI_OK;
    }
    while ((p = memfind(ev, s, n, a[1]->u.s, a[1]->n)) != NULL) {
        c++;
        n -= (size_t)(p - s) + a[1]->n;
        s = p + a[1]->n;
    }
    *ret = vouch_rv_int(ev->a, c);
    return BI_OK;
}

/* Digit divisions of format_int charged as one step. */
#define FMT_DIVS_PER_STEP 64

static void fmt_int_base(struct sbuf *b, bool neg, const struct rdec *d, unsigned base)
{
    /* repeated division of a decimal digit string */
    uint8_t *digits, *out;
    uint32_t n, i, nout = 0;

    n = d->nd + (uint32_t)d->exp;
    /* each output digit is one pass over the n decimal digits: charge the
     * n * n * log2(10) / log2(base) digit divisions before starting */
    vouch_ev_charge(b->ev, (uint64_t)n *
                               ((uint64_t)n * 10 / 3 /
                                    (base == 16  ? 4
                                     : base == 8 ? 3
                                     : base == 2 ? 1
                                                 : 3) +
                                1) /
                               FMT_DIVS_PER_STEP);
    digits = ev_alloc(b->ev, n + 1);
    memset(digits, 0, n + 1);
    xmemcpy(digits, d->d, d->nd);
    out = ev_alloc(b->ev, n * 4 + 2);
    for (;;) {
        unsigned rem = 0;
        bool zero = true;

        for (i = 0; i < n; i++) {
            unsigned cur = rem * 10 + digits[i];

            digits[i] = (uint8_t)(cur / base);
            rem = cur % base;
            if (digits[i])
                zero = false;
        }
        out[nout++] = (uint8_t)rem;
        if (zero)
            break;
    }
    if (neg)
        vouch_sb_putc(b, '-');
    while (nout > 0) {
        uint8_t v = out[--nout];

        vouch_sb_putc(b, (char)(v < 10 ? '0' + v : 'a' + v - 10));
    }
}

BI(bi_format_int)
{
    int64_t base;
    struct rdec x, t;
    uint8_t buf[20];
    struct sbuf b;

    NEED(0, RT_NUM, "number");
    NEED(1, RT_NUM, "number");
    if (!vouch_rv_to_i64(a[1], &base) || (base != 2 && base != 8 && base != 10 && base != 16))
        return vouch_bi_fail(ev, BI_ERR_TYPE, "operand 2 must be one of {2, 8, 10, 16}");
    num_view(a[0], &x, buf);
    vouch_rdec_round(ev->a, &x, RDEC_TRUNC, &t);
    vouch_sb_init(&b, ev);
    if (!t.nd) {
        vouch_sb_putc(&b, '0');
    } else if (base == 10) {
        /* the decimal digits as they are: no division needed */
        uint32_t i;

        if (t.neg)
            vouch_sb_putc(&b, '-');
        for (i = 0; i < t.nd + (uint32_t)t.exp; i++)
            vouch_sb_putc(&b, (char)('0' + (i < t.nd ? t.d[i] : 0)));
    } else {
        fmt_int_base(&b, t.neg, &t, (unsigned)base);
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

BI(bi_indexof)
{
    uint32_t nb, ns, *ob, *os;
    bool valid;

    STR(0);
    STR(1);
    if (a[1]->n == 0)
        return vouch_bi_fail(ev, BI_ERR, "empty search character");
    /* compare code point by code point, as OPA does on runes */
    ob = runes_of(ev, a[0]->u.s, a[0]->n, &nb);
    os = runes_of(ev, a[1]->u.s, a[1]->n, &ns);
    valid = valid_utf8(ev, a[0]->u.s, a[0]->n) && valid_utf8(ev, a[1]->u.s, a[1]->n);
    *ret = vouch_rv_int(ev->a, rune_find(ev, a[0], ob, nb, a[1], os, ns, 0, valid));
    return BI_OK;
}

BI(bi_indexof_n)
{
    uint32_t nb, ns, *ob, *os;
    struct ra_vec out = { 0 };
    int64_t at = 0;
    bool valid;

    STR(0);
    STR(1);
    if (a[1]->n == 0)
        return vouch_bi_fail(ev, BI_ERR, "empty search character");
    ob = runes_of(ev, a[0]->u.s, a[0]->n, &nb);
    os = runes_of(ev, a[1]->u.s, a[1]->n, &ns);
    valid = valid_utf8(ev, a[0]->u.s, a[0]->n) && valid_utf8(ev, a[1]->u.s, a[1]->n);
    while (at < nb && (at = rune_find(ev, a[0], ob, nb, a[1], os, ns, (uint32_t)at, valid)) >= 0)
        vouch_ra_vec_push(ev->a, &out, (void *)vouch_rv_int(ev->a, at++));
    *ret = vouch_rv_arr(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

BI(bi_substring)
{
    int64_t start, len;
    uint32_t n, *off, end;
    int rc;

    STR(0);
    if (a[1]->t != RT_NUM)
        return vouch_bi_type(ev, 2, "number", a[1]);
    if (a[2]->t != RT_NUM)
        return vouch_bi_type(ev, 3, "number", a[2]);
    if ((rc = vouch_bi_int_arg(ev, a, 1, &start)) || (rc = vouch_bi_int_arg(ev, a, 2, &len)))
        return rc;
    if (start < 0)
        return vouch_bi_fail(ev, BI_ERR, "negative offset");
    off = runes_of(ev, a[0]->u.s, a[0]->n, &n);
    if (start >= n) {
        *ret = &vouch_rv_empty_str_v;
        return BI_OK;
    }
    /* len may be anything up to INT64_MAX: compare, never add */
    end = (len < 0 || len >= (int64_t)n - start) ? n : (uint32_t)(start + len);
    *ret = vouch_rv_str(ev->a, a[0]->u.s + off[start], off[end] - off[start]);
    return BI_OK;
}

/* ---- case ---- */

static uint32_t to_upper(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') ? c - 32 : c;
    if ((c >= 0xe0 && c <= 0xfe && c != 0xf7))
        return c - 32;
    if (c == 0xff)
        return 0x178;
    if (c == 0xb5)
        return 0x39c;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return c & ~1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c : c - 1;
    if (c == 0x17f)
        return 'S';
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2)
        return c - 32;
    if (c == 0x3c2)
        return 0x3a3;
    if (c == 0x3ac)
        return 0x386;
    if (c >= 0x3ad && c <= 0x3af)
        return c - 37;
    if (c == 0x3cc)
        return 0x38c;
    if (c == 0x3cd || c == 0x3ce)
        return c - 63;
    if (c >= 0x430 && c <= 0x44f)
        return c - 32;
    if (c >= 0x450 && c <= 0x45f)
        return c - 80;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf))
        return c & ~1u;
    if (c >= 0x561 && c <= 0x586)
        return c - 48;
    if (c >= 0xff41 && c <= 0xff5a)
        return c - 32;
    return c;
}

static uint32_t to_lower(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 32;
    if (c == 0x178)
        return 0xff;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
        return c | 1u;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c + 1 : c;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
        return c + 32;
    if (c == 0x386)
        return 0x3ac;
    if (c >= 0x388 && c <= 0x38a)
        return c + 37;
    if (c == 0x38c)
        return 0x3cc;
    if (c == 0x38e || c == 0x38f)
        return c + 63;
    if (c >= 0x410 && c <= 0x42f)
        return c + 32;
    if (c >= 0x400 && c <= 0x40f)
        return c + 80;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf))
        return c | 1u;
    if (c >= 0x531 && c <= 0x556)
        return c + 48;
    if (c >= 0xff21 && c <= 0xff3a)
        return c + 32;
    return c;
}

static int map_case(struct ev *ev, const struct rval *const *a, const struct rval **ret, bool up)
{
    struct sbuf b;
    size_t i = 0, n;
    const char *s;

    STR(0);
    s = a[0]->u.s;
    n = a[0]->n;
    vouch_sb_init(&b, ev);
    while (i < n) {
        uint32_t cp;
        size_t l = (unsigned char)s[i] < 0x80 ? 1 : rv_utf8_decode(s + i, n - i, &cp);
        char enc[4];

        if (l == 1 && (unsigned char)s[i] < 0x80) {
            char c = s[i];

            if (up && c >= 'a' && c <= 'z')
                c = (char)(c - 32);
            else if (!up && c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            vouch_sb_putc(&b, c);
            i++;
            continue;
        }
        if (!l) {
            /* Go replaces invalid bytes by U+FFFD when mapping */
            vouch_sb_put(&b, "\xef\xbf\xbd", 3);
            i++;
            continue;
        }
        cp = up ? to_upper(cp) : to_lower(cp);
        vouch_sb_put(&b, enc, rv_utf8_encode(cp, enc));
        i += l;
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

BI(bi_upper)
{
    return map_case(ev, a, ret, true);
}

BI(bi_lower)
{
    return map_case(ev, a, ret, false);
}

/* ---- split, replace ---- */

BI(bi_split)
{
    struct ra_vec out = { 0 };
    const char *s, *p;
    size_t n, dn;

    STR(0);
    STR(1);
    s = a[0]->u.s;
    n = a[0]->n;
    dn = a[1]->n;
    if (dn == 0) {
        size_t i = 0;

        while (i < n) {
            uint32_t cp;
            size_t l = dec1(s + i, n - i, &cp);

            vouch_ra_vec_push(ev->a, &out, (void *)vouch_rv_str(ev->a, s + i, l));
            i += l;
        }
        *ret = vouch_rv_arr(ev->a, (const struct rval **)out.v, out.n);
        return BI_OK;
    }
    for (;;) {
        vouch_ev_step(ev);
        p = memfind(ev, s, n, a[1]->u.s, dn);
        if (!p) {
            vouch_ra_vec_push(ev->a, &out, (void *)vouch_rv_str(ev->a, s, n));
            break;
        }
        vouch_ra_vec_push(ev->a, &out, (void *)vouch_rv_str(ev->a, s, (size_t)(p - s)));
        n -= (size_t)(p - s) + dn;
        s = p + dn;
    }
    *ret = vouch_rv_arr(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* Go's strings.Replacer with one or more old/new pairs: at each position
 * the first pair (in order) whose old string matches wins; an empty old
 * string matches between every code point. */
static const struct rval *replace_pairs(struct ev *ev, const char *s, size_t n,
                                        const struct rval *const *olds,
                                        const struct rval *const *news, uint32_t np)
{
    struct sbuf b;
    size_t i = 0;
    uint32_t k;
    bool empty_old = false;

    for (k = 0; k < np; k++)
        if (olds[k]->n == 0)
            empty_old = true;
    vouch_sb_init(&b, ev);
    while (i <= n) {
        bool hit = false;

        /* every pair may be compared at every position */
        vouch_ev_charge(ev, 1 + np / 8);
        for (k = 0; k < np; k++) {
            size_t ol = olds[k]->n;

            if (ol == 0)
                continue;
            if (ol <= n - i && memcmp(s + i, olds[k]->u.s, ol) == 0) {
                vouch_sb_put(&b, news[k]->u.s, news[k]->n);
                i += ol;
                hit = true;
                break;
            }
        }
        if (hit)
            continue;
        if (empty_old) {
            for (k = 0; k < np; k++)
                if (olds[k]->n == 0) {
                    vouch_sb_put(&b, news[k]->u.s, news[k]->n);
                    break;
                }
        }
        if (i == n)
            break;
        {
            uint32_t cp;
            size_t l = empty_old ? dec1(s + i, n - i, &cp) : 1;

            vouch_sb_put(&b, s + i, l);
            i += l;
        }
    }
    return vouch_sb_val(&b);
}

BI(bi_replace)
{
    STR(0);
    STR(1);
    STR(2);
    *ret = replace_pairs(ev, a[0]->u.s, a[0]->n, &a[1], &a[2], 1);
    return BI_OK;
}

BI(bi_replace_n)
{
    const struct rval *o = rv_force(a[0]);
    const struct rval **olds, **news;
    uint32_t i;

    NEED(0, RT_OBJ, "object");
    STR(1);
    olds = ev_alloc(ev, (o->n + 1) * sizeof(*olds));
    news = ev_alloc(ev, (o->n + 1) * sizeof(*news));
    for (i = 0; i < o->n; i++) {
        if (o->u.o[i].k->t != RT_STR)
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand 1 non-string key found in pattern object");
        if (o->u.o[i].v->t != RT_STR)
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand 1 non-string value found in pattern object");
        olds[i] = o->u.o[i].k;
        news[i] = o->u.o[i].v;
    }
    *ret = replace_pairs(ev, a[1]->u.s, a[1]->n, olds, news, o->n);
    return BI_OK;
}

/* ---- trimming ---- */

static bool in_cutset(const struct rval *cut, uint32_t cp)
{
    size_t i = 0;

    while (i < cut->n) {
        uint32_t c;

        i += dec1(cut->u.s + i, cut->n - i, &c);
        if (c == cp)
            return true;
    }
    return false;
}

static bool is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Trim code points from the left and/or right while pred holds. */
static const struct rval *trim_by(struct ev *ev, const struct rval *s, bool left, bool right,
                                  const struct rval *cut)
{
    uint32_t n, *off, lo = 0, hi;

    off = runes_of(ev, s->u.s, s->n, &n);
    hi = n;
    while (left && lo < hi) {
        uint32_t cp;

        dec1(s->u.s + off[lo], s->n - off[lo], &cp);
        if (cut ? !in_cutset(cut, cp) : !is_space(cp))
            break;
        lo++;
    }
    while (right && hi > lo) {
        uint32_t cp;

        dec1(s->u.s + off[hi - 1], s->n - off[hi - 1], &cp);
        if (cut ? !in_cutset(cut, cp) : !is_space(cp))
            break;
        hi--;
    }
    if (lo == 0 && hi == n)
        return s;
    return vouch_rv_str(ev->a, s->u.s + off[lo], off[hi] - off[lo]);
}

BI(bi_trim)
{
    STR(0);
    STR(1);
    *ret = trim_by(ev, a[0], true, true, a[1]);
    return BI_OK;
}

BI(bi_trim_left)
{
    STR(0);
    STR(1);
    *ret = trim_by(ev, a[0], true, false, a[1]);
    return BI_OK;
}

BI(bi_trim_right)
{
    STR(0);
    STR(1);
    *ret = trim_by(ev, a[0], false, true, a[1]);
    return BI_OK;
}

BI(bi_trim_space)
{
    STR(0);
    *ret = trim_by(ev, a[0], true, true, NULL);
    return BI_OK;
}

BI(bi_trim_prefix)
{
    STR(0);
    STR(1);
    if (a[1]->n <= a[0]->n && memcmp(a[0]->u.s, a[1]->u.s, a[1]->n) == 0)
        *ret = vouch_rv_str(ev->a, a[0]->u.s + a[1]->n, a[0]->n - a[1]->n);
    else
        *ret = a[0];
    return BI_OK;
}

BI(bi_trim_suffix)
{
    STR(0);
    STR(1);
    if (a[1]->n <= a[0]->n && memcmp(a[0]->u.s + a[0]->n - a[1]->n, a[1]->u.s, a[1]->n) == 0)
        *ret = vouch_rv_str(ev->a, a[0]->u.s, a[0]->n - a[1]->n);
    else
        *ret = a[0];
    return BI_OK;
}

BI(bi_reverse)
{
    struct sbuf b;
    uint32_t n, *off, i;

    STR(0);
    off = runes_of(ev, a[0]->u.s, a[0]->n, &n);
    vouch_sb_init(&b, ev);
    for (i = n; i > 0; i--) {
        uint32_t cp;
        char enc[4];

        dec1(a[0]->u.s + off[i - 1], a[0]->n - off[i - 1], &cp);
        vouch_sb_put(&b, enc, rv_utf8_encode(cp, enc));
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

/* strings.any_prefix_match / any_suffix_match operands: a string or a
 * collection of strings. */
static int str_list(struct ev *ev, const struct rval *v, int pos, const struct rval ***ret,
                    uint32_t *ret_n)
{
    uint32_t i;

    if (v->t == RT_STR) {
        const struct rval **l = ev_alloc(ev, sizeof(*l));

        l[0] = v;
        *ret = l;
        *ret_n = 1;
        return BI_OK;
    }
    if (v->t != RT_ARR && v->t != RT_SET)
        return vouch_bi_type(ev, pos, "one of {string, set, array}", v);
    rv_force(v);
    for (i = 0; i < v->n; i++)
        if (v->u.a[i]->t != RT_STR)
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand %d must be array of strings but got %s containing %s",
                                 pos, vouch_rv_type_name(v), vouch_rv_type_name(v->u.a[i]));
    *ret = (const struct rval **)v->u.a;
    *ret_n = v->n;
    return BI_OK;
}

static int any_match(struct ev *ev, const struct rval *const *a, const struct rval **ret,
                     bool suffix)
{
    const struct rval **s, **p;
    uint32_t ns, np, i, j;
    int rc;

    if ((rc = str_list(ev, a[0], 1, &s, &ns)) || (rc = str_list(ev, a[1], 2, &p, &np)))
        return rc;
    for (i = 0; i < ns; i++)
        for (j = 0; j < np; j++) {
            const struct rval *x = s[i], *y = p[j];

            if (y->n <= x->n &&
                memcmp(suffix ? x->u.s + x->n - y->n : x->u.s, y->u.s, y->n) == 0) {
                *ret = RV_TRUE;
                return BI_OK;
            }
        }
    *ret = RV_FALSE;
    return BI_OK;
}

BI(bi_any_prefix)
{
    return any_match(ev, a, ret, false);
}

BI(bi_any_suffix)
{
    return any_match(ev, a, ret, true);
}

/* ---- sprintf: Go's fmt for the value kinds OPA passes ---- */

enum { A_INT, A_BIG, A_FLOAT, A_STR };

struct farg {
    int kind;
    int64_t i;
    double f;
    const char *s;   /* A_BIG: decimal digits with sign; A_STR */
    size_t n;
    const char *gotype;
};

struct spec {
    bool minus, plus, space, zero, sharp;
    int width, prec;   /* -1 when absent */
};

static void pad(struct sbuf *b, const struct spec *sp, const char *s, size_t n, bool numeric)
{
    size_t w = sp->width > 0 ? (size_t)sp->width : 0, i;
    uint32_t runes;

    runes_of(b->ev, s, n, &runes);
    if (runes >= w) {
        vouch_sb_put(b, s, n);
        return;
    }
    if (sp->minus) {
        vouch_sb_put(b, s, n);
        for (i = runes; i < w; i++)
            vouch_sb_putc(b, ' ');
        return;
    }
    if (sp->zero && numeric) {
        size_t k = 0;

        if (n && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
            vouch_sb_putc(b, s[0]);
            k = 1;
        }
        for (i = runes; i < w; i++)
            vouch_sb_putc(b, '0');
        vouch_sb_put(b, s + k, n - k);
        return;
    }
    for (i = runes; i < w; i++)
        vouch_sb_putc(b, ' ');
    vouch_sb_put(b, s, n);
}

static void bad_verb(struct sbuf *b, char verb, const struct farg *x)
{
    vouch_sb_printf(b, "%%!%c(%s=", verb, x->gotype);
    switch (x->kind) {
    case A_INT:
        vouch_sb_printf(b, "%lld", (long long)x->i);
        break;
    case A_FLOAT: {
        char tmp[64];

        snprintf(tmp, sizeof(tmp), "%g", x->f);
        vouch_sb_put(b, tmp, strlen(tmp));
        break;
    }
    default:
        vouch_sb_put(b, x->s, x->n);
    }
    vouch_sb_putc(b, ')');
}

/* Shortest %g the way Go prints a float64 with %v. */
static void go_float_v(char *out, size_t size, double f, int verb)
{
    char buf[40], digits[40];
    int prec, exp, nd = 0, i;
    char *e;

    if (isinf(f)) {
        snprintf(out, size, "%s", f > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (isnan(f)) {
        snprintf(out, size, "NaN");
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    /* buf: [-]d.ddde±XX */
    e = strchr(buf, 'e');
    exp = atoi(e + 1);
    for (i = 0; buf + i < e; i++)
        if (buf[i] >= '0' && buf[i] <= '9')
            digits[nd++] = buf[i];
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    (void)verb;
    if (exp < -4 || exp >= 6) {
        /* Go's shortest %v/%g switches to e-notation at exponent 6 */
        size_t o = 0;

        if (f < 0)
            out[o++] = '-';
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        snprintf(out + o, size - o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return;
    }
    {
        size_t o = 0;

        if (f < 0)
            out[o++] = '-';
        if (exp < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (i = 0; i < -exp - 1; i++)
                out[o++] = '0';
            for (i = 0; i < nd; i++)
                out[o++] = digits[i];
        } else {
            for (i = 0; i <= exp || i < nd; i++) {
                if (i == exp + 1)
                    out[o++] = '.';
                out[o++] = i < nd ? digits[i] : '0';
            }
        }
        out[o] = '\0';
    }
}

/* An integer argument: %d %v, %x %X %o %b, %c. */
static void fmt_int(struct sbuf *b, char verb, const struct spec *sp, const struct farg *x)
{
    char tmp[512];

    switch (verb) {
    case 'd':
    case 'v':
        snprintf(tmp, sizeof(tmp), sp->plus ? "%+lld" : "%lld", (long long)x->i);
        break;
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
        uint64_t u = x->i < 0 ? (uint64_t)0 - (uint64_t)x->i : (uint64_t)x->i;
        char digs[70];
        int k = 0, base = verb == 'o' ? 8 : verb == 'b' ? 2 : 16;
        size_t o = 0;

        do {
            unsigned d = (unsigned)(u % (uint64_t)base);

            digs[k++] = (char)(d < 10 ? '0' + d : (verb == 'X' ? 'A' : 'a') + d - 10);
            u /= (uint64_t)base;
        } while (u);
        if (x->i < 0)
            tmp[o++] = '-';
        if (sp->sharp && verb != 'b') {
            tmp[o++] = '0';
            if (verb != 'o')
                tmp[o++] = verb;
        }
        while (k)
            tmp[o++] = digs[--k];
        tmp[o] = '\0';
        break;
    }
    case 'c': {
        char enc[4];
        /* Go prints U+FFFD for what is not a Unicode scalar value */
        bool ok = x->i >= 0 && x->i <= 0x10ffff && !(x->i >= 0xd800 && x->i <= 0xdfff);
        size_t l = rv_utf8_encode(ok ? (uint32_t)x->i : 0xfffd, enc);

        xmemcpy(tmp, enc, l);
        tmp[l] = '\0';
        break;
    }
    case 'f':
    case 'e':
    case 'g':
    case 's':
    case 'q':
    default:
        bad_verb(b, verb, x);
        return;
    }
    pad(b, sp, tmp, strlen(tmp), true);
}

/* A float argument: %v %g %G (shortest), %f %F %e %E and %g with a precision. */
static void fmt_float(struct sbuf *b, char verb, const struct spec *sp, const struct farg *x)
{
    char tmp[512];

    switch (verb) {
    case 'v':
    case 'g':
    case 'G':
        if (sp->prec < 0) {
            go_float_v(tmp, sizeof(tmp), x->f, verb);
            pad(b, sp, tmp, strlen(tmp), true);
            return;
        }
        /* fallthrough */
    case 'f':
    case 'F':
    case 'e':
    case 'E': {
        int prec = sp->prec < 0 ? 6 : (sp->prec > 100 ? 100 : sp->prec);
        size_t o = 0;

        if (x->f >= 0 && (sp->plus || sp->space))
            tmp[o++] = sp->plus ? '+' : ' ';
        if (verb == 'f' || verb == 'F')
            snprintf(tmp + o, sizeof(tmp) - o, "%.*f", prec, x->f);
        else if (verb == 'e')
            snprintf(tmp + o, sizeof(tmp) - o, "%.*e", prec, x->f);
        else if (verb == 'E')
            snprintf(tmp + o, sizeof(tmp) - o, "%.*E", prec, x->f);
        else if (verb == 'G')
            snprintf(tmp + o, sizeof(tmp) - o, "%.*G", prec, x->f);
        else
            snprintf(tmp + o, sizeof(tmp) - o, "%.*g", prec, x->f);
        pad(b, sp, tmp, strlen(tmp), true);
        return;
    }
    default:
        bad_verb(b, verb, x);
        return;
    }
}

/* A string (or any other) argument: %s %v, %q, %x %X. */
static void fmt_text(struct sbuf *b, char verb, const struct spec *sp, const struct farg *x)
{
    switch (verb) {
    case 's':
    case 'v':
        if (sp->prec >= 0) {
            uint32_t n, *off = runes_of(b->ev, x->s, x->n, &n);
            uint32_t k = (uint32_t)sp->prec < n ? (uint32_t)sp->prec : n;

            pad(b, sp, x->s, off[k], false);
            return;
        }
        pad(b, sp, x->s, x->n, false);
        return;
    case 'q': {
        struct sbuf q;
        size_t i;

        vouch_sb_init(&q, b->ev);
        vouch_sb_putc(&q, '"');
        for (i = 0; i < x->n; i++) {
            unsigned char c = (unsigned char)x->s[i];

            if (c == '"' || c == '\\') {
                vouch_sb_putc(&q, '\\');
                vouch_sb_putc(&q, (char)c);
            } else if (c == '\n') {
                vouch_sb_put(&q, "\\n", 2);
            } else if (c == '\t') {
                vouch_sb_put(&q, "\\t", 2);
            } else if (c == '\r') {
                vouch_sb_put(&q, "\\r", 2);
            } else if (c < 0x20 || c == 0x7f) {
                vouch_sb_printf(&q, "\\x%02x", c);
            } else {
                vouch_sb_putc(&q, (char)c);
            }
        }
        vouch_sb_putc(&q, '"');
        pad(b, sp, q.p, q.n, false);
        return;
    }
    case 'x':
    case 'X': {
        struct sbuf h;
        size_t i;

        vouch_sb_init(&h, b->ev);
        for (i = 0; i < x->n; i++)
            vouch_sb_printf(&h, verb == 'x' ? "%02x" : "%02X", (unsigned char)x->s[i]);
        pad(b, sp, h.p ? h.p : "", h.n, false);
        return;
    }
    default:
        bad_verb(b, verb, x);
        return;
    }
}

static void fmt_one(struct sbuf *b, char verb, const struct spec *sp, const struct farg *x)
{
    switch (x->kind) {
    case A_INT:
        fmt_int(b, verb, sp, x);
        return;
    case A_BIG:
        if (verb == 'd' || verb == 'v' || verb == 's') {
            pad(b, sp, x->s, x->n, true);
            return;
        }
        vouch_sb_printf(b, "%%!%c(big.Int=%.*s)", verb, (int)x->n, x->s);
        return;
    case A_FLOAT:
        fmt_float(b, verb, sp, x);
        return;
    default:
        fmt_text(b, verb, sp, x);
        return;
    }
}

static void to_farg(struct ev *ev, const struct rval *v, struct farg *x)
{
    memset(x, 0, sizeof(*x));
    if (v->t == RT_NUM) {
        int64_t i;

        if (vouch_rv_to_i64(v, &i)) {
            x->kind = A_INT;
            x->i = i;
            x->gotype = "int";
            return;
        }
        if (vouch_rv_is_int(v)) {
            struct rdec d;
            uint8_t buf[20];
            char *s;

            num_view(v, &d, buf);
            s = ev_alloc(ev, vouch_rdec_text_len(&d) + 1);
            vouch_rdec_format(&d, s);
            x->kind = A_BIG;
            x->s = s;
            x->n = strlen(s);
            x->gotype = "*big.Int";
            if (!strchr(s, 'e'))
                return;
        }
        x->f = vouch_rv_to_double(v);
        if (!isinf(x->f)) {
            x->kind = A_FLOAT;
            x->gotype = "float64";
            return;
        }
        {
            struct sbuf b;

            vouch_sb_init(&b, ev);
            vouch_sb_value(&b, v, false);
            x->kind = A_STR;
            x->s = b.p;
            x->n = b.n;
            x->gotype = "string";
        }
        return;
    }
    x->kind = A_STR;
    x->gotype = "string";
    if (v->t == RT_STR) {
        x->s = v->u.s;
        x->n = v->n;
        return;
    }
    {
        struct sbuf b;

        vouch_sb_init(&b, ev);
        vouch_sb_value(&b, v, false);
        x->s = b.p;
        x->n = b.n;
    }
}

BI(bi_sprintf)
{
    const char *f;
    size_t n, i = 0;
    const struct rval *arr;
    uint32_t argi = 0, nargs;
    struct sbuf b;

    STR(0);
    NEED(1, RT_ARR, "array");
    arr = rv_force(a[1]);
    nargs = arr->n;
    f = a[0]->u.s;
    n = a[0]->n;
    vouch_sb_init(&b, ev);
    while (i < n) {
        struct spec sp = { false, false, false, false, false, -1, -1 };
        char verb;
        struct farg x;

        if (f[i] != '%') {
            size_t j = i;

            while (j < n && f[j] != '%')
                j++;
            vouch_sb_put(&b, f + i, j - i);
            i = j;
            continue;
        }
        i++;
        for (; i < n; i++) {
            if (f[i] == '-')
                sp.minus = true;
            else if (f[i] == '+')
                sp.plus = true;
            else if (f[i] == ' ')
                sp.space = true;
            else if (f[i] == '0')
                sp.zero = true;
            else if (f[i] == '#')
                sp.sharp = true;
            else
                break;
        }
        while (i < n && f[i] >= '0' && f[i] <= '9') {
            sp.width = (sp.width < 0 ? 0 : sp.width) * 10 + (f[i] - '0');
            if (sp.width > 10000)
                sp.width = 10000;
            i++;
        }
        if (i < n && f[i] == '.') {
            i++;
            sp.prec = 0;
            while (i < n && f[i] >= '0' && f[i] <= '9') {
                sp.prec = sp.prec * 10 + (f[i] - '0');
                if (sp.prec > 10000)
                    sp.prec = 10000;
                i++;
            }
        }
        if (i >= n) {
            vouch_sb_put(&b, "%!(NOVERB)", 10);
            break;
        }
        verb = f[i++];
        if (verb == '%') {
            vouch_sb_putc(&b, '%');
            continue;
        }
        if (argi >= nargs) {
            vouch_sb_printf(&b, "%%!%c(MISSING)", verb);
            continue;
        }
        to_farg(ev, arr->u.a[argi++], &x);
        fmt_one(&b, verb, &sp, &x);
    }
    if (argi < nargs) {
        vouch_sb_put(&b, "%!(EXTRA ", 9);
        for (; argi < nargs; argi++) {
            struct farg x;

            to_farg(ev, arr->u.a[argi], &x);
            if (x.kind == A_INT)
                vouch_sb_printf(&b, "int=%lld", (long long)x.i);
            else if (x.kind == A_FLOAT)
                vouch_sb_printf(&b, "float64=%g", x.f);
            else
                vouch_sb_printf(&b, "%s=%.*s", x.gotype, (int)x.n, x.s);
            if (argi + 1 < nargs)
                vouch_sb_put(&b, ", ", 2);
        }
        vouch_sb_putc(&b, ')');
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

const struct builtin vouch_bi_strings_table[] = {
    { "concat", 2, 0, bi_concat },
    { "contains", 2, 0, bi_contains },
    { "startswith", 2, 0, bi_startswith },
    { "endswith", 2, 0, bi_endswith },
    { "strings.count", 2, 0, bi_str_count },
    { "format_int", 2, 0, bi_format_int },
    { "indexof", 2, 0, bi_indexof },
    { "indexof_n", 2, 0, bi_indexof_n },
    { "substring", 3, 0, bi_substring },
    { "lower", 1, 0, bi_lower },
    { "upper", 1, 0, bi_upper },
    { "split", 2, 0, bi_split },
    { "replace", 3, 0, bi_replace },
    { "strings.replace_n", 2, 0, bi_replace_n },
    { "trim", 2, 0, bi_trim },
    { "trim_left", 2, 0, bi_trim_left },
    { "trim_right", 2, 0, bi_trim_right },
    { "trim_prefix", 2, 0, bi_trim_prefix },
    { "trim_suffix", 2, 0, bi_trim_suffix },
    { "trim_space", 1, 0, bi_trim_space },
    { "strings.reverse", 1, 0, bi_reverse },
    { "strings.any_prefix_match", 2, 0, bi_any_prefix },
    { "strings.any_suffix_match", 2, 0, bi_any_suffix },
    { "sprintf", 2, 0, bi_sprintf },
};

const size_t vouch_bi_strings_count =
    sizeof(vouch_bi_strings_table) / sizeof(vouch_bi_strings_table[0]);
