/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libpq-fe.h>

#include "store/store-priv.h"

/*
 * PostgreSQL backend (libpq).  One connection per thread, opened on first
 * use, each with its statements prepared once (lazily, by number).  A lost
 * connection is reset on the next call, no more often than the backoff
 * allows (100 ms doubling to 5 s), so that while the server is away every
 * call fails at once with VOUCH_E_STORE instead of waiting.  Every write
 * is one statement or one transaction, committed before the call returns.
 *
 * Migrations are the shared SQL of store.c, run under a transaction-level
 * advisory lock, so that replicas starting together apply each exactly once.
 */

/* A statement's answer must arrive within this, or its connection is dropped. */
#define QUERY_TIMEOUT_MS 15000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* pg_advisory_xact_lock key of the migration lock ("vouch" in ASCII). */
#define MIGRATION_LOCK "495569183592"

enum stmt {
    S_VERSION,
    S_META_GET,
    S_META_INSERT,
    S_META_PUT,
    S_KEYS_LIST,
    S_KEY_RETIRE,
    S_KEY_ACTIVE,
    S_KEY_INSERT,
    S_DOC_PUT,
    S_DOC_GET,
    S_DOC_LIST,
    S_DOC_DELETE,
    /* vTPM */
    S_ACCOUNT_ENSURE,
    S_AK_INSERT,
    S_AK_GET,
    S_AK_LIST,
    S_AK_DISABLE,
    S_INST_REGISTER,
    S_INST_GET,
    S_INST_DELETE,
    S_INST_COUNT,
    S_INST_LIST,
    S_NONCE_PURGE,
    S_NONCE_INSERT,
    S_NONCE_TAKE,
    S_NONCE_DROP_INSTANCE,
    S_RNONCE_PURGE,
    S_RNONCE_USE,
    S_RNONCE_SAVE,
    S_RNONCE_LIVE,
    /* vTPM reports (migration 5) */
    S_VAK_PUT,
    S_VAK_GET,
    S_IMA_GET,
    S_WL_GET,
    S_IMA_INSERT,
    S_IMA_UPDATE,
    S_VAK_ACTIVATE,
    S_WL_NEXT_ID,
    S_WL_INSERT,
    S_WL_UPDATE,
    S_EV_REPEAT,
    S_EV_INSERT,
    S_VERDICT,
    S_REPORT_VERDICT,
    S_REP_WRITE,
    S_REP_LAST,
    S_REP_COUNT,
    S_EV_COUNT,
    S_EV_LIST,
    S_EV_GET,
    S_EV_CLOSE,
    S_AUDIT_INSERT,
    S_AUDIT_COUNT,
    S_AUDIT_LIST,
    S_AUDIT_PRUNE,
    S_INST_MARK_UNMEASURED,
    S_REPORT_PRUNE,
    /* vTPM program whitelists */
    S_PROGRAM_VERDICT,
    S_PWL_NEXT_ID,
    S_PWL_INSERT,
    S_PWL_GET,
    S_PWL_GET_DOC,
    S_PWL_GET_COUNT,
    S_PWL_GET_COUNT_DOC,
    S_PWL_COUNT,
    S_PWL_LIST,
    S_PWL_LOCK,
    S_PWL_LOCK_SHARE,
    S_PWL_UPDATE,
    S_PWL_ASSIGNED,
    S_PWL_DELETE,
    S_PWL_ASSIGN,
    S_INST_CENSUS,
    /* the PCR events of a report (migration 9) and the history pages */
    S_REP_EVENTS,
    S_REP_LIST,
    /* attestation history */
    S_ATT_INSERT,
    S_ATT_TRIM,
    S_ATT_LIST,
    S__COUNT
};

#define PG_EVENT_WHERE                                                                   \
    " FROM vtpm_events WHERE account = $1 AND ($2 = '' OR instance = $2) AND ($3 = '' OR " \
    "suspect = $3) AND ($4::bigint < 0 OR type = $4) AND ($5::bigint < 0 OR level = $5) "  \
    "AND ($6::bigint < 0 OR status = $6) AND ($7::bigint < 0 OR handle_type = $7) AND "    \
    "($8::bigint = 0 OR created_ms >= $8) AND ($9::bigint = 0 OR created_ms <= $9) AND "   \
    "($10::bigint = 0 OR handled_ms >= $10) AND ($11::bigint = 0 OR handled_ms <= $11)"

#define PG_OPEN_SYSTEM_EVENTS \
    "(SELECT count(*) FROM vtpm_events WHERE instance = $1 AND status = 1 AND type = 1)"

#define PG_AUDIT_WHERE                                                                   \
    " FROM audit_log WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR action = $2) "        \
    "AND ($3::bigint = 0 OR at_ms >= $3::bigint) AND ($4::bigint = 0 OR at_ms < $4::bigint)"

#define PG_INSTANCE_WHERE                                                                 \
    " FROM vtpm_instances WHERE account = $1 AND ($2::bigint = -1 OR system_status = $2 OR " \
    "($2 = -2 AND system_status IN (1, 2, 3))) "                                          \
    "AND ($3::bigint < 0 OR program_status = $3) AND ($4::bigint < 0 OR ($4 = 1 AND "     \
    "recent_report_ms >= $5::bigint) OR ($4 = 0 AND recent_report_ms < $5))"

