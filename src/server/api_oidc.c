/* SPDX-License-Identifier: Apache-2.0 */
#include "server/api.h"
#include "token/oidc.h"

void vouch_api_openid_configuration(struct vouch_app *app, const struct vouch_http_req *req,
                                    struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *doc;
    vouch_err e;

    (void)req;
    e = vouch_oidc_configuration(app->issuer, &doc, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    vouch_http_json(resp, 200, doc);
    vouch_http_resp_header(resp, "Cache-Control", "public, max-age=3600");
}

void vouch_api_jwks(struct vouch_app *app, const struct vouch_http_req *req,
                    struct vouch_http_resp *resp)
{
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb;
    json_t *jwks;
    vouch_err e;

    (void)req;
    e = vouch_app_keyring(app, false, &kr, &eb);
    if (!e)
        e = vouch_keyring_jwks(kr, &jwks, &eb);
    if (e) {
        vouch_keyring_unref(kr);
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, e, eb.sub, NULL, NULL, "keys: %s", eb.msg);
        return;
    }
    vouch_keyring_unref(kr);
    vouch_http_json(resp, 200, jwks);
    resp->content_type = "application/jwk-set+json";
    /* Short, so a rotation made on another replica shows up quickly. */
    vouch_http_resp_header(resp, "Cache-Control", "public, max-age=60");
}

/*
 * /authorize, /token, /userinfo: listed in the discovery document because
 * OIDC clients require them, but Vouch issues tokens only as attestation
 * results.
 */
void vouch_api_oidc_unsupported(struct vouch_app *app, const struct vouch_http_req *req,
                                struct vouch_http_resp *resp)
{
    (void)app;
    vouch_http_problem(resp, 501, "VOUCH.OIDC.FLOW_NOT_SUPPORTED", NULL,
                       "%s: Vouch issues tokens only as attestation results "
                       "(POST /v1/attestation); verify them with the keys at /jwks.json",
                       req->path);
}
