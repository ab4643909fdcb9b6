/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_REGO_H
#define VOUCH_REGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * A Rego policy engine.
 *
 *   struct vouch_rego_module m = { "policy.rego", text, len };
 *   vouch_rego_compile(&m, 1, NULL, &pol, &eb);           -- once
 *   vouch_rego_eval_rule(pol, "data.policy.allow", &args, &out, &eb);
 *                                                         -- per request, any thread
 *
 * A compiled policy is immutable: any number of threads may evaluate it at
 * once.  Every evaluation allocates from its own arena, bounded by the
 * limits given, and frees it before returning.  Policies cannot read files,
 * the network, the environment or the clock: time.now_ns() is the `now_ns`
 * given to the evaluation.
 *
 * Errors: the message in the errbuf follows OPA, with the location when
 * there is one: "policy.rego:3:5: rego_parse_error: unexpected ..." or
 * "eval_conflict_error: complete rules must not produce multiple outputs".
 * Return codes: VOUCH_E_INVALID for parse, compile and evaluation errors,
 * VOUCH_E_LIMIT when a limit is exceeded, VOUCH_E_NOMEM.
 */

struct vouch_rego_policy;
struct vouch_rego_doc;

struct vouch_rego_module {
    const char *name;     /* used in messages */
    const char *text;     /* need not be NUL-terminated */
    size_t len;
};

/*
 * A function the host provides to policies, e.g. query_reference_value(id).
 * args are borrowed; on success *ret is a new reference, or NULL for
 * "undefined".  A returned error makes the call undefined (or, in strict
 * mode, fails the evaluation with eval_builtin_error and the message).
 */
typedef vouch_err (*vouch_rego_host_fn)(void *host_ctx, json_t *const *args, size_t nargs,
                                        json_t **ret, struct vouch_errbuf *eb);

struct vouch_rego_host {
    const char *name;     /* dotted names allowed: "vouch.lookup" */
    unsigned arity;
    vouch_rego_host_fn fn;
};

/* Compile flags. */
#define VOUCH_REGO_V0 (1u << 0)   /* modules use the v0 grammar (unless they import rego.v1) */

struct vouch_rego_compile_opts {
    unsigned flags;
    const struct vouch_rego_host *hosts;
    size_t nhosts;
};

/*
 * Compile modules into a policy.  opts may be NULL (v1 grammar, no host
 * functions).  On success *ret is owned by the caller (free with
 * vouch_rego_policy_free); the module texts are copied.
 */
vouch_err vouch_rego_compile(const struct vouch_rego_module *mods, size_t nmods,
                             const struct vouch_rego_compile_opts *opts,
                             struct vouch_rego_policy **ret, struct vouch_errbuf *eb);

void vouch_rego_policy_free(struct vouch_rego_policy *p);

/*
 * A JSON document converted once into the engine's own values, to be used
 * as input or data by any number of evaluations (and threads).  Numbers are
 * exact: integers beyond int64 and decimals keep their text.  Parse from
 * JSON text (exact) or from a jansson value.  Free with vouch_rego_doc_free.
 */
vouch_err vouch_rego_doc_parse(const char *json, size_t len, struct vouch_rego_doc **ret,
                               struct vouch_errbuf *eb);
vouch_err vouch_rego_doc_from_json(const json_t *v, struct vouch_rego_doc **ret,
                                   struct vouch_errbuf *eb);
/* The same from a constant in Rego syntax, which may contain sets:
 * {"x": {1, 2}}. */
vouch_err vouch_rego_doc_parse_term(const char *text, size_t len, struct vouch_rego_doc **ret,
                                    struct vouch_errbuf *eb);
void vouch_rego_doc_free(struct vouch_rego_doc *d);

/* Limits; zero fields take the defaults (in parentheses). */
struct vouch_rego_limits {
    uint64_t max_steps;    /* expressions, iterations and builtin work (1,000,000): a
                              builtin is charged for the work it does (see
                              docs/rego.md), one step per VOUCH_REGO_BYTES_PER_STEP
                              bytes it allocates and per unit of scanning */
    uint32_t max_depth;    /* nested rule and function evaluations (256) */
    size_t max_memory;     /* bytes allocated by one evaluation (64 MiB) */
    size_t max_output;     /* bytes of the JSON result (16 MiB) */
    size_t max_stack;      /* bytes of C stack the evaluator may use (1 MiB); the
                              evaluating thread needs this much plus a margin */
    uint64_t max_time_ns;  /* wall-clock budget of one evaluation (none): the clock is
                              read every VOUCH_REGO_CLOCK_EVERY steps */
};

