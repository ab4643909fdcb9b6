/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_tpm: TPM evidence verification speed, single thread.
 *   - quote verifications/s (signature, nonce, pcrDigest) for the swtpm
 *     RSASSA, RSAPSS and ECDSA quotes, AK imported once;
 *   - replay of a 40 KB UEFI event log (keylime's secure-boot log);
 *   - a generated 100,000-entry IMA log: parse (template hashes), replay
 *     into PCR 10 (SHA-1 + SHA-256) against a quote, whitelist check;
 *   - tpm2_checkquote on the same RSA quote, in the same run, for the ratio.
 * Run from the source root (bench/run does).  usage: bench_tpm [SECONDS]
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/time.h"
#include "crypto/digest.h"
#include "evidence/tpm/eventlog.h"
#include "evidence/tpm/ima.h"
#include "evidence/tpm/quote.h"

extern char **environ;

#define SW "tests/vectors/tpm/swtpm-generated/"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "bench_tpm: cannot read %s (run from the source root)\n", path);
        exit(1);
    }
    b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void check(vouch_err e, const struct vouch_errbuf *eb, const char *what)
{
    if (e) {
        fprintf(stderr, "bench_tpm: %s: %s\n", what, eb ? eb->msg : vouch_err_name(e));
        exit(1);
    }
}

static double bench_quote(const char *k, double secs, double *ret_rate)
{
    char path[128];
    size_t al, ml, sl, pl, nl;
    uint8_t *akd, *msg, *sig, *pd, *nhex, *nonce;
    struct vouch_tpm_key *ak = NULL;
    struct vouch_tpm_quote q;
    struct vouch_tpm_pcrs pcrs;
    struct vouch_errbuf eb = { "" };
    uint64_t t0, n = 0;
    double us;

    snprintf(path, sizeof(path), SW "ak_%s.tpm2b_public", k);
    akd = slurp(path, &al);
    snprintf(path, sizeof(path), SW "quote_%s.msg", k);
    msg = slurp(path, &ml);
    snprintf(path, sizeof(path), SW "quote_%s.sig", k);
    sig = slurp(path, &sl);
    snprintf(path, sizeof(path), SW "quote_%s.pcrs", k);
    pd = slurp(path, &pl);
    nhex = slurp(SW "nonce.hex", &nl);
    check(vouch_hex_decode((char *)nhex, 40, 64, &nonce, &nl, &eb), &eb, "nonce");
    check(vouch_tpm_key_load(akd, al, VOUCH_TPM_KEY_REQUIRE_AK_ATTRS, &ak, &eb), &eb, "AK");
    check(vouch_tpm_pcrs_load(pd, pl, NULL, &pcrs, &eb), &eb, "PCRs");
    {
        struct vouch_tpm_quote_check chk = { nonce, nl, &pcrs, NULL, 0, 0 };

        t0 = vouch_clock_us();
        do {
            check(vouch_tpm_quote_verify(ak, msg, ml, sig, sl, &chk, &q, &eb), &eb, "verify");
            n++;
        } while (vouch_clock_us() - t0 < (uint64_t)(secs * 1e6));
        us = (double)(vouch_clock_us() - t0) / (double)n;
    }
    *ret_rate = 1e6 / us;
    vouch_tpm_key_free(ak);
    free(akd);
    free(msg);
    free(sig);
    free(pd);
    free(nhex);
    free(nonce);
    return us;
}

/* Time `runs` tpm2_checkquote processes on the RSA quote; ms per run, or -1. */
static double bench_checkquote(int runs)
{
    size_t nl;
    uint8_t *nhex = slurp(SW "nonce.hex", &nl);
    char nonce[41];
    char *argv[] = { "tpm2_checkquote", "-u", SW "ak_rsa.pem", "-m", SW "quote_rsa.msg",
                     "-s", SW "quote_rsa.sig", "-f", SW "quote_rsa.pcrs", "-g", "sha256",
                     "-q", nonce, NULL };
    posix_spawn_file_actions_t fa;
    uint64_t t0;
    int i;

    memcpy(nonce, nhex, 40);
    nonce[40] = 0;
    free(nhex);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    t0 = vouch_clock_us();
    for (i = 0; i < runs; i++) {
        pid_t pid;
        int st;

        if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0 ||
            waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            posix_spawn_file_actions_destroy(&fa);
            return -1;
        }
    }
    posix_spawn_file_actions_destroy(&fa);
    return (double)(vouch_clock_us() - t0) / runs / 1000.0;
}

