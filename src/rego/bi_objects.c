/* SPDX-License-Identifier: Apache-2.0 */
/* Object, array, JSON, encoding and bitwise builtins. */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "rego/builtins.h"

/* ---- objects ---- */

static const struct rval *obj_find(const struct rval *v, const struct rval *path)
{
    uint32_t i;

    for (i = 0; i < path->n && v; i++) {
        const struct rval *k = path->u.a[i];
        uint32_t idx;

        rv_force(v);
        switch (v->t) {
        case RT_OBJ:
            v = vouch_rv_obj_get(v, k);
            break;
        case RT_ARR:
            v = vouch_rv_index(v, k, &idx) ? v->u.a[idx] : NULL;
            break;
        case RT_SET:
            v = vouch_rv_set_has(v, k) ? k : NULL;
            break;
        default:
            v = NULL;
        }
    }
    return v;
}

BI(bi_object_get)
{
    const struct rval *v;

    (void)ev;
    NEED(0, RT_OBJ, "object");
    if (a[1]->t == RT_ARR) {
        rv_force(a[1]);
        if (a[1]->n == 0) {
            *ret = a[0];
            return BI_OK;
        }
        v = obj_find(a[0], a[1]);
    } else {
        v = vouch_rv_obj_get(a[0], a[1]);
    }
    *ret = v ? v : a[2];
    return BI_OK;
}

BI(bi_object_keys)
{
    const struct rval *o = a[0], **items;
    uint32_t i;

    NEED(0, RT_OBJ, "object");
    rv_force(o);
    items = ev_alloc(ev, (o->n + 1) * sizeof(*items));
    for (i = 0; i < o->n; i++)
        items[i] = o->u.o[i].k;
    *ret = vouch_rv_set(ev->a, items, o->n);
    return BI_OK;
}

/* Keys given as an array, a set or an object's keys. */
static int key_set(struct ev *ev, const struct rval *v, const struct rval **ret)
{
    const struct rval **items;
    uint32_t i;

    rv_force(v);
    switch (v->t) {
    case RT_SET:
        *ret = v;
        return BI_OK;
    case RT_ARR:
        items = ev_alloc(ev, (v->n + 1) * sizeof(*items));
        xmemcpy(items, v->u.a, v->n * sizeof(*items));
        *ret = vouch_rv_set(ev->a, items, v->n);
        return BI_OK;
    case RT_OBJ:
        items = ev_alloc(ev, (v->n + 1) * sizeof(*items));
        for (i = 0; i < v->n; i++)
            items[i] = v->u.o[i].k;
        *ret = vouch_rv_set(ev->a, items, v->n);
        return BI_OK;
    default:
        return vouch_bi_type(ev, 2, "one of {object, set, array}", v);
    }
}

static int obj_keep(struct ev *ev, const struct rval *const *a, const struct rval **ret, bool keep)
{
    const struct rval *o = a[0], *keys = NULL;
    struct rkv *kv;
    uint32_t i, n = 0;
    bool conflict;
    int rc;

    NEED(0, RT_OBJ, "object");
    if ((rc = key_set(ev, a[1], &keys)))
        return rc;
    rv_force(o);
    kv = ev_alloc(ev, (o->n + 1) * sizeof(*kv));
    for (i = 0; i < o->n; i++)
        if (vouch_rv_set_has(keys, o->u.o[i].k) == keep)
            kv[n++] = o->u.o[i];
    *ret = vouch_rv_obj(ev->a, kv, n, &conflict);
    return BI_OK;
}

BI(bi_object_remove)
{
    return obj_keep(ev, a, ret, false);
}

BI(bi_object_filter)
{
    return obj_keep(ev, a, ret, true);
}

/* Merge b into a; nested objects merge, anything else b wins. */
static const struct rval *merge(struct ev *ev, const struct rval *x, const struct rval *y)
{
    struct rkv *kv;
    uint32_t i, j, n = 0;
    bool conflict;

    rv_force(x);
    rv_force(y);
    kv = ev_alloc(ev, (x->n + y->n + 1) * sizeof(*kv));
    for (i = 0, j = 0; i < x->n || j < y->n;) {
        int c = i >= x->n ? 1 : j >= y->n ? -1 : vouch_rv_cmp(x->u.o[i].k, y->u.o[j].k);

        if (c < 0) {
            kv[n++] = x->u.o[i++];
        } else if (c > 0) {
            kv[n++] = y->u.o[j++];
        } else {
            kv[n].k = x->u.o[i].k;
            if (x->u.o[i].v->t == RT_OBJ && y->u.o[j].v->t == RT_OBJ)
                kv[n].v = merge(ev, x->u.o[i].v, y->u.o[j].v);
            else
                kv[n].v = y->u.o[j].v;
            n++;
            i++;
            j++;
        }
    }
    return vouch_rv_obj(ev->a, kv, n, &conflict);
}

BI(bi_object_union)
{
    NEED(0, RT_OBJ, "object");
    NEED(1, RT_OBJ, "object");
    *ret = merge(ev, a[0], a[1]);
    return BI_OK;
}

BI(bi_object_union_n)
{
    const struct rval *arr = a[0], *acc = &vouch_rv_empty_obj_v;
    uint32_t i;

    NEED(0, RT_ARR, "array");
    rv_force(arr);
    for (i = 0; i < arr->n; i++) {
        if (arr->u.a[i]->t != RT_OBJ)
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand 1 must be array of objects but got array containing %s",
                                 vouch_rv_type_name(arr->u.a[i]));
        acc = merge(ev, acc, arr->u.a[i]);
    }
    *ret = acc;
    return BI_OK;
}

static bool is_subset(const struct rval *sup, const struct rval *sub);

