/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "crypto/jcs.h"
#include "token/oidc.h"

/* Paths in a subject rule, and the canonical form hashed, at most. */
#define SUBJECT_PATHS_MAX 16
#define SUBJECT_JSON_MAX (1u << 20)
#define SUBJECT_PATH_MAX 128

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

vouch_err vouch_oidc_configuration(const char *issuer, const char *alg, json_t **ret,
                                   struct vouch_errbuf *eb)
{
    json_t *doc;

    doc = json_pack("{s:s,s:o,s:[s],s:[s],s:[s],s:[sssssssssss]}",
                    "issuer", issuer,
                    "jwks_uri", endpoint(issuer, "/jwks.json"),
                    "response_types_supported", "id_token",
                    "subject_types_supported", "public",
                    "id_token_signing_alg_values_supported", alg,
                    "claims_supported", "iss", "sub", "aud", "exp", "iat", "nbf", "jti",
                    "eat_profile", "tee", "tcb-status", "evaluation-reports");
    if (!doc)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = doc;
    return VOUCH_OK;
}

/* The value at a dotted path ("quote.body.mr_td") in nested objects, or NULL. */
static const json_t *claim_at(const json_t *claims, const char *path)
{
    char key[SUBJECT_PATH_MAX];
    const char *p = path;
    size_t n;

    while (claims && *p) {
        n = strcspn(p, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        claims = json_is_object(claims) ? json_object_get(claims, key) : NULL;
        p += n;
        if (*p == '.')
            p++;
    }
    return claims;
}

vouch_err vouch_oidc_subject(const char *tee, const char *const *paths, const json_t *claims,
                             char ret[VOUCH_OIDC_SUBJECT_MAX], struct vouch_errbuf *eb)
{
    json_t *picked = json_object();
    uint8_t digest[32];
    char hex[65], *canon = NULL;
    size_t i, len = 0;
    vouch_err e = VOUCH_OK;

    if (!picked)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; paths[i] && i < SUBJECT_PATHS_MAX && !e; i++) {
        const json_t *v = claim_at(claims, paths[i]);

        if (json_object_set_new(picked, paths[i], v ? json_deep_copy(v) : json_null()))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e)
        e = vouch_jcs(picked, SUBJECT_JSON_MAX, &canon, &len, eb);
    if (!e && vouch_hash(VOUCH_HASH_SHA256, canon, len, digest))
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot hash the subject claims");
    if (!e && strlen(tee) + 1 + 64 >= VOUCH_OIDC_SUBJECT_MAX)
        e = vouch_fail(eb, VOUCH_E_INVALID, "tee name too long for a subject");
    if (!e) {
        vouch_hex_encode(digest, sizeof(digest), hex);
        snprintf(ret, VOUCH_OIDC_SUBJECT_MAX, "%s:%s", tee, hex);
    }
    free(canon);
    json_decref(picked);
    return e;
}
