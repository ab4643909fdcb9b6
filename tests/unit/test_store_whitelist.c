/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's vTPM program whitelists (migration 6), on SQLite and, under
 * tests/pg/with-postgres.sh (VOUCH_TEST_PG_BASE set), on PostgreSQL.
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

#include <libpq-fe.h>

#include "store/store.h"

struct fixture {
    char dir[64];
    char url[160];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-wl-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->url, sizeof(f->url), "sqlite:%s/vouch.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static int pg_admin(const char *sql)
{
    char url[256];
    PGconn *c;
    PGresult *r;
    int ok;

    snprintf(url, sizeof(url), "%s/postgres", getenv("VOUCH_TEST_PG_BASE"));
    c = PQconnectdb(url);
    r = PQexec(c, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "# postgres: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

static int pg_setup(void **state)
{
    static unsigned counter;
    struct fixture *f = calloc(1, sizeof(*f));
    char sql[96];

    snprintf(f->dir, sizeof(f->dir), "vouch_wl_%d_%u", (int)getpid(), ++counter);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", f->dir);
    snprintf(f->url, sizeof(f->url), "%s/%s", getenv("VOUCH_TEST_PG_BASE"), f->dir);
    *state = f;
    return pg_admin(sql);
}

static int pg_teardown(void **state)
{
    struct fixture *f = *state;
    char sql[96];
    int rc;

    snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", f->dir);
    rc = pg_admin(sql);
    free(f);
    return rc;
}

static void add_instance(struct vouch_store *s, const char *uuid, const char *account)
{
    struct vouch_store_instance in = {
        .uuid = (char *)uuid, .account = (char *)account, .instance_id = "i-1",
        .instance_type = "t", .name = "n", .private_ip = "", .public_ip = "",
        .extensions = "{}", .system_status = 4, .system_whitelist_id = -1,
        .system_detail = "{}", .program_status = 4, .program_whitelist_id = -1,
        .program_detail = "{}", .program_whitelist_name = "",
    };

    assert_int_equal(vouch_store_instance_register(s, &in, 10, NULL), VOUCH_OK);
}

static struct vouch_store *open_with_accounts(const char *url)
{
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_store_open(url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "bob", "BK1", "b", 1, &eb), 0);
    add_instance(s, "u-a1", "alice");
    add_instance(s, "u-a2", "alice");
    add_instance(s, "u-b1", "bob");
    return s;
}

static int64_t create(struct vouch_store *s, const char *account, const char *name,
                      int64_t now, vouch_err want)
{
    struct vouch_store_whitelist w = {
        .account = (char *)account, .name = (char *)name, .format = "digests",
        .document = "{\"digests\":{\"/bin/sh\":[\"00\"]}}", .digests = 1, .paths = 1,
    };
    struct vouch_errbuf eb;
    int64_t id = -7;

    assert_int_equal(vouch_store_whitelist_create(s, &w, now, &id, &eb), want);
    return id;
}

/* Create, read back, list in pages; ids grow and are never reused. */
static void test_create_get_list(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = open_with_accounts(f->url);
    struct vouch_store_whitelist *w = NULL;
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t n = 0;
    int64_t a, b, c, d;

    a = create(s, "alice", "base", 100, VOUCH_OK);
    b = create(s, "alice", "web", 200, VOUCH_OK);
    c = create(s, "bob", "base", 300, VOUCH_OK);       /* names are per account */
    assert_true(a > 0 && b > a && c > b);
    create(s, "alice", "base", 400, VOUCH_E_CONFLICT);
    create(s, "nobody", "x", 400, VOUCH_E_CONFLICT);
    create(s, "alice", "", 400, VOUCH_E_INVALID);
    assert_int_equal(vouch_store_whitelist_get(s, a, VOUCH_STORE_WL_DOCUMENT |
                                               VOUCH_STORE_WL_INSTANCES, &w, &eb), VOUCH_OK);
    assert_string_equal(w->account, "alice");
    assert_string_equal(w->name, "base");
    assert_string_equal(w->format, "digests");
    assert_string_equal(w->document, "{\"digests\":{\"/bin/sh\":[\"00\"]}}");
    assert_int_equal(w->digests, 1);
    assert_int_equal(w->paths, 1);
    assert_int_equal(w->instances, 0);
    assert_int_equal(w->created_ms, 100);
    assert_int_equal(w->modified_ms, 100);
    vouch_store_whitelist_free(w);
    assert_int_equal(vouch_store_whitelist_get(s, b, 0, &w, &eb), VOUCH_OK);
    assert_null(w->document);
    assert_int_equal(w->instances, -1);
    vouch_store_whitelist_free(w);
    assert_int_equal(vouch_store_whitelist_get(s, 9999, 0, &w, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_get(s, -1, 0, &w, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_list(s, "alice", 1, 10, &w, &n, &total, &eb), 0);
    assert_int_equal(total, 2);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].id, b);
    assert_null(w[0].document);
    vouch_store_whitelists_free(w, n);
    assert_int_equal(vouch_store_whitelist_list(s, "bob", 0, 0, &w, &n, &total, &eb),
                     VOUCH_E_INVALID);
    /* Deleting the newest does not give its id to the next one. */
    assert_int_equal(vouch_store_whitelist_delete(s, "bob", c, &eb), VOUCH_OK);
    d = create(s, "bob", "again", 500, VOUCH_OK);
    assert_true(d > c);
    vouch_store_close(s);
}

/* Assignment: only the owner's whitelist onto the owner's instances, all or nothing. */
static void test_assign(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = open_with_accounts(f->url);
    struct vouch_store_instance *in = NULL;
    struct vouch_store_whitelist *w = NULL;
    const char *mine[] = { "u-a1", "u-a2" }, *mixed[] = { "u-a1", "u-b1" };
    const char *missing[] = { "u-zz" };
    struct vouch_errbuf eb;
    int64_t a = create(s, "alice", "base", 100, VOUCH_OK);
    int64_t b = create(s, "bob", "bobs", 100, VOUCH_OK);

    assert_int_equal(vouch_store_whitelist_assign(s, "alice", a, mine, 2, 700, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_get(s, "u-a2", &in, &eb), VOUCH_OK);
    assert_int_equal(in->program_whitelist_id, a);
    assert_string_equal(in->program_whitelist_name, "base");
    assert_int_equal(in->program_status, 4);
    assert_int_equal(in->modified_ms, 700);
    vouch_store_instance_free(in);
    /* Another account's whitelist, or an instance that is not the caller's: refused,
     * and nothing changes. */
    assert_int_equal(vouch_store_whitelist_assign(s, "alice", b, mine, 2, 800, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_assign(s, "bob", a, mixed + 1, 1, 800, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_unassign(s, "alice", mixed, 2, 800, &eb),
                     VOUCH_E_CONFLICT);
    assert_string_equal(eb.field, "u-b1");
    assert_int_equal(vouch_store_whitelist_assign(s, "alice", a, missing, 1, 800, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_whitelist_assign(s, "alice", a, mine, 0, 800, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_instance_get(s, "u-a1", &in, &eb), VOUCH_OK);
    assert_int_equal(in->program_whitelist_id, a);        /* the mixed unassign rolled back */
    vouch_store_instance_free(in);
    assert_int_equal(vouch_store_instance_get(s, "u-b1", &in, &eb), VOUCH_OK);
    assert_int_equal(in->program_whitelist_id, -1);
    vouch_store_instance_free(in);
    /* Delete is refused while assigned, and says so. */
    assert_int_equal(vouch_store_whitelist_get(s, a, VOUCH_STORE_WL_INSTANCES, &w, &eb), 0);
    assert_int_equal(w->instances, 2);
    vouch_store_whitelist_free(w);
    assert_int_equal(vouch_store_whitelist_delete(s, "alice", a, &eb), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_whitelist_delete(s, "bob", a, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_unassign(s, "alice", mine, 2, 900, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_get(s, "u-a1", &in, &eb), VOUCH_OK);
    assert_int_equal(in->program_whitelist_id, -1);
    assert_string_equal(in->program_whitelist_name, "");
    assert_int_equal(in->program_status, 4);
    vouch_store_instance_free(in);
    assert_int_equal(vouch_store_whitelist_delete(s, "alice", a, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_whitelist_get(s, a, 0, &w, &eb), VOUCH_E_NOT_FOUND);
    vouch_store_close(s);
}

/* Updates are compare-and-swap on modified_ms, which only moves forward. */
static void test_update(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = open_with_accounts(f->url);
    struct vouch_store_whitelist *w = NULL;
    struct vouch_errbuf eb;
    int64_t a = create(s, "alice", "base", 1000, VOUCH_OK), m = 0;

    /* the clock went back: modified still moves forward */
    assert_int_equal(vouch_store_whitelist_update(s, "alice", a, "{\"digests\":{}}", 0, 0, 1000,
                                                  900, &m, &eb), VOUCH_OK);
    assert_int_equal(m, 1001);
    assert_int_equal(vouch_store_whitelist_update(s, "alice", a, "{}", 0, 0, 1000, 2000, &m,
                                                  &eb), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_whitelist_update(s, "bob", a, "{}", 0, 0, 1001, 2000, &m, &eb),
                     VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_whitelist_update(s, "alice", a, "", 0, 0, 1001, 2000, &m, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_whitelist_update(s, "alice", a, "{\"x\":1}", 5, 3, 1001, 2000,
                                                  &m, &eb), VOUCH_OK);
    assert_int_equal(m, 2000);
    assert_int_equal(vouch_store_whitelist_get(s, a, VOUCH_STORE_WL_DOCUMENT, &w, &eb), 0);
    assert_string_equal(w->document, "{\"x\":1}");
    assert_int_equal(w->digests, 5);
    assert_int_equal(w->paths, 3);
    assert_int_equal(w->created_ms, 1000);
    assert_int_equal(w->modified_ms, 2000);
    vouch_store_whitelist_free(w);
    vouch_store_close(s);
}

/* A document of several MiB is stored and read back whole. */
static void test_large_document(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = open_with_accounts(f->url);
    struct vouch_store_whitelist w = { .account = "alice", .name = "big", .format = "keylime" };
    struct vouch_store_whitelist *got = NULL;
    size_t len = 6u << 20, i;
    char *doc = malloc(len + 1);
    struct vouch_errbuf eb;
    int64_t id = 0;

    for (i = 0; i < len; i++)
        doc[i] = (char)('a' + i % 26);
    doc[len] = '\0';
    w.document = doc;
    assert_int_equal(vouch_store_whitelist_create(s, &w, 1, &id, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_whitelist_get(s, id, VOUCH_STORE_WL_DOCUMENT, &got, &eb), 0);
    assert_int_equal(strlen(got->document), len);
    assert_memory_equal(got->document, doc, len);
    vouch_store_whitelist_free(got);
    free(doc);
    vouch_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_document, setup, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_list, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_assign, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_update, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_large_document, pg_setup, pg_teardown),
    };

    if (getenv("VOUCH_TEST_PG_BASE"))
        return cmocka_run_group_tests_name("whitelists on postgres", pg_tests, NULL, NULL);
    return cmocka_run_group_tests_name("whitelists on sqlite", tests, NULL, NULL);
}
