/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM service's endpoint in Alibaba Cloud's RPC style:
 *   GET|POST /?Action=NAME&Version=2020-06-13&...
 * Parameters come from the URL query, an application/x-www-form-urlencoded
 * body, or both.  A request is signed with an account's AccessKey, by
 * signature version 1 (HMAC-SHA1 over the sorted parameters) or version 3
 * (ACS3-HMAC-SHA256 in the Authorization header); its Timestamp (x-acs-date)
 * must be within 15 minutes of the service's clock, and its SignatureNonce
 * is accepted once per key in that window.  Answers are JSON: a success
 * carries RequestId and the action's fields, an error {RequestId, HostId,
 * Code, Message, Recommend} with a 4xx/5xx status (rpc_error.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "common/codec.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "server/api.h"
#include "server/replay.h"
#include "server/vtpm.h"
#include "token/accesskey.h"

/* Clock skew a request's time may have. */
#define SKEW_MS (15 * 60 * 1000LL)
#define REQUEST_ID_LEN 64     /* as X-Request-Id (vouch_request_id_ok) */
#define RECOMMEND "docs/vtpm.md#error-codes"
#define ANSWER_MAX (16u << 20)      /* an answer written as text (as vouch_http_json's cap) */

struct rpc_request {
    struct vouch_app *app;
    const struct vouch_http_req *req;
    struct vouch_rpc_params all;      /* query and form body */
    struct vouch_rpc_params query;    /* the query alone (signature v3) */
    char request_id[REQUEST_ID_LEN + 1];
    struct vouch_accesskey key;
    char key_id[VOUCH_RPC_MAX_NAME + 1];
    const char *nonce;
    int64_t time_ms;                  /* the request's Timestamp / x-acs-date */
    enum vouch_rpc_error err;
    char detail[VOUCH_VTPM_DETAIL_MAX];
};

json_t *vouch_vtpm_fail(struct vouch_vtpm_call *c, enum vouch_rpc_error err, const char *fmt,
                        ...)
{
    va_list ap;

    c->err = err;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    return NULL;
}

static bool fail(struct rpc_request *r, enum vouch_rpc_error err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct rpc_request *r, enum vouch_rpc_error err, const char *fmt, ...)
{
    va_list ap;

    r->err = err;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
    return false;
}

static bool parse_time(struct rpc_request *r, const char *value, const char *name);

/* A request id in Alibaba's shape: an upper-case UUID v4. */
static void make_request_id(char out[REQUEST_ID_LEN + 1])
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t b[16] = { 0 };
    size_t i, j = 0;

    (void)RAND_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

static void respond(struct rpc_request *r, struct vouch_http_resp *resp, unsigned status,
                    json_t *body, const char *code)
{
    if (!body) {                /* could not build the answer */
        status = vouch_rpc_error_find(VOUCH_RPC_INTERNAL)->status;
        code = vouch_rpc_error_find(VOUCH_RPC_INTERNAL)->code;
        body = json_pack("{s:s,s:s}", "Code", code, "Message", "cannot build the answer");
    }
    if (body)
        json_object_set_new(body, "RequestId", json_string(r->request_id));
    vouch_http_json(resp, status, body);
    resp->content_type = "application/json;charset=utf-8";
    resp->code = code;
    vouch_http_resp_header(resp, "x-acs-request-id", r->request_id);
}

/* Printable ASCII only: details may quote what the client sent. */
static void printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

static void respond_error_from(struct rpc_request *r, const char *host,
                               struct vouch_http_resp *resp, json_t *fields)
{
    const struct vouch_rpc_error_entry *row = vouch_rpc_error_find(r->err);
    char msg[VOUCH_VTPM_DETAIL_MAX + 160], host_id[128];
    json_t *body;

    if (r->detail[0])
        snprintf(msg, sizeof(msg), "%s %s", row->message, r->detail);
    else
        snprintf(msg, sizeof(msg), "%s", row->message);
    snprintf(host_id, sizeof(host_id), "%s", host && *host ? host : "vouch");
    printable(msg);
    printable(host_id);
    body = json_pack("{s:s,s:s,s:s,s:s}", "HostId", host_id, "Code", row->code, "Message", msg,
                     "Recommend", RECOMMEND);
    if (body && fields)
        json_object_update_missing(body, fields);
    respond(r, resp, row->status, body, row->code);
}

static void respond_error(struct rpc_request *r, struct vouch_http_resp *resp, json_t *fields)
{
    respond_error_from(r, vouch_http_header(r->req, "Host"), resp, fields);
}

/* An error answered before the request is routed (server.c): no parameters, no signature. */
static void respond_refusal(const char *request_id, const char *host, enum vouch_rpc_error err,
                            const char *detail, struct vouch_http_resp *resp)
{
    struct rpc_request r = { .err = err };

    snprintf(r.request_id, sizeof(r.request_id), "%s", request_id ? request_id : "");
    if (!r.request_id[0] || strlen(request_id) > REQUEST_ID_LEN)
        make_request_id(r.request_id);
    snprintf(r.detail, sizeof(r.detail), "%s", detail);
    respond_error_from(&r, host, resp, NULL);
}

void vouch_api_vtpm_too_large(const char *request_id, const char *host, size_t cap,
                              struct vouch_http_resp *resp)
{
    char detail[96];

    snprintf(detail, sizeof(detail), "(the request body is over %zu bytes: "
             "--vtpm-max-request)", cap);
    respond_refusal(request_id, host, VOUCH_RPC_TOO_LARGE, detail, resp);
    resp->status = 413;
}

void vouch_api_vtpm_bad_method(const struct vouch_http_req *req, const char *allow,
                               struct vouch_http_resp *resp)
{
    char detail[96];

    snprintf(detail, sizeof(detail), "(%.16s; allowed: %s)", req->method, allow);
    respond_refusal(req->request_id, vouch_http_header(req, "Host"),
                    VOUCH_RPC_METHOD_NOT_ALLOWED, detail, resp);
}

void vouch_api_vtpm_rate_limited(const char *request_id, const char *host, const char *detail,
                                 struct vouch_http_resp *resp)
{
    respond_refusal(request_id, host, VOUCH_RPC_RATE_LIMITED, detail, resp);
}

/* Every value must be UTF-8 (the answers are JSON). */
static bool params_utf8(struct rpc_request *r)
{
    const char *bad = vouch_rpc_params_not_utf8(&r->all);

    return bad ? fail(r, VOUCH_RPC_INVALID_PARAMETER, "(%s is not UTF-8)", bad) : true;
}

static bool add_query_param(void *ctx, const char *name, const char *value, size_t value_len)
{
    struct rpc_request *r = ctx;
    struct vouch_errbuf eb;
    vouch_err e;

    if (value_len != strlen(value))
        return fail(r, VOUCH_RPC_INVALID_PARAMETER, "Parameter %.64s holds a NUL byte.", name);
    e = vouch_rpc_params_add(&r->query, name, value, &eb);
    if (!e)
        e = vouch_rpc_params_add(&r->all, name, value, &eb);
    if (e)
        return fail(r, vouch_rpc_error_of(e), "%s", eb.msg);
    return true;
}

/* Collect the query's and the form body's parameters. */
static bool collect_params(struct rpc_request *r)
{
    const char *ct = vouch_http_header(r->req, "Content-Type");
    struct vouch_errbuf eb;
    vouch_err e;

    if (r->req->query_each && !r->req->query_each(r->req, add_query_param, r))
        return false;
    if (r->req->body_len && ct &&
        strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        e = vouch_rpc_params_parse(&r->all, (const char *)r->req->body, r->req->body_len, &eb);
        if (e)
            return fail(r, vouch_rpc_error_of(e), "%s", eb.msg);
    }
    return params_utf8(r);
}

static const char *header_of(void *ctx, const char *name)
{
    return vouch_http_header(ctx, name);
}

/* The access key named by the request, with its account and secret. */
static bool find_key(struct rpc_request *r, const char *id)
{
    struct vouch_errbuf eb;
    vouch_err e;

    if (!id || !*id)
        return fail(r, VOUCH_RPC_MISSING_PARAMETER, "(AccessKeyId)");
    snprintf(r->key_id, sizeof(r->key_id), "%s", id);
    e = vouch_accesskey_lookup(r->app->accesskeys, id, (int64_t)vouch_clock_us(), &r->key,
                               &eb);
    if (e == VOUCH_E_NOT_FOUND)
        return fail(r, VOUCH_RPC_ACCESS_KEY_NOT_FOUND, "%s", "");
    if (e)
        return fail(r, vouch_rpc_error_of(e) == VOUCH_RPC_UNAVAILABLE ? VOUCH_RPC_UNAVAILABLE
                                                                      : VOUCH_RPC_INTERNAL,
                    "%s", "");
    return true;
}

/* Constant-time equality of a received signature and ours. */
static bool same_signature(const char *got, const char *want)
{
    size_t n = strlen(want);

    return strlen(got) == n && vouch_memeq_ct(got, want, n);
}

/* Signature version 1: every parameter but Signature, HMAC-SHA1. */
static bool check_v1(struct rpc_request *r)
{
    static const char *const needed[] = { "AccessKeyId", "Signature", "SignatureMethod",
                                          "SignatureVersion", "SignatureNonce", "Timestamp" };
    char sig[VOUCH_RPC_V1_SIG_LEN + 1];
    struct vouch_buf sts = VOUCH_BUF_INIT(1u << 20);
    struct vouch_errbuf eb;
    vouch_err e;
    size_t i;

    for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!vouch_rpc_param(&r->all, needed[i]))
            return fail(r, VOUCH_RPC_MISSING_PARAMETER, "(%s)", needed[i]);
    if (strcmp(vouch_rpc_param(&r->all, "SignatureMethod"), "HMAC-SHA1") != 0 ||
        strcmp(vouch_rpc_param(&r->all, "SignatureVersion"), "1.0") != 0)
        return fail(r, VOUCH_RPC_INCOMPLETE_SIGNATURE,
                    "(SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0)");
    if (!find_key(r, vouch_rpc_param(&r->all, "AccessKeyId")))
        return false;
    e = vouch_rpc_v1_sign(&r->all, r->req->method, (const char *)r->key.secret, sig, &eb);
    if (e)
        return fail(r, vouch_rpc_error_of(e), "%s", eb.msg);
    if (same_signature(vouch_rpc_param(&r->all, "Signature"), sig)) {
        r->nonce = vouch_rpc_param(&r->all, "SignatureNonce");
        return parse_time(r, vouch_rpc_param(&r->all, "Timestamp"), "Timestamp");
    }
    e = vouch_rpc_v1_string_to_sign(&r->all, r->req->method, &sts, &eb);
    fail(r, VOUCH_RPC_SIGNATURE_MISMATCH, "server string to sign is:%.*s",
         e ? 0 : (int)(sts.len < 200 ? sts.len : 200), e ? "" : (const char *)sts.data);
    vouch_buf_free(&sts);
    return false;
}

