/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include "common/json.h"
#include "crypto/sig.h"
#include "evidence/tpm/quote.h"
#include "evidence/tpm/tpm_int.h"

/* The warning the claims carry about clockInfo/firmwareVersion obfuscation. */
static const char vouch_tpm_obfuscation_warning[] =
    "clock_info.reset_count, clock_info.restart_count and firmware_version are obfuscated "
    "by the TPM unless the signing key is in the endorsement or platform hierarchy: "
    "compare them only between quotes of the same AK";

vouch_err vouch_tpm_quote_parse(const uint8_t *attest, size_t len,
                                struct vouch_tpm_quote *ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_quote q;
    TPMS_ATTEST a;
    size_t off = 0;
    uint32_t b;
    TSS2_RC rc;

    /* A TPM2B_ATTEST: u16 size prefix, then the magic. */
    if (len >= 6 && memcmp(attest, "\xff\x54\x43\x47", 4) != 0 &&
        memcmp(attest + 2, "\xff\x54\x43\x47", 4) == 0 &&
        (size_t)(attest[0] << 8 | attest[1]) == len - 2) {
        attest += 2;
        len -= 2;
    }
    if (len < 6)
        return vouch_fail(eb, VOUCH_E_TRUNCATED, "TPMS_ATTEST: %zu bytes", len);
    if (memcmp(attest, "\xff\x54\x43\x47", 4) != 0)
        return vouch_fail(eb, VOUCH_E_INVALID,
                          "TPMS_ATTEST: magic %02x%02x%02x%02x is not TPM_GENERATED_VALUE",
                          attest[0], attest[1], attest[2], attest[3]);
    if (attest[4] != 0x80 || attest[5] != 0x18)
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMS_ATTEST: type 0x%02x%02x is not "
                          "TPM2_ST_ATTEST_QUOTE", attest[4], attest[5]);
    memset(&a, 0, sizeof(a));
    rc = Tss2_MU_TPMS_ATTEST_Unmarshal(attest, len, &off, &a);
    if (rc != TSS2_RC_SUCCESS)
        return vouch_fail(eb, (rc & 0xffff) == TSS2_BASE_RC_INSUFFICIENT_BUFFER ? VOUCH_E_TRUNCATED : VOUCH_E_INVALID,
                          "TPMS_ATTEST: unmarshalling failed (0x%x)", rc);
    if (off != len)
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMS_ATTEST: %zu trailing bytes", len - off);
    memset(&q, 0, sizeof(q));
    if (a.qualifiedSigner.size > sizeof(q.signer) || a.extraData.size > sizeof(q.extra))
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMS_ATTEST: oversized field");
    memcpy(q.signer, a.qualifiedSigner.name, a.qualifiedSigner.size);
    q.signer_len = a.qualifiedSigner.size;
    memcpy(q.extra, a.extraData.buffer, a.extraData.size);
    q.extra_len = a.extraData.size;
    q.clock = a.clockInfo.clock;
    q.reset_count = a.clockInfo.resetCount;
    q.restart_count = a.clockInfo.restartCount;
    q.safe = a.clockInfo.safe;
    q.firmware_version = a.firmwareVersion;
    if (a.attested.quote.pcrSelect.count > VOUCH_TPM_MAX_SELECT)
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMS_ATTEST: %u PCR banks",
                          a.attested.quote.pcrSelect.count);
    q.select.count = a.attested.quote.pcrSelect.count;
    for (b = 0; b < q.select.count; b++) {
        const TPMS_PCR_SELECTION *s = &a.attested.quote.pcrSelect.pcrSelections[b];
        uint32_t mask = 0;
        unsigned i;

        for (i = 0; i < s->sizeofSelect; i++)
            mask |= (uint32_t)s->pcrSelect[i] << (8 * i);
        if (mask >> VOUCH_TPM_PCR_COUNT)
            return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMS_ATTEST: PCR index above 23 selected");
        q.select.bank[b].alg = s->hash;
        q.select.bank[b].mask = mask;
    }
    if (a.attested.quote.pcrDigest.size > sizeof(q.pcr_digest))
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMS_ATTEST: oversized pcrDigest");
    memcpy(q.pcr_digest, a.attested.quote.pcrDigest.buffer, a.attested.quote.pcrDigest.size);
    q.pcr_digest_len = a.attested.quote.pcrDigest.size;
    *ret = q;
    return VOUCH_OK;
}

