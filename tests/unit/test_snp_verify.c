/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SEV-SNP verification on real reports and AMD certificates
 * (tests/vectors/snp, see PROVENANCE.md): the pinned roots are AMD's,
 * every real report verifies with its VEK through the pinned chain, and
 * each rule fails on its own when broken: a flipped byte, a VCEK of
 * another chip, a TCB mismatch, a wrong ARK, an expired or not yet valid
 * certificate, a VEK whose signature is bad, the wrong signer role.  Then
 * the tee=snp verifier on trustee's evidence document.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "testutil.h"

#include "common/codec.h"
#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/snp/snp.h"
#include "vouch/evidence.h"

#define V "tests/vectors/snp/"
#define T2025_06 1748736000   /* 2025-06-01T00:00:00Z: every VEK valid */
#define T2026_01 1767225600   /* 2026-01-01: the VLEK expired on 2025-12-10 */
#define T2031_01 1924992000   /* 2031-01-01: test-vcek.der expired on 2030-01-24 */
#define T2020_01 1577836800   /* 2020-01-01: before every VEK */

static X509 *load_cert(const char *path)
{
    struct vouch_errbuf eb;
    X509 *x = NULL;

    if (vouch_x509_load_file(path, &x, &eb))
        fail_msg("%s: %s", path, eb.msg);
    return x;
}

