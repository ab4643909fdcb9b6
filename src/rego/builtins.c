/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Core builtins: comparison, arithmetic, sets, aggregates, types, and the
 * table of every builtin (the other groups live in bi_*.c).
 */
#include <stdlib.h>
#include <string.h>

#include "rego/builtins.h"

bool vouch_bi_double_to_i64(double d, int64_t *ret)
{
    /* NaN fails both comparisons */
    if (!(d >= -0x1p63 && d < 0x1p63))
        return false;
    *ret = (int64_t)d;
    return true;
}

int vouch_bi_int_arg(struct ev *ev, const struct rval *const *a, int i, int64_t *ret)
{
    if (a[i]->t != RT_NUM)
        return vouch_bi_type(ev, i + 1, "number", a[i]);
    if (!vouch_rv_is_int(a[i]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand %d must be integer number but got floating-point number",
                             i + 1);
    if (!vouch_rv_to_i64(a[i], ret))
        return vouch_bi_fail(ev, BI_ERR, "operand %d is out of range", i + 1);
    return BI_OK;
}

/* ---- comparison ---- */

/* Comparing two strings may read the shorter one whole: charge it. */
static void charge_cmp(struct ev *ev, const struct rval *x, const struct rval *y)
{
    if (x->t == RT_STR && y->t == RT_STR)
        vouch_ev_charge_scan(ev, x->n < y->n ? x->n : y->n);
}

BI(bi_equal)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(rv_eq(a[0], a[1]));
    return BI_OK;
}

BI(bi_neq)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(!rv_eq(a[0], a[1]));
    return BI_OK;
}

BI(bi_lt)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(vouch_rv_cmp(a[0], a[1]) < 0);
    return BI_OK;
}

BI(bi_lte)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(vouch_rv_cmp(a[0], a[1]) <= 0);
    return BI_OK;
}

BI(bi_gt)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(vouch_rv_cmp(a[0], a[1]) > 0);
    return BI_OK;
}

BI(bi_gte)
{
    charge_cmp(ev, a[0], a[1]);
    *ret = RV_BOOL(vouch_rv_cmp(a[0], a[1]) >= 0);
    return BI_OK;
}

/* ---- arithmetic ---- */

static int num_result(struct ev *ev, bool ok, const struct rdec *d, const struct rval **ret)
{
    if (!ok)
        return vouch_bi_fail(ev, BI_ERR, "number out of range");
    *ret = vouch_rv_dec(ev->a, d);
    return BI_OK;
}

static int arith(struct ev *ev, const struct rval *const *a, const struct rval **ret, char op)
{
    struct rdec x, y, r;
    uint8_t bx[20], by[20];
    bool ok;

    if (a[0]->t != RT_NUM)
        return vouch_bi_type(ev, 1, "number", a[0]);
    if (a[1]->t != RT_NUM)
        return vouch_bi_type(ev, 2, "number", a[1]);
    if (!((a[0]->flags | a[1]->flags) & RVF_BIG)) {
        int64_t p, q = a[1]->u.i, s;

        p = a[0]->u.i;
        switch (op) {
        case '+':
            if (!__builtin_add_overflow(p, q, &s)) {
                *ret = vouch_rv_int(ev->a, s);
                return BI_OK;
            }
            break;
        case '-':
            if (!__builtin_sub_overflow(p, q, &s)) {
                *ret = vouch_rv_int(ev->a, s);
                return BI_OK;
            }
            break;
        case '*':
            if (!__builtin_mul_overflow(p, q, &s)) {
                *ret = vouch_rv_int(ev->a, s);
                return BI_OK;
            }
            break;
        case '/':
            if (q == 0)
                return vouch_bi_fail(ev, BI_ERR, "divide by zero");
            if (q != -1 && p % q == 0) {
                *ret = vouch_rv_int(ev->a, p / q);
                return BI_OK;
            }
            break;
        case '%':
            if (q == 0)
                return vouch_bi_fail(ev, BI_ERR, "modulo by zero");
            if (q == -1) {
                *ret = vouch_rv_int(ev->a, 0);
                return BI_OK;
            }
            *ret = vouch_rv_int(ev->a, p % q);
            return BI_OK;
        }
    }
    num_view(a[0], &x, bx);
    num_view(a[1], &y, by);
    switch (op) {
    case '+':
        ok = vouch_rdec_add(ev->a, &x, &y, false, &r);
        break;
    case '-':
        ok = vouch_rdec_add(ev->a, &x, &y, true, &r);
        break;
    case '*':
        ok = vouch_rdec_mul(ev->a, &x, &y, &r);
        break;
    case '/':
        if (!y.nd)
            return vouch_bi_fail(ev, BI_ERR, "divide by zero");
        ok = vouch_rdec_div(ev->a, &x, &y, &r);
        break;
    default: {
        struct rdec q;

        if (!vouch_rdec_is_int(&x) || !vouch_rdec_is_int(&y))
            return vouch_bi_fail(ev, BI_ERR, "modulo on floating-point number");
        if (!y.nd)
            return vouch_bi_fail(ev, BI_ERR, "modulo by zero");
        ok = vouch_rdec_divmod_int(ev->a, &x, &y, &q, &r);
        break;
    }
    }
    return num_result(ev, ok, &r, ret);
}

