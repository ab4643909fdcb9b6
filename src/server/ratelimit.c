/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/ratelimit.h"

/* Independent locks, so threads serving different clients rarely meet. */
#define SHARDS 16
/* Slots a key may occupy, starting at its hash. */
#define PROBE 8
/* The most an empty bucket can owe (charge()). */
#define MAX_DEBT_US (3600ull * 1000000ull)

struct slot {
    uint8_t key[VOUCH_RATELIMIT_KEY_LEN];
    bool used;
    uint64_t full_at_us;      /* the theoretical arrival time of the cell rate algorithm */
};

struct shard {
    pthread_mutex_t lock;
    struct slot *slots;
};

struct vouch_ratelimit {
    uint64_t interval_us;     /* one token every interval */
    uint64_t tolerance_us;    /* interval × (burst - 1) */
    uint64_t seed;
    size_t mask;              /* slots per shard - 1 */
    struct shard shards[SHARDS];
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t key_hash(const struct vouch_ratelimit *rl, const uint8_t *key)
{
    uint64_t a, b;

    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    return mix64(mix64(a ^ rl->seed) ^ b);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;

    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

vouch_err vouch_ratelimit_new(uint64_t count, uint64_t period_us, uint64_t burst,
                              size_t max_keys, struct vouch_ratelimit **ret)
{
    struct vouch_ratelimit *rl;
    size_t per_shard = PROBE;
    int i;

    if (!count || !period_us || !burst || max_keys > ((size_t)1 << 24))
        return VOUCH_E_INVALID;
    while (per_shard * SHARDS < max_keys)
        per_shard *= 2;
    rl = calloc(1, sizeof(*rl));
    if (!rl)
        return VOUCH_E_NOMEM;
    rl->interval_us = period_us / count ? period_us / count : 1;
    if (__builtin_mul_overflow(rl->interval_us, burst - 1, &rl->tolerance_us))
        rl->tolerance_us = UINT64_MAX / 2;
    if (getrandom(&rl->seed, sizeof(rl->seed), 0) != (ssize_t)sizeof(rl->seed))
        rl->seed = (uint64_t)(uintptr_t)rl;
    rl->mask = per_shard - 1;
    for (i = 0; i < SHARDS; i++) {
        rl->shards[i].slots = calloc(per_shard, sizeof(struct slot));
        if (!rl->shards[i].slots) {
            vouch_ratelimit_free(rl);
            return VOUCH_E_NOMEM;
        }
        pthread_mutex_init(&rl->shards[i].lock, NULL);
    }
    *ret = rl;
    return VOUCH_OK;
}

void vouch_ratelimit_free(struct vouch_ratelimit *rl)
{
    int i;

    if (!rl)
        return;
    for (i = 0; i < SHARDS; i++) {
        if (!rl->shards[i].slots)
            continue;
        free(rl->shards[i].slots);
        pthread_mutex_destroy(&rl->shards[i].lock);
    }
    free(rl);
}

/*
 * The slot of `key` in its (locked) shard, or, when `insert`, a slot taken
 * for it: a free one, else the one whose bucket is fullest.  NULL when the
 * key is absent and not inserted (its bucket is full).
 */
static struct slot *slot_find(struct vouch_ratelimit *rl, struct shard *sh, uint64_t h,
                              const uint8_t *key, uint64_t now_us, bool insert)
{
    struct slot *victim = NULL, *s;
    size_t i;

    for (i = 0; i < PROBE; i++) {
        s = &sh->slots[(h + i) & rl->mask];
        if (s->used && memcmp(s->key, key, VOUCH_RATELIMIT_KEY_LEN) == 0)
            return s;
        if (!victim || (victim->used && (!s->used || s->full_at_us < victim->full_at_us)))
            victim = s;
    }
    if (!insert)
        return NULL;
    memcpy(victim->key, key, VOUCH_RATELIMIT_KEY_LEN);
    victim->used = true;
    victim->full_at_us = now_us;
    return victim;
}

enum bucket_op { OP_PEEK, OP_TAKE, OP_CHARGE };

static bool bucket_op(struct vouch_ratelimit *rl, const uint8_t *key, uint64_t now_us,
                      enum bucket_op op, uint64_t *ret_wait_us)
{
    uint64_t h = key_hash(rl, key), tat, allowed_at, debt_cap;
    struct shard *sh = &rl->shards[h % SHARDS];
    struct slot *s;
    bool ok;

    pthread_mutex_lock(&sh->lock);
    s = slot_find(rl, sh, h / SHARDS, key, now_us, op != OP_PEEK);
    tat = s && s->full_at_us > now_us ? s->full_at_us : now_us;
    allowed_at = tat > rl->tolerance_us ? tat - rl->tolerance_us : 0;
    ok = allowed_at <= now_us;
    if (s && (op == OP_CHARGE || (op == OP_TAKE && ok))) {
        debt_cap = sat_add(sat_add(now_us, rl->tolerance_us), MAX_DEBT_US);
        tat = sat_add(tat, rl->interval_us);
        s->full_at_us = tat < debt_cap ? tat : debt_cap;
    }
    pthread_mutex_unlock(&sh->lock);
    if (!ok && ret_wait_us)
        *ret_wait_us = allowed_at - now_us;
    return ok;
}

bool vouch_ratelimit_take(struct vouch_ratelimit *rl,
                          const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us,
                          uint64_t *ret_wait_us)
{
    return bucket_op(rl, key, now_us, OP_TAKE, ret_wait_us);
}

bool vouch_ratelimit_peek(struct vouch_ratelimit *rl,
                          const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us,
                          uint64_t *ret_wait_us)
{
    return bucket_op(rl, key, now_us, OP_PEEK, ret_wait_us);
}

void vouch_ratelimit_charge(struct vouch_ratelimit *rl,
                            const uint8_t key[VOUCH_RATELIMIT_KEY_LEN], uint64_t now_us)
{
    bucket_op(rl, key, now_us, OP_CHARGE, NULL);
}

void vouch_ratelimit_refusal(uint64_t wait_us, const char *what,
                             char retry[VOUCH_RATELIMIT_RETRY_LEN], char *msg, size_t msg_size)
{
    uint64_t secs = wait_us / 1000000u + (wait_us % 1000000u ? 1 : 0);

    snprintf(retry, VOUCH_RATELIMIT_RETRY_LEN, "%llu", (unsigned long long)(secs ? secs : 1));
    snprintf(msg, msg_size, "too many %s; retry after %s s", what, retry);
}

void vouch_http_rate_limited(struct vouch_http_resp *resp, uint64_t wait_us, const char *what)
{
    /* the status and code from the error table; Retry-After from the bucket */
    const struct vouch_problem_entry *row =
        vouch_problem_find(VOUCH_SCOPE_REQUEST, VOUCH_E_RATE_LIMITED, VOUCH_SUB_NONE);
    char retry[VOUCH_RATELIMIT_RETRY_LEN], msg[128];

    vouch_ratelimit_refusal(wait_us, what, retry, msg, sizeof(msg));
    vouch_http_problem(resp, row->status, row->code, NULL, "%s", msg);
    vouch_http_resp_header(resp, "Retry-After", retry);
}
