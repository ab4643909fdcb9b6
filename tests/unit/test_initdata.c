/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Confidential containers' init data (src/policy/initdata.c): TOML to
 * init_data_claims, the kata agent policy's evaluation in both grammars,
 * the limits it runs under (steps, memory, depth, time with a test clock),
 * and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/initdata.h"

#define NOW 1700000000

/* TOML with a [data] table holding `rego` as policy.rego (may be NULL). */
static char *toml_with(const char *rego)
{
    static const char head[] = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\n"
                               "\"cdh.toml\" = '''\n[kbc]\nname = \"cc_kbc\"\n'''\n";
    size_t n = strlen(head) + (rego ? strlen(rego) : 0) + 64;
    char *s = malloc(n);

    assert_non_null(s);
    snprintf(s, n, "%s%s%s%s", head, rego ? "\"policy.rego\" = '''\n" : "", rego ? rego : "",
             rego ? "'''\n" : "");
    return s;
}

static json_t *parse_ok(const char *toml)
{
    struct vouch_errbuf eb = { { 0 } };
    enum vouch_hash alg;
    json_t *claims = NULL;

    if (vouch_initdata_parse(toml, strlen(toml), &alg, &claims, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(alg, VOUCH_HASH_SHA384);
    return claims;
}

/* Parsing turns the embedded TOML files into objects and runs no Rego. */
static void test_parse_claims(void **state)
{
    char *toml = toml_with("package agent_policy\npolicy_data := {\"a\": 1}\n");
    json_t *c = parse_ok(toml);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(c, "cdh.toml"), "kbc"), "name")),
                        "cc_kbc");
    assert_true(json_is_string(json_object_get(c, "policy.rego")));
    assert_null(json_object_get(c, "agent_policy_claims"));
    json_decref(c);
    free(toml);
}

struct policy_case {
    const char *rego;
    const char *want;      /* agent_policy_claims as JSON, or NULL: policy.rego stays text */
};

static const struct policy_case policies[] = {
    /* v0, as kata ships it */
    { "package agent_policy\nimport future.keywords.in\ndefault CreateContainerRequest := false\n"
      "policy_data := {\"containers\": [{\"OCI\": {\"Version\": \"1.1.0\"}}]}\n",
      "{\"containers\": [{\"OCI\": {\"Version\": \"1.1.0\"}}]}" },
    { "package agent_policy\npolicy_data = {\"n\": n} { n := count([1, 2, 3]) }\n",
      "{\"n\": 3}" },
    /* v1 */
    { "package agent_policy\nimport rego.v1\npolicy_data := {\"ok\": true} if { 1 < 2 }\n",
      "{\"ok\": true}" },
    /* time.now_ns() is the request's time */
    { "package agent_policy\nimport rego.v1\npolicy_data := {\"t\": time.now_ns()}\n",
      "{\"t\": 1700000000000000000}" },
    /* no policy_data, not Rego, a conflict: left as text */
    { "package agent_policy\ndefault CreateContainerRequest := false\n", NULL },
    { "this is not rego\n", NULL },
    { "package agent_policy\nimport rego.v1\npolicy_data := 1\npolicy_data := 2\n", NULL },
};

