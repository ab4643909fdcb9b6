/* SPDX-License-Identifier: Apache-2.0 */
/* IMA logs: both forms, templates, replay, prefix matching, incremental state, whitelist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "evidence/tpm/ima.h"
#include "tpm_testutil.h"

#define EMBRAVE_SHA1 "f38695bbd9479953543813fb13bb88235440504e"
#define EMBRAVE_SHA256 "0d204f41041c48fe0d2e1ef0a6c308412c27304a68519d3ce3568a692d3fea83"
#define BOTH ((1u << VOUCH_HASH_SHA1) | (1u << VOUCH_HASH_SHA256))

static struct vouch_ima_log *parse_mem(const void *d, size_t len)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_ima_log *log = NULL;

    if (vouch_ima_log_parse(d, len, &log, &eb))
        fail_msg("IMA parse: %s", eb.msg);
    return log;
}

static struct vouch_ima_log *parse_file(const char *path)
{
    size_t len;
    uint8_t *d = tu_read(path, &len);
    struct vouch_ima_log *log = parse_mem(d, len);

    free(d);
    return log;
}

static void set_pcr10(struct vouch_tpm_pcrs *p, enum vouch_hash h, const char *hex)
{
    size_t n;
    uint8_t *v = tu_unhex(hex, &n);

    assert_int_equal(vouch_tpm_pcrs_set(p, h, 10, v, n, NULL), VOUCH_OK);
    free(v);
}

/* The real embrave log replays to the stated PCR 10 from both forms, 922 entries. */
static void test_embrave_replay(void **state)
{
    static const char *const files[] = { "embrave/ascii_runtime_measurements",
                                         "embrave/binary_runtime_measurements" };
    size_t f;

    (void)state;
    for (f = 0; f < 2; f++) {
        char path[256], hex[65];
        struct vouch_ima_log *log;
        struct vouch_ima_state s;

        snprintf(path, sizeof(path), TPM_VEC "%s", files[f]);
        log = parse_file(path);
        assert_int_equal(log->n, 922);
        assert_int_equal(log->ascii, f == 0);
        assert_int_equal(vouch_ima_replay(log, NULL, BOTH, 0, &s, NULL), VOUCH_OK);
        assert_int_equal(s.next_index, 922);
        vouch_hex_encode(s.pcr[VOUCH_HASH_SHA1], 20, hex);
        assert_string_equal(hex, EMBRAVE_SHA1);
        vouch_hex_encode(s.pcr[VOUCH_HASH_SHA256], 32, hex);
        assert_string_equal(hex, EMBRAVE_SHA256);
        assert_int_equal(log->entries[1].path_len, strlen("/usr/lib/systemd/systemd"));
        assert_memory_equal(log->entries[1].path, "/usr/lib/systemd/systemd", 24);
        assert_int_equal(log->entries[1].digest_len, 32);
        assert_memory_equal(log->entries[1].alg, "sha256", 6);
        vouch_ima_log_free(log);
    }
}

/* Printing the binary log in ASCII form gives the kernel's ASCII file byte for byte. */
static void test_embrave_ascii_roundtrip(void **state)
{
    struct vouch_ima_log *log = parse_file(TPM_VEC "embrave/binary_runtime_measurements");
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 22);
    size_t len;
    uint8_t *want = tu_read(TPM_VEC "embrave/ascii_runtime_measurements", &len);

    (void)state;
    assert_int_equal(vouch_ima_format_ascii(log, &out), VOUCH_OK);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, want, len);
    vouch_buf_free(&out);
    vouch_ima_log_free(log);
    free(want);
}

