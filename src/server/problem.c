/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "server/http.h"

/* Cap on any JSON response we build. */
#define RESP_MAX (16u << 20)

#define K(kind) (1u << (kind))
_Static_assert(VOUCH_E__COUNT <= 32, "vouch_problem_entry.kinds is a 32-bit set");

/* Kinds that say the input itself is malformed, and that a check on it failed. */
#define K_MALFORMED (K(VOUCH_E_INVALID) | K(VOUCH_E_TRUNCATED) | K(VOUCH_E_TOO_LARGE) | \
                     K(VOUCH_E_UNSUPPORTED))
#define K_CHECK (K(VOUCH_E_VERIFY) | K(VOUCH_E_EXPIRED) | K(VOUCH_E_NOT_YET_VALID) | \
                 K(VOUCH_E_REVOKED) | K(VOUCH_E_BINDING))

/*
 * The error table: every failure a handler answers goes through it.
 * docs/api.md lists it row for row (tests/unit/test_problem.c checks).
 * Within a scope, a row with a sub-code wins over one without.
 */
static const struct vouch_problem_entry table[] = {
    /* Any request: every kind has its answer here. */
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_INVALID) | K(VOUCH_E_TRUNCATED) | K(VOUCH_E_UNSUPPORTED),
      VOUCH_SUB_NONE, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", NULL, false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_INVALID), VOUCH_SUB_JSON, 400,
      "VOUCH.REQUEST.INVALID_JSON", NULL, false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_TOO_LARGE), VOUCH_SUB_NONE, 413, "VOUCH.REQUEST.TOO_LARGE",
      NULL, false },
    { VOUCH_SCOPE_REQUEST, K_CHECK | K(VOUCH_E_LIMIT), VOUCH_SUB_NONE, 422,
      "VOUCH.REQUEST.UNPROCESSABLE", NULL, false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404, "VOUCH.REQUEST.NOT_FOUND",
      NULL, false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_CONFLICT), VOUCH_SUB_NONE, 409, "VOUCH.REQUEST.CONFLICT",
      NULL, false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_AUTH), VOUCH_SUB_NONE, 401, "VOUCH.AUTH.UNAUTHORIZED", "",
      false },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_RATE_LIMITED), VOUCH_SUB_NONE, 429,
      "VOUCH.REQUEST.RATE_LIMITED", "", true },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_IO) | K(VOUCH_E_STORE) | K(VOUCH_E_UNAVAILABLE),
      VOUCH_SUB_NONE, 503, "VOUCH.DEPENDENCY.UNAVAILABLE", "", true },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_NOMEM), VOUCH_SUB_NONE, 503,
      "VOUCH.INTERNAL.OUT_OF_MEMORY", "", true },
    { VOUCH_SCOPE_REQUEST, K(VOUCH_E_INTERNAL), VOUCH_SUB_NONE, 500, "VOUCH.INTERNAL.ERROR", "",
      false },

    /* Verifying evidence: fields are under the item's "evidence". */
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_INVALID), VOUCH_SUB_QUOTE, 422,
      "VOUCH.EVIDENCE.INVALID_QUOTE", NULL, false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_INVALID), VOUCH_SUB_NONE, 400,
      "VOUCH.EVIDENCE.INVALID_FORMAT", NULL, false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_TRUNCATED) | K(VOUCH_E_TOO_LARGE) | K(VOUCH_E_UNSUPPORTED),
      VOUCH_SUB_NONE, 422, "VOUCH.EVIDENCE.INVALID_QUOTE", NULL, false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_VERIFY), VOUCH_SUB_EVENTLOG, 422,
      "VOUCH.EVIDENCE.EVENTLOG_MISMATCH", NULL, false },
    { VOUCH_SCOPE_EVIDENCE,
      (K_CHECK & ~K(VOUCH_E_BINDING) & ~K(VOUCH_E_REVOKED)) | K(VOUCH_E_CONFLICT),
      VOUCH_SUB_NONE, 422, "VOUCH.EVIDENCE.VERIFICATION_FAILED", NULL, false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_REVOKED), VOUCH_SUB_NONE, 422, "VOUCH.EVIDENCE.REVOKED",
      NULL, false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_BINDING), VOUCH_SUB_INIT_DATA, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "init_data", false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_BINDING), VOUCH_SUB_GPU, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "evidence.gpu_evidence", false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_BINDING), VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "runtime_data", false },
    { VOUCH_SCOPE_EVIDENCE, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 422,
      "VOUCH.COLLATERAL.MISSING", NULL, false },

    /* The challenge token an item carries. */
    { VOUCH_SCOPE_CHALLENGE, K_MALFORMED | (K_CHECK & ~K(VOUCH_E_BINDING)) | K(VOUCH_E_AUTH),
      VOUCH_SUB_NONE, 401, "VOUCH.CHALLENGE.INVALID_TOKEN", NULL, false },
    { VOUCH_SCOPE_CHALLENGE, K(VOUCH_E_BINDING), VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", NULL, false },

    /* Policies over the verified claims; NOT_FOUND only for a policy id. */
    { VOUCH_SCOPE_APPRAISAL, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404,
      "VOUCH.POLICY.NOT_FOUND", "policy_ids", false },
    { VOUCH_SCOPE_APPRAISAL, K_MALFORMED | K_CHECK | K(VOUCH_E_CONFLICT) | K(VOUCH_E_LIMIT),
      VOUCH_SUB_NONE, 422, "VOUCH.POLICY.EVALUATION_FAILED", "", false },

    /* The attestation result: its size cap, and no key to sign it with. */
    { VOUCH_SCOPE_TOKEN, K(VOUCH_E_TOO_LARGE), VOUCH_SUB_NONE, 413, "VOUCH.TOKEN.TOO_LARGE", "",
      false },
    { VOUCH_SCOPE_TOKEN, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 503,
      "VOUCH.TOKEN.NO_SIGNING_KEY", "", true },

    { VOUCH_SCOPE_POLICY, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404, "VOUCH.POLICY.NOT_FOUND",
      NULL, false },
    { VOUCH_SCOPE_POLICY_UPLOAD, K_MALFORMED | K(VOUCH_E_CONFLICT) | K(VOUCH_E_LIMIT),
      VOUCH_SUB_NONE, 400, "VOUCH.POLICY.INVALID", "policy", false },
    { VOUCH_SCOPE_RIM, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404, "VOUCH.RIM.NOT_FOUND", "id",
      false },
    { VOUCH_SCOPE_RIM_IMPORT, K(VOUCH_E_CONFLICT), VOUCH_SUB_NONE, 422, "VOUCH.RIM.INVALID",
      "name", false },
    { VOUCH_SCOPE_RIM_IMPORT, K_MALFORMED | K_CHECK | K(VOUCH_E_NOT_FOUND) | K(VOUCH_E_LIMIT),
      VOUCH_SUB_NONE, 422, "VOUCH.RIM.INVALID", "body", false },
    { VOUCH_SCOPE_COLLATERAL, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404,
      "VOUCH.COLLATERAL.NOT_FOUND", NULL, false },
    { VOUCH_SCOPE_COLLATERAL_IMPORT, K(VOUCH_E_INVALID), VOUCH_SUB_JSON, 400,
      "VOUCH.REQUEST.INVALID_JSON", NULL, false },
    { VOUCH_SCOPE_COLLATERAL_IMPORT,
      K_MALFORMED | K_CHECK | K(VOUCH_E_NOT_FOUND) | K(VOUCH_E_CONFLICT) | K(VOUCH_E_LIMIT),
      VOUCH_SUB_NONE, 422, "VOUCH.COLLATERAL.INVALID", NULL, false },
    { VOUCH_SCOPE_REFVAL, K(VOUCH_E_NOT_FOUND), VOUCH_SUB_NONE, 404,
      "VOUCH.REFERENCE_VALUE.NOT_FOUND", NULL, false },
};

