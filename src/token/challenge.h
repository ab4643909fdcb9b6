/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_CHALLENGE_H
#define VOUCH_TOKEN_CHALLENGE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/kek.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * Stateless challenges.  A challenge is a fresh 32-byte nonce plus a
 * short-lived token that proves Vouch issued it: a compact JWT, HS256 under
 * a secret that every replica reads from the store and that is never
 * published.  Any replica can check a token; none has to remember it.  The
 * HMAC key being private also means a challenge token can never pass for
 * an attestation result, which are signed with the published keys.
 */
#define VOUCH_CHALLENGE_NONCE_LEN 32
#define VOUCH_CHALLENGE_SECRET_LEN 32
#define VOUCH_CHALLENGE_TTL 300
#define VOUCH_CHALLENGE_TOKEN_MAX 1024

/*
 * Issue a challenge at `now`, valid for `ttl` seconds.  ret_nonce receives
 * the raw nonce; *ret_token the JWT (free()).
 */
vouch_err vouch_challenge_issue(const uint8_t secret[VOUCH_CHALLENGE_SECRET_LEN], int64_t now,
                                int64_t ttl, uint8_t ret_nonce[VOUCH_CHALLENGE_NONCE_LEN],
                                char **ret_token, int64_t *ret_expires_at,
                                struct vouch_errbuf *eb);

/*
 * Check a token at `now`: the MAC (constant time), the header, and exp.
 * On success ret_nonce is the nonce it was issued for.  VOUCH_E_VERIFY for
 * a forged or malformed token, VOUCH_E_EXPIRED for an expired one.
 */
vouch_err vouch_challenge_verify(const uint8_t secret[VOUCH_CHALLENGE_SECRET_LEN],
                                 const char *token, size_t len, int64_t now,
                                 uint8_t ret_nonce[VOUCH_CHALLENGE_NONCE_LEN],
                                 struct vouch_errbuf *eb);

/*
 * The challenge HMAC key shared by every replica: read from the store, or
 * made and stored by the first replica to start.  Stored wrapped under
 * `kek` when one is given (a clear one from before still loads).
 */
vouch_err vouch_challenge_secret_setup(struct vouch_store *s, const struct vouch_kek *kek,
                                       uint8_t ret[VOUCH_CHALLENGE_SECRET_LEN],
                                       struct vouch_errbuf *eb);

#endif
