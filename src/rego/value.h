/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_VALUE_H
#define VOUCH_REGO_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/codec.h"
#include "rego/arena.h"
#include "rego/num.h"
#include "vouch/err.h"

/*
 * Rego values.  Immutable once built and shared freely by pointer; NULL
 * stands for "undefined", which is never a value.  The type numbers follow
 * Rego's total order between types.
 *
 * Arrays hold their items; sets hold theirs sorted and unique; objects
 * hold entries sorted by key (keys may be any value).  Numbers are int64
 * inline or an exact decimal (struct rbig), which also keeps the literal
 * text it was read from so that it prints back unchanged.
 *
 * Values read from jansson may be lazy: an array or object converts its
 * members on first use (rv_force), so a policy that reads ten fields of a
 * large input converts ten fields.  A lazy value points at the jansson
 * value, which must outlive the evaluation, and at the evaluation's arena.
 * Lazy values never appear in a compiled policy or a shared document.
 */
enum rtype {
    RT_NULL = 1,
    RT_BOOL,
    RT_NUM,
    RT_STR,
    RT_ARR,
    RT_OBJ,
    RT_SET,
};

#define RVF_BIG 1u
#define RVF_LAZY 2u

struct rval;

struct rbig {
    struct rdec dec;
    const char *text;    /* literal text, or NULL */
    uint32_t textlen;
};

struct rkv {
    const struct rval *k, *v;
};

struct vouch_rego_deferred;

struct rlazy {
    const json_t *j;
    struct rarena *a;
    const struct vouch_rego_deferred *df;   /* input members built on first read, or NULL */
};

struct rval {
    uint8_t t;
    uint8_t flags;
    uint32_t n;   /* string bytes, array/set items, object entries */
    union {
        int64_t i;
        const struct rbig *big;
        const char *s;
        const struct rval **a;
        const struct rkv *o;
        const struct rlazy *lz;
    } u;
};

extern const struct rval vouch_rv_null_v, vouch_rv_true_v, vouch_rv_false_v, vouch_rv_empty_str_v,
    vouch_rv_empty_arr_v, vouch_rv_empty_obj_v, vouch_rv_empty_set_v;

#define RV_NULL (&vouch_rv_null_v)
#define RV_TRUE (&vouch_rv_true_v)
#define RV_FALSE (&vouch_rv_false_v)
#define RV_BOOL(b) ((b) ? RV_TRUE : RV_FALSE)

const char *vouch_rv_type_name(const struct rval *v);

/* Convert a lazy array/object in place.  Cheap no-op otherwise. */
void vouch_rv_force_slow(const struct rval *v);
static inline const struct rval *rv_force(const struct rval *v)
{
    if (v->flags & RVF_LAZY)
        vouch_rv_force_slow(v);
    return v;
}

static inline uint32_t rv_len(const struct rval *v)
{
    return rv_force(v)->n;
}

/* Constructors.  Strings are copied unless the _ref form is used, which
 * keeps the pointer (the bytes must live as long as the value). */
const struct rval *vouch_rv_int(struct rarena *a, int64_t i);
const struct rval *vouch_rv_dec(struct rarena *a, const struct rdec *d);
const struct rval *vouch_rv_num_text(struct rarena *a, const char *s,
                                     size_t n); /* NULL: bad syntax/range */
const struct rval *vouch_rv_str(struct rarena *a, const char *s, size_t n);
const struct rval *vouch_rv_str_ref(struct rarena *a, const char *s, size_t n);
const struct rval *vouch_rv_cstr(struct rarena *a, const char *s);
/* Takes `items` (arena memory) as the array's storage. */
const struct rval *vouch_rv_arr(struct rarena *a, const struct rval **items, uint32_t n);
/* Sorts and de-duplicates `items` in place and uses it as storage. */
const struct rval *vouch_rv_set(struct rarena *a, const struct rval **items, uint32_t n);
/* Sorts `kv` in place.  Entries with equal keys: the same value collapses
 * into one; different values make it return NULL with *ret_conflict set. */
const struct rval *vouch_rv_obj(struct rarena *a, struct rkv *kv, uint32_t n, bool *ret_conflict);

/* An object from entries already sorted by key with no duplicates. */
const struct rval *vouch_rv_obj_sorted(struct rarena *a, struct rkv *kv, uint32_t n);

/* Numbers. */
bool vouch_rv_is_int(const struct rval *v);
/* View a number as a decimal; buf must hold 20 bytes. */
void vouch_rv_num_view(const struct rval *v, struct rdec *ret, uint8_t buf[20]);
bool vouch_rv_to_i64(const struct rval *v, int64_t *ret);   /* integers in range only */
double vouch_rv_to_double(const struct rval *v);

/* Order and equality (Rego's total order). */
int vouch_rv_cmp(const struct rval *a, const struct rval *b);
static inline bool rv_eq(const struct rval *a, const struct rval *b)
{
    return a == b || vouch_rv_cmp(a, b) == 0;
}
int vouch_rv_cmp_ptr(const void *a, const void *b);  /* qsort over const struct rval * */

/* Collections. */
const struct rval *vouch_rv_arr_at(const struct rval *v, uint32_t i);
const struct rval *vouch_rv_obj_get(const struct rval *obj, const struct rval *key);
const struct rval *vouch_rv_obj_getn(const struct rval *obj, const char *key, size_t n);
bool vouch_rv_set_has(const struct rval *set, const struct rval *x);
/* Index of an array from a number value; false when not an in-range integer. */
bool vouch_rv_index(const struct rval *arr, const struct rval *key, uint32_t *ret);

/* JSON in and out. */
const struct rval *vouch_rv_from_json(struct rarena *a, const json_t *j, bool lazy);
/* Lazy, with members built on first read (rego.h's struct vouch_rego_deferred). */
const struct rval *vouch_rv_from_json_deferred(struct rarena *a, const json_t *j,
                                               const struct vouch_rego_deferred *df);
/* NULL when out of memory; big numbers outside int64 become reals. */
json_t *vouch_rv_to_json(const struct rval *v);

/*
 * Parse JSON text into values (exact numbers kept with their text).
 * Nesting is capped at max_depth.  Duplicate keys: the last one wins.
 */
vouch_err vouch_rv_parse_json(struct rarena *a, const char *s, size_t len, unsigned max_depth,
                              const struct rval **ret, struct vouch_errbuf *eb);

/*
 * Decode a JSON string body starting after the opening quote, up to and
 * including the closing quote (also used by the Rego lexer).  *ret_end
 * points after the quote, or at the error.
 */
vouch_err vouch_rv_json_string(struct rarena *a, const char *p, const char *end,
                               const char **ret_end, const struct rval **ret, const char **ret_err);

/* Append the JSON form: sets as sorted arrays, non-string keys as their
 * JSON text.  Fails with VOUCH_E_TOO_LARGE at the buffer's cap. */
vouch_err vouch_rv_write_json(struct vouch_buf *b, const struct rval *v);
/* The same, but in Rego syntax (sets as {..}/set(), keys as they are). */
vouch_err vouch_rv_write_rego(struct vouch_buf *b, const struct rval *v);

/* Validate UTF-8; returns the number of code points or -1. */
int64_t vouch_rv_utf8_count(const char *s, size_t n);
/* Decode one code point at s (n bytes left); returns its length, 0 on error. */
#define rv_utf8_decode vouch_utf8_decode   /* common/codec.h */
#define rv_utf8_encode vouch_utf8_encode

#endif
