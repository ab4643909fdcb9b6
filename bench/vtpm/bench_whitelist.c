/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_vtpm_whitelist: vTPM program whitelists, single thread.
 *   - import of a 20,000-digest whitelist, as a sha256sum digest list and
 *     as a keylime runtime policy (parse, compile to check, store form);
 *   - its first use from the store (read + compile + cache) and later uses
 *     (one row read + a cache hit), on SQLite;
 *   - appraising 50 IMA entries (the last 50 of embrave's real 922-entry
 *     log) against it through vouch_vtpm_program_appraise(), as PutMessage
 *     will, and the core check alone.
 * Run from the source root (bench/run does).  usage: bench_vtpm_whitelist [SECONDS]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "evidence/tpm/ima.h"
#include "vtpm/whitelist.h"

#define DIGESTS 20000
#define REPORT_ENTRIES 50
#define LOG "tests/vectors/tpm/embrave/binary_runtime_measurements"

static void check(vouch_err e, const struct vouch_errbuf *eb, const char *what)
{
    if (e) {
        fprintf(stderr, "bench_vtpm_whitelist: %s: %s\n", what,
                eb ? eb->msg : vouch_err_name(e));
        exit(1);
    }
}

/* This thread's CPU time in µs: the machine is shared, wall time depends on its load. */
static int64_t cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static struct vouch_ima_log *read_log(void)
{
    struct vouch_ima_log *log = NULL;
    struct vouch_errbuf eb;
    FILE *f = fopen(LOG, "rb");
    uint8_t *b = malloc(1u << 20);
    size_t n;

    if (!f || !b) {
        fprintf(stderr, "bench_vtpm_whitelist: cannot read %s (run from the source root)\n", LOG);
        exit(1);
    }
    n = fread(b, 1, 1u << 20, f);
    fclose(f);
    check(vouch_ima_log_parse(b, n, &log, &eb), &eb, "IMA log");
    free(b);
    return log;
}

/* A digest list of the log's files, then generated ones up to DIGESTS lines. */
static char *digest_list(const struct vouch_ima_log *log)
{
    struct vouch_buf b = VOUCH_BUF_INIT(64u << 20);
    size_t i, j;

    for (i = 1; i < log->n; i++) {
        const struct vouch_ima_entry *en = &log->entries[i];

        for (j = 0; j < en->digest_len; j++)
            check(vouch_buf_printf(&b, "%02x", en->digest[j]), NULL, "list");
        check(vouch_buf_printf(&b, "  %.*s\n", (int)en->path_len, en->path), NULL, "list");
    }
    for (; i <= DIGESTS; i++) {
        uint8_t d[32];
        char path[96];
        int pl = snprintf(path, sizeof(path), "/usr/lib/x86_64-linux-gnu/pkg%zu/lib%zu.so.%zu",
                          i / 50, i, i % 7);

        check(vouch_hash(VOUCH_HASH_SHA256, path, (size_t)pl, d), NULL, "sha256");
        for (j = 0; j < 32; j++)
            check(vouch_buf_printf(&b, "%02x", d[j]), NULL, "list");
        check(vouch_buf_printf(&b, "  %s\n", path), NULL, "list");
    }
    return (char *)vouch_buf_str(&b);
}

/* Best of `rounds` imports of text in format (wall ms; *ret_cpu: CPU ms); returns the import. */
static double time_import(const char *format, const char *text, int rounds,
                          struct vouch_vtpm_wl_doc *ret, double *ret_cpu)
{
    struct vouch_errbuf eb;
    double best = 1e18;
    int r;

    for (r = 0; r < rounds; r++) {
        struct vouch_vtpm_wl_doc d = { 0 };
        int64_t t0 = vouch_clock_us(), c0 = cpu_us();

        check(vouch_vtpm_whitelist_import(format, text, strlen(text), &d, &eb), &eb, "import");
        if ((double)(vouch_clock_us() - t0) < best) {
            best = (double)(vouch_clock_us() - t0);
            *ret_cpu = (double)(cpu_us() - c0) / 1000.0;
        }
        if (r + 1 < rounds)
            vouch_vtpm_wl_doc_done(&d);
        else
            *ret = d;
    }
    return best / 1000.0;
}

static int64_t store_whitelist(struct vouch_store *s, const struct vouch_vtpm_wl_doc *d)
{
    struct vouch_store_whitelist w = { .account = "bench", .name = "w20k",
                                       .format = (char *)d->format, .document = d->document,
                                       .digests = d->digests, .paths = d->paths };
    struct vouch_errbuf eb;
    int64_t id = 0;

    check(vouch_store_accesskey_create(s, "bench", "BENCHKEY", "x", 1, &eb), &eb, "account");
    check(vouch_store_whitelist_create(s, &w, 1, &id, &eb), &eb, "store");
    return id;
}

