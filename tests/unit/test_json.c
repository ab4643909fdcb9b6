/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"

static void test_parse_errors(void **state)
{
    static const struct {
        const char *in;
        vouch_err want;
        const char *msg;
    } cases[] = {
        { "{\"a\":1}", VOUCH_OK, NULL },
        { "{\"a\":1,\"a\":2}", VOUCH_E_INVALID, "duplicate" },
        { "{\"a\":\n  1,}", VOUCH_E_INVALID, "line 2" },
        { "", VOUCH_E_INVALID, "line" },
        { "[1,2", VOUCH_E_INVALID, "line 1" },
        { "{} x", VOUCH_E_INVALID, "end of file expected" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        json_t *v = NULL;
        vouch_err e = vouch_json_parse(cases[i].in, strlen(cases[i].in), &v, &eb);

        assert_int_equal(e, cases[i].want);
        if (e) {
            assert_null(v);
            if (!strstr(eb.msg, cases[i].msg))
                fail_msg("case %zu: message '%s' lacks '%s'", i, eb.msg, cases[i].msg);
        }
        json_decref(v);
    }
}

static void test_getters(void **state)
{
    const char *text = "{\"s\":\"x\",\"i\":7,\"b\":true,\"o\":{},\"a\":[],\"n\":null}";
    struct vouch_errbuf eb;
    json_t *v, *o = NULL;
    const char *s = "default";
    size_t slen = 0;
    int64_t i = -1;
    bool b = false;

    (void)state;
    assert_int_equal(vouch_json_parse(text, strlen(text), &v, NULL), VOUCH_OK);
    assert_int_equal(vouch_json_get_str(v, "s", true, &s, &slen, &eb), VOUCH_OK);
    assert_string_equal(s, "x");
    assert_int_equal(slen, 1);
    assert_int_equal(vouch_json_get_int(v, "i", true, &i, &eb), VOUCH_OK);
    assert_int_equal(i, 7);
    assert_int_equal(vouch_json_get_bool(v, "b", true, &b, &eb), VOUCH_OK);
    assert_true(b);
    assert_int_equal(vouch_json_get_obj(v, "o", true, &o, &eb), VOUCH_OK);
    assert_non_null(o);
    assert_int_equal(vouch_json_get_array(v, "a", true, &o, &eb), VOUCH_OK);
    /* wrong types name the key */
    assert_int_equal(vouch_json_get_str(v, "i", true, &s, NULL, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "'i'"));
    assert_int_equal(vouch_json_get_int(v, "s", true, &i, &eb), VOUCH_E_INVALID);
    /* missing and null: required fails, optional leaves the default */
    s = "default";
    assert_int_equal(vouch_json_get_str(v, "missing", false, &s, NULL, &eb), VOUCH_OK);
    assert_string_equal(s, "default");
    assert_int_equal(vouch_json_get_str(v, "n", false, &s, NULL, &eb), VOUCH_OK);
    assert_string_equal(s, "default");
    assert_int_equal(vouch_json_get_str(v, "missing", true, &s, NULL, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "required"));
    json_decref(v);
}

static void test_setters_and_dump(void **state)
{
    json_t *o = json_object();
    char *out;
    size_t len;

    (void)state;
    assert_int_equal(vouch_json_set_hex(o, "h", "\x01\xab", 2), VOUCH_OK);
    assert_int_equal(vouch_json_set_str(o, "s", "v"), VOUCH_OK);
    assert_int_equal(vouch_json_set_int(o, "i", -3), VOUCH_OK);
    assert_int_equal(vouch_json_set_bool(o, "b", false), VOUCH_OK);
    assert_int_equal(vouch_json_set_new(o, "x", NULL), VOUCH_E_NOMEM);
    assert_int_equal(vouch_json_dump(o, 1000, &out, &len, NULL), VOUCH_OK);
    assert_string_equal(out, "{\"h\":\"01ab\",\"s\":\"v\",\"i\":-3,\"b\":false}");
    assert_int_equal(len, strlen(out));
    free(out);
    assert_int_equal(vouch_json_dump(o, 10, &out, &len, NULL), VOUCH_E_TOO_LARGE);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_setters_and_dump),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
