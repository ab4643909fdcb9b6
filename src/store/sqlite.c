/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store-priv.h"

/*
 * SQLite backend.  Reads run on one connection per thread (SQLite
 * connections must not be shared between threads without serialising
 * them), created on first use and closed when the thread exits or the store
 * closes.  The transactions taken under the write lock run on one writer
 * connection, which that lock serialises.  WAL lets readers run beside the
 * one writer; synchronous=FULL makes every committed transaction survive a
 * power cut.
 */

#define BUSY_TIMEOUT_MS 10000

#define STMT_CACHE 64
#define GROUP_MAX 64                 /* reports per group commit */
#define THREAD_CONNS 8

struct conn {
    sqlite3 *db;
    struct sq *owner;
    struct conn *prev, *next;
    /* Prepared statements, kept per connection (keyed by the address of
     * their SQL text, a string constant): preparing one cost more than
     * running it.  A statement in use is busy; asking for the same text
     * meanwhile prepares another, not kept. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
        bool busy;
    } stmts[STMT_CACHE];
    size_t n_stmts;
};

/*
 * This thread's connections, so that a statement cache is found from the
 * connection handle alone.  Entries are compared by handle and only then
 * followed: a thread uses a handle only after registering it here (its own
 * connection when it opens it, the store's writer each time it takes the
 * write lock), which replaces a closed connection's entry at the same
 * address.  A connection that found no free entry keeps no statements.
 */
static _Thread_local struct {
    sqlite3 *db;
    struct conn *c;
} thread_conns[THREAD_CONNS];

static struct conn *conn_of(sqlite3 *db)
{
    size_t i;

    for (i = 0; db && i < THREAD_CONNS; i++)
        if (thread_conns[i].db == db)
            return thread_conns[i].c;
    return NULL;
}

static void conn_register(struct conn *c)
{
    size_t i, slot = THREAD_CONNS;

    for (i = 0; i < THREAD_CONNS; i++) {
        if (thread_conns[i].db == c->db) {
            slot = i;
            break;
        }
        if (!thread_conns[i].db && slot == THREAD_CONNS)
            slot = i;
    }
    if (slot < THREAD_CONNS) {
        thread_conns[slot].db = c->db;
        thread_conns[slot].c = c;
    }
}

/* Forget c when this thread registered it (another thread's entry waits to be replaced). */
static void conn_unregister(struct conn *c)
{
    size_t i;

    for (i = 0; i < THREAD_CONNS; i++)
        if (thread_conns[i].c == c && thread_conns[i].db == c->db)
            thread_conns[i].db = NULL, thread_conns[i].c = NULL;
}

struct sq {
    char *path;
    pthread_key_t key;
    pthread_mutex_t lock;
    struct conn *conns;
    /* Serialises this process's vTPM write transactions: SQLite lets one
     * writer in and makes the others sleep-poll (busy_timeout), which
     * under load costs more than the transactions themselves. */
    pthread_mutex_t write_lock;
    /* The connection those transactions use, whichever thread holds the
     * lock: its page cache stays valid from one to the next, where each
     * thread's own connection would find the file changed by the others
     * and read every page again. */
    struct conn *writer;
    /* Reports waiting for their group commit (sq_report_accept). */
    pthread_mutex_t group_lock;
    pthread_cond_t group_done;
    struct group_item *queue, **queue_tail;
    bool leading;                    /* a thread is writing a group */
};

/*
 * A statement for `sql` (a string constant: its address is the key) on this
 * thread's connection `db`, from the cache when it was prepared before.
 * Hand it back with stmt_done().
 */
static int stmt_get(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
    struct conn *c = conn_of(db);
    size_t i;
    int rc;

    for (i = 0; c && i < c->n_stmts; i++)
        if (c->stmts[i].sql == sql && !c->stmts[i].busy &&
            strcmp(sqlite3_sql(c->stmts[i].st), sql) == 0) {
            c->stmts[i].busy = true;
            *ret = c->stmts[i].st;
            return SQLITE_OK;
        }
    if (!c || c->n_stmts == STMT_CACHE)
        return sqlite3_prepare_v2(db, sql, -1, ret, NULL);
    rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL);
    if (rc == SQLITE_OK) {
        c->stmts[c->n_stmts].sql = sql;
        c->stmts[c->n_stmts].st = *ret;
        c->stmts[c->n_stmts++].busy = true;
    }
    return rc;
}

/* Reset a cached statement for its next use (its read ends); finalize any other. */
static void stmt_done(sqlite3_stmt *st)
{
    struct conn *c;
    size_t i;

    if (!st)
        return;
    c = conn_of(sqlite3_db_handle(st));
    for (i = 0; c && i < c->n_stmts; i++)
        if (c->stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            c->stmts[i].busy = false;
            return;
        }
    sqlite3_finalize(st);
}

static vouch_err db_fail(sqlite3 *db, struct vouch_errbuf *eb, const char *what)
{
    int rc = sqlite3_extended_errcode(db);

    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return vouch_fail(eb, VOUCH_E_CONFLICT, "%s: %s", what, sqlite3_errmsg(db));
    return vouch_fail(eb, VOUCH_E_STORE, "%s: %s", what, sqlite3_errmsg(db));
}

static void conn_unlink_close(struct conn *c)
{
    struct sq *q = c->owner;

    if (c->prev)
        c->prev->next = c->next;
    else
        q->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    while (c->n_stmts)
        sqlite3_finalize(c->stmts[--c->n_stmts].st);
    conn_unregister(c);
    sqlite3_close_v2(c->db);
    free(c);
}

/* pthread key destructor: the thread is exiting. */
static void conn_thread_exit(void *p)
{
    struct conn *c = p;
    struct sq *q = c->owner;

    pthread_mutex_lock(&q->lock);
    conn_unlink_close(c);
    pthread_mutex_unlock(&q->lock);
}

static vouch_err exec(sqlite3 *db, const char *sql, struct vouch_errbuf *eb)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        vouch_err e = vouch_fail(eb, VOUCH_E_STORE, "sqlite: %s", msg ? msg : "error");

        sqlite3_free(msg);
        return e;
    }
    return VOUCH_OK;
}

/*
 * Before SQLite's first use in the process: no memory statistics.  With
 * them on, every allocation and free of every connection takes one
 * process-wide mutex, and the request threads sleep on it under load.
 * (Too late when something else used SQLite first; then it stays on.)
 */
static void sqlite_configure(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static vouch_err open_db(const char *path, sqlite3 **ret, struct vouch_errbuf *eb)
{
    static pthread_once_t configured = PTHREAD_ONCE_INIT;
    sqlite3 *db = NULL;
    vouch_err e;

    pthread_once(&configured, sqlite_configure);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        e = vouch_fail(eb, VOUCH_E_STORE, "cannot open %s: %s", path,
                       db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close_v2(db);
        return e;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    e = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                 "PRAGMA foreign_keys=ON;", eb);
    if (e) {
        vouch_fail_prefix(eb, e, "%s: ", path);
        sqlite3_close_v2(db);
        return e;
    }
    *ret = db;
    return VOUCH_OK;
}

/* A new connection of the store, on its list (closed with it), registered for this thread. */
static vouch_err conn_open(struct sq *q, struct conn **ret, struct vouch_errbuf *eb)
{
    struct conn *c = calloc(1, sizeof(*c));
    vouch_err e;

    if (!c)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    e = open_db(q->path, &c->db, eb);
    if (e) {
        free(c);
        return e;
    }
    c->owner = q;
    conn_register(c);
    pthread_mutex_lock(&q->lock);
    c->next = q->conns;
    if (q->conns)
        q->conns->prev = c;
    q->conns = c;
    pthread_mutex_unlock(&q->lock);
    *ret = c;
    return VOUCH_OK;
}

/* This thread's connection, opened on first use. */
static vouch_err conn_get(struct sq *q, sqlite3 **ret, struct vouch_errbuf *eb)
{
    struct conn *c = pthread_getspecific(q->key);
    vouch_err e;

    if (c) {
        *ret = c->db;
        return VOUCH_OK;
    }
    e = conn_open(q, &c, eb);
    if (e)
        return e;
    if (pthread_setspecific(q->key, c) != 0) {
        pthread_mutex_lock(&q->lock);
        conn_unlink_close(c);
        pthread_mutex_unlock(&q->lock);
        return vouch_fail(eb, VOUCH_E_INTERNAL, "pthread_setspecific failed");
    }
    *ret = c->db;
    return VOUCH_OK;
}

static vouch_err mkdir_parent(const char *path, struct vouch_errbuf *eb)
{
    char *dir = strdup(path), *p;
    vouch_err e = VOUCH_OK;

    if (!dir)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    p = strrchr(dir, '/');
    if (p && p != dir) {
        *p = '\0';
        for (p = dir + 1; ; p++) {
            if (*p == '/' || *p == '\0') {
                char c = *p;

                *p = '\0';
                if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                    e = vouch_fail(eb, VOUCH_E_IO, "cannot create %s: %s", dir,
                                   strerror(errno));
                    break;
                }
                *p = c;
                if (!c)
                    break;
            }
        }
    }
    free(dir);
    return e;
}

static const char sql_version_table[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                        "AND name = 'schema_version'";
static const char sql_version[] = "SELECT coalesce(max(version), 0) FROM schema_version";

static vouch_err current_version(sqlite3 *db, int *ret, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    vouch_err e = VOUCH_OK;

    /* A database never migrated has no version table: version 0. */
    if (stmt_get(db, sql_version_table, &st) != SQLITE_OK)
        return db_fail(db, eb, "reading schema version");
    if (sqlite3_step(st) != SQLITE_ROW) {
        stmt_done(st);
        *ret = 0;
        return VOUCH_OK;
    }
    stmt_done(st);
    st = NULL;
    if (stmt_get(db, sql_version, &st) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "reading schema version");
    else
        *ret = sqlite3_column_int(st, 0);
    stmt_done(st);
    return e;
}

/* Apply missing migrations, all under one write transaction. */
static vouch_err migrate(sqlite3 *db, struct vouch_errbuf *eb)
{
    int version = 0, i;
    char sql[96];
    vouch_err e;

    e = exec(db, "BEGIN IMMEDIATE", eb);
    if (e)
        return e;
    e = exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
                 " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", eb);
    if (!e)
        e = current_version(db, &version, eb);
    if (e)
        goto out;
    if (version > vouch_store_n_migrations) {
        e = vouch_fail(eb, VOUCH_E_STORE, "database schema version %d is newer than this "
                       "build knows (%d); upgrade vouch", version, vouch_store_n_migrations);
        goto out;
    }
    for (i = version; i < vouch_store_n_migrations; i++) {
        e = exec(db, vouch_store_migrations[i], eb);
        if (e) {
            vouch_fail_prefix(eb, e, "migration %d: ", i + 1);
            goto out;
        }
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, datetime('now'))",
                 i + 1);
        e = exec(db, sql, eb);
        if (e)
            goto out;
    }
    e = exec(db, "COMMIT", eb);
out:
    if (e)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

/*
 * Make `path` (with `create`, creating it) a file only its owner can
 * read: a group- or world-readable one is tightened to 0600 when we own
 * it, refused otherwise.  A missing file is fine when not creating.
 */
static vouch_err file_private(const char *path, bool create, struct vouch_errbuf *eb)
{
    struct stat st;
    vouch_err e = VOUCH_OK;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (fd < 0)
        return !create && errno == ENOENT
                   ? VOUCH_OK
                   : vouch_fail(eb, VOUCH_E_IO, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0)
        e = vouch_fail(eb, VOUCH_E_IO, "cannot stat %s: %s", path, strerror(errno));
    else if ((st.st_mode & 077) && st.st_uid != geteuid())
        e = vouch_fail(eb, VOUCH_E_IO, "%s is readable by other users (mode %04o) and "
                       "belongs to uid %u, not us: it holds private keys; make it mode 0600",
                       path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
    else if ((st.st_mode & 077) && fchmod(fd, 0600) != 0)
        e = vouch_fail(eb, VOUCH_E_IO, "cannot make %s mode 0600: %s", path, strerror(errno));
    close(fd);
    return e;
}

/*
 * The database holds private keys.  Create it 0600 before SQLite opens
 * it (SQLite gives the -wal and -shm files the database file's mode), and
 * tighten or refuse existing files that others can read.
 */
static vouch_err db_files_private(const char *path, struct vouch_errbuf *eb)
{
    static const char *const suffix[] = { "-wal", "-shm" };
    char side[4096 + 8];
    vouch_err e;
    size_t i;

    e = file_private(path, true, eb);
    for (i = 0; !e && i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, suffix[i]);
        e = file_private(side, false, eb);
    }
    return e;
}

