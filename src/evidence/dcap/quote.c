/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP quote parser: SGX v3, TDX v4 and v5 (the layouts of Intel's SGX
 * and TDX DCAP quote specifications; offsets named in dcap.h).  Zero-copy
 * over the bounds-checked reader.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/reader.h"
#include "evidence/dcap/dcap.h"

static const uint8_t intel_qe_vendor[16] = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
    0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

/* Signature data: its u32 size, then the quote signature and the attestation key. */
#define SIG_DATA_SIZE_LEN 4

static vouch_err truncated(struct vouch_errbuf *eb, const struct vouch_reader *r,
                       const char *what)
{
    return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: %s truncated at offset %zu", what,
                      vouch_reader_offset(r));
}

/*
 * QE report, its signature, the auth data and the inner certification data:
 * the v3 tail, and the content of v4/v5's type-6 certification data.
 */
static vouch_err parse_qe_part(struct vouch_reader *r, struct vouch_dcap_quote *q,
                               struct vouch_errbuf *eb)
{
    uint32_t size;

    if (vouch_reader_bytes(r, VOUCH_DCAP_SGX_REPORT_LEN, &q->qe_report))
        return truncated(eb, r, "QE report");
    if (vouch_reader_bytes(r, VOUCH_DCAP_SIG_LEN, &q->qe_report_sig))
        return truncated(eb, r, "QE report signature");
    if (vouch_reader_u16le(r, &q->qe_auth_len))
        return truncated(eb, r, "QE auth data size");
    if (vouch_reader_bytes(r, q->qe_auth_len, &q->qe_auth_data))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: QE auth data of %u bytes "
                          "overruns the signature data at offset %zu", q->qe_auth_len,
                          (size_t)(r->p - q->raw));
    if (vouch_reader_u16le(r, &q->cert_type))
        return truncated(eb, r, "certification data type");
    if (q->cert_type < VOUCH_DCAP_CERT_PPID_CLEARTEXT || q->cert_type > VOUCH_DCAP_CERT_PCK_CHAIN)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: certification data type %u is not "
                          "1..5", q->cert_type);
    if (vouch_reader_u32le(r, &size))
        return truncated(eb, r, "certification data size");
    if (vouch_reader_bytes(r, size, &q->cert_data))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: certification data of %u bytes "
                          "overruns the signature data", size);
    q->cert_len = size;
    if (!vouch_reader_done(r))
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: %zu unexpected bytes after the "
                          "certification data", vouch_reader_left(r));
    return VOUCH_OK;
}

/* The 48-byte header: version, key type, TEE type, SVNs, QE vendor, user data. */
static vouch_err parse_header(struct vouch_reader *r, struct vouch_dcap_quote *q,
                              struct vouch_errbuf *eb)
{
    if (vouch_reader_peek(r, VOUCH_DCAP_HEADER_LEN, &q->header))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: %zu bytes, shorter than the "
                          "%d-byte header", q->raw_len, VOUCH_DCAP_HEADER_LEN);
    (void)vouch_reader_u16le(r, &q->version);
    (void)vouch_reader_u16le(r, &q->att_key_type);
    (void)vouch_reader_u32le(r, &q->tee_type);
    (void)vouch_reader_u16le(r, &q->qe_svn);
    (void)vouch_reader_u16le(r, &q->pce_svn);
    (void)vouch_reader_bytes(r, sizeof(intel_qe_vendor), &q->qe_vendor_id);
    (void)vouch_reader_bytes(r, VOUCH_DCAP_USER_DATA_LEN, &q->user_data);

    if (q->version < 3 || q->version > 5)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "quote: version %u (expected 3, 4 or 5)",
                          q->version);
    if (q->att_key_type != VOUCH_DCAP_ATT_KEY_ECDSA_P256)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "quote: attestation key type %u (only 2, "
                          "ECDSA-256 with P-256, is supported)", q->att_key_type);
    if (q->tee_type != VOUCH_DCAP_TEE_SGX && q->tee_type != VOUCH_DCAP_TEE_TDX)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "quote: TEE type 0x%08x", q->tee_type);
    if (q->version == 3 && q->tee_type != VOUCH_DCAP_TEE_SGX)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: version 3 with TEE type 0x%08x "
                          "(v3 is SGX only)", q->tee_type);
    if (memcmp(q->qe_vendor_id, intel_qe_vendor, sizeof(intel_qe_vendor)) != 0)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: QE vendor id is not Intel's");
    return VOUCH_OK;
}