BI(bi_plus)
{
    return arith(ev, a, ret, '+');
}

BI(bi_mul)
{
    return arith(ev, a, ret, '*');
}

BI(bi_div)
{
    return arith(ev, a, ret, '/');
}

BI(bi_rem)
{
    return arith(ev, a, ret, '%');
}

static const struct rval *set_diff(struct ev *ev, const struct rval *x, const struct rval *y)
{
    const struct rval **items = ev_alloc(ev, (x->n ? x->n : 1) * sizeof(*items));
    uint32_t i, n = 0;

    for (i = 0; i < x->n; i++)
        if (!vouch_rv_set_has(y, x->u.a[i]))
            items[n++] = x->u.a[i];
    return vouch_rv_set(ev->a, items, n);
}

BI(bi_minus)
{
    if (a[0]->t == RT_SET) {
        if (a[1]->t != RT_SET)
            return vouch_bi_type(ev, 2, "set", a[1]);
        *ret = set_diff(ev, a[0], a[1]);
        return BI_OK;
    }
    if (a[0]->t == RT_NUM) {
        if (a[1]->t != RT_NUM)
            return vouch_bi_type(ev, 2, "number", a[1]);
        return arith(ev, a, ret, '-');
    }
    return vouch_bi_type(ev, 1, "one of {number, set}", a[0]);
}

BI(bi_abs)
{
    struct rdec x;
    uint8_t b[20];

    NEED(0, RT_NUM, "number");
    if (!(a[0]->flags & RVF_BIG) && a[0]->u.i != INT64_MIN) {
        *ret = vouch_rv_int(ev->a, a[0]->u.i < 0 ? -a[0]->u.i : a[0]->u.i);
        return BI_OK;
    }
    num_view(a[0], &x, b);
    x.neg = false;
    *ret = vouch_rv_dec(ev->a, &x);
    return BI_OK;
}

static int rounding(struct ev *ev, const struct rval *const *a, const struct rval **ret,
                    enum vouch_rdec_round mode)
{
    struct rdec x, r;
    uint8_t b[20];

    NEED(0, RT_NUM, "number");
    if (!(a[0]->flags & RVF_BIG)) {
        *ret = a[0];
        return BI_OK;
    }
    num_view(a[0], &x, b);
    vouch_rdec_round(ev->a, &x, mode, &r);
    *ret = vouch_rv_dec(ev->a, &r);
    return BI_OK;
}

BI(bi_round)
{
    return rounding(ev, a, ret, RDEC_ROUND);
}

BI(bi_ceil)
{
    return rounding(ev, a, ret, RDEC_CEIL);
}

BI(bi_floor)
{
    return rounding(ev, a, ret, RDEC_FLOOR);
}

static int range(struct ev *ev, int64_t lo, int64_t hi, int64_t step, const struct rval **ret)
{
    uint64_t n, i, span;
    const struct rval **items;

    if (step <= 0)
        return vouch_bi_fail(ev, BI_ERR, "step must be a positive integer");
    /* the distance fits in uint64 even from INT64_MIN to INT64_MAX */
    span = lo <= hi ? (uint64_t)hi - (uint64_t)lo : (uint64_t)lo - (uint64_t)hi;
    n = span / (uint64_t)step;
    if (n >= UINT32_MAX)
        vouch_ev_charge(ev, UINT64_MAX);
    n++;
    vouch_ev_charge(ev, n);
    items = ev_alloc(ev, n * sizeof(*items));
    for (i = 0; i < n; i++)
        items[i] = vouch_rv_int(ev->a, lo <= hi ? (int64_t)((uint64_t)lo + i * (uint64_t)step)
                                                : (int64_t)((uint64_t)lo - i * (uint64_t)step));
    *ret = vouch_rv_arr(ev->a, items, (uint32_t)n);
    return BI_OK;
}

