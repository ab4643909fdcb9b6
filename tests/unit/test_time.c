/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/time.h"

static void test_parse_table(void **state)
{
    static const struct {
        const char *in;
        vouch_err want;
        int64_t sec;
        int32_t nsec;
    } cases[] = {
        { "1970-01-01T00:00:00Z", VOUCH_OK, 0, 0 },
        { "2025-07-19T10:01:17Z", VOUCH_OK, 1752919277, 0 },
        { "2025-07-04T10:24:15Z", VOUCH_OK, 1751624655, 0 },
        { "2024-02-29T23:59:59.5Z", VOUCH_OK, 1709251199, 500000000 },
        { "2024-02-29t23:59:59.123456789123z", VOUCH_OK, 1709251199, 123456789 },
        { "2025-07-19T12:01:17+02:00", VOUCH_OK, 1752919277, 0 },
        { "2025-07-19T05:01:17-05:00", VOUCH_OK, 1752919277, 0 },
        { "2016-12-31T23:59:60Z", VOUCH_OK, 1483228799, 0 },
        { "1969-12-31T23:59:59Z", VOUCH_OK, -1, 0 },
        { "2023-02-29T00:00:00Z", VOUCH_E_INVALID, 0, 0 },
        { "2025-13-01T00:00:00Z", VOUCH_E_INVALID, 0, 0 },
        { "2025-07-19T10:01:17", VOUCH_E_INVALID, 0, 0 },
        { "2025-07-19", VOUCH_E_INVALID, 0, 0 },
        { "2025-07-19T10:01:17.Z", VOUCH_E_INVALID, 0, 0 },
        { "2025-07-19T10:01:17Zjunk", VOUCH_E_INVALID, 0, 0 },
        { "", VOUCH_E_INVALID, 0, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t sec = 42;
        int32_t nsec = 42;
        vouch_err e = vouch_time_parse_rfc3339(cases[i].in, strlen(cases[i].in), &sec,
                                               &nsec, NULL);

        if (e != cases[i].want)
            fail_msg("case '%s': got %d want %d", cases[i].in, e, cases[i].want);
        if (!e) {
            assert_int_equal(sec, cases[i].sec);
            assert_int_equal(nsec, cases[i].nsec);
        } else {
            assert_int_equal(sec, 42);
        }
    }
}

static void test_format_roundtrip(void **state)
{
    int64_t t;
    char buf[VOUCH_RFC3339_LEN];

    (void)state;
    vouch_time_format_rfc3339(1752919277, buf);
    assert_string_equal(buf, "2025-07-19T10:01:17Z");
    vouch_time_format_rfc3339(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    for (t = -86400 * 400; t < 4102444800; t += 86400 * 37 + 3601) {
        int64_t back;

        vouch_time_format_rfc3339(t, buf);
        assert_int_equal(vouch_time_parse_rfc3339(buf, strlen(buf), &back, NULL, NULL),
                         VOUCH_OK);
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_format_roundtrip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
