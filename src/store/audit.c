/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recording an audit entry: what vouchd and the CLI share.  The caller
 * gives the facts; this file makes them storable (a random id, fields cut
 * to their caps, control characters replaced) and prunes old entries now
 * and then, so retention needs no job of its own.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "store/audit.h"

/* Pruning runs at most this often per process (a DELETE by an indexed time). */
#define AUDIT_PRUNE_EVERY_MS (60 * 60 * 1000)

static _Atomic int64_t last_prune_ms;

/* Copy `in` into out[size]: control characters become '?', the end is cut. */
static void clean_copy(char *out, size_t size, const char *in)
{
    size_t i;

    snprintf(out, size, "%s", in ? in : "");
    for (i = 0; out[i]; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            out[i] = '?';
}

static vouch_err random_id(char out[VOUCH_STORE_AUDIT_ID_MAX + 1], struct vouch_errbuf *eb)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[VOUCH_STORE_AUDIT_ID_MAX / 2];
    size_t i;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return vouch_fail(eb, VOUCH_E_INTERNAL, "no randomness for an audit id: %s",
                          strerror(errno));
    for (i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * sizeof(raw)] = '\0';
    return VOUCH_OK;
}

/* Prune entries older than the retention when the last prune is an hour old. */
static vouch_err maybe_prune(struct vouch_store *s, int64_t now_ms, int64_t keep_ms,
                             struct vouch_errbuf *eb)
{
    int64_t last = atomic_load(&last_prune_ms);

    if (keep_ms <= 0 || now_ms - last < AUDIT_PRUNE_EVERY_MS)
        return VOUCH_OK;
    if (!atomic_compare_exchange_strong(&last_prune_ms, &last, now_ms))
        return VOUCH_OK;        /* another thread prunes */
    return vouch_store_audit_prune(s, now_ms - keep_ms, NULL, eb);
}

vouch_err vouch_audit_record(struct vouch_store *s, const struct vouch_audit_entry *in,
                             int64_t now_ms, int64_t keep_ms, struct vouch_errbuf *eb)
{
    char actor[VOUCH_STORE_NAME_MAX + 17], action[VOUCH_AUDIT_TEXT_MAX + 1];
    char target[VOUCH_AUDIT_TEXT_MAX + 1], code[VOUCH_STORE_NAME_MAX + 1];
    char request_id[VOUCH_STORE_NAME_MAX + 1];
    struct vouch_store_audit a;
    vouch_err e;

    memset(&a, 0, sizeof(a));
    e = random_id(a.id, eb);
    if (e)
        return e;
    clean_copy(actor, sizeof(actor), in->actor);
    clean_copy(action, sizeof(action), in->action);
    clean_copy(target, sizeof(target), in->target);
    clean_copy(code, sizeof(code), in->code);
    clean_copy(request_id, sizeof(request_id), in->request_id);
    a.at_ms = now_ms;
    a.actor = actor;
    a.action = action;
    a.target = target;
    a.status = in->status;
    a.code = code;
    a.request_id = request_id;
    e = vouch_store_audit_append(s, &a, eb);
    return e ? e : maybe_prune(s, now_ms, keep_ms, eb);
}
