/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_BUILTINS_H
#define VOUCH_REGO_BUILTINS_H

#include "rego/eval.h"

/*
 * Shared helpers for the builtin implementations (builtins.c,
 * bi_strings.c, bi_objects.c, bi_time.c, bi_regex.c...).  Each builtin
 * takes its arguments (never undefined) and sets *ret, returning BI_OK, or
 * BI_UNDEF, or an error code with the message set by vouch_bi_fail/vouch_bi_type.
 */
#define BI(name)                                                                        \
    static int name(struct ev *ev __attribute__((unused)),                              \
                    const struct rval *const *a __attribute__((unused)), const struct rval **ret)

/* Operand type checks: return non-zero (the error) when the type is wrong. */
#define NEED(i, type, tname)                                   \
    do {                                                       \
        if (a[(i)]->t != (type))                               \
            return vouch_bi_type(ev, (i) + 1, (tname), a[(i)]);      \
    } while (0)

/*
 * A double as int64, truncated toward zero; false for NaN, infinities and
 * anything outside [-2^63, 2^63) (converting those is undefined in C).
 */
bool vouch_bi_double_to_i64(double d, int64_t *ret);

/* Integer operand (an integral number in int64 range). */
int vouch_bi_int_arg(struct ev *ev, const struct rval *const *a, int i, int64_t *ret);

/* A number's decimal view. */
static inline void num_view(const struct rval *v, struct rdec *d, uint8_t buf[20])
{
    vouch_rv_num_view(v, d, buf);
}

/* Tables from the other files. */
struct bi_entry {
    const char *name;
    uint8_t arity;
    uint8_t flags;
    bi_fn fn;
};

extern const struct builtin vouch_bi_strings_table[];
extern const size_t vouch_bi_strings_count;
extern const struct builtin vouch_bi_objects_table[];
extern const size_t vouch_bi_objects_count;
extern const struct builtin vouch_bi_time_table[];
extern const size_t vouch_bi_time_count;
extern const struct builtin vouch_bi_regex_table[];
extern const size_t vouch_bi_regex_count;
extern const struct builtin vouch_bi_misc_table[];
extern const size_t vouch_bi_misc_count;
extern const struct builtin vouch_bi_net_table[];
extern const size_t vouch_bi_net_count;

#endif