static void bench_eventlog(const char *path, double secs)
{
    size_t len;
    uint8_t *d = slurp(path, &len);
    struct vouch_tcg_eventlog *log = NULL;
    struct vouch_tpm_pcrs p, q;
    struct vouch_errbuf eb = { "" };
    uint64_t t0, n = 0;
    double parse_us, replay_us, verify_us;
    int h, banks = 0;

    t0 = vouch_clock_us();
    do {
        check(vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb), &eb, path);
        vouch_tcg_eventlog_free(log);
        n++;
    } while (vouch_clock_us() - t0 < (uint64_t)(secs * 1e6));
    parse_us = (double)(vouch_clock_us() - t0) / (double)n;
    check(vouch_tcg_eventlog_parse(d, len, VOUCH_TPM_PCR_COUNT, &log, &eb), &eb, path);
    n = 0;
    t0 = vouch_clock_us();
    do {
        check(vouch_tpm_eventlog_replay(log, 0, &p, NULL, &eb), &eb, "replay");
        n++;
    } while (vouch_clock_us() - t0 < (uint64_t)(secs * 1e6));
    replay_us = (double)(vouch_clock_us() - t0) / (double)n;
    for (h = 0; h < VOUCH_HASH__COUNT; h++)
        banks += p.mask[h] != 0;
    /* what verification against a SHA-256 quote replays: that bank only */
    vouch_tpm_pcrs_init(&q);
    q.mask[VOUCH_HASH_SHA256] = p.mask[VOUCH_HASH_SHA256];
    memcpy(q.value, p.value, sizeof(q.value));
    n = 0;
    t0 = vouch_clock_us();
    do {
        check(vouch_tpm_eventlog_verify(log, &q, 0, NULL, &eb), &eb, "verify");
        n++;
    } while (vouch_clock_us() - t0 < (uint64_t)(secs * 1e6));
    verify_us = (double)(vouch_clock_us() - t0) / (double)n;
    printf("event log %s: %zu bytes, %zu events: parse %.1f us; replay of all %d banks %.1f us "
           "(parse+replay %.1f us); verify against a sha256 quote %.1f us, with parse %.1f us "
           "(target <= 100 us)\n", path, len, log->n_events, parse_us, banks, replay_us,
           parse_us + replay_us, verify_us, parse_us + verify_us);
    vouch_tcg_eventlog_free(log);
    free(d);
}

/* A binary IMA log of n ima-ng entries (sha256 file digests) and a policy allowing them all. */
static uint8_t *make_ima(size_t n, size_t *ret_len, struct vouch_ima_policy *pol)
{
    size_t cap = n * 160, o = 0, i;
    uint8_t *b = malloc(cap);
    struct vouch_errbuf eb = { "" };

    if (!b)
        exit(1);
    for (i = 0; i < n; i++) {
        char path[96];
        uint8_t data[160], fd[32];
        size_t pl, dl = 0;
        uint32_t v;

        pl = (size_t)snprintf(path, sizeof(path), "/usr/lib/pkg%zu/lib%zu.so.%zu", i / 50, i, i % 7) + 1;
        check(vouch_hash(VOUCH_HASH_SHA256, path, pl, fd), NULL, "sha256");
        v = 40;
        memcpy(data + dl, &v, 4);
        dl += 4;
        memcpy(data + dl, "sha256:", 8);
        dl += 8;
        memcpy(data + dl, fd, 32);
        dl += 32;
        v = (uint32_t)pl;
        memcpy(data + dl, &v, 4);
        dl += 4;
        memcpy(data + dl, path, pl);
        dl += pl;
        v = 10;
        memcpy(b + o, &v, 4);
        check(vouch_hash(VOUCH_HASH_SHA1, data, dl, b + o + 4), NULL, "sha1");
        v = 6;
        memcpy(b + o + 24, &v, 4);
        memcpy(b + o + 28, "ima-ng", 6);
        v = (uint32_t)dl;
        memcpy(b + o + 34, &v, 4);
        memcpy(b + o + 38, data, dl);
        o += 38 + dl;
        check(vouch_ima_policy_add_digest(pol, path, pl - 1, fd, 32, &eb), &eb, "policy");
    }
    *ret_len = o;
    return b;
}

