/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "common/buf.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"
#include "server/metrics.h"

/* GET /healthz: 200 when the store answers, 503 otherwise. */
void vouch_api_healthz(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    int version = 0;
    vouch_err e;

    (void)req;
    e = vouch_store_schema_version(app->store, &version, &eb);
    if (e) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, e, eb.sub, NULL, NULL, "store: %s", eb.msg);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:s,s:s,s:i,s:b}", "status", "ok", "store",
                                         vouch_store_backend(app->store), "schema_version",
                                         version, "fixed_time", app->cfg.fixed_time_set));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
}

/*
 * GET /readyz: 200 when the service can answer attestation requests: the
 * store answers a cheap query with the schema this build uses, and the
 * signing key of the configured algorithm is loaded.  Otherwise 503 naming
 * the first failing check.
 * (vouchd has no option naming the FMSPCs it must hold collateral for, so
 * collateral is not a readiness check; see vouch_collateral_next_update_seconds.)
 */
void vouch_api_readyz(struct vouch_app *app, const struct vouch_http_req *req,
                      struct vouch_http_resp *resp)
{
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb;
    int version = 0;
    bool key;

    (void)req;
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
    if (vouch_store_schema_version(app->store, &version, &eb)) {
        vouch_http_problem(resp, 503, "VOUCH.HEALTH.NOT_READY", "store",
                           "not ready: the store does not answer: %s", eb.msg);
        return;
    }
    if (version != vouch_store_schema_latest()) {
        vouch_http_problem(resp, 503, "VOUCH.HEALTH.NOT_READY", "store",
                           "not ready: the store's schema is at version %d, this build "
                           "uses %d", version, vouch_store_schema_latest());
        return;
    }
    key = vouch_app_keyring(app, false, &kr, &eb) == VOUCH_OK &&
          vouch_keyring_active(kr, app->token_alg) != NULL;
    vouch_keyring_unref(kr);
    if (!key) {
        vouch_http_problem(resp, 503, "VOUCH.HEALTH.NOT_READY", "keys",
                           "not ready: no active signing key is loaded");
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:s,s:{s:s,s:s}}", "status", "ready", "checks",
                                         "store", "ok", "keys", "ok"));
}

/* Longest metrics page built; far above what the bounded label sets produce. */
#define METRICS_MAX (8u << 20)

/* GET /metrics: Prometheus text exposition format; --metrics-token guards it. */
void vouch_api_metrics(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp)
{
    struct vouch_buf out = VOUCH_BUF_INIT(METRICS_MAX);
    const char *tok = app->cfg.metrics_token;
    uint8_t want[32];
    size_t len;

    if (tok && (vouch_hash(VOUCH_HASH_SHA256, tok, strlen(tok), want) ||
                !vouch_api_bearer_matches(req, want))) {
        vouch_http_problem(resp, 401, "VOUCH.AUTH.UNAUTHORIZED", NULL,
                           "metrics need the metrics bearer token "
                           "(Authorization: Bearer TOKEN)");
        vouch_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"vouch-metrics\"");
        return;
    }
    if (vouch_metrics_render(app, vouch_clock_now(), &out)) {
        vouch_http_problem(resp, 503, "VOUCH.INTERNAL.OUT_OF_MEMORY", NULL,
                           "cannot build the metrics page");
        return;
    }
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp->body = (char *)vouch_buf_steal(&out, &len);
    resp->body_len = len;
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
}
