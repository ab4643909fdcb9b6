/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/codec.h"
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
        if (!path_seen)
            *ret_route = &routes[i];
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

/* The name of capture `index` in `pattern` ("id" of "/policy/{id}"), into name[]. */
static void capture_name(const char *pattern, size_t index, char *name, size_t size)
{
    const char *p = pattern, *end;

    snprintf(name, size, "param");
    while ((p = strchr(p, '{')) != NULL) {
        end = strchr(p, '}');
        if (!end)
            return;
        if (index-- == 0) {
            snprintf(name, size, "%.*s", (int)(end - p - 1), p + 1);
            return;
        }
        p = end;
    }
}

/* At most max bytes of valid UTF-8 with no control characters? */
static bool text_ok(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1), i = 0, used;
    uint32_t cp;

    if (n > max)
        return false;
    while (i < n) {
        used = vouch_utf8_decode(s + i, n - i, &cp);
        if (used == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return false;
        i += used;
    }
    return true;
}

bool vouch_route_params_ok(const struct vouch_route *route, const struct vouch_http_req *req,
                           struct vouch_http_resp *resp)
{
    char name[32];
    size_t i;

    for (i = 0; i < req->n_params; i++) {
        if (text_ok(req->params[i], VOUCH_ROUTE_ID_MAX))
            continue;
        capture_name(route->pattern, i, name, sizeof(name));
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be 1-%d bytes of UTF-8 text without control characters",
                           name, VOUCH_ROUTE_ID_MAX);
        return false;
    }
    return true;
}

static const struct vouch_http_field *plain_find(const struct vouch_http_field *f, size_t n,
                                                 const char *name, bool nocase)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (nocase ? strcasecmp(f[i].name, name) == 0 : strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

static const char *plain_header_n(const struct vouch_http_req *r, const char *name,
                                  size_t *ret_len)
{
    const struct vouch_http_plain *p = r->impl;
    const struct vouch_http_field *f = plain_find(p->headers, p->n_headers, name, true);

    *ret_len = f ? f->value_len : 0;
    return f ? f->value : NULL;
}

static const char *plain_header(const struct vouch_http_req *r, const char *name)
{
    size_t len;

    return plain_header_n(r, name, &len);
}

static const char *plain_query(const struct vouch_http_req *r, const char *name)
{
    const struct vouch_http_plain *p = r->impl;
    const struct vouch_http_field *f = plain_find(p->query, p->n_query, name, false);

    return f ? f->value : NULL;
}

static bool plain_query_each(const struct vouch_http_req *r,
                             bool (*fn)(void *ctx, const char *name, const char *value,
                                        size_t value_len),
                             void *ctx)
{
    const struct vouch_http_plain *p = r->impl;
    size_t i;

    for (i = 0; i < p->n_query; i++)
        if (!fn(ctx, p->query[i].name, p->query[i].value, p->query[i].value_len))
            return false;
    return true;
}

void vouch_http_req_plain(struct vouch_http_req *req, const struct vouch_http_plain *plain)
{
    req->header = plain_header;
    req->header_n = plain_header_n;
    req->query = plain_query;
    req->query_each = plain_query_each;
    req->impl = (void *)plain;
}
