/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AMD SEV-SNP collateral: the verified import of KDS answers (real VCEKs,
 * cert_chains and CRLs from AMD), the store-backed source, the snp
 * verifier using a stored VCEK and CRL, and revocation, with AMD's real
 * Genoa CRL and with a test PKI made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "testutil.h"

#include "collateral/amd.h"
#include "collateral/collateral.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "vouch/evidence.h"

#define V "tests/vectors/snp/"
#define T2025_06 1750000000   /* 2025-06-15: every vector's chain and both CRLs valid */
#define T2025_01 1735689600   /* before the Milan CRL's thisUpdate */
#define MILAN_VCEK_ID "amd/vcek/Milan/c38427a3"
/* CHIP_ID of test-report.bin, the hwID of test-vcek.der */
#define CHIP "c38427a30d4c7af9d96f7a15b97269825a64cb76a2352ffd5d18115d89ad473f" \
             "8e8c0bcd9a5d9286612bad4aadfb4426205a3b9e4fea82301135a170e477524e"

struct fx {
    char dir[48];
    struct vouch_store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char url[96];

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-amd-XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/c.db", f->dir);
    if (vouch_store_open(url, &f->s, NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[80];

    vouch_store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

/* Import a vector file; returns the error and, on success, the report. */
static vouch_err import_file(struct fx *f, const char *path, int64_t now, json_t **report)
{
    struct vouch_errbuf eb;
    size_t n;
    uint8_t *d = test_load(path, &n);
    json_t *r = NULL;
    vouch_err e;

    assert_true(vouch_amd_collateral_detect(d, n));
    e = vouch_amd_collateral_import(f->s, d, n, path, now, &r, &eb);
    free(d);
    if (report)
        *report = r;
    else
        json_decref(r);
    return e;
}

static const char *entry(const json_t *report, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(report, i), key));
}

static size_t stored_count(struct fx *f)
{
    struct vouch_store_doc *docs = NULL;
    size_t n = 0;

    assert_int_equal(vouch_store_doc_list(f->s, VOUCH_COLLATERAL_KIND, "amd/", 0, 100, &docs,
                                          &n, NULL), VOUCH_OK);
    vouch_store_docs_free(docs, n);
    return n;
}

/* ------------------------------------------------------------------ */
/* Import of real KDS answers                                          */

static void test_import_real(void **state)
{
    static const struct {
        const char *file;
        size_t items;
        const char *id0, *action0;
    } cases[] = {
        { V "test-vcek.der", 1, MILAN_VCEK_ID, "stored" },
        { V "az-milan-vcek-chain.pem", 3, "amd/vcek/Milan/19752a44", "stored" },
        { V "amd-milan-cert-chain.pem", 2, "amd/ark/Milan", "pinned" },
        { V "amd-genoa-cert-chain.pem", 2, "amd/ask/Genoa", "pinned" },
        { V "amd-milan-crl.der", 1, "amd/crl/Milan", "stored" },
        { V "amd-genoa-crl.der", 1, "amd/crl/Genoa", "stored" },
        { V "az-genoa-vcek.pem", 1, "amd/vcek/Genoa/", "stored" },
        { V "virtee-vcek-turin.der", 1, "amd/vcek/Turin/1e550a8ee5cf9f4d/0-0-0-9-0", "stored" },
    };
    struct fx *f = *state;
    json_t *r = NULL;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(import_file(f, cases[i].file, T2025_06, &r), VOUCH_OK);
        assert_int_equal(json_array_size(r), cases[i].items);
        assert_true(strncmp(entry(r, 0, "id"), cases[i].id0, strlen(cases[i].id0)) == 0);
        assert_string_equal(entry(r, 0, "action"), cases[i].action0);
        json_decref(r);
    }
    /* VCEKs of three products and two CRLs; ARK/ASK never stored. */
    assert_int_equal(stored_count(f), 6);
    /* The same VCEK again changes nothing. */
    assert_int_equal(import_file(f, V "test-vcek.der", T2025_06, &r), VOUCH_OK);
    assert_string_equal(entry(r, 0, "id"), "amd/vcek/Milan/" CHIP "/3-0-8-115");
    assert_string_equal(entry(r, 0, "action"), "unchanged");
    json_decref(r);
}