static const char *const scope_names[VOUCH_SCOPE__COUNT] = {
    [VOUCH_SCOPE_REQUEST] = "request",
    [VOUCH_SCOPE_EVIDENCE] = "evidence",
    [VOUCH_SCOPE_CHALLENGE] = "challenge",
    [VOUCH_SCOPE_APPRAISAL] = "appraisal",
    [VOUCH_SCOPE_TOKEN] = "token",
    [VOUCH_SCOPE_POLICY] = "policy",
    [VOUCH_SCOPE_POLICY_UPLOAD] = "policy upload",
    [VOUCH_SCOPE_RIM] = "rim",
    [VOUCH_SCOPE_RIM_IMPORT] = "rim import",
    [VOUCH_SCOPE_COLLATERAL] = "collateral",
    [VOUCH_SCOPE_COLLATERAL_IMPORT] = "collateral import",
    [VOUCH_SCOPE_REFVAL] = "reference value",
};

const char *vouch_problem_scope_name(enum vouch_problem_scope scope)
{
    if ((unsigned)scope >= VOUCH_SCOPE__COUNT || !scope_names[scope])
        return "unknown";
    return scope_names[scope];
}

const struct vouch_problem_entry *vouch_problem_table(size_t *ret_n)
{
    *ret_n = sizeof(table) / sizeof(table[0]);
    return table;
}

