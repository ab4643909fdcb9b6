/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier registry and the trust hooks (include/vouch/evidence.h):
 * every verifier is found by its tee, sets up its trust from a host's
 * options and sources in registry order, and verifies real evidence with
 * the trust it built.  The host here is a table, as vouchd's is its
 * configuration and stores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/codec.h"
#include "common/file.h"
#include "evidence/dcap/dcap.h"
#include "evidence/nvgpu/nvgpu.h"
#include "vouch/evidence.h"

#define V "tests/vectors/"
#define N_MAX 16

struct host {
    const char *const *options;        /* name, value, name, value, ..., NULL */
    const struct vouch_dcap_source *pcs;
    const struct vouch_net_source *net;
    const struct vouch_verifier *set_up[N_MAX];
    void *trust[N_MAX];
    size_t n;
};

static const char *host_option(void *ctx, const char *name)
{
    const struct host *h = ctx;
    size_t i;

    for (i = 0; h->options && h->options[i]; i += 2)
        if (strcmp(h->options[i], name) == 0)
            return h->options[i + 1];
    return NULL;
}

static const void *host_source(void *ctx, const char *name)
{
    const struct host *h = ctx;

    if (strcmp(name, VOUCH_SOURCE_PCS_COLLATERAL) == 0)
        return h->pcs;
    if (strcmp(name, VOUCH_SOURCE_NET) == 0)
        return h->net;
    return NULL;
}

static void *host_trust(void *ctx, const char *tee)
{
    const struct host *h = ctx;
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcmp(h->set_up[i]->tee, tee) == 0)
            return h->trust[i];
    return NULL;
}

/* Every verifier's trust_new in registry order, as vouchd's app.c does. */
static vouch_err set_up(struct host *h, struct vouch_errbuf *eb)
{
    const struct vouch_verifier_host view = { host_option, host_source, host_trust, h };
    const struct vouch_verifier *v;
    vouch_err e;

    for (h->n = 0; (v = vouch_verifier_at(h->n)); h->n++) {
        assert_true(h->n < N_MAX);
        h->set_up[h->n] = v;
        h->trust[h->n] = NULL;
        if (v->trust_new && (e = v->trust_new(v, &view, &h->trust[h->n], eb)))
            return e;
    }
    return VOUCH_OK;
}

static void tear_down(struct host *h)
{
    while (h->n > 0) {
        h->n--;
        if (h->set_up[h->n]->trust_free)
            h->set_up[h->n]->trust_free(h->trust[h->n]);
    }
}

static void test_registry(void **state)
{
    const struct vouch_verifier *v, *w;
    size_t i, j;

    (void)state;
    for (i = 0; (v = vouch_verifier_at(i)); i++) {
        assert_non_null(v->tee);
        assert_non_null(v->verify);
        assert_ptr_equal(vouch_verifier_find(v->tee), v);
        assert_true(!v->trust_free || v->trust_new);
        for (j = 0; j < i; j++) {
            w = vouch_verifier_at(j);
            if (strcmp(w->tee, v->tee) == 0)
                fail_msg("tee %s registered twice", v->tee);
        }
        if (v->inspect)
            assert_true(v->inspect->name && v->inspect->usage && v->inspect->summary);
    }
    assert_true(i >= 4);
    assert_null(vouch_verifier_at(i));
    assert_null(vouch_verifier_at((size_t)-1));
    assert_null(vouch_verifier_find("sev"));
    assert_null(vouch_verifier_find(""));
    /* tdx and sgx describe one `vouch inspect quote` */
    assert_ptr_equal(vouch_verifier_find("tdx")->inspect, vouch_verifier_find("sgx")->inspect);
    assert_string_equal(vouch_verifier_find("nvgpu")->inspect->name, "gpu");
}

/* The list request errors show: every tee, in registry order, capped by the buffer. */
static void test_names(void **state)
{
    char all[256], small[8];

    (void)state;
    vouch_verifier_names(all, sizeof(all));
    assert_string_equal(all, "tdx, sgx, nvgpu, acstdxnvgpu, snp, az-snp-vtpm, az-tdx-vtpm, "
                             "tpm");
    vouch_verifier_names(small, sizeof(small));
    assert_string_equal(small, "tdx, sg");
    vouch_verifier_names(small, 0); /* writes nothing */
}

