/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_DIGEST_H
#define VOUCH_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "vouch/err.h"

enum vouch_hash {
    VOUCH_HASH_SHA1,
    VOUCH_HASH_SHA256,
    VOUCH_HASH_SHA384,
    VOUCH_HASH_SHA512,
    VOUCH_HASH_SM3,
    VOUCH_HASH__COUNT
};

#define VOUCH_HASH_MAX_SIZE 64

/* Digest size in bytes; 0 for an unknown algorithm. */
size_t vouch_hash_size(enum vouch_hash h);

/* "sha256" etc. */
const char *vouch_hash_name(enum vouch_hash h);

/* Look up by name ("sha256", "SHA-256" and "sha-256" all work); -1 if unknown. */
int vouch_hash_from_name(const char *name);

/*
 * The algorithm fetched once from the default provider and cached for the
 * life of the process (implicit fetches per call are slow in OpenSSL 3).
 * NULL if the provider lacks it (e.g. SM3 in a FIPS build).
 */
const EVP_MD *vouch_hash_md(enum vouch_hash h);

/* One-shot digest of data into out (vouch_hash_size(h) bytes). */
vouch_err vouch_hash(enum vouch_hash h, const void *data, size_t n, uint8_t *out);

/*
 * HMAC of data under key into out (vouch_hash_size(h) bytes).  Each
 * thread keeps one keyed context per algorithm (HMAC() and EVP_Q_mac()
 * fetch the MAC and the digest by name on every call).
 */
vouch_err vouch_hmac(enum vouch_hash h, const void *key, size_t key_len, const void *data,
                     size_t n, uint8_t *out);

/* Constant-time comparison; 1 when equal. */
int vouch_memeq_ct(const void *a, const void *b, size_t n);

#endif
