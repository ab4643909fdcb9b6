/* SPDX-License-Identifier: Apache-2.0 */
/* The Rego value model: exact numbers, order, JSON in and out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rego/num.h"
#include "rego/value.h"

static struct rarena A;
static jmp_buf JB;

static int setup(void **state)
{
    (void)state;
    vouch_ra_init(&A, 0);
    A.jb = &JB;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vouch_ra_free(&A);
    return 0;
}

static const struct rval *num(const char *s)
{
    const struct rval *v = vouch_rv_num_text(&A, s, strlen(s));

    if (!v)
        fail_msg("bad number %s", s);
    return v;
}

static char *json_of(const struct rval *v)
{
    struct vouch_buf b = VOUCH_BUF_INIT(1 << 20);

    assert_int_equal(vouch_rv_write_json(&b, v), VOUCH_OK);
    return (char *)vouch_buf_steal(&b, NULL);
}

static void expect_text(const struct rval *v, const char *want)
{
    char *s = json_of(v);

    if (strcmp(s, want) != 0)
        fail_msg("got %s want %s", s, want);
    free(s);
}

/* Literals print back exactly as written. */
static void test_number_roundtrip(void **state)
{
    static const char *const lits[] = {
        "0", "-0", "1", "-1", "18446744073709551615", "-9223372036854775808",
        "28857836529306024611913", "66.66667", "3.0", "1e3", "1E-7", "0.1",
        "123456789012345678901234567890.000000000000000000001", "2e308",
    };
    size_t i;

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++)
        expect_text(num(lits[i]), lits[i]);
}

struct arith_case {
    const char *x, *y;
    char op;
    const char *want;   /* NULL: the operation fails */
};

static const struct arith_case arith_cases[] = {
    { "9223372036854775807", "1", '+', "9223372036854775808" },
    { "18446744073709551615", "1", '+', "18446744073709551616" },
    { "-9223372036854775808", "1", '-', "-9223372036854775809" },
    { "0.1", "0.2", '+', "0.3" },
    { "1.1", "2.2", '+', "3.3" },
    { "1", "0.001", '-', "0.999" },
    { "4294967296", "4294967296", '*', "18446744073709551616" },
    { "1.5", "1.5", '*', "2.25" },
    { "1", "8", '/', "0.125" },
    { "10", "4", '/', "2.5" },
    { "1", "3", '/', "0.3333333333333333333333333333333333" },
    { "2", "3", '/', "0.6666666666666666666666666666666667" },
    { "1e100", "1e-100", '*', "1" },
    { "1", "0", '/', NULL },
    { "28857836529306024611913", "28857836529306024611912", '-', "1" },
    { "7", "-4", '%', "3" },
    { "-7", "4", '%', "-3" },
    { "100000000000000000000", "7", '%', "2" },
};

static void test_number_arith(void **state)
{
    size_t i;

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    for (i = 0; i < sizeof(arith_cases) / sizeof(arith_cases[0]); i++) {
        const struct arith_case *c = &arith_cases[i];
        struct rdec x, y, r, q;
        uint8_t bx[20], by[20];
        bool ok;

        vouch_rv_num_view(num(c->x), &x, bx);
        vouch_rv_num_view(num(c->y), &y, by);
        switch (c->op) {
        case '+':
            ok = vouch_rdec_add(&A, &x, &y, false, &r);
            break;
        case '-':
            ok = vouch_rdec_add(&A, &x, &y, true, &r);
            break;
        case '*':
            ok = vouch_rdec_mul(&A, &x, &y, &r);
            break;
        case '/':
            ok = vouch_rdec_div(&A, &x, &y, &r);
            break;
        default:
            ok = vouch_rdec_divmod_int(&A, &x, &y, &q, &r);
        }
        if (!c->want) {
            assert_false(ok);
            continue;
        }
        assert_true(ok);
        expect_text(vouch_rv_dec(&A, &r), c->want);
    }
}

static void test_number_compare(void **state)
{
    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    /* 1 == 1.0 == 1e0, and big integers compare exactly */
    assert_true(rv_eq(num("1"), num("1.0")));
    assert_true(rv_eq(num("1"), num("1e0")));
    assert_true(rv_eq(num("100"), num("1e2")));
    assert_false(rv_eq(num("28857836529306024611913"), num("28857836529306024611912")));
    assert_true(vouch_rv_cmp(num("18446744073709551615"), num("18446744073709551616")) < 0);
    assert_true(vouch_rv_cmp(num("-0.5"), num("0")) < 0);
    assert_true(vouch_rv_cmp(num("0.30000000000000004"), num("0.3")) > 0);
    assert_true(vouch_rv_cmp(num("1e400"), num("9e399")) > 0);
    /* exponents that would need unbounded digits are refused */
    assert_null(vouch_rv_num_text(&A, "1e1000000", 9));
}

