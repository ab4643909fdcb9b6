/* SPDX-License-Identifier: Apache-2.0 */
/* NVIDIA RIMs in the store (collateral/rim.c): import, list and the RIM source over it. */
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

#include "collateral/rim.h"
#include "common/codec.h"
#include "common/time.h"
#include "crypto/x509.h"

#define NV_VEC "tests/vectors/nvgpu/"
#define RIM_ROOT NV_VEC "verifier_RIM_root.pem"
#define WRONG_ROOT NV_VEC "incorrect_rim_root.crt"
#define DRIVER_545 NV_VEC "rims/Driver_RIM_test_no_gpu.swidtag"
#define VBIOS_5E01 NV_VEC "rims/1010_0200_882_96005E0001_test_no_gpu.swidtag"
#define DRIVER_550 NV_VEC "rims/NV_GPU_DRIVER_GH100_550.144.03.xml"
#define ID_545 "NV_GPU_DRIVER_GH100_545.00"
#define ID_5E01 "NV_GPU_VBIOS_1010_0200_882_96005E0001"
#define ID_550 "NV_GPU_DRIVER_GH100_550.144.03"

struct fx {
    char dir[48];
    struct vouch_store *s;
    STACK_OF(X509) *roots;
};

static STACK_OF(X509) *roots_from(const char *path)
{
    STACK_OF(X509) *sk = NULL;
    size_t n;
    char *pem = (char *)test_load(path, &n);

    if (vouch_x509_parse_pem_chain(pem, n, 4, &sk, NULL))
        fail_msg("cannot parse %s", path);
    free(pem);
    return sk;
}

