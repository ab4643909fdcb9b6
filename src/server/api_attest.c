/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /v1/attestation (also /attestation): verify each piece of evidence,
 * evaluate the policies, answer with a signed attestation result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "server/api.h"
#include "server/attest_req.h"
#include "server/history.h"
#include "server/metrics.h"
#include "token/oidc.h"
#include "token/result.h"

/* Tokens larger than this are refused (they break HTTP headers downstream). */
#define TOKEN_MAX (256u * 1024)

/* Keys dropped from the evidence in non-verbose tokens: logs and blobs. */
static const char *const bulky[] = { "uefi_event_logs", "cc_eventlog", "additional-evidence",
                                     "measurements", "certificate" };

static void strip_bulky(json_t *v, int depth)
{
    const char *k;
    json_t *child;
    void *tmp;
    size_t i;

    if (depth > 16)
        return;
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, child) {
            for (i = 0; i < sizeof(bulky) / sizeof(bulky[0]); i++)
                if (strcmp(k, bulky[i]) == 0)
                    break;
            if (i < sizeof(bulky) / sizeof(bulky[0]))
                json_object_del(v, k);
            else
                strip_bulky(child, depth + 1);
        }
    } else if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++)
            strip_bulky(json_array_get(v, i), depth + 1);
    }
}

/* Devices appraised in one request: a TD and its GPUs count one each. */
#define MAX_DEVICES VOUCH_POLICY_MAX_DEVICES

/*
 * ?verbose: absent, the token leaves out the claims its verifier deferred
 * (tdx's per-event list uefi_event_logs), which policies still read;
 * "true", the token carries them too; "false", it leaves them and every
 * log and blob (`bulky`) out, and so does the policies' input.
 */
enum verbosity { VERBOSE_DEFAULT, VERBOSE_ALL, VERBOSE_TERSE };

/* One appraised device, from one request item. */
struct device {
    const struct vouch_attest_item *it;
    json_t *claims;             /* its claims, inside `annotated` */
    struct vouch_deferred_claims *deferred;   /* what its verifier left out, or NULL */
    char tee[33];               /* key of its claims in the annotated evidence (a copy:
                                   a multi-device verifier's names die with its claims) */
    char submod[16];            /* "cpu0", "gpu1" */
    char subject[VOUCH_OIDC_SUBJECT_MAX];   /* `sub` by its tee's rule, or "" */
    json_t *annotated;
};

static void problem(struct vouch_http_resp *resp, const struct vouch_attest_problem *p)
{
    vouch_http_problem(resp, p->status, p->code, p->field[0] ? p->field : NULL, "%s",
                       p->detail);
}

/* A verifier's failure: fields it names are under the item's "evidence". */
static void verify_problem(struct vouch_http_resp *resp, const struct vouch_attest_item *it,
                           vouch_err e, const struct vouch_errbuf *eb)
{
    char field[160];

    snprintf(field, sizeof(field), "evidence%s%s", eb->field[0] ? "." : "", eb->field);
    vouch_http_fail(resp, VOUCH_SCOPE_EVIDENCE, e, eb->sub, it->path, field, "%s", eb->msg);
}

/*
 * The evidence as policies and tokens see it (trustee's annotated
 * evidence): {"<tee>": claims, "report_data": hex, "init_data": hex,
 * "runtime_data_claims": structured|null, "init_data_claims": ...|null}.
 */
static json_t *annotate(const struct vouch_attest_item *it, const char *tee, json_t *claims)
{
    json_t *a = json_object();
    json_t *rd = json_incref(json_object_get(claims, "report_data"));
    json_t *id = json_incref(json_object_get(claims, "init_data"));

    json_object_del(claims, "report_data");
    json_object_del(claims, "init_data");
    json_object_set(a, tee, claims);
    json_object_set_new(a, "report_data", rd ? rd : json_null());
    json_object_set_new(a, "init_data", id ? id : json_null());
    json_object_set_new(a, "runtime_data_claims",
                        it->runtime.structured ? json_incref(it->runtime.structured)
                                               : json_null());
    json_object_set_new(a, "init_data_claims",
                        it->init_data_claims ? json_incref(it->init_data_claims)
                        : it->init.structured ? json_incref(it->init.structured)
                                              : json_null());
    return a;
}

