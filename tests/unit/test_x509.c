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

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

/* ------------------------------------------------------------------ */
/* Chain verification                                                  */

#define NOW 1767225600           /* 2026-01-01 */
#define DAY 86400
#define NV_TIME 1717200000       /* 2024-06-01, NVIDIA's sample chain in its life */
#define NV_EARLY 1638316800      /* 2021-12-01, before its Provisioner ICA */
#define INTEL_TIME 1752919234    /* dcap-qvl's TDX sample collateral time */
#define REVOKED_SERIAL 666

/* Certificates and CRLs the cases refer to by index (0: none). */
enum {
    NONE,
    F_ROOT, F_OTHER_ROOT, F_INTER, F_LEAF, F_LEAF_EXPIRED, F_LEAF_FUTURE, F_LEAF_REVOKED,
    F_SUB_CA, F_SUB_LEAF,
    N_LEAF, N_BROM, N_ICA, N_IDENTITY, N_ROOT, N_LEAF_BAD_SIG,
    I_PCK_CA, I_ROOT,
    NOBJ
};

enum { CRL_NONE, CRL_F_INTER, CRL_I_ROOT, NCRL };

struct pki {
    X509 *x[NOBJ];
    X509_CRL *crl[NCRL];
    EVP_PKEY *k_root, *k_other, *k_inter, *k_sub, *k_leaf;
};

/* A forged certificate: CA with pathlen (-1: none), or an end entity. */
static X509 *forge_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                        int64_t nb, int64_t na, bool ca, int pathlen, long serial)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();
    X509V3_CTX v;
    char bc[64];
    const char *ku = ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature";
    X509_EXTENSION *ext;

    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509V3_set_ctx(&v, issuer ? issuer : x, x, NULL, NULL, 0);
    if (ca && pathlen >= 0)
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
    else
        snprintf(bc, sizeof(bc), ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ext = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, bc);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &v, NID_key_usage, ku);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
    return x;
}

/* A CRL by issuer listing `serial` (0: none). */
static X509_CRL *forge_crl(X509 *issuer, EVP_PKEY *key, int64_t last, int64_t next, long serial)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)last), *u = ASN1_TIME_set(NULL, (time_t)next);

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    X509_CRL_set1_lastUpdate(crl, t);
    X509_CRL_set1_nextUpdate(crl, u);
    if (serial) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();

        ASN1_INTEGER_set(sn, serial);
        X509_REVOKED_set_serialNumber(r, sn);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(crl, r);
        ASN1_INTEGER_free(sn);
    }
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    ASN1_TIME_free(u);
    return crl;
}

static void forge_pki(struct pki *p)
{
    p->k_root = EVP_EC_gen("P-256");
    p->k_other = EVP_EC_gen("P-256");
    p->k_inter = EVP_EC_gen("P-256");
    p->k_sub = EVP_EC_gen("P-256");
    p->k_leaf = EVP_EC_gen("P-256");
    assert_true(p->k_root && p->k_other && p->k_inter && p->k_sub && p->k_leaf);
    p->x[F_ROOT] = forge_cert("Forge Root", p->k_root, NULL, NULL, NOW - 3650 * DAY,
                              NOW + 3650 * DAY, true, -1, 1);
    /* Same name, another key: an anchor that did not sign anything here. */
    p->x[F_OTHER_ROOT] = forge_cert("Forge Root", p->k_other, NULL, NULL, NOW - 3650 * DAY,
                                    NOW + 3650 * DAY, true, -1, 1);
    p->x[F_INTER] = forge_cert("Forge CA", p->k_inter, p->x[F_ROOT], p->k_root,
                               NOW - 365 * DAY, NOW + 3650 * DAY, true, 0, 2);
    p->x[F_LEAF] = forge_cert("Forge Leaf", p->k_leaf, p->x[F_INTER], p->k_inter, NOW - DAY,
                              NOW + 365 * DAY, false, -1, 10);
    p->x[F_LEAF_EXPIRED] = forge_cert("Forge Leaf", p->k_leaf, p->x[F_INTER], p->k_inter,
                                      NOW - 300 * DAY, NOW - DAY, false, -1, 11);
    p->x[F_LEAF_FUTURE] = forge_cert("Forge Leaf", p->k_leaf, p->x[F_INTER], p->k_inter,
                                     NOW + DAY, NOW + 300 * DAY, false, -1, 12);
    p->x[F_LEAF_REVOKED] = forge_cert("Forge Leaf", p->k_leaf, p->x[F_INTER], p->k_inter,
                                      NOW - DAY, NOW + 365 * DAY, false, -1, REVOKED_SERIAL);
    /* A CA under the pathlen:0 CA, and its leaf: one CA too many. */
    p->x[F_SUB_CA] = forge_cert("Forge Sub CA", p->k_sub, p->x[F_INTER], p->k_inter,
                                NOW - DAY, NOW + 365 * DAY, true, -1, 13);
    p->x[F_SUB_LEAF] = forge_cert("Forge Sub Leaf", p->k_leaf, p->x[F_SUB_CA], p->k_sub,
                                  NOW - DAY, NOW + 365 * DAY, false, -1, 14);
    p->crl[CRL_F_INTER] = forge_crl(p->x[F_INTER], p->k_inter, NOW - DAY, NOW + 30 * DAY,
                                    REVOKED_SERIAL);
}

