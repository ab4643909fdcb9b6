/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error table (src/server/problem.c): every kind has an answer, the
 * answers the API documents, docs/api.md lists the table as it is, and no
 * handler decides on message text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>

#include "common/file.h"
#include "server/http.h"

#define K(kind) (1u << (kind))

static void test_every_kind_has_a_request_row(void **state)
{
    const struct vouch_problem_entry *t;
    size_t n, i;
    int e;

    (void)state;
    t = vouch_problem_table(&n);
    for (e = VOUCH_E_INVALID; e < VOUCH_E__COUNT; e++) {
        for (i = 0; i < n; i++)
            if (t[i].scope == VOUCH_SCOPE_REQUEST && t[i].sub == VOUCH_SUB_NONE &&
                (t[i].kinds & K(e)))
                break;
        if (i == n)
            fail_msg("kind %s has no request row", vouch_err_name((vouch_err)e));
    }
}

static void test_rows_are_well_formed(void **state)
{
    const struct vouch_problem_entry *t;
    size_t n, i, j;

    (void)state;
    t = vouch_problem_table(&n);
    for (i = 0; i < n; i++) {
        const char *c;

        if (t[i].status < 400 || t[i].status > 599)
            fail_msg("row %zu: status %u is not an error", i, t[i].status);
        if (strncmp(t[i].code, "VOUCH.", 6) != 0)
            fail_msg("row %zu: code %s", i, t[i].code);
        for (c = t[i].code; *c; c++)
            if (!((*c >= 'A' && *c <= 'Z') || *c == '_' || *c == '.'))
                fail_msg("row %zu: code %s has '%c'", i, t[i].code, *c);
        if (t[i].kinds == 0 || (t[i].kinds & K(VOUCH_OK)) || t[i].kinds >> VOUCH_E__COUNT)
            fail_msg("row %zu: kinds %#x", i, t[i].kinds);
        /* Retry-After only where trying again can help */
        if (t[i].retry != (t[i].status == 429 || t[i].status == 503))
            fail_msg("row %zu: %u with retry=%d", i, t[i].status, t[i].retry);
        /* a server-side failure names no input field */
        if (t[i].status >= 500 && !(t[i].field && t[i].field[0] == '\0'))
            fail_msg("row %zu: %u names a field", i, t[i].status);
        /* no two rows answer the same scope, kind and sub-code */
        for (j = i + 1; j < n; j++)
            if (t[j].scope == t[i].scope && t[j].sub == t[i].sub && (t[j].kinds & t[i].kinds))
                fail_msg("rows %zu and %zu overlap", i, j);
    }
}

