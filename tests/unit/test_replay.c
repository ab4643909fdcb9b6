/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SignatureNonce replay records (src/server/replay.c) on a SQLite store:
 * once per key while live, bounded per key and in all (refused, never
 * forgotten), expired records make room, a stop then a start on the
 * same store still refuses every live record, and a durable use is saved
 * before it returns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/replay.h"

#define CAPACITY 5
#define PER_KEY 3

struct fixture {
    char dir[64];
    char url[128];
    struct vouch_store *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct vouch_errbuf eb;

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-replay-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/v.db", f->dir);
    if (vouch_store_open(f->url, &f->store, &eb)) {
        fprintf(stderr, "setup: %s\n", eb.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[100];

    vouch_store_close(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

struct use_case {
    const char *key, *nonce;
    int64_t now_ms, expires_ms;
    vouch_err want;
    bool durable;               /* a request that changes state */
};

static void run_cases(struct vouch_replay *r, const struct use_case *c, size_t n)
{
    struct vouch_errbuf eb;
    size_t i;

    for (i = 0; i < n; i++) {
        vouch_errbuf_clear(&eb);
        if (vouch_replay_use(r, c[i].key, c[i].nonce, c[i].now_ms, c[i].expires_ms,
                             c[i].durable, &eb) != c[i].want)
            fail_msg("case %zu (%s/%s): %s", i, c[i].key, c[i].nonce, eb.msg);
    }
}

static void test_once_bounded_expiring(void **state)
{
    static const struct use_case cases[] = {
        { "AK1", "n1", 1000, 2000, VOUCH_OK },
        { "AK1", "n1", 1100, 2100, VOUCH_E_CONFLICT },     /* a replay */
        { "AK2", "n1", 1100, 2100, VOUCH_OK },             /* another key: another pair */
        { "AK1", "n2", 1100, 2500, VOUCH_OK },
        { "AK1", "n3", 1100, 2500, VOUCH_OK },
        { "AK1", "n4", 1100, 2500, VOUCH_E_LIMIT },        /* AK1 holds PER_KEY */
        { "AK3", "n1", 1100, 2500, VOUCH_OK },             /* CAPACITY records held */
        { "AK3", "n2", 1100, 2500, VOUCH_E_LIMIT },        /* full: refused, not forgotten */
        { "AK1", "n2", 1900, 2900, VOUCH_E_CONFLICT },
        /* AK1/n1 expired at 2000: the head of the ring goes, the nonce comes again */
        { "AK1", "n1", 2000, 3000, VOUCH_OK },
        { "AK1", "n1", 2001, 3000, VOUCH_E_CONFLICT },
        /* AK2/n1 goes at 2100; AK1 still holds PER_KEY */
        { "AK1", "n5", 2100, 3000, VOUCH_E_LIMIT },
        { "AK3", "n2", 2100, 3000, VOUCH_OK },
        { "AK1", "bad nonce", 2100, 3000, VOUCH_E_INVALID },
        { "AK1", "", 2100, 3000, VOUCH_E_INVALID },
    };
    struct fixture *f = *state;
    struct vouch_replay *r = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_replay_start(f->store, false, CAPACITY, PER_KEY, 1000, &r, &eb),
                     VOUCH_OK);
    run_cases(r, cases, sizeof(cases) / sizeof(cases[0]));
    assert_int_equal(vouch_replay_count(r), CAPACITY);
    vouch_replay_stop(r);
}

static void test_restart_refuses_live(void **state)
{
    static const struct use_case before[] = {
        { "AK1", "a", 1000, 2000, VOUCH_OK },
        { "AK1", "b", 1000, 9000, VOUCH_OK },
        { "AK2", "a", 1000, 9000, VOUCH_OK },
    };
    static const struct use_case after[] = {
        { "AK1", "b", 2500, 3500, VOUCH_E_CONFLICT },
        { "AK2", "a", 2500, 3500, VOUCH_E_CONFLICT },
        { "AK1", "a", 2500, 3500, VOUCH_OK },              /* expired before the restart */
        { "AK1", "c", 2500, 3500, VOUCH_OK },
    };
    struct fixture *f = *state;
    struct vouch_replay *r = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_replay_start(f->store, false, 16, 16, 1000, &r, &eb), VOUCH_OK);
    run_cases(r, before, sizeof(before) / sizeof(before[0]));
    vouch_replay_stop(r);       /* saves what is queued */
    r = NULL;
    assert_int_equal(vouch_replay_start(f->store, false, 16, 16, 2500, &r, &eb), VOUCH_OK);
    assert_int_equal(vouch_replay_count(r), 2);
    run_cases(r, after, sizeof(after) / sizeof(after[0]));
    vouch_replay_stop(r);
    /* More live records than a set holds: the start is refused, nothing forgotten. */
    assert_int_equal(vouch_replay_start(f->store, false, 2, 16, 2500, &r, &eb), VOUCH_E_LIMIT);
}

/*
 * A durable use is on the store when it returns: a set started on the same
 * store right after (as after a crash of the first, whose writer has not
 * run) refuses it.  A replay of it is refused by the first set as ever.
 */
static void test_durable_saved_at_once(void **state)
{
    static const struct use_case first[] = {
        { "AK1", "trust-1", 1000, 9000, VOUCH_OK, true },
        { "AK1", "trust-1", 1001, 9000, VOUCH_E_CONFLICT, true },
        { "AK1", "trust-1", 1001, 9000, VOUCH_E_CONFLICT, false },
    };
    static const struct use_case second[] = {
        { "AK1", "trust-1", 1002, 9000, VOUCH_E_CONFLICT, true },
        { "AK1", "trust-1", 1002, 9000, VOUCH_E_CONFLICT, false },
        { "AK1", "trust-2", 1002, 9000, VOUCH_OK, true },
    };
    struct fixture *f = *state;
    struct vouch_replay *r = NULL, *again = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_replay_start(f->store, false, 16, 16, 1000, &r, &eb), VOUCH_OK);
    run_cases(r, first, sizeof(first) / sizeof(first[0]));
    assert_int_equal(vouch_replay_start(f->store, false, 16, 16, 1002, &again, &eb), VOUCH_OK);
    run_cases(again, second, sizeof(second) / sizeof(second[0]));
    vouch_replay_stop(again);
    vouch_replay_stop(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once_bounded_expiring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_refuses_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durable_saved_at_once, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