static json_t *customized(const struct vouch_attest_req *req)
{
    const struct vouch_attest_item *it = &req->items[0];

    return json_pack("{s:O?,s:O?}", "init_data",
                     it->init_data_claims ? it->init_data_claims : it->init.structured,
                     "runtime_data", it->runtime.structured);
}

/*
 * The request's `audience`: NULL when absent (the token's aud is then the
 * issuer), the issuer, or one of --allowed-audiences.  Anything else is a
 * 400 naming the field.
 */
static bool audience(const struct vouch_app *app, const json_t *body, const char **ret,
                     struct vouch_http_resp *resp)
{
    const json_t *v = json_object_get(body, "audience");
    const char *aud;

    *ret = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "audience",
                           "audience must be a string");
        return false;
    }
    aud = json_string_value(v);
    if (strcmp(aud, app->issuer) && !vouch_config_audience_listed(&app->cfg, aud)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "audience",
                           "audience '%.64s' is not allowed: it must be the issuer or one "
                           "of --allowed-audiences", aud);
        return false;
    }
    *ret = aud;
    return true;
}

/* A device's `sub` by the rule of its tee's verifier (docs/oidc.md); "" when none. */
static void subject(const char *tee, const json_t *claims, char out[VOUCH_OIDC_SUBJECT_MAX])
{
    const struct vouch_verifier *v = vouch_verifier_find(tee);
    struct vouch_errbuf eb;

    out[0] = '\0';
    if (v && v->subject_claims &&
        vouch_oidc_subject(tee, v->subject_claims, claims, out, &eb) != VOUCH_OK)
        out[0] = '\0';
}

/*
 * File the verified claims of one request item as one device, or as
 * several for a multi-device verifier ({"devices": [{"class", "tee",
 * "claims"}]}).  Numbers devices per class across the request.  False
 * when the request holds more than MAX_DEVICES.
 */
static bool add_devices(const struct vouch_attest_item *it, json_t *claims,
                        struct vouch_deferred_claims *deferred, bool strip, struct device *dev,
                        size_t *n_dev, unsigned *n_cpu, unsigned *n_gpu)
{
    json_t *list = it->verifier->multi_device ? json_object_get(claims, "devices") : NULL;
    size_t i, n = list ? json_array_size(list) : 1;

    for (i = 0; i < n; i++) {
        json_t *d = list ? json_array_get(list, i) : NULL;
        const char *cls = d ? json_string_value(json_object_get(d, "class")) : "cpu";
        const char *tee = d ? json_string_value(json_object_get(d, "tee")) : it->tee;
        json_t *c = d ? json_object_get(d, "claims") : claims;
        struct device *x;
        bool gpu = cls && strcmp(cls, "gpu") == 0;

        if (*n_dev >= MAX_DEVICES || !tee || strlen(tee) >= sizeof(x->tee) ||
            !json_is_object(c))
            return false;
        x = &dev[(*n_dev)++];
        x->it = it;
        x->claims = c;
        x->deferred = list ? NULL : deferred;   /* deferral is for single devices */
        snprintf(x->tee, sizeof(x->tee), "%s", tee);
        snprintf(x->submod, sizeof(x->submod), "%s%u", gpu ? "gpu" : "cpu",
                 gpu ? (*n_gpu)++ : (*n_cpu)++);
        subject(tee, c, x->subject);
        x->annotated = annotate(it, tee, c);
        if (strip)
            strip_bulky(x->annotated, 0);
    }
    return true;
}

