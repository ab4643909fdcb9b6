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
    /* vTPM */
    vouch_err (*accesskey_create)(void *state, const char *account, const char *id,
                                  const char *secret, int64_t now_ms, struct vouch_errbuf *eb);
    vouch_err (*accesskey_get)(void *state, const char *id, struct vouch_store_accesskey **ret,
                               struct vouch_errbuf *eb);
    vouch_err (*accesskey_list)(void *state, const char *account,
                                struct vouch_store_accesskey **ret, size_t *ret_n,
                                struct vouch_errbuf *eb);
    vouch_err (*accesskey_disable)(void *state, const char *id, struct vouch_errbuf *eb);
    vouch_err (*instance_register)(void *state, const struct vouch_store_instance *in,
                                   int64_t now_ms, struct vouch_errbuf *eb);
    vouch_err (*instance_get)(void *state, const char *uuid, struct vouch_store_instance **ret,
                              struct vouch_errbuf *eb);
    vouch_err (*instance_delete)(void *state, const char *account, const char *uuid,
                                 struct vouch_errbuf *eb);
    vouch_err (*instance_list)(void *state, const char *account,
                               const struct vouch_store_instance_filter *f, uint64_t offset,
                               size_t limit, struct vouch_store_instance **ret, size_t *ret_n,
                               uint64_t *ret_total, struct vouch_errbuf *eb);
    vouch_err (*nonce_issue)(void *state, const char *nonce, const char *uuid, int64_t now_ms,
                             int64_t expires_ms, struct vouch_errbuf *eb);
    vouch_err (*nonce_take)(void *state, const char *nonce, const char *uuid, int64_t now_ms,
                            struct vouch_errbuf *eb);
    vouch_err (*request_nonce_use)(void *state, const char *key_id, const char *nonce,
                                   int64_t now_ms, int64_t expires_ms, struct vouch_errbuf *eb);
    vouch_err (*request_nonces_save)(void *state, const struct vouch_store_request_nonce *rows,
                                     size_t n, struct vouch_errbuf *eb);
    vouch_err (*request_nonces_each)(void *state, int64_t now_ms,
                                     bool (*fn)(void *ctx,
                                                const struct vouch_store_request_nonce *r),
                                     void *ctx, struct vouch_errbuf *eb);
    vouch_err (*request_nonces_purge)(void *state, int64_t now_ms, uint64_t *ret_deleted,
                                      struct vouch_errbuf *eb);
    vouch_err (*instance_census)(void *state, int64_t online_since_ms,
                                 struct vouch_store_census *ret, struct vouch_errbuf *eb);
    /* attestation history; list gets before > 0 (INT64_MAX: from the newest) */
    vouch_err (*attestation_add)(void *state, const struct vouch_store_attestation *a, size_t n,
                                 uint64_t keep, struct vouch_errbuf *eb);
    vouch_err (*attestation_list)(void *state, int64_t before, size_t limit,
                                  struct vouch_store_attestation **ret, size_t *ret_n,
                                  struct vouch_errbuf *eb);
    /* audit log */
    vouch_err (*audit_append)(void *state, const struct vouch_store_audit *a,
                              struct vouch_errbuf *eb);
    vouch_err (*audit_list)(void *state, const struct vouch_store_audit_filter *f,
                            uint64_t offset, size_t limit, struct vouch_store_audit **ret,
                            size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb);
    vouch_err (*audit_prune)(void *state, int64_t before_ms, uint64_t *ret_deleted,
                             struct vouch_errbuf *eb);
    /* vTPM reports (migration 5) */
    vouch_err (*ak_put)(void *state, const char *uuid, const char *public_b64,
                        const char *cert_pem, int64_t now_ms, struct vouch_errbuf *eb);
    vouch_err (*ak_get)(void *state, const char *uuid, struct vouch_store_ak **ret,
                        struct vouch_errbuf *eb);
    /* Fill what is stored; *ret arrives set to the fresh state. */
    vouch_err (*vtpm_state_get)(void *state, const char *uuid,
                                struct vouch_store_vtpm_state *ret, struct vouch_errbuf *eb);
    vouch_err (*report_accept)(void *state, const struct vouch_store_report *r,
                               int64_t *ret_program_status, struct vouch_errbuf *eb);
    vouch_err (*report_last)(void *state, const char *uuid, char **ret_summary,
                             int64_t *ret_ms, struct vouch_errbuf *eb);
    vouch_err (*report_count)(void *state, const char *uuid, uint64_t *ret,
                              struct vouch_errbuf *eb);
    vouch_err (*report_list)(void *state, const char *uuid, uint64_t offset, size_t limit,
                             int with_events, struct vouch_store_report_row **ret,
                             size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb);
    /* the singleton jobs' statements (src/server/vtpm_jobs.c) */
    vouch_err (*instance_mark_unmeasured)(void *state, int64_t stale_before_ms,
                                          uint64_t *ret_marked, struct vouch_errbuf *eb);
    vouch_err (*report_prune)(void *state, int64_t before_ms, size_t keep,
                              uint64_t *ret_deleted, struct vouch_errbuf *eb);
    vouch_err (*event_list)(void *state, const char *account,
                            const struct vouch_store_event_filter *f, uint64_t offset,
                            size_t limit, struct vouch_store_event **ret, size_t *ret_n,
                            uint64_t *ret_total, struct vouch_errbuf *eb);
    vouch_err (*events_handle)(void *state, const char *account, const char *const *uuids,
                               size_t n, int64_t status, int64_t now_ms,
                               struct vouch_errbuf *eb);
    vouch_err (*event_get)(void *state, const char *account, const char *uuid,
                           struct vouch_store_event **ret, struct vouch_errbuf *eb);
    /* vTPM program whitelists */
    vouch_err (*whitelist_create)(void *state, const struct vouch_store_whitelist *w,
                                  int64_t now_ms, int64_t *ret_id, struct vouch_errbuf *eb);
    vouch_err (*whitelist_get)(void *state, int64_t id, unsigned what,
                               struct vouch_store_whitelist **ret, struct vouch_errbuf *eb);
    vouch_err (*whitelist_list)(void *state, const char *account, uint64_t offset, size_t limit,
                                struct vouch_store_whitelist **ret, size_t *ret_n,
                                uint64_t *ret_total, struct vouch_errbuf *eb);
    vouch_err (*whitelist_update)(void *state, const char *account, int64_t id,
                                  const char *document, int64_t digests, int64_t paths,
                                  int64_t expect_modified_ms, int64_t now_ms,
                                  int64_t *ret_modified, struct vouch_errbuf *eb);
    vouch_err (*whitelist_delete)(void *state, const char *account, int64_t id,
                                  struct vouch_errbuf *eb);
    /* id < 0: unassign */
    vouch_err (*whitelist_assign)(void *state, const char *account, int64_t id,
                                  const char *const *uuids, size_t n, int64_t now_ms,
                                  struct vouch_errbuf *eb);
};

