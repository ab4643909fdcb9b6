/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/json.h"
#include "token/result.h"

#define FLATTEN_MAX_DEPTH 32
#define TCB_STATUS_MAX (4u << 20)

const char *const vouch_ar4si_claims[8] = {
    "instance-identity", "configuration", "executables", "file-system",
    "hardware", "runtime-opaque", "storage-opaque", "sourced-data",
};

/* AR4SI tiers as rust-ear assigns them (half-open ranges, asymmetric). */
static int tier(json_int_t v)
{
    if (v >= -1 && v <= 1)
        return 0;
    if (v >= -32 && v < 32)
        return 1;
    if (v >= -96 && v < 96)
        return 2;
    return 3;
}

const char *vouch_ear_status(const json_t *tv)
{
    static const char *const names[] = { "none", "affirming", "warning", "contraindicated" };
    const char *k;
    json_t *v;
    int worst = 0;

    if (!json_is_object(tv))
        return names[0];
    json_object_foreach((json_t *)tv, k, v) {
        int t;

        if (!json_is_integer(v))
            continue;
        t = tier(json_integer_value(v));
        if (t > worst)
            worst = t;
    }
    return names[worst];
}

static vouch_err flatten(const json_t *v, const char *prefix, json_t *out, int depth,
                         struct vouch_errbuf *eb)
{
    const char *k;
    json_t *child;

    if (depth > FLATTEN_MAX_DEPTH)
        return vouch_fail(eb, VOUCH_E_LIMIT, "claims nested deeper than %d", FLATTEN_MAX_DEPTH);
    if (!json_is_object(v) || (prefix[0] && json_object_size(v) == 0)) {
        if (!prefix[0])
            return vouch_fail(eb, VOUCH_E_INVALID, "claims must be an object");
        return json_object_set(out, prefix, (json_t *)v) ? VOUCH_E_NOMEM : VOUCH_OK;
    }
    json_object_foreach((json_t *)v, k, child) {
        size_t n = strlen(prefix) + strlen(k) + 2;
        char *key = malloc(n);
        vouch_err e;

        if (!key)
            return VOUCH_E_NOMEM;
        snprintf(key, n, "%s%s%s", prefix, prefix[0] ? "." : "", k);
        e = flatten(child, key, out, depth + 1, eb);
        free(key);
        if (e)
            return e;
    }
    return VOUCH_OK;
}

vouch_err vouch_claims_flatten(const json_t *v, const char *prefix, json_t *out,
                               struct vouch_errbuf *eb)
{
    return flatten(v, prefix ? prefix : "", out, 0, eb);
}

/* A fresh random UUID v4 string (37 bytes with NUL). */
static vouch_err vouch_uuid4(char out[37])
{
    uint8_t b[16];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return VOUCH_E_INTERNAL;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return VOUCH_OK;
}

/* iss/sub/aud/iat/nbf/exp/jti shared by both shapes. */
static vouch_err registered(const struct vouch_result *r, json_t *p, bool with_aud)
{
    char jti[37];

    if (vouch_uuid4(jti))
        return VOUCH_E_INTERNAL;
    if (vouch_json_set_str(p, "iss", r->issuer) ||
        (r->subject && vouch_json_set_str(p, "sub", r->subject)) ||
        (with_aud && vouch_json_set_str(p, "aud", r->audience ? r->audience : r->issuer)) ||
        vouch_json_set_int(p, "iat", r->iat) || vouch_json_set_int(p, "nbf", r->iat) ||
        vouch_json_set_int(p, "exp", r->iat + r->lifetime) || vouch_json_set_str(p, "jti", jti))
        return VOUCH_E_NOMEM;
    return VOUCH_OK;
}

vouch_err vouch_result_flat(const struct vouch_result *r, json_t **ret,
                            struct vouch_errbuf *eb)
{
    json_t *p = json_object(), *flat = json_object(), *cust;
    char *tcb = NULL;
    size_t len, i;
    vouch_err e;

    if (!p || !flat) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = registered(r, p, true);
    if (e) {
        vouch_fail(eb, e, "cannot build token claims");
        goto out;
    }
    /* The first device's claims as they are (Alibaba's shape); any other
     * device's under its submodule name ("gpu0.nvgpu.measres"), so that
     * devices do not overwrite each other. */
    for (i = 0; i < r->n_appraisals; i++) {
        e = vouch_claims_flatten(r->appraisals[i].annotated, i ? r->appraisals[i].submod : "",
                                 flat, eb);
        if (e)
            goto out;
    }
    e = vouch_json_dump(flat, TCB_STATUS_MAX, &tcb, &len, eb);
    if (e)
        goto out;
    cust = r->customized ? json_deep_copy(r->customized)
                         : json_pack("{s:n,s:n}", "init_data", "runtime_data");
    if (vouch_json_set_str(p, "eat_profile", VOUCH_EAT_PROFILE_FLAT) ||
        vouch_json_set_str(p, "tee", r->tee) ||
        vouch_json_set_new(p, "evaluation-reports",
                           r->evaluation_reports ? json_deep_copy(r->evaluation_reports)
                                                 : json_array()) ||
        /* vouch_json_dump wrote valid UTF-8 (it fails otherwise): no second check */
        vouch_json_set_new(p, "tcb-status", json_stringn_nocheck(tcb, len)) ||
        vouch_json_set_new(p, "customized_claims", cust)) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = p;
    p = NULL;
out:
    free(tcb);
    json_decref(flat);
    json_decref(p);
    return e;
}

vouch_err vouch_result_ear(const struct vouch_result *r, json_t **ret,
                           struct vouch_errbuf *eb)
{
    json_t *p = json_object(), *submods = json_object();
    vouch_err e;
    size_t i;

    if (!p || !submods) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = registered(r, p, r->audience != NULL);
    if (e) {
        vouch_fail(eb, e, "cannot build token claims");
        goto out;
    }
    for (i = 0; i < r->n_appraisals; i++) {
        const struct vouch_appraisal *a = &r->appraisals[i];
        json_t *tv = json_object(), *sub;
        size_t k;

        /* Every AR4SI claim present, 0 ("no claim") where the policy set none. */
        for (k = 0; tv && k < 8; k++) {
            json_t *v = a->trust_vector ? json_object_get(a->trust_vector, vouch_ar4si_claims[k])
                                        : NULL;

            json_object_set_new(tv, vouch_ar4si_claims[k],
                                json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
        }
        sub = json_pack("{s:s,s:o,s:s,s:O}", "ear.status", vouch_ear_status(a->trust_vector),
                        "ear.trustworthiness-vector", tv, "ear.appraisal-policy-id",
                        a->policy_id ? a->policy_id : "default",
                        "ear.veraison.annotated-evidence", a->annotated);
        if (!sub || json_object_set_new(submods, a->submod, sub)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    if (vouch_json_set_str(p, "eat_profile", VOUCH_EAT_PROFILE_EAR) ||
        vouch_json_set_new(p, "ear.verifier-id",
                           json_pack("{s:s,s:s}", "developer", "https://vouch.dev",
                                     "build", r->build ? r->build : "vouch")) ||
        vouch_json_set_new(p, "submods", json_incref(submods))) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = p;
    p = NULL;
out:
    json_decref(submods);
    json_decref(p);
    return e;
}
