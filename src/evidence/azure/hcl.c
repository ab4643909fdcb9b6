/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HCL report: what Azure's paravisor (HCL) writes to the vTPM's NV
 * index 0x01400001.  A 32-byte "HCLA" header, the hardware report (a
 * 1184-byte SEV-SNP report, or a 1024-byte TD report and 160 zero bytes),
 * the IGVM request data header (data_size, version, report_type,
 * hash_type, var_size) and var_size bytes of runtime data (the runtime
 * claims JSON).  Read top to bottom with the bounded reader; offsets are
 * the named constants of azure.h.  The header is not covered by any
 * signature: only the hardware report is signed, and it binds the
 * runtime data by hash (checked by the verifiers).
 */
#include <string.h>

#include "common/reader.h"
#include "evidence/azure/azure.h"
#include "evidence/dcap/dcap.h"

#define HCL_DATA_HEADER_SIZE (VOUCH_HCL_OFF_VAR_DATA - VOUCH_HCL_OFF_DATA_SIZE)

static vouch_err read_u32(struct vouch_reader *rd, uint32_t *ret, const char *name,
                          struct vouch_errbuf *eb)
{
    size_t off = vouch_reader_offset(rd);

    if (vouch_reader_u32le(rd, ret))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: %s at 0x%zx: truncated", name, off);
    return VOUCH_OK;
}

/* "HCLA", version, report_size, request_type, status, reserved. */
static vouch_err read_header(struct vouch_reader *rd, struct vouch_azure_hcl *h,
                             struct vouch_errbuf *eb)
{
    const uint8_t *magic;
    vouch_err e;

    if (vouch_reader_bytes(rd, 4, &magic))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: %zu bytes", vouch_reader_left(rd));
    if (memcmp(magic, VOUCH_HCL_MAGIC, 4) != 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "HCL report: signature at 0x%x is not 'HCLA'",
                          VOUCH_HCL_OFF_SIGNATURE);
    if ((e = read_u32(rd, &h->version, "version", eb)) ||
        (e = read_u32(rd, &h->report_size, "report_size", eb)) ||
        (e = read_u32(rd, &h->request_type, "request_type", eb)) ||
        (e = read_u32(rd, &h->status, "status", eb)))
        return e;
    if (vouch_reader_skip(rd, VOUCH_HCL_OFF_HW_REPORT - VOUCH_HCL_OFF_RESERVED))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: reserved at 0x%x: truncated",
                          VOUCH_HCL_OFF_RESERVED);
    return VOUCH_OK;
}

/* data_size, version, report_type, hash_type, var_size, then the var data. */
static vouch_err read_request_data(struct vouch_reader *rd, uint32_t want_type,
                                   struct vouch_azure_hcl *h, struct vouch_errbuf *eb)
{
    vouch_err e;

    if ((e = read_u32(rd, &h->data_size, "data_size", eb)) ||
        (e = read_u32(rd, &h->data_version, "data version", eb)) ||
        (e = read_u32(rd, &h->report_type, "report_type", eb)) ||
        (e = read_u32(rd, &h->hash_type, "hash_type", eb)) ||
        (e = read_u32(rd, &h->var_size, "var_size", eb)))
        return e;
    if (h->report_type != want_type)
        return vouch_fail(eb, VOUCH_E_INVALID, "HCL report: report_type %u at 0x%x, expected "
                          "%u (%s)", h->report_type, VOUCH_HCL_OFF_REPORT_TYPE, want_type,
                          want_type == VOUCH_HCL_REPORT_TYPE_TDX ? "TDX" : "SEV-SNP");
    if (h->hash_type != VOUCH_HCL_HASH_TYPE_SHA256)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "HCL report: hash_type %u at 0x%x (1, "
                          "SHA-256, is known)", h->hash_type, VOUCH_HCL_OFF_HASH_TYPE);
    if (h->var_size > vouch_reader_left(rd))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: var_size %u at 0x%x, only %zu "
                          "bytes follow", h->var_size, VOUCH_HCL_OFF_VAR_SIZE,
                          vouch_reader_left(rd));
    /* var_size fits in the (capped) input: the sum cannot wrap. */
    if (h->data_size != HCL_DATA_HEADER_SIZE + h->var_size)
        return vouch_fail(eb, VOUCH_E_INVALID, "HCL report: data_size %u at 0x%x is not %u + "
                          "var_size %u", h->data_size, VOUCH_HCL_OFF_DATA_SIZE,
                          HCL_DATA_HEADER_SIZE, h->var_size);
    if (vouch_reader_bytes(rd, h->var_size, &h->var_data))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: var data truncated");
    return VOUCH_OK;
}

vouch_err vouch_azure_hcl_parse(const uint8_t *data, size_t len, uint32_t want_type,
                                struct vouch_azure_hcl *ret, struct vouch_errbuf *eb)
{
    struct vouch_azure_hcl h;
    struct vouch_reader rd;
    vouch_err e;

    if (len > VOUCH_HCL_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "HCL report: %zu bytes, at most %u", len,
                          VOUCH_HCL_MAX);
    memset(&h, 0, sizeof(h));
    vouch_reader_init(&rd, data, len);
    e = read_header(&rd, &h, eb);
    if (e)
        return e;
    if (vouch_reader_bytes(&rd, VOUCH_HCL_HW_REPORT_SIZE, &h.hw_report))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "HCL report: hardware report at 0x%x: "
                          "truncated", VOUCH_HCL_OFF_HW_REPORT);
    e = read_request_data(&rd, want_type, &h, eb);
    if (e)
        return e;
    /* What follows the var data is padding to the NV index's size: not read. */
    *ret = h;
    return VOUCH_OK;
}

vouch_err vouch_azure_td_report_match(const struct vouch_azure_hcl *hcl, const char *hname,
                                      const uint8_t *body, size_t body_len,
                                      struct vouch_errbuf *eb)
{
    const uint8_t *td = hcl->hw_report;

    if (td[VOUCH_TDREPORT_OFF_TYPE] != VOUCH_TDREPORT_TYPE_TDX)
        return vouch_fail_field(eb, VOUCH_E_INVALID, hname, "HCL report: the TD report's type "
                                "0x%02x is not TDX (0x81)", td[VOUCH_TDREPORT_OFF_TYPE]);
    if (body_len < VOUCH_DCAP_TD10_REPORT_LEN)
        return vouch_fail_field(eb, VOUCH_E_INVALID, "td_quote", "the TD quote's body is %zu "
                                "bytes, not a TD report", body_len);
    if (memcmp(td + VOUCH_TDREPORT_OFF_TEE_TCB_SVN, body + VOUCH_DCAP_TD_TEE_TCB_SVN,
               VOUCH_TDREPORT_TEE_TCB_LEN) != 0 ||
        memcmp(td + VOUCH_TDREPORT_OFF_TDINFO, body + VOUCH_DCAP_TD_TD_ATTRIBUTES,
               VOUCH_TDREPORT_TDINFO_LEN) != 0 ||
        memcmp(td + VOUCH_TDREPORT_OFF_REPORT_DATA, body + VOUCH_DCAP_TD_REPORT_DATA,
               VOUCH_TDREPORT_REPORT_DATA_LEN) != 0)
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the TD report in the HCL report is "
                                "not the one the TD quote was made from (its TCB, TD info or "
                                "REPORTDATA differ)");
    return VOUCH_OK;
}
