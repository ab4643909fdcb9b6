/* SPDX-License-Identifier: Apache-2.0 */
#include <openssl/x509.h>

#include "collateral/rim.h"
#include "evidence/nvgpu/nvgpu.h"

vouch_err vouch_rim_roots_load(const char *path, STACK_OF(X509) **ret, struct vouch_errbuf *eb)
{
    struct vouch_nvgpu_trust *t = NULL;
    STACK_OF(X509) *roots = NULL;
    vouch_err e;

    e = vouch_nvgpu_trust_new(&t, eb);
    if (!e && path)
        e = vouch_nvgpu_trust_load_roots(t, true, path, eb);
    if (!e) {
        roots = X509_chain_up_ref(vouch_nvgpu_trust_rim_roots(t));
        if (!roots)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    vouch_nvgpu_trust_free(t);
    if (!e)
        *ret = roots;
    return e;
}