static void sq_close(void *state)
{
    struct sq *q = state;

    if (!q)
        return;
    pthread_key_delete(q->key);
    pthread_mutex_lock(&q->lock);
    while (q->conns)
        conn_unlink_close(q->conns);
    pthread_mutex_unlock(&q->lock);
    pthread_mutex_destroy(&q->lock);
    pthread_mutex_destroy(&q->write_lock);
    pthread_mutex_destroy(&q->group_lock);
    pthread_cond_destroy(&q->group_done);
    free(q->path);
    free(q);
}

static vouch_err sq_open(const char *location, int do_migrate, void **ret_state,
                         struct vouch_errbuf *eb)
{
    struct sq *q;
    sqlite3 *db = NULL;
    vouch_err e;

    if (strlen(location) > 4096)
        return vouch_fail(eb, VOUCH_E_INVALID, "database path too long");
    e = mkdir_parent(location, eb);
    if (!e)
        e = db_files_private(location, eb);
    if (e)
        return e;
    q = calloc(1, sizeof(*q));
    if (!q)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    q->path = strdup(location);
    if (!q->path || pthread_key_create(&q->key, conn_thread_exit) != 0) {
        free(q->path);
        free(q);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_init(&q->write_lock, NULL);
    pthread_mutex_init(&q->group_lock, NULL);
    pthread_cond_init(&q->group_done, NULL);
    q->queue_tail = &q->queue;
    e = conn_get(q, &db, eb);
    if (!e && do_migrate)
        e = migrate(db, eb);
    if (e) {
        sq_close(q);
        return e;
    }
    *ret_state = q;
    return VOUCH_OK;
}

static vouch_err sq_schema_version(void *state, int *ret, struct vouch_errbuf *eb)
{
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    return e ? e : current_version(db, ret, eb);
}

static const char sql_meta_get[] = "SELECT value FROM meta WHERE key = ?1";
static const char sql_doc_get[] = "SELECT kind, id, body, meta, expires_at, updated_at "
                                  "FROM documents WHERE kind = ?1 AND id = ?2";

static vouch_err sq_meta_get(void *state, const char *key, char **ret,
                             struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;
    int rc;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (stmt_get(db, sql_meta_get, &st) != SQLITE_OK) {
        e = db_fail(db, eb, "meta");
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no setting '%s'", key);
    } else if (rc != SQLITE_ROW) {
        e = db_fail(db, eb, "meta");
    } else {
        char *v = strdup((const char *)sqlite3_column_text(st, 0));

        if (!v)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        else
            *ret = v;
    }
out:
    stmt_done(st);
    return e;
}

static vouch_err sq_meta_set(void *state, const char *key, const char *value, int replace,
                             struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, replace ? "INSERT OR REPLACE INTO meta VALUES (?1, ?2)"
                                       : "INSERT INTO meta VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "meta");
        goto out;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "meta");
out:
    stmt_done(st);
    return e;
}

static vouch_err sq_keys_list(void *state, struct vouch_store_key **ret, size_t *ret_n,
                              struct vouch_errbuf *eb)
{
    struct vouch_store_key *keys = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;
    int rc;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "SELECT kid, alg, private_pem, created_at, "
                           "coalesce(retired_at, 0) FROM signing_keys "
                           "ORDER BY created_at DESC, rowid DESC", -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vouch_store_key *k;

        if (n == cap) {
            struct vouch_store_key *nk;

            cap = cap ? cap * 2 : 8;
            nk = realloc(keys, cap * sizeof(*keys));
            if (!nk) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                goto out;
            }
            keys = nk;
        }
        k = &keys[n];
        memset(k, 0, sizeof(*k));
        snprintf(k->kid, sizeof(k->kid), "%s", sqlite3_column_text(st, 0));
        snprintf(k->alg, sizeof(k->alg), "%s", sqlite3_column_text(st, 1));
        k->private_pem = strdup((const char *)sqlite3_column_text(st, 2));
        k->created_at = sqlite3_column_int64(st, 3);
        k->retired_at = sqlite3_column_int64(st, 4);
        n++;
        if (!k->private_pem) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    *ret = keys;
    *ret_n = n;
    keys = NULL;
out:
    stmt_done(st);
    vouch_store_keys_free(keys, n);
    return e;
}

/* Replace secrets in one transaction, each only if it still holds its old value. */
static vouch_err sq_secrets_replace(void *state, const struct vouch_store_secret_change *c,
                                    size_t n, struct vouch_errbuf *eb)
{
    static const char *const sql[] = {
        [VOUCH_STORE_SECRET_SIGNING_KEY] =
            "UPDATE signing_keys SET private_pem = ?3 WHERE kid = ?1 AND private_pem = ?2",
        [VOUCH_STORE_SECRET_META] = "UPDATE meta SET value = ?3 WHERE key = ?1 AND value = ?2",
        [VOUCH_STORE_SECRET_ACCESS_KEY] =
            "UPDATE vtpm_access_keys SET secret = ?3 WHERE id = ?1 AND secret = ?2",
    };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;
    size_t i;

    e = conn_get(state, &db, eb);
    if (!e)
        e = exec(db, "BEGIN IMMEDIATE", eb);
    if (e)
        return e;
    for (i = 0; i < n && !e; i++) {
        if (sqlite3_prepare_v2(db, sql[c[i].row], -1, &st, NULL) != SQLITE_OK) {
            e = db_fail(db, eb, "secrets");
            break;
        }
        sqlite3_bind_text(st, 1, c[i].id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c[i].old_value, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, c[i].new_value, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            e = db_fail(db, eb, "secrets");
        else if (sqlite3_changes(db) != 1)
            e = vouch_fail(eb, VOUCH_E_CONFLICT, "secret '%s' changed meanwhile", c[i].id);
        stmt_done(st);
        st = NULL;
    }
    if (!e)
        e = exec(db, "COMMIT", eb);
    if (e)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static vouch_err sq_key_activate(void *state, const struct vouch_store_key *k, int replace,
                                 int64_t now, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    e = exec(db, "BEGIN IMMEDIATE", eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, replace ?
                           "UPDATE signing_keys SET retired_at = ?2 "
                           "WHERE alg = ?1 AND retired_at IS NULL" :
                           "SELECT 1 FROM signing_keys WHERE alg = ?1 AND retired_at IS NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    sqlite3_bind_text(st, 1, k->alg, -1, SQLITE_STATIC);
    if (replace)
        sqlite3_bind_int64(st, 2, now);
    switch (sqlite3_step(st)) {
    case SQLITE_DONE:
        break;
    case SQLITE_ROW:
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "an active %s key already exists", k->alg);
        goto out;
    default:
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    stmt_done(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO signing_keys (kid, alg, private_pem, created_at) "
                           "VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    sqlite3_bind_text(st, 1, k->kid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->alg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->private_pem, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, k->created_at);
    if (sqlite3_step(st) != SQLITE_DONE) {
        e = db_fail(db, eb, "signing keys");
        goto out;
    }
    e = exec(db, "COMMIT", eb);
out:
    stmt_done(st);
    if (e)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static vouch_err sq_doc_put(void *state, const char *kind, const char *id, const void *body,
                            size_t body_len, const char *meta, int64_t expires_at, int64_t now,
                            struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO documents "
                           "(kind, id, body, meta, expires_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 3, body_len ? body : "", body_len, SQLITE_STATIC);
    if (meta)
        sqlite3_bind_text(st, 4, meta, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, expires_at);
    sqlite3_bind_int64(st, 6, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "documents");
out:
    stmt_done(st);
    return e;
}

/* Fill d from the current row: kind, id, body, meta, expires_at, updated_at. */
static vouch_err doc_from_row(sqlite3_stmt *st, int with_body, struct vouch_store_doc *d,
                              struct vouch_errbuf *eb)
{
    const char *meta = (const char *)sqlite3_column_text(st, 3);

    memset(d, 0, sizeof(*d));
    d->kind = strdup((const char *)sqlite3_column_text(st, 0));
    d->id = strdup((const char *)sqlite3_column_text(st, 1));
    d->meta = meta ? strdup(meta) : NULL;
    d->expires_at = sqlite3_column_int64(st, 4);
    d->updated_at = sqlite3_column_int64(st, 5);
    if (!d->kind || !d->id || (meta && !d->meta))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (with_body) {
        const void *b = sqlite3_column_blob(st, 2);
        int n = sqlite3_column_bytes(st, 2);

        d->body = malloc((size_t)n + 1);
        if (!d->body)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        if (n)
            memcpy(d->body, b, (size_t)n);
        d->body[n] = '\0';
        d->body_len = (size_t)n;
    }
    return VOUCH_OK;
}

static vouch_err sq_doc_get(void *state, const char *kind, const char *id,
                            struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    struct vouch_store_doc *d = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    vouch_err e;
    int rc;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (stmt_get(db, sql_doc_get, &st) != SQLITE_OK) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s '%s'", kind, id);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = doc_from_row(st, 1, d, eb);
    if (e)
        goto out;
    *ret = d;
    d = NULL;
out:
    vouch_store_doc_free(d);
    stmt_done(st);
    return e;
}

static vouch_err sq_doc_list(void *state, const char *kind, const char *prefix, int with_body,
                             size_t limit, struct vouch_store_doc **ret, size_t *ret_n,
                             struct vouch_errbuf *eb)
{
    struct vouch_store_doc *docs = NULL;
    size_t n = 0, cap = 0;
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    vouch_err e;
    int rc;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "SELECT kind, id, body, meta, expires_at, updated_at "
                           "FROM documents WHERE kind = ?1 AND substr(id, 1, ?2) = ?3 "
                           "ORDER BY id LIMIT ?4", -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)strlen(prefix));
    sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit > INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            struct vouch_store_doc *nd;

            cap = cap ? cap * 2 : 16;
            nd = realloc(docs, cap * sizeof(*docs));
            if (!nd) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                goto out;
            }
            docs = nd;
        }
        e = doc_from_row(st, with_body, &docs[n++], eb);
        if (e)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    *ret = docs;
    *ret_n = n;
    docs = NULL;
out:
    vouch_store_docs_free(docs, n);
    stmt_done(st);
    return e;
}

static vouch_err sq_doc_delete(void *state, const char *kind, const char *id,
                               struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "DELETE FROM documents WHERE kind = ?1 AND id = ?2", -1, &st,
                           NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "documents");
        goto out;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "documents");
    else if (sqlite3_changes(db) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s '%s'", kind, id);
out:
    stmt_done(st);
    return e;
}

/* --- whole-store copy and leases ----------------------------------------- */

/* Room for one more element of `size` bytes in *arr (n used of *cap). */
static vouch_err grow(void **arr, size_t *cap, size_t n, size_t size, struct vouch_errbuf *eb)
{
    void *p;

    if (n < *cap)
        return VOUCH_OK;
    p = realloc(*arr, (*cap ? *cap * 2 : 16) * size);
    if (!p)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    *arr = p;
    *cap = *cap ? *cap * 2 : 16;
    return VOUCH_OK;
}

static vouch_err read_meta(sqlite3 *db, struct vouch_store_contents *c, struct vouch_errbuf *eb)
{
    struct vouch_store_setting *m;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    vouch_err e = VOUCH_OK;
    int rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(db, eb, "meta");
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = grow((void **)&c->meta, &cap, c->n_meta, sizeof(*c->meta), eb);
        if (e)
            break;
        m = &c->meta[c->n_meta++];
        m->key = strdup((const char *)sqlite3_column_text(st, 0));
        m->value = strdup((const char *)sqlite3_column_text(st, 1));
        if (!m->key || !m->value)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, "meta");
    stmt_done(st);
    return e;
}

static vouch_err read_docs(sqlite3 *db, struct vouch_store_contents *c, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    vouch_err e = VOUCH_OK;
    int rc = SQLITE_DONE;

    if (sqlite3_prepare_v2(db, "SELECT kind, id, body, meta, expires_at, updated_at "
                           "FROM documents ORDER BY kind, id", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, eb, "documents");
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = grow((void **)&c->docs, &cap, c->n_docs, sizeof(*c->docs), eb);
        if (!e)
            e = doc_from_row(st, 1, &c->docs[c->n_docs++], eb);
    }
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, "documents");
    stmt_done(st);
    return e;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    return strdup(t ? (const char *)t : "");
}

