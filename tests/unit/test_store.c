/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store-priv.h"

struct fixture {
    char dir[64];
    char url[160];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/vouch-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    /* A nested directory that does not exist yet: open must create it. */
    snprintf(f->path, sizeof(f->path), "%s/sub/dir/vouch.db", f->dir);
    snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
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

static void test_migrations(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    struct stat st;
    int v = -1;
    sqlite3 *db;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &v, &eb), VOUCH_OK);
    assert_int_equal(v, vouch_store_schema_latest());
    assert_string_equal(vouch_store_backend(s), "sqlite");
    vouch_store_close(s);
    /* The file is private: it holds signing keys. */
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Reopening applies nothing twice. */
    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &v, &eb), VOUCH_OK);
    assert_int_equal(v, vouch_store_schema_latest());
    vouch_store_close(s);
    /* WAL mode is set on the file. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    {
        sqlite3_stmt *q;

        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), 0);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
        sqlite3_finalize(q);
    }
    /* A database from a newer build is refused, not damaged. */
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, 'x')", NULL,
                                  NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_E_STORE);
    assert_non_null(strstr(eb.msg, "newer"));
}

/* A database written by an older build is upgraded in place, data kept. */
static void test_upgrade_from_v1(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s;
    char cmd[600], *v = NULL;
    sqlite3 *db;
    int version = 0;

    snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", f->path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);"
        "INSERT INTO schema_version VALUES (1, 'then');", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, vouch_store_migrations[0], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO meta VALUES ('old', 'kept')", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &version, NULL), VOUCH_OK);
    assert_int_equal(version, vouch_store_schema_latest());
    assert_true(version >= 2);
    assert_int_equal(vouch_store_meta_get(s, "old", &v, NULL), VOUCH_OK);
    assert_string_equal(v, "kept");
    free(v);
    assert_int_equal(vouch_store_doc_put(s, "policy", "p", "x", 1, NULL, 0, 1, NULL), VOUCH_OK);
    vouch_store_close(s);
}

static void test_bad_urls(void **state)
{
    static const struct {
        const char *url;
        vouch_err want;
    } cases[] = {
        { "mysql://x", VOUCH_E_INVALID },
        { "sqlite:", VOUCH_E_INVALID },
        /* nothing listens on port 1: an error at once, not a hang */
        { "postgres://vouch@127.0.0.1:1/vouch", VOUCH_E_STORE },
        { "postgresql://vouch@127.0.0.1:1/vouch?connect_timeout=2", VOUCH_E_STORE },
        { "sqlite:/proc/vouch-cannot/x.db", VOUCH_E_IO },
    };
    struct vouch_store *s = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(vouch_store_open(cases[i].url, &s, NULL), cases[i].want);
        assert_null(s);
    }
}

static void test_meta(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s;
    char *v = NULL;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_get(s, "k", &v, NULL), VOUCH_E_NOT_FOUND);
    assert_null(v);
    assert_int_equal(vouch_store_meta_insert(s, "k", "one", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_insert(s, "k", "two", NULL), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_meta_get(s, "k", &v, NULL), VOUCH_OK);
    assert_string_equal(v, "one");
    free(v);
    assert_int_equal(vouch_store_meta_put(s, "k", "three", NULL), VOUCH_OK);
    vouch_store_close(s);
    /* Durable across reopen. */
    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_get(s, "k", &v, NULL), VOUCH_OK);
    assert_string_equal(v, "three");
    free(v);
    vouch_store_close(s);
}

static void test_keys(void **state)
{
    struct fixture *f = *state;
    struct vouch_store_key k1 = { "kid-1", "RS256", "PEM1", 100, 0 };
    struct vouch_store_key k2 = { "kid-2", "RS256", "PEM2", 200, 0 };
    struct vouch_store_key k3 = { "kid-3", "ES256", "PEM3", 150, 0 };
    struct vouch_store_key *keys = NULL;
    struct vouch_store *s;
    size_t n = 0;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_key_activate(s, &k1, 0, 100, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_key_activate(s, &k3, 0, 150, NULL), VOUCH_OK);
    /* Without replace, a second active RS256 key is refused. */
    assert_int_equal(vouch_store_key_activate(s, &k2, 0, 200, NULL), VOUCH_E_CONFLICT);
    /* The same kid twice is a conflict too. */
    assert_int_equal(vouch_store_key_activate(s, &k1, 1, 200, NULL), VOUCH_E_CONFLICT);
    /* Rotation retires the old key in the same transaction. */
    assert_int_equal(vouch_store_key_activate(s, &k2, 1, 200, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_keys_list(s, &keys, &n, NULL), VOUCH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0].kid, "kid-2");
    assert_int_equal(keys[0].retired_at, 0);
    assert_string_equal(keys[1].kid, "kid-3");
    assert_int_equal(keys[1].retired_at, 0);
    assert_string_equal(keys[2].kid, "kid-1");
    assert_int_equal(keys[2].retired_at, 200);
    assert_string_equal(keys[2].private_pem, "PEM1");
    vouch_store_keys_free(keys, n);
    vouch_store_keys_free(NULL, 0);
    vouch_store_close(s);
    vouch_store_close(NULL);
}

