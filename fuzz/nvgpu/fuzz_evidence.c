/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the evidence documents: tee=nvgpu ({"device_evidence_list"}
 * or NVIDIA's array) and the gpu_evidence member of a TDX document
 * (tee=acstdxnvgpu), with their hex/base64 reports and PEM chains.
 */
#include "common/json.h"
#include "evidence/nvgpu/nvgpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vouch_nvgpu_evidence *ev = NULL;
    json_t *doc = NULL;

    if (vouch_nvgpu_evidence_parse(data, size, &ev, NULL) == VOUCH_OK)
        vouch_nvgpu_evidence_free(ev);
    if (vouch_json_parse(data, size, &doc, NULL) != VOUCH_OK)
        return 0;
    ev = NULL;
    if (json_is_object(doc) &&
        vouch_nvgpu_evidence_from_gpu_evidence(json_object_get(doc, "gpu_evidence"), &ev,
                                               NULL) == VOUCH_OK)
        vouch_nvgpu_evidence_free(ev);
    json_decref(doc);
    return 0;
}