static bool arr_contains_run(const struct rval *sup, const struct rval *sub)
{
    uint32_t i, j;

    if (sub->n == 0)
        return true;
    for (i = 0; i + sub->n <= sup->n; i++) {
        for (j = 0; j < sub->n; j++)
            if (!rv_eq(sup->u.a[i + j], sub->u.a[j]))
                break;
        if (j == sub->n)
            return true;
    }
    return false;
}

static bool is_subset(const struct rval *sup, const struct rval *sub)
{
    uint32_t i, j;

    rv_force(sup);
    rv_force(sub);
    if (sup->t == RT_OBJ && sub->t == RT_OBJ) {
        for (i = 0; i < sub->n; i++) {
            const struct rval *v = vouch_rv_obj_get(sup, sub->u.o[i].k), *w = sub->u.o[i].v;

            if (!v)
                return false;
            if ((v->t == RT_OBJ && w->t == RT_OBJ) || (v->t == RT_SET && w->t == RT_SET) ||
                (v->t == RT_ARR && w->t == RT_ARR)) {
                if (!is_subset(v, w))
                    return false;
            } else if (!rv_eq(v, w)) {
                return false;
            }
        }
        return true;
    }
    if (sup->t == RT_SET && sub->t == RT_SET) {
        for (i = 0; i < sub->n; i++)
            if (!vouch_rv_set_has(sup, sub->u.a[i]))
                return false;
        return true;
    }
    if (sup->t == RT_ARR && sub->t == RT_ARR)
        return arr_contains_run(sup, sub);
    if (sup->t == RT_ARR && sub->t == RT_SET) {
        for (i = 0; i < sub->n; i++) {
            for (j = 0; j < sup->n; j++)
                if (rv_eq(sup->u.a[j], sub->u.a[i]))
                    break;
            if (j == sup->n)
                return false;
        }
        return true;
    }
    return rv_eq(sup, sub);
}

BI(bi_object_subset)
{
    const struct rval *x = a[0], *y = a[1];

    if (x->t != RT_OBJ && x->t != RT_ARR && x->t != RT_SET)
        return vouch_bi_type(ev, 1, "one of {object, array, set}", x);
    if (y->t != RT_OBJ && y->t != RT_ARR && y->t != RT_SET)
        return vouch_bi_type(ev, 2, "one of {object, array, set}", y);
    if (x->t == RT_OBJ && y->t != RT_OBJ)
        return vouch_bi_type(ev, 2, "object", y);
    if (x->t == RT_SET && y->t != RT_SET)
        return vouch_bi_type(ev, 2, "set", y);
    if (x->t == RT_ARR && y->t == RT_OBJ)
        return vouch_bi_type(ev, 2, "one of {array, set}", y);
    *ret = RV_BOOL(is_subset(x, y));
    return BI_OK;
}

/* ---- arrays ---- */

BI(bi_array_concat)
{
    const struct rval **items;

    NEED(0, RT_ARR, "array");
    NEED(1, RT_ARR, "array");
    rv_force(a[0]);
    rv_force(a[1]);
    items = ev_alloc(ev, (a[0]->n + a[1]->n + 1) * sizeof(*items));
    xmemcpy(items, a[0]->u.a, a[0]->n * sizeof(*items));
    xmemcpy(items + a[0]->n, a[1]->u.a, a[1]->n * sizeof(*items));
    *ret = vouch_rv_arr(ev->a, items, a[0]->n + a[1]->n);
    return BI_OK;
}

BI(bi_array_slice)
{
    int64_t lo, hi;
    int rc;
    const struct rval *arr = a[0];

    NEED(0, RT_ARR, "array");
    if ((rc = vouch_bi_int_arg(ev, a, 1, &lo)) || (rc = vouch_bi_int_arg(ev, a, 2, &hi)))
        return rc;
    rv_force(arr);
    if (lo < 0)
        lo = 0;
    if (hi > (int64_t)arr->n)
        hi = arr->n;
    if (lo >= hi) {
        *ret = &vouch_rv_empty_arr_v;
        return BI_OK;
    }
    *ret = vouch_rv_arr(ev->a, (const struct rval **)arr->u.a + lo, (uint32_t)(hi - lo));
    return BI_OK;
}

BI(bi_array_reverse)
{
    const struct rval **items;
    uint32_t i, n;

    NEED(0, RT_ARR, "array");
    n = rv_len(a[0]);
    items = ev_alloc(ev, (n + 1) * sizeof(*items));
    for (i = 0; i < n; i++)
        items[i] = a[0]->u.a[n - 1 - i];
    *ret = vouch_rv_arr(ev->a, items, n);
    return BI_OK;
}

/* One level, as OPA's array.flatten. */
static void flatten(struct ev *ev, const struct rval *v, struct ra_vec *out)
{
    uint32_t i, j;

    rv_force(v);
    for (i = 0; i < v->n; i++) {
        const struct rval *x = v->u.a[i];

        if (x->t == RT_ARR) {
            rv_force(x);
            for (j = 0; j < x->n; j++)
                vouch_ra_vec_push(ev->a, out, (void *)x->u.a[j]);
        } else {
            vouch_ra_vec_push(ev->a, out, (void *)x);
        }
    }
}

