/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the SPDM GET_MEASUREMENTS report parser, the claims built
 * from a parsed report and the RIM ids derived from it.  Input: a raw
 * attestation report.
 */
#include <jansson.h>

#include "evidence/nvgpu/rim.h"
#include "evidence/nvgpu/spdm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_nvgpu_report r;   /* large: keep it off the stack */
    char id[VOUCH_NVGPU_RIM_ID_MAX], vbios[15];
    json_t *c;

    if (vouch_nvgpu_report_parse(data, size, &r, NULL) != VOUCH_OK)
        return 0;
    c = json_object();
    if (c)
        vouch_nvgpu_report_claims(&r, c);
    json_decref(c);
    vouch_nvgpu_driver_rim_id(&r, VOUCH_NVGPU_HOPPER, id, NULL);
    vouch_nvgpu_driver_rim_id(&r, VOUCH_NVGPU_BLACKWELL, id, NULL);
    vouch_nvgpu_vbios_rim_id(&r, id, NULL);
    vouch_nvgpu_report_mode(&r);
    vouch_nvgpu_report_block(&r, 1);
    vouch_nvgpu_vbios_format(data, size < 8 ? size : 8, vbios);
    return 0;
}
