/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real DCAP evidence (tests/vectors/dcap, see PROVENANCE.md): every
 * verification vector listed in tests/vectors/dcap/PROVENANCE.md gives its "Intel
 * algo" verdict at its time, still verifies (flagged) after its collateral
 * expired, fails before its collateral was issued, and fails at its own
 * step when a byte is flipped.  trustee's quotes parse to trustee's claims.
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

#include "common/json.h"
#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"

#define V "tests/vectors/dcap/"

struct vector {
    const char *id, *quote, *collateral;
    int64_t now;
    const char *status;
    const char *advisories;   /* comma-separated, "" for none */
    int expired;
};

static const struct vector vectors[] = {
    { "V1", "dcap-qvl/sample/sgx_quote", "dcap-qvl/sample/sgx_quote_collateral.json",
      1752919277, "ConfigurationAndSWHardeningNeeded", "INTEL-SA-00289,INTEL-SA-00615", 0 },
    { "V2", "dcap-qvl/sample/tdx_quote", "dcap-qvl/sample/tdx_quote_collateral.json",
      1752919234, "UpToDate", "", 0 },
    { "V4", "dcap-qvl/tests/near/contracts/gas-test/tests/quote/quote.bin",
      "dcap-qvl/tests/near/contracts/gas-test/tests/quote/quote_collateral.json", 1759388630,
      "UpToDate", "", 0 },
    { "V5", "teepot/sgx_quote_verification/sw_hardening/quote.dat",
      "phala_format/teepot_sw_hardening.json", 1684165303, "SWHardeningNeeded", "", 0 },
    /* The same with the PCS directory layout (TCB Info v2, DER CRLs). */
    { "V5dir", "teepot/sgx_quote_verification/sw_hardening/quote.dat",
      "teepot/sgx_quote_verification/sw_hardening", 1684165303, "SWHardeningNeeded", "", 0 },
    { "V7", "teepot/sgx_quote_verification/azure/quote.dat", "phala_format/teepot_azure.json",
      1684165303, "SWHardeningNeeded", "INTEL-SA-00615", 0 },
    /* Azure THIM serves PEM CRLs. */
    { "V7dir", "teepot/sgx_quote_verification/azure/quote.dat",
      "teepot/sgx_quote_verification/azure", 1684165303, "SWHardeningNeeded", "INTEL-SA-00615",
      0 },
    { "V8", "teepot/sgx_quote_verification/vault_proxy/quote.dat",
      "phala_format/teepot_vault_proxy.json", 1687346037, "SWHardeningNeeded", "INTEL-SA-00615",
      0 },
    { "V9", "teepot/sgx_quote_verification/tdx_1/quote.dat", "phala_format/teepot_tdx_1.json",
      1733406935, "UpToDate", "", 0 },
    /* Old TCB signing cert (expired 2025-05-21) and a 2023 QE identity: expired, not fatal. */
    { "V11", "go-tdx-guest/testing/testdata/quote_v5_sample.dat",
      "phala_format/go-tdx-guest_v5.json", 1770080400, "UpToDate", "", 1 },
    { "V12", "dcap-rs/extracted/test_verifyv3_quote.dat", "phala_format/dcap-rs_v3_sgx.json",
      1739419232, "OutOfDate", "", 0 },
    { "V13", "dcap-rs/data/quote_tdx_00806f050000.dat", "phala_format/dcap-rs_v4_tdx.json",
      1739419232, "OutOfDate", "INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986", 0 },
    { "V14", "automata-dcap-attestation/extracted/"
      "AutomataDcapOnChainAttestationTest__testQuoteV3OnChainAttestation__sampleQuote.dat",
      "phala_format/automata_v3_sgx_0825.json", 1755236700, "SWHardeningNeeded",
      "INTEL-SA-00615", 0 },
    { "V15", "automata-dcap-attestation/extracted/"
      "AutomataDcapOnChainAttestationTest__testTDXQuoteV4OnChainAttestation__sampleQuote.dat",
      "phala_format/automata_v4_tdx_0625.json", 1749095100, "OutOfDate",
      "INTEL-SA-00960,INTEL-SA-00982,INTEL-SA-00986", 0 },
    { "V17", "go-tdx-guest/testing/testdata/quote_v5_sample.dat",
      "phala_format/composed_go-tdx-guest_v5_with_dcap-qvl_2026_qe_crl.json", 1771545600,
      "UpToDate", "", 0 },
};

