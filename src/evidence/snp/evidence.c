/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trustee's tee=snp evidence document:
 *   {"attestation_report": {...report fields...},
 *    "cert_chain": [{"cert_type": "VCEK"|"VLEK"|"ASK"|"ARK"|"CRL"|"Empty"|{"OTHER": uuid},
 *                    "data": [bytes]}] | null}
 * A CRL entry is AMD's CRL (DER or PEM); the verifier checks it like a stored one.
 * The report is rebuilt to its 1184 bytes (the signature covers those) and
 * parsed like a raw one.  VCEK/VLEK and ASK/ARK entries are DER or PEM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/snp/snp.h"

/* The bytes of an entry's "data" (at most VOUCH_SNP_CERT_MAX). */
static vouch_err entry_data(const json_t *entry, const char *field, uint8_t **ret,
                            size_t *ret_len, struct vouch_errbuf *eb)
{
    const json_t *a = json_object_get(entry, "data");
    size_t i, n = json_array_size(a);
    uint8_t *buf;

    if (!json_is_array(a) || n == 0 || n > VOUCH_SNP_CERT_MAX)
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "'data' is not an array of 1..%u "
                                "bytes", VOUCH_SNP_CERT_MAX);
    buf = malloc(n);
    if (!buf)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;

        if (x < 0 || x > 255) {
            free(buf);
            return vouch_fail_field(eb, VOUCH_E_INVALID, field, "'data'[%zu] is not a byte", i);
        }
        buf[i] = (uint8_t)x;
    }
    *ret = buf;
    *ret_len = n;
    return VOUCH_OK;
}

static vouch_err decode_cert(const uint8_t *p, size_t n, const char *field, X509 **ret,
                             struct vouch_errbuf *eb)
{
    STACK_OF(X509) *sk = NULL;
    vouch_err e;

    if (n > 0 && p[0] == '-') {
        e = vouch_x509_parse_pem_chain((const char *)p, n, 1, &sk, eb);
        if (!e) {
            *ret = sk_X509_value(sk, 0);
            X509_up_ref(*ret);
        }
        sk_X509_pop_free(sk, X509_free);
    } else {
        e = vouch_x509_parse_der(p, n, ret, eb);
    }
    ERR_clear_error();
    if (e)
        return vouch_errbuf_set_field(eb, VOUCH_E_INVALID, field);
    return VOUCH_OK;
}

/* A "CRL" entry: AMD's CRL (DER or PEM), at most one. */
static vouch_err add_crl(const json_t *entry, const char *field, struct vouch_snp_evidence *ev,
                         struct vouch_errbuf *eb)
{
    uint8_t *data = NULL;
    size_t n;
    vouch_err e;

    if (ev->crl)
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "more than one CRL");
    e = entry_data(entry, field, &data, &n, eb);
    if (!e && vouch_crl_parse(data, n, &ev->crl, eb))
        e = vouch_fail_field(eb, VOUCH_E_INVALID, field, "the CRL entry is not a CRL");
    free(data);
    ERR_clear_error();
    return e;
}

/* One cert_chain entry: VEKs, ASK/ARK and the CRL are kept; Empty and OTHER skipped. */
static vouch_err add_entry(const json_t *entry, size_t idx, struct vouch_snp_evidence *ev,
                           struct vouch_errbuf *eb)
{
    const char *type = json_string_value(json_object_get(entry, "cert_type"));
    bool vek, chain;
    char field[48];
    uint8_t *data = NULL;
    size_t n;
    X509 *x = NULL;
    vouch_err e;