/* Signature version 3: the canonical request, HMAC-SHA256, in Authorization. */
static bool check_v3(struct rpc_request *r, const char *authorization)
{
    struct vouch_rpc_v3_request q = {
        .method = r->req->method, .path = "/", .query = &r->query, .header = header_of,
        .header_ctx = (void *)r->req, .body = r->req->body, .body_len = r->req->body_len,
    };
    struct vouch_rpc_v3_auth auth;
    char sig[VOUCH_RPC_V3_SIG_LEN + 1];
    struct vouch_errbuf eb;
    vouch_err e;

    if (vouch_rpc_v3_parse_authorization(authorization, &auth, &eb) ||
        vouch_rpc_v3_check_request(&q, auth.signed_headers, &eb))
        return fail(r, VOUCH_RPC_INCOMPLETE_SIGNATURE, "(%s)", eb.msg);
    if (!find_key(r, auth.key_id))
        return false;
    e = vouch_rpc_v3_sign(&q, auth.signed_headers, (const char *)r->key.secret, sig, &eb);
    if (e)
        return fail(r, e == VOUCH_E_AUTH ? VOUCH_RPC_INCOMPLETE_SIGNATURE
                                         : vouch_rpc_error_of(e), "(%s)", eb.msg);
    if (!same_signature(auth.signature, sig))
        return fail(r, VOUCH_RPC_SIGNATURE_MISMATCH, "%s", "");
    r->nonce = vouch_http_header(r->req, "x-acs-signature-nonce");
    return parse_time(r, vouch_http_header(r->req, "x-acs-date"), "x-acs-date");
}