/* One copied table, every value as text. */
static vouch_err read_table(sqlite3 *db, const struct vouch_store_copy_table *t,
                            struct vouch_store_rows *out, struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX], **row;
    sqlite3_stmt *st = NULL;
    size_t cap = 0, i;
    vouch_err e = VOUCH_OK;
    int rc = SQLITE_DONE;

    vouch_store_copy_select_sql(t, sql, sizeof(sql));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, eb, t->name);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = vouch_store_rows_push(out, &cap, t->n_cols, &row, eb);
        for (i = 0; !e && i < t->n_cols; i++)
            if (sqlite3_column_type(st, (int)i) != SQLITE_NULL &&
                !(row[i] = col_dup(st, (int)i)))
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, t->name);
    stmt_done(st);
    return e;
}

static vouch_err read_tables(sqlite3 *db, struct vouch_store_contents *c,
                             struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    size_t t;

    c->tables = calloc(vouch_store_n_copy_tables, sizeof(*c->tables));
    if (!c->tables)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (t = 0; !e && t < vouch_store_n_copy_tables; t++)
        e = read_table(db, &vouch_store_copy_tables[t], &c->tables[t], eb);
    return e;
}

static vouch_err sq_contents_read(void *state, struct vouch_store_contents *ret,
                                  struct vouch_errbuf *eb)
{
    struct vouch_store_contents c = { 0 };
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (!e)
        e = exec(db, "BEGIN", eb);
    if (e)
        return e;
    e = read_meta(db, &c, eb);
    if (!e)
        e = sq_keys_list(state, &c.keys, &c.n_keys, eb);
    if (!e)
        e = read_docs(db, &c, eb);
    if (!e)
        e = read_tables(db, &c, eb);
    (void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (e) {
        vouch_store_contents_done(&c);
        return e;
    }
    *ret = c;
    return VOUCH_OK;
}

static vouch_err count_rows(sqlite3 *db, struct vouch_store_counts *ret, struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    sqlite3_stmt *st = NULL;
    vouch_err e = VOUCH_OK;

    vouch_store_copy_count_sql(sql, sizeof(sql));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "counting rows");
    else
        ret->rows = (size_t)sqlite3_column_int64(st, 0);
    stmt_done(st);
    return e;
}

static vouch_err count_on(sqlite3 *db, struct vouch_store_counts *ret, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    vouch_err e = VOUCH_OK;

    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM meta), "
                           "(SELECT count(*) FROM signing_keys), "
                           "(SELECT count(*) FROM documents), "
                           "(SELECT count(*) FROM vtpm_accounts) + "
                           "(SELECT count(*) FROM vtpm_access_keys) + "
                           "(SELECT count(*) FROM vtpm_instances)", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        e = db_fail(db, eb, "counting rows");
    } else {
        ret->meta = (size_t)sqlite3_column_int64(st, 0);
        ret->keys = (size_t)sqlite3_column_int64(st, 1);
        ret->docs = (size_t)sqlite3_column_int64(st, 2);
        ret->vtpm = (size_t)sqlite3_column_int64(st, 3);
    }
    stmt_done(st);
    if (!e)
        e = count_rows(db, ret, eb);
    return e;
}

static vouch_err sq_count(void *state, struct vouch_store_counts *ret, struct vouch_errbuf *eb)
{
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    return e ? e : count_on(db, ret, eb);
}

/* One row of the copy: a bound statement run to completion. */
static vouch_err step_done(sqlite3 *db, sqlite3_stmt *st, const char *what,
                           struct vouch_errbuf *eb)
{
    vouch_err e = sqlite3_step(st) == SQLITE_DONE ? VOUCH_OK : db_fail(db, eb, what);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

static vouch_err write_rows(sqlite3 *db, const struct vouch_store_contents *c,
                            struct vouch_errbuf *eb)
{
    sqlite3_stmt *m = NULL, *k = NULL, *d = NULL;
    vouch_err e = VOUCH_OK;
    size_t i;

    if (sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES (?1, ?2)", -1, &m,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO signing_keys (kid, alg, private_pem, created_at, "
                           "retired_at) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &k, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO documents (kind, id, body, meta, expires_at, "
                           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &d,
                           NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "copy");
        goto out;
    }
    for (i = 0; !e && i < c->n_meta; i++) {
        sqlite3_bind_text(m, 1, c->meta[i].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(m, 2, c->meta[i].value, -1, SQLITE_STATIC);
        e = step_done(db, m, "meta", eb);
    }
    for (i = 0; !e && i < c->n_keys; i++) {
        sqlite3_bind_text(k, 1, c->keys[i].kid, -1, SQLITE_STATIC);
        sqlite3_bind_text(k, 2, c->keys[i].alg, -1, SQLITE_STATIC);
        sqlite3_bind_text(k, 3, c->keys[i].private_pem, -1, SQLITE_STATIC);
        sqlite3_bind_int64(k, 4, c->keys[i].created_at);
        if (c->keys[i].retired_at)
            sqlite3_bind_int64(k, 5, c->keys[i].retired_at);
        e = step_done(db, k, "signing keys", eb);
    }
    for (i = 0; !e && i < c->n_docs; i++) {
        const struct vouch_store_doc *x = &c->docs[i];

        sqlite3_bind_text(d, 1, x->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(d, 2, x->id, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(d, 3, x->body_len ? (const void *)x->body : "", x->body_len,
                            SQLITE_STATIC);
        if (x->meta)
            sqlite3_bind_text(d, 4, x->meta, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d, 5, x->expires_at);
        sqlite3_bind_int64(d, 6, x->updated_at);
        e = step_done(db, d, "documents", eb);
    }
out:
    stmt_done(m);
    stmt_done(k);
    stmt_done(d);
    return e;
}

/* The copied tables' rows; SQLite's column affinity turns integer text into integers. */
static vouch_err write_tables(sqlite3 *db, const struct vouch_store_contents *c,
                              struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    sqlite3_stmt *st = NULL;
    vouch_err e = VOUCH_OK;
    size_t t, i, k;

    for (t = 0; !e && c->tables && t < vouch_store_n_copy_tables; t++) {
        const struct vouch_store_copy_table *tab = &vouch_store_copy_tables[t];

        vouch_store_copy_insert_sql(tab, '?', sql, sizeof(sql));
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            return db_fail(db, eb, tab->name);
        for (i = 0; !e && i < c->tables[t].n_rows; i++) {
            char **row = c->tables[t].values + i * tab->n_cols;

            for (k = 0; k < tab->n_cols; k++)
                if (row[k])
                    sqlite3_bind_text(st, (int)k + 1, row[k], -1, SQLITE_STATIC);
            e = step_done(db, st, tab->name, eb);
        }
        stmt_done(st);
    }
    return e;
}

/* vouch_store_copy_clear's way to run a statement. */
static vouch_err copy_exec(void *conn, const char *sql, struct vouch_errbuf *eb)
{
    return exec(conn, sql, eb);
}

static vouch_err sq_contents_write(void *state, const struct vouch_store_contents *c, int force,
                                   struct vouch_errbuf *eb)
{
    struct vouch_store_counts n;
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (!e)
        e = exec(db, "BEGIN IMMEDIATE", eb);
    if (e)
        return e;
    e = count_on(db, &n, eb);
    if (!e && !force && (n.meta || n.keys || n.docs || n.rows))
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "the target holds %zu settings, %zu keys, "
                       "%zu documents and %zu vTPM and audit rows already", n.meta, n.keys,
                       n.docs, n.rows);
    if (!e && force)
        e = exec(db, "DELETE FROM documents; DELETE FROM signing_keys; DELETE FROM meta;", eb);
    if (!e && c->tables)
        e = vouch_store_copy_clear(force, copy_exec, db, eb);
    if (!e)
        e = write_rows(db, c, eb);
    if (!e)
        e = write_tables(db, c, eb);
    if (!e)
        e = exec(db, "COMMIT", eb);
    if (e)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return e;
}

static vouch_err sq_lease_acquire(void *state, const char *name, const char *holder,
                                  int64_t now_ms, int64_t ttl_ms, int *ret_held,
                                  struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "INSERT INTO leases (name, holder, expires_at) "
                           "VALUES (?1, ?2, ?3 + ?4) ON CONFLICT (name) DO UPDATE SET "
                           "holder = excluded.holder, expires_at = excluded.expires_at "
                           "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3",
                           -1, &st, NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "leases");
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, ttl_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "leases");
    else
        *ret_held = sqlite3_changes(db) == 1;
out:
    stmt_done(st);
    return e;
}

static vouch_err sq_lease_release(void *state, const char *name, const char *holder,
                                  struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e;

    e = conn_get(state, &db, eb);
    if (e)
        return e;
    if (sqlite3_prepare_v2(db, "DELETE FROM leases WHERE name = ?1 AND holder = ?2", -1, &st,
                           NULL) != SQLITE_OK) {
        e = db_fail(db, eb, "leases");
    } else {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            e = db_fail(db, eb, "leases");
    }
    stmt_done(st);
    return e;
}

/* --- vTPM ------------------------------------------------------------------ */

/* A statement argument: text when s is set, else the integer i. */
struct arg {
    const char *s;
    int64_t i;
};

#define TXT(x) { (x), 0 }
#define INT(x) { NULL, (x) }

static vouch_err prepare_bind(sqlite3 *db, const char *sql, const struct arg *a, int n,
                              sqlite3_stmt **ret, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    int i;

    if (stmt_get(db, sql, &st) != SQLITE_OK)
        return db_fail(db, eb, "vtpm");
    for (i = 0; i < n; i++) {
        if (a[i].s)
            sqlite3_bind_text(st, i + 1, a[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, a[i].i);
    }
    *ret = st;
    return VOUCH_OK;
}

/* Two hot reads' statements, named (every statement goes through stmt_get's cache). */
static const char sql_accesskey_get[] = "SELECT id, account, secret, enabled, created_ms "
                                        "FROM vtpm_access_keys WHERE id = ?1";
static const char sql_instance_get[] = "SELECT " VOUCH_STORE_INSTANCE_COLS
                                       " FROM vtpm_instances WHERE uuid = ?1";

/* Run a statement that returns no rows; *ret_changes (may be NULL) gets the row count. */
static vouch_err run_write(sqlite3 *db, const char *sql, const struct arg *a, int n,
                           int *ret_changes, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    vouch_err e = prepare_bind(db, sql, a, n, &st, eb);

    if (e)
        return e;
    if (sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "vtpm");
    else if (ret_changes)
        *ret_changes = sqlite3_changes(db);
    stmt_done(st);
    return e;
}

/* The writer connection, opened on first use (write_lock held). */
static vouch_err writer_get(struct sq *q, sqlite3 **ret, struct vouch_errbuf *eb)
{
    vouch_err e;

    if (!q->writer) {
        e = conn_open(q, &q->writer, eb);
        if (e)
            return e;
    }
    conn_register(q->writer);
    *ret = q->writer->db;
    return VOUCH_OK;
}

/* Take the write lock and begin a transaction on the writer connection (`sql` starts it). */
static vouch_err begin_with(struct sq *q, const char *sql, sqlite3 **ret,
                            struct vouch_errbuf *eb)
{
    sqlite3 *db = NULL;
    vouch_err e;

    pthread_mutex_lock(&q->write_lock);
    e = writer_get(q, &db, eb);
    if (!e)
        e = exec(db, sql, eb);
    if (e) {
        pthread_mutex_unlock(&q->write_lock);
        return e;
    }
    *ret = db;
    return VOUCH_OK;
}

/*
 * A durable write transaction.  Every transaction on the shared writer
 * connection sets its own synchronous mode, since the one before may have
 * been light (NORMAL), including one whose BEGIN failed after its PRAGMA ran
 * (busy past the timeout).
 */
static vouch_err begin(struct sq *q, sqlite3 **ret, struct vouch_errbuf *eb)
{
    return begin_with(q, "PRAGMA synchronous=FULL; BEGIN IMMEDIATE", ret, eb);
}

/* Commit when e is VOUCH_OK, else roll back; returns the outcome. */
static vouch_err finish(struct sq *q, sqlite3 *db, vouch_err e, struct vouch_errbuf *eb)
{
    if (!e)
        e = exec(db, "COMMIT", eb);
    if (e)
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&q->write_lock);
    return e;
}

/*
 * A write transaction that survives a crash of the process but need not
 * survive a power cut (synchronous=NORMAL in WAL mode: the commit is in the
 * WAL, not yet fsynced; the next FULL commit fsyncs it with its own): the
 * short-lived replay records and report nonces, written on every vTPM
 * request, which would otherwise queue behind one fsync each.
 */
