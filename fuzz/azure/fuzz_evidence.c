/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: trustee's Azure CVM evidence documents (az-snp-vtpm and
 * az-tdx-vtpm, versions 0..2), then on what parses, the HCL report inside
 * and the vTPM checks (runtime data JSON, AK JWK, TPMS_ATTEST, PCRs,
 * user-data) and the claims.  The first input byte picks the kind.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/azure/azure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void vtpm(const struct vouch_azure_evidence *ev, uint32_t type)
{
    static const uint8_t init_data[32];
    struct vouch_azure_hcl h;
    struct vouch_azure_vtpm vt;
    json_t *claims;

    if (vouch_azure_hcl_parse(ev->hcl_report, ev->hcl_report_len, type, &h, NULL))
        return;
    if (vouch_azure_vtpm_verify(ev, &h, NULL, 0, init_data, sizeof(init_data), &vt, NULL))
        return;
    if (vt.nonce_len > sizeof(vt.nonce))
        abort();
    claims = json_object();
    if (claims && vouch_azure_tpm_claims(ev, &vt, claims, NULL) == VOUCH_OK &&
        json_object_size(json_object_get(claims, "tpm")) != 24)
        abort();
    json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum vouch_azure_kind kind;
    struct vouch_azure_evidence ev;

    if (size < 1)
        return 0;
    kind = data[0] & 1 ? VOUCH_AZURE_TDX : VOUCH_AZURE_SNP;
    if (vouch_azure_evidence_parse(data + 1, size - 1, kind, &ev, NULL) == VOUCH_OK) {
        vtpm(&ev, kind == VOUCH_AZURE_TDX ? VOUCH_HCL_REPORT_TYPE_TDX : VOUCH_HCL_REPORT_TYPE_SNP);
        vouch_azure_evidence_done(&ev);
    }
    return 0;
}
