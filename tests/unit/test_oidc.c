/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OIDC: the discovery document lists only what is served, and a token's
 * `sub` follows the documented rule (docs/oidc.md).  The expected subjects
 * were computed apart from Vouch: Python's json.dumps(sort_keys=True,
 * separators=(',', ':')) of {path: value} (which is RFC 8785 for these
 * ASCII strings), then hashlib.sha256.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "token/oidc.h"
#include "vouch/evidence.h"

static void test_discovery_lists_what_is_served(void **state)
{
    static const char *const absent[] = { "authorization_endpoint", "token_endpoint",
                                          "userinfo_endpoint", "scopes_supported",
                                          "registration_endpoint" };
    json_t *doc, *algs;
    size_t i;

    (void)state;
    assert_int_equal(vouch_oidc_configuration("https://vouch.example", "ES256", &doc, NULL),
                     VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(doc, "issuer")),
                        "https://vouch.example");
    assert_string_equal(json_string_value(json_object_get(doc, "jwks_uri")),
                        "https://vouch.example/jwks.json");
    for (i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
        assert_null(json_object_get(doc, absent[i]));
    algs = json_object_get(doc, "id_token_signing_alg_values_supported");
    assert_int_equal(json_array_size(algs), 1);
    assert_string_equal(json_string_value(json_array_get(algs, 0)), "ES256");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(doc, "response_types_supported"), 0)), "id_token");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(doc, "subject_types_supported"), 0)), "public");
    json_decref(doc);
}

static const char *const tdx_two[] = { "quote.body.mr_td", "quote.body.rtmr_0", NULL };
static const char *const gpu[] = { "measurements", NULL };
static const char *const snp[] = { "measurement", NULL };

static const struct {
    const char *tee;
    const char *const *paths;
    const char *claims;
    const char *want;
} subjects[] = {
    /* the report data (a request's choice) does not change it */
    { "tdx", tdx_two,
      "{\"quote\":{\"body\":{\"mr_td\":\"ab\",\"rtmr_0\":\"cd\",\"report_data\":\"ff\"}}}",
      "tdx:260371aa40192d0863432333721c91753920298cb4ccee0fe4516f097d1993ce" },
    { "tdx", tdx_two,
      "{\"quote\":{\"body\":{\"rtmr_0\":\"cd\",\"report_data\":\"00\",\"mr_td\":\"ab\"}}}",
      "tdx:260371aa40192d0863432333721c91753920298cb4ccee0fe4516f097d1993ce" },
    /* a missing claim is null */
    { "tdx", tdx_two, "{\"quote\":{\"body\":{\"mr_td\":\"ab\"}}}",
      "tdx:e8a5f7454d1750d5895bc411a0d12733457742b5af69b2a3bb90202ef2f8357e" },
    /* an object value, its members in RFC 8785 order ("10" before "2") */
    { "nvgpu", gpu, "{\"measurements\":{\"2\":\"bb\",\"10\":\"aa\"},\"uuid\":\"x\"}",
      "nvgpu:13c88a111ac16e3163b3529d620c4f59565939c3fe3368c277829e4201bea4d5" },
    { "snp", snp, "{\"measurement\":\"00\",\"report_data\":\"11\"}",
      "snp:da2993241f2ca86a86f0df0cf3af937f5450987a847f7dee36f3ca1cef7ca7f0" },
};

static void test_subject_rule(void **state)
{
    char got[VOUCH_OIDC_SUBJECT_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        json_t *claims = json_loads(subjects[i].claims, 0, NULL);

        assert_non_null(claims);
        assert_int_equal(vouch_oidc_subject(subjects[i].tee, subjects[i].paths, claims, got,
                                            NULL), VOUCH_OK);
        assert_string_equal(got, subjects[i].want);
        json_decref(claims);
    }
}

/* Every verifier of one device has a rule, so its tokens carry `sub`. */
static void test_every_verifier_names_its_subject(void **state)
{
    const struct vouch_verifier *v;
    size_t i;

    (void)state;
    for (i = 0; (v = vouch_verifier_at(i)); i++) {
        if (v->multi_device && !v->subject_claims)
            continue;   /* its devices follow their own tee's rule */
        assert_non_null(v->subject_claims);
        assert_non_null(v->subject_claims[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery_lists_what_is_served),
        cmocka_unit_test(test_subject_rule),
        cmocka_unit_test(test_every_verifier_names_its_subject),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
