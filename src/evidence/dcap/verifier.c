/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tdx and sgx verifiers of the evidence interface: trustee's evidence
 * document -> quote -> Intel DCAP verification -> binding -> claims.
 *
 *   tdx: {"quote": base64(quote), "cc_eventlog": base64|null,
 *         "aa_eventlog": text|base64|null, ...}: the logs replay to the
 *         quote's RTMRs (ccel.c)
 *   sgx: {"quote": base64(quote)}
 *
 * `trust` is a struct vouch_dcap_ctx * (the collateral source and cache),
 * made by dcap_trust_new from the host's PCS collateral source and the
 * "dcap-root" option; sgx shares the one tdx made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/codec.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/binding.h"
#include "evidence/dcap/dcap.h"
#include "vouch/evidence.h"

/* FMSPC of the quote's PCK certificate, for "collateral missing" answers. */
static void quote_fmspc(const struct vouch_dcap_quote *q, char out[13])
{
    STACK_OF(X509) *chain = NULL;
    struct vouch_dcap_pck_info info;

    snprintf(out, 13, "unknown");
    if (q->cert_type != 5 || vouch_x509_parse_pem_chain((const char *)q->cert_data, q->cert_len,
                                                        8, &chain, NULL))
        return;
    if (vouch_dcap_pck_info_parse(sk_X509_value(chain, 0), &info, NULL) == VOUCH_OK)
        vouch_hex_encode(info.fmspc, 6, out);
    sk_X509_pop_free(chain, X509_free);
    ERR_clear_error();
}

/* Base64 of the quote: standard (trustee) or URL-safe, padding optional. */
static vouch_err decode_quote(const json_t *doc, uint8_t **ret, size_t *ret_len,
                              struct vouch_errbuf *eb)
{
    const char *s;
    size_t n;

    if (!json_is_object(doc))
        return vouch_fail(eb, VOUCH_E_INVALID, "evidence is not a JSON object");
    if (vouch_json_get_str(doc, "quote", true, &s, &n, eb))
        return vouch_errbuf_set_field(eb, VOUCH_E_INVALID, "quote");
    if (vouch_b64_decode(s, n, VOUCH_B64_STD | VOUCH_B64_PAD_OPTIONAL, VOUCH_DCAP_QUOTE_MAX, ret,
                         ret_len, NULL) == VOUCH_OK ||
        vouch_b64_decode(s, n, VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL, VOUCH_DCAP_QUOTE_MAX, ret,
                         ret_len, NULL) == VOUCH_OK)
        return VOUCH_OK;
    return vouch_fail_field(eb, VOUCH_E_INVALID, "quote", "'quote' is not base64 of at most "
                            "%u bytes", VOUCH_DCAP_QUOTE_MAX);
}

/* With ret_log (tdx only), the claims leave uefi_event_logs out and *ret_log is the log. */
static vouch_err dcap_verify_log(const struct vouch_verifier *self, void *trust,
                                 const uint8_t *evidence, size_t evidence_len,
                                 const struct vouch_binding *binding, int64_t now,
                                 json_t **ret_claims, struct vouch_dcap_eventlog **ret_log,
                                 struct vouch_errbuf *eb)
{
    enum vouch_dcap_tee want = strcmp(self->tee, "sgx") == 0 ? VOUCH_DCAP_TEE_SGX
                                                             : VOUCH_DCAP_TEE_TDX;
    struct vouch_dcap_result *r = NULL;
    struct vouch_dcap_quote q;
    json_t *doc = NULL, *claims = NULL;
    uint8_t *quote = NULL;
    const uint8_t *field;
    size_t quote_len, flen;
    char fmspc[13];
    vouch_err e;