static void test_documents(void **state)
{
    struct fixture *f = *state;
    struct vouch_store_doc *d = NULL, *list = NULL;
    struct vouch_store *s;
    const uint8_t bin[] = { 0x30, 0x82, 0x00, 0xff, 0x00 };
    size_t n = 0;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_get(s, "policy", "default", &d, NULL), VOUCH_E_NOT_FOUND);
    assert_null(d);
    /* binary bodies survive byte for byte, NULs included */
    assert_int_equal(vouch_store_doc_put(s, "collateral", "crl/platform", bin, sizeof(bin),
                                         "{\"enc\":\"der\"}", 2000, 100, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_get(s, "collateral", "crl/platform", &d, NULL), VOUCH_OK);
    assert_int_equal(d->body_len, sizeof(bin));
    assert_memory_equal(d->body, bin, sizeof(bin));
    assert_string_equal(d->meta, "{\"enc\":\"der\"}");
    assert_int_equal(d->expires_at, 2000);
    assert_int_equal(d->updated_at, 100);
    vouch_store_doc_free(d);
    /* replace */
    assert_int_equal(vouch_store_doc_put(s, "collateral", "crl/platform", "x", 1, NULL, 0, 200,
                                         NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_get(s, "collateral", "crl/platform", &d, NULL), VOUCH_OK);
    assert_int_equal(d->body_len, 1);
    assert_null(d->meta);
    vouch_store_doc_free(d);
    /* list by prefix, ordered, with and without bodies */
    assert_int_equal(vouch_store_doc_put(s, "collateral", "tcb/sgx/B", "b", 1, NULL, 0, 1, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "collateral", "tcb/sgx/A", "a", 1, NULL, 0, 1, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "collateral", "tcb/tdx/A", "t", 1, NULL, 0, 1, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "refval", "tcb/sgx/Z", "r", 1, NULL, 0, 1, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_doc_list(s, "collateral", "tcb/sgx/", 1, 100, &list, &n, NULL),
                     VOUCH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].id, "tcb/sgx/A");
    assert_string_equal((char *)list[1].body, "b");
    vouch_store_docs_free(list, n);
    assert_int_equal(vouch_store_doc_list(s, "collateral", "", 0, 2, &list, &n, NULL), VOUCH_OK);
    assert_int_equal(n, 2);
    assert_null(list[0].body);
    vouch_store_docs_free(list, n);
    /* delete */
    assert_int_equal(vouch_store_doc_delete(s, "collateral", "tcb/sgx/A", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_delete(s, "collateral", "tcb/sgx/A", NULL),
                     VOUCH_E_NOT_FOUND);
    /* keys are checked */
    assert_int_equal(vouch_store_doc_put(s, "", "x", "x", 1, NULL, 0, 1, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_store_doc_get(s, "policy", "", &d, NULL), VOUCH_E_INVALID);
    vouch_store_doc_free(NULL);
    vouch_store_close(s);
}

struct thread_arg {
    struct vouch_store *s;
    int id;
    int failures;
};

static void *writer(void *p)
{
    struct thread_arg *a = p;
    char key[32], val[32], *got;
    int i;

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "t%d-%d", a->id, i);
        snprintf(val, sizeof(val), "v%d", i);
        if (vouch_store_meta_insert(a->s, key, val, NULL) != VOUCH_OK)
            a->failures++;
        if (vouch_store_meta_get(a->s, key, &got, NULL) != VOUCH_OK || strcmp(got, val))
            a->failures++;
        else
            free(got);
    }
    return NULL;
}

/* Several threads at once, each on its own connection. */
static void test_threads(void **state)
{
    struct fixture *f = *state;
    struct thread_arg args[4];
    pthread_t th[4];
    struct vouch_store *s;
    int i;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    for (i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){ s, i, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, writer, &args[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    vouch_store_close(s);
}

/*
 * PostgreSQL: with VOUCH_TEST_PG_BASE set (tests/pg/with-postgres.sh sets
 * it to postgres://USER@HOST:PORT of a throwaway cluster), the tests that
 * do not reach into SQLite run again on PostgreSQL, each in a database of
 * its own, with the PostgreSQL-only cases below.
 */
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

    snprintf(f->dir, sizeof(f->dir), "vouch_t_%d_%u", (int)getpid(), ++counter);
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

static void *open_close(void *p)
{
    struct fixture *f = p;
    struct vouch_store *s = NULL;

    if (vouch_store_open(f->url, &s, NULL) != VOUCH_OK)
        return (void *)1;
    vouch_store_close(s);
    return NULL;
}

/* Replicas starting together: every one opens, each migration runs once,
 * and a schema from a newer build is refused, not damaged. */
static void test_pg_migrations(void **state)
{
    struct fixture *f = *state;
    pthread_t th[6];
    struct vouch_store *s = NULL;
    PGconn *c;
    PGresult *r;
    void *ret;
    int i, v = -1;

    for (i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&th[i], NULL, open_close, f), 0);
    for (i = 0; i < 6; i++) {
        pthread_join(th[i], &ret);
        assert_null(ret);
    }
    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_string_equal(vouch_store_backend(s), "postgres");
    assert_int_equal(vouch_store_schema_version(s, &v, NULL), VOUCH_OK);
    assert_int_equal(v, vouch_store_schema_latest());
    vouch_store_close(s);
    c = PQconnectdb(f->url);
    r = PQexec(c, "SELECT count(*) FROM schema_version");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(atoi(PQgetvalue(r, 0, 0)), vouch_store_schema_latest());
    PQclear(r);
    PQclear(PQexec(c, "INSERT INTO schema_version VALUES (999, 'x')"));
    PQfinish(c);
    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_E_STORE);
}

/* --- whole-store copy, unmigrated open, leases ---------------------------- */

/* A source store (SQLite, in its own directory) with rows of every table. */
static void fill_source(char *dir, size_t dir_len, char *url, size_t url_len)
{
    struct vouch_store_key k1 = { "kid-old", "RS256", "wrapped:AAA", 100, 0 };
    struct vouch_store_key k2 = { "kid-new", "RS256", "-----BEGIN PRIVATE KEY-----", 200, 0 };
    static const uint8_t bin[] = { 0, 1, 2, 0xff, 0 };
    struct vouch_store *s;

    snprintf(dir, dir_len, "/tmp/vouch-copy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(url, url_len, "sqlite:%s/src.db", dir);
    assert_int_equal(vouch_store_open(url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_put(s, "admin_token_sha256", "abcd", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_put(s, "challenge_secret", "s3cret", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_key_activate(s, &k1, 0, 100, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_key_activate(s, &k2, 1, 200, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "policy", "p1", "package x", 9, NULL, 0, 10, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "collateral", "qe/TD_QE", bin, sizeof(bin),
                                         "{\"a\":1}", 5000, 20, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_doc_put(s, "rim", "empty", "", 0, NULL, 0, 30, NULL), VOUCH_OK);
    vouch_store_close(s);
}

static void remove_source(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_copy(void **state)
{
    struct fixture *f = *state;
    struct vouch_store_contents c = { 0 }, back = { 0 };
    struct vouch_store_counts n;
    struct vouch_store *src, *dst;
    char dir[64], url[128];
    size_t i;

    fill_source(dir, sizeof(dir), url, sizeof(url));
    assert_int_equal(vouch_store_open(url, &src, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_open(f->url, &dst, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_contents_read(src, &c, NULL), VOUCH_OK);
    assert_int_equal(c.n_meta, 2);
    assert_int_equal(c.n_keys, 2);
    assert_int_equal(c.n_docs, 3);
    assert_int_equal(vouch_store_contents_write(dst, &c, 0, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_count(dst, &n, NULL), VOUCH_OK);
    assert_int_equal(n.meta, 2);
    assert_int_equal(n.keys, 2);
    assert_int_equal(n.docs, 3);
    /* A second copy into a store with rows is refused without force, and changes nothing. */
    assert_int_equal(vouch_store_doc_put(dst, "policy", "extra", "y", 1, NULL, 0, 1, NULL),
                     VOUCH_OK);
    assert_int_equal(vouch_store_contents_write(dst, &c, 0, NULL), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_count(dst, &n, NULL), VOUCH_OK);
    assert_int_equal(n.docs, 4);
    /* With force the target becomes exactly the source. */
    assert_int_equal(vouch_store_contents_write(dst, &c, 1, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_contents_read(dst, &back, NULL), VOUCH_OK);
    assert_int_equal(back.n_meta, c.n_meta);
    assert_int_equal(back.n_keys, c.n_keys);
    assert_int_equal(back.n_docs, c.n_docs);
    for (i = 0; i < c.n_meta; i++) {
        assert_string_equal(back.meta[i].key, c.meta[i].key);
        assert_string_equal(back.meta[i].value, c.meta[i].value);
    }
    for (i = 0; i < c.n_keys; i++) {
        assert_string_equal(back.keys[i].kid, c.keys[i].kid);
        assert_string_equal(back.keys[i].private_pem, c.keys[i].private_pem);
        assert_int_equal(back.keys[i].created_at, c.keys[i].created_at);
        assert_int_equal(back.keys[i].retired_at, c.keys[i].retired_at);
    }
    assert_int_equal(back.keys[1].retired_at, 200);   /* kid-old, retired by the rotation */
    for (i = 0; i < c.n_docs; i++) {
        assert_string_equal(back.docs[i].kind, c.docs[i].kind);
        assert_string_equal(back.docs[i].id, c.docs[i].id);
        assert_int_equal(back.docs[i].body_len, c.docs[i].body_len);
        assert_memory_equal(back.docs[i].body, c.docs[i].body, c.docs[i].body_len + 1);
        assert_true((back.docs[i].meta == NULL) == (c.docs[i].meta == NULL));
        assert_int_equal(back.docs[i].expires_at, c.docs[i].expires_at);
        assert_int_equal(back.docs[i].updated_at, c.docs[i].updated_at);
    }
    /* The copied active key is still the one active key of its algorithm. */
    {
        struct vouch_store_key k3 = { "kid-3", "RS256", "PEM3", 300, 0 };

        assert_int_equal(vouch_store_key_activate(dst, &k3, 0, 300, NULL), VOUCH_E_CONFLICT);
    }
    vouch_store_contents_done(&back);
    vouch_store_contents_done(&c);
    vouch_store_contents_done(NULL);
    vouch_store_close(dst);
    vouch_store_close(src);
    remove_source(dir);
}

/* Opening without migrating reads version 0 and changes nothing. */
static void test_unmigrated(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s;
    int v = -1;

    assert_int_equal(vouch_store_open_unmigrated(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &v, NULL), VOUCH_OK);
    assert_int_equal(v, 0);
    vouch_store_close(s);
    assert_int_equal(vouch_store_open_unmigrated(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &v, NULL), VOUCH_OK);
    assert_int_equal(v, 0);
    vouch_store_close(s);
    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    vouch_store_close(s);
    assert_int_equal(vouch_store_open_unmigrated(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_schema_version(s, &v, NULL), VOUCH_OK);
    assert_int_equal(v, vouch_store_schema_latest());
    vouch_store_close(s);
}

static void test_leases(void **state)
{
    static const struct {
        const char *holder;
        int64_t now, ttl;
        int held;
    } steps[] = {
        { "a", 1000, 3000, 1 },   /* free: a takes it until 4000 */
        { "b", 2000, 3000, 0 },   /* a holds it */
        { "a", 2500, 3000, 1 },   /* a renews: until 5500 */
        { "b", 5499, 3000, 0 },   /* not yet expired */
        { "b", 5500, 3000, 1 },   /* expired: b takes over until 8500 */
        { "a", 5600, 3000, 0 },   /* a has lost it */
        { "b", 6000, 3000, 1 },
    };
    struct fixture *f = *state;
    struct vouch_store *s;
    size_t i;
    int held;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        held = -1;
        assert_int_equal(vouch_store_lease_acquire(s, "job", steps[i].holder, steps[i].now,
                                                   steps[i].ttl, &held, NULL), VOUCH_OK);
        assert_int_equal(held, steps[i].held);
    }
    /* Another lease is independent. */
    assert_int_equal(vouch_store_lease_acquire(s, "other", "a", 6000, 3000, &held, NULL),
                     VOUCH_OK);
    assert_int_equal(held, 1);
    /* Only the holder can release; then anyone can take it at once. */
    assert_int_equal(vouch_store_lease_release(s, "job", "a", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_lease_acquire(s, "job", "a", 6100, 3000, &held, NULL), VOUCH_OK);
    assert_int_equal(held, 0);
    assert_int_equal(vouch_store_lease_release(s, "job", "b", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_lease_acquire(s, "job", "a", 6100, 3000, &held, NULL), VOUCH_OK);
    assert_int_equal(held, 1);
    /* Bad arguments. */
    assert_int_equal(vouch_store_lease_acquire(s, "job", "a", 0, 0, &held, NULL), VOUCH_E_INVALID);
    assert_int_equal(vouch_store_lease_acquire(s, "job", "a", INT64_MAX, 1, &held, NULL),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_lease_acquire(s, "", "a", 0, 1, &held, NULL), VOUCH_E_INVALID);
    vouch_store_close(s);
}

/* Secrets are swapped all at once, each only if it still holds its old value. */
static void test_secrets_replace(void **state)
{
    struct fixture *f = *state;
    struct vouch_store_key k = { "kid-1", "ES256", "PEM1", 100, 0 };
    const struct vouch_store_secret_change both[] = {
        { VOUCH_STORE_SECRET_SIGNING_KEY, "kid-1", "PEM1", "WRAPPED1" },
        { VOUCH_STORE_SECRET_META, "challenge_secret", "s1", "w1" },
    };
    const struct vouch_store_secret_change stale[] = {
        { VOUCH_STORE_SECRET_META, "challenge_secret", "w1", "w2" },
        { VOUCH_STORE_SECRET_SIGNING_KEY, "kid-1", "PEM1", "WRAPPED2" },   /* stale */
    };
    struct vouch_store_key *keys = NULL;
    struct vouch_store *s;
    char *v = NULL;
    size_t n = 0;

    assert_int_equal(vouch_store_open(f->url, &s, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_key_activate(s, &k, 0, 100, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_meta_put(s, "challenge_secret", "s1", NULL), VOUCH_OK);
    assert_int_equal(vouch_store_secrets_replace(s, both, 2, NULL), VOUCH_OK);
    assert_int_equal(vouch_store_secrets_replace(s, stale, 2, NULL), VOUCH_E_CONFLICT);
    /* The first change of the refused set was rolled back with it. */
    assert_int_equal(vouch_store_meta_get(s, "challenge_secret", &v, NULL), VOUCH_OK);
    assert_string_equal(v, "w1");
    free(v);
    assert_int_equal(vouch_store_keys_list(s, &keys, &n, NULL), VOUCH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0].private_pem, "WRAPPED1");
    vouch_store_keys_free(keys, n);
    vouch_store_close(s);
}

/* --- vTPM -------------------------------------------------------------------- */

static void test_vtpm_accesskeys(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_accesskey *k = NULL;
    struct vouch_errbuf eb;
    size_t n = 0;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    /* The first key creates the account; the second reuses it. */
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "sec1", 1000, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK2", "sec2", 2000, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "bob", "BK1", "sec3", 3000, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "bob", "AK1", "x", 4000, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_accesskey_create(s, "bad name", "K", "x", 1, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_accesskey_create(s, "carol", "K", "", 1, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_accesskey_get(s, "AK2", &k, &eb), VOUCH_OK);
    assert_string_equal(k->account, "alice");
    assert_string_equal(k->secret, "sec2");
    assert_true(k->enabled);
    assert_int_equal(k->created_ms, 2000);
    vouch_store_accesskeys_free(k, 1);
    assert_int_equal(vouch_store_accesskey_get(s, "nope", &k, &eb), VOUCH_E_NOT_FOUND);
    /* Lists carry no secrets. */
    assert_int_equal(vouch_store_accesskey_list(s, NULL, &k, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 3);
    assert_string_equal(k[0].id, "AK1");
    assert_string_equal(k[2].id, "BK1");
    assert_null(k[0].secret);
    vouch_store_accesskeys_free(k, n);
    assert_int_equal(vouch_store_accesskey_list(s, "bob", &k, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(k[0].account, "bob");
    vouch_store_accesskeys_free(k, n);
    assert_int_equal(vouch_store_accesskey_disable(s, "AK1", &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_disable(s, "nope", &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_accesskey_get(s, "AK1", &k, &eb), VOUCH_OK);
    assert_false(k->enabled);
    vouch_store_accesskeys_free(k, 1);
    vouch_store_close(s);
}

static struct vouch_store_instance instance_of(const char *uuid, const char *account,
                                               const char *name)
{
    struct vouch_store_instance in = {
        .uuid = (char *)uuid, .account = (char *)account, .instance_id = "i-1",
        .instance_type = "ecs.g7t", .name = (char *)name, .private_ip = "10.0.0.1",
        .public_ip = "", .extensions = "{}", .affiliation = 1, .system_status = 4,
        .system_whitelist_id = -1, .system_detail = "{}", .program_status = 4,
        .program_whitelist_id = -1, .program_detail = "{}", .program_whitelist_name = "",
    };

    return in;
}

static void test_vtpm_instances(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_instance in, *got = NULL, *list = NULL;
    struct vouch_store_instance_filter flt = VOUCH_STORE_INSTANCE_FILTER_ANY;
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t n = 0;
    char uuid[32];
    int i;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "bob", "BK1", "b", 1, &eb), 0);
    in = instance_of("u-1", "alice", "web");
    /* An instance needs an existing account. */
    in.account = "nobody";
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_E_CONFLICT);
    in.account = "alice";
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    /* Re-registering updates the identity, keeps created, moves modified. */
    in.name = "web2";
    in.system_status = 1;       /* ignored on update: the verdict is kept */
    assert_int_equal(vouch_store_instance_register(s, &in, 200, &eb), VOUCH_OK);
    /* Another account cannot take the uuid over. */
    in.account = "bob";
    assert_int_equal(vouch_store_instance_register(s, &in, 300, &eb), VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_string_equal(got->account, "alice");
    assert_string_equal(got->name, "web2");
    assert_string_equal(got->instance_type, "ecs.g7t");
    assert_int_equal(got->system_status, 4);
    assert_int_equal(got->program_whitelist_id, -1);
    assert_int_equal(got->created_ms, 100);
    assert_int_equal(got->modified_ms, 200);
    assert_int_equal(got->recent_report_ms, 0);
    vouch_store_instance_free(got);
    assert_int_equal(vouch_store_instance_get(s, "u-9", &got, &eb), VOUCH_E_NOT_FOUND);
    /* 12 more for alice (some with another status), 1 for bob. */
    for (i = 2; i <= 13; i++) {
        snprintf(uuid, sizeof(uuid), "u-%02d", i);
        in = instance_of(uuid, "alice", "n");
        in.system_status = i % 3 == 0 ? 2 : 4;
        in.recent_report_ms = i % 2 ? 5000 : 0;
        assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    }
    in = instance_of("u-b", "bob", "b");
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_list(s, "alice", NULL, 10, 5, &list, &n, &total,
                                               &eb), VOUCH_OK);
    assert_int_equal(total, 13);
    assert_int_equal(n, 3);
    assert_string_equal(list[0].uuid, "u-11");
    assert_string_equal(list[2].uuid, "u-13");
    vouch_store_instances_free(list, n);
    flt.system_status = 2;
    assert_int_equal(vouch_store_instance_list(s, "alice", &flt, 0, 100, &list, &n, &total,
                                               &eb), VOUCH_OK);
    assert_int_equal(total, 4);          /* 3, 6, 9, 12 */
    assert_int_equal(n, 4);
    vouch_store_instances_free(list, n);
    flt.system_status = -1;
    flt.online = 1;
    flt.online_since_ms = 4000;
    assert_int_equal(vouch_store_instance_list(s, "alice", &flt, 0, 100, &list, &n, &total,
                                               &eb), VOUCH_OK);
    assert_int_equal(total, 6);          /* odd i in 3..13 */
    vouch_store_instances_free(list, n);
    assert_int_equal(vouch_store_instance_list(s, "bob", NULL, 0, 100, &list, &n, &total, &eb),
                     VOUCH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].uuid, "u-b");
    vouch_store_instances_free(list, n);
    assert_int_equal(vouch_store_instance_list(s, "bob", NULL, 0, 0, &list, &n, &total, &eb),
                     VOUCH_E_INVALID);
    /* Deleting: only the owner. */
    assert_int_equal(vouch_store_instance_delete(s, "bob", "u-1", &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_instance_delete(s, "alice", "u-1", &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_E_NOT_FOUND);
    vouch_store_close(s);
}

/* A live record's expiry by (key, nonce) from each(). */
struct rnonce_seen {
    size_t n;
    int64_t r1_expires, b2_expires;
};

static bool rnonce_seen_one(void *ctx, const struct vouch_store_request_nonce *r)
{
    struct rnonce_seen *seen = ctx;

    seen->n++;
    if (strcmp(r->key_id, "AK1") == 0 && strcmp(r->nonce, "r1") == 0)
        seen->r1_expires = r->expires_ms;
    if (strcmp(r->key_id, "AK3") == 0 && strcmp(r->nonce, "b2") == 0)
        seen->b2_expires = r->expires_ms;
    return true;
}

/* Batches (the server's writer), the live ones read back, the expired purged. */
static void check_request_nonce_batches(struct vouch_store *s)
{
    const struct vouch_store_request_nonce rows[] = {
        { "AK3", "b1", 2500 }, { "AK3", "b2", 5000 }, { "AK1", "r1", 2900 },
        { "AK3", "b2", 4000 },
    };
    const struct vouch_store_request_nonce bad[] = { { "AK3", "bad nonce", 5000 } };
    struct rnonce_seen seen = { 0 };
    struct vouch_errbuf eb;
    uint64_t deleted = 0;

    assert_int_equal(vouch_store_request_nonces_save(s, rows, 4, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_request_nonces_save(s, bad, 1, &eb), VOUCH_E_INVALID);
    /* Live at 2600: AK1/r1 (3000, not shortened to 2900), AK3/b2 (5000, not 4000). */
    assert_int_equal(vouch_store_request_nonces_each(s, 2600, rnonce_seen_one, &seen, &eb),
                     VOUCH_OK);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.r1_expires, 3000);
    assert_int_equal(seen.b2_expires, 5000);
    /* Expired at 3000: AK1/r1, AK2/r1, AK3/b1.  SQLite appends batches to a log
     * (migration 11) beside the keyed table use() writes, so AK1/r1 has a row in
     * each there (a read takes the later expiry): four rows. */
    assert_int_equal(vouch_store_request_nonces_purge(s, 3000, &deleted, &eb), VOUCH_OK);
    assert_int_equal(deleted, strcmp(vouch_store_backend(s), "sqlite") == 0 ? 4 : 3);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(vouch_store_request_nonces_each(s, 0, rnonce_seen_one, &seen, &eb),
                     VOUCH_OK);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.b2_expires, 5000);
}

static void test_vtpm_nonces(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    /* Report nonces: once, for their instance, before expiry. */
    assert_int_equal(vouch_store_nonce_issue(s, "n1", "u-1", 1000, 2000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n2", "u-1", 1000, 2000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n3", "u-1", 1000, 2000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n1", "u-2", 1000, 2000, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_nonce_take(s, "n1", "u-2", 1500, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_nonce_take(s, "n1", "u-1", 1500, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_take(s, "n1", "u-1", 1500, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_nonce_take(s, "n2", "u-1", 2000, &eb), VOUCH_E_NOT_FOUND);
    /* Issuing drops expired ones: n3 is gone, its value reusable. */
    assert_int_equal(vouch_store_nonce_issue(s, "n3", "u-2", 2500, 3000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_take(s, "n3", "u-2", 2600, &eb), VOUCH_OK);
    /* Request nonces: a replay per key within the window is refused. */
    assert_int_equal(vouch_store_request_nonce_use(s, "AK1", "r1", 1000, 1900, &eb), 0);
    assert_int_equal(vouch_store_request_nonce_use(s, "AK1", "r1", 1100, 2000, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_request_nonce_use(s, "AK2", "r1", 1100, 2000, &eb), 0);
    /* After the window the record is replaced and the nonce may come again. */
    assert_int_equal(vouch_store_request_nonce_use(s, "AK1", "r1", 2100, 3000, &eb), 0);
    assert_int_equal(vouch_store_request_nonce_use(s, "AK1", "r1", 2200, 3100, &eb),
                     VOUCH_E_CONFLICT);
    assert_int_equal(vouch_store_request_nonce_use(s, "AK1", "bad nonce", 2100, 3000, &eb),
                     VOUCH_E_INVALID);
    check_request_nonce_batches(s);
    vouch_store_close(s);
}

/* A report of u-1 at version `expect` with `pcr5` as PCR 5 of the baseline. */
static struct vouch_store_vtpm_state state_with(int64_t ima_next, char pcr5)
{
    struct vouch_store_vtpm_state st;
    int i;

    memset(&st, 0, sizeof(st));
    memset(st.pcr10_sha1, 'a', 40);
    memset(st.pcr10_sha256, 'b', 64);
    st.ima_next = ima_next;
    st.reset_count = 7;
    st.whitelist_id = -1;
    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++)
        memset(st.baseline[i], i == 5 ? pcr5 : '0' + i, 64);
    return st;
}

static void test_vtpm_reports(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_instance in = instance_of("u-1", "alice", "web"), *got = NULL;
    struct vouch_store_vtpm_state st, next = state_with(12, '5');
    struct vouch_store_event_new ev = { "ev-1", VOUCH_STORE_EVENT_SYSTEM, 3, "pcr5", "", "" };
    struct vouch_store_report r = { "u-1", "n1", 1000, 0, &next, 1, 1, 1, NULL, 0, "{\"n\":1}",
                                    2 };
    struct vouch_store_ak *ak = NULL;
    struct vouch_errbuf eb;
    char *summary = NULL, evil[65];
    int64_t ms = 0;
    uint64_t count = 0;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    /* AK: pending until a report activates it; none for unknown instances. */
    assert_int_equal(vouch_store_ak_put(s, "u-9", "cHVi", "PEM", 100, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_ak_put(s, "u-1", "cHVi", "PEM", 100, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_ak_get(s, "u-1", &ak, &eb), VOUCH_OK);
    assert_int_equal(ak->state, VOUCH_STORE_AK_PENDING);
    assert_string_equal(ak->cert_pem, "PEM");
    vouch_store_ak_free(ak);
    /* Before any report: the fresh state. */
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_int_equal(st.reports, 0);
    assert_int_equal(st.whitelist_id, -1);
    assert_int_equal(st.reset_count, -1);
    assert_string_equal(st.pcr10_sha256, "0000000000000000000000000000000000000000000000000000000000000000");
    /* Without its nonce nothing changes. */
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_int_equal(st.reports, 0);
    assert_int_equal(vouch_store_report_count(s, "u-1", &count, &eb), VOUCH_OK);
    assert_int_equal(count, 0);
    /* First report: baseline, AK active, trusted. */
    assert_int_equal(vouch_store_nonce_issue(s, "n1", "u-1", 900, 2000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_ak_get(s, "u-1", &ak, &eb), VOUCH_OK);
    assert_int_equal(ak->state, VOUCH_STORE_AK_ACTIVE);
    vouch_store_ak_free(ak);
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_int_equal(st.reports, 1);
    assert_int_equal(st.ima_next, 12);
    assert_int_equal(st.reset_count, 7);
    assert_true(st.whitelist_id > 0);
    assert_memory_equal(st.baseline, next.baseline, sizeof(st.baseline));
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 1);
    assert_int_equal(got->system_whitelist_id, st.whitelist_id);
    assert_int_equal(got->recent_report_ms, 1000);
    assert_int_equal(got->program_status, 4);
    assert_non_null(strstr(got->system_detail, "\"pcr5\":\"5555"));
    vouch_store_instance_free(got);
    /* A stale version is refused (another report went first). */
    assert_int_equal(vouch_store_nonce_issue(s, "n2", "u-1", 900, 5000, &eb), VOUCH_OK);
    next.whitelist_id = st.whitelist_id;
    r.nonce = "n2";
    r.create_baseline = 0;
    r.activate_ak = 0;
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_E_CONFLICT);
    /* Second and third report open one event for pcr5 (counted twice). */
    memset(evil, 'e', 64);
    evil[64] = '\0';
    ev.suspect_value = evil;
    ev.whitelist_value = next.baseline[5];
    r.events = &ev;
    r.n_events = 1;
    r.system_status = 2;
    r.expect_reports = 1;
    r.now_ms = 2000;
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n3", "u-1", 900, 5000, &eb), VOUCH_OK);
    r.nonce = "n3";
    r.expect_reports = 2;
    r.now_ms = 3000;
    ev.uuid = "ev-2";
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 2);
    assert_int_equal(got->system_exceptions, 1);
    vouch_store_instance_free(got);
    /* History keeps the last 2. */
    assert_int_equal(vouch_store_report_count(s, "u-1", &count, &eb), VOUCH_OK);
    assert_int_equal(count, 2);
    assert_int_equal(vouch_store_report_last(s, "u-1", &summary, &ms, &eb), VOUCH_OK);
    assert_int_equal(ms, 3000);
    assert_string_equal(summary, "{\"n\":1}");
    free(summary);
    assert_int_equal(vouch_store_report_last(s, "u-9", &summary, &ms, &eb), VOUCH_E_NOT_FOUND);
    vouch_store_close(s);
}

/* The history pages (vouch_store_report_list) and the PCR events kept with a report. */
static void test_vtpm_report_history(void **state)
{
    static const struct {
        const char *nonce;
        const char *summary;
        const char *pcr_events;        /* as given to report_accept */
    } reports[] = {
        { "h1", "{\"n\":1}", NULL },
        { "h2", "{\"n\":2}", "{\"pcr5\":{\"Events\":[],\"Omitted\":0}}" },
        { "h3", "{\"n\":3}", "" },
        { "h4", "{\"n\":4}", "{\"pcr4\":{\"Events\":[],\"Omitted\":1}}" },
    };
    static const struct {
        uint64_t offset;
        size_t limit;
        int with_events;
        size_t n;
        int64_t first_seq;
        const char *first_events;      /* NULL: not read */
    } pages[] = {
        { 0, 10, 1, 3, 4, "{\"pcr4\":{\"Events\":[],\"Omitted\":1}}" },
        { 0, 1, 0, 1, 4, NULL },
        { 1, 1, 1, 1, 3, "" },
        { 2, 5, 1, 1, 2, "{\"pcr5\":{\"Events\":[],\"Omitted\":0}}" },
        { 3, 5, 1, 0, 0, NULL },
    };
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_instance in = instance_of("u-1", "alice", "web");
    struct vouch_store_vtpm_state st, next = state_with(3, '5');
    struct vouch_store_report r = { "u-1", "", 1000, 0, &next, 1, 1, 1, NULL, 0, "", 3 };
    struct vouch_store_report_row *rows = NULL;
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t i, n = 0;
    char *big;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        assert_int_equal(vouch_store_nonce_issue(s, reports[i].nonce, "u-1", 900, 9000, &eb), 0);
        r.nonce = reports[i].nonce;
        r.summary = reports[i].summary;
        r.pcr_events = reports[i].pcr_events;
        r.expect_reports = (int64_t)i;
        r.create_baseline = i == 0;
        r.now_ms = 1000 + (int64_t)i;
        assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
        assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
        next.whitelist_id = st.whitelist_id;
    }
    /* keep 3: report 1 is gone; pages newest first */
    for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        assert_int_equal(vouch_store_report_list(s, "u-1", pages[i].offset, pages[i].limit,
                                                 pages[i].with_events, &rows, &n, &total, &eb),
                         VOUCH_OK);
        assert_int_equal(total, 3);
        assert_int_equal(n, pages[i].n);
        if (n) {
            assert_int_equal(rows[0].seq, pages[i].first_seq);
            assert_int_equal(rows[0].received_ms, 999 + pages[i].first_seq);
            assert_int_equal(rows[0].summary[5], '0' + pages[i].first_seq);
            if (pages[i].first_events)
                assert_string_equal(rows[0].pcr_events, pages[i].first_events);
            else
                assert_null(rows[0].pcr_events);
        }
        vouch_store_report_rows_free(rows, n);
    }
    /* No rows for an unknown instance; bad limits and oversized events refused. */
    assert_int_equal(vouch_store_report_list(s, "u-9", 0, 5, 1, &rows, &n, &total, &eb), VOUCH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(total, 0);
    vouch_store_report_rows_free(rows, n);
    assert_int_equal(vouch_store_report_list(s, "u-1", 0, 0, 1, &rows, &n, &total, &eb),
                     VOUCH_E_INVALID);
    assert_int_equal(vouch_store_report_list(s, "u-1", 0, VOUCH_STORE_LIST_MAX + 1, 1, &rows, &n,
                                             &total, &eb), VOUCH_E_INVALID);
    big = malloc(VOUCH_STORE_PCR_EVENTS_MAX + 2);
    assert_non_null(big);
    memset(big, 'x', VOUCH_STORE_PCR_EVENTS_MAX + 1);
    big[VOUCH_STORE_PCR_EVENTS_MAX + 1] = '\0';
    r.pcr_events = big;
    r.expect_reports = 4;
    r.nonce = "h5";
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_E_INVALID);
    free(big);
    vouch_store_close(s);
}

/* The singleton jobs' statements: the online-status sweep and history retention. */
/* One report of test_vtpm_report_group, sent from its own thread. */
struct group_case {
    const char *uuid;
    bool nonce_issued;               /* false: its nonce is unknown */
    int64_t expect_reports;          /* 1: stale (the instance has none yet) */
    vouch_err want;
    /* filled by the thread */
    struct vouch_store *s;
    struct vouch_store_vtpm_state next;
    int64_t program_status;
    vouch_err got;
};

static void *group_report(void *p)
{
    struct group_case *c = p;
    struct vouch_store_report r = { c->uuid, c->uuid, 1000, c->expect_reports, &c->next, 1, 0,
                                    1, NULL, 0, "{\"n\":1}", 5, 1, "{\"WhiteListId\":1}" };
    struct vouch_errbuf eb;

    c->got = vouch_store_report_accept(c->s, &r, &c->program_status, &eb);
    return NULL;
}

/*
 * Reports that are committed together (SQLite's group commit: a writer
 * outside the store holds the database until all are queued) succeed or
 * fail each on its own: an unknown nonce or a stale version rolls back
 * only that report, and the others are stored whole.
 */
static void test_vtpm_report_group(void **state)
{
    struct fixture *f = *state;
    struct group_case cases[] = {
        { "g-0", true, 0, VOUCH_OK },
        { "g-1", false, 0, VOUCH_E_NOT_FOUND },
        { "g-2", true, 0, VOUCH_OK },
        { "g-3", true, 1, VOUCH_E_CONFLICT },
        { "g-4", true, 0, VOUCH_OK },
        { "g-5", true, 0, VOUCH_OK },
    };
    const size_t n = sizeof(cases) / sizeof(cases[0]);
    pthread_t th[sizeof(cases) / sizeof(cases[0])];
    struct vouch_store_vtpm_state st;
    struct vouch_store_instance *got = NULL;
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    sqlite3 *blocker = NULL;
    uint64_t count = 0;
    size_t i;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    for (i = 0; i < n; i++) {
        struct vouch_store_instance in = instance_of(cases[i].uuid, "alice", "web");

        assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
        if (cases[i].nonce_issued)
            assert_int_equal(vouch_store_nonce_issue(s, cases[i].uuid, cases[i].uuid, 900, 5000,
                                                     &eb), VOUCH_OK);
        cases[i].s = s;
        cases[i].next = state_with(50, (char)('a' + i));
    }
    if (strncmp(f->url, "sqlite:", 7) == 0) {
        assert_int_equal(sqlite3_open(f->path, &blocker), SQLITE_OK);
        assert_int_equal(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    }
    for (i = 0; i < n; i++)
        assert_int_equal(pthread_create(&th[i], NULL, group_report, &cases[i]), 0);
    if (blocker) {
        usleep(200 * 1000);          /* the reports queue behind the first one's BEGIN */
        assert_int_equal(sqlite3_exec(blocker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(blocker);
    }
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(cases[i].got, cases[i].want);
        assert_int_equal(vouch_store_vtpm_state_get(s, cases[i].uuid, &st, &eb), VOUCH_OK);
        assert_int_equal(vouch_store_report_count(s, cases[i].uuid, &count, &eb), VOUCH_OK);
        assert_int_equal(vouch_store_instance_get(s, cases[i].uuid, &got, &eb), VOUCH_OK);
        if (cases[i].want == VOUCH_OK) {
            assert_int_equal(cases[i].program_status, 4);    /* no program whitelist */
            assert_int_equal(st.reports, 1);
            assert_int_equal(st.ima_next, 50);
            assert_memory_equal(st.baseline, cases[i].next.baseline, sizeof(st.baseline));
            assert_int_equal(count, 1);
            assert_int_equal(got->recent_report_ms, 1000);
            assert_string_equal(got->program_detail, "{\"WhiteListId\":1}");
        } else {
            assert_int_equal(st.reports, 0);
            assert_int_equal(st.whitelist_id, -1);
            assert_int_equal(count, 0);
            assert_int_equal(got->recent_report_ms, 0);
        }
        vouch_store_instance_free(got);
    }
    vouch_store_close(s);
}

static void test_vtpm_jobs(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_instance quiet = instance_of("u-1", "alice", "web");
    struct vouch_store_instance busy = instance_of("u-2", "alice", "db"), *got = NULL;
    struct vouch_store_vtpm_state next = state_with(0, '5');
    struct vouch_store_report r = { "u-2", "", 0, 0, &next, 1, 1, 0, NULL, 0, "{}", 10 };
    static const struct { const char *nonce; int64_t at; } reports[] = {
        { "j1", 1000 }, { "j2", 2000 }, { "j3", 3000 }, { "j4", 4000 },
    };
    static const struct { int64_t before; size_t keep; uint64_t deleted, left; } prunes[] = {
        { 0, 10, 0, 4 },              /* nothing old, within the bound */
        { 2500, 10, 2, 2 },           /* by age: 1000 and 2000 */
        { 0, 1, 1, 1 },               /* by count */
        { 1000000, 5, 0, 1 },         /* the newest always stays */
    };
    struct vouch_errbuf eb;
    uint64_t n = 0;
    char *summary = NULL;
    int64_t ms = 0;
    size_t i;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_instance_register(s, &quiet, 100, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_register(s, &busy, 100, &eb), VOUCH_OK);
    for (i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
        assert_int_equal(vouch_store_nonce_issue(s, reports[i].nonce, "u-2", 900, 9000, &eb), 0);
        r.nonce = reports[i].nonce;
        r.now_ms = reports[i].at;
        r.expect_reports = (int64_t)i;
        assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
        r.create_baseline = 0;
        r.activate_ak = 0;
        next.whitelist_id = 1;
    }
    /* Sweep: u-2 reported at 4000; u-1 never did (status 4 stays). */
    assert_int_equal(vouch_store_instance_mark_unmeasured(s, 4000, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vouch_store_instance_mark_unmeasured(s, 4001, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(vouch_store_instance_mark_unmeasured(s, 4001, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 0);
    assert_int_equal(vouch_store_instance_get(s, "u-2", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, VOUCH_STORE_UNMEASURED);
    assert_int_equal(got->recent_report_ms, 4000);
    vouch_store_instance_free(got);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 4);
    vouch_store_instance_free(got);
    /* Retention. */
    for (i = 0; i < sizeof(prunes) / sizeof(prunes[0]); i++) {
        assert_int_equal(vouch_store_report_prune(s, prunes[i].before, prunes[i].keep, &n, &eb),
                         VOUCH_OK);
        assert_int_equal(n, prunes[i].deleted);
        assert_int_equal(vouch_store_report_count(s, "u-2", &n, &eb), VOUCH_OK);
        assert_int_equal(n, prunes[i].left);
    }
    assert_int_equal(vouch_store_report_prune(s, 0, 0, &n, &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_store_report_last(s, "u-2", &summary, &ms, &eb), VOUCH_OK);
    assert_int_equal(ms, 4000);
    free(summary);
    /* The next report writes its own verdict over the sweep's. */
    assert_int_equal(vouch_store_nonce_issue(s, "j5", "u-2", 900, 9000, &eb), VOUCH_OK);
    r.nonce = "j5";
    r.now_ms = 5000;
    r.expect_reports = 4;
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_instance_get(s, "u-2", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 1);
    vouch_store_instance_free(got);
    vouch_store_close(s);
}

static void test_vtpm_events(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_instance in = instance_of("u-1", "alice", "web"), *got = NULL;
    struct vouch_store_vtpm_state st, next = state_with(0, '5');
    char v5[65], v7[65];
    struct vouch_store_event_new ev[2] = {
        { "ev-5", VOUCH_STORE_EVENT_SYSTEM, 3, "pcr5", v5, "" },
        { "ev-7", VOUCH_STORE_EVENT_SYSTEM, 3, "pcr7", v7, "" },
    };
    struct vouch_store_report r = { "u-1", "n1", 1000, 0, &next, 1, 0, 1, NULL, 0, "{}", 10 };
    struct vouch_store_event_filter flt = VOUCH_STORE_EVENT_FILTER_ANY;
    struct vouch_store_event *list = NULL;
    const char *one[] = { "ev-5" }, *both[] = { "ev-7", "ev-x" }, *seven[] = { "ev-7" };
    struct vouch_errbuf eb;
    uint64_t total = 0;
    size_t n = 0;

    memset(v5, 'f', 64);
    memset(v7, 'c', 64);
    v5[64] = v7[64] = '\0';
    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_accesskey_create(s, "alice", "AK1", "a", 1, &eb), 0);
    assert_int_equal(vouch_store_accesskey_create(s, "bob", "BK1", "b", 1, &eb), 0);
    assert_int_equal(vouch_store_instance_register(s, &in, 100, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n1", "u-1", 900, 9000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_nonce_issue(s, "n2", "u-1", 900, 9000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    next.whitelist_id = st.whitelist_id;
    r.nonce = "n2";
    r.expect_reports = 1;
    r.create_baseline = 0;
    r.events = ev;
    r.n_events = 2;
    r.system_status = 2;
    r.now_ms = 2000;
    assert_int_equal(vouch_store_report_accept(s, &r, NULL, &eb), VOUCH_OK);
    /* Listing: the account's only, with filters. */
    assert_int_equal(vouch_store_event_list(s, "bob", NULL, 0, 10, &list, &n, &total, &eb), 0);
    assert_int_equal(total, 0);
    vouch_store_events_free(list, n);
    flt.suspect = "pcr7";
    flt.status = VOUCH_STORE_EVENT_OPEN;
    assert_int_equal(vouch_store_event_list(s, "alice", &flt, 0, 10, &list, &n, &total, &eb), 0);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].uuid, "ev-7");
    assert_string_equal(list[0].instance, "u-1");
    assert_string_equal(list[0].suspect_value, v7);
    assert_int_equal(list[0].created_ms, 2000);
    assert_int_equal(list[0].handled_ms, 0);
    vouch_store_events_free(list, n);
    /* Handling: all or nothing, the owner only, open ones only. */
    assert_int_equal(vouch_store_events_handle(s, "alice", both, 2, VOUCH_STORE_EVENT_IGNORED,
                                               3000, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_events_handle(s, "bob", one, 1, VOUCH_STORE_EVENT_TRUSTED,
                                               3000, &eb), VOUCH_E_NOT_FOUND);
    assert_int_equal(vouch_store_events_handle(s, "alice", one, 1, VOUCH_STORE_EVENT_TRUSTED,
                                               3000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_events_handle(s, "alice", one, 1, VOUCH_STORE_EVENT_IGNORED,
                                               3000, &eb), VOUCH_E_CONFLICT);
    /* Trusted: the baseline took pcr5's value; pcr7 still open, still untrusted. */
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_string_equal(st.baseline[5], v5);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 2);
    assert_int_equal(got->system_exceptions, 1);
    assert_non_null(strstr(got->system_detail, v5));
    vouch_store_instance_free(got);
    /* Ignored: baseline kept, no open event left, trusted again. */
    assert_int_equal(vouch_store_events_handle(s, "alice", seven, 1, VOUCH_STORE_EVENT_IGNORED,
                                               4000, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_string_equal(st.baseline[7], next.baseline[7]);
    assert_int_equal(vouch_store_instance_get(s, "u-1", &got, &eb), VOUCH_OK);
    assert_int_equal(got->system_status, 1);
    assert_int_equal(got->system_exceptions, 0);
    vouch_store_instance_free(got);
    flt = (struct vouch_store_event_filter)VOUCH_STORE_EVENT_FILTER_ANY;
    flt.status = VOUCH_STORE_EVENT_IGNORED;
    flt.handled_from = 3500;
    assert_int_equal(vouch_store_event_list(s, "alice", &flt, 0, 10, &list, &n, &total, &eb), 0);
    assert_int_equal(total, 1);
    assert_int_equal(list[0].handled_ms, 4000);
    assert_int_equal(list[0].handle_type, 2);
    vouch_store_events_free(list, n);
    /* Unregistering takes every row of the instance along. */
    assert_int_equal(vouch_store_instance_delete(s, "alice", "u-1", &eb), VOUCH_OK);
    assert_int_equal(vouch_store_event_list(s, "alice", NULL, 0, 10, &list, &n, &total, &eb), 0);
    assert_int_equal(total, 0);
    vouch_store_events_free(list, n);
    assert_int_equal(vouch_store_vtpm_state_get(s, "u-1", &st, &eb), VOUCH_OK);
    assert_int_equal(st.whitelist_id, -1);
    vouch_store_close(s);
}

/* The audit log: appended, filtered, paged newest first, pruned by age. */
static void test_audit(void **state)
{
    static const struct {
        const char *id, *actor, *action, *target;
        int64_t at_ms, status;
    } rows[] = {
        { "a1", "admin", "POST /policy", "p1", 1000, 200 },
        { "a2", "accesskey:AK1", "RegisterMessage", "i-1", 2000, 200 },
        { "a3", "admin", "DELETE /policy/{id}", "p1", 3000, 404 },
        { "a4", "cli:root", "cli accesskey create", "acme", 4000, 200 },
    };
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_audit a, *got = NULL;
    struct vouch_store_audit_filter flt = { NULL, NULL, 0, 0 };
    struct vouch_errbuf eb;
    uint64_t total = 0, deleted = 0;
    size_t i, n = 0;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(&a, 0, sizeof(a));
        snprintf(a.id, sizeof(a.id), "%s", rows[i].id);
        a.at_ms = rows[i].at_ms;
        a.actor = (char *)rows[i].actor;
        a.action = (char *)rows[i].action;
        a.target = (char *)rows[i].target;
        a.status = rows[i].status;
        a.code = (char *)(rows[i].status == 200 ? "" : "VOUCH.POLICY.NOT_FOUND");
        a.request_id = (char *)"req-1";
        assert_int_equal(vouch_store_audit_append(s, &a, &eb), VOUCH_OK);
    }
    /* The same id twice is refused; control characters never reach the store. */
    assert_int_not_equal(vouch_store_audit_append(s, &a, &eb), VOUCH_OK);
    snprintf(a.id, sizeof(a.id), "a5");
    a.target = (char *)"evil\nline";
    assert_int_equal(vouch_store_audit_append(s, &a, &eb), VOUCH_E_INVALID);

    assert_int_equal(vouch_store_audit_list(s, NULL, 0, 10, &got, &n, &total, &eb), VOUCH_OK);
    assert_int_equal(n, 4);
    assert_int_equal(total, 4);
    assert_string_equal(got[0].id, "a4");            /* newest first */
    assert_string_equal(got[3].actor, "admin");
    assert_string_equal(got[1].code, "VOUCH.POLICY.NOT_FOUND");
    assert_int_equal(got[2].at_ms, 2000);
    vouch_store_audits_free(got, n);

    flt.actor = "admin";
    flt.since_ms = 1500;
    assert_int_equal(vouch_store_audit_list(s, &flt, 0, 10, &got, &n, &total, &eb), VOUCH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(got[0].action, "DELETE /policy/{id}");
    vouch_store_audits_free(got, n);

    flt.actor = NULL;
    flt.since_ms = 0;
    flt.until_ms = 4000;
    assert_int_equal(vouch_store_audit_list(s, &flt, 1, 1, &got, &n, &total, &eb), VOUCH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 3);
    assert_string_equal(got[0].id, "a2");
    vouch_store_audits_free(got, n);
    assert_int_equal(vouch_store_audit_list(s, NULL, 0, 0, &got, &n, &total, &eb),
                     VOUCH_E_INVALID);

    assert_int_equal(vouch_store_audit_prune(s, 3000, &deleted, &eb), VOUCH_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(vouch_store_audit_list(s, NULL, 0, 10, &got, &n, &total, &eb), VOUCH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[1].id, "a3");
    vouch_store_audits_free(got, n);
    vouch_store_close(s);
}

static struct vouch_store_attestation attestation_of(int64_t t, const char *tee, int64_t allow,
                                                     const char *code)
{
    struct vouch_store_attestation a;

    memset(&a, 0, sizeof(a));
    a.time_ms = t;
    snprintf(a.tee, sizeof(a.tee), "%s", tee);
    a.policy_ids = (char *)"[\"default\"]";
    a.allow = allow;
    a.tcb_status = (char *)(allow >= 0 ? "UpToDate" : "");
    a.http_status = code[0] ? 400 : 200;
    a.error_code = (char *)code;
    snprintf(a.request_id, sizeof(a.request_id), "req-%lld", (long long)t);
    return a;
}

static void test_attestations(void **state)
{
    struct fixture *f = *state;
    struct vouch_store *s = NULL;
    struct vouch_store_attestation *got = NULL, a;
    struct vouch_errbuf eb;
    char big[VOUCH_STORE_ATTESTATION_TEXT_MAX + 2];
    size_t n = 0, i;

    assert_int_equal(vouch_store_open(f->url, &s, &eb), VOUCH_OK);
    /* Empty at first. */
    assert_int_equal(vouch_store_attestation_list(s, 0, 10, &got, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 0);
    vouch_store_attestations_free(got, n);
    /* Seven rows kept to the newest five. */
    for (i = 1; i <= 7; i++) {
        a = attestation_of((int64_t)i * 1000, i % 2 ? "tdx" : "snp", i == 3 ? -1 : (int64_t)(i % 2),
                           i == 3 ? "VOUCH.EVIDENCE.INVALID" : "");
        assert_int_equal(vouch_store_attestation_add(s, &a, 1, 5, &eb), VOUCH_OK);
    }
    assert_int_equal(vouch_store_attestation_list(s, 0, 100, &got, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 5);
    for (i = 0; i < n; i++)
        assert_int_equal(got[i].time_ms, (int64_t)(7 - i) * 1000);   /* newest first */
    assert_string_equal(got[0].tee, "tdx");
    assert_int_equal(got[0].allow, 1);
    assert_string_equal(got[0].policy_ids, "[\"default\"]");
    assert_string_equal(got[0].tcb_status, "UpToDate");
    assert_string_equal(got[0].request_id, "req-7000");
    assert_int_equal(got[0].http_status, 200);
    assert_int_equal(got[4].allow, -1);                     /* row 3: rejected */
    assert_string_equal(got[4].error_code, "VOUCH.EVIDENCE.INVALID");
    assert_string_equal(got[4].tcb_status, "");
    assert_true(got[0].id > got[1].id);
    /* Paging: ids below the second row's. */
    a.id = got[1].id;
    vouch_store_attestations_free(got, n);
    assert_int_equal(vouch_store_attestation_list(s, a.id, 2, &got, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].time_ms, 5000);
    assert_int_equal(got[1].time_ms, 4000);
    vouch_store_attestations_free(got, n);
    /* A smaller bound trims at once; ids keep growing after trimming. */
    a = attestation_of(8000, "sgx", 0, "VOUCH.POLICY.REJECTED");
    assert_int_equal(vouch_store_attestation_add(s, &a, 1, 2, &eb), VOUCH_OK);
    assert_int_equal(vouch_store_attestation_list(s, 0, 100, &got, &n, &eb), VOUCH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].time_ms, 8000);
    assert_int_equal(got[1].time_ms, 7000);
    vouch_store_attestations_free(got, n);
    /* A batch: in order, trimmed once; a bad row refuses the whole batch. */
    {
        struct vouch_store_attestation b[3] = { attestation_of(9000, "tdx", 1, ""),
                                                attestation_of(9100, "snp", 1, ""),
                                                attestation_of(9200, "tdx", 0, "X") };

        assert_int_equal(vouch_store_attestation_add(s, b, 3, 2, &eb), VOUCH_OK);
        assert_int_equal(vouch_store_attestation_list(s, 0, 100, &got, &n, &eb), VOUCH_OK);
        assert_int_equal(n, 2);
        assert_int_equal(got[0].time_ms, 9200);
        assert_int_equal(got[1].time_ms, 9100);
        vouch_store_attestations_free(got, n);
        b[1].tcb_status = NULL;
        assert_int_equal(vouch_store_attestation_add(s, b, 3, 10, &eb), VOUCH_E_INVALID);
        assert_int_equal(vouch_store_attestation_list(s, 0, 100, &got, &n, &eb), VOUCH_OK);
        assert_int_equal(n, 2);
        vouch_store_attestations_free(got, n);
        assert_int_equal(vouch_store_attestation_add(s, b, 0, 10, &eb), VOUCH_E_INVALID);
    }
    /* Bad arguments. */
    assert_int_equal(vouch_store_attestation_add(s, &a, 1, 0, &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_store_attestation_list(s, 0, 0, &got, &n, &eb), VOUCH_E_INVALID);
    assert_int_equal(vouch_store_attestation_list(s, 0, VOUCH_STORE_LIST_MAX + 1, &got, &n, &eb),
                     VOUCH_E_INVALID);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    a.error_code = big;
    assert_int_equal(vouch_store_attestation_add(s, &a, 1, 5, &eb), VOUCH_E_TOO_LARGE);
    a.error_code = NULL;
    assert_int_equal(vouch_store_attestation_add(s, &a, 1, 5, &eb), VOUCH_E_INVALID);
    vouch_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_documents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_accesskeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_nonces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_report_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_report_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmigrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attestations, setup, teardown),
    };
    const struct CMUnitTest pg_tests[] = {
        cmocka_unit_test_setup_teardown(test_pg_migrations, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_accesskeys, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_instances, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_nonces, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_reports, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_report_history, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_report_group, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_events, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_vtpm_jobs, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_meta, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_keys, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_documents, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_threads, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_copy, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_unmigrated, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_leases, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_replace, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_audit, pg_setup, pg_teardown),
        cmocka_unit_test_setup_teardown(test_attestations, pg_setup, pg_teardown),
    };

    if (getenv("VOUCH_TEST_PG_BASE"))
        return cmocka_run_group_tests_name("store on postgres", pg_tests, NULL, NULL);
    return cmocka_run_group_tests_name("store on sqlite", tests, NULL, NULL);
}
