/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"

/* Longest Authorization value looked at; the token itself is far shorter. */
#define ADMIN_AUTH_MAX 4096

/*
 * Is `Authorization: Bearer TOKEN` a token whose SHA-256 is `hash`?  The
 * whole value as sent is compared, NUL bytes and all (a value cut at a NUL
 * is not the token), through SHA-256 and a constant-time compare of the
 * digests.
 */
bool vouch_api_bearer_matches(const struct vouch_http_req *req, const uint8_t hash[32])
{
    size_t len = 0;
    const char *auth = vouch_http_header_n(req, "Authorization", &len);
    uint8_t h[32];

    if (!auth || len < 7 || len > ADMIN_AUTH_MAX || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    auth += 7;
    len -= 7;
    while (len && *auth == ' ') {
        auth++;
        len--;
    }
    if (len == 0 || memchr(auth, '\0', len))
        return false;
    if (vouch_hash(VOUCH_HASH_SHA256, auth, len, h))
        return false;
    return vouch_memeq_ct(h, hash, sizeof(h));
}

/* Is `Authorization: Bearer TOKEN` the admin token? */
bool vouch_api_admin_authorized(const struct vouch_app *app, const struct vouch_http_req *req)
{
    return vouch_api_bearer_matches(req, app->admin_hash);
}

/* GET /admin/keys: the signing keys and their state (never private material). */
void vouch_api_admin_keys(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    struct vouch_store_key *keys = NULL;
    int64_t now = vouch_clock_now();
    int64_t publish = app->cfg.token_lifetime + VOUCH_KEY_SKEW_SECONDS;
    struct vouch_errbuf eb;
    json_t *arr;
    size_t n = 0, i;
    vouch_err e;

    (void)req;
    e = vouch_store_keys_list(app->store, &keys, &n, &eb);
    if (e) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, e, eb.sub, NULL, NULL, "store: %s", eb.msg);
        return;
    }
    arr = json_array();
    for (i = 0; arr && i < n; i++) {
        const char *state = !keys[i].retired_at ? "active"
                            : keys[i].retired_at + publish > now ? "published"
                                                                 : "expired";

        json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:o,s:s}", "kid", keys[i].kid,
                                             "alg", keys[i].alg, "created_at",
                                             (json_int_t)keys[i].created_at, "retired_at",
                                             keys[i].retired_at ? json_integer(keys[i].retired_at)
                                                                : json_null(),
                                             "state", state));
    }
    vouch_store_keys_free(keys, n);
    vouch_http_json(resp, 200, json_pack("{s:o*}", "keys", arr));
}

/*
 * POST /admin/keys/rotate  {"alg": "RS256"|"ES256"|"all"} (default all):
 * new keys sign from now on; old ones stay in the JWKS until their tokens
 * expire.
 */
void vouch_api_admin_keys_rotate(struct vouch_app *app, const struct vouch_http_req *req,
                                 struct vouch_http_resp *resp)
{
    const char *alg = "all";
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb;
    json_t *body = NULL, *out;
    vouch_err e;
    size_t i;

    if (req->body_len) {
        if (!vouch_http_json_body(req, resp, &body))
            return;
        if (vouch_json_get_str(body, "alg", false, &alg, NULL, &eb)) {
            vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "alg", "%s",
                               eb.msg);
            goto out;
        }
    }
    if (strcmp(alg, "all") && vouch_jws_alg_from_name(alg) != VOUCH_JWS_RS256 &&
        vouch_jws_alg_from_name(alg) != VOUCH_JWS_ES256) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "alg",
                           "alg must be RS256, ES256 or all, not '%.32s'", alg);
        goto out;
    }
    out = json_object();
    for (i = 0; i < sizeof(vouch_keyring_algs) / sizeof(vouch_keyring_algs[0]); i++) {
        enum vouch_jws_alg a = vouch_keyring_algs[i];
        char kid[VOUCH_JWK_THUMBPRINT_LEN];

        if (strcmp(alg, "all") && strcmp(alg, vouch_jws_alg_name(a)))
            continue;
        e = vouch_keyring_rotate(app->store, app->kek, a, vouch_clock_now(), kid, &eb);
        if (e) {
            json_decref(out);
            vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, e, eb.sub, NULL, NULL, "store: %s",
                            eb.msg);
            goto out;
        }
        vouch_json_set_str(out, vouch_jws_alg_name(a), kid);
    }
    /* This replica signs with the new keys at once. */
    if (!vouch_app_keyring(app, true, &kr, &eb))
        vouch_keyring_unref(kr);
    vouch_http_audit_target(resp, "%s", alg);
    vouch_http_json(resp, 200, json_pack("{s:o}", "rotated", out));
out:
    json_decref(body);
}