/* ?verbose, or false after a 400 for a value that is neither "true" nor "false". */
static bool verbosity(const struct vouch_http_req *req, enum verbosity *ret,
                      struct vouch_http_resp *resp)
{
    const char *v = vouch_http_query(req, "verbose");

    *ret = !v ? VERBOSE_DEFAULT : strcmp(v, "true") == 0 ? VERBOSE_ALL : VERBOSE_TERSE;
    if (v && strcmp(v, "true") && strcmp(v, "false")) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "verbose",
                           "verbose must be 'true' or 'false'");
        return false;
    }
    return true;
}

/*
 * Verify one item: through verify_deferred when its verifier has one, so
 * that bulky claims are built only when wanted (at once for ?verbose=true,
 * on a policy's first read otherwise, never for ?verbose=false).
 */
static vouch_err verify_item(struct vouch_app *app, const struct vouch_attest_item *it,
                             const struct vouch_binding *b, int64_t now, enum verbosity vb,
                             json_t **ret_claims, struct vouch_deferred_claims **ret_deferred,
                             struct vouch_errbuf *eb)
{
    const struct vouch_verifier *v = it->verifier;
    void *trust = vouch_app_trust(app, it->tee);
    struct vouch_deferred_claims *d = NULL;
    json_t *claims = NULL;
    vouch_err e;

    if (!v->verify_deferred)
        e = v->verify(v, trust, it->evidence, it->evidence_len, b, now, &claims, eb);
    else
        e = v->verify_deferred(v, trust, it->evidence, it->evidence_len, b, now, &claims, &d,
                               eb);
    if (!e && d && vb == VERBOSE_ALL)
        e = d->build(d, claims, eb);
    if (e) {
        json_decref(claims);
        if (d)
            d->free(d);
        return e;
    }
    *ret_claims = claims;
    *ret_deferred = d;
    return VOUCH_OK;
}

/* The policies' view of the devices' deferred claims (vouch_engine_deferred). */
#define MAX_DEFERRED_NAMES 8
struct deferred_view {
    struct vouch_engine_deferred engine;
    const json_t *objs[MAX_DEVICES];
    const char *names[MAX_DEFERRED_NAMES + 1];
    struct device *dev;
    size_t n_dev;
};

static bool build_deferred(void *ctx, const json_t *obj)
{
    struct deferred_view *view = ctx;
    struct vouch_errbuf eb;
    size_t i;

    for (i = 0; i < view->n_dev; i++) {
        struct device *d = &view->dev[i];

        if (d->deferred && d->claims == obj)
            return d->deferred->build(d->deferred, d->claims, &eb) == VOUCH_OK;
    }
    return true;
}

static void add_name(struct deferred_view *view, const char *name)
{
    size_t k;

    for (k = 0; view->names[k]; k++)
        if (strcmp(view->names[k], name) == 0)
            return;
    if (k < MAX_DEFERRED_NAMES)
        view->names[k] = name;
}

/* NULL when no device has deferred claims. */
static const struct vouch_engine_deferred *deferred_view(struct deferred_view *view,
                                                         struct device *dev, size_t n_dev)
{
    const char *const *name;
    size_t i;

    memset(view, 0, sizeof(*view));
    view->dev = dev;
    view->n_dev = n_dev;
    for (i = 0; i < n_dev; i++) {
        if (!dev[i].deferred)
            continue;
        view->objs[view->engine.n_objs++] = dev[i].claims;
        for (name = dev[i].deferred->names; *name; name++)
            add_name(view, *name);
    }
    view->engine.objs = view->objs;
    view->engine.names = view->names;
    view->engine.build = build_deferred;
    view->engine.ctx = view;
    return view->engine.n_objs ? &view->engine : NULL;
}

