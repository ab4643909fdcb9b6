/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_COMMON_CACHE_H
#define VOUCH_COMMON_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * A bounded, thread-safe map from a byte-string key to a value, with LRU
 * eviction, an optional time to live and hit/miss/eviction counters.
 *
 * Values are reference counted through their entries: vouch_cache_get()
 * and vouch_cache_put() hand out a reference to an entry that the caller
 * drops with vouch_cache_release().  An entry evicted, expired, replaced
 * or cleared while someone holds it leaves the map at once but its value
 * stays valid until the last reference is dropped; then the destructor
 * given at creation runs, exactly once, on whichever thread dropped it.
 *
 * Time is the caller's: every call that ages entries takes `now`, in a
 * unit the caller picks per cache (seconds, microseconds) and uses for
 * `ttl` and `expires` too.  The cache never reads a clock.
 *
 * One mutex guards the map; a lookup holds it for a hash, a compare and
 * a move to the front of the LRU list.  Destructors never run under it.
 */

#define VOUCH_CACHE_NEVER INT64_MAX /* an `expires` that does not expire */

struct vouch_cache;
struct vouch_cache_entry;

struct vouch_cache_config {
    const char *name;          /* names the cache in metrics (static string) */
    size_t max_entries;        /* cap on entries (> 0) */
    size_t max_bytes;          /* cap on the sum of key lengths and costs; 0: none */
    int64_t ttl;               /* an entry lives at most this long after its put; 0: no TTL */
    void (*free_value)(void *value); /* run on the value once unused; may be NULL */
};

struct vouch_cache_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t evictions;        /* dropped to respect a cap */
    uint64_t expirations;      /* dropped because their time was up */
    uint64_t entries;
    uint64_t bytes;
};

vouch_err vouch_cache_new(const struct vouch_cache_config *cfg, struct vouch_cache **ret,
                          struct vouch_errbuf *eb);
/* Drops the cache's references; entries still held stay valid. */
void vouch_cache_free(struct vouch_cache *c);

/*
 * A new reference to the live entry for `key`, or NULL (a miss).  An entry
 * whose time is up at `now` (now > its deadline) is dropped and missed.
 */
struct vouch_cache_entry *vouch_cache_get(struct vouch_cache *c, const void *key,
                                          size_t key_len, int64_t now);

/*
 * Insert `value` under `key`, replacing an entry already there.  Ownership
 * of the value moves to the cache even on failure (then it is destroyed).
 * The entry's deadline is `expires`, or now + ttl when that is earlier.
 * `cost` is what the value counts against max_bytes.  Least recently used
 * entries are evicted to make room; an entry larger than max_bytes is not
 * kept but still handed to the caller.  When `ret` is not NULL it receives
 * a reference to the new entry.  Fails only when out of memory.
 */
vouch_err vouch_cache_put(struct vouch_cache *c, const void *key, size_t key_len, void *value,
                          size_t cost, int64_t now, int64_t expires,
                          struct vouch_cache_entry **ret);

/* The value an entry holds. */
void *vouch_cache_value(const struct vouch_cache_entry *e);

/* Drop a reference from get or put; accepts NULL. */
void vouch_cache_release(struct vouch_cache_entry *e);

/* Drop every entry (held ones stay valid until released). */
void vouch_cache_clear(struct vouch_cache *c);

void vouch_cache_stats(struct vouch_cache *c, struct vouch_cache_stats *ret);
const char *vouch_cache_name(const struct vouch_cache *c);

/*
 * Call fn for every live cache in the process with its name and counters
 * (for metrics).  fn runs under a registry lock: it must not create or
 * free a cache.
 */
void vouch_cache_each(void (*fn)(const char *name, const struct vouch_cache_stats *stats,
                                 void *arg),
                      void *arg);

#endif
