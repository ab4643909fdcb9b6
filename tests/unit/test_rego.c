/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Rego engine through its public API: the language (table-driven
 * queries), compile errors with their locations, strict mode, host
 * functions, time, limits, documents, and concurrent evaluation.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rego/rego.h"
#include "rego/value.h"

/* Compile one module (v1 unless v0), or fail the test. */
static struct vouch_rego_policy *compile1(const char *text, bool v0)
{
    struct vouch_rego_module m = { "test.rego", text, strlen(text) };
    struct vouch_rego_compile_opts o = { v0 ? VOUCH_REGO_V0 : 0, NULL, 0 };
    struct vouch_rego_policy *p = NULL;
    struct vouch_errbuf eb = { { 0 } };

    if (vouch_rego_compile(&m, 1, &o, &p, &eb))
        fail_msg("compile: %s", eb.msg);
    return p;
}

/* Query with bindings output; compares as JSON values. */
static void expect_query(const struct vouch_rego_policy *p, const char *query, const char *input,
                         const char *want)
{
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_rego_doc *doc = NULL;
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;
    size_t len;
    struct rarena ar;
    jmp_buf jb;
    const struct rval *g, *w;

    if (input && vouch_rego_doc_parse(input, strlen(input), &doc, &eb))
        fail_msg("input: %s", eb.msg);
    a.input_doc = doc;
    a.now_ns = 1700000000123456789LL;
    if (vouch_rego_query(p, query, &a, VOUCH_REGO_RESULT_BINDINGS, &out, &len, &eb))
        fail_msg("%s: %s", query, eb.msg);
    vouch_ra_init(&ar, 0);
    if (setjmp(jb))
        fail_msg("out of memory");
    ar.jb = &jb;
    assert_int_equal(vouch_rv_parse_json(&ar, out, len, 100, &g, NULL), VOUCH_OK);
    assert_int_equal(vouch_rv_parse_json(&ar, want, strlen(want), 100, &w, NULL), VOUCH_OK);
    if (!rv_eq(g, w))
        fail_msg("%s:\n got  %s\n want %s", query, out, want);
    vouch_ra_free(&ar);
    free(out);
    vouch_rego_doc_free(doc);
}

/* The query fails with an error containing `want`. */
static vouch_err expect_error(const struct vouch_rego_policy *p, const char *query,
                              const struct vouch_rego_eval_args *args, const char *want)
{
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;
    vouch_err e;

    if (args)
        a = *args;
    e = vouch_rego_query(p, query, &a, VOUCH_REGO_RESULT_BINDINGS, &out, NULL, &eb);
    if (e == VOUCH_OK)
        fail_msg("%s: no error, got %s", query, out);
    if (!strstr(eb.msg, want))
        fail_msg("%s: error '%s' lacks '%s'", query, eb.msg, want);
    return e;
}

/* ---- the language, table-driven ---- */

struct lcase {
    const char *policy;   /* one module, package t */
    const char *query;
    const char *input;    /* JSON or NULL */
    const char *want;     /* bindings result */
};

