/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "token/secrets.h"

const char *const vouch_secret_meta_keys[] = { "challenge_secret", "vtpm_ak_ca" };
const size_t vouch_secret_n_meta_keys =
    sizeof(vouch_secret_meta_keys) / sizeof(vouch_secret_meta_keys[0]);

/* Room for the secret settings' values in vouch_secrets_rewrap. */
#define META_MAX 8

/* Longest purpose: "signing-key:" plus a 63-character kid, or a meta key. */
#define PURPOSE_MAX 160

static const char *const row_prefix[] = {
    [VOUCH_STORE_SECRET_SIGNING_KEY] = "signing-key:",
    [VOUCH_STORE_SECRET_META] = "meta:",
    [VOUCH_STORE_SECRET_ACCESS_KEY] = "access-key:",
};

static vouch_err purpose_of(enum vouch_store_secret_row row, const char *id,
                            char buf[PURPOSE_MAX], struct vouch_errbuf *eb)
{
    int n = snprintf(buf, PURPOSE_MAX, "%s%s", row_prefix[row], id);

    if (n < 0 || n >= PURPOSE_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "secret id '%.64s' is too long", id);
    return VOUCH_OK;
}

vouch_err vouch_secret_seal(const struct vouch_kek *kek, enum vouch_store_secret_row row,
                            const char *id, const char *clear, char **ret,
                            struct vouch_errbuf *eb)
{
    char purpose[PURPOSE_MAX];
    char *copy;
    vouch_err e;

    if (kek) {
        e = purpose_of(row, id, purpose, eb);
        return e ? e : vouch_kek_wrap(kek, purpose, clear, strlen(clear), ret, eb);
    }
    copy = strdup(clear);
    if (!copy)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *ret = copy;
    return VOUCH_OK;
}

vouch_err vouch_secret_open(const struct vouch_kek *kek, enum vouch_store_secret_row row,
                            const char *id, const char *stored, uint8_t **ret, size_t *ret_len,
                            struct vouch_errbuf *eb)
{
    char purpose[PURPOSE_MAX], want[VOUCH_KEK_ID_HEX_LEN + 1];
    size_t len = strlen(stored);
    uint8_t *copy;
    vouch_err e;

    if (!vouch_kek_is_wrapped(stored)) {
        copy = malloc(len + 1);
        if (!copy)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        memcpy(copy, stored, len + 1);
        *ret = copy;
        *ret_len = len;
        return VOUCH_OK;
    }
    if (!kek) {
        e = vouch_kek_wrapped_id(stored, want, eb);
        if (!e)
            e = vouch_fail(eb, VOUCH_E_AUTH, "%s%s is wrapped under KEK id %s; give that KEK "
                           "with --kek-file", row_prefix[row], id, want);
        return e;
    }
    e = purpose_of(row, id, purpose, eb);
    if (!e)
        e = vouch_kek_unwrap(kek, purpose, stored, ret, ret_len, eb);
    if (e)
        vouch_fail_prefix(eb, e, "%s%s: ", row_prefix[row], id);
    return e;
}

/* The new stored text for one secret, or *ret NULL when it stays as it is. */
static vouch_err rewrap_one(const struct vouch_kek *from, const struct vouch_kek *to,
                            enum vouch_store_secret_row row, const char *id, const char *stored,
                            char **ret, struct vouch_errbuf *eb)
{
    char have[VOUCH_KEK_ID_HEX_LEN + 1];
    uint8_t *clear = NULL;
    size_t len = 0;
    vouch_err e;

    *ret = NULL;
    if (!vouch_kek_is_wrapped(stored))
        return to ? vouch_secret_seal(to, row, id, stored, ret, eb) : VOUCH_OK;
    e = vouch_kek_wrapped_id(stored, have, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "%s%s: ", row_prefix[row], id);
    if (to && strcmp(have, to->id_hex) == 0)
        return VOUCH_OK;
    if (from && from == to && strcmp(have, from->id_hex) != 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s%s is wrapped under KEK id %s, but the "
                          "KEK given has id %s", row_prefix[row], id, have, from->id_hex);
    if (!from || strcmp(have, from->id_hex) != 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "%s%s is wrapped under KEK id %s, which is "
                          "not the old KEK (%s)", row_prefix[row], id, have,
                          from ? from->id_hex : "none given");
    e = vouch_secret_open(from, row, id, stored, &clear, &len, eb);
    if (!e)
        e = vouch_secret_seal(to, row, id, (const char *)clear, ret, eb);
    vouch_kek_secret_free(clear, len);
    return e;
}

