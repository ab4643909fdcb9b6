/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/toml.h"
#include "policy/initdata.h"
#include "rego/rego.h"

/* The kata agent policy's policy_data, or NULL when it has none. */
static json_t *agent_policy_data(const char *rego, size_t len, int64_t now)
{
    static const unsigned grammars[] = { VOUCH_REGO_V0, 0 };
    struct vouch_rego_module m = { "policy.rego", rego, len };
    json_t *out = NULL;
    size_t i;

    for (i = 0; i < sizeof(grammars) / sizeof(grammars[0]) && !out; i++) {
        struct vouch_rego_compile_opts opts = { grammars[i], NULL, 0 };
        struct vouch_rego_eval_args args;
        struct vouch_rego_policy *pol = NULL;

        if (vouch_rego_compile(&m, 1, &opts, &pol, NULL))
            continue;
        memset(&args, 0, sizeof(args));
        args.now_ns = now * 1000000000;
        args.limits.max_steps = 200000;
        args.limits.max_memory = 16u << 20;
        args.limits.max_output = 1u << 20;
        if (vouch_rego_eval_rule(pol, "data.agent_policy.policy_data", &args, &out, NULL))
            out = NULL;
        vouch_rego_policy_free(pol);
    }
    return out;
}

vouch_err vouch_initdata_parse(const char *toml, size_t len, int64_t now, enum vouch_hash *ret_alg,
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
    v = json_object_get(claims, "policy.rego");
    if (json_is_string(v)) {
        json_t *pd = agent_policy_data(json_string_value(v), json_string_length(v), now);

        if (pd) {
            json_object_del(claims, "policy.rego");
            json_object_set_new(claims, "agent_policy_claims", pd);
        }
    }
    *ret_alg = (enum vouch_hash)h;
    *ret_claims = claims;
    claims = NULL;
out:
    json_decref(claims);
    json_decref(doc);
    return e;
}
