/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_NUM_H
#define VOUCH_REGO_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rego/arena.h"

/*
 * Exact decimal numbers.  A number is coef * 10^exp with coef an unsigned
 * decimal digit string (most significant first, no leading or trailing
 * zeros; zero has no digits) and a sign.  Addition, subtraction and
 * multiplication are exact up to RNUM_MAX_DIGITS significant digits (then
 * rounded half-even); division is exact when the quotient terminates within
 * RNUM_DIV_DIGITS digits, else rounded there.  Exponents are bounded by
 * RNUM_MAX_EXP so no operation can ask for unbounded memory.
 */
#define RNUM_MAX_DIGITS 400
#define RNUM_DIV_DIGITS 34
#define RNUM_MAX_EXP 100000

struct rdec {
    bool neg;
    int32_t exp;
    uint32_t nd;
    const uint8_t *d;
};

/* A view of an int64 (digits in the caller's buffer of 20 bytes). */
void vouch_rdec_from_i64(struct rdec *r, int64_t v, uint8_t buf[20]);

/* Parse a JSON number (the full text, nothing else).  Digits go to the arena. */
bool vouch_rdec_parse(struct rarena *a, const char *s, size_t len, struct rdec *ret);

int vouch_rdec_cmp(const struct rdec *x, const struct rdec *y);
bool vouch_rdec_is_int(const struct rdec *x);
/* The value when it is an integer in int64 range. */
bool vouch_rdec_to_i64(const struct rdec *x, int64_t *ret);
double vouch_rdec_to_double(const struct rdec *x);

/*
 * Arithmetic.  Results are normalised; false when the result's exponent
 * would leave the bounded range (or division by zero).
 */
bool vouch_rdec_add(struct rarena *a, const struct rdec *x, const struct rdec *y, bool sub,
                    struct rdec *ret);
bool vouch_rdec_mul(struct rarena *a, const struct rdec *x, const struct rdec *y, struct rdec *ret);
bool vouch_rdec_div(struct rarena *a, const struct rdec *x, const struct rdec *y, struct rdec *ret);
/* Integer quotient truncated toward zero and remainder (both integers). */
bool vouch_rdec_divmod_int(struct rarena *a, const struct rdec *x, const struct rdec *y,
                           struct rdec *ret_q, struct rdec *ret_r);

enum vouch_rdec_round { RDEC_FLOOR, RDEC_CEIL, RDEC_ROUND /* half away from zero */, RDEC_TRUNC };
void vouch_rdec_round(struct rarena *a, const struct rdec *x, enum vouch_rdec_round mode,
                      struct rdec *ret);

/* Text: plain notation when the exponent is moderate, else d.ddde+N. */
size_t vouch_rdec_text_len(const struct rdec *x);
/* Writes vouch_rdec_text_len() bytes plus a NUL. */
void vouch_rdec_format(const struct rdec *x, char *out);

/* A double as the shortest decimal that reads back as the same double. */
bool vouch_rdec_from_double(struct rarena *a, double v, struct rdec *ret);

#endif
