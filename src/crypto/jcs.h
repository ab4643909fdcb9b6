/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VOUCH_CRYPTO_JCS_H
#define VOUCH_CRYPTO_JCS_H

#include <stddef.h>

#include <jansson.h>

#include "vouch/err.h"

/*
 * RFC 8785 JSON Canonicalization Scheme: object members sorted by their
 * UTF-16 code units, no whitespace, strings escaped as ECMAScript's
 * JSON.stringify does, numbers in ECMAScript's shortest round-trip form.
 * This is what trustee hashes for structured runtime data.  At most `max`
 * bytes of output; *ret is NUL-terminated, free with free().
 */
vouch_err vouch_jcs(const json_t *v, size_t max, char **ret, size_t *ret_len,
                    struct vouch_errbuf *eb);

/* ECMAScript Number::toString of a finite double, into buf (>= 32 bytes). */
void vouch_jcs_number(double d, char *buf, size_t size);

#endif
