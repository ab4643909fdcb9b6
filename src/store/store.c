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
 * SQL is the common subset of SQLite and PostgreSQL (TEXT, BIGINT).
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
        return vouch_fail(eb, VOUCH_E_UNSUPPORTED,
                          "the PostgreSQL store is not built in yet; use sqlite:PATH");
    } else {
        return vouch_fail(eb, VOUCH_E_INVALID, "unknown store URL '%s' (want sqlite:PATH)",
                          url);
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
