/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_STORE_H
#define VOUCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch/err.h"

/*
 * The store: everything replicas share (signing keys, policies, reference
 * values, collateral, vTPM state).  Callers see only this interface; the
 * backend is chosen by the URL ("sqlite:PATH" or "postgres://USER[:PASS]@HOST[:PORT]/DB")
 * and hides its own types and connections.
 *
 * A store handle is safe to use from any number of threads at once: each
 * thread gets its own connection on first use.  Every write that returns
 * VOUCH_OK is durable (SQLite: WAL with synchronous=FULL; PostgreSQL:
 * committed before the call returns).
 */
struct vouch_store;

/*
 * Open the store at `url` and bring its schema up to date (migrations are
 * applied in order, each in its own transaction, recorded in a version
 * table).  The directory of a SQLite file is created if missing.
 */
vouch_err vouch_store_open(const char *url, struct vouch_store **ret,
                           struct vouch_errbuf *eb);

/*
 * Open without applying migrations (vouch db status): the schema version
 * reads 0 on a database never migrated.
 */
vouch_err vouch_store_open_unmigrated(const char *url, struct vouch_store **ret,
                                      struct vouch_errbuf *eb);

/* Close every connection.  Accepts NULL.  No other thread may be using it. */
void vouch_store_close(struct vouch_store *s);

/* The schema version after migrations, and the newest this build knows. */
vouch_err vouch_store_schema_version(struct vouch_store *s, int *ret, struct vouch_errbuf *eb);
int vouch_store_schema_latest(void);

/* Backend name: "sqlite" or "postgres". */
const char *vouch_store_backend(const struct vouch_store *s);

/* --- small settings (admin token hash, instance id, ...) --------------- */

/* *ret is allocated (free()). VOUCH_E_NOT_FOUND when absent. */
vouch_err vouch_store_meta_get(struct vouch_store *s, const char *key, char **ret,
                               struct vouch_errbuf *eb);
/* Insert; VOUCH_E_CONFLICT when the key already exists (the value is kept). */
vouch_err vouch_store_meta_insert(struct vouch_store *s, const char *key, const char *value,
                                  struct vouch_errbuf *eb);
/* Insert or replace. */
vouch_err vouch_store_meta_put(struct vouch_store *s, const char *key, const char *value,
                               struct vouch_errbuf *eb);

/* --- token signing keys -------------------------------------------------- */

struct vouch_store_key {
    char kid[64];          /* RFC 7638 thumbprint */
    char alg[16];          /* "RS256", "ES256" */
    char *private_pem;     /* PKCS#8 PEM */
    int64_t created_at;
    int64_t retired_at;    /* 0 while the key is the active one for its alg */
};

/* All keys, newest first.  Free with vouch_store_keys_free(). */
vouch_err vouch_store_keys_list(struct vouch_store *s, struct vouch_store_key **ret,
                                size_t *ret_n, struct vouch_errbuf *eb);
void vouch_store_keys_free(struct vouch_store_key *keys, size_t n);

/*
 * Add `k` as the active key of its algorithm.  With `replace`, the current
 * active key of that algorithm (if any) is retired at `now` in the same
 * transaction (rotation).  Without it, the insert only happens when no
 * active key exists, and VOUCH_E_CONFLICT is returned otherwise, so two
 * replicas starting at once end up with one key.
 */
vouch_err vouch_store_key_activate(struct vouch_store *s, const struct vouch_store_key *k,
                                   int replace, int64_t now, struct vouch_errbuf *eb);

/* --- stored secrets -------------------------------------------------------
 *
 * Secrets live in their own rows (a signing key's private_pem, a setting's
 * value).  Re-wrapping them under another key-encryption key replaces them
 * all at once.
 */
enum vouch_store_secret_row {
    VOUCH_STORE_SECRET_SIGNING_KEY,   /* id: kid; value: private_pem */
    VOUCH_STORE_SECRET_META,          /* id: setting key; value: its value */
    VOUCH_STORE_SECRET_ACCESS_KEY,    /* id: AccessKeyId; value: its secret */
};

struct vouch_store_secret_change {
    enum vouch_store_secret_row row;
    const char *id;
    const char *old_value;   /* the value read before (compare-and-swap) */
    const char *new_value;
};

/*
 * Apply every change in one transaction.  When any row no longer holds its
 * old_value (another process changed it meanwhile), nothing is changed and
 * VOUCH_E_CONFLICT is returned.
 */
vouch_err vouch_store_secrets_replace(struct vouch_store *s,
                                      const struct vouch_store_secret_change *changes, size_t n,
                                      struct vouch_errbuf *eb);

