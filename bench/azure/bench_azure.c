/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_azure: Azure CVM evidence verifications per second, single thread,
 * through the registered verifiers, on trustee's real v1 documents
 * (tests/vectors/azure) at 2025-06-05T03:45:00Z, with the nonce bound.
 * Every verification runs every check and must pass.
 *   az-snp-vtpm:  JSON parse, HCL report, SNP report with the VCEK chain
 *                 remembered (one P-384 verification), HCL binding, the
 *                 AK's JWK, the vTPM quote (one RSA-2048 verification),
 *                 PCR digest, claims;
 *   az-tdx-vtpm:  the same with the TD quote through the tdx verifier and
 *                 its DCAP cache (collateral of
 *                 tests/vectors/dcap/phala_format/automata_v4_tdx_0625.json).
 * Run from the source root.
 * usage: bench_azure [SECONDS [MODE]]
 * Output: one line per mode, "mode=az-snp-vtpm ops=N secs=S per_sec=R us=U cpu_per_sec=C".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "common/time.h"
#include "evidence/dcap/dcap.h"
#include "vouch/evidence.h"

#define V "tests/vectors/azure/"
#define COLLATERAL "tests/vectors/dcap/phala_format/automata_v4_tdx_0625.json"
#define AT 1749095100   /* 2025-06-05T03:45:00Z */
#define NONCE "challenge"

static uint8_t *load(const char *path, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t *data;

    if (vouch_file_read(path, 1u << 20, &data, ret_len, &eb)) {
        fprintf(stderr, "bench_azure: %s (run from the source root)\n", eb.msg);
        exit(1);
    }
    return data;
}

static int one(const char *tee, void *trust, const uint8_t *doc, size_t len)
{
    const struct vouch_verifier *v = vouch_verifier_find(tee);
    struct vouch_binding b = { (const uint8_t *)NONCE, strlen(NONCE), NULL, 0 };
    struct vouch_errbuf eb = { "" };
    json_t *c = NULL;
    vouch_err e = v->verify(v, trust, doc, len, &b, AT, &c, &eb);

    json_decref(c);
    if (e) {
        fprintf(stderr, "bench_azure: %s: %s\n", tee, eb.msg);
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

static int run(const char *tee, void *trust, const char *file, double secs)
{
    size_t len;
    uint8_t *doc = load(file, &len);
    unsigned long ops = 0;
    uint64_t start, end, now;
    double cpu0;
    int rc = one(tee, trust, doc, len);   /* warm the chain and collateral caches */

    cpu0 = cpu_seconds();
    start = vouch_clock_us();
    end = start + (uint64_t)(secs * 1e6);
    do {
        if (one(tee, trust, doc, len))
            rc = -1;
        ops++;
        now = vouch_clock_us();
    } while (!rc && now < end);
    free(doc);
    if (rc)
        return rc;
    printf("mode=%s ops=%lu secs=%.3f per_sec=%.0f us=%.1f cpu_per_sec=%.0f\n", tee, ops,
           (double)(now - start) / 1e6, (double)ops * 1e6 / (double)(now - start),
           (double)(now - start) / (double)ops, (double)ops / (cpu_seconds() - cpu0));
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    const char *only = argc > 2 ? argv[2] : NULL;
    struct vouch_dcap_file_source *fs = NULL;
    struct vouch_dcap_ctx *ctx = NULL;
    struct vouch_errbuf eb = { "" };
    int rc = 0;

    if (secs <= 0)
        secs = 3.0;
    if (vouch_dcap_file_source_open(COLLATERAL, NULL, &fs, &eb) ||
        vouch_dcap_ctx_new(vouch_dcap_file_source_get(fs), NULL, &ctx, &eb)) {
        fprintf(stderr, "bench_azure: %s\n", eb.msg);
        return 1;
    }
    if (!only || strcmp(only, "az-snp-vtpm") == 0)
        rc = run("az-snp-vtpm", NULL, V "snp-evidence-v1.json", secs);
    if (!rc && (!only || strcmp(only, "az-tdx-vtpm") == 0))
        rc = run("az-tdx-vtpm", ctx, V "tdx-evidence-v1.json", secs);
    vouch_dcap_ctx_free(ctx);
    vouch_dcap_file_source_free(fs);
    return rc ? 1 : 0;
}
