/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Many threads parse the SGX extension of one PCK certificate at once, as
 * the server's workers do.  The first parse creates the extension's OID;
 * under ThreadSanitizer (make tsan) an unsynchronised creation is a
 * reported race, so each case runs in a fresh process.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"
#include "testutil.h"

#define THREADS 8

struct worker {
    pthread_barrier_t *start;
    X509 *pck;
    vouch_err e;
    struct vouch_dcap_pck_info info;
};

static void *parse_pck(void *p)
{
    struct worker *w = p;

    pthread_barrier_wait(w->start);
    w->e = vouch_dcap_pck_info_parse(w->pck, &w->info, NULL);
    return NULL;
}

static void test_parallel_first_parse(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct worker w[THREADS];
    pthread_t t[THREADS];
    pthread_barrier_t start;
    struct vouch_dcap_quote q;
    STACK_OF(X509) *sk = NULL;
    uint8_t *data;
    size_t len, i;

    (void)state;
    data = test_load("tests/vectors/dcap/trustee/tdx_quote_4.dat", &len);
    assert_int_equal(vouch_dcap_quote_parse(data, len, &q, &eb), VOUCH_OK);
    assert_int_equal(vouch_x509_parse_pem_chain((const char *)q.cert_data, q.cert_len, 3, &sk,
                                                &eb), VOUCH_OK);
    assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].start = &start;
        w[i].pck = sk_X509_value(sk, 0);
        assert_int_equal(pthread_create(&t[i], NULL, parse_pck, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].e, VOUCH_OK);
        assert_memory_equal(&w[i].info, &w[0].info, sizeof(w[0].info));
    }
    pthread_barrier_destroy(&start);
    sk_X509_pop_free(sk, X509_free);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_first_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