vouch_err vouch_tpm_signature_parse(const uint8_t *sig, size_t len,
                                    struct vouch_tpm_quote *q, struct vouch_errbuf *eb)
{
    TPMT_SIGNATURE s;
    size_t off = 0;
    TSS2_RC rc;

    memset(&s, 0, sizeof(s));
    rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig, len, &off, &s);
    if (rc != TSS2_RC_SUCCESS)
        return vouch_fail(eb, (rc & 0xffff) == TSS2_BASE_RC_INSUFFICIENT_BUFFER ? VOUCH_E_TRUNCATED : VOUCH_E_INVALID,
                          "TPMT_SIGNATURE: unmarshalling failed (0x%x)", rc);
    if (off != len)
        return vouch_fail(eb, VOUCH_E_INVALID, "TPMT_SIGNATURE: %zu trailing bytes", len - off);
    switch (s.sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS:
        if (s.signature.rsassa.sig.size > sizeof(q->sig))
            return vouch_fail(eb, VOUCH_E_INVALID, "TPMT_SIGNATURE: oversized RSA signature");
        q->sig_hash = s.signature.rsassa.hash;
        memcpy(q->sig, s.signature.rsassa.sig.buffer, s.signature.rsassa.sig.size);
        q->sig_len = s.signature.rsassa.sig.size;
        q->sig_r_len = 0;
        break;
    case TPM2_ALG_ECDSA:
        if (s.signature.ecdsa.signatureR.size > 66 || s.signature.ecdsa.signatureS.size > 66 ||
            !s.signature.ecdsa.signatureR.size || !s.signature.ecdsa.signatureS.size)
            return vouch_fail(eb, VOUCH_E_INVALID, "TPMT_SIGNATURE: bad ECDSA r/s sizes");
        q->sig_hash = s.signature.ecdsa.hash;
        memcpy(q->sig, s.signature.ecdsa.signatureR.buffer, s.signature.ecdsa.signatureR.size);
        memcpy(q->sig + s.signature.ecdsa.signatureR.size, s.signature.ecdsa.signatureS.buffer,
               s.signature.ecdsa.signatureS.size);
        q->sig_r_len = s.signature.ecdsa.signatureR.size;
        q->sig_len = q->sig_r_len + s.signature.ecdsa.signatureS.size;
        break;
    default:
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "TPMT_SIGNATURE: scheme 0x%04x", s.sigAlg);
    }
    q->sig_alg = s.sigAlg;
    return VOUCH_OK;
}

vouch_err vouch_tpm_pcr_digest(const struct vouch_tpm_pcr_select *sel,
                               const struct vouch_tpm_pcrs *pcrs, enum vouch_hash h,
                               uint8_t *out, struct vouch_errbuf *eb)
{
    const EVP_MD *md = vouch_hash_md(h);
    EVP_MD_CTX *ctx;
    vouch_err e = VOUCH_OK;
    uint32_t b;
    unsigned i;

    if (!md)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "pcrDigest: hash %s unavailable",
                          vouch_hash_name(h));
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex2(ctx, md, NULL) != 1) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (b = 0; b < sel->count; b++) {
        int bh = vouch_tcg_alg_hash(sel->bank[b].alg);

        if (!sel->bank[b].mask)
            continue;
        if (bh < 0) {
            e = vouch_fail(eb, VOUCH_E_UNSUPPORTED, "pcrDigest: PCR bank 0x%04x",
                           sel->bank[b].alg);
            goto out;
        }
        for (i = 0; i < VOUCH_TPM_PCR_COUNT; i++) {
            if (!(sel->bank[b].mask >> i & 1))
                continue;
            if (!vouch_tpm_pcrs_has(pcrs, (enum vouch_hash)bh, i)) {
                e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "pcrDigest: the quote selects %s PCR %u "
                               "but no value was supplied for it",
                               vouch_hash_name((enum vouch_hash)bh), i);
                goto out;
            }
            if (EVP_DigestUpdate(ctx, pcrs->value[bh][i],
                                 vouch_hash_size((enum vouch_hash)bh)) != 1) {
                e = vouch_fail(eb, VOUCH_E_INTERNAL, "pcrDigest: digest failed");
                goto out;
            }
        }
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        e = vouch_fail(eb, VOUCH_E_INTERNAL, "pcrDigest: digest failed");
out:
    EVP_MD_CTX_free(ctx);
    return e;
}

