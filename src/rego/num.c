/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rego/num.h"

void vouch_rdec_from_i64(struct rdec *r, int64_t v, uint8_t buf[20])
{
    uint64_t u;
    uint8_t tmp[20];
    uint32_t n = 0, i;
    int32_t exp = 0;

    r->neg = v < 0;
    u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u && u % 10 == 0) {
        u /= 10;
        exp++;
    }
    while (u) {
        tmp[n++] = (uint8_t)(u % 10);
        u /= 10;
    }
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    r->nd = n;
    r->exp = n ? exp : 0;
    r->d = buf;
    if (!n)
        r->neg = false;
}

/* Strip zeros, round to RNUM_MAX_DIGITS, check the exponent.  The digits
 * are big-endian in d[0..nd), which the function may modify. */
static bool normalize(uint8_t *d, uint32_t nd, int64_t exp, bool neg, struct rdec *ret)
{
    uint32_t start = 0;

    while (start < nd && d[start] == 0)
        start++;
    d += start;
    nd -= start;
    if (nd > RNUM_MAX_DIGITS) {
        uint32_t drop = nd - RNUM_MAX_DIGITS, i;
        bool up, sticky = false;

        for (i = RNUM_MAX_DIGITS + 1; i < nd; i++)
            if (d[i]) {
                sticky = true;
                break;
            }
        up = d[RNUM_MAX_DIGITS] > 5 || (d[RNUM_MAX_DIGITS] == 5 &&
                                         (sticky || (d[RNUM_MAX_DIGITS - 1] & 1)));
        nd = RNUM_MAX_DIGITS;
        exp += drop;
        if (up) {
            i = nd;
            while (i > 0) {
                i--;
                if (d[i] < 9) {
                    d[i]++;
                    break;
                }
                d[i] = 0;
                if (i == 0) {
                    /* 999..9 + 1: becomes 1 followed by zeros. */
                    d[0] = 1;
                    exp++;
                    /* the remaining digits are zeros and get stripped */
                }
            }
        }
    }
    while (nd && d[nd - 1] == 0) {
        nd--;
        exp++;
    }
    if (!nd) {
        ret->neg = false;
        ret->exp = 0;
        ret->nd = 0;
        ret->d = d;
        return true;
    }
    if (exp + nd > RNUM_MAX_EXP || exp < -(int64_t)RNUM_MAX_EXP - RNUM_MAX_DIGITS)
        return false;
    ret->neg = neg;
    ret->exp = (int32_t)exp;
    ret->nd = nd;
    ret->d = d;
    return true;
}

/* True when s[0..len) is a valid JSON number. */
static bool rnum_json_syntax(const char *s, size_t len)
{
    size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i >= len)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < len && s[i] == '.') {
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return false;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == len;
}

bool vouch_rdec_parse(struct rarena *a, const char *s, size_t len, struct rdec *ret)
{
    uint8_t *d;
    uint32_t nd = 0;
    int64_t exp = 0, e = 0;
    bool neg = false, eneg = false;
    size_t i = 0;

    if (!rnum_json_syntax(s, len))
        return false;
    d = vouch_ra_xalloc(a, len + 1);
    if (s[i] == '-') {
        neg = true;
        i++;
    }
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (nd || s[i] != '0')
            d[nd++] = (uint8_t)(s[i] - '0');
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd || s[i] != '0')
                d[nd++] = (uint8_t)(s[i] - '0');
            exp--;
            i++;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        while (i < len) {
            if (e < 10 * (int64_t)RNUM_MAX_EXP)
                e = e * 10 + (s[i] - '0');
            i++;
        }
        exp += eneg ? -e : e;
    }
    if (!nd)
        exp = 0;
    return normalize(d, nd, exp, neg, ret);
}

/* Digit of |x| at power of ten p. */
static inline unsigned digit_at(const struct rdec *x, int64_t p)
{
    int64_t k = p - x->exp;

    if (k < 0 || k >= (int64_t)x->nd)
        return 0;
    return x->d[x->nd - 1 - k];
}

static int cmp_mag(const struct rdec *x, const struct rdec *y)
{
    int64_t tx = (int64_t)x->exp + x->nd, ty = (int64_t)y->exp + y->nd;
    uint32_t i, n;

    if (!x->nd || !y->nd)
        return (x->nd != 0) - (y->nd != 0);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    n = x->nd < y->nd ? x->nd : y->nd;
    for (i = 0; i < n; i++)
        if (x->d[i] != y->d[i])
            return x->d[i] < y->d[i] ? -1 : 1;
    if (x->nd != y->nd)
        return x->nd < y->nd ? -1 : 1;
    return 0;
}

