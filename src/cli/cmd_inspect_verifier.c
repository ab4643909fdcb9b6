/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vouch inspect evidence --tee TEE EVIDENCE [--at RFC3339] [--collateral PATH]
 *                        [--rims DIR] [--OPTION VALUE]...
 * vouch inspect NAME EVIDENCE ...   (a verifier's inspect command without
 *                                    a CLI file of its own)
 *
 * Verify an evidence document as vouchd would, without binding or
 * policies: the verifier sets up its trust with its own trust_new hook,
 * from a host made of the arguments (each --OPTION VALUE is offered as
 * option OPTION, e.g. --nvgpu-device-root; --collateral is the PCS
 * collateral source, a QuoteCollateralV3 file or a directory of PCS
 * responses; --rims a RIM directory; --vcek and --crl AMD collateral, as
 * if imported; the network goes through the HTTP
 * client), then the claims are printed as JSON.  An option given twice,
 * or one that no set-up read (a typo, or --json taking the evidence path as
 * its value), is a usage error.  Exit status: 0 verified,
 * 1 verification failed, 2 usage, 3 unreadable input or bad set-up.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"
#include "evidence/nvgpu/rim.h"
#include "evidence/snp/snp.h"
#include "net/http_client.h"
#include "vouch/evidence.h"

#define EVIDENCE_MAX (16u << 20)
#define CRL_MAX (1u << 20)
#define OPTIONS_MAX 16
#define VERIFIERS_MAX 32

struct cli_host {
    const char *names[OPTIONS_MAX], *values[OPTIONS_MAX];
    bool read[OPTIONS_MAX];                 /* asked for by a verifier or a source */
    size_t n;
    struct vouch_net_source net;
    struct vouch_dcap_file_source *pcs;     /* --collateral */
    struct vouch_nvgpu_rimdir *rimdir;      /* --rims */
    struct vouch_nvgpu_rim_source rims;
    X509 *vcek;                             /* --vcek */
    X509_CRL *crl;                          /* --crl */
    struct vouch_snp_source amd;
    const struct vouch_verifier *verifiers[VERIFIERS_MAX];
    void *trusts[VERIFIERS_MAX];
    size_t n_trusts;
};

static const char *host_option(void *ctx, const char *name)
{
    struct cli_host *h = ctx;
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0) {
            h->read[i] = true;
            return h->values[i];
        }
    return NULL;
}

/*
 * Each --OPTION VALUE once.  A second one would never be read, and a flag
 * such as --json would take the evidence path as its value, so both are
 * usage errors rather than silently ignored.
 */
static bool option_add(struct cli_host *h, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcmp(h->names[i], name) == 0) {
            fprintf(stderr, "vouch: --%s: given twice\n", name);
            return false;
        }
    if (h->n == OPTIONS_MAX) {
        fprintf(stderr, "vouch: at most %d --OPTION VALUE pairs\n", OPTIONS_MAX);
        return false;
    }
    h->names[h->n] = name;
    h->values[h->n++] = value;
    return true;
}

/* After set-up: an option nothing read is a mistake the user should hear of. */
static bool options_all_read(const struct cli_host *h, const char *tee)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (!h->read[i]) {
            fprintf(stderr,
                    "vouch: --%s %s: not an option of the %s verifier as set up (see "
                    "vouch inspect evidence --help)\n",
                    h->names[i], h->values[i], tee);
            return false;
        }
    return true;
}

static const void *host_source(void *ctx, const char *name)
{
    struct cli_host *h = ctx;

    if (strcmp(name, VOUCH_SOURCE_NET) == 0)
        return &h->net;
    if (strcmp(name, VOUCH_SOURCE_PCS_COLLATERAL) == 0 && h->pcs)
        return vouch_dcap_file_source_get(h->pcs);
    if (strcmp(name, VOUCH_SOURCE_RIMS) == 0 && h->rimdir)
        return &h->rims;
    if (strcmp(name, VOUCH_SOURCE_AMD_COLLATERAL) == 0 && (h->vcek || h->crl))
        return &h->amd;
    return NULL;
}

