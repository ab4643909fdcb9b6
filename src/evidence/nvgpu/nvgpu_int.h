/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_NVGPU_INT_H
#define VOUCH_NVGPU_INT_H

/* Declarations shared by the files of src/evidence/nvgpu/ only. */

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "evidence/nvgpu/spdm.h"
#include "vouch/err.h"

/* Initialise libxml2 + xmlsec once and silence this thread's error output. */
vouch_err vouch_nvgpu_xml_init(struct vouch_errbuf *eb);

/*
 * The window in which every certificate of `chain` is valid: the latest
 * notBefore and the earliest notAfter (and the position of the
 * certificate that expires first).
 */
vouch_err vouch_nvgpu_chain_window(STACK_OF(X509) *chain, int64_t *ret_not_before,
                                   int64_t *ret_not_after, int *ret_first_expiring);

/*
 * A GPU's device-identity chain once verified (validity periods are
 * checked against `now` separately).  Immutable; shared by reference
 * count between the cache and verifications.
 */
struct vouch_nvgpu_devchain {
    int refs;
    uint8_t key[32];                /* SHA-256 of the PEM text it came from */
    STACK_OF(X509) *chain;          /* as verified: leaf first, root last */
    EVP_PKEY *leaf_key;             /* the attestation key (P-384) */
    enum vouch_nvgpu_arch arch;     /* from the leaf's commonName */
    bool has_fwid;
    uint8_t fwid[VOUCH_NVGPU_DIGEST_SIZE];
    char hwmodel[128];              /* commonName of the second certificate */
    char ueid[64];                  /* the leaf's serial number in decimal */
    int64_t not_before, not_after;  /* window of the verified chain */
};

/*
 * Parse a PEM chain (leaf first), require at least two certificates and
 * an end-entity leaf, verify it to `roots` without time checks.
 */
vouch_err vouch_nvgpu_devchain_build(const char *pem, size_t len, STACK_OF(X509) *roots,
                                     struct vouch_nvgpu_devchain **ret, struct vouch_errbuf *eb);
struct vouch_nvgpu_devchain *vouch_nvgpu_devchain_ref(struct vouch_nvgpu_devchain *dc);
void vouch_nvgpu_devchain_unref(struct vouch_nvgpu_devchain *dc);

/* The architecture a GPU certificate's commonName names ("GH100 ...", "GB..."). */
enum vouch_nvgpu_arch vouch_nvgpu_cert_arch(X509 *leaf);

/*
 * The FWID in the attestation certificate: extension 2.23.133.5.4.1 on
 * Hopper (SEQUENCE { INTEGER, SPKI, FWID }), 2.23.133.5.4.1.1 (DiceTcbInfo,
 * first of fwids [6]) on Blackwell; SHA-384 only.
 */
vouch_err vouch_nvgpu_leaf_fwid(X509 *leaf, enum vouch_nvgpu_arch arch,
                                uint8_t out[VOUCH_NVGPU_DIGEST_SIZE], struct vouch_errbuf *eb);

#endif