/* --- documents ------------------------------------------------------------
 *
 * Everything else the service keeps is a document: a body (bytes, stored
 * as given) under (kind, id), with optional metadata JSON text, an expiry
 * and the time it was last written.  Kinds in use: "policy",
 * "refval" (reference values), "collateral", "rim".
 */
struct vouch_store_doc {
    char *kind;
    char *id;
    uint8_t *body;         /* NUL-terminated for convenience; body_len excludes it */
    size_t body_len;
    char *meta;            /* JSON text or NULL */
    int64_t expires_at;    /* 0: never */
    int64_t updated_at;
};

/* Cap on one document body. */
#define VOUCH_STORE_DOC_MAX (16u << 20)

/* Insert or replace a document.  meta may be NULL. */
vouch_err vouch_store_doc_put(struct vouch_store *s, const char *kind, const char *id,
                              const void *body, size_t body_len, const char *meta,
                              int64_t expires_at, int64_t now, struct vouch_errbuf *eb);

/* Fetch one; VOUCH_E_NOT_FOUND when absent.  Free with vouch_store_doc_free(). */
vouch_err vouch_store_doc_get(struct vouch_store *s, const char *kind, const char *id,
                              struct vouch_store_doc **ret, struct vouch_errbuf *eb);

/*
 * All documents of a kind whose id starts with `prefix` (may be ""),
 * ordered by id, at most `limit`.  With `with_body` false the bodies are
 * left NULL.  Free with vouch_store_docs_free().
 */
vouch_err vouch_store_doc_list(struct vouch_store *s, const char *kind, const char *prefix,
                               int with_body, size_t limit, struct vouch_store_doc **ret,
                               size_t *ret_n, struct vouch_errbuf *eb);

/* Delete one; VOUCH_E_NOT_FOUND when absent. */
vouch_err vouch_store_doc_delete(struct vouch_store *s, const char *kind, const char *id,
                                 struct vouch_errbuf *eb);

void vouch_store_doc_free(struct vouch_store_doc *d);
void vouch_store_docs_free(struct vouch_store_doc *docs, size_t n);

/* --- whole-store copy (vouch db copy) -------------------------------------
 *
 * Every row of the settings, signing-key and document tables, and of the
 * vTPM and audit tables (vouch_store_copy_tables), as stored (secrets
 * wrapped or not, exactly as they are).  Leases are not part of it: they
 * belong to the running replicas of one database.
 */

/* A table copied row by row, each value as text (NULL: SQL NULL). */
struct vouch_store_copy_table {
    const char *name;
    const char *cols;          /* "a, b, c" */
    size_t n_cols;
    const char *order;         /* the ORDER BY of a read */
    int seeded;                /* a migration inserts its rows: replaced, not counted */
    const char *serial;        /* a column the database numbers (its counter follows), or NULL */
    const char *source;        /* what a read selects from, when not the table alone, or NULL */
};

/* In foreign-key order: a table's referents come before it.  A migration that adds a
 * table of state (not leases) adds it here, or vouch db copy leaves it behind. */
extern const struct vouch_store_copy_table vouch_store_copy_tables[];
extern const size_t vouch_store_n_copy_tables;

struct vouch_store_rows {
    size_t n_rows;
    char **values;             /* n_rows x the table's n_cols */
};
struct vouch_store_setting {
    char *key;
    char *value;
};

struct vouch_store_contents {
    struct vouch_store_setting *meta;
    size_t n_meta;
    struct vouch_store_key *keys;
    size_t n_keys;
    struct vouch_store_doc *docs;   /* with bodies */
    size_t n_docs;
    struct vouch_store_rows *tables;  /* one per vouch_store_copy_tables entry, or NULL */
};

struct vouch_store_counts {
    size_t meta, keys, docs;
    size_t vtpm;      /* vTPM accounts, access keys and instances together */
    size_t rows;      /* rows of vouch_store_copy_tables but the seeded ones */
};

/* Read everything, in one read transaction.  Free with vouch_store_contents_done(). */
vouch_err vouch_store_contents_read(struct vouch_store *s, struct vouch_store_contents *ret,
                                    struct vouch_errbuf *eb);

/*
 * Write `c` into `s` in one transaction.  Without `force`, a store that
 * already holds any setting, key or document is refused with
 * VOUCH_E_CONFLICT; with it, those rows are deleted first (in the same
 * transaction).
 */
vouch_err vouch_store_contents_write(struct vouch_store *s, const struct vouch_store_contents *c,
                                     int force, struct vouch_errbuf *eb);

/* Row counts of the three tables, and of the copied vTPM and audit tables. */
vouch_err vouch_store_count(struct vouch_store *s, struct vouch_store_counts *ret,
                            struct vouch_errbuf *eb);

