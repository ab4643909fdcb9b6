/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA RIMs in the store, and a RIM source over it for the GPU verifier
 * (optionally filling itself from a RIM service on a miss).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/rim.h"
#include "common/cache.h"
#include "common/json.h"
#include "common/time.h"

/*
 * RIM documents read from the store are held in a bounded LRU cache for
 * the rimstore's ttl (time in microseconds); callers get copies.
 */
#define CACHE_MAX 64
#define CACHE_MAX_BYTES (32u << 20)

/* {"kind", "version", "not_after"} of a verified RIM document. */
static vouch_err describe(const uint8_t *xml, size_t len, STACK_OF(X509) *roots, json_t **ret,
                          struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_rim *rim = NULL;
    char when[VOUCH_RFC3339_LEN];
    json_t *m = NULL;
    vouch_err e;

    e = vouch_nvgpu_rim_parse(xml, len, &rim, eb);
    if (!e)
        e = vouch_nvgpu_rim_verify(rim, xml, len, roots, eb);
    if (e)
        goto out;
    vouch_time_format_rfc3339(rim->not_after, when);
    m = json_pack("{s:s,s:s,s:s}", "kind", rim->kind == VOUCH_NVGPU_RIM_DRIVER ? "driver" : "vbios",
                  "version", rim->version, "not_after", when);
    if (!m) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret = m;
out:
    vouch_nvgpu_rim_unref(rim);
    return e;
}

vouch_err vouch_rim_import(struct vouch_store *s, STACK_OF(X509) *roots, const uint8_t *data,
                           size_t len, const char *name_hint, int64_t now,
                           char ret_id[VOUCH_NVGPU_RIM_ID_MAX], json_t **ret_report,
                           struct vouch_errbuf *eb)
{
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    uint8_t *xml = NULL;
    size_t xml_len = 0;
    json_t *meta = NULL;
    char *meta_text = NULL;
    vouch_err e;

