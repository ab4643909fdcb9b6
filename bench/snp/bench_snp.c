/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_snp: SEV-SNP report verifications per second, single thread, for
 * one real Milan report (trustee's test-report.bin with its VCEK) at
 * 2025-06-01.  Every verification runs every check and must pass.
 *   signature:  the floor: the report's P-384 signature alone, with the
 *               VCEK key already decoded (one EVP verification);
 *   warm:       the VCEK chain already verified (remembered by the VCEK's
 *               SHA-256): report parse, role/hwID/SPL match, one P-384
 *               signature, VMPL, claims;
 *   document:   the same through the tee=snp verifier interface, from
 *               trustee's {attestation_report, cert_chain} JSON (JSON
 *               parse, report rebuild, VCEK decode);
 *   stored:     trustee's document without a VCEK, through the verifier
 *               with the AMD collateral source as vouchd sets it up (5 s
 *               in memory): the stored VCEK looked up and decoded, and
 *               AMD's Milan CRL checked (its signature remembered);
 *   cold:       VOUCH_SNP_NO_CACHE: the chain VCEK -> ASK -> ARK (two
 *               RSA-4096 PSS verifications) checked each time; decoded
 *               certificates are reused (src/crypto/x509.c);
 *   cold-fresh: also every decoded certificate dropped, as a process's
 *               very first verification.
 * Run from the source root.
 * usage: bench_snp [SECONDS [MODE]]
 * Output: one line per mode, "mode=warm ops=N secs=S per_sec=R us=U cpu_per_sec=C":
 * per_sec counts wall-clock time, cpu_per_sec this process's CPU time (what
 * `openssl speed` reports without -elapsed), which a loaded machine skews less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collateral/amd.h"
#include "common/file.h"
#include "common/json.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/snp/snp.h"
#include "vouch/evidence.h"

#define V "tests/vectors/snp/"
#define AT 1748736000   /* 2025-06-01T00:00:00Z */

enum mode { SIGNATURE, WARM, DOCUMENT, STORED, COLD, COLD_FRESH };

struct input {
    uint8_t *report, *vek_der;
    size_t report_len, vek_len;
    char *doc;
    size_t doc_len;
};

static uint8_t *load(const char *path, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t *data;

    if (vouch_file_read(path, 1u << 20, &data, ret_len, &eb)) {
        fprintf(stderr, "bench_snp: %s (run from the source root)\n", eb.msg);
        exit(1);
    }
    return data;
}

/* trustee's evidence document of the report, with the VCEK in cert_chain. */
static void build_document(struct input *in)
{
    size_t n, i;
    uint8_t *d = load(V "trustee-e2e-evidence.json", &n);
    json_t *j = NULL, *data = json_array();

    if (vouch_json_parse(d, n, &j, NULL) || !data)
        exit(1);
    for (i = 0; i < in->vek_len; i++)
        json_array_append_new(data, json_integer(in->vek_der[i]));
    json_object_set_new(j, "cert_chain",
                        json_pack("[{s:s,s:o}]", "cert_type", "VCEK", "data", data));
    if (vouch_json_dump(j, 1u << 20, &in->doc, &in->doc_len, NULL))
        exit(1);
    json_decref(j);
    free(d);
}

static EVP_PKEY *pk;   /* the VCEK key, for the signature-only mode */

/* The stored mode: a store holding the VCEK and AMD's Milan CRL, and the source over it. */
static struct vouch_store *store;
static struct vouch_amd_collateral *amd;
static uint8_t *bare_doc;
static size_t bare_len;
static char store_dir[] = "/tmp/vouch-bench-snp-XXXXXX";

static void setup_store(void)
{
    static const char *const files[] = { V "test-vcek.der", V "amd-milan-crl.der" };
    struct vouch_errbuf eb;
    char url[64];
    size_t i, n;

    if (!mkdtemp(store_dir))
        exit(1);
    snprintf(url, sizeof(url), "sqlite:%s/b.db", store_dir);
    if (vouch_store_open(url, &store, &eb) || vouch_amd_collateral_new(store, 5, NULL, &amd, &eb))
        exit(1);
    for (i = 0; i < 2; i++) {
        uint8_t *d = load(files[i], &n);
        json_t *report = NULL;

        if (vouch_amd_collateral_import(store, d, n, files[i], AT, &report, &eb)) {
            fprintf(stderr, "bench_snp: %s\n", eb.msg);
            exit(1);
        }
        json_decref(report);
        free(d);
    }
    bare_doc = load(V "trustee-e2e-evidence.json", &bare_len);
}

