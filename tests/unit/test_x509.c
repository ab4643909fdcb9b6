/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

#include <openssl/pem.h>

#include "common/codec.h"
#include "crypto/x509.h"

/* One CRL in every encoding collateral uses, with and without whitespace. */
static void test_crl_encodings(void **state)
{
    size_t n, i;
    uint8_t *der = test_load("tests/vectors/crypto/crl_ends_in_0d.der", &n);
    char *hex = vouch_hex_alloc(der, n), *pem, *padded_hex;
    BIO *bio = BIO_new(BIO_s_mem());
    X509_CRL *crl = NULL;
    char *pemdata;
    long pemlen;

    (void)state;
    assert_int_equal(der[n - 1], 0x0d);
    assert_int_equal(vouch_crl_parse(der, n, &crl, NULL), VOUCH_OK);
    assert_non_null(crl);
    /* PEM of the same */
    PEM_write_bio_X509_CRL(bio, crl);
    pemlen = BIO_get_mem_data(bio, &pemdata);
    pem = malloc((size_t)pemlen + 3);
    memcpy(pem + 1, pemdata, (size_t)pemlen);
    pem[0] = '\n';
    pem[pemlen + 1] = '\n';
    X509_CRL_free(crl);
    padded_hex = malloc(strlen(hex) + 3);
    snprintf(padded_hex, strlen(hex) + 3, " %s\n", hex);
    {
        struct {
            const uint8_t *data;
            size_t len;
        } forms[] = {
            { (uint8_t *)hex, strlen(hex) },
            { (uint8_t *)padded_hex, strlen(padded_hex) },
            { (uint8_t *)pem, (size_t)pemlen + 2 },
        };

        for (i = 0; i < 3; i++) {
            crl = NULL;
            if (vouch_crl_parse(forms[i].data, forms[i].len, &crl, NULL) != VOUCH_OK)
                fail_msg("form %zu does not parse", i);
            X509_CRL_free(crl);
        }
    }
    /* a truncated DER and trailing garbage are refused */
    assert_int_not_equal(vouch_crl_parse(der, n - 1, &crl, NULL), VOUCH_OK);
    {
        uint8_t *longer = malloc(n + 1);

        memcpy(longer, der, n);
        longer[n] = 0;
        assert_int_not_equal(vouch_crl_parse(longer, n + 1, &crl, NULL), VOUCH_OK);
        free(longer);
    }
    BIO_free(bio);
    free(pem);
    free(padded_hex);
    free(hex);
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crl_encodings),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
