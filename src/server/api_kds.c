/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD Key Distribution Service-compatible endpoints, served from the
 * store and the pinned AMD certificates, so guest tools (snpguest,
 * go-sev-guest) and other verifiers can point their KDS URL here:
 *   GET /vcek/v1/{product}/{hwid}?blSPL=&teeSPL=&snpSPL=&ucodeSPL=[&fmcSPL=]  VCEK, DER
 *   GET /vcek/v1/{product}/cert_chain, /vlek/v1/{product}/cert_chain         ASK|ASVK + ARK, PEM
 *   GET /vcek/v1/{product}/crl, /vlek/v1/{product}/crl                       CRL, DER
 * VCEKs and CRLs are those imported (POST /admin/collateral, vouch
 * collateral import); the cert_chain is the pinned one.  For the console:
 *   GET /admin/collateral/amd   the chips (VCEKs) and CRLs stored, admin only
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collateral/amd.h"
#include "common/codec.h"
#include "server/api.h"

#define HWID_LEGACY_HEX 128u
#define HWID_TURIN_HEX 16u
#define SPL_DIGITS_MAX 3u

/* A decimal SPL query parameter 0..255 ("8" or "08", as KDS clients send it). */
static bool spl_param(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                      const char *name, uint8_t *ret)
{
    const char *v = vouch_http_query(req, name);
    size_t n = v ? strnlen(v, SPL_DIGITS_MAX + 1) : 0, i;
    unsigned x = 0;

    for (i = 0; i < n && isdigit((unsigned char)v[i]); i++)
        x = x * 10 + (unsigned)(v[i] - '0');
    if (n == 0 || n > SPL_DIGITS_MAX || i != n || x > 255) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", name,
                           "%s must be a decimal number 0..255", name);
        return false;
    }
    *ret = (uint8_t)x;
    return true;
}

static bool product_param(const struct vouch_http_req *req, struct vouch_http_resp *resp,
                          enum vouch_snp_product *ret)
{
    *ret = vouch_amd_product_parse(req->params[0]);
    if (*ret != VOUCH_SNP_PRODUCT_UNKNOWN)
        return true;
    vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "product",
                       "product must be Milan, Genoa or Turin");
    return false;
}

static void send_cert_chain(struct vouch_http_resp *resp, enum vouch_snp_product p, bool vlek)
{
    char *pem = vouch_amd_cert_chain_pem(p, vlek);

    if (!pem) {
        vouch_http_fail(resp, VOUCH_SCOPE_COLLATERAL, VOUCH_E_NOMEM, VOUCH_SUB_NONE, NULL, NULL,
                        "out of memory");
        return;
    }
    vouch_http_text(resp, 200, "application/x-pem-file", pem, strlen(pem));
    vouch_http_resp_header(resp, "Cache-Control", "public, max-age=86400");
    free(pem);
}

/* /vcek/v1/{product}/{hwid}?...: the stored VCEK for that chip and TCB. */
static void send_vcek(struct vouch_app *app, const struct vouch_http_req *req,
                      struct vouch_http_resp *resp, enum vouch_snp_product p)
{
    const char *hex = req->params[1];
    size_t want = p == VOUCH_SNP_PRODUCT_TURIN ? HWID_TURIN_HEX : HWID_LEGACY_HEX;
    struct vouch_snp_tcb tcb = { .has_fmc = p == VOUCH_SNP_PRODUCT_TURIN };
    char key[VOUCH_SNP_VCEK_KEY_MAX], id[VOUCH_SNP_VCEK_KEY_MAX + 16];
    uint8_t hwid[HWID_LEGACY_HEX / 2];

    if (strlen(hex) != want || vouch_hex_decode_exact(hex, want, hwid, want / 2, NULL)) {
        vouch_http_problem(resp, 400, "VOUCH.REQUEST.INVALID_ARGUMENT", "hwid",
                           "the hardware id of a %s is %zu hex characters",
                           vouch_snp_product_name(p), want);
        return;
    }
    if (!spl_param(req, resp, "blSPL", &tcb.bootloader) ||
        !spl_param(req, resp, "teeSPL", &tcb.tee) || !spl_param(req, resp, "snpSPL", &tcb.snp) ||
        !spl_param(req, resp, "ucodeSPL", &tcb.microcode) ||
        (tcb.has_fmc && !spl_param(req, resp, "fmcSPL", &tcb.fmc)))
        return;
    vouch_snp_vcek_key(p, hwid, want / 2, &tcb, key);
    snprintf(id, sizeof(id), VOUCH_AMD_VCEK_PREFIX "%s", key);
    vouch_api_send_collateral(app, req, resp, id, NULL, "application/pkix-cert", 0);
}

static void send_crl(struct vouch_app *app, const struct vouch_http_req *req,
                     struct vouch_http_resp *resp, enum vouch_snp_product p)
{
    char id[64];

    snprintf(id, sizeof(id), VOUCH_AMD_CRL_PREFIX "%s", vouch_snp_product_name(p));
    vouch_api_send_collateral(app, req, resp, id, NULL, "application/pkix-crl", 0);
}

/* /{vcek|vlek}/v1/{product}/{item}: cert_chain, crl, or (VCEK only) a hwID. */
static void kds_get(struct vouch_app *app, const struct vouch_http_req *req,
                    struct vouch_http_resp *resp, bool vlek)
{
    enum vouch_snp_product p;

    if (!product_param(req, resp, &p))
        return;
    if (strcmp(req->params[1], "cert_chain") == 0)
        send_cert_chain(resp, p, vlek);
    else if (strcmp(req->params[1], "crl") == 0)
        send_crl(app, req, resp, p);
    else if (!vlek)
        send_vcek(app, req, resp, p);
    else
        vouch_http_fail(resp, VOUCH_SCOPE_COLLATERAL, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, NULL,
                        NULL, "VLEKs are not served: AMD issues them to cloud providers, and "
                        "they travel with the evidence");
}

void vouch_api_kds_vcek(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    kds_get(app, req, resp, false);
}

void vouch_api_kds_vlek(struct vouch_app *app, const struct vouch_http_req *req,
                        struct vouch_http_resp *resp)
{
    kds_get(app, req, resp, true);
}

/* GET /admin/collateral/amd: the stored AMD chips and CRLs with their expiry. */
void vouch_api_admin_amd_chips(struct vouch_app *app, const struct vouch_http_req *req,
                               struct vouch_http_resp *resp)
{
    struct vouch_errbuf eb;
    json_t *list = NULL;
    vouch_err e;

    (void)req;
    e = vouch_amd_collateral_list(app->store, &list, &eb);
    if (e) {
        vouch_http_fail_eb(resp, VOUCH_SCOPE_COLLATERAL, e, &eb, NULL);
        return;
    }
    vouch_http_json(resp, 200, list);
    vouch_http_resp_header(resp, "Cache-Control", "no-store");
}