/* Options the hooks refuse, each named in the message. */
static void test_bad_options(void **state)
{
    static const char *const bad_mode[] = { "nvgpu-ocsp", "sometimes", NULL };
    static const char *const no_net[] = { "nvgpu-ocsp", "require", NULL };
    static const char *const no_root[] = { "nvgpu-device-root", "/nonexistent/root.pem", NULL };
    static const char *const no_rim_root[] = { "nvgpu-rim-root", "/nonexistent/rim.pem",
                                               NULL };
    static const struct {
        const char *const *options;
        vouch_err want;
        const char *needle;
    } cases[] = {
        { bad_mode, VOUCH_E_INVALID, "--nvgpu-ocsp" },
        { no_net, VOUCH_E_UNSUPPORTED, "--nvgpu-ocsp" },
        { no_root, VOUCH_E_NOT_FOUND, "--nvgpu-device-root" },
        { no_rim_root, VOUCH_E_NOT_FOUND, "--nvgpu-rim-root" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct host h = { .options = cases[i].options };
        struct vouch_errbuf eb = { "" };
        vouch_err e = set_up(&h, &eb);

        if (e != cases[i].want || !strstr(eb.msg, cases[i].needle))
            fail_msg("case %zu: got %s '%s'", i, vouch_err_name(e), eb.msg);
        tear_down(&h);
    }
}

static vouch_err net_refuses(void *ctx, const char *url, const char *content_type,
                             const uint8_t *body, size_t body_len, size_t max,
                             uint8_t **ret_body, size_t *ret_len, struct vouch_errbuf *eb)
{
    (void)ctx, (void)content_type, (void)body, (void)body_len, (void)max;
    (void)ret_body, (void)ret_len;
    return vouch_fail(eb, VOUCH_E_IO, "%s: no network here", url);
}

/* Without a PCS source tdx has no trust; nvgpu always has its pinned roots. */
static void test_trust_without_sources(void **state)
{
    static const char *const opts[] = { "nvgpu-ocsp", "soft", NULL };
    const struct vouch_net_source net = { net_refuses, NULL };
    struct host h = { .options = opts, .net = &net };
    struct vouch_acstdxnvgpu_trust *acs;
    struct vouch_errbuf eb = { "" };

    (void)state;
    assert_int_equal(set_up(&h, &eb), VOUCH_OK);
    assert_null(host_trust(&h, "tdx"));
    assert_null(host_trust(&h, "sgx"));
    assert_non_null(host_trust(&h, "nvgpu"));
    acs = host_trust(&h, "acstdxnvgpu");
    assert_non_null(acs);
    assert_null(acs->tdx);
    assert_ptr_equal(acs->gpu, host_trust(&h, "nvgpu"));
    tear_down(&h);
}

/* The tdx trust built by its hook verifies a real TDX quote; sgx shares it. */
static void test_tdx_through_hook(void **state)
{
    static const char *const opts[] = { NULL };
    struct vouch_dcap_file_source *fs = NULL;
    struct vouch_errbuf eb = { "" };
    const struct vouch_verifier *tdx = vouch_verifier_find("tdx");
    uint8_t *quote = NULL, *decoded = NULL;
    size_t len, dlen;
    bool owned = false;
    char *b64, *doc;
    json_t *claims = NULL;
    struct host h = { .options = opts };

    (void)state;
    assert_int_equal(vouch_dcap_file_source_open(V "dcap/dcap-qvl/sample/tdx_quote_collateral.json",
                                                 NULL, &fs, &eb), VOUCH_OK);
    h.pcs = vouch_dcap_file_source_get(fs);
    assert_int_equal(set_up(&h, &eb), VOUCH_OK);
    assert_non_null(host_trust(&h, "tdx"));
    assert_ptr_equal(host_trust(&h, "sgx"), host_trust(&h, "tdx"));
    assert_ptr_equal(((struct vouch_acstdxnvgpu_trust *)host_trust(&h, "acstdxnvgpu"))->tdx,
                     host_trust(&h, "tdx"));

    assert_int_equal(vouch_file_read(V "dcap/dcap-qvl/sample/tdx_quote", 1u << 20, &quote, &len,
                                     &eb), VOUCH_OK);
    assert_int_equal(vouch_dcap_quote_decode(quote, len, &decoded, &dlen, &owned, &eb), VOUCH_OK);
    b64 = vouch_b64_alloc(decoded, dlen, VOUCH_B64_STD);
    assert_non_null(b64);
    assert_true(asprintf(&doc, "{\"quote\": \"%s\"}", b64) > 0);
    assert_int_equal(tdx->verify(tdx, host_trust(&h, "tdx"), (const uint8_t *)doc, strlen(doc),
                                 NULL, 1752919234, &claims, &eb), VOUCH_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "tcb_status")), "UpToDate");
    json_decref(claims);
    /* a TDX quote is not SGX evidence, whatever the trust */
    assert_int_equal(vouch_verifier_find("sgx")->verify(vouch_verifier_find("sgx"),
                                                        host_trust(&h, "sgx"),
                                                        (const uint8_t *)doc, strlen(doc), NULL,
                                                        1752919234, &claims, &eb),
                     VOUCH_E_INVALID);
    free(doc);
    free(b64);
    if (owned)
        free(decoded);
    free(quote);
    tear_down(&h);
    vouch_dcap_file_source_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_trust_without_sources),
        cmocka_unit_test(test_tdx_through_hook),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