static vouch_err begin_light(struct sq *q, sqlite3 **ret, struct vouch_errbuf *eb)
{
    return begin_with(q, "PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE", ret, eb);
}

static vouch_err sq_accesskey_create(void *state, const char *account, const char *id,
                                     const char *secret, int64_t now_ms,
                                     struct vouch_errbuf *eb)
{
    const struct arg acc[] = { TXT(account), INT(now_ms) };
    const struct arg key[] = { TXT(id), TXT(account), TXT(secret), INT(now_ms) };
    sqlite3 *db = NULL;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, "INSERT INTO vtpm_accounts (name, created_ms) VALUES (?1, ?2) "
                  "ON CONFLICT (name) DO NOTHING", acc, 2, NULL, eb);
    if (!e)
        e = run_write(db, "INSERT INTO vtpm_access_keys (id, account, secret, enabled, "
                      "created_ms) VALUES (?1, ?2, ?3, 1, ?4)", key, 4, NULL, eb);
    return finish(state, db, e, eb);
}

/* Rows of (id, account, secret or NULL, enabled, created_ms). */
static vouch_err accesskeys_read(sqlite3 *db, sqlite3_stmt *st,
                                 struct vouch_store_accesskey **ret, size_t *ret_n,
                                 struct vouch_errbuf *eb)
{
    struct vouch_store_accesskey *k = NULL, *nk;
    size_t n = 0, cap = 0;
    vouch_err e = VOUCH_OK;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            nk = realloc(k, cap * sizeof(*k));
            if (!nk) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                goto out;
            }
            k = nk;
        }
        memset(&k[n], 0, sizeof(k[n]));
        snprintf(k[n].id, sizeof(k[n].id), "%s", sqlite3_column_text(st, 0));
        snprintf(k[n].account, sizeof(k[n].account), "%s", sqlite3_column_text(st, 1));
        k[n].enabled = sqlite3_column_int64(st, 3) != 0;
        k[n].created_ms = sqlite3_column_int64(st, 4);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL && !(k[n].secret = col_dup(st, 2))) {
            n++;
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "access keys");
        goto out;
    }
    *ret = k;
    *ret_n = n;
    k = NULL;
out:
    vouch_store_accesskeys_free(k, n);
    return e;
}

static vouch_err sq_accesskey_get(void *state, const char *id,
                                  struct vouch_store_accesskey **ret, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(id) };
    struct vouch_store_accesskey *k = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, sql_accesskey_get, a, 1, &st, eb);
    if (!e)
        e = accesskeys_read(db, st, &k, &n, eb);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%s'", id);
    if (!e) {
        *ret = k;
        k = NULL;
    }
    vouch_store_accesskeys_free(k, n);
    stmt_done(st);
    return e;
}

static vouch_err sq_accesskey_list(void *state, const char *account,
                                   struct vouch_store_accesskey **ret, size_t *ret_n,
                                   struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(account ? account : "") };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT id, account, NULL, enabled, created_ms "
                         "FROM vtpm_access_keys WHERE ?1 = '' OR account = ?1 "
                         "ORDER BY account, id", a, 1, &st, eb);
    if (!e)
        e = accesskeys_read(db, st, ret, ret_n, eb);
    stmt_done(st);
    return e;
}

static vouch_err sq_accesskey_disable(void *state, const char *id, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(id) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "UPDATE vtpm_access_keys SET enabled = 0 WHERE id = ?1", a, 1,
                      &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%s'", id);
    return e;
}

static vouch_err sq_instance_register(void *state, const struct vouch_store_instance *in,
                                      int64_t now_ms, struct vouch_errbuf *eb)
{
    const struct arg a[VOUCH_STORE_INSTANCE_NCOLS] = {
        TXT(in->uuid), TXT(in->account), TXT(in->instance_id), TXT(in->instance_type),
        TXT(in->name), TXT(in->private_ip), TXT(in->public_ip), TXT(in->extensions),
        INT(in->affiliation), INT(in->system_status), INT(in->system_whitelist_id),
        INT(in->system_exceptions), TXT(in->system_detail), INT(in->program_status),
        INT(in->program_whitelist_id), INT(in->program_exceptions), TXT(in->program_detail),
        TXT(in->program_whitelist_name), INT(now_ms), INT(now_ms), INT(in->recent_report_ms),
    };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "INSERT INTO vtpm_instances (" VOUCH_STORE_INSTANCE_COLS ") VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                      "?17, ?18, ?19, ?20, ?21) ON CONFLICT (uuid) DO UPDATE SET "
                      "instance_id = excluded.instance_id, "
                      "instance_type = excluded.instance_type, name = excluded.name, "
                      "private_ip = excluded.private_ip, public_ip = excluded.public_ip, "
                      "extensions = excluded.extensions, affiliation = excluded.affiliation, "
                      "modified_ms = excluded.modified_ms "
                      "WHERE vtpm_instances.account = excluded.account",
                      a, VOUCH_STORE_INSTANCE_NCOLS, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "instance '%s' belongs to another account",
                       in->uuid);
    return e;
}

static vouch_err instance_from_row(sqlite3_stmt *st, struct vouch_store_instance *in,
                                   struct vouch_errbuf *eb)
{
    char **text[] = { &in->uuid, &in->account, &in->instance_id, &in->instance_type,
                      &in->name, &in->private_ip, &in->public_ip, &in->extensions };
    size_t i;

    memset(in, 0, sizeof(*in));
    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        *text[i] = col_dup(st, (int)i);
    in->affiliation = sqlite3_column_int64(st, 8);
    in->system_status = sqlite3_column_int64(st, 9);
    in->system_whitelist_id = sqlite3_column_int64(st, 10);
    in->system_exceptions = sqlite3_column_int64(st, 11);
    in->system_detail = col_dup(st, 12);
    in->program_status = sqlite3_column_int64(st, 13);
    in->program_whitelist_id = sqlite3_column_int64(st, 14);
    in->program_exceptions = sqlite3_column_int64(st, 15);
    in->program_detail = col_dup(st, 16);
    in->program_whitelist_name = col_dup(st, 17);
    in->created_ms = sqlite3_column_int64(st, 18);
    in->modified_ms = sqlite3_column_int64(st, 19);
    in->recent_report_ms = sqlite3_column_int64(st, 20);
    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        if (!*text[i])
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!in->system_detail || !in->program_detail || !in->program_whitelist_name)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

/* Every row of st as instances. */
static vouch_err instances_read(sqlite3 *db, sqlite3_stmt *st,
                                struct vouch_store_instance **ret, size_t *ret_n,
                                struct vouch_errbuf *eb)
{
    struct vouch_store_instance *v = NULL, *nv;
    size_t n = 0, cap = 0;
    vouch_err e = VOUCH_OK;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            nv = realloc(v, cap * sizeof(*v));
            if (!nv) {
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
                goto out;
            }
            v = nv;
        }
        e = instance_from_row(st, &v[n++], eb);
        if (e)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "instances");
        goto out;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
out:
    vouch_store_instances_free(v, n);
    return e;
}

static vouch_err sq_instance_get(void *state, const char *uuid,
                                 struct vouch_store_instance **ret, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid) };
    struct vouch_store_instance *v = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, sql_instance_get, a, 1, &st, eb);
    if (!e)
        e = instances_read(db, st, &v, &n, eb);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    if (!e) {
        *ret = v;
        v = NULL;
    }
    vouch_store_instances_free(v, n);
    stmt_done(st);
    return e;
}

static vouch_err sq_instance_delete(void *state, const char *account, const char *uuid,
                                    struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), TXT(account) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, "DELETE FROM vtpm_instances WHERE uuid = ?1 AND account = ?2", a, 2,
                  &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    if (!e)
        e = run_write(db, "DELETE FROM vtpm_nonces WHERE uuid = ?1", a, 1, NULL, eb);
    return finish(state, db, e, eb);
}

#define INSTANCE_WHERE                                                                    \
    " FROM vtpm_instances WHERE account = ?1 AND (?2 = -1 OR system_status = ?2 OR "      \
    "(?2 = -2 AND system_status IN (1, 2, 3))) "                                          \
    "AND (?3 < 0 OR program_status = ?3) AND (?4 < 0 OR (?4 = 1 AND recent_report_ms >= " \
    "?5) OR (?4 = 0 AND recent_report_ms < ?5))"

static vouch_err sq_instance_list(void *state, const char *account,
                                  const struct vouch_store_instance_filter *f, uint64_t offset,
                                  size_t limit, struct vouch_store_instance **ret,
                                  size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct vouch_store_instance_filter any = VOUCH_STORE_INSTANCE_FILTER_ANY;
    const struct vouch_store_instance_filter *w = f ? f : &any;
    const struct arg a[] = { TXT(account), INT(w->system_status), INT(w->program_status),
                             INT(w->online), INT(w->online_since_ms), INT((int64_t)limit),
                             INT((int64_t)offset) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t total = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*)" INSTANCE_WHERE, a, 5, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "instances");
    if (!e)
        total = sqlite3_column_int64(st, 0);
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_INSTANCE_COLS INSTANCE_WHERE
                         " ORDER BY uuid LIMIT ?6 OFFSET ?7", a, 7, &st, eb);
    if (!e)
        e = instances_read(db, st, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    stmt_done(st);
    return e;
}

static vouch_err sq_nonce_issue(void *state, const char *nonce, const char *uuid,
                                int64_t now_ms, int64_t expires_ms, struct vouch_errbuf *eb)
{
    const struct arg old[] = { INT(now_ms) };
    const struct arg a[] = { TXT(nonce), TXT(uuid), INT(expires_ms) };
    sqlite3 *db = NULL;
    vouch_err e = begin_light(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, "DELETE FROM vtpm_nonces WHERE expires_ms <= ?1", old, 1, NULL, eb);
    if (!e)
        e = run_write(db, "INSERT INTO vtpm_nonces (nonce, uuid, expires_ms) "
                      "VALUES (?1, ?2, ?3)", a, 3, NULL, eb);
    return finish(state, db, e, eb);
}

static vouch_err sq_nonce_take(void *state, const char *nonce, const char *uuid,
                               int64_t now_ms, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(nonce), TXT(uuid), INT(now_ms) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "DELETE FROM vtpm_nonces WHERE nonce = ?1 AND uuid = ?2 "
                      "AND expires_ms > ?3", a, 3, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "nonce unknown, used, expired or issued to "
                       "another instance");
    return e;
}

#define RNONCE_UPSERT "INSERT INTO vtpm_request_nonces (key_id, nonce, expires_ms) " \
    "VALUES (?1, ?2, ?3) ON CONFLICT (key_id, nonce) DO UPDATE SET expires_ms = " \
    "excluded.expires_ms WHERE vtpm_request_nonces.expires_ms <= ?4"

static vouch_err sq_request_nonce_use(void *state, const char *key_id, const char *nonce,
                                      int64_t now_ms, int64_t expires_ms,
                                      struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(key_id), TXT(nonce), INT(expires_ms), INT(now_ms) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = begin_light(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, RNONCE_UPSERT, a, 4, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "SignatureNonce used");
    return finish(state, db, e, eb);
}

/*
 * Batches go to the append-only log (migration 11): a pair saved twice has
 * two rows, and a read takes the later expiry.  Reads and purges also cover
 * vtpm_request_nonces, which holds the records of older versions and those
 * of vouch_store_request_nonce_use.
 */
#define RNONCE_LOG_INSERT "INSERT INTO vtpm_request_nonce_log (key_id, nonce, expires_ms) " \
    "VALUES (?1, ?2, ?3)"
#define RNONCE_LIVE "SELECT key_id, nonce, expires_ms FROM " VOUCH_STORE_RNONCE_RECORDS \
    " AS records WHERE expires_ms > ?1"
#define RNONCE_PURGE "DELETE FROM vtpm_request_nonce_log WHERE expires_ms <= ?1"
#define RNONCE_PURGE_KEYED "DELETE FROM vtpm_request_nonces WHERE expires_ms <= ?1"

static vouch_err sq_request_nonces_save(void *state, const struct vouch_store_request_nonce *rows,
                                        size_t n, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t i;
    vouch_err e = begin_light(state, &db, eb);

    if (e)
        return e;
    if (sqlite3_prepare_v2(db, RNONCE_LOG_INSERT, -1, &st, NULL) != SQLITE_OK)
        e = db_fail(db, eb, "request nonces");
    for (i = 0; !e && i < n; i++) {
        sqlite3_bind_text(st, 1, rows[i].key_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, rows[i].nonce, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, rows[i].expires_ms);
        if (sqlite3_step(st) != SQLITE_DONE)
            e = db_fail(db, eb, "request nonces");
        sqlite3_reset(st);
    }
    stmt_done(st);
    return finish(state, db, e, eb);
}

