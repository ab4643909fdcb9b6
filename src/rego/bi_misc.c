/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Miscellaneous builtins: units, semantic versions, UUIDs, graphs, URL
 * query objects, trace and the (empty) runtime.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rego/builtins.h"

BI(bi_trace)
{
    (void)ev;
    (void)a;
    *ret = RV_TRUE;
    return BI_OK;
}

/* The runtime environment: policies see none (no environment access). */
BI(bi_opa_runtime)
{
    (void)ev;
    (void)a;
    *ret = &vouch_rv_empty_obj_v;
    return BI_OK;
}

/* ---- units ---- */

/* Split "10.5KiB" into number and unit the way OPA does; false when an
 * exponent has more than 6 digits. */
static bool split_amount(const char *s, size_t n, size_t *ret_numlen)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if ((c >= '0' && c <= '9') || c == '.' || c == '+' || c == '-')
            continue;
        if (c == 'e' || c == 'E') {
            size_t j;

            if (i + 1 >= n || !((s[i + 1] >= '0' && s[i + 1] <= '9') || s[i + 1] == '+' ||
                                s[i + 1] == '-'))
                break;
            if (s[i + 1] == '+' || s[i + 1] == '-')
                i++;
            for (j = i + 1; j < n && s[j] >= '0' && s[j] <= '9'; j++)
                ;
            if (j - (i + 1) > 6)
                return false;
            continue;
        }
        break;
    }
    *ret_numlen = i;
    return true;
}

/* A decimal from Go-ish float text ("1.", ".5", "+2", "1e3"). */
static bool loose_number(struct ev *ev, const char *s, size_t n, struct rdec *ret)
{
    /* every '.' may gain a '0' after it: at most 2n + 1 bytes */
    char *buf = ev_alloc(ev, 2 * n + 4);
    size_t i = 0, k = 0;

    if (n && s[0] == '+')
        i = 1;
    if (i < n && s[i] == '-')
        buf[k++] = s[i++];
    if (i < n && s[i] == '.')
        buf[k++] = '0';
    for (; i < n; i++) {
        buf[k++] = s[i];
        if (s[i] == '.' && (i + 1 == n || s[i + 1] < '0' || s[i + 1] > '9'))
            buf[k++] = '0';
    }
    return vouch_rdec_parse(ev->a, buf, k, ret);
}

static const struct rval *strip_quotes(struct ev *ev, const struct rval *v, bool lower)
{
    struct sbuf b;
    uint32_t i;

    vouch_sb_init(&b, ev);
    for (i = 0; i < v->n; i++) {
        char c = v->u.s[i];

        if (c == '"')
            continue;
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        vouch_sb_putc(&b, c);
    }
    return vouch_sb_val(&b);
}

static bool unit_is(const char *u, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(u, w, n) == 0;
}

static int mul_amount(struct ev *ev, const struct rdec *num, const char *mult, struct rdec *ret)
{
    struct rdec m;

    if (!vouch_rdec_parse(ev->a, mult, strlen(mult), &m) || !vouch_rdec_mul(ev->a, num, &m, ret))
        return -1;
    return 0;
}

BI(bi_units_parse_bytes)
{
    static const struct {
        const char *u1, *u2, *mult;
    } units[] = {
        { "", "", "1" },
        { "kb", "k", "1000" }, { "kib", "ki", "1024" },
        { "mb", "m", "1000000" }, { "mib", "mi", "1048576" },
        { "gb", "g", "1000000000" }, { "gib", "gi", "1073741824" },
        { "tb", "t", "1000000000000" }, { "tib", "ti", "1099511627776" },
        { "pb", "p", "1000000000000000" }, { "pib", "pi", "1125899906842624" },
        { "eb", "e", "1000000000000000000" }, { "eib", "ei", "1152921504606846976" },
    };
    const struct rval *s;
    size_t nl, i;
    struct rdec num, r, t;

    NEED(0, RT_STR, "string");
    s = strip_quotes(ev, a[0], true);
    if (memchr(s->u.s, ' ', s->n))
        return vouch_bi_fail(ev, BI_ERR,
                             "units.parse_bytes: spaces not allowed in resource strings");
    if (!split_amount(s->u.s, s->n, &nl))
        return vouch_bi_fail(ev, BI_ERR, "units.parse_bytes: exponent too large");
    if (nl == 0)
        return vouch_bi_fail(ev, BI_ERR, "units.parse_bytes: no byte amount provided");
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (unit_is(s->u.s + nl, s->n - nl, units[i].u1) ||
            unit_is(s->u.s + nl, s->n - nl, units[i].u2))
            break;
    if (i == sizeof(units) / sizeof(units[0]))
        return vouch_bi_fail(ev, BI_ERR, "units.parse_bytes: byte unit %.*s not recognized",
                             (int)(s->n - nl), s->u.s + nl);
    if (!loose_number(ev, s->u.s, nl, &num))
        return vouch_bi_fail(ev, BI_ERR,
                             "units.parse_bytes: could not parse byte amount to a number");
    if (mul_amount(ev, &num, units[i].mult, &r))
        return vouch_bi_fail(ev, BI_ERR, "units.parse_bytes: number out of range");
    vouch_rdec_round(ev->a, &r, RDEC_TRUNC, &t);
    *ret = vouch_rv_dec(ev->a, &t);
    return BI_OK;
}