/*
 * The AMD collateral of --vcek and --crl, offered as vouchd offers the
 * stored one: the verifier checks that the VCEK signed the report and is
 * AMD's, and that the CRL is the ARK's of the VCEK's product.
 */
static vouch_err amd_vcek(void *ctx, enum vouch_snp_product p, const uint8_t *hwid,
                          size_t hwid_len, const struct vouch_snp_tcb *tcb, X509 **ret,
                          struct vouch_errbuf *eb)
{
    struct cli_host *h = ctx;

    (void)p, (void)hwid, (void)hwid_len, (void)tcb;
    if (!h->vcek)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no VCEK or VLEK: give --vcek");
    X509_up_ref(h->vcek);
    *ret = h->vcek;
    return VOUCH_OK;
}

static vouch_err amd_crl(void *ctx, enum vouch_snp_product p, X509_CRL **ret,
                         struct vouch_errbuf *eb)
{
    struct cli_host *h = ctx;

    (void)p;
    if (!h->crl)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no CRL");
    X509_CRL_up_ref(h->crl);
    *ret = h->crl;
    return VOUCH_OK;
}

/* --vcek CERT (DER or PEM) and --crl CRL (DER or PEM), when given. */
static vouch_err amd_open(struct cli_host *h, struct vouch_errbuf *eb)
{
    const char *vcek = host_option(h, "vcek"), *crl = host_option(h, "crl");
    uint8_t *d = NULL;
    size_t n = 0;
    vouch_err e = VOUCH_OK;

    h->amd = (struct vouch_snp_source){ amd_vcek, amd_crl, h };
    if (vcek && (e = vouch_x509_load_file(vcek, &h->vcek, eb)))
        return vouch_fail_prefix(eb, e, "--vcek: ");
    if (!crl)
        return VOUCH_OK;
    e = vouch_file_read(crl, CRL_MAX, &d, &n, eb);
    if (!e)
        e = vouch_crl_parse(d, n, &h->crl, eb);
    free(d);
    return e ? vouch_fail_prefix(eb, e, "--crl: ") : VOUCH_OK;
}

static void *host_trust(void *ctx, const char *tee)
{
    const struct cli_host *h = ctx;
    size_t i;

    for (i = 0; i < h->n_trusts; i++)
        if (strcmp(h->verifiers[i]->tee, tee) == 0)
            return h->trusts[i];
    return NULL;
}

/* Trust for every verifier up to `target` (it may borrow an earlier one's). */
static vouch_err trusts_setup(struct cli_host *h, const struct vouch_verifier *target,
                              struct vouch_errbuf *eb)
{
    const struct vouch_verifier_host view = { host_option, host_source, host_trust, h };
    const struct vouch_verifier *v;
    vouch_err e;

    while (h->n_trusts < VERIFIERS_MAX && (v = vouch_verifier_at(h->n_trusts))) {
        h->verifiers[h->n_trusts] = v;
        h->trusts[h->n_trusts] = NULL;
        e = v->trust_new ? v->trust_new(v, &view, &h->trusts[h->n_trusts], eb) : VOUCH_OK;
        h->n_trusts++;
        if (e)
            return e;
        if (v == target)
            break;
    }
    return VOUCH_OK;
}

static void trusts_free(struct cli_host *h)
{
    while (h->n_trusts > 0) {
        h->n_trusts--;
        if (h->verifiers[h->n_trusts]->trust_free)
            h->verifiers[h->n_trusts]->trust_free(h->trusts[h->n_trusts]);
    }
}