static const char *const stmt_sql[S__COUNT] = {
    [S_VERSION] = "SELECT coalesce(max(version), 0)::bigint FROM schema_version",
    [S_META_GET] = "SELECT value FROM meta WHERE key = $1",
    [S_META_INSERT] = "INSERT INTO meta (key, value) VALUES ($1, $2)",
    [S_META_PUT] = "INSERT INTO meta (key, value) VALUES ($1, $2) "
                   "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    [S_KEYS_LIST] = "SELECT kid, alg, private_pem, created_at, coalesce(retired_at, 0) "
                    "FROM signing_keys ORDER BY created_at DESC, (retired_at IS NULL) DESC, "
                    "retired_at DESC, kid",
    [S_KEY_RETIRE] = "UPDATE signing_keys SET retired_at = $2::bigint "
                     "WHERE alg = $1 AND retired_at IS NULL",
    [S_KEY_ACTIVE] = "SELECT 1 FROM signing_keys WHERE alg = $1 AND retired_at IS NULL",
    [S_KEY_INSERT] = "INSERT INTO signing_keys (kid, alg, private_pem, created_at) "
                     "VALUES ($1, $2, $3, $4::bigint)",
    [S_DOC_PUT] = "INSERT INTO documents (kind, id, body, meta, expires_at, updated_at) "
                  "VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint) "
                  "ON CONFLICT (kind, id) DO UPDATE SET body = EXCLUDED.body, "
                  "meta = EXCLUDED.meta, expires_at = EXCLUDED.expires_at, "
                  "updated_at = EXCLUDED.updated_at",
    [S_DOC_GET] = "SELECT kind, id, body, meta, expires_at, updated_at FROM documents "
                  "WHERE kind = $1 AND id = $2",
    [S_DOC_LIST] = "SELECT kind, id, CASE WHEN $4::bigint = 1 THEN body END, meta, "
                   "expires_at, updated_at FROM documents "
                   "WHERE kind = $1 AND left(id, length($2)) = $2 "
                   "ORDER BY id COLLATE \"C\" LIMIT $3::bigint",
    [S_DOC_DELETE] = "DELETE FROM documents WHERE kind = $1 AND id = $2",
    [S_ACCOUNT_ENSURE] = "INSERT INTO vtpm_accounts (name, created_ms) VALUES ($1, $2::bigint) "
                         "ON CONFLICT (name) DO NOTHING",
    [S_AK_INSERT] = "INSERT INTO vtpm_access_keys (id, account, secret, enabled, created_ms) "
                    "VALUES ($1, $2, $3, 1, $4::bigint)",
    [S_AK_GET] = "SELECT id, account, secret, enabled, created_ms FROM vtpm_access_keys "
                 "WHERE id = $1",
    [S_AK_LIST] = "SELECT id, account, NULL, enabled, created_ms FROM vtpm_access_keys "
                  "WHERE $1 = '' OR account = $1 ORDER BY account COLLATE \"C\", id COLLATE \"C\"",
    [S_AK_DISABLE] = "UPDATE vtpm_access_keys SET enabled = 0 WHERE id = $1",
    [S_INST_REGISTER] = "INSERT INTO vtpm_instances (" VOUCH_STORE_INSTANCE_COLS ") VALUES "
                        "($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, $11::bigint, "
                        "$12::bigint, $13, $14::bigint, $15::bigint, $16::bigint, $17, $18, "
                        "$19::bigint, $20::bigint, $21::bigint) ON CONFLICT (uuid) DO UPDATE SET "
                        "instance_id = excluded.instance_id, "
                        "instance_type = excluded.instance_type, name = excluded.name, "
                        "private_ip = excluded.private_ip, public_ip = excluded.public_ip, "
                        "extensions = excluded.extensions, affiliation = excluded.affiliation, "
                        "modified_ms = excluded.modified_ms "
                        "WHERE vtpm_instances.account = excluded.account",
    [S_INST_GET] = "SELECT " VOUCH_STORE_INSTANCE_COLS " FROM vtpm_instances WHERE uuid = $1",
    [S_INST_DELETE] = "DELETE FROM vtpm_instances WHERE uuid = $1 AND account = $2",
    [S_INST_COUNT] = "SELECT count(*)::bigint" PG_INSTANCE_WHERE,
    [S_INST_LIST] = "SELECT " VOUCH_STORE_INSTANCE_COLS PG_INSTANCE_WHERE
                    " ORDER BY uuid COLLATE \"C\" LIMIT $6::bigint OFFSET $7::bigint",
    [S_NONCE_PURGE] = "DELETE FROM vtpm_nonces WHERE expires_ms <= $1::bigint",
    [S_NONCE_INSERT] = "INSERT INTO vtpm_nonces (nonce, uuid, expires_ms) "
                       "VALUES ($1, $2, $3::bigint)",
    [S_NONCE_TAKE] = "DELETE FROM vtpm_nonces WHERE nonce = $1 AND uuid = $2 "
                     "AND expires_ms > $3::bigint",
    [S_NONCE_DROP_INSTANCE] = "DELETE FROM vtpm_nonces WHERE uuid = $1",
    [S_RNONCE_PURGE] = "DELETE FROM vtpm_request_nonces WHERE expires_ms <= $1::bigint",
    [S_RNONCE_USE] = "INSERT INTO vtpm_request_nonces (key_id, nonce, expires_ms) "
                     "VALUES ($1, $2, $3::bigint) ON CONFLICT (key_id, nonce) DO UPDATE SET "
                     "expires_ms = excluded.expires_ms "
                     "WHERE vtpm_request_nonces.expires_ms <= $4::bigint",
    [S_RNONCE_SAVE] = "INSERT INTO vtpm_request_nonces (key_id, nonce, expires_ms) "
                      "VALUES ($1, $2, $3::bigint) ON CONFLICT (key_id, nonce) DO UPDATE SET "
                      "expires_ms = excluded.expires_ms "
                      "WHERE vtpm_request_nonces.expires_ms < excluded.expires_ms",
    [S_RNONCE_LIVE] = "SELECT key_id, nonce, expires_ms FROM vtpm_request_nonces "
                      "WHERE expires_ms > $1::bigint",
    [S_VAK_PUT] = "INSERT INTO vtpm_aks (uuid, state, public_b64, cert_pem, created_ms) "
                  "VALUES ($1, $2::bigint, $3, $4, $5::bigint) ON CONFLICT (uuid) DO UPDATE SET "
                  "state = excluded.state, public_b64 = excluded.public_b64, "
                  "cert_pem = excluded.cert_pem, created_ms = excluded.created_ms",
    [S_VAK_GET] = "SELECT state, public_b64, cert_pem, created_ms FROM vtpm_aks WHERE uuid = $1",
    [S_IMA_GET] = "SELECT reports, ima_next, pcr10_sha1, pcr10_sha256, boot_aggregate, "
                  "reset_count FROM vtpm_ima_states WHERE uuid = $1",
    [S_WL_GET] = "SELECT id, pcrs, created_ms, modified_ms FROM vtpm_system_whitelists "
                 "WHERE uuid = $1",
    [S_IMA_INSERT] = "INSERT INTO vtpm_ima_states (uuid, reports, ima_next, pcr10_sha1, "
                     "pcr10_sha256, boot_aggregate, reset_count, updated_ms) VALUES ($1, "
                     "$2::bigint, $3::bigint, $4, $5, $6, $7::bigint, $8::bigint) "
                     "ON CONFLICT (uuid) DO NOTHING",
    [S_IMA_UPDATE] = "UPDATE vtpm_ima_states SET reports = $2::bigint, ima_next = $3::bigint, "
                     "pcr10_sha1 = $4, pcr10_sha256 = $5, boot_aggregate = $6, "
                     "reset_count = $7::bigint, updated_ms = $8::bigint "
                     "WHERE uuid = $1 AND reports = $9::bigint",
    [S_VAK_ACTIVATE] = "UPDATE vtpm_aks SET state = 2 WHERE uuid = $1",
    [S_WL_NEXT_ID] = "UPDATE vtpm_ids SET value = value + 1 WHERE name = 'system_whitelist' "
                     "RETURNING value",
    [S_WL_INSERT] = "INSERT INTO vtpm_system_whitelists (id, uuid, pcrs, created_ms, "
                    "modified_ms) VALUES ($1::bigint, $2, $3, $4::bigint, $4::bigint)",
    [S_WL_UPDATE] = "UPDATE vtpm_system_whitelists SET pcrs = $2, modified_ms = $3::bigint "
                    "WHERE uuid = $1",
    [S_EV_REPEAT] = "UPDATE vtpm_events SET accumulation = accumulation + 1, "
                    "modified_ms = $6::bigint, whitelist_value = $5 WHERE instance = $1 AND "
                    "type = $2::bigint AND suspect = $3 AND suspect_value = $4 AND status = 1",
    [S_EV_INSERT] = "INSERT INTO vtpm_events (" VOUCH_STORE_EVENT_COLS ") SELECT $1, $2, "
                    "account, $3::bigint, $4::bigint, 1, 0, 1, $5, $6, $7, $8::bigint, "
                    "$8::bigint, 0 FROM vtpm_instances WHERE uuid = $2",
    [S_VERDICT] = "UPDATE vtpm_instances SET system_status = CASE WHEN $2::bigint > 0 THEN $2 "
                  "WHEN " PG_OPEN_SYSTEM_EVENTS " > 0 THEN 2 ELSE 1 END, "
                  "system_whitelist_id = $3::bigint, system_detail = $4, system_exceptions = "
                  PG_OPEN_SYSTEM_EVENTS ", recent_report_ms = CASE WHEN $5::bigint > 0 THEN $5 "
                  "ELSE recent_report_ms END WHERE uuid = $1",
    [S_REPORT_VERDICT] = VOUCH_STORE_REPORT_VERDICT("$1", "$2", "$3", "$4", "$5", "$6", "$7",
                                                    "::bigint"),
    /* the report's history row, and the rows beyond the last `keep` go (one round trip) */
    [S_REP_WRITE] = "WITH trimmed AS (DELETE FROM vtpm_reports WHERE instance = $1 AND "
                    "seq <= $5::bigint) INSERT INTO vtpm_reports (instance, seq, received_ms, "
                    "summary) VALUES ($1, $2::bigint, $3::bigint, $4)",
    [S_REP_LAST] = "SELECT summary, received_ms FROM vtpm_reports WHERE instance = $1 "
                   "ORDER BY seq DESC LIMIT 1",
    [S_REP_COUNT] = "SELECT count(*)::bigint FROM vtpm_reports WHERE instance = $1",
    [S_REP_EVENTS] = "UPDATE vtpm_reports SET pcr_events = $3 WHERE instance = $1 AND "
                     "seq = $2::bigint",
    [S_REP_LIST] = "SELECT seq, received_ms, summary, CASE WHEN $4::bigint <> 0 THEN pcr_events "
                   "ELSE '' END FROM vtpm_reports WHERE instance = $1 ORDER BY seq DESC "
                   "LIMIT $2::bigint OFFSET $3::bigint",
    [S_EV_COUNT] = "SELECT count(*)::bigint" PG_EVENT_WHERE,
    [S_EV_LIST] = "SELECT " VOUCH_STORE_EVENT_COLS PG_EVENT_WHERE
                  " ORDER BY created_ms DESC, uuid COLLATE \"C\" LIMIT $12::bigint "
                  "OFFSET $13::bigint",
    [S_EV_GET] = "SELECT " VOUCH_STORE_EVENT_COLS " FROM vtpm_events WHERE uuid = $1 AND "
                 "account = $2 FOR UPDATE",
    [S_EV_CLOSE] = "UPDATE vtpm_events SET status = $2::bigint, handle_type = $3::bigint, "
                   "handled_ms = $4::bigint, modified_ms = $4::bigint WHERE uuid = $1",
    [S_INST_CENSUS] = VOUCH_STORE_CENSUS_SQL("$1::bigint"),
    [S_AUDIT_INSERT] = "INSERT INTO audit_log (" VOUCH_STORE_AUDIT_COLS ") VALUES "
                       "($1, $2::bigint, $3, $4, $5, $6::bigint, $7, $8)",
    [S_AUDIT_COUNT] = "SELECT count(*)::bigint" PG_AUDIT_WHERE,
    [S_AUDIT_LIST] = "SELECT " VOUCH_STORE_AUDIT_COLS PG_AUDIT_WHERE
                     " ORDER BY at_ms DESC, id COLLATE \"C\" DESC "
                     "LIMIT $5::bigint OFFSET $6::bigint",
    [S_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE at_ms < $1::bigint",
    [S_INST_MARK_UNMEASURED] = "UPDATE vtpm_instances SET system_status = 3 WHERE "
                               "recent_report_ms > 0 AND recent_report_ms < $1::bigint AND "
                               "system_status IN (1, 2)",
    [S_REPORT_PRUNE] = "DELETE FROM vtpm_reports WHERE seq < (SELECT max(r.seq) FROM "
                       "vtpm_reports r WHERE r.instance = vtpm_reports.instance) AND "
                       "(received_ms < $1::bigint OR seq <= (SELECT max(r.seq) FROM "
                       "vtpm_reports r WHERE r.instance = vtpm_reports.instance) - $2::bigint)",
    [S_PROGRAM_VERDICT] = VOUCH_STORE_PROGRAM_VERDICT("$1", "$2", "$3", "::bigint"),
    [S_PWL_NEXT_ID] = "UPDATE vtpm_ids SET value = value + 1 "
                     "WHERE name = 'program_whitelist' RETURNING value",
    [S_PWL_INSERT] = "INSERT INTO vtpm_program_whitelists (id, account, name, format, document, "
                    "digests, paths, created_ms, modified_ms) SELECT $1::bigint, $2, $3, $4, $5, "
                    "$6::bigint, $7::bigint, $8::bigint, $8::bigint "
                    "WHERE EXISTS (SELECT 1 FROM vtpm_accounts WHERE name = $2)",
    [S_PWL_GET] = "SELECT " VOUCH_STORE_WHITELIST_COLS " FROM vtpm_program_whitelists w "
                 "WHERE w.id = $1::bigint",
    [S_PWL_GET_DOC] = "SELECT " VOUCH_STORE_WHITELIST_COLS ", w.document "
                     "FROM vtpm_program_whitelists w WHERE w.id = $1::bigint",
    [S_PWL_GET_COUNT] = "SELECT " VOUCH_STORE_WHITELIST_COLS ", " VOUCH_STORE_WHITELIST_COUNT
                       " FROM vtpm_program_whitelists w WHERE w.id = $1::bigint",
    [S_PWL_GET_COUNT_DOC] = "SELECT " VOUCH_STORE_WHITELIST_COLS ", " VOUCH_STORE_WHITELIST_COUNT
                           ", w.document FROM vtpm_program_whitelists w WHERE w.id = $1::bigint",
    [S_PWL_COUNT] = "SELECT count(*)::bigint FROM vtpm_program_whitelists WHERE account = $1",
    [S_PWL_LIST] = "SELECT " VOUCH_STORE_WHITELIST_COLS " FROM vtpm_program_whitelists w "
                  "WHERE w.account = $1 ORDER BY w.id LIMIT $2::bigint OFFSET $3::bigint",
    [S_PWL_LOCK] = "SELECT name FROM vtpm_program_whitelists WHERE id = $1::bigint "
                  "AND account = $2 FOR UPDATE",
    [S_PWL_LOCK_SHARE] = "SELECT name FROM vtpm_program_whitelists WHERE id = $1::bigint "
                        "AND account = $2 FOR SHARE",
    [S_PWL_UPDATE] = "UPDATE vtpm_program_whitelists SET document = $3, digests = $4::bigint, "
                    "paths = $5::bigint, modified_ms = $7::bigint WHERE id = $1::bigint "
                    "AND account = $2 AND modified_ms = $6::bigint",
    [S_PWL_ASSIGNED] = "SELECT 1 FROM vtpm_instances WHERE program_whitelist_id = $1::bigint "
                      "LIMIT 1",
    [S_PWL_DELETE] = "DELETE FROM vtpm_program_whitelists WHERE id = $1::bigint AND account = $2",
    [S_PWL_ASSIGN] = "UPDATE vtpm_instances SET program_whitelist_id = $3::bigint, "
                    "program_whitelist_name = $4, program_status = 4, program_exceptions = 0, "
                    "program_detail = '{}', modified_ms = $5::bigint "
                    "WHERE uuid = $1 AND account = $2",
    [S_ATT_INSERT] = "INSERT INTO attestations (time_ms, tee, policy_ids, allow, tcb_status, "
                     "http_status, error_code, request_id) VALUES ($1::bigint, $2, $3, "
                     "$4::bigint, $5, $6::bigint, $7, $8)",
    [S_ATT_TRIM] = "DELETE FROM attestations WHERE id <= "
                   "(SELECT max(id) FROM attestations) - $1::bigint",
    [S_ATT_LIST] = "SELECT " VOUCH_STORE_ATTESTATION_COLS " FROM attestations "
                   "WHERE id < $1::bigint ORDER BY id DESC LIMIT $2::bigint",
};

_Static_assert(S__COUNT <= 128, "prepared-statement bitmap is 128 bits");

struct pgc {
    PGconn *conn;
    struct pgs *owner;
    struct pgc *prev, *next;
    uint64_t prepared[2];      /* bit i: stmt_sql[i] prepared on this connection */
    int64_t retry_at_ms;       /* no reconnect before this (monotonic ms) */
    int backoff_ms;
};

struct pgs {
    char *url;
    pthread_key_t key;
    pthread_mutex_t lock;
    struct pgc *conns;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of libpq's message, without the trailing newline. */
static const char *pq_msg(const PGconn *conn, const PGresult *res)
{
    static __thread char line[256];
    const char *m = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    size_t n = strcspn(m, "\n");

    snprintf(line, sizeof(line), "%.*s", (int)n, m);
    return line;
}

static vouch_err db_fail(PGconn *conn, const PGresult *res, struct vouch_errbuf *eb,
                         const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    if (state && (strcmp(state, "23505") == 0 ||   /* unique_violation */
                  strcmp(state, "23503") == 0))    /* foreign_key_violation */
        return vouch_fail(eb, VOUCH_E_CONFLICT, "%s: %s", what, pq_msg(conn, res));
    return vouch_fail(eb, VOUCH_E_STORE, "%s: postgres: %s", what, pq_msg(conn, res));
}

static void conn_unlink_close(struct pgc *c)
{
    struct pgs *q = c->owner;

    if (c->prev)
        c->prev->next = c->next;
    else
        q->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    PQfinish(c->conn);
    free(c);
}

static void conn_thread_exit(void *p)
{
    struct pgc *c = p;
    struct pgs *q = c->owner;

    pthread_mutex_lock(&q->lock);
    conn_unlink_close(c);
    pthread_mutex_unlock(&q->lock);
}

/* Connect (or reconnect) c, honouring the backoff. */
static vouch_err conn_connect(struct pgc *c, struct vouch_errbuf *eb)
{
    /* Earlier keywords are defaults the URL's own parameters override. */
    /* A server that vanishes without closing the connection (a partition, a
     * dead host) is noticed within about 25 s: keepalives probe an idle
     * connection after 10 s, three times 5 s apart, and unacknowledged
     * sends give up after 15 s. */
    static const char *const keys[] = { "connect_timeout", "keepalives_idle",
                                        "keepalives_interval", "keepalives_count",
                                        "tcp_user_timeout", "application_name", "dbname", NULL };
    const char *vals[] = { "5", "10", "5", "3", "15000", "vouchd", c->owner->url, NULL };
    int64_t now = mono_ms();

    if (now < c->retry_at_ms)
        return vouch_fail(eb, VOUCH_E_STORE, "postgres: database unavailable (retrying)");
    PQfinish(c->conn);
    memset(c->prepared, 0, sizeof(c->prepared));
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (c->conn && PQstatus(c->conn) == CONNECTION_OK) {
        c->backoff_ms = 0;
        c->retry_at_ms = 0;
        return VOUCH_OK;
    }
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (c->backoff_ms > BACKOFF_MAX_MS)
        c->backoff_ms = BACKOFF_MAX_MS;
    c->retry_at_ms = now + c->backoff_ms;
    return vouch_fail(eb, VOUCH_E_STORE, "postgres: cannot connect: %s",
                      c->conn ? pq_msg(c->conn, NULL) : "out of memory");
}

/* This thread's connection, opened on first use and reopened when lost. */
static vouch_err conn_get(struct pgs *q, struct pgc **ret, struct vouch_errbuf *eb)
{
    struct pgc *c = pthread_getspecific(q->key);
    vouch_err e;

    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        c->owner = q;
        pthread_mutex_lock(&q->lock);
        c->next = q->conns;
        if (q->conns)
            q->conns->prev = c;
        q->conns = c;
        pthread_mutex_unlock(&q->lock);
        if (pthread_setspecific(q->key, c) != 0) {
            pthread_mutex_lock(&q->lock);
            conn_unlink_close(c);
            pthread_mutex_unlock(&q->lock);
            return vouch_fail(eb, VOUCH_E_INTERNAL, "pthread_setspecific failed");
        }
    }
    if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
        e = conn_connect(c, eb);
        if (e)
            return e;
    }
    *ret = c;
    return VOUCH_OK;
}