BI(bi_units_parse)
{
    static const struct {
        const char *u1, *u2, *mult;
    } units[] = {
        { "", "", "1" }, { "m", "m", "0.001" },
        { "k", "K", "1000" }, { "ki", "Ki", "1024" },
        { "M", "M", "1000000" }, { "mi", "Mi", "1048576" },
        { "g", "G", "1000000000" }, { "gi", "Gi", "1073741824" },
        { "t", "T", "1000000000000" }, { "ti", "Ti", "1099511627776" },
        { "p", "P", "1000000000000000" }, { "pi", "Pi", "1125899906842624" },
        { "e", "E", "1000000000000000000" }, { "ei", "Ei", "1152921504606846976" },
    };
    const struct rval *s;
    size_t nl, i, un;
    struct rdec num, r;
    char unit[16];

    NEED(0, RT_STR, "string");
    s = strip_quotes(ev, a[0], false);
    if (memchr(s->u.s, ' ', s->n))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: spaces not allowed in resource strings");
    if (!split_amount(s->u.s, s->n, &nl))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: exponent too large");
    if (nl == 0)
        return vouch_bi_fail(ev, BI_ERR, "units.parse: no amount provided");
    un = s->n - nl;
    if (un >= sizeof(unit))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: unit %.*s not recognized", (int)un,
                             s->u.s + nl);
    /* only the letters after the first are case-insensitive */
    for (i = 0; i < un; i++) {
        char c = s->u.s[nl + i];

        unit[i] = (i > 0 && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (unit_is(unit, un, units[i].u1) || unit_is(unit, un, units[i].u2))
            break;
    if (i == sizeof(units) / sizeof(units[0]))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: unit %.*s not recognized", (int)un, unit);
    if (!loose_number(ev, s->u.s, nl, &num))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: could not parse amount to a number");
    if (mul_amount(ev, &num, units[i].mult, &r))
        return vouch_bi_fail(ev, BI_ERR, "units.parse: number out of range");
    if (!vouch_rdec_is_int(&r) && r.exp < -10) {
        /* OPA prints non-integers with ten decimals */
        struct rdec scale, x, y;

        vouch_rdec_parse(ev->a, "1e10", 4, &scale);
        if (vouch_rdec_mul(ev->a, &r, &scale, &x)) {
            vouch_rdec_round(ev->a, &x, RDEC_ROUND, &y);
            if (vouch_rdec_div(ev->a, &y, &scale, &x))
                r = x;
        }
    }
    *ret = vouch_rv_dec(ev->a, &r);
    return BI_OK;
}

/* ---- semantic versions (semver.org 2.0.0) ---- */

struct semver {
    const char *s;
    size_t n;
    size_t core_end;     /* end of MAJOR.MINOR.PATCH */
    size_t pre, pre_end; /* prerelease, when pre_end > pre */
};

static bool ident_ok(const char *s, size_t n, bool numeric_no_zero)
{
    size_t i;
    bool digits = true;

    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-'))
            return false;
        if (c < '0' || c > '9')
            digits = false;
    }
    return !(numeric_no_zero && digits && n > 1 && s[0] == '0');
}