/* The quote may have been taken before the last entries were read: any prefix matches. */
static void test_prefix_and_incremental(void **state)
{
    struct vouch_ima_log *log = parse_file(TPM_VEC "embrave/binary_runtime_measurements");
    struct vouch_ima_log *tail;
    struct vouch_ima_state mid, full;
    struct vouch_ima_result r, r2;
    struct vouch_tpm_pcrs quoted;
    struct vouch_errbuf eb = { "" };
    struct vouch_buf ascii = VOUCH_BUF_INIT(1u << 22);
    const char *p;
    json_t *sj;
    size_t i;

    (void)state;
    /* PCR 10 as if quoted after 500 entries */
    assert_int_equal(vouch_ima_replay(log, NULL, BOTH, 0, &full, NULL), VOUCH_OK);
    {
        struct vouch_ima_log head = *log;

        head.n = 500;
        assert_int_equal(vouch_ima_replay(&head, NULL, BOTH, 0, &mid, NULL), VOUCH_OK);
    }
    vouch_tpm_pcrs_init(&quoted);
    assert_int_equal(vouch_tpm_pcrs_set(&quoted, VOUCH_HASH_SHA1, 10, mid.pcr[0], 20, NULL), VOUCH_OK);
    assert_int_equal(vouch_tpm_pcrs_set(&quoted, VOUCH_HASH_SHA256, 10, mid.pcr[1], 32, NULL), VOUCH_OK);
    assert_int_equal(vouch_ima_verify(log, 0, NULL, &quoted, 0, &r, &eb), VOUCH_OK);
    assert_int_equal(r.matched, 500);
    assert_int_equal(r.total, 922);
    assert_int_equal(r.state.next_index, 500);
    assert_int_equal(r.banks, BOTH);
    assert_int_equal(r.boot_aggregate, VOUCH_IMA_BA_NOT_CHECKED);
    assert_memory_equal(&r.state, &mid, sizeof(mid));

    /* the state survives a JSON round trip */
    assert_int_equal(vouch_ima_state_to_json(&r.state, &sj), VOUCH_OK);
    memset(&mid, 0x5a, sizeof(mid));
    assert_int_equal(vouch_ima_state_from_json(sj, &mid, NULL), VOUCH_OK);
    assert_memory_equal(&mid, &r.state, sizeof(mid));
    json_decref(sj);

    /* next round: only entries 500.. are sent (as ASCII lines), quote now at the end */
    assert_int_equal(vouch_ima_format_ascii(log, &ascii), VOUCH_OK);
    p = vouch_buf_str(&ascii);
    for (i = 0; i < 500; i++)
        p = strchr(p, '\n') + 1;
    tail = parse_mem(p, strlen(p));
    assert_int_equal(tail->n, 422);
    set_pcr10(&quoted, VOUCH_HASH_SHA1, EMBRAVE_SHA1);
    set_pcr10(&quoted, VOUCH_HASH_SHA256, EMBRAVE_SHA256);
    assert_int_equal(vouch_ima_verify(tail, 500, &mid, &quoted, 0, &r2, &eb), VOUCH_OK);
    assert_int_equal(r2.matched, 422);
    assert_int_equal(r2.state.next_index, 922);
    assert_memory_equal(r2.state.pcr, full.pcr, sizeof(full.pcr));
    assert_int_equal(r2.boot_aggregate, VOUCH_IMA_BA_ABSENT);

    /* a client sending from the wrong index, or a round with no state */
    assert_int_equal(vouch_ima_verify(tail, 499, &mid, &quoted, 0, &r2, &eb), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_ima_verify(tail, 500, NULL, &quoted, 0, &r2, &eb), VOUCH_E_CONFLICT);
    /* the tail alone from a fresh state does not replay to the quote */
    assert_int_equal(vouch_ima_verify(tail, 0, NULL, &quoted, 0, &r2, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "no prefix"));
    /* a quote without PCR 10 */
    vouch_tpm_pcrs_init(&quoted);
    assert_int_equal(vouch_ima_verify(log, 0, NULL, &quoted, 0, &r2, &eb), VOUCH_E_NOT_FOUND);
    /* nothing new since the last round: the empty prefix matches */
    set_pcr10(&quoted, VOUCH_HASH_SHA1, EMBRAVE_SHA1);
    {
        struct vouch_ima_log none = *tail;

        none.n = 0;
        assert_int_equal(vouch_ima_verify(&none, 921, &r2.state, &quoted, 0, &r, &eb), VOUCH_E_CONFLICT);
        assert_int_equal(vouch_ima_verify(tail, 500, &mid, &quoted, 0, &r, &eb), VOUCH_OK);
        assert_int_equal(vouch_ima_verify(&none, 922, &r.state, &quoted, 0, &r2, &eb), VOUCH_OK);
        assert_int_equal(r2.matched, 0);
        assert_int_equal(r2.banks, 1u << VOUCH_HASH_SHA1);
    }
    vouch_buf_free(&ascii);
    vouch_ima_log_free(tail);
    vouch_ima_log_free(log);
}

/* A changed byte anywhere in an entry breaks its template hash. */
static void test_tampering(void **state)
{
    size_t len;
    uint8_t *bin = tu_read(TPM_VEC "embrave/binary_runtime_measurements", &len);
    uint8_t *txt = tu_read(TPM_VEC "embrave/ascii_runtime_measurements", &len);
    struct vouch_ima_log *log = NULL;
    struct vouch_errbuf eb = { "" };
    char *line2;
    size_t blen;

    (void)state;
    free(tu_read(TPM_VEC "embrave/binary_runtime_measurements", &blen));
    bin[blen - 3] ^= 0x20;         /* last entry's path */
    assert_int_equal(vouch_ima_log_parse(bin, blen, &log, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "entry 921: template hash"));
    bin[blen - 3] ^= 0x20;
    bin[4] ^= 1;                   /* first entry's logged hash */
    assert_int_equal(vouch_ima_log_parse(bin, blen, &log, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "entry 0:"));
    line2 = strchr((char *)txt, '\n') + 1;
    line2[70] = line2[70] == 'a' ? 'b' : 'a';   /* a hex digit of the file digest */
    assert_int_equal(vouch_ima_log_parse(txt, len, &log, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "entry 1:"));
    free(bin);
    free(txt);
}

