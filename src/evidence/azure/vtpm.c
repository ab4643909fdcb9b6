/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The vTPM side of an Azure CVM's evidence: the attestation key comes
 * from the HCL runtime data (the JWK "HCLAkPub"), the quote and its PCRs
 * are checked by the TPM core (src/evidence/tpm), then the Azure rules:
 * all 24 SHA-256 PCRs quoted, the v2 user-data and PCR8's init data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "crypto/jose.h"
#include "evidence/azure/azure.h"
#include "evidence/tpm/quote.h"

#define AK_KID "HCLAkPub"
#define USER_DATA_SIZE 64u
#define INIT_DATA_PCR 8u
#define ALL_PCRS 0xFFFFFFu
/* TPMT_SIGNATURE header in front of the raw RSA signature: sigAlg, hash, size. */
#define TPMT_SIG_HEADER 6u

/* The runtime claims: JSON, possibly followed by NUL padding. */
static vouch_err runtime_claims(const struct vouch_azure_hcl *hcl, const char *hname,
                                json_t **ret, struct vouch_errbuf *eb)
{
    size_t n = hcl->var_size;
    json_t *j = NULL;

    while (n > 0 && hcl->var_data[n - 1] == '\0')
        n--;
    if (vouch_json_parse(hcl->var_data, n, &j, eb) || !json_is_object(j)) {
        json_decref(j);
        return vouch_fail_field(eb, VOUCH_E_INVALID, hname, "the HCL runtime data is "
                                "not a JSON object");
    }
    *ret = j;
    return VOUCH_OK;
}

/* The RSA JWK "HCLAkPub" of the runtime claims, as a TPM key. */
static vouch_err ak_from_claims(const json_t *rt, const char *hname,
                                struct vouch_tpm_key **ret, struct vouch_errbuf *eb)
{
    const json_t *keys = json_object_get(rt, "keys"), *k, *jwk = NULL;
    const char *kty;
    struct vouch_tpm_key *ak;
    EVP_PKEY *pk = NULL;
    enum vouch_jws_alg alg;
    size_t i;

    json_array_foreach(keys, i, k) {
        const char *kid = json_string_value(json_object_get(k, "kid"));

        if (kid && strcmp(kid, AK_KID) == 0) {
            jwk = k;
            break;
        }
    }
    if (!jwk || !json_is_object(jwk))
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the HCL runtime data holds "
                                "no attestation key (JWK '" AK_KID "')");
    kty = json_string_value(json_object_get(jwk, "kty"));
    if (!kty || strcmp(kty, "RSA") != 0 ||
        vouch_jwk_import(jwk, &pk, &alg, NULL)) {
        ERR_clear_error();
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the HCL runtime data's '"
                                AK_KID "' is not an RSA key of 2048 bits or more");
    }
    ak = calloc(1, sizeof(*ak));
    if (!ak) {
        EVP_PKEY_free(pk);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    ak->pkey = pk;
    ak->type = VOUCH_TPM_ALG_RSA;
    ak->bits = (unsigned)EVP_PKEY_get_bits(pk);
    *ret = ak;
    return VOUCH_OK;
}

/* The message must quote exactly PCRs 0..23 of the SHA-256 bank. */
static vouch_err check_selection(const struct vouch_azure_evidence *ev, const char *qname,
                                 struct vouch_errbuf *eb)
{
    struct vouch_tpm_quote q;
    char field[32];
    vouch_err e;

    e = vouch_tpm_quote_parse(ev->tpm_message, ev->tpm_message_len, &q, eb);
    if (e) {
        snprintf(field, sizeof(field), "%s.message", qname);
        return vouch_errbuf_set_field(eb, e, field);
    }
    if (q.select.count != 1 || q.select.bank[0].alg != VOUCH_TCG_ALG_SHA256 ||
        q.select.bank[0].mask != ALL_PCRS)
        return vouch_fail_field(eb, VOUCH_E_VERIFY, qname, "the vTPM quote does not select "
                                "exactly PCRs 0..23 of the SHA-256 bank");
    return VOUCH_OK;
}

/* Signature, nonce and PCR digest, by the TPM core. */
static vouch_err verify_quote(const struct vouch_azure_evidence *ev, const struct vouch_tpm_key *ak,
                              const uint8_t *nonce, size_t nonce_len, struct vouch_tpm_quote *q,
                              struct vouch_errbuf *eb)
{
    uint8_t sig[TPMT_SIG_HEADER + VOUCH_AZURE_TPM_SIG_MAX];
    struct vouch_tpm_pcrs *pcrs = malloc(sizeof(*pcrs));
    struct vouch_tpm_quote_check check = { .nonce = nonce, .nonce_len = nonce_len };
    unsigned i;
    vouch_err e = VOUCH_OK;

    if (!pcrs)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    vouch_tpm_pcrs_init(pcrs);
    for (i = 0; i < 24 && !e; i++)
        e = vouch_tpm_pcrs_set(pcrs, VOUCH_HASH_SHA256, i, ev->pcrs[i], VOUCH_AZURE_PCR_SIZE, eb);
    check.pcrs = pcrs;
    /* Azure's signature is the bare RSASSA-PKCS1-v1_5/SHA-256 one: wrap it as a TPMT_SIGNATURE. */
    sig[0] = VOUCH_TPM_ALG_RSASSA >> 8;
    sig[1] = VOUCH_TPM_ALG_RSASSA & 0xFF;
    sig[2] = VOUCH_TCG_ALG_SHA256 >> 8;
    sig[3] = VOUCH_TCG_ALG_SHA256 & 0xFF;
    sig[4] = (uint8_t)(ev->tpm_signature_len >> 8);
    sig[5] = (uint8_t)ev->tpm_signature_len;
    memcpy(sig + TPMT_SIG_HEADER, ev->tpm_signature, ev->tpm_signature_len);
    if (!e)
        e = vouch_tpm_quote_verify(ak, ev->tpm_message, ev->tpm_message_len, sig,
                                   TPMT_SIG_HEADER + ev->tpm_signature_len, &check, q, eb);
    free(pcrs);
    if (e && e != VOUCH_E_BINDING)
        return vouch_fail_prefix(eb, e, "vTPM quote: ");
    return e;
}

