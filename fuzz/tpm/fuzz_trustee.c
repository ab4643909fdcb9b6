/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer: tee=tpm evidence in trustee's shape through the verifier
 * (src/evidence/tpm/trustee.c): the JSON document, its base64 and hex
 * fields, the AK, the quote and its signature, the PCR digest, both
 * bindings (the expected report data and init data are cut from the
 * input's last 64 bytes) and the claims.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/tpm/trustee.h"
#include "vouch/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct vouch_verifier *v = vouch_verifier_find("tpm");
    struct vouch_binding b = { 0 };
    json_t *claims = NULL;
    vouch_err e;

    if (!v)
        abort();
    e = v->verify(v, NULL, data, size, NULL, 0, &claims, NULL);
    if (e == VOUCH_OK) {
        /* Verified: every claim the verifier made is a string. */
        const char *k;
        json_t *x;

        json_object_foreach(claims, k, x)
            if (!json_is_string(x))
                abort();
        json_decref(claims);
        claims = NULL;
        if (size >= 64) {
            b.report_data = data + size - 64;
            b.report_data_len = 32;
            b.init_data = data + size - 32;
            b.init_data_len = 32;
            if (v->verify(v, NULL, data, size, &b, 0, &claims, NULL) == VOUCH_OK)
                json_decref(claims);
        }
    }
    return 0;
}