static uint8_t *load(const char *path, size_t *ret_len)
{
    return test_load(path, ret_len);
}

struct env {
    struct vouch_dcap_file_source *fs;
    struct vouch_dcap_ctx *ctx;
    uint8_t *quote;
    size_t len;
};

static void open_vector(struct env *e, const struct vector *v)
{
    struct vouch_errbuf eb = { "" };
    char path[512];

    snprintf(path, sizeof(path), V "%s", v->quote);
    e->quote = load(path, &e->len);
    snprintf(path, sizeof(path), V "%s", v->collateral);
    if (vouch_dcap_file_source_open(path, NULL, &e->fs, &eb))
        fail_msg("%s: %s", v->id, eb.msg);
    if (vouch_dcap_ctx_new(vouch_dcap_file_source_get(e->fs), NULL, &e->ctx, &eb))
        fail_msg("%s: %s", v->id, eb.msg);
}

static void close_vector(struct env *e)
{
    vouch_dcap_ctx_free(e->ctx);
    vouch_dcap_file_source_free(e->fs);
    free(e->quote);
    memset(e, 0, sizeof(*e));
}

static void check_advisories(const struct vector *v, const json_t *ids)
{
    char buf[512] = "";
    size_t i;
    json_t *x;

    json_array_foreach(ids, i, x) {
        if (i)
            strcat(buf, ",");
        strncat(buf, json_string_value(x), sizeof(buf) - strlen(buf) - 1);
    }
    if (strcmp(buf, v->advisories) != 0)
        fail_msg("%s: advisories '%s', expected '%s'", v->id, buf, v->advisories);
}

static void test_verdicts(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_result *r = NULL;
        struct env e;
        const char *ces;

        open_vector(&e, v);
        if (vouch_dcap_verify(e.ctx, e.quote, e.len, v->now, &r, &eb))
            fail_msg("%s: %s", v->id, eb.msg);
        if (strcmp(vouch_dcap_status_name(r->status), v->status) != 0)
            fail_msg("%s: status %s, expected %s", v->id, vouch_dcap_status_name(r->status),
                     v->status);
        check_advisories(v, r->advisory_ids);
        assert_int_equal(r->collateral_expired, v->expired);
        ces = json_string_value(json_object_get(r->claims, "collateral_expiration_status"));
        assert_string_equal(ces, v->expired ? "1" : "0");
        assert_string_equal(json_string_value(json_object_get(r->claims, "tcb_status")),
                            v->status);
        vouch_dcap_result_free(r);
        close_vector(&e);
    }
}

/* After the earliest nextUpdate: verified, flagged; before issueDate: an error. */
static void test_expiry(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const struct vector *v = &vectors[i];
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_result *r = NULL, *late = NULL, *early = NULL;
        struct env e;
        vouch_err err;

        open_vector(&e, v);
        if (vouch_dcap_verify(e.ctx, e.quote, e.len, v->now, &r, &eb))
            fail_msg("%s: %s", v->id, eb.msg);
        /* V11's collateral had already expired at its own time. */
        err = vouch_dcap_verify(e.ctx, e.quote, e.len,
                                v->expired ? v->now : r->earliest_expiration_date + 1, &late,
                                &eb);
        if (err)
            fail_msg("%s: after expiry: %s", v->id, eb.msg);
        assert_int_equal(late->collateral_expired, 1);
        assert_string_equal(json_string_value(json_object_get(late->claims,
                                                               "collateral_expiration_status")),
                            "1");
        assert_int_equal(late->status, r->status);
        err = vouch_dcap_verify(e.ctx, e.quote, e.len, r->latest_issue_date - 1, &early, &eb);
        assert_int_equal(err, VOUCH_E_NOT_YET_VALID);
        assert_null(early);
        if (!strstr(eb.msg, "not valid before"))
            fail_msg("%s: %s", v->id, eb.msg);
        vouch_dcap_result_free(r);
        vouch_dcap_result_free(late);
        close_vector(&e);
    }
}