static int64_t at(const char *when)
{
    int64_t t = 0;

    if (vouch_time_parse_rfc3339(when, strlen(when), &t, NULL, NULL))
        fail_msg("bad time %s", when);
    return t;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char url[96];

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-rims-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/r.db", f->dir);
    if (vouch_store_open(url, &f->s, NULL))
        return -1;
    f->roots = roots_from(RIM_ROOT);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[80];

    sk_X509_pop_free(f->roots, X509_free);
    vouch_store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Import                                                              */

enum form { XML, ENVELOPE, TRUNCATED, EMPTY };

struct import_case {
    const char *name;
    const char *file;
    enum form form;
    const char *hint;
    const char *root;             /* NULL: NVIDIA's RIM root */
    const char *when;
    vouch_err want;
    const char *id, *kind, *version, *msg;
};

static const struct import_case import_cases[] = {
    { "driver RIM, SWID XML", DRIVER_545, XML, "Driver_RIM_test_no_gpu.swidtag", NULL,
      "2024-06-01T00:00:00Z", VOUCH_OK, ID_545, "driver", "545.00", NULL },
    { "VBIOS RIM, id from the file name", VBIOS_5E01, XML,
      "1010_0200_882_96005E0001_test_no_gpu.swidtag", NULL, "2024-06-01T00:00:00Z", VOUCH_OK,
      ID_5E01, "vbios", "96.00.5E.00.01", NULL },
    { "driver RIM, RIM service JSON", DRIVER_550, ENVELOPE, NULL, NULL, "2025-10-01T00:00:00Z",
      VOUCH_OK, ID_550, "driver", "550.144.03", NULL },
    { "expired signer", DRIVER_545, XML, NULL, NULL, "2026-01-01T00:00:00Z", VOUCH_E_EXPIRED,
      NULL, NULL, NULL, NULL },
    { "signer chain to another root", DRIVER_545, XML, NULL, WRONG_ROOT, "2024-06-01T00:00:00Z",
      VOUCH_E_VERIFY, NULL, NULL, NULL, NULL },
    { "edited measurements break the signature",
      NV_VEC "rims-bad/NV_GPU_DRIVER_GH100_535.86.09_measurement_mismatch.xml", XML, NULL, NULL,
      "2025-10-01T00:00:00Z", VOUCH_E_VERIFY, NULL, NULL, NULL, "signature" },
    { "truncated XML", DRIVER_545, TRUNCATED, NULL, NULL, "2024-06-01T00:00:00Z",
      VOUCH_E_INVALID, NULL, NULL, NULL, NULL },
    { "empty", DRIVER_545, EMPTY, NULL, NULL, "2024-06-01T00:00:00Z", VOUCH_E_INVALID, NULL,
      NULL, NULL, NULL },
};

/* The case's input bytes (allocated). */
static uint8_t *case_input(const struct import_case *c, const char *id, size_t *ret_len)
{
    size_t n;
    uint8_t *doc = test_load(c->file, &n);
    char *b64, *env;

    switch (c->form) {
    case ENVELOPE:
        b64 = vouch_b64_alloc(doc, n, VOUCH_B64_STD);
        env = malloc(strlen(b64) + 128);
        assert_non_null(env);
        sprintf(env, "{\"id\":\"%s\",\"rim\":\"%s\"}", id, b64);
        free(b64);
        free(doc);
        *ret_len = strlen(env);
        return (uint8_t *)env;
    case TRUNCATED:
        *ret_len = n / 2;
        return doc;
    case EMPTY:
        *ret_len = 0;
        return doc;
    case XML:
        break;
    }
    *ret_len = n;
    return doc;
}

static void check_import(struct fx *f, const struct import_case *c)
{
    STACK_OF(X509) *roots = c->root ? roots_from(c->root) : f->roots;
    char id[VOUCH_NVGPU_RIM_ID_MAX];
    struct vouch_errbuf eb;
    json_t *report = NULL;
    size_t len;
    uint8_t *in = case_input(c, c->id ? c->id : ID_550, &len);
    vouch_err e;

    memset(&eb, 0, sizeof(eb));
    e = vouch_rim_import(f->s, roots, in, len, c->hint, at(c->when), id, &report, &eb);
    if (e != c->want)
        fail_msg("%s: got %s (%s), want %s", c->name, vouch_err_name(e), eb.msg,
                 vouch_err_name(c->want));
    if (c->msg && !strstr(eb.msg, c->msg))
        fail_msg("%s: message '%s' lacks '%s'", c->name, eb.msg, c->msg);
    if (!e) {
        assert_string_equal(id, c->id);
        assert_string_equal(json_string_value(json_object_get(report, "id")), c->id);
        assert_string_equal(json_string_value(json_object_get(report, "kind")), c->kind);
        assert_string_equal(json_string_value(json_object_get(report, "version")), c->version);
        assert_non_null(json_string_value(json_object_get(report, "not_after")));
    } else {
        assert_null(report);
    }
    json_decref(report);
    free(in);
    if (c->root)
        sk_X509_pop_free(roots, X509_free);
}

/* Every case in turn; only the ones that verified are stored, and listed by id. */
static void test_import_and_list(void **state)
{
    struct fx *f = *state;
    const char *want_ids[] = { ID_545, ID_550, ID_5E01 };
    json_t *list = NULL;
    size_t i;

    for (i = 0; i < sizeof(import_cases) / sizeof(import_cases[0]); i++)
        check_import(f, &import_cases[i]);
    assert_int_equal(vouch_rim_list(f->s, &list, NULL), VOUCH_OK);
    assert_int_equal(json_array_size(list), 3);
    for (i = 0; i < 3; i++) {
        json_t *m = json_array_get(list, i);

        assert_string_equal(json_string_value(json_object_get(m, "id")), want_ids[i]);
        assert_non_null(json_string_value(json_object_get(m, "kind")));
        assert_non_null(json_string_value(json_object_get(m, "version")));
        assert_non_null(json_string_value(json_object_get(m, "updated_at")));
    }
    json_decref(list);
    /* Importing the same RIM again replaces it. */
    check_import(f, &import_cases[0]);
    assert_int_equal(vouch_rim_list(f->s, &list, NULL), VOUCH_OK);
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);
}

