/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SignatureNonce replay records (replay.h).  The records sit in a ring in
 * the order they were made, indexed by a chained hash table on their
 * fingerprint; the oldest are dropped from the ring's head once expired.
 * Expiries are not in ring order (a request's Timestamp may be up to 15
 * minutes either side of the clock), so an expired record may wait behind
 * a live one for up to 15 minutes: the capacity counts it meanwhile.
 * Per-key counts live in an open-addressed table keyed by the key's hash.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "crypto/digest.h"
#include "server/replay.h"

#define SALT_LEN 16
#define NO_RECORD 0u            /* bucket and chain links are index + 1 */

struct record {
    uint64_t fp[2];             /* SHA-256(salt, key id, 0, nonce), first 16 bytes */
    uint64_t key;               /* the key's hash, never 0 */
    int64_t expires_ms;         /* INT64_MIN: released */
    uint32_t next;              /* the bucket's chain */
    uint32_t counted;           /* counted in its key's total */
};

struct key_count {
    uint64_t key;               /* 0: free slot */
    uint64_t n;
};

struct queued {
    char key_id[VOUCH_STORE_NAME_MAX + 1];
    char nonce[VOUCH_STORE_NAME_MAX + 1];
    int64_t expires_ms;
};

struct vouch_replay {
    struct vouch_store *store;
    bool shared;
    size_t capacity, per_key;
    uint8_t salt[SALT_LEN];
    pthread_mutex_t lock;
    struct record *ring;
    size_t head, len;
    uint32_t *bucket;
    size_t bucket_mask;
    struct key_count *keys;
    size_t keys_mask;
    /* the writer (alone on the store) */
    pthread_t thread;
    bool writer_running, stopping;
    pthread_cond_t wake;
    struct queued *queue;       /* VOUCH_REPLAY_QUEUE */
    size_t q_head, q_len;
    struct queued *batch;       /* the writer's copy: VOUCH_REPLAY_BATCH */
    struct vouch_store_request_nonce *rows;
};

struct fingerprint {
    uint64_t fp[2];
    uint64_t key;
};

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

static vouch_err fingerprint(const struct vouch_replay *r, const char *key_id, const char *nonce,
                             struct fingerprint *ret, struct vouch_errbuf *eb)
{
    uint8_t in[SALT_LEN + 2 * (VOUCH_STORE_NAME_MAX + 1)], out[32];
    size_t kl, nl;
    vouch_err e = vouch_store_check_name("access key id", key_id, eb);

    if (!e)
        e = vouch_store_check_name("SignatureNonce", nonce, eb);
    if (e)
        return e;
    kl = strlen(key_id);
    nl = strlen(nonce);
    memcpy(in, r->salt, SALT_LEN);
    memcpy(in + SALT_LEN, key_id, kl + 1);
    if (vouch_hash(VOUCH_HASH_SHA256, in, SALT_LEN + kl, out))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    ret->key = load64(out) | 1;
    memcpy(in + SALT_LEN + kl + 1, nonce, nl);
    if (vouch_hash(VOUCH_HASH_SHA256, in, SALT_LEN + kl + 1 + nl, out))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    ret->fp[0] = load64(out);
    ret->fp[1] = load64(out + 8);
    return VOUCH_OK;
}

/* --- per-key counts -------------------------------------------------------- */

static size_t key_slot(const struct vouch_replay *r, uint64_t key)
{
    size_t i = (size_t)(key >> 1) & r->keys_mask;

    while (r->keys[i].key && r->keys[i].key != key)
        i = (i + 1) & r->keys_mask;
    return i;
}

/* Remove slot i, moving later entries of its run back (linear probing). */
static void key_remove(struct vouch_replay *r, size_t i)
{
    size_t j = i, home;

    for (;;) {
        j = (j + 1) & r->keys_mask;
        if (!r->keys[j].key)
            break;
        home = (size_t)(r->keys[j].key >> 1) & r->keys_mask;
        /* j stays when its home lies cyclically in (i, j] */
        if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
            continue;
        r->keys[i] = r->keys[j];
        i = j;
    }
    r->keys[i].key = 0;
    r->keys[i].n = 0;
}

static void key_release(struct vouch_replay *r, uint64_t key)
{
    size_t i = key_slot(r, key);

    if (r->keys[i].key && --r->keys[i].n == 0)
        key_remove(r, i);
}