/*
 * The result of the command just sent (`sent`: what PQsend* returned), as
 * PQexec gives it: the last result, or the first error.  A server that has
 * not answered within QUERY_TIMEOUT_MS (hung, or a proxy holding the
 * connection open) costs the connection: its socket is shut down, the call
 * fails and the next one reconnects.  NULL when nothing could be sent.
 */
static PGresult *wait_result(struct pgc *c, int sent)
{
    int64_t deadline = mono_ms() + QUERY_TIMEOUT_MS;
    PGresult *r, *keep = NULL;

    if (!sent)
        return NULL;
    for (;;) {
        while (PQisBusy(c->conn)) {
            struct pollfd p = { .fd = PQsocket(c->conn), .events = POLLIN };
            int64_t left = deadline - mono_ms();
            int n = left > 0 ? poll(&p, 1, (int)left) : 0;

            if (n == 0 || (n < 0 && errno != EINTR))
                shutdown(p.fd, SHUT_RDWR);   /* libpq now reads the end of the stream */
            if (!PQconsumeInput(c->conn))
                break;                       /* the error comes as the next result */
        }
        r = PQgetResult(c->conn);
        if (!r)
            return keep;
        if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
    }
}

/* Run a command and ignore its result (ROLLBACK after a failure). */
static void exec_quiet(struct pgc *c, const char *sql)
{
    PQclear(wait_result(c, PQsendQuery(c->conn, sql)));
}

/* Run a command without parameters (BEGIN, COMMIT, DDL). */
static vouch_err exec_sql(struct pgc *c, const char *sql, struct vouch_errbuf *eb)
{
    PGresult *r = wait_result(c, PQsendQuery(c->conn, sql));
    vouch_err e = VOUCH_OK;
    ExecStatusType st = PQresultStatus(r);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        e = db_fail(c->conn, r, eb, "postgres");
    PQclear(r);
    return e;
}

/*
 * Run prepared statement `id` with `n` parameters (text, except those
 * with a length in `lens`, which are binary).  Results come in binary.
 */
static vouch_err run(struct pgc *c, enum stmt id, int n, const char *const *vals,
                     const int *lens, PGresult **ret, struct vouch_errbuf *eb)
{
    char name[8];
    int fmts[8] = { 0 }, i;
    PGresult *r;
    ExecStatusType st;

    snprintf(name, sizeof(name), "v%d", (int)id);
    if (!(c->prepared[id / 64] & (UINT64_C(1) << (id % 64)))) {
        r = wait_result(c, PQsendPrepare(c->conn, name, stmt_sql[id], 0, NULL));
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            vouch_err e = db_fail(c->conn, r, eb, "prepare");

            PQclear(r);
            return e;
        }
        PQclear(r);
        c->prepared[id / 64] |= UINT64_C(1) << (id % 64);
    }
    for (i = 0; lens && i < n && i < 8; i++)
        fmts[i] = lens[i] >= 0;
    r = wait_result(c, PQsendQueryPrepared(c->conn, name, n, vals, lens, lens ? fmts : NULL, 1));
    st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        vouch_err e = db_fail(c->conn, r, eb, "query");

        PQclear(r);
        return e;
    }
    *ret = r;
    return VOUCH_OK;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    int i;

    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
        return 0;
    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static char *col_strdup(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* SQLite's growing row id, PostgreSQL's BIGSERIAL. */
#define AUTO_ID "INTEGER PRIMARY KEY AUTOINCREMENT"

/* The shared migration SQL in PostgreSQL's types: BLOB is BYTEA, AUTO_ID is BIGSERIAL. */
static char *pg_dialect(const char *sql)
{
    size_t n = strlen(sql), i, j = 0;
    char *out = malloc(n * 2 + 1);

    if (!out)
        return NULL;
    for (i = 0; i < n;) {
        if (strncmp(sql + i, AUTO_ID, sizeof(AUTO_ID) - 1) == 0) {
            memcpy(out + j, "BIGSERIAL PRIMARY KEY", 21);
            j += 21;
            i += sizeof(AUTO_ID) - 1;
        } else if (strncmp(sql + i, "BLOB", 4) == 0 && (i == 0 || sql[i - 1] == ' ') &&
            (sql[i + 4] == ' ' || sql[i + 4] == ',' || sql[i + 4] == ')')) {
            memcpy(out + j, "BYTEA", 5);
            j += 5;
            i += 4;
        } else {
            out[j++] = sql[i++];
        }
    }
    out[j] = '\0';
    return out;
}

static vouch_err current_version(struct pgc *c, int *ret, struct vouch_errbuf *eb)
{
    PGresult *r = NULL;
    vouch_err e = run(c, S_VERSION, 0, NULL, NULL, &r, eb);

    if (!e)
        *ret = (int)col_i64(r, 0, 0);
    PQclear(r);
    return e;
}

/* Apply missing migrations in one transaction under the migration lock. */
static vouch_err migrate(struct pgc *c, struct vouch_errbuf *eb)
{
    int version = 0, i;
    char sql[128];
    vouch_err e;

    e = exec_sql(c, "BEGIN", eb);
    if (e)
        return e;
    e = exec_sql(c, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", eb);
    if (!e)
        e = exec_sql(c, "CREATE TABLE IF NOT EXISTS schema_version ("
                        " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)", eb);
    if (!e)
        e = current_version(c, &version, eb);
    if (e)
        goto out;
    if (version > vouch_store_n_migrations) {
        e = vouch_fail(eb, VOUCH_E_STORE, "database schema version %d is newer than this "
                       "build knows (%d); upgrade vouch", version, vouch_store_n_migrations);
        goto out;
    }
    for (i = version; i < vouch_store_n_migrations; i++) {
        char *m = pg_dialect(vouch_store_migrations[i]);

        if (!m) {
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
        e = exec_sql(c, m, eb);
        free(m);
        if (e) {
            vouch_fail_prefix(eb, e, "migration %d: ", i + 1);
            goto out;
        }
        snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, now()::text)",
                 i + 1);
        e = exec_sql(c, sql, eb);
        if (e)
            goto out;
    }
    e = exec_sql(c, "COMMIT", eb);
out:
    if (e)
        exec_quiet(c, "ROLLBACK");
    return e;
}

static void pg_close(void *state)
{
    struct pgs *q = state;

    if (!q)
        return;
    pthread_key_delete(q->key);
    pthread_mutex_lock(&q->lock);
    while (q->conns)
        conn_unlink_close(q->conns);
    pthread_mutex_unlock(&q->lock);
    pthread_mutex_destroy(&q->lock);
    free(q->url);
    free(q);
}

static vouch_err pg_open(const char *location, int do_migrate, void **ret_state,
                         struct vouch_errbuf *eb)
{
    struct pgs *q;
    struct pgc *c = NULL;
    vouch_err e;

    if (strlen(location) > 4096)
        return vouch_fail(eb, VOUCH_E_INVALID, "database URL too long");
    q = calloc(1, sizeof(*q));
    if (!q)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    q->url = strdup(location);
    if (!q->url || pthread_key_create(&q->key, conn_thread_exit) != 0) {
        free(q->url);
        free(q);
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&q->lock, NULL);
    e = conn_get(q, &c, eb);
    if (!e && do_migrate)
        e = migrate(c, eb);
    if (e) {
        pg_close(q);
        return e;
    }
    *ret_state = q;
    return VOUCH_OK;
}

static vouch_err pg_schema_version(void *state, int *ret, struct vouch_errbuf *eb)
{
    PGresult *r;
    struct pgc *c;
    int exists;
    vouch_err e = conn_get(state, &c, eb);

    if (e)
        return e;
    /* A database never migrated has no version table: version 0. */
    r = wait_result(c, PQsendQuery(c->conn, "SELECT to_regclass('schema_version') IS NOT NULL"));
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        e = db_fail(c->conn, r, eb, "schema version");
        PQclear(r);
        return e;
    }
    exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists) {
        *ret = 0;
        return VOUCH_OK;
    }
    return current_version(c, ret, eb);
}

static vouch_err pg_meta_get(void *state, const char *key, char **ret, struct vouch_errbuf *eb)
{
    const char *vals[] = { key };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_META_GET, 1, vals, NULL, &r, eb);
    if (e)
        goto out;
    if (PQntuples(r) == 0) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no setting '%s'", key);
        goto out;
    }
    *ret = col_strdup(r, 0, 0);
    if (!*ret)
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
out:
    PQclear(r);
    return e;
}

static vouch_err pg_meta_set(void *state, const char *key, const char *value, int replace,
                             struct vouch_errbuf *eb)
{
    const char *vals[] = { key, value };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, replace ? S_META_PUT : S_META_INSERT, 2, vals, NULL, &r, eb);
    PQclear(r);
    return e;
}

static vouch_err pg_keys_list(void *state, struct vouch_store_key **ret, size_t *ret_n,
                              struct vouch_errbuf *eb)
{
    struct vouch_store_key *keys = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0, i;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_KEYS_LIST, 0, NULL, NULL, &r, eb);
    if (e)
        goto out;
    keys = calloc((size_t)PQntuples(r) + 1, sizeof(*keys));
    if (!keys) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < (size_t)PQntuples(r); i++, n++) {
        struct vouch_store_key *k = &keys[i];

        snprintf(k->kid, sizeof(k->kid), "%s", PQgetvalue(r, (int)i, 0));
        snprintf(k->alg, sizeof(k->alg), "%s", PQgetvalue(r, (int)i, 1));
        k->private_pem = col_strdup(r, (int)i, 2);
        k->created_at = col_i64(r, (int)i, 3);
        k->retired_at = col_i64(r, (int)i, 4);
        if (!k->private_pem) {
            n++;
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
            goto out;
        }
    }
    *ret = keys;
    *ret_n = n;
    keys = NULL;
out:
    PQclear(r);
    vouch_store_keys_free(keys, n);
    return e;
}

/* Retire the active key of k->alg (replace) or check there is none,
 * then insert k: one transaction. */
static vouch_err pg_key_activate(void *state, const struct vouch_store_key *k, int replace,
                                 int64_t now, struct vouch_errbuf *eb)
{
    char now_s[24], created[24];
    const char *retire[] = { k->alg, now_s };
    const char *ins[] = { k->kid, k->alg, k->private_pem, created };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
    snprintf(created, sizeof(created), "%lld", (long long)k->created_at);
    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_sql(c, "BEGIN", eb);
    if (e)
        return e;
    e = run(c, replace ? S_KEY_RETIRE : S_KEY_ACTIVE, replace ? 2 : 1, retire, NULL, &r, eb);
    if (!e && !replace && PQntuples(r) > 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "an active %s key already exists", k->alg);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_KEY_INSERT, 4, ins, NULL, &r, eb);
    PQclear(r);
    if (!e)
        e = exec_sql(c, "COMMIT", eb);
    if (e)
        exec_quiet(c, "ROLLBACK");
    return e;
}

static vouch_err pg_doc_put(void *state, const char *kind, const char *id, const void *body,
                            size_t body_len, const char *meta, int64_t expires_at, int64_t now,
                            struct vouch_errbuf *eb)
{
    char exp_s[24], now_s[24];
    const char *vals[] = { kind, id, body_len ? body : "", meta, exp_s, now_s };
    const int lens[] = { -1, -1, (int)body_len, -1, -1, -1 };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    if (body_len > VOUCH_STORE_DOC_MAX)
        return vouch_fail(eb, VOUCH_E_TOO_LARGE, "document over %u bytes", VOUCH_STORE_DOC_MAX);
    snprintf(exp_s, sizeof(exp_s), "%lld", (long long)expires_at);
    snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_DOC_PUT, 6, vals, lens, &r, eb);
    PQclear(r);
    return e;
}

/* Fill d from row `row`: kind, id, body, meta, expires_at, updated_at. */
static vouch_err doc_from_row(const PGresult *r, int row, int with_body,
                              struct vouch_store_doc *d, struct vouch_errbuf *eb)
{
    memset(d, 0, sizeof(*d));
    d->kind = col_strdup(r, row, 0);
    d->id = col_strdup(r, row, 1);
    d->meta = col_strdup(r, row, 3);
    d->expires_at = col_i64(r, row, 4);
    d->updated_at = col_i64(r, row, 5);
    if (!d->kind || !d->id || (!PQgetisnull(r, row, 3) && !d->meta))
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (with_body) {
        size_t n = (size_t)PQgetlength(r, row, 2);

        d->body = malloc(n + 1);
        if (!d->body)
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        memcpy(d->body, PQgetvalue(r, row, 2), n);
        d->body[n] = '\0';
        d->body_len = n;
    }
    return VOUCH_OK;
}

