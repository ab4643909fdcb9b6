/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: the collateral parsers.  The first byte picks the parser:
 * QuoteCollateralV3 JSON, a PCS body split + TCB info, a PCS body split +
 * QE identity, or a CRL.
 */
#include <string.h>

#include "evidence/dcap/dcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zero_sig[] =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1, *inner, *sig;
    size_t n = size ? size - 1 : 0, inner_n, sig_n;

    if (size == 0)
        return 0;
    switch (data[0] % 5) {
    case 0: {
        struct vouch_dcap_file_source *fs = NULL;

        if (vouch_dcap_file_source_from_json(text, n, &fs, NULL) == VOUCH_OK)
            vouch_dcap_file_source_free(fs);
        break;
    }
    case 1: {
        struct vouch_dcap_tcb_info *ti = NULL;

        if (vouch_dcap_split_signed(text, n, "tcbInfo", &inner, &inner_n, &sig, &sig_n,
                                    NULL) == VOUCH_OK &&
            vouch_dcap_tcb_info_parse(inner, inner_n, sig, sig_n, &ti, NULL) == VOUCH_OK)
            vouch_dcap_tcb_info_free(ti);
        break;
    }
    case 2: {
        struct vouch_dcap_qe_identity *qi = NULL;

        if (vouch_dcap_split_signed(text, n, "enclaveIdentity", &inner, &inner_n, &sig, &sig_n,
                                    NULL) == VOUCH_OK &&
            vouch_dcap_qe_identity_parse(inner, inner_n, sig, sig_n, &qi, NULL) == VOUCH_OK)
            vouch_dcap_qe_identity_free(qi);
        break;
    }
    case 3: {
        struct vouch_dcap_tcb_info *ti = NULL;

        /* A bare tcbInfo object, as the QuoteCollateralV3 "tcb_info" string. */
        if (vouch_dcap_tcb_info_parse(text, n, zero_sig, 128, &ti, NULL) == VOUCH_OK)
            vouch_dcap_tcb_info_free(ti);
        break;
    }
    default: {
        struct vouch_dcap_window w;
        X509_CRL *crl = NULL;
        int64_t num;

        if (vouch_dcap_crl_verify(data + 1, n, vouch_dcap_intel_root(), &crl, &w, &num,
                                  NULL) == VOUCH_OK)
            X509_CRL_free(crl);
        break;
    }
    }
    return 0;
}
