/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "store/store.h"

/*
 * vouch db migrate | status | copy: the schema of a store, and moving a
 * single-node installation's data (settings, signing keys as stored,
 * documents) into another store, typically SQLite into PostgreSQL.
 */

/* [--db URL] and nothing else; returns 0 or an exit status. */
static int db_only_args(int argc, char **argv, const char *cmd, const char **db)
{
    int i = 1, next;

    *db = vouch_cli_default_db();
    while (i < argc) {
        next = vouch_cli_db_opt(argc, argv, i, db);
        if (next <= i)
            return vouch_cli_usage(cmd);
        i = next;
    }
    return 0;
}

static int print_status(struct vouch_store *s, const char *verb)
{
    struct vouch_errbuf eb;
    int version, latest = vouch_store_schema_latest();

    if (vouch_store_schema_version(s, &version, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    printf("backend: %s\n", vouch_store_backend(s));
    printf("schema version: %d\n", version);
    printf("latest known: %d\n", latest);
    if (version > latest)
        printf("pending migrations: none (the database is newer than this build: upgrade "
               "vouch)\n");
    else if (version == latest)
        printf("pending migrations: none\n");
    else
        printf("pending migrations: %d (%d to %d)%s\n", latest - version, version + 1, latest,
               verb);
    return version > latest ? VOUCH_EXIT_FAIL : VOUCH_EXIT_OK;
}

int vouch_cmd_db_migrate(int argc, char **argv)
{
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    const char *db;
    int rc = db_only_args(argc, argv, "db migrate", &db);

    if (rc)
        return rc;
    /* Opening applies what is missing, under the backend's migration lock. */
    if (vouch_store_open(db, &s, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    rc = print_status(s, "");
    vouch_store_close(s);
    return rc;
}

int vouch_cmd_db_status(int argc, char **argv)
{
    struct vouch_store *s = NULL;
    struct vouch_errbuf eb;
    const char *db;
    int rc = db_only_args(argc, argv, "db status", &db);

    if (rc)
        return rc;
    if (!vouch_cli_db_exists(db, ""))
        return VOUCH_EXIT_ERROR;
    if (vouch_store_open_unmigrated(db, &s, &eb)) {
        fprintf(stderr, "vouch: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    rc = print_status(s, "; run vouch db migrate, or start vouchd");
    vouch_store_close(s);
    return rc;
}

static int copy_args(int argc, char **argv, const char **from, const char **to, int *force)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0)
            *force = 1;
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            *from = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            *to = argv[++i];
        else
            return vouch_cli_usage("db copy");
    }
    if (!*from || !*to)
        return vouch_cli_usage("db copy");
    return 0;
}

/*
 * The source is read, never changed: it is opened without migrations and
 * must already be at this build's schema.  Copying a backup before an
 * upgrade with the new vouch used to apply the upgrade to the source.
 */
static vouch_err source_open(const char *url, struct vouch_store **ret, struct vouch_errbuf *eb)
{
    struct vouch_store *s = NULL;
    int version = 0, latest = vouch_store_schema_latest();
    vouch_err e;

    e = vouch_store_open_unmigrated(url, &s, eb);
    if (!e)
        e = vouch_store_schema_version(s, &version, eb);
    if (!e && version != latest)
        e = vouch_fail(eb, VOUCH_E_INVALID,
                       "its schema is version %d and this vouch copies version %d: %s", version,
                       latest, version > latest
                           ? "copy it with the vouch of its release"
                           : "run vouch db migrate --db on it first (that changes it), or copy "
                             "it with the vouch of its release");
    if (e) {
        vouch_store_close(s);
        return vouch_fail_prefix(eb, e, "--from: ");
    }
    *ret = s;
    return VOUCH_OK;
}

/* The copied vTPM and audit rows of `c`, the seeded tables aside (as vouch_store_count). */
static size_t copied_rows(const struct vouch_store_contents *c)
{
    size_t t, n = 0;

    for (t = 0; c->tables && t < vouch_store_n_copy_tables; t++)
        if (!vouch_store_copy_tables[t].seeded)
            n += c->tables[t].n_rows;
    return n;
}

/* The target's row counts must be exactly what was read from the source. */
static int verify_counts(struct vouch_store *dst, const struct vouch_store_contents *c)
{
    struct vouch_store_counts n;
    struct vouch_errbuf eb;

    if (vouch_store_count(dst, &n, &eb)) {
        fprintf(stderr, "vouch: counting the copied rows: %s\n", eb.msg);
        return VOUCH_EXIT_ERROR;
    }
    if (n.meta != c->n_meta || n.keys != c->n_keys || n.docs != c->n_docs ||
        n.rows != copied_rows(c)) {
        fprintf(stderr, "vouch: the target holds %zu settings, %zu keys, %zu documents and "
                "%zu vTPM and audit rows after the copy, not %zu, %zu, %zu and %zu\n", n.meta,
                n.keys, n.docs, n.rows, c->n_meta, c->n_keys, c->n_docs, copied_rows(c));
        return VOUCH_EXIT_FAIL;
    }
    return 0;
}

int vouch_cmd_db_copy(int argc, char **argv)
{
    struct vouch_store_contents c = { 0 };
    struct vouch_store *src = NULL, *dst = NULL;
    const char *from = NULL, *to = NULL;
    struct vouch_errbuf eb;
    int force = 0, rc;
    vouch_err e;

    rc = copy_args(argc, argv, &from, &to, &force);
    if (rc)
        return rc;
    if (!vouch_cli_db_exists(from, "--from: "))
        return VOUCH_EXIT_ERROR;
    e = source_open(from, &src, &eb);
    if (!e) {
        e = vouch_store_open(to, &dst, &eb);
        if (e)
            vouch_fail_prefix(&eb, e, "--to: ");
    }
    if (!e)
        e = vouch_store_contents_read(src, &c, &eb);
    if (!e)
        e = vouch_store_contents_write(dst, &c, force, &eb);
    if (e == VOUCH_E_CONFLICT && !force)
        fprintf(stderr, "vouch: %s; nothing copied (--force replaces them)\n", eb.msg);
    else if (e)
        fprintf(stderr, "vouch: %s; nothing copied\n", eb.msg);
    rc = e == VOUCH_E_CONFLICT ? VOUCH_EXIT_FAIL : e ? VOUCH_EXIT_ERROR : verify_counts(dst, &c);
    if (!rc)
        printf("copied %zu settings, %zu signing keys, %zu documents and %zu vTPM and audit "
               "rows from %s to %s\n", c.n_meta, c.n_keys, c.n_docs, copied_rows(&c),
               vouch_store_backend(src), vouch_store_backend(dst));
    vouch_store_contents_done(&c);
    vouch_store_close(dst);
    vouch_store_close(src);
    return rc;
}
