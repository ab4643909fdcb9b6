/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CIDR builtins (net.cidr_*) and glob matching.  Addresses are parsed with
 * inet_pton (no name resolution: net.lookup_ip_addr is not provided, as
 * policies may not use the network).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/builtins.h"

struct prefix {
    int fam;           /* 4 or 6 */
    uint8_t a[16];     /* network order; IPv4 in the first 4 bytes */
    unsigned bits;     /* prefix length */
};

static unsigned fam_bits(int fam)
{
    return fam == 4 ? 32 : 128;
}

/* "a.b.c.d/n", "x::y/n", or a bare address when allow_ip (a /32 or /128). */
static bool parse_prefix(const struct rval *s, bool allow_ip, struct prefix *p)
{
    char buf[64];
    char *slash, *end;
    long bits;

    if (s->t != RT_STR || s->n == 0 || s->n >= sizeof(buf))
        return false;
    memcpy(buf, s->u.s, s->n);
    buf[s->n] = '\0';
    slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(p->a, 0, sizeof(p->a));
    if (inet_pton(AF_INET, buf, p->a) == 1)
        p->fam = 4;
    else if (inet_pton(AF_INET6, buf, p->a) == 1)
        p->fam = 6;
    else
        return false;
    if (!slash) {
        if (!allow_ip)
            return false;
        p->bits = fam_bits(p->fam);
        return true;
    }
    if (!slash[1] || slash[1] < '0' || slash[1] > '9')
        return false;
    bits = strtol(slash + 1, &end, 10);
    if (*end || bits < 0 || bits > (long)fam_bits(p->fam))
        return false;
    p->bits = (unsigned)bits;
    return true;
}

static bool bit_at(const uint8_t *a, unsigned i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* Does p contain q (same family, q's prefix at least as long, same bits)? */
static bool contains(const struct prefix *p, const struct prefix *q)
{
    unsigned i;

    if (p->fam != q->fam || q->bits < p->bits)
        return false;
    for (i = 0; i < p->bits; i++)
        if (bit_at(p->a, i) != bit_at(q->a, i))
            return false;
    return true;
}

static void fmt_addr(int fam, const uint8_t *a, char *out, size_t size)
{
    inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)size);
}

BI(bi_cidr_contains)
{
    struct prefix p, q;

    NEED(0, RT_STR, "string");
    NEED(1, RT_STR, "string");
    if (!parse_prefix(a[0], false, &p))
        return vouch_bi_fail(ev, BI_ERR, "invalid CIDR: %.*s", (int)a[0]->n, a[0]->u.s);
    if (!parse_prefix(a[1], true, &q))
        return vouch_bi_fail(ev, BI_ERR, "invalid CIDR or IP: %.*s", (int)a[1]->n, a[1]->u.s);
    *ret = RV_BOOL(contains(&p, &q));
    return BI_OK;
}

BI(bi_cidr_intersects)
{
    struct prefix p, q;

    NEED(0, RT_STR, "string");
    NEED(1, RT_STR, "string");
    if (!parse_prefix(a[0], false, &p))
        return vouch_bi_fail(ev, BI_ERR, "invalid CIDR: %.*s", (int)a[0]->n, a[0]->u.s);
    if (!parse_prefix(a[1], false, &q))
        return vouch_bi_fail(ev, BI_ERR, "invalid CIDR: %.*s", (int)a[1]->n, a[1]->u.s);
    *ret = RV_BOOL(contains(&p, &q) || contains(&q, &p));
    return BI_OK;
}

BI(bi_cidr_is_valid)
{
    struct prefix p;

    (void)ev;
    *ret = RV_BOOL(a[0]->t == RT_STR && parse_prefix(a[0], false, &p));
    return BI_OK;
}

static void add_one(uint8_t *a, unsigned len)
{
    while (len > 0) {
        len--;
        if (++a[len])
            break;
    }
}