static bool semver_parse(const char *s, size_t n, struct semver *v)
{
    size_t i = 0, part;

    v->s = s;
    v->n = n;
    v->pre = v->pre_end = 0;
    for (part = 0; part < 3; part++) {
        size_t st = i;

        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == st || (i - st > 1 && s[st] == '0'))
            return false;
        if (part < 2) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
    }
    v->core_end = i;
    if (i < n && s[i] == '-') {
        size_t st = ++i;

        while (i < n && s[i] != '+')
            i++;
        v->pre = st;
        v->pre_end = i;
        for (st = v->pre; st <= v->pre_end;) {
            size_t e = st;

            while (e < v->pre_end && s[e] != '.')
                e++;
            if (!ident_ok(s + st, e - st, true))
                return false;
            st = e + 1;
        }
    }
    if (i < n && s[i] == '+') {
        size_t st = ++i;

        for (; st <= n;) {
            size_t e = st;

            while (e < n && s[e] != '.')
                e++;
            if (!ident_ok(s + st, e - st, false))
                return false;
            st = e + 1;
        }
        i = n;
    }
    return i == n;
}

static int cmp_num_str(const char *a, size_t an, const char *b, size_t bn)
{
    int c;

    if (an != bn)
        return an < bn ? -1 : 1;
    c = memcmp(a, b, an);
    return c < 0 ? -1 : c > 0;
}

static bool all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static int semver_cmp(const struct semver *x, const struct semver *y)
{
    size_t i = 0, j = 0;
    int part, c;

    for (part = 0; part < 3; part++) {
        size_t si = i, sj = j;

        while (i < x->core_end && x->s[i] != '.')
            i++;
        while (j < y->core_end && y->s[j] != '.')
            j++;
        c = cmp_num_str(x->s + si, i - si, y->s + sj, j - sj);
        if (c)
            return c;
        i++;
        j++;
    }
    if (x->pre_end == x->pre || y->pre_end == y->pre)
        return (x->pre_end == x->pre) - (y->pre_end == y->pre);
    i = x->pre;
    j = y->pre;
    for (;;) {
        size_t ei = i, ej = j;
        bool ni, nj;

        if (i > x->pre_end || j > y->pre_end)
            return (i <= x->pre_end) - (j <= y->pre_end);
        while (ei < x->pre_end && x->s[ei] != '.')
            ei++;
        while (ej < y->pre_end && y->s[ej] != '.')
            ej++;
        ni = all_digits(x->s + i, ei - i);
        nj = all_digits(y->s + j, ej - j);
        if (ni && nj) {
            c = cmp_num_str(x->s + i, ei - i, y->s + j, ej - j);
        } else if (ni != nj) {
            c = ni ? -1 : 1;
        } else {
            size_t m = ei - i < ej - j ? ei - i : ej - j;

            c = memcmp(x->s + i, y->s + j, m);
            c = c ? (c < 0 ? -1 : 1) : (ei - i < ej - j ? -1 : ei - i > ej - j);
        }
        if (c)
            return c;
        i = ei + 1;
        j = ej + 1;
    }
}

BI(bi_semver_is_valid)
{
    struct semver v;

    (void)ev;
    *ret = RV_BOOL(a[0]->t == RT_STR && semver_parse(a[0]->u.s, a[0]->n, &v));
    return BI_OK;
}

BI(bi_semver_compare)
{
    struct semver x, y;

    NEED(0, RT_STR, "string");
    NEED(1, RT_STR, "string");
    if (!semver_parse(a[0]->u.s, a[0]->n, &x))
        return vouch_bi_fail(ev, BI_ERR, "operand 1: string \"%.*s\" is not a valid SemVer",
                             (int)a[0]->n, a[0]->u.s);
    if (!semver_parse(a[1]->u.s, a[1]->n, &y))
        return vouch_bi_fail(ev, BI_ERR, "operand 2: string \"%.*s\" is not a valid SemVer",
                             (int)a[1]->n, a[1]->u.s);
    *ret = vouch_rv_int(ev->a, semver_cmp(&x, &y));
    return BI_OK;
}

/* ---- UUIDs ---- */

static bool uuid_bytes(const char *s, size_t n, uint8_t out[16])
{
    size_t i, k = 0;

    if (n == 45 && strncasecmp(s, "urn:uuid:", 9) == 0) {
        s += 9;
        n -= 9;
    } else if (n == 38 && s[0] == '{' && s[37] == '}') {
        s++;
        n -= 2;
    }
    if (n == 36) {
        if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
            return false;
    } else if (n != 32) {
        return false;
    }
    for (i = 0; i < n; i++) {
        int h, l;

        if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23))
            continue;
        if (i + 1 >= n || (h = vouch_hex_digit((unsigned char)s[i])) < 0 ||
            (l = vouch_hex_digit((unsigned char)s[i + 1])) < 0)
            return false;
        out[k++] = (uint8_t)(h << 4 | l);
        i++;
    }
    return k == 16;
}

