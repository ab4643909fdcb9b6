/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vTPM program whitelists (src/vtpm/whitelist.c): importing keylime runtime
 * policies and digest lists (real ones from keylime's test data), errors
 * that name the place at fault, the compiled-whitelist cache, and the
 * appraisal of a real IMA log (embrave's, 922 entries) through the store.
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

#include "common/buf.h"
#include "common/cache.h"
#include "common/codec.h"
#include "evidence/tpm/ima.h"
#include "tpm_testutil.h"
#include "vtpm/whitelist.h"

#define KL TPM_VEC "keylime/"

static struct vouch_vtpm_wl_doc import_file(const char *format, const char *path)
{
    struct vouch_vtpm_wl_doc d = { 0 };
    struct vouch_errbuf eb;
    size_t len;
    uint8_t *text = tu_read(path, &len);
    vouch_err e = vouch_vtpm_whitelist_import(format, (const char *)text, len, &d, &eb);

    if (e)
        fail_msg("%s: %s", path, eb.msg);
    free(text);
    return d;
}

/* Real keylime policies: counted, stored as keylime JSON with nothing lost. */
static void test_import_keylime(void **state)
{
    static const struct {
        const char *file;
        int64_t digests, paths;
    } cases[] = {
        { KL "runtime-policy-test.json", 21, 21 },
        { KL "runtime-policy.json", 7, 7 },
        { KL "runtime-policy-empty.json", 0, 0 },
        { KL "create-runtime-policy_policy-sha256", 1, 1 },
        { KL "create-runtime-policy_policy-sha512", 1, 1 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_vtpm_wl_doc d = import_file(NULL, cases[i].file);
        json_t *in = tu_json(cases[i].file), *out = json_loads(d.document, 0, NULL);

        assert_string_equal(d.format, "keylime");
        assert_non_null(out);
        assert_true(json_equal(in, out));
        assert_int_equal(d.digests, cases[i].digests);
        assert_int_equal(d.paths, cases[i].paths);
        assert_int_equal(d.excludes, 0);
        json_decref(in);
        json_decref(out);
        vouch_vtpm_wl_doc_done(&d);
    }
}

/* keylime's legacy allow-list (sha*sum output, "sha256:" prefixes, blank lines)
 * becomes the same digests by path as keylime's own policy of it. */
static void test_import_digest_list(void **state)
{
    struct vouch_vtpm_wl_doc d = import_file("digests", KL "ima-allowlist-short.txt");
    json_t *policy = tu_json(KL "runtime-policy-test.json"), *doc = json_loads(d.document, 0, NULL);
    json_t *want = json_object_get(policy, "digests"), *got = json_object_get(doc, "digests");
    json_t *arr;
    const char *path;

    (void)state;
    assert_string_equal(d.format, "digests");
    assert_int_equal(d.paths, json_object_size(want));
    json_object_foreach(want, path, arr) {
        const char *w = json_string_value(json_array_get(arr, 0));
        const char *c = strchr(w, ':');

        assert_string_equal(json_string_value(json_array_get(json_object_get(got, path), 0)),
                            c ? c + 1 : w);
    }
    /* its "%keyring:.ima" line is the policy's keyrings entry */
    assert_true(json_equal(json_object_get(doc, "keyrings"), json_object_get(policy, "keyrings")));
    json_decref(policy);
    json_decref(doc);
    vouch_vtpm_wl_doc_done(&d);
    /* sha1sum output of keylime's create-runtime-policy test, and detection by content */
    d = import_file(NULL, KL "create-runtime-policy_allowlist-sha1");
    assert_string_equal(d.format, "digests");
    assert_int_equal(d.digests, 1);
    assert_non_null(strstr(d.document, "\"data\":[\"009b0d8ee8fb8d890fa70f9c8e02b3f1eded1509\"]"));
    vouch_vtpm_wl_doc_done(&d);
}

/* Bad input: refused, and the message names the field or line. */
static void test_import_errors(void **state)
{
    static const struct {
        const char *format;
        const char *text;
        vouch_err want;
        const char *says;
    } cases[] = {
        { "keylime", "{\"digests\": {\"/bin/sh\": [\"zz\"]}}", VOUCH_E_INVALID,
          "digests[\"/bin/sh\"][0] is not a hex digest" },
        { "keylime", "{\"digests\": {\"/bin/sh\": \"00\"}}", VOUCH_E_INVALID,
          "digests[\"/bin/sh\"] is not an array" },
        { "keylime", "{\"digests\": []}", VOUCH_E_INVALID, "\"digests\" is missing" },
        { "keylime", "{\"excludes\": []}", VOUCH_E_INVALID, "\"digests\" is missing" },
        { "keylime", "{\"digests\": {}, \"excludes\": [\"(\"]}", VOUCH_E_INVALID,
          "exclude '('" },
        { "keylime", "{\"digests\": {}, \"excludes\": \"x\"}", VOUCH_E_INVALID,
          "\"excludes\" is not an array" },
        { "keylime", "{\"digests\": {}, \"keyrings\": {\".ima\": [1]}}", VOUCH_E_INVALID,
          "keyrings[\".ima\"][0]" },
        { "keylime", "[1, 2]", VOUCH_E_INVALID, "not a JSON object" },
        { "keylime", "{\"digests\": {}\n,}", VOUCH_E_INVALID, "line 2" },
        { "keylime", "{\"digests\": {\"a\": [], \"a\": []}}", VOUCH_E_INVALID, "duplicate" },
        { "digests", "abc /bin/sh\n", VOUCH_E_INVALID, "line 1: expected" },
        { "digests", "00 /a\n\n# c\n0011\n", VOUCH_E_INVALID, "line 4: expected" },
        { "digests", "00 /a\nsha256:zz /b\n", VOUCH_E_INVALID, "line 2" },
        { "digests", "00   *\n", VOUCH_E_INVALID, "line 1: no path" },
        { "digests", "00 /a\xff\n", VOUCH_E_INVALID, "line 1: the path is not UTF-8" },
        { "xml", "<x/>", VOUCH_E_INVALID, "format must be keylime or digests" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_vtpm_wl_doc d = { 0 };
        struct vouch_errbuf eb;
        vouch_err e = vouch_vtpm_whitelist_import(cases[i].format, cases[i].text,
                                                  strlen(cases[i].text), &d, &eb);

        if (e != cases[i].want || !strstr(eb.msg, cases[i].says))
            fail_msg("case %zu: %s (want '%s')", i, e ? eb.msg : "accepted", cases[i].says);
        assert_null(d.document);
    }
}

struct fixture {
    char dir[64];
    struct vouch_store *store;
    struct vouch_vtpm_whitelists *wl;
    struct vouch_ima_log *log;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct vouch_store_instance in = {
        .uuid = "u-1", .account = "alice", .instance_id = "", .instance_type = "", .name = "",
        .private_ip = "", .public_ip = "", .extensions = "{}", .system_status = 4,
        .system_whitelist_id = -1, .system_detail = "{}", .program_status = 4,
        .program_whitelist_id = -1, .program_detail = "{}", .program_whitelist_name = "",
    };
    char url[128];
    size_t len;
    uint8_t *raw;

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-vwl-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(url, sizeof(url), "sqlite:%s/v.db", f->dir);
    if (vouch_store_open(url, &f->store, NULL) ||
        vouch_store_accesskey_create(f->store, "alice", "AK1", "s", 1, NULL) ||
        vouch_store_accesskey_create(f->store, "bob", "BK1", "s", 1, NULL) ||
        vouch_store_instance_register(f->store, &in, 1, NULL) ||
        vouch_vtpm_whitelists_new(f->store, 8, 0, &f->wl, NULL))
        return -1;
    raw = tu_read(TPM_VEC "embrave/binary_runtime_measurements", &len);
    if (vouch_ima_log_parse(raw, len, &f->log, NULL))
        return -1;
    free(raw);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[100];

    vouch_ima_log_free(f->log);
    vouch_vtpm_whitelists_free(f->wl);
    vouch_store_close(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

/* A digest list of the log's own entries, but for `skip` and with `wrong` altered. */
static char *list_of_log(const struct vouch_ima_log *log, size_t skip, size_t wrong)
{
    struct vouch_buf b = VOUCH_BUF_INIT(16u << 20);
    size_t i, j;

    for (i = 1; i < log->n; i++) {
        const struct vouch_ima_entry *en = &log->entries[i];

        if (i == skip)
            continue;
        for (j = 0; j < en->digest_len; j++)
            assert_int_equal(vouch_buf_printf(&b, "%02x", en->digest[j] ^ (i == wrong)), 0);
        assert_int_equal(vouch_buf_printf(&b, "  %.*s\n", (int)en->path_len, en->path), 0);
    }
    return (char *)vouch_buf_str(&b);
}

static int64_t create(struct fixture *f, const char *account, const char *name, const char *text)
{
    struct vouch_vtpm_wl_doc d = { 0 };
    struct vouch_store_whitelist w = { .account = (char *)account, .name = (char *)name };
    int64_t id = -1;

    assert_int_equal(vouch_vtpm_whitelist_import(NULL, text, strlen(text), &d, NULL), VOUCH_OK);
    w.format = (char *)d.format;
    w.document = d.document;
    w.digests = d.digests;
    w.paths = d.paths;
    assert_int_equal(vouch_store_whitelist_create(f->store, &w, 1000, &id, NULL), VOUCH_OK);
    vouch_vtpm_wl_doc_done(&d);
    return id;
}

static void stats_of(const char *name, const struct vouch_cache_stats *stats, void *arg)
{
    if (strcmp(name, "vtpm_whitelists") == 0)
        *(struct vouch_cache_stats *)arg = *stats;
}

static json_t *file_at(const struct vouch_vtpm_program_result *r, size_t i)
{
    return json_array_get(r->files, i);
}

/* The embrave log against whitelists made from it: trusted, or each difference listed. */
static void test_appraise(void **state)
{
    struct fixture *f = *state;
    struct vouch_vtpm_program_result r;
    struct vouch_cache_stats st;
    char *all = list_of_log(f->log, 0, 0), *gaps = list_of_log(f->log, 5, 9);
    int64_t full = create(f, "alice", "full", all), part = create(f, "alice", "gaps", gaps);
    int64_t bobs = create(f, "bob", "bobs", all);
    const struct vouch_ima_entry *e9 = &f->log->entries[9];
    uint8_t flipped[64];
    char want[160];
    size_t i;

    /* no whitelist, another account's: not evaluated */
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", -1, f->log, 0, SIZE_MAX, 1,
                                                 &r, NULL), VOUCH_OK);
    assert_int_equal(r.status, 4);
    assert_string_equal(r.code, "NotEvaluatedStatus");
    assert_int_equal(r.whitelist_id, -1);
    vouch_vtpm_program_result_done(&r);
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", bobs, f->log, 0, SIZE_MAX, 1,
                                                 &r, NULL), VOUCH_OK);
    assert_int_equal(r.status, 4);
    vouch_vtpm_program_result_done(&r);
    /* its own entries: trusted */
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", full, f->log, 0, SIZE_MAX, 1,
                                                 &r, NULL), VOUCH_OK);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.code, "TrustedStatus");
    assert_string_equal(r.whitelist_name, "full");
    assert_int_equal(r.unknown, 0);
    vouch_vtpm_program_result_done(&r);
    /* one path missing, one digest changed (unless a path repeats in the log) */
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, f->log, 0, SIZE_MAX, 1,
                                                 &r, NULL), VOUCH_OK);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.code, "UntrustedStatus");
    assert_int_equal(r.unknown, 2);
    assert_int_equal(json_integer_value(json_object_get(file_at(&r, 0), "index")), 5);
    assert_string_equal(json_string_value(json_object_get(file_at(&r, 0), "reason")),
                        "not_in_policy");
    assert_int_equal(json_array_size(json_object_get(file_at(&r, 0), "whitelist")), 0);
    assert_string_equal(json_string_value(json_object_get(file_at(&r, 1), "reason")),
                        "digest_mismatch");
    /* the report's digest, and the whitelist's (every byte's low bit flipped) */
    memcpy(want, "sha256:", 7);
    vouch_hex_encode(e9->digest, e9->digest_len, want + 7);
    assert_string_equal(json_string_value(json_object_get(file_at(&r, 1), "digest")), want);
    for (i = 0; i < e9->digest_len; i++)
        flipped[i] = e9->digest[i] ^ 1;
    vouch_hex_encode(flipped, e9->digest_len, want);
    assert_int_equal(json_array_size(json_object_get(file_at(&r, 1), "whitelist")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(file_at(&r, 1),
                                                                         "whitelist"), 0)),
                        want);
    vouch_vtpm_program_result_done(&r);
    /* part of a log, numbered from its first index: boot_aggregate is exempt only as
     * entry 0 of a boot */
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, f->log, 100, 7, 1, &r,
                                                 NULL), VOUCH_OK);
    assert_int_equal(r.unknown, 2);
    assert_string_equal(json_string_value(json_object_get(file_at(&r, 0), "path")),
                        "boot_aggregate");
    assert_int_equal(json_integer_value(json_object_get(file_at(&r, 1), "index")), 105);
    vouch_vtpm_program_result_done(&r);
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, f->log, 0, 5, 1, &r,
                                                 NULL), VOUCH_OK);
    assert_int_equal(r.status, 1);
    vouch_vtpm_program_result_done(&r);
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, NULL, 0, 0, 1, &r,
                                                 NULL), VOUCH_OK);
    assert_int_equal(r.status, 1);
    vouch_vtpm_program_result_done(&r);
    /* compiled once per (id, modified): two whitelists, every later appraisal a hit */
    memset(&st, 0, sizeof(st));
    vouch_cache_each(stats_of, &st);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.hits, 3);
    assert_int_equal(st.entries, 2);
    free(all);
    free(gaps);
}