/* Frees what vouch_store_contents_read() filled (wiping key material).  Accepts NULL. */
void vouch_store_contents_done(struct vouch_store_contents *c);

/* --- leases: jobs that run on one replica at a time -----------------------
 *
 * A lease is a row (name, holder, expires_at in ms).  `holder` takes or
 * renews lease `name` until now_ms + ttl_ms when it is free, expired, or
 * already its own; *ret_held says whether it holds it now.  The times come
 * from the callers' clocks, so replicas need clocks in step (NTP): their
 * skew adds to the take-over bound.
 */
vouch_err vouch_store_lease_acquire(struct vouch_store *s, const char *name, const char *holder,
                                    int64_t now_ms, int64_t ttl_ms, int *ret_held,
                                    struct vouch_errbuf *eb);

/* Give the lease up if `holder` has it (a clean stop), so another can take it at once. */
vouch_err vouch_store_lease_release(struct vouch_store *s, const char *name, const char *holder,
                                    struct vouch_errbuf *eb);

/* --- vTPM: accounts, access keys, instances, nonces ------------------------
 *
 * Times here are epoch milliseconds.  An account owns access keys and
 * instances; every lookup that serves an account takes its name, so one
 * account's rows never answer another's request.
 */

#define VOUCH_STORE_NAME_MAX 128     /* account names, key ids, uuids, nonces */
#define VOUCH_STORE_FIELD_MAX 4096   /* an instance's text fields */

/* VOUCH_E_INVALID unless `v` is 1-VOUCH_STORE_NAME_MAX printable ASCII without spaces. */
vouch_err vouch_store_check_name(const char *what, const char *v, struct vouch_errbuf *eb);

struct vouch_store_accesskey {
    char id[VOUCH_STORE_NAME_MAX + 1];        /* AccessKeyId */
    char account[VOUCH_STORE_NAME_MAX + 1];
    char *secret;          /* stored form (KEK-wrapped when configured); NULL in lists */
    int enabled;
    int64_t created_ms;
};

/*
 * Add an access key to `account`, creating the account when it is new,
 * in one transaction.  `secret` is the stored form.  VOUCH_E_CONFLICT
 * when the id exists.
 */
vouch_err vouch_store_accesskey_create(struct vouch_store *s, const char *account,
                                       const char *id, const char *secret, int64_t now_ms,
                                       struct vouch_errbuf *eb);
/* One key with its stored secret; VOUCH_E_NOT_FOUND when absent.
 * Free with vouch_store_accesskeys_free(k, 1). */
vouch_err vouch_store_accesskey_get(struct vouch_store *s, const char *id,
                                    struct vouch_store_accesskey **ret, struct vouch_errbuf *eb);
/* Every key (of `account`, or of all when NULL), without secrets, by account and id. */
vouch_err vouch_store_accesskey_list(struct vouch_store *s, const char *account,
                                     struct vouch_store_accesskey **ret, size_t *ret_n,
                                     struct vouch_errbuf *eb);
/* Disable a key for good; VOUCH_E_NOT_FOUND when absent. */
vouch_err vouch_store_accesskey_disable(struct vouch_store *s, const char *id,
                                        struct vouch_errbuf *eb);
void vouch_store_accesskeys_free(struct vouch_store_accesskey *k, size_t n);

/* An instance: its identity (RegisterMessage) and its verdict. */
struct vouch_store_instance {
    char *uuid;            /* PropertyUuid */
    char *account;
    char *instance_id, *instance_type, *name, *private_ip, *public_ip, *extensions;
    int64_t affiliation;
    int64_t system_status, system_whitelist_id, system_exceptions;
    char *system_detail;   /* JSON text */
    int64_t program_status, program_whitelist_id, program_exceptions;
    char *program_detail;  /* JSON text */
    char *program_whitelist_name;
    int64_t created_ms, modified_ms, recent_report_ms;   /* recent: 0 = never */
};

/*
 * Register: insert `in` (every field; created_ms and modified_ms are
 * now_ms), or, when in->uuid exists under the same account, replace its
 * identity fields (instance_id .. extensions, affiliation) and set
 * modified_ms = now_ms, keeping its verdict.
 * VOUCH_E_CONFLICT when the uuid belongs to another account.
 */
vouch_err vouch_store_instance_register(struct vouch_store *s,
                                        const struct vouch_store_instance *in, int64_t now_ms,
                                        struct vouch_errbuf *eb);
/* VOUCH_E_NOT_FOUND when absent.  Free with vouch_store_instance_free(). */
vouch_err vouch_store_instance_get(struct vouch_store *s, const char *uuid,
                                   struct vouch_store_instance **ret, struct vouch_errbuf *eb);
/* Delete `uuid` of `account` with its nonces; VOUCH_E_NOT_FOUND when it
 * is absent or another account's. */
