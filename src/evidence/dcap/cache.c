/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache of verified collateral, PCK chains and QE reports: a
 * vouch_cache whose values are dcap_centry wrappers, so that each entry
 * carries its own destructor and callers keep the `->val` handle.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/dcap/dcap_int.h"

static void centry_free(void *v)
{
    vouch_dcap_centry_unref(v);
}

void vouch_dcap_cache_init(struct dcap_cache *c)
{
    const struct vouch_cache_config cfg = { "dcap_verified", DCAP_CACHE_MAX, 0, 0, centry_free };

    /* Without memory for a cache, every lookup misses and verification still works. */
    if (vouch_cache_new(&cfg, &c->c, NULL))
        c->c = NULL;
}

void vouch_dcap_centry_unref(struct dcap_centry *e)
{
    if (!e)
        return;
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        if (e->free_val)
            e->free_val(e->val);
        free(e);
    }
}

void vouch_dcap_cache_flush(struct dcap_cache *c)
{
    if (c->c)
        vouch_cache_clear(c->c);
}

void vouch_dcap_cache_destroy(struct dcap_cache *c)
{
    vouch_cache_free(c->c);
    c->c = NULL;
}

void vouch_dcap_cache_stats(struct dcap_cache *c, struct vouch_dcap_stats *ret)
{
    struct vouch_cache_stats st;

    memset(&st, 0, sizeof(st));
    if (c->c)
        vouch_cache_stats(c->c, &st);
    ret->hits = st.hits;
    ret->misses = st.misses;
    ret->entries = st.entries;
}

struct dcap_centry *vouch_dcap_cache_get(struct dcap_cache *c, const uint8_t key[32], int64_t now)
{
    struct vouch_cache_entry *ce;
    struct dcap_centry *e = NULL;

    if (!c->c)
        return NULL;
    ce = vouch_cache_get(c->c, key, 32, now);
    if (ce) {
        e = vouch_cache_value(ce);
        atomic_fetch_add(&e->refs, 1);
    }
    vouch_cache_release(ce);
    return e;
}

struct dcap_centry *vouch_dcap_cache_put(struct dcap_cache *c, const uint8_t key[32], void *val,
                                         void (*free_val)(void *), int64_t expires)
{
    struct dcap_centry *e = calloc(1, sizeof(*e));

    if (!e) {
        if (free_val)
            free_val(val);
        return NULL;
    }
    memcpy(e->key, key, 32);
    e->val = val;
    e->free_val = free_val;
    atomic_init(&e->refs, 2); /* the cache's and the caller's */
    /* A put that fails drops the cache's reference itself. */
    if (c->c)
        (void)vouch_cache_put(c->c, key, 32, e, 0, 0, expires, NULL);
    else
        atomic_fetch_sub(&e->refs, 1);
    return e;
}
