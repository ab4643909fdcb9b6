/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TDX evidence collection (src/cli/tdx_collect.c) on a directory laid out
 * like configfs-tsm.  A thread plays the kernel: `generation` is a FIFO it
 * answers with the count before and after the inblob write, and `outblob`
 * holds a real TDX quote (tests/vectors/dcap/trustee/tdx_quote_4.dat).  So
 * this checks the collection protocol (generation, inblob, outblob,
 * provider, entry clean-up), the REPORT_DATA the verifier will expect and
 * the evidence document, not TDX hardware: no TD is needed or used.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "cli/tdx_collect.h"
#include "common/codec.h"
#include "common/file.h"
#include "crypto/jcs.h"
#include "evidence/dcap/dcap.h"

#define QUOTE VOUCH_SOURCE_ROOT "/tests/vectors/dcap/trustee/tdx_quote_4.dat"
#define CCEL VOUCH_SOURCE_ROOT "/tests/vectors/dcap/trustee/CCEL_data_ovmf"

static char root[64];

/* The fake kernel's answers: generation before and after the inblob write. */
struct fake_kernel {
    char entry[128];
    unsigned before, after;
    pthread_t thread;
};

static void path_of(char *out, size_t size, const char *entry, const char *name)
{
    snprintf(out, size, "%s/%s", entry, name);
}

/* Write `text` into the FIFO once a reader has it open (at most ~5 s). */
static void fifo_answer(const char *fifo, const char *text)
{
    int i, fd = -1;

    for (i = 0; i < 500 && fd < 0; i++) {
        fd = open(fifo, O_WRONLY | O_NONBLOCK);
        if (fd < 0)
            usleep(10000);
    }
    if (fd < 0)
        return;
    if (write(fd, text, strlen(text)) < 0)
        perror("fifo");
    close(fd);
}

static void *kernel(void *arg)
{
    struct fake_kernel *k = arg;
    char gen[160], inblob[160], text[32];
    struct stat sb;
    int i;

    path_of(gen, sizeof(gen), k->entry, "generation");
    path_of(inblob, sizeof(inblob), k->entry, "inblob");
    snprintf(text, sizeof(text), "%u\n", k->before);
    fifo_answer(gen, text);
    /* the second read comes after the inblob write */
    for (i = 0; i < 500 && (stat(inblob, &sb) != 0 || sb.st_size < 64); i++)
        usleep(10000);
    snprintf(text, sizeof(text), "%u\n", k->after);
    fifo_answer(gen, text);
    return NULL;
}

/* An entry as the kernel shows it after mkdir, with a real quote in outblob. */
static void make_entry(struct fake_kernel *k, const char *name, const char *provider)
{
    char p[160];
    uint8_t *q;
    size_t len;
    FILE *f;

    snprintf(k->entry, sizeof(k->entry), "%s/%s", root, name);
    assert_int_equal(mkdir(k->entry, 0700), 0);
    path_of(p, sizeof(p), k->entry, "generation");
    assert_int_equal(mkfifo(p, 0600), 0);
    path_of(p, sizeof(p), k->entry, "provider");
    f = fopen(p, "w");
    fprintf(f, "%s\n", provider);
    fclose(f);
    assert_int_equal(vouch_file_read(QUOTE, 1 << 20, &q, &len, NULL), VOUCH_OK);
    path_of(p, sizeof(p), k->entry, "outblob");
    f = fopen(p, "wb");
    assert_int_equal(fwrite(q, 1, len, f), len);
    fclose(f);
    free(q);
    assert_int_equal(pthread_create(&k->thread, NULL, kernel, k), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "%s/vouch-tsm-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_protocol(void **state)
{
    struct fake_kernel k = { .before = 6, .after = 7 };
    uint8_t rd[64], *quote = NULL, *want, *in;
    size_t qlen, wlen, inlen;
    char p[160];
    struct vouch_errbuf eb = { "" };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rd); i++)
        rd[i] = (uint8_t)(i * 7);
    make_entry(&k, "e1", "tdx_guest");
    if (vouch_tsm_report_entry(k.entry, rd, &quote, &qlen, &eb))
        fail_msg("%s", eb.msg);
    pthread_join(k.thread, NULL);
    /* the quote is outblob, and inblob got exactly the 64 bytes of REPORTDATA */
    assert_int_equal(vouch_file_read(QUOTE, 1 << 20, &want, &wlen, NULL), VOUCH_OK);
    assert_int_equal(qlen, wlen);
    assert_memory_equal(quote, want, wlen);
    path_of(p, sizeof(p), k.entry, "inblob");
    assert_int_equal(vouch_file_read(p, 4096, &in, &inlen, NULL), VOUCH_OK);
    assert_int_equal(inlen, 64);
    assert_memory_equal(in, rd, 64);
    free(in);
    free(want);
    free(quote);
}

