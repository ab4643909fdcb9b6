/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "server/job.h"
#include "server/vtpm_jobs.h"

#define VTPM_LEASE "vtpm-sweep"
#define LEASE_TTL_MIN_MS 3000
#define LEASE_TTL_MAX_MS 30000
#define RETENTION_PERIOD_MS 60000
#define MS_PER_DAY (86400 * (int64_t)1000)

struct vouch_vtpm_jobs {
    struct vouch_app *app;
    struct vouch_job *job;
    int64_t next_retention;   /* wall ms of the next retention pass (thread only) */
};

static void sweep(struct vouch_app *app)
{
    int64_t now_ms = vouch_app_now(app) * 1000;
    uint64_t marked = 0;
    struct vouch_errbuf eb;
    char n[24];

    if (vouch_store_instance_mark_unmeasured(app->store,
                                             now_ms - 2 * app->cfg.vtpm_report_interval * 1000,
                                             &marked, &eb)) {
        vouch_log(VOUCH_LOG_WARN, "vtpm sweep: store", "error", eb.msg, VOUCH_LOG_END);
        return;
    }
    if (marked) {
        snprintf(n, sizeof(n), "%llu", (unsigned long long)marked);
        vouch_log(VOUCH_LOG_INFO, "vtpm sweep: instances unmeasured", "count", n,
                  VOUCH_LOG_END);
    }
}

static void retention(struct vouch_app *app)
{
    int64_t days = app->cfg.vtpm_report_retention_days;
    int64_t before = days ? vouch_app_now(app) * 1000 - days * MS_PER_DAY : 0;
    uint64_t deleted = 0;
    struct vouch_errbuf eb;
    char n[24];

    if (vouch_store_report_prune(app->store, before, (size_t)app->cfg.vtpm_keep_reports,
                                 &deleted, &eb)) {
        vouch_log(VOUCH_LOG_WARN, "vtpm report retention: store", "error", eb.msg,
                  VOUCH_LOG_END);
        return;
    }
    if (deleted) {
        snprintf(n, sizeof(n), "%llu", (unsigned long long)deleted);
        vouch_log(VOUCH_LOG_INFO, "vtpm report retention: history deleted", "count", n,
                  VOUCH_LOG_END);
    }
}

/* Expired SignatureNonce records (src/server/replay.c writes them, never deletes). */
static void request_nonce_purge(struct vouch_app *app)
{
    struct vouch_errbuf eb;

    if (vouch_store_request_nonces_purge(app->store, vouch_app_now(app) * 1000, NULL, &eb))
        vouch_log(VOUCH_LOG_WARN, "vtpm SignatureNonce purge: store", "error", eb.msg,
                  VOUCH_LOG_END);
}

static void tick(struct vouch_job *j, void *arg)
{
    struct vouch_vtpm_jobs *v = arg;
    int64_t now = vouch_job_wall_ms();

    (void)j;
    sweep(v->app);
    if (now >= v->next_retention) {
        retention(v->app);
        request_nonce_purge(v->app);
        v->next_retention = now + RETENTION_PERIOD_MS;
    }
}

vouch_err vouch_vtpm_jobs_start(struct vouch_app *app, struct vouch_vtpm_jobs **ret,
                                struct vouch_errbuf *eb)
{
    struct vouch_vtpm_jobs *v = calloc(1, sizeof(*v));
    struct vouch_job_spec spec = { .lease = VTPM_LEASE, .label = "vtpm sweep", .run = tick };
    int64_t ttl = app->cfg.vtpm_report_interval * 1000;
    vouch_err e;

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    v->app = app;
    spec.arg = v;
    spec.ttl_ms = ttl < LEASE_TTL_MIN_MS ? LEASE_TTL_MIN_MS
                  : ttl > LEASE_TTL_MAX_MS ? LEASE_TTL_MAX_MS : ttl;
    e = vouch_job_start(app->store, &spec, &v->job, eb);
    if (e) {
        free(v);
        return e;
    }
    *ret = v;
    return VOUCH_OK;
}

void vouch_vtpm_jobs_stop(struct vouch_vtpm_jobs *v)
{
    if (!v)
        return;
    vouch_job_stop(v->job);
    free(v);
}
