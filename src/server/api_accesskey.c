/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AccessKey pairs of the vTPM service's accounts (admin):
 *   POST   /admin/accesskeys        {"account": "NAME"} -> 201 {"Account",
 *                                   "AccessKeyId", "AccessKeySecret"}; the
 *                                   account is created when new; the secret
 *                                   is never shown again
 *   GET    /admin/accesskeys[?account=NAME]
 *                                   {"accesskeys": [{"AccessKeyId", "Account",
 *                                   "Enabled", "CreatedAt"}]}, no secrets
 *   DELETE /admin/accesskeys/{id}   disables the key for good (204)
 */
#include <openssl/crypto.h>

#include "common/json.h"
#include "server/api.h"
#include "token/accesskey.h"

void vouch_api_accesskey_post(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp)
{
    char id[VOUCH_ACCESSKEY_ID_LEN + 1], secret[VOUCH_ACCESSKEY_SECRET_LEN + 1];
    const char *account = NULL;
    struct vouch_errbuf eb;
    json_t *body = NULL;
    vouch_err e;

    if (!vouch_http_json_body(req, resp, &body))
        return;
    if (vouch_json_get_str(body, "account", true, &account, NULL, &eb) ||
        !vouch_account_name_valid(account)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "account",
                           "account must be 1-%d characters of A-Z a-z 0-9 . _ - @",
                           VOUCH_ACCOUNT_NAME_MAX);
        goto out;
    }
    e = vouch_accesskey_create(app->store, app->kek, account, vouch_app_now(app) * 1000, id,
                               secret, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        goto out;
    }
    vouch_http_json(resp, 201, json_pack("{s:s,s:s,s:s}", "Account", account, "AccessKeyId",
                                         id, "AccessKeySecret", secret));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
    vouch_http_audit_target(resp, "%s/%s", account, id);
    OPENSSL_cleanse(secret, sizeof(secret));
out:
    json_decref(body);
}

void vouch_api_accesskey_list(struct vouch_app *app, const struct vouch_http_req *req,
                              struct vouch_http_resp *resp)
{
    const char *account = vouch_http_query(req, "account");
    struct vouch_errbuf eb;
    json_t *list = NULL;
    vouch_err e;

    if (account && !vouch_account_name_valid(account)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "account",
                           "account must be 1-%d characters of A-Z a-z 0-9 . _ - @",
                           VOUCH_ACCOUNT_NAME_MAX);
        return;
    }
    e = vouch_accesskey_list_json(app->store, account, &list, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    vouch_http_json(resp, 200, json_pack("{s:o}", "accesskeys", list));
}

void vouch_api_accesskey_delete(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    vouch_err e;

    e = vouch_accesskey_disable(app->accesskeys, req->params[0], &eb);
    if (e == VOUCH_E_NOT_FOUND || e == VOUCH_E_INVALID) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, NULL,
                        NULL, "no access key '%.64s'", req->params[0]);
        return;
    }
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    resp->status = 204;
}
