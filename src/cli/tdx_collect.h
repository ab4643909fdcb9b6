/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CLI_TDX_COLLECT_H
#define VOUCH_CLI_TDX_COLLECT_H
/*
 * Evidence collection inside a TDX guest (`vouch attest --tee tdx
 * --collect`): a quote through the kernel's configfs-tsm interface, the CC
 * event log from ACPI, and trustee's evidence document.  The paths are
 * parameters, so the tests run the protocol on a directory laid out like
 * configfs-tsm (docs/agent.md, "TDX guests").
 */
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "vouch/err.h"

#define VOUCH_TSM_REPORT_DIR "/sys/kernel/config/tsm/report"
#define VOUCH_TDX_CCEL_PATH "/sys/firmware/acpi/tables/data/CCEL"
#define VOUCH_TSM_REPORT_DATA 64          /* inblob: TDREPORT's REPORTDATA */
#define VOUCH_TSM_OUTBLOB_MAX (64u << 10)
#define VOUCH_TDX_CCEL_MAX (16u << 20)

/*
 * One request on an existing report entry (a directory of
 * VOUCH_TSM_REPORT_DIR): read `generation`, write the 64 bytes to
 * `inblob`, read `outblob` (the quote), read `generation` again.  Another
 * writer in between (generation not exactly one more) is VOUCH_E_CONFLICT;
 * a `provider` other than tdx_guest is VOUCH_E_UNSUPPORTED.
 */
vouch_err vouch_tsm_report_entry(const char *entry, const uint8_t report_data[VOUCH_TSM_REPORT_DATA],
                                 uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb);

/* Create a fresh entry under `dir` (mkdir), run the request on it, remove it. */
vouch_err vouch_tsm_report(const char *dir, const uint8_t report_data[VOUCH_TSM_REPORT_DATA],
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb);

/*
 * REPORT_DATA for a request's runtime_data object ({"raw"} or
 * {"structured"}), computed by the verifier's own binding code: what
 * vouchd will compare the quote's REPORT_DATA with.
 */
vouch_err vouch_tdx_report_data(const json_t *runtime_data, enum vouch_hash h,
                                 uint8_t out[VOUCH_TSM_REPORT_DATA], struct vouch_errbuf *eb);

/* trustee's TDX evidence document {"quote": b64, "cc_eventlog": b64 | null} (malloc'd text). */
vouch_err vouch_tdx_evidence_doc(const uint8_t *quote, size_t quote_len, const uint8_t *ccel,
                                 size_t ccel_len, char **ret, struct vouch_errbuf *eb);

#endif
