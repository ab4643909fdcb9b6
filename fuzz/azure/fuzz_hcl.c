/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the Azure HCL report parser, for both report types, and on
 * what it accepts the TD report match against a fixed quote body and the
 * runtime-data binding.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/azure/azure.h"
#include "evidence/dcap/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t body[VOUCH_DCAP_TD10_REPORT_LEN];
    static const uint8_t report_data[64];
    struct vouch_azure_hcl h;

    if (vouch_azure_hcl_parse(data, size, VOUCH_HCL_REPORT_TYPE_SNP, &h, NULL) == VOUCH_OK) {
        if (h.var_data + h.var_size > data + size)
            abort();
        (void)vouch_azure_hcl_binding(&h, "hcl_report", report_data, "SNP report", NULL);
    }
    if (vouch_azure_hcl_parse(data, size, VOUCH_HCL_REPORT_TYPE_TDX, &h, NULL) == VOUCH_OK)
        (void)vouch_azure_td_report_match(&h, "hcl_report", body, sizeof(body), NULL);
    return 0;
}