BI(bi_uuid_parse)
{
    uint8_t u[16];
    struct rkv kv[10];
    uint32_t n = 0;
    unsigned version, var;
    const char *variant;
    bool conflict;

    if (a[0]->t != RT_STR)
        return BI_UNDEF;
    if (!uuid_bytes(a[0]->u.s, a[0]->n, u))
        return BI_UNDEF;
    version = u[6] >> 4;
    var = u[8];
    variant = (var & 0x80) == 0 ? "Reserved" : (var & 0xc0) == 0x80 ? "RFC4122"
              : (var & 0xe0) == 0xc0 ? "Microsoft" : "Future";
    kv[n].k = vouch_rv_cstr(ev->a, "version");
    kv[n++].v = vouch_rv_int(ev->a, version);
    kv[n].k = vouch_rv_cstr(ev->a, "variant");
    kv[n++].v = vouch_rv_cstr(ev->a, variant);
    if (version == 1 || version == 2) {
        int64_t t = (int64_t)((uint64_t)u[0] << 24 | (uint64_t)u[1] << 16 | (uint64_t)u[2] << 8 | u[3]);
        int64_t since = 122192928000000000LL;
        char node[18];

        t |= (int64_t)((uint64_t)u[4] << 8 | u[5]) << 32;
        t |= (int64_t)(((uint64_t)u[6] << 8 | u[7]) & 0xfff) << 48;
        /* 100 ns ticks since 1582 (60 bits) as ns since 1970: only
         * 1677-2262 fit in int64 nanoseconds, as Go's UnixNano */
        if (__builtin_mul_overflow(t - since, (int64_t)100, &t))
            return vouch_bi_fail(ev, BI_ERR, "time outside the int64 nanosecond range");
        kv[n].k = vouch_rv_cstr(ev->a, "time");
        kv[n++].v = vouch_rv_int(ev->a, t);
        snprintf(node, sizeof(node), "%02x-%02x-%02x-%02x-%02x-%02x", u[10], u[11], u[12], u[13],
                 u[14], u[15]);
        kv[n].k = vouch_rv_cstr(ev->a, "nodeid");
        kv[n++].v = vouch_rv_cstr(ev->a, node);
        kv[n].k = vouch_rv_cstr(ev->a, "macvariables");
        kv[n++].v =
            vouch_rv_cstr(ev->a, u[10] & 2 ? (u[10] & 1 ? "local:multicast" : "local:unicast")
                                           : (u[10] & 1 ? "global:multicast" : "global:unicast"));
        kv[n].k = vouch_rv_cstr(ev->a, "clocksequence");
        if (version == 2) {
            static const char *const domains[] = { "Person", "Group", "Org" };

            kv[n++].v = vouch_rv_int(ev->a, (int64_t)(u[8] & 0x3f) << 8);
            kv[n].k = vouch_rv_cstr(ev->a, "id");
            kv[n++].v = vouch_rv_int(ev->a, (int64_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
                                                      (uint32_t)u[2] << 8 | u[3]));
            kv[n].k = vouch_rv_cstr(ev->a, "domain");
            if (u[9] < 3) {
                kv[n++].v = vouch_rv_cstr(ev->a, domains[u[9]]);
            } else {
                char d[24];

                snprintf(d, sizeof(d), "Domain%u", u[9]);
                kv[n++].v = vouch_rv_cstr(ev->a, d);
            }
        } else {
            kv[n++].v = vouch_rv_int(ev->a, (int64_t)((u[8] & 0x3f) << 8 | u[9]));
        }
    }
    {
        struct rkv *o = ev_alloc(ev, n * sizeof(*o));

        xmemcpy(o, kv, n * sizeof(*o));
        *ret = vouch_rv_obj(ev->a, o, n, &conflict);
    }
    return BI_OK;
}

/* ---- graphs ---- */

static bool vertex_list(const struct rval *v, const struct rval *const **ret, uint32_t *ret_n)
{
    rv_force(v);
    if (v->t != RT_ARR && v->t != RT_SET)
        return false;
    *ret = v->u.a;
    *ret_n = v->n;
    return true;
}