vouch_err vouch_store_instance_delete(struct vouch_store *s, const char *account,
                                      const char *uuid, struct vouch_errbuf *eb);

/* List filters: -1 matches any value. */
struct vouch_store_instance_filter {
    int64_t system_status;  /* -2: 1, 2 or 3 (a verdict exists; 3: swept offline) */
    int64_t program_status;
    int online;             /* 1: recent_report_ms >= online_since_ms; 0: before it */
    int64_t online_since_ms;
};

#define VOUCH_STORE_INSTANCE_FILTER_ANY { -1, -1, -1, 0 }
#define VOUCH_STORE_LIST_MAX 1000

/*
 * One page of `account`'s instances matching `f`, ordered by uuid:
 * rows offset .. offset+limit-1 (limit <= VOUCH_STORE_LIST_MAX), and the
 * number of matching rows in *ret_total.
 */
vouch_err vouch_store_instance_list(struct vouch_store *s, const char *account,
                                    const struct vouch_store_instance_filter *f,
                                    uint64_t offset, size_t limit,
                                    struct vouch_store_instance **ret, size_t *ret_n,
                                    uint64_t *ret_total, struct vouch_errbuf *eb);
/*
 * Instances of every account by stored system status (1..4; anything else
 * in slot 0) and by whether a report came at or after online_since_ms
 * ([status][1]) or not ([status][0]): what /metrics reports.
 */
struct vouch_store_census {
    uint64_t n[5][2];
};
vouch_err vouch_store_instance_census(struct vouch_store *s, int64_t online_since_ms,
                                      struct vouch_store_census *ret, struct vouch_errbuf *eb);

void vouch_store_instance_free(struct vouch_store_instance *in);
void vouch_store_instances_free(struct vouch_store_instance *in, size_t n);

/*
 * Report nonces (GenerateNonce): `nonce` is issued to instance `uuid`
 * until expires_ms; issuing also drops every nonce expired at now_ms.
 * take() consumes it: VOUCH_OK once, VOUCH_E_NOT_FOUND when it is
 * unknown, used, expired or another instance's.
 */
vouch_err vouch_store_nonce_issue(struct vouch_store *s, const char *nonce, const char *uuid,
                                  int64_t now_ms, int64_t expires_ms, struct vouch_errbuf *eb);
vouch_err vouch_store_nonce_take(struct vouch_store *s, const char *nonce, const char *uuid,
                                 int64_t now_ms, struct vouch_errbuf *eb);

/*
 * Request replay records (SignatureNonce).  The server keeps them in
 * memory (src/server/replay.c); the table is their durable and shared copy.
 * use(): record (key_id, nonce) until expires_ms in one statement;
 * VOUCH_E_CONFLICT when the pair is recorded and still live at now_ms (a
 * replay); an expired record of the pair is replaced.  Nothing is deleted.
 * save(): record a batch in one transaction (a pair already recorded keeps
 * the later expiry).  each(): call `fn` for every record live at now_ms
 * (false from fn stops, VOUCH_E_LIMIT).  purge(): delete the records
 * expired at now_ms (the vTPM retention job).
 */
struct vouch_store_request_nonce {
    const char *key_id;
    const char *nonce;
    int64_t expires_ms;
};

vouch_err vouch_store_request_nonce_use(struct vouch_store *s, const char *key_id,
                                        const char *nonce, int64_t now_ms, int64_t expires_ms,
                                        struct vouch_errbuf *eb);
vouch_err vouch_store_request_nonces_save(struct vouch_store *s,
                                          const struct vouch_store_request_nonce *rows, size_t n,
                                          struct vouch_errbuf *eb);
vouch_err vouch_store_request_nonces_each(struct vouch_store *s, int64_t now_ms,
                                          bool (*fn)(void *ctx,
                                                     const struct vouch_store_request_nonce *r),
                                          void *ctx, struct vouch_errbuf *eb);
vouch_err vouch_store_request_nonces_purge(struct vouch_store *s, int64_t now_ms,
                                           uint64_t *ret_deleted, struct vouch_errbuf *eb);

/*
 * Timing of every store operation (Prometheus store latency): `fn` is
 * called after each one with its name ("doc_get", ...), its duration and
 * outcome.  Set once, before the store is shared between threads.
 */
typedef void (*vouch_store_observer)(const char *op, uint64_t us, vouch_err e);
void vouch_store_set_observer(struct vouch_store *s, vouch_store_observer fn);


/* --- attestation history ---------------------------------------------------
 *
 * One row per POST /v1/attestation, kept for operators (the console's
 * Attestations page, GET /admin/attestations): what was asked and what was
 * answered, never the evidence or the token.  Rows are numbered in the
 * order they are added (ids only grow); the newest `keep` are kept.
 */

