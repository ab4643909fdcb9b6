/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Azure CVM evidence (tee=az-snp-vtpm, az-tdx-vtpm) on the real vectors of
 * tests/vectors/azure (PROVENANCE.md): the HCL report parser, every
 * evidence version through the registered verifiers at a pinned time
 * (the TD quote with real Intel collateral), the claims, and each rule
 * failing on its own: a tampered HCL report, SNP report or TD report, a
 * runtime data whose hash is not bound, a wrong nonce, a tampered PCR or
 * quote, another chip's VCEK, an expired VCEK, wrong init data.
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
#include "evidence/azure/azure.h"
#include "evidence/dcap/dcap.h"
#include "vouch/evidence.h"

#define V "tests/vectors/azure/"
#define COLLATERAL "tests/vectors/dcap/phala_format/automata_v4_tdx_0625.json"
#define T_2025_06 1749095100   /* 2025-06-05T03:45:00Z: VCEKs and TDX collateral valid */
#define T_2033_01 1988150400   /* 2033-01-01: every VCEK expired */
#define NONCE "challenge"
#define NONCE_V2 "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9a" \
                 "a398f647caa2338748cd0fd9f5f819ef"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static json_t *load_json(const char *path)
{
    size_t n;
    uint8_t *d = test_load(path, &n);
    json_t *j = NULL;

    assert_int_equal(vouch_json_parse(d, n, &j, NULL), VOUCH_OK);
    free(d);
    return j;
}

/* Flip bit 0 of byte `off` of a byte string held as an array or base64url/hex text. */
static void flip(json_t *holder, const char *key, size_t index, size_t off)
{
    json_t *v = key ? json_object_get(holder, key) : json_array_get(holder, index);
    const char *s = json_string_value(v);
    uint8_t *b = NULL;
    size_t n = 0;
    char *enc;
    bool hex;

    assert_non_null(v);
    if (json_is_array(v)) {
        json_t *x = json_array_get(v, off);

        assert_non_null(x);
        json_integer_set(x, json_integer_value(x) ^ 1);
        return;
    }
    hex = vouch_hex_decode(s, strlen(s), 1 << 20, &b, &n, NULL) == VOUCH_OK;
    if (!hex)
        assert_int_equal(vouch_b64_decode(s, strlen(s), VOUCH_B64_URL | VOUCH_B64_PAD_OPTIONAL,
                                          1 << 20, &b, &n, NULL), VOUCH_OK);
    assert_true(off < n);
    b[off] ^= 1;
    enc = hex ? vouch_hex_alloc(b, n) : vouch_b64_alloc(b, n, VOUCH_B64_URL);
    if (key)
        json_object_set_new(holder, key, json_string(enc));
    else
        json_array_set_new(holder, index, json_string(enc));
    free(enc);
    free(b);
}

static struct vouch_dcap_file_source *tdx_fs;
static struct vouch_dcap_ctx *tdx_ctx;

static int setup_tdx(void **state)
{
    (void)state;
    if (vouch_dcap_file_source_open(COLLATERAL, NULL, &tdx_fs, NULL) ||
        vouch_dcap_ctx_new(vouch_dcap_file_source_get(tdx_fs), NULL, &tdx_ctx, NULL))
        return -1;
    return 0;
}

static int teardown_tdx(void **state)
{
    (void)state;
    vouch_dcap_ctx_free(tdx_ctx);
    vouch_dcap_file_source_free(tdx_fs);
    return 0;
}

/* Verify a document with the registered verifier `tee`. */
static vouch_err verify_bin(const char *tee, const json_t *doc, const uint8_t *nonce,
                            size_t nonce_len, const uint8_t *init, size_t init_len, int64_t now,
                            json_t **claims, struct vouch_errbuf *eb)
{
    const struct vouch_verifier *v = vouch_verifier_find(tee);
    struct vouch_binding b = { nonce, nonce_len, init, init_len };
    char *text = json_dumps(doc, JSON_COMPACT);
    vouch_err e;

    assert_non_null(v);
    assert_non_null(text);
    vouch_errbuf_clear(eb);
    e = v->verify(v, strcmp(tee, "az-tdx-vtpm") == 0 ? tdx_ctx : NULL, (const uint8_t *)text,
                  strlen(text), &b, now, claims, eb);
    free(text);
    return e;
}

static vouch_err verify_doc(const char *tee, const json_t *doc, const char *nonce,
                            const uint8_t *init, size_t init_len, int64_t now, json_t **claims,
                            struct vouch_errbuf *eb)
{
    return verify_bin(tee, doc, (const uint8_t *)nonce, nonce ? strlen(nonce) : 0, init, init_len,
                      now, claims, eb);
}