/* --- the set ----------------------------------------------------------------- */

static void record_unlink(struct vouch_replay *r, size_t idx)
{
    struct record *rec = &r->ring[idx];
    uint32_t *link = &r->bucket[rec->fp[0] & r->bucket_mask];

    while (*link != NO_RECORD && *link != idx + 1)
        link = &r->ring[*link - 1].next;
    if (*link == idx + 1)
        *link = rec->next;
    if (rec->counted)
        key_release(r, rec->key);
    rec->counted = 0;
}

static void drop_expired(struct vouch_replay *r, int64_t now_ms)
{
    while (r->len > 0 && r->ring[r->head].expires_ms <= now_ms) {
        record_unlink(r, r->head);
        r->head = (r->head + 1) % r->capacity;
        r->len--;
    }
}

static bool live(const struct vouch_replay *r, const struct fingerprint *f, int64_t now_ms)
{
    uint32_t i = r->bucket[f->fp[0] & r->bucket_mask];

    for (; i != NO_RECORD; i = r->ring[i - 1].next) {
        const struct record *rec = &r->ring[i - 1];

        if (rec->fp[0] == f->fp[0] && rec->fp[1] == f->fp[1] && rec->expires_ms > now_ms)
            return true;
    }
    return false;
}

/*
 * Add a record (the lock held); *ret_idx its place.  `limit_key` applies
 * the per-key bound (not when loading).
 */
static vouch_err insert(struct vouch_replay *r, const struct fingerprint *f, int64_t now_ms,
                        int64_t expires_ms, bool limit_key, size_t *ret_idx,
                        struct vouch_errbuf *eb)
{
    size_t idx, k;
    struct record *rec;

    drop_expired(r, now_ms);
    if (live(r, f, now_ms))
        return vouch_fail(eb, VOUCH_E_CONFLICT, "SignatureNonce used");
    if (r->len == r->capacity)
        return vouch_fail(eb, VOUCH_E_LIMIT, "%zu SignatureNonce records held: the service's "
                          "limit", r->capacity);
    k = key_slot(r, f->key);
    if (limit_key && r->keys[k].key && r->keys[k].n >= r->per_key)
        return vouch_fail(eb, VOUCH_E_LIMIT, "too many recent requests for this access key");
    r->keys[k].key = f->key;
    r->keys[k].n++;
    idx = (r->head + r->len) % r->capacity;
    rec = &r->ring[idx];
    rec->fp[0] = f->fp[0];
    rec->fp[1] = f->fp[1];
    rec->key = f->key;
    rec->expires_ms = expires_ms;
    rec->counted = 1;
    rec->next = r->bucket[f->fp[0] & r->bucket_mask];
    r->bucket[f->fp[0] & r->bucket_mask] = (uint32_t)(idx + 1);
    r->len++;
    *ret_idx = idx;
    return VOUCH_OK;
}

/* Undo insert() of record idx (the lock held): it stays in the ring, released. */
static void release(struct vouch_replay *r, size_t idx, const struct fingerprint *f)
{
    struct record *rec = &r->ring[idx];

    if (rec->fp[0] != f->fp[0] || rec->fp[1] != f->fp[1] || !rec->counted)
        return;
    record_unlink(r, idx);
    rec->expires_ms = INT64_MIN;
}

/* --- the writer -------------------------------------------------------------- */

static bool enqueue(struct vouch_replay *r, const char *key_id, const char *nonce,
                    int64_t expires_ms)
{
    struct queued *q;

    if (r->q_len == VOUCH_REPLAY_QUEUE || r->stopping)
        return false;
    q = &r->queue[(r->q_head + r->q_len) % VOUCH_REPLAY_QUEUE];
    snprintf(q->key_id, sizeof(q->key_id), "%s", key_id);
    snprintf(q->nonce, sizeof(q->nonce), "%s", nonce);
    q->expires_ms = expires_ms;
    if (r->q_len++ == 0)
        pthread_cond_signal(&r->wake);
    return true;
}

