/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_VTPM_JOBS_H
#define VOUCH_SERVER_VTPM_JOBS_H

#include "server/app.h"

/*
 * The vTPM singleton jobs, on one replica of a database at a time (the
 * store lease "vtpm-sweep", src/server/job.h):
 *
 *  - the online-status sweep: instances silent for longer than twice
 *    --vtpm-report-interval get the stored system status 3 (unmeasured),
 *    so DescribeInstances' SystemTrustStatus filter finds them.
 *    OnlineStatus itself, and the status DescribeInstance shows, are
 *    computed on read from GmtRecentReport, so they are exact at any time;
 *    the stored status lags by at most one sweep period.
 *  - report-history retention: rows older than --vtpm-report-retention
 *    days, and beyond --vtpm-keep-reports per instance, are deleted
 *    (each instance's newest stays), once a minute.
 *
 * The lease lasts the report interval, between 3 s and 30 s, and the sweep
 * runs at every renewal (a third of it): a dead holder is replaced within
 * ttl + ttl/3, 4 s to 40 s.
 */
struct vouch_vtpm_jobs;

vouch_err vouch_vtpm_jobs_start(struct vouch_app *app, struct vouch_vtpm_jobs **ret,
                                struct vouch_errbuf *eb);
/* Stop the jobs and release their lease.  Accepts NULL. */
void vouch_vtpm_jobs_stop(struct vouch_vtpm_jobs *v);

#endif
