/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "token/keyring.h"

static char dir[64];
static char url[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/vouch-keyring-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/k.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[100];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_ensure_rotate_publish(void **state)
{
    struct vouch_store *s;
    struct vouch_keyring *kr = NULL, *kr2 = NULL, *kr3 = NULL;
    const struct vouch_signing_key *rs, *es;
    char old_rs[VOUCH_JWK_THUMBPRINT_LEN], new_rs[VOUCH_JWK_THUMBPRINT_LEN];
    json_t *claims = json_pack("{s:s,s:i}", "sub", "x", "exp", 2000);
    json_t *jwks, *payload;
    char *tok_old, *tok_new;
    size_t len_old, len_new;

    (void)state;
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_ensure(s, NULL, 1000, NULL), VOUCH_OK);
    /* Idempotent: a second start generates nothing new. */
    assert_int_equal(vouch_keyring_ensure(s, NULL, 1001, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_load(s, NULL, 1000, 600, &kr, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_count(kr), 2);
    rs = vouch_keyring_active(kr, VOUCH_JWS_RS256);
    es = vouch_keyring_active(kr, VOUCH_JWS_ES256);
    assert_non_null(rs);
    assert_non_null(es);
    assert_int_equal(EVP_PKEY_get_bits(rs->pkey), 2048);
    memcpy(old_rs, rs->kid, sizeof(old_rs));
    assert_int_equal(vouch_keyring_sign(kr, VOUCH_JWS_RS256, claims, 65536, &tok_old, &len_old,
                                        NULL), VOUCH_OK);

    /* Rotation: new key signs, old key still published for publish_for seconds. */
    assert_int_equal(vouch_keyring_rotate(s, NULL, VOUCH_JWS_RS256, 1100, new_rs, NULL), VOUCH_OK);
    assert_string_not_equal(new_rs, old_rs);
    assert_int_equal(vouch_keyring_load(s, NULL, 1100, 600, &kr2, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_count(kr2), 3);
    assert_string_equal(vouch_keyring_active(kr2, VOUCH_JWS_RS256)->kid, new_rs);
    assert_non_null(vouch_keyring_find(kr2, old_rs));
    assert_int_equal(vouch_keyring_jwks(kr2, &jwks, NULL), VOUCH_OK);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 3);
    json_decref(jwks);
    assert_int_equal(vouch_keyring_sign(kr2, VOUCH_JWS_RS256, claims, 65536, &tok_new, &len_new,
                                        NULL), VOUCH_OK);
    /* Both tokens verify against the new snapshot. */
    assert_int_equal(vouch_keyring_verify(kr2, tok_old, len_old, &payload, NULL), VOUCH_OK);
    json_decref(payload);
    assert_int_equal(vouch_keyring_verify(kr2, tok_new, len_new, &payload, NULL), VOUCH_OK);
    json_decref(payload);
    /* The old snapshot does not know the new key. */
    assert_int_equal(vouch_keyring_verify(kr, tok_new, len_new, NULL, NULL), VOUCH_E_VERIFY);

    /* Past retirement + publish_for, the old key leaves the JWKS. */
    assert_int_equal(vouch_keyring_load(s, NULL, 1700, 600, &kr3, NULL), VOUCH_OK);
    assert_int_equal(vouch_keyring_count(kr3), 2);
    assert_null(vouch_keyring_find(kr3, old_rs));
    assert_int_equal(vouch_keyring_verify(kr3, tok_old, len_old, NULL, NULL), VOUCH_E_VERIFY);

    free(tok_old);
    free(tok_new);
    json_decref(claims);
    vouch_keyring_unref(vouch_keyring_ref(kr));
    vouch_keyring_unref(kr);
    vouch_keyring_unref(kr2);
    vouch_keyring_unref(kr3);
    vouch_keyring_unref(NULL);
    vouch_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ensure_rotate_publish, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