BI(bi_graph_reachable)
{
    const struct rval *const *init, *g = a[0];
    uint32_t ninit, head = 0, i;
    struct ra_vec queue = { 0 }, reached = { 0 };

    NEED(0, RT_OBJ, "object");
    if (!vertex_list(a[1], &init, &ninit))
        return vouch_bi_type(ev, 2, "{array, set}", a[1]);
    for (i = 0; i < ninit; i++)
        vouch_ra_vec_push(ev->a, &queue, (void *)init[i]);
    while (head < queue.n) {
        const struct rval *node = queue.v[head++], *edges = vouch_rv_obj_get(g, node);
        const struct rval *const *nb;
        uint32_t nn, j, k;
        bool seen = false;

        /* one step per 16 vertices already reached compared against */
        vouch_ev_charge(ev, 1 + reached.n / 16);
        if (!edges)
            continue;
        for (k = 0; k < reached.n && !seen; k++)
            seen = rv_eq(reached.v[k], node);
        if (seen)
            continue;
        vouch_ra_vec_push(ev->a, &reached, (void *)node);
        if (vertex_list(edges, &nb, &nn))
            for (j = 0; j < nn; j++)
                vouch_ra_vec_push(ev->a, &queue, (void *)nb[j]);
    }
    *ret = vouch_rv_set(ev->a, (const struct rval **)reached.v, reached.n);
    return BI_OK;
}

static void paths_from(struct ev *ev, const struct rval *g, const struct rval *root,
                       const struct rval *const *path, uint32_t depth, struct ra_vec *out)
{
    const struct rval *edges = vouch_rv_obj_get(g, root), *const *nb;
    const struct rval **p;
    uint32_t nn = 0, j, k;

    /* the path is copied (depth) and each neighbour is looked for in it */
    vouch_ev_charge(
        ev, 1 + depth + (uint64_t)(edges && edges->t != RT_OBJ ? edges->n : 0) * (depth + 1) / 16);
    if (depth > 10000)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: graph paths too long");
    if (!edges) {
        p = ev_alloc(ev, (depth + 1) * sizeof(*p));
        xmemcpy(p, path, depth * sizeof(*p));
        vouch_ra_vec_push(ev->a, out, (void *)vouch_rv_arr(ev->a, p, depth));
        return;
    }
    p = ev_alloc(ev, (depth + 1) * sizeof(*p));
    xmemcpy(p, path, depth * sizeof(*p));
    p[depth] = root;
    if (!vertex_list(edges, &nb, &nn) || nn == 0) {
        vouch_ra_vec_push(ev->a, out, (void *)vouch_rv_arr(ev->a, p, depth + 1));
        return;
    }
    for (j = 0; j < nn; j++) {
        bool cyc = false;

        for (k = 0; k <= depth && !cyc; k++)
            cyc = rv_eq(p[k], nb[j]);
        if (cyc)
            vouch_ra_vec_push(ev->a, out, (void *)vouch_rv_arr(ev->a, p, depth + 1));
        else
            paths_from(ev, g, nb[j], p, depth + 1, out);
    }
}