/* Bad inputs are refused whole: nothing is stored. */
static void test_import_refused(void **state)
{
    static const struct {
        const char *file;
        int64_t now;
        vouch_err want;
    } cases[] = {
        { V "test-vcek-invalid-legacy.der", T2025_06, VOUCH_E_VERIFY },  /* bad signature */
        { V "test-vlek.der", T2025_06, VOUCH_E_UNSUPPORTED },           /* VLEKs travel */
        { V "test-vcek.der", 1900000000, VOUCH_E_EXPIRED },            /* 2030-03: expired */
        { V "amd-milan-crl.der", T2025_01, VOUCH_E_NOT_YET_VALID },    /* CRL from the future */
    };
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(import_file(f, cases[i].file, cases[i].now, NULL), cases[i].want);
    assert_int_equal(stored_count(f), 0);
}

static void test_import_malformed(void **state)
{
    static const char *const inputs[] = {
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        "0\x82\x01",
        "-----",
    };
    struct fx *f = *state;
    struct vouch_errbuf eb;
    json_t *r = NULL;
    size_t i;

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        const uint8_t *d = (const uint8_t *)inputs[i];

        assert_true(vouch_amd_collateral_detect(d, strlen(inputs[i])));
        assert_int_equal(vouch_amd_collateral_import(f->s, d, strlen(inputs[i]), "x", T2025_06,
                                                     &r, &eb), VOUCH_E_INVALID);
    }
    assert_false(vouch_amd_collateral_detect((const uint8_t *)" {\"a\":1}", 8));
    assert_int_equal(stored_count(f), 0);
}

/* ------------------------------------------------------------------ */
/* Test PKI: an "ARK" and an intermediate, and CRLs made here           */

static X509 *make_cert(const char *cn, long serial, EVP_PKEY *key, EVP_PKEY *signer,
                       const X509_NAME *issuer)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    ASN1_TIME_set(X509_getm_notBefore(x), (time_t)T2025_01);
    ASN1_TIME_set(X509_getm_notAfter(x), (time_t)T2025_06 + 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? issuer : n);
    X509_NAME_free(n);
    assert_true(X509_sign(x, signer, EVP_sha256()) > 0);
    return x;
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key, int64_t this_update, long revoked)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)this_update);

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    X509_CRL_set1_lastUpdate(crl, t);
    if (revoked) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();

        ASN1_INTEGER_set(sn, revoked);
        X509_REVOKED_set_serialNumber(r, sn);
        X509_REVOKED_set_revocationDate(r, t);
        X509_CRL_add0_revoked(crl, r);
        ASN1_INTEGER_free(sn);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    return crl;
}

static void test_revocation_forged(void **state)
{
    EVP_PKEY *k_ark = EVP_EC_gen("P-256"), *k_mid = EVP_EC_gen("P-256"),
             *k_other = EVP_EC_gen("P-256");
    X509 *ark = make_cert("ARK-Test", 1, k_ark, k_ark, NULL);
    X509 *mid = make_cert("SEV-Test", 5, k_mid, k_ark, X509_get_subject_name(ark));
    struct {
        const char *what;
        X509_CRL *crl;
        vouch_err want;
    } cases[] = {
        { "the intermediate revoked", make_crl(ark, k_ark, T2025_01, 5), VOUCH_E_REVOKED },
        { "another serial revoked", make_crl(ark, k_ark, T2025_01, 6), VOUCH_OK },
        { "nothing revoked", make_crl(ark, k_ark, T2025_01, 0), VOUCH_OK },
        { "signed by another key", make_crl(ark, k_other, T2025_01, 0), VOUCH_E_VERIFY },
        { "issued by the intermediate", make_crl(mid, k_mid, T2025_01, 0), VOUCH_E_VERIFY },
        { "issued after now", make_crl(ark, k_ark, T2025_06 + 1, 0), VOUCH_E_NOT_YET_VALID },
    };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vouch_err e = vouch_snp_crl_check_with(cases[i].crl, ark, mid, T2025_06, &eb);

        if (e != cases[i].want)
            fail_msg("%s: got %d (%s), want %d", cases[i].what, e, eb.msg, cases[i].want);
        X509_CRL_free(cases[i].crl);
    }
    X509_free(ark);
    X509_free(mid);
    EVP_PKEY_free(k_ark);
    EVP_PKEY_free(k_mid);
    EVP_PKEY_free(k_other);
}

