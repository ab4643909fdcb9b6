/* SPDX-License-Identifier: Apache-2.0 */
/* vTPM program whitelists: import, compiled-whitelist cache, appraisal (whitelist.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cache.h"
#include "common/codec.h"
#include "common/json.h"
#include "evidence/tpm/ima.h"
#include "vtpm/whitelist.h"

/* What a compiled whitelist is counted as against the cache's byte cap: its
 * document's length times this (bench_vtpm_whitelist: 6.0 MB of heap for the
 * 2.3 MB document of 20,000 digests). */
#define COMPILED_COST_FACTOR 3
/* Tries of a read-modify-write before giving up on a busy whitelist. */
#define ALLOW_TRIES 5

struct vouch_vtpm_whitelists {
    struct vouch_store *store;
    struct vouch_cache *cache;
    /* One compilation at a time: the reports that miss the cache together
     * (a new or changed whitelist under load) wait for the first one's
     * result instead of each compiling the same document (33 ms of CPU for
     * 20,000 digests, bench/RESULTS.md). */
    pthread_mutex_t compile_lock;
    atomic_ulong compiled;           /* compilations done: a waiter looks again if it moved */
};

struct cache_key {
    int64_t id;
    int64_t modified_ms;
};

static bool starts_like_json(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
            return text[i] == '{';
    return false;
}

/* Compile doc (a keylime runtime policy) into *ret. */
static vouch_err compile(const json_t *doc, struct vouch_ima_policy **ret, struct vouch_errbuf *eb)
{
    struct vouch_ima_policy *p = NULL;
    vouch_err e;

    if (!json_is_object(json_object_get(doc, "digests")))
        return vouch_fail_field(eb, VOUCH_E_INVALID, "digests",
                                "keylime runtime policy: \"digests\" is missing or not an object");
    if (vouch_ima_policy_new(&p))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_ima_policy_load_keylime(p, doc, eb);
    if (e) {
        vouch_ima_policy_free(p);
        return e;
    }
    *ret = p;
    return VOUCH_OK;
}

/* The document of `text` in `format`: a parsed keylime policy. */
static vouch_err document_of(const char *format, const char *text, size_t len, json_t **ret,
                             struct vouch_errbuf *eb)
{
    json_t *doc = NULL;
    vouch_err e;

    if (!strcmp(format, VOUCH_VTPM_WL_DIGESTS))
        return vouch_ima_allowlist_to_keylime(text, len, ret, eb);
    e = vouch_json_parse(text, len, &doc, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "keylime runtime policy: ");
    if (!json_is_object(doc)) {
        json_decref(doc);
        return vouch_fail(eb, VOUCH_E_INVALID, "keylime runtime policy: not a JSON object");
    }
    *ret = doc;
    return VOUCH_OK;
}

vouch_err vouch_vtpm_whitelist_import(const char *format, const char *text, size_t len,
                                      struct vouch_vtpm_wl_doc *ret, struct vouch_errbuf *eb)
{
    struct vouch_ima_policy *p = NULL;
    json_t *doc = NULL;
    char *dump = NULL;
    vouch_err e;

    if (!format || !*format)
        format = starts_like_json(text, len) ? VOUCH_VTPM_WL_KEYLIME : VOUCH_VTPM_WL_DIGESTS;
    else if (strcmp(format, VOUCH_VTPM_WL_KEYLIME) && strcmp(format, VOUCH_VTPM_WL_DIGESTS))
        return vouch_fail(eb, VOUCH_E_INVALID, "format must be %s or %s", VOUCH_VTPM_WL_KEYLIME,
                          VOUCH_VTPM_WL_DIGESTS);
    e = document_of(format, text, len, &doc, eb);
    if (!e)
        e = compile(doc, &p, eb);
    if (!e && !(dump = json_dumps(doc, JSON_COMPACT)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e && strlen(dump) > VOUCH_STORE_WHITELIST_MAX)
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "the whitelist is over %u bytes stored",
                       VOUCH_STORE_WHITELIST_MAX);
    if (!e) {
        ret->document = dump;
        dump = NULL;
        ret->format = !strcmp(format, VOUCH_VTPM_WL_KEYLIME) ? VOUCH_VTPM_WL_KEYLIME
                                                             : VOUCH_VTPM_WL_DIGESTS;
        ret->digests = (int64_t)vouch_ima_policy_digests(p);
        ret->paths = (int64_t)vouch_ima_policy_paths(p);
        ret->excludes = (int64_t)vouch_ima_policy_excludes(p);
    }
    free(dump);
    json_decref(doc);
    vouch_ima_policy_free(p);
    return e;
}