BI(bi_graph_reachable_paths)
{
    const struct rval *const *init, *g = a[0];
    uint32_t ninit, i;
    struct ra_vec out = { 0 };

    NEED(0, RT_OBJ, "object");
    if (!vertex_list(a[1], &init, &ninit))
        return vouch_bi_type(ev, 2, "{array, set}", a[1]);
    for (i = 0; i < ninit; i++) {
        const struct rval *edges = vouch_rv_obj_get(g, init[i]), *const *nb;
        uint32_t nn = 0, j;

        if (!edges)
            continue;
        if (vertex_list(edges, &nb, &nn) && nn > 0) {
            for (j = 0; j < nn; j++)
                paths_from(ev, g, nb[j], &init[i], 1, &out);
        } else {
            vouch_ra_vec_push(ev->a, &out,
                              (void *)vouch_rv_arr(ev->a, (const struct rval **)&init[i], 1));
        }
    }
    *ret = vouch_rv_set(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* ---- URL query objects ---- */

BI(bi_urlquery_encode_object)
{
    const struct rval *o = a[0];
    struct sbuf b;
    uint32_t i, j;
    bool first = true;

    NEED(0, RT_OBJ, "object");
    rv_force(o);
    vouch_sb_init(&b, ev);
    for (i = 0; i < o->n; i++) {
        const struct rval *k = o->u.o[i].k, *v = o->u.o[i].v;

        if (k->t != RT_STR)
            return vouch_bi_type(ev, 1, "object of strings", o);
        if (v->t == RT_STR) {
            if (!first)
                vouch_sb_putc(&b, '&');
            first = false;
            vouch_sb_url_escape(&b, k->u.s, k->n);
            vouch_sb_putc(&b, '=');
            vouch_sb_url_escape(&b, v->u.s, v->n);
            continue;
        }
        if (v->t != RT_ARR && v->t != RT_SET)
            return vouch_bi_type(ev, 1, "object of strings, arrays or sets", o);
        rv_force(v);
        for (j = 0; j < v->n; j++) {
            if (v->u.a[j]->t != RT_STR)
                return vouch_bi_type(ev, 1, "object of strings, arrays or sets of strings", o);
            if (!first)
                vouch_sb_putc(&b, '&');
            first = false;
            vouch_sb_url_escape(&b, k->u.s, k->n);
            vouch_sb_putc(&b, '=');
            vouch_sb_url_escape(&b, v->u.a[j]->u.s, v->u.a[j]->n);
        }
    }
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

static bool url_unescape(struct ev *ev, const char *s, size_t n, const struct rval **ret)
{
    struct sbuf b;

    vouch_sb_init(&b, ev);
    if (!vouch_sb_url_unescape(&b, s, n, NULL))
        return false;
    *ret = vouch_sb_val(&b);
    return true;
}

BI(bi_urlquery_decode_object)
{
    const char *s;
    size_t n, i = 0;
    struct ra_vec keys = { 0 }, vals = { 0 };

    NEED(0, RT_STR, "string");
    s = a[0]->u.s;
    n = a[0]->n;
    while (i < n) {
        size_t e = i, eq;
        const struct rval *k, *v;
        uint32_t j;

        while (e < n && s[e] != '&' && s[e] != ';')
            e++;
        if (e > i) {
            for (eq = i; eq < e && s[eq] != '='; eq++)
                ;
            if (!url_unescape(ev, s + i, eq - i, &k) ||
                !url_unescape(ev, s + (eq < e ? eq + 1 : e), eq < e ? e - eq - 1 : 0, &v))
                return vouch_bi_fail(ev, BI_ERR, "invalid URL escape");
            for (j = 0; j < keys.n; j++)
                if (rv_eq(keys.v[j], k))
                    break;
            if (j == keys.n) {
                vouch_ra_vec_push(ev->a, &keys, (void *)k);
                vouch_ra_vec_push(ev->a, &vals, ev_alloc(ev, sizeof(struct ra_vec)));
                memset(vals.v[j], 0, sizeof(struct ra_vec));
            }
            vouch_ra_vec_push(ev->a, vals.v[j], (void *)v);
        }
        i = e + 1;
    }
    {
        struct rkv *kv = ev_alloc(ev, (keys.n + 1) * sizeof(*kv));
        bool conflict;
        uint32_t j;

        for (j = 0; j < keys.n; j++) {
            struct ra_vec *vv = vals.v[j];

            kv[j].k = keys.v[j];
            kv[j].v = vouch_rv_arr(ev->a, (const struct rval **)vv->v, vv->n);
        }
        *ret = vouch_rv_obj(ev->a, kv, keys.n, &conflict);
    }
    return BI_OK;
}

const struct builtin vouch_bi_misc_table[] = {
    { "trace", 1, 0, bi_trace },
    { "opa.runtime", 0, 0, bi_opa_runtime },
    { "units.parse_bytes", 1, 0, bi_units_parse_bytes },
    { "units.parse", 1, 0, bi_units_parse },
    { "semver.is_valid", 1, 0, bi_semver_is_valid },
    { "semver.compare", 2, 0, bi_semver_compare },
    { "uuid.parse", 1, 0, bi_uuid_parse },
    { "graph.reachable", 2, 0, bi_graph_reachable },
    { "graph.reachable_paths", 2, 0, bi_graph_reachable_paths },
    { "urlquery.encode_object", 1, 0, bi_urlquery_encode_object },
    { "urlquery.decode_object", 1, 0, bi_urlquery_decode_object },
};

const size_t vouch_bi_misc_count = sizeof(vouch_bi_misc_table) / sizeof(vouch_bi_misc_table[0]);
