/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect snp REPORT [--vcek CERT] [--chain PEM] [--crl CRL] [--at RFC3339]
 *
 * Show an AMD SEV-SNP report offline and, given its VEK, verify it as
 * vouchd does.  REPORT is the raw 1184-byte report or trustee's tee=snp
 * evidence document (whose cert_chain may carry the VCEK/VLEK); "-" reads
 * it from stdin.  --vcek is
 * the VCEK or VLEK (DER or PEM, as KDS sends it); --chain the ASK/ASVK and
 * ARK (PEM), each of which must be AMD's pinned certificate; --crl AMD's
 * CRL of the product (DER or PEM), checked when given.  --at verifies as
 * of that instant (default now).  Prints one JSON object:
 *   {"report": {...every field...}, "verified": true|false,
 *    "error": "why" (when not verified), "claims": {...} (when verified)}
 * Exit status: 0 verified (or shown, without a VEK), 1 verification
 * failed, 2 usage, 3 unreadable input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/snp/snp.h"

#define INPUT_MAX (1u << 20)

struct args {
    const char *report, *vcek, *chain, *crl;
    int64_t now;
};

static int parse_args(int argc, char **argv, struct args *a)
{
    struct vouch_errbuf eb;
    int i;

    a->now = vouch_clock_now();
    for (i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(argv[i], "--vcek") == 0 && v)
            a->vcek = argv[++i];
        else if (strcmp(argv[i], "--chain") == 0 && v)
            a->chain = argv[++i];
        else if (strcmp(argv[i], "--crl") == 0 && v)
            a->crl = argv[++i];
        else if (strcmp(argv[i], "--at") == 0 && v) {
            if (vouch_time_parse_rfc3339(v, strlen(v), &a->now, NULL, &eb)) {
                fprintf(stderr, "vouch: --at: %s\n", eb.msg);
                return VOUCH_EXIT_USAGE;
            }
            i++;
        } else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) && !a->report)
            a->report = argv[i];
        else
            return vouch_cli_usage("inspect snp");
    }
    return a->report ? VOUCH_EXIT_OK : vouch_cli_usage("inspect snp");
}

/* The report (raw, or trustee's document with its certificates) and the options' files. */
static vouch_err load_inputs(const struct args *a, struct vouch_snp_evidence *ev,
                             X509_CRL **crl, struct vouch_errbuf *eb)
{
    uint8_t *d = NULL;
    size_t n = 0;
    vouch_err e;

    if (strcmp(a->report, "-") == 0)
        e = vouch_file_read_stream(stdin, "standard input", INPUT_MAX, &d, &n, eb);
    else
        e = vouch_file_read(a->report, INPUT_MAX, &d, &n, eb);
    if (!e && n > 0 && d[0] == '{') {
        e = vouch_snp_evidence_parse(d, n, ev, eb);
    } else if (!e) {
        ev->extra = sk_X509_new_null();
        e = ev->extra ? vouch_snp_report_parse(d, n, &ev->report, eb)
                      : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    free(d);
    if (!e && ev->crl) {
        *crl = ev->crl;
        ev->crl = NULL;
    }
    if (!e && a->vcek) {
        X509_free(ev->vek);
        ev->vek = NULL;
        e = vouch_x509_load_file(a->vcek, &ev->vek, eb);
    }
    if (!e && a->chain) {
        STACK_OF(X509) *sk = NULL;

        e = vouch_file_read(a->chain, INPUT_MAX, &d, &n, eb);
        if (!e)
            e = vouch_x509_parse_pem_chain((const char *)d, n, 4, &sk, eb);
        free(d);
        while (!e && sk_X509_num(sk) > 0)
            sk_X509_push(ev->extra, sk_X509_shift(sk));
        sk_X509_free(sk);
    }
    if (!e && a->crl) {
        X509_CRL_free(*crl);   /* --crl wins over the evidence's CRL entry */
        *crl = NULL;
        e = vouch_file_read(a->crl, INPUT_MAX, &d, &n, eb);
        if (!e)
            e = vouch_crl_parse(d, n, crl, eb);
        free(d);
    }
    return e;
}

/* Chain, match, signature, CRL and VMPL, as the snp verifier checks them. */
static vouch_err verify(const struct vouch_snp_evidence *ev, X509_CRL *crl, int64_t now,
                        json_t **ret_claims, struct vouch_errbuf *eb)
{
    struct vouch_snp_vek k;
    vouch_err e;

    e = vouch_snp_verify_report(&ev->report, ev->vek, ev->extra, now, VOUCH_SNP_NO_CACHE, eb);
    if (!e && crl && !(e = vouch_snp_vek_parse(ev->vek, &k, eb)))
        e = vouch_snp_crl_check(crl, k.product, k.role, now, eb);
    if (!e)
        e = vouch_snp_check_guest(&ev->report, eb);
    if (!e)
        e = vouch_snp_claims(&ev->report, ret_claims, eb);
    return e;
}

int vouch_cmd_inspect_snp(int argc, char **argv)
{
    struct vouch_snp_evidence ev = { 0 };
    struct args a = { 0 };
    struct vouch_errbuf eb;
    X509_CRL *crl = NULL;
    json_t *out = NULL, *rep = NULL, *claims = NULL;
    int rc = parse_args(argc, argv, &a);

    if (rc)
        return rc;
    if (load_inputs(&a, &ev, &crl, &eb) || vouch_snp_report_to_json(&ev.report, &rep, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    out = json_pack("{s:o}", "report", rep);
    if (!ev.vek) {
        json_object_set_new(out, "verified", json_false());
        json_object_set_new(out, "error", json_string("no VCEK or VLEK: give --vcek"));
    } else if (verify(&ev, crl, a.now, &claims, &eb)) {
        json_object_set_new(out, "verified", json_false());
        json_object_set_new(out, "error", json_string(eb.msg));
        rc = VOUCH_EXIT_FAIL;
    } else {
        json_object_set_new(out, "verified", json_true());
        json_object_set_new(out, "claims", claims);
    }
    if (!out || json_dumpf(out, stdout, JSON_INDENT(2)) != 0) {
        rc = VOUCH_EXIT_ERROR;
        goto out;
    }
    putchar('\n');
out:
    json_decref(out);
    X509_CRL_free(crl);
    vouch_snp_evidence_done(&ev);
    return rc;
}
