/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_JOSE_H
#define VOUCH_CRYPTO_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "vouch/err.h"

/*
 * JOSE on OpenSSL EVP: compact JWS (RFC 7515) signing and algorithm-pinned
 * verification, JWK export (RFC 7517/7518) and the RFC 7638 thumbprint
 * used as `kid`.  Only the algorithms Vouch issues are supported; "none"
 * and HMAC algorithms are never accepted.
 */
enum vouch_jws_alg {
    VOUCH_JWS_RS256,
    VOUCH_JWS_ES256,
    VOUCH_JWS_RS384,
    VOUCH_JWS_ES384,
    VOUCH_JWS__COUNT
};

/* Cap on a compact JWS accepted for verification. */
#define VOUCH_JWS_MAX (1u << 20)

/* "RS256" etc. */
const char *vouch_jws_alg_name(enum vouch_jws_alg alg);

/* Look up an algorithm by its JOSE name; -1 for unknown (including "none"). */
int vouch_jws_alg_from_name(const char *name);

/*
 * Generate a new private key for `alg`: RSA-2048 for RS*, P-256 for
 * ES256, P-384 for ES384.  Free with EVP_PKEY_free().
 */
vouch_err vouch_jose_keygen(enum vouch_jws_alg alg, EVP_PKEY **ret, struct vouch_errbuf *eb);

/* Whether `key` has the type and size `alg` needs. */
vouch_err vouch_jose_key_check(enum vouch_jws_alg alg, EVP_PKEY *key, struct vouch_errbuf *eb);

/* PKCS#8 PEM of a private key (free with free()), and back. */
vouch_err vouch_jose_private_pem(EVP_PKEY *key, char **ret, struct vouch_errbuf *eb);
vouch_err vouch_jose_private_from_pem(const char *pem, EVP_PKEY **ret,
                                      struct vouch_errbuf *eb);

/*
 * The public JWK of `key`: {"kty","n","e"} or {"kty","crv","x","y"}, plus
 * "kid", "alg" and "use":"sig" when kid/alg are given (kid may be NULL,
 * alg may be -1).  *ret is a new reference.
 */
vouch_err vouch_jwk_public(EVP_PKEY *key, const char *kid, int alg, json_t **ret,
                           struct vouch_errbuf *eb);

/*
 * Import a public JWK: RSA {n, e} (2048 bits or more) or EC P-256/P-384
 * {crv, x, y}.  *ret_alg is the algorithm the key is for: the JWK's "alg"
 * when present (it must fit the key), else RS256 / ES256 / ES384 by key
 * type.  Private members are ignored.
 */
vouch_err vouch_jwk_import(const json_t *jwk, EVP_PKEY **ret, enum vouch_jws_alg *ret_alg,
                           struct vouch_errbuf *eb);

/*
 * RFC 7638 JWK thumbprint (SHA-256 over the required members in
 * lexicographic order), base64url without padding: 43 chars + NUL.
 */
#define VOUCH_JWK_THUMBPRINT_LEN 44
vouch_err vouch_jwk_thumbprint(EVP_PKEY *key, char out[VOUCH_JWK_THUMBPRINT_LEN],
                               struct vouch_errbuf *eb);

/*
 * Sign `payload` (a JSON object) as a compact JWS with header
 * {"alg":..,"kid":..,"typ":"JWT"}.  The payload is serialised compactly.
 * At most `max` bytes of output.  *ret is NUL-terminated; free with free().
 */
vouch_err vouch_jws_sign(enum vouch_jws_alg alg, EVP_PKEY *key, const char *kid,
                         const json_t *payload, size_t max, char **ret, size_t *ret_len,
                         struct vouch_errbuf *eb);

/*
 * Verify a compact JWS whose signature must be by `key` with algorithm
 * `alg`.  The header's "alg" must equal `alg` exactly: the header never
 * chooses the algorithm.  Also rejects "crit" headers, malformed base64url
 * and a non-object payload.  Does not check exp/nbf (see
 * vouch_jwt_check_times).  On success *ret_header / *ret_payload (either may be
 * NULL) are new references.
 */
vouch_err vouch_jws_verify(const char *token, size_t len, enum vouch_jws_alg alg,
                           EVP_PKEY *key, json_t **ret_header, json_t **ret_payload,
                           struct vouch_errbuf *eb);

/* Decode header and payload of a compact JWS without verifying anything. */
vouch_err vouch_jws_decode_unverified(const char *token, size_t len, json_t **ret_header,
                                      json_t **ret_payload, struct vouch_errbuf *eb);

/*
 * Check "exp", "nbf" and "iat" of a JWT payload at `now`, allowing `leeway`
 * (>= 0) seconds: expired, not yet valid or issued in the future is
 * VOUCH_E_EXPIRED.  A missing exp is an error; a missing nbf or iat is not.
 * The arithmetic saturates, so claims at the int64 edges cannot wrap.
 */
vouch_err vouch_jwt_check_times(const json_t *payload, int64_t now, int64_t leeway,
                                struct vouch_errbuf *eb);

#endif
