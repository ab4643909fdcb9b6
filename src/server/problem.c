/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "server/http.h"

/* Cap on any JSON response we build. */
#define RESP_MAX (16u << 20)

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
    size_t i;

    if (!resp)
        return;
    free(resp->body);
    for (i = 0; i < resp->n_headers; i++)
        free(resp->headers[i].value);
    memset(resp, 0, sizeof(*resp));
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

/* Last resort when even the error response cannot be built. */
static void internal_error(struct vouch_http_resp *resp)
{
    static const char fallback[] =
        "{\"type\":\"urn:vouch:problem:VOUCH.INTERNAL.ERROR\",\"title\":\"Internal Server "
        "Error\",\"status\":500,\"detail\":\"out of memory\",\"code\":\"VOUCH.INTERNAL.ERROR\"}";
    char *b = strdup(fallback);

    set_body(resp, 500, "application/problem+json", b, b ? strlen(b) : 0);
    resp->code = "VOUCH.INTERNAL.ERROR";
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
    if (!p || vouch_json_dump(p, RESP_MAX, &text, &len, NULL)) {
        json_decref(p);
        internal_error(resp);
        return;
    }
    json_decref(p);
    set_body(resp, status, "application/problem+json", text, len);
    resp->code = code;
}

bool vouch_http_json_body(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          json_t **ret)
{
    struct vouch_errbuf eb;
    json_t *v;

    if (req->body_len == 0) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_JSON", NULL,
                           "the request body is empty; a JSON object is required");
        return false;
    }
    if (vouch_json_parse(req->body, req->body_len, &v, &eb)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_JSON", NULL, "%s", eb.msg);
        return false;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_JSON", NULL,
                           "the request body must be a JSON object");
        return false;
    }
    *ret = v;
    return true;
}