static void load_report(const char *path, struct vouch_snp_report *r, size_t flip)
{
    struct vouch_errbuf eb;
    size_t n;
    uint8_t *d = test_load(path, &n);

    if (flip)
        d[flip] ^= 0x01;
    if (vouch_snp_report_parse(d, n, r, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(d);
}

static void test_pinned_roots(void **state)
{
    enum vouch_snp_product p;
    const char *(*pem[3])(enum vouch_snp_product) = { vouch_snp_ark_pem, vouch_snp_ask_pem,
                                                      vouch_snp_asvk_pem };
    const char *(*fp[3])(enum vouch_snp_product) = { vouch_snp_ark_sha256, vouch_snp_ask_sha256,
                                                     vouch_snp_asvk_sha256 };
    int k;

    (void)state;
    for (p = VOUCH_SNP_PRODUCT_MILAN; p < VOUCH_SNP_PRODUCT__COUNT; p++) {
        for (k = 0; k < 3; k++) {
            STACK_OF(X509) *sk = NULL;
            uint8_t d[32];
            char hex[65];

            assert_int_equal(vouch_x509_parse_pem_chain(pem[k](p), strlen(pem[k](p)), 1, &sk,
                                                        NULL), VOUCH_OK);
            assert_int_equal(vouch_x509_fingerprint(sk_X509_value(sk, 0), d), VOUCH_OK);
            vouch_hex_encode(d, 32, hex);
            assert_string_equal(hex, fp[k](p));
            sk_X509_pop_free(sk, X509_free);
        }
    }
    assert_null(vouch_snp_ark_pem(VOUCH_SNP_PRODUCT_UNKNOWN));
}

struct good {
    const char *report, *vek;
    int64_t now;
};

static const struct good goods[] = {
    { V "test-report.bin", V "test-vcek.der", T2025_06 },
    { V "az-milan-v2-report.bin", V "az-milan-vcek-chain.pem", T2025_06 },
    { V "az-milan-v3-report.bin", V "az-milan-v3-vcek.der", T2025_06 },
    { V "az-genoa-v3-report.bin", V "az-genoa-vcek.pem", T2025_06 },
    { V "test-vlek-report.bin", V "test-vlek.der", T2025_06 },
    { V "virtee-report-milan.bin", V "virtee-vcek-milan.der", T2025_06 },
    { V "go-sev-guest-attestation.bin", V "go-sev-guest-vcek.der", T2025_06 },
};

static void test_real_reports_verify(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    size_t i;
    unsigned pass;

    (void)state;
    for (pass = 0; pass < 2; pass++) {   /* chain verified, then from the cache */
        for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
            X509 *vek = load_cert(goods[i].vek);

            load_report(goods[i].report, &r, 0);
            if (vouch_snp_verify_report(&r, vek, NULL, goods[i].now, 0, &eb))
                fail_msg("%s: %s", goods[i].report, eb.msg);
            X509_free(vek);
        }
    }
    vouch_snp_cache_clear();
}

struct bad {
    const char *name, *report, *vek;
    size_t flip;              /* report byte whose low bit is flipped; 0 none */
    int64_t now;
    unsigned flags;
    vouch_err want;
    const char *msg;          /* a piece of the message */
};

static const struct bad bads[] = {
    { "flipped image_id byte", V "test-report.bin", V "test-vcek.der", 42, T2025_06, 0,
      VOUCH_E_VERIFY, "report signature" },
    { "flipped measurement byte", V "az-genoa-v3-report.bin", V "az-genoa-vcek.pem",
      VOUCH_SNP_OFF_MEASUREMENT, T2025_06, 0, VOUCH_E_VERIFY, "report signature" },
    { "VCEK of another chip", V "az-milan-v2-report.bin", V "test-vcek.der", 0, T2025_06, 0,
      VOUCH_E_VERIFY, "CHIP_ID" },
    { "TCB mismatch (boot loader)", V "test-report.bin", V "test-vcek.der",
      VOUCH_SNP_OFF_REPORTED_TCB, T2025_06, 0, VOUCH_E_VERIFY, "blSPL" },
    { "TCB mismatch (microcode)", V "az-milan-v3-report.bin", V "az-milan-v3-vcek.der",
      VOUCH_SNP_OFF_REPORTED_TCB + 7, T2025_06, 0, VOUCH_E_VERIFY, "ucodeSPL" },
    { "expired VCEK", V "test-report.bin", V "test-vcek.der", 0, T2031_01, VOUCH_SNP_NO_CACHE,
      VOUCH_E_EXPIRED, "chain" },
    { "expired VLEK", V "test-vlek-report.bin", V "test-vlek.der", 0, T2026_01, 0,
      VOUCH_E_EXPIRED, "chain" },
    { "VCEK not valid yet", V "test-report.bin", V "test-vcek.der", 0, T2020_01, 0,
      VOUCH_E_NOT_YET_VALID, "chain" },
    { "VCEK with a bad signature (raw hwID)", V "test-report.bin",
      V "test-vcek-invalid-legacy.der", 0, T2025_06, 0, VOUCH_E_VERIFY, "chain" },
    { "VCEK with a bad signature (wrapped hwID)", V "test-report.bin",
      V "test-vcek-invalid-new.der", 0, T2025_06, 0, VOUCH_E_VERIFY, "chain" },
    { "VCEK report with a VLEK", V "test-report.bin", V "test-vlek.der", 0, T2025_06, 0,
      VOUCH_E_VERIFY, "signed by a VCEK" },
    { "VLEK report with a VCEK", V "test-vlek-report.bin", V "az-milan-v3-vcek.der", 0,
      T2025_06, 0, VOUCH_E_VERIFY, "signed by a VLEK" },
    { "Genoa report with a Milan VCEK", V "az-genoa-v3-report.bin", V "az-milan-v3-vcek.der", 0,
      T2025_06, 0, VOUCH_E_VERIFY, "Genoa" },
};

static void test_negative(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        const struct bad *b = &bads[i];
        X509 *vek = load_cert(b->vek);
        vouch_err e;

        load_report(b->report, &r, b->flip);
        e = vouch_snp_verify_report(&r, vek, NULL, b->now, b->flags, &eb);
        if (e != b->want || !strstr(eb.msg, b->msg))
            fail_msg("%s: got %s (%s), want %s", b->name, vouch_err_name(e), e ? eb.msg : "",
                     vouch_err_name(b->want));
        X509_free(vek);
    }
}

