/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_KEK_H
#define VOUCH_CRYPTO_KEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * The key-encryption key (KEK) that wraps secrets kept in the store
 * (signing keys, the challenge HMAC key, account access-key secrets).
 *
 * A wrapped secret is stored as text:
 *
 *     "vouch-kek:" base64url( version | kek id | nonce | ciphertext | tag )
 *
 *     version     1 byte, VOUCH_KEK_VERSION
 *     kek id      8 bytes, the first bytes of SHA-256 of the KEK
 *     nonce      12 bytes, random per wrap
 *     ciphertext  as long as the secret (AES-256-GCM)
 *     tag        16 bytes
 *
 * The additional authenticated data is the version and kek id followed by
 * the secret's purpose (for example "signing-key:<kid>"), so a wrapped
 * value copied to another row, or relabelled with another kek id, fails
 * to unwrap.
 */
#define VOUCH_KEK_LEN 32
#define VOUCH_KEK_ID_LEN 8
#define VOUCH_KEK_ID_HEX_LEN (2 * VOUCH_KEK_ID_LEN)
#define VOUCH_KEK_VERSION 1
#define VOUCH_KEK_NONCE_LEN 12
#define VOUCH_KEK_TAG_LEN 16
#define VOUCH_KEK_PREFIX "vouch-kek:"
/* Largest secret that can be wrapped (an RSA-4096 PKCS#8 PEM is ~3.3 KB). */
#define VOUCH_KEK_SECRET_MAX (64u * 1024)

struct vouch_kek {
    uint8_t key[VOUCH_KEK_LEN];
    uint8_t id[VOUCH_KEK_ID_LEN];
    char id_hex[VOUCH_KEK_ID_HEX_LEN + 1];
};

/* A KEK from its 32 bytes (computes the id). */
vouch_err vouch_kek_from_bytes(const uint8_t key[VOUCH_KEK_LEN], struct vouch_kek *ret,
                               struct vouch_errbuf *eb);

/*
 * Load a KEK file: exactly 32 bytes of raw key, or the key as 64 hex
 * digits or as base64 (standard or URL alphabet), text forms optionally
 * followed by a newline.  The file must not be readable or writable by
 * group or others.
 */
vouch_err vouch_kek_load_file(const char *path, struct vouch_kek *ret,
                              struct vouch_errbuf *eb);

/* Overwrite the key material.  Accepts NULL. */
void vouch_kek_wipe(struct vouch_kek *kek);

/* Whether a stored value is a wrapped secret (else it is in clear). */
bool vouch_kek_is_wrapped(const char *stored);

/* The kek id (hex) a wrapped value was made with. */
vouch_err vouch_kek_wrapped_id(const char *stored, char ret_id_hex[VOUCH_KEK_ID_HEX_LEN + 1],
                               struct vouch_errbuf *eb);

/*
 * Wrap `len` bytes of `secret` for `purpose`.  *ret is the text to store
 * (free()).
 */
vouch_err vouch_kek_wrap(const struct vouch_kek *kek, const char *purpose, const void *secret,
                         size_t len, char **ret, struct vouch_errbuf *eb);

/*
 * Unwrap a value made by vouch_kek_wrap with the same purpose.  *ret is
 * NUL-terminated (not counted in *ret_len); release it with
 * vouch_kek_secret_free().  VOUCH_E_NOT_FOUND when it was wrapped under
 * another KEK (the message names both ids), VOUCH_E_VERIFY when it was
 * altered, VOUCH_E_INVALID or VOUCH_E_UNSUPPORTED when it is not a
 * wrapped value this build reads.
 */
vouch_err vouch_kek_unwrap(const struct vouch_kek *kek, const char *purpose, const char *stored,
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb);

/* Wipe and free an unwrapped secret.  Accepts NULL. */
void vouch_kek_secret_free(uint8_t *secret, size_t len);

/*
 * Read a small private file (a token, a key): at most `max` bytes,
 * refused when group or others may read or write it.  *ret is
 * NUL-terminated; free with vouch_kek_secret_free().
 */
vouch_err vouch_secret_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
                                 struct vouch_errbuf *eb);

#endif