/* ------------------------------------------------------------------ */
/* The source                                                          */

static void import_file(struct fx *f, const char *path, const char *hint, const char *when)
{
    struct vouch_errbuf eb;
    size_t n;
    uint8_t *doc = test_load(path, &n);

    if (vouch_rim_import(f->s, f->roots, doc, n, hint, at(when), NULL, NULL, &eb))
        fail_msg("%s: %s", path, eb.msg);
    free(doc);
}

static void expect_doc(struct vouch_nvgpu_rim_source src, const char *id, const char *path)
{
    struct vouch_errbuf eb;
    uint8_t *got = NULL;
    size_t n, glen = 0;
    uint8_t *want = test_load(path, &n);

    if (src.get(src.ctx, id, &got, &glen, &eb))
        fail_msg("%s: %s", id, eb.msg);
    assert_int_equal(glen, n);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
}

static vouch_err source_get(struct vouch_nvgpu_rim_source src, const char *id)
{
    uint8_t *got = NULL;
    size_t glen = 0;
    vouch_err e = src.get(src.ctx, id, &got, &glen, NULL);

    free(got);
    return e;
}

/*
 * Served from the store; with a TTL, from memory too: a RIM deleted from
 * the store behind the rimstore's back is still served (a copy each time)
 * until the TTL runs out, and without a TTL it is gone at once.
 */
static void test_source_store_and_memory(void **state)
{
    struct fx *f = *state;
    struct vouch_rimstore *cached = NULL, *direct = NULL;
    struct vouch_nvgpu_rim_source sc, sd;

    import_file(f, DRIVER_545, "Driver_RIM_test_no_gpu.swidtag", "2024-06-01T00:00:00Z");
    import_file(f, VBIOS_5E01, "1010_0200_882_96005E0001_test_no_gpu.swidtag",
                "2024-06-01T00:00:00Z");
    assert_int_equal(vouch_rimstore_new(f->s, 3600, f->roots, NULL, &cached, NULL), VOUCH_OK);
    assert_int_equal(vouch_rimstore_new(f->s, 0, f->roots, NULL, &direct, NULL), VOUCH_OK);
    sc = vouch_rimstore_source(cached);
    sd = vouch_rimstore_source(direct);
    expect_doc(sc, ID_545, DRIVER_545);
    expect_doc(sc, ID_5E01, VBIOS_5E01);
    expect_doc(sd, ID_545, DRIVER_545);
    assert_int_equal(source_get(sc, "NV_GPU_DRIVER_GH100_000.00"), VOUCH_E_NOT_FOUND);
    assert_int_not_equal(source_get(sc, ""), VOUCH_OK);
    assert_int_equal(vouch_store_doc_delete(f->s, VOUCH_RIM_KIND, ID_545, NULL), VOUCH_OK);
    expect_doc(sc, ID_545, DRIVER_545);
    expect_doc(sc, ID_545, DRIVER_545);
    assert_int_equal(source_get(sd, ID_545), VOUCH_E_NOT_FOUND);
    vouch_rimstore_free(cached);
    vouch_rimstore_free(direct);
    vouch_rimstore_free(NULL);
}

/* A RIM service stand-in answering from the test vectors. */
struct service {
    const char *answer_file;      /* NULL: fail */
    const char *answer_id;        /* id in the JSON envelope; NULL: answer the bare XML */
    bool garbage;
    bool tamper;                  /* change one measurement of the XML */
    const char *when;             /* the clock the import runs at */
    int calls;
};

static vouch_err service_fetch(void *ctx, const char *id, uint8_t **ret_doc, size_t *ret_len,
                               struct vouch_errbuf *eb)
{
    struct service *sv = ctx;
    struct import_case c = { "fetch", sv->answer_file, sv->answer_id ? ENVELOPE : XML, NULL,
                             NULL, NULL, VOUCH_OK, NULL, NULL, NULL, NULL };