void vouch_vtpm_wl_doc_done(struct vouch_vtpm_wl_doc *d)
{
    if (!d)
        return;
    free(d->document);
    d->document = NULL;
}

static void free_compiled(void *v)
{
    vouch_ima_policy_free(v);
}

vouch_err vouch_vtpm_whitelists_new(struct vouch_store *store, size_t max_entries,
                                    size_t max_bytes, struct vouch_vtpm_whitelists **ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_cache_config cfg = { "vtpm_whitelists", max_entries, max_bytes, 0,
                                      free_compiled };
    struct vouch_vtpm_whitelists *wl = calloc(1, sizeof(*wl));
    vouch_err e;

    if (!wl)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    wl->store = store;
    e = vouch_cache_new(&cfg, &wl->cache, eb);
    if (e) {
        free(wl);
        return e;
    }
    pthread_mutex_init(&wl->compile_lock, NULL);
    atomic_init(&wl->compiled, 0);
    *ret = wl;
    return VOUCH_OK;
}

void vouch_vtpm_whitelists_free(struct vouch_vtpm_whitelists *wl)
{
    if (!wl)
        return;
    vouch_cache_free(wl->cache);
    pthread_mutex_destroy(&wl->compile_lock);
    free(wl);
}

/* Put compiled p under (id, modified); *ret (may be NULL) gets a reference. */
static vouch_err cache_put(struct vouch_vtpm_whitelists *wl, int64_t id, int64_t modified_ms,
                           struct vouch_ima_policy *p, size_t doc_len, int64_t now_ms,
                           struct vouch_cache_entry **ret, struct vouch_errbuf *eb)
{
    struct cache_key k = { id, modified_ms };
    size_t cost = doc_len > SIZE_MAX / COMPILED_COST_FACTOR ? SIZE_MAX
                                                            : doc_len * COMPILED_COST_FACTOR;

    if (vouch_cache_put(wl->cache, &k, sizeof(k), p, cost, now_ms, VOUCH_CACHE_NEVER, ret))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* `account`'s whitelist `id` with its document, parsed.  VOUCH_E_NOT_FOUND
 * when it is absent or another account's. */
static vouch_err read_stored(struct vouch_vtpm_whitelists *wl, const char *account, int64_t id,
                             struct vouch_store_whitelist **ret_row, json_t **ret_doc,
                             struct vouch_errbuf *eb)
{
    struct vouch_store_whitelist *row = NULL;
    vouch_err e = vouch_store_whitelist_get(wl->store, id, VOUCH_STORE_WL_DOCUMENT, &row, eb);

    if (!e && strcmp(row->account, account) != 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    if (!e)
        e = vouch_json_parse(row->document, strlen(row->document), ret_doc, eb);
    if (e) {
        vouch_store_whitelist_free(row);
        return e;
    }
    *ret_row = row;
    return VOUCH_OK;
}

/* Read the document of `id`, compile and cache it under its own modified_ms. */
static vouch_err compile_stored(struct vouch_vtpm_whitelists *wl, const char *account, int64_t id,
                                int64_t now_ms, struct vouch_cache_entry **ret,
                                struct vouch_store_whitelist **ret_row, struct vouch_errbuf *eb)
{
    struct vouch_store_whitelist *row = NULL;
    struct vouch_ima_policy *p = NULL;
    json_t *doc = NULL;
    vouch_err e = read_stored(wl, account, id, &row, &doc, eb);

    if (!e)
        e = compile(doc, &p, eb);
    if (!e)
        e = cache_put(wl, id, row->modified_ms, p, strlen(row->document), now_ms, ret, eb);
    json_decref(doc);
    if (e) {
        vouch_store_whitelist_free(row);
        return vouch_fail_prefix(eb, e, "program whitelist %lld: ", (long long)id);
    }
    *ret_row = row;
    return VOUCH_OK;
}

vouch_err vouch_vtpm_whitelist_acquire(struct vouch_vtpm_whitelists *wl, const char *account,
                                       int64_t id, int64_t now_ms, struct vouch_vtpm_wl_ref *ret,
                                       struct vouch_errbuf *eb)
{
    struct vouch_store_whitelist *row = NULL;
    struct vouch_cache_entry *entry = NULL;
    struct cache_key k = { id, 0 };
    unsigned long seen;
    vouch_err e = vouch_store_whitelist_get(wl->store, id, 0, &row, eb);

