/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_vtpm_pcr_events: what PutMessage adds when a report with an event
 * log differs from its baseline: vouch_vtpm_pcr_events() over real firmware
 * logs (go-tpm-tools' test data), every PCR 0-9 asked (the worst case: all
 * ten differ), and the JSON text it stores.  Single thread, CPU time.
 * Run from the source root (bench/run does).  usage: bench_vtpm_pcr_events [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/file.h"
#include "vtpm/pcr_events.h"

#define ALL_BASELINE_PCRS 0x3ffu
#define LOG_MAX (4u << 20)

static const char *const logs[] = {
    "tests/vectors/tpm/go-tpm-tools/debian-10.bin",
    "tests/vectors/tpm/go-tpm-tools/arch-linux-workstation.bin",
    "tests/vectors/tpm/go-tpm-tools/ubuntu-2104-no-dbx.bin",
};

/* This thread's CPU time in µs: the machine is shared, wall time depends on its load. */
static int64_t cpu_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One log: calls for `secs` of CPU (at least one); the CPU per call and the text's size. */
static void run(const char *path, double secs)
{
    struct vouch_errbuf eb;
    uint8_t *log = NULL;
    size_t len = 0, text_len = 0, pcrs = 0;
    int64_t t0, used;
    long calls = 0;
    json_t *out;
    char *text;

    if (vouch_file_read(path, LOG_MAX, &log, &len, &eb)) {
        fprintf(stderr, "bench_vtpm_pcr_events: %s: %s\n", path, eb.msg);
        exit(1);
    }
    t0 = cpu_us();
    do {
        if (vouch_vtpm_pcr_events(log, len, ALL_BASELINE_PCRS, &out, &eb)) {
            fprintf(stderr, "bench_vtpm_pcr_events: %s: %s\n", path, eb.msg);
            exit(1);
        }
        text = json_dumps(out, JSON_COMPACT);
        text_len = text ? strlen(text) : 0;
        pcrs = json_object_size(out);
        free(text);
        json_decref(out);
        calls++;
        used = cpu_us() - t0;
    } while (used < secs * 1e6);
    printf("%s: %zu-byte log, %zu PCRs explained, %zu bytes stored: %.1f us CPU per report "
           "(%ld calls)\n", path, len, pcrs, text_len, (double)used / (double)calls, calls);
    free(log);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    size_t i;

    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
        run(logs[i], secs / 3);
    return 0;
}
