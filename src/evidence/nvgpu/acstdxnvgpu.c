/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee=acstdxnvgpu: a TDX guest and its NVIDIA GPUs attested together.  The
 * GPUs ride in the TDX evidence document as "gpu_evidence" and must have
 * signed the first 32 bytes of the TD's REPORT_DATA as their SPDM nonce,
 * which ties each GPU report to this one quote.
 */
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/nvgpu/nvgpu.h"

extern const struct vouch_verifier vouch_verifier_tdx;

/* The TD's REPORT_DATA, from its verified claims. */
static vouch_err td_nonce(const json_t *td, uint8_t out[VOUCH_NVGPU_NONCE_SIZE],
                          struct vouch_errbuf *eb)
{
    const char *hex = json_string_value(json_object_get(td, "report_data"));
    uint8_t rd[64];

    if (!hex || vouch_hex_decode_exact(hex, strlen(hex), rd, sizeof(rd), NULL))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "the TDX claims lack REPORT_DATA");
    memcpy(out, rd, VOUCH_NVGPU_NONCE_SIZE);
    return VOUCH_OK;
}

static vouch_err verify(const struct vouch_verifier *self, void *trust,
                        const uint8_t *evidence, size_t evidence_len,
                        const struct vouch_binding *binding, int64_t now, json_t **ret_claims,
                        struct vouch_errbuf *eb)
{
    const struct vouch_acstdxnvgpu_trust *t = trust;
    uint8_t nonce[VOUCH_NVGPU_NONCE_SIZE];
    json_t *doc = NULL, *td = NULL, *gpus = NULL, *devices = NULL, *out = NULL;
    const json_t *gpu_evidence;
    vouch_err e;

    (void)self;
    if (!t || !t->gpu)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no NVIDIA GPU trust anchors are configured");
    e = vouch_json_parse(evidence, evidence_len, &doc, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    gpu_evidence = json_object_get(doc, "gpu_evidence");
    if (!json_is_object(gpu_evidence)) {
        e = vouch_fail_field(eb, VOUCH_E_INVALID, "gpu_evidence",
                             "tee acstdxnvgpu needs 'gpu_evidence' with the GPUs' "
                             "evidence_list (for a TD alone, use tee tdx)");
        goto out;
    }
    /* The TD first: its REPORT_DATA is what the GPUs must have signed. */
    e = vouch_verifier_tdx.verify(&vouch_verifier_tdx, t->tdx, evidence, evidence_len, binding,
                                  now, &td, eb);
    if (e)
        goto out;
    e = td_nonce(td, nonce, eb);
    if (e)
        goto out;
    e = vouch_nvgpu_verify_gpu_evidence(t->gpu, gpu_evidence, nonce, now, &gpus, NULL, eb);
    if (e == VOUCH_E_BINDING)   /* a GPU did not sign this TD's REPORT_DATA */
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_GPU);
    if (e)
        goto out;
    devices = json_array();
    if (!devices || json_array_append_new(devices, json_pack("{s:s,s:s,s:O}", "class", "cpu",
                                                             "tee", "tdx", "claims", td))) {
        json_decref(gpus);
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = vouch_nvgpu_devices(gpus, devices, eb);
    if (e)
        goto out;
    out = json_pack("{s:O}", "devices", devices);
    if (!out) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    *ret_claims = out;
out:
    json_decref(devices);
    json_decref(td);
    json_decref(doc);
    return e;
}

const struct vouch_verifier vouch_verifier_acstdxnvgpu = {
    .tee = "acstdxnvgpu",
    .verify = verify,
    .multi_device = true,
    .trust_new = vouch_acstdxnvgpu_trust_from_host,
    .trust_free = vouch_acstdxnvgpu_trust_release,
};
