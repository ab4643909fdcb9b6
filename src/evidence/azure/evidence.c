/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trustee's evidence documents of Azure CVMs (az-snp-vtpm, az-tdx-vtpm).
 * Version 0 carries every byte string as an array of numbers; versions 1
 * and 2 carry the TPM quote in hex and the rest in base64url (padded).
 * trustee tells them apart by trying v2, v1, then v0; here "version"
 * decides: present (1 or 2) or absent (0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "evidence/azure/azure.h"
#include "evidence/dcap/dcap.h"

enum encoding { ENC_ARRAY, ENC_HEX, ENC_B64URL, ENC_TEXT };

static const char *encoding_name(enum encoding enc)
{
    switch (enc) {
    case ENC_ARRAY: return "an array of bytes";
    case ENC_HEX: return "hex";
    case ENC_B64URL: return "base64url";
    default: return "a string";
    }
}

/* A JSON array of numbers 0..255 (at most max), as bytes. */
static vouch_err array_bytes(const json_t *a, size_t max, uint8_t **ret, size_t *ret_len)
{
    size_t i, n = json_array_size(a);
    uint8_t *buf;

    if (!json_is_array(a) || n > max)
        return VOUCH_E_INVALID;
    buf = malloc(n ? n : 1);
    if (!buf)
        return VOUCH_E_NOMEM;
    for (i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;

        if (x < 0 || x > 255) {
            free(buf);
            return VOUCH_E_INVALID;
        }
        buf[i] = (uint8_t)x;
    }
    *ret = buf;
    *ret_len = n;
    return VOUCH_OK;
}

/* A string's bytes as they are (a PEM certificate). */
static vouch_err text_bytes(const json_t *s, size_t max, uint8_t **ret, size_t *ret_len)
{
    size_t n = json_string_length(s);
    uint8_t *buf;

    if (!json_is_string(s) || n > max)
        return VOUCH_E_INVALID;
    buf = malloc(n + 1);
    if (!buf)
        return VOUCH_E_NOMEM;
    memcpy(buf, json_string_value(s), n);
    buf[n] = '\0';
    *ret = buf;
    *ret_len = n;
    return VOUCH_OK;
}

/* The value `v` in encoding `enc`, at most `max` bytes; errors name `path`. */
static vouch_err value_bytes(const json_t *v, const char *path, enum encoding enc, size_t max,
                             uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    vouch_err e;

    if (!v)
        return vouch_fail_field(eb, VOUCH_E_INVALID, path, "'%s' is missing", path);
    if (enc == ENC_ARRAY)
        e = array_bytes(v, max, ret, ret_len);
    else if (enc == ENC_TEXT)
        e = text_bytes(v, max, ret, ret_len);
    else if (!s)
        e = VOUCH_E_INVALID;
    else if (enc == ENC_HEX)
        e = vouch_hex_decode(s, n, max, ret, ret_len, NULL);
    else
        e = vouch_b64_decode(s, n, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, max, ret, ret_len,
                             NULL);
    if (e == VOUCH_E_NOMEM)
        return vouch_fail(eb, e, "out of memory");
    if (e)
        return vouch_fail_field(eb, VOUCH_E_INVALID, path, "'%s' is not %s of at most %zu bytes",
                                path, encoding_name(enc), max);
    return VOUCH_OK;
}

static vouch_err member_bytes(const json_t *obj, const char *key, const char *path,
                              enum encoding enc, size_t max, uint8_t **ret, size_t *ret_len,
                              struct vouch_errbuf *eb)
{
    return value_bytes(json_object_get(obj, key), path, enc, max, ret, ret_len, eb);
}

/* "pcrs": exactly 24 values of 32 bytes. */
static vouch_err parse_pcrs(const json_t *quote, const char *qname, enum encoding enc,
                            struct vouch_azure_evidence *ev, struct vouch_errbuf *eb)
{
    const json_t *pcrs = json_object_get(quote, "pcrs");
    char path[48];
    uint8_t *b = NULL;
    size_t i, n = 0;
    vouch_err e;

    snprintf(path, sizeof(path), "%s.pcrs", qname);
    if (!json_is_array(pcrs) || json_array_size(pcrs) != 24)
        return vouch_fail_field(eb, VOUCH_E_INVALID, path, "'%s' is not an array of 24 PCR "
                                "values", path);
    for (i = 0; i < 24; i++) {
        snprintf(path, sizeof(path), "%s.pcrs[%zu]", qname, i);
        e = value_bytes(json_array_get(pcrs, i), path, enc, VOUCH_AZURE_PCR_SIZE, &b, &n, eb);
        if (e)
            return e;
        if (n != VOUCH_AZURE_PCR_SIZE) {
            free(b);
            return vouch_fail_field(eb, VOUCH_E_INVALID, path, "'%s' is %zu bytes, not 32", path,
                                    n);
        }
        memcpy(ev->pcrs[i], b, VOUCH_AZURE_PCR_SIZE);
        free(b);
    }
    return VOUCH_OK;
}

/* The TPM quote object: signature, message (TPMS_ATTEST), pcrs. */
static vouch_err parse_tpm_quote(const json_t *doc, const char *qname, enum encoding enc,
                                 struct vouch_azure_evidence *ev, struct vouch_errbuf *eb)
{
    const json_t *q = json_object_get(doc, qname);
    char path[48];
    vouch_err e;

    if (!json_is_object(q))
        return vouch_fail_field(eb, VOUCH_E_INVALID, qname, "'%s' is not an object", qname);
    snprintf(path, sizeof(path), "%s.signature", qname);
    e = member_bytes(q, "signature", path, enc, VOUCH_AZURE_TPM_SIG_MAX, &ev->tpm_signature,
                     &ev->tpm_signature_len, eb);
    if (e)
        return e;
    snprintf(path, sizeof(path), "%s.message", qname);
    e = member_bytes(q, "message", path, enc, VOUCH_AZURE_TPM_MSG_MAX, &ev->tpm_message,
                     &ev->tpm_message_len, eb);
    if (e)
        return e;
    return parse_pcrs(q, qname, enc, ev, eb);
}

/* "version": absent (0), 1 or 2. */
static vouch_err parse_version(const json_t *doc, unsigned *ret, struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(doc, "version");

    if (!v) {
        *ret = 0;
        return VOUCH_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 2)
        return vouch_fail_field(eb, VOUCH_E_INVALID, "version", "'version' is not 1 or 2");
    *ret = (unsigned)json_integer_value(v);
    return VOUCH_OK;
}

static vouch_err parse_doc(const json_t *doc, enum vouch_azure_kind kind,
                           struct vouch_azure_evidence *ev, struct vouch_errbuf *eb)
{
    bool v0, snp = kind == VOUCH_AZURE_SNP;
    const char *qname, *hname, *pname;
    vouch_err e;

    if (!json_is_object(doc))
        return vouch_fail(eb, VOUCH_E_INVALID, "evidence is not a JSON object");
    e = parse_version(doc, &ev->version, eb);
    if (e)
        return e;
    v0 = ev->version == 0;
    /* Version 0 of az-snp-vtpm names its members differently. */
    qname = v0 && snp ? "quote" : "tpm_quote";
    hname = v0 && snp ? "report" : "hcl_report";
    pname = snp ? "vcek" : "td_quote";
    ev->quote_name = qname;
    ev->hcl_name = hname;
    e = parse_tpm_quote(doc, qname, v0 ? ENC_ARRAY : ENC_HEX, ev, eb);
    if (!e)
        e = member_bytes(doc, hname, hname, v0 ? ENC_ARRAY : ENC_B64URL, VOUCH_HCL_MAX,
                         &ev->hcl_report, &ev->hcl_report_len, eb);
    if (!e)
        e = member_bytes(doc, pname, pname,
                         v0 ? (snp ? ENC_TEXT : ENC_ARRAY) : ENC_B64URL,
                         snp ? VOUCH_AZURE_VCEK_MAX : VOUCH_DCAP_QUOTE_MAX, &ev->platform,
                         &ev->platform_len, eb);
    return e;
}

vouch_err vouch_azure_evidence_parse(const uint8_t *doc, size_t len, enum vouch_azure_kind kind,
                                     struct vouch_azure_evidence *ret, struct vouch_errbuf *eb)
{
    struct vouch_azure_evidence ev;
    json_t *j = NULL;
    vouch_err e;

    memset(&ev, 0, sizeof(ev));
    if (len > VOUCH_AZURE_EVIDENCE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "evidence is over %u bytes",
                          VOUCH_AZURE_EVIDENCE_MAX);
    e = vouch_json_parse(doc, len, &j, eb);
    if (e)
        return e;
    e = parse_doc(j, kind, &ev, eb);
    json_decref(j);
    if (e) {
        vouch_azure_evidence_done(&ev);
        return e;
    }
    *ret = ev;
    return VOUCH_OK;
}

void vouch_azure_evidence_done(struct vouch_azure_evidence *ev)
{
    if (!ev)
        return;
    free(ev->tpm_message);
    free(ev->tpm_signature);
    free(ev->hcl_report);
    free(ev->platform);
    memset(ev, 0, sizeof(*ev));
}