static void bench_ima(size_t n, int rounds)
{
    struct vouch_ima_policy *pol = NULL;
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_log *log = NULL;
    struct vouch_ima_state s;
    struct vouch_ima_result r;
    struct vouch_tpm_pcrs q;
    double best_parse = 1e18, best_verify = 1e18, best_wl = 1e18, best_total = 1e18;
    uint64_t t0;
    size_t len, unk;
    uint8_t *bin;
    int i;

    check(vouch_ima_policy_new(&pol), NULL, "policy");
    t0 = vouch_clock_us();
    bin = make_ima(n, &len, pol);
    check(vouch_ima_policy_add_exclude(pol, "/tmp/", &eb), &eb, "exclude");
    check(vouch_ima_policy_add_exclude(pol, "/var/log/.*\\.log$", &eb), &eb, "exclude");
    printf("IMA: generated %zu entries (%zu bytes) and a %zu-path policy in %.0f ms\n", n, len,
           vouch_ima_policy_paths(pol), (double)(vouch_clock_us() - t0) / 1000.0);
    /* the quote: PCR 10 after every entry */
    check(vouch_ima_log_parse(bin, len, &log, &eb), &eb, "IMA parse");
    check(vouch_ima_replay(log, NULL, (1u << VOUCH_HASH_SHA1) | (1u << VOUCH_HASH_SHA256), 0, &s,
                           &eb), &eb, "IMA replay");
    vouch_ima_log_free(log);
    vouch_tpm_pcrs_init(&q);
    vouch_tpm_pcrs_set(&q, VOUCH_HASH_SHA1, 10, s.pcr[VOUCH_HASH_SHA1], 20, NULL);
    vouch_tpm_pcrs_set(&q, VOUCH_HASH_SHA256, 10, s.pcr[VOUCH_HASH_SHA256], 32, NULL);
    for (i = 0; i < rounds; i++) {
        uint64_t a = vouch_clock_us(), b2, c, d;

        check(vouch_ima_log_parse(bin, len, &log, &eb), &eb, "IMA parse");
        b2 = vouch_clock_us();
        check(vouch_ima_verify(log, 0, NULL, &q, 0, &r, &eb), &eb, "IMA verify");
        c = vouch_clock_us();
        check(vouch_ima_policy_check(pol, log, 0, r.matched, 0, NULL, 0, &unk, &eb), &eb, "whitelist");
        d = vouch_clock_us();
        if (r.matched != n || unk != 0) {
            fprintf(stderr, "bench_tpm: IMA matched %zu, unknown %zu\n", r.matched, unk);
            exit(1);
        }
        vouch_ima_log_free(log);
        if ((double)(b2 - a) < best_parse)
            best_parse = (double)(b2 - a);
        if ((double)(c - b2) < best_verify)
            best_verify = (double)(c - b2);
        if ((double)(d - c) < best_wl)
            best_wl = (double)(d - c);
        if ((double)(d - a) < best_total)
            best_total = (double)(d - a);
    }
    printf("IMA %zu entries (best of %d): parse + template hashes %.1f ms, replay to PCR 10 "
           "(sha1+sha256) %.1f ms, whitelist %.1f ms, total %.1f ms (target <= 150 ms)\n", n,
           rounds, best_parse / 1000, best_verify / 1000, best_wl / 1000, best_total / 1000);
    vouch_ima_policy_free(pol);
    free(bin);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    double rate_rsa, rate_pss, rate_ecc, us_rsa, us_pss, us_ecc, ms_cq;

    if (secs <= 0)
        secs = 2.0;
    us_rsa = bench_quote("rsa", secs, &rate_rsa);
    us_pss = bench_quote("pss", secs, &rate_pss);
    us_ecc = bench_quote("ecc", secs, &rate_ecc);
    printf("quote verify (signature + nonce + pcrDigest, 23 PCRs), one thread:\n"
           "  RSA-2048 RSASSA  %8.0f /s  (%.1f us)  target >= 20,000/s\n"
           "  RSA-2048 RSAPSS  %8.0f /s  (%.1f us)\n"
           "  ECC P-256 ECDSA  %8.0f /s  (%.1f us)\n",
           rate_rsa, us_rsa, rate_pss, us_pss, rate_ecc, us_ecc);
    ms_cq = bench_checkquote(secs >= 1 ? 50 : 3);
    if (ms_cq > 0)
        printf("tpm2_checkquote on the same RSA quote (process per verification, 50 runs): "
               "%.2f ms each = %.0f /s; vouch is %.0fx faster\n", ms_cq, 1000.0 / ms_cq,
               rate_rsa * ms_cq / 1000.0);
    else
        printf("tpm2_checkquote: not available\n");
    bench_eventlog("tests/vectors/tpm/keylime/binary_bios_measurements-secureboot", secs / 2);
    bench_eventlog("tests/vectors/tpm/go-tpm-tools/ubuntu-2104-no-secure-boot.bin", secs / 2);
    bench_ima(secs >= 1 ? 100000 : 2000, secs >= 1 ? 5 : 1);
    return 0;
}