BI(bi_array_flatten)
{
    struct ra_vec out = { 0 };

    NEED(0, RT_ARR, "array");
    flatten(ev, a[0], &out);
    *ret = vouch_rv_arr(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* ---- walk ---- */

static void walk_all(struct ev *ev, const struct rval *v, const struct rval **path, uint32_t depth,
                     struct ra_vec *out)
{
    const struct rval **pair = ev_alloc(ev, 2 * sizeof(*pair)), **p;
    uint32_t i;

    if (depth > 1000)
        vouch_ev_fail(ev, VOUCH_E_LIMIT, "eval_limit_error: value nested too deeply");
    vouch_ev_step(ev);
    p = ev_alloc(ev, (depth + 1) * sizeof(*p));
    xmemcpy(p, path, depth * sizeof(*p));
    pair[0] = vouch_rv_arr(ev->a, p, depth);
    pair[1] = v;
    vouch_ra_vec_push(ev->a, out, (void *)vouch_rv_arr(ev->a, pair, 2));
    rv_force(v);
    switch (v->t) {
    case RT_ARR:
        for (i = 0; i < v->n; i++) {
            p = ev_alloc(ev, (depth + 1) * sizeof(*p));
            xmemcpy(p, path, depth * sizeof(*p));
            p[depth] = vouch_rv_int(ev->a, i);
            walk_all(ev, v->u.a[i], p, depth + 1, out);
        }
        break;
    case RT_OBJ:
        for (i = 0; i < v->n; i++) {
            p = ev_alloc(ev, (depth + 1) * sizeof(*p));
            xmemcpy(p, path, depth * sizeof(*p));
            p[depth] = v->u.o[i].k;
            walk_all(ev, v->u.o[i].v, p, depth + 1, out);
        }
        break;
    case RT_SET:
        for (i = 0; i < v->n; i++) {
            p = ev_alloc(ev, (depth + 1) * sizeof(*p));
            xmemcpy(p, path, depth * sizeof(*p));
            p[depth] = v->u.a[i];
            walk_all(ev, v->u.a[i], p, depth + 1, out);
        }
        break;
    default:
        break;
    }
}

BI(bi_walk)
{
    struct ra_vec out = { 0 };

    walk_all(ev, a[0], NULL, 0, &out);
    *ret = vouch_rv_arr(ev->a, (const struct rval **)out.v, out.n);
    return BI_OK;
}

/* ---- JSON ---- */

BI(bi_json_marshal)
{
    struct sbuf b;

    vouch_sb_init(&b, ev);
    vouch_sb_value(&b, a[0], true);
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

static void indent_json(struct sbuf *out, const char *s, size_t n, const struct rval *prefix,
                        const struct rval *indent)
{
    size_t i;
    int depth = 0, k;
    bool in_str = false;

    vouch_sb_put(out, prefix->u.s, prefix->n);
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (in_str) {
            vouch_sb_putc(out, c);
            if (c == '\\' && i + 1 < n)
                vouch_sb_putc(out, s[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            vouch_sb_putc(out, c);
            break;
        case '[':
        case '{':
            vouch_sb_putc(out, c);
            if (i + 1 < n && (s[i + 1] == ']' || s[i + 1] == '}')) {
                vouch_sb_putc(out, s[++i]);
                break;
            }
            depth++;
            vouch_sb_putc(out, '\n');
            vouch_sb_put(out, prefix->u.s, prefix->n);
            for (k = 0; k < depth; k++)
                vouch_sb_put(out, indent->u.s, indent->n);
            break;
        case ']':
        case '}':
            depth--;
            vouch_sb_putc(out, '\n');
            vouch_sb_put(out, prefix->u.s, prefix->n);
            for (k = 0; k < depth; k++)
                vouch_sb_put(out, indent->u.s, indent->n);
            vouch_sb_putc(out, c);
            break;
        case ',':
            vouch_sb_putc(out, c);
            vouch_sb_putc(out, '\n');
            vouch_sb_put(out, prefix->u.s, prefix->n);
            for (k = 0; k < depth; k++)
                vouch_sb_put(out, indent->u.s, indent->n);
            break;
        case ':':
            vouch_sb_put(out, ": ", 2);
            break;
        default:
            vouch_sb_putc(out, c);
        }
    }
}

BI(bi_json_marshal_with_options)
{
    const struct rval *opts = a[1], *prefix = &vouch_rv_empty_str_v, *indent = NULL;
    bool pretty = false, pretty_set = false;
    struct sbuf b, o;
    uint32_t i;

    NEED(1, RT_OBJ, "object");
    rv_force(opts);
    for (i = 0; i < opts->n; i++) {
        const struct rval *k = opts->u.o[i].k, *v = opts->u.o[i].v;

        if (k->t == RT_STR && k->n == 6 && !memcmp(k->u.s, "pretty", 6)) {
            if (v->t != RT_BOOL)
                return vouch_bi_fail(ev, BI_ERR_TYPE, "pretty must be a boolean");
            pretty = v->u.i;
            pretty_set = true;
        } else if (k->t == RT_STR && k->n == 6 && !memcmp(k->u.s, "prefix", 6)) {
            if (v->t != RT_STR)
                return vouch_bi_fail(ev, BI_ERR_TYPE, "prefix must be a string");
            prefix = v;
        } else if (k->t == RT_STR && k->n == 6 && !memcmp(k->u.s, "indent", 6)) {
            if (v->t != RT_STR)
                return vouch_bi_fail(ev, BI_ERR_TYPE, "indent must be a string");
            indent = v;
        } else {
            struct sbuf kb;

            vouch_sb_init(&kb, ev);
            vouch_sb_value(&kb, k, false);
            return vouch_bi_fail(ev, BI_ERR_TYPE, "object contained unknown key %.*s", (int)kb.n,
                                 kb.p);
        }
    }
    if (!pretty_set && (prefix->n || indent))
        pretty = true;
    vouch_sb_init(&b, ev);
    vouch_sb_value(&b, a[0], true);
    if (!pretty) {
        *ret = vouch_sb_val(&b);
        return BI_OK;
    }
    if (!indent)
        indent = vouch_rv_str(ev->a, "\t", 1);
    vouch_sb_init(&o, ev);
    indent_json(&o, b.p, b.n, prefix, indent);
    *ret = vouch_sb_val(&o);
    return BI_OK;
}

BI(bi_json_unmarshal)
{
    struct vouch_errbuf eb;
    const struct rval *v;

    NEED(0, RT_STR, "string");
    if (vouch_rv_parse_json(ev->a, a[0]->u.s, a[0]->n, 512, &v, &eb))
        return vouch_bi_fail(ev, BI_ERR, "%s", eb.msg);
    *ret = v;
    return BI_OK;
}

BI(bi_json_is_valid)
{
    struct vouch_errbuf eb;
    const struct rval *v;

    if (a[0]->t != RT_STR) {
        *ret = RV_FALSE;
        return BI_OK;
    }
    *ret = RV_BOOL(vouch_rv_parse_json(ev->a, a[0]->u.s, a[0]->n, 512, &v, &eb) == VOUCH_OK);
    return BI_OK;
}

/* ---- encodings ---- */

static int b64_enc(struct ev *ev, const struct rval *const *a, const struct rval **ret, int flags)
{
    size_t n;
    char *out;

    NEED(0, RT_STR, "string");
    n = vouch_b64_encoded_len(a[0]->n, flags);
    out = ev_alloc(ev, n + 1);
    vouch_b64_encode(a[0]->u.s, a[0]->n, flags, out);
    *ret = vouch_rv_str_ref(ev->a, out, n);
    return BI_OK;
}

static int b64_dec(struct ev *ev, const struct rval *const *a, const struct rval **ret, int flags)
{
    uint8_t *out;
    size_t n;
    struct vouch_errbuf eb;

    NEED(0, RT_STR, "string");
    char *copy;

    if (vouch_b64_decode(a[0]->u.s, a[0]->n, flags | VOUCH_B64_LAX_BITS, a[0]->n, &out, &n, &eb))
        return vouch_bi_fail(ev, BI_ERR, "illegal base64 data: %s", eb.msg);
    copy = vouch_ra_alloc(ev->a, n + 1);
    if (!copy) {
        free(out);
        vouch_ra_fail(ev->a);
    }
    xmemcpy(copy, out, n);
    free(out);
    *ret = vouch_rv_str_ref(ev->a, copy, n);
    return BI_OK;
}

BI(bi_b64_encode)
{
    return b64_enc(ev, a, ret, VOUCH_B64_STD);
}

BI(bi_b64_decode)
{
    return b64_dec(ev, a, ret, VOUCH_B64_STD);
}

BI(bi_b64_is_valid)
{
    uint8_t *out;
    size_t n;

    NEED(0, RT_STR, "string");
    vouch_ev_charge_scan(ev, a[0]->n);
    if (vouch_b64_decode(a[0]->u.s, a[0]->n, VOUCH_B64_STD | VOUCH_B64_LAX_BITS, a[0]->n, &out,
                         &n, NULL)) {
        *ret = RV_FALSE;
        return BI_OK;
    }
    free(out);
    *ret = RV_TRUE;
    return BI_OK;
}

BI(bi_b64url_encode)
{
    return b64_enc(ev, a, ret, VOUCH_B64_URL);
}

BI(bi_b64url_encode_nopad)
{
    return b64_enc(ev, a, ret, VOUCH_B64_URL | VOUCH_B64_NOPAD);
}

BI(bi_b64url_decode)
{
    return b64_dec(ev, a, ret, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL);
}

BI(bi_hex_encode)
{
    char *out;

    NEED(0, RT_STR, "string");
    out = ev_alloc(ev, 2 * (size_t)a[0]->n + 1);
    vouch_hex_encode(a[0]->u.s, a[0]->n, out);
    *ret = vouch_rv_str_ref(ev->a, out, 2 * (size_t)a[0]->n);
    return BI_OK;
}

BI(bi_hex_decode)
{
    const char *s;
    size_t n, i;
    char *out;

    NEED(0, RT_STR, "string");
    s = a[0]->u.s;
    n = a[0]->n;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            if ((unsigned char)c < 0x80)
                return vouch_bi_fail(ev, BI_ERR, "encoding/hex: invalid byte: U+%04X '%c'",
                                     (unsigned char)c, c >= 0x20 ? c : '?');
            return vouch_bi_fail(ev, BI_ERR, "encoding/hex: invalid byte");
        }
    }
    if (n % 2)
        return vouch_bi_fail(ev, BI_ERR, "encoding/hex: odd length hex string");
    out = ev_alloc(ev, n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        unsigned char hi = (unsigned char)s[2 * i], lo = (unsigned char)s[2 * i + 1];

        out[i] = (char)((vouch_hex_digit(hi) << 4) | vouch_hex_digit(lo));
    }
    *ret = vouch_rv_str_ref(ev->a, out, n / 2);
    return BI_OK;
}

/* ---- url query ---- */

BI(bi_urlquery_encode)
{
    struct sbuf b;

    NEED(0, RT_STR, "string");
    vouch_sb_init(&b, ev);
    vouch_sb_url_escape(&b, a[0]->u.s, a[0]->n);
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

BI(bi_urlquery_decode)
{
    struct sbuf b;
    size_t bad, n;

    NEED(0, RT_STR, "string");
    n = a[0]->n;
    vouch_sb_init(&b, ev);
    if (!vouch_sb_url_unescape(&b, a[0]->u.s, n, &bad))
        return vouch_bi_fail(ev, BI_ERR, "invalid URL escape \"%.*s\"",
                             (int)(bad + 2 >= n ? n - bad : 3), a[0]->u.s + bad);
    *ret = vouch_sb_val(&b);
    return BI_OK;
}

/* ---- bits ---- */

static int bits2(struct ev *ev, const struct rval *const *a, const struct rval **ret, char op)
{
    int64_t x, y;
    int rc;

    if ((rc = vouch_bi_int_arg(ev, a, 0, &x)) || (rc = vouch_bi_int_arg(ev, a, 1, &y)))
        return rc;
    switch (op) {
    case '&':
        *ret = vouch_rv_int(ev->a, x & y);
        break;
    case '|':
        *ret = vouch_rv_int(ev->a, x | y);
        break;
    case '^':
        *ret = vouch_rv_int(ev->a, x ^ y);
        break;
    case '<':
        if (y < 0)
            return vouch_bi_fail(
                ev, BI_ERR_TYPE,
                "operand 2 must be an unsigned integer number but got a negative integer");
        if (y >= 63 || (x != 0 && (x > (INT64_MAX >> y) || x < (INT64_MIN >> y)))) {
            /* beyond int64: x * 2^y in decimal, 2^y by squaring */
            struct rdec d, p, r;
            uint8_t b1[20], b2[20];

            if (y > 4096)
                return vouch_bi_fail(ev, BI_ERR, "shift count too large");
            vouch_rdec_from_i64(&d, x, b1);
            vouch_rdec_from_i64(&p, 2, b2);
            while (y) {
                /* a product of n and m digits is n * m digit operations */
                vouch_ev_charge(ev, ((uint64_t)d.nd * p.nd + (uint64_t)p.nd * p.nd) / 64 + 1);
                if (y & 1) {
                    if (!vouch_rdec_mul(ev->a, &d, &p, &r))
                        return vouch_bi_fail(ev, BI_ERR, "number out of range");
                    d = r;
                }
                y >>= 1;
                if (y) {
                    if (!vouch_rdec_mul(ev->a, &p, &p, &r))
                        return vouch_bi_fail(ev, BI_ERR, "number out of range");
                    p = r;
                }
            }
            *ret = vouch_rv_dec(ev->a, &d);
            return BI_OK;
        }
        *ret = vouch_rv_int(ev->a, (int64_t)((uint64_t)x << y));
        break;
    default:
        if (y < 0)
            return vouch_bi_fail(
                ev, BI_ERR_TYPE,
                "operand 2 must be an unsigned integer number but got a negative integer");
        *ret = vouch_rv_int(ev->a, y >= 63 ? (x < 0 ? -1 : 0) : x >> y);
        break;
    }
    return BI_OK;
}

BI(bi_bits_and)
{
    return bits2(ev, a, ret, '&');
}

BI(bi_bits_or)
{
    return bits2(ev, a, ret, '|');
}

BI(bi_bits_xor)
{
    return bits2(ev, a, ret, '^');
}

BI(bi_bits_lsh)
{
    return bits2(ev, a, ret, '<');
}

BI(bi_bits_rsh)
{
    return bits2(ev, a, ret, '>');
}

BI(bi_bits_negate)
{
    int64_t x;
    int rc;

    if ((rc = vouch_bi_int_arg(ev, a, 0, &x)))
        return rc;
    *ret = vouch_rv_int(ev->a, ~x);
    return BI_OK;
}

/* ---- json.filter / json.remove ---- */

struct ptrie {
    const struct rval *key;     /* a segment: string, or what an array path held */
    bool leaf;
    struct ra_vec kids;         /* struct ptrie * */
};

static struct ptrie *ptrie_child(struct ev *ev, struct ptrie *t, const struct rval *key)
{
    struct ptrie *c;
    uint32_t i;

    for (i = 0; i < t->kids.n; i++) {
        c = t->kids.v[i];
        if (rv_eq(c->key, key))
            return c;
    }
    c = ev_alloc(ev, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->key = key;
    vouch_ra_vec_push(ev->a, &t->kids, c);
    return c;
}

/* Does a segment name this member: an object key, or an array index
 * (a number, or a string of digits)? */
static bool seg_is(const struct rval *seg, const struct rval *key, bool index)
{
    if (!index)
        return rv_eq(seg, key);
    if (seg->t == RT_NUM)
        return rv_eq(seg, key);
    if (seg->t == RT_STR) {
        int64_t want;
        uint32_t i;

        if (!vouch_rv_to_i64(key, &want) || seg->n == 0 || seg->n > 18)
            return false;
        for (i = 0; i < seg->n; i++)
            if (seg->u.s[i] < '0' || seg->u.s[i] > '9')
                return false;
        return strtoll(seg->u.s, NULL, 10) == want && (seg->n == 1 || seg->u.s[0] != '0');
    }
    return false;
}

static struct ptrie *ptrie_find(const struct ptrie *t, const struct rval *key, bool index)
{
    uint32_t i;

    for (i = 0; i < t->kids.n; i++) {
        struct ptrie *c = t->kids.v[i];

        if (seg_is(c->key, key, index))
            return c;
    }
    return NULL;
}

static int build_paths(struct ev *ev, const struct rval *paths, const char *fname,
                       struct ptrie *root)
{
    uint32_t i;

    if (paths->t != RT_ARR && paths->t != RT_SET)
        return vouch_bi_type(ev, 2, "one of {set, array}", paths);
    rv_force(paths);
    memset(root, 0, sizeof(*root));
    for (i = 0; i < paths->n; i++) {
        const struct rval *p = paths->u.a[i];
        struct ptrie *t = root;

        if (p->t == RT_STR) {
            const char *s = p->u.s, *end = s + p->n, *q;

            if (s < end && *s == '/')
                s++;
            while (s <= end) {
                struct sbuf seg;

                for (q = s; q < end && *q != '/'; q++)
                    ;
                vouch_sb_init(&seg, ev);
                /* JSON pointer escapes */
                for (; s < q; s++) {
                    if (*s == '~' && s + 1 < q && (s[1] == '0' || s[1] == '1')) {
                        vouch_sb_putc(&seg, s[1] == '0' ? '~' : '/');
                        s++;
                    } else {
                        vouch_sb_putc(&seg, *s);
                    }
                }
                t = ptrie_child(ev, t, vouch_sb_val(&seg));
                s = q + 1;
            }
        } else if (p->t == RT_ARR) {
            uint32_t j;

            rv_force(p);
            for (j = 0; j < p->n; j++)
                t = ptrie_child(ev, t, p->u.a[j]);
        } else {
            return vouch_bi_fail(ev, BI_ERR_TYPE,
                                 "operand 2 must be one of {set, array} containing string paths or "
                                 "array of path segments but got %s",
                                 vouch_rv_type_name(p));
        }
        t->leaf = true;
    }
    (void)fname;
    return BI_OK;
}

static const struct rval *jfilter(struct ev *ev, const struct rval *v, const struct ptrie *t)
{
    uint32_t i, n = 0;

    vouch_ev_step(ev);
    if (t->leaf)
        return v;
    rv_force(v);
    if (v->t == RT_OBJ) {
        struct rkv *kv = ev_alloc(ev, (v->n + 1) * sizeof(*kv));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, v->u.o[i].k, false);
            const struct rval *x;

            if (c && (x = jfilter(ev, v->u.o[i].v, c)) != NULL) {
                kv[n].k = v->u.o[i].k;
                kv[n++].v = x;
            }
        }
        return vouch_rv_obj_sorted(ev->a, kv, n);
    }
    if (v->t == RT_ARR) {
        const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, vouch_rv_int(ev->a, i), true);
            const struct rval *x;

            if (c && (x = jfilter(ev, v->u.a[i], c)) != NULL)
                items[n++] = x;
        }
        return vouch_rv_arr(ev->a, items, n);
    }
    if (v->t == RT_SET) {
        const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, v->u.a[i], false);
            const struct rval *x;

            if (c && (x = jfilter(ev, v->u.a[i], c)) != NULL)
                items[n++] = x;
        }
        return vouch_rv_set(ev->a, items, n);
    }
    return NULL;
}

