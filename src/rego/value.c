/* SPDX-License-Identifier: Apache-2.0 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "rego/rego.h"
#include "rego/value.h"

const struct rval vouch_rv_null_v = { .t = RT_NULL };
const struct rval vouch_rv_true_v = { .t = RT_BOOL, .u.i = 1 };
const struct rval vouch_rv_false_v = { .t = RT_BOOL, .u.i = 0 };
const struct rval vouch_rv_empty_str_v = { .t = RT_STR, .u.s = "" };
const struct rval vouch_rv_empty_arr_v = { .t = RT_ARR };
const struct rval vouch_rv_empty_obj_v = { .t = RT_OBJ };
const struct rval vouch_rv_empty_set_v = { .t = RT_SET };

const char *vouch_rv_type_name(const struct rval *v)
{
    switch (v->t) {
    case RT_NULL: return "null";
    case RT_BOOL: return "boolean";
    case RT_NUM: return "number";
    case RT_STR: return "string";
    case RT_ARR: return "array";
    case RT_OBJ: return "object";
    case RT_SET: return "set";
    }
    return "unknown";
}

static struct rval *new_val(struct rarena *a, uint8_t t)
{
    struct rval *v = vouch_ra_xalloc(a, sizeof(*v));

    v->t = t;
    v->flags = 0;
    v->n = 0;
    v->u.i = 0;
    return v;
}

/* Small non-negative integers (array indices, counts) are shared. */
#define SMALL_INTS 1024
static struct rval small_ints[SMALL_INTS];

__attribute__((constructor)) static void init_small_ints(void)
{
    int i;

    for (i = 0; i < SMALL_INTS; i++) {
        small_ints[i].t = RT_NUM;
        small_ints[i].u.i = i;
    }
}

const struct rval *vouch_rv_int(struct rarena *a, int64_t i)
{
    struct rval *v;

    if (i >= 0 && i < SMALL_INTS)
        return &small_ints[i];
    v = new_val(a, RT_NUM);
    v->u.i = i;
    return v;
}

static const struct rval *big_from(struct rarena *a, const struct rdec *d, const char *text,
                                   size_t textlen)
{
    struct rbig *b = vouch_ra_xalloc(a, sizeof(*b) + d->nd);
    struct rval *v;

    xmemcpy((uint8_t *)(b + 1), d->d, d->nd);
    b->dec = *d;
    b->dec.d = (const uint8_t *)(b + 1);
    b->text = text ? vouch_ra_xstrndup(a, text, textlen) : NULL;
    b->textlen = text ? (uint32_t)textlen : 0;
    v = new_val(a, RT_NUM);
    v->flags = RVF_BIG;
    v->u.big = b;
    return v;
}

const struct rval *vouch_rv_dec(struct rarena *a, const struct rdec *d)
{
    int64_t i;

    if (vouch_rdec_to_i64(d, &i))
        return vouch_rv_int(a, i);
    return big_from(a, d, NULL, 0);
}

const struct rval *vouch_rv_num_text(struct rarena *a, const char *s, size_t n)
{
    struct rdec d;
    int64_t i;
    size_t k;
    bool plain = true;

    if (n > 4096 || !vouch_rdec_parse(a, s, n, &d))
        return NULL;
    for (k = 0; k < n; k++)
        if (s[k] == '.' || s[k] == 'e' || s[k] == 'E')
            plain = false;
    if (plain && vouch_rdec_to_i64(&d, &i) && !(i == 0 && s[0] == '-'))
        return vouch_rv_int(a, i);
    return big_from(a, &d, s, n);
}

const struct rval *vouch_rv_str_ref(struct rarena *a, const char *s, size_t n)
{
    struct rval *v;

    if (n == 0)
        return &vouch_rv_empty_str_v;
    if (n > UINT32_MAX) {
        a->hit_limit = true;
        vouch_ra_fail(a);
    }
    v = new_val(a, RT_STR);
    v->n = (uint32_t)n;
    v->u.s = s;
    return v;
}

const struct rval *vouch_rv_str(struct rarena *a, const char *s, size_t n)
{
    if (n == 0)
        return &vouch_rv_empty_str_v;
    return vouch_rv_str_ref(a, vouch_ra_xstrndup(a, s, n), n);
}