static const struct lcase lang[] = {
    /* undefined is not false */
    { "p := false\nq := true if input.missing\n", "x := data.t.p", NULL, "[{\"x\":false}]" },
    { "p := false\nq := true if input.missing\n", "x := data.t.q", NULL, "[]" },
    { "p := false\n", "data.t.p", NULL, "[]" },
    { "p := false\n", "not data.t.p", NULL, "[{}]" },
    { "q := 1 if input.missing\n", "not data.t.q", NULL, "[{}]" },
    /* default, else */
    { "default p := 0\np := 1 if input.a == 1\np := 2 if input.a == 2\n", "x := data.t.p",
      "{\"a\": 2}", "[{\"x\":2}]" },
    { "default p := 0\np := 1 if input.a == 1\n", "x := data.t.p", "{\"a\": 3}", "[{\"x\":0}]" },
    { "p := 1 if input.a > 10 else := 2 if input.a > 5 else := 3\n", "x := data.t.p",
      "{\"a\": 7}", "[{\"x\":2}]" },
    /* functions: several definitions, patterns in arguments, else */
    { "f(0) := \"zero\"\nf(x) := \"pos\" if x > 0\nf(x) := \"neg\" if x < 0\n",
      "x := [data.t.f(-3), data.t.f(0), data.t.f(9)]", NULL, "[{\"x\":[\"neg\",\"zero\",\"pos\"]}]" },
    { "g([a, b]) := a + b\n", "x := data.t.g([2, 40])", NULL, "[{\"x\":42}]" },
    /* partial sets and objects, ref heads */
    { "s contains x if some x in input.xs\no[k] := v if some k, v in input.o\n",
      "s := data.t.s; o := data.t.o", "{\"xs\": [3, 1, 3], \"o\": {\"b\": 2, \"a\": 1}}",
      "[{\"s\":[1,3],\"o\":{\"a\":1,\"b\":2}}]" },
    { "a.b.c := 1\na.b.d contains 2\na[k].e := k if k := \"z\"\n", "x := data.t.a", NULL,
      "[{\"x\":{\"b\":{\"c\":1,\"d\":[2]},\"z\":{\"e\":\"z\"}}}]" },
    /* iteration, some/in, every */
    { "p contains i if input.xs[i] > 1\n", "x := data.t.p", "{\"xs\": [0, 5, 1, 7]}",
      "[{\"x\":[1,3]}]" },
    { "p if every x in input.xs { x > 0 }\n", "x := data.t.p", "{\"xs\": [1, 2]}",
      "[{\"x\":true}]" },
    { "p if every x in input.xs { x > 0 }\n", "x := data.t.p", "{\"xs\": [1, -2]}", "[]" },
    { "", "x := [k | some k, v in {\"a\": 1, \"b\": 2}; v > 1]", NULL, "[{\"x\":[\"b\"]}]" },
    { "", "x := 2 in {1, 2}; y := \"b\" in [\"a\"]; z := (1, \"a\" in [\"x\", \"a\"])", NULL,
      "[{\"x\":true,\"y\":false,\"z\":true}]" },
    /* unification and assignment */
    { "", "[a, {\"k\": b}] = [1, {\"k\": [2, 3]}]", NULL, "[{\"a\":1,\"b\":[2,3]}]" },
    { "", "x := {\"a\": [1, 2]}; x.a[i] == 2", NULL, "[{\"x\":{\"a\":[1,2]},\"i\":1}]" },
    /* comprehensions and set operations */
    { "", "x := {a | some a in [3, 1, 2, 1]} - {2}; y := {1, 2} & {2, 3}; z := {1} | {2}", NULL,
      "[{\"x\":[1,3],\"y\":[2],\"z\":[1,2]}]" },
    { "", "x := {k: count(k) | some k in [\"ab\", \"c\"]}", NULL, "[{\"x\":{\"ab\":2,\"c\":1}}]" },
    /* total order across types; arrays compare element-wise */
    { "", "x := [1, 2, 10] < [1, 3]; y := null < false; z := \"10\" > 9", NULL,
      "[{\"x\":true,\"y\":true,\"z\":true}]" },
    /* exact numbers */
    { "", "x := 18446744073709551615 + 1; y := 0.1 + 0.2; z := 1.0 == 1", NULL,
      "[{\"x\":18446744073709551616,\"y\":0.3,\"z\":true}]" },
    { "", "x := 9007199254740993 - 1", NULL, "[{\"x\":9007199254740992}]" },
    /* with */
    { "p := input.a * 2\n", "x := data.t.p with input as {\"a\": 21}", NULL, "[{\"x\":42}]" },
    { "p := count(input)\n", "x := data.t.p with count as 7", "[1]", "[{\"x\":7}]" },
    /* strings and templates */
    { "", "x := sprintf(\"%s-%d-%v\", [\"a\", 5, [1]]); y := $\"n={1 + 1}\"", NULL,
      "[{\"x\":\"a-5-[1]\",\"y\":\"n=2\"}]" },
    /* time comes from the evaluation's now */
    { "", "x := time.now_ns(); y := time.format(0)", NULL,
      "[{\"x\":1700000000123456789,\"y\":\"1970-01-01T00:00:00Z\"}]" },
    { "", "x := time.add_date(time.parse_rfc3339_ns(\"2024-01-31T00:00:00Z\"), 0, 1, 0)", NULL,
      "[{\"x\":1709337600000000000}]" },   /* Feb 31 is Mar 2, as in Go */
    /* builtin errors make the expression undefined (not strict) */
    { "p := 1 / 0\nq := 2\n", "x := data.t", NULL, "[{\"x\":{\"q\":2}}]" },
};