/* NVIDIA's 5-certificate sample chain, its root, and the leaf with one signature bit off. */
static void load_nvidia(struct pki *p)
{
    size_t n, dlen;
    char *pem = (char *)test_load("tests/vectors/nvgpu/nvtrust_hopperCertChain.txt", &n);
    char *root = (char *)test_load("tests/vectors/nvgpu/verifier_device_root.pem", &dlen);
    STACK_OF(X509) *sk = NULL, *rk = NULL;
    unsigned char *der = NULL;
    const unsigned char *q;
    int i, len;

    assert_int_equal(vouch_x509_parse_pem_chain(pem, n, 8, &sk, NULL), VOUCH_OK);
    assert_int_equal(sk_X509_num(sk), 5);
    for (i = 0; i < 4; i++)
        p->x[N_LEAF + i] = sk_X509_shift(sk);
    assert_int_equal(vouch_x509_parse_pem_chain(root, dlen, 1, &rk, NULL), VOUCH_OK);
    p->x[N_ROOT] = sk_X509_shift(rk);
    len = i2d_X509(p->x[N_LEAF], &der);
    assert_true(len > 0);
    der[len - 1] ^= 0x01;       /* the last byte of the ECDSA signature's s */
    q = der;
    p->x[N_LEAF_BAD_SIG] = d2i_X509(NULL, &q, len);
    assert_non_null(p->x[N_LEAF_BAD_SIG]);
    OPENSSL_free(der);
    sk_X509_pop_free(sk, X509_free);
    sk_X509_pop_free(rk, X509_free);
    free(pem);
    free(root);
}

/* Intel's PCK Platform CA and root, and the root CA CRL, from dcap-qvl's collateral. */
static void load_intel(struct pki *p)
{
    size_t n;
    char *text = (char *)test_load("tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json",
                                   &n);
    json_t *j = json_loadb(text, n, 0, NULL);
    const char *chain = json_string_value(json_object_get(j, "pck_crl_issuer_chain"));
    const char *crl = json_string_value(json_object_get(j, "root_ca_crl"));
    STACK_OF(X509) *sk = NULL;

    assert_non_null(chain);
    assert_non_null(crl);
    assert_int_equal(vouch_x509_parse_pem_chain(chain, strlen(chain), 4, &sk, NULL), VOUCH_OK);
    assert_int_equal(sk_X509_num(sk), 2);
    p->x[I_PCK_CA] = sk_X509_shift(sk);
    p->x[I_ROOT] = sk_X509_shift(sk);
    assert_int_equal(vouch_crl_parse((const uint8_t *)crl, strlen(crl), &p->crl[CRL_I_ROOT],
                                     NULL),
                     VOUCH_OK);
    sk_X509_free(sk);
    json_decref(j);
    free(text);
}

