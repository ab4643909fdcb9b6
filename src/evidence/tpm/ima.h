/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_IMA_H
#define VOUCH_EVIDENCE_TPM_IMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/*
 * Linux IMA runtime measurement logs, binary (binary_runtime_measurements)
 * and ASCII (ascii_runtime_measurements), templates ima, ima-ng, ima-ngv2,
 * ima-sig, ima-sigv2, ima-buf, ima-modsig and custom "field|field"
 * formats; replay into PCR 10 per bank; incremental verification; and the
 * "program whitelist" check of file digests (keylime runtime policies).
 */

/* The PCR IMA extends. */
#define VOUCH_IMA_PCR 10

/* Caps. */
#define VOUCH_IMA_MAX_ENTRIES (2u << 20)
#define VOUCH_IMA_MAX_TEMPLATE_DATA (1u << 20)
#define VOUCH_IMA_MAX_NAME 255

struct vouch_ima_entry {
    uint32_t pcr;
    uint8_t template_hash[20];    /* as logged (SHA-1); all zero for a violation */
    bool violation;
    bool legacy;                  /* the "ima" template (hashed with the name padded to 256) */
    const char *template_name;    /* not NUL-terminated */
    uint32_t template_name_len;
    const uint8_t *data;          /* template data (binary form, lengths in host order) */
    uint32_t data_len;
    /* Fields found in the data (pointers into data; NULL/0 when absent). */
    const char *alg;              /* "sha256" ("" for the legacy "d" field, a SHA-1) */
    uint32_t alg_len;
    const uint8_t *digest;        /* file digest (d, d-ng, d-ngv2) */
    uint32_t digest_len;
    const char *path;             /* n / n-ng, without its NUL */
    uint32_t path_len;
    const uint8_t *sig;           /* sig: security.ima signature */
    uint32_t sig_len;
    const uint8_t *buf;           /* buf: the measured buffer (keys, kexec cmdline...) */
    uint32_t buf_len;
};

struct vouch_ima_log {
    uint8_t *store;               /* owned: a copy of the binary input, or the data rebuilt from ASCII */
    size_t store_len;
    struct vouch_ima_entry *entries;
    size_t n;
    bool ascii;                   /* parsed from the ASCII form */
    bool big_endian;              /* a binary log from a big-endian host */
};

/*
 * Parse an IMA log; the form is detected (ASCII lines start with a decimal
 * PCR number).  ASCII entries are rebuilt into their binary template data;
 * a path containing spaces is supported as long as it is the only field
 * that can contain one (it always is for the templates above).  Each
 * entry's logged template hash is checked against its data (VOUCH_E_VERIFY
 * "entry N: template hash"), except for violations.  *ret owns its
 * memory; free with vouch_ima_log_free().
 */
vouch_err vouch_ima_log_parse(const uint8_t *data, size_t len, struct vouch_ima_log **ret,
                              struct vouch_errbuf *eb);

void vouch_ima_log_free(struct vouch_ima_log *log);

/*
 * The per-bank digest entry `e` extends into its PCR: SHA-1 is the logged
 * template hash; other banks hash the template data with their own
 * algorithm (kernel >= 5.8), or with VOUCH_IMA_LEGACY_BANKS use the SHA-1
 * zero-padded (older kernels).  A violation extends all 0xFF.
 */
enum {
    VOUCH_IMA_LEGACY_BANKS = 1u << 0,
    /* Do not require boot_aggregate to match the quoted PCRs 0-7 / 0-9. */
    VOUCH_IMA_NO_BOOT_AGGREGATE = 1u << 1,
};

/*
 * Incremental verification state: entries [0, next_index) of the current
 * boot are verified, and pcr[h] is PCR 10 of bank h after them.  Plain
 * data; serialise with vouch_ima_state_to_json().
 */
struct vouch_ima_state {
    uint64_t next_index;
    uint32_t banks;               /* bit h: bank h tracked */
    uint8_t pcr[VOUCH_HASH__COUNT][VOUCH_HASH_MAX_SIZE];
};