static void test_language(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(lang) / sizeof(lang[0]); i++) {
        char text[1024];
        struct vouch_rego_policy *p;

        snprintf(text, sizeof(text), "package t\n%s", lang[i].policy);
        p = compile1(text, false);
        expect_query(p, lang[i].query, lang[i].input, lang[i].want);
        vouch_rego_policy_free(p);
    }
}

/* ---- compile errors and their locations ---- */

struct ecase {
    const char *text;
    bool v0;
    const char *want;
};

static const struct ecase errs[] = {
    { "package t\np := [1, 2\n", false, "test.rego:3:1: rego_parse_error" },
    { "package t\np if {\n  x := 1\n  y := z\n}\n", false,
      "test.rego:4:8: rego_unsafe_var_error: var z is unsafe" },
    { "package t\np := q\nq := p\n", false, "rego_recursion_error" },
    { "package t\np := nosuch(1)\n", false, "test.rego:2:6: rego_type_error: undefined function nosuch" },
    { "package t\np := count(1, 2, 3)\n", false, "arity mismatch" },
    { "package t\np := 1\np contains 2\n", false, "conflicting rules" },
    { "t := 1\n", false, "test.rego:1:1: rego_parse_error: expected 'package'" },
    { "package t\np { true }\nq[x] { x := 1 }\nr contains 1\n", true, "unexpected" },
    { "package t\np := \"unterminated\n", false, "non-terminated string" },
};

static void test_compile_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        struct vouch_rego_module m = { "test.rego", errs[i].text, strlen(errs[i].text) };
        struct vouch_rego_compile_opts o = { errs[i].v0 ? VOUCH_REGO_V0 : 0, NULL, 0 };
        struct vouch_rego_policy *p = NULL;
        struct vouch_errbuf eb = { { 0 } };

        assert_int_equal(vouch_rego_compile(&m, 1, &o, &p, &eb), VOUCH_E_INVALID);
        assert_null(p);
        if (!strstr(eb.msg, errs[i].want))
            fail_msg("%zu: '%s' lacks '%s'", i, eb.msg, errs[i].want);
    }
}

/* v0 needs the future keywords; v1 has them. */
static void test_grammars(void **state)
{
    static const char v0[] = "package t\nimport future.keywords.in\np[x] { x := input.xs[_] }\n"
                             "q = y { y := count(p) }\nr { 2 in input.xs }\n";
    static const char v0_no_import[] = "package t\np { x := 1; x in [1] }\n";
    struct vouch_rego_policy *p = compile1(v0, true);
    struct vouch_rego_module m = { "x.rego", v0_no_import, sizeof(v0_no_import) - 1 };
    struct vouch_rego_compile_opts o = { VOUCH_REGO_V0, NULL, 0 };
    struct vouch_rego_policy *q = NULL;
    struct vouch_errbuf eb = { { 0 } };

    (void)state;
    expect_query(p, "a := data.t.p; b := data.t.q; c := data.t.r", "{\"xs\": [1, 2, 2]}",
                 "[{\"a\":[1,2],\"b\":2,\"c\":true}]");
    vouch_rego_policy_free(p);
    assert_int_equal(vouch_rego_compile(&m, 1, &o, &q, &eb), VOUCH_E_INVALID);
    /* with `import rego.v1` a v0-mode module is v1 */
    p = compile1("package t\nimport rego.v1\np contains x if some x in [1]\n", true);
    expect_query(p, "x := data.t.p", NULL, "[{\"x\":[1]}]");
    vouch_rego_policy_free(p);
}

/* ---- evaluation errors ---- */

static void test_conflicts_and_strict(void **state)
{
    struct vouch_rego_policy *p = compile1("package t\np := input.xs[_]\n"
                                           "o[k] := v if { some v in input.xs; k := \"a\" }\n"
                                           "d := 1 / input.z\n",
                                           false);
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_rego_doc *doc;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_rego_doc_parse("{\"xs\": [1, 2], \"z\": 0}", 22, &doc, &eb), VOUCH_OK);
    a.input_doc = doc;
    expect_error(p, "x := data.t.p", &a,
                 "eval_conflict_error: complete rules must not produce multiple outputs");
    expect_error(p, "x := data.t.o", &a, "eval_conflict_error: object keys must be unique");
    /* not strict: division by zero leaves d undefined */
    expect_query(p, "x := [1 | data.t.d]", "{\"z\": 0}", "[{\"x\":[]}]");
    a.flags = VOUCH_REGO_STRICT;
    expect_error(p, "x := data.t.d", &a, "eval_builtin_error: div: divide by zero");
    expect_error(p, "x := count(1)", &a,
                 "eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number");
    vouch_rego_doc_free(doc);
    vouch_rego_policy_free(p);
}