static X509_CRL *load_crl(const char *path)
{
    size_t n;
    uint8_t *d = test_load(path, &n);
    X509_CRL *crl = NULL;

    assert_int_equal(vouch_crl_parse(d, n, &crl, NULL), VOUCH_OK);
    free(d);
    return crl;
}

/* AMD's real CRLs: the pinned ASKs pass; Genoa's revokes serial 0x020001. */
static void test_revocation_real(void **state)
{
    X509_CRL *milan = load_crl(V "amd-milan-crl.der"), *genoa = load_crl(V "amd-genoa-crl.der");
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *old_ask = make_cert("SEV-Genoa", 0x020001, k, k, NULL);
    struct vouch_errbuf eb;
    enum vouch_snp_product p;

    (void)state;
    assert_int_equal(vouch_snp_crl_product(milan, &p, &eb), VOUCH_OK);
    assert_int_equal(p, VOUCH_SNP_PRODUCT_MILAN);
    assert_int_equal(vouch_snp_crl_product(genoa, &p, &eb), VOUCH_OK);
    assert_int_equal(p, VOUCH_SNP_PRODUCT_GENOA);
    assert_int_equal(vouch_snp_crl_check(milan, VOUCH_SNP_PRODUCT_MILAN, VOUCH_SNP_VEK_VCEK,
                                         T2025_06, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_crl_check(milan, VOUCH_SNP_PRODUCT_MILAN, VOUCH_SNP_VEK_VLEK,
                                         T2025_06, &eb), VOUCH_OK);
    /* Twice: the second time the remembered signature is used. */
    assert_int_equal(vouch_snp_crl_check(genoa, VOUCH_SNP_PRODUCT_GENOA, VOUCH_SNP_VEK_VCEK,
                                         T2025_06, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_crl_check(genoa, VOUCH_SNP_PRODUCT_GENOA, VOUCH_SNP_VEK_VCEK,
                                         T2025_06, &eb), VOUCH_OK);
    /* Past its nextUpdate (2025-11-03) it still counts. */
    assert_int_equal(vouch_snp_crl_check(genoa, VOUCH_SNP_PRODUCT_GENOA, VOUCH_SNP_VEK_VCEK,
                                         1800000000, &eb), VOUCH_OK);
    /* Another product's CRL is not issued by this ARK. */
    assert_int_equal(vouch_snp_crl_check(genoa, VOUCH_SNP_PRODUCT_MILAN, VOUCH_SNP_VEK_VCEK,
                                         T2025_06, &eb), VOUCH_E_VERIFY);
    /* The serial AMD revoked, under the real ARK and CRL. */
    assert_int_equal(vouch_snp_crl_check_with(genoa, vouch_snp_pinned_ark(VOUCH_SNP_PRODUCT_GENOA),
                                              old_ask, T2025_06, &eb), VOUCH_E_REVOKED);
    assert_non_null(strstr(eb.msg, "revoked"));
    X509_CRL_free(milan);
    X509_CRL_free(genoa);
    X509_free(old_ask);
    EVP_PKEY_free(k);
}

/* ------------------------------------------------------------------ */
/* The source and the verifier                                         */

static vouch_err verify_e2e(struct vouch_amd_collateral *c, struct vouch_errbuf *eb)
{
    const struct vouch_verifier *v = vouch_verifier_find("snp");
    size_t n;
    uint8_t *doc = test_load(V "trustee-e2e-evidence.json", &n);
    json_t *claims = NULL;
    vouch_err e;

    assert_non_null(v);
    e = v->verify(v, c ? (void *)vouch_amd_collateral_source(c) : NULL, doc, n, NULL, T2025_06,
                  &claims, eb);
    if (!e)
        assert_string_equal(json_string_value(json_object_get(claims, "chip_id")), CHIP);
    json_decref(claims);
    free(doc);
    return e;
}

static void test_verifier_uses_store(void **state)
{
    struct fx *f = *state;
    struct vouch_amd_collateral *c = NULL;
    struct vouch_errbuf eb;
    X509_CRL *crl = NULL;

    assert_int_equal(vouch_amd_collateral_new(f->s, 0, NULL, &c, &eb), VOUCH_OK);
    /* No VCEK in the evidence, none stored. */
    assert_int_equal(verify_e2e(NULL, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_E_NOT_FOUND);
    assert_string_equal(eb.field, "cert_chain");
    assert_int_equal(vouch_amd_collateral_source(c)->get_crl(c, VOUCH_SNP_PRODUCT_MILAN, &crl,
                                                             &eb), VOUCH_E_NOT_FOUND);
    /* Imported: the stored VCEK verifies the report; then with the CRL too. */
    assert_int_equal(import_file(f, V "test-vcek.der", T2025_06, NULL), VOUCH_OK);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    assert_int_equal(import_file(f, V "amd-milan-crl.der", T2025_06, NULL), VOUCH_OK);
    assert_int_equal(vouch_amd_collateral_source(c)->get_crl(c, VOUCH_SNP_PRODUCT_MILAN, &crl,
                                                             &eb), VOUCH_OK);
    X509_CRL_free(crl);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    vouch_amd_collateral_free(c);
}

/* trustee's document with cert_chain entries made of vector files. */
static char *doc_with(const char *const types[], const char *const files[], size_t n_entries,
                      size_t *ret_len)
{
    size_t n, i, k;
    uint8_t *d = test_load(V "trustee-e2e-evidence.json", &n);
    json_t *j = NULL, *chain = json_array();
    char *out;

    assert_int_equal(vouch_json_parse(d, n, &j, NULL), VOUCH_OK);
    for (k = 0; k < n_entries; k++) {
        uint8_t *c = test_load(files[k], &n);
        json_t *data = json_array();

        for (i = 0; i < n; i++)
            json_array_append_new(data, json_integer(c[i]));
        json_array_append_new(chain, json_pack("{s:s,s:o}", "cert_type", types[k], "data", data));
        free(c);
    }
    json_object_set_new(j, "cert_chain", chain);
    out = json_dumps(j, JSON_COMPACT);
    *ret_len = strlen(out);
    json_decref(j);
    free(d);
    return out;
}

/* A CRL entry in the evidence is checked as a stored one is. */
static void test_crl_in_evidence(void **state)
{
    static const char *const types[] = { "VCEK", "CRL", "CRL" };
    static const struct {
        const char *crl1, *crl2;
        vouch_err want;
    } cases[] = {
        { V "amd-milan-crl.der", NULL, VOUCH_OK },
        { V "amd-genoa-crl.der", NULL, VOUCH_E_VERIFY },      /* not the Milan ARK's */
        { V "amd-milan-crl.der", V "amd-milan-crl.der", VOUCH_E_INVALID },
        { V "test-vcek.der", NULL, VOUCH_E_INVALID },          /* not a CRL */
    };
    const struct vouch_verifier *v = vouch_verifier_find("snp");
    struct vouch_errbuf eb;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *files[] = { V "test-vcek.der", cases[i].crl1, cases[i].crl2 };
        char *doc = doc_with(types, files, cases[i].crl2 ? 3 : 2, &n);
        json_t *claims = NULL;
        vouch_err e = v->verify(v, NULL, (const uint8_t *)doc, n, NULL, T2025_06, &claims, &eb);

        if (e != cases[i].want)
            fail_msg("case %zu: got %d (%s)", i, e, eb.msg);
        if (e)
            assert_non_null(strstr(eb.field, "cert_chain"));
        json_decref(claims);
        free(doc);
    }
}

/* With a ttl, what was read (and what was missing) is held until invalidated. */
static void test_source_ttl(void **state)
{
    struct fx *f = *state;
    struct vouch_amd_collateral *c = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_amd_collateral_new(f->s, 3600, NULL, &c, &eb), VOUCH_OK);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(import_file(f, V "test-vcek.der", T2025_06, NULL), VOUCH_OK);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_E_NOT_FOUND);
    vouch_amd_collateral_invalidate(c);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    vouch_amd_collateral_free(c);
}