#define VOUCH_STORE_ATTESTATION_TEXT_MAX 1024   /* policy_ids, tcb_status, error_code */

struct vouch_store_attestation {
    int64_t id;            /* set by the store; ignored by add */
    int64_t time_ms;       /* epoch milliseconds */
    char tee[33];          /* the request's first tee ("" when it named none) */
    char *policy_ids;      /* JSON array text of the policy ids asked for ("[]": default) */
    int64_t allow;         /* 1 allowed, 0 denied by policy, -1 not appraised (rejected) */
    char *tcb_status;      /* the first device's tcb_status claim, or "" */
    int64_t http_status;   /* the status answered */
    char *error_code;      /* the problem code when rejected (VOUCH.*), else "" */
    char request_id[65];   /* X-Request-Id of the exchange, or "" */
};

/*
 * Add the `n` rows of `a` (in order) and drop every row but the newest
 * `keep`, in one transaction.  keep == 0 is refused (the caller records
 * nothing when the history is off).
 */
vouch_err vouch_store_attestation_add(struct vouch_store *s,
                                      const struct vouch_store_attestation *a, size_t n,
                                      uint64_t keep, struct vouch_errbuf *eb);

/*
 * One page, newest first: rows with id < before (before <= 0: from the
 * newest), at most `limit` (1..VOUCH_STORE_LIST_MAX).  Free with
 * vouch_store_attestations_free().
 */
vouch_err vouch_store_attestation_list(struct vouch_store *s, int64_t before, size_t limit,
                                       struct vouch_store_attestation **ret, size_t *ret_n,
                                       struct vouch_errbuf *eb);
void vouch_store_attestations_free(struct vouch_store_attestation *a, size_t n);
/* --- audit log: who changed what, when, with what outcome -----------------
 *
 * One row per state-changing administrative action (docs/operations.md).
 * `id` is chosen by the caller (random), so backends need no sequence;
 * rows list newest first.  Never holds a secret: actors are "admin",
 * "accesskey:ID" or "cli:USER".
 */
#define VOUCH_STORE_AUDIT_ID_MAX 32

struct vouch_store_audit {
    char id[VOUCH_STORE_AUDIT_ID_MAX + 1];
    int64_t at_ms;
    char *actor;           /* at most VOUCH_STORE_NAME_MAX + 16 bytes */
    char *action;          /* "POST /policy", "RegisterMessage", "cli accesskey create", ... */
    char *target;          /* what it acted on ("" when the request named nothing) */
    int64_t status;        /* HTTP status of the answer (CLI: 200 or 500) */
    char *code;            /* error code when it failed, else "" */
    char *request_id;      /* X-Request-Id, "" from the CLI */
};

/* Filters of a listing: NULL / 0 match anything; times are [since, until). */
struct vouch_store_audit_filter {
    const char *actor;
    const char *action;
    int64_t since_ms, until_ms;
};

/* Append one entry (its fields are checked for length and control bytes). */
vouch_err vouch_store_audit_append(struct vouch_store *s, const struct vouch_store_audit *a,
                                   struct vouch_errbuf *eb);
/* One page, newest first (limit <= VOUCH_STORE_LIST_MAX), with the number of matches. */
vouch_err vouch_store_audit_list(struct vouch_store *s, const struct vouch_store_audit_filter *f,
                                 uint64_t offset, size_t limit, struct vouch_store_audit **ret,
                                 size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb);
/* Delete the entries older than before_ms; *ret_deleted (may be NULL) gets their number. */
vouch_err vouch_store_audit_prune(struct vouch_store *s, int64_t before_ms,
                                  uint64_t *ret_deleted, struct vouch_errbuf *eb);
void vouch_store_audits_free(struct vouch_store_audit *a, size_t n);
/* --- vTPM: AK, report state, system whitelist, events, reports ------------
 *
 * Migration 5.  Every row here hangs off an instance and goes with it
 * (UnregisterMessage).  PCR values are lower-case hex.
 */

#define VOUCH_STORE_AK_PENDING 1     /* issued by ProduceAikcert, not yet proven */
#define VOUCH_STORE_AK_ACTIVE 2      /* a report carried its certificate */
#define VOUCH_STORE_BASELINE_PCRS 10 /* PCR0..9 of the sha256 bank */
#define VOUCH_STORE_HEX256 65        /* 64 hex digits and a NUL */

/* An instance's attestation key. */
struct vouch_store_ak {
    int64_t state;         /* VOUCH_STORE_AK_* */
    char *public_b64;      /* base64 of its TPM2B_PUBLIC */
    char *cert_pem;        /* the certificate the AK CA issued */
    int64_t created_ms;
};

