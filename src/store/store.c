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
};
const int vouch_store_n_migrations =
    (int)(sizeof(vouch_store_migrations) / sizeof(vouch_store_migrations[0]));

int vouch_store_schema_latest(void)
{
    return vouch_store_n_migrations;
}

vouch_err vouch_store_open(const char *url, struct vouch_store **ret,
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
    e = ops->open(loc, &s->state, eb);
    if (e) {
        free(s);
        return e;
    }
    *ret = s;
    return VOUCH_OK;
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