static const struct vouch_problem_entry *find_row(enum vouch_problem_scope scope, vouch_err e,
                                                  enum vouch_subcode sub)
{
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].scope == scope && (table[i].kinds & K(e)) && table[i].sub == sub)
            return &table[i];
    return NULL;
}

const struct vouch_problem_entry *vouch_problem_find(enum vouch_problem_scope scope, vouch_err e,
                                                     enum vouch_subcode sub)
{
    const struct vouch_problem_entry *row = NULL;

    if (e <= VOUCH_OK || e >= VOUCH_E__COUNT)
        e = VOUCH_E_INTERNAL;
    if ((unsigned)sub >= VOUCH_SUB__COUNT)
        sub = VOUCH_SUB_NONE;
    if (sub != VOUCH_SUB_NONE)
        row = find_row(scope, e, sub);
    if (!row)
        row = find_row(scope, e, VOUCH_SUB_NONE);
    if (!row && sub != VOUCH_SUB_NONE)
        row = find_row(VOUCH_SCOPE_REQUEST, e, sub);
    if (!row)
        row = find_row(VOUCH_SCOPE_REQUEST, e, VOUCH_SUB_NONE);
    /* every kind has a request row (tests/unit/test_problem.c) */
    return row ? row : find_row(VOUCH_SCOPE_REQUEST, VOUCH_E_INTERNAL, VOUCH_SUB_NONE);
}

const char *vouch_http_reason(unsigned status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void vouch_http_resp_done(struct vouch_http_resp *resp)
{
    const char *request_id;
    const struct vouch_route *route;
    size_t i;

    if (!resp)
        return;
    free(resp->body);
    for (i = 0; i < resp->n_headers; i++)
        free(resp->headers[i].value);
    request_id = resp->request_id;
    route = resp->route;
    memset(resp, 0, sizeof(*resp));
    resp->request_id = request_id;
    resp->route = route;
}

bool vouch_request_id_ok(const char *id)
{
    size_t n = 0;

    if (!id)
        return false;
    for (; id[n]; n++)
        if (n >= VOUCH_REQUEST_ID_MAX ||
            !((id[n] >= 'A' && id[n] <= 'Z') || (id[n] >= 'a' && id[n] <= 'z') ||
              (id[n] >= '0' && id[n] <= '9') || id[n] == '.' || id[n] == '_' || id[n] == '-'))
            return false;
    return n > 0;
}

void vouch_http_resp_header(struct vouch_http_resp *resp, const char *name, const char *value)
{
    char *v;

    if (resp->n_headers >= VOUCH_HTTP_MAX_HEADERS || !(v = strdup(value)))
        return;
    resp->headers[resp->n_headers].name = name;
    resp->headers[resp->n_headers].value = v;
    resp->n_headers++;
}

static void set_body(struct vouch_http_resp *resp, unsigned status, const char *ctype,
                     char *body, size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = ctype;
    resp->body = body;
    resp->body_len = len;
}

/* Last resort when even the error response cannot be built: out of memory. */
static void internal_error(struct vouch_http_resp *resp)
{
    static const char fallback[] =
        "{\"type\":\"urn:vouch:problem:VOUCH.INTERNAL.OUT_OF_MEMORY\",\"title\":\"Service "
        "Unavailable\",\"status\":503,\"detail\":\"out of memory\",\"code\":"
        "\"VOUCH.INTERNAL.OUT_OF_MEMORY\"}";
    const struct vouch_problem_entry *row =
        vouch_problem_find(VOUCH_SCOPE_REQUEST, VOUCH_E_NOMEM, VOUCH_SUB_NONE);
    char *b = strdup(fallback);

    set_body(resp, row->status, "application/problem+json", b, b ? strlen(b) : 0);
    resp->code = row->code;
    vouch_http_resp_header(resp, "Retry-After", VOUCH_HTTP_RETRY_AFTER);
}

void vouch_http_json(struct vouch_http_resp *resp, unsigned status, json_t *v)
{
    char *text;
    size_t len;

    if (!v || vouch_json_dump(v, RESP_MAX, &text, &len, NULL)) {
        json_decref(v);
        internal_error(resp);
        return;
    }
    json_decref(v);
    set_body(resp, status, "application/json", text, len);
}

void vouch_http_text(struct vouch_http_resp *resp, unsigned status, const char *content_type,
                     const char *text, size_t len)
{
    char *b = malloc(len + 1);

    if (!b) {
        internal_error(resp);
        return;
    }
    memcpy(b, text, len);
    b[len] = '\0';
    set_body(resp, status, content_type, b, len);
}

/*
 * Make `s` valid UTF-8 in place: each byte that does not start a valid
 * sequence becomes '?'.  Details quote request input (a path, an id) and
 * "%.Ns" may cut a character in two; JSON cannot carry either.
 */
static void utf8_scrub(char *s)
{
    size_t n = strlen(s), i = 0, used;
    uint32_t cp;

    while (i < n) {
        used = vouch_utf8_decode(s + i, n - i, &cp);
        if (used == 0) {
            s[i] = '?';
            used = 1;
        }
        i += used;
    }
}

void vouch_http_problem(struct vouch_http_resp *resp, unsigned status, const char *code,
                        const char *field, const char *detail_fmt, ...)
{
    char detail[1024], type[160];
    json_t *p;
    char *text;
    size_t len;
    va_list ap;

    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof(detail), detail_fmt, ap);
    va_end(ap);
    utf8_scrub(detail);
    snprintf(type, sizeof(type), "urn:vouch:problem:%s", code);
    p = json_pack("{s:s,s:s,s:i,s:s,s:s}", "type", type, "title", vouch_http_reason(status),
                  "status", (int)status, "detail", detail, "code", code);
    if (p && field)
        vouch_json_set_str(p, "field", field);
    if (p && resp->request_id)
        vouch_json_set_str(p, "request_id", resp->request_id);
    if (!p || vouch_json_dump(p, RESP_MAX, &text, &len, NULL)) {
        json_decref(p);
        internal_error(resp);
        return;
    }
    json_decref(p);
    set_body(resp, status, "application/problem+json", text, len);
    resp->code = code;
}

