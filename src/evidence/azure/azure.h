/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_AZURE_H
#define VOUCH_EVIDENCE_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * Azure confidential VMs (tee=az-snp-vtpm, tee=az-tdx-vtpm): a quote of
 * the VM's vTPM, signed by its attestation key (AK), whose public key the
 * paravisor (HCL) put into the runtime data of the HCL report; the
 * runtime data's SHA-256 is in the REPORT_DATA of the SEV-SNP report (or
 * the TD report) that the HCL report carries.  What is checked, in which
 * order, and the claims: docs/azure.md.
 *
 *   vouch_azure_hcl_parse       the HCL report ("HCLA" header, hardware
 *                               report, IGVM request data, runtime data)
 *   vouch_azure_evidence_parse  trustee's evidence document, versions 0..2
 *   vouch_azure_vtpm_verify     AK from the runtime data, quote signature,
 *                               nonce, PCRs, v2 user-data, PCR8 init data
 *   vouch_azure_tpm_claims      {"pcr00": hex, ..., "pcr23": hex}
 */

/* ------------------------------------------------------------------ */
/* HCL report (little-endian)                                          */

#define VOUCH_HCL_MAGIC "HCLA"
#define VOUCH_HCL_OFF_SIGNATURE 0x000u      /* "HCLA" */
#define VOUCH_HCL_OFF_VERSION 0x004u
#define VOUCH_HCL_OFF_REPORT_SIZE 0x008u
#define VOUCH_HCL_OFF_REQUEST_TYPE 0x00Cu
#define VOUCH_HCL_OFF_STATUS 0x010u
#define VOUCH_HCL_OFF_RESERVED 0x014u       /* 12 bytes */
#define VOUCH_HCL_OFF_HW_REPORT 0x020u      /* SNP report, or TD report + zeros */
#define VOUCH_HCL_HW_REPORT_SIZE 1184u
#define VOUCH_HCL_OFF_DATA_SIZE 0x4C0u      /* IGVM request data: 20-byte header + var data */
#define VOUCH_HCL_OFF_DATA_VERSION 0x4C4u
#define VOUCH_HCL_OFF_REPORT_TYPE 0x4C8u
#define VOUCH_HCL_OFF_HASH_TYPE 0x4CCu
#define VOUCH_HCL_OFF_VAR_SIZE 0x4D0u
#define VOUCH_HCL_OFF_VAR_DATA 0x4D4u       /* runtime-claims JSON, then zero padding */

#define VOUCH_HCL_REPORT_TYPE_SNP 2u
#define VOUCH_HCL_REPORT_TYPE_TDX 4u
#define VOUCH_HCL_HASH_TYPE_SHA256 1u

/* Cap on an HCL report (Azure's NV index holds 2600 bytes). */
#define VOUCH_HCL_MAX (16u * 1024)

/* TD report (TDREPORT_STRUCT) inside the HCL report. */
#define VOUCH_TDREPORT_SIZE 1024u
#define VOUCH_TDREPORT_OFF_TYPE 0u          /* REPORTMACSTRUCT.REPORTTYPE: 0x81 = TDX */
#define VOUCH_TDREPORT_OFF_REPORT_DATA 128u
#define VOUCH_TDREPORT_REPORT_DATA_LEN 64u
#define VOUCH_TDREPORT_OFF_TEE_TCB_SVN 264u /* TEE_TCB_INFO after its 8-byte VALID mask */
#define VOUCH_TDREPORT_OFF_TDINFO 512u
#define VOUCH_TDREPORT_TYPE_TDX 0x81u
/* Bytes of TEE_TCB_INFO the quote body repeats: svn, MRSEAM, MRSIGNERSEAM, attributes. */
#define VOUCH_TDREPORT_TEE_TCB_LEN 120u
/* Bytes of TDINFO the quote body repeats: attributes .. RTMR3. */
#define VOUCH_TDREPORT_TDINFO_LEN 400u

struct vouch_azure_hcl {
    uint32_t version, report_size, request_type, status;
    const uint8_t *hw_report;       /* VOUCH_HCL_HW_REPORT_SIZE bytes */
    uint32_t data_size, data_version, report_type, hash_type;
    const uint8_t *var_data;        /* var_size bytes: the runtime claims */
    uint32_t var_size;
};

/*
 * Parse an HCL report (zero-copy: *ret points into `data`).  Checks the
 * magic, that the variable data fits in the input, report_type ==
 * `want_type` (VOUCH_HCL_REPORT_TYPE_*), hash_type SHA-256 and
 * data_size == 20 + var_size.  Errors name the field's offset.
 */