/* ---- host functions ---- */

static int host_calls;

static vouch_err lookup(void *ctx, json_t *const *args, size_t nargs, json_t **ret,
                        struct vouch_errbuf *eb)
{
    const char *id;

    (void)ctx;
    host_calls++;
    assert_int_equal(nargs, 1);
    if (!json_is_string(args[0]))
        return vouch_fail(eb, VOUCH_E_INVALID, "id must be a string");
    id = json_string_value(args[0]);
    if (strcmp(id, "mr_td") == 0)
        *ret = json_pack("[s,s]", "aa", "bb");
    else if (strcmp(id, "none") == 0)
        *ret = NULL;   /* undefined */
    else
        *ret = json_null();
    return VOUCH_OK;
}

static void test_host_functions(void **state)
{
    static const struct vouch_rego_host host = { "query_reference_value", 1, lookup };
    struct vouch_rego_compile_opts o = { 0, &host, 1 };
    static const char text[] =
        "package t\n"
        "ok if input.m in query_reference_value(\"mr_td\")\n"
        "n := count(query_reference_value(\"mr_td\")) + count(query_reference_value(\"mr_td\"))\n"
        "miss if \"aa\" in query_reference_value(\"other\")\n"
        "undef := query_reference_value(\"none\")\n"
        "bad := query_reference_value(1)\n";
    struct vouch_rego_module m = { "h.rego", text, sizeof(text) - 1 };
    struct vouch_rego_policy *p = NULL;
    struct vouch_errbuf eb = { { 0 } };
    struct vouch_rego_eval_args a = { 0 };

    (void)state;
    assert_int_equal(vouch_rego_compile(&m, 1, &o, &p, &eb), VOUCH_OK);
    host_calls = 0;
    expect_query(p, "a := data.t.ok; b := data.t.n", "{\"m\": \"bb\"}", "[{\"a\":true,\"b\":4}]");
    /* one evaluation asks the host once per distinct argument */
    assert_int_equal(host_calls, 1);
    expect_query(p, "x := [1 | data.t.miss]; y := [1 | data.t.undef]", NULL, "[{\"x\":[],\"y\":[]}]");
    expect_query(p, "x := [1 | data.t.bad]", NULL, "[{\"x\":[]}]");
    a.flags = VOUCH_REGO_STRICT;
    expect_error(p, "x := data.t.bad", &a, "query_reference_value: id must be a string");
    vouch_rego_policy_free(p);
    /* without the host function the policy does not compile */
    assert_int_equal(vouch_rego_compile(&m, 1, NULL, &p, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "undefined function query_reference_value"));
}

/* ---- limits ---- */

static void test_limit_steps(void **state)
{
    struct vouch_rego_policy *p = compile1(
        "package t\nn := count([1 | some a in numbers.range(1, 2000); some b in numbers.range(1, 2000)])\n",
        false);
    struct vouch_rego_eval_args a = { 0 };

    (void)state;
    a.limits.max_steps = 100000;
    assert_int_equal(expect_error(p, "x := data.t.n", &a, "step limit exceeded"), VOUCH_E_LIMIT);
    vouch_rego_policy_free(p);
}

static void test_limit_memory(void **state)
{
    struct vouch_rego_policy *p = compile1(
        "package t\ns := concat(\",\", [sprintf(\"%d-padding-padding\", [i]) | some i in numbers.range(1, 50000)])\n",
        false);
    struct vouch_rego_eval_args a = { 0 };

    (void)state;
    a.limits.max_memory = 1 << 20;
    assert_int_equal(expect_error(p, "x := data.t.s", &a, "memory limit exceeded"), VOUCH_E_LIMIT);
    vouch_rego_policy_free(p);
}

static void test_limit_output(void **state)
{
    struct vouch_rego_policy *p = compile1("package t\nr := numbers.range(1, 10000)\n", false);
    struct vouch_rego_eval_args a = { 0 };

    (void)state;
    a.limits.max_output = 1000;
    assert_int_equal(expect_error(p, "x := data.t.r", &a, "result larger than 1000 bytes"),
                     VOUCH_E_LIMIT);
    vouch_rego_policy_free(p);
}