/* A fresh state (next_index 0, PCR 10 zero) for the given banks. */
void vouch_ima_state_init(struct vouch_ima_state *s, uint32_t banks);

/* {"next_index": N, "pcr10": {"sha1": hex, ...}} */
vouch_err vouch_ima_state_to_json(const struct vouch_ima_state *s, json_t **ret);
vouch_err vouch_ima_state_from_json(const json_t *j, struct vouch_ima_state *ret,
                                    struct vouch_errbuf *eb);

/* Replay every entry of the log from `start` (NULL: a fresh state over `banks`). */
vouch_err vouch_ima_replay(const struct vouch_ima_log *log, const struct vouch_ima_state *start,
                           uint32_t banks, unsigned flags, struct vouch_ima_state *ret,
                           struct vouch_errbuf *eb);

enum {
    VOUCH_IMA_BA_ABSENT = 0,      /* the log does not start at entry 0 with boot_aggregate */
    VOUCH_IMA_BA_NOT_CHECKED,     /* the quote lacks PCRs 0-7 (SHA-1) / 0-9 of the bank */
    VOUCH_IMA_BA_VERIFIED,
};

struct vouch_ima_result {
    uint64_t first_index;         /* index (in the boot's whole log) of log->entries[0] */
    size_t matched;               /* entries of this log the quote covers (a prefix) */
    size_t total;                 /* entries in this log */
    struct vouch_ima_state state; /* after the matched prefix */
    uint32_t banks;               /* banks compared with the quote */
    int boot_aggregate;           /* VOUCH_IMA_BA_* */
    size_t violations;            /* within the matched prefix */
};

/*
 * Verify a log (or the part of it a client sent) against authenticated
 * PCR values.  first_index is the index of log->entries[0]: 0 starts a new
 * boot (prev is ignored); otherwise it must equal prev->next_index
 * (VOUCH_E_CONFLICT).  Entries are replayed from the start state; the
 * quoted PCR 10 must equal the running value after some prefix of them
 * (the log may be read after the quote: the rest is left for the next
 * round), in every bank both the state and the quote have
 * (VOUCH_E_NOT_FOUND when none; VOUCH_E_VERIFY when no prefix matches).
 * A boot_aggregate entry is checked against the quoted PCRs.  On success
 * *ret describes the outcome; its state is what the next round starts from.
 */
vouch_err vouch_ima_verify(const struct vouch_ima_log *log, uint64_t first_index,
                           const struct vouch_ima_state *prev,
                           const struct vouch_tpm_pcrs *quoted, unsigned flags,
                           struct vouch_ima_result *ret, struct vouch_errbuf *eb);

/* Compute the boot_aggregate of bank h from PCRs 0-7 (SHA-1) or 0-9 (others). */
vouch_err vouch_ima_boot_aggregate(const struct vouch_tpm_pcrs *pcrs, enum vouch_hash h,
                                   uint8_t *out, struct vouch_errbuf *eb);

/* ---- program whitelist --------------------------------------------------- */

/*
 * An allow-list of file digests by path, exclusion regexes (PCRE2, matched
 * at the start of the path, as keylime's Python re.match does), and
 * allowed ima-buf digests by buffer name (keyrings, kexec-cmdline...).
 * Build once, then check any number of logs from any number of threads.
 */
struct vouch_ima_policy;

vouch_err vouch_ima_policy_new(struct vouch_ima_policy **ret);
void vouch_ima_policy_free(struct vouch_ima_policy *p);

/* Allow digest (any algorithm; raw bytes) for path. */
vouch_err vouch_ima_policy_add_digest(struct vouch_ima_policy *p, const char *path,
                                      size_t path_len, const uint8_t *digest, size_t len,
                                      struct vouch_errbuf *eb);

/* Exclude paths matching regex. */
vouch_err vouch_ima_policy_add_exclude(struct vouch_ima_policy *p, const char *regex,
                                       struct vouch_errbuf *eb);