/* The default token: without the deferred claims a policy may have had built. */
static void drop_deferred(struct device *dev, size_t n_dev)
{
    const char *const *name;
    size_t i;

    for (i = 0; i < n_dev; i++)
        for (name = dev[i].deferred ? dev[i].deferred->names : NULL; name && *name; name++)
            json_object_del(dev[i].claims, *name);
}

/* What the attestation history keeps of one request, filled as it is answered. */
struct summary {
    char tee[33];
    char policy_ids[VOUCH_STORE_ATTESTATION_TEXT_MAX + 1];   /* JSON array text */
    int64_t allow;               /* -1 until the policies ran */
    char tcb_status[65];
};

static void summarize_request(const struct vouch_attest_req *ar, struct summary *sum)
{
    json_t *ids = json_array();
    char *text;
    size_t i;

    snprintf(sum->tee, sizeof(sum->tee), "%s", ar->n_items ? ar->items[0].tee : "");
    for (i = 0; ids && i < ar->n_policies; i++)
        json_array_append_new(ids, json_string(ar->policy_ids[i]));
    text = ids ? json_dumps(ids, JSON_COMPACT) : NULL;
    if (text && strlen(text) < sizeof(sum->policy_ids))
        memcpy(sum->policy_ids, text, strlen(text) + 1);
    free(text);
    json_decref(ids);
}

/* The first device's tcb_status claim, when its verifier makes one. */
static void summarize_devices(const struct device *dev, size_t n_dev, struct summary *sum)
{
    json_t *claims = n_dev ? json_object_get(dev[0].annotated, dev[0].tee) : NULL;
    const char *tcb = json_string_value(json_object_get(claims, "tcb_status"));

    if (tcb)
        snprintf(sum->tcb_status, sizeof(sum->tcb_status), "%s", tcb);
}

/*
 * One request, from its body to its token, in the order it is answered:
 * request (the body parsed), devices (each item verified and bound), the
 * policies' outcome, then the token.  Freed by attestation_done().
 */
struct attestation {
    struct vouch_app *app;
    int64_t now;
    enum verbosity vb;
    bool ear;                   /* ?token=ear, or --token-format ear */
    const char *aud;
    json_t *body;
    struct vouch_attest_req ar;
    struct device dev[MAX_DEVICES];
    size_t n_dev;
    unsigned n_cpu, n_gpu;
    struct vouch_policy_outcome outcome;
};

/* The query, the body and its audience: false once the answer is written. */
static bool attestation_request(struct attestation *a, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp)
{
    const char *fmt = vouch_http_query(req, "token");
    struct vouch_attest_problem p = { 0 };

    if (fmt && strcmp(fmt, "ear") && strcmp(fmt, "flat")) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "token",
                           "token must be 'flat' or 'ear'");
        return false;
    }
    a->ear = fmt ? strcmp(fmt, "ear") == 0 : a->app->cfg.token_ear;
    if (!verbosity(req, &a->vb, resp) || !vouch_http_json_body(req, resp, &a->body) ||
        !audience(a->app, a->body, &a->aud, resp))
        return false;
    if (!vouch_attest_req_parse(a->body, a->app->cfg.max_body, &a->ar, &p)) {
        problem(resp, &p);
        return false;
    }
    return true;
}

/* Verify one item, bind it, run the Rego its init data carries, add its devices. */
static bool attestation_item(struct attestation *a, struct vouch_attest_item *it,
                             struct vouch_initdata_eval *agent, struct vouch_http_resp *resp)
{
    struct vouch_binding b = {
        it->has_runtime ? it->runtime.bytes : NULL, it->runtime.len,
        it->has_init ? it->init.bytes : NULL, it->init.len,
    };
    struct vouch_deferred_claims *deferred = NULL;
    struct vouch_attest_problem p = { 0 };
    struct vouch_errbuf eb = { "" };
    json_t *claims = NULL;
    bool ok = false;
    uint64_t t0;
    vouch_err e;