vouch_err vouch_azure_hcl_parse(const uint8_t *data, size_t len, uint32_t want_type,
                                struct vouch_azure_hcl *ret, struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* Evidence documents                                                  */

#define VOUCH_AZURE_EVIDENCE_MAX (512u * 1024)
#define VOUCH_AZURE_TPM_MSG_MAX 1024u
#define VOUCH_AZURE_TPM_SIG_MAX 512u
#define VOUCH_AZURE_VCEK_MAX (3u * 8192)
#define VOUCH_AZURE_PCR_SIZE 32u

enum vouch_azure_kind { VOUCH_AZURE_SNP, VOUCH_AZURE_TDX };

struct vouch_azure_evidence {
    unsigned version;               /* 0, 1 or 2 (2 checks the HCL user-data) */
    const char *quote_name;         /* the quote's member: "quote" (v0 snp) or "tpm_quote" */
    const char *hcl_name;           /* "report" (v0 snp) or "hcl_report" */
    uint8_t *tpm_message, *tpm_signature;
    size_t tpm_message_len, tpm_signature_len;
    uint8_t pcrs[24][VOUCH_AZURE_PCR_SIZE];
    uint8_t *hcl_report;
    size_t hcl_report_len;
    /* SNP: the VCEK (DER, or PEM in version 0); TDX: the TD quote. */
    uint8_t *platform;
    size_t platform_len;
};

/*
 * Parse trustee's evidence of an Azure CVM:
 *   v0 snp: {"quote": {"signature": [u8], "message": [u8], "pcrs": [[u8 x32] x24]},
 *            "report": [u8], "vcek": "PEM"}
 *   v0 tdx: {"tpm_quote": {...as above}, "hcl_report": [u8], "td_quote": [u8]}
 *   v1, v2: {"version": 1|2, "tpm_quote": {"signature": hex, "message": hex,
 *            "pcrs": [hex x24]}, "hcl_report": b64url, "vcek"|"td_quote": b64url}
 * Errors name the field at fault.  Free with vouch_azure_evidence_done().
 */
vouch_err vouch_azure_evidence_parse(const uint8_t *doc, size_t len, enum vouch_azure_kind kind,
                                     struct vouch_azure_evidence *ret, struct vouch_errbuf *eb);
void vouch_azure_evidence_done(struct vouch_azure_evidence *ev);

/* ------------------------------------------------------------------ */
/* The vTPM side                                                       */

struct vouch_azure_vtpm {
    uint8_t nonce[66];              /* the quote's extraData (a TPM2B of at most 66 bytes) */
    size_t nonce_len;
};

/*
 * Everything the vTPM quote and the HCL runtime data must agree on, in
 * this order:
 *   1. the runtime data is JSON whose "keys" hold the RSA JWK "HCLAkPub";
 *   2. the quote (TPMS_ATTEST) is signed by that AK, RSASSA-PKCS1-v1_5 with
 *      SHA-256 (VOUCH_E_VERIFY);
 *   3. its extraData equals `nonce` exactly when nonce is not NULL
 *      (VOUCH_E_BINDING);
 *   4. it selects exactly PCRs 0..23 of the SHA-256 bank, and the 24 PCR
 *      values hash to its pcrDigest (VOUCH_E_VERIFY);
 *   5. version 2: the runtime data's "user-data" (64 bytes, hex) begins with
 *      extraData (VOUCH_E_VERIFY);
 *   6. `init_data` (not NULL): 32 bytes, and PCR8 == SHA-256(32 zero bytes ||
 *      init_data) (VOUCH_E_BINDING, sub-code init_data).
 * The HCL binding (SHA-256 of the runtime data in REPORT_DATA) is the
 * caller's, as it knows which hardware report holds it.
 */
vouch_err vouch_azure_vtpm_verify(const struct vouch_azure_evidence *ev,
                                  const struct vouch_azure_hcl *hcl, const uint8_t *nonce,
                                  size_t nonce_len, const uint8_t *init_data,
                                  size_t init_data_len, struct vouch_azure_vtpm *ret,
                                  struct vouch_errbuf *eb);

/*
 * SHA-256 of the runtime data == the first 32 bytes of `report_data` (the
 * hardware report's, `what`); otherwise VOUCH_E_VERIFY at field `hname`.
 */
vouch_err vouch_azure_hcl_binding(const struct vouch_azure_hcl *hcl, const char *hname,
                                  const uint8_t *report_data, const char *what,
                                  struct vouch_errbuf *eb);

/*
 * Add the claims of the vTPM side to `claims`, as trustee names them:
 * "tpm": {"pcr00": hex, ..., "pcr23": hex}, "report_data": hex(nonce),
 * "init_data": hex(PCR8).
 */
vouch_err vouch_azure_tpm_claims(const struct vouch_azure_evidence *ev,
                                 const struct vouch_azure_vtpm *vt, json_t *claims,
                                 struct vouch_errbuf *eb);

/* ------------------------------------------------------------------ */
/* The hardware side                                                   */

struct vouch_snp_report;

/*
 * The claims of an az-snp-vtpm guest's SEV-SNP report as trustee writes
 * them: the snp names without chip_id, every value a string, the
 * measurement in standard base64.
 */
vouch_err vouch_azure_snp_claims(const struct vouch_snp_report *r, json_t **ret,
                                 struct vouch_errbuf *eb);

/*
 * The TD report in the HCL report is the one the TD quote was made from:
 * its type is TDX, and its REPORTDATA, TEE_TCB_INFO (SVN, MRSEAM,
 * MRSIGNERSEAM, SEAM attributes) and TDINFO (attributes .. RTMR3) equal
 * the quote body's 584 bytes (`body`, the TDX 1.0 layout every TD quote
 * body begins with).  VOUCH_E_VERIFY at field `hname` otherwise.
 */
vouch_err vouch_azure_td_report_match(const struct vouch_azure_hcl *hcl, const char *hname,
                                      const uint8_t *body, size_t body_len,
                                      struct vouch_errbuf *eb);

#endif
