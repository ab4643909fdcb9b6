/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "server/router.h"

/*
 * Does `path` match `pattern`?  On a match, captures are written to
 * scratch (NUL-separated) and params[].
 */
static bool match_path(const char *pattern, const char *path, char *scratch,
                       const char *params[VOUCH_HTTP_MAX_PARAMS], size_t *n_params)
{
    const char *p = pattern, *s = path;
    char *out = scratch;
    size_t np = 0;

    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        if (*p == '{') {
            const char *pend = strchr(p, '/');
            const char *send = strchr(s, '/');
            size_t len = send ? (size_t)(send - s) : strlen(s);

            if (len == 0 || np >= VOUCH_HTTP_MAX_PARAMS)
                return false;
            memcpy(out, s, len);
            out[len] = '\0';
            params[np++] = out;
            out += len + 1;
            p = pend ? pend : p + strlen(p);
            s += len;
        } else {
            const char *pend = strchr(p, '/');
            const char *send = strchr(s, '/');
            size_t plen = pend ? (size_t)(pend - p) : strlen(p);
            size_t slen = send ? (size_t)(send - s) : strlen(s);

            if (plen != slen || memcmp(p, s, plen) != 0)
                return false;
            p += plen;
            s += slen;
        }
    }
    if (*p || *s)
        return false;
    *n_params = np;
    return true;
}

enum vouch_route_result vouch_route_match(const struct vouch_route *routes, size_t n,
                                          const char *method, const char *path, char *scratch,
                                          const struct vouch_route **ret_route,
                                          const char *params[VOUCH_HTTP_MAX_PARAMS],
                                          size_t *ret_n_params, char *allow,
                                          size_t allow_size)
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_seen = false;
    size_t i, used = 0, np;

    if (allow_size)
        allow[0] = '\0';
    if (strlen(path) > VOUCH_ROUTE_PATH_MAX || path[0] != '/')
        return VOUCH_ROUTE_NOT_FOUND;
    for (i = 0; i < n; i++) {
        if (!match_path(routes[i].pattern, path, scratch, params, &np))
            continue;
        if (strcmp(routes[i].method, want) == 0) {
            *ret_route = &routes[i];
            *ret_n_params = np;
            return VOUCH_ROUTE_FOUND;
        }
        path_seen = true;
        if (allow_size && !strstr(allow, routes[i].method)) {
            int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "",
                             routes[i].method);

            if (w > 0 && (size_t)w < allow_size - used)
                used += (size_t)w;
        }
    }
    return path_seen ? VOUCH_ROUTE_BAD_METHOD : VOUCH_ROUTE_NOT_FOUND;
}