    if (!vouch_attest_check_challenge(it, a->app->challenge_secret, vouch_clock_now(), &p)) {
        problem(resp, &p);
        return false;
    }
    /* An expected empty runtime_data still means "check it's all zero". */
    if (it->has_runtime && !b.report_data)
        b.report_data = (const uint8_t *)"";
    if (it->has_init && !b.init_data)
        b.init_data = (const uint8_t *)"";
    t0 = vouch_clock_us();
    e = verify_item(a->app, it, &b, a->now, a->vb, &claims, &deferred, &eb);
    vouch_metrics_verification(it->verifier, e, vouch_clock_us() - t0);
    if (e) {
        verify_problem(resp, it, e, &eb);
        goto out;
    }
    /* verified and bound to its init data: only now run the Rego it carries */
    if (!vouch_attest_agent_policy(it, agent, &p)) {
        problem(resp, &p);
        goto out;
    }
    if (!add_devices(it, claims, deferred, a->vb == VERBOSE_TERSE, a->dev, &a->n_dev,
                     &a->n_cpu, &a->n_gpu)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT",
                           a->ar.trustee_form ? "verification_requests" : "evidence",
                           "at most %d devices (CPUs and GPUs) in one request", MAX_DEVICES);
        goto out;
    }
    deferred = NULL;  /* the device owns it now */
    ok = true;
out:
    json_decref(claims);
    if (deferred)
        deferred->free(deferred);
    return ok;
}

/* Every policy against every device; a flat token needs every one to allow. */
static bool attestation_appraise(struct attestation *a, struct vouch_http_resp *resp,
                                 struct summary *sum)
{
    struct vouch_engine_limits limits = { a->app->cfg.rego_timeout_ms, NULL, NULL };
    const json_t *inputs[MAX_DEVICES];
    struct deferred_view view;
    struct vouch_errbuf eb = { "" };
    uint64_t t0;
    vouch_err e;
    size_t i;

    for (i = 0; i < a->n_dev; i++)
        inputs[i] = a->dev[i].annotated;
    limits.deferred = a->vb == VERBOSE_TERSE ? NULL : deferred_view(&view, a->dev, a->n_dev);
    t0 = vouch_clock_us();
    e = vouch_policy_appraise_limited(a->app->policies, a->app->store, a->ar.policy_ids,
                                      a->ar.n_policies, inputs, a->n_dev, a->now, &limits,
                                      &a->outcome, &eb);
    vouch_metrics_policy(e, a->outcome.allow, vouch_clock_us() - t0);
    summarize_devices(a->dev, a->n_dev, sum);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_APPRAISAL, e, &eb, NULL);
        return false;
    }
    sum->allow = a->outcome.allow ? 1 : 0;
    if (!a->ear && !a->outcome.allow) {
        vouch_http_problem(resp, 403, "VOUCH.POLICY.REJECTED", NULL,
                           "the evidence verified, but policy %s did not allow it (flat "
                           "tokens are only issued when every policy allows; ask for "
                           "?token=ear to get the trust vector)", a->outcome.rejected_by);
        return false;
    }
    return true;
}