/* Record `uuid`'s AK as PENDING, replacing any earlier one.
 * VOUCH_E_NOT_FOUND when the instance does not exist. */
vouch_err vouch_store_ak_put(struct vouch_store *s, const char *uuid, const char *public_b64,
                             const char *cert_pem, int64_t now_ms, struct vouch_errbuf *eb);
/* VOUCH_E_NOT_FOUND when none.  Free with vouch_store_ak_free(). */
vouch_err vouch_store_ak_get(struct vouch_store *s, const char *uuid,
                             struct vouch_store_ak **ret, struct vouch_errbuf *eb);
void vouch_store_ak_free(struct vouch_store_ak *ak);

/*
 * What the reports of an instance left behind: the durable IMA state
 * (incremental logs continue from it across restarts) and the system
 * whitelist (PCR baseline).
 */
struct vouch_store_vtpm_state {
    int64_t reports;                 /* reports accepted so far (the version) */
    int64_t ima_next;                /* nextClientIMAIndex */
    char pcr10_sha1[41];             /* running PCR 10 after ima_next entries */
    char pcr10_sha256[VOUCH_STORE_HEX256];
    char boot_aggregate[VOUCH_STORE_HEX256];  /* "" while unknown */
    int64_t reset_count;             /* the TPM's resetCount of the boot; -1 unknown */
    int64_t whitelist_id;            /* system whitelist; -1: no baseline yet */
    int64_t whitelist_created_ms, whitelist_modified_ms;
    char baseline[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256];
};

/* The state of `uuid`: before its first report, reports 0, ima_next 0,
 * PCR 10 zero, reset_count -1, whitelist_id -1. */
vouch_err vouch_store_vtpm_state_get(struct vouch_store *s, const char *uuid,
                                     struct vouch_store_vtpm_state *ret,
                                     struct vouch_errbuf *eb);

/* Event types, statuses and how they were handled. */
#define VOUCH_STORE_EVENT_SYSTEM 1
#define VOUCH_STORE_EVENT_PROGRAM 2
#define VOUCH_STORE_EVENT_OPEN 1
#define VOUCH_STORE_EVENT_TRUSTED 2
#define VOUCH_STORE_EVENT_IGNORED 3

/* An event a report opens.  When the instance has an open event of the
 * same type, suspect and suspect value, that one's accumulation grows. */
struct vouch_store_event_new {
    const char *uuid;                /* EventUuid when it is new */
    int64_t type, level;
    const char *suspect;             /* "pcr5", or a file path */
    const char *suspect_value;       /* what the report showed */
    const char *whitelist_value;     /* what the whitelist holds ("" none) */
};

/*
 * Accept one verified report, in ONE transaction: the instance's state
 * must still be at version expect_reports (VOUCH_E_CONFLICT otherwise:
 * another report went first), the report nonce is taken
 * (VOUCH_E_NOT_FOUND: unknown, used, expired), the IMA state and the
 * baseline become next's (a new system whitelist id is allocated when
 * create_baseline), a PENDING AK becomes ACTIVE (activate_ak), events
 * are opened, the instance's system verdict and GmtRecentReport are
 * written, and a history row keeps `summary`; only the last `keep` rows
 * of the instance stay.  A failure changes nothing.  *ret_program_status
 * (may be NULL) gets the program status the instance now has.
 *
 * The call returns once the transaction holding the report is durably
 * committed.  SQLite commits the reports that arrive together in one
 * transaction, each in its own savepoint, with one fsync (group commit:
 * docs/architecture.md); a report that fails rolls back only its own
 * savepoint.  PostgreSQL commits each report on its own (the server
 * flushes concurrent commits together).
 */
struct vouch_store_report {
    const char *uuid;
    const char *nonce;
    int64_t now_ms;
    int64_t expect_reports;
    const struct vouch_store_vtpm_state *next;
    int create_baseline;
    int activate_ak;
    int64_t system_status;
    const struct vouch_store_event_new *events;
    size_t n_events;
    const char *summary;             /* JSON text */
    size_t keep;
    /* The program verdict: 4 keeps "not evaluated" (no program whitelist);
     * any other value lets the open program events decide (2 with some,
     * else 1).  program_detail (JSON text) replaces ProgramTrustDetail
     * unless NULL. */
    int64_t program_status;
    const char *program_detail;
    /* The UEFI events that explain the differing PCRs (JSON text, at most
     * VOUCH_STORE_PCR_EVENTS_MAX bytes), kept with the history row
     * (migration 9); NULL or "" keeps none. */
    const char *pcr_events;
};

vouch_err vouch_store_report_accept(struct vouch_store *s, const struct vouch_store_report *r,
                                    int64_t *ret_program_status, struct vouch_errbuf *eb);

