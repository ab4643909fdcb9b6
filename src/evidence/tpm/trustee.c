/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee=tpm: stateless TPM evidence in trustee's shape (trustee.h), verified
 * with the TPM core (quote.c: one TPMS_ATTEST parser), bound to the
 * request's runtime data through extraData and to its init data through
 * PCR 8, with trustee's claims.  The checks, in order, are in docs/tpm.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "evidence/binding.h"
#include "evidence/tpm/trustee.h"
#include "vouch/evidence.h"

#define AK_B64_MAX 4096u        /* an RSA-4096 SubjectPublicKeyInfo is ~740 base64 chars */
#define FIELD_B64_MAX 8192u     /* TPMS_ATTEST and TPMT_SIGNATURE are well under 1 KiB */
#define PEM_HEAD "-----BEGIN PUBLIC KEY-----\n"
#define PEM_TAIL "\n-----END PUBLIC KEY-----\n"

/* A base64 string field of `obj` (standard alphabet, padded), decoded. */
static vouch_err b64_field(const json_t *obj, const char *key, const char *field, size_t max,
                           uint8_t **ret, size_t *ret_len, struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(obj, key);
    vouch_err e;

    if (!json_is_string(v) || json_string_length(v) == 0)
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "'%s' is not a base64 string", key);
    if (json_string_length(v) > max)
        return vouch_fail_field(eb, VOUCH_E_TOO_LARGE, field, "'%s' is over %zu characters",
                                key, max);
    e = vouch_b64_decode(json_string_value(v), json_string_length(v), VOUCH_B64_STD, max, ret,
                         ret_len, eb);
    if (e)
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "'%s' is not valid base64", key);
    return VOUCH_OK;
}

/* ak_public: base64 DER SubjectPublicKeyInfo, loaded as PEM by the TPM core. */
static vouch_err parse_ak(const json_t *doc, struct vouch_tpm_trustee_evidence *ev,
                          struct vouch_errbuf *eb)
{
    const json_t *v = json_object_get(doc, "ak_public");
    uint8_t *der = NULL;
    size_t n = 0, len;
    char *pem;
    vouch_err e;

    e = b64_field(doc, "ak_public", "ak_public", AK_B64_MAX, &der, &n, eb);
    free(der);
    if (e)
        return e;
    len = strlen(PEM_HEAD) + json_string_length(v) + strlen(PEM_TAIL);
    pem = malloc(len + 1);
    ev->ak_public = strdup(json_string_value(v));
    if (!pem || !ev->ak_public) {
        free(pem);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    snprintf(pem, len + 1, PEM_HEAD "%s" PEM_TAIL, json_string_value(v));
    e = vouch_tpm_key_load((const uint8_t *)pem, len, 0, &ev->ak, eb);
    free(pem);
    if (e)
        return vouch_fail_field(eb, e, "ak_public", "ak_public is not an RSA or EC P-256/P-384 "
                                "public key");
    return VOUCH_OK;
}

/* pcrs: exactly 24 hex strings of 32 bytes, the sha256 bank's PCRs 0..23. */
static vouch_err parse_pcrs(const json_t *quote, struct vouch_tpm_pcrs *pcrs,
                            struct vouch_errbuf *eb)
{
    const json_t *a = json_object_get(quote, "pcrs");
    uint8_t value[32];
    char field[40];
    size_t i;