    e = vouch_json_parse(evidence, evidence_len, &doc, eb);
    if (e)
        return vouch_fail_prefix(eb, e, "evidence: ");
    e = decode_quote(doc, &quote, &quote_len, eb);
    if (e)
        goto out;
    /* Structure first, so a malformed quote is told apart from a failed check. */
    e = vouch_dcap_quote_parse(quote, quote_len, &q, eb);
    if (e) {
        vouch_errbuf_set_field(eb, e, "quote");
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_QUOTE);
        goto out;
    }
    if (q.tee_type != (uint32_t)want) {
        e = vouch_fail_field(eb, VOUCH_E_INVALID, "quote", "quote is a%s quote, not %s",
                             q.tee_type == VOUCH_DCAP_TEE_SGX ? "n SGX" : " TDX", self->tee);
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_QUOTE);
        goto out;
    }
    if (!trust) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no DCAP collateral is configured");
        goto out;
    }
    e = vouch_dcap_verify(trust, quote, quote_len, now, &r, eb);
    if (e == VOUCH_E_NOT_FOUND) {
        quote_fmspc(&q, fmspc);
        vouch_fail_prefix(eb, e, "fmspc %s: ", fmspc);
        goto out;
    }
    if (e)
        goto out;
    field = vouch_dcap_report_data(&r->quote);
    e = vouch_binding_check(binding ? binding->report_data : NULL,
                            binding ? binding->report_data_len : 0, field, 64,
                            want == VOUCH_DCAP_TEE_TDX ? "REPORT_DATA" : "SGX REPORT_DATA", eb);
    if (e)
        goto out;
    field = vouch_dcap_init_data(&r->quote, &flen);
    e = vouch_binding_check(binding ? binding->init_data : NULL,
                            binding ? binding->init_data_len : 0, field, flen,
                            want == VOUCH_DCAP_TEE_TDX ? "MRCONFIGID" : "CONFIGID", eb);
    if (e) {
        vouch_errbuf_set_sub(eb, e, VOUCH_SUB_INIT_DATA);
        goto out;
    }
    claims = json_deep_copy(r->claims);
    if (!claims) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (want == VOUCH_DCAP_TEE_TDX) {
        e = vouch_dcap_eventlog_evidence(doc, &r->quote, claims, ret_log, eb);
        if (e) {
            json_decref(claims);
            goto out;
        }
    }
    *ret_claims = claims;
out:
    vouch_dcap_result_free(r);
    free(quote);
    json_decref(doc);
    return e;
}

static vouch_err dcap_verify(const struct vouch_verifier *self, void *trust,
                             const uint8_t *evidence, size_t evidence_len,
                             const struct vouch_binding *binding, int64_t now,
                             json_t **ret_claims, struct vouch_errbuf *eb)
{
    return dcap_verify_log(self, trust, evidence, evidence_len, binding, now, ret_claims, NULL,
                           eb);
}

/* What tdx leaves out until asked: the verified log's per-event list. */
struct tdx_deferred {
    struct vouch_deferred_claims base;
    struct vouch_dcap_eventlog *log;
    bool built;
};

static const char *const tdx_deferred_names[] = { "uefi_event_logs", NULL };

static vouch_err tdx_deferred_build(struct vouch_deferred_claims *self, json_t *claims,
                                    struct vouch_errbuf *eb)
{
    struct tdx_deferred *d = (struct tdx_deferred *)self;
    vouch_err e;

    if (d->built)
        return VOUCH_OK;
    e = vouch_dcap_eventlog_event_list(d->log, claims, eb);
    if (!e)
        d->built = true;
    return e;
}

static void tdx_deferred_free(struct vouch_deferred_claims *self)
{
    struct tdx_deferred *d = (struct tdx_deferred *)self;

    if (!d)
        return;
    vouch_dcap_eventlog_free(d->log);
    free(d);
}

static vouch_err tdx_verify_deferred(const struct vouch_verifier *self, void *trust,
                                     const uint8_t *evidence, size_t evidence_len,
                                     const struct vouch_binding *binding, int64_t now,
                                     json_t **ret_claims,
                                     struct vouch_deferred_claims **ret_deferred,
                                     struct vouch_errbuf *eb)
{
    struct vouch_dcap_eventlog *log = NULL;
    struct tdx_deferred *d = NULL;
    json_t *claims = NULL;
    vouch_err e;