/* What the API answers, as docs/api.md and docs/attestation.md say. */
static const struct {
    enum vouch_problem_scope scope;
    vouch_err e;
    enum vouch_subcode sub;
    unsigned status;
    const char *code;
    const char *field;       /* with prefix "p." and caller field "f"; NULL: none */
} cases[] = {
    { VOUCH_SCOPE_REQUEST, VOUCH_E_INVALID, VOUCH_SUB_NONE, 400,
      "VOUCH.REQUEST.INVALID_ARGUMENT", "p.f" },
    { VOUCH_SCOPE_REQUEST, VOUCH_E_INVALID, VOUCH_SUB_JSON, 400, "VOUCH.REQUEST.INVALID_JSON",
      "p.f" },
    { VOUCH_SCOPE_REQUEST, VOUCH_E_TOO_LARGE, VOUCH_SUB_NONE, 413, "VOUCH.REQUEST.TOO_LARGE",
      "p.f" },
    { VOUCH_SCOPE_REQUEST, VOUCH_E_STORE, VOUCH_SUB_NONE, 503, "VOUCH.DEPENDENCY.UNAVAILABLE",
      NULL },
    { VOUCH_SCOPE_REQUEST, VOUCH_E_RATE_LIMITED, VOUCH_SUB_NONE, 429, "VOUCH.REQUEST.RATE_LIMITED",
      NULL },
    { VOUCH_SCOPE_REQUEST, VOUCH_E_INTERNAL, VOUCH_SUB_NONE, 500, "VOUCH.INTERNAL.ERROR", NULL },
    /* VOUCH_OK is never a failure: answered as a bug */
    { VOUCH_SCOPE_REQUEST, VOUCH_OK, VOUCH_SUB_NONE, 500, "VOUCH.INTERNAL.ERROR", NULL },
    { VOUCH_SCOPE_REQUEST, VOUCH_E__COUNT, VOUCH_SUB_NONE, 500, "VOUCH.INTERNAL.ERROR", NULL },
    /* verifying evidence */
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_INVALID, VOUCH_SUB_NONE, 400,
      "VOUCH.EVIDENCE.INVALID_FORMAT", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_INVALID, VOUCH_SUB_JSON, 400,
      "VOUCH.EVIDENCE.INVALID_FORMAT", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_INVALID, VOUCH_SUB_QUOTE, 422,
      "VOUCH.EVIDENCE.INVALID_QUOTE", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_TRUNCATED, VOUCH_SUB_QUOTE, 422,
      "VOUCH.EVIDENCE.INVALID_QUOTE", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_UNSUPPORTED, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.INVALID_QUOTE", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_VERIFY, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.VERIFICATION_FAILED", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_EXPIRED, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.VERIFICATION_FAILED", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_NOT_YET_VALID, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.VERIFICATION_FAILED", "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_REVOKED, VOUCH_SUB_NONE, 422, "VOUCH.EVIDENCE.REVOKED",
      "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_BINDING, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "p.runtime_data" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_BINDING, VOUCH_SUB_INIT_DATA, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "p.init_data" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_BINDING, VOUCH_SUB_GPU, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "p.evidence.gpu_evidence" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 422, "VOUCH.COLLATERAL.MISSING",
      "p.f" },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_IO, VOUCH_SUB_NONE, 503, "VOUCH.DEPENDENCY.UNAVAILABLE",
      NULL },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_UNAVAILABLE, VOUCH_SUB_NONE, 503,
      "VOUCH.DEPENDENCY.UNAVAILABLE", NULL },
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_INTERNAL, VOUCH_SUB_NONE, 500, "VOUCH.INTERNAL.ERROR", NULL },
    /* an unknown sub-code is no sub-code */
    { VOUCH_SCOPE_EVIDENCE, VOUCH_E_BINDING, VOUCH_SUB__COUNT, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "p.runtime_data" },
    { VOUCH_SCOPE_CHALLENGE, VOUCH_E_VERIFY, VOUCH_SUB_NONE, 401,
      "VOUCH.CHALLENGE.INVALID_TOKEN", "p.f" },
    { VOUCH_SCOPE_CHALLENGE, VOUCH_E_EXPIRED, VOUCH_SUB_NONE, 401,
      "VOUCH.CHALLENGE.INVALID_TOKEN", "p.f" },
    { VOUCH_SCOPE_CHALLENGE, VOUCH_E_BINDING, VOUCH_SUB_NONE, 422,
      "VOUCH.EVIDENCE.BINDING_MISMATCH", "p.f" },
    { VOUCH_SCOPE_APPRAISAL, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 404, "VOUCH.POLICY.NOT_FOUND",
      "p.policy_ids" },
    { VOUCH_SCOPE_APPRAISAL, VOUCH_E_LIMIT, VOUCH_SUB_NONE, 422,
      "VOUCH.POLICY.EVALUATION_FAILED", NULL },
    { VOUCH_SCOPE_APPRAISAL, VOUCH_E_STORE, VOUCH_SUB_NONE, 503,
      "VOUCH.DEPENDENCY.UNAVAILABLE", NULL },
    /* the result: too large for a header, and no key to sign with */
    { VOUCH_SCOPE_TOKEN, VOUCH_E_TOO_LARGE, VOUCH_SUB_NONE, 413, "VOUCH.TOKEN.TOO_LARGE", NULL },
    { VOUCH_SCOPE_TOKEN, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 503, "VOUCH.TOKEN.NO_SIGNING_KEY",
      NULL },
    { VOUCH_SCOPE_POLICY, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 404, "VOUCH.POLICY.NOT_FOUND",
      "p.f" },
    { VOUCH_SCOPE_POLICY_UPLOAD, VOUCH_E_INVALID, VOUCH_SUB_NONE, 400, "VOUCH.POLICY.INVALID",
      "p.policy" },
    { VOUCH_SCOPE_POLICY_UPLOAD, VOUCH_E_STORE, VOUCH_SUB_NONE, 503,
      "VOUCH.DEPENDENCY.UNAVAILABLE", NULL },
    { VOUCH_SCOPE_RIM, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 404, "VOUCH.RIM.NOT_FOUND", "p.id" },
    { VOUCH_SCOPE_RIM_IMPORT, VOUCH_E_VERIFY, VOUCH_SUB_NONE, 422, "VOUCH.RIM.INVALID",
      "p.body" },
    { VOUCH_SCOPE_RIM_IMPORT, VOUCH_E_CONFLICT, VOUCH_SUB_NONE, 422, "VOUCH.RIM.INVALID",
      "p.name" },
    { VOUCH_SCOPE_COLLATERAL, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 404,
      "VOUCH.COLLATERAL.NOT_FOUND", "p.f" },
    { VOUCH_SCOPE_COLLATERAL_IMPORT, VOUCH_E_INVALID, VOUCH_SUB_JSON, 400,
      "VOUCH.REQUEST.INVALID_JSON", "p.f" },
    { VOUCH_SCOPE_COLLATERAL_IMPORT, VOUCH_E_INVALID, VOUCH_SUB_NONE, 422,
      "VOUCH.COLLATERAL.INVALID", "p.f" },
    { VOUCH_SCOPE_COLLATERAL_IMPORT, VOUCH_E_NOT_YET_VALID, VOUCH_SUB_NONE, 422,
      "VOUCH.COLLATERAL.INVALID", "p.f" },
    { VOUCH_SCOPE_REFVAL, VOUCH_E_NOT_FOUND, VOUCH_SUB_NONE, 404,
      "VOUCH.REFERENCE_VALUE.NOT_FOUND", "p.f" },
};

