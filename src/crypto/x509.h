/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_X509_H
#define VOUCH_CRYPTO_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "vouch/err.h"

/*
 * X.509 helpers: parsing certificates and CRLs in the encodings evidence
 * and collateral use, and chain verification against pinned roots at a
 * caller-supplied time.
 */

/* Parse every PEM certificate in text (at most max_certs). *ret in file order. */
vouch_err vouch_x509_parse_pem_chain(const char *pem, size_t len, size_t max_certs,
                                     STACK_OF(X509) **ret, struct vouch_errbuf *eb);

/* Parse one DER certificate; trailing bytes are an error. */
vouch_err vouch_x509_parse_der(const uint8_t *der, size_t len, X509 **ret,
                               struct vouch_errbuf *eb);

/* Parse a certificate file in PEM (first certificate) or DER. */
vouch_err vouch_x509_load_file(const char *path, X509 **ret, struct vouch_errbuf *eb);

/*
 * Parse a CRL given as DER, PEM, or hex text of the DER (Intel PCCS serves
 * all three).  Surrounding whitespace is ignored.
 */
vouch_err vouch_crl_parse(const uint8_t *data, size_t len, X509_CRL **ret,
                          struct vouch_errbuf *eb);

/* Options for vouch_x509_verify_chain(). */
enum {
    VOUCH_CHAIN_CRL_LEAF = 1 << 0,    /* the leaf's issuer must have a CRL in crls */
    VOUCH_CHAIN_CRL_ALL = 1 << 1,     /* every certificate must be checked against a CRL */
    VOUCH_CHAIN_NO_TIME = 1 << 2,     /* skip validity-period and CRL-date checks */
    VOUCH_CHAIN_CRL_STALE_OK = 1 << 3 /* a CRL past its nextUpdate still counts */
};

/*
 * Verify `leaf` up to one of `roots` (trust anchors, pinned by the
 * caller; a root found inside `untrusted` is not trusted by itself) at
 * Unix time `now`.  `untrusted` and `crls` may be NULL.  With a CRL flag,
 * a certificate listed on its issuer's CRL fails with VOUCH_E_REVOKED.
 * An expired certificate or CRL gives VOUCH_E_EXPIRED, one not valid yet
 * VOUCH_E_NOT_YET_VALID; any other failure VOUCH_E_VERIFY.  The message names the certificate's subject.
 */
vouch_err vouch_x509_verify_chain(X509 *leaf, STACK_OF(X509) *untrusted,
                                  STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                                  int64_t now, unsigned flags, struct vouch_errbuf *eb);

/*
 * The same, and on success *ret_chain is the verified chain as OpenSSL
 * built it: leaf first, trust anchor last (free with
 * sk_X509_pop_free(chain, X509_free)).  Written only on success.
 */
vouch_err vouch_x509_verify_chain_get(X509 *leaf, STACK_OF(X509) *untrusted,
                                      STACK_OF(X509) *roots, STACK_OF(X509_CRL) *crls,
                                      int64_t now, unsigned flags, STACK_OF(X509) **ret_chain,
                                      struct vouch_errbuf *eb);

/* ASN.1 time as Unix seconds. */
vouch_err vouch_asn1_time_to_unix(const ASN1_TIME *t, int64_t *ret);

/* The certificate's notBefore / notAfter as Unix seconds. */
vouch_err vouch_x509_validity(const X509 *cert, int64_t *ret_not_before,
                              int64_t *ret_not_after);

/* One-line subject, for messages; writes "?" on failure. */
void vouch_x509_subject(const X509 *cert, char *buf, size_t size);

/*
 * Certificates parsed by the functions above are decoded once per process
 * and shared (a bounded cache of decoded objects; no trust decision is
 * cached).  Drop them all, e.g. to measure a first-time decode.
 */
void vouch_x509_cache_clear(void);

/* SHA-256 of the DER encoding. */
vouch_err vouch_x509_fingerprint(const X509 *cert, uint8_t out[32]);

#endif