BI(bi_numbers_range)
{
    int64_t lo, hi;
    int rc;

    if (a[0]->t != RT_NUM)
        return vouch_bi_type(ev, 1, "number", a[0]);
    if (a[1]->t != RT_NUM)
        return vouch_bi_type(ev, 2, "number", a[1]);
    if (!vouch_rv_is_int(a[0]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand 1 must be integer number but got floating-point number");
    if (!vouch_rv_is_int(a[1]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand 2 must be integer number but got floating-point number");
    if ((rc = vouch_bi_int_arg(ev, a, 0, &lo)) || (rc = vouch_bi_int_arg(ev, a, 1, &hi)))
        return rc;
    return range(ev, lo, hi, 1, ret);
}

BI(bi_numbers_range_step)
{
    int64_t lo, hi, step;
    int rc;

    if (a[0]->t != RT_NUM)
        return vouch_bi_type(ev, 1, "number", a[0]);
    if (a[1]->t != RT_NUM)
        return vouch_bi_type(ev, 2, "number", a[1]);
    if (a[2]->t != RT_NUM)
        return vouch_bi_type(ev, 3, "number", a[2]);
    if (!vouch_rv_is_int(a[0]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand 1 must be integer number but got floating-point number");
    if (!vouch_rv_is_int(a[1]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand 2 must be integer number but got floating-point number");
    if (!vouch_rv_is_int(a[2]))
        return vouch_bi_fail(ev, BI_ERR_TYPE,
                             "operand 3 must be integer number but got floating-point number");
    if ((rc = vouch_bi_int_arg(ev, a, 0, &lo)) || (rc = vouch_bi_int_arg(ev, a, 1, &hi)))
        return rc;
    if (!vouch_rv_to_i64(a[2], &step)) {
        struct rdec d;
        uint8_t buf[20];

        /* a step beyond int64 leaves only the first number */
        vouch_rv_num_view(a[2], &d, buf);
        if (d.neg)
            return vouch_bi_fail(ev, BI_ERR, "step must be a positive integer");
        step = INT64_MAX;
    }
    return range(ev, lo, hi, step, ret);
}

/* ---- sets ---- */

static const struct rval *set_union(struct ev *ev, const struct rval *x, const struct rval *y)
{
    const struct rval **items = ev_alloc(ev, (x->n + y->n + 1) * sizeof(*items));

    xmemcpy(items, x->u.a, x->n * sizeof(*items));
    xmemcpy(items + x->n, y->u.a, y->n * sizeof(*items));
    return vouch_rv_set(ev->a, items, x->n + y->n);
}

static const struct rval *set_inter(struct ev *ev, const struct rval *x, const struct rval *y)
{
    const struct rval **items = ev_alloc(ev, (x->n + 1) * sizeof(*items));
    uint32_t i, n = 0;

    for (i = 0; i < x->n; i++)
        if (vouch_rv_set_has(y, x->u.a[i]))
            items[n++] = x->u.a[i];
    return vouch_rv_set(ev->a, items, n);
}

BI(bi_and)
{
    NEED(0, RT_SET, "set");
    NEED(1, RT_SET, "set");
    *ret = set_inter(ev, a[0], a[1]);
    return BI_OK;
}

BI(bi_or)
{
    NEED(0, RT_SET, "set");
    NEED(1, RT_SET, "set");
    *ret = set_union(ev, a[0], a[1]);
    return BI_OK;
}

BI(bi_union)
{
    const struct rval *acc = &vouch_rv_empty_set_v;
    uint32_t i;

    NEED(0, RT_SET, "set");
    for (i = 0; i < a[0]->n; i++) {
        if (a[0]->u.a[i]->t != RT_SET)
            return vouch_bi_type(ev, 1, "set of sets", a[0]);
    }
    {
        uint32_t total = 0, k = 0;
        const struct rval **items;

        for (i = 0; i < a[0]->n; i++)
            total += a[0]->u.a[i]->n;
        items = ev_alloc(ev, (total + 1) * sizeof(*items));
        for (i = 0; i < a[0]->n; i++) {
            xmemcpy(items + k, a[0]->u.a[i]->u.a, a[0]->u.a[i]->n * sizeof(*items));
            k += a[0]->u.a[i]->n;
        }
        acc = vouch_rv_set(ev->a, items, total);
    }
    *ret = acc;
    return BI_OK;
}

BI(bi_intersection)
{
    const struct rval *acc;
    uint32_t i;

    NEED(0, RT_SET, "set");
    for (i = 0; i < a[0]->n; i++)
        if (a[0]->u.a[i]->t != RT_SET)
            return vouch_bi_type(ev, 1, "set of sets", a[0]);
    if (a[0]->n == 0) {
        *ret = &vouch_rv_empty_set_v;
        return BI_OK;
    }
    acc = a[0]->u.a[0];
    for (i = 1; i < a[0]->n; i++)
        acc = set_inter(ev, acc, a[0]->u.a[i]);
    *ret = acc;
    return BI_OK;
}

/* ---- membership ---- */

BI(bi_member2)
{
    const struct rval *c = rv_force(a[1]);
    uint32_t i;

    (void)ev;
    switch (c->t) {
    case RT_SET:
        *ret = RV_BOOL(vouch_rv_set_has(c, a[0]));
        return BI_OK;
    case RT_ARR:
        for (i = 0; i < c->n; i++)
            if (rv_eq(c->u.a[i], a[0])) {
                *ret = RV_TRUE;
                return BI_OK;
            }
        break;
    case RT_OBJ:
        for (i = 0; i < c->n; i++)
            if (rv_eq(c->u.o[i].v, a[0])) {
                *ret = RV_TRUE;
                return BI_OK;
            }
        break;
    default:
        break;
    }
    *ret = RV_FALSE;
    return BI_OK;
}

BI(bi_member3)
{
    const struct rval *c = rv_force(a[2]), *v;
    uint32_t i;

    (void)ev;
    *ret = RV_FALSE;
    switch (c->t) {
    case RT_ARR:
        if (vouch_rv_index(c, a[0], &i) && rv_eq(c->u.a[i], a[1]))
            *ret = RV_TRUE;
        break;
    case RT_OBJ:
        v = vouch_rv_obj_get(c, a[0]);
        if (v && rv_eq(v, a[1]))
            *ret = RV_TRUE;
        break;
    default:
        break;
    }
    return BI_OK;
}

/* ---- aggregates ---- */

/* Runes as Go counts them: each invalid byte is one. */
static int64_t go_runes(const char *s, size_t n)
{
    size_t i = 0;
    int64_t c = 0;

    while (i < n) {
        uint32_t cp;
        size_t l = (unsigned char)s[i] < 0x80 ? 1 : rv_utf8_decode(s + i, n - i, &cp);

        i += l ? l : 1;
        c++;
    }
    return c;
}

BI(bi_count)
{
    switch (a[0]->t) {
    case RT_ARR:
    case RT_OBJ:
    case RT_SET:
        *ret = vouch_rv_int(ev->a, rv_len(a[0]));
        return BI_OK;
    case RT_STR:
        vouch_ev_charge_scan(ev, a[0]->n);
        *ret = vouch_rv_int(ev->a, go_runes(a[0]->u.s, a[0]->n));
        return BI_OK;
    default:
        return vouch_bi_type(ev, 1, "one of {array, object, set, string}", a[0]);
    }
}

static int fold_nums(struct ev *ev, const struct rval *const *a, const struct rval **ret, bool mul)
{
    const struct rval *c = rv_force(a[0]), *acc = vouch_rv_int(ev->a, mul ? 1 : 0);
    uint32_t i;

    if (c->t != RT_ARR && c->t != RT_SET)
        return vouch_bi_type(ev, 1, "one of {array, set}", c);
    for (i = 0; i < c->n; i++) {
        const struct rval *args[2] = { acc, c->u.a[i] };
        int rc;

        if (c->u.a[i]->t != RT_NUM)
            return vouch_bi_type(ev, 1, "one of {array, set} of numbers", c);
        rc = arith(ev, args, &acc, mul ? '*' : '+');
        if (rc)
            return rc;
    }
    *ret = acc;
    return BI_OK;
}

BI(bi_sum)
{
    return fold_nums(ev, a, ret, false);
}

BI(bi_product)
{
    return fold_nums(ev, a, ret, true);
}

static int extreme(struct ev *ev, const struct rval *const *a, const struct rval **ret, int sign)
{
    const struct rval *c = rv_force(a[0]), *best = NULL;
    uint32_t i;

    if (c->t != RT_ARR && c->t != RT_SET)
        return vouch_bi_type(ev, 1, "one of {array, set}", c);
    if (c->t == RT_SET && c->n) {
        *ret = c->u.a[sign > 0 ? c->n - 1 : 0];
        return BI_OK;
    }
    for (i = 0; i < c->n; i++)
        if (!best || vouch_rv_cmp(c->u.a[i], best) * sign > 0)
            best = c->u.a[i];
    if (!best)
        return BI_UNDEF;
    *ret = best;
    return BI_OK;
}

BI(bi_max)
{
    return extreme(ev, a, ret, 1);
}

BI(bi_min)
{
    return extreme(ev, a, ret, -1);
}

BI(bi_sort)
{
    const struct rval *c = rv_force(a[0]);
    const struct rval **items;

    if (c->t == RT_SET) {
        *ret = vouch_rv_arr(ev->a, (const struct rval **)c->u.a, c->n);
        return BI_OK;
    }
    if (c->t != RT_ARR)
        return vouch_bi_type(ev, 1, "one of {array, set}", c);
    /* n log2 n comparisons, 16 to a step */
    vouch_ev_charge(ev, (uint64_t)c->n * (uint64_t)(64 - __builtin_clzll((uint64_t)c->n | 1)) / 16);
    items = ev_alloc(ev, (c->n ? c->n : 1) * sizeof(*items));
    xmemcpy(items, c->u.a, c->n * sizeof(*items));
    if (c->n > 1)
        qsort(items, c->n, sizeof(*items), vouch_rv_cmp_ptr);
    *ret = vouch_rv_arr(ev->a, items, c->n);
    return BI_OK;
}

static int all_any(struct ev *ev, const struct rval *const *a, const struct rval **ret, bool all)
{
    const struct rval *c = rv_force(a[0]);
    uint32_t i;

    if (c->t != RT_ARR && c->t != RT_SET)
        return vouch_bi_type(ev, 1, "one of {array, set}", c);
    for (i = 0; i < c->n; i++) {
        bool t = rv_eq(c->u.a[i], RV_TRUE);

        if (all && !t) {
            *ret = RV_FALSE;
            return BI_OK;
        }
        if (!all && t) {
            *ret = RV_TRUE;
            return BI_OK;
        }
    }
    *ret = RV_BOOL(all);
    return BI_OK;
}

BI(bi_all)
{
    return all_any(ev, a, ret, true);
}

BI(bi_any)
{
    return all_any(ev, a, ret, false);
}

/* ---- types ---- */

#define TYPE_IS(fname, type)          \
    BI(fname)                         \
    {                                 \
        (void)ev;                     \
        *ret = RV_BOOL(a[0]->t == (type)); \
        return BI_OK;                 \
    }

TYPE_IS(bi_is_number, RT_NUM)
TYPE_IS(bi_is_string, RT_STR)
TYPE_IS(bi_is_boolean, RT_BOOL)
TYPE_IS(bi_is_array, RT_ARR)
TYPE_IS(bi_is_set, RT_SET)
TYPE_IS(bi_is_object, RT_OBJ)
TYPE_IS(bi_is_null, RT_NULL)

BI(bi_type_name)
{
    *ret = vouch_rv_cstr(ev->a, vouch_rv_type_name(a[0]));
    return BI_OK;
}

static bool ci_eq(const char *s, size_t n, const char *w)
{
    size_t i;

    if (strlen(w) != n)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return false;
    }
    return true;
}

BI(bi_to_number)
{
    const struct rval *v;

    switch (a[0]->t) {
    case RT_NULL:
        *ret = vouch_rv_int(ev->a, 0);
        return BI_OK;
    case RT_BOOL:
        *ret = vouch_rv_int(ev->a, a[0]->u.i ? 1 : 0);
        return BI_OK;
    case RT_NUM:
        *ret = a[0];
        return BI_OK;
    case RT_STR: {
        const char *s = a[0]->u.s;
        size_t n = a[0]->n, off = 0;

        if (n && (s[0] == '+' || s[0] == '-'))
            off = 1;
        if (ci_eq(s + off, n - off, "inf") || ci_eq(s + off, n - off, "infinity") ||
            ci_eq(s + off, n - off, "nan"))
            return vouch_bi_fail(ev, BI_ERR_TYPE, "operand 1 must be a finite number");
        v = vouch_rv_num_text(ev->a, s, n);
        if (!v && n > 1 && s[0] == '+')
            v = vouch_rv_num_text(ev->a, s + 1, n - 1);
        if (!v) {
            /* Go's ParseFloat also takes forms JSON does not: ".5", "5."; each
             * '.' may gain a '0' on both sides: at most 2n + 1 bytes */
            char *buf = ev_alloc(ev, 2 * n + 3);
            size_t i, k = 0;
            bool ok = n > 0 && n < 512;

            for (i = 0; ok && i < n; i++) {
                char c = s[i];

                if (c == '.' && (i == off || i + 1 == n || s[i + 1] < '0' || s[i + 1] > '9')) {
                    if (i == off)
                        buf[k++] = '0';
                    buf[k++] = '.';
                    if (i + 1 == n || s[i + 1] < '0' || s[i + 1] > '9')
                        buf[k++] = '0';
                    continue;
                }
                if (c == '_')
                    ok = false;
                buf[k++] = c;
            }
            if (ok)
                v = vouch_rv_num_text(ev->a, buf[0] == '+' ? buf + 1 : buf,
                                      buf[0] == '+' ? k - 1 : k);
        }
        if (!v)
            return vouch_bi_fail(ev, BI_ERR, "strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
                                 (int)(n > 64 ? 64 : n), s);
        *ret = v;
        return BI_OK;
    }
    default:
        return vouch_bi_type(ev, 1, "one of {null, boolean, number, string}", a[0]);
    }
}

/* ---- the table ---- */

static const struct builtin core_table[] = {
    { "equal", 2, 0, bi_equal },
    { "neq", 2, 0, bi_neq },
    { "lt", 2, 0, bi_lt },
    { "lte", 2, 0, bi_lte },
    { "gt", 2, 0, bi_gt },
    { "gte", 2, 0, bi_gte },
    { "plus", 2, 0, bi_plus },
    { "minus", 2, 0, bi_minus },
    { "mul", 2, 0, bi_mul },
    { "div", 2, 0, bi_div },
    { "rem", 2, 0, bi_rem },
    { "abs", 1, 0, bi_abs },
    { "round", 1, 0, bi_round },
    { "ceil", 1, 0, bi_ceil },
    { "floor", 1, 0, bi_floor },
    { "numbers.range", 2, 0, bi_numbers_range },
    { "numbers.range_step", 3, 0, bi_numbers_range_step },
    { "and", 2, 0, bi_and },
    { "or", 2, 0, bi_or },
    { "union", 1, 0, bi_union },
    { "intersection", 1, 0, bi_intersection },
    { "internal.member_2", 2, 0, bi_member2 },
    { "internal.member_3", 3, 0, bi_member3 },
    { "count", 1, 0, bi_count },
    { "sum", 1, 0, bi_sum },
    { "product", 1, 0, bi_product },
    { "max", 1, 0, bi_max },
    { "min", 1, 0, bi_min },
    { "sort", 1, 0, bi_sort },
    { "all", 1, 0, bi_all },
    { "any", 1, 0, bi_any },
    { "is_number", 1, 0, bi_is_number },
    { "is_string", 1, 0, bi_is_string },
    { "is_boolean", 1, 0, bi_is_boolean },
    { "is_array", 1, 0, bi_is_array },
    { "is_set", 1, 0, bi_is_set },
    { "is_object", 1, 0, bi_is_object },
    { "is_null", 1, 0, bi_is_null },
    { "type_name", 1, 0, bi_type_name },
    { "to_number", 1, 0, bi_to_number },
};

static const struct {
    const struct builtin *t;
    const size_t *n;
} tables[] = {
    { vouch_bi_strings_table, &vouch_bi_strings_count },
    { vouch_bi_objects_table, &vouch_bi_objects_count },
    { vouch_bi_time_table, &vouch_bi_time_count },
    { vouch_bi_regex_table, &vouch_bi_regex_count },
    { vouch_bi_misc_table, &vouch_bi_misc_count },
    { vouch_bi_net_table, &vouch_bi_net_count },
};

const struct builtin *vouch_rego_builtin_find(const char *name, size_t len)
{
    size_t i, j;

    for (i = 0; i < sizeof(core_table) / sizeof(core_table[0]); i++)
        if (strlen(core_table[i].name) == len && memcmp(core_table[i].name, name, len) == 0)
            return &core_table[i];
    for (j = 0; j < sizeof(tables) / sizeof(tables[0]); j++)
        for (i = 0; i < *tables[j].n; i++)
            if (strlen(tables[j].t[i].name) == len &&
                memcmp(tables[j].t[i].name, name, len) == 0)
                return &tables[j].t[i];
    return NULL;
}
