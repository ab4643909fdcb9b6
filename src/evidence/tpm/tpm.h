/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_TPM_H
#define VOUCH_EVIDENCE_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"
#include "crypto/digest.h"
#include "evidence/tcg/tcg.h"
#include "vouch/err.h"

/*
 * TPM 2.0 evidence: things shared by quotes (quote.h), UEFI event logs
 * (eventlog.h), IMA logs (ima.h) and AK binding (ek.h).
 *
 * Everything here is pure: no I/O, no clock, no logging.  PCR banks are
 * indexed by enum vouch_hash (sha1, sha256, sha384, sha512, sm3); the TPM's
 * own algorithm identifiers (TPM_ALG_ID) appear only at the wire level.
 */

/* TPM_ALG_ID values this module knows (the digest ones are in evidence/tcg/tcg.h). */
enum {
    VOUCH_TPM_ALG_RSA = 0x0001,
    VOUCH_TPM_ALG_HMAC = 0x0005,
    VOUCH_TPM_ALG_AES = 0x0006,
    VOUCH_TPM_ALG_KEYEDHASH = 0x0008,
    VOUCH_TPM_ALG_NULL = 0x0010,
    VOUCH_TPM_ALG_RSASSA = 0x0014,
    VOUCH_TPM_ALG_RSAPSS = 0x0016,
    VOUCH_TPM_ALG_ECDSA = 0x0018,
    VOUCH_TPM_ALG_ECC = 0x0023,
    VOUCH_TPM_ALG_CFB = 0x0043,
};

/* Number of PCRs of a PC-client TPM. */
#define VOUCH_TPM_PCR_COUNT 24

/*
 * Name of a TPM_ALG_ID as tpm2-tools prints it ("sha256", "rsassa", "ecc"),
 * or NULL when unknown.
 */
const char *vouch_tpm_alg_name(uint16_t alg);

/*
 * A set of PCR values in up to VOUCH_HASH__COUNT banks.  Bit i of mask[h]
 * set means value[h][i] holds PCR i of bank h (vouch_hash_size(h) bytes).
 * Plain data: copy it with memcpy/assignment, no destructor.
 */
struct vouch_tpm_pcrs {
    uint32_t mask[VOUCH_HASH__COUNT];
    uint8_t value[VOUCH_HASH__COUNT][VOUCH_TPM_PCR_COUNT][VOUCH_HASH_MAX_SIZE];
};

/* An empty set. */
void vouch_tpm_pcrs_init(struct vouch_tpm_pcrs *p);

/* Set PCR `index` of bank `h`; len must be the bank's digest size. */
vouch_err vouch_tpm_pcrs_set(struct vouch_tpm_pcrs *p, enum vouch_hash h, unsigned index,
                             const uint8_t *value, size_t len, struct vouch_errbuf *eb);

/* Whether PCR `index` of bank `h` is present. */
static inline bool vouch_tpm_pcrs_has(const struct vouch_tpm_pcrs *p, enum vouch_hash h,
                                      unsigned index)
{
    return (unsigned)h < VOUCH_HASH__COUNT && index < VOUCH_TPM_PCR_COUNT &&
           (p->mask[h] >> index & 1);
}

/*
 * A TPML_PCR_SELECTION: for each listed bank, the bitmap of selected PCRs,
 * in the order the structure lists them (which is the order in which a
 * quote's pcrDigest concatenates the values).
 */
#define VOUCH_TPM_MAX_SELECT 16
struct vouch_tpm_pcr_select {
    uint32_t count;
    struct {
        uint16_t alg;       /* TPM_ALG_ID */
        uint32_t mask;      /* bit i: PCR i */
    } bank[VOUCH_TPM_MAX_SELECT];
};

/*
 * Parse a tpm2-tools selection string such as "sha1:0,1,2+sha256:0-7,10" or
 * "sha256:all" into *ret.
 */
vouch_err vouch_tpm_pcr_select_parse(const char *s, struct vouch_tpm_pcr_select *ret,
                                     struct vouch_errbuf *eb);

/* The PCRs of bank h the selection lists (bit i: PCR i), over all its entries for h. */
uint32_t vouch_tpm_pcr_select_mask(const struct vouch_tpm_pcr_select *sel, enum vouch_hash h);

/* Format a selection as "sha1:0,1,2+sha256:0,16" into out. */
vouch_err vouch_tpm_pcr_select_format(const struct vouch_tpm_pcr_select *sel,
                                      struct vouch_buf *out);

/*
 * Load PCR values from a file's bytes.  Recognised formats:
 *  - JSON: {"sha256": {"0": "hex", ...}, ...} or {"sha256": ["hex", ...]}
 *    (an array lists PCRs 0, 1, 2, ...), optionally under a "pcrs" key;
 *  - YAML as printed by tpm2_pcrread, tpm2_quote, tpm2_checkquote and
 *    tpm2_eventlog ("  sha256:" then "    0 : 0x..." lines; other lines
 *    are skipped);
 *  - tpm2-tools' "serialized" binary (tpm2_quote -o / tpm2_pcrread -o, a
 *    dump of TPML_PCR_SELECTION followed by TPML_DIGEST lists);
 *  - "values" binary (tpm2_quote -F values): the selected values
 *    concatenated, which needs `sel` (the quote's selection) to be split;
 *    ignored when sel is NULL.
 * On success *ret holds exactly the PCRs found.
 */
vouch_err vouch_tpm_pcrs_load(const uint8_t *data, size_t len,
                              const struct vouch_tpm_pcr_select *sel,
                              struct vouch_tpm_pcrs *ret, struct vouch_errbuf *eb);

/* Same from parsed JSON (the first format above). */
vouch_err vouch_tpm_pcrs_from_json(const json_t *j, struct vouch_tpm_pcrs *ret,
                                   struct vouch_errbuf *eb);

/* {"sha1": {"0": "hex", ...}, "sha256": {...}}; banks without PCRs are omitted. */
vouch_err vouch_tpm_pcrs_to_json(const struct vouch_tpm_pcrs *p, json_t **ret);

/*
 * Append the set as tpm2-tools YAML ("pcrs:" header not included):
 *   style VOUCH_TPM_YAML_CHECKQUOTE: "  sha1:\n    0 : 0xABCD...\n"
 *     (upper-case hex, index left-aligned in 2 columns, as tpm2_quote,
 *     tpm2_checkquote and tpm2_pcrread print);
 *   style VOUCH_TPM_YAML_EVENTLOG:   "  sha1:\n    0  : 0xabcd...\n"
 *     (lower-case hex, 3 columns, as tpm2_eventlog prints).
 */
enum { VOUCH_TPM_YAML_CHECKQUOTE, VOUCH_TPM_YAML_EVENTLOG };
vouch_err vouch_tpm_pcrs_format_yaml(const struct vouch_tpm_pcrs *p, int style,
                                     struct vouch_buf *out);

/*
 * Compare the PCRs `want` has (e.g. replayed from a log) with `have` (e.g.
 * authenticated by a quote), for every bank present in both.  PCRs of
 * `want` that `have` lacks are not compared.  Appends one object per
 * difference to `diffs` (if not NULL):
 *   {"bank": "sha256", "pcr": 5, "expected": hex(want), "actual": hex(have)}
 * Returns the number of differing PCRs and, through ret_compared, the
 * number compared (either may be used to decide).
 */
size_t vouch_tpm_pcrs_diff(const struct vouch_tpm_pcrs *want,
                           const struct vouch_tpm_pcrs *have, json_t *diffs,
                           size_t *ret_compared);

#endif