static vouch_err sq_request_nonces_each(void *state, int64_t now_ms,
                                        bool (*fn)(void *ctx,
                                                   const struct vouch_store_request_nonce *r),
                                        void *ctx, struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(now_ms) };
    struct vouch_store_request_nonce r;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc = SQLITE_DONE;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, RNONCE_LIVE, a, 1, &st, eb);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        r.key_id = (const char *)sqlite3_column_text(st, 0);
        r.nonce = (const char *)sqlite3_column_text(st, 1);
        r.expires_ms = sqlite3_column_int64(st, 2);
        if (!r.key_id || !r.nonce)
            continue;
        if (!fn(ctx, &r))
            e = vouch_fail(eb, VOUCH_E_LIMIT, "request nonces: stopped by the reader");
    }
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, "request nonces");
    stmt_done(st);
    return e;
}

static vouch_err sq_request_nonces_purge(void *state, int64_t now_ms, uint64_t *ret_deleted,
                                         struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(now_ms) };
    sqlite3 *db = NULL;
    int changes = 0, keyed = 0;
    vouch_err e = begin_light(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, RNONCE_PURGE, a, 1, &changes, eb);
    if (!e)
        e = run_write(db, RNONCE_PURGE_KEYED, a, 1, &keyed, eb);
    e = finish(state, db, e, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes + (uint64_t)keyed;
    return e;
}

/* --- vTPM reports, whitelists, events (migration 5) ------------------------ */

static vouch_err sq_ak_put(void *state, const char *uuid, const char *public_b64,
                           const char *cert_pem, int64_t now_ms, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), INT(VOUCH_STORE_AK_PENDING), TXT(public_b64),
                             TXT(cert_pem), INT(now_ms) };
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "INSERT INTO vtpm_aks (uuid, state, public_b64, cert_pem, created_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (uuid) DO UPDATE SET "
                      "state = excluded.state, public_b64 = excluded.public_b64, "
                      "cert_pem = excluded.cert_pem, created_ms = excluded.created_ms",
                      a, 5, NULL, eb);
    if (e == VOUCH_E_CONFLICT)      /* the foreign key: no such instance */
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    return e;
}

static vouch_err sq_ak_get(void *state, const char *uuid, struct vouch_store_ak **ret,
                           struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid) };
    struct vouch_store_ak *ak = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT state, public_b64, cert_pem, created_ms FROM vtpm_aks "
                         "WHERE uuid = ?1", a, 1, &st, eb);
    if (!e && (rc = sqlite3_step(st)) != SQLITE_ROW)
        e = rc == SQLITE_DONE ? vouch_fail(eb, VOUCH_E_NOT_FOUND, "instance '%s' has no AK", uuid)
                              : db_fail(db, eb, "AK");
    if (!e && !(ak = calloc(1, sizeof(*ak))))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e) {
        ak->state = sqlite3_column_int64(st, 0);
        ak->public_b64 = col_dup(st, 1);
        ak->cert_pem = col_dup(st, 2);
        ak->created_ms = sqlite3_column_int64(st, 3);
        if (!ak->public_b64 || !ak->cert_pem)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e) {
        *ret = ak;
        ak = NULL;
    }
    vouch_store_ak_free(ak);
    stmt_done(st);
    return e;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(out, size, "%s", t ? (const char *)t : "");
}

static vouch_err sq_vtpm_state_get(void *state, const char *uuid,
                                   struct vouch_store_vtpm_state *ret, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT reports, ima_next, pcr10_sha1, pcr10_sha256, "
                         "boot_aggregate, reset_count FROM vtpm_ima_states WHERE uuid = ?1",
                         a, 1, &st, eb);
    if (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ret->reports = sqlite3_column_int64(st, 0);
        ret->ima_next = sqlite3_column_int64(st, 1);
        col_copy(st, 2, ret->pcr10_sha1, sizeof(ret->pcr10_sha1));
        col_copy(st, 3, ret->pcr10_sha256, sizeof(ret->pcr10_sha256));
        col_copy(st, 4, ret->boot_aggregate, sizeof(ret->boot_aggregate));
        ret->reset_count = sqlite3_column_int64(st, 5);
    } else if (!e && rc != SQLITE_DONE) {
        e = db_fail(db, eb, "IMA state");
    }
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT id, pcrs, created_ms, modified_ms FROM "
                         "vtpm_system_whitelists WHERE uuid = ?1", a, 1, &st, eb);
    if (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ret->whitelist_id = sqlite3_column_int64(st, 0);
        ret->whitelist_created_ms = sqlite3_column_int64(st, 2);
        ret->whitelist_modified_ms = sqlite3_column_int64(st, 3);
        e = vouch_store_baseline_parse((const char *)sqlite3_column_text(st, 1), ret->baseline,
                                       eb);
    } else if (!e && rc != SQLITE_DONE) {
        e = db_fail(db, eb, "system whitelist");
    }
    stmt_done(st);
    return e;
}

/* Compare-and-swap the IMA state from version expect_reports to expect_reports + 1. */
static vouch_err sq_state_advance(sqlite3 *db, const struct vouch_store_report *r,
                                  struct vouch_errbuf *eb)
{
    const struct vouch_store_vtpm_state *n = r->next;
    const struct arg a[] = { TXT(r->uuid), INT(r->expect_reports + 1), INT(n->ima_next),
                             TXT(n->pcr10_sha1), TXT(n->pcr10_sha256), TXT(n->boot_aggregate),
                             INT(n->reset_count), INT(r->now_ms), INT(r->expect_reports) };
    int changes = 0;
    vouch_err e;

    if (r->expect_reports == 0)
        e = run_write(db, "INSERT INTO vtpm_ima_states (uuid, reports, ima_next, pcr10_sha1, "
                      "pcr10_sha256, boot_aggregate, reset_count, updated_ms) VALUES (?1, ?2, "
                      "?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (uuid) DO NOTHING", a, 8, &changes,
                      eb);
    else
        e = run_write(db, "UPDATE vtpm_ima_states SET reports = ?2, ima_next = ?3, "
                      "pcr10_sha1 = ?4, pcr10_sha256 = ?5, boot_aggregate = ?6, "
                      "reset_count = ?7, updated_ms = ?8 WHERE uuid = ?1 AND reports = ?9", a,
                      9, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "instance '%s' changed meanwhile", r->uuid);
    return e;
}

/* Create or keep the baseline; *ret_id: its whitelist id. */
static vouch_err sq_baseline_write(sqlite3 *db, const struct vouch_store_report *r,
                                   int64_t *ret_id, struct vouch_errbuf *eb)
{
    char text[VOUCH_STORE_BASELINE_TEXT];
    sqlite3_stmt *st = NULL;
    int64_t id;
    vouch_err e;

    if (!r->create_baseline) {
        *ret_id = r->next->whitelist_id;
        return VOUCH_OK;
    }
    e = run_write(db, "UPDATE vtpm_ids SET value = value + 1 WHERE name = 'system_whitelist'",
                  NULL, 0, NULL, eb);
    if (!e)
        e = prepare_bind(db, "SELECT value FROM vtpm_ids WHERE name = 'system_whitelist'", NULL,
                         0, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "whitelist ids");
    id = e ? 0 : sqlite3_column_int64(st, 0);
    stmt_done(st);
    vouch_store_baseline_format(r->next->baseline, text);
    if (!e) {
        const struct arg a[] = { INT(id), TXT(r->uuid), TXT(text), INT(r->now_ms) };

        e = run_write(db, "INSERT INTO vtpm_system_whitelists (id, uuid, pcrs, created_ms, "
                      "modified_ms) VALUES (?1, ?2, ?3, ?4, ?4)", a, 4, NULL, eb);
    }
    if (!e)
        *ret_id = id;
    return e;
}

/* Open each event, or count it again on the open one it repeats. */
static vouch_err sq_events_open(sqlite3 *db, const struct vouch_store_report *r,
                                struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    size_t i;

    for (i = 0; !e && i < r->n_events; i++) {
        const struct vouch_store_event_new *ev = &r->events[i];
        const struct arg a[] = { TXT(ev->uuid), TXT(r->uuid), INT(ev->type), INT(ev->level),
                                 TXT(ev->suspect), TXT(ev->suspect_value),
                                 TXT(ev->whitelist_value), INT(r->now_ms) };
        int changes = 0;

        e = run_write(db, "UPDATE vtpm_events SET accumulation = accumulation + 1, "
                      "modified_ms = ?8, whitelist_value = ?7 WHERE instance = ?2 AND "
                      "type = ?3 AND suspect = ?5 AND suspect_value = ?6 AND status = 1",
                      a, 8, &changes, eb);
        if (!e && changes == 0)
            e = run_write(db, "INSERT INTO vtpm_events (" VOUCH_STORE_EVENT_COLS ") SELECT "
                          "?1, ?2, account, ?3, ?4, 1, 0, 1, ?5, ?6, ?7, ?8, ?8, 0 "
                          "FROM vtpm_instances WHERE uuid = ?2", a, 8, NULL, eb);
    }
    return e;
}

/* The instance's system verdict after a report or a handled event. */
static vouch_err sq_verdict_write(sqlite3 *db, const char *uuid, int64_t status,
                                  int64_t whitelist_id, const char b[][VOUCH_STORE_HEX256],
                                  int64_t report_ms, struct vouch_errbuf *eb)
{
    char detail[VOUCH_STORE_DETAIL_TEXT];
    const struct arg a[] = { TXT(uuid), INT(status), INT(whitelist_id), TXT(detail),
                             INT(report_ms) };

    if (whitelist_id >= 0)
        vouch_store_baseline_detail(b, detail);
    else
        strcpy(detail, "{}");
    return run_write(db, "UPDATE vtpm_instances SET system_status = CASE WHEN ?2 > 0 THEN ?2 "
                     "WHEN (SELECT count(*) FROM vtpm_events WHERE instance = ?1 AND "
                     "status = 1 AND type = 1) > 0 THEN 2 ELSE 1 END, "
                     "system_whitelist_id = ?3, system_detail = ?4, system_exceptions = "
                     "(SELECT count(*) FROM vtpm_events WHERE instance = ?1 AND status = 1 "
                     "AND type = 1), recent_report_ms = CASE WHEN ?5 > 0 THEN ?5 ELSE "
                     "recent_report_ms END WHERE uuid = ?1", a, 5, NULL, eb);
}

static vouch_err sq_history_write(sqlite3 *db, const struct vouch_store_report *r,
                                  struct vouch_errbuf *eb)
{
    int64_t seq = r->expect_reports + 1;
    const struct arg a[] = { TXT(r->uuid), INT(seq), INT(r->now_ms), TXT(r->summary),
                             INT(seq - (int64_t)r->keep) };
    vouch_err e = run_write(db, "INSERT INTO vtpm_reports (instance, seq, received_ms, summary) "
                            "VALUES (?1, ?2, ?3, ?4)", a, 4, NULL, eb);

    if (!e)
        e = run_write(db, "DELETE FROM vtpm_reports WHERE instance = ?1 AND seq <= ?5", a, 5,
                      NULL, eb);
    return e;
}

/* The PCR events of the history row just written (migration 9). */
static vouch_err sq_pcr_events_write(sqlite3 *db, const struct vouch_store_report *r,
                                     struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(r->uuid), INT(r->expect_reports + 1),
                             TXT(r->pcr_events ? r->pcr_events : "") };

    if (!r->pcr_events || !*r->pcr_events)
        return VOUCH_OK;
    return run_write(db, "UPDATE vtpm_reports SET pcr_events = ?3 WHERE instance = ?1 AND "
                     "seq = ?2", a, 3, NULL, eb);
}

/* The instance's program verdict from its open program events (see the macro). */
static vouch_err sq_program_verdict(sqlite3 *db, const char *uuid, int64_t hint,
                                    const char *detail, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), INT(hint), TXT(detail ? detail : "") };

    return run_write(db, VOUCH_STORE_PROGRAM_VERDICT("?1", "?2", "?3", ""), a, 3, NULL, eb);
}