/* A chain remembered at one time is not used outside its validity window. */
static void test_cache_window(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    X509 *vek = load_cert(V "test-vcek.der");

    (void)state;
    load_report(V "test-report.bin", &r, 0);
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06 + 1, 0, &eb), VOUCH_OK);
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2031_01, 0, &eb), VOUCH_E_EXPIRED);
    /* A cached chain does not vouch for another report's signature. */
    load_report(V "test-report.bin", &r, VOUCH_SNP_OFF_MEASUREMENT);
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb), VOUCH_E_VERIFY);
    X509_free(vek);
    vouch_snp_cache_clear();
}

static STACK_OF(X509) *pem_stack(const char *pem)
{
    STACK_OF(X509) *sk = NULL;

    assert_int_equal(vouch_x509_parse_pem_chain(pem, strlen(pem), 4, &sk, NULL), VOUCH_OK);
    return sk;
}

/* ASK/ARK sent with the evidence must be AMD's pinned ones. */
static void test_extra_certs(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    STACK_OF(X509) *chain = NULL, *wrong;
    X509 *vek;
    size_t n;
    char *pem = (char *)test_load(V "az-milan-vcek-chain.pem", &n);

    (void)state;
    assert_int_equal(vouch_x509_parse_pem_chain(pem, n, 4, &chain, NULL), VOUCH_OK);
    assert_int_equal(sk_X509_num(chain), 3);
    vek = sk_X509_shift(chain);            /* chain: Milan ASK, Milan ARK */
    load_report(V "az-milan-v2-report.bin", &r, 0);
    assert_int_equal(vouch_snp_verify_report(&r, vek, chain, T2025_06, 0, &eb), VOUCH_OK);
    wrong = pem_stack(vouch_snp_ark_pem(VOUCH_SNP_PRODUCT_GENOA));
    assert_int_equal(vouch_snp_verify_report(&r, vek, wrong, T2025_06, VOUCH_SNP_NO_CACHE, &eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "ARK-Genoa"));
    /* A VCEK passed as the ARK is not AMD's ARK either. */
    assert_int_equal(sk_X509_push(wrong, X509_dup(vek)) > 0, 1);
    X509_free(sk_X509_shift(wrong));
    assert_int_equal(vouch_snp_verify_report(&r, vek, wrong, T2025_06, 0, &eb), VOUCH_E_VERIFY);
    sk_X509_pop_free(wrong, X509_free);
    sk_X509_pop_free(chain, X509_free);
    X509_free(vek);
    free(pem);
    vouch_snp_cache_clear();
}

static void test_vek_extensions(void **state)
{
    static const struct {
        const char *file;
        enum vouch_snp_vek_role role;
        uint8_t bl, tee, snp, ucode;
        bool hwid, csp;
        const char *hwid_head;
    } veks[] = {
        { V "test-vcek.der", VOUCH_SNP_VEK_VCEK, 3, 0, 8, 115, true, false, "c38427a3" },
        { V "test-vcek-invalid-legacy.der", VOUCH_SNP_VEK_VCEK, 3, 0, 10, 169, true, false,
          "00010203" },
        { V "test-vcek-invalid-new.der", VOUCH_SNP_VEK_VCEK, 0, 0, 0, 30, true, false,
          "00010203" },
        { V "test-vlek.der", VOUCH_SNP_VEK_VLEK, 4, 0, 24, 217, false, true, NULL },
        { V "az-genoa-vcek.pem", VOUCH_SNP_VEK_VCEK, 10, 0, 23, 84, true, false, "0506ffba" },
    };
    struct vouch_snp_vek k;
    struct vouch_errbuf eb;
    char hex[17];
    size_t i;
    X509 *turin = load_cert(V "virtee-vcek-turin.der");

    (void)state;
    /* Turin: fmcSPL, and an 8-byte hwID. */
    if (vouch_snp_vek_parse(turin, &k, &eb))
        fail_msg("turin: %s", eb.msg);
    assert_int_equal(k.product, VOUCH_SNP_PRODUCT_TURIN);
    assert_true(k.tcb.has_fmc);
    assert_int_equal(k.tcb.fmc, 0);
    assert_int_equal(k.tcb.microcode, 9);
    assert_int_equal(k.hwid_len, 8);
    vouch_hex_encode(k.hwid, 8, hex);
    assert_string_equal(hex, "1e550a8ee5cf9f4d");
    X509_free(turin);
    for (i = 0; i < sizeof(veks) / sizeof(veks[0]); i++) {
        X509 *x = load_cert(veks[i].file);

        if (vouch_snp_vek_parse(x, &k, &eb))
            fail_msg("%s: %s", veks[i].file, eb.msg);
        assert_int_equal(k.role, veks[i].role);
        assert_int_equal(k.tcb.bootloader, veks[i].bl);
        assert_int_equal(k.tcb.tee, veks[i].tee);
        assert_int_equal(k.tcb.snp, veks[i].snp);
        assert_int_equal(k.tcb.microcode, veks[i].ucode);
        assert_int_equal(k.has_hwid, veks[i].hwid);
        assert_int_equal(k.has_csp_id, veks[i].csp);
        if (veks[i].hwid_head) {
            assert_int_equal(k.hwid_len, 64);
            vouch_hex_encode(k.hwid, 4, hex);
            assert_string_equal(hex, veks[i].hwid_head);
            assert_int_equal(k.hwid[63], strstr(veks[i].file, "invalid") ? 0x3F : k.hwid[63]);
        }
        X509_free(x);
    }
}