/* Version 2: the runtime data's user-data begins with the quote's nonce. */
static vouch_err check_user_data(const json_t *rt, const char *hname,
                                 const struct vouch_tpm_quote *q, struct vouch_errbuf *eb)
{
    const char *hex = json_string_value(json_object_get(rt, "user-data"));
    uint8_t ud[USER_DATA_SIZE];

    if (!hex || vouch_hex_decode_exact(hex, strlen(hex), ud, sizeof(ud), NULL))
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the HCL runtime data holds "
                                "no 'user-data' of 64 bytes in hex");
    if (q->extra_len > sizeof(ud) || !vouch_memeq_ct(ud, q->extra, q->extra_len))
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the HCL user-data does not "
                                "begin with the vTPM quote's nonce (%zu bytes)", q->extra_len);
    return VOUCH_OK;
}

/* PCR8 == SHA-256(32 zero bytes || init data): the init data was extended into it. */
static vouch_err check_init_data(const struct vouch_azure_evidence *ev, const uint8_t *init_data,
                                 size_t len, struct vouch_errbuf *eb)
{
    uint8_t buf[2 * VOUCH_AZURE_PCR_SIZE], want[VOUCH_AZURE_PCR_SIZE];

    if (len != VOUCH_AZURE_PCR_SIZE)
        return vouch_fail_sub(eb, VOUCH_E_BINDING, VOUCH_SUB_INIT_DATA, "init data is %zu bytes; "
                              "extended into PCR8 it must be a 32-byte SHA-256 digest", len);
    memset(buf, 0, VOUCH_AZURE_PCR_SIZE);
    memcpy(buf + VOUCH_AZURE_PCR_SIZE, init_data, len);
    if (vouch_hash(VOUCH_HASH_SHA256, buf, sizeof(buf), want))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    if (!vouch_memeq_ct(want, ev->pcrs[INIT_DATA_PCR], sizeof(want)))
        return vouch_fail_sub(eb, VOUCH_E_BINDING, VOUCH_SUB_INIT_DATA, "PCR8 is not the init "
                              "data extended into a zero PCR");
    return VOUCH_OK;
}

vouch_err vouch_azure_vtpm_verify(const struct vouch_azure_evidence *ev,
                                  const struct vouch_azure_hcl *hcl, const uint8_t *nonce,
                                  size_t nonce_len, const uint8_t *init_data,
                                  size_t init_data_len, struct vouch_azure_vtpm *ret,
                                  struct vouch_errbuf *eb)
{
    const char *qname = ev->quote_name ? ev->quote_name : "tpm_quote";
    const char *hname = ev->hcl_name ? ev->hcl_name : "hcl_report";
    struct vouch_tpm_key *ak = NULL;
    struct vouch_tpm_quote q;
    json_t *rt = NULL;
    vouch_err e;

    e = runtime_claims(hcl, hname, &rt, eb);
    if (!e)
        e = ak_from_claims(rt, hname, &ak, eb);
    if (!e)
        e = check_selection(ev, qname, eb);
    if (!e)
        e = verify_quote(ev, ak, nonce, nonce_len, &q, eb);
    if (!e && ev->version == 2)
        e = check_user_data(rt, hname, &q, eb);
    if (!e && init_data)
        e = check_init_data(ev, init_data, init_data_len, eb);
    if (!e) {
        memset(ret, 0, sizeof(*ret));
        memcpy(ret->nonce, q.extra, q.extra_len);
        ret->nonce_len = q.extra_len;
    }
    vouch_tpm_key_free(ak);
    json_decref(rt);
    return e;
}

vouch_err vouch_azure_hcl_binding(const struct vouch_azure_hcl *hcl, const char *hname,
                                  const uint8_t *report_data, const char *what,
                                  struct vouch_errbuf *eb)
{
    uint8_t h[32];

    if (vouch_hash(VOUCH_HASH_SHA256, hcl->var_data, hcl->var_size, h))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    if (!vouch_memeq_ct(h, report_data, sizeof(h)))
        return vouch_fail_field(eb, VOUCH_E_VERIFY, hname, "the SHA-256 of the HCL "
                                "runtime data (which carries the vTPM's attestation key) is not "
                                "in the %s's REPORT_DATA", what);
    return VOUCH_OK;
}

vouch_err vouch_azure_tpm_claims(const struct vouch_azure_evidence *ev,
                                 const struct vouch_azure_vtpm *vt, json_t *claims,
                                 struct vouch_errbuf *eb)
{
    json_t *tpm = json_object();
    char name[8];
    unsigned i;

    if (!tpm || json_object_set_new(claims, "tpm", tpm))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < 24; i++) {
        snprintf(name, sizeof(name), "pcr%02u", i);
        if (vouch_json_set_hex(tpm, name, ev->pcrs[i], VOUCH_AZURE_PCR_SIZE))
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (vouch_json_set_hex(claims, "report_data", vt->nonce, vt->nonce_len) ||
        vouch_json_set_hex(claims, "init_data", ev->pcrs[INIT_DATA_PCR], VOUCH_AZURE_PCR_SIZE))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}