/* Both verdicts of a report, in one statement that returns the program status. */
static vouch_err sq_report_verdict(sqlite3 *db, const struct vouch_store_report *r, int64_t wl,
                                   int64_t *ret_program_status, struct vouch_errbuf *eb)
{
    char detail[VOUCH_STORE_DETAIL_TEXT];
    const struct arg a[] = { TXT(r->uuid), INT(r->system_status), INT(wl), TXT(detail),
                             INT(r->now_ms), INT(r->program_status),
                             TXT(r->program_detail ? r->program_detail : "") };
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_ROW;
    vouch_err e;

    if (wl >= 0)
        vouch_store_baseline_detail(r->next->baseline, detail);
    else
        strcpy(detail, "{}");
    e = prepare_bind(db, VOUCH_STORE_REPORT_VERDICT("?1", "?2", "?3", "?4", "?5", "?6", "?7", ""),
                     a, 7, &st, eb);
    if (!e && (rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)
        e = db_fail(db, eb, "verdict");
    /* no row: the instance is gone, as the statements before found out */
    if (!e)
        *ret_program_status = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : r->program_status;
    if (!e && rc == SQLITE_ROW && sqlite3_step(st) != SQLITE_DONE)
        e = db_fail(db, eb, "verdict");
    stmt_done(st);
    return e;
}

/* One report's writes, inside the group's transaction. */
static vouch_err sq_report_write(sqlite3 *db, const struct vouch_store_report *r,
                                 int64_t *ret_program_status, struct vouch_errbuf *eb)
{
    const struct arg nonce[] = { TXT(r->nonce), TXT(r->uuid), INT(r->now_ms) };
    const struct arg ak[] = { TXT(r->uuid) };
    int64_t wl = -1;
    int changes = 0;
    vouch_err e = sq_state_advance(db, r, eb);

    if (!e)
        e = run_write(db, "DELETE FROM vtpm_nonces WHERE nonce = ?1 AND uuid = ?2 "
                      "AND expires_ms > ?3", nonce, 3, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "nonce unknown, used, expired or issued to "
                       "another instance");
    if (!e && r->activate_ak)
        e = run_write(db, "UPDATE vtpm_aks SET state = 2 WHERE uuid = ?1", ak, 1, NULL, eb);
    if (!e)
        e = sq_baseline_write(db, r, &wl, eb);
    if (!e)
        e = sq_events_open(db, r, eb);
    if (!e)
        e = sq_report_verdict(db, r, wl, ret_program_status, eb);
    if (!e)
        e = sq_history_write(db, r, eb);
    if (!e)
        e = sq_pcr_events_write(db, r, eb);
    return e;
}

/*
 * Group commit.  A report joins the queue; when no group is being written,
 * the thread that finds its report still queued leads: it takes up to
 * GROUP_MAX queued reports, writes each in its own savepoint of one
 * transaction (a report that fails rolls back its savepoint alone) and
 * commits once, so the group shares one fsync.  Every report's thread
 * returns after that commit.  Reports arriving meanwhile wait for the next
 * group, which one of them leads.  The leader does not wait for more to
 * arrive: the reports verified while a group commits make the next group
 * (a linger of 1 ms cost a third of the throughput; docs/architecture.md).
 */
struct group_item {
    const struct vouch_store_report *r;
    struct vouch_errbuf *eb;         /* the caller's */
    int64_t program_status;
    vouch_err result;
    bool done;
    struct group_item *next;
};

/* Detach up to GROUP_MAX reports from the head of the queue (group_lock held). */
static struct group_item *group_take(struct sq *q)
{
    struct group_item *g = q->queue, **tail = &q->queue;
    size_t n;

    for (n = 0; *tail && n < GROUP_MAX; n++)
        tail = &(*tail)->next;
    q->queue = *tail;
    *tail = NULL;
    if (!q->queue)
        q->queue_tail = &q->queue;
    return g;
}

/* One report in its savepoint; an error return means the transaction itself failed. */
static vouch_err group_write_one(sqlite3 *db, struct group_item *it, struct vouch_errbuf *eb)
{
    vouch_err e = exec(db, "SAVEPOINT report", eb);

    if (e)
        return e;
    it->result = sq_report_write(db, it->r, &it->program_status, it->eb);
    if (sqlite3_get_autocommit(db))         /* SQLite rolled the whole transaction back */
        return vouch_fail(eb, VOUCH_E_STORE, "sqlite: the group's transaction ended");
    if (it->result && (e = exec(db, "ROLLBACK TO report", eb)))
        return e;
    return exec(db, "RELEASE report", eb);
}

/* Write and commit group g; each report's result is set. */
static void group_commit(struct sq *q, struct group_item *g)
{
    struct vouch_errbuf eb;
    struct group_item *it;
    sqlite3 *db = NULL;
    vouch_err e = begin(q, &db, &eb);

    if (!e) {
        for (it = g; !e && it; it = it->next)
            e = group_write_one(db, it, &eb);
        e = finish(q, db, e, &eb);
    }
    /* nothing of the group is stored: a report that had succeeded fails with it */
    for (it = g; e && it; it = it->next)
        if (!it->result) {
            it->result = e;
            *it->eb = eb;
        }
}

static vouch_err sq_report_accept(void *state, const struct vouch_store_report *r,
                                  int64_t *ret_program_status, struct vouch_errbuf *eb)
{
    struct sq *q = state;
    struct group_item me = { .r = r, .eb = eb }, *g, *next;

    pthread_mutex_lock(&q->group_lock);
    *q->queue_tail = &me;
    q->queue_tail = &me.next;
    while (!me.done) {
        if (q->leading) {
            pthread_cond_wait(&q->group_done, &q->group_lock);
            continue;
        }
        q->leading = true;
        g = group_take(q);
        pthread_mutex_unlock(&q->group_lock);
        group_commit(q, g);
        pthread_mutex_lock(&q->group_lock);
        for (; g; g = next) {          /* an item may be gone once marked done */
            next = g->next;
            g->done = true;
        }
        q->leading = false;
        pthread_cond_broadcast(&q->group_done);
    }
    pthread_mutex_unlock(&q->group_lock);
    if (!me.result && ret_program_status)
        *ret_program_status = me.program_status;
    return me.result;
}

static vouch_err sq_report_last(void *state, const char *uuid, char **ret_summary,
                                int64_t *ret_ms, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    char *summary = NULL;
    int rc;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT summary, received_ms FROM vtpm_reports WHERE instance = ?1 "
                         "ORDER BY seq DESC LIMIT 1", a, 1, &st, eb);
    if (!e && (rc = sqlite3_step(st)) != SQLITE_ROW)
        e = rc == SQLITE_DONE ? vouch_fail(eb, VOUCH_E_NOT_FOUND, "no report of '%s'", uuid)
                              : db_fail(db, eb, "reports");
    if (!e && !(summary = col_dup(st, 0)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e) {
        *ret_ms = sqlite3_column_int64(st, 1);
        *ret_summary = summary;
    }
    stmt_done(st);
    return e;
}

static vouch_err sq_report_count(void *state, const char *uuid, uint64_t *ret,
                                 struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*) FROM vtpm_reports WHERE instance = ?1", a, 1, &st,
                         eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "reports");
    if (!e)
        *ret = (uint64_t)sqlite3_column_int64(st, 0);
    stmt_done(st);
    return e;
}

static vouch_err sq_report_rows_read(sqlite3 *db, sqlite3_stmt *st, size_t limit,
                                     int with_events, struct vouch_store_report_row **ret,
                                     size_t *ret_n, struct vouch_errbuf *eb)
{
    struct vouch_store_report_row *rows = calloc(limit + 1, sizeof(*rows));
    size_t n = 0;
    int rc = SQLITE_ROW;
    vouch_err e = rows ? VOUCH_OK : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");

    while (!e && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows[n].seq = sqlite3_column_int64(st, 0);
        rows[n].received_ms = sqlite3_column_int64(st, 1);
        rows[n].summary = col_dup(st, 2);
        rows[n].pcr_events = with_events ? col_dup(st, 3) : NULL;
        n++;
        if (!rows[n - 1].summary || (with_events && !rows[n - 1].pcr_events))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = db_fail(db, eb, "reports");
    if (e) {
        vouch_store_report_rows_free(rows, n);
        return e;
    }
    *ret = rows;
    *ret_n = n;
    return VOUCH_OK;
}

static vouch_err sq_report_list(void *state, const char *uuid, uint64_t offset, size_t limit,
                                int with_events, struct vouch_store_report_row **ret,
                                size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), INT((int64_t)limit), INT((int64_t)offset),
                             INT(with_events ? 1 : 0) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t total = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*) FROM vtpm_reports WHERE instance = ?1", a, 1, &st,
                         eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "reports");
    if (!e)
        total = sqlite3_column_int64(st, 0);
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT seq, received_ms, summary, CASE WHEN ?4 THEN pcr_events "
                         "ELSE '' END FROM vtpm_reports WHERE instance = ?1 ORDER BY seq DESC "
                         "LIMIT ?2 OFFSET ?3", a, 4, &st, eb);
    if (!e)
        e = sq_report_rows_read(db, st, limit, with_events, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    stmt_done(st);
    return e;
}

static vouch_err event_from_row(sqlite3_stmt *st, struct vouch_store_event *ev,
                                struct vouch_errbuf *eb)
{
    char **text[] = { &ev->uuid, &ev->instance, &ev->account };
    int64_t *num[] = { &ev->type, &ev->level, &ev->status, &ev->handle_type,
                       &ev->accumulation };
    size_t i;

    memset(ev, 0, sizeof(*ev));
    for (i = 0; i < 3; i++)
        *text[i] = col_dup(st, (int)i);
    for (i = 0; i < 5; i++)
        *num[i] = sqlite3_column_int64(st, (int)i + 3);
    ev->suspect = col_dup(st, 8);
    ev->suspect_value = col_dup(st, 9);
    ev->whitelist_value = col_dup(st, 10);
    ev->created_ms = sqlite3_column_int64(st, 11);
    ev->modified_ms = sqlite3_column_int64(st, 12);
    ev->handled_ms = sqlite3_column_int64(st, 13);
    if (!ev->uuid || !ev->instance || !ev->account || !ev->suspect || !ev->suspect_value ||
        !ev->whitelist_value)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err events_read(sqlite3 *db, sqlite3_stmt *st, struct vouch_store_event **ret,
                             size_t *ret_n, struct vouch_errbuf *eb)
{
    struct vouch_store_event *v = NULL;
    size_t n = 0, cap = 0;
    vouch_err e = VOUCH_OK;
    int rc;

    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = grow((void **)&v, &cap, n, sizeof(*v), eb);
        if (!e)
            e = event_from_row(st, &v[n++], eb);
    }
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, "events");
    if (e) {
        vouch_store_events_free(v, n);
        return e;
    }
    *ret = v;
    *ret_n = n;
    return VOUCH_OK;
}

#define EVENT_WHERE                                                                      \
    " FROM vtpm_events WHERE account = ?1 AND (?2 = '' OR instance = ?2) AND (?3 = '' OR " \
    "suspect = ?3) AND (?4 < 0 OR type = ?4) AND (?5 < 0 OR level = ?5) AND (?6 < 0 OR "   \
    "status = ?6) AND (?7 < 0 OR handle_type = ?7) AND (?8 = 0 OR created_ms >= ?8) AND "  \
    "(?9 = 0 OR created_ms <= ?9) AND (?10 = 0 OR handled_ms >= ?10) AND (?11 = 0 OR "     \
    "handled_ms <= ?11)"

static vouch_err sq_event_list(void *state, const char *account,
                               const struct vouch_store_event_filter *f, uint64_t offset,
                               size_t limit, struct vouch_store_event **ret, size_t *ret_n,
                               uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct arg a[] = {
        TXT(account), TXT(f->instance ? f->instance : ""), TXT(f->suspect ? f->suspect : ""),
        INT(f->type), INT(f->level), INT(f->status), INT(f->handle_type), INT(f->created_from),
        INT(f->created_to), INT(f->handled_from), INT(f->handled_to), INT((int64_t)limit),
        INT((int64_t)offset),
    };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t total = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*)" EVENT_WHERE, a, 11, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "events");
    if (!e)
        total = sqlite3_column_int64(st, 0);
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_EVENT_COLS EVENT_WHERE
                         " ORDER BY created_ms DESC, uuid LIMIT ?12 OFFSET ?13", a, 13, &st, eb);
    if (!e)
        e = events_read(db, st, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    stmt_done(st);
    return e;
}

/* Close one event of `account`; a trusted system event moves the baseline.
 * *ret_instance: its instance (free()). */
