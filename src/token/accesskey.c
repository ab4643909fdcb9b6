/* SPDX-License-Identifier: Apache-2.0 */
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

vouch_err vouch_accesskey_lookup(struct vouch_store *s, const struct vouch_kek *kek,
                                 const char *id, struct vouch_accesskey *ret,
                                 struct vouch_errbuf *eb)
{
    struct vouch_store_accesskey *k = NULL;
    vouch_err e = vouch_store_accesskey_get(s, id, &k, eb);

    if (e == VOUCH_E_INVALID)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%.64s'", id);
    if (!e && !k->enabled)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "access key '%s' is disabled", id);
    if (!e) {
        memset(ret, 0, sizeof(*ret));
        e = vouch_secret_open(kek, VOUCH_STORE_SECRET_ACCESS_KEY, id, k->secret, &ret->secret,
                              &ret->secret_len, eb);
        if (!e)
            memcpy(ret->account, k->account, sizeof(ret->account));
    }
    vouch_store_accesskeys_free(k, k ? 1 : 0);
    return e;
}

void vouch_accesskey_done(struct vouch_accesskey *k)
{
    if (!k)
        return;
    vouch_kek_secret_free(k->secret, k->secret_len);
    k->secret = NULL;
    k->secret_len = 0;
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