static const char *claim(const json_t *c, const char *path)
{
    char buf[64], *dot;
    const json_t *x = c;

    snprintf(buf, sizeof(buf), "%s", path);
    dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        x = json_object_get(x, buf);
        path = dot + 1;
    }
    return json_string_value(json_object_get(x, dot ? path : buf));
}

/* ------------------------------------------------------------------ */
/* HCL report                                                          */

static void test_hcl_parse(void **state)
{
    static const struct {
        const char *file;
        uint32_t type, version, var_size;
    } cases[] = {
        { V "snp-hcl-report.bin", VOUCH_HCL_REPORT_TYPE_SNP, 1, 1110 },
        { V "tdx-hcl-report.bin", VOUCH_HCL_REPORT_TYPE_TDX, 2, 1201 },
    };
    struct vouch_azure_hcl h;
    struct vouch_errbuf eb;
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *d = test_load(cases[i].file, &n);

        assert_int_equal(vouch_azure_hcl_parse(d, n, cases[i].type, &h, &eb), VOUCH_OK);
        assert_int_equal(h.version, cases[i].version);
        assert_int_equal(h.var_size, cases[i].var_size);
        assert_int_equal(h.report_size, VOUCH_HCL_OFF_VAR_DATA + cases[i].var_size);
        assert_ptr_equal(h.hw_report, d + VOUCH_HCL_OFF_HW_REPORT);
        assert_ptr_equal(h.var_data, d + VOUCH_HCL_OFF_VAR_DATA);
        assert_memory_equal(h.var_data, "{\"keys\":", 8);
        /* the other report type is refused */
        assert_int_equal(vouch_azure_hcl_parse(d, n, cases[i].type ^ 6, &h, &eb), VOUCH_E_INVALID);
        /* every cut before the end of the var data is truncated */
        assert_int_equal(vouch_azure_hcl_parse(d, 3, cases[i].type, &h, &eb), VOUCH_E_TRUNCATED);
        assert_int_equal(vouch_azure_hcl_parse(d, VOUCH_HCL_OFF_DATA_SIZE + 2, cases[i].type, &h,
                                               &eb), VOUCH_E_TRUNCATED);
        assert_int_equal(vouch_azure_hcl_parse(d, VOUCH_HCL_OFF_VAR_DATA + cases[i].var_size - 1,
                                               cases[i].type, &h, &eb), VOUCH_E_TRUNCATED);
        assert_int_equal(vouch_azure_hcl_parse(d, VOUCH_HCL_OFF_VAR_DATA + cases[i].var_size,
                                               cases[i].type, &h, &eb), VOUCH_OK);
        free(d);
    }
}

static void test_hcl_malformed(void **state)
{
    static const struct {
        size_t off;
        uint8_t value;
        vouch_err want;
    } cases[] = {
        { VOUCH_HCL_OFF_SIGNATURE, 'X', VOUCH_E_INVALID },
        { VOUCH_HCL_OFF_HASH_TYPE, 2, VOUCH_E_UNSUPPORTED },     /* SHA-384 */
        { VOUCH_HCL_OFF_REPORT_TYPE, 3, VOUCH_E_INVALID },
        { VOUCH_HCL_OFF_VAR_SIZE + 2, 1, VOUCH_E_TRUNCATED },    /* var_size past the end */
        { VOUCH_HCL_OFF_DATA_SIZE, 0, VOUCH_E_INVALID },         /* data_size != 20 + var_size */
    };
    struct vouch_azure_hcl h;
    struct vouch_errbuf eb;
    size_t i, n;
    uint8_t *d = test_load(V "snp-hcl-report.bin", &n);

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t keep = d[cases[i].off];

        d[cases[i].off] = cases[i].value;
        assert_int_equal(vouch_azure_hcl_parse(d, n, VOUCH_HCL_REPORT_TYPE_SNP, &h, &eb),
                         cases[i].want);
        d[cases[i].off] = keep;
    }
    assert_int_equal(vouch_azure_hcl_parse(d, VOUCH_HCL_MAX + 1, VOUCH_HCL_REPORT_TYPE_SNP, &h,
                                           &eb), VOUCH_E_TOO_LARGE);
    free(d);
}

/* ------------------------------------------------------------------ */
/* az-snp-vtpm                                                         */