/* A chain of 300 functions, each calling the next: deeper than allowed. */
static void test_limit_depth(void **state)
{
    char *text = malloc(64 * 1024);
    size_t off = 0;
    struct vouch_rego_policy *p;
    struct vouch_rego_eval_args a = { 0 };
    int i;

    (void)state;
    assert_non_null(text);
    off += (size_t)snprintf(text + off, 64 * 1024 - off, "package t\nf299(x) := x\n");
    for (i = 298; i >= 0; i--)
        off += (size_t)snprintf(text + off, 64 * 1024 - off, "f%d(x) := f%d(x + 1)\n", i, i + 1);
    p = compile1(text, false);
    expect_query(p, "x := data.t.f250(0)", NULL, "[{\"x\":49}]");
    a.limits.max_depth = 60;
    assert_int_equal(expect_error(p, "x := data.t.f0(0)", &a, "nested too deeply (60)"),
                     VOUCH_E_LIMIT);
    /* the C stack is bounded too, whatever the depth limit */
    a.limits.max_depth = 100000;
    a.limits.max_stack = 32 * 1024;
    assert_int_equal(expect_error(p, "x := data.t.f0(0)", &a, "stack limit"), VOUCH_E_LIMIT);
    vouch_rego_policy_free(p);
    free(text);
}

/* A long body nests continuations: bounded by the stack limit. */
static void test_limit_long_body(void **state)
{
    size_t cap = 200 * 1024, off = 0;
    char *text = malloc(cap);
    struct vouch_rego_policy *p;
    struct vouch_rego_eval_args a = { 0 };
    int i;

    (void)state;
    assert_non_null(text);
    off += (size_t)snprintf(text + off, cap - off, "package t\np := x4999 if {\n  x0 := 0\n");
    for (i = 1; i < 5000; i++)
        off += (size_t)snprintf(text + off, cap - off, "  x%d := x%d + 1\n", i, i - 1);
    snprintf(text + off, cap - off, "}\n");
    p = compile1(text, false);
    a.limits.max_stack = 64 * 1024;
    assert_int_equal(expect_error(p, "x := data.t.p", &a, "stack limit"), VOUCH_E_LIMIT);
    vouch_rego_policy_free(p);
    free(text);
}

static void test_parser_nesting(void **state)
{
    char text[4096];
    struct vouch_rego_module m = { "deep.rego", text, 0 };
    struct vouch_rego_policy *p = NULL;
    struct vouch_errbuf eb = { { 0 } };
    size_t off = (size_t)snprintf(text, sizeof(text), "package t\np := ");

    (void)state;
    memset(text + off, '[', 1500);
    memset(text + off + 1500, ']', 1500);
    m.len = off + 3000;
    assert_int_equal(vouch_rego_compile(&m, 1, NULL, &p, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "nesting too deep"));
}

/* Catastrophic backtracking is cut short, never a hang. */
static void test_regex_bounded(void **state)
{
    struct vouch_rego_policy *p = compile1(
        "package t\n"
        "m := regex.match(\"(a+)+$\", concat(\"\", array.concat([\"a\" | numbers.range(1, 5000)[_]], [\"b\"])))\n"
        "f := regex.find_n(\"(a+)+$\", concat(\"\", array.concat([\"a\" | numbers.range(1, 60)[_]], [\"b\"])), -1)\n",
        false);
    struct vouch_rego_eval_args a = { 0 };

    (void)state;
    expect_query(p, "x := [1 | data.t.m]", NULL, "[{\"x\":[]}]");
    a.flags = VOUCH_REGO_STRICT;
    expect_error(p, "x := data.t.f", &a, "match limit");
    vouch_rego_policy_free(p);
}

/* ---- documents and results ---- */