static const struct rval *jremove(struct ev *ev, const struct rval *v, const struct ptrie *t)
{
    uint32_t i, n = 0;

    vouch_ev_step(ev);
    if (t->leaf)
        return NULL;
    rv_force(v);
    if (v->t == RT_OBJ) {
        struct rkv *kv = ev_alloc(ev, (v->n + 1) * sizeof(*kv));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, v->u.o[i].k, false);
            const struct rval *x = c ? jremove(ev, v->u.o[i].v, c) : v->u.o[i].v;

            if (x) {
                kv[n].k = v->u.o[i].k;
                kv[n++].v = x;
            }
        }
        return vouch_rv_obj_sorted(ev->a, kv, n);
    }
    if (v->t == RT_ARR) {
        const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, vouch_rv_int(ev->a, i), true);
            const struct rval *x = c ? jremove(ev, v->u.a[i], c) : v->u.a[i];

            if (x)
                items[n++] = x;
        }
        return vouch_rv_arr(ev->a, items, n);
    }
    if (v->t == RT_SET) {
        const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));

        for (i = 0; i < v->n; i++) {
            const struct ptrie *c = ptrie_find(t, v->u.a[i], false);
            const struct rval *x = c ? jremove(ev, v->u.a[i], c) : v->u.a[i];

            if (x)
                items[n++] = x;
        }
        return vouch_rv_set(ev->a, items, n);
    }
    return v;
}