static void test_snp_vectors(void **state)
{
    static const struct {
        const char *file, *nonce_hex, *measurement_b64, *pcr00, *tcb_microcode;
    } cases[] = {
        { V "snp-evidence-v0.json", "6368616c6c656e6765", "agY76", "e15c4479", "219" },
        { V "snp-evidence-v1.json", "6368616c6c656e6765", "agY76", "e15c4479", "219" },
        { V "snp-evidence-v2.json", NONCE_V2, "WwzmSt", "84275b2f", NULL },
        { V "snp-evidence-genoa.json", "0218488b", "9X3Aml", "afd689d0", "84" },
        /* the SNP v2 report of hcl-report.bin with its quote and VCEK */
        { V "snp-evidence-v1-report-v2.json", "6368616c6c656e6765", "msSPys", "f3a7e99a", "115" },
    };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = load_json(cases[i].file), *c = NULL;
        vouch_err e = verify_doc("az-snp-vtpm", doc, NULL, NULL, 0, T_2025_06, &c, &eb);

        if (e)
            fail_msg("%s: %s (%s)", cases[i].file, eb.msg, eb.field);
        assert_non_null(strstr(claim(c, "report_data"), cases[i].nonce_hex));
        assert_int_equal(strncmp(claim(c, "measurement"), cases[i].measurement_b64,
                                 strlen(cases[i].measurement_b64)), 0);
        assert_int_equal(strncmp(claim(c, "tpm.pcr00"), cases[i].pcr00, 8), 0);
        assert_int_equal(json_object_size(json_object_get(c, "tpm")), 24);
        assert_string_equal(claim(c, "policy_debug_allowed"), "false");
        assert_string_equal(claim(c, "init_data"), claim(c, "tpm.pcr08"));
        assert_null(json_object_get(c, "chip_id"));
        if (cases[i].tcb_microcode)
            assert_string_equal(claim(c, "reported_tcb_microcode"), cases[i].tcb_microcode);
        json_decref(c);
        json_decref(doc);
    }
}

/* The nonce: exactly the quote's extraData. */
static void test_snp_nonce(void **state)
{
    uint8_t nonce_v2[48];
    struct vouch_errbuf eb;
    json_t *doc = load_json(V "snp-evidence-v1.json"), *c = NULL;

    (void)state;
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb), VOUCH_OK);
    json_decref(c);
    assert_int_equal(verify_doc("az-snp-vtpm", doc, "challengf", NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_BINDING);
    assert_non_null(strstr(eb.msg, "nonce"));
    /* no zero padding: "challenge\0" is another nonce */
    assert_int_equal(verify_doc("az-snp-vtpm", doc, "challeng", NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_BINDING);
    json_decref(doc);
    /* v2: the nonce is also the head of the HCL user-data */
    doc = load_json(V "snp-evidence-v2.json");
    assert_int_equal(vouch_hex_decode_exact(NONCE_V2, strlen(NONCE_V2), nonce_v2,
                                            sizeof(nonce_v2), NULL), VOUCH_OK);
    assert_int_equal(verify_bin("az-snp-vtpm", doc, nonce_v2, sizeof(nonce_v2), NULL, 0,
                                T_2025_06, &c, &eb), VOUCH_OK);
    json_decref(c);
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_BINDING);
    json_decref(doc);
    /* a v1 capture (user-data all zero) claiming to be v2: its HCL report is not fresh */
    doc = load_json(V "snp-evidence-v1.json");
    json_object_set_new(doc, "version", json_integer(2));
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(eb.msg, "user-data"));
    assert_string_equal(eb.field, "hcl_report");
    json_decref(doc);
}

/* init data: PCR8 == SHA-256(zeros || init data); PCR8 is zero in these vectors. */
static void test_snp_init_data(void **state)
{
    static const uint8_t zeros[32];
    struct vouch_errbuf eb;
    json_t *doc = load_json(V "snp-evidence-v1.json"), *c = NULL;

    (void)state;
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, zeros, sizeof(zeros), T_2025_06, &c,
                                &eb), VOUCH_E_BINDING);
    assert_int_equal(eb.sub, VOUCH_SUB_INIT_DATA);
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, zeros, 48, T_2025_06, &c, &eb),
                     VOUCH_E_BINDING);
    assert_int_equal(eb.sub, VOUCH_SUB_INIT_DATA);
    assert_non_null(strstr(eb.msg, "32-byte"));
    json_decref(doc);
}

