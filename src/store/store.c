/* SPDX-License-Identifier: Apache-2.0 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "common/time.h"
#include "store/audit.h"
#include "store/store-priv.h"

struct vouch_store {
    const struct vouch_store_ops *ops;
    void *state;
    vouch_store_observer observe;   /* or NULL */
};

void vouch_store_set_observer(struct vouch_store *s, vouch_store_observer fn)
{
    s->observe = fn;
}

/* An operation's outcome, passed on to the observer with its duration. */
static vouch_err observed(const struct vouch_store *s, const char *op, uint64_t t0, vouch_err e)
{
    if (s->observe)
        s->observe(op, vouch_clock_us() - t0, e);
    return e;
}

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
    /* 4: vTPM accounts, access keys, instances, report and request nonces */
    "CREATE TABLE vtpm_accounts ("
    "  name TEXT PRIMARY KEY,"
    "  created_ms BIGINT NOT NULL);"
    "CREATE TABLE vtpm_access_keys ("
    "  id TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL REFERENCES vtpm_accounts (name),"
    "  secret TEXT NOT NULL,"
    "  enabled BIGINT NOT NULL,"
    "  created_ms BIGINT NOT NULL);"
    "CREATE INDEX vtpm_access_keys_account ON vtpm_access_keys (account, id);"
    "CREATE TABLE vtpm_instances ("
    "  uuid TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL REFERENCES vtpm_accounts (name),"
    "  instance_id TEXT NOT NULL, instance_type TEXT NOT NULL, name TEXT NOT NULL,"
    "  private_ip TEXT NOT NULL, public_ip TEXT NOT NULL, extensions TEXT NOT NULL,"
    "  affiliation BIGINT NOT NULL,"
    "  system_status BIGINT NOT NULL, system_whitelist_id BIGINT NOT NULL,"
    "  system_exceptions BIGINT NOT NULL, system_detail TEXT NOT NULL,"
    "  program_status BIGINT NOT NULL, program_whitelist_id BIGINT NOT NULL,"
    "  program_exceptions BIGINT NOT NULL, program_detail TEXT NOT NULL,"
    "  program_whitelist_name TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL, modified_ms BIGINT NOT NULL,"
    "  recent_report_ms BIGINT NOT NULL);"
    "CREATE INDEX vtpm_instances_account ON vtpm_instances (account, uuid);"
    "CREATE TABLE vtpm_nonces ("
    "  nonce TEXT PRIMARY KEY,"
    "  uuid TEXT NOT NULL,"
    "  expires_ms BIGINT NOT NULL);"
    "CREATE INDEX vtpm_nonces_expiry ON vtpm_nonces (expires_ms);"
    "CREATE TABLE vtpm_request_nonces ("
    "  key_id TEXT NOT NULL,"
    "  nonce TEXT NOT NULL,"
    "  expires_ms BIGINT NOT NULL,"
    "  PRIMARY KEY (key_id, nonce));"
    "CREATE INDEX vtpm_request_nonces_expiry ON vtpm_request_nonces (expires_ms);",
    /* 5: vTPM attestation keys, IMA state, system whitelists, events, report history */
    "CREATE TABLE vtpm_aks ("
    "  uuid TEXT PRIMARY KEY REFERENCES vtpm_instances (uuid) ON DELETE CASCADE,"
    "  state BIGINT NOT NULL,"
    "  public_b64 TEXT NOT NULL,"
    "  cert_pem TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL);"
    "CREATE TABLE vtpm_ima_states ("
    "  uuid TEXT PRIMARY KEY REFERENCES vtpm_instances (uuid) ON DELETE CASCADE,"
    "  reports BIGINT NOT NULL,"
    "  ima_next BIGINT NOT NULL,"
    "  pcr10_sha1 TEXT NOT NULL,"
    "  pcr10_sha256 TEXT NOT NULL,"
    "  boot_aggregate TEXT NOT NULL,"
    "  reset_count BIGINT NOT NULL,"
    "  updated_ms BIGINT NOT NULL);"
    "CREATE TABLE vtpm_ids ("
    "  name TEXT PRIMARY KEY,"
    "  value BIGINT NOT NULL);"
    "INSERT INTO vtpm_ids (name, value) VALUES ('system_whitelist', 0);"
    "CREATE TABLE vtpm_system_whitelists ("
    "  id BIGINT PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE REFERENCES vtpm_instances (uuid) ON DELETE CASCADE,"
    "  pcrs TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  modified_ms BIGINT NOT NULL);"
    "CREATE TABLE vtpm_events ("
    "  uuid TEXT PRIMARY KEY,"
    "  instance TEXT NOT NULL REFERENCES vtpm_instances (uuid) ON DELETE CASCADE,"
    "  account TEXT NOT NULL,"
    "  type BIGINT NOT NULL, level BIGINT NOT NULL, status BIGINT NOT NULL,"
    "  handle_type BIGINT NOT NULL, accumulation BIGINT NOT NULL,"
    "  suspect TEXT NOT NULL, suspect_value TEXT NOT NULL, whitelist_value TEXT NOT NULL,"
    "  created_ms BIGINT NOT NULL, modified_ms BIGINT NOT NULL, handled_ms BIGINT NOT NULL);"
    "CREATE INDEX vtpm_events_account ON vtpm_events (account, created_ms);"
    "CREATE INDEX vtpm_events_instance ON vtpm_events (instance, status, type);"
    "CREATE TABLE vtpm_reports ("
    "  instance TEXT NOT NULL REFERENCES vtpm_instances (uuid) ON DELETE CASCADE,"
    "  seq BIGINT NOT NULL,"
    "  received_ms BIGINT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  PRIMARY KEY (instance, seq));",
    /* 6: vTPM program whitelists; ids come from a counter row of vtpm_ids, never reused */
    "INSERT INTO vtpm_ids (name, value) VALUES ('program_whitelist', 0);"
    "CREATE TABLE vtpm_program_whitelists ("
    "  id BIGINT PRIMARY KEY,"
    "  account TEXT NOT NULL REFERENCES vtpm_accounts (name),"
    "  name TEXT NOT NULL,"
    "  format TEXT NOT NULL,"
    "  digests BIGINT NOT NULL,"
    "  paths BIGINT NOT NULL,"
    "  created_ms BIGINT NOT NULL,"
    "  modified_ms BIGINT NOT NULL,"
    /* last: SQLite reads a row's columns in order, through the document's overflow pages */
    "  document TEXT NOT NULL,"
    "  UNIQUE (account, name));"
    "CREATE INDEX vtpm_program_whitelists_account ON vtpm_program_whitelists (account, id);"
    "CREATE INDEX vtpm_instances_program_whitelist ON vtpm_instances (program_whitelist_id);",
    /* 7: the bounded attestation history (one row per POST /v1/attestation); the
     * PostgreSQL backend reads INTEGER PRIMARY KEY AUTOINCREMENT as BIGSERIAL */
    "CREATE TABLE attestations ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time_ms BIGINT NOT NULL,"
    "  tee TEXT NOT NULL,"
    "  policy_ids TEXT NOT NULL,"
    "  allow BIGINT NOT NULL,"
    "  tcb_status TEXT NOT NULL,"
    "  http_status BIGINT NOT NULL,"
    "  error_code TEXT NOT NULL,"
    "  request_id TEXT NOT NULL);",
    /* 8: the audit log of administrative actions */
    "CREATE TABLE audit_log ("
    "  id TEXT PRIMARY KEY,"
    "  at_ms BIGINT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  status BIGINT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  request_id TEXT NOT NULL);"
    "CREATE INDEX audit_log_time ON audit_log (at_ms, id);",
    /* 9: the UEFI events that explain a report's differing PCRs, beside its summary
     * (last: reading a page of summaries does not walk them) */
    "ALTER TABLE vtpm_reports ADD COLUMN pcr_events TEXT NOT NULL DEFAULT '';",
    /* 10: the online-status sweep finds stale instances without scanning them all
     * (partial: only trusted and untrusted ones can be marked) */
    ("CREATE INDEX vtpm_instances_sweep ON vtpm_instances (recent_report_ms) "
     "WHERE system_status IN (1, 2);"),
    /* 11: SignatureNonce records as a replica alone on its store (SQLite) saves them:
     * appended, without a key, since the set in memory refuses a replay before its
     * record is queued.  A batch then writes a few pages at the table's end, where
     * vtpm_request_nonces' key put each record on a page of its own.  Replicas that
     * share a store (PostgreSQL) keep using vtpm_request_nonces. */
    "CREATE TABLE vtpm_request_nonce_log ("
    "  key_id TEXT NOT NULL,"
    "  nonce TEXT NOT NULL,"
    "  expires_ms BIGINT NOT NULL);"
    "CREATE INDEX vtpm_request_nonce_log_expiry ON vtpm_request_nonce_log (expires_ms);",
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
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "schema_version", t0, s->ops->schema_version(s->state, ret, eb));
}