BI(bi_json_filter)
{
    struct ptrie root;
    const struct rval *r;
    int rc;

    NEED(0, RT_OBJ, "object");
    if ((rc = build_paths(ev, a[1], "json.filter", &root)))
        return rc;
    r = jfilter(ev, a[0], &root);
    *ret = r ? r : &vouch_rv_empty_obj_v;
    return BI_OK;
}

BI(bi_json_remove)
{
    struct ptrie root;
    const struct rval *r;
    int rc;

    NEED(0, RT_OBJ, "object");
    if ((rc = build_paths(ev, a[1], "json.remove", &root)))
        return rc;
    r = jremove(ev, a[0], &root);
    *ret = r ? r : &vouch_rv_empty_obj_v;
    return BI_OK;
}

/* ---- json.patch (RFC 6902, with sets as OPA extends it) ---- */

enum { JP_ADD, JP_REMOVE, JP_REPLACE };

static bool jp_path(struct ev *ev, const struct rval *p, const struct rval ***ret, uint32_t *ret_n)
{
    struct ra_vec segs = { 0 };

    if (p->t == RT_ARR) {
        rv_force(p);
        *ret = (const struct rval **)p->u.a;
        *ret_n = p->n;
        return true;
    }
    if (p->t != RT_STR)
        return false;
    {
        const char *s = p->u.s, *end = s + p->n, *q;

        if (s < end && *s == '/')
            s++;
        else if (s == end) {
            *ret = NULL;
            *ret_n = 0;
            return true;
        }
        while (s <= end) {
            struct sbuf seg;

            for (q = s; q < end && *q != '/'; q++)
                ;
            vouch_sb_init(&seg, ev);
            for (; s < q; s++) {
                if (*s == '~' && s + 1 < q && (s[1] == '0' || s[1] == '1')) {
                    vouch_sb_putc(&seg, s[1] == '0' ? '~' : '/');
                    s++;
                } else {
                    vouch_sb_putc(&seg, *s);
                }
            }
            vouch_ra_vec_push(ev->a, &segs, (void *)vouch_sb_val(&seg));
            s = q + 1;
        }
    }
    *ret = (const struct rval **)segs.v;
    *ret_n = segs.n;
    return true;
}