/* The request's time, within the allowed skew of the service's clock. */
static bool parse_time(struct rpc_request *r, const char *value, const char *name)
{
    int64_t now_ms = vouch_app_now(r->app) * 1000, t = 0, d;
    struct vouch_errbuf eb;

    if (!value || vouch_rpc_parse_timestamp(value, &t, &eb) ||
        __builtin_mul_overflow(t, 1000, &r->time_ms))
        return fail(r, VOUCH_RPC_INVALID_PARAMETER, "(%s must be YYYY-MM-DDThh:mm:ssZ)", name);
    d = now_ms > r->time_ms ? now_ms - r->time_ms : r->time_ms - now_ms;
    if (d > SKEW_MS)
        return fail(r, VOUCH_RPC_TIMESTAMP_EXPIRED, "(%s is more than 15 minutes from the "
                    "service's clock)", name);
    return true;
}

/* The action's name: the Action parameter, else (signature v3) x-acs-action. */
static const char *action_name(const struct rpc_request *r)
{
    const char *action = vouch_rpc_param(&r->all, "Action");

    return action ? action : vouch_http_header(r->req, "x-acs-action");
}

/*
 * Whether the request names an action that changes state (audited), whose
 * SignatureNonce record must survive a crash.  PutMessage is not one: its
 * report nonce is stored with the report, in the same transaction.
 */