    e = vouch_nvgpu_rim_check_file(data, len, name_hint, roots, now, id, &xml, &xml_len, eb);
    if (e)
        goto out;
    e = describe(xml, xml_len, roots, &meta, eb);
    if (e)
        goto out;
    meta_text = json_dumps(meta, JSON_COMPACT);
    if (!meta_text) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = vouch_store_doc_put(s, VOUCH_RIM_KIND, id, xml, xml_len, meta_text, 0, now, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", id);
        goto out;
    }
    if (ret_report) {
        if (vouch_json_set_str(meta, "id", id)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        *ret_report = json_incref(meta);
    }
    if (ret_id)
        memcpy(ret_id, id, sizeof(id));
out:
    free(meta_text);
    json_decref(meta);
    free(xml);
    return e;
}

vouch_err vouch_rim_list(struct vouch_store *s, json_t **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *docs = NULL;
    char when[VOUCH_RFC3339_LEN];
    json_t *list = json_array();
    size_t n = 0, i;
    vouch_err e;

    if (!list)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_store_doc_list(s, VOUCH_RIM_KIND, "", 0, 100000, &docs, &n, eb);
    if (e)
        goto out;
    for (i = 0; i < n; i++) {
        json_t *m = docs[i].meta ? json_loads(docs[i].meta, 0, NULL) : NULL;

        if (!json_is_object(m)) {
            json_decref(m);
            m = json_object();
        }
        vouch_time_format_rfc3339(docs[i].updated_at, when);
        if (!m || vouch_json_set_str(m, "id", docs[i].id) ||
            vouch_json_set_str(m, "updated_at", when) || json_array_append_new(list, m)) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    *ret = list;
    list = NULL;
out:
    vouch_store_docs_free(docs, n);
    json_decref(list);
    return e;
}

/* ------------------------------------------------------------------ */
/* The source                                                          */

struct rim_doc {
    uint8_t *doc;
    size_t len;
};

struct vouch_rimstore {
    struct vouch_store *store;
    STACK_OF(X509) *roots;
    const struct vouch_rim_fetcher *fetch;
    struct vouch_cache *docs;  /* id -> struct rim_doc; NULL when ttl is 0 */
};

static void rim_doc_free(void *v)
{
    struct rim_doc *d = v;

    if (!d)
        return;
    free(d->doc);
    free(d);
}

vouch_err vouch_rimstore_new(struct vouch_store *s, int ttl, STACK_OF(X509) *roots,
                             const struct vouch_rim_fetcher *fetch,
                             struct vouch_rimstore **ret, struct vouch_errbuf *eb)
{
    const struct vouch_cache_config cfg = { "rim_docs", CACHE_MAX, CACHE_MAX_BYTES,
                                            (int64_t)ttl * 1000000, rim_doc_free };
    struct vouch_rimstore *r = calloc(1, sizeof(*r));

    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    r->store = s;
    r->roots = roots;
    r->fetch = fetch && fetch->fetch ? fetch : NULL;
    if (ttl > 0 && vouch_cache_new(&cfg, &r->docs, eb)) {
        free(r);
        return VOUCH_E_NOMEM;
    }
    *ret = r;
    return VOUCH_OK;
}

void vouch_rimstore_free(struct vouch_rimstore *r)
{
    if (!r)
        return;
    vouch_cache_free(r->docs);
    free(r);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);

    if (d && n)
        memcpy(d, p, n);
    return d;
}

/* A copy of a fresh cached document, or NULL. */
static uint8_t *cache_get(struct vouch_rimstore *r, const char *id, size_t *ret_len)
{
    struct vouch_cache_entry *ce;
    const struct rim_doc *d;
    uint8_t *copy = NULL;

    if (!r->docs)
        return NULL;
    ce = vouch_cache_get(r->docs, id, strlen(id), (int64_t)vouch_clock_us());
    if (ce) {
        d = vouch_cache_value(ce);
        copy = dup_bytes(d->doc, d->len);
        if (copy)
            *ret_len = d->len;
    }
    vouch_cache_release(ce);
    return copy;
}

static void cache_put(struct vouch_rimstore *r, const char *id, const uint8_t *doc, size_t len)
{
    struct rim_doc *d;

    if (!r->docs || !(d = calloc(1, sizeof(*d))))
        return;
    d->doc = dup_bytes(doc, len);
    d->len = len;
    if (!d->doc) {
        free(d);
        return;
    }
    (void)vouch_cache_put(r->docs, id, strlen(id), d, len, (int64_t)vouch_clock_us(),
                          VOUCH_CACHE_NEVER, NULL);
}

/* Fetch a RIM the store lacks, import it, and return its XML. */
static vouch_err fetch_import(struct vouch_rimstore *r, const char *id, uint8_t **ret_doc,
                              size_t *ret_len, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    uint8_t *body = NULL;
    size_t len = 0;
    vouch_err e;

    e = r->fetch->fetch(r->fetch->ctx, id, &body, &len, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "RIM service: ");
    e = vouch_rim_import(r->store, r->roots, body, len, id, r->fetch->clock(r->fetch->ctx), NULL,
                         NULL, eb);
    free(body);
    if (e)
        return vouch_fail_prefix(eb, e == VOUCH_E_NOT_FOUND ? VOUCH_E_VERIFY : e,
                                 "RIM service answer: ");
    e = vouch_store_doc_get(r->store, VOUCH_RIM_KIND, id, &d, eb);
    if (e)
        return e == VOUCH_E_NOT_FOUND
                   ? vouch_fail(eb, VOUCH_E_VERIFY, "the RIM service answered another RIM")
                   : e;
    *ret_doc = d->body;
    *ret_len = d->body_len;
    d->body = NULL;
    vouch_store_doc_free(d);
    return VOUCH_OK;
}

static vouch_err source_get(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                            struct vouch_errbuf *eb)
{
    struct vouch_rimstore *r = ctx;
    struct vouch_store_doc *d = NULL;
    uint8_t *doc;
    size_t len = 0;
    vouch_err e;

    doc = cache_get(r, id, &len);
    if (doc) {
        *ret_doc = doc;
        *ret_len = len;
        return VOUCH_OK;
    }
    e = vouch_store_doc_get(r->store, VOUCH_RIM_KIND, id, &d, eb);
    if (e == VOUCH_E_NOT_FOUND && r->fetch) {
        e = fetch_import(r, id, &doc, &len, eb);
        if (e)
            return e;
    } else if (e) {
        return e;
    } else {
        doc = d->body;
        len = d->body_len;
        d->body = NULL;
        vouch_store_doc_free(d);
    }
    cache_put(r, id, doc, len);
    *ret_doc = doc;
    *ret_len = len;
    return VOUCH_OK;
}

struct vouch_nvgpu_rim_source vouch_rimstore_source(struct vouch_rimstore *r)
{
    struct vouch_nvgpu_rim_source src = { source_get, r };

    return src;
}