static vouch_err pg_doc_get(void *state, const char *kind, const char *id,
                            struct vouch_store_doc **ret, struct vouch_errbuf *eb)
{
    const char *vals[] = { kind, id };
    struct vouch_store_doc *d = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_DOC_GET, 2, vals, NULL, &r, eb);
    if (e)
        goto out;
    if (PQntuples(r) == 0) {
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s '%s'", kind, id);
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    e = doc_from_row(r, 0, 1, d, eb);
    if (e)
        goto out;
    *ret = d;
    d = NULL;
out:
    vouch_store_doc_free(d);
    PQclear(r);
    return e;
}

static vouch_err pg_doc_list(void *state, const char *kind, const char *prefix, int with_body,
                             size_t limit, struct vouch_store_doc **ret, size_t *ret_n,
                             struct vouch_errbuf *eb)
{
    char limit_s[24];
    const char *vals[] = { kind, prefix, limit_s, with_body ? "1" : "0" };
    struct vouch_store_doc *docs = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0, i;
    vouch_err e;

    snprintf(limit_s, sizeof(limit_s), "%lld",
             (long long)(limit > INT64_MAX ? INT64_MAX : (int64_t)limit));
    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_DOC_LIST, 4, vals, NULL, &r, eb);
    if (e)
        goto out;
    docs = calloc((size_t)PQntuples(r) + 1, sizeof(*docs));
    if (!docs) {
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        goto out;
    }
    for (i = 0; i < (size_t)PQntuples(r); i++) {
        e = doc_from_row(r, (int)i, with_body, &docs[n++], eb);
        if (e)
            goto out;
    }
    *ret = docs;
    *ret_n = n;
    docs = NULL;
out:
    vouch_store_docs_free(docs, n);
    PQclear(r);
    return e;
}

static vouch_err pg_doc_delete(void *state, const char *kind, const char *id,
                               struct vouch_errbuf *eb)
{
    const char *vals[] = { kind, id };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = run(c, S_DOC_DELETE, 2, vals, NULL, &r, eb);
    if (!e && strcmp(PQcmdTuples(r), "0") == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no %s '%s'", kind, id);
    PQclear(r);
    return e;
}

/* --- whole-store copy and leases -------------------------------------------
 *
 * Run seldom (a copy) or once a second (a lease), so with unnamed
 * statements rather than prepared ones.
 */

/* Run `sql` with text parameters, except those with a length >= 0 in `lens` (binary);
 * results in binary (result_format 1) or text (0). */
static vouch_err exec_params_as(struct pgc *c, const char *sql, int n, const char *const *vals,
                                const int *lens, int result_format, PGresult **ret,
                                struct vouch_errbuf *eb)
{
    int fmts[8] = { 0 }, i;
    PGresult *r;
    ExecStatusType st;

    for (i = 0; lens && i < n && i < 8; i++)
        fmts[i] = lens[i] >= 0;
    r = wait_result(c, PQsendQueryParams(c->conn, sql, n, NULL, vals, lens, lens ? fmts : NULL,
                                         result_format));
    st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        vouch_err e = db_fail(c->conn, r, eb, "query");

        PQclear(r);
        return e;
    }
    *ret = r;
    return VOUCH_OK;
}

static vouch_err exec_params(struct pgc *c, const char *sql, int n, const char *const *vals,
                             const int *lens, PGresult **ret, struct vouch_errbuf *eb)
{
    return exec_params_as(c, sql, n, vals, lens, 1, ret, eb);
}

static vouch_err read_meta(struct pgc *c, struct vouch_store_contents *out,
                           struct vouch_errbuf *eb)
{
    PGresult *r = NULL;
    vouch_err e;
    int i;

    e = exec_params(c, "SELECT key, value FROM meta ORDER BY key COLLATE \"C\"", 0, NULL, NULL,
                    &r, eb);
    if (e)
        return e;
    out->meta = calloc((size_t)PQntuples(r) + 1, sizeof(*out->meta));
    if (!out->meta)
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; !e && i < PQntuples(r); i++) {
        struct vouch_store_setting *m = &out->meta[out->n_meta++];

        m->key = col_strdup(r, i, 0);
        m->value = col_strdup(r, i, 1);
        if (!m->key || !m->value)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    PQclear(r);
    return e;
}

static vouch_err read_docs(struct pgc *c, struct vouch_store_contents *out,
                           struct vouch_errbuf *eb)
{
    PGresult *r = NULL;
    vouch_err e;
    int i;

    e = exec_params(c, "SELECT kind, id, body, meta, expires_at, updated_at FROM documents "
                       "ORDER BY kind COLLATE \"C\", id COLLATE \"C\"", 0, NULL, NULL, &r, eb);
    if (e)
        return e;
    out->docs = calloc((size_t)PQntuples(r) + 1, sizeof(*out->docs));
    if (!out->docs)
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; !e && i < PQntuples(r); i++)
        e = doc_from_row(r, i, 1, &out->docs[out->n_docs++], eb);
    PQclear(r);
    return e;
}

/* One copied table, every value as text. */
static vouch_err read_table(struct pgc *c, const struct vouch_store_copy_table *t,
                            struct vouch_store_rows *out, struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX], **row;
    PGresult *r = NULL;
    size_t cap = 0, k;
    vouch_err e;
    int i;

    vouch_store_copy_select_sql(t, sql, sizeof(sql));
    e = exec_params_as(c, sql, 0, NULL, NULL, 0, &r, eb);
    for (i = 0; !e && i < PQntuples(r); i++) {
        e = vouch_store_rows_push(out, &cap, t->n_cols, &row, eb);
        for (k = 0; !e && k < t->n_cols; k++)
            if (!PQgetisnull(r, i, (int)k) && !(row[k] = strdup(PQgetvalue(r, i, (int)k))))
                e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    PQclear(r);
    return e;
}

static vouch_err read_tables(struct pgc *c, struct vouch_store_contents *out,
                             struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    size_t t;

    out->tables = calloc(vouch_store_n_copy_tables, sizeof(*out->tables));
    if (!out->tables)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (t = 0; !e && t < vouch_store_n_copy_tables; t++)
        e = read_table(c, &vouch_store_copy_tables[t], &out->tables[t], eb);
    return e;
}

static vouch_err pg_contents_read(void *state, struct vouch_store_contents *ret,
                                  struct vouch_errbuf *eb)
{
    struct vouch_store_contents out = { 0 };
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", eb);
    if (e)
        return e;
    e = read_meta(c, &out, eb);
    if (!e)
        e = pg_keys_list(state, &out.keys, &out.n_keys, eb);
    if (!e)
        e = read_docs(c, &out, eb);
    if (!e)
        e = read_tables(c, &out, eb);
    exec_quiet(c, e ? "ROLLBACK" : "COMMIT");
    if (e) {
        vouch_store_contents_done(&out);
        return e;
    }
    *ret = out;
    return VOUCH_OK;
}

static vouch_err count_on(struct pgc *c, struct vouch_store_counts *ret,
                          struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    PGresult *r = NULL;
    vouch_err e;

    e = exec_params(c, "SELECT (SELECT count(*) FROM meta), (SELECT count(*) FROM signing_keys), "
                       "(SELECT count(*) FROM documents), (SELECT count(*) FROM vtpm_accounts) + "
                       "(SELECT count(*) FROM vtpm_access_keys) + "
                       "(SELECT count(*) FROM vtpm_instances)", 0, NULL, NULL, &r, eb);
    if (!e) {
        ret->meta = (size_t)col_i64(r, 0, 0);
        ret->keys = (size_t)col_i64(r, 0, 1);
        ret->docs = (size_t)col_i64(r, 0, 2);
        ret->vtpm = (size_t)col_i64(r, 0, 3);
    }
    PQclear(r);
    r = NULL;
    vouch_store_copy_count_sql(sql, sizeof(sql));
    if (!e)
        e = exec_params(c, sql, 0, NULL, NULL, &r, eb);
    if (!e)
        ret->rows = (size_t)col_i64(r, 0, 0);
    PQclear(r);
    return e;
}

static vouch_err pg_count(void *state, struct vouch_store_counts *ret, struct vouch_errbuf *eb)
{
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    return e ? e : count_on(c, ret, eb);
}

static vouch_err write_key(struct pgc *c, const struct vouch_store_key *k,
                           struct vouch_errbuf *eb)
{
    char created[24], retired[24];
    const char *vals[] = { k->kid, k->alg, k->private_pem, created,
                           k->retired_at ? retired : NULL };
    PGresult *r = NULL;
    vouch_err e;

    snprintf(created, sizeof(created), "%lld", (long long)k->created_at);
    snprintf(retired, sizeof(retired), "%lld", (long long)k->retired_at);
    e = exec_params(c, "INSERT INTO signing_keys (kid, alg, private_pem, created_at, retired_at) "
                       "VALUES ($1, $2, $3, $4::bigint, $5::bigint)", 5, vals, NULL, &r, eb);
    PQclear(r);
    return e;
}

static vouch_err write_doc(struct pgc *c, const struct vouch_store_doc *d,
                           struct vouch_errbuf *eb)
{
    char exp_s[24], upd_s[24];
    const char *vals[] = { d->kind, d->id, d->body_len ? (const char *)d->body : "", d->meta,
                           exp_s, upd_s };
    const int lens[] = { -1, -1, (int)d->body_len, -1, -1, -1 };
    PGresult *r = NULL;
    vouch_err e;

    snprintf(exp_s, sizeof(exp_s), "%lld", (long long)d->expires_at);
    snprintf(upd_s, sizeof(upd_s), "%lld", (long long)d->updated_at);
    e = exec_params(c, "INSERT INTO documents (kind, id, body, meta, expires_at, updated_at) "
                       "VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint)", 6, vals, lens, &r, eb);
    PQclear(r);
    return e;
}

static vouch_err write_rows(struct pgc *c, const struct vouch_store_contents *in,
                            struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    PGresult *r = NULL;
    size_t i;

    for (i = 0; !e && i < in->n_meta; i++) {
        const char *vals[] = { in->meta[i].key, in->meta[i].value };

        e = exec_params(c, "INSERT INTO meta (key, value) VALUES ($1, $2)", 2, vals, NULL, &r,
                        eb);
        PQclear(r);
        r = NULL;
    }
    for (i = 0; !e && i < in->n_keys; i++)
        e = write_key(c, &in->keys[i], eb);
    for (i = 0; !e && i < in->n_docs; i++)
        e = write_doc(c, &in->docs[i], eb);
    return e;
}

/* The copied tables' rows; the column types convert the text values. */
static vouch_err write_tables(struct pgc *c, const struct vouch_store_contents *in,
                              struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    vouch_err e = VOUCH_OK;
    PGresult *r = NULL;
    size_t t, i;

    for (t = 0; !e && in->tables && t < vouch_store_n_copy_tables; t++) {
        const struct vouch_store_copy_table *tab = &vouch_store_copy_tables[t];

        vouch_store_copy_insert_sql(tab, '$', sql, sizeof(sql));
        for (i = 0; !e && i < in->tables[t].n_rows; i++) {
            e = exec_params_as(c, sql, (int)tab->n_cols,
                               (const char *const *)in->tables[t].values + i * tab->n_cols,
                               NULL, 0, &r, eb);
            PQclear(r);
            r = NULL;
        }
        /* The copied ids are the serial column's: its sequence continues after them. */
        if (!e && tab->serial) {
            snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
                     "coalesce(max(%s), 0) + 1, false) FROM %s", tab->name, tab->serial,
                     tab->serial, tab->name);
            e = exec_params_as(c, sql, 0, NULL, NULL, 0, &r, eb);
            PQclear(r);
            r = NULL;
        }
    }
    return e;
}

/* vouch_store_copy_clear's way to run a statement. */
static vouch_err copy_exec(void *conn, const char *sql, struct vouch_errbuf *eb)
{
    return exec_sql(conn, sql, eb);
}

/* LOCK TABLE of every table a copy writes. */
static const char *lock_sql(char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "LOCK TABLE meta, signing_keys, documents"), t;

    for (t = 0; t < vouch_store_n_copy_tables && used < size; t++)
        used += (size_t)snprintf(out + used, size - used, ", %s",
                                 vouch_store_copy_tables[t].name);
    if (used < size)
        snprintf(out + used, size - used, " IN EXCLUSIVE MODE");
    return out;
}

