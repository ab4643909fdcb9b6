/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces shared by the files of src/evidence/dcap/. */
#ifndef VOUCH_EVIDENCE_DCAP_INT_H
#define VOUCH_EVIDENCE_DCAP_INT_H

#include <stdatomic.h>
#include <pthread.h>

#include "common/cache.h"
#include "evidence/dcap/dcap.h"

/*
 * A thread-safe map from a 32-byte key to an immutable verified object,
 * over the bounded cache (common/cache.h).  Entries are reference counted
 * so a lookup stays valid while another thread flushes the cache.  An
 * entry is dropped at lookup once now > its expiry; past DCAP_CACHE_MAX
 * entries the least recently used go.
 */
struct dcap_centry {
    uint8_t key[32];
    atomic_int refs;
    void *val;
    void (*free_val)(void *);
};

#define DCAP_CACHE_MAX 8192

struct dcap_cache {
    struct vouch_cache *c;    /* NULL when it could not be created: every lookup misses */
};

void vouch_dcap_cache_init(struct dcap_cache *c);
void vouch_dcap_cache_flush(struct dcap_cache *c);
void vouch_dcap_cache_destroy(struct dcap_cache *c);
void vouch_dcap_cache_stats(struct dcap_cache *c, struct vouch_dcap_stats *ret);
/* A new reference to the live entry for key, or NULL. */
struct dcap_centry *vouch_dcap_cache_get(struct dcap_cache *c, const uint8_t key[32], int64_t now);
/*
 * Insert val (ownership moves to the cache, even on failure) and return a
 * reference to its entry, which replaces any entry for key.  NULL only
 * when out of memory.
 */
struct dcap_centry *vouch_dcap_cache_put(struct dcap_cache *c, const uint8_t key[32], void *val,
                                         void (*free_val)(void *), int64_t expires);
void vouch_dcap_centry_unref(struct dcap_centry *e);

/* TCB evaluation (QVL EvaluateTcb): status, date and advisories. */
struct dcap_eval {
    enum vouch_dcap_tcb_status status;
    enum vouch_dcap_tcb_status platform_status;
    bool has_qe_status, has_module_status;
    enum vouch_dcap_tcb_status qe_status, module_status;
    int64_t tcb_date;
    json_t *advisory_ids;     /* new array */
};

/*
 * Evaluate the platform, TDX module and QE TCB levels.  tee_tcb_svn is
 * NULL for SGX, tee_tcb_svn2 NULL unless the body is TD 1.5.  Fails with a "tcb level: " / "qe tcb level: " /
 * "tdx module: " message when no level matches.
 */
vouch_err vouch_dcap_evaluate(const struct vouch_dcap_pck_info *pck,
                              const struct vouch_dcap_tcb_info *ti,
                              const struct vouch_dcap_qe_identity *qi, uint16_t qe_isvsvn,
                              const uint8_t *tee_tcb_svn, const uint8_t *tee_tcb_svn2,
                              struct dcap_eval *ret, struct vouch_errbuf *eb);

/* The module identity for a TDX module major version (NULL: not listed). */
const struct vouch_dcap_tdx_module *vouch_dcap_find_module(const struct vouch_dcap_tcb_info *ti,
                                                           uint8_t version);

/*
 * The members of one dstack event.  The strings point into the parsed
 * input (JSON path: NUL-terminated jansson strings; direct reader: into
 * the log, not terminated); absent members are "" and version 1.
 */
struct vouch_dstack_fields {
    int64_t imr, type, version;
    const char *digest, *name, *payload;
    size_t digest_len, name_len, payload_len;
};

/*
 * dstack's JSON log read directly when it has the shape dstack writes
 * (dstack.c says which); false, and nothing allocated, otherwise: then
 * the JSON parser decides.  *ret (malloc'ed, *ret_n entries) on true.
 */
bool vouch_dstack_read(const uint8_t *data, size_t len, struct vouch_dstack_fields **ret,
                       size_t *ret_n);

/*
 * vouch_dcap_eventlog_parse, with direct false: dstack's JSON log always
 * through the JSON parser (fuzz/dcap compares both paths).
 */
vouch_err vouch_dcap_eventlog_parse_via(const uint8_t *data, size_t len, bool direct,
                                        struct vouch_dcap_eventlog **ret,
                                        struct vouch_errbuf *eb);

#endif
