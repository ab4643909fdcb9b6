/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_ROUTER_H
#define VOUCH_SERVER_ROUTER_H

#include <stddef.h>

#include "server/http.h"

/* Route flags. */
enum {
    VOUCH_ROUTE_ADMIN = 1 << 0,   /* needs the admin bearer token */
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
 * the methods the path does accept ("GET, POST").
 */
enum vouch_route_result vouch_route_match(const struct vouch_route *routes, size_t n,
                                          const char *method, const char *path, char *scratch,
                                          const struct vouch_route **ret_route,
                                          const char *params[VOUCH_HTTP_MAX_PARAMS],
                                          size_t *ret_n_params, char *allow,
                                          size_t allow_size);

#endif