static void bench_appraise(struct vouch_vtpm_whitelists *wl, int64_t id,
                           const struct vouch_ima_log *log, double secs)
{
    struct vouch_vtpm_program_result r;
    struct vouch_vtpm_wl_ref ref;
    struct vouch_errbuf eb;
    uint64_t first = log->n - REPORT_ENTRIES;
    struct vouch_ima_log window = *log;
    int64_t t0, t1, c0, n = 0;
    size_t unknown;

    /* the last 50 entries, numbered as in the whole boot */
    window.entries = log->entries + first;
    window.n = REPORT_ENTRIES;
    size_t heap = mallinfo2().uordblks;

    t0 = vouch_clock_us();
    c0 = cpu_us();
    check(vouch_vtpm_program_appraise(wl, "bench", id, &window, first, SIZE_MAX, 1, &r, &eb),
          &eb, "appraise (first: compile)");
    printf("compiled whitelist held in the cache: %.1f MB of heap\n",
           (double)(mallinfo2().uordblks - heap) / 1e6);
    printf("first appraisal (row + document read, compile, cache): %.1f ms (CPU %.1f ms), "
           "status %lld %s\n", (double)(vouch_clock_us() - t0) / 1000.0,
           (double)(cpu_us() - c0) / 1000.0, (long long)r.status, r.code);
    vouch_vtpm_program_result_done(&r);
    t0 = vouch_clock_us();
    c0 = cpu_us();
    do {
        check(vouch_vtpm_program_appraise(wl, "bench", id, &window, first, SIZE_MAX, 1, &r, &eb),
              &eb, "appraise");
        vouch_vtpm_program_result_done(&r);
        n++;
        t1 = vouch_clock_us();
    } while ((double)(t1 - t0) < secs * 1e6);
    printf("appraise %d entries (row read + cache hit + check): %.0f/s (%.1f us; CPU %.1f us)\n",
           REPORT_ENTRIES, (double)n * 1e6 / (double)(t1 - t0),
           (double)(t1 - t0) / (double)n, (double)(cpu_us() - c0) / (double)n);
    check(vouch_vtpm_whitelist_acquire(wl, "bench", id, 1, &ref, &eb), &eb, "acquire");
    n = 0;
    t0 = vouch_clock_us();
    do {
        check(vouch_ima_policy_check(ref.policy, &window, 0, REPORT_ENTRIES, first, NULL, 0,
                                     &unknown, &eb), &eb, "check");
        n++;
        t1 = vouch_clock_us();
    } while ((double)(t1 - t0) < secs * 1e6);
    printf("  of which the core check of %d entries: %.2f us\n", REPORT_ENTRIES,
           (double)(t1 - t0) / (double)n);
    vouch_vtpm_whitelist_release(&ref);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    int rounds = secs < 0.5 ? 1 : 5;
    struct vouch_ima_log *log = read_log();
    char *list = digest_list(log), dir[] = "/tmp/bench-vtpm-wl-XXXXXX", url[96], cmd[128];
    struct vouch_vtpm_wl_doc d = { 0 }, k = { 0 };
    struct vouch_vtpm_whitelists *wl = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    int64_t id;
    double ms, cpu = 0;

    ms = time_import("digests", list, rounds, &d, &cpu);
    printf("import %lld digests (%zu KB digest list): %.1f ms (CPU %.1f ms; best of %d)\n",
           (long long)d.digests, strlen(list) / 1024, ms, cpu, rounds);
    ms = time_import("keylime", d.document, rounds, &k, &cpu);
    printf("import the same as a keylime runtime policy (%zu KB): %.1f ms (CPU %.1f ms)\n",
           strlen(d.document) / 1024, ms, cpu);
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof(url), "sqlite:%s/v.db", dir);
    check(vouch_store_open(url, &s, &eb), &eb, "store");
    check(vouch_vtpm_whitelists_new(s, 16, 0, &wl, &eb), &eb, "cache");
    id = store_whitelist(s, &d);
    bench_appraise(wl, id, log, secs);
    vouch_vtpm_whitelists_free(wl);
    vouch_store_close(s);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    vouch_vtpm_wl_doc_done(&d);
    vouch_vtpm_wl_doc_done(&k);
    vouch_ima_log_free(log);
    free(list);
    return 0;
}