/*
 * Turin: no signed Turin report is public, so a Milan v3 report is given
 * Turin's CPUID, the Turin VCEK's 8-byte chip id and its SPLs in Turin's
 * TCB layout.  The VCEK then chains to the pinned Turin root and matches;
 * only the report signature (made by another key) fails.  Each field
 * changed on its own fails at its own check first.
 */
static void test_turin_chain_and_match(void **state)
{
    static const struct {
        size_t off;
        uint8_t value;
        const char *msg;
    } cases[] = {
        { 0, 0, "report signature" },
        { VOUCH_SNP_OFF_CHIP_ID, 0x1f, "CHIP_ID" },
        { VOUCH_SNP_OFF_REPORTED_TCB + VOUCH_SNP_TCB_TURIN_FMC, 1, "fmcSPL" },
        { VOUCH_SNP_OFF_REPORTED_TCB + VOUCH_SNP_TCB_TURIN_MICROCODE, 10, "ucodeSPL" },
        { VOUCH_SNP_OFF_REPORTED_TCB + VOUCH_SNP_TCB_TURIN_SNP, 1, "snpSPL" },
        { VOUCH_SNP_OFF_CPUID + 1, 0x12, "not a known" },   /* model 0x12 */
    };
    static const uint8_t hwid[8] = { 0x1e, 0x55, 0x0a, 0x8e, 0xe5, 0xcf, 0x9f, 0x4d };
    static const size_t tcbs[] = { VOUCH_SNP_OFF_CURRENT_TCB, VOUCH_SNP_OFF_REPORTED_TCB,
                                   VOUCH_SNP_OFF_COMMITTED_TCB, VOUCH_SNP_OFF_LAUNCH_TCB };
    X509 *vek = load_cert(V "virtee-vcek-turin.der");
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    size_t n, i, t;
    uint8_t *raw = test_load(V "az-milan-v3-report.bin", &n);

    (void)state;
    raw[VOUCH_SNP_OFF_CPUID] = 0x1A;
    raw[VOUCH_SNP_OFF_CPUID + 1] = 0x02;
    memset(raw + VOUCH_SNP_OFF_CHIP_ID, 0, 64);
    memcpy(raw + VOUCH_SNP_OFF_CHIP_ID, hwid, sizeof(hwid));
    for (t = 0; t < 4; t++)
        memcpy(raw + tcbs[t], "\x00\x00\x00\x00\x00\x00\x00\x09", 8);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t keep = raw[cases[i].off];
        vouch_err e;

        if (cases[i].off)
            raw[cases[i].off] = cases[i].value;
        if (vouch_snp_report_parse(raw, n, &r, &eb))
            fail_msg("case %zu: %s", i, eb.msg);
        e = vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb);
        if (e == VOUCH_OK || !strstr(eb.msg, cases[i].msg))
            fail_msg("case %zu: got %s (%s)", i, vouch_err_name(e), eb.msg);
        raw[cases[i].off] = keep;
    }
    free(raw);
    X509_free(vek);
    vouch_snp_cache_clear();
}