/* Every prefix of a binary log parses to a prefix of its entries or fails cleanly. */
static void test_truncation(void **state)
{
    size_t len, k;
    uint8_t *bin = tu_read(TPM_VEC "embrave/binary_runtime_measurements", &len);

    (void)state;
    for (k = 0; k < 700; k++) {
        struct vouch_ima_log *log = NULL;
        vouch_err e = vouch_ima_log_parse(bin, k, &log, NULL);

        if (e == VOUCH_OK) {
            assert_true(log->n <= 6);
            vouch_ima_log_free(log);
        } else {
            assert_true(e == VOUCH_E_TRUNCATED || e == VOUCH_E_INVALID);
        }
    }
    free(bin);
}

/* Build template data from (length, bytes) fields and its ASCII line. */
struct tfield {
    const void *p;
    size_t n;
};

static size_t tdata(const struct tfield *f, size_t nf, uint8_t *out)
{
    size_t o = 0, i;

    for (i = 0; i < nf; i++) {
        out[o++] = (uint8_t)f[i].n;
        out[o++] = (uint8_t)(f[i].n >> 8);
        out[o++] = 0;
        out[o++] = 0;
        memcpy(out + o, f[i].p, f[i].n);
        o += f[i].n;
    }
    return o;
}

static void line_for(char *out, size_t size, const char *tmpl, const uint8_t *data, size_t dl,
                     const char *fields_text, bool violation)
{
    uint8_t h[20];
    char hex[41];

    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, data, dl, h), VOUCH_OK);
    if (violation)
        memset(h, 0, 20);
    vouch_hex_encode(h, 20, hex);
    if ((size_t)snprintf(out, size, "10 %s %s %s\n", hex, tmpl, fields_text) >= size)
        fail_msg("line too long");
}

/* ima-sig with and without signature, ima-buf, ima-modsig, ima-ngv2, custom formats, spaces. */
static void test_templates_ascii(void **state)
{
    static const uint8_t dg[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
    static const uint8_t sig[] = { 0x03, 0x02, 0x04, 0xaa, 0xbb };
    static const uint8_t buf[] = { 'x', 'y', 'z' };
    static const struct {
        const char *tmpl;
        const char *dng_prefix;    /* "sha256:" or "ima:sha256:" */
        const char *path;
        const uint8_t *sig;        /* NULL: field absent; sig with n 0: empty */
        size_t sig_n;
        int kind;                  /* 0 ng, 1 sig, 2 buf, 3 modsig */
    } cases[] = {
        { "ima-ng", "sha256:", "/usr/bin/a b  c", NULL, 0, 0 },
        { "ima-ngv2", "ima:sha256:", "/usr/bin/v2", NULL, 0, 0 },
        { "ima-sig", "sha256:", "/usr/lib/with space.so", sig, sizeof(sig), 1 },
        { "ima-sig", "sha256:", "/usr/lib/unsigned.so", sig, 0, 1 },
        { "ima-sigv2", "ima:sha256:", "/usr/lib/v2.so", sig, sizeof(sig), 1 },
        { "ima-buf", "sha256:", "kexec-cmdline", buf, sizeof(buf), 2 },
        { "ima-modsig", "sha256:", "/lib/modules/m.ko", sig, sizeof(sig), 3 },
        { "d-ng|n-ng|sig", "sha256:", "/custom path", sig, sizeof(sig), 1 },
    };
    char text[8192] = "";
    size_t i;
    struct vouch_ima_log *log;
    struct vouch_buf out = VOUCH_BUF_INIT(1u << 16);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t dng[128], data[1024];
        char dhex[65], shex[64] = "", fields[512], line[1024];
        struct tfield f[5];
        size_t pl = strlen(cases[i].dng_prefix), nf = 2, dl;

        memcpy(dng, cases[i].dng_prefix, pl);
        dng[pl] = 0;
        memcpy(dng + pl + 1, dg, 32);
        f[0] = (struct tfield){ dng, pl + 1 + 32 };
        f[1] = (struct tfield){ cases[i].path, strlen(cases[i].path) + 1 };
        vouch_hex_encode(dg, 32, dhex);
        if (cases[i].kind) {
            f[nf++] = (struct tfield){ cases[i].sig, cases[i].sig_n };
            vouch_hex_encode(cases[i].sig, cases[i].sig_n, shex);
        }
        if (cases[i].kind == 3) {
            f[nf++] = (struct tfield){ dng, pl + 1 + 32 };
            f[nf++] = (struct tfield){ sig, sizeof(sig) };
            snprintf(fields, sizeof(fields), "%s%s %s %s %s%s %s", cases[i].dng_prefix, dhex,
                     cases[i].path, shex, cases[i].dng_prefix, dhex, shex);
        } else if (cases[i].kind) {
            snprintf(fields, sizeof(fields), "%s%s %s %s", cases[i].dng_prefix, dhex,
                     cases[i].path, shex);
        } else {
            snprintf(fields, sizeof(fields), "%s%s %s", cases[i].dng_prefix, dhex, cases[i].path);
        }
        dl = tdata(f, nf, data);
        line_for(line, sizeof(line), cases[i].tmpl, data, dl, fields, false);
        strcat(text, line);
    }
    log = parse_mem(text, strlen(text));
    assert_int_equal(log->n, sizeof(cases) / sizeof(cases[0]));
    for (i = 0; i < log->n; i++) {
        const struct vouch_ima_entry *e = &log->entries[i];

        assert_int_equal(e->path_len, strlen(cases[i].path));
        assert_memory_equal(e->path, cases[i].path, e->path_len);
        assert_int_equal(e->digest_len, 32);
        assert_memory_equal(e->digest, dg, 32);
        assert_int_equal(e->alg_len, 6);
        if (cases[i].kind == 1 || cases[i].kind == 3)
            assert_int_equal(e->sig_len, cases[i].sig_n);
        if (cases[i].kind == 2) {
            assert_int_equal(e->buf_len, sizeof(buf));
            assert_memory_equal(e->buf, buf, sizeof(buf));
        }
    }
    /* and back to text, unchanged */
    assert_int_equal(vouch_ima_format_ascii(log, &out), VOUCH_OK);
    assert_string_equal(vouch_buf_str(&out), text);
    vouch_buf_free(&out);
    vouch_ima_log_free(log);
}

