/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log (docs/operations.md): every state-changing administrative
 * request is recorded after it is answered, with who made it (never a
 * secret), what it acted on and the outcome, and read back with
 * GET /admin/audit.  Recording is best effort: the action has already
 * committed, and a store that fails now is counted, not fatal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/time.h"
#include "server/api.h"
#include "server/metrics.h"
#include "store/audit.h"

#define AUDIT_PAGE_DEFAULT 100
#define MS_PER_DAY (86400 * 1000LL)

void vouch_http_audit_target(struct vouch_http_resp *resp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(resp->audit_target, sizeof(resp->audit_target), fmt, ap);
    va_end(ap);
}

void vouch_api_audit_record(struct vouch_app *app, const char *actor, const char *action,
                            const char *target, const struct vouch_http_resp *resp)
{
    const struct vouch_audit_entry a = {
        .actor = actor, .action = action, .target = target, .status = resp->status,
        .code = resp->status >= 400 && resp->code ? resp->code : "",
        .request_id = resp->request_id,
    };
    int64_t keep_ms = (int64_t)app->cfg.audit_retention_days * MS_PER_DAY;
    struct vouch_errbuf eb;

    if (!app->store)            /* an app without a store (the router's unit test) */
        return;
    /*
     * 503: the store did not answer, so the action changed nothing and the
     * entry would wait out the same outage before the client hears back.
     */
    if (resp->status == 503) {
        vouch_metrics_audit_failure();
        return;
    }
    if (vouch_audit_record(app->store, &a, vouch_clock_now_ms(), keep_ms, &eb))
        vouch_metrics_audit_failure();
}

/* The route's {captures} joined by '/', the default target of an admin request. */
static void captures(const struct vouch_http_req *req, char *out, size_t size)
{
    size_t i, used = 0;

    out[0] = '\0';
    for (i = 0; i < req->n_params && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "/" : "",
                                 req->params[i]);
}

void vouch_api_audit_admin(struct vouch_app *app, const struct vouch_http_req *req,
                           const struct vouch_route *route, const struct vouch_http_resp *resp)
{
    char action[VOUCH_ROUTE_PATH_MAX + 16], target[VOUCH_HTTP_AUDIT_TARGET_MAX + 1];

    if (!(route->flags & VOUCH_ROUTE_ADMIN) || (route->flags & VOUCH_ROUTE_SELF_AUDIT) ||
        strcmp(route->method, "GET") == 0)
        return;
    snprintf(action, sizeof(action), "%s %s", route->method, route->pattern);
    if (resp->audit_target[0])
        snprintf(target, sizeof(target), "%s", resp->audit_target);
    else
        captures(req, target, sizeof(target));
    vouch_api_audit_record(app, "admin", action, target, resp);
}

/* An RFC 3339 time query argument, as epoch ms (0 when absent). */
static bool query_time(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                       const char *name, int64_t *ret_ms)
{
    const char *v = vouch_http_query(req, name);
    int64_t sec = 0;

    if (v && (vouch_time_parse_rfc3339(v, strlen(v), &sec, NULL, NULL) || sec <= 0)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be an RFC 3339 time after 1970, e.g. "
                           "2026-01-02T03:04:05Z", name);
        return false;
    }
    *ret_ms = v ? sec * 1000 : 0;
    return true;
}

static json_t *entry_json(const struct vouch_store_audit *a)
{
    char when[VOUCH_RFC3339_LEN];

    vouch_time_format_rfc3339(a->at_ms / 1000, when);
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:I,s:s,s:s}", "id", a->id, "time", when,
                     "time_ms", (json_int_t)a->at_ms, "actor", a->actor, "action", a->action,
                     "target", a->target, "status", (json_int_t)a->status, "code", a->code,
                     "request_id", a->request_id);
}

void vouch_api_audit_list(struct vouch_app *app, const struct vouch_http_req *req,
                          struct vouch_http_resp *resp)
{
    struct vouch_store_audit_filter f = { vouch_http_query(req, "actor"),
                                          vouch_http_query(req, "action"), 0, 0 };
    struct vouch_store_audit *rows = NULL;
    struct vouch_errbuf eb;
    int64_t limit = 0, offset = 0;
    uint64_t total = 0;
    size_t n = 0, i;
    json_t *list;
    vouch_err e;

    if (!vouch_http_query_int(req, resp, "limit", 0, VOUCH_STORE_LIST_MAX, AUDIT_PAGE_DEFAULT,
                              &limit) ||
        !vouch_http_query_int(req, resp, "offset", 0, INT64_MAX / 2, 0, &offset) ||
        !query_time(req, resp, "since", &f.since_ms) ||
        !query_time(req, resp, "until", &f.until_ms))
        return;
    if (limit == 0)
        limit = AUDIT_PAGE_DEFAULT;
    e = vouch_store_audit_list(app->store, &f, (uint64_t)offset, (size_t)limit, &rows, &n,
                               &total, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_REQUEST, e, &eb, NULL);
        return;
    }
    list = json_array();
    for (i = 0; list && i < n; i++)
        json_array_append_new(list, entry_json(&rows[i]));
    vouch_store_audits_free(rows, n);
    vouch_http_json(resp, 200, json_pack("{s:o*,s:I,s:I,s:I}", "entries", list, "total",
                                         (json_int_t)total, "offset", (json_int_t)offset,
                                         "limit", (json_int_t)limit));
}
