/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_ENGINE_H
#define VOUCH_POLICY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"
#include "vouch/err.h"

/*
 * The seam between appraisal policies and the Rego engine (engine.c is the
 * only file that knows src/rego's API).
 */
struct vouch_engine_policy;

/* Compile one module; errors read "NAME:LINE:COL: message". */
vouch_err vouch_engine_compile(const char *name, const char *text, size_t len,
                               struct vouch_engine_policy **ret, struct vouch_errbuf *eb);
void vouch_engine_policy_free(struct vouch_engine_policy *p);

/*
 * Limits of one evaluation of an admin policy.  Steps (1,000,000), depth
 * (256) and memory (64 MiB) are the engine's defaults; the wall-clock
 * budget is timeout_ms.  Exceeding any fails with VOUCH_E_LIMIT.
 */
#define VOUCH_ENGINE_TIMEOUT_MS 50u

typedef int64_t (*vouch_engine_clock_fn)(void *clock_ctx);   /* monotonic ns */

/*
 * Members of input objects built only when a policy reads them (a
 * verifier's deferred claims): before a policy reads one of `objs` whole,
 * or asks it for a member in `names` it does not have, build(ctx, obj)
 * adds them to obj; false means out of memory and fails the evaluation.
 * The policy sees the same input as if they had been there all along.
 */
struct vouch_engine_deferred {
    const json_t *const *objs;
    size_t n_objs;
    const char *const *names;       /* NULL-terminated */
    bool (*build)(void *ctx, const json_t *obj);
    void *ctx;
};

/* How one evaluation runs: its limits, and the input's deferred members. */
struct vouch_engine_limits {
    uint32_t timeout_ms;            /* 0: VOUCH_ENGINE_TIMEOUT_MS */
    vouch_engine_clock_fn clock;    /* NULL: CLOCK_MONOTONIC (tests pass their own) */
    void *clock_ctx;
    const struct vouch_engine_deferred *deferred;   /* NULL: none */
};

/*
 * Evaluate data.policy for `input`; *ret is the package's document (an
 * object; empty when nothing is defined) with only its `allow` and
 * `trust_claims` members, the two an appraisal reads.  Every rule of the
 * package is still evaluated (an error in any of them fails the call), but
 * the others are not converted to JSON: a rule such as `claims :=
 * input.tdx` would otherwise copy the whole input, event logs included.
 * query_reference_value reads `store` at `now`.  `lim` may be NULL (the
 * defaults).
 */
vouch_err vouch_engine_eval(const struct vouch_engine_policy *p, const json_t *input,
                            struct vouch_store *store, int64_t now,
                            const struct vouch_engine_limits *lim, json_t **ret,
                            struct vouch_errbuf *eb);

#endif
