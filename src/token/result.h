/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_RESULT_H
#define VOUCH_TOKEN_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * Attestation-result token payloads.
 *
 * Flat (default; Alibaba's hosted shape, trustee's legacy "simple" token):
 *   iss, sub, aud, iat, nbf, exp, jti (UUID v4), eat_profile, tee,
 *   evaluation-reports [{policy-id, policy-hash, allow}],
 *   tcb-status (a JSON *string* of the flattened claims: "tdx.quote.body.mr_td",
 *   "report_data", ...; a second and later device's under its submodule
 *   name, "gpu0.nvgpu.measres"), customized_claims {init_data, runtime_data}.
 *
 * EAR (trustee's current shape, Veraison EAR):
 *   eat_profile, iss, sub, (aud when the request asked for one), iat, nbf,
 *   exp, jti, ear.verifier-id,
 *   submods {"cpu0": {ear.status, ear.trustworthiness-vector,
 *   ear.appraisal-policy-id, ear.veraison.annotated-evidence}, "gpu0": ...}.
 */

#define VOUCH_EAT_PROFILE_FLAT "https://www.alibabacloud.com/help/en/ecs/user-guide/eat-profile"
#define VOUCH_EAT_PROFILE_EAR "tag:github.com,2024:confidential-containers/Trustee"

/* The eight AR4SI trustworthiness claims, in EAR's order. */
extern const char *const vouch_ar4si_claims[8];

/* One appraised device: "cpu0", "gpu0", ... */
struct vouch_appraisal {
    const char *submod;           /* "cpu0" */
    const char *tee;              /* "tdx" */
    const json_t *annotated;      /* {"<tee>": claims, "report_data": hex, ...} */
    const json_t *trust_vector;   /* AR4SI claim -> int, from the policy; may be NULL */
    const char *policy_id;
};

struct vouch_result {
    const char *issuer;
    const char *audience;         /* the request's; NULL: the issuer (flat), none (EAR) */
    int64_t iat;
    int64_t lifetime;
    const char *tee;              /* the first request's tee */
    const json_t *evaluation_reports;  /* [{policy-id, policy-hash, allow}] */
    const json_t *customized;     /* {init_data, runtime_data}; NULL gives nulls */
    const struct vouch_appraisal *appraisals;
    size_t n_appraisals;
    const char *build;            /* "vouch 0.1.0" */
    const char *subject;          /* `sub` (vouch_oidc_subject), or NULL: none */
};

/*
 * "none" | "affirming" | "warning" | "contraindicated": the worst tier
 * among the claims set in the vector (AR4SI tiers as rust-ear assigns
 * them: [-1,1] none, [-32,31] affirming, [-96,95] warning, otherwise
 * contraindicated).  A NULL vector is "none".
 */
const char *vouch_ear_status(const json_t *trust_vector);

/*
 * Flatten nested objects into dotted keys ("tdx.quote.body.mr_td");
 * arrays and scalars are kept as values.  Adds to `out`.
 */
vouch_err vouch_claims_flatten(const json_t *v, const char *prefix, json_t *out,
                               struct vouch_errbuf *eb);

/* Build the payloads.  *ret is a new reference. */
vouch_err vouch_result_flat(const struct vouch_result *r, json_t **ret,
                            struct vouch_errbuf *eb);
vouch_err vouch_result_ear(const struct vouch_result *r, json_t **ret,
                           struct vouch_errbuf *eb);

#endif
