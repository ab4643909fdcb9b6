/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_EVENTLOG_H
#define VOUCH_EVIDENCE_TPM_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "evidence/tcg/eventlog.h"
#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/*
 * TPM use of TCG PC Client platform firmware event logs
 * (binary_bios_measurements): replay into PCRs, comparison with a quote,
 * claims and YAML.  The log itself is parsed by evidence/tcg/eventlog.h.
 */


/* Replay flags. */
enum {
    /*
     * Opt-in fix-up for firmware that extends the two ExitBootServices
     * EV_EFI_ACTION events into PCR5 without logging them: when the log has
     * no "Exit Boot Services Invocation" event, the replay appends both
     * ("Exit Boot Services Invocation", "Exit Boot Services Returned with
     * Success") to PCR5.  vouch_tpm_eventlog_verify() only applies it when
     * the plain replay of PCR5 does not match.
     */
    VOUCH_TPM_EL_EBS_FIXUP = 1u << 0,
};

/*
 * Replay the log into PCR values per bank (every bank of a supported hash
 * that the log carries): PCRs 0-16 and 23 start at zero, 17-22 at all
 * 0xFF, PCR0 at 00..0L after an EV_NO_ACTION "StartupLocality" event with
 * locality L; EV_NO_ACTION events are not extended.  ret->mask has the PCRs
 * at least one event extended.  ret_fixup (may be NULL) says whether the
 * EBS fix-up was applied.
 */
vouch_err vouch_tpm_eventlog_replay(const struct vouch_tcg_eventlog *log, unsigned flags,
                                    struct vouch_tpm_pcrs *ret, bool *ret_fixup,
                                    struct vouch_errbuf *eb);

/*
 * Replay and compare with authenticated PCR values (from a verified
 * quote).  Every PCR the log extends, in every bank both have, must match.
 * On a difference returns VOUCH_E_VERIFY naming the first ("sha256 PCR 5
 * differs (and N more)"); no common bank gives VOUCH_E_NOT_FOUND.  In both
 * cases and on success, *ret_report (optional) is a new object:
 *   {"replayed": {bank: {pcr: hex}}, "compared": N, "mismatches": [{bank,
 *    pcr, expected (replayed), actual (quoted)}], "ebs_fixup": bool,
 *    "unverified_pcrs": {bank: [pcr...]}}  (extended but not quoted)
 */
vouch_err vouch_tpm_eventlog_verify(const struct vouch_tcg_eventlog *log,
                                    const struct vouch_tpm_pcrs *quoted, unsigned flags,
                                    json_t **ret_report, struct vouch_errbuf *eb);

/*
 * Claims of a log (call after it verified against a quote):
 *   {"format": "tcg2"|"tcg1", "banks": [...],
 *    "uefi_event_logs": [{index (the PCR), type, type_name, digests:
 *      [{alg: "SHA-256", digest}], event (base64), digest_matches_event,
 *      details: {...}}],
 *    "secure_boot": {"enabled", "verified", "pk"..: counts, "authorities"},
 *    "kernel_cmdline"?, "grub_cmds"?, "boot_applications": [...]}
 * The event objects follow trustee's uefi_event_logs shape.  *ret is new.
 */
vouch_err vouch_tpm_eventlog_claims(const struct vouch_tcg_eventlog *log, json_t **ret);

/*
 * Append the log as tpm2_eventlog-style YAML ("---", "version: 1",
 * "events:" ..., then "pcrs:" with the replayed values in tpm2_eventlog's
 * format) to out.
 */
vouch_err vouch_tpm_eventlog_format_yaml(const struct vouch_tcg_eventlog *log,
                                         const struct vouch_tpm_pcrs *replayed,
                                         struct vouch_buf *out);

#endif