/* TrustEvents: allowing the listed digests makes the same report trusted, and the
 * changed whitelist is used at once (a new cache key). */
static void test_allow(void **state)
{
    struct fixture *f = *state;
    struct vouch_vtpm_program_result r, again;
    struct vouch_store_whitelist *row = NULL;
    struct vouch_errbuf eb;
    char *gaps = list_of_log(f->log, 5, 9);
    int64_t part = create(f, "alice", "gaps", gaps), digests;
    size_t i;

    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, f->log, 0, SIZE_MAX, 1,
                                                 &r, NULL), VOUCH_OK);
    assert_int_equal(r.unknown, 2);
    assert_int_equal(vouch_store_whitelist_get(f->store, part, 0, &row, NULL), VOUCH_OK);
    digests = row->digests;
    vouch_store_whitelist_free(row);
    assert_int_equal(vouch_vtpm_whitelist_allow(f->wl, "bob", part, "/x", "00", 2, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_vtpm_whitelist_allow(f->wl, "alice", part, "/x", "sha256:0g", 2,
                                                &eb), VOUCH_E_INVALID);
    for (i = 0; i < 2; i++) {
        json_t *file = file_at(&r, i);

        assert_int_equal(vouch_vtpm_whitelist_allow(f->wl, "alice", part,
                                                    json_string_value(json_object_get(file,
                                                                                      "path")),
                                                    json_string_value(json_object_get(file,
                                                                                      "digest")),
                                                    2, &eb), VOUCH_OK);
    }
    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", part, f->log, 0, SIZE_MAX, 3,
                                                 &again, NULL), VOUCH_OK);
    assert_int_equal(again.status, 1);
    vouch_vtpm_program_result_done(&again);
    vouch_vtpm_program_result_done(&r);
    assert_int_equal(vouch_store_whitelist_get(f->store, part, 0, &row, NULL), VOUCH_OK);
    assert_int_equal(row->digests, digests + 2);
    assert_true(row->modified_ms > 1000);
    vouch_store_whitelist_free(row);
    free(gaps);
}

