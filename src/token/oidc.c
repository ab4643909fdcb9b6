/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token/oidc.h"

static json_t *endpoint(const char *issuer, const char *path)
{
    size_t n = strlen(issuer) + strlen(path) + 1;
    char *s = malloc(n);
    json_t *v;

    if (!s)
        return NULL;
    snprintf(s, n, "%s%s", issuer, path);
    v = json_string(s);
    free(s);
    return v;
}

vouch_err vouch_oidc_configuration(const char *issuer, json_t **ret, struct vouch_errbuf *eb)
{
    json_t *doc;

    doc = json_pack("{s:s,s:o,s:o,s:o,s:o,s:[ssss],s:[s],s:[ss],s:[s],s:[s]}",
                    "issuer", issuer,
                    "jwks_uri", endpoint(issuer, "/jwks.json"),
                    "authorization_endpoint", endpoint(issuer, "/authorize"),
                    "token_endpoint", endpoint(issuer, "/token"),
                    "userinfo_endpoint", endpoint(issuer, "/userinfo"),
                    "response_types_supported", "code", "code id_token", "id_token",
                    "token id_token",
                    "subject_types_supported", "public",
                    "id_token_signing_alg_values_supported", "RS256", "ES256",
                    "claims_supported", "tcb-status",
                    "scopes_supported", "openid");
    if (!doc)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = doc;
    return VOUCH_OK;
}