/* Each rule on its own, by one flipped bit of the v1 evidence. */
static void test_snp_negative(void **state)
{
    static const struct {
        const char *what, *key;       /* top-level member, or "pcrs"/"message"/"signature" */
        size_t off;
        vouch_err want;
        const char *msg, *field;
    } cases[] = {
        { "SNP report byte (measurement)", "hcl_report", VOUCH_HCL_OFF_HW_REPORT + 0x90,
          VOUCH_E_VERIFY, "signature", NULL },
        { "SNP REPORTED_TCB", "hcl_report", VOUCH_HCL_OFF_HW_REPORT + 0x180, VOUCH_E_VERIFY,
          "blSPL", NULL },
        { "AK in the runtime data", "hcl_report", VOUCH_HCL_OFF_VAR_DATA + 200, VOUCH_E_VERIFY,
          "runtime data", "hcl_report" },
        { "HCL magic", "hcl_report", 0, VOUCH_E_INVALID, "HCLA", "hcl_report" },
        { "VCEK", "vcek", 700, VOUCH_E_VERIFY, NULL, NULL },
        { "quote message", "message", 60, VOUCH_E_VERIFY, "signature", NULL },
        { "quote signature", "signature", 10, VOUCH_E_VERIFY, "signature", NULL },
        { "PCR 11", "pcrs", 11, VOUCH_E_VERIFY, "pcrDigest", NULL },
    };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = load_json(V "snp-evidence-v1.json"), *c = NULL;
        json_t *q = json_object_get(doc, "tpm_quote");
        vouch_err e;

        if (strcmp(cases[i].key, "pcrs") == 0)
            flip(json_object_get(q, "pcrs"), NULL, cases[i].off, 3);
        else if (strcmp(cases[i].key, "message") == 0 || strcmp(cases[i].key, "signature") == 0)
            flip(q, cases[i].key, 0, cases[i].off);
        else
            flip(doc, cases[i].key, 0, cases[i].off);
        e = verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb);
        if (e != cases[i].want || (cases[i].msg && !strstr(eb.msg, cases[i].msg)) ||
            (cases[i].field && strcmp(eb.field, cases[i].field) != 0))
            fail_msg("%s: got %s: %s (field '%s')", cases[i].what, vouch_err_name(e), eb.msg,
                     eb.field);
        json_decref(doc);
    }
}

static void test_snp_vcek(void **state)
{
    struct vouch_errbuf eb;
    json_t *doc = load_json(V "snp-evidence-v1.json"), *genoa = load_json(V "snp-evidence-genoa.json");
    json_t *c = NULL;

    (void)state;
    /* expired */
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2033_01, &c, &eb),
                     VOUCH_E_EXPIRED);
    /* another chip's VCEK (a Genoa one, PEM in a v0 document) */
    {
        json_t *v0 = load_json(V "snp-evidence-v0.json");

        json_object_set(v0, "vcek", json_object_get(genoa, "vcek"));
        assert_int_equal(verify_doc("az-snp-vtpm", v0, NONCE, NULL, 0, T_2025_06, &c, &eb),
                         VOUCH_E_VERIFY);
        json_decref(v0);
    }
    /* no VCEK at all, a malformed one */
    json_object_del(doc, "vcek");
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_INVALID);
    assert_string_equal(eb.field, "vcek");
    json_object_set_new(doc, "vcek", json_string("AAAA"));
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_INVALID);
    assert_string_equal(eb.field, "vcek");
    json_decref(doc);
    json_decref(genoa);
}

/* Malformed documents name the field at fault. */
static void test_snp_malformed(void **state)
{
    static const struct {
        const char *edit, *field;
    } cases[] = {
        { "{\"version\": 3}", "version" },
        { "{\"tpm_quote\": 1}", "tpm_quote" },
        { "{\"hcl_report\": \"***\"}", "hcl_report" },
        { "{\"tpm_quote\": {\"signature\": \"zz\", \"message\": \"00\", \"pcrs\": []}}",
          "tpm_quote.signature" },
        { "{\"tpm_quote\": {\"signature\": \"00\", \"message\": \"00\", \"pcrs\": []}}",
          "tpm_quote.pcrs" },
        { "{\"hcl_report\": [1, 2]}", "hcl_report" },
    };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = load_json(V "snp-evidence-v1.json"), *c = NULL;
        json_t *edit = json_loads(cases[i].edit, 0, NULL);

        assert_non_null(edit);
        json_object_update(doc, edit);
        assert_int_equal(verify_doc("az-snp-vtpm", doc, NULL, NULL, 0, T_2025_06, &c, &eb),
                         VOUCH_E_INVALID);
        assert_string_equal(eb.field, cases[i].field);
        json_decref(edit);
        json_decref(doc);
    }
    /* a cut TPMS_ATTEST is found after the hardware checks, and named */
    {
        json_t *doc = load_json(V "snp-evidence-v1.json"), *c = NULL;

        json_object_set_new(json_object_get(doc, "tpm_quote"), "message",
                            json_string("ff5443478018"));
        assert_int_equal(verify_doc("az-snp-vtpm", doc, NULL, NULL, 0, T_2025_06, &c, &eb),
                         VOUCH_E_TRUNCATED);
        assert_string_equal(eb.field, "tpm_quote.message");
        json_decref(doc);
    }
}

