/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Negative and policy-relevant cases on synthetic quotes from the test PKI
 * (tests/tools/forge.c): TCB levels and their convergence, revoked PCK,
 * debug TD, bad QE report data, bad quote signature, expired and not yet
 * valid collateral, a wrong trust anchor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/x509.h"
#include "evidence/dcap/dcap.h"
#include "../tools/forge.h"

#define NOW 1763000000 /* 2025-11-13 */

struct run {
    struct forge_out out;
    struct vouch_dcap_file_source *fs;
    struct vouch_dcap_ctx *ctx;
    struct vouch_dcap_result *res;
    struct vouch_errbuf eb;
    vouch_err err;
};

static X509 *root_of(const char *pem)
{
    STACK_OF(X509) *sk = NULL;
    X509 *x;

    assert_int_equal(vouch_x509_parse_pem_chain(pem, strlen(pem), 1, &sk, NULL), VOUCH_OK);
    x = sk_X509_shift(sk);
    sk_X509_pop_free(sk, X509_free);
    return x;
}

/* Forge with o, verify at `at` against the forged root (or Intel's when intel_root). */
static void forge_verify(struct run *r, const struct forge_opts *o, int64_t at, bool intel_root)
{
    char err[256];
    X509 *root;

    memset(r, 0, sizeof(*r));
    if (forge_make(o, &r->out, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(vouch_dcap_file_source_from_json(r->out.collateral,
                                                      strlen(r->out.collateral), &r->fs,
                                                      &r->eb), VOUCH_OK);
    root = intel_root ? NULL : root_of(r->out.root_pem);
    assert_int_equal(vouch_dcap_ctx_new(vouch_dcap_file_source_get(r->fs), root, &r->ctx,
                                        &r->eb), VOUCH_OK);
    X509_free(root);
    r->err = vouch_dcap_verify(r->ctx, r->out.quote, r->out.quote_len, at, &r->res, &r->eb);
}

static void run_done(struct run *r)
{
    vouch_dcap_result_free(r->res);
    vouch_dcap_ctx_free(r->ctx);
    vouch_dcap_file_source_free(r->fs);
    forge_out_free(&r->out);
}

static const char *ids(const json_t *a)
{
    static char buf[256];
    size_t i;
    json_t *v;

    buf[0] = '\0';
    json_array_foreach(a, i, v) {
        if (i)
            strcat(buf, ",");
        strncat(buf, json_string_value(v), sizeof(buf) - strlen(buf) - 1);
    }
    return buf;
}

static void test_statuses(void **state)
{
    static const struct {
        bool tdx;
        int version;
        const char *status, *qe, *module;
        const char *want, *advisories;
    } cases[] = {
        { true, 4, "UpToDate", NULL, NULL, "UpToDate", "" },
        { true, 4, "OutOfDate", NULL, NULL, "OutOfDate", "INTEL-SA-99999" },
        { true, 4, "ConfigurationNeeded", NULL, NULL, "ConfigurationNeeded", "INTEL-SA-99999" },
        { true, 4, "SWHardeningNeeded", NULL, NULL, "SWHardeningNeeded", "INTEL-SA-99999" },
        { true, 4, "OutOfDateConfigurationNeeded", NULL, NULL, "OutOfDateConfigurationNeeded",
          "INTEL-SA-99999" },
        /* Intel's convergence, not "max severity": */
        { true, 4, "ConfigurationNeeded", "OutOfDate", NULL, "OutOfDateConfigurationNeeded",
          "INTEL-SA-99999,INTEL-SA-77777" },
        { true, 4, "ConfigurationAndSWHardeningNeeded", "OutOfDate", NULL,
          "OutOfDateConfigurationNeeded", "INTEL-SA-99999,INTEL-SA-77777" },
        { true, 4, "SWHardeningNeeded", "OutOfDate", NULL, "OutOfDate",
          "INTEL-SA-99999,INTEL-SA-77777" },
        { true, 4, "UpToDate", NULL, "OutOfDate", "OutOfDate", "INTEL-SA-88888" },
        { true, 5, "UpToDate", NULL, NULL, "UpToDate", "" },
        { true, 5, "ConfigurationNeeded", NULL, "OutOfDate", "OutOfDateConfigurationNeeded",
          "INTEL-SA-99999,INTEL-SA-88888" },
        { false, 3, "UpToDate", NULL, NULL, "UpToDate", "" },
        { false, 3, "ConfigurationAndSWHardeningNeeded", NULL, NULL,
          "ConfigurationAndSWHardeningNeeded", "INTEL-SA-99999" },
        { false, 3, "UpToDate", "OutOfDate", NULL, "OutOfDate", "INTEL-SA-77777" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct forge_opts o;
        struct run r;

        forge_defaults(&o, NOW);
        o.tdx = cases[i].tdx;
        o.version = cases[i].version;
        o.status = cases[i].status;
        o.qe_status = cases[i].qe;
        o.module_status = cases[i].module;
        forge_verify(&r, &o, NOW, false);
        if (r.err)
            fail_msg("case %zu: %s", i, r.eb.msg);
        if (strcmp(vouch_dcap_status_name(r.res->status), cases[i].want) != 0)
            fail_msg("case %zu: %s, expected %s", i, vouch_dcap_status_name(r.res->status),
                     cases[i].want);
        if (strcmp(ids(r.res->advisory_ids), cases[i].advisories) != 0)
            fail_msg("case %zu: advisories %s, expected %s", i, ids(r.res->advisory_ids),
                     cases[i].advisories);
        assert_int_equal(r.res->collateral_expired, 0);
        run_done(&r);
    }
}

static void test_failures(void **state)
{
    static const struct {
        const char *name;
        bool revoked, below, bad_qerd, bad_sig;
        const char *status;
        vouch_err want;
        const char *step;
    } cases[] = {
        { "revoked PCK", true, false, false, false, NULL, VOUCH_E_REVOKED, "pck chain:" },
        { "below all", false, true, false, false, NULL, VOUCH_E_VERIFY, "tcb level:" },
        { "QE report data", false, false, true, false, NULL, VOUCH_E_VERIFY,
          "qe report data:" },
        { "quote signature", false, false, false, true, NULL, VOUCH_E_VERIFY,
          "quote signature:" },
        { "Revoked TCB", false, false, false, false, "Revoked", VOUCH_E_REVOKED,
          "tcb status:" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct forge_opts o;
        struct run r;

        forge_defaults(&o, NOW);
        o.revoked_pck = cases[i].revoked;
        o.below_all = cases[i].below;
        o.bad_qe_report_data = cases[i].bad_qerd;
        o.bad_quote_sig = cases[i].bad_sig;
        o.status = cases[i].status;
        forge_verify(&r, &o, NOW, false);
        if (r.err != cases[i].want || strncmp(r.eb.msg, cases[i].step, strlen(cases[i].step)))
            fail_msg("%s: %s '%s'", cases[i].name, vouch_err_name(r.err), r.eb.msg);
        assert_null(r.res);
        run_done(&r);
    }
}

static void test_debug_is_a_claim(void **state)
{
    struct forge_opts o;
    struct run r;
    json_t *attrs;

    (void)state;
    forge_defaults(&o, NOW);
    o.td_attributes |= 1;
    memset(o.report_data, 0xab, 64);
    memset(o.init_data, 0xcd, 48);
    forge_verify(&r, &o, NOW, false);
    assert_int_equal(r.err, VOUCH_OK);
    attrs = json_object_get(r.res->claims, "td_attributes");
    assert_true(json_is_true(json_object_get(attrs, "debug")));
    assert_true(json_is_true(json_object_get(attrs, "septve_disable")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(
                            r.res->claims, "quote"), "body"), "td_attributes")),
                        "0100001000000000");
    assert_int_equal(strspn(json_string_value(json_object_get(r.res->claims, "report_data")),
                            "ab"), 128);
    assert_int_equal(strspn(json_string_value(json_object_get(r.res->claims, "init_data")),
                            "cd"), 96);
    run_done(&r);

    forge_defaults(&o, NOW);
    o.tdx = false;
    o.sgx_debug = true;
    forge_verify(&r, &o, NOW, false);
    assert_int_equal(r.err, VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(r.res->claims, "body"),
                                                          "attributes.flags")),
                        "0700000000000000");
    run_done(&r);
}