/* The legacy "ima" template hashes the file name padded to 256 bytes; a violation extends 0xFF. */
static void test_legacy_and_violation(void **state)
{
    static const uint8_t d1[20] = { 0xde, 0xad };
    uint8_t data[300], pcr[2][32], ff[32], tmp[64], h[32];
    char line[1024], text[2048], dhex[41];
    struct vouch_ima_log *log;
    struct vouch_ima_state s;
    struct tfield f[2];
    size_t dl;

    (void)state;
    /* entry 0: legacy ima template */
    memset(data, 0, sizeof(data));
    memcpy(data, d1, 20);
    memcpy(data + 20, "/sbin/init", 10);
    vouch_hex_encode(d1, 20, dhex);
    snprintf(text, sizeof(text), "%s /sbin/init", dhex);
    line_for(line, sizeof(line), "ima", data, 20 + 256, text, false);
    strcpy(text, line);
    /* entry 1: an ima-ng violation */
    f[0] = (struct tfield){ "sha256:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 40 };
    f[1] = (struct tfield){ "/tmp/x", 7 };
    dl = tdata(f, 2, data);
    line_for(line, sizeof(line), "ima-ng", data, dl,
             "sha256:0000000000000000000000000000000000000000000000000000000000000000 /tmp/x", true);
    strcat(text, line);
    log = parse_mem(text, strlen(text));
    assert_true(log->entries[0].legacy);
    assert_false(log->entries[0].violation);
    assert_true(log->entries[1].violation);
    assert_int_equal(vouch_ima_replay(log, NULL, BOTH, 0, &s, NULL), VOUCH_OK);

    /* expected: sha256 bank hashes the legacy entry itself; the violation extends 0xFF.. */
    memset(pcr, 0, sizeof(pcr));
    memset(ff, 0xff, sizeof(ff));
    memset(data, 0, sizeof(data));
    memcpy(data, d1, 20);
    memcpy(data + 20, "/sbin/init", 10);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, data, 20 + 256, h), VOUCH_OK);
    memcpy(tmp, pcr[1], 32);
    memcpy(tmp + 32, h, 32);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, tmp, 64, pcr[1]), VOUCH_OK);
    memcpy(tmp, pcr[1], 32);
    memcpy(tmp + 32, ff, 32);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, tmp, 64, pcr[1]), VOUCH_OK);
    assert_memory_equal(s.pcr[VOUCH_HASH_SHA256], pcr[1], 32);
    /* sha1 bank: logged hash, then 20 x 0xFF */
    memcpy(tmp, pcr[0], 20);
    memcpy(tmp + 20, log->entries[0].template_hash, 20);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, tmp, 40, pcr[0]), VOUCH_OK);
    memcpy(tmp, pcr[0], 20);
    memcpy(tmp + 20, ff, 20);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA1, tmp, 40, pcr[0]), VOUCH_OK);
    assert_memory_equal(s.pcr[VOUCH_HASH_SHA1], pcr[0], 20);
    /* older kernels: the SHA-1 digest zero-padded into every bank */
    assert_int_equal(vouch_ima_replay(log, NULL, BOTH, VOUCH_IMA_LEGACY_BANKS, &s, NULL), VOUCH_OK);
    memset(pcr[1], 0, 32);
    memset(tmp, 0, 64);
    memcpy(tmp + 32, log->entries[0].template_hash, 20);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, tmp, 64, pcr[1]), VOUCH_OK);
    memcpy(tmp, pcr[1], 32);
    memset(tmp + 32, 0, 32);
    memset(tmp + 32, 0xff, 20);
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA256, tmp, 64, pcr[1]), VOUCH_OK);
    assert_memory_equal(s.pcr[VOUCH_HASH_SHA256], pcr[1], 32);
    vouch_ima_log_free(log);
}