static vouch_err check_signature(const struct vouch_tpm_key *ak, const struct vouch_tpm_quote *q,
                                 const uint8_t *msg, size_t len, unsigned flags,
                                 struct vouch_errbuf *eb)
{
    int h = vouch_tcg_alg_hash(q->sig_hash);
    uint8_t rs[2 * 66];
    size_t fs, slen;
    vouch_err e;

    if (h < 0)
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature: hash 0x%04x", q->sig_hash);
    if (h == VOUCH_HASH_SHA1 && !(flags & VOUCH_TPM_QUOTE_ALLOW_SHA1))
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature: SHA-1 signatures not allowed");
    if (ak->scheme && ak->scheme != VOUCH_TPM_ALG_NULL &&
        (ak->scheme != q->sig_alg || ak->scheme_hash != q->sig_hash))
        return vouch_fail(eb, VOUCH_E_VERIFY, "signature: scheme %s/%s is not the AK's %s/%s",
                          vouch_tpm_alg_name(q->sig_alg), vouch_hash_name((enum vouch_hash)h),
                          vouch_tpm_alg_name(ak->scheme) ? vouch_tpm_alg_name(ak->scheme) : "?",
                          vouch_tpm_alg_name(ak->scheme_hash) ? vouch_tpm_alg_name(ak->scheme_hash)
                                                              : "?");
    switch (q->sig_alg) {
    case VOUCH_TPM_ALG_RSASSA:
        e = vouch_rsa_pkcs1_verify(ak->pkey, (enum vouch_hash)h, msg, len, q->sig, q->sig_len, eb);
        break;
    case VOUCH_TPM_ALG_RSAPSS:
        e = vouch_rsa_pss_verify(ak->pkey, (enum vouch_hash)h, RSA_PSS_SALTLEN_AUTO, msg, len,
                                 q->sig, q->sig_len, eb);
        break;
    case VOUCH_TPM_ALG_ECDSA:
        fs = vouch_ec_field_size(ak->pkey);
        slen = q->sig_len - q->sig_r_len;
        if (!fs)
            return vouch_fail(eb, VOUCH_E_VERIFY, "signature: ECDSA signature, AK is not EC");
        if (q->sig_r_len > fs || slen > fs)
            return vouch_fail(eb, VOUCH_E_VERIFY, "signature: ECDSA r/s longer than the curve");
        memset(rs, 0, sizeof(rs));
        memcpy(rs + fs - q->sig_r_len, q->sig, q->sig_r_len);
        memcpy(rs + 2 * fs - slen, q->sig + q->sig_r_len, slen);
        e = vouch_ecdsa_verify_raw(ak->pkey, (enum vouch_hash)h, msg, len, rs, 2 * fs, eb);
        break;
    default:
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED, "signature: scheme 0x%04x", q->sig_alg);
    }
    if (e == VOUCH_E_INVALID)
        e = VOUCH_E_VERIFY; /* wrong key type for the scheme */
    if (e)
        return vouch_fail_prefix(eb, e, "signature: ");
    return VOUCH_OK;
}

