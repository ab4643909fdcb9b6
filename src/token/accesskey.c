/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "token/accesskey.h"
#include "token/secrets.h"

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* n random base62 characters (rejection sampling: no bias) and a NUL. */
static vouch_err random_base62(char *out, size_t n, struct vouch_errbuf *eb)
{
    unsigned char b[64];
    size_t got = 0, i;

    while (got < n) {
        if (RAND_bytes(b, sizeof(b)) != 1)
            return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness");
        for (i = 0; i < sizeof(b) && got < n; i++)
            if (b[i] < 248)
                out[got++] = base62[b[i] % 62];
    }
    out[n] = '\0';
    OPENSSL_cleanse(b, sizeof(b));
    return VOUCH_OK;
}

bool vouch_account_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0, i;

    if (n == 0 || n > VOUCH_ACCOUNT_NAME_MAX)
        return false;
    for (i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return false;
    }
    return true;
}

vouch_err vouch_accesskey_create(struct vouch_store *s, const struct vouch_kek *kek,
                                 const char *account, int64_t now_ms,
                                 char ret_id[VOUCH_ACCESSKEY_ID_LEN + 1],
                                 char ret_secret[VOUCH_ACCESSKEY_SECRET_LEN + 1],
                                 struct vouch_errbuf *eb)
{
    char id[VOUCH_ACCESSKEY_ID_LEN + 1], secret[VOUCH_ACCESSKEY_SECRET_LEN + 1];
    char *stored = NULL;
    vouch_err e;

    if (!vouch_account_name_valid(account))
        return vouch_fail(eb, VOUCH_E_INVALID, "account must be 1-%d characters of A-Z a-z "
                          "0-9 . _ - @", VOUCH_ACCOUNT_NAME_MAX);
    memcpy(id, "VK", 2);
    e = random_base62(id + 2, VOUCH_ACCESSKEY_ID_LEN - 2, eb);
    if (!e)
        e = random_base62(secret, VOUCH_ACCESSKEY_SECRET_LEN, eb);
    if (!e)
        e = vouch_secret_seal(kek, VOUCH_STORE_SECRET_ACCESS_KEY, id, secret, &stored, eb);
    if (!e)
        e = vouch_store_accesskey_create(s, account, id, stored, now_ms, eb);
    if (!e) {
        memcpy(ret_id, id, sizeof(id));
        memcpy(ret_secret, secret, sizeof(secret));
    }
    if (stored)
        OPENSSL_clear_free(stored, strlen(stored));
    OPENSSL_cleanse(secret, sizeof(secret));
    return e;
}

/* --- the cache of enabled keys ----------------------------------------------- */

struct vouch_accesskeys {
    struct vouch_store *store;
    const struct vouch_kek *kek;
    struct vouch_cache *cache;
    /* Disables on this cache: a lookup keeps what it read only when none
     * happened since it read (else the read may predate the disable). */
    pthread_mutex_t lock;
    uint64_t disables;
};

/* What the cache holds per key. */
struct key_value {
    char account[VOUCH_STORE_NAME_MAX + 1];
    uint8_t *secret;
    size_t secret_len;
};

static void key_value_free(void *p)
{
    struct key_value *v = p;

    if (!v)
        return;
    vouch_kek_secret_free(v->secret, v->secret_len);
    free(v);
}

vouch_err vouch_accesskeys_new(struct vouch_store *s, const struct vouch_kek *kek,
                               int64_t ttl_us, size_t max_entries,
                               struct vouch_accesskeys **ret, struct vouch_errbuf *eb)
{
    const struct vouch_cache_config cfg = {
        .name = "vtpm_accesskeys", .max_entries = max_entries, .ttl = ttl_us,
        .free_value = key_value_free,
    };
    struct vouch_accesskeys *k;
    vouch_err e;

    if (ttl_us <= 0 || max_entries == 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "access key cache: bad ttl or size");
    k = calloc(1, sizeof(*k));
    if (!k)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_cache_new(&cfg, &k->cache, eb);
    if (e) {
        free(k);
        return e;
    }
    k->store = s;
    k->kek = kek;
    pthread_mutex_init(&k->lock, NULL);
    *ret = k;
    return VOUCH_OK;
}