    if (!json_is_array(a) || json_array_size(a) != VOUCH_TPM_TRUSTEE_PCRS)
        return vouch_fail_field(eb, VOUCH_E_INVALID, "tpm_quote.pcrs", "'pcrs' is not an array "
                                "of %u PCR values", VOUCH_TPM_TRUSTEE_PCRS);
    vouch_tpm_pcrs_init(pcrs);
    for (i = 0; i < VOUCH_TPM_TRUSTEE_PCRS; i++) {
        const json_t *v = json_array_get(a, i);

        snprintf(field, sizeof(field), "tpm_quote.pcrs[%zu]", i);
        if (!json_is_string(v) || json_string_length(v) != 2 * sizeof(value) ||
            vouch_hex_decode_exact(json_string_value(v), 2 * sizeof(value), value,
                                   sizeof(value), NULL))
            return vouch_fail_field(eb, VOUCH_E_INVALID, field, "a PCR value is 64 hex "
                                    "characters (SHA-256)");
        if (vouch_tpm_pcrs_set(pcrs, VOUCH_HASH_SHA256, (unsigned)i, value, sizeof(value), eb))
            return vouch_fail(eb, VOUCH_E_INTERNAL, "cannot hold PCR %zu", i);
    }
    return VOUCH_OK;
}

vouch_err vouch_tpm_trustee_parse(const uint8_t *doc, size_t len,
                                  struct vouch_tpm_trustee_evidence *ret,
                                  struct vouch_errbuf *eb)
{
    struct vouch_tpm_trustee_evidence ev;
    const json_t *quote;
    json_t *j = NULL;
    vouch_err e;

    memset(&ev, 0, sizeof(ev));
    if (len > VOUCH_TPM_TRUSTEE_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "evidence is over %u bytes",
                          VOUCH_TPM_TRUSTEE_MAX);
    e = vouch_json_parse(doc, len, &j, eb);
    if (e)
        return e;
    quote = json_object_get(j, "tpm_quote");
    if (!json_is_object(j)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "evidence is not a JSON object");
    } else if (!json_is_object(quote)) {
        e = vouch_fail_field(eb, VOUCH_E_INVALID, "tpm_quote", "'tpm_quote' is not an object");
    } else {
        e = parse_ak(j, &ev, eb);
        if (!e)
            e = b64_field(quote, "message", "tpm_quote.message", FIELD_B64_MAX, &ev.message,
                          &ev.message_len, eb);
        if (!e)
            e = b64_field(quote, "signature", "tpm_quote.signature", FIELD_B64_MAX,
                          &ev.signature, &ev.signature_len, eb);
        if (!e)
            e = parse_pcrs(quote, &ev.pcrs, eb);
    }
    json_decref(j);
    if (e) {
        vouch_tpm_trustee_done(&ev);
        return e;
    }
    *ret = ev;
    return VOUCH_OK;
}

void vouch_tpm_trustee_done(struct vouch_tpm_trustee_evidence *ev)
{
    if (!ev)
        return;
    vouch_tpm_key_free(ev->ak);
    free(ev->ak_public);
    free(ev->message);
    free(ev->signature);
    memset(ev, 0, sizeof(*ev));
}

/* The sha256 PCRs the quote selects (only those are authenticated by its signature). */
static uint32_t sha256_selected(const struct vouch_tpm_quote *q)
{
    return vouch_tpm_pcr_select_mask(&q->select, VOUCH_HASH_SHA256);
}

vouch_err vouch_tpm_trustee_claims(const struct vouch_tpm_trustee_evidence *ev,
                                   const struct vouch_tpm_quote *q, json_t **ret,
                                   struct vouch_errbuf *eb)
{
    uint32_t sel = sha256_selected(q);
    json_t *c = json_object();
    char name[8], hex[2 * VOUCH_HASH_MAX_SIZE + 1];
    unsigned i;
    bool ok = c != NULL;

    vouch_hex_encode(q->extra, q->extra_len, hex);
    ok = ok && !json_object_set_new(c, "ak_public", json_string(ev->ak_public)) &&
         !json_object_set_new(c, "report_data", json_string(hex));
    for (i = 0; ok && i < VOUCH_TPM_TRUSTEE_PCRS; i++) {
        if (!(sel >> i & 1))
            continue;
        vouch_hex_encode(ev->pcrs.value[VOUCH_HASH_SHA256][i], 32, hex);
        snprintf(name, sizeof(name), "pcr%02u", i);
        ok = !json_object_set_new(c, name, json_string(hex));
        if (ok && i == VOUCH_TPM_TRUSTEE_INITDATA_PCR)
            ok = !json_object_set_new(c, "init_data", json_string(hex));
    }
    if (!ok) {
        json_decref(c);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    *ret = c;
    return VOUCH_OK;
}

/* ------------------------------------------------------------------ */
/* The verifier                                                        */

/* extraData, zero-padded to 64 bytes, equals the expected report data padded or cut to 64. */
static vouch_err bind_report_data(const struct vouch_binding *b, const struct vouch_tpm_quote *q,
                                  struct vouch_errbuf *eb)
{
    uint8_t field[VOUCH_TPM_TRUSTEE_NONCE_FIELD] = { 0 };

