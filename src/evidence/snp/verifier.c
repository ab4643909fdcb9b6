/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snp verifier of the evidence interface: trustee's evidence document
 * -> report and VEK -> AMD chain, match, signature -> CRL -> VMPL ->
 * binding -> claims.  The AMD roots are pinned; `trust` is the host's
 * store of AMD collateral (struct vouch_snp_source, may be NULL): the
 * VCEK when the evidence carries none, and AMD's CRL when one is stored.
 */
#include <string.h>

#include "evidence/binding.h"
#include "evidence/snp/snp.h"
#include "vouch/evidence.h"

/* The products a report may come from: its CPUID's, or (v2) Milan then Genoa. */
static size_t candidate_products(const struct vouch_snp_report *r,
                                 enum vouch_snp_product out[2])
{
    if (r->has_cpuid) {
        out[0] = r->product;
        return r->product == VOUCH_SNP_PRODUCT_UNKNOWN ? 0 : 1;
    }
    out[0] = VOUCH_SNP_PRODUCT_MILAN;
    out[1] = VOUCH_SNP_PRODUCT_GENOA;
    return 2;
}

/* The stored VCEK for the report's chip and REPORTED_TCB. */
static vouch_err stored_vcek(const struct vouch_snp_source *src,
                             const struct vouch_snp_report *r, X509 **ret,
                             struct vouch_errbuf *eb)
{
    static const uint8_t zero[64];
    enum vouch_snp_product ps[2];
    size_t n = candidate_products(r, ps), i;
    vouch_err e = VOUCH_E_NOT_FOUND;

    if (!src)
        return vouch_fail_field(eb, VOUCH_E_NOT_FOUND, "cert_chain", "the evidence carries no "
                                "VCEK or VLEK certificate");
    if (vouch_snp_signing_key(r) != VOUCH_SNP_SIGNER_VCEK)
        return vouch_fail_field(eb, VOUCH_E_NOT_FOUND, "cert_chain", "a VLEK-signed report "
                                "must carry its VLEK");
    if (memcmp(r->chip_id, zero, sizeof(zero)) == 0)
        return vouch_fail_field(eb, VOUCH_E_NOT_FOUND, "cert_chain", "CHIP_ID is masked: no "
                                "stored VCEK can match; send the VCEK with the evidence");
    /* A miss (or a KDS that has no such VCEK) for one product tries the next. */
    for (i = 0; i < n && (e == VOUCH_E_NOT_FOUND || (i > 0 && e == VOUCH_E_IO)); i++) {
        struct vouch_snp_tcb tcb = r->reported_tcb;
        size_t hwid_len = ps[i] == VOUCH_SNP_PRODUCT_TURIN ? 8 : 64;

        tcb.has_fmc = ps[i] == VOUCH_SNP_PRODUCT_TURIN;
        e = src->get_vcek(src->ctx, ps[i], r->chip_id, hwid_len, &tcb, ret, eb);
    }
    if (e == VOUCH_E_NOT_FOUND)
        return vouch_fail_field(eb, e, "cert_chain", "the evidence carries no VCEK and none is "
                                "stored for this chip at this TCB (import it: vouch "
                                "collateral import)");
    return e;
}

/*
 * AMD's CRL for the VEK's product: the one the evidence carries (it must
 * be AMD's, signed by the pinned ARK), and the stored one.
 */
static vouch_err check_crl(const struct vouch_snp_source *src, X509 *vek, X509_CRL *sent,
                           int64_t now, struct vouch_errbuf *eb)
{
    struct vouch_snp_vek info;
    X509_CRL *crl = NULL;
    vouch_err e;

    if (!src && !sent)
        return VOUCH_OK;
    e = vouch_snp_vek_parse(vek, &info, eb);
    if (!e && sent && (e = vouch_snp_crl_check(sent, info.product, info.role, now, eb)))
        vouch_errbuf_set_field(eb, e, "cert_chain");
    if (e || !src)
        return e;
    e = src->get_crl(src->ctx, info.product, &crl, eb);
    if (e == VOUCH_E_NOT_FOUND)
        return VOUCH_OK;
    if (!e)
        e = vouch_snp_crl_check(crl, info.product, info.role, now, eb);
    X509_CRL_free(crl);
    return e;
}

static vouch_err snp_verify(const struct vouch_verifier *self, void *trust,
                            const uint8_t *evidence, size_t evidence_len,
                            const struct vouch_binding *binding, int64_t now,
                            json_t **ret_claims, struct vouch_errbuf *eb)
{
    const struct vouch_snp_source *src = trust;
    struct vouch_snp_evidence ev = { 0 };
    const struct vouch_snp_report *r = &ev.report;
    vouch_err e;

    (void)self;
    e = vouch_snp_evidence_parse(evidence, evidence_len, &ev, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    if (!ev.vek && (e = stored_vcek(src, r, &ev.vek, eb)))
        goto out;
    e = vouch_snp_verify_report(r, ev.vek, ev.extra, now, 0, eb);
    if (!e)
        e = check_crl(src, ev.vek, ev.crl, now, eb);
    if (!e)
        e = vouch_snp_check_guest(r, eb);
    if (e)
        goto out;
    e = vouch_binding_check(binding ? binding->report_data : NULL,
                            binding ? binding->report_data_len : 0, r->report_data,
                            sizeof(r->report_data), "REPORT_DATA", eb);
    if (e)
        goto out;
    e = vouch_binding_check(binding ? binding->init_data : NULL,
                            binding ? binding->init_data_len : 0, r->host_data,
                            sizeof(r->host_data), "HOST_DATA", eb);
    if (e) {
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_INIT_DATA);
        goto out;
    }
    e = vouch_snp_claims(r, ret_claims, eb);
out:
    vouch_snp_evidence_done(&ev);
    return e;
}

/* A guest is its launch measurement. */
static const char *const snp_subject[] = { "measurement", NULL };

/* The host's AMD collateral, when it offers some. */
static vouch_err snp_trust_new(const struct vouch_verifier *self,
                               const struct vouch_verifier_host *host, void **ret_trust,
                               struct vouch_errbuf *eb)
{
    (void)self;
    (void)eb;
    *ret_trust = (void *)host->source(host->ctx, VOUCH_SOURCE_AMD_COLLATERAL);
    return VOUCH_OK;
}

static const struct vouch_inspect_cmd inspect_snp = {
    .name = "snp",
    .usage = "REPORT [--vcek CERT] [--chain PEM] [--crl CRL] [--at RFC3339]",
    .summary = "parse an SEV-SNP report (raw or trustee's JSON); with a VCEK, verify it",
    .options = "REPORT\tthe raw 1184-byte report, or trustee's snp evidence JSON (whose "
               "cert_chain may carry the VCEK or VLEK, the chain and a CRL); \"-\" reads "
               "stdin\n"
               "--vcek CERT\tthe VCEK or VLEK, DER or PEM as AMD KDS serves it; replaces the "
               "evidence's.  Without one the report is shown, not verified\n"
               "--chain PEM\tthe ASK or ASVK and the ARK (PEM); each must be AMD's pinned "
               "certificate\n"
               "--crl CRL\tAMD's CRL for the product (DER or PEM), checked when given; replaces "
               "the evidence's\n"
               VOUCH_HELP_AT,
};

const struct vouch_verifier vouch_verifier_snp = {
    .tee = "snp",
    .verify = snp_verify,
    .trust_new = snp_trust_new,
    .inspect = &inspect_snp,
    .subject_claims = snp_subject,
};