/* Flip one byte in a region and check the step that fails. */
static void flip_case(const struct vector *v, size_t off, const char *step, vouch_err want)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_result *r = NULL;
    struct env e;
    vouch_err err;

    open_vector(&e, v);
    assert_true(off < e.len);
    e.quote[off] ^= 0x01;
    err = vouch_dcap_verify(e.ctx, e.quote, e.len, v->now, &r, &eb);
    if (err != want || strncmp(eb.msg, step, strlen(step)) != 0)
        fail_msg("%s: flip at %zu: got %s '%s', expected %s '%s...'", v->id, off,
                 vouch_err_name(err), eb.msg, vouch_err_name(want), step);
    assert_null(r);
    close_vector(&e);
}

static void test_flipped_bytes(void **state)
{
    static const size_t picks[] = { 1 /* V2 TDX v4 */, 0 /* V1 SGX v3 */,
                                    14 /* V17 TDX v5 */ };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
        const struct vector *v = &vectors[picks[i]];
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_quote q;
        struct env e;
        size_t body, qer, auth;

        open_vector(&e, v);
        if (vouch_dcap_quote_parse(e.quote, e.len, &q, &eb))
            fail_msg("%s: %s", v->id, eb.msg);
        body = (size_t)(vouch_dcap_report_data(&q) - e.quote);
        qer = (size_t)(q.qe_report - e.quote);
        auth = (size_t)(q.qe_auth_data - e.quote);
        close_vector(&e);
        /* The signed region: report data, MRTD/MRENCLAVE, the user data. */
        flip_case(v, body, "quote signature", VOUCH_E_VERIFY);
        flip_case(v, body - 100, "quote signature", VOUCH_E_VERIFY);
        flip_case(v, 30, "quote signature", VOUCH_E_VERIFY);
        /* The QE report (its report data, its ISVSVN). */
        flip_case(v, qer + 320, "qe report signature", VOUCH_E_VERIFY);
        flip_case(v, qer + 258, "qe report signature", VOUCH_E_VERIFY);
        /* The QE auth data. */
        flip_case(v, auth + 3, "qe report data", VOUCH_E_VERIFY);
        /* The quote signature itself. */
        flip_case(v, (size_t)(q.signature - q.raw) + 7, "quote signature", VOUCH_E_VERIFY);
    }
}

/* A warm verification hits the cache for every collateral object. */
static void test_cache(void **state)
{
    const struct vector *v = &vectors[1];
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_stats s1, s2;
    struct vouch_dcap_result *r = NULL;
    struct env e;
    int i;

    (void)state;
    open_vector(&e, v);
    for (i = 0; i < 3; i++) {
        if (vouch_dcap_verify(e.ctx, e.quote, e.len, v->now, &r, &eb))
            fail_msg("%s", eb.msg);
        vouch_dcap_result_free(r);
        if (i == 0)
            vouch_dcap_ctx_stats(e.ctx, &s1);
    }
    vouch_dcap_ctx_stats(e.ctx, &s2);
    assert_int_equal(s2.misses, s1.misses);   /* nothing re-verified */
    assert_int_equal(s2.hits - s1.hits, 2 * 7);
    /* 6 per-quote objects + the attestation key + the shared TCB signing chain */
    assert_int_equal(s2.entries, 8);
    vouch_dcap_ctx_flush(e.ctx);
    vouch_dcap_ctx_stats(e.ctx, &s2);
    assert_int_equal(s2.entries, 0);
    close_vector(&e);
}

