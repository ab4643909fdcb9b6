/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TCG_H
#define VOUCH_EVIDENCE_TCG_H

/*
 * Helpers shared by the TCG event-log code (src/evidence/tcg) and the
 * families that use it: TPM 2.0 (src/evidence/tpm) and TDX's CC event log
 * (src/evidence/dcap).  Pure: no I/O, no clock, no logging.
 */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/* The digest algorithms of the TCG algorithm registry (TPM_ALG_ID) event logs use. */
enum {
    VOUCH_TCG_ALG_SHA1 = 0x0004,
    VOUCH_TCG_ALG_SHA256 = 0x000B,
    VOUCH_TCG_ALG_SHA384 = 0x000C,
    VOUCH_TCG_ALG_SHA512 = 0x000D,
    VOUCH_TCG_ALG_SM3_256 = 0x0012,
};

/* The hash of a TPM_ALG_ID, or -1 when it is not a hash this module does. */
int vouch_tcg_alg_hash(uint16_t alg);

/* Name of a digest TPM_ALG_ID as tpm2-tools prints it ("sha384"), or NULL. */
const char *vouch_tcg_alg_name(uint16_t alg);

/* The "SHA-256" style name trustee uses for digest algorithms in claims. */
const char *vouch_tcg_hash_claim_name(enum vouch_hash h);

/*
 * out = H(a || b) with a caller-owned, reusable context (EVP_MD_CTX_new'd
 * once per replay: a fresh context per digest costs more than hashing the
 * bytes of a short IMA entry).  b may be NULL when blen is 0.
 */
vouch_err vouch_tcg_hash2(EVP_MD_CTX *ctx, enum vouch_hash h, const void *a, size_t alen,
                          const void *b, size_t blen, uint8_t *out);

/* Whether n bytes are all equal to c. */
int vouch_tcg_all_bytes(const uint8_t *p, size_t n, uint8_t c);

/* JSON string of lower-case hex; NULL when out of memory. */
json_t *vouch_tcg_json_hex(const void *p, size_t n);

/* JSON string of standard base64; NULL when out of memory. */
json_t *vouch_tcg_json_b64(const void *p, size_t n);

#endif
