/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_HTTP_H
#define VOUCH_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * What a handler sees of a request and fills in for the response.  Only
 * http.c knows libmicrohttpd; handlers and the router are plain C over
 * these two structs, so they can be unit-tested without a socket.
 */
#define VOUCH_HTTP_MAX_PARAMS 4
#define VOUCH_HTTP_MAX_HEADERS 8

struct vouch_app;

struct vouch_http_req {
    const char *method;
    const char *path;
    const uint8_t *body;      /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    /* {name} captures of the matched route, in pattern order */
    const char *params[VOUCH_HTTP_MAX_PARAMS];
    size_t n_params;
    /* Header and query lookups (case-insensitive header names). */
    const char *(*header)(const struct vouch_http_req *r, const char *name);
    const char *(*query)(const struct vouch_http_req *r, const char *name);
    /*
     * Optional: a header's value and its full length, which is more than
     * strlen() of it when the value holds a NUL.  In-process callers set it
     * (vouch_http_req_plain); libmicrohttpd keeps header values as C
     * strings, so its glue has no more to give than `header`.
     */
    const char *(*header_n)(const struct vouch_http_req *r, const char *name,
                            size_t *ret_len);
    void *impl;               /* private to whoever built the request */
};

struct vouch_http_resp {
    unsigned status;
    const char *content_type;
    char *body;               /* malloc'ed, owned by the response */
    size_t body_len;
    struct {
        const char *name;
        char *value;          /* malloc'ed */
    } headers[VOUCH_HTTP_MAX_HEADERS];
    size_t n_headers;
    const char *code;         /* problem code, for the request log */
};

typedef void (*vouch_http_handler)(struct vouch_app *app, const struct vouch_http_req *req,
                                   struct vouch_http_resp *resp);

static inline const char *vouch_http_header(const struct vouch_http_req *r, const char *name)
{
    return r->header ? r->header(r, name) : NULL;
}

/* A header's value and its length as sent (NUL bytes included). */
static inline const char *vouch_http_header_n(const struct vouch_http_req *r, const char *name,
                                              size_t *ret_len)
{
    const char *v;

    if (r->header_n)
        return r->header_n(r, name, ret_len);
    v = vouch_http_header(r, name);
    *ret_len = v ? strlen(v) : 0;
    return v;
}

static inline const char *vouch_http_query(const struct vouch_http_req *r, const char *name)
{
    return r->query ? r->query(r, name) : NULL;
}

/* Free what a response owns and reset it.  Accepts NULL. */
void vouch_http_resp_done(struct vouch_http_resp *resp);

/* Add a response header (the value is copied).  Silently drops past the limit. */
void vouch_http_resp_header(struct vouch_http_resp *resp, const char *name, const char *value);

/* Respond with `v` serialised as JSON (steals the reference). */
void vouch_http_json(struct vouch_http_resp *resp, unsigned status, json_t *v);

/* Respond with a copy of `text`. */
void vouch_http_text(struct vouch_http_resp *resp, unsigned status, const char *content_type,
                     const char *text, size_t len);

/*
 * Respond with an RFC 9457 application/problem+json body:
 * {type, title, status, detail, code[, field]}.  `code` is the stable
 * machine-readable name ("VOUCH.REQUEST.INVALID_JSON"); `field` names the
 * input at fault as a JSON path (may be NULL).
 */
void vouch_http_problem(struct vouch_http_resp *resp, unsigned status, const char *code,
                        const char *field, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Parse the request body as a JSON object.  On failure fills `resp` with a
 * 400 problem (VOUCH.REQUEST.INVALID_JSON, with line and column) and
 * returns false.  *ret is a new reference.
 */
bool vouch_http_json_body(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          json_t **ret);

/* Reason phrase of a status code ("Not Found"). */
const char *vouch_http_reason(unsigned status);

#endif
