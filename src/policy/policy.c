/* SPDX-License-Identifier: Apache-2.0 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cache.h"
#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "policy/engine.h"
#include "policy/policy.h"
#include "token/result.h"

/*
 * Compiled policies are kept by id in a bounded LRU cache: a policy is
 * compiled when stored or when first used here (stored by another
 * replica), and again only when its stored text changes or it was evicted.
 * Capped by count and by the size of the policies' text (a proxy for
 * their compiled size).
 */
#define CACHE_MAX 1024
#define CACHE_MAX_TEXT_BYTES (32u << 20)

/* A compiled policy, shared read-only; freed with its last reference. */
struct compiled {
    atomic_int refs;
    char id[72];
    char hash[VOUCH_POLICY_HASH_LEN];
    size_t text_len;
    struct vouch_engine_policy *engine;
};

struct vouch_policies {
    struct compiled *builtin;
    struct vouch_cache *cache;      /* id -> struct compiled (one reference held) */
    atomic_uint_fast64_t compiles;
};

static void compiled_unref(struct compiled *c)
{
    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        vouch_engine_policy_free(c->engine);
        free(c);
    }
}

static void hash_hex(const char *text, size_t len, char out[VOUCH_POLICY_HASH_LEN])
{
    uint8_t d[48];

    if (vouch_hash(VOUCH_HASH_SHA384, text, len, d))
        memset(d, 0, sizeof(d));
    vouch_hex_encode(d, sizeof(d), out);
}

static void compiled_free(void *v)
{
    compiled_unref(v);
}

/* Put c in the cache (replacing an older compile of the same id); takes c's reference. */
static void cache_put(struct vouch_policies *p, struct compiled *c)
{
    (void)vouch_cache_put(p->cache, c->id, strlen(c->id), c, c->text_len, 0, VOUCH_CACHE_NEVER,
                          NULL);
}

/* A new reference to the cached compile of `id` when its hash is `hash`, or NULL. */
static struct compiled *cache_get(struct vouch_policies *p, const char *id, const char *hash)
{
    struct vouch_cache_entry *ce = vouch_cache_get(p->cache, id, strlen(id), 0);
    struct compiled *c = ce ? vouch_cache_value(ce) : NULL;

    if (c && strcmp(c->hash, hash) == 0)
        atomic_fetch_add(&c->refs, 1);
    else
        c = NULL;
    vouch_cache_release(ce);
    return c;
}

static vouch_err compile(struct vouch_policies *p, const char *id, const char *text, size_t len,
                         struct compiled **ret, struct vouch_errbuf *eb)
{
    struct compiled *c = calloc(1, sizeof(*c));
    char name[96];
    vouch_err e;

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    atomic_fetch_add(&p->compiles, 1);
    snprintf(name, sizeof(name), "%.64s.rego", id);
    e = vouch_engine_compile(name, text, len, &c->engine, eb);
    if (e) {
        free(c);
        return e;
    }
    atomic_init(&c->refs, 1);
    snprintf(c->id, sizeof(c->id), "%s", id);
    hash_hex(text, len, c->hash);
    c->text_len = len;
    *ret = c;
    return VOUCH_OK;
}

vouch_err vouch_policies_new(struct vouch_policies **ret, struct vouch_errbuf *eb)
{
    const struct vouch_cache_config cfg = { "policies", CACHE_MAX, CACHE_MAX_TEXT_BYTES, 0,
                                            compiled_free };
    struct vouch_policies *p = calloc(1, sizeof(*p));
    vouch_err e;

    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    atomic_init(&p->compiles, 0);
    e = vouch_cache_new(&cfg, &p->cache, eb);
    if (e) {
        free(p);
        return e;
    }
    e = compile(p, "default", vouch_policy_default_text, strlen(vouch_policy_default_text),
                &p->builtin, eb);
    if (e) {
        vouch_policies_free(p);
        return vouch_fail_prefix(eb, e, "built-in default policy: ");
    }
    *ret = p;
    return VOUCH_OK;
}

void vouch_policies_free(struct vouch_policies *p)
{
    if (!p)
        return;
    vouch_cache_free(p->cache);
    compiled_unref(p->builtin);
    free(p);
}

void vouch_policies_stats(struct vouch_policies *p, struct vouch_cache_stats *ret_cache,
                          uint64_t *ret_compiles)
{
    vouch_cache_stats(p->cache, ret_cache);
    *ret_compiles = atomic_load(&p->compiles);
}

/* Meta of a stored policy: {"hash": "<sha384 hex>"}. */
static vouch_err stored_hash(const struct vouch_store_doc *d, char out[VOUCH_POLICY_HASH_LEN])
{
    json_t *m = d->meta ? json_loads(d->meta, 0, NULL) : NULL;
    const char *h = json_string_value(json_object_get(m, "hash"));

    if (h && strlen(h) == VOUCH_POLICY_HASH_LEN - 1)
        memcpy(out, h, VOUCH_POLICY_HASH_LEN);
    else
        hash_hex((const char *)d->body, d->body_len, out);
    json_decref(m);
    return VOUCH_OK;
}

