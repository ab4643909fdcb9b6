/* SPDX-License-Identifier: Apache-2.0 */
/* The IMA "program whitelist": allowed digests by path, exclusions, allowed buffers. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/tpm_int.h"

/* Caps on what a policy may hold. */
#define MAX_PATHS (16u << 20)
#define MAX_DIGESTS_PER_PATH 4096
#define MAX_EXCLUDE_TEXT (1u << 20)

struct digest {
    uint8_t len;
    uint8_t b[VOUCH_HASH_MAX_SIZE];
};

struct slot {
    char *key;                    /* NULL: empty */
    size_t klen;
    uint64_t hash;
    struct digest *d;
    size_t nd, capd;
};

struct table {
    struct slot *slots;
    size_t cap;                   /* a power of two, or 0 */
    size_t count;
};

struct vouch_ima_policy {
    uint64_t seed;
    struct table files;
    size_t n_digests;             /* in files, all paths together */
    struct table buffers;
    struct table ignored;         /* ignored keyrings (no digests) */
    bool ignore_all_keyrings;
    struct vouch_buf excl;        /* "(?:r1)|(?:r2)..." */
    size_t n_excludes;
    pcre2_code *re;
};

static uint64_t hash_key(uint64_t seed, const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (uint8_t)k[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

static void table_free(struct table *t)
{
    size_t i;

    for (i = 0; i < t->cap; i++) {
        free(t->slots[i].key);
        free(t->slots[i].d);
    }
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static const struct slot *table_find(const struct table *t, uint64_t seed, const char *k,
                                     size_t n)
{
    uint64_t h;
    size_t i;

    if (!t->cap)
        return NULL;
    h = hash_key(seed, k, n);
    for (i = (size_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const struct slot *s = &t->slots[i];

        if (!s->key)
            return NULL;
        if (s->hash == h && s->klen == n && memcmp(s->key, k, n) == 0)
            return s;
    }
}

static vouch_err table_grow(struct table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 64, i;
    struct slot *ns = calloc(ncap, sizeof(*ns));

    if (!ns)
        return VOUCH_E_NOMEM;
    for (i = 0; i < t->cap; i++) {
        struct slot *s = &t->slots[i];
        size_t j;

        if (!s->key)
            continue;
        for (j = (size_t)s->hash & (ncap - 1); ns[j].key; j = (j + 1) & (ncap - 1))
            ;
        ns[j] = *s;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return VOUCH_OK;
}

/* Find or insert key; *ret is the slot. */
static vouch_err table_upsert(struct table *t, uint64_t seed, const char *k, size_t n,
                              struct slot **ret)
{
    uint64_t h = hash_key(seed, k, n);
    size_t i;

    if ((t->count + 1) * 2 > t->cap) {
        if (t->count >= MAX_PATHS)
            return VOUCH_E_TOO_LARGE;
        if (table_grow(t))
            return VOUCH_E_NOMEM;
    }
    for (i = (size_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        struct slot *s = &t->slots[i];

        if (!s->key) {
            s->key = malloc(n + 1);
            if (!s->key)
                return VOUCH_E_NOMEM;
            memcpy(s->key, k, n);
            s->key[n] = 0;
            s->klen = n;
            s->hash = h;
            t->count++;
            *ret = s;
            return VOUCH_OK;
        }
        if (s->hash == h && s->klen == n && memcmp(s->key, k, n) == 0) {
            *ret = s;
            return VOUCH_OK;
        }
    }
}

static vouch_err slot_add_digest(struct slot *s, const uint8_t *d, size_t len)
{
    size_t i;

    if (len == 0 || len > VOUCH_HASH_MAX_SIZE)
        return VOUCH_E_INVALID;
    for (i = 0; i < s->nd; i++)
        if (s->d[i].len == len && memcmp(s->d[i].b, d, len) == 0)
            return VOUCH_OK;
    if (s->nd == s->capd) {
        size_t ncap = s->capd ? s->capd * 2 : 1;
        struct digest *nd;

        if (s->nd >= MAX_DIGESTS_PER_PATH)
            return VOUCH_E_TOO_LARGE;
        nd = realloc(s->d, ncap * sizeof(*nd));
        if (!nd)
            return VOUCH_E_NOMEM;
        s->d = nd;
        s->capd = ncap;
    }
    s->d[s->nd].len = (uint8_t)len;
    memcpy(s->d[s->nd].b, d, len);
    s->nd++;
    return VOUCH_OK;
}

static bool slot_has_digest(const struct slot *s, const uint8_t *d, size_t len)
{
    size_t i;

    for (i = 0; i < s->nd; i++)
        if (s->d[i].len == len && memcmp(s->d[i].b, d, len) == 0)
            return true;
    return false;
}

vouch_err vouch_ima_policy_new(struct vouch_ima_policy **ret)
{
    struct vouch_ima_policy *p = calloc(1, sizeof(*p));

    if (!p)
        return VOUCH_E_NOMEM;
    if (RAND_bytes((unsigned char *)&p->seed, sizeof(p->seed)) != 1)
        p->seed = (uint64_t)(uintptr_t)p;
    vouch_buf_init(&p->excl, MAX_EXCLUDE_TEXT);
    *ret = p;
    return VOUCH_OK;
}

void vouch_ima_policy_free(struct vouch_ima_policy *p)
{
    if (!p)
        return;
    table_free(&p->files);
    table_free(&p->buffers);
    table_free(&p->ignored);
    vouch_buf_free(&p->excl);
    pcre2_code_free(p->re);
    free(p);
}

size_t vouch_ima_policy_paths(const struct vouch_ima_policy *p)
{
    return p->files.count;
}

size_t vouch_ima_policy_digests(const struct vouch_ima_policy *p)
{
    return p->n_digests;
}

size_t vouch_ima_policy_excludes(const struct vouch_ima_policy *p)
{
    return p->n_excludes;
}

vouch_err vouch_ima_policy_path_digests(const struct vouch_ima_policy *p, const char *path,
                                        size_t path_len, json_t **ret)
{
    const struct slot *s = table_find(&p->files, p->seed, path, path_len);
    char hex[VOUCH_HASH_MAX_SIZE * 2 + 1];
    json_t *a = json_array();
    size_t i;

    if (!a)
        return VOUCH_E_NOMEM;
    for (i = 0; s && i < s->nd; i++) {
        vouch_hex_encode(s->d[i].b, s->d[i].len, hex);
        if (json_array_append_new(a, json_string(hex))) {
            json_decref(a);
            return VOUCH_E_NOMEM;
        }
    }
    *ret = a;
    return VOUCH_OK;
}

vouch_err vouch_ima_policy_add_digest(struct vouch_ima_policy *p, const char *path,
                                      size_t path_len, const uint8_t *digest, size_t len,
                                      struct vouch_errbuf *eb)
{
    struct slot *s;
    size_t before = 0;
    vouch_err e = table_upsert(&p->files, p->seed, path, path_len, &s);

    if (!e) {
        before = s->nd;
        e = slot_add_digest(s, digest, len);
    }
    if (!e)
        p->n_digests += s->nd - before;
    if (e)
        return vouch_fail(eb, e, "IMA policy: cannot add a digest for '%.*s'",
                          (int)(path_len > 200 ? 200 : path_len), path);
    return VOUCH_OK;
}

vouch_err vouch_ima_policy_add_buffer(struct vouch_ima_policy *p, const char *name,
                                      const uint8_t *digest, size_t len, struct vouch_errbuf *eb)
{
    struct slot *s;
    vouch_err e = table_upsert(&p->buffers, p->seed, name, strlen(name), &s);

    if (!e)
        e = slot_add_digest(s, digest, len);
    if (e)
        return vouch_fail(eb, e, "IMA policy: cannot add a digest for buffer '%.200s'", name);
    return VOUCH_OK;
}

static vouch_err compile_regex(const char *pat, size_t len, uint32_t opts, pcre2_code **ret,
                               struct vouch_errbuf *eb)
{
    PCRE2_UCHAR msg[128];
    PCRE2_SIZE off;
    int code;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, opts, &code, &off, NULL);

    if (!re) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: exclude '%.100s': %s at %zu",
                          pat, (const char *)msg, (size_t)off);
    }
    *ret = re;
    return VOUCH_OK;
}

vouch_err vouch_ima_policy_add_exclude(struct vouch_ima_policy *p, const char *regex,
                                       struct vouch_errbuf *eb)
{
    struct vouch_buf text = VOUCH_BUF_INIT(MAX_EXCLUDE_TEXT);
    pcre2_code *re = NULL;
    vouch_err e;

    /* each pattern must compile alone, so one cannot escape its group */
    e = compile_regex(regex, strlen(regex), 0, &re, eb);
    if (e)
        return e;
    pcre2_code_free(re);
    re = NULL;
    if ((p->excl.len && vouch_buf_append(&text, p->excl.data, p->excl.len)) ||
        vouch_buf_printf(&text, "%s(?:%s)", p->n_excludes ? "|" : "", regex))
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "IMA policy: exclusions too long");
    e = compile_regex((const char *)text.data, text.len, PCRE2_ANCHORED, &re, eb);
    if (e) {
        vouch_buf_free(&text);
        return e;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);    /* falls back to the interpreter on failure */
    pcre2_code_free(p->re);
    p->re = re;
    vouch_buf_free(&p->excl);
    p->excl = text;
    p->n_excludes++;
    return VOUCH_OK;
}

/* Decode "hex" or "alg:hex". */
static vouch_err decode_digest(const char *s, size_t n, uint8_t *out, size_t *ret_len)
{
    const char *c = memchr(s, ':', n);

    if (c) {
        n -= (size_t)(c + 1 - s);
        s = c + 1;
    }
    if (n == 0 || n % 2 || n / 2 > VOUCH_HASH_MAX_SIZE ||
        vouch_hex_decode_exact(s, n, out, n / 2, NULL))
        return VOUCH_E_INVALID;
    *ret_len = n / 2;
    return VOUCH_OK;
}

static vouch_err load_digest_map(struct vouch_ima_policy *p, const json_t *map, bool buffers,
                                 const char *what, struct vouch_errbuf *eb)
{
    const char *k;
    json_t *arr;

    if (!map || json_is_null(map))
        return VOUCH_OK;
    if (!json_is_object(map))
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: \"%s\" is not an object", what);
    json_object_foreach((json_t *)map, k, arr) {
        json_t *d;
        size_t i;

        if (!json_is_array(arr))
            return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: %s[\"%.100s\"] is not an array",
                              what, k);
        json_array_foreach(arr, i, d) {
            uint8_t b[VOUCH_HASH_MAX_SIZE];
            size_t bl;
            vouch_err e;

            if (!json_is_string(d) ||
                decode_digest(json_string_value(d), json_string_length(d), b, &bl))
                return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: %s[\"%.100s\"][%zu] is not "
                                  "a hex digest", what, k, i);
            e = buffers ? vouch_ima_policy_add_buffer(p, k, b, bl, eb)
                        : vouch_ima_policy_add_digest(p, k, strlen(k), b, bl, eb);
            if (e)
                return e;
        }
    }
    return VOUCH_OK;
}

vouch_err vouch_ima_policy_load_keylime(struct vouch_ima_policy *p, const json_t *doc,
                                        struct vouch_errbuf *eb)
{
    json_t *ex = json_object_get(doc, "excludes"), *ima = json_object_get(doc, "ima"), *x;
    json_t *ign = ima ? json_object_get(ima, "ignored_keyrings") : NULL;
    size_t i;
    vouch_err e;

    if (!json_is_object(doc))
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: not a JSON object");
    if ((e = load_digest_map(p, json_object_get(doc, "digests"), false, "digests", eb)) ||
        (e = load_digest_map(p, json_object_get(doc, "keyrings"), true, "keyrings", eb)) ||
        (e = load_digest_map(p, json_object_get(doc, "ima-buf"), true, "ima-buf", eb)))
        return e;
    if (ex && !json_is_null(ex)) {
        if (!json_is_array(ex))
            return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: \"excludes\" is not an array");
        json_array_foreach(ex, i, x) {
            if (!json_is_string(x))
                return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: excludes[%zu] not a string", i);
            e = vouch_ima_policy_add_exclude(p, json_string_value(x), eb);
            if (e)
                return e;
        }
    }
    if (ign && !json_is_null(ign)) {
        if (!json_is_array(ign))
            return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: ignored_keyrings not an array");
        json_array_foreach(ign, i, x) {
            struct slot *s;

            if (!json_is_string(x))
                return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy: ignored_keyrings[%zu]", i);
            if (!strcmp(json_string_value(x), "*"))
                p->ignore_all_keyrings = true;
            else if (table_upsert(&p->ignored, p->seed, json_string_value(x),
                                  json_string_length(x), &s))
                return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    return VOUCH_OK;
}

/* One "<digest> <path>" line of an allow-list, decoded. */
typedef vouch_err (*allowlist_line_fn)(void *ctx, size_t lineno, const char *path,
                                       size_t path_len, const uint8_t *digest, size_t len,
                                       struct vouch_errbuf *eb);

/*
 * Walk an allow-list (sha*sum output): one "<hex digest> <path>" per line,
 * the digest optionally "alg:hex", a '*' before the path (binary mode)
 * dropped, blank lines and lines starting with '#' skipped, trailing
 * spaces and CR ignored.
 */
static vouch_err allowlist_each(const char *text, size_t len, allowlist_line_fn fn, void *ctx,
                                struct vouch_errbuf *eb)
{
    const char *q = text, *end = text + len;
    size_t lineno = 0;

    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl : end, *sp, *path;
        uint8_t b[VOUCH_HASH_MAX_SIZE];
        size_t bl;
        vouch_err e;

        lineno++;
        while (le > q && (le[-1] == '\r' || le[-1] == ' '))
            le--;
        if (le > q && *q != '#') {
            sp = memchr(q, ' ', (size_t)(le - q));
            if (!sp || decode_digest(q, (size_t)(sp - q), b, &bl))
                return vouch_fail(eb, VOUCH_E_INVALID, "allow-list line %zu: expected "
                                  "\"<digest> <path>\"", lineno);
            path = sp;
            while (path < le && *path == ' ')
                path++;
            if (path < le && *path == '*')       /* sha256sum's binary-mode marker */
                path++;
            if (path == le)
                return vouch_fail(eb, VOUCH_E_INVALID, "allow-list line %zu: no path", lineno);
            e = fn(ctx, lineno, path, (size_t)(le - path), b, bl, eb);
            if (e)
                return e;
        }
        q = nl ? nl + 1 : end;
    }
    return VOUCH_OK;
}

/* keylime's allow-lists name keyrings as paths "%keyring:NAME" (ima-buf entries). */
#define KEYRING_PREFIX "%keyring:"
#define KEYRING_PREFIX_LEN 9

static bool is_keyring(const char *path, size_t path_len)
{
    return path_len > KEYRING_PREFIX_LEN && !memcmp(path, KEYRING_PREFIX, KEYRING_PREFIX_LEN);
}

static vouch_err allowlist_add(void *ctx, size_t lineno, const char *path, size_t path_len,
                               const uint8_t *digest, size_t len, struct vouch_errbuf *eb)
{
    char name[VOUCH_IMA_MAX_NAME + 1];

    if (!is_keyring(path, path_len))
        return vouch_ima_policy_add_digest(ctx, path, path_len, digest, len, eb);
    if (path_len - KEYRING_PREFIX_LEN > VOUCH_IMA_MAX_NAME ||
        memchr(path, '\0', path_len))
        return vouch_fail(eb, VOUCH_E_INVALID, "allow-list line %zu: bad keyring name", lineno);
    memcpy(name, path + KEYRING_PREFIX_LEN, path_len - KEYRING_PREFIX_LEN);
    name[path_len - KEYRING_PREFIX_LEN] = '\0';
    return vouch_ima_policy_add_buffer(ctx, name, digest, len, eb);
}

vouch_err vouch_ima_policy_load_allowlist(struct vouch_ima_policy *p, const char *text,
                                          size_t len, struct vouch_errbuf *eb)
{
    return allowlist_each(text, len, allowlist_add, p, eb);
}

static bool utf8_text(const char *s, size_t n)
{
    size_t off, k;
    uint32_t cp;

    if (memchr(s, '\0', n))
        return false;
    for (off = 0; off < n; off += k)
        if (!(k = vouch_utf8_decode(s + off, n - off, &cp)))
            return false;
    return true;
}

/* Append digest (as bare hex, once) to digests[path], or keyrings[NAME]
 * for "%keyring:NAME". */
static vouch_err allowlist_json_add(void *ctx, size_t lineno, const char *path, size_t path_len,
                                    const uint8_t *digest, size_t len, struct vouch_errbuf *eb)
{
    char hex[VOUCH_HASH_MAX_SIZE * 2 + 1];
    json_t *digests = json_object_get(ctx, "digests"), *arr, *d;
    size_t i;

    if (is_keyring(path, path_len)) {
        digests = json_object_get(ctx, "keyrings");
        path += KEYRING_PREFIX_LEN;
        path_len -= KEYRING_PREFIX_LEN;
    }
    if (!utf8_text(path, path_len))
        return vouch_fail(eb, VOUCH_E_INVALID, "allow-list line %zu: the path is not UTF-8 text",
                          lineno);
    vouch_hex_encode(digest, len, hex);
    arr = json_object_getn(digests, path, path_len);
    if (!arr && (!(arr = json_array()) || json_object_setn_new(digests, path, path_len, arr)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, d)
        if (strcmp(json_string_value(d), hex) == 0)
            return VOUCH_OK;
    if (json_array_size(arr) >= MAX_DIGESTS_PER_PATH)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "allow-list line %zu: over %u digests for one "
                          "path", lineno, MAX_DIGESTS_PER_PATH);
    if (json_object_size(digests) > MAX_PATHS)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "allow-list: over %u paths", MAX_PATHS);
    if (json_array_append_new(arr, json_string(hex)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

vouch_err vouch_ima_allowlist_to_keylime(const char *text, size_t len, json_t **ret,
                                         struct vouch_errbuf *eb)
{
    json_t *doc = json_pack("{s:{s:i}, s:i, s:{}, s:[], s:{}, s:{s:[], s:s, s:n}, s:{}, s:s}",
                            "meta", "version", 1, "release", 0, "digests", "excludes",
                            "keyrings", "ima", "ignored_keyrings", "log_hash_alg", "sha1",
                            "dm_policy", "ima-buf", "verification-keys", "");
    vouch_err e;

    if (!doc)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = allowlist_each(text, len, allowlist_json_add, doc, eb);
    if (e) {
        json_decref(doc);
        return e;
    }
    *ret = doc;
    return VOUCH_OK;
}

static vouch_err add_unknown(json_t *list, size_t max, const struct vouch_ima_entry *en,
                             uint64_t index, const char *reason)
{
    struct vouch_buf d = VOUCH_BUF_INIT(256);
    json_t *o;
    vouch_err e = VOUCH_OK;
    size_t i;

    if (!list || json_array_size(list) >= max)
        return VOUCH_OK;
    if (en->alg_len) {
        e = vouch_text_append(&d, en->alg, en->alg_len);
        if (!e)
            e = vouch_buf_putc(&d, ':');
    } else if (en->digest_len == 20) {
        e = vouch_buf_puts(&d, "sha1:");
    }
    for (i = 0; !e && i < en->digest_len; i++)
        e = vouch_buf_printf(&d, "%02x", en->digest[i]);
    if (e)
        return VOUCH_E_NOMEM;
    /* A file's path is bytes, not always UTF-8; the hash name is the log's too. */
    o = json_pack("{s:I, s:o, s:s, s:s%, s:s}", "index", (json_int_t)index, "path",
                  vouch_json_text(en->path ? en->path : "", en->path ? en->path_len : 0),
                  "digest", vouch_buf_str(&d), "template", en->template_name,
                  (size_t)en->template_name_len, "reason", reason);
    vouch_buf_free(&d);
    if (!o || json_array_append_new(list, o))
        return VOUCH_E_NOMEM;
    return VOUCH_OK;
}

static bool is_buffer_entry(const struct vouch_ima_entry *en)
{
    return en->buf || (en->template_name_len == 7 && !memcmp(en->template_name, "ima-buf", 7));
}

vouch_err vouch_ima_policy_check(const struct vouch_ima_policy *p,
                                 const struct vouch_ima_log *log, size_t from, size_t count,
                                 uint64_t first_index, json_t *unknown, size_t max_list,
                                 size_t *ret_unknown, struct vouch_errbuf *eb)
{
    pcre2_match_data *md = NULL;
    size_t i, nunk = 0;
    vouch_err e = VOUCH_OK;

    if (from > log->n || count > log->n - from)
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA policy check: entries out of range");
    if (p->re && !(md = pcre2_match_data_create_from_pattern(p->re, NULL)))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = from; i < from + count && !e; i++) {
        const struct vouch_ima_entry *en = &log->entries[i];
        uint64_t index = first_index + i;
        const char *path = en->path ? en->path : "";
        size_t plen = en->path ? en->path_len : 0;
        const struct slot *s;
        const char *reason = NULL;

        if (index == 0 && plen == 14 && !memcmp(path, "boot_aggregate", 14))
            continue;
        if (p->re && pcre2_match(p->re, (PCRE2_SPTR)path, plen, 0, 0, md, NULL) >= 0)
            continue;
        if (en->violation) {
            reason = "violation";
        } else if (is_buffer_entry(en)) {
            s = table_find(&p->buffers, p->seed, path, plen);
            if (s)
                reason = slot_has_digest(s, en->digest, en->digest_len) ? NULL : "digest_mismatch";
            else if (!p->ignore_all_keyrings && !table_find(&p->ignored, p->seed, path, plen))
                reason = "buffer_not_allowed";
        } else {
            s = table_find(&p->files, p->seed, path, plen);
            if (!s)
                reason = "not_in_policy";
            else if (!en->digest || !slot_has_digest(s, en->digest, en->digest_len))
                reason = "digest_mismatch";
        }
        if (reason) {
            nunk++;
            if (add_unknown(unknown, max_list, en, index, reason))
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    pcre2_match_data_free(md);
    if (!e && ret_unknown)
        *ret_unknown = nunk;
    return e;
}