/* The verdict from vouch_tpm_evidence_verify()'s claims equals the one from the log. */
static void test_from_claims(void **state)
{
    struct fixture *f = *state;
    struct vouch_vtpm_program_result direct, viaclaims, none;
    struct vouch_vtpm_wl_ref ref;
    char *gaps = list_of_log(f->log, 5, 9);
    int64_t id = create(f, "alice", "gaps", gaps);
    json_t *unknown = json_array(), *ima;
    size_t n = 0;

    assert_int_equal(vouch_vtpm_program_appraise(f->wl, "alice", id, f->log, 0, SIZE_MAX, 1,
                                                 &direct, NULL), VOUCH_OK);
    assert_int_equal(vouch_vtpm_whitelist_acquire(f->wl, "alice", id, 1, &ref, NULL), VOUCH_OK);
    /* what vouch_tpm_evidence_verify() puts in its "ima" claims */
    assert_int_equal(vouch_ima_policy_check(ref.policy, f->log, 0, f->log->n, 0, unknown, 100,
                                            &n, NULL), VOUCH_OK);
    ima = json_pack("{s:o,s:I}", "unknown_files", unknown, "unknown_count", (json_int_t)n);
    assert_int_equal(vouch_vtpm_program_from_claims(&ref, ima, &viaclaims, NULL), VOUCH_OK);
    assert_int_equal(viaclaims.status, direct.status);
    assert_string_equal(viaclaims.code, "UntrustedStatus");
    assert_int_equal(viaclaims.unknown, 2);
    assert_int_equal(viaclaims.whitelist_id, id);
    assert_true(json_equal(viaclaims.files, direct.files));
    /* no IMA entries in the report: trusted; no whitelist: not evaluated */
    vouch_vtpm_program_result_done(&viaclaims);
    assert_int_equal(vouch_vtpm_program_from_claims(&ref, NULL, &viaclaims, NULL), VOUCH_OK);
    assert_int_equal(viaclaims.status, 1);
    assert_int_equal(vouch_vtpm_program_from_claims(NULL, ima, &none, NULL), VOUCH_OK);
    assert_int_equal(none.status, 4);
    assert_int_equal(json_array_size(none.files), 0);
    vouch_vtpm_program_result_done(&none);
    vouch_vtpm_program_result_done(&viaclaims);
    vouch_vtpm_program_result_done(&direct);
    vouch_vtpm_whitelist_release(&ref);
    json_decref(ima);
    free(gaps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_keylime),
        cmocka_unit_test(test_import_digest_list),
        cmocka_unit_test(test_import_errors),
        cmocka_unit_test_setup_teardown(test_appraise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_claims, setup, teardown),
    };

    return cmocka_run_group_tests_name("vtpm whitelists", tests, NULL, NULL);
}
