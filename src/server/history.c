/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The attestation history's writer: a bounded ring of rows, filled by the
 * handlers, drained in batches by one thread (history.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/history.h"

/* How long the writer waits for a batch to fill once a row is queued. */
#define LINGER_MS 100

/* A queued row with room for its strings. */
struct entry {
    struct vouch_store_attestation row;
    char policy_ids[VOUCH_STORE_ATTESTATION_TEXT_MAX + 1];
    char tcb_status[65];
    char error_code[97];
};

struct vouch_history {
    struct vouch_store *store;
    uint64_t keep;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct entry *ring;          /* VOUCH_HISTORY_QUEUE entries */
    size_t head, n;
    bool stopping;
    uint64_t dropped;            /* rows refused on a full queue, ever */
    struct entry *batch;         /* the writer's copy: VOUCH_HISTORY_BATCH entries */
    struct vouch_store_attestation *rows;
};

/* Copy `src` into `e`, its strings into e's buffers. */
static void entry_fill(struct entry *e, const struct vouch_store_attestation *src)
{
    e->row = *src;
    snprintf(e->policy_ids, sizeof(e->policy_ids), "%s", src->policy_ids ? src->policy_ids : "[]");
    snprintf(e->tcb_status, sizeof(e->tcb_status), "%s", src->tcb_status ? src->tcb_status : "");
    snprintf(e->error_code, sizeof(e->error_code), "%s", src->error_code ? src->error_code : "");
    e->row.tee[sizeof(e->row.tee) - 1] = '\0';
    e->row.request_id[sizeof(e->row.request_id) - 1] = '\0';
}

static void entry_point(struct entry *e, struct vouch_store_attestation *out)
{
    *out = e->row;
    out->policy_ids = e->policy_ids;
    out->tcb_status = e->tcb_status;
    out->error_code = e->error_code;
}

bool vouch_history_add(struct vouch_history *h, const struct vouch_store_attestation *row)
{
    bool queued = false;

    pthread_mutex_lock(&h->lock);
    if (h->n < VOUCH_HISTORY_QUEUE && !h->stopping) {
        entry_fill(&h->ring[(h->head + h->n) % VOUCH_HISTORY_QUEUE], row);
        h->n++;
        queued = true;
        /* the writer waits for a first row, then for a full batch or the linger time */
        if (h->n == 1 || h->n >= VOUCH_HISTORY_BATCH)
            pthread_cond_signal(&h->wake);
    } else {
        h->dropped++;
    }
    pthread_mutex_unlock(&h->lock);
    return queued;
}

/* Take up to a batch off the ring into h->batch; 0 when stopping with nothing left. */
static size_t take_batch(struct vouch_history *h, uint64_t *ret_dropped)
{
    struct timespec until;
    size_t k, i;

    pthread_mutex_lock(&h->lock);
    while (h->n == 0 && !h->stopping)
        pthread_cond_wait(&h->wake, &h->lock);
    /* Linger for more rows: one transaction (one fsync) per batch, not per row. */
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += LINGER_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (h->n < VOUCH_HISTORY_BATCH && !h->stopping &&
           pthread_cond_timedwait(&h->wake, &h->lock, &until) == 0)
        ;
    k = h->n < VOUCH_HISTORY_BATCH ? h->n : VOUCH_HISTORY_BATCH;
    for (i = 0; i < k; i++)
        h->batch[i] = h->ring[(h->head + i) % VOUCH_HISTORY_QUEUE];
    h->head = (h->head + k) % VOUCH_HISTORY_QUEUE;
    h->n -= k;
    *ret_dropped = h->dropped;
    pthread_mutex_unlock(&h->lock);
    return k;
}

static void *writer(void *arg)
{
    struct vouch_history *h = arg;
    uint64_t dropped = 0, logged = 0;
    struct vouch_errbuf eb;
    char num[24];
    size_t k, i;

    while ((k = take_batch(h, &dropped)) > 0) {
        for (i = 0; i < k; i++)
            entry_point(&h->batch[i], &h->rows[i]);
        vouch_errbuf_clear(&eb);
        if (vouch_store_attestation_add(h->store, h->rows, k, h->keep, &eb)) {
            snprintf(num, sizeof(num), "%zu", k);
            vouch_log(VOUCH_LOG_WARN, "attestation history: rows not recorded", "rows", num,
                      "error", eb.msg, VOUCH_LOG_END);
        }
        if (dropped != logged) {
            snprintf(num, sizeof(num), "%llu", (unsigned long long)(dropped - logged));
            vouch_log(VOUCH_LOG_WARN, "attestation history: queue full, rows dropped", "rows",
                      num, VOUCH_LOG_END);
            logged = dropped;
        }
    }
    return NULL;
}

static void history_free(struct vouch_history *h)
{
    if (!h)
        return;
    free(h->ring);
    free(h->batch);
    free(h->rows);
    free(h);
}

vouch_err vouch_history_start(struct vouch_store *store, uint64_t keep,
                              struct vouch_history **ret, struct vouch_errbuf *eb)
{
    struct vouch_history *h = calloc(1, sizeof(*h));

    if (h) {
        h->ring = calloc(VOUCH_HISTORY_QUEUE, sizeof(*h->ring));
        h->batch = calloc(VOUCH_HISTORY_BATCH, sizeof(*h->batch));
        h->rows = calloc(VOUCH_HISTORY_BATCH, sizeof(*h->rows));
    }
    if (!h || !h->ring || !h->batch || !h->rows) {
        history_free(h);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    h->store = store;
    h->keep = keep;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    if (pthread_create(&h->thread, NULL, writer, h) != 0) {
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        history_free(h);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot start the attestation history writer");
    }
    *ret = h;
    return VOUCH_OK;
}

void vouch_history_stop(struct vouch_history *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    history_free(h);
}