BI(bi_cidr_expand)
{
    struct prefix p;
    uint64_t count, i;
    unsigned host;
    const struct rval **items;
    uint8_t cur[16];
    unsigned len;

    NEED(0, RT_STR, "string");
    if (!parse_prefix(a[0], false, &p))
        return vouch_bi_fail(ev, BI_ERR, "invalid CIDR address: %.*s", (int)a[0]->n, a[0]->u.s);
    host = fam_bits(p.fam) - p.bits;
    if (host > 24)
        vouch_ev_fail(ev, VOUCH_E_LIMIT,
                      "eval_limit_error: step limit exceeded (%llu): net.cidr_expand",
                      (unsigned long long)ev->max_steps);
    count = (uint64_t)1 << host;
    vouch_ev_charge(ev, count);
    len = p.fam == 4 ? 4 : 16;
    memcpy(cur, p.a, len);
    for (i = p.bits; i < fam_bits(p.fam); i++)
        cur[i / 8] &= (uint8_t) ~(1u << (7 - i % 8));
    items = ev_alloc(ev, count * sizeof(*items));
    for (i = 0; i < count; i++) {
        char buf[64];

        fmt_addr(p.fam, cur, buf, sizeof(buf));
        items[i] = vouch_rv_cstr(ev->a, buf);
        add_one(cur, len);
    }
    *ret = vouch_rv_set(ev->a, items, (uint32_t)count);
    return BI_OK;
}

/* ---- merging ---- */

struct range {
    int fam;
    uint8_t lo[16], hi[16];
};

static int cmp_bytes(const uint8_t *x, const uint8_t *y, unsigned len)
{
    int c = memcmp(x, y, len);

    return c < 0 ? -1 : c > 0;
}

static int range_cmp(const void *x, const void *y)
{
    const struct range *a = x, *b = y;

    if (a->fam != b->fam)
        return a->fam - b->fam;
    return cmp_bytes(a->lo, b->lo, 16);
}

static void prefix_range(const struct prefix *p, struct range *r)
{
    unsigned i;

    r->fam = p->fam;
    memset(r->lo, 0, 16);
    memset(r->hi, 0, 16);
    memcpy(r->lo, p->a, p->fam == 4 ? 4 : 16);
    memcpy(r->hi, p->a, p->fam == 4 ? 4 : 16);
    for (i = p->bits; i < fam_bits(p->fam); i++) {
        r->lo[i / 8] &= (uint8_t) ~(1u << (7 - i % 8));
        r->hi[i / 8] |= (uint8_t)(1u << (7 - i % 8));
    }
}

/* Emit the fewest prefixes covering [lo, hi]. */
static void range_prefixes(struct ev *ev, const struct range *r, struct ra_vec *out)
{
    unsigned len = r->fam == 4 ? 4 : 16, nbits = len * 8;
    uint8_t cur[16];

    memcpy(cur, r->lo, 16);
    for (;;) {
        unsigned b;
        char buf[80];
        int n;

        /* the largest block starting at cur that stays within hi */
        for (b = 0; b < nbits; b++) {
            unsigned host = b + 1, i;
            uint8_t end[16];
            bool aligned = true;

            /* cur must have its low `host` bits clear */
            for (i = nbits - host; i < nbits; i++)
                if (bit_at(cur, i))
                    aligned = false;
            if (!aligned)
                break;
            memcpy(end, cur, 16);
            for (i = nbits - host; i < nbits; i++)
                end[i / 8] |= (uint8_t)(1u << (7 - i % 8));
            if (cmp_bytes(end, r->hi, len) > 0)
                break;
        }
        fmt_addr(r->fam, cur, buf, sizeof(buf));
        n = (int)strlen(buf);
        snprintf(buf + n, sizeof(buf) - (size_t)n, "/%u", nbits - b);
        vouch_ra_vec_push(ev->a, out, (void *)vouch_rv_cstr(ev->a, buf));
        vouch_ev_step(ev);
        /* cur += 2^b */
        {
            unsigned i;
            uint8_t last[16];

            memcpy(last, cur, 16);
            for (i = nbits - b; i < nbits; i++)
                last[i / 8] |= (uint8_t)(1u << (7 - i % 8));
            if (cmp_bytes(last, r->hi, len) >= 0)
                return;
            memcpy(cur, last, 16);
            add_one(cur, len);
        }
    }
}

