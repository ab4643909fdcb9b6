/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_AGENT_TPM_H
#define VOUCH_AGENT_TPM_H
/*
 * The agent's TPM: tpm2-tss ESYS over a TCTI ("device:/dev/tpmrm0",
 * "swtpm:host=127.0.0.1,port=N", ...).  Only what the vTPM agent needs:
 * the EK (certificate from NV, public from the TCG default template), a
 * persistent restricted RSA-2048 signing AK under the EK, credential
 * activation, and quotes with the PCR values they cover.  Transient objects
 * and sessions are flushed before each function returns, so it works with
 * and without a resource manager.  No logging: errors say which TPM command
 * failed and tpm2-tss's decoding of its response code.
 */
#include <stddef.h>
#include <stdint.h>

#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

#define VOUCH_AGENT_DEFAULT_TCTI "device:/dev/tpmrm0"
#define VOUCH_AGENT_DEFAULT_AK_HANDLE 0x81010003u
#define VOUCH_AGENT_EK_CERT_NV 0x01c00002u

struct vouch_agent_tpm;

/* Connect through `tcti`; VOUCH_E_UNAVAILABLE when the TPM cannot be reached. */
vouch_err vouch_agent_tpm_open(const char *tcti, struct vouch_agent_tpm **ret,
                               struct vouch_errbuf *eb);
void vouch_agent_tpm_close(struct vouch_agent_tpm *t);

/*
 * The RSA EK from the TCG default template (EK Credential Profile, template
 * L-1) as a marshalled TPM2B_PUBLIC (malloc'd), and its certificate from
 * NV 0x01c00002 (malloc'd DER, or NULL with length 0 when there is none).
 */
vouch_err vouch_agent_tpm_ek(struct vouch_agent_tpm *t, uint8_t **ret_pub, size_t *ret_pub_len,
                             uint8_t **ret_cert, size_t *ret_cert_len, struct vouch_errbuf *eb);

/* A TPM object's public part and Name. */
struct vouch_agent_tpm_object {
    uint8_t pub[1024];            /* marshalled TPM2B_PUBLIC */
    size_t pub_len;
    uint8_t name[2 + 64];         /* nameAlg || H(TPMT_PUBLIC) */
    size_t name_len;
};

/*
 * The object at persistent `handle`: VOUCH_OK with its public part,
 * VOUCH_E_NOT_FOUND when the handle is empty.
 */
vouch_err vouch_agent_tpm_read_persistent(struct vouch_agent_tpm *t, uint32_t handle,
                                          struct vouch_agent_tpm_object *ret,
                                          struct vouch_errbuf *eb);

/*
 * Create a restricted RSA-2048 RSASSA-SHA256 signing key (fixedTPM,
 * fixedParent, sensitiveDataOrigin, userWithAuth; the attributes of
 * tpm2_createak) under the EK and make it persistent at `handle`, evicting
 * whatever was there first.
 */
vouch_err vouch_agent_tpm_create_ak(struct vouch_agent_tpm *t, uint32_t handle,
                                    struct vouch_agent_tpm_object *ret, struct vouch_errbuf *eb);

/* Remove the persistent object at `handle` (VOUCH_OK when there was none). */
vouch_err vouch_agent_tpm_evict(struct vouch_agent_tpm *t, uint32_t handle,
                                struct vouch_errbuf *eb);

/*
 * TPM2_ActivateCredential with the AK at `ak_handle` and the EK: `blob` is
 * TPM2B_ID_OBJECT || TPM2B_ENCRYPTED_SECRET.  The recovered secret (at
 * most 64 bytes) goes to ret_secret.
 */
vouch_err vouch_agent_tpm_activate(struct vouch_agent_tpm *t, uint32_t ak_handle,
                                   const uint8_t *blob, size_t len, uint8_t ret_secret[64],
                                   size_t *ret_len, struct vouch_errbuf *eb);

/* A quote and the PCR values its pcrDigest covers. */
struct vouch_agent_quote {
    uint8_t *attest;              /* TPMS_ATTEST (malloc'd) */
    size_t attest_len;
    uint8_t *sig;                 /* TPMT_SIGNATURE (malloc'd) */
    size_t sig_len;
    struct vouch_tpm_pcrs pcrs;
};

/*
 * TPM2_Quote with the AK at `ak_handle` over `sel` with `nonce` as
 * qualifying data, and the PCR values.  PCRs read before the quote that do
 * not hash to its pcrDigest (a PCR extended in between) are read again, a
 * few times.  Free with vouch_agent_quote_done().
 */
vouch_err vouch_agent_tpm_quote(struct vouch_agent_tpm *t, uint32_t ak_handle,
                                const struct vouch_tpm_pcr_select *sel, const uint8_t *nonce,
                                size_t nonce_len, struct vouch_agent_quote *ret,
                                struct vouch_errbuf *eb);
void vouch_agent_quote_done(struct vouch_agent_quote *q);

#endif
