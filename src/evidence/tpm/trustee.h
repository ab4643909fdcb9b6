/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_TRUSTEE_H
#define VOUCH_EVIDENCE_TPM_TRUSTEE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/tpm/quote.h"
#include "vouch/err.h"

/*
 * Stateless TPM evidence in trustee's shape (tee=tpm):
 *   {"ak_public": base64 DER SubjectPublicKeyInfo,
 *    "tpm_quote": {"message": base64 TPMS_ATTEST,
 *                  "signature": base64 TPMT_SIGNATURE,
 *                  "pcrs": [24 x hex sha256 PCR value]}}
 * The AK is not bound to anything here: a policy decides whether it is
 * trusted (reference value "trusted_aks").  docs/tpm.md describes the
 * checks and claims.
 */
#define VOUCH_TPM_TRUSTEE_MAX (64u * 1024)
#define VOUCH_TPM_TRUSTEE_PCRS 24u
/* Report data is bound to extraData zero-padded to this many bytes. */
#define VOUCH_TPM_TRUSTEE_NONCE_FIELD 64u
/* PCR 8 carries the init data: SHA-256(32 zero bytes || init data hash). */
#define VOUCH_TPM_TRUSTEE_INITDATA_PCR 8u

struct vouch_tpm_trustee_evidence {
    struct vouch_tpm_key *ak;
    char *ak_public;                 /* the base64 text as sent (a claim) */
    uint8_t *message, *signature;
    size_t message_len, signature_len;
    struct vouch_tpm_pcrs pcrs;      /* sha256 bank, PCRs 0..23 */
};

/* Parse the document; errors name the field ("tpm_quote.pcrs[3]"). */
vouch_err vouch_tpm_trustee_parse(const uint8_t *doc, size_t len,
                                  struct vouch_tpm_trustee_evidence *ret,
                                  struct vouch_errbuf *eb);
void vouch_tpm_trustee_done(struct vouch_tpm_trustee_evidence *ev);

/*
 * The claims of a verified quote, named as trustee's tpm verifier names
 * them: "ak_public", "report_data" (hex extraData), "init_data" (hex PCR 8),
 * "pcr00".."pcr23" (hex, only the sha256 PCRs the quote selects).
 */
vouch_err vouch_tpm_trustee_claims(const struct vouch_tpm_trustee_evidence *ev,
                                   const struct vouch_tpm_quote *q, json_t **ret,
                                   struct vouch_errbuf *eb);

#endif