static void test_conflict_and_provider(void **state)
{
    struct fake_kernel k = { .before = 3, .after = 5 };   /* someone else wrote too */
    uint8_t rd[64] = { 1 }, *quote = NULL;
    size_t qlen;
    struct vouch_errbuf eb = { "" };
    char p[160];
    FILE *f;

    (void)state;
    make_entry(&k, "e2", "tdx_guest");
    assert_int_equal(vouch_tsm_report_entry(k.entry, rd, &quote, &qlen, &eb), VOUCH_E_CONFLICT);
    assert_non_null(strstr(eb.msg, "generation went from 3 to 5"));
    pthread_join(k.thread, NULL);
    /* an SEV-SNP guest's provider: refused before anything is written */
    path_of(p, sizeof(p), k.entry, "provider");
    f = fopen(p, "w");
    fputs("sev_guest\n", f);
    fclose(f);
    assert_int_equal(vouch_tsm_report_entry(k.entry, rd, &quote, &qlen, &eb),
                     VOUCH_E_UNSUPPORTED);
    assert_non_null(strstr(eb.msg, "sev_guest"));
    assert_null(quote);
}

static void test_fresh_entry(void **state)
{
    uint8_t rd[64] = { 0 }, *quote = NULL;
    size_t qlen, n = 0;
    struct vouch_errbuf eb = { "" };
    char dir[128];
    FILE *ls;
    char line[256];

    (void)state;
    /* no configfs-tsm at all: a message that says what to check */
    snprintf(dir, sizeof(dir), "%s/no-such-dir", root);
    assert_int_equal(vouch_tsm_report(dir, rd, &quote, &qlen, &eb), VOUCH_E_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "configfs"));
    /* a plain directory: the new entry has no attributes; it is removed again */
    snprintf(dir, sizeof(dir), "%s/plain", root);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_not_equal(vouch_tsm_report(dir, rd, &quote, &qlen, &eb), VOUCH_OK);
    snprintf(line, sizeof(line), "ls -A '%s'", dir);
    ls = popen(line, "r");
    while (fgets(line, sizeof(line), ls))
        n++;
    pclose(ls);
    /* the entry is gone unless the failed write left a file in it (not configfs) */
    assert_true(n <= 1);
}

static void test_report_data_and_document(void **state)
{
    json_t *rd = json_pack("{s:{s:s},s:s}", "structured", "nonce", "bm9uY2U=",
                           "challenge_token", "t");
    json_t *raw = json_pack("{s:s}", "raw", "AAECAw");
    uint8_t out[64], h[48], *q, *c, *got = NULL;
    size_t qlen, clen, glen;
    char *canon = NULL, *doc = NULL;
    size_t clen2;
    json_t *d;
    const char *s;
    struct vouch_dcap_quote parsed;

    (void)state;
    /* structured: SHA-384 of the RFC 8785 form, zero-padded, as the verifier expects */
    assert_int_equal(vouch_tdx_report_data(rd, VOUCH_HASH_SHA384, out, NULL), VOUCH_OK);
    assert_int_equal(vouch_jcs(json_object_get(rd, "structured"), 4096, &canon, &clen2, NULL),
                     VOUCH_OK);
    assert_string_equal(canon, "{\"nonce\":\"bm9uY2U=\"}");
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA384, canon, clen2, h), VOUCH_OK);
    assert_memory_equal(out, h, 48);
    assert_true(out[48] == 0 && out[63] == 0);
    /* raw: the bytes themselves */
    assert_int_equal(vouch_tdx_report_data(raw, VOUCH_HASH_SHA384, out, NULL), VOUCH_OK);
    assert_true(out[0] == 0 && out[1] == 1 && out[2] == 2 && out[3] == 3 && out[4] == 0);
    /* trustee's document: the quote and the CCEL, base64; null without a CCEL */
    assert_int_equal(vouch_file_read(QUOTE, 1 << 20, &q, &qlen, NULL), VOUCH_OK);
    assert_int_equal(vouch_file_read(CCEL, 1 << 20, &c, &clen, NULL), VOUCH_OK);
    assert_int_equal(vouch_tdx_evidence_doc(q, qlen, c, clen, &doc, NULL), VOUCH_OK);
    d = json_loads(doc, 0, NULL);
    s = json_string_value(json_object_get(d, "quote"));
    assert_int_equal(vouch_b64_decode(s, strlen(s), VOUCH_B64_STD, 1 << 20, &got, &glen, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_dcap_quote_parse(got, glen, &parsed, NULL), VOUCH_OK);
    free(got);
    s = json_string_value(json_object_get(d, "cc_eventlog"));
    assert_int_equal(vouch_b64_decode(s, strlen(s), VOUCH_B64_STD, 1 << 21, &got, &glen, NULL),
                     VOUCH_OK);
    assert_int_equal(glen, clen);
    assert_memory_equal(got, c, clen);
    free(got);
    json_decref(d);
    free(doc);
    assert_int_equal(vouch_tdx_evidence_doc(q, qlen, NULL, 0, &doc, NULL), VOUCH_OK);
    d = json_loads(doc, 0, NULL);
    assert_true(json_is_null(json_object_get(d, "cc_eventlog")));
    json_decref(d);
    free(doc);
    free(canon);
    free(q);
    free(c);
    json_decref(rd);
    json_decref(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol),
        cmocka_unit_test(test_conflict_and_provider),
        cmocka_unit_test(test_fresh_entry),
        cmocka_unit_test(test_report_data_and_document),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