static vouch_err sq_event_close(sqlite3 *db, const char *account, const char *uuid,
                                int64_t status, int64_t now_ms, char **ret_instance,
                                struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), TXT(account) };
    struct vouch_store_event *ev = NULL;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    vouch_err e = prepare_bind(db, "SELECT " VOUCH_STORE_EVENT_COLS " FROM vtpm_events WHERE "
                               "uuid = ?1 AND account = ?2", a, 2, &st, eb);

    if (!e)
        e = events_read(db, st, &ev, &n, eb);
    stmt_done(st);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no event '%s'", uuid);
    if (!e && ev->status != VOUCH_STORE_EVENT_OPEN)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "event '%s' is already handled", uuid);
    if (!e) {
        const struct arg u[] = { TXT(uuid), INT(status), INT(status - 1), INT(now_ms) };

        e = run_write(db, "UPDATE vtpm_events SET status = ?2, handle_type = ?3, "
                      "handled_ms = ?4, modified_ms = ?4 WHERE uuid = ?1", u, 4, NULL, eb);
    }
    if (!e && status == VOUCH_STORE_EVENT_TRUSTED && ev->type == VOUCH_STORE_EVENT_SYSTEM) {
        char b[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256], text[VOUCH_STORE_BASELINE_TEXT];
        const struct arg w[] = { TXT(ev->instance) };
        unsigned pcr = 0;
        int rc;

        e = prepare_bind(db, "SELECT pcrs FROM vtpm_system_whitelists WHERE uuid = ?1", w, 1,
                         &st, eb);
        if (!e && (rc = sqlite3_step(st)) != SQLITE_ROW)
            e = rc == SQLITE_DONE ? vouch_fail(eb, VOUCH_E_STORE, "no baseline")
                                  : db_fail(db, eb, "baseline");
        if (!e)
            e = vouch_store_baseline_parse((const char *)sqlite3_column_text(st, 0), b, eb);
        stmt_done(st);
        if (!e && sscanf(ev->suspect, "pcr%u", &pcr) == 1 && pcr < VOUCH_STORE_BASELINE_PCRS &&
            strlen(ev->suspect_value) == 64) {
            const struct arg u[] = { TXT(ev->instance), TXT(text), INT(now_ms) };

            snprintf(b[pcr], sizeof(b[pcr]), "%s", ev->suspect_value);
            vouch_store_baseline_format(b, text);
            e = run_write(db, "UPDATE vtpm_system_whitelists SET pcrs = ?2, modified_ms = ?3 "
                          "WHERE uuid = ?1", u, 3, NULL, eb);
        }
    }
    if (!e && !(*ret_instance = strdup(ev->instance)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    vouch_store_events_free(ev, n);
    return e;
}

/* Recompute an instance's system verdict from its baseline and open events. */
static vouch_err sq_verdict_refresh(sqlite3 *db, const char *uuid, struct vouch_errbuf *eb)
{
    char b[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256];
    const struct arg a[] = { TXT(uuid) };
    sqlite3_stmt *st = NULL;
    int64_t id = -1;
    int rc;
    vouch_err e = prepare_bind(db, "SELECT id, pcrs FROM vtpm_system_whitelists WHERE uuid = ?1",
                               a, 1, &st, eb);

    if (!e && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        e = vouch_store_baseline_parse((const char *)sqlite3_column_text(st, 1), b, eb);
    } else if (!e && rc != SQLITE_DONE) {
        e = db_fail(db, eb, "baseline");
    }
    stmt_done(st);
    if (!e && id >= 0)
        e = sq_verdict_write(db, uuid, 0, id, b, 0, eb);
    return e;
}

static vouch_err sq_event_get(void *state, const char *account, const char *uuid,
                              struct vouch_store_event **ret, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(uuid), TXT(account) };
    struct vouch_store_event *ev = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_EVENT_COLS " FROM vtpm_events WHERE "
                         "uuid = ?1 AND account = ?2", a, 2, &st, eb);
    if (!e)
        e = events_read(db, st, &ev, &n, eb);
    stmt_done(st);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no event '%s'", uuid);
    if (!e) {
        *ret = ev;
        ev = NULL;
    }
    vouch_store_events_free(ev, n);
    return e;
}

static vouch_err sq_events_handle(void *state, const char *account, const char *const *uuids,
                                  size_t n, int64_t status, int64_t now_ms,
                                  struct vouch_errbuf *eb)
{
    char **touched = calloc(n, sizeof(*touched));
    sqlite3 *db = NULL;
    size_t i;
    vouch_err e = touched ? begin(state, &db, eb) : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");

    if (!touched || e) {
        free(touched);
        return e;
    }
    for (i = 0; !e && i < n; i++)
        e = sq_event_close(db, account, uuids[i], status, now_ms, &touched[i], eb);
    for (i = 0; !e && i < n; i++) {
        e = sq_verdict_refresh(db, touched[i], eb);
        if (!e)
            e = sq_program_verdict(db, touched[i], 0, NULL, eb);
    }
    e = finish(state, db, e, eb);
    for (i = 0; i < n; i++)
        free(touched[i]);
    free(touched);
    return e;
}

static vouch_err sq_instance_census(void *state, int64_t online_since_ms,
                                    struct vouch_store_census *ret, struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(online_since_ms) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);
    int rc = SQLITE_DONE;

    if (!e)
        e = prepare_bind(db, VOUCH_STORE_CENSUS_SQL("?1"), a, 1, &st, eb);
    while (!e && (rc = sqlite3_step(st)) == SQLITE_ROW)
        vouch_store_census_add(ret, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                               sqlite3_column_int64(st, 2));
    if (!e && rc != SQLITE_DONE)
        e = db_fail(db, eb, "instances");
    stmt_done(st);
    return e;
}

/* --- audit log ------------------------------------------------------------- */

static vouch_err sq_audit_append(void *state, const struct vouch_store_audit *a,
                                 struct vouch_errbuf *eb)
{
    const struct arg v[] = { TXT(a->id), INT(a->at_ms), TXT(a->actor), TXT(a->action),
                             TXT(a->target), INT(a->status), TXT(a->code),
                             TXT(a->request_id) };
    sqlite3 *db = NULL;
    vouch_err e = conn_get(state, &db, eb);

    return e ? e : run_write(db, "INSERT INTO audit_log (" VOUCH_STORE_AUDIT_COLS ") VALUES "
                             "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", v, 8, NULL, eb);
}

static vouch_err audit_from_row(sqlite3_stmt *st, struct vouch_store_audit *a,
                                struct vouch_errbuf *eb)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "%s", (const char *)sqlite3_column_text(st, 0));
    a->at_ms = sqlite3_column_int64(st, 1);
    a->actor = col_dup(st, 2);
    a->action = col_dup(st, 3);
    a->target = col_dup(st, 4);
    a->status = sqlite3_column_int64(st, 5);
    a->code = col_dup(st, 6);
    a->request_id = col_dup(st, 7);
    if (!a->actor || !a->action || !a->target || !a->code || !a->request_id)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err audits_read(sqlite3 *db, sqlite3_stmt *st, struct vouch_store_audit **ret,
                             size_t *ret_n, struct vouch_errbuf *eb)
{
    struct vouch_store_audit *v = NULL;
    size_t n = 0, cap = 0;
    vouch_err e = VOUCH_OK;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = grow((void **)&v, &cap, n, sizeof(*v), eb);
        if (e)
            goto out;
        e = audit_from_row(st, &v[n++], eb);
        if (e)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "audit log");
        goto out;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
out:
    vouch_store_audits_free(v, n);
    return e;
}

#define AUDIT_WHERE                                                                        \
    " FROM audit_log WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2) "          \
    "AND (?3 = 0 OR at_ms >= ?3) AND (?4 = 0 OR at_ms < ?4)"

static vouch_err sq_audit_list(void *state, const struct vouch_store_audit_filter *f,
                               uint64_t offset, size_t limit, struct vouch_store_audit **ret,
                               size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct vouch_store_audit_filter none = { NULL, NULL, 0, 0 };
    const struct vouch_store_audit_filter *w = f ? f : &none;
    const struct arg a[] = { TXT(w->actor ? w->actor : ""), TXT(w->action ? w->action : ""),
                             INT(w->since_ms), INT(w->until_ms), INT((int64_t)limit),
                             INT((int64_t)offset) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t total = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*)" AUDIT_WHERE, a, 4, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "audit log");
    if (!e)
        total = sqlite3_column_int64(st, 0);
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_AUDIT_COLS AUDIT_WHERE
                         " ORDER BY at_ms DESC, id DESC LIMIT ?5 OFFSET ?6", a, 6, &st, eb);
    if (!e)
        e = audits_read(db, st, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    stmt_done(st);
    return e;
}

static vouch_err sq_audit_prune(void *state, int64_t before_ms, uint64_t *ret_deleted,
                                struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(before_ms) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "DELETE FROM audit_log WHERE at_ms < ?1", a, 1, &changes, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes;
    return e;
}

/* --- vTPM program whitelists ----------------------------------------------- */

static vouch_err sq_whitelist_create(void *state, const struct vouch_store_whitelist *w,
                                     int64_t now_ms, int64_t *ret_id, struct vouch_errbuf *eb)
{
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t id = 0;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    e = run_write(db, "UPDATE vtpm_ids SET value = value + 1 "
                  "WHERE name = 'program_whitelist'", NULL, 0, NULL, eb);
    if (!e)
        e = prepare_bind(db, "SELECT value FROM vtpm_ids WHERE name = 'program_whitelist'",
                         NULL, 0, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "whitelist id");
    if (!e)
        id = sqlite3_column_int64(st, 0);
    stmt_done(st);
    if (!e) {
        const struct arg a[] = { INT(id), TXT(w->account), TXT(w->name), TXT(w->format),
                                 TXT(w->document), INT(w->digests), INT(w->paths),
                                 INT(now_ms) };

        e = run_write(db, "INSERT INTO vtpm_program_whitelists (id, account, name, format, "
                      "document, digests, paths, created_ms, modified_ms) "
                      "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8 "
                      "WHERE EXISTS (SELECT 1 FROM vtpm_accounts WHERE name = ?2)",
                      a, 8, NULL, eb);
    }
    if (!e && sqlite3_changes(db) == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "no account '%s'", w->account);
    e = finish(state, db, e, eb);
    if (!e)
        *ret_id = id;
    return e;
}

/* A row of VOUCH_STORE_WHITELIST_COLS (+ instances, document, as `what` says) into w. */
static vouch_err whitelist_from_row(sqlite3_stmt *st, unsigned what,
                                    struct vouch_store_whitelist *w, struct vouch_errbuf *eb)
{
    int col = VOUCH_STORE_WHITELIST_NCOLS;

    memset(w, 0, sizeof(*w));
    w->id = sqlite3_column_int64(st, 0);
    w->account = col_dup(st, 1);
    w->name = col_dup(st, 2);
    w->format = col_dup(st, 3);
    w->digests = sqlite3_column_int64(st, 4);
    w->paths = sqlite3_column_int64(st, 5);
    w->created_ms = sqlite3_column_int64(st, 6);
    w->modified_ms = sqlite3_column_int64(st, 7);
    w->instances = what & VOUCH_STORE_WL_INSTANCES ? sqlite3_column_int64(st, col++) : -1;
    if (what & VOUCH_STORE_WL_DOCUMENT)
        w->document = col_dup(st, col);
    if (!w->account || !w->name || !w->format ||
        ((what & VOUCH_STORE_WL_DOCUMENT) && !w->document))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err whitelists_read(sqlite3 *db, sqlite3_stmt *st, unsigned what,
                                 struct vouch_store_whitelist **ret, size_t *ret_n,
                                 struct vouch_errbuf *eb)
{
    struct vouch_store_whitelist *v = NULL;
    size_t n = 0, cap = 0;
    vouch_err e = VOUCH_OK;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        e = grow((void **)&v, &cap, n, sizeof(*v), eb);
        if (!e)
            e = whitelist_from_row(st, what, &v[n++], eb);
        if (e)
            goto out;
    }
    if (rc != SQLITE_DONE) {
        e = db_fail(db, eb, "whitelists");
        goto out;
    }
    *ret = v;
    *ret_n = n;
    v = NULL;
out:
    vouch_store_whitelists_free(v, n);
    return e;
}