const struct rval *vouch_rv_cstr(struct rarena *a, const char *s)
{
    return vouch_rv_str(a, s, strlen(s));
}

const struct rval *vouch_rv_arr(struct rarena *a, const struct rval **items, uint32_t n)
{
    struct rval *v;

    if (n == 0)
        return &vouch_rv_empty_arr_v;
    v = new_val(a, RT_ARR);
    v->n = n;
    v->u.a = items;
    return v;
}

int vouch_rv_cmp_ptr(const void *x, const void *y)
{
    return vouch_rv_cmp(*(const struct rval *const *)x, *(const struct rval *const *)y);
}

const struct rval *vouch_rv_set(struct rarena *a, const struct rval **items, uint32_t n)
{
    struct rval *v;
    uint32_t i, m = 0;

    if (n == 0)
        return &vouch_rv_empty_set_v;
    if (n > 1)
        qsort(items, n, sizeof(*items), vouch_rv_cmp_ptr);
    for (i = 0; i < n; i++)
        if (m == 0 || !rv_eq(items[m - 1], items[i]))
            items[m++] = items[i];
    v = new_val(a, RT_SET);
    v->n = m;
    v->u.a = items;
    return v;
}

static int kv_cmp(const void *x, const void *y)
{
    return vouch_rv_cmp(((const struct rkv *)x)->k, ((const struct rkv *)y)->k);
}

const struct rval *vouch_rv_obj(struct rarena *a, struct rkv *kv, uint32_t n, bool *ret_conflict)
{
    struct rval *v;
    uint32_t i, m = 0;

    if (ret_conflict)
        *ret_conflict = false;
    if (n == 0)
        return &vouch_rv_empty_obj_v;
    if (n > 1)
        qsort(kv, n, sizeof(*kv), kv_cmp);
    for (i = 0; i < n; i++) {
        if (m && rv_eq(kv[m - 1].k, kv[i].k)) {
            if (!rv_eq(kv[m - 1].v, kv[i].v)) {
                if (ret_conflict)
                    *ret_conflict = true;
                return NULL;
            }
            continue;
        }
        kv[m++] = kv[i];
    }
    v = new_val(a, RT_OBJ);
    v->n = m;
    v->u.o = kv;
    return v;
}

const struct rval *vouch_rv_obj_sorted(struct rarena *a, struct rkv *kv, uint32_t n)
{
    struct rval *v;

    if (n == 0)
        return &vouch_rv_empty_obj_v;
    v = new_val(a, RT_OBJ);
    v->n = n;
    v->u.o = kv;
    return v;
}

/* ---- numbers ---- */

bool vouch_rv_is_int(const struct rval *v)
{
    return v->t == RT_NUM && (!(v->flags & RVF_BIG) || vouch_rdec_is_int(&v->u.big->dec));
}

void vouch_rv_num_view(const struct rval *v, struct rdec *ret, uint8_t buf[20])
{
    if (v->flags & RVF_BIG)
        *ret = v->u.big->dec;
    else
        vouch_rdec_from_i64(ret, v->u.i, buf);
}

bool vouch_rv_to_i64(const struct rval *v, int64_t *ret)
{
    if (v->t != RT_NUM)
        return false;
    if (!(v->flags & RVF_BIG)) {
        *ret = v->u.i;
        return true;
    }
    return vouch_rdec_to_i64(&v->u.big->dec, ret);
}

double vouch_rv_to_double(const struct rval *v)
{
    if (!(v->flags & RVF_BIG))
        return (double)v->u.i;
    return vouch_rdec_to_double(&v->u.big->dec);
}

static int cmp_num(const struct rval *a, const struct rval *b)
{
    struct rdec x, y;
    uint8_t bx[20], by[20];

    if (!((a->flags | b->flags) & RVF_BIG))
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    vouch_rv_num_view(a, &x, bx);
    vouch_rv_num_view(b, &y, by);
    return vouch_rdec_cmp(&x, &y);
}

/* ---- order ---- */