static bool changes_state(const struct rpc_request *r)
{
    const char *name = action_name(r);
    const struct vouch_vtpm_action *a = name ? vouch_vtpm_action_find(name) : NULL;

    return a && (a->flags & VOUCH_VTPM_AUDITED);
}

/* The nonce once per key while a request carrying it could be accepted. */
static bool use_nonce(struct rpc_request *r)
{
    int64_t now_ms = vouch_app_now(r->app) * 1000;
    int64_t until = (r->time_ms > now_ms ? r->time_ms : now_ms) + SKEW_MS;
    struct vouch_errbuf eb;
    vouch_err e;

    if (!r->nonce || !*r->nonce)
        return fail(r, VOUCH_RPC_MISSING_PARAMETER, "(SignatureNonce)");
    if (r->app->replay)
        e = vouch_replay_use(r->app->replay, r->key_id, r->nonce, now_ms, until,
                             changes_state(r), &eb);
    else
        e = vouch_store_request_nonce_use(r->app->store, r->key_id, r->nonce, now_ms, until, &eb);
    if (e == VOUCH_E_CONFLICT)
        return fail(r, VOUCH_RPC_NONCE_USED, "%s", "");
    if (e)
        return fail(r, vouch_rpc_error_of(e), "(SignatureNonce: %s)", eb.msg);
    return true;
}

/* Authenticate: signature by the key, time, nonce. */
static bool authenticate(struct rpc_request *r)
{
    const char *authz = vouch_http_header(r->req, "Authorization");
    bool ok;

    if (authz && strncmp(authz, VOUCH_RPC_V3_ALGORITHM " ", sizeof(VOUCH_RPC_V3_ALGORITHM)) == 0)
        ok = check_v3(r, authz);
    else if (authz)
        ok = fail(r, VOUCH_RPC_INCOMPLETE_SIGNATURE, "(Authorization is not %s)",
                  VOUCH_RPC_V3_ALGORITHM);
    else
        ok = check_v1(r);
    return ok && use_nonce(r);
}

/* The action and version: parameters, else (signature v3) the x-acs-* headers. */
static const struct vouch_vtpm_action *find_action(struct rpc_request *r)
{
    const char *action = action_name(r);
    const char *version = vouch_rpc_param(&r->all, "Version");
    const struct vouch_vtpm_action *a;

    if (!version)
        version = vouch_http_header(r->req, "x-acs-version");
    if (!action || !*action)
        return fail(r, VOUCH_RPC_MISSING_PARAMETER, "(Action)"), NULL;
    if (!version || !*version)
        return fail(r, VOUCH_RPC_MISSING_PARAMETER, "(Version)"), NULL;
    if (strcmp(version, VOUCH_VTPM_VERSION) != 0)
        return fail(r, VOUCH_RPC_VERSION_NOT_SUPPORTED, "(this service speaks %s)",
                    VOUCH_VTPM_VERSION), NULL;
    a = vouch_vtpm_action_find(action);
    if (!a)
        return fail(r, VOUCH_RPC_ACTION_NOT_FOUND, "(%.64s)", action), NULL;
    return a;
}

/* The exchange's X-Request-Id, so logs, headers and the body agree. */
static void request_id_init(struct rpc_request *r)
{
    if (r->req->request_id && strlen(r->req->request_id) <= REQUEST_ID_LEN)
        snprintf(r->request_id, sizeof(r->request_id), "%s", r->req->request_id);
    else
        make_request_id(r->request_id);
}

/* A success written as text (`text` holds "{" and the members): add RequestId, send. */
static void respond_text(struct rpc_request *r, struct vouch_http_resp *resp,
                         struct vouch_buf *text)
{
    vouch_err e = text->len > 1 ? vouch_buf_putc(text, ',') : VOUCH_OK;

    if (!e)
        e = vouch_buf_puts(text, "\"RequestId\":");
    if (!e)
        e = vouch_json_write_string(text, r->request_id, strlen(r->request_id));
    if (!e)
        e = vouch_buf_putc(text, '}');
    if (e) {
        respond(r, resp, 200, NULL, NULL);
        return;
    }
    vouch_http_text(resp, 200, "application/json;charset=utf-8", vouch_buf_str(text),
                    text->len);
    resp->code = NULL;
    vouch_http_resp_header(resp, "x-acs-request-id", r->request_id);
}