/* ------------------------------------------------------------------ */
/* az-tdx-vtpm                                                         */

static void test_tdx_vectors(void **state)
{
    static const char *const files[] = { V "tdx-evidence-v0.json", V "tdx-evidence-v1.json" };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        json_t *doc = load_json(files[i]), *c = NULL;
        vouch_err e = verify_doc("az-tdx-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb);

        if (e)
            fail_msg("%s: %s (%s)", files[i], eb.msg, eb.field);
        assert_string_equal(claim(c, "report_data"), "6368616c6c656e6765");
        assert_int_equal(strncmp(claim(c, "tpm.pcr00"), "782b20b1", 8), 0);
        assert_string_equal(claim(c, "tcb_status"), "OutOfDate");
        assert_non_null(json_object_get(c, "quote"));
        assert_string_equal(claim(c, "init_data"), claim(c, "tpm.pcr08"));
        json_decref(c);
        json_decref(doc);
    }
}

static void test_tdx_negative(void **state)
{
    static const struct {
        const char *what, *key;
        size_t off;
        vouch_err want;
        const char *msg;
    } cases[] = {
        { "TD report MRTD in the HCL report", "hcl_report", VOUCH_HCL_OFF_HW_REPORT + 512 + 16,
          VOUCH_E_VERIFY, "TD report" },
        { "TD report REPORTDATA", "hcl_report", VOUCH_HCL_OFF_HW_REPORT + 128 + 40,
          VOUCH_E_VERIFY, "TD report" },
        { "AK in the runtime data", "hcl_report", VOUCH_HCL_OFF_VAR_DATA + 200, VOUCH_E_VERIFY,
          "runtime data" },
        { "TD quote body", "td_quote", 48 + 136, VOUCH_E_VERIFY, "TD quote" },
        { "quote message", "message", 60, VOUCH_E_VERIFY, "signature" },
    };
    struct vouch_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = load_json(V "tdx-evidence-v1.json"), *c = NULL;
        vouch_err e;

        if (strcmp(cases[i].key, "message") == 0)
            flip(json_object_get(doc, "tpm_quote"), "message", 0, cases[i].off);
        else
            flip(doc, cases[i].key, 0, cases[i].off);
        e = verify_doc("az-tdx-vtpm", doc, NONCE, NULL, 0, T_2025_06, &c, &eb);
        if (e != cases[i].want || !strstr(eb.msg, cases[i].msg))
            fail_msg("%s: got %s: %s (field '%s')", cases[i].what, vouch_err_name(e), eb.msg,
                     eb.field);
        json_decref(doc);
    }
}

static void test_tdx_binding_and_trust(void **state)
{
    const struct vouch_verifier *v = vouch_verifier_find("az-tdx-vtpm");
    struct vouch_errbuf eb;
    json_t *doc = load_json(V "tdx-evidence-v1.json"), *c = NULL;
    char *text = json_dumps(doc, JSON_COMPACT);

    (void)state;
    assert_int_equal(verify_doc("az-tdx-vtpm", doc, "other", NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_BINDING);
    /* without DCAP collateral the TD quote cannot be verified */
    assert_int_equal(v->verify(v, NULL, (const uint8_t *)text, strlen(text), NULL, T_2025_06, &c,
                               &eb), VOUCH_E_NOT_FOUND);
    /* the SNP verifier refuses a TDX HCL report */
    assert_int_equal(verify_doc("az-snp-vtpm", doc, NULL, NULL, 0, T_2025_06, &c, &eb),
                     VOUCH_E_INVALID);
    free(text);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hcl_parse),
        cmocka_unit_test(test_hcl_malformed),
        cmocka_unit_test(test_snp_vectors),
        cmocka_unit_test(test_snp_nonce),
        cmocka_unit_test(test_snp_init_data),
        cmocka_unit_test(test_snp_negative),
        cmocka_unit_test(test_snp_vcek),
        cmocka_unit_test(test_snp_malformed),
        cmocka_unit_test(test_tdx_vectors),
        cmocka_unit_test(test_tdx_negative),
        cmocka_unit_test(test_tdx_binding_and_trust),
    };

    return cmocka_run_group_tests(tests, setup_tdx, teardown_tdx);
}