vouch_err vouch_store_meta_get(struct vouch_store *s, const char *key, char **ret,
                               struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "meta_get", t0, s->ops->meta_get(s->state, key, ret, eb));
}

vouch_err vouch_store_meta_insert(struct vouch_store *s, const char *key, const char *value,
                                  struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "meta_set", t0, s->ops->meta_set(s->state, key, value, 0, eb));
}

vouch_err vouch_store_meta_put(struct vouch_store *s, const char *key, const char *value,
                               struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "meta_set", t0, s->ops->meta_set(s->state, key, value, 1, eb));
}

vouch_err vouch_store_keys_list(struct vouch_store *s, struct vouch_store_key **ret,
                                size_t *ret_n, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "keys_list", t0, s->ops->keys_list(s->state, ret, ret_n, eb));
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
    const uint64_t t0 = vouch_clock_us();
    if (!k->kid[0] || !k->alg[0] || !k->private_pem)
        return vouch_fail(eb, VOUCH_E_INVALID, "incomplete signing key");
    return observed(s, "key_activate", t0, s->ops->key_activate(s->state, k, replace, now, eb));
}

vouch_err vouch_store_secrets_replace(struct vouch_store *s,
                                      const struct vouch_store_secret_change *changes, size_t n,
                                      struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    size_t i;

    for (i = 0; i < n; i++)
        if (!changes[i].id || !changes[i].old_value || !changes[i].new_value)
            return vouch_fail(eb, VOUCH_E_INVALID, "incomplete secret change");
    return observed(s, "secrets_replace", t0, s->ops->secrets_replace(s->state, changes, n, eb));
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
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_key(kind, id, eb);

    if (e)
        return e;
    if (body_len > VOUCH_STORE_DOC_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "document larger than %u bytes",
                          VOUCH_STORE_DOC_MAX);
    return observed(s, "doc_put", t0,
                    s->ops->doc_put(s->state, kind, id, body, body_len, meta, expires_at, now, eb));
}

vouch_err vouch_store_doc_get(struct vouch_store *s, const char *kind, const char *id,
                              struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_key(kind, id, eb);

    return e ? e : observed(s, "doc_get", t0, s->ops->doc_get(s->state, kind, id, ret, eb));
}

vouch_err vouch_store_doc_list(struct vouch_store *s, const char *kind, const char *prefix,
                               int with_body, size_t limit, struct vouch_store_doc **ret,
                               size_t *ret_n, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "doc_list", t0,
                    s->ops->doc_list(s->state, kind, prefix ? prefix : "", with_body, limit, ret,
                                     ret_n,
                            eb));
}

vouch_err vouch_store_doc_delete(struct vouch_store *s, const char *kind, const char *id,
                                 struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_key(kind, id, eb);

    return e ? e : observed(s, "doc_delete", t0, s->ops->doc_delete(s->state, kind, id, eb));
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
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "contents_read", t0, s->ops->contents_read(s->state, ret, eb));
}

vouch_err vouch_store_contents_write(struct vouch_store *s, const struct vouch_store_contents *c,
                                     int force, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
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
    return observed(s, "contents_write", t0, s->ops->contents_write(s->state, c, force, eb));
}