/* An array index from a path segment; -1 for "-", -2 when not an index. */
static int64_t jp_index(const struct rval *seg)
{
    int64_t i;
    uint32_t k;

    if (seg->t == RT_NUM)
        return vouch_rv_to_i64(seg, &i) && i >= 0 ? i : -2;
    if (seg->t != RT_STR || seg->n == 0 || seg->n > 18)
        return -2;
    if (seg->n == 1 && seg->u.s[0] == '-')
        return -1;
    for (k = 0; k < seg->n; k++)
        if (seg->u.s[k] < '0' || seg->u.s[k] > '9')
            return -2;
    if (seg->n > 1 && seg->u.s[0] == '0')
        return -2;
    return strtoll(seg->u.s, NULL, 10);
}

static const struct rval *jp_child(const struct rval *v, const struct rval *seg)
{
    int64_t i;

    rv_force(v);
    switch (v->t) {
    case RT_OBJ:
        return vouch_rv_obj_get(v, seg);
    case RT_ARR:
        i = jp_index(seg);
        return i >= 0 && (uint64_t)i < v->n ? v->u.a[i] : NULL;
    case RT_SET:
        return vouch_rv_set_has(v, seg) ? seg : NULL;
    default:
        return NULL;
    }
}

static const struct rval *jp_get(const struct rval *v, const struct rval *const *p, uint32_t n)
{
    uint32_t i;

    for (i = 0; i < n && v; i++)
        v = jp_child(v, p[i]);
    return v;
}

