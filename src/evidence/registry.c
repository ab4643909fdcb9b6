/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>
#include <string.h>

#include "vouch/evidence.h"

/*
 * Every evidence family registers its verifiers here: adding a TEE is one
 * folder under src/evidence/ and one line in this table.
 */
extern const struct vouch_verifier vouch_verifier_tdx;
extern const struct vouch_verifier vouch_verifier_sgx;
extern const struct vouch_verifier vouch_verifier_nvgpu;
extern const struct vouch_verifier vouch_verifier_acstdxnvgpu;
extern const struct vouch_verifier vouch_verifier_snp;

static const struct vouch_verifier *const verifiers[] = {
    &vouch_verifier_tdx,
    &vouch_verifier_sgx,
    &vouch_verifier_nvgpu,
    &vouch_verifier_acstdxnvgpu,
    &vouch_verifier_snp,
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