/* A KDS in a table: path -> file (NULL: answers with a forged VCEK). */
struct kds {
    bool crl_missing;
    const char *vcek_file;
    size_t fetches;
    char last[256];
};

static vouch_err kds_get(void *ctx, const char *path, uint8_t **ret, size_t *ret_len,
                         struct vouch_errbuf *eb)
{
    struct kds *k = ctx;
    const char *file = NULL;

    k->fetches++;
    snprintf(k->last, sizeof(k->last), "%s", path);
    if (strcmp(path, "/vcek/v1/Milan/" CHIP "?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115") == 0)
        file = k->vcek_file;
    else if (strcmp(path, "/vcek/v1/Milan/crl") == 0 && !k->crl_missing)
        file = V "amd-milan-crl.der";
    if (!file)
        return vouch_fail(eb, VOUCH_E_IO, "404 from the KDS");
    *ret = test_load(file, ret_len);
    return VOUCH_OK;
}

static int64_t kds_clock(void *ctx)
{
    (void)ctx;
    return T2025_06;
}

/* --amd-kds-url: what the store lacks is fetched, verified, stored, used. */
static void test_fetch_missing(void **state)
{
    struct fx *f = *state;
    struct kds k = { .vcek_file = V "test-vcek.der" };
    const struct vouch_amd_fetcher fetcher = { kds_get, kds_clock, &k };
    struct vouch_amd_collateral *c = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_amd_collateral_new(f->s, 3600, &fetcher, &c, &eb), VOUCH_OK);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    assert_int_equal(k.fetches, 2);   /* the VCEK, then the CRL */
    assert_int_equal(stored_count(f), 2);
    /* Held and stored now: no more fetches. */
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    assert_int_equal(k.fetches, 2);
    vouch_amd_collateral_free(c);
}

