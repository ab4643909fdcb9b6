/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "store/store-priv.h"

struct vouch_store {
    const struct vouch_store_ops *ops;
    void *state;
};

/*
 * Schema history.  Append only: a released migration never changes.  The
 * SQL is the common subset of SQLite and PostgreSQL (TEXT, BIGINT); the one
 * difference, BLOB, the PostgreSQL backend reads as BYTEA.
 */
const char *const vouch_store_migrations[] = {
    /* 1: settings and token signing keys */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE signing_keys ("
    "  kid TEXT PRIMARY KEY,"
    "  alg TEXT NOT NULL,"
    "  private_pem TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  retired_at BIGINT);"
    "CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg)"
    "  WHERE retired_at IS NULL;",
    /* 2: documents (policies, reference values, collateral, RIMs) */
    "CREATE TABLE documents ("
    "  kind TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  body BLOB NOT NULL,"
    "  meta TEXT,"
    "  expires_at BIGINT NOT NULL DEFAULT 0,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (kind, id));",
    /* 3: leases of the jobs that run on one replica at a time */
    "CREATE TABLE leases ("
    "  name TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  expires_at BIGINT NOT NULL);",
};
const int vouch_store_n_migrations =
    (int)(sizeof(vouch_store_migrations) / sizeof(vouch_store_migrations[0]));

int vouch_store_schema_latest(void)
{
    return vouch_store_n_migrations;
}

static vouch_err store_open(const char *url, int migrate, struct vouch_store **ret,
                           struct vouch_errbuf *eb)
{
    const struct vouch_store_ops *ops;
    const char *loc;
    struct vouch_store *s;
    vouch_err e;

    if (strncmp(url, "sqlite:", 7) == 0) {
        ops = &vouch_store_sqlite_ops;
        loc = url + 7;
    } else if (strncmp(url, "postgres://", 11) == 0 ||
               strncmp(url, "postgresql://", 13) == 0) {
        ops = &vouch_store_pg_ops;
        loc = url;              /* libpq reads the whole URL */
    } else {
        return vouch_fail(eb, VOUCH_E_INVALID, "unknown store URL (want sqlite:PATH or "
                          "postgres://USER[:PASS]@HOST[:PORT]/DB)");
    }
    if (!*loc)
        return vouch_fail(eb, VOUCH_E_INVALID, "store URL '%s' has no path", url);
    s = calloc(1, sizeof(*s));
    if (!s)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    s->ops = ops;
    e = ops->open(loc, migrate, &s->state, eb);
    if (e) {
        free(s);
        return e;
    }
    *ret = s;
    return VOUCH_OK;
}

vouch_err vouch_store_open(const char *url, struct vouch_store **ret,
                           struct vouch_errbuf *eb)
{
    return store_open(url, 1, ret, eb);
}

vouch_err vouch_store_open_unmigrated(const char *url, struct vouch_store **ret,
                                      struct vouch_errbuf *eb)
{
    return store_open(url, 0, ret, eb);
}

void vouch_store_close(struct vouch_store *s)
{
    if (!s)
        return;
    s->ops->close(s->state);
    free(s);
}

const char *vouch_store_backend(const struct vouch_store *s)
{
    return s->ops->name;
}

vouch_err vouch_store_schema_version(struct vouch_store *s, int *ret, struct vouch_errbuf *eb)
{
    return s->ops->schema_version(s->state, ret, eb);
}

vouch_err vouch_store_meta_get(struct vouch_store *s, const char *key, char **ret,
                               struct vouch_errbuf *eb)
{
    return s->ops->meta_get(s->state, key, ret, eb);
}

vouch_err vouch_store_meta_insert(struct vouch_store *s, const char *key, const char *value,
                                  struct vouch_errbuf *eb)
{
    return s->ops->meta_set(s->state, key, value, 0, eb);
}

vouch_err vouch_store_meta_put(struct vouch_store *s, const char *key, const char *value,
                               struct vouch_errbuf *eb)
{
    return s->ops->meta_set(s->state, key, value, 1, eb);
}

vouch_err vouch_store_keys_list(struct vouch_store *s, struct vouch_store_key **ret,
                                size_t *ret_n, struct vouch_errbuf *eb)
{
    return s->ops->keys_list(s->state, ret, ret_n, eb);
}

void vouch_store_keys_free(struct vouch_store_key *keys, size_t n)
{
    size_t i;

    if (!keys)
        return;
    for (i = 0; i < n; i++) {
        if (keys[i].private_pem) {
            /* Private key material: wipe before freeing. */
            memset(keys[i].private_pem, 0, strlen(keys[i].private_pem));
            free(keys[i].private_pem);
        }
    }
    free(keys);
}

vouch_err vouch_store_key_activate(struct vouch_store *s, const struct vouch_store_key *k,
                                   int replace, int64_t now, struct vouch_errbuf *eb)
{
    if (!k->kid[0] || !k->alg[0] || !k->private_pem)
        return vouch_fail(eb, VOUCH_E_INVALID, "incomplete signing key");
    return s->ops->key_activate(s->state, k, replace, now, eb);
}

vouch_err vouch_store_secrets_replace(struct vouch_store *s,
                                      const struct vouch_store_secret_change *changes, size_t n,
                                      struct vouch_errbuf *eb)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!changes[i].id || !changes[i].old_value || !changes[i].new_value)
            return vouch_fail(eb, VOUCH_E_INVALID, "incomplete secret change");
    return s->ops->secrets_replace(s->state, changes, n, eb);
}