static void pki_free(struct pki *p)
{
    int i;

    for (i = 0; i < NOBJ; i++)
        X509_free(p->x[i]);
    for (i = 0; i < NCRL; i++)
        X509_CRL_free(p->crl[i]);
    EVP_PKEY_free(p->k_root);
    EVP_PKEY_free(p->k_other);
    EVP_PKEY_free(p->k_inter);
    EVP_PKEY_free(p->k_sub);
    EVP_PKEY_free(p->k_leaf);
}

struct chain_case {
    const char *name;
    int leaf;
    int untrusted[4];          /* 0-terminated */
    int roots[2];              /* 0-terminated */
    int crl;
    int64_t now;
    unsigned flags;
    vouch_err want;
    const char *msg;           /* expected in the message on failure */
};

static const struct chain_case chain_cases[] = {
    /* forged PKI: root -> CA (pathlen 0) -> leaf */
    { "forged: good chain", F_LEAF, { F_INTER }, { F_ROOT }, 0, NOW, 0, VOUCH_OK, NULL },
    { "forged: good chain, CRL checked", F_LEAF, { F_INTER }, { F_ROOT }, CRL_F_INTER, NOW,
      VOUCH_CHAIN_CRL_LEAF, VOUCH_OK, NULL },
    { "forged: wrong anchor (same name, other key)", F_LEAF, { F_INTER }, { F_OTHER_ROOT }, 0,
      NOW, 0, VOUCH_E_VERIFY, "Forge CA" },
    { "forged: root only among the untrusted", F_LEAF, { F_INTER, F_ROOT }, { F_OTHER_ROOT }, 0,
      NOW, 0, VOUCH_E_VERIFY, NULL },
    { "forged: no intermediate", F_LEAF, { 0 }, { F_ROOT }, 0, NOW, 0, VOUCH_E_VERIFY,
      "Forge Leaf" },
    { "forged: expired leaf", F_LEAF_EXPIRED, { F_INTER }, { F_ROOT }, 0, NOW, 0,
      VOUCH_E_EXPIRED, "expired" },
    { "forged: expired leaf, time not checked", F_LEAF_EXPIRED, { F_INTER }, { F_ROOT }, 0, NOW,
      VOUCH_CHAIN_NO_TIME, VOUCH_OK, NULL },
    { "forged: expired leaf, valid at an earlier now", F_LEAF_EXPIRED, { F_INTER }, { F_ROOT },
      0, NOW - 100 * DAY, 0, VOUCH_OK, NULL },
    { "forged: not yet valid leaf", F_LEAF_FUTURE, { F_INTER }, { F_ROOT }, 0, NOW, 0,
      VOUCH_E_NOT_YET_VALID, "not yet valid" },
    { "forged: revoked leaf", F_LEAF_REVOKED, { F_INTER }, { F_ROOT }, CRL_F_INTER, NOW,
      VOUCH_CHAIN_CRL_LEAF, VOUCH_E_REVOKED, "revoked" },
    { "forged: revoked leaf, no CRL asked for", F_LEAF_REVOKED, { F_INTER }, { F_ROOT },
      CRL_F_INTER, NOW, 0, VOUCH_OK, NULL },
    { "forged: CRL required but absent", F_LEAF, { F_INTER }, { F_ROOT }, 0, NOW,
      VOUCH_CHAIN_CRL_LEAF, VOUCH_E_VERIFY, "CRL" },
    { "forged: CRL past its nextUpdate", F_LEAF, { F_INTER }, { F_ROOT }, CRL_F_INTER,
      NOW + 60 * DAY, VOUCH_CHAIN_CRL_LEAF, VOUCH_E_EXPIRED, "CRL has expired" },
    { "forged: stale CRL accepted when asked", F_LEAF, { F_INTER }, { F_ROOT }, CRL_F_INTER,
      NOW + 60 * DAY, VOUCH_CHAIN_CRL_LEAF | VOUCH_CHAIN_CRL_STALE_OK, VOUCH_OK, NULL },
    { "forged: path too long (CA under a pathlen:0 CA)", F_SUB_LEAF, { F_SUB_CA, F_INTER },
      { F_ROOT }, 0, NOW, 0, VOUCH_E_VERIFY, "path length" },
    /* NVIDIA's real device chain */
    { "nvidia: good chain", N_LEAF, { N_BROM, N_ICA, N_IDENTITY }, { N_ROOT }, 0, NV_TIME, 0,
      VOUCH_OK, NULL },
    { "nvidia: wrong anchor (Intel's root)", N_LEAF, { N_BROM, N_ICA, N_IDENTITY }, { I_ROOT },
      0, NV_TIME, 0, VOUCH_E_VERIFY, NULL },
    { "nvidia: before its ICA was valid", N_LEAF, { N_BROM, N_ICA, N_IDENTITY }, { N_ROOT }, 0,
      NV_EARLY, 0, VOUCH_E_NOT_YET_VALID, "not yet valid" },
    { "nvidia: leaf signature altered", N_LEAF_BAD_SIG, { N_BROM, N_ICA, N_IDENTITY },
      { N_ROOT }, 0, NV_TIME, 0, VOUCH_E_VERIFY, "signature" },
    { "nvidia: a link missing", N_LEAF, { N_BROM, N_IDENTITY }, { N_ROOT }, 0, NV_TIME, 0,
      VOUCH_E_VERIFY, NULL },
    /* Intel's real PCK Platform CA, checked against the root CA CRL */
    { "intel: PCK CA to the root, CRL checked", I_PCK_CA, { 0 }, { I_ROOT }, CRL_I_ROOT,
      INTEL_TIME, VOUCH_CHAIN_CRL_LEAF, VOUCH_OK, NULL },
    { "intel: wrong anchor (NVIDIA's root)", I_PCK_CA, { I_ROOT }, { N_ROOT }, 0, INTEL_TIME, 0,
      VOUCH_E_VERIFY, NULL },
    { "intel: a CRL from another issuer", I_PCK_CA, { 0 }, { I_ROOT }, CRL_F_INTER, INTEL_TIME,
      VOUCH_CHAIN_CRL_LEAF, VOUCH_E_VERIFY, NULL },
};