static int one(const struct input *in, enum mode m)
{
    static struct vouch_snp_report r;
    struct vouch_errbuf eb = { "" };
    json_t *c = NULL;
    X509 *vek = NULL;
    vouch_err e;

    if (m == SIGNATURE) {
        if (!pk && !vouch_x509_parse_der(in->vek_der, in->vek_len, &vek, &eb)) {
            pk = X509_get0_pubkey(vek);
            EVP_PKEY_up_ref(pk);
            X509_free(vek);
            vek = NULL;
            vouch_snp_report_parse(in->report, in->report_len, &r, &eb);
        }
        e = pk ? vouch_snp_report_verify_signature(&r, pk, &eb) : VOUCH_E_INVALID;
    } else if (m == STORED) {
        e = vouch_verifier_find("snp")->verify(vouch_verifier_find("snp"),
                                               (void *)vouch_amd_collateral_source(amd),
                                               bare_doc, bare_len, NULL, AT, &c, &eb);
    } else if (m == DOCUMENT) {
        e = vouch_verifier_find("snp")->verify(vouch_verifier_find("snp"), NULL,
                                               (const uint8_t *)in->doc, in->doc_len, NULL, AT,
                                               &c, &eb);
    } else {
        e = vouch_snp_report_parse(in->report, in->report_len, &r, &eb);
        if (!e)
            e = vouch_x509_parse_der(in->vek_der, in->vek_len, &vek, &eb);
        if (!e)
            e = vouch_snp_verify_report(&r, vek, NULL, AT, m == WARM ? 0 : VOUCH_SNP_NO_CACHE,
                                        &eb);
        if (!e)
            e = vouch_snp_check_guest(&r, &eb);
        if (!e)
            e = vouch_snp_claims(&r, &c, &eb);
        X509_free(vek);
    }
    json_decref(c);
    if (e) {
        fprintf(stderr, "bench_snp: %s\n", eb.msg);
        return -1;
    }
    return 0;
}

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const struct input *in, enum mode m, const char *name, double secs)
{
    double cpu0;
    uint64_t start, end, now;
    unsigned long ops = 0;
    int rc = 0;

    vouch_snp_cache_clear();
    if ((m == WARM || m == DOCUMENT || m == STORED) && one(in, m))   /* remember the chain */
        return -1;
    cpu0 = cpu_seconds();
    start = vouch_clock_us();
    end = start + (uint64_t)(secs * 1e6);
    do {
        if (m == COLD_FRESH)
            vouch_x509_cache_clear();
        if (one(in, m))
            rc = -1;
        ops++;
        now = vouch_clock_us();
    } while (!rc && now < end);
    if (rc)
        return rc;
    printf("mode=%s ops=%lu secs=%.3f per_sec=%.0f us=%.1f cpu_per_sec=%.0f\n", name, ops,
           (double)(now - start) / 1e6, (double)ops * 1e6 / (double)(now - start),
           (double)(now - start) / (double)ops, (double)ops / (cpu_seconds() - cpu0));
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *only = argc > 2 ? argv[2] : NULL;
    static const struct {
        enum mode m;
        const char *name;
    } modes[] = {
        { SIGNATURE, "signature" }, { WARM, "warm" },       { DOCUMENT, "document" },
        { STORED, "stored" },       { COLD, "cold" },       { COLD_FRESH, "cold-fresh" },
    };
    struct input in;
    char url_rm[64];
    size_t i;
    int rc = 0;

    if (secs <= 0)
        secs = 3.0;
    memset(&in, 0, sizeof(in));
    in.report = load(V "test-report.bin", &in.report_len);
    in.vek_der = load(V "test-vcek.der", &in.vek_len);
    build_document(&in);
    setup_store();
    for (i = 0; !rc && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!only || strcmp(only, modes[i].name) == 0)
            rc = run(&in, modes[i].m, modes[i].name, secs);
    free(in.report);
    free(in.vek_der);
    free(in.doc);
    EVP_PKEY_free(pk);
    vouch_snp_cache_clear();
    vouch_amd_collateral_free(amd);
    vouch_store_close(store);
    free(bare_doc);
    snprintf(url_rm, sizeof(url_rm), "rm -rf %s", store_dir);
    if (system(url_rm) != 0)
        rc = -1;
    return rc ? 1 : 0;
}
