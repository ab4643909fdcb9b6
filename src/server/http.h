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
#define VOUCH_HTTP_MAX_HEADERS 16
#define VOUCH_HTTP_AUDIT_TARGET_MAX 160

struct vouch_app;
struct vouch_route;

/* Request ids (X-Request-Id): 1..VOUCH_REQUEST_ID_MAX of [A-Za-z0-9._-]. */
#define VOUCH_REQUEST_ID_MAX 64

/* Is `id` a well-formed request id, to be kept as the client sent it? */
bool vouch_request_id_ok(const char *id);

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
    /*
     * Optional: every query argument in arrival order, decoded ('+' is a
     * space), repeats included; a name without '=' has value "".  Stops
     * and returns false when `fn` returns false.  NULL: no query.
     */
    bool (*query_each)(const struct vouch_http_req *r,
                       bool (*fn)(void *ctx, const char *name, const char *value,
                                  size_t value_len),
                       void *ctx);
    void *impl;               /* private to whoever built the request */
    const char *request_id;   /* X-Request-Id of this exchange, or NULL */
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
    /* Set by whoever answers the request, kept by vouch_http_resp_done(). */
    const char *request_id;   /* put in problem bodies as "request_id"; may be NULL */
    const struct vouch_route *route;   /* the route that matched, or NULL */
    /* What a state-changing admin handler acted on, for the audit log ("" = the
     * route's {captures}); set with vouch_http_audit_target(). */
    char audit_target[VOUCH_HTTP_AUDIT_TARGET_MAX + 1];
};

/* Name what this request acted on in its audit entry (printf-style, cut to fit). */
void vouch_http_audit_target(struct vouch_http_resp *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

/* Free what a response owns and reset it (but request_id and route).  Accepts NULL. */
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
 * {type, title, status, detail, code[, field][, request_id]}.  `code` is the stable
 * machine-readable name ("VOUCH.REQUEST.INVALID_JSON"); `field` names the
 * input at fault as a JSON path (may be NULL).
 */
void vouch_http_problem(struct vouch_http_resp *resp, unsigned status, const char *code,
                        const char *field, const char *detail_fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * What a request was doing when a step failed.  The same kind of failure
 * means different things in different places (VOUCH_E_NOT_FOUND is
 * missing collateral while verifying evidence, 404 for a policy id), so
 * the error table is looked up by scope, kind and sub-code.
 */
enum vouch_problem_scope {
    VOUCH_SCOPE_REQUEST = 0,      /* any request: the answer every kind has */
    VOUCH_SCOPE_EVIDENCE,         /* verifying one piece of evidence */
    VOUCH_SCOPE_CHALLENGE,        /* checking a challenge token */
    VOUCH_SCOPE_APPRAISAL,        /* evaluating policies over verified claims */
    VOUCH_SCOPE_TOKEN,            /* building and signing the attestation result */
    VOUCH_SCOPE_POLICY,           /* a stored policy, by id */
    VOUCH_SCOPE_POLICY_UPLOAD,    /* compiling a policy before it is stored */
    VOUCH_SCOPE_RIM,              /* a stored NVIDIA RIM, by id */
    VOUCH_SCOPE_RIM_IMPORT,       /* verifying a RIM before it is stored */
    VOUCH_SCOPE_COLLATERAL,       /* stored DCAP collateral */
    VOUCH_SCOPE_COLLATERAL_IMPORT, /* verifying collateral before it is stored */
    VOUCH_SCOPE_REFVAL,           /* a stored reference value, by name */
    VOUCH_SCOPE__COUNT
};

/* Seconds in the Retry-After of a problem the table marks as retryable. */
#define VOUCH_HTTP_RETRY_AFTER "5"

/* One row of the error table (src/server/problem.c). */
struct vouch_problem_entry {
    enum vouch_problem_scope scope;
    unsigned kinds;               /* 1u << kind for each vouch_err it answers */
    enum vouch_subcode sub;       /* VOUCH_SUB_NONE: any sub-code */
    unsigned status;
    const char *code;
    /* NULL: the field the caller names; "": none; else this path after the caller's prefix */
    const char *field;
    bool retry;                   /* add Retry-After */
};

/*
 * The answer for failure `e` with sub-code `sub` in `scope`: the first row
 * of the scope naming both, else of the scope naming the kind, else the
 * same two lookups among the VOUCH_SCOPE_REQUEST rows, which cover every
 * kind.  VOUCH_OK and unknown values answer as VOUCH_E_INTERNAL.  Never NULL.
 */
const struct vouch_problem_entry *vouch_problem_find(enum vouch_problem_scope scope, vouch_err e,
                                                     enum vouch_subcode sub);

/* The whole table, for documentation and tests. */
const struct vouch_problem_entry *vouch_problem_table(size_t *ret_n);

/* "request", "evidence", ...; "unknown" past the end. */
const char *vouch_problem_scope_name(enum vouch_problem_scope scope);

/*
 * Answer failure `e` (sub-code `sub`) of a step in `scope` with the table's
 * status and code.  `prefix` (may be NULL) goes before every field path;
 * `field` is the input at fault (may be NULL), used unless the row names
 * its own.  The detail is formatted from `detail_fmt`.
 */
void vouch_http_fail(struct vouch_http_resp *resp, enum vouch_problem_scope scope, vouch_err e,
                     enum vouch_subcode sub, const char *prefix, const char *field,
                     const char *detail_fmt, ...) __attribute__((format(printf, 7, 8)));

/* vouch_http_fail() with the sub-code and message of `eb` (may be NULL). */
void vouch_http_fail_eb(struct vouch_http_resp *resp, enum vouch_problem_scope scope,
                        vouch_err e, const struct vouch_errbuf *eb, const char *field);

/*
 * Query argument `name` as a decimal integer in [min, max] (digits only: no
 * sign, space or exponent), or `dflt` when absent.  Otherwise fills `resp`
 * with a 400 VOUCH.REQUEST.INVALID_ARGUMENT naming it and returns false.
 */
bool vouch_http_query_int(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          const char *name, int64_t min, int64_t max, int64_t dflt,
                          int64_t *ret);

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