/*
 * The online-status sweep: every instance that has reported, whose last
 * report is older than stale_before_ms and whose stored system status is
 * trusted (1) or untrusted (2) gets status VOUCH_STORE_UNMEASURED, in one
 * statement (a report that lands meanwhile keeps its own verdict).
 * *ret_marked (may be NULL) gets the number of instances marked.
 */
#define VOUCH_STORE_UNMEASURED 3
vouch_err vouch_store_instance_mark_unmeasured(struct vouch_store *s, int64_t stale_before_ms,
                                               uint64_t *ret_marked, struct vouch_errbuf *eb);

/*
 * Report-history retention: delete the history rows received before
 * before_ms (0: none by age) and those beyond the newest `keep` (>= 1) of
 * their instance.  Each instance's newest row always stays (DescribeBoot
 * shows it).  *ret_deleted (may be NULL) gets the number deleted.
 */
vouch_err vouch_store_report_prune(struct vouch_store *s, int64_t before_ms, size_t keep,
                                   uint64_t *ret_deleted, struct vouch_errbuf *eb);

/* The newest history row of `uuid`: its summary (free()) and time.
 * VOUCH_E_NOT_FOUND when there is none. */
vouch_err vouch_store_report_last(struct vouch_store *s, const char *uuid, char **ret_summary,
                                  int64_t *ret_ms, struct vouch_errbuf *eb);
/* The number of history rows of `uuid`. */
vouch_err vouch_store_report_count(struct vouch_store *s, const char *uuid, uint64_t *ret,
                                   struct vouch_errbuf *eb);

/* One history row: the report's summary and, when asked for, its PCR events. */
#define VOUCH_STORE_PCR_EVENTS_MAX (256u << 10)
struct vouch_store_report_row {
    int64_t seq;                     /* the report's number (1, 2, ...) */
    int64_t received_ms;
    char *summary;                   /* JSON text */
    char *pcr_events;                /* JSON text, "" none; NULL when not asked for */
};

/* One page of `uuid`'s history rows, newest first (limit <= VOUCH_STORE_LIST_MAX),
 * with their number; with_events reads the PCR events too. */
vouch_err vouch_store_report_list(struct vouch_store *s, const char *uuid, uint64_t offset,
                                  size_t limit, int with_events,
                                  struct vouch_store_report_row **ret, size_t *ret_n,
                                  uint64_t *ret_total, struct vouch_errbuf *eb);
void vouch_store_report_rows_free(struct vouch_store_report_row *rows, size_t n);

struct vouch_store_event {
    char *uuid, *instance, *account;
    int64_t type, level, status, handle_type, accumulation;
    char *suspect, *suspect_value, *whitelist_value;
    int64_t created_ms, modified_ms, handled_ms;    /* handled: 0 while open */
};

/* Event list filters: NULL / -1 / 0 (times) match anything. */
struct vouch_store_event_filter {
    const char *instance;
    const char *suspect;
    int64_t type, level, status, handle_type;
    int64_t created_from, created_to, handled_from, handled_to;
};

#define VOUCH_STORE_EVENT_FILTER_ANY { NULL, NULL, -1, -1, -1, -1, 0, 0, 0, 0 }

/* One page of `account`'s events matching f, newest first, and the
 * number of matching rows. */
vouch_err vouch_store_event_list(struct vouch_store *s, const char *account,
                                 const struct vouch_store_event_filter *f, uint64_t offset,
                                 size_t limit, struct vouch_store_event **ret, size_t *ret_n,
                                 uint64_t *ret_total, struct vouch_errbuf *eb);
void vouch_store_events_free(struct vouch_store_event *ev, size_t n);

/*
 * Close events `uuids` of `account` as `status` (TRUSTED or IGNORED), all
 * or nothing: VOUCH_E_NOT_FOUND when one is unknown or another account's,
 * VOUCH_E_CONFLICT when one is not open.  Trusting a system event makes
 * its reported value the baseline's.  Each instance touched then counts
 * its open system and program events; with none left of a kind it is
 * trusted again for that kind (program: while a whitelist is assigned).
 */
/* Event `uuid` of `account`; VOUCH_E_NOT_FOUND when it is absent or another
 * account's.  Free with vouch_store_events_free(ev, 1). */
vouch_err vouch_store_event_get(struct vouch_store *s, const char *account, const char *uuid,
                                struct vouch_store_event **ret, struct vouch_errbuf *eb);
vouch_err vouch_store_events_handle(struct vouch_store *s, const char *account,
                                    const char *const *uuids, size_t n, int64_t status,
                                    int64_t now_ms, struct vouch_errbuf *eb);
