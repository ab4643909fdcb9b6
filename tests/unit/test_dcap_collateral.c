/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Collateral documents on real Intel PCS data: the exact signed bytes of a
 * PCS body, TCB Info v2 and v3, QE identity, the TCB signing chain, CRLs in
 * DER, PEM and hex, the pinned root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"

#include "common/codec.h"
#include "common/json.h"
#include "crypto/digest.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"

#define V "tests/vectors/dcap/"
#define AZ V "teepot/sgx_quote_verification/azure/"
#define SW V "teepot/sgx_quote_verification/sw_hardening/"

static char *load(const char *path, size_t *ret_len)
{
    return (char *)test_load(path, ret_len);
}

static void test_pinned_root(void **state)
{
    static const char want[] =
        "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";
    uint8_t fpr[32];
    char hex[65];

    (void)state;
    assert_non_null(vouch_dcap_intel_root());
    assert_int_equal(vouch_x509_fingerprint(vouch_dcap_intel_root(), fpr), VOUCH_OK);
    vouch_hex_encode(fpr, 32, hex);
    assert_string_equal(hex, want);
}

/* The PCS body's inner object is byte-identical to the Phala-format string. */
static void test_split_signed(void **state)
{
    const char *inner, *sig;
    size_t n, inner_n, sig_n;
    char *body = load(AZ "tcb_info.json", &n);
    json_t *phala;
    struct vouch_errbuf eb = { "" };

    (void)state;
    while (n && body[n - 1] == '\0')
        n--;
    assert_int_equal(vouch_dcap_split_signed(body, n, "tcbInfo", &inner, &inner_n, &sig, &sig_n,
                                             &eb), VOUCH_OK);
    assert_int_equal(sig_n, 128);
    assert_int_equal(vouch_json_load_file(V "phala_format/teepot_azure.json", 1 << 20, &phala,
                                          &eb), VOUCH_OK);
    assert_int_equal(inner_n, strlen(json_string_value(json_object_get(phala, "tcb_info"))));
    assert_memory_equal(inner, json_string_value(json_object_get(phala, "tcb_info")), inner_n);
    assert_memory_equal(sig, json_string_value(json_object_get(phala, "tcb_info_signature")),
                        128);
    /* Whitespace and key order around it do not matter; the inner bytes are kept. */
    {
        char buf[16384];
        int k = snprintf(buf, sizeof(buf), " {\n \"signature\" : \"%.*s\",\n \"tcbInfo\" :  %.*s }",
                         (int)sig_n, sig, (int)inner_n, inner);
        const char *i2, *s2;
        size_t i2n, s2n;

        assert_int_equal(vouch_dcap_split_signed(buf, (size_t)k, "tcbInfo", &i2, &i2n, &s2, &s2n,
                                                 &eb), VOUCH_OK);
        assert_int_equal(i2n, inner_n);
        assert_memory_equal(i2, inner, inner_n);
    }
    assert_int_equal(vouch_dcap_split_signed(body, n, "enclaveIdentity", &inner, &inner_n, &sig,
                                             &sig_n, &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_dcap_split_signed("{\"tcbInfo\":{}", 13, "tcbInfo", &inner, &inner_n,
                                             &sig, &sig_n, &eb), VOUCH_E_INVALID);
    /*
     * Keys are matched whole: a short key at the end of the body (found by
     * fuzz_dcap_collateral: it was compared with "signature" past the
     * buffer's end), a longer key that starts like one of ours, a prefix.
     * Each body is copied to a buffer of its exact size so ASan sees any
     * overread.
     */
    {
        static const char *const bodies[] = {
            "{\"ete\":\"2Z\",\"\":\"268f\"}",
            "{\"tcbInfoX\":{},\"signatureX\":\"00\"}",
            "{\"tcbInf\":{},\"signatur\":\"00\"}",
        };
        size_t i;

        for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            size_t len = strlen(bodies[i]);
            char *exact = malloc(len);

            memcpy(exact, bodies[i], len);
            assert_int_equal(vouch_dcap_split_signed(exact, len, "tcbInfo", &inner, &inner_n,
                                                     &sig, &sig_n, &eb), VOUCH_E_INVALID);
            free(exact);
        }
    }
    json_decref(phala);
    free(body);
}

static void load_signed(const char *path, const char *key, char **ret_body, const char **inner,
                        size_t *inner_n, const char **sig, size_t *sig_n)
{
    size_t n;
    char *body = load(path, &n);
    struct vouch_errbuf eb = { "" };

    while (n && body[n - 1] == '\0')
        n--;
    if (vouch_dcap_split_signed(body, n, key, inner, inner_n, sig, sig_n, &eb))
        fail_msg("%s: %s", path, eb.msg);
    *ret_body = body;
}

