/* SPDX-License-Identifier: Apache-2.0 */
/* The only file that knows src/rego's API (see engine.h). */
#include <stdlib.h>
#include <string.h>

#include "policy/engine.h"
#include "policy/refval.h"
#include "rego/rego.h"

struct vouch_engine_policy {
    struct vouch_rego_policy *rego;
};

struct host_ctx {
    struct vouch_store *store;
    int64_t now;
};

/* query_reference_value(name): the stored, unexpired values, else null. */
static vouch_err query_reference_value(void *ctx, json_t *const *args, size_t nargs,
                                       json_t **ret, struct vouch_errbuf *eb)
{
    struct host_ctx *h = ctx;
    json_t *v = NULL;
    vouch_err e;

    if (nargs != 1 || !json_is_string(args[0]))
        return vouch_fail(eb, VOUCH_E_INVALID, "query_reference_value: want a name string");
    if (!h || !h->store) {
        *ret = json_null();
        return VOUCH_OK;
    }
    e = vouch_refval_lookup(h->store, json_string_value(args[0]), h->now, &v, eb);
    if (e == VOUCH_E_NOT_FOUND) {
        *ret = json_null();
        return VOUCH_OK;
    }
    if (e)
        return e;
    *ret = v;
    return VOUCH_OK;
}

static const struct vouch_rego_host hosts[] = {
    { "query_reference_value", 1, query_reference_value },
};

vouch_err vouch_engine_compile(const char *name, const char *text, size_t len,
                               struct vouch_engine_policy **ret, struct vouch_errbuf *eb)
{
    struct vouch_rego_compile_opts opts = { 0, hosts, sizeof(hosts) / sizeof(hosts[0]) };
    struct vouch_rego_module m = { name, text, len };
    struct vouch_engine_policy *p = calloc(1, sizeof(*p));
    vouch_err e;

    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    /*
     * v1 is the default grammar.  trustee's older policies are v0 (with or
     * without `import future.keywords`): when a module does not say
     * `import rego.v1` and does not compile as v1, try v0.
     */
    e = vouch_rego_compile(&m, 1, &opts, &p->rego, eb);
    if (e == VOUCH_E_INVALID && !memmem(text, len, "import rego.v1", 14)) {
        struct vouch_errbuf eb0;

        opts.flags = VOUCH_REGO_V0;
        if (vouch_rego_compile(&m, 1, &opts, &p->rego, &eb0) == VOUCH_OK)
            e = VOUCH_OK;
        else if (memmem(text, len, "import future.keywords", 22) && eb)
            *eb = eb0;  /* it meant v0: its v0 error is the useful one */
    }
    if (e) {
        free(p);
        return e;
    }
    *ret = p;
    return VOUCH_OK;
}

void vouch_engine_policy_free(struct vouch_engine_policy *p)
{
    if (!p)
        return;
    vouch_rego_policy_free(p->rego);
    free(p);
}

vouch_err vouch_engine_eval(const struct vouch_engine_policy *p, const json_t *input,
                            struct vouch_store *store, int64_t now,
                            const struct vouch_engine_limits *lim, json_t **ret,
                            struct vouch_errbuf *eb)
{
    static const char *const members[] = { "allow", "trust_claims" };
    struct host_ctx h = { store, now };
    struct vouch_rego_eval_args args;
    struct vouch_rego_deferred df;
    json_t *doc = NULL;
    vouch_err e;

    memset(&args, 0, sizeof(args));
    args.input = input;
    args.now_ns = now > INT64_MAX / 1000000000 || now < INT64_MIN / 1000000000
                      ? 0 : now * 1000000000;
    args.host_ctx = &h;
    args.limits.max_time_ns =
        (uint64_t)(lim && lim->timeout_ms ? lim->timeout_ms : VOUCH_ENGINE_TIMEOUT_MS) * 1000000;
    if (lim && lim->clock) {
        args.clock = lim->clock;
        args.clock_ctx = lim->clock_ctx;
    }
    if (lim && lim->deferred) {
        df.objs = lim->deferred->objs;
        df.n_objs = lim->deferred->n_objs;
        df.names = lim->deferred->names;
        df.build = lim->deferred->build;
        df.ctx = lim->deferred->ctx;
        args.deferred = &df;
    }
    e = vouch_rego_eval_rule_members(p->rego, "data.policy", members,
                                     sizeof(members) / sizeof(members[0]), &args, &doc, eb);
    if (e)
        return e;
    if (!doc)
        doc = json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        return vouch_fail(eb, VOUCH_E_INVALID, "data.policy is not an object");
    }
    *ret = doc;
    return VOUCH_OK;
}
