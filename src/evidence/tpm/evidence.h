/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_EVIDENCE_H
#define VOUCH_EVIDENCE_TPM_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/tpm/eventlog.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"
#include "vouch/err.h"

/*
 * One TPM report as a vTPM agent sends it (Alibaba's PutMessage, keylime's
 * quote round): a quote over PCR values, optionally the UEFI event log and
 * (part of) the IMA log.  vouch_tpm_evidence_verify() checks it all against
 * an AK the caller already trusts (bound by credential activation or an AK
 * certificate) and returns the claims policies see.  Pure: no I/O, no clock.
 */
struct vouch_tpm_evidence {
    const uint8_t *attest;            /* TPMS_ATTEST (or TPM2B_ATTEST) */
    size_t attest_len;
    const uint8_t *sig;               /* TPMT_SIGNATURE */
    size_t sig_len;
    const struct vouch_tpm_pcrs *pcrs;    /* the values of the PCRs the quote selects */
    const uint8_t *eventlog;          /* binary_bios_measurements; NULL: none */
    size_t eventlog_len;
    const uint8_t *ima;               /* IMA log (binary or ASCII); NULL: none */
    size_t ima_len;
    uint64_t ima_first_index;         /* index of the first IMA entry sent (0: all of it) */
};

struct vouch_tpm_verify_opts {
    const uint8_t *nonce;             /* expected extraData; NULL: not checked */
    size_t nonce_len;
    const uint8_t *signer;            /* expected qualifiedSigner (AK QN); NULL: not checked */
    size_t signer_len;
    unsigned quote_flags;             /* VOUCH_TPM_QUOTE_* */
    unsigned eventlog_flags;          /* VOUCH_TPM_EL_* */
    unsigned ima_flags;               /* VOUCH_IMA_* */
    const struct vouch_ima_state *ima_prev;       /* state of the previous round, or NULL */
    const struct vouch_ima_policy *ima_policy;    /* program whitelist, or NULL */
    size_t max_unknown;               /* cap on the listed unknown files (0: 100) */
    bool ima_claims_only;             /* *ret_claims holds "ima" only; every check still runs */
};

/*
 * Verify the quote (signature, nonce, pcrDigest over ev->pcrs), then the
 * event log against the authenticated PCRs (every PCR it extends must
 * match), then the IMA log (a prefix must replay to the quoted PCR 10) and
 * the whitelist.  The first failure is returned with its step named
 * ("quote: ...", "event log: ...", "IMA log: ...").  On success:
 *   *ret_claims = the quote claims (quote, report_data, ak, pcrs, warnings)
 *     plus, with an event log, its claims at the top level (format,
 *     uefi_event_logs, secure_boot, boot_applications, grub_cmds,
 *     kernel_cmdline) and "eventlog_verification"; with an IMA log, "ima"
 *     (vouch_ima_claims(), unknown files included);
 *     With opts->ima_claims_only, only "ima" (for a caller that uses no
 *     other claim: building the quote's and the log's costs more than
 *     checking them).
 *   *ret_ima (optional) = the IMA state the next round starts from
 *     (unchanged copy of opts->ima_prev, or a fresh one, without IMA log).
 */
vouch_err vouch_tpm_evidence_verify(const struct vouch_tpm_key *ak,
                                    const struct vouch_tpm_evidence *ev,
                                    const struct vouch_tpm_verify_opts *opts,
                                    json_t **ret_claims, struct vouch_ima_state *ret_ima,
                                    struct vouch_errbuf *eb);

#endif