static vouch_err sq_whitelist_get(void *state, int64_t id, unsigned what,
                                  struct vouch_store_whitelist **ret, struct vouch_errbuf *eb)
{
    static const char *const sql[4] = {
        "SELECT " VOUCH_STORE_WHITELIST_COLS " FROM vtpm_program_whitelists w WHERE w.id = ?1",
        "SELECT " VOUCH_STORE_WHITELIST_COLS ", w.document FROM vtpm_program_whitelists w "
        "WHERE w.id = ?1",
        "SELECT " VOUCH_STORE_WHITELIST_COLS ", " VOUCH_STORE_WHITELIST_COUNT
        " FROM vtpm_program_whitelists w WHERE w.id = ?1",
        "SELECT " VOUCH_STORE_WHITELIST_COLS ", " VOUCH_STORE_WHITELIST_COUNT ", w.document "
        "FROM vtpm_program_whitelists w WHERE w.id = ?1",
    };
    const struct arg a[] = { INT(id) };
    struct vouch_store_whitelist *v = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    vouch_err e = conn_get(state, &db, eb);

    what &= 3;
    if (!e)
        e = prepare_bind(db, sql[what], a, 1, &st, eb);
    if (!e)
        e = whitelists_read(db, st, what, &v, &n, eb);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    if (!e) {
        *ret = v;
        v = NULL;
    }
    vouch_store_whitelists_free(v, n);
    stmt_done(st);
    return e;
}

static vouch_err sq_whitelist_list(void *state, const char *account, uint64_t offset,
                                   size_t limit, struct vouch_store_whitelist **ret,
                                   size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct arg a[] = { TXT(account), INT((int64_t)limit), INT((int64_t)offset) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int64_t total = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT count(*) FROM vtpm_program_whitelists WHERE account = ?1",
                         a, 1, &st, eb);
    if (!e && sqlite3_step(st) != SQLITE_ROW)
        e = db_fail(db, eb, "whitelists");
    if (!e)
        total = sqlite3_column_int64(st, 0);
    stmt_done(st);
    st = NULL;
    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_WHITELIST_COLS " FROM vtpm_program_whitelists w "
                         "WHERE w.account = ?1 ORDER BY w.id LIMIT ?2 OFFSET ?3", a, 3, &st, eb);
    if (!e)
        e = whitelists_read(db, st, 0, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    stmt_done(st);
    return e;
}

/* Does `account` have whitelist `id`?  VOUCH_E_NOT_FOUND when not. */
static vouch_err sq_whitelist_owned(sqlite3 *db, const char *account, int64_t id,
                                    struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(id), TXT(account) };
    sqlite3_stmt *st = NULL;
    vouch_err e = prepare_bind(db, "SELECT 1 FROM vtpm_program_whitelists WHERE id = ?1 "
                               "AND account = ?2", a, 2, &st, eb);
    int rc;

    if (e)
        return e;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    else if (rc != SQLITE_ROW)
        e = db_fail(db, eb, "whitelists");
    stmt_done(st);
    return e;
}

static vouch_err sq_whitelist_update(void *state, const char *account, int64_t id,
                                     const char *document, int64_t digests, int64_t paths,
                                     int64_t expect_modified_ms, int64_t now_ms,
                                     int64_t *ret_modified, struct vouch_errbuf *eb)
{
    int64_t next = now_ms > expect_modified_ms ? now_ms : expect_modified_ms + 1;
    const struct arg a[] = { INT(id), TXT(account), TXT(document), INT(digests), INT(paths),
                             INT(expect_modified_ms), INT(next) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    e = sq_whitelist_owned(db, account, id, eb);
    if (!e)
        e = run_write(db, "UPDATE vtpm_program_whitelists SET document = ?3, digests = ?4, "
                      "paths = ?5, modified_ms = ?7 WHERE id = ?1 AND account = ?2 "
                      "AND modified_ms = ?6", a, 7, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "whitelist %lld changed meanwhile", (long long)id);
    e = finish(state, db, e, eb);
    if (!e && ret_modified)
        *ret_modified = next;
    return e;
}

static vouch_err sq_whitelist_delete(void *state, const char *account, int64_t id,
                                     struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(id), TXT(account) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    e = sq_whitelist_owned(db, account, id, eb);
    if (!e)
        e = prepare_bind(db, "SELECT 1 FROM vtpm_instances WHERE program_whitelist_id = ?1 "
                         "LIMIT 1", a, 1, &st, eb);
    if (!e && sqlite3_step(st) == SQLITE_ROW)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "whitelist %lld is assigned to instances",
                       (long long)id);
    stmt_done(st);
    if (!e)
        e = run_write(db, "DELETE FROM vtpm_program_whitelists WHERE id = ?1 AND account = ?2",
                      a, 2, NULL, eb);
    return finish(state, db, e, eb);
}

/* Assign whitelist id (its name) to uuids, or unassign them (id < 0). */
static vouch_err sq_whitelist_assign(void *state, const char *account, int64_t id,
                                     const char *const *uuids, size_t n, int64_t now_ms,
                                     struct vouch_errbuf *eb)
{
    const struct arg wl[] = { INT(id), TXT(account) };
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    char *name = NULL;
    size_t i;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    if (id >= 0) {
        e = prepare_bind(db, "SELECT name FROM vtpm_program_whitelists WHERE id = ?1 "
                         "AND account = ?2", wl, 2, &st, eb);
        if (!e && sqlite3_step(st) != SQLITE_ROW)
            e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
        if (!e && !(name = col_dup(st, 0)))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        stmt_done(st);
    }
    for (i = 0; !e && i < n; i++) {
        const struct arg a[] = { TXT(uuids[i]), TXT(account), INT(id < 0 ? -1 : id),
                                 TXT(name ? name : ""), INT(now_ms) };
        int changes = 0;

        e = run_write(db, "UPDATE vtpm_instances SET program_whitelist_id = ?3, "
                      "program_whitelist_name = ?4, program_status = 4, "
                      "program_exceptions = 0, program_detail = '{}', modified_ms = ?5 "
                      "WHERE uuid = ?1 AND account = ?2", a, 5, &changes, eb);
        if (!e && changes == 0)
            e = vouch_fail_field(eb, VOUCH_E_CONFLICT, uuids[i],
                                 "no instance '%s' of this account", uuids[i]);
    }
    free(name);
    return finish(state, db, e, eb);
}

static vouch_err sq_instance_mark_unmeasured(void *state, int64_t stale_before_ms,
                                             uint64_t *ret_marked, struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(stale_before_ms) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "UPDATE vtpm_instances SET system_status = 3 WHERE "
                      "recent_report_ms > 0 AND recent_report_ms < ?1 AND "
                      "system_status IN (1, 2)", a, 1, &changes, eb);
    if (!e && ret_marked)
        *ret_marked = (uint64_t)changes;
    return e;
}

static vouch_err sq_report_prune(void *state, int64_t before_ms, size_t keep,
                                 uint64_t *ret_deleted, struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(before_ms), INT((int64_t)keep) };
    sqlite3 *db = NULL;
    int changes = 0;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = run_write(db, "DELETE FROM vtpm_reports WHERE seq < (SELECT max(r.seq) FROM "
                      "vtpm_reports r WHERE r.instance = vtpm_reports.instance) AND "
                      "(received_ms < ?1 OR seq <= (SELECT max(r.seq) FROM vtpm_reports r "
                      "WHERE r.instance = vtpm_reports.instance) - ?2)", a, 2, &changes, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes;
    return e;
}

/* --- attestation history ------------------------------------------------------ */

static vouch_err sq_attestation_add(void *state, const struct vouch_store_attestation *a,
                                    size_t n, uint64_t keep, struct vouch_errbuf *eb)
{
    const struct arg trim[] = { INT((int64_t)keep) };
    sqlite3 *db = NULL;
    size_t i;
    vouch_err e = begin(state, &db, eb);

    if (e)
        return e;
    for (i = 0; !e && i < n; i++) {
        const struct arg row[] = { INT(a[i].time_ms), TXT(a[i].tee), TXT(a[i].policy_ids),
                                   INT(a[i].allow), TXT(a[i].tcb_status),
                                   INT(a[i].http_status), TXT(a[i].error_code),
                                   TXT(a[i].request_id) };

        e = run_write(db, "INSERT INTO attestations (time_ms, tee, policy_ids, allow, "
                      "tcb_status, http_status, error_code, request_id) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", row, 8, NULL, eb);
    }
    /* ids only grow, so the newest `keep` rows are those above max(id) - keep */
    if (!e)
        e = run_write(db, "DELETE FROM attestations WHERE id <= "
                      "(SELECT max(id) FROM attestations) - ?1", trim, 1, NULL, eb);
    return finish(state, db, e, eb);
}

static vouch_err attestation_from_row(sqlite3_stmt *st, struct vouch_store_attestation *a,
                                      struct vouch_errbuf *eb)
{
    const unsigned char *tee = sqlite3_column_text(st, 2);
    const unsigned char *rid = sqlite3_column_text(st, 8);

    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    a->time_ms = sqlite3_column_int64(st, 1);
    snprintf(a->tee, sizeof(a->tee), "%s", tee ? (const char *)tee : "");
    a->policy_ids = col_dup(st, 3);
    a->allow = sqlite3_column_int64(st, 4);
    a->tcb_status = col_dup(st, 5);
    a->http_status = sqlite3_column_int64(st, 6);
    a->error_code = col_dup(st, 7);
    snprintf(a->request_id, sizeof(a->request_id), "%s", rid ? (const char *)rid : "");
    if (!a->policy_ids || !a->tcb_status || !a->error_code)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err sq_attestation_list(void *state, int64_t before, size_t limit,
                                     struct vouch_store_attestation **ret, size_t *ret_n,
                                     struct vouch_errbuf *eb)
{
    const struct arg a[] = { INT(before), INT((int64_t)limit) };
    struct vouch_store_attestation *v = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    size_t n = 0;
    int rc = SQLITE_DONE;
    vouch_err e = conn_get(state, &db, eb);

    if (!e)
        e = prepare_bind(db, "SELECT " VOUCH_STORE_ATTESTATION_COLS " FROM attestations "
                         "WHERE id < ?1 ORDER BY id DESC LIMIT ?2", a, 2, &st, eb);
    if (!e)
        v = calloc(limit, sizeof(*v));
    if (!e && !v)
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    while (!e && n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
        e = attestation_from_row(st, &v[n++], eb);
    if (!e && rc != SQLITE_ROW && rc != SQLITE_DONE)
        e = db_fail(db, eb, "attestations");
    if (!e) {
        *ret = v;
        *ret_n = n;
        v = NULL;
    }
    vouch_store_attestations_free(v, n);
    stmt_done(st);
    return e;
}

const struct vouch_store_ops vouch_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .keys_list = sq_keys_list,
    .key_activate = sq_key_activate,
    .secrets_replace = sq_secrets_replace,
    .doc_put = sq_doc_put,
    .doc_get = sq_doc_get,
    .doc_list = sq_doc_list,
    .doc_delete = sq_doc_delete,
    .accesskey_create = sq_accesskey_create,
    .accesskey_get = sq_accesskey_get,
    .accesskey_list = sq_accesskey_list,
    .accesskey_disable = sq_accesskey_disable,
    .instance_register = sq_instance_register,
    .instance_get = sq_instance_get,
    .instance_delete = sq_instance_delete,
    .instance_list = sq_instance_list,
    .nonce_issue = sq_nonce_issue,
    .nonce_take = sq_nonce_take,
    .request_nonce_use = sq_request_nonce_use,
    .request_nonces_save = sq_request_nonces_save,
    .request_nonces_each = sq_request_nonces_each,
    .request_nonces_purge = sq_request_nonces_purge,
    .ak_put = sq_ak_put,
    .ak_get = sq_ak_get,
    .vtpm_state_get = sq_vtpm_state_get,
    .report_accept = sq_report_accept,
    .report_last = sq_report_last,
    .report_count = sq_report_count,
    .report_list = sq_report_list,
    .instance_mark_unmeasured = sq_instance_mark_unmeasured,
    .report_prune = sq_report_prune,
    .event_list = sq_event_list,
    .events_handle = sq_events_handle,
    .contents_read = sq_contents_read,
    .contents_write = sq_contents_write,
    .count = sq_count,
    .lease_acquire = sq_lease_acquire,
    .lease_release = sq_lease_release,
    .instance_census = sq_instance_census,
    .attestation_add = sq_attestation_add,
    .attestation_list = sq_attestation_list,
    .audit_append = sq_audit_append,
    .audit_list = sq_audit_list,
    .audit_prune = sq_audit_prune,
    .event_get = sq_event_get,
    .whitelist_create = sq_whitelist_create,
    .whitelist_get = sq_whitelist_get,
    .whitelist_list = sq_whitelist_list,
    .whitelist_update = sq_whitelist_update,
    .whitelist_delete = sq_whitelist_delete,
    .whitelist_assign = sq_whitelist_assign,
};
