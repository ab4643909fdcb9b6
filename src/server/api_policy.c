/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy admin API, trustee's shapes:
 *   POST   /policy        {"policy_id": ID, "policy": base64url(Rego)} ("type" ignored)
 *   GET    /policy        [{"policy-id", "policy-hash"}]
 *   GET    /policy/{id}   {"policy-id", "policy-hash", "policy": base64url(Rego)}
 *   DELETE /policy/{id}
 * A policy is compiled before it is stored; a compile error is a 400 whose
 * detail is "ID.rego:LINE:COL: message".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "policy/policy.h"
#include "server/api.h"

static bool id_ok(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 64)
        return false;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return false;
    return true;
}

static void not_found(struct vouch_http_resp *resp, const char *id)
{
    vouch_http_fail(resp, VOUCH_SCOPE_POLICY, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, NULL, NULL,
                    "no policy '%.64s'", id);
}

void vouch_api_policy_post(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    char hash[VOUCH_POLICY_HASH_LEN];
    const char *id = NULL, *b64 = NULL;
    struct vouch_errbuf eb;
    uint8_t *text = NULL;
    size_t b64len = 0, len;
    json_t *body = NULL;
    vouch_err e;

    if (!vouch_http_json_body(req, resp, &body))
        return;
    if (vouch_json_get_str(body, "policy_id", true, &id, NULL, &eb) || !id_ok(id)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "policy_id",
                           "policy_id is required: 1-64 characters of [A-Za-z0-9._-]");
        goto out;
    }
    if (vouch_json_get_str(body, "policy", true, &b64, &b64len, &eb) ||
        vouch_b64_decode(b64, b64len, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL,
                         VOUCH_POLICY_MAX_BYTES, &text, &len, &eb)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "policy",
                           "policy must be the Rego text, base64url-encoded: %s", eb.msg);
        goto out;
    }
    e = vouch_policy_put(app->policies, app->store, id, (const char *)text, len,
                         vouch_clock_now(), hash, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_POLICY_UPLOAD, e, &eb, NULL);
        goto out;
    }
    vouch_http_json(resp, 200, json_pack("{s:s,s:s}", "policy-id", id, "policy-hash", hash));
    vouch_http_audit_target(resp, "%s", id);
out:
    free(text);
    json_decref(body);
}

void vouch_api_policy_list(struct vouch_app *app, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *list;
    vouch_err e;

    (void)req;
    e = vouch_policy_list(app->store, &list, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_POLICY, e, &eb, NULL);
        return;
    }
    vouch_http_json(resp, 200, list);
}

void vouch_api_policy_get(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    char hash[VOUCH_POLICY_HASH_LEN], *text = NULL, *b64;
    struct vouch_errbuf eb;
    size_t len;
    vouch_err e;

    e = vouch_policy_get(app->store, req->params[0], &text, &len, hash, &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        not_found(resp, req->params[0]);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_POLICY, e, &eb, NULL);
        return;
    }
    b64 = vouch_b64_alloc(text, len, VOUCH_B64URL);
    vouch_http_json(resp, 200, json_pack("{s:s,s:s,s:s?}", "policy-id", req->params[0],
                                         "policy-hash", hash, "policy", b64));
    free(b64);
    free(text);
}

void vouch_api_policy_delete(struct vouch_app *app, const struct vouch_http_req *req,
                             struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    vouch_err e;

    e = vouch_policy_delete(app->store, req->params[0], &eb);
    if (e == VOUCH_E_NOT_FOUND) {
        not_found(resp, req->params[0]);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_POLICY, e, &eb, NULL);
        return;
    }
    resp->status = 204;
}
