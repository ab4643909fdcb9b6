/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims of a verified report, named as trustee's snp verifier names them
 * (the service adds the "snp." prefix): numbers, booleans and lower-case
 * hex, plus report_data and init_data (HOST_DATA) for the binding rules.
 */
#include "common/json.h"
#include "evidence/snp/snp.h"

#define POLICY_ABI_MINOR(p) ((int64_t)((p) & 0xFF))
#define POLICY_ABI_MAJOR(p) ((int64_t)(((p) >> 8) & 0xFF))

vouch_err vouch_snp_claims(const struct vouch_snp_report *r, json_t **ret,
                           struct vouch_errbuf *eb)
{
    json_t *c = json_object();
    const struct vouch_snp_tcb *t = &r->reported_tcb;

    if (!c || vouch_json_set_int(c, "policy_abi_major", POLICY_ABI_MAJOR(r->policy)) ||
        vouch_json_set_int(c, "policy_abi_minor", POLICY_ABI_MINOR(r->policy)) ||
        vouch_json_set_bool(c, "policy_smt_allowed", r->policy & VOUCH_SNP_POLICY_SMT) ||
        vouch_json_set_bool(c, "policy_migrate_ma", r->policy & VOUCH_SNP_POLICY_MIGRATE_MA) ||
        vouch_json_set_bool(c, "policy_debug_allowed", r->policy & VOUCH_SNP_POLICY_DEBUG) ||
        vouch_json_set_bool(c, "policy_single_socket",
                            r->policy & VOUCH_SNP_POLICY_SINGLE_SOCKET) ||
        vouch_json_set_int(c, "reported_tcb_bootloader", t->bootloader) ||
        vouch_json_set_int(c, "reported_tcb_tee", t->tee) ||
        vouch_json_set_int(c, "reported_tcb_snp", t->snp) ||
        vouch_json_set_int(c, "reported_tcb_microcode", t->microcode) ||
        vouch_json_set_bool(c, "platform_tsme_enabled",
                            r->platform_info & VOUCH_SNP_PLAT_TSME_EN) ||
        vouch_json_set_bool(c, "platform_smt_enabled", r->platform_info & VOUCH_SNP_PLAT_SMT_EN) ||
        vouch_json_set_hex(c, "measurement", r->measurement, sizeof(r->measurement)) ||
        vouch_json_set_hex(c, "report_data", r->report_data, sizeof(r->report_data)) ||
        vouch_json_set_hex(c, "init_data", r->host_data, sizeof(r->host_data)) ||
        vouch_json_set_hex(c, "chip_id", r->chip_id, sizeof(r->chip_id))) {
        json_decref(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (t->has_fmc && vouch_json_set_int(c, "reported_tcb_fmc", t->fmc)) {
        json_decref(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = c;
    return VOUCH_OK;
}