    snprintf(field, sizeof(field), "cert_chain[%zu]", idx);
    if (!json_is_object(entry))
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "an entry is not an object");
    if (!type) {
        if (json_is_object(json_object_get(entry, "cert_type")) &&
            json_object_get(json_object_get(entry, "cert_type"), "OTHER"))
            return VOUCH_OK;
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "'cert_type' is missing");
    }
    vek = strcmp(type, "VCEK") == 0 || strcmp(type, "VLEK") == 0;
    chain = strcmp(type, "ASK") == 0 || strcmp(type, "ARK") == 0;
    if (!vek && !chain) {
        if (strcmp(type, "CRL") == 0)
            return add_crl(entry, field, ev, eb);
        if (strcmp(type, "Empty") == 0)
            return VOUCH_OK;
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "unknown cert_type '%s'", type);
    }
    if (vek && ev->vek)
        return vouch_fail_field(eb, VOUCH_E_INVALID, field, "more than one VCEK/VLEK");
    e = entry_data(entry, field, &data, &n, eb);
    if (!e)
        e = decode_cert(data, n, field, &x, eb);
    free(data);
    if (e)
        return e;
    if (vek)
        ev->vek = x;
    else if (!sk_X509_push(ev->extra, x)) {
        X509_free(x);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    return VOUCH_OK;
}

static vouch_err parse_chain(const json_t *doc, struct vouch_snp_evidence *ev,
                             struct vouch_errbuf *eb)
{
    const json_t *chain = json_object_get(doc, "cert_chain");
    size_t i;
    vouch_err e;

    if (!chain || json_is_null(chain))
        return VOUCH_OK;
    if (!json_is_array(chain) || json_array_size(chain) > VOUCH_SNP_MAX_CERTS)
        return vouch_fail_field(eb, VOUCH_E_INVALID, "cert_chain", "'cert_chain' is not an "
                                "array of at most %d entries", VOUCH_SNP_MAX_CERTS);
    for (i = 0; i < json_array_size(chain); i++)
        if ((e = add_entry(json_array_get(chain, i), i, ev, eb)))
            return e;
    return VOUCH_OK;
}

static vouch_err parse_report(const json_t *doc, struct vouch_snp_evidence *ev,
                              struct vouch_errbuf *eb)
{
    uint8_t raw[VOUCH_SNP_REPORT_SIZE];
    char field[sizeof(eb->field)];
    vouch_err e;

    e = vouch_snp_report_from_json(json_object_get(doc, "attestation_report"), raw, eb);
    if (!e)
        e = vouch_snp_report_parse(raw, sizeof(raw), &ev->report, eb);
    if (!e)
        return VOUCH_OK;
    if (eb && eb->field[0])
        snprintf(field, sizeof(field), "attestation_report.%.70s", eb->field);
    else
        snprintf(field, sizeof(field), "attestation_report");
    vouch_errbuf_set_field(eb, e, field);
    return vouch_fail_prefix(eb, e, "attestation_report: ");
}

vouch_err vouch_snp_evidence_parse(const uint8_t *doc, size_t len,
                                   struct vouch_snp_evidence *ret, struct vouch_errbuf *eb)
{
    struct vouch_snp_evidence *ev = calloc(1, sizeof(*ev));
    json_t *j = NULL;
    vouch_err e;

    if (!ev || !(ev->extra = sk_X509_new_null())) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    if (len > VOUCH_SNP_EVIDENCE_MAX) {
        e = vouch_fail(eb, VOUCH_E_TOO_LARGE, "evidence is over %u bytes", VOUCH_SNP_EVIDENCE_MAX);
        goto out;
    }
    e = vouch_json_parse(doc, len, &j, eb);
    if (e)
        goto out;
    if (!json_is_object(j)) {
        e = vouch_fail(eb, VOUCH_E_INVALID, "evidence is not a JSON object");
        goto out;
    }
    e = parse_report(j, ev, eb);
    if (!e)
        e = parse_chain(j, ev, eb);
    if (e)
        goto out;
    *ret = *ev;
    memset(ev, 0, sizeof(*ev));
out:
    vouch_snp_evidence_done(ev);
    free(ev);
    json_decref(j);
    return e;
}

void vouch_snp_evidence_done(struct vouch_snp_evidence *ev)
{
    if (!ev)
        return;
    X509_free(ev->vek);
    sk_X509_pop_free(ev->extra, X509_free);
    X509_CRL_free(ev->crl);
    ev->vek = NULL;
    ev->extra = NULL;
    ev->crl = NULL;
}