/* KEY_INFO rules: no signature, an unknown signer, reserved bits. */
static void test_key_info(void **state)
{
    struct vouch_snp_report r;
    struct vouch_errbuf eb;
    X509 *vek = load_cert(V "test-vcek.der");

    (void)state;
    load_report(V "test-report.bin", &r, 0);
    r.key_info = VOUCH_SNP_KEY_MASK_CHIP_KEY;
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb), VOUCH_E_VERIFY);
    r.key_info = VOUCH_SNP_SIGNER_NONE << VOUCH_SNP_KEY_SIGNING_SHIFT;
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb),
                     VOUCH_E_UNSUPPORTED);
    r.key_info = 1u << 5;
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb), VOUCH_E_INVALID);
    r.key_info = 0;
    r.sig_algo = 2;
    assert_int_equal(vouch_snp_verify_report(&r, vek, NULL, T2025_06, 0, &eb),
                     VOUCH_E_UNSUPPORTED);
    /* VMPL: the VLEK report asks at VMPL 1. */
    load_report(V "test-vlek-report.bin", &r, 0);
    assert_int_equal(vouch_snp_check_guest(&r, &eb), VOUCH_E_VERIFY);
    load_report(V "test-report.bin", &r, 0);
    assert_int_equal(vouch_snp_check_guest(&r, &eb), VOUCH_OK);
    X509_free(vek);
    vouch_snp_cache_clear();
}

/* trustee's evidence document with the VCEK added to its cert_chain. */
static char *evidence_with(const char *vek_file, bool with_chain)
{
    size_t n, vn;
    uint8_t *doc = test_load(V "trustee-e2e-evidence.json", &n);
    uint8_t *der = test_load(vek_file, &vn);
    json_t *j, *data, *entry;
    char *out;
    size_t i, len;

    assert_int_equal(vouch_json_parse(doc, n, &j, NULL), VOUCH_OK);
    if (with_chain) {
        data = json_array();
        for (i = 0; i < vn; i++)
            json_array_append_new(data, json_integer(der[i]));
        entry = json_pack("{s:s,s:o}", "cert_type", "VCEK", "data", data);
        json_object_set_new(j, "cert_chain", json_pack("[o]", entry));
    }
    assert_int_equal(vouch_json_dump(j, 1u << 20, &out, &len, NULL), VOUCH_OK);
    json_decref(j);
    free(doc);
    free(der);
    return out;
}