static void deadline_in(struct timespec *t, long ms)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* Wait for records, then for the period; take up to a batch.  0: stopping, none left. */
static size_t take_batch(struct vouch_replay *r)
{
    struct timespec until;
    size_t k, i;

    pthread_mutex_lock(&r->lock);
    while (r->q_len == 0 && !r->stopping)
        pthread_cond_wait(&r->wake, &r->lock);
    deadline_in(&until, VOUCH_REPLAY_FLUSH_MS);
    while (r->q_len < VOUCH_REPLAY_BATCH && !r->stopping &&
           pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
        ;
    k = r->q_len < VOUCH_REPLAY_BATCH ? r->q_len : VOUCH_REPLAY_BATCH;
    for (i = 0; i < k; i++)
        r->batch[i] = r->queue[(r->q_head + i) % VOUCH_REPLAY_QUEUE];
    r->q_head = (r->q_head + k) % VOUCH_REPLAY_QUEUE;
    r->q_len -= k;
    pthread_mutex_unlock(&r->lock);
    return k;
}

/* Save a batch, retrying each second until it is saved or we stop. */
static void save_batch(struct vouch_replay *r, size_t k)
{
    struct vouch_errbuf eb;
    struct timespec pause = { 1, 0 };
    char num[24];
    size_t i;
    bool stopping;

    for (i = 0; i < k; i++) {
        r->rows[i].key_id = r->batch[i].key_id;
        r->rows[i].nonce = r->batch[i].nonce;
        r->rows[i].expires_ms = r->batch[i].expires_ms;
    }
    for (;;) {
        vouch_errbuf_clear(&eb);
        if (!vouch_store_request_nonces_save(r->store, r->rows, k, &eb))
            return;
        pthread_mutex_lock(&r->lock);
        stopping = r->stopping;
        pthread_mutex_unlock(&r->lock);
        snprintf(num, sizeof(num), "%zu", k);
        vouch_log(VOUCH_LOG_WARN, stopping ? "SignatureNonce records not saved"
                                           : "SignatureNonce records not saved yet; retrying",
                  "records", num, "error", eb.msg, VOUCH_LOG_END);
        if (stopping)
            return;
        nanosleep(&pause, NULL);
    }
}

static void *writer(void *arg)
{
    struct vouch_replay *r = arg;
    size_t k;

    while ((k = take_batch(r)) > 0)
        save_batch(r, k);
    return NULL;
}

/* --- life ---------------------------------------------------------------------- */

static void replay_free(struct vouch_replay *r)
{
    if (!r)
        return;
    free(r->ring);
    free(r->bucket);
    free(r->keys);
    free(r->queue);
    free(r->batch);
    free(r->rows);
    free(r);
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

static vouch_err replay_alloc(size_t capacity, size_t per_key, bool shared,
                              struct vouch_replay **ret, struct vouch_errbuf *eb)
{
    struct vouch_replay *r = calloc(1, sizeof(*r));
    size_t nb = pow2_at_least(capacity), nk = pow2_at_least(2 * capacity);

    if (r) {
        r->ring = calloc(capacity, sizeof(*r->ring));
        r->bucket = calloc(nb, sizeof(*r->bucket));
        r->keys = calloc(nk, sizeof(*r->keys));
        if (!shared) {
            r->queue = calloc(VOUCH_REPLAY_QUEUE, sizeof(*r->queue));
            r->batch = calloc(VOUCH_REPLAY_BATCH, sizeof(*r->batch));
            r->rows = calloc(VOUCH_REPLAY_BATCH, sizeof(*r->rows));
        }
    }
    if (!r || !r->ring || !r->bucket || !r->keys ||
        (!shared && (!r->queue || !r->batch || !r->rows))) {
        replay_free(r);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    r->capacity = capacity;
    r->per_key = per_key;
    r->shared = shared;
    r->bucket_mask = nb - 1;
    r->keys_mask = nk - 1;
    if (RAND_bytes(r->salt, SALT_LEN) != 1) {
        replay_free(r);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for the replay set");
    }
    *ret = r;
    return VOUCH_OK;
}

struct load_ctx {
    struct vouch_replay *r;
    int64_t now_ms;
    struct vouch_errbuf *eb;
};

static bool load_one(void *ctx, const struct vouch_store_request_nonce *row)
{
    struct load_ctx *l = ctx;
    struct fingerprint f;
    size_t idx;
    vouch_err e = fingerprint(l->r, row->key_id, row->nonce, &f, l->eb);

    if (e == VOUCH_E_INVALID)
        return true;            /* cannot be used by a request anyway */
    if (!e)
        e = insert(l->r, &f, l->now_ms, row->expires_ms, false, &idx, l->eb);
    return e == VOUCH_OK || e == VOUCH_E_CONFLICT;
}

vouch_err vouch_replay_start(struct vouch_store *store, bool shared, size_t capacity,
                             size_t per_key, int64_t now_ms, struct vouch_replay **ret,
                             struct vouch_errbuf *eb)
{
    struct vouch_replay *r = NULL;
    struct vouch_errbuf inner;
    struct load_ctx l;
    vouch_err e;

    if (capacity == 0 || capacity >= UINT32_MAX || per_key == 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "replay set: bad capacity");
    e = replay_alloc(capacity, per_key, shared, &r, eb);
    if (e)
        return e;
    r->store = store;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    l = (struct load_ctx){ r, now_ms, &inner };
    if (!shared) {
        vouch_errbuf_clear(&inner);
        e = vouch_store_request_nonces_each(store, now_ms, load_one, &l, eb);
        if (e == VOUCH_E_LIMIT)
            e = vouch_fail(eb, e, "loading SignatureNonce records: %s", inner.msg);
        if (!e && pthread_create(&r->thread, NULL, writer, r) != 0)
            e = vouch_fail(eb, VOUCH_E_INTERNAL, "cannot start the SignatureNonce writer");
        r->writer_running = !e;
    }
    if (e) {
        vouch_replay_stop(r);
        return e;
    }
    *ret = r;
    return VOUCH_OK;
}

/* Shared store: the table decides; a failure there takes the local record back. */
static vouch_err use_shared(struct vouch_replay *r, const char *key_id, const char *nonce,
                            int64_t now_ms, int64_t expires_ms, size_t idx,
                            const struct fingerprint *f, struct vouch_errbuf *eb)
{
    vouch_err e = vouch_store_request_nonce_use(r->store, key_id, nonce, now_ms, expires_ms, eb);

    if (e && e != VOUCH_E_CONFLICT) {
        pthread_mutex_lock(&r->lock);
        release(r, idx, f);
        pthread_mutex_unlock(&r->lock);
    }
    return e;
}

/* Alone on the store, a durable use: the record is saved before the use returns. */
static vouch_err save_now(struct vouch_replay *r, const char *key_id, const char *nonce,
                          int64_t expires_ms, size_t idx, const struct fingerprint *f,
                          struct vouch_errbuf *eb)
{
    const struct vouch_store_request_nonce row = { key_id, nonce, expires_ms };
    vouch_err e = vouch_store_request_nonces_save(r->store, &row, 1, eb);

    if (!e)
        return VOUCH_OK;
    pthread_mutex_lock(&r->lock);
    release(r, idx, f);
    pthread_mutex_unlock(&r->lock);
    return vouch_fail(eb, VOUCH_E_UNAVAILABLE, "the SignatureNonce record was not saved: %s",
                      eb->msg);
}

vouch_err vouch_replay_use(struct vouch_replay *r, const char *key_id, const char *nonce,
                           int64_t now_ms, int64_t expires_ms, bool durable,
                           struct vouch_errbuf *eb)
{
    struct fingerprint f;
    size_t idx = 0;
    vouch_err e = fingerprint(r, key_id, nonce, &f, eb);
    bool queued = !r->shared && !durable;

    if (e)
        return e;
    pthread_mutex_lock(&r->lock);
    e = insert(r, &f, now_ms, expires_ms, true, &idx, eb);
    if (!e && queued && !enqueue(r, key_id, nonce, expires_ms)) {
        release(r, idx, &f);
        e = vouch_fail(eb, VOUCH_E_UNAVAILABLE, "SignatureNonce records are not being saved "
                       "fast enough");
    }
    pthread_mutex_unlock(&r->lock);
    if (!e && r->shared)
        e = use_shared(r, key_id, nonce, now_ms, expires_ms, idx, &f, eb);
    else if (!e && !queued)
        e = save_now(r, key_id, nonce, expires_ms, idx, &f, eb);
    return e;
}

size_t vouch_replay_count(struct vouch_replay *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->len;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void vouch_replay_stop(struct vouch_replay *r)
{
    if (!r)
        return;
    if (r->writer_running) {
        pthread_mutex_lock(&r->lock);
        r->stopping = true;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    replay_free(r);
}
