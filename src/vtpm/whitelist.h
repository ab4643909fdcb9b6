/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_VTPM_WHITELIST_H
#define VOUCH_VTPM_WHITELIST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"
#include "vouch/err.h"

/*
 * vTPM program whitelists (IMA): importing a keylime runtime policy or a
 * "digest path" list into the stored form, a bounded cache of compiled
 * whitelists, and the appraisal of a report's IMA entries against the
 * whitelist assigned to the instance.
 *
 * The stored form is always a keylime runtime policy's JSON text, so one
 * compiler (vouch_ima_policy_load_keylime) serves both formats.  The IMA
 * matching itself is the TPM core's (src/evidence/tpm, imapolicy.c); this
 * module only feeds it.
 *
 * Compiled whitelists are kept in one struct vouch_cache ("vtpm_whitelists")
 * keyed by (id, modified_ms).  Every appraisal reads the whitelist's row
 * (one primary-key read, no document) to learn its current modified_ms, so
 * a change committed by any replica is used by every replica from its next
 * appraisal on: the convergence bound is that one read, there is no TTL.
 * modified_ms only moves forward and ids are never reused (store.h), so a
 * cached entry is never stale, only unused until the LRU drops it.
 */

struct vouch_ima_log;
struct vouch_ima_policy;

/* Formats a whitelist is imported from (the stored `format`). */
#define VOUCH_VTPM_WL_KEYLIME "keylime"
#define VOUCH_VTPM_WL_DIGESTS "digests"

/* The cache's caps. */
#define VOUCH_VTPM_WL_CACHE_ENTRIES 256
#define VOUCH_VTPM_WL_CACHE_BYTES ((size_t)512 << 20)

/* Unknown files listed per appraisal (all are counted). */
#define VOUCH_VTPM_PROGRAM_FILES_MAX 100

/* Status numbers and their codes (docs/vtpm.md). */
#define VOUCH_VTPM_STATUS_TRUSTED 1
#define VOUCH_VTPM_STATUS_UNTRUSTED 2
#define VOUCH_VTPM_STATUS_NOT_EVALUATED 4

/* An imported whitelist, ready for vouch_store_whitelist_create(). */
struct vouch_vtpm_wl_doc {
    char *document;        /* keylime runtime policy JSON text (compact) */
    const char *format;    /* VOUCH_VTPM_WL_KEYLIME or VOUCH_VTPM_WL_DIGESTS */
    int64_t digests, paths, excludes;
};

/*
 * Import `text`: a keylime runtime policy (JSON object with "digests") or a
 * digest list ("<hex> <path>" lines as sha1sum/sha256sum print them, an
 * optional "alg:" before the hex).  `format` is "keylime", "digests", or
 * NULL / "" to tell by the first non-blank character ('{': keylime).  The
 * whole whitelist is compiled once to check it (digests, regexes).  Errors
 * are VOUCH_E_INVALID / VOUCH_E_TOO_LARGE with a message naming the
 * place (JSON path or line number).
 */
vouch_err vouch_vtpm_whitelist_import(const char *format, const char *text, size_t len,
                                      struct vouch_vtpm_wl_doc *ret, struct vouch_errbuf *eb);
void vouch_vtpm_wl_doc_done(struct vouch_vtpm_wl_doc *d);

/* The store and the cache of compiled whitelists. */
struct vouch_vtpm_whitelists;

vouch_err vouch_vtpm_whitelists_new(struct vouch_store *store, size_t max_entries,
                                    size_t max_bytes, struct vouch_vtpm_whitelists **ret,
                                    struct vouch_errbuf *eb);
void vouch_vtpm_whitelists_free(struct vouch_vtpm_whitelists *wl);

/* A compiled whitelist held for use; release with vouch_vtpm_whitelist_release(). */
struct vouch_vtpm_wl_ref {
    void *entry;                               /* the cache entry */
    const struct vouch_ima_policy *policy;     /* for vouch_tpm_verify_opts.ima_policy */
    int64_t id, modified_ms;
    char name[VOUCH_STORE_NAME_MAX + 1];
};

/*
 * The compiled form of `account`'s whitelist `id` as stored now (compiling
 * and caching it on a miss).  VOUCH_E_NOT_FOUND when it is absent or
 * another account's.  `now_ms` only ages the cache.
 */
vouch_err vouch_vtpm_whitelist_acquire(struct vouch_vtpm_whitelists *wl, const char *account,
                                       int64_t id, int64_t now_ms, struct vouch_vtpm_wl_ref *ret,
                                       struct vouch_errbuf *eb);
void vouch_vtpm_whitelist_release(struct vouch_vtpm_wl_ref *ref);

/* The program verdict of a report's IMA entries. */
struct vouch_vtpm_program_result {
    int64_t status;        /* VOUCH_VTPM_STATUS_* */
    const char *code;      /* "TrustedStatus", "UntrustedStatus", "NotEvaluatedStatus" */
    int64_t whitelist_id;  /* -1: none (or it is gone) */
    char whitelist_name[VOUCH_STORE_NAME_MAX + 1];
    size_t unknown;        /* unknown or mismatching entries, all of them */
    /*
     * The first VOUCH_VTPM_PROGRAM_FILES_MAX of them, one program event
     * each: [{"index", "path", "digest": "alg:hex", "template", "reason":
     * "not_in_policy" | "digest_mismatch" | "violation" |
     * "buffer_not_allowed", "whitelist": [hex digests allowed for the path]}].
     */
    json_t *files;
};

/*
 * Appraise entries [0, count) of `log` (count > log->n: all of them), the
 * first being entry first_index of the boot, against `account`'s
 * whitelist `whitelist_id`.  With whitelist_id -1, or a whitelist that is
 * gone, the status is 4 (not evaluated); with no unknown entry it is 1,
 * else 2.  `log` may be NULL (no entries: trusted when a whitelist is
 * assigned).  Free the result with vouch_vtpm_program_result_done().
 */
vouch_err vouch_vtpm_program_appraise(struct vouch_vtpm_whitelists *wl, const char *account,
                                      int64_t whitelist_id, const struct vouch_ima_log *log,
                                      uint64_t first_index, size_t count, int64_t now_ms,
                                      struct vouch_vtpm_program_result *ret,
                                      struct vouch_errbuf *eb);
void vouch_vtpm_program_result_done(struct vouch_vtpm_program_result *r);

/*
 * The same verdict when the report was verified by
 * vouch_tpm_evidence_verify() with opts.ima_policy = ref->policy, which ran
 * the core's check on the entries the quote covers: from its claims' "ima"
 * member ("unknown_files", "unknown_count"; NULL when the report carried no
 * IMA entries).  ref NULL: no whitelist (status 4).
 */
vouch_err vouch_vtpm_program_from_claims(const struct vouch_vtpm_wl_ref *ref,
                                         const json_t *ima_claims,
                                         struct vouch_vtpm_program_result *ret,
                                         struct vouch_errbuf *eb);

/*
 * Allow `digest` ("alg:hex" or hex, as a program event lists it) for
 * `path` in `account`'s whitelist `id` (TrustEvents), retrying when
 * another writer changed it meanwhile.  VOUCH_E_NOT_FOUND when the
 * whitelist is absent or another account's; VOUCH_E_INVALID for a digest
 * that is not hex or a path that is not UTF-8 text.
 */
vouch_err vouch_vtpm_whitelist_allow(struct vouch_vtpm_whitelists *wl, const char *account,
                                     int64_t id, const char *path, const char *digest,
                                     int64_t now_ms, struct vouch_errbuf *eb);

#endif
