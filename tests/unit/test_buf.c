/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"

static void test_append_cap(void **state)
{
    struct vouch_buf b = VOUCH_BUF_INIT(10);

    (void)state;
    assert_int_equal(vouch_buf_puts(&b, "hello"), VOUCH_OK);
    assert_int_equal(vouch_buf_append(&b, "world", 5), VOUCH_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(vouch_buf_str(&b), "helloworld");
    /* One byte more than the cap: the buffer frees itself and fails. */
    assert_int_equal(vouch_buf_putc(&b, '!'), VOUCH_E_TOO_LARGE);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* It is reusable afterwards. */
    assert_int_equal(vouch_buf_printf(&b, "%d-%s", 42, "x"), VOUCH_OK);
    assert_string_equal(vouch_buf_str(&b), "42-x");
    assert_int_equal(vouch_buf_printf(&b, "%s", "0123456789"), VOUCH_E_TOO_LARGE);
    vouch_buf_free(&b);
    vouch_buf_free(NULL);
}

static void test_overflowing_sizes(void **state)
{
    struct vouch_buf b = VOUCH_BUF_INIT(SIZE_MAX - 1);

    (void)state;
    assert_int_equal(vouch_buf_putc(&b, 'a'), VOUCH_OK);
    assert_int_equal(vouch_buf_reserve(&b, SIZE_MAX), VOUCH_E_TOO_LARGE);
    /* len + n would exceed the cap only through wrap-around: still refused. */
    assert_int_equal(vouch_buf_putc(&b, 'a'), VOUCH_OK);
    assert_int_equal(vouch_buf_reserve(&b, SIZE_MAX - 1), VOUCH_E_TOO_LARGE);
    vouch_buf_free(&b);
}

static void test_steal_and_reset(void **state)
{
    struct vouch_buf b = VOUCH_BUF_INIT(1000);
    uint8_t *p;
    size_t len = 99;
    int i;

    (void)state;
    p = vouch_buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_int_equal(p[0], 0);
    free(p);
    for (i = 0; i < 100; i++)
        assert_int_equal(vouch_buf_printf(&b, "%d,", i % 10), VOUCH_OK);
    assert_int_equal(b.len, 200);
    vouch_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(vouch_buf_str(&b), "");
    assert_int_equal(vouch_buf_append(&b, "a\0b", 3), VOUCH_OK);
    p = vouch_buf_steal(&b, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "a\0b", 4);
    assert_null(b.data);
    free(p);
}

/* Decimal integers written as printf writes them, at the edges of each type. */
static void test_put_integers(void **state)
{
    static const int64_t ints[] = { 0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN };
    static const uint64_t uints[] = { 0, 1, 10, 99, 100, UINT64_MAX - 1, UINT64_MAX };
    struct vouch_buf b = VOUCH_BUF_INIT(64);
    char want[32];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        vouch_buf_reset(&b);
        assert_int_equal(vouch_buf_put_int(&b, ints[i]), VOUCH_OK);
        snprintf(want, sizeof(want), "%lld", (long long)ints[i]);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
    }
    for (i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
        vouch_buf_reset(&b);
        assert_int_equal(vouch_buf_put_uint(&b, uints[i]), VOUCH_OK);
        snprintf(want, sizeof(want), "%llu", (unsigned long long)uints[i]);
        assert_int_equal(b.len, strlen(want));
        assert_memory_equal(b.data, want, b.len);
    }
    vouch_buf_free(&b);
    b = (struct vouch_buf)VOUCH_BUF_INIT(3);
    assert_int_not_equal(vouch_buf_put_int(&b, -1000), VOUCH_OK);   /* over the cap */
    vouch_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_cap),
        cmocka_unit_test(test_overflowing_sizes),
        cmocka_unit_test(test_steal_and_reset),
        cmocka_unit_test(test_put_integers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
