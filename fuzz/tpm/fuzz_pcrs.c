/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer: PCR value files (JSON, tpm2-tools YAML, serialized and values formats). */
#include <stdlib.h>

#include "evidence/tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_tpm_pcr_select sel = { 2, { { 0x0004, 0x7ff }, { 0x000b, 0x107ff } } };
    struct vouch_tpm_pcrs p;
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 20);
    json_t *j = NULL;

    if (vouch_tpm_pcrs_load(data, size, NULL, &p, NULL) == VOUCH_OK) {
        (void)vouch_tpm_pcrs_format_yaml(&p, VOUCH_TPM_YAML_EVENTLOG, &out);
        if (vouch_tpm_pcrs_to_json(&p, &j) == VOUCH_OK)
            json_decref(j);
    }
    (void)vouch_tpm_pcrs_load(data, size, &sel, &p, NULL);
    vouch_buf_free(&out);
    return 0;
}