vouch_err vouch_store_count(struct vouch_store *s, struct vouch_store_counts *ret,
                            struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "count", t0, s->ops->count(s->state, ret, eb));
}

const struct vouch_store_copy_table vouch_store_copy_tables[] = {
    { "vtpm_accounts", "name, created_ms", 2, "name", 0 },
    { "vtpm_access_keys", "id, account, secret, enabled, created_ms", 5, "id", 0 },
    { "vtpm_instances", VOUCH_STORE_INSTANCE_COLS, VOUCH_STORE_INSTANCE_NCOLS, "uuid", 0 },
    { "vtpm_nonces", "nonce, uuid, expires_ms", 3, "nonce", 0 },
    /* both tables' records, written to vtpm_request_nonces, which every backend
     * reads: the log is the SQLite writer's layout, not data of its own */
    { "vtpm_request_nonces", "key_id, nonce, expires_ms", 3, "key_id, nonce", 0, NULL,
      VOUCH_STORE_RNONCE_RECORDS " AS records" },
    { "vtpm_aks", "uuid, state, public_b64, cert_pem, created_ms", 5, "uuid", 0 },
    { "vtpm_ima_states", "uuid, reports, ima_next, pcr10_sha1, pcr10_sha256, boot_aggregate, "
                         "reset_count, updated_ms", 8, "uuid", 0 },
    { "vtpm_ids", "name, value", 2, "name", 1 },
    { "vtpm_system_whitelists", "id, uuid, pcrs, created_ms, modified_ms", 5, "id", 0 },
    { "vtpm_program_whitelists", "id, account, name, format, digests, paths, created_ms, "
                                 "modified_ms, document", 9, "id", 0 },
    { "vtpm_events", "uuid, instance, account, type, level, status, handle_type, accumulation, "
                     "suspect, suspect_value, whitelist_value, created_ms, modified_ms, "
                     "handled_ms", 14, "uuid", 0 },
    { "vtpm_reports", "instance, seq, received_ms, summary, pcr_events", 5, "instance, seq", 0 },
    { "audit_log", VOUCH_STORE_AUDIT_COLS, 8, "id", 0 },
    { "attestations", VOUCH_STORE_ATTESTATION_COLS, 9, "id", 0, "id" },
};
const size_t vouch_store_n_copy_tables =
    sizeof(vouch_store_copy_tables) / sizeof(vouch_store_copy_tables[0]);

void vouch_store_copy_select_sql(const struct vouch_store_copy_table *t, char *out, size_t size)
{
    snprintf(out, size, "SELECT %s FROM %s ORDER BY %s", t->cols, t->source ? t->source : t->name,
             t->order);
}

void vouch_store_copy_insert_sql(const struct vouch_store_copy_table *t, char mark, char *out,
                                 size_t size)
{
    size_t used, i;

    used = (size_t)snprintf(out, size, "INSERT INTO %s (%s) VALUES (", t->name, t->cols);
    for (i = 0; i < t->n_cols && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%c%zu", i ? ", " : "", mark, i + 1);
    if (used < size)
        snprintf(out + used, size - used, ")");
}

void vouch_store_copy_count_sql(char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "SELECT 0"), i;

    for (i = 0; i < vouch_store_n_copy_tables && used < size; i++)
        if (!vouch_store_copy_tables[i].seeded)
            used += (size_t)snprintf(out + used, size - used, " + (SELECT count(*) FROM %s)",
                                     vouch_store_copy_tables[i].name);
}

vouch_err vouch_store_copy_clear(int force, vouch_err (*exec)(void *conn, const char *sql,
                                                               struct vouch_errbuf *eb),
                                 void *conn, struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    vouch_err e = VOUCH_OK;
    size_t t;

    for (t = vouch_store_n_copy_tables; !e && t-- > 0;) {
        if (!force && !vouch_store_copy_tables[t].seeded)
            continue;
        snprintf(sql, sizeof(sql), "DELETE FROM %s", vouch_store_copy_tables[t].name);
        e = exec(conn, sql, eb);
    }
    /* The copied SignatureNonce records replace the log's too (VOUCH_STORE_RNONCE_RECORDS). */
    if (!e && force)
        e = exec(conn, "DELETE FROM vtpm_request_nonce_log", eb);
    return e;
}

vouch_err vouch_store_rows_push(struct vouch_store_rows *r, size_t *cap, size_t n_cols,
                                char ***ret_row, struct vouch_errbuf *eb)
{
    char **v;

    if (r->n_rows == *cap) {
        size_t want = *cap ? *cap * 2 : 64;

        if (want > SIZE_MAX / n_cols / sizeof(char *) ||
            !(v = realloc(r->values, want * n_cols * sizeof(char *))))
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        r->values = v;
        *cap = want;
    }
    v = r->values + r->n_rows++ * n_cols;
    memset(v, 0, n_cols * sizeof(char *));
    *ret_row = v;
    return VOUCH_OK;
}

static void tables_free(struct vouch_store_rows *tables)
{
    size_t t, i;

    if (!tables)
        return;
    for (t = 0; t < vouch_store_n_copy_tables; t++) {
        size_t n = tables[t].n_rows * vouch_store_copy_tables[t].n_cols;

        /* Access-key secrets and AK material pass through here: wipe them. */
        for (i = 0; i < n; i++) {
            if (tables[t].values[i]) {
                memset(tables[t].values[i], 0, strlen(tables[t].values[i]));
                free(tables[t].values[i]);
            }
        }
        free(tables[t].values);
    }
    free(tables);
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
    tables_free(c->tables);
    memset(c, 0, sizeof(*c));
}

vouch_err vouch_store_lease_acquire(struct vouch_store *s, const char *name, const char *holder,
                                    int64_t now_ms, int64_t ttl_ms, int *ret_held,
                                    struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    int64_t until;

    if (!name || !*name || strlen(name) > 64 || !holder || !*holder || strlen(holder) > 128)
        return vouch_fail(eb, VOUCH_E_INVALID, "lease name must be 1-64 characters and "
                          "holder 1-128");
    if (ttl_ms <= 0 || __builtin_add_overflow(now_ms, ttl_ms, &until))
        return vouch_fail(eb, VOUCH_E_INVALID, "lease duration out of range");
    return observed(s, "lease_acquire", t0,
                    s->ops->lease_acquire(s->state, name, holder, now_ms, ttl_ms, ret_held, eb));
}