/* v5's body descriptor (type, size); before v5 the TEE type implies the body. */
static vouch_err parse_body_type(struct vouch_reader *r, struct vouch_dcap_quote *q,
                                 struct vouch_errbuf *eb)
{
    size_t len;

    if (q->version != 5) {
        q->body_type = q->tee_type == VOUCH_DCAP_TEE_SGX ? VOUCH_DCAP_BODY_SGX
                                                         : VOUCH_DCAP_BODY_TD10;
        q->body_size = q->tee_type == VOUCH_DCAP_TEE_SGX ? VOUCH_DCAP_SGX_REPORT_LEN
                                                         : VOUCH_DCAP_TD10_REPORT_LEN;
        return VOUCH_OK;
    }
    q->body_descriptor = r->p;
    if (vouch_reader_u16le(r, &q->body_type) || vouch_reader_u32le(r, &q->body_size))
        return truncated(eb, r, "body descriptor");
    switch (q->body_type) {
    case VOUCH_DCAP_BODY_SGX: len = VOUCH_DCAP_SGX_REPORT_LEN; break;
    case VOUCH_DCAP_BODY_TD10: len = VOUCH_DCAP_TD10_REPORT_LEN; break;
    case VOUCH_DCAP_BODY_TD15: len = VOUCH_DCAP_TD15_REPORT_LEN; break;
    default:
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "quote: body type %u", q->body_type);
    }
    if (q->body_size != len)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: body type %u with size %u "
                          "(expected %zu)", q->body_type, q->body_size, len);
    if ((q->tee_type == VOUCH_DCAP_TEE_SGX) != (q->body_type == VOUCH_DCAP_BODY_SGX))
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: body type %u does not match TEE "
                          "type 0x%08x", q->body_type, q->tee_type);
    return VOUCH_OK;
}

/* v4/v5: the outer type-6 certification data holds the QE part. */
static vouch_err parse_qe_cert_data(struct vouch_reader *sig, struct vouch_dcap_quote *q,
                                    struct vouch_errbuf *eb)
{
    struct vouch_reader inner;
    uint16_t type;
    uint32_t size;

    if (vouch_reader_u16le(sig, &type))
        return truncated(eb, sig, "certification data type");
    if (type != VOUCH_DCAP_CERT_QE_REPORT)
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: outer certification data type "
                          "%u (v4/v5 need %d, QE report)", type, VOUCH_DCAP_CERT_QE_REPORT);
    if (vouch_reader_u32le(sig, &size))
        return truncated(eb, sig, "certification data size");
    if (vouch_reader_sub(sig, size, &inner))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: QE report certification data "
                          "of %u bytes overruns the signature data", size);
    if (!vouch_reader_done(sig))
        return vouch_fail(eb, VOUCH_E_INVALID, "quote: %zu unexpected bytes after the "
                          "certification data", vouch_reader_left(sig));
    return parse_qe_part(&inner, q, eb);
}

/* Signature data: quote signature, attestation key, then the QE part. */
static vouch_err parse_signature_data(struct vouch_reader *r, struct vouch_dcap_quote *q,
                                      struct vouch_errbuf *eb)
{
    struct vouch_reader sig;
    uint32_t sig_len;