/* boot_aggregate binds the log to PCRs 0-7 (SHA-1) / 0-9 (other banks). */
static void test_boot_aggregate(void **state)
{
    static const struct {
        enum vouch_hash h;
        const char *alg;
        int corrupt;
        vouch_err want;
        int ba;
    } cases[] = {
        { VOUCH_HASH_SHA256, "sha256", 0, VOUCH_OK, VOUCH_IMA_BA_VERIFIED },
        { VOUCH_HASH_SHA1, "sha1", 0, VOUCH_OK, VOUCH_IMA_BA_VERIFIED },
        { VOUCH_HASH_SHA256, "sha256", 1, VOUCH_E_VERIFY, 0 },
        { VOUCH_HASH_SHA384, "sha384", 0, VOUCH_OK, VOUCH_IMA_BA_NOT_CHECKED },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_tpm_pcrs q;
        struct vouch_ima_log *log;
        struct vouch_ima_state s;
        struct vouch_ima_result r;
        struct vouch_errbuf eb = { "" };
        uint8_t agg[64], dng[96], data[256];
        char line[512], fields[256], ahex[129];
        size_t n = vouch_hash_size(cases[i].h), al = strlen(cases[i].alg), dl;
        struct tfield f[2];
        unsigned k;
        int h;

        vouch_tpm_pcrs_init(&q);
        for (h = 0; h < 2; h++)
            for (k = 0; k < 10; k++) {
                uint8_t v[32];

                memset(v, (int)(k * 7 + (unsigned)h), sizeof(v));
                vouch_tpm_pcrs_set(&q, (enum vouch_hash)h, k, v, vouch_hash_size((enum vouch_hash)h),
                                   NULL);
            }
        if (cases[i].h == VOUCH_HASH_SHA384)
            memset(agg, 0x42, n);
        else
            assert_int_equal(vouch_ima_boot_aggregate(&q, cases[i].h, agg, NULL), VOUCH_OK);
        agg[0] ^= (uint8_t)cases[i].corrupt;
        memcpy(dng, cases[i].alg, al);
        dng[al] = ':';
        dng[al + 1] = 0;
        memcpy(dng + al + 2, agg, n);
        f[0] = (struct tfield){ dng, al + 2 + n };
        f[1] = (struct tfield){ "boot_aggregate", 15 };
        dl = tdata(f, 2, data);
        vouch_hex_encode(agg, n, ahex);
        snprintf(fields, sizeof(fields), "%s:%s boot_aggregate", cases[i].alg, ahex);
        line_for(line, sizeof(line), "ima-ng", data, dl, fields, false);
        log = parse_mem(line, strlen(line));
        assert_int_equal(vouch_ima_replay(log, NULL, BOTH, 0, &s, NULL), VOUCH_OK);
        assert_int_equal(vouch_tpm_pcrs_set(&q, VOUCH_HASH_SHA1, 10, s.pcr[0], 20, NULL), VOUCH_OK);
        assert_int_equal(vouch_tpm_pcrs_set(&q, VOUCH_HASH_SHA256, 10, s.pcr[1], 32, NULL), VOUCH_OK);
        if (vouch_ima_verify(log, 0, NULL, &q, 0, &r, &eb) != cases[i].want)
            fail_msg("case %zu: '%s'", i, eb.msg);
        if (cases[i].want == VOUCH_OK)
            assert_int_equal(r.boot_aggregate, cases[i].ba);
        else
            assert_non_null(strstr(eb.msg, "boot_aggregate"));
        /* the flag skips the check */
        assert_int_equal(vouch_ima_verify(log, 0, NULL, &q, VOUCH_IMA_NO_BOOT_AGGREGATE, &r, &eb),
                         VOUCH_OK);
        vouch_ima_log_free(log);
    }
}