void vouch_http_fail(struct vouch_http_resp *resp, enum vouch_problem_scope scope, vouch_err e,
                     enum vouch_subcode sub, const char *prefix, const char *field,
                     const char *detail_fmt, ...)
{
    const struct vouch_problem_entry *row = vouch_problem_find(scope, e, sub);
    char detail[1024], path[256];
    const char *at = row->field ? row->field : field;
    va_list ap;

    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof(detail), detail_fmt, ap);
    va_end(ap);
    if (at && at[0])
        snprintf(path, sizeof(path), "%s%s", prefix ? prefix : "", at);
    vouch_http_problem(resp, row->status, row->code, at && at[0] ? path : NULL, "%s", detail);
    if (row->retry)
        vouch_http_resp_header(resp, "Retry-After", VOUCH_HTTP_RETRY_AFTER);
}

void vouch_http_fail_eb(struct vouch_http_resp *resp, enum vouch_problem_scope scope,
                        vouch_err e, const struct vouch_errbuf *eb, const char *field)
{
    vouch_http_fail(resp, scope, e, eb ? eb->sub : VOUCH_SUB_NONE, NULL, field, "%s",
                    eb ? eb->msg : vouch_err_name(e));
}

bool vouch_http_json_body(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          json_t **ret)
{
    struct vouch_errbuf eb;
    vouch_err e;
    json_t *v;

    if (req->body_len == 0) {
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, VOUCH_E_INVALID, VOUCH_SUB_JSON, NULL, NULL,
                        "the request body is empty; a JSON object is required");
        return false;
    }
    e = vouch_json_parse(req->body, req->body_len, &v, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return false;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        vouch_http_fail(resp, VOUCH_SCOPE_REQUEST, VOUCH_E_INVALID, VOUCH_SUB_JSON, NULL, NULL,
                        "the request body must be a JSON object");
        return false;
    }
    *ret = v;
    return true;
}

bool vouch_http_query_int(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          const char *name, int64_t min, int64_t max, int64_t dflt,
                          int64_t *ret)
{
    const char *v = vouch_http_query(req, name);
    char *end = NULL;
    long long n;

    if (!v) {
        *ret = dflt;
        return true;
    }
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end || v[0] < '0' || v[0] > '9' || n < min || n > max) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be a whole number %lld-%lld", name, (long long)min,
                           (long long)max);
        return false;
    }
    *ret = n;
    return true;
}