vouch_err vouch_tpm_quote_verify(const struct vouch_tpm_key *ak, const uint8_t *attest,
                                 size_t attest_len, const uint8_t *sig, size_t sig_len,
                                 const struct vouch_tpm_quote_check *check,
                                 struct vouch_tpm_quote *ret, struct vouch_errbuf *eb)
{
    struct vouch_tpm_quote q;
    unsigned flags = check ? check->flags : 0;
    uint8_t digest[VOUCH_HASH_MAX_SIZE];
    vouch_err e;
    int h;

    e = vouch_tpm_quote_parse(attest, attest_len, &q, eb);
    if (e)
        return e;
    e = vouch_tpm_signature_parse(sig, sig_len, &q, eb);
    if (e)
        return e;
    /* The signature covers the TPMS_ATTEST, without a TPM2B size prefix. */
    if (memcmp(attest, "\xff\x54\x43\x47", 4) != 0) {
        attest += 2;
        attest_len -= 2;
    }
    e = check_signature(ak, &q, attest, attest_len, flags, eb);
    if (e)
        return e;
    if (check && check->signer &&
        (check->signer_len != q.signer_len || memcmp(check->signer, q.signer, q.signer_len) != 0))
        return vouch_fail(eb, VOUCH_E_VERIFY, "qualifiedSigner is not the expected Qualified "
                          "Name of the AK");
    if (check && check->nonce &&
        (check->nonce_len != q.extra_len || !vouch_memeq_ct(check->nonce, q.extra, q.extra_len)))
        return vouch_fail(eb, VOUCH_E_BINDING, "nonce: extraData (%zu bytes) is not the "
                          "expected nonce (%zu bytes)", q.extra_len, check->nonce_len);
    if (check && check->pcrs) {
        h = vouch_tcg_alg_hash(q.sig_hash);
        if (q.pcr_digest_len != vouch_hash_size((enum vouch_hash)h))
            return vouch_fail(eb, VOUCH_E_VERIFY, "pcrDigest: %zu bytes, the %s signature "
                              "implies %zu", q.pcr_digest_len,
                              vouch_hash_name((enum vouch_hash)h),
                              vouch_hash_size((enum vouch_hash)h));
        e = vouch_tpm_pcr_digest(&q.select, check->pcrs, (enum vouch_hash)h, digest, eb);
        if (e)
            return e;
        if (!vouch_memeq_ct(digest, q.pcr_digest, q.pcr_digest_len))
            return vouch_fail(eb, VOUCH_E_VERIFY, "pcrDigest: the supplied PCR values do not "
                              "hash to the quoted pcrDigest");
    }
    if (ret)
        *ret = q;
    return VOUCH_OK;
}

vouch_err vouch_tpm_qualified_name(uint16_t name_alg, const uint8_t *parent_qn,
                                   size_t parent_len, const uint8_t *name, size_t name_len,
                                   uint8_t *out, size_t *ret_len)
{
    EVP_MD_CTX *ctx;
    int h = vouch_tcg_alg_hash(name_alg);
    vouch_err e;

    if (h < 0)
        return VOUCH_E_UNSUPPORTED;
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return VOUCH_E_NOMEM;
    e = vouch_tcg_hash2(ctx, (enum vouch_hash)h, parent_qn, parent_len, name, name_len, out + 2);
    EVP_MD_CTX_free(ctx);
    if (e)
        return e;
    out[0] = (uint8_t)(name_alg >> 8);
    out[1] = (uint8_t)name_alg;
    *ret_len = 2 + vouch_hash_size((enum vouch_hash)h);
    return VOUCH_OK;
}

static json_t *attributes_json(uint32_t a)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        { VOUCH_TPMA_FIXEDTPM, "fixedtpm" },
        { VOUCH_TPMA_STCLEAR, "stclear" },
        { VOUCH_TPMA_FIXEDPARENT, "fixedparent" },
        { VOUCH_TPMA_SENSITIVEDATAORIGIN, "sensitivedataorigin" },
        { VOUCH_TPMA_USERWITHAUTH, "userwithauth" },
        { VOUCH_TPMA_ADMINWITHPOLICY, "adminwithpolicy" },
        { VOUCH_TPMA_NODA, "noda" },
        { VOUCH_TPMA_RESTRICTED, "restricted" },
        { VOUCH_TPMA_DECRYPT, "decrypt" },
        { VOUCH_TPMA_SIGN, "sign" },
    };
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr && i < sizeof(names) / sizeof(names[0]); i++)
        if (a & names[i].bit)
            json_array_append_new(arr, json_string(names[i].name));
    return arr;
}