/* Allow an ima-buf digest for buffer name (a keyring, "kexec-cmdline"...). */
vouch_err vouch_ima_policy_add_buffer(struct vouch_ima_policy *p, const char *name,
                                      const uint8_t *digest, size_t len, struct vouch_errbuf *eb);

/*
 * Import a keylime runtime policy (keylime/ima/ima.py RUNTIME_POLICY_SCHEMA):
 * "digests" {path: [hex...]}, "excludes" [regex...], "keyrings" and
 * "ima-buf" {name: [hex...]}, "ima": {"ignored_keyrings": [...]} ("*"
 * ignores all).  Digest strings may carry an "alg:" prefix.  Merges into p.
 */
vouch_err vouch_ima_policy_load_keylime(struct vouch_ima_policy *p, const json_t *doc,
                                        struct vouch_errbuf *eb);

/* Import a legacy allow-list: "<hex digest> <path>" lines (sha*sum output);
 * a path "%keyring:NAME" allows an ima-buf digest of keyring NAME. */
vouch_err vouch_ima_policy_load_allowlist(struct vouch_ima_policy *p, const char *text,
                                          size_t len, struct vouch_errbuf *eb);

/*
 * The same allow-list as a keylime runtime policy document (the shape
 * keylime's create_runtime_policy writes: meta, release, digests with bare
 * hex digests, excludes, keyrings, ima, ima-buf, verification-keys), so
 * that one format is stored and compiled ("%keyring:NAME" lines go to
 * "keyrings").  Paths must be UTF-8 text.
 */
vouch_err vouch_ima_allowlist_to_keylime(const char *text, size_t len, json_t **ret,
                                         struct vouch_errbuf *eb);

/* Number of paths, of file digests (all paths together) and of exclusion patterns. */
size_t vouch_ima_policy_paths(const struct vouch_ima_policy *p);
size_t vouch_ima_policy_digests(const struct vouch_ima_policy *p);
size_t vouch_ima_policy_excludes(const struct vouch_ima_policy *p);

/* The digests allowed for path, as a new JSON array of bare hex strings
 * (empty when the path is not in the policy). */
vouch_err vouch_ima_policy_path_digests(const struct vouch_ima_policy *p, const char *path,
                                        size_t path_len, json_t **ret);

/*
 * Check entries [from, from + count) of log (first_index as in
 * vouch_ima_verify) against p.  Each entry that is not excluded and whose
 * digest is not allowed is appended to `unknown` (if not NULL, at most
 * max_list objects):
 *   {"index", "path", "digest": "sha256:hex", "template", "reason":
 *    "not_in_policy" | "digest_mismatch" | "violation" | "buffer_not_allowed"}
 * The boot_aggregate entry is left to vouch_ima_verify().  *ret_unknown
 * counts all unknown entries.
 */
vouch_err vouch_ima_policy_check(const struct vouch_ima_policy *p,
                                 const struct vouch_ima_log *log, size_t from, size_t count,
                                 uint64_t first_index, json_t *unknown, size_t max_list,
                                 size_t *ret_unknown, struct vouch_errbuf *eb);

/*
 * Claims of a verified log: {"entries", "first_index", "verified_entries",
 * "pending_entries", "next_index", "pcr10": {bank: hex}, "boot_aggregate":
 * "verified"|"not_checked"|"absent", "violations", "templates": {name: n},
 * "state": {...}} plus, when `unknown` is given, "unknown_files" (it is
 * added by reference) and "unknown_count".
 */
vouch_err vouch_ima_claims(const struct vouch_ima_log *log, const struct vouch_ima_result *res,
                           json_t *unknown, size_t unknown_count, json_t **ret);

/* Append the log in ASCII form (ascii_runtime_measurements) to out. */
vouch_err vouch_ima_format_ascii(const struct vouch_ima_log *log, struct vouch_buf *out);

#endif
