/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "evidence/binding.h"

static void test_parse_table(void **state)
{
    static const struct {
        const char *json;
        enum vouch_hash hash;
        vouch_err want;
        const char *hex;     /* expected bytes */
        const char *needle;  /* error text */
    } cases[] = {
        /* raw: base64url (trustee) and standard base64 (Alibaba's client) */
        { "{\"raw\":\"AAEC_w\"}", VOUCH_HASH_SHA384, VOUCH_OK, "000102ff", NULL },
        { "{\"raw\":\"AAEC/w==\"}", VOUCH_HASH_SHA384, VOUCH_OK, "000102ff", NULL },
        { "{\"raw\":\"\"}", VOUCH_HASH_SHA384, VOUCH_OK, "", NULL },
        { "{\"raw\":\"!!\"}", VOUCH_HASH_SHA384, VOUCH_E_INVALID, NULL, "'raw'" },
        { "{\"raw\":5}", VOUCH_HASH_SHA384, VOUCH_E_INVALID, NULL, "'raw'" },
        /* structured: JCS then the hash; trustee's vector for sha384 */
        { "{\"structured\":{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}}", VOUCH_HASH_SHA384,
          VOUCH_OK, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c"
                    "4597480a186427c813ca941da78870c3", NULL },
        { "{\"raw\":\"AA\",\"structured\":{}}", VOUCH_HASH_SHA384, VOUCH_E_INVALID, NULL,
          "not both" },
        { "{}", VOUCH_HASH_SHA384, VOUCH_E_INVALID, NULL, "needs" },
        { "[]", VOUCH_HASH_SHA384, VOUCH_E_INVALID, NULL, "object" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        struct vouch_binding_data d = { 0 };
        struct vouch_errbuf eb = { "" };
        vouch_err e = vouch_binding_data_parse(v, cases[i].hash, &d, &eb);

        if (e != cases[i].want)
            fail_msg("case %zu: got %d (%s)", i, e, eb.msg);
        if (!e) {
            char *hex = vouch_hex_alloc(d.bytes ? d.bytes : (uint8_t *)"", d.len);

            assert_string_equal(hex, cases[i].hex);
            free(hex);
            assert_true((d.structured != NULL) == (strstr(cases[i].json, "structured") != NULL));
        }
        if (e && !strstr(eb.msg, cases[i].needle))
            fail_msg("case %zu: '%s' lacks '%s'", i, eb.msg, cases[i].needle);
        vouch_binding_data_done(&d);
        json_decref(v);
    }
}

/* sha256 over the JCS form equals sha256 over the hand-written canonical text. */
static void test_structured_sha256_sha512(void **state)
{
    static const char canon[] = "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}";
    json_t *v = json_loads("{\"structured\":{\"c\":{\"d\":\"e\"},\"b\":1,\"a\":\"test\"}}", 0,
                           NULL);
    enum vouch_hash hs[] = { VOUCH_HASH_SHA256, VOUCH_HASH_SHA512 };
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        uint8_t want[64];
        struct vouch_binding_data d;

        assert_int_equal(vouch_hash(hs[i], canon, strlen(canon), want), VOUCH_OK);
        assert_int_equal(vouch_binding_data_parse(v, hs[i], &d, NULL), VOUCH_OK);
        assert_int_equal(d.len, vouch_hash_size(hs[i]));
        assert_memory_equal(d.bytes, want, d.len);
        vouch_binding_data_done(&d);
    }
    json_decref(v);
}

static void test_check_pad_truncate(void **state)
{
    uint8_t field[64] = { 0 };
    uint8_t longer[80];
    struct vouch_errbuf eb;

    (void)state;
    memset(longer, 0x5a, sizeof(longer));
    field[0] = 1;
    field[1] = 2;
    /* shorter expected: zero-padded */
    assert_int_equal(vouch_binding_check((const uint8_t *)"\x01\x02", 2, field, 64, "rd", &eb),
                     VOUCH_OK);
    assert_int_equal(vouch_binding_check((const uint8_t *)"\x01\x03", 2, field, 64, "rd", &eb),
                     VOUCH_E_BINDING);
    assert_non_null(strstr(eb.msg, "rd does not match"));
    /* longer expected: truncated to the field */
    memset(field, 0x5a, sizeof(field));
    assert_int_equal(vouch_binding_check(longer, 80, field, 64, "rd", &eb), VOUCH_OK);
    assert_int_equal(vouch_binding_check(longer, 80, field, 32, "nonce", &eb), VOUCH_OK);
    field[63] = 0;
    assert_int_equal(vouch_binding_check(longer, 80, field, 64, "rd", &eb), VOUCH_E_BINDING);
    /* no expectation: no check */
    assert_int_equal(vouch_binding_check(NULL, 0, field, 64, "rd", &eb), VOUCH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_structured_sha256_sha512),
        cmocka_unit_test(test_check_pad_truncate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
