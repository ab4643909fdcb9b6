/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Rego engine at the edges: every builtin that takes a number or an
 * index, called with int64's extremes, ±2^53, ±2^63 as floats and huge
 * strings (table-driven, strict mode, exact JSON or an error), the steps
 * builtins are charged for their work, and the wall-clock budget driven by
 * a test clock (no sleeping).  The same calls seed fuzz/rego's corpora.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rego/rego.h"

#define MIN "-9223372036854775808"
#define MAX "9223372036854775807"

/* `x := EXPR` in a module; evaluate data.t.x strictly under `lim`. */
static vouch_err eval_expr(const char *expr, const struct vouch_rego_eval_args *args, char **ret,
                           struct vouch_errbuf *eb)
{
    char text[4096];
    struct vouch_rego_module m = { "edge.rego", text, 0 };
    struct vouch_rego_policy *p = NULL;
    struct vouch_rego_eval_args a = { 0 };
    vouch_err e;

    m.len = (size_t)snprintf(text, sizeof(text), "package t\nimport rego.v1\nx := %s\n", expr);
    if (vouch_rego_compile(&m, 1, NULL, &p, eb))
        fail_msg("compile %s: %s", expr, eb->msg);
    if (args)
        a = *args;
    a.flags |= VOUCH_REGO_STRICT;
    a.now_ns = 1700000000000000000LL;
    e = vouch_rego_eval_rule_text(p, "data.t.x", &a, ret, NULL, eb);
    vouch_rego_policy_free(p);
    return e;
}

/* want: "=JSON" (the exact result) or "!text" (an error containing text). */
struct edge {
    const char *expr, *want;
};