static void test_tcb_info(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_tcb_info *ti = NULL;
    struct vouch_dcap_window w;
    EVP_PKEY *key = NULL;
    const char *inner, *sig;
    size_t inner_n, sig_n, chain_n, i;
    char *body, *chain = load(SW "tcb_info_issuer_chain.pem", &chain_n);

    (void)state;
    /* v2 (PCS API v3). */
    load_signed(SW "tcb_info.json", "tcbInfo", &body, &inner, &inner_n, &sig, &sig_n);
    assert_int_equal(vouch_dcap_tcb_info_parse(inner, inner_n, sig, sig_n, &ti, &eb), VOUCH_OK);
    assert_int_equal(ti->version, 2);
    assert_int_equal(ti->tee, VOUCH_DCAP_TEE_SGX);
    assert_true(ti->n_levels > 1);
    for (i = 1; i < ti->n_levels; i++)
        assert_true(memcmp(ti->levels[i - 1].sgx_svn, ti->levels[i].sgx_svn, 16) > 0 ||
                    (memcmp(ti->levels[i - 1].sgx_svn, ti->levels[i].sgx_svn, 16) == 0 &&
                     ti->levels[i - 1].pce_svn > ti->levels[i].pce_svn));
    assert_int_equal(ti->body_len, inner_n);
    assert_memory_equal(ti->body, inner, inner_n);
    assert_int_equal(vouch_dcap_signing_chain_verify(chain, chain_n, vouch_dcap_intel_root(),
                                                     NULL, &key, &w, &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_tcb_info_verify_sig(ti, key, &eb), VOUCH_OK);
    /* One flipped signature byte. */
    ti->signature[10] ^= 1;
    assert_int_equal(vouch_dcap_tcb_info_verify_sig(ti, key, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "tcb info:"));
    vouch_dcap_tcb_info_free(ti);
    free(body);

    /* v3 TDX (PCS API v4) with module identities. */
    {
        json_t *j;
        const char *t, *s;

        assert_int_equal(vouch_json_load_file(V "phala_format/teepot_tdx_1.json", 1 << 20, &j,
                                              &eb), VOUCH_OK);
        t = json_string_value(json_object_get(j, "tcb_info"));
        s = json_string_value(json_object_get(j, "tcb_info_signature"));
        assert_int_equal(vouch_dcap_tcb_info_parse(t, strlen(t), s, strlen(s), &ti, &eb),
                         VOUCH_OK);
        assert_int_equal(ti->version, 3);
        assert_int_equal(ti->tee, VOUCH_DCAP_TEE_TDX);
        assert_true(ti->has_tdx_module);
        assert_true(ti->n_module_ids >= 1);
        assert_int_equal(vouch_dcap_tcb_info_verify_sig(ti, key, &eb), VOUCH_OK);
        vouch_dcap_tcb_info_free(ti);
        json_decref(j);
    }
    EVP_PKEY_free(key);
    free(chain);
}

static void test_tcb_info_invalid(void **state)
{
    static const char sig[] = "00000000000000000000000000000000000000000000000000000000000000"
                              "000000000000000000000000000000000000000000000000000000000000000000";
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        { "[]", "not a JSON object" },
        { "{\"version\":4}", "version 4" },
        { "{\"version\":3,\"id\":\"XYZ\"}", "neither SGX nor TDX" },
        { "{\"version\":2,\"issueDate\":\"x\"}", "issueDate" },
        { "{\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
          "\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A\"}", "fmspc" },
        { "{\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
          "\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A000000\",\"pceId\":\"0000\",\"tcbType\":1}",
          "tcbType" },
        { "{\"version\":2,\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
          "\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A000000\",\"pceId\":\"0000\",\"tcbType\":0,"
          "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}", "tcbLevels" },
        { "{\"version\":3,\"id\":\"TDX\",\"issueDate\":\"2025-01-01T00:00:00Z\",\"nextUpdate\":"
          "\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A000000\",\"pceId\":\"0000\",\"tcbType\":0,"
          "\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}", "tdxModule" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_tcb_info *ti = NULL;
        vouch_err e = vouch_dcap_tcb_info_parse(cases[i].json, strlen(cases[i].json), sig, 128,
                                                &ti, &eb);

        if (e == VOUCH_OK || !strstr(eb.msg, cases[i].msg))
            fail_msg("case %zu: %s '%s'", i, vouch_err_name(e), eb.msg);
        assert_null(ti);
    }
}

static void test_qe_identity(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_qe_identity *qi = NULL;
    struct vouch_dcap_window w;
    EVP_PKEY *key = NULL;
    const char *inner, *sig;
    size_t inner_n, sig_n, chain_n;
    char *body, *chain = load(AZ "qe_identity_issuer_chain.pem", &chain_n);

    (void)state;
    load_signed(AZ "qe_identity.json", "enclaveIdentity", &body, &inner, &inner_n, &sig, &sig_n);
    assert_int_equal(vouch_dcap_qe_identity_parse(inner, inner_n, sig, sig_n, &qi, &eb),
                     VOUCH_OK);
    assert_string_equal(qi->id, "QE");
    assert_int_equal(qi->isvprodid, 1);
    assert_true(qi->n_levels > 1);
    assert_true(qi->levels[0].isvsvn > qi->levels[1].isvsvn);
    assert_int_equal(vouch_dcap_signing_chain_verify(chain, chain_n, vouch_dcap_intel_root(),
                                                     NULL, &key, &w, &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_qe_identity_verify_sig(qi, key, &eb), VOUCH_OK);
    /* The old TCB signing certificate expired 2025-05-21 (edge case 8). */
    assert_true(w.not_after < 1747785600 + 86400);
    vouch_dcap_qe_identity_free(qi);
    /* Against another trust anchor (here: the PCK Platform CA of a real quote). */
    {
        STACK_OF(X509) *sk = NULL;
        size_t qn;
        char *q = load(V "dcap-qvl/sample/tdx_quote", &qn);
        const char *pem = memmem(q, qn, "-----BEGIN", 10);
        EVP_PKEY *k2 = NULL;

        assert_non_null(pem);
        assert_int_equal(vouch_x509_parse_pem_chain(pem, qn - (size_t)(pem - q), 3, &sk, &eb),
                         VOUCH_OK);
        assert_int_equal(vouch_dcap_signing_chain_verify(chain, chain_n, sk_X509_value(sk, 1),
                                                         NULL, &k2, &w, &eb), VOUCH_E_VERIFY);
        assert_non_null(strstr(eb.msg, "not the trusted root"));
        sk_X509_pop_free(sk, X509_free);
        free(q);
    }
    EVP_PKEY_free(key);
    free(body);
    free(chain);
}

/* DER (teepot), PEM (Azure) and hex (Phala format) CRLs all verify against their issuer. */
static void test_crls(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_window w;
    X509_CRL *crl = NULL;
    int64_t num;
    size_t n;
    char *der = load(SW "root_ca_crl.der", &n), *pem, *hex;
    size_t pn, hn;
    json_t *j;

    (void)state;
    while (n && der[n - 1] == 0 && n > 293)
        n--;
    assert_int_equal(vouch_dcap_crl_verify((uint8_t *)der, n, vouch_dcap_intel_root(), &crl, &w,
                                           &num, &eb), VOUCH_OK);
    assert_int_equal(num, 1);
    assert_true(w.not_after > w.not_before);
    X509_CRL_free(crl);
    pem = load(AZ "root_ca_crl.pem", &pn);
    assert_int_equal(vouch_dcap_crl_verify((uint8_t *)pem, pn, vouch_dcap_intel_root(), &crl, &w,
                                           &num, &eb), VOUCH_OK);
    X509_CRL_free(crl);
    assert_int_equal(vouch_json_load_file(V "phala_format/teepot_azure.json", 1 << 20, &j, &eb),
                     VOUCH_OK);
    hex = (char *)json_string_value(json_object_get(j, "root_ca_crl"));
    hn = strlen(hex);
    assert_int_equal(vouch_dcap_crl_verify((uint8_t *)hex, hn, vouch_dcap_intel_root(), &crl, &w,
                                           &num, &eb), VOUCH_OK);
    X509_CRL_free(crl);
    /* A PCK CRL is not signed by the root. */
    hex = (char *)json_string_value(json_object_get(j, "pck_crl"));
    assert_int_equal(vouch_dcap_crl_verify((uint8_t *)hex, strlen(hex), vouch_dcap_intel_root(),
                                           &crl, &w, &num, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "issuer"));
    /* Garbage. */
    assert_int_equal(vouch_dcap_crl_verify((const uint8_t *)"nope", 4, vouch_dcap_intel_root(),
                                           &crl, &w, &num, &eb), VOUCH_E_INVALID);
    json_decref(j);
    free(der);
    free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_root),
        cmocka_unit_test(test_split_signed),
        cmocka_unit_test(test_tcb_info),
        cmocka_unit_test(test_tcb_info_invalid),
        cmocka_unit_test(test_qe_identity),
        cmocka_unit_test(test_crls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
