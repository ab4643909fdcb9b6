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

#include "common/cache.h"
#include "policy/policy.h"
#include "policy/refval.h"

struct fx {
    char dir[48];
    struct vouch_store *store;
    struct vouch_policies *pol;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char url[96];

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-policy-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/p.db", f->dir);
    if (vouch_store_open(url, &f->store, NULL) || vouch_policies_new(&f->pol, NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[80];

    vouch_policies_free(f->pol);
    vouch_store_close(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

/* Annotated TDX evidence as the attestation API builds it. */
static json_t *tdx_input(const char *status, const char *expired, int debug)
{
    return json_pack("{s:{s:s,s:s,s:{s:b},s:{s:{s:s}}},s:s,s:n}",
                     "tdx", "tcb_status", status, "collateral_expiration_status", expired,
                     "td_attributes", "debug", debug, "quote", "body", "mr_td", "abcd",
                     "report_data", "00", "init_data");
}

/* The built-in default policy's verdicts, hand-checked against its text. */
static void test_default_policy(void **state)
{
    static const struct {
        const char *status, *expired;
        int debug;
        int hw, cfg;
        const char *ear;
    } cases[] = {
        { "UpToDate", "0", 0, 2, 2, "affirming" },
        { "SWHardeningNeeded", "0", 0, 3, 2, "affirming" },
        { "ConfigurationAndSWHardeningNeeded", "0", 0, 3, 2, "affirming" },
        { "OutOfDate", "0", 0, 32, 2, "warning" },
        { "TDRelaunchAdvised", "0", 0, 32, 2, "warning" },
        { "UpToDate", "1", 0, 32, 2, "warning" },
        { "UpToDate", "0", 1, 2, 32, "warning" },
    };
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = tdx_input(cases[i].status, cases[i].expired, cases[i].debug);
        const json_t *inputs[] = { in };
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;
        json_t *tv;

        if (vouch_policy_appraise(f->pol, f->store, NULL, 0, inputs, 1, 1000, &o, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        tv = o.trust_vectors[0];
        assert_non_null(tv);
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), cases[i].hw);
        assert_int_equal(json_integer_value(json_object_get(tv, "configuration")), cases[i].cfg);
        assert_int_equal(json_integer_value(json_object_get(tv, "runtime-opaque")), 2);
        assert_true(o.allow); /* the default policy allows verified evidence */
        assert_string_equal(o.first_policy_id, "default");
        assert_string_equal(json_string_value(json_object_get(json_array_get(o.reports, 0),
                                                              "policy-id")), "default");
        vouch_policy_outcome_done(&o);
        json_decref(in);
    }
}

/* SGX: the DEBUG bit is bit 1 of ATTRIBUTES.FLAGS (little-endian hex). */
static void test_default_policy_sgx_debug(void **state)
{
    struct fx *f = *state;
    const char *flags[] = { "0500000000000000", "0700000000000000" };
    int want[] = { 2, 32 };
    size_t i;

    for (i = 0; i < 2; i++) {
        json_t *in = json_pack("{s:{s:s,s:s,s:{s:s}}}", "sgx", "tcb_status", "UpToDate",
                               "collateral_expiration_status", "0", "body", "attributes.flags",
                               flags[i]);
        const json_t *inputs[] = { in };
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;

        if (vouch_policy_appraise(f->pol, f->store, NULL, 0, inputs, 1, 1000, &o, &eb))
            fail_msg("%s", eb.msg);
        assert_int_equal(json_integer_value(json_object_get(o.trust_vectors[0],
                                                            "configuration")), want[i]);
        vouch_policy_outcome_done(&o);
        json_decref(in);
    }
}

/*
 * Azure CVMs: az-snp-vtpm's debug flag is a string (as trustee writes it)
 * and rejects like snp's; az-tdx-vtpm is judged by its TD quote's claims.
 */
static void test_default_policy_azure(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *input;
        bool allow;
        int hw, cfg;
    } cases[] = {
        { "{\"az-snp-vtpm\": {\"policy_debug_allowed\": \"false\", \"tpm\": {}}}", true, 2, 2 },
        { "{\"az-snp-vtpm\": {\"policy_debug_allowed\": \"true\"}}", false, 2, 96 },
        { "{\"az-snp-vtpm\": {\"measurement\": \"agY7\"}}", false, 2, 96 },
        { "{\"az-tdx-vtpm\": {\"tcb_status\": \"OutOfDate\", \"collateral_expiration_status\":"
          " \"0\", \"td_attributes\": {\"debug\": false}}}", true, 32, 2 },
        { "{\"az-tdx-vtpm\": {\"tcb_status\": \"UpToDate\", \"collateral_expiration_status\":"
          " \"0\", \"td_attributes\": {\"debug\": true}}}", true, 2, 32 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_loads(cases[i].input, 0, NULL);
        const json_t *inputs[] = { in };
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;
        const json_t *tv;

        assert_non_null(in);
        if (vouch_policy_appraise(f->pol, f->store, NULL, 0, inputs, 1, 1000, &o, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        tv = o.trust_vectors[0];
        assert_int_equal(o.allow, cases[i].allow);
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), cases[i].hw);
        assert_int_equal(json_integer_value(json_object_get(tv, "configuration")), cases[i].cfg);
        assert_int_equal(json_integer_value(json_object_get(tv, "runtime-opaque")), 2);
        vouch_policy_outcome_done(&o);
        json_decref(in);
    }
}

/* SEV-SNP: a guest policy that allows debugging is rejected. */
static void test_default_policy_snp_debug(void **state)
{
    struct fx *f = *state;
    static const struct {
        int debug;
        bool allow;
        int hw, cfg;
    } cases[] = {
        { 0, true, 2, 2 },
        { 1, false, 2, 96 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_pack("{s:{s:b,s:s},s:s,s:s}", "snp", "policy_debug_allowed",
                               cases[i].debug, "measurement", "a1f3", "report_data", "00",
                               "init_data", "00");
        const json_t *inputs[] = { in };
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;
        const json_t *tv;

        if (vouch_policy_appraise(f->pol, f->store, NULL, 0, inputs, 1, 1000, &o, &eb))
            fail_msg("%s", eb.msg);
        tv = o.trust_vectors[0];
        assert_int_equal(o.allow, cases[i].allow);
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), cases[i].hw);
        assert_int_equal(json_integer_value(json_object_get(tv, "configuration")), cases[i].cfg);
        assert_int_equal(json_integer_value(json_object_get(tv, "runtime-opaque")), 2);
        vouch_policy_outcome_done(&o);
        json_decref(in);
    }
}

/* TPM: allowed only with a trusted AK; PCR 11 against its reference values. */
static void test_default_policy_tpm(void **state)
{
    struct fx *f = *state;
    struct vouch_refval aks = { "trusted_aks", NULL, 5000 }, pcr11 = { "tpm_pcr11", NULL, 5000 };
    static const struct {
        const char *ak, *pcr11;
        bool allow;
        int hw, exe;
    } cases[] = {
        { "AK-UNKNOWN", "11", false, 0, 0 },
        { "AK-1", "11", true, 2, 3 },
        { "AK-1", "12", true, 2, 0 },
    };
    size_t i;

    aks.values = json_pack("[s]", "AK-1");
    pcr11.values = json_pack("[s]", "11");
    assert_int_equal(vouch_refval_put(f->store, &aks, 10, NULL), VOUCH_OK);
    assert_int_equal(vouch_refval_put(f->store, &pcr11, 10, NULL), VOUCH_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = json_pack("{s:{s:s,s:s},s:s}", "tpm", "ak_public", cases[i].ak, "pcr11",
                               cases[i].pcr11, "report_data", "00");
        const json_t *inputs[] = { in };
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;
        const json_t *tv;

        if (vouch_policy_appraise(f->pol, f->store, NULL, 0, inputs, 1, 1000, &o, &eb))
            fail_msg("%s", eb.msg);
        tv = o.trust_vectors[0];
        assert_int_equal(o.allow, cases[i].allow);
        assert_int_equal(json_integer_value(json_object_get(tv, "hardware")), cases[i].hw);
        assert_int_equal(json_integer_value(json_object_get(tv, "executables")), cases[i].exe);
        assert_int_equal(json_integer_value(json_object_get(tv, "configuration")), 0);
        assert_int_equal(json_integer_value(json_object_get(tv, "runtime-opaque")), 0);
        vouch_policy_outcome_done(&o);
        json_decref(in);
    }
    json_decref(aks.values);
    json_decref(pcr11.values);
}

static void test_put_get_list_delete(void **state)
{
    static const char good[] =
        "package policy\nimport rego.v1\ndefault allow := false\n"
        "allow if input.tdx.quote.body.mr_td in query_reference_value(\"mr_td\")\n";
    static const char bad[] = "package policy\nimport rego.v1\nallow if {\n  input.x ==\n}\n";
    struct fx *f = *state;
    char hash[VOUCH_POLICY_HASH_LEN], *text = NULL;
    struct vouch_errbuf eb;
    json_t *list;
    size_t len;

    assert_int_equal(vouch_policy_put(f->pol, f->store, "mrtd", good, strlen(good), 10, hash,
                                      &eb), VOUCH_OK);
    assert_int_equal(strlen(hash), 96);
    assert_int_equal(vouch_policy_put(f->pol, f->store, "broken", bad, strlen(bad), 10, hash,
                                      &eb), VOUCH_E_INVALID);
    if (!strstr(eb.msg, "broken.rego:"))
        fail_msg("compile error lacks file:line:col: %s", eb.msg);
    assert_int_equal(vouch_policy_get(f->store, "broken", &text, &len, hash, NULL),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_policy_get(f->store, "mrtd", &text, &len, hash, NULL), VOUCH_OK);
    assert_int_equal(len, strlen(good));
    free(text);
    assert_int_equal(vouch_policy_get(f->store, "default", &text, &len, hash, NULL), VOUCH_OK);
    assert_non_null(strstr(text, "package policy"));
    free(text);
    assert_int_equal(vouch_policy_list(f->store, &list, NULL), VOUCH_OK);
    assert_int_equal(json_array_size(list), 2); /* default (built in) + mrtd */
    json_decref(list);
    assert_int_equal(vouch_policy_delete(f->store, "mrtd", NULL), VOUCH_OK);
    assert_int_equal(vouch_policy_delete(f->store, "mrtd", NULL), VOUCH_E_NOT_FOUND);
}

/* Reference values reach policies through query_reference_value. */
static void test_reference_values_and_missing(void **state)
{
    static const char rv[] =
        "package policy\nimport rego.v1\ndefault allow := false\n"
        "allow if input.tdx.quote.body.mr_td in query_reference_value(\"mr_td\")\n";
    struct fx *f = *state;
    struct vouch_refval r = { "mr_td", NULL, 5000 };
    json_t *in = tdx_input("UpToDate", "0", 0);
    const json_t *inputs[] = { in };
    const char *ids[] = { "mrtd" }, *missing[] = { "default", "nope" };
    struct vouch_policy_outcome o;
    char hash[VOUCH_POLICY_HASH_LEN];
    struct vouch_errbuf eb;

    assert_int_equal(vouch_policy_put(f->pol, f->store, "mrtd", rv, strlen(rv), 10, hash, &eb),
                     VOUCH_OK);
    /* no reference value yet: not allowed */
    assert_int_equal(vouch_policy_appraise(f->pol, f->store, ids, 1, inputs, 1, 1000, &o, &eb),
                     VOUCH_OK);
    assert_false(o.allow);
    assert_string_equal(o.rejected_by, "'mrtd'");
    vouch_policy_outcome_done(&o);
    r.values = json_pack("[ss]", "ffff", "abcd");
    assert_int_equal(vouch_refval_put(f->store, &r, 10, NULL), VOUCH_OK);
    assert_int_equal(vouch_policy_appraise(f->pol, f->store, ids, 1, inputs, 1, 1000, &o, &eb),
                     VOUCH_OK);
    assert_true(o.allow);
    vouch_policy_outcome_done(&o);
    /* once expired, the value is gone for policies */
    assert_int_equal(vouch_policy_appraise(f->pol, f->store, ids, 1, inputs, 1, 6000, &o, &eb),
                     VOUCH_OK);
    assert_false(o.allow);
    vouch_policy_outcome_done(&o);
    /* an unknown policy id */
    assert_int_equal(vouch_policy_appraise(f->pol, f->store, missing, 2, inputs, 1, 1000, &o,
                                           &eb), VOUCH_E_NOT_FOUND);
    assert_true(o.missing_policy);
    vouch_policy_outcome_done(&o);
    json_decref(r.values);
    json_decref(in);
}

/* Policy answers: trust_claims without allow, bad shapes, v0 syntax, conflicts. */
static void test_policy_answers(void **state)
{
    static const struct {
        const char *text;
        vouch_err want;
        int allow;
    } cases[] = {
        { "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 2}\n", VOUCH_OK, 1 },
        { "package policy\nimport rego.v1\ntrust_claims := {\"hardware\": 32}\n", VOUCH_OK, 0 },
        { "package policy\nimport rego.v1\ntrust_claims := {\"hardwear\": 2}\n",
          VOUCH_E_INVALID, 0 },
        { "package policy\nimport rego.v1\nallow := \"yes\"\n", VOUCH_E_INVALID, 0 },
        { "package policy\nimport rego.v1\nx := 1\n", VOUCH_E_INVALID, 0 },
        /* trustee-era v0 syntax */
        { "package policy\ndefault allow = false\nallow { input.tdx.tcb_status == \"UpToDate\" }\n",
          VOUCH_OK, 1 },
        /* conflicting values are an evaluation error, not a verdict */
        { "package policy\nimport rego.v1\nallow := true\nallow := false if true\n",
          VOUCH_E_INVALID, 0 },
    };
    struct fx *f = *state;
    json_t *in = tdx_input("UpToDate", "0", 0);
    const json_t *inputs[] = { in };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *ids[] = { "p" };
        char hash[VOUCH_POLICY_HASH_LEN];
        struct vouch_policy_outcome o;
        struct vouch_errbuf eb;
        vouch_err e;

        e = vouch_policy_put(f->pol, f->store, "p", cases[i].text, strlen(cases[i].text), 10,
                             hash, &eb);
        if (e == VOUCH_OK)
            e = vouch_policy_appraise(f->pol, f->store, ids, 1, inputs, 1, 1000, &o, &eb);
        else
            memset(&o, 0, sizeof(o));
        if (e != cases[i].want)
            fail_msg("case %zu: got %d (%s)", i, e, eb.msg);
        if (!e)
            assert_int_equal(o.allow, cases[i].allow);
        vouch_policy_outcome_done(&o);
    }
    json_decref(in);
}

/*
 * The compiled-policy cache is an LRU: with 300 stored policies (more than
 * the old fixed list held) each is compiled once, however many requests
 * use it, on the replica that stored it and on one that did not.
 */
#define MANY_POLICIES 300

static void appraise_all(struct vouch_policies *pol, struct vouch_store *s, const json_t *in)
{
    const json_t *inputs[] = { in };
    int round, i;

    for (round = 0; round < 2; round++)
        for (i = 0; i < MANY_POLICIES; i++) {
            struct vouch_policy_outcome o;
            struct vouch_errbuf eb;
            char id[16];
            const char *ids[] = { id };

            snprintf(id, sizeof(id), "p%03d", i);
            if (vouch_policy_appraise(pol, s, ids, 1, inputs, 1, 0, &o, &eb))
                fail_msg("%s: %s", id, eb.msg);
            assert_true(o.allow);
            vouch_policy_outcome_done(&o);
        }
}

static void test_many_policies_compile_once(void **state)
{
    struct fx *f = *state;
    struct vouch_policies *other = NULL;
    struct vouch_cache_stats st;
    json_t *in = tdx_input("UpToDate", "0", 0);
    char text[128], h[VOUCH_POLICY_HASH_LEN];
    uint64_t compiles, base;
    int i;

    vouch_policies_stats(f->pol, &st, &base);
    for (i = 0; i < MANY_POLICIES; i++) {
        char id[16];

        snprintf(id, sizeof(id), "p%03d", i);
        snprintf(text, sizeof(text), "package policy\nallow := true\nserial := %d\n", i);
        assert_int_equal(vouch_policy_put(f->pol, f->store, id, text, strlen(text), 1, h, NULL),
                         VOUCH_OK);
    }
    vouch_policies_stats(f->pol, &st, &compiles);
    assert_int_equal(compiles - base, MANY_POLICIES);
    /* Two rounds of requests over every policy: no compile, all hits. */
    appraise_all(f->pol, f->store, in);
    vouch_policies_stats(f->pol, &st, &compiles);
    assert_int_equal(compiles - base, MANY_POLICIES);
    assert_int_equal(st.hits, 2 * MANY_POLICIES);
    assert_int_equal(st.misses, 0);
    assert_int_equal(st.entries, MANY_POLICIES);
    /* Another replica compiles each once, on first use. */
    assert_int_equal(vouch_policies_new(&other, NULL), VOUCH_OK);
    vouch_policies_stats(other, &st, &base);
    appraise_all(other, f->store, in);
    vouch_policies_stats(other, &st, &compiles);
    assert_int_equal(compiles - base, MANY_POLICIES);
    assert_int_equal(st.misses, MANY_POLICIES);
    assert_int_equal(st.hits, MANY_POLICIES);
    /* A policy changed by the other replica is compiled again here, once. */
    snprintf(text, sizeof(text), "package policy\nallow := true\n");
    assert_int_equal(vouch_policy_put(other, f->store, "p007", text, strlen(text), 2, h, NULL),
                     VOUCH_OK);
    vouch_policies_stats(f->pol, &st, &base);
    appraise_all(f->pol, f->store, in);
    vouch_policies_stats(f->pol, &st, &compiles);
    assert_int_equal(compiles - base, 1);
    vouch_policies_free(other);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_policy_sgx_debug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_policy_azure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_policy_snp_debug, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_policy_tpm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_get_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_values_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_policies_compile_once, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
