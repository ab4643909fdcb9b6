/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token/result.h"

static void test_ear_status_tiers(void **state)
{
    static const struct {
        const char *tv;
        const char *want;
    } cases[] = {
        { NULL, "none" },
        { "{}", "none" },
        { "{\"hardware\":0,\"configuration\":1,\"executables\":-1}", "none" },
        { "{\"hardware\":2}", "affirming" },
        { "{\"hardware\":31,\"configuration\":-32}", "affirming" },
        { "{\"hardware\":2,\"configuration\":32}", "warning" },
        { "{\"hardware\":-33}", "warning" },
        { "{\"hardware\":95,\"executables\":-96}", "warning" },
        { "{\"hardware\":96}", "contraindicated" },
        { "{\"hardware\":2,\"executables\":33,\"configuration\":-97}", "contraindicated" },
        { "{\"hardware\":97,\"configuration\":36,\"executables\":33}", "contraindicated" },
        { "{\"hardware\":\"97\"}", "none" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *tv = cases[i].tv ? json_loads(cases[i].tv, 0, NULL) : NULL;

        if (strcmp(vouch_ear_status(tv), cases[i].want))
            fail_msg("%s: got %s want %s", cases[i].tv ? cases[i].tv : "NULL",
                     vouch_ear_status(tv), cases[i].want);
        json_decref(tv);
    }
}

static void test_flatten(void **state)
{
    json_t *in = json_loads("{\"tdx\":{\"quote\":{\"header\":{\"version\":\"0400\"},\"body\":"
                            "{\"mr_td\":\"ab\"}},\"advisory_ids\":[\"INTEL-SA-1\"],\"x\":{}},"
                            "\"report_data\":\"00\",\"init_data\":null}", 0, NULL);
    json_t *out = json_object();

    (void)state;
    assert_int_equal(vouch_claims_flatten(in, "", out, NULL), VOUCH_OK);
    assert_int_equal(json_object_size(out), 6);
    assert_string_equal(json_string_value(json_object_get(out, "tdx.quote.header.version")),
                        "0400");
    assert_string_equal(json_string_value(json_object_get(out, "tdx.quote.body.mr_td")), "ab");
    assert_true(json_is_array(json_object_get(out, "tdx.advisory_ids")));
    assert_true(json_is_object(json_object_get(out, "tdx.x")));
    assert_true(json_is_null(json_object_get(out, "init_data")));
    assert_string_equal(json_string_value(json_object_get(out, "report_data")), "00");
    json_decref(in);
    json_decref(out);
}

static void test_flat_and_ear_payloads(void **state)
{
    json_t *annotated = json_loads("{\"tdx\":{\"quote\":{\"body\":{\"mr_td\":\"ab\"}}},"
                                   "\"report_data\":\"01\"}", 0, NULL);
    json_t *tv = json_loads("{\"hardware\":2,\"configuration\":36}", 0, NULL);
    json_t *reports = json_loads("[{\"policy-id\":\"default\",\"policy-hash\":\"h\",\"allow\":"
                                 "true}]", 0, NULL);
    struct vouch_appraisal a = { "cpu0", "tdx", annotated, tv, "default" };
    struct vouch_result r = { "https://vouch.test", NULL, 1000, 21600, "tdx", reports, NULL,
                              &a, 1, "vouch test" };
    json_t *flat = NULL, *ear = NULL, *tcb, *cpu0;
    const char *jti;

    (void)state;
    assert_int_equal(vouch_result_flat(&r, &flat, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(flat, "iss")), "https://vouch.test");
    assert_string_equal(json_string_value(json_object_get(flat, "aud")), "https://vouch.test");
    assert_int_equal(json_integer_value(json_object_get(flat, "nbf")), 1000);
    assert_int_equal(json_integer_value(json_object_get(flat, "exp")), 22600);
    jti = json_string_value(json_object_get(flat, "jti"));
    assert_int_equal(strlen(jti), 36);
    assert_int_equal(jti[14], '4');
    assert_string_equal(json_string_value(json_object_get(flat, "tee")), "tdx");
    /* tcb-status is a JSON *string* of the flattened claims */
    assert_true(json_is_string(json_object_get(flat, "tcb-status")));
    tcb = json_loads(json_string_value(json_object_get(flat, "tcb-status")), 0, NULL);
    assert_string_equal(json_string_value(json_object_get(tcb, "tdx.quote.body.mr_td")), "ab");
    assert_string_equal(json_string_value(json_object_get(tcb, "report_data")), "01");
    json_decref(tcb);
    assert_true(json_is_null(json_object_get(json_object_get(flat, "customized_claims"),
                                             "runtime_data")));
    assert_true(json_equal(json_object_get(flat, "evaluation-reports"), reports));

    assert_int_equal(vouch_result_ear(&r, &ear, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(ear, "eat_profile")),
                        VOUCH_EAT_PROFILE_EAR);
    cpu0 = json_object_get(json_object_get(ear, "submods"), "cpu0");
    assert_string_equal(json_string_value(json_object_get(cpu0, "ear.status")), "warning");
    assert_int_equal(json_object_size(json_object_get(cpu0, "ear.trustworthiness-vector")), 8);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cpu0,
                     "ear.trustworthiness-vector"), "executables")), 0);
    assert_true(json_equal(json_object_get(cpu0, "ear.veraison.annotated-evidence"), annotated));
    /* without a requested audience or a subject: EAR has neither, flat has aud = iss */
    assert_null(json_object_get(ear, "aud"));
    assert_null(json_object_get(ear, "sub"));
    assert_null(json_object_get(flat, "sub"));
    json_decref(flat);
    json_decref(ear);

    /* a requested audience and a subject reach both shapes */
    r.audience = "sts.amazonaws.com";
    r.subject = "tdx:0123";
    assert_int_equal(vouch_result_flat(&r, &flat, NULL), VOUCH_OK);
    assert_int_equal(vouch_result_ear(&r, &ear, NULL), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(flat, "aud")), "sts.amazonaws.com");
    assert_string_equal(json_string_value(json_object_get(ear, "aud")), "sts.amazonaws.com");
    assert_string_equal(json_string_value(json_object_get(flat, "sub")), "tdx:0123");
    assert_string_equal(json_string_value(json_object_get(ear, "sub")), "tdx:0123");
    json_decref(flat);
    json_decref(ear);
    json_decref(annotated);
    json_decref(tv);
    json_decref(reports);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ear_status_tiers),
        cmocka_unit_test(test_flatten),
        cmocka_unit_test(test_flat_and_ear_payloads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
