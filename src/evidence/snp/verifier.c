/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snp verifier of the evidence interface: trustee's evidence document
 * -> report and VEK -> AMD chain, match, signature -> VMPL -> binding ->
 * claims.  The VEK travels with the evidence; the AMD roots are pinned,
 * so `trust` is not used.
 */
#include "evidence/binding.h"
#include "evidence/snp/snp.h"
#include "vouch/evidence.h"

static vouch_err snp_verify(const struct vouch_verifier *self, void *trust,
                            const uint8_t *evidence, size_t evidence_len,
                            const struct vouch_binding *binding, int64_t now,
                            json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_snp_evidence ev = { 0 };
    const struct vouch_snp_report *r = &ev.report;
    vouch_err e;

    (void)self;
    (void)trust;
    e = vouch_snp_evidence_parse(evidence, evidence_len, &ev, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    if (!ev.vek) {
        e = vouch_fail_field(eb, VOUCH_E_NOT_FOUND, "cert_chain", "the evidence carries no "
                             "VCEK or VLEK certificate");
        goto out;
    }
    e = vouch_snp_verify_report(r, ev.vek, ev.extra, now, 0, eb);
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

const struct vouch_verifier vouch_verifier_snp = {
    .tee = "snp", .verify = snp_verify, .subject_claims = snp_subject,
};
