/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA RIMs (reference integrity manifests for GPU firmware):
 *   POST   /admin/rim[?name=HINT]  body: one RIM (SWID XML, or the RIM
 *                                  service's JSON); verified, then stored
 *   GET    /admin/rim              [{"id", "kind", "version", "not_after", ...}]
 *   DELETE /admin/rim/{id}
 *   GET    /v1/rim/{id}            public, in the NVIDIA RIM service's shape
 *                                  {"id", "rim": base64, "sha256", "rim_format"},
 *                                  so one vouchd can fill another (--nvgpu-rim-url)
 */
#include <stdlib.h>
#include <string.h>

#include "collateral/rim.h"
#include "common/codec.h"
#include "crypto/digest.h"
#include "server/api.h"

void vouch_api_rim_post(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    const char *name = vouch_http_query(req, "name");
    struct vouch_errbuf eb;
    json_t *report = NULL;
    vouch_err e;

    if (req->body_len == 0) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "body",
                           "the body must be one RIM: SWID XML or the RIM service's JSON");
        return;
    }
    if (name && strlen(name) >= VOUCH_NVGPU_RIM_ID_MAX) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "name",
                           "name must be shorter than %d characters", VOUCH_NVGPU_RIM_ID_MAX);
        return;
    }
    e = vouch_rim_import(app->store, app->rim_roots, req->body,
                         req->body_len, name, vouch_app_now(app), NULL, &report, &eb);
    if (e) {
        vouch_http_fail(resp, VOUCH_SCOPE_RIM_IMPORT, e, eb.sub, NULL, NULL,
                        "rejected, nothing stored: %s", eb.msg);
        return;
    }
    vouch_http_audit_target(resp, "%s", name ? name : "");
    vouch_http_json(resp, 201, report);
}

void vouch_api_rim_list(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *list = NULL;
    vouch_err e;

    (void)req;
    e = vouch_rim_list(app->store, &list, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_RIM, e, &eb, NULL);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:o}", "rims", list));
}

void vouch_api_rim_delete(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    vouch_err e;

    e = vouch_store_doc_delete(app->store, VOUCH_RIM_KIND, req->params[0], &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        vouch_http_fail(resp, VOUCH_SCOPE_RIM, e, VOUCH_SUB_NONE, NULL, NULL, "no RIM '%.128s'",
                        req->params[0]);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_RIM, e, &eb, NULL);
        return;
    }
    resp->status = 204;
}

void vouch_api_rim_get(struct vouch_app *app, const struct vouch_http_req *req,
                       struct vouch_http_resp *resp)
{
    struct vouch_store_doc *d = NULL;
    struct vouch_errbuf eb;
    uint8_t sha[32];
    char hex[65];
    char *b64 = NULL;
    vouch_err e;

    e = vouch_store_doc_get(app->store, VOUCH_RIM_KIND, req->params[0], &d, &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        vouch_http_fail(resp, VOUCH_SCOPE_RIM, e, VOUCH_SUB_NONE, NULL, NULL, "no RIM '%.128s'",
                        req->params[0]);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_RIM, e, &eb, NULL);
        return;
    }
    b64 = vouch_b64_alloc(d->body, d->body_len, VOUCH_B64_STD);
    if (!b64 || vouch_hash(VOUCH_HASH_SHA256, d->body, d->body_len, sha)) {
        vouch_http_fail(resp, VOUCH_SCOPE_RIM, VOUCH_E_NOMEM, VOUCH_SUB_NONE, NULL, NULL,
                        "out of memory");
        goto out;
    }
    vouch_hex_encode(sha, sizeof(sha), hex);
    vouch_http_json(resp, 200, json_pack("{s:s,s:s,s:s,s:s}", "id", d->id, "rim", b64,
                                         "sha256", hex, "rim_format", "SWID"));
    vouch_http_resp_header(resp, "Cache-Control", "public, max-age=3600");
out:
    free(b64);
    vouch_store_doc_free(d);
}