static vouch_err check_key(const char *kind, const char *id, struct vouch_errbuf *eb)
{
    if (!kind || !*kind || strlen(kind) > 32)
        return vouch_fail(eb, VOUCH_E_INVALID, "document kind must be 1-32 characters");
    if (!id || !*id || strlen(id) > 512)
        return vouch_fail(eb, VOUCH_E_INVALID, "document id must be 1-512 characters");
    return VOUCH_OK;
}

vouch_err vouch_store_doc_put(struct vouch_store *s, const char *kind, const char *id,
                              const void *body, size_t body_len, const char *meta,
                              int64_t expires_at, int64_t now, struct vouch_errbuf *eb)
{
    vouch_err e = check_key(kind, id, eb);

    if (e)
        return e;
    if (body_len > VOUCH_STORE_DOC_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "document larger than %u bytes",
                          VOUCH_STORE_DOC_MAX);
    return s->ops->doc_put(s->state, kind, id, body, body_len, meta, expires_at, now, eb);
}

vouch_err vouch_store_doc_get(struct vouch_store *s, const char *kind, const char *id,
                              struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    vouch_err e = check_key(kind, id, eb);

    return e ? e : s->ops->doc_get(s->state, kind, id, ret, eb);
}

vouch_err vouch_store_doc_list(struct vouch_store *s, const char *kind, const char *prefix,
                               int with_body, size_t limit, struct vouch_store_doc **ret,
                               size_t *ret_n, struct vouch_errbuf *eb)
{
    return s->ops->doc_list(s->state, kind, prefix ? prefix : "", with_body, limit, ret, ret_n,
                            eb);
}

vouch_err vouch_store_doc_delete(struct vouch_store *s, const char *kind, const char *id,
                                 struct vouch_errbuf *eb)
{
    vouch_err e = check_key(kind, id, eb);

    return e ? e : s->ops->doc_delete(s->state, kind, id, eb);
}

static void doc_done(struct vouch_store_doc *d)
{
    free(d->kind);
    free(d->id);
    free(d->body);
    free(d->meta);
}

void vouch_store_doc_free(struct vouch_store_doc *d)
{
    if (!d)
        return;
    doc_done(d);
    free(d);
}

void vouch_store_docs_free(struct vouch_store_doc *docs, size_t n)
{
    size_t i;

    if (!docs)
        return;
    for (i = 0; i < n; i++)
        doc_done(&docs[i]);
    free(docs);
}

/* --- whole-store copy and leases --------------------------------------- */

vouch_err vouch_store_contents_read(struct vouch_store *s, struct vouch_store_contents *ret,
                                    struct vouch_errbuf *eb)
{
    return s->ops->contents_read(s->state, ret, eb);
}

vouch_err vouch_store_contents_write(struct vouch_store *s, const struct vouch_store_contents *c,
                                     int force, struct vouch_errbuf *eb)
{
    size_t i;
    vouch_err e;

    for (i = 0; i < c->n_meta; i++)
        if (!c->meta[i].key || !c->meta[i].value)
            return vouch_fail(eb, VOUCH_E_INVALID, "incomplete setting");
    for (i = 0; i < c->n_keys; i++)
        if (!c->keys[i].kid[0] || !c->keys[i].alg[0] || !c->keys[i].private_pem)
            return vouch_fail(eb, VOUCH_E_INVALID, "incomplete signing key");
    for (i = 0; i < c->n_docs; i++) {
        e = check_key(c->docs[i].kind, c->docs[i].id, eb);
        if (e)
            return e;
        if (!c->docs[i].body || c->docs[i].body_len > VOUCH_STORE_DOC_MAX)
            return vouch_fail(eb, VOUCH_E_INVALID, "document %s/%s has no body or is over "
                              "%u bytes", c->docs[i].kind, c->docs[i].id, VOUCH_STORE_DOC_MAX);
    }
    return s->ops->contents_write(s->state, c, force, eb);
}

vouch_err vouch_store_count(struct vouch_store *s, struct vouch_store_counts *ret,
                            struct vouch_errbuf *eb)
{
    return s->ops->count(s->state, ret, eb);
}

void vouch_store_contents_done(struct vouch_store_contents *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n_meta; i++) {
        free(c->meta[i].key);
        if (c->meta[i].value) {
            /* Settings include secrets (the challenge secret): wipe them. */
            memset(c->meta[i].value, 0, strlen(c->meta[i].value));
            free(c->meta[i].value);
        }
    }
    free(c->meta);
    vouch_store_keys_free(c->keys, c->n_keys);
    vouch_store_docs_free(c->docs, c->n_docs);
    memset(c, 0, sizeof(*c));
}

vouch_err vouch_store_lease_acquire(struct vouch_store *s, const char *name, const char *holder,
                                    int64_t now_ms, int64_t ttl_ms, int *ret_held,
                                    struct vouch_errbuf *eb)
{
    int64_t until;

    if (!name || !*name || strlen(name) > 64 || !holder || !*holder || strlen(holder) > 128)
        return vouch_fail(eb, VOUCH_E_INVALID, "lease name must be 1-64 characters and "
                          "holder 1-128");
    if (ttl_ms <= 0 || __builtin_add_overflow(now_ms, ttl_ms, &until))
        return vouch_fail(eb, VOUCH_E_INVALID, "lease duration out of range");
    return s->ops->lease_acquire(s->state, name, holder, now_ms, ttl_ms, ret_held, eb);
}

vouch_err vouch_store_lease_release(struct vouch_store *s, const char *name, const char *holder,
                                    struct vouch_errbuf *eb)
{
    return s->ops->lease_release(s->state, name, holder, eb);
}