    if (!b || !b->report_data)
        return VOUCH_OK;
    if (q->extra_len > sizeof(field))
        return vouch_fail(eb, VOUCH_E_BINDING, "the quote's extraData is %zu bytes, over %zu",
                          q->extra_len, sizeof(field));
    memcpy(field, q->extra, q->extra_len);
    return vouch_binding_check(b->report_data, b->report_data_len, field, sizeof(field),
                               "the quote's extraData", eb);
}

/* PCR 8 == SHA-256(32 zero bytes || init data hash padded or cut to 32), PCR 8 quoted. */
static vouch_err bind_init_data(const struct vouch_binding *b,
                                const struct vouch_tpm_trustee_evidence *ev,
                                const struct vouch_tpm_quote *q, struct vouch_errbuf *eb)
{
    uint8_t in[64] = { 0 }, want[32];
    size_t n;

    if (!b || !b->init_data)
        return VOUCH_OK;
    if (!(sha256_selected(q) >> VOUCH_TPM_TRUSTEE_INITDATA_PCR & 1))
        return vouch_fail(eb, VOUCH_E_BINDING, "init data is expected but the quote does not "
                          "cover PCR %u", VOUCH_TPM_TRUSTEE_INITDATA_PCR);
    n = b->init_data_len < 32 ? b->init_data_len : 32;
    memcpy(in + 32, b->init_data, n);
    if (vouch_hash(VOUCH_HASH_SHA256, in, sizeof(in), want))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "SHA-256 failed");
    return vouch_binding_check(want, sizeof(want),
                               ev->pcrs.value[VOUCH_HASH_SHA256][VOUCH_TPM_TRUSTEE_INITDATA_PCR],
                               32, "PCR 8 (SHA-256 of 32 zero bytes and the init data)", eb);
}

static vouch_err tpm_verify(const struct vouch_verifier *self, void *trust,
                            const uint8_t *evidence, size_t evidence_len,
                            const struct vouch_binding *binding, int64_t now,
                            json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_tpm_trustee_evidence ev;
    struct vouch_tpm_quote_check check = { 0 };
    struct vouch_tpm_quote q;
    vouch_err e;

    (void)self;
    (void)trust;
    (void)now;
    e = vouch_tpm_trustee_parse(evidence, evidence_len, &ev, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    check.pcrs = &ev.pcrs;
    e = vouch_tpm_quote_verify(ev.ak, ev.message, ev.message_len, ev.signature,
                               ev.signature_len, &check, &q, eb);
    if (e == VOUCH_E_NOT_FOUND)   /* a selected PCR the evidence does not carry */
        e = VOUCH_E_INVALID;
    if (e) {
        vouch_fail_prefix(eb, e, "quote: ");
        if (!eb || !eb->field[0])
            vouch_errbuf_set_field(eb, e, "tpm_quote");
        goto out;
    }
    e = bind_report_data(binding, &q, eb);
    if (!e && (e = bind_init_data(binding, &ev, &q, eb)))
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_INIT_DATA);
    if (!e)
        e = vouch_tpm_trustee_claims(&ev, &q, ret_claims, eb);
out:
    vouch_tpm_trustee_done(&ev);
    return e;
}

/*
 * The subject (a token's `sub`, docs/oidc.md): which TPM (its AK) and what
 * it booted (PCRs 0-7: firmware, boot loader, Secure Boot policy); a PCR
 * the quote does not cover counts as null.
 */
static const char *const tpm_subject[] = {
    "ak_public", "pcr00", "pcr01", "pcr02", "pcr03", "pcr04", "pcr05", "pcr06", "pcr07", NULL,
};

const struct vouch_verifier vouch_verifier_tpm = {
    .tee = "tpm", .verify = tpm_verify, .subject_claims = tpm_subject,
};