static vouch_err pg_contents_write(void *state, const struct vouch_store_contents *in, int force,
                                   struct vouch_errbuf *eb)
{
    char sql[VOUCH_STORE_COPY_SQL_MAX];
    struct vouch_store_counts n;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_sql(c, "BEGIN", eb);
    if (e)
        return e;
    /* Writers of the copied tables wait until the copy is committed. */
    e = exec_sql(c, lock_sql(sql, sizeof(sql)), eb);
    if (!e)
        e = count_on(c, &n, eb);
    if (!e && !force && (n.meta || n.keys || n.docs || n.rows))
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "the target holds %zu settings, %zu keys, "
                       "%zu documents and %zu vTPM and audit rows already", n.meta, n.keys,
                       n.docs, n.rows);
    if (!e && force)
        e = exec_sql(c, "DELETE FROM documents; DELETE FROM signing_keys; DELETE FROM meta", eb);
    if (!e && in->tables)
        e = vouch_store_copy_clear(force, copy_exec, c, eb);
    if (!e)
        e = write_rows(c, in, eb);
    if (!e)
        e = write_tables(c, in, eb);
    if (!e)
        e = exec_sql(c, "COMMIT", eb);
    if (e)
        exec_quiet(c, "ROLLBACK");
    return e;
}

static vouch_err pg_lease_acquire(void *state, const char *name, const char *holder,
                                  int64_t now_ms, int64_t ttl_ms, int *ret_held,
                                  struct vouch_errbuf *eb)
{
    char now_s[24], ttl_s[24];
    const char *vals[] = { name, holder, now_s, ttl_s };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    snprintf(now_s, sizeof(now_s), "%lld", (long long)now_ms);
    snprintf(ttl_s, sizeof(ttl_s), "%lld", (long long)ttl_ms);
    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_params(c, "INSERT INTO leases (name, holder, expires_at) "
                           "VALUES ($1, $2, $3::bigint + $4::bigint) ON CONFLICT (name) DO UPDATE "
                           "SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at "
                           "WHERE leases.holder = EXCLUDED.holder "
                           "OR leases.expires_at <= $3::bigint", 4, vals, NULL, &r, eb);
    if (!e)
        *ret_held = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return e;
}

static vouch_err pg_lease_release(void *state, const char *name, const char *holder,
                                  struct vouch_errbuf *eb)
{
    const char *vals[] = { name, holder };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;

    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_params(c, "DELETE FROM leases WHERE name = $1 AND holder = $2", 2, vals, NULL,
                        &r, eb);
    PQclear(r);
    return e;
}

/* Replace secrets in one transaction, each only if it still holds its old value. */
static vouch_err pg_secrets_replace(void *state, const struct vouch_store_secret_change *ch,
                                    size_t n, struct vouch_errbuf *eb)
{
    static const char *const sql[] = {
        [VOUCH_STORE_SECRET_SIGNING_KEY] =
            "UPDATE signing_keys SET private_pem = $3 WHERE kid = $1 AND private_pem = $2",
        [VOUCH_STORE_SECRET_META] = "UPDATE meta SET value = $3 WHERE key = $1 AND value = $2",
    };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e;
    size_t i;

    e = conn_get(state, &c, eb);
    if (!e)
        e = exec_sql(c, "BEGIN", eb);
    if (e)
        return e;
    for (i = 0; i < n && !e; i++) {
        const char *vals[] = { ch[i].id, ch[i].old_value, ch[i].new_value };

        e = exec_params(c, sql[ch[i].row], 3, vals, NULL, &r, eb);
        if (!e && strcmp(PQcmdTuples(r), "1") != 0)
            e = vouch_fail(eb, VOUCH_E_CONFLICT, "secret '%s' changed meanwhile", ch[i].id);
        PQclear(r);
        r = NULL;
    }
    if (!e)
        e = exec_sql(c, "COMMIT", eb);
    if (e)
        exec_quiet(c, "ROLLBACK");
    return e;
}

/* --- vTPM ------------------------------------------------------------------ */

#define I64_LEN 24

static const char *i64s(char buf[I64_LEN], int64_t v)
{
    snprintf(buf, I64_LEN, "%lld", (long long)v);
    return buf;
}

/* Run statement id (text parameters) and drop the result; *ret_changes
 * (may be NULL) gets the affected row count. */
static vouch_err run_write(struct pgc *c, enum stmt id, int n, const char *const *vals,
                           int *ret_changes, struct vouch_errbuf *eb)
{
    PGresult *r = NULL;
    vouch_err e = run(c, id, n, vals, NULL, &r, eb);

    if (!e && ret_changes)
        *ret_changes = atoi(PQcmdTuples(r));
    PQclear(r);
    return e;
}

static vouch_err begin(struct pgs *q, struct pgc **ret, struct vouch_errbuf *eb)
{
    vouch_err e = conn_get(q, ret, eb);

    return e ? e : exec_sql(*ret, "BEGIN", eb);
}

static vouch_err finish(struct pgc *c, vouch_err e, struct vouch_errbuf *eb)
{
    if (!e)
        e = exec_sql(c, "COMMIT", eb);
    if (e)
        PQclear(PQexec(c->conn, "ROLLBACK"));
    return e;
}

static vouch_err pg_accesskey_create(void *state, const char *account, const char *id,
                                     const char *secret, int64_t now_ms,
                                     struct vouch_errbuf *eb)
{
    char now_s[I64_LEN];
    const char *acc[] = { account, i64s(now_s, now_ms) };
    const char *key[] = { id, account, secret, now_s };
    struct pgc *c;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = run_write(c, S_ACCOUNT_ENSURE, 2, acc, NULL, eb);
    if (!e)
        e = run_write(c, S_AK_INSERT, 4, key, NULL, eb);
    return finish(c, e, eb);
}

/* Rows of (id, account, secret or NULL, enabled, created_ms). */
static vouch_err accesskeys_read(const PGresult *r, struct vouch_store_accesskey **ret,
                                 size_t *ret_n, struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i;
    struct vouch_store_accesskey *k = calloc(rows + 1, sizeof(*k));
    vouch_err e = VOUCH_OK;

    if (!k)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows; i++) {
        snprintf(k[i].id, sizeof(k[i].id), "%s", PQgetvalue(r, (int)i, 0));
        snprintf(k[i].account, sizeof(k[i].account), "%s", PQgetvalue(r, (int)i, 1));
        k[i].secret = col_strdup(r, (int)i, 2);
        k[i].enabled = col_i64(r, (int)i, 3) != 0;
        k[i].created_ms = col_i64(r, (int)i, 4);
        if (!PQgetisnull(r, (int)i, 2) && !k[i].secret)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (e) {
        vouch_store_accesskeys_free(k, rows);
        return e;
    }
    *ret = k;
    *ret_n = rows;
    return VOUCH_OK;
}

static vouch_err pg_accesskey_get(void *state, const char *id,
                                  struct vouch_store_accesskey **ret, struct vouch_errbuf *eb)
{
    const char *vals[] = { id };
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_AK_GET, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%s'", id);
    if (!e)
        e = accesskeys_read(r, ret, &n, eb);
    PQclear(r);
    return e;
}

static vouch_err pg_accesskey_list(void *state, const char *account,
                                   struct vouch_store_accesskey **ret, size_t *ret_n,
                                   struct vouch_errbuf *eb)
{
    const char *vals[] = { account ? account : "" };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_AK_LIST, 1, vals, NULL, &r, eb);
    if (!e)
        e = accesskeys_read(r, ret, ret_n, eb);
    PQclear(r);
    return e;
}

static vouch_err pg_accesskey_disable(void *state, const char *id, struct vouch_errbuf *eb)
{
    const char *vals[] = { id };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_AK_DISABLE, 1, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no access key '%s'", id);
    return e;
}

static vouch_err pg_instance_register(void *state, const struct vouch_store_instance *in,
                                      int64_t now_ms, struct vouch_errbuf *eb)
{
    char n[8][I64_LEN], now_s[I64_LEN], rec[I64_LEN];
    const char *vals[VOUCH_STORE_INSTANCE_NCOLS] = {
        in->uuid, in->account, in->instance_id, in->instance_type, in->name, in->private_ip,
        in->public_ip, in->extensions, i64s(n[0], in->affiliation),
        i64s(n[1], in->system_status), i64s(n[2], in->system_whitelist_id),
        i64s(n[3], in->system_exceptions), in->system_detail, i64s(n[4], in->program_status),
        i64s(n[5], in->program_whitelist_id), i64s(n[6], in->program_exceptions),
        in->program_detail, in->program_whitelist_name, i64s(now_s, now_ms), now_s,
        i64s(rec, in->recent_report_ms),
    };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_INST_REGISTER, VOUCH_STORE_INSTANCE_NCOLS, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "instance '%s' belongs to another account",
                       in->uuid);
    return e;
}

static vouch_err instance_from_row(const PGresult *r, int row, struct vouch_store_instance *in,
                                   struct vouch_errbuf *eb)
{
    char **text[] = { &in->uuid, &in->account, &in->instance_id, &in->instance_type,
                      &in->name, &in->private_ip, &in->public_ip, &in->extensions };
    size_t i;

    memset(in, 0, sizeof(*in));
    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        *text[i] = col_strdup(r, row, (int)i);
    in->affiliation = col_i64(r, row, 8);
    in->system_status = col_i64(r, row, 9);
    in->system_whitelist_id = col_i64(r, row, 10);
    in->system_exceptions = col_i64(r, row, 11);
    in->system_detail = col_strdup(r, row, 12);
    in->program_status = col_i64(r, row, 13);
    in->program_whitelist_id = col_i64(r, row, 14);
    in->program_exceptions = col_i64(r, row, 15);
    in->program_detail = col_strdup(r, row, 16);
    in->program_whitelist_name = col_strdup(r, row, 17);
    in->created_ms = col_i64(r, row, 18);
    in->modified_ms = col_i64(r, row, 19);
    in->recent_report_ms = col_i64(r, row, 20);
    for (i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        if (!*text[i])
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!in->system_detail || !in->program_detail || !in->program_whitelist_name)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    return VOUCH_OK;
}

static vouch_err instances_read(const PGresult *r, struct vouch_store_instance **ret,
                                size_t *ret_n, struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i, n = 0;
    struct vouch_store_instance *v = calloc(rows + 1, sizeof(*v));
    vouch_err e = VOUCH_OK;

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows && !e; i++)
        e = instance_from_row(r, (int)i, &v[n++], eb);
    if (e) {
        vouch_store_instances_free(v, n);
        return e;
    }
    *ret = v;
    *ret_n = n;
    return VOUCH_OK;
}

static vouch_err pg_instance_get(void *state, const char *uuid,
                                 struct vouch_store_instance **ret, struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_INST_GET, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    if (!e)
        e = instances_read(r, ret, &n, eb);
    PQclear(r);
    return e;
}

static vouch_err pg_instance_delete(void *state, const char *account, const char *uuid,
                                    struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid, account };
    struct pgc *c;
    int changes = 0;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = run_write(c, S_INST_DELETE, 2, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    if (!e)
        e = run_write(c, S_NONCE_DROP_INSTANCE, 1, vals, NULL, eb);
    return finish(c, e, eb);
}

static vouch_err pg_instance_list(void *state, const char *account,
                                  const struct vouch_store_instance_filter *f, uint64_t offset,
                                  size_t limit, struct vouch_store_instance **ret,
                                  size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct vouch_store_instance_filter any = VOUCH_STORE_INSTANCE_FILTER_ANY;
    const struct vouch_store_instance_filter *w = f ? f : &any;
    char n[6][I64_LEN];
    const char *vals[] = { account, i64s(n[0], w->system_status), i64s(n[1], w->program_status),
                           i64s(n[2], w->online), i64s(n[3], w->online_since_ms),
                           i64s(n[4], (int64_t)limit), i64s(n[5], (int64_t)offset) };
    PGresult *r = NULL;
    struct pgc *c;
    int64_t total = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_INST_COUNT, 5, vals, NULL, &r, eb);
    if (!e)
        total = col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_INST_LIST, 7, vals, NULL, &r, eb);
    if (!e)
        e = instances_read(r, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    PQclear(r);
    return e;
}

static vouch_err pg_nonce_issue(void *state, const char *nonce, const char *uuid,
                                int64_t now_ms, int64_t expires_ms, struct vouch_errbuf *eb)
{
    char now_s[I64_LEN], exp_s[I64_LEN];
    const char *old[] = { i64s(now_s, now_ms) };
    const char *vals[] = { nonce, uuid, i64s(exp_s, expires_ms) };
    struct pgc *c;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = run_write(c, S_NONCE_PURGE, 1, old, NULL, eb);
    if (!e)
        e = run_write(c, S_NONCE_INSERT, 3, vals, NULL, eb);
    return finish(c, e, eb);
}

static vouch_err pg_nonce_take(void *state, const char *nonce, const char *uuid,
                               int64_t now_ms, struct vouch_errbuf *eb)
{
    char now_s[I64_LEN];
    const char *vals[] = { nonce, uuid, i64s(now_s, now_ms) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_NONCE_TAKE, 3, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "nonce unknown, used, expired or issued to "
                       "another instance");
    return e;
}

/* One statement, no transaction: one round trip, no purge (the retention job purges). */
static vouch_err pg_request_nonce_use(void *state, const char *key_id, const char *nonce,
                                      int64_t now_ms, int64_t expires_ms,
                                      struct vouch_errbuf *eb)
{
    char now_s[I64_LEN], exp_s[I64_LEN];
    const char *vals[] = { key_id, nonce, i64s(exp_s, expires_ms), i64s(now_s, now_ms) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_RNONCE_USE, 4, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "SignatureNonce used");
    return e;
}