static void test_documents(void **state)
{
    struct vouch_rego_policy *p = compile1(
        "package t\nbig := data.n + 1\nhas := input.s[\"x\"]\nkeys := object.keys(input)\n", false);
    struct vouch_rego_doc *data = NULL, *in = NULL;
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;
    json_t *j = NULL, *jd = json_pack("{s:{s:s}}", "s", "x", "y");

    (void)state;
    assert_int_equal(vouch_rego_doc_parse("{\"n\": 18446744073709551615}", 27, &data, &eb), VOUCH_OK);
    assert_int_equal(vouch_rego_doc_parse_term("{\"s\": {\"x\", \"y\"}}", 17, &in, &eb), VOUCH_OK);
    a.data_doc = data;
    a.input_doc = in;
    /* exact text output keeps the number exact */
    assert_int_equal(vouch_rego_eval_rule_text(p, "data.t.big", &a, &out, NULL, &eb), VOUCH_OK);
    assert_string_equal(out, "18446744073709551616");
    free(out);
    assert_int_equal(vouch_rego_eval_rule_text(p, "data.t.has", &a, &out, NULL, &eb), VOUCH_OK);
    assert_string_equal(out, "\"x\"");
    free(out);
    /* undefined documents give NULL */
    assert_int_equal(vouch_rego_eval_rule(p, "data.t.nothing", &a, &j, &eb), VOUCH_OK);
    assert_null(j);
    assert_int_equal(vouch_rego_eval_rule(p, "data.t[\"keys\"]", &a, &j, &eb), VOUCH_OK);
    assert_non_null(j);
    assert_true(json_is_array(j));
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    /* a jansson document converted once */
    vouch_rego_doc_free(in);
    assert_int_equal(vouch_rego_doc_from_json(jd, &in, &eb), VOUCH_OK);
    json_decref(jd);
    a.input_doc = in;
    assert_int_equal(vouch_rego_eval_rule_text(p, "data.t.has", &a, &out, NULL, &eb), VOUCH_OK);
    assert_string_equal(out, "\"y\"");
    free(out);
    /* paths must be constant refs under data */
    assert_int_equal(vouch_rego_eval_rule_text(p, "input.s", &a, &out, NULL, &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_rego_eval_rule_text(p, "data.t[x]", &a, &out, NULL, &eb), VOUCH_E_INVALID);
    /* data must be an object */
    vouch_rego_doc_free(data);
    assert_int_equal(vouch_rego_doc_parse("[1]", 3, &data, &eb), VOUCH_OK);
    a.data_doc = data;
    assert_int_equal(vouch_rego_eval_rule_text(p, "data.t.big", &a, &out, NULL, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_rego_doc_parse("{\"a\":", 5, &in, &eb), VOUCH_E_INVALID);
    vouch_rego_doc_free(data);
    vouch_rego_doc_free(in);
    vouch_rego_policy_free(p);
}

/* ---- deferred input members ---- */

struct deferred_count {
    unsigned builds;
};

/* Adds "big": [1, 2, 3] to the object (once), counting the calls that built it. */
static bool build_big(void *ctx, const json_t *obj)
{
    struct deferred_count *c = ctx;

    if (json_object_get(obj, "big"))
        return true;
    c->builds++;
    return json_object_set_new((json_t *)obj, "big", json_pack("[i,i,i]", 1, 2, 3)) == 0;
}

static bool build_fails(void *ctx, const json_t *obj)
{
    (void)ctx;
    (void)obj;
    return false;
}

/*
 * A policy sees deferred members as if they were there; they are built
 * only when read by name or when their object is read whole.
 */
static void test_deferred_members(void **state)
{
    static const struct {
        const char *rule;       /* x := ... */
        const char *want;       /* exact JSON of x, NULL: undefined */
        unsigned builds;
    } cases[] = {
        { "input.tdx.a", "1", 0 },
        { "input.tdx.nope", NULL, 0 },          /* another missing member: not built */
        { "input.other.big", NULL, 0 },         /* not a deferred object */
        { "count(input.tdx.big)", "3", 1 },
        { "input.tdx.big[2]", "3", 1 },
        { "count(input.tdx)", "2", 1 },         /* read whole */
        { "sort([k | input.tdx[k]])", "[\"a\",\"big\"]", 1 },
        { "input.tdx == {\"a\": 1}", "false", 1 },
        { "object.keys(input.tdx)", "[\"a\",\"big\"]", 1 },
        { "[y | y := input.tdx.big[_]; y > 1]", "[2,3]", 1 },
    };
    static const char *const names[] = { "big", NULL };
    struct vouch_errbuf eb = { { 0 } };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        struct vouch_rego_policy *p;
        json_t *in = json_pack("{s:{s:i}, s:{s:i}}", "tdx", "a", 1, "other", "a", 1);
        const json_t *objs[1] = { json_object_get(in, "tdx") };
        struct deferred_count count = { 0 };
        struct vouch_rego_deferred df = { objs, 1, names, build_big, &count };
        struct vouch_rego_eval_args a = { 0 };
        char *out = NULL;

        snprintf(text, sizeof(text), "package t\nimport rego.v1\nx := %s\n", cases[i].rule);
        p = compile1(text, false);
        a.input = in;
        a.deferred = &df;
        assert_int_equal(vouch_rego_eval_rule_text(p, "data.t.x", &a, &out, NULL, &eb), VOUCH_OK);
        if (cases[i].want)
            assert_string_equal(out ? out : "(undefined)", cases[i].want);
        else
            assert_null(out);
        assert_int_equal(count.builds, cases[i].builds);
        free(out);
        vouch_rego_policy_free(p);
        json_decref(in);
    }
    {
        struct vouch_rego_policy *p = compile1("package t\nx := count(input.tdx.big)\n", false);
        json_t *in = json_pack("{s:{s:i}}", "tdx", "a", 1);
        const json_t *objs[1] = { json_object_get(in, "tdx") };
        struct vouch_rego_deferred df = { objs, 1, names, build_fails, NULL };
        struct vouch_rego_eval_args a = { 0 };
        char *out = NULL;

        a.input = in;
        a.deferred = &df;
        /* a build that fails fails the evaluation, it does not leave the member undefined */
        assert_int_not_equal(vouch_rego_eval_rule_text(p, "data.t.x", &a, &out, NULL, &eb),
                             VOUCH_OK);
        assert_null(out);
        vouch_rego_policy_free(p);
        json_decref(in);
    }
}

static void test_full_results(void **state)
{
    struct vouch_rego_policy *p = compile1("package t\np := 7\n", false);
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;

    (void)state;
    assert_int_equal(vouch_rego_query(p, "data.t.p; x := 2", &a, VOUCH_REGO_RESULT_FULL, &out,
                                      NULL, &eb),
                     VOUCH_OK);
    assert_string_equal(out, "[{\"expressions\":[{\"value\":7,\"text\":\"data.t.p\",\"location\":{\"row\":1,\"col\":1}},"
                             "{\"value\":true,\"text\":\"x := 2\",\"location\":{\"row\":1,\"col\":11}}],"
                             "\"bindings\":{\"x\":2}}]");
    free(out);
    assert_int_equal(vouch_rego_query(p, "data.t.p == 8", &a, VOUCH_REGO_RESULT_FULL, &out, NULL,
                                      &eb),
                     VOUCH_OK);
    assert_string_equal(out, "[]");
    free(out);
    assert_int_equal(vouch_rego_query(p, "x := ", &a, VOUCH_REGO_RESULT_FULL, &out, NULL, &eb),
                     VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "1:6: rego_parse_error"));
    vouch_rego_policy_free(p);
}

