/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed RPC calls to the vTPM service (agent_rpc.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "agent/agent_rpc.h"
#include "common/buf.h"
#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "net/http_client.h"
#include "rpc/rpc.h"

#define ANSWER_MAX (1u << 20)
#define BODY_MAX (VOUCH_RPC_MAX_TOTAL * 3)

/* The signature parameters and the caller's, signed (Signature added last). */
static vouch_err signed_params(const struct vouch_agent_rpc *c, const char *action,
                               const char *const *params, int64_t now,
                               struct vouch_rpc_params *p, struct vouch_errbuf *eb)
{
    char ts[VOUCH_RFC3339_LEN], nonce[33], sig[VOUCH_RPC_V1_SIG_LEN + 1];
    uint8_t rnd[16];
    size_t i;
    vouch_err e;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for SignatureNonce");
    vouch_hex_encode(rnd, sizeof(rnd), nonce);
    vouch_time_format_rfc3339(now, ts);
    {
        const char *fixed[] = { "Action", action, "Version", VOUCH_AGENT_RPC_VERSION,
                                "Format", "JSON", "AccessKeyId", c->key_id,
                                "SignatureMethod", "HMAC-SHA1", "SignatureVersion", "1.0",
                                "SignatureNonce", nonce, "Timestamp", ts };

        for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i += 2)
            if ((e = vouch_rpc_params_add(p, fixed[i], fixed[i + 1], eb)))
                return e;
    }
    for (i = 0; params && params[i]; i += 2)
        if (params[i + 1] && (e = vouch_rpc_params_add(p, params[i], params[i + 1], eb)))
            return e;
    e = vouch_rpc_v1_sign(p, "POST", c->secret, sig, eb);
    if (!e)
        e = vouch_rpc_params_add(p, "Signature", sig, eb);
    return e;
}

/* name=value&... with Alibaba's encoding (a form body the service decodes). */
static vouch_err form_body(const struct vouch_rpc_params *p, struct vouch_buf *b)
{
    size_t i;
    vouch_err e = VOUCH_OK;

    for (i = 0; i < p->n && !e; i++) {
        if (i)
            e = vouch_buf_putc(b, '&');
        if (!e)
            e = vouch_rpc_encode(b, p->v[i].name, strlen(p->v[i].name));
        if (!e)
            e = vouch_buf_putc(b, '=');
        if (!e)
            e = vouch_rpc_encode(b, p->v[i].value, p->v[i].value_len);
    }
    return e;
}

static vouch_err refusal(const char *action, long status, json_t *body,
                         struct vouch_agent_rpc_fault *f, struct vouch_errbuf *eb)
{
    /* RPC errors carry Code/Message; the HTTP layer's own (413...) problem+json code/detail */
    const char *code = json_string_value(json_object_get(body, "Code"))
                           ? json_string_value(json_object_get(body, "Code"))
                           : json_string_value(json_object_get(body, "code"));
    const char *msg = json_string_value(json_object_get(body, "Message"))
                          ? json_string_value(json_object_get(body, "Message"))
                          : json_string_value(json_object_get(body, "detail"));
    json_t *next = json_object_get(body, "NextClientIMAIndex");
    vouch_err kind = VOUCH_E_INVALID;

    f->status = status;
    snprintf(f->code, sizeof(f->code), "%s", code ? code : "");
    snprintf(f->message, sizeof(f->message), "%s", msg ? msg : "");
    f->next_ima_index = json_is_integer(next) && json_integer_value(next) >= 0
                            ? (int64_t)json_integer_value(next) : -1;
    if (status >= 500)
        kind = VOUCH_E_UNAVAILABLE;
    else if (strcmp(f->code, "SignatureDoesNotMatch") == 0 ||
             strcmp(f->code, "IncompleteSignature") == 0 ||
             strncmp(f->code, "InvalidAccessKeyId", 18) == 0 ||
             strcmp(f->code, "Forbidden.NotOwner") == 0)
        kind = VOUCH_E_AUTH;     /* the credentials (or the uuid) are wrong: retrying won't help */
    else if (strcmp(f->code, "InvalidPropertyUuid.NotFound") == 0)
        kind = VOUCH_E_NOT_FOUND;
    return vouch_fail(eb, kind, "%s: %s: %s", action, code ? code : "(no Code)",
                      msg ? msg : "(no Message)");
}

static vouch_err exchange(const struct vouch_agent_rpc *c, const char *action,
                          const struct vouch_buf *body, json_t **ret,
                          struct vouch_agent_rpc_fault *f, struct vouch_errbuf *eb)
{
    char url[1024];
    size_t n = strlen(c->server);
    struct vouch_http_request req = {
        .method = "POST", .url = url, .content_type = "application/x-www-form-urlencoded",
        .body = body->data, .body_len = body->len, .accept = "application/json",
        .max = ANSWER_MAX, .timeout = c->timeout,
    };
    struct vouch_http_response resp;
    json_t *doc = NULL;
    vouch_err e;

    while (n && c->server[n - 1] == '/')
        n--;
    snprintf(url, sizeof(url), "%.*s/", (int)n, c->server);
    e = vouch_http_exchange(&req, &resp, eb);
    if (e) {
        vouch_http_response_done(&resp);
        return vouch_fail_prefix(eb, VOUCH_E_UNAVAILABLE, "%s: ", action);
    }
    if (vouch_json_parse(resp.body.data, resp.body.len, &doc, NULL) || !json_is_object(doc)) {
        e = vouch_fail(eb, resp.status >= 500 ? VOUCH_E_UNAVAILABLE : VOUCH_E_INVALID,
                       "%s: HTTP %ld without a JSON answer", action, resp.status);
        f->status = resp.status;
    } else if (resp.status != 200) {
        e = refusal(action, resp.status, doc, f, eb);
    } else {
        *ret = doc;
        doc = NULL;
    }
    json_decref(doc);
    vouch_http_response_done(&resp);
    return e;
}

vouch_err vouch_agent_rpc_call(const struct vouch_agent_rpc *c, const char *action,
                               const char *const *params, int64_t now, json_t **ret,
                               struct vouch_agent_rpc_fault *fault, struct vouch_errbuf *eb)
{
    struct vouch_rpc_params p = VOUCH_RPC_PARAMS_INIT;
    struct vouch_buf body = VOUCH_BUF_INIT(BODY_MAX);
    vouch_err e;

    memset(fault, 0, sizeof(*fault));
    fault->next_ima_index = -1;
    e = signed_params(c, action, params, now, &p, eb);
    if (!e && form_body(&p, &body))
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "%s: the request is too large", action);
    if (!e)
        e = exchange(c, action, &body, ret, fault, eb);
    vouch_rpc_params_free(&p);
    vouch_buf_free(&body);
    return e;
}

bool vouch_agent_lost_enrolment(const struct vouch_agent_rpc_fault *f)
{
    /* the service's codes for "no (active or pending) AK for this instance" */
    static const char *const codes[] = { "Forbidden.AkNotEnrolled" };
    size_t i;

    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(f->code, codes[i]) == 0)
            return true;
    return false;
}
