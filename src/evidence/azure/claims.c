/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims of an az-snp-vtpm guest's SEV-SNP report, as trustee's
 * az-snp-vtpm verifier names and writes them: the snp verifier's names
 * without chip_id, every value a string (numbers in decimal, booleans
 * "true"/"false"), the measurement in standard base64.  report_data and
 * init_data come from the vTPM side (vouch_azure_tpm_claims).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/azure/azure.h"
#include "evidence/snp/snp.h"

static vouch_err set_u64(json_t *c, const char *key, uint64_t v)
{
    char s[24];

    snprintf(s, sizeof(s), "%" PRIu64, v);
    return vouch_json_set_str(c, key, s);
}

static vouch_err set_flag(json_t *c, const char *key, bool v)
{
    return vouch_json_set_str(c, key, v ? "true" : "false");
}

vouch_err vouch_azure_snp_claims(const struct vouch_snp_report *r, json_t **ret,
                                 struct vouch_errbuf *eb)
{
    const struct vouch_snp_tcb *t = &r->reported_tcb;
    char *meas = vouch_b64_alloc(r->measurement, sizeof(r->measurement), VOUCH_B64_STD);
    json_t *c = json_object();

    if (!meas || !c || set_u64(c, "policy_abi_major", (r->policy >> 8) & 0xFF) ||
        set_u64(c, "policy_abi_minor", r->policy & 0xFF) ||
        set_flag(c, "policy_smt_allowed", r->policy & VOUCH_SNP_POLICY_SMT) ||
        set_flag(c, "policy_migrate_ma", r->policy & VOUCH_SNP_POLICY_MIGRATE_MA) ||
        set_flag(c, "policy_debug_allowed", r->policy & VOUCH_SNP_POLICY_DEBUG) ||
        set_flag(c, "policy_single_socket", r->policy & VOUCH_SNP_POLICY_SINGLE_SOCKET) ||
        set_u64(c, "reported_tcb_bootloader", t->bootloader) ||
        set_u64(c, "reported_tcb_tee", t->tee) ||
        set_u64(c, "reported_tcb_snp", t->snp) ||
        set_u64(c, "reported_tcb_microcode", t->microcode) ||
        set_flag(c, "platform_tsme_enabled", r->platform_info & VOUCH_SNP_PLAT_TSME_EN) ||
        set_flag(c, "platform_smt_enabled", r->platform_info & VOUCH_SNP_PLAT_SMT_EN) ||
        vouch_json_set_str(c, "measurement", meas)) {
        free(meas);
        json_decref(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    free(meas);
    *ret = c;
    return VOUCH_OK;
}