/* The census of instances: stored status, online flag, count. */
#define VOUCH_STORE_CENSUS_SQL(p)                                                         \
    "SELECT system_status, CASE WHEN recent_report_ms > 0 AND recent_report_ms >= " p     \
    " THEN 1 ELSE 0 END AS online, count(*) FROM vtpm_instances GROUP BY 1, 2"

/* Add one census row; status outside 1..4 counts in slot 0. */
static inline void vouch_store_census_add(struct vouch_store_census *c, int64_t status,
                                          int64_t online, int64_t n)
{
    c->n[status >= 1 && status <= 4 ? status : 0][online ? 1 : 0] += n > 0 ? (uint64_t)n : 0;
}
/* The attestation history columns, in the order the backends read and write them. */
#define VOUCH_STORE_ATTESTATION_COLS \
    "id, time_ms, tee, policy_ids, allow, tcb_status, http_status, error_code, request_id"

/* The audit columns, in the order the backends read and write them. */
#define VOUCH_STORE_AUDIT_COLS "id, at_ms, actor, action, target, status, code, request_id"

/* The whitelist columns, in the order the backends read them (document last). */
#define VOUCH_STORE_WHITELIST_COLS \
    "w.id, w.account, w.name, w.format, w.digests, w.paths, w.created_ms, w.modified_ms"
#define VOUCH_STORE_WHITELIST_NCOLS 8
/* An instance's program verdict from its open program events (type 2);
 * the parameters are 1: uuid, 2: status hint (4: not evaluated),
 * 3: detail ('' keeps it). */
#define VOUCH_STORE_PROGRAM_VERDICT(P1, P2, P3, BIG) \
    "UPDATE vtpm_instances SET " VOUCH_STORE_PROGRAM_VERDICT_SET(P1, P2, P3, BIG) \
    " WHERE uuid = " P1
#define VOUCH_STORE_OPEN_EVENTS(P1, TYPE) \
    "(SELECT count(*) FROM vtpm_events WHERE instance = " P1 " AND status = 1 AND type = " \
    TYPE ")"
#define VOUCH_STORE_PROGRAM_VERDICT_SET(P1, P2, P3, BIG) \
    "program_exceptions = " VOUCH_STORE_OPEN_EVENTS(P1, "2") ", program_status = CASE " \
    "WHEN " P2 BIG " = 4 OR program_whitelist_id < 0 THEN 4 WHEN " \
    VOUCH_STORE_OPEN_EVENTS(P1, "2") " > 0 THEN 2 ELSE 1 END, " \
    "program_detail = CASE WHEN " P3 " = '' THEN program_detail ELSE " P3 " END"
/*
 * A report's two verdicts in one statement, which returns the program
 * status: the system verdict (2: status, > 0 sets it, else the open system
 * events, type 1, decide; 3: system whitelist id; 4: detail; 5: report
 * time) and the program verdict as above (6: status hint, 7: detail).
 */
