/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Claims named and nested as confidential-containers/trustee names them
 * (deps/verifier/src/{tdx,sgx}/claims.rs, intel_dcap/claims.rs; listed in
 * docs/dcap.md, Claims).  Binary fields are lower-case hex of
 * the bytes as they sit in the quote.
 */
#include <string.h>

#include "common/json.h"
#include "common/time.h"
#include "evidence/dcap/dcap.h"

struct field {
    const char *name;
    size_t off, len;
};

static const struct field td_fields[] = {
    { "tcb_svn", VOUCH_DCAP_TD_TEE_TCB_SVN, 16 },
    { "mr_seam", VOUCH_DCAP_TD_MR_SEAM, 48 },
    { "mrsigner_seam", VOUCH_DCAP_TD_MRSIGNER_SEAM, 48 },
    { "seam_attributes", VOUCH_DCAP_TD_SEAM_ATTRIBUTES, 8 },
    { "td_attributes", VOUCH_DCAP_TD_TD_ATTRIBUTES, 8 },
    { "xfam", VOUCH_DCAP_TD_XFAM, 8 },
    { "mr_td", VOUCH_DCAP_TD_MR_TD, 48 },
    { "mr_config_id", VOUCH_DCAP_TD_MR_CONFIG_ID, 48 },
    { "mr_owner", VOUCH_DCAP_TD_MR_OWNER, 48 },
    { "mr_owner_config", VOUCH_DCAP_TD_MR_OWNER_CONFIG, 48 },
    { "rtmr_0", VOUCH_DCAP_TD_RTMR0, 48 },
    { "rtmr_1", VOUCH_DCAP_TD_RTMR0 + 48, 48 },
    { "rtmr_2", VOUCH_DCAP_TD_RTMR0 + 96, 48 },
    { "rtmr_3", VOUCH_DCAP_TD_RTMR0 + 144, 48 },
    { "report_data", VOUCH_DCAP_TD_REPORT_DATA, 64 },
};

static const struct field td15_fields[] = {
    { "tee_tcb_svn2", VOUCH_DCAP_TD_TEE_TCB_SVN2, 16 },
    { "mr_servicetd", VOUCH_DCAP_TD_MR_SERVICETD, 48 },
};

static const struct field sgx_fields[] = {
    { "cpu_svn", VOUCH_DCAP_SGX_CPU_SVN, 16 },
    { "misc_select", VOUCH_DCAP_SGX_MISC_SELECT, 4 },
    { "reserved1", VOUCH_DCAP_SGX_RESERVED1, 12 },
    { "isv_ext_prod_id", VOUCH_DCAP_SGX_ISV_EXT_PROD_ID, 16 },
    { "attributes.flags", VOUCH_DCAP_SGX_ATTRIBUTES, 8 },
    { "attributes.xfrm", VOUCH_DCAP_SGX_ATTRIBUTES + 8, 8 },
    { "mr_enclave", VOUCH_DCAP_SGX_MR_ENCLAVE, 32 },
    { "reserved2", VOUCH_DCAP_SGX_RESERVED2, 32 },
    { "mr_signer", VOUCH_DCAP_SGX_MR_SIGNER, 32 },
    { "reserved3", VOUCH_DCAP_SGX_RESERVED3, 32 },
    { "config_id", VOUCH_DCAP_SGX_CONFIG_ID, 64 },
    { "isv_prod_id", VOUCH_DCAP_SGX_ISV_PROD_ID, 2 },
    { "isv_svn", VOUCH_DCAP_SGX_ISV_SVN, 2 },
    { "config_svn", VOUCH_DCAP_SGX_CONFIG_SVN, 2 },
    { "reserved4", VOUCH_DCAP_SGX_RESERVED4, 42 },
    { "isv_family_id", VOUCH_DCAP_SGX_ISV_FAMILY_ID, 16 },
    { "report_data", VOUCH_DCAP_SGX_REPORT_DATA, 64 },
};

static int put_fields(json_t *obj, const uint8_t *base, const struct field *f, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (vouch_json_set_hex(obj, f[i].name, base + f[i].off, f[i].len))
            return -1;
    return 0;
}

static int put_date(json_t *obj, const char *key, int64_t t)
{
    char buf[VOUCH_RFC3339_LEN];

    vouch_time_format_rfc3339(t, buf);
    return vouch_json_set_str(obj, key, buf) ? -1 : 0;
}

static int tdx_claims(json_t *c, const struct vouch_dcap_quote *q)
{
    json_t *quote = json_object(), *hdr = json_object(), *body = json_object();
    json_t *attrs = json_object();
    const uint8_t *h = q->header;
    uint64_t a = 0;
    int i;

    if (vouch_json_set_new(c, "quote", quote) || vouch_json_set_new(quote, "header", hdr) ||
        vouch_json_set_new(quote, "body", body) ||
        vouch_json_set_new(c, "td_attributes", attrs)) {
        return -1;
    }
    if (vouch_json_set_hex(hdr, "version", h, 2) ||
        vouch_json_set_hex(hdr, "att_key_type", h + 2, 2) ||
        vouch_json_set_hex(hdr, "tee_type", h + 4, 4) ||
        vouch_json_set_hex(hdr, "reserved", h + 8, 4) ||
        vouch_json_set_hex(hdr, "vendor_id", h + 12, 16) ||
        vouch_json_set_hex(hdr, "user_data", h + 28, 20))
        return -1;
    if (q->body_descriptor &&
        (vouch_json_set_hex(quote, "type", q->body_descriptor, 2) ||
         vouch_json_set_hex(quote, "size", q->body_descriptor + 2, 4)))
        return -1;
    if (put_fields(body, q->body, td_fields, sizeof(td_fields) / sizeof(td_fields[0])))
        return -1;
    if (q->body_type == VOUCH_DCAP_BODY_TD15 &&
        put_fields(body, q->body, td15_fields, sizeof(td15_fields) / sizeof(td15_fields[0])))
        return -1;
    for (i = 7; i >= 0; i--)
        a = (a << 8) | q->body[VOUCH_DCAP_TD_TD_ATTRIBUTES + i];
    if (vouch_json_set_bool(attrs, "debug", a & VOUCH_DCAP_TD_ATTR_DEBUG) ||
        vouch_json_set_bool(attrs, "key_locker", a & VOUCH_DCAP_TD_ATTR_KL) ||
        vouch_json_set_bool(attrs, "perfmon", a & VOUCH_DCAP_TD_ATTR_PERFMON) ||
        vouch_json_set_bool(attrs, "protection_keys", a & VOUCH_DCAP_TD_ATTR_PKS) ||
        vouch_json_set_bool(attrs, "septve_disable", a & VOUCH_DCAP_TD_ATTR_SEPT_VE_DISABLE))
        return -1;
    return 0;
}

