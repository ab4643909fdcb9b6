/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_ACCESSKEY_H
#define VOUCH_TOKEN_ACCESSKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/kek.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * AccessKey pairs of the vTPM service's accounts.  An id is "VK" and 22
 * base62 characters; a secret is 30 base62 characters (178 bits).  The
 * secret is stored wrapped under the key-encryption key when one is
 * configured (token/secrets.h), and shown only when the pair is made.
 */
#define VOUCH_ACCESSKEY_ID_LEN 24
#define VOUCH_ACCESSKEY_SECRET_LEN 30
#define VOUCH_ACCOUNT_NAME_MAX 64

/* Is `name` an account name: 1-64 of A-Z a-z 0-9 . _ - @ ? */
bool vouch_account_name_valid(const char *name);

/*
 * A new pair for `account` (created when new).  ret_secret is the clear
 * secret: show it once, then wipe it.
 */
vouch_err vouch_accesskey_create(struct vouch_store *s, const struct vouch_kek *kek,
                                 const char *account, int64_t now_ms,
                                 char ret_id[VOUCH_ACCESSKEY_ID_LEN + 1],
                                 char ret_secret[VOUCH_ACCESSKEY_SECRET_LEN + 1],
                                 struct vouch_errbuf *eb);

/* An enabled key's account and clear secret (a NUL-terminated copy; release
 * with vouch_kek_secret_free(secret, len)).  VOUCH_E_NOT_FOUND when the key
 * is unknown or disabled. */
struct vouch_accesskey {
    char account[VOUCH_STORE_NAME_MAX + 1];
    uint8_t *secret;
    size_t secret_len;
};

vouch_err vouch_accesskey_lookup(struct vouch_store *s, const struct vouch_kek *kek,
                                 const char *id, struct vouch_accesskey *ret,
                                 struct vouch_errbuf *eb);
void vouch_accesskey_done(struct vouch_accesskey *k);

/* [{"AccessKeyId", "Account", "Enabled", "CreatedAt" (epoch ms)}], of one
 * account or (NULL) of all; never secrets. */
vouch_err vouch_accesskey_list_json(struct vouch_store *s, const char *account, json_t **ret,
                                    struct vouch_errbuf *eb);

#endif