/* Container v with its child at seg replaced by nc. */
static const struct rval *jp_put_child(struct ev *ev, const struct rval *v,
                                       const struct rval *seg, const struct rval *nc)
{
    const struct rval **items;
    struct rkv *kv;
    uint32_t i;

    switch (v->t) {
    case RT_OBJ:
        kv = ev_alloc(ev, v->n * sizeof(*kv));
        for (i = 0; i < v->n; i++) {
            kv[i] = v->u.o[i];
            if (rv_eq(kv[i].k, seg))
                kv[i].v = nc;
        }
        return vouch_rv_obj_sorted(ev->a, kv, v->n);
    case RT_ARR:
        items = ev_alloc(ev, v->n * sizeof(*items));
        xmemcpy(items, v->u.a, v->n * sizeof(*items));
        items[jp_index(seg)] = nc;
        return vouch_rv_arr(ev->a, items, v->n);
    default:
        items = ev_alloc(ev, v->n * sizeof(*items));
        for (i = 0; i < v->n; i++)
            items[i] = rv_eq(v->u.a[i], seg) ? nc : v->u.a[i];
        return vouch_rv_set(ev->a, items, v->n);
    }
}

/* Object v with member seg added, replaced or removed. */
static const struct rval *jp_change_obj(struct ev *ev, const struct rval *v,
                                        const struct rval *seg, int op,
                                        const struct rval *val, const char **err)
{
    struct rkv *kv = ev_alloc(ev, (v->n + 1) * sizeof(*kv));
    bool found = false, conflict;
    uint32_t i, m = 0;

    for (i = 0; i < v->n; i++) {
        if (rv_eq(v->u.o[i].k, seg)) {
            found = true;
            if (op == JP_REMOVE)
                continue;
            kv[m].k = seg;
            kv[m++].v = val;
            continue;
        }
        kv[m++] = v->u.o[i];
    }
    if (!found) {
        if (op != JP_ADD) {
            *err = "path does not exist";
            return NULL;
        }
        kv[m].k = seg;
        kv[m++].v = val;
    }
    return vouch_rv_obj(ev->a, kv, m, &conflict);
}

/* Array v with an element inserted at seg ("-": the end), replaced or removed. */
static const struct rval *jp_change_arr(struct ev *ev, const struct rval *v,
                                        const struct rval *seg, int op,
                                        const struct rval *val, const char **err)
{
    int64_t idx = jp_index(seg);
    const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));
    uint32_t i, m = 0;

    if (idx == -1 && op == JP_ADD)
        idx = v->n;
    if (idx < 0 || (op == JP_ADD ? (uint64_t)idx > v->n : (uint64_t)idx >= v->n)) {
        *err = "array index out of range";
        return NULL;
    }
    for (i = 0; i < v->n; i++) {
        if (i == idx) {
            if (op == JP_ADD) {
                items[m++] = val;
                items[m++] = v->u.a[i];
            } else if (op == JP_REPLACE) {
                items[m++] = val;
            }
            continue;
        }
        items[m++] = v->u.a[i];
    }
    if (op == JP_ADD && idx == v->n)
        items[m++] = val;
    return vouch_rv_arr(ev->a, items, m);
}

/* Set v with element seg added (val must equal it), replaced or removed. */
static const struct rval *jp_change_set(struct ev *ev, const struct rval *v,
                                        const struct rval *seg, int op,
                                        const struct rval *val, const char **err)
{
    const struct rval **items = ev_alloc(ev, (v->n + 1) * sizeof(*items));
    uint32_t i, m = 0;

    if (op == JP_ADD) {
        if (!rv_eq(seg, val)) {
            *err = "set element and path differ";
            return NULL;
        }
        xmemcpy(items, v->u.a, v->n * sizeof(*items));
        items[v->n] = val;
        return vouch_rv_set(ev->a, items, v->n + 1);
    }
    if (!vouch_rv_set_has(v, seg)) {
        *err = "path does not exist";
        return NULL;
    }
    for (i = 0; i < v->n; i++)
        if (!rv_eq(v->u.a[i], seg))
            items[m++] = v->u.a[i];
    if (op == JP_REPLACE)
        items[m++] = val;
    return vouch_rv_set(ev->a, items, m);
}

/* The document with one change at path p; NULL (and *err) when it cannot apply. */
static const struct rval *jp_apply(struct ev *ev, const struct rval *v,
                                   const struct rval *const *p, uint32_t n, int op,
                                   const struct rval *val, const char **err)
{
    const struct rval *seg, *c, *nc;

    vouch_ev_step(ev);
    if (n == 0) {
        if (op == JP_REMOVE) {
            *err = "cannot remove the whole document";
            return NULL;
        }
        return val;
    }
    seg = p[0];
    rv_force(v);
    if (n > 1) {
        c = jp_child(v, seg);
        if (!c) {
            *err = "path does not exist";
            return NULL;
        }
        nc = jp_apply(ev, c, p + 1, n - 1, op, val, err);
        return nc ? jp_put_child(ev, v, seg, nc) : NULL;
    }
    switch (v->t) {
    case RT_OBJ:
        return jp_change_obj(ev, v, seg, op, val, err);
    case RT_ARR:
        return jp_change_arr(ev, v, seg, op, val, err);
    case RT_SET:
        return jp_change_set(ev, v, seg, op, val, err);
    default:
        *err = "path does not exist";
        return NULL;
    }
}

