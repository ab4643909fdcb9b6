/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/cache.h"

/*
 * Values are small integers 1..NVALUES; the destructor counts how often
 * each one was destroyed, so a test can check "exactly once".
 */
#define NVALUES 64

static atomic_int destroyed[NVALUES + 1];

static void value_free(void *v)
{
    atomic_fetch_add(&destroyed[(intptr_t)v], 1);
}

static void reset_destroyed(void)
{
    int i;

    for (i = 0; i <= NVALUES; i++)
        atomic_store(&destroyed[i], 0);
}

static struct vouch_cache *new_cache(size_t max_entries, size_t max_bytes, int64_t ttl)
{
    struct vouch_cache_config cfg = { "test", max_entries, max_bytes, ttl, value_free };
    struct vouch_cache *c = NULL;

    reset_destroyed();
    assert_int_equal(vouch_cache_new(&cfg, &c, NULL), VOUCH_OK);
    return c;
}

/* ------------------------------------------------------------------ */
/* Scripted behaviour: one table row per scenario                      */

enum op { END, PUT, GET_HIT, GET_MISS, CLEAR };

struct step {
    enum op op;
    const char *key;
    int64_t now;
    intptr_t value;     /* PUT: the value; GET_HIT: the value expected */
    size_t cost;        /* PUT */
    int64_t expires;    /* PUT; 0 means VOUCH_CACHE_NEVER */
};

struct scenario {
    const char *name;
    size_t max_entries, max_bytes;
    int64_t ttl;
    struct step steps[16];
    struct vouch_cache_stats want;
};

static const struct scenario scenarios[] = {
    { "hit and miss", 4, 0, 0,
      { { PUT, "a", 0, 1, 0, 0 }, { GET_HIT, "a", 0, 1, 0, 0 }, { GET_MISS, "b", 0, 0, 0, 0 },
        { GET_MISS, "", 0, 0, 0, 0 }, { GET_HIT, "a", 1, 1, 0, 0 } },
      { 2, 2, 0, 0, 1, 1 } },
    { "keys are bytes, not strings", 4, 0, 0,
      { { PUT, "ab", 0, 1, 0, 0 }, { GET_MISS, "a", 0, 0, 0, 0 }, { GET_MISS, "abc", 0, 0, 0, 0 },
        { GET_HIT, "ab", 0, 1, 0, 0 } },
      { 1, 2, 0, 0, 1, 2 } },
    { "TTL: alive up to put + ttl, gone after", 4, 0, 10,
      { { PUT, "a", 100, 1, 0, 0 }, { GET_HIT, "a", 110, 1, 0, 0 },
        { GET_MISS, "a", 111, 0, 0, 0 }, { GET_MISS, "a", 110, 0, 0, 0 } },
      { 1, 2, 0, 1, 0, 0 } },
    { "an entry's own expiry earlier than the TTL wins", 4, 0, 10,
      { { PUT, "a", 100, 1, 0, 105 }, { GET_HIT, "a", 105, 1, 0, 0 },
        { GET_MISS, "a", 106, 0, 0, 0 } },
      { 1, 1, 0, 1, 0, 0 } },
    { "no TTL: only the entry's expiry ages it", 4, 0, 0,
      { { PUT, "a", 0, 1, 0, 0 }, { PUT, "b", 0, 2, 0, 50 },
        { GET_HIT, "a", INT64_MAX - 1, 1, 0, 0 }, { GET_MISS, "b", 51, 0, 0, 0 } },
      { 1, 1, 0, 1, 1, 1 } },
    { "entry cap evicts the least recently used", 3, 0, 0,
      { { PUT, "a", 0, 1, 0, 0 }, { PUT, "b", 0, 2, 0, 0 }, { PUT, "c", 0, 3, 0, 0 },
        { GET_HIT, "a", 0, 1, 0, 0 }, /* b is now the oldest */
        { PUT, "d", 0, 4, 0, 0 }, { GET_MISS, "b", 0, 0, 0, 0 },
        { GET_HIT, "c", 0, 3, 0, 0 }, { GET_HIT, "a", 0, 1, 0, 0 },
        { GET_HIT, "d", 0, 4, 0, 0 } },
      { 4, 1, 1, 0, 3, 3 } },
    { "byte cap counts key and cost", 10, 10, 0,
      { { PUT, "a", 0, 1, 4, 0 },  /* 5 bytes */
        { PUT, "b", 0, 2, 4, 0 },  /* 10 */
        { PUT, "c", 0, 3, 1, 0 },  /* 12: a goes */
        { GET_MISS, "a", 0, 0, 0, 0 }, { GET_HIT, "b", 0, 2, 0, 0 },
        { PUT, "big", 0, 4, 20, 0 }, /* larger than the cap: not kept, nothing evicted */
        { GET_MISS, "big", 0, 0, 0, 0 }, { GET_HIT, "c", 0, 3, 0, 0 } },
      { 2, 2, 1, 0, 2, 7 } },
    { "put replaces the same key", 4, 0, 0,
      { { PUT, "a", 0, 1, 0, 0 }, { PUT, "a", 0, 2, 0, 0 }, { GET_HIT, "a", 0, 2, 0, 0 } },
      { 1, 0, 0, 0, 1, 1 } },
    { "clear drops everything", 4, 0, 0,
      { { PUT, "a", 0, 1, 0, 0 }, { PUT, "b", 0, 2, 0, 0 }, { CLEAR, NULL, 0, 0, 0, 0 },
        { GET_MISS, "a", 0, 0, 0, 0 }, { GET_MISS, "b", 0, 0, 0, 0 } },
      { 0, 2, 0, 0, 0, 0 } },
};