vouch_err vouch_policy_put(struct vouch_policies *p, struct vouch_store *s, const char *id,
                           const char *text, size_t len, int64_t now,
                           char ret_hash[VOUCH_POLICY_HASH_LEN], struct vouch_errbuf *eb)
{
    struct compiled *c = NULL;
    char meta[160];
    vouch_err e;

    if (len > VOUCH_POLICY_MAX_BYTES)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "policy larger than %u bytes",
                          VOUCH_POLICY_MAX_BYTES);
    e = compile(p, id, text, len, &c, eb);
    if (e)
        return e;
    snprintf(meta, sizeof(meta), "{\"hash\":\"%s\"}", c->hash);
    e = vouch_store_doc_put(s, VOUCH_POLICY_KIND, id, text, len, meta, 0, now, eb);
    if (e) {
        compiled_unref(c);
        return e;
    }
    memcpy(ret_hash, c->hash, VOUCH_POLICY_HASH_LEN);
    cache_put(p, c);
    return VOUCH_OK;
}

vouch_err vouch_policy_get(struct vouch_store *s, const char *id, char **ret_text,
                           size_t *ret_len, char ret_hash[VOUCH_POLICY_HASH_LEN],
                           struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    vouch_err e;

    e = vouch_store_doc_get(s, VOUCH_POLICY_KIND, id, &d, eb);
    if (e == VOUCH_E_NOT_FOUND && strcmp(id, "default") == 0) {
        size_t n = strlen(vouch_policy_default_text);
        char *t = strdup(vouch_policy_default_text);

        if (!t)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        hash_hex(t, n, ret_hash);
        *ret_text = t;
        *ret_len = n;
        return VOUCH_OK;
    }
    if (e)
        return e;
    stored_hash(d, ret_hash);
    *ret_text = (char *)d->body;
    *ret_len = d->body_len;
    d->body = NULL;
    vouch_store_doc_free(d);
    return VOUCH_OK;
}

vouch_err vouch_policy_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *docs = NULL;
    char h[VOUCH_POLICY_HASH_LEN];
    bool have_default = false;
    json_t *arr;
    size_t n = 0, i;
    vouch_err e;

    e = vouch_store_doc_list(s, VOUCH_POLICY_KIND, "", 0, 10000, &docs, &n, eb);
    if (e)
        return e;
    arr = json_array();
    for (i = 0; arr && i < n; i++) {
        stored_hash(&docs[i], h);
        have_default |= strcmp(docs[i].id, "default") == 0;
        json_array_append_new(arr, json_pack("{s:s,s:s}", "policy-id", docs[i].id,
                                             "policy-hash", h));
    }
    vouch_store_docs_free(docs, n);
    if (arr && !have_default) {
        hash_hex(vouch_policy_default_text, strlen(vouch_policy_default_text), h);
        json_array_insert_new(arr, 0, json_pack("{s:s,s:s}", "policy-id", "default",
                                                "policy-hash", h));
    }
    if (!arr)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = arr;
    return VOUCH_OK;
}

vouch_err vouch_policy_delete(struct vouch_store *s, const char *id, struct vouch_errbuf *eb)
{
    return vouch_store_doc_delete(s, VOUCH_POLICY_KIND, id, eb);
}

/*
 * The compiled form of policy `id` as the store has it now: the cached one
 * when the stored text's hash still matches, else freshly compiled (and
 * cached).  A reference the caller drops.
 */
static vouch_err lookup(struct vouch_policies *p, struct vouch_store *s, const char *id,
                        struct compiled **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    char h[VOUCH_POLICY_HASH_LEN];
    struct compiled *c = NULL;
    vouch_err e;

    e = vouch_store_doc_get(s, VOUCH_POLICY_KIND, id, &d, eb);
    if (e == VOUCH_E_NOT_FOUND && strcmp(id, "default") == 0) {
        atomic_fetch_add(&p->builtin->refs, 1);
        *ret = p->builtin;
        return VOUCH_OK;
    }
    if (e)
        return e;
    stored_hash(d, h);
    c = cache_get(p, id, h);
    if (!c) {
        /* Stored by another replica, changed since, or evicted: compile it here. */
        e = compile(p, id, (const char *)d->body, d->body_len, &c, eb);
        if (e) {
            vouch_store_doc_free(d);
            return vouch_fail_prefix(eb, e, "stored policy '%s': ", id);
        }
        atomic_fetch_add(&c->refs, 1);
        cache_put(p, c);
    }
    vouch_store_doc_free(d);
    *ret = c;
    return VOUCH_OK;
}

