/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_METRICS_H
#define VOUCH_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "vouch/err.h"
#include "vouch/evidence.h"

/*
 * Process-wide counters for GET /metrics (Prometheus text exposition
 * format, docs/operations.md).  Recording is a few relaxed atomic adds on
 * fixed arrays: no lock and no allocation on the request path.  Label
 * values come only from bounded sets (route patterns, registered tees,
 * error kinds, status codes), never from request input.
 */
struct vouch_app;
struct vouch_route;

/* Routes counted one by one; a table longer than this counts the rest as "other". */
#define VOUCH_METRICS_MAX_ROUTES 128

/* Why a request was refused by a rate limit. */
enum vouch_metrics_limit {
    VOUCH_LIMIT_ADDRESS,        /* --rate-limit, per client address */
    VOUCH_LIMIT_CREDENTIAL,     /* --rate-limit, per credential */
    VOUCH_LIMIT_AUTH_FAILURES,  /* --admin-auth-failures */
    VOUCH_LIMIT__COUNT
};

/* One answered request: `route_index` into the route table, or -1 when none matched. */
void vouch_metrics_request(int route_index, unsigned status, uint64_t us);

/* One evidence verification by `v`, its outcome `e` and its duration. */
void vouch_metrics_verification(const struct vouch_verifier *v, vouch_err e, uint64_t us);

/* One appraisal (every policy over every device of a request). */
void vouch_metrics_policy(vouch_err e, bool allow, uint64_t us);

void vouch_metrics_rate_limited(enum vouch_metrics_limit why);

/* A client connection opened (+1) or closed (-1). */
void vouch_metrics_connection(int delta);

/* A store operation took `us` (the store's observer, set in app.c). */
void vouch_metrics_store_op(const char *op, uint64_t us, vouch_err e);

/* An audit entry could not be stored (api_audit.c). */
void vouch_metrics_audit_failure(void);

/*
 * Write every metric to `out` in the text exposition format: the counters
 * above, the caches (vouch_cache_each), stored collateral's time to its
 * nextUpdate at `now`, and process metrics from /proc.
 */
vouch_err vouch_metrics_render(struct vouch_app *app, int64_t now, struct vouch_buf *out);

#endif
