/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testutil.h"

#include "collateral/collateral.h"
#include "common/json.h"

#define V2Q "tests/vectors/dcap/dcap-qvl/sample/tdx_quote"
#define V2C "tests/vectors/dcap/dcap-qvl/sample/tdx_quote_collateral.json"
#define V2T 1752919234

struct fx {
    char dir[48];
    struct vouch_store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char url[96];

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-coll-XXXXXX");
    if (!mkdtemp(f->dir))
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

static const char *action(const json_t *report, const char *id)
{
    size_t i;

    for (i = 0; i < json_array_size(report); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(report, i), "id")), id) == 0)
            return json_string_value(json_object_get(json_array_get(report, i), "action"));
    return "(absent)";
}

/* Verify V2 through a DCAP context over the store. */
static void verify_v2(struct vouch_store *s, const char *want_status)
{
    struct vouch_collateral *col = NULL;
    struct vouch_dcap_ctx *ctx = NULL;
    struct vouch_dcap_result *r = NULL;
    struct vouch_errbuf eb;
    uint8_t *q;
    size_t ql;

    q = test_load(V2Q, &ql);
    assert_int_equal(vouch_collateral_new(s, 5, &col, &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_ctx_new(vouch_collateral_source(col), NULL, &ctx, &eb), VOUCH_OK);
    if (vouch_dcap_verify(ctx, q, ql, V2T, &r, &eb))
        fail_msg("%s", eb.msg);
    assert_string_equal(vouch_dcap_status_name(r->status), want_status);
    vouch_dcap_result_free(r);
    /* again, from the in-memory copies */
    assert_int_equal(vouch_dcap_verify(ctx, q, ql, V2T, &r, &eb), VOUCH_OK);
    vouch_dcap_result_free(r);
    vouch_dcap_ctx_free(ctx);
    vouch_collateral_free(col);
    free(q);
}

static void test_import_v3_json_and_verify(void **state)
{
    struct fx *f = *state;
    struct vouch_store_doc *d = NULL;
    struct vouch_errbuf eb;
    json_t *rep = NULL, *coll;
    char *tcb_body;
    size_t n;
    uint8_t *text = test_load(V2C, &n);

    if (vouch_collateral_import_json(f->s, NULL, (char *)text, n, V2T, &rep, &eb))
        fail_msg("%s", eb.msg);
    assert_int_equal(json_array_size(rep), 4);
    assert_string_equal(action(rep, "rootcacrl"), "stored");
    assert_string_equal(action(rep, "pckcrl/platform"), "stored");
    assert_string_equal(action(rep, "tcb/tdx/B0C06F000000/v3"), "stored");
    assert_string_equal(action(rep, "qe/TD_QE"), "stored");
    json_decref(rep);
    /* the PCS body holds the exact signed bytes */
    coll = json_loadb((char *)text, n, 0, NULL);
    assert_int_equal(vouch_collateral_get(f->s, "tcb/tdx/B0C06F000000/v3", &d, &eb), VOUCH_OK);
    tcb_body = (char *)d->body;
    assert_non_null(strstr(tcb_body, json_string_value(json_object_get(coll, "tcb_info"))));
    assert_memory_equal(tcb_body, "{\"tcbInfo\":{\"id\":\"TDX\"", 21);
    vouch_store_doc_free(d);
    json_decref(coll);
    verify_v2(f->s, "UpToDate");
    /* importing the same again changes nothing */
    assert_int_equal(vouch_collateral_import_json(f->s, NULL, (char *)text, n, V2T, &rep, &eb),
                     VOUCH_OK);
    assert_string_equal(action(rep, "tcb/tdx/B0C06F000000/v3"), "unchanged");
    json_decref(rep);
    free(text);
}

/* Tampered imports are refused whole and leave the stored copy as it was. */
static void test_tampered_imports(void **state)
{
    struct fx *f = *state;
    struct vouch_store_doc *before = NULL, *after = NULL;
    struct vouch_errbuf eb;
    json_t *rep = NULL, *coll;
    size_t n, i;
    uint8_t *text = test_load(V2C, &n);
    const char *needle[] = { "tcb info", "issuer chain", "expired" };

    assert_int_equal(vouch_collateral_import_json(f->s, NULL, (char *)text, n, V2T, &rep, &eb),
                     VOUCH_OK);
    json_decref(rep);
    assert_int_equal(vouch_collateral_get(f->s, "tcb/tdx/B0C06F000000/v3", &before, NULL), 0);
    for (i = 0; i < 3; i++) {
        char *bad;
        int64_t at = V2T;

        coll = json_loadb((char *)text, n, 0, NULL);
        if (i == 0) {
            /* a flipped signature byte */
            char *sig = strdup(json_string_value(json_object_get(coll, "tcb_info_signature")));

            sig[10] = sig[10] == '0' ? '1' : '0';
            json_object_set_new(coll, "tcb_info_signature", json_string(sig));
            free(sig);
        } else if (i == 1) {
            /* the wrong chain: the PCK CRL's issuer in place of the TCB signer */
            json_object_set(coll, "tcb_info_issuer_chain",
                            json_object_get(coll, "pck_crl_issuer_chain"));
        } else {
            at = 2000000000LL + 86400LL * 3650 * 2; /* the chain has long expired */
        }
        bad = json_dumps(coll, JSON_COMPACT);
        rep = NULL;
        assert_int_not_equal(vouch_collateral_import_json(f->s, NULL, bad, strlen(bad), at, &rep,
                                                          &eb), VOUCH_OK);
        assert_null(rep);
        if (!strstr(eb.msg, needle[i]) && !(i == 1 && strstr(eb.msg, "Signing")))
            fail_msg("case %zu: '%s' lacks '%s'", i, eb.msg, needle[i]);
        free(bad);
        json_decref(coll);
    }
    assert_int_equal(vouch_collateral_get(f->s, "tcb/tdx/B0C06F000000/v3", &after, NULL), 0);
    assert_int_equal(after->body_len, before->body_len);
    assert_memory_equal(after->body, before->body, before->body_len);
    assert_int_equal(after->updated_at, before->updated_at);
    vouch_store_doc_free(before);
    vouch_store_doc_free(after);
    free(text);
}

/* Intel PCS responses saved with their issuer chains, in files and in JSON. */
static void test_import_pcs_forms(void **state)
{
    struct fx *f = *state;
    struct vouch_errbuf eb;
    json_t *rep = NULL;
    static const struct {
        const char *path;
        int64_t at;
        const char *id;
    } cases[] = {
        /* teepot's directory layout: TCB Info v2, DER CRLs */
        { "tests/vectors/dcap/teepot/sgx_quote_verification/sw_hardening", 1684165303,
          "tcb/sgx/00606A000000/v2" },
        /* teepot's captured PCS responses (2025-05-27) */
        { "tests/vectors/pccs/tdx_tcb_info.json", 1748400000, "tcb/tdx/00806F050000/v3" },
        { "tests/vectors/pccs/sgx_qve_identity.json", 1748400000, "qe/QVE" },
        { "tests/vectors/pccs/pck_crl_processor_der.json", 1748400000, "pckcrl/processor" },
        { "tests/vectors/pccs/pck_crl_platform.json", 1748400000, "pckcrl/platform" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (vouch_collateral_import_path(f->s, NULL, cases[i].path, cases[i].at, &rep, &eb))
            fail_msg("%s: %s", cases[i].path, eb.msg);
        if (strcmp(action(rep, cases[i].id), "stored"))
            fail_msg("%s: %s is %s", cases[i].path, cases[i].id, action(rep, cases[i].id));
        json_decref(rep);
    }
    assert_int_equal(vouch_collateral_import_path(f->s, NULL, "tests/vectors/nope", 0, &rep, &eb),
                     VOUCH_E_NOT_FOUND);
}

/*
 * PCK certificate selection among a platform's certificates (stored as the
 * import leaves them; the bodies name the TCB they stand for): the one for
 * the highest TCB at or below the raw TCB asked for.
 */
static void test_pckcert_selection(void **state)
{
    static const struct {
        const char *tcbm;           /* id suffix */
        uint8_t comp0, comp1;       /* the first two TCB components; the rest 0 */
        unsigned pcesvn;
    } certs[] = {
        { "LOW", 1, 1, 5 },
        { "MID", 3, 1, 10 },
        { "HIGHCOMP", 5, 5, 10 },
        { "HIGHPCE", 3, 1, 13 },
    };
    static const struct {
        uint8_t cpu0, cpu1;
        unsigned pcesvn;
        const char *want;           /* NULL: none at or below */
    } asks[] = {
        { 9, 9, 20, "HIGHPCE" },    /* HIGHCOMP and HIGHPCE not comparable: higher PCESVN */
        { 9, 9, 11, "HIGHCOMP" },
        { 4, 4, 20, "HIGHPCE" },
        { 3, 1, 12, "MID" },
        { 2, 9, 20, "LOW" },
        { 0, 9, 20, NULL },
        { 9, 9, 4, NULL },
    };
    struct fx *f = *state;
    struct vouch_store_doc *d;
    struct vouch_errbuf eb;
    uint8_t raw[16];
    char id[128], meta[256];
    size_t i;

    for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
        snprintf(id, sizeof(id), "pckcert/0000/00112233445566778899AABBCCDDEEFF/%s",
                 certs[i].tcbm);
        snprintf(meta, sizeof(meta), "{\"tcb_components\":[%u,%u,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"
                 "\"pcesvn\":%u}", certs[i].comp0, certs[i].comp1, certs[i].pcesvn);
        assert_int_equal(vouch_store_doc_put(f->s, VOUCH_COLLATERAL_KIND, id, certs[i].tcbm,
                                             strlen(certs[i].tcbm), meta, 0, 1, NULL), VOUCH_OK);
    }
    assert_int_equal(vouch_store_doc_put(f->s, VOUCH_COLLATERAL_KIND, "pckplatform/qe/AB/0000",
                                         "00112233445566778899AABBCCDDEEFF", 32, NULL, 0, 1,
                                         NULL), VOUCH_OK);
    for (i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
        vouch_err e;

        memset(raw, 0, sizeof(raw));
        raw[0] = asks[i].cpu0;
        raw[1] = asks[i].cpu1;
        d = NULL;
        e = vouch_collateral_pckcert(f->s, "AB", NULL, "0000", raw, asks[i].pcesvn, &d, &eb);
        if (asks[i].want) {
            if (e)
                fail_msg("ask %zu: %s", i, eb.msg);
            assert_string_equal((const char *)d->body, asks[i].want);
        } else {
            assert_int_equal(e, VOUCH_E_NOT_FOUND);
        }
        vouch_store_doc_free(d);
    }
    /* another platform, or another PCE: not found */
    assert_int_equal(vouch_collateral_pckcert(f->s, "CD", NULL, "0000", raw, 20, &d, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_collateral_pckcert(f->s, "AB", NULL, "0001", raw, 20, &d, &eb),
                     VOUCH_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_v3_json_and_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_imports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_pcs_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pckcert_selection, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
