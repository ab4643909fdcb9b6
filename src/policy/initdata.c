/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/toml.h"
#include "policy/initdata.h"
#include "rego/rego.h"

/*
 * One grammar's try at the kata agent policy's policy_data: VOUCH_OK with
 * *ret NULL when the policy does not compile or defines none (or fails in
 * a way other than a limit, as trustee leaves such a policy as text).
 */
static vouch_err agent_policy_data(const char *rego, size_t len, unsigned grammar,
                                   const struct vouch_initdata_eval *opts, json_t **ret,
                                   struct vouch_errbuf *eb)
{
    struct vouch_rego_module m = { "policy.rego", rego, len };
    struct vouch_rego_compile_opts copts = { grammar, NULL, 0 };
    struct vouch_rego_policy *pol = NULL;
    struct vouch_rego_eval_args args;
    struct vouch_errbuf eeb;
    json_t *out = NULL;
    vouch_err e;

    *ret = NULL;
    if (vouch_rego_compile(&m, 1, &copts, &pol, NULL))
        return VOUCH_OK;
    memset(&args, 0, sizeof(args));
    args.now_ns = opts->now > INT64_MAX / 1000000000 || opts->now < INT64_MIN / 1000000000
                      ? 0 : opts->now * 1000000000;
    args.limits.max_steps = VOUCH_INITDATA_MAX_STEPS;
    args.limits.max_depth = VOUCH_INITDATA_MAX_DEPTH;
    args.limits.max_memory = VOUCH_INITDATA_MAX_MEMORY;
    args.limits.max_output = VOUCH_INITDATA_MAX_OUTPUT;
    args.limits.max_time_ns =
        (uint64_t)(opts->timeout_ms ? opts->timeout_ms : VOUCH_INITDATA_TIMEOUT_MS) * 1000000;
    args.clock = opts->clock;
    args.clock_ctx = opts->clock_ctx;
    e = vouch_rego_eval_rule(pol, "data.agent_policy.policy_data", &args, &out, &eeb);
    vouch_rego_policy_free(pol);
    if (e == VOUCH_E_LIMIT || e == VOUCH_E_NOMEM)
        return vouch_fail(eb, e, "data.\"policy.rego\": %s", eeb.msg);
    *ret = e ? NULL : out;
    return VOUCH_OK;
}

vouch_err vouch_initdata_agent_policy(json_t *claims, const struct vouch_initdata_eval *opts,
                                      struct vouch_errbuf *eb)
{
    static const unsigned grammars[] = { VOUCH_REGO_V0, 0 };
    json_t *v = json_object_get(claims, "policy.rego"), *pd = NULL;
    vouch_err e = VOUCH_OK;
    size_t i;

    if (!json_is_string(v))
        return VOUCH_OK;
    for (i = 0; i < sizeof(grammars) / sizeof(grammars[0]) && !pd && !e; i++)
        e = agent_policy_data(json_string_value(v), json_string_length(v), grammars[i], opts,
                              &pd, eb);
    if (e)
        return e;
    if (pd) {
        json_object_del(claims, "policy.rego");
        json_object_set_new(claims, "agent_policy_claims", pd);
    }
    return VOUCH_OK;
}

vouch_err vouch_initdata_parse(const char *toml, size_t len, enum vouch_hash *ret_alg,
                               json_t **ret_claims, struct vouch_errbuf *eb)
{
    static const char *const embedded[] = { "aa.toml", "cdh.toml" };
    json_t *doc = NULL, *data, *claims = NULL, *v;
    const char *alg;
    vouch_err e;
    size_t i;
    int h;

    e = vouch_toml_parse(toml, len, &doc, eb);
    if (e)
        return e;
    alg = json_string_value(json_object_get(doc, "algorithm"));
    h = alg ? vouch_hash_from_name(alg) : -1;
    if (h != VOUCH_HASH_SHA256 && h != VOUCH_HASH_SHA384 && h != VOUCH_HASH_SHA512) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "algorithm must be \"sha256\", \"sha384\" or "
                       "\"sha512\"");
        goto out;
    }
    data = json_object_get(doc, "data");
    if (data && !json_is_object(data)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "data must be a table");
        goto out;
    }
    claims = data ? json_deep_copy(data) : json_object();
    if (!claims) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < sizeof(embedded) / sizeof(embedded[0]); i++) {
        const char *text = json_string_value(json_object_get(claims, embedded[i]));

        if (!text)
            continue;
        e = vouch_toml_parse(text, strlen(text), &v, eb);
        if (e) {
            vouch_fail_prefix(eb, e, "data.\"%s\": ", embedded[i]);
            goto out;
        }
        json_object_set_new(claims, embedded[i], v);
    }
    *ret_alg = (enum vouch_hash)h;
    *ret_claims = claims;
    claims = NULL;
out:
    json_decref(claims);
    json_decref(doc);
    return e;
}