int vouch_rdec_cmp(const struct rdec *x, const struct rdec *y)
{
    int c;

    if (!x->nd && !y->nd)
        return 0;
    if (!x->nd)
        return y->neg ? 1 : -1;
    if (!y->nd)
        return x->neg ? -1 : 1;
    if (x->neg != y->neg)
        return x->neg ? -1 : 1;
    c = cmp_mag(x, y);
    return x->neg ? -c : c;
}

bool vouch_rdec_is_int(const struct rdec *x)
{
    return x->nd == 0 || x->exp >= 0;
}

static bool rdec_to_u64(const struct rdec *x, uint64_t *ret)
{
    uint64_t v = 0;
    uint32_t i;
    int32_t e;

    if (!x->nd) {
        *ret = 0;
        return true;
    }
    if (x->neg || x->exp < 0 || (int64_t)x->nd + x->exp > 20)
        return false;
    for (i = 0; i < x->nd; i++) {
        if (v > (UINT64_MAX - x->d[i]) / 10)
            return false;
        v = v * 10 + x->d[i];
    }
    for (e = 0; e < x->exp; e++) {
        if (v > UINT64_MAX / 10)
            return false;
        v *= 10;
    }
    *ret = v;
    return true;
}

bool vouch_rdec_to_i64(const struct rdec *x, int64_t *ret)
{
    struct rdec m = *x;
    uint64_t u;

    m.neg = false;
    if (!rdec_to_u64(&m, &u))
        return false;
    if (x->neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return false;
        *ret = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX)
            return false;
        *ret = (int64_t)u;
    }
    return true;
}

double vouch_rdec_to_double(const struct rdec *x)
{
    char buf[RNUM_MAX_DIGITS + 64];

    if (vouch_rdec_text_len(x) >= sizeof(buf))
        return x->neg ? -HUGE_VAL : HUGE_VAL;
    vouch_rdec_format(x, buf);
    return strtod(buf, NULL);
}

bool vouch_rdec_add(struct rarena *a, const struct rdec *x, const struct rdec *y, bool sub,
                    struct rdec *ret)
{
    bool yneg = sub ? !y->neg : y->neg;
    int64_t lo, hi, p, tx, ty;
    uint8_t *buf;
    uint32_t n, i;
    int c;

    if (!y->nd) {
        *ret = *x;
        return true;
    }
    if (!x->nd) {
        *ret = *y;
        ret->neg = yneg;
        return true;
    }
    tx = (int64_t)x->exp + x->nd;
    ty = (int64_t)y->exp + y->nd;
    /* One operand far below the other's precision: the result rounds to
     * the larger one. */
    if (tx - ty > RNUM_MAX_DIGITS + 2 && (int64_t)x->nd <= RNUM_MAX_DIGITS) {
        *ret = *x;
        return true;
    }
    if (ty - tx > RNUM_MAX_DIGITS + 2 && (int64_t)y->nd <= RNUM_MAX_DIGITS) {
        *ret = *y;
        ret->neg = yneg;
        return true;
    }
    lo = x->exp < y->exp ? x->exp : y->exp;
    hi = (tx > ty ? tx : ty) + 1;
    n = (uint32_t)(hi - lo);
    buf = vouch_ra_xalloc(a, n);
    if (x->neg == yneg) {
        unsigned carry = 0;

        for (p = lo, i = n; p < hi; p++) {
            unsigned s = digit_at(x, p) + digit_at(y, p) + carry;

            carry = s / 10;
            buf[--i] = (uint8_t)(s % 10);
        }
        return normalize(buf, n, lo, x->neg, ret);
    }
    c = cmp_mag(x, y);
    if (c == 0) {
        ret->neg = false;
        ret->nd = 0;
        ret->exp = 0;
        ret->d = buf;
        return true;
    }
    {
        const struct rdec *big = c > 0 ? x : y, *small = c > 0 ? y : x;
        bool rneg = c > 0 ? x->neg : yneg;
        int borrow = 0;

        for (p = lo, i = n; p < hi; p++) {
            int s = (int)digit_at(big, p) - (int)digit_at(small, p) - borrow;

            borrow = s < 0;
            if (s < 0)
                s += 10;
            buf[--i] = (uint8_t)s;
        }
        return normalize(buf, n, lo, rneg, ret);
    }
}