int vouch_rv_cmp(const struct rval *a, const struct rval *b)
{
    uint32_t i, n;
    int c;

    if (a == b)
        return 0;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    switch (a->t) {
    case RT_NULL:
        return 0;
    case RT_BOOL:
        return (int)a->u.i - (int)b->u.i;
    case RT_NUM:
        return cmp_num(a, b);
    case RT_STR:
        n = a->n < b->n ? a->n : b->n;
        c = n ? memcmp(a->u.s, b->u.s, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        return a->n < b->n ? -1 : a->n > b->n;
    case RT_ARR:
    case RT_SET:
        rv_force(a);
        rv_force(b);
        n = a->n < b->n ? a->n : b->n;
        for (i = 0; i < n; i++) {
            c = vouch_rv_cmp(a->u.a[i], b->u.a[i]);
            if (c)
                return c;
        }
        return a->n < b->n ? -1 : a->n > b->n;
    case RT_OBJ:
        rv_force(a);
        rv_force(b);
        n = a->n < b->n ? a->n : b->n;
        for (i = 0; i < n; i++) {
            c = vouch_rv_cmp(a->u.o[i].k, b->u.o[i].k);
            if (c)
                return c;
            c = vouch_rv_cmp(a->u.o[i].v, b->u.o[i].v);
            if (c)
                return c;
        }
        return a->n < b->n ? -1 : a->n > b->n;
    }
    return 0;
}

/* ---- collections ---- */

const struct rval *vouch_rv_arr_at(const struct rval *v, uint32_t i)
{
    rv_force(v);
    return i < v->n ? v->u.a[i] : NULL;
}

static const struct rval *from_json(struct rarena *a, const json_t *j, bool lazy,
                                    const struct vouch_rego_deferred *df);

/* Have the deferred members of lz's object built, when it is one of the deferred objects. */
static void build_deferred(const struct rlazy *lz)
{
    const struct vouch_rego_deferred *df = lz->df;
    size_t i;

    for (i = 0; df && i < df->n_objs; i++)
        if (df->objs[i] == lz->j) {
            if (!df->build(df->ctx, lz->j))
                vouch_ra_fail(lz->a);
            return;
        }
}

static bool deferred_name(const struct vouch_rego_deferred *df, const char *key, size_t n)
{
    const char *const *name;

    for (name = df->names; *name; name++)
        if (strlen(*name) == n && memcmp(*name, key, n) == 0)
            return true;
    return false;
}

static const struct rval *lazy_obj_getn(const struct rval *obj, const char *key, size_t n)
{
    const struct rlazy *lz = obj->u.lz;
    const json_t *c = json_object_getn(lz->j, key, n);

    if (!c && lz->df && deferred_name(lz->df, key, n)) {
        build_deferred(lz);
        c = json_object_getn(lz->j, key, n);
    }
    if (!c)
        return NULL;
    return from_json(lz->a, c, true, lz->df);
}

const struct rval *vouch_rv_obj_getn(const struct rval *obj, const char *key, size_t n)
{
    uint32_t lo = 0, hi;

    if (obj->flags & RVF_LAZY)
        return lazy_obj_getn(obj, key, n);
    hi = obj->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct rval *k = obj->u.o[mid].k;
        int c;

        if (k->t != RT_STR) {
            c = k->t < RT_STR ? -1 : 1;
        } else {
            size_t m = k->n < n ? k->n : n;

            c = m ? memcmp(k->u.s, key, m) : 0;
            if (!c)
                c = k->n < n ? -1 : k->n > n;
        }
        if (c == 0)
            return obj->u.o[mid].v;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const struct rval *vouch_rv_obj_get(const struct rval *obj, const struct rval *key)
{
    uint32_t lo = 0, hi;

    if (key->t == RT_STR)
        return vouch_rv_obj_getn(obj, key->u.s, key->n);
    rv_force(obj);
    hi = obj->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = vouch_rv_cmp(obj->u.o[mid].k, key);

        if (c == 0)
            return obj->u.o[mid].v;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

bool vouch_rv_set_has(const struct rval *set, const struct rval *x)
{
    uint32_t lo = 0, hi = set->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = vouch_rv_cmp(set->u.a[mid], x);

        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool vouch_rv_index(const struct rval *arr, const struct rval *key, uint32_t *ret)
{
    int64_t i;

    if (key->t != RT_NUM || !vouch_rv_to_i64(key, &i))
        return false;
    if (i < 0 || (uint64_t)i >= rv_len(arr))
        return false;
    *ret = (uint32_t)i;
    return true;
}

/* ---- jansson ---- */

static const struct rval *num_from_json(struct rarena *a, const json_t *j)
{
    struct rdec d;

    if (json_is_integer(j))
        return vouch_rv_int(a, (int64_t)json_integer_value(j));
    if (!vouch_rdec_from_double(a, json_real_value(j), &d))
        return RV_NULL;
    return vouch_rv_dec(a, &d);
}

const struct rval *vouch_rv_from_json(struct rarena *a, const json_t *j, bool lazy)
{
    return from_json(a, j, lazy, NULL);
}

const struct rval *vouch_rv_from_json_deferred(struct rarena *a, const json_t *j,
                                               const struct vouch_rego_deferred *df)
{
    return from_json(a, j, true, df);
}

static const struct rval *from_json(struct rarena *a, const json_t *j, bool lazy,
                                    const struct vouch_rego_deferred *df)
{
    struct rval *v;
    struct rlazy *lz;

    switch (json_typeof(j)) {
    case JSON_NULL:
        return RV_NULL;
    case JSON_TRUE:
        return RV_TRUE;
    case JSON_FALSE:
        return RV_FALSE;
    case JSON_INTEGER:
    case JSON_REAL:
        return num_from_json(a, j);
    case JSON_STRING:
        return vouch_rv_str_ref(a, json_string_value(j), json_string_length(j));
    case JSON_ARRAY:
        if (json_array_size(j) == 0)
            return &vouch_rv_empty_arr_v;
        v = new_val(a, RT_ARR);
        break;
    case JSON_OBJECT:
        if (json_object_size(j) == 0)
            return &vouch_rv_empty_obj_v;
        v = new_val(a, RT_OBJ);
        break;
    default:
        return RV_NULL;
    }
    lz = vouch_ra_xalloc(a, sizeof(*lz));
    lz->j = j;
    lz->a = a;
    lz->df = df;
    v->flags = RVF_LAZY;
    v->u.lz = lz;
    if (!lazy)
        vouch_rv_force_slow(v);
    return v;
}

void vouch_rv_force_slow(const struct rval *cv)
{
    struct rval *v = (struct rval *)cv;
    const struct rlazy *lz = v->u.lz;
    struct rarena *a = lz->a;
    const json_t *j = lz->j;
    size_t i, n;

    if (v->t == RT_ARR) {
        const struct rval **items;

        n = json_array_size(j);
        items = vouch_ra_xalloc(a, n * sizeof(*items));
        for (i = 0; i < n; i++)
            items[i] = from_json(a, json_array_get(j, i), true, lz->df);
        v->u.a = items;
    } else {
        struct rkv *kv;
        void *it;

        build_deferred(lz);
        n = json_object_size(j);
        kv = vouch_ra_xalloc(a, n * sizeof(*kv));
        i = 0;
        for (it = json_object_iter((json_t *)j); it && i < n;
             it = json_object_iter_next((json_t *)j, it), i++) {
            kv[i].k = vouch_rv_str_ref(a, json_object_iter_key(it), json_object_iter_key_len(it));
            kv[i].v = from_json(a, json_object_iter_value(it), true, lz->df);
        }
        n = i;
        if (n > 1)
            qsort(kv, n, sizeof(*kv), kv_cmp);
        v->u.o = kv;
    }
    v->n = (uint32_t)n;
    v->flags &= (uint8_t)~RVF_LAZY;
}

static json_t *num_to_json(const struct rval *v)
{
    int64_t i;

    if (vouch_rv_to_i64(v, &i))
        return json_integer((json_int_t)i);
    return json_real(vouch_rv_to_double(v));
}

json_t *vouch_rv_to_json(const struct rval *v)
{
    json_t *j = NULL, *c;
    uint32_t i;

    switch (v->t) {
    case RT_NULL:
        return json_null();
    case RT_BOOL:
        return json_boolean(v->u.i);
    case RT_NUM:
        return num_to_json(v);
    case RT_STR:
        return json_stringn_nocheck(v->u.s, v->n);
    case RT_ARR:
    case RT_SET:
        rv_force(v);
        j = json_array();
        if (!j)
            return NULL;
        for (i = 0; i < v->n; i++) {
            c = vouch_rv_to_json(v->u.a[i]);
            if (!c || json_array_append_new(j, c)) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    case RT_OBJ:
        rv_force(v);
        j = json_object();
        if (!j)
            return NULL;
        for (i = 0; i < v->n; i++) {
            const struct rval *k = v->u.o[i].k;
            struct vouch_buf kb = VOUCH_BUF_INIT(1u << 24);
            int rc;

            c = vouch_rv_to_json(v->u.o[i].v);
            if (!c) {
                json_decref(j);
                return NULL;
            }
            if (k->t == RT_STR) {
                rc = json_object_setn_new_nocheck(j, k->u.s, k->n, c);
            } else {
                if (vouch_rv_write_json(&kb, k)) {
                    json_decref(c);
                    json_decref(j);
                    return NULL;
                }
                rc = json_object_setn_new_nocheck(j, vouch_buf_str(&kb), kb.len, c);
                vouch_buf_free(&kb);
            }
            if (rc) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    }
    return NULL;
}

/* ---- UTF-8 ---- */

int64_t vouch_rv_utf8_count(const char *s, size_t n)
{
    size_t i = 0;
    int64_t c = 0;
    uint32_t cp;

    while (i < n) {
        size_t l;

        if ((unsigned char)s[i] < 0x80) {
            i++;
            c++;
            continue;
        }
        l = rv_utf8_decode(s + i, n - i, &cp);
        if (!l)
            return -1;
        i += l;
        c++;
    }
    return c;
}

/* ---- JSON text out ---- */

static vouch_err write_str(struct vouch_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    vouch_err e;

    if ((e = vouch_buf_putc(b, '"')))
        return e;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t el = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((e = vouch_buf_append(b, s + run, i - run)))
            return e;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        if ((e = vouch_buf_append(b, esc, el)))
            return e;
        run = i + 1;
    }
    if ((e = vouch_buf_append(b, s + run, n - run)))
        return e;
    return vouch_buf_putc(b, '"');
}

static vouch_err write_num(struct vouch_buf *b, const struct rval *v)
{
    const struct rbig *g;
    size_t n;
    vouch_err e;

    if (!(v->flags & RVF_BIG))
        return vouch_buf_printf(b, "%lld", (long long)v->u.i);
    g = v->u.big;
    if (g->text)
        return vouch_buf_append(b, g->text, g->textlen);
    n = vouch_rdec_text_len(&g->dec);
    if ((e = vouch_buf_reserve(b, n + 1)))
        return e;
    vouch_rdec_format(&g->dec, (char *)b->data + b->len);
    b->len += n;
    return VOUCH_OK;
}

static vouch_err write_val(struct vouch_buf *b, const struct rval *v, bool rego)
{
    uint32_t i;
    vouch_err e;

    switch (v->t) {
    case RT_NULL:
        return vouch_buf_puts(b, "null");
    case RT_BOOL:
        return vouch_buf_puts(b, v->u.i ? "true" : "false");
    case RT_NUM:
        return write_num(b, v);
    case RT_STR:
        return write_str(b, v->u.s, v->n);
    case RT_ARR:
    case RT_SET:
        rv_force(v);
        if (rego && v->t == RT_SET && v->n == 0)
            return vouch_buf_puts(b, "set()");
        if ((e = vouch_buf_putc(b, rego && v->t == RT_SET ? '{' : '[')))
            return e;
        for (i = 0; i < v->n; i++) {
            if (i && (e = vouch_buf_puts(b, rego ? ", " : ",")))
                return e;
            if ((e = write_val(b, v->u.a[i], rego)))
                return e;
        }
        return vouch_buf_putc(b, rego && v->t == RT_SET ? '}' : ']');
    case RT_OBJ:
        rv_force(v);
        if ((e = vouch_buf_putc(b, '{')))
            return e;
        for (i = 0; i < v->n; i++) {
            const struct rval *k = v->u.o[i].k;

            if (i && (e = vouch_buf_puts(b, rego ? ", " : ",")))
                return e;
            if (k->t == RT_STR || rego) {
                e = write_val(b, k, rego);
            } else {
                struct vouch_buf kb = VOUCH_BUF_INIT(b->max);

                e = write_val(&kb, k, false);
                if (!e)
                    e = write_str(b, vouch_buf_str(&kb), kb.len);
                vouch_buf_free(&kb);
            }
            if (e || (e = vouch_buf_puts(b, rego ? ": " : ":")))
                return e;
            if ((e = write_val(b, v->u.o[i].v, rego)))
                return e;
        }
        return vouch_buf_putc(b, '}');
    }
    return VOUCH_E_INTERNAL;
}

vouch_err vouch_rv_write_json(struct vouch_buf *b, const struct rval *v)
{
    return write_val(b, v, false);
}

vouch_err vouch_rv_write_rego(struct vouch_buf *b, const struct rval *v)
{
    return write_val(b, v, true);
}

/* ---- JSON text in ---- */

struct jp {
    struct rarena *a;
    const char *s, *p, *end;
    unsigned depth, max_depth;
    struct vouch_errbuf *eb;
};

static vouch_err jp_fail(struct jp *jp, const char *what)
{
    size_t line = 1, col = 1;
    const char *q;

    for (q = jp->s; q < jp->p && q < jp->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return vouch_fail(jp->eb, VOUCH_E_INVALID, "json: %s at line %zu column %zu", what, line, col);
}

static void jp_ws(struct jp *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

vouch_err vouch_rv_json_string(struct rarena *a, const char *p, const char *end,
                               const char **ret_end, const struct rval **ret, const char **ret_err)
{
    const char *q = p;
    bool simple = true;
    size_t len;
    char *out;

    /* Fast path: no escapes. */
    while (q < end && *q != '"') {
        unsigned char c = (unsigned char)*q;

        if (c == '\\') {
            simple = false;
            break;
        }
        if (c < 0x20) {
            *ret_err = "control character in string";
            *ret_end = q;
            return VOUCH_E_INVALID;
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t l = rv_utf8_decode(q, (size_t)(end - q), &cp);

            if (!l) {
                *ret_err = "invalid UTF-8 in string";
                *ret_end = q;
                return VOUCH_E_INVALID;
            }
            q += l;
            continue;
        }
        q++;
    }
    if (simple) {
        if (q >= end) {
            *ret_err = "unterminated string";
            *ret_end = q;
            return VOUCH_E_INVALID;
        }
        *ret = vouch_rv_str(a, p, (size_t)(q - p));
        *ret_end = q + 1;
        return VOUCH_OK;
    }
    out = vouch_ra_xalloc(a, (size_t)(end - p) + 1);
    if (!vouch_json_string_decode(p, end, VOUCH_JSON_LONE_SURROGATE_FFFD, out, &len, &q,
                                  ret_err)) {
        *ret_end = q;
        return VOUCH_E_INVALID;
    }
    *ret = vouch_rv_str_ref(a, out, len);
    *ret_end = q + 1;
    return VOUCH_OK;
}

static vouch_err jp_value(struct jp *jp, const struct rval **ret);

static vouch_err jp_string(struct jp *jp, const struct rval **ret)
{
    const char *err = NULL, *endp;
    vouch_err e;

    e = vouch_rv_json_string(jp->a, jp->p + 1, jp->end, &endp, ret, &err);
    jp->p = endp;
    if (e)
        return jp_fail(jp, err);
    return VOUCH_OK;
}

static vouch_err jp_array(struct jp *jp, const struct rval **ret)
{
    struct ra_vec items = { 0 };
    const struct rval *v;
    vouch_err e;

    jp->p++;
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == ']') {
        jp->p++;
        *ret = &vouch_rv_empty_arr_v;
        return VOUCH_OK;
    }
    for (;;) {
        if ((e = jp_value(jp, &v)))
            return e;
        vouch_ra_vec_push(jp->a, &items, (void *)v);
        jp_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == ']') {
            jp->p++;
            break;
        }
        return jp_fail(jp, "expected ',' or ']'");
    }
    *ret = vouch_rv_arr(jp->a, (const struct rval **)items.v, items.n);
    return VOUCH_OK;
}

struct kvix {
    struct rkv kv;
    uint32_t i;
};

static int kvix_cmp(const void *x, const void *y)
{
    const struct kvix *a = x, *b = y;
    int c = vouch_rv_cmp(a->kv.k, b->kv.k);

    if (c)
        return c;
    return a->i < b->i ? -1 : a->i > b->i;
}

static vouch_err jp_object(struct jp *jp, const struct rval **ret)
{
    struct rkv *kv = NULL;
    uint32_t n = 0, cap = 0, i, m;
    const struct rval *k, *v;
    vouch_err e;

    jp->p++;
    jp_ws(jp);
    if (jp->p < jp->end && *jp->p == '}') {
        jp->p++;
        *ret = &vouch_rv_empty_obj_v;
        return VOUCH_OK;
    }
    for (;;) {
        jp_ws(jp);
        if (jp->p >= jp->end || *jp->p != '"')
            return jp_fail(jp, "expected a string key");
        if ((e = jp_string(jp, &k)))
            return e;
        jp_ws(jp);
        if (jp->p >= jp->end || *jp->p != ':')
            return jp_fail(jp, "expected ':'");
        jp->p++;
        if ((e = jp_value(jp, &v)))
            return e;
        if (n == cap) {
            uint32_t nc = cap ? cap * 2 : 8;

            kv = vouch_ra_xrealloc(jp->a, kv, cap * sizeof(*kv), nc * sizeof(*kv));
            cap = nc;
        }
        kv[n].k = k;
        kv[n].v = v;
        n++;
        jp_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == '}') {
            jp->p++;
            break;
        }
        return jp_fail(jp, "expected ',' or '}'");
    }
    /* Last duplicate wins: sort by (key, position) and keep the last of
     * each run of equal keys. */
    {
        struct kvix *t = vouch_ra_xalloc(jp->a, n * sizeof(*t));

        for (i = 0; i < n; i++) {
            t[i].kv = kv[i];
            t[i].i = i;
        }
        qsort(t, n, sizeof(*t), kvix_cmp);
        m = 0;
        for (i = 0; i < n; i++) {
            if (m && rv_eq(kv[m - 1].k, t[i].kv.k))
                kv[m - 1] = t[i].kv;
            else
                kv[m++] = t[i].kv;
        }
    }
    {
        struct rval *o = vouch_ra_xalloc(jp->a, sizeof(*o));

        o->t = RT_OBJ;
        o->flags = 0;
        o->n = m;
        o->u.o = kv;
        *ret = o;
    }
    return VOUCH_OK;
}

static vouch_err jp_value(struct jp *jp, const struct rval **ret)
{
    const char *q;
    vouch_err e;

    jp_ws(jp);
    if (jp->p >= jp->end)
        return jp_fail(jp, "unexpected end of input");
    switch (*jp->p) {
    case '{':
    case '[':
        if (++jp->depth > jp->max_depth)
            return jp_fail(jp, "nesting too deep");
        e = *jp->p == '{' ? jp_object(jp, ret) : jp_array(jp, ret);
        jp->depth--;
        return e;
    case '"':
        return jp_string(jp, ret);
    case 't':
        if (jp->end - jp->p >= 4 && memcmp(jp->p, "true", 4) == 0) {
            jp->p += 4;
            *ret = RV_TRUE;
            return VOUCH_OK;
        }
        break;
    case 'f':
        if (jp->end - jp->p >= 5 && memcmp(jp->p, "false", 5) == 0) {
            jp->p += 5;
            *ret = RV_FALSE;
            return VOUCH_OK;
        }
        break;
    case 'n':
        if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
            jp->p += 4;
            *ret = RV_NULL;
            return VOUCH_OK;
        }
        break;
    default:
        q = jp->p;
        if (*q == '-')
            q++;
        while (q < jp->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' ||
                               *q == 'E' || *q == '+' || *q == '-'))
            q++;
        if (q > jp->p) {
            const struct rval *v = vouch_rv_num_text(jp->a, jp->p, (size_t)(q - jp->p));

            if (!v)
                return jp_fail(jp, "bad number");
            jp->p = q;
            *ret = v;
            return VOUCH_OK;
        }
    }
    return jp_fail(jp, "unexpected character");
}

vouch_err vouch_rv_parse_json(struct rarena *a, const char *s, size_t len, unsigned max_depth,
                              const struct rval **ret, struct vouch_errbuf *eb)
{
    struct jp jp = { a, s, s, s + len, 0, max_depth, eb };
    const struct rval *v;
    vouch_err e;

    if ((e = jp_value(&jp, &v)))
        return e;
    jp_ws(&jp);
    if (jp.p != jp.end)
        return jp_fail(&jp, "trailing characters");
    *ret = v;
    return VOUCH_OK;
}
