/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache of enabled AccessKeys (token/accesskey.h): what it keeps, for
 * how long, and when a disable takes effect, on a store of its own (and
 * with secrets in clear and wrapped under a KEK).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token/accesskey.h"
#include "token/secrets.h"

#define TTL VOUCH_ACCESSKEY_TTL_US
#define T0 1000000000LL         /* any monotonic instant */

static char dir[64];
static struct vouch_kek kek;

static int setup(void **state)
{
    uint8_t k[VOUCH_KEK_LEN];

    (void)state;
    memset(k, 7, sizeof(k));
    snprintf(dir, sizeof(dir), "/tmp/vouch-accesskey-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    return vouch_kek_from_bytes(k, &kek, NULL);
}

static int teardown(void **state)
{
    char cmd[100];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

enum op {
    CREATE,             /* the key appears in the store */
    LOOKUP,             /* through the cache */
    DISABLE_HERE,       /* vouch_accesskey_disable on this cache */
    DISABLE_ELSEWHERE,  /* in the store only: another replica, the CLI */
};

static const struct {
    const char *name;
    enum op op;
    const char *id;
    int64_t at;          /* µs after T0 */
    vouch_err want;
} steps[] = {
    { "a new key is read", CREATE, "VKa", 0, VOUCH_OK },
    { "and kept", LOOKUP, "VKa", 0, VOUCH_OK },
    { "disabled by another replica", DISABLE_ELSEWHERE, "VKa", 10, VOUCH_OK },
    { "still works here within the TTL", LOOKUP, "VKa", TTL / 2, VOUCH_OK },
    { "up to the TTL", LOOKUP, "VKa", TTL, VOUCH_OK },
    { "not after it", LOOKUP, "VKa", TTL + 1, VOUCH_E_NOT_FOUND },
    { "nor later", LOOKUP, "VKa", 3 * TTL, VOUCH_E_NOT_FOUND },
    { "an unknown key", LOOKUP, "VKb", 0, VOUCH_E_NOT_FOUND },
    { "made by another replica", CREATE, "VKb", 0, VOUCH_OK },
    { "is found at once: misses are not kept", LOOKUP, "VKb", 1, VOUCH_OK },
    { "a second key, kept", CREATE, "VKc", 1, VOUCH_OK },
    { "read", LOOKUP, "VKc", 2, VOUCH_OK },
    { "disabled here", DISABLE_HERE, "VKb", 3, VOUCH_OK },
    { "stops at once", LOOKUP, "VKb", 3, VOUCH_E_NOT_FOUND },
    { "the other key still works", LOOKUP, "VKc", 4, VOUCH_OK },
    { "disabling an unknown key", DISABLE_HERE, "VKzz", 5, VOUCH_E_NOT_FOUND },
};

static vouch_err create(struct vouch_store *s, const struct vouch_kek *k, const char *id)
{
    char secret[40], *stored = NULL;
    vouch_err e;

    snprintf(secret, sizeof(secret), "secret-of-%s", id);
    e = vouch_secret_seal(k, VOUCH_STORE_SECRET_ACCESS_KEY, id, secret, &stored, NULL);
    if (!e)
        e = vouch_store_accesskey_create(s, "acct", id, stored, 1, NULL);
    free(stored);
    return e;
}

/* Look `id` up and check what comes back; the key is released at once. */
static vouch_err lookup(struct vouch_accesskeys *keys, const char *id, int64_t now_us)
{
    struct vouch_accesskey k = { 0 };
    char want[40];
    vouch_err e = vouch_accesskey_lookup(keys, id, now_us, &k, NULL);

    if (!e) {
        snprintf(want, sizeof(want), "secret-of-%s", id);
        assert_string_equal(k.account, "acct");
        assert_int_equal(k.secret_len, strlen(want));
        assert_string_equal((const char *)k.secret, want);
    }
    vouch_accesskey_done(&k);
    return e;
}

static void run_steps(const char *db, const struct vouch_kek *k)
{
    char url[128];
    struct vouch_accesskeys *keys = NULL;
    struct vouch_store *s = NULL;
    size_t i;

    snprintf(url, sizeof(url), "sqlite:%s/%s", dir, db);
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_accesskeys_new(s, k, TTL, 16, &keys, NULL), VOUCH_OK);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int64_t now = T0 + steps[i].at;
        vouch_err e = VOUCH_OK;

        switch (steps[i].op) {
        case CREATE: e = create(s, k, steps[i].id); break;
        case LOOKUP: e = lookup(keys, steps[i].id, now); break;
        case DISABLE_HERE: e = vouch_accesskey_disable(keys, steps[i].id, NULL); break;
        case DISABLE_ELSEWHERE: e = vouch_store_accesskey_disable(s, steps[i].id, NULL); break;
        }
        if (e != steps[i].want)
            fail_msg("%s (%s): got %s, want %s", steps[i].name, db, vouch_err_name(e),
                     vouch_err_name(steps[i].want));
    }
    vouch_accesskeys_free(keys);
    vouch_store_close(s);
}

static void test_steps_clear(void **state)
{
    (void)state;
    run_steps("clear.db", NULL);
}

static void test_steps_wrapped(void **state)
{
    (void)state;
    run_steps("wrapped.db", &kek);
}

/* A key looked up stays valid while held, through a disable and the cache's end. */
static void test_held_key_outlives_its_entry(void **state)
{
    char url[128];
    struct vouch_accesskeys *keys = NULL;
    struct vouch_accesskey k = { 0 };
    struct vouch_store *s = NULL;

    (void)state;
    snprintf(url, sizeof(url), "sqlite:%s/held.db", dir);
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_accesskeys_new(s, NULL, TTL, 16, &keys, NULL), VOUCH_OK);
    assert_int_equal(create(s, NULL, "VKheld"), VOUCH_OK);
    assert_int_equal(vouch_accesskey_lookup(keys, "VKheld", T0, &k, NULL), VOUCH_OK);
    assert_int_equal(vouch_accesskey_disable(keys, "VKheld", NULL), VOUCH_OK);
    vouch_accesskeys_free(keys);
    assert_string_equal((const char *)k.secret, "secret-of-VKheld");
    assert_string_equal(k.account, "acct");
    vouch_accesskey_done(&k);
    vouch_accesskey_done(&k);        /* done twice, and on a key never looked up: harmless */
    vouch_store_close(s);
}

static void test_bad_config(void **state)
{
    struct vouch_accesskeys *keys = NULL;

    (void)state;
    assert_int_equal(vouch_accesskeys_new(NULL, NULL, 0, 16, &keys, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_accesskeys_new(NULL, NULL, TTL, 0, &keys, NULL), VOUCH_E_INVALID);
    assert_null(keys);
    vouch_accesskeys_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_clear),
        cmocka_unit_test(test_steps_wrapped),
        cmocka_unit_test(test_held_key_outlives_its_entry),
        cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