static void test_parse_errors(void **state)
{
    static const struct {
        const char *text;
        vouch_err want;
    } cases[] = {
        { "10 zz ima-ng sha256:00 /x\n", VOUCH_E_INVALID },
        { "10 0000000000000000000000000000000000000000\n", VOUCH_E_INVALID },
        { "99 0000000000000000000000000000000000000000 ima-ng sha256:00 /x\n", VOUCH_E_INVALID },
        { "10 0000000000000000000000000000000000000000 mystery-template 00\n", VOUCH_E_UNSUPPORTED },
        { "10 0000000000000000000000000000000000000000 ima-ng sha256:0 /x\n", VOUCH_E_INVALID },
        { "10 0000000000000000000000000000000000000000 ima-ng nodigest /x\n", VOUCH_E_INVALID },
        { "10 0000000000000000000000000000000000000000 ima-ng sha256:00\n", VOUCH_E_INVALID },
        { "10 0000000000000000000000000000000000000000 ima-sig sha256:00 /x zz\n", VOUCH_E_INVALID },
        { "10 1111111111111111111111111111111111111111 ima-ng sha256:00 /x\n", VOUCH_E_VERIFY },
        /* a per-bank (sha256) template hash column, as in ascii_runtime_measurements_sha256 */
        { "10 0000000000000000000000000000000000000000000000000000000000000000 ima-ng sha256:00 /x\n",
          VOUCH_E_INVALID },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_ima_log *log = NULL;
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_ima_log_parse((const uint8_t *)cases[i].text, strlen(cases[i].text),
                                          &log, &eb);

        if (e != cases[i].want)
            fail_msg("case %zu: %s '%s'", i, vouch_err_name(e), eb.msg);
        vouch_ima_log_free(log);
    }
    /* a log extending another PCR is refused by replay */
    {
        char text[256];
        uint8_t data[64];
        struct tfield f[2] = { { "sha1:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 26 }, { "/x", 3 } };
        struct vouch_ima_log *log;
        struct vouch_ima_state s;

        line_for(text, sizeof(text), "ima-ng", data, tdata(f, 2, data),
                 "sha1:0000000000000000000000000000000000000000 /x", false);
        text[0] = '1';
        text[1] = '1';
        log = parse_mem(text, strlen(text));
        assert_int_equal(vouch_ima_replay(log, NULL, BOTH, 0, &s, NULL), VOUCH_E_UNSUPPORTED);
        vouch_ima_log_free(log);
    }
}

/* keylime's create-runtime-policy inputs: synthetic two-line logs. */
static void test_keylime_logs(void **state)
{
    static const struct {
        const char *file;
        vouch_err want;
    } cases[] = {
        { "create-runtime-policy_ima-log-sha1", VOUCH_OK },
        { "create-runtime-policy_ima-log-sha256", VOUCH_OK },
        { "create-runtime-policy_ima-log-sha384", VOUCH_OK },
        { "create-runtime-policy_ima-log-sha512", VOUCH_OK },
        /* 64-hex template hashes (a per-bank ascii_runtime_measurements_sha256 column) */
        { "create-runtime-policy_ima-log-sm3_256", VOUCH_E_INVALID },
        { "create-runtime-policy_ima-log-unknown", VOUCH_E_INVALID },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        size_t len;
        uint8_t *d;
        struct vouch_ima_log *log = NULL;
        struct vouch_errbuf eb = { "" };
        vouch_err e;

        snprintf(path, sizeof(path), TPM_VEC "keylime/%s", cases[i].file);
        d = tu_read(path, &len);
        e = vouch_ima_log_parse(d, len, &log, &eb);
        if (e != cases[i].want)
            fail_msg("%s: %s '%s'", cases[i].file, vouch_err_name(e), eb.msg);
        if (!e)
            assert_int_equal(log->n, 2);
        vouch_ima_log_free(log);
        free(d);
    }
}

/* Build a policy that allows the embrave log except a few entries; check reasons. */
static void test_whitelist(void **state)
{
    struct vouch_ima_log *log = parse_file(TPM_VEC "embrave/binary_runtime_measurements");
    struct vouch_ima_policy *p = NULL;
    struct vouch_errbuf eb = { "" };
    json_t *unknown = json_array(), *u;
    size_t i, nunk = 0, excluded = 0;
    uint8_t other[32];

    (void)state;
    assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
    memset(other, 0x77, sizeof(other));
    for (i = 1; i < log->n; i++) {
        const struct vouch_ima_entry *e = &log->entries[i];

        if (i == 10)
            continue;                               /* not in policy */
        if (i == 20) {                              /* only another digest allowed */
            assert_int_equal(vouch_ima_policy_add_digest(p, e->path, e->path_len, other, 32, &eb),
                             VOUCH_OK);
            continue;
        }
        assert_int_equal(vouch_ima_policy_add_digest(p, e->path, e->path_len, e->digest,
                                                     e->digest_len, &eb), VOUCH_OK);
    }
    assert_int_equal(vouch_ima_policy_check(p, log, 0, log->n, 0, unknown, 100, &nunk, &eb),
                     VOUCH_OK);
    assert_int_equal(nunk, 2);
    u = json_array_get(unknown, 0);
    assert_int_equal(json_integer_value(json_object_get(u, "index")), 10);
    assert_string_equal(json_string_value(json_object_get(u, "reason")), "not_in_policy");
    assert_string_equal(json_string_value(json_object_get(u, "template")), "ima-ng");
    assert_int_equal(strncmp(json_string_value(json_object_get(u, "digest")), "sha256:", 7), 0);
    u = json_array_get(unknown, 1);
    assert_int_equal(json_integer_value(json_object_get(u, "index")), 20);
    assert_string_equal(json_string_value(json_object_get(u, "reason")), "digest_mismatch");

    /* an exclusion covering entry 10's path (anchored at the start, as re.match) */
    json_array_clear(unknown);
    {
        char re[300];

        snprintf(re, sizeof(re), "%.*s$", (int)log->entries[10].path_len, log->entries[10].path);
        assert_int_equal(vouch_ima_policy_add_exclude(p, "usr/lib", &eb), VOUCH_OK); /* no leading / */
        assert_int_equal(vouch_ima_policy_add_exclude(p, re, &eb), VOUCH_OK);
    }
    assert_int_equal(vouch_ima_policy_check(p, log, 0, log->n, 0, unknown, 100, &nunk, &eb),
                     VOUCH_OK);
    assert_int_equal(nunk, 1);
    /* a broad exclusion; a bad regex is refused and leaves the policy as it was */
    assert_int_equal(vouch_ima_policy_add_exclude(p, "(unclosed", &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_ima_policy_add_exclude(p, "a)|(b", &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_ima_policy_add_exclude(p, "/usr/lib/", &eb), VOUCH_OK);
    for (i = 1; i < log->n; i++)
        excluded += !strncmp(log->entries[i].path, "/usr/lib/", 9);
    assert_true(excluded > 100);
    assert_int_equal(vouch_ima_policy_check(p, log, 0, log->n, 0, NULL, 0, &nunk, &eb), VOUCH_OK);
    assert_int_equal(nunk, strncmp(log->entries[20].path, "/usr/lib/", 9) ? 1 : 0);
    /* a sub-range with its own first index */
    assert_int_equal(vouch_ima_policy_check(p, log, 5, 10, 5, NULL, 0, &nunk, &eb), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_check(p, log, 900, 100, 0, NULL, 0, &nunk, &eb),
                     VOUCH_E_INVALID);
    json_decref(unknown);
    vouch_ima_policy_free(p);
    vouch_ima_log_free(log);
}

/*
 * Entry 10 of the embrave log with bytes of its path or hash name made not
 * UTF-8 (in the parsed copy; the policy check reads them from there):
 * unknown_files shows them as %XX, valid UTF-8 as it is.
 */
static void test_unknown_not_utf8(void **state)
{
    static const struct {
        bool alg;               /* change the hash name, else the path */
        size_t at;
        const char *bytes, *field, *want_head;
    } cases[] = {
        { false, 1, "\xff", "path", "/%FF" },
        { false, 1, "\xc3\xa9", "path", "/\xc3\xa9" },
        { false, 1, "\xe2\x82/", "path", "/%E2%82/" },
        { false, 1, "\xed\xa0\x80", "path", "/%ED%A0%80" },
        { true, 3, "\x80", "digest", "sha%80" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_ima_log *log = parse_file(TPM_VEC "embrave/binary_runtime_measurements");
        const struct vouch_ima_entry *en = &log->entries[10];
        const char *f = cases[i].alg ? en->alg : en->path;
        struct vouch_ima_policy *p = NULL;
        struct vouch_errbuf eb = { "" };
        json_t *unknown = json_array();
        const char *got;
        size_t nunk = 0;

        assert_true((cases[i].alg ? en->alg_len : en->path_len) >=
                    cases[i].at + strlen(cases[i].bytes));
        memcpy(log->store + (f - (const char *)log->store) + cases[i].at, cases[i].bytes,
               strlen(cases[i].bytes));
        assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
        if (vouch_ima_policy_check(p, log, 10, 1, 0, unknown, 10, &nunk, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        assert_int_equal(nunk, 1);
        got = json_string_value(json_object_get(json_array_get(unknown, 0), cases[i].field));
        assert_non_null(got);
        if (strncmp(got, cases[i].want_head, strlen(cases[i].want_head)) != 0)
            fail_msg("case %zu: %s \"%s\" does not start with \"%s\"", i, cases[i].field, got,
                     cases[i].want_head);
        json_decref(unknown);
        vouch_ima_policy_free(p);
        vouch_ima_log_free(log);
    }
}

/* keylime runtime-policy JSON and allow-list imports. */
static void test_keylime_policy_import(void **state)
{
    static const char *const files[] = { "keylime/runtime-policy-test.json",
                                         "keylime/runtime-policy.json",
                                         "keylime/runtime-policy-empty.json",
                                         "keylime/create-runtime-policy_policy-sha256" };
    size_t i, len, nunk;
    struct vouch_ima_policy *p = NULL;
    struct vouch_errbuf eb = { "" };
    uint8_t *text;
    json_t *doc, *unknown = json_array();
    struct vouch_ima_log *log;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[256];

        snprintf(path, sizeof(path), TPM_VEC "%s", files[i]);
        doc = tu_json(path);
        assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
        if (vouch_ima_policy_load_keylime(p, doc, &eb))
            fail_msg("%s: %s", files[i], eb.msg);
        if (i == 0)
            assert_int_equal(vouch_ima_policy_paths(p), 21);
        vouch_ima_policy_free(p);
        json_decref(doc);
    }
    /* keylime's own pair: the policy made from ima-log-sha256 accepts that log */
    doc = tu_json(TPM_VEC "keylime/create-runtime-policy_policy-sha256");
    assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_load_keylime(p, doc, &eb), VOUCH_OK);
    log = parse_file(TPM_VEC "keylime/create-runtime-policy_ima-log-sha256");
    assert_int_equal(vouch_ima_policy_check(p, log, 0, log->n, 0, unknown, 10, &nunk, &eb), VOUCH_OK);
    /* the policy lists /base_policy_data, the log measured /data */
    assert_int_equal(nunk, 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(unknown, 0), "path")), "/data");
    vouch_ima_policy_free(p);
    json_decref(doc);
    vouch_ima_log_free(log);

    /* malformed policies */
    {
        static const char *const bad[] = {
            "{\"digests\": []}",
            "{\"digests\": {\"/a\": \"00\"}}",
            "{\"digests\": {\"/a\": [\"xyz\"]}}",
            "{\"excludes\": [\"(\"]}",
            "{\"ima\": {\"ignored_keyrings\": {}}}",
            "[]",
        };

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            json_t *j = json_loads(bad[i], 0, NULL);

            assert_non_null(j);
            assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
            if (vouch_ima_policy_load_keylime(p, j, &eb) != VOUCH_E_INVALID)
                fail_msg("'%s' accepted", bad[i]);
            vouch_ima_policy_free(p);
            json_decref(j);
        }
    }
    /* the legacy allow-list */
    text = tu_read(TPM_VEC "keylime/ima-allowlist-short.txt", &len);
    assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_load_allowlist(p, (char *)text, len, &eb), VOUCH_OK);
    /* boot_aggregate + 20 files; its "%keyring:.ima" line is a keyring, not a path */
    assert_int_equal(vouch_ima_policy_paths(p), 21);
    assert_int_equal(vouch_ima_policy_digests(p), 21);
    assert_int_equal(vouch_ima_policy_load_allowlist(p, "zz /x\n", 6, &eb), VOUCH_E_INVALID);
    vouch_ima_policy_free(p);
    free(text);
    json_decref(unknown);
}

/* ima-buf entries are checked against keyrings / ima-buf, or skipped when ignored. */
static void test_buffers(void **state)
{
    static const uint8_t kd[32] = { 9, 9, 9 };
    uint8_t dng[64], data[256];
    char line[512], fields[256], dhex[65];
    struct tfield f[3];
    struct vouch_ima_log *log;
    struct vouch_ima_policy *p = NULL;
    json_t *doc;
    size_t nunk, dl;

    (void)state;
    memcpy(dng, "sha256:", 8);
    memcpy(dng + 8, kd, 32);
    f[0] = (struct tfield){ dng, 40 };
    f[1] = (struct tfield){ ".ima", 5 };
    f[2] = (struct tfield){ "\x30\x01\x00", 3 };
    dl = tdata(f, 3, data);
    vouch_hex_encode(kd, 32, dhex);
    snprintf(fields, sizeof(fields), "sha256:%s .ima 300100", dhex);
    line_for(line, sizeof(line), "ima-buf", data, dl, fields, false);
    log = parse_mem(line, strlen(line));
    assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_check(p, log, 0, 1, 7, NULL, 0, &nunk, NULL), VOUCH_OK);
    assert_int_equal(nunk, 1);                               /* buffer_not_allowed */
    assert_int_equal(vouch_ima_policy_add_buffer(p, ".ima", kd, 32, NULL), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_check(p, log, 0, 1, 7, NULL, 0, &nunk, NULL), VOUCH_OK);
    assert_int_equal(nunk, 0);
    vouch_ima_policy_free(p);
    doc = json_loads("{\"ima\": {\"ignored_keyrings\": [\".ima\"]}}", 0, NULL);
    assert_int_equal(vouch_ima_policy_new(&p), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_load_keylime(p, doc, NULL), VOUCH_OK);
    assert_int_equal(vouch_ima_policy_check(p, log, 0, 1, 7, NULL, 0, &nunk, NULL), VOUCH_OK);
    assert_int_equal(nunk, 0);
    vouch_ima_policy_free(p);
    json_decref(doc);
    vouch_ima_log_free(log);
}