bool vouch_rdec_mul(struct rarena *a, const struct rdec *x, const struct rdec *y, struct rdec *ret)
{
    uint32_t *acc;
    uint8_t *buf;
    uint32_t n, i, j;

    if (!x->nd || !y->nd) {
        ret->neg = false;
        ret->nd = 0;
        ret->exp = 0;
        ret->d = x->d;
        return true;
    }
    n = x->nd + y->nd;
    acc = vouch_ra_xcalloc(a, n, sizeof(*acc));
    buf = vouch_ra_xalloc(a, n);
    /* acc is little-endian by power. */
    for (i = 0; i < x->nd; i++) {
        unsigned xd = x->d[x->nd - 1 - i];

        if (!xd)
            continue;
        for (j = 0; j < y->nd; j++)
            acc[i + j] += xd * y->d[y->nd - 1 - j];
        /* keep the accumulators small */
        if ((i & 63) == 63)
            for (j = 0; j + 1 < n; j++) {
                acc[j + 1] += acc[j] / 10;
                acc[j] %= 10;
            }
    }
    for (j = 0; j + 1 < n; j++) {
        acc[j + 1] += acc[j] / 10;
        acc[j] %= 10;
    }
    for (j = 0; j < n; j++)
        buf[n - 1 - j] = (uint8_t)acc[j];
    return normalize(buf, n, (int64_t)x->exp + y->exp, x->neg != y->neg, ret);
}

/*
 * Long division of digit strings: num (big-endian, nn digits) by den
 * (big-endian, dn digits, no leading zero).  Quotient digits to q (nn
 * digits), the remainder left in num.
 */
static int cmp_at(const uint8_t *num, uint32_t len, const uint8_t *den, uint32_t dn)
{
    /* num window of len digits (len == dn or dn + 1) against den */
    uint32_t i;

    if (len > dn) {
        if (num[0])
            return 1;
        num++;
        len--;
    }
    for (i = 0; i < dn; i++)
        if (num[i] != den[i])
            return num[i] < den[i] ? -1 : 1;
    return 0;
}

static void sub_at(uint8_t *num, uint32_t len, const uint8_t *den, uint32_t dn)
{
    int borrow = 0;
    uint32_t i;

    for (i = 0; i < len; i++) {
        int s = (int)num[len - 1 - i] - (i < dn ? den[dn - 1 - i] : 0) - borrow;

        borrow = s < 0;
        num[len - 1 - i] = (uint8_t)(s < 0 ? s + 10 : s);
    }
}

static void long_div(uint8_t *num, uint32_t nn, const uint8_t *den, uint32_t dn, uint8_t *q)
{
    uint32_t i;

    memset(q, 0, nn);
    for (i = 0; i < nn; i++) {
        /* window num[i+1-dn .. i] extended by one leading digit */
        uint32_t end = i + 1, start, len;
        uint8_t k = 0;

        if (end < dn)
            continue;
        start = end >= dn + 1 ? end - dn - 1 : end - dn;
        len = end - start;
        while (cmp_at(num + start, len, den, dn) >= 0) {
            sub_at(num + start, len, den, dn);
            k++;
        }
        q[i] = k;
    }
}

static bool is_zero_digits(const uint8_t *d, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        if (d[i])
            return false;
    return true;
}

bool vouch_rdec_div(struct rarena *a, const struct rdec *x, const struct rdec *y, struct rdec *ret)
{
    uint32_t shift, nn, i;
    uint8_t *num, *q;
    int64_t exp;
    bool neg = x->neg != y->neg;

    if (!y->nd)
        return false;
    if (!x->nd) {
        *ret = *x;
        return true;
    }
    /* coef(x) * 10^shift / coef(y) has at least RNUM_DIV_DIGITS + 2 digits */
    shift = RNUM_DIV_DIGITS + 2 + (y->nd > x->nd ? y->nd - x->nd : 0) + 1;
    nn = x->nd + shift;
    num = vouch_ra_xcalloc(a, nn, 1);
    q = vouch_ra_xalloc(a, nn);
    xmemcpy(num, x->d, x->nd);
    long_div(num, nn, y->d, y->nd, q);
    exp = (int64_t)x->exp - y->exp - shift;
    if (is_zero_digits(num, nn))
        return normalize(q, nn, exp, neg, ret);
    /* Inexact: round to RNUM_DIV_DIGITS significant digits, half-even,
     * with the non-zero remainder as the sticky bit. */
    {
        uint32_t start = 0, keep, k;
        bool up;

        while (start < nn && q[start] == 0)
            start++;
        keep = start + RNUM_DIV_DIGITS;
        if (keep >= nn)
            return normalize(q, nn, exp, neg, ret);
        /* the remainder is not zero, so a 5 here is above the half */
        up = q[keep] >= 5;
        for (k = keep; k < nn; k++)
            q[k] = 0;
        if (up) {
            i = keep;
            while (i > 0) {
                i--;
                if (q[i] < 9) {
                    q[i]++;
                    break;
                }
                q[i] = 0;
            }
        }
        return normalize(q, nn, exp, neg, ret);
    }
}

/* The full integer digits of an integer x (exp >= 0). */
static uint8_t *int_digits(struct rarena *a, const struct rdec *x, uint32_t *ret_n)
{
    uint32_t n = x->nd + (uint32_t)x->exp;
    uint8_t *d = vouch_ra_xcalloc(a, n ? n : 1, 1);

    xmemcpy(d, x->d, x->nd);
    *ret_n = n;
    return d;
}