    if (!e && strcmp(row->account, account) != 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    if (e)
        goto out;
    k.modified_ms = row->modified_ms;
    seen = atomic_load(&wl->compiled);
    entry = vouch_cache_get(wl->cache, &k, sizeof(k), now_ms);
    if (!entry) {
        pthread_mutex_lock(&wl->compile_lock);
        if (atomic_load(&wl->compiled) != seen)
            entry = vouch_cache_get(wl->cache, &k, sizeof(k), now_ms);
        if (!entry) {
            vouch_store_whitelist_free(row);
            row = NULL;
            e = compile_stored(wl, account, id, now_ms, &entry, &row, eb);
            atomic_fetch_add(&wl->compiled, 1);
        }
        pthread_mutex_unlock(&wl->compile_lock);
        if (e)
            goto out;
    }
    ret->entry = entry;
    ret->policy = vouch_cache_value(entry);
    ret->id = id;
    ret->modified_ms = row->modified_ms;
    snprintf(ret->name, sizeof(ret->name), "%s", row->name);
out:
    vouch_store_whitelist_free(row);
    return e;
}

void vouch_vtpm_whitelist_release(struct vouch_vtpm_wl_ref *ref)
{
    if (!ref)
        return;
    vouch_cache_release(ref->entry);
    ref->entry = NULL;
    ref->policy = NULL;
}

/* Give every listed file the digests its path allows. */
static vouch_err add_allowed(const struct vouch_ima_policy *p, json_t *files)
{
    json_t *f, *allowed;
    size_t i;

    json_array_foreach(files, i, f) {
        json_t *path = json_object_get(f, "path");

        if (vouch_ima_policy_path_digests(p, json_string_value(path), json_string_length(path),
                                          &allowed) ||
            json_object_set_new(f, "whitelist", allowed))
            return VOUCH_E_NOMEM;
    }
    return VOUCH_OK;
}

static void set_status(struct vouch_vtpm_program_result *r, int64_t status)
{
    r->status = status;
    r->code = status == VOUCH_VTPM_STATUS_TRUSTED     ? "TrustedStatus"
              : status == VOUCH_VTPM_STATUS_UNTRUSTED ? "UntrustedStatus"
                                                      : "NotEvaluatedStatus";
}

vouch_err vouch_vtpm_program_appraise(struct vouch_vtpm_whitelists *wl, const char *account,
                                      int64_t whitelist_id, const struct vouch_ima_log *log,
                                      uint64_t first_index, size_t count, int64_t now_ms,
                                      struct vouch_vtpm_program_result *ret,
                                      struct vouch_errbuf *eb)
{
    struct vouch_vtpm_program_result r = { .whitelist_id = -1, .files = json_array() };
    struct vouch_vtpm_wl_ref ref = { 0 };
    vouch_err e = VOUCH_OK;
    size_t n = log ? log->n : 0;

    if (!r.files)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    set_status(&r, VOUCH_VTPM_STATUS_NOT_EVALUATED);
    if (whitelist_id >= 0) {
        e = vouch_vtpm_whitelist_acquire(wl, account, whitelist_id, now_ms, &ref, eb);
        if (e == VOUCH_E_NOT_FOUND)      /* gone: not evaluated, as with none */
            e = VOUCH_OK;
        else if (!e) {
            r.whitelist_id = whitelist_id;
            snprintf(r.whitelist_name, sizeof(r.whitelist_name), "%s", ref.name);
            if (n)
                e = vouch_ima_policy_check(ref.policy, log, 0, count < n ? count : n,
                                           first_index, r.files, VOUCH_VTPM_PROGRAM_FILES_MAX,
                                           &r.unknown, eb);
            if (!e && add_allowed(ref.policy, r.files))
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            if (!e)
                set_status(&r, r.unknown ? VOUCH_VTPM_STATUS_UNTRUSTED
                                         : VOUCH_VTPM_STATUS_TRUSTED);
        }
        vouch_vtpm_whitelist_release(&ref);
    }
    if (e) {
        json_decref(r.files);
        return e;
    }
    *ret = r;
    return VOUCH_OK;
}

vouch_err vouch_vtpm_program_from_claims(const struct vouch_vtpm_wl_ref *ref,
                                         const json_t *ima_claims,
                                         struct vouch_vtpm_program_result *ret,
                                         struct vouch_errbuf *eb)
{
    struct vouch_vtpm_program_result r = { .whitelist_id = -1 };
    json_t *listed = json_object_get(ima_claims, "unknown_files");
    json_int_t count = json_integer_value(json_object_get(ima_claims, "unknown_count"));

