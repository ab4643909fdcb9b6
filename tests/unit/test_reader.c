/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/reader.h"

static const uint8_t data[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09 };

static void test_ints_le_be(void **state)
{
    struct vouch_reader r;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint8_t u8;

    (void)state;
    vouch_reader_init(&r, data, sizeof(data));
    assert_int_equal(vouch_reader_u8(&r, &u8), VOUCH_OK);
    assert_int_equal(u8, 1);
    assert_int_equal(vouch_reader_u16le(&r, &u16), VOUCH_OK);
    assert_int_equal(u16, 0x0302);
    assert_int_equal(vouch_reader_u16be(&r, &u16), VOUCH_OK);
    assert_int_equal(u16, 0x0405);
    assert_int_equal(vouch_reader_u32be(&r, &u32), VOUCH_OK);
    assert_int_equal(u32, 0x06070809);
    assert_true(vouch_reader_done(&r));
    vouch_reader_init(&r, data, sizeof(data));
    assert_int_equal(vouch_reader_u64le(&r, &u64), VOUCH_OK);
    assert_int_equal(u64, 0x0807060504030201ull);
    vouch_reader_init(&r, data, sizeof(data));
    assert_int_equal(vouch_reader_u64be(&r, &u64), VOUCH_OK);
    assert_int_equal(u64, 0x0102030405060708ull);
    assert_int_equal(vouch_reader_u32le(&r, &u32), VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_reader_left(&r), 1);
}

/* Every read that does not fit fails, leaves the cursor and the output alone. */
static void test_bounds_untouched(void **state)
{
    struct {
        size_t avail;
        int kind; /* 1 u8, 2 u16, 4 u32, 8 u64 */
    } cases[] = {
        { 0, 1 }, { 1, 2 }, { 0, 2 }, { 3, 4 }, { 2, 4 }, { 7, 8 }, { 0, 8 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_reader r;
        uint8_t u8 = 0xaa;
        uint16_t u16 = 0xaaaa;
        uint32_t u32 = 0xaaaaaaaa;
        uint64_t u64 = 0xaaaaaaaaaaaaaaaaull;
        vouch_err e = VOUCH_OK;

        vouch_reader_init(&r, data, cases[i].avail);
        switch (cases[i].kind) {
        case 1: e = vouch_reader_u8(&r, &u8); break;
        case 2: e = vouch_reader_u16le(&r, &u16); break;
        case 4: e = vouch_reader_u32le(&r, &u32); break;
        case 8: e = vouch_reader_u64be(&r, &u64); break;
        }
        assert_int_equal(e, VOUCH_E_TRUNCATED);
        assert_int_equal(vouch_reader_offset(&r), 0);
        assert_int_equal(u8, 0xaa);
        assert_int_equal(u16, 0xaaaa);
        assert_int_equal(u32, 0xaaaaaaaa);
        assert_true(u64 == 0xaaaaaaaaaaaaaaaaull);
    }
}

static void test_bytes_and_huge_lengths(void **state)
{
    struct vouch_reader r, sub;
    const uint8_t *p = NULL;
    uint8_t dst[4] = { 0 };

    (void)state;
    vouch_reader_init(&r, data, sizeof(data));
    /* Lengths that would wrap a pointer addition must fail cleanly. */
    assert_int_equal(vouch_reader_bytes(&r, SIZE_MAX, &p), VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_reader_skip(&r, SIZE_MAX - 1), VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_reader_sub(&r, sizeof(data) + 1, &sub), VOUCH_E_TRUNCATED);
    assert_null(p);
    assert_int_equal(vouch_reader_bytes(&r, 2, &p), VOUCH_OK);
    assert_ptr_equal(p, data);
    assert_int_equal(vouch_reader_copy(&r, dst, 4), VOUCH_OK);
    assert_memory_equal(dst, data + 2, 4);
    assert_int_equal(vouch_reader_sub(&r, 2, &sub), VOUCH_OK);
    assert_int_equal(vouch_reader_left(&sub), 2);
    assert_int_equal(vouch_reader_left(&r), 1);
    assert_int_equal(vouch_reader_skip(&sub, 3), VOUCH_E_TRUNCATED);
    assert_int_equal(vouch_reader_peek(&r, 1, &p), VOUCH_OK);
    assert_int_equal(*p, 0x09);
    assert_int_equal(vouch_reader_left(&r), 1);
    assert_int_equal(vouch_reader_bytes(&r, 0, &p), VOUCH_OK);
}

static void test_null_empty(void **state)
{
    struct vouch_reader r;
    uint8_t u8;

    (void)state;
    vouch_reader_init(&r, NULL, 100);
    assert_int_equal(vouch_reader_left(&r), 0);
    assert_int_equal(vouch_reader_u8(&r, &u8), VOUCH_E_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ints_le_be),
        cmocka_unit_test(test_bounds_untouched),
        cmocka_unit_test(test_bytes_and_huge_lengths),
        cmocka_unit_test(test_null_empty),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