/* allow from the policy's answer (see policy.h). */
static vouch_err decide(const json_t *doc, bool *ret_allow, json_t **ret_tv,
                        struct vouch_errbuf *eb)
{
    json_t *allow = json_object_get(doc, "allow");
    json_t *tv = json_object_get(doc, "trust_claims");
    const char *k;
    json_t *v;

    if (tv && !json_is_object(tv))
        return vouch_fail(eb, VOUCH_E_INVALID, "trust_claims must be an object");
    if (tv) {
        json_object_foreach(tv, k, v) {
            size_t i;

            for (i = 0; i < 8 && strcmp(k, vouch_ar4si_claims[i]); i++)
                ;
            if (i == 8)
                return vouch_fail(eb, VOUCH_E_INVALID, "trust_claims: '%.32s' is not an "
                                  "AR4SI claim", k);
            if (!json_is_integer(v) || json_integer_value(v) < -128 ||
                json_integer_value(v) > 127)
                return vouch_fail(eb, VOUCH_E_INVALID, "trust_claims.%s must be an integer "
                                  "in -128..127", k);
        }
    }
    if (allow && !json_is_boolean(allow))
        return vouch_fail(eb, VOUCH_E_INVALID, "allow must be a boolean");
    if (allow)
        *ret_allow = json_is_true(allow);
    else if (tv)
        *ret_allow = strcmp(vouch_ear_status(tv), "affirming") == 0;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "the policy defines neither allow nor "
                          "trust_claims");
    *ret_tv = tv ? json_incref(tv) : NULL;
    return VOUCH_OK;
}

vouch_err vouch_policy_appraise(struct vouch_policies *p, struct vouch_store *s,
                                const char *const *ids, size_t n_ids,
                                const json_t *const *inputs, size_t n_inputs, int64_t now,
                                struct vouch_policy_outcome *ret, struct vouch_errbuf *eb)
{
    return vouch_policy_appraise_limited(p, s, ids, n_ids, inputs, n_inputs, now, NULL, ret,
                                         eb);
}

vouch_err vouch_policy_appraise_limited(struct vouch_policies *p, struct vouch_store *s,
                                        const char *const *ids, size_t n_ids,
                                        const json_t *const *inputs, size_t n_inputs,
                                        int64_t now, const struct vouch_engine_limits *lim,
                                        struct vouch_policy_outcome *ret,
                                        struct vouch_errbuf *eb)
{
    static const char *const default_ids[] = { "default" };
    vouch_err e = VOUCH_OK;
    size_t i, d;

    memset(ret, 0, sizeof(*ret));
    ret->allow = true;
    ret->reports = json_array();
    if (!ret->reports)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (n_ids == 0) {
        ids = default_ids;
        n_ids = 1;
    }
    if (n_inputs > VOUCH_POLICY_MAX_DEVICES)
        return vouch_fail(eb, VOUCH_E_LIMIT, "more than %d devices", VOUCH_POLICY_MAX_DEVICES);
    ret->first_policy_id = ids[0];
    for (i = 0; i < n_ids; i++) {
        struct compiled *c = NULL;
        bool all = true;

        e = lookup(p, s, ids[i], &c, eb);
        if (e == VOUCH_E_NOT_FOUND) {
            ret->missing_policy = true;
            return vouch_fail(eb, e, "no policy '%s'", ids[i]);
        }
        if (e)
            return e;
        for (d = 0; d < n_inputs; d++) {
            json_t *doc = NULL, *tv = NULL;
            bool allow = false;

            e = vouch_engine_eval(c->engine, inputs[d], s, now, lim, &doc, eb);
            if (!e)
                e = decide(doc, &allow, &tv, eb);
            json_decref(doc);
            if (e) {
                compiled_unref(c);
                return vouch_fail_prefix(eb, e, "policy '%s': ", ids[i]);
            }
            if (i == 0)
                ret->trust_vectors[d] = tv;
            else
                json_decref(tv);
            all = all && allow;
        }
        if (!all && ret->allow) {
            ret->allow = false;
            snprintf(ret->rejected_by, sizeof(ret->rejected_by), "'%s'", ids[i]);
        }
        json_array_append_new(ret->reports, json_pack("{s:s,s:s,s:b}", "policy-id", ids[i],
                                                      "policy-hash", c->hash, "allow", all));
        compiled_unref(c);
    }
    return VOUCH_OK;
}

void vouch_policy_outcome_done(struct vouch_policy_outcome *o)
{
    size_t i;

    if (!o)
        return;
    json_decref(o->reports);
    for (i = 0; i < VOUCH_POLICY_MAX_DEVICES; i++)
        json_decref(o->trust_vectors[i]);
    memset(o, 0, sizeof(*o));
}
