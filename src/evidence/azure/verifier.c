/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The az-snp-vtpm and az-tdx-vtpm verifiers of the evidence interface.
 * Root of trust first: the hardware report (the SEV-SNP report through the
 * snp core and AMD's pinned chain, or the TD quote through the tdx
 * verifier and our DCAP collateral), then the HCL runtime data it binds
 * by hash, which names the vTPM's attestation key, then the vTPM quote
 * that key signed, its nonce, PCRs and init data.  docs/azure.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/codec.h"
#include "crypto/x509.h"
#include "evidence/azure/azure.h"
#include "evidence/dcap/dcap.h"
#include "evidence/snp/snp.h"
#include "vouch/evidence.h"

extern const struct vouch_verifier vouch_verifier_tdx;

/* Prefix a failure with the field it concerns, unless it already names one. */
static vouch_err at_field(struct vouch_errbuf *eb, vouch_err e, const char *field)
{
    if (eb && !eb->field[0])
        vouch_errbuf_set_field(eb, e, field);
    return e;
}

/* The VCEK: DER (v1, v2) or PEM (v0; certificates after the first are ASK/ARK). */
static vouch_err decode_vcek(const struct vouch_azure_evidence *ev, X509 **ret_vcek,
                             STACK_OF(X509) **ret_extra, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    X509 *vcek = NULL;
    vouch_err e;

    if (ev->platform_len > 0 && ev->platform[0] == '-') {
        e = vouch_x509_parse_pem_chain((const char *)ev->platform, ev->platform_len,
                                       VOUCH_SNP_MAX_CERTS, &sk, eb);
        if (!e)
            vcek = sk_X509_shift(sk);
    } else {
        e = vouch_x509_parse_der(ev->platform, ev->platform_len, &vcek, eb);
        if (!e && !(sk = sk_X509_new_null())) {
            X509_free(vcek);
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    ERR_clear_error();
    if (e) {
        sk_X509_pop_free(sk, X509_free);
        return vouch_errbuf_set_field(eb, e == VOUCH_E_NOMEM ? e : VOUCH_E_INVALID, "vcek");
    }
    *ret_vcek = vcek;
    *ret_extra = sk;
    return VOUCH_OK;
}

/* The SNP report in the HCL report, verified with the VCEK at `now`. */
static vouch_err verify_snp(const struct vouch_azure_evidence *ev,
                            const struct vouch_azure_hcl *hcl, int64_t now,
                            struct vouch_snp_report *r, struct vouch_errbuf *eb)
{
    STACK_OF(X509) *extra = NULL;
    X509 *vcek = NULL;
    vouch_err e;

    e = vouch_snp_report_parse(hcl->hw_report, VOUCH_HCL_HW_REPORT_SIZE, r, eb);
    if (e) {
        vouch_fail_prefix(eb, e, "HCL report: SNP report: ");
        return vouch_errbuf_set_field(eb, e, ev->hcl_name);
    }
    e = decode_vcek(ev, &vcek, &extra, eb);
    if (!e)
        e = vouch_snp_verify_report(r, vcek, extra, now, 0, eb);
    if (!e)
        e = vouch_snp_check_guest(r, eb);
    X509_free(vcek);
    sk_X509_pop_free(extra, X509_free);
    return e;
}

/*
 * The vTPM side (AK, quote, nonce, PCRs, user-data, init data), then the
 * TPM claims added to the hardware's `claims`, which this consumes.
 */
static vouch_err vtpm_and_claims(const struct vouch_azure_evidence *ev,
                                 const struct vouch_azure_hcl *hcl,
                                 const struct vouch_binding *binding, json_t *claims,
                                 json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_azure_vtpm vt;
    vouch_err e;

    e = vouch_azure_vtpm_verify(ev, hcl, binding ? binding->report_data : NULL,
                                binding ? binding->report_data_len : 0,
                                binding ? binding->init_data : NULL,
                                binding ? binding->init_data_len : 0, &vt, eb);
    if (!e)
        e = vouch_azure_tpm_claims(ev, &vt, claims, eb);
    if (e) {
        json_decref(claims);
        return e;
    }
    *ret_claims = claims;
    return VOUCH_OK;
}

static vouch_err az_snp_verify(const struct vouch_verifier *self, void *trust,
                               const uint8_t *evidence, size_t evidence_len,
                               const struct vouch_binding *binding, int64_t now,
                               json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_azure_evidence ev;
    struct vouch_azure_hcl hcl;
    struct vouch_snp_report *r = malloc(sizeof(*r));
    json_t *claims = NULL;
    vouch_err e;

    (void)self;
    (void)trust;
    if (!r)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = vouch_azure_evidence_parse(evidence, evidence_len, VOUCH_AZURE_SNP, &ev, eb);
    if (e) {
        free(r);
        return vouch_fail_prefix(eb, e, "evidence: ");
    }
    e = vouch_azure_hcl_parse(ev.hcl_report, ev.hcl_report_len, VOUCH_HCL_REPORT_TYPE_SNP, &hcl,
                              eb);
    if (e)
        at_field(eb, e, ev.hcl_name);
    if (!e)
        e = verify_snp(&ev, &hcl, now, r, eb);
    if (!e)
        e = vouch_azure_hcl_binding(&hcl, ev.hcl_name, r->report_data, "SNP report", eb);
    if (!e)
        e = vouch_azure_snp_claims(r, &claims, eb);
    if (!e)
        e = vtpm_and_claims(&ev, &hcl, binding, claims, ret_claims, eb);
    vouch_azure_evidence_done(&ev);
    free(r);
    return e;
}

/* The TD quote through the tdx verifier (our DCAP collateral), no binding. */
static vouch_err verify_td_quote(void *trust, const struct vouch_azure_evidence *ev, int64_t now,
                                 json_t **ret_claims, struct vouch_errbuf *eb)
{
    char *b64 = vouch_b64_alloc(ev->platform, ev->platform_len, VOUCH_B64_STD);
    json_t *doc = b64 ? json_pack("{s:s}", "quote", b64) : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    vouch_err e;

    if (!text) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    } else {
        e = vouch_verifier_tdx.verify(&vouch_verifier_tdx, trust, (const uint8_t *)text,
                                      strlen(text), NULL, now, ret_claims, eb);
        if (e && eb && strcmp(eb->field, "quote") == 0)
            vouch_errbuf_set_field(eb, e, "td_quote");
        if (e)
            vouch_fail_prefix(eb, e, "TD quote: ");
    }
    free(text);
    json_decref(doc);
    free(b64);
    return e;
}

/* TD quote, TD report match and HCL binding; *ret_claims the TDX claims. */
static vouch_err verify_tdx(void *trust, const struct vouch_azure_evidence *ev,
                            const struct vouch_azure_hcl *hcl, int64_t now, json_t **ret_claims,
                            struct vouch_errbuf *eb)
{
    struct vouch_dcap_quote q;
    json_t *claims = NULL;
    vouch_err e;

    e = verify_td_quote(trust, ev, now, &claims, eb);
    if (!e && vouch_dcap_quote_parse(ev->platform, ev->platform_len, &q, eb))
        e = vouch_fail_field(eb, VOUCH_E_INTERNAL, "td_quote", "a verified TD quote no longer "
                             "parses");
    if (!e)
        e = vouch_azure_td_report_match(hcl, ev->hcl_name, q.body, q.body_size, eb);
    if (!e)
        e = vouch_azure_hcl_binding(hcl, ev->hcl_name, vouch_dcap_report_data(&q), "TD quote",
                                    eb);
    if (e) {
        json_decref(claims);
        return e;
    }
    *ret_claims = claims;
    return VOUCH_OK;
}

static vouch_err az_tdx_verify(const struct vouch_verifier *self, void *trust,
                               const uint8_t *evidence, size_t evidence_len,
                               const struct vouch_binding *binding, int64_t now,
                               json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_azure_evidence ev;
    struct vouch_azure_hcl hcl;
    json_t *claims = NULL;
    vouch_err e;

    (void)self;
    e = vouch_azure_evidence_parse(evidence, evidence_len, VOUCH_AZURE_TDX, &ev, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    e = vouch_azure_hcl_parse(ev.hcl_report, ev.hcl_report_len, VOUCH_HCL_REPORT_TYPE_TDX, &hcl,
                              eb);
    if (e)
        at_field(eb, e, ev.hcl_name);
    if (!e)
        e = verify_tdx(trust, &ev, &hcl, now, &claims, eb);
    if (!e)
        e = vtpm_and_claims(&ev, &hcl, binding, claims, ret_claims, eb);
    vouch_azure_evidence_done(&ev);
    return e;
}

/* TD quotes are checked against tdx's collateral: share its context. */
static vouch_err az_tdx_trust_new(const struct vouch_verifier *self,
                                  const struct vouch_verifier_host *host, void **ret_trust,
                                  struct vouch_errbuf *eb)
{
    (void)self;
    (void)eb;
    *ret_trust = host->trust(host->ctx, "tdx");
    return VOUCH_OK;
}

static const struct vouch_inspect_cmd inspect_az_snp = {
    .name = "az-snp-vtpm",
    .usage = "EVIDENCE [--at RFC3339]",
    .summary = "verify an Azure SEV-SNP CVM's vTPM evidence (trustee's JSON) and print its "
               "claims",
    .options = "EVIDENCE\ttrustee's az-snp-vtpm evidence JSON; \"-\" reads stdin\n"
               VOUCH_HELP_AT,
};

static const struct vouch_inspect_cmd inspect_az_tdx = {
    .name = "az-tdx-vtpm",
    .usage = "EVIDENCE --collateral PATH [--at RFC3339]",
    .summary = "verify an Azure TDX CVM's vTPM evidence (trustee's JSON) and print its claims",
    .options = "EVIDENCE\ttrustee's az-tdx-vtpm evidence JSON; \"-\" reads stdin\n"
               VOUCH_HELP_COLLATERAL "; required, to verify the TD quote\n"
               VOUCH_HELP_AT,
};

/*
 * The subject (a token's `sub`, docs/oidc.md): the hardware report's
 * launch measurement, which on Azure is the paravisor's, and the vTPM's
 * boot PCRs 0-7 (firmware, boot loader, Secure Boot policy), which tell
 * the guest images apart.
 */
#define AZ_BOOT_PCRS "tpm.pcr00", "tpm.pcr01", "tpm.pcr02", "tpm.pcr03", "tpm.pcr04", \
    "tpm.pcr05", "tpm.pcr06", "tpm.pcr07"
static const char *const az_snp_subject[] = { "measurement", AZ_BOOT_PCRS, NULL };
static const char *const az_tdx_subject[] = {
    "quote.body.mr_td", "quote.body.rtmr_0", "quote.body.rtmr_1", "quote.body.rtmr_2",
    "quote.body.rtmr_3", AZ_BOOT_PCRS, NULL,
};

const struct vouch_verifier vouch_verifier_az_snp_vtpm = {
    .tee = "az-snp-vtpm",
    .verify = az_snp_verify,
    .inspect = &inspect_az_snp,
    .subject_claims = az_snp_subject,
};

const struct vouch_verifier vouch_verifier_az_tdx_vtpm = {
    .tee = "az-tdx-vtpm",
    .verify = az_tdx_verify,
    .trust_new = az_tdx_trust_new,
    .inspect = &inspect_az_tdx,
    .subject_claims = az_tdx_subject,
};
