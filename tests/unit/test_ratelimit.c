/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/http.h"
#include "server/ratelimit.h"

#define S 1000000ull   /* one second in microseconds */

static void key_of(unsigned n, uint8_t key[VOUCH_RATELIMIT_KEY_LEN])
{
    memset(key, 0, VOUCH_RATELIMIT_KEY_LEN);
    memcpy(key, &n, sizeof(n));
}

enum step_op { TAKE, PEEK, CHARGE };

struct step {
    enum step_op op;
    unsigned key;
    uint64_t now_us;
    bool want_ok;
    uint64_t want_wait_us;    /* when refused */
};

struct bucket_case {
    const char *name;
    uint64_t count, period_us, burst;
    struct step steps[12];
    size_t n_steps;
};

static const struct bucket_case bucket_cases[] = {
    { "burst of 3 at 1/s: three pass, the fourth waits a second", 1, S, 3,
      { { TAKE, 1, 0, true, 0 }, { TAKE, 1, 0, true, 0 }, { TAKE, 1, 0, true, 0 },
        { TAKE, 1, 0, false, S }, { TAKE, 1, S / 2, false, S / 2 }, { TAKE, 1, S, true, 0 },
        { TAKE, 1, S, false, S } }, 7 },
    { "a refill never exceeds the burst", 1, S, 2,
      { { TAKE, 1, 0, true, 0 }, { TAKE, 1, 0, true, 0 }, { TAKE, 1, 100 * S, true, 0 },
        { TAKE, 1, 100 * S, true, 0 }, { TAKE, 1, 100 * S, false, S } }, 5 },
    { "keys are independent", 1, S, 1,
      { { TAKE, 1, 0, true, 0 }, { TAKE, 1, 0, false, S }, { TAKE, 2, 0, true, 0 },
        { TAKE, 2, 0, false, S } }, 4 },
    { "1000/s, burst 10: the eleventh waits one interval", 1000, S, 10,
      { { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 },
        { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 },
        { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, true, 0 },
        { TAKE, 7, 0, true, 0 }, { TAKE, 7, 0, false, 1000 }, { TAKE, 7, 1000, true, 0 } },
      12 },
    { "peek takes nothing", 1, S, 1,
      { { PEEK, 1, 0, true, 0 }, { PEEK, 1, 0, true, 0 }, { TAKE, 1, 0, true, 0 },
        { PEEK, 1, 0, false, S }, { PEEK, 1, S, true, 0 } }, 5 },
    { "charge goes into debt: 3 charges at 6/min with burst 2", 6, 60 * S, 2,
      { { CHARGE, 1, 0, true, 0 }, { CHARGE, 1, 0, true, 0 }, { CHARGE, 1, 0, true, 0 },
        { PEEK, 1, 0, false, 20 * S }, { PEEK, 1, 19 * S, false, S },
        { PEEK, 1, 20 * S, true, 0 }, { TAKE, 1, 20 * S, true, 0 },
        { TAKE, 1, 20 * S, false, 10 * S } }, 8 },
    { "a clock near the top of the range does not wrap", 1, S, 1,
      { { TAKE, 1, UINT64_MAX - 10, true, 0 }, { TAKE, 1, UINT64_MAX - 10, false, 10 },
        { TAKE, 1, UINT64_MAX, true, 0 } }, 3 },
};

static void test_bucket_table(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(bucket_cases) / sizeof(bucket_cases[0]); i++) {
        const struct bucket_case *c = &bucket_cases[i];
        struct vouch_ratelimit *rl = NULL;

        assert_int_equal(vouch_ratelimit_new(c->count, c->period_us, c->burst, 64, &rl), VOUCH_OK);
        for (j = 0; j < c->n_steps; j++) {
            const struct step *st = &c->steps[j];
            uint8_t key[VOUCH_RATELIMIT_KEY_LEN];
            uint64_t wait = 12345;
            bool ok = true;

            key_of(st->key, key);
            if (st->op == TAKE)
                ok = vouch_ratelimit_take(rl, key, st->now_us, &wait);
            else if (st->op == PEEK)
                ok = vouch_ratelimit_peek(rl, key, st->now_us, &wait);
            else
                vouch_ratelimit_charge(rl, key, st->now_us);
            if (ok != st->want_ok || (!ok && wait != st->want_wait_us))
                fail_msg("%s: step %zu: ok=%d wait=%llu", c->name, j, ok,
                         (unsigned long long)wait);
        }
        vouch_ratelimit_free(rl);
    }
}