#define VOUCH_STORE_REPORT_VERDICT(P1, P2, P3, P4, P5, P6, P7, BIG) \
    "UPDATE vtpm_instances SET system_status = CASE WHEN " P2 BIG " > 0 THEN " P2 BIG \
    " WHEN " VOUCH_STORE_OPEN_EVENTS(P1, "1") " > 0 THEN 2 ELSE 1 END, " \
    "system_whitelist_id = " P3 BIG ", system_detail = " P4 ", system_exceptions = " \
    VOUCH_STORE_OPEN_EVENTS(P1, "1") ", recent_report_ms = CASE WHEN " P5 BIG " > 0 THEN " \
    P5 BIG " ELSE recent_report_ms END, " VOUCH_STORE_PROGRAM_VERDICT_SET(P1, P6, P7, BIG) \
    " WHERE uuid = " P1 " RETURNING program_status"
/* ... then, when asked, the instances it is assigned to and the document. */
#define VOUCH_STORE_WHITELIST_COUNT \
    "(SELECT count(*) FROM vtpm_instances i WHERE i.program_whitelist_id = w.id)"

/* The instance columns, in the order the backends read and write them. */
#define VOUCH_STORE_INSTANCE_COLS \
    "uuid, account, instance_id, instance_type, name, private_ip, public_ip, extensions, " \
    "affiliation, system_status, system_whitelist_id, system_exceptions, system_detail, " \
    "program_status, program_whitelist_id, program_exceptions, program_detail, " \
    "program_whitelist_name, created_ms, modified_ms, recent_report_ms"
#define VOUCH_STORE_INSTANCE_NCOLS 21

/* The event columns, in the order the backends read them. */
#define VOUCH_STORE_EVENT_COLS \
    "uuid, instance, account, type, level, status, handle_type, accumulation, suspect, " \
    "suspect_value, whitelist_value, created_ms, modified_ms, handled_ms"

/* A baseline as stored: the 10 hex values joined by ',' (out: 10 * 65 bytes). */
#define VOUCH_STORE_BASELINE_TEXT (VOUCH_STORE_BASELINE_PCRS * VOUCH_STORE_HEX256)
void vouch_store_baseline_format(const char b[][VOUCH_STORE_HEX256], char *out);
vouch_err vouch_store_baseline_parse(const char *text, char ret[][VOUCH_STORE_HEX256],
                                     struct vouch_errbuf *eb);
/* SystemTrustDetail: {"pcr0":"hex",...,"pcr9":"hex"} (out: VOUCH_STORE_DETAIL_TEXT bytes). */
#define VOUCH_STORE_DETAIL_TEXT (VOUCH_STORE_BASELINE_PCRS * (VOUCH_STORE_HEX256 + 12) + 4)
void vouch_store_baseline_detail(const char b[][VOUCH_STORE_HEX256], char *out);

extern const struct vouch_store_ops vouch_store_sqlite_ops;
extern const struct vouch_store_ops vouch_store_pg_ops;

/* The schema migrations, shared by every SQL backend: version i+1 is sql[i]. */
extern const char *const vouch_store_migrations[];
extern const int vouch_store_n_migrations;

/*
 * The SignatureNonce records of both tables (migration 11), one row per pair
 * with its later expiry: what SQLite loads at start (the live ones) and what
 * a copy reads.  A derived table; give it an alias.
 */
#define VOUCH_STORE_RNONCE_RECORDS "(SELECT key_id, nonce, max(expires_ms) AS expires_ms FROM " \
    "(SELECT key_id, nonce, expires_ms FROM vtpm_request_nonces UNION ALL " \
    "SELECT key_id, nonce, expires_ms FROM vtpm_request_nonce_log) AS both_tables " \
    "GROUP BY key_id, nonce)"

/* The copied tables' statements (vouch_store_copy_tables); `mark` is '?' or '$'. */
#define VOUCH_STORE_COPY_SQL_MAX 1024
void vouch_store_copy_select_sql(const struct vouch_store_copy_table *t, char *out, size_t size);
void vouch_store_copy_insert_sql(const struct vouch_store_copy_table *t, char mark, char *out,
                                 size_t size);
void vouch_store_copy_count_sql(char *out, size_t size);
/* Empty the copied tables through `exec` (a backend's "run this SQL"), referrers first:
 * all of them with `force`, else only the seeded ones. */
vouch_err vouch_store_copy_clear(int force, vouch_err (*exec)(void *conn, const char *sql,
                                                               struct vouch_errbuf *eb),
                                 void *conn, struct vouch_errbuf *eb);
/* Append a row of n_cols NULL values to r (capacity *cap); *ret_row: its values. */
vouch_err vouch_store_rows_push(struct vouch_store_rows *r, size_t *cap, size_t n_cols,
                                char ***ret_row, struct vouch_errbuf *eb);

#endif