/* Expected claims of trustee's parse test (deps/verifier/src/tdx/claims.rs). */
static void test_trustee_claims(void **state)
{
    struct vouch_errbuf eb = { "" };
    struct vouch_dcap_quote q;
    struct vouch_dcap_pck_info pck;
    json_t *want, *got = NULL;
    STACK_OF(X509) *sk = NULL;
    static const char *const keys[] = { "quote", "td_attributes", "report_data", "init_data",
                                        "platform_instance_id" };
    uint8_t *data;
    size_t len, i;

    (void)state;
    data = load(V "trustee/tdx_quote_4.dat", &len);
    assert_int_equal(vouch_dcap_quote_parse(data, len, &q, &eb), VOUCH_OK);
    assert_int_equal(vouch_json_load_file(V "trustee/parse_tdx_claims_expected.json", 1 << 20,
                                          &want, &eb), VOUCH_OK);
    assert_int_equal(vouch_x509_parse_pem_chain((const char *)q.cert_data, q.cert_len, 3,
                                                &sk, &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_pck_info_parse(sk_X509_value(sk, 0), &pck, &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_claims(&q, &pck, NULL, &got, &eb), VOUCH_OK);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_equal(json_object_get(want, keys[i]), json_object_get(got, keys[i]))) {
            char *a = json_dumps(json_object_get(got, keys[i]), JSON_SORT_KEYS | JSON_ENCODE_ANY);

            fail_msg("claim %s differs: %s", keys[i], a);
        }
    assert_true(json_is_true(json_object_get(json_object_get(got, "td_attributes"), "debug")));
    json_decref(want);
    json_decref(got);
    sk_X509_pop_free(sk, X509_free);
    free(data);
}

/* trustee's other quotes, Occlum's SGX quote and the hex samples parse. */
static void test_parse_only(void **state)
{
    static const struct {
        const char *path;
        int version;
        uint32_t tee;
        uint16_t body;
    } cases[] = {
        { V "trustee/tdx_quote_5.dat", 5, VOUCH_DCAP_TEE_TDX, VOUCH_DCAP_BODY_TD15 },
        { V "trustee/tdx_quote_6.dat", 4, VOUCH_DCAP_TEE_TDX, VOUCH_DCAP_BODY_TD10 },
        { V "trustee/occlum_quote.dat", 3, VOUCH_DCAP_TEE_SGX, VOUCH_DCAP_BODY_SGX },
        { V "dcap-qvl/sample/tdx-quote.hex", 4, VOUCH_DCAP_TEE_TDX, VOUCH_DCAP_BODY_TD10 },
        { V "dcap-qvl/sample/quote-from-tappd.hex", 4, VOUCH_DCAP_TEE_TDX,
          VOUCH_DCAP_BODY_TD10 },
        { V "go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat", 4, VOUCH_DCAP_TEE_TDX,
          VOUCH_DCAP_BODY_TD10 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_errbuf eb = { "" };
        struct vouch_dcap_quote q;
        uint8_t *raw, *bin;
        size_t len, blen;
        bool owned;
        json_t *c = NULL;

        raw = load(cases[i].path, &len);
        assert_int_equal(vouch_dcap_quote_decode(raw, len, &bin, &blen, &owned, &eb), VOUCH_OK);
        if (vouch_dcap_quote_parse(bin, blen, &q, &eb))
            fail_msg("%s: %s", cases[i].path, eb.msg);
        assert_int_equal(q.version, cases[i].version);
        assert_int_equal(q.tee_type, cases[i].tee);
        assert_int_equal(q.body_type, cases[i].body);
        assert_int_equal(q.cert_type, 5);
        assert_int_equal(vouch_dcap_claims(&q, NULL, NULL, &c, &eb), VOUCH_OK);
        if (q.body_type == VOUCH_DCAP_BODY_TD15) {
            json_t *body = json_object_get(json_object_get(c, "quote"), "body");

            assert_non_null(json_object_get(body, "mr_servicetd"));
            assert_string_equal(json_string_value(json_object_get(json_object_get(c, "quote"),
                                                                  "type")), "0300");
            assert_string_equal(json_string_value(json_object_get(json_object_get(c, "quote"),
                                                                  "size")), "88020000");
        }
        if (q.tee_type == VOUCH_DCAP_TEE_SGX) {
            /* Occlum: trustee's parse_sgx_claims expectations. */
            json_t *body = json_object_get(c, "body");

            assert_string_equal(json_string_value(json_object_get(body, "mr_enclave")),
                                "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68");
            assert_string_equal(json_string_value(json_object_get(body, "attributes.flags")),
                                "0700000000000000");
            assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(c, "header"), "qe_svn")), "0800");
            assert_string_equal(json_string_value(json_object_get(
                                    json_object_get(c, "header"), "user_data")),
                                "dccde9b31ce8860548173bb4a2a57a1600000000");
        }
        json_decref(c);
        if (owned)
            free(bin);
        free(raw);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_trustee_claims),
        cmocka_unit_test(test_parse_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