static STACK_OF(X509) *stack_of(const struct pki *p, const int *idx, size_t max)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    size_t i;

    for (i = 0; i < max && idx[i]; i++)
        sk_X509_push(sk, p->x[idx[i]]);
    return sk;
}

static void run_chain_case(const struct pki *p, const struct chain_case *c)
{
    STACK_OF(X509) *untrusted = stack_of(p, c->untrusted, 4);
    STACK_OF(X509) *roots = stack_of(p, c->roots, 2);
    STACK_OF(X509_CRL) *crls = NULL;
    STACK_OF(X509) *got = NULL;
    struct vouch_errbuf eb;
    vouch_err e;

    if (c->crl) {
        crls = sk_X509_CRL_new_null();
        sk_X509_CRL_push(crls, p->crl[c->crl]);
    }
    memset(&eb, 0, sizeof(eb));
    e = vouch_x509_verify_chain_get(p->x[c->leaf], untrusted, roots, crls, c->now, c->flags,
                                    &got, &eb);
    if (e != c->want)
        fail_msg("%s: got %s (%s), want %s", c->name, vouch_err_name(e), eb.msg,
                 vouch_err_name(c->want));
    if (c->msg && !strstr(eb.msg, c->msg))
        fail_msg("%s: message '%s' lacks '%s'", c->name, eb.msg, c->msg);
    if (!e) {
        /* The chain as verified ends at the pinned anchor itself. */
        assert_non_null(got);
        assert_int_equal(X509_cmp(sk_X509_value(got, sk_X509_num(got) - 1),
                                  p->x[c->roots[0]]), 0);
        assert_int_equal(X509_cmp(sk_X509_value(got, 0), p->x[c->leaf]), 0);
    } else {
        assert_null(got);
    }
    sk_X509_pop_free(got, X509_free);
    sk_X509_CRL_free(crls);
    sk_X509_free(untrusted);
    sk_X509_free(roots);
}