static void run_step(struct vouch_cache *c, const struct step *s, const char *name)
{
    struct vouch_cache_entry *e;

    switch (s->op) {
    case PUT:
        assert_int_equal(vouch_cache_put(c, s->key, strlen(s->key), (void *)s->value, s->cost,
                                         s->now, s->expires ? s->expires : VOUCH_CACHE_NEVER,
                                         NULL),
                         VOUCH_OK);
        break;
    case GET_HIT:
        e = vouch_cache_get(c, s->key, strlen(s->key), s->now);
        if (!e)
            fail_msg("%s: expected a hit on '%s' at %lld", name, s->key, (long long)s->now);
        assert_int_equal((intptr_t)vouch_cache_value(e), s->value);
        vouch_cache_release(e);
        break;
    case GET_MISS:
        e = vouch_cache_get(c, s->key, strlen(s->key), s->now);
        if (e)
            fail_msg("%s: expected a miss on '%s' at %lld", name, s->key, (long long)s->now);
        break;
    case CLEAR:
        vouch_cache_clear(c);
        break;
    case END:
        break;
    }
}

static void test_scenarios(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const struct scenario *sc = &scenarios[i];
        struct vouch_cache *c = new_cache(sc->max_entries, sc->max_bytes, sc->ttl);
        struct vouch_cache_stats st;
        int destroyed_total = 0, puts = 0;

        for (j = 0; j < 16 && sc->steps[j].op != END; j++) {
            run_step(c, &sc->steps[j], sc->name);
            puts += sc->steps[j].op == PUT;
        }
        vouch_cache_stats(c, &st);
        if (st.hits != sc->want.hits || st.misses != sc->want.misses ||
            st.evictions != sc->want.evictions || st.expirations != sc->want.expirations ||
            st.entries != sc->want.entries || st.bytes != sc->want.bytes)
            fail_msg("%s: stats hits=%llu misses=%llu evictions=%llu expirations=%llu "
                     "entries=%llu bytes=%llu", sc->name, (unsigned long long)st.hits,
                     (unsigned long long)st.misses, (unsigned long long)st.evictions,
                     (unsigned long long)st.expirations, (unsigned long long)st.entries,
                     (unsigned long long)st.bytes);
        vouch_cache_free(c);
        /* Every value put was destroyed exactly once by the end. */
        for (j = 1; j <= NVALUES; j++) {
            if (destroyed[j] > 1)
                fail_msg("%s: value %zu destroyed %d times", sc->name, j, destroyed[j]);
            destroyed_total += destroyed[j];
        }
        assert_int_equal(destroyed_total, puts);
    }
}

/* ------------------------------------------------------------------ */
/* References                                                          */

