/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trust set-up of the nvgpu and acstdxnvgpu verifiers from what the host
 * offers (include/vouch/evidence.h): the options nvgpu-device-root,
 * nvgpu-rim-root, nvgpu-ocsp and nvgpu-ocsp-url, the RIM source and the
 * network source OCSP queries go through.
 */
#include <stdlib.h>
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"

/* OCSP over the host's network source: POST application/ocsp-request. */
static vouch_err ocsp_post(void *ctx, const char *url, const uint8_t *req, size_t req_len,
                           size_t max, uint8_t **ret_resp, size_t *ret_len,
                           struct vouch_errbuf *eb)
{
    const struct vouch_net_source *net = ctx;

    return net->post(net->ctx, url, "application/ocsp-request", req, req_len, max, ret_resp,
                     ret_len, eb);
}

static vouch_err ocsp_setup(struct vouch_nvgpu_trust *t, const struct vouch_verifier_host *host,
                            struct vouch_errbuf *eb)
{
    const char *mode = host->option(host->ctx, "nvgpu-ocsp");
    const struct vouch_net_source *net = host->source(host->ctx, VOUCH_SOURCE_NET);
    struct vouch_ocsp_config oc;

    if (!mode || strcmp(mode, "off") == 0)
        return VOUCH_OK;
    memset(&oc, 0, sizeof(oc));
    if (strcmp(mode, "soft") == 0)
        oc.mode = VOUCH_OCSP_SOFT;
    else if (strcmp(mode, "require") == 0)
        oc.mode = VOUCH_OCSP_REQUIRE;
    else
        return vouch_fail(eb, VOUCH_E_INVALID, "--nvgpu-ocsp: off, soft or require");
    if (!net)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "--nvgpu-ocsp: the host offers no network");
    oc.url = host->option(host->ctx, "nvgpu-ocsp-url");
    oc.transport.post = ocsp_post;
    oc.transport.ctx = (void *)net;
    vouch_nvgpu_trust_set_ocsp(t, &oc);
    return VOUCH_OK;
}

vouch_err vouch_nvgpu_trust_from_host(const struct vouch_verifier *self,
                                      const struct vouch_verifier_host *host, void **ret_trust,
                                      struct vouch_errbuf *eb)
{
    const char *device_root = host->option(host->ctx, "nvgpu-device-root");
    const char *rim_root = host->option(host->ctx, "nvgpu-rim-root");
    const struct vouch_nvgpu_rim_source *rims = host->source(host->ctx, VOUCH_SOURCE_RIMS);
    struct vouch_nvgpu_trust *t = NULL;
    vouch_err e;

    (void)self;
    e = vouch_nvgpu_trust_new(&t, eb);
    if (e)
        return e;
    if (device_root && (e = vouch_nvgpu_trust_load_roots(t, false, device_root, eb))) {
        vouch_fail_prefix(eb, e, "--nvgpu-device-root: ");
        goto out;
    }
    if (rim_root && (e = vouch_nvgpu_trust_load_roots(t, true, rim_root, eb))) {
        vouch_fail_prefix(eb, e, "--nvgpu-rim-root: ");
        goto out;
    }
    if (rims)
        vouch_nvgpu_trust_set_rim_source(t, rims);
    e = ocsp_setup(t, host, eb);
out:
    if (e) {
        vouch_nvgpu_trust_free(t);
        return vouch_fail_prefix(eb, e, "NVIDIA GPU verifier: ");
    }
    *ret_trust = t;
    return VOUCH_OK;
}

void vouch_nvgpu_trust_release(void *trust)
{
    vouch_nvgpu_trust_free(trust);
}

/* tee=acstdxnvgpu: the TD's trust from tdx and the GPUs' from nvgpu, borrowed. */
vouch_err vouch_acstdxnvgpu_trust_from_host(const struct vouch_verifier *self,
                                            const struct vouch_verifier_host *host,
                                            void **ret_trust, struct vouch_errbuf *eb)
{
    struct vouch_acstdxnvgpu_trust *t = calloc(1, sizeof(*t));

    (void)self;
    if (!t)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    t->tdx = host->trust(host->ctx, "tdx");
    t->gpu = host->trust(host->ctx, "nvgpu");
    *ret_trust = t;
    return VOUCH_OK;
}

void vouch_acstdxnvgpu_trust_release(void *trust)
{
    free(trust);
}