/* Append the change for one secret when it needs one. */
static vouch_err plan_one(const struct vouch_kek *from, const struct vouch_kek *to,
                          enum vouch_store_secret_row row, const char *id, const char *stored,
                          struct vouch_store_secret_change *changes, size_t *n,
                          struct vouch_errbuf *eb)
{
    char *fresh = NULL;
    vouch_err e = rewrap_one(from, to, row, id, stored, &fresh, eb);

    if (!e && fresh) {
        changes[*n].row = row;
        changes[*n].id = id;
        changes[*n].old_value = stored;
        changes[*n].new_value = fresh;
        (*n)++;
    }
    return e;
}

/* Every access key with its stored secret. */
static vouch_err accesskeys_with_secrets(struct vouch_store *s,
                                         struct vouch_store_accesskey **ret, size_t *ret_n,
                                         struct vouch_errbuf *eb)
{
    struct vouch_store_accesskey *ak = NULL, *one = NULL;
    size_t n = 0, i;
    vouch_err e = vouch_store_accesskey_list(s, NULL, &ak, &n, eb);

    for (i = 0; !e && i < n; i++) {
        e = vouch_store_accesskey_get(s, ak[i].id, &one, eb);
        if (!e) {
            ak[i].secret = one->secret;
            one->secret = NULL;
            vouch_store_accesskeys_free(one, 1);
        }
    }
    if (e) {
        vouch_store_accesskeys_free(ak, n);
        return e;
    }
    *ret = ak;
    *ret_n = n;
    return VOUCH_OK;
}

vouch_err vouch_secrets_rewrap(struct vouch_store *s, const struct vouch_kek *from,
                               const struct vouch_kek *to, size_t *ret_changed,
                               struct vouch_errbuf *eb)
{
    struct vouch_store_secret_change *changes = NULL;
    struct vouch_store_key *keys = NULL;
    struct vouch_store_accesskey *ak = NULL;
    char *meta[META_MAX] = { NULL };
    size_t n_keys = 0, n_ak = 0, n = 0, i;
    vouch_err e;

    e = vouch_store_keys_list(s, &keys, &n_keys, eb);
    if (!e)
        e = accesskeys_with_secrets(s, &ak, &n_ak, eb);
    if (e)
        goto out;
    changes = calloc(n_keys + n_ak + vouch_secret_n_meta_keys + 1, sizeof(*changes));
    if (!changes) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < n_keys && !e; i++)
        e = plan_one(from, to, VOUCH_STORE_SECRET_SIGNING_KEY, keys[i].kid,
                     keys[i].private_pem, changes, &n, eb);
    for (i = 0; i < n_ak && !e; i++)
        e = plan_one(from, to, VOUCH_STORE_SECRET_ACCESS_KEY, ak[i].id, ak[i].secret, changes,
                     &n, eb);
    for (i = 0; i < vouch_secret_n_meta_keys && i < META_MAX && !e; i++) {
        e = vouch_store_meta_get(s, vouch_secret_meta_keys[i], &meta[i], eb);
        if (e == VOUCH_E_NOT_FOUND) {
            e = VOUCH_OK;
            continue;
        }
        if (!e)
            e = plan_one(from, to, VOUCH_STORE_SECRET_META, vouch_secret_meta_keys[i], meta[i],
                         changes, &n, eb);
    }
    if (!e && n)
        e = vouch_store_secrets_replace(s, changes, n, eb);
    if (!e && ret_changed)
        *ret_changed = n;
out:
    for (i = 0; changes && i < n; i++)
        OPENSSL_clear_free((char *)changes[i].new_value, strlen(changes[i].new_value));
    free(changes);
    for (i = 0; i < META_MAX; i++)
        if (meta[i])
            OPENSSL_clear_free(meta[i], strlen(meta[i]));
    vouch_store_keys_free(keys, n_keys);
    vouch_store_accesskeys_free(ak, n_ak);
    return e;
}