    (void)id;
    sv->calls++;
    if (!sv->answer_file)
        return vouch_fail(eb, VOUCH_E_IO, "connection refused");
    if (sv->garbage) {
        *ret_doc = (uint8_t *)strdup("{\"id\":");
        *ret_len = strlen((char *)*ret_doc);
        return VOUCH_OK;
    }
    *ret_doc = case_input(&c, sv->answer_id, ret_len);
    if (sv->tamper) {
        char *m = memmem(*ret_doc, *ret_len, "Hash0=\"0", 8);

        assert_non_null(m);
        m[7] = '1';
    }
    return VOUCH_OK;
}

static int64_t service_clock(void *ctx)
{
    return at(((struct service *)ctx)->when);
}

struct fetch_case {
    const char *name;
    struct service sv;
    vouch_err want;
    const char *msg;
    int calls_after_two_gets;
};

static const struct fetch_case fetch_cases[] = {
    { "fetched (JSON), imported, then served from the store",
      { DRIVER_550, ID_550, false, false, "2025-10-01T00:00:00Z", 0 }, VOUCH_OK, NULL, 1 },
    { "fetched (XML)", { DRIVER_550, NULL, false, false, "2025-10-01T00:00:00Z", 0 }, VOUCH_OK,
      NULL, 1 },
    { "service down", { NULL, NULL, false, false, "2025-10-01T00:00:00Z", 0 }, VOUCH_E_IO,
      "RIM service: ", 2 },
    { "service answers garbage", { DRIVER_550, ID_550, true, false, "2025-10-01T00:00:00Z", 0 },
      VOUCH_E_INVALID, "RIM service answer: ", 2 },
    { "service answers a RIM whose signature fails",
      { DRIVER_550, NULL, false, true, "2025-10-01T00:00:00Z", 0 }, VOUCH_E_VERIFY,
      "RIM service answer: ", 2 },
    { "service answers another RIM", { DRIVER_545, NULL, false, false, "2024-06-01T00:00:00Z", 0 },
      VOUCH_E_CONFLICT, "RIM service answer: RIM named", 2 },
};

static void test_source_fetch(void **state)
{
    struct fx *f = *state;
    size_t i;

    for (i = 0; i < sizeof(fetch_cases) / sizeof(fetch_cases[0]); i++) {
        const struct fetch_case *c = &fetch_cases[i];
        struct service sv = c->sv;
        struct vouch_rim_fetcher fetch = { service_fetch, service_clock, &sv };
        struct vouch_rimstore *r = NULL;
        struct vouch_nvgpu_rim_source src;
        struct vouch_errbuf eb;
        uint8_t *got = NULL;
        size_t glen = 0;
        vouch_err e;
        int round;

        vouch_store_doc_delete(f->s, VOUCH_RIM_KIND, ID_550, NULL);
        assert_int_equal(vouch_rimstore_new(f->s, 0, f->roots, &fetch, &r, NULL), VOUCH_OK);
        src = vouch_rimstore_source(r);
        for (round = 0; round < 2; round++) {
            memset(&eb, 0, sizeof(eb));
            e = src.get(src.ctx, ID_550, &got, &glen, &eb);
            if (e != c->want)
                fail_msg("%s: got %s (%s), want %s", c->name, vouch_err_name(e), eb.msg,
                         vouch_err_name(c->want));
            if (c->msg && !strstr(eb.msg, c->msg))
                fail_msg("%s: message '%s' lacks '%s'", c->name, eb.msg, c->msg);
            free(got);
            got = NULL;
        }
        if (sv.calls != c->calls_after_two_gets)
            fail_msg("%s: %d fetches", c->name, sv.calls);
        vouch_rimstore_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_store_and_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_fetch, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
