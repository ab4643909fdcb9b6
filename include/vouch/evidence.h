/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_H
#define VOUCH_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * The interface every evidence family implements (src/evidence/<family>/).
 * A verifier turns evidence bytes into verified claims, or fails with an
 * error that names the step.  It does no I/O of its own: collateral and
 * trust anchors come through the opaque `trust` pointer the service
 * configured for that family, and time comes in as `now`.
 */

/* What the caller expects the evidence to be bound to. */
struct vouch_binding {
    /*
     * Expected report data (runtime data, already hashed when it was
     * structured).  The verifier zero-pads or truncates it to its own field
     * size (64 bytes for TDX/SGX REPORT_DATA, 32 for an SPDM nonce) and
     * compares exactly.  NULL: no check.
     */
    const uint8_t *report_data;
    size_t report_data_len;
    /* Expected init data (MRCONFIGID / CONFIGID), same rules.  NULL: no check. */
    const uint8_t *init_data;
    size_t init_data_len;
};

struct vouch_verifier {
    /* The `tee` string of the attestation request: "tdx", "sgx", "nvgpu", ... */
    const char *tee;
    /*
     * Verify `evidence` (the decoded evidence document of this TEE) at time
     * `now`.  On success *ret_claims is a new JSON object of claims, named as
     * trustee names them without the "<tee>." prefix.  A binding mismatch
     * returns VOUCH_E_BINDING; a malformed document VOUCH_E_INVALID or
     * VOUCH_E_TRUNCATED; a failed check VOUCH_E_VERIFY (or EXPIRED/REVOKED);
     * missing collateral VOUCH_E_NOT_FOUND.
     */
    vouch_err (*verify)(const struct vouch_verifier *self, void *trust,
                        const uint8_t *evidence, size_t evidence_len,
                        const struct vouch_binding *binding, int64_t now,
                        json_t **ret_claims, struct vouch_errbuf *eb);
    /*
     * Set by a verifier whose evidence carries several devices (the GPUs of
     * tee=nvgpu; the TD and its GPUs of tee=acstdxnvgpu).  Its claims are
     * then
     *   {"devices": [{"class": "cpu"|"gpu", "tee": "tdx"|"nvgpu",
     *                 "claims": {...}}, ...]}
     * and the service appraises and reports each device on its own (EAR
     * submodules cpu0, gpu0, gpu1, ...).  Each device's claims follow the
     * single-device rules above (its "report_data" hex included).  Every
     * device verified: one that fails fails the whole call.
     */
    bool multi_device;
};

/* Look up a registered verifier by its tee string; NULL if none. */
const struct vouch_verifier *vouch_verifier_find(const char *tee);

#endif