/* --- vTPM program whitelists -------------------------------------------------
 *
 * An account's named sets of allowed IMA file digests (migration 6).  The
 * document is a keylime runtime policy's JSON text (digests by path,
 * exclusions, ...); `format` records what it was imported from.  Ids are
 * integers handed out in increasing order and never reused, and every
 * change moves modified_ms strictly forward, so (id, modified_ms) names
 * one content for good (the compiled-whitelist cache keys on it).
 * Assigning sets an instance's program_whitelist_id and _name; either way
 * (assign, unassign) its program verdict restarts: status 4, no
 * exceptions, detail "{}".
 */

#define VOUCH_STORE_WHITELIST_FORMAT_MAX 32
#define VOUCH_STORE_WHITELIST_MAX (16u << 20)   /* a document's bytes */
#define VOUCH_STORE_ASSIGN_MAX 100              /* instances per assign/unassign call */

struct vouch_store_whitelist {
    int64_t id;
    char *account;
    char *name;            /* 1-128 bytes, unique within the account */
    char *format;          /* "keylime" or "digests" */
    char *document;        /* JSON text; NULL when not asked for */
    int64_t digests;       /* allowed digests, all paths together */
    int64_t paths;
    int64_t instances;     /* instances it is assigned to (get with VOUCH_STORE_WL_INSTANCES) */
    int64_t created_ms, modified_ms;
};

/*
 * Create: w->account, name, format, document, digests and paths are
 * stored; *ret_id is the new id.  VOUCH_E_CONFLICT when the account
 * already has a whitelist of that name (or the account does not exist).
 */
vouch_err vouch_store_whitelist_create(struct vouch_store *s, const struct vouch_store_whitelist *w,
                                       int64_t now_ms, int64_t *ret_id, struct vouch_errbuf *eb);
/* What whitelist_get reads beyond the row (counting instances reads
 * as many index entries as the whitelist has instances). */
enum {
    VOUCH_STORE_WL_DOCUMENT = 1u << 0,
    VOUCH_STORE_WL_INSTANCES = 1u << 1,
};

/* One whitelist, with what `what` asks for; VOUCH_E_NOT_FOUND when absent.
 * The caller checks ->account.  Free with vouch_store_whitelist_free(). */
vouch_err vouch_store_whitelist_get(struct vouch_store *s, int64_t id, unsigned what,
                                    struct vouch_store_whitelist **ret, struct vouch_errbuf *eb);
/* One page of `account`'s whitelists by id (no documents, no instance
 * counts: ->instances is -1), and the total. */
vouch_err vouch_store_whitelist_list(struct vouch_store *s, const char *account, uint64_t offset,
                                     size_t limit, struct vouch_store_whitelist **ret,
                                     size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb);
/*
 * Replace the document (and its counts) of `account`'s whitelist `id` if
 * its modified_ms still is expect_modified_ms (compare and swap);
 * *ret_modified (may be NULL) gets the new one, max(now_ms, old + 1).
 * VOUCH_E_NOT_FOUND when absent or another account's; VOUCH_E_CONFLICT
 * when it changed meanwhile (read it again and retry).
 */
vouch_err vouch_store_whitelist_update(struct vouch_store *s, const char *account, int64_t id,
                                       const char *document, int64_t digests, int64_t paths,
                                       int64_t expect_modified_ms, int64_t now_ms,
                                       int64_t *ret_modified, struct vouch_errbuf *eb);
/* Delete; VOUCH_E_NOT_FOUND when absent or another account's,
 * VOUCH_E_CONFLICT while it is assigned to an instance (nothing changes). */
vouch_err vouch_store_whitelist_delete(struct vouch_store *s, const char *account, int64_t id,
                                       struct vouch_errbuf *eb);
/*
 * Assign `account`'s whitelist `id` to instances uuids[0..n) (n at most
 * VOUCH_STORE_ASSIGN_MAX), all or nothing.  VOUCH_E_NOT_FOUND when the
 * whitelist is absent or another account's; VOUCH_E_CONFLICT (eb->field
 * is the uuid) when an instance is absent or another account's.
 */
vouch_err vouch_store_whitelist_assign(struct vouch_store *s, const char *account, int64_t id,
                                       const char *const *uuids, size_t n, int64_t now_ms,
                                       struct vouch_errbuf *eb);
/* Unassign: program_whitelist_id -1, name "", status 4; errors as assign. */
vouch_err vouch_store_whitelist_unassign(struct vouch_store *s, const char *account,
                                         const char *const *uuids, size_t n, int64_t now_ms,
                                         struct vouch_errbuf *eb);
void vouch_store_whitelist_free(struct vouch_store_whitelist *w);
void vouch_store_whitelists_free(struct vouch_store_whitelist *w, size_t n);

#endif
