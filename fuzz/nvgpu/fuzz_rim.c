/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the RIM importer's path over one file: SWID XML or the RIM
 * service's JSON envelope, parsed, its XMLDSig certificates chained to
 * NVIDIA's RIM root, its validity at a fixed time, the signature, the
 * id.  Also the parser alone, ids from hints and the comparison with
 * an empty report.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"
#include "evidence/nvgpu/rim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vouch_nvgpu_trust *t;
    static struct vouch_nvgpu_report r;
    struct vouch_nvgpu_rim *rim = NULL;
    struct vouch_nvgpu_compare cmp;
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    uint8_t *xml = NULL;
    size_t xml_len = 0;

    if (!t && vouch_nvgpu_trust_new(&t, NULL) != VOUCH_OK)
        abort();
    /* 2024-06-01T00:00:00Z: NVIDIA's sample RIMs are valid then */
    if (vouch_nvgpu_rim_check_file(data, size, "1010_0200_882_96005E0001_PROD.swidtag",
                                   vouch_nvgpu_trust_rim_roots(t), 1717200000, id, &xml,
                                   &xml_len, NULL) == VOUCH_OK)
        free(xml);
    if (vouch_nvgpu_rim_parse(data, size, &rim, NULL) != VOUCH_OK)
        return 0;
    vouch_nvgpu_rim_id(rim, NULL, id, NULL);
    vouch_nvgpu_rim_id(rim, "NV_GPU_VBIOS_1010_0200_882_96005E0001", id, NULL);
    vouch_nvgpu_rim_golden(rim, 35);
    memset(&r, 0, sizeof(r));
    r.nvdec0_status = VOUCH_NVGPU_NVDEC0_DISABLED;
    vouch_nvgpu_rim_compare(&r, rim, rim, NULL, &cmp, NULL);
    vouch_nvgpu_rim_unref(rim);
    return 0;
}