/* A KDS that answers with a forged VCEK: refused, nothing stored. */
static void test_fetch_forged(void **state)
{
    struct fx *f = *state;
    struct kds k = { .vcek_file = V "test-vcek-invalid-legacy.der" };
    const struct vouch_amd_fetcher fetcher = { kds_get, kds_clock, &k };
    struct vouch_amd_collateral *c = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_amd_collateral_new(f->s, 0, &fetcher, &c, &eb), VOUCH_OK);
    assert_int_equal(verify_e2e(c, &eb), VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "from the KDS"));
    assert_int_equal(stored_count(f), 0);
    k.vcek_file = NULL;
    assert_int_equal(verify_e2e(c, &eb), VOUCH_E_IO);
    vouch_amd_collateral_free(c);
    /* The VCEK stored, the KDS without a CRL: verified without a CRL check. */
    assert_int_equal(import_file(f, V "test-vcek.der", T2025_06, NULL), VOUCH_OK);
    assert_int_equal(vouch_amd_collateral_new(f->s, 0, &fetcher, &c, &eb), VOUCH_OK);
    k.fetches = 0;
    k.crl_missing = true;
    assert_int_equal(verify_e2e(c, &eb), VOUCH_OK);
    assert_int_equal(k.fetches, 1);
    assert_string_equal(k.last, "/vcek/v1/Milan/crl");
    vouch_amd_collateral_free(c);
}

/* The cert_chain KDS serves: ASK (or ASVK) then ARK, the pinned ones. */
static void test_cert_chain(void **state)
{
    STACK_OF(X509) *sk = NULL;
    char *pem = vouch_amd_cert_chain_pem(VOUCH_SNP_PRODUCT_GENOA, false);

    (void)state;
    assert_non_null(pem);
    assert_int_equal(vouch_x509_parse_pem_chain(pem, strlen(pem), 4, &sk, NULL), VOUCH_OK);
    assert_int_equal(sk_X509_num(sk), 2);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), vouch_snp_pinned_ask(VOUCH_SNP_PRODUCT_GENOA)),
                     0);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 1), vouch_snp_pinned_ark(VOUCH_SNP_PRODUCT_GENOA)),
                     0);
    sk_X509_pop_free(sk, X509_free);
    free(pem);
    assert_null(vouch_amd_cert_chain_pem(VOUCH_SNP_PRODUCT_UNKNOWN, true));
    assert_int_equal(vouch_amd_product_parse("Turin"), VOUCH_SNP_PRODUCT_TURIN);
    assert_int_equal(vouch_amd_product_parse("milan"), VOUCH_SNP_PRODUCT_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_real, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_malformed, setup, teardown),
        cmocka_unit_test(test_revocation_forged),
        cmocka_unit_test(test_revocation_real),
        cmocka_unit_test_setup_teardown(test_verifier_uses_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_ttl, setup, teardown),
        cmocka_unit_test(test_crl_in_evidence),
        cmocka_unit_test_setup_teardown(test_fetch_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_forged, setup, teardown),
        cmocka_unit_test(test_cert_chain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