static int sgx_claims(json_t *c, const struct vouch_dcap_quote *q)
{
    json_t *hdr = json_object(), *body = json_object();
    const uint8_t *h = q->header;

    if (vouch_json_set_new(c, "header", hdr) || vouch_json_set_new(c, "body", body))
        return -1;
    if (vouch_json_set_hex(hdr, "version", h, 2) ||
        vouch_json_set_hex(hdr, "att_key_type", h + 2, 2) ||
        vouch_json_set_hex(hdr, "att_key_data_0", h + 4, 4) ||
        vouch_json_set_hex(hdr, "qe_svn", h + 8, 2) ||
        vouch_json_set_hex(hdr, "pce_svn", h + 10, 2) ||
        vouch_json_set_hex(hdr, "vendor_id", h + 12, 16) ||
        vouch_json_set_hex(hdr, "user_data", h + 28, 20))
        return -1;
    return put_fields(body, q->body, sgx_fields, sizeof(sgx_fields) / sizeof(sgx_fields[0]));
}

static const char *sgx_type_name(int t)
{
    switch (t) {
    case 0: return "Standard";
    case 1: return "Scalable";
    case 2: return "Scalable with Integrity";
    default: return "Unknown";
    }
}

static int supplemental(json_t *c, const struct vouch_dcap_result *r)
{
    json_t *ids = r->advisory_ids ? json_deep_copy(r->advisory_ids) : json_array();

    if (vouch_json_set_str(c, "tcb_status", vouch_dcap_status_name(r->status)) ||
        vouch_json_set_new(c, "advisory_ids", ids) ||
        vouch_json_set_str(c, "collateral_expiration_status",
                           r->collateral_expired ? "1" : "0") ||
        put_date(c, "tcb_date", r->tcb_date) ||
        vouch_json_set_int(c, "tcb_eval_num", r->tcb_eval_num) ||
        put_date(c, "earliest_issue_date", r->earliest_issue_date) ||
        put_date(c, "latest_issue_date", r->latest_issue_date) ||
        put_date(c, "earliest_expiration_date", r->earliest_expiration_date) ||
        vouch_json_set_int(c, "pck_crl_num", r->pck_crl_num) ||
        vouch_json_set_int(c, "root_ca_crl_num", r->root_ca_crl_num) ||
        vouch_json_set_hex(c, "root_key_id", r->root_key_id, 48) ||
        vouch_json_set_hex(c, "platform_provider_id", r->pck.ppid, 16) ||
        vouch_json_set_hex(c, "fmspc", r->pck.fmspc, 6) ||
        vouch_json_set_hex(c, "pce_id", r->pck.pce_id, 2) ||
        vouch_json_set_str(c, "sgx_type", sgx_type_name(r->pck.sgx_type)))
        return -1;
    if (r->pck.sgx_type > 0 &&
        (vouch_json_set_bool(c, "is_dynamic_platform", r->pck.dynamic_platform) ||
         vouch_json_set_bool(c, "is_cached_keys", r->pck.cached_keys) ||
         vouch_json_set_bool(c, "is_smt_enabled", r->pck.smt_enabled)))
        return -1;
    return 0;
}

vouch_err vouch_dcap_claims(const struct vouch_dcap_quote *q,
                            const struct vouch_dcap_pck_info *pck,
                            const struct vouch_dcap_result *r, json_t **ret,
                            struct vouch_errbuf *eb)
{
    json_t *c = json_object();
    const uint8_t *init;
    size_t init_len;
    int rc;

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (q->body_type == VOUCH_DCAP_BODY_SGX)
        rc = sgx_claims(c, q);
    else
        rc = tdx_claims(c, q);
    init = vouch_dcap_init_data(q, &init_len);
    if (!rc)
        rc = vouch_json_set_hex(c, "report_data", vouch_dcap_report_data(q), 64) ||
             vouch_json_set_hex(c, "init_data", init, init_len);
    if (!rc && pck && pck->has_platform_instance_id) {
        /* trustee renders the 16 bytes in reverse order; its policies expect that. */
        uint8_t piid[16];
        int i;

        for (i = 0; i < 16; i++)
            piid[i] = pck->platform_instance_id[15 - i];
        rc = vouch_json_set_hex(c, "platform_instance_id", piid, 16);
    }
    if (!rc && r)
        rc = supplemental(c, r);
    if (rc) {
        json_decref(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "claims: out of memory");
    }
    *ret = c;
    return VOUCH_OK;
}