#define VOUCH_REGO_BYTES_PER_STEP 64
#define VOUCH_REGO_CLOCK_EVERY 256

/* A monotonic clock in nanoseconds (tests pass their own). */
typedef int64_t (*vouch_rego_clock_fn)(void *clock_ctx);

/* Evaluation flags. */
#define VOUCH_REGO_STRICT (1u << 0)  /* builtin errors fail the evaluation */

struct vouch_rego_eval_args {
    /* input: a prepared document, or a jansson value (read in place; it
     * must not change during the call), or neither (input undefined). */
    const struct vouch_rego_doc *input_doc;
    const json_t *input;
    /* data: the same; neither means {} */
    const struct vouch_rego_doc *data_doc;
    const json_t *data;
    int64_t now_ns;           /* what time.now_ns() returns */
    void *host_ctx;           /* passed to host functions */
    unsigned flags;
    struct vouch_rego_limits limits;
    /* what limits.max_time_ns is measured with; NULL: CLOCK_MONOTONIC */
    vouch_rego_clock_fn clock;
    void *clock_ctx;
    /* members of input objects built on first read (below); NULL: none */
    const struct vouch_rego_deferred *deferred;
};

/*
 * Members of the jansson input that are built only when the evaluation
 * reads them.  Before one of the objects in `objs` is read whole
 * (iterated, compared, converted) or asked for a member in `names` that
 * it does not have, build(ctx, obj) is called, which adds the members to
 * obj (the caller owns it: it is the one change allowed during the call)
 * and returns false when it could not (the evaluation then fails as out
 * of memory).  It may be called more than once for one object.  A policy
 * thus sees the same input whether or not the members were built before.
 */
struct vouch_rego_deferred {
    const json_t *const *objs;
    size_t n_objs;
    const char *const *names;   /* NULL-terminated */
    bool (*build)(void *ctx, const json_t *obj);
    void *ctx;
};

/*
 * Evaluate one document, e.g. "data.policy.trust_claims" (a dotted path
 * under data, brackets allowed: data.x["a-b"]).  On success *ret_value is
 * a new reference, or NULL when the document is undefined.  Sets become
 * sorted arrays; numbers outside int64 become reals (use
 * vouch_rego_eval_rule_text for exact output).
 */
vouch_err vouch_rego_eval_rule(const struct vouch_rego_policy *p, const char *path,
                               const struct vouch_rego_eval_args *args, json_t **ret_value,
                               struct vouch_errbuf *eb);

/*
 * The same for an object document, converting only the named members of
 * it to JSON (the others are evaluated, so their errors are still errors,
 * but not copied out).  A document that is not an object comes back whole.
 */
vouch_err vouch_rego_eval_rule_members(const struct vouch_rego_policy *p, const char *path,
                                       const char *const *members, size_t n_members,
                                       const struct vouch_rego_eval_args *args,
                                       json_t **ret_value, struct vouch_errbuf *eb);

/* The same, as exact JSON text (NUL-terminated, free with free());
 * "undefined" is reported as *ret_json == NULL. */
vouch_err vouch_rego_eval_rule_text(const struct vouch_rego_policy *p, const char *path,
                                    const struct vouch_rego_eval_args *args, char **ret_json,
                                    size_t *ret_len, struct vouch_errbuf *eb);

/* Result shapes for vouch_rego_query. */
#define VOUCH_REGO_RESULT_BINDINGS 0   /* [{"x": 1}, ...]: one object of variables per solution */
#define VOUCH_REGO_RESULT_FULL 1       /* opa eval style: [{"expressions": [...], "bindings": {...}}] */

/*
 * Evaluate a query ("data.x.p = y", "x := data.a[_]; x > 1") and write the
 * result set as exact JSON text ("[]" when undefined).  *ret_json is
 * NUL-terminated; free with free().
 */
vouch_err vouch_rego_query(const struct vouch_rego_policy *p, const char *query,
                           const struct vouch_rego_eval_args *args, int shape, char **ret_json,
                           size_t *ret_len, struct vouch_errbuf *eb);

#endif