static const struct edge edges[] = {
    /* numbers.range: the span of the whole int64 range overflowed */
    { "numbers.range(" MIN ", " MAX ")", "!step limit exceeded" },
    { "numbers.range(" MAX ", " MIN ")", "!step limit exceeded" },
    { "numbers.range(9223372036854775806, " MAX ")", "=[9223372036854775806,9223372036854775807]" },
    { "numbers.range(" MIN ", -9223372036854775807)", "=[-9223372036854775808,-9223372036854775807]" },
    { "numbers.range_step(" MIN ", " MAX ", " MAX ")",
      "=[-9223372036854775808,-1,9223372036854775806]" },
    { "numbers.range_step(" MAX ", " MIN ", 1)", "!step limit exceeded" },
    { "numbers.range_step(0, 10, 18446744073709551616)", "=[0]" },
    { "numbers.range(-9223372036854775809, 0)", "!out of range" },
    { "numbers.range(9223372036854775808, 0)", "!out of range" },
    { "numbers.range(9.3e18, 0)", "!out of range" },
    /* substring: start + length overflowed */
    { "substring(\"hello\", 1, " MAX ")", "=\"ello\"" },
    { "substring(\"hello\", " MAX ", " MAX ")", "=\"\"" },
    { "substring(\"hello\", 2, " MIN ")", "=\"llo\"" },
    { "substring(\"h\\u00e9llo\", 1, 9223372036854775806)", "=\"\xc3\xa9llo\"" },
    { "substring(\"hello\", 9223372036854775808, 1)", "!out of range" },
    { "substring(\"hello\", " MIN ", 1)", "!negative offset" },
    /* durations: Go's exact arithmetic up to 2^63 ns */
    { "time.parse_duration_ns(\"9223372036854775807ns\")", "=9223372036854775807" },
    { "time.parse_duration_ns(\"9223372036854775808ns\")", "!invalid duration" },
    { "time.parse_duration_ns(\"-9223372036854775808ns\")", "=-9223372036854775808" },
    { "time.parse_duration_ns(\"2562047h47m16.854775807s\")", "=9223372036854775807" },
    { "time.parse_duration_ns(\"2562047h47m16.854775808s\")", "!invalid duration" },
    { "time.parse_duration_ns(\"-2562047h47m16.854775808s\")", "=-9223372036854775808" },
    { "time.parse_duration_ns(\"2562048h\")", "!invalid duration" },
    { "time.parse_duration_ns(\"99999999999999999999999h\")", "!invalid duration" },
    { "time.parse_duration_ns(\"1.5h\")", "=5400000000000" },
    { "time.parse_duration_ns(\"1m1ms\")", "=60001000000" },
    /* a version-1 UUID's time: only 1677..2262 fit in int64 ns */
    { "uuid.parse(\"ffffffff-ffff-1fff-bfff-ffffffffffff\")", "!time outside" },
    { "uuid.parse(\"00000000-0000-1000-8000-000000000000\")", "!time outside" },
    { "uuid.parse(\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\").time", "=886630433151182400" },
    /* format_int: charged for its quadratic conversion */
    { "format_int(1e99999, 2)", "!step limit exceeded" },
    { "count(format_int(1e99999, 10))", "=100000" },
    { "format_int(" MIN ", 16)", "=\"-8000000000000000\"" },
    { "format_int(" MAX ", 8)", "=\"777777777777777777777\"" },
    { "format_int(18446744073709551616, 2)", "=\"1" "0000000000000000000000000000000000000000000000000000000000000000\"" },
    { "format_int(-1.5e-300, 2)", "=\"0\"" },
    /* arithmetic leaves int64 exactly */
    { MAX " + 1", "=9223372036854775808" },
    { MIN " - 1", "=-9223372036854775809" },
    { MIN " * -1", "=9223372036854775808" },
    { MIN " / -1", "=9223372036854775808" },
    { MIN " % -1", "=0" },
    { "9007199254740993 + 1", "=9007199254740994" },
    { "-9007199254740993 - 1", "=-9007199254740994" },
    { "abs(" MIN ")", "=9223372036854775808" },
    { "round(9.223372036854775807e18)", "=9223372036854775807" },
    { "ceil(-9.223372036854775808e18)", "=-9223372036854775808" },
    { "sum([" MAX ", " MAX "])", "=18446744073709551614" },
    { "product([" MIN ", -1])", "=9223372036854775808" },
    /* bits */
    { "bits.lsh(1, " MAX ")", "!shift count too large" },
    { "bits.lsh(" MIN ", 63)", "=-85070591730234615865843651857942052864" },
    { "bits.rsh(" MIN ", " MAX ")", "=-1" },
    { "bits.rsh(1, " MIN ")", "!negative" },
    { "bits.negate(" MIN ")", "=9223372036854775807" },
    { "bits.and(" MIN ", " MAX ")", "=0" },
    /* indexes */
    { "array.slice([1, 2, 3], " MIN ", " MAX ")", "=[1,2,3]" },
    { "array.slice([1, 2, 3], " MAX ", " MIN ")", "=[]" },
    { "object.get({\"a\": [1]}, [\"a\", " MAX "], 0)", "=0" },
    { "regex.find_n(\"a\", \"aaaa\", " MAX ")", "=[\"a\",\"a\",\"a\",\"a\"]" },
    { "regex.find_n(\"a\", \"aaaa\", " MIN ")", "=[\"a\",\"a\",\"a\",\"a\"]" },
    { "indexof_n(\"aaaa\", \"aa\")", "=[0,1,2]" },
    { "indexof(\"h\\u00e9llo w\\u00f6rld\", \"w\\u00f6\")", "=6" },
    /* time at the ends of int64 ns */
    { "time.date(" MIN ")", "=[1677,9,21]" },
    { "time.date(" MAX ")", "=[2262,4,11]" },
    { "time.clock([" MAX ", \"UTC\"])", "=[23,47,16]" },
    { "time.format(" MIN ")", "=\"1677-09-21T00:12:43.145224192Z\"" },
    { "time.format(9.3e18)", "!too big" },
    { "time.add_date(" MAX ", " MAX ", 0, 0)", "!outside of valid range" },
    { "time.add_date(" MIN ", 0, " MIN ", 0)", "!outside of valid range" },
    { "time.diff(" MIN ", " MAX ")", "=[584,6,20,23,34,33]" },
    { "time.parse_rfc3339_ns(\"2262-04-11T23:47:16.854775808Z\")", "!outside of valid range" },
    { "time.parse_rfc3339_ns(\"2262-04-11T23:47:16.854775807Z\")", "=9223372036854775807" },
    /* units and formatting */
    { "units.parse(\"9223372036854775807Ei\")", "=10633823966279326982077534977635909632" },
    { "units.parse_bytes(\"1e999999EiB\")", "!" },
    { "units.parse_bytes(\"1..................................................\")",
      "!could not parse" },
    { "to_number(\"1.........................................................\")",
      "!invalid syntax" },
    { "to_number(\".5\") + to_number(\"5.\")", "=5.5" },
    { "sprintf(\"%d %x %c\", [" MIN ", " MIN ", " MAX "])",
      "=\"-9223372036854775808 -8000000000000000 \xef\xbf\xbd\"" },
    { "count(sprintf(\"%10000d\", [1]))", "=10000" },
    { "net.cidr_expand(\"0.0.0.0/0\")", "!step limit exceeded" },
    { "net.cidr_expand(\"::/0\")", "!step limit exceeded" },
};