static void test_evicted_while_held(void **state)
{
    struct vouch_cache *c = new_cache(1, 0, 0);
    struct vouch_cache_entry *held, *fresh;

    (void)state;
    assert_int_equal(vouch_cache_put(c, "a", 1, (void *)1, 0, 0, VOUCH_CACHE_NEVER, NULL),
                     VOUCH_OK);
    held = vouch_cache_get(c, "a", 1, 0);
    assert_non_null(held);
    /* b evicts a while a is held: a is not destroyed yet. */
    assert_int_equal(vouch_cache_put(c, "b", 1, (void *)2, 0, 0, VOUCH_CACHE_NEVER, &fresh),
                     VOUCH_OK);
    assert_null(vouch_cache_get(c, "a", 1, 0));
    assert_int_equal(destroyed[1], 0);
    assert_int_equal((intptr_t)vouch_cache_value(held), 1);
    vouch_cache_release(held);
    assert_int_equal(destroyed[1], 1);
    /* The same for a clear and a free of the cache itself. */
    vouch_cache_clear(c);
    assert_int_equal(destroyed[2], 0);
    vouch_cache_free(c);
    assert_int_equal(destroyed[2], 0);
    assert_int_equal((intptr_t)vouch_cache_value(fresh), 2);
    vouch_cache_release(fresh);
    assert_int_equal(destroyed[2], 1);
    vouch_cache_release(NULL);
    vouch_cache_free(NULL);
}

static void test_replaced_and_expired_while_held(void **state)
{
    struct vouch_cache *c = new_cache(4, 0, 5);
    struct vouch_cache_entry *a1, *a2;

    (void)state;
    assert_int_equal(vouch_cache_put(c, "a", 1, (void *)1, 0, 0, VOUCH_CACHE_NEVER, &a1),
                     VOUCH_OK);
    assert_int_equal(vouch_cache_put(c, "a", 1, (void *)2, 0, 0, VOUCH_CACHE_NEVER, NULL),
                     VOUCH_OK);
    assert_int_equal(destroyed[1], 0);
    a2 = vouch_cache_get(c, "a", 1, 5);
    assert_non_null(a2);
    assert_null(vouch_cache_get(c, "a", 1, 6)); /* expired, while a2 holds it */
    assert_int_equal(destroyed[2], 0);
    assert_int_equal((intptr_t)vouch_cache_value(a2), 2);
    vouch_cache_release(a2);
    assert_int_equal(destroyed[2], 1);
    vouch_cache_release(a1);
    assert_int_equal(destroyed[1], 1);
    vouch_cache_free(c);
    assert_int_equal(destroyed[1], 1);
    assert_int_equal(destroyed[2], 1);
}

static void test_bad_config(void **state)
{
    struct vouch_cache_config no_name = { NULL, 4, 0, 0, NULL };
    struct vouch_cache_config no_cap = { "x", 0, 0, 0, NULL };
    struct vouch_cache_config neg_ttl = { "x", 4, 0, -1, NULL };
    struct vouch_cache *c = NULL;

    (void)state;
    assert_int_not_equal(vouch_cache_new(&no_name, &c, NULL), VOUCH_OK);
    assert_int_not_equal(vouch_cache_new(&no_cap, &c, NULL), VOUCH_OK);
    assert_int_not_equal(vouch_cache_new(&neg_ttl, &c, NULL), VOUCH_OK);
    assert_null(c);
}

struct seen {
    int count;
    struct vouch_cache_stats st;
};

static void each_cb(const char *name, const struct vouch_cache_stats *st, void *arg)
{
    struct seen *s = arg;

    if (strcmp(name, "named-for-metrics") == 0) {
        s->count++;
        s->st = *st;
    }
}

