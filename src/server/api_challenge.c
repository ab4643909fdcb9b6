/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "common/codec.h"
#include "common/time.h"
#include "server/api.h"
#include "token/challenge.h"

/*
 * POST /challenge  (body optional: {"tee", "tee_params"}, as trustee sends)
 *   -> {"nonce": base64(32 bytes), "extra-params": {"jwt": TOKEN},
 *       "expires_at": RFC3339}
 * The attester binds the nonce into its evidence and sends the token back
 * in runtime_data; any replica can check it (see docs/api.md).
 */
void vouch_api_challenge(struct vouch_app *app, const struct vouch_http_req *req,
                         struct vouch_http_resp *resp)
{
    uint8_t nonce[VOUCH_CHALLENGE_NONCE_LEN];
    char *token = NULL, *nonce_b64, when[VOUCH_RFC3339_LEN];
    struct vouch_errbuf eb;
    json_t *body = NULL;
    int64_t expires;
    vouch_err e;

    /* A body is optional; when present it must be JSON. */
    if (req->body_len && !vouch_http_json_body(req, resp, &body))
        return;
    json_decref(body);
    e = vouch_challenge_issue(app->challenge_secret, vouch_clock_now(), VOUCH_CHALLENGE_TTL,
                              nonce, &token, &expires, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    nonce_b64 = vouch_b64_alloc(nonce, sizeof(nonce), VOUCH_B64_STD);
    vouch_time_format_rfc3339(expires, when);
    vouch_http_json(resp, 200, json_pack("{s:s?,s:{s:s},s:s}", "nonce", nonce_b64,
                                         "extra-params", "jwt", token, "expires_at", when));
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
    free(nonce_b64);
    free(token);
}
