/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_STORE_AUDIT_H
#define VOUCH_STORE_AUDIT_H

#include <stdint.h>

#include "store/store.h"

/* Caps of the free-text fields of an entry (longer text is cut). */
#define VOUCH_AUDIT_TEXT_MAX 512

/* The facts of one administrative action (NULL fields are empty). */
struct vouch_audit_entry {
    const char *actor;       /* "admin", "accesskey:ID", "cli:USER" */
    const char *action;      /* "POST /policy", "RegisterMessage", "cli accesskey create" */
    const char *target;      /* what it acted on */
    int64_t status;          /* HTTP status of the answer */
    const char *code;        /* error code on failure */
    const char *request_id;
};

/*
 * Append `in` at now_ms with a fresh random id; text is cut to its cap and
 * control characters are replaced, so any request can be recorded.  With
 * keep_ms > 0, entries older than now_ms - keep_ms are deleted at most once
 * an hour per process.
 */
vouch_err vouch_audit_record(struct vouch_store *s, const struct vouch_audit_entry *in,
                             int64_t now_ms, int64_t keep_ms, struct vouch_errbuf *eb);

#endif