static void test_registry(void **state)
{
    struct vouch_cache_config cfg = { "named-for-metrics", 4, 0, 0, NULL };
    struct vouch_cache *c = NULL;
    struct seen s = { 0 };

    (void)state;
    assert_int_equal(vouch_cache_new(&cfg, &c, NULL), VOUCH_OK);
    assert_string_equal(vouch_cache_name(c), "named-for-metrics");
    assert_int_equal(vouch_cache_put(c, "k", 1, NULL, 0, 0, VOUCH_CACHE_NEVER, NULL), VOUCH_OK);
    vouch_cache_release(vouch_cache_get(c, "k", 1, 0));
    vouch_cache_release(vouch_cache_get(c, "q", 1, 0));
    vouch_cache_each(each_cb, &s);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.st.hits, 1);
    assert_int_equal(s.st.misses, 1);
    assert_int_equal(s.st.entries, 1);
    vouch_cache_free(c);
    s.count = 0;
    vouch_cache_each(each_cb, &s);
    assert_int_equal(s.count, 0);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */

#define THREADS 6
#define ROUNDS 20000

struct worker {
    struct vouch_cache *c;
    unsigned seed;
    int bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        intptr_t k = (intptr_t)(rand_r(&w->seed) % NVALUES) + 1;
        struct vouch_cache_entry *e = vouch_cache_get(w->c, &k, sizeof(k), i);

        if (!e && vouch_cache_put(w->c, &k, sizeof(k), (void *)k, 1, i, VOUCH_CACHE_NEVER,
                                  &e) != VOUCH_OK) {
            w->bad++;
            continue;
        }
        /* The value under key k is always k, however often it was replaced. */
        if ((intptr_t)vouch_cache_value(e) != k)
            w->bad++;
        if (i % 97 == 0)
            vouch_cache_clear(w->c);
        vouch_cache_release(e);
    }
    return NULL;
}

/* Several threads get, put, clear and release on a small cache. */
static void test_threads(void **state)
{
    struct vouch_cache *c = new_cache(8, 0, 1000);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    struct vouch_cache_stats st;
    int i, bad = 0;

    (void)state;
    for (i = 0; i < THREADS; i++) {
        w[i].c = c;
        w[i].seed = (unsigned)i * 7919u + 1;
        w[i].bad = 0;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    assert_int_equal(bad, 0);
    vouch_cache_stats(c, &st);
    assert_int_equal(st.hits + st.misses, (uint64_t)THREADS * ROUNDS);
    assert_true(st.entries <= 8);
    vouch_cache_free(c);
}

/*
 * Under threads, every value put is destroyed exactly once and never while
 * held: values are heap objects (ASan sees a second destroy or a use after
 * it) with a flag checked by the holders.
 */
struct counted {
    atomic_int destroyed;
};

static atomic_int counted_destroyed, counted_double;

static void counted_free(void *v)
{
    struct counted *c = v;

    if (atomic_fetch_add(&c->destroyed, 1) != 0)
        atomic_fetch_add(&counted_double, 1);
    atomic_fetch_add(&counted_destroyed, 1);
    free(c);
}

static atomic_int counted_puts, counted_held_dead;

static void *work_counted(void *arg)
{
    struct vouch_cache *c = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed;
    int i;

    for (i = 0; i < ROUNDS / 2; i++) {
        int k = rand_r(&seed) % 32;
        struct vouch_cache_entry *e = vouch_cache_get(c, &k, sizeof(k), 0);
        struct counted *v;

        if (!e) {
            v = calloc(1, sizeof(*v));
            if (!v)
                continue;
            atomic_fetch_add(&counted_puts, 1);
            if (vouch_cache_put(c, &k, sizeof(k), v, sizeof(*v), 0, VOUCH_CACHE_NEVER, &e))
                continue;
        }
        if (atomic_load(&((struct counted *)vouch_cache_value(e))->destroyed) != 0)
            atomic_fetch_add(&counted_held_dead, 1);
        vouch_cache_release(e);
    }
    return NULL;
}

static void test_threads_destroy_once(void **state)
{
    struct vouch_cache_config cfg = { "test-counted", 4, 0, 0, counted_free };
    struct vouch_cache *c = NULL;
    pthread_t t[THREADS];
    int i;

    (void)state;
    assert_int_equal(vouch_cache_new(&cfg, &c, NULL), VOUCH_OK);
    for (i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work_counted, c), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    vouch_cache_free(c);
    assert_int_equal(counted_double, 0);
    assert_int_equal(counted_held_dead, 0);
    assert_int_equal(counted_destroyed, counted_puts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_evicted_while_held),
        cmocka_unit_test(test_replaced_and_expired_while_held),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_threads_destroy_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