    if (vouch_reader_u32le(r, &sig_len))
        return truncated(eb, r, "signature data size");
    if (vouch_reader_sub(r, sig_len, &sig))
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "quote: signature data of %u bytes at "
                          "offset %zu overruns the %zu-byte quote", sig_len,
                          vouch_reader_offset(r), q->raw_len);
    q->len = vouch_reader_offset(r);
    if (vouch_reader_bytes(&sig, VOUCH_DCAP_SIG_LEN, &q->signature))
        return truncated(eb, &sig, "quote signature");
    if (vouch_reader_bytes(&sig, VOUCH_DCAP_ATTEST_KEY_LEN, &q->attest_key))
        return truncated(eb, &sig, "attestation key");
    if (q->version == 3)
        return parse_qe_part(&sig, q, eb);
    return parse_qe_cert_data(&sig, q, eb);
}

vouch_err vouch_dcap_quote_parse(const uint8_t *data, size_t len,
                                 struct vouch_dcap_quote *ret, struct vouch_errbuf *eb)
{
    struct vouch_dcap_quote q;
    struct vouch_reader r;
    vouch_err e;

    memset(&q, 0, sizeof(q));
    if (len > VOUCH_DCAP_QUOTE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "quote: %zu bytes, more than %u", len,
                          VOUCH_DCAP_QUOTE_MAX);
    vouch_reader_init(&r, data, len);
    q.raw = data;
    q.raw_len = len;
    if ((e = parse_header(&r, &q, eb)) || (e = parse_body_type(&r, &q, eb)))
        return e;
    if (vouch_reader_bytes(&r, q.body_size, &q.body))
        return truncated(eb, &r, "report body");
    q.signed_len = vouch_reader_offset(&r);
    e = parse_signature_data(&r, &q, eb);
    if (e)
        return e;
    *ret = q;
    return VOUCH_OK;
}

static bool is_hex_text(const uint8_t *p, size_t n)
{
    size_t i;

    if (n == 0 || n % 2)
        return false;
    for (i = 0; i < n; i++)
        if (!isxdigit(p[i]))
            return false;
    return true;
}

vouch_err vouch_dcap_quote_decode(const uint8_t *data, size_t len, uint8_t **ret,
                                  size_t *ret_len, bool *ret_owned,
                                  struct vouch_errbuf *eb)
{
    const uint8_t *p = data;
    size_t n = len;
    uint8_t *out;
    size_t outlen;
    vouch_err e;

    while (n && isspace(p[n - 1]))
        n--;
    while (n && isspace(p[0])) {
        p++;
        n--;
    }
    if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        n -= 2;
    } else if (!is_hex_text(p, n)) {
        *ret = (uint8_t *)data;
        *ret_len = len;
        *ret_owned = false;
        return VOUCH_OK;
    }
    e = vouch_hex_decode((const char *)p, n, VOUCH_DCAP_QUOTE_MAX, &out, &outlen, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "quote: hex text: ");
    *ret = out;
    *ret_len = outlen;
    *ret_owned = true;
    return VOUCH_OK;
}

const uint8_t *vouch_dcap_report_data(const struct vouch_dcap_quote *q)
{
    if (q->body_type == VOUCH_DCAP_BODY_SGX)
        return q->body + VOUCH_DCAP_SGX_REPORT_DATA;
    return q->body + VOUCH_DCAP_TD_REPORT_DATA;
}

const uint8_t *vouch_dcap_init_data(const struct vouch_dcap_quote *q, size_t *ret_len)
{
    if (q->body_type == VOUCH_DCAP_BODY_SGX) {
        *ret_len = VOUCH_DCAP_SGX_CONFIG_ID_LEN;
        return q->body + VOUCH_DCAP_SGX_CONFIG_ID;
    }
    *ret_len = VOUCH_DCAP_TD_MR_CONFIG_ID_LEN;
    return q->body + VOUCH_DCAP_TD_MR_CONFIG_ID;
}