static void test_edges(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        const struct edge *t = &edges[i];
        struct vouch_errbuf eb = { { 0 } };
        char *out = NULL;
        vouch_err e = eval_expr(t->expr, NULL, &out, &eb);

        if (t->want[0] == '=') {
            if (e)
                fail_msg("%s: error %s", t->expr, eb.msg);
            if (!out || strcmp(out, t->want + 1))
                fail_msg("%s:\n got  %s\n want %s", t->expr, out ? out : "undefined",
                         t->want + 1);
        } else {
            if (e == VOUCH_OK)
                fail_msg("%s: no error, got %s", t->expr, out ? out : "undefined");
            if (!strstr(eb.msg, t->want + 1))
                fail_msg("%s: error '%s' lacks '%s'", t->expr, eb.msg, t->want + 1);
        }
        free(out);
    }
}

/* 100,000 and 50,000 times "a", built in a few thousand steps. */
#define A100K "replace(sprintf(\"%10000s\", [\"\"]), \" \", \"aaaaaaaaaa\")"
#define A50K "replace(sprintf(\"%10000s\", [\"\"]), \" \", \"aaaaa\")"

/*
 * Work that grows with the input is charged: with a step budget a linear
 * scan fits in, the same builtins on input that would take quadratic work
 * (or quadratic digits) run out of steps instead of time.
 */
struct charge {
    const char *expr;
    uint64_t steps;
    const char *want;   /* "=JSON" or "!error" */
};

static const struct charge charges[] = {
    /* 100 KB haystack, 50 KB needle: linear, within 400,000 steps */
    { "indexof(" A100K ", concat(\"\", [" A50K ", \"b\"]))", 400000, "=-1" },
    { "indexof_n(" A100K ", \"b\")", 400000, "=[]" },
    { "contains(" A100K ", concat(\"\", [" A50K ", \"b\"]))", 400000, "=false" },
    { "strings.count(" A100K ", \"aa\")", 400000, "=50000" },
    /* the same search with an invalid UTF-8 byte compares code points one by one */
    { "indexof(concat(\"\", [" A100K ", base64.decode(\"/w==\")]), concat(\"\", [" A50K
      ", \"b\"]))", 400000, "!step limit exceeded" },
    /* a 10,000-digit number in binary: ~33,000 passes of 10,000 digits */
    { "format_int(1e9999, 2)", 400000, "!step limit exceeded" },
    /* building 100,000 elements is 100,000 steps at least */
    { "count(numbers.range(1, 100000))", 50000, "!step limit exceeded" },
    /* a complete graph's paths: exponential, charged per path and per length */
    { "count(graph.reachable_paths({x: [y | some y in numbers.range(0, 11)] | "
      "some x in numbers.range(0, 11)}, {0}))", 400000, "!step limit exceeded" },
};

static void test_charges(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(charges) / sizeof(charges[0]); i++) {
        const struct charge *t = &charges[i];
        struct vouch_rego_eval_args a = { 0 };
        struct vouch_errbuf eb = { { 0 } };
        char *out = NULL;
        vouch_err e;

        a.limits.max_steps = t->steps;
        e = eval_expr(t->expr, &a, &out, &eb);
        if (t->want[0] == '=') {
            if (e)
                fail_msg("%s: error %s", t->expr, eb.msg);
            if (!out || strcmp(out, t->want + 1))
                fail_msg("%s: got %s, want %s", t->expr, out ? out : "undefined", t->want + 1);
        } else {
            assert_int_equal(e, VOUCH_E_LIMIT);
            if (!strstr(eb.msg, t->want + 1))
                fail_msg("%s: error '%s' lacks '%s'", t->expr, eb.msg, t->want + 1);
        }
        free(out);
    }
}

