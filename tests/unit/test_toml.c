/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/json.h"
#include "common/toml.h"

/* Each TOML document against the JSON it must become, or the error it must give. */
static void test_documents(void **state)
{
    static const struct {
        const char *toml, *json, *err;
    } cases[] = {
        { "", "{}", NULL },
        { "# only a comment\n\n", "{}", NULL },
        { "a = 1\nb = -2\nc = +3\nd = 1_000\ne = 0x1F\nf = 0o17\ng = 0b101\n",
          "{\"a\":1,\"b\":-2,\"c\":3,\"d\":1000,\"e\":31,\"f\":15,\"g\":5}", NULL },
        { "x = 1.5\ny = -2e-3\nz = 6.02E23\n", "{\"x\":1.5,\"y\":-0.002,\"z\":6.02e23}", NULL },
        { "t = true\nf = false # comment\n", "{\"t\":true,\"f\":false}", NULL },
        { "s = \"a\\tb\\n\\\"q\\\" \\u00e9 \\U0001F600\"\n",
          "{\"s\":\"a\\tb\\n\\\"q\\\" \\u00e9 \\ud83d\\ude00\"}", NULL },
        { "s = 'C:\\path\\to'\n", "{\"s\":\"C:\\\\path\\\\to\"}", NULL },
        { "s = \"\"\"\nline one\nline two\"\"\"\n", "{\"s\":\"line one\\nline two\"}", NULL },
        { "s = \"\"\"a \\\n    b\"\"\"\n", "{\"s\":\"a b\"}", NULL },
        { "s = '''\nraw \\n \"x\"\n'''\n", "{\"s\":\"raw \\\\n \\\"x\\\"\\n\"}", NULL },
        { "s = \"\"\"two quotes at the end\"\"\"\"\"\n", "{\"s\":\"two quotes at the end\\\"\\\"\"}", NULL },
        { "a = [1, 2,\n  3, # comment\n]\nb = []\nc = [[1], ['x']]\n",
          "{\"a\":[1,2,3],\"b\":[],\"c\":[[1],[\"x\"]]}", NULL },
        { "p = { x = 1, y.z = \"w\" }\n", "{\"p\":{\"x\":1,\"y\":{\"z\":\"w\"}}}", NULL },
        { "a.b.c = 1\na.b.d = 2\n\"quoted key\" = 3\n'lit.key' = 4\n",
          "{\"a\":{\"b\":{\"c\":1,\"d\":2}},\"quoted key\":3,\"lit.key\":4}", NULL },
        { "top = 1\n[t]\nk = 'v'\n[t.sub]\nn = 2\n[other]\n",
          "{\"top\":1,\"t\":{\"k\":\"v\",\"sub\":{\"n\":2}},\"other\":{}}", NULL },
        { "[[p]]\nn = 1\n[[p]]\nn = 2\n[p.q]\nm = 3\n",
          "{\"p\":[{\"n\":1},{\"n\":2,\"q\":{\"m\":3}}]}", NULL },
        { "a = 1\r\nb = 2\r\n", "{\"a\":1,\"b\":2}", NULL },
        { "a = 1\na = 2\n", NULL, "line 2: duplicate key" },
        { "a = 1\n[a]\n", NULL, "line 2" },
        { "d = 1979-05-27\n", NULL, "dates" },
        { "t = 07:32:00\n", NULL, "dates" },
        { "x = inf\n", NULL, "inf" },
        { "s = \"unterminated\n", NULL, "line 1" },
        { "\n\ns = 'a' b = 2\n", NULL, "line 3: expected the end of the line" },
        { "s = \"bad \\q escape\"\n", NULL, "invalid escape" },
        { "k = \n", NULL, "expected a value" },
        { "= 1\n", NULL, "expected a key" },
        { "a = [1 2]\n", NULL, "expected ',' or ']'" },
        { "s = \"\\uD800\"\n", NULL, "not a Unicode scalar" },
        { "s = \"\xff\"\n", NULL, "UTF-8" },
        { "n = 99999999999999999999\n", NULL, "invalid integer" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        json_t *got = NULL, *want = NULL;
        vouch_err e = vouch_toml_parse(cases[i].toml, strlen(cases[i].toml), &got, &eb);

        if (cases[i].json) {
            if (e)
                fail_msg("case %zu: %s", i, eb.msg);
            assert_int_equal(vouch_json_parse(cases[i].json, strlen(cases[i].json), &want, NULL),
                             VOUCH_OK);
            if (!json_equal(got, want)) {
                char *s = json_dumps(got, JSON_COMPACT);

                fail_msg("case %zu: got %s", i, s);
            }
        } else {
            assert_int_equal(e, VOUCH_E_INVALID);
            assert_null(got);
            if (!strstr(eb.msg, cases[i].err))
                fail_msg("case %zu: message '%s' lacks '%s'", i, eb.msg, cases[i].err);
        }
        json_decref(got);
        json_decref(want);
    }
}

/* A confidential-containers init data document with embedded TOML and Rego. */
static void test_init_data(void **state)
{
    static const char doc[] =
        "algorithm = \"sha384\"\n"
        "version = \"0.1.0\"\n"
        "\n"
        "[data]\n"
        "\"aa.toml\" = '''\n"
        "[token_configs]\n"
        "[token_configs.kbs]\n"
        "url = \"https://kbs.example:8080\"\n"
        "'''\n"
        "\"cdh.toml\" = '''\n"
        "socket = 'unix:///run/confidential-containers/cdh.sock'\n"
        "credentials = []\n"
        "[kbc]\n"
        "name = \"cc_kbc\"\n"
        "'''\n"
        "\"policy.rego\" = '''\n"
        "package agent_policy\n"
        "default ExecProcessRequest := false\n"
        "'''\n";
    json_t *v = NULL, *aa = NULL;
    const char *s;

    (void)state;
    assert_int_equal(vouch_toml_parse(doc, strlen(doc), &v, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(v, "algorithm")), "sha384");
    s = json_string_value(json_object_get(json_object_get(v, "data"), "aa.toml"));
    assert_non_null(s);
    assert_int_equal(vouch_toml_parse(s, strlen(s), &aa, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            aa, "token_configs"), "kbs"), "url")), "https://kbs.example:8080");
    s = json_string_value(json_object_get(json_object_get(v, "data"), "policy.rego"));
    assert_non_null(strstr(s, "package agent_policy\n"));
    json_decref(aa);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_init_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