void vouch_accesskeys_free(struct vouch_accesskeys *k)
{
    if (!k)
        return;
    vouch_cache_free(k->cache);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

/* An enabled key from the store, its secret opened. */
static vouch_err key_read(const struct vouch_accesskeys *keys, const char *id,
                          struct key_value **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_accesskey *k = NULL;
    struct key_value *v = NULL;
    vouch_err e = vouch_store_accesskey_get(keys->store, id, &k, eb);

    if (e == VOUCH_E_INVALID)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%.64s'", id);
    if (!e && !k->enabled)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "access key '%s' is disabled", id);
    if (!e && !(v = calloc(1, sizeof(*v))))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e)
        e = vouch_secret_open(keys->kek, VOUCH_STORE_SECRET_ACCESS_KEY, id, k->secret,
                              &v->secret, &v->secret_len, eb);
    if (!e) {
        memcpy(v->account, k->account, sizeof(v->account));
        *ret = v;
        v = NULL;
    }
    key_value_free(v);
    vouch_store_accesskeys_free(k, k ? 1 : 0);
    return e;
}

/* Read the key and keep it, unless a disable on this cache came in between:
 * then *ret_entry stays NULL and the caller reads again.  `hold_lock`: keep
 * disables out for the whole read (the retry: it always keeps what it read). */
static vouch_err key_fetch(struct vouch_accesskeys *keys, const char *id, int64_t now_us,
                           bool hold_lock, struct vouch_cache_entry **ret_entry,
                           struct vouch_errbuf *eb)
{
    struct key_value *v = NULL;
    uint64_t before;
    vouch_err e;

    pthread_mutex_lock(&keys->lock);
    before = keys->disables;
    if (!hold_lock)
        pthread_mutex_unlock(&keys->lock);
    e = key_read(keys, id, &v, eb);
    if (!hold_lock)
        pthread_mutex_lock(&keys->lock);
    if (!e && keys->disables == before) {
        /* the cache owns v from here, even when it fails */
        if (vouch_cache_put(keys->cache, id, strlen(id), v, sizeof(*v), now_us,
                            VOUCH_CACHE_NEVER, ret_entry))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    } else {
        key_value_free(v);
    }
    pthread_mutex_unlock(&keys->lock);
    return e;
}

vouch_err vouch_accesskey_lookup(struct vouch_accesskeys *keys, const char *id, int64_t now_us,
                                 struct vouch_accesskey *ret, struct vouch_errbuf *eb)
{
    struct vouch_cache_entry *entry = vouch_cache_get(keys->cache, id, strlen(id), now_us);
    const struct key_value *v;
    vouch_err e = VOUCH_OK;

    /* A disable raced the read: read again, the second time holding off disables. */
    if (!entry)
        e = key_fetch(keys, id, now_us, false, &entry, eb);
    if (!e && !entry)
        e = key_fetch(keys, id, now_us, true, &entry, eb);
    if (e)
        return e;
    v = vouch_cache_value(entry);
    ret->account = v->account;
    ret->secret = v->secret;
    ret->secret_len = v->secret_len;
    ret->ref = entry;
    return VOUCH_OK;
}

void vouch_accesskey_done(struct vouch_accesskey *k)
{
    if (!k)
        return;
    vouch_cache_release(k->ref);
    memset(k, 0, sizeof(*k));
}

vouch_err vouch_accesskey_disable(struct vouch_accesskeys *keys, const char *id,
                                  struct vouch_errbuf *eb)
{
    vouch_err e = vouch_store_accesskey_disable(keys->store, id, eb);

    /* Even when the store failed: the key may be disabled all the same. */
    pthread_mutex_lock(&keys->lock);
    keys->disables++;
    vouch_cache_clear(keys->cache);
    pthread_mutex_unlock(&keys->lock);
    return e;
}

vouch_err vouch_accesskey_list_json(struct vouch_store *s, const char *account, json_t **ret,
                                    struct vouch_errbuf *eb)
{
    struct vouch_store_accesskey *k = NULL;
    size_t n = 0, i;
    json_t *arr;
    vouch_err e = vouch_store_accesskey_list(s, account, &k, &n, eb);

    if (e)
        return e;
    arr = json_array();
    for (i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:I}", "AccessKeyId", k[i].id,
                                                 "Account", k[i].account, "Enabled",
                                                 k[i].enabled, "CreatedAt",
                                                 (json_int_t)k[i].created_ms))) {
            json_decref(arr);
            arr = NULL;
        }
    vouch_store_accesskeys_free(k, n);
    if (!arr)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = arr;
    return VOUCH_OK;
}