BI(bi_cidr_merge)
{
    const struct rval *c = a[0];
    struct range *r;
    uint32_t n = 0, i, m = 0;
    struct ra_vec out = { 0 };

    if (c->t != RT_ARR && c->t != RT_SET)
        return vouch_bi_type(ev, 1, "one of {array, set}", c);
    rv_force(c);
    r = ev_alloc(ev, (c->n + 1) * sizeof(*r));
    for (i = 0; i < c->n; i++) {
        struct prefix p;
        const struct rval *s = c->u.a[i];

        if (s->t != RT_STR)
            return vouch_bi_type(ev, 1, "array of strings", c);
        if (!parse_prefix(s, true, &p)) {
            return vouch_bi_fail(ev, BI_ERR, "invalid CIDR or IP: %.*s", (int)s->n, s->u.s);
        }
        if (p.fam == 6 && !memchr(s->u.s, '/', s->n))
            return vouch_bi_fail(ev, BI_ERR, "IPv6 invalid: needs prefix length");
        /* a bare IPv4 address takes its classful default mask, as in Go */
        if (p.fam == 4 && !memchr(s->u.s, '/', s->n))
            p.bits = p.a[0] < 128 ? 8 : p.a[0] < 192 ? 16 : 24;
        prefix_range(&p, &r[n++]);
    }
    qsort(r, n, sizeof(*r), range_cmp);
    for (i = 0; i < n; i++) {
        if (m > 0 && r[m - 1].fam == r[i].fam) {
            uint8_t next[16];
            unsigned len = r[i].fam == 4 ? 4 : 16;

            memcpy(next, r[m - 1].hi, 16);
            add_one(next, len);
            /* overlapping or adjacent (and no wrap past the top) */
            if (cmp_bytes(r[i].lo, r[m - 1].hi, len) <= 0 ||
                (cmp_bytes(next, r[m - 1].hi, len) > 0 && cmp_bytes(r[i].lo, next, len) == 0)) {
                if (cmp_bytes(r[i].hi, r[m - 1].hi, len) > 0)
                    memcpy(r[m - 1].hi, r[i].hi, 16);
                continue;
            }
        }
        r[m++] = r[i];
    }
    for (i = 0; i < m; i++)
        range_prefixes(ev, &r[i], &out);
    *ret = vouch_rv_set(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* net.cidr_contains_matches(cidrs, ips): collections of strings or tuples
 * whose first element is the address; keys of both in the result. */
struct nitem {
    const struct rval *key;
    struct prefix p;
};

static int net_items(struct ev *ev, const struct rval *v, int pos, bool allow_ip,
                     struct nitem **ret, uint32_t *ret_n)
{
    struct nitem *it;
    uint32_t i, n;

    if (v->t == RT_STR) {
        it = ev_alloc(ev, sizeof(*it));
        it[0].key = v;
        if (!parse_prefix(v, allow_ip, &it[0].p))
            return vouch_bi_fail(ev, BI_ERR,
                                 "net.cidr_contains_matches: operand %d: invalid CIDR: %.*s", pos,
                                 (int)v->n, v->u.s);
        *ret = it;
        *ret_n = 1;
        return BI_OK;
    }
    if (v->t != RT_ARR && v->t != RT_SET && v->t != RT_OBJ)
        return vouch_bi_type(ev, pos, "one of {string, array, set, object}", v);
    rv_force(v);
    n = v->n;
    it = ev_alloc(ev, (n + 1) * sizeof(*it));
    for (i = 0; i < n; i++) {
        const struct rval *e = v->t == RT_OBJ ? v->u.o[i].v : v->u.a[i], *addr = e;

        it[i].key = v->t == RT_OBJ ? v->u.o[i].k : v->t == RT_ARR ? vouch_rv_int(ev->a, i) : e;
        if (e->t == RT_ARR) {
            if (rv_len(e) == 0)
                return vouch_bi_fail(ev, BI_ERR,
                                     "net.cidr_contains_matches: operand %d: element must be "
                                     "string or non-empty array",
                                     pos);
            addr = e->u.a[0];
        }
        if (addr->t != RT_STR)
            return vouch_bi_fail(
                ev, BI_ERR,
                "net.cidr_contains_matches: operand %d: element must be string or non-empty array",
                pos);
        if (!parse_prefix(addr, allow_ip, &it[i].p))
            return vouch_bi_fail(ev, BI_ERR,
                                 "net.cidr_contains_matches: operand %d: invalid CIDR: %.*s", pos,
                                 (int)addr->n, addr->u.s);
    }
    *ret = it;
    *ret_n = n;
    return BI_OK;
}

BI(bi_cidr_contains_matches)
{
    struct nitem *x, *y;
    uint32_t nx, ny, i, j;
    struct ra_vec out = { 0 };
    int rc;

    if ((rc = net_items(ev, a[0], 1, false, &x, &nx)) || (rc = net_items(ev, a[1], 2, true, &y, &ny)))
        return rc;
    for (i = 0; i < nx; i++)
        for (j = 0; j < ny; j++) {
            vouch_ev_step(ev);
            if (contains(&x[i].p, &y[j].p)) {
                const struct rval **pair = ev_alloc(ev, 2 * sizeof(*pair));

                pair[0] = x[i].key;
                pair[1] = y[j].key;
                vouch_ra_vec_push(ev->a, &out, (void *)vouch_rv_arr(ev->a, pair, 2));
            }
        }
    *ret = vouch_rv_set(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* ---- glob ---- */

struct glob {
    const char *p;
    size_t n;
    const struct rval *delims;   /* strings; NULL: none */
};

static bool is_delim(const struct glob *g, const char *s, size_t len)
{
    uint32_t i;

    if (!g->delims)
        return false;
    for (i = 0; i < g->delims->n; i++) {
        const struct rval *d = g->delims->u.a[i];

        if (d->n == len && memcmp(d->u.s, s, len) == 0)
            return true;
    }
    return false;
}

static size_t cp_len(const char *s, size_t n)
{
    uint32_t cp;
    size_t l;

    if ((unsigned char)s[0] < 0x80)
        return 1;
    l = rv_utf8_decode(s, n, &cp);
    return l ? l : 1;
}

/* The end of a {...} alternative list or [...] class starting at i. */
static size_t skip_group(const char *p, size_t n, size_t i, char open, char close)
{
    int depth = 0;

    for (; i < n; i++) {
        if (p[i] == '\\') {
            i++;
            continue;
        }
        if (p[i] == open)
            depth++;
        else if (p[i] == close && --depth == 0)
            return i;
    }
    return n;
}

static bool glob_at(struct ev *ev, const struct glob *g, size_t pi, size_t pend, const char *s,
                    size_t si, size_t sn, unsigned depth);

/* Match the pattern [pi, pend) followed by the rest [rest, g->n). */
static bool glob_seq(struct ev *ev, const struct glob *g, size_t pi, size_t pend, size_t rest,
                     const char *s, size_t si, size_t sn, unsigned depth)
{
    char *joined;
    struct glob sub = *g;
    size_t l1 = pend - pi, l2 = g->n - rest;
    bool r;

    joined = ev_alloc(ev, l1 + l2 + 1);
    xmemcpy(joined, g->p + pi, l1);
    xmemcpy(joined + l1, g->p + rest, l2);
    sub.p = joined;
    sub.n = l1 + l2;
    r = glob_at(ev, &sub, 0, sub.n, s, si, sn, depth + 1);
    return r;
}

/* '*' (not across a delimiter) or '**' at pi, then the pattern from `next`. */
static bool glob_star(struct ev *ev, const struct glob *g, size_t next, size_t pend, bool super,
                      const char *s, size_t si, size_t sn, unsigned depth)
{
    size_t k = si, l;

    for (;;) {
        if (glob_at(ev, g, next, pend, s, k, sn, depth + 1))
            return true;
        if (k >= sn)
            return false;
        l = cp_len(s + k, sn - k);
        if (!super && is_delim(g, s + k, l))
            return false;
        k += l;
    }
}

/* '{a,b,...}' at pi: any alternative followed by the rest of the pattern. */
static bool glob_alternatives(struct ev *ev, const struct glob *g, size_t pi, size_t pend,
                              const char *s, size_t si, size_t sn, unsigned depth)
{
    size_t close = skip_group(g->p, pend, pi, '{', '}'), st = pi + 1, j;
    int d = 0;

    if (close >= pend)
        return false;
    for (j = pi + 1; j <= close; j++) {
        if (g->p[j] == '\\') {
            j++;
            continue;
        }
        if (g->p[j] == '{' || g->p[j] == '[')
            d++;
        else if ((g->p[j] == '}' || g->p[j] == ']') && d > 0)
            d--;
        else if ((g->p[j] == ',' && d == 0) || j == close) {
            if (glob_seq(ev, g, st, j, close + 1, s, si, sn, depth))
                return true;
            st = j + 1;
        }
    }
    return false;
}

/* The code point at `at` (of the `n` bytes left) and its length. */
static uint32_t glob_code_point(const char *at, size_t n, size_t *ret_len)
{
    size_t l = cp_len(at, n);
    uint32_t c = (unsigned char)at[0];

    if (l > 1)
        rv_utf8_decode(at, n, &c);
    *ret_len = l;
    return c;
}

/* Whether code point sc is in the class '[...]' between pi and close ('!' or '^' negates). */
static bool glob_class_has(const struct glob *g, size_t pi, size_t close, uint32_t sc)
{
    size_t j = pi + 1, ll, lh;
    bool neg = false, hit = false;
    uint32_t lo, hi;

    if (j < close && (g->p[j] == '!' || g->p[j] == '^')) {
        neg = true;
        j++;
    }
    while (j < close) {
        lo = glob_code_point(g->p + j, close - j, &ll);
        j += ll;
        hi = lo;
        if (j + 1 < close && g->p[j] == '-') {
            hi = glob_code_point(g->p + j + 1, close - j - 1, &lh);
            j += 1 + lh;
        }
        if (sc >= lo && sc <= hi)
            hit = true;
    }
    return hit != neg;
}

static bool glob_at(struct ev *ev, const struct glob *g, size_t pi, size_t pend, const char *s,
                    size_t si, size_t sn, unsigned depth)
{
    vouch_ev_step(ev);
    if (depth > 200)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: glob pattern nested too deeply");
    while (pi < pend) {
        char c = g->p[pi];
        size_t l, pl, close;
        uint32_t sc;

        if (c == '*') {
            bool super = pi + 1 < pend && g->p[pi + 1] == '*';

            return glob_star(ev, g, pi + (super ? 2 : 1), pend, super, s, si, sn, depth);
        }
        if (c == '{')
            return glob_alternatives(ev, g, pi, pend, s, si, sn, depth);
        if (si >= sn)
            return false;
        l = cp_len(s + si, sn - si);
        sc = 0;
        rv_utf8_decode(s + si, sn - si, &sc);
        if (l == 1)
            sc = (unsigned char)s[si];
        if (c == '?' || c == '[') {
            close = c == '[' ? skip_group(g->p, pend, pi, '[', ']') : pi;
            if (close >= pend || is_delim(g, s + si, l) ||
                (c == '[' && !glob_class_has(g, pi, close, sc)))
                return false;
            pi = close + 1;
            si += l;
            continue;
        }
        if (c == '\\' && pi + 1 < pend)
            pi++;
        pl = cp_len(g->p + pi, pend - pi);
        if (pl != l || memcmp(g->p + pi, s + si, l) != 0)
            return false;
        pi += pl;
        si += l;
    }
    return si == sn;
}

BI(bi_glob_match)
{
    struct glob g;
    const struct rval *dflt[1];
    static const struct rval dot = { .t = RT_STR, .n = 1, .u.s = "." };
    uint32_t i;

    NEED(0, RT_STR, "string");
    NEED(2, RT_STR, "string");
    g.p = a[0]->u.s;
    g.n = a[0]->n;
    if (a[1]->t == RT_NULL) {
        g.delims = NULL;
    } else if (a[1]->t == RT_ARR) {
        rv_force(a[1]);
        for (i = 0; i < a[1]->n; i++)
            if (a[1]->u.a[i]->t != RT_STR)
                return vouch_bi_type(ev, 2, "array of strings", a[1]);
        g.delims = a[1]->n ? a[1] : NULL;
        if (!a[1]->n) {
            dflt[0] = &dot;
            g.delims = vouch_rv_arr(ev->a, dflt, 1);
        }
    } else {
        return vouch_bi_type(ev, 2, "one of {array, null}", a[1]);
    }
    *ret = RV_BOOL(glob_at(ev, &g, 0, g.n, a[2]->u.s, 0, a[2]->n, 0));
    return BI_OK;
}

BI(bi_glob_quote_meta)
{
    struct sbuf b;
    uint32_t i;

    NEED(0, RT_STR, "string");
    vouch_sb_init(&b, ev);
    for (i = 0; i < a[0]->n; i++) {
        char c = a[0]->u.s[i];

        if (strchr("*?\\[]{}", c))
            vouch_sb_putc(&b, '\\');
        vouch_sb_putc(&b, c);
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

const struct builtin vouch_bi_net_table[] = {
    { "net.cidr_contains", 2, 0, bi_cidr_contains },
    { "net.cidr_intersects", 2, 0, bi_cidr_intersects },
    { "net.cidr_overlap", 2, 0, bi_cidr_contains },
    { "net.cidr_is_valid", 1, 0, bi_cidr_is_valid },
    { "net.cidr_expand", 1, 0, bi_cidr_expand },
    { "net.cidr_merge", 1, 0, bi_cidr_merge },
    { "net.cidr_contains_matches", 2, 0, bi_cidr_contains_matches },
    { "glob.match", 3, 0, bi_glob_match },
    { "glob.quote_meta", 1, 0, bi_glob_quote_meta },
};

const size_t vouch_bi_net_count = sizeof(vouch_bi_net_table) / sizeof(vouch_bi_net_table[0]);
