/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_INT_H
#define VOUCH_EVIDENCE_TPM_INT_H

/* Internal helpers shared by the files of src/evidence/tpm/. */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/*
 * out = H(a || b) with a caller-owned, reusable context (EVP_MD_CTX_new'd
 * once per replay: a fresh context per digest costs more than hashing the
 * bytes of a short IMA entry).  b may be NULL when blen is 0.
 */
vouch_err vouch_tpm_hash2(EVP_MD_CTX *ctx, enum vouch_hash h, const void *a, size_t alen,
                          const void *b, size_t blen, uint8_t *out);

/* Whether n bytes are all equal to c. */
int vouch_tpm_all_bytes(const uint8_t *p, size_t n, uint8_t c);

/* JSON string of lower-case hex; NULL when out of memory. */
json_t *vouch_tpm_json_hex(const void *p, size_t n);

/* JSON string of standard base64; NULL when out of memory. */
json_t *vouch_tpm_json_b64(const void *p, size_t n);

/* The "SHA-256" style name trustee uses for digest algorithms in claims. */
const char *vouch_tpm_hash_claim_name(enum vouch_hash h);

#endif