vouch_err vouch_store_lease_release(struct vouch_store *s, const char *name, const char *holder,
                                    struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "lease_release", t0, s->ops->lease_release(s->state, name, holder, eb));
}

/* --- vTPM ------------------------------------------------------------------ */

vouch_err vouch_store_check_name(const char *what, const char *v, struct vouch_errbuf *eb)
{
    size_t i, n = v ? strlen(v) : 0;

    if (n == 0 || n > VOUCH_STORE_NAME_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "%s must be 1-%d characters", what,
                          VOUCH_STORE_NAME_MAX);
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
            return vouch_fail(eb, VOUCH_E_INVALID, "%s must be printable ASCII without spaces",
                              what);
    return VOUCH_OK;
}

static vouch_err check_name(const char *what, const char *v, struct vouch_errbuf *eb)
{
    return vouch_store_check_name(what, v, eb);
}

static vouch_err check_field(const char *what, const char *v, struct vouch_errbuf *eb)
{
    if (!v)
        return vouch_fail(eb, VOUCH_E_INVALID, "instance %s is missing", what);
    if (strlen(v) > VOUCH_STORE_FIELD_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "instance %s is longer than %d bytes", what,
                          VOUCH_STORE_FIELD_MAX);
    return VOUCH_OK;
}

vouch_err vouch_store_accesskey_create(struct vouch_store *s, const char *account,
                                       const char *id, const char *secret, int64_t now_ms,
                                       struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_name("access key id", id, eb);
    if (!e && (!secret || !*secret))
        e = vouch_fail(eb, VOUCH_E_INVALID, "access key secret is empty");
    return e ? e : observed(s, "accesskey_create", t0,
                            s->ops->accesskey_create(s->state, account, id, secret, now_ms, eb));
}

vouch_err vouch_store_accesskey_get(struct vouch_store *s, const char *id,
                                    struct vouch_store_accesskey **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("access key id", id, eb);

    return e ? e : observed(s, "accesskey_get", t0, s->ops->accesskey_get(s->state, id, ret, eb));
}

vouch_err vouch_store_accesskey_list(struct vouch_store *s, const char *account,
                                     struct vouch_store_accesskey **ret, size_t *ret_n,
                                     struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = account ? check_name("account", account, eb) : VOUCH_OK;

    return e ? e : observed(s, "accesskey_list", t0,
                            s->ops->accesskey_list(s->state, account, ret, ret_n, eb));
}

vouch_err vouch_store_accesskey_disable(struct vouch_store *s, const char *id,
                                        struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("access key id", id, eb);

    return e ? e : observed(s, "accesskey_disable", t0,
                            s->ops->accesskey_disable(s->state, id, eb));
}

void vouch_store_accesskeys_free(struct vouch_store_accesskey *k, size_t n)
{
    size_t i;

    if (!k)
        return;
    for (i = 0; i < n; i++)
        if (k[i].secret) {
            memset(k[i].secret, 0, strlen(k[i].secret));
            free(k[i].secret);
        }
    free(k);
}

static vouch_err check_instance(const struct vouch_store_instance *in, struct vouch_errbuf *eb)
{
    const struct {
        const char *what;
        const char *v;
    } fields[] = {
        { "InstanceId", in->instance_id }, { "InstanceType", in->instance_type },
        { "PropertyName", in->name }, { "PropertyPrivateIp", in->private_ip },
        { "PropertyPublicIp", in->public_ip }, { "Extensions", in->extensions },
        { "SystemTrustDetail", in->system_detail },
        { "ProgramTrustDetail", in->program_detail },
        { "ProgramWhiteListName", in->program_whitelist_name },
    };
    vouch_err e = check_name("PropertyUuid", in->uuid, eb);
    size_t i;

    if (!e)
        e = check_name("account", in->account, eb);
    for (i = 0; !e && i < sizeof(fields) / sizeof(fields[0]); i++)
        e = check_field(fields[i].what, fields[i].v, eb);
    return e;
}

vouch_err vouch_store_instance_register(struct vouch_store *s,
                                        const struct vouch_store_instance *in, int64_t now_ms,
                                        struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_instance(in, eb);

    return e ? e : observed(s, "instance_register", t0,
                            s->ops->instance_register(s->state, in, now_ms, eb));
}

vouch_err vouch_store_instance_get(struct vouch_store *s, const char *uuid,
                                   struct vouch_store_instance **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    return e ? e : observed(s, "instance_get", t0, s->ops->instance_get(s->state, uuid, ret, eb));
}

vouch_err vouch_store_instance_delete(struct vouch_store *s, const char *account,
                                      const char *uuid, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_name("PropertyUuid", uuid, eb);
    return e ? e : observed(s, "instance_delete", t0,
                            s->ops->instance_delete(s->state, account, uuid, eb));
}

