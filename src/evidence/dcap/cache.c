/* SPDX-License-Identifier: Apache-2.0 */
/* The cache of verified collateral, PCK chains and QE reports. */
#include <stdlib.h>
#include <string.h>

#include "evidence/dcap/dcap_int.h"

static size_t bucket_of(const uint8_t key[32])
{
    size_t h;

    memcpy(&h, key, sizeof(h));
    return h % DCAP_CACHE_BUCKETS;
}

void dcap_cache_init(struct dcap_cache *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
}

void dcap_centry_unref(struct dcap_centry *e)
{
    if (!e)
        return;
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        if (e->free_val)
            e->free_val(e->val);
        free(e);
    }
}

/* Caller holds the lock. */
static void flush_locked(struct dcap_cache *c)
{
    size_t i;

    for (i = 0; i < DCAP_CACHE_BUCKETS; i++) {
        struct dcap_centry *e = c->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            dcap_centry_unref(e);
        }
        c->buckets[i] = NULL;
    }
    c->n = 0;
}

void dcap_cache_flush(struct dcap_cache *c)
{
    pthread_mutex_lock(&c->mu);
    flush_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void dcap_cache_destroy(struct dcap_cache *c)
{
    dcap_cache_flush(c);
    pthread_mutex_destroy(&c->mu);
}

struct dcap_centry *dcap_cache_get(struct dcap_cache *c, const uint8_t key[32], int64_t now)
{
    struct dcap_centry **pp, *e;

    pthread_mutex_lock(&c->mu);
    for (pp = &c->buckets[bucket_of(key)]; (e = *pp) != NULL; pp = &e->next) {
        if (memcmp(e->key, key, 32) != 0)
            continue;
        if (now > e->expires) {
            *pp = e->next;
            c->n--;
            dcap_centry_unref(e);
            e = NULL;
            break;
        }
        atomic_fetch_add(&e->refs, 1);
        break;
    }
    if (e)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->mu);
    return e;
}

struct dcap_centry *dcap_cache_put(struct dcap_cache *c, const uint8_t key[32], void *val,
                                   void (*free_val)(void *), int64_t expires)
{
    struct dcap_centry *e, *cur;
    size_t b = bucket_of(key);

    e = calloc(1, sizeof(*e));
    if (!e) {
        if (free_val)
            free_val(val);
        return NULL;
    }
    memcpy(e->key, key, 32);
    e->expires = expires;
    e->val = val;
    e->free_val = free_val;
    atomic_init(&e->refs, 2); /* the cache's and the caller's */
    pthread_mutex_lock(&c->mu);
    for (cur = c->buckets[b]; cur; cur = cur->next)
        if (memcmp(cur->key, key, 32) == 0)
            break;
    if (cur) {
        atomic_fetch_add(&cur->refs, 1);
        pthread_mutex_unlock(&c->mu);
        atomic_init(&e->refs, 1);
        dcap_centry_unref(e);
        return cur;
    }
    /* Bounded: a full cache starts over rather than growing. */
    if (c->n >= DCAP_CACHE_MAX)
        flush_locked(c);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->n++;
    pthread_mutex_unlock(&c->mu);
    return e;
}