/*
 * The longest selection text: per bank "0xNNNN:" or a name (at most 8 with
 * its ':'), then up to VOUCH_TPM_PCR_COUNT numbers of at most two digits,
 * each with a ',' or the '+' to the next bank.
 */
#define PCR_SELECT_TEXT_MAX (VOUCH_TPM_MAX_SELECT * (8 + 3 * VOUCH_TPM_PCR_COUNT))

vouch_err vouch_tpm_quote_claims(const struct vouch_tpm_quote *q,
                                 const struct vouch_tpm_key *ak,
                                 const struct vouch_tpm_pcrs *pcrs, json_t **ret)
{
    json_t *root = NULL, *quote = NULL, *clock = NULL, *akj = NULL, *pj = NULL;
    struct vouch_buf sel = VOUCH_BUF_INIT(PCR_SELECT_TEXT_MAX);
    char fw[17];
    int h = vouch_tcg_alg_hash(q->sig_hash);
    vouch_err e = VOUCH_E_NOMEM;

    snprintf(fw, sizeof(fw), "%016llx", (unsigned long long)q->firmware_version);
    if (vouch_tpm_pcr_select_format(&q->select, &sel))
        goto out;
    clock = json_pack("{s:I, s:I, s:I, s:b}", "clock", (json_int_t)q->clock,
                      "reset_count", (json_int_t)q->reset_count,
                      "restart_count", (json_int_t)q->restart_count, "safe", q->safe != 0);
    quote = json_pack("{s:o, s:o, s:O, s:s, s:s, s:o, s:s, s:s}",
                      "signer", vouch_tcg_json_hex(q->signer, q->signer_len),
                      "report_data", vouch_tcg_json_hex(q->extra, q->extra_len),
                      "clock_info", clock,
                      "firmware_version", fw,
                      "pcr_select", vouch_buf_str(&sel),
                      "pcr_digest", vouch_tcg_json_hex(q->pcr_digest, q->pcr_digest_len),
                      "sig_alg", vouch_tpm_alg_name(q->sig_alg) ? vouch_tpm_alg_name(q->sig_alg)
                                                                : "unknown",
                      "hash_alg", h >= 0 ? vouch_hash_name((enum vouch_hash)h) : "unknown");
    if (!quote)
        goto out;
    root = json_pack("{s:O, s:O, s:[s]}", "quote", quote, "report_data",
                     json_object_get(quote, "report_data"), "warnings",
                     vouch_tpm_obfuscation_warning);
    if (!root)
        goto out;
    if (ak) {
        akj = json_pack("{s:s, s:I}", "type", ak->type == VOUCH_TPM_ALG_ECC ? "ecc" : "rsa",
                        "bits", (json_int_t)ak->bits);
        if (!akj || json_object_set(root, "ak", akj))
            goto out;
        if (ak->name_len && (vouch_json_set_hex(akj, "name", ak->name, ak->name_len) ||
                             vouch_json_set_new(akj, "attributes", attributes_json(ak->attributes))))
            goto out;
        if (ak->public_area &&
            vouch_json_set_new(akj, "public", vouch_tcg_json_b64(ak->public_area, ak->public_len)))
            goto out;
    }
    if (pcrs) {
        if (vouch_tpm_pcrs_to_json(pcrs, &pj) || json_object_set_new(root, "pcrs", pj))
            goto out;
    }
    *ret = root;
    root = NULL;
    e = VOUCH_OK;
out:
    json_decref(root);
    json_decref(quote);
    json_decref(clock);
    json_decref(akj);
    vouch_buf_free(&sel);
    return e;
}