static void test_time(void **state)
{
    struct forge_opts o;
    struct run r;

    (void)state;
    forge_defaults(&o, NOW);
    o.days = 10;
    /* After nextUpdate: still verified, flagged. */
    forge_verify(&r, &o, NOW + 11 * 86400, false);
    assert_int_equal(r.err, VOUCH_OK);
    assert_int_equal(r.res->collateral_expired, 1);
    assert_int_equal(r.res->status, VOUCH_DCAP_UP_TO_DATE);
    run_done(&r);
    /* Before issueDate: an error. */
    forge_verify(&r, &o, NOW - 7200, false);
    assert_int_equal(r.err, VOUCH_E_NOT_YET_VALID);
    assert_non_null(strstr(r.eb.msg, "not valid before"));
    run_done(&r);
}

/* The forged chain does not lead to Intel's root, the default anchor. */
static void test_intel_root_default(void **state)
{
    struct forge_opts o;
    struct run r;

    (void)state;
    forge_defaults(&o, NOW);
    forge_verify(&r, &o, NOW, true);
    assert_int_not_equal(r.err, VOUCH_OK);
    assert_non_null(strstr(r.eb.msg, "root ca crl:"));
    run_done(&r);
}

/* A quote verified against collateral of another PKI fails at the PCK chain. */
static void test_foreign_chain(void **state)
{
    struct forge_opts o;
    struct forge_out other;
    struct run r;
    char err[256];
    struct vouch_dcap_result *res = NULL;

    (void)state;
    forge_defaults(&o, NOW);
    forge_verify(&r, &o, NOW, false);
    assert_int_equal(r.err, VOUCH_OK);
    assert_int_equal(forge_make(&o, &other, err, sizeof(err)), 0);
    assert_int_equal(vouch_dcap_verify(r.ctx, other.quote, other.quote_len, NOW, &res, &r.eb),
                     VOUCH_E_VERIFY);
    assert_non_null(strstr(r.eb.msg, "pck chain:"));
    forge_out_free(&other);
    run_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_debug_is_a_claim),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_intel_root_default),
        cmocka_unit_test(test_foreign_chain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
