/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "token/challenge.h"

static const uint8_t secret[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t other[32] = { 9 };

static void test_roundtrip_and_rejections(void **state)
{
    uint8_t nonce[32], back[32], nonce2[32];
    char *tok = NULL, *tok2 = NULL, *copy;
    int64_t exp = 0;
    size_t len, i;
    struct vouch_errbuf eb;

    (void)state;
    assert_int_equal(vouch_challenge_issue(secret, 1000, 300, nonce, &tok, &exp, NULL), VOUCH_OK);
    assert_int_equal(exp, 1300);
    len = strlen(tok);
    assert_int_equal(vouch_challenge_verify(secret, tok, len, 1299, back, NULL), VOUCH_OK);
    assert_memory_equal(back, nonce, 32);
    /* fresh nonce each time */
    assert_int_equal(vouch_challenge_issue(secret, 1000, 300, nonce2, &tok2, NULL, NULL), VOUCH_OK);
    assert_memory_not_equal(nonce, nonce2, 32);
    /* expired */
    assert_int_equal(vouch_challenge_verify(secret, tok, len, 1300, back, &eb), VOUCH_E_EXPIRED);
    /* another replica set's secret: forged */
    assert_int_equal(vouch_challenge_verify(other, tok, len, 1000, back, &eb), VOUCH_E_VERIFY);
    /* every single-character change is rejected */
    for (i = 0; i < len; i++) {
        if (tok[i] == '.')
            continue;
        copy = strdup(tok);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        if (vouch_challenge_verify(secret, copy, len, 1000, back, NULL) == VOUCH_OK)
            fail_msg("changed character %zu still verifies", i);
        free(copy);
    }
    /* splicing another token's signature onto this payload fails */
    copy = strdup(tok);
    memcpy(strrchr(copy, '.'), strrchr(tok2, '.'), strlen(strrchr(tok2, '.')));
    assert_int_equal(vouch_challenge_verify(secret, copy, len, 1000, back, NULL), VOUCH_E_VERIFY);
    free(copy);
    assert_int_equal(vouch_challenge_verify(secret, "x.y.z", 5, 1000, back, NULL), VOUCH_E_VERIFY);
    assert_int_equal(vouch_challenge_verify(secret, tok, len - 1, 1000, back, NULL),
                     VOUCH_E_VERIFY);
    free(tok);
    free(tok2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_rejections),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
