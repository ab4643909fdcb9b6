/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vouch/evidence.h"

/*
 * The one list of TEEs.  The server sets up each verifier's trust from
 * this table and the CLI lists their inspect commands from it: adding a
 * TEE is one folder under src/evidence/ and one line here (a verifier
 * that uses another one's trust comes after it).
 */
extern const struct vouch_verifier vouch_verifier_tdx;
extern const struct vouch_verifier vouch_verifier_sgx;
extern const struct vouch_verifier vouch_verifier_nvgpu;
extern const struct vouch_verifier vouch_verifier_acstdxnvgpu;
extern const struct vouch_verifier vouch_verifier_snp;
extern const struct vouch_verifier vouch_verifier_az_snp_vtpm;
extern const struct vouch_verifier vouch_verifier_az_tdx_vtpm;
extern const struct vouch_verifier vouch_verifier_tpm;

static const struct vouch_verifier *const verifiers[] = {
    &vouch_verifier_tdx,
    &vouch_verifier_sgx,
    &vouch_verifier_nvgpu,
    &vouch_verifier_acstdxnvgpu,
    &vouch_verifier_snp,
    &vouch_verifier_az_snp_vtpm,
    &vouch_verifier_az_tdx_vtpm,
    &vouch_verifier_tpm,
    NULL,
};

const struct vouch_verifier *vouch_verifier_find(const char *tee)
{
    size_t i;

    for (i = 0; verifiers[i]; i++)
        if (strcmp(verifiers[i]->tee, tee) == 0)
            return verifiers[i];
    return NULL;
}

const struct vouch_verifier *vouch_verifier_at(size_t i)
{
    return i < sizeof(verifiers) / sizeof(verifiers[0]) ? verifiers[i] : NULL;
}

void vouch_verifier_names(char *buf, size_t size)
{
    size_t i, used = 0;
    int n;

    if (size == 0)
        return;
    buf[0] = '\0';
    for (i = 0; verifiers[i] && used < size; i++) {
        n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", verifiers[i]->tee);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}
