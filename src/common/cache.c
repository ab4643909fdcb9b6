/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bounded cache (cache.h): a chained hash table whose entries are also
 * on a doubly linked LRU list, most recently used first.  The table owns
 * one reference to each entry it links; callers own the others.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/cache.h"

#define MIN_BUCKETS 16u
#define MAX_BUCKETS (1u << 16)

struct vouch_cache_entry {
    atomic_uint refs;
    void (*free_value)(void *value);   /* copied: an entry may outlive its cache */
    void *value;
    uint64_t hash;
    int64_t deadline;
    size_t cost;                       /* key length + value cost */
    struct vouch_cache_entry *chain;   /* next in the bucket */
    struct vouch_cache_entry *newer, *older;
    size_t key_len;
    uint8_t key[];
};

struct vouch_cache {
    pthread_mutex_t lock;
    struct vouch_cache_config cfg;
    struct vouch_cache_entry **buckets;
    size_t nbuckets;                   /* a power of two */
    struct vouch_cache_entry *newest, *oldest;
    struct vouch_cache_stats st;
    struct vouch_cache *reg_next, **reg_prev;
};

/* Every live cache, for vouch_cache_each(). */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vouch_cache *registry;

/* FNV-1a, 64-bit. */
static uint64_t hash_key(const uint8_t *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= k[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static size_t buckets_for(size_t max_entries)
{
    size_t n = MIN_BUCKETS;

    while (n < max_entries && n < MAX_BUCKETS)
        n <<= 1;
    return n;
}

vouch_err vouch_cache_new(const struct vouch_cache_config *cfg, struct vouch_cache **ret,
                          struct vouch_errbuf *eb)
{
    struct vouch_cache *c;

    if (!cfg->name || cfg->max_entries == 0 || cfg->ttl < 0)
        return vouch_fail(eb, VOUCH_E_INTERNAL, "cache: a name and max_entries are required");
    c = calloc(1, sizeof(*c));
    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    c->cfg = *cfg;
    c->nbuckets = buckets_for(cfg->max_entries);
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets || pthread_mutex_init(&c->lock, NULL)) {
        free(c->buckets);
        free(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&registry_lock);
    c->reg_next = registry;
    c->reg_prev = &registry;
    if (registry)
        registry->reg_prev = &c->reg_next;
    registry = c;
    pthread_mutex_unlock(&registry_lock);
    *ret = c;
    return VOUCH_OK;
}

void vouch_cache_release(struct vouch_cache_entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (e->free_value)
        e->free_value(e->value);
    free(e);
}

/* Remove e from the table and the LRU list; its table reference moves to the caller. */
static void unlink_locked(struct vouch_cache *c, struct vouch_cache_entry *e)
{
    struct vouch_cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->chain;
    *pp = e->chain;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->chain = e->newer = e->older = NULL;
    c->st.entries--;
    c->st.bytes -= e->cost;
}

/* Put e at the front of the LRU list (e not on it). */
static void push_newest_locked(struct vouch_cache *c, struct vouch_cache_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

static void touch_locked(struct vouch_cache *c, struct vouch_cache_entry *e)
{
    if (c->newest == e)
        return;
    e->newer->older = e->older;          /* e is not the newest, so it has a newer */
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    push_newest_locked(c, e);
}

static struct vouch_cache_entry *find_locked(struct vouch_cache *c, const void *key,
                                             size_t key_len, uint64_t h)
{
    struct vouch_cache_entry *e = c->buckets[h & (c->nbuckets - 1)];

    for (; e; e = e->chain)
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return e;
    return NULL;
}

/* Release a list of unlinked entries (chained through `chain`) outside the lock. */
static void release_all(struct vouch_cache_entry *list)
{
    struct vouch_cache_entry *next;

    for (; list; list = next) {
        next = list->chain;
        list->chain = NULL;
        vouch_cache_release(list);
    }
}

struct vouch_cache_entry *vouch_cache_get(struct vouch_cache *c, const void *key,
                                          size_t key_len, int64_t now)
{
    uint64_t h = hash_key(key, key_len);
    struct vouch_cache_entry *e, *dead = NULL;

    pthread_mutex_lock(&c->lock);
    e = find_locked(c, key, key_len, h);
    if (e && now > e->deadline) {
        unlink_locked(c, e);
        c->st.expirations++;
        dead = e;
        e = NULL;
    }
    if (e) {
        touch_locked(c, e);
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        c->st.hits++;
    } else {
        c->st.misses++;
    }
    pthread_mutex_unlock(&c->lock);
    vouch_cache_release(dead);
    return e;
}

static struct vouch_cache_entry *entry_new(const struct vouch_cache *c, const void *key,
                                           size_t key_len, void *value, size_t cost,
                                           int64_t now, int64_t expires)
{
    struct vouch_cache_entry *e;
    size_t size;
    int64_t until;

    if (__builtin_add_overflow(sizeof(*e), key_len, &size) ||
        !(e = malloc(size)))
        return NULL;
    memset(e, 0, sizeof(*e));
    atomic_init(&e->refs, 1);
    e->free_value = c->cfg.free_value;
    e->value = value;
    e->hash = hash_key(key, key_len);
    e->deadline = expires;
    if (c->cfg.ttl > 0 && !__builtin_add_overflow(now, c->cfg.ttl, &until) &&
        until < e->deadline)
        e->deadline = until;
    if (__builtin_add_overflow(cost, key_len, &e->cost))
        e->cost = SIZE_MAX;
    e->key_len = key_len;
    if (key_len)
        memcpy(e->key, key, key_len);
    return e;
}

/* Unlink the oldest entries until `extra` more entries/bytes fit; returns them. */
static struct vouch_cache_entry *make_room_locked(struct vouch_cache *c, size_t extra_bytes)
{
    struct vouch_cache_entry *dead = NULL, *e;

    while ((e = c->oldest) != NULL &&
           (c->st.entries + 1 > c->cfg.max_entries ||
            (c->cfg.max_bytes && c->st.bytes + extra_bytes > c->cfg.max_bytes))) {
        unlink_locked(c, e);
        c->st.evictions++;
        e->chain = dead;
        dead = e;
    }
    return dead;
}

vouch_err vouch_cache_put(struct vouch_cache *c, const void *key, size_t key_len, void *value,
                          size_t cost, int64_t now, int64_t expires,
                          struct vouch_cache_entry **ret)
{
    struct vouch_cache_entry *e, *old, *dead = NULL;

    e = entry_new(c, key, key_len, value, cost, now, expires);
    if (!e) {
        if (c->cfg.free_value)
            c->cfg.free_value(value);
        return VOUCH_E_NOMEM;
    }
    pthread_mutex_lock(&c->lock);
    old = find_locked(c, key, key_len, e->hash);
    if (old) {
        unlink_locked(c, old);
        old->chain = dead;
        dead = old;
    }
    if (!c->cfg.max_bytes || e->cost <= c->cfg.max_bytes) {
        struct vouch_cache_entry *evicted = make_room_locked(c, e->cost), **tail = &evicted;
        size_t b = e->hash & (c->nbuckets - 1);

        while (*tail)
            tail = &(*tail)->chain;
        *tail = dead;
        dead = evicted;
        e->chain = c->buckets[b];
        c->buckets[b] = e;
        push_newest_locked(c, e);
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed); /* the table's */
        c->st.entries++;
        c->st.bytes += e->cost;
    }
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
    if (ret)
        *ret = e;
    else
        vouch_cache_release(e);
    return VOUCH_OK;
}

void *vouch_cache_value(const struct vouch_cache_entry *e)
{
    return e->value;
}

void vouch_cache_clear(struct vouch_cache *c)
{
    struct vouch_cache_entry *dead = NULL, *e;

    pthread_mutex_lock(&c->lock);
    while ((e = c->oldest) != NULL) {
        unlink_locked(c, e);
        e->chain = dead;
        dead = e;
    }
    pthread_mutex_unlock(&c->lock);
    release_all(dead);
}

void vouch_cache_free(struct vouch_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&registry_lock);
    *c->reg_prev = c->reg_next;
    if (c->reg_next)
        c->reg_next->reg_prev = c->reg_prev;
    pthread_mutex_unlock(&registry_lock);
    vouch_cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

void vouch_cache_stats(struct vouch_cache *c, struct vouch_cache_stats *ret)
{
    pthread_mutex_lock(&c->lock);
    *ret = c->st;
    pthread_mutex_unlock(&c->lock);
}

const char *vouch_cache_name(const struct vouch_cache *c)
{
    return c->cfg.name;
}

void vouch_cache_each(void (*fn)(const char *name, const struct vouch_cache_stats *stats,
                                 void *arg),
                      void *arg)
{
    struct vouch_cache_stats st;
    struct vouch_cache *c;

    pthread_mutex_lock(&registry_lock);
    for (c = registry; c; c = c->reg_next) {
        vouch_cache_stats(c, &st);
        fn(c->cfg.name, &st, arg);
    }
    pthread_mutex_unlock(&registry_lock);
}