static bool is_prefix(const struct rval *const *a, uint32_t na, const struct rval *const *b,
                      uint32_t nb)
{
    uint32_t i;

    if (na > nb)
        return false;
    for (i = 0; i < na; i++)
        if (!rv_eq(a[i], b[i]))
            return false;
    return true;
}

BI(bi_json_patch)
{
    const struct rval *doc = a[0], *ops = a[1];
    uint32_t i;

    NEED(1, RT_ARR, "array");
    rv_force(ops);
    for (i = 0; i < ops->n; i++) {
        const struct rval *o = ops->u.a[i], *opn, *path, *from, *val, *cur;
        const struct rval **p, **f;
        uint32_t np, nf;
        const char *err = "invalid patch";

        if (o->t != RT_OBJ)
            return vouch_bi_type(ev, 2, "array of objects", ops);
        opn = vouch_rv_obj_getn(o, "op", 2);
        path = vouch_rv_obj_getn(o, "path", 4);
        val = vouch_rv_obj_getn(o, "value", 5);
        from = vouch_rv_obj_getn(o, "from", 4);
        if (!opn || opn->t != RT_STR || !path || !jp_path(ev, path, &p, &np))
            return vouch_bi_fail(ev, BI_ERR, "invalid patch operation");
#define OPIS(w) (opn->n == strlen(w) && memcmp(opn->u.s, w, opn->n) == 0)
        if (OPIS("add") || OPIS("replace")) {
            if (!val)
                return vouch_bi_fail(ev, BI_ERR, "missing value");
            doc = jp_apply(ev, doc, p, np, OPIS("add") ? JP_ADD : JP_REPLACE, val, &err);
        } else if (OPIS("remove")) {
            doc = jp_apply(ev, doc, p, np, JP_REMOVE, NULL, &err);
        } else if (OPIS("move") || OPIS("copy")) {
            if (!from || !jp_path(ev, from, &f, &nf))
                return vouch_bi_fail(ev, BI_ERR, "missing from");
            cur = jp_get(doc, f, nf);
            if (!cur)
                return vouch_bi_fail(ev, BI_ERR, "from path does not exist");
            if (OPIS("move")) {
                if (nf < np && is_prefix(f, nf, p, np))
                    return vouch_bi_fail(ev, BI_ERR, "cannot move a value into itself");
                doc = jp_apply(ev, doc, f, nf, JP_REMOVE, NULL, &err);
            }
            if (doc)
                doc = jp_apply(ev, doc, p, np, JP_ADD, cur, &err);
        } else if (OPIS("test")) {
            cur = jp_get(doc, p, np);
            if (!cur || !val || !rv_eq(cur, val))
                return vouch_bi_fail(ev, BI_ERR, "test failed");
        } else {
            return vouch_bi_fail(ev, BI_ERR, "unknown patch operation");
        }
#undef OPIS
        if (!doc)
            return vouch_bi_fail(ev, BI_ERR, "%s", err);
    }
    *ret = doc;
    return BI_OK;
}

const struct builtin vouch_bi_objects_table[] = {
    { "object.get", 3, 0, bi_object_get },
    { "object.keys", 1, 0, bi_object_keys },
    { "object.remove", 2, 0, bi_object_remove },
    { "object.filter", 2, 0, bi_object_filter },
    { "object.union", 2, 0, bi_object_union },
    { "object.union_n", 1, 0, bi_object_union_n },
    { "object.subset", 2, 0, bi_object_subset },
    { "array.concat", 2, 0, bi_array_concat },
    { "array.slice", 3, 0, bi_array_slice },
    { "array.reverse", 1, 0, bi_array_reverse },
    { "array.flatten", 1, 0, bi_array_flatten },
    { "walk", 1, BI_REL, bi_walk },
    { "json.filter", 2, 0, bi_json_filter },
    { "json.remove", 2, 0, bi_json_remove },
    { "json.patch", 2, 0, bi_json_patch },
    { "json.marshal", 1, 0, bi_json_marshal },
    { "json.marshal_with_options", 2, 0, bi_json_marshal_with_options },
    { "json.unmarshal", 1, 0, bi_json_unmarshal },
    { "json.is_valid", 1, 0, bi_json_is_valid },
    { "base64.encode", 1, 0, bi_b64_encode },
    { "base64.decode", 1, 0, bi_b64_decode },
    { "base64.is_valid", 1, 0, bi_b64_is_valid },
    { "base64url.encode", 1, 0, bi_b64url_encode },
    { "base64url.encode_no_pad", 1, 0, bi_b64url_encode_nopad },
    { "base64url.decode", 1, 0, bi_b64url_decode },
    { "hex.encode", 1, 0, bi_hex_encode },
    { "hex.decode", 1, 0, bi_hex_decode },
    { "urlquery.encode", 1, 0, bi_urlquery_encode },
    { "urlquery.decode", 1, 0, bi_urlquery_decode },
    { "bits.and", 2, 0, bi_bits_and },
    { "bits.or", 2, 0, bi_bits_or },
    { "bits.xor", 2, 0, bi_bits_xor },
    { "bits.lsh", 2, 0, bi_bits_lsh },
    { "bits.rsh", 2, 0, bi_bits_rsh },
    { "bits.negate", 1, 0, bi_bits_negate },
};

const size_t vouch_bi_objects_count =
    sizeof(vouch_bi_objects_table) / sizeof(vouch_bi_objects_table[0]);
