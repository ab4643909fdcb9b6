/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_cache: operations per second on the bounded cache (common/cache.h)
 * with 32-byte keys (the SHA-256 keys most callers use), 256 entries.
 *   hit:     get + release of a present key, one thread;
 *   churn:   keys drawn from 4x the cap: get, and put on a miss (so about
 *            three in four operations evict), one thread;
 *   hit-2t:  hit from two threads on one cache (the lock contended).
 * usage: bench_cache [SECONDS]   (default 2 per mode)
 * Output: one line per mode, "mode=hit ops=N secs=S per_sec=R ns=T".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cache.h"
#include "common/time.h"

#define ENTRIES 256
#define BATCH 4096

struct run {
    struct vouch_cache *c;
    unsigned keyspace;
    double secs;
    uint64_t ops;
};

static void key_of(unsigned i, uint8_t key[32])
{
    unsigned j;

    for (j = 0; j < 32; j++)
        key[j] = (uint8_t)((i * 2654435761u) >> (j % 4 * 8)) ^ (uint8_t)j;
}

static void *loop(void *arg)
{
    struct run *r = arg;
    uint64_t start = vouch_clock_us(), limit = (uint64_t)(r->secs * 1e6);
    unsigned seed = (unsigned)(uintptr_t)arg, i;
    uint8_t key[32];

    do {
        for (i = 0; i < BATCH; i++) {
            struct vouch_cache_entry *e;

            key_of((unsigned)rand_r(&seed) % r->keyspace, key);
            e = vouch_cache_get(r->c, key, sizeof(key), 0);
            if (!e && vouch_cache_put(r->c, key, sizeof(key), NULL, 0, 0, VOUCH_CACHE_NEVER,
                                      &e))
                continue;
            vouch_cache_release(e);
        }
        r->ops += BATCH;
    } while (vouch_clock_us() - start < limit);
    return NULL;
}

static int mode(const char *name, unsigned keyspace, int threads, double secs)
{
    const struct vouch_cache_config cfg = { "bench", ENTRIES, 0, 0, NULL };
    struct run r[2];
    pthread_t t[2];
    uint64_t start, ops = 0;
    double took;
    int i;

    memset(r, 0, sizeof(r));
    if (vouch_cache_new(&cfg, &r[0].c, NULL))
        return 1;
    start = vouch_clock_us();
    for (i = 0; i < threads; i++) {
        r[i].c = r[0].c;
        r[i].keyspace = keyspace;
        r[i].secs = secs;
        if (pthread_create(&t[i], NULL, loop, &r[i]))
            return 1;
    }
    for (i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        ops += r[i].ops;
    }
    took = (double)(vouch_clock_us() - start) / 1e6;
    printf("mode=%s ops=%llu secs=%.3f per_sec=%.0f ns=%.1f\n", name, (unsigned long long)ops,
           took, (double)ops / took, took * 1e9 / (double)ops);
    vouch_cache_free(r[0].c);
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;

    if (secs <= 0)
        secs = 2.0;
    if (mode("hit", ENTRIES, 1, secs) || mode("churn", 4 * ENTRIES, 1, secs) ||
        mode("hit-2t", ENTRIES, 2, secs)) {
        fprintf(stderr, "bench_cache: setup failed\n");
        return 1;
    }
    return 0;
}