/* Debt stops at an hour: after 5,000 one-second charges the wait is about an hour. */
static void test_debt_cap(void **state)
{
    struct vouch_ratelimit *rl = NULL;
    uint8_t key[VOUCH_RATELIMIT_KEY_LEN];
    uint64_t wait = 0;
    int i;

    (void)state;
    key_of(9, key);
    assert_int_equal(vouch_ratelimit_new(1, S, 1, 64, &rl), VOUCH_OK);
    for (i = 0; i < 5000; i++)
        vouch_ratelimit_charge(rl, key, 0);
    assert_false(vouch_ratelimit_peek(rl, key, 0, &wait));
    assert_true(wait <= 3600 * S + S);
    assert_true(wait >= 3600 * S - S);
    vouch_ratelimit_free(rl);
}

/*
 * The table is bounded: with far more clients than entries, old keys are
 * forgotten (their bucket is full again) while the newest are still held.
 */
static void test_bounded_table(void **state)
{
    struct vouch_ratelimit *rl = NULL;
    uint8_t key[VOUCH_RATELIMIT_KEY_LEN];
    uint64_t wait;
    unsigned n, forgotten = 0, held = 0;

    (void)state;
    assert_int_equal(vouch_ratelimit_new(1, 3600 * S, 1, 256, &rl), VOUCH_OK);
    for (n = 0; n < 100000; n++) {
        key_of(n, key);
        assert_true(vouch_ratelimit_take(rl, key, n, &wait));
    }
    for (n = 0; n < 1000; n++) {
        key_of(n, key);
        forgotten += vouch_ratelimit_peek(rl, key, 100000, &wait);
    }
    for (n = 100000 - 64; n < 100000; n++) {
        key_of(n, key);
        held += !vouch_ratelimit_peek(rl, key, 100000, &wait);
    }
    assert_int_equal(forgotten, 1000);
    assert_true(held >= 32);
    vouch_ratelimit_free(rl);
}

static void test_bad_parameters(void **state)
{
    static const uint64_t bad[][3] = { { 0, S, 1 }, { 1, 0, 1 }, { 1, S, 0 } };
    struct vouch_ratelimit *rl = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vouch_ratelimit_new(bad[i][0], bad[i][1], bad[i][2], 64, &rl),
                         VOUCH_E_INVALID);
    assert_int_equal(vouch_ratelimit_new(1, S, 1, (size_t)1 << 30, &rl), VOUCH_E_INVALID);
    assert_null(rl);
    vouch_ratelimit_free(NULL);
}

static void test_problem_answer(void **state)
{
    static const struct { uint64_t wait_us; const char *retry; } cases[] = {
        { 0, "1" }, { 1, "1" }, { S, "1" }, { S + 1, "2" }, { 59 * S + 500000, "60" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_http_resp resp = { 0 };

        vouch_http_rate_limited(&resp, cases[i].wait_us, "requests from this address");
        assert_int_equal(resp.status, 429);
        assert_string_equal(resp.content_type, "application/problem+json");
        assert_string_equal(resp.code, "VOUCH.REQUEST.RATE_LIMITED");
        assert_int_equal(resp.n_headers, 1);
        assert_string_equal(resp.headers[0].name, "Retry-After");
        assert_string_equal(resp.headers[0].value, cases[i].retry);
        assert_non_null(strstr(resp.body, "\"status\":429"));
        vouch_http_resp_done(&resp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_table),
        cmocka_unit_test(test_debt_cap),
        cmocka_unit_test(test_bounded_table),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_problem_answer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