/* The sources named by --collateral, --rims, --vcek and --crl, when given. */
static vouch_err sources_open(struct cli_host *h, struct vouch_errbuf *eb)
{
    const char *coll = host_option(h, "collateral"), *rims = host_option(h, "rims");
    size_t skipped = 0;
    vouch_err e;

    if (coll && (e = vouch_dcap_file_source_open(coll, NULL, &h->pcs, eb)))
        return vouch_fail_prefix(eb, e, "--collateral: ");
    if (rims) {
        if ((e = vouch_nvgpu_rimdir_open(rims, &h->rimdir, &skipped, eb)))
            return vouch_fail_prefix(eb, e, "--rims: ");
        h->rims = vouch_nvgpu_rimdir_source(h->rimdir);
    }
    return amd_open(h, eb);
}

/* The first registered verifier whose inspect command is `name`. */
static const struct vouch_verifier *verifier_named(const char *name)
{
    const struct vouch_verifier *v;
    size_t i;

    for (i = 0; (v = vouch_verifier_at(i)); i++)
        if (v->inspect && strcmp(v->inspect->name, name) == 0)
            return v;
    return NULL;
}

static int print_claims(json_t *claims, const char *tee, int64_t now)
{
    char when[VOUCH_RFC3339_LEN];
    json_t *out;
    int rc;

    vouch_time_format_rfc3339(now, when);
    out = json_pack("{s:s,s:s,s:O}", "tee", tee, "at", when, "claims", claims);
    rc = vouch_cli_print_json(out);
    json_decref(out);
    return rc;
}

int vouch_cmd_inspect_verifier(int argc, char **argv)
{
    char cmd[80];
    bool by_tee = strcmp(argv[0], "evidence") == 0;
    const struct vouch_verifier *v = by_tee ? NULL : verifier_named(argv[0]);
    struct cli_host h = { .net = { vouch_http_post, NULL } };
    struct vouch_errbuf eb = { "" };
    const char *file = NULL, *at = NULL;
    unsigned char *data = NULL;
    json_t *claims = NULL;
    int64_t now = vouch_clock_now();
    size_t len;
    int i, rc = VOUCH_EXIT_ERROR;
    vouch_err e;

    snprintf(cmd, sizeof(cmd), "inspect %s", argv[0]);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--at") == 0 && i + 1 < argc)
            at = argv[++i];
        else if (by_tee && strcmp(argv[i], "--tee") == 0 && i + 1 < argc) {
            if (!(v = vouch_verifier_find(argv[++i]))) {
                fprintf(stderr, "vouch: --tee: no verifier for '%s'\n", argv[i]);
                return VOUCH_EXIT_USAGE;
            }
        }
        else if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] && i + 1 < argc) {
            if (!option_add(&h, argv[i] + 2, argv[i + 1]))
                return VOUCH_EXIT_USAGE;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return vouch_cli_usage(cmd);
        else if (!file)
            file = argv[i];
        else
            return vouch_cli_usage(cmd);
    }
    if (!file || !v)
        return vouch_cli_usage(cmd);
    if (at && vouch_time_parse_rfc3339(at, strlen(at), &now, NULL, &eb)) {
        fprintf(stderr, "vouch: --at: %s\n", eb.msg);
        return VOUCH_EXIT_USAGE;
    }
    if (vouch_cli_read_file(file, EVIDENCE_MAX, &data, &len))
        return VOUCH_EXIT_ERROR;
    if (sources_open(&h, &eb) || trusts_setup(&h, v, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        goto out;
    }
    if (!options_all_read(&h, v->tee)) {
        rc = VOUCH_EXIT_USAGE;
        goto out;
    }
    e = v->verify(v, host_trust(&h, v->tee), data, len, NULL, now, &claims, &eb);
    if (e) {
        fprintf(stderr, "vouch: %s: verification failed (%s): %s%s%s\n", file,
                vouch_err_name(e), eb.msg, eb.field[0] ? " at " : "", eb.field);
        rc = VOUCH_EXIT_FAIL;
        goto out;
    }
    rc = print_claims(claims, v->tee, now);
out:
    json_decref(claims);
    trusts_free(&h);
    vouch_nvgpu_rimdir_free(h.rimdir);
    X509_free(h.vcek);
    X509_CRL_free(h.crl);
    vouch_dcap_file_source_free(h.pcs);
    free(data);
    return rc;
}
