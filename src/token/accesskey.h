/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_ACCESSKEY_H
#define VOUCH_TOKEN_ACCESSKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/cache.h"
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

/*
 * Access keys as the RPC endpoint reads them: through a cache of enabled
 * keys (docs/vtpm.md, "AccessKeys on several replicas").  An enabled key's
 * account and clear secret are kept for `ttl_us` after they were read from
 * the store (VOUCH_ACCESSKEY_TTL_US), so a signed call costs no store read
 * and no unwrap; an unknown or disabled key is never kept (every call
 * naming one reads the store).  A key disabled through this cache
 * (vouch_accesskey_disable) stops working at once; one disabled elsewhere
 * (another replica of the database, `vouch accesskey disable`) works here
 * for at most ttl_us more.  Keys never change otherwise: an id keeps its
 * account and secret for good.  Time is the caller's monotonic clock in
 * microseconds; safe to use from several threads.
 */
#define VOUCH_ACCESSKEY_TTL_US 1000000     /* 1 s */
#define VOUCH_ACCESSKEY_CACHE_MAX 4096     /* enabled keys kept */

struct vouch_accesskeys;

vouch_err vouch_accesskeys_new(struct vouch_store *s, const struct vouch_kek *kek,
                               int64_t ttl_us, size_t max_entries,
                               struct vouch_accesskeys **ret, struct vouch_errbuf *eb);
/* Accepts NULL; keys still held by callers stay valid until done. */
void vouch_accesskeys_free(struct vouch_accesskeys *k);

/* An enabled key's account and clear secret (NUL-terminated), valid until
 * vouch_accesskey_done(). */
struct vouch_accesskey {
    const char *account;
    const uint8_t *secret;
    size_t secret_len;
    struct vouch_cache_entry *ref;     /* private: what holds them */
};

/* VOUCH_E_NOT_FOUND when the key is unknown or disabled. */
vouch_err vouch_accesskey_lookup(struct vouch_accesskeys *keys, const char *id, int64_t now_us,
                                 struct vouch_accesskey *ret, struct vouch_errbuf *eb);
/* Release what a lookup handed out; accepts a key never looked up (zeroed). */
void vouch_accesskey_done(struct vouch_accesskey *k);

/* Disable key `id` in the store for good and forget it here (before returning). */
vouch_err vouch_accesskey_disable(struct vouch_accesskeys *keys, const char *id,
                                  struct vouch_errbuf *eb);

/* [{"AccessKeyId", "Account", "Enabled", "CreatedAt" (epoch ms)}], of one
 * account or (NULL) of all; never secrets. */
vouch_err vouch_accesskey_list_json(struct vouch_store *s, const char *account, json_t **ret,
                                    struct vouch_errbuf *eb);

#endif
