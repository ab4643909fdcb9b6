/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_STORE_PRIV_H
#define VOUCH_STORE_PRIV_H

#include "store/store.h"

/*
 * A backend is a table of functions over its own state (curl's vtls, Redis'
 * ConnectionType).  store.c dispatches to it; nothing above store/ sees it.
 */
struct vouch_store_ops {
    const char *name;
    /* Connect; with `migrate`, bring the schema up to date. */
    vouch_err (*open)(const char *location, int migrate, void **ret_state,
                      struct vouch_errbuf *eb);
    void (*close)(void *state);
    vouch_err (*schema_version)(void *state, int *ret, struct vouch_errbuf *eb);
    vouch_err (*meta_get)(void *state, const char *key, char **ret, struct vouch_errbuf *eb);
    vouch_err (*meta_set)(void *state, const char *key, const char *value, int replace,
                          struct vouch_errbuf *eb);
    vouch_err (*keys_list)(void *state, struct vouch_store_key **ret, size_t *ret_n,
                           struct vouch_errbuf *eb);
    vouch_err (*key_activate)(void *state, const struct vouch_store_key *k, int replace,
                              int64_t now, struct vouch_errbuf *eb);
    vouch_err (*secrets_replace)(void *state, const struct vouch_store_secret_change *changes,
                                 size_t n, struct vouch_errbuf *eb);
    vouch_err (*doc_put)(void *state, const char *kind, const char *id, const void *body,
                         size_t body_len, const char *meta, int64_t expires_at, int64_t now,
                         struct vouch_errbuf *eb);
    vouch_err (*doc_get)(void *state, const char *kind, const char *id,
                         struct vouch_store_doc **ret, struct vouch_errbuf *eb);
    vouch_err (*doc_list)(void *state, const char *kind, const char *prefix, int with_body,
                          size_t limit, struct vouch_store_doc **ret, size_t *ret_n,
                          struct vouch_errbuf *eb);
    vouch_err (*doc_delete)(void *state, const char *kind, const char *id,
                            struct vouch_errbuf *eb);
    /* whole-store copy and leases */
    vouch_err (*contents_read)(void *state, struct vouch_store_contents *ret,
                               struct vouch_errbuf *eb);
    vouch_err (*contents_write)(void *state, const struct vouch_store_contents *c, int force,
                                struct vouch_errbuf *eb);
    vouch_err (*count)(void *state, struct vouch_store_counts *ret, struct vouch_errbuf *eb);
    vouch_err (*lease_acquire)(void *state, const char *name, const char *holder, int64_t now_ms,
                               int64_t ttl_ms, int *ret_held, struct vouch_errbuf *eb);
    vouch_err (*lease_release)(void *state, const char *name, const char *holder,
                               struct vouch_errbuf *eb);
};

extern const struct vouch_store_ops vouch_store_sqlite_ops;
extern const struct vouch_store_ops vouch_store_pg_ops;

/* The schema migrations, shared by every SQL backend: version i+1 is sql[i]. */
extern const char *const vouch_store_migrations[];
extern const int vouch_store_n_migrations;

#endif
