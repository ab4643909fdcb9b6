/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quote parser: field offsets against real quotes, every truncation point,
 * oversized length fields, invalid header values, padding, hex input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

#include "evidence/dcap/dcap.h"

#define V "tests/vectors/dcap/"

static uint8_t *load(const char *path, size_t *ret_len)
{
    return test_load(path, ret_len);
}

static void test_layouts(void **state)
{
    static const struct {
        const char *path;
        size_t signed_len, qe_report_off, len;
        uint16_t auth;
    } cases[] = {
        { V "dcap-qvl/sample/sgx_quote", 432, 564, 4600, 32 },
        { V "dcap-qvl/sample/tdx_quote", 632, 770, 4936, 32 },
        { V "go-tdx-guest/testing/testdata/quote_v5_sample.dat", 702, 840, 0, 32 },
        { V "teepot/sgx_quote_verification/tdx_1/quote.dat", 632, 770, 0, 32 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_quote q;
        size_t len;
        uint8_t *d = load(cases[i].path, &len);

        if (vouch_dcap_quote_parse(d, len, &q, &eb))
            fail_msg("%s: %s", cases[i].path, eb.msg);
        assert_int_equal(q.signed_len, cases[i].signed_len);
        assert_int_equal(q.qe_report - d, cases[i].qe_report_off);
        assert_int_equal(q.qe_auth_len, cases[i].auth);
        if (cases[i].len)
            assert_int_equal(q.len, cases[i].len);
        assert_true(q.len <= len);
        assert_int_equal(q.cert_data + q.cert_len - d, q.len);
        free(d);
    }
}

/* Every prefix of a quote fails cleanly (ASan checks no byte past it is read). */
static void test_truncation(void **state)
{
    static const char *const paths[] = {
        V "dcap-qvl/sample/sgx_quote", V "dcap-qvl/sample/tdx_quote",
        V "go-tdx-guest/testing/testdata/quote_v5_sample.dat",
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct vouch_dcap_quote q, full;
        size_t len;
        uint8_t *d = load(paths[i], &len);

        assert_int_equal(vouch_dcap_quote_parse(d, len, &full, NULL), VOUCH_OK);
        for (n = 0; n < full.len; n++) {
            /* A private copy of exactly n bytes, so ASan sees any overread. */
            uint8_t *p = malloc(n ? n : 1);
            struct vouch_errbuf eb = { "" };
            vouch_err e;

            memcpy(p, d, n);
            e = vouch_dcap_quote_parse(p, n, &q, &eb);
            if (e != VOUCH_E_TRUNCATED)
                fail_msg("%s: %zu bytes: %s (%s)", paths[i], n, vouch_err_name(e), eb.msg);
            assert_non_null(strstr(eb.msg, "quote:"));
            free(p);
        }
        free(d);
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void test_bad_fields(void **state)
{
    struct vouch_dcap_quote q;
    size_t len;
    uint8_t *d = load(V "dcap-qvl/sample/tdx_quote", &len), *c = malloc(len);
    struct {
        size_t off;
        uint8_t val;
        vouch_err want;
        const char *msg;
    } bytes[] = {
        { 0, 2, VOUCH_E_UNSUPPORTED, "version 2" },
        { 0, 6, VOUCH_E_UNSUPPORTED, "version 6" },
        { 2, 3, VOUCH_E_UNSUPPORTED, "attestation key type 3" },
        { 4, 0x82, VOUCH_E_UNSUPPORTED, "TEE type" },
        { 12, 0x00, VOUCH_E_INVALID, "vendor" },
        { 764, 5, VOUCH_E_INVALID, "outer certification data type 5" },
        { 1252, 9, VOUCH_E_INVALID, "type 9" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        struct vouch_errbuf eb = { "" };
        vouch_err e;

        memcpy(c, d, len);
        c[bytes[i].off] = bytes[i].val;
        e = vouch_dcap_quote_parse(c, len, &q, &eb);
        if (e != bytes[i].want || !strstr(eb.msg, bytes[i].msg))
            fail_msg("case %zu: %s '%s'", i, vouch_err_name(e), eb.msg);
    }
    /* Oversized lengths: signature data, outer and inner certification data, auth data. */
    {
        static const size_t offs[] = { 632, 766, 1254 };

        for (i = 0; i < 3; i++) {
            struct vouch_errbuf eb = { "" };

            memcpy(c, d, len);
            put32(c + offs[i], 0xfffffff0u);
            assert_int_equal(vouch_dcap_quote_parse(c, len, &q, &eb), VOUCH_E_TRUNCATED);
        }
        memcpy(c, d, len);
        c[1218] = 0xff;
        c[1219] = 0xff;
        assert_int_equal(vouch_dcap_quote_parse(c, len, &q, NULL), VOUCH_E_TRUNCATED);
        /* A signature data length one short leaves the PEM overrunning it. */
        memcpy(c, d, len);
        put32(c + 632, (uint32_t)(len - 636 - 70 - 1));
        assert_int_not_equal(vouch_dcap_quote_parse(c, len, &q, NULL), VOUCH_OK);
        /* One longer: unexpected bytes after the certification data. */
        memcpy(c, d, len);
        put32(c + 632, (uint32_t)(len - 636 - 70 + 1));
        assert_int_equal(vouch_dcap_quote_parse(c, len, &q, NULL), VOUCH_E_INVALID);
    }
    /* v3 with a TDX TEE type; a v5 body size that does not match its type. */
    {
        size_t l5;
        uint8_t *v5 = load(V "go-tdx-guest/testing/testdata/quote_v5_sample.dat", &l5);
        struct vouch_errbuf eb = { "" };

        memcpy(c, d, len);
        c[0] = 3;
        assert_int_equal(vouch_dcap_quote_parse(c, len, &q, &eb), VOUCH_E_INVALID);
        put32(v5 + 50, 584);
        assert_int_equal(vouch_dcap_quote_parse(v5, l5, &q, &eb), VOUCH_E_INVALID);
        assert_non_null(strstr(eb.msg, "body type 3 with size 584"));
        v5[48] = 1;
        put32(v5 + 50, 384);
        assert_int_equal(vouch_dcap_quote_parse(v5, l5, &q, &eb), VOUCH_E_INVALID);
        free(v5);
    }
    /* Larger than the cap. */
    assert_int_equal(vouch_dcap_quote_parse(d, VOUCH_DCAP_QUOTE_MAX + 1, &q, NULL),
                     VOUCH_E_TOO_LARGE);
    free(c);
    free(d);
}

static void test_padding_and_hex(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_quote q;
    size_t len, i;
    uint8_t *d = load(V "dcap-qvl/sample/tdx_quote", &len);
    uint8_t *pad = calloc(1, len + 3000), *bin;
    char *hex = malloc(2 * len + 8);
    size_t blen;
    bool owned;

    (void)state;
    memcpy(pad, d, len);
    assert_int_equal(vouch_dcap_quote_parse(pad, len + 3000, &q, &eb), VOUCH_OK);
    assert_int_equal(q.len, 4936);
    /* 0x-prefixed hex text with a trailing newline. */
    strcpy(hex, "0x");
    for (i = 0; i < len; i++)
        sprintf(hex + 2 + 2 * i, "%02X", d[i]);
    strcat(hex, "\n");
    assert_int_equal(vouch_dcap_quote_decode((uint8_t *)hex, strlen(hex), &bin, &blen, &owned,
                                             &eb), VOUCH_OK);
    assert_true(owned);
    assert_int_equal(blen, len);
    assert_memory_equal(bin, d, len);
    free(bin);
    /* Binary stays binary. */
    assert_int_equal(vouch_dcap_quote_decode(d, len, &bin, &blen, &owned, &eb), VOUCH_OK);
    assert_false(owned);
    assert_ptr_equal(bin, d);
    /* Bad hex after 0x. */
    assert_int_equal(vouch_dcap_quote_decode((const uint8_t *)"0x12z4", 6, &bin, &blen, &owned,
                                             &eb), VOUCH_E_INVALID);
    free(hex);
    free(pad);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_padding_and_hex),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