/* Rego's total order: null < boolean < number < string < array < object < set. */
static void test_order(void **state)
{
    static const char *const ascending[] = {
        "null", "false", "true", "-1", "0", "2.5", "\"\"", "\"a\"", "\"b\"", "[]", "[1]",
        "[1,2]", "[2]", "{}", "{\"a\":1}", "{\"a\":2}", "{\"b\":0}",
    };
    const struct rval *v[sizeof(ascending) / sizeof(ascending[0])];
    size_t i, j, n = sizeof(ascending) / sizeof(ascending[0]);

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    for (i = 0; i < n; i++)
        assert_int_equal(
            vouch_rv_parse_json(&A, ascending[i], strlen(ascending[i]), 10, &v[i], NULL), VOUCH_OK);
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            int c = vouch_rv_cmp(v[i], v[j]);

            if ((i < j && c >= 0) || (i == j && c != 0) || (i > j && c <= 0))
                fail_msg("%s vs %s: %d", ascending[i], ascending[j], c);
        }
    /* sets sort above objects */
    {
        const struct rval **items = vouch_ra_xalloc(&A, sizeof(*items));

        items[0] = v[0];
        assert_true(vouch_rv_cmp(vouch_rv_set(&A, items, 1), v[n - 1]) > 0);
    }
}

struct json_case {
    const char *in;
    const char *out;   /* NULL: rejected */
};

static const struct json_case json_cases[] = {
    { "{\"b\":1,\"a\":[true,null,\"x\"]}", "{\"a\":[true,null,\"x\"],\"b\":1}" },
    { "{\"a\":1,\"a\":2}", "{\"a\":2}" },   /* the last duplicate wins */
    { "\"\\u00e9\\ud83d\\ude00\\n\"", "\"\xc3\xa9\xf0\x9f\x98\x80\\n\"" },
    { "[1.50, 1e2, -0.0, 12345678901234567890123]", "[1.50,1e2,-0.0,12345678901234567890123]" },
    { "  [ ]  ", "[]" },
    { "[1,]", NULL },
    { "{\"a\" 1}", NULL },
    { "01", NULL },
    { "\"\x01\"", NULL },
    { "\"\xff\"", NULL },
    { "[1] x", NULL },
    { "nul", NULL },
};

static void test_json(void **state)
{
    size_t i;

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    for (i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
        const struct json_case *c = &json_cases[i];
        const struct rval *v;
        struct vouch_errbuf eb;
        vouch_err e = vouch_rv_parse_json(&A, c->in, strlen(c->in), 10, &v, &eb);

        if (!c->out) {
            if (e == VOUCH_OK)
                fail_msg("accepted %s", c->in);
            continue;
        }
        if (e)
            fail_msg("%s: %s", c->in, eb.msg);
        expect_text(v, c->out);
    }
}

static void test_json_depth(void **state)
{
    char deep[2100];
    const struct rval *v;
    struct vouch_errbuf eb;

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    assert_int_equal(vouch_rv_parse_json(&A, deep, 2000, 2000, &v, &eb), VOUCH_OK);
    assert_int_equal(vouch_rv_parse_json(&A, deep, 2000, 512, &v, &eb), VOUCH_E_INVALID);
    assert_non_null(strstr(eb.msg, "nesting too deep"));
}

/* Lazy jansson values behave like converted ones. */
static void test_from_jansson(void **state)
{
    json_t *j = json_loads("{\"z\":[1,{\"k\":\"v\"}],\"a\":2.5,\"m\":{\"x\":null}}", 0, NULL);
    const struct rval *lazy, *exact;
    json_t *back;
    char *s;

    (void)state;
    if (setjmp(JB))
        fail_msg("out of memory");
    assert_non_null(j);
    lazy = vouch_rv_from_json(&A, j, true);
    assert_non_null(vouch_rv_obj_getn(lazy, "m", 1));
    assert_null(vouch_rv_obj_getn(lazy, "q", 1));
    {
        static const char want[] = "{\"a\":2.5,\"m\":{\"x\":null},\"z\":[1,{\"k\":\"v\"}]}";

        assert_int_equal(vouch_rv_parse_json(&A, want, strlen(want), 10, &exact, NULL), VOUCH_OK);
    }
    assert_true(rv_eq(lazy, exact));
    back = vouch_rv_to_json(lazy);
    s = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"a\":2.5,\"m\":{\"x\":null},\"z\":[1,{\"k\":\"v\"}]}");
    free(s);
    json_decref(back);
    json_decref(j);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_int_equal(vouch_rv_utf8_count("h\xc3\xa9llo", 6), 5);
    assert_int_equal(vouch_rv_utf8_count("\xf0\x9f\x98\x80", 4), 1);
    assert_int_equal(vouch_rv_utf8_count("\xc0\xaf", 2), -1);      /* overlong */
    assert_int_equal(vouch_rv_utf8_count("\xed\xa0\x80", 3), -1);  /* surrogate */
    assert_int_equal(vouch_rv_utf8_count("\xe2\x82", 2), -1);      /* truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_number_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_arith, setup, teardown),
        cmocka_unit_test_setup_teardown(test_number_compare, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_jansson, setup, teardown),
        cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