/* ---- one policy, many threads ---- */

struct thr {
    const struct vouch_rego_policy *p;
    int bad;
};

static void *worker(void *arg)
{
    struct thr *t = arg;
    int i;

    for (i = 0; i < 300; i++) {
        struct vouch_rego_eval_args a = { 0 };
        struct vouch_errbuf eb;
        char *out = NULL;
        json_t *in = json_pack("{s:i}", "n", i);

        a.input = in;
        if (vouch_rego_eval_rule_text(t->p, "data.t.r", &a, &out, NULL, &eb) || !out) {
            t->bad++;
        } else {
            char want[64];

            snprintf(want, sizeof(want), "{\"double\":%d,\"odd\":%s}", 2 * i, i % 2 ? "true" : "false");
            if (strcmp(out, want) != 0)
                t->bad++;
        }
        free(out);
        json_decref(in);
    }
    return NULL;
}

static void test_threads(void **state)
{
    struct vouch_rego_policy *p = compile1(
        "package t\ndefault odd := false\nodd if input.n % 2 == 1\n"
        "r := {\"double\": input.n * 2, \"odd\": odd}\n",
        false);
    pthread_t th[4];
    struct thr t[4];
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        t[i].p = p;
        t[i].bad = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &t[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].bad, 0);
    }
    vouch_rego_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_grammars),
        cmocka_unit_test(test_conflicts_and_strict),
        cmocka_unit_test(test_host_functions),
        cmocka_unit_test(test_limit_steps),
        cmocka_unit_test(test_limit_memory),
        cmocka_unit_test(test_limit_output),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_limit_long_body),
        cmocka_unit_test(test_parser_nesting),
        cmocka_unit_test(test_regex_bounded),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_deferred_members),
        cmocka_unit_test(test_full_results),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