    set_status(&r, VOUCH_VTPM_STATUS_NOT_EVALUATED);
    r.files = json_is_array(listed) ? json_deep_copy(listed) : json_array();
    if (!r.files)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    while (json_array_size(r.files) > VOUCH_VTPM_PROGRAM_FILES_MAX)
        json_array_remove(r.files, json_array_size(r.files) - 1);
    if (ref) {
        r.whitelist_id = ref->id;
        snprintf(r.whitelist_name, sizeof(r.whitelist_name), "%s", ref->name);
        r.unknown = count > 0 ? (size_t)count : json_array_size(r.files);
        if (add_allowed(ref->policy, r.files)) {
            json_decref(r.files);
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
        set_status(&r, r.unknown ? VOUCH_VTPM_STATUS_UNTRUSTED : VOUCH_VTPM_STATUS_TRUSTED);
    } else {
        json_array_clear(r.files);
    }
    *ret = r;
    return VOUCH_OK;
}

void vouch_vtpm_program_result_done(struct vouch_vtpm_program_result *r)
{
    if (!r)
        return;
    json_decref(r->files);
    r->files = NULL;
}

/* Add digest (hex, or "alg:hex") for path to doc's "digests", once. */
static vouch_err doc_allow(json_t *doc, const char *path, const char *digest,
                           struct vouch_errbuf *eb)
{
    json_t *digests = json_object_get(doc, "digests"), *arr, *d;
    const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
    size_t len = strlen(hex), i;
    char lower[VOUCH_HASH_MAX_SIZE * 2 + 1];

    if (len == 0 || len % 2 || len > VOUCH_HASH_MAX_SIZE * 2)
        return vouch_fail(eb, VOUCH_E_INVALID, "digest '%.140s' is not a hex digest", digest);
    for (i = 0; i < len; i++) {
        if (vouch_hex_digit(hex[i]) < 0)
            return vouch_fail(eb, VOUCH_E_INVALID, "digest '%.140s' is not a hex digest",
                              digest);
        lower[i] = "0123456789abcdef"[vouch_hex_digit(hex[i])];
    }
    lower[len] = '\0';
    if (!json_is_object(digests))
        return vouch_fail(eb, VOUCH_E_INVALID, "stored whitelist has no \"digests\"");
    arr = json_object_get(digests, path);
    if (!arr) {
        if (!(arr = json_array()) || json_object_set_new(digests, path, arr))
            return vouch_fail(eb, VOUCH_E_INVALID, "path '%.140s' is not UTF-8 text", path);
    }
    if (!json_is_array(arr))
        return vouch_fail(eb, VOUCH_E_INVALID, "stored whitelist: digests[\"%.100s\"]", path);
    json_array_foreach(arr, i, d) {
        const char *have = json_string_value(d), *c = have ? strchr(have, ':') : NULL;

        if (have && !strcasecmp(c ? c + 1 : have, lower))
            return VOUCH_OK;
    }
    if (json_array_append_new(arr, json_string(lower)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* One read-modify-write of the whitelist; VOUCH_E_CONFLICT when it lost a race. */
static vouch_err allow_once(struct vouch_vtpm_whitelists *wl, const char *account, int64_t id,
                            const char *path, const char *digest, int64_t now_ms,
                            struct vouch_errbuf *eb)
{
    struct vouch_store_whitelist *row = NULL;
    struct vouch_ima_policy *p = NULL;
    json_t *doc = NULL;
    char *text = NULL;
    int64_t modified = 0;
    vouch_err e = read_stored(wl, account, id, &row, &doc, eb);

    if (!e)
        e = doc_allow(doc, path, digest, eb);
    if (!e)
        e = compile(doc, &p, eb);
    if (!e && !(text = json_dumps(doc, JSON_COMPACT)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e)
        e = vouch_store_whitelist_update(wl->store, account, id, text,
                                         (int64_t)vouch_ima_policy_digests(p),
                                         (int64_t)vouch_ima_policy_paths(p), row->modified_ms,
                                         now_ms, &modified, eb);
    if (!e) {         /* the next appraisal finds it compiled */
        e = cache_put(wl, id, modified, p, strlen(text), now_ms, NULL, eb);
        p = NULL;
    }
    vouch_ima_policy_free(p);
    free(text);
    json_decref(doc);
    vouch_store_whitelist_free(row);
    return e;
}

vouch_err vouch_vtpm_whitelist_allow(struct vouch_vtpm_whitelists *wl, const char *account,
                                     int64_t id, const char *path, const char *digest,
                                     int64_t now_ms, struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_E_CONFLICT;
    int i;

    for (i = 0; i < ALLOW_TRIES && e == VOUCH_E_CONFLICT; i++)
        e = allow_once(wl, account, id, path, digest, now_ms, eb);
    return e;
}