static void test_verify_chain(void **state)
{
    struct pki p;
    size_t i;

    (void)state;
    memset(&p, 0, sizeof(p));
    forge_pki(&p);
    load_nvidia(&p);
    load_intel(&p);
    for (i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++)
        run_chain_case(&p, &chain_cases[i]);
    /* The same, with the decoded-certificate cache dropped in between: only parsing is cached. */
    vouch_x509_cache_clear();
    for (i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++)
        run_chain_case(&p, &chain_cases[i]);
    pki_free(&p);
}

/* Decoding is shared: the same DER twice gives the same object, and bad DER is refused. */
static void test_decode_cache(void **state)
{
    size_t n;
    char *pem = (char *)test_load("tests/vectors/nvgpu/nvtrust_hopperCertChain.txt", &n);
    STACK_OF(X509) *a = NULL, *b = NULL;
    unsigned char *der = NULL;
    X509 *x = NULL;
    int len;

    (void)state;
    vouch_x509_cache_clear();
    assert_int_equal(vouch_x509_parse_pem_chain(pem, n, 8, &a, NULL), VOUCH_OK);
    assert_int_equal(vouch_x509_parse_pem_chain(pem, n, 8, &b, NULL), VOUCH_OK);
    assert_ptr_equal(sk_X509_value(a, 0), sk_X509_value(b, 0));
    assert_int_equal(vouch_x509_parse_pem_chain(pem, n, 4, &b, NULL), VOUCH_E_TOO_LARGE);
    len = i2d_X509(sk_X509_value(a, 0), &der);
    assert_int_equal(vouch_x509_parse_der(der, (size_t)len, &x, NULL), VOUCH_OK);
    assert_ptr_equal(x, sk_X509_value(a, 0));
    X509_free(x);
    assert_int_not_equal(vouch_x509_parse_der(der, (size_t)len - 1, &x, NULL), VOUCH_OK);
    OPENSSL_free(der);
    sk_X509_pop_free(a, X509_free);
    sk_X509_pop_free(b, X509_free);
    free(pem);
}

/*
 * A subject longer than the buffer is cut between UTF-8 characters, never
 * inside one ("CN = " is 5 bytes, so the cut falls at byte size - 1).
 */
static void test_subject_cut(void **state)
{
    static const struct {
        const char *cn;
        size_t size;
        const char *want;
    } cases[] = {
        { "abcdefghij", 16, "CN = abcdefghij" },
        { "abcdefghijk", 16, "CN = abcdefghij" },
        { "abcdefgh\xe2\x82\xacz", 16, "CN = abcdefgh" },
        { "abcdefgh\xe2\x82\xacz", 17, "CN = abcdefgh\xe2\x82\xac" },
        { "abcdefghi\xc3\xa9", 16, "CN = abcdefghi" },
        { "abcdefgh\xf0\x9f\x98\x80", 17, "CN = abcdefgh" },
        { "abcdefgh\xf0\x9f\x98\x80", 18, "CN = abcdefgh\xf0\x9f\x98\x80" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *x = X509_new();
        X509_NAME *n = X509_NAME_new();
        char buf[32];

        assert_non_null(x);
        assert_non_null(n);
        assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                                    (const unsigned char *)cases[i].cn, -1,
                                                    -1, 0), 1);
        assert_int_equal(X509_set_subject_name(x, n), 1);
        vouch_x509_subject(x, buf, cases[i].size);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf, cases[i].want);
        X509_NAME_free(n);
        X509_free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crl_encodings),
        cmocka_unit_test(test_verify_chain),
        cmocka_unit_test(test_decode_cache),
        cmocka_unit_test(test_subject_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