    e = dcap_verify_log(self, trust, evidence, evidence_len, binding, now, &claims, &log, eb);
    if (e)
        return e;
    if (log && !(d = calloc(1, sizeof(*d)))) {
        vouch_dcap_eventlog_free(log);
        json_decref(claims);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (d) {
        d->base.names = tdx_deferred_names;
        d->base.build = tdx_deferred_build;
        d->base.free = tdx_deferred_free;
        d->log = log;
    }
    *ret_claims = claims;
    *ret_deferred = d ? &d->base : NULL;
    return VOUCH_OK;
}

/* The DCAP context over the host's collateral; none without a source. */
static vouch_err dcap_trust_new(const struct vouch_verifier *self,
                                const struct vouch_verifier_host *host, void **ret_trust,
                                struct vouch_errbuf *eb)
{
    const struct vouch_dcap_source *src = host->source(host->ctx, VOUCH_SOURCE_PCS_COLLATERAL);
    const char *root_path = host->option(host->ctx, "dcap-root");
    struct vouch_dcap_ctx *ctx = NULL;
    X509 *root = NULL;
    vouch_err e;

    (void)self;
    if (!src) {
        *ret_trust = NULL;
        return VOUCH_OK;
    }
    if (root_path && (e = vouch_x509_load_file(root_path, &root, eb)))
        return vouch_fail_prefix(eb, e, "--dcap-root: ");
    e = vouch_dcap_ctx_new(src, root, &ctx, eb);
    X509_free(root);
    if (e)
        return vouch_fail_prefix(eb, e, "DCAP verifier: ");
    *ret_trust = ctx;
    return VOUCH_OK;
}

static void dcap_trust_free(void *trust)
{
    vouch_dcap_ctx_free(trust);
}

/* SGX quotes are checked against the same collateral: share tdx's context. */
static vouch_err sgx_trust_new(const struct vouch_verifier *self,
                               const struct vouch_verifier_host *host, void **ret_trust,
                               struct vouch_errbuf *eb)
{
    (void)self;
    (void)eb;
    *ret_trust = host->trust(host->ctx, "tdx");
    return VOUCH_OK;
}

static const struct vouch_inspect_cmd inspect_quote = {
    .name = "quote",
    .usage = "FILE [--eventlog LOG [--aa-eventlog AALOG]] [--collateral PATH] [--root CERT] "
             "[--at RFC3339] [--json]",
    .summary = "parse an SGX/TDX quote; with collateral, verify it as Intel's QVL does; "
               "replay a TDX event log against its RTMRs",
    .options = "FILE\tthe quote: binary, or hex text (0x prefix allowed); \"-\" reads stdin\n"
               "--eventlog LOG\ta TDX event log (a CCEL log area or dstack's JSON log) to "
               "replay against the quote's RTMRs; exit 1 when an RTMR differs\n"
               "--aa-eventlog AALOG\tthe attestation agent's text event log, added to the "
               "replay of --eventlog's (needs --eventlog)\n"
               VOUCH_HELP_COLLATERAL "; verify the quote with it (without it the quote is "
               "only parsed)\n"
               "--root CERT\twith --collateral: a root CA certificate file to use instead of "
               "Intel's SGX Root CA (or a collateral directory's root_ca)\n"
               VOUCH_HELP_AT "; matters with --collateral only\n"
               VOUCH_HELP_JSON,
};

/* A TD is its build-time measurement and its four run-time measurement registers. */
static const char *const tdx_subject[] = {
    "quote.body.mr_td", "quote.body.rtmr_0", "quote.body.rtmr_1", "quote.body.rtmr_2",
    "quote.body.rtmr_3", NULL,
};
/* An enclave is its measurement. */
static const char *const sgx_subject[] = { "body.mr_enclave", NULL };

const struct vouch_verifier vouch_verifier_tdx = {
    .tee = "tdx",
    .verify = dcap_verify,
    .trust_new = dcap_trust_new,
    .trust_free = dcap_trust_free,
    .inspect = &inspect_quote,
    .subject_claims = tdx_subject,
    .verify_deferred = tdx_verify_deferred,
};
const struct vouch_verifier vouch_verifier_sgx = {
    .tee = "sgx",
    .verify = dcap_verify,
    .trust_new = sgx_trust_new,
    .inspect = &inspect_quote,
    .subject_claims = sgx_subject,
};