vouch_err vouch_store_instance_list(struct vouch_store *s, const char *account,
                                    const struct vouch_store_instance_filter *f,
                                    uint64_t offset, size_t limit,
                                    struct vouch_store_instance **ret, size_t *ret_n,
                                    uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (e)
        return e;
    if (limit == 0 || limit > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page size must be 1-%d", VOUCH_STORE_LIST_MAX);
    if (offset > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page offset too large");
    return observed(s, "instance_list", t0,
                    s->ops->instance_list(s->state, account, f, offset, limit, ret, ret_n,
                                          ret_total,
                                 eb));
}

static void instance_done(struct vouch_store_instance *in)
{
    free(in->uuid);
    free(in->account);
    free(in->instance_id);
    free(in->instance_type);
    free(in->name);
    free(in->private_ip);
    free(in->public_ip);
    free(in->extensions);
    free(in->system_detail);
    free(in->program_detail);
    free(in->program_whitelist_name);
}

void vouch_store_instance_free(struct vouch_store_instance *in)
{
    if (!in)
        return;
    instance_done(in);
    free(in);
}

void vouch_store_instances_free(struct vouch_store_instance *in, size_t n)
{
    size_t i;

    if (!in)
        return;
    for (i = 0; i < n; i++)
        instance_done(&in[i]);
    free(in);
}

vouch_err vouch_store_nonce_issue(struct vouch_store *s, const char *nonce, const char *uuid,
                                  int64_t now_ms, int64_t expires_ms, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("nonce", nonce, eb);

    if (!e)
        e = check_name("PropertyUuid", uuid, eb);
    return e ? e : observed(s, "nonce_issue", t0,
                            s->ops->nonce_issue(s->state, nonce, uuid, now_ms, expires_ms, eb));
}

vouch_err vouch_store_nonce_take(struct vouch_store *s, const char *nonce, const char *uuid,
                                 int64_t now_ms, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("nonce", nonce, eb);

    if (!e)
        e = check_name("PropertyUuid", uuid, eb);
    return e ? e : observed(s, "nonce_take", t0,
                            s->ops->nonce_take(s->state, nonce, uuid, now_ms, eb));
}

vouch_err vouch_store_request_nonce_use(struct vouch_store *s, const char *key_id,
                                        const char *nonce, int64_t now_ms, int64_t expires_ms,
                                        struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("access key id", key_id, eb);

    if (!e)
        e = check_name("SignatureNonce", nonce, eb);
    return e ? e : observed(s, "request_nonce_use", t0,
                            s->ops->request_nonce_use(s->state, key_id, nonce, now_ms, expires_ms,
                                                      eb));
}

vouch_err vouch_store_request_nonces_save(struct vouch_store *s,
                                          const struct vouch_store_request_nonce *rows, size_t n,
                                          struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = VOUCH_OK;
    size_t i;

    for (i = 0; !e && i < n; i++) {
        e = check_name("access key id", rows[i].key_id, eb);
        if (!e)
            e = check_name("SignatureNonce", rows[i].nonce, eb);
    }
    if (e || n == 0)
        return e;
    return observed(s, "request_nonces_save", t0, s->ops->request_nonces_save(s->state, rows, n,
                                                                              eb));
}

vouch_err vouch_store_request_nonces_each(struct vouch_store *s, int64_t now_ms,
                                          bool (*fn)(void *ctx,
                                                     const struct vouch_store_request_nonce *r),
                                          void *ctx, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();

    return observed(s, "request_nonces_each", t0,
                    s->ops->request_nonces_each(s->state, now_ms, fn, ctx, eb));
}

vouch_err vouch_store_request_nonces_purge(struct vouch_store *s, int64_t now_ms,
                                           uint64_t *ret_deleted, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();

    return observed(s, "request_nonces_purge", t0,
                    s->ops->request_nonces_purge(s->state, now_ms, ret_deleted, eb));
}

/* --- attestation history ------------------------------------------------------ */

static vouch_err check_text(const char *what, const char *v, size_t max, struct vouch_errbuf *eb)
{
    if (!v)
        return vouch_fail(eb, VOUCH_E_INVALID, "attestation %s is missing", what);
    if (strlen(v) > max)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "attestation %s is longer than %zu bytes",
                          what, max);
    return VOUCH_OK;
}

static vouch_err check_attestation(const struct vouch_store_attestation *a,
                                   struct vouch_errbuf *eb)
{
    vouch_err e = check_text("policy_ids", a->policy_ids, VOUCH_STORE_ATTESTATION_TEXT_MAX, eb);

    if (!e)
        e = check_text("tcb_status", a->tcb_status, VOUCH_STORE_ATTESTATION_TEXT_MAX, eb);
    if (!e)
        e = check_text("error_code", a->error_code, VOUCH_STORE_ATTESTATION_TEXT_MAX, eb);
    if (!e && (memchr(a->tee, 0, sizeof(a->tee)) == NULL ||
               memchr(a->request_id, 0, sizeof(a->request_id)) == NULL))
        e = vouch_fail(eb, VOUCH_E_INVALID, "attestation tee or request id not terminated");
    return e;
}

vouch_err vouch_store_attestation_add(struct vouch_store *s,
                                      const struct vouch_store_attestation *a, size_t n,
                                      uint64_t keep, struct vouch_errbuf *eb)
{
    uint64_t t0;
    size_t i;
    vouch_err e;

    if (keep == 0 || keep > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "attestation history size must be 1-%lld",
                          (long long)INT64_MAX);
    if (n == 0 || n > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "1-%d attestation rows at a time",
                          VOUCH_STORE_LIST_MAX);
    for (i = 0; i < n; i++) {
        e = check_attestation(&a[i], eb);
        if (e)
            return e;
    }
    t0 = vouch_clock_us();
    return observed(s, "attestation_add", t0, s->ops->attestation_add(s->state, a, n, keep, eb));
}

vouch_err vouch_store_attestation_list(struct vouch_store *s, int64_t before, size_t limit,
                                       struct vouch_store_attestation **ret, size_t *ret_n,
                                       struct vouch_errbuf *eb)
{
    uint64_t t0;

    if (limit == 0 || limit > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page size must be 1-%d", VOUCH_STORE_LIST_MAX);
    t0 = vouch_clock_us();
    return observed(s, "attestation_list", t0,
                    s->ops->attestation_list(s->state, before > 0 ? before : INT64_MAX, limit,
                                             ret, ret_n, eb));
}

void vouch_store_attestations_free(struct vouch_store_attestation *a, size_t n)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < n; i++) {
        free(a[i].policy_ids);
        free(a[i].tcb_status);
        free(a[i].error_code);
    }
    free(a);
}

/* --- audit log --------------------------------------------------------------- */

#define AUDIT_TEXT_MAX VOUCH_AUDIT_TEXT_MAX