static vouch_err pg_request_nonces_save(void *state, const struct vouch_store_request_nonce *rows,
                                        size_t n, struct vouch_errbuf *eb)
{
    char exp_s[I64_LEN];
    struct pgc *c;
    size_t i;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    for (i = 0; !e && i < n; i++) {
        const char *vals[] = { rows[i].key_id, rows[i].nonce, i64s(exp_s, rows[i].expires_ms) };

        e = run_write(c, S_RNONCE_SAVE, 3, vals, NULL, eb);
    }
    return finish(c, e, eb);
}

static vouch_err pg_request_nonces_each(void *state, int64_t now_ms,
                                        bool (*fn)(void *ctx,
                                                   const struct vouch_store_request_nonce *r),
                                        void *ctx, struct vouch_errbuf *eb)
{
    char now_s[I64_LEN];
    const char *vals[] = { i64s(now_s, now_ms) };
    struct vouch_store_request_nonce row;
    PGresult *r = NULL;
    struct pgc *c;
    int i;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_RNONCE_LIVE, 1, vals, NULL, &r, eb);
    for (i = 0; !e && i < PQntuples(r); i++) {
        row.key_id = PQgetvalue(r, i, 0);
        row.nonce = PQgetvalue(r, i, 1);
        row.expires_ms = col_i64(r, i, 2);
        if (!fn(ctx, &row))
            e = vouch_fail(eb, VOUCH_E_LIMIT, "request nonces: stopped by the reader");
    }
    PQclear(r);
    return e;
}

static vouch_err pg_request_nonces_purge(void *state, int64_t now_ms, uint64_t *ret_deleted,
                                         struct vouch_errbuf *eb)
{
    char now_s[I64_LEN];
    const char *vals[] = { i64s(now_s, now_ms) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_RNONCE_PURGE, 1, vals, &changes, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes;
    return e;
}

/* --- vTPM reports, whitelists, events (migration 5) ------------------------ */

static vouch_err pg_ak_put(void *state, const char *uuid, const char *public_b64,
                           const char *cert_pem, int64_t now_ms, struct vouch_errbuf *eb)
{
    char st_s[I64_LEN], now_s[I64_LEN];
    const char *vals[] = { uuid, i64s(st_s, VOUCH_STORE_AK_PENDING), public_b64, cert_pem,
                           i64s(now_s, now_ms) };
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_VAK_PUT, 5, vals, NULL, eb);
    if (e == VOUCH_E_CONFLICT)      /* the foreign key: no such instance */
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no instance '%s'", uuid);
    return e;
}

static vouch_err pg_ak_get(void *state, const char *uuid, struct vouch_store_ak **ret,
                           struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    struct vouch_store_ak *ak = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_VAK_GET, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "instance '%s' has no AK", uuid);
    if (!e && !(ak = calloc(1, sizeof(*ak))))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e) {
        ak->state = col_i64(r, 0, 0);
        ak->public_b64 = col_strdup(r, 0, 1);
        ak->cert_pem = col_strdup(r, 0, 2);
        ak->created_ms = col_i64(r, 0, 3);
        if (!ak->public_b64 || !ak->cert_pem)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e) {
        *ret = ak;
        ak = NULL;
    }
    vouch_store_ak_free(ak);
    PQclear(r);
    return e;
}