static void test_verifier(void **state)
{
    const struct vouch_verifier *v = vouch_verifier_find("snp");
    uint8_t rd[32], host[32] = { 0 };
    struct vouch_binding b = { 0 };
    struct vouch_errbuf eb;
    json_t *claims = NULL;
    char *ev;

    (void)state;
    assert_non_null(v);
    ev = evidence_with(V "test-vcek.der", true);
    if (v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), NULL, T2025_06, &claims, &eb))
        fail_msg("%s", eb.msg);
    assert_string_equal(json_string_value(json_object_get(claims, "measurement")),
                        "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c"
                        "23500644e0e692e6be917f9050d3d38c");
    json_decref(claims);
    /* Binding: the report data and HOST_DATA, zero-padded. */
    assert_int_equal(vouch_hex_decode_exact("ec6c52d7533cc2c4f45be7849cf112ab82b2009fe7bd43e7"
                                            "1ed08c14400ad7e2", 64, rd, 32, NULL), VOUCH_OK);
    b.report_data = rd;
    b.report_data_len = 32;
    b.init_data = host;
    b.init_data_len = 32;
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), &b, T2025_06, &claims,
                               &eb), VOUCH_OK);
    json_decref(claims);
    rd[0] ^= 1;
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), &b, T2025_06, &claims,
                               &eb), VOUCH_E_BINDING);
    rd[0] ^= 1;
    host[0] = 1;
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), &b, T2025_06, &claims,
                               &eb), VOUCH_E_BINDING);
    assert_int_equal(eb.sub, VOUCH_SUB_INIT_DATA);
    free(ev);
    /* No VEK: nothing to verify with. */
    ev = evidence_with(V "test-vcek.der", false);
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), NULL, T2025_06, &claims,
                               &eb), VOUCH_E_NOT_FOUND);
    free(ev);
    /* Another chip's VCEK. */
    ev = evidence_with(V "az-milan-v3-vcek.der", true);
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)ev, strlen(ev), NULL, T2025_06, &claims,
                               &eb), VOUCH_E_VERIFY);
    free(ev);
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)"{}", 2, NULL, T2025_06, &claims, &eb),
                     VOUCH_E_INVALID);
    assert_string_equal(eb.field, "attestation_report");
    vouch_snp_cache_clear();
}

/* A cert_chain entry from bytes. */
static json_t *entry_of(const char *type, const uint8_t *p, size_t n)
{
    json_t *data = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(data, json_integer(p[i]));
    return json_pack("{s:s,s:o}", "cert_type", type, "data", data);
}

enum chain_case { C_PEM_VCEK, C_SKIPPED, C_PINNED_ASK_ARK, C_GENOA_ARK, C_UNKNOWN_TYPE,
                  C_NOT_A_BYTE, C_TWO_VEKS, C_TOO_MANY, C_NOT_A_CERT, C_PEM_CHAIN, C__COUNT };

static json_t *chain_for(enum chain_case c, const uint8_t *der, size_t n)
{
    const char *ask = vouch_snp_ask_pem(VOUCH_SNP_PRODUCT_MILAN);
    const char *ark = vouch_snp_ark_pem(VOUCH_SNP_PRODUCT_MILAN);
    const char *genoa = vouch_snp_ark_pem(VOUCH_SNP_PRODUCT_GENOA);
    json_t *a = json_array(), *e;
    size_t i;

    switch (c) {
    case C_PEM_VCEK: {
        size_t pn;
        uint8_t *pem = test_load(V "az-milan-vcek-chain.pem", &pn);
        const char *end = strstr((const char *)pem, "-----END CERTIFICATE-----");

        assert_non_null(end);    /* the first PEM block only: one certificate per entry */
        pn = (size_t)(end - (const char *)pem) + strlen("-----END CERTIFICATE-----\n");
        json_array_append_new(a, entry_of("VCEK", pem, pn));
        free(pem);
        return a;
    }
    case C_SKIPPED: {       /* AMD's Milan CRL is read and checked; OTHER is skipped */
        size_t cn;
        uint8_t *crl = test_load(V "amd-milan-crl.der", &cn);

        json_array_append_new(a, entry_of("CRL", crl, cn));
        free(crl);
        json_array_append_new(a, json_pack("{s:{s:s},s:[]}", "cert_type", "OTHER",
                                           "ecae0c0f-9502-43b1-afa2-0ae2e0d565b6", "data"));
        break;
    }
    case C_PINNED_ASK_ARK:
        json_array_append_new(a, entry_of("ASK", (const uint8_t *)ask, strlen(ask)));
        json_array_append_new(a, entry_of("ARK", (const uint8_t *)ark, strlen(ark)));
        break;
    case C_GENOA_ARK:
        json_array_append_new(a, entry_of("ARK", (const uint8_t *)genoa, strlen(genoa)));
        break;
    case C_UNKNOWN_TYPE:
        json_array_append_new(a, entry_of("VCEK2", der, n));
        return a;
    case C_NOT_A_BYTE:
        e = entry_of("VCEK", der, n);
        json_array_set_new(json_object_get(e, "data"), 3, json_integer(256));
        json_array_append_new(a, e);
        return a;
    case C_TWO_VEKS:
        json_array_append_new(a, entry_of("VCEK", der, n));
        break;
    case C_TOO_MANY:
        for (i = 0; i < VOUCH_SNP_MAX_CERTS; i++)
            json_array_append_new(a, entry_of("CRL", (const uint8_t *)"x", 1));
        break;
    case C_PEM_CHAIN: {     /* three PEM certificates in one entry */
        size_t pn;
        uint8_t *pem = test_load(V "az-milan-vcek-chain.pem", &pn);

        json_array_append_new(a, entry_of("VCEK", pem, pn));
        free(pem);
        return a;
    }
    case C_NOT_A_CERT:
        json_array_append_new(a, entry_of("VLEK", der, n - 1));
        return a;
    default:
        break;
    }
    json_array_append_new(a, entry_of("VCEK", der, n));
    return a;
}

