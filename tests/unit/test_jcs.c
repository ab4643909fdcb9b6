/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "crypto/digest.h"
#include "crypto/jcs.h"

static void check(const char *in, const char *want)
{
    json_error_t jerr;
    json_t *v = json_loads(in, JSON_DECODE_ANY, &jerr);
    char *out = NULL;
    size_t len;

    if (!v)
        fail_msg("bad test input '%s': %s", in, jerr.text);
    assert_int_equal(vouch_jcs(v, 1 << 20, &out, &len, NULL), VOUCH_OK);
    if (strcmp(out, want))
        fail_msg("JCS of %s\n got  %s\n want %s", in, out, want);
    assert_int_equal(len, strlen(want));
    free(out);
    json_decref(v);
}

/* RFC 8785 section 3.2.4's example, and its sorting example (3.2.3). */
static void test_rfc8785_examples(void **state)
{
    (void)state;
    check("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
          " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\","
          " \"literals\": [null, true, false]}",
          "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,"
          "1e-27],\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
    check("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": "
          "\"Hebrew Letter Dalet With Dagesh\", \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: "
          "Grinning Face\", \"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter O With "
          "Diaeresis\"}",
          "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
          "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
          "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
          "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

/* ECMAScript Number::toString cases (RFC 8785 appendix B style). */
static void test_numbers(void **state)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        { 0.0, "0" }, { -0.0, "0" }, { 1.0, "1" }, { -1.5, "-1.5" }, { 0.1, "0.1" },
        { 1e21, "1e+21" }, { 1e20, "100000000000000000000" }, { 123456789012345680000.0,
          "123456789012345680000" }, { 1e-6, "0.000001" }, { 1e-7, "1e-7" },
        { 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 9007199254740993.0, "9007199254740992" }, { 0.30000000000000004,
          "0.30000000000000004" }, { 295147905179352830000.0, "295147905179352830000" },
        { 4.35, "4.35" }, { 0.0000012345, "0.0000012345" }, { 1.2345e-7, "1.2345e-7" },
    };
    char buf[40];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vouch_jcs_number(cases[i].d, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want))
            fail_msg("%.17g: got %s want %s", cases[i].d, buf, cases[i].want);
    }
    /* jansson integers beyond 2^53 are rounded as a double would be */
    check("[9007199254740993, -5, 0]", "[9007199254740992,-5,0]");
}

/* trustee's vector (attestation-service/src/lib.rs): the structured
 * runtime data digest that a quote's report data must carry. */
static void test_trustee_runtime_data_vector(void **state)
{
    json_t *v = json_loads("{\"b\":1,\"a\":\"test\",\"c\":{\"d\":\"e\"}}", 0, NULL);
    uint8_t digest[48];
    char hex[97], *out;
    size_t len;

    (void)state;
    assert_int_equal(vouch_jcs(v, 4096, &out, &len, NULL), VOUCH_OK);
    assert_string_equal(out, "{\"a\":\"test\",\"b\":1,\"c\":{\"d\":\"e\"}}");
    assert_int_equal(vouch_hash(VOUCH_HASH_SHA384, out, len, digest), VOUCH_OK);
    vouch_hex_encode(digest, 48, hex);
    assert_string_equal(hex, "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c"
                             "4597480a186427c813ca941da78870c3");
    free(out);
    json_decref(v);
}

static void test_limits(void **state)
{
    json_t *deep = json_array(), *cur = deep;
    char *out;
    size_t len;
    int i;

    (void)state;
    for (i = 0; i < 200; i++) {
        json_t *n = json_array();

        json_array_append_new(cur, n);
        cur = n;
    }
    assert_int_equal(vouch_jcs(deep, 1 << 20, &out, &len, NULL), VOUCH_E_LIMIT);
    json_decref(deep);
    deep = json_pack("{s:s}", "k", "0123456789");
    assert_int_equal(vouch_jcs(deep, 10, &out, &len, NULL), VOUCH_E_TOO_LARGE);
    json_decref(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8785_examples),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_trustee_runtime_data_vector),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
