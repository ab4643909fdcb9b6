/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_EVAL_H
#define VOUCH_REGO_EVAL_H

#include <setjmp.h>
#include <stdarg.h>

#include "rego/compile.h"

/*
 * One evaluation.  Everything it allocates lives in `a`.  Fatal errors
 * (conflicts, limits, strict builtin errors, out of memory) jump to `jb`
 * with the message in `msg`; backtracking never needs to unwind resources.
 */
struct ovr;
struct dovr;
struct cache_ent;

struct ev {
    struct rarena *a;
    const struct vouch_rego_policy *pol;
    const struct rval *input;       /* NULL: undefined */
    const struct rval *data;        /* base documents; NULL: {} */
    const struct rval **slots;      /* the current frame */
    const struct rval ***trail;
    uint32_t ntrail, trail_cap;
    struct cache_ent *cache;
    struct ovr *ovr;                /* with: replaced functions */
    uint32_t novr;
    struct dovr *dovr;              /* with: replaced data paths */
    uint32_t ndovr;
    uint64_t steps, max_steps;
    bool timed;                     /* deadline_ns applies */
    int64_t deadline_ns;
    uint64_t max_time_ns;
    vouch_rego_clock_fn clock;
    void *clock_ctx;
    uint32_t depth, max_depth;
    uintptr_t stack_base;
    size_t max_stack;
    bool strict;
    int64_t now_ns;
    void *host_ctx;
    jmp_buf jb;
    vouch_err err;
    char msg[VOUCH_ERRBUF_SIZE];
    char bimsg[320];                /* a builtin's error message */
    json_t *pending[8];             /* jansson values to release on a jump */
    void *rx;                       /* compiled regular expressions (bi_regex.c) */
    struct ra_vec hcache;           /* host function results of this evaluation */
    struct ra_vec jkeep;            /* jansson results kept until the end (read lazily) */
};

_Noreturn void vouch_ev_fail(struct ev *ev, vouch_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that jumps out on failure. */
static inline void *ev_alloc(struct ev *ev, size_t n)
{
    return vouch_ra_xalloc(ev->a, n);
}

/* For builtins: set the message and return the code. */
int vouch_bi_fail(struct ev *ev, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "operand N must be T but got U" */
int vouch_bi_type(struct ev *ev, int n, const char *want, const struct rval *got);

/* A fresh cache of rule values (at the start of an evaluation). */
void vouch_ev_init_cache(struct ev *ev);

/* Count one step (iterations, expressions) against the limit. */
void vouch_ev_step(struct ev *ev);

/*
 * Charge n steps for work a builtin does (bytes scanned, digits or elements
 * produced), before doing it where it can: fails the evaluation with the
 * step limit, and reads the clock whenever the count crosses a multiple of
 * VOUCH_REGO_CLOCK_EVERY.
 */
void vouch_ev_charge(struct ev *ev, uint64_t n);
/* One step per EV_SCAN_BYTES bytes scanned (compared, searched, decoded). */
#define EV_SCAN_BYTES 256
void vouch_ev_charge_scan(struct ev *ev, uint64_t bytes);
/* Read the clock now; fails the evaluation past its deadline. */
void vouch_ev_check_time(struct ev *ev);

/*
 * Evaluate a prepared query or a data path (compiled ref term).  These
 * run inside the caller's setjmp (see rego.c).
 */
typedef void (*ev_result_fn)(struct ev *ev, void *ctx);
void vouch_ev_run_query(struct ev *ev, const struct cquery *q, ev_result_fn fn, void *ctx);
const struct rval *vouch_ev_eval_ref(struct ev *ev, const struct term *ref);

/* The builtin dispatcher (builtins.c) sets these up. */
const struct rval *vouch_ev_call_host(struct ev *ev, uint32_t host, const struct rval *const *args,
                                      uint32_t nargs);

/* An arena-backed string builder for builtins. */
struct sbuf {
    struct ev *ev;
    char *p;
    size_t n, cap;
};

void vouch_sb_init(struct sbuf *b, struct ev *ev);
void vouch_sb_put(struct sbuf *b, const char *s, size_t n);
void vouch_sb_putc(struct sbuf *b, char c);
void vouch_sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct rval *vouch_sb_val(struct sbuf *b);
/* Query-string escaping as Go's url.QueryEscape: unreserved bytes as they
 * are, ' ' as '+', the rest %XX. */
void vouch_sb_url_escape(struct sbuf *b, const char *s, size_t n);
/* The reverse ('+' is ' '); false at a bad %-escape, its offset in *ret_bad
 * (may be NULL). */
bool vouch_sb_url_unescape(struct sbuf *b, const char *s, size_t n, size_t *ret_bad);
/* Append a value as JSON (json=true) or as Rego text. */
void vouch_sb_value(struct sbuf *b, const struct rval *v, bool json);

#endif