/* At most max bytes, none of them a control character? */
static bool text_clean(const char *v, size_t max)
{
    size_t i, n = strnlen(v, max + 1);

    if (n > max)
        return false;
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

static vouch_err check_audit(const struct vouch_store_audit *a, struct vouch_errbuf *eb)
{
    const struct {
        const char *what;
        const char *v;
        size_t max;
    } fields[] = {
        { "audit actor", a->actor, VOUCH_STORE_NAME_MAX + 16 },
        { "audit action", a->action, AUDIT_TEXT_MAX },
        { "audit target", a->target, AUDIT_TEXT_MAX },
        { "audit code", a->code, VOUCH_STORE_NAME_MAX },
        { "audit request id", a->request_id, VOUCH_STORE_NAME_MAX },
    };
    vouch_err e = check_name("audit id", a->id, eb);
    size_t i;

    for (i = 0; !e && i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!fields[i].v || !text_clean(fields[i].v, fields[i].max))
            e = vouch_fail(eb, VOUCH_E_INVALID, "%s must be at most %zu bytes without "
                           "control characters", fields[i].what, fields[i].max);
    if (!e && (!*a->actor || !*a->action))
        e = vouch_fail(eb, VOUCH_E_INVALID, "audit actor and action must not be empty");
    return e;
}

vouch_err vouch_store_audit_append(struct vouch_store *s, const struct vouch_store_audit *a,
                                   struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_audit(a, eb);

    return e ? e : observed(s, "audit_append", t0, s->ops->audit_append(s->state, a, eb));
}

vouch_err vouch_store_audit_list(struct vouch_store *s, const struct vouch_store_audit_filter *f,
                                 uint64_t offset, size_t limit, struct vouch_store_audit **ret,
                                 size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    if (limit == 0 || limit > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "limit must be 1-%d", VOUCH_STORE_LIST_MAX);
    if (offset > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "offset is too large");
    return observed(s, "audit_list", t0,
                    s->ops->audit_list(s->state, f, offset, limit, ret, ret_n, ret_total, eb));
}

vouch_err vouch_store_audit_prune(struct vouch_store *s, int64_t before_ms,
                                  uint64_t *ret_deleted, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "audit_prune", t0,
                    s->ops->audit_prune(s->state, before_ms, ret_deleted, eb));
}

void vouch_store_audits_free(struct vouch_store_audit *a, size_t n)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < n; i++) {
        free(a[i].actor);
        free(a[i].action);
        free(a[i].target);
        free(a[i].code);
        free(a[i].request_id);
    }
    free(a);
}

/* --- vTPM reports, whitelists, events (migration 5) ------------------------ */

