/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_POLICY_POLICY_H
#define VOUCH_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"
#include "vouch/err.h"

/*
 * Appraisal policies: Rego modules in package `policy`, stored by id,
 * compiled once and shared by every thread.  A policy sees one device's
 * annotated evidence as `input` and answers with
 *   trust_claims  an object of AR4SI claims -> int (optional)
 *   allow         a boolean (optional: without it, allow means every set
 *                 trust claim is in the affirming tier or better)
 * and may call query_reference_value(name) for the stored reference values.
 * The id "default" is the built-in policy (data/policies/default.rego)
 * unless one was stored under that id.
 */
#define VOUCH_POLICY_KIND "policy"
#define VOUCH_POLICY_MAX_BYTES (256u * 1024)
#define VOUCH_POLICY_HASH_LEN 97          /* sha384 hex + NUL */
#define VOUCH_POLICY_MAX_DEVICES 32

struct vouch_policies;

/* The compiled-policy cache, with the built-in default compiled. */
vouch_err vouch_policies_new(struct vouch_policies **ret, struct vouch_errbuf *eb);
void vouch_policies_free(struct vouch_policies *p);

/* The compiled-policy cache's counters, and how many compiles ran so far. */
struct vouch_cache_stats;
void vouch_policies_stats(struct vouch_policies *p, struct vouch_cache_stats *ret_cache,
                          uint64_t *ret_compiles);

/*
 * Compile `text` and, when it compiles, store it as `id`.  A compile error
 * is VOUCH_E_INVALID with "POLICY_ID.rego:LINE:COL: message".
 */
vouch_err vouch_policy_put(struct vouch_policies *p, struct vouch_store *s, const char *id,
                           const char *text, size_t len, int64_t now,
                           char ret_hash[VOUCH_POLICY_HASH_LEN], struct vouch_errbuf *eb);

/* The text and hash of a policy (the built-in for an unstored "default"). */
vouch_err vouch_policy_get(struct vouch_store *s, const char *id, char **ret_text,
                           size_t *ret_len, char ret_hash[VOUCH_POLICY_HASH_LEN],
                           struct vouch_errbuf *eb);

/* [{"policy-id", "policy-hash"}], the built-in default included. */
vouch_err vouch_policy_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb);

/* Remove a stored policy; VOUCH_E_NOT_FOUND when absent. */
vouch_err vouch_policy_delete(struct vouch_store *s, const char *id, struct vouch_errbuf *eb);

struct vouch_policy_outcome {
    bool allow;                     /* every policy allowed every device */
    bool missing_policy;            /* set when a policy id does not exist */
    const char *first_policy_id;    /* what EAR names as the appraisal policy */
    char rejected_by[96];           /* first policy that did not allow */
    json_t *reports;                /* [{"policy-id", "policy-hash", "allow"}] */
    json_t *trust_vectors[VOUCH_POLICY_MAX_DEVICES]; /* per device, first policy */
};

/*
 * Evaluate each policy (none given: "default") against each device's
 * annotated evidence at `now`.  Fills `ret` (release with
 * vouch_policy_outcome_done() in every case).  A missing policy sets
 * missing_policy and fails with VOUCH_E_NOT_FOUND; an evaluation error
 * (limits, conflicts, a strict builtin error) fails with its code.
 */
vouch_err vouch_policy_appraise(struct vouch_policies *p, struct vouch_store *s,
                                const char *const *ids, size_t n_ids,
                                const json_t *const *inputs, size_t n_inputs, int64_t now,
                                struct vouch_policy_outcome *ret, struct vouch_errbuf *eb);

/* The same, each evaluation under `lim` (NULL: the engine's defaults). */
struct vouch_engine_limits;
vouch_err vouch_policy_appraise_limited(struct vouch_policies *p, struct vouch_store *s,
                                        const char *const *ids, size_t n_ids,
                                        const json_t *const *inputs, size_t n_inputs,
                                        int64_t now, const struct vouch_engine_limits *lim,
                                        struct vouch_policy_outcome *ret,
                                        struct vouch_errbuf *eb);

void vouch_policy_outcome_done(struct vouch_policy_outcome *o);

/* The built-in default policy's text. */
extern const char vouch_policy_default_text[];

#endif