bool vouch_rdec_divmod_int(struct rarena *a, const struct rdec *x, const struct rdec *y,
                           struct rdec *ret_q, struct rdec *ret_r)
{
    uint8_t *num, *den, *q;
    uint32_t nn, dn;

    if (!y->nd || !vouch_rdec_is_int(x) || !vouch_rdec_is_int(y))
        return false;
    if (!x->nd) {
        *ret_q = *x;
        *ret_r = *x;
        return true;
    }
    num = int_digits(a, x, &nn);
    den = int_digits(a, y, &dn);
    q = vouch_ra_xalloc(a, nn);
    long_div(num, nn, den, dn, q);
    if (!normalize(q, nn, 0, x->neg != y->neg, ret_q))
        return false;
    return normalize(num, nn, 0, x->neg, ret_r);
}

void vouch_rdec_round(struct rarena *a, const struct rdec *x, enum vouch_rdec_round mode,
                      struct rdec *ret)
{
    uint32_t ip, i;
    uint8_t *buf;
    bool frac_nonzero = false, up = false;
    struct rdec r;

    if (vouch_rdec_is_int(x)) {
        *ret = *x;
        return;
    }
    /* integer digits: those with power >= 0 */
    ip = (int64_t)x->nd + x->exp > 0 ? (uint32_t)((int64_t)x->nd + x->exp) : 0;
    for (i = ip; i < x->nd; i++)
        if (x->d[i])
            frac_nonzero = true;
    switch (mode) {
    case RDEC_FLOOR:
        up = x->neg && frac_nonzero;
        break;
    case RDEC_CEIL:
        up = !x->neg && frac_nonzero;
        break;
    case RDEC_ROUND:
        up = digit_at(x, -1) >= 5;
        break;
    case RDEC_TRUNC:
        up = false;
        break;
    }
    buf = vouch_ra_xalloc(a, ip + 1);
    buf[0] = 0;
    xmemcpy(buf + 1, x->d, ip);
    if (up) {
        i = ip + 1;
        while (i > 0) {
            i--;
            if (buf[i] < 9) {
                buf[i]++;
                break;
            }
            buf[i] = 0;
        }
    }
    if (!normalize(buf, ip + 1, 0, x->neg, &r)) {
        *ret = *x;
        return;
    }
    *ret = r;
}

size_t vouch_rdec_text_len(const struct rdec *x)
{
    int64_t pp = (int64_t)x->nd + x->exp;
    size_t n;

    if (!x->nd)
        return 1;
    n = x->neg;
    if (x->exp >= 0 && x->exp <= 20)
        return n + x->nd + (size_t)x->exp;
    if (x->exp < 0 && pp > 0)
        return n + x->nd + 1;
    if (x->exp < 0 && pp > -6)
        return n + 2 + (size_t)(-pp) + x->nd;
    /* d[.ddd]e±N */
    {
        char eb[16];
        int en = snprintf(eb, sizeof(eb), "%+lld", (long long)(pp - 1));

        return n + x->nd + (x->nd > 1) + 1 + (size_t)en;
    }
}

void vouch_rdec_format(const struct rdec *x, char *out)
{
    int64_t pp = (int64_t)x->nd + x->exp;
    uint32_t i;
    char *o = out;

    if (!x->nd) {
        strcpy(out, "0");
        return;
    }
    if (x->neg)
        *o++ = '-';
    if (x->exp >= 0 && x->exp <= 20) {
        for (i = 0; i < x->nd; i++)
            *o++ = (char)('0' + x->d[i]);
        for (i = 0; i < (uint32_t)x->exp; i++)
            *o++ = '0';
    } else if (x->exp < 0 && pp > 0) {
        for (i = 0; i < x->nd; i++) {
            if ((int64_t)i == pp)
                *o++ = '.';
            *o++ = (char)('0' + x->d[i]);
        }
    } else if (x->exp < 0 && pp > -6) {
        *o++ = '0';
        *o++ = '.';
        for (i = 0; i < (uint32_t)(-pp); i++)
            *o++ = '0';
        for (i = 0; i < x->nd; i++)
            *o++ = (char)('0' + x->d[i]);
    } else {
        *o++ = (char)('0' + x->d[0]);
        if (x->nd > 1) {
            *o++ = '.';
            for (i = 1; i < x->nd; i++)
                *o++ = (char)('0' + x->d[i]);
        }
        *o++ = 'e';
        o += sprintf(o, "%+lld", (long long)(pp - 1));
    }
    *o = '\0';
}

bool vouch_rdec_from_double(struct rarena *a, double v, struct rdec *ret)
{
    char buf[40];
    int prec;

    if (!isfinite(v))
        return false;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* "%e" gives e.g. 1.5e+00, which is valid JSON number syntax. */
    return vouch_rdec_parse(a, buf, strlen(buf), ret);
}
