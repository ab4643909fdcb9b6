/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "server/job.h"

struct vouch_job {
    struct vouch_store *store;
    struct vouch_job_spec spec;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    char holder[128];   /* who we are in the lease table */
    bool held;
};

int64_t vouch_job_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool vouch_job_hold(struct vouch_job *j)
{
    struct vouch_errbuf eb;
    int held = 0;
    char ttl[24], msg[160];

    if (vouch_store_lease_acquire(j->store, j->spec.lease, j->holder, vouch_job_wall_ms(),
                                  j->spec.ttl_ms, &held, &eb)) {
        snprintf(msg, sizeof(msg), "%s lease: store", j->spec.label);
        vouch_log(VOUCH_LOG_WARN, msg, "error", eb.msg, VOUCH_LOG_END);
        held = 0;   /* cannot tell: assume another replica has it */
    }
    if (held && !j->held) {
        snprintf(ttl, sizeof(ttl), "%lld", (long long)j->spec.ttl_ms);
        snprintf(msg, sizeof(msg), "%s lease taken", j->spec.label);
        vouch_log(VOUCH_LOG_INFO, msg, "holder", j->holder, "ttl_ms", ttl, VOUCH_LOG_END);
    } else if (!held && j->held) {
        snprintf(msg, sizeof(msg), "%s lease lost", j->spec.label);
        vouch_log(VOUCH_LOG_WARN, msg, "holder", j->holder, VOUCH_LOG_END);
    }
    j->held = held;
    return held;
}

bool vouch_job_held(const struct vouch_job *j)
{
    return j->held;
}

/* Sleep until `ms` from now or a stop; true when stopping. */
static bool wait_tick(struct vouch_job *j, int64_t ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->stop && pthread_cond_timedwait(&j->cond, &j->lock, &until) != ETIMEDOUT)
        ;
    stop = j->stop;
    pthread_mutex_unlock(&j->lock);
    return stop;
}

static void *loop(void *arg)
{
    struct vouch_job *j = arg;
    struct vouch_errbuf eb;
    char msg[160];

    do {
        if (vouch_job_hold(j))
            j->spec.run(j, j->spec.arg);
    } while (!wait_tick(j, j->spec.ttl_ms / 3));
    if (j->held && vouch_store_lease_release(j->store, j->spec.lease, j->holder, &eb) == 0) {
        snprintf(msg, sizeof(msg), "%s lease released", j->spec.label);
        vouch_log(VOUCH_LOG_INFO, msg, "holder", j->holder, VOUCH_LOG_END);
    }
    return NULL;
}

/* Host, process and a random tag. */
static void holder_id(struct vouch_job *j)
{
    char host[64] = "host";
    uint8_t tag[6] = { 0 };

    (void)gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    (void)RAND_bytes(tag, sizeof(tag));
    snprintf(j->holder, sizeof(j->holder), "%s:%ld:%02x%02x%02x%02x%02x%02x", host,
             (long)getpid(), tag[0], tag[1], tag[2], tag[3], tag[4], tag[5]);
}

vouch_err vouch_job_start(struct vouch_store *store, const struct vouch_job_spec *spec,
                          struct vouch_job **ret, struct vouch_errbuf *eb)
{
    struct vouch_job *j;

    if (spec->ttl_ms < 3)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s: lease ttl too short", spec->label);
    if (!(j = calloc(1, sizeof(*j))))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    j->store = store;
    j->spec = *spec;
    holder_id(j);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    if (pthread_create(&j->thread, NULL, loop, j) != 0) {
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->lock);
        free(j);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot start the %s thread", spec->label);
    }
    *ret = j;
    return VOUCH_OK;
}

void vouch_job_stop(struct vouch_job *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stop = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
