/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_SERVER_VTPM_FILEDATA_H
#define VOUCH_SERVER_VTPM_FILEDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evidence/tpm/tpm.h"
#include "vouch/err.h"

/*
 * PutMessage's FileData, version 1 (docs/vtpm.md "FileData"): standard
 * base64 (with padding) of a UTF-8 JSON object
 *   {"version": 1, "nonce": 64 hex, "quote": b64 TPMS_ATTEST,
 *    "signature": b64 TPMT_SIGNATURE, "pcrs": {"sha1": {"0": hex, ...}, ...},
 *    "eventlog": b64 (optional), "ima": {"start": N, "log": b64} (optional),
 *    "ak_cert": PEM (optional)}
 * Unknown members are refused, so a typo does not pass silently.
 */
#define VOUCH_VTPM_FILEDATA_VERSION 1
#define VOUCH_VTPM_FILEDATA_MAX (12u << 20)   /* base64 text */
#define VOUCH_VTPM_NONCE_LEN 32

struct vouch_vtpm_filedata {
    uint8_t nonce[VOUCH_VTPM_NONCE_LEN];
    char nonce_hex[2 * VOUCH_VTPM_NONCE_LEN + 1];
    uint8_t *quote;
    size_t quote_len;
    uint8_t *sig;
    size_t sig_len;
    struct vouch_tpm_pcrs pcrs;
    uint8_t *eventlog;            /* NULL: none */
    size_t eventlog_len;
    bool has_ima;
    uint64_t ima_start;
    uint8_t *ima;                 /* binary IMA entries (may be empty) */
    size_t ima_len;
    char *ak_cert;                /* NULL: none */
};

/*
 * Decode FileData text.  Errors are VOUCH_E_INVALID (or _TOO_LARGE) and
 * the message starts with the member at fault ("FileData.quote: ...").
 * Free *ret's contents with vouch_vtpm_filedata_done() (also after a failure).
 */
vouch_err vouch_vtpm_filedata_decode(const char *text, size_t len,
                                     struct vouch_vtpm_filedata *ret, struct vouch_errbuf *eb);
void vouch_vtpm_filedata_done(struct vouch_vtpm_filedata *fd);

#endif