/* A clock that moves `tick` ns each time it is read. */
struct test_clock {
    int64_t now, tick;
    unsigned reads;
};

static int64_t test_clock_read(void *ctx)
{
    struct test_clock *c = ctx;

    c->reads++;
    c->now += c->tick;
    return c->now;
}

/*
 * The wall-clock budget: the clock is read at the start and every
 * VOUCH_REGO_CLOCK_EVERY steps (builtin charges included); past the
 * deadline the evaluation fails with VOUCH_E_LIMIT naming the time.
 */
static void test_time_budget(void **state)
{
    static const char *const exprs[] = {
        /* evaluator steps */
        "count([1 | some i in numbers.range(1, 200000)])",
        /* builtin charges: each call crosses clock points */
        "count([x | some i in numbers.range(1, 2000); x := format_int(1e300, 2)])",
        /* the graph walk that ran for seconds before its memory limit */
        ("count(graph.reachable_paths({x: [y | some y in numbers.range(0, 11)] | "
         "some x in numbers.range(0, 11)}, {0}))"),
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        struct test_clock clk = { 1000, 1000000, 0 };   /* 1 ms a read */
        struct vouch_rego_eval_args a = { 0 };
        struct vouch_errbuf eb = { { 0 } };
        char *out = NULL;

        a.limits.max_steps = 100000000;
        a.limits.max_time_ns = 20 * 1000000ull;
        a.clock = test_clock_read;
        a.clock_ctx = &clk;
        assert_int_equal(eval_expr(exprs[i], &a, &out, &eb), VOUCH_E_LIMIT);
        if (!strstr(eb.msg, "time limit exceeded (20 ms)"))
            fail_msg("%s: %s", exprs[i], eb.msg);
        /* the start, then one read per clock point until 20 ms had passed */
        if (clk.reads < 21 || clk.reads > 22)
            fail_msg("%s: %u clock reads", exprs[i], clk.reads);
        free(out);
    }
    /* a clock that stands still never stops anything; no budget reads no clock */
    {
        struct test_clock still = { 5, 0, 0 }, never = { 5, 1000000000, 0 };
        struct vouch_rego_eval_args a = { 0 };
        struct vouch_errbuf eb = { { 0 } };
        char *out = NULL;

        a.limits.max_time_ns = 1;
        a.clock = test_clock_read;
        a.clock_ctx = &still;
        assert_int_equal(eval_expr("count([1 | some i in numbers.range(1, 5000)])", &a, &out,
                                   &eb), VOUCH_OK);
        assert_string_equal(out, "5000");
        assert_true(still.reads > 10);
        free(out);
        out = NULL;
        a.limits.max_time_ns = 0;
        a.clock_ctx = &never;
        assert_int_equal(eval_expr("count([1 | some i in numbers.range(1, 5000)])", &a, &out,
                                   &eb), VOUCH_OK);
        assert_int_equal(never.reads, 0);
        free(out);
    }
    /* a clock near the end of int64: the deadline saturates instead of overflowing */
    {
        struct test_clock top = { INT64_MAX - 10, 0, 0 };
        struct vouch_rego_eval_args a = { 0 };
        struct vouch_errbuf eb = { { 0 } };
        char *out = NULL;

        a.limits.max_time_ns = UINT64_MAX;
        a.clock = test_clock_read;
        a.clock_ctx = &top;
        assert_int_equal(eval_expr("count([1 | some i in numbers.range(1, 5000)])", &a, &out,
                                   &eb), VOUCH_OK);
        free(out);
    }
}

/* The real clock: a budget far below what the work needs stops it. */
static void test_time_budget_monotonic(void **state)
{
    struct vouch_rego_eval_args a = { 0 };
    struct vouch_errbuf eb = { { 0 } };
    char *out = NULL;

    (void)state;
    a.limits.max_steps = 1000000000;
    a.limits.max_memory = (size_t)1 << 30;
    a.limits.max_time_ns = 1000;   /* 1 us */
    assert_int_equal(eval_expr("count([1 | some i in numbers.range(1, 1000000)])", &a, &out,
                               &eb), VOUCH_E_LIMIT);
    assert_non_null(strstr(eb.msg, "time limit exceeded"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_charges),
        cmocka_unit_test(test_time_budget),
        cmocka_unit_test(test_time_budget_monotonic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
