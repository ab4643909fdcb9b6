/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_ROUTER_H
#define VOUCH_SERVER_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "server/http.h"

/* Route flags. */
enum {
    VOUCH_ROUTE_ADMIN = 1 << 0,   /* needs the admin bearer token */
    VOUCH_ROUTE_SELF_AUDIT = 1 << 1, /* the handler writes its own audit entries */
    VOUCH_ROUTE_LARGE = 1 << 2,   /* body up to --vtpm-max-request (the vTPM RPC endpoint) */
    VOUCH_ROUTE_RPC = 1 << 3,     /* errors in the RPC shape, not problem+json (api_vtpm.c) */
};

/*
 * One route: a method and a path pattern whose segments are literals or
 * "{name}" captures of one non-empty segment ("/policy/{id}").
 */
struct vouch_route {
    const char *method;
    const char *pattern;
    vouch_http_handler fn;
    unsigned flags;
};

enum vouch_route_result {
    VOUCH_ROUTE_FOUND,
    VOUCH_ROUTE_NOT_FOUND,
    VOUCH_ROUTE_BAD_METHOD,   /* the path exists with other methods */
};

#define VOUCH_ROUTE_PATH_MAX 2048

/*
 * Match method + path against the table.  Captures are copied into
 * `scratch` (at least strlen(path)+1 bytes) and params[] point into it.
 * HEAD matches GET routes.  For VOUCH_ROUTE_BAD_METHOD, `allow` receives
 * the methods the path does accept ("GET, POST"), and *ret_route is the
 * first route of that path (for its flags: how to answer the refusal).
 */
enum vouch_route_result vouch_route_match(const struct vouch_route *routes, size_t n,
                                          const char *method, const char *path, char *scratch,
                                          const struct vouch_route **ret_route,
                                          const char *params[VOUCH_HTTP_MAX_PARAMS],
                                          size_t *ret_n_params, char *allow,
                                          size_t allow_size);

/* The longest {name} capture (a stored id) a route accepts. */
#define VOUCH_ROUTE_ID_MAX 512

/*
 * Check the captures of a matched route: each at most VOUCH_ROUTE_ID_MAX
 * bytes of valid UTF-8 without control characters.  On failure fills `resp`
 * with a 400 problem naming the capture ("id") and returns false.
 */
bool vouch_route_params_ok(const struct vouch_route *route, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp);

/*
 * A request held in plain arrays rather than by a server library: what an
 * in-process caller (a test, a fuzzer) hands to vouch_app_dispatch().
 * Header names compare case-insensitively, query names exactly; the first
 * of repeated names wins, as with libmicrohttpd (query_each sees them all).  Values may hold NUL bytes
 * (value_len counts them).
 */
struct vouch_http_field {
    const char *name;
    const char *value;
    size_t value_len;
};

struct vouch_http_plain {
    const struct vouch_http_field *headers;
    size_t n_headers;
    const struct vouch_http_field *query;
    size_t n_query;
};

/* Point req's lookups at `plain` (which must outlive req). */
void vouch_http_req_plain(struct vouch_http_req *req, const struct vouch_http_plain *plain);

#endif