vouch_err vouch_store_ak_put(struct vouch_store *s, const char *uuid, const char *public_b64,
                             const char *cert_pem, int64_t now_ms, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    if (!e && (!public_b64 || !*public_b64 || !cert_pem || !*cert_pem ||
               strlen(public_b64) > VOUCH_STORE_FIELD_MAX ||
               strlen(cert_pem) > 4 * VOUCH_STORE_FIELD_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "AK public key and certificate must be 1-%d bytes",
                       VOUCH_STORE_FIELD_MAX);
    return e ? e : observed(s, "ak_put", t0,
                            s->ops->ak_put(s->state, uuid, public_b64, cert_pem, now_ms, eb));
}

vouch_err vouch_store_ak_get(struct vouch_store *s, const char *uuid,
                             struct vouch_store_ak **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    return e ? e : observed(s, "ak_get", t0, s->ops->ak_get(s->state, uuid, ret, eb));
}

void vouch_store_ak_free(struct vouch_store_ak *ak)
{
    if (!ak)
        return;
    free(ak->public_b64);
    free(ak->cert_pem);
    free(ak);
}

static void state_fresh(struct vouch_store_vtpm_state *st)
{
    memset(st, 0, sizeof(*st));
    memset(st->pcr10_sha1, '0', 40);
    memset(st->pcr10_sha256, '0', 64);
    st->reset_count = -1;
    st->whitelist_id = -1;
}

vouch_err vouch_store_vtpm_state_get(struct vouch_store *s, const char *uuid,
                                     struct vouch_store_vtpm_state *ret,
                                     struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    struct vouch_store_vtpm_state st;
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    if (e)
        return e;
    state_fresh(&st);
    e = observed(s, "vtpm_state_get", t0, s->ops->vtpm_state_get(s->state, uuid, &st, eb));
    if (!e)
        *ret = st;
    return e;
}

/* Lower-case hex of exactly `len` digits. */
static bool is_hex(const char *v, size_t len)
{
    size_t i;

    if (!v || strlen(v) != len)
        return false;
    for (i = 0; i < len; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
    return true;
}

static vouch_err check_state(const struct vouch_store_vtpm_state *st, bool need_baseline,
                             struct vouch_errbuf *eb)
{
    size_t i;

    if (!is_hex(st->pcr10_sha1, 40) || !is_hex(st->pcr10_sha256, 64) || st->ima_next < 0 ||
        (st->boot_aggregate[0] && !is_hex(st->boot_aggregate, strlen(st->boot_aggregate))))
        return vouch_fail(eb, VOUCH_E_INVALID, "IMA state is malformed");
    for (i = 0; need_baseline && i < VOUCH_STORE_BASELINE_PCRS; i++)
        if (!is_hex(st->baseline[i], 64))
            return vouch_fail(eb, VOUCH_E_INVALID, "baseline pcr%zu is not 64 hex digits", i);
    return VOUCH_OK;
}

static vouch_err check_event_new(const struct vouch_store_event_new *ev,
                                 struct vouch_errbuf *eb)
{
    vouch_err e = check_name("EventUuid", ev->uuid, eb);

    if (!e && (!ev->suspect || !*ev->suspect || !ev->suspect_value || !ev->whitelist_value ||
               strlen(ev->suspect) > VOUCH_STORE_FIELD_MAX ||
               strlen(ev->suspect_value) > VOUCH_STORE_FIELD_MAX ||
               strlen(ev->whitelist_value) > VOUCH_STORE_FIELD_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "event fields must be at most %d bytes",
                       VOUCH_STORE_FIELD_MAX);
    return e;
}

vouch_err vouch_store_report_accept(struct vouch_store *s, const struct vouch_store_report *r,
                                    int64_t *ret_program_status, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", r->uuid, eb);
    size_t i;

    if (!e)
        e = check_name("nonce", r->nonce, eb);
    if (!e && (!r->next || r->expect_reports < 0 || r->keep == 0 || !r->summary ||
               strlen(r->summary) > VOUCH_STORE_DOC_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "incomplete report");
    if (!e && r->pcr_events && strlen(r->pcr_events) > VOUCH_STORE_PCR_EVENTS_MAX)
        e = vouch_fail(eb, VOUCH_E_INVALID, "the report's PCR events exceed %u bytes",
                       VOUCH_STORE_PCR_EVENTS_MAX);
    if (!e)
        e = check_state(r->next, r->create_baseline || r->next->whitelist_id >= 0, eb);
    for (i = 0; !e && i < r->n_events; i++)
        e = check_event_new(&r->events[i], eb);
    return e ? e : observed(s, "report_accept", t0,
                            s->ops->report_accept(s->state, r, ret_program_status, eb));
}

vouch_err vouch_store_report_last(struct vouch_store *s, const char *uuid, char **ret_summary,
                                  int64_t *ret_ms, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    return e ? e : observed(s, "report_last", t0,
                            s->ops->report_last(s->state, uuid, ret_summary, ret_ms, eb));
}

vouch_err vouch_store_instance_mark_unmeasured(struct vouch_store *s, int64_t stale_before_ms,
                                               uint64_t *ret_marked, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    return observed(s, "instance_mark_unmeasured", t0,
                    s->ops->instance_mark_unmeasured(s->state, stale_before_ms, ret_marked, eb));
}

vouch_err vouch_store_report_prune(struct vouch_store *s, int64_t before_ms, size_t keep,
                                   uint64_t *ret_deleted, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();

    if (keep == 0 || keep > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "keep must be at least 1");
    return observed(s, "report_prune", t0,
                    s->ops->report_prune(s->state, before_ms, keep, ret_deleted, eb));
}

vouch_err vouch_store_report_count(struct vouch_store *s, const char *uuid, uint64_t *ret,
                                   struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    return e ? e : observed(s, "report_count", t0, s->ops->report_count(s->state, uuid, ret, eb));
}

vouch_err vouch_store_report_list(struct vouch_store *s, const char *uuid, uint64_t offset,
                                  size_t limit, int with_events,
                                  struct vouch_store_report_row **ret, size_t *ret_n,
                                  uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("PropertyUuid", uuid, eb);

    if (!e && (limit == 0 || limit > VOUCH_STORE_LIST_MAX || offset > INT64_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "limit must be 1-%d", VOUCH_STORE_LIST_MAX);
    return e ? e : observed(s, "report_list", t0,
                            s->ops->report_list(s->state, uuid, offset, limit, with_events, ret,
                                                ret_n, ret_total, eb));
}

void vouch_store_report_rows_free(struct vouch_store_report_row *rows, size_t n)
{
    size_t i;

    for (i = 0; rows && i < n; i++) {
        free(rows[i].summary);
        free(rows[i].pcr_events);
    }
    free(rows);
}

vouch_err vouch_store_event_list(struct vouch_store *s, const char *account,
                                 const struct vouch_store_event_filter *f, uint64_t offset,
                                 size_t limit, struct vouch_store_event **ret, size_t *ret_n,
                                 uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    const struct vouch_store_event_filter any = VOUCH_STORE_EVENT_FILTER_ANY;
    vouch_err e = check_name("account", account, eb);

    if (e)
        return e;
    if (limit == 0 || limit > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page size must be 1-%d", VOUCH_STORE_LIST_MAX);
    if (offset > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page offset too large");
    return observed(s, "event_list", t0,
                    s->ops->event_list(s->state, account, f ? f : &any, offset, limit, ret, ret_n,
                              ret_total, eb));
}

void vouch_store_events_free(struct vouch_store_event *ev, size_t n)
{
    size_t i;

    if (!ev)
        return;
    for (i = 0; i < n; i++) {
        free(ev[i].uuid);
        free(ev[i].instance);
        free(ev[i].account);
        free(ev[i].suspect);
        free(ev[i].suspect_value);
        free(ev[i].whitelist_value);
    }
    free(ev);
}

vouch_err vouch_store_events_handle(struct vouch_store *s, const char *account,
                                    const char *const *uuids, size_t n, int64_t status,
                                    int64_t now_ms, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);
    size_t i;

    if (!e && status != VOUCH_STORE_EVENT_TRUSTED && status != VOUCH_STORE_EVENT_IGNORED)
        e = vouch_fail(eb, VOUCH_E_INVALID, "events are handled as trusted or ignored");
    if (!e && (n == 0 || n > VOUCH_STORE_LIST_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "1-%d events at a time", VOUCH_STORE_LIST_MAX);
    for (i = 0; !e && i < n; i++)
        e = check_name("EventUuid", uuids[i], eb);
    return e ? e : observed(s, "events_handle", t0,
                            s->ops->events_handle(s->state, account, uuids, n, status, now_ms, eb));
}

/* --- helpers the backends share -------------------------------------------- */

void vouch_store_baseline_format(const char b[][VOUCH_STORE_HEX256], char *out)
{
    size_t i;

    out[0] = '\0';
    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, b[i]);
    }
}

vouch_err vouch_store_baseline_parse(const char *text, char ret[][VOUCH_STORE_HEX256],
                                     struct vouch_errbuf *eb)
{
    size_t i;
    const char *p = text;

    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++) {
        if (strlen(p) < 64 || (p[64] != (i + 1 < VOUCH_STORE_BASELINE_PCRS ? ',' : '\0')))
            return vouch_fail(eb, VOUCH_E_STORE, "stored baseline is malformed");
        memcpy(ret[i], p, 64);
        ret[i][64] = '\0';
        p += 65;
    }
    return VOUCH_OK;
}

void vouch_store_baseline_detail(const char b[][VOUCH_STORE_HEX256], char *out)
{
    size_t i, n = 0;

    out[n++] = '{';
    for (i = 0; i < VOUCH_STORE_BASELINE_PCRS; i++)
        n += (size_t)sprintf(out + n, "%s\"pcr%zu\":\"%s\"", i ? "," : "", i, b[i]);
    out[n++] = '}';
    out[n] = '\0';
}

vouch_err vouch_store_instance_census(struct vouch_store *s, int64_t online_since_ms,
                                      struct vouch_store_census *ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    struct vouch_store_census c;
    vouch_err e;

    memset(&c, 0, sizeof(c));
    e = observed(s, "instance_census", t0,
                 s->ops->instance_census(s->state, online_since_ms, &c, eb));
    if (!e)
        *ret = c;
    return e;
}

/* --- vTPM program whitelists ----------------------------------------------- */

static vouch_err check_uuids(const char *const *uuids, size_t n, struct vouch_errbuf *eb)
{
    size_t i;
    vouch_err e = VOUCH_OK;

    if (n == 0 || n > VOUCH_STORE_ASSIGN_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "1-%d instances at a time",
                          VOUCH_STORE_ASSIGN_MAX);
    for (i = 0; !e && i < n; i++)
        e = check_name("PropertyUuid", uuids[i], eb);
    return e;
}

static vouch_err check_document(const char *doc, struct vouch_errbuf *eb)
{
    if (!doc || !*doc)
        return vouch_fail(eb, VOUCH_E_INVALID, "whitelist document is empty");
    if (strlen(doc) > VOUCH_STORE_WHITELIST_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "whitelist document is over %u bytes",
                          VOUCH_STORE_WHITELIST_MAX);
    return VOUCH_OK;
}

vouch_err vouch_store_whitelist_create(struct vouch_store *s, const struct vouch_store_whitelist *w,
                                       int64_t now_ms, int64_t *ret_id, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", w->account, eb);

    if (!e && (!w->name || !*w->name || strlen(w->name) > VOUCH_STORE_NAME_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "whitelist name must be 1-%d bytes",
                       VOUCH_STORE_NAME_MAX);
    if (!e && (!w->format || !*w->format || strlen(w->format) > VOUCH_STORE_WHITELIST_FORMAT_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "whitelist format must be 1-%d bytes",
                       VOUCH_STORE_WHITELIST_FORMAT_MAX);
    if (!e)
        e = check_document(w->document, eb);
    if (!e && (w->digests < 0 || w->paths < 0))
        e = vouch_fail(eb, VOUCH_E_INVALID, "negative whitelist counts");
    return e ? e : observed(s, "whitelist_create", t0,
                            s->ops->whitelist_create(s->state, w, now_ms, ret_id, eb));
}

vouch_err vouch_store_whitelist_get(struct vouch_store *s, int64_t id, unsigned what,
                                    struct vouch_store_whitelist **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    if (id < 0)
        return vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    return observed(s, "whitelist_get", t0, s->ops->whitelist_get(s->state, id, what, ret, eb));
}

vouch_err vouch_store_whitelist_list(struct vouch_store *s, const char *account, uint64_t offset,
                                     size_t limit, struct vouch_store_whitelist **ret,
                                     size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (e)
        return e;
    if (limit == 0 || limit > VOUCH_STORE_LIST_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page size must be 1-%d", VOUCH_STORE_LIST_MAX);
    if (offset > INT64_MAX)
        return vouch_fail(eb, VOUCH_E_INVALID, "page offset too large");
    return observed(s, "whitelist_list", t0,
                    s->ops->whitelist_list(s->state, account, offset, limit, ret, ret_n,
                                           ret_total, eb));
}

vouch_err vouch_store_whitelist_update(struct vouch_store *s, const char *account, int64_t id,
                                       const char *document, int64_t digests, int64_t paths,
                                       int64_t expect_modified_ms, int64_t now_ms,
                                       int64_t *ret_modified, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_document(document, eb);
    if (!e && (digests < 0 || paths < 0 || expect_modified_ms == INT64_MAX))
        e = vouch_fail(eb, VOUCH_E_INVALID, "whitelist counts or time out of range");
    return e ? e : observed(s, "whitelist_update", t0,
                            s->ops->whitelist_update(s->state, account, id, document, digests,
                                                     paths,
                                            expect_modified_ms, now_ms, ret_modified, eb));
}

vouch_err vouch_store_whitelist_delete(struct vouch_store *s, const char *account, int64_t id,
                                       struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    return e ? e : observed(s, "whitelist_delete", t0,
                            s->ops->whitelist_delete(s->state, account, id, eb));
}

vouch_err vouch_store_whitelist_assign(struct vouch_store *s, const char *account, int64_t id,
                                       const char *const *uuids, size_t n, int64_t now_ms,
                                       struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_uuids(uuids, n, eb);
    if (!e && id < 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    return e ? e : observed(s, "whitelist_assign", t0,
                            s->ops->whitelist_assign(s->state, account, id, uuids, n, now_ms, eb));
}

vouch_err vouch_store_whitelist_unassign(struct vouch_store *s, const char *account,
                                         const char *const *uuids, size_t n, int64_t now_ms,
                                         struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_uuids(uuids, n, eb);
    return e ? e : observed(s, "whitelist_assign", t0,
                            s->ops->whitelist_assign(s->state, account, -1, uuids, n, now_ms, eb));
}

static void whitelist_done(struct vouch_store_whitelist *w)
{
    free(w->account);
    free(w->name);
    free(w->format);
    free(w->document);
}

void vouch_store_whitelist_free(struct vouch_store_whitelist *w)
{
    if (!w)
        return;
    whitelist_done(w);
    free(w);
}

void vouch_store_whitelists_free(struct vouch_store_whitelist *w, size_t n)
{
    size_t i;

    if (!w)
        return;
    for (i = 0; i < n; i++)
        whitelist_done(&w[i]);
    free(w);
}

vouch_err vouch_store_event_get(struct vouch_store *s, const char *account, const char *uuid,
                                struct vouch_store_event **ret, struct vouch_errbuf *eb)
{
    const uint64_t t0 = vouch_clock_us();
    vouch_err e = check_name("account", account, eb);

    if (!e)
        e = check_name("EventUuid", uuid, eb);
    return e ? e : observed(s, "event_get", t0,
                            s->ops->event_get(s->state, account, uuid, ret, eb));
}