static void test_agent_policy(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        struct vouch_initdata_eval opts = { NOW, 0, NULL, NULL };
        struct vouch_errbuf eb = { { 0 } };
        char *toml = toml_with(policies[i].rego);
        json_t *c = parse_ok(toml), *got;

        if (vouch_initdata_agent_policy(c, &opts, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        got = json_object_get(c, "agent_policy_claims");
        if (policies[i].want) {
            json_t *want = json_loads(policies[i].want, 0, NULL);

            assert_non_null(got);
            if (!json_equal(got, want))
                fail_msg("case %zu: got %s", i, json_dumps(got, JSON_COMPACT));
            assert_null(json_object_get(c, "policy.rego"));
            json_decref(want);
        } else {
            assert_null(got);
            assert_string_equal(json_string_value(json_object_get(c, "policy.rego")),
                                policies[i].rego);
        }
        json_decref(c);
        free(toml);
    }
}

/* A test clock: moves `tick` ns each time it is read. */
struct test_clock {
    int64_t now, tick;
};

static int64_t test_clock_read(void *ctx)
{
    struct test_clock *c = ctx;

    return c->now += c->tick;
}

struct limit_case {
    const char *rego;
    const char *want;      /* in the VOUCH_E_LIMIT message */
    int64_t tick;          /* of the test clock: 0 stands still */
};

static const struct limit_case limits[] = {
    /* the crash: the span of all int64 */
    { "package agent_policy\nimport rego.v1\n"
      "policy_data := {\"r\": numbers.range(-9223372036854775808, 9223372036854775807)}\n",
      "step limit exceeded (100000)", 0 },
    /* fine for an admin policy (1,000,000 steps), too much for init data */
    { "package agent_policy\nimport rego.v1\n"
      "policy_data := {\"n\": count([1 | some i in numbers.range(1, 150000)])}\n",
      "step limit exceeded (100000)", 0 },
    { "package agent_policy\nimport rego.v1\n"
      "policy_data := {\"f\": format_int(1e9999, 2)}\n", "step limit exceeded", 0 },
    /* 10 MB in one builtin call */
    { "package agent_policy\nimport rego.v1\n"
      "policy_data := {\"n\": count(replace(sprintf(\"%10000s\", [\"\"]), \" \", "
      "concat(\"\", [\"a\" | some i in numbers.range(1, 1000)])))}\n",
      "memory limit exceeded (8388608 bytes)", 0 },
    /* the time budget, read from the test clock */
    { "package agent_policy\nimport rego.v1\n"
      "policy_data := {\"n\": count([1 | some i in numbers.range(1, 40000)])}\n",
      "time limit exceeded (10 ms)", 1000000 },
};

static void test_limits(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        struct test_clock clk = { 0, limits[i].tick };
        struct vouch_initdata_eval opts = { NOW, 0, test_clock_read, &clk };
        struct vouch_errbuf eb = { { 0 } };
        char *toml = toml_with(limits[i].rego);
        json_t *c = parse_ok(toml);

        assert_int_equal(vouch_initdata_agent_policy(c, &opts, &eb), VOUCH_E_LIMIT);
        if (!strstr(eb.msg, limits[i].want) || strncmp(eb.msg, "data.\"policy.rego\": ", 20))
            fail_msg("case %zu: '%s' lacks '%s'", i, eb.msg, limits[i].want);
        json_decref(c);
        free(toml);
    }
}

/* 70 rules each asking the next one: deeper than the init-data limit (64). */
static void test_depth_limit(void **state)
{
    char rego[4096];
    size_t n = 0;
    int i;
    struct test_clock clk = { 0, 0 };
    struct vouch_initdata_eval opts = { NOW, 0, test_clock_read, &clk };
    struct vouch_errbuf eb = { { 0 } };
    char *toml;
    json_t *c;

    (void)state;
    n += (size_t)snprintf(rego + n, sizeof(rego) - n,
                          "package agent_policy\nimport rego.v1\npolicy_data := {\"d\": r0}\n");
    for (i = 0; i < 70; i++)
        n += (size_t)snprintf(rego + n, sizeof(rego) - n, "r%d := r%d + 1\n", i, i + 1);
    snprintf(rego + n, sizeof(rego) - n, "r70 := 0\n");
    toml = toml_with(rego);
    c = parse_ok(toml);
    assert_int_equal(vouch_initdata_agent_policy(c, &opts, &eb), VOUCH_E_LIMIT);
    if (!strstr(eb.msg, "nested too deeply (64)"))
        fail_msg("%s", eb.msg);
    json_decref(c);
    free(toml);
}

static void test_bad_input(void **state)
{
    static const struct {
        const char *toml, *want;
    } bad[] = {
        { "algorithm = \"sha384\"\n[data\n", "TOML line 2" },
        { "algorithm = \"md5\"\n", "algorithm must be" },
        { "version = \"0.1.0\"\n", "algorithm must be" },
        { "algorithm = \"sha256\"\ndata = 3\n", "data must be a table" },
        { "algorithm = \"sha256\"\n[data]\n\"aa.toml\" = 'x = '\n", "data.\"aa.toml\": TOML line 1" },
        { "algorithm = \"sha256\"\n[data]\n\"cdh.toml\" = '[a'\n", "data.\"cdh.toml\"" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vouch_errbuf eb = { { 0 } };
        enum vouch_hash alg;
        json_t *claims = NULL;

        assert_int_equal(vouch_initdata_parse(bad[i].toml, strlen(bad[i].toml), &alg, &claims,
                                              &eb), VOUCH_E_INVALID);
        assert_null(claims);
        if (!strstr(eb.msg, bad[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, eb.msg, bad[i].want);
    }
    /* a policy.rego that is not a string is data like any other */
    {
        static const char t[] = "algorithm = \"sha512\"\n[data]\n\"policy.rego\" = 7\n";
        struct vouch_initdata_eval opts = { NOW, 0, NULL, NULL };
        struct vouch_errbuf eb = { { 0 } };
        enum vouch_hash alg;
        json_t *claims = NULL;

        assert_int_equal(vouch_initdata_parse(t, strlen(t), &alg, &claims, &eb), VOUCH_OK);
        assert_int_equal(alg, VOUCH_HASH_SHA512);
        assert_int_equal(vouch_initdata_agent_policy(claims, &opts, &eb), VOUCH_OK);
        assert_int_equal(json_integer_value(json_object_get(claims, "policy.rego")), 7);
        json_decref(claims);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_claims),
        cmocka_unit_test(test_agent_policy),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