/* The token's payload, flat or EAR, signed with the active key, as the answer. */
static void attestation_token(struct attestation *a, struct vouch_http_resp *resp)
{
    struct vouch_appraisal appr[MAX_DEVICES];
    struct vouch_result res = { 0 };
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb = { "" };
    json_t *payload = NULL, *cust;
    char *token = NULL;
    size_t i, len;
    vouch_err e;

    if (a->vb == VERBOSE_DEFAULT)
        drop_deferred(a->dev, a->n_dev);
    for (i = 0; i < a->n_dev; i++)
        appr[i] = (struct vouch_appraisal){ .submod = a->dev[i].submod, .tee = a->dev[i].tee,
                                            .annotated = a->dev[i].annotated,
                                            .trust_vector = a->outcome.trust_vectors[i],
                                            .policy_id = a->outcome.first_policy_id };
    cust = customized(&a->ar);
    res.issuer = a->app->issuer;
    res.audience = a->aud;
    res.subject = a->dev[0].subject[0] ? a->dev[0].subject : NULL;
    res.iat = vouch_clock_now();
    res.lifetime = a->app->cfg.token_lifetime;
    res.tee = a->ar.items[0].tee;
    res.evaluation_reports = a->outcome.reports;
    res.customized = cust;
    res.appraisals = appr;
    res.n_appraisals = a->n_dev;
    res.build = "vouch " VOUCH_VERSION;
    e = a->ear ? vouch_result_ear(&res, &payload, &eb) : vouch_result_flat(&res, &payload, &eb);
    if (!e)
        e = vouch_app_keyring(a->app, false, &kr, &eb);
    if (!e)
        e = vouch_keyring_sign(kr, a->app->token_alg, payload, TOKEN_MAX, &token, &len, &eb);
    if (e)
        vouch_http_fail(resp, VOUCH_SCOPE_TOKEN, e, eb.sub, NULL, NULL, "%s%s", eb.msg,
                        e == VOUCH_E_TOO_LARGE
                            ? "; ask for ?verbose=false to leave logs and blobs out" : "");
    else {
        vouch_http_text(resp, 200, "application/jwt", token, len);
        vouch_http_resp_header(resp, "Cache-Control", "no-store");
    }
    free(token);
    vouch_keyring_unref(kr);
    json_decref(payload);
    json_decref(cust);
}

static void attestation_done(struct attestation *a)
{
    size_t i;

    vouch_policy_outcome_done(&a->outcome);
    for (i = 0; i < a->n_dev; i++) {
        json_decref(a->dev[i].annotated);
        if (a->dev[i].deferred)
            a->dev[i].deferred->free(a->dev[i].deferred);
    }
    vouch_attest_req_done(&a->ar);
    json_decref(a->body);
}

static void attest(struct vouch_app *app, const struct vouch_http_req *req,
                   struct vouch_http_resp *resp, struct summary *sum)
{
    struct attestation a;
    struct vouch_initdata_eval agent;
    size_t i;

    memset(&a, 0, sizeof(a));
    a.app = app;
    a.now = vouch_app_now(app);
    agent = (struct vouch_initdata_eval){ a.now, app->cfg.rego_initdata_timeout_ms, NULL, NULL };
    if (!attestation_request(&a, req, resp))
        goto out;
    summarize_request(&a.ar, sum);
    for (i = 0; i < a.ar.n_items; i++)
        if (!attestation_item(&a, &a.ar.items[i], &agent, resp))
            goto out;
    if (attestation_appraise(&a, resp, sum))
        attestation_token(&a, resp);
out:
    attestation_done(&a);
}

/* Hand one row to the attestation history's writer (history.h); never waits for the store. */
static void record(struct vouch_app *app, const struct vouch_http_req *req,
                   const struct vouch_http_resp *resp, const struct summary *sum)
{
    struct vouch_store_attestation row;

    memset(&row, 0, sizeof(row));
    row.time_ms = vouch_clock_now() * 1000;
    memcpy(row.tee, sum->tee, sizeof(row.tee));
    row.policy_ids = (char *)sum->policy_ids;
    row.allow = sum->allow;
    row.tcb_status = (char *)sum->tcb_status;
    row.http_status = resp->status;
    row.error_code = (char *)(resp->status >= 400 && resp->code ? resp->code : "");
    snprintf(row.request_id, sizeof(row.request_id), "%s",
             req->request_id ? req->request_id : "");
    (void)vouch_history_add(app->history, &row);
}

void vouch_api_attest(struct vouch_app *app, const struct vouch_http_req *req,
                      struct vouch_http_resp *resp)
{
    struct summary sum = { .policy_ids = "[]", .allow = -1 };

    attest(app, req, resp, &sum);
    if (app->history)
        record(app, req, resp, &sum);
}
