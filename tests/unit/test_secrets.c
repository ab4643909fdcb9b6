/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "token/challenge.h"
#include "token/keyring.h"
#include "token/secrets.h"

static char dir[64];
static char url[128];
static struct vouch_kek kek_a, kek_b;

static int setup(void **state)
{
    uint8_t a[VOUCH_KEK_LEN], b[VOUCH_KEK_LEN];

    (void)state;
    memset(a, 1, sizeof(a));
    memset(b, 2, sizeof(b));
    snprintf(dir, sizeof(dir), "/tmp/vouch-secrets-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/s.db", dir);
    return vouch_kek_from_bytes(a, &kek_a, NULL) || vouch_kek_from_bytes(b, &kek_b, NULL);
}

static int teardown(void **state)
{
    char cmd[100];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* How many stored secrets are wrapped, and how many in clear. */
static void count(struct vouch_store *s, size_t *wrapped, size_t *clear)
{
    struct vouch_store_key *keys = NULL;
    size_t n = 0, i;
    char *v = NULL;

    *wrapped = *clear = 0;
    assert_int_equal(vouch_store_keys_list(s, &keys, &n, NULL), VOUCH_OK);
    for (i = 0; i < n; i++)
        (*(vouch_kek_is_wrapped(keys[i].private_pem) ? wrapped : clear))++;
    vouch_store_keys_free(keys, n);
    assert_int_equal(vouch_store_meta_get(s, "challenge_secret", &v, NULL), VOUCH_OK);
    (*(vouch_kek_is_wrapped(v) ? wrapped : clear))++;
    free(v);
    {
        struct vouch_store_accesskey *k = NULL;

        assert_int_equal(vouch_store_accesskey_get(s, "AKID1", &k, NULL), VOUCH_OK);
        (*(vouch_kek_is_wrapped(k->secret) ? wrapped : clear))++;
        vouch_store_accesskeys_free(k, 1);
    }
}

/* Each step: rewrap from -> to, and what must come of it. */
static const struct {
    const char *name;
    const struct vouch_kek *from, *to;
    vouch_err want;
    size_t changed, wrapped, clear;
} steps[] = {
    { "wrap the clear ones", NULL, &kek_a, VOUCH_OK, 4, 4, 0 },
    { "again: nothing to do", &kek_a, &kek_a, VOUCH_OK, 0, 4, 0 },
    { "wrong old KEK", &kek_b, &kek_b, VOUCH_E_NOT_FOUND, 0, 4, 0 },
    { "no old KEK", NULL, &kek_b, VOUCH_E_NOT_FOUND, 0, 4, 0 },
    { "A to B", &kek_a, &kek_b, VOUCH_OK, 4, 4, 0 },
    { "A no longer opens them", &kek_a, NULL, VOUCH_E_NOT_FOUND, 0, 4, 0 },
    { "B back to clear", &kek_b, NULL, VOUCH_OK, 4, 0, 4 },
};

static void test_rewrap_steps(void **state)
{
    uint8_t secret[VOUCH_CHALLENGE_SECRET_LEN], again[VOUCH_CHALLENGE_SECRET_LEN];
    struct vouch_keyring *kr = NULL;
    struct vouch_errbuf eb;
    struct vouch_store *s;
    size_t i, changed, wrapped, clear;

    (void)state;
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_ensure(s, NULL, 1000, NULL), VOUCH_OK);
    assert_int_equal(vouch_challenge_secret_setup(s, NULL, secret, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "acct", "AKID1", "sekrit", 1, NULL), 0);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        vouch_err e;

        changed = 99;
        e = vouch_secrets_rewrap(s, steps[i].from, steps[i].to, &changed, &eb);
        if (e != steps[i].want)
            fail_msg("%s: got %s (%s)", steps[i].name, vouch_err_name(e), e ? eb.msg : "");
        if (!e)
            assert_int_equal(changed, steps[i].changed);
        count(s, &wrapped, &clear);
        assert_int_equal(wrapped, steps[i].wrapped);
        assert_int_equal(clear, steps[i].clear);
        if (i == 4) {   /* under B: only B loads the keys and the secret */
            assert_int_equal(vouch_keyring_load(s, &kek_a, 1000, 600, &kr, NULL),
                             VOUCH_E_NOT_FOUND);
            assert_int_equal(vouch_keyring_load(s, NULL, 1000, 600, &kr, NULL), VOUCH_E_AUTH);
            assert_int_equal(vouch_keyring_load(s, &kek_b, 1000, 600, &kr, NULL), VOUCH_OK);
            assert_int_equal(vouch_keyring_count(kr), 2);
            vouch_keyring_unref(kr);
            assert_int_equal(vouch_challenge_secret_setup(s, &kek_b, again, NULL), VOUCH_OK);
            assert_memory_equal(again, secret, sizeof(secret));
        }
    }
    vouch_store_close(s);
}

static void test_replace_is_all_or_nothing(void **state)
{
    struct vouch_store_secret_change c[2];
    struct vouch_store *s;
    char *v = NULL, *before = NULL;

    (void)state;
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_put(s, "challenge_secret", "aa", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_put(s, "other", "bb", NULL), VOUCH_OK);
    c[0] = (struct vouch_store_secret_change){ VOUCH_STORE_SECRET_META, "challenge_secret",
                                               "aa", "AA" };
    c[1] = (struct vouch_store_secret_change){ VOUCH_STORE_SECRET_META, "other", "stale",
                                               "BB" };
    assert_int_equal(vouch_store_secrets_replace(s, c, 2, NULL), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_meta_get(s, "challenge_secret", &before, NULL), VOUCH_OK);
    assert_string_equal(before, "aa");
    c[1].old_value = "bb";
    assert_int_equal(vouch_store_secrets_replace(s, c, 2, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_get(s, "other", &v, NULL), VOUCH_OK);
    assert_string_equal(v, "BB");
    free(v);
    free(before);
    vouch_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rewrap_steps, NULL, NULL),
        cmocka_unit_test(test_replace_is_all_or_nothing),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
