/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_REPLAY_H
#define VOUCH_SERVER_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * SignatureNonce replay records of the vTPM RPC API (docs/architecture.md,
 * "SignatureNonce replay records").  A record is a keyed-hash fingerprint
 * of (AccessKeyId, nonce) held in memory until its expiry (the request's
 * Timestamp, or now if later, plus the 15-minute window):
 *
 *  - alone on its store (SQLite), the set in memory is authoritative: a
 *    use is a lookup and an insert under a mutex, and the record is
 *    queued for one writer thread that saves the queue in batches (one
 *    transaction per 100 ms) to the store's vtpm_request_nonce_log, from
 *    which start reloads the live ones.  Stopping saves what is queued;
 *    a crash of vouchd loses at most the last 100 ms of records, and
 *    none of the requests that change state (`durable`: saved at once).
 *  - on a shared store (PostgreSQL, several replicas), a use also inserts
 *    the record into the shared table in one statement, which refuses a
 *    pair another replica recorded; the set in memory refuses a replay to
 *    this replica without a round trip and bounds what one key may hold.
 *
 * Bounded: `capacity` records in all and `per_key` per access key; a use
 * beyond either is refused (VOUCH_E_LIMIT), never by forgetting a live
 * record.  Safe to use from several threads; `now_ms` is a parameter.
 */
struct vouch_replay;

#define VOUCH_REPLAY_CAPACITY (1u << 20)   /* live records held, all keys */
#define VOUCH_REPLAY_PER_KEY 100000        /* live records of one access key */
#define VOUCH_REPLAY_QUEUE 16384           /* records waiting for the writer */
#define VOUCH_REPLAY_BATCH 4096            /* records saved per transaction */
#define VOUCH_REPLAY_FLUSH_MS 100          /* the writer's period */

/*
 * `shared`: the store is shared between replicas.  Alone on the store,
 * the records live at now_ms are loaded and the writer started;
 * VOUCH_E_LIMIT when they are more than `capacity`.
 */
vouch_err vouch_replay_start(struct vouch_store *store, bool shared, size_t capacity,
                             size_t per_key, int64_t now_ms, struct vouch_replay **ret,
                             struct vouch_errbuf *eb);

/*
 * Record (key_id, nonce) until expires_ms.  `durable` (the requests that
 * change state): alone on the store, the record is saved before this
 * returns rather than queued, so no crash forgets it.  VOUCH_E_CONFLICT:
 * recorded and live (a replay); VOUCH_E_LIMIT: the set or the key is
 * full; VOUCH_E_UNAVAILABLE: the writer's queue is full (the store is not
 * keeping up), the durable save failed, or the shared store's error.
 * Only VOUCH_OK and VOUCH_E_CONFLICT leave a record behind.
 */
vouch_err vouch_replay_use(struct vouch_replay *r, const char *key_id, const char *nonce,
                           int64_t now_ms, int64_t expires_ms, bool durable,
                           struct vouch_errbuf *eb);

/* Live records held (tests, metrics). */
size_t vouch_replay_count(struct vouch_replay *r);

/* Save what is queued, stop the writer, free.  Accepts NULL. */
void vouch_replay_stop(struct vouch_replay *r);

#endif
