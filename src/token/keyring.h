/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_TOKEN_KEYRING_H
#define VOUCH_TOKEN_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/jose.h"
#include "crypto/kek.h"
#include "store/store.h"
#include "vouch/err.h"

/*
 * Token signing keys.  The keys live in the store so every replica signs
 * with the same ones and publishes the same JWKS.  A keyring is an
 * immutable, reference-counted snapshot of them that many threads can read
 * at once; a server reloads a fresh snapshot now and then to see rotations
 * made elsewhere.
 *
 * The functions taking a `kek` wrap new private keys under it and unwrap
 * stored ones with it (token/secrets.h); NULL keeps new keys in clear and
 * loads only clear ones.  Clear keys always load, so a store from before a
 * KEK was configured keeps working until its keys are wrapped.
 */
struct vouch_signing_key {
    enum vouch_jws_alg alg;
    char kid[VOUCH_JWK_THUMBPRINT_LEN];
    EVP_PKEY *pkey;
    int64_t created_at;
    int64_t retired_at;   /* 0: the active key of its algorithm */
};

struct vouch_keyring;

/* Servers re-read the keys from the store at least this often. */
#define VOUCH_KEYRING_RELOAD_SECONDS 5u

/* The algorithms Vouch keeps a key for. */
extern const enum vouch_jws_alg vouch_keyring_algs[2];

/*
 * Make sure every algorithm in vouch_keyring_algs has an active key,
 * generating and storing missing ones.  Safe when several processes start
 * at once: only one key per algorithm wins.
 */
vouch_err vouch_keyring_ensure(struct vouch_store *s, const struct vouch_kek *kek, int64_t now,
                               struct vouch_errbuf *eb);

/*
 * Generate a new key for `alg` and make it the active one; the previous key
 * is retired at `now` and stays published (see vouch_keyring_load).
 * ret_kid (may be NULL) receives the new kid.
 */
vouch_err vouch_keyring_rotate(struct vouch_store *s, const struct vouch_kek *kek,
                               enum vouch_jws_alg alg, int64_t now,
                               char ret_kid[VOUCH_JWK_THUMBPRINT_LEN], struct vouch_errbuf *eb);

/*
 * Load a snapshot: the active keys, plus retired keys whose tokens may
 * still be valid, i.e. retired less than `publish_for` seconds before
 * `now` (the token lifetime plus clock-skew allowance).
 */
vouch_err vouch_keyring_load(struct vouch_store *s, const struct vouch_kek *kek, int64_t now,
                             int64_t publish_for, struct vouch_keyring **ret,
                             struct vouch_errbuf *eb);

struct vouch_keyring *vouch_keyring_ref(struct vouch_keyring *kr);
/* Drop a reference; frees on the last one.  Accepts NULL. */
void vouch_keyring_unref(struct vouch_keyring *kr);

/* The active key of `alg`, or NULL. */
const struct vouch_signing_key *vouch_keyring_active(const struct vouch_keyring *kr,
                                                     enum vouch_jws_alg alg);

/* A published key by kid, or NULL. */
const struct vouch_signing_key *vouch_keyring_find(const struct vouch_keyring *kr,
                                                   const char *kid);

/* Number of keys. */
size_t vouch_keyring_count(const struct vouch_keyring *kr);

/* {"keys":[...]} with every published key.  *ret is a new reference. */
vouch_err vouch_keyring_jwks(const struct vouch_keyring *kr, json_t **ret,
                             struct vouch_errbuf *eb);

/*
 * Sign `claims` with the active key of `alg` (kid in the header).  At most
 * `max` bytes.  *ret is NUL-terminated, free with free().
 */
vouch_err vouch_keyring_sign(const struct vouch_keyring *kr, enum vouch_jws_alg alg,
                             const json_t *claims, size_t max, char **ret, size_t *ret_len,
                             struct vouch_errbuf *eb);

/* Verify a token signed by any published key (found by the header's kid). */
vouch_err vouch_keyring_verify(const struct vouch_keyring *kr, const char *token, size_t len,
                               json_t **ret_payload, struct vouch_errbuf *eb);

#endif
