/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/codec.h"
#include "policy/refval.h"

static void test_parse_forms(void **state)
{
    /* RVPS sample payload: base64 of {"mr_td":["aa","bb"],"svn":[1]} */
    const char *payload_json = "{\"mr_td\":[\"aa\",\"bb\"],\"svn\":[1]}";
    char *b64 = vouch_b64_alloc(payload_json, strlen(payload_json), VOUCH_B64_STD);
    char rvps[256];
    static const struct {
        const char *body;
        vouch_err want;
        size_t n;
        const char *field;
    } cases[] = {
        { NULL, VOUCH_OK, 2, NULL }, /* the RVPS message, filled in below */
        { "{\"name\":\"mr_td\",\"values\":[\"aa\"]}", VOUCH_OK, 1, NULL },
        { "{\"reference_values\":{\"a\":[1],\"b\":[],\"c\":[\"x\"]},"
          "\"expires_at\":\"2030-01-01T00:00:00Z\"}", VOUCH_OK, 3, NULL },
        { "{\"name\":\"mr_td\",\"values\":\"aa\"}", VOUCH_E_INVALID, 0, "values" },
        { "{\"name\":\"bad name!\",\"values\":[]}", VOUCH_E_INVALID, 0, "name" },
        { "{\"reference_values\":{}}", VOUCH_E_INVALID, 0, "reference_values" },
        { "{\"reference_values\":{\"a\":1}}", VOUCH_E_INVALID, 0, "reference_values" },
        { "{\"version\":\"0.1.0\",\"type\":\"swid\",\"payload\":\"e30\"}", VOUCH_E_UNSUPPORTED, 0,
          "type" },
        { "{\"type\":\"sample\",\"payload\":\"not base64!\"}", VOUCH_E_INVALID, 0, "payload" },
        { "{\"name\":\"x\",\"values\":[],\"expires_at\":\"soon\"}", VOUCH_E_INVALID, 0,
          "expires_at" },
        { "{\"something\":1}", VOUCH_E_INVALID, 0, NULL },
    };
    size_t i;

    (void)state;
    snprintf(rvps, sizeof(rvps), "{\"version\":\"0.1.0\",\"type\":\"sample\",\"payload\":\"%s\"}",
             b64);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *body = json_loads(cases[i].body ? cases[i].body : rvps, 0, NULL);
        struct vouch_refval *rv = NULL;
        const char *field = NULL;
        size_t n = 0;
        vouch_err e = vouch_refval_parse(body, 1000, &rv, &n, &field, NULL);

        if (e != cases[i].want)
            fail_msg("case %zu: got %d", i, e);
        if (!e) {
            assert_int_equal(n, cases[i].n);
            if (i == 0) {
                assert_string_equal(rv[0].name, "mr_td");
                assert_int_equal(json_array_size(rv[0].values), 2);
                assert_int_equal(rv[0].expires_at, 1000 + VOUCH_REFVAL_DEFAULT_LIFETIME);
            }
            if (i == 2)
                assert_int_equal(rv[0].expires_at, 1893456000);
            vouch_refvals_free(rv, n);
        } else if (cases[i].field) {
            assert_non_null(field);
            assert_string_equal(field, cases[i].field);
        }
        json_decref(body);
    }
    free(b64);
}

static void test_store_and_expiry(void **state)
{
    char dir[] = "/tmp/vouch-refval-XXXXXX", url[64], cmd[64];
    struct vouch_store *s;
    struct vouch_refval rv = { "mr_td", NULL, 2000 };
    json_t *v = NULL;
    int64_t exp = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/r.db", dir);
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    rv.values = json_pack("[ss]", "aa", "bb");
    assert_int_equal(vouch_refval_put(s, &rv, 1000, NULL), VOUCH_OK);
    assert_int_equal(vouch_refval_lookup(s, "mr_td", 1999, &v, NULL), VOUCH_OK);
    assert_true(json_equal(v, rv.values));
    json_decref(v);
    v = NULL;
    /* expired: a policy no longer sees it, the admin view still does */
    assert_int_equal(vouch_refval_lookup(s, "mr_td", 2000, &v, NULL), VOUCH_E_NOT_FOUND);
    assert_null(v);
    assert_int_equal(vouch_refval_get(s, "mr_td", &v, &exp, NULL), VOUCH_OK);
    assert_int_equal(exp, 2000);
    json_decref(v);
    assert_int_equal(vouch_refval_lookup(s, "nope", 0, &v, NULL), VOUCH_E_NOT_FOUND);
    json_decref(rv.values);
    vouch_store_close(s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_store_and_expiry),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
