/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_SIG_H
#define VOUCH_CRYPTO_SIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/*
 * Signature verification helpers over OpenSSL 3 EVP.  All of them return
 * VOUCH_OK when the signature is good, VOUCH_E_VERIFY when it is not, and
 * VOUCH_E_INVALID / VOUCH_E_UNSUPPORTED for keys or encodings they cannot
 * use.  None of them log.
 */

/*
 * Build an EC public key from an uncompressed point given as x || y
 * (64 bytes for P-256, 96 for P-384, 132 for P-521).  Free *ret with
 * EVP_PKEY_free().
 */
vouch_err vouch_ec_pubkey_from_xy(const uint8_t *xy, size_t n, EVP_PKEY **ret,
                                  struct vouch_errbuf *eb);

/* Parse a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or a certificate's key. */
vouch_err vouch_pubkey_from_pem(const char *pem, size_t len, EVP_PKEY **ret,
                                struct vouch_errbuf *eb);

/* ECDSA with the signature as fixed-width r || s (each half the curve size). */
vouch_err vouch_ecdsa_verify_raw(EVP_PKEY *pk, enum vouch_hash h, const void *msg,
                                 size_t n, const uint8_t *rs, size_t rslen,
                                 struct vouch_errbuf *eb);

/* RSASSA-PKCS1-v1_5. */
vouch_err vouch_rsa_pkcs1_verify(EVP_PKEY *pk, enum vouch_hash h, const void *msg,
                                 size_t n, const uint8_t *sig, size_t len,
                                 struct vouch_errbuf *eb);

/*
 * RSASSA-PSS with MGF1 over the same hash.  saltlen is a byte count, or
 * RSA_PSS_SALTLEN_DIGEST (-1) or RSA_PSS_SALTLEN_AUTO (-2, any salt length).
 */
vouch_err vouch_rsa_pss_verify(EVP_PKEY *pk, enum vouch_hash h, int saltlen,
                               const void *msg, size_t n, const uint8_t *sig,
                               size_t len, struct vouch_errbuf *eb);

/* Convert between raw r || s (each `half` bytes) and DER.  Allocated with OPENSSL_malloc. */
vouch_err vouch_ecdsa_raw_to_der(const uint8_t *rs, size_t rslen, uint8_t **ret,
                                 size_t *ret_len);
vouch_err vouch_ecdsa_der_to_raw(const uint8_t *der, size_t len, size_t half,
                                 uint8_t *rs);

/* Curve field size in bytes of an EC key (32 for P-256); 0 if not EC. */
size_t vouch_ec_field_size(const EVP_PKEY *pk);

#endif
