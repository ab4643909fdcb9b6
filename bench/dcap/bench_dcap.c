/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_dcap: DCAP verifications per second, single thread, for one quote
 * and its QuoteCollateralV3 collateral at a fixed time.
 *   cold: the cache is flushed before every verification (every chain,
 *         CRL, document and QE report signature is checked); decoded
 *         certificate and CRL objects are reused (src/crypto/x509.c);
 *   cold-nothing-cached: the decoded objects are dropped too, as for a
 *         process's very first verification;
 *   warm: collateral and PCK chain already verified (parse, one quote
 *         signature, TCB evaluation, claims).
 * and TDX event logs (ccel.c), the step a tdx verification adds when the
 * evidence carries one:
 *   eventlog-64k: parse + replay of trustee's 64 KiB OVMF CCEL;
 *   eventlog-gcp: parse + replay + claims of the 256 KiB GCP COS CCEL
 *         (43 events), as the verifier runs it;
 *   eventlog-dstack: the same for dstack's JSON log (28 events).
 * usage: bench_dcap [SECONDS [QUOTE COLLATERAL UNIX_TIME]]
 * Defaults: dcap-qvl's TDX v4 sample (vector V2) at 2025-07-19T10:00:34Z.
 * Output: one line per mode, "mode=cold ops=N secs=S per_sec=R" (and
 * "us_per_op=U" for the event-log modes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/time.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"

static unsigned char *load(const char *path, size_t *ret_len)
{
    struct vouch_errbuf eb;
    uint8_t *data;

    if (vouch_file_read(path, 64u << 20, &data, ret_len, &eb)) {
        fprintf(stderr, "bench_dcap: %s\n", eb.msg);
        return NULL;
    }
    return data;
}

static int run(struct vouch_dcap_ctx *ctx, const unsigned char *q, size_t len, int64_t now,
               double secs, int cold, const char *name)
{
    struct vouch_errbuf eb = { "" };
    uint64_t start = vouch_clock_us(), end = start + (uint64_t)(secs * 1e6), t;
    unsigned long ops = 0;

    do {
        int i;

        for (i = 0; i < 16; i++) {
            struct vouch_dcap_result *r = NULL;

            if (cold)
                vouch_dcap_ctx_flush(ctx);
            if (cold > 1)
                vouch_x509_cache_clear();
            if (vouch_dcap_verify(ctx, q, len, now, &r, &eb)) {
                fprintf(stderr, "bench_dcap: %s\n", eb.msg);
                return -1;
            }
            vouch_dcap_result_free(r);
            ops++;
        }
        t = vouch_clock_us();
    } while (t < end);
    printf("mode=%s ops=%lu secs=%.3f per_sec=%.0f\n", name, ops, (double)(t - start) / 1e6,
           (double)ops * 1e6 / (double)(t - start));
    return 0;
}

/* One event-log pass: parse, replay, and with `claims` the claims too. */
static int eventlog_once(const uint8_t *log, size_t len, int claims, struct vouch_errbuf *eb)
{
    uint8_t r[VOUCH_DCAP_RTMR_COUNT][VOUCH_DCAP_RTMR_SIZE];
    struct vouch_dcap_eventlog *el = NULL;
    json_t *c = NULL;
    int rc = -1;

    if (vouch_dcap_eventlog_parse(log, len, &el, eb) || vouch_dcap_eventlog_replay(el, r, eb))
        goto out;
    if (claims && (!(c = json_object()) || vouch_dcap_eventlog_claims(el, c, eb)))
        goto out;
    rc = 0;
out:
    json_decref(c);
    vouch_dcap_eventlog_free(el);
    return rc;
}

static int run_eventlog(const char *path, int claims, double secs, const char *name)
{
    struct vouch_errbuf eb = { "" };
    uint64_t start, end, t;
    unsigned long ops = 0;
    size_t len;
    uint8_t *log = load(path, &len);
    int rc = -1;

    if (!log)
        return -1;
    start = vouch_clock_us();
    end = start + (uint64_t)(secs * 1e6);
    do {
        int i;

        for (i = 0; i < 16; i++, ops++)
            if (eventlog_once(log, len, claims, &eb)) {
                fprintf(stderr, "bench_dcap: %s: %s\n", path, eb.msg);
                goto out;
            }
        t = vouch_clock_us();
    } while (t < end);
    printf("mode=%s ops=%lu secs=%.3f per_sec=%.0f us_per_op=%.1f\n", name, ops,
           (double)(t - start) / 1e6, (double)ops * 1e6 / (double)(t - start),
           (double)(t - start) / (double)ops);
    rc = 0;
out:
    free(log);
    return rc;
}

int main(int argc, char **argv)
{
    const char *qpath = "tests/vectors/dcap/dcap-qvl/sample/tdx_quote";
    const char *cpath = "tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json";
    int64_t now = 1752919234;
    double secs = 3;
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_file_source *fs = NULL;
    struct vouch_dcap_ctx *ctx = NULL;
    unsigned char *q;
    size_t len;
    int rc = 1;

    if (argc >= 2 && atof(argv[1]) > 0)
        secs = atof(argv[1]);
    if (argc >= 5) {
        qpath = argv[2];
        cpath = argv[3];
        now = strtoll(argv[4], NULL, 10);
    }
    q = load(qpath, &len);
    if (!q) {
        fprintf(stderr, "bench_dcap: cannot read %s\n", qpath);
        return 1;
    }
    if (vouch_dcap_file_source_open(cpath, NULL, &fs, &eb) ||
        vouch_dcap_ctx_new(vouch_dcap_file_source_get(fs), NULL, &ctx, &eb)) {
        fprintf(stderr, "bench_dcap: %s\n", eb.msg);
        goto out;
    }
    if (run(ctx, q, len, now, secs, 2, "cold-nothing-cached") ||
        run(ctx, q, len, now, secs, 1, "cold") || run(ctx, q, len, now, secs, 0, "warm"))
        goto out;
    if (run_eventlog("tests/vectors/tdx-eventlog/trustee/CCEL_data_ovmf", 0, secs,
                     "eventlog-64k") ||
        run_eventlog("tests/vectors/tdx-eventlog/go-tdx-guest/ccel_data.dat", 1, secs,
                     "eventlog-gcp") ||
        run_eventlog("tests/vectors/tdx-eventlog/dstack/event_log.json", 1, secs,
                     "eventlog-dstack"))
        goto out;
    rc = 0;
out:
    vouch_dcap_ctx_free(ctx);
    vouch_dcap_file_source_free(fs);
    free(q);
    return rc;
}
