/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_JOB_H
#define VOUCH_SERVER_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/*
 * A singleton job: a thread that runs `run` only while this replica holds
 * the store lease `lease` (vouch_store_lease_acquire).  The lease lasts
 * ttl_ms and is renewed (or taken) every ttl_ms / 3; `run` is called after
 * each successful renewal.  A replica that dies is replaced within
 * ttl + ttl/3 (plus the clock skew between replicas); a clean stop releases
 * the lease so another takes it at its next tick.  Gaining and losing the
 * lease is logged as "LABEL lease taken" / "LABEL lease lost".
 */
struct vouch_job;

struct vouch_job_spec {
    const char *lease;      /* the lease row's name */
    const char *label;      /* for the log lines */
    int64_t ttl_ms;
    void (*run)(struct vouch_job *j, void *arg);
    void *arg;
};

vouch_err vouch_job_start(struct vouch_store *store, const struct vouch_job_spec *spec,
                          struct vouch_job **ret, struct vouch_errbuf *eb);
/* Renew the lease now (before committing the result of a long pass); true while held. */
bool vouch_job_hold(struct vouch_job *j);
/* Whether the last renewal succeeded. */
bool vouch_job_held(const struct vouch_job *j);
/* Stop the thread, wait for it and release the lease.  Accepts NULL. */
void vouch_job_stop(struct vouch_job *j);

/* Wall-clock ms: lease expiry times are compared across replicas. */
int64_t vouch_job_wall_ms(void);

#endif
