/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_HISTORY_H
#define VOUCH_SERVER_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/*
 * The attestation history's writer (--keep-attestations, docs/console.md).
 * Handlers hand a row over without waiting for the store: it goes into a
 * bounded queue that one thread writes in batches (up to VOUCH_HISTORY_BATCH
 * rows, or what came within 100 ms of the first), one transaction each,
 * trimming the table to the newest `keep` rows.  A full queue drops the
 * row (counted, and logged by the writer), so a slow store never slows
 * attestation down.  Stopping writes what is queued first.
 */
struct vouch_history;

/* Rows the queue holds at most, and rows written per transaction. */
#define VOUCH_HISTORY_QUEUE 4096
#define VOUCH_HISTORY_BATCH 256

vouch_err vouch_history_start(struct vouch_store *store, uint64_t keep,
                              struct vouch_history **ret, struct vouch_errbuf *eb);

/* Queue a copy of `row` (its strings are copied, truncated to their caps);
 * false when the queue was full and the row was dropped.  Thread-safe. */
bool vouch_history_add(struct vouch_history *h, const struct vouch_store_attestation *row);

/* Write what is queued, stop the thread, free.  Accepts NULL. */
void vouch_history_stop(struct vouch_history *h);

#endif
