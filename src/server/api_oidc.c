/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "crypto/jose.h"
#include "server/api.h"
#include "token/oidc.h"

void vouch_api_openid_configuration(struct vouch_app *app, const struct vouch_http_req *req,
                                    struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *doc;
    vouch_err e;

    (void)req;
    e = vouch_oidc_configuration(app->issuer, vouch_jws_alg_name(app->token_alg), &doc, &eb);
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
 * The OAuth endpoints Alibaba's discovery document names (/authorize,
 * /token, /userinfo), for clients configured from it: Vouch offers no
 * OAuth flow, and says so in OAuth's own error format (RFC 6749 section
 * 5.2, RFC 6750 section 3.1), not as problem+json.  This is the table of
 * their answers; docs/oidc.md lists it.
 */
static const struct oauth_answer {
    const char *path;
    unsigned status;
    const char *error;
    const char *description;
} oauth_answers[] = {
    { "/authorize", 400, "unsupported_response_type",
      "Vouch has no authorization flow: its ID tokens are attestation results "
      "(POST /v1/attestation)" },
    { "/token", 400, "unsupported_grant_type",
      "Vouch grants no tokens at this endpoint: its ID tokens are attestation results "
      "(POST /v1/attestation)" },
    { "/userinfo", 401, "invalid_token",
      "Vouch issues no access tokens: the claims are in the attestation token itself" },
};

void vouch_api_oauth_unsupported(struct vouch_app *app, const struct vouch_http_req *req,
                                 struct vouch_http_resp *resp)
{
    const struct oauth_answer *a = &oauth_answers[0];
    const char *auth;
    size_t i;

    (void)app;
    for (i = 0; i < sizeof(oauth_answers) / sizeof(oauth_answers[0]); i++)
        if (strcmp(req->path, oauth_answers[i].path) == 0)
            a = &oauth_answers[i];
    vouch_http_json(resp, a->status, json_pack("{s:s,s:s}", "error", a->error,
                                               "error_description", a->description));
    resp->content_type = "application/json;charset=UTF-8";
    resp->code = a->error;
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
    vouch_http_resp_header(resp, "Pragma", "no-cache");
    if (a->status != 401)
        return;
    /* RFC 6750: an error code only when a token was presented. */
    auth = vouch_http_header(req, "Authorization");
    vouch_http_resp_header(resp, "WWW-Authenticate",
                           auth && *auth ? "Bearer realm=\"vouch\", error=\"invalid_token\""
                                         : "Bearer realm=\"vouch\"");
}