static const char *header_value(const struct vouch_http_resp *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void test_answers(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vouch_http_resp resp = { 0 };
        json_t *body;
        const char *field, *retry;

        vouch_http_fail(&resp, cases[i].scope, cases[i].e, cases[i].sub, "p.", "f",
                        "case %zu", i);
        if (resp.status != cases[i].status || strcmp(resp.code, cases[i].code) != 0)
            fail_msg("case %zu: %u %s, want %u %s", i, resp.status, resp.code,
                     cases[i].status, cases[i].code);
        body = json_loadb(resp.body, resp.body_len, 0, NULL);
        assert_non_null(body);
        assert_int_equal(json_integer_value(json_object_get(body, "status")), cases[i].status);
        assert_string_equal(json_string_value(json_object_get(body, "code")), cases[i].code);
        field = json_string_value(json_object_get(body, "field"));
        if ((field == NULL) != (cases[i].field == NULL) ||
            (field && strcmp(field, cases[i].field) != 0))
            fail_msg("case %zu: field %s, want %s", i, field ? field : "(none)",
                     cases[i].field ? cases[i].field : "(none)");
        retry = header_value(&resp, "Retry-After");
        if ((retry != NULL) != (cases[i].status == 503 || cases[i].status == 429))
            fail_msg("case %zu: Retry-After %s", i, retry ? retry : "(none)");
        json_decref(body);
        vouch_http_resp_done(&resp);
    }
}

/* Out of memory is one answer, whatever the request was doing. */
static void test_out_of_memory_is_one_answer(void **state)
{
    const struct vouch_problem_entry *first =
        vouch_problem_find(VOUCH_SCOPE_REQUEST, VOUCH_E_NOMEM, VOUCH_SUB_NONE);
    int s;

    (void)state;
    assert_int_equal(first->status, 503);
    assert_string_equal(first->code, "VOUCH.INTERNAL.OUT_OF_MEMORY");
    for (s = 0; s < VOUCH_SCOPE__COUNT; s++)
        assert_ptr_equal(vouch_problem_find((enum vouch_problem_scope)s, VOUCH_E_NOMEM,
                                            VOUCH_SUB_NONE), first);
}

/* The sub-code travels with the error: kept by prefix and field, cleared by a new failure. */
static void test_subcode_lifecycle(void **state)
{
    struct vouch_errbuf eb;

    (void)state;
    vouch_errbuf_clear(&eb);
    assert_int_equal(eb.sub, VOUCH_SUB_NONE);
    assert_int_equal(vouch_fail_sub(&eb, VOUCH_E_BINDING, VOUCH_SUB_GPU, "gpu0: nonce"),
                     VOUCH_E_BINDING);
    assert_int_equal(eb.sub, VOUCH_SUB_GPU);
    vouch_fail_prefix(&eb, VOUCH_E_BINDING, "outer: ");
    vouch_errbuf_set_field(&eb, VOUCH_E_BINDING, "gpu_evidence");
    assert_int_equal(eb.sub, VOUCH_SUB_GPU);
    assert_string_equal(eb.msg, "outer: gpu0: nonce");
    vouch_fail(&eb, VOUCH_E_VERIFY, "another");
    assert_int_equal(eb.sub, VOUCH_SUB_NONE);
    assert_string_equal(vouch_subcode_name(VOUCH_SUB_QUOTE), "quote");
    assert_string_equal(vouch_subcode_name(VOUCH_SUB__COUNT), "unknown");
    assert_string_equal(vouch_err_name(VOUCH_E_NOT_YET_VALID), "not_yet_valid");
    assert_string_equal(vouch_err_name(VOUCH_E_UNAVAILABLE), "unavailable");
    assert_string_equal(vouch_err_name(VOUCH_E_RATE_LIMITED), "rate_limited");
    assert_int_equal(vouch_fail_sub(NULL, VOUCH_E_INVALID, VOUCH_SUB_JSON, "x"),
                     VOUCH_E_INVALID);
}