/* cert_chain entries: what is read, what is skipped, what is refused. */
static void test_cert_chain_entries(void **state)
{
    static const struct {
        enum chain_case c;
        vouch_err want;
        const char *field;
    } cases[] = {
        { C_PEM_VCEK, VOUCH_E_VERIFY, "" },   /* read: the Azure VCEK is another chip's */
        { C_SKIPPED, VOUCH_OK, NULL },
        { C_PINNED_ASK_ARK, VOUCH_OK, NULL },
        { C_GENOA_ARK, VOUCH_E_VERIFY, "" },
        { C_UNKNOWN_TYPE, VOUCH_E_INVALID, "cert_chain[0]" },
        { C_NOT_A_BYTE, VOUCH_E_INVALID, "cert_chain[0]" },
        { C_TWO_VEKS, VOUCH_E_INVALID, "cert_chain[1]" },
        { C_TOO_MANY, VOUCH_E_INVALID, "cert_chain" },
        { C_NOT_A_CERT, VOUCH_E_INVALID, "cert_chain[0]" },
        { C_PEM_CHAIN, VOUCH_E_INVALID, "cert_chain[0]" },
    };
    const struct vouch_verifier *v = vouch_verifier_find("snp");
    size_t n, dn, i, len;
    uint8_t *doc = test_load(V "trustee-e2e-evidence.json", &n);
    uint8_t *der = test_load(V "test-vcek.der", &dn);
    struct vouch_errbuf eb;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j = NULL, *claims = NULL;
        char *text;
        vouch_err e;

        assert_int_equal(vouch_json_parse(doc, n, &j, NULL), VOUCH_OK);
        json_object_set_new(j, "cert_chain", chain_for(cases[i].c, der, dn));
        assert_int_equal(vouch_json_dump(j, 1u << 20, &text, &len, NULL), VOUCH_OK);
        e = v->verify(v, NULL, (const uint8_t *)text, len, NULL, T2025_06, &claims, &eb);
        if (e != cases[i].want)
            fail_msg("case %zu: got %s (%s)", i, vouch_err_name(e), e ? eb.msg : "");
        if (cases[i].field)
            assert_string_equal(eb.field, cases[i].field);
        json_decref(claims);
        json_decref(j);
        free(text);
    }
    /* Not JSON at all. */
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)"[1,", 3, NULL, T2025_06, NULL, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(eb.sub, VOUCH_SUB_JSON);
    free(doc);
    free(der);
    vouch_snp_cache_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinned_roots),
        cmocka_unit_test(test_real_reports_verify),
        cmocka_unit_test(test_negative),
        cmocka_unit_test(test_cache_window),
        cmocka_unit_test(test_extra_certs),
        cmocka_unit_test(test_vek_extensions),
        cmocka_unit_test(test_turin_chain_and_match),
        cmocka_unit_test(test_key_info),
        cmocka_unit_test(test_verifier),
        cmocka_unit_test(test_cert_chain_entries),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
