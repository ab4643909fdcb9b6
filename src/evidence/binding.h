/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_EVIDENCE_BINDING_H
#define VOUCH_EVIDENCE_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/digest.h"
#include "vouch/err.h"

/*
 * Binding evidence to the caller's data, as trustee does it.
 *
 * runtime_data / init_data come as {"raw": base64} (the bytes, used as they
 * are) or {"structured": JSON} (canonicalised with RFC 8785, then hashed
 * with the request's hash algorithm, sha384 by default).  The verifier then
 * zero-pads or truncates the expected bytes to its field (64-byte
 * REPORT_DATA, 48-byte MRCONFIGID, 32-byte SPDM nonce) and compares them
 * exactly.
 */

/* Cap on decoded raw data and on canonical structured data. */
#define VOUCH_BINDING_MAX (64u * 1024)

struct vouch_binding_data {
    uint8_t *bytes;        /* expected bytes (malloc'ed) */
    size_t len;
    json_t *structured;    /* the structured value, for the token; or NULL */
};

/*
 * Compute the expected bytes from a runtime_data / init_data object.
 * `hash` is used for the structured form.  Raw accepts base64url without
 * padding (as trustee sends it) and standard base64 (as Alibaba's sample
 * client does).  Errors name the member at fault ("raw", "structured").
 */
vouch_err vouch_binding_data_parse(const json_t *obj, enum vouch_hash hash,
                                   struct vouch_binding_data *ret, struct vouch_errbuf *eb);

/* Free what a binding data owns.  Accepts NULL. */
void vouch_binding_data_done(struct vouch_binding_data *d);

/*
 * Compare the expected bytes with a field of the evidence: expected is
 * zero-padded or truncated to `field_len` first.  VOUCH_E_BINDING with a
 * message naming `what` when they differ.  No check when expected is NULL.
 */
vouch_err vouch_binding_check(const uint8_t *expected, size_t expected_len,
                              const uint8_t *field, size_t field_len, const char *what,
                              struct vouch_errbuf *eb);

#endif
