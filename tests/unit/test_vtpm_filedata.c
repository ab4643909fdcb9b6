/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PutMessage's FileData decoding (src/server/vtpm_filedata.c): each row is
 * a JSON document (base64-encoded here, as agents send it) and what the
 * decoder must make of it: the member an error names, or the decoded parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "server/vtpm_filedata.h"

#define NONCE "\"nonce\":\"" \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\""
#define BASE "\"version\":1," NONCE ",\"quote\":\"AAEC\",\"signature\":\"AwQF\"," \
    "\"pcrs\":{\"sha256\":{\"0\":\"" \
    "0000000000000000000000000000000000000000000000000000000000000000\"}}"

static const struct {
    const char *json;
    const char *error;        /* NULL: decodes; else the start of the message */
} rows[] = {
    { "{" BASE "}", NULL },
    { "{" BASE ",\"ima\":{\"start\":12,\"log\":\"\"}}", NULL },
    { "{" BASE ",\"eventlog\":\"AQID\",\"ak_cert\":\"-----BEGIN CERTIFICATE-----\"}", NULL },
    { "[1]", "FileData: not a JSON object" },
    { "{\"version\":2}", "FileData.version" },
    { "{" BASE ",\"extra\":1}", "FileData: unknown member 'extra'" },
    { "{\"version\":1,\"nonce\":\"00\",\"quote\":\"AAEC\"}", "FileData.nonce" },
    { "{\"version\":1," NONCE ",\"quote\":\"AA=C\",\"signature\":\"AwQF\"}", "FileData.quote" },
    { "{\"version\":1," NONCE ",\"quote\":\"AAEC\"}", "FileData.signature" },
    { "{\"version\":1," NONCE ",\"quote\":\"AAEC\",\"signature\":\"AwQF\",\"pcrs\":{\"sha256\":"
      "{\"0\":\"00\"}}}", "FileData.pcrs" },
    { "{" BASE ",\"ima\":{\"start\":-1,\"log\":\"\"}}", "FileData.ima" },
    { "{" BASE ",\"ima\":{\"start\":1}}", "FileData.ima" },
    { "{" BASE ",\"ima\":{\"start\":1,\"log\":\"%%%\"}}", "FileData.ima.log" },
    { "{" BASE ",\"ak_cert\":\"\"}", "FileData.ak_cert" },
    { "{" BASE ",\"eventlog\":7}", "FileData.eventlog" },
};

static void test_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct vouch_vtpm_filedata fd;
        struct vouch_errbuf eb = { 0 };
        char *b64 = vouch_b64_alloc(rows[i].json, strlen(rows[i].json), VOUCH_B64_STD);
        vouch_err e;

        assert_non_null(b64);
        e = vouch_vtpm_filedata_decode(b64, strlen(b64), &fd, &eb);
        if (rows[i].error) {
            if (e == VOUCH_OK || strncmp(eb.msg, rows[i].error, strlen(rows[i].error)) != 0)
                fail_msg("row %zu: got %d '%s', want '%s'", i, e, eb.msg, rows[i].error);
        } else if (e) {
            fail_msg("row %zu: %s", i, eb.msg);
        }
        vouch_vtpm_filedata_done(&fd);
        free(b64);
    }
}

static void test_decoded(void **state)
{
    static const char json[] = "{" BASE ",\"ima\":{\"start\":12,\"log\":\"CgAAAA==\"}}";
    struct vouch_vtpm_filedata fd;
    struct vouch_errbuf eb;
    char *b64 = vouch_b64_alloc(json, strlen(json), VOUCH_B64_STD);

    (void)state;
    assert_int_equal(vouch_vtpm_filedata_decode(b64, strlen(b64), &fd, &eb), VOUCH_OK);
    assert_string_equal(fd.nonce_hex,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    assert_int_equal(fd.quote_len, 3);
    assert_memory_equal(fd.quote, "\x00\x01\x02", 3);
    assert_int_equal(fd.sig_len, 3);
    assert_true(vouch_tpm_pcrs_has(&fd.pcrs, VOUCH_HASH_SHA256, 0));
    assert_false(vouch_tpm_pcrs_has(&fd.pcrs, VOUCH_HASH_SHA1, 0));
    assert_true(fd.has_ima);
    assert_int_equal(fd.ima_start, 12);
    assert_int_equal(fd.ima_len, 4);
    assert_null(fd.eventlog);
    assert_null(fd.ak_cert);
    vouch_vtpm_filedata_done(&fd);
    /* Not base64, or too long. */
    assert_int_equal(vouch_vtpm_filedata_decode("e30", 3, &fd, &eb), VOUCH_E_INVALID);
    vouch_vtpm_filedata_done(&fd);
    assert_int_equal(vouch_vtpm_filedata_decode(b64, VOUCH_VTPM_FILEDATA_MAX + 1, &fd, &eb),
                     VOUCH_E_TOO_LARGE);
    vouch_vtpm_filedata_done(&fd);
    free(b64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_decoded),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