/* One row of the table as docs/api.md shows it. */
static void doc_row(const struct vouch_problem_entry *r, char *out, size_t size)
{
    char kinds[256] = "";
    int e;

    for (e = 0; e < VOUCH_E__COUNT; e++)
        if (r->kinds & K(e)) {
            if (kinds[0])
                strncat(kinds, ", ", sizeof(kinds) - strlen(kinds) - 1);
            strncat(kinds, vouch_err_name((vouch_err)e), sizeof(kinds) - strlen(kinds) - 1);
        }
    snprintf(out, size, "| %s | %s | %s | %u | %s | %s%s%s | %s |\n",
             vouch_problem_scope_name(r->scope), kinds,
             r->sub ? vouch_subcode_name(r->sub) : "any", r->status, r->code,
             !r->field ? "the input at fault" : r->field[0] ? "`" : "none",
             r->field && r->field[0] ? r->field : "", r->field && r->field[0] ? "`" : "",
             r->retry ? "yes" : "no");
}

static void test_docs_list_the_table(void **state)
{
    const struct vouch_problem_entry *t;
    struct vouch_errbuf eb;
    uint8_t *doc = NULL;
    size_t n, i, len;
    char row[512];
    bool missing = false;

    (void)state;
    if (vouch_file_read(VOUCH_SOURCE_ROOT "/docs/api.md", 1u << 20, &doc, &len, &eb))
        fail_msg("%s", eb.msg);
    t = vouch_problem_table(&n);
    for (i = 0; i < n; i++) {
        doc_row(&t[i], row, sizeof(row));
        if (!strstr((const char *)doc, row)) {
            print_message("docs/api.md lacks: %s", row);
            missing = true;
        }
    }
    if (missing) {
        print_message("the table as docs/api.md should list it:\n");
        for (i = 0; i < n; i++) {
            doc_row(&t[i], row, sizeof(row));
            print_message("%s", row);
        }
    }
    free(doc);
    assert_false(missing);
}

/*
 * No handler decides on message text: no line under src/server compares
 * or searches a `msg` with the string functions.
 */
static void test_no_handler_reads_message_text(void **state)
{
    static const char *const readers[] = { "strstr(", "strncmp(", "strcmp(", "strcasecmp(",
                                           "strncasecmp(", "memcmp(", "strchr(", "strrchr(" };
    const char *dir = VOUCH_SOURCE_ROOT "/src/server";
    struct dirent *de;
    DIR *d = opendir(dir);
    unsigned files = 0;

    (void)state;
    assert_non_null(d);
    while ((de = readdir(d))) {
        char path[512], *line, *next;
        struct vouch_errbuf eb;
        uint8_t *text = NULL;
        size_t len, k;
        unsigned lineno = 0;

        len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".c") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (vouch_file_read(path, 1u << 22, &text, &len, &eb))
            fail_msg("%s", eb.msg);
        files++;
        for (line = (char *)text; line; line = next) {
            next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            lineno++;
            if (!strstr(line, "msg"))
                continue;
            for (k = 0; k < sizeof(readers) / sizeof(readers[0]); k++)
                if (strstr(line, readers[k]))
                    fail_msg("%s:%u reads message text: %s", path, lineno, line);
        }
        free(text);
    }
    closedir(d);
    assert_true(files > 10);
}

/* Request ids: which X-Request-Id values are kept, and problem bodies carry the id. */
static void test_request_ids(void **state)
{
    static const struct {
        const char *id;
        bool ok;
    } ids[] = {
        { "a", true },
        { "abc.DEF_1-2", true },
        { "0123456789012345678901234567890123456789012345678901234567890123", true },
        { "01234567890123456789012345678901234567890123456789012345678901234", false },
        { "", false },
        { "has space", false },
        { "semi;colon", false },
        { "quote\"", false },
        { "new\nline", false },
        { "slash/", false },
        { "caf\xc3\xa9", false },
    };
    struct vouch_http_resp resp = { .request_id = "req-42" };
    json_t *body;
    size_t i;

    (void)state;
    assert_false(vouch_request_id_ok(NULL));
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (vouch_request_id_ok(ids[i].id) != ids[i].ok)
            fail_msg("'%s': want %s", ids[i].id, ids[i].ok ? "kept" : "replaced");
    vouch_http_problem(&resp, 404, "VOUCH.REQUEST.NOT_FOUND", NULL, "no");
    body = json_loadb(resp.body, resp.body_len, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "request_id")), "req-42");
    json_decref(body);
    /* the id outlives a reset of the response, so a second answer carries it too */
    vouch_http_resp_done(&resp);
    assert_string_equal(resp.request_id, "req-42");
    vouch_http_resp_done(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_has_a_request_row),
        cmocka_unit_test(test_rows_are_well_formed),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_out_of_memory_is_one_answer),
        cmocka_unit_test(test_subcode_lifecycle),
        cmocka_unit_test(test_docs_list_the_table),
        cmocka_unit_test(test_no_handler_reads_message_text),
        cmocka_unit_test(test_request_ids),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
