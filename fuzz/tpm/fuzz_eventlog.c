/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: TCG event log parsing, replay (with the EBS fix-up), verification, claims, YAML. */
#include <stdlib.h>

#include "evidence/tpm/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_tpm_pcrs p;
    struct vouch_buf out = VOUCH_BUF_INIT(64u << 20);
    json_t *c = NULL, *report = NULL;
    bool fixed;

    if (vouch_tcg_eventlog_parse(data, size, VOUCH_TPM_PCR_COUNT, &log, NULL))
        return 0;
    if (vouch_tpm_eventlog_replay(log, VOUCH_TPM_EL_EBS_FIXUP, &p, &fixed, NULL) == VOUCH_OK) {
        p.value[0][5][0] ^= 1;   /* one PCR off: exercise the mismatch report */
        (void)vouch_tpm_eventlog_verify(log, &p, VOUCH_TPM_EL_EBS_FIXUP, &report, NULL);
        json_decref(report);
        (void)vouch_tpm_eventlog_format_yaml(log, &p, &out);
    }
    if (vouch_tpm_eventlog_claims(log, &c) == VOUCH_OK)
        json_decref(c);
    vouch_buf_free(&out);
    vouch_tcg_eventlog_free(log);
    return 0;
}