static void col_copy(const PGresult *r, int row, int col, char *out, size_t size)
{
    snprintf(out, size, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* The baseline of `uuid` into *ret_id (-1: none) and b. */
static vouch_err baseline_read(struct pgc *c, const char *uuid, int64_t *ret_id,
                               char b[][VOUCH_STORE_HEX256], struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    PGresult *r = NULL;
    vouch_err e = run(c, S_WL_GET, 1, vals, NULL, &r, eb);

    if (!e && PQntuples(r) == 1) {
        *ret_id = col_i64(r, 0, 0);
        e = vouch_store_baseline_parse(PQgetvalue(r, 0, 1), b, eb);
    }
    PQclear(r);
    return e;
}

static vouch_err pg_vtpm_state_get(void *state, const char *uuid,
                                   struct vouch_store_vtpm_state *ret, struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_IMA_GET, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 1) {
        ret->reports = col_i64(r, 0, 0);
        ret->ima_next = col_i64(r, 0, 1);
        col_copy(r, 0, 2, ret->pcr10_sha1, sizeof(ret->pcr10_sha1));
        col_copy(r, 0, 3, ret->pcr10_sha256, sizeof(ret->pcr10_sha256));
        col_copy(r, 0, 4, ret->boot_aggregate, sizeof(ret->boot_aggregate));
        ret->reset_count = col_i64(r, 0, 5);
    }
    PQclear(r);
    if (!e)
        e = baseline_read(c, uuid, &ret->whitelist_id, ret->baseline, eb);
    if (!e && ret->whitelist_id >= 0 && (e = run(c, S_WL_GET, 1, vals, NULL, &r, eb)) == 0) {
        ret->whitelist_created_ms = col_i64(r, 0, 2);
        ret->whitelist_modified_ms = col_i64(r, 0, 3);
        PQclear(r);
    }
    return e;
}

static vouch_err pg_state_advance(struct pgc *c, const struct vouch_store_report *r,
                                  struct vouch_errbuf *eb)
{
    const struct vouch_store_vtpm_state *n = r->next;
    char v[5][I64_LEN];
    const char *vals[] = { r->uuid, i64s(v[0], r->expect_reports + 1), i64s(v[1], n->ima_next),
                           n->pcr10_sha1, n->pcr10_sha256, n->boot_aggregate,
                           i64s(v[2], n->reset_count), i64s(v[3], r->now_ms),
                           i64s(v[4], r->expect_reports) };
    int changes = 0;
    vouch_err e;

    if (r->expect_reports == 0)
        e = run_write(c, S_IMA_INSERT, 8, vals, &changes, eb);
    else
        e = run_write(c, S_IMA_UPDATE, 9, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "instance '%s' changed meanwhile", r->uuid);
    return e;
}

static vouch_err pg_baseline_write(struct pgc *c, const struct vouch_store_report *r,
                                   int64_t *ret_id, struct vouch_errbuf *eb)
{
    char text[VOUCH_STORE_BASELINE_TEXT], id_s[I64_LEN], now_s[I64_LEN];
    PGresult *res = NULL;
    int64_t id = 0;
    vouch_err e;

    if (!r->create_baseline) {
        *ret_id = r->next->whitelist_id;
        return VOUCH_OK;
    }
    e = run(c, S_WL_NEXT_ID, 0, NULL, NULL, &res, eb);
    if (!e && PQntuples(res) != 1)
        e = vouch_fail(eb, VOUCH_E_STORE, "whitelist ids: no counter");
    if (!e)
        id = col_i64(res, 0, 0);
    PQclear(res);
    vouch_store_baseline_format(r->next->baseline, text);
    if (!e) {
        const char *vals[] = { i64s(id_s, id), r->uuid, text, i64s(now_s, r->now_ms) };

        e = run_write(c, S_WL_INSERT, 4, vals, NULL, eb);
    }
    if (!e)
        *ret_id = id;
    return e;
}

static vouch_err pg_events_open(struct pgc *c, const struct vouch_store_report *r,
                                struct vouch_errbuf *eb)
{
    vouch_err e = VOUCH_OK;
    size_t i;

    for (i = 0; !e && i < r->n_events; i++) {
        const struct vouch_store_event_new *ev = &r->events[i];
        char v[3][I64_LEN];
        const char *vals[] = { ev->uuid, r->uuid, i64s(v[0], ev->type), i64s(v[1], ev->level),
                               ev->suspect, ev->suspect_value, ev->whitelist_value,
                               i64s(v[2], r->now_ms) };
        const char *again[] = { r->uuid, v[0], ev->suspect, ev->suspect_value,
                                ev->whitelist_value, v[2] };
        int changes = 0;

        e = run_write(c, S_EV_REPEAT, 6, again, &changes, eb);
        if (!e && changes == 0)
            e = run_write(c, S_EV_INSERT, 8, vals, NULL, eb);
    }
    return e;
}

static vouch_err pg_verdict_write(struct pgc *c, const char *uuid, int64_t status,
                                  int64_t whitelist_id, const char b[][VOUCH_STORE_HEX256],
                                  int64_t report_ms, struct vouch_errbuf *eb)
{
    char detail[VOUCH_STORE_DETAIL_TEXT], v[3][I64_LEN];
    const char *vals[] = { uuid, i64s(v[0], status), i64s(v[1], whitelist_id), detail,
                           i64s(v[2], report_ms) };

    if (whitelist_id >= 0)
        vouch_store_baseline_detail(b, detail);
    else
        strcpy(detail, "{}");
    return run_write(c, S_VERDICT, 5, vals, NULL, eb);
}

static vouch_err pg_history_write(struct pgc *c, const struct vouch_store_report *r,
                                  struct vouch_errbuf *eb)
{
    int64_t seq = r->expect_reports + 1;
    char v[3][I64_LEN];
    const char *vals[] = { r->uuid, i64s(v[0], seq), i64s(v[1], r->now_ms), r->summary,
                           i64s(v[2], seq - (int64_t)r->keep) };

    return run_write(c, S_REP_WRITE, 5, vals, NULL, eb);
}

/* Both verdicts of a report, in one statement that returns the program status. */
static vouch_err pg_report_verdict(struct pgc *c, const struct vouch_store_report *r,
                                   int64_t wl, int64_t *ret_program_status,
                                   struct vouch_errbuf *eb)
{
    char detail[VOUCH_STORE_DETAIL_TEXT], v[4][I64_LEN];
    const char *vals[] = { r->uuid, i64s(v[0], r->system_status), i64s(v[1], wl), detail,
                           i64s(v[2], r->now_ms), i64s(v[3], r->program_status),
                           r->program_detail ? r->program_detail : "" };
    PGresult *res = NULL;
    vouch_err e;

    if (wl >= 0)
        vouch_store_baseline_detail(r->next->baseline, detail);
    else
        strcpy(detail, "{}");
    e = run(c, S_REPORT_VERDICT, 7, vals, NULL, &res, eb);
    /* no row: the instance is gone, as the statements before found out */
    if (!e)
        *ret_program_status = PQntuples(res) ? col_i64(res, 0, 0) : r->program_status;
    PQclear(res);
    return e;
}

/* The PCR events of the history row just written (migration 9). */
static vouch_err pg_pcr_events_write(struct pgc *c, const struct vouch_store_report *r,
                                     struct vouch_errbuf *eb)
{
    char seq[I64_LEN];
    const char *vals[] = { r->uuid, i64s(seq, r->expect_reports + 1), r->pcr_events };

    if (!r->pcr_events || !*r->pcr_events)
        return VOUCH_OK;
    return run_write(c, S_REP_EVENTS, 3, vals, NULL, eb);
}

/* The instance's program verdict from its open program events (see the macro). */
static vouch_err pg_program_verdict(struct pgc *c, const char *uuid, int64_t hint,
                                    const char *detail, struct vouch_errbuf *eb)
{
    char h[I64_LEN];
    const char *vals[] = { uuid, i64s(h, hint), detail ? detail : "" };

    return run_write(c, S_PROGRAM_VERDICT, 3, vals, NULL, eb);
}

static vouch_err pg_report_accept(void *state, const struct vouch_store_report *r,
                                  int64_t *ret_program_status, struct vouch_errbuf *eb)
{
    char now_s[I64_LEN];
    const char *nonce[] = { r->nonce, r->uuid, i64s(now_s, r->now_ms) };
    struct pgc *c;
    int64_t wl = -1, program_status = 0;
    int changes = 0;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = pg_state_advance(c, r, eb);
    if (!e)
        e = run_write(c, S_NONCE_TAKE, 3, nonce, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "nonce unknown, used, expired or issued to "
                       "another instance");
    if (!e && r->activate_ak)
        e = run_write(c, S_VAK_ACTIVATE, 1, nonce + 1, NULL, eb);
    if (!e)
        e = pg_baseline_write(c, r, &wl, eb);
    if (!e)
        e = pg_events_open(c, r, eb);
    if (!e)
        e = pg_report_verdict(c, r, wl, &program_status, eb);
    if (!e)
        e = pg_history_write(c, r, eb);
    if (!e)
        e = pg_pcr_events_write(c, r, eb);
    e = finish(c, e, eb);
    if (!e && ret_program_status)
        *ret_program_status = program_status;
    return e;
}

static vouch_err pg_report_last(void *state, const char *uuid, char **ret_summary,
                                int64_t *ret_ms, struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    PGresult *r = NULL;
    char *summary = NULL;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_REP_LAST, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no report of '%s'", uuid);
    if (!e && !(summary = col_strdup(r, 0, 0)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    if (!e) {
        *ret_ms = col_i64(r, 0, 1);
        *ret_summary = summary;
    }
    PQclear(r);
    return e;
}

static vouch_err pg_report_count(void *state, const char *uuid, uint64_t *ret,
                                 struct vouch_errbuf *eb)
{
    const char *vals[] = { uuid };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_REP_COUNT, 1, vals, NULL, &r, eb);
    if (!e)
        *ret = (uint64_t)col_i64(r, 0, 0);
    PQclear(r);
    return e;
}

static vouch_err report_rows_read(const PGresult *r, int with_events,
                                  struct vouch_store_report_row **ret, size_t *ret_n,
                                  struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i;
    struct vouch_store_report_row *v = calloc(rows + 1, sizeof(*v));

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows; i++) {
        v[i].seq = col_i64(r, (int)i, 0);
        v[i].received_ms = col_i64(r, (int)i, 1);
        v[i].summary = col_strdup(r, (int)i, 2);
        v[i].pcr_events = with_events ? col_strdup(r, (int)i, 3) : NULL;
        if (!v[i].summary || (with_events && !v[i].pcr_events)) {
            vouch_store_report_rows_free(v, i + 1);
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    *ret = v;
    *ret_n = rows;
    return VOUCH_OK;
}

static vouch_err pg_report_list(void *state, const char *uuid, uint64_t offset, size_t limit,
                                int with_events, struct vouch_store_report_row **ret,
                                size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    char v[3][I64_LEN];
    const char *vals[] = { uuid, i64s(v[0], (int64_t)limit), i64s(v[1], (int64_t)offset),
                           i64s(v[2], with_events ? 1 : 0) };
    PGresult *r = NULL;
    uint64_t total = 0;
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_REP_COUNT, 1, vals, NULL, &r, eb);
    if (!e)
        total = (uint64_t)col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_REP_LIST, 4, vals, NULL, &r, eb);
    if (!e)
        e = report_rows_read(r, with_events, ret, ret_n, eb);
    if (!e)
        *ret_total = total;
    PQclear(r);
    return e;
}

static vouch_err events_read(const PGresult *r, struct vouch_store_event **ret, size_t *ret_n,
                             struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i;
    struct vouch_store_event *v = calloc(rows + 1, sizeof(*v));

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows; i++) {
        struct vouch_store_event *ev = &v[i];
        char **text[] = { &ev->uuid, &ev->instance, &ev->account };
        int64_t *num[] = { &ev->type, &ev->level, &ev->status, &ev->handle_type,
                           &ev->accumulation };
        size_t k;

        for (k = 0; k < 3; k++)
            *text[k] = col_strdup(r, (int)i, (int)k);
        for (k = 0; k < 5; k++)
            *num[k] = col_i64(r, (int)i, (int)k + 3);
        ev->suspect = col_strdup(r, (int)i, 8);
        ev->suspect_value = col_strdup(r, (int)i, 9);
        ev->whitelist_value = col_strdup(r, (int)i, 10);
        ev->created_ms = col_i64(r, (int)i, 11);
        ev->modified_ms = col_i64(r, (int)i, 12);
        ev->handled_ms = col_i64(r, (int)i, 13);
        if (!ev->uuid || !ev->instance || !ev->account || !ev->suspect || !ev->suspect_value ||
            !ev->whitelist_value) {
            vouch_store_events_free(v, i + 1);
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    *ret = v;
    *ret_n = rows;
    return VOUCH_OK;
}

static vouch_err pg_event_list(void *state, const char *account,
                               const struct vouch_store_event_filter *f, uint64_t offset,
                               size_t limit, struct vouch_store_event **ret, size_t *ret_n,
                               uint64_t *ret_total, struct vouch_errbuf *eb)
{
    char v[10][I64_LEN];
    const char *vals[] = {
        account, f->instance ? f->instance : "", f->suspect ? f->suspect : "",
        i64s(v[0], f->type), i64s(v[1], f->level), i64s(v[2], f->status),
        i64s(v[3], f->handle_type), i64s(v[4], f->created_from), i64s(v[5], f->created_to),
        i64s(v[6], f->handled_from), i64s(v[7], f->handled_to), i64s(v[8], (int64_t)limit),
        i64s(v[9], (int64_t)offset),
    };
    PGresult *r = NULL;
    struct pgc *c;
    int64_t total = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_EV_COUNT, 11, vals, NULL, &r, eb);
    if (!e)
        total = col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_EV_LIST, 13, vals, NULL, &r, eb);
    if (!e)
        e = events_read(r, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    PQclear(r);
    return e;
}

/* Trusting a system event: its reported value becomes the baseline's. */
static vouch_err pg_baseline_trust(struct pgc *c, const struct vouch_store_event *ev,
                                   int64_t now_ms, struct vouch_errbuf *eb)
{
    char b[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256], text[VOUCH_STORE_BASELINE_TEXT];
    char now_s[I64_LEN];
    const char *vals[] = { ev->instance, text, i64s(now_s, now_ms) };
    int64_t id = -1;
    unsigned pcr = 0;
    vouch_err e = baseline_read(c, ev->instance, &id, b, eb);

    if (e || id < 0 || sscanf(ev->suspect, "pcr%u", &pcr) != 1 ||
        pcr >= VOUCH_STORE_BASELINE_PCRS || strlen(ev->suspect_value) != 64)
        return e;
    snprintf(b[pcr], sizeof(b[pcr]), "%s", ev->suspect_value);
    vouch_store_baseline_format(b, text);
    return run_write(c, S_WL_UPDATE, 3, vals, NULL, eb);
}

static vouch_err pg_event_close(struct pgc *c, const char *account, const char *uuid,
                                int64_t status, int64_t now_ms, char **ret_instance,
                                struct vouch_errbuf *eb)
{
    char v[3][I64_LEN];
    const char *get[] = { uuid, account };
    const char *upd[] = { uuid, i64s(v[0], status), i64s(v[1], status - 1), i64s(v[2], now_ms) };
    struct vouch_store_event *ev = NULL;
    PGresult *r = NULL;
    size_t n = 0;
    vouch_err e = run(c, S_EV_GET, 2, get, NULL, &r, eb);

    if (!e)
        e = events_read(r, &ev, &n, eb);
    PQclear(r);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no event '%s'", uuid);
    if (!e && ev->status != VOUCH_STORE_EVENT_OPEN)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "event '%s' is already handled", uuid);
    if (!e)
        e = run_write(c, S_EV_CLOSE, 4, upd, NULL, eb);
    if (!e && status == VOUCH_STORE_EVENT_TRUSTED && ev->type == VOUCH_STORE_EVENT_SYSTEM)
        e = pg_baseline_trust(c, ev, now_ms, eb);
    if (!e && !(*ret_instance = strdup(ev->instance)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    vouch_store_events_free(ev, n);
    return e;
}

static vouch_err pg_event_get(void *state, const char *account, const char *uuid,
                              struct vouch_store_event **ret, struct vouch_errbuf *eb)
{
    const char *get[] = { uuid, account };
    struct vouch_store_event *ev = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_EV_GET, 2, get, NULL, &r, eb);
    if (!e)
        e = events_read(r, &ev, &n, eb);
    PQclear(r);
    if (!e && n == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no event '%s'", uuid);
    if (!e) {
        *ret = ev;
        ev = NULL;
    }
    vouch_store_events_free(ev, n);
    return e;
}

static vouch_err pg_events_handle(void *state, const char *account, const char *const *uuids,
                                  size_t n, int64_t status, int64_t now_ms,
                                  struct vouch_errbuf *eb)
{
    char b[VOUCH_STORE_BASELINE_PCRS][VOUCH_STORE_HEX256];
    char **touched = calloc(n, sizeof(*touched));
    struct pgc *c = NULL;
    size_t i;
    vouch_err e = touched ? begin(state, &c, eb) : vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");

    if (!touched || e) {
        free(touched);
        return e;
    }
    for (i = 0; !e && i < n; i++)
        e = pg_event_close(c, account, uuids[i], status, now_ms, &touched[i], eb);
    for (i = 0; !e && i < n; i++) {
        int64_t id = -1;

        e = baseline_read(c, touched[i], &id, b, eb);
        if (!e && id >= 0)
            e = pg_verdict_write(c, touched[i], 0, id, b, 0, eb);
        if (!e)
            e = pg_program_verdict(c, touched[i], 0, NULL, eb);
    }
    e = finish(c, e, eb);
    for (i = 0; i < n; i++)
        free(touched[i]);
    free(touched);
    return e;
}

static vouch_err pg_instance_census(void *state, int64_t online_since_ms,
                                    struct vouch_store_census *ret, struct vouch_errbuf *eb)
{
    char since[I64_LEN];
    const char *vals[] = { i64s(since, online_since_ms) };
    PGresult *r = NULL;
    struct pgc *c;
    int i;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_INST_CENSUS, 1, vals, NULL, &r, eb);
    for (i = 0; !e && i < PQntuples(r); i++)
        vouch_store_census_add(ret, col_i64(r, i, 0), col_i64(r, i, 1), col_i64(r, i, 2));
    PQclear(r);
    return e;
}

/* --- audit log ------------------------------------------------------------- */

static vouch_err pg_audit_append(void *state, const struct vouch_store_audit *a,
                                 struct vouch_errbuf *eb)
{
    char at[I64_LEN], st[I64_LEN];
    const char *vals[] = { a->id, i64s(at, a->at_ms), a->actor, a->action, a->target,
                           i64s(st, a->status), a->code, a->request_id };
    struct pgc *c;
    vouch_err e = conn_get(state, &c, eb);

    return e ? e : run_write(c, S_AUDIT_INSERT, 8, vals, NULL, eb);
}

static vouch_err audits_read(const PGresult *r, struct vouch_store_audit **ret, size_t *ret_n,
                             struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i;
    struct vouch_store_audit *v = calloc(rows + 1, sizeof(*v)), *a;

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows; i++) {
        a = &v[i];
        snprintf(a->id, sizeof(a->id), "%s", PQgetvalue(r, (int)i, 0));
        a->at_ms = col_i64(r, (int)i, 1);
        a->actor = col_strdup(r, (int)i, 2);
        a->action = col_strdup(r, (int)i, 3);
        a->target = col_strdup(r, (int)i, 4);
        a->status = col_i64(r, (int)i, 5);
        a->code = col_strdup(r, (int)i, 6);
        a->request_id = col_strdup(r, (int)i, 7);
        if (!a->actor || !a->action || !a->target || !a->code || !a->request_id) {
            vouch_store_audits_free(v, i + 1);
            return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
        }
    }
    *ret = v;
    *ret_n = rows;
    return VOUCH_OK;
}

static vouch_err pg_audit_list(void *state, const struct vouch_store_audit_filter *f,
                               uint64_t offset, size_t limit, struct vouch_store_audit **ret,
                               size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    const struct vouch_store_audit_filter none = { NULL, NULL, 0, 0 };
    const struct vouch_store_audit_filter *w = f ? f : &none;
    char n[4][I64_LEN];
    const char *vals[] = { w->actor ? w->actor : "", w->action ? w->action : "",
                           i64s(n[0], w->since_ms), i64s(n[1], w->until_ms),
                           i64s(n[2], (int64_t)limit), i64s(n[3], (int64_t)offset) };
    PGresult *r = NULL;
    struct pgc *c;
    int64_t total = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_AUDIT_COUNT, 4, vals, NULL, &r, eb);
    if (!e)
        total = col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_AUDIT_LIST, 6, vals, NULL, &r, eb);
    if (!e)
        e = audits_read(r, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    PQclear(r);
    return e;
}

static vouch_err pg_audit_prune(void *state, int64_t before_ms, uint64_t *ret_deleted,
                                struct vouch_errbuf *eb)
{
    char b[I64_LEN];
    const char *vals[] = { i64s(b, before_ms) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_AUDIT_PRUNE, 1, vals, &changes, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes;
    return e;
}

/* --- vTPM program whitelists ----------------------------------------------- */

static vouch_err pg_whitelist_create(void *state, const struct vouch_store_whitelist *w,
                                     int64_t now_ms, int64_t *ret_id, struct vouch_errbuf *eb)
{
    char id_s[I64_LEN], n[3][I64_LEN];
    PGresult *r = NULL;
    struct pgc *c;
    int64_t id = 0;
    int changes = 0;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = run(c, S_PWL_NEXT_ID, 0, NULL, NULL, &r, eb);
    if (!e && PQntuples(r) != 1)
        e = vouch_fail(eb, VOUCH_E_STORE, "whitelist id counter missing");
    if (!e)
        id = col_i64(r, 0, 0);
    PQclear(r);
    if (!e) {
        const char *vals[] = { i64s(id_s, id), w->account, w->name, w->format, w->document,
                               i64s(n[0], w->digests), i64s(n[1], w->paths),
                               i64s(n[2], now_ms) };

        e = run_write(c, S_PWL_INSERT, 8, vals, &changes, eb);
    }
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "no account '%s'", w->account);
    e = finish(c, e, eb);
    if (!e)
        *ret_id = id;
    return e;
}