/* Run action `a` for `account` and answer. */
static void run_action(struct rpc_request *r, const struct vouch_vtpm_action *a,
                       const char *account, struct vouch_http_resp *resp)
{
    struct vouch_vtpm_call call = { .app = r->app };
    struct vouch_buf text = VOUCH_BUF_INIT(ANSWER_MAX);
    json_t *body = NULL;
    bool ok;

    call.params = &r->all;
    call.account = account;
    call.now_ms = vouch_app_now(r->app) * 1000;
    if (!a->write)
        ok = (body = a->run(&call)) != NULL;
    else if (vouch_buf_putc(&text, '{'))
        ok = vouch_vtpm_fail(&call, VOUCH_RPC_INTERNAL, "%s", "") != NULL;    /* false */
    else
        ok = a->write(&call, &text);
    if (!ok) {
        r->err = call.err;
        memcpy(r->detail, call.detail, sizeof(r->detail));
        respond_error(r, resp, call.error_fields);
    } else if (a->write) {
        respond_text(r, resp, &text);
    } else {
        respond(r, resp, 200, body, NULL);
    }
    vouch_buf_free(&text);
    json_decref(call.error_fields);
}

/*
 * Record an authenticated state-changing call: who (the key, never its
 * secret, or "admin") and its subject, prefixed by the account when the
 * operator acted for one.
 */
static void audit(struct rpc_request *r, const struct vouch_vtpm_action *a, const char *actor,
                  const char *account, const struct vouch_http_resp *resp)
{
    static const char *const subjects[] = { "PropertyUuid", "Properties", "EventUuids" };
    char target[VOUCH_HTTP_AUDIT_TARGET_MAX + 1];
    const char *subject = NULL;
    size_t i;

    if (!(a->flags & VOUCH_VTPM_AUDITED))
        return;
    for (i = 0; !subject && i < sizeof(subjects) / sizeof(subjects[0]); i++)
        subject = vouch_rpc_param(&r->all, subjects[i]);
    snprintf(target, sizeof(target), "%s%s%s", account ? account : "", account ? ":" : "",
             subject ? subject : "");
    vouch_api_audit_record(r->app, actor, a->name, target, resp);
}

void vouch_api_vtpm_rpc(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    struct rpc_request r = { .app = app, .req = req, .all = VOUCH_RPC_PARAMS_INIT,
                             .query = VOUCH_RPC_PARAMS_INIT };
    const struct vouch_vtpm_action *a = NULL;
    char actor[VOUCH_RPC_MAX_NAME + 16];

    request_id_init(&r);
    if (!collect_params(&r) || !authenticate(&r) || !(a = find_action(&r))) {
        respond_error(&r, resp, NULL);
    } else {
        run_action(&r, a, r.key.account, resp);
        snprintf(actor, sizeof(actor), "accesskey:%s", r.key_id);
        audit(&r, a, actor, NULL, resp);
    }
    vouch_accesskey_done(&r.key);
    vouch_rpc_params_free(&r.all);
    vouch_rpc_params_free(&r.query);
}

/*
 * The operator's way in (admin bearer token, checked by the router):
 *   GET|POST /admin/vtpm/{account}?Action=NAME&Version=2020-06-13&...
 * runs any action as account {account} would, with the same parameters
 * and answers, minus the signature (docs/console.md).  The console uses it
 * when logged in with the admin token.  Its state-changing actions are
 * audited here, as "admin" on ACCOUNT:SUBJECT (the route is marked
 * VOUCH_ROUTE_SELF_AUDIT, so reads through POST are not).
 */
void vouch_api_vtpm_admin(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    struct rpc_request r = { .app = app, .req = req, .all = VOUCH_RPC_PARAMS_INIT,
                             .query = VOUCH_RPC_PARAMS_INIT };
    const struct vouch_vtpm_action *a = NULL;

    request_id_init(&r);
    if (!vouch_account_name_valid(req->params[0])) {
        fail(&r, VOUCH_RPC_INVALID_PARAMETER, "(the account in the path must be 1-%d "
             "characters of A-Z a-z 0-9 . _ - @)", VOUCH_ACCOUNT_NAME_MAX);
        respond_error(&r, resp, NULL);
    } else if (!collect_params(&r) || !(a = find_action(&r))) {
        respond_error(&r, resp, NULL);
    } else {
        run_action(&r, a, req->params[0], resp);
        audit(&r, a, "admin", req->params[0], resp);
    }
    vouch_rpc_params_free(&r.all);
    vouch_rpc_params_free(&r.query);
}