static void test_claims(void **state)
{
    struct vouch_ima_log *log = parse_file(TPM_VEC "embrave/ascii_runtime_measurements");
    struct vouch_tpm_pcrs q;
    struct vouch_ima_result r;
    json_t *c, *unknown = json_array();

    (void)state;
    vouch_tpm_pcrs_init(&q);
    set_pcr10(&q, VOUCH_HASH_SHA256, EMBRAVE_SHA256);
    assert_int_equal(vouch_ima_verify(log, 0, NULL, &q, 0, &r, NULL), VOUCH_OK);
    assert_int_equal(vouch_ima_claims(log, &r, unknown, 0, &c), VOUCH_OK);
    assert_int_equal(json_integer_value(json_object_get(c, "verified_entries")), 922);
    assert_int_equal(json_integer_value(json_object_get(c, "pending_entries")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "templates"), "ima-ng")), 922);
    assert_string_equal(json_string_value(json_object_get(json_object_get(c, "pcr10"), "sha256")),
                        EMBRAVE_SHA256);
    assert_null(json_object_get(json_object_get(c, "pcr10"), "sha1"));
    assert_string_equal(json_string_value(json_object_get(c, "boot_aggregate")), "not_checked");
    assert_true(json_is_array(json_object_get(c, "unknown_files")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(c, "state"), "next_index")),
                     922);
    json_decref(c);
    json_decref(unknown);
    vouch_ima_log_free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embrave_replay),
        cmocka_unit_test(test_embrave_ascii_roundtrip),
        cmocka_unit_test(test_prefix_and_incremental),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_templates_ascii),
        cmocka_unit_test(test_legacy_and_violation),
        cmocka_unit_test(test_boot_aggregate),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_keylime_logs),
        cmocka_unit_test(test_whitelist),
        cmocka_unit_test(test_unknown_not_utf8),
        cmocka_unit_test(test_keylime_policy_import),
        cmocka_unit_test(test_buffers),
        cmocka_unit_test(test_claims),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