static vouch_err whitelists_read(const PGresult *r, unsigned what,
                                 struct vouch_store_whitelist **ret, size_t *ret_n,
                                 struct vouch_errbuf *eb)
{
    size_t rows = (size_t)PQntuples(r), i;
    struct vouch_store_whitelist *v = calloc(rows + 1, sizeof(*v));
    vouch_err e = VOUCH_OK;

    if (!v)
        return vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    for (i = 0; i < rows && !e; i++) {
        struct vouch_store_whitelist *w = &v[i];
        int row = (int)i, col = VOUCH_STORE_WHITELIST_NCOLS;

        w->id = col_i64(r, row, 0);
        w->account = col_strdup(r, row, 1);
        w->name = col_strdup(r, row, 2);
        w->format = col_strdup(r, row, 3);
        w->digests = col_i64(r, row, 4);
        w->paths = col_i64(r, row, 5);
        w->created_ms = col_i64(r, row, 6);
        w->modified_ms = col_i64(r, row, 7);
        w->instances = what & VOUCH_STORE_WL_INSTANCES ? col_i64(r, row, col++) : -1;
        if (what & VOUCH_STORE_WL_DOCUMENT)
            w->document = col_strdup(r, row, col);
        if (!w->account || !w->name || !w->format ||
            ((what & VOUCH_STORE_WL_DOCUMENT) && !w->document))
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (e) {
        vouch_store_whitelists_free(v, rows);
        return e;
    }
    *ret = v;
    *ret_n = rows;
    return VOUCH_OK;
}

static vouch_err pg_whitelist_get(void *state, int64_t id, unsigned what,
                                  struct vouch_store_whitelist **ret, struct vouch_errbuf *eb)
{
    static const enum stmt by_what[4] = { S_PWL_GET, S_PWL_GET_DOC, S_PWL_GET_COUNT,
                                          S_PWL_GET_COUNT_DOC };
    char id_s[I64_LEN];
    const char *vals[] = { i64s(id_s, id) };
    PGresult *r = NULL;
    struct pgc *c;
    size_t n = 0;
    vouch_err e = conn_get(state, &c, eb);

    what &= 3;
    if (!e)
        e = run(c, by_what[what], 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    if (!e)
        e = whitelists_read(r, what, ret, &n, eb);
    PQclear(r);
    return e;
}

static vouch_err pg_whitelist_list(void *state, const char *account, uint64_t offset,
                                   size_t limit, struct vouch_store_whitelist **ret,
                                   size_t *ret_n, uint64_t *ret_total, struct vouch_errbuf *eb)
{
    char n[2][I64_LEN];
    const char *vals[] = { account, i64s(n[0], (int64_t)limit), i64s(n[1], (int64_t)offset) };
    PGresult *r = NULL;
    struct pgc *c;
    int64_t total = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_PWL_COUNT, 1, vals, NULL, &r, eb);
    if (!e)
        total = col_i64(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (!e)
        e = run(c, S_PWL_LIST, 3, vals, NULL, &r, eb);
    if (!e)
        e = whitelists_read(r, 0, ret, ret_n, eb);
    if (!e)
        *ret_total = (uint64_t)total;
    PQclear(r);
    return e;
}

/* Lock `account`'s whitelist `id` (stmt S_PWL_LOCK or _SHARE); *ret_name (may be
 * NULL) gets its name.  VOUCH_E_NOT_FOUND when absent. */
static vouch_err whitelist_lock(struct pgc *c, enum stmt how, const char *account, int64_t id,
                                char **ret_name, struct vouch_errbuf *eb)
{
    char id_s[I64_LEN];
    const char *vals[] = { i64s(id_s, id), account };
    PGresult *r = NULL;
    vouch_err e = run(c, how, 2, vals, NULL, &r, eb);

    if (!e && PQntuples(r) == 0)
        e = vouch_fail(eb, VOUCH_E_NOT_FOUND, "no whitelist %lld", (long long)id);
    if (!e && ret_name && !(*ret_name = col_strdup(r, 0, 0)))
        e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    PQclear(r);
    return e;
}

static vouch_err pg_whitelist_update(void *state, const char *account, int64_t id,
                                     const char *document, int64_t digests, int64_t paths,
                                     int64_t expect_modified_ms, int64_t now_ms,
                                     int64_t *ret_modified, struct vouch_errbuf *eb)
{
    int64_t next = now_ms > expect_modified_ms ? now_ms : expect_modified_ms + 1;
    char n[5][I64_LEN];
    const char *vals[] = { i64s(n[0], id), account, document, i64s(n[1], digests),
                           i64s(n[2], paths), i64s(n[3], expect_modified_ms), i64s(n[4], next) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    e = whitelist_lock(c, S_PWL_LOCK, account, id, NULL, eb);
    if (!e)
        e = run_write(c, S_PWL_UPDATE, 7, vals, &changes, eb);
    if (!e && changes == 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "whitelist %lld changed meanwhile", (long long)id);
    e = finish(c, e, eb);
    if (!e && ret_modified)
        *ret_modified = next;
    return e;
}

static vouch_err pg_whitelist_delete(void *state, const char *account, int64_t id,
                                     struct vouch_errbuf *eb)
{
    char id_s[I64_LEN];
    const char *vals[] = { i64s(id_s, id), account };
    PGresult *r = NULL;
    struct pgc *c;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    /* the row lock orders this against assignments (they take it shared) */
    e = whitelist_lock(c, S_PWL_LOCK, account, id, NULL, eb);
    if (!e)
        e = run(c, S_PWL_ASSIGNED, 1, vals, NULL, &r, eb);
    if (!e && PQntuples(r) > 0)
        e = vouch_fail(eb, VOUCH_E_CONFLICT, "whitelist %lld is assigned to instances",
                       (long long)id);
    PQclear(r);
    if (!e)
        e = run_write(c, S_PWL_DELETE, 2, vals, NULL, eb);
    return finish(c, e, eb);
}

static vouch_err pg_whitelist_assign(void *state, const char *account, int64_t id,
                                     const char *const *uuids, size_t n, int64_t now_ms,
                                     struct vouch_errbuf *eb)
{
    char id_s[I64_LEN], now_s[I64_LEN];
    struct pgc *c;
    char *name = NULL;
    size_t i;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    if (id >= 0)
        e = whitelist_lock(c, S_PWL_LOCK_SHARE, account, id, &name, eb);
    for (i = 0; !e && i < n; i++) {
        const char *vals[] = { uuids[i], account, i64s(id_s, id < 0 ? -1 : id),
                               name ? name : "", i64s(now_s, now_ms) };
        int changes = 0;

        e = run_write(c, S_PWL_ASSIGN, 5, vals, &changes, eb);
        if (!e && changes == 0)
            e = vouch_fail_field(eb, VOUCH_E_CONFLICT, uuids[i],
                                 "no instance '%s' of this account", uuids[i]);
    }
    free(name);
    return finish(c, e, eb);
}

static vouch_err pg_instance_mark_unmeasured(void *state, int64_t stale_before_ms,
                                             uint64_t *ret_marked, struct vouch_errbuf *eb)
{
    char b[I64_LEN];
    const char *vals[] = { i64s(b, stale_before_ms) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_INST_MARK_UNMEASURED, 1, vals, &changes, eb);
    if (!e && ret_marked)
        *ret_marked = (uint64_t)changes;
    return e;
}

static vouch_err pg_report_prune(void *state, int64_t before_ms, size_t keep,
                                 uint64_t *ret_deleted, struct vouch_errbuf *eb)
{
    char b1[I64_LEN], b2[I64_LEN];
    const char *vals[] = { i64s(b1, before_ms), i64s(b2, (int64_t)keep) };
    struct pgc *c;
    int changes = 0;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run_write(c, S_REPORT_PRUNE, 2, vals, &changes, eb);
    if (!e && ret_deleted)
        *ret_deleted = (uint64_t)changes;
    return e;
}

/* --- attestation history ------------------------------------------------------ */

static vouch_err pg_attestation_add(void *state, const struct vouch_store_attestation *a,
                                    size_t n, uint64_t keep, struct vouch_errbuf *eb)
{
    char num[4][I64_LEN];
    const char *trim[] = { i64s(num[3], (int64_t)keep) };
    struct pgc *c;
    size_t i;
    vouch_err e = begin(state, &c, eb);

    if (e)
        return e;
    for (i = 0; !e && i < n; i++) {
        const char *row[] = { i64s(num[0], a[i].time_ms), a[i].tee, a[i].policy_ids,
                              i64s(num[1], a[i].allow), a[i].tcb_status,
                              i64s(num[2], a[i].http_status), a[i].error_code,
                              a[i].request_id };

        e = run_write(c, S_ATT_INSERT, 8, row, NULL, eb);
    }
    /* ids only grow, so the newest `keep` rows are those above max(id) - keep */
    if (!e)
        e = run_write(c, S_ATT_TRIM, 1, trim, NULL, eb);
    return finish(c, e, eb);
}

static vouch_err pg_attestation_list(void *state, int64_t before, size_t limit,
                                     struct vouch_store_attestation **ret, size_t *ret_n,
                                     struct vouch_errbuf *eb)
{
    char n[2][I64_LEN];
    const char *vals[] = { i64s(n[0], before), i64s(n[1], (int64_t)limit) };
    struct vouch_store_attestation *v = NULL;
    PGresult *r = NULL;
    struct pgc *c;
    size_t rows = 0, i;
    vouch_err e = conn_get(state, &c, eb);

    if (!e)
        e = run(c, S_ATT_LIST, 2, vals, NULL, &r, eb);
    if (!e) {
        rows = (size_t)PQntuples(r);
        v = calloc(rows + 1, sizeof(*v));
        if (!v)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    for (i = 0; !e && i < rows; i++) {
        v[i].id = col_i64(r, (int)i, 0);
        v[i].time_ms = col_i64(r, (int)i, 1);
        snprintf(v[i].tee, sizeof(v[i].tee), "%s", PQgetvalue(r, (int)i, 2));
        v[i].policy_ids = col_strdup(r, (int)i, 3);
        v[i].allow = col_i64(r, (int)i, 4);
        v[i].tcb_status = col_strdup(r, (int)i, 5);
        v[i].http_status = col_i64(r, (int)i, 6);
        v[i].error_code = col_strdup(r, (int)i, 7);
        snprintf(v[i].request_id, sizeof(v[i].request_id), "%s", PQgetvalue(r, (int)i, 8));
        if (!v[i].policy_ids || !v[i].tcb_status || !v[i].error_code)
            e = vouch_fail(eb, VOUCH_E_NOMEM, "out of memory");
    }
    if (!e) {
        *ret = v;
        *ret_n = rows;
        v = NULL;
    }
    vouch_store_attestations_free(v, rows);
    PQclear(r);
    return e;
}

const struct vouch_store_ops vouch_store_pg_ops = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .schema_version = pg_schema_version,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .keys_list = pg_keys_list,
    .key_activate = pg_key_activate,
    .doc_put = pg_doc_put,
    .doc_get = pg_doc_get,
    .doc_list = pg_doc_list,
    .doc_delete = pg_doc_delete,
    .accesskey_create = pg_accesskey_create,
    .accesskey_get = pg_accesskey_get,
    .accesskey_list = pg_accesskey_list,
    .accesskey_disable = pg_accesskey_disable,
    .instance_register = pg_instance_register,
    .instance_get = pg_instance_get,
    .instance_delete = pg_instance_delete,
    .instance_list = pg_instance_list,
    .nonce_issue = pg_nonce_issue,
    .nonce_take = pg_nonce_take,
    .request_nonce_use = pg_request_nonce_use,
    .request_nonces_save = pg_request_nonces_save,
    .request_nonces_each = pg_request_nonces_each,
    .request_nonces_purge = pg_request_nonces_purge,
    .ak_put = pg_ak_put,
    .ak_get = pg_ak_get,
    .vtpm_state_get = pg_vtpm_state_get,
    .report_accept = pg_report_accept,
    .report_last = pg_report_last,
    .report_count = pg_report_count,
    .report_list = pg_report_list,
    .instance_mark_unmeasured = pg_instance_mark_unmeasured,
    .report_prune = pg_report_prune,
    .event_list = pg_event_list,
    .events_handle = pg_events_handle,
    .contents_read = pg_contents_read,
    .contents_write = pg_contents_write,
    .count = pg_count,
    .lease_acquire = pg_lease_acquire,
    .lease_release = pg_lease_release,
    .secrets_replace = pg_secrets_replace,
    .instance_census = pg_instance_census,
    .attestation_add = pg_attestation_add,
    .attestation_list = pg_attestation_list,
    .audit_append = pg_audit_append,
    .audit_list = pg_audit_list,
    .audit_prune = pg_audit_prune,
    .event_get = pg_event_get,
    .whitelist_create = pg_whitelist_create,
    .whitelist_get = pg_whitelist_get,
    .whitelist_list = pg_whitelist_list,
    .whitelist_update = pg_whitelist_update,
    .whitelist_delete = pg_whitelist_delete,
    .whitelist_assign = pg_whitelist_assign,
};
